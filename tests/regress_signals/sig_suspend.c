/* Threads (on ranks 1, 2, ... when spread) that wait in sigsuspend or pause
 * for signals sent to the process (kill, sigqueue), which main blocks, so
 * that only the waiting thread can take them.  Under pshare such a signal
 * goes to home's process, and a thread elsewhere waited for ever.  Checked
 * in each thread: the call ends with EINTR, the handler ran in that thread
 * with the sender's siginfo (code, pid, value), a signal it does not let
 * through stays pending for the process (sigpending), and one queued to the
 * thread before the call ends it at once. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define WORKERS 3

static pthread_barrier_t go;
static volatile sig_atomic_t ran_in[65], code[65], value[65], from_us[65];
static volatile sig_atomic_t woken;
static int pause_done;
static char report[WORKERS][512];
static pthread_t workers[WORKERS];

static int wanted(int w)
{
    return w == 0 ? SIGUSR1 : w == 1 ? SIGUSR2 : SIGRTMIN + 1;
}

static void on_signal(int sig, siginfo_t *si, void *ctx)
{
    (void)ctx;
    ran_in[sig] = gettid();
    code[sig] = si->si_code;
    value[sig] = si->si_code == SI_QUEUE ? si->si_value.sival_int : -1;
    from_us[sig] = si->si_pid == getpid();
    if (sig == SIGUSR1)
        woken = 1;
}

static const char *code_name(int c)
{
    return c == SI_USER ? "SI_USER" : c == SI_QUEUE ? "SI_QUEUE" : c == SI_TKILL ? "SI_TKILL" : "other";
}

/* sigsuspend letting only `sig` through; what it says, appended to the report */
static void suspend_for(int w, int sig, const char *what)
{
    sigset_t mask;
    sigfillset(&mask);
    sigdelset(&mask, sig);
    ran_in[sig] = 0;
    errno = 0;
    int r = sigsuspend(&mask);
    int e = errno;
    char line[160];
    snprintf(line, sizeof line, "  %s: sigsuspend %d %s, handler in this thread %s, %s, from us %d, value %d\n",
             what, r, e == EINTR ? "EINTR" : strerror(e), ran_in[sig] == gettid() ? "yes" : "NO",
             code_name(code[sig]), (int)from_us[sig], (int)value[sig]);
    strncat(report[w], line, sizeof report[w] - strlen(report[w]) - 1);
}

static void *worker(void *arg)
{
    int w = (int)(long)arg, sig = wanted(w);
    /* 1. signals sent to the process, one per thread, all waiting at once */
    pthread_barrier_wait(&go);
    suspend_for(w, sig, "kill/sigqueue");
    /* 2. signals sent to this thread */
    pthread_barrier_wait(&go);
    suspend_for(w, sig, "pthread_kill");
    /* 3. one queued to the thread before it waits */
    pthread_barrier_wait(&go);
    pthread_kill(pthread_self(), sig);
    suspend_for(w, sig, "queued before");
    pthread_barrier_wait(&go);
    if (w == 0) {
        /* 4. SIGUSR2 sent to the process and not let through stays pending
         * there while SIGUSR1 ends the wait */
        pthread_barrier_wait(&go);
        suspend_for(w, SIGUSR1, "SIGUSR2 pending");
        sigset_t pending;
        sigpending(&pending);
        char line[80];
        snprintf(line, sizeof line, "  sigpending after: SIGUSR2 %d SIGUSR1 %d\n",
                 sigismember(&pending, SIGUSR2), sigismember(&pending, SIGUSR1));
        strncat(report[w], line, sizeof report[w] - strlen(report[w]) - 1);
        pthread_barrier_wait(&go);
        /* 5. pause with SIGUSR1 let through; main sends it until we are done */
        sigset_t usr1;
        sigemptyset(&usr1);
        sigaddset(&usr1, SIGUSR1);
        woken = 0;
        pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
        int bad = 0;
        while (!woken)
            if (pause() != -1 || errno != EINTR)
                bad = 1;
        pthread_sigmask(SIG_BLOCK, &usr1, NULL);
        __atomic_store_n(&pause_done, 1, __ATOMIC_RELEASE);
        snprintf(line, sizeof line, "  pause: woken, handler in this thread %s, %s\n",
                 ran_in[SIGUSR1] == gettid() ? "yes" : "NO", bad ? "NOT EINTR" : "EINTR if it waited");
        strncat(report[w], line, sizeof report[w] - strlen(report[w]) - 1);
    } else if (w == 1) {
        /* 4'. the SIGUSR2 left pending for the process ends this wait */
        pthread_barrier_wait(&go);
        pthread_barrier_wait(&go);
        suspend_for(w, SIGUSR2, "left pending");
    } else {
        pthread_barrier_wait(&go);
        pthread_barrier_wait(&go);
    }
    return NULL;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);       /* the workers inherit it */
    for (int w = 0; w < WORKERS; w++)
        sigaction(wanted(w), &sa, NULL);
    pthread_barrier_init(&go, NULL, WORKERS + 1);
    for (long w = 0; w < WORKERS; w++)
        pthread_create(&workers[w], NULL, worker, (void *)w);
    pid_t me = getpid();

    pthread_barrier_wait(&go);
    kill(me, SIGUSR1);
    sigqueue(me, SIGUSR2, (union sigval){ .sival_int = 22 });
    sigqueue(me, SIGRTMIN + 1, (union sigval){ .sival_int = 33 });

    pthread_barrier_wait(&go);
    for (int w = 0; w < WORKERS; w++)
        pthread_kill(workers[w], wanted(w));

    pthread_barrier_wait(&go);                 /* 3: the workers queue their own */
    pthread_barrier_wait(&go);

    pthread_barrier_wait(&go);                 /* 4 */
    sigqueue(me, SIGUSR2, (union sigval){ .sival_int = 44 });
    kill(me, SIGUSR1);
    pthread_barrier_wait(&go);                 /* worker 1 takes the SIGUSR2 now */

    while (!__atomic_load_n(&pause_done, __ATOMIC_ACQUIRE)) {
        kill(me, SIGUSR1);                     /* 5 */
        usleep(2000);
    }
    for (int w = 0; w < WORKERS; w++)
        pthread_join(workers[w], NULL);
    for (int w = 0; w < WORKERS; w++)
        printf("worker %d (signal %d):\n%s", w, wanted(w), report[w]);
    /* a SIGUSR1 sent after the pause ended may still be pending: drop it */
    return 0;
}
