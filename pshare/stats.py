"""Statistics: per-rank records from the control block, the job report (the
``--stats-json`` document) and its rich tables (``--stats``).

JSON schema (``version`` 1)::

    {"version": 1, "program": str, "args": [str], "nranks": int,
     "exit_status": int, "elapsed_s": float,
     "ranks": [{"rank": int, "host": str, "app_pid": int,
                "threads": int,            # app threads that ran on this rank
                "threads_peak": int,       # most alive at once
                "syscalls": {name: count}, # every intercepted call, by name
                "syscall_mean_us": {name: float},
                "syscall_forwarded": {name: count},  # of those, sent to home
                "syscalls_local": int,     # trapped calls run on this rank
                "syscalls_forwarded": int, # trapped calls sent to home (local +
                                           # forwarded = every valid trapped call)
                "syscalls_invalid": int,
                "bytes_sent": int, "bytes_received": int,   # agent <-> agent
                "messages_sent": {kind: count}, "messages_received": {kind: count},
                "faults_read": int, "faults_write": int, "faults_upgrade": int,
                "pages_in": int, "pages_out": int, "invalidations": int,
                "reads_for_write": int,    # read faults asked writable (read-then-write)
                "upgrades_local": int,     # writes to those pages, made without a message
                "regions": int, "regions_peak": int,
                "pages_managed": int, "pages_managed_peak": int,
                "doorbell_peers": int,     # peers (on this host) that wake this agent
                "doorbell_rings": int,     # times this agent woke a sleeping peer
                "wakes_with_page": int,    # futex wakes that brought the word's page here
                "pages_prefetched": int,   # pages a read stream's prefetch brought (no thread waited)
                "pages_prefetched_strided": int,  # pages a strided prefetch brought (a block a stride on)
                "prefetches_opened_here": int,    # prefetched runs the agent opened without the control thread
                "prefetch_depth_peak": int,  # the most groups one read stream's prefetch had in flight
                "copies_punched": int,     # read copies dropped by punching them out of the store
                "fetches_here": int,       # owner's drops for a FETCH made by the engine itself
                "control_commands": int,   # commands the engine waited for a runtime thread to carry out
                "control_wait_us": float,  # ... and the time it waited for them
                "fault_latency": {"count", "mean_us", "p50_us", "p99_us"},
                "forward_latency": {"count", "mean_us", "p50_us", "p99_us"},
                "cpu_app_s": float,        # CPU time (user + system) of the app process on
                                           # this rank: its threads and pshare's runtime threads
                "cpu_agent_s": float,      # ... of this rank's agent while the app ran
                "cpu_agent_spin_s": float}]}  # ... of that, its engine polling with nothing
                                           # to do (while its app waited for an answer)
"""
import json
import sys

from ._systab import CLASSES, NAMES


def percentiles(hist, hz):
    """mean, p50, p99 in µs from log2-cycle buckets (each bucket's midpoint)."""
    total = sum(hist)
    if not total or not hz:
        return {"count": total, "mean_us": 0.0, "p50_us": 0.0, "p99_us": 0.0}
    mid = [(1.5 * (1 << i)) / hz * 1e6 for i in range(len(hist))]
    mean = sum(n * m for n, m in zip(hist, mid)) / total

    def pct(q):
        acc = 0
        for n, m in zip(hist, mid):
            acc += n
            if acc >= q * total:
                return m
        return mid[-1]
    return {"count": total, "mean_us": round(mean, 2), "p50_us": round(pct(0.5), 2),
            "p99_us": round(pct(0.99), 2)}


def rank_record(rank, host, pid, ctl, hz, agent_counts, traffic=None, cpu=None):
    """One rank's record; `traffic` is the event loop's message counts
    (bytes_sent, bytes_received, messages_sent, messages_received), None
    with one rank (no messages); `cpu`: {"app": s, "agent": s}."""
    traffic = traffic or {}
    cpu = cpu or {}
    c = dict(ctl.counters())
    for k, v in agent_counts.items():       # pages moved and invalidations: the agent's
        c[k] = c.get(k, 0) + v
    calls = ctl.syscalls()
    hist = ctl.histograms()
    return {
        "rank": rank,
        "host": host,
        "app_pid": pid,
        "threads": c["threads_started"],
        "threads_peak": c["threads_peak"],
        "syscalls": {NAMES.get(nr, str(nr)): n for nr, (n, _, _) in sorted(calls.items())},
        "syscall_mean_us": {NAMES.get(nr, str(nr)): (cyc / n / hz * 1e6 if hz else 0.0)
                            for nr, (n, cyc, _) in sorted(calls.items())},
        "syscall_forwarded": {NAMES.get(nr, str(nr)): fwd
                              for nr, (_, _, fwd) in sorted(calls.items())},
        **{k: c[k] for k in ("syscalls_local", "syscalls_forwarded", "syscalls_invalid",
                             "faults_read", "faults_write", "faults_upgrade", "pages_in",
                             "pages_out", "invalidations", "reads_for_write", "upgrades_local",
                             "regions", "regions_peak",
                             "pages_managed", "pages_managed_peak")},
        "doorbell_peers": c.get("doorbell_peers", 0),
        "doorbell_rings": c.get("doorbell_rings", 0),
        "wakes_with_page": c.get("wakes_with_page", 0),
        "pages_prefetched": c.get("pages_prefetched", 0),
        "pages_prefetched_strided": c.get("pages_prefetched_strided", 0),
        "prefetches_opened_here": c.get("prefetches_opened_here", 0),
        "prefetch_depth_peak": c.get("prefetch_depth_peak", 0),
        "copies_punched": c.get("copies_punched", 0),
        "fetches_here": c.get("fetches_here", 0),
        "control_commands": c.get("commands", 0),
        "control_wait_us": round(c.get("command_ns", 0) / 1e3, 1),
        "bytes_sent": traffic.get("bytes_sent", 0),
        "bytes_received": traffic.get("bytes_received", 0),
        "messages_sent": dict(sorted(traffic.get("messages_sent", {}).items())),
        "messages_received": dict(sorted(traffic.get("messages_received", {}).items())),
        "fault_latency": percentiles(hist["fault"], hz),
        "forward_latency": percentiles(hist["forward"], hz),
        "cpu_app_s": round(cpu.get("app", 0.0), 4),
        "cpu_agent_s": round(cpu.get("agent", 0.0), 4),
        "cpu_agent_spin_s": round(c.get("spin_ns", 0) / 1e9, 4),
    }


def job_report(opts, nranks, code, elapsed, records):
    return {"version": 1, "program": opts.program, "args": list(opts.args), "nranks": nranks,
            "exit_status": code, "elapsed_s": round(elapsed, 6), "ranks": records}


def _lat(d):
    return "-" if not d["count"] else f"{d['mean_us']:.0f}/{d['p50_us']:.0f}/{d['p99_us']:.0f}"


def _size(n):
    """Bytes in a short human form (1 decimal, binary units)."""
    for unit in ("B", "KiB", "MiB"):
        if n < 1024 or unit == "MiB":
            return f"{n}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1024


def write_json(report, path):
    with open(path, "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")


def render(report, file=None):
    from rich.console import Console
    from rich.table import Table

    console = Console(file=file or sys.stderr)
    ranks = report["ranks"]

    # one column per rank, one row per figure: stays narrow on a terminal
    summary = Table(title=f"pshare: {report['program']} on {report['nranks']} rank(s), "
                          f"exit {report['exit_status']}, {report['elapsed_s']:.3f} s")
    summary.add_column("")
    for r in ranks:
        summary.add_column(f"rank {r['rank']}", justify="right")
    rows = [
        ("host", lambda r: r["host"]),
        ("threads (peak alive)", lambda r: f"{r['threads']} ({r['threads_peak']})"),
        ("syscalls local", lambda r: r["syscalls_local"]),
        ("syscalls forwarded", lambda r: r["syscalls_forwarded"]),
        ("syscalls invalid", lambda r: r["syscalls_invalid"]),
        ("faults read/write/upgrade",
         lambda r: f"{r['faults_read']}/{r['faults_write']}/{r['faults_upgrade']}"),
        ("pages in/out", lambda r: f"{r['pages_in']}/{r['pages_out']}"),
        ("invalidations", lambda r: r["invalidations"]),
        ("futex wakes with the page", lambda r: r.get("wakes_with_page", 0)),
        ("pages prefetched", lambda r: r.get("pages_prefetched", 0)),
        ("regions (peak)", lambda r: f"{r['regions']} ({r['regions_peak']})"),
        ("pages managed (peak)", lambda r: f"{r['pages_managed']} ({r['pages_managed_peak']})"),
        ("agent bytes sent/received",
         lambda r: f"{_size(r.get('bytes_sent', 0))}/{_size(r.get('bytes_received', 0))}"),
        ("doorbell: peers / rings", lambda r: f"{r['doorbell_peers']}/{r['doorbell_rings']}"),
        ("fault µs mean/p50/p99", lambda r: _lat(r["fault_latency"])),
        ("forwarded µs mean/p50/p99", lambda r: _lat(r["forward_latency"])),
        ("CPU s app/agent (agent polling)",
         lambda r: f"{r.get('cpu_app_s', 0.0):.3f}/{r.get('cpu_agent_s', 0.0):.3f} "
                   f"({r.get('cpu_agent_spin_s', 0.0):.3f})"),
    ]
    for label, cell in rows:
        summary.add_row(label, *(str(cell(r)) for r in ranks))
    console.print(summary)

    kinds = sorted({k for r in ranks for k in r.get("messages_sent", {})} |
                   {k for r in ranks for k in r.get("messages_received", {})})
    if kinds:
        # one row per kind, sent/received per rank
        msgs = Table(title="agent messages, sent/received")
        msgs.add_column("kind")
        for r in ranks:
            msgs.add_column(f"rank {r['rank']}", justify="right")
        for k in kinds:
            msgs.add_row(k, *(f"{r['messages_sent'].get(k, 0)}/{r['messages_received'].get(k, 0)}"
                              for r in ranks))
        console.print(msgs)

    by_name = {}
    for r in ranks:
        for name, n in r["syscalls"].items():
            total, weighted, fwd = by_name.get(name, (0, 0.0, 0))
            by_name[name] = (total + n, weighted + n * r["syscall_mean_us"].get(name, 0.0),
                             fwd + r.get("syscall_forwarded", {}).get(name, 0))
    number = {v: k for k, v in NAMES.items()}
    calls = Table(title="system calls")
    calls.add_column("call")
    calls.add_column("class")
    calls.add_column("count", justify="right")
    calls.add_column("forwarded", justify="right")
    calls.add_column("mean µs in pshare", justify="right")
    for name, (n, weighted, fwd) in sorted(by_name.items(), key=lambda kv: -kv[1][0]):
        calls.add_row(name, CLASSES.get(number.get(name), "?"), str(n), str(fwd),
                      f"{weighted / n:.2f}")
    console.print(calls)
