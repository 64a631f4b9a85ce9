/* Reads its stdin to the end in a worker thread (with several ranks the
 * thread runs on rank 1 and its reads are forwarded to home) and prints the
 * byte count and an FNV-1a 64 checksum, so a run can be compared with a
 * native one fed the same file. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include <errno.h>

static uint64_t total, hash = 1469598103934665603ULL;
static int failed;

static void *reader(void *arg)
{
    static unsigned char buf[1 << 16];
    (void)arg;
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            perror("read");
            failed = 1;
            break;
        }
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n; i++) {
            hash ^= buf[i];
            hash *= 1099511628211ULL;
        }
        total += (uint64_t)n;
    }
    return NULL;
}

int main(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, reader, NULL) != 0)
        return 1;
    pthread_join(t, NULL);
    printf("bytes %llu fnv1a64 %016llx\n", (unsigned long long)total,
           (unsigned long long)hash);
    return failed;
}
