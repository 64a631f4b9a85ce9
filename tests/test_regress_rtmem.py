"""Regression tests for issue 7: files mapped after start-up must exist on
every rank (and a replay that fails anywhere ends the job with one line),
the process sees one machine (home's), and /proc/PID/cmdline shows argv.

The programs are in tests/regress_rtmem/ (they take arguments or need set-up,
so tests/test_apps.py does not run them).  Each run is compared with the
native run: exit status, stdout, stderr without the 'pshare:' lines."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import (CC, base_env, compile_app, find_mpiexec, find_pshare_launch, pshare_lines,
                     run_command, run_native, run_pshare, strip_pshare_lines)

SRC_DIR = Path(__file__).resolve().parent / "regress_rtmem"
RANKS = (2, 4)
RANK_IDS = [f"mpiexec{n}" for n in RANKS]

pytestmark = pytest.mark.pshare


@pytest.fixture(scope="module")
def bins(tmp_path_factory):
    out = tmp_path_factory.mktemp("regress_rtmem")
    return {src.stem: compile_app(src, out) for src in sorted(SRC_DIR.glob("*.c"))}


@pytest.fixture(scope="module")
def libs(tmp_path_factory):
    """Two shared libraries: one at a long path, one at a much shorter one."""
    root = tmp_path_factory.mktemp("libs")
    long_dir = root / ("d" * 100) / ("e" * 100)
    long_dir.mkdir(parents=True)
    made = {}
    for name, path, body in (
            ("long", long_dir / "liblong_path_library.so", "int long_fn(int x) { return 3 * x + 1; }"),
            ("short", root / "s.so", "int short_fn(int x) { return 7 * x + 2; }")):
        src = path.with_suffix(".c")
        src.write_text(body + "\n")
        subprocess.run([CC, "-shared", "-fPIC", "-O1", "-o", str(path), str(src)], check=True,
                       stdin=subprocess.DEVNULL, timeout=120)
        made[name] = path
    assert len(str(made["short"])) < len(str(made["long"])) - 100
    return made


def assert_same(native, got, what):
    err = got.stderr.decode(errors="replace")[-3000:]
    assert got.returncode == native.returncode, f"{what}: exit status {got.returncode}, " \
        f"native {native.returncode}\nstderr:\n{err}"
    assert got.stdout == native.stdout, f"{what}: stdout differs\nnative:\n" \
        f"{native.stdout.decode(errors='replace')}\npshare:\n{got.stdout.decode(errors='replace')}" \
        f"\nstderr:\n{err}"
    assert strip_pshare_lines(got.stderr) == strip_pshare_lines(native.stderr), \
        f"{what}: stderr differs\n{err}"


def compare(binary, args, tmp_path, nranks, env=None):
    native = run_native(binary, args, tmp_path / "native", env=env)
    got = run_pshare(binary, args, tmp_path / "pshare", ("mpiexec", nranks), env=env)
    assert_same(native, got, f"{Path(binary).name} at {nranks} ranks")
    return native


# ---- 1. files mapped after start-up ----

@pytest.mark.parametrize("nranks", RANKS, ids=RANK_IDS)
def test_dlopen_long_path_then_short_path(bins, libs, tmp_path, request, nranks):
    """The second library's path reached the other ranks without its NUL,
    over the longer first one: its code was missing there (SIGSEGV)."""
    request.getfixturevalue("mpiexec")
    native = compare(bins["dlopen_paths"], [libs["long"], libs["short"]], tmp_path, nranks)
    assert native.returncode == 0 and b"worker 3: long 10 short 23" in native.stdout


@pytest.mark.parametrize("nranks", RANKS, ids=RANK_IDS)
def test_setlocale_in_main_dates_in_workers(bins, tmp_path, request, nranks):
    request.getfixturevalue("mpiexec")
    probe = run_native(bins["locale_worker"], ["C.UTF-8"], tmp_path / "probe")
    if probe.returncode == 2:
        pytest.skip("no C.UTF-8 locale on this system")
    compare(bins["locale_worker"], ["C.UTF-8"], tmp_path, nranks)


PY_HASHLIB = """
import hashlib, threading
out = {}
def work(i):
    out[i] = (hashlib.sha256(b"%d" % i * 1000).hexdigest(), hashlib.md5(b"x%d" % i).hexdigest(),
              hashlib.blake2b(b"y%d" % i).hexdigest()[:16])
ts = [threading.Thread(target=work, args=(i,)) for i in range(6)]
for t in ts: t.start()
for t in ts: t.join()
for i in sorted(out): print(i, *out[i])
"""


@pytest.mark.parametrize("nranks", RANKS, ids=RANK_IDS)
def test_python_threads_using_hashlib(tmp_path, request, nranks):
    """Python loads its hashlib modules (OpenSSL) after start-up."""
    request.getfixturevalue("mpiexec")
    python = Path(sys.executable).resolve()     # the ELF, not a venv link or a shim script
    with open(python, "rb") as f:
        if f.read(4) != b"\x7fELF":
            pytest.skip(f"{python} is not an ELF program")
    compare(python, ["-I", "-S", "-c", PY_HASHLIB], tmp_path, nranks)


JAVA_THREADS = """
import java.util.concurrent.atomic.AtomicLong;
public class Threads {
    public static void main(String[] args) throws Exception {
        long[] part = new long[4];
        AtomicLong shared = new AtomicLong();
        Thread[] t = new Thread[4];
        for (int i = 0; i < 4; i++) {
            final int k = i;
            t[i] = new Thread(() -> {
                long s = 0;
                for (int j = 0; j < 3000000; j++) s += (j ^ k) % 7;
                part[k] = s;
                for (int j = 0; j < 1000; j++) shared.addAndGet(k + 1);
            });
            t[i].start();
        }
        long total = 0;
        for (int i = 0; i < 4; i++) { t[i].join(); total += part[i]; }
        System.out.println("total " + total + " shared " + shared.get());
    }
}
"""


@pytest.fixture(scope="module")
def java_threads(tmp_path_factory):
    """A Java program with 4 threads, compiled; skipped without a JDK."""
    javac, java = shutil.which("javac"), shutil.which("java")
    if not javac or not java:
        pytest.skip("no JDK (javac, java) on PATH")
    out = tmp_path_factory.mktemp("java")
    (out / "Threads.java").write_text(JAVA_THREADS)
    subprocess.run([javac, "-d", str(out), str(out / "Threads.java")], check=True,
                   stdin=subprocess.DEVNULL, timeout=300)
    return Path(java).resolve(), out


@pytest.mark.parametrize("nranks", RANKS, ids=RANK_IDS)
def test_a_jvm_spreads_its_threads(java_threads, tmp_path, request, nranks):
    """An unchanged JVM runs as one process over the ranks.  It writes its
    performance counters through a MAP_SHARED file mapping
    (/tmp/hsperfdata_USER/PID) from threads on every rank: a thread on
    another rank crashed writing it (SIGSEGV: the mapping was read-only
    there)."""
    import json
    request.getfixturevalue("mpiexec")
    java, classes = java_threads
    args = ["-Xmx256m", "-XX:+UsePerfData", "-cp", str(classes), "Threads"]
    native = run_native(java, args, tmp_path / "native")
    assert native.returncode == 0 and b"shared 10000" in native.stdout, native.stderr
    stats = tmp_path / "stats.json"
    got = run_pshare(java, args, tmp_path / "pshare", ("mpiexec", nranks),
                     extra_opts=["--stats-json", str(stats)])
    assert_same(native, got, f"java at {nranks} ranks")
    ranks = json.loads(stats.read_text())["ranks"]
    assert all(r["threads"] > 0 for r in ranks), [r["threads"] for r in ranks]
    assert ranks[1]["faults_write"] > 0 and ranks[1]["syscalls_forwarded"] > 0


@pytest.mark.parametrize("nranks", RANKS, ids=RANK_IDS)
def test_replay_failure_ends_the_job(bins, tmp_path, request, nranks):
    """A file mapped on home that no longer exists (removed after open):
    no other rank can map it.  The job must end at once with one line naming
    the rank, the call and the error, not run on with a hole in the address
    space of the other ranks."""
    request.getfixturevalue("mpiexec")
    native = run_native(bins["mmap_unlinked"], [], tmp_path / "native")
    assert native.returncode == 0 and native.stdout
    got = run_pshare(bins["mmap_unlinked"], [], tmp_path / "pshare", ("mpiexec", nranks))
    lines = pshare_lines(got.stderr)
    assert got.returncode == 126, got.stderr.decode(errors="replace")
    assert len(lines) == 1, lines
    assert lines[0].startswith("pshare: rank 1: mmap of ") and "mapped.dat" in lines[0], lines
    assert "ENOENT" in lines[0], lines
    assert got.stdout == b""          # the worker never ran with the mapping missing
    assert strip_pshare_lines(got.stderr) == b""


# ---- 2. one system ----

@pytest.mark.parametrize("nranks", RANKS, ids=RANK_IDS)
def test_one_system(bins, tmp_path, request, nranks):
    request.getfixturevalue("mpiexec")
    native = compare(bins["one_system"], [], tmp_path, nranks)
    assert b"NO" not in native.stdout


def _namespaces_work():
    try:
        return subprocess.run(["unshare", "--uts", "--time", "--boottime", "1000000", "true"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.parametrize("nranks", RANKS, ids=RANK_IDS)
def test_one_system_when_other_ranks_are_other_hosts(bins, tmp_path, request, nranks):
    """Every rank but home runs in its own UTS and time namespace (another host
    name, an uptime 1 000 000 s longer): the threads there must still see
    home's, so the calls were really answered by home."""
    request.getfixturevalue("mpiexec")
    if not _namespaces_work():
        pytest.skip("unshare --uts --time is not permitted here")
    launch, mpiexec = find_pshare_launch(), find_mpiexec()
    binary = bins["one_system"]
    native = run_native(binary, [], tmp_path / "native")
    other = ["unshare", "--uts", "--time", "--boottime", "1000000", "sh", "-c",
             'hostname pshare-elsewhere && exec "$0" "$@"']
    cmd = [mpiexec, "-n", "1", launch, binary, ":", "-n", str(nranks - 1), *other, launch, binary]
    got = run_command(cmd, tmp_path / "pshare")
    assert_same(native, got, f"one_system, ranks 1-{nranks - 1} in other namespaces")
    assert b"pshare-elsewhere" not in got.stdout


MODES = [("singleton", "singleton"), ("mpiexec1", ("mpiexec", 1))] + \
        [(f"mpiexec{n}", ("mpiexec", n)) for n in RANKS]


@pytest.mark.parametrize("mode", [m for _, m in MODES], ids=[i for i, _ in MODES])
def test_proc_self_cmdline(bins, tmp_path, request, mode):
    """The stack holding argv moves into the page store, a shared mapping,
    which the kernel does not read for /proc/PID/cmdline: it was empty."""
    if mode != "singleton":
        request.getfixturevalue("mpiexec")
    args = ["alpha", "two words", "", "--flag=x"]
    native = run_native(bins["cmdline_show"], args, tmp_path / "native")
    got = run_pshare(bins["cmdline_show"], args, tmp_path / "pshare", mode)
    assert_same(native, got, f"cmdline_show {mode}")
    assert b"alpha|two words||--flag=x|" in native.stdout


def test_pgrep_finds_the_running_program(bins, tmp_path, request):
    request.getfixturevalue("mpiexec")
    pgrep = shutil.which("pgrep")
    if pgrep is None:
        pytest.skip("no pgrep")
    binary = bins["cmdline_show"]
    marker = f"pshare-marker-{os.getpid()}-{time.monotonic_ns()}"
    cwd = tmp_path / "run"
    cwd.mkdir()
    cmd = [find_mpiexec(), "-n", "2", find_pshare_launch(), binary, "--wait", marker]
    proc = subprocess.Popen([str(c) for c in cmd], cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=base_env(),
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not (cwd / "pid").exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the program never wrote its pid"
            time.sleep(0.05)
        app_pid = int((cwd / "pid").read_text())
        # anchored at the program's path: the launcher's command line, which
        # also holds the marker, starts with the Python interpreter
        found = subprocess.run([pgrep, "-f", f"^{binary} --wait {marker}$"],
                               stdout=subprocess.PIPE, timeout=30).stdout.split()
        assert str(app_pid).encode() in found, (app_pid, found)
        with open(f"/proc/{app_pid}/cmdline", "rb") as f:
            assert f.read() == f"{binary}\0--wait\0{marker}\0".encode()
        (cwd / "go").touch()
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode(errors="replace")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait()
