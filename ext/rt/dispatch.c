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
    case PSHARE_NR_close:
        if (a[0] == rt.store_fd)
            return -E_BADF;            /* the page store is invisible to the app */
        break;
    case PSHARE_NR_dup2:
    case PSHARE_NR_dup3:
        if (a[1] == rt.store_fd)
            return -E_BADF;
        break;
    }
    return sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

void on_sigsys(int sig, struct ksiginfo *si, void *ctx)
{
    (void)sig;
    (void)si;
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
    atomic_add(&rt.ctl->sys[nr].count, 1);   /* before: exit and exit_group do not come back */
    STAT_ADD(syscalls_local, 1);

    long r;
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
