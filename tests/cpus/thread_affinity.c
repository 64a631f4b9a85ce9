/* Calls that name one thread's scheduling, made by one thread about
 * another on any rank: glibc's pthread_create with an affinity in its
 * attributes (the parent pins the new thread by its tid, as OpenMP's
 * binding does), pthread_setaffinity_np / pthread_getaffinity_np of
 * itself, of main and of another worker, sched_setscheduler and
 * setpriority of a worker by its tid, and the errors: an empty mask, a CPU
 * the process may not use (pthread_create fails with EINVAL and the thread
 * is cancelled), a tid nobody has.  Each thread reads back what it is
 * given with sched_getaffinity(0), sched_getscheduler(0) and
 * getpriority(PRIO_PROCESS, 0).  Off home these calls ran with the
 * thread's cluster tid in that rank's kernel: they changed another thread
 * of the host (home's executor of the thread) or failed with ESRCH.
 * CPUs are printed as their index among those the process may use.
 * Expected exit status: 0 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WORKERS 4

static int cpus[CPU_SETSIZE], ncpus;
static pid_t tids[WORKERS];
static pthread_t threads[WORKERS], main_thread;
static pthread_barrier_t step;
static char report[WORKERS][512];

static int cpu_index(int cpu)
{
    for (int i = 0; i < ncpus; i++)
        if (cpus[i] == cpu)
            return i;
    return -1;
}

/* "{0,1}": a mask as indexes among the usable CPUs */
static void show(char *out, size_t n, const cpu_set_t *s)
{
    size_t k = (size_t)snprintf(out, n, "{");
    int first = 1;
    for (int c = 0; c < CPU_SETSIZE && k < n; c++)
        if (CPU_ISSET(c, s)) {
            k += (size_t)snprintf(out + k, n - k, first ? "%d" : ",%d", cpu_index(c));
            first = 0;
        }
    if (k < n)
        snprintf(out + k, n - k, "}");
}

static void one_cpu(cpu_set_t *s, int index)
{
    CPU_ZERO(s);
    CPU_SET(cpus[index % ncpus], s);
}

static void own_mask(char *out, size_t n)
{
    cpu_set_t s;
    if (sched_getaffinity(0, sizeof s, &s) != 0) {
        snprintf(out, n, "error %s", strerror(errno));
        return;
    }
    show(out, n, &s);
}

static void *worker(void *arg)
{
    long id = (long)arg;
    char start[64], by_tid[64], after[64], again[64], of_main[64];
    tids[id] = gettid();
    own_mask(start, sizeof start);              /* what its creator asked for */
    cpu_set_t s;
    sched_getaffinity(gettid(), sizeof s, &s);   /* itself by its tid */
    show(by_tid, sizeof by_tid, &s);
    pthread_barrier_wait(&step);                 /* 1: every tid is known */
    /* each worker pins the next one: a thread on another rank, mostly */
    one_cpu(&s, (int)id + 1);
    int e1 = pthread_setaffinity_np(threads[(id + 1) % WORKERS], sizeof s, &s);
    pthread_barrier_wait(&step);                 /* 2: pinned */
    own_mask(after, sizeof after);
    /* itself, by pthread_self (its tid) */
    one_cpu(&s, 0);
    int e2 = pthread_setaffinity_np(pthread_self(), sizeof s, &s);
    own_mask(again, sizeof again);
    /* main's mask, read from here */
    cpu_set_t m;
    int e3 = pthread_getaffinity_np(main_thread, sizeof m, &m);
    show(of_main, sizeof of_main, &m);
    pthread_barrier_wait(&step);                 /* 3: main changes its scheduling */
    pthread_barrier_wait(&step);                 /* 4: done */
    int policy = sched_getscheduler(0);
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, 0);
    snprintf(report[id], sizeof report[id],
             "worker %ld: created %s, by tid %s, pinned by worker %ld (%d) %s, itself (%d) %s, "
             "main's (%d) %s, policy %s, nice %d",
             id, start, by_tid, (id + WORKERS - 1) % WORKERS, e1, after, e2, again, e3, of_main,
             policy == SCHED_BATCH ? "batch" : policy == SCHED_OTHER ? "other" : "?", nice);
    return NULL;
}

int main(void)
{
    cpu_set_t all;
    if (sched_getaffinity(0, sizeof all, &all) != 0) {
        perror("sched_getaffinity");
        return 1;
    }
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &all))
            cpus[ncpus++] = c;
    pthread_barrier_init(&step, NULL, WORKERS + 1);
    main_thread = pthread_self();

    /* created pinned: the parent sets the child's mask by its tid */
    for (long i = 0; i < WORKERS; i++) {
        pthread_attr_t at;
        cpu_set_t s;
        pthread_attr_init(&at);
        one_cpu(&s, (int)i);
        pthread_attr_setaffinity_np(&at, sizeof s, &s);
        int e = pthread_create(&threads[i], &at, worker, (void *)i);
        pthread_attr_destroy(&at);
        if (e) {
            printf("pthread_create %ld: %s\n", i, strerror(e));
            return 1;
        }
    }
    pthread_barrier_wait(&step);   /* 1 */
    pthread_barrier_wait(&step);   /* 2 */
    pthread_barrier_wait(&step);   /* 3 */

    /* main reads every worker's mask by its tid */
    for (int i = 0; i < WORKERS; i++) {
        cpu_set_t s;
        char text[64];
        int e = pthread_getaffinity_np(threads[i], sizeof s, &s);
        show(text, sizeof text, &s);
        printf("main reads worker %d: %d %s\n", i, e, e ? "" : text);
    }
    /* a worker's policy and nice, by its tid */
    struct sched_param p = { 0 };
    int e = pthread_setschedparam(threads[1], SCHED_BATCH, &p);
    printf("setschedparam worker 1: %d, reads back %d\n", e, sched_getscheduler(tids[1]));
    errno = 0;
    printf("setpriority worker 2: %d", setpriority(PRIO_PROCESS, tids[2], 7));
    int nice = getpriority(PRIO_PROCESS, tids[2]);
    printf(", reads back %d\n", nice);
    pthread_barrier_wait(&step);   /* 4 */
    for (int i = 0; i < WORKERS; i++) {
        pthread_join(threads[i], NULL);
        printf("%s\n", report[i]);
    }

    /* errors, as the kernel gives them */
    cpu_set_t none;
    CPU_ZERO(&none);
    printf("empty mask: %s\n", strerror(pthread_setaffinity_np(pthread_self(), sizeof none, &none)));
    printf("no such tid: %s\n",
           sched_getaffinity(0x3ffffff0, sizeof none, &none) ? strerror(errno) : "found");
    int unusable = -1;
    for (int c = CPU_SETSIZE - 1; c >= 0 && unusable < 0; c--)
        if (!CPU_ISSET(c, &all))
            unusable = c;
    pthread_attr_t at;
    pthread_attr_init(&at);
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(unusable, &s);
    pthread_attr_setaffinity_np(&at, sizeof s, &s);
    pthread_t t;
    e = pthread_create(&t, &at, worker, (void *)0);
    printf("create on a CPU it may not use: %s\n", strerror(e));
    return 0;
}
