/* Blocked LU factorisation without pivoting (the SPLASH-2 LU "contiguous
 * blocks" kernel): an N x N matrix stored as B x B blocks, each block
 * contiguous in memory, blocks dealt to threads 2D-cyclically (a pr x pc grid
 * of threads).  Step K of N/B: the owner of the diagonal block factors it;
 * barrier; the owners of the blocks right of and below it solve them against
 * it; barrier; every owner of a trailing block subtracts the product of its
 * row's and column's panel blocks; barrier.  A block is written only by its
 * owner and the matrix is page-aligned (a 32 x 32 block is two pages), so on
 * a DSM the pages that move are the diagonal block and the panels, fetched by
 * every rank that needs them at each step.
 *
 *   usage: lu THREADS N B        (B divides N)
 *
 * The matrix is diagonally dominant (no pivoting needed).  Each block gets
 * the same operations in the same order whoever owns it, so the checksum is
 * the same for any thread count.  stdout: "checksum ..." then "elapsed_s ..."
 * (the factorisation only). */
#include <pthread.h>

#include "bench.h"

#define MAX_THREADS 256

static long n, bs, nb, nthreads, pr, pc;
static double *a;
static pthread_barrier_t barrier;

static double *block(long bi, long bj)
{
    return a + (bi * nb + bj) * bs * bs;
}

static long owner(long bi, long bj)
{
    return (bi % pr) * pc + bj % pc;
}

/* D = L U in place (unit lower L) */
static void factor(double *d)
{
    for (long k = 0; k < bs; k++)
        for (long i = k + 1; i < bs; i++) {
            double l = d[i * bs + k] /= d[k * bs + k];
            for (long j = k + 1; j < bs; j++)
                d[i * bs + j] -= l * d[k * bs + j];
        }
}

/* a block right of the diagonal: X = L^-1 X */
static void solve_lower(const double *d, double *x)
{
    for (long k = 0; k < bs; k++)
        for (long i = k + 1; i < bs; i++) {
            double l = d[i * bs + k];
            for (long j = 0; j < bs; j++)
                x[i * bs + j] -= l * x[k * bs + j];
        }
}

/* a block below the diagonal: X = X U^-1 */
static void solve_upper(const double *d, double *x)
{
    for (long i = 0; i < bs; i++)
        for (long k = 0; k < bs; k++) {
            double v = x[i * bs + k] /= d[k * bs + k];
            for (long j = k + 1; j < bs; j++)
                x[i * bs + j] -= v * d[k * bs + j];
        }
}

/* C -= A B */
static void update(double *c, const double *l, const double *u)
{
    for (long i = 0; i < bs; i++)
        for (long k = 0; k < bs; k++) {
            double v = l[i * bs + k];
            for (long j = 0; j < bs; j++)
                c[i * bs + j] -= v * u[k * bs + j];
        }
}

static void *lu(void *arg)
{
    long id = (long)arg;
    for (long K = 0; K < nb; K++) {
        if (owner(K, K) == id)
            factor(block(K, K));
        pthread_barrier_wait(&barrier);
        for (long J = K + 1; J < nb; J++)
            if (owner(K, J) == id)
                solve_lower(block(K, K), block(K, J));
        for (long I = K + 1; I < nb; I++)
            if (owner(I, K) == id)
                solve_upper(block(K, K), block(I, K));
        pthread_barrier_wait(&barrier);
        for (long I = K + 1; I < nb; I++)
            for (long J = K + 1; J < nb; J++)
                if (owner(I, J) == id)
                    update(block(I, J), block(I, K), block(K, J));
        pthread_barrier_wait(&barrier);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4 || atol(argv[1]) < 1 || atol(argv[1]) > MAX_THREADS || atol(argv[3]) < 1 ||
        atol(argv[2]) < atol(argv[3]) || atol(argv[2]) % atol(argv[3]) != 0)
        DIE("usage: %s THREADS(1-%d) N B (B divides N)", argv[0], MAX_THREADS);
    nthreads = atol(argv[1]);
    n = atol(argv[2]);
    bs = atol(argv[3]);
    nb = n / bs;
    for (pr = 1; (pr + 1) * (pr + 1) <= nthreads; pr++)
        ;
    while (nthreads % pr != 0)   /* the largest divisor <= sqrt(threads) */
        pr--;
    pc = nthreads / pr;
    /* page-aligned, so every block starts on a page boundary (as SPLASH-2
     * aligns its blocks): blocks of different owners never share a page */
    a = aligned_alloc(4096, ((size_t)n * n * sizeof(double) + 4095) / 4096 * 4096);
    if (!a)
        DIE("out of memory");
    uint64_t r = 88172645463325252ULL;   /* xorshift64: the same matrix every run */
    for (long i = 0; i < n; i++)
        for (long j = 0; j < n; j++) {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            double v = (double)(r >> 11) / 9007199254740992.0 + (i == j ? (double)n : 0.0);
            block(i / bs, j / bs)[(i % bs) * bs + j % bs] = v;
        }
    pthread_barrier_init(&barrier, NULL, (unsigned)nthreads);
    int64_t elapsed = run_threads(lu, nthreads);
    double sum = 0;
    for (long i = 0; i < n; i++)
        for (long j = 0; j < n; j++)   /* row order, weighted: a misplaced block shows */
            sum += block(i / bs, j / bs)[(i % bs) * bs + j % bs] * (double)(1 + (i + 2 * j) % 7);
    printf("checksum %.12e\n", sum);
    printf("elapsed_s %.6f\n", elapsed / 1e9);
    return 0;
}
