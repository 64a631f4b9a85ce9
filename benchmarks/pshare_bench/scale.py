"""pshare-bench scale: simulated nodes on one machine by CPU pinning.  Each
app runs natively on one node's C cores (the one-node baseline), natively on
N x C cores (the ideal), and under pshare on N ranks, rank r with its
launcher, agent and app threads pinned to cores [rC, (r+1)C); speed-up = the
one-node native time / the pshare time."""
from __future__ import annotations

import tempfile

from rich.table import Table

from . import pin, report
from .apps import APPS, APPS_BY_NAME, KERNELS, _parse, app_names
from .report import safe_ratio
from .runner import program, stats_summary

DEFAULT_APPS = ",".join(a.name for a in APPS + KERNELS)


def add_parser(sub, common):
    p = sub.add_parser("scale", parents=[common], description=__doc__,
                       help="simulated nodes by CPU pinning: speed-up over one node")
    p.add_argument("--nodes", type=int, required=True, metavar="N",
                   help="simulated nodes = pshare ranks")
    p.add_argument("--cores-per-node", type=int, required=True, metavar="C",
                   help="cores each rank (its agent and its app threads) is pinned to")
    p.add_argument("--apps", default=DEFAULT_APPS, help=f"which programs (default all: {DEFAULT_APPS})")
    p.add_argument("--threads", type=int, metavar="T", help="app threads (default N×C)")
    p.add_argument("--scale", type=float, default=1.0, help="problem size factor (default 1)")
    p.add_argument("--repeat", type=int, default=1, help="runs of each, best time kept (default 1)")
    p.add_argument("--placement", default="block",
                   help="pshare-launch --placement for the pshare runs (default block: "
                        "C consecutive threads per rank, ranks 1..N-1 first, as a node of "
                        "C cores would run them; roundrobin deals consecutive threads, "
                        "whose data are neighbours, to different ranks)")
    p.set_defaults(run=run, render=render)


def placement_for(policy, threads, nodes, per_node):
    """The --placement list the pshare runs get: "block" spelled out as a list
    (C consecutive threads per rank, ranks 1.. first, home last), anything
    else passed as it is."""
    if policy != "block":
        return policy
    return ",".join(str((t // per_node + 1) % nodes) for t in range(threads))


def run(args, runner):
    nodes, per_node = args.nodes, args.cores_per_node
    if nodes < 1 or per_node < 1:
        raise ValueError("--nodes and --cores-per-node must be at least 1")
    threads = args.threads if args.threads is not None else nodes * per_node
    if threads < 1 or args.scale <= 0 or args.repeat < 1:
        raise ValueError("--threads and --repeat must be at least 1, --scale positive")
    names = app_names(args.apps)
    placement = placement_for(args.placement, threads, nodes, per_node)
    cpus = pin.machine_cpus()
    over = pin.oversubscribed(nodes, per_node, cpus)
    pinning = {
        "native": pin.format_cpus(pin.cores_for(0, per_node, cpus)),
        "ideal": pin.format_cpus(pin.cores_for(0, nodes * per_node, cpus)),
        "ranks": [pin.format_cpus(pin.cores_for(r, per_node, cpus)) for r in range(nodes)],
    }
    wrap_native = pin.command(cpus, per_node, rank=0)
    wrap_ideal = pin.command(cpus, nodes * per_node, rank=0)
    wrap_rank = pin.command(cpus, per_node)   # each rank takes its own from mpiexec's variables
    rows = []
    with report.progress(len(names) * 3 * args.repeat, "scale") as steps, \
            tempfile.TemporaryDirectory(prefix="pshare-bench-scale-") as cwd:
        for name in names:
            app = APPS_BY_NAME[name]
            argv = [str(program(name)), *map(str, app.args(threads, args.scale))]
            row = {"app": name, "nodes": nodes, "cores_per_node": per_node, "threads": threads,
                   "native_s": None, "pshare_s": None, "speedup": None, "checksum_ok": None,
                   "threads_per_rank": None, "faults": None, "pages_in": None,
                   "ideal_native_s": None, "ideal_speedup": None, "ok": False, "error": None,
                   "args": argv[1:], "checksum": None, "wall_s": {}, "commands": {}}
            rows.append(row)
            label = f"{name} ×{threads}"
            runs = (("native", lambda: runner.run([*wrap_native, "--", *argv], cwd=cwd)),
                    ("ideal", lambda: runner.run([*wrap_ideal, "--", *argv], cwd=cwd)),
                    ("pshare", lambda: runner.run_pshare(argv, ranks=nodes, cwd=cwd,
                                                         placement=placement,
                                                         wrapper=[*wrap_rank, "--"])))
            results = {}
            for i, (config, go) in enumerate(runs):
                res = _best(go, args.repeat, steps, f"{label} {config}")
                row["commands"][config] = res["command"]
                if not res["ok"]:
                    row["error"] = f"{config}: {res['error']}"
                    for _ in range((len(runs) - i - 1) * args.repeat):   # skip the rest
                        steps.done()
                    break
                results[config] = res
                row["wall_s"][config] = res["wall_s"]
            if row["error"] is not None:
                continue
            native, ideal, ps = results["native"], results["ideal"], results["pshare"]
            stats = ps["stats"]
            per_rank = stats_summary(stats) or []
            row.update(
                ok=True, checksum=native["checksum"],
                native_s=native["compute_s"], ideal_native_s=ideal["compute_s"],
                pshare_s=ps["compute_s"],
                speedup=_round(safe_ratio(native["compute_s"], ps["compute_s"])),
                ideal_speedup=_round(safe_ratio(native["compute_s"], ideal["compute_s"])),
                checksum_ok=(ps["checksum"] == native["checksum"]
                             and ideal["checksum"] == native["checksum"]),
                threads_per_rank=[r.get("threads", 0) for r in per_rank] if stats else None,
                faults=sum(r.get(k, 0) for r in per_rank
                           for k in ("faults_read", "faults_write", "faults_upgrade"))
                if stats else None,
                pages_in=sum(r.get("pages_in", 0) for r in per_rank) if stats else None,
                ranks=per_rank or None)
            if not row["checksum_ok"]:
                row["checksums"] = {"native": native["checksum"], "ideal": ideal["checksum"],
                                    "pshare": ps["checksum"]}
    mismatches = [r for r in rows if r["checksum_ok"] is False]
    failures = [r for r in rows if not r["ok"]]
    if mismatches or failures:
        err = report.stderr_console()
        for r in mismatches:
            err.print(f"[bold red]CHECKSUM MISMATCH[/] {r['app']} ×{r['threads']}: "
                      + report.escape(repr(r["checksums"])), highlight=False)
        for r in failures:
            err.print(f"[bold red]FAILED[/] {r['app']} ×{r['threads']} "
                      + report.escape(f"{r['error']}\n$ {' '.join(_last_command(r))}"),
                      highlight=False)
    params = {"nodes": nodes, "cores_per_node": per_node, "threads": threads, "apps": names,
              "scale": args.scale, "repeat": args.repeat, "nolocal": runner.nolocal,
              "placement": args.placement}
    results = {"apps": {n: APPS_BY_NAME[n].what for n in names},
               "cpus": pin.format_cpus(cpus), "cores_available": len(cpus),
               "cores_wanted": nodes * per_node, "oversubscribed": over, "pinning": pinning,
               "placement": placement,
               "runs": rows, "mismatches": len(mismatches), "failures": len(failures)}
    return report.document("scale", params, results), 1 if (mismatches or failures) else 0


def _round(value):
    """4 significant digits (a ratio can be 0.002)."""
    return None if value is None else float(f"{value:.4g}")


def _last_command(row):
    return list(row["commands"].values())[-1] if row["commands"] else []


def _best(go, repeat, steps, label):
    """Run go() `repeat` times; keep the fastest (the program's own elapsed_s);
    every repeat must print the same checksum."""
    best, checksums = None, set()
    for _ in range(repeat):
        steps.start(label)
        out = go()
        steps.done()
        if not out.ok:
            return {"ok": False, "error": out.failure(), "command": out.command}
        checksum, compute_s = _parse(out.stdout)
        if compute_s is None or not checksum:
            return {"ok": False, "command": out.command,
                    "error": "output lacks the checksum or elapsed_s line"}
        checksums.add(checksum)
        res = {"ok": True, "wall_s": round(out.wall_s, 4), "compute_s": round(compute_s, 4),
               "checksum": checksum, "stats": out.stats, "command": out.command}
        if best is None or res["compute_s"] < best["compute_s"]:
            best = res
    if len(checksums) > 1:
        return {"ok": False, "command": best["command"],
                "error": f"repeats disagree: {sorted(checksums)}"}
    return best


def render(doc, console):
    p = doc["params"]
    n, c = p["nodes"], p["cores_per_node"]
    pinning = doc["pinning"]
    title = (f"Scale: {n} simulated node{'s' if n > 1 else ''} × {c} core{'s' if c > 1 else ''} "
             f"(CPU pinning), {p['threads']} threads, best of {p['repeat']}, scale {p['scale']:g}; "
             f"speed-up = 1-node native time / this time (the programs' own elapsed_s)")
    caption = (f"pinned to cores: 1 node native {pinning['native']}, ideal native "
               f"{pinning['ideal']}, pshare " + ", ".join(
                   f"rank {r} {cores}" for r, cores in enumerate(pinning["ranks"])))
    if doc["oversubscribed"]:
        caption += (f" — [bold yellow]oversubscribed[/]: {doc['cores_wanted']} cores wanted, "
                    f"{doc['cores_available']} available ({doc['cpus']}), cores wrap modulo "
                    f"{doc['cores_available']} and nodes share them")
    t = Table(title=title, caption=caption, title_justify="left", caption_justify="left")
    cols = ("app", "threads", f"1 node native ({c} core{'s' if c > 1 else ''}) s",
            f"ideal native ({n * c} cores) s", "ideal speed-up", f"pshare {n}×{c} s", "speed-up",
            "threads per rank (main incl.)", "faults", "pages in",
            "CPU s by rank: app / agent at work", "checksum")
    for col in cols:
        t.add_column(col, justify="left" if col in ("app", "checksum") else "right")
    for r in doc["runs"]:
        if not r["ok"]:
            t.add_row(r["app"], str(r["threads"]), *[""] * (len(cols) - 3),
                      f"[bold red]FAILED[/] {report.escape(r['error'])}")
            continue
        check = "= native" if r["checksum_ok"] else "[bold red]MISMATCH[/]"
        tpr = "/".join(map(str, r["threads_per_rank"])) if r["threads_per_rank"] else "?"
        t.add_row(r["app"], str(r["threads"]), f"{r['native_s']:.3f}", f"{r['ideal_native_s']:.3f}",
                  report.ratio(r["ideal_speedup"]), f"{r['pshare_s']:.3f}",
                  report.ratio(r["speedup"]), tpr, _count(r["faults"]), _count(r["pages_in"]),
                  _cpu(r.get("ranks")), check)
    console.print(t)
    for name, what in doc["apps"].items():
        console.print(f"  {name}: {report.escape(what)}", highlight=False)
    if doc["mismatches"] or doc["failures"]:
        console.print(f"  [bold red]{doc['mismatches']} checksum mismatch(es), "
                      f"{doc['failures']} failed run(s)[/]")


def _count(value):
    return "?" if value is None else f"{value:,}"


def _cpu(ranks):
    """Each rank's CPU seconds: its app's (runtime threads included) and its
    agent's at work (less its engine's polling while the app waited, which
    only uses a core nothing else wanted): what the rank's cores spent."""
    if not ranks or any("cpu_app_s" not in r for r in ranks):
        return "?"
    return " · ".join(f"{r['cpu_app_s']:.2f}/{r['cpu_agent_s'] - r.get('cpu_agent_spin_s', 0):.2f}"
                      for r in ranks)
