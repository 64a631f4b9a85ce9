"""Where each new thread goes: the placement policy (home's agent uses it)."""
import os

HOME = 0                     # rank 0: main() runs there, and every forwarded call
POLICIES = ("roundrobin", "home", "block")


def usable_cpus():
    """The cores this process may run on (its affinity: a Slurm cpuset,
    taskset, mpiexec's binding), not the machine's."""
    try:
        return frozenset(os.sched_getaffinity(0))
    except AttributeError:
        return frozenset(range(os.cpu_count() or 1))


def usable_cores():
    """How many: "block" fills a rank with that many threads."""
    return len(usable_cpus()) or 1


class Placement:
    """Where each new thread goes: roundrobin, home, block, or a rank list."""

    def __init__(self, policy, nranks, cores):
        self.nranks = nranks
        self.count = 0
        if policy == "roundrobin":
            self.order = [(i + 1) % nranks for i in range(nranks)]
        elif policy == "home":
            self.order = [HOME]
        elif policy == "block":
            per = max(1, cores)
            self.order = [r for r in list(range(1, nranks)) + [HOME] for _ in range(per)]
        else:
            parts = policy.split(",")
            if not all(x.strip().isdigit() for x in parts):
                raise ValueError(f"--placement: '{policy}' is not one of {', '.join(POLICIES)} "
                                 "or a comma-separated list of ranks")
            self.order = [int(x) for x in parts]
            missing = [r for r in self.order if r >= nranks]
            if missing:
                raise ValueError(f"--placement: rank {missing[0]} does not exist "
                                 f"(this job has {nranks} rank{'s' if nranks > 1 else ''})")

    def next(self):
        rank = self.order[self.count % len(self.order)]
        self.count += 1
        return rank
