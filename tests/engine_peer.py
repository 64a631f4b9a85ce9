"""One rank of the engine's tests without an app: tests/test_engine.py runs
it under `mpiexec -n 2` and `-n 3`.

Each rank is an agent as pshare/loop.py makes it (control block, channel,
page store, Engine on a duplicate of COMM_WORLD, an app process that stays
alive so the engine's waitid sees one), but the app is played by Python
threads over the channel (Channel.app_* in ext/agent/_rtctl.pyx, what
ext/rt/chan.c, dsm.c and control.c do):

- the control thread (slot 0) serves the engine's commands: CMD_PROTECT
  sets this rank's state of the page (dsm_set) and is logged; on home
  CMD_EXECUTOR starts an executor thread, which serves CMD_SYSCALL;
  CMD_SIGNAL is logged;
- app threads fault (RQ_FAULT in their mailbox, UP_MBOX on the ring), apply
  the grant (state, then the access the faulting instruction makes) and
  post UP_APPLIED, as dsm_fault does.

The main thread keeps the engine serving (poll releases the GIL) while it
waits for anything, and synchronises the ranks with a non-blocking barrier
on COMM_WORLD between steps.  A scripted part checks single transactions
exactly (the bytes that arrive, which commands each rank's control thread
got, a FETCH/INV held back until a grant is applied, a read-ahead run that
stops before a page whose grant is not applied, forwarded calls and
signals for remote threads reaching the right rank); then
every rank's threads fault concurrently on a set of pages that carry a
counter, and at the end each page's counter must be the number of
increments made, every rank's state must agree with home's manager (single
writer or readers) and every valid copy must hold the same bytes.

Success: home prints "engine_peer: ok"; any failure aborts the job.
"""
import os
import pickle
import random
import struct
import subprocess
import sys
import threading
import time
import traceback

from mpi4py import MPI

from pshare._engine import EV_FAILED, EV_GONE, EV_PY, Engine
from pshare.loop import ring_peers_on_this_host
from pshare._rtctl import (CMD_EXECUTOR, CMD_PROTECT, CMD_SIGNAL, CMD_SYSCALL,
                           DSM_INVALID as INVALID, DSM_READ as READ, DSM_WRITE as WRITE, FAULT_REACH,
                           RQ_FAULT, RQ_SYSCALL, UP_APPLIED, UP_EXEC_DONE, UP_SIGNAL, Channel,
                           ControlBlock, make_store)

PAGE = 4096
HOME = 0
CONTROL = 0                  # the control thread's mailbox
FIRST_EXECUTOR = 512         # home's executors' mailboxes
TIMEOUT = 30.0               # any one wait; past it the job is aborted
NAMES = {INVALID: "INVALID", READ: "READ", WRITE: "WRITE"}

# scripted pages (store offset = address), in a group home manages at 2, 3 and 4
# ranks (group number a multiple of 12): the script counts the INVs home sends
PA = 0x1000000000 + 8 * 16 * PAGE
PB = PA + 7 * PAGE
PC = PA + 16 * PAGE          # three pages in a row: read-ahead
SEQUENTIAL = 8               # the first RANDOM_PAGES follow one another (one group)
RANDOM_PAGES = [0x2000000000 + i * PAGE for i in range(SEQUENTIAL)] + \
               [0x3000000000 + i * 65 * PAGE for i in range(4)]
THREADS = 3                  # app threads per rank in the concurrent part
OPS = 400                    # accesses per thread


def tagged(tag):
    return tag.ljust(PAGE, b".")


class Rank:
    def __init__(self, world):
        self.world = world
        self.me = world.Get_rank()
        self.size = world.Get_size()
        self.ctl = ControlBlock(self.me, self.size, 0)
        self.ctl.set_control_slot(CONTROL)
        self.chan = Channel()
        self.store = make_store()
        # the "app": the engine only checks it is alive (waitid WNOWAIT)
        self.app = subprocess.Popen(["sleep", "600"], stdin=subprocess.DEVNULL)
        self.comm = world.Dup()
        self.engine = Engine(self.comm, self.chan.address, self.ctl.address, self.store,
                             self.app.pid)
        self.rung_by = ring_peers_on_this_host(self.comm, self.engine, self.chan)
        self.dings = 0                    # "ding" messages received (the doorbell step)
        self.write_runs = 0               # write faults granted a run of pages
        self.lock = threading.Lock()      # a thread's access vs. the control thread's dsm_set
        self.state = {}                   # page -> this rank's DSM state (the runtime's byte)
        self.protects = []                # (page, state) the control thread was told, in order
        self.applying = {}                # page -> threads between a grant and its UP_APPLIED
        self.errors = []
        self.writes = {}                  # page -> increments made here
        self.faults = 0
        self.executors = {}               # home: slot -> thread
        self.served = {}                  # home: executor slot -> the rank whose calls it ran
        self.signals = []                 # (cluster tid, signal) the control thread was given
        self.stop = False
        self.byes = set()
        self.threads = [threading.Thread(target=self.control_loop, daemon=True)]
        self.threads[0].start()

    # ---- the runtime's side ----

    def state_of(self, page):
        """dsm_state: a page never set is WRITE on home, INVALID elsewhere."""
        return self.state.get(page, WRITE if self.me == HOME else INVALID)

    def error(self, what):
        self.errors.append(f"rank {self.me}: {what}")

    def control_loop(self):
        while not self.stop:
            cmd = self.chan.app_command(CONTROL, 0.05)
            if cmd is None:
                continue
            kind, a, _ = cmd
            r0 = r1 = 0
            try:
                if kind == CMD_PROTECT:
                    # dsm_set_run: the page and the run after it (read-ahead:
                    # a[2] pages; every page is managed here), to state a[1]
                    # (0: keep); answers how many pages that was
                    first, st, r0 = a[0], a[1], max(1, a[2])
                    with self.lock:
                        for page in range(first, first + r0 * PAGE, PAGE):
                            if not st:
                                continue
                            if self.applying.get(page):
                                self.error(f"CMD_PROTECT {NAMES.get(st, st)} of {page:#x} came "
                                           "while a grant of it was not applied yet")
                            if st not in (INVALID, READ):
                                self.error(f"CMD_PROTECT to state {st} ({page:#x})")
                            self.state[page] = st
                            self.protects.append((page, st))
                elif kind == CMD_SIGNAL:
                    self.signals.append((a[1], a[2]))
                elif kind == CMD_EXECUTOR and self.me == HOME:
                    r1 = FIRST_EXECUTOR + len(self.executors)
                    r0 = 100000 + r1                       # its tid: the cluster tid
                    t = threading.Thread(target=self.executor_loop, args=(r1,), daemon=True)
                    self.executors[r1] = t
                    t.start()
                else:
                    self.error(f"unexpected command {kind} {a}")
            except Exception:                              # noqa: BLE001 - reported at the end
                self.error(traceback.format_exc())
            self.chan.reply(CONTROL, (r0, r1))

    def executor_loop(self, slot):
        """Home's executor of a remote thread: a forwarded call's result goes
        back in its mailbox with UP_EXEC_DONE (control.c)."""
        while not self.stop:
            cmd = self.chan.app_command(slot, 0.05)
            if cmd is None:
                continue
            kind, a, data = cmd
            if kind != CMD_SYSCALL:
                self.error(f"executor {slot}: command {kind}")
            rank = int(data.rsplit(b" ", 1)[1])
            if self.served.setdefault(slot, rank) != rank:
                self.error(f"executor {slot} ran calls of ranks {self.served[slot]} and {rank}")
            self.chan.reply(slot, (a[0] * 1000 + a[1],), data[::-1] + b"!%d" % slot)
            self.chan.app_post(UP_EXEC_DONE << 56 | slot << 40)

    def fault(self, slot, page, write, access=None, before_apply=None, runs=None):
        """dsm_fault: ask, apply the grant (a read's may bring the pages after
        this one too: a[1], read-ahead), make the access (the instruction
        retried: before UP_APPLIED, so the page cannot have gone), post
        UP_APPLIED for each page.  The granted state; `runs` gets the run's
        length."""
        # every page is managed here: a[2] says as many follow as a fault can say
        (granted, run, *_), _ = self.chan.app_call(slot, RQ_FAULT, (page, int(write), FAULT_REACH))
        pages = range(page, page + max(1, run) * PAGE, PAGE)
        if runs is not None:
            runs.append(len(pages))
        if write and len(pages) > 1:
            self.write_runs += 1
        with self.lock:
            self.faults += 1
            for p in pages:
                self.applying[p] = self.applying.get(p, 0) + 1
        if granted not in (READ, WRITE) or (write and granted != WRITE):
            self.error(f"a {'write' if write else 'read'} fault on {page:#x} got {granted} "
                       f"for {len(pages)} pages")
        try:
            if before_apply is not None:
                before_apply()
        finally:
            with self.lock:
                for p in pages:
                    self.state[p] = granted
                try:
                    if access is not None:
                        access()
                finally:
                    for p in pages:
                        self.applying[p] -= 1
            for p in pages:       # as dsm.c: wakes the engine only if it asks
                self.chan.app_post(UP_APPLIED << 56 | slot << 40 | p // PAGE, lazy=True)
        return granted

    def read(self, page, n=PAGE):
        return os.pread(self.store, n, page)

    def write(self, page, data):
        os.pwrite(self.store, data, page)

    # ---- the agent's side: the engine always serving ----

    def pump(self, seconds=0.002):
        ev = self.engine.poll(seconds)
        if ev is None:
            return
        if ev[0] == EV_PY:
            msg = pickle.loads(ev[2])
            if msg[0] == "ding":
                self.dings += 1
                return
            if msg[0] != "bye":
                raise AssertionError(f"rank {self.me}: unexpected message {msg}")
            self.byes.add(ev[1])
        elif ev[0] in (EV_FAILED, EV_GONE):
            raise AssertionError(f"rank {self.me}: engine: {ev}")

    def wait(self, cond, what):
        deadline = time.monotonic() + TIMEOUT
        while not cond():
            if time.monotonic() > deadline:
                raise TimeoutError(f"rank {self.me}: {what} after {TIMEOUT} s")
            self.pump()

    def sync(self, what):
        req = self.world.Ibarrier()
        self.wait(req.Test, f"barrier {what}")
        if self.errors:
            raise AssertionError("\n".join(self.errors))

    def spawn(self, fn, *args):
        def run():
            try:
                fn(*args)
            except Exception:                              # noqa: BLE001 - reported by sync
                self.error(traceback.format_exc())
        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t

    def join(self, *threads):
        self.wait(lambda: not any(t.is_alive() for t in threads), "app threads")

    def on(self, rank, fn, *args):
        """fn run by an app thread of `rank` (the others only serve), between
        two barriers: what each rank checks after one step is checked before
        any rank starts the next."""
        self.sync("before " + fn.__name__)
        if self.me == rank:
            self.join(self.spawn(fn, *args))
        self.sync(fn.__name__)

    def protected(self, page):
        return [NAMES[s] for p, s in self.protects if p == page]

    def wind_down(self):
        """pshare/loop.py's Node.wind_down: 'bye' to each peer, then serve
        until every peer's is in and every send is complete."""
        peers = set(range(1, self.size)) if self.me == HOME else {HOME}
        for r in peers:
            self.engine.send_py(r, pickle.dumps(("bye",), 5))
        self.wait(lambda: not (peers - self.byes) and self.engine.pending() == 0, "the byes")
        self.engine.cancel()
        self.comm.Free()

    def close(self):
        self.stop = True
        for t in self.threads + list(self.executors.values()):
            t.join(5)
        self.app.kill()
        self.app.wait()


# ---- the scripted part: one transaction at a time, checked exactly ----

def scripted(n):
    size = n.size
    assert n.engine.manager_of(PA) == n.engine.manager_of(PB) == HOME
    writer = 2 if size >= 3 else HOME         # who writes PB after rank 1 read it
    a_bytes, b_bytes = tagged(b"home's A"), tagged(b"home's B")
    b2, b3 = tagged(b"B written by %d" % writer), tagged(b"B written by 1")

    # home's bytes reach a reader; home (the writer) drops to READ first
    if n.me == HOME:
        n.write(PA, a_bytes)
        n.write(PB, b_bytes)
    n.sync("home's bytes")

    def read_a():
        assert n.fault(1, PA, False) == READ
        assert n.read(PA) == a_bytes, n.read(PA)[:40]
    n.on(1, read_a)
    if n.me == HOME:
        assert n.protected(PA) == ["READ"], n.protected(PA)
        assert n.state_of(PA) == READ

    # a FETCH or INV of a page waits until the grant this rank got for it is
    # applied: rank 1's thread holds its grant of PB while `writer` writes PB
    got, release = threading.Event(), threading.Event()

    def read_b_slowly():
        def hold():
            got.set()
            assert release.wait(TIMEOUT)
        assert n.fault(1, PB, False, before_apply=hold) == READ
        assert n.read(PB) == b_bytes

    n.sync("before the held grant")
    if n.me == 1:
        t = n.spawn(read_b_slowly)
        n.wait(got.is_set, "rank 1's grant of PB")
    n.sync("rank 1 holds a grant of PB")

    def write_b():
        had = []                              # what the store holds once the grant is in
        assert n.fault(1, PB, True, access=lambda: (had.append(n.read(PB)), n.write(PB, b2))) \
            == WRITE
        assert had == [b_bytes], had[0][:40]
        assert n.read(PB) == b2

    if n.me == writer:
        n.join(n.spawn(write_b))
        assert n.read(PB) == b2
    if n.me == 1:
        invs = lambda: n.engine.traffic()["messages_received"].get("inv", 0)   # noqa: E731
        n.wait(lambda: invs() == 1, "the INV of PB")
        # the INV is in (served in the same poll, unless held back): no protect yet
        n.pump()
        assert n.protected(PB) == [], n.protected(PB)
        # asleep, the engine asks to be woken for the applied grant the INV
        # waits for (chan_post_lazy rings then, not otherwise)
        n.wait(lambda: n.chan.apply_wanted == 1, "apply_wanted while the INV is held")
        release.set()
        n.join(t)
        n.wait(lambda: n.protected(PB) == ["INVALID"], "the INV of PB, once applied")
        assert n.state_of(PB) == INVALID
        n.wait(lambda: n.chan.apply_wanted == 0, "apply_wanted once nothing is held")
    n.sync("writer has PB")
    if n.me == HOME:
        # n=3: home was READ, fetched to INVALID; n=2: home is the writer (upgrade, no protect)
        assert n.protected(PB) == (["READ", "INVALID"] if size >= 3 else ["READ"]), \
            n.protected(PB)

    # the writer's bytes reach rank 1; the writer drops to READ
    def read_b_again():
        assert n.fault(1, PB, False) == READ
        assert n.read(PB) == b2
    n.on(1, read_b_again)
    if n.me == writer:
        assert n.protected(PB)[-1] == "READ" and n.state_of(PB) == READ

    # rank 1 upgrades its copy: the other copy goes, no bytes move
    def upgrade_b():
        assert n.fault(1, PB, True, access=lambda: n.write(PB, b3)) == WRITE
    n.on(1, upgrade_b)
    if n.me == writer:
        assert n.protected(PB)[-1] == "INVALID" and n.state_of(PB) == INVALID

    # and home reads rank 1's bytes; rank 1 drops to READ
    def home_reads_b():
        assert n.fault(1, PB, False) == READ
        assert n.read(PB) == b3
    n.on(HOME, home_reads_b)
    expect = {HOME: ["READ", "INVALID"] if size >= 3 else ["READ", "READ", "INVALID"],
              1: ["INVALID", "READ"], 2: ["READ", "INVALID"]}
    assert n.protected(PB) == expect.get(n.me, []), (n.protected(PB), expect.get(n.me))
    assert n.state_of(PB) == (READ if n.me < 2 else INVALID)

    # read-ahead takes no page whose grant its owner has not applied yet:
    # rank 1 writes P and Q0, then holds its write grant of Q1; home reads P
    # and then Q0, the page right after, so Q0's fetch asks rank 1 for a run
    # that would take Q1 too.  Rank 1 must stop the run before Q1: had it
    # dropped Q1 to READ and sent its bytes, its thread would then open Q1 for
    # writing, and home would keep a copy that no longer changes with it (and
    # upgrade it, its bytes stale, on its next write: a lost update)
    pp, q0, q1 = PC, PC + PAGE, PC + 2 * PAGE

    def rank1_writes_p_q0():
        for page, tag in ((pp, b"P by 1"), (q0, b"Q0 by 1")):
            assert n.fault(1, page, True, access=lambda p=page, t=tag: n.write(p, tagged(t))) \
                == WRITE
    n.on(1, rank1_writes_p_q0)
    got_q1, release_q1 = threading.Event(), threading.Event()

    def write_q1_slowly():
        def hold():
            got_q1.set()
            assert release_q1.wait(TIMEOUT)
        assert n.fault(1, q1, True, access=lambda: n.write(q1, tagged(b"Q1 by 1")),
                       before_apply=hold) == WRITE

    n.sync("before the held write grant")
    if n.me == 1:
        t = n.spawn(write_q1_slowly)
        n.wait(got_q1.is_set, "rank 1's grant of Q1")
    n.sync("rank 1 holds a write grant of Q1")

    def home_reads_p_q0():
        runs = []
        assert n.fault(1, pp, False, runs=runs) == READ
        assert n.fault(1, q0, False, runs=runs) == READ
        assert runs == [1, 1], f"pages granted per fault: {runs}"
        assert n.read(pp) == tagged(b"P by 1") and n.read(q0) == tagged(b"Q0 by 1")
        assert n.state_of(q1) == INVALID
    n.on(HOME, home_reads_p_q0)
    if n.me == 1:
        release_q1.set()
        n.join(t)
        assert n.state_of(q1) == WRITE and n.read(q1) == tagged(b"Q1 by 1")
        assert n.protected(q1) == [], n.protected(q1)
    n.sync("rank 1 applied its grant of Q1")

    def home_reads_q1():
        assert n.fault(1, q1, False) == READ
        assert n.read(q1) == tagged(b"Q1 by 1"), n.read(q1)[:40]
    n.on(HOME, home_reads_q1)

    # forwarded calls: two threads of each other rank, two calls each; home
    # makes one executor per remote thread and answers with its bytes
    def forward(slot):
        for i in range(2):
            data = b"call %d of slot %d on rank %d" % (i, slot, n.me)
            (r, *_), out = n.chan.app_call(slot, RQ_SYSCALL, (7, slot * 10 + i), data)
            assert r == 7000 + slot * 10 + i, r
            assert out[:len(data)] == data[::-1] and out[len(data):].startswith(b"!"), out
    n.sync("before the forwarded calls")
    if n.me != HOME:
        n.join(n.spawn(forward, 1), n.spawn(forward, 2))
    n.sync("forwarded calls")
    if n.me == HOME:
        assert len(n.executors) == 2 * (size - 1), n.executors

    # a signal for a remote thread reaches home as one for its executor
    # (UP_SIGNAL): the engine carries it to the thread's rank, whose control
    # thread gets it with the cluster tid
    n.sync("before the signals")
    if n.me == HOME:
        for ex in n.executors:
            n.chan.app_post(UP_SIGNAL << 56 | ex << 40 | (ex - FIRST_EXECUTOR + 1))
    else:
        n.wait(lambda: len(n.signals) == 2, "the signals for this rank's two threads")
    n.sync("signals")
    for tid, sig in n.signals:
        assert tid == 100000 + FIRST_EXECUTOR + sig - 1, (tid, sig)
    # and each reached the rank whose thread that executor serves: check()

    doorbell(n)


def doorbell(n):
    """A message to a peer on this host whose engine says it sleeps rings its
    doorbell once (ring_peer); to one that does not say so, it does not.
    Rank 1's engine is not serving meanwhile (plain barriers), so its flag
    is the test's."""
    assert n.rung_by == [r for r in range(n.size) if r != n.me], n.rung_by   # one host
    for waiting in (1, 0):
        if n.me == 1:
            n.chan.set_agent_waiting(waiting)
            before = n.chan.doorbell
        n.world.Barrier()
        if n.me == HOME:
            n.engine.send_py(1, pickle.dumps(("ding",), 5))
        n.world.Barrier()
        if n.me == 1:
            rung = n.chan.doorbell - before
            n.chan.set_agent_waiting(0)
            assert rung == waiting, f"agent_waiting {waiting}: the doorbell went up by {rung}"
        n.sync(f"doorbell, agent_waiting {waiting}")
    if n.me == 1:
        n.wait(lambda: n.dings == 2, "the two dings")


# ---- the concurrent part ----

def counter(n, page):
    lo, = struct.unpack("<Q", n.read(page, 8))
    hi, = struct.unpack("<Q", os.pread(n.store, 8, page + PAGE - 8))
    return lo, hi


def app_thread(n, slot):
    rng = random.Random(1000 * n.me + slot)
    seen = {}                                       # page -> the last value this thread saw

    def access(page, write):
        lo, hi = counter(n, page)
        if lo != hi:
            n.error(f"page {page:#x} torn: {lo} {hi}")
        if lo < seen.get(page, 0):
            n.error(f"page {page:#x} went back from {seen[page]} to {lo}")
        if write:
            lo += 1
            n.write(page, struct.pack("<Q", lo))
            os.pwrite(n.store, struct.pack("<Q", lo), page + PAGE - 8)
            n.writes[page] = n.writes.get(page, 0) + 1
        seen[page] = lo

    def widen():
        if rng.random() < 0.05:
            time.sleep(0.001)              # a grant not applied yet for longer

    def one(page, write):
        with n.lock:
            st = n.state_of(page)
            if st == WRITE or (st == READ and not write):
                access(page, write)
                return
        n.fault(slot, page, write, access=lambda: access(page, write), before_apply=widen)

    done = 0
    while done < OPS:
        write = rng.random() < 0.5
        if rng.random() < 0.5:
            # a sweep over consecutive pages: the engine's windows grow, and
            # runs are fetched, upgraded, invalidated (held while a grant of
            # one of their pages is not applied)
            first = rng.randrange(0, SEQUENTIAL - 3)
            sweep = RANDOM_PAGES[first:first + 4]
        else:
            sweep = [rng.choice(RANDOM_PAGES)]
        for page in sweep:
            one(page, write)
        done += len(sweep)


def concurrent(n):
    n.sync("before the concurrent faults")
    n.join(*[n.spawn(app_thread, n, slot) for slot in range(1, THREADS + 1)])
    n.sync("concurrent faults")
    # quiescent: every request was granted, so every FETCH and INV answered
    snap = {p: (n.state_of(p), counter(n, p)) for p in RANDOM_PAGES}
    # each page's entry from the rank that manages it (groups dealt round-robin)
    manager = {p: n.engine.manager_page(p) for p in RANDOM_PAGES
               if n.engine.manager_of(p) == n.me}
    n.sync("snapshot")
    final = {}

    def home_reads_all():
        for p in RANDOM_PAGES:
            if n.state_of(p) == INVALID:
                n.fault(1, p, False)
            final[p] = counter(n, p)[0]
    n.on(HOME, home_reads_all)
    return snap, manager, final


def check(reports, size):
    """Home: every rank's view against the manager's and the counters."""
    problems = []
    for r, rep in enumerate(reports):
        problems += rep["errors"]
    signalled = {tid: r for r, rep in enumerate(reports) for tid, _ in rep["signals"]}
    served = {100000 + ex: r for ex, r in reports[HOME]["served"].items()}
    if signalled != served:
        problems.append(f"signals reached {signalled} (cluster tid: rank), "
                        f"the executors serve {served}")
    manager = {p: e for rep in reports for p, e in rep["manager"].items()}
    final = reports[HOME]["final"]
    for p in RANDOM_PAGES:
        writes = sum(rep["writes"].get(p, 0) for rep in reports)
        if final[p] != writes:
            problems.append(f"page {p:#x}: {writes} increments, home read {final[p]}")
        if manager[p] is None:
            continue                             # never touched: home's
        owner, copyset, writer, busy, queued = manager[p]
        states = {r: rep["snap"][p][0] for r, rep in enumerate(reports)}
        valid = {r for r, s in states.items() if s != INVALID}
        writers = {r for r, s in states.items() if s == WRITE}
        where = f"page {p:#x}: manager owner {owner} copyset {sorted(copyset)} writer {writer}, " \
                f"ranks {[NAMES[states[r]] for r in range(size)]}"
        if busy or queued:
            problems.append(f"{where}: still busy")
        if valid != copyset:
            problems.append(f"{where}: the copies differ from the copyset")
        if writers - ({owner} if writer else set()):
            problems.append(f"{where}: a rank writes that the manager does not know as writer")
        if writer and copyset != {owner}:
            problems.append(f"{where}: a writer with other copies")
        values = {reports[r]["snap"][p][1] for r in valid}
        if values != {(writes, writes)}:
            problems.append(f"{where}: valid copies hold {values}, {writes} increments")
    return problems


def main():
    world = MPI.COMM_WORLD
    n = Rank(world)
    t0 = time.monotonic()
    scripted(n)
    snap, manager, final = concurrent(n)
    n.wind_down()
    report = dict(errors=n.errors, writes=n.writes, snap=snap, manager=manager, final=final,
                  faults=n.faults, signals=n.signals, served=n.served,
                  write_runs=n.write_runs)
    n.close()
    reports = world.gather(report, root=HOME)
    if n.me == HOME:
        problems = check(reports, n.size)
        if not sum(rep["write_runs"] for rep in reports):
            problems.append("no write fault got a run of pages: the sweeps missed the runs")
        if problems:
            raise AssertionError("\n".join(problems))
        faults = [rep["faults"] for rep in reports]
        print(f"engine_peer: ok, {n.size} ranks, faults per rank {faults}, "
              f"write runs {sum(rep['write_runs'] for rep in reports)}, "
              f"{sum(sum(rep['writes'].values()) for rep in reports)} increments, "
              f"{time.monotonic() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    try:
        main()
    except BaseException:                                  # noqa: BLE001
        sys.stderr.write(f"engine_peer: rank {MPI.COMM_WORLD.Get_rank()}:\n"
                         + traceback.format_exc())
        sys.stderr.flush()
        MPI.COMM_WORLD.Abort(1)
