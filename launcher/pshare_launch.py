"""pshare-launch: run PROGRAM as one process whose threads are spread over the
MPI ranks of this job.

    pshare-launch [options] PROGRAM [ARGS...]           # one rank (MPI singleton)
    mpiexec -n 4 pshare-launch [options] PROGRAM [ARGS...]
    srun pshare-launch [options] PROGRAM [ARGS...]

Everything that can be checked without MPI is checked first, so bad input
costs no MPI start-up and every rank fails the same way with one line.
"""
import argparse
import os
import sys

PLACEMENTS = ("roundrobin", "home", "block")


def parse_args(argv):
    p = argparse.ArgumentParser(
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
    p.add_argument("--verbose", "-v", action="store_true", help="say what the agents do")
    p.add_argument("--version", action="version", version="pshare 0.1.0")
    p.add_argument("program", help="the program to run (a dynamically linked x86_64 ELF)")
    p.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    return p.parse_args(argv)


def check_placement(value):
    if value in PLACEMENTS:
        return
    parts = value.split(",")
    if not all(x.strip().isdigit() for x in parts):
        raise ValueError(f"--placement: '{value}' is not one of {', '.join(PLACEMENTS)} "
                         "or a comma-separated list of ranks")


def rank_from_environment():
    """This process's rank before MPI is up (only to print an error once)."""
    for var in ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return 0


def main(argv=None):
    opts = parse_args(sys.argv[1:] if argv is None else argv)
    from pshare import agent, program
    from pshare._rtctl import sud_available
    from pshare.config import Options
    from pshare.errors import LaunchError

    try:
        check_placement(opts.placement)
        path = program.check(opts.program)
        if os.environ.get("PSHARE_TEST_NO_SUD") == "1" or not sud_available():
            raise LaunchError(f"this kernel ({os.uname().release}) has no Syscall User "
                              "Dispatch: pshare needs Linux >= 5.11 built with "
                              "CONFIG_GENERIC_ENTRY (x86_64)", 126)
        code = agent.run(Options(program=opts.program, args=opts.args, stats=opts.stats,
                                 stats_json=opts.stats_json, verbose=opts.verbose,
                                 placement=opts.placement), path)
    except ValueError as e:
        print(f"pshare: {e}", file=sys.stderr)
        return 2
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
