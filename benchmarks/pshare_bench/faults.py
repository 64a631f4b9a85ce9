"""pshare-bench faults: what the DSM costs an app: a read fault, a write fault,
a read-to-write upgrade, a first read-modify-write (`+= 1`), a page ping-ponged between two ranks and a sequential
scan, timed by a thread on rank 1 touching pages main wrote on home (C), beside
the same accesses natively (A) and on home (B), and the raw MPI 4 KiB round
trip (mpi4py) that each fault costs at least one of.

With --contention [N] (N = 3 if left out) it also runs `contention` at N+1
ranks (mpiexec -n N+1 pshare-launch --placement 1,..,N): one thread on each of
ranks 1..N, started together, each timing the first read of its own --count
pages that main wrote on home, so home serves N streams of read faults at
once.  Their median [p10-p90] is reported beside the idle read fault (C above,
one rank faulting) as contended/idle, and over the MPI round trip."""
from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from . import pingpong, report
from .report import safe_ratio
from .runner import (add_cores_per_rank, exit_status, na_label, not_spread, parse_output,
                     program, run_abc, use_cores_per_rank,
                     stats_summary, summarize)

PAGE = 4096
#: (key in the program's output, what the table calls it)
ACCESSES = (
    ("read_fault", "read fault (first read)"),
    ("upgrade", "upgrade (write to a read copy)"),
    ("write_fault", "write fault (first write)"),
    ("rmw", "read-modify-write (first += 1)"),
    ("pingpong", "page ping-pong, one round"),
)


def add_parser(sub, common):
    p = sub.add_parser("faults", parents=[common], help="DSM fault costs and the MPI round trip",
                       description=__doc__)
    p.add_argument("--count", type=int, default=200, help="pages timed per kind of fault (default 200)")
    p.add_argument("--rounds", type=int, default=200, help="ping-pong rounds (default 200)")
    p.add_argument("--scan-kib", type=int, default=4096, help="size of the scanned area (default 4096 KiB)")
    p.add_argument("--mpi-count", type=int, default=1000, help="MPI round trips timed (default 1000)")
    add_cores_per_rank(p)
    p.add_argument("--contention", type=int, nargs="?", const=3, default=None, metavar="N",
                   help="also time read faults from N ranks at once (N threads on ranks 1..N, "
                        "--count pages each, N+1 ranks; N = 3 if left out) against the idle "
                        "read fault of column C")
    p.set_defaults(run=run, render=render)


def run(args, runner):
    if min(args.count, args.rounds, args.scan_kib, args.mpi_count) < 1:
        raise ValueError("--count, --rounds, --scan-kib and --mpi-count must be at least 1")
    if args.contention is not None and args.contention < 1:
        raise ValueError("--contention must be at least 1")
    use_cores_per_rank(args, runner)
    prog = program("faults")
    contention_prog = program("contention") if args.contention else None
    scan_pages = max(1, args.scan_kib * 1024 // PAGE)
    with report.progress(5 if args.contention else 4, "faults") as steps:
        modes = run_abc(runner, lambda m: [prog, args.count, scan_pages, args.rounds], steps,
                        expect=[k for k, _ in ACCESSES] + ["scan"], kind="faults")
        if args.contention:
            contended = run_contention(runner, contention_prog, args.contention, args.count, steps)
        steps.start("MPI 4 KiB round trip (mpi4py)")
        rtt = pingpong.measure(runner, PAGE, args.mpi_count)
        steps.done()

    measures = {}
    for key, _ in ACCESSES:
        row = {m: (summarize(r.samples[key]) if r.ok else None) for m, r in modes.items()}
        row["C_over_rtt"] = safe_ratio(row["C"] and row["C"]["median_us"], rtt["median_us"])
        measures[key] = row
    scan = {}
    for m, r in modes.items():
        if r.ok:
            nbytes, ns = int(r.values.get("scan_bytes", scan_pages * PAGE)), r.samples["scan"][0]
            scan[m] = {"bytes": nbytes, "seconds": ns / 1e9, "MB_per_s": nbytes / ns * 1e3,
                       "us_per_page": ns / 1000 / (nbytes / PAGE)}
        else:
            scan[m] = None
    scan["C_page_over_rtt"] = safe_ratio(scan["C"] and scan["C"]["us_per_page"], rtt["median_us"])
    measures["scan"] = scan
    params = {"count": args.count, "rounds": args.rounds, "scan_kib": args.scan_kib,
              "mpi_count": args.mpi_count, "nolocal": runner.nolocal,
              "cores_per_rank": args.cores_per_rank or None}
    status = exit_status(modes)
    if args.contention:
        # the keys above stay as they were; the contended run only adds its own
        params["contention"] = args.contention
        idle = measures["read_fault"]["C"]
        measures["contention"] = contention_measure(contended, idle and idle["median_us"],
                                                    rtt["median_us"])
        if contended["reason"] and contended["reason"].startswith("failed"):
            status = 1
    results = {"modes": {m: r.info() for m, r in modes.items()}, "measures": measures,
               "mpi_roundtrip": rtt}
    return report.document("faults", params, results), status


def run_contention(runner, prog, threads: int, count: int, steps) -> dict:
    """Run `contention THREADS COUNT` at THREADS+1 ranks, one thread on each of
    ranks 1..THREADS.  Kept only if the stats show each of those ranks ran a
    thread and took read faults; a crash, a hang or broken output is a failure
    (the exit status says so), as for C."""
    ranks, placement = threads + 1, ",".join(str(r) for r in range(1, threads + 1))
    label = f"pshare, {threads} thread{'s' if threads > 1 else ''} on ranks 1..{threads} at once " \
            f"(mpiexec -n {ranks} pshare-launch --placement {placement})"
    steps.start(f"contention: {threads} ranks faulting at once")
    out = runner.run_pshare([prog, threads, count], ranks=ranks, placement=placement)
    res = {"threads": threads, "label": label, "status": "ok", "reason": None,
           "command": out.command, "wall_s": round(out.wall_s, 3), "ranks": stats_summary(out.stats),
           "samples": None, "windows": None}
    if out.ok:
        names = [f"contended_{t}" for t in range(threads)]
        try:
            samples, values = parse_output(out.stdout)
            missing = [n for n in names if len(samples.get(n) or ()) != count]
            windows = [tuple(int(w) for w in values[f"window_{t}"].split()) for t in range(threads)]
        except (KeyError, ValueError) as e:
            missing = [f"parsable output ({e})"]
        if missing:
            out.returncode, out.stderr = -1, out.stderr + f"\noutput lacks {', '.join(missing)}"
        else:
            res["samples"], res["windows"] = [samples[n] for n in names], windows
    if not out.ok:
        res["status"], res["reason"] = "n/a", f"failed: {out.failure()}"
        report.stderr_console().print("[bold red]contention run FAILED:[/] " + escape(
            f"{out.failure()}\n$ {' '.join(out.command)}\n{out.stderr[-1500:]}"), highlight=False)
    else:
        why = check_contended(out.stats, threads)
        if why is not None:
            res["status"], res["reason"], res["samples"] = "n/a", f"not distributed: {why}", None
    res["hosts"] = sorted({r.get("host") for r in (out.stats or {}).get("ranks", [])[1:ranks]
                           if r.get("host")})
    steps.done()
    return res


def check_contended(stats, threads: int):
    """None if each of ranks 1..threads ran a thread and took read faults; else why not."""
    return not_spread(stats, threads + 1, ("faults_read",), "read fault")


def contention_measure(run: dict, idle_median_us, rtt_median_us) -> dict:
    """measures["contention"]: all workers' faults together, each worker's
    median, how much their timed windows overlapped, and the ratios."""
    samples = run.pop("samples")
    windows = run.pop("windows")
    row = {"threads": run.pop("threads"), "n": None, "median_us": None, "p10_us": None,
           "p90_us": None, "mean_us": None, "per_thread_median_us": None, "overlap": None,
           "idle_median_us": idle_median_us, "over_idle": None, "C_over_rtt": None}
    if samples:
        merged = summarize([v for s in samples for v in s])
        row.update({k: merged[k] for k in ("n", "median_us", "p10_us", "p90_us", "mean_us")})
        row["per_thread_median_us"] = [summarize(s)["median_us"] for s in samples]
        row["over_idle"] = safe_ratio(row["median_us"], idle_median_us)
        row["C_over_rtt"] = safe_ratio(row["median_us"], rtt_median_us)
        if len(run["hosts"]) == 1:
            row["overlap"] = overlap(windows)
    row["run"] = run
    return row


def overlap(windows) -> float:
    """How long every worker was timing at once, over the median worker's
    timed window (1: fully together, 0: one after another).  CLOCK_MONOTONIC
    is comparable between the workers only on one host."""
    common = min(e for _, e in windows) - max(s for s, _ in windows)
    spans = sorted(e - s for s, e in windows)
    span = spans[len(spans) // 2]
    return round(max(0, common) / span, 3) if span > 0 else 0.0


def render(doc, console):
    modes, p, rtt = doc["modes"], doc["params"], doc["mpi_roundtrip"]
    c_na = None if modes["C"]["status"] == "ok" else na_label(modes["C"]["reason"])
    t = Table(title=escape(f"Page faults as the app sees them, µs per access, median "
                           f"[p10–p90] of {p['count']} pages ({p['rounds']} ping-pong rounds)"),
              title_justify="left")
    for col in ("access", "A native", "B home", "C rank 1", "C / MPI round trip"):
        t.add_column(col, justify="left" if col == "access" else "right")
    for key, label in ACCESSES:
        row = doc["measures"][key]
        t.add_row(label, report.spread(row["A"]), report.spread(row["B"]),
                  c_na or report.spread(row["C"]), report.ratio(row["C_over_rtt"]))
    t.add_section()
    scan = doc["measures"]["scan"]
    mbs = {m: (f"{scan[m]['MB_per_s']:,.0f}" if scan[m] else None) for m in "ABC"}
    per_page = {m: (scan[m]["us_per_page"] if scan[m] else None) for m in "ABC"}
    t.add_row(f"sequential scan of {p['scan_kib']} KiB, MB/s", mbs["A"], mbs["B"],
              c_na or mbs["C"], "")
    t.add_row("  the same, µs per page", report.us(per_page["A"]), report.us(per_page["B"]),
              c_na or report.us(per_page["C"]), report.ratio(scan["C_page_over_rtt"]))
    console.print(t)
    report.print_pinning(console, p)

    console.print(report.rtt_table(rtt))
    contention = doc["measures"].get("contention")
    if contention:
        render_contention(contention, p, console)
    report.print_modes(console, modes)
    if contention:
        run = contention["run"]
        status = "ok" if run["status"] == "ok" else escape(f"{report.NA}: {run['reason']}")
        console.print(f"  contention = {escape(run['label'])} — {status}", highlight=False)


def render_contention(c, p, console):
    run = c["run"]
    n = c["threads"]
    ranks = f"{n} rank{'s' if n > 1 else ''}"
    t = Table(title=escape(f"Read faults from {ranks} at once (ranks 1..{n}, {p['count']} pages "
                           f"each) against one rank alone (C), µs, median [p10–p90]"),
              title_justify="left")
    for col in ("idle read fault (C)", f"{ranks} at once", "contended / idle",
                "contended / MPI round trip", "per-rank medians", "overlap"):
        t.add_column(col, justify="right")
    cell = na_label(run["reason"]) if run["status"] != "ok" else report.spread(c)
    per = c["per_thread_median_us"]
    t.add_row(report.us(c["idle_median_us"]), cell, report.ratio(c["over_idle"]),
              report.ratio(c["C_over_rtt"]),
              " / ".join(report.us(v) for v in per) if per else report.NA,
              f"{c['overlap']:.0%}" if c["overlap"] is not None else report.NA)
    console.print(t)
