/* Read faults under contention: main() writes THREADS * COUNT pages (so home
 * owns them), then THREADS worker threads (run with --placement 1,2,..,THREADS:
 * one on each of ranks 1..THREADS) wait for one start flag and each time the
 * first read of its own COUNT pages, all at the same time: home serves
 * THREADS fault streams at once.  pshare-bench faults --contention compares the
 * median with the idle read fault of `faults` (one worker, home otherwise
 * quiet).
 *
 *   usage: contention THREADS COUNT
 *
 * Prints, per worker T (0-based), "ns contended_T" with its COUNT fault times
 * and "window_T START END" (CLOCK_MONOTONIC ns of its first and last timed
 * access: comparable between workers on one host, so the caller can tell how
 * much the fault streams overlapped), then "bad_pages N" (pages whose contents
 * were not what main wrote; the program fails if N > 0).
 *
 * While the workers are timing, nothing is written to a page another thread
 * reads: each worker keeps its results on its own pages, written (so held by
 * its rank) before the start, and main only waits in pthread_join. */
#include <pthread.h>
#include <sys/mman.h>

#include "bench.h"

#define PAGE 4096
/* a worker's result page(s): COUNT samples, then these slots */
enum { SLOT_START, SLOT_END, SLOT_BAD, SLOTS };

static long threads, count;
static char *region;                  /* THREADS * COUNT pages */
static long *ready, *go;              /* a page each */
static int64_t **results;             /* per worker: COUNT + SLOTS, page-aligned */

static char *page(long i) { return region + i * PAGE; }

static void *map_pages(long bytes)
{
    void *p = mmap(NULL, (bytes + PAGE - 1) / PAGE * PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap");
    return p;
}

static void *worker(void *arg)
{
    /* everything the timed loop uses, in locals (registers, or this stack) */
    long t = (long)arg, n = count, first = t * count;
    char *base = region;
    int64_t *s = results[t];
    memset(s, 0, (n + SLOTS) * sizeof(int64_t));   /* the result pages move here now */

    __atomic_add_fetch(ready, 1, __ATOMIC_SEQ_CST);
    /* wait for the start without burning a core that another rank may need:
     * the naps' slack (~0.1 ms) is the start skew, small beside COUNT faults */
    struct timespec nap = {0, 20000};
    int64_t deadline = now_ns() + 60LL * 1000000000;
    while (!__atomic_load_n(go, __ATOMIC_SEQ_CST)) {
        if (now_ns() > deadline)
            DIE("timed out (60 s) waiting for the start");
        nanosleep(&nap, NULL);
    }

    long bad = 0;
    int64_t start = now_ns();
    for (long i = n - 1; i >= 0; i--) {      /* last to first: no read-ahead, one fault each */
        int64_t t0 = now_ns();
        char v = *(volatile char *)(base + (first + i) * PAGE);
        int64_t t1 = now_ns();
        s[i] = t1 - t0;
        bad += v != (char)((first + i) & 0x7f);
    }
    s[n + SLOT_END] = now_ns();
    s[n + SLOT_START] = start;
    s[n + SLOT_BAD] = bad;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3 || atol(argv[1]) < 1 || atol(argv[2]) < 1)
        DIE("usage: %s THREADS COUNT", argv[0]);
    threads = atol(argv[1]);
    count = atol(argv[2]);
    long npages = threads * count;
    region = map_pages(npages * PAGE);
    ready = map_pages(sizeof(long));
    go = map_pages(sizeof(long));
    for (long i = 0; i < npages; i++)   /* home owns every page, written */
        memset(page(i), (int)(i & 0x7f), PAGE);
    *ready = *go = 0;
    results = xcalloc(threads, sizeof(int64_t *));
    for (long t = 0; t < threads; t++)
        results[t] = map_pages((count + SLOTS) * sizeof(int64_t));

    pthread_t *tids = xcalloc(threads, sizeof(pthread_t));
    for (long t = 0; t < threads; t++)
        if (pthread_create(&tids[t], NULL, worker, (void *)t) != 0)
            DIE("pthread_create failed");
    /* every worker ready (its thread started, its result pages here), then go */
    struct timespec nap = {0, 100000};
    int64_t deadline = now_ns() + 60LL * 1000000000;
    while (__atomic_load_n(ready, __ATOMIC_SEQ_CST) < threads) {
        if (now_ns() > deadline)
            DIE("timed out (60 s) waiting for the workers to start");
        nanosleep(&nap, NULL);
    }
    __atomic_store_n(go, 1, __ATOMIC_SEQ_CST);
    for (long t = 0; t < threads; t++)
        pthread_join(tids[t], NULL);

    long bad = 0;
    printf("threads %ld\n", threads);
    for (long t = 0; t < threads; t++) {
        char name[32];
        snprintf(name, sizeof name, "contended_%ld", t);
        print_samples(name, results[t], count);
        printf("window_%ld %lld %lld\n", t, (long long)results[t][count + SLOT_START],
               (long long)results[t][count + SLOT_END]);
        bad += results[t][count + SLOT_BAD];
    }
    printf("bad_pages %ld\n", bad);
    if (bad)
        DIE("%ld pages read back wrong", bad);
    return 0;
}
