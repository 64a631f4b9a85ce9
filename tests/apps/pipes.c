/* pipes between threads: a writer thread streams 64 KiB through a pipe
 * (using a dup()ed fd) to a reader thread that blocks in read(); then two
 * threads ping-pong 100 tokens over a pair of pipes. Expected exit status: 0 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#define TOTAL (64 * 1024)
#define CHUNK 4096
#define PINGS 100

static int data_pipe[2];
static int ping[2], pong[2];

static void *writer(void *arg)
{
    (void)arg;
    int fd = dup(data_pipe[1]);
    close(data_pipe[1]);
    unsigned char buf[CHUNK];
    for (int off = 0; off < TOTAL; off += CHUNK) {
        for (int i = 0; i < CHUNK; i++)
            buf[i] = (unsigned char)((off + i) * 7 + 3);
        for (int done = 0; done < CHUNK;) {
            ssize_t n = write(fd, buf + done, (size_t)(CHUNK - done));
            if (n <= 0)
                return (void *)1;
            done += (int)n;
        }
    }
    close(fd); /* reader sees EOF */
    return NULL;
}

struct rd {
    long bytes;
    unsigned long sum;
    int ok;
};

static void *reader(void *arg)
{
    struct rd *r = arg;
    unsigned char buf[1000];
    r->ok = 1;
    ssize_t n;
    while ((n = read(data_pipe[0], buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            r->ok &= buf[i] == (unsigned char)((r->bytes + i) * 7 + 3);
            r->sum += buf[i];
        }
        r->bytes += n;
    }
    close(data_pipe[0]);
    return NULL;
}

static void *ponger(void *arg)
{
    (void)arg;
    int v;
    for (int i = 0; i < PINGS; i++) {
        if (read(ping[0], &v, sizeof v) != sizeof v)
            return (void *)1;
        v = v * 2 + 1;
        if (write(pong[1], &v, sizeof v) != sizeof v)
            return (void *)1;
    }
    return NULL;
}

int main(void)
{
    if (pipe(data_pipe) || pipe(ping) || pipe(pong))
        return 1;
    pthread_t w, r;
    struct rd res = { 0, 0, 0 };
    pthread_create(&r, NULL, reader, &res);
    pthread_create(&w, NULL, writer, NULL);
    void *wrv;
    pthread_join(w, &wrv);
    pthread_join(r, NULL);
    printf("pipe stream: %ld bytes, checksum %lu, pattern %s, writer %s\n", res.bytes, res.sum,
           res.ok ? "ok" : "CORRUPT", wrv ? "failed" : "ok");

    pthread_t p;
    pthread_create(&p, NULL, ponger, NULL);
    long acc = 0;
    for (int i = 0; i < PINGS; i++) {
        int v = i;
        if (write(ping[1], &v, sizeof v) != sizeof v || read(pong[0], &v, sizeof v) != sizeof v)
            return 1;
        acc += v;
    }
    pthread_join(p, NULL);
    printf("ping-pong: %d round trips, sum of replies %ld (expected %d)\n", PINGS, acc,
           PINGS * (PINGS - 1) + PINGS);
    return 0;
}
