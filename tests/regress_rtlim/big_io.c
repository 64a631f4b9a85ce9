/* Single read/write/pread/pwrite/readv/writev calls of 3 MiB and 64 MiB,
 * from main and from a thread (on another rank when spread): every byte
 * moves, as natively.  Through a file (full counts) and a pipe (the reader
 * loops, as it must natively too). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define MIB (1024L * 1024)

static void fail(const char *what, long got, long want)
{
    printf("FAIL %s: %ld, want %ld\n", what, got, want);
    fflush(stdout);
    exit(1);
}

static void fill(unsigned char *p, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        p[i] = (unsigned char)x;
    }
}

static uint64_t sum(const unsigned char *p, size_t n)
{
    uint64_t s = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        s = (s ^ p[i]) * 1099511628211ULL;
    return s;
}

static void file_io(const char *who, size_t n, unsigned char *buf)
{
    char name[64];
    snprintf(name, sizeof name, "big-%s-%zu.bin", who, n / MIB);
    int fd = open(name, O_CREAT | O_RDWR | O_TRUNC, 0644);
    fill(buf, n, (uint32_t)n);
    uint64_t want = sum(buf, n);
    long r = write(fd, buf, n);
    if (r != (long)n) fail("write", r, n);
    r = pwrite(fd, buf, n, n);                      /* a second copy after the first */
    if (r != (long)n) fail("pwrite", r, n);
    struct stat st;
    fstat(fd, &st);
    if (st.st_size != (off_t)(2 * n)) fail("size", st.st_size, 2 * n);
    memset(buf, 0, n);
    lseek(fd, 0, SEEK_SET);
    r = read(fd, buf, n);
    if (r != (long)n) fail("read", r, n);
    uint64_t got_read = sum(buf, n);
    memset(buf, 0, n);
    r = pread(fd, buf, n, n);
    if (r != (long)n) fail("pread", r, n);
    uint64_t got_pread = sum(buf, n);
    /* the vector forms: two pieces, the second larger than a mailbox */
    struct iovec v[2] = { { buf, 4096 }, { buf + 4096, n - 4096 } };
    r = pwritev(fd, v, 2, 2 * n);
    if (r != (long)n) fail("pwritev", r, n);
    memset(buf, 0, n);
    lseek(fd, 2 * n, SEEK_SET);
    r = readv(fd, v, 2);
    if (r != (long)n) fail("readv", r, n);
    uint64_t got_readv = sum(buf, n);
    r = read(fd, buf, n);                           /* at the end of the file */
    if (r != 0) fail("read at EOF", r, 0);
    r = pread(fd, buf, n, 3 * n - 1000);            /* short: the file ends */
    if (r != 1000) fail("short pread", r, 1000);
    close(fd);
    unlink(name);
    printf("%s: %zu MiB file: write/pwrite/read/pread/pwritev/readv %s, sum %016llx\n", who, n / MIB,
           got_read == want && got_pread == want && got_readv == want ? "all bytes" : "DIFFER",
           (unsigned long long)want);
}

struct pipe_job { int fd; size_t n; unsigned char *buf; };

static void *pipe_writer(void *arg)
{
    struct pipe_job *j = arg;
    long r = write(j->fd, j->buf, j->n);            /* one call: blocks until all is in */
    close(j->fd);
    return (void *)r;
}

static void pipe_io(const char *who, size_t n, unsigned char *buf)
{
    int p[2];
    pipe(p);
    fill(buf, n, 7);
    uint64_t want = sum(buf, n);
    unsigned char *in = malloc(n);
    struct pipe_job j = { p[1], n, buf };
    pthread_t t;
    pthread_create(&t, NULL, pipe_writer, &j);
    size_t got = 0;
    for (;;) {
        long r = read(p[0], in + got, n - got);
        if (r <= 0)
            break;
        got += r;
    }
    void *wr;
    pthread_join(t, &wr);
    close(p[0]);
    printf("%s: %zu MiB pipe: writer wrote %ld, reader got %zu, %s\n", who, n / MIB, (long)wr, got,
           got == n && sum(in, n) == want ? "same bytes" : "DIFFER");
    free(in);
}

static void scenario(const char *who)
{
    unsigned char *buf = malloc(64 * MIB);
    file_io(who, 3 * MIB, buf);
    file_io(who, 64 * MIB, buf);
    pipe_io(who, 3 * MIB, buf);
    free(buf);
}

static void *remote(void *arg)
{
    scenario(arg);
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_t t;
    pthread_create(&t, NULL, remote, "thread");
    pthread_join(t, NULL);
    scenario("main");
    return 0;
}
