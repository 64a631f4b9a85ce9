/* barrier: 4 threads x 6 phases; each phase reads the neighbour's value from
 * the previous phase, so a broken barrier gives a different table.
 * Expected exit status: 0 */
#include <pthread.h>
#include <stdio.h>

#define NTHREADS 4
#define PHASES 6

static pthread_barrier_t bar;
static long val[PHASES + 1][NTHREADS];
static int serial_count[PHASES];

static void *worker(void *arg)
{
    int id = (int)(long)arg;
    for (int p = 1; p <= PHASES; p++) {
        long left = val[p - 1][(id + NTHREADS - 1) % NTHREADS];
        long right = val[p - 1][(id + 1) % NTHREADS];
        val[p][id] = left * 3 + right * 2 + val[p - 1][id] + p;
        int r = pthread_barrier_wait(&bar);
        if (r == PTHREAD_BARRIER_SERIAL_THREAD)
            serial_count[p - 1]++; /* exactly one thread per phase */
        else if (r != 0)
            return (void *)1;
        pthread_barrier_wait(&bar); /* keep serial_count writes inside a phase */
    }
    return NULL;
}

int main(void)
{
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        val[0][i] = i + 1;
    pthread_barrier_init(&bar, NULL, NTHREADS);
    for (long i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    int bad = 0;
    for (int i = 0; i < NTHREADS; i++) {
        void *rv;
        pthread_join(t[i], &rv);
        bad |= rv != NULL;
    }
    pthread_barrier_destroy(&bar);
    for (int p = 0; p <= PHASES; p++) {
        printf("phase %d:", p);
        for (int i = 0; i < NTHREADS; i++)
            printf(" %ld", val[p][i]);
        if (p > 0)
            printf("  (serial threads: %d)", serial_count[p - 1]);
        printf("\n");
    }
    return bad;
}
