/* /proc/self/cmdline as main and as workers (on every rank) read it: the
 * program's argv, NULs shown as '|'.  With --wait first, main then writes
 * its pid to "pid" and waits for a file "go", so that a test can look for
 * the running process (pgrep -f, ps). */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void show(const char *who)
{
    char buf[4096];
    int fd = open("/proc/self/cmdline", O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
    if (fd >= 0)
        close(fd);
    printf("%s: %zd bytes: ", who, n);
    for (ssize_t i = 0; i < n; i++)
        putchar(buf[i] ? buf[i] : '|');
    putchar('\n');
    fflush(stdout);
}

static void *worker(void *arg)
{
    show(arg);
    return 0;
}

int main(int argc, char **argv)
{
    show("main");
    static char names[4][16];
    for (int i = 0; i < 4; i++) {
        pthread_t t;
        snprintf(names[i], sizeof names[i], "worker %d", i);
        pthread_create(&t, 0, worker, names[i]);
        pthread_join(t, 0);
    }
    if (argc > 1 && !strcmp(argv[1], "--wait")) {
        FILE *f = fopen("pid.tmp", "w");
        fprintf(f, "%d\n", (int)getpid());
        fclose(f);
        rename("pid.tmp", "pid");
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        while (access("go", F_OK))
            nanosleep(&ts, 0);
    }
    return 0;
}
