/*
 * sigcarry.c - signals the kernel queues at an executor, carried to its
 * thread on another rank.
 *
 * A thread elsewhere has its calls run on home by its executor, whose kernel
 * tid is the thread's cluster tid.  So the signals the kernel sends to "the
 * calling thread" or to a tid go to the executor, which blocks the app's
 * signals (it must never run an app handler): they stayed pending there for
 * ever.  Two kinds are carried to the thread, each with the siginfo the
 * thread would have had natively:
 *   - raised by the call the executor ran: SIGPIPE (a write to a pipe or
 *     socket nobody reads: EPIPE) and SIGXFSZ (past RLIMIT_FSIZE: EFBIG).
 *     After such a result the executor takes the signal (sigtimedwait, no
 *     wait) and posts it before its answer, so the thread has it queued
 *     before the call returns, as natively (SI_USER from home's pid);
 *   - a POSIX timer whose SIGEV_THREAD_ID names a thread elsewhere (and so
 *     glibc's SIGEV_THREAD timers, whose helper thread may be elsewhere):
 *     timer_create asks the kernel for signal 64 (the runtime's, never
 *     blocked) with an index into a table in the control block instead, and
 *     the executor's handler posts the expiry; the engine reads the app's
 *     signal and value from the table and the thread's control thread
 *     queues SI_TIMER with the timer's id, overrun and value.
 * Everything else the kernel could direct at an executor (F_SETOWN_EX with
 * F_OWNER_TID) is not carried: see the README's limits.
 */
#include "rt.h"

#define K_SIGPIPE 13
#define K_SIGXFSZ 25
#define E_PIPE 32
#define E_FBIG 27
#define K_SI_USER 0
#define K_SI_TIMER (-2)
#define K_SIGEV_THREAD_ID 4
/* sigev_value of a carried timer: the magic and the table index */
#define TIMER_MAGIC 0x7074690000000000L
#define TIMER_MASK 0xffffff0000000000L

struct ksigevent {
    uint64_t value;
    int32_t signo;
    int32_t notify;
    union {
        int32_t tid;                 /* SIGEV_THREAD_ID */
        char pad[48];
    } u;
};
_Static_assert(sizeof(struct ksigevent) == 64, "struct sigevent is 64 bytes on x86_64");

static int table_lock;
static int timers_carried;               /* entries in use */
static int wakes_expected;               /* a signal wait ran at an executor (sigwait.c) */

static void post_signal(int slot, int shape, int index, int sig)
{
    chan_post((uint64_t)UP_SIGNAL << 56 | (uint64_t)slot << 40 |
              (uint64_t)index << 16 | (uint64_t)shape << 8 | (uint64_t)sig);
}

/* ---- executor (home) ---- */

/* While an executor runs a call, signal 64 waits: a carried timer's or a
 * late wake-up of a signal wait (sigwait.c) would run its handler and end a
 * poll, select or sleep there with EINTR (a handler ran), though the thread
 * may block the timer's signal.  So a thread elsewhere gets a timer's
 * signal after its forwarded call, as any signal (README).  Costs nothing
 * while no timer is carried and no signal wait ran at an executor. */
void sigcarry_expect_wakes(void)
{
    atomic_store(&wakes_expected, 1);
}

uint64_t sigcarry_hold(void)
{
    uint64_t old = 0, block = SIGBIT(K_SIGPARK);
    if (atomic_load(&timers_carried) > 0 || atomic_load(&wakes_expected))
        sys4(PSHARE_NR_rt_sigprocmask, K_SIG_BLOCK, &block, &old, 8);
    else
        old = ~0ULL;                     /* nothing to restore */
    return old;
}

void sigcarry_release(uint64_t old)
{
    if (old != ~0ULL)
        sys4(PSHARE_NR_rt_sigprocmask, K_SIG_SETMASK, &old, 0, 8);
}

void sigcarry_raised(int slot, long r)
{
    int sig = r == -E_PIPE ? K_SIGPIPE : r == -E_FBIG ? K_SIGXFSZ : 0;
    if (!sig)
        return;
    uint64_t set = SIGBIT(sig);
    struct kts now = { 0, 0 };
    struct ksiginfo si;
    if (sys4(PSHARE_NR_rt_sigtimedwait, &set, &si, &now, 8) == sig)
        post_signal(slot, PSHARE_SIG_USER, 0, sig);
}

/* timer_create and timer_delete as home runs them. */
static long timer_make(long clock, const struct ksigevent *sev, int *id)
{
    if (!sev || sev->notify != K_SIGEV_THREAD_ID || sev->signo < 1 || sev->signo > 64)
        return sys3(PSHARE_NR_timer_create, clock, sev, id);
    int slot = thread_slot_of_tid(sev->u.tid);
    if (slot < 0 || !thread_slot_is_executor(slot))
        return sys3(PSHARE_NR_timer_create, clock, sev, id);   /* a thread on home */
    struct pshare_timer *t = 0;
    int index;
    rt_lock(&table_lock);
    for (index = 0; index < PSHARE_TIMERS; index++) {
        if (rt.ctl->timers[index].signo == 0) {
            t = &rt.ctl->timers[index];
            t->signo = -1;
            timers_carried++;
            break;
        }
    }
    rt_unlock(&table_lock);
    if (!t)
        return -E_AGAIN;                 /* as the kernel says when it has no room for one */
    struct ksigevent k = *sev;
    k.signo = K_SIGPARK;
    k.value = TIMER_MAGIC | (uint64_t)index;
    long r = sys3(PSHARE_NR_timer_create, clock, &k, id);
    if (IS_ERR(r)) {
        rt_lock(&table_lock);
        atomic_store(&t->signo, 0);
        timers_carried--;
        rt_unlock(&table_lock);
        return r;
    }
    t->kernel_id = *id;
    t->value = sev->value;
    t->overrun = 0;
    atomic_store(&t->signo, sev->signo);
    return r;
}

static long timer_remove(long id)
{
    long r = sys1(PSHARE_NR_timer_delete, id);
    if (IS_ERR(r))
        return r;
    rt_lock(&table_lock);
    for (int i = 0; i < PSHARE_TIMERS; i++) {
        struct pshare_timer *t = &rt.ctl->timers[i];
        if (t->signo > 0 && t->kernel_id == (int32_t)id) {
            atomic_store(&t->signo, 0);
            timers_carried--;
        }
    }
    rt_unlock(&table_lock);
    return r;
}

long sigcarry_timer_call(long nr, const long *a)
{
    if (nr == PSHARE_NR_timer_create)
        return timer_make(a[0], (const struct ksigevent *)a[1], (int *)a[2]);
    return timer_remove(a[0]);
}

/* What a thread receives from a timer's expiry. */
static struct ksiginfo timer_info(int signo, int32_t id, int32_t overrun, uint64_t value)
{
    struct ksiginfo info;
    memset(&info, 0, sizeof info);
    info.si_signo = signo;
    info.si_code = K_SI_TIMER;
    memcpy(info.u.raw, &id, 4);
    memcpy(info.u.raw + 4, &overrun, 4);
    memcpy(info.u.raw + 8, &value, 8);
    return info;
}

/* The table's entry of a carried timer's signal 64, or -1. */
static int timer_index(const struct ksiginfo *si)
{
    long value;
    memcpy(&value, si->u.raw + 8, sizeof value);
    if (si->si_code != K_SI_TIMER || (value & TIMER_MASK) != TIMER_MAGIC)
        return -1;
    int index = (int)(value & 0xffff);
    return index < PSHARE_TIMERS ? index : -1;
}

/* Signal 64 from a carried timer, in its executor: posted to the thread;
 * 1 if it was one. */
int sigcarry_timer_fired(const struct ksiginfo *si)
{
    int index = timer_index(si);
    if (index < 0)
        return 0;
    struct pshare_timer *t = &rt.ctl->timers[index];
    int signo = atomic_load(&t->signo);
    if (signo <= 0)
        return 1;                        /* deleted meanwhile */
    int32_t overrun;
    memcpy(&overrun, si->u.raw + 4, sizeof overrun);
    atomic_store(&t->overrun, overrun);
    post_signal(thread_slot_index(), PSHARE_SIG_TIMER, index, signo);
    return 1;
}

/* The same, taken by the thread's signal wait at its executor (sigwait.c):
 * when the timer's signal is one the wait takes, `out` becomes what the
 * thread would have received and the signal is returned; else it is posted
 * as above and 0 returned. */
int sigcarry_timer_take(const struct ksiginfo *si, uint64_t wanted, struct ksiginfo *out)
{
    int index = timer_index(si);
    if (index < 0)
        return 0;
    struct pshare_timer *t = &rt.ctl->timers[index];
    int signo = atomic_load(&t->signo);
    if (signo <= 0 || !(wanted & SIGBIT(signo))) {
        sigcarry_timer_fired(si);
        return 0;
    }
    int32_t overrun;
    memcpy(&overrun, si->u.raw + 4, sizeof overrun);
    *out = timer_info(signo, t->kernel_id, overrun, t->value);
    return signo;
}

/* ---- the thread's rank: its control thread (CMD_SIGNAL) ---- */

long sigcarry_deliver(const int64_t *a)
{
    long tid = a[1], sig = a[2];
    int shape = (int)a[3];
    if (shape == PSHARE_SIG_TKILL)
        return signal_thread(tid, sig);
    int slot = thread_slot_of_tid(tid);
    if (slot < 0 || thread_slot_is_executor(slot))
        return 0;                        /* the thread is gone: so is its signal */
    long r;
    if (shape == PSHARE_SIG_USER) {
        r = thread_forward_signal(thread_slot_tid(slot), sig, shape);
    } else {
        /* any thread may queue SI_TIMER (a negative code other than SI_TKILL) */
        struct ksiginfo info = timer_info((int)sig, (int32_t)a[4], (int32_t)a[5], (uint64_t)a[6]);
        r = sys4(PSHARE_NR_rt_tgsigqueueinfo, sys0(PSHARE_NR_getpid), thread_slot_tid(slot), sig,
                 &info);
        sigwait_signalled(slot, (int)sig);   /* a wait for it at home ends */
    }
    futex_signalled(slot);               /* a futex wait looks at its signals now */
    return r;
}
