"""Regression tests for signals sent to a thread on another rank (and to
main on home while it takes DSM faults): the handler must run as natively,
its async-signal-safe calls must work, and the calls and faults it
interrupts must neither crash, hang nor come back wrong.  Each program in
tests/regress_signals/ runs natively and under `mpiexec -n N pshare-launch`
at 1, 2 and 4 ranks; stdout, stderr (minus 'pshare:' lines), files and exit
status must be the native run's."""

import pytest

from helpers import TESTS_DIR, compile_dir, same_as_native

SRC = TESTS_DIR / "regress_signals"
RANKS = (1, 2, 4)


@pytest.fixture(scope="module")
def bins(tmp_path_factory):
    return compile_dir(SRC, tmp_path_factory.mktemp("regress_signals"))


@pytest.mark.pshare
@pytest.mark.parametrize("nranks", RANKS, ids=[f"mpiexec{n}" for n in RANKS])
def test_signal_below_touched_stack(bins, tmp_path, nranks, mpiexec):
    """Signals for a thread (rank 1) whose stack pointer is below every stack
    page it touched (a 48 KiB local it never writes): the kernel's signal
    frame went onto pages not on that rank, which the kernel cannot fault in
    (SIGSEGV, SI_KERNEL, address 0).  Deterministic form of the crash in
    lazy binding."""
    same_as_native(bins["sig_deep_stack"], tmp_path, nranks)


@pytest.mark.pshare
@pytest.mark.parametrize("nranks", RANKS, ids=[f"mpiexec{n}" for n in RANKS])
def test_signal_during_lazy_binding(bins, tmp_path, nranks, mpiexec):
    """Signals for a thread (rank 1) while it calls some 60 libc functions
    for the first time (lazy binding each); the handler writes to
    /dev/null.  Crashed in the loader or hung (the handler faulted on the
    thread's own TCB page while the fault for it was still open)."""
    same_as_native(bins["sig_lazy_bind"], tmp_path, nranks)


@pytest.mark.pshare
@pytest.mark.parametrize("nranks", RANKS, ids=[f"mpiexec{n}" for n in RANKS])
def test_signal_between_forwarded_calls(bins, tmp_path, nranks, mpiexec):
    """A signal per round for a thread (rank 1) making forwarded calls
    (getppid, write, close(dup(1)), pread checked byte by byte); the handler
    makes forwarded calls too.  Every result must be right; it hung (the
    handler ran after a fault's grant, before the page was applied, and
    faulted on the same page) or could clobber the outer call's mailbox."""
    same_as_native(bins["sig_forwarded_calls"], tmp_path, nranks)


@pytest.mark.pshare
@pytest.mark.parametrize("nranks", RANKS, ids=[f"mpiexec{n}" for n in RANKS])
def test_signal_during_home_fault(bins, tmp_path, nranks, mpiexec):
    """A signal per round for main on home while it keeps faulting back a
    page another rank writes; the handler reads that page.  It hung the
    same way, without any forwarded call."""
    same_as_native(bins["sig_home_fault"], tmp_path, nranks)


@pytest.mark.pshare
@pytest.mark.parametrize("nranks", RANKS, ids=[f"mpiexec{n}" for n in RANKS])
def test_sigaction_reports_app_flags(bins, tmp_path, nranks, mpiexec):
    """pshare adds SA_ONSTACK to every handler the app installs (so the kernel
    never writes a signal frame into the page store): sigaction still reports
    the app's own flags, with and without SA_ONSTACK."""
    same_as_native(bins["sig_flags"], tmp_path, nranks)


@pytest.mark.pshare
@pytest.mark.parametrize("nranks", RANKS, ids=[f"mpiexec{n}" for n in RANKS])
def test_timers_naming_a_thread_elsewhere(bins, tmp_path, nranks, mpiexec):
    """Timers that signal a worker (on rank 1 when spread), made until
    timer_create fails: pshare's table of such timers (4096) runs out with
    EAGAIN, the last one made still fires, and new ones fire once the others
    are deleted."""
    count = tmp_path / "count"
    same_as_native(bins["timers_many"], tmp_path, nranks, args=(str(count),))
    made = int(count.read_text())
    if nranks > 1:
        assert made == 4096, f"{made} timers made: the table's limit was not the one reached"


@pytest.mark.pshare
@pytest.mark.parametrize("nranks", RANKS, ids=[f"mpiexec{n}" for n in RANKS])
def test_suspension_elsewhere_takes_signals_sent_to_the_process(bins, tmp_path, nranks, mpiexec):
    """Three workers (on ranks 1-3 at 4 ranks) wait in sigsuspend, then one
    in pause, for signals main blocks: kill and sigqueue to the process,
    pthread_kill, one queued before the wait, and one left pending for the
    process (sigpending must show it).  The process's signals go to home,
    so a suspension elsewhere waited for ever (the job hung) and sigpending
    elsewhere did not show them."""
    same_as_native(bins["sig_suspend"], tmp_path, nranks, timeout=60)
