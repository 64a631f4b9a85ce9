/* A new thread starts with its creator's FPU/SSE state, as natively (clone
 * copies it): here the SSE rounding mode, set to "up" in main, seen by
 * threads on every rank. */
#include <pthread.h>
#include <stdio.h>
#include <xmmintrin.h>

static void *worker(void *arg)
{
    volatile double one = 1.0, three = (double)(long)arg;
    double q = one / three;
    unsigned rc = (_mm_getcsr() >> 13) & 3;
    printf("thread /%ld: rounding %s, 1/%ld = %a\n", (long)arg, rc == 2 ? "up" : "NOT up", (long)arg, q);
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    _mm_setcsr((_mm_getcsr() & ~(3u << 13)) | (2u << 13));     /* round up */
    for (long i = 3; i < 11; i += 2) {
        pthread_t t;
        pthread_create(&t, NULL, worker, (void *)i);
        pthread_join(t, NULL);
    }
    return 0;
}
