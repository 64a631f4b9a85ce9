/* The "one thread takes the signals" design: every thread blocks them and
 * one waits with sigwaitinfo/sigtimedwait/sigwait, here a thread on another
 * rank.  Signals sent to the process (kill, sigqueue, a SIGEV_SIGNAL timer)
 * reach the process on home, where the waiter is not: they stayed pending
 * there for ever.  Also a pthread_kill to the waiter while it waits, a wait
 * that times out and one that only polls, and pthread_cancel of a thread
 * waiting in sigwait (a cancellation point).
 * Expected exit status: 0 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static sigset_t set;
static sem_t waiting;

static void describe(const char *how, int s, const siginfo_t *si)
{
    const char *code = si->si_code == SI_USER ? "SI_USER" : si->si_code == SI_QUEUE ? "SI_QUEUE"
                     : si->si_code == SI_TKILL ? "SI_TKILL" : si->si_code == SI_TIMER ? "SI_TIMER"
                     : "other";
    printf("%s: %s, %s, from this process %d, value %d\n", how, strsignal(s), code,
           si->si_code != SI_TIMER && si->si_pid == getpid(), si->si_value.sival_int);
}

static void *waiter(void *arg)
{
    (void)arg;
    siginfo_t si;
    struct timespec short_wait = { 0, 50000000 }, none = { 0, 0 };
    /* nothing pending: a poll, then a wait that times out */
    int r = sigtimedwait(&set, &si, &none);
    printf("poll: %d %s\n", r, r < 0 ? strerror(errno) : "");
    r = sigtimedwait(&set, &si, &short_wait);
    printf("50 ms wait: %d %s\n", r, r < 0 ? strerror(errno) : "");
    sem_post(&waiting);
    /* kill, sigqueue, a timer of the process, pthread_kill: in this order */
    const char *how[] = { "kill", "sigqueue", "process timer", "pthread_kill" };
    for (int i = 0; i < 4; i++) {
        memset(&si, 0, sizeof si);
        r = sigwaitinfo(&set, &si);
        describe(how[i], r, &si);
        sem_post(&waiting);
    }
    int sig = 0;
    r = sigwait(&set, &sig);
    printf("sigwait: %d %s\n", r, strsignal(sig));
    return NULL;
}

static void *cancelled(void *arg)
{
    (void)arg;
    int sig;
    sem_post(&waiting);
    sigwait(&set, &sig);            /* never returns: cancelled */
    printf("sigwait returned in the cancelled thread\n");
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    sem_init(&waiting, 0, 0);
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_t t;
    pthread_create(&t, NULL, waiter, NULL);
    sem_wait(&waiting);

    kill(getpid(), SIGUSR1);
    sem_wait(&waiting);
    union sigval v = { .sival_int = 42 };
    sigqueue(getpid(), SIGHUP, v);
    sem_wait(&waiting);
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGALRM;
    sev.sigev_value.sival_int = 7;
    timer_t tm;
    timer_create(CLOCK_MONOTONIC, &sev, &tm);
    struct itimerspec its = { .it_value = { 0, 2000000 } };
    timer_settime(tm, 0, &its, NULL);
    sem_wait(&waiting);
    timer_delete(tm);
    pthread_kill(t, SIGUSR2);
    sem_wait(&waiting);
    kill(getpid(), SIGUSR1);
    pthread_join(t, NULL);

    /* two: at 2 ranks the second lands on rank 1 again */
    for (int i = 0; i < 2; i++) {
        pthread_t c;
        pthread_create(&c, NULL, cancelled, NULL);
        sem_wait(&waiting);
        pthread_cancel(c);
        void *res;
        pthread_join(c, &res);
        printf("the thread in sigwait was cancelled: %d\n", res == PTHREAD_CANCELED);
    }
    return 0;
}
