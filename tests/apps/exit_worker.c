/* exit(3) from a worker while main is blocked in pthread_join on a thread
 * that waits forever on a condition variable. atexit handlers run and
 * buffered stdio (a file and stdout) is flushed. Expected exit status: 3 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static FILE *log_file;

static void *sleeper(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    for (;;)
        pthread_cond_wait(&never, &m); /* nobody ever signals */
    return NULL;
}

static void *exiter(void *arg)
{
    (void)arg;
    printf("worker: calling exit(3)\n");
    fprintf(log_file, "worker: exiting with status 3\n");
    exit(3);
}

static void at_exit_handler(void)
{
    printf("atexit handler ran\n");
    fprintf(log_file, "atexit handler ran\n");
    /* no fclose: exit() must flush the stream */
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    log_file = fopen("exit_log.txt", "w");
    fprintf(log_file, "main: started\n"); /* stays in the FILE buffer until exit */
    atexit(at_exit_handler);
    printf("main: starting sleeper\n");
    pthread_t s, e;
    pthread_create(&s, NULL, sleeper, NULL);
    printf("main: starting exiter, then joining the sleeper\n");
    pthread_create(&e, NULL, exiter, NULL);
    pthread_join(s, NULL);
    printf("main: NOT REACHED\n");
    return 0;
}
