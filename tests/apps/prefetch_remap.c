/* memory replaced while a prefetch of it is on its way: each round main
 * maps and fills 64 pages, and a worker (on another rank under pshare)
 * reads the first 16 - enough for its stream to prefetch the next 16 for
 * no thread - then maps fresh memory over all 64 (MAP_FIXED), waits, and
 * reads it: zeroes, as natively.  Under pshare the op is fenced: the
 * prefetch's grant must land before the op, never in the new mapping
 * (tests run it with PSHARE_DEBUG_PREFETCH_DELAY_MS, so that the grant
 * comes long after the op's replay would have).
 * Expected exit status: 0 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096
#define PAGES 64
#define ROUNDS 6

static unsigned char *buf;
static long nonzero[ROUNDS];
static uint64_t first_sum[ROUNDS];

static void *worker(void *arg)
{
    long round = (long)arg;
    uint64_t s = 0;
    for (long w = 0; w < 16 * PAGE / 8; w++)
        s = s * 31 + ((volatile const uint64_t *)buf)[w];
    first_sum[round] = s;
    if (mmap(buf, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
             -1, 0) != buf)
        return (void *)1;
    usleep(400 * 1000);                /* longer than the tests' prefetch delay */
    long n = 0;
    for (long i = 0; i < PAGES * PAGE; i++)
        n += ((volatile unsigned char *)buf)[i] != 0;
    nonzero[round] = n;
    return NULL;
}

int main(void)
{
    int bad = 0;
    for (long round = 0; round < ROUNDS; round++) {
        buf = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (buf == MAP_FAILED)
            return 1;
        for (long i = 0; i < PAGES * PAGE; i++)
            buf[i] = (unsigned char)(1 + (round + i * 7 + i / PAGE) % 255);
        pthread_t t;
        void *ret;
        pthread_create(&t, NULL, worker, (void *)round);
        pthread_join(t, &ret);
        if (ret)
            return 2;
        printf("round %ld: first 16 pages sum %016llx, bytes not zero after the new mapping: %ld\n",
               round, (unsigned long long)first_sum[round], nonzero[round]);
        bad += nonzero[round] != 0;
        munmap(buf, PAGES * PAGE);
    }
    printf("%s\n", bad ? "WRONG: old bytes in new memory" : "new memory read as zeroes");
    return bad != 0;
}
