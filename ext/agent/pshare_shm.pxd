# The control block and the channel as the runtime defines them (ext/rt/shm.h),
# declared once for every Cython module of the agent (cimport pshare_shm).
from libc.stdint cimport uint64_t, uint32_t, int32_t, int64_t, uint8_t
from libc.errno cimport errno

cdef extern from "shm.h" nogil:
    uint64_t PSHARE_MAGIC
    int PSHARE_VERSION, PSHARE_CTL_FD, PSHARE_STORE_FD, PSHARE_NSYS, PSHARE_MAX_THREADS
    int PSHARE_FAULT_REACH, PSHARE_GLOBAL_FENCE, PSHARE_SHORT_SLICE_NS, PSHARE_TIMERS
    int PSHARE_SIG_TKILL, PSHARE_SIG_USER, PSHARE_SIG_TIMER
    uint64_t PSHARE_STORE_SIZE
    int PSHARE_ENV_HAD_PRELOAD, PSHARE_ENV_HAD_TUNABLES, PSHARE_NO_PUNCH, PSHARE_PUNCH_HOLES, PSHARE_PUNCH_ON, PSHARE_PUNCH_PAUSED
    int PSHARE_PUNCH_WP, PSHARE_PUNCH_WP_USED
    int64_t PSHARE_MAP_SHARED_COPY
    struct pshare_backing:
        int64_t fd
        int64_t offset
    # the page-state table (ext/rt/dsm.c) and its lock
    uint64_t PSHARE_PAGES_MAX, PSHARE_STATES_LEN, PSHARE_STATES_LOCK
    int PSHARE_PS_PROT, PSHARE_PS_MANAGED, PSHARE_PS_SHIFT
    int PSHARE_RT_NONE, PSHARE_RT_RUNNING, PSHARE_RT_FAILED
    # the agent <-> runtime protocol: up-ring entries, requests, commands, page states
    # (C names under a prefix, so the module can export them under their own)
    enum:
        C_UP_MBOX "UP_MBOX"
        C_UP_APPLIED "UP_APPLIED"
        C_UP_EXEC_DONE "UP_EXEC_DONE"
        C_UP_SIGNAL "UP_SIGNAL"
        C_UP_FCANCEL "UP_FCANCEL"
        C_UP_BARRIER "UP_BARRIER"
        C_UP_SIGWAIT_END "UP_SIGWAIT_END"
        C_RQ_FAULT "RQ_FAULT"
        C_RQ_SYSCALL "RQ_SYSCALL"
        C_RQ_SPAWN "RQ_SPAWN"
        C_RQ_GLOBAL "RQ_GLOBAL"
        C_RQ_THREAD_EXIT "RQ_THREAD_EXIT"
        C_RQ_FWAIT "RQ_FWAIT"
        C_RQ_FWAKE "RQ_FWAKE"
        C_RQ_TCALL "RQ_TCALL"
        C_RQ_CPUTIME "RQ_CPUTIME"
        C_CMD_PROTECT "CMD_PROTECT"
        C_CMD_SPAWN "CMD_SPAWN"
        C_CMD_EXECUTOR "CMD_EXECUTOR"
        C_CMD_GLOBAL "CMD_GLOBAL"
        C_CMD_SIGNAL "CMD_SIGNAL"
        C_CMD_SYSCALL "CMD_SYSCALL"
        C_CMD_EXECUTOR_END "CMD_EXECUTOR_END"
        C_CMD_TCALL "CMD_TCALL"
        C_DSM_INVALID "DSM_INVALID"
        C_DSM_READ "DSM_READ"
        C_DSM_WRITE "DSM_WRITE"

    struct pshare_syscount:
        uint64_t count
        uint64_t cycles
        uint64_t forwarded

    struct pshare_crash:
        int32_t state, signo, code, tid, thread
        uint64_t addr, ip

    int PSHARE_CHAN_FD, PSHARE_MBOX_DATA, PSHARE_RING, PSHARE_HIST, PSHARE_FDROP
    uint64_t PSHARE_FDROP_OF(uint64_t addr)
    int MB_IDLE, MB_REQUEST, MB_REPLY

    struct pshare_mbox:
        uint32_t state
        uint32_t kind
        int64_t a[10]
        uint64_t len
        uint64_t t0
        uint64_t barrier
        uint32_t barrier_count
        uint32_t barrier_done
        uint32_t sigwait_end
        uint32_t tcall_tid
        uint8_t data[1]

    struct pshare_chan:
        uint32_t doorbell
        uint32_t agent_waiting
        uint32_t apply_wanted
        uint32_t contended
        uint32_t app_asleep
        uint64_t head
        uint64_t tail
        uint64_t ring[1]
        uint32_t fdrop[1]
        pshare_mbox box[1]

    struct pshare_timer:
        int32_t signo, kernel_id, overrun
        uint64_t value

    struct pshare_ctl:
        uint64_t magic
        uint32_t version, flags
        int32_t rank, nranks, agent_pid, home_pid
        char comm[16]
        int32_t state, app_pid
        char error[256]
        uint64_t threads_started, threads_exited, threads_peak
        uint64_t regions, regions_peak, pages_managed, pages_managed_peak
        uint64_t faults_read, faults_write, faults_upgrade, pages_in, pages_out, invalidations
        uint64_t reads_for_write, upgrades_local
        uint64_t syscalls_local, syscalls_forwarded, syscalls_invalid
        uint32_t fork_gate
        uint32_t go
        int32_t control_slot
        int32_t punch
        uint64_t states_addr
        int32_t uffd_fd
        uint32_t states_gen
        int32_t cpu_base
        int32_t cpu_total
        uint64_t hist_fault[48]
        uint64_t hist_forward[48]
        pshare_crash crash
        pshare_syscount sys[512]
        pshare_timer timers[4096]


# futexes and the atomics both sides use on the shared words
cdef extern from "linux/futex.h" nogil:
    int FUTEX_WAIT, FUTEX_WAKE

cdef extern from "sys/syscall.h" nogil:
    long SYS_futex

cdef extern from "unistd.h" nogil:
    long syscall(long number, ...)

cdef extern from "time.h" nogil:
    struct timespec:
        long tv_sec
        long tv_nsec

cdef inline void futex_wake(uint32_t *addr) noexcept nogil:
    syscall(SYS_futex, addr, FUTEX_WAKE, 1, NULL, NULL, 0)

cdef inline int futex_wait(uint32_t *addr, uint32_t val, long timeout_ns) noexcept nogil:
    """0 when woken, else -errno: -EAGAIN (the word was not val), -ETIMEDOUT, -EINTR."""
    cdef timespec ts
    ts.tv_sec = timeout_ns // 1000000000
    ts.tv_nsec = timeout_ns % 1000000000
    if syscall(SYS_futex, addr, FUTEX_WAIT, val, &ts if timeout_ns >= 0 else NULL, NULL, 0) == 0:
        return 0
    return -errno

cdef extern from *:
    """
    #define pshare_load(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
    #define pshare_store(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
    #define pshare_store_sc(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
    #define pshare_fence() __atomic_thread_fence(__ATOMIC_SEQ_CST)
    #define pshare_add_sc(p, v) __atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)
    #define pshare_or_sc(p, v) __atomic_fetch_or((p), (v), __ATOMIC_SEQ_CST)
    """
    uint64_t pshare_load(void *p) nogil
    void pshare_store(void *p, uint64_t v) nogil
    void pshare_store_sc(void *p, uint64_t v) nogil
    void pshare_fence() nogil
    void pshare_add_sc(uint32_t *p, uint32_t v) nogil
    void pshare_or_sc(int32_t *p, int32_t v) nogil
