"""pshare-bench faults: what the DSM costs an app: a read fault, a write fault,
a read-to-write upgrade, a page ping-ponged between two ranks and a sequential
scan, timed by a thread on rank 1 touching pages main wrote on home (C), beside
the same accesses natively (A) and on home (B), and the raw MPI 4 KiB round
trip (mpi4py) that each fault costs at least one of."""
from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from . import pingpong, report
from .report import safe_ratio
from .runner import exit_status, na_label, program, run_abc, summarize

PAGE = 4096
#: (key in the program's output, what the table calls it)
ACCESSES = (
    ("read_fault", "read fault (first read)"),
    ("upgrade", "upgrade (write to a read copy)"),
    ("write_fault", "write fault (first write)"),
    ("pingpong", "page ping-pong, one round"),
)


def add_parser(sub, common):
    p = sub.add_parser("faults", parents=[common], help="DSM fault costs and the MPI round trip",
                       description=__doc__)
    p.add_argument("--count", type=int, default=200, help="pages timed per kind of fault (default 200)")
    p.add_argument("--rounds", type=int, default=200, help="ping-pong rounds (default 200)")
    p.add_argument("--scan-kib", type=int, default=4096, help="size of the scanned area (default 4096 KiB)")
    p.add_argument("--mpi-count", type=int, default=1000, help="MPI round trips timed (default 1000)")
    p.set_defaults(run=run, render=render)


def run(args, runner):
    if min(args.count, args.rounds, args.scan_kib, args.mpi_count) < 1:
        raise ValueError("--count, --rounds, --scan-kib and --mpi-count must be at least 1")
    prog = program("faults")
    scan_pages = max(1, args.scan_kib * 1024 // PAGE)
    with report.progress(4, "faults") as steps:
        modes = run_abc(runner, lambda m: [prog, args.count, scan_pages, args.rounds], steps,
                        expect=[k for k, _ in ACCESSES] + ["scan"], kind="faults")
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
              "mpi_count": args.mpi_count, "nolocal": runner.nolocal}
    results = {"modes": {m: r.info() for m, r in modes.items()}, "measures": measures,
               "mpi_roundtrip": rtt}
    return report.document("faults", params, results), exit_status(modes)


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

    m = Table(title="MPI round trip between two ranks (mpi4py, MPI_THREAD_MULTIPLE)",
              title_justify="left")
    for col in ("bytes", "median µs", "p10 µs", "p90 µs", "round trips", "MPIR_CVAR_NOLOCAL", "library"):
        m.add_column(col, justify="right")
    m.add_row(str(rtt["size"]), report.us(rtt["median_us"]), report.us(rtt["p10_us"]),
              report.us(rtt["p90_us"]), str(rtt["n"]), "1" if rtt["nolocal"] else "unset",
              rtt["library"])
    console.print(m)
    report.print_modes(console, modes)
