/* Signals the kernel itself sends to one thread, from threads on every
 * rank: SIGPIPE to the thread that writes into a pipe nobody reads,
 * SIGXFSZ to the thread that writes past RLIMIT_FSIZE, a POSIX timer with
 * SIGEV_THREAD_ID naming a worker (its siginfo: SI_TIMER, the timer's
 * value), and glibc's SIGEV_THREAD timers (glibc's helper thread reads the
 * timer from si_ptr).  Off home such a call runs in the thread's executor
 * on home, where the kernel queued the signal, and the thread never got it.
 * With an argument "die", a worker's SIGPIPE has no handler: the process
 * dies of it (141), as natively.
 * Expected exit status: 0 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define WORKERS 4

static __thread int my_id = -1;
static volatile sig_atomic_t pipe_where[WORKERS + 1], xfsz_where[WORKERS + 1];
static volatile sig_atomic_t pipe_code_ok[WORKERS + 1];
static char report[WORKERS][512];
static int die_mode;

static void on_pipe(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)ctx;
    pipe_where[my_id]++;
    /* the kernel's send_sig: SI_USER from the process itself */
    pipe_code_ok[my_id] = si->si_code == SI_USER && si->si_pid == getpid();
}

static void on_xfsz(int sig)
{
    (void)sig;
    xfsz_where[my_id]++;
}

static void pipe_case(int id, char *out, size_t n)
{
    int p[2];
    if (pipe(p) != 0) {
        snprintf(out, n, "pipe failed\n");
        return;
    }
    close(p[0]);
    ssize_t w = write(p[1], "x", 1);
    int err = errno;
    close(p[1]);
    snprintf(out, n, "write to a closed pipe: %zd %s, SIGPIPE here %d, code ok %d\n", w,
             w < 0 ? strerror(err) : "", (int)pipe_where[id], (int)pipe_code_ok[id]);
}

static void xfsz_case(int id, char *out, size_t n)
{
    char name[64];
    snprintf(name, sizeof name, "big.%d", id);
    FILE *f = fopen(name, "w");
    if (!f) {
        snprintf(out, n, "fopen failed\n");
        return;
    }
    char buf[6000];
    memset(buf, 'a' + id, sizeof buf);
    ssize_t w1 = write(fileno(f), buf, sizeof buf);      /* 4096 of it: the limit */
    ssize_t w2 = write(fileno(f), buf, 10);              /* at the limit: EFBIG, SIGXFSZ */
    int err = errno;
    fclose(f);
    snprintf(out, n, "writes past RLIMIT_FSIZE: %zd %zd %s, SIGXFSZ here %d\n", w1, w2,
             w2 < 0 ? strerror(err) : "", (int)xfsz_where[id]);
}

/* A timer that signals this very thread (SIGEV_THREAD_ID), taken with sigwaitinfo. */
static void tid_timer_case(int id, char *out, size_t n)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 3);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGRTMIN + 3;
    sev.sigev_value.sival_int = 1000 + id;
    sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
    timer_t t;
    if (timer_create(CLOCK_MONOTONIC, &sev, &t) != 0) {
        snprintf(out, n, "timer_create: %s\n", strerror(errno));
        return;
    }
    struct itimerspec its = { .it_interval = { 0, 2000000 }, .it_value = { 0, 2000000 } };
    timer_settime(t, 0, &its, NULL);
    int got = 0, values_ok = 1, codes_ok = 1;
    struct timespec limit = { 10, 0 };
    while (got < 3) {
        siginfo_t si;
        if (sigtimedwait(&set, &si, &limit) < 0)
            break;
        got++;
        values_ok &= si.si_value.sival_int == 1000 + id;
        codes_ok &= si.si_code == SI_TIMER;
    }
    timer_delete(t);
    snprintf(out, n, "thread timer: %d ticks, values ok %d, codes ok %d\n", got, values_ok,
             codes_ok);
}

static sem_t fired;
static void on_timer_thread(union sigval v)
{
    (void)v;
    sem_post(&fired);
}

/* glibc's SIGEV_THREAD: its helper thread waits for the kernel's signal. */
static void glibc_timer_case(char *out, size_t n)
{
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD;
    sev.sigev_notify_function = on_timer_thread;
    timer_t t;
    if (timer_create(CLOCK_MONOTONIC, &sev, &t) != 0) {
        snprintf(out, n, "timer_create: %s\n", strerror(errno));
        return;
    }
    struct itimerspec its = { .it_value = { 0, 5000000 } };
    timer_settime(t, 0, &its, NULL);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 10;
    int r = sem_timedwait(&fired, &dl);
    timer_delete(t);
    snprintf(out, n, "SIGEV_THREAD timer fired: %s\n", r == 0 ? "yes" : "no");
}

static void *worker(void *arg)
{
    my_id = (int)(long)arg;
    char a[128], b[128], c[160];
    if (die_mode) {
        signal(SIGPIPE, SIG_DFL);
        int p[2];
        if (pipe(p) == 0) {
            close(p[0]);
            ssize_t w = write(p[1], "x", 1);
            printf("worker %d survived its SIGPIPE: %zd\n", my_id, w);
        }
        return NULL;
    }
    pipe_case(my_id, a, sizeof a);
    xfsz_case(my_id, b, sizeof b);
    tid_timer_case(my_id, c, sizeof c);
    snprintf(report[my_id - 1], sizeof report[0], "worker %d: %s  %s  %s", my_id, a, b, c);
    return NULL;
}

int main(int argc, char **argv)
{
    die_mode = argc > 1 && strcmp(argv[1], "die") == 0;
    my_id = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_pipe;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGPIPE, &sa, NULL);
    signal(SIGXFSZ, on_xfsz);
    struct rlimit fs = { 4096, RLIM_INFINITY };
    setrlimit(RLIMIT_FSIZE, &fs);
    sem_init(&fired, 0, 0);

    if (die_mode) {
        pthread_t t;
        pthread_create(&t, NULL, worker, (void *)1L);
        pthread_join(t, NULL);
        printf("main: the worker's SIGPIPE did not kill the process\n");
        return 0;
    }
    char a[128], b[128], c[160], d[64];
    pipe_case(0, a, sizeof a);
    xfsz_case(0, b, sizeof b);
    tid_timer_case(0, c, sizeof c);
    printf("main: %s  %s  %s", a, b, c);

    pthread_t t[WORKERS];
    for (long i = 0; i < WORKERS; i++)
        pthread_create(&t[i], NULL, worker, (void *)(i + 1));
    for (int i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < WORKERS; i++)
        fputs(report[i], stdout);
    /* twice: the helper thread is made at the first */
    glibc_timer_case(d, sizeof d);
    fputs(d, stdout);
    glibc_timer_case(d, sizeof d);
    fputs(d, stdout);
    for (int i = 0; i < WORKERS + 1; i++) {
        char name[64];
        snprintf(name, sizeof name, "big.%d", i);
        unlink(name);
    }
    return 0;
}
