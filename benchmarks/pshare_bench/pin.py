"""Pin a command to one simulated node's cores, then exec it.

    python -m pshare_bench.pin --cpus 0-7 --per-rank 2 [--rank R] -- COMMAND ...

Rank r gets the cores r*C .. (r+1)*C-1 of the --cpus list (C = --per-rank),
taken modulo its length when the machine has fewer cores than ranks x C
(oversubscribed).  The rank is --rank if given, else the one mpiexec or srun
put in the environment (pshare.config.RANK_FROM: PMI_RANK, OMPI_COMM_WORLD_RANK,
PMIX_RANK, SLURM_PROCID), else 0.  The affinity is set with
sched_setaffinity and the process then becomes COMMAND (exec), so everything it
starts inherits it: under `mpiexec -n N python -m pshare_bench.pin ... --
pshare-launch APP`, each rank's launcher, agent and app (every thread of it
placed on that rank) run on that rank's cores only, like `taskset -c a-b`.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import List, Sequence

RANK_FROM = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID")


def parse_cpus(text: str) -> List[int]:
    """'0-3,8,10-11' (taskset's list format) -> [0, 1, 2, 3, 8, 10, 11]."""
    cpus: List[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        lo, _, hi = part.partition("-")
        first, last = int(lo), int(hi or lo)
        if first < 0 or last < first:
            raise ValueError(f"bad CPU range '{part}'")
        cpus.extend(c for c in range(first, last + 1) if c not in cpus)
    if not cpus:
        raise ValueError(f"no CPUs in '{text}'")
    return cpus


def format_cpus(cpus: Sequence[int]) -> str:
    """[0, 1, 2, 5] -> "0-2,5" (taskset's list format)."""
    out, run = [], []
    for c in sorted(set(cpus)):
        if run and c == run[-1] + 1:
            run.append(c)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [c]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ",".join(out)


def machine_cpus() -> List[int]:
    """The cores this process may run on (its affinity), in order."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:   # not Linux
        return list(range(os.cpu_count() or 1))


def cores_for(rank: int, per_rank: int, cpus: Sequence[int]) -> List[int]:
    """Rank r's cores: positions r*C .. (r+1)*C-1 of cpus, modulo its length."""
    return sorted({cpus[(rank * per_rank + i) % len(cpus)] for i in range(per_rank)})


def oversubscribed(ranks: int, per_rank: int, cpus: Sequence[int]) -> bool:
    return ranks * per_rank > len(cpus)


def rank_from_environment() -> int:
    try:   # the launcher's own list, when pshare is installed beside us
        from pshare.config import RANK_FROM as names
    except ImportError:
        names = RANK_FROM
    for var in names:
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return 0


def command(cpus: Sequence[int], per_rank: int, rank=None) -> List[str]:
    """The wrapper's own argv (put '--' and the command after it)."""
    argv = [sys.executable, "-m", "pshare_bench.pin", "--cpus", format_cpus(cpus),
            "--per-rank", str(per_rank)]
    if rank is not None:
        argv += ["--rank", str(rank)]
    return argv


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m pshare_bench.pin", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cpus", required=True, help="the machine's cores to deal out, e.g. 0-7")
    p.add_argument("--per-rank", type=int, required=True, metavar="C", help="cores per rank")
    p.add_argument("--rank", type=int, help="this rank (default: from mpiexec's environment)")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND ARGS...")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not cmd:
        p.error("no command given (put it after --)")
    if args.per_rank < 1:
        p.error("--per-rank must be at least 1")
    try:
        cpus = parse_cpus(args.cpus)
    except ValueError as e:
        p.error(str(e))
    rank = args.rank if args.rank is not None else rank_from_environment()
    cores = cores_for(rank, args.per_rank, cpus)
    try:
        os.sched_setaffinity(0, cores)
    except OSError as e:
        print(f"pshare_bench.pin: rank {rank}: cannot pin to cores {format_cpus(cores)}: {e}",
              file=sys.stderr)
        return 127
    try:
        os.execvp(cmd[0], cmd)
    except OSError as e:
        print(f"pshare_bench.pin: cannot run {cmd[0]}: {e}", file=sys.stderr)
        return 127


if __name__ == "__main__":
    sys.exit(main())
