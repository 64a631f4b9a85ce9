/* What synchronisation costs between threads: main() (always on home) and a
 * worker thread it creates (--placement 1: on rank 1) pass a turn back and
 * forth, timed by the worker:
 *   mutex_handover    each thread, in a loop, locks one pthread mutex, looks
 *                     whether the turn is its own; if so flips it to the other
 *                     thread; unlocks.  The mutex and the turn share a page,
 *                     as an app's would.
 *   condvar_handover  the same turn under a mutex, the waiting thread asleep in
 *                     pthread_cond_wait, the flipping one waking it with
 *                     pthread_cond_signal (ping-pong signalling)
 *   barrier           THREADS threads (main and THREADS-1 workers; with
 *                     --placement 1,..,N-1 one on each rank) in
 *                     pthread_barrier_wait; one sample = one round, from one
 *                     return of the first worker's barrier_wait to the next
 *
 *   usage: sync COUNT THREADS [TESTS]     TESTS: a comma list of mutex,
 *                                         condvar, barrier (default all three)
 *
 * A hand-over sample is half a timed round (worker -> main -> worker: two
 * hand-overs), so it is the time from one thread giving the turn away to the
 * other having it and giving it back.  Each test's state (mutex, condvar,
 * barrier) is on a page of its own and the samples on the worker's own pages,
 * written before timing, so the only pages that move while timing are the
 * ones the synchronisation itself needs. */
#include <pthread.h>
#include <sys/mman.h>

#include "bench.h"

#define PAGE 4096
#define WARMUP 10
#define MAX_THREADS 64

enum { MAIN, WORKER };

struct turn_mutex {                 /* a page of its own */
    pthread_mutex_t m;
    int turn;
};

struct turn_cond {                  /* a page of its own */
    pthread_mutex_t m;
    pthread_cond_t c;
    int turn;
};

static long count, nthreads;
static int do_mutex, do_cond, do_barrier;
static struct turn_mutex *tm;
static struct turn_cond *tc;
static pthread_barrier_t *bar;      /* a page of its own */
static int64_t *s_mutex, *s_cond, *s_barrier;

static void *map_pages(long bytes)
{
    void *p = mmap(NULL, (bytes + PAGE - 1) / PAGE * PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap");
    return p;
}

/* Lock, and if the turn is ours give it to the other thread; else unlock and
 * try again.  Gives up after a minute (a protocol bug must not hang a run). */
static void mutex_take(int me)
{
    int64_t deadline = now_ns() + 60LL * 1000000000;
    for (unsigned long spins = 0;; spins++) {
        pthread_mutex_lock(&tm->m);
        if (tm->turn == me) {
            tm->turn = 1 - me;
            pthread_mutex_unlock(&tm->m);
            return;
        }
        pthread_mutex_unlock(&tm->m);
        if ((spins & 0xff) == 0 && now_ns() > deadline)
            DIE("timed out (60 s) waiting for the mutex hand-over");
    }
}

/* Wait (asleep) until the turn is ours, give it to the other thread, wake it. */
static void cond_take(int me)
{
    pthread_mutex_lock(&tc->m);
    while (tc->turn != me)
        pthread_cond_wait(&tc->c, &tc->m);
    tc->turn = 1 - me;
    pthread_cond_signal(&tc->c);
    pthread_mutex_unlock(&tc->m);
}

/* ROUNDS = COUNT + WARMUP + 1 turns each; the first WARMUP + 1 stamps are not kept. */
static void timed_turns(void (*take)(int), int64_t *s)
{
    int64_t prev = 0;
    for (long n = 0; n < count + WARMUP + 1; n++) {
        take(WORKER);
        int64_t t = now_ns();
        if (n > WARMUP)
            s[n - WARMUP - 1] = (t - prev) / 2;   /* a round is two hand-overs */
        prev = t;
    }
}

static void barrier_rounds(int64_t *s)
{
    int64_t prev = 0;
    for (long n = 0; n < count + WARMUP + 1; n++) {
        pthread_barrier_wait(bar);
        int64_t t = now_ns();
        if (s && n > WARMUP)
            s[n - WARMUP - 1] = t - prev;
        prev = t;
    }
}

static void *worker(void *arg)
{
    long id = (long)arg;
    if (id != 0) {                  /* the other workers only fill the barrier */
        barrier_rounds(NULL);
        return NULL;
    }
    /* the sample pages move here now, not while timing */
    memset(s_mutex, 0, count * sizeof(int64_t));
    memset(s_cond, 0, count * sizeof(int64_t));
    memset(s_barrier, 0, count * sizeof(int64_t));
    if (do_mutex)
        timed_turns(mutex_take, s_mutex);
    if (do_cond)
        timed_turns(cond_take, s_cond);
    if (do_barrier)
        barrier_rounds(s_barrier);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4 || atol(argv[1]) < 1 || atol(argv[2]) < 2 ||
        atol(argv[2]) > MAX_THREADS)
        DIE("usage: %s COUNT THREADS(2-%d) [mutex,condvar,barrier]", argv[0], MAX_THREADS);
    count = atol(argv[1]);
    nthreads = atol(argv[2]);
    const char *tests = argc == 4 ? argv[3] : "mutex,condvar,barrier";
    do_mutex = strstr(tests, "mutex") != NULL;
    do_cond = strstr(tests, "condvar") != NULL;
    do_barrier = strstr(tests, "barrier") != NULL;
    if (!do_mutex && !do_cond && !do_barrier)
        DIE("no test in '%s' (mutex, condvar, barrier)", tests);

    tm = map_pages(sizeof *tm);
    tc = map_pages(sizeof *tc);
    bar = map_pages(sizeof *bar);
    s_mutex = map_pages(count * sizeof(int64_t));
    s_cond = map_pages(count * sizeof(int64_t));
    s_barrier = map_pages(count * sizeof(int64_t));
    pthread_mutex_init(&tm->m, NULL);
    tm->turn = WORKER;
    pthread_mutex_init(&tc->m, NULL);
    pthread_cond_init(&tc->c, NULL);
    tc->turn = WORKER;
    if (pthread_barrier_init(bar, NULL, (unsigned)nthreads) != 0)
        DIE("pthread_barrier_init failed");

    pthread_t tid[MAX_THREADS];
    for (long t = 0; t < nthreads - 1; t++)
        if (pthread_create(&tid[t], NULL, worker, (void *)t) != 0)
            DIE("pthread_create failed");
    if (do_mutex)
        for (long n = 0; n < count + WARMUP + 1; n++)
            mutex_take(MAIN);
    if (do_cond)
        for (long n = 0; n < count + WARMUP + 1; n++)
            cond_take(MAIN);
    if (do_barrier)
        barrier_rounds(NULL);
    for (long t = 0; t < nthreads - 1; t++)
        pthread_join(tid[t], NULL);

    printf("threads %ld\n", nthreads);
    if (do_mutex)
        print_samples("mutex_handover", s_mutex, count);
    if (do_cond)
        print_samples("condvar_handover", s_cond, count);
    if (do_barrier)
        print_samples("barrier", s_barrier, count);
    return 0;
}
