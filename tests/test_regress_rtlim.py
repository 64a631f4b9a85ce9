"""Regression tests for the runtime's limits (issue 7, items 6 and 7): the
runtime's own descriptors out of the app's reach, thread exhaustion, big
forwarded I/O, the up ring and the region table.  Each program in
tests/regress_rtlim/ runs natively and under `mpiexec -n N pshare-launch` at
1, 2 and 4 ranks; stdout, stderr (minus 'pshare:' lines), files and exit
status must be the native run's."""

import json

import pytest

from helpers import TESTS_DIR, compile_dir, same_as_native

SRC = TESTS_DIR / "regress_rtlim"
RANKS = (1, 2, 4)


@pytest.fixture(scope="module")
def bins(tmp_path_factory):
    return compile_dir(SRC, tmp_path_factory.mktemp("regress_rtlim"))


@pytest.mark.pshare
@pytest.mark.parametrize("nranks", RANKS, ids=[f"mpiexec{n}" for n in RANKS])
def test_descriptors_top(bins, tmp_path, nranks, mpiexec):
    """dup2/dup3/F_DUPFD onto 1020-1023 and near the limit, close_range(1000,
    ~0U) and close_range(3, ~0U), from main and from a thread (on rank 1 when
    spread): then big mallocs, threads and file I/O still work."""
    same_as_native(bins["fds_top"], tmp_path, nranks)


@pytest.mark.pshare
@pytest.mark.parametrize("nranks", RANKS, ids=[f"mpiexec{n}" for n in RANKS])
def test_thread_exhaustion(bins, tmp_path, nranks, mpiexec):
    """Threads until pthread_create fails: EAGAIN, never a crash; then all
    are joined and new threads start again.  pshare's slots (per rank, home's
    executors included) run out before the program's cap of 2100, so the
    EAGAIN path really ran."""
    stats = tmp_path / "stats.json"
    same_as_native(bins["threads_exhaust"], tmp_path, nranks,
                   extra_opts=("--stats-json", str(stats)))
    started = sum(r["threads"] for r in json.loads(stats.read_text())["ranks"])
    assert started < 2100, f"{started} threads started: the slot limit was never reached"


@pytest.mark.pshare
@pytest.mark.parametrize("nranks", RANKS, ids=[f"mpiexec{n}" for n in RANKS])
def test_big_forwarded_io(bins, tmp_path, nranks, mpiexec):
    """One write/pwrite/read/pread/pwritev/readv of 3 MiB and of 64 MiB, and
    a 3 MiB write into a pipe, from a thread on rank 1 and from main on home:
    every byte, checksums as natively (the mailbox holds 128 KiB)."""
    same_as_native(bins["big_io"], tmp_path, nranks)


@pytest.mark.pshare
@pytest.mark.parametrize("nranks", RANKS, ids=[f"mpiexec{n}" for n in RANKS])
def test_up_ring_full(bins, tmp_path, nranks, mpiexec):
    """20000 signals to a thread on another rank fill home's up ring (4096
    entries) faster than the agent drains it, while other threads' forwarded
    calls answer through the same ring: a full ring makes the poster wait,
    it never overwrites an entry (which lost a call's answer: a hang)."""
    same_as_native(bins["ring_flood"], tmp_path, nranks)


@pytest.mark.pshare
@pytest.mark.parametrize("nranks", RANKS, ids=[f"mpiexec{n}" for n in RANKS])
def test_region_table_past_old_limit(bins, tmp_path, nranks, mpiexec):
    """34000 private mappings (alternate protections; the region table held
    32768 and silently dropped the rest: a forked child then shared those
    pages with its parent), single pages unmapped among them: contents kept,
    the child's writes stay its own."""
    stats = tmp_path / "stats.json"
    same_as_native(bins["many_regions"], tmp_path, nranks, extra_opts=("--stats-json", str(stats)))
    peak = json.loads(stats.read_text())["ranks"][0]["regions_peak"]
    assert peak > 32768, f"regions peak {peak}: the old limit was not passed"


@pytest.mark.pshare
@pytest.mark.parametrize("nranks", RANKS, ids=[f"mpiexec{n}" for n in RANKS])
def test_fpu_state_travels(bins, tmp_path, nranks, mpiexec):
    """Threads started on any rank get their creator's FPU/SSE state (here
    MXCSR's rounding mode); a state too large for a slot fails the clone with
    ENOMEM rather than start the thread without it (not reachable on today's
    CPUs: the slot holds 16 KiB, an AMX xsave area 11 KiB)."""
    same_as_native(bins["fpu_inherit"], tmp_path, nranks)
