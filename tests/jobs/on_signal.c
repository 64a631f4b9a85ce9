/* A program with a SIGTERM and SIGINT handler and threads on every rank:
 * it prints how many times the handler ran.  The handler runs once per
 * signal sent to the process (natively, and so under pshare). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t hits, stop;

static void on_signal(int sig) { (void)sig; hits++; stop = 1; }

static void *worker(void *arg)
{
    (void)arg;
    while (!stop)
        usleep(2000);
    return NULL;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    printf("ready\n");
    fflush(stdout);
    while (!stop)
        usleep(2000);
    usleep(300000);          /* a second delivery, if any, lands here */
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    printf("handler ran %d time(s)\n", (int)hits);
    return 0;
}
