"""Running the benchmark programs natively and under pshare, and reading back
what they measured.

The three configurations of the paper's Table 1:
  A  native:  PROGRAM ARGS
  B  pshare, the measuring thread on home:  pshare-launch PROGRAM ARGS
  C  pshare, the measuring thread on rank 1, its system calls forwarded to home:
     mpiexec -n 2 pshare-launch --placement 1 PROGRAM ARGS
Every pshare run writes --stats-json, which says where threads really ran and
how many calls were forwarded: C is only reported when that proves it was C.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from rich.markup import escape

from .report import stderr_console

PACKAGE_DIR = Path(__file__).resolve().parent
#: Where meson installs the C programs; PSHARE_BENCH_BIN overrides it (a build dir).
BIN_DIR = Path(os.environ.get("PSHARE_BENCH_BIN") or PACKAGE_DIR / "bin")

MODES = {
    "A": "native",
    "B": "pshare, thread on home",
    "C": "pshare, thread on rank 1 (mpiexec -n 2 pshare-launch --placement 1)",
}


class BenchError(RuntimeError):
    """A run that the benchmark cannot do without (a native or B run) failed."""


def find_tool(name: str) -> Optional[Path]:
    """NAME next to sys.executable (the venv's bin/) first, then on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which(name)
    return Path(found) if found else None


def program(name: str) -> Path:
    path = BIN_DIR / name
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise BenchError(f"benchmark program {path} is missing: install pshare "
                         "(pip install .) or set PSHARE_BENCH_BIN to a build directory")
    return path


@dataclass
class RunOutput:
    command: List[str]
    returncode: int
    stdout: str
    stderr: str
    wall_s: float
    stats: Optional[dict] = None      # the --stats-json report, pshare runs only
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def failure(self) -> str:
        """One line saying why the run failed, for tables and JSON."""
        if self.timed_out:
            return f"timed out after {self.wall_s:.0f} s"
        lines = [l for l in self.stderr.strip().splitlines() if l.strip()]
        tail = lines[-1] if lines else "no message"
        if self.returncode == -1:
            return tail[:160]
        return f"exit {self.returncode}: {tail[:160]}"


@dataclass
class Runner:
    """Builds and runs commands; one per benchmark invocation."""
    nolocal: bool = False
    timeout: float = 300.0
    #: > 0: every run pinned as simulated nodes of this many cores (pin.py):
    #: each rank to its own cores, a native or one-rank run to rank 0's
    pin_cores: int = 0
    #: pshare-launch --hold-us for every pshare run (None: the launcher's default)
    hold_us: Optional[float] = None
    launch: Optional[Path] = field(default_factory=lambda: find_tool("pshare-launch"))
    mpiexec: Optional[Path] = field(default_factory=lambda: find_tool("mpiexec"))

    def env(self, mpi: bool) -> Dict[str, str]:
        env = dict(os.environ, LC_ALL="C")
        # harmless for MPICH; lets Open MPI's mpiexec run as root in containers
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        if mpi and self.nolocal:
            # MPICH: take the network path even between ranks on one host
            env["MPIR_CVAR_NOLOCAL"] = "1"
        return env

    def need(self, tool: str) -> Path:
        path = self.launch if tool == "pshare-launch" else self.mpiexec
        if path is None:
            raise BenchError(f"{tool} not found next to {sys.executable} or on PATH")
        return path

    def pin_wrapper(self, rank: Optional[int] = None) -> List[str]:
        """The pin.py prefix (ending in '--') for a run under pin_cores, else [].
        rank None: each rank takes its own from mpiexec's variables."""
        if self.pin_cores <= 0:
            return []
        from . import pin
        return [*pin.command(pin.machine_cpus(), self.pin_cores, rank=rank), "--"]

    def pshare_command(self, argv: Sequence[str], ranks: int = 1,
                       placement: Optional[str] = None,
                       stats_json: Optional[Path] = None,
                       wrapper: Sequence[str] = ()) -> List[str]:
        """[mpiexec -n RANKS] [WRAPPER...] pshare-launch [options] ARGV: the
        wrapper (e.g. pshare_bench.pin) runs on every rank and execs the launcher."""
        inner = [*map(str, wrapper), str(self.need("pshare-launch"))]
        if stats_json is not None:
            inner += ["--stats-json", str(stats_json)]
        if placement is not None:
            inner += ["--placement", placement]
        if self.hold_us is not None:
            inner += ["--hold-us", f"{self.hold_us:g}"]
        inner += [str(a) for a in argv]
        if ranks == 1:
            return inner   # an MPI singleton: no mpiexec start-up in B
        return [str(self.need("mpiexec")), "-n", str(ranks), *inner]

    def run(self, command: Sequence[str], mpi: bool = False, cwd=None,
            extra_env: Optional[Dict[str, str]] = None) -> RunOutput:
        """Run in its own session (so a timeout kills every rank), stdin closed."""
        command = [str(c) for c in command]
        env = self.env(mpi)
        env.update(extra_env or {})
        t0 = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, errors="replace", start_new_session=True)
        timed_out = False
        try:
            out, err = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc.pid)
            try:
                out, err = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:   # a straggler outside the group holds the pipes
                proc.kill()
                out, err = "", ""
        finally:
            _kill_group(proc.pid)   # leave no rank behind
        rc = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
        return RunOutput(command, rc, out, err, time.perf_counter() - t0, timed_out=timed_out)

    def run_native(self, argv: Sequence[str], cwd=None) -> RunOutput:
        return self.run([*self.pin_wrapper(rank=0), *argv], cwd=cwd)

    def run_pshare(self, argv: Sequence[str], ranks: int = 1, placement: Optional[str] = None,
                   cwd=None, wrapper: Sequence[str] = ()) -> RunOutput:
        """Run under pshare with --stats-json; the report is in .stats."""
        wrapper = wrapper or self.pin_wrapper(rank=0 if ranks == 1 else None)
        with tempfile.TemporaryDirectory(prefix="pshare-bench-stats-") as tmp:
            stats_path = Path(tmp) / "stats.json"
            out = self.run(self.pshare_command(argv, ranks, placement, stats_path, wrapper),
                           mpi=ranks > 1, cwd=cwd)
            try:
                out.stats = json.loads(stats_path.read_text())
            except (OSError, ValueError):
                out.stats = None
        return out

    def run_mode(self, mode: str, argv: Sequence[str], cwd=None) -> RunOutput:
        """One of the paper's configurations A, B, C (see the module doc)."""
        if mode == "A":
            return self.run_native(argv, cwd)
        if mode == "B":
            return self.run_pshare(argv, ranks=1, cwd=cwd)
        if mode == "C":
            return self.run_pshare(argv, ranks=2, placement="1", cwd=cwd)
        raise ValueError(mode)


def add_cores_per_rank(parser) -> None:
    """--cores-per-rank C, for a subcommand whose runs go through Runner."""
    parser.add_argument("--cores-per-rank", type=int, default=0, metavar="C",
                        help="pin every run as simulated nodes of C cores (pshare_bench.pin): "
                             "each rank to its own C cores, as `scale` does, and native and "
                             "one-rank runs to rank 0's; 0 (default): no pinning")


def use_cores_per_rank(args, runner: "Runner") -> None:
    if args.cores_per_rank < 0:
        raise ValueError("--cores-per-rank must be 0 (no pinning) or more")
    runner.pin_cores = args.cores_per_rank


def not_spread(stats, ranks: int, fault_kinds, fault_name: str):
    """None if each of ranks 1..ranks-1 of a --stats-json report ran a
    thread and took faults of those kinds; else why not, in a few words."""
    if not stats:
        return "no --stats-json report"
    per = stats.get("ranks") or []
    if len(per) < ranks:
        return f"{len(per)} ranks, not {ranks}"
    for r in range(1, ranks):
        if per[r].get("threads", 0) <= 0:
            return f"no thread ran on rank {r}"
        if sum(per[r].get(k, 0) for k in fault_kinds) <= 0:
            return f"no {fault_name} on rank {r}"
    return None


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def require_ok(out: RunOutput, what: str) -> RunOutput:
    """A and B runs must succeed: nothing can be compared without them."""
    if not out.ok:
        raise BenchError(f"{what} failed ({out.failure()}):\n$ {' '.join(out.command)}\n"
                         f"{out.stderr[-2000:]}")
    return out


# ----------------------------------------------------------------- was it really C?

def check_distributed(stats: Optional[dict], kind: str = "syscalls") -> Optional[str]:
    """None if the run really put a thread on rank 1 and (kind="syscalls")
    forwarded system calls or (kind="faults") moved pages; else why not."""
    if not stats:
        return "no --stats-json report"
    ranks = stats.get("ranks") or []
    if len(ranks) < 2:
        return "only one rank"
    home, r1 = ranks[0], ranks[1]
    if r1.get("threads", 0) <= 0:
        return "no thread ran on rank 1"
    if kind == "syscalls":
        if home.get("syscalls_forwarded", 0) + r1.get("syscalls_forwarded", 0) <= 0:
            return "no system call was forwarded"
    elif kind == "faults":
        if sum(r1.get(k, 0) for k in ("faults_read", "faults_write", "faults_upgrade")) <= 0:
            return "no page fault on rank 1"
    return None


def stats_summary(stats: Optional[dict]) -> Optional[List[dict]]:
    """The per-rank counters that say where things ran (for the JSON)."""
    if not stats:
        return None
    keys = ("rank", "threads", "syscalls_local", "syscalls_forwarded", "faults_read",
            "faults_write", "faults_upgrade", "pages_in", "pages_out", "invalidations",
            "fault_latency", "forward_latency",   # these two: pshare's own clock, if it has one
            "cpu_app_s", "cpu_agent_s", "cpu_agent_spin_s")
    return [{k: r[k] for k in keys if k in r} for r in stats.get("ranks", [])]


def threads_per_rank(stats: Optional[dict]) -> str:
    if not stats:
        return "?"
    return "/".join(str(r.get("threads", 0)) for r in stats.get("ranks", []))


# ----------------------------------------------------------------- the programs' output

def parse_output(stdout: str):
    """"ns NAME v..." lines -> {NAME: [ns...]}; other "KEY VALUE" lines -> {KEY: VALUE}."""
    samples: Dict[str, List[int]] = {}
    values: Dict[str, str] = {}
    for line in stdout.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "ns":
            samples[words[1]] = [int(w) for w in words[2:]]
        elif len(words) >= 2:
            values[words[0]] = " ".join(words[1:])
    return samples, values


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        raise ValueError("no samples")
    pos = (len(sorted_values) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def summarize(ns: Sequence[int]) -> dict:
    """Per-call nanoseconds -> median, p10, p90, mean, min in µs."""
    s = sorted(ns)
    us = lambda v: round(v / 1000.0, 4)  # noqa: E731
    return {"n": len(s), "median_us": us(percentile(s, 0.5)), "p10_us": us(percentile(s, 0.1)),
            "p90_us": us(percentile(s, 0.9)), "mean_us": us(sum(s) / len(s)), "min_us": us(s[0])}


def least_squares(xs: Sequence[float], ys: Sequence[float]):
    """Slope and intercept of the best straight line through (xs, ys)."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return 0.0, my
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return slope, my - slope * mx


# ----------------------------------------------------------------- A, B and C in one go

@dataclass
class ModeResult:
    mode: str
    out: RunOutput
    status: str = "ok"                 # "ok" or "n/a"
    reason: Optional[str] = None       # why n/a
    samples: Dict[str, List[int]] = field(default_factory=dict)
    values: Dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def info(self) -> dict:
        """What the JSON says about this configuration."""
        return {"label": MODES[self.mode], "status": self.status, "reason": self.reason,
                "command": self.out.command, "wall_s": round(self.out.wall_s, 3),
                "ranks": stats_summary(self.out.stats)}


def run_abc(runner: Runner, argv_for, steps, expect: Sequence[str], kind: str = "syscalls",
            modes: str = "ABC") -> Dict[str, ModeResult]:
    """Run the program as A, B and C.  A and B must work and print every
    sample line named in `expect`; C is kept only if the stats prove a thread
    ran on rank 1 and (kind) its calls were forwarded or its pages faulted,
    else it is n/a with the reason."""
    results = {}
    for mode in modes:
        steps.start(f"{mode}: {MODES[mode]}")
        out = runner.run_mode(mode, argv_for(mode))
        res = ModeResult(mode, out)
        if out.ok:
            try:
                res.samples, res.values = parse_output(out.stdout)
                missing = [n for n in expect if not res.samples.get(n)]
            except ValueError as e:
                missing = [f"parsable output ({e})"]
            if missing:
                # the program ran but its output is not whole: wrong, not absent
                out.returncode, out.stderr = -1, out.stderr + f"\noutput lacks {', '.join(missing)}"
        if not out.ok:
            # a crash, a hang or broken output is a bug to see, not a missing feature
            if mode in "AB":
                require_ok(out, f"{mode} ({MODES[mode]})")
            res.status, res.reason = "n/a", f"failed: {out.failure()}"
            stderr_console().print(f"[bold red]{mode} ({MODES[mode]}) FAILED:[/] " + escape(
                f"{out.failure()}\n$ {' '.join(out.command)}\n{out.stderr[-1500:]}"),
                highlight=False)
        elif mode == "C":
            why = check_distributed(out.stats, kind)
            if why is not None:
                res.status = "n/a"
                res.reason = ("not forwarded" if kind == "syscalls" else "not distributed") \
                    + f": {why}"
        if not res.ok:
            res.samples, res.values = {}, {}
        results[mode] = res
        steps.done()
    return results


def exit_status(modes: Dict[str, ModeResult]) -> int:
    """1 if a configuration failed (crashed, hung), else 0; "not forwarded" is no failure."""
    return 1 if any(r.reason and r.reason.startswith("failed") for r in modes.values()) else 0


def na_label(reason: Optional[str]) -> str:
    """The table cell for a configuration that gave no numbers: "n/a (not forwarded)"."""
    short = reason.split(":", 1)[0] if reason else "no result"
    return f"n/a ({short})"
