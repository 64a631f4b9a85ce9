/* reads that are writes: a worker (on rank 1 under pshare) adds one to a
 * word in each of 32 pages main filled, then only reads a word in each of
 * 16 more, every access by the same load instruction (bump()).  Under
 * pshare the first two pages take a read fault and then an upgrade each;
 * from then on that instruction's read faults ask for the page writable
 * (reads_for_write), one in 8 of them checked: mapped read only, its write
 * opened without a message (upgrades_local).  In the read-only part the
 * third guess is checked, found wrong and forgotten: the other 13 pages are
 * plain reads.  Main then reads every page back.
 * Expected exit status: 0 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096
#define WRITTEN 32
#define READ 16
#define STRIDE (2 * PAGE)       /* every other page: no read run joins them */

static unsigned char *area;
static long seen;

/* one load for every access, whether a store follows it or not */
__attribute__((noinline)) static long bump(volatile long *p, int write)
{
    long v = *p;
    if (write)
        *p = v + 1;
    return v;
}

static void *worker(void *arg)
{
    (void)arg;
    long s = 0;
    for (int i = 0; i < WRITTEN; i++)
        s += bump((volatile long *)(area + (long)i * STRIDE), 1);
    for (int i = WRITTEN; i < WRITTEN + READ; i++)
        s += bump((volatile long *)(area + (long)i * STRIDE), 0);
    seen = s;
    return NULL;
}

int main(void)
{
    long n = (long)(WRITTEN + READ) * STRIDE;
    if (posix_memalign((void **)&area, PAGE, n))
        return 1;
    memset(area, 0, n);
    long want_seen = 0;
    for (int i = 0; i < WRITTEN + READ; i++) {
        *(long *)(area + (long)i * STRIDE) = 1000 + i;
        want_seen += 1000 + i;
    }
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    pthread_join(t, NULL);
    int wrong = 0;
    for (int i = 0; i < WRITTEN + READ; i++)
        if (*(long *)(area + (long)i * STRIDE) != 1000 + i + (i < WRITTEN))
            wrong++;
    printf("worker saw %s; wrong words: %d\n", seen == want_seen ? "every value" : "wrong values",
           wrong);
    return wrong || seen != want_seen;
}
