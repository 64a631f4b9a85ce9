/* Lock-heavy: every thread increments a shared counter ITERS times under one
 * pthread mutex, with a little work inside the critical section.  Contention
 * makes glibc's mutex sleep and wake in futex calls, so this is the worst case
 * for a system that traps (and may forward) every futex.
 *
 *   usage: counter THREADS ITERS
 *
 * stdout: "checksum COUNT SUM" (exact, independent of the interleaving) then
 * "elapsed_s ...". */
#include <pthread.h>

#include "bench.h"

#define MAX_THREADS 256

static long nthreads, iters;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static unsigned long long sum;   /* sum of every value the counter took */

static void *work(void *arg)
{
    (void)arg;
    for (long i = 0; i < iters; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        sum += (unsigned long long)counter;
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3 || atol(argv[1]) < 1 || atol(argv[1]) > MAX_THREADS || atol(argv[2]) < 1)
        DIE("usage: %s THREADS(1-%d) ITERS", argv[0], MAX_THREADS);
    nthreads = atol(argv[1]);
    iters = atol(argv[2]);
    int64_t elapsed = run_threads(work, nthreads);
    printf("checksum %ld %llu\n", counter, sum);
    printf("elapsed_s %.6f\n", elapsed / 1e9);
    return 0;
}
