/* Creates threads (all alive at once) until pthread_create fails or CAP are
 * alive.  A failure must be EAGAIN, as natively; then every thread created is
 * released and joined, and new threads can be created again.  Natively the
 * limit is elsewhere (CAP is reached first): only what both guarantee is
 * printed. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CAP 2100

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int go;
static long ran;

static void *worker(void *arg)
{
    pthread_mutex_lock(&lock);
    while (!go)
        pthread_cond_wait(&cond, &lock);
    ran += (long)arg;
    pthread_mutex_unlock(&lock);
    return arg;
}

static pthread_t t[CAP];

int main(void)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    int n = 0, err = 0;
    while (n < CAP) {
        err = pthread_create(&t[n], &attr, worker, (void *)1L);
        if (err)
            break;
        n++;
    }
    if (err && err != EAGAIN) {
        printf("FAIL: pthread_create gave %s, not EAGAIN\n", strerror(err));
        return 1;
    }
    if (n < 100) {
        printf("FAIL: only %d threads\n", n);
        return 1;
    }
    printf("created threads until EAGAIN or the cap; every failure was EAGAIN\n");
    pthread_mutex_lock(&lock);
    go = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    long joined = 0;
    for (int i = 0; i < n; i++) {
        void *r;
        if (pthread_join(t[i], &r) == 0)
            joined += (long)r;
    }
    if (joined != n || ran != n) {
        printf("FAIL: joined %ld, ran %ld, created %d\n", joined, ran, n);
        return 1;
    }
    printf("all released and joined\n");
    /* the job goes on: threads can be made again once those are gone (slots
     * free up as the exits are processed, so retry EAGAIN for a while) */
    ran = 0;
    for (int i = 0; i < 8; i++) {
        int tries = 0;
        while ((err = pthread_create(&t[i], &attr, worker, (void *)2L)) == EAGAIN && tries++ < 2000) {
            struct timespec ts = { 0, 5 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
        if (err) {
            printf("FAIL: new thread %d: %s\n", i, strerror(err));
            return 1;
        }
    }
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    printf("8 more threads ran: %ld\n", ran);
    return 0;
}
