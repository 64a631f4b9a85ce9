/* condition variables: bounded-buffer producer/consumer (2 producers, 2
 * consumers), broadcast, and pthread_cond_timedwait timing out.
 * Expected exit status: 0 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NPROD 2
#define NCONS 2
#define ITEMS 500
#define CAP 8
#define POISON (-1L)

static long buf[CAP];
static int head, tail, count;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;

struct cons_result {
    long n, sum;
    int order_ok;
};

static void put(long v)
{
    pthread_mutex_lock(&m);
    while (count == CAP)
        pthread_cond_wait(&not_full, &m);
    buf[tail] = v;
    tail = (tail + 1) % CAP;
    count++;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&m);
}

static long get(void)
{
    pthread_mutex_lock(&m);
    while (count == 0)
        pthread_cond_wait(&not_empty, &m);
    long v = buf[head];
    head = (head + 1) % CAP;
    count--;
    pthread_cond_signal(&not_full);
    pthread_mutex_unlock(&m);
    return v;
}

static void *producer(void *arg)
{
    long id = (long)arg;
    for (long k = 0; k < ITEMS; k++)
        put(id * 100000 + k);
    return NULL;
}

static void *consumer(void *arg)
{
    struct cons_result *r = arg;
    long last[NPROD];
    for (int i = 0; i < NPROD; i++)
        last[i] = -1;
    r->order_ok = 1;
    for (;;) {
        long v = get();
        if (v == POISON)
            break;
        long p = v / 100000, k = v % 100000;
        if (k <= last[p])
            r->order_ok = 0; /* FIFO per producer must hold */
        last[p] = k;
        r->n++;
        r->sum += v;
    }
    return NULL;
}

/* broadcast: 3 waiters released by one broadcast */
static pthread_mutex_t gm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gc = PTHREAD_COND_INITIALIZER;
static int go, waiting, released;

static void *waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&gm);
    waiting++;
    pthread_cond_broadcast(&gc); /* tell main we are waiting */
    while (!go)
        pthread_cond_wait(&gc, &gm);
    released++;
    pthread_mutex_unlock(&gm);
    return NULL;
}

int main(void)
{
    pthread_t p[NPROD], c[NCONS];
    struct cons_result res[NCONS];
    memset(res, 0, sizeof res);
    for (long i = 0; i < NCONS; i++)
        pthread_create(&c[i], NULL, consumer, &res[i]);
    for (long i = 0; i < NPROD; i++)
        pthread_create(&p[i], NULL, producer, (void *)i);
    for (int i = 0; i < NPROD; i++)
        pthread_join(p[i], NULL);
    for (int i = 0; i < NCONS; i++)
        put(POISON);
    for (int i = 0; i < NCONS; i++)
        pthread_join(c[i], NULL);

    long n = 0, sum = 0;
    int ok = 1;
    for (int i = 0; i < NCONS; i++) {
        n += res[i].n;
        sum += res[i].sum;
        ok &= res[i].order_ok;
    }
    long expect = 0;
    for (long id = 0; id < NPROD; id++)
        for (long k = 0; k < ITEMS; k++)
            expect += id * 100000 + k;
    printf("consumed %ld items (expected %d)\n", n, NPROD * ITEMS);
    printf("sum %ld (expected %ld)\n", sum, expect);
    printf("per-producer FIFO order: %s\n", ok ? "ok" : "BROKEN");

    pthread_t w[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&w[i], NULL, waiter, NULL);
    pthread_mutex_lock(&gm);
    while (waiting < 3)
        pthread_cond_wait(&gc, &gm);
    go = 1;
    pthread_cond_broadcast(&gc);
    pthread_mutex_unlock(&gm);
    for (int i = 0; i < 3; i++)
        pthread_join(w[i], NULL);
    printf("broadcast released %d waiters\n", released);

    pthread_cond_t never = PTHREAD_COND_INITIALIZER;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 20 * 1000 * 1000;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&m);
    int rc;
    do
        rc = pthread_cond_timedwait(&never, &m, &ts);
    while (rc == 0); /* spurious wakeup: wait again */
    pthread_mutex_unlock(&m);
    printf("timedwait: %s\n", rc == ETIMEDOUT ? "ETIMEDOUT" : "unexpected");
    return (n == NPROD * ITEMS && sum == expect && ok) ? 0 : 1;
}
