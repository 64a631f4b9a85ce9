"""pshare-bench apps: bundled compute programs run natively and under pshare
at 1..N ranks, reporting time, speed-up over native, where the threads ran,
and whether the checksum each program prints equals the native one."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import Callable, List

from rich.table import Table

from . import report
from .report import safe_ratio
from .runner import BenchError, program, require_ok, threads_per_rank


@dataclass(frozen=True)
class App:
    name: str
    what: str
    args: Callable[[int, float], List[int]]   # (threads, scale) -> argv after the program


# Sizes at --scale 1 take a few tenths of a second natively on one core here:
# long enough to dwarf start-up, short enough for a 2-core machine.
APPS = (
    App("pi", "Monte Carlo π (pi.c), threads share nothing",
        lambda t, s: [t, max(1, int(20_000_000 * s) // t)]),
    App("matmul", "dense matrix product, rows dealt round-robin",
        lambda t, s: [t, max(8, round(1000 * s ** (1 / 3)))]),
    App("stencil", "Jacobi sweeps on a grid, a pthread_barrier per sweep",
        lambda t, s: [t, 1024, max(2, round(500 * s))]),
    App("counter", "one contended pthread mutex around a shared counter",
        lambda t, s: [t, max(10, int(10_000_000 * s) // t)]),
)
LU_BLOCK = 32
#: Sharing-heavy kernels of the kind parallel suites (SPLASH-2) have; `scale`
#: runs them by default, `apps` when named in --apps.
KERNELS = (
    App("radix", "radix sort, 4 passes: per-thread histograms, prefix sum, scatter everywhere",
        lambda t, s: [t, max(1000, int(10_000_000 * s))]),
    App("nbody", "all-pairs n-body: all read every position, each moves its own bodies",
        lambda t, s: [t, max(16, round(2048 * s ** 0.5)), 20]),
    App("lu", f"blocked LU ({LU_BLOCK}×{LU_BLOCK} blocks, 2D-cyclic): panels broadcast each step",
        lambda t, s: [t, LU_BLOCK * max(1, round(1280 * s ** (1 / 3) / LU_BLOCK)), LU_BLOCK]),
)
APPS_BY_NAME = {a.name: a for a in APPS + KERNELS}
DEFAULT_APPS = ",".join(a.name for a in APPS)


def int_list(text):
    values = [int(x) for x in text.split(",") if x.strip()]
    if not values or min(values) < 1:
        raise ValueError(f"'{text}' is not a comma-separated list of positive integers")
    return values


def app_names(text):
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in APPS_BY_NAME]
    if unknown or not names:
        raise ValueError(f"unknown app(s) {unknown}; choose from {', '.join(APPS_BY_NAME)}")
    return names


def add_parser(sub, common):
    p = sub.add_parser("apps", parents=[common], help="compute programs: speed-up and checksums",
                       description=__doc__)
    p.add_argument("--ranks", default="1,2", help="pshare rank counts, e.g. 1,2,4 (default 1,2)")
    p.add_argument("--threads", default="2", help="app thread counts, e.g. 1,2,4 (default 2)")
    p.add_argument("--apps", default=DEFAULT_APPS,
                   help=f"which programs (default {DEFAULT_APPS}; also "
                        f"{','.join(a.name for a in KERNELS)})")
    p.add_argument("--scale", type=float, default=1.0, help="problem size factor (default 1)")
    p.add_argument("--repeat", type=int, default=1, help="runs of each, best time kept (default 1)")
    p.set_defaults(run=run, render=render)


def run(args, runner):
    ranks, threads = int_list(args.ranks), int_list(args.threads)
    names = app_names(args.apps)
    if args.scale <= 0 or args.repeat < 1:
        raise ValueError("--scale must be positive and --repeat at least 1")
    runs = len(names) * len(threads) * (1 + len(ranks)) * args.repeat
    rows = []
    with report.progress(runs, "apps") as steps, tempfile.TemporaryDirectory(
            prefix="pshare-bench-apps-") as cwd:
        for name in names:
            app = APPS_BY_NAME[name]
            for t in threads:
                argv = [program(app.name), *app.args(t, args.scale)]
                native = _best(runner, argv, None, args.repeat, steps, f"{name} ×{t} native", cwd)
                native["speedup"] = 1.0
                rows.append({"app": name, "threads": t, "config": "native", "ranks": None, **native})
                for r in ranks:
                    res = _best(runner, argv, r, args.repeat, steps, f"{name} ×{t} pshare {r} rank(s)", cwd)
                    res["checksum_ok"] = res["checksum"] == native["checksum"] if res["ok"] else None
                    res["speedup"] = safe_ratio(native["compute_s"], res.get("compute_s"))
                    rows.append({"app": name, "threads": t, "config": f"pshare {r}", "ranks": r, **res})
    mismatches = [r for r in rows if r.get("checksum_ok") is False]
    failures = [r for r in rows if not r["ok"]]
    params = {"ranks": ranks, "threads": threads, "apps": names, "scale": args.scale,
              "repeat": args.repeat, "nolocal": runner.nolocal}
    results = {"apps": {n: APPS_BY_NAME[n].what for n in names}, "runs": rows,
               "mismatches": len(mismatches), "failures": len(failures)}
    if mismatches or failures:
        err = report.stderr_console()
        for r in mismatches:
            err.print(f"[bold red]CHECKSUM MISMATCH[/] {r['app']} ×{r['threads']} {r['config']}: "
                      f"{r['checksum']!r}, native gave {_native_checksum(rows, r)!r}")
        for r in failures:
            err.print(f"[bold red]FAILED[/] {r['app']} ×{r['threads']} {r['config']}: {r['error']}")
    return report.document("apps", params, results), 1 if (mismatches or failures) else 0


def _best(runner, argv, ranks, repeat, steps, label, cwd):
    """Run `repeat` times (natively if ranks is None); keep the fastest, and
    insist every repeat printed the same checksum."""
    best, checksums = None, set()
    for _ in range(repeat):
        steps.start(label)
        if ranks is None:
            out = require_ok(runner.run_native(argv, cwd=cwd), label)
        else:
            out = runner.run_pshare(argv, ranks=ranks, cwd=cwd)
        steps.done()
        if not out.ok:
            return {"ok": False, "error": out.failure(), "command": out.command}
        checksum, compute_s = _parse(out.stdout)
        checksums.add(checksum)
        res = {"ok": True, "wall_s": round(out.wall_s, 4),
               "compute_s": round(compute_s if compute_s is not None else out.wall_s, 4),
               "checksum": checksum, "threads_per_rank": threads_per_rank(out.stats),
               "command": out.command}
        if best is None or res["compute_s"] < best["compute_s"]:
            best = res
    if len(checksums) > 1:
        raise BenchError(f"{label}: repeats disagree: {sorted(checksums)}")
    if ranks is None:
        best["threads_per_rank"] = "-"
    return best


def _parse(stdout):
    """(the checksum: every line but elapsed_s, the program's own elapsed_s or None)"""
    lines, elapsed = [], None
    for line in stdout.splitlines():
        if line.startswith("elapsed_s "):
            elapsed = float(line.split()[1])
        else:
            lines.append(line.strip())
    return "\n".join(lines), elapsed


def _native_checksum(rows, row):
    for r in rows:
        if r["app"] == row["app"] and r["threads"] == row["threads"] and r["config"] == "native":
            return r["checksum"]
    return None


def render(doc, console):
    p = doc["params"]
    t = Table(title=f"Apps: best of {p['repeat']}, scale {p['scale']:g}; speed-up = native time / "
                    "this time (the program's own timing where it prints one, else wall)",
              title_justify="left")
    for col in ("app", "threads", "run", "threads per rank (main incl.)", "wall s", "compute s",
                "speed-up", "checksum"):
        t.add_column(col, justify="left" if col in ("app", "run", "checksum") else "right")
    last = None
    for r in doc["runs"]:
        if last is not None and (r["app"], r["threads"]) != last:
            t.add_section()
        last = (r["app"], r["threads"])
        run = "native" if r["ranks"] is None else f"pshare, {r['ranks']} rank{'s' if r['ranks'] > 1 else ''}"
        if not r["ok"]:
            t.add_row(r["app"], str(r["threads"]), run, "", "", "", "",
                      f"[bold red]FAILED[/] {report.escape(r['error'])}")
            continue
        if r["ranks"] is None:
            check = report.escape(r["checksum"].splitlines()[0][:48])
        else:
            check = "= native" if r["checksum_ok"] else "[bold red]MISMATCH[/]"
        t.add_row(r["app"], str(r["threads"]), run, r["threads_per_rank"], f"{r['wall_s']:.3f}",
                  f"{r['compute_s']:.3f}", report.ratio(r["speedup"]), check)
    console.print(t)
    for name, what in doc["apps"].items():
        console.print(f"  {name}: {what}")
    if doc["mismatches"] or doc["failures"]:
        console.print(f"  [bold red]{doc['mismatches']} checksum mismatch(es), "
                      f"{doc['failures']} failed run(s)[/]")
