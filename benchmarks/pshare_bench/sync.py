"""pshare-bench sync: what synchronisation between threads costs: a pthread
mutex handed over between two threads (each locks it, flips a turn if the
turn is its own, unlocks), the same turn passed with pthread_cond_wait and
pthread_cond_signal, and a pthread_barrier_wait round, between main() and a
worker thread, natively (A), both on home (B) and with the worker on rank 1
(C: mpiexec -n 2 pshare-launch --placement 1), beside the raw MPI 4 KiB round
trip (mpi4py) measured in the same invocation.

With --barrier-ranks N (default 3; 0 leaves it out) the barrier is also timed
with N threads, one on each of N ranks (mpiexec -n N pshare-launch
--placement 1,..,N-1: main on home and a worker on each other rank)."""
from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from . import pingpong, report
from .report import safe_ratio
from .runner import (add_cores_per_rank, exit_status, na_label, not_spread, parse_output,
                     program, run_abc, use_cores_per_rank,
                     stats_summary, summarize, threads_per_rank)

PAGE = 4096
#: (key in the program's output and the JSON, what the table calls it)
MEASURES = (
    ("mutex_handover", "mutex hand-over (lock, flip the turn, unlock)"),
    ("condvar_handover", "condvar hand-over (cond_wait / cond_signal)"),
    ("barrier", "barrier round, 2 threads (pthread_barrier_wait)"),
)


def add_parser(sub, common):
    p = sub.add_parser("sync", parents=[common],
                       help="mutex and condvar hand-over, barrier rounds, across ranks",
                       description=__doc__)
    p.add_argument("--count", type=int, default=200,
                   help="hand-overs (rounds, for the barrier) timed per test (default 200)")
    p.add_argument("--mpi-count", type=int, default=1000, help="MPI round trips timed (default 1000)")
    add_cores_per_rank(p)
    p.add_argument("--barrier-ranks", type=int, default=3, metavar="N",
                   help="also time the barrier with one thread on each of N ranks "
                        "(N >= 3; default 3; 0: leave it out)")
    p.set_defaults(run=run, render=render)


def run(args, runner):
    if min(args.count, args.mpi_count) < 1:
        raise ValueError("--count and --mpi-count must be at least 1")
    wide_ranks = args.barrier_ranks
    if wide_ranks != 0 and wide_ranks < 3:
        raise ValueError("--barrier-ranks must be 0 (left out) or at least 3 "
                         "(2 ranks is column C)")
    use_cores_per_rank(args, runner)
    prog = program("sync")
    with report.progress(5 if wide_ranks else 4, "sync") as steps:
        modes = run_abc(runner, lambda m: [prog, args.count, 2], steps,
                        expect=[k for k, _ in MEASURES], kind="faults")
        wide = run_wide(runner, prog, wide_ranks, args.count, steps) if wide_ranks else None
        steps.start("MPI 4 KiB round trip (mpi4py)")
        rtt = pingpong.measure(runner, PAGE, args.mpi_count)
        steps.done()

    measures = {}
    for key, _ in MEASURES:
        row = {m: (summarize(r.samples[key]) if r.ok else None) for m, r in modes.items()}
        c, b = row["C"] and row["C"]["median_us"], row["B"] and row["B"]["median_us"]
        row["C_over_B"] = safe_ratio(c, b)
        row["C_over_rtt"] = safe_ratio(c, rtt["median_us"])
        measures[key] = row
    params = {"count": args.count, "mpi_count": args.mpi_count, "barrier_ranks": wide_ranks,
              "nolocal": runner.nolocal, "cores_per_rank": args.cores_per_rank or None}
    status = exit_status(modes)
    if wide is not None:
        two = measures["barrier"]["C"]
        measures["barrier_wide"] = wide_measure(wide, two and two["median_us"], rtt["median_us"])
        if wide["reason"] and wide["reason"].startswith("failed"):
            status = 1
    results = {"modes": {m: r.info() for m, r in modes.items()}, "measures": measures,
               "mpi_roundtrip": rtt}
    return report.document("sync", params, results), status


def run_wide(runner, prog, ranks: int, count: int, steps) -> dict:
    """`sync COUNT RANKS barrier` at RANKS ranks, main on home and one worker
    on each of ranks 1..RANKS-1.  Kept only if the stats show that; a crash,
    a hang or broken output is a failure (the exit status says so), as for C."""
    placement = ",".join(str(r) for r in range(1, ranks))
    label = (f"pshare, {ranks} threads, one on each of {ranks} ranks "
             f"(mpiexec -n {ranks} pshare-launch --placement {placement})")
    steps.start(f"barrier: {ranks} threads on {ranks} ranks")
    out = runner.run_pshare([prog, count, ranks, "barrier"], ranks=ranks, placement=placement)
    res = {"ranks": ranks, "label": label, "status": "ok", "reason": None,
           "command": out.command, "wall_s": round(out.wall_s, 3),
           "threads_per_rank": threads_per_rank(out.stats), "per_rank": stats_summary(out.stats),
           "samples": None}
    if out.ok:
        try:
            samples, _ = parse_output(out.stdout)
            if len(samples.get("barrier") or ()) != count:
                raise ValueError("no 'ns barrier' line with every round")
            res["samples"] = samples["barrier"]
        except ValueError as e:
            out.returncode, out.stderr = -1, out.stderr + f"\noutput lacks parsable barrier ({e})"
    if not out.ok:
        res["status"], res["reason"] = "n/a", f"failed: {out.failure()}"
        report.stderr_console().print("[bold red]barrier run FAILED:[/] " + escape(
            f"{out.failure()}\n$ {' '.join(out.command)}\n{out.stderr[-1500:]}"), highlight=False)
    else:
        why = check_spread(out.stats, ranks)
        if why is not None:
            res["status"], res["reason"], res["samples"] = "n/a", f"not distributed: {why}", None
    steps.done()
    return res


def check_spread(stats, ranks: int):
    """None if each of ranks 1..RANKS-1 ran a thread that took page faults; else why not."""
    return not_spread(stats, ranks, ("faults_read", "faults_write", "faults_upgrade"),
                      "page fault")


def wide_measure(run: dict, two_ranks_median_us, rtt_median_us) -> dict:
    """measures["barrier_wide"]: the round at N ranks against 2 ranks (C) and the MPI round trip."""
    samples = run.pop("samples")
    row = {"ranks": run["ranks"], "n": None, "median_us": None, "p10_us": None, "p90_us": None,
           "mean_us": None, "two_ranks_median_us": two_ranks_median_us, "over_two_ranks": None,
           "over_rtt": None}
    if samples:
        s = summarize(samples)
        row.update({k: s[k] for k in ("n", "median_us", "p10_us", "p90_us", "mean_us")})
        row["over_two_ranks"] = safe_ratio(row["median_us"], two_ranks_median_us)
        row["over_rtt"] = safe_ratio(row["median_us"], rtt_median_us)
    row["run"] = run
    return row


def render(doc, console):
    modes, p = doc["modes"], doc["params"]
    c_na = None if modes["C"]["status"] == "ok" else na_label(modes["C"]["reason"])
    t = Table(title=escape(f"Synchronisation between main (home) and a worker, µs, median "
                           f"[p10–p90] of {p['count']} hand-overs / rounds"),
              title_justify="left")
    for col in ("what", "A native", "B home", "C rank 1", "C / B", "C / MPI round trip"):
        t.add_column(col, justify="left" if col == "what" else "right")
    for key, label in MEASURES:
        row = doc["measures"][key]
        t.add_row(label, report.spread(row["A"]), report.spread(row["B"]),
                  c_na or report.spread(row["C"]), report.ratio(row["C_over_B"]),
                  report.ratio(row["C_over_rtt"]))
    console.print(t)
    report.print_pinning(console, p)
    console.print("  a hand-over is half a round (worker → main → worker), timed by the worker",
                  highlight=False)
    wide = doc["measures"].get("barrier_wide")
    if wide:
        render_wide(wide, console)
    console.print(report.rtt_table(doc["mpi_roundtrip"]))
    report.print_modes(console, modes)
    if wide:
        run = wide["run"]
        status = "ok" if run["status"] == "ok" else escape(f"{report.NA}: {run['reason']}")
        console.print(f"  barrier at {run['ranks']} ranks = {escape(run['label'])} — {status}",
                      highlight=False)


def render_wide(w, console):
    run = w["run"]
    n = w["ranks"]
    t = Table(title=escape(f"Barrier round with {n} threads, one on each of {n} ranks, µs, "
                           f"median [p10–p90]"), title_justify="left")
    for col in (f"{n} ranks", "2 ranks (C)", f"{n} ranks / 2 ranks", "/ MPI round trip",
                "threads per rank"):
        t.add_column(col, justify="right")
    cell = na_label(run["reason"]) if run["status"] != "ok" else report.spread(w)
    t.add_row(cell, report.us(w["two_ranks_median_us"]), report.ratio(w["over_two_ranks"]),
              report.ratio(w["over_rtt"]), run["threads_per_rank"])
    console.print(t)
