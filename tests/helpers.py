"""Helpers for the native-vs-pshare comparison tests.

Everything here is plain Python (no pytest import) so it can also be used
from an interactive session or a script::

    from helpers import compile_app, run_native, run_pshare
    bins = compile_apps(Path("/tmp/bins"))
    print(run_native(bins["pi_demo"], [], "/tmp/run1"))
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, NamedTuple, Optional, Sequence, Tuple, Union

TESTS_DIR = Path(__file__).resolve().parent
APPS_DIR = TESTS_DIR / "apps"
#: Test programs kept elsewhere: the README's demo is tested as it ships.
EXTRA_SOURCES = {"pi_demo": TESTS_DIR.parent / "benchmarks" / "apps" / "pi.c"}

CC = os.environ.get("CC", "gcc")
CFLAGS = ["-O1", "-g", "-pthread"]

#: Wall-clock limit for one run (native or pshare). A hang fails the test.
RUN_TIMEOUT_S = 60.0

#: Lines the launcher itself prints on stderr start with this prefix; they
#: are dropped before comparing stderr with the native run.
PSHARE_PREFIX = b"pshare:"


# --------------------------------------------------------------------------
# The test programs
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class AppSpec:
    args: Tuple[str, ...] = ()
    expected_status: int = 0
    #: extra link flags, e.g. ("-latomic",)
    ldflags: Tuple[str, ...] = ()


#: Apps that need arguments or exit with a non-zero status. Every other
#: tests/apps/*.c runs without arguments and must exit 0.
APP_SPECS: Dict[str, AppSpec] = {
    "args_exit": AppSpec(args=("alpha", "two words", "--flag=x", ""), expected_status=42),
    "exit_worker": AppSpec(expected_status=3),
    "crash_segv": AppSpec(expected_status=128 + signal.SIGSEGV),  # 139
}


@dataclass(frozen=True)
class Case:
    """One test run: an app with its arguments and expected exit status."""
    id: str
    app: str
    args: Tuple[str, ...]
    expected_status: int


#: Runs beyond the default one-per-app (which uses APP_SPECS).
EXTRA_CASES = (
    Case("pi_demo-2threads", "pi_demo", ("2", "200000"), 0),
    Case("pi_demo-usage", "pi_demo", ("0",), 2),  # usage message on stderr names argv[0]
    # a worker's SIGPIPE without a handler kills the process, wherever the worker runs
    Case("thread_signals-die", "thread_signals", ("die",), 128 + signal.SIGPIPE),
)


def cases() -> list:
    """Every default app run plus EXTRA_CASES, in a stable order."""
    out = []
    for name in app_names():
        spec = app_spec(name)
        out.append(Case(name, name, spec.args, spec.expected_status))
        out.extend(c for c in EXTRA_CASES if c.app == name)
    return out


#: What sysnum.c does, summed over its threads (for --stats-json checks).
#: On x86_64 glibc 2.36, mkdir()/rmdir() are the mkdir/rmdir syscalls
#: (checked with strace -f -c).
SYSNUM_EXPECTED_SYSCALLS = {"getppid": 1000, "getpid": 500, "mkdir": 10, "rmdir": 10}


def app_names() -> list:
    """Names (file stem) of every tests/apps/*.c and EXTRA_SOURCES, sorted."""
    return sorted({p.stem for p in APPS_DIR.glob("*.c")} | set(EXTRA_SOURCES))


def app_source(name: str) -> Path:
    return EXTRA_SOURCES.get(name, APPS_DIR / f"{name}.c")


def app_spec(name: str) -> AppSpec:
    return APP_SPECS.get(name, AppSpec())


def compile_app(src: Path, out_dir: Path, name: Optional[str] = None) -> Path:
    """gcc -O1 -g -pthread -o OUT SRC [ldflags]; raises RuntimeError with the
    compiler output on failure."""
    src = Path(src)
    name = name or src.stem
    out = Path(out_dir) / name
    cmd = [CC, *CFLAGS, "-o", str(out), str(src), *app_spec(name).ldflags]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(
            f"compiling {src.name} failed (exit {proc.returncode}):\n$ {' '.join(cmd)}\n"
            + proc.stdout.decode(errors="replace"))
    return out


def compile_apps(out_dir: Path, names: Optional[Iterable[str]] = None) -> Dict[str, Path]:
    """Compile the given apps (default: all) in parallel; name -> binary path.
    Raises RuntimeError listing every app that failed to compile."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = list(names) if names is not None else app_names()
    if not names:
        raise RuntimeError(f"no test programs found in {APPS_DIR}")
    errors, result = [], {}

    def one(name):
        try:
            return name, compile_app(app_source(name), out_dir, name), None
        except Exception as exc:  # noqa: BLE001 - reported below
            return name, None, exc

    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        for name, path, exc in pool.map(one, names):
            if exc is not None:
                errors.append(str(exc))
            else:
                result[name] = path
    if errors:
        raise RuntimeError("\n\n".join(errors))
    return result


# --------------------------------------------------------------------------
# Finding the tools
# --------------------------------------------------------------------------

def find_executable(name: str) -> Optional[Path]:
    """`name` next to sys.executable (the venv's bin/), else on PATH."""
    cand = Path(sys.executable).parent / name
    if cand.is_file() and os.access(cand, os.X_OK):
        return cand
    found = shutil.which(name)
    return Path(found) if found else None


def find_pshare_launch() -> Optional[Path]:
    """$PSHARE_LAUNCH if set (e.g. an uninstalled build), else pshare-launch
    next to sys.executable, else on PATH."""
    override = os.environ.get("PSHARE_LAUNCH")
    if override:
        return Path(override)
    return find_executable("pshare-launch")


def find_mpiexec() -> Optional[Path]:
    return find_executable("mpiexec")


# --------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------

FileSnapshot = Dict[str, Union[bytes, str]]


class RunResult(NamedTuple):
    returncode: int   # shell convention: death by signal N -> 128 + N
    stdout: bytes
    stderr: bytes
    files: FileSnapshot  # relative path -> bytes | "DIR" | "LINK->target" | "OTHER"


class RunTimeout(AssertionError):
    """A run exceeded its time limit; its process group was killed."""


def normalize_status(returncode: int) -> int:
    """subprocess reports death by signal N as -N; map it to 128 + N, which
    is what pshare-launch (and a shell) reports."""
    return 128 - returncode if returncode < 0 else returncode


def snapshot_dir(root: Union[str, Path]) -> FileSnapshot:
    """Every entry below root: files -> their bytes, directories -> "DIR",
    symlinks -> "LINK->target" (not followed), anything else -> "OTHER"."""
    root = Path(root)
    snap: FileSnapshot = {}

    def walk(d: Path, rel: str):
        with os.scandir(d) as it:
            entries = sorted(it, key=lambda e: e.name)
        for e in entries:
            r = f"{rel}{e.name}"
            if e.is_symlink():
                snap[r] = "LINK->" + os.readlink(e.path)
            elif e.is_dir(follow_symlinks=False):
                snap[r] = "DIR"
                walk(Path(e.path), r + "/")
            elif e.is_file(follow_symlinks=False):
                try:
                    snap[r] = Path(e.path).read_bytes()
                except PermissionError:
                    snap[r] = "UNREADABLE"
            else:
                snap[r] = "OTHER"

    walk(root, "")
    return snap


def base_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    # harmless for MPICH; lets Open MPI's mpiexec run as root in containers
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    if extra:
        env.update(extra)
    return env


def _fresh_cwd(cwd) -> Path:
    if cwd is None:
        return Path(tempfile.mkdtemp(prefix="pshare-run-"))
    cwd = Path(cwd)
    cwd.mkdir(parents=True, exist_ok=True)
    if any(cwd.iterdir()):
        raise ValueError(f"run directory {cwd} is not empty")
    return cwd


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_command(cmd: Sequence[str], cwd=None, timeout: float = RUN_TIMEOUT_S,
                env: Optional[Dict[str, str]] = None) -> RunResult:
    """Run cmd in a fresh empty directory (created if cwd is None; must be
    empty otherwise) with stdin=/dev/null, in its own session. On timeout
    the whole process group is SIGKILLed and RunTimeout is raised with the
    partial output."""
    cwd = _fresh_cwd(cwd)
    cmd = [str(c) for c in cmd]
    proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env if env is not None else base_env(),
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # a straggler outside the group holds the pipes
            proc.kill()
            proc.wait()
            out, err = b"", b""
        raise RunTimeout(
            f"timed out after {timeout:.0f} s (process group killed): {cmd}\n"
            f"--- stdout (tail) ---\n{out[-4000:].decode(errors='replace')}\n"
            f"--- stderr (tail) ---\n{err[-4000:].decode(errors='replace')}") from None
    finally:
        # leave nothing behind from this run's process group
        _kill_group(proc.pid)
    return RunResult(normalize_status(proc.returncode), out, err, snapshot_dir(cwd))


def run_native(binary, args: Sequence[str] = (), cwd=None,
               timeout: float = RUN_TIMEOUT_S, env=None) -> RunResult:
    """BINARY ARGS... run directly."""
    return run_command([binary, *args], cwd=cwd, timeout=timeout, env=env)


Mode = Union[str, Tuple[str, int]]
MODES = ("singleton", "mpiexec1")


def pshare_command(binary, args: Sequence[str] = (), mode: Mode = "singleton",
                   extra_opts: Sequence[str] = (), launcher=None, mpiexec=None) -> list:
    """The command line for one pshare run.

    mode: "singleton"       -> pshare-launch [opts] BIN ARGS
          "mpiexec1"        -> mpiexec -n 1 pshare-launch [opts] BIN ARGS
          ("mpiexec", n)    -> mpiexec -n n pshare-launch [opts] BIN ARGS
    """
    launcher = launcher or find_pshare_launch()
    if launcher is None:
        raise FileNotFoundError("pshare-launch not found (next to sys.executable or on PATH)")
    inner = [str(launcher), *extra_opts, str(binary), *args]
    if mode == "singleton":
        return inner
    if mode == "mpiexec1":
        mode = ("mpiexec", 1)
    if isinstance(mode, tuple) and len(mode) == 2 and mode[0] == "mpiexec":
        n = int(mode[1])
        mpiexec = mpiexec or find_mpiexec()
        if mpiexec is None:
            raise FileNotFoundError("mpiexec not found (next to sys.executable or on PATH)")
        return [str(mpiexec), "-n", str(n), *inner]
    raise ValueError(f"unknown pshare mode {mode!r}")


def run_pshare(binary, args: Sequence[str] = (), cwd=None, mode: Mode = "singleton",
               extra_opts: Sequence[str] = (), timeout: float = RUN_TIMEOUT_S,
               env=None, launcher=None, mpiexec=None) -> RunResult:
    """Run BINARY ARGS under pshare-launch in the given mode (see
    pshare_command). Same return value and timeout handling as run_native."""
    return run_command(pshare_command(binary, args, mode, extra_opts, launcher, mpiexec), cwd=cwd,
                       timeout=timeout, env=env)


def mode_id(mode: Mode) -> str:
    return mode if isinstance(mode, str) else f"{mode[0]}{mode[1]}"


# --------------------------------------------------------------------------
# Comparing
# --------------------------------------------------------------------------

def strip_pshare_lines(stderr: bytes) -> bytes:
    """stderr without the launcher's own lines (those starting 'pshare:')."""
    lines = stderr.splitlines(keepends=True)
    return b"".join(l for l in lines if not l.startswith(PSHARE_PREFIX))


def pshare_lines(stderr: bytes) -> list:
    return [l.decode(errors="replace") for l in stderr.splitlines()
            if l.startswith(PSHARE_PREFIX)]


_ADDR_0x10 = re.compile(r"0x0*10(?![0-9a-fA-F])")


def is_segv_report(line: str, addr_re=_ADDR_0x10) -> bool:
    """A 'pshare:' line naming SIGSEGV, a thread, and the faulting address."""
    return (line.startswith("pshare:") and "SIGSEGV" in line
            and "thread" in line.lower() and addr_re.search(line) is not None)


def describe_files_diff(a: FileSnapshot, b: FileSnapshot, a_name="native",
                        b_name="pshare") -> str:
    """Readable summary of how two snapshots differ ('' if equal)."""
    msgs = []
    for k in sorted(set(a) | set(b)):
        if k not in b:
            msgs.append(f"only in {a_name}: {k}")
        elif k not in a:
            msgs.append(f"only in {b_name}: {k}")
        elif a[k] != b[k]:
            def show(v):
                if isinstance(v, bytes):
                    return f"{len(v)} bytes {v[:120]!r}"
                return v
            msgs.append(f"differs: {k}\n  {a_name}: {show(a[k])}\n  {b_name}: {show(b[k])}")
    return "\n".join(msgs)


# --------------------------------------------------------------------------
# Regression suites: a directory of programs, each compared with native
# --------------------------------------------------------------------------

def compile_dir(src_dir: Path, out_dir: Path) -> Dict[str, Path]:
    """Every *.c in src_dir compiled into out_dir; stem -> binary."""
    return {p.stem: compile_app(p, out_dir) for p in sorted(Path(src_dir).glob("*.c"))}


def same_as_native(binary, tmp_path, nranks, args: Sequence[str] = (),
                   extra_opts: Sequence[str] = (), timeout: float = 120, env=None) -> RunResult:
    """BINARY ARGS natively (must exit 0) and under `mpiexec -n NRANKS
    pshare-launch`: status, stdout, stderr without pshare's lines and files
    must be the same.  Returns the pshare run."""
    native = run_native(binary, args, Path(tmp_path) / "native", env=env)
    assert native.returncode == 0, native.stdout.decode(errors="replace")
    got = run_pshare(binary, args, Path(tmp_path) / f"pshare{nranks}", ("mpiexec", nranks),
                     extra_opts=extra_opts, timeout=timeout, env=env)
    err = got.stderr.decode(errors="replace")[-3000:]
    assert got.returncode == native.returncode, f"exit {got.returncode}\n{err}"
    assert got.stdout == native.stdout, (
        f"stdout differs\nnative:\n{native.stdout.decode()[-3000:]}\n"
        f"pshare:\n{got.stdout.decode(errors='replace')[-3000:]}\n{err}")
    assert strip_pshare_lines(got.stderr) == strip_pshare_lines(native.stderr), err
    assert got.files == native.files, describe_files_diff(native.files, got.files)
    return got
