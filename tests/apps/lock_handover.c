/* a mutex handed to a thread asleep on it: main holds the lock, the worker
 * (on rank 1 under pshare) blocks in pthread_mutex_lock, main sees it waiting
 * (glibc marks a contended lock 2), gives it a moment to fall asleep, stores
 * the round's value and unlocks; the worker must find that value.  Under
 * pshare the unlock's futex wake brings the lock's page to the worker's rank
 * with the wake (the engine's on_fwake), so each round checks that the page
 * came with its latest bytes and writable.
 * Expected exit status: 0 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#define ROUNDS 40

static struct {
    pthread_mutex_t m;
    long value;                        /* written by main under the lock */
    int round;                         /* the round the worker may start */
    int done;                          /* rounds the worker finished */
} __attribute__((aligned(4096))) s = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0 };

static long seen[ROUNDS];

static void pause_us(long us)
{
    struct timespec t = { 0, us * 1000 };
    nanosleep(&t, NULL);
}

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        while (__atomic_load_n(&s.round, __ATOMIC_ACQUIRE) <= i)
            pause_us(100);
        pthread_mutex_lock(&s.m);      /* main holds it: this sleeps */
        seen[i] = s.value;
        s.value = -1;                  /* the worker writes the page it was handed */
        pthread_mutex_unlock(&s.m);
        __atomic_store_n(&s.done, i + 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    int asleep = 0;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&s.m);
        __atomic_store_n(&s.round, i + 1, __ATOMIC_RELEASE);
        /* wait (at most 2 s) until the worker marked the lock contended */
        for (int w = 0; w < 20000 && __atomic_load_n(&s.m.__data.__lock, __ATOMIC_ACQUIRE) != 2; w++)
            pause_us(100);
        asleep += __atomic_load_n(&s.m.__data.__lock, __ATOMIC_ACQUIRE) == 2;
        pause_us(2000);                /* it is asleep in the futex wait by now */
        s.value = 7L * i + 1;
        pthread_mutex_unlock(&s.m);
        while (__atomic_load_n(&s.done, __ATOMIC_ACQUIRE) <= i)
            pause_us(100);
    }
    pthread_join(t, NULL);
    int right = 0;
    for (int i = 0; i < ROUNDS; i++)
        right += seen[i] == 7L * i + 1;
    printf("rounds %d, the worker saw main's value in %d, last value %ld, contended %s\n",
           ROUNDS, right, s.value, asleep == ROUNDS ? "every round" : "not every round");
    return right == ROUNDS ? 0 : 1;
}
