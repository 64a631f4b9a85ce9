/* A page that threads on every rank spin-read while others write it once
 * in a while: a sense-reversing barrier (an atomic count of arrivals and
 * the sense the waiters spin on, on one page), many rounds.  Across ranks
 * the copy of a spinning rank is dropped by its engine while the app's
 * mapping stays writable (ext/rt/uffd.c), and the bytes of the spinner's
 * next grant land in the store before its runtime applies them: a thread
 * of that rank arriving in that moment must still fault, or its arrival is
 * lost and the round never ends (the wait times out: exit status 1).
 * Expected exit status: 0 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define NTHREADS 4
#define ROUNDS 2000
#define TIMEOUT_S 10

static struct {
    atomic_long arrived;
    atomic_long sense;
    atomic_long rounds_done;
} ctl __attribute__((aligned(4096)));
static char after_ctl[4096] __attribute__((aligned(4096)));   /* ctl alone on its page */
/* a page some threads write and others read between the rounds: faults of
 * varying length, so the threads come back to the barrier at varying times */
static struct {
    atomic_long a;
} data __attribute__((aligned(4096)));
static long reads_sum;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void barrier(long *local_sense, long round)
{
    *local_sense = !*local_sense;
    if (atomic_fetch_add(&ctl.arrived, 1) + 1 == NTHREADS) {
        atomic_store(&ctl.arrived, 0);
        atomic_fetch_add(&ctl.rounds_done, 1);
        atomic_store(&ctl.sense, *local_sense);
        return;
    }
    double limit = 0;
    for (unsigned long spins = 0; atomic_load(&ctl.sense) != *local_sense; spins++) {
        if (spins < 100)
            continue;
        sched_yield();
        if ((spins & 0xff) == 0) {
            if (!limit)
                limit = now() + TIMEOUT_S;
            else if (now() > limit) {
                printf("round %ld: %ld of %d arrived: an arrival was lost\n", round,
                       atomic_load(&ctl.arrived), NTHREADS);
                fflush(stdout);
                _exit(1);
            }
        }
    }
}

static void *worker(void *arg)
{
    long t = (long)arg, sense = 0, sum = 0;
    for (long r = 0; r < ROUNDS; r++) {
        sum += atomic_load(&ctl.rounds_done) >= r;      /* a read of the barrier's page */
        if ((r + t) % 2)
            atomic_store(&data.a, r);
        else
            sum += atomic_load(&data.a) >= 0;
        /* arrive at different moments: a few hundred ns, different each round */
        for (unsigned n = ((unsigned)(r * 2654435761u) ^ (unsigned)(t * 40503u)) >> 7 & 63; n; n--)
            __asm__ volatile("pause");
        barrier(&sense, r);
    }
    __atomic_fetch_add(&reads_sum, sum, __ATOMIC_SEQ_CST);
    return NULL;
}

int main(void)
{
    pthread_t th[NTHREADS];
    after_ctl[0] = 1;
    for (long t = 0; t < NTHREADS; t++)
        pthread_create(&th[t], NULL, worker, (void *)t);
    for (int t = 0; t < NTHREADS; t++)
        pthread_join(th[t], NULL);
    printf("%ld rounds of %d threads, %ld reads\n", atomic_load(&ctl.rounds_done), NTHREADS,
           reads_sum);
    return atomic_load(&ctl.rounds_done) == ROUNDS ? 0 : 1;
}
