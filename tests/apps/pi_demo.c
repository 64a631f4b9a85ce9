/* Monte Carlo estimate of pi with POSIX threads.
 *
 *   usage: pi_demo [THREADS [SAMPLES_PER_THREAD]]     (defaults: 4, 1000000)
 *
 * Each thread draws points with its own rand_r() seed and keeps its count in
 * a local variable, so the result is the same on every run, whatever the
 * scheduling. Expected exit status: 0 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_THREADS 64

struct task {
    unsigned seed;
    long samples;
    long hits;
};

static void *count_hits(void *arg)
{
    struct task *t = arg;
    unsigned seed = t->seed;
    long hits = 0;
    for (long i = 0; i < t->samples; i++) {
        double x = rand_r(&seed) / (double)RAND_MAX;
        double y = rand_r(&seed) / (double)RAND_MAX;
        if (x * x + y * y <= 1.0)
            hits++;
    }
    t->hits = hits;
    return NULL;
}

int main(int argc, char **argv)
{
    int nthreads = argc > 1 ? atoi(argv[1]) : 4;
    long samples = argc > 2 ? atol(argv[2]) : 1000000;
    if (nthreads < 1 || nthreads > MAX_THREADS || samples < 1) {
        fprintf(stderr, "usage: %s [THREADS(1-%d) [SAMPLES_PER_THREAD]]\n", argv[0], MAX_THREADS);
        return 2;
    }
    pthread_t tid[MAX_THREADS];
    struct task task[MAX_THREADS];
    for (int i = 0; i < nthreads; i++) {
        task[i] = (struct task){ .seed = 12345u + 1000u * (unsigned)i, .samples = samples };
        if (pthread_create(&tid[i], NULL, count_hits, &task[i]) != 0) {
            perror("pthread_create");
            return 1;
        }
    }
    long hits = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(tid[i], NULL);
        hits += task[i].hits;
    }
    double pi = 4.0 * hits / ((double)samples * nthreads);
    printf("pi ~= %.4f (%d threads, %ld samples)\n", pi, nthreads, samples * nthreads);
    return 0;
}
