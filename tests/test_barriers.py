"""The pthread barrier rounds a rank manages (ext/agent/barriers.c), driven
directly: the apps' pthread_barrier_wait arrivals meet there
(ext/rt/barrier.c)."""
import random

import mpi4py

mpi4py.rc.initialize = False                   # libmpi loaded (the engine links it), not started
from mpi4py import MPI  # noqa: E402,F401
from pshare._engine import Barriers  # noqa: E402

A, B = 0x7f0000001000, 0x7f0000001020          # two barriers on one page


def test_a_round_lets_everyone_go_the_last_serial():
    t = Barriers()
    assert t.arrive(A, 3, rank=1, slot=4) == []
    assert t.arrive(A, 3, rank=0, slot=2) == []
    assert len(t) == 2
    assert t.arrive(A, 3, rank=2, slot=9) == [(1, 4, False), (0, 2, False), (2, 9, True)]
    assert len(t) == 0
    # the next round starts over
    assert t.arrive(A, 3, 2, 9) == []
    assert t.arrive(A, 3, 1, 4) == []
    assert t.arrive(A, 3, 0, 2) == [(2, 9, False), (1, 4, False), (0, 2, True)]


def test_barriers_do_not_meet_and_one_thread_goes_at_once():
    t = Barriers()
    assert t.arrive(A, 2, 0, 1) == []
    assert t.arrive(B, 2, 1, 1) == []
    assert t.arrive(B, 2, 0, 2) == [(1, 1, False), (0, 2, True)]
    # A's round counts 2, as its first arrival said: the second completes it
    assert t.arrive(A, 1, 5, 5) == [(0, 1, False), (5, 5, True)]
    assert len(t) == 0
    assert t.arrive(0x5000, 1, 0, 7) == [(0, 7, True)]
    assert t.arrive(0x6000, 0, 0, 8) == [(0, 8, True)]   # no round of 0 threads: 1


def test_random_rounds_match_a_model():
    """Thousands of arrivals at a few barriers (many in one hash bucket) of
    different counts: every round lets exactly its threads go, in arrival
    order, the last one serial."""
    rng = random.Random(5)
    t = Barriers()
    addrs = [0x10000 + 32 * i for i in range(5)] + [0x10000 + 4096 * 256 * i for i in range(1, 4)]
    count = {a: rng.randrange(1, 6) for a in addrs}
    rounds = {a: [] for a in addrs}
    waiting = 0
    for n in range(5000):
        a = rng.choice(addrs)
        who = (rng.randrange(4), n)
        rounds[a].append(who)
        gone = t.arrive(a, count[a], *who)
        if len(rounds[a]) == count[a]:
            assert gone == [(r, s, i == count[a] - 1) for i, (r, s) in enumerate(rounds[a])]
            waiting -= count[a] - 1
            rounds[a] = []
            count[a] = rng.randrange(1, 6)      # the barrier made again, for another count
        else:
            assert gone == []
            waiting += 1
        assert len(t) == waiting
