/* a signal handler runs while its thread waits at a barrier, as natively:
 * the worker waits at a barrier of 2; main signals it, waits until the
 * handler ran (it writes a line: a system call from inside the wait), and
 * only then arrives itself.  A barrier wait that held the app's signals
 * back until the round completed would never complete.
 * Expected exit status: 0 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 5

static pthread_barrier_t bar;
static volatile int handled;

static void on_usr1(int sig)
{
    (void)sig;
    static const char line[] = "handler: ran while its thread waits at the barrier\n";
    if (write(1, line, sizeof line - 1) < 0)
        _exit(2);
    __atomic_add_fetch(&handled, 1, __ATOMIC_SEQ_CST);
}

static void *worker(void *arg)
{
    (void)arg;
    int serial = 0;
    for (int r = 0; r < ROUNDS; r++)
        serial += pthread_barrier_wait(&bar) == PTHREAD_BARRIER_SERIAL_THREAD;
    return (void *)(long)serial;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    pthread_barrier_init(&bar, NULL, 2);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    int serial = 0;
    for (int r = 0; r < ROUNDS; r++) {
        struct timespec pause = { 0, 20 * 1000 * 1000 };
        nanosleep(&pause, NULL);          /* let the worker reach the barrier (not required) */
        pthread_kill(t, SIGUSR1);
        for (int w = 0; __atomic_load_n(&handled, __ATOMIC_SEQ_CST) <= r; w++) {
            if (w > 30000) {
                printf("round %d: the handler did not run within 30 s\n", r);
                return 1;
            }
            struct timespec ms = { 0, 1000 * 1000 };
            nanosleep(&ms, NULL);
        }
        serial += pthread_barrier_wait(&bar) == PTHREAD_BARRIER_SERIAL_THREAD;
    }
    void *rv;
    pthread_join(t, &rv);
    printf("rounds %d, handlers %d, serial threads %ld\n", ROUNDS, handled, serial + (long)rv);
    pthread_barrier_destroy(&bar);
    return 0;
}
