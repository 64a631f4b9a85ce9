/* remote_calls: the paper's six calls issued by a worker thread - under
 * `pshare-launch --placement 1` on rank 1 - take effect in the one process:
 * the fd it opened is used and closed by main, its flock conflicts with one
 * main takes, the directory, link and file it made are what main sees.
 * Expected exit status: 0 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int worker_fd = -1;
static int lock_fd = -1;
static char report[512];

static const char *res(int r) { return r == 0 ? "ok" : strerror(errno); }

static void *worker(void *arg)
{
    (void)arg;
    char line[128];
    snprintf(line, sizeof line, "mkdir a: %s\n", res(mkdir("a", 0755)));
    strcat(report, line);
    snprintf(line, sizeof line, "mkdir a/b: %s\n", res(mkdir("a/b", 0755)));
    strcat(report, line);
    snprintf(line, sizeof line, "rmdir a/b: %s\n", res(rmdir("a/b")));
    strcat(report, line);
    worker_fd = open("a/data.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
    snprintf(line, sizeof line, "open a/data.txt: %s\n", worker_fd >= 0 ? "ok" : strerror(errno));
    strcat(report, line);
    snprintf(line, sizeof line, "symlink: %s\n", res(symlink("a/data.txt", "link")));
    strcat(report, line);
    lock_fd = open("a/lock", O_CREAT | O_RDWR, 0644);
    snprintf(line, sizeof line, "flock LOCK_EX in the worker: %s\n", res(flock(lock_fd, LOCK_EX)));
    strcat(report, line);
    int tmp = open("a/tmp", O_CREAT | O_WRONLY, 0600);
    snprintf(line, sizeof line, "close its own fd: %s\n", res(close(tmp)));
    strcat(report, line);
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    pthread_join(t, NULL);
    fputs(report, stdout);
    /* the worker's fd is ours: write through it, read back through the link */
    printf("write on the worker's fd: %zd\n", write(worker_fd, "from main\n", 10));
    printf("close the worker's fd: %s\n", res(close(worker_fd)));
    char buf[64] = { 0 };
    int fd = open("link", O_RDONLY);
    printf("read via the worker's symlink: %zd %s", read(fd, buf, sizeof buf - 1), buf);
    close(fd);
    /* its lock conflicts with another open file description of ours */
    int mine = open("a/lock", O_RDWR);
    printf("flock LOCK_EX|LOCK_NB in main while the worker holds it: %s\n",
           res(flock(mine, LOCK_EX | LOCK_NB)));
    printf("worker unlocks via its fd from main: %s\n", res(flock(lock_fd, LOCK_UN)));
    printf("flock again: %s\n", res(flock(mine, LOCK_EX | LOCK_NB)));
    struct stat st;
    printf("stat a/b after the worker's rmdir: %s\n", res(stat("a/b", &st)));
    return 0;
}
