/* A worker (on rank 1 under pshare) computes for MS ms (argv[1], default
 * 200) touching only its registers and stack, while main waits for it in
 * pthread_join; then the worker says whether it was preempted at most MAX
 * times meanwhile (argv[2], default no limit; getrusage RUSAGE_THREAD:
 * involuntary context switches; the count only when over).  Nothing
 * happens in the job, so the agents must leave the core to it: an idle
 * agent that woke every 2 ms to look for work preempted it about 500 times
 * a second (tests/test_apps.py runs it with a bound).
 * Expected exit status: 0 (1: preempted more than MAX times) */
#define _GNU_SOURCE          /* RUSAGE_THREAD */
#include <pthread.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static long ms;

static long elapsed_ms(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void *worker(void *arg)
{
    long most = *(long *)arg;
    struct rusage before, after;
    struct timespec t0;
    volatile unsigned long sum = 0;
    getrusage(RUSAGE_THREAD, &before);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (elapsed_ms(&t0) < ms)
        for (unsigned long i = 0; i < 100000; i++)
            sum += i;
    getrusage(RUSAGE_THREAD, &after);
    long preempted = after.ru_nivcsw - before.ru_nivcsw;
    if (preempted > most) {
        printf("computed %ld ms, preempted %ld times: more than %ld\n", ms, preempted, most);
        *(long *)arg = -1;
    } else {
        printf("computed %ld ms, preempted at most %ld times\n", ms, most);
    }
    fflush(stdout);             /* from the worker's rank: a forwarded write */
    return NULL;
}

int main(int argc, char **argv)
{
    ms = argc > 1 ? atol(argv[1]) : 200;
    long most = argc > 2 ? atol(argv[2]) : LONG_MAX;
    pthread_t t;
    if (pthread_create(&t, NULL, worker, &most) != 0 || pthread_join(t, NULL) != 0)
        return 2;
    return most < 0 ? 1 : 0;
}
