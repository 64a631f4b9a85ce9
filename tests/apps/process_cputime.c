/* The process's CPU time is its threads': three workers (on ranks 1..3
 * under pshare's round-robin placement) each compute until their own
 * thread CPU clock has run 100 ms, and every way a program reads the
 * process's CPU time must count them, as the kernel guarantees natively:
 * clock(), clock_gettime(CLOCK_PROCESS_CPUTIME_ID), the clock of
 * clock_getcpuclockid(getpid()), getrusage(RUSAGE_SELF) and times().
 * Each worker checks from where it runs that the process's clock already
 * holds its own time and does not go back; main reads each worker's own
 * clock (pthread_getcpuclockid) while the worker waits at a barrier, and
 * checks that the sums grew by the workers' time at least.  Only what the kernel guarantees is
 * checked (sums at least so much), never a timing.
 * Expected exit status: 0 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#define WORKERS 3
#define WORK_NS 100000000L

static long ns_of(clockid_t clk)
{
    struct timespec t;
    if (clock_gettime(clk, &t) != 0) {
        perror("clock_gettime");
        exit(3);
    }
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static long rusage_ns(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) {
        perror("getrusage");
        exit(3);
    }
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000L +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000L;
}

static long times_ticks(void)
{
    struct tms t;
    if (times(&t) == (clock_t)-1) {
        perror("times");
        exit(3);
    }
    return t.tms_utime + t.tms_stime;
}

static int fails;
static pthread_barrier_t spun, done;

static void check(int ok, const char *what)
{
    printf("%s: %s\n", what, ok ? "yes" : "NO");
    if (!ok)
        fails++;
}

static void *worker(void *arg)
{
    long *mine = arg;
    volatile unsigned long sum = 0;
    long t0 = ns_of(CLOCK_THREAD_CPUTIME_ID);
    while (ns_of(CLOCK_THREAD_CPUTIME_ID) - t0 < WORK_NS)
        for (unsigned long i = 0; i < 20000; i++)
            sum += i;
    long own = ns_of(CLOCK_THREAD_CPUTIME_ID);
    long p1 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
    long p2 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
    mine[0] = own;
    mine[1] = p1 >= own && p2 >= p1;      /* checked by main: one line each, in order */
    pthread_barrier_wait(&spun);           /* main reads this thread's clock meanwhile */
    pthread_barrier_wait(&done);
    return NULL;
}

int main(void)
{
    clockid_t by_pid;
    if (clock_getcpuclockid(getpid(), &by_pid) != 0) {
        fprintf(stderr, "clock_getcpuclockid failed\n");
        return 3;
    }
    struct timespec res;
    check(clock_getres(by_pid, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0,
          "the process's clock by its pid has a resolution");

    long proc0 = ns_of(CLOCK_PROCESS_CPUTIME_ID), pid0 = ns_of(by_pid);
    long ru0 = rusage_ns(), tk0 = times_ticks();
    clock_t c0 = clock();

    pthread_t t[WORKERS];
    long seen[WORKERS][2];
    pthread_barrier_init(&spun, NULL, WORKERS + 1);
    pthread_barrier_init(&done, NULL, WORKERS + 1);
    for (int i = 0; i < WORKERS; i++)
        if (pthread_create(&t[i], NULL, worker, seen[i]) != 0)
            return 2;
    pthread_barrier_wait(&spun);
    for (int i = 0; i < WORKERS; i++) {
        clockid_t its;
        char what[96];
        snprintf(what, sizeof what, "worker %d: its own clock, read by main, holds its time", i);
        check(pthread_getcpuclockid(t[i], &its) == 0 && ns_of(its) >= seen[i][0] &&
              clock_getres(its, &res) == 0 && res.tv_nsec > 0, what);
    }
    pthread_barrier_wait(&done);
    long threads = 0;
    for (int i = 0; i < WORKERS; i++) {
        if (pthread_join(t[i], NULL) != 0)
            return 2;
        threads += seen[i][0];
    }
    for (int i = 0; i < WORKERS; i++) {
        char what[96];
        snprintf(what, sizeof what, "worker %d: the process's clock holds its time, going forward", i);
        check(seen[i][1], what);
    }

    long proc = ns_of(CLOCK_PROCESS_CPUTIME_ID) - proc0, pid = ns_of(by_pid) - pid0;
    long ru = rusage_ns() - ru0, tk = times_ticks() - tk0;
    double cl = (double)(clock() - c0) / CLOCKS_PER_SEC;
    check(threads >= WORKERS * WORK_NS, "the workers ran their time");
    check(proc >= threads, "CLOCK_PROCESS_CPUTIME_ID counts every worker");
    check(pid >= threads, "the clock of clock_getcpuclockid(getpid()) counts every worker");
    check(cl >= threads * 0.999e-9, "clock() counts every worker");
    /* microseconds and ticks, each time truncated: a little slack */
    check(ru >= threads - 1000000L, "getrusage(RUSAGE_SELF) counts every worker");
    check(tk * (1000000000L / sysconf(_SC_CLK_TCK)) >= threads - 30000000L,
          "times() counts every worker");
    return fails ? 1 : 0;
}
