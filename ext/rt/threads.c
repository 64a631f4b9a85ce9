/*
 * threads.c - thread slots and the emulation of clone, fork and thread exit.
 *
 * Every app thread owns a slot in the runtime arena (private memory, never in
 * the page store): its alternate signal stack, a small start stack and the
 * register frame it starts from.  A handler finds its slot from the stack
 * pointer, so no TLS is needed.
 *
 * New thread (CLONE_VM|CLONE_THREAD): Syscall User Dispatch is not inherited,
 * so the child cannot simply return into app code.  The parent copies its
 * trapped register context into the slot's frame (rax = 0, rsp = the new
 * stack), clones onto the slot's start stack, and the child arms SUD and
 * rt_sigreturns through that frame: all registers, the FPU state, the app's
 * signal mask and our alternate stack are installed in one kernel call.
 *
 * Invariants:
 *   - slot->ktid is non-zero while a task uses the slot; the kernel clears it
 *     when the task is gone (CLONE_CHILD_CLEARTID on the slot word), which is
 *     what frees the slot - never earlier, since the dying thread still runs
 *     on the slot's stack;
 *   - the app's own CLONE_CHILD_CLEARTID is emulated (store 0, futex wake)
 *     so the kernel never writes into the shared page store behind the DSM.
 */
#include "rt.h"

#define SLOT_ALTSTACK (256 * 1024)     /* AVX-512 frames are large; handlers nest */
#define SLOT_START (16 * 1024)
#define SLOT_FP (16 * 1024)             /* xsave area of the start frame */
#define SLOT_HDR 4096
#define SLOT_SIZE (SLOT_HDR + SLOT_FP + SLOT_START + SLOT_ALTSTACK)
#define FP_XSTATE_MAGIC1 0x46505853U

struct slot {
    int ktid;                    /* see invariants */
    int tid;
    int number;                  /* thread number: 0 = main, then creation order */
    int is_thread;               /* 0 for a CLONE_VM child process (posix_spawn) */
    long cluster;                /* cluster-wide tid when it differs from tid (remote threads) */
    int is_executor;             /* home: runs the forwarded calls of a thread elsewhere */
    int is_process;              /* a CLONE_VM child process (vfork, posix_spawn) */
    size_t bounce;               /* run_here's stack of bounce buffers in the mailbox */
    struct trap trap;            /* the trapped call now in the handler (stats) */
    int busy;                    /* inside a request to the agent: park only after it */
    int park_pending;
    int *app_ctid;               /* emulated CLONE_CHILD_CLEARTID */
    int *app_settid;             /* emulated CLONE_CHILD_SETTID */
    int *parent_settid;          /* CLONE_PARENT_SETTID of a parent on another rank: it writes
                                    the tid there once it hears the thread started */
    struct kstack app_ss;        /* the app's sigaltstack, virtualised */
    /* start frame: pretcode then the ucontext the child rt_sigreturns through */
    uint64_t pretcode;
    struct kucontext frame;
};

_Static_assert(sizeof(struct slot) <= SLOT_HDR, "slot header too big");

static char *arena;              /* PSHARE_MAX_THREADS slots */
/* Each slot's kernel tid, packed (thread_slot_here scans it): 0 from the
 * slot's allocation until its thread runs. */
static int slot_tid[PSHARE_MAX_THREADS];
static int next_number = 1;
static int live_threads;

static inline struct slot *slot_at(int i) { return (struct slot *)(arena + (size_t)i * SLOT_SIZE); }
static inline char *slot_fp(struct slot *s) { return (char *)s + SLOT_HDR; }
static inline char *slot_start_top(struct slot *s) { return (char *)s + SLOT_HDR + SLOT_FP + SLOT_START; }
static inline char *slot_alt(struct slot *s) { return slot_start_top(s); }

static struct slot *slot_self(void)
{
    uintptr_t sp = (uintptr_t)sp_now(), base = (uintptr_t)arena;
    if (sp < base || sp >= base + (uintptr_t)PSHARE_MAX_THREADS * SLOT_SIZE)
        return 0;
    return slot_at((sp - base) / SLOT_SIZE);
}

static struct slot *slot_alloc(void)
{
    for (int i = 1; i < PSHARE_MAX_THREADS; i++) {
        struct slot *s = slot_at(i);
        int free = 0;
        if (atomic_cas(&s->ktid, &free, -1)) {
            __atomic_store_n(&slot_tid[i], 0, __ATOMIC_RELEASE);
            return s;
        }
    }
    return 0;
}

static long set_altstack(struct slot *s)
{
    struct kstack ss = { slot_alt(s), 0, 0, SLOT_ALTSTACK };
    return sys2(PSHARE_NR_sigaltstack, &ss, 0);
}

long threads_init(void)
{
    long p = sys6(PSHARE_NR_mmap, 0, (size_t)PSHARE_MAX_THREADS * SLOT_SIZE, K_PROT_READ | K_PROT_WRITE,
                  K_MAP_PRIVATE | K_MAP_ANONYMOUS | K_MAP_NORESERVE, -1, 0);
    if (IS_ERR(p))
        return p;
    arena = (char *)p;
    rt_private(arena, (size_t)PSHARE_MAX_THREADS * SLOT_SIZE);
    struct slot *main_slot = slot_at(0);
    main_slot->tid = main_slot->ktid = sys0(PSHARE_NR_gettid);
    slot_tid[0] = main_slot->tid;
    main_slot->is_thread = 1;
    main_slot->app_ss.ss_flags = K_SS_DISABLE;
    atomic_store(&rt.ctl->threads_started, rt.is_home);   /* elsewhere it is the control thread */
    atomic_store(&rt.ctl->threads_peak, rt.is_home);
    atomic_store(&live_threads, rt.is_home);              /* app threads alive here */
    return set_altstack(main_slot);
}

void *slot_altstack_top_main(void)
{
    return slot_start_top(slot_at(0));
}

int thread_number(void)
{
    struct slot *s = slot_self();
    return s ? s->number : -1;
}

struct kstack *thread_app_altstack(void)
{
    struct slot *s = slot_self();
    return s ? &s->app_ss : 0;
}

/* Size of a signal frame's FPU state: the xsave size when the kernel says so. */
static size_t fpstate_size(const void *fp)
{
    const uint32_t *sw = (const uint32_t *)((const char *)fp + 464);   /* sw_reserved */
    if (sw[0] == FP_XSTATE_MAGIC1)
        return sw[1];                                                  /* extended_size */
    return 512;
}

/* The child's first code: runs on the slot's start stack, never returns. */
static void thread_start(void *arg)
{
    struct slot *s = arg;
    s->tid = sys0(PSHARE_NR_gettid);
    __atomic_store_n(&slot_tid[((char *)s - arena) / SLOT_SIZE], s->tid, __ATOMIC_RELEASE);
    if (s->is_thread) {
        if (IS_ERR(sud_arm()))
            rt_fail("cannot arm Syscall User Dispatch in a new thread");
        if (s->app_settid)
            *s->app_settid = s->tid;
        STAT_ADD(threads_started, 1);
        uint64_t live = atomic_add(&live_threads, 1) + 1;
        if (live > atomic_load(&rt.ctl->threads_peak))
            atomic_store(&rt.ctl->threads_peak, live);
    } else {
        fds_child(0);            /* a process (posix_spawn): the app's own fd limit */
        /* It shares the app's memory, so a page it touches may be on another
         * rank: its faults go to the agent through this slot, by the
         * runtime's handlers, which the child must not reset (glibc's
         * posix_spawn and Python's vfork reset every handler they see):
         * its calls are trapped until its execve, which ends the dispatch
         * (dispatch.c run_child_process). */
        if (rt.dsm && IS_ERR(sud_arm()))
            rt_fail("cannot arm Syscall User Dispatch in a child process");
    }
    pshare_sigreturn_to(&s->frame);
}

/*
 * A fork-like child (no CLONE_VM) gets a copy of the address space, but the
 * store is MAP_SHARED: the child copies every region into private memory
 * before it returns to the app.  For that copy to be the snapshot a fork
 * takes, nothing may write meanwhile: the other threads of this rank are
 * parked (signal 64, queued; SA_RESTART restarts the calls it interrupts),
 * and the caller waits on a gate in the (shared)
 * control block until the child is done.
 */
#define PARK_MAGIC 0x7073686bL
static int fork_lock;
static uint32_t world_stopped;
static uint32_t parked;

static void park_now(void)
{
    __atomic_fetch_add(&parked, 1, __ATOMIC_SEQ_CST);
    sys6(PSHARE_NR_futex, &parked, K_FUTEX_WAKE | K_FUTEX_PRIVATE, 1, 0, 0, 0);
    while (__atomic_load_n(&world_stopped, __ATOMIC_ACQUIRE))
        sys4(PSHARE_NR_futex, &world_stopped, K_FUTEX_WAIT | K_FUTEX_PRIVATE, 1, 0);
    __atomic_fetch_sub(&parked, 1, __ATOMIC_SEQ_CST);
}

/* Signal 64 also carries a signal for the thread to queue to itself, as a
 * tgkill from home's pid would (control.c's tgkill_local), or as the kernel
 * raised it for a call the thread's executor ran (SI_USER, sigcarry.c): the
 * kernel lets only a thread itself queue SI_TKILL or SI_USER with a pid of
 * our choosing. */
#define FORWARD_MAGIC 0x7073660000000000L
#define FORWARD_MASK 0xffffff0000000000L

long thread_forward_signal(int tid, long sig, int shape)
{
    struct ksiginfo info;
    memset(&info, 0, sizeof info);
    info.si_signo = K_SIGPARK;
    info.si_code = -1;                           /* SI_QUEUE: any thread may */
    long value = FORWARD_MAGIC | (long)shape << 8 | sig;
    memcpy(info.u.raw + 8, &value, sizeof value);
    return sys4(PSHARE_NR_rt_tgsigqueueinfo, sys0(PSHARE_NR_getpid), tid, K_SIGPARK, &info);
}

static void queue_forwarded(long sig, int shape)
{
    struct ksiginfo info;
    memset(&info, 0, sizeof info);
    info.si_signo = (int)sig;
    info.si_code = shape == PSHARE_SIG_USER ? 0 /* SI_USER */ : -6 /* SI_TKILL */;
    info.u.kill.pid = rt.ctl->home_pid;
    info.u.kill.uid = (unsigned)sys0(PSHARE_NR_getuid);
    sys4(PSHARE_NR_rt_tgsigqueueinfo, sys0(PSHARE_NR_getpid), sys0(PSHARE_NR_gettid), sig, &info);
    sigwait_signalled(thread_slot_index(), (int)sig);    /* a wait for it at home ends */
}

void thread_park(const struct ksiginfo *si)
{
    if (sigcarry_timer_fired(si))
        return;                                  /* an executor's: a timer of its thread */
    long value;
    memcpy(&value, si->u.raw + 8, sizeof value);
    if (si->si_code == -1 && (value & FORWARD_MASK) == FORWARD_MAGIC) {
        queue_forwarded(value & 0xff, (int)((value >> 8) & 0xff));
        return;
    }
    if (si->si_code != -1 /* SI_QUEUE */ || value != PARK_MAGIC)
        return;
    struct slot *s = slot_self();
    if (s && s->busy) {
        /* a page or call in flight: the agent may need it to finish (the
         * forked child can fault on the same page), so park right after */
        s->park_pending = 1;
        return;
    }
    park_now();
}

/* Around every request to the agent (chan.c): see thread_park. */
void thread_busy(int on)
{
    struct slot *s = slot_self();
    if (!s)
        return;
    s->busy += on ? 1 : -1;
    if (!s->busy && s->park_pending) {
        s->park_pending = 0;
        if (__atomic_load_n(&world_stopped, __ATOMIC_ACQUIRE))
            park_now();
    }
}

static void stop_world(struct slot *self)
{
    int signalled[PSHARE_MAX_THREADS];      /* on the slot stack: our bss stays tiny */
    int n = 0, pid = sys0(PSHARE_NR_getpid);
    __atomic_store_n(&world_stopped, 1, __ATOMIC_SEQ_CST);
    for (int i = 0; i < PSHARE_MAX_THREADS; i++) {
        struct slot *s = slot_at(i);
        if (s == self || !s->is_thread || atomic_load(&s->ktid) == 0)
            continue;                        /* ktid: -1 or a tid while in use */
        struct ksiginfo info;
        memset(&info, 0, sizeof info);
        info.si_signo = K_SIGPARK;
        info.si_code = -1;
        long value = PARK_MAGIC;
        memcpy(info.u.raw + 8, &value, sizeof value);
        if (!IS_ERR(sys4(PSHARE_NR_rt_tgsigqueueinfo, pid, s->tid, K_SIGPARK, &info)))
            signalled[n++] = i;
    }
    for (;;) {
        int alive = 0;              /* a thread may exit before it parks */
        for (int j = 0; j < n; j++)
            alive += atomic_load(&slot_at(signalled[j])->ktid) != 0;
        uint32_t p = __atomic_load_n(&parked, __ATOMIC_SEQ_CST);
        if ((int)p >= alive)
            return;
        struct kts tick = { 0, 1000000 };
        sys4(PSHARE_NR_futex, &parked, K_FUTEX_WAIT | K_FUTEX_PRIVATE, p, &tick);
    }
}

static void start_world(void)
{
    __atomic_store_n(&world_stopped, 0, __ATOMIC_SEQ_CST);
    sys3(PSHARE_NR_futex, &world_stopped, K_FUTEX_WAKE | K_FUTEX_PRIVATE, 0x7fffffff);
}

static long clone_process(struct kucontext *uc, unsigned long flags, uintptr_t newsp,
                          int *ptid, int *ctid, unsigned long tls, const void *fp, size_t fpsize)
{
    unsigned long kflags = flags & ~(unsigned long)(K_CLONE_CHILD_SETTID | K_CLONE_CHILD_CLEARTID);
    uint32_t *gate = &rt.ctl->fork_gate;
    rt_lock(&fork_lock);
    stop_world(slot_self());
    atomic_store(gate, 0);
    if (rt.dsm)
        dsm_lock();                     /* the engine looks at the pause under it */
    uffd_pause(1);                      /* until the child has its copy: uffd.c */
    if (rt.dsm)
        dsm_unlock();
    long ret = pshare_clone(kflags, 0, ptid, 0, tls, 0, 0);
    if (ret != 0) {
        while (!IS_ERR(ret) && !atomic_load(gate))
            sys4(PSHARE_NR_futex, gate, K_FUTEX_WAIT, 0, 0);
        uffd_pause(0);
        start_world();
        rt_unlock(&fork_lock);
        return ret;
    }
    mem_privatize();
    atomic_store(gate, 1);
    sys3(PSHARE_NR_futex, gate, K_FUTEX_WAKE, 1);
    rt_detach();
    int tid = sys0(PSHARE_NR_gettid);
    if (flags & K_CLONE_CHILD_SETTID)
        *ctid = tid;
    if (flags & K_CLONE_CHILD_CLEARTID)
        sys1(PSHARE_NR_set_tid_address, ctid);
    if (newsp)
        uc->uc_mcontext.rsp = newsp;
    fork_lock = 0;               /* the child's own copy */
    if (fp) {
        /* started for a thread of another rank: become it, in this process */
        struct slot *s = slot_self();
        s->pretcode = (uint64_t)pshare_restore_rt;
        s->frame = *uc;
        s->frame.uc_mcontext.rax = 0;
        s->frame.uc_stack.ss_flags = K_SS_DISABLE;
        s->frame.uc_stack.ss_sp = 0;
        s->frame.uc_stack.ss_size = 0;
        s->frame.uc_mcontext.fpstate = 0;
        if (fpsize && fpsize <= SLOT_FP) {
            memcpy(slot_fp(s), fp, fpsize);
            s->frame.uc_mcontext.fpstate = slot_fp(s);
        }
        pshare_sigreturn_to(&s->frame);
    }
    return 0;
}

int thread_slot_index(void)
{
    struct slot *s = slot_self();
    return s ? (int)(((char *)s - arena) / SLOT_SIZE) : -1;
}

/* The calling app thread's slot where its stack does not say it (runtime
 * code the app called, on the app's stack: barrier.c): by its kernel tid;
 * -1 for a thread the runtime does not know.  A slot whose thread ended
 * (ktid 0) or has not run yet (its slot_tid 0) does not match. */
int thread_slot_here(void)
{
    int tid = (int)sys0(PSHARE_NR_gettid);
    for (int i = 0; i < PSHARE_MAX_THREADS; i++)
        if (__atomic_load_n(&slot_tid[i], __ATOMIC_ACQUIRE) == tid && atomic_load(&slot_at(i)->ktid))
            return i;
    return -1;
}

long thread_cluster_tid(void)
{
    struct slot *s = slot_self();
    return s->cluster ? s->cluster : s->tid;
}

size_t *thread_bounce(void)
{
    return &slot_self()->bounce;
}

struct trap *thread_trap(void)
{
    struct slot *s = slot_self();
    return s ? &s->trap : 0;
}

void thread_mark_executor(int slot, long tid)
{
    slot_at(slot)->is_executor = 1;
    slot_at(slot)->cluster = tid;
}

/* A process the app started that shares our memory (vfork, posix_spawn)
 * until its execve. */
int thread_is_child_process(void)
{
    struct slot *s = slot_self();
    return s && s->is_process;
}

/* An app thread (main or one it made here), not the runtime's own nor a
 * process the app spawned sharing our memory. */
int thread_is_app(void)
{
    struct slot *s = slot_self();
    return s && s->is_thread;
}

int thread_slot_is_executor(int slot)
{
    return slot_at(slot)->is_executor;
}

int thread_slot_tid(int slot)
{
    return slot_at(slot)->tid;
}

int thread_slot_of_tid(long tid)
{
    for (int i = 0; i < PSHARE_MAX_THREADS; i++) {
        struct slot *s = slot_at(i);
        if (atomic_load(&s->ktid) && (s->cluster ? s->cluster : s->tid) == tid)
            return i;
    }
    return -1;
}

/* The kernel tids of this rank's runtime threads (the control thread; not
 * the executors, which stand for the app's threads elsewhere): up to max
 * of them into out, how many there are. */
int thread_runtime_tids(long *out, int max)
{
    int n = 0;
    for (int i = 0; i < PSHARE_MAX_THREADS; i++) {
        struct slot *s = slot_at(i);
        if (!atomic_load(&s->ktid) || s->is_thread || s->is_executor || s->is_process || !s->tid)
            continue;
        if (n < max)
            out[n] = s->tid;
        n++;
    }
    return n;
}

/* The slot of the app's thread of this rank whose cluster tid is `tid`, or
 * -1.  Never a runtime thread: elsewhere their tids are this host's, which
 * may be another host's cluster tid. */
int thread_app_slot_of_tid(long tid)
{
    for (int i = 0; i < PSHARE_MAX_THREADS; i++) {
        struct slot *s = slot_at(i);
        if (!atomic_load(&s->ktid) || !s->is_thread || s->is_executor)
            continue;
        if (rt.is_home ? (!s->cluster && s->tid == tid) : s->cluster == tid)
            return i;
    }
    return -1;
}

/* A thread's start frame for the wire: the ucontext, then the FPU state;
 * 0 when the FPU state does not fit a slot (the clone fails with ENOMEM,
 * the kernel's answer when it cannot allocate a task's FPU state: a thread
 * never starts with its state dropped). */
size_t thread_frame_pack(const struct kucontext *uc, uint8_t *out, size_t cap)
{
    const void *fp = uc->uc_mcontext.fpstate;
    uint32_t fpsize = fp ? fpstate_size(fp) : 0;
    if (sizeof *uc + 4 + fpsize > cap || fpsize > SLOT_FP)
        return 0;
    memcpy(out, uc, sizeof *uc);
    memcpy(out + sizeof *uc, &fpsize, 4);
    if (fpsize)
        memcpy(out + sizeof *uc + 4, fp, fpsize);
    return sizeof *uc + 4 + fpsize;
}

/* Start a task in a new slot from a register frame (ours or one that came
 * from another rank): a thread, or a CLONE_VM child process. */
long thread_spawn_local(const struct kucontext *uc, const void *fp, size_t fpsize,
                        unsigned long flags, int *ptid, int *ctid, unsigned long tls, long cluster,
                        int *parent_settid)
{
    if (fp && fpsize > SLOT_FP)
        return -E_NOMEM;                       /* see thread_frame_pack */
    struct slot *s = slot_alloc();
    if (!s)
        return -E_AGAIN;
    s->is_thread = (flags & K_CLONE_THREAD) != 0;
    s->is_executor = 0;
    s->is_process = !s->is_thread;
    s->cluster = cluster;
    s->bounce = 0;
    s->trap = (struct trap){ 0 };
    s->app_ctid = (flags & K_CLONE_CHILD_CLEARTID) ? ctid : 0;
    s->app_settid = (flags & K_CLONE_CHILD_SETTID) ? ctid : 0;
    s->parent_settid = parent_settid;
    s->app_ss.ss_sp = 0;
    s->app_ss.ss_size = 0;
    s->app_ss.ss_flags = K_SS_DISABLE;
    if (s->is_thread)
        s->number = atomic_add(&next_number, 1);

    s->pretcode = (uint64_t)pshare_restore_rt;
    s->frame = *uc;
    s->frame.uc_link = 0;
    s->frame.uc_mcontext.rax = 0;
    s->frame.uc_stack.ss_sp = slot_alt(s);      /* a child process faults in pages too */
    s->frame.uc_stack.ss_size = SLOT_ALTSTACK;
    s->frame.uc_stack.ss_flags = 0;
    if (fp && fpsize) {
        memcpy(slot_fp(s), fp, fpsize);
        s->frame.uc_mcontext.fpstate = slot_fp(s);
    } else {
        s->frame.uc_mcontext.fpstate = 0;      /* the parent had no FPU state */
    }

    unsigned long kflags = (flags & ~(unsigned long)(K_CLONE_CHILD_SETTID | K_CLONE_CHILD_CLEARTID))
                           | K_CLONE_CHILD_CLEARTID;
    long ret = pshare_clone(kflags, slot_start_top(s), ptid, &s->ktid, tls, thread_start, s);
    if (IS_ERR(ret))
        atomic_store(&s->ktid, 0);
    return ret;
}

long thread_clone(struct kucontext *uc, unsigned long flags, uintptr_t newsp,
                  int *ptid, int *ctid, unsigned long tls)
{
    if (!(flags & K_CLONE_VM))
        return clone_process(uc, flags, newsp, ptid, ctid, tls, 0, 0);   /* keeps its own FPU */
    struct kucontext frame = *uc;
    if (newsp)
        frame.uc_mcontext.rsp = newsp;
    const void *fp = uc->uc_mcontext.fpstate;
    return thread_spawn_local(&frame, fp, fp ? fpstate_size(fp) : 0, flags, ptid, ctid, tls, 0, 0);
}

/* Home's executor starts a process for a thread of another rank, from that
 * thread's registers: the child runs here, where the job's fds are. */
long thread_start_process(const struct kucontext *uc, const void *fp, size_t fpsize,
                          unsigned long flags, int *ctid, unsigned long tls)
{
    if (flags & K_CLONE_VM)
        return thread_spawn_local(uc, fp, fpsize, flags, 0, ctid, tls, 0, 0);
    if (fp && fpsize > SLOT_FP)
        return -E_NOMEM;
    struct kucontext frame = *uc;
    return clone_process(&frame, flags, 0, 0, ctid, tls, fp ? fp : (const void *)1, fp ? fpsize : 0);
}

/* A thread of the runtime itself (control thread, executors): runs fn on
 * its slot's signal stack with the app's signals blocked, never app code. */
struct rt_thread_start { void (*fn)(void *); void *arg; };

/* Runtime threads never run the app's handlers. */
void block_app_signals(void)
{
    uint64_t mask = ~(RT_RESERVED_SIGS | SIGBIT(K_SIGKILL) | SIGBIT(19));
    sys4(PSHARE_NR_rt_sigprocmask, K_SIG_SETMASK, &mask, 0, 8);
}

static void runtime_thread_start(void *arg)
{
    struct slot *s = slot_self();
    s->tid = sys0(PSHARE_NR_gettid);
    set_altstack(s);
    block_app_signals();
    struct rt_thread_start *st = arg;
    st->fn(st->arg);
    for (;;)
        sys1(PSHARE_NR_exit, 0);
}

long runtime_thread(void (*fn)(void *), void *arg, int *slot_out)
{
    struct slot *s = slot_alloc();
    if (!s)
        return -E_AGAIN;
    s->is_thread = 0;
    s->is_executor = 0;
    s->is_process = 0;
    s->cluster = 0;
    s->bounce = 0;
    s->trap = (struct trap){ 0 };
    s->number = -1;
    /* the start record sits in the slot: the parent may return at once */
    struct rt_thread_start *st = (struct rt_thread_start *)slot_fp(s);
    st->fn = fn;
    st->arg = arg;
    *slot_out = (int)(((char *)s - arena) / SLOT_SIZE);
    unsigned long flags = K_CLONE_VM | 0x200 /* FS */ | 0x400 /* FILES */ | 0x800 /* SIGHAND */ |
                          K_CLONE_THREAD | 0x40000 /* SYSVSEM */ | K_CLONE_CHILD_CLEARTID;
    long ret = pshare_clone(flags, slot_start_top(s) + SLOT_ALTSTACK, 0, &s->ktid, 0,
                            runtime_thread_start, st);
    if (IS_ERR(ret))
        atomic_store(&s->ktid, 0);
    return ret;
}

void thread_exit(long code)
{
    struct slot *s = slot_self();
    if (s && s->app_ctid) {
        atomic_store(s->app_ctid, 0);
        sys3(PSHARE_NR_futex, s->app_ctid, K_FUTEX_WAKE, 1);
    }
    if (s && s->is_thread) {
        STAT_ADD(threads_exited, 1);
        atomic_add(&live_threads, -1);
    }
    for (;;)
        sys1(PSHARE_NR_exit, code);
}

int *thread_app_ctid(void)
{
    return slot_self()->app_ctid;
}

/* Before this thread clears its tid at its end: a parent on another rank
 * writes the tid into the same word after it hears the thread started (its
 * clone returns then), and a thread that ends sooner would have its clear
 * overwritten, and pthread_join wait for ever (a thread that returns at
 * once, 1 run in 12 of short_threads.c at 3 ranks).  The kernel writes
 * the parent's word before the child runs; here the child waits for it. */
void thread_await_parent_settid(void)
{
    struct slot *s = slot_self();
    int *word = s->parent_settid;
    if (!word || word != s->app_ctid)
        return;
    int want = (int)thread_cluster_tid();
    while (__atomic_load_n(word, __ATOMIC_SEQ_CST) != want) {
        struct kts pause = { 0, 50000 };
        sys2(PSHARE_NR_nanosleep, &pause, 0);
    }
    s->parent_settid = 0;
}

void thread_clear_app_ctid(void)
{
    slot_self()->app_ctid = 0;
}

long thread_set_tid_address(int *ctid)
{
    struct slot *s = slot_self();
    if (!s || s->number == 0)
        return sys1(PSHARE_NR_set_tid_address, ctid);   /* main: the kernel's own */
    s->app_ctid = ctid;
    return s->tid;
}
