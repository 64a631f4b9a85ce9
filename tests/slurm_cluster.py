"""A one-machine Slurm cluster for the tests: munged, slurmctld and slurmd
started in the foreground (no systemd) with their own key, socket, ports,
state, spool and log directories under one temporary directory and their own
slurm.conf (clients find it through $SLURM_CONF).

    cluster = SlurmCluster.start()        # raises ClusterUnavailable / ClusterError
    env = cluster.env()                   # SLURM_CONF etc. for srun / sbatch
    ...
    cluster.stop()                        # every process it started, by PID

Debian's `slurm-wlm` and `munge` are installed on first use (as root, with
apt-get) when the daemons are missing: ensure_installed().

Every process of the cluster (the daemons, slurmstepd, the job's tasks) carries
PSHARE_TEST_SLURM=<its directory> in its environment; stop() ends those still
there, each by its PID, so nothing is left running.
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("srun", "sbatch", "squeue", "sinfo", "scancel")
SBIN_DIRS = ("/usr/sbin", "/sbin", "/usr/local/sbin")
APT_PACKAGES = ("slurm-wlm", "munge")
APT_TIMEOUT_S = 600
#: slurmd registered and the node idle within this (it takes ~1-3 s)
START_DEADLINE_S = 30.0
MARK = "PSHARE_TEST_SLURM"
ACTIVE_STATES = {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED",
                 "RESIZING", "SIGNALING", "STAGE_OUT"}


class ClusterUnavailable(Exception):
    """Slurm cannot be had on this machine (a reason to skip)."""


class ClusterError(Exception):
    """Slurm is there but the cluster did not come up (a reason to fail)."""


def find_tool(name: str) -> Optional[str]:
    found = shutil.which(name)
    if found:
        return found
    for d in SBIN_DIRS:
        p = Path(d) / name
        if p.is_file() and os.access(p, os.X_OK):
            return str(p)
    return None


def missing_tools() -> List[str]:
    return [t for t in DAEMONS + CLIENTS if find_tool(t) is None]


def ensure_installed() -> None:
    """Install slurm-wlm and munge with apt-get if any tool is missing and we
    are root; raise ClusterUnavailable (with the reason) otherwise."""
    missing = missing_tools()
    if not missing:
        return
    apt = shutil.which("apt-get")
    if os.geteuid() != 0 or apt is None:
        raise ClusterUnavailable(
            f"Slurm is not installed ({', '.join(missing)} missing) and "
            + ("apt-get is not available" if apt is None else "we are not root")
            + f": install {' '.join(APT_PACKAGES)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmds = [[apt, "install", "-y", "--no-install-recommends", *APT_PACKAGES]]
    # a fresh machine may have no package lists yet
    if not any(Path("/var/lib/apt/lists").glob("*Packages*")):
        cmds.insert(0, [apt, "update"])
    # no system munged/slurmd started by the packages' scripts (a Docker-style
    # image has this file already; on another machine it is there for the install)
    policy = Path("/usr/sbin/policy-rc.d")
    made_policy = not policy.exists()
    if made_policy:
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        _apt_install(apt, cmds, env)
    finally:
        if made_policy:
            policy.unlink()
    missing = missing_tools()
    if missing:
        raise ClusterUnavailable(f"{', '.join(missing)} still missing after installing "
                                 f"{' '.join(APT_PACKAGES)}")


def _apt(cmd, env) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=APT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise ClusterUnavailable(f"'{' '.join(cmd)}' took more than {APT_TIMEOUT_S} s") from None


def _apt_install(apt, cmds, env):
    for cmd in cmds:
        proc = _apt(cmd, env)
        if proc.returncode != 0 and cmd[1] == "install":
            _apt([apt, "update"], env)      # the lists may be stale: once more after an update
            proc = _apt(cmd, env)
        if proc.returncode != 0 and cmd[1] == "install":
            out = proc.stdout.decode(errors="replace")[-1500:]
            raise ClusterUnavailable(f"'{' '.join(cmd)}' failed (exit {proc.returncode}):\n{out}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path: Path, n: int = 25) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError as e:
        return f"({path}: {e.strerror})"
    return "\n".join(lines[-n:]) or "(empty)"


SLURM_CONF = """\
ClusterName=pshare-test
FirstJobId={first_job_id}
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={munge_socket}
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/run/slurmctld.pid
SlurmdPidFile={d}/run/slurmd.pid
SlurmctldLogFile={d}/log/slurmctld.log
SlurmdLogFile={d}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig={d}/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MailProg=/bin/true
InactiveLimit=0
KillWait=5
SlurmctldTimeout=30
SlurmdTimeout=30
MessageTimeout=20
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN
PartitionName=test Nodes={host} Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
"""


class SlurmCluster:
    def __init__(self, root: Path):
        self.root = root
        self.host = socket.gethostname().split(".")[0]
        self.conf = root / "slurm.conf"
        self.munge_socket = root / "run" / "munge.socket"
        self.procs: Dict[str, subprocess.Popen] = {}
        self.logs = {"munged": root / "log" / "munged.log",
                     "slurmctld": root / "log" / "slurmctld.log",
                     "slurmd": root / "log" / "slurmd.log"}

    # ---- environment for the clients ----

    def env(self, base: Optional[Dict[str, str]] = None) -> Dict[str, str]:
        env = dict(os.environ if base is None else base)
        for k in list(env):   # a Slurm job around the test run must not leak in
            if k.startswith(("SLURM_", "SBATCH_", "SRUN_", "SALLOC_")):
                del env[k]
        env["SLURM_CONF"] = str(self.conf)
        env[MARK] = str(self.root)
        return env

    # ---- start ----

    @classmethod
    def start(cls) -> "SlurmCluster":
        ensure_installed()
        if os.geteuid() != 0:
            raise ClusterUnavailable("the test cluster runs slurmd as SlurmUser=root: "
                                     "run the tests as root")
        root = Path(tempfile.mkdtemp(prefix="pshare-slurm-"))
        cluster = cls(root)
        try:
            cluster._start()
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _start(self):
        d = self.root
        for sub in ("state", "spool", "run", "log", "munge"):
            (d / sub).mkdir(mode=0o700)
        os.chmod(d, 0o700)
        key = d / "munge" / "munge.key"
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, os.urandom(1024))
        os.close(fd)
        (d / "plugstack.conf").write_text("")
        self.conf.write_text(SLURM_CONF.format(
            host=self.host, ctld_port=free_port(), slurmd_port=free_port(),
            munge_socket=self.munge_socket, d=d, cpus=max(8, os.cpu_count() or 1),
            # Job ids not used before: MPICH's start-up shared memory in /dev/shm
            # is named after the job (PMI's KVS name, "JOB.STEP"); a killed job
            # leaves it behind, and a later job of the same number (every fresh
            # cluster starts at 1) failed in MPI_Init now and then ("Message
            # truncated") until the ids became unique.
            first_job_id=random.randrange(1_000_000, 60_000_000)))
        env = self.env()

        self._spawn("munged", [find_tool("munged"), "--foreground", "--force",
                               f"--socket={self.munge_socket}", f"--key-file={key}",
                               f"--pid-file={d}/run/munged.pid",
                               f"--log-file={self.logs['munged']}",
                               f"--seed-file={d}/munge/munged.seed"], env)
        self._wait(lambda: self.munge_socket.exists(), "munged did not create its socket",
                   ["munged"])
        self._spawn("slurmctld", [find_tool("slurmctld"), "-D", "-i", "-f", str(self.conf)], env)
        self._spawn("slurmd", [find_tool("slurmd"), "-D", "-N", self.host, "-f", str(self.conf)],
                    env)
        self._wait(self._node_idle, "slurmd did not register with slurmctld (node not idle)",
                   ["slurmctld", "slurmd"])

    def _spawn(self, name, cmd, env):
        out = open(self.root / "log" / f"{name}.out", "wb")
        try:
            self.procs[name] = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                                                stdout=out, stderr=subprocess.STDOUT,
                                                start_new_session=True)
        finally:
            out.close()

    def _node_idle(self) -> bool:
        try:
            proc = subprocess.run([find_tool("sinfo"), "-h", "-N", "-o", "%T"], env=self.env(),
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  timeout=10)
        except subprocess.TimeoutExpired:
            return False
        return proc.returncode == 0 and proc.stdout.strip() == "idle"

    def _wait(self, cond, what, daemons):
        deadline = time.monotonic() + START_DEADLINE_S
        delay = 0.05
        while True:
            for name, p in self.procs.items():
                if p.poll() is not None:
                    raise ClusterError(f"{name} exited with status {p.returncode} during "
                                       f"start-up\n{self.diagnostics([name])}")
            if cond():
                return
            if time.monotonic() > deadline:
                raise ClusterError(f"{what} within {START_DEADLINE_S:.0f} s\n"
                                   f"{self.diagnostics(daemons)}")
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def diagnostics(self, daemons=DAEMONS) -> str:
        """The tail of each daemon's log (its own output where it has no log file)."""
        parts = []
        for name in daemons:
            log = self.logs[name]
            if not (log.exists() and log.stat().st_size):
                log = self.root / "log" / f"{name}.out"
            parts.append(f"--- {name}: {log} (tail) ---\n{tail(log)}")
        return "\n".join(parts)

    # ---- use ----

    def run(self, cmd, timeout=60, **kw) -> subprocess.CompletedProcess:
        """A client command (squeue, scancel, ...) against this cluster."""
        return subprocess.run([find_tool(cmd[0]), *cmd[1:]], env=kw.pop("env", self.env()),
                              stdin=kw.pop("stdin", subprocess.DEVNULL), capture_output=True,
                              timeout=timeout, **kw)

    def job_info(self, job_id: str) -> Dict[str, str]:
        """scontrol's fields of a job ({} once it is forgotten)."""
        proc = self.run(["scontrol", "show", "job", "-o", job_id], timeout=20, text=True)
        if proc.returncode != 0:
            return {}
        return dict(f.split("=", 1) for f in proc.stdout.split() if "=" in f)

    def wait_job(self, job_id: str, timeout: float) -> Dict[str, str]:
        """Until the job has ended: its fields (JobState, ExitCode, ...); at
        the deadline the job is cancelled and ClusterError raised."""
        deadline = time.monotonic() + timeout
        delay = 0.1
        while True:
            info = self.job_info(job_id)
            if not info or info.get("JobState") not in ACTIVE_STATES:
                return info
            if time.monotonic() > deadline:
                self.run(["scancel", "--full", job_id], timeout=20)
                raise ClusterError(f"job {job_id} still {info.get('JobState')} after "
                                   f"{timeout:.0f} s (cancelled)\n{self.diagnostics()}")
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def cancel_all(self):
        try:
            self.run(["scancel", "--full", "--quiet", "-u", "root"], timeout=10)
        except (subprocess.TimeoutExpired, OSError):
            pass

    # ---- stop ----

    def _marked_pids(self) -> List[int]:
        """Processes carrying this cluster's mark (daemons, slurmstepd, tasks)."""
        want = f"{MARK}={self.root}".encode()
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            try:
                with open(f"/proc/{entry}/environ", "rb") as f:
                    if want in f.read().split(b"\0"):
                        pids.append(int(entry))
            except OSError:
                pass
        return pids

    def leftover_tasks(self, wait: float = 15.0) -> List[str]:
        """Command lines of this cluster's processes other than the daemons, their
        helpers and slurmstepd (a job's tasks) still alive after `wait` seconds."""
        deadline = time.monotonic() + wait
        daemons = {p.pid for p in self.procs.values()}
        while True:
            left = []
            for pid in self._marked_pids():
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
                    with open(f"/proc/{pid}/stat") as f:
                        state = f.read().rsplit(")", 1)[1].split()[0]
                except OSError:
                    continue
                prog = os.path.basename(cmd.split(" ", 1)[0]).rstrip(":")
                if pid in daemons or state == "Z" or prog in DAEMONS + ("slurmstepd",):
                    continue        # slurmctld's slurmscriptd names itself "slurmctld:"
                left.append(f"{pid}: {cmd}")
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.2)

    def stop(self):
        """Cancel what is left, stop the daemons by PID, end any straggler
        carrying the mark, remove the directory."""
        if "slurmctld" in self.procs and self.procs["slurmctld"].poll() is None:
            self.cancel_all()
        for name in ("slurmd", "slurmctld", "munged"):
            p = self.procs.get(name)
            if p is None or p.poll() is not None:
                continue
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for _ in range(2):
            pids = self._marked_pids()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.2)
        shutil.rmtree(self.root, ignore_errors=True)
