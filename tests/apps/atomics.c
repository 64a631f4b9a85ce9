/* C11 atomics: fetch_add/fetch_sub, CAS-loop maximum, exchange, an
 * atomic_flag spinlock and release/acquire message passing.
 * Expected exit status: 0 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>

#define NTHREADS 4
#define ITERS 2000
#define SPIN_ITERS 200

static atomic_long counter;
static atomic_long down = NTHREADS * ITERS;
static atomic_long maxval = -1;
static atomic_flag spin = ATOMIC_FLAG_INIT;
static long spin_protected;
static atomic_int ticket;

static long payload;
static atomic_int ready;

static void cas_max(long v)
{
    long cur = atomic_load(&maxval);
    while (v > cur && !atomic_compare_exchange_weak(&maxval, &cur, v))
        ; /* cur was reloaded by the failed CAS */
}

static void *worker(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < ITERS; i++) {
        atomic_fetch_add(&counter, 1);
        atomic_fetch_sub_explicit(&down, 1, memory_order_relaxed);
        if (i % 100 == 0)
            cas_max((id * 7919 + i * 104729) % 1000003);
    }
    for (int i = 0; i < SPIN_ITERS; i++) {
        while (atomic_flag_test_and_set_explicit(&spin, memory_order_acquire))
            sched_yield();
        spin_protected++;
        atomic_flag_clear_explicit(&spin, memory_order_release);
    }
    atomic_fetch_add(&ticket, 1);
    return NULL;
}

static void *mp_reader(void *arg)
{
    long *out = arg;
    while (!atomic_load_explicit(&ready, memory_order_acquire))
        sched_yield();
    *out = payload;
    return NULL;
}

int main(void)
{
    pthread_t t[NTHREADS];
    for (long i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);

    long expect_max = -1;
    for (long id = 0; id < NTHREADS; id++)
        for (int i = 0; i < ITERS; i += 100) {
            long v = (id * 7919 + i * 104729) % 1000003;
            if (v > expect_max)
                expect_max = v;
        }
    printf("fetch_add counter = %ld (expected %d)\n", atomic_load(&counter), NTHREADS * ITERS);
    printf("fetch_sub down = %ld (expected 0)\n", atomic_load(&down));
    printf("CAS max = %ld (expected %ld)\n", atomic_load(&maxval), expect_max);
    printf("spinlock-protected counter = %ld (expected %d)\n", spin_protected, NTHREADS * SPIN_ITERS);
    printf("tickets = %d\n", atomic_load(&ticket));

    long got = 0;
    pthread_t r;
    pthread_create(&r, NULL, mp_reader, &got);
    payload = 424242;
    atomic_store_explicit(&ready, 1, memory_order_release);
    pthread_join(r, NULL);
    printf("release/acquire payload = %ld\n", got);

    int old = atomic_exchange(&ready, 7);
    int expected = 7;
    _Bool ok = atomic_compare_exchange_strong(&ready, &expected, 9);
    printf("exchange old=%d, strong CAS ok=%d now=%d\n", old, ok, atomic_load(&ready));
    expected = 1;
    ok = atomic_compare_exchange_strong(&ready, &expected, 5);
    printf("failing CAS ok=%d expected reloaded=%d\n", ok, expected);
    return 0;
}
