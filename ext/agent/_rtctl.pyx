# cython: language_level=3, boundscheck=False, wraparound=False
"""The agent's side of the control block and the page store (ext/rt/shm.h).

A thin, exact layer: the struct is declared from the runtime's own header, so
the agent reads the very fields the runtime writes.  Also the few process-level
calls the agent needs before it starts the app (personality, the Syscall User
Dispatch probe, the TSC rate for turning runtime cycle counts into time).
"""
from libc.stdint cimport uint64_t, uint32_t, int32_t
from libc.string cimport memset, memcpy
from posix.unistd cimport close, ftruncate
from posix.mman cimport mmap, munmap, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_FAILED
import os
import time

cdef extern from "shm.h" nogil:
    uint64_t PSHARE_MAGIC
    int PSHARE_VERSION, PSHARE_CTL_FD, PSHARE_STORE_FD, PSHARE_NSYS
    uint64_t PSHARE_STORE_SIZE
    int PSHARE_ENV_HAD_PRELOAD, PSHARE_ENV_HAD_TUNABLES
    int PSHARE_RT_NONE, PSHARE_RT_RUNNING, PSHARE_RT_FAILED

    struct pshare_syscount:
        uint64_t count
        uint64_t cycles

    struct pshare_crash:
        int32_t state, signo, code, tid, thread
        uint64_t addr, ip

    struct pshare_ctl:
        uint64_t magic
        uint32_t version, flags
        int32_t rank, nranks, agent_pid
        int32_t state, app_pid
        char error[256]
        uint64_t threads_started, threads_exited, threads_peak
        uint64_t regions, regions_peak, pages_managed, pages_managed_peak
        uint64_t faults_read, faults_write, faults_upgrade, pages_in, pages_out, invalidations
        uint64_t syscalls_local, syscalls_forwarded, syscalls_invalid
        uint32_t fork_gate
        pshare_crash crash
        pshare_syscount sys[512]

cdef extern from "sys/mman.h" nogil:
    int memfd_create(const char *name, unsigned int flags)

cdef extern from "sys/personality.h" nogil:
    int personality(unsigned long persona)
    unsigned long ADDR_NO_RANDOMIZE

cdef extern from "sys/prctl.h" nogil:
    int prctl(int option, ...)

CTL_FD = PSHARE_CTL_FD
STORE_FD = PSHARE_STORE_FD
ENV_HAD_PRELOAD = PSHARE_ENV_HAD_PRELOAD
ENV_HAD_TUNABLES = PSHARE_ENV_HAD_TUNABLES
RT_NONE = PSHARE_RT_NONE
RT_RUNNING = PSHARE_RT_RUNNING
RT_FAILED = PSHARE_RT_FAILED

# the counters that map one to one onto stats keys
_COUNTERS = (
    "threads_started", "threads_exited", "threads_peak", "regions", "regions_peak",
    "pages_managed", "pages_managed_peak", "faults_read", "faults_write", "faults_upgrade",
    "pages_in", "pages_out", "invalidations", "syscalls_local", "syscalls_forwarded",
    "syscalls_invalid",
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
    def state(self):
        return self.ctl.state

    @property
    def error(self):
        return (<bytes>self.ctl.error).decode(errors="replace")

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
                  c.syscalls_forwarded, c.syscalls_invalid)
        return dict(zip(_COUNTERS, values))

    def syscalls(self):
        """{number: (count, cycles)} for every number called at least once."""
        out = {}
        cdef int nr
        for nr in range(PSHARE_NSYS):
            if self.ctl.sys[nr].count:
                out[nr] = (self.ctl.sys[nr].count, self.ctl.sys[nr].cycles)
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
