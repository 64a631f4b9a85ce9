/* a long sequential read of memory main wrote: a worker (on rank 1 under
 * pshare) sums 256 pages word by word, then a 40-page mapping whose next
 * pages are not mapped.  Under pshare the first stream soon asks for whole
 * 16-page groups and prefetches the next group while it reads one
 * (pages_prefetched); the second never prefetches past its mapping's end
 * (the managers know no mappings: the runtime says how far it goes).
 * Expected exit status: 0 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE 4096
#define LONG_PAGES 256
#define SHORT_PAGES 40

static unsigned char *big, *small;
static uint64_t sums[2];

static uint64_t scan(const unsigned char *p, long pages)
{
    uint64_t s = 0;
    for (long w = 0; w < pages * PAGE / 8; w++)
        s = s * 31 + ((volatile const uint64_t *)p)[w];
    return s;
}

static void *worker(void *arg)
{
    (void)arg;
    sums[0] = scan(big, LONG_PAGES);
    sums[1] = scan(small, SHORT_PAGES);
    return NULL;
}

static void fill(unsigned char *p, long pages, unsigned seed)
{
    for (long i = 0; i < pages * PAGE; i++)
        p[i] = (unsigned char)(seed + i * 7 + i / PAGE);
}

int main(void)
{
    big = mmap(NULL, LONG_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    /* 48 pages, then the last 8 unmapped: the 40 end where nothing is mapped */
    small = mmap(NULL, (SHORT_PAGES + 8) * PAGE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (big == MAP_FAILED || small == MAP_FAILED)
        return 1;
    munmap(small + SHORT_PAGES * PAGE, 8 * PAGE);
    fill(big, LONG_PAGES, 1);
    fill(small, SHORT_PAGES, 2);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    pthread_join(t, NULL);
    int right = sums[0] == scan(big, LONG_PAGES) && sums[1] == scan(small, SHORT_PAGES);
    printf("sums %llx %llx: %s\n", (unsigned long long)sums[0], (unsigned long long)sums[1],
           right ? "the worker read what main wrote" : "WRONG");
    return !right;
}
