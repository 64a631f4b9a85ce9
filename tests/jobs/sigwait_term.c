/* A program whose signals are taken by one thread with sigwaitinfo, the
 * first thread it makes (on rank 1 when spread), every thread blocking
 * them: kill -TERM / -INT of the launcher must reach that thread, which
 * says so and lets main end the program.  The signal went to home's
 * process, where every thread blocks it: it stayed pending there and the
 * job never ended. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static sigset_t set;
static volatile int stop;

static void *taker(void *arg)
{
    (void)arg;
    siginfo_t si;
    int s = sigwaitinfo(&set, &si);
    printf("the signal thread took %s\n", s > 0 ? strsignal(s) : "nothing");
    fflush(stdout);
    stop = 1;
    return NULL;
}

static void *worker(void *arg)
{
    (void)arg;
    while (!stop)
        usleep(2000);
    return NULL;
}

int main(void)
{
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_t t[4];
    pthread_create(&t[0], NULL, taker, NULL);
    for (int i = 1; i < 4; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    printf("ready\n");
    fflush(stdout);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    printf("done\n");
    return 0;
}
