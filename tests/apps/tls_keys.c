/* __thread variables (initialised and zeroed TLS) and pthread keys with
 * destructors; destructors add to a mutex-protected sum printed by main.
 * Expected exit status: 0 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define NTHREADS 4

static __thread int tls_init = 100;
static __thread long tls_zero;
static __thread char tls_buf[64];

static pthread_key_t key, unused_key;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int once_calls;

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static long destructor_sum;
static int destructor_calls;
static int unused_destructor_calls;

static void destructor(void *p)
{
    long v = *(long *)p;
    free(p);
    pthread_mutex_lock(&m);
    destructor_sum += v;
    destructor_calls++;
    pthread_mutex_unlock(&m);
}

static void unused_destructor(void *p)
{
    (void)p;
    pthread_mutex_lock(&m);
    unused_destructor_calls++;
    pthread_mutex_unlock(&m);
}

static void init_once(void)
{
    once_calls++;
}

struct result {
    int init_seen;
    long zero_seen;
    int final_init;
    long final_zero;
    uintptr_t addr;
    int getspecific_ok;
    char buf[64];
};

static struct result res[NTHREADS];
static pthread_barrier_t bar;

static void *worker(void *arg)
{
    int id = (int)(long)arg;
    struct result *r = &res[id];
    pthread_once(&once, init_once);
    r->init_seen = tls_init;
    r->zero_seen = tls_zero;
    for (int i = 0; i < 100 * (id + 1); i++) {
        tls_init++;
        tls_zero += id;
    }
    snprintf(tls_buf, sizeof tls_buf, "thread-%d-private", id);
    long *v = malloc(sizeof *v);
    *v = (id + 1) * 1000;
    pthread_setspecific(key, v);
    pthread_barrier_wait(&bar); /* all threads modified their TLS concurrently */
    r->final_init = tls_init;
    r->final_zero = tls_zero;
    r->addr = (uintptr_t)&tls_init;
    r->getspecific_ok = pthread_getspecific(key) == v && pthread_getspecific(unused_key) == NULL;
    snprintf(r->buf, sizeof r->buf, "%s", tls_buf);
    return NULL;
}

int main(void)
{
    pthread_key_create(&key, destructor);
    pthread_key_create(&unused_key, unused_destructor);
    pthread_barrier_init(&bar, NULL, NTHREADS);
    tls_init = 5; /* main's copy only */
    pthread_t t[NTHREADS];
    for (long i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    int distinct = 1;
    for (int i = 0; i < NTHREADS; i++) {
        struct result *r = &res[i];
        printf("thread %d: initial tls_init=%d tls_zero=%ld final tls_init=%d tls_zero=%ld buf=%s getspecific=%s\n",
               i, r->init_seen, r->zero_seen, r->final_init, r->final_zero, r->buf,
               r->getspecific_ok ? "ok" : "BAD");
        for (int j = 0; j < i; j++)
            if (res[j].addr == r->addr || r->addr == (uintptr_t)&tls_init)
                distinct = 0;
    }
    printf("main tls_init=%d tls_zero=%ld tls_buf=\"%s\"\n", tls_init, tls_zero, tls_buf);
    printf("TLS addresses distinct per thread: %s\n", distinct ? "yes" : "no");
    printf("pthread_once calls: %d\n", once_calls);
    printf("destructor calls: %d, sum: %ld (expected 10000)\n", destructor_calls, destructor_sum);
    printf("destructor calls for never-set key: %d\n", unused_destructor_calls);
    return 0;
}
