"""Smoke tests of pshare-bench: every subcommand with tiny counts, exit 0 and a
JSON document with the expected keys.  No timing is asserted (the numbers
depend on the machine); column C is either measured or n/a with a reason."""
import importlib.util
import json
import subprocess
import sys

import pytest

from helpers import base_env

pytestmark = [
    pytest.mark.pshare,
    pytest.mark.skipif(importlib.util.find_spec("pshare_bench") is None,
                       reason="pshare_bench is not installed (pip install .)"),
]

SMOKE_TIMEOUT_S = 60
#: per run inside pshare-bench: a hung C run becomes "n/a (failed)" well within SMOKE_TIMEOUT_S
RUN_TIMEOUT_S = "25"


def bench(tmp_path, *args):
    """Run `pshare-bench ARGS --json FILE` (as python -m, so the entry point
    need not be on PATH); return (process, the JSON document)."""
    out = tmp_path / "result.json"
    proc = subprocess.run([sys.executable, "-m", "pshare_bench.cli", *args, "--json", str(out),
                           "--timeout", RUN_TIMEOUT_S],
                          cwd=tmp_path, env=base_env(), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=SMOKE_TIMEOUT_S)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    doc = json.loads(out.read_text())
    assert doc["benchmark"] == args[0]
    assert {"version", "machine", "params"} <= set(doc)
    return proc, doc


def check_modes(doc):
    """A and B measured; C measured or n/a with the reason."""
    assert set(doc["modes"]) == {"A", "B", "C"}
    assert doc["modes"]["A"]["status"] == "ok"
    assert doc["modes"]["B"]["status"] == "ok"
    c = doc["modes"]["C"]
    assert c["status"] in ("ok", "n/a")
    if c["status"] == "n/a":
        assert c["reason"]
    return c["status"] == "ok"


def test_table1(tmp_path):
    proc, doc = bench(tmp_path, "table1", "--count", "20", "--mpi-count", "50", "--dir", str(tmp_path))
    c_ok = check_modes(doc)
    assert doc["mpi_roundtrip"]["n"] == 50 and doc["mpi_roundtrip"]["median_us"] > 0
    assert doc["B_calls_intercepted"] is True
    for call in ("open", "close", "mkdir", "rmdir", "symlink", "flock"):
        row = doc["calls"][call]
        for m in "AB":
            assert row[m]["n"] == 20
            assert {"median_us", "p10_us", "p90_us"} <= set(row[m])
        assert row["ratio_B_A"] > 0
        assert set(row["paper_ms"]) == {"A", "B", "C"}
        assert (row["C"] is not None) == c_ok
    for call in ("getppid", "timer", "mmap", "munmap"):
        assert doc["calls"][call]["A"]["n"] == 20
        assert (doc["calls"][call]["C"] is not None) == c_ok
        assert (doc["calls"][call]["C_over_rtt"] is not None) == c_ok
    assert "Table 1" in proc.stdout
    if not c_ok:
        assert "n/a (not forwarded)" in proc.stdout
    assert not list(tmp_path.glob("pshare-bench-table1-*")), "the work tree was left behind"


def test_read(tmp_path):
    _, doc = bench(tmp_path, "read", "--count", "5", "--max-pages", "4", "--dir", str(tmp_path))
    c_ok = check_modes(doc)
    assert [r["pages"] for r in doc["sizes"]] == [1, 2, 3, 4]
    assert doc["sizes"][0]["A"]["n"] == 5
    assert doc["fit"]["A"]["us_per_page"] is not None
    assert (doc["fit"]["C"] is not None) == c_ok
    assert doc["paper_us_per_page"] == 400


def test_faults(tmp_path):
    _, doc = bench(tmp_path, "faults", "--count", "10", "--rounds", "10", "--scan-kib", "64",
                   "--mpi-count", "50")
    c_ok = check_modes(doc)
    for key in ("read_fault", "upgrade", "write_fault", "rmw", "pingpong"):
        assert doc["measures"][key]["A"]["n"] > 0
        assert (doc["measures"][key]["C"] is not None) == c_ok
    assert doc["measures"]["scan"]["B"]["bytes"] == 64 * 1024
    rtt = doc["mpi_roundtrip"]
    assert rtt["size"] == 4096 and rtt["n"] == 50 and rtt["median_us"] > 0


def test_faults_nolocal_roundtrip(tmp_path):
    """--nolocal reaches the MPI runs (MPICH's network path on one host)."""
    _, doc = bench(tmp_path, "faults", "--count", "5", "--rounds", "5", "--scan-kib", "16",
                   "--mpi-count", "20", "--nolocal")
    assert doc["params"]["nolocal"] is True
    assert doc["mpi_roundtrip"]["nolocal"] is True


def test_faults_pinned_as_nodes(tmp_path):
    """--cores-per-rank C: A and B run on rank 0's C cores, C with each rank
    on its own (pshare_bench.pin), as `scale` does; the rank's threads,
    runtime and agent share them, and the faults are still served."""
    import os
    from pshare_bench.pin import format_cpus
    _, doc = bench(tmp_path, "faults", "--count", "5", "--rounds", "3", "--scan-kib", "16",
                   "--mpi-count", "20", "--cores-per-rank", "1")
    assert doc["params"]["cores_per_rank"] == 1
    assert check_modes(doc), doc["modes"]["C"]["reason"]
    cpus = format_cpus(sorted(os.sched_getaffinity(0)))
    pin = ["-m", "pshare_bench.pin", "--cpus", cpus, "--per-rank", "1"]
    for mode in "AB":
        cmd = doc["modes"][mode]["command"]
        i = cmd.index("-m")
        assert cmd[i:i + 8] == [*pin, "--rank", "0"] and cmd[i + 8] == "--", cmd
    cmd = doc["modes"]["C"]["command"]
    i = cmd.index("-m")
    assert cmd[i:i + 6] == pin and cmd[i + 6] == "--", cmd       # each rank its own cores
    assert cmd[:2] == [cmd[0], "-n"] and "mpiexec" in cmd[0]
    assert doc["measures"]["read_fault"]["C"]["n"] == 5
    assert doc["measures"]["scan"]["C"]["bytes"] == 16 * 1024


def test_faults_contention(tmp_path):
    """--contention N: N threads on ranks 1..N read-faulting at once, beside
    the idle read fault (C); the keys without it are unchanged."""
    proc, doc = bench(tmp_path, "faults", "--count", "6", "--rounds", "5", "--scan-kib", "16",
                      "--mpi-count", "20", "--contention")
    c_ok = check_modes(doc)
    assert doc["params"]["contention"] == 3
    assert set(doc["measures"]) == {"read_fault", "upgrade", "write_fault", "rmw", "pingpong",
                                    "scan", "contention"}
    c = doc["measures"]["contention"]
    assert c["threads"] == 3
    assert {"n", "median_us", "p10_us", "p90_us", "mean_us", "per_thread_median_us", "overlap",
            "idle_median_us", "over_idle", "C_over_rtt", "run"} <= set(c)
    run = c["run"]
    assert run["status"] in ("ok", "n/a")
    assert "--placement" in run["command"] and "1,2,3" in run["command"]
    assert run["command"][run["command"].index("-n") + 1] == "4"
    assert (c["idle_median_us"] is not None) == c_ok
    if run["status"] == "ok":
        assert c["n"] == 3 * 6 and len(c["per_thread_median_us"]) == 3
        assert c["median_us"] > 0 and c["C_over_rtt"] > 0
        assert (c["over_idle"] is not None) == c_ok
        assert [r["threads"] for r in run["ranks"][1:]] == [1, 1, 1]
        assert all(r["faults_read"] > 0 for r in run["ranks"][1:])
        if c["overlap"] is not None:
            assert 0 <= c["overlap"] <= 1
        assert "ranks at once" in proc.stdout
    else:
        assert run["reason"] and c["median_us"] is None and c["over_idle"] is None


def test_sync(tmp_path):
    """Mutex and condvar hand-over and barrier rounds as A, B, C beside the MPI
    round trip, and the barrier with one thread on each of 3 ranks."""
    proc, doc = bench(tmp_path, "sync", "--count", "10", "--mpi-count", "20")
    c_ok = check_modes(doc)
    assert doc["params"]["barrier_ranks"] == 3
    assert set(doc["measures"]) == {"mutex_handover", "condvar_handover", "barrier",
                                    "barrier_wide"}
    rtt = doc["mpi_roundtrip"]
    assert rtt["size"] == 4096 and rtt["n"] == 20 and rtt["median_us"] > 0
    for key in ("mutex_handover", "condvar_handover", "barrier"):
        row = doc["measures"][key]
        for m in "AB":
            assert row[m]["n"] == 10 and row[m]["median_us"] > 0
        assert (row["C"] is not None) == c_ok
        assert (row["C_over_rtt"] is not None) == c_ok
        if c_ok:
            assert row["C"]["n"] == 10 and row["C_over_rtt"] > 0
    if c_ok:
        r1 = doc["modes"]["C"]["ranks"][1]
        assert r1["threads"] == 1
    w = doc["measures"]["barrier_wide"]
    run = w["run"]
    assert run["ranks"] == 3 and run["status"] in ("ok", "n/a")
    assert run["command"][run["command"].index("-n") + 1] == "3"
    assert "1,2" in run["command"]
    if run["status"] == "ok":
        assert w["n"] == 10 and w["median_us"] > 0 and w["over_rtt"] > 0
        assert run["threads_per_rank"] == "1/1/1"
    else:
        assert run["reason"] and w["median_us"] is None
    assert "mutex hand-over" in proc.stdout


def test_sync_pinned_as_nodes(tmp_path):
    """sync --cores-per-rank 1: the hand-overs measured with each rank on
    its own core, the native ones on rank 0's."""
    _, doc = bench(tmp_path, "sync", "--count", "3", "--mpi-count", "10", "--barrier-ranks", "0",
                   "--cores-per-rank", "1")
    assert doc["params"]["cores_per_rank"] == 1
    assert check_modes(doc), doc["modes"]["C"]["reason"]
    for mode, rank0 in (("A", True), ("B", True), ("C", False)):
        cmd = doc["modes"][mode]["command"]
        assert "pshare_bench.pin" in cmd and ("--rank" in cmd) == rank0, cmd
    assert doc["measures"]["mutex_handover"]["C"]["n"] == 3


def test_sync_without_wide_barrier(tmp_path):
    _, doc = bench(tmp_path, "sync", "--count", "5", "--mpi-count", "10", "--barrier-ranks", "0")
    assert "barrier_wide" not in doc["measures"]
    assert doc["params"]["barrier_ranks"] == 0


def test_sync_helpers():
    from pshare_bench.sync import check_spread
    r = {"threads": 1, "faults_write": 2}
    assert check_spread(None, 3) is not None
    assert "not 3" in check_spread({"ranks": [r, r]}, 3)
    assert "no thread ran on rank 2" in check_spread({"ranks": [r, r, dict(r, threads=0)]}, 3)
    assert "no page fault on rank 1" in check_spread({"ranks": [r, {"threads": 1}, r]}, 3)
    assert check_spread({"ranks": [r, r, r]}, 3) is None


def test_contention_helpers():
    from pshare_bench.faults import check_contended, overlap
    assert overlap([(0, 10), (0, 10), (0, 10)]) == 1.0
    assert overlap([(0, 10), (5, 15), (2, 12)]) == 0.5
    assert overlap([(0, 10), (20, 30), (40, 50)]) == 0.0
    r = {"threads": 1, "faults_read": 4}
    assert check_contended(None, 3) is not None
    assert "not 4" in check_contended({"ranks": [r, r]}, 3)
    assert "no thread ran on rank 2" in check_contended(
        {"ranks": [r, r, dict(r, threads=0), r]}, 3)
    assert "no read fault on rank 3" in check_contended(
        {"ranks": [r, r, r, dict(r, faults_read=0)]}, 3)
    assert check_contended({"ranks": [r, r, r, r]}, 3) is None


def test_apps(tmp_path):
    _, doc = bench(tmp_path, "apps", "--scale", "0.01", "--ranks", "1,2", "--threads", "2")
    assert set(doc["apps"]) == {"pi", "matmul", "stencil", "counter"}
    assert doc["mismatches"] == 0 and doc["failures"] == 0
    runs = doc["runs"]
    assert len(runs) == 4 * 3
    for r in runs:
        assert r["ok"] and r["compute_s"] > 0 and r["speedup"] > 0
        if r["ranks"] is not None:
            assert r["checksum_ok"] is True


SCALE_RUN_KEYS = {"app", "nodes", "cores_per_node", "threads", "native_s", "pshare_s", "speedup",
                  "checksum_ok", "threads_per_rank", "faults", "pages_in"}


def test_scale(tmp_path):
    """scale --nodes 2 --cores-per-node 1: every app natively on one core, on
    two, and under pshare with rank r pinned to core r; checksums agree."""
    import os
    from pshare_bench.pin import cores_for, format_cpus
    proc, doc = bench(tmp_path, "scale", "--nodes", "2", "--cores-per-node", "1", "--scale", "0.01")
    assert set(doc) >= {"benchmark", "runs"}
    assert doc["mismatches"] == 0 and doc["failures"] == 0
    cpus = sorted(os.sched_getaffinity(0))
    assert doc["oversubscribed"] is (len(cpus) < 2)
    assert doc["pinning"] == {"native": format_cpus(cores_for(0, 1, cpus)),
                              "ideal": format_cpus(cores_for(0, 2, cpus)),
                              "ranks": [format_cpus(cores_for(r, 1, cpus)) for r in (0, 1)]}
    runs = doc["runs"]
    assert [r["app"] for r in runs] == ["pi", "matmul", "stencil", "counter", "radix", "nbody", "lu"]
    for r in runs:
        assert SCALE_RUN_KEYS <= set(r), SCALE_RUN_KEYS - set(r)
        assert (r["nodes"], r["cores_per_node"], r["threads"]) == (2, 1, 2)   # threads: N×C
        assert r["checksum_ok"] is True, r
        assert r["native_s"] > 0 and r["pshare_s"] > 0 and r["ideal_native_s"] > 0
        assert r["speedup"] == pytest.approx(r["native_s"] / r["pshare_s"], rel=1e-3)
        assert len(r["threads_per_rank"]) == 2 and sum(r["threads_per_rank"]) == 3  # main incl.
        assert r["threads_per_rank"][1] >= 1, "no thread ran on rank 1"
        assert isinstance(r["faults"], int) and isinstance(r["pages_in"], int)
        ps = r["commands"]["pshare"]
        assert ps[ps.index("-n") + 1] == "2" and "pshare_bench.pin" in ps
    # threads on rank 1 touch what main wrote: sharing apps fault
    assert all(r["faults"] > 0 for r in runs if r["app"] in ("radix", "nbody", "lu", "stencil"))
    assert "Scale: 2 simulated nodes" in proc.stdout
    assert ("oversubscribed" in proc.stdout) is doc["oversubscribed"]


def test_scale_passes_the_hold_window(tmp_path):
    """--hold-us reaches every pshare-launch and the JSON's params."""
    _, doc = bench(tmp_path, "scale", "--nodes", "2", "--cores-per-node", "1", "--scale", "0.01",
                   "--apps", "counter", "--hold-us", "100")
    assert doc["params"]["hold_us"] == 100
    (run,) = doc["runs"]
    assert run["checksum_ok"] is True, run
    ps = run["commands"]["pshare"]
    assert ps[ps.index("--hold-us") + 1] == "100"


AFFINITY_C = r"""
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
static int cores[64];
static void *count(void *arg)
{
    cpu_set_t set;
    sched_getaffinity(0, sizeof set, &set);
    cores[(long)arg] = CPU_COUNT(&set);
    return NULL;
}
int main(int argc, char **argv)
{
    long n = atol(argv[1]);
    pthread_t tid[64];
    for (long t = 0; t < n; t++)
        pthread_create(&tid[t], NULL, count, (void *)t);
    printf("checksum");
    for (long t = 0; t < n; t++) {
        pthread_join(tid[t], NULL);
        printf(" %d", cores[t]);
    }
    printf("\nelapsed_s 0.001\n");
    return 0;
}
"""


def test_scale_pins_and_fails_loudly(tmp_path):
    """Fake apps (PSHARE_BENCH_BIN): 'pi' prints how many cores each of its
    threads may use, so its "checksum" shows the pinning: 1 per thread natively
    on one node, 2 in the ideal run and under pshare (the job's CPUs, which the
    program sees as its own: each rank's one core; 4 if the ranks were not
    pinned): a mismatch.  'matmul' exits 3: a failed run.
    Both are reported, and the exit status is 1."""
    import os
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two cores")
    from helpers import CC
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (tmp_path / "affinity.c").write_text(AFFINITY_C)
    subprocess.run([CC, "-O1", "-pthread", "-o", str(bindir / "pi"), str(tmp_path / "affinity.c")],
                   check=True, timeout=120)
    (bindir / "matmul").write_text("#!/bin/sh\necho broken >&2\nexit 3\n")
    (bindir / "matmul").chmod(0o755)
    out = tmp_path / "scale.json"
    proc = subprocess.run([sys.executable, "-m", "pshare_bench.cli", "scale", "--nodes", "2",
                           "--cores-per-node", "1", "--apps", "pi,matmul", "--json", str(out),
                           "--timeout", RUN_TIMEOUT_S],
                          cwd=tmp_path, env=base_env({"PSHARE_BENCH_BIN": str(bindir)}),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=SMOKE_TIMEOUT_S)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["mismatches"] == 1 and doc["failures"] == 1
    pi, matmul = doc["runs"]
    assert pi["checksum_ok"] is False
    assert pi["checksums"] == {"native": "checksum 1 1", "ideal": "checksum 2 2",
                               "pshare": "checksum 2 2"}
    assert pi["threads_per_rank"] == [2, 1]
    assert matmul["ok"] is False and matmul["error"].startswith("native: exit 3")
    assert "MISMATCH" in proc.stdout and "FAILED" in proc.stdout
    assert "CHECKSUM MISMATCH" in proc.stderr and "broken" in proc.stderr


def test_pin_wrapper(tmp_path):
    """Under mpiexec, each rank of the wrapper pins itself to its own cores
    and execs the command (which sees the affinity)."""
    import os
    from helpers import find_mpiexec
    from pshare_bench.pin import cores_for, format_cpus, oversubscribed, parse_cpus
    assert parse_cpus("0-3,8,10-11") == [0, 1, 2, 3, 8, 10, 11]
    assert format_cpus([5, 0, 1, 2, 10, 11]) == "0-2,5,10-11"
    assert cores_for(1, 2, [0, 1, 2, 3]) == [2, 3]
    assert cores_for(2, 1, [0, 1]) == [0]                  # wraps modulo the cores
    assert cores_for(1, 3, [4, 5]) == [4, 5]
    assert oversubscribed(4, 1, [0, 1]) and not oversubscribed(2, 1, [0, 1])
    mpiexec = find_mpiexec()
    if mpiexec is None:
        pytest.skip("mpiexec not found")
    cpus = sorted(os.sched_getaffinity(0))
    proc = subprocess.run(
        [str(mpiexec), "-n", "3", sys.executable, "-m", "pshare_bench.pin", "--cpus",
         format_cpus(cpus), "--per-rank", "1", "--", "sh", "-c",
         "echo $PMI_RANK $(grep Cpus_allowed_list /proc/self/status | cut -f2)"],
        cwd=tmp_path, env=base_env(), stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=SMOKE_TIMEOUT_S)
    assert proc.returncode == 0, proc.stderr
    seen = dict(line.split() for line in proc.stdout.splitlines())
    assert seen == {str(r): format_cpus(cores_for(r, 1, cpus)) for r in range(3)}


#: the new kernels, tiny: their arguments after THREADS
KERNEL_CASES = {"radix": ("20000",), "nbody": ("96", "4"), "lu": ("128", "16")}


@pytest.mark.parametrize("name", sorted(KERNEL_CASES))
def test_kernel_native_vs_pshare(tmp_path, name):
    """Each new kernel prints the same checksum natively (1 and 3 threads) and
    under mpiexec -n 2 pshare-launch (3 threads over two ranks)."""
    from helpers import run_native, run_pshare
    from pshare_bench.runner import program
    prog, args = program(name), KERNEL_CASES[name]

    def checksum(result):
        assert result.returncode == 0, result.stderr.decode(errors="replace")
        lines = result.stdout.decode().splitlines()
        assert [l.split()[0] for l in lines] == ["checksum", "elapsed_s"], lines
        return lines[0]

    one = checksum(run_native(prog, ["1", *args], cwd=tmp_path / "n1"))
    assert checksum(run_native(prog, ["3", *args], cwd=tmp_path / "n3")) == one
    assert checksum(run_pshare(prog, ["3", *args], cwd=tmp_path / "p",
                               mode=("mpiexec", 2))) == one
    if name == "radix":
        assert one.startswith("checksum sorted=1 ")


def test_bad_option_is_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pshare_bench.cli", "apps", "--apps", "nope"],
                          cwd=tmp_path, env=base_env(), capture_output=True, text=True,
                          timeout=SMOKE_TIMEOUT_S)
    assert proc.returncode == 2
    assert "unknown app" in proc.stderr and "Traceback" not in proc.stderr


def test_c_needs_proof_of_distribution():
    """Column C is kept only when the stats show a thread on rank 1 that
    forwarded calls (table1, read) or took faults (faults)."""
    from pshare_bench.runner import check_distributed
    home = {"threads": 1, "syscalls_forwarded": 0, "faults_read": 0}
    assert check_distributed(None) is not None
    assert check_distributed({"ranks": [home]}) is not None
    assert "no thread" in check_distributed({"ranks": [home, {"threads": 0}]})
    r1 = {"threads": 1, "syscalls_forwarded": 0, "faults_read": 0, "faults_write": 0,
          "faults_upgrade": 0}
    assert "forwarded" in check_distributed({"ranks": [home, r1]})
    assert check_distributed({"ranks": [dict(home, syscalls_forwarded=5), r1]}) is None
    assert check_distributed({"ranks": [home, dict(r1, syscalls_forwarded=5)]}) is None
    assert "fault" in check_distributed({"ranks": [home, r1]}, "faults")
    assert check_distributed({"ranks": [home, dict(r1, faults_read=3)]}, "faults") is None


def test_statistics_helpers():
    from pshare_bench.runner import least_squares, parse_output, percentile, summarize
    samples, values = parse_output("ns open 3000 1000 2000\nscan_bytes 4096\nchecksum 1 2\n")
    assert samples == {"open": [3000, 1000, 2000]}
    assert values == {"scan_bytes": "4096", "checksum": "1 2"}
    s = summarize(samples["open"])
    assert s["median_us"] == 2.0 and s["n"] == 3 and s["min_us"] == 1.0
    assert percentile([0, 10], 0.1) == pytest.approx(1.0)
    slope, intercept = least_squares([1, 2, 3, 4], [5, 7, 9, 11])
    assert slope == pytest.approx(2.0) and intercept == pytest.approx(3.0)
