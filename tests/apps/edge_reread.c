/* An edge read again every round, as a stencil's neighbour row: main writes
 * pages 15, 16 and 17 of a 64 KiB-aligned array (argv[1] rounds, default
 * 100), then a worker (on rank 1 under pshare) reads the end of page 15
 * and the start of page 16 - two pages that pshare's page groups (16 pages,
 * one manager each) split, so the read is two faults.  The second page's
 * fault continues the read stream; it must not bring the pages after it
 * once the stream is known to end there (_engine.pyx read_window,
 * rd_expect): main writes page 17 every round, and each copy brought would
 * be taken back (tests/test_apps.py counts the worker's pages in).
 * Expected exit status: 0 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define PAGE 4096
#define PAGES 32
#define ALIGN (16UL * PAGE)
#define WORDS (PAGE / sizeof(long))

static long rounds;
static long *array;
static pthread_barrier_t written, read_back;

static void *reader(void *arg)
{
    const volatile long *edge = array;      /* in this order: page 15's end, then 16's start */
    long sum = 0;
    for (long r = 0; r < rounds; r++) {
        pthread_barrier_wait(&written);
        sum += edge[16 * WORDS - 1];
        sum += edge[16 * WORDS];
        pthread_barrier_wait(&read_back);
    }
    *(long *)arg = sum;
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
        array[i] = i;
    pthread_barrier_init(&written, NULL, 2);
    pthread_barrier_init(&read_back, NULL, 2);
    long sum = 0;
    pthread_t t;
    if (pthread_create(&t, NULL, reader, &sum) != 0)
        return 1;
    for (long r = 0; r < rounds; r++) {
        array[16 * WORDS - 1] = r;          /* page 15 */
        array[16 * WORDS] = 2 * r;          /* page 16 */
        array[17 * WORDS] = 3 * r;          /* page 17: only main's */
        pthread_barrier_wait(&written);
        pthread_barrier_wait(&read_back);
    }
    if (pthread_join(t, NULL) != 0)
        return 1;
    printf("%ld rounds: sum %ld, page 17 holds %ld\n", rounds, sum, array[17 * WORDS]);
    return 0;
}
