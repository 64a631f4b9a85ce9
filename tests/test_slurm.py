"""pshare under a real Slurm: munged, slurmctld and slurmd on this machine
(tests/slurm_cluster.py), started once per session; Debian's slurm-wlm and munge
are installed first when missing (as root with apt-get), else every test here
is skipped with the reason.

Each run is compared with a native run: stdout, stderr without the lines of
pshare ('pshare:') and srun ('srun:'), exit status.
"""
import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import (TESTS_DIR, RunTimeout, base_env, compile_app, find_mpiexec,
                     normalize_status, pshare_lines, run_command, run_native,
                     strip_pshare_lines)
from slurm_cluster import ClusterError, ClusterUnavailable, SlurmCluster

pytestmark = [pytest.mark.pshare]

#: one srun or sbatch job; a hang fails the test
JOB_TIMEOUT_S = 90
STDIN_BYTES = 10 * 1000 * 1000
SRUN_CASES = [("pi_demo", ("4", "400000"), 0), ("remote_calls", (), 0),
              ("mutex_counter", (), 0), ("exit_worker", (), 3)]


@pytest.fixture(scope="session")
def slurm_cluster():
    try:
        cluster = SlurmCluster.start()
    except ClusterUnavailable as e:
        pytest.skip(f"no Slurm cluster for the tests: {e}")
    except ClusterError as e:
        pytest.fail(f"the test Slurm cluster did not start: {e}", pytrace=False)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def slurm_env(slurm_cluster, pshare_launch):
    """The clients' environment: this cluster, pshare-launch first on PATH
    (the job template calls it by name)."""
    env = slurm_cluster.env(base_env())
    env["PATH"] = f"{Path(pshare_launch).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def strip_srun_lines(stderr: bytes) -> bytes:
    return b"".join(l for l in strip_pshare_lines(stderr).splitlines(keepends=True)
                    if not l.startswith(b"srun: "))


def srun(cluster, env, args, cwd, stdin=None):
    """srun ARGS in cwd; on a hang every job is cancelled before failing."""
    cmd = ["srun", *args]
    try:
        if stdin is None:
            return run_command(cmd, cwd=cwd, timeout=JOB_TIMEOUT_S, env=env)
        return run_with_stdin(cmd, stdin, cwd, env)
    except RunTimeout as e:
        cluster.cancel_all()
        raise AssertionError(f"{e}\n{cluster.diagnostics(['slurmd'])}") from None


def run_with_stdin(cmd, stdin_path, cwd, env=None):
    """Like helpers.run_command, with stdin from a file: (status, stdout, stderr)."""
    cwd.mkdir(parents=True, exist_ok=True)
    with open(stdin_path, "rb") as f:
        proc = subprocess.Popen([str(c) for c in cmd], cwd=cwd, stdin=f, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env or base_env(),
                                start_new_session=True)
    try:
        out, err = proc.communicate(timeout=JOB_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise RunTimeout(f"timed out after {JOB_TIMEOUT_S} s: {cmd}\n"
                         f"--- stderr (tail) ---\n{err[-3000:].decode(errors='replace')}")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return normalize_status(proc.returncode), out, err


def assert_same(native, status, out, err, what):
    assert (status, out) == (native.returncode, native.stdout), (
        f"{what}: status {status} (native {native.returncode})\n--- stdout ---\n"
        f"{out.decode(errors='replace')}\n--- native stdout ---\n"
        f"{native.stdout.decode(errors='replace')}\n--- stderr ---\n{err.decode(errors='replace')}")
    assert strip_srun_lines(err) == native.stderr, f"{what}: stderr differs:\n{err.decode()}"


@pytest.mark.parametrize("app,args,status", SRUN_CASES, ids=[c[0] for c in SRUN_CASES])
def test_slurm_srun_pmi2_matches_native(slurm_cluster, slurm_env, apps_bin, pshare_launch,
                                        tmp_path, app, args, status):
    native = run_native(apps_bin[app], args, cwd=tmp_path / "native")
    assert native.returncode == status
    res = srun(slurm_cluster, slurm_env,
               ["-n", "2", "--mpi=pmi2", pshare_launch, apps_bin[app], *args],
               cwd=tmp_path / "srun")
    assert_same(native, res.returncode, res.stdout, res.stderr, "srun --mpi=pmi2 -n 2")
    assert res.files == native.files
    assert slurm_cluster.leftover_tasks() == []


def test_slurm_srun_without_mpi_stops_with_one_line(slurm_cluster, slurm_env, apps_bin,
                                                    pshare_launch, tmp_path):
    res = srun(slurm_cluster, slurm_env, ["-n", "2", pshare_launch, apps_bin["pi_demo"]],
               cwd=tmp_path / "srun")
    lines = pshare_lines(res.stderr)
    assert res.returncode != 0, res
    assert len(lines) == 1 and "--mpi=pmi2" in lines[0] and "2 tasks" in lines[0], \
        res.stderr.decode()
    assert res.stdout == b"", "the program must not run"
    assert b"Traceback" not in res.stderr
    assert strip_srun_lines(res.stderr) == b"", res.stderr.decode()
    assert slurm_cluster.leftover_tasks() == []


def test_slurm_stdin_reaches_app_whole(slurm_cluster, slurm_env, pshare_launch, tmp_path):
    """srun sends stdin to every task: rank 1's copy must not stall rank 0's."""
    reader = compile_app(TESTS_DIR / "slurm_apps" / "stdin_sum.c", tmp_path)
    data = tmp_path / "input"
    with open(data, "wb") as f:
        f.write(os.urandom(STDIN_BYTES))
    native = run_with_stdin([reader], data, tmp_path / "native")
    assert native[0] == 0 and native[1].startswith(f"bytes {STDIN_BYTES} ".encode())
    try:
        status, out, err = run_with_stdin(
            ["srun", "--mpi=pmi2", "-n", "2", pshare_launch, reader], data, tmp_path / "srun",
            slurm_env)
    except RunTimeout as e:
        slurm_cluster.cancel_all()
        raise AssertionError(str(e)) from None
    assert (status, out) == native[:2], err.decode(errors="replace")
    assert strip_srun_lines(err) == native[2]


def installed_template() -> Path:
    """pshare/templates/pshare.sbatch of the installed package (isolated mode:
    not the source tree that pytest may have put first on sys.path)."""
    proc = subprocess.run(
        [sys.executable, "-I", "-c", "import importlib.util as u; "
         "print(list(u.find_spec('pshare').submodule_search_locations)[0])"],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"pshare is not installed for {sys.executable}: {proc.stderr}"
    path = Path(proc.stdout.strip()) / "templates" / "pshare.sbatch"
    assert path.is_file(), f"the job template is not installed: {path}"
    return path


def test_slurm_sbatch_template(slurm_cluster, slurm_env, apps_bin, tmp_path):
    """The installed template, submitted as it ships (its #SBATCH sizes
    overridden for this one-node cluster: 2 tasks)."""
    args = ("4", "400000")
    native = run_native(apps_bin["pi_demo"], args, cwd=tmp_path / "native")
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    proc = slurm_cluster.run(
        ["sbatch", "--parsable", "--nodes=1", "--ntasks=2", "--ntasks-per-node=2",
         "--cpus-per-task=1", f"--chdir={job_dir}", f"--output={job_dir}/out",
         f"--error={job_dir}/err", str(installed_template()), str(apps_bin["pi_demo"]), *args],
        env=slurm_env, text=True)
    assert proc.returncode == 0, f"sbatch failed: {proc.stderr}"
    job_id = proc.stdout.strip().split(";")[0]
    info = slurm_cluster.wait_job(job_id, JOB_TIMEOUT_S)
    out = (job_dir / "out").read_bytes()
    err = (job_dir / "err").read_bytes()
    assert info.get("JobState") == "COMPLETED" and info.get("ExitCode") == "0:0", \
        f"job {job_id}: {info.get('JobState')} {info.get('ExitCode')}\n{err.decode()}"
    assert out == native.stdout, f"--- job output ---\n{out.decode()}\n--- err ---\n{err.decode()}"
    assert b"Traceback" not in err and b"Fatal error" not in err, err.decode()
    # the template asks for --stats: the tables (on stderr) show both ranks
    assert b"rank 1" in err and b"system calls" in err, err.decode()


def bench_command():
    return [sys.executable, "-m", "pshare_bench.cli", "table1", "--count", "2"]


needs_bench = pytest.mark.skipif(importlib.util.find_spec("pshare_bench") is None,
                                 reason="pshare_bench is not installed (pip install .)")


def assert_bench_refused(res):
    lines = [l for l in res.stderr.decode(errors="replace").splitlines() if l.strip()]
    assert res.returncode != 0
    assert len(lines) == 1 + sum(l.startswith("srun: ") for l in lines), res.stderr.decode()
    assert "run it directly" in res.stderr.decode() and "Traceback" not in res.stderr.decode()
    assert res.stdout == b""


@needs_bench
def test_slurm_bench_refuses_under_srun(slurm_cluster, slurm_env, tmp_path):
    res = srun(slurm_cluster, slurm_env, ["-n", "2", *bench_command()], cwd=tmp_path / "srun")
    assert_bench_refused(res)


@needs_bench
def test_slurm_bench_refuses_under_mpiexec(tmp_path):
    mpiexec = find_mpiexec()
    if mpiexec is None:
        pytest.skip("mpiexec not found")
    res = run_command([mpiexec, "-n", "2", *bench_command()], cwd=tmp_path / "run",
                      timeout=JOB_TIMEOUT_S)
    assert_bench_refused(res)
