/* Litmus tests for sequential consistency: threads (created by main; where
 * they run is pshare's placement) race on a few shared variables, many times
 * over, and every outcome is counted.  An outcome that no interleaving of the
 * threads' accesses can give is "forbidden": sequential consistency never
 * shows it.
 *
 *   usage: litmus TEST LAYOUT MIN_ITERS SECONDS
 *
 *   TEST      sb        store buffering, seq_cst atomics (x86: fenced stores)
 *                         T0: x = 1; r0 = y      T1: y = 1; r1 = x
 *                         forbidden: r0 = 0 and r1 = 0
 *             sb_plain  the same with plain volatile stores and loads: x86's
 *                       store buffer lets each load pass the thread's own
 *                       store, so natively (TSO) the forbidden outcome DOES
 *                       appear; with the two threads on different ranks a
 *                       sequentially consistent DSM must still forbid it
 *             mp        message passing, plain volatile accesses
 *                         T0: data = 1; flag = 1   T1: while (!flag); r1 = data
 *                         forbidden: r1 = 0 (x86 keeps store and load order)
 *             mp3       message passing to three readers at once (T1..T3 each
 *                       run T1's part); forbidden: any reader sees data = 0.
 *                       With the readers on one rank they fault on the same
 *                       pages together while the writer's rank takes them
 *                       back: a reader that reopened a page the control
 *                       thread had just closed kept reading a stale copy
 *             iriw      independent reads of independent writes, plain
 *                         T0: x = 1   T1: y = 1
 *                         T2: r2a = x; r2b = y   T3: r3a = y; r3b = x
 *                         forbidden: r2a=1 r2b=0 r3a=1 r3b=0 (the two readers
 *                         see the writes in opposite orders; x86 forbids it)
 *   LAYOUT    pages     every variable on a page of its own (consecutive
 *                       mmaps: the barrier's page, x and y are neighbours,
 *                       so read-ahead runs take several of them at once)
 *             page      all of them on one page (256 bytes apart)
 *   MIN_ITERS at least this many iterations, then more until SECONDS have
 *             passed (at most MAX_ITERS)
 *
 * Each iteration: a barrier; one thread (a different one each iteration, so
 * the pages start on different ranks) resets the variables to 0; a barrier;
 * a short delay that differs per thread and iteration; the test.  Every
 * thread keeps its results on pages of its own; main, after the joins, counts
 * the outcomes and prints
 *   test TEST LAYOUT / threads N / iterations N / outcome KEY COUNT ... /
 *   forbidden COUNT
 * and exits 0 (the caller decides whether a forbidden count is a failure).
 *
 * The barrier is a counter every thread increments atomically: a lost update
 * anywhere on its page leaves it short and the threads waiting.  A spin that
 * waits LITMUS_TIMEOUT seconds (default 60) prints what the thread sees
 * (iteration, its last increments' results, the barrier, x and y), gives
 * the other threads 5 s to do the same, and ends the program with status 3. */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define PAGE 4096
#define MAX_ITERS 2000000L
#define MAX_THREADS 4

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#define DIE(status, ...) do { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); \
                              exit(status); } while (0)

#define VSTORE(p, v) (*(volatile long *)(p) = (v))
#define VLOAD(p) (*(volatile long *)(p))

/* A spin that waited too long: say so, give the other threads a few seconds
 * to say where they are, then end with status 3. */
#define STUCK(...) do { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); fflush(stderr); \
                        struct timespec ts_ = {5, 0}; nanosleep(&ts_, NULL); exit(3); } while (0)

static void *map_pages(long bytes)
{
    void *p = mmap(NULL, (bytes + PAGE - 1) / PAGE * PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        DIE(1, "mmap failed");
    return p;
}

enum test { SB, SB_PLAIN, MP, MP3, IRIW };

static enum test test;
static int nthreads;
static long min_iters;
static int64_t deadline;               /* stop after MIN_ITERS once this has passed */
static long iterations;                /* run to the end (written by thread 0) */

/* The control page: a sense-reversing barrier and the stop flag. */
struct control {
    long arrived;
    long sense;
    long stop;
};
static struct control *ctl;
static __thread long cur_iter;         /* for the timeout's message */
static __thread int cur_thread;
static __thread long last_add[4];      /* the last barriers' add results, newest first */
static int64_t timeout_ns = 60LL * 1000000000;   /* LITMUS_TIMEOUT seconds */

/* The test's variables: x (data) and y (flag) */
static long *x, *y;
static unsigned char *results[MAX_THREADS];   /* per thread, MAX_ITERS bytes, own pages */

/* Spin until *p == want: pause first, then yield the core (the ranks' agents
 * and the other threads may need it); LITMUS_TIMEOUT means a lost update. */
static void spin_until(long *p, long want, const char *what)
{
    int64_t limit = 0;
    for (unsigned long spins = 0; __atomic_load_n(p, __ATOMIC_SEQ_CST) != want; spins++) {
        if (spins < 200) {
            __builtin_ia32_pause();
            continue;
        }
        sched_yield();
        if ((spins & 0xff) == 0) {
            int64_t t = now_ns();
            if (!limit)
                limit = t + timeout_ns;
            else if (t > limit)
                STUCK("litmus: thread %d timed out waiting for %s: it is %ld, not %ld "
                      "(iteration %ld, my last adds %ld %ld %ld %ld; barrier: %ld arrived, "
                      "sense %ld, stop %ld; x %ld, y %ld)", cur_thread,
                      what, __atomic_load_n(p, __ATOMIC_SEQ_CST), want, cur_iter,
                      last_add[0], last_add[1], last_add[2], last_add[3],
                      __atomic_load_n(&ctl->arrived, __ATOMIC_SEQ_CST),
                      __atomic_load_n(&ctl->sense, __ATOMIC_SEQ_CST),
                      __atomic_load_n(&ctl->stop, __ATOMIC_SEQ_CST), VLOAD(x), VLOAD(y));
        }
    }
}

static void barrier(long *local_sense)
{
    *local_sense = !*local_sense;
    long got = __atomic_add_fetch(&ctl->arrived, 1, __ATOMIC_SEQ_CST);
    memmove(last_add + 1, last_add, 3 * sizeof(long));
    last_add[0] = got;
    if (got == nthreads) {
        __atomic_store_n(&ctl->arrived, 0, __ATOMIC_SEQ_CST);
        __atomic_store_n(&ctl->sense, *local_sense, __ATOMIC_SEQ_CST);
    } else {
        spin_until(&ctl->sense, *local_sense, "the barrier");
    }
}

/* A few hundred ns at most, different for each thread and iteration, so the
 * threads' accesses meet in different orders. */
static void delay(long i, int t)
{
    unsigned h = (unsigned)(i * 2654435761u) ^ (unsigned)(t * 40503u);
    for (unsigned n = (h >> 7) & 63; n; n--)
        __builtin_ia32_pause();
}

static void *thread_main(void *arg)
{
    int t = (int)(long)arg;
    unsigned char *res = results[t];
    cur_thread = t;
    long sense = 0;
    for (long i = 0;; i++) {
        cur_iter = i;
        barrier(&sense);                       /* the last iteration is over */
        if (i % nthreads == t) {
            VSTORE(x, 0);
            VSTORE(y, 0);
        }
        if (t == 0 && i >= min_iters && (i >= MAX_ITERS || now_ns() > deadline))
            __atomic_store_n(&ctl->stop, 1, __ATOMIC_SEQ_CST);
        barrier(&sense);                       /* the reset is seen; go */
        if (__atomic_load_n(&ctl->stop, __ATOMIC_SEQ_CST)) {
            if (t == 0)
                iterations = i;
            break;
        }
        delay(i, t);
        long a = 0, b = 0;
        switch (test) {
        case SB:
            if (t == 0) {
                __atomic_store_n(x, 1, __ATOMIC_SEQ_CST);
                a = __atomic_load_n(y, __ATOMIC_SEQ_CST);
            } else {
                __atomic_store_n(y, 1, __ATOMIC_SEQ_CST);
                a = __atomic_load_n(x, __ATOMIC_SEQ_CST);
            }
            break;
        case SB_PLAIN:
            if (t == 0) {
                VSTORE(x, 1);
                a = VLOAD(y);
            } else {
                VSTORE(y, 1);
                a = VLOAD(x);
            }
            break;
        case MP:
        case MP3:
            if (t == 0) {
                VSTORE(x, 1);                  /* data */
                VSTORE(y, 1);                  /* flag */
            } else {
                int64_t limit = 0;
                for (unsigned long spins = 0; !VLOAD(y); spins++)
                    if ((spins & 0xfffff) == 0) {
                        int64_t now = now_ns();
                        if (!limit)
                            limit = now + timeout_ns;
                        else if (now > limit)
                            STUCK("litmus: thread %d timed out waiting for the flag "
                                  "(iteration %ld; data %ld, flag %ld)", t, i, VLOAD(x), VLOAD(y));
                    }
                a = VLOAD(x);
            }
            break;
        case IRIW:
            if (t == 0)
                VSTORE(x, 1);
            else if (t == 1)
                VSTORE(y, 1);
            else if (t == 2) {
                a = VLOAD(x);
                b = VLOAD(y);
            } else {
                a = VLOAD(y);
                b = VLOAD(x);
            }
            break;
        }
        if (i < MAX_ITERS)
            res[i] = (unsigned char)((a & 1) | (b & 1) << 1);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 5 || atol(argv[3]) < 1 || atof(argv[4]) < 0)
        DIE(2, "usage: %s sb|sb_plain|mp|mp3|iriw pages|page MIN_ITERS SECONDS", argv[0]);
    const char *name = argv[1], *layout = argv[2];
    if (!strcmp(name, "sb"))
        test = SB, nthreads = 2;
    else if (!strcmp(name, "sb_plain"))
        test = SB_PLAIN, nthreads = 2;
    else if (!strcmp(name, "mp"))
        test = MP, nthreads = 2;
    else if (!strcmp(name, "mp3"))
        test = MP3, nthreads = 4;
    else if (!strcmp(name, "iriw"))
        test = IRIW, nthreads = 4;
    else
        DIE(2, "litmus: unknown test '%s'", name);
    min_iters = atol(argv[3]);
    if (min_iters > MAX_ITERS)
        DIE(2, "litmus: MIN_ITERS is at most %ld", MAX_ITERS);

    ctl = map_pages(sizeof *ctl);
    if (!strcmp(layout, "pages")) {
        x = map_pages(PAGE);
        y = map_pages(PAGE);
    } else if (!strcmp(layout, "page")) {
        x = map_pages(PAGE);
        y = x + 256 / sizeof(long);
    } else {
        DIE(2, "litmus: unknown layout '%s' (pages, page)", layout);
    }
    for (int t = 0; t < nthreads; t++)
        results[t] = map_pages(MAX_ITERS);
    deadline = now_ns() + (int64_t)(atof(argv[4]) * 1e9);
    if (getenv("LITMUS_TIMEOUT"))
        timeout_ns = (int64_t)(atof(getenv("LITMUS_TIMEOUT")) * 1e9);

    pthread_t tid[MAX_THREADS];
    for (int t = 0; t < nthreads; t++)
        if (pthread_create(&tid[t], NULL, thread_main, (void *)(long)t) != 0)
            DIE(1, "pthread_create failed");
    for (int t = 0; t < nthreads; t++)
        pthread_join(tid[t], NULL);

    /* every outcome, as the bits of the results in the order of the usage */
    long counts[16] = {0}, forbidden = 0;
    int bits = test == MP ? 1 : test == IRIW ? 4 : test == MP3 ? 3 : 2;
    for (long i = 0; i < iterations; i++) {
        int key;
        switch (test) {
        case MP:
            key = results[1][i] & 1;
            break;
        case MP3:       /* r1 r2 r3 */
            key = (results[1][i] & 1) << 2 | (results[2][i] & 1) << 1 | (results[3][i] & 1);
            break;
        case IRIW:      /* r2a r2b r3a r3b */
            key = (results[2][i] & 1) << 3 | (results[2][i] >> 1 & 1) << 2 |
                  (results[3][i] & 1) << 1 | (results[3][i] >> 1 & 1);
            break;
        default:        /* r0 r1 */
            key = (results[0][i] & 1) << 1 | (results[1][i] & 1);
            break;
        }
        counts[key]++;
    }
    /* mp: 0; iriw: 1010; sb: 00; mp3: every key but 111 */
    int bad = test == MP ? 0 : test == IRIW ? 0xa : 0;
    for (int k = 0; k < 1 << bits; k++)
        if (test == MP3 ? k != 7 : k == bad)
            forbidden += counts[k];
    printf("test %s %s\nthreads %d\niterations %ld\n", name, layout, nthreads, iterations);
    for (int k = 0; k < 1 << bits; k++) {
        if (!counts[k])
            continue;
        char key[8];
        for (int b = 0; b < bits; b++)
            key[b] = (char)('0' + (k >> (bits - 1 - b) & 1));
        key[bits] = 0;
        int is_bad = test == MP3 ? k != 7 : k == bad;
        printf("outcome %s %ld%s\n", key, counts[k], is_bad ? " forbidden" : "");
    }
    printf("forbidden %ld\n", forbidden);
    return 0;
}
