/* Reads all of stdin from a thread (on another rank under pshare) and
 * prints the byte count and an FNV-1a checksum from main. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

static uint64_t total, hash = 1469598103934665603ULL;

static void *reader(void *arg)
{
    (void)arg;
    static unsigned char buf[1 << 16];
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            hash = (hash ^ buf[i]) * 1099511628211ULL;
        total += (uint64_t)n;
    }
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, reader, NULL);
    pthread_join(t, NULL);
    printf("%llu bytes, fnv %016llx\n", (unsigned long long)total, (unsigned long long)hash);
    return 0;
}
