# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The agent's fast path: every page and every forwarded call, without the GIL.

One engine per agent.  Its loop (poll) drains the app's up ring and the
other agents' MPI messages and serves, in C: page faults (the manager, the
fetches, invalidations and grants, pages.c), forwarded system calls (home's
executors) and signals for remote threads.  Messages are fixed binary
headers (wire.h) in preallocated receive buffers, received by posted
MPI_Irecv on the engine's own communicator: no pickle, no probe, no Python
object per message.

Address-space operations are the engines' too: home's decides them (its
control thread makes the call) and every other rank's replays them, behind
a fence when they change which pages are managed (global_begin); and so are
new threads: home places them and the target rank's control thread starts
them (spawn_begin).

What is rare goes up to Python (pshare.loop): a replay that went wrong (the
job ends) and a pickled message of the Python side (W_PY: the job's end).  poll() returns at the first
one, so the Python side sees them in the order they came, and nothing after
one is served before Python has handled it.
"""
from libc.stdint cimport uint64_t, uint32_t, int32_t, int64_t, uint8_t, intptr_t
from libc.stdlib cimport malloc, calloc, realloc, free
from libc.string cimport memcpy, memset
from libc.errno cimport EINTR
from posix.unistd cimport pread, pwrite, close
from posix.fcntl cimport open, O_RDWR, O_CLOEXEC
from posix.mman cimport mmap, munmap, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_FAILED
from posix.stat cimport struct_stat, fstat

cdef extern from "<sys/syscall.h>" nogil:
    enum:
        SYS_mmap, SYS_munmap, SYS_brk

cdef extern from "<fcntl.h>" nogil:
    int fallocate(int fd, int mode, long offset, long length)
    enum:
        FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE
from cpython.bytes cimport PyBytes_FromStringAndSize, PyBytes_AS_STRING, PyBytes_GET_SIZE

from mpi4py.libmpi cimport (MPI_Comm, MPI_Request, MPI_Status, MPI_Isend, MPI_Irecv, MPI_Test,
                            MPI_Request_get_status,
                            MPI_Cancel, MPI_Wait, MPI_Get_count, MPI_BYTE, MPI_ANY_SOURCE,
                            MPI_REQUEST_NULL, MPI_STATUS_IGNORE, MPI_Comm_f2c)
from pshare_shm cimport *


cdef extern from "wire.h" nogil:
    enum:
        W_FAULT, W_GRANT, W_FETCH, W_PAGE, W_INV, W_INV_DONE, W_SYS, W_ANSWER, W_SIGNAL, W_PY
        W_FENCE, W_FENCED, W_UNFENCE, W_GOT, W_SENT, W_GLOBAL, W_REPLAY, W_REPLAYED
        W_SPAWN, W_START, W_STARTED, W_TEXIT, W_SWEND, W_TCALL
        W_FWAIT, W_FWAKE, W_FCANCEL, W_FWOKEN, W_BARRIER, W_GO, W_CPUQ, W_CPUTIME
        W_NKINDS, PSHARE_WIRE_SLOTS
    struct pshare_wire:
        uint32_t kind
        int32_t slot
        uint64_t page
        int64_t a[10]
        uint64_t len
    const char *pshare_wire_names[]
    int PSHARE_WIRE_HDR, PSHARE_WIRE_MAX, PSHARE_WIRE_MAX_PAYLOAD

cdef extern from "pages.h" nogil:
    int PM_FETCH, PM_INV, PM_GRANT, PM_MAX_RANKS, PM_PAGE, PM_READAHEAD_MAX, PM_GROUP_PAGES
    int PM_READ_FOR_WRITE
    struct pm_action:
        int kind, rank, slot, state, count
        uint64_t page
        const uint8_t *data
        int to
    ctypedef void (*pm_emit_fn)(void *ctx, const pm_action *a) noexcept nogil
    struct pm:
        pass
    pm *pm_new(pm_emit_fn emit, void *ctx)
    void pm_free(pm *m)
    int pm_request(pm *m, uint64_t page, int write, int rank, int slot, int want)
    int pm_manager_of(uint64_t page, int nranks)
    void pm_answer(pm *m, uint64_t page, const uint8_t *data, int count)
    void pm_answered(pm *m, uint64_t page, int count, int by)
    int pm_drop_pending(pm *m, uint64_t page)
    int PM_BY_REQUESTER, PM_BY_OWNER
    int pm_forget(pm *m, uint64_t lo, uint64_t hi, int owner)
    int pm_fresh_owner(pm *m, uint64_t page)
    void pm_set_hold(pm *m, uint64_t max_ns)
    void pm_set_clock(pm *m, uint64_t now_ns)
    uint64_t pm_tick(pm *m)
    void pm_inspect(pm *m, uint64_t page, int *owner, uint64_t *copyset, int *writer,
                    int *busy, int *queued)
    uint64_t pm_count(pm *m)

cdef extern from "backings.h" nogil:
    struct bk
    bk *bk_new()
    void bk_free(bk *t)
    int bk_add(bk *t, uint64_t lo, uint64_t hi, int fd, int64_t off)
    int bk_cut(bk *t, uint64_t lo, uint64_t hi)
    int bk_any(const bk *t, uint64_t page, uint64_t len)
    int bk_io(const bk *t, int store, uint8_t *buf, uint64_t len, uint64_t page, int write)
    int bk_own_description(int fd)

cdef extern from "futexes.h" nogil:
    struct fx:
        pass
    ctypedef void (*fx_woken_fn)(void *ctx, int rank, int slot) noexcept nogil
    fx *fx_new()
    void fx_free(fx *t)
    int fx_wait(fx *t, uint64_t addr, int rank, int slot, uint32_t bitset)
    int fx_wake(fx *t, uint64_t addr, int n, uint32_t bitset, fx_woken_fn woken, void *ctx)
    int fx_cancel(fx *t, uint64_t addr, int rank, int slot)
    uint64_t fx_waiting(const fx *t)

cdef extern from "barriers.h" nogil:
    struct br:
        pass
    ctypedef void (*br_go_fn)(void *ctx, int rank, int slot, int serial) noexcept nogil
    br *br_new()
    void br_free(br *t)
    int br_arrive(br *t, uint64_t addr, uint32_t count, int rank, int slot, br_go_fn go, void *ctx)
    uint64_t br_waiting(const br *t)

cdef extern from "sched.h" nogil:
    int sched_yield()
    enum:
        CLONE_THREAD

cdef extern from *:
    """
    #include <string.h>
    #include <unistd.h>
    #include <sys/syscall.h>
    #include "shm.h"
    /* The calling thread's time slice, as control.c's slice_follows_contention
     * sets the runtime threads' (0 = the default); nice and policy kept,
     * other policies left alone, older kernels ignore it. */
    static void pshare_set_slice(unsigned long long ns)
    {
        struct pshare_sched_attr attr;
        memset(&attr, 0, sizeof attr);
        if (syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) != 0 || attr.policy != 0)
            return;
        attr.size = sizeof attr;
        attr.runtime = ns;
        syscall(SYS_sched_setattr, 0, &attr, 0);
    }
    """
    void pshare_set_slice(unsigned long long ns) nogil

cdef extern from *:
    """
    #include <string.h>
    #include <unistd.h>
    #include <sys/syscall.h>
    /* Signal 64 to an executor of the app (its tid): SI_QUEUE, which
     * another process may send; the value 0 means only "look" (sigwait.c). */
    static void pshare_wake_executor(int pid, int tid)
    {
        unsigned char info[128];
        int sig = 64, code = -1;
        memset(info, 0, sizeof info);
        memcpy(info, &sig, 4);
        memcpy(info + 8, &code, 4);
        syscall(SYS_rt_tgsigqueueinfo, pid, tid, sig, info);
    }
    """
    void pshare_wake_executor(int pid, int tid) nogil

cdef extern from *:
    """
    #include <errno.h>
    #include <signal.h>
    #include <linux/futex.h>
    /* The app's exit rings the engine's doorbell: SIGCHLD's handler bumps it
     * and wakes the sleeper, so an idle engine need not wake up to look
     * (pshare_child_seen says why it woke).  Async-signal-safe: an atomic
     * add and a raw futex call, errno kept. */
    static uint32_t *volatile pshare_child_bell;
    static volatile sig_atomic_t pshare_child_flag;
    static void pshare_on_child(int sig)
    {
        int saved = errno;
        (void)sig;
        pshare_child_flag = 1;
        if (pshare_child_bell) {
            __atomic_fetch_add(pshare_child_bell, 1, __ATOMIC_SEQ_CST);
            syscall(SYS_futex, pshare_child_bell, FUTEX_WAKE, 1, NULL, NULL, 0);
        }
        errno = saved;
    }
    /* SA_RESTART: MPI's threads' calls go on; the engine's futex sleep ends
     * anyway (its word changed).  SA_NOCLDSTOP: a stopped app is no news. */
    static int pshare_ring_on_child(uint32_t *bell)
    {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = pshare_on_child;
        sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
        sigemptyset(&sa.sa_mask);
        pshare_child_bell = bell;
        return sigaction(SIGCHLD, &sa, NULL);
    }
    static void pshare_forget_child_bell(uint32_t *bell)
    {
        __atomic_compare_exchange_n((uint32_t **)&pshare_child_bell, &bell, NULL, 0,
                                    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    }
    static int pshare_child_seen(void)
    {
        if (!pshare_child_flag)
            return 0;
        pshare_child_flag = 0;
        return 1;
    }
    """
    int pshare_ring_on_child(uint32_t *bell) nogil
    void pshare_forget_child_bell(uint32_t *bell) nogil
    int pshare_child_seen() nogil

cdef extern from *:
    """
    #include <sys/ioctl.h>
    #include <sys/mman.h>
    #include <linux/userfaultfd.h>
    #ifndef SYS_pidfd_open
    #define SYS_pidfd_open 434
    #endif
    #ifndef SYS_pidfd_getfd
    #define SYS_pidfd_getfd 438
    #endif
    #define PSHARE_FUTEX_CALL(word, op, val) syscall(SYS_futex, (word), (op), (val), NULL, NULL, 0)
    #include "states_lock.h"
    /* A descriptor of the app's (pidfd_getfd: the agent is its parent), or -1. */
    static int pshare_take_fd(int pid, int fd)
    {
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0)
            return -1;
        int mine = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
        close(pidfd);
        return mine;
    }
    /* The app's page-state table and its lock, mapped from the store at the
     * same offset (ext/rt/dsm.c), or NULL. */
    static uint8_t *pshare_map_states(int store, uint64_t addr)
    {
        void *p = mmap(NULL, PSHARE_STATES_LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
                       store, (off_t)addr);
        return p == MAP_FAILED ? NULL : (uint8_t *)p;
    }
    static void pshare_unmap_states(uint8_t *p)
    {
        if (p)
            munmap(p, PSHARE_STATES_LEN);
    }
    /* Write-protect [addr, addr+len) of the app (the userfaultfd's own mm). */
    static int pshare_write_protect(int uffd, uint64_t addr, uint64_t len)
    {
        struct uffdio_writeprotect w = { { addr, len }, UFFDIO_WRITEPROTECT_MODE_WP };
        return ioctl(uffd, UFFDIO_WRITEPROTECT, &w);
    }
    """
    void pshare_states_lock(uint32_t *word) nogil
    void pshare_states_unlock(uint32_t *word) nogil
    int pshare_states_trylock(uint32_t *word) nogil
    int pshare_take_fd(int pid, int fd) nogil
    uint8_t *pshare_map_states(int store, uint64_t addr) nogil
    void pshare_unmap_states(uint8_t *p) nogil
    int pshare_write_protect(int uffd, uint64_t addr, uint64_t len) nogil

cdef extern from "sys/wait.h" nogil:
    ctypedef struct siginfo_t:
        int si_pid
    int waitid(int idtype, int id, siginfo_t *infop, int options)
    int P_PID, WEXITED, WNOHANG, WNOWAIT

cdef extern from "time.h" nogil:
    int clock_gettime(int clk, timespec *ts)
    int CLOCK_MONOTONIC, CLOCK_THREAD_CPUTIME_ID

cdef enum:
    HOME = 0
    TAG = 7
    NRECV = 4                       # receives kept posted (matched in the order posted)
    RECV_SIZE = 104 + 260 * 1024    # PSHARE_WIRE_MAX (checked at import)
    RD_STREAMS = 8                  # sequential read streams followed per rank
    PF_DEPTH = 4                    # groups a stream's prefetch keeps in flight
    WR_SLOTS = 1024                 # sequential write streams: where each goes next, by page hash
    LEARN_SLOTS = 4096              # read runs learned: how far a stream that began at a page went
    LEARN_MAX = 4                   # ... up to this: longer streams ramp up anyway
    THREAD_SLOTS = 1024             # PSHARE_MAX_THREADS (checked at import)
    RUN_GROWTH = 4                  # a stream's next run is this many times its last (1, 4, 16):
                                    # doubling took radix's faults 17% and matmul's 37% higher
    COMMAND_SPIN_NS = 50000         # a command's answer is polled for this long, then slept for
    RUNG_SLEEP_NS = 100000000       # a rank every peer rings sleeps this long at most (a backstop)
    RUNG_SLEEP_MIN_NS = 2000000     # ... and at least this long
    SPIN_AFTER_WORK_NS = 200000     # idle, the engine polls (yielding) this long after work ...
    SPIN_WAITING_NS = 5000000       # ... and this long while this rank waits for answers
    YIELD_SLOW_NS = 500000           # a sched_yield this long (a time slice): others hog the core
    CONTENDED_NS = 100000000        # ... and then the engine sleeps instead of polling this long
    PEER_MAP = 4096                 # what is mapped of a peer's channel: its doorbell
    PUSH_SLOT = 1 << 24             # a grant's slot flag: the page comes with a futex wake (on_fwake)
    PREFETCH_SLOT = 1 << 25         # ... the pages come for no thread: a stream's next group (prefetch)
    WON_SLOTS = 256                 # pages granted writable lately, remembered (fetch_here)
    SP_SLOTS = 8                    # strided prefetches in flight per rank (strided_prefetch)
    SP_AFTER = 2                    # ... asked once this many new read streams in a row began a stride on
    SP_DEPTH = 4                    # ... blocks ahead, at most (sp_depth)
    DIRECT_AFTER_NS = 300000        # a page granted writable this lately is dropped by the control thread

# what poll() reports to Python
cdef enum:
    E_PY = 2                        # (EV_PY, src, bytes): a pickled message
    E_GONE = 3                      # (EV_GONE,): the app is gone (a command could not finish)
    E_FAILED = 4                    # (EV_FAILED, message): the engine cannot go on
    E_REPLAY_FAILED = 5             # (EV_REPLAY_FAILED, rank, nr, home's result, rank's result, home's data)
EV_PY, EV_GONE, EV_FAILED, EV_REPLAY_FAILED = E_PY, E_GONE, E_FAILED, E_REPLAY_FAILED
cdef enum:
    R_OK = 0
    R_EVENT = 1                     # an event for Python is ready; stop serving


cdef struct msg_t:                  # a message held back or sent to this rank itself
    msg_t *next
    int src
    uint64_t due                    # a late message (tests): not sent before (0: after the one before)
    pshare_wire h                   # followed by h.len payload bytes


cdef struct applying_t:             # a page granted here whose grant a thread has not applied
    uint64_t page
    int count                       # grants not applied yet
    msg_t *head                     # messages for the page held back meanwhile, in order
    msg_t *tail


cdef struct held_t:                 # a thread's fault held while a fence is up
    int slot
    uint64_t page
    int64_t write, mapped           # RQ_FAULT a[1], a[2]


cdef struct gop_t:                  # home: an address-space op in progress (global_begin)
    gop_t *next
    uint64_t id                     # its number: REPLAY and REPLAYED carry it
    int rank, slot                  # the thread that asked
    int64_t fence                   # the fence it waits for (0: none, or up everywhere)
    int fenced                      # a fence is up for it: down once it is done
    int waiting                     # replays not answered yet
    int bad_rank                    # the lowest rank whose replay went wrong (-1: none)
    int64_t bad_ret                 # ... what it gave there
    int64_t a[8]                    # the request: a[0] nr, a[1..6] arguments, a[7] GLOBAL_FENCE
    int64_t ret, owner, lo, hi      # home's result, where the new pages start, the range that starts over
    uint8_t *data                   # the request's data, then home's (replayed and answered)
    uint64_t len
    int backing_fd                  # a new shared region's backing, taken at its decide (-1: none)
    int64_t backing_off


cdef struct learned_t:              # runs learned, direct-mapped by the page a stream began at
    uint64_t page[LEARN_SLOTS]
    uint8_t run[LEARN_SLOTS]        # ... how far it went (up to LEARN_MAX)


cdef struct stride_t:                # new streams that begin at a constant stride
    uint64_t last_start             # the last new stream's first page
    int64_t last_stride             # ... how far it began from the one before
    int run                         # ... the run it needed (so far)
    int hits                        # how many new streams in a row began at that stride


cdef struct engine_t:
    MPI_Comm comm
    int rank, size, store, control, app_pid
    pshare_chan *chan
    pshare_ctl *ctl
    pm *m                           # the manager of this rank's share of the pages
    fx *fx                          # ... and of the futex words on them (futexes.c)
    br *br                          # ... and of the pthread barriers on them (barriers.c)
    uint64_t hold_max               # anti-thrashing window's longest (0: off)
    uint64_t hold_next              # when the next page's window ends (0: none waits)
    int hold_dirty                  # the manager ran: its windows may have changed
    # read-ahead: the streams of sequential reads this rank's threads make
    # (a loop reading two arrays at once is two): where each goes next, the
    # run its next read asks for, when it was last used (to replace the oldest)
    uint64_t rd_next[RD_STREAMS]
    int rd_window[RD_STREAMS]
    uint64_t rd_used[RD_STREAMS]
    uint64_t rd_start[RD_STREAMS]   # the page the stream began at
    int rd_expect[RD_STREAMS]       # ... the run one that began there needed last time (0: unknown, long)
    uint64_t rd_ahead[RD_STREAMS * PF_DEPTH]   # the groups its prefetch asked for (0: none)
    int rd_depth[RD_STREAMS]        # ... how many it keeps in flight (grows to PF_DEPTH)
    uint64_t rd_waited[RD_STREAMS]  # the last group whose first page a thread waited at
    int rd_waiter[RD_STREAMS]       # a thread that faulted in one of them meanwhile (-1: none)
    uint64_t rd_waiter_page[RD_STREAMS]
    int64_t rd_waiter_mapped[RD_STREAMS]  # ... and how many managed pages follow its page
    uint64_t rd_clock
    stride_t rd_stride              # read streams begun at a stride (LU's panel blocks)
    stride_t wr_stride              # ... write streams (a block's read-modify-write)
    # strided prefetch (strided_prefetch): the runs asked for no thread, a
    # thread that faulted in one meanwhile (slot + 1; 0: none)
    uint64_t sp_page[SP_SLOTS]      # 0: a free entry
    int sp_count[SP_SLOTS]
    int sp_waiter[SP_SLOTS]
    uint64_t sp_waiter_page[SP_SLOTS]
    int64_t sp_waiter_mapped[SP_SLOTS]
    int sp_depth                    # blocks asked ahead: one more each time a thread waits for one
    uint64_t sp_pages               # pages they brought
    # write streams (a radix sort's scatter writes 256 at once): direct-mapped
    # by the page each expects next, with the run its next write fault asks for
    uint64_t wr_next[WR_SLOTS]
    uint8_t wr_window[WR_SLOTS]
    uint64_t wr_start[WR_SLOTS]     # ... the page the stream began at
    uint64_t wr_came[WR_SLOTS]      # ... when its last run came
    uint64_t wr_from[THREAD_SLOTS]  # by thread slot: the stream its write fault is in
    # write runs learned (as read runs): a stream whose faults came in a quick
    # burst (write_burst_ns apart at most; 0: none learned) asks at once for
    # as far as it went
    uint64_t write_burst_ns
    learned_t wr_learned
    # read runs learned: a stream that begins at the same page again asks at
    # once for as many pages as its faults proved needed last time (an edge
    # row read every sweep: one fault, not one per page)
    learned_t rd_learned
    uint8_t *pagebuf                # a read-ahead run of pages, read from the store
    bk *backed                      # home: the shared regions (backings.h)
    # receives: NRECV buffers, served strictly in the order posted
    uint8_t *rbuf[NRECV]
    MPI_Request rreq[NRECV]
    int rnext
    # sends not yet complete, with their buffers and destinations
    MPI_Request *sreq
    void **sbuf
    int *sdest
    int nsend, capsend
    # messages to this rank itself, in order
    msg_t *lhead
    msg_t *ltail
    # futex wakes held until a write's owner says it dropped the page (on_fwake)
    msg_t *whead
    msg_t *wtail
    # grants not applied yet, and what waits for them
    applying_t *ap
    int nap, capap
    # fences (around an address-space op that changes which pages are
    # managed or whose they are: global_begin):
    # while one is up this rank asks for no page (its threads' faults wait
    # in `held`, prefetches are not made), and once every page it asked for
    # has come and been applied it tells home (FENCED), so that no grant
    # asked for before the op is written into the store after it
    int fenced                      # fences up
    int64_t drain_seq               # the latest fence to report once drained (0: none)
    int64_t fence_seq               # home: the last fence put up
    int64_t fence_done              # home: the last one reported up everywhere
    int64_t *fence_acked            # home: [rank] the last fence each reported
    gop_t *gops                     # home: address-space ops in progress, oldest first
    gop_t *gops_tail
    uint64_t gop_seq
    # home: where new threads go (the placement policy's cycle of ranks)
    int32_t *place
    int nplace
    uint64_t placed
    int faults_out                  # threads' faults sent, not granted yet
    held_t *held                    # the faults held (one per thread slot at most)
    int nheld
    # tests (PSHARE_DEBUG_PREFETCH_DELAY_MS): a manager sends a prefetch's
    # grant this late, and what it sends the same rank after it behind it
    uint64_t late_ns
    msg_t **late_head               # [dest]
    msg_t **late_tail
    int nlate
    # the FWAKE being served (fx_woken): a lock's waiter woken elsewhere
    # than the waker's rank gets the page with its wake
    int wake_src, wake_push, wake_rank, wake_slot
    # home: the executors of remote threads
    int32_t *ex_of                  # [rank * MAX_THREADS + slot] -> executor slot or -1
    int32_t *ex_rank
    int32_t *ex_slot
    int64_t *ex_cluster
    int32_t *ex_busy_rank           # the call it runs now: for whom (-1: none)
    int32_t *ex_busy_slot
    uint8_t *ex_ending              # end it once its call is done
    # the event for Python
    int ev_kind, ev_src
    int64_t ev_a[3]
    uint8_t *ev_data
    uint64_t ev_len
    char *failure
    int gone
    int closing                     # the job is over: serve nothing, send nothing more
    # the doorbells of the peers on this host (their channels' first page,
    # NULL for a peer elsewhere): a message to a sleeping peer rings it
    pshare_chan **peer              # [rank]
    int rung_by_all                 # every peer rings this rank: sleep until rung
    uint32_t cores                  # cores of this rank's affinity (0: unknown)
    int contended                   # cores_contended's last answer
    # idle policy
    int outstanding                 # this rank's requests and asks not answered yet
    uint64_t last_busy_ns
    uint64_t contended_until        # poll not before this (a yield came back late)
    # counters
    uint64_t bytes_sent, bytes_received, pages_in, pages_out, invalidations, rings, pushed
    uint64_t punched                # read copies dropped by punching them out (ext/rt/uffd.c)
    uint64_t fetched_here           # FETCHes whose drop the engine made itself (fetch_here)
    uint64_t commands, command_ns   # commands to a runtime thread, and the time waited for them
    uint64_t opened_here            # prefetched runs the engine opened itself (open_here)
    uint64_t opened_page[SP_SLOTS]  # ... the last of them (0: none), for a thread that
    int opened_count[SP_SLOTS]      # faulted in one before it was opened (opened_lately)
    int opened_next
    # pages granted writable here lately (direct-mapped by page): a FETCH of
    # one goes through the control thread (fetch_here says why)
    uint64_t won_page[WON_SLOTS]
    uint64_t won_ns[WON_SLOTS]
    # ... with the app's userfaultfd and page-state table, taken for the
    # runtime's states_gen `states_gen` (0: not yet; NULL / -1: could not)
    int wp_fd
    uint8_t *states
    uint32_t states_gen
    uint64_t prefetched
    int prefetch_peak               # the most groups one stream had in flight
    uint64_t spin_ns                # CPU time the engine spent polling with nothing to do
    uint64_t sent[PSHARE_WIRE_SLOTS]
    uint64_t received[PSHARE_WIRE_SLOTS]
    # the process's CPU time asked for by a thread (RQ_CPUTIME), per slot:
    # the clocks summed so far (3 a slot) and the ranks yet to answer
    int64_t *cpu_sum
    int32_t *cpu_due


cdef inline uint64_t clock_ns(int clk) noexcept nogil:
    cdef timespec ts
    clock_gettime(clk, &ts)
    return <uint64_t>ts.tv_sec * 1000000000 + ts.tv_nsec


cdef inline uint64_t now_ns() noexcept nogil:
    return clock_ns(CLOCK_MONOTONIC)


cdef inline uint64_t cpu_ns() noexcept nogil:
    """This thread's CPU time."""
    return clock_ns(CLOCK_THREAD_CPUTIME_ID)


cdef inline void spin_starts(uint64_t *spin_from) noexcept nogil:
    """The engine polls with nothing to do: an idle stretch begins, unless one goes on."""
    if not spin_from[0]:
        spin_from[0] = cpu_ns()


cdef inline void spin_ends(engine_t *e, uint64_t *spin_from) noexcept nogil:
    """An idle stretch of polling (begun at CPU time *spin_from, 0: none) is
    over: its CPU time counts as spent spinning, not serving (the stats'
    split of the agent's CPU time)."""
    if spin_from[0]:
        e.spin_ns += cpu_ns() - spin_from[0]
        spin_from[0] = 0


cdef inline uint64_t live_threads(engine_t *e) noexcept nogil:
    """The app threads alive on this rank, main included."""
    return pshare_load(&e.ctl.threads_started) - pshare_load(&e.ctl.threads_exited)


cdef int cores_contended(engine_t *e) noexcept nogil:
    """This rank has more threads that want a core than the cores of its
    affinity: its live app threads and this engine.  Polling then takes the
    core from a thread that computes (a yield gives it back within
    microseconds), so the engine sleeps instead, and so do the app's
    waiters, which read the verdict in the channel (chan.c).  Answered
    again at each idle moment: threads come and go.  Peers on the same
    cores are not counted: on 2 vCPUs shared by 2 ranks that made every
    fault pay an idle vCPU's wake-up (pshare-bench faults: 70 µs against
    28-105 µs)."""
    cdef int contended = e.cores != 0 and live_threads(e) + 1 > e.cores
    if contended != e.contended:
        e.contended = contended
        pshare_store(&e.chan.contended, contended)
        # as the runtime's threads (control.c): woken on a core where an app
        # thread computes, preempt it at once rather than after its slice
        pshare_set_slice(PSHARE_SHORT_SLICE_NS if contended else 0)
    return contended


cdef inline int cores_free(engine_t *e) noexcept nogil:
    """Every app thread of this rank but fewer than its cores sleeps until
    this engine answers or wakes it (chan.c's app_asleep: a fault, a
    forwarded call, a futex wait): polling then takes a core from nobody,
    while sleeping makes each message pay an idle core's wake-up.  Only the
    engine polls then; the sleepers stay asleep (the channel's `contended`
    is unchanged).  At 2 ranks pinned to 1 core each, a remote read fault
    went from 47-49 to 30-32 µs (pshare-bench faults --cores-per-rank 1)."""
    cdef uint64_t live = live_threads(e)
    cdef uint64_t asleep = pshare_load(&e.chan.app_asleep)
    return e.cores != 0 and (asleep >= live or live - asleep + 1 <= e.cores)


cdef inline int may_poll(engine_t *e) noexcept nogil:
    """Whether this engine may poll rather than sleep (after updating the
    channel's verdict for the app's waiters)."""
    return not cores_contended(e) or cores_free(e)


cdef inline void yield_core(engine_t *e) noexcept nogil:
    """Give the core to whoever wants it; if that took long, the node has more
    runnable threads than cores, and a poller would get its core back only
    after their time slices: sleep instead for a while (a sleeper the
    scheduler wakes ahead of them)."""
    cdef uint64_t t = now_ns()
    sched_yield()
    if now_ns() - t > YIELD_SLOW_NS:
        e.contended_until = now_ns() + CONTENDED_NS


cdef inline pshare_mbox *box(engine_t *e, int slot) noexcept nogil:
    return &e.chan.box[slot]


cdef void fail(engine_t *e, const char *what) noexcept nogil:
    if e.failure == NULL:
        e.failure = <char *>what
        e.ev_kind = E_FAILED


# ---- the app: mailboxes and commands ----

cdef void mbox_reply(engine_t *e, int slot, int64_t a0, int64_t a1, const uint8_t *data,
                     uint64_t n) noexcept nogil:
    """Answer the app thread waiting on its mailbox."""
    cdef pshare_mbox *b = box(e, slot)
    b.a[0] = a0
    b.a[1] = a1
    if n:
        memcpy(b.data, data, n)
    b.len = n
    pshare_store(&b.state, MB_REPLY)
    futex_wake(&b.state)


cdef int app_gone(engine_t *e) noexcept nogil:
    """The app exited (not reaped: WNOWAIT leaves that to Python)."""
    cdef siginfo_t info
    info.si_pid = 0
    if waitid(P_PID, e.app_pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0:
        return 1
    return info.si_pid != 0


cdef int64_t command(engine_t *e, int slot, uint32_t kind, int64_t a0, int64_t a1,
                     int64_t a2) noexcept nogil:
    """A command to a runtime thread, waited for; its a[0].  If the app is
    gone meanwhile, e.gone is set (and the result is meaningless)."""
    cdef pshare_mbox *b = box(e, slot)
    b.a[0] = a0
    b.a[1] = a1
    b.a[2] = a2
    b.len = 0
    return command_filled(e, slot, kind)


cdef int64_t command_filled(engine_t *e, int slot, uint32_t kind) noexcept nogil:
    """command() of a mailbox whose a[] and data the caller filled; what
    the thread left in them stays there until the next command."""
    cdef pshare_mbox *b = box(e, slot)
    cdef int spins = 0
    cdef uint64_t t0
    b.kind = kind
    pshare_store(&b.state, MB_REQUEST)
    futex_wake(&b.state)
    # the control thread answers in a few µs (it polls a while after each
    # command too): poll first, sleep after; at once if the thread needs
    # this core
    t0 = now_ns()
    while (pshare_load(&b.state) != MB_REPLY and now_ns() - t0 < COMMAND_SPIN_NS
           and now_ns() > e.contended_until and may_poll(e)):
        yield_core(e)
    while pshare_load(&b.state) != MB_REPLY:
        futex_wait(&b.state, MB_REQUEST, 1000000)
        spins += 1
        if spins % 20 == 0 and app_gone(e):
            e.gone = 1
            e.ev_kind = E_GONE
            return -1
    cdef int64_t r = b.a[0]
    pshare_store(&b.state, MB_IDLE)
    e.commands += 1
    e.command_ns += now_ns() - t0
    return r


# ---- sending ----

cdef inline void ring_peer(engine_t *e, int dest) noexcept nogil:
    """Wake the engine of `dest` if it sleeps (a peer on this host): MPI
    cannot.  Its sleep re-checks MPI after it says it waits (serve)."""
    cdef pshare_chan *c = e.peer[dest]
    if c == NULL:
        return
    pshare_fence()
    if pshare_load(&c.agent_waiting):
        pshare_add_sc(&c.doorbell, 1)
        futex_wake(&c.doorbell)
        e.rings += 1


cdef void reap(engine_t *e) noexcept nogil:
    """Forget the sends that are complete, and their buffers.  A send not
    complete may need its receiver's progress (a large message goes in
    pieces): its receiver is rung again."""
    cdef int i = 0, done
    while i < e.nsend:
        done = 0
        MPI_Test(&e.sreq[i], &done, MPI_STATUS_IGNORE)
        if done:
            free(e.sbuf[i])
            e.nsend -= 1
            e.sreq[i] = e.sreq[e.nsend]
            e.sbuf[i] = e.sbuf[e.nsend]
            e.sdest[i] = e.sdest[e.nsend]
        else:
            ring_peer(e, e.sdest[i])
            i += 1


cdef int enqueue(engine_t *e, msg_t **head, msg_t **tail, int src, pshare_wire *h,
                 const void *payload) noexcept nogil:
    """A copy of the message (h.len payload bytes) at the end of a FIFO: the
    messages to this rank itself, or those held for a page."""
    cdef msg_t *m = <msg_t *>malloc(sizeof(msg_t) + h.len)
    if m == NULL:
        fail(e, "out of memory for a message")
        return -1
    m.next = NULL
    m.src = src
    m.due = 0
    memcpy(&m.h, h, sizeof(pshare_wire))
    if h.len:
        memcpy(<uint8_t *>m + sizeof(msg_t), payload, h.len)
    if tail[0] != NULL:
        tail[0].next = m
    else:
        head[0] = m
    tail[0] = m
    return 0


cdef int send(engine_t *e, int dest, pshare_wire *h, const void *payload,
              uint64_t n) noexcept nogil:
    """Never blocks (two agents each blocked sending to the other would wait
    forever); to this rank itself, the message joins the local queue."""
    h.len = n
    if e.late_ns and ((h.kind == W_GRANT and h.slot & PREFETCH_SLOT) or held_late(e, dest, h)):
        return send_late(e, dest, h, payload)
    return send_now(e, dest, h, payload)


cdef inline uint64_t pages_end(pshare_wire *h) noexcept nogil:
    """The end of the pages a page message is about (a[1]: a run's length)."""
    return h.page + <uint64_t>(h.a[1] if h.a[1] > 1 else 1) * PM_PAGE


cdef int held_late(engine_t *e, int dest, pshare_wire *h) noexcept nogil:
    """Tests: a page message about a page a late message to `dest` is
    about waits behind it (the order per page is what the protocol needs)."""
    cdef msg_t *m = e.late_head[dest]
    if h.kind != W_GRANT and h.kind != W_FETCH and h.kind != W_INV and h.kind != W_PAGE \
            and h.kind != W_INV_DONE and h.kind != W_FAULT and h.kind != W_GOT \
            and h.kind != W_SENT:
        return 0
    while m != NULL:
        if m.h.page < pages_end(h) and h.page < pages_end(&m.h):
            return 1
        m = m.next
    return 0


cdef int send_late(engine_t *e, int dest, pshare_wire *h, const void *payload) noexcept nogil:
    """Tests: a prefetch's grant leaves late, and the page messages about
    its pages to the same rank after it leave behind it, in order (a slow
    link for those pages: the rest, an address-space op's replay among it,
    overtakes it).  To this rank itself too: a manager's grant can wait
    for a FETCH's answer that a replay overtakes."""
    cdef msg_t *m
    cdef int first = e.late_head[dest] == NULL
    if enqueue(e, &e.late_head[dest], &e.late_tail[dest], e.rank, h, payload) != 0:
        return -1
    m = e.late_tail[dest]
    if h.kind == W_GRANT and h.slot & PREFETCH_SLOT:
        m.due = now_ns() + e.late_ns
    if first:
        e.nlate += 1
    return 0


cdef void send_due(engine_t *e) noexcept nogil:
    """Tests: send the late messages whose time has come."""
    cdef int dest
    cdef msg_t *m
    cdef uint64_t t = now_ns()
    for dest in range(e.size):
        while e.late_head[dest] != NULL and e.late_head[dest].due <= t:
            m = e.late_head[dest]
            e.late_head[dest] = m.next
            if m.next == NULL:
                e.late_tail[dest] = NULL
                e.nlate -= 1
            send_now(e, dest, &m.h, <uint8_t *>m + sizeof(msg_t))
            free(m)


cdef int send_now(engine_t *e, int dest, pshare_wire *h, const void *payload) noexcept nogil:
    cdef uint8_t *buf
    cdef uint64_t n = h.len
    if dest == e.rank:
        return enqueue(e, &e.lhead, &e.ltail, e.rank, h, payload)
    if e.nsend == e.capsend:
        reap(e)
        if e.nsend == e.capsend:
            e.capsend = e.capsend * 2 if e.capsend else 64
            e.sreq = <MPI_Request *>realloc(e.sreq, e.capsend * sizeof(MPI_Request))
            e.sbuf = <void **>realloc(e.sbuf, e.capsend * sizeof(void *))
            e.sdest = <int *>realloc(e.sdest, e.capsend * sizeof(int))
            if e.sreq == NULL or e.sbuf == NULL or e.sdest == NULL:
                fail(e, "out of memory for the send list")
                return -1
    buf = <uint8_t *>malloc(PSHARE_WIRE_HDR + n)
    if buf == NULL:
        fail(e, "out of memory for a message")
        return -1
    memcpy(buf, h, PSHARE_WIRE_HDR)
    if n:
        memcpy(buf + PSHARE_WIRE_HDR, payload, n)
    MPI_Isend(buf, <int>(PSHARE_WIRE_HDR + n), MPI_BYTE, dest, TAG, e.comm, &e.sreq[e.nsend])
    e.sbuf[e.nsend] = buf
    e.sdest[e.nsend] = dest
    e.nsend += 1
    ring_peer(e, dest)
    e.bytes_sent += PSHARE_WIRE_HDR + n
    if h.kind != W_PY:
        e.sent[h.kind] += 1
    return 0


cdef inline void hdr(pshare_wire *h, uint32_t kind, int slot, uint64_t page) noexcept nogil:
    memset(h, 0, sizeof(pshare_wire))
    h.kind = kind
    h.slot = slot
    h.page = page


# ---- the manager's actions (home) ----

cdef void emit(void *ctx, const pm_action *a) noexcept nogil:
    cdef engine_t *e = <engine_t *>ctx
    cdef pshare_wire h
    if a.kind == PM_GRANT:
        hdr(&h, W_GRANT, a.slot, a.page)
        h.a[0] = a.state
        h.a[1] = a.count
        send(e, a.rank, &h, a.data, PM_PAGE * a.count if a.data != NULL else 0)
    elif a.kind == PM_FETCH:
        hdr(&h, W_FETCH, -1, a.page)
        h.a[0] = a.state
        h.a[1] = a.count
        if a.to >= 0 and a.to != e.rank and a.rank != e.rank:
            # three ranks in it: the owner sends the bytes to the requester
            # itself (3 hops, not 4, and the bytes cross once)
            h.a[2] = a.to + 1
            h.slot = a.slot
        send(e, a.rank, &h, NULL, 0)
        if a.rank != e.rank:
            e.outstanding += 1
    else:
        hdr(&h, W_INV, -1, a.page)
        h.a[1] = a.count
        send(e, a.rank, &h, NULL, 0)
        if a.rank != e.rank:
            e.outstanding += 1


# ---- grants not applied yet: what must wait for them ----

cdef applying_t *applying(engine_t *e, uint64_t page) noexcept nogil:
    cdef int i
    for i in range(e.nap):
        if e.ap[i].page == page:
            return &e.ap[i]
    return NULL


cdef applying_t *applying_add(engine_t *e, uint64_t page) noexcept nogil:
    cdef applying_t *a = applying(e, page)
    if a != NULL:
        return a
    if e.nap == e.capap:
        e.capap = e.capap * 2 if e.capap else 64
        e.ap = <applying_t *>realloc(e.ap, e.capap * sizeof(applying_t))
        if e.ap == NULL:
            fail(e, "out of memory for the grant list")
            return NULL
    a = &e.ap[e.nap]
    e.nap += 1
    a.page = page
    a.count = 0
    a.head = NULL
    a.tail = NULL
    return a


cdef void applying_drop(engine_t *e, applying_t *a) noexcept nogil:
    e.nap -= 1
    a[0] = e.ap[e.nap]


cdef int holding(engine_t *e) noexcept nogil:
    """A message waits for a grant to be applied here."""
    cdef int i
    for i in range(e.nap):
        if e.ap[i].head != NULL:
            return 1
    return 0


cdef int hold(engine_t *e, applying_t *a, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    """Keep a message for the page until the grants before it are applied."""
    return enqueue(e, &a.head, &a.tail, src, h, payload)


# ---- message handlers: one per kind (the dispatch table) ----

ctypedef int (*handler_t)(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil
cdef handler_t HANDLERS[PSHARE_WIRE_SLOTS]


cdef int page_msg(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    """GRANT, FETCH, INV: in order per page, and a FETCH or INV only once
    every grant of its page before it has been applied here (else the
    thread applying it would reopen a page this rank has given up).  The
    other pages of a FETCH's read-ahead run do not hold it: on_fetch trims
    the run before the first of them that is not ready."""
    cdef applying_t *a = applying(e, h.page)
    if a != NULL and (a.head != NULL or (h.kind != W_GRANT and a.count > 0)):
        return hold(e, a, src, h, payload)
    return HANDLERS[h.kind](e, src, h, payload)


cdef inline void manager_clock(engine_t *e) noexcept nogil:
    if e.hold_max:
        pm_set_clock(e.m, now_ns())
        e.hold_dirty = 1


cdef int on_fault(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    manager_clock(e)
    if pm_request(e.m, h.page, <int>h.a[0], src, h.slot, <int>h.a[1]) != 0:
        fail(e, "out of memory in the page manager")
    return R_OK


cdef int on_grant(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    """A thread's page, and with a read the pages after it that came along
    (a[1]: read-ahead); the thread applies them all (dsm.c).  From the
    owner itself (a[2]: the manager + 1), the manager hears that it came (GOT):
    its transaction ends then, and nothing it sends about these pages can
    overtake this grant.  Told after the thread is woken: the manager's
    wake-up is off the fault's path."""
    cdef pshare_wire got
    cdef int r = grant_came(e, src, h, payload)
    if h.a[2] > 0:
        hdr(&got, W_GOT, -1, h.page)
        got.a[1] = h.a[1] if h.a[1] > 1 else 1
        send(e, <int>h.a[2] - 1, &got, NULL, 0)
    return r


cdef inline int won_slot(uint64_t page) noexcept nogil:
    return <int>((page // PM_PAGE * 0x9E3779B97F4A7C15ULL) >> 56) & (WON_SLOTS - 1)


cdef inline void won(engine_t *e, uint64_t page) noexcept nogil:
    cdef int i = won_slot(page)
    e.won_page[i] = page
    e.won_ns[i] = now_ns()


cdef inline int won_lately(engine_t *e, uint64_t page) noexcept nogil:
    cdef int i = won_slot(page)
    return e.won_page[i] == page and now_ns() - e.won_ns[i] < DIRECT_AFTER_NS


cdef int grant_came(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    cdef applying_t *a
    cdef int64_t n = h.a[1] if h.a[1] > 1 else 1, i
    if h.len:
        # filled completely before the thread can see them (invalid here)
        if bk_io(e.backed, e.store, <uint8_t *>payload, h.len, h.page, 1) != 0:
            fail(e, "cannot write a page into the store")
            return R_OK
        e.pages_in += n
    elif h.a[0] != C_DSM_WRITE:
        present(e, h.page, n)
    if h.a[0] == C_DSM_WRITE:
        for i in range(n):
            won(e, h.page + i * PM_PAGE)
    if h.slot & PUSH_SLOT:
        return on_pushed(e, h)
    if h.slot & PREFETCH_SLOT:
        return on_prefetched(e, src, h, n)
    for i in range(n):
        a = applying_add(e, h.page + i * PM_PAGE)
        if a == NULL:
            return R_OK
        a.count += 1
    if h.a[0] == C_DSM_WRITE:
        write_run_granted(e, h.slot, h.page, n)
    elif n > 1:
        read_run_granted(e, h.page, n)
    if src != e.rank and e.outstanding > 0:
        e.outstanding -= 1
    e.faults_out -= 1
    mbox_reply(e, h.slot, h.a[0], n, NULL, 0)
    return R_OK


cdef int on_pushed(engine_t *e, pshare_wire *h) noexcept nogil:
    """A released lock's page with the wake of its waiter here (on_fwake):
    the waiter's futex wait is over (0), and it opens the page itself as it
    wakes (a[1]: the state; ext/rt/futex.c), like a thread its fault's
    grant: the page is on the applying list until it has, so nothing after
    the grant for it is served before.  (The control thread opened it
    before: two context switches more on the waiter's core per hand-over.)"""
    cdef applying_t *a = applying_add(e, h.page)
    if a == NULL:
        return R_EVENT
    a.count += 1
    e.pushed += 1
    mbox_reply(e, h.slot & ~PUSH_SLOT, 0, h.a[0], NULL, 0)
    return R_OK


cdef inline uint64_t group_of(uint64_t page) noexcept nogil:
    """The first page of `page`'s group (one manager's, pm_manager_of)."""
    return page // (PM_GROUP_PAGES * PM_PAGE) * (PM_GROUP_PAGES * PM_PAGE)


cdef inline int flying(engine_t *e, int i, uint64_t group) noexcept nogil:
    """Whether stream i's prefetch asked for `group` and it has not come."""
    cdef int k
    for k in range(PF_DEPTH):
        if e.rd_ahead[i * PF_DEPTH + k] == group:
            return 1
    return 0


cdef inline int in_flight(engine_t *e, int i) noexcept nogil:
    """How many groups stream i's prefetch waits for."""
    cdef int k, n = 0
    for k in range(PF_DEPTH):
        if e.rd_ahead[i * PF_DEPTH + k]:
            n += 1
    return n


cdef inline int waited_at_start(engine_t *e, uint64_t group) noexcept nogil:
    """The stream whose prefetch of `group` a thread waits for at its first page, or -1."""
    cdef int i
    for i in range(RD_STREAMS):
        if flying(e, i, group) and e.rd_waiter[i] >= 0 and e.rd_waiter_page[i] == group:
            return i
    return -1


cdef inline int group_came(engine_t *e, int i, uint64_t group, int64_t n) noexcept nogil:
    """Stream i's prefetch of n pages from `group` is in: it goes on after
    them; the thread that waited in this group (-1: none, or it waits in
    another group still in flight) is its to answer."""
    cdef int k, slot = -1
    for k in range(PF_DEPTH):
        if e.rd_ahead[i * PF_DEPTH + k] == group:
            e.rd_ahead[i * PF_DEPTH + k] = 0
            break
    if e.rd_next[i] < group + n * PM_PAGE:
        e.rd_next[i] = group + n * PM_PAGE
    if e.rd_waiter[i] >= 0 and group_of(e.rd_waiter_page[i]) == group:
        slot = e.rd_waiter[i]
        e.rd_waiter[i] = -1
    return slot


cdef inline void waited_again(engine_t *e, int i, uint64_t group) noexcept nogil:
    """Stream i's thread waited at `group`'s first page.  Again within the
    groups the stream kept in flight since its last such wait, it reads on
    as fast as they come: one more in flight, up to PF_DEPTH (blocks read
    down a column, one fault each, wait far apart and keep one)."""
    if (e.rd_waited[i] and e.rd_waited[i] < group
            and group <= e.rd_waited[i] + <uint64_t>e.rd_depth[i] * PM_GROUP_PAGES * PM_PAGE
            and e.rd_depth[i] < PF_DEPTH):
        e.rd_depth[i] += 1
    e.rd_waited[i] = group


cdef int hand_over_run(engine_t *e, int slot, pshare_wire *h, int64_t n) noexcept nogil:
    """A prefetched run (n pages from h.page) goes to the thread in `slot`,
    which waits at its first page: it applies it as a run of its own fault
    (on_grant), and the control thread is not woken."""
    cdef int64_t k
    cdef applying_t *a
    for k in range(n):
        a = applying_add(e, h.page + k * PM_PAGE)
        if a == NULL:
            return R_EVENT
        a.count += 1
    mbox_reply(e, slot, h.a[0], n, NULL, 0)
    return R_OK


cdef int open_prefetched(engine_t *e, pshare_wire *h, int64_t n) noexcept nogil:
    """A prefetched run no thread waits for at its start: the engine opens
    it for reading itself (open_here), or else the control thread applies it."""
    if h.a[0] != C_DSM_READ or not open_here(e, h.page, n):
        command(e, e.control, C_CMD_PROTECT, <int64_t>h.page, h.a[0], n)
        if e.gone:
            return R_EVENT
    return R_OK


cdef int on_prefetched(engine_t *e, int src, pshare_wire *h, int64_t n) noexcept nogil:
    """A stream's next group came (prefetch), or a strided block
    (strided_came): its pages are opened (open_prefetched) before anything
    after the grant for them is served; the stream goes on after them, and a thread that faulted
    in the group meanwhile is let go to look again (or, when the group came
    short of its page, asks for it now): having outrun the prefetch, its
    stream prefetches the next group at once.  A thread that waits at the
    group's first page (a scan that outran it) applies the group itself
    instead, like a run granted to its fault: two context switches fewer
    on its core.  Without bytes the first page was here already, and
    nothing changes."""
    cdef int i, slot
    cdef uint64_t page
    if src != e.rank and e.outstanding > 0:
        e.outstanding -= 1
    for i in range(SP_SLOTS):
        if e.sp_page[i] == h.page:
            return strided_came(e, i, h, n)
    if h.len:
        e.prefetched += n
        i = waited_at_start(e, h.page)
        if i >= 0:
            # its thread waits at the group's first page (a scan that outran
            # the prefetch): it applies the group itself, as a run of its own
            # fault (on_grant), and the control thread is not woken
            slot = group_came(e, i, h.page, n)
            waited_again(e, i, h.page)
            if hand_over_run(e, slot, h, n) != R_OK:
                return R_EVENT
            if n == PM_GROUP_PAGES:
                prefetch(e, i, h.page, e.rd_waiter_mapped[i])
            return R_OK
        if open_prefetched(e, h, n) != R_OK:
            return R_EVENT
    for i in range(RD_STREAMS):
        if not flying(e, i, h.page):
            continue
        page = e.rd_waiter_page[i]
        slot = group_came(e, i, h.page, n)
        if slot < 0:
            continue
        if h.len and page < h.page + n * PM_PAGE:
            # state 0: the thread applies nothing itself (the control thread
            # did); re-applying READ could undo an INV served meanwhile
            mbox_reply(e, slot, 0, 1, NULL, 0)
            if n == PM_GROUP_PAGES:
                # the thread outran the prefetch: ask for the next group now
                prefetch(e, i, page, e.rd_waiter_mapped[i])
            continue
        if e.fenced:
            if hold_fault(e, slot, page, 0, e.rd_waiter_mapped[i]) != R_OK:
                return R_EVENT
        else:
            ask_page(e, slot, page, 0, 1)
    return R_OK


cdef void release_states(engine_t *e) noexcept nogil:
    if e.wp_fd >= 0:
        close(e.wp_fd)
    e.wp_fd = -1
    pshare_unmap_states(e.states)
    e.states = NULL


cdef int take_states(engine_t *e) noexcept nogil:
    """Whether the app's userfaultfd and page-state table are at hand (taken
    again when the runtime set them anew: an exec)."""
    cdef uint32_t gen = <uint32_t>pshare_load(&e.ctl.states_gen)
    if gen != e.states_gen:
        release_states(e)
        e.states_gen = gen
        if gen != 0 and pshare_load(&e.ctl.states_addr) != 0:
            e.wp_fd = pshare_take_fd(e.app_pid, <int>pshare_load(&e.ctl.uffd_fd))
            if e.wp_fd >= 0:
                e.states = pshare_map_states(e.store, pshare_load(&e.ctl.states_addr))
            if e.states != NULL:
                # before the first write-protection: the runtime lifts it
                # as it makes pages WRITE from now on (ext/rt/uffd.c)
                pshare_or_sc(&e.ctl.punch, PSHARE_PUNCH_WP_USED)
    return e.wp_fd >= 0 and e.states != NULL


cdef inline void protect_holes(engine_t *e, uint64_t page, int64_t n) noexcept nogil:
    """Punched pages stay write-protected once the engine has made any drop
    itself: the punch takes the protection with the pages (no marker is
    left), and a page the engine made READ or INVALID is still mapped
    writable (only the app's threads mprotect), so the bytes of a later
    grant, written into the store before the runtime applies it, would be
    open to a write there (a lost update: litmus iriw at 2 ranks, 1 run in
    8).  A range the kernel refuses is one not registered for it, where the
    engine made no drop."""
    if e.wp_fd >= 0:
        pshare_write_protect(e.wp_fd, page, n * PM_PAGE)


cdef uint32_t *lock_states(engine_t *e) noexcept nogil:
    """The page-state table's lock, taken for a change the engine makes
    itself; NULL (not taken) when there is no table, an app thread holds it
    (and may wait for a core: the engine does not wait for it), or a fork
    pauses the engine's changes (checked under the lock, which the fork
    takes to pause)."""
    cdef uint32_t *lock
    if not take_states(e):
        return NULL
    lock = <uint32_t *>(e.states + PSHARE_STATES_LOCK)
    if not pshare_states_trylock(lock):
        return NULL
    if pshare_load(&e.ctl.punch) & PSHARE_PUNCH_PAUSED:
        pshare_states_unlock(lock)
        return NULL
    return lock


cdef int64_t managed_run(engine_t *e, uint64_t page, int64_t n) noexcept nogil:
    """Under lock_states: how many pages from `page` on are managed (at most
    n, stopping at the first that is not, as dsm_set_run counts them)."""
    cdef uint64_t first = page // PM_PAGE
    cdef int64_t m = 0
    while m < n and first + m < PSHARE_PAGES_MAX and (e.states[first + m] & PSHARE_PS_MANAGED):
        m += 1
    return m


cdef int64_t set_states(engine_t *e, uint64_t page, int64_t n, int state) noexcept nogil:
    """Under lock_states: the state of the managed run from `page` on
    (managed_run), their protection and management kept; how many that was."""
    cdef uint64_t first = page // PM_PAGE
    cdef int64_t m = managed_run(e, page, n), i
    for i in range(m):
        e.states[first + i] = (e.states[first + i] & (PSHARE_PS_PROT | PSHARE_PS_MANAGED)) | \
            (state << PSHARE_PS_SHIFT)
    return m


cdef int64_t fetch_here(engine_t *e, uint64_t page, int64_t n, int state, int *read) noexcept nogil:
    """The owner's drop of a FETCH made here, without the control thread
    (ext/rt/uffd.c): under the page-state table's lock the run from `page`
    (its managed pages, at most n, as dsm_set_run counts them) is
    write-protected in the app and its state set; a run that leaves is then
    read into pagebuf (`read` then 1) and punched out.  Reads of it until
    the punch are of the bytes the new owner gets: nothing was written
    since.  Returns the pages of the run (1 when none is managed: nothing to
    drop), or 0 when the control thread must do it: no write-protection, a
    forked child copying (checked under the lock, which the fork takes to
    pause), the lock held by an app thread (which may wait for a core: the
    engine does not wait for it), the kernel refused, or the page came here
    writable less than DIRECT_AFTER_NS ago.  That last is a lock's page in
    its holder's critical section: the control thread's drop waits for the
    core the holder runs on, which lets it finish first, and dropped at once
    the page went back and forth more (the `sync` mutex hand-over on 2 vCPUs:
    400 us -> 1.8 ms, 8 -> 12 faults a hand-over)."""
    cdef uint32_t *lock
    cdef int64_t m
    read[0] = 0
    if (pshare_load(&e.ctl.punch) & (PSHARE_PUNCH_ON | PSHARE_PUNCH_WP)) != \
            (PSHARE_PUNCH_ON | PSHARE_PUNCH_WP):
        return 0
    if won_lately(e, page) or bk_any(e.backed, page, n * PM_PAGE):
        return 0                        # a shared region's pages: the control thread's mprotect
    lock = lock_states(e)
    if lock == NULL:
        return 0
    m = managed_run(e, page, n)
    if m == 0:
        pshare_states_unlock(lock)
        return 1                        # unmapped since it was asked for
    if pshare_write_protect(e.wp_fd, page, m * PM_PAGE) != 0:
        pshare_states_unlock(lock)
        return 0
    set_states(e, page, m, state)
    pshare_states_unlock(lock)
    if state == C_DSM_INVALID:
        # no write can land now (the TLBs were flushed): read, then drop
        if pread(e.store, e.pagebuf, m * PM_PAGE, page) != m * PM_PAGE or \
                fallocate(e.store, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, <long>page,
                          m * PM_PAGE) != 0:
            fail(e, "cannot read and drop a page of the store")
            return 0
        read[0] = 1
        protect_holes(e, page, m)
    e.fetched_here += 1
    return m


cdef int open_here(engine_t *e, uint64_t page, int64_t n) noexcept nogil:
    """A run granted READ for no thread (a prefetch), its bytes in the
    store: its state set here, under the page-state table's lock, without
    the control thread.  The app's view of the pages stays as it is:
    closed, or open for reading only over the hole of a copy punched out
    (write-protected: protect_holes), now filled; a thread's first touch of
    a closed one finds it READ and opens it without a message (dsm.c).
    Only managed pages, as dsm_set_run.  0 when the control thread must:
    no table, its lock held by an app thread (which may wait for a core),
    or a fork pausing the engine's changes (lock_states)."""
    cdef uint32_t *lock = lock_states(e)
    if lock == NULL:
        return 0
    set_states(e, page, n, C_DSM_READ)
    pshare_states_unlock(lock)
    e.opened_here += 1
    e.opened_page[e.opened_next] = page
    e.opened_count[e.opened_next] = <int>n
    e.opened_next = (e.opened_next + 1) % SP_SLOTS
    return 1


cdef int opened_lately(engine_t *e, uint64_t page) noexcept nogil:
    """Whether `page` is in a run open_here opened lately (a thread that
    faulted there before need only look again); once for each run: a
    thread that still cannot read it (a fork child, whose page states are
    its own copy) then asks as any fault does."""
    cdef int k
    for k in range(SP_SLOTS):
        if e.opened_page[k] and e.opened_page[k] <= page < e.opened_page[k] + <uint64_t>e.opened_count[k] * PM_PAGE:
            e.opened_page[k] = 0
            return 1
    return 0


cdef int on_fetch(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    """The page (a[1] > 1: and the run after it, as far as it is mapped),
    after dropping to a[0] (0: keep)."""
    cdef pshare_wire r
    cdef int64_t n = h.a[1] if h.a[1] > 1 else 1, i, here
    cdef int read = 0
    if n > PM_READAHEAD_MAX:
        n = PM_READAHEAD_MAX
    # a page of the run granted here but not applied yet (or with messages
    # held for it) stays here, with the rest of the run: its thread would
    # reopen it after the drop (page_msg held this FETCH for its first page)
    for i in range(1, n):
        if applying(e, h.page + i * PM_PAGE) != NULL:
            n = i
            break
    if h.a[0]:
        if h.a[0] == C_DSM_READ:
            present(e, h.page, n)       # kept READ: never a hole (ext/rt/uffd.c)
        # the owner drops its access first (the run asked for is managed
        # here too: every rank has the same mappings, and the requester
        # asked only for its own managed pages, on_thread_fault)
        here = fetch_here(e, h.page, n, <int>h.a[0], &read)
        if e.failure != NULL:
            return R_OK
        if here:
            n = here
        else:
            n = command(e, e.control, C_CMD_PROTECT, <int64_t>h.page, h.a[0], n)
            if e.gone:
                return R_EVENT
            if n < 1 or n > PM_READAHEAD_MAX:
                n = 1                   # the page itself always (it faulted somewhere)
        if h.a[0] == C_DSM_INVALID:
            dropped(e, h.page, n)
    if not read and bk_io(e.backed, e.store, e.pagebuf, n * PM_PAGE, h.page, 0) != 0:
        fail(e, "cannot read a page from the store")
        return R_OK
    e.pages_out += n
    if h.a[2] > 0:
        # straight to the requester, which tells the manager (GOT); a write's
        # drop is told here too (SENT), after any futex wait this rank sent
        hdr(&r, W_GRANT, h.slot, h.page)
        r.a[0] = C_DSM_WRITE if h.a[0] == C_DSM_INVALID else C_DSM_READ
        r.a[1] = n
        r.a[2] = src + 1
        send(e, <int>h.a[2] - 1, &r, e.pagebuf, n * PM_PAGE)
        if h.a[0] == C_DSM_INVALID:
            hdr(&r, W_SENT, -1, h.page)
            r.a[1] = n
            send(e, src, &r, NULL, 0)
        return R_OK
    hdr(&r, W_PAGE, -1, h.page)
    r.a[1] = n
    send(e, src, &r, e.pagebuf, n * PM_PAGE)           # to the page's manager
    return R_OK


cdef int on_got(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    """The owner sent the requester its pages, and they came."""
    if src != e.rank:
        e.outstanding -= 1
    manager_clock(e)
    pm_answered(e.m, h.page, <int>h.a[1], PM_BY_REQUESTER)
    return R_OK


cdef int on_sent(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    """The owner dropped a write's pages and sent them to the requester:
    the futex wakes held for them (on_fwake) go on."""
    cdef msg_t *m
    cdef msg_t *held = e.whead
    cdef int r = R_OK
    manager_clock(e)
    pm_answered(e.m, h.page, <int>h.a[1], PM_BY_OWNER)
    e.whead = NULL
    e.wtail = NULL
    while held != NULL:                 # a wake for another page is held again
        m = held
        held = m.next
        if on_fwake(e, m.src, &m.h, <uint8_t *>m + sizeof(msg_t)) != R_OK:
            r = R_EVENT
        free(m)
    return r


cdef int on_page(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    if src != e.rank:
        e.outstanding -= 1
    manager_clock(e)
    pm_answer(e.m, h.page, payload, <int>(h.len // PM_PAGE))
    return R_OK


cdef inline void present(engine_t *e, uint64_t page, int64_t n) noexcept nogil:
    """With punching on, the n pages from `page` on, about to be READ here,
    are no holes: a hole of a READ page means a dropped copy to the runtime
    (ext/rt/uffd.c), and a page nobody wrote yet would be fetched again and
    again.  fallocate fills holes only (with zeroes)."""
    if pshare_load(&e.ctl.punch) & PSHARE_PUNCH_HOLES and not bk_any(e.backed, page, n * PM_PAGE):
        fallocate(e.store, 0, <long>page, n * PM_PAGE)  # paused or off too: the rule stands


cdef inline void dropped(engine_t *e, uint64_t page, int64_t n) noexcept nogil:
    """This rank's copies of n pages from `page` on are gone (the control
    thread has applied it): their drop counters move on, so a futex wait
    checked against one of them before, and not sent yet, is not sent (it
    could arrive after the wake: ext/rt/futex.c)."""
    cdef int64_t i
    cdef uint32_t *c
    for i in range(n):
        c = &e.chan.fdrop[PSHARE_FDROP_OF(page + i * PM_PAGE)]
        pshare_store(c, c[0] + 1)


cdef int on_inv(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    """Drop this rank's copy of the page (a[1] > 1: and of the run after it,
    an upgrade's), then say so.  The whole run is dropped: a page of it
    whose grant this rank has not applied yet holds the INV (on that page's
    list: on_applied brings it back here) until it is, since the thread
    applying it would reopen the page after the drop."""
    cdef pshare_wire r
    cdef int64_t n = h.a[1] if h.a[1] > 1 else 1, i
    cdef applying_t *a
    for i in range(1, n):
        a = applying(e, h.page + i * PM_PAGE)
        if a != NULL and (a.count > 0 or a.head != NULL):
            return hold(e, a, src, h, payload)
    if (pshare_load(&e.ctl.punch) & (PSHARE_PUNCH_ON | PSHARE_PUNCH_PAUSED)) == PSHARE_PUNCH_ON \
            and not bk_any(e.backed, h.page, n * PM_PAGE):
        # out of the store and so out of the app's view, at once: no hand-off
        # to the control thread (ext/rt/uffd.c); the copy was not the only one
        if fallocate(e.store, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, <long>h.page,
                     n * PM_PAGE) != 0:
            fail(e, "cannot drop a page from the store")
            return R_OK
        protect_holes(e, h.page, n)
        e.punched += n
    else:
        command(e, e.control, C_CMD_PROTECT, <int64_t>h.page, C_DSM_INVALID, n)
        if e.gone:
            return R_EVENT
    e.invalidations += n
    dropped(e, h.page, n)
    hdr(&r, W_INV_DONE, -1, h.page)
    send(e, src, &r, NULL, 0)                          # to the page's manager
    return R_OK


cdef int on_inv_done(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    if src != e.rank:
        e.outstanding -= 1
    manager_clock(e)
    pm_answer(e.m, h.page, NULL, 0)
    return R_OK


cdef int executor_for(engine_t *e, int rank, int slot) noexcept nogil:
    """The executor of a remote thread; a negative errno when home has no
    slot left for one (the call fails with it, the job goes on)."""
    cdef int ex = e.ex_of[rank * PSHARE_MAX_THREADS + slot]
    cdef int64_t tid
    if ex >= 0:
        return ex
    tid = command(e, e.control, C_CMD_EXECUTOR, 0, 0, 0)
    if e.gone:
        return -1
    if tid < 0:
        return <int>tid
    ex = <int>box(e, e.control).a[1]
    e.ex_of[rank * PSHARE_MAX_THREADS + slot] = ex
    e.ex_rank[ex] = rank
    e.ex_slot[ex] = slot
    e.ex_cluster[ex] = tid
    box(e, ex).sigwait_end = 0           # no wait of its thread is to end yet
    return ex


cdef void answer(engine_t *e, int rank, int slot, int64_t ret, int64_t flag,
                 const uint8_t *data, uint64_t n) noexcept nogil:
    cdef pshare_wire h
    hdr(&h, W_ANSWER, slot, 0)
    h.a[0] = ret
    h.a[1] = flag
    send(e, rank, &h, data, n)


cdef void reply_to(engine_t *e, int rank, int slot, int64_t ret, int64_t flag,
                   const uint8_t *data, uint64_t n) noexcept nogil:
    """The answer to a request of `rank`'s thread in `slot`: this rank's
    mailbox, or ANSWER."""
    if rank == e.rank:
        mbox_reply(e, slot, ret, flag, data, n)
    else:
        answer(e, rank, slot, ret, flag, data, n)


cdef void post_filled(engine_t *e, int slot, uint32_t kind) noexcept nogil:
    """Work for a runtime thread whose mailbox the caller filled, not
    waited for (an executor reports UP_EXEC_DONE)."""
    cdef pshare_mbox *b = box(e, slot)
    b.kind = kind
    pshare_store(&b.state, MB_REQUEST)
    futex_wake(&b.state)


cdef pshare_mbox *fill_call(engine_t *e, int slot, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    """A forwarded call (SYS, TCALL) into a runtime thread's mailbox: a[0..9]
    and its input bytes, as the caller's runtime packed them."""
    cdef pshare_mbox *b = box(e, slot)
    cdef int i
    for i in range(10):
        b.a[i] = h.a[i]
    memcpy(b.data, payload, h.len)
    b.len = h.len
    return b


cdef int on_sys(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    cdef int ex = executor_for(e, src, h.slot)
    if e.gone:
        return R_EVENT
    if ex < 0:
        answer(e, src, h.slot, ex, 0, NULL, 0)
        return R_OK
    e.ex_busy_rank[ex] = src
    e.ex_busy_slot[ex] = h.slot
    fill_call(e, ex, h, payload)
    post_filled(e, ex, C_CMD_SYSCALL)
    return R_OK


cdef int on_answer(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    if src != e.rank and e.outstanding > 0:
        e.outstanding -= 1
    mbox_reply(e, h.slot, h.a[0], h.a[1], payload, h.len)
    return R_OK


cdef int on_signal(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    cdef pshare_mbox *b = box(e, e.control)
    cdef int i
    for i in range(6):
        b.a[1 + i] = h.a[i]
    b.len = 0
    command_filled(e, e.control, C_CMD_SIGNAL)
    return R_EVENT if e.gone else R_OK


cdef int on_swend(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    """Home: a thread elsewhere whose signal wait runs at its executor got a
    signal there: the executor ends the wait with that number (sigwait.c),
    woken by signal 64, which it holds while it runs a call."""
    cdef int ex = e.ex_of[src * PSHARE_MAX_THREADS + h.slot]
    if ex < 0 or e.gone:
        return R_OK
    pshare_store(&box(e, ex).sigwait_end, <uint32_t>h.a[0])
    pshare_wake_executor(e.app_pid, <int>e.ex_cluster[ex])
    return R_OK


cdef int on_tcall(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    """A call that names a thread not on its caller's rank (sched_setaffinity
    and the like: ext/rt/schedcall.c).  Home sends it on to the thread's rank
    when the tid is an executor's; otherwise (a thread of home, another
    process, no such tid) it runs here.  It runs at the control thread, for
    the named thread, and the answer goes to the caller."""
    cdef int caller = <int>(h.page >> 32), ex
    cdef int64_t tid = <int64_t>(h.page & <uint64_t>0xffffffff), r
    cdef pshare_mbox *b
    if e.gone:
        return R_EVENT
    if e.rank == HOME:
        for ex in range(PSHARE_MAX_THREADS):
            if e.ex_rank[ex] >= 0 and e.ex_cluster[ex] == tid:     # a thread elsewhere
                send(e, e.ex_rank[ex], h, payload, h.len)
                return R_OK
    b = fill_call(e, e.control, h, payload)
    b.tcall_tid = <uint32_t>tid
    r = command_filled(e, e.control, C_CMD_TCALL)
    if e.gone:
        return R_EVENT
    if caller == e.rank and e.outstanding > 0:
        e.outstanding -= 1              # counted as going elsewhere: it ended here
    reply_to(e, caller, h.slot, r, 0, b.data, b.len)
    return R_OK


# ---- the process's CPU time (ext/rt/cputime.c): every rank's app process's ----

cdef void app_cputime(engine_t *e, int64_t *t) noexcept nogil:
    """This rank's app process's CPU clocks, ns: CPUCLOCK_PROF (user + system),
    _VIRT (user), _SCHED (the scheduler's exact sum), its ended threads
    included.  A process's CPU clock may be read by any process
    (MAKE_PROCESS_CPUCLOCK of its pid)."""
    cdef timespec ts
    cdef int which
    for which in range(3):
        if clock_gettime(<int>(<unsigned int>(~e.app_pid) << 3) | which, &ts) == 0:
            t[which] = <int64_t>ts.tv_sec * 1000000000 + ts.tv_nsec
        else:
            t[which] = 0                # the app is gone: the job ends anyway


cdef int cputime_begin(engine_t *e, int slot) noexcept nogil:
    """A thread's RQ_CPUTIME: this rank's clocks now, every other rank's as
    they answer (on_cputime replies once all have)."""
    cdef pshare_wire h
    cdef int r
    app_cputime(e, &e.cpu_sum[3 * slot])
    e.cpu_due[slot] = e.size - 1
    hdr(&h, W_CPUQ, slot, 0)
    for r in range(e.size):
        if r != e.rank:
            e.outstanding += 1
            send(e, r, &h, NULL, 0)
    if e.cpu_due[slot] == 0:
        mbox_reply(e, slot, 0, 0, <uint8_t *>&e.cpu_sum[3 * slot], 3 * sizeof(int64_t))
    return R_OK


cdef int on_cpuq(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    cdef pshare_wire a
    hdr(&a, W_CPUTIME, h.slot, 0)
    app_cputime(e, a.a)
    send(e, src, &a, NULL, 0)
    return R_OK


cdef int on_cputime(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    cdef int slot = h.slot, which
    if e.outstanding > 0:
        e.outstanding -= 1
    if slot < 0 or slot >= PSHARE_MAX_THREADS or e.cpu_due[slot] <= 0:
        fail(e, "a CPU time nobody asked for")
        return R_EVENT
    for which in range(3):
        e.cpu_sum[3 * slot + which] += h.a[which]
    e.cpu_due[slot] -= 1
    if e.cpu_due[slot] == 0:
        mbox_reply(e, slot, 0, 0, <uint8_t *>&e.cpu_sum[3 * slot], 3 * sizeof(int64_t))
    return R_OK


cdef int on_py(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    e.ev_data = <uint8_t *>malloc(h.len if h.len else 1)
    if e.ev_data == NULL:
        fail(e, "out of memory for a message")
        return R_EVENT
    memcpy(e.ev_data, payload, h.len)
    e.ev_len = h.len
    e.ev_src = src
    e.ev_kind = E_PY
    return R_EVENT


# ---- private futexes of managed pages (ext/rt/futex.c): served by the page's manager ----

cdef void send_fwoken(engine_t *e, int rank, int slot) noexcept nogil:
    cdef pshare_wire h
    hdr(&h, W_FWOKEN, slot, 0)
    send(e, rank, &h, NULL, 0)


cdef void fx_woken(void *ctx, int rank, int slot) noexcept nogil:
    """A waiter of the word on_fwake serves is woken: told at once, unless
    the page is to come with its wake."""
    cdef engine_t *e = <engine_t *>ctx
    if e.wake_push and rank != e.wake_src:
        e.wake_rank = rank
        e.wake_slot = slot
        return
    send_fwoken(e, rank, slot)


cdef int on_fwait(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    if fx_wait(e.fx, h.page, src, h.slot, <uint32_t>h.a[0]) != 0:
        fail(e, "out of memory for a futex waiter")
    return R_OK


cdef int on_fwake(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    """Wake the waiters.  A lock released to one waiter (FUTEX_WAKE of 1,
    the word left 0 by the waker: a pthread mutex, an rwlock, most
    futex locks) on another rank than the waker's: the word's page goes
    there writable in one transaction like any fault's, and its grant
    carries the wake (on_pushed), so the waiter takes the lock without a
    fault of its own.  Not for other words: a condvar's or a barrier's
    waker goes on using the page (it unlocks the mutex, leaves the
    barrier), and taking it away first made their hand-overs slower."""
    cdef int n = <int>h.a[0] if h.a[0] < 0x7fffffff else 0x7fffffff
    cdef int woke, owner, writer, busy, queued
    cdef uint64_t copyset
    cdef uint64_t page = h.page & ~<uint64_t>(PM_PAGE - 1)
    if pm_drop_pending(e.m, page):
        # the page went straight from its owner to this waker, and the
        # owner's SENT (behind any wait its rank sent) is not here yet
        return R_OK if enqueue(e, &e.whead, &e.wtail, src, h, payload) == 0 else R_EVENT
    e.wake_src = src
    e.wake_push = n == 1 and h.a[2] == 0
    e.wake_rank = -1
    woke = fx_wake(e.fx, h.page, n, <uint32_t>h.a[1], fx_woken, e)
    e.wake_push = 0
    if e.wake_rank >= 0:
        pm_inspect(e.m, page, &owner, &copyset, &writer, &busy, &queued)
        if not busy and not queued and owner == e.wake_rank and writer:
            send_fwoken(e, e.wake_rank, e.wake_slot)      # it holds the page already
        else:
            manager_clock(e)
            if pm_request(e.m, page, 1, e.wake_rank, PUSH_SLOT | e.wake_slot, 1) != 0:
                fail(e, "out of memory in the page manager")
    answer(e, src, h.slot, woke, 0, NULL, 0)
    return R_OK


cdef int on_fcancel(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    cdef pshare_wire r
    if fx_cancel(e.fx, h.page, src, h.slot):
        hdr(&r, W_FWOKEN, h.slot, 0)
        r.a[0] = h.a[0]
        send(e, src, &r, NULL, 0)
    return R_OK                         # else a wake took it first: its FWOKEN is on the way


cdef int on_fwoken(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    mbox_reply(e, h.slot, h.a[0], 0, NULL, 0)
    return R_OK


# ---- pthread barriers (ext/rt/barrier.c): each arrival at the barrier's manager ----

cdef void br_go(void *ctx, int rank, int slot, int serial) noexcept nogil:
    cdef engine_t *e = <engine_t *>ctx
    cdef pshare_wire h
    hdr(&h, W_GO, slot, 0)
    h.a[0] = serial
    send(e, rank, &h, NULL, 0)


cdef int on_barrier(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    if br_arrive(e.br, h.page, <uint32_t>h.a[0], src, h.slot, br_go, e) != 0:
        fail(e, "out of memory for a barrier")
    return R_OK


cdef int on_go(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    cdef pshare_mbox *b = box(e, h.slot)
    pshare_store(&b.barrier_done, 2 if h.a[0] else 1)
    futex_wake(&b.barrier_done)
    return R_OK


HANDLERS[W_FAULT] = on_fault
HANDLERS[W_GRANT] = on_grant
HANDLERS[W_FETCH] = on_fetch
HANDLERS[W_PAGE] = on_page
HANDLERS[W_INV] = on_inv
HANDLERS[W_INV_DONE] = on_inv_done
HANDLERS[W_SYS] = on_sys
HANDLERS[W_ANSWER] = on_answer
HANDLERS[W_SIGNAL] = on_signal
HANDLERS[W_PY] = on_py
HANDLERS[W_FWAIT] = on_fwait
HANDLERS[W_FWAKE] = on_fwake
HANDLERS[W_FCANCEL] = on_fcancel
HANDLERS[W_FWOKEN] = on_fwoken
HANDLERS[W_BARRIER] = on_barrier
HANDLERS[W_GO] = on_go
HANDLERS[W_FENCE] = on_fence
HANDLERS[W_FENCED] = on_fenced
HANDLERS[W_UNFENCE] = on_unfence
HANDLERS[W_GOT] = on_got
HANDLERS[W_SENT] = on_sent
HANDLERS[W_GLOBAL] = on_global
HANDLERS[W_REPLAY] = on_replay
HANDLERS[W_REPLAYED] = on_replayed
HANDLERS[W_SPAWN] = on_spawn
HANDLERS[W_START] = on_start
HANDLERS[W_STARTED] = on_started
HANDLERS[W_TEXIT] = on_texit
HANDLERS[W_SWEND] = on_swend
HANDLERS[W_TCALL] = on_tcall
HANDLERS[W_CPUQ] = on_cpuq
HANDLERS[W_CPUTIME] = on_cputime


cdef int dispatch(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    if h.kind == 0 or h.kind >= W_NKINDS:
        fail(e, "a message of unknown kind")
        return R_EVENT
    if src != e.rank:
        e.received[h.kind] += 1
    if e.closing and h.kind != W_PY:
        return R_OK                     # the job is over: received, not served
    if h.kind == W_GRANT or h.kind == W_FETCH or h.kind == W_INV:
        return page_msg(e, src, h, payload)
    return HANDLERS[h.kind](e, src, h, payload)


# ---- the app's up ring ----

cdef int on_applied(engine_t *e, uint64_t page) noexcept nogil:
    """A thread applied a grant: what waited for it goes on, in order."""
    cdef applying_t *a = applying(e, page)
    cdef msg_t *m
    cdef int r
    if a == NULL:
        return R_OK
    a.count -= 1
    while a.head != NULL and (a.head.h.kind == W_GRANT or a.count == 0):
        m = a.head
        a.head = m.next
        if a.head == NULL:
            a.tail = NULL
        r = HANDLERS[m.h.kind](e, m.src, &m.h, <uint8_t *>m + sizeof(msg_t))
        free(m)
        a = applying(e, page)           # handlers may move the list
        if r != R_OK:
            return r
    if a.count == 0 and a.head == NULL:
        applying_drop(e, a)
    return R_OK


cdef inline int learned(const learned_t *t, uint64_t page) noexcept nogil:
    """The run a stream that began at `page` needed last time (1: none known)."""
    cdef int i = <int>((page // PM_PAGE) % LEARN_SLOTS)
    return t.run[i] if t.page[i] == page else 1


cdef void learn(learned_t *t, uint64_t start, uint64_t end) noexcept nogil:
    """A stream that began at `start` faulted at `end` - 1: every page up to
    there was needed (pages a run brought and no fault went past are not
    proof: learning them made each read run bring its own length again)."""
    cdef int i = <int>((start // PM_PAGE) % LEARN_SLOTS)
    if end <= start:
        return
    t.page[i] = start
    t.run[i] = <uint8_t>min((end - start) // PM_PAGE, LEARN_MAX)


cdef int strided_run(stride_t *st, uint64_t page, int run) noexcept nogil:
    """The run a new stream at `page` asks for: `run`, or when it begins as
    far from the last new one as that one from its predecessor (blocks down
    a column: SPLASH LU's panels, two pages each, were two faults a block),
    what the last one needed if more."""
    cdef int64_t stride = <int64_t>(page - st.last_start)
    if stride != 0 and stride == st.last_stride:
        run = max(run, st.run)
        st.hits += 1
    else:
        st.hits = 0
    st.last_stride = stride
    st.last_start = page
    st.run = run
    return run


cdef inline void stride_went(stride_t *st, uint64_t page) noexcept nogil:
    """A stream went on at `page`: if it is the last new one, it needed this far."""
    cdef uint64_t n
    if page < st.last_start:
        return
    n = (page - st.last_start) // PM_PAGE + 1
    if n <= LEARN_MAX and <int>n > st.run:
        st.run = <int>n


cdef int prefetching(engine_t *e, uint64_t page) noexcept nogil:
    """The stream whose prefetch is bringing `page`, or -1."""
    cdef int i
    cdef uint64_t group = group_of(page)
    for i in range(RD_STREAMS):
        if group and flying(e, i, group):
            return i
    return -1


cdef int read_window(engine_t *e, uint64_t page, int *stream) noexcept nogil:
    """The run a read fault at `page` asks for: RUN_GROWTH times the last one's if it
    continues one of this rank's read streams, else (a new stream, in the
    place of the least recently used without a prefetch in flight) the run
    a stream that began here needed last time, or 1.  *stream: the stream
    (-1: none, every one waits for a prefetch)."""
    cdef int i, run, s = -1
    e.rd_clock += 1
    stream[0] = -1
    for i in range(RD_STREAMS):
        if e.rd_next[i] == page:
            s = i
            e.rd_window[s] = min(RUN_GROWTH * e.rd_window[s], PM_READAHEAD_MAX)
            if page < e.rd_start[s] + e.rd_expect[s] * PM_PAGE:
                # a stream that ended there last time (an edge row read every
                # sweep, cut by a group's end): no further this time either,
                # the pages after it are another thread's to write
                e.rd_window[s] = e.rd_expect[s] - <int>((page - e.rd_start[s]) // PM_PAGE)
            learn(&e.rd_learned, e.rd_start[s], page + PM_PAGE)
            stride_went(&e.rd_stride, page)
            break
        if not in_flight(e, i) and (s < 0 or e.rd_used[i] < e.rd_used[s]):
            s = i
    else:
        if s < 0:
            return 1                    # every stream waits for a prefetch
        run = learned(&e.rd_learned, page)
        e.rd_expect[s] = run if 1 < run < LEARN_MAX else 0     # LEARN_MAX: it may go on
        e.rd_window[s] = strided_run(&e.rd_stride, page, run)
        e.rd_start[s] = page
        e.rd_depth[s] = 1
        e.rd_waited[s] = 0
    e.rd_next[s] = page + PM_PAGE          # until the grant says how many came
    e.rd_used[s] = e.rd_clock
    stream[0] = s
    return e.rd_window[s]


cdef void prefetch(engine_t *e, int s, uint64_t page, int64_t mapped) noexcept nogil:
    """Stream `s` is at its longest run and at `page`: its run reaches the
    end of the page's group (one manager's), so ask now, for no thread, for
    the groups after it, as many in flight as the stream keeps (rd_depth:
    one, up to PF_DEPTH while its thread keeps waiting for them), while
    the thread reads this one; the stream goes on after them
    (on_prefetched).  Only as far as
    the runtime says the mapping goes (`mapped`: managed pages from `page`
    on; the managers know no mappings): a group asked for before a fence
    was asked with what was mapped then, and every op that unmaps is
    fenced, so only a fault's own count is used."""
    cdef pshare_wire h
    cdef int dest, k, n
    cdef uint64_t group = PM_GROUP_PAGES * PM_PAGE
    cdef uint64_t ahead = group_of(page) + group
    if s < 0 or e.fenced:
        return
    n = in_flight(e, s)
    if n == 0:
        e.rd_waiter[s] = -1
    # rd_depth <= PF_DEPTH: while fewer are in flight, a slot is free
    while n < e.rd_depth[s] and ahead + group <= page + <uint64_t>mapped * PM_PAGE:
        if not flying(e, s, ahead):
            k = 0
            while e.rd_ahead[s * PF_DEPTH + k]:
                k += 1
            e.rd_ahead[s * PF_DEPTH + k] = ahead
            n += 1
            hdr(&h, W_FAULT, PREFETCH_SLOT, ahead)
            h.a[0] = 0
            h.a[1] = PM_GROUP_PAGES
            dest = pm_manager_of(ahead, e.size)
            if dest != e.rank:
                e.outstanding += 1
            send(e, dest, &h, NULL, 0)
        ahead += group
    e.prefetch_peak = max(e.prefetch_peak, n)


cdef int write_window(engine_t *e, int slot, uint64_t page, int64_t write) noexcept nogil:
    """The run a write fault at `page` asks for: RUN_GROWTH times the last one's if a
    write stream expected this page, else what a stream that began here went
    to in a burst (PSHARE_WRITE_BURST_US) last time, or 1.  The manager
    grants only pages in the first one's state that this rank or nobody
    wrote last (pages.c).
    Only bursts are learned: a stream whose next fault came later (an n-body's
    upgrades of its bodies as it computes them) would take pages the other
    ranks go on reading (two to four times the faults when every stream was);
    a stencil's edge rows, written in microseconds, are one fault, not three.
    A read the runtime guessed a write that begins a new stream at a stride
    (strided_run) asks for what the last one needed, as a read would: a
    thread's read-modify-write of its blocks down a column."""
    cdef int i = <int>((page // PM_PAGE) % WR_SLOTS)
    cdef int run
    if not 0 <= slot < THREAD_SLOTS:
        slot = 0
    if e.wr_next[i] != page:
        e.wr_from[slot] = page
        run = learned(&e.wr_learned, page)
        return strided_run(&e.wr_stride, page, run) if write == PM_READ_FOR_WRITE else run
    if write == PM_READ_FOR_WRITE:
        stride_went(&e.wr_stride, page)
    e.wr_from[slot] = e.wr_start[i]
    if now_ns() - e.wr_came[i] < e.write_burst_ns:
        learn(&e.wr_learned, e.wr_start[i], page + PM_PAGE)
    e.wr_next[i] = 0
    return min(RUN_GROWTH * max(e.wr_window[i], 1), PM_READAHEAD_MAX)


cdef void write_run_granted(engine_t *e, int slot, uint64_t page, int64_t n) noexcept nogil:
    """n pages from `page` came writable: a write stream goes on after them."""
    cdef uint64_t next = page + n * PM_PAGE
    cdef int i = <int>((next // PM_PAGE) % WR_SLOTS)
    e.wr_next[i] = next
    e.wr_window[i] = <uint8_t>n
    e.wr_start[i] = page
    if 0 <= slot < THREAD_SLOTS and 0 < e.wr_from[slot] <= page:
        e.wr_start[i] = e.wr_from[slot]
    e.wr_came[i] = now_ns()


cdef void read_run_granted(engine_t *e, uint64_t page, int64_t n) noexcept nogil:
    """A run of n pages from `page` came: its stream goes on after it."""
    cdef int i
    for i in range(RD_STREAMS):
        if e.rd_next[i] == page + PM_PAGE:
            e.rd_next[i] = page + n * PM_PAGE
            return


cdef void ask_page(engine_t *e, int slot, uint64_t page, int64_t write, int64_t want) noexcept nogil:
    """A thread's fault (`want` pages from `page` on), to the page's manager."""
    cdef pshare_wire h
    cdef int dest = pm_manager_of(page, e.size)
    hdr(&h, W_FAULT, slot, page)
    h.a[0] = write
    h.a[1] = want
    if dest != e.rank:
        e.outstanding += 1
    e.faults_out += 1
    send(e, dest, &h, NULL, 0)


cdef int strided_flying(engine_t *e, uint64_t page) noexcept nogil:
    """The strided prefetch bringing `page`, or -1."""
    cdef int k
    for k in range(SP_SLOTS):
        if e.sp_page[k] and e.sp_page[k] <= page < e.sp_page[k] + <uint64_t>e.sp_count[k] * PM_PAGE:
            return k
    return -1


cdef void strided_ahead(engine_t *e, uint64_t page, int64_t want, int64_t mapped) noexcept nogil:
    """A thread reads the block at `page` (`want` pages), one of read
    streams begun a constant stride apart (a panel read down a column,
    strided_run): once SP_AFTER in a row were, the next blocks, up to
    sp_depth of them, come for no thread meanwhile, as far as the fault
    says memory is mapped.  The stride's last stream is then the last of
    them, so that the thread's next fault past them still follows it."""
    cdef stride_t *st = &e.rd_stride
    cdef int k
    cdef uint64_t at
    if st.hits < SP_AFTER or st.last_stride <= 0 or want < 1:
        return
    for k in range(1, max(e.sp_depth, 1) + 1):
        at = page + <uint64_t>(k * st.last_stride)
        if at + want * PM_PAGE > page + <uint64_t>mapped * PM_PAGE:
            break
        if at > st.last_start:
            strided_prefetch(e, at, want)
            st.last_start = at


cdef void strided_prefetch(engine_t *e, uint64_t page, int64_t n) noexcept nogil:
    """Ask for the n pages from `page` on (managed: the caller checked the
    fault's count) for no thread, one request a group (each its own
    manager's), as a stream's group prefetch does: they are opened when they
    come, or applied by a thread that faulted at the first page meanwhile,
    as its own run (strided_came).  Pages in flight already,
    and all of them when every entry is taken, are left to a fault."""
    cdef pshare_wire h
    cdef uint64_t end = page + <uint64_t>n * PM_PAGE, cut
    cdef int k, dest
    while page < end and not e.fenced:
        cut = min(end, group_of(page) + PM_GROUP_PAGES * PM_PAGE)
        if strided_flying(e, page) < 0 and prefetching(e, page) < 0:
            k = 0
            while k < SP_SLOTS and e.sp_page[k]:
                k += 1
            if k == SP_SLOTS:
                return
            e.sp_page[k] = page
            e.sp_count[k] = <int>((cut - page) // PM_PAGE)
            e.sp_waiter[k] = 0
            hdr(&h, W_FAULT, PREFETCH_SLOT, page)
            h.a[0] = 0
            h.a[1] = e.sp_count[k]
            dest = pm_manager_of(page, e.size)
            if dest != e.rank:
                e.outstanding += 1
            send(e, dest, &h, NULL, 0)
        page = cut


cdef int strided_came(engine_t *e, int k, pshare_wire *h, int64_t n) noexcept nogil:
    """Strided prefetch k's grant (n pages from h.page, the bytes with it;
    none: the first page was here already, and nothing changes).  A thread
    that waits at its first page applies the run itself, as a run of its own
    fault; otherwise it is opened (open_prefetched), and a thread that
    waits in it looks again (or, when it came short of the thread's page,
    asks for that page now)."""
    cdef int slot = e.sp_waiter[k] - 1
    cdef uint64_t page = e.sp_waiter_page[k]
    cdef int64_t mapped = e.sp_waiter_mapped[k]
    e.sp_page[k] = 0
    e.sp_waiter[k] = 0
    if h.len:
        e.sp_pages += n
        if slot >= 0 and page == h.page:
            return hand_over_run(e, slot, h, n)
        if open_prefetched(e, h, n) != R_OK:
            return R_EVENT
    if slot < 0:
        return R_OK
    if h.len and page < h.page + <uint64_t>n * PM_PAGE:
        # state 0: the thread applies nothing itself (the run is open)
        mbox_reply(e, slot, 0, 1, NULL, 0)
        return R_OK
    if e.fenced:
        return hold_fault(e, slot, page, 0, mapped)
    ask_page(e, slot, page, 0, 1)
    return R_OK


cdef int hold_fault(engine_t *e, int slot, uint64_t page, int64_t write, int64_t mapped) noexcept nogil:
    """A fault while a fence is up: asked when the last fence comes down (unfence)."""
    cdef held_t *f
    if e.held == NULL:
        e.held = <held_t *>malloc(PSHARE_MAX_THREADS * sizeof(held_t))
        if e.held == NULL:
            fail(e, "out of memory for the faults held by a fence")
            return R_EVENT
    # one fault per thread slot at a time: the list cannot overflow
    f = &e.held[e.nheld]
    f.slot, f.page, f.write, f.mapped = slot, page, write, mapped
    e.nheld += 1
    return R_OK


cdef int on_thread_fault(engine_t *e, int slot, uint64_t page, int64_t write, int64_t mapped) noexcept nogil:
    """A thread's fault at `page` (`write`: RQ_FAULT a[1]; `mapped`: managed
    pages from it on): a read asks for a run while reads are sequential."""
    cdef int i, k, stream = -1
    cdef int64_t want
    cdef uint64_t cut
    if e.fenced:
        return hold_fault(e, slot, page, write, mapped)
    if write:
        want = write_window(e, slot, page, write)
    else:
        if opened_lately(e, page):
            # opened since the thread faulted (a prefetch): state 0, it
            # applies nothing and looks again
            mbox_reply(e, slot, 0, 1, NULL, 0)
            return R_OK
        i = prefetching(e, page)
        if i >= 0 and e.rd_waiter[i] < 0:
            # its group is on its way: wait for it (on_prefetched)
            e.rd_waiter[i] = slot
            e.rd_waiter_page[i] = page
            e.rd_waiter_mapped[i] = mapped
            return R_OK
        k = strided_flying(e, page)
        if k >= 0 and e.sp_waiter[k] == 0:
            # its block is on its way: wait for it (strided_came); the
            # thread reads faster than the blocks ahead come: one more
            e.sp_waiter[k] = slot + 1
            e.sp_waiter_page[k] = page
            e.sp_waiter_mapped[k] = mapped
            if page == e.sp_page[k]:
                e.sp_depth = min(e.sp_depth + 1, SP_DEPTH)
                strided_ahead(e, page, e.rd_stride.run, mapped)
            return R_OK
        # a second thread in that group asks for its page alone
        want = 1 if i >= 0 or k >= 0 else read_window(e, page, &stream)
    # only managed pages: the owner then need not count them (on_fetch), and
    # they stay managed until the grant is applied (an op that unmaps them
    # is fenced)
    want = max(1, min(want, mapped))
    ask_page(e, slot, page, write, want)
    if stream >= 0 and want == PM_READAHEAD_MAX:
        prefetch(e, stream, page, mapped)
    elif stream >= 0 and e.rd_stride.last_start == page:
        # the part of a strided block past its group's end (another
        # manager's, which the run cannot reach) comes for no thread meanwhile
        cut = group_of(page) + PM_GROUP_PAGES * PM_PAGE
        if e.rd_stride.hits >= SP_AFTER and page + want * PM_PAGE > cut:
            strided_prefetch(e, cut, (page + want * PM_PAGE - cut) // PM_PAGE)
        strided_ahead(e, page, want, mapped)
    return R_OK


cdef inline int drained(engine_t *e) noexcept nogil:
    """Every page this rank asked for has come and been applied."""
    cdef int i
    if e.faults_out:
        return 0
    for i in range(RD_STREAMS * PF_DEPTH):
        if e.rd_ahead[i]:
            return 0
    for i in range(SP_SLOTS):
        if e.sp_page[i]:
            return 0
    for i in range(e.nap):
        if e.ap[i].count > 0:
            return 0
    return 1


cdef int fences_check(engine_t *e) noexcept nogil:
    """Home: once another fence is up on every rank, the ops that waited
    for it are decided, oldest first."""
    cdef int64_t low = e.fence_acked[0]
    cdef int r
    cdef gop_t *g
    cdef gop_t *after
    for r in range(1, e.size):
        low = min(low, e.fence_acked[r])
    if low <= e.fence_done:
        return R_OK
    e.fence_done = low
    g = e.gops
    while g != NULL:
        after = g.next                  # deciding may end g (an error is answered at once)
        if g.fence and g.fence <= low:
            g.fence = 0
            r = decide(e, g)
            if r != R_OK:
                return r
        g = after
    return R_OK


cdef int64_t fence_up(engine_t *e) noexcept nogil:
    """Home, before an op that is fenced: every rank, this one included,
    asks for no page until fence_down and reports when every page it asked
    for is in and applied (fences_check).  The fence's number."""
    cdef pshare_wire h
    cdef int r
    e.fence_seq += 1
    hdr(&h, W_FENCE, -1, 0)
    h.a[0] = e.fence_seq
    for r in range(1, e.size):
        send(e, r, &h, NULL, 0)
    e.fenced += 1
    e.drain_seq = e.fence_seq           # serve reports this rank drained
    return e.fence_seq


cdef int fence_down(engine_t *e) noexcept nogil:
    """Home: the fenced op is done everywhere: one fence comes down on
    every rank."""
    cdef pshare_wire h
    cdef int r
    hdr(&h, W_UNFENCE, -1, 0)
    for r in range(1, e.size):
        send(e, r, &h, NULL, 0)
    return on_unfence(e, HOME, &h, NULL)


cdef int drain_check(engine_t *e) noexcept nogil:
    """A fence waits for this rank's pages and they are all in: say so.
    Looked at once a serve round while a fence waits (serve), not in the
    handlers that bring pages in: one of those can end early."""
    cdef pshare_wire h
    cdef int64_t seq = e.drain_seq
    if not seq or not drained(e):
        return R_OK
    e.drain_seq = 0
    if e.rank == HOME:
        e.fence_acked[HOME] = seq
        return fences_check(e)
    hdr(&h, W_FENCED, -1, 0)
    h.a[0] = seq
    send(e, HOME, &h, NULL, 0)
    return R_OK


cdef int on_fence(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    """Ask for no page until UNFENCE; the serve round says FENCED once drained."""
    e.fenced += 1
    e.drain_seq = h.a[0]
    return R_OK


cdef int on_fenced(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    if h.a[0] > e.fence_acked[src]:
        e.fence_acked[src] = h.a[0]
    return fences_check(e)


cdef int on_unfence(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    """A fence comes down; when it was the last, the faults held meanwhile
    are asked for, in the order they came."""
    cdef int i, n
    if e.fenced <= 0:
        fail(e, "a fence came down that was not up")
        return R_EVENT
    e.fenced -= 1
    if e.fenced:
        return R_OK
    n = e.nheld
    e.nheld = 0
    for i in range(n):
        on_thread_fault(e, e.held[i].slot, e.held[i].page, e.held[i].write, e.held[i].mapped)
    return R_OK


# ---- address-space operations: home decides, every rank replays, in one order ----
#
# An mmap, munmap, mprotect, madvise, brk or sigaction of any thread
# (RQ_GLOBAL; ext/rt/control.c's run_global) comes to home's engine
# (W_GLOBAL from another rank).  An op that changes which pages are managed
# or whose they are (a[7] GLOBAL_FENCE: munmap, mmap, madvise DONTNEED, a
# brk that shrinks) waits for a fence first: every rank stops asking for
# pages and says when all it asked for is in and applied.  Else a grant
# asked for before the op (a prefetch above all: no thread waits for it)
# could be written into the store after the op's replay there, over the new
# mapping's pages; a manager's transaction could outlive its forget
# (pm_forget skips busy pages); and a run reaching into a new mapping next
# to its own could be served before the new one's manager knew whose its
# pages are.  Then home's control thread makes the call (home's kernel
# picks the address) and rewrites it into its replay form (MAP_FIXED, a
# file's path); every other rank's control thread replays it, in the order
# home decides them (messages between two ranks keep their order), and
# each rank's manager forgets the range (its pages start over, at the
# maker's rank for a new anonymous mapping).  When every replay is in, the
# fence comes down and the caller goes on.  A replay that fails (or a brk
# or mmap that ends elsewhere than home's) ends the job: Python says which
# rank and why (E_REPLAY_FAILED); the ranks' address spaces would differ.

cdef inline int is_err(int64_t r) noexcept nogil:
    return -4095 <= r < 0


cdef int global_begin(engine_t *e, int rank, int slot, const int64_t *a, const uint8_t *data,
                      uint64_t n) noexcept nogil:
    """Home: `rank`'s thread in `slot` asks for an address-space op."""
    cdef gop_t *g = <gop_t *>calloc(1, sizeof(gop_t))
    cdef int i
    if g != NULL:
        g.data = <uint8_t *>malloc(n if n else 1)
    if g == NULL or g.data == NULL:
        free(g)
        fail(e, "out of memory for an address-space operation")
        return R_EVENT
    e.gop_seq += 1
    g.id = e.gop_seq
    g.rank = rank
    g.slot = slot
    g.bad_rank = -1
    g.backing_fd = -1
    for i in range(8):
        g.a[i] = a[i]
    memcpy(g.data, data, n)
    g.len = n
    if e.gops_tail != NULL:
        e.gops_tail.next = g
    else:
        e.gops = g
    e.gops_tail = g
    if g.a[7] & PSHARE_GLOBAL_FENCE and e.size > 1:
        g.fence = fence_up(e)
        g.fenced = 1
        return R_OK                     # decided once the fence is up everywhere
    return decide(e, g)


cdef int decide(engine_t *e, gop_t *g) noexcept nogil:
    """Home's control thread makes the op; the replays go out."""
    cdef pshare_mbox *b = box(e, e.control)
    cdef pshare_wire h
    cdef uint8_t *out
    cdef int i, r
    for i in range(7):
        b.a[i] = g.a[i]
    b.a[7] = 1 | (<int64_t>g.rank << 8)     # decide, for this rank's thread
    memcpy(b.data, g.data, g.len)
    b.len = g.len
    g.ret = command_filled(e, e.control, C_CMD_GLOBAL)
    if e.gone:
        return R_EVENT
    if g.a[0] == SYS_mmap and not is_err(g.ret) and b.a[4] & PSHARE_MAP_SHARED_COPY and \
            b.len == sizeof(pshare_backing):
        # a shared region: its backing, while the app's call still holds it
        # (rt.xfer_fd: the control thread drops it at its next decide)
        g.backing_fd = bk_own_description(pshare_take_fd(e.app_pid, <int>(<pshare_backing *>b.data).fd))
        g.backing_off = (<pshare_backing *>b.data).offset
        if g.backing_fd < 0:
            fail(e, "cannot take a shared mapping's memory from the app (pidfd_getfd)")
            return R_EVENT
    g.owner = b.a[7]
    g.lo = b.a[8]
    g.hi = b.a[9]
    if b.len != g.len:
        out = <uint8_t *>realloc(g.data, b.len if b.len else 1)
        if out == NULL:
            fail(e, "out of memory for an address-space operation")
            return R_EVENT
        g.data = out
    memcpy(g.data, b.data, b.len)
    g.len = b.len
    if is_err(g.ret) or e.size == 1:
        return global_done(e, g, 0)
    hdr(&h, W_REPLAY, -1, g.id)
    h.a[0] = g.a[0]
    for i in range(1, 7):
        h.a[i] = b.a[i]
    h.a[7] = g.owner << 8               # replay (not decide), and where the new pages start
    h.a[8] = g.lo
    h.a[9] = g.hi
    g.waiting = e.size - 1
    for r in range(1, e.size):
        send(e, r, &h, g.data, g.len)
    return R_OK


cdef void gop_drop(engine_t *e, gop_t *g) noexcept nogil:
    cdef gop_t *p = NULL
    cdef gop_t *q = e.gops
    while q != NULL and q != g:
        p = q
        q = q.next
    if q == NULL:
        return
    if p == NULL:
        e.gops = g.next
    else:
        p.next = g.next
    if e.gops_tail == g:
        e.gops_tail = p
    if g.backing_fd >= 0:
        close(g.backing_fd)
    free(g.data)
    free(g)


cdef int global_done(engine_t *e, gop_t *g, int replayed) noexcept nogil:
    """The op is done everywhere (or failed on home): home's manager
    forgets the range, the fence comes down, the caller goes on."""
    cdef int r = R_OK, fd
    if replayed and g.hi > g.lo and pm_forget(e.m, <uint64_t>g.lo, <uint64_t>g.hi, <int>g.owner) != 0:
        fail(e, "out of memory for the page table")
        return R_EVENT
    # what was mapped there is gone; a new shared region is there now
    if replayed and g.hi > g.lo and (g.a[0] == SYS_mmap or g.a[0] == SYS_munmap) and \
            bk_cut(e.backed, <uint64_t>g.lo, <uint64_t>g.hi) != 0:
        fail(e, "out of memory for the shared regions")
        return R_EVENT
    if replayed and g.backing_fd >= 0:
        fd = g.backing_fd
        g.backing_fd = -1
        if bk_add(e.backed, <uint64_t>g.lo, <uint64_t>g.hi, fd, g.backing_off) != 0:
            fail(e, "out of memory for the shared regions")
            return R_EVENT
    if g.fenced:
        r = fence_down(e)
    reply_to(e, g.rank, g.slot, g.ret, 0, g.data, g.len)
    gop_drop(e, g)
    return r


cdef int on_global(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    return global_begin(e, src, h.slot, h.a, payload, h.len)


cdef int on_replay(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    """Home's op, replayed by this rank's control thread; this rank's
    manager forgets the range."""
    cdef pshare_mbox *b = box(e, e.control)
    cdef pshare_wire r
    cdef int i
    for i in range(8):
        b.a[i] = h.a[i]
    memcpy(b.data, payload, h.len)
    b.len = h.len
    hdr(&r, W_REPLAYED, -1, h.page)
    r.a[0] = command_filled(e, e.control, C_CMD_GLOBAL)
    if e.gone:
        return R_EVENT
    if h.a[9] > h.a[8] and pm_forget(e.m, <uint64_t>h.a[8], <uint64_t>h.a[9], <int>(h.a[7] >> 8)) != 0:
        fail(e, "out of memory for the page table")
        return R_EVENT
    send(e, src, &r, NULL, 0)
    return R_OK


cdef int on_replayed(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    cdef gop_t *g = e.gops
    cdef int64_t ret = h.a[0]
    while g != NULL and g.id != h.page:
        g = g.next
    if g == NULL:
        fail(e, "a replay's answer for no address-space operation")
        return R_EVENT
    if (is_err(ret) or ((g.a[0] == SYS_mmap or g.a[0] == SYS_brk) and ret != g.ret)) and (
            g.bad_rank < 0 or src < g.bad_rank):
        g.bad_rank = src
        g.bad_ret = ret
    g.waiting -= 1
    if g.waiting:
        return R_OK
    if g.bad_rank < 0:
        return global_done(e, g, 1)
    # never go on with address spaces that differ (a thread there would
    # fault on memory that is not mapped): Python says why and ends the job
    e.ev_kind = E_REPLAY_FAILED
    e.ev_src = g.bad_rank
    e.ev_a[0] = g.a[0]
    e.ev_a[1] = g.ret
    e.ev_a[2] = g.bad_ret
    e.ev_data = g.data
    e.ev_len = g.len
    g.data = NULL
    gop_drop(e, g)
    return R_EVENT


# ---- new threads: home places them, the target rank's control thread starts them ----
#
# A thread's clone (RQ_SPAWN; ext/rt/dispatch.c's spread_clone: its flags,
# tls, ctid, ptid, new stack and its register frame) comes to home's engine
# (SPAWN from another rank).  A thread (CLONE_THREAD) goes where the
# placement policy's cycle says (Engine.set_placement): back to its maker
# when that is home ("start it yourself"), to home's control thread, or to
# another rank: home's control thread first makes the thread's executor
# (whose tid is the thread's cluster-wide tid; none left: the kernel's
# EAGAIN, nothing starts), then START has the target's control thread
# start it from the frame, and STARTED binds the executor to the thread's
# slot there before the maker gets the tid.  START carries what home needs
# then (the maker's rank and slot, the executor, the cluster tid) and
# STARTED brings it back: home keeps nothing per start.  A process (fork, vfork,
# posix_spawn) started by a thread off home is started by home's executor
# of that thread, in home's process, where the job's fds are.

cdef int spawn_begin(engine_t *e, int rank, int slot, const int64_t *a, const uint8_t *frame,
                     uint64_t n) noexcept nogil:
    """Home: `rank`'s thread in `slot` clones."""
    cdef int64_t flags = a[0], cluster, tid
    cdef int ex, target
    cdef pshare_wire h
    if not flags & CLONE_THREAD:
        ex = executor_for(e, rank, slot)
        if e.gone:
            return R_EVENT
        if ex < 0:
            reply_to(e, rank, slot, ex, 0, NULL, 0)
            return R_OK
        e.ex_busy_rank[ex] = rank
        e.ex_busy_slot[ex] = slot
        spawn_box(e, ex, a, 0, frame, n)
        post_filled(e, ex, C_CMD_SPAWN)
        return R_OK
    target = e.place[e.placed % e.nplace] if e.nplace else HOME
    e.placed += 1
    if target == HOME and rank == HOME:
        reply_to(e, rank, slot, 0, 1, NULL, 0)       # start it yourself
        return R_OK
    if target == HOME:
        spawn_box(e, e.control, a, 0, frame, n)
        tid = command_filled(e, e.control, C_CMD_SPAWN)
        if e.gone:
            return R_EVENT
        reply_to(e, rank, slot, tid, 0, NULL, 0)
        return R_OK
    cluster = command(e, e.control, C_CMD_EXECUTOR, 0, 0, 0)
    if e.gone:
        return R_EVENT
    if cluster < 0:
        reply_to(e, rank, slot, cluster, 0, NULL, 0)
        return R_OK
    hdr(&h, W_START, -1, 0)
    h.a[1] = flags
    h.a[2] = a[1]
    h.a[3] = a[2]
    h.a[4] = cluster
    h.a[5] = a[3]
    h.a[6] = rank
    h.a[7] = slot
    h.a[8] = box(e, e.control).a[1]     # the executor
    send(e, target, &h, frame, n)
    return R_OK


cdef void spawn_box(engine_t *e, int slot, const int64_t *a, int64_t cluster,
                    const uint8_t *frame, uint64_t n) noexcept nogil:
    """A runtime thread's mailbox filled for CMD_SPAWN (shm.h) from the
    clone's a[] (RQ_SPAWN's order: flags, tls, ctid, ptid)."""
    cdef pshare_mbox *b = box(e, slot)
    b.a[0] = 0
    b.a[1] = a[0]
    b.a[2] = a[1]
    b.a[3] = a[2]
    b.a[4] = cluster
    b.a[5] = a[3]
    memcpy(b.data, frame, n)
    b.len = n


cdef int on_spawn(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    return spawn_begin(e, src, h.slot, h.a, payload, h.len)


cdef int on_start(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    """This rank's control thread starts a thread home placed here."""
    cdef int64_t a[4]
    cdef pshare_wire r
    a[0] = h.a[1]
    a[1] = h.a[2]
    a[2] = h.a[3]
    a[3] = h.a[5]
    spawn_box(e, e.control, a, h.a[4], payload, h.len)
    hdr(&r, W_STARTED, -1, 0)
    r.a[0] = command_filled(e, e.control, C_CMD_SPAWN)
    if e.gone:
        return R_EVENT
    r.a[1] = box(e, e.control).a[1]
    r.a[2] = h.a[4]                     # back to home: the cluster tid, the maker, the executor
    r.a[3] = h.a[6]
    r.a[4] = h.a[7]
    r.a[5] = h.a[8]
    send(e, src, &r, NULL, 0)
    return R_OK


cdef int on_started(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    """Home: the thread started (its executor now serves its slot there),
    or could not (its executor ends); its maker gets the cluster tid or
    the error."""
    cdef int64_t cluster = h.a[2]
    cdef int rslot = <int>h.a[1], rank = <int>h.a[3], slot = <int>h.a[4], ex = <int>h.a[5]
    if h.a[0] < 0:
        post_end(e, ex)
        reply_to(e, rank, slot, h.a[0], 0, NULL, 0)
        return R_OK
    e.ex_of[src * PSHARE_MAX_THREADS + rslot] = ex
    e.ex_rank[ex] = src
    e.ex_slot[ex] = rslot
    e.ex_cluster[ex] = cluster
    box(e, ex).sigwait_end = 0
    reply_to(e, rank, slot, cluster, 0, NULL, 0)
    return R_OK


cdef int on_texit(engine_t *e, int src, pshare_wire *h, const uint8_t *payload) noexcept nogil:
    """Home: a remote thread ended, so does its executor.  Matched by
    cluster tid: the slot may already serve a newer thread whose start
    overtook this message.  A call in progress is never overwritten."""
    cdef int ex
    for ex in range(PSHARE_MAX_THREADS):
        if e.ex_rank[ex] >= 0 and e.ex_cluster[ex] == h.a[0]:
            if e.ex_of[e.ex_rank[ex] * PSHARE_MAX_THREADS + e.ex_slot[ex]] == ex:
                e.ex_of[e.ex_rank[ex] * PSHARE_MAX_THREADS + e.ex_slot[ex]] = -1
            e.ex_rank[ex] = -1
            if e.ex_busy_rank[ex] >= 0:
                e.ex_ending[ex] = 1
            else:
                post_end(e, ex)
            break
    return R_OK


cdef int ask_home(engine_t *e, uint32_t kind, int slot, int nargs, uint64_t page) noexcept nogil:
    """A thread's request that home serves (or, TCALL, passes on) goes
    there: its mailbox's a[0 .. nargs) and data; it is ANSWERed."""
    cdef pshare_mbox *b = box(e, slot)
    cdef pshare_wire h
    cdef int i
    hdr(&h, kind, slot, page)
    for i in range(nargs):
        h.a[i] = b.a[i]
    e.outstanding += 1
    send(e, HOME, &h, b.data, b.len)
    return R_OK


cdef int on_request(engine_t *e, int slot) noexcept nogil:
    cdef pshare_mbox *b = box(e, slot)
    cdef pshare_wire h
    cdef int i, dest
    if b.kind == C_RQ_FAULT:
        return on_thread_fault(e, slot, <uint64_t>b.a[0], b.a[1], b.a[2])
    if b.kind == C_RQ_FWAIT:
        # not sent when this rank lost the page since the thread read the
        # word (the wake may be on its way): a spurious wake-up instead
        if pshare_load(&e.chan.fdrop[PSHARE_FDROP_OF(<uint64_t>b.a[0])]) != <uint32_t>b.a[2]:
            mbox_reply(e, slot, 0, 0, NULL, 0)
            return R_OK
        hdr(&h, W_FWAIT, slot, <uint64_t>b.a[0])
        h.a[0] = b.a[1]
        send(e, pm_manager_of(<uint64_t>b.a[0], e.size), &h, NULL, 0)
        return R_OK
    if b.kind == C_RQ_FWAKE:
        hdr(&h, W_FWAKE, slot, <uint64_t>b.a[0])
        h.a[0] = b.a[1]
        h.a[1] = b.a[2]
        h.a[2] = b.a[3]                 # the word as the waker left it (-1: not here)
        dest = pm_manager_of(<uint64_t>b.a[0], e.size)
        if dest != e.rank:
            e.outstanding += 1
        send(e, dest, &h, NULL, 0)
        return R_OK
    if b.kind == C_RQ_GLOBAL:
        if e.rank == HOME:
            return global_begin(e, HOME, slot, b.a, b.data, b.len)
        return ask_home(e, W_GLOBAL, slot, 8, 0)
    if b.kind == C_RQ_SYSCALL and e.rank != HOME:
        return ask_home(e, W_SYS, slot, 10, 0)
    if b.kind == C_RQ_SPAWN:
        if e.rank == HOME:
            return spawn_begin(e, HOME, slot, b.a, b.data, b.len)
        return ask_home(e, W_SPAWN, slot, 5, 0)
    if b.kind == C_RQ_TCALL:
        # through home, which knows every thread's rank; always answered
        # from another rank (home's own threads ask only for threads elsewhere)
        return ask_home(e, W_TCALL, slot, 10, (<uint64_t>e.rank << 32) | <uint64_t>b.tcall_tid)
    if b.kind == C_RQ_CPUTIME:
        return cputime_begin(e, slot)
    if b.kind == C_RQ_THREAD_EXIT and e.rank != HOME:
        # the thread ends (it waits for nothing more): its executor too
        hdr(&h, W_TEXIT, -1, 0)
        h.a[0] = b.a[0]
        mbox_reply(e, slot, 0, 0, NULL, 0)
        send(e, HOME, &h, NULL, 0)
        return R_OK
    fail(e, "a request of unknown kind from the app")
    return R_EVENT


cdef int on_exec_done(engine_t *e, int ex) noexcept nogil:
    cdef pshare_mbox *b = box(e, ex)
    cdef int rank = e.ex_busy_rank[ex], slot = e.ex_busy_slot[ex]
    e.ex_busy_rank[ex] = -1
    if rank >= 0:
        answer(e, rank, slot, b.a[0], 0, b.data, b.len)
    pshare_store(&b.state, MB_IDLE)
    if e.ex_ending[ex]:
        e.ex_ending[ex] = 0
        post_end(e, ex)
    return R_OK


cdef void post_end(engine_t *e, int ex) noexcept nogil:
    box(e, ex).len = 0
    post_filled(e, ex, C_CMD_EXECUTOR_END)


cdef int on_barrier_arrival(engine_t *e, int slot) noexcept nogil:
    """A thread arrived at a barrier: to the barrier's manager, from the
    mailbox's barrier fields (its request fields may be a signal handler's
    by now)."""
    cdef pshare_mbox *b = box(e, slot)
    cdef pshare_wire h
    hdr(&h, W_BARRIER, slot, b.barrier)
    h.a[0] = b.barrier_count
    send(e, pm_manager_of(b.barrier, e.size), &h, NULL, 0)
    return R_OK


cdef int on_entry(engine_t *e, uint64_t entry) noexcept nogil:
    cdef uint64_t kind = entry >> 56, low = entry & ((<uint64_t>1 << 40) - 1)
    cdef int slot = (entry >> 40) & 0xFFFF
    cdef pshare_wire h
    cdef pshare_timer *timer
    if kind == C_UP_APPLIED:
        return on_applied(e, low * PM_PAGE)
    if kind == C_UP_EXEC_DONE:
        return on_exec_done(e, slot)
    if kind == C_UP_FCANCEL:
        # the wait's address is still in the slot's mailbox
        hdr(&h, W_FCANCEL, slot, <uint64_t>box(e, slot).a[0])
        h.a[0] = -<int64_t>low
        send(e, pm_manager_of(<uint64_t>box(e, slot).a[0], e.size), &h, NULL, 0)
        return R_OK
    if kind == C_UP_BARRIER:
        return on_barrier_arrival(e, slot)
    if kind == C_UP_SIGWAIT_END:
        hdr(&h, W_SWEND, slot, 0)
        h.a[0] = <int64_t>low
        send(e, HOME, &h, NULL, 0)
        return R_OK
    if kind == C_UP_SIGNAL:
        if e.ex_rank[slot] >= 0:
            hdr(&h, W_SIGNAL, -1, 0)
            h.a[0] = e.ex_cluster[slot]
            h.a[1] = <int64_t>(low & 0xff)
            h.a[2] = <int64_t>((low >> 8) & 0xff)
            if h.a[2] == PSHARE_SIG_TIMER:
                # what the thread must receive: the timer's entry (sigcarry.c)
                timer = &e.ctl.timers[(low >> 16) % PSHARE_TIMERS]
                if <int32_t>pshare_load(&timer.signo) <= 0:
                    return R_OK                 # deleted meanwhile: its expiry goes too
                h.a[3] = timer.kernel_id
                h.a[4] = <int32_t>pshare_load(&timer.overrun)
                h.a[5] = <int64_t>timer.value
            send(e, e.ex_rank[slot], &h, NULL, 0)
        return R_OK
    return on_request(e, slot)


cdef int drain_ring(engine_t *e, int *busy) noexcept nogil:
    cdef pshare_chan *c = e.chan
    cdef uint64_t head, entry
    cdef int r
    while True:
        head = c.head
        entry = pshare_load(&c.ring[head % PSHARE_RING])
        if entry == 0:
            return R_OK
        pshare_store(&c.ring[head % PSHARE_RING], 0)
        c.head = head + 1
        busy[0] = 1
        if e.closing:
            continue                    # the app is being ended: nothing more goes out
        r = on_entry(e, entry)
        if r != R_OK:
            return r


cdef int drain_local(engine_t *e, int *busy) noexcept nogil:
    cdef msg_t *m
    cdef int r
    while e.lhead != NULL:
        m = e.lhead
        e.lhead = m.next
        if e.lhead == NULL:
            e.ltail = NULL
        busy[0] = 1
        r = dispatch(e, m.src, &m.h, <uint8_t *>m + sizeof(msg_t))
        free(m)
        if r != R_OK:
            return r
    return R_OK


cdef int post_recv(engine_t *e, int i) noexcept nogil:
    return MPI_Irecv(e.rbuf[i], RECV_SIZE, MPI_BYTE, MPI_ANY_SOURCE, TAG, e.comm, &e.rreq[i])


cdef inline int mpi_waiting(engine_t *e) noexcept nogil:
    """A message is in the next receive (looked at, not taken)."""
    cdef int done = 0
    MPI_Request_get_status(e.rreq[e.rnext], &done, MPI_STATUS_IGNORE)
    return done


cdef int drain_mpi(engine_t *e, int *busy) noexcept nogil:
    cdef int done, i, r, n
    cdef MPI_Status st
    while True:
        i = e.rnext
        done = 0
        MPI_Test(&e.rreq[i], &done, &st)
        if not done:
            return R_OK
        busy[0] = 1
        MPI_Get_count(&st, MPI_BYTE, &n)
        e.bytes_received += n
        e.rnext = (i + 1) % NRECV
        # served from the buffer, then the buffer is posted again
        r = dispatch(e, st.MPI_SOURCE, <pshare_wire *>e.rbuf[i], e.rbuf[i] + PSHARE_WIRE_HDR)
        post_recv(e, i)
        if r != R_OK:
            return r


cdef int serve(engine_t *e, uint64_t max_ns) noexcept nogil:
    """Serve until an event for Python, or max_ns without one.  When there
    is nothing to do: spin (yielding the core to the app's threads) while
    this rank waits for answers or was busy a moment ago, unless its cores
    are contended; then sleep on the doorbell.  The app's requests ring it,
    and so do the peers on this host after a message (ring_peer): a rank
    every peer rings sleeps until rung.  MPI messages cannot wake it, so
    with a peer that cannot ring each sleep is an eighth of the quiet time
    so far: short right after work, up to 2 ms when the job is quiet."""
    cdef uint64_t start = now_ns(), t, spin_from = 0
    cdef int busy, r, polls, slept
    cdef uint32_t bell
    cdef pshare_chan *c = e.chan
    cdef long timeout
    while True:
        busy = 0
        r = drain_ring(e, &busy)
        if r == R_OK:
            r = drain_local(e, &busy)
        if r == R_OK:
            r = drain_mpi(e, &busy)
        if r != R_OK or e.failure != NULL:
            spin_ends(e, &spin_from)
            return R_EVENT
        if e.nsend > 32:
            reap(e)
        if e.nlate:
            send_due(e)
        if e.drain_seq and drain_check(e) != R_OK:
            spin_ends(e, &spin_from)
            return R_EVENT
        t = now_ns()
        if e.hold_max and (e.hold_dirty or (e.hold_next and t >= e.hold_next)):
            # anti-thrashing: serve the requests whose page's window has ended
            pm_set_clock(e.m, t)
            e.hold_next = pm_tick(e.m)
            e.hold_dirty = 0
            if e.lhead != NULL or e.nsend:
                busy = 1
        if busy:
            spin_ends(e, &spin_from)
            e.last_busy_ns = t
            continue
        if t - start >= max_ns:
            spin_ends(e, &spin_from)
            return R_OK
        if e.hold_next or e.nlate:
            spin_starts(&spin_from)
            yield_core(e)               # a window ends soon (a late message is due): stay awake
            continue
        polls = may_poll(e)
        if t > e.contended_until and polls and (
                t - e.last_busy_ns < SPIN_AFTER_WORK_NS or
                (e.outstanding > 0 and t - e.last_busy_ns < SPIN_WAITING_NS)):
            spin_starts(&spin_from)
            yield_core(e)
            continue
        spin_ends(e, &spin_from)
        if e.nsend:
            reap(e)
        if e.rung_by_all and e.nsend == 0:
            # every peer rings this rank's doorbell after its message, the
            # app after its request, SIGCHLD when the app ends: the timeout
            # only bounds a missed ring, an eighth of the quiet time, 2 ms
            # to RUNG_SLEEP_NS.  While the job talks the 2 ms wake-up is a
            # scheduling event that ends a stall behind a spinning app
            # thread before the tick (a page ping-pong: 8-9 ms a round with
            # it, 10-12 without); a quiet job's computing threads are not
            # preempted 500 times a second by their idle agents.
            timeout = min(max((t - e.last_busy_ns) // 8, RUNG_SLEEP_MIN_NS), RUNG_SLEEP_NS)
        else:
            # sleep an eighth of the quiet time so far (at least 30 µs, 10 while
            # the core is contended, at most 2 ms): a message after a quiet gap
            # waits at most 1/8 of the gap, and a rank whose app computes is
            # woken a few dozen times, not every 30 µs (its agent shares the core)
            timeout = min(max((t - e.last_busy_ns) // 8,
                              30000 if t > e.contended_until else 10000), 2000000)
        timeout = min(timeout, <long>(max_ns - (t - start)))    # Python's turn comes on time
        if pshare_load(&c.ring[c.head % PSHARE_RING]) == 0:
            # say so first, then look at the ring and MPI a last time: a
            # request or a message after that rings (ring_doorbell, ring_peer);
            # an applied grant rings only if a message waits for one
            # (a fence's drain waits for every grant to be applied too)
            pshare_store_sc(&c.apply_wanted, holding(e) or e.drain_seq != 0)
            pshare_store_sc(&c.agent_waiting, 1)
            pshare_fence()
            bell = <uint32_t>pshare_load(&c.doorbell)
            slept = 0
            if pshare_load(&c.ring[c.head % PSHARE_RING]) == 0 and not mpi_waiting(e):
                slept = futex_wait(&c.doorbell, bell, timeout)
            pshare_store(&c.agent_waiting, 0)
            if pshare_child_seen() or slept == -EINTR:
                # the app changed state, or a signal for Python (home
                # forwards SIGTERM, SIGUSR1, ... to the app): its turn now
                return R_OK


assert RECV_SIZE == PSHARE_WIRE_MAX, "wire.h and the engine disagree on the largest message"
assert THREAD_SLOTS == PSHARE_MAX_THREADS, "shm.h and the engine disagree on the thread slots"
assert PSHARE_FAULT_REACH >= (PF_DEPTH + 1) * PM_GROUP_PAGES, "a fault must say whether the groups a prefetch asks for are mapped"


cdef class Engine:
    """The fast path of one agent (see the module's doc)."""
    cdef engine_t *e

    def __cinit__(self, comm, size_t chan_address, size_t ctl_address, int store, int app_pid,
                  double hold_us=0, double late_ms=0, double write_burst_us=0):
        cdef engine_t *e = <engine_t *>calloc(1, sizeof(engine_t))
        cdef int i, n
        if e == NULL:
            raise MemoryError()
        self.e = e
        e.comm = MPI_Comm_f2c(comm.py2f())     # the portable way from Python to C
        e.rank = comm.Get_rank()
        e.size = comm.Get_size()
        if e.size > PM_MAX_RANKS:
            raise ValueError(f"pshare runs on at most {PM_MAX_RANKS} ranks (this job has {e.size})")
        e.chan = <pshare_chan *>chan_address
        e.ctl = <pshare_ctl *>ctl_address
        e.store = store
        e.control = e.ctl.control_slot
        e.app_pid = app_pid
        e.wp_fd = -1
        e.last_busy_ns = now_ns()
        e.pagebuf = <uint8_t *>malloc(PM_READAHEAD_MAX * PM_PAGE)
        if e.pagebuf == NULL:
            raise MemoryError()
        for i in range(NRECV):
            e.rbuf[i] = <uint8_t *>malloc(RECV_SIZE)
            if e.rbuf[i] == NULL:
                raise MemoryError()
            e.rreq[i] = MPI_REQUEST_NULL
        e.peer = <pshare_chan **>calloc(e.size, sizeof(pshare_chan *))
        if e.peer == NULL:
            raise MemoryError()
        e.cpu_sum = <int64_t *>calloc(3 * PSHARE_MAX_THREADS, sizeof(int64_t))
        e.cpu_due = <int32_t *>calloc(PSHARE_MAX_THREADS, sizeof(int32_t))
        if e.cpu_sum == NULL or e.cpu_due == NULL:
            raise MemoryError()
        e.m = pm_new(emit, e)
        e.fx = fx_new()
        e.br = br_new()
        e.backed = bk_new()
        if e.m == NULL or e.fx == NULL or e.br == NULL or e.backed == NULL:
            raise MemoryError()
        e.hold_max = <uint64_t>(hold_us * 1000)
        e.write_burst_ns = <uint64_t>(write_burst_us * 1000)
        pm_set_hold(e.m, e.hold_max)
        if late_ms > 0:
            e.late_ns = <uint64_t>(late_ms * 1e6)
            e.late_head = <msg_t **>calloc(e.size, sizeof(msg_t *))
            e.late_tail = <msg_t **>calloc(e.size, sizeof(msg_t *))
            if e.late_head == NULL or e.late_tail == NULL:
                raise MemoryError()
        if e.rank == HOME:
            n = PSHARE_MAX_THREADS
            e.ex_of = <int32_t *>malloc(e.size * n * sizeof(int32_t))
            e.ex_rank = <int32_t *>malloc(n * sizeof(int32_t))
            e.ex_slot = <int32_t *>malloc(n * sizeof(int32_t))
            e.ex_cluster = <int64_t *>calloc(n, sizeof(int64_t))
            e.ex_busy_rank = <int32_t *>malloc(n * sizeof(int32_t))
            e.ex_busy_slot = <int32_t *>calloc(n, sizeof(int32_t))
            e.ex_ending = <uint8_t *>calloc(n, 1)
            if (e.ex_of == NULL or e.ex_rank == NULL or e.ex_slot == NULL
                    or e.ex_cluster == NULL or e.ex_busy_rank == NULL or e.ex_busy_slot == NULL
                    or e.ex_ending == NULL):
                raise MemoryError()
            memset(e.ex_of, 0xff, e.size * n * sizeof(int32_t))
            memset(e.ex_rank, 0xff, n * sizeof(int32_t))
            memset(e.ex_busy_rank, 0xff, n * sizeof(int32_t))
            e.fence_acked = <int64_t *>calloc(e.size, sizeof(int64_t))
            if e.fence_acked == NULL:
                raise MemoryError()
        for i in range(NRECV):
            post_recv(e, i)
        if pshare_ring_on_child(&e.chan.doorbell) != 0:
            raise OSError("sigaction(SIGCHLD) failed")

    def __dealloc__(self):
        cdef engine_t *e = self.e
        cdef int i
        cdef msg_t *m
        if e == NULL:
            return
        pshare_forget_child_bell(&e.chan.doorbell)     # the channel may be unmapped next
        release_states(e)
        for i in range(NRECV):
            free(e.rbuf[i])
        for i in range(e.nsend):
            if e.sreq[i] == MPI_REQUEST_NULL:
                free(e.sbuf[i])         # else MPI may still read it: leaked, the process ends
        free(e.sreq)
        free(e.sbuf)
        free(e.sdest)
        if e.peer != NULL:
            for i in range(e.size):
                if e.peer[i] != NULL:
                    munmap(e.peer[i], PEER_MAP)
            free(e.peer)
        while e.lhead != NULL:
            m = e.lhead
            e.lhead = m.next
            free(m)
        while e.whead != NULL:
            m = e.whead
            e.whead = m.next
            free(m)
        for i in range(e.size if e.late_head != NULL else 0):
            while e.late_head[i] != NULL:
                m = e.late_head[i]
                e.late_head[i] = m.next
                free(m)
        free(e.late_head)
        free(e.late_tail)
        free(e.held)
        free(e.fence_acked)
        while e.gops != NULL:
            gop_drop(e, e.gops)
        bk_free(e.backed)
        free(e.place)
        for i in range(e.nap):
            while e.ap[i].head != NULL:
                m = e.ap[i].head
                e.ap[i].head = m.next
                free(m)
        free(e.ap)
        pm_free(e.m)
        fx_free(e.fx)
        br_free(e.br)
        free(e.ex_of)
        free(e.ex_rank)
        free(e.ex_slot)
        free(e.ex_cluster)
        free(e.ex_busy_rank)
        free(e.ex_busy_slot)
        free(e.ex_ending)
        free(e.cpu_sum)
        free(e.cpu_due)
        free(e.ev_data)
        free(e.pagebuf)
        free(e)

    def poll(self, double seconds):
        """Serve for at most `seconds`; None, or the first event for Python:
        (EV_PY, src, bytes), (EV_GONE,), (EV_FAILED, msg),
        (EV_REPLAY_FAILED, rank, nr, home's result, its result, home's data)."""
        cdef engine_t *e = self.e
        cdef uint64_t max_ns = <uint64_t>(seconds * 1e9)
        cdef int r
        if e.failure != NULL:
            return (EV_FAILED, e.failure.decode())
        if e.gone:
            return (EV_GONE,)
        e.ev_kind = 0
        with nogil:
            r = serve(e, max_ns)
        if r == R_OK:
            return None
        if e.failure != NULL:
            return (EV_FAILED, e.failure.decode())
        if e.gone:
            return (EV_GONE,)
        if e.ev_kind == E_REPLAY_FAILED:
            return (EV_REPLAY_FAILED, e.ev_src, e.ev_a[0], e.ev_a[1], e.ev_a[2], self._ev_bytes())
        if e.ev_kind == E_PY:
            return (EV_PY, e.ev_src, self._ev_bytes())
        return None

    cdef bytes _ev_bytes(self):
        """The event's data, handed over (the engine's copy is freed)."""
        data = PyBytes_FromStringAndSize(<char *>self.e.ev_data, self.e.ev_len)
        free(self.e.ev_data)
        self.e.ev_data = NULL
        return data

    # ---- what the Python side does through the engine ----

    def close(self):
        """The job is over: from now on the engine only receives (what comes
        is dropped, W_PY handed up), so once this rank has said 'bye' to a
        peer nothing else goes to it, and MPI can end with every message
        received."""
        self.e.closing = 1
        self.e.hold_next = 0
        self.e.late_ns = 0                # late messages stay unsent (the job is over)
        self.e.nlate = 0

    def send_py(self, int rank, bytes data):
        """A pickled message to another agent, in order with everything else."""
        cdef pshare_wire h
        if PyBytes_GET_SIZE(data) > PSHARE_WIRE_MAX_PAYLOAD:
            raise ValueError(f"a message of {len(data)} bytes is over the protocol's "
                             f"{PSHARE_WIRE_MAX_PAYLOAD}")
        hdr(&h, W_PY, -1, 0)
        send(self.e, rank, &h, PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))

    def set_placement(self, order):
        """Home: new threads go to these ranks in turn (pshare.placement)."""
        cdef engine_t *e = self.e
        cdef int i
        if not order:
            raise ValueError("a placement needs at least one rank")
        if any(r < 0 or r >= e.size for r in order):
            raise ValueError(f"a placement of ranks {order} in a job of {e.size}")
        free(e.place)
        e.place = <int32_t *>malloc(len(order) * sizeof(int32_t))
        if e.place == NULL:
            raise MemoryError()
        for i in range(len(order)):
            e.place[i] = order[i]
        e.nplace = len(order)

    def ring_peer_at(self, int rank, bytes path, unsigned long dev, unsigned long ino):
        """Map the doorbell of `rank`'s agent, a peer on this host, from its
        channel (`path`: /proc/PID/fd/N of that agent, checked to be the
        memfd `dev`, `ino`): from now on a message to it rings.  False if
        it cannot be opened here (another pid namespace, /proc hidden)."""
        cdef engine_t *e = self.e
        cdef struct_stat st
        cdef void *p
        cdef int fd
        if rank < 0 or rank >= e.size or rank == e.rank:
            raise ValueError(f"rank {rank} is not a peer")
        fd = open(path, O_RDWR | O_CLOEXEC)
        if fd < 0:
            return False
        if fstat(fd, &st) != 0 or st.st_dev != dev or st.st_ino != ino:
            close(fd)
            return False
        p = mmap(NULL, PEER_MAP, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        close(fd)
        if p == MAP_FAILED:
            return False
        if e.peer[rank] != NULL:
            munmap(e.peer[rank], PEER_MAP)
        e.peer[rank] = <pshare_chan *>p
        return True

    def set_cores(self, int cores):
        """The cores of this rank's affinity: what cores_contended counts
        its threads against."""
        self.e.cores = cores

    def rung_by_all(self):
        """Every peer rings this rank (each mapped its doorbell): sleep until
        rung (the timeout only bounds a missed ring)."""
        self.e.rung_by_all = 1

    def cancel(self, bint wait_sends=True):
        """Before MPI ends: the posted receives are withdrawn and the sends
        finished (not waited for when a peer never said 'bye': it may be
        gone, and a large send to it would never finish)."""
        cdef engine_t *e = self.e
        cdef int i
        with nogil:
            for i in range(NRECV):
                if e.rreq[i] != MPI_REQUEST_NULL:
                    MPI_Cancel(&e.rreq[i])
                    MPI_Wait(&e.rreq[i], MPI_STATUS_IGNORE)
            if wait_sends:
                for i in range(e.nsend):
                    MPI_Wait(&e.sreq[i], MPI_STATUS_IGNORE)
                    free(e.sbuf[i])
                e.nsend = 0

    def manager_of(self, unsigned long page):
        """The rank that manages a page."""
        return pm_manager_of(page, self.e.size)

    def manager_page(self, unsigned long page):
        """Tests: this rank's manager entry of a page (one it manages), as
        PageManager.page(): (owner, copyset as a set, writer, busy, queued),
        or None if unknown."""
        cdef int owner, writer, busy, queued
        cdef uint64_t cs
        pm_inspect(self.e.m, page, &owner, &cs, &writer, &busy, &queued)
        if owner < 0:
            return None
        return owner, {r for r in range(64) if cs >> r & 1}, bool(writer), bool(busy), queued

    def pending(self):
        """Sends not complete yet."""
        reap(self.e)
        return self.e.nsend

    def counts(self):
        cdef engine_t *e = self.e
        return {"pages_in": e.pages_in, "pages_out": e.pages_out,
                "invalidations": e.invalidations, "doorbell_rings": e.rings,
                "wakes_with_page": e.pushed, "pages_prefetched": e.prefetched,
                "prefetch_depth_peak": e.prefetch_peak, "copies_punched": e.punched,
                "fetches_here": e.fetched_here, "spin_ns": e.spin_ns,
                "pages_prefetched_strided": e.sp_pages, "prefetches_opened_here": e.opened_here,
                "commands": e.commands, "command_ns": e.command_ns}

    def traffic(self):
        """Bytes each way (every message) and messages by kind (the binary
        ones; the Python side counts its own)."""
        cdef engine_t *e = self.e
        cdef int k
        sent, received = {}, {}
        for k in range(1, W_NKINDS):
            if k == W_PY:
                continue
            name = pshare_wire_names[k].decode().lower()
            if e.sent[k]:
                sent[name] = e.sent[k]
            if e.received[k]:
                received[name] = e.received[k]
        return {"bytes_sent": e.bytes_sent, "bytes_received": e.bytes_received,
                "messages_sent": sent, "messages_received": received}


# ---- the manager alone, for the tests ----

cdef void record(void *ctx, const pm_action *a) noexcept nogil:
    with gil:
        (<list>ctx).append((a.kind, a.rank, a.slot, a.page, a.state,
                            None if a.data == NULL else
                            PyBytes_FromStringAndSize(<char *>a.data, PM_PAGE * a.count),
                            a.count, a.to))


cdef class PageManager:
    """pages.c driven from Python: every action it emits is appended to
    `actions` as (kind, rank, slot, page, state, data or None, count, to)."""
    cdef pm *m
    cdef readonly list actions

    def __cinit__(self, unsigned long hold_ns=0):
        self.actions = []
        self.m = pm_new(record, <void *>self.actions)
        if self.m == NULL:
            raise MemoryError()
        pm_set_hold(self.m, hold_ns)

    def clock(self, unsigned long now_ns):
        """The time the manager decides by (anti-thrashing windows)."""
        pm_set_clock(self.m, now_ns)

    def tick(self):
        """Serve what waited for a window that has ended; the next end (0: none)."""
        return pm_tick(self.m)

    def __dealloc__(self):
        pm_free(self.m)

    def request(self, unsigned long page, int write, int rank, int slot, int want=1):
        if pm_request(self.m, page, write, rank, slot, want) != 0:
            raise MemoryError()

    def answer(self, unsigned long page, data=None):
        """A FETCH's answer (data: one or more whole pages) or an INV's (None)."""
        cdef const unsigned char[:] view
        if data is None:
            pm_answer(self.m, page, NULL, 0)
        else:
            if len(data) == 0 or len(data) % PM_PAGE:
                raise ValueError("an answer is whole pages of 4096 bytes")
            view = data
            pm_answer(self.m, page, &view[0], len(data) // PM_PAGE)

    def answered(self, unsigned long page, int count=1, by="requester"):
        """A report of a FETCH its owner answered straight to the requester:
        by the requester (the pages came) or the owner (a write's drop)."""
        pm_answered(self.m, page, count, PM_BY_REQUESTER if by == "requester" else PM_BY_OWNER)

    def drop_pending(self, unsigned long page):
        return bool(pm_drop_pending(self.m, page))

    def forget(self, unsigned long lo, unsigned long hi, int owner=0):
        if pm_forget(self.m, lo, hi, owner) != 0:
            raise MemoryError()

    def fresh_owner(self, unsigned long page):
        """Whose the page is before anyone asks for it."""
        return pm_fresh_owner(self.m, page)

    def page(self, unsigned long page):
        """(owner, copyset as a set, writer, busy, queued) or None if unknown."""
        cdef int owner, writer, busy, queued
        cdef uint64_t cs
        pm_inspect(self.m, page, &owner, &cs, &writer, &busy, &queued)
        if owner < 0:
            return None
        return owner, {r for r in range(64) if cs >> r & 1}, bool(writer), bool(busy), queued

    def __len__(self):
        return pm_count(self.m)


cdef void record_woken(void *ctx, int rank, int slot) noexcept nogil:
    with gil:
        (<list>ctx).append((rank, slot))


cdef class FutexWaiters:
    """futexes.c driven from Python: wake() returns the (rank, slot) it woke,
    in order."""
    cdef fx *t

    def __cinit__(self):
        self.t = fx_new()
        if self.t == NULL:
            raise MemoryError()

    def __dealloc__(self):
        fx_free(self.t)

    def wait(self, unsigned long addr, int rank, int slot, unsigned int bitset=0xffffffff):
        if fx_wait(self.t, addr, rank, slot, bitset) != 0:
            raise MemoryError()

    def wake(self, unsigned long addr, int n, unsigned int bitset=0xffffffff):
        cdef list woken = []
        cdef int got = fx_wake(self.t, addr, n, bitset, record_woken, <void *>woken)
        assert got == len(woken)
        return woken

    def cancel(self, unsigned long addr, int rank, int slot):
        return bool(fx_cancel(self.t, addr, rank, slot))

    def __len__(self):
        return fx_waiting(self.t)


cdef void record_go(void *ctx, int rank, int slot, int serial) noexcept nogil:
    with gil:
        (<list>ctx).append((rank, slot, bool(serial)))


cdef class Barriers:
    """barriers.c driven from Python: arrive() returns the (rank, slot,
    serial) it let go, in order (empty while the round is not complete)."""
    cdef br *t

    def __cinit__(self):
        self.t = br_new()
        if self.t == NULL:
            raise MemoryError()

    def __dealloc__(self):
        br_free(self.t)

    def arrive(self, unsigned long addr, unsigned int count, int rank, int slot):
        cdef list gone = []
        if br_arrive(self.t, addr, count, rank, slot, record_go, <void *>gone) != 0:
            raise MemoryError()
        return gone

    def __len__(self):
        return br_waiting(self.t)


PM = {"FETCH": PM_FETCH, "INV": PM_INV, "GRANT": PM_GRANT}
WIRE = {pshare_wire_names[k].decode(): k for k in range(1, W_NKINDS)}
MAX_RANKS = PM_MAX_RANKS
GROUP_PAGES = PM_GROUP_PAGES
PREFETCH_DEPTH = PF_DEPTH
READ_FOR_WRITE = PM_READ_FOR_WRITE
READAHEAD_MAX = PM_READAHEAD_MAX
