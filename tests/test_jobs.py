"""The job as a whole: how it starts, ends, fails and takes signals, across
ranks, compared with the same program run natively (issue 7).

Programs: tests/jobs/*.c.  Every run is a real mpiexec (or singleton) run;
after each one no process of it may be left.
"""
import os
import pty
import select
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

import helpers
from helpers import (base_env, compile_app, pshare_command, pshare_lines, run_command,
                     run_native, run_pshare, strip_pshare_lines)

JOBS = Path(__file__).resolve().parent / "jobs"
pytestmark = pytest.mark.pshare


@pytest.fixture(scope="module")
def jobs_bin(tmp_path_factory):
    out = tmp_path_factory.mktemp("jobs_bin")
    return {src.stem: compile_app(src, out) for src in sorted(JOBS.glob("*.c"))}


def leftovers(binary):
    """Processes still running the program (the app on any rank)."""
    found = []
    for p in psutil.process_iter(["cmdline", "exe"]):
        try:
            if p.info["exe"] == str(binary) or str(binary) in (p.info["cmdline"] or []):
                found.append(p.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


def assert_nothing_left(binary):
    deadline = time.monotonic() + 10
    while leftovers(binary) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert leftovers(binary) == [], f"processes of {binary} left behind"


def mpiexec_cmd(n, binary, args=(), opts=()):
    return pshare_command(binary, list(args), ("mpiexec", n), list(opts))


class Job:
    """A run in the background, read line by line, to act on it while it runs."""

    def __init__(self, cmd, cwd):
        self.proc = subprocess.Popen([str(c) for c in cmd], cwd=cwd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=base_env(), start_new_session=True)
        self.out = b""

    def wait_for(self, text, timeout=60):
        deadline = time.monotonic() + timeout
        while text not in self.out:
            left = deadline - time.monotonic()
            assert left > 0, f"never printed {text!r}; got {self.out!r}"
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                assert chunk, f"ended before printing {text!r}; got {self.out!r}"
                self.out += chunk

    def finish(self, timeout=60):
        try:
            out, err = self.proc.communicate(timeout=timeout)
        finally:
            helpers._kill_group(self.proc.pid)
        return helpers.normalize_status(self.proc.returncode), self.out + out, err


def pids_of_rank(binary, rank):
    """(agent pid, app pid) of one rank of a running job."""
    for p in psutil.process_iter(["cmdline", "environ"]):
        try:
            cmd = p.info["cmdline"] or []
            env = p.info["environ"] or {}
            if any(c.endswith("pshare-launch") for c in cmd) and str(binary) in cmd \
                    and env.get("PMI_RANK") == str(rank):
                kids = p.children()
                return p.pid, kids[0].pid if kids else None
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    raise AssertionError(f"rank {rank} of {binary} not found")


# ---- exit status ----

def test_main_returns_while_workers_run(jobs_bin, tmp_path):
    """main returns while threads on other ranks compute: the status is
    main's, and nothing of MPI's appears (it used to be 9 and MPICH's
    'BAD TERMINATION' banner on stdout about one run in four)."""
    binary = jobs_bin["main_returns"]
    native = run_native(binary, cwd=tmp_path / "native")
    assert native.returncode == 0
    for i in range(6):
        r = run_pshare(binary, cwd=tmp_path / f"run{i}", mode=("mpiexec", 4))
        assert (r.returncode, r.stdout) == (0, native.stdout), r.stderr.decode()
        assert pshare_lines(r.stderr) == []
    assert_nothing_left(binary)


# ---- start-up failures ----

def test_program_missing_on_one_rank(jobs_bin, tmp_path):
    """Missing on one node: one line naming that rank, the native 127, within
    the run's time limit (rank 0 used to wait forever)."""
    here, there = tmp_path / "A", tmp_path / "B"
    here.mkdir()
    there.mkdir()
    (here / "prog").write_bytes(jobs_bin["main_returns"].read_bytes())
    (here / "prog").chmod(0o755)
    launch, mpiexec = helpers.find_pshare_launch(), helpers.find_mpiexec()
    cmd = [mpiexec, "-n", "1", "-wdir", here, launch, "./prog", ":",
           "-n", "1", "-wdir", there, launch, "./prog"]
    r = run_command(cmd, cwd=tmp_path / "run", timeout=30)
    assert r.returncode == 127
    assert pshare_lines(r.stderr) == ["pshare: rank 1: ./prog: No such file or directory"]
    assert r.stdout == b""


@pytest.fixture(scope="module")
def needs_missing_library(tmp_path_factory):
    """A program linked to a library that is then removed."""
    d = tmp_path_factory.mktemp("missing_lib")
    (d / "gone.c").write_text("int gone(void) { return 0; }\n")
    (d / "main.c").write_text("int gone(void);\nint main(void) { return gone(); }\n")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", d / "libgone.so", d / "gone.c"], check=True)
    subprocess.run(["gcc", "-o", d / "uses_gone", d / "main.c", f"-L{d}", "-lgone",
                    f"-Wl,-rpath,{d}/nowhere"], check=True)
    return d / "uses_gone"


@pytest.mark.parametrize("mode", ["singleton", ("mpiexec", 2)], ids=helpers.mode_id)
def test_missing_shared_library(needs_missing_library, mode, tmp_path):
    """As natively: the loader's message and 127 (it used to be 126 and 'did
    not start on rank 0'); pshare adds one line naming the rank."""
    native = run_native(needs_missing_library, cwd=tmp_path / "native")
    assert native.returncode == 127 and b"libgone.so" in native.stderr
    r = run_pshare(needs_missing_library, cwd=tmp_path / "pshare", mode=mode)
    assert r.returncode == 127
    assert native.stderr.strip() in strip_pshare_lines(r.stderr)
    lines = pshare_lines(r.stderr)
    assert len(lines) == 1 and "rank 0" in lines[0] and "127" in lines[0], lines


@pytest.mark.parametrize("nranks", [1, 2])
def test_bad_input_said_once(jobs_bin, nranks, tmp_path):
    """One line for the whole job, however many ranks find the fault."""
    r = run_pshare(jobs_bin["main_returns"], cwd=tmp_path, mode=("mpiexec", nranks),
                   extra_opts=("--placement", "9"))
    assert r.returncode == 2
    assert pshare_lines(r.stderr) == [
        f"pshare: --placement: rank 9 does not exist (this job has {nranks} "
        f"rank{'s' if nranks > 1 else ''})"]


def test_unwritable_stats_json_found_first(jobs_bin, tmp_path):
    r = run_pshare(jobs_bin["main_returns"], cwd=tmp_path / "run", mode=("mpiexec", 2),
                   extra_opts=("--stats-json", str(tmp_path / "no" / "such" / "dir.json")))
    assert r.returncode == 2
    assert r.stdout == b""                         # the program never ran
    assert len(pshare_lines(r.stderr)) == 1 and "--stats-json" in r.stderr.decode()


# ---- failures on a rank ----

NATIVE_STATUS = {"crash": 139, "abort": 134, "exit3": 3}
SIGNAL_NAME = {"crash": "SIGSEGV", "abort": "SIGABRT"}


@pytest.mark.parametrize("thread", [1, 3])
@pytest.mark.parametrize("how", ["crash", "abort", "exit3"])
def test_failure_on_a_rank(jobs_bin, how, thread, tmp_path):
    """Thread K runs on rank K at 4 ranks: the job ends with the native
    status, one line naming that rank (none for exit, as natively)."""
    binary = jobs_bin["fail_on"]
    native = run_native(binary, [how, str(thread)], cwd=tmp_path / "native")
    assert native.returncode == NATIVE_STATUS[how]
    r = run_pshare(binary, [how, str(thread)], cwd=tmp_path / "pshare", mode=("mpiexec", 4))
    assert r.returncode == native.returncode
    assert sorted(r.stdout.splitlines()) == sorted(native.stdout.splitlines())
    lines = pshare_lines(r.stderr)
    if how == "exit3":
        assert lines == []
    else:
        assert len(lines) == 1 and f"rank {thread}:" in lines[0] and SIGNAL_NAME[how] in lines[0], lines
    assert_nothing_left(binary)


@pytest.mark.parametrize("victim", ["app", "agent"])
def test_sigkill_on_rank_1(jobs_bin, victim, tmp_path):
    """SIGKILL of the app on rank 1 ends the job: 137, one line naming rank 1
    and the signal (it used to end with no message at all).  SIGKILL of an
    agent: MPICH's mpiexec ends every rank (a documented limit: its own
    banner and status).  Either way nothing is left running."""
    binary = jobs_bin["fail_on"]
    job = Job(mpiexec_cmd(4, binary, ["wait", "9"]), tmp_path)
    job.wait_for(b"ready\n")
    agent, app = pids_of_rank(binary, 1)
    os.kill(app if victim == "app" else agent, signal.SIGKILL)
    status, _, err = job.finish()
    if victim == "app":
        assert status == 128 + signal.SIGKILL
        lines = pshare_lines(err)
        assert len(lines) == 1 and "rank 1:" in lines[0] and "SIGKILL" in lines[0], lines
    else:
        assert status != 0
    assert_nothing_left(binary)


# ---- signals ----

def signalled_as_natively(binary, sig, nranks, tmp_path, native_out):
    """BINARY natively, then under mpiexec: SIG once it says 'ready'; the
    status and stdout must be the native run's, which must be (0, native_out)."""
    native = Job([binary], tmp_path)
    native.wait_for(b"ready\n")
    native.proc.send_signal(sig)
    n_status, n_out, _ = native.finish()
    assert (n_status, n_out) == (0, native_out)

    job = Job(mpiexec_cmd(nranks, binary), tmp_path)
    job.wait_for(b"ready\n")
    job.proc.send_signal(sig)
    status, out, err = job.finish()
    # mpiexec itself says it passes Ctrl-C on (its line, not the program's)
    out = b"".join(l for l in out.splitlines(keepends=True) if not l.startswith(b"[mpiexec@"))
    assert (status, out) == (n_status, n_out), err.decode()
    assert_nothing_left(binary)


@pytest.mark.parametrize("nranks", [1, 2, 4])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_signal_runs_the_handler_once(jobs_bin, sig, nranks, tmp_path):
    """kill -TERM / -INT of mpiexec: the app's handler runs once, as natively
    (it ran once per rank and more)."""
    signalled_as_natively(jobs_bin["on_signal"], sig, nranks, tmp_path,
                          b"ready\nhandler ran 1 time(s)\n")


@pytest.mark.parametrize("nranks", [1, 2, 4])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_signal_taken_by_a_sigwait_thread(jobs_bin, sig, nranks, tmp_path):
    """kill -TERM / -INT of mpiexec when the program blocks them everywhere
    and takes them in a thread with sigwaitinfo, on rank 1 when spread: the
    thread takes it once and the program ends as natively (it stayed
    pending on home and the job never ended)."""
    name = signal.strsignal(sig).encode()
    signalled_as_natively(jobs_bin["sigwait_term"], sig, nranks, tmp_path,
                          b"ready\nthe signal thread took " + name + b"\ndone\n")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_signal_without_handler_ends_the_job(jobs_bin, sig, tmp_path):
    """No handler: the process dies of it, 128+N, one line (rank 0's)."""
    binary = jobs_bin["fail_on"]
    job = Job(mpiexec_cmd(4, binary, ["wait", "9"]), tmp_path)
    job.wait_for(b"ready\n")
    job.proc.send_signal(sig)
    status, _, err = job.finish()
    assert status == 128 + sig
    lines = pshare_lines(err)
    assert len(lines) == 1 and signal.Signals(sig).name in lines[0], lines
    assert_nothing_left(binary)


def run_in_terminal(cmd, keys, timeout=60):
    """cmd on a new pseudo-terminal, typing `keys` once it prints 'ready'."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(str(cmd[0]), [str(c) for c in cmd], base_env())
    out, typed = b"", False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not typed and b"ready" in out:
                time.sleep(0.3)
                os.write(fd, keys)
                typed = True
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    return os.waitstatus_to_exitcode(status), out


def test_ctrl_c_at_a_terminal_once(jobs_bin):
    """pshare-launch at a terminal: Ctrl-C reaches the app once (the terminal
    signals the app's process group; the launcher must not pass it on too)."""
    binary = jobs_bin["on_signal"]
    native = run_in_terminal([binary], b"\x03")
    assert native[0] == 0 and b"handler ran 1 time(s)" in native[1]
    status, out = run_in_terminal([helpers.find_pshare_launch(), binary], b"\x03")
    assert status == 0 and b"handler ran 1 time(s)" in out, out


# ---- stdin ----

@pytest.fixture(scope="module")
def ten_mb(tmp_path_factory):
    f = tmp_path_factory.mktemp("stdin") / "input.bin"
    f.write_bytes(os.urandom(10 * 1024 * 1024))
    return f


@pytest.mark.parametrize("nranks", [2, 4])
def test_stdin_file_whole(jobs_bin, ten_mb, nranks, tmp_path):
    """A 10 MB input read by a thread on another rank arrives whole.  MPICH's
    mpiexec cannot carry more than 64 KiB of its own stdin to any program,
    so the input comes through --stdin, opened on home."""
    binary = jobs_bin["read_stdin"]
    with open(ten_mb, "rb") as f:
        native = subprocess.run([binary], stdin=f, stdout=subprocess.PIPE, check=True)
    r = run_pshare(binary, cwd=tmp_path, mode=("mpiexec", nranks),
                   extra_opts=("--stdin", str(ten_mb)))
    assert (r.returncode, r.stdout) == (0, native.stdout), r.stderr.decode()


def test_stdin_small_through_mpiexec(jobs_bin, tmp_path):
    """What mpiexec can carry (up to 64 KiB) reaches home's app whole."""
    binary = jobs_bin["read_stdin"]
    data = os.urandom(60000)
    native = subprocess.run([binary], input=data, stdout=subprocess.PIPE, check=True)
    r = subprocess.run([str(c) for c in mpiexec_cmd(2, binary)], input=data, cwd=tmp_path,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=base_env(), timeout=60)
    assert (r.returncode, r.stdout) == (0, native.stdout), r.stderr.decode()


# ---- smaller ----

def test_usage_without_program_once(tmp_path):
    """No program: one usage error for the whole job, saying what is missing."""
    r = run_command([helpers.find_mpiexec(), "-n", "3", helpers.find_pshare_launch()],
                    cwd=tmp_path, timeout=30)
    assert r.returncode == 2
    errors = [l for l in r.stderr.decode().splitlines() if "error:" in l]
    assert errors == ["pshare-launch: error: no program given: pshare-launch [options] "
                      "PROGRAM [ARGS...]"]


def test_crash_on_network_path_leaves_stdout_clean(jobs_bin, tmp_path):
    """MPICH's network path (MPIR_CVAR_NOLOCAL=1): after a crash on rank 1
    nothing of MPI's reaches the program's stdout."""
    binary = jobs_bin["fail_on"]
    native = run_native(binary, ["crash", "1"], cwd=tmp_path / "native")
    r = run_pshare(binary, ["crash", "1"], cwd=tmp_path / "pshare", mode=("mpiexec", 2),
                   env=base_env({"MPIR_CVAR_NOLOCAL": "1"}))
    assert r.returncode == native.returncode == 139
    assert sorted(r.stdout.splitlines()) == sorted(native.stdout.splitlines())


def test_threads_peak_counts_app_threads(jobs_bin, tmp_path):
    """main_returns' 6 threads never end: at 2 ranks rank 1 holds 3 of them,
    all alive at once, so its peak is 3 (it was 4: the control thread)."""
    import json
    stats = tmp_path / "stats.json"
    r = run_pshare(jobs_bin["main_returns"], cwd=tmp_path / "run", mode=("mpiexec", 2),
                   extra_opts=("--stats-json", str(stats)))
    assert r.returncode == 0
    rank1 = json.loads(stats.read_text())["ranks"][1]
    assert (rank1["threads"], rank1["threads_peak"]) == (3, 3)


# ---- exec ----

@pytest.mark.parametrize("thread", [0, 1, 3])
@pytest.mark.parametrize("nranks", [2, 4])
def test_exec_from_any_thread(jobs_bin, thread, nranks, tmp_path):
    """Thread K (on rank K at 4 ranks, K mod 2 at 2) replaces the program
    with a shell, its argv and environment built on its own stack: the same
    output, file and status 3 as natively, the pid kept, and no process
    left.  From a thread elsewhere execve failed with EFAULT (home's kernel
    read strings from pages only that rank had)."""
    binary = jobs_bin["exec_from"]
    native = run_native(binary, [str(thread)], cwd=tmp_path / "native")
    assert native.returncode == 3, native.stderr
    r = run_pshare(binary, [str(thread)], cwd=tmp_path / "pshare", mode=("mpiexec", nranks))
    assert (r.returncode, r.stdout, strip_pshare_lines(r.stderr), r.files) == \
        (native.returncode, native.stdout, native.stderr, native.files), r.stderr
    assert_nothing_left(binary)


def test_exec_from_elsewhere_with_too_much_for_the_mailbox(jobs_bin, tmp_path):
    """The documented limit: from a thread elsewhere the arguments and
    environment travel in its mailbox, so 200 KB of them get the kernel's
    E2BIG (natively they are within ARG_MAX) and the program goes on."""
    binary = jobs_bin["exec_from"]
    assert run_native(binary, ["1", "200000"], cwd=tmp_path / "native").returncode == 3
    r = run_pshare(binary, ["1", "200000"], cwd=tmp_path / "pshare", mode=("mpiexec", 2))
    assert r.returncode == 1
    assert b"execve: Argument list too long" in r.stderr
    assert_nothing_left(binary)
