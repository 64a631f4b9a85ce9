/* OpenMP, the HPC way to write a threaded program: gcc's libgomp runs its
 * own thread pool, futex barriers, task queues and locks.  Every construct
 * here gives an integer result that does not depend on scheduling, so the
 * output is the same natively and at any number of ranks.  num_threads(4)
 * keeps the team size independent of the machine. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#define N (1 << 20)
#define T 4

static long data[N];
static long tp_value;
#pragma omp threadprivate(tp_value)

static long fib(int n)
{
    if (n < 2)
        return n;
    long a, b;
#pragma omp task shared(a) if (n > 12)
    a = fib(n - 1);
#pragma omp task shared(b) if (n > 12)
    b = fib(n - 2);
#pragma omp taskwait
    return a + b;
}

int main(void)
{
    long sum = 0, critical_hits = 0, atomic_hits = 0, lock_hits = 0;
    int team = 0;
    omp_lock_t lock;
    omp_init_lock(&lock);

#pragma omp parallel num_threads(T)
    {
#pragma omp single
        team = omp_get_num_threads();
#pragma omp for schedule(static) reduction(+ : sum)
        for (long i = 0; i < N; i++) {
            data[i] = (i * 2654435761L) % 1000;
            sum += data[i];
        }
#pragma omp for schedule(dynamic, 4096)
        for (long i = 0; i < N; i++)
            data[i] = data[i] * 3 + 1;
        for (int k = 0; k < 1000; k++) {
#pragma omp critical
            critical_hits++;
#pragma omp atomic
            atomic_hits += 2;
            omp_set_lock(&lock);
            lock_hits += 3;
            omp_unset_lock(&lock);
        }
    }
    printf("team %d sum %ld critical %ld atomic %ld lock %ld\n", team, sum, critical_hits,
           atomic_hits, lock_hits);

    long after = 0;
#pragma omp parallel for num_threads(T) schedule(guided) reduction(+ : after)
    for (long i = 0; i < N; i++)
        after += data[i];
    printf("after dynamic pass %ld\n", after);

    /* a neighbour's slot is read only after the barrier */
    long slots[T], seen[T];
#pragma omp parallel num_threads(T)
    {
        int me = omp_get_thread_num();
        slots[me] = 100 + me * me;
#pragma omp barrier
        seen[me] = slots[(me + 1) % T];
    }
    for (int i = 0; i < T; i++)
        printf("thread %d saw neighbour %ld\n", i, seen[i]);

    /* many short regions: the pool is reused, its barrier crossed each time */
    long rounds = 0;
    for (int r = 0; r < 200; r++) {
#pragma omp parallel for num_threads(T) reduction(+ : rounds)
        for (int i = 0; i < 64; i++)
            rounds += i + r;
    }
    printf("200 short regions %ld\n", rounds);

    long f = 0;
#pragma omp parallel num_threads(T)
#pragma omp single
    f = fib(20);
    printf("fib(20) by tasks %ld\n", f);

    /* ordered: printed in iteration order whatever thread runs it */
#pragma omp parallel for num_threads(T) ordered schedule(dynamic, 1)
    for (int i = 0; i < 8; i++) {
        long v = (long)i * i;
#pragma omp ordered
        printf("ordered %d %ld\n", i, v);
    }

    /* threadprivate with copyin */
    tp_value = 7;
    long tp_sum = 0;
#pragma omp parallel num_threads(T) copyin(tp_value) reduction(+ : tp_sum)
    {
        tp_value += omp_get_thread_num();
        tp_sum += tp_value;
    }
    printf("threadprivate sum %ld\n", tp_sum);

    omp_destroy_lock(&lock);
    return 0;
}
