/* 100 preads asking for 128 KiB that get 10 bytes (each at the file's end,
 * after a pwrite of 10 new bytes there), from a thread (on rank 1 when
 * spread): only the 10 bytes each call produced may travel back, and the
 * rest of the buffer stays as the program left it (a short read does not
 * touch it natively either). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUF (128 * 1024)
#define CALLS 100
#define LEN 10
#define START 8192

static unsigned char buf[BUF];

static void *worker(void *arg)
{
    int fd = *(int *)arg;
    uint64_t s = 1469598103934665603ULL;
    memset(buf, 0xA5, sizeof buf);
    for (int i = 0; i < CALLS; i++) {
        off_t end = START + (off_t)i * LEN;
        unsigned char more[LEN];
        for (int k = 0; k < LEN; k++)
            more[k] = (unsigned char)(i * 31 + k);
        if (pwrite(fd, more, LEN, end) != LEN) {
            printf("FAIL pwrite %d\n", i);
            exit(1);
        }
        long r = pread(fd, buf, BUF, end);
        if (r != LEN) {
            printf("FAIL pread %d: %ld\n", i, r);
            exit(1);
        }
        for (int k = 0; k < LEN; k++)
            s = (s ^ buf[k]) * 1099511628211ULL;
        if (buf[LEN] != 0xA5 || buf[BUF - 1] != 0xA5) {
            printf("FAIL pread %d wrote past its count\n", i);
            exit(1);
        }
    }
    printf("pread: %d calls of %d bytes, sum %016llx\n", CALLS, LEN, (unsigned long long)s);
    return 0;
}

int main(void)
{
    int fd = open("data.bin", O_CREAT | O_RDWR | O_TRUNC, 0644);
    unsigned char page[START];
    for (int i = 0; i < (int)sizeof page; i++)
        page[i] = (unsigned char)(i * 7 + i / 13);
    if (write(fd, page, sizeof page) != (long)sizeof page)
        return 1;
    pthread_t t;
    pthread_create(&t, 0, worker, &fd);
    pthread_join(t, 0);
    close(fd);
    return 0;
}
