/* One thread of five fails in a chosen way; the others wait.
 *   fail_on MODE K     MODE: crash | abort | exit3 | wait (fail never; sleep until killed)
 * Thread K (1..4) fails; with the default round-robin placement at 4 ranks
 * thread K runs on rank K % 4.  "ready" says every thread has started; the chosen one
 * fails after it. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *mode;
static int chosen;
static pthread_barrier_t started, announced;

static void say(const char *s) { (void)!write(1, s, strlen(s)); }

static void *worker(void *arg)
{
    int k = (int)(long)arg;
    pthread_barrier_wait(&started);
    pthread_barrier_wait(&announced);
    if (k == chosen) {
        say("failing\n");
        if (!strcmp(mode, "crash"))
            *(volatile int *)16 = 1;
        else if (!strcmp(mode, "abort"))
            abort();
        else if (!strcmp(mode, "exit3"))
            exit(3);
    }
    for (;;)
        pause();
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s crash|abort|exit3|wait K\n", argv[0]);
        return 2;
    }
    mode = argv[1];
    chosen = atoi(argv[2]);
    pthread_barrier_init(&started, NULL, 5);
    pthread_barrier_init(&announced, NULL, 5);
    pthread_t t[4];
    for (long k = 1; k <= 4; k++)
        pthread_create(&t[k - 1], NULL, worker, (void *)k);
    pthread_barrier_wait(&started);
    say("ready\n");
    pthread_barrier_wait(&announced);
    for (;;)
        pause();
}
