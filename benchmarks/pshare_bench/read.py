"""pshare-bench read: the paper's Figure 9, the time of a read() of 1..16
pages of a file (the buffer touched afterwards) natively (A), on home (B), and
forwarded from rank 1 (C), where each page of the buffer has to travel back to
the caller; the per-page slope comes from a least-squares line."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from . import paper, report
from .report import diff
from .runner import exit_status, least_squares, na_label, program, run_abc, summarize

PAGE = 4096


def add_parser(sub, common):
    p = sub.add_parser("read", parents=[common], help="the paper's Figure 9 (forwarded read vs size)",
                       description=__doc__)
    p.add_argument("--count", type=int, default=200, help="reads of each size (default 200)")
    p.add_argument("--max-pages", type=int, default=16, help="largest read in 4 KiB pages (default 16)")
    p.add_argument("--dir", default=None, help="where to put the file (default: the temp dir)")
    p.set_defaults(run=run, render=render)


def run(args, runner):
    if args.count < 1 or args.max_pages < 1:
        raise ValueError("--count and --max-pages must be at least 1")
    prog = program("readfile")
    work = Path(tempfile.mkdtemp(prefix="pshare-bench-read-", dir=args.dir))
    try:
        data = work / "data"
        data.write_bytes(os.urandom(args.max_pages * PAGE))
        with report.progress(3, "read") as steps:
            modes = run_abc(runner, lambda m: [prog, data, args.max_pages, args.count], steps,
                            expect=[f"read_{n}" for n in range(1, args.max_pages + 1)])
    finally:
        shutil.rmtree(work, ignore_errors=True)

    sizes = []
    for pages in range(1, args.max_pages + 1):
        row = {"pages": pages, "bytes": pages * PAGE}
        for m, res in modes.items():
            row[m] = summarize(res.samples[f"read_{pages}"]) if res.ok else None
        row["C_minus_B_us"] = diff(*(row[m] and row[m]["median_us"] for m in "CB"))
        sizes.append(row)
    fits = {}
    for m in "ABC":
        if modes[m].ok and len(sizes) > 1:
            slope, intercept = least_squares([r["pages"] for r in sizes],
                                             [r[m]["median_us"] for r in sizes])
            fits[m] = {"us_per_page": round(slope, 4), "intercept_us": round(intercept, 4)}
        else:
            fits[m] = None
    params = {"count": args.count, "max_pages": args.max_pages,
              "dir": str(args.dir or tempfile.gettempdir()), "nolocal": runner.nolocal}
    results = {"modes": {m: r.info() for m, r in modes.items()}, "sizes": sizes, "fit": fits,
               "paper_us_per_page": paper.FIG9_MS_PER_PAGE * 1000}
    return report.document("read", params, results), exit_status(modes)


def render(doc, console):
    modes, p = doc["modes"], doc["params"]
    c_na = None if modes["C"]["status"] == "ok" else na_label(modes["C"]["reason"])
    t = Table(title=escape(f"Figure 9: read() of N pages + touching them, µs, median "
                           f"[p10–p90] of {p['count']}"), title_justify="left")
    for col in ("pages", "KiB", "A native", "B home", "C rank 1", "C−B µs"):
        t.add_column(col, justify="right")
    for row in doc["sizes"]:
        t.add_row(str(row["pages"]), str(row["bytes"] // 1024), report.spread(row["A"]),
                  report.spread(row["B"]), c_na or report.spread(row["C"]),
                  report.us(row["C_minus_B_us"]))
    t.add_section()
    slope = {m: (f["us_per_page"] if f else None) for m, f in doc["fit"].items()}
    t.add_row("slope", "µs/page", report.us(slope["A"]), report.us(slope["B"]),
              c_na or report.us(slope["C"]), report.us(diff(slope["C"], slope["B"])))
    t.add_row("paper", "µs/page", "", "", report.us(doc["paper_us_per_page"]), "")
    console.print(t)
    report.print_modes(console, modes)
