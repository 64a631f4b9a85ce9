"""pshare-bench: the paper's evaluation (Table 1, Figure 9) reproduced, and
extended with DSM fault costs and application speed-ups.

One module per subcommand (table1, read, faults, sync, apps, scale), the MPI
ping-pong (pingpong, run under mpiexec), the CPU-pinning wrapper of scale
(pin, run under mpiexec), and the shared pieces: runner (finding the
tools and programs, running them natively / under pshare, parsing their
samples) and report (rich tables, progress, JSON).  See docs/BENCHMARKS.md.
"""
__version__ = "0.1.0"
