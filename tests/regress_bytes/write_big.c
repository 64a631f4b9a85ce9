/* 100 writes of 100 KB to a file, from a thread (on rank 1 when spread):
 * the bytes go to home once; nothing needs to come back but the count. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define CALLS 100
#define LEN 100000

static unsigned char buf[LEN];

static void *worker(void *arg)
{
    (void)arg;
    int fd = open("out.bin", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    long total = 0;
    for (int i = 0; i < CALLS; i++) {
        for (int k = 0; k < LEN; k += 4096)
            buf[k] = (unsigned char)(i + k / 4096);
        long r = write(fd, buf, LEN);
        if (r != LEN) {
            printf("FAIL write %d: %ld\n", i, r);
            exit(1);
        }
        total += r;
    }
    close(fd);
    printf("write: %d calls, %ld bytes\n", CALLS, total);
    return 0;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, 0, worker, 0);
    pthread_join(t, 0);
    return 0;
}
