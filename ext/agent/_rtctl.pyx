# cython: language_level=3, boundscheck=False, wraparound=False
"""The agent's side of the control block and the page store (ext/rt/shm.h).

A thin, exact layer: the struct is declared from the runtime's own header, so
the agent reads the very fields the runtime writes.  Also the few process-level
calls the agent needs before it starts the app (personality, the Syscall User
Dispatch probe, the TSC rate for turning runtime cycle counts into time).
"""
from libc.stdint cimport uint64_t, uint32_t, int32_t, int64_t, uint8_t
from libc.string cimport memset, memcpy
from posix.unistd cimport close, ftruncate
from posix.mman cimport mmap, munmap, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_FAILED
import os
import time

from pshare_shm cimport *

cdef extern from "sys/mman.h" nogil:
    int memfd_create(const char *name, unsigned int flags)
    int MAP_NORESERVE

cdef extern from "sys/personality.h" nogil:
    int personality(unsigned long persona)
    unsigned long ADDR_NO_RANDOMIZE

cdef extern from "sys/prctl.h" nogil:
    int prctl(int option, ...)

CTL_FD = PSHARE_CTL_FD
CHAN_FD = PSHARE_CHAN_FD
MBOX_DATA = PSHARE_MBOX_DATA
STORE_FD = PSHARE_STORE_FD
ENV_HAD_PRELOAD = PSHARE_ENV_HAD_PRELOAD
ENV_HAD_TUNABLES = PSHARE_ENV_HAD_TUNABLES
NO_PUNCH = PSHARE_NO_PUNCH
RT_NONE = PSHARE_RT_NONE
RT_RUNNING = PSHARE_RT_RUNNING
RT_FAILED = PSHARE_RT_FAILED
# One definition (shm.h) of what the agent and the runtime say to each other.
UP_MBOX = C_UP_MBOX
UP_APPLIED = C_UP_APPLIED
UP_EXEC_DONE = C_UP_EXEC_DONE
UP_SIGNAL = C_UP_SIGNAL
RQ_FAULT = C_RQ_FAULT
RQ_SYSCALL = C_RQ_SYSCALL
FAULT_REACH = PSHARE_FAULT_REACH
CMD_PROTECT = C_CMD_PROTECT
CMD_EXECUTOR = C_CMD_EXECUTOR
CMD_SIGNAL = C_CMD_SIGNAL
CMD_SYSCALL = C_CMD_SYSCALL
DSM_INVALID = C_DSM_INVALID
DSM_READ = C_DSM_READ
DSM_WRITE = C_DSM_WRITE

# the counters that map one to one onto stats keys
_COUNTERS = (
    "threads_started", "threads_exited", "threads_peak", "regions", "regions_peak",
    "pages_managed", "pages_managed_peak", "faults_read", "faults_write", "faults_upgrade",
    "pages_in", "pages_out", "invalidations", "syscalls_local", "syscalls_forwarded",
    "syscalls_invalid", "reads_for_write", "upgrades_local",
)


cdef int _memfd(const char *name, size_t size) except -1:
    cdef int fd = memfd_create(name, 0)
    if fd < 0:
        raise OSError("memfd_create(%s) failed" % name.decode())
    if ftruncate(fd, size) != 0:
        close(fd)
        raise OSError("ftruncate of the %s memfd failed" % name.decode())
    return fd


cdef class ControlBlock:
    """The shared control block of one rank's app (struct pshare_ctl)."""
    cdef pshare_ctl *ctl
    cdef readonly int fd

    def __cinit__(self, int rank, int nranks, unsigned flags):
        self.fd = _memfd(b"pshare-ctl", sizeof(pshare_ctl))
        cdef void *p = mmap(NULL, sizeof(pshare_ctl), PROT_READ | PROT_WRITE, MAP_SHARED, self.fd, 0)
        if p == MAP_FAILED:
            close(self.fd)
            raise OSError("cannot map the control block")
        self.ctl = <pshare_ctl *>p
        memset(p, 0, sizeof(pshare_ctl))
        self.ctl.magic = PSHARE_MAGIC
        self.ctl.version = PSHARE_VERSION
        self.ctl.flags = flags
        self.ctl.rank = rank
        self.ctl.nranks = nranks
        self.ctl.agent_pid = os.getpid()

    def __dealloc__(self):
        if self.ctl != NULL:
            munmap(self.ctl, sizeof(pshare_ctl))
        if self.fd >= 0:
            close(self.fd)

    @property
    def address(self):
        """Where the block is mapped in this process (for pshare._engine)."""
        return <size_t>self.ctl

    @property
    def state(self):
        return self.ctl.state

    @property
    def error(self):
        return (<bytes>self.ctl.error).decode(errors="replace")

    @property
    def control_slot(self):
        return self.ctl.control_slot

    def set_cpus(self, int base, int total):
        """The cluster's CPUs as the app sees them (ext/rt/cpus.c): this
        rank's first one's number, and how many in all (0: each node's own)."""
        self.ctl.cpu_base = base
        self.ctl.cpu_total = total

    def set_home_pid(self, int pid):
        self.ctl.home_pid = pid

    def set_comm(self, bytes name):
        """The name the app's threads take (at most 15 bytes, as the kernel's)."""
        cdef bytes cut = name[:sizeof(self.ctl.comm) - 1]
        memset(self.ctl.comm, 0, sizeof(self.ctl.comm))
        memcpy(self.ctl.comm, <char *>cut, len(cut))

    def set_control_slot(self, int slot):
        """Tests only (tests/engine_peer.py): what the runtime publishes
        before it says RUNNING (control.c), for a test playing the runtime."""
        pshare_store(&self.ctl.control_slot, slot)

    def set_go(self):
        """Let home's main() start (the address spaces were checked)."""
        pshare_store(&self.ctl.go, 1)
        futex_wake(&self.ctl.go)

    def histograms(self):
        """{'fault': [...], 'forward': [...]}: counts per log2(TSC cycles) bucket."""
        return {"fault": [self.ctl.hist_fault[i] for i in range(PSHARE_HIST)],
                "forward": [self.ctl.hist_forward[i] for i in range(PSHARE_HIST)]}

    @property
    def crash(self):
        """The first fatal signal the runtime recorded, or None."""
        c = self.ctl.crash
        if not c.state:
            return None
        return dict(signo=c.signo, code=c.code, tid=c.tid, thread=c.thread, addr=c.addr, ip=c.ip)

    def counters(self):
        cdef pshare_ctl *c = self.ctl
        values = (c.threads_started, c.threads_exited, c.threads_peak, c.regions, c.regions_peak,
                  c.pages_managed, c.pages_managed_peak, c.faults_read, c.faults_write,
                  c.faults_upgrade, c.pages_in, c.pages_out, c.invalidations, c.syscalls_local,
                  c.syscalls_forwarded, c.syscalls_invalid, c.reads_for_write, c.upgrades_local)
        return dict(zip(_COUNTERS, values))

    def syscalls(self):
        """{number: (count, cycles, forwarded)} for every number called at least once."""
        out = {}
        cdef int nr
        for nr in range(PSHARE_NSYS):
            if self.ctl.sys[nr].count:
                out[nr] = (self.ctl.sys[nr].count, self.ctl.sys[nr].cycles,
                           self.ctl.sys[nr].forwarded)
        return out


def make_store():
    """The page store: a sparse memfd; offsets are never reused, so it is huge."""
    return _memfd(b"pshare-store", PSHARE_STORE_SIZE)


def disable_aslr():
    """ASLR off for every program this process starts from now on (the app)."""
    cdef int cur = personality(0xffffffff)
    if cur == -1 or personality(cur | ADDR_NO_RANDOMIZE) == -1:
        raise OSError("personality(ADDR_NO_RANDOMIZE) failed")


def sud_available():
    """Whether this kernel has Syscall User Dispatch: switch it on for this
    thread with the selector at ALLOW (nothing traps), then off again."""
    cdef char selector = 0
    if prctl(59, 1, <unsigned long>0, <unsigned long>0, &selector) != 0:
        return False
    prctl(59, 0, <unsigned long>0, <unsigned long>0, <unsigned long>0)
    return True


cdef extern from *:
    """
    static inline unsigned long long pshare_rdtsc(void) {
        unsigned lo, hi;
        __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
        return ((unsigned long long)hi << 32) | lo;
    }
    """
    unsigned long long pshare_rdtsc() nogil


def tsc_hz(double seconds=0.02):
    """Cycles per second of the TSC the runtime counts in."""
    t0 = time.perf_counter()
    c0 = pshare_rdtsc()
    time.sleep(seconds)
    c1 = pshare_rdtsc()
    t1 = time.perf_counter()
    return (c1 - c0) / (t1 - t0)


# The app's side of the channel, as ext/rt/chan.c does it: for the tests that
# play the runtime with Python threads (tests/engine_peer.py), never the agent.
cdef extern from *:
    """
    static void pshare_app_doorbell(struct pshare_chan *c) {
        __atomic_fetch_add(&c->doorbell, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&c->agent_waiting, __ATOMIC_SEQ_CST))
            syscall(SYS_futex, &c->doorbell, FUTEX_WAKE, 1, NULL, NULL, 0);
    }
    /* lazy: only when the agent asks for it (chan_post_lazy) */
    static void pshare_app_post(struct pshare_chan *c, uint64_t entry, int lazy) {
        uint64_t pos = __atomic_fetch_add(&c->tail, 1, __ATOMIC_ACQ_REL);
        uint64_t *slot = &c->ring[pos % PSHARE_RING];
        for (;;) {
            uint64_t empty = 0;
            if (__atomic_compare_exchange_n(slot, &empty, entry, 0, __ATOMIC_RELEASE,
                                            __ATOMIC_RELAXED))
                break;
            pshare_app_doorbell(c);
            struct timespec pause = { 0, 50000 };
            nanosleep(&pause, NULL);
        }
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (!lazy || __atomic_load_n(&c->apply_wanted, __ATOMIC_SEQ_CST))
            pshare_app_doorbell(c);
    }
    static double pshare_app_now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec * 1e-9;
    }
    /* 1 once the mailbox says `state`, 0 after `timeout` seconds */
    static int pshare_app_wait(struct pshare_mbox *b, uint32_t state, double timeout) {
        double end = pshare_app_now() + timeout;
        for (;;) {
            uint32_t s = __atomic_load_n(&b->state, __ATOMIC_ACQUIRE);
            if (s == state)
                return 1;
            if (pshare_app_now() >= end)
                return 0;
            struct timespec ts = { 0, 1000000 };
            syscall(SYS_futex, &b->state, FUTEX_WAIT, s, &ts, NULL, 0);
        }
    }
    """
    void pshare_app_post(pshare_chan *c, uint64_t entry, int lazy) nogil
    int pshare_app_wait(pshare_mbox *b, uint32_t state, double timeout) nogil


cdef class Channel:
    """The agent's end of the channel (shm.h), for the Python side: the
    mailboxes of the rare requests, the commands it gives the runtime's
    threads.  The up ring is drained by the engine (_engine.pyx), which
    maps the same channel (`address`)."""
    cdef pshare_chan *chan
    cdef readonly int fd
    cdef size_t size

    def __cinit__(self):
        self.size = sizeof(pshare_chan)
        self.fd = _memfd(b"pshare-chan", self.size)
        cdef void *p = mmap(NULL, self.size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, self.fd, 0)
        if p == MAP_FAILED:
            close(self.fd)
            raise OSError("cannot map the channel")
        self.chan = <pshare_chan *>p

    def __dealloc__(self):
        if self.chan != NULL:
            munmap(self.chan, self.size)
        if self.fd >= 0:
            close(self.fd)

    @property
    def address(self):
        """Where the channel is mapped in this process (for pshare._engine)."""
        return <size_t>self.chan

    @property
    def doorbell(self):
        """Tests: the doorbell word (the app and this host's peers ring it)."""
        return pshare_load(&self.chan.doorbell)

    def set_agent_waiting(self, int waiting):
        """Tests: say the engine sleeps (as serve does), so that rings come."""
        pshare_store_sc(&self.chan.agent_waiting, waiting)

    cdef inline pshare_mbox *box(self, int slot) noexcept nogil:
        return &self.chan.box[slot]      # C indexing: the real struct size

    def reply(self, int slot, args, data=None):
        """Answer a thread waiting on its mailbox: a[0..] and data."""
        cdef pshare_mbox *b = self.box(slot)
        self._fill(b, args, data)
        pshare_store(&b.state, MB_REPLY)
        futex_wake(&b.state)

    cdef void _fill(self, pshare_mbox *b, args, data):
        cdef int i
        cdef const unsigned char[:] view
        for i in range(len(args)):
            b.a[i] = args[i]
        if data is not None:
            view = data
            if len(view) > PSHARE_MBOX_DATA:
                raise ValueError("mailbox data too large")
            if len(view):
                memcpy(b.data, &view[0], len(view))
            b.len = len(view)

    def app_post(self, uint64_t entry, bint lazy=False):
        """Tests: post an up-ring entry as an app thread does (chan_post;
        lazy: chan_post_lazy, which wakes the agent only if it asks)."""
        with nogil:
            pshare_app_post(self.chan, entry, lazy)

    @property
    def apply_wanted(self):
        """Tests: the agent sleeps with a message held for an applied grant."""
        return pshare_load(&self.chan.apply_wanted)

    def app_call(self, int slot, unsigned kind, args, data=None, double timeout=20.0):
        """Tests: an app thread's request (chan_call): fill the slot's mailbox,
        post UP_MBOX, wait for the reply without the GIL.  (a[10], data);
        TimeoutError if no reply came in `timeout` seconds."""
        cdef pshare_mbox *b = self.box(slot)
        cdef int ok
        b.len = 0
        self._fill(b, args, data)
        b.kind = kind
        pshare_store(&b.state, MB_REQUEST)
        with nogil:
            pshare_app_post(self.chan, <uint64_t>C_UP_MBOX << 56 | <uint64_t>slot << 40, 0)
            ok = pshare_app_wait(b, MB_REPLY, timeout)
        if not ok:
            raise TimeoutError(f"no reply in mailbox {slot} after {timeout} s")
        result = tuple(b.a[i] for i in range(10)), (<char *>b.data)[:b.len]
        pshare_store(&b.state, MB_IDLE)
        return result

    def app_command(self, int slot, double timeout):
        """Tests: a runtime thread waiting for a command in its mailbox
        (chan_wait for REQUEST): (kind, a[10], data), or None after `timeout`
        seconds.  Answer it with reply() (a control thread) or reply() and
        app_post(UP_EXEC_DONE) (an executor)."""
        cdef pshare_mbox *b = self.box(slot)
        cdef int ok
        with nogil:
            ok = pshare_app_wait(b, MB_REQUEST, timeout)
        if not ok:
            return None
        return b.kind, tuple(b.a[i] for i in range(10)), (<char *>b.data)[:b.len]
