/* Signals for a thread (on rank 1 when spread) that keeps making calls home
 * runs for it: getppid, write to /dev/null, close(dup(1)), pread of a file
 * whose bytes it checks.  The handler makes forwarded calls itself
 * (getppid, write).  Under pshare the handler could run between the outer
 * call filling its thread's one mailbox and the answer being used, and
 * overwrite the request or the answer (wrong results), or fault on a page
 * whose transfer the outer fault had not finished (a hang).  Every call's
 * result is checked; the handler must have run at least once. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t seen, bad_in_handler;
static int done, started;
static long progress __attribute__((aligned(4096)));   /* a page of its own */
static char pad[4096] __attribute__((unused));
static int devnull, datafd;
static pid_t parent;
static char pattern[8192];

static void on_usr1(int sig)
{
    (void)sig;
    seen = 1;
    if (getppid() != parent || write(devnull, "handler", 7) != 7)
        bad_in_handler = 1;
}

static void *worker(void *arg)
{
    long rounds = (long)arg, bad = 0;
    char buf[sizeof pattern];
    getppid();
    __atomic_store_n(&started, 1, __ATOMIC_RELEASE);
    for (long i = 0; i < rounds || !seen; i++) {
        if (getppid() != parent)
            bad++;
        if (write(devnull, pattern, 1000) != 1000)
            bad++;
        int fd = dup(1);
        if (fd < 0 || close(fd) != 0)
            bad++;
        size_t off = (size_t)(i * 37) % 4096, n = 1 + (size_t)(i * 101) % 4000;
        memset(buf, 0, sizeof buf);
        if (pread(datafd, buf, n, (off_t)off) != (ssize_t)n || memcmp(buf, pattern + off, n))
            bad++;
        __atomic_store_n(&progress, i + 1, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    return (void *)bad;
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : 300;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    parent = getppid();
    devnull = open("/dev/null", O_WRONLY);
    for (size_t i = 0; i < sizeof pattern; i++)
        pattern[i] = (char)(i * 7 + i / 251);
    datafd = open("data.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (write(datafd, pattern, sizeof pattern) != (ssize_t)sizeof pattern)
        return 1;
    pthread_t t;
    pthread_create(&t, NULL, worker, (void *)rounds);
    while (!__atomic_load_n(&started, __ATOMIC_ACQUIRE))
        ;
    int sent = 0;
    /* one signal per round of the worker's: under pshare a handler's two
     * forwarded calls take longer than a signal takes to send, and a
     * flood would leave the worker no time for its own calls */
    struct timespec pause = { 0, 50000 };
    long last = -1;
    while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
        long now = __atomic_load_n(&progress, __ATOMIC_ACQUIRE);
        if (now != last) {
            last = now;
            sent += pthread_kill(t, SIGUSR1) == 0;
        }
        nanosleep(&pause, NULL);
    }
    void *r;
    pthread_join(t, &r);
    close(datafd);
    unlink("data.bin");
    printf("handler ran: %s; wrong results: worker %ld, handler %d; signals sent: %s\n",
           seen ? "yes" : "no", (long)r, (int)bad_in_handler, sent > 0 ? "yes" : "no");
    return 0;
}
