/* Blocks of two pages read down a column: main fills an array of NB blocks
 * of 2 pages spaced STRIDE pages apart (argv[1], argv[2]; default 64 and 40),
 * the first OFFSET pages (argv[3], default 0) past a 64 KiB boundary, then a
 * worker (on rank 1 under pshare) sums each block in turn, as SPLASH LU's
 * threads read a panel.  Under pshare each block is a new read stream;
 * once two streams began the same distance apart, the next one asks at once
 * for the two pages the last one needed (_engine.pyx strided_run): about one
 * fault a block instead of two, and the blocks after it are asked for
 * ahead (strided_prefetch), the part of a block past a page group's end
 * too (tests/test_apps.py counts them).
 * Expected exit status: 0 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define PAGE 4096
#define BLOCK_PAGES 2
#define PER_PAGE (PAGE / sizeof(long))
#define ALIGN (16UL * PAGE)

static long nblocks, stride, offset;
static long *array;

static void *sum_blocks(void *arg)
{
    long *sum = arg;
    for (long b = 0; b < nblocks; b++) {
        const long *block = array + b * stride * PER_PAGE;
        for (long i = 0; i < BLOCK_PAGES * (long)PER_PAGE; i++)
            *sum += block[i];
    }
    return NULL;
}

int main(int argc, char **argv)
{
    nblocks = argc > 1 ? atol(argv[1]) : 64;
    stride = argc > 2 ? atol(argv[2]) : 40;
    offset = argc > 3 ? atol(argv[3]) : 0;
    if (nblocks < 1 || stride < BLOCK_PAGES || offset < 0 || offset > 15) {
        fprintf(stderr, "usage: %s [BLOCKS [STRIDE_PAGES >= %d [OFFSET_PAGES 0-15]]]\n",
                argv[0], BLOCK_PAGES);
        return 2;
    }
    /* 64 KiB aligned and OFFSET pages on: with 0 no block straddles two of
     * pshare's page groups (16 pages, each with its manager: a run stays
     * within one); with 15 and a stride of 16 pages' multiple every one does */
    char *raw = mmap(NULL, nblocks * stride * PAGE + 2 * ALIGN, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return 1;
    array = (long *)((((unsigned long)raw + ALIGN - 1) & ~(ALIGN - 1)) + offset * PAGE);
    for (long i = 0; i < nblocks * stride * (long)PER_PAGE; i++)
        array[i] = i % 1000;
    long sum = 0;
    pthread_t t;
    if (pthread_create(&t, NULL, sum_blocks, &sum) != 0 || pthread_join(t, NULL) != 0)
        return 1;
    printf("%ld blocks of %d pages, %ld pages apart: sum %ld\n", nblocks, BLOCK_PAGES, stride, sum);
    return 0;
}
