/* Shared helpers for the pshare-bench C programs.
 *
 * Timing uses clock_gettime(CLOCK_MONOTONIC), which the vDSO answers without a
 * system call, so under pshare the clock itself is never trapped or forwarded.
 * Results go to stdout as "ns NAME v0 v1 ..." lines (raw per-call nanoseconds);
 * pshare_bench parses them and computes the percentiles. */
#ifndef PSHARE_BENCH_H
#define PSHARE_BENCH_H

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#define DIE(...) do { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); exit(1); } while (0)
#define CHECK(cond, what) do { if (!(cond)) DIE("%s: %s", what, strerror(errno)); } while (0)

static inline void print_samples(const char *name, const int64_t *ns, long n)
{
    printf("ns %s", name);
    for (long i = 0; i < n; i++)
        printf(" %lld", (long long)ns[i]);
    putchar('\n');
}

/* Calloc that dies instead of returning NULL. */
static inline void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p)
        DIE("out of memory");
    return p;
}

/* Start n threads of fn, each given its number (0 .. n-1) as its argument,
 * and join them all: how long that took, in ns (what the programs time). */
static inline int64_t run_threads(void *(*fn)(void *), long n)
{
    pthread_t tid[n];
    int64_t t0 = now_ns();
    for (long t = 0; t < n; t++)
        if (pthread_create(&tid[t], NULL, fn, (void *)t) != 0)
            DIE("pthread_create failed");
    for (long t = 0; t < n; t++)
        pthread_join(tid[t], NULL);
    return now_ns() - t0;
}

/* A spin that gives up after a minute: a protocol bug must not hang the run. */
#define SPIN_UNTIL(cond, what) do {                                             \
        int64_t spin_deadline_ = now_ns() + 60LL * 1000000000;                  \
        for (unsigned long spins_ = 0; !(cond); spins_++)                       \
            if ((spins_ & 0xfff) == 0 && now_ns() > spin_deadline_)             \
                DIE("timed out (60 s) waiting for %s", what);                   \
    } while (0)

#endif
