"""The agent's event loop when the job has more than one rank: the rare part.

Pages, forwarded system calls, address-space operations and new threads
never come here: the engine (ext/agent/_engine.pyx, without the GIL) serves
them, and on home it is also the page manager, the one place where
address-space operations get their global order, the placement of new
threads (the policy's cycle of ranks, from pshare.placement) and the keeper
of which executor serves which remote thread.  This Python side gets what
the engine hands up (Engine.poll): a replay that went wrong, and the
pickled messages of the job's end between agents (`exit`, `failed`, `bye`:
they travel in order with the engine's own, as W_PY); plus the app's exit.
"""
import errno
import os
import pickle
import sys
import time

from mpi4py import MPI  # noqa: F401  loaded (MPI_Init) before the engine, which needs libmpi

from ._engine import EV_FAILED, EV_GONE, EV_PY, EV_REPLAY_FAILED, Engine
from ._systab import NAMES, NUMBERS
from .config import WRITE_BURST_US
from .placement import HOME, usable_cores

#: every Python message travels as pickle.dumps(msg, PICKLE_PROTOCOL) bytes
PICKLE_PROTOCOL = 5
#: exit status of a job pshare cannot go on with (as the runtime's rt_fail)
STATUS_PSHARE_FAILED = 126
#: how long the engine serves before the app's exit is checked (when idle);
#: the app's exit (SIGCHLD) and a signal for Python end it at once
POLL_S = 0.1


def is_err(ret):
    return -4095 <= ret < 0


def replay_problem(nr, home_ret, ret, data):
    """What went wrong when a rank replayed home's address-space operation,
    or None: it failed there, or (brk, whose failure is a value) ended
    elsewhere than on home."""
    what = NAMES.get(nr, f"system call {nr}")
    if nr == NUMBERS["mmap"] and data:
        what += " of " + bytes(data).decode(errors="replace")     # the file's path
    if is_err(ret):
        name = errno.errorcode.get(-ret, f"errno {-ret}")
        return f"{what} failed there ({name}: {os.strerror(-ret)})"
    if nr in (NUMBERS["mmap"], NUMBERS["brk"]) and ret != home_ret:
        return f"{what} gave {ret:#x} there, {home_ret:#x} on home"
    return None


def ring_peers_on_this_host(comm, engine, chan):
    """MPI cannot wake an agent that sleeps, so the agents on one host map
    each other's doorbell (the first page of the channel, opened through
    /proc) and ring it after a message (the engine's ring_peer).  A rank
    that every peer can ring sleeps until rung instead of waking to poll.
    Collective over `comm`; returns the peers that ring this rank."""
    rank, size = comm.Get_rank(), comm.Get_size()
    local = comm.Split_type(MPI.COMM_TYPE_SHARED)
    st = os.fstat(chan.fd)
    peers = local.allgather((rank, os.getpid(), chan.fd, st.st_dev, st.st_ino))
    local.Free()
    rings = {r for r, pid, fd, dev, ino in peers
             if r != rank and engine.ring_peer_at(r, f"/proc/{pid}/fd/{fd}".encode(), dev, ino)}
    every = comm.allgather(rings)
    rung_by = [r for r in range(size) if rank in every[r]]
    if len(rung_by) == size - 1:
        engine.rung_by_all()
    return rung_by


class Node:
    def __init__(self, comm, chan, ctl, store_fd, placement, app_exited, app_pid, hold_us=0.0,
                 late_ms=0.0, write_burst_us=WRITE_BURST_US):
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.chan = chan
        self.ctl = ctl
        self.app_exited = app_exited          # () -> exit status or None
        # the engine's own communicator: its posted receives see nothing else
        self.comm = comm.Dup()
        self.engine = Engine(self.comm, chan.address, ctl.address, store_fd, app_pid, hold_us,
                             late_ms, write_burst_us)
        self.engine.set_cores(usable_cores())
        self.rung_by = ring_peers_on_this_host(self.comm, self.engine, chan)
        self.result = None                    # the job's exit status, once known
        self.failure = None                   # (status, message) from a crashed rank
        self.byes = set()                     # peers that have sent their last message
        self.py_sent = {}                     # Python messages by kind, each way
        self.py_received = {}
        if self.rank == HOME:
            self.engine.set_placement(placement.order)

    @property
    def counts(self):
        """Pages this agent moved in and out, copies it dropped, doorbells."""
        return dict(self.engine.counts(), doorbell_peers=len(self.rung_by))

    @property
    def traffic(self):
        """Agent <-> agent: bytes each way, messages by kind sent and received."""
        t = self.engine.traffic()
        for mine, theirs in ((self.py_sent, t["messages_sent"]),
                             (self.py_received, t["messages_received"])):
            for k, v in mine.items():
                theirs[k] = theirs.get(k, 0) + v
        return t

    # ---- sending ----

    def send(self, rank, msg):
        """A Python message: to this rank itself, handled at once; else
        pickled and queued behind everything the engine sent before."""
        if rank == self.rank:
            self.handle(msg, rank)
            return
        self.py_sent[msg[0]] = self.py_sent.get(msg[0], 0) + 1
        self.engine.send_py(rank, pickle.dumps(msg, PICKLE_PROTOCOL))

    def unpickle(self, ev):
        """The Python message of an EV_PY event, counted by kind."""
        msg = pickle.loads(ev[2])
        self.py_received[msg[0]] = self.py_received.get(msg[0], 0) + 1
        return msg

    # ---- the loop ----

    def run(self):
        while self.result is None:
            self.step()
        self.wind_down()
        return self.result

    def step(self):
        ev = self.engine.poll(POLL_S)
        if ev is None:
            st = self.app_exited()
            if st is not None:
                self.on_app_exit(st)
        elif ev[0] == EV_PY:
            self.handle(self.unpickle(ev), ev[1])
        elif ev[0] == EV_REPLAY_FAILED:
            rank, nr, home_ret, ret, data = ev[1:]
            self.replay_failed(rank, replay_problem(nr, home_ret, ret, data))
        elif ev[0] == EV_GONE:
            st = self.app_exited()
            if st is not None:
                self.on_app_exit(st)
        elif ev[0] == EV_FAILED:
            sys.stderr.write(f"pshare: rank {self.rank}: {ev[1]}: the job ends\n")
            sys.stderr.flush()
            if self.rank == HOME:
                self.failure = (HOME, STATUS_PSHARE_FAILED)
                self.finish(STATUS_PSHARE_FAILED)
            else:
                self.send(HOME, ("failed", self.rank, STATUS_PSHARE_FAILED))
                self.result = STATUS_PSHARE_FAILED

    def wind_down(self, timeout=10.0):
        """Receive every message sent to this rank before MPI ends: MPICH's
        MPI_Finalize fails on a message nobody received, and its process
        manager then kills the whole job (status 9, 'BAD TERMINATION'); a
        large one would leave its sender waiting forever.  So the engine
        stops serving and sending first (Engine.close: a fault or call that
        still comes is dropped, the app is ending), then each agent ends
        its traffic to every peer with 'bye' (home: after 'exit') and drains
        until every peer's 'bye' is in.  Messages between two ranks keep
        their order, so once a peer's 'bye' is in, nothing more comes from
        it.  Every pair: with a manager on every rank, workers talk to one
        another too."""
        self.engine.close()
        peers = [r for r in range(self.size) if r != self.rank]
        for r in peers:
            self.send(r, ("bye",))
        deadline = time.monotonic() + timeout
        while ((set(peers) - self.byes) or self.engine.pending()) and time.monotonic() < deadline:
            ev = self.engine.poll(0.001)
            if ev is not None and ev[0] == EV_PY and self.unpickle(ev)[0] == "bye":
                self.byes.add(ev[1])
        self.engine.cancel(wait_sends=not (set(peers) - self.byes))
        self.comm.Free()

    def on_app_exit(self, status):
        if status is None:
            return
        if self.rank == HOME:
            self.finish(status)
        else:
            # a worker's app died on its own: a crash here ends the job
            self.send(HOME, ("failed", self.rank, status))
            self.result = status

    def finish(self, status):
        for r in range(1, self.size):
            self.send(r, ("exit", status))
        self.result = status

    # ---- messages ----

    def handle(self, msg, src):
        getattr(self, "m_" + msg[0])(src, *msg[1:])

    # every rank
    def m_exit(self, src, status):
        self.result = status

    def m_bye(self, src):
        self.byes.add(src)

    # home only
    def m_failed(self, src, rank, status):
        self.failure = (rank, status)
        self.finish(status)

    def replay_failed(self, rank, problem):
        sys.stderr.write(f"pshare: rank {rank}: {problem}; the ranks' address spaces would "
                         "differ: the job ends\n")
        sys.stderr.flush()
        self.failure = (rank, STATUS_PSHARE_FAILED)
        self.finish(STATUS_PSHARE_FAILED)
