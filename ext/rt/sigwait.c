/*
 * sigwait.c - a thread on another rank waiting for signals waits at home
 * too: sigwait, sigwaitinfo, sigtimedwait (rt_sigtimedwait), and sigsuspend
 * and pause (rt_sigsuspend, pause), which wait for a handler to run.
 *
 * A signal sent to the process (kill, sigqueue, the launcher's SIGTERM)
 * goes to home's process, where the kernel gives it to a thread that does
 * not block it.  The common "one thread takes the signals" design blocks
 * them in every thread and has one call sigwait: when that thread is
 * elsewhere the signal stayed pending at home for ever, and a SIGTERM never
 * ended the job.  sigsuspend and pause elsewhere likewise waited for ever
 * for a kill() that only they unblock.  Signals for the thread itself
 * (pthread_kill, its timers: sigcarry.c) are queued where it runs.  So the
 * wait has two halves:
 *   - the thread: what is queued here already (a wait that does not wait);
 *     else the call goes to its executor, marked with a number, and while
 *     it runs, a signal queued here that ends the wait (one it waits for, or
 *     one it does not block with a handler) has the agent end it
 *     (sigwait_signalled: UP_SIGWAIT_END, then EINTR, then a look here);
 *   - the executor (home): rt_sigtimedwait on the same set plus signal 64,
 *     which it holds during the call, so that the agent's wake-up (after it
 *     wrote the number in the mailbox) and a carried timer's expiry are
 *     taken by the wait rather than by a handler.  It takes what is sent to
 *     the process, as any thread of it may.
 * A suspension's executor waits for the signals the suspension would run a
 * handler for; the one it takes is queued by the thread to itself, with its
 * siginfo (a thread may queue any code to itself), and the suspension then
 * runs here and takes it at once: the handler runs in the thread, as
 * natively, and the call ends with EINTR.
 */
#include "rt.h"

struct wait {
    uint64_t set;                /* what it waits for (a suspension: what ends it) */
    uint64_t unblocked;          /* what the thread does not block: a handler ends the wait */
    uint32_t active;             /* the wait's number while it runs at home, else 0 */
    uint32_t count;
};
static struct wait waits[PSHARE_MAX_THREADS];

/* ---- the thread (not on home) ---- */

/* The calling thread's wait starts: what ends it (sigwait_signalled), and
 * its number, set before the thread looks here so that nothing slips
 * between. */
static struct wait *wait_begin(uint64_t set, uint64_t unblocked, uint32_t *number)
{
    struct wait *w = &waits[thread_slot_index()];
    *number = ++w->count ? w->count : ++w->count;
    w->set = set;
    w->unblocked = unblocked;
    atomic_store(&w->active, *number);
    return w;
}

long sigwait_spread(const long *a, struct kucontext *uc)
{
    if (rt.is_home || !a[0] || a[3] != 8)
        return run_here(PSHARE_NR_rt_sigtimedwait, a);
    uint64_t set;
    memcpy(&set, (const void *)a[0], 8);
    struct kts zero = { 0, 0 };
    long here[6] = { a[0], a[1], (long)&zero, 8, 0, 0 };
    uint32_t number;
    struct wait *w = wait_begin(set, ~uc->uc_sigmask, &number);
    long r = run_here(PSHARE_NR_rt_sigtimedwait, here);
    int poll_only = a[2] && ts_ns((const struct kts *)a[2]) == 0;
    if (r == -E_AGAIN && !poll_only) {
        long fa[6] = { a[0], a[1], a[2], 8, number, 0 };
        r = run_forwarded(PSHARE_NR_rt_sigtimedwait, fa, uc);
        if (r == -E_INTR) {
            /* ended for a signal that came here: take it, or say a handler ran */
            long again = run_here(PSHARE_NR_rt_sigtimedwait, here);
            if (again != -E_AGAIN)
                r = again;
        }
    }
    atomic_store(&w->active, 0);
    return r;
}

/* Whether a signal the thread does not block ends a suspension: any but one
 * ignored, by SIG_IGN or by default (SIGCHLD, SIGCONT, SIGURG, SIGWINCH); and
 * whether a handler runs for it (the ones its executor waits for at home: a
 * fatal one sent to the process stays there, README). */
#define DEFAULT_IGNORED (SIGBIT(17) | SIGBIT(18) | SIGBIT(23) | SIGBIT(28))

static void suspension_sets(uint64_t mask, uint64_t *ends, uint64_t *handled)
{
    *ends = *handled = 0;
    for (int sig = 1; sig <= 64; sig++) {
        if ((mask | RT_RESERVED_SIGS | SIGBIT(K_SIGKILL) | SIGBIT(19)) & SIGBIT(sig))
            continue;
        struct ksigaction act;
        if (sys4(PSHARE_NR_rt_sigaction, sig, 0, &act, 8) != 0 || act.handler == K_SIG_IGN)
            continue;
        if (act.handler != K_SIG_DFL)
            *handled |= SIGBIT(sig);
        if (act.handler != K_SIG_DFL || !(DEFAULT_IGNORED & SIGBIT(sig)))
            *ends |= SIGBIT(sig);
    }
}

/* rt_sigsuspend(mask) (pause: the thread's own mask) of a thread elsewhere:
 * what is queued here ends it at once; else its executor waits at home for
 * a signal with a handler the mask lets through, and the thread queues that
 * signal to itself.  Either way the suspension itself runs here, and takes
 * the signal (its handler runs in this thread) at once.  -EINTR, always. */
long sigsuspend_spread(uint64_t mask, struct kucontext *uc)
{
    mask &= ~RT_RESERVED_SIGS;
    if (rt.is_home)
        return sys2(PSHARE_NR_rt_sigsuspend, &mask, 8);
    uint64_t ends, handled;
    suspension_sets(mask, &ends, &handled);
    uint32_t number;
    struct wait *w = wait_begin(ends, 0, &number);
    if (!(sig_pending_here() & ends)) {
        struct ksiginfo si;
        long fa[6] = { (long)&handled, (long)&si, 0, 8, number, 0 };
        long sig = run_forwarded(PSHARE_NR_rt_sigtimedwait, fa, uc);
        if (sig > 0)
            sys4(PSHARE_NR_rt_tgsigqueueinfo, sys0(PSHARE_NR_getpid), sys0(PSHARE_NR_gettid), sig,
                 &si);                    /* (runs its handler now if the thread's mask lets it) */
    }
    atomic_store(&w->active, 0);
    if (sig_pending_here() & ends)
        return sys2(PSHARE_NR_rt_sigsuspend, &mask, 8);
    return -E_INTR;                       /* the handler ran while the thread waited */
}

/* rt_sigpending of a thread elsewhere: what is queued to it here, and what
 * waits at home for the process (its executor's view there), as natively a
 * thread sees its own and its process's. */
long sigpending_spread(const long *a, struct kucontext *uc)
{
    long r = run_here(PSHARE_NR_rt_sigpending, a);   /* EFAULT, EINVAL as natively */
    uint64_t home = 0, here;
    long fa[6] = { (long)&home, 8, 0, 0, 0, 0 };
    if (r != 0 || rt.is_home || run_forwarded(PSHARE_NR_rt_sigpending, fa, uc) != 0)
        return r;
    memcpy(&here, (const void *)a[0], 8);
    here = (here | home) & ~RT_RESERVED_SIGS;
    memcpy((void *)a[0], &here, 8);
    return 0;
}

/* A signal was queued to the thread in `slot` of this rank (by the thread
 * itself, or by the control thread): if the thread's wait runs at home and
 * this signal ends it, the agent ends it. */
void sigwait_signalled(int slot, int sig)
{
    if (slot < 0 || slot >= PSHARE_MAX_THREADS || sig < 1 || sig > 64)
        return;
    struct wait *w = &waits[slot];
    uint32_t number = atomic_load(&w->active);
    if (!number)
        return;
    int ends = (w->set & SIGBIT(sig)) != 0;
    if (!ends && (w->unblocked & SIGBIT(sig))) {
        /* one it does not wait for ends the wait only if a handler runs */
        struct ksigaction act;
        ends = sys4(PSHARE_NR_rt_sigaction, sig, 0, &act, 8) == 0 &&
               act.handler != K_SIG_DFL && act.handler != K_SIG_IGN;
    }
    if (ends)
        chan_post((uint64_t)UP_SIGWAIT_END << 56 | (uint64_t)slot << 40 | number);
}

/* ---- the executor (home) ---- */

long sigwait_at_home(const long *a, int slot)
{
    struct pshare_mbox *box = chan_box(slot);
    uint32_t number = (uint32_t)a[4];
    uint64_t wanted;
    memcpy(&wanted, (const void *)a[0], 8);
    wanted &= ~RT_RESERVED_SIGS;
    uint64_t set = wanted | SIGBIT(K_SIGPARK), hold = SIGBIT(K_SIGPARK), old;
    long deadline = 0;
    struct kts left;
    if (a[2]) {
        if (!ts_valid((const struct kts *)a[2]))
            return -E_INVAL;
        deadline = clock_ns(K_CLOCK_MONOTONIC) + ts_ns((const struct kts *)a[2]);
    }
    sigcarry_expect_wakes();              /* late wake-ups: held during calls from now on */
    sys4(PSHARE_NR_rt_sigprocmask, K_SIG_BLOCK, &hold, &old, 8);
    long r;
    for (;;) {
        if (atomic_load(&box->sigwait_end) == number) {
            r = -E_INTR;                  /* a signal came to the thread */
            break;
        }
        if (a[2]) {
            long ns = deadline - clock_ns(K_CLOCK_MONOTONIC);
            left = ns_ts(ns > 0 ? ns : 0);
        }
        struct ksiginfo si;
        r = sys4(PSHARE_NR_rt_sigtimedwait, &set, &si, a[2] ? &left : 0, 8);
        if (r == K_SIGPARK) {
            r = sigcarry_timer_take(&si, wanted, &si);
            if (!r)
                continue;                 /* a wake-up, or a timer for a handler: look again */
        }
        if (r > 0 && a[1])
            memcpy((void *)a[1], &si, sizeof si);
        break;
    }
    sys4(PSHARE_NR_rt_sigprocmask, K_SIG_SETMASK, &old, 0, 8);
    return r;
}
