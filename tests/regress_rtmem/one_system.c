/* Every thread, on whatever rank, must see one machine: home's.  main()
 * burns some CPU first; then each worker compares what it sees with what
 * main saw: uname and the host name, the uptime (sysinfo), and the
 * process's CPU time (getrusage, times), which only grows. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <unistd.h>

static struct utsname main_uts;
static char main_host[256];
static long main_uptime;
static double main_rusage, main_times;

static double rusage_cpu(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return r.ru_utime.tv_sec + r.ru_stime.tv_sec + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

static double times_cpu(void)
{
    struct tms t;
    times(&t);
    return (double)(t.tms_utime + t.tms_stime) / sysconf(_SC_CLK_TCK);
}

static long uptime(void)
{
    struct sysinfo si;
    sysinfo(&si);
    return si.uptime;
}

static const char *yes(int c) { return c ? "yes" : "NO"; }

static void *worker(void *arg)
{
    struct utsname u;
    char host[256];
    uname(&u);
    gethostname(host, sizeof host);
    long up = uptime();
    double ru = rusage_cpu(), tm = times_cpu();
    printf("worker %ld: %s %s %s %s | uname as main: %s, hostname as main: %s, "
           "uptime as main: %s, getrusage not below main's: %s, times not below main's: %s\n",
           (long)arg, u.sysname, u.nodename, u.release, u.machine,
           yes(!memcmp(&u, &main_uts, sizeof u)), yes(!strcmp(host, main_host)),
           yes(up - main_uptime >= 0 && up - main_uptime < 1000),
           yes(ru >= main_rusage), yes(tm >= main_times));
    fflush(stdout);
    return 0;
}

int main(void)
{
    volatile unsigned long x = 0;
    while (rusage_cpu() < 0.3)      /* more than another rank's process has used */
        for (int i = 0; i < 1000000; i++)
            x += i;
    uname(&main_uts);
    gethostname(main_host, sizeof main_host);
    main_uptime = uptime();
    main_rusage = rusage_cpu();
    main_times = times_cpu();
    printf("main: %s %s %s %s\n", main_uts.sysname, main_uts.nodename, main_uts.release,
           main_uts.machine);
    fflush(stdout);
    for (long i = 0; i < 4; i++) {
        pthread_t t;
        pthread_create(&t, 0, worker, (void *)i);
        pthread_join(t, 0);
    }
    return 0;
}
