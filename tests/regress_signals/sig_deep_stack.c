/* Signals for a thread (on rank 1 when spread) whose stack pointer sits
 * below every stack page it has touched so far: a big local array it never
 * writes, as a first-time symbol binding (the xsave area of
 * _dl_runtime_resolve) or any deep call does.  The kernel writes the signal
 * frame there; under pshare those pages were not on this rank yet, and the
 * kernel cannot fault a page of the DSM in: it killed the thread with a
 * SIGSEGV at address 0.  The handler also writes (a forwarded call). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

static volatile sig_atomic_t seen;
static unsigned handled;            /* handler runs so far */
static int stop, in_deep;
static int devnull;

static void on_usr1(int sig)
{
    (void)sig;
    if (__atomic_load_n(&in_deep, __ATOMIC_ACQUIRE))
        seen = 1;
    write(devnull, "x", 1);          /* async-signal-safe, forwarded off home */
    __atomic_add_fetch(&handled, 1, __ATOMIC_RELEASE);
}

__attribute__((noinline)) static long deep(int depth)
{
    volatile char big[48 * 1024];    /* never written: the pages below stay new */
    big[sizeof big - 1] = (char)depth;
    __atomic_store_n(&in_deep, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
        ;
    return big[sizeof big - 1];
}

static void *worker(void *arg)
{
    (void)arg;
    return (void *)(deep(1) + 1);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    devnull = open("/dev/null", O_WRONLY);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    while (!__atomic_load_n(&in_deep, __ATOMIC_ACQUIRE))
        ;
    /* the next signal once the handler ran again: sent as fast as the loop
     * goes, they queued (signal 64 forwards them, one each) faster than the
     * handler's forwarded write ran, and the loop, which stops only once
     * `seen` shows, sent 90,000 of them under pshare, minutes of handler
     * runs (a signal that merges with a pending one is answered by that
     * one's run) */
    int ok = 0;
    for (int i = 0; i < 2000 || !seen; i++) {
        unsigned before = __atomic_load_n(&handled, __ATOMIC_ACQUIRE);
        ok += pthread_kill(t, SIGUSR1) == 0;
        while (__atomic_load_n(&handled, __ATOMIC_ACQUIRE) == before)
            ;
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    void *r;
    pthread_join(t, &r);
    printf("signals delivered: %s, worker returned %ld, all sent: %s\n",
           seen ? "yes" : "no", (long)r, ok >= 2000 ? "yes" : "no");
    return 0;
}
