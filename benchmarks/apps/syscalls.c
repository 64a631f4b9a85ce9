/* The paper's Table 1: time per open, close, mkdir, rmdir, symlink and flock on
 * a file five directories deep, plus getppid (the bare cost of a trapped call),
 * the empty timer interval, and an address-space pair: mmap of 1 MiB
 * (anonymous, where the kernel chooses) and, after its first page was
 * written, munmap of it (under pshare an operation every rank replays; munmap
 * one that drops pages, so fenced).
 *
 *   usage: syscalls DIR COUNT
 *
 * main() makes DIR/d1/d2/d3/d4/d5/file and then one worker thread that does
 * all the measuring: pshare places new threads (--placement 1 puts it on rank
 * 1, where its calls are forwarded to home), main never moves.  Output: one
 * "ns NAME ..." line per call with COUNT raw samples. */
#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "bench.h"

enum { OPEN, CLOSE, MKDIR, RMDIR, SYMLINK, FLOCK, GETPPID, TIMER, MMAP, MUNMAP, NCALLS };
static const char *call_names[NCALLS] = {
    "open", "close", "mkdir", "rmdir", "symlink", "flock", "getppid", "timer", "mmap", "munmap"};
#define MAPPED (1L << 20)

#define WARMUP 20   /* untimed rounds: first calls fault in code, stack and dentries */

static char deep_dir[4096];
static long count;
static int64_t *samples[NCALLS];

static void *measure(void *arg)
{
    (void)arg;
    /* The paths live on this thread's stack, as an app's would: a forwarded
     * call makes home fetch the page holding the string. */
    char file[4200], dir[4200], link[4200];
    snprintf(file, sizeof file, "%s/file", deep_dir);
    snprintf(dir, sizeof dir, "%s/dir", deep_dir);
    snprintf(link, sizeof link, "%s/link", deep_dir);
    for (int c = 0; c < NCALLS; c++)   /* own the sample pages before timing */
        memset(samples[c], 0, count * sizeof(int64_t));

    for (long i = -WARMUP; i < count; i++) {
        int64_t t[2 * NCALLS];
        int k = 0;
        t[k++] = now_ns();
        int fd = open(file, O_RDONLY);
        t[k++] = now_ns();
        CHECK(fd >= 0, "open");
        t[k++] = now_ns();
        int rc = flock(fd, LOCK_EX);
        t[k++] = now_ns();
        CHECK(rc == 0, "flock");
        CHECK(flock(fd, LOCK_UN) == 0, "flock(LOCK_UN)");
        t[k++] = now_ns();
        rc = close(fd);
        t[k++] = now_ns();
        CHECK(rc == 0, "close");
        t[k++] = now_ns();
        rc = mkdir(dir, 0755);
        t[k++] = now_ns();
        CHECK(rc == 0, "mkdir");
        t[k++] = now_ns();
        rc = rmdir(dir);
        t[k++] = now_ns();
        CHECK(rc == 0, "rmdir");
        t[k++] = now_ns();
        rc = symlink("file", link);
        t[k++] = now_ns();
        CHECK(rc == 0, "symlink");
        CHECK(unlink(link) == 0, "unlink");
        t[k++] = now_ns();
        pid_t ppid = getppid();
        t[k++] = now_ns();
        CHECK(ppid > 0, "getppid");
        t[k++] = now_ns();
        t[k++] = now_ns();
        t[k++] = now_ns();
        char *m = mmap(NULL, MAPPED, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        t[k++] = now_ns();
        CHECK(m != MAP_FAILED, "mmap");
        m[0] = 1;
        t[k++] = now_ns();
        rc = munmap(m, MAPPED);
        t[k++] = now_ns();
        CHECK(rc == 0, "munmap");
        if (i < 0)
            continue;
        /* t[] pairs are in measuring order; map them to the call names */
        static const int order[NCALLS] = {OPEN, FLOCK, CLOSE, MKDIR, RMDIR, SYMLINK, GETPPID, TIMER,
                                          MMAP, MUNMAP};
        for (int c = 0; c < NCALLS; c++)
            samples[order[c]][i] = t[2 * c + 1] - t[2 * c];
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3 || atol(argv[2]) < 1)
        DIE("usage: %s DIR COUNT", argv[0]);
    count = atol(argv[2]);
    /* five directories deep, as in the paper */
    snprintf(deep_dir, sizeof deep_dir, "%s", argv[1]);
    for (int d = 1; d <= 5; d++) {
        size_t len = strlen(deep_dir);
        snprintf(deep_dir + len, sizeof deep_dir - len, "/d%d", d);
        CHECK(mkdir(deep_dir, 0755) == 0 || errno == EEXIST, deep_dir);
    }
    char file[4200];
    snprintf(file, sizeof file, "%s/file", deep_dir);
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0, file);
    close(fd);
    for (int c = 0; c < NCALLS; c++)
        samples[c] = xcalloc(count, sizeof(int64_t));

    pthread_t worker;
    if (pthread_create(&worker, NULL, measure, NULL) != 0)
        DIE("pthread_create failed");
    pthread_join(worker, NULL);

    for (int c = 0; c < NCALLS; c++)
        print_samples(call_names[c], samples[c], count);
    unlink(file);
    return 0;
}
