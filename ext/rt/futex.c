/*
 * futex.c - private futexes of managed memory, served by the page's manager.
 *
 * With several ranks a futex word lives on a page that moves; a wait and a
 * wake must still meet.  FUTEX_WAIT and FUTEX_WAKE (and their _BITSET forms)
 * with FUTEX_PRIVATE_FLAG on a managed page go, as RQ_FWAIT / RQ_FWAKE, to
 * the agent of the rank that manages the page (pm_manager_of), which keeps
 * the waiters (ext/agent/futexes.c): no trip to home, no page trip.  Other
 * operations, shared futexes and unmanaged memory stay on home's kernel
 * (control.c), as before; the two never meet (a documented limit).
 *
 * A wait that arrives is never late (no lost wake-up).  The kernel checks
 * the word and queues the waiter under one lock; here:
 *   - the thread reads the word while this rank holds a valid copy, and
 *     posts the wait, both under dsm_lock: the control thread cannot take
 *     the page from this rank in between (it drops pages under that lock);
 *     the engine can drop a read copy without it (uffd.c), which the drop
 *     counter below catches (the word is read without faulting, after the
 *     counter: dsm_load_word);
 *   - a waker of this rank posts its wake under dsm_lock too, after its
 *     store: if the store came first, the waiter read the new value;
 *     otherwise the wait is ahead of the wake on the up ring, and the agent
 *     sends them in that order;
 *   - a waker of another rank first had to take the page from this one:
 *     its agent adds one to the page's drop counter once the drop is
 *     applied.  The waiter read the counter with the word; its agent sends
 *     the wait only if the counter has not moved since, and then the wait
 *     goes out before the drop's answer (INV_DONE or PAGE) to the same
 *     manager, which grants the waker the page only after that answer.  If
 *     the counter moved, the thread gets a spurious wake-up (0), which every
 *     futex user must accept, and looks again.
 * The wait itself polls, then sleeps on the mailbox in slices of at most
 * 10 ms: a timeout or a signal for the thread (the app's signals stay
 * blocked meanwhile: the mailbox is in use) sends a cancel (UP_FCANCEL);
 * the manager answers it unless a wake got there first, and either way
 * exactly one answer comes.  The thread is not "busy" while it waits: a
 * fork parks it (threads.c).
 */
#include "rt.h"

#define SLICE_NS 10000000L

/* A signal the thread would take now (its own or the process's, not blocked
 * by the app's mask, not the runtime's). */
static int signal_waiting(uint64_t app_mask)
{
    return (sig_pending_here() & ~app_mask & ~RT_RESERVED_SIGS) != 0;
}

/* The up ring is nearly full: let the agent drain it (a post made under
 * dsm_lock must not wait for the agent, which may be waiting for the
 * control thread, which may be waiting for the lock). */
static void ring_pause(void)
{
    struct kts pause = { 0, 50000 };
    sys2(PSHARE_NR_nanosleep, &pause, 0);
}

static long wake(uintptr_t uaddr, long n, uint32_t bitset)
{
    int slot = thread_slot_index();
    struct pshare_mbox *box = chan_box(slot);
    uint64_t mask = chan_enter();
    thread_busy(1);
    box->a[0] = (long)uaddr;
    box->a[1] = n;
    box->a[2] = bitset;
    box->len = 0;
    for (;;) {
        dsm_lock();
        if (chan_room())
            break;
        dsm_unlock();
        ring_pause();
    }
    /* the word as this waker left it: 0 says a lock was released, and its
     * manager sends the page along with the wake (the engine's on_fwake) */
    uint32_t word;
    box->a[3] = dsm_readable(uaddr) > 0 && dsm_load_word(uaddr, &word) == 0 ? (long)word : -1;
    chan_send(slot, RQ_FWAKE);
    dsm_unlock();
    long r = chan_finish(slot);
    thread_busy(0);
    chan_leave(mask);
    return r;
}

/* deadline_ns < 0: none; clk: its clock. */
static long wait(uintptr_t uaddr, uint32_t expected, uint32_t bitset, long deadline_ns, int clk)
{
    int slot = thread_slot_index();
    struct pshare_mbox *box = chan_box(slot);
    uint64_t mask = chan_enter();
    /* the word is read and the wait posted in one hold of the lock; the drop
     * counter before the word: the engine drops a copy by punching it, not
     * under the lock (uffd.c), and counts the drop after it, so a word read
     * from a copy dropped since shows as a moved counter */
    uint32_t seen, drops;
    for (;;) {
        dsm_lock();
        int ok = dsm_readable(uaddr);
        if (ok > 0 && chan_room()) {
            drops = __atomic_load_n(&rt.chan->fdrop[PSHARE_FDROP_OF(uaddr)], __ATOMIC_SEQ_CST);
            if (dsm_load_word(uaddr, &seen) == 0)
                break;                        /* with the lock */
            ok = 0;                           /* dropped meanwhile */
        }
        dsm_unlock();
        if (ok < 0) {
            chan_leave(mask);
            return -E_FAULT;
        }
        if (ok == 0)
            dsm_touch((void *)uaddr, 4, 0);  /* fault it in, then look again */
        else
            ring_pause();
    }
    if (seen != expected) {
        dsm_unlock();
        chan_leave(mask);
        return -E_AGAIN;
    }
    box->a[0] = (long)uaddr;
    box->a[1] = bitset;
    box->a[2] = drops;
    box->len = 0;
    chan_send(slot, RQ_FWAIT);
    dsm_unlock();

    int cancelled = 0;
    if (!chan_poll(box, MB_REPLY)) {
        int counted = chan_sleep_begin();
        while (__atomic_load_n(&box->state, __ATOMIC_ACQUIRE) != MB_REPLY) {
            long slice = SLICE_NS;
            if (!cancelled) {
                int why = 0;
                if (deadline_ns >= 0) {
                    long left = deadline_ns - clock_ns(clk);
                    if (left <= 0)
                        why = E_TIMEDOUT;
                    else if (left < slice)
                        slice = left;
                }
                if (!why && signal_waiting(mask))
                    why = E_INTR;
                if (why) {
                    chan_post((uint64_t)UP_FCANCEL << 56 | (uint64_t)slot << 40 | (uint64_t)why);
                    cancelled = 1;
                    continue;
                }
            }
            struct kts t = ns_ts(slice);
            sys4(PSHARE_NR_futex, &box->state, K_FUTEX_WAIT, MB_REQUEST, &t);
        }
        chan_sleep_end(counted);
    }
    __atomic_store_n(&box->state, MB_IDLE, __ATOMIC_RELEASE);
    long r = box->a[0], pushed = box->a[1];
    if (pushed) {
        /* a released lock's page came with the wake, in this DSM state: open
         * it, then say so (the agent holds anything later for the page until
         * then: its on_pushed) */
        dsm_apply_grant(slot, PAGE_DOWN(uaddr), 1, (int)pushed);
    }
    chan_leave(mask);
    return r;
}

long futex_spread(const long *a)
{
    uintptr_t uaddr = (uintptr_t)a[0];
    long op = a[1];
    int cmd = op & K_FUTEX_CMD_MASK;
    if (!(op & K_FUTEX_PRIVATE) || !dsm_managed(uaddr))
        return FUTEX_HOME;
    int bits = cmd == K_FUTEX_WAIT_BITSET || cmd == K_FUTEX_WAKE_BITSET;
    if (cmd != K_FUTEX_WAIT && cmd != K_FUTEX_WAKE && !bits)
        return FUTEX_HOME;
    uint32_t bitset = bits ? (uint32_t)a[5] : 0xffffffffu;
    if ((uaddr & 3) || !bitset)
        return -E_INVAL;
    if ((op & K_FUTEX_CLOCK_REALTIME) && cmd != K_FUTEX_WAIT && cmd != K_FUTEX_WAIT_BITSET)
        return -E_NOSYS;                              /* as the kernel */
    if (cmd == K_FUTEX_WAKE || cmd == K_FUTEX_WAKE_BITSET)
        return wake(uaddr, (int)a[2], bitset);
    long deadline = -1;
    int clk = (op & K_FUTEX_CLOCK_REALTIME) ? K_CLOCK_REALTIME : K_CLOCK_MONOTONIC;
    if (a[3]) {
        struct kts t;
        memcpy(&t, (const void *)a[3], sizeof t);    /* app memory: may fault in */
        if (!ts_valid(&t))
            return -E_INVAL;
        /* FUTEX_WAIT: relative (CLOCK_MONOTONIC); FUTEX_WAIT_BITSET: absolute */
        deadline = cmd == K_FUTEX_WAIT ? clock_ns(clk) + ts_ns(&t) : ts_ns(&t);
    }
    return wait(uaddr, (uint32_t)a[2], bitset, deadline, clk);
}

/* A signal was sent to the thread of `slot` (control.c): if it sleeps in a
 * wait, it looks now rather than at the end of its slice. */
void futex_signalled(int slot)
{
    sys3(PSHARE_NR_futex, &chan_box(slot)->state, K_FUTEX_WAKE, 1);
}
