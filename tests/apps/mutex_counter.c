/* mutex: exact shared counter, trylock EBUSY, recursive and errorcheck mutexes.
 * Expected exit status: 0 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define NTHREADS 4
#define ITERS 2500

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static long per_thread[NTHREADS];

static void *worker(void *arg)
{
    int id = (int)(long)arg;
    for (int i = 0; i < ITERS; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        per_thread[id]++;
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t errchk;

static void *try_worker(void *arg)
{
    int *res = arg;
    res[0] = pthread_mutex_trylock(&held);   /* main holds it: EBUSY */
    res[1] = pthread_mutex_unlock(&errchk);  /* not the owner: EPERM */
    return NULL;
}

static const char *ename(int e)
{
    switch (e) {
    case 0: return "0";
    case EBUSY: return "EBUSY";
    case EPERM: return "EPERM";
    case EDEADLK: return "EDEADLK";
    default: return "other";
    }
}

int main(void)
{
    pthread_t t[NTHREADS];
    for (long i = 0; i < NTHREADS; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
            return 1;
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    printf("counter = %ld (expected %d)\n", counter, NTHREADS * ITERS);
    for (int i = 0; i < NTHREADS; i++)
        printf("thread %d did %ld increments\n", i, per_thread[i]);

    /* recursive mutex */
    pthread_mutexattr_t a;
    pthread_mutex_t rec;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&rec, &a);
    int r1 = pthread_mutex_lock(&rec);
    int r2 = pthread_mutex_lock(&rec);
    int r3 = pthread_mutex_lock(&rec);
    int u = pthread_mutex_unlock(&rec) | pthread_mutex_unlock(&rec) | pthread_mutex_unlock(&rec);
    printf("recursive lock x3: %d %d %d, unlock x3: %d\n", r1, r2, r3, u);

    /* errorcheck mutex */
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&errchk, &a);
    pthread_mutex_lock(&errchk);
    printf("errorcheck relock: %s\n", ename(pthread_mutex_lock(&errchk)));

    /* trylock from another thread while main holds the lock */
    int res[2];
    pthread_mutex_lock(&held);
    pthread_t tt;
    pthread_create(&tt, NULL, try_worker, res);
    pthread_join(tt, NULL);
    pthread_mutex_unlock(&held);
    pthread_mutex_unlock(&errchk);
    printf("trylock while held: %s\n", ename(res[0]));
    printf("unlock by non-owner: %s\n", ename(res[1]));
    printf("trylock when free: %s\n", ename(pthread_mutex_trylock(&held)));
    pthread_mutex_unlock(&held);
    return counter == NTHREADS * ITERS ? 0 : 1;
}
