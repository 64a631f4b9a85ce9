/* Dense matrix product C = A * B (doubles), rows dealt to threads round-robin.
 *
 *   usage: matmul THREADS N
 *
 * Each row of C is computed by one thread in a fixed order, so the checksum
 * (the sum of C in row order, done by main) is the same for any thread count
 * and any scheduling.  stdout: "checksum ..." then "elapsed_s ..." (the
 * product only, not the set-up). */
#include <pthread.h>

#include "bench.h"

#define MAX_THREADS 256

static long n, nthreads;
static double *a, *b, *c;

static void *multiply(void *arg)
{
    long id = (long)arg;
    for (long i = id; i < n; i += nthreads)
        for (long k = 0; k < n; k++) {
            double aik = a[i * n + k];
            for (long j = 0; j < n; j++)   /* i-k-j: streams rows of B and C */
                c[i * n + j] += aik * b[k * n + j];
        }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3 || atol(argv[1]) < 1 || atol(argv[1]) > MAX_THREADS || atol(argv[2]) < 1)
        DIE("usage: %s THREADS(1-%d) N", argv[0], MAX_THREADS);
    nthreads = atol(argv[1]);
    n = atol(argv[2]);
    a = xcalloc(n * n, sizeof(double));
    b = xcalloc(n * n, sizeof(double));
    c = xcalloc(n * n, sizeof(double));
    for (long i = 0; i < n; i++)
        for (long j = 0; j < n; j++) {
            a[i * n + j] = (double)((i * 7 + j * 3) % 17) / 17.0;
            b[i * n + j] = (double)((i * 5 + j * 11) % 13) / 13.0 - 0.5;
        }
    int64_t elapsed = run_threads(multiply, nthreads);
    double sum = 0;
    for (long i = 0; i < n * n; i++)
        sum += c[i];
    printf("checksum %.12e\n", sum);
    printf("elapsed_s %.6f\n", elapsed / 1e9);
    return 0;
}
