/* main calls pthread_exit(NULL) while detached workers go on; the last
 * worker to finish prints the total, and the process exits with status 0
 * once all threads are gone (stdio is flushed by the implicit exit).
 * Expected exit status: 0 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#define NTHREADS 4

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int main_gone_soon;
static int done;
static long total;

static void *worker(void *arg)
{
    long id = (long)arg;
    pthread_mutex_lock(&m);
    while (!main_gone_soon)
        pthread_cond_wait(&c, &m);
    pthread_mutex_unlock(&m);

    struct timespec ts = { 0, (id + 1) * 20 * 1000 * 1000 }; /* outlive main */
    nanosleep(&ts, NULL);
    long s = 0;
    for (long i = 0; i < 1000 * (id + 1); i++)
        s += i % 7;

    pthread_mutex_lock(&m);
    total += s;
    if (++done == NTHREADS)
        printf("last worker: all %d workers done, total = %ld\n", NTHREADS, total);
    pthread_mutex_unlock(&m);
    return NULL;
}

int main(void)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (long i = 0; i < NTHREADS; i++) {
        pthread_t t;
        pthread_create(&t, &attr, worker, (void *)i);
    }
    printf("main: calling pthread_exit\n");
    pthread_mutex_lock(&m);
    main_gone_soon = 1;
    pthread_cond_broadcast(&c);
    pthread_mutex_unlock(&m);
    pthread_exit(NULL);
}
