/* a page two threads take from one another to write, as a contended lock's:
 * 40 rounds, in each main and then the worker (on rank 1 under pshare) add
 * one to a word of that page, a pthread barrier between the turns, every
 * access by the same load instruction (bump()).  Under pshare each turn
 * finds the page on the other rank, writable there.  After two read faults
 * followed by upgrades, the worker's read faults ask for the page writable
 * (reads_for_write) and get it, though the page goes back and forth: one
 * fault a turn, not a read and then an upgrade (ext/agent/pages.c).
 * Expected exit status: 0 */
#include <pthread.h>
#include <stdio.h>

#define ROUNDS 40

static struct {
    long word;
} __attribute__((aligned(4096))) turn;   /* a page of its own: sizeof is 4096 */
static pthread_barrier_t bar;
static long worker_saw, main_saw;

/* one load for every access, a store after it */
__attribute__((noinline)) static long bump(volatile long *p)
{
    long v = *p;
    *p = v + 1;
    return v;
}

static void *worker(void *arg)
{
    (void)arg;
    long s = 0;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_barrier_wait(&bar);    /* main's turn is over */
        s += bump(&turn.word);
        pthread_barrier_wait(&bar);
    }
    worker_saw = s;
    return NULL;
}

int main(void)
{
    pthread_barrier_init(&bar, NULL, 2);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    long s = 0;
    for (int i = 0; i < ROUNDS; i++) {
        s += bump(&turn.word);
        pthread_barrier_wait(&bar);
        pthread_barrier_wait(&bar);    /* the worker's turn is over */
    }
    main_saw = s;
    pthread_join(t, NULL);
    /* main saw 0, 2, 4, ...; the worker 1, 3, 5, ... */
    long want_main = (long)ROUNDS * (ROUNDS - 1), want_worker = want_main + ROUNDS;
    printf("word %ld; main saw %s, the worker %s\n", turn.word,
           main_saw == want_main ? "every value" : "wrong values",
           worker_saw == want_worker ? "every value" : "wrong values");
    return turn.word != 2 * ROUNDS || main_saw != want_main || worker_saw != want_worker;
}
