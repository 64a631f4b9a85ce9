/*
 * chan.c - the app side of the channel to the agent (ext/rt/shm.h).
 *
 * A thread asks the agent for something (a page, a forwarded call, a new
 * thread) by filling its slot's mailbox and posting the slot on the up ring;
 * it then sleeps on the mailbox until the agent replies.  The app's signals
 * are blocked from before the mailbox is filled until its answer has been
 * used (chan_enter .. chan_leave, around every chan_call): an app handler
 * running in between would reuse the one mailbox of the slot (its forwarded
 * call overwrote the outer call's arguments, answer or data), or fault on
 * the page whose transaction the outer fault has not closed yet (UP_APPLIED),
 * which the manager queues behind it: a deadlock.  Faults may nest inside a
 * forwarded call: they use only a[0..1], len and the state, and the
 * forwarded call fills a[] after marshalling and reads only data after.
 */
#include "rt.h"

static void ring_doorbell(struct pshare_chan *c)
{
    __atomic_fetch_add(&c->doorbell, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&c->agent_waiting, __ATOMIC_SEQ_CST))
        sys3(PSHARE_NR_futex, &c->doorbell, K_FUTEX_WAKE, 1);
}

/* An entry goes into the slot its claimed position maps to once that slot
 * is empty (the agent zeroes what it takes): when the ring is full - the
 * entry a lap earlier not taken yet - the producer waits for the agent
 * rather than overwrite it.  The agent never waits for a producer (the
 * control thread, which the agent does wait for, posts nothing), so the
 * wait ends.  Entries may be taken out of claim order, none is lost. */
static void post(struct pshare_chan *c, uint64_t entry)
{
    uint64_t pos = __atomic_fetch_add(&c->tail, 1, __ATOMIC_ACQ_REL);
    uint64_t *slot = &c->ring[pos % PSHARE_RING];
    for (;;) {
        uint64_t empty = 0;
        if (__atomic_compare_exchange_n(slot, &empty, entry, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
            break;
        ring_doorbell(c);
        struct kts pause = { 0, 50000 };
        sys2(PSHARE_NR_nanosleep, &pause, 0);
    }
}

void chan_post(uint64_t entry)
{
    post(rt.chan, entry);
    ring_doorbell(rt.chan);
}

/* An entry the agent needs at once only when it holds a message back for
 * it (UP_APPLIED: a FETCH or INV of the page waits): it wakes a sleeping
 * agent only if the agent says so (apply_wanted, set before it sleeps,
 * then it looks at the ring), else waits on the ring until the agent wakes
 * for something else.  On a core the thread shares with its agent, a wake
 * for every applied grant preempted the thread for nothing. */
void chan_post_lazy(uint64_t entry)
{
    struct pshare_chan *c = rt.chan;
    post(c, entry);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(&c->apply_wanted, __ATOMIC_SEQ_CST))
        ring_doorbell(c);
}

struct pshare_mbox *chan_box(int slot)
{
    return &rt.chan->box[slot];
}

/* How long a waiter polls its mailbox before it sleeps, in TSC cycles
 * (about 20-30 us): the agent answers a page or a command within a few
 * round trips while it is active, and a futex sleep would add a wake-up on
 * each side.  It yields the core every few polls, and when a yield took
 * long (others wanted the core: more threads than cores) it sleeps at once,
 * since then a wake-up, which the scheduler favours, comes sooner than the
 * core would come back to a poller. */
#define CHAN_SPIN_CYCLES 60000
/* The control thread polls longer (~100 us) for its next command: in a
 * burst of faults the next protect comes within a round or two of messages.
 * An executor polls as long as any waiter: longer took the core from the
 * agent that brings its next call when threads outnumber cores (a
 * forwarded call went from 26 to 93 us on 2 vCPUs, pshare-bench table1). */
#define CHAN_CONTROL_SPIN_CYCLES 250000
#define CHAN_SPIN_YIELD 64
#define CHAN_YIELD_SLOW 1000000        /* a yield this long (~0.4 ms, a time slice): the core is contended */

/* Whether the cores this rank runs on have more threads that want one
 * than cores (the agent decides: its cores_contended).  A poller then takes
 * the core from a thread that computes: a yield does not give it up for
 * long (the scheduler hands the core back to the poller within
 * microseconds, so a poller kept half the core: matmul at 2 ranks on 1 core
 * each went from 0.5x to 1.1x a one-core run when nothing polled).  So it
 * sleeps at once, and the agent wakes it. */
int chan_contended(void)
{
    return __atomic_load_n(&rt.chan->contended, __ATOMIC_RELAXED);
}

/* Poll `w` for `spin` TSC cycles (yielding the core now and then, and
 * giving up early when a yield took long) until it is `v` (equal) or is no
 * longer `v` (!equal): 1 once it is.  No poll at all while the cores are
 * contended. */
static int poll_word(const uint32_t *w, uint32_t v, int equal, uint64_t spin)
{
    if (chan_contended())
        spin = 0;
    uint64_t t0 = rdtsc();
    for (unsigned n = 1; rdtsc() - t0 < spin; n++) {
        if ((__atomic_load_n(w, __ATOMIC_ACQUIRE) == v) == equal)
            return 1;
        __builtin_ia32_pause();
        if (n % CHAN_SPIN_YIELD == 0) {
            uint64_t y = rdtsc();
            sys0(PSHARE_NR_sched_yield);
            if (rdtsc() - y > CHAN_YIELD_SLOW)
                break;
        }
    }
    return (__atomic_load_n(w, __ATOMIC_ACQUIRE) == v) == equal;
}

/* An app thread about to sleep until the agent answers or wakes it, or to
 * make a system call here (which may block: nanosleep, poll, a read), says
 * so (app_asleep): while every app thread of the rank is so, its cores are
 * free for the agent to poll instead of sleeping too, which saves a wake-up
 * on an idle core per message (the agent's cores_free).  A call that does
 * not block misleads the agent for a microsecond: its polls yield the core.
 * Runtime threads are not counted: the agent does not count them as
 * wanting a core either.  Returns what chan_sleep_end takes. */
int chan_sleep_begin(void)
{
    if (!thread_is_app())
        return 0;
    __atomic_add_fetch(&rt.chan->app_asleep, 1, __ATOMIC_SEQ_CST);
    return 1;
}

void chan_sleep_end(int counted)
{
    if (counted)
        __atomic_sub_fetch(&rt.chan->app_asleep, 1, __ATOMIC_SEQ_CST);
}

/* Wait until `w` is `v` (equal) or no longer `v` (!equal): poll a little
 * (`spin` TSC cycles), then sleep; the agent wakes us (shared futex). */
static void wait_word(uint32_t *w, uint32_t v, int equal, uint64_t spin)
{
    if (poll_word(w, v, equal, spin))
        return;
    int counted = chan_sleep_begin();
    for (;;) {
        uint32_t s = __atomic_load_n(w, __ATOMIC_ACQUIRE);
        if ((s == v) == equal)
            break;
        sys4(PSHARE_NR_futex, w, K_FUTEX_WAIT, s, 0);
    }
    chan_sleep_end(counted);
}

static int poll_state(struct pshare_mbox *b, uint32_t state, uint64_t spin)
{
    return poll_word(&b->state, state, 1, spin);
}

static void wait_state(struct pshare_mbox *b, uint32_t state, uint64_t spin)
{
    wait_word(&b->state, state, 1, spin);
}

/* A word of the channel the agent changes and then wakes (a barrier's
 * release, barrier.c): wait as for an answer until it is no longer `v`. */
void chan_wait_change(uint32_t *w, uint32_t v)
{
    wait_word(w, v, 0, CHAN_SPIN_CYCLES);
}

/* Poll the mailbox as chan_wait does before it sleeps: 1 once it says
 * `state`, 0 when the poll ran out (futex.c then sleeps its own way). */
int chan_poll(struct pshare_mbox *b, uint32_t state)
{
    return poll_state(b, state, CHAN_SPIN_CYCLES);
}

/* A thread waiting for the agent's answer. */
void chan_wait(struct pshare_mbox *b, uint32_t state)
{
    wait_state(b, state, CHAN_SPIN_CYCLES);
}

/* The control thread (control = 1) or an executor waiting for its next command. */
void chan_wait_command(struct pshare_mbox *b, int control)
{
    wait_state(b, MB_REQUEST, control ? CHAN_CONTROL_SPIN_CYCLES : CHAN_SPIN_CYCLES);
}

void chan_reply(struct pshare_mbox *b)
{
    __atomic_store_n(&b->state, MB_REPLY, __ATOMIC_RELEASE);
    sys3(PSHARE_NR_futex, &b->state, K_FUTEX_WAKE, 1);
}

/* Blocks the app's signals; returns the mask to give back to chan_leave. */
uint64_t chan_enter(void)
{
    uint64_t block = ~RT_RESERVED_SIGS, old;
    sys4(PSHARE_NR_rt_sigprocmask, K_SIG_BLOCK, &block, &old, 8);
    return old;
}

void chan_leave(uint64_t old)
{
    sys4(PSHARE_NR_rt_sigprocmask, K_SIG_SETMASK, &old, 0, 8);
}

/* The request already in the slot's mailbox (a[], data, len) goes to the
 * agent; returns once the reply is there (a[0] is the result).  Only
 * between chan_enter and chan_leave. */
long chan_call(int slot, uint32_t kind)
{
    chan_send(slot, kind);
    return chan_finish(slot);
}

/* chan_call in two halves, for a caller that posts under a lock (futex.c). */
void chan_send(int slot, uint32_t kind)
{
    struct pshare_mbox *b = chan_box(slot);
    b->kind = kind;
    b->t0 = rdtsc();
    __atomic_store_n(&b->state, MB_REQUEST, __ATOMIC_RELEASE);
    chan_post((uint64_t)UP_MBOX << 56 | (uint64_t)slot << 40);
}

long chan_finish(int slot)
{
    struct pshare_mbox *b = chan_box(slot);
    chan_wait(b, MB_REPLY);
    __atomic_store_n(&b->state, MB_IDLE, __ATOMIC_RELEASE);
    return b->a[0];
}

/* Whether the up ring has room for a post that must not wait for the agent
 * (one made under a lock the control thread may need: the agent could be
 * waiting for the control thread, not draining). */
int chan_room(void)
{
    struct pshare_chan *c = rt.chan;
    return __atomic_load_n(&c->tail, __ATOMIC_ACQUIRE) - __atomic_load_n(&c->head, __ATOMIC_ACQUIRE)
           < PSHARE_RING / 2;
}

void hist_add(uint64_t *hist, uint64_t cycles)
{
    int bucket = cycles ? 63 - __builtin_clzll(cycles) : 0;
    if (bucket >= PSHARE_HIST)
        bucket = PSHARE_HIST - 1;
    atomic_add(&hist[bucket], 1);
}
