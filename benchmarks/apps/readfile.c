/* The paper's Figure 9: time of a read() of 1..MAXPAGES pages of a file into a
 * buffer, including one touch of every buffer page afterwards (with a forwarded
 * read the call runs on home and the buffer's pages then travel back to the
 * caller; the touch is what makes them travel).
 *
 *   usage: readfile FILE MAXPAGES COUNT
 *
 * FILE must hold at least MAXPAGES * 4096 bytes.  A worker thread created by
 * main does the measuring (so --placement applies).  Output: "ns read_P ..."
 * with COUNT samples for each P = 1..MAXPAGES. */
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>

#include "bench.h"

#define PAGE 4096
#define WARMUP 5

static int fd;
static long max_pages, count;
static char *buffer;        /* page-aligned, MAXPAGES pages */
static int64_t **samples;   /* [pages - 1][i] */
static volatile long sink;

static void *measure(void *arg)
{
    (void)arg;
    for (long p = 0; p < max_pages; p++)
        memset(samples[p], 0, count * sizeof(int64_t));
    long total = 0;   /* summed here, stored once: no global page moves while timing */
    for (long pages = 1; pages <= max_pages; pages++) {
        size_t len = (size_t)pages * PAGE;
        for (long i = -WARMUP; i < count; i++) {
            /* untimed: the caller writes its buffer first, so every timed read
             * starts with the buffer owned here, as in the paper */
            for (long p = 0; p < pages; p++)
                buffer[p * PAGE] = 0;
            int64_t t0 = now_ns();
            ssize_t n = pread(fd, buffer, len, 0);
            long sum = 0;
            for (long p = 0; p < pages; p++)
                sum += buffer[p * PAGE];
            int64_t t1 = now_ns();
            if (n != (ssize_t)len)
                DIE("pread returned %zd, expected %zu: %s", n, len, strerror(errno));
            total += sum;
            if (i >= 0)
                samples[pages - 1][i] = t1 - t0;
        }
    }
    sink = total;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4 || atol(argv[2]) < 1 || atol(argv[3]) < 1)
        DIE("usage: %s FILE MAXPAGES COUNT", argv[0]);
    max_pages = atol(argv[2]);
    count = atol(argv[3]);
    fd = open(argv[1], O_RDONLY);
    CHECK(fd >= 0, argv[1]);
    buffer = mmap(NULL, max_pages * PAGE, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(buffer != MAP_FAILED, "mmap");
    samples = xcalloc(max_pages, sizeof *samples);
    for (long p = 0; p < max_pages; p++)
        samples[p] = xcalloc(count, sizeof(int64_t));

    pthread_t worker;
    if (pthread_create(&worker, NULL, measure, NULL) != 0)
        DIE("pthread_create failed");
    pthread_join(worker, NULL);

    for (long p = 0; p < max_pages; p++) {
        char name[32];
        snprintf(name, sizeof name, "read_%ld", p + 1);
        print_samples(name, samples[p], count);
    }
    close(fd);
    return 0;
}
