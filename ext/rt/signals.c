/*
 * signals.c - the runtime's two signals and the app's view of signals.
 *
 * SIGSYS (a trapped syscall), SIGSEGV (a page fault, or a DSM fault),
 * SIGBUS (a page the agent dropped: uffd.c) and signal 64 (parking threads
 * for a fork; the agent's death: init.c) belong to the runtime.  The app
 * must not be able to replace, block or ignore them, yet must see native
 * behaviour:
 *   - rt_sigaction on SIGSYS/SIGSEGV/SIGBUS is kept in a virtual table; a real
 *     fault is handed to the app's handler if it set one, else it kills the
 *     process as natively (after recording who crashed, for the launcher);
 *   - they are removed from every mask the app installs;
 *   - every handler the app installs gets our restorer, which sits in the
 *     trampoline so returning from a handler is not itself trapped;
 *   - sigaltstack is virtual: the real one is the slot's, which our handlers
 *     need because the app's stack is shared memory the DSM may take away;
 *   - the app's handlers run there too (SA_ONSTACK added, hidden from the
 *     app): the kernel writes a signal frame without faulting pages in, so
 *     a frame below the app's stack pointer on a page that is not on this
 *     rank (a stack deeper than ever before, e.g. lazy binding's xsave
 *     area) failed, and the kernel killed the thread (SIGSEGV, SI_KERNEL,
 *     address 0).
 * Our handlers run with SA_NODEFER: a SIGSYS raised while SIGSYS is blocked
 * would kill the process, and an app handler may run (and make syscalls)
 * while the runtime waits inside a blocking call.
 */
#include "rt.h"

static struct ksigaction virt[65];        /* the app's actions for SIGSYS, SIGSEGV, SIGBUS */
static void *app_restorer[65];            /* what the app asked for, reported back */
static uint64_t app_onstack;              /* signals whose handler the app put on SA_ONSTACK */
static int sig_lock;

static long install(int sig, void (*handler)(int, struct ksiginfo *, void *), long nodefer)
{
    struct ksigaction k = {
        .handler = (void *)handler,
        /* SA_RESTART: a call interrupted to park the thread for a fork goes on */
        .flags = K_SA_SIGINFO | K_SA_ONSTACK | nodefer | K_SA_RESTORER | K_SA_RESTART,
        .restorer = (void *)pshare_restore_rt,
        .mask = 0,
    };
    return sys4(PSHARE_NR_rt_sigaction, sig, &k, &virt[sig], 8);
}

static void record_crash(const struct ksiginfo *si, const struct kucontext *uc)
{
    struct pshare_crash *c = &rt.ctl->crash;
    int zero = 0;
    if (!atomic_cas(&c->state, &zero, 1))
        return;                                   /* first crash wins */
    c->signo = si->si_signo;
    c->code = si->si_code;
    c->tid = thread_cluster_tid();
    c->thread = thread_number();
    c->addr = (uint64_t)si->u.addr;
    c->ip = uc->uc_mcontext.rip;
}

#define K_BUS_ADRERR 2

/* SIGSEGV and SIGBUS: a DSM fault, else the app's. */
static void on_fault(int sig, struct ksiginfo *si, void *ctx)
{
    struct kucontext *uc = ctx;
    int write = (uc->uc_mcontext.err & 2) != 0;
    if (sig == K_SIGSEGV && si->si_code > 0 &&
        dsm_fault((uintptr_t)si->u.addr, write, uc->uc_mcontext.rip))
        return;                                   /* a page of another rank: now here */
    if (sig == K_SIGBUS && si->si_code == K_BUS_ADRERR &&
        dsm_missing((uintptr_t)si->u.addr, write, uc->uc_mcontext.rip))
        return;                                   /* a dropped or a new page: now here */
    struct ksigaction act = virt[sig];

    if (act.handler != K_SIG_DFL && act.handler != K_SIG_IGN) {
        /* The app's own handler, as the kernel would have run it. */
        if (act.flags & K_SA_RESETHAND)
            virt[sig].handler = K_SIG_DFL;
        uint64_t block = act.mask & ~RT_RESERVED_SIGS, old;
        sys4(PSHARE_NR_rt_sigprocmask, K_SIG_BLOCK, &block, &old, 8);
        if (act.flags & K_SA_SIGINFO)
            ((void (*)(int, void *, void *))act.handler)(sig, si, ctx);
        else
            ((void (*)(int))act.handler)(sig);
        sys4(PSHARE_NR_rt_sigprocmask, K_SIG_SETMASK, &old, 0, 8);
        return;
    }

    /* A real fault: die of it, as natively. */
    record_crash(si, uc);
    struct ksigaction dfl = { K_SIG_DFL, 0, 0, 0 };
    sys4(PSHARE_NR_rt_sigaction, sig, &dfl, 0, 8);
    if (si->si_code <= 0)         /* sent by kill/tgkill: re-send it; a fault re-faults */
        sys3(PSHARE_NR_tgkill, sys0(PSHARE_NR_getpid), sys0(PSHARE_NR_gettid), sig);
}

/* A real-time signal, so it queues: a SIGSYS sent to park a thread could
 * merge with the SIGSYS of a trapped syscall, and one of the two be lost.
 * It is also the app's parent-death signal (init.c). */
static void on_park(int sig, struct ksiginfo *si, void *ctx)
{
    (void)sig;
    (void)ctx;
    if (rt_is_agent_death(si))
        rt_agent_gone();
    thread_park(si);
}

long signals_init(void)
{
    long r = install(K_SIGSYS, on_sigsys, K_SA_NODEFER);
    if (!IS_ERR(r))
        r = install(K_SIGSEGV, on_fault, K_SA_NODEFER);
    if (!IS_ERR(r))
        r = install(K_SIGBUS, on_fault, K_SA_NODEFER);
    /* one at a time: signals forwarded to a thread (threads.c) come as a
     * queue of them, which nested would overrun the slot's signal stack */
    if (!IS_ERR(r))
        r = install(K_SIGPARK, on_park, 0);
    return r;
}

static int is_runtime_signal(int sig)
{
    return sig == K_SIGSYS || sig == K_SIGSEGV || sig == K_SIGBUS || sig == K_SIGPARK;
}

/* The action the kernel gets for the app's. */
static struct ksigaction kernel_action(const struct ksigaction *act)
{
    struct ksigaction k = *act;
    k.mask &= ~RT_RESERVED_SIGS;
    k.flags |= K_SA_RESTORER;               /* x86_64 requires one; ours is let through */
    k.restorer = (void *)pshare_restore_rt;
    k.flags |= K_SA_ONSTACK;                /* the frame in private memory (see top) */
    return k;
}

long sig_action(int sig, const struct ksigaction *act, struct ksigaction *oact, size_t size)
{
    if (size != 8 || sig < 1 || sig > 64)
        return sys4(PSHARE_NR_rt_sigaction, sig, act, oact, size);
    if (is_runtime_signal(sig)) {
        struct ksigaction old = virt[sig];
        if (act)
            virt[sig] = *act;
        if (oact)
            *oact = old;
        return 0;
    }
    struct ksigaction k;
    if (act)
        k = kernel_action(act);
    rt_lock(&sig_lock);
    void *old_restorer = app_restorer[sig];
    int old_onstack = (app_onstack & SIGBIT(sig)) != 0;
    long r = sys4(PSHARE_NR_rt_sigaction, sig, act ? &k : 0, oact, 8);
    if (!IS_ERR(r) && act) {
        app_restorer[sig] = (act->flags & K_SA_RESTORER) ? act->restorer : 0;
        if (act->flags & K_SA_ONSTACK)
            app_onstack |= SIGBIT(sig);
        else
            app_onstack &= ~SIGBIT(sig);
    }
    rt_unlock(&sig_lock);
    if (!IS_ERR(r) && oact && oact->restorer == (void *)pshare_restore_rt) {
        oact->restorer = old_restorer;
        if (!old_onstack)
            oact->flags &= ~K_SA_ONSTACK;
    }
    return r;
}

/* rt_sigaction in a CLONE_VM child process (dispatch.c run_child_process):
 * its actions are its own, but the tables above are the app's (shared
 * memory), so nothing is recorded.  The runtime's signals keep the
 * runtime's handlers (reported as the app's); a handler the child sets
 * returns through our restorer, as in the app. */
long sig_action_child(int sig, const struct ksigaction *act, struct ksigaction *oact, size_t size)
{
    if (size != 8 || sig < 1 || sig > 64)
        return sys4(PSHARE_NR_rt_sigaction, sig, act, oact, size);
    if (is_runtime_signal(sig)) {
        if (oact)
            *oact = virt[sig];
        return 0;
    }
    struct ksigaction k;
    if (act)
        k = kernel_action(act);
    return sys4(PSHARE_NR_rt_sigaction, sig, act ? &k : 0, oact, 8);
}

/* The mask in force after a handler returns is the one in its frame, so the
 * app's mask is changed there, not in the thread. */
long sig_procmask(struct kucontext *uc, int how, const uint64_t *set, uint64_t *oset, size_t size)
{
    if (size != 8)
        return -E_INVAL;
    uint64_t cur = uc->uc_sigmask;
    if (set) {
        uint64_t m = *set;
        switch (how) {
        case K_SIG_BLOCK:
            cur |= m;
            break;
        case K_SIG_UNBLOCK:
            cur &= ~m;
            break;
        case K_SIG_SETMASK:
            cur = m;
            break;
        default:
            return -E_INVAL;
        }
        cur &= ~(RT_RESERVED_SIGS | SIGBIT(K_SIGKILL) | SIGBIT(19 /* SIGSTOP */));
    }
    if (oset)
        *oset = uc->uc_sigmask;
    uc->uc_sigmask = cur;
    return 0;
}

/* What is pending for the calling thread in this rank's kernel: its own
 * and this process's. */
uint64_t sig_pending_here(void)
{
    uint64_t pending = 0;
    sys2(PSHARE_NR_rt_sigpending, &pending, 8);
    return pending;
}

long sig_suspend(const uint64_t *mask, size_t size)
{
    if (!mask || size != 8)
        return sys2(PSHARE_NR_rt_sigsuspend, mask, size);
    uint64_t m = *mask & ~RT_RESERVED_SIGS;
    return sys2(PSHARE_NR_rt_sigsuspend, &m, size);
}

long sig_altstack(const struct kstack *ss, struct kstack *oss)
{
    struct kstack *v = thread_app_altstack();
    if (!v)
        return -E_INVAL;
    struct kstack old = *v;
    if (ss) {
        if (ss->ss_flags & ~K_SS_DISABLE)
            return -E_INVAL;
        if (!(ss->ss_flags & K_SS_DISABLE) && ss->ss_size < 2048)
            return -E_NOMEM;
        *v = *ss;
    }
    if (oss)
        *oss = old;
    return 0;
}
