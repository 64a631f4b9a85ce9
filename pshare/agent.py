"""The agent: one per MPI rank.  It starts the app with the runtime preloaded,
waits for it, and turns what the runtime recorded into an exit status, error
lines and statistics.

Rank 0 is home: ``main()`` runs there and its exit status is the job's.  Every
other rank starts the same program too (same file, environment, rlimits, ASLR
off: the same address space), whose runtime parks the initial thread as the
rank's control thread until threads arrive from home.

The agent never busy-waits for long: ranks share cores with the app (the tests
run 4 ranks on 2 cores).
"""
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time

from . import config, stats
from ._rtctl import (CHAN_FD, CTL_FD, RT_FAILED, RT_NONE, RT_RUNNING, STORE_FD, Channel,
                     ControlBlock, disable_aslr, make_store, tsc_hz)
from .errors import LaunchError

FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT,
                     signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM, signal.SIGCONT,
                     signal.SIGWINCH)


def signal_name(signo):
    try:
        return signal.Signals(signo).name
    except ValueError:
        return f"signal {signo}"


class Agent:
    def __init__(self, opts, program_path, comm):
        self.opts = opts
        self.path = program_path
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.proc = None
        self.ctl = None

    def log(self, msg):
        if self.opts.verbose:
            self.say(msg)

    def say(self, msg):
        # one write per line: the ranks share stderr
        sys.stderr.write(f"pshare: rank {self.rank}: {msg}\n")
        sys.stderr.flush()

    # ---- start ----

    def start(self):
        home = (dict(os.environ), config.current_rlimits(), stdin_pipe()) \
            if self.rank == 0 else None
        base_env, rlimits, home_stdin = self.comm.bcast(home, root=0)
        if self.rank != 0:
            drain_stdin(home_stdin)
        runtime = config.runtime_library()
        env, flags = config.app_environment(base_env, runtime)
        if self.rank != 0:
            config.apply_rlimits(rlimits)
        self.ctl = ControlBlock(self.rank, self.size, flags)
        self.chan = Channel()
        self.store = make_store()
        os.dup2(self.ctl.fd, CTL_FD)
        os.dup2(self.chan.fd, CHAN_FD)
        os.dup2(self.store, STORE_FD)
        disable_aslr()
        argv = [self.opts.program] + list(self.opts.args)
        self.log(f"starting {self.path} with {runtime}")
        try:
            self.proc = subprocess.Popen(
                argv, executable=self.path, env=env, pass_fds=(CTL_FD, CHAN_FD, STORE_FD),
                stdin=None if self.rank == 0 else subprocess.DEVNULL)
        except OSError as e:
            raise LaunchError(f"{self.opts.program}: {e.strerror}", 126) from None
        finally:
            for fd in (CTL_FD, CHAN_FD, STORE_FD):
                os.close(fd)
        for s in FORWARDED_SIGNALS:
            signal.signal(s, self._forward)

    def _forward(self, signo, frame):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signo)

    # ---- several ranks: start together, then serve the app ----

    def wait_running(self):
        """Until the runtime is up (or failed, or the app is gone); no spinning."""
        delay = 0.0005
        while self.ctl.state != RT_RUNNING and self.proc.poll() is None \
                and self.ctl.state != RT_FAILED:
            time.sleep(delay)
            delay = min(delay * 2, 0.02)
        return self.ctl.state == RT_RUNNING and self.proc.poll() is None

    def layout(self):
        """The app's mappings, as every rank must have them (addresses and files)."""
        lines = []
        with open(f"/proc/{self.proc.pid}/maps") as f:
            for line in f:
                fields = line.split(maxsplit=5)
                lines.append(fields[0] + " " + (fields[5].strip() if len(fields) > 5 else ""))
        return lines

    def check_layouts(self):
        ok = self.wait_running()
        mine = self.layout() if ok else None
        layouts = self.comm.gather(mine, root=0)
        verdict = None
        if self.rank == 0:
            if any(l is None for l in layouts):
                bad = [r for r, l in enumerate(layouts) if l is None]
                verdict = f"the program did not start on rank {bad[0]}"
            else:
                for r, other in enumerate(layouts[1:], 1):
                    if other != layouts[0]:
                        diff = next((i for i, (x, y) in enumerate(zip(layouts[0], other)) if x != y),
                                    min(len(layouts[0]), len(other)))
                        home_line = layouts[0][diff] if diff < len(layouts[0]) else "(nothing)"
                        their = other[diff] if diff < len(other) else "(nothing)"
                        verdict = (f"address spaces differ between rank 0 and rank {r}: "
                                   f"first difference: '{home_line}' on rank 0, '{their}' on "
                                   f"rank {r} (every node needs the same program, libraries, "
                                   "environment and limits)")
                        break
        verdict = self.comm.bcast((verdict, self.proc.pid if self.rank == 0 else None), root=0)
        return verdict

    def serve(self):
        """Run the event loop until the job ends; returns its exit status."""
        from .loop import Node, Placement
        verdict, home_pid = self.check_layouts()
        self.ctl.set_home_pid(home_pid)
        if verdict is not None:
            if self.rank == 0:
                self.say(verdict) if self.ctl.state != RT_FAILED else self.say(self.ctl.error)
            self.proc.kill()
            self.proc.wait()
            return 126
        placement = Placement(self.opts.placement, self.size, os.cpu_count() or 1)
        self.node = Node(self.comm, self.chan, self.ctl, self.store, placement,
                         lambda: self.proc.poll())
        self.log(f"address space checked ({len(self.layout())} mappings, the same on "
                 f"every rank); placement {self.opts.placement}")
        if self.rank == 0:
            self.ctl.set_go()
        code = self.node.run()
        self.log(f"job over, exit status {code}; pages in {self.node.counts['pages_in']}, "
                 f"out {self.node.counts['pages_out']}")
        if self.proc.poll() is None:
            self.proc.kill()
        status = self.proc.wait()
        if self.rank == 0 and self.node.failure is None:
            self.report_end(status)
            return 128 - status if status < 0 else status
        if self.rank != 0 and status != -9:
            self.report_end(status)
        return 128 - code if code < 0 else code

    # ---- one rank ----

    def wait_home(self):
        """Home: the app's own exit is the job's."""
        status = self.proc.wait()
        code = 128 - status if status < 0 else status
        self.report_end(status)
        return code

    def report_end(self, status):
        """One line for anything a native run would not have ended with."""
        if self.ctl.state == RT_FAILED:
            self.say(self.ctl.error)
            return
        if self.ctl.state == RT_NONE:
            self.say("the pshare runtime did not start inside the program "
                     "(was it preloaded? see the lines above)")
            return
        if status >= 0:
            return
        signo = -status
        crash = self.ctl.crash
        if crash and crash["signo"] == signo and crash["code"] > 0:
            self.say(f"thread {crash['thread']} (tid {crash['tid']}) crashed: "
                     f"{signal_name(signo)} at address {crash['addr']:#x} "
                     f"(instruction {crash['ip']:#x})")
        else:
            self.say(f"the program was killed by {signal_name(signo)}")

    def rank_stats(self):
        node = getattr(self, "node", None)
        return stats.rank_record(self.rank, socket.gethostname(), self.proc.pid, self.ctl,
                                 tsc_hz(), node.counts if node else {})


def stdin_pipe():
    """(host, st_dev, st_ino) of this process's stdin if it is a pipe or a
    socket, else None."""
    try:
        st = os.fstat(0)
    except OSError:
        return None
    if not (stat.S_ISFIFO(st.st_mode) or stat.S_ISSOCK(st.st_mode)):
        return None
    return (socket.gethostname(), st.st_dev, st.st_ino)


def drain_stdin(home_stdin):
    """Off home the app reads /dev/null, but srun sends stdin to every task by
    default and stops feeding all of them (home included) once one task's pipe
    is full: read this rank's copy to its end and drop it.  Not if it is the
    very pipe home reads (a launcher that hands every rank the same stdin)."""
    mine = stdin_pipe()
    if mine is None or mine == home_stdin:
        return

    def drain():
        try:
            while os.read(0, 1 << 16):
                pass
        except OSError:
            pass

    threading.Thread(target=drain, name="pshare-stdin-drain", daemon=True).start()


def check_slurm_step(mpi_size):
    """srun without a PMI plugin (Slurm's default MpiDefault=none) starts N
    tasks that each come up as an MPI singleton: N copies of the program.
    Stop every task instead, with one line from task 0."""
    if mpi_size != 1 or "SLURM_STEP_ID" not in os.environ:
        return
    if any(v in os.environ for v in ("PMI_RANK", "PMI_SIZE", "PMIX_RANK",
                                     "OMPI_COMM_WORLD_SIZE")):
        return          # a process manager (srun's plugin, mpiexec) gave MPI its size
    ntasks = os.environ.get("SLURM_STEP_NUM_TASKS") or os.environ.get("SLURM_NTASKS", "")
    if not ntasks.isdigit() or int(ntasks) <= 1:
        return
    raise LaunchError(f"srun started {ntasks} tasks but MPI sees 1 in each: srun gave MPI "
                      "no PMI (Slurm's default is --mpi=none); run srun --mpi=pmi2 "
                      "pshare-launch ... (the MPICH wheel; --mpi=pmix for Open MPI)", 2)


def run(opts, program_path):
    """Run the job on this rank; returns the exit status for this process."""
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    check_slurm_step(comm.Get_size())
    agent = Agent(opts, program_path, comm)
    if agent.size > 1:
        from .loop import Placement
        try:
            Placement(opts.placement, agent.size, 1)      # every rank finds the same fault
        except ValueError as e:
            raise LaunchError(str(e), 2) from None
    t0 = time.perf_counter()
    agent.start()
    code = agent.serve() if agent.size > 1 else agent.wait_home()
    elapsed = time.perf_counter() - t0
    records = comm.gather(agent.rank_stats() if (opts.stats or opts.stats_json) else None, root=0)
    if agent.rank == 0 and (opts.stats or opts.stats_json):
        report = stats.job_report(opts, agent.size, code, elapsed, records)
        if opts.stats_json:
            stats.write_json(report, opts.stats_json)
        if opts.stats:
            stats.render(report)
    return code
