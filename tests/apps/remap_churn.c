/* memory unmapped while other threads read remote memory: 4 threads, 24
 * rounds.  In each round every thread maps a 48-page buffer, fills it with a
 * pattern of (thread, round), publishes it, and after a barrier reads its
 * neighbour's buffer of this round whole - a long remote read stream under
 * pshare, prefetching - while it unmaps its own buffer of the round before
 * (nobody reads that one any more).  So munmaps, which pshare fences (no
 * rank asks for a page until the op is done everywhere), run while the
 * other threads' faults and prefetches are on their way; every byte read
 * must be the pattern, and each thread maps the next round's buffer where
 * the kernel chooses, often over the pages just unmapped.
 * Expected exit status: 0 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>

#define PAGE 4096
#define PAGES 48
#define THREADS 4
#define ROUNDS 24

static unsigned char *bufs[ROUNDS][THREADS];
static long wrong[THREADS];
static uint64_t sums[THREADS];
static pthread_barrier_t barrier;

static unsigned char pattern(long t, long round, long i)
{
    return (unsigned char)(1 + (t * 37 + round * 11 + i * 7 + i / PAGE) % 251);
}

static void *worker(void *arg)
{
    long me = (long)arg, next = (me + 1) % THREADS;
    for (long round = 0; round < ROUNDS; round++) {
        unsigned char *b = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (b == MAP_FAILED)
            return (void *)1;
        for (long i = 0; i < PAGES * PAGE; i++)
            b[i] = pattern(me, round, i);
        bufs[round][me] = b;
        pthread_barrier_wait(&barrier);
        if (round > 0)
            munmap(bufs[round - 1][me], PAGES * PAGE);
        const unsigned char *theirs = bufs[round][next];
        for (long i = 0; i < PAGES * PAGE; i++) {
            unsigned char v = ((volatile const unsigned char *)theirs)[i];
            wrong[me] += v != pattern(next, round, i);
            sums[me] = sums[me] * 31 + v;
        }
        pthread_barrier_wait(&barrier);    /* every read of this round is done */
    }
    munmap(bufs[ROUNDS - 1][me], PAGES * PAGE);
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    pthread_barrier_init(&barrier, NULL, THREADS);
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    long bad = 0;
    for (long i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        bad += r != NULL;
    }
    for (long i = 0; i < THREADS; i++) {
        printf("thread %ld read %016llx, wrong bytes %ld\n", i, (unsigned long long)sums[i], wrong[i]);
        bad += wrong[i] != 0;
    }
    printf("%s\n", bad ? "WRONG" : "every byte read was its writer's");
    return bad != 0;
}
