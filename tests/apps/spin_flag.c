/* Two threads hand a turn back and forth by spinning on a shared word, no
 * lock, no futex: main (home) waits for odd values, a worker (rank 1 under
 * pshare) for even ones, ROUNDS times (argv[1], default 200).  Under
 * pshare each hand-over moves the word's page, and the rank that waits for
 * it has a thread spinning on its core: the agents must still be scheduled
 * there (tests/test_apps.py pins both ranks to one core).
 * Expected exit status: 0 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static long rounds;
static volatile long turn;      /* 2n+1: the worker's round n is done; 2n+2: main's */

static void *worker(void *arg)
{
    (void)arg;
    for (long n = 0; n < rounds; n++) {
        while (__atomic_load_n(&turn, __ATOMIC_SEQ_CST) != 2 * n)
            ;
        __atomic_store_n(&turn, 2 * n + 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    rounds = argc > 1 ? atol(argv[1]) : 200;
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0)
        return 1;
    for (long n = 0; n < rounds; n++) {
        while (__atomic_load_n(&turn, __ATOMIC_SEQ_CST) != 2 * n + 1)
            ;
        __atomic_store_n(&turn, 2 * n + 2, __ATOMIC_SEQ_CST);
    }
    pthread_join(t, NULL);
    printf("rounds %ld, turn %ld\n", rounds, turn);
    return 0;
}
