/* The CPUs a program sees, and pins its threads to: the CPU count as glibc
 * gives it (sysconf, get_nprocs: /sys/devices/system/cpu/online and
 * possible), main's affinity, one thread per CPU created pinned to it
 * (pthread_attr_setaffinity_np), which says where it runs (sched_getcpu,
 * glibc's call of the vDSO, and the getcpu system call), then pins itself to the CPU STEP
 * further on (argv[1]) and reads its mask back, and a mask that names no
 * CPU there is (EINVAL).  Natively, and under pshare with --cpus node,
 * every thread gets the CPU it asks for; with the cluster's CPUs a thread
 * keeps those of its own node (tests/test_cpus.py says which).
 * Expected exit status: 0 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#define MAX_THREADS 64

static int ncpus, step;
static char report[MAX_THREADS][512];

static void show(char *out, size_t n, const cpu_set_t *s)
{
    size_t k = (size_t)snprintf(out, n, "{");
    int first = 1;
    for (int c = 0; c < CPU_SETSIZE && k < n; c++)
        if (CPU_ISSET(c, s)) {
            k += (size_t)snprintf(out + k, n - k, first ? "%d" : ",%d", c);
            first = 0;
        }
    if (k < n)
        snprintf(out + k, n - k, "}");
}

static void *worker(void *arg)
{
    long k = (long)arg;
    char created[200], moved[200];
    cpu_set_t s;
    sched_getaffinity(0, sizeof s, &s);
    show(created, sizeof created, &s);
    unsigned by_call = 12345;
    int on = sched_getcpu();
    if (syscall(SYS_getcpu, &by_call, NULL, NULL) != 0)
        by_call = 54321;
    CPU_ZERO(&s);
    CPU_SET((int)((k + step) % ncpus), &s);
    int e = pthread_setaffinity_np(pthread_self(), sizeof s, &s);
    sched_getaffinity(0, sizeof s, &s);
    show(moved, sizeof moved, &s);
    snprintf(report[k], sizeof report[k], "worker %ld: created %s, on %d/%u, to %ld: %d %s", k,
             created, on, by_call, (k + step) % ncpus, e, moved);
    return NULL;
}

int main(int argc, char **argv)
{
    step = argc > 1 ? atoi(argv[1]) : 1;
    printf("online %ld configured %ld get_nprocs %d get_nprocs_conf %d\n",
           sysconf(_SC_NPROCESSORS_ONLN), sysconf(_SC_NPROCESSORS_CONF), get_nprocs(),
           get_nprocs_conf());
    cpu_set_t all;
    char text[400];
    sched_getaffinity(0, sizeof all, &all);
    show(text, sizeof text, &all);
    ncpus = CPU_COUNT(&all);
    printf("main: %s\n", text);
    if (ncpus > MAX_THREADS)
        ncpus = MAX_THREADS;
    pthread_t t[MAX_THREADS];
    for (long k = 0; k < ncpus; k++) {
        pthread_attr_t at;
        cpu_set_t s;
        pthread_attr_init(&at);
        CPU_ZERO(&s);
        CPU_SET((int)k, &s);
        pthread_attr_setaffinity_np(&at, sizeof s, &s);
        int e = pthread_create(&t[k], &at, worker, (void *)k);
        pthread_attr_destroy(&at);
        if (e) {
            printf("pthread_create %ld: %s\n", k, strerror(e));
            return 1;
        }
        pthread_join(t[k], NULL);        /* one at a time: the order is the placement's */
        printf("%s\n", report[k]);
    }
    cpu_set_t none;
    CPU_ZERO(&none);
    CPU_SET(CPU_SETSIZE - 1, &none);
    printf("a CPU nobody has: %s\n",
           sched_setaffinity(0, sizeof none, &none) ? strerror(errno) : "accepted");
    sched_getaffinity(0, sizeof all, &all);
    show(text, sizeof text, &all);
    printf("main after: %s\n", text);
    return 0;
}
