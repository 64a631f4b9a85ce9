/* Jacobi relaxation on an N x N grid, rows split into one block per thread,
 * every sweep ended by a pthread_barrier (neighbouring blocks read each
 * other's edge rows: the pattern a DSM moves pages for).
 *
 *   usage: stencil THREADS N SWEEPS
 *
 * Every point is computed the same way whoever computes it, so the checksum
 * is the same for any thread count.  stdout: "checksum ..." then
 * "elapsed_s ...". */
#include <pthread.h>

#include "bench.h"

#define MAX_THREADS 256

static long n, nthreads, sweeps;
static double *grid[2];
static pthread_barrier_t barrier;

static void *relax(void *arg)
{
    long id = (long)arg;
    long rows = n - 2, first = 1 + rows * id / nthreads, last = 1 + rows * (id + 1) / nthreads;
    for (long s = 0; s < sweeps; s++) {
        const double *src = grid[s & 1];
        double *dst = grid[(s + 1) & 1];
        for (long i = first; i < last; i++)
            for (long j = 1; j < n - 1; j++)
                dst[i * n + j] = 0.25 * (src[(i - 1) * n + j] + src[(i + 1) * n + j] +
                                         src[i * n + j - 1] + src[i * n + j + 1]);
        pthread_barrier_wait(&barrier);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4 || atol(argv[1]) < 1 || atol(argv[1]) > MAX_THREADS || atol(argv[2]) < 3 ||
        atol(argv[3]) < 1)
        DIE("usage: %s THREADS(1-%d) N(>=3) SWEEPS", argv[0], MAX_THREADS);
    nthreads = atol(argv[1]);
    n = atol(argv[2]);
    sweeps = atol(argv[3]);
    for (int g = 0; g < 2; g++) {
        grid[g] = xcalloc(n * n, sizeof(double));
        for (long j = 0; j < n; j++) {   /* fixed boundary: a hot top edge */
            grid[g][j] = 100.0;
            grid[g][(n - 1) * n + j] = (double)(j % 10);
        }
    }
    pthread_barrier_init(&barrier, NULL, (unsigned)nthreads);
    int64_t elapsed = run_threads(relax, nthreads);
    double sum = 0;
    const double *out = grid[sweeps & 1];
    for (long i = 0; i < n * n; i++)
        sum += out[i] * (double)(1 + i % 7);   /* weighted: a swapped row shows */
    printf("checksum %.12e\n", sum);
    printf("elapsed_s %.6f\n", elapsed / 1e9);
    return 0;
}
