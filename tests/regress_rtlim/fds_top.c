/* The app owns every descriptor below its limit, 1022 and 1023 included, but
 * the top two (pshare's own when the hard limit is the soft one: the page
 * store, and with several ranks a userfaultfd), and
 * no call of its (dup2, dup3, F_DUPFD, close_range) can reach pshare's own:
 * afterwards big allocations, threads and file I/O still work.  The same
 * scenario runs in main and then in a thread (on another rank when spread). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC 4
#endif

static int check(const char *what, long got, long want)
{
    if (got != want) {
        printf("FAIL %s: got %ld (errno %d), want %ld\n", what, got, errno, want);
        fflush(stdout);
        exit(1);
    }
    return 0;
}

static uint64_t sum(const unsigned char *p, size_t n)
{
    uint64_t s = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        s = (s ^ p[i]) * 1099511628211ULL;
    return s;
}

static void *worker(void *arg)
{
    long id = (long)arg;
    size_t n = (1u << 20) + id * 4096;
    unsigned char *p = malloc(n);
    if (!p)
        return (void *)1;
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 7 + id);
    uint64_t s = sum(p, n);
    free(p);
    return (void *)(uintptr_t)(s & 0xffff);
}

static void life_goes_on(const char *who, int round)
{
    /* a large allocation (its own mapping) */
    size_t big = 16u << 20;
    unsigned char *p = malloc(big);
    check("malloc 16 MiB", p != NULL, 1);
    memset(p, 0x5a, big);
    printf("%s %d: malloc 16 MiB ok, sum %016llx\n", who, round, (unsigned long long)sum(p, big));
    free(p);
    /* threads */
    pthread_t t[3];
    for (long i = 0; i < 3; i++)
        check("pthread_create", pthread_create(&t[i], NULL, worker, (void *)i), 0);
    for (int i = 0; i < 3; i++) {
        void *r;
        pthread_join(t[i], &r);
        printf("%s %d: thread %d -> %lu\n", who, round, i, (unsigned long)(uintptr_t)r);
    }
    /* file I/O */
    char name[64], buf[64];
    snprintf(name, sizeof name, "after-%s-%d.txt", who, round);
    int fd = open(name, O_CREAT | O_RDWR | O_TRUNC, 0644);
    check("open", fd >= 0, 1);
    int n = snprintf(buf, sizeof buf, "%s round %d\n", who, round);
    check("write", write(fd, buf, n), n);
    char back[64];
    check("pread", pread(fd, back, sizeof back, 0), n);
    check("same bytes", memcmp(back, buf, n), 0);
    close(fd);
    printf("%s %d: file I/O ok\n", who, round);
}

static void scenario(const char *who)
{
    struct rlimit lim;
    check("getrlimit", getrlimit(RLIMIT_NOFILE, &lim), 0);
    long top = (long)lim.rlim_cur;
    char name[64];
    snprintf(name, sizeof name, "fds-%s.txt", who);
    int fd = open(name, O_CREAT | O_RDWR | O_TRUNC, 0644);
    check("open", fd >= 0, 1);

    check("dup2 -> 1022", dup2(fd, 1022), 1022);
    check("dup2 -> 1023", dup2(fd, 1023), 1023);
    check("dup3 -> 1021", dup3(fd, 1021, O_CLOEXEC), 1021);
    check("F_DUPFD 1020", fcntl(fd, F_DUPFD, 1020), 1020);
    check("F_DUPFD_CLOEXEC 1000", fcntl(fd, F_DUPFD_CLOEXEC, 1000), 1000);
    check("dup2 -> limit-3", dup2(fd, top - 3), top - 3);
    check("F_DUPFD limit-4", fcntl(fd, F_DUPFD, top - 4), top - 4);
    check("dup2 -> limit", dup2(fd, top), -1);
    check("errno EBADF", errno, EBADF);
    check("F_DUPFD limit", fcntl(fd, F_DUPFD, top), -1);
    check("errno EINVAL", errno, EINVAL);
    const char *msg = "through 1022 and 1023\n";
    check("write 1022", write(1022, msg, 8), 8);
    check("write 1023", write(1023, msg + 8, strlen(msg) - 8), (long)strlen(msg) - 8);
    printf("%s: dup2/dup3/F_DUPFD to 1000, 1020-1023, limit-4, limit-3 ok\n", who);
    life_goes_on(who, 1);

    check("close_range cloexec", close_range(1000, ~0U, CLOSE_RANGE_CLOEXEC), 0);
    check("F_GETFD 1022", fcntl(1022, F_GETFD), FD_CLOEXEC);
    check("close_range(1000, ~0U)", close_range(1000, ~0U, 0), 0);
    check("1022 closed", fcntl(1022, F_GETFD), -1);
    check("1023 closed", fcntl(1023, F_GETFD), -1);
    check("limit-3 closed", fcntl(top - 3, F_GETFD), -1);
    check("fd open", fcntl(fd, F_GETFD), 0);
    printf("%s: close_range(1000, ~0U) closed the app's top fds\n", who);
    life_goes_on(who, 2);

    check("dup2 -> 1022 again", dup2(fd, 1022), 1022);
    check("close_range(3, ~0U)", close_range(3, ~0U, 0), 0);
    check("fd closed", fcntl(fd, F_GETFD), -1);
    check("1022 closed again", fcntl(1022, F_GETFD), -1);
    printf("%s: close_range(3, ~0U) closed every fd above 2\n", who);
    life_goes_on(who, 3);

    fd = open(name, O_RDONLY);
    char buf[64] = { 0 };
    check("read back", read(fd, buf, sizeof buf - 1), (long)strlen(msg));
    close(fd);
    printf("%s: %s", who, buf);
}

static void *remote(void *arg)
{
    (void)arg;
    scenario("thread");
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    scenario("main");
    pthread_t t;
    check("pthread_create remote", pthread_create(&t, NULL, remote, NULL), 0);
    pthread_join(t, NULL);
    struct rlimit lim;
    getrlimit(RLIMIT_NOFILE, &lim);
    struct rlimit raised = { lim.rlim_max, lim.rlim_max };
    check("raise soft to hard", setrlimit(RLIMIT_NOFILE, &raised), 0);
    struct rlimit now;
    getrlimit(RLIMIT_NOFILE, &now);
    check("soft as set", now.rlim_cur == lim.rlim_max, 1);
    check("restore", setrlimit(RLIMIT_NOFILE, &lim), 0);
    getrlimit(RLIMIT_NOFILE, &now);
    check("soft restored", now.rlim_cur == lim.rlim_cur, 1);
    life_goes_on("main", 4);
    printf("done\n");
    return 0;
}
