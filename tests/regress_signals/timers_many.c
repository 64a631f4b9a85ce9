/* POSIX timers that signal a worker thread (SIGEV_THREAD_ID), made until
 * timer_create fails or CAP exist.  pshare carries the signal of a timer
 * naming a thread on another rank through a table of 4096 entries: the
 * 4097th fails with EAGAIN, the kernel's error, never a crash or a timer
 * that does not fire.  Then the last one made still fires, and once all are
 * deleted new ones work again.  How many were made goes to argv[1] (outside
 * the compared output: natively it is CAP).
 * Expected exit status: 0 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CAP 5000

static timer_t timers[CAP];
static const char *count_path;

static timer_t make(int value)
{
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGRTMIN + 4;
    sev.sigev_value.sival_int = value;
    sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
    timer_t t;
    if (timer_create(CLOCK_MONOTONIC, &sev, &t) != 0)
        return (timer_t)-1L;
    return t;
}

/* Arm t once; 1 if its signal came with the value. */
static int fires(timer_t t, int value)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 4);
    struct itimerspec its = { .it_value = { 0, 1000000 } };
    timer_settime(t, 0, &its, NULL);
    struct timespec limit = { 10, 0 };
    siginfo_t si;
    return sigtimedwait(&set, &si, &limit) == SIGRTMIN + 4 && si.si_code == SI_TIMER &&
           si.si_value.sival_int == value;
}

static void *worker(void *arg)
{
    (void)arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 4);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    int n = 0, err = 0;
    for (; n < CAP; n++) {
        timers[n] = make(n);
        if (timers[n] == (timer_t)-1L) {
            err = errno;
            break;
        }
    }
    printf("made %s timers, then %s\n", n >= 1000 ? "1000 or more" : "fewer than 1000",
           n == CAP || err == EAGAIN ? "the cap or EAGAIN" : strerror(err));
    printf("the last one fires: %d\n", n > 0 && fires(timers[n - 1], n - 1));
    for (int i = 0; i < n; i++)
        timer_delete(timers[i]);
    int again = 0;
    for (int i = 0; i < 10; i++) {
        timer_t t = make(100 + i);
        if (t != (timer_t)-1L) {
            again += fires(t, 100 + i);
            timer_delete(t);
        }
    }
    printf("after deleting them all, new ones fire: %d of 10\n", again);
    FILE *f = fopen(count_path, "w");
    if (f) {
        fprintf(f, "%d\n", n);
        fclose(f);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    count_path = argc > 1 ? argv[1] : "/dev/null";
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    pthread_join(t, NULL);
    return 0;
}
