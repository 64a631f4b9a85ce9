/* A program counting its own threads, as "am I single-threaded?" checks and
 * psutil do: the entries of /proc/self/task (and whether the caller's tid
 * is one), "Threads:" of /proc/self/status and /proc/PID/status, and field
 * 20 of /proc/self/stat, seen by main and by each of three workers (one a
 * rank when spread), then after joining them.  Under pshare home's process
 * also holds the runtime's control thread, which every count included. */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WORKERS 3

static pthread_barrier_t turn;
static char report[WORKERS + 1][200];

static int task_entries(int *has_me)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    *has_me = 0;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            n++;
            if (atoi(e->d_name) == gettid())
                *has_me = 1;
        }
    closedir(d);
    return n;
}

static int status_threads(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[256];
    int n = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "Threads:", 8))
            n = atoi(line + 8);
    if (f)
        fclose(f);
    return n;
}

static int stat_threads(void)
{
    FILE *f = fopen("/proc/self/stat", "r");
    char text[1024];
    size_t len = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f)
        fclose(f);
    text[len] = 0;
    char *p = strrchr(text, ')');
    for (int field = 2; p && field < 20; field++)
        p = strchr(p + 1, ' ');
    return p ? atoi(p + 1) : -1;
}

static void count(char *out)
{
    char path[64];
    int me = 0;
    snprintf(path, sizeof path, "/proc/%d/status", (int)getpid());
    int tasks = task_entries(&me);
    snprintf(out, 200, "tasks %d (mine listed: %s), Threads: %d and %d, stat %d", tasks,
             me ? "yes" : "no", status_threads("/proc/self/status"), status_threads(path),
             stat_threads());
}

static void *worker(void *arg)
{
    long id = (long)arg;
    for (long k = 0; k <= WORKERS; k++) {
        pthread_barrier_wait(&turn);                /* one thread counts at a time */
        if (k == id)
            count(report[id]);
    }
    pthread_barrier_wait(&turn);
    return NULL;
}

int main(void)
{
    pthread_t t[WORKERS];
    pthread_barrier_init(&turn, NULL, WORKERS + 1);
    for (long i = 0; i < WORKERS; i++)
        pthread_create(&t[i], NULL, worker, (void *)(i + 1));
    for (long k = 0; k <= WORKERS; k++) {
        pthread_barrier_wait(&turn);
        if (k == 0)
            count(report[0]);
    }
    pthread_barrier_wait(&turn);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i <= WORKERS; i++)
        printf("%s: %s\n", i ? "worker" : "main", report[i]);
    /* a joined thread may still be leaving the kernel (natively too: its
     * tid is cleared before it is gone), so give it a moment */
    char after[200];
    int me;
    for (int i = 0; i < 2000 && task_entries(&me) != 1; i++)
        usleep(1000);
    count(after);
    printf("after joining: %s\n", after);
    return 0;
}
