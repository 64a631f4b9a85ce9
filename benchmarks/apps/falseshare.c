/* False sharing, the pattern that turns into a fault storm in a page-based
 * DSM: THREADS threads each add to their own counter, the counters side by
 * side in one page, ITERS times, with a little work of their own between
 * adds.  Nothing is shared logically; everything is shared physically.
 *
 *   usage: falseshare THREADS ITERS
 *
 * Prints the sum (THREADS * ITERS: independent of scheduling) and elapsed_s
 * (threads created to threads joined). */
#include <pthread.h>

#include "bench.h"

#define MAX_THREADS 64

static long iters;
static volatile long counters[MAX_THREADS];   /* one page, one word each */
static volatile double sink[MAX_THREADS * 8];

static void *work(void *arg)
{
    long id = (long)arg;
    double x = 1.0 + id;
    for (long i = 0; i < iters; i++) {
        counters[id]++;
        for (int k = 0; k < 50; k++)           /* work of its own between adds */
            x = x * 1.0000001 + 1e-9;
    }
    sink[id * 8] = x;                          /* apart from the counters' page */
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3 || atol(argv[1]) < 1 || atol(argv[1]) > MAX_THREADS || atol(argv[2]) < 1)
        DIE("usage: %s THREADS(1-%d) ITERS", argv[0], MAX_THREADS);
    long nthreads = atol(argv[1]);
    iters = atol(argv[2]);
    int64_t elapsed = run_threads(work, nthreads);
    long sum = 0;
    for (long t = 0; t < nthreads; t++)
        sum += counters[t];
    printf("sum %ld\n", sum);
    printf("elapsed_s %.6f\n", elapsed / 1e9);
    return 0;
}
