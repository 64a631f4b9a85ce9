/* Threads that end as soon as they start, made four at a time and joined: across ranks
 * a thread started on another rank can end before its creator's
 * pthread_create has returned, and its tid must still read as cleared to
 * pthread_join (glibc waits while the thread descriptor's tid is not 0).
 * Expected exit status: 0 */
#include <pthread.h>
#include <stdio.h>

#define ROUNDS 40
#define AT_ONCE 4

static void *nothing(void *arg)
{
    return arg;
}

int main(void)
{
    long sum = 0;
    for (long i = 0; i < ROUNDS; i++) {
        pthread_t t[AT_ONCE];
        for (long k = 0; k < AT_ONCE; k++)
            if (pthread_create(&t[k], NULL, nothing, (void *)(i * AT_ONCE + k)) != 0)
                return 1;
        for (int k = 0; k < AT_ONCE; k++) {
            void *ret;
            if (pthread_join(t[k], &ret) != 0)
                return 2;
            sum += (long)ret;
        }
    }
    printf("%d threads joined, sum %ld\n", ROUNDS * AT_ONCE, sum);
    return 0;
}
