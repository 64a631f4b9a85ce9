"""The CPUs a spread program sees, and calls that name one thread's
scheduling (ext/rt/cpus.c, ext/rt/schedcall.c).

- A call about a thread's affinity, policy or nice made by any thread about
  any other acts on that thread, where it runs: natively identical at 1-4
  ranks with each node's own CPU numbers (`--cpus node`).
- With the cluster's CPUs (the default) the CPU count is every rank's
  usable CPUs, an unpinned thread may run on all of them, and a thread
  pinned to a CPU of its own node is pinned there (one on another node's
  stays on its own).  The expected figures come from this machine's
  affinity: every rank here has the same CPUs."""

import os
import subprocess

import pytest

from helpers import (CC, TESTS_DIR, base_env, compile_dir, run_native, run_pshare,
                     same_as_native)

SRC = TESTS_DIR / "cpus"
RANKS = (1, 2, 3, 4)


@pytest.fixture(scope="module")
def bins(tmp_path_factory):
    return compile_dir(SRC, tmp_path_factory.mktemp("cpus"))


def cores():
    return len(os.sched_getaffinity(0))


def braces(cpus):
    return "{" + ",".join(str(c) for c in cpus) + "}"


@pytest.mark.pshare
@pytest.mark.parametrize("nranks", RANKS, ids=[f"mpiexec{n}" for n in RANKS])
def test_scheduling_calls_act_on_the_thread_they_name(bins, tmp_path, nranks, mpiexec):
    """pthread_create with an affinity (the parent pins the child by its
    tid), pthread_setaffinity_np of itself, of another worker and reads of
    main's, pthread_setschedparam and setpriority of a worker by its tid,
    and the kernel's errors.  Off home these ran with the cluster tid in
    that rank's kernel: they pinned home's executor of the thread instead
    (ESRCH on another host)."""
    same_as_native(bins["thread_affinity"], tmp_path, nranks, extra_opts=["--cpus", "node"])


@pytest.mark.pshare
@pytest.mark.parametrize("nranks", (2, 4), ids=["mpiexec2", "mpiexec4"])
def test_node_cpus_are_each_nodes_own(bins, tmp_path, nranks, mpiexec):
    same_as_native(bins["cluster_cpus"], tmp_path, nranks, args=["1"],
                   extra_opts=["--cpus", "node"])


@pytest.mark.pshare
@pytest.mark.parametrize("nranks", (2, 3, 4), ids=["mpiexec2", "mpiexec3", "mpiexec4"])
def test_the_cluster_cpus_are_the_programs(bins, tmp_path, nranks, mpiexec):
    """Thread k is placed on rank k // C (C: each rank's CPUs) and created
    pinned to CPU k, which is on that rank: pinned there, and sched_getcpu
    (the vDSO's, made a trapped call: vdso.c) and getcpu say k.  It then asks for
    CPU k + C, on the next rank: it stays on its own node, unpinned there,
    and reads back every CPU."""
    c = cores()
    total = nranks * c
    placement = ",".join(str(k // c) for k in range(total))
    got = run_pshare(bins["cluster_cpus"], [str(c)], tmp_path, ("mpiexec", nranks),
                     extra_opts=["--placement", placement])
    assert got.returncode == 0, got.stderr.decode(errors="replace")
    everything = braces(range(total))
    expected = [f"online {total} configured {total} get_nprocs {total} get_nprocs_conf {total}",
                f"main: {everything}"]
    expected += [f"worker {k}: created {{{k}}}, on {k}/{k}, to {(k + c) % total}: 0 {everything}"
                 for k in range(total)]
    expected += ["a CPU nobody has: Invalid argument", f"main after: {everything}"]
    assert got.stdout.decode().splitlines() == expected


OMP_TEAM_C = r"""
#include <omp.h>
#include <stdio.h>
int main(void)
{
    int team = 0;
#pragma omp parallel
#pragma omp single
    team = omp_get_num_threads();
    printf("max threads %d, procs %d, team %d\n", omp_get_max_threads(), omp_get_num_procs(), team);
    return 0;
}
"""


@pytest.mark.pshare
def test_an_openmp_team_spans_the_cluster(tmp_path, mpiexec):
    """An unchanged OpenMP program's default team is the job's CPUs, not
    home's: its threads spread over every rank."""
    src = tmp_path / "omp_team.c"
    src.write_text(OMP_TEAM_C)
    binary = tmp_path / "omp_team"
    built = subprocess.run([CC, "-O1", "-fopenmp", "-o", str(binary), str(src)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if built.returncode != 0:
        pytest.skip(f"{CC} cannot build OpenMP programs here: {built.stdout.decode()[-300:]}")
    env = base_env({})
    env.pop("OMP_NUM_THREADS", None)
    c = cores()
    native = run_native(binary, (), tmp_path / "native", env=env)
    assert native.stdout.decode() == f"max threads {c}, procs {c}, team {c}\n"
    got = run_pshare(binary, (), tmp_path / "pshare", ("mpiexec", 2), env=env)
    assert got.returncode == 0, got.stderr.decode(errors="replace")
    assert got.stdout.decode() == f"max threads {2 * c}, procs {2 * c}, team {2 * c}\n"


def test_a_bad_cpus_setting_is_refused(bins, tmp_path):
    got = run_pshare(bins["cluster_cpus"], (), tmp_path, "singleton",
                     env=base_env({"PSHARE_CPUS": "all"}))
    err = got.stderr.decode()
    assert got.returncode == 2 and err.count("\n") == 1 and "PSHARE_CPUS" in err, err
