/* Map a file read-only after removing it: the path no longer exists, so no
 * other rank can map it as home did.  Natively it just works; under pshare
 * with several ranks the job must end with one line naming the rank, the
 * call and the error, never go on with ranks whose address spaces differ. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const char text[] = "read through a mapping of a removed file\n";
static const char *map;

static void *worker(void *arg)
{
    (void)arg;
    fputs(map, stdout);
    fflush(stdout);
    return 0;
}

int main(void)
{
    int fd = open("mapped.dat", O_CREAT | O_RDWR | O_TRUNC, 0600);
    if (fd < 0 || write(fd, text, sizeof text) != sizeof text || unlink("mapped.dat")) {
        perror("mapped.dat");
        return 2;
    }
    map = mmap(0, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        perror("mmap");
        return 2;
    }
    close(fd);
    pthread_t t;
    pthread_create(&t, 0, worker, 0);
    pthread_join(t, 0);
    return 0;
}
