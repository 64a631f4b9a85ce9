/* Direct-sum gravitational n-body steps (all pairs, softened), bodies split
 * into one block per thread.  Each step has two phases, each ended by a
 * pthread_barrier: every thread computes the acceleration of its bodies from
 * the positions of all bodies (read sharing: every thread reads every page of
 * the positions), then moves its own bodies (so on a DSM every rank's copies
 * of the positions are invalidated and fetched again in the next step).
 *
 *   usage: nbody THREADS BODIES STEPS
 *
 * Each body's update is computed the same way (same operations, same order)
 * whoever computes it, so the checksum is the same for any thread count.
 * stdout: "checksum ..." then "elapsed_s ..." (the steps only). */
#include <math.h>
#include <pthread.h>

#include "bench.h"

#define MAX_THREADS 256

static long n, nthreads, steps;
/* Structure of arrays: positions and masses are read by all, the rest is
 * written and read by the owner of each body only. */
static double *x, *y, *z, *m, *vx, *vy, *vz, *ax, *ay, *az;
static pthread_barrier_t barrier;

static const double DT = 1e-3, EPS2 = 1e-4;

static void *simulate(void *arg)
{
    long id = (long)arg;
    long lo = n * id / nthreads, hi = n * (id + 1) / nthreads;
    for (long s = 0; s < steps; s++) {
        for (long i = lo; i < hi; i++) {
            double xi = x[i], yi = y[i], zi = z[i], fx = 0, fy = 0, fz = 0;
            for (long j = 0; j < n; j++) {
                double dx = x[j] - xi, dy = y[j] - yi, dz = z[j] - zi;
                double r2 = dx * dx + dy * dy + dz * dz + EPS2;
                double w = m[j] / (r2 * sqrt(r2));
                fx += w * dx;
                fy += w * dy;
                fz += w * dz;
            }
            ax[i] = fx;
            ay[i] = fy;
            az[i] = fz;
        }
        pthread_barrier_wait(&barrier);   /* every force read the old positions */
        for (long i = lo; i < hi; i++) {
            vx[i] += DT * ax[i];
            vy[i] += DT * ay[i];
            vz[i] += DT * az[i];
            x[i] += DT * vx[i];
            y[i] += DT * vy[i];
            z[i] += DT * vz[i];
        }
        pthread_barrier_wait(&barrier);   /* every position moved */
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4 || atol(argv[1]) < 1 || atol(argv[1]) > MAX_THREADS || atol(argv[2]) < 2 ||
        atol(argv[3]) < 1)
        DIE("usage: %s THREADS(1-%d) BODIES(>=2) STEPS", argv[0], MAX_THREADS);
    nthreads = atol(argv[1]);
    n = atol(argv[2]);
    steps = atol(argv[3]);
    double **arrays[] = {&x, &y, &z, &m, &vx, &vy, &vz, &ax, &ay, &az};
    for (size_t a = 0; a < sizeof arrays / sizeof arrays[0]; a++)
        *arrays[a] = xcalloc(n, sizeof(double));
    uint64_t r = 88172645463325252ULL;   /* xorshift64: the same cloud every run */
#define NEXT() (r ^= r << 13, r ^= r >> 7, r ^= r << 17, (double)(r >> 11) / 9007199254740992.0)
    for (long i = 0; i < n; i++) {
        x[i] = NEXT() * 2 - 1;
        y[i] = NEXT() * 2 - 1;
        z[i] = NEXT() * 2 - 1;
        m[i] = (0.5 + NEXT()) / n;
        vx[i] = -0.1 * y[i];              /* a slow spin */
        vy[i] = 0.1 * x[i];
    }
    pthread_barrier_init(&barrier, NULL, (unsigned)nthreads);
    int64_t elapsed = run_threads(simulate, nthreads);
    double sum = 0;
    for (long i = 0; i < n; i++)
        sum += (x[i] + 2 * y[i] + 3 * z[i]) * (double)(1 + i % 7) + vx[i] - vy[i] + vz[i];
    printf("checksum %.12e\n", sum);
    printf("elapsed_s %.6f\n", elapsed / 1e9);
    return 0;
}
