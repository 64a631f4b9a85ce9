/*
 * dispatch.c - the SIGSYS handler: every app syscall arrives here.
 *
 * The kernel stops the syscall, rolls rax back to the syscall number, and
 * delivers SIGSYS on the thread's slot stack.  We look the number up in the
 * generated table (syscalls.tbl), run the call the way its class says, put
 * the result in the saved rax and return: rt_sigreturn resumes the app after
 * its syscall instruction as if the kernel had run it.
 *
 *   INVALID  unknown number             -ENOSYS
 *   THREAD   clone, exit, rseq, ...     emulated (threads.c)
 *   GLOBAL   mmap family, rt_sigaction  the region table / signal view
 *   LOCAL    on this rank               executed here
 *   HOME     one OS for the whole job   executed on home (here, on rank 0)
 *
 * The app's signal mask is in force while a call runs here (SA_NODEFER, empty
 * sa_mask), so a blocking call can be interrupted by the app's handlers and
 * SA_RESTART restarts it, as natively.
 */
#include "rt.h"

static long run_thread_class(unsigned long nr, const long *a, struct kucontext *uc)
{
    switch (nr) {
    case PSHARE_NR_clone:
        return thread_clone(uc, a[0], a[1], (int *)a[2], (int *)a[3], a[4]);
    case PSHARE_NR_clone3:
        return -E_NOSYS;               /* glibc falls back to clone */
    case PSHARE_NR_rseq:
        return -E_NOSYS;               /* the kernel must not write shared memory behind the DSM */
    case PSHARE_NR_exit:
        thread_exit(a[0]);
    case PSHARE_NR_set_tid_address:
        return thread_set_tid_address((int *)a[0]);
    default:
        return sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    }
}

static long run_global_class(unsigned long nr, const long *a)
{
    switch (nr) {
    case PSHARE_NR_mmap:
        return mem_mmap(a[0], a[1], a[2], a[3], a[4], a[5]);
    case PSHARE_NR_munmap:
        return mem_munmap(a[0], a[1]);
    case PSHARE_NR_mremap:
        return mem_mremap(a[0], a[1], a[2], a[3], a[4]);
    case PSHARE_NR_mprotect:
        return mem_mprotect(a[0], a[1], a[2]);
    case PSHARE_NR_madvise:
        return mem_madvise(a[0], a[1], a[2]);
    case PSHARE_NR_brk:
        return mem_brk(a[0]);
    case PSHARE_NR_rt_sigaction:
        return sig_action(a[0], (const struct ksigaction *)a[1], (struct ksigaction *)a[2], a[3]);
    default:
        return sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    }
}

static long run_local_class(unsigned long nr, const long *a, struct kucontext *uc)
{
    switch (nr) {
    case PSHARE_NR_rt_sigprocmask:
        return sig_procmask(uc, a[0], (const uint64_t *)a[1], (uint64_t *)a[2], a[3]);
    case PSHARE_NR_rt_sigsuspend:
        return sig_suspend((const uint64_t *)a[0], a[1]);
    case PSHARE_NR_sigaltstack:
        return sig_altstack((const struct kstack *)a[0], (struct kstack *)a[1]);
    case PSHARE_NR_rt_sigreturn:
        /* Every handler the app installs returns through our restorer. */
        rt_fail("rt_sigreturn from an unknown restorer");
    default:
        return sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    }
}

static long run_home_class(unsigned long nr, const long *a, struct kucontext *uc)
{
    switch (nr) {
    case PSHARE_NR_fork:
        return thread_clone(uc, 17 /* SIGCHLD */, 0, 0, 0, 0);
    case PSHARE_NR_vfork:
        return thread_clone(uc, K_CLONE_VM | K_CLONE_VFORK | 17, 0, 0, 0, 0);
    }
    return fd_exec(nr, a);
}

/* ---- more than one rank ---- */

/* clone: the agent places the new thread (or, for a process started from a
 * rank other than home, has home's executor of this thread start it there,
 * where the job's fds are). */
static long spread_clone(struct kucontext *uc, unsigned long flags, uintptr_t newsp,
                         int *ptid, int *ctid, unsigned long tls)
{
    int is_thread = (flags & (K_CLONE_VM | K_CLONE_THREAD)) == (K_CLONE_VM | K_CLONE_THREAD);
    if (!is_thread && rt.is_home)
        return thread_clone(uc, flags, newsp, ptid, ctid, tls);
    int slot = thread_slot_index();
    struct pshare_mbox *box = chan_box(slot);
    struct kucontext frame = *uc;
    if (newsp)
        frame.uc_mcontext.rsp = newsp;
    uint64_t mask = chan_enter();
    box->len = thread_frame_pack(&frame, box->data, FWD_CAP);
    if (!box->len) {
        chan_leave(mask);
        return -E_NOMEM;                /* the FPU state does not fit: never dropped */
    }
    box->a[0] = flags;
    box->a[1] = tls;
    box->a[2] = (long)ctid;
    box->a[3] = (long)ptid;
    box->a[4] = newsp;
    long r = chan_call(slot, RQ_SPAWN);
    int here = box->a[1] == 1;
    chan_leave(mask);
    if (here)                          /* placed here: start it ourselves */
        return thread_clone(uc, flags, newsp, ptid, ctid, tls);
    if (!IS_ERR(r) && (flags & K_CLONE_PARENT_SETTID) && ptid)
        *ptid = r;
    return r;
}

__attribute__((noreturn)) static void spread_exit(long code)
{
    int *ctid = thread_app_ctid();
    if (ctid) {
        /* the kernel's clear-tid, done through the DSM (after the parent's
         * set-tid: threads.c); the wake on home */
        thread_await_parent_settid();
        __atomic_store_n(ctid, 0, __ATOMIC_SEQ_CST);
        long wake[6] = { (long)ctid, K_FUTEX_WAKE, 1, 0, 0, 0 };
        if (rt.is_home)
            run_here(PSHARE_NR_futex, wake);
        else
            run_forwarded(PSHARE_NR_futex, wake, 0);
        thread_clear_app_ctid();
    }
    if (!rt.is_home) {
        int slot = thread_slot_index();
        chan_enter();                   /* for good: the thread ends */
        chan_box(slot)->a[0] = thread_cluster_tid();
        chan_call(slot, RQ_THREAD_EXIT);
    }
    thread_exit(code);
}

/* Before an munmap of shared memory: a file's pages other ranks hold come
 * home (memory.c's mem_pull_shared), where home's executor of this thread
 * runs an msync of the range for it (not counted as the app's call). */
static void pull_home(const long *a, struct kucontext *uc)
{
    if (rt.is_home) {
        mem_pull_before(PSHARE_NR_munmap, a);
        return;
    }
    struct trap *t = thread_trap();
    int counted = t ? t->forwarded : 0;
    if (t)
        t->forwarded = 1;
    long ms[6] = { a[0], a[1], K_MS_ASYNC };
    run_forwarded(PSHARE_NR_msync, ms, uc);
    if (t)
        t->forwarded = counted;
}

/* mremap as new mapping + copy + unmap, each one a global operation (not
 * of shared memory: a copy would not be shared, README). */
static long spread_mremap(const long *a)
{
    uintptr_t old = a[0];
    size_t oldlen = PAGE_UP(a[1]), newlen = PAGE_UP(a[2]);
    int flags = a[3];
    int prot = mem_prot_of(old);
    if (prot < 0 || oldlen == 0 || (old & (PAGE_SIZE - 1)) || mem_shared_kind(old, oldlen))
        return -E_INVAL;
    if (!(flags & K_MREMAP_FIXED) && newlen <= oldlen) {
        if (newlen < oldlen) {
            long um[6] = { (long)(old + newlen), (long)(oldlen - newlen) };
            run_global(PSHARE_NR_munmap, um);
        }
        return old;
    }
    if (!(flags & K_MREMAP_MAYMOVE)) {
        long mm[6] = { (long)(old + oldlen), (long)(newlen - oldlen), prot,
                       K_MAP_PRIVATE | K_MAP_ANONYMOUS | K_MAP_FIXED_NOREPLACE, -1, 0 };
        long r = run_global(PSHARE_NR_mmap, mm);
        return IS_ERR(r) ? -E_NOMEM : (long)old;
    }
    long mm[6] = { (flags & K_MREMAP_FIXED) ? a[4] : 0, (long)newlen, K_PROT_READ | K_PROT_WRITE,
                   K_MAP_PRIVATE | K_MAP_ANONYMOUS | ((flags & K_MREMAP_FIXED) ? K_MAP_FIXED : 0), -1, 0 };
    long r = run_global(PSHARE_NR_mmap, mm);
    if (IS_ERR(r))
        return r;
    memcpy((void *)r, (void *)old, oldlen < newlen ? oldlen : newlen);
    if (prot != (K_PROT_READ | K_PROT_WRITE)) {
        long mp[6] = { r, (long)newlen, prot };
        run_global(PSHARE_NR_mprotect, mp);
    }
    long um[6] = { (long)old, (long)oldlen };
    run_global(PSHARE_NR_munmap, um);
    return r;
}

static long spread_call(unsigned long nr, const long *a, struct kucontext *uc)
{
    switch (pshare_systab[nr].cls) {
    case SYS_THREAD:
        switch (nr) {
        case PSHARE_NR_clone:
            return spread_clone(uc, a[0], a[1], (int *)a[2], (int *)a[3], a[4]);
        case PSHARE_NR_exit:
            spread_exit(a[0]);
        case PSHARE_NR_exit_group:
            if (!rt.is_home)
                return run_forwarded(nr, a, uc);
            mem_pull_before(nr, a);
            break;
        case PSHARE_NR_gettid:
            return thread_cluster_tid();
        case PSHARE_NR_tgkill:
        case PSHARE_NR_tkill:
            if (!rt.is_home)
                return run_forwarded(nr, a, uc);
            return signal_thread(nr == PSHARE_NR_tgkill ? a[1] : a[0], nr == PSHARE_NR_tgkill ? a[2] : a[1]);
        }
        return run_thread_class(nr, a, uc);
    case SYS_GLOBAL:
        if (nr == PSHARE_NR_mremap)
            return spread_mremap(a);
        if (nr == PSHARE_NR_munmap && mem_shared_kind(a[0], a[1]))
            pull_home(a, uc);
        return run_global(nr, a);
    case SYS_LOCAL:
        switch (nr) {
        case PSHARE_NR_rt_sigsuspend:
            if (!a[0] || a[1] != 8)
                return run_local_class(nr, a, uc);
            return sigsuspend_spread(*(const uint64_t *)a[0], uc);   /* here, and at home */
        case PSHARE_NR_pause:
            return sigsuspend_spread(uc->uc_sigmask, uc);
        case PSHARE_NR_rt_sigpending:
            return sigpending_spread(a, uc);     /* here's and the process's at home */
        case PSHARE_NR_rt_sigprocmask:
        case PSHARE_NR_sigaltstack:
        case PSHARE_NR_rt_sigreturn:
            return run_local_class(nr, a, uc);
        case PSHARE_NR_rt_sigtimedwait:
            return sigwait_spread(a, uc);       /* here, and at home for the process's */
        case PSHARE_NR_getcpu:
            if (cpus_cluster())
                return cpus_getcpu(a);          /* the job's CPU numbers */
            break;
        case PSHARE_NR_clock_gettime: case PSHARE_NR_clock_getres: {
            long r;
            if (cputime_clock(nr, a, &r))
                return r;                       /* the process's CPU clocks: every rank's */
            if (schedcall_names_thread(nr, a))
                return schedcall_spread(nr, a, uc);   /* a thread's: where it runs */
            break;
        }
        case PSHARE_NR_sched_setaffinity: case PSHARE_NR_sched_getaffinity:
        case PSHARE_NR_sched_setparam: case PSHARE_NR_sched_getparam:
        case PSHARE_NR_sched_setscheduler: case PSHARE_NR_sched_getscheduler:
        case PSHARE_NR_sched_rr_get_interval:
        case PSHARE_NR_sched_setattr: case PSHARE_NR_sched_getattr:
            return schedcall_spread(nr, a, uc); /* where the thread it names runs */
        case PSHARE_NR_prctl:
            /* A thread's name is its executor's on home: the one that
             * /proc/self/task/TID/comm and /proc/thread-self show (its
             * cluster tid is the executor's), and that another thread
             * renames it through.  Set here too, for this rank's kernel. */
            if (!rt.is_home && a[0] == K_PR_SET_NAME) {
                run_here(nr, a);
                return run_forwarded(nr, a, uc);
            }
            if (!rt.is_home && a[0] == K_PR_GET_NAME)
                return run_forwarded(nr, a, uc);
            break;
        }
        return run_here(nr, a);
    default:
        switch (nr) {
        case PSHARE_NR_getpid:
            return rt.ctl->home_pid;     /* one process: home's pid everywhere */
        case PSHARE_NR_fork:
            return spread_clone(uc, 17, 0, 0, 0, 0);
        case PSHARE_NR_vfork:
            return spread_clone(uc, K_CLONE_VM | K_CLONE_VFORK | 17, 0, 0, 0, 0);
        case PSHARE_NR_futex: {
            long r = futex_spread(a);      /* private wait/wake: at the page's manager */
            if (r != FUTEX_HOME)
                return r;
            break;
        }
        case PSHARE_NR_msync:
            if (rt.is_home)
                mem_pull_before(nr, a);
            break;
        case PSHARE_NR_getpriority:
        case PSHARE_NR_setpriority:
            return schedcall_spread(nr, a, uc); /* a thread's nice: where it runs */
        case PSHARE_NR_getrusage:
            if (a[0] == K_RUSAGE_THREAD)
                return run_here(nr, a);      /* the calling thread's own: where it runs */
            /* fall through */
        case PSHARE_NR_times:                /* home's, with every rank's CPU time */
            return cputime_fix(nr, a, rt.is_home ? run_here(nr, a) : run_forwarded(nr, a, uc));
        case PSHARE_NR_read: case PSHARE_NR_write: case PSHARE_NR_pread64: case PSHARE_NR_pwrite64:
        case PSHARE_NR_readv: case PSHARE_NR_writev: case PSHARE_NR_preadv: case PSHARE_NR_pwritev:
        case PSHARE_NR_preadv2: case PSHARE_NR_pwritev2:
            return run_io(nr, a, uc);          /* any size: carried a mailbox-full at a time */
        }
        return rt.is_home ? run_here(nr, a) : run_forwarded(nr, a, uc);
    }
}

/* A CLONE_VM child process (vfork, posix_spawn; threads.c thread_start):
 * a process of its own, which pshare does not spread, until its execve.
 * Its calls run here, on bounce buffers (a page it names may be on another
 * rank, brought by the runtime's fault handler as the copy touches it; its
 * execve's strings are read first: marshal.c), and the runtime's signals
 * stay the runtime's. */
static long run_child_process(unsigned long nr, const long *a, struct kucontext *uc)
{
    switch (nr) {
    case PSHARE_NR_rt_sigaction:
        return sig_action_child(a[0], (const struct ksigaction *)a[1], (struct ksigaction *)a[2], a[3]);
    case PSHARE_NR_rt_sigprocmask:
    case PSHARE_NR_rt_sigsuspend:
    case PSHARE_NR_sigaltstack:
    case PSHARE_NR_rt_sigreturn:
        return run_local_class(nr, a, uc);
    case PSHARE_NR_clone:
    case PSHARE_NR_clone3:
    case PSHARE_NR_fork:
    case PSHARE_NR_vfork:
        return -E_NOSYS;             /* see the README: not from a vfork child */
    }
    return run_here(nr, a);
}

void on_sigsys(int sig, struct ksiginfo *si, void *ctx)
{
    (void)sig;
    if (si->si_code != 2 /* SYS_USER_DISPATCH */)
        return;                      /* a SIGSYS somebody sent: not a trapped call */
    struct kucontext *uc = ctx;
    struct kmcontext *m = &uc->uc_mcontext;
    unsigned long nr = m->rax;
    long a[6] = { m->rdi, m->rsi, m->rdx, m->r10, m->r8, m->r9 };
    uint64_t t0 = rdtsc();

    if (nr >= PSHARE_NR_MAX || pshare_systab[nr].cls == SYS_INVALID) {
        STAT_ADD(syscalls_invalid, 1);
        m->rax = -E_NOSYS;
        return;
    }
    if (thread_is_child_process()) {
        long r;
        m->rax = fd_guard(nr, a, &r) ? r : run_child_process(nr, a, uc);
        return;
    }
    /* counted before: exit and exit_group do not come back.  Local until
     * its first piece goes to home (run_forwarded moves it over). */
    atomic_add(&rt.ctl->sys[nr].count, 1);
    STAT_ADD(syscalls_local, 1);

    long r;
    if (fd_guard(nr, a, &r)) {               /* the runtime's descriptors (fds.c) */
        m->rax = r;
        return;
    }
    if (nr == PSHARE_NR_prctl && rt_pdeath_call(a, &r)) {   /* the runtime's parent-death signal (init.c) */
        m->rax = r;
        return;
    }
    if (rt.dsm) {
        struct trap *t = thread_trap(), saved;
        if (t) {
            saved = *t;
            *t = (struct trap){ .nr = nr, .active = 1 };
        }
        m->rax = spread_call(nr, a, uc);
        if (t)
            *t = saved;
        atomic_add(&rt.ctl->sys[nr].cycles, rdtsc() - t0);
        return;
    }
    switch (pshare_systab[nr].cls) {
    case SYS_THREAD:
        r = run_thread_class(nr, a, uc);
        break;
    case SYS_GLOBAL:
        r = run_global_class(nr, a);
        break;
    case SYS_LOCAL:
        r = run_local_class(nr, a, uc);
        break;
    default:
        r = run_home_class(nr, a, uc);
        break;
    }
    m->rax = r;
    atomic_add(&rt.ctl->sys[nr].cycles, rdtsc() - t0);   /* rt.ctl moves in a forked child */
}
