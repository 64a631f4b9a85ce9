"""The page manager (home's agent): who owns each page and who holds copies.

Kai Li's Ivy with a central manager: single writer or many readers,
write-invalidate, so memory stays sequentially consistent.  One transaction
per page at a time: a page is busy from the request until the requester says
it has applied the grant (DONE); requests meanwhile wait in the page's queue.

A page nobody asked for yet is owned by home with write access: home held
every page at start, and fresh pages start there too.
"""
from dataclasses import dataclass, field

from ._rtctl import PROTOCOL

INVALID, READ, WRITE = PROTOCOL["INVALID"], PROTOCOL["READ"], PROTOCOL["WRITE"]   # shm.h
HOME = 0


@dataclass
class Page:
    owner: int = HOME
    copyset: set = field(default_factory=lambda: {HOME})
    writer: bool = True
    busy: bool = False
    queue: list = field(default_factory=list)


class Manager:
    """Serves fault requests.  `net` does the moving (pshare.loop.Node):
    fetch(rank, page, new_state) -> bytes, invalidate(rank, page),
    grant(rank, slot, page, state, data_or_None)."""

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
                return
            if rank in p.copyset:
                net.grant(rank, slot, page, READ, None)
                return
            data = net.fetch(p.owner, page, READ if p.writer else None)
            p.writer = False
            p.copyset.add(rank)
            net.grant(rank, slot, page, READ, data)
            return
        if rank == p.owner and p.writer:
            net.grant(rank, slot, page, WRITE, None)
            return
        has_copy = rank in p.copyset
        data = None
        for other in sorted(p.copyset - {rank, p.owner}):
            net.invalidate(other, page)
        if p.owner != rank:
            if has_copy:
                net.invalidate(p.owner, page)
            else:
                data = net.fetch(p.owner, page, INVALID)
        p.owner, p.copyset, p.writer = rank, {rank}, True
        net.grant(rank, slot, page, WRITE, data)

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
