/* A worker (on rank 1 under pshare) computes until its own CPU clock
 * (CLOCK_THREAD_CPUTIME_ID) has run MS ms (argv[1], default 300), while
 * main waits for it in pthread_join.  Its output is the same whatever it
 * ran on; the job's --stats-json must then count at least that much CPU
 * time for the app process of the worker's rank (tests/test_apps.py).
 * Expected exit status: 0 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long ms;

static long cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void *worker(void *arg)
{
    (void)arg;
    volatile unsigned long sum = 0;
    long t0 = cpu_ms();
    while (cpu_ms() - t0 < ms)
        for (unsigned long i = 0; i < 100000; i++)
            sum += i;
    printf("computed %ld ms of CPU time\n", ms);
    fflush(stdout);
    return NULL;
}

int main(int argc, char **argv)
{
    ms = argc > 1 ? atol(argv[1]) : 300;
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0 || pthread_join(t, NULL) != 0)
        return 2;
    return 0;
}
