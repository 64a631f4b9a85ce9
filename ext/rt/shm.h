/*
 * shm.h - the control block shared by the agent and the runtime.
 *
 * The agent creates it as a memfd, passes it to the app at PSHARE_CTL_FD, and
 * reads it back while and after the app runs.  The Cython side (ext/agent/
 * rtctl.pyx) includes this very header, so both sides agree on the layout by
 * construction.  Counters are written with atomic adds by app threads and read
 * by the agent without locks: a slightly stale figure is fine, a torn one is
 * impossible for aligned 64-bit words on x86_64.
 */
#ifndef PSHARE_SHM_H
#define PSHARE_SHM_H
#include <stdint.h>

#define PSHARE_MAGIC     0x31657261687370ULL      /* "pshare1" */
#define PSHARE_VERSION   9
#define PSHARE_CTL_FD    1021                     /* control block (this struct) */
#define PSHARE_STORE_FD  1022                     /* page store, handed over here; the runtime moves it (fds.c) */
#define PSHARE_CHAN_FD   1020                     /* channel: rings and mailboxes */
#define PSHARE_STORE_SIZE (1ULL << 47)            /* sparse; store offset = virtual address */
#define PSHARE_NSYS      512                      /* per-number counters */
#define PSHARE_MAX_THREADS 1024                   /* runtime thread slots per rank */
#define PSHARE_READ_FOR_WRITE 2                   /* RQ_FAULT a[1]: a read the runtime guesses is a write */
#define PSHARE_GROUP_PAGES 16                     /* pages with one manager (pages.h's PM_GROUP_PAGES):
                                                     a prefetched run stays within one */
#define PSHARE_FAULT_REACH 512                    /* RQ_FAULT a[2]: managed pages from the page on,
                                                     counted up to this: how far the agent may prefetch
                                                     (the groups after a stream, a block a stride on) */
#define PSHARE_SHORT_SLICE_NS 100000             /* the time slice of the runtime's threads and the
                                                     engine while the cores are contended (control.c) */
/* struct sched_attr (sched_setattr(2)): runtime = a SCHED_OTHER thread's slice */
struct pshare_sched_attr {
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
    uint32_t util_min, util_max;
};
#define PSHARE_GLOBAL_FENCE 1                     /* RQ_GLOBAL a[7]: the op changes which pages are managed
                                                     or whose they are (home fences the page traffic
                                                     around it: the engine's global_begin) */

/* A MAP_SHARED mapping with several ranks (memory.c's shared regions): home
 * maps it natively (the file, or a memfd for anonymous memory) and that
 * mapping is home's copy of its pages; every other rank replays it as
 * anonymous memory the DSM fills.  The replay's mmap flags carry this bit;
 * on home the decided op's data is a struct pshare_backing, which the
 * engine reads the pages' bytes through. */
#define PSHARE_MAP_SHARED_COPY (1L << 40)
struct pshare_backing {
    int64_t fd;                   /* the app's descriptor of the backing (kept at rt.xfer_fd until
                                     home's next address-space op): the engine takes its own copy */
    int64_t offset;               /* the file offset of the mapping's first page */
};

/* flags set by the agent */
#define PSHARE_ENV_HAD_PRELOAD   0x1   /* the user had LD_PRELOAD: strip our prefix only */
#define PSHARE_ENV_HAD_TUNABLES  0x2   /* likewise for GLIBC_TUNABLES */
#define PSHARE_NO_PUNCH          0x4   /* drop copies through the control thread only (uffd.c) */
/* ctl->punch (uffd.c): holes in the store fault (so no READ page may be one),
 * the engine may punch, and the bit that pauses it while a forked child copies */
#define PSHARE_PUNCH_HOLES       1
#define PSHARE_PUNCH_ON          2
#define PSHARE_PUNCH_PAUSED      4
#define PSHARE_PUNCH_WP          8     /* and the mappings are registered for write-protection:
                                          the engine may serve a FETCH itself (ext/rt/uffd.c) */
#define PSHARE_PUNCH_WP_USED     16    /* engine: it has write-protected pages of the app */

/*
 * The page-state table (ext/rt/dsm.c): one byte per page of the address
 * space, at ctl->states_addr in the app and at the same offset of the page
 * store (so the agent maps it too), then the lock that serialises every
 * change of a state with what applies it.  Runtime threads and the engine
 * both take it: 0 free, 1 held, 2 held and waited for (a shared futex).
 */
#define PSHARE_PAGES_MAX   (1ULL << 35)           /* 47-bit address space */
#define PSHARE_STATES_LEN  (PSHARE_PAGES_MAX + 4096)
#define PSHARE_STATES_LOCK PSHARE_PAGES_MAX        /* offset of the lock word */
#define PSHARE_PS_PROT     7                      /* the app's protection */
#define PSHARE_PS_MANAGED  8                      /* in the store */
#define PSHARE_PS_SHIFT    4                      /* the DSM state above (0: WRITE on home, else INVALID) */

/* runtime state, written by the runtime */
#define PSHARE_RT_NONE     0           /* never started (not loaded, or dormant) */
#define PSHARE_RT_RUNNING  1
#define PSHARE_RT_FAILED   2           /* see error[]; the app exits with 126 */

#define PSHARE_HIST 48

struct pshare_syscount {
    uint64_t count;                    /* trapped */
    uint64_t cycles;                   /* TSC cycles spent in the runtime for it */
    uint64_t forwarded;                /* of count: sent to home (run by its executor) */
};

/* The first fatal signal of the app, as the runtime saw it (state != 0). */
struct pshare_crash {
    int32_t state;
    int32_t signo;
    int32_t code;                      /* si_code */
    int32_t tid;                       /* kernel tid of the faulting thread */
    int32_t thread;                    /* thread number: 0 = main, then creation order */
    int32_t pad;
    uint64_t addr;                     /* si_addr */
    uint64_t ip;                       /* instruction pointer */
};

/* Home: a POSIX timer that signals a thread on another rank (sigcarry.c).
 * The kernel signals the thread's executor with SIGPARK and the entry's
 * index; the engine reads what the thread must receive from here. */
#define PSHARE_TIMERS 4096
struct pshare_timer {
    int32_t signo;                     /* the app's signal; 0 = free, -1 = being made */
    int32_t kernel_id;                 /* timer_t, as the app knows it */
    int32_t overrun;                   /* si_overrun of the latest expiry */
    int32_t pad;
    uint64_t value;                    /* the app's sigev_value */
};

struct pshare_ctl {
    /* agent -> runtime */
    uint64_t magic;
    uint32_t version;
    uint32_t flags;
    int32_t rank;
    int32_t nranks;
    int32_t agent_pid;
    int32_t home_pid;                  /* the job's pid, as every rank reports it */
    char comm[16];                     /* a #! script's name: the app's threads' name, as an
                                          exec of a script gives natively ("": leave it) */

    /* runtime -> agent */
    int32_t state;
    int32_t app_pid;
    char error[256];

    uint64_t threads_started;          /* app threads that ran on this rank, main included */
    uint64_t threads_exited;
    uint64_t threads_peak;
    uint64_t regions;                  /* shared regions in the page store now */
    uint64_t regions_peak;
    uint64_t pages_managed;            /* pages of the app's address space in the store now */
    uint64_t pages_managed_peak;

    uint64_t faults_read;
    uint64_t faults_write;
    uint64_t faults_upgrade;
    uint64_t pages_in;
    uint64_t pages_out;
    uint64_t invalidations;
    uint64_t reads_for_write;          /* read faults asked writable: their instruction's
                                          reads were followed by writes (dsm.c) */
    uint64_t upgrades_local;           /* writes to such pages, opened here without a message */

    uint64_t syscalls_local;           /* trapped calls executed on this rank */
    uint64_t syscalls_forwarded;       /* trapped calls sent to home (once each, however
                                          many pieces); local + forwarded = trapped */
    uint64_t syscalls_invalid;         /* unknown numbers, answered ENOSYS */

    uint32_t fork_gate;                /* a forked child has its own memory (threads.c) */
    uint32_t go;                       /* agent: layout checked, start (futex word) */
    int32_t control_slot;              /* the control thread's mailbox */
    int32_t punch;                     /* runtime: PSHARE_PUNCH_*, whether the engine may drop
                                          a read copy by punching it out of the store (uffd.c) */
    uint64_t states_addr;              /* runtime: where the page-state table is (and its store offset) */
    int32_t uffd_fd;                   /* runtime: the app's userfaultfd (PUNCH_WP), for the engine */
    uint32_t states_gen;               /* runtime: +1 each time the two above are set */
    int32_t cpu_base;                  /* agent: the number of this rank's first CPU in the
                                          cluster's (cpus.c), */
    int32_t cpu_total;                 /* and every rank's usable CPUs: 0 = CPUs are each node's */
    uint64_t hist_fault[PSHARE_HIST];  /* fault latency, log2 buckets of TSC cycles */
    uint64_t hist_forward[PSHARE_HIST];/* forwarded-call latency, the same */
    struct pshare_crash crash;
    struct pshare_syscount sys[PSHARE_NSYS];
    struct pshare_timer timers[PSHARE_TIMERS];
};


/*
 * The channel (memfd at PSHARE_CHAN_FD): how app threads and the agent talk.
 *
 * Up: an app thread fills its slot's mailbox, sets state REQUEST and pushes
 * an entry on the up ring (many producers, the agent consumes); it then
 * sleeps on the mailbox state until the agent sets REPLY.  Entries that need
 * no mailbox (a page applied, an executor done) carry all they say.
 * Down: the agent writes a command into the control thread's or an
 * executor's mailbox and sets REQUEST; the runtime sets REPLY when done.
 */
#define PSHARE_MBOX_DATA (256 * 1024)
#define PSHARE_RING 4096
/* Drop counters (futex.c): the agent adds one to fdrop[PSHARE_FDROP_OF(page)]
 * each time this rank's copy of a page is invalidated, after the control
 * thread has applied it. */
#define PSHARE_FDROP 1024
#define PSHARE_FDROP_OF(addr) (((uint64_t)(addr) >> 12) % PSHARE_FDROP)

enum pshare_mbox_state { MB_IDLE = 0, MB_REQUEST = 1, MB_REPLY = 2 };

/* A rank's DSM state of a page (the paper's three): grants and CMD_PROTECT carry it. */
enum pshare_dsm_state { DSM_INVALID = 1, DSM_READ = 2, DSM_WRITE = 3 };

/* up-ring entry kinds: entry = kind << 56 | slot << 40 | page */
enum pshare_up_kind {
    UP_MBOX = 1,          /* the slot's mailbox holds a request */
    UP_APPLIED = 2,       /* the slot applied a page grant (page in the entry) */
    UP_EXEC_DONE = 3,     /* an executor finished a forwarded call (reply in its mailbox) */
    UP_SIGNAL = 4,        /* home: a signal for the thread of this executor; the entry's low
                             bits: signal | PSHARE_SIG_* << 8 | timer index << 16 (sigcarry.c) */
    UP_FCANCEL = 5,       /* the slot's futex wait ends early: the errno (ETIMEDOUT, EINTR) in
                             the entry; its mailbox still holds the wait (futex.c) */
    UP_BARRIER = 6,       /* the slot's thread arrived at the pthread barrier in its mailbox's
                             barrier fields (barrier.c) */
    UP_SIGWAIT_END = 7,   /* the slot's thread waits for signals at home (sigwait.c) and one
                             came here: end that wait, whose number is in the entry */
};

/* How a signal carried to a thread on another rank is queued there (its si_code) */
enum pshare_sig_shape {
    PSHARE_SIG_TKILL = 0,  /* tgkill/pthread_kill by the app: SI_TKILL from home's pid */
    PSHARE_SIG_USER = 1,   /* the kernel's own for the call the executor ran (SIGPIPE, SIGXFSZ):
                              SI_USER from home's pid */
    PSHARE_SIG_TIMER = 2,  /* a timer's expiry: SI_TIMER, its id, overrun and value */
};

/* mailbox request kinds, app -> agent */
enum pshare_req {
    RQ_FAULT = 1,         /* a[0] page address, a[1] 1 = write (PSHARE_READ_FOR_WRITE: a read
                             guessed a write), a[2] managed pages from a[0] on
                             (up to PSHARE_FAULT_REACH) -> a[0] state, a[1] pages granted
                             from a[0] on (read-ahead; 0 or 1: the one) */
    RQ_SYSCALL = 2,       /* forwarded call: a[0] nr, a[1..6] args, data = marshalled */
    RQ_SPAWN = 3,         /* new thread: data = register frame; a[0] flags */
    RQ_GLOBAL = 4,        /* address-space op / sigaction: a[0] nr, a[1..6] args, data,
                             a[7] PSHARE_GLOBAL_FENCE or 0 */
    RQ_THREAD_EXIT = 5,   /* a[0] cluster tid */
    RQ_FWAIT = 6,         /* private futex wait at the page's manager: a[0] address, a[1] bitset,
                             a[2] the drop count read with the value (futex.c) -> a[0] 0 (woken,
                             or spuriously), -ETIMEDOUT, -EINTR; a[1] 0, or the DSM state of
                             the word's page, which came with the wake (the waiter opens it
                             and posts UP_APPLIED) */
    RQ_FWAKE = 7,         /* a[0] address, a[1] how many, a[2] bitset, a[3] the word (-1: not here) -> a[0] how many woke */
    RQ_TCALL = 8,         /* a call that names a thread on another rank (schedcall.c): as RQ_SYSCALL,
                             and tcall_tid the thread's cluster tid; run where that thread runs */
    RQ_CPUTIME = 9,       /* every rank's app process's CPU clocks, summed (cputime.c) -> data:
                             int64 ns by CPUCLOCK_PROF, _VIRT, _SCHED */
};

/* commands, agent -> control thread / executor */
enum pshare_cmd {
    CMD_PROTECT = 16,     /* a[0] page, a[1] dsm state (0: keep), a[2] pages in the run (0, 1:
                             one): drop this rank's access -> a[0] pages of the run managed */
    CMD_SPAWN = 17,       /* data = frame; a[1] flags, a[2] tls, a[3] ctid, a[4] cluster tid (0: home's
                             own), a[5] ptid (CLONE_PARENT_SETTID, written by the parent after the
                             thread started: threads.c) -> a[0] local tid, a[1] slot */
    CMD_EXECUTOR = 18,    /* home: make an executor -> a[0] its tid (the cluster tid), a[1] slot */
    CMD_GLOBAL = 19,      /* a[0] nr, a[1..6] args, a[7] 1 = decide (home) / 0 = replay */
    CMD_SIGNAL = 20,      /* a[1] cluster tid, a[2] signal, a[3] PSHARE_SIG_*, and a timer's
                             a[4] id, a[5] overrun, a[6] value */
    CMD_SYSCALL = 21,     /* executor: a[0] nr, a[1..6] args, a[7] offset args, data;
                             CMD_SPAWN to an executor starts a process from the frame */
    CMD_EXECUTOR_END = 22,
    CMD_TCALL = 23,       /* control thread: RQ_TCALL's a[] and data, for its thread tcall_tid
                             here (schedcall.c) -> a[0] result, data the output */
};

struct pshare_mbox {
    uint32_t state;               /* futex word: enum pshare_mbox_state */
    uint32_t kind;
    int64_t a[10];
    uint64_t len;                 /* bytes of data used */
    uint64_t t0;                  /* TSC at post, for latency figures */
    /* pthread_barrier_wait (barrier.c): apart from the request fields, which a
     * signal handler may use while the thread waits at the barrier */
    uint64_t barrier;             /* the barrier's address */
    uint32_t barrier_count;       /* its thread count */
    uint32_t barrier_done;        /* futex word: 0 waiting, 1 gone through, 2 ... as the serial thread */
    uint32_t sigwait_end;         /* an executor's: the agent asks it to end the signal wait with
                                     this number (UP_SIGWAIT_END, sigwait.c) */
    uint32_t tcall_tid;           /* RQ_TCALL, CMD_TCALL: the cluster tid the call names */
    uint8_t data[PSHARE_MBOX_DATA];
};

struct pshare_chan {
    uint32_t doorbell;            /* futex word the agent sleeps on */
    uint32_t agent_waiting;
    uint32_t apply_wanted;        /* agent: wake me for UP_APPLIED (a message waits for one) */
    uint32_t contended;           /* agent: this rank has more threads that want a core than
                                     cores: nobody polls (chan.c) */
    uint32_t app_asleep;          /* app threads asleep until the agent answers or wakes
                                     them, or in a system call: they want no core now
                                     (chan_sleep_begin; the agent's cores_free) */
    uint32_t pad;
    uint64_t head;                /* next entry the agent reads */
    uint64_t tail;                /* next entry a producer claims */
    uint64_t ring[PSHARE_RING];   /* 0 = not yet written */
    uint32_t fdrop[PSHARE_FDROP]; /* see PSHARE_FDROP */
    struct pshare_mbox box[PSHARE_MAX_THREADS];
};

#endif
