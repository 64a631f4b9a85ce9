/* A library whose constructor has effects outside the process: it writes a
 * line to stdout, appends one to a file and starts a thread.  The dynamic
 * loader runs it before main on whichever process loads the library, so it
 * must run once, on home, under pshare: a copy run natively on another rank
 * doubles the line, the file's record and the thread (issue: OMP_DISPLAY_ENV
 * printed once per rank). */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_t helper;
static long helper_sum;

static void *helper_main(void *arg)
{
    (void)arg;
    long s = 0;
    for (long i = 1; i <= 100000; i++)
        s += i % 7;
    helper_sum = s;
    return NULL;
}

__attribute__((constructor)) static void ctor_lib_init(void)
{
    static const char line[] = "ctor_lib: constructor ran\n";
    if (write(1, line, sizeof line - 1) != (ssize_t)(sizeof line - 1))
        _exit(3);
    int fd = open("ctor.log", O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0 || write(fd, line, sizeof line - 1) != (ssize_t)(sizeof line - 1))
        _exit(4);
    close(fd);
    if (pthread_create(&helper, NULL, helper_main, NULL) != 0)
        _exit(5);
}

long ctor_lib_result(void)
{
    pthread_join(helper, NULL);
    return helper_sum;
}
