"""pshare-bench table1: the paper's Table 1, time per system call on a file five
directories deep, natively (A), under pshare on home (B) and forwarded from
rank 1 to home (C)."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from . import paper, pingpong, report
from .report import diff, safe_ratio
from .runner import exit_status, na_label, program, run_abc, summarize

CALLS = tuple(paper.TABLE1_MS)
#: the kernel's name for each measured call (glibc's open() is openat)
SYSCALL_NAME = {"open": "openat"}
#: beyond the paper: the bare cost of a trapped call, of reading the clock, and
#: of an address-space operation every rank replays (munmap: fenced, it drops pages)
EXTRA_CALLS = ("getppid", "timer", "mmap", "munmap")


def add_parser(sub, common):
    p = sub.add_parser("table1", parents=[common], help="the paper's Table 1 (time per system call)",
                       description=__doc__)
    p.add_argument("--count", type=int, default=1000, help="calls of each kind (default 1000)")
    p.add_argument("--mpi-count", type=int, default=1000,
                   help="round trips of the MPI ping-pong measured beside (default 1000)")
    p.add_argument("--dir", default=None,
                   help="where to make the five-deep directory (default: the temp dir); "
                        "the paper used NFS")
    p.set_defaults(run=run, render=render)


def run(args, runner):
    if args.count < 1:
        raise ValueError("--count must be at least 1")
    prog = program("syscalls")
    work = Path(tempfile.mkdtemp(prefix="pshare-bench-table1-", dir=args.dir))
    try:
        # each configuration gets a fresh tree: no dentry left over from another
        for mode in "ABC":
            (work / mode).mkdir()
        with report.progress(3, "table1") as steps:
            modes = run_abc(runner, lambda m: [prog, work / m, args.count], steps,
                            expect=CALLS + EXTRA_CALLS)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    # the baseline of C: a forwarded call is a round trip to home at least
    rtt = pingpong.measure(runner, count=args.mpi_count)

    calls = {}
    for name in CALLS + EXTRA_CALLS:
        row = {m: summary_of(modes[m], name) for m in "ABC"}
        a, b, c = (row[m] and row[m]["median_us"] for m in "ABC")
        row.update(ratio_B_A=safe_ratio(b, a), ratio_C_B=safe_ratio(c, b), C_minus_B_us=diff(c, b),
                   C_over_rtt=safe_ratio(c, rtt["median_us"]))
        if name in paper.TABLE1_MS:
            pa, pb, pc = paper.TABLE1_MS[name]
            row["paper_ms"] = {"A": pa, "B": pb, "C": pc}
            row.update(paper_ratio_B_A=pb / pa, paper_ratio_C_B=pc / pb,
                       paper_C_minus_B_us=(pc - pb) * 1000)
        calls[name] = row
    # pshare's own clock on each call in B (mean µs from trap to result):
    # what is left of B - A is the trap and the signal delivery around it
    b_stats = modes["B"].out.stats or {}
    in_pshare = (b_stats.get("ranks") or [{}])[0].get("syscall_mean_us", {})
    for name, row in calls.items():
        row["B_in_pshare_mean_us"] = in_pshare.get(SYSCALL_NAME.get(name, name))
    intercepted = _intercepted(modes["B"].out.stats, args.count)
    params = {"count": args.count, "mpi_count": args.mpi_count,
              "dir": str(args.dir or tempfile.gettempdir()), "nolocal": runner.nolocal}
    results = {"modes": {m: r.info() for m, r in modes.items()},
               "B_calls_intercepted": intercepted, "calls": calls, "mpi_roundtrip": rtt}
    return report.document("table1", params, results), exit_status(modes)


def summary_of(res, name):
    if not res.ok or name not in res.samples:
        return None
    return summarize(res.samples[name])


def _intercepted(stats, count):
    """B is only B if pshare trapped the calls: the stats count them by name."""
    if not stats or not stats.get("ranks"):
        return False
    seen = stats["ranks"][0].get("syscalls", {})
    return all(seen.get(n, 0) >= count for n in ("openat", "close", "mkdir", "rmdir", "flock"))


def render(doc, console):
    modes = doc["modes"]
    p = doc["params"]
    t = Table(title=escape(f"Table 1: time per call in µs, median [p10–p90] of {p['count']} "
                           f"calls, on a file five directories deep under {p['dir']}"),
              title_justify="left")
    for col in ("call", "A native", "B home", "B in pshare", "C rank 1", "B/A", "C/B", "C−B µs",
                "C / RTT", "paper A / B / C ms", "paper B/A · C/B", "paper C−B µs"):
        t.add_column(col, justify="left" if col == "call" else "right")
    c_na = None if modes["C"]["status"] == "ok" else na_label(modes["C"]["reason"])
    for name in CALLS + EXTRA_CALLS:
        row = doc["calls"][name]
        if name == EXTRA_CALLS[0]:
            t.add_section()
        pap = row.get("paper_ms")
        t.add_row(
            name if name in CALLS else f"{name} (extra)",
            report.spread(row["A"]), report.spread(row["B"]),
            report.us(row["B_in_pshare_mean_us"]) if row["B_in_pshare_mean_us"] is not None else "",
            c_na or report.spread(row["C"]),
            report.ratio(row["ratio_B_A"]), report.ratio(row["ratio_C_B"]),
            report.us(row["C_minus_B_us"]), report.ratio(row.get("C_over_rtt")),
            f"{pap['A']:.3f} / {pap['B']:.3f} / {pap['C']:.3f}" if pap else "",
            f"{report.ratio(row['paper_ratio_B_A'])} · {report.ratio(row['paper_ratio_C_B'])}"
            if pap else "",
            report.us(row.get("paper_C_minus_B_us")) if pap else "")
    console.print(t)
    if doc.get("mpi_roundtrip"):
        console.print(report.rtt_table(doc["mpi_roundtrip"]))
    report.print_modes(console, modes)
    console.print("  B in pshare = mean µs pshare's runtime spent on the call (its --stats clock): "
                  "B − that ≈ the trap itself", highlight=False)
    if not doc["B_calls_intercepted"]:
        console.print("  [bold red]warning:[/] pshare's stats do not show B's calls as trapped")
