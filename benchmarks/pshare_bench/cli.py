"""pshare-bench SUBCOMMAND [--json FILE] [--nolocal] [options]

Each subcommand measures natively and under pshare in the same invocation (so
its results are ratios on one machine), prints rich tables on stdout, shows a
progress bar on stderr and, with --json FILE, writes everything it measured.
"""
import argparse
import os
import sys

from . import apps, faults, read, report, scale, sync, table1
from .runner import BenchError, Runner

SUBCOMMANDS = (table1, read, faults, sync, apps, scale)


def parse_args(argv):
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", metavar="FILE", help="write the results as JSON to FILE")
    common.add_argument("--nolocal", action="store_true",
                        help="set MPIR_CVAR_NOLOCAL=1 for the MPI runs: MPICH then takes its "
                             "network path even between ranks on one machine")
    common.add_argument("--timeout", type=float, default=300.0, metavar="S",
                        help="wall-clock limit for each run (default 300 s)")
    common.add_argument("--hold-us", type=float, default=None, metavar="US",
                        help="pass --hold-us US to every pshare-launch (the anti-thrashing "
                             "window; default: the launcher's, off)")
    p = argparse.ArgumentParser(prog="pshare-bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")
    for module in SUBCOMMANDS:
        module.add_parser(sub, common)
    return p.parse_args(argv)


def launched_by():
    """The first variable saying that mpiexec or srun started this process
    (SLURM_STEP_ID: srun, even without a PMI plugin; not set in a batch script)."""
    from pshare.config import started_by_process_manager
    return started_by_process_manager() or ("SLURM_STEP_ID" if "SLURM_STEP_ID" in os.environ
                                            else None)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    found = launched_by()
    if found:
        # every task stops; one line (from task 0) says why
        from pshare.config import rank_from_environment
        if rank_from_environment() == 0:
            print(f"pshare-bench: it starts its own mpiexec runs: run it directly, not under "
                  f"mpiexec or srun ({found} is set)", file=sys.stderr)
        return 2
    if args.hold_us is not None and args.hold_us < 0:
        print(f"pshare-bench {args.command}: --hold-us must not be negative", file=sys.stderr)
        return 2
    runner = Runner(nolocal=args.nolocal, timeout=args.timeout, hold_us=args.hold_us)
    try:
        doc, status = args.run(args, runner)
    except (BenchError, ValueError) as e:
        report.stderr_console().print(f"[bold red]pshare-bench {args.command}:[/] {e}",
                                      markup=True, highlight=False)
        return 2
    except KeyboardInterrupt:
        return 130
    doc["params"]["hold_us"] = args.hold_us
    if args.json:
        report.write_json(args.json, doc)
    args.render(doc, report.stdout_console())
    return status


if __name__ == "__main__":
    sys.exit(main())
