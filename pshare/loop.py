"""The agent's event loop when the job has more than one rank.

Every agent drains its app's up ring (requests of app threads, pages
applied, executors done) and the MPI messages of the other agents.  Home's
agent is also the page manager, the placement policy, the keeper of the
thread table (which executor serves which remote thread) and the one place
where address-space operations get their global order.

Home never waits inside an operation: what it asks of another agent (a page
fetched, an invalidation done, a replay applied, a thread started) carries a
key that comes back with the answer ("<kind>_reply"), and the operation goes
on from there (Node.ask), so any number of pages and operations are in flight and
none waits behind another.  The other agents answer at once, in the order
they were asked.
"""
import errno
import os
import pickle
import sys
import time

from mpi4py import MPI  # loaded after MPI_Init: agent.run imports us then

# up-ring entries, mailbox requests and commands: defined once, in ext/rt/shm.h
from ._rtctl import (CMD_EXECUTOR, CMD_EXECUTOR_END, CMD_GLOBAL, CMD_PROTECT, CMD_SIGNAL,
                     CMD_SPAWN, CMD_SYSCALL, RQ_FAULT, RQ_GLOBAL, RQ_SPAWN, RQ_SYSCALL,
                     RQ_THREAD_EXIT, UP_APPLIED, UP_EXEC_DONE, UP_SIGNAL)
from ._systab import NAMES, NUMBERS
from .manager import HOME, INVALID, Manager

MSG = 1
#: every message travels as pickle.dumps(msg, PICKLE_PROTOCOL) bytes, so its size is known
PICKLE_PROTOCOL = 5
#: the answer to an ask is its kind + this ("fetch_reply"), counted under that name
REPLY_SUFFIX = "_reply"
PAGE = 4096

CLONE_THREAD = 0x10000
#: exit status of a job pshare cannot go on with (as the runtime's rt_fail)
STATUS_PSHARE_FAILED = 126


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


class Node:
    def __init__(self, comm, chan, ctl, store_fd, placement, app_exited):
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.chan = chan
        self.ctl = ctl
        self.store = store_fd
        self.app_exited = app_exited          # () -> exit status or None
        self.control = ctl.control_slot
        self.counts = {"pages_in": 0, "pages_out": 0, "invalidations": 0}
        self.pending = []                     # isends not yet complete
        self.expected = {}                    # (rank, key) -> what to do with its reply
        self.next_key = 0
        self.dones = []                       # grants applied here, not yet told home
        self.result = None                    # the job's exit status, once known
        self.failure = None                   # (status, message) from a crashed rank
        self.byes = set()                     # peers that have sent their last message
        # agent <-> agent traffic: pickled bytes and messages by kind, each way
        self.traffic = {"bytes_sent": 0, "bytes_received": 0,
                        "messages_sent": {}, "messages_received": {}}
        if self.rank == HOME:
            self.manager = Manager(self)
            self.placement = placement
            self.executors = {}               # (rank, slot) -> executor slot
            self.exec_info = {}               # executor slot -> (rank, slot, cluster tid)
            self.inflight = {}                # executor slot -> (rank, slot) of its call now
            self.ending = set()               # executors to end once their call is done

    def command(self, kind, args, data=None):
        """A command to this rank's control thread, waited for."""
        return self.chan.command(self.control, kind, args, data, self.alive)

    def alive(self):
        return self.app_exited() is None

    # ---- sending ----

    def send(self, rank, msg):
        """Never blocks: a large message waits for its receiver, and two
        agents each blocked sending to the other would wait forever.
        Pickled here (as mpi4py's isend would) so its size is counted; the
        buffer lives until the send completes."""
        if rank == self.rank:
            self.handle(msg, rank)
            return
        buf = pickle.dumps(msg, PICKLE_PROTOCOL)
        t = self.traffic
        t["bytes_sent"] += len(buf)
        t["messages_sent"][msg[0]] = t["messages_sent"].get(msg[0], 0) + 1
        self.pending.append((self.comm.Isend([buf, MPI.BYTE], dest=rank, tag=MSG), buf))
        if len(self.pending) > 64:
            self.reap()

    def reap(self):
        """Forget the sends that are complete (and their buffers)."""
        self.pending = [p for p in self.pending if not p[0].Test()]

    def recv(self, status):
        """The message `status` was probed for: its bytes, counted, unpickled."""
        src, tag = status.Get_source(), status.Get_tag()
        buf = bytearray(status.Get_count(MPI.BYTE))
        self.comm.Recv([buf, MPI.BYTE], source=src, tag=tag)
        msg = pickle.loads(buf)
        t = self.traffic
        t["bytes_received"] += len(buf)
        t["messages_received"][msg[0]] = t["messages_received"].get(msg[0], 0) + 1
        return msg

    def ask(self, rank, msg, then):
        """Home: send `msg` (its second field becomes a fresh key) to another
        agent and go on; `then(*answer)` runs when its reply comes."""
        self.next_key += 1
        self.expected[(rank, self.next_key)] = then
        self.send(rank, (msg[0], self.next_key) + tuple(msg[1:]))

    def reply(self, kind, key, *answer):
        """The answer to home's `kind` ask with this key."""
        self.send(HOME, (kind + REPLY_SUFFIX, key) + answer)

    def m_reply(self, src, key, *answer):
        then = self.expected.pop((src, key), None)
        if then is not None and self.result is None:
            then(*answer)

    # ---- what the manager asks for ----

    def fetch(self, owner, page, new_state, then):
        """then(bytes of the page) once `owner` dropped to `new_state`."""
        if owner == self.rank:
            if new_state is not None:
                self.command(CMD_PROTECT, (page, new_state))
            self.counts["pages_out"] += 1
            then(os.pread(self.store, PAGE, page))
        else:
            self.ask(owner, ("fetch", page, new_state), then)

    def invalidate(self, rank, page, then):
        if rank == self.rank:
            self.command(CMD_PROTECT, (page, INVALID))
            self.counts["invalidations"] += 1
            then()
        else:
            self.ask(rank, ("inv", page), then)

    def grant(self, rank, slot, page, state, data):
        self.send(rank, ("grant", slot, page, state, data))

    # ---- the loop ----

    def run(self):
        status = MPI.Status()
        self.idle = 0
        self.last_busy = time.monotonic()
        self.next_check = 0.0
        while self.result is None:
            try:
                self.step(status)
            except ProcessLookupError:
                self.on_app_exit(self.app_exited())
        self.wind_down()
        return self.result

    def wind_down(self, timeout=10.0):
        """Receive every message sent to this rank before MPI ends: MPICH's
        MPI_Finalize fails on a message nobody received, and its process
        manager then kills the whole job (status 9, 'BAD TERMINATION').
        Each agent ends its traffic to a peer with 'bye' (home: after 'exit');
        messages between two ranks keep their order, so once a peer's 'bye'
        is in, nothing more comes from it.  Home talks to every worker,
        workers only to home."""
        peers = range(1, self.size) if self.rank == HOME else (HOME,)
        for r in peers:
            self.send(r, ("bye",))
        waiting = set(peers) - self.byes
        status = MPI.Status()
        deadline = time.monotonic() + timeout
        while (waiting or self.pending) and time.monotonic() < deadline:
            self.reap()
            got = False
            while self.comm.Iprobe(source=MPI.ANY_SOURCE, tag=MSG, status=status):
                src = status.Get_source()
                if self.recv(status)[0] == "bye":
                    waiting.discard(src)
                got = True
            if not got:
                time.sleep(2e-4)

    def step(self, status):
        """One round: the app's requests, the other agents' messages, then,
        when there was nothing, a check on the app and a sleep that gets
        longer the longer nothing happens (spin a little first)."""
        busy = False
        for entry in self.chan.drain(0):
            self.on_entry(entry)
            busy = True
        if self.dones:
            self.send(HOME, ("done", self.take_dones()))
        while self.result is None and self.comm.Iprobe(source=MPI.ANY_SOURCE, tag=MSG,
                                                       status=status):
            src = status.Get_source()
            self.handle(self.recv(status), src)
            busy = True
        now = time.monotonic()
        if busy:
            self.idle = 0
            self.last_busy = now
            return
        if now >= self.next_check:
            self.next_check = now + 0.01
            st = self.app_exited()
            if st is not None:
                self.on_app_exit(st)
                return
        # The app's requests wake us (the doorbell); other agents' messages
        # cannot, so the sleep stays short while the job is active and grows
        # only when it has been quiet for a while.
        self.idle += 1
        if self.idle < 200:
            timeout = 0
            os.sched_yield()           # the app's threads may need this core now
        elif now - self.last_busy < 0.5:
            timeout = 30_000
        else:
            timeout = min(30_000 * (self.idle - 199), 2_000_000)
        for entry in self.chan.drain(timeout):
            self.on_entry(entry)

    def on_app_exit(self, status):
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

    # ---- the app's requests ----

    def on_entry(self, entry):
        kind, slot, low = entry >> 56, (entry >> 40) & 0xFFFF, entry & ((1 << 40) - 1)
        if kind == UP_APPLIED:
            if self.rank == HOME:
                self.manager.done(low * PAGE)
            else:
                self.dones.append(low * PAGE)      # rides on the next message home
        elif kind == UP_EXEC_DONE:
            self.on_exec_done(slot)
        elif kind == UP_SIGNAL:
            rank, rslot, cluster = self.exec_info[slot]
            self.send(rank, ("signal", cluster, low))
        else:
            self.on_request(slot)

    def on_request(self, slot):
        kind, a, data = self.chan.request(slot)
        me = self.rank
        if kind == RQ_FAULT:
            self.send(HOME, ("fault", a[0], a[1], me, slot, self.take_dones()))
        elif kind == RQ_SYSCALL:
            # a[8], a[9]: the segment table in data (only input bytes travel)
            self.send(HOME, ("sys", me, slot, a, data))
        elif kind == RQ_SPAWN:
            self.send(HOME, ("spawn", me, slot, a[:5], data))
        elif kind == RQ_GLOBAL:
            self.send(HOME, ("global", me, slot, a[:8], data))
        elif kind == RQ_THREAD_EXIT:
            self.send(HOME, ("texit", me, slot, a[0]))
            self.chan.reply(slot, (0,))

    # ---- messages ----

    def handle(self, msg, src):
        kind = msg[0]
        if kind.endswith(REPLY_SUFFIX):
            self.m_reply(src, *msg[1:])
        else:
            getattr(self, "m_" + kind)(src, *msg[1:])

    # every rank
    def m_grant(self, src, slot, page, state, data):
        if data is not None:
            os.pwrite(self.store, data, page)     # filled completely before the app sees it
            self.counts["pages_in"] += 1
        self.chan.reply(slot, (state,))

    def m_fetch(self, src, key, page, new_state):
        if new_state is not None:
            self.command(CMD_PROTECT, (page, new_state))
        self.counts["pages_out"] += 1
        self.reply("fetch", key, os.pread(self.store, PAGE, page))

    def m_inv(self, src, key, page):
        self.command(CMD_PROTECT, (page, INVALID))
        self.counts["invalidations"] += 1
        self.reply("inv", key)

    def m_replay(self, src, key, a, data):
        (r, *_), _ = self.command(CMD_GLOBAL, a, data)
        self.reply("replay", key, r)

    def m_start(self, src, key, a, frame):
        (tid, rslot, *_), _ = self.command(CMD_SPAWN, a, frame)
        self.reply("start", key, tid, rslot)

    def m_signal(self, src, cluster, sig):
        self.command(CMD_SIGNAL, (0, cluster, sig))

    def m_answer(self, src, slot, args, data):
        self.chan.reply(slot, args, data)

    def m_exit(self, src, status):
        self.result = status

    def m_bye(self, src):
        self.byes.add(src)

    # home only
    def m_fault(self, src, page, write, rank, slot, dones=()):
        for done in dones:
            self.manager.done(done)
        self.manager.request(page, write, rank, slot)

    def m_done(self, src, pages):
        for page in pages:
            self.manager.done(page)

    def take_dones(self):
        dones, self.dones = self.dones, []
        return dones

    def m_failed(self, src, rank, status):
        self.failure = (rank, status)
        self.finish(status)

    def replay_failed(self, rank, problem):
        sys.stderr.write(f"pshare: rank {rank}: {problem}; the ranks' address spaces would "
                         "differ: the job ends\n")
        sys.stderr.flush()
        self.failure = (rank, STATUS_PSHARE_FAILED)
        self.finish(STATUS_PSHARE_FAILED)

    def executor_for(self, rank, slot):
        """The executor of a remote thread; a negative errno when home has no
        slot left for one (the call fails with it, the job goes on)."""
        ex = self.executors.get((rank, slot))
        if ex is None:
            (tid, ex, *_), _ = self.command(CMD_EXECUTOR, ())
            if tid < 0:
                return tid
            self.executors[(rank, slot)] = ex
            self.exec_info[ex] = (rank, slot, tid)
        return ex

    def m_sys(self, src, rank, slot, a, data):
        ex = self.executor_for(rank, slot)
        if ex < 0:
            self.send(rank, ("answer", slot, (ex, 0), None))
            return
        self.inflight[ex] = (rank, slot)
        self.chan.post(ex, CMD_SYSCALL, a, data)

    def on_exec_done(self, ex):
        (ret, *_), data = self.chan.result(ex)
        rank, slot = self.inflight.pop(ex)
        self.send(rank, ("answer", slot, (ret, 0), data))
        if ex in self.ending:
            self.ending.discard(ex)
            self.chan.post(ex, CMD_EXECUTOR_END, ())

    def m_texit(self, src, rank, slot, cluster):
        """A remote thread ended: so does its executor.  Matched by cluster
        tid: the slot may already serve a newer thread whose start overtook
        this message."""
        ex = next((e for e, info in self.exec_info.items() if info[2] == cluster), None)
        if ex is None:
            return
        rank_, slot_, _ = self.exec_info.pop(ex)
        if self.executors.get((rank_, slot_)) == ex:
            del self.executors[(rank_, slot_)]
        if ex in self.inflight:
            self.ending.add(ex)            # never overwrite a call in progress
        else:
            self.chan.post(ex, CMD_EXECUTOR_END, ())

    def m_spawn(self, src, rank, slot, a, frame):
        flags, tls, ctid, ptid, newsp = a
        if not flags & CLONE_THREAD:
            # a process started by a thread elsewhere: home's executor of
            # that thread starts it, in home's process (the job's fds)
            ex = self.executor_for(rank, slot)
            if ex < 0:
                self.send(rank, ("answer", slot, (ex, 0), None))
                return
            self.inflight[ex] = (rank, slot)
            self.chan.post(ex, CMD_SPAWN, (0, flags, tls, ctid, 0), frame)
            return
        target = self.placement.next()
        if target == HOME and rank == HOME:
            self.send(rank, ("answer", slot, (0, 1), None))      # start it yourself
            return
        if target == HOME:
            (tid, *_), _ = self.command(CMD_SPAWN, (0, flags, tls, ctid, 0), frame)
            self.send(rank, ("answer", slot, (tid, 0), None))
            return
        # a remote thread: its executor first, whose tid is the thread's cluster-wide id
        (cluster, ex, *_), _ = self.command(CMD_EXECUTOR, ())
        if cluster < 0:
            # home has no slot left for the executor: the app gets the
            # kernel's answer for too many threads (EAGAIN), nothing starts
            self.send(rank, ("answer", slot, (cluster, 0), None))
            return
        def started(tid, rslot):
            if tid < 0:
                self.chan.post(ex, CMD_EXECUTOR_END, ())
                self.send(rank, ("answer", slot, (tid, 0), None))
                return
            self.executors[(target, rslot)] = ex
            self.exec_info[ex] = (target, rslot, cluster)
            self.send(rank, ("answer", slot, (cluster, 0), None))

        self.ask(target, ("start", (0, flags, tls, ctid, cluster), frame), started)

    def m_global(self, src, rank, slot, a, data):
        """Decide on home, replay everywhere else, then let the caller go on."""
        decide = tuple(a[:7]) + (1,)
        result, out = self.command(CMD_GLOBAL, decide, data)
        ret, lo, hi = result[0], result[8], result[9]
        if is_err(ret) or self.size == 1:
            self.send(rank, ("answer", slot, (ret,), out))
            return
        replay = (a[0],) + tuple(result[1:7]) + (0,)
        results = {}

        def replayed(r, got):
            results[r] = got
            if len(results) < self.size - 1:
                return
            for r2 in sorted(results):
                problem = replay_problem(a[0], ret, results[r2], out)
                if problem:
                    # never go on with address spaces that differ: a thread
                    # there would fault on memory that is not mapped
                    self.replay_failed(r2, problem)
                    return
            if hi > lo:
                self.manager.forget(lo, hi)
            self.send(rank, ("answer", slot, (ret,), out))

        # every rank applies the replays in the order home sends them
        for r in range(1, self.size):
            self.ask(r, ("replay", replay, out), lambda got, r=r: replayed(r, got))
