"""The futex waiters a rank manages (ext/agent/futexes.c), driven directly:
the apps' private futex waits and wakes meet there (ext/rt/futex.c)."""
import random

import mpi4py

mpi4py.rc.initialize = False                   # libmpi loaded (the engine links it), not started
from mpi4py import MPI  # noqa: E402,F401
from pshare._engine import FutexWaiters  # noqa: E402

A, B = 0x7f0000001000, 0x7f0000001004     # two words on one page


def test_wake_takes_the_oldest_first_and_counts():
    t = FutexWaiters()
    for slot in range(5):
        t.wait(A, rank=slot % 3, slot=slot)
    assert t.wake(A, 2) == [(0, 0), (1, 1)]
    assert t.wake(A, 10) == [(2, 2), (0, 3), (1, 4)]
    assert t.wake(A, 10) == [] and len(t) == 0


def test_words_do_not_meet():
    t = FutexWaiters()
    t.wait(A, 1, 1)
    t.wait(B, 1, 2)
    assert t.wake(B, 5) == [(1, 2)]
    assert t.wake(A, 0) == []                  # n = 0 wakes nobody
    assert t.wake(A, 1) == [(1, 1)]


def test_bitsets_choose_the_waiters():
    t = FutexWaiters()
    t.wait(A, 0, 1, bitset=0b01)
    t.wait(A, 0, 2, bitset=0b10)
    t.wait(A, 0, 3, bitset=0b11)
    assert t.wake(A, 5, bitset=0b10) == [(0, 2), (0, 3)]
    assert t.wake(A, 5, bitset=0b10) == []
    assert t.wake(A, 5) == [(0, 1)]


def test_cancel_removes_only_a_waiter_still_waiting():
    t = FutexWaiters()
    t.wait(A, 2, 7)
    t.wait(A, 3, 7)                             # the same slot on another rank
    assert t.cancel(A, 2, 7) is True
    assert t.cancel(A, 2, 7) is False           # already gone: its answer is on the way
    assert t.wake(A, 5) == [(3, 7)]
    assert t.cancel(A, 3, 7) is False           # a wake took it first


def test_random_walk_matches_a_model():
    """Thousands of waits, wakes and cancels over a few words (many in one
    hash bucket) against a list model: same order, same counts."""
    rng = random.Random(9)
    t, model = FutexWaiters(), []
    words = [0x10000 + 4 * i for i in range(6)] + [0x10000 + 4096 * 1024 * i for i in range(4)]
    waiting = set()
    for _ in range(5000):
        op = rng.random()
        addr = rng.choice(words)
        if op < 0.5:
            rank, slot = rng.randrange(4), rng.randrange(8)
            if (rank, slot) in waiting:
                continue                        # a thread waits once at a time
            bits = rng.choice([1, 2, 3, 0xffffffff])
            t.wait(addr, rank, slot, bits)
            model.append((addr, rank, slot, bits))
            waiting.add((rank, slot))
        elif op < 0.85:
            n, bits = rng.randrange(4), rng.choice([1, 2, 0xffffffff])
            want = [w for w in model if w[0] == addr and w[3] & bits][:n]
            for w in want:
                model.remove(w)
                waiting.discard((w[1], w[2]))
            assert t.wake(addr, n, bits) == [(w[1], w[2]) for w in want]
        else:
            rank, slot = rng.randrange(4), rng.randrange(8)
            found = [w for w in model if w[0] == addr and w[1:3] == (rank, slot)]
            assert t.cancel(addr, rank, slot) is bool(found)
            if found:
                model.remove(found[0])
                waiting.discard((rank, slot))
        assert len(t) == len(model)
