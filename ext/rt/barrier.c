/*
 * barrier.c - pthread_barrier_wait, served by the barrier's manager.
 *
 * glibc's barrier is two counters every thread increments (in, out) and a
 * round number the last one bumps, all on one page: with its threads on
 * several ranks the page moved to every rank about twice per thread per
 * round (stencil at 4 ranks x 4 cores: ~50 of its ~80 faults a sweep).
 * The runtime is preloaded, so its pthread_barrier_wait is the one the app
 * calls (pthread_barrier_init and _destroy stay glibc's).  With several
 * ranks, for a process-private barrier in managed memory, a thread reads
 * the barrier's count (a copy of its page, which then stays: nobody writes
 * it), posts its arrival (UP_BARRIER; the engine sends it to the barrier's
 * manager, ext/agent/barriers.c) and waits until the manager says the round
 * is complete.  Memory stays sequentially consistent without a fence: every
 * page a thread wrote before arriving is this rank's alone until another
 * rank's fault takes it.
 *
 * The arrival is carried in the mailbox's barrier fields, not its request
 * fields, and the wait is on barrier_done with the app's signals open: a
 * signal handler runs while the thread waits, as natively, and may use the
 * mailbox for calls of its own.
 *
 * Everything else - one rank, a process-shared barrier, one in memory the
 * DSM does not manage - runs glibc's own algorithm below on glibc's layout
 * (nptl since 2.23), its futex calls trapped like the app's, so the
 * barrier's init, destroy and any process sharing it see what glibc does.
 */
#include "rt.h"

#define PTHREAD_BARRIER_SERIAL_THREAD (-1)
#define IN_THRESHOLD (0xffffffffu / 2)   /* glibc's BARRIER_IN_THRESHOLD */
#define FUTEX_PROCESS_SHARED 128         /* glibc's `shared` for PTHREAD_PROCESS_SHARED (0: private) */

/* glibc's struct pthread_barrier, inside the app's 32-byte pthread_barrier_t */
struct gbarrier {
    uint32_t in;
    uint32_t current_round;
    uint32_t count;
    int32_t shared;
    uint32_t out;
};
_Static_assert(sizeof(struct gbarrier) <= 32, "pthread_barrier_t is 32 bytes on x86_64");

/* A futex call as the app's own: outside the trampoline, so it traps and
 * goes where the app's calls go (home's kernel for shared or unmanaged
 * memory, the page's manager for a private word); native where the runtime
 * is not running. */
static long app_futex(uint32_t *w, int op, uint32_t val)
{
    long r;
    register long r10 __asm__("r10") = 0;
    __asm__ volatile("syscall"
                     : "=a"(r)
                     : "0"((long)PSHARE_NR_futex), "D"(w), "S"((long)op), "d"((long)val), "r"(r10)
                     : "rcx", "r11", "memory");
    return r;
}

static int futex_op(const struct gbarrier *b, int op)
{
    return b->shared == FUTEX_PROCESS_SHARED ? op : op | K_FUTEX_PRIVATE;
}

/* glibc's pthread_barrier_wait (nptl/pthread_barrier_wait.c): enter by
 * incrementing `in`; the thread that makes a round complete advances
 * `current_round` and wakes the others; everyone leaves by incrementing
 * `out`, and the last of a reset cycle starts `in` over. */
static int local_wait(struct gbarrier *b)
{
    uint32_t i;
restart:
    i = __atomic_add_fetch(&b->in, 1, __ATOMIC_ACQ_REL);
    uint32_t count = b->count;
    uint32_t max_in = IN_THRESHOLD - IN_THRESHOLD % count;
    if (i > max_in) {
        /* a reset round: wait until it is over, then enter again */
        while (i > max_in) {
            app_futex(&b->in, futex_op(b, K_FUTEX_WAIT), i);
            i = __atomic_load_n(&b->in, __ATOMIC_RELAXED);
        }
        goto restart;
    }
    uint32_t cr = __atomic_load_n(&b->current_round, __ATOMIC_RELAXED);
    while (cr + count <= i) {
        uint32_t next = i - i % count;
        if (__atomic_compare_exchange_n(&b->current_round, &cr, next, 1, __ATOMIC_RELEASE,
                                        __ATOMIC_RELAXED)) {
            cr = next;
            app_futex(&b->current_round, futex_op(b, K_FUTEX_WAKE), 0x7fffffff);
            if (i <= cr)
                goto leave;
            break;
        }
    }
    while (i > cr) {
        app_futex(&b->current_round, futex_op(b, K_FUTEX_WAIT), cr);
        cr = __atomic_load_n(&b->current_round, __ATOMIC_RELAXED);
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
leave:;
    uint32_t o = __atomic_add_fetch(&b->out, 1, __ATOMIC_RELEASE);
    if (o == max_in) {
        __atomic_store_n(&b->out, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&b->in, 0, __ATOMIC_RELEASE);
        app_futex(&b->in, futex_op(b, K_FUTEX_WAKE), 0x7fffffff);
    }
    return i % count == 0 ? PTHREAD_BARRIER_SERIAL_THREAD : 0;
}

/* Several ranks: the arrival goes to the barrier's manager. */
static int spread_wait(struct gbarrier *b)
{
    uint32_t count = __atomic_load_n(&b->count, __ATOMIC_RELAXED);   /* may fault it in */
    if (count <= 1)
        return PTHREAD_BARRIER_SERIAL_THREAD;
    int slot = thread_slot_here();
    if (slot < 0)
        return local_wait(b);                 /* not a thread of the app's (cannot be) */
    struct pshare_mbox *box = chan_box(slot);
    /* posted with the app's signals blocked: a handler that posted too,
     * between our claim of a ring entry and our write of it, would wait for
     * an agent that waits for our entry */
    uint64_t mask = chan_enter();
    box->barrier = (uintptr_t)b;
    box->barrier_count = count;
    __atomic_store_n(&box->barrier_done, 0, __ATOMIC_RELEASE);
    chan_post((uint64_t)UP_BARRIER << 56 | (uint64_t)slot << 40);
    chan_leave(mask);
    chan_wait_change(&box->barrier_done, 0);
    return __atomic_load_n(&box->barrier_done, __ATOMIC_ACQUIRE) == 2 ? PTHREAD_BARRIER_SERIAL_THREAD
                                                                       : 0;
}

__attribute__((visibility("default"))) int pthread_barrier_wait(void *barrier)
{
    struct gbarrier *b = barrier;
    if (rt.dsm && b->shared != FUTEX_PROCESS_SHARED && dsm_managed((uintptr_t)b))
        return spread_wait(b);
    return local_wait(b);
}
