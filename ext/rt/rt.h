/*
 * rt.h - what every file of the runtime shares.
 *
 * The runtime lives inside the app but owns none of the app's libraries: it
 * is freestanding C.  Invariants that every file keeps:
 *   - every syscall goes through pshare_syscall6 (tramp.S), the only code
 *     Syscall User Dispatch lets through; nothing here calls libc;
 *   - no errno, no TLS, no malloc: results are raw kernel values (-errno);
 *     per-thread state lives in a slot of the runtime arena, found from the
 *     stack pointer (handlers run on the slot's alternate stack);
 *   - the runtime's data is private to this process and never a managed
 *     page, so the DSM can never take it away (the page-state table is in
 *     the store, at its own address, only so that the agent maps it: dsm.c).
 */
#ifndef PSHARE_RT_H
#define PSHARE_RT_H
#include <stddef.h>
#include <stdint.h>
#include "shm.h"
#include "systab.h"

#define HIDDEN __attribute__((visibility("hidden")))
#define UNUSED __attribute__((unused))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define PAGE_SIZE 4096UL
#define PAGE_DOWN(x) ((uintptr_t)(x) & ~(PAGE_SIZE - 1))
#define PAGE_UP(x) (((uintptr_t)(x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))

/* ---- kernel ABI (x86_64), spelled out so no libc header is needed ---- */
#define E_PERM 1
#define E_NOENT 2
#define E_SRCH 3
#define E_INTR 4
#define E_BADF 9
#define E_AGAIN 11
#define E_NOMEM 12
#define E_2BIG 7
#define E_FAULT 14
#define E_EXIST 17
#define E_INVAL 22
#define E_MSGSIZE 90
#define E_NOBUFS 105
#define E_TIMEDOUT 110
#define E_NOSYS 38

#define K_PR_SET_PDEATHSIG 1
#define K_PR_GET_PDEATHSIG 2
#define K_PR_SET_NAME 15
#define K_PR_GET_NAME 16
#define K_SIGABRT 6
#define K_SIGBUS 7
#define K_SIGKILL 9
#define K_SIGSEGV 11
#define K_SIGSYS 31
#define K_SIGPARK 64            /* the runtime's own: park a thread for a fork (threads.c) */
#define K_SIG_DFL ((void *)0)
#define K_SIG_IGN ((void *)1)
#define K_SA_SIGINFO 0x4
#define K_SA_ONSTACK 0x08000000
#define K_SA_RESTART 0x10000000
#define K_SA_NODEFER 0x40000000
#define K_SA_RESETHAND 0x80000000
#define K_SA_RESTORER 0x04000000
#define K_SIG_BLOCK 0
#define K_SIG_UNBLOCK 1
#define K_SIG_SETMASK 2
#define K_SS_ONSTACK 1
#define K_SS_DISABLE 2
#define SIGBIT(s) (1ULL << ((s) - 1))
#define RT_RESERVED_SIGS (SIGBIT(K_SIGSYS) | SIGBIT(K_SIGSEGV) | SIGBIT(K_SIGBUS) | SIGBIT(K_SIGPARK))

#define K_PROT_READ 1
#define K_PROT_WRITE 2
#define K_PROT_EXEC 4
#define K_MAP_SHARED 0x01
#define K_MAP_PRIVATE 0x02
#define K_MAP_TYPE 0x0f
#define K_MAP_FIXED 0x10
#define K_MAP_ANONYMOUS 0x20
#define K_MAP_GROWSDOWN 0x0100
#define K_MAP_NORESERVE 0x4000
#define K_MAP_POPULATE 0x8000
#define K_MAP_HUGETLB 0x40000
#define K_MAP_FIXED_NOREPLACE 0x100000
#define K_MFD_CLOEXEC 1
#define K_MS_ASYNC 1
#define K_MAP_FAILED ((uintptr_t)-1)
#define K_MREMAP_MAYMOVE 1
#define K_MREMAP_FIXED 2
#define K_MADV_DONTNEED 4
#define K_MADV_FREE 8
#define K_MADV_REMOVE 9
#define K_FALLOC_FL_KEEP_SIZE 1
#define K_FALLOC_FL_PUNCH_HOLE 2

#define K_CLONE_VM 0x00000100
#define K_CLONE_VFORK 0x00004000
#define K_CLONE_THREAD 0x00010000
#define K_CLONE_SETTLS 0x00080000
#define K_CLONE_PARENT_SETTID 0x00100000
#define K_CLONE_CHILD_CLEARTID 0x00200000
#define K_CLONE_CHILD_SETTID 0x01000000

#define K_FUTEX_WAIT 0
#define K_FUTEX_WAKE 1
#define K_FUTEX_PRIVATE 128
#define K_FUTEX_CLOCK_REALTIME 256
#define K_FUTEX_CMD_MASK 127
#define K_FUTEX_WAIT_BITSET 9
#define K_FUTEX_WAKE_BITSET 10
#define K_CLOCK_REALTIME 0
#define K_CLOCK_MONOTONIC 1

#define K_O_RDONLY 0
#define K_O_RDWR 2
#define K_O_CLOEXEC 02000000
#define K_F_GETFD 1
#define K_F_SETFD 2
#define K_FD_CLOEXEC 1
#define K_RLIMIT_STACK 3
#define K_RUSAGE_THREAD 1
/* CPU clock ids (the kernel's posix-timers.h): a negative id holds ~pid << 3,
 * a thread's flag and the clock's kind (PROF: user + system, VIRT: user,
 * SCHED: the scheduler's exact sum) */
#define K_CLOCK_PROCESS_CPUTIME_ID 2
#define K_CPUCLOCK_PROF 0
#define K_CPUCLOCK_VIRT 1
#define K_CPUCLOCK_SCHED 2
#define K_CPUCLOCK_MAX 3
#define K_CPUCLOCK_PERTHREAD 4
#define K_CPUCLOCK_KIND(clk) ((int)(clk) & 3)
#define K_CPUCLOCK_PID(clk) (~((int)(clk) >> 3))
#define K_MAKE_CPUCLOCK(pid, flags) ((int)((~(unsigned)(pid) << 3) | (unsigned)(flags)))
#define K_AT_FDCWD (-100)
#define K_PATH_MAX 4096
#define K_PR_SET_MM 35
#define K_PR_SET_MM_MAP 14

#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_OFF 0
#define PR_SYS_DISPATCH_ON 1
#define SUD_FILTER_ALLOW 0
#define SUD_FILTER_BLOCK 1

struct kstack {
    void *ss_sp;
    int ss_flags;
    int pad;
    size_t ss_size;
};

struct kmcontext {               /* struct sigcontext */
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2;
    void *fpstate;
    uint64_t reserved[8];
};

struct kucontext {
    uint64_t uc_flags;
    struct kucontext *uc_link;
    struct kstack uc_stack;
    struct kmcontext uc_mcontext;
    uint64_t uc_sigmask;
};

struct ksiginfo {
    int si_signo;
    int si_errno;
    int si_code;
    int pad;
    union {
        struct { int pid; unsigned uid; } kill;
        void *addr;                                    /* SIGSEGV, SIGBUS */
        struct { void *call_addr; int syscall; unsigned arch; } sys;   /* SIGSYS */
        char raw[112];
    } u;
};

struct ksigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};

/* ---- tramp.S ---- */
HIDDEN long pshare_syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
HIDDEN void pshare_restore_rt(void);
HIDDEN void pshare_sigreturn_to(void *uc) __attribute__((noreturn));
HIDDEN long pshare_clone(unsigned long flags, void *stack, int *ptid, int *ctid,
                         unsigned long tls, void (*fn)(void *), void *arg);
HIDDEN void pshare_call_on_stack(void (*fn)(void *), void *arg, void *stack_top);
extern char pshare_tramp_start[] HIDDEN;
extern char pshare_tramp_end[] HIDDEN;

#define sys6(n, a, b, c, d, e, f) pshare_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))
#define sys5(n, a, b, c, d, e) sys6(n, a, b, c, d, e, 0)
#define sys4(n, a, b, c, d) sys6(n, a, b, c, d, 0, 0)
#define PSHARE_FUTEX_CALL(word, op, val) sys4(PSHARE_NR_futex, (word), (op), (val), 0)
#define sys3(n, a, b, c) sys6(n, a, b, c, 0, 0, 0)
#define sys2(n, a, b) sys6(n, a, b, 0, 0, 0, 0)
#define sys1(n, a) sys6(n, a, 0, 0, 0, 0, 0)
#define sys0(n) sys6(n, 0, 0, 0, 0, 0, 0)
#define IS_ERR(r) ((unsigned long)(r) > -4096UL)

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline void *sp_now(void)
{
    void *sp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    return sp;
}

#define atomic_add(p, v) __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)
#define atomic_load(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define atomic_store(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define atomic_cas(p, expected, desired) \
    __atomic_compare_exchange_n((p), (expected), (desired), 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)

/* ---- util.c: the few libc functions the compiler or we need (hidden) ---- */
HIDDEN void *memcpy(void *d, const void *s, size_t n);
HIDDEN void *memmove(void *d, const void *s, size_t n);
HIDDEN void *memset(void *d, int c, size_t n);
HIDDEN int memcmp(const void *a, const void *b, size_t n);
HIDDEN size_t strlen(const char *s);
HIDDEN int str_starts(const char *s, const char *prefix);
/* Builds messages without stdio: fmt_* append to a bounded buffer. */
struct fmtbuf { char *p; size_t len, cap; };
HIDDEN void fmt_str(struct fmtbuf *b, const char *s);
HIDDEN void fmt_dec(struct fmtbuf *b, long v);
HIDDEN void fmt_hex(struct fmtbuf *b, unsigned long v);
/* struct timespec (x86_64), and time in nanoseconds */
struct kts {
    long sec, nsec;
};
HIDDEN int ts_valid(const struct kts *t);
HIDDEN long ts_ns(const struct kts *t);
HIDDEN struct kts ns_ts(long ns);
HIDDEN long clock_ns(int clk);
HIDDEN void rt_lock(int *lock);
HIDDEN void rt_unlock(int *lock);
HIDDEN void rt_fail(const char *msg) __attribute__((noreturn));
HIDDEN void rt_private(void *p, size_t len);
HIDDEN int rt_is_private(uintptr_t lo, uintptr_t hi);

/* ---- global runtime state (init.c) ---- */
struct rt_state {
    struct pshare_ctl *ctl;          /* shared with the agent */
    struct pshare_chan *chan;        /* requests to the agent */
    int dsm;                         /* more than one rank: the DSM and forwarding are on */
    int store_fd;                    /* the page store memfd, above the app's fds (fds.c) */
    int fd_low;                      /* the lowest of our descriptors (fds.c) */
    int uffd;                        /* the userfaultfd of the store's mappings, or -1 (uffd.c) */
    int xfer_fd;                     /* home: where a shared mapping's backing waits for the
                                        engine to take it; -1 none yet, -2 none to be had
                                        (memory.c's mem_xfer_ready) */
    int is_home;                     /* rank 0: main() runs here, HOME calls execute here */
    uint8_t sud_selector;            /* always BLOCK: only the trampoline is let through */
};
extern struct rt_state rt HIDDEN;

#define STAT_ADD(field, v) atomic_add(&rt.ctl->field, (uint64_t)(v))

HIDDEN void rt_detach(void);
HIDDEN int rt_is_agent_death(const struct ksiginfo *si);
HIDDEN void rt_agent_gone(void) __attribute__((noreturn));
HIDDEN int rt_pdeath_call(const long *a, long *ret);

/* ---- fds.c: the runtime's descriptors out of the app's reach ---- */
HIDDEN long fds_init(void);
HIDDEN long fds_keep(long fd);
HIDDEN long fds_replace(long fd, long ours);
HIDDEN void fds_child(int own_memory);
HIDDEN int fd_guard(long nr, long *a, long *ret);
HIDDEN long fd_exec(long nr, const long *a);
HIDDEN const char *fd_open_read_path(long nr, const long *a, long *flags);
HIDDEN long fd_memfd_answer(const char *name, long flags, const char *text, size_t len);

/* ---- sud.c ---- */
HIDDEN long sud_arm(void);

/* ---- threads.c: slots, clone/exit emulation ---- */
/* The call a thread's SIGSYS handler is running (a nested handler saves and
 * restores it): whether it went to home is counted once, at its first piece. */
struct trap {
    long nr;
    int active;
    int forwarded;
};
HIDDEN long threads_init(void);
HIDDEN void *slot_altstack_top_main(void);
HIDDEN long thread_clone(struct kucontext *uc, unsigned long flags, uintptr_t newsp,
                         int *ptid, int *ctid, unsigned long tls);
HIDDEN void thread_exit(long code) __attribute__((noreturn));
HIDDEN long thread_set_tid_address(int *ctid);
HIDDEN struct kstack *thread_app_altstack(void);
HIDDEN int thread_number(void);
HIDDEN int thread_slot_index(void);
HIDDEN int thread_slot_here(void);
HIDDEN long thread_cluster_tid(void);
HIDDEN long thread_spawn_local(const struct kucontext *frame, const void *fp, size_t fpsize,
                               unsigned long flags, int *ptid, int *ctid, unsigned long tls,
                               long cluster_tid, int *parent_settid);
HIDDEN long thread_start_process(const struct kucontext *uc, const void *fp, size_t fpsize,
                                 unsigned long flags, int *ctid, unsigned long tls);
HIDDEN void block_app_signals(void);
HIDDEN long runtime_thread(void (*fn)(void *), void *arg, int *slot_out);
HIDDEN size_t thread_frame_pack(const struct kucontext *uc, uint8_t *out, size_t cap);
HIDDEN int thread_slot_of_tid(long tid);
HIDDEN int thread_app_slot_of_tid(long tid);
HIDDEN size_t *thread_bounce(void);
HIDDEN struct trap *thread_trap(void);
HIDDEN void thread_park(const struct ksiginfo *si);
HIDDEN long thread_forward_signal(int tid, long sig, int shape);
HIDDEN void thread_busy(int on);
HIDDEN int *thread_app_ctid(void);
HIDDEN void thread_await_parent_settid(void);
HIDDEN void thread_clear_app_ctid(void);
HIDDEN void thread_mark_executor(int slot, long tid);
HIDDEN int thread_slot_is_executor(int slot);
HIDDEN int thread_is_app(void);
HIDDEN int thread_is_child_process(void);
HIDDEN int thread_slot_tid(int slot);

/* ---- signals.c: our two handlers and the app's view of them ---- */
HIDDEN long signals_init(void);
HIDDEN long sig_action(int sig, const struct ksigaction *act, struct ksigaction *oact, size_t size);
HIDDEN long sig_action_child(int sig, const struct ksigaction *act, struct ksigaction *oact, size_t size);
HIDDEN long sig_procmask(struct kucontext *uc, int how, const uint64_t *set, uint64_t *oset, size_t size);
HIDDEN long sig_suspend(const uint64_t *mask, size_t size);
HIDDEN uint64_t sig_pending_here(void);
HIDDEN long sig_altstack(const struct kstack *ss, struct kstack *oss);

/* ---- memory.c: the region table and the address-space calls ---- */
HIDDEN long memory_init(void);
HIDDEN long mem_mmap(uintptr_t addr, size_t len, int prot, int flags, int fd, long off);
HIDDEN long mem_munmap(uintptr_t addr, size_t len);
HIDDEN long mem_mremap(uintptr_t old, size_t oldlen, size_t newlen, int flags, uintptr_t newaddr);
HIDDEN long mem_mprotect(uintptr_t addr, size_t len, int prot);
HIDDEN long mem_madvise(uintptr_t addr, size_t len, int advice);
HIDDEN long mem_brk(uintptr_t newbrk);
HIDDEN long mem_mmap_backed(uintptr_t addr, size_t len, int prot, int flags, int fd, long off,
                            struct pshare_backing *backing);
HIDDEN long mem_mmap_copy(uintptr_t addr, size_t len, int prot, int flags);
HIDDEN int mem_xfer_ready(void);
HIDDEN int mem_shared_kind(uintptr_t addr, size_t len);
HIDDEN void mem_pull_shared(uintptr_t lo, uintptr_t hi);
HIDDEN void mem_pull_before(long nr, const long *a);
HIDDEN void mem_privatize(void);
HIDDEN int mem_prot_of(uintptr_t addr);

/* ---- chan.c ---- */
HIDDEN void chan_post(uint64_t entry);
HIDDEN void chan_post_lazy(uint64_t entry);
HIDDEN struct pshare_mbox *chan_box(int slot);
HIDDEN void chan_wait(struct pshare_mbox *b, uint32_t state);
HIDDEN void chan_wait_command(struct pshare_mbox *b, int control);
HIDDEN void chan_reply(struct pshare_mbox *b);
HIDDEN uint64_t chan_enter(void);
HIDDEN void chan_leave(uint64_t old);
HIDDEN long chan_call(int slot, uint32_t kind);
HIDDEN void chan_send(int slot, uint32_t kind);
HIDDEN long chan_finish(int slot);
HIDDEN int chan_poll(struct pshare_mbox *b, uint32_t state);
HIDDEN void chan_wait_change(uint32_t *w, uint32_t v);
HIDDEN int chan_contended(void);
HIDDEN int chan_sleep_begin(void);
HIDDEN void chan_sleep_end(int counted);
HIDDEN int chan_room(void);
HIDDEN void hist_add(uint64_t *hist, uint64_t cycles);

/* ---- dsm.c ---- */
HIDDEN long dsm_init(void);
HIDDEN int dsm_initial_prot(int prot);
HIDDEN void dsm_manage(uintptr_t lo, uintptr_t hi, int prot);
HIDDEN void dsm_unmanage(uintptr_t lo, uintptr_t hi);
HIDDEN void dsm_protect(uintptr_t lo, uintptr_t hi, int prot);
HIDDEN void dsm_set(uintptr_t page, int state);
HIDDEN long dsm_set_run(uintptr_t page, long count, int state);
HIDDEN long dsm_apply_grant(int slot, uintptr_t page, long run, int state);
HIDDEN int dsm_fault(uintptr_t addr, int write, uint64_t ip);
HIDDEN void dsm_pull(uintptr_t lo, uintptr_t hi);
HIDDEN void dsm_touch(const void *p, size_t len, int write);
HIDDEN void dsm_touch_arg(const void *p);
HIDDEN void dsm_start_owned(uintptr_t lo, uintptr_t hi, int mine);
HIDDEN void dsm_lock(void);
HIDDEN void dsm_fork_child_begin(void);
HIDDEN void dsm_fork_child_copy(uintptr_t lo, uintptr_t hi);
HIDDEN void dsm_fork_child_end(void);
HIDDEN void dsm_unlock(void);
HIDDEN int dsm_managed(uintptr_t addr);
HIDDEN int dsm_may_touch(const void *p, int write);
HIDDEN int dsm_readable(uintptr_t addr);
HIDDEN int dsm_missing(uintptr_t addr, int write, uint64_t ip);
HIDDEN int dsm_load_word(uintptr_t addr, uint32_t *v);

/* ---- uffd.c: read copies the agent can drop without this process ---- */
HIDDEN void uffd_init(void);
HIDDEN void uffd_register(uintptr_t addr, size_t len);
HIDDEN void uffd_pause(int paused);
HIDDEN int uffd_fork_child_open(void);
HIDDEN void uffd_fork_child_register(uintptr_t addr, size_t len);
HIDDEN void uffd_fork_child_close(void);
HIDDEN void uffd_unprotect(uintptr_t addr, size_t len);
/* futex.c */
#define FUTEX_HOME (-(1L << 40))       /* futex_spread: not ours, the call goes on as before */
HIDDEN long futex_spread(const long *a);
HIDDEN void futex_signalled(int slot);

/* ---- marshal.c ---- */
struct kiov { uintptr_t base; size_t len; };   /* x86_64 struct iovec */
#define FWD_CAP (PSHARE_MBOX_DATA / 2)   /* forwarded data: the mailbox's lower half; bounce buffers the upper */
#define MSPEC_MAX 1040
struct mpart {
    uintptr_t app;                   /* the app's buffer */
    uint32_t off, len;               /* where it is in the data */
    int16_t arg;                     /* argument it replaces, -1 for an iovec piece */
    uint8_t dir, kind;
    uint32_t elem;
};
struct mspec {
    long nr;                         /* may differ from the app's (readv -> read) */
    long a[6];
    uint32_t rel;                    /* bit i: a[i] is an offset into the data */
    int np;
    size_t used;
    struct mpart p[MSPEC_MAX];
};
HIDDEN int marshal_in(long nr, const long *args, struct mspec *m, uint8_t *base, size_t cap, int forwarded);
HIDDEN long marshal_exec(const struct mspec *m, uint8_t *base, long (*exec)(long nr, const long *a));
HIDDEN void marshal_out(const struct mspec *m, const uint8_t *base, long ret);
/* A forwarded call's data as it travels: one entry per buffer, in offset order. */
struct mseg {
    uint32_t off, len, elem;
    uint8_t dir, kind;
    uint16_t pad;
};
#define MSEG_MAX 16
/* Kinds only marshal.c makes, past the table's (syscalls.tbl): headers of
 * sendmsg/recvmsg (elem: a kmsghdr) or sendmmsg/recvmmsg (a kmmsghdr) whose pointers
 * are offsets into the data, and an iovec array whose bases are.  The side
 * that runs the call turns the offsets into addresses (marshal_rebase), as
 * it does a forwarded ARG_STRV's entries (execve's argv, envp: the array,
 * then its strings). */
enum { ARG_MSGHDR = ARG_STRV + 1, ARG_IOVTAB };
struct kmsghdr {                     /* x86_64 struct msghdr */
    uintptr_t name;
    uint32_t namelen, pad0;
    uintptr_t iov;
    uint64_t iovlen;
    uintptr_t control;
    uint64_t controllen;
    int32_t flags, pad1;
};
_Static_assert(sizeof(struct kmsghdr) == 56, "struct msghdr is 56 bytes on x86_64");
struct kmmsghdr {                    /* x86_64 struct mmsghdr */
    struct kmsghdr hdr;
    uint32_t len, pad;
};
_Static_assert(sizeof(struct kmmsghdr) == 64, "struct mmsghdr is 64 bytes on x86_64");
HIDDEN void marshal_rebase(uint8_t *base, uint32_t off, uint32_t len, uint32_t elem, int kind);
#define MSEG_ROOM (MSEG_MAX * sizeof(struct mseg) + 8)   /* the table's room in the data */
HIDDEN long marshal_pack_in(const struct mspec *m, uint8_t *base, size_t cap, long *tab, long *nseg);
HIDDEN int marshal_unpack_in(uint8_t *base, size_t len, size_t cap, long tab, long nseg, struct mseg *seg);
HIDDEN size_t marshal_pack_out(const struct mseg *seg, int nseg, uint8_t *base, long ret);
HIDDEN void marshal_out_packed(const struct mspec *m, const uint8_t *data, size_t len, long ret);

/* ---- control.c: the control thread, executors, and what they run ---- */
HIDDEN long control_start(void);
HIDDEN void control_run(void) __attribute__((noreturn));
HIDDEN long signal_thread(long tid, long sig);
HIDDEN long run_forwarded(long nr, const long *a, struct kucontext *uc);
HIDDEN long run_thread_call(long nr, const long *a, long tid);
HIDDEN long run_io(long nr, const long *a, struct kucontext *uc);
HIDDEN long run_global(long nr, const long *a);
HIDDEN long run_here(long nr, const long *a);
HIDDEN int thread_runtime_tids(long *out, int max);
HIDDEN long run_here_by(long nr, const long *a, long (*exec)(long nr, const long *a));

/* ---- sigcarry.c: signals the kernel queues at an executor, to its thread ---- */
HIDDEN uint64_t sigcarry_hold(void);
HIDDEN void sigcarry_release(uint64_t old);
HIDDEN void sigcarry_raised(int slot, long r);
HIDDEN long sigcarry_timer_call(long nr, const long *a);
HIDDEN int sigcarry_timer_fired(const struct ksiginfo *si);
HIDDEN int sigcarry_timer_take(const struct ksiginfo *si, uint64_t wanted, struct ksiginfo *out);
HIDDEN void sigcarry_expect_wakes(void);
HIDDEN long sigcarry_deliver(const int64_t *a);

/* ---- sigwait.c: a thread elsewhere waits for signals at home too ---- */
HIDDEN long sigwait_spread(const long *a, struct kucontext *uc);
HIDDEN long sigsuspend_spread(uint64_t mask, struct kucontext *uc);
HIDDEN long sigpending_spread(const long *a, struct kucontext *uc);
HIDDEN long sigwait_at_home(const long *a, int slot);
HIDDEN void sigwait_signalled(int slot, int sig);

/* ---- schedcall.c: calls about a thread's scheduling, where it runs ---- */
HIDDEN long schedcall_spread(long nr, const long *a, struct kucontext *uc);
HIDDEN long schedcall_run(long nr, const long *a, long tid);
HIDDEN int schedcall_names_thread(long nr, const long *a);

/* ---- cpus.c: the cluster's CPUs as one machine's ---- */
HIDDEN void cpus_init(void);
HIDDEN int cpus_cluster(void);
HIDDEN long cpus_getaffinity(long tid, long len, void *out);
HIDDEN long cpus_setaffinity(long tid, long len, const void *mask);
HIDDEN int cpus_file_open(long nr, const long *a);
HIDDEN long cpus_file_here(long nr, const long *a);
HIDDEN long cpus_getcpu(const long *a);
/* ---- vdso.c: the vDSO's getcpu trapped ---- */
HIDDEN void vdso_trap_getcpu(void);

/* ---- procfs.c: the app's own /proc entries without the runtime's threads ---- */
HIDDEN int procfs_file_open(long nr, const long *a);
HIDDEN long procfs_file_here(long nr, const long *a, int file);
HIDDEN long procfs_getdents(long fd, void *buf, long count);
/* ---- cputime.c: the process's CPU time, every rank's ---- */
HIDDEN int cputime_clock(long nr, const long *a, long *ret);
HIDDEN long cputime_fix(long nr, const long *a, long ret);

/* ---- dispatch.c ---- */
HIDDEN void on_sigsys(int sig, struct ksiginfo *si, void *ctx);
#endif
