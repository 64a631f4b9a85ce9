"""The page manager (ext/agent/pages.c) and the placement policy, driven
without an app.

The manager emits actions (fetch, invalidate, grant) and is told the
answers; here a recording network plays the other agents and answers when
the test says, in any order, so the protocol's states can be walked through
one by one: Ivy's single writer / many readers, one transaction per page,
and many pages in flight at once (home never waits inside one).  A grant
ends its transaction: the rank that gets it applies it before it serves any
later FETCH or INV of the page (the engine holds those back), which the
recording network models by applying every grant as it comes.
"""
import mpi4py
import pytest

mpi4py.rc.initialize = False                   # libmpi loaded (the engine links it), not started
from mpi4py import MPI  # noqa: E402,F401

from pshare._engine import PM, PageManager  # noqa: E402
from pshare._rtctl import DSM_INVALID as INVALID, DSM_READ as READ, DSM_WRITE as WRITE  # noqa: E402
from pshare.placement import HOME, Placement  # noqa: E402

PAGE = 4096


def page_bytes(tag):
    return tag.ljust(PAGE, b"\0")


class RecordingNet:
    """The manager and the agents as it sees them: asks are kept until answered."""

    def __init__(self):
        self.m = PageManager()
        self.asks = []          # (kind, rank, page, new_state)
        self.grants = []        # (rank, slot, page, state, data)
        self.memory = {}        # (rank, page) -> bytes, as each rank's store holds them
        self.mapped = None      # pages that exist (None: all): an owner sends no others
        self.runs = []          # (state, pages, bytes came) of each grant
        self.fetch_to = {}      # page -> (requester or -1, its slot) of the last FETCH

    def collect(self):
        """Grants of a read-ahead run are split into one per page."""
        for kind, rank, slot, page, state, data, count, to in self.m.actions:
            if kind == PM["GRANT"]:
                self.runs.append((state, count, data is not None))
                for i in range(count):
                    piece = None if data is None else data[i * PAGE:(i + 1) * PAGE]
                    if piece is not None:
                        self.memory[(rank, page + i * PAGE)] = piece
                    self.grants.append((rank, slot, page + i * PAGE, state, piece))
            elif kind == PM["FETCH"]:
                self.asks.append(("fetch", rank, page, state or None, count))
                self.fetch_to[page] = (to, slot)
            else:
                self.asks.append(("inv", rank, page, INVALID, count))
        self.m.actions.clear()

    def request(self, page, write, rank, slot, want=1):
        self.m.request(page, write, rank, slot, want)
        self.collect()

    def forget(self, lo, hi, owner=HOME):
        self.m.forget(lo, hi, owner)

    def page(self, page):
        """(owner, copyset, writer) of a page the manager knows."""
        return self.m.page(page)[:3]

    def answer(self, kind=None, rank=None, page=None, mapped=None):
        """Answer the first outstanding ask (of that kind, rank and page); a
        fetch of a run sends `mapped` pages of it (default: all)."""
        for i, (k, r, pg, _, count) in enumerate(self.asks):
            if kind in (None, k) and rank in (None, r) and page in (None, pg):
                del self.asks[i]
                if k == "fetch":
                    n = count if mapped is None else min(mapped, count)
                    if self.mapped is not None:
                        n = next((j for j in range(1, n) if pg + j * PAGE not in self.mapped), n)
                    self.m.answer(pg, b"".join(
                        self.memory.get((r, pg + j * PAGE), page_bytes(b"%d" % r))
                        for j in range(n)))
                else:
                    self.m.answer(pg)
                self.collect()
                return
        raise AssertionError(f"no outstanding {kind} to rank {rank}: {self.asks}")


@pytest.fixture
def net():
    return RecordingNet()


def test_home_owns_fresh_pages(net):
    m = net
    m.request(0, write=True, rank=HOME, slot=0)
    assert net.grants == [(HOME, 0, 0, WRITE, None)]
    assert net.asks == []


def test_read_fault_fetches_from_the_owner_and_both_keep_copies(net):
    m = net
    m.request(PAGE, write=False, rank=1, slot=5)
    assert [(k, r, s) for k, r, _, s, _ in net.asks] == [("fetch", HOME, READ)]
    assert net.grants == []                                   # not before the bytes came
    net.answer("fetch", HOME)
    assert net.grants == [(1, 5, PAGE, READ, page_bytes(b"0"))]
    assert net.page(PAGE) == (HOME, {HOME, 1}, False)


def test_write_fault_invalidates_every_copy_in_parallel(net):
    m = net
    for rank in (1, 2):
        m.request(PAGE, write=False, rank=rank, slot=rank)
        net.answer()
    net.grants.clear()
    m.request(PAGE, write=True, rank=3, slot=7)
    asked = sorted((k, r) for k, r, *_ in net.asks)
    # the copies at 1 and 2 are invalidated while the owner's bytes are fetched
    assert asked == [("fetch", HOME), ("inv", 1), ("inv", 2)]
    net.answer("inv", 2)
    net.answer("fetch", HOME)
    assert net.grants == []                                   # rank 1 has not answered
    net.answer("inv", 1)
    assert net.grants == [(3, 7, PAGE, WRITE, page_bytes(b"0"))]
    assert net.page(PAGE) == (3, {3}, True)


def test_upgrade_of_a_copy_moves_no_bytes(net):
    m = net
    m.request(PAGE, write=False, rank=1, slot=1)
    net.answer()
    m.request(PAGE, write=True, rank=1, slot=1)
    assert [(k, r) for k, r, *_ in net.asks] == [("inv", HOME)]    # home's copy goes
    net.answer()
    assert net.grants[-1] == (1, 1, PAGE, WRITE, None)


def test_one_transaction_per_page_the_rest_wait_in_order(net):
    m = net
    m.request(PAGE, write=True, rank=1, slot=1)
    m.request(PAGE, write=True, rank=2, slot=2)
    m.request(PAGE, write=False, rank=3, slot=3)
    assert len(net.asks) == 1                                 # only the first one runs
    net.answer()
    assert net.grants == [(1, 1, PAGE, WRITE, page_bytes(b"0"))]
    # the grant ended the transaction: the next one starts at once
    assert [(k, r) for k, r, *_ in net.asks] == [("fetch", 1)]
    net.answer()
    assert [(k, r) for k, r, *_ in net.asks] == [("fetch", 2)]
    net.answer()
    assert [g[0] for g in net.grants] == [1, 2, 3]
    assert net.grants[-1][3] == READ


def test_pages_in_flight_at_once(net):
    """A transaction waiting for an answer holds up no other page."""
    m = net
    m.request(PAGE, write=False, rank=1, slot=1)
    m.request(2 * PAGE, write=False, rank=2, slot=2)
    m.request(3 * PAGE, write=True, rank=HOME, slot=0)        # home's own page: at once
    assert len(net.asks) == 2
    assert net.grants == [(HOME, 0, 3 * PAGE, WRITE, None)]
    net.answer(rank=HOME)                                     # answers in any order
    net.answer(rank=HOME)
    assert sorted(g[2] for g in net.grants) == [PAGE, 2 * PAGE, 3 * PAGE]


def test_single_writer_or_readers_whatever_the_order(net):
    """A random walk of faults, answered in random order.  Each rank's access
    to each page is tracked from what the manager makes it do (grants,
    invalidations, owners dropping to READ): at every moment a page has one
    writer and no other valid copy, or readers only, and a read sees the
    last write."""
    import random
    rng = random.Random(7)
    m = net
    pages = [PAGE * i for i in range(1, 7)]
    nranks = 4
    access = {(r, p): WRITE if r == HOME else INVALID for r in range(nranks) for p in pages}
    value = {p: page_bytes(b"0") for p in pages}
    net.mapped = set(pages)
    net.memory.update({(HOME, p): value[p] for p in pages})

    def check(page):
        valid = [r for r in range(nranks) if access[(r, page)] != INVALID]
        writers = [r for r in valid if access[(r, page)] == WRITE]
        assert len(writers) <= 1 and (not writers or valid == writers), (page, access)

    for step in range(4000):
        if net.asks and rng.random() < 0.6:
            kind, rank, page, new_state, count = rng.choice(net.asks)
            net.answer(kind, rank, page)
            if new_state is not None:
                for j in range(count):                    # it dropped before answering
                    if (rank, page + j * PAGE) in access:
                        access[(rank, page + j * PAGE)] = new_state
            check(page)
        else:
            page, rank = rng.choice(pages), rng.randrange(nranks)
            m.request(page, rng.random() < 0.4, rank, slot=step, want=rng.choice((1, 1, 2, 3, 4)))
        while net.grants:
            rank, _, page, state, data = net.grants.pop(0)
            access[(rank, page)] = state
            check(page)
            # a grant with no bytes (an upgrade) finds the last write in the
            # requester's copy, as a read does
            assert net.memory[(rank, page)] == value[page], (rank, page, step)
            if state == WRITE:
                value[page] = net.memory[(rank, page)] = page_bytes(b"%d:%d" % (rank, step))
    # runs of pages were upgraded (fetched ones need pages nobody wrote since
    # they were made, which a walk leaves few of: the next test)
    assert any(s == WRITE and n > 1 and not b for s, n, b in net.runs)


def test_a_read_guessed_a_write_is_granted_writable_even_in_turn(net):
    """A read the runtime guesses is a write (PM_READ_FOR_WRITE) is granted
    writable, its bytes with it (home's fresh pages, another rank's), also
    once the page went from the requester's writing to another rank's: two
    ranks taking it from one another to write, as a contended lock's page
    (shared for reading instead, a condvar hand-over took twice the faults)."""
    from pshare._engine import READ_FOR_WRITE
    m = net
    m.request(PAGE, write=READ_FOR_WRITE, rank=1, slot=1)   # home filled it: nobody asked
    assert [(k, r, s) for k, r, _, s, _ in net.asks] == [("fetch", HOME, INVALID)]
    net.answer()
    assert net.grants[-1] == (1, 1, PAGE, WRITE, page_bytes(b"0"))
    assert net.page(PAGE) == (1, {1}, True)
    m.request(PAGE, write=True, rank=2, slot=2)             # rank 2 takes it to write
    net.answer()
    net.asks.clear()
    m.request(PAGE, write=READ_FOR_WRITE, rank=1, slot=3)   # rank 1's guess, in turn: writable
    assert [(k, r, s) for k, r, _, s, _ in net.asks] == [("fetch", 2, INVALID)]
    net.answer()
    assert net.grants[-1][:4] == (1, 3, PAGE, WRITE)
    assert net.page(PAGE) == (1, {1}, True)
    m.request(PAGE, write=READ_FOR_WRITE, rank=2, slot=4)   # and back to rank 2
    net.answer()
    assert net.grants[-1][:4] == (2, 4, PAGE, WRITE)
    assert net.page(PAGE) == (2, {2}, True)


def test_a_write_run_takes_only_pages_the_requester_or_nobody_wrote_last(net):
    """A run of writable pages: fetched from an owner that holds them alone
    when nobody made them writable since they were made, upgraded when the
    requester made them writable last and others read them since; a page
    another rank wrote last is left to it (a run reaching past the end of a
    rank's part of an array does not take the next rank's part)."""
    from pshare._engine import GROUP_PAGES
    base = 64 * GROUP_PAGES * PAGE
    pages = [base + i * PAGE for i in range(6)]
    net.request(base, True, 1, 1, want=4)                  # home's, nobody wrote them: fetched
    assert net.asks == [("fetch", HOME, base, INVALID, 4)]
    net.answer()
    assert [(g[0], g[2], g[3], g[4] is not None) for g in net.grants] == \
        [(1, p, WRITE, True) for p in pages[:4]]
    assert all(net.page(p) == (1, {1}, True) for p in pages[:4])
    net.request(pages[4], True, 2, 2)                      # rank 2 writes the next two
    net.answer()
    net.request(pages[5], True, 2, 3)
    net.answer()
    net.request(pages[4], False, 1, 4)                     # and rank 1 reads them
    net.answer()
    net.request(pages[5], False, 1, 5)
    net.answer()
    net.request(base, False, 2, 6, want=4)                 # rank 2 reads rank 1's four
    net.answer()
    assert all(net.page(p) == (1, {1, 2}, False) for p in pages[:4])
    assert all(net.page(p) == (2, {1, 2}, False) for p in pages[4:])
    net.grants.clear()
    net.runs.clear()
    net.request(base, True, 1, 7, want=8)                  # rank 1 writes its four again:
    assert net.asks == [("inv", 2, base, INVALID, 4)]      # upgraded in one, not rank 2's
    net.answer()
    assert net.runs == [(WRITE, 4, False)]
    assert all(net.page(p) == (1, {1}, True) for p in pages[:4])
    net.request(pages[3], True, 2, 8, want=4)              # rank 2 takes page 3 back: alone
    assert net.asks == [("fetch", 1, pages[3], INVALID, 1)]


def test_an_upgrade_run_takes_pages_of_other_owners_with_the_same_copies(net):
    """An upgrade fetches nothing, so its run takes the pages after the
    faulting one that every holder shares alike, whoever owns them: a
    stencil's edge, the page two ranks' rows share (last written by the
    neighbour) and the requester's own rows after it, all read by both, is
    one upgrade (one INV run to the neighbour).  A page with other copies
    (a third rank's) ends the run."""
    from pshare._engine import GROUP_PAGES
    base = 64 * GROUP_PAGES * PAGE
    pages = [base + i * PAGE for i in range(4)]
    for page, writer in ((pages[0], 2), (pages[1], 1), (pages[2], 1), (pages[3], 1)):
        net.request(page, True, writer, 1)
        net.answer()
    for page, reader in ((pages[0], 1), (pages[1], 2), (pages[2], 2), (pages[3], 2),
                         (pages[3], 3)):
        net.request(page, False, reader, 2)
        net.answer()
    assert net.page(pages[0]) == (2, {1, 2}, False)
    assert all(net.page(p) == (1, {1, 2}, False) for p in pages[1:3])
    assert net.page(pages[3]) == (1, {1, 2, 3}, False)
    net.runs.clear()
    net.request(pages[0], True, 1, 3, want=4)
    assert net.asks == [("inv", 2, base, INVALID, 3)]
    net.answer()
    assert net.runs == [(WRITE, 3, False)]
    assert all(net.page(p) == (1, {1}, True) for p in pages[:3])
    assert net.page(pages[3]) == (1, {1, 2, 3}, False)


def test_a_read_brings_the_run_it_asks_for_within_its_group(net):
    """Read-ahead: the requester asks for a run (its window, which the engine
    grows while its reads are sequential); the manager fetches it in one ask
    and grants it in one, but never past the page's group (one manager's)."""
    from pshare._engine import GROUP_PAGES, READAHEAD_MAX
    base = 64 * GROUP_PAGES * PAGE                               # a group's first page
    net.request(base, False, 1, 1, want=READAHEAD_MAX)
    (_, owner, first, state, count), = net.asks
    assert (owner, first, state, count) == (HOME, base, READ, min(READAHEAD_MAX, GROUP_PAGES))
    net.answer()
    granted = [g for g in net.grants if g[1] == 1]
    assert [g[2] for g in granted] == [base + i * PAGE for i in range(count)]
    assert all(g[3] == READ and g[4] == page_bytes(b"0") for g in granted)
    late = base + (2 * GROUP_PAGES - 3) * PAGE                   # 3 pages before a group ends
    net.request(late, False, 1, 2, want=8)
    assert net.asks[-1][4] == 3
    net.answer()
    net.request(late - 5 * PAGE, False, 1, 3)                    # want 1: one page
    assert net.asks[-1][4] == 1


def test_a_run_stops_at_pages_in_other_hands_and_where_the_owner_stops(net):
    net.request(3 * PAGE, write=True, rank=2, slot=1)           # page 3 is rank 2's
    net.answer()
    net.request(PAGE, write=False, rank=1, slot=2)
    net.answer()
    net.request(2 * PAGE, write=False, rank=1, slot=3, want=4)  # a run ...
    assert net.asks[-1][4] == 1                                 # ... but page 3 is not home's
    net.answer()
    net.request(10 * PAGE, write=False, rank=1, slot=4)
    net.answer()
    net.request(11 * PAGE, write=False, rank=1, slot=5, want=2)
    assert net.asks[-1][4] == 2
    net.answer(mapped=1)                                        # the mapping ends at page 11
    assert net.grants[-1][2] == 11 * PAGE
    assert net.m.page(12 * PAGE)[3] is False                    # page 12 is free again
    assert 1 not in net.m.page(12 * PAGE)[1]


def test_anti_thrashing_window_holds_a_written_page_and_adapts():
    """With a window (Mirage's delta): a page taken from writer to writer
    soon after each grant gets a growing window in which other ranks'
    requests wait (served by tick once it ends); the writer's own do not."""
    us = 1000
    net = RecordingNet()
    net.m = PageManager(hold_ns=400 * us)
    clock = [0]

    def at(t):
        clock[0] = t
        net.m.clock(t)

    at(1000 * us)
    net.request(PAGE, True, 1, 1)
    net.answer()                                   # rank 1 writes: window 0 (first grant)
    at(1010 * us)
    net.request(PAGE, True, 2, 2)                  # within 400 µs of it: thrash, window grows
    net.answer()
    assert net.grants[-1][:2] == (2, 2)
    at(1020 * us)
    net.request(PAGE, True, 1, 3)                  # held: rank 2's window (50 µs) is open
    assert net.asks == [] and net.m.page(PAGE)[4] == 1
    net.request(PAGE, False, 2, 4)                 # the writer's own: in order, behind rank 1's
    at(1040 * us)
    assert net.m.tick() == 1010 * us + 50 * us     # not yet: the window ends at 1060
    assert net.asks == []
    at(1061 * us)
    net.m.tick()
    net.collect()
    assert [(k, r) for k, r, *_ in net.asks] == [("fetch", 2)]
    net.answer()
    assert net.grants[-1][:2] == (1, 3)            # rank 1 has it again, with a longer window
    assert net.m.tick() > 1061 * us + 50 * us


def test_no_window_without_thrashing():
    net = RecordingNet()
    net.m = PageManager(hold_ns=400_000)
    net.m.clock(1_000_000)
    net.request(PAGE, True, 1, 1)
    net.answer()
    net.m.clock(5_000_000)                          # long after: no storm, no window
    net.request(PAGE, True, 2, 2)
    assert len(net.asks) == 1


def test_a_mapping_made_on_another_rank_starts_there(net):
    """An anonymous mapping a thread of rank 2 made: its pages are rank 2's
    before anyone asks (rank 2 writes them without a fault; a reader fetches
    from rank 2), and a read-ahead run stays inside it."""
    lo, hi = 16 * PAGE, 24 * PAGE                              # half a group
    net.forget(lo, hi, owner=2)
    assert [net.m.fresh_owner(a) for a in (lo - PAGE, lo, hi - PAGE, hi)] == [HOME, 2, 2, HOME]
    net.request(lo, write=True, rank=2, slot=1)                 # the maker: at once
    assert not net.asks and net.grants[-1][:4] == (2, 1, lo, WRITE)
    net.request(lo + PAGE, write=False, rank=1, slot=3, want=16)
    assert net.asks == [("fetch", 2, lo + PAGE, READ, 7)]      # to the end of the mapping
    net.answer()
    assert net.grants[-1][0] == 1 and net.page(hi - PAGE) == (2, {1, 2}, False)
    # unmapped, then mapped again by home: home's once more
    net.forget(lo, hi)
    net.request(lo + 2 * PAGE, write=False, rank=1, slot=3)
    assert net.asks[-1][:2] == ("fetch", HOME)


def test_fresh_ranges_cut_and_kept_in_order(net):
    """The owners of fresh ranges survive the cuts around them."""
    net.forget(10 * PAGE, 20 * PAGE, owner=1)
    net.forget(30 * PAGE, 40 * PAGE, owner=2)
    net.forget(15 * PAGE, 35 * PAGE, owner=3)                   # over the end of one, start of the other
    net.forget(17 * PAGE, 18 * PAGE)                            # a hole, home's
    want = {9: HOME, 10: 1, 14: 1, 15: 3, 16: 3, 17: HOME, 18: 3, 34: 3, 35: 2, 39: 2, 40: HOME}
    assert {p: net.m.fresh_owner(p * PAGE) for p in want} == want


def test_forget_starts_pages_over_at_home_but_not_busy_ones(net):
    net.request(PAGE, write=True, rank=1, slot=1)
    net.answer()
    net.request(2 * PAGE, write=True, rank=2, slot=2)           # in flight: kept
    net.forget(PAGE, 3 * PAGE)
    assert net.m.page(PAGE) is None                             # home's again
    assert net.m.page(2 * PAGE)[3] is True                      # still busy
    net.request(PAGE, write=False, rank=3, slot=3)
    assert net.asks[-1][:2] == ("fetch", HOME)


def test_a_read_answered_by_its_owner_ends_without_a_grant_from_here(net):
    """A read's FETCH names the requester and its slot (the owner may send
    the bytes there itself); the requester's report ends the transaction
    with the same states as an answer through here, and no grant."""
    net.request(PAGE, write=True, rank=1, slot=1)
    net.answer()
    net.request(PAGE, write=False, rank=2, slot=7)
    assert net.asks == [("fetch", 1, PAGE, READ, 1)]
    assert net.fetch_to[PAGE] == (2, 7)
    grants = len(net.grants)
    net.asks.clear()
    net.m.answered(PAGE, 1)
    net.collect()
    assert len(net.grants) == grants
    assert net.page(PAGE) == (1, {1, 2}, False)
    net.m.answered(PAGE, 1)                                     # not asked: ignored
    assert net.page(PAGE) == (1, {1, 2}, False)


def test_a_write_answered_by_its_owner_ends_with_both_reports(net):
    """A write whose only ask is the owner's FETCH names the requester too;
    the transaction ends when the requester says the pages came and the
    owner says it dropped them, in either order.  Between the two, a futex
    wake for the page waits (pm_drop_pending): a wait the owner's rank sent
    before its drop may still be on its way."""
    for first, second in (("requester", "owner"), ("owner", "requester")):
        m = RecordingNet()
        m.request(PAGE, write=True, rank=1, slot=1)
        m.answer()
        m.request(PAGE, write=True, rank=2, slot=6)
        assert [a[:3] for a in m.asks] == [("fetch", 1, PAGE)]
        assert m.fetch_to[PAGE] == (2, 6)
        grants = len(m.grants)
        m.m.answered(PAGE, 1, by=first)
        assert m.m.page(PAGE)[3] is True                        # still busy
        assert m.m.drop_pending(PAGE) == (first == "requester")
        m.m.answered(PAGE, 1, by=first)                         # twice: ignored
        assert m.m.page(PAGE)[3] is True
        m.m.answered(PAGE, 1, by=second)
        m.collect()
        assert len(m.grants) == grants                          # none from here
        assert m.page(PAGE) == (2, {2}, True)
        assert not m.m.drop_pending(PAGE)


def test_a_reads_report_does_not_hold_the_wakes_of_a_later_write(net):
    """The requester's report of a read answered by its owner belongs to that
    transaction: a later write that invalidates the copies (answered here,
    no SENT to come) must not look as if its drop were pending, or a futex
    wake for the page would wait for ever (condvar_pc hung at 3 ranks)."""
    net.request(PAGE, write=True, rank=1, slot=1)
    net.answer()
    net.request(PAGE, write=False, rank=2, slot=2)
    net.asks.clear()
    net.m.answered(PAGE, 1)                                     # the read's GOT
    net.request(PAGE, write=True, rank=1, slot=1)               # an upgrade: rank 2 drops
    assert [a[:2] for a in net.asks] == [("inv", 2)]
    assert not net.m.drop_pending(PAGE)
    net.answer("inv", 2)
    assert net.page(PAGE) == (1, {1}, True)


def test_a_write_with_copies_to_drop_is_answered_here(net):
    """When readers must drop theirs too, the owner's bytes come through
    here (the grant waits for every answer)."""
    net.request(PAGE, write=False, rank=1, slot=1)
    net.answer()
    net.request(PAGE, write=True, rank=2, slot=2)
    assert net.fetch_to[PAGE][0] == -1
    net.m.answered(PAGE, 1)
    assert net.m.page(PAGE)[3] is True


def test_a_page_forgotten_while_its_owner_answers_the_reader_starts_over(net):
    """pm_forget while a read's owner-to-requester answer is under way (the
    requester's report may come after the fence let the range go): the page
    starts over as the range's fresh page when the report comes, and a
    request queued meanwhile is served from there."""
    net.request(PAGE, write=True, rank=1, slot=1)
    net.answer()
    net.request(PAGE, write=False, rank=2, slot=2)
    net.asks.clear()
    net.forget(PAGE, 2 * PAGE, owner=3)
    assert net.m.page(PAGE)[3] is True                          # busy: kept for now
    net.request(PAGE, write=False, rank=2, slot=4)              # the new mapping's page
    net.m.answered(PAGE, 1)
    net.collect()
    assert net.page(PAGE)[:1] == (3,)
    assert net.asks == [("fetch", 3, PAGE, READ, 1)]


@pytest.mark.parametrize("policy,nranks,expected", [
    ("roundrobin", 3, [1, 2, 0, 1, 2, 0]),
    ("home", 3, [0, 0, 0]),
    ("block", 3, [1, 1, 2, 2, 0, 0]),          # 2 cores a rank
    ("2,1", 3, [2, 1, 2, 1]),
])
def test_placement_orders(policy, nranks, expected):
    p = Placement(policy, nranks, 2)
    assert [p.next() for _ in expected] == expected


@pytest.mark.parametrize("policy,message", [
    ("sideways", "is not one of roundrobin, home, block"),
    ("1,x", "is not one of"),
    ("3", "rank 3 does not exist (this job has 3 ranks)"),
])
def test_placement_refused(policy, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Placement(policy, 3, 2)
