/* MAP_SHARED memory written by threads on every rank: one address space
 * even where the kernel would keep a mapping per process.
 *   - shared anonymous memory: a process-shared mutex and a counter in it,
 *     each worker's own page, and a page the workers write byte by byte;
 *     MADV_DONTNEED keeps its contents (shared memory), a forked child sees
 *     what the workers wrote and its write is seen by main;
 *   - MAP_SHARED of /dev/zero (anonymous memory): a page each worker writes;
 *   - shared file mappings (5 pages and 100 bytes: the last page ends past
 *     the file's end, which must not grow): "synced.dat", each worker writes
 *     its records, msyncs its pages and reads them back with pread (the
 *     file holds what it wrote: msync); "unmapped.dat", written, then main
 *     unmaps it and reads it with read; "at_exit.dat", written, main unmaps
 *     its page 2 and two more threads write past it, and the program exits
 *     with the rest still mapped (the file must hold it all), and so
 *     "appended.dat", opened O_APPEND (its pages are not appended).
 * Expected exit status: 0 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define WORKERS 4
#define ROUNDS 2000
#define PAGE 4096
#define FILE_LEN (5 * PAGE + 100)

struct anon {
    pthread_mutex_t lock;
    long counter;
    char bytes[PAGE];                       /* one page, every worker's bytes in it */
    char own[WORKERS][PAGE];                /* a page each */
    long child_wrote;
};

static struct anon *anon;
static char *synced, *unmapped, *at_exit, *appended;
static long *zero;                          /* MAP_SHARED of /dev/zero: anonymous memory */
static char results[WORKERS][128];

static char *map_file(const char *name, int flags)
{
    int fd = open(name, O_RDWR | O_CREAT | O_TRUNC | flags, 0644);
    if (fd < 0 || ftruncate(fd, FILE_LEN) != 0) {
        perror(name);
        exit(2);
    }
    char *p = mmap(NULL, FILE_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    close(fd);
    return p;
}

/* Worker w's records: a line in each page of the mapping, at its own offset. */
static void write_records(char *map, int w, const char *what)
{
    for (int page = 0; page < 5; page++)
        snprintf(map + page * PAGE + w * 256, 256, "%s: worker %d page %d\n", what, w, page);
    snprintf(map + 5 * PAGE + w * 20, 20, "tail%d", w);      /* the partial last page */
}

static void *worker(void *arg)
{
    int w = (int)(long)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&anon->lock);
        anon->counter++;
        pthread_mutex_unlock(&anon->lock);
    }
    for (int i = w; i < PAGE; i += WORKERS)
        anon->bytes[i] = (char)('a' + w);
    memset(anon->own[w], 'A' + w, PAGE);

    write_records(synced, w, "synced");
    write_records(unmapped, w, "unmapped");
    write_records(at_exit, w, "at_exit");
    write_records(appended, w, "appended");
    zero[w * 512] = 1000 + w;                /* a page each */

    /* msync, then the file through a descriptor: what this worker wrote */
    char back[256] = { 0 };
    int fd = open("synced.dat", O_RDONLY);
    int ok = msync(synced, FILE_LEN, MS_SYNC) == 0 && fd >= 0 &&
             pread(fd, back, sizeof back - 1, 3 * PAGE + w * 256) > 0;
    close(fd);
    snprintf(results[w], sizeof results[w], "worker %d: msync %s, read back \"%.*s\"\n", w,
             ok ? "ok" : "failed", (int)strcspn(back, "\n"), back);
    return NULL;
}

/* After main unmapped at_exit.dat's page 2: the pages past the hole are
 * still the file's, at their own offsets. */
static void *late_worker(void *arg)
{
    int w = (int)(long)arg;
    snprintf(at_exit + 4 * PAGE + 2048 + w * 64, 64, "late: worker %d\n", w);
    return NULL;
}

int main(void)
{
    anon = mmap(NULL, sizeof *anon, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (anon == MAP_FAILED) {
        perror("mmap");
        return 2;
    }
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&anon->lock, &attr);
    synced = map_file("synced.dat", 0);
    unmapped = map_file("unmapped.dat", 0);
    at_exit = map_file("at_exit.dat", 0);
    appended = map_file("appended.dat", O_APPEND);
    int zfd = open("/dev/zero", O_RDWR);
    zero = mmap(NULL, WORKERS * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, zfd, 0);
    if (zero == MAP_FAILED) {
        perror("mmap /dev/zero");
        return 2;
    }
    close(zfd);

    pthread_t t[WORKERS];
    for (long w = 0; w < WORKERS; w++)
        pthread_create(&t[w], NULL, worker, (void *)w);
    for (int w = 0; w < WORKERS; w++)
        pthread_join(t[w], NULL);
    for (int w = 0; w < WORKERS; w++)
        fputs(results[w], stdout);

    printf("counter %ld (expected %d)\n", anon->counter, WORKERS * ROUNDS);
    printf("/dev/zero: %ld %ld %ld %ld\n", zero[0], zero[512], zero[1024], zero[1536]);
    madvise(anon, sizeof *anon, MADV_DONTNEED);       /* shared: the contents stay */
    long sum = 0;
    for (int i = 0; i < PAGE; i++)
        sum += anon->bytes[i];
    for (int w = 0; w < WORKERS; w++)
        sum += anon->own[w][w * 100];
    printf("bytes after MADV_DONTNEED: sum %ld, bytes[0..7] %.8s\n", sum, anon->bytes);

    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        printf("child sees counter %ld, own[3][0] %c\n", anon->counter, anon->own[3][0]);
        anon->child_wrote = 4242;
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    printf("main sees the child's write: %ld\n", anon->child_wrote);

    if (munmap(unmapped, FILE_LEN) != 0 || munmap(at_exit + 2 * PAGE, PAGE) != 0)
        perror("munmap");
    for (long w = 0; w < 2; w++)
        pthread_create(&t[w], NULL, late_worker, (void *)w);
    for (int w = 0; w < 2; w++)
        pthread_join(t[w], NULL);
    char buf[FILE_LEN + 1];
    int fd = open("unmapped.dat", O_RDONLY);
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    long nonzero = 0;
    for (ssize_t i = 0; i < n; i++)
        nonzero += buf[i] != 0;
    printf("unmapped.dat after munmap: %zd bytes, %ld written\n", n, nonzero);
    return 0;
}
