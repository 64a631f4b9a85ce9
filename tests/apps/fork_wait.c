/* fork() + waitpid from worker threads: one child writes a file and
 * _exit(7), another child writes a file and kills itself with SIGTERM.
 * Expected exit status: 0 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct result {
    int waited_ok;
    int status;
};
static struct result res[2];

static void *worker(void *arg)
{
    int id = (int)(long)arg;
    pid_t pid = fork();
    if (pid == 0) {
        char name[32], msg[64];
        snprintf(name, sizeof name, "child_%d.txt", id);
        int n = snprintf(msg, sizeof msg, "written by the child of thread %d\n", id);
        int fd = open(name, O_CREAT | O_WRONLY | O_TRUNC, 0644);
        if (write(fd, msg, (size_t)n) != n)
            _exit(99);
        close(fd);
        if (id == 0)
            _exit(7);
        kill(getpid(), SIGTERM);
        _exit(98); /* not reached */
    }
    int st = 0;
    res[id].waited_ok = waitpid(pid, &st, 0) == pid;
    res[id].status = st;
    return NULL;
}

int main(void)
{
    printf("main: forking from two threads\n");
    fflush(stdout); /* nothing buffered may be duplicated into the children */
    pthread_t t[2];
    for (long i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 2; i++) {
        int st = res[i].status;
        printf("thread %d: waitpid ok=%d exited=%d", i, res[i].waited_ok, WIFEXITED(st));
        if (WIFEXITED(st))
            printf(" status=%d\n", WEXITSTATUS(st));
        else if (WIFSIGNALED(st))
            printf(" signal=%d\n", WTERMSIG(st));
        else
            printf(" ?\n");
        char name[32], buf[128] = { 0 };
        snprintf(name, sizeof name, "child_%d.txt", i);
        FILE *f = fopen(name, "r");
        if (f && fgets(buf, sizeof buf, f))
            printf("  %s: %s", name, buf);
        if (f)
            fclose(f);
    }
    printf("waitpid with no children left: %d\n", (int)waitpid(-1, NULL, WNOHANG));
    return 0;
}
