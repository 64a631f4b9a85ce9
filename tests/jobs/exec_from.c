/* exec_from THREAD [BIG]: thread THREAD (0 = main; thread K runs on rank K at 4
 * ranks) replaces the program with /bin/sh, with an argv and an environment
 * it builds on its own stack (a page only its rank has), while the other
 * threads are blocked.  The shell writes a file, prints its arguments, one
 * variable of its environment and whether its pid is the program's, and
 * exits 3.  Natively any thread may exec: the others are ended and the pid
 * stays.  Under pshare home runs the exec; the strings came from a thread
 * elsewhere.  BIG: the two variables are that many bytes long. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THREADS 3

static long which, big;
static pthread_barrier_t started;

static void exec_shell(void)
{
    char pid[32], word[64];
    /* long ones: pages of strings (the kernel takes at most 128 KiB each) */
    size_t size = big ? (size_t)big / 2 : 3000;
    char value[size], pad[size];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    memset(value, 'v', size - 1);
    memcpy(value, "EXEC_FROM=", 10);
    value[size - 1] = 0;
    memset(pad, 'p', size - 1);
    memcpy(pad, "EXEC_PAD=", 9);
    pad[size - 1] = 0;
    snprintf(word, sizeof word, "thread %ld", which);
    char *argv[] = { "sh", "-c",
                     "echo \"exec'd from $1 ($#): pid same $(( $$ == $2 )), variable ${#EXEC_FROM} long\" "
                     "> exec_out.txt; cat exec_out.txt; exit 3",
                     "sh", word, pid, NULL };
    char *envp[] = { value, "PATH=/usr/bin:/bin", pad, NULL };
    fflush(stdout);
    execve("/bin/sh", argv, envp);
    perror("execve");
    exit(1);
}

static void *worker(void *arg)
{
    long id = (long)arg;
    pthread_barrier_wait(&started);
    if (id == which)
        exec_shell();
    for (;;)
        pause();
    return NULL;
}

int main(int argc, char **argv)
{
    which = argc > 1 ? atol(argv[1]) : 1;
    big = argc > 2 ? atol(argv[2]) : 0;
    pthread_barrier_init(&started, NULL, THREADS + 1);
    printf("before the exec\n");
    pthread_t t;
    for (long i = 1; i <= THREADS; i++)
        pthread_create(&t, NULL, worker, (void *)i);
    pthread_barrier_wait(&started);
    if (which == 0)
        exec_shell();
    for (;;)
        pause();
}
