/* a process-shared barrier used by threads: pshare's distributed barrier
 * takes only process-private ones, so this one runs glibc's algorithm on
 * glibc's layout with its futexes on home's kernel (ext/rt/barrier.c); each
 * phase reads the neighbours' values of the phase before, exactly one
 * serial thread a phase, then the barrier is destroyed and made again with
 * another count.
 * Expected exit status: 0 */
#include <pthread.h>
#include <stdio.h>

#define NTHREADS 3
#define PHASES 5

static pthread_barrier_t bar;
static long val[PHASES + 1][NTHREADS];
static int serial_count[PHASES];

static void *worker(void *arg)
{
    int id = (int)(long)arg;
    for (int p = 1; p <= PHASES; p++) {
        val[p][id] = val[p - 1][(id + 1) % NTHREADS] * 2 + val[p - 1][id] + p;
        if (pthread_barrier_wait(&bar) == PTHREAD_BARRIER_SERIAL_THREAD)
            serial_count[p - 1]++;
        pthread_barrier_wait(&bar);
    }
    return NULL;
}

static void *wait_once(void *arg)
{
    return (void *)(long)(pthread_barrier_wait(arg) == PTHREAD_BARRIER_SERIAL_THREAD);
}

int main(void)
{
    pthread_barrierattr_t attr;
    pthread_barrierattr_init(&attr);
    pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_barrier_init(&bar, &attr, NTHREADS);
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        val[0][i] = i + 1;
    for (long i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&bar);
    for (int p = 1; p <= PHASES; p++)
        printf("phase %d: %ld %ld %ld (serial threads: %d)\n", p, val[p][0], val[p][1], val[p][2],
               serial_count[p - 1]);
    /* made again, for 2: main and one thread */
    pthread_barrier_init(&bar, &attr, 2);
    pthread_create(&t[0], NULL, wait_once, &bar);
    long serial = pthread_barrier_wait(&bar) == PTHREAD_BARRIER_SERIAL_THREAD;
    void *rv;
    pthread_join(t[0], &rv);
    printf("again: %ld serial\n", serial + (long)rv);
    pthread_barrier_destroy(&bar);
    return 0;
}
