/* vfork children, as Python's subprocess makes them, from main and from a
 * worker (on rank 1 when spread).  The child shares the app's memory: what
 * it touches (the argument strings a worker wrote, the worker's stack) may
 * be on another rank.  It first sets every signal's action to SIG_DFL, as
 * Python's child and glibc's posix_spawn do, writes from a buffer another
 * rank wrote, then execs /bin/echo with those strings.  The child died of
 * SIGBUS (the runtime's handler reset), or execve said EFAULT.
 * Expected exit status: 0 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define WORDS 4
static char words[WORDS][4096];          /* a page each: many pages to bring */
static char *args[WORDS + 2];
static char note[8192];

static void fill(void *arg)
{
    long round = (long)arg;
    args[0] = "echo";
    for (int i = 0; i < WORDS; i++) {
        snprintf(words[i], sizeof words[i], "word%d-round%ld", i, round);
        args[1 + i] = words[i];
    }
    args[WORDS + 1] = NULL;
    snprintf(note, sizeof note, "note from round %ld\n", round);
}

/* What Python's child does before its execve. */
static void child(void)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < 65; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            sigaction(sig, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (write(1, note, strlen(note)) < 0)
        _exit(126);
    execve("/bin/echo", args, environ);
    _exit(errno == EFAULT ? 125 : 127);
}

static void run_vfork(const char *who)
{
    fflush(stdout);
    pid_t pid = vfork();
    if (pid == 0)
        child();
    int status = -1;
    waitpid(pid, &status, 0);
    printf("%s: vfork child status %d\n", who, status);
}

static void *worker(void *arg)
{
    long round = (long)arg;
    /* the strings on this thread's stack: rank 1's pages when spread */
    char mine[3][64];
    char *argv[4] = { "echo", mine[0], mine[1], NULL };
    snprintf(mine[0], sizeof mine[0], "stack-word-a%ld", round);
    snprintf(mine[1], sizeof mine[1], "stack-word-b%ld", round);
    fill(arg);
    run_vfork("worker");
    pid_t pid;
    fflush(stdout);
    int r = posix_spawn(&pid, "/bin/echo", NULL, NULL, argv, environ);
    int status = -1;
    if (r == 0)
        waitpid(pid, &status, 0);
    printf("worker: posix_spawn %d, status %d\n", r, status);
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* the first worker runs on rank 1 when spread, the second elsewhere */
    for (long round = 0; round < 2; round++) {
        pthread_t t;
        pthread_create(&t, NULL, worker, (void *)round);
        pthread_join(t, NULL);
        run_vfork("main");          /* its child reads the strings the worker wrote */
    }
    return 0;
}
