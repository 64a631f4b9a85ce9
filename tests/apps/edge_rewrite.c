/* An edge rewritten every round, as a stencil's boundary rows: a worker (on
 * rank 1 under pshare) writes every word of pages 4, 5 and 6 of a 64
 * KiB-aligned array in one quick burst (argv[1] rounds, default 100); then
 * main reads a word of each, which leaves the worker read copies, so its
 * next round's writes are upgrades.  Once a write stream that began at page
 * 4 has gone to page 6 in a burst, the next one that begins there asks for
 * the three pages at once (_engine.pyx write_window, PSHARE_WRITE_BURST_US):
 * one upgrade a round instead of two (tests/test_apps.py counts them).
 * Expected exit status: 0 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define PAGE 4096
#define PAGES 32
#define ALIGN (16UL * PAGE)
#define WORDS (PAGE / sizeof(long))
#define EDGE 4                              /* the edge: pages EDGE .. EDGE + 2 */

static long rounds;
static long *array;
static pthread_barrier_t written, read_back;

static void *writer(void *arg)
{
    (void)arg;
    for (long r = 0; r < rounds; r++) {
        for (long i = EDGE * WORDS; i < (EDGE + 3) * WORDS; i++)
            array[i] = r * 7 + i;
        pthread_barrier_wait(&written);
        pthread_barrier_wait(&read_back);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    rounds = argc > 1 ? atol(argv[1]) : 100;
    if (rounds < 1) {
        fprintf(stderr, "usage: %s [ROUNDS]\n", argv[0]);
        return 2;
    }
    char *raw = mmap(NULL, PAGES * PAGE + ALIGN, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return 1;
    array = (long *)(((unsigned long)raw + ALIGN - 1) & ~(ALIGN - 1));
    for (long i = 0; i < PAGES * (long)WORDS; i++)
        array[i] = -i;
    pthread_barrier_init(&written, NULL, 2);
    pthread_barrier_init(&read_back, NULL, 2);
    pthread_t t;
    if (pthread_create(&t, NULL, writer, NULL) != 0)
        return 1;
    long sum = 0, wrong = 0;
    for (long r = 0; r < rounds; r++) {
        pthread_barrier_wait(&written);
        for (long p = EDGE; p < EDGE + 3; p++) {
            long i = p * WORDS + (long)WORDS / 2;
            sum += array[i];
            wrong += array[i] != r * 7 + i;
        }
        pthread_barrier_wait(&read_back);
    }
    if (pthread_join(t, NULL) != 0)
        return 1;
    printf("%ld rounds: sum %ld, wrong %ld\n", rounds, sum, wrong);
    return wrong != 0;
}
