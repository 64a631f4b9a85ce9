/* main returns while workers (on other ranks) still compute: the process's
 * status is main's (0), whatever the workers were doing. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static volatile long sink;

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        for (int i = 0; i < 100000; i++)
            sink += i;
        usleep(1000);
    }
    return NULL;
}

int main(void)
{
    pthread_t t;
    for (int i = 0; i < 6; i++)
        pthread_create(&t, NULL, worker, NULL);
    usleep(100000);
    printf("main returns\n");
    return 0;
}
