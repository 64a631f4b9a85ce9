/* Links ctor_lib.so: its constructor (a line, a file record and a thread)
 * must run once.  Workers then read the library's result and the file. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

long ctor_lib_result(void);

static long results[4];

static void *worker(void *arg)
{
    long id = (long)arg;
    char buf[256];
    int fd = open("ctor.log", O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
    if (fd >= 0)
        close(fd);
    long lines = 0;
    for (ssize_t i = 0; i < n; i++)
        lines += buf[i] == '\n';
    results[id] = lines * 1000 + id;
    return NULL;
}

int main(void)
{
    printf("main: library result %ld\n", ctor_lib_result());
    fflush(stdout);
    pthread_t t[4];
    for (long i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++)
        printf("worker %d saw %ld record(s)\n", i, results[i] / 1000);
    return 0;
}
