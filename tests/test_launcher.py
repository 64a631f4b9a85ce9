"""The launcher's contract beyond the apps' own output: bad input, statistics
that prove interception, signals, exit statuses and clean-up, at 1 and 2 ranks."""
import json
import os
import signal
import struct
import subprocess
import sys

import psutil
import pytest

from helpers import (base_env, compile_app, pshare_command,
                     pshare_lines, run_native, run_pshare)

pytestmark = pytest.mark.pshare


def _one_error_line(result):
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {lines}"
    assert lines[0].startswith("pshare: ")
    assert "Traceback" not in lines[0]
    return lines[0]


def _write_exec(path, data):
    path.write_bytes(data)
    path.chmod(0o755)
    return path


def _not_executable(d):
    path = _write_exec(d / "noexec", _elf_header())
    path.chmod(0o644)
    return path


def _elf_header(ei_class=2, machine=62):
    """An ELF header with no program headers: enough for the launcher's checks."""
    ident = b"\x7fELF" + bytes([ei_class, 1, 1]) + bytes(9)
    return ident + struct.pack("<HHIQQQIHHHHHH", 2, machine, 1, 0, 64, 0, 0, 64, 56, 0, 64, 0, 0)


BAD_INPUTS = {
    # name: (make(tmp_path) -> program path, expected status, words in the message)
    "missing": (lambda d: str(d / "no-such-program"), 127, ["No such file"]),
    "not-found-on-path": (lambda d: "pshare-no-such-command-xyz", 127, ["not found"]),
    "directory": (lambda d: str(d), 126, ["directory"]),
    "not-executable": (lambda d: str(_not_executable(d)), 126, ["Permission denied"]),
    "not-elf": (lambda d: str(_write_exec(d / "script.txt", b"hello, not a program\n")), 126, ["not an ELF"]),
    "elf32": (lambda d: str(_write_exec(d / "prog32", _elf_header(ei_class=1, machine=3))), 126, ["32-bit"]),
    "not-x86_64": (lambda d: str(_write_exec(d / "prog-arm", _elf_header(machine=183))), 126, ["not an x86_64"]),
    "bad-interpreter": (lambda d: str(_write_exec(d / "s.sh", b"#!/no/such/shell -e\ntrue\n")), 126,
                        ["/no/such/shell", "bad interpreter"]),
    "32-bit-interpreter": (lambda d: str(_write_exec(d / "s.sh", b"#!" + os.fsencode(
        _write_exec(d / "sh32", _elf_header(ei_class=1, machine=3))) + b"\ntrue\n")), 126,
                           ["interpreter", "sh32", "32-bit"]),
    "env-options": (lambda d: str(_write_exec(d / "s.sh", b"#!/usr/bin/env -i sh\ntrue\n")), 126,
                    ["env -i sh", "program name"]),
}


@pytest.mark.parametrize("mode", ["singleton", ("mpiexec", 2)], ids=["singleton", "mpiexec2"])
@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input(case, mode, tmp_path):
    make, status, words = BAD_INPUTS[case]
    program = make(tmp_path)
    result = run_pshare(program, [], tmp_path / "run", mode)
    assert result.returncode == status, result.stderr
    line = _one_error_line(result)
    for w in words:
        assert w in line


@pytest.fixture(scope="module")
def static_binary(tmp_path_factory, apps_bin):
    out = tmp_path_factory.mktemp("static") / "mutex_static"
    src = os.path.join(os.path.dirname(__file__), "apps", "mutex_counter.c")
    r = subprocess.run(["gcc", "-O1", "-static", "-pthread", "-o", str(out), src],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"no static libc to build a static test program: {r.stderr[-300:]}")
    return out


def test_static_binary_refused(static_binary, tmp_path):
    result = run_pshare(static_binary, [], tmp_path / "run")
    assert result.returncode == 126
    assert "statically linked" in _one_error_line(result)


def test_kernel_without_sud_named(apps_bin, tmp_path):
    # The only way to meet a kernel without Syscall User Dispatch here: the
    # launcher's probe can be told to fail, and the message must name the need.
    env = base_env({"PSHARE_TEST_NO_SUD": "1"})
    result = run_pshare(apps_bin["mutex_counter"], [], tmp_path / "run", env=env)
    assert result.returncode == 126
    line = _one_error_line(result)
    assert "Syscall User Dispatch" in line and "5.11" in line


def test_bad_placement(apps_bin, tmp_path):
    result = run_pshare(apps_bin["mutex_counter"], [], tmp_path / "run",
                        extra_opts=["--placement", "everywhere"])
    assert result.returncode == 2
    assert "placement" in _one_error_line(result)


@pytest.mark.parametrize("mode", ["singleton", "mpiexec1", ("mpiexec", 2)],
                         ids=["singleton", "mpiexec1", "mpiexec2"])
def test_stats_json_proves_interception(mode, apps_bin, tmp_path):
    """sysnum makes known calls: 1000 getppid, 500 getpid, 10 mkdir, 10 rmdir."""
    out = tmp_path / "stats.json"
    result = run_pshare(apps_bin["sysnum"], [], tmp_path / "run", mode,
                        extra_opts=["--stats-json", str(out)])
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"done\n"
    report = json.loads(out.read_text())
    nranks = 1 if mode != ("mpiexec", 2) else 2
    assert report["nranks"] == nranks and len(report["ranks"]) == nranks
    assert report["exit_status"] == 0
    home = report["ranks"][0]
    assert home["rank"] == 0
    calls = {}                       # the threads may run on any rank
    for r in report["ranks"]:
        for name, n in r["syscalls"].items():
            calls[name] = calls.get(name, 0) + n
    assert calls.get("getppid", 0) >= 1000
    assert calls.get("getpid", 0) >= 500
    assert calls.get("mkdir") == 10 and calls.get("rmdir") == 10
    assert home["threads"] >= 1
    assert sum(r["syscalls_local"] + r["syscalls_forwarded"] for r in report["ranks"]) >= 1520
    assert home["pages_managed"] > 0 and home["regions"] > 0
    if nranks > 1:
        # worker threads ran on rank 1 and their home-class calls went to home
        assert report["ranks"][1]["threads"] >= 1
        assert report["ranks"][1]["syscalls_forwarded"] >= 500
    for key in ("syscalls_forwarded", "faults_read", "faults_write", "pages_in", "pages_out"):
        assert isinstance(home[key], int)


def test_stats_threads_counted(apps_bin, tmp_path):
    out = tmp_path / "stats.json"
    result = run_pshare(apps_bin["mutex_counter"], [], tmp_path / "run",
                        extra_opts=["--stats-json", str(out)])
    assert result.returncode == 0
    home = json.loads(out.read_text())["ranks"][0]
    # main + its workers, every one created through the emulated clone
    assert home["threads"] == 1 + home["syscalls"]["clone"]
    assert home["syscalls"]["clone"] >= 2
    assert home["syscalls"].get("clone3", 0) >= 1       # answered ENOSYS: glibc fell back


def test_stats_tables_printed(apps_bin, tmp_path):
    result = run_pshare(apps_bin["sysnum"], [], tmp_path / "run", extra_opts=["--stats"])
    assert result.returncode == 0
    assert result.stdout == b"done\n"            # tables go to stderr, never stdout
    err = result.stderr.decode()
    assert "getppid" in err and "1000" in err and "system calls" in err


def test_invalid_syscall_number_is_enosys(tmp_path):
    src = tmp_path / "badnr.c"
    src.write_text(r"""
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
int main(void) {
    long r = syscall(400);              /* a hole in the x86_64 table */
    printf("%ld %d\n", r, errno == ENOSYS);
    r = syscall(100000);
    printf("%ld %d\n", r, errno == ENOSYS);
    return 0;
}
""")
    binary = compile_app(src, tmp_path)
    native = run_native(binary, [], tmp_path / "n")
    shared = run_pshare(binary, [], tmp_path / "p", extra_opts=["--stats-json", str(tmp_path / "s.json")])
    assert shared.stdout == native.stdout == b"-1 1\n-1 1\n"
    assert json.loads((tmp_path / "s.json").read_text())["ranks"][0]["syscalls_invalid"] == 2


def _descendants_of(pid):
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _kill_all(proc, *others):
    """After a test: the launcher's group and any process it left outside it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for p in others:
        try:
            p.kill()
        except psutil.Error:
            pass


@pytest.mark.parametrize("mode", ["singleton", ("mpiexec", 2)], ids=["singleton", "mpiexec2"])
def test_sigterm_ends_everything(mode, tmp_path):
    src = tmp_path / "sleeper.c"
    src.write_text(r"""
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
static void *nap(void *a) { (void)a; for (;;) pause(); }
int main(void) {
    pthread_t t; pthread_create(&t, 0, nap, 0);
    printf("ready\n"); fflush(stdout);
    for (;;) pause();
}
""")
    binary = compile_app(src, tmp_path)
    cmd = pshare_command(binary, [], mode)
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=base_env(), start_new_session=True)
    try:
        assert proc.stdout.readline() == b"ready\n"
        family = _descendants_of(proc.pid)
        assert any(p.exe() == str(binary) for p in family if p.is_running())
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        assert proc.returncode == 128 + signal.SIGTERM
        gone, alive = psutil.wait_procs(family, timeout=10)
        assert not alive, f"left behind: {alive}"
    finally:
        _kill_all(proc)


FORKER = r"""
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>
/* A helper process the app started, and a thread (on rank 1 at 2 ranks):
 * with "crash" it crashes once the helper runs, else everything waits.  The
 * app asks for a parent-death signal it survives (SIGUSR1, handled): the
 * agent's death must end it and its helper all the same. */
static int crash;
static void on_usr1(int sig) { (void)sig; }
static void *worker(void *a) {
    (void)a;
    if (crash)
        *(volatile int *)8 = 1;
    for (;;) pause();
}
int main(int argc, char **argv) {
    crash = argc > 1;
    signal(SIGUSR1, on_usr1);
    int pdeath = -1;
    prctl(PR_SET_PDEATHSIG, SIGUSR1);
    prctl(PR_GET_PDEATHSIG, &pdeath);
    pid_t child = fork();
    if (child == 0) { for (;;) pause(); }
    printf("helper %d pdeath %d\n", (int)child, pdeath); fflush(stdout);
    pthread_t t; pthread_create(&t, 0, worker, 0);
    for (;;) pause();
}
"""


def _start_forker(tmp_path, mode, args):
    src = tmp_path / "forker.c"
    src.write_text(FORKER)
    binary = compile_app(src, tmp_path)
    proc = subprocess.Popen(pshare_command(binary, args, mode), cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=base_env(),
                            start_new_session=True)
    line = proc.stdout.readline()
    assert line.startswith(b"helper "), (line, proc.stderr.read() if proc.poll() is not None else b"")
    assert line.endswith(b" pdeath %d\n" % signal.SIGUSR1)       # what it set, as natively
    return proc, psutil.Process(int(line.split()[1]))


@pytest.mark.parametrize("mode", ["singleton", ("mpiexec", 2)], ids=["singleton", "mpiexec2"])
def test_killing_the_launchers_ends_the_apps_children(mode, tmp_path):
    """SIGKILL to the launchers' process group (a batch system's or a test
    harness's kill): the agents die without a word, and the app, a process
    group of its own, must not leave its forked helper behind."""
    proc, helper = _start_forker(tmp_path, mode, [])
    try:
        family = _descendants_of(proc.pid)
        assert helper in family
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        gone, alive = psutil.wait_procs(family, timeout=20)
        assert not alive, f"left behind: {alive}"
    finally:
        _kill_all(proc, helper, *_descendants_of(proc.pid))


def test_a_crash_on_rank_1_ends_the_apps_children(tmp_path):
    """A thread crashing on rank 1 ends the job; home's agent ends the app's
    process group with it, the helper the app forked included."""
    proc, helper = _start_forker(tmp_path, ("mpiexec", 2), ["crash"])
    try:
        family = _descendants_of(proc.pid)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 128 + signal.SIGSEGV, err
        assert b"crashed: SIGSEGV at address 0x8" in err
        gone, alive = psutil.wait_procs(family + [helper], timeout=20)
        assert not alive, f"left behind: {alive}"
    finally:
        _kill_all(proc, helper)


@pytest.mark.parametrize("mode", ["singleton", ("mpiexec", 2)], ids=["singleton", "mpiexec2"])
def test_a_script_runs_as_the_kernel_runs_it(mode, tmp_path):
    """A #! script: its interpreter gets the line's argument, the script's
    path and the arguments, and the process the script's name, as natively;
    here /bin/sh -e stops at `false`."""
    script = _write_exec(tmp_path / "greet.sh",
                         b'#!/bin/sh -e\necho "$0 [$*] $-"\ncat /proc/$$/comm\necho to-file > out.txt\n'
                         b'false\necho unreached\n')
    native = run_native(script, ["one", "two words"], tmp_path / "n")
    shared = run_pshare(script, ["one", "two words"], tmp_path / "p", mode)
    assert native.returncode == 1 and b"[one two words]" in native.stdout
    assert b"\ngreet.sh\n" in native.stdout
    assert (shared.returncode, shared.stdout, shared.files) == \
        (native.returncode, native.stdout, native.files), shared.stderr


PY_THREADS = """
import hashlib, sys, threading
digests = [None] * 4
def work(i):
    h = hashlib.sha256()
    for k in range(3000):
        h.update(str(k * (i + 1)).encode())
    digests[i] = h.hexdigest()[:16]
threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print(sys.argv[1:], digests)
sys.exit(5)
"""


@pytest.mark.parametrize("line", ["direct", "env"])
def test_a_python_script_spreads_its_threads(line, tmp_path):
    """A threaded Python script, named by `#!/path/python3 -u` or by
    `#!/usr/bin/env -S python3 -u` (env followed along PATH): its threads
    run on both ranks and its output and status are native."""
    python = os.path.realpath(sys.executable)
    with open(python, "rb") as f:
        if f.read(4) != b"\x7fELF":
            pytest.skip(f"{python} is not an ELF program")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python3").symlink_to(python)
    first = f"#!{python} -u" if line == "direct" else "#!/usr/bin/env -S python3 -u"
    script = _write_exec(tmp_path / "hash.py", (first + PY_THREADS).encode())
    env = base_env({"PATH": f"{bindir}:{os.environ.get('PATH', '/usr/bin:/bin')}"})
    native = run_native(script, ["a", "b"], tmp_path / "n", env=env)
    shared = run_pshare(script, ["a", "b"], tmp_path / "p", ("mpiexec", 2), env=env,
                        extra_opts=["--stats-json", str(tmp_path / "s.json")])
    assert native.returncode == 5 and native.stdout.startswith(b"['a', 'b'] ")
    assert (shared.returncode, shared.stdout) == (native.returncode, native.stdout), shared.stderr
    ranks = json.loads((tmp_path / "s.json").read_text())["ranks"]
    assert ranks[1]["threads"] >= 1 and ranks[1]["faults_read"] > 0


PY_SUBPROCESS = """
import subprocess, sys, threading
out = [None] * 3
def run(i):
    r = subprocess.run(["echo", "thread", str(i)], capture_output=True)
    out[i] = (r.returncode, r.stdout)
threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
for t in threads: t.start()
for t in threads: t.join()
print(out)
print(subprocess.run(["echo", "main"], capture_output=True).stdout)
"""


@pytest.mark.parametrize("nranks", [2, 4])
def test_python_threads_start_subprocesses(nranks, tmp_path):
    """subprocess.run from Python threads on every rank, then from main:
    Python's vfork child resets every signal handler, so its faults on pages
    of other ranks killed it (SIGBUS: status -7), and a child started for a
    thread elsewhere got EFAULT from execve."""
    python = os.path.realpath(sys.executable)
    with open(python, "rb") as f:
        if f.read(4) != b"\x7fELF":
            pytest.skip(f"{python} is not an ELF program")
    script = tmp_path / "sub.py"
    script.write_text(PY_SUBPROCESS)
    native = run_native(python, [str(script)], tmp_path / "n")
    shared = run_pshare(python, [str(script)], tmp_path / "p", ("mpiexec", nranks))
    assert native.returncode == 0 and b"(0, b'thread 2\\n')" in native.stdout, native.stdout
    assert (shared.returncode, shared.stdout) == (native.returncode, native.stdout), shared.stderr


def test_stdin_reaches_the_app(tmp_path):
    src = tmp_path / "cat.c"
    src.write_text(r"""
#include <stdio.h>
int main(void) { int c; long n = 0; while ((c = getchar()) != EOF) { putchar(c); n++; }
                 fprintf(stderr, "%ld bytes\n", n); return 0; }
""")
    binary = compile_app(src, tmp_path)
    data = b"line one\nline two\n" * 1000
    for cmd in (pshare_command(binary, [], "singleton"), pshare_command(binary, [], "mpiexec1")):
        r = subprocess.run(cmd, input=data, capture_output=True, cwd=tmp_path, env=base_env(), timeout=60)
        assert r.returncode == 0 and r.stdout == data
        assert r.stderr == b"%d bytes\n" % len(data)


@pytest.mark.parametrize("app", ["mutex_counter", "crash_segv", "exit_worker", "popen_system",
                                 "fork_wait", "main_pthread_exit"])
def test_two_ranks_native_results(app, apps_bin, tmp_path):
    """Under mpiexec -n 2 threads run on both ranks; results stay native."""
    native = run_native(apps_bin[app], [], tmp_path / "n")
    shared = run_pshare(apps_bin[app], [], tmp_path / "p", ("mpiexec", 2))
    assert shared.returncode == native.returncode, shared.stderr
    assert shared.stdout == native.stdout
    assert shared.files == native.files
    if app == "crash_segv":
        # roundrobin put the crashing worker on rank 1: the report names it
        assert any("SIGSEGV" in l and "rank 1" in l and "0x10" in l and "thread" in l
                   for l in pshare_lines(shared.stderr)), shared.stderr


@pytest.mark.parametrize("nranks", [2, 4])
def test_paper_calls_from_another_rank(nranks, apps_bin, tmp_path):
    """The worker runs on rank 1: its open, close, mkdir, rmdir, symlink and
    flock act on home's process (fds, locks, files), as on one machine."""
    out = tmp_path / "stats.json"
    native = run_native(apps_bin["remote_calls"], [], tmp_path / "n")
    shared = run_pshare(apps_bin["remote_calls"], [], tmp_path / "p", ("mpiexec", nranks),
                        extra_opts=["--placement", "1", "--stats-json", str(out)])
    assert shared.returncode == native.returncode == 0, shared.stderr
    assert shared.stdout == native.stdout
    assert b"flock LOCK_EX|LOCK_NB in main while the worker holds it: Resource temporarily" in shared.stdout
    assert shared.files == native.files
    ranks = json.loads(out.read_text())["ranks"]
    assert ranks[1]["threads"] == 1 and ranks[1]["syscalls_forwarded"] >= 7
    # one host: every agent can wake every other one (loop.ring_peers_on_this_host)
    assert [r["doorbell_peers"] for r in ranks] == [nranks - 1] * nranks
    for call in ("mkdir", "rmdir", "openat", "symlink", "flock", "close"):
        assert ranks[1]["syscalls"].get(call, 0) >= 1, call


@pytest.mark.parametrize("policy, hosts", [("home", [0]), ("1", [0, 1]), ("roundrobin", [0, 1])])
def test_placement(policy, hosts, apps_bin, tmp_path):
    out = tmp_path / "stats.json"
    shared = run_pshare(apps_bin["mutex_counter"], [], tmp_path / "p", ("mpiexec", 2),
                        extra_opts=["--placement", policy, "--stats-json", str(out)])
    assert shared.returncode == 0, shared.stderr
    ranks = json.loads(out.read_text())["ranks"]
    assert [r["rank"] for r in ranks if r["threads"]] == hosts
    if policy == "1":
        assert ranks[0]["threads"] == 1 and ranks[1]["threads"] >= 4   # every new thread


def test_placement_rank_that_does_not_exist(apps_bin, tmp_path):
    result = run_pshare(apps_bin["mutex_counter"], [], tmp_path / "p", ("mpiexec", 2),
                        extra_opts=["--placement", "1,5"])
    assert result.returncode == 2
    assert "rank 5 does not exist" in _one_error_line(result)


def test_placement_from_environment(apps_bin, tmp_path):
    out = tmp_path / "stats.json"
    shared = run_pshare(apps_bin["mutex_counter"], [], tmp_path / "p", ("mpiexec", 2),
                        extra_opts=["--stats-json", str(out)],
                        env=base_env({"PSHARE_PLACEMENT": "home"}))
    assert shared.returncode == 0
    assert json.loads(out.read_text())["ranks"][1]["threads"] == 0


def test_mismatched_nodes_named(apps_bin, tmp_path):
    """Two different programs on two ranks (MPMD): the address spaces differ,
    and the job ends naming the first mapping that does."""
    from helpers import find_mpiexec, find_pshare_launch, run_command
    launch, mpiexec = str(find_pshare_launch()), str(find_mpiexec())
    cmd = [mpiexec, "-n", "1", launch, str(apps_bin["mutex_counter"]), ":",
           "-n", "1", launch, str(apps_bin["atomics"])]
    result = run_command(cmd, tmp_path / "run")
    assert result.returncode == 126
    lines = pshare_lines(result.stderr)
    assert any("address spaces differ" in l and "rank 1" in l and "mutex_counter" in l
               for l in lines), lines
    assert result.stdout == b""


def test_help_and_version(tmp_path):
    from helpers import find_pshare_launch, run_command
    launch = str(find_pshare_launch())
    result = run_command([launch, "--help"], tmp_path / "h")
    assert result.returncode == 0
    for option in (b"--stats", b"--stats-json", b"--placement", b"--verbose"):
        assert option in result.stdout
    result = run_command([launch, "--version"], tmp_path / "v")
    assert result.returncode == 0 and result.stdout.startswith(b"pshare ")


def test_verbose_says_what_agents_do(apps_bin, tmp_path):
    native = run_native(apps_bin["mutex_counter"], [], tmp_path / "n")
    shared = run_pshare(apps_bin["mutex_counter"], [], tmp_path / "p", ("mpiexec", 2),
                        extra_opts=["--verbose"])
    assert shared.returncode == 0 and shared.stdout == native.stdout
    said = pshare_lines(shared.stderr)
    assert any(l.startswith("pshare: rank 0: starting") for l in said)
    assert any(l.startswith("pshare: rank 1: starting") for l in said)
