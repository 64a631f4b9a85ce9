/* Parallel LSD radix sort of 32-bit keys (the SPLASH-2 RADIX pattern): four
 * passes of 8-bit digits; in each pass every thread counts the digits of its
 * block of keys into its own histogram, then (after a barrier) computes where
 * its keys go from every thread's histogram (a prefix sum over digits and
 * threads) and scatters them into the other array.  The scatter writes all
 * over the destination: every thread's keys land in every part of it, so on a
 * DSM nearly every page is written from every rank in every pass.
 *
 *   usage: radix THREADS KEYS
 *
 * The sort is stable and its result unique, so the checksum (computed by main
 * over the sorted array) is the same for any thread count and scheduling.
 * stdout: "checksum SORTED SUM" then "elapsed_s ..." (the sort only). */
#include <pthread.h>

#include "bench.h"

#define MAX_THREADS 256
#define RADIX 256
#define PASSES 4

static long nkeys, nthreads;
static uint32_t *keys[2];
/* One row per thread; neighbouring rows share a page, as in SPLASH-2. */
static long (*hist)[RADIX];
static pthread_barrier_t barrier;

static void *sort(void *arg)
{
    long id = (long)arg;
    long lo = nkeys * id / nthreads, hi = nkeys * (id + 1) / nthreads;
    long offset[RADIX];
    for (int pass = 0; pass < PASSES; pass++) {
        const uint32_t *src = keys[pass & 1];
        uint32_t *dst = keys[(pass + 1) & 1];
        int shift = 8 * pass;
        long *mine = hist[id];
        for (int d = 0; d < RADIX; d++)
            mine[d] = 0;
        for (long i = lo; i < hi; i++)
            mine[(src[i] >> shift) & (RADIX - 1)]++;
        pthread_barrier_wait(&barrier);
        /* where this thread's keys with digit d start: every key with a
         * smaller digit, then the keys with digit d of threads before it */
        long base = 0;
        for (int d = 0; d < RADIX; d++) {
            long before = 0, all = 0;
            for (long t = 0; t < nthreads; t++) {
                if (t < id)
                    before += hist[t][d];
                all += hist[t][d];
            }
            offset[d] = base + before;
            base += all;
        }
        for (long i = lo; i < hi; i++) {
            uint32_t k = src[i];
            dst[offset[(k >> shift) & (RADIX - 1)]++] = k;
        }
        /* the next pass overwrites the histograms and reads dst */
        pthread_barrier_wait(&barrier);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3 || atol(argv[1]) < 1 || atol(argv[1]) > MAX_THREADS || atol(argv[2]) < 1)
        DIE("usage: %s THREADS(1-%d) KEYS", argv[0], MAX_THREADS);
    nthreads = atol(argv[1]);
    nkeys = atol(argv[2]);
    keys[0] = xcalloc(nkeys, sizeof(uint32_t));
    keys[1] = xcalloc(nkeys, sizeof(uint32_t));
    hist = xcalloc(nthreads, sizeof *hist);
    uint64_t x = 88172645463325252ULL;   /* xorshift64: the same keys every run */
    for (long i = 0; i < nkeys; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        keys[0][i] = (uint32_t)(x >> 32);
    }
    pthread_barrier_init(&barrier, NULL, (unsigned)nthreads);
    int64_t elapsed = run_threads(sort, nthreads);
    const uint32_t *out = keys[PASSES & 1];
    int sorted = 1;
    uint64_t sum = 0;
    for (long i = 0; i < nkeys; i++) {
        if (i > 0 && out[i - 1] > out[i])
            sorted = 0;
        sum += (uint64_t)out[i] * (uint64_t)(i + 1);   /* weighted: a swapped key shows */
    }
    printf("checksum sorted=%d %llu\n", sorted, (unsigned long long)sum);
    printf("elapsed_s %.6f\n", elapsed / 1e9);
    return sorted ? 0 : 1;
}
