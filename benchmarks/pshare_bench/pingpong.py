"""The raw MPI round trip between two ranks, the unit every DSM fault costs at
least one of:

    mpiexec -n 2 python -m pshare_bench.pingpong [--size 4096] [--count 1000]

Rank 0 sends SIZE bytes, rank 1 sends them back; rank 0 prints one JSON line
with the per-round-trip nanoseconds.  mpi4py initialises MPI with
MPI_THREAD_MULTIPLE, as pshare's agents do, so the locking costs are theirs.
"""
import argparse
import json
import sys
import time

WARMUP = 50


def main(argv=None):
    p = argparse.ArgumentParser(prog="pshare_bench.pingpong", description=__doc__)
    p.add_argument("--size", type=int, default=4096, help="message bytes (default 4096)")
    p.add_argument("--count", type=int, default=1000, help="timed round trips (default 1000)")
    args = p.parse_args(argv)

    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    if comm.Get_size() != 2:
        if comm.Get_rank() == 0:
            print("pingpong: run it on exactly 2 ranks (mpiexec -n 2)", file=sys.stderr)
        return 2
    rank = comm.Get_rank()
    buf = bytearray(args.size)
    msg = [buf, MPI.BYTE]
    samples = []
    comm.Barrier()
    for i in range(WARMUP + args.count):
        if rank == 0:
            t0 = time.perf_counter_ns()
            comm.Send(msg, dest=1, tag=1)
            comm.Recv(msg, source=1, tag=2)
            if i >= WARMUP:
                samples.append(time.perf_counter_ns() - t0)
        else:
            comm.Recv(msg, source=0, tag=1)
            comm.Send(msg, dest=0, tag=2)
    if rank == 0:
        print(json.dumps({"size": args.size, "thread_level": MPI.Query_thread(),
                          "library": " ".join(MPI.Get_library_version().splitlines()[0].split()),
                          "samples_ns": samples}))
    return 0


if __name__ == "__main__":
    sys.exit(main())


def measure(runner, size=4096, count=1000):
    """Run this module on two ranks (with the runner's --nolocal setting) and
    return {"size", "library", "thread_level", "n", "median_us", ...}."""
    import os
    from pathlib import Path
    from .runner import require_ok, summarize

    # the package's parent on PYTHONPATH: works from a source tree too
    parent = str(Path(__file__).resolve().parent.parent)
    path = os.pathsep.join(filter(None, [parent, os.environ.get("PYTHONPATH")]))
    out = runner.run([runner.need("mpiexec"), "-n", "2", *runner.pin_wrapper(), sys.executable, "-m",
                      "pshare_bench.pingpong", "--size", str(size), "--count", str(count)],
                     mpi=True, extra_env={"PYTHONPATH": path})
    require_ok(out, "the MPI ping-pong")
    raw = json.loads(out.stdout.strip().splitlines()[-1])
    return {"size": raw["size"], "library": raw["library"], "thread_level": raw["thread_level"],
            "nolocal": runner.nolocal, **summarize(raw["samples_ns"])}
