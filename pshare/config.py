"""Launch options and the app's environment.

The app must see the same environment on every rank (libraries land at the
same addresses only if the stack holds the same bytes), and the environment a
native run would give: the per-rank variables of MPI and Slurm go, and the
two variables that bring in the runtime are hidden again by the runtime once
it has loaded (ext/rt/init.c).
"""
import dataclasses
import os
import resource
from pathlib import Path

# Set by mpiexec/srun per rank: they differ between ranks and would not be
# there natively.
RANK_VARIABLE_PREFIXES = ("PMI_", "PMIX_", "MPIR_", "MPI_LOCALRANKID", "MPI_LOCALNRANKS",
                          "HYDRA_", "HYDI_", "OMPI_", "PRTE_", "I_MPI_", "MPICH_INTERFACE")
RANK_VARIABLES = {"SLURM_PROCID", "SLURM_LOCALID", "SLURM_NODEID", "SLURM_TASK_PID",
                  "SLURM_GTIDS", "SLURM_STEP_NODELIST", "SLURM_TOPOLOGY_ADDR",
                  "SLURMD_NODENAME"}
# Set in every process that mpiexec, or srun with a PMI plugin, starts: the
# ranks are an MPI job and must agree before anything starts.
PROCESS_MANAGER_VARIABLES = ("PMI_RANK", "PMI_SIZE", "PMI_FD", "PMI_PORT", "PMIX_RANK",
                             "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK")
# Where this process's rank can be read before MPI is up.
RANK_FROM = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID")
RSEQ_OFF = "glibc.pthread.rseq=0"
# Shared with the runtime; the rlimits every rank applies to its app.
RLIMITS = ("RLIMIT_STACK", "RLIMIT_NOFILE", "RLIMIT_AS", "RLIMIT_DATA", "RLIMIT_CORE",
           "RLIMIT_NPROC", "RLIMIT_MEMLOCK")


#: A write stream whose faults come this many µs apart or closer (a burst: a
#: stencil's edge rows) asks, when it begins at the same page again, for as
#: many pages as it went (ext/agent/_engine.pyx, write_window); 0: write
#: runs are never learned.  Default 50.
WRITE_BURST_VARIABLE = "PSHARE_WRITE_BURST_US"
WRITE_BURST_US = 50.0


#: What the app sees as its CPUs with several ranks (--cpus, PSHARE_CPUS):
#: "cluster", every rank's usable CPUs, numbered in rank order, so that the
#: CPU count and an unpinned thread's affinity are the cluster's (an OpenMP
#: team, a thread pool sized by the CPU count spreads over every node;
#: ext/rt/cpus.c); "node", each node's own, as its kernel numbers them.
CPUS_VARIABLE = "PSHARE_CPUS"
CPUS_MODES = ("cluster", "node")


@dataclasses.dataclass
class Options:
    program: str
    args: list
    stats: bool = False
    stats_json: str = None
    verbose: bool = False
    stdin: str = None           # home's app reads this file instead of our stdin
    placement: str = "roundrobin"
    hold_us: float = 0.0        # anti-thrashing window's longest, µs (0: off)
    write_burst_us: float = WRITE_BURST_US   # write runs learned from bursts this close (0: off)
    cpus: str = "cluster"       # CPUS_MODES: the CPUs the app sees with several ranks


#: Tests only: a manager sends a prefetch's grant this many ms late, and the
#: page messages about its pages to that rank after it behind it (a slow
#: link), so that an address-space op's replay overtakes it
#: (tests/test_apps.py, prefetch_remap.c).
DEBUG_PREFETCH_DELAY_VARIABLE = "PSHARE_DEBUG_PREFETCH_DELAY_MS"


#: "0": a rank drops a read copy through its control thread's mprotect, not
#: by punching it out of the page store (ext/rt/uffd.c), as when the kernel
#: refuses a userfaultfd.  For comparisons.
PUNCH_VARIABLE = "PSHARE_PUNCH"

#: Where the kernel says whether shared memory (the page store is a memfd)
#: may come in huge pages.  A punch of one page inside a huge page may zero
#: it in place instead of dropping it, and the runtime takes only a hole for
#: a dropped copy (ext/rt/uffd.c): on such a node no rank punches.
SHMEM_HUGE_ROOT = "/sys/kernel/mm/transparent_hugepage"


def shmem_huge_pages(root=SHMEM_HUGE_ROOT):
    """Whether this node's shared memory may use huge pages: the global
    setting, or a size's own (mTHP, Linux >= 6.11), in force."""
    def setting(path):
        try:
            text = Path(path).read_text()
        except OSError:
            return None
        start, end = text.find("["), text.find("]")
        return text[start + 1:end] if 0 <= start < end else None
    on = ("always", "within_size", "force")
    top = setting(f"{root}/shmem_enabled")
    if top in on:
        return True
    sizes = (setting(p) for p in Path(root).glob("hugepages-*/shmem_enabled"))
    return any(s in on or (s == "inherit" and top in on) for s in sizes)


def write_burst_us():
    """PSHARE_WRITE_BURST_US in µs; ValueError (the launcher's preflight says
    it) for anything but a number from 0 to 1000000000."""
    value = os.environ.get(WRITE_BURST_VARIABLE, "")
    if not value:
        return WRITE_BURST_US
    try:
        us = float(value)
    except ValueError:
        us = -1.0
    if not 0 <= us <= 1e9:
        raise ValueError(f"{WRITE_BURST_VARIABLE}: expected a number of µs from 0 to "
                         f"1000000000, not '{value}'")
    return us


def debug_prefetch_delay_ms():
    try:
        return max(float(os.environ.get(DEBUG_PREFETCH_DELAY_VARIABLE, "0")), 0.0)
    except ValueError:
        return 0.0


def started_by_process_manager():
    """The first variable saying a process manager started this process, or None."""
    return next((v for v in PROCESS_MANAGER_VARIABLES if v in os.environ), None)


def rank_from_environment():
    """This process's rank before MPI is up (to print a line once, from rank 0)."""
    for var in RANK_FROM:
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return 0


def runtime_library():
    """Path of the runtime (installed beside this package)."""
    lib = Path(__file__).with_name("libpshare-rt.so")
    if not lib.exists():
        raise FileNotFoundError(f"the pshare runtime is missing: {lib}")
    return str(lib)


def is_rank_variable(name):
    return name in RANK_VARIABLES or name.startswith(RANK_VARIABLE_PREFIXES)


def app_environment(base, runtime):
    """The app's environment (from home's) and the runtime's flags for it."""
    from ._rtctl import ENV_HAD_PRELOAD, ENV_HAD_TUNABLES, NO_PUNCH
    env = {k: v for k, v in base.items() if not is_rank_variable(k)}
    flags = NO_PUNCH if base.get(PUNCH_VARIABLE) == "0" else 0
    if env.get("LD_PRELOAD"):
        env["LD_PRELOAD"] = runtime + ":" + env["LD_PRELOAD"]
        flags |= ENV_HAD_PRELOAD
    else:
        env["LD_PRELOAD"] = runtime
    if env.get("GLIBC_TUNABLES"):
        env["GLIBC_TUNABLES"] = RSEQ_OFF + ":" + env["GLIBC_TUNABLES"]
        flags |= ENV_HAD_TUNABLES
    else:
        env["GLIBC_TUNABLES"] = RSEQ_OFF
    return env, flags


def current_rlimits():
    return {name: resource.getrlimit(getattr(resource, name)) for name in RLIMITS}


def apply_rlimits(limits):
    """Adopt home's limits (as far as this rank allows): the stack limit fixes
    where mmap puts libraries, so it must match."""
    for name, (soft, hard) in limits.items():
        res = getattr(resource, name)
        try:
            resource.setrlimit(res, (soft, hard))
        except (ValueError, OSError):
            cur_soft, cur_hard = resource.getrlimit(res)
            resource.setrlimit(res, (min(soft, cur_hard) if soft != resource.RLIM_INFINITY else cur_hard, cur_hard))
