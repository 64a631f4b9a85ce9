/* Signals for main (on home) while it takes DSM faults: a thread (on rank 1
 * when spread) keeps writing a page main reads and writes, so main's
 * accesses keep fetching it back; another thread (rank 1 or 2) signals
 * main once per round of main's, and main waits for its handler.  The handler reads the same page and
 * writes to /dev/null.  Under pshare a handler that ran right after the
 * page's grant came, before the page was applied and its transfer closed,
 * faulted on that page again and waited behind the transfer that its own
 * thread had not closed: a hang. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct {
    long value;                       /* written by the writer */
    long main_round;                  /* written by main */
    long handler_sum;
    int done;
} shared __attribute__((aligned(4096)));
static char pad[4096] __attribute__((unused));
static volatile sig_atomic_t seen;
static volatile long handled;         /* the round main was in when its handler ran */
static int devnull;
static pthread_t main_thread;

static void on_usr1(int sig)
{
    (void)sig;
    seen = 1;
    handled = __atomic_load_n(&shared.main_round, __ATOMIC_RELAXED);
    shared.handler_sum += __atomic_load_n(&shared.value, __ATOMIC_RELAXED) >= 0;
    write(devnull, "h", 1);
}

static void *writer(void *arg)
{
    (void)arg;
    long v = 0;
    while (!__atomic_load_n(&shared.done, __ATOMIC_ACQUIRE))
        __atomic_store_n(&shared.value, ++v, __ATOMIC_RELEASE);
    return NULL;
}

static void *signaller(void *arg)
{
    (void)arg;
    struct timespec pause = { 0, 50000 };
    long last = -1, sent = 0;
    while (!__atomic_load_n(&shared.done, __ATOMIC_ACQUIRE)) {
        long now = __atomic_load_n(&shared.main_round, __ATOMIC_ACQUIRE);
        if (now != last) {
            last = now;
            sent += pthread_kill(main_thread, SIGUSR1) == 0;
        }
        nanosleep(&pause, NULL);
    }
    return (void *)sent;
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : 500;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    devnull = open("/dev/null", O_WRONLY);
    main_thread = pthread_self();
    pthread_t w, s;
    pthread_create(&w, NULL, writer, NULL);
    pthread_create(&s, NULL, signaller, NULL);
    long prev = 0, backwards = 0;
    /* one signal per round: main reads the writer's page (faulting it back
     * again and again) until its handler has run for this round */
    for (long i = 0; i < rounds; i++) {
        __atomic_store_n(&shared.main_round, i + 1, __ATOMIC_RELEASE);
        while (handled != i + 1) {
            long v = __atomic_load_n(&shared.value, __ATOMIC_ACQUIRE);
            backwards += v < prev;
            prev = v;
        }
    }
    __atomic_store_n(&shared.done, 1, __ATOMIC_RELEASE);
    void *sent;
    pthread_join(w, NULL);
    pthread_join(s, &sent);
    printf("handler ran: %s; main saw the value go backwards %ld times; signals sent: %s\n",
           seen ? "yes" : "no", backwards, (long)sent > 0 ? "yes" : "no");
    return 0;
}
