/* Every thread waits and nobody computes: a worker (on rank 1 under pshare)
 * sleeps in pthread_cond_wait while main naps in nanosleep for MS ms
 * (argv[1], default 100), then wakes it.  The agents may poll while every
 * app thread of their rank waits, but only briefly: over a long nap they
 * must sleep too (tests/test_apps.py compares the job's CPU time for a
 * short and a long nap).
 * Expected exit status: 0 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int waiting, go;

static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    waiting = 1;
    pthread_cond_broadcast(&c);
    while (!go)
        pthread_cond_wait(&c, &m);
    pthread_mutex_unlock(&m);
    return NULL;
}

int main(int argc, char **argv)
{
    long ms = argc > 1 ? atol(argv[1]) : 100;
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0)
        return 1;
    pthread_mutex_lock(&m);
    while (!waiting)
        pthread_cond_wait(&c, &m);
    pthread_mutex_unlock(&m);
    struct timespec nap = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&nap, &nap) != 0)
        ;
    pthread_mutex_lock(&m);
    go = 1;
    pthread_cond_signal(&c);
    pthread_mutex_unlock(&m);
    pthread_join(t, NULL);
    printf("napped %ld ms while the worker waited\n", ms);
    return 0;
}
