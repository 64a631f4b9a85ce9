/* Floods the runtime's up ring: main sends 20000 signals to a thread (on
 * another rank when spread: each becomes an entry on home's ring) while
 * other threads keep making system calls (from another rank, each answer is
 * an entry on the same ring).  No entry may be lost: every call comes back.
 * The signalled thread only spins in user mode (its handler writes a
 * thread-local flag), and every thread makes its first call before the
 * flood, so the signals never interrupt a call or a symbol binding. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static __thread volatile sig_atomic_t seen;
static int sent_all __attribute__((aligned(4096)));
static char pad[4096] __attribute__((unused));
static pthread_barrier_t ready;

static void on_usr1(int sig)
{
    (void)sig;
    seen = 1;
}

static void *target(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&ready);
    while (!__atomic_load_n(&sent_all, __ATOMIC_ACQUIRE) || !seen)
        ;
    return (void *)1L;
}

static void *caller(void *arg)
{
    (void)arg;
    long calls = 1;
    getppid();
    pthread_barrier_wait(&ready);
    while (calls < 2000 || !__atomic_load_n(&sent_all, __ATOMIC_ACQUIRE)) {
        getppid();
        calls++;
    }
    return (void *)(long)(calls >= 2000);
}

int main(void)
{
    struct sigaction sa = { 0 };
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t t[3];
    pthread_barrier_init(&ready, NULL, 4);
    pthread_create(&t[0], NULL, target, NULL);
    pthread_create(&t[1], NULL, caller, NULL);
    pthread_create(&t[2], NULL, caller, NULL);
    pthread_barrier_wait(&ready);
    int ok = 0;
    for (int i = 0; i < 20000; i++)
        ok += pthread_kill(t[0], SIGUSR1) == 0;
    __atomic_store_n(&sent_all, 1, __ATOMIC_RELEASE);
    long all = 0;
    for (int i = 0; i < 3; i++) {
        void *r;
        pthread_join(t[i], &r);
        all += (long)r;
    }
    printf("sent %d signals; the signalled thread saw one and the callers made "
           "2000 calls each: %s\n", ok, all == 3 ? "yes" : "no");
    return 0;
}
