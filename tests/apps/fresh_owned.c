/* memory a thread maps for itself: a worker maps 64 pages, fills them, frees
 * half; main reads the rest after the join, then maps memory of its own at
 * the same place and finds zeroes.  Under pshare the worker's pages start on
 * its rank (no page travels to it), and only the pages main reads move.
 * Expected exit status: 0 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define PAGES 64
#define PAGE 4096

static unsigned char *region;
static long worker_sum;

static void *worker(void *arg)
{
    (void)arg;
    region = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED)
        return (void *)1;
    long zeros = 0;
    for (int p = 0; p < PAGES; p++)
        zeros += region[p * PAGE + 100] == 0;       /* fresh memory reads as zeroes */
    for (int p = 0; p < PAGES; p++)
        memset(region + p * PAGE, p + 1, PAGE);
    for (long i = 0; i < PAGES * PAGE; i += 64)
        worker_sum += region[i];
    printf("worker: %ld fresh pages were zero, sum %ld\n", zeros, worker_sum);
    munmap(region + PAGES / 2 * PAGE, PAGES / 2 * PAGE);
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_t t;
    void *ret;
    pthread_create(&t, NULL, worker, NULL);
    pthread_join(t, &ret);
    if (ret)
        return 1;
    long sum = 0;
    for (long i = 0; i < PAGES / 2 * PAGE; i += 64)
        sum += region[i];
    printf("main: the first half sums to %ld\n", sum);
    /* mine now, at the same place: zeroes again */
    unsigned char *again = mmap(region + PAGES / 2 * PAGE, PAGES / 2 * PAGE, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    long nonzero = 0;
    for (long i = 0; i < PAGES / 2 * PAGE; i++)
        nonzero += again[i] != 0;
    memset(again, 7, PAGES / 2 * PAGE);
    printf("main: remapped half has %ld nonzero bytes, now %d\n", nonzero, again[5]);
    return 0;
}
