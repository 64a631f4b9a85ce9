"""The page manager (home's agent): who owns each page and who holds copies.

Kai Li's Ivy with a central manager: single writer or many readers,
write-invalidate, so memory stays sequentially consistent.  One transaction
per page at a time: a page is busy from the request until the requester says
it has applied the grant (DONE); requests meanwhile wait in the page's queue.

A page nobody asked for yet is owned by home with write access: home held
every page at start, and fresh pages start there too.
"""
from dataclasses import dataclass, field

from ._rtctl import DSM_INVALID as INVALID, DSM_READ as READ, DSM_WRITE as WRITE  # shm.h
from .placement import HOME


@dataclass
class Page:
    owner: int = HOME
    copyset: set = field(default_factory=lambda: {HOME})
    writer: bool = True
    busy: bool = False
    queue: list = field(default_factory=list)


class Manager:
    """Serves fault requests.  `net` does the moving (pshare.loop.Node), and
    answers later: fetch(rank, page, new_state, then(data)),
    invalidate(rank, page, then()), grant(rank, slot, page, state, data_or_None).

    A transaction never waits: it asks, returns, and finishes in the last
    answer's callback, so other pages' transactions go on meanwhile.  A write
    asks every holder at once (the copies are invalidated and the owner's
    bytes fetched in parallel); the grant goes out when all have answered.
    """

    def __init__(self, net):
        self.net = net
        self.pages = {}

    def request(self, page, write, rank, slot):
        p = self.pages.get(page)
        if p is None:
            p = self.pages[page] = Page()
        if p.busy:
            p.queue.append((write, rank, slot))
            return
        p.busy = True
        self._serve(page, p, write, rank, slot)

    def done(self, page):
        p = self.pages.get(page)
        if p is None:
            return
        p.busy = False
        if p.queue:
            write, rank, slot = p.queue.pop(0)
            p.busy = True
            self._serve(page, p, write, rank, slot)

    def _serve(self, page, p, write, rank, slot):
        net = self.net
        if not write:
            if rank == p.owner:
                net.grant(rank, slot, page, WRITE if p.writer else READ, None)
            elif rank in p.copyset:
                net.grant(rank, slot, page, READ, None)
            else:
                def fetched(data):
                    p.writer = False
                    p.copyset.add(rank)
                    net.grant(rank, slot, page, READ, data)
                net.fetch(p.owner, page, READ if p.writer else None, fetched)
            return
        if rank == p.owner and p.writer:
            net.grant(rank, slot, page, WRITE, None)
            return
        holders = sorted(p.copyset - {rank, p.owner})
        fetch = p.owner != rank and rank not in p.copyset     # it has no copy yet
        if p.owner != rank and not fetch:
            holders.append(p.owner)                            # its copy is as good

        def granted(data=None):
            p.owner, p.copyset, p.writer = rank, {rank}, True
            net.grant(rank, slot, page, WRITE, data)

        if not holders and not fetch:
            granted()                    # the only copy is the requester's: it upgrades
            return
        left, got = [len(holders) + fetch], [None]

        def answered(data=None):
            if data is not None:
                got[0] = data
            left[0] -= 1
            if left[0] == 0:
                granted(got[0])

        for other in holders:
            net.invalidate(other, page, answered)
        if fetch:
            net.fetch(p.owner, page, INVALID, answered)

    def forget(self, lo, hi):
        """[lo, hi) was unmapped or zeroed: its pages start over at home.
        (A page busy in a transaction keeps its entry until it is done.)"""
        if hi - lo <= 4096 * len(self.pages):
            for page in range(lo, hi, 4096):
                p = self.pages.get(page)
                if p is not None and not p.busy:
                    del self.pages[page]
        else:
            for page in [k for k, p in self.pages.items() if lo <= k < hi and not p.busy]:
                del self.pages[page]
