/* DSM costs as an app sees them: main() writes every page first (so home owns
 * them), then a worker thread (--placement 1: on rank 1) times
 *   read_fault   first read of a page home owns         (contents travel)
 *   upgrade      write to a page it holds read-only     (home's copy invalidated)
 *   write_fault  first write to a page home owns        (contents and ownership travel)
 *   rmw          first `+= 1` to a page home owns: a read, then a write of it
 *                (a read fault and an upgrade, or one fault once the runtime
 *                has seen that instruction's reads followed by writes)
 *                (each goes from the last page to the first, so no run of
 *                pages - read-ahead, write runs - brings one: one fault each)
 *   scan         a sequential read of SCAN_PAGES pages  (throughput)
 *   pingpong     one page written alternately by the worker and main: a round
 *                moves the page there and back
 *
 *   usage: faults COUNT SCAN_PAGES ROUNDS
 *
 * Natively and with every thread on one rank these are plain memory accesses;
 * the numbers show what distribution adds. */
#include <pthread.h>
#include <sys/mman.h>

#include "bench.h"

#define PAGE 4096
#define WARMUP_ROUNDS 10

static long count, scan_pages, rounds;
static char *region;            /* 3*COUNT + SCAN_PAGES pages */
static long *pingpong;          /* a page of its own */
static int64_t *s_read, *s_upgrade, *s_write, *s_rmw, *s_pingpong;
static int64_t scan_ns;
static volatile long sink;

static char *page(long i) { return region + i * PAGE; }

static void *measure(void *arg)
{
    (void)arg;
    memset(s_read, 0, count * sizeof(int64_t));
    memset(s_upgrade, 0, count * sizeof(int64_t));
    memset(s_write, 0, count * sizeof(int64_t));
    memset(s_rmw, 0, count * sizeof(int64_t));
    memset(s_pingpong, 0, rounds * sizeof(int64_t));

    /* Sums stay in locals until the end: a global written here would share
     * a page with what main reads while it waits, and move with every write. */
    long total = 0;
    for (long i = count - 1; i >= 0; i--) {
        int64_t t0 = now_ns();
        char v = *(volatile char *)page(i);
        int64_t t1 = now_ns();
        total += v;
        s_read[i] = t1 - t0;
    }
    for (long i = count - 1; i >= 0; i--) {
        int64_t t0 = now_ns();
        *(volatile char *)page(i) = 2;
        int64_t t1 = now_ns();
        s_upgrade[i] = t1 - t0;
    }
    for (long i = count - 1; i >= 0; i--) {
        int64_t t0 = now_ns();
        *(volatile char *)page(count + i) = 3;
        int64_t t1 = now_ns();
        s_write[i] = t1 - t0;
    }
    for (long i = count - 1; i >= 0; i--) {
        int64_t t0 = now_ns();
        (*(volatile char *)page(2 * count + i))++;
        int64_t t1 = now_ns();
        s_rmw[i] = t1 - t0;
    }
    const long *scan = (const long *)page(3 * count);
    long words = scan_pages * PAGE / (long)sizeof(long), sum = 0;
    int64_t t0 = now_ns();
    for (long w = 0; w < words; w++)
        sum += ((volatile const long *)scan)[w];
    scan_ns = now_ns() - t0;
    sink = total + sum;

    /* ping-pong: the worker makes the counter odd, main makes it even */
    for (long r = -WARMUP_ROUNDS; r < rounds; r++) {
        long n = r + WARMUP_ROUNDS;
        int64_t t0 = now_ns();
        __atomic_store_n(pingpong, 2 * n + 1, __ATOMIC_SEQ_CST);
        SPIN_UNTIL(__atomic_load_n(pingpong, __ATOMIC_SEQ_CST) == 2 * n + 2, "main's turn");
        int64_t t1 = now_ns();
        if (r >= 0)
            s_pingpong[r] = t1 - t0;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4 || atol(argv[1]) < 1 || atol(argv[2]) < 1 || atol(argv[3]) < 1)
        DIE("usage: %s COUNT SCAN_PAGES ROUNDS", argv[0]);
    count = atol(argv[1]);
    scan_pages = atol(argv[2]);
    rounds = atol(argv[3]);
    long npages = 3 * count + scan_pages;
    region = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    pingpong = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(region != MAP_FAILED && pingpong != MAP_FAILED, "mmap");
    for (long i = 0; i < npages; i++)   /* home owns every page, written */
        memset(page(i), (int)(i & 0x7f), PAGE);
    *pingpong = -1;
    s_read = xcalloc(count, sizeof(int64_t));
    s_upgrade = xcalloc(count, sizeof(int64_t));
    s_write = xcalloc(count, sizeof(int64_t));
    s_rmw = xcalloc(count, sizeof(int64_t));
    s_pingpong = xcalloc(rounds, sizeof(int64_t));

    pthread_t worker;
    if (pthread_create(&worker, NULL, measure, NULL) != 0)
        DIE("pthread_create failed");
    /* Wait for the ping-pong to start without burning a core the worker's
     * rank may need, then answer every odd value at full speed.  Only locals
     * and the ping-pong page are touched here, so main's waiting moves no
     * page the worker is timing. */
    long *pp = pingpong, total_rounds = rounds + WARMUP_ROUNDS;
    struct timespec nap = {0, 100000};
    while (__atomic_load_n(pp, __ATOMIC_SEQ_CST) < 0)
        nanosleep(&nap, NULL);
    for (long n = 0; n < total_rounds; n++) {
        SPIN_UNTIL(__atomic_load_n(pp, __ATOMIC_SEQ_CST) == 2 * n + 1, "the worker's turn");
        __atomic_store_n(pp, 2 * n + 2, __ATOMIC_SEQ_CST);
    }
    pthread_join(worker, NULL);

    print_samples("read_fault", s_read, count);
    print_samples("upgrade", s_upgrade, count);
    print_samples("write_fault", s_write, count);
    print_samples("rmw", s_rmw, count);
    print_samples("pingpong", s_pingpong, rounds);
    printf("scan_bytes %ld\n", scan_pages * PAGE);
    print_samples("scan", &scan_ns, 1);
    return 0;
}
