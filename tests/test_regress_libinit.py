"""Library constructors run once, on home, under pshare; OpenMP programs
run spread.

The dynamic loader runs every library's constructor before main, and used
to run them before pshare's own (a preloaded library is initialised after
the libraries loaded after it).  On every rank but home that meant a native
copy of each constructor: libgomp printed OMP_DISPLAY_ENV once per rank, and
a library that starts a thread in its constructor made the address spaces
differ (status 126).  The runtime is now linked `-z initfirst`.

The programs are in tests/libinit/; every run is compared with the native
run: exit status, stdout, stderr without pshare's lines, and files."""

import os
import subprocess
from pathlib import Path

import pytest

from helpers import CC, CFLAGS, base_env, same_as_native

SRC_DIR = Path(__file__).resolve().parent / "libinit"
RANKS = (2, 3, 4)
RANK_IDS = [f"mpiexec{n}" for n in RANKS]

pytestmark = pytest.mark.pshare


def _cc(args, what):
    proc = subprocess.run([CC, *CFLAGS, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL, timeout=120)
    if proc.returncode != 0:
        pytest.fail(f"compiling {what} failed:\n{proc.stdout.decode(errors='replace')}",
                    pytrace=False)


@pytest.fixture(scope="module")
def ctor_main(tmp_path_factory):
    """ctor_main linked against ctor_lib.so (found through its rpath)."""
    out = tmp_path_factory.mktemp("libinit")
    _cc(["-fPIC", "-shared", "-o", str(out / "libctor_lib.so"), str(SRC_DIR / "ctor_lib.c")],
        "ctor_lib.c")
    _cc(["-o", str(out / "ctor_main"), str(SRC_DIR / "ctor_main.c"), f"-L{out}", "-lctor_lib",
         f"-Wl,-rpath,{out}"], "ctor_main.c")
    return out / "ctor_main"


@pytest.fixture(scope="module")
def openmp_kernels(tmp_path_factory):
    out = tmp_path_factory.mktemp("openmp")
    probe = subprocess.run([CC, "-fopenmp", "-x", "c", "-", "-o", str(out / "probe")],
                           input=b"#include <omp.h>\nint main(void){return omp_get_max_threads()<1;}\n",
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    if probe.returncode != 0:
        pytest.skip(f"{CC} cannot build OpenMP programs here (-fopenmp, omp.h, libgomp)")
    _cc(["-fopenmp", "-o", str(out / "openmp_kernels"), str(SRC_DIR / "openmp_kernels.c")],
        "openmp_kernels.c")
    return out / "openmp_kernels"


@pytest.mark.parametrize("nranks", RANKS, ids=RANK_IDS)
def test_a_library_constructor_runs_once(ctor_main, tmp_path, request, nranks):
    """Its line, its file record and its thread exist once; the thread it
    starts is the program's first, so it runs on rank 1."""
    request.getfixturevalue("mpiexec")
    got = same_as_native(ctor_main, tmp_path, nranks)
    assert got.stdout.count(b"constructor ran") == 1
    assert got.files["ctor.log"] == b"ctor_lib: constructor ran\n"


@pytest.mark.parametrize("nranks", RANKS, ids=RANK_IDS)
def test_openmp_constructs_spread(openmp_kernels, tmp_path, request, nranks):
    """Reductions, dynamic and guided loops, critical, atomic, locks,
    barriers, 200 short regions, tasks, ordered and threadprivate, with
    libgomp's OMP_DISPLAY_ENV report on stderr (printed by its constructor:
    once, as natively)."""
    request.getfixturevalue("mpiexec")
    # the report shows the default team, which is the job's CPUs under
    # pshare (test_cpus.py): given, so that it is the native run's
    env = base_env({"OMP_DISPLAY_ENV": "true", "OMP_NUM_THREADS": str(len(os.sched_getaffinity(0)))})
    got = same_as_native(openmp_kernels, tmp_path, nranks, env=env)
    assert got.stderr.count(b"OPENMP DISPLAY ENVIRONMENT BEGIN") == 1
    assert b"team 4 " in got.stdout
