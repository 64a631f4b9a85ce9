"""pshare-launch: run PROGRAM as one process whose threads are spread over the
MPI ranks of this job.

    pshare-launch [options] PROGRAM [ARGS...]           # one rank (MPI singleton)
    mpiexec -n 4 pshare-launch [options] PROGRAM [ARGS...]
    srun pshare-launch [options] PROGRAM [ARGS...]

Everything that can be checked before the app starts is checked first: in a
singleton before MPI starts; under mpiexec or srun on every rank, which then
agree, so the whole job stops with one line even when one node alone is at
fault.
"""
import argparse
import os
import sys

from pshare import config
from pshare.config import rank_from_environment, started_by_process_manager


class Parser(argparse.ArgumentParser):
    """Usage errors once per job, not once per rank (all ranks find them)."""

    def error(self, message):
        if rank_from_environment() != 0:
            sys.exit(2)
        super().error(message)


def parse_args(argv):
    p = Parser(
        prog="pshare-launch",
        description="Run an unchanged pthread program as one process spread over "
                    "the MPI ranks of this job.",
        epilog="The program's stdout, stderr, files and exit status are those of a "
               "native run; pshare's own messages start with 'pshare:'.")
    p.add_argument("--stats", action="store_true",
                   help="print tables of threads, system calls, faults and pages at exit (stderr)")
    p.add_argument("--stats-json", metavar="FILE",
                   help="write the same statistics as JSON to FILE (see README for the schema)")
    p.add_argument("--placement", default=os.environ.get("PSHARE_PLACEMENT", "roundrobin"),
                   help="where new threads go: roundrobin (default), home, block, or a "
                        "comma-separated rank list (default from PSHARE_PLACEMENT)")
    p.add_argument("--hold-us", metavar="US", default=os.environ.get("PSHARE_HOLD_US", "0"),
                   help="anti-thrashing: the longest window (µs) a page being written stays "
                        "with its writer while ranks keep taking it from one another "
                        "(false sharing); 0 = off (default from PSHARE_HOLD_US)")
    p.add_argument("--cpus", choices=config.CPUS_MODES,
                   default=os.environ.get(config.CPUS_VARIABLE, "cluster"),
                   help="the CPUs the program sees: cluster (default: every rank's, so its CPU "
                        "count and an unpinned thread's affinity are the job's) or node (each "
                        "node's own); default from PSHARE_CPUS")
    p.add_argument("--stdin", metavar="FILE",
                   help="the program's standard input, opened on home (MPICH's mpiexec "
                        "cannot carry more than 64 KiB of its own stdin to any program)")
    p.add_argument("--verbose", "-v", action="store_true", help="say what the agents do")
    p.add_argument("--version", action="version", version="pshare 0.1.0")
    p.add_argument("program", nargs="?", help="the program to run (a dynamically linked x86_64 ELF)")
    p.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    opts = p.parse_args(argv)
    if opts.program is None:
        p.error("no program given: pshare-launch [options] PROGRAM [ARGS...]")
    return opts


def check_placement(value, nranks):
    """Every rank finds the same fault, so each can say it (once, on rank 0)."""
    from pshare.placement import Placement
    Placement(value, nranks, 1)


def check_hold_us(value):
    """--hold-us as a number of µs (checked before anything starts)."""
    try:
        us = float(value)
    except ValueError:
        us = -1.0
    if not 0 <= us <= 1_000_000:
        raise ValueError(f"--hold-us: expected a number of µs from 0 to 1000000, not '{value}'")
    return us


def check_stats_json(path):
    """Found before the run, not after it (the run's work would be lost)."""
    target = os.path.abspath(path)
    parent = os.path.dirname(target)
    if os.path.exists(target):
        ok = not os.path.isdir(target) and os.access(target, os.W_OK)
    else:
        ok = os.path.isdir(parent) and os.access(parent, os.W_OK | os.X_OK)
    if not ok:
        raise ValueError(f"--stats-json: cannot write {path}")


def preflight(opts, nranks):
    """Everything that can be checked before the app starts on this rank:
    None, or (message, exit status)."""
    from pshare import program
    from pshare._rtctl import sud_available
    from pshare.errors import LaunchError
    try:
        if nranks > 1:
            from pshare._engine import MAX_RANKS      # MPI is loaded: several ranks
            if nranks > MAX_RANKS:
                raise ValueError(f"pshare runs on at most {MAX_RANKS} ranks (this job has "
                                 f"{nranks}): a page's copy set is one 64-bit word")
        check_placement(opts.placement, nranks)
        if opts.cpus not in config.CPUS_MODES:      # argparse checks --cpus, not the variable
            raise ValueError(f"{config.CPUS_VARIABLE}: '{opts.cpus}' is not one of "
                             f"{', '.join(config.CPUS_MODES)}")
        opts.hold_us = check_hold_us(opts.hold_us)
        opts.write_burst_us = config.write_burst_us()
        if opts.stats_json:
            check_stats_json(opts.stats_json)
        if opts.stdin and not os.access(opts.stdin, os.R_OK):
            raise ValueError(f"--stdin: cannot read {opts.stdin}")
        cmd = program.command(opts.program, opts.args)
        if os.environ.get("PSHARE_TEST_NO_SUD") == "1" or not sud_available():
            raise LaunchError(f"this kernel ({os.uname().release}) has no Syscall User "
                              "Dispatch: pshare needs Linux >= 5.11 built with "
                              "CONFIG_GENERIC_ENTRY (x86_64)", 126)
    except ValueError as e:
        return str(e), 2
    except LaunchError as e:
        return e.message, e.status
    return cmd


def agree(comm, outcome):
    """All ranks learn the first rank whose preflight failed: (rank, message,
    status) or None.  A failure on every rank alike needs no rank in its line."""
    outcomes = comm.allgather(outcome if isinstance(outcome, tuple) else None)
    bad = [(r, o) for r, o in enumerate(outcomes) if o is not None]
    if not bad:
        return None
    rank, (message, status) = bad[0]
    if len(bad) < len(outcomes) or len({o for _, o in bad}) > 1:
        message = f"rank {rank}: {message}"
    return message, status


def main(argv=None):
    opts = parse_args(sys.argv[1:] if argv is None else argv)
    from pshare import agent
    from pshare.config import Options
    from pshare.errors import LaunchError

    comm = None
    try:
        # under mpiexec or srun the ranks must agree before anything starts: a
        # rank that failed alone would leave the others waiting
        if started_by_process_manager():
            from mpi4py import MPI
            comm = MPI.COMM_WORLD
            outcome = preflight(opts, comm.Get_size())
            failure = agree(comm, outcome)
        else:
            outcome = preflight(opts, 1)
            failure = outcome if isinstance(outcome, tuple) else None
        if failure is not None:
            message, status = failure
            if comm is None or comm.Get_rank() == 0:
                print(f"pshare: {message}", file=sys.stderr)
            return status
        code = agent.run(Options(program=opts.program, args=opts.args, stats=opts.stats,
                                 stats_json=opts.stats_json, verbose=opts.verbose, stdin=opts.stdin,
                                 placement=opts.placement, hold_us=opts.hold_us,
                                 write_burst_us=opts.write_burst_us, cpus=opts.cpus), outcome)
    except LaunchError as e:
        if rank_from_environment() == 0:
            print(f"pshare: {e.message}", file=sys.stderr)
        return e.status
    except KeyboardInterrupt:
        return 130
    except Exception as e:                      # a bug of ours: one line, the whole job ends
        if opts.verbose:
            import traceback
            traceback.print_exc()
        print(f"pshare: rank {rank_from_environment()}: internal error: "
              f"{type(e).__name__}: {e}", file=sys.stderr)
        try:
            from mpi4py import MPI
            if MPI.Is_initialized() and not MPI.Is_finalized() and MPI.COMM_WORLD.Get_size() > 1:
                MPI.COMM_WORLD.Abort(70)
        except Exception:
            pass
        return 70
    return code


if __name__ == "__main__":
    sys.exit(main())
