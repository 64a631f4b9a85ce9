/* popen (read and write mode) and system() from a worker thread; prints
 * pclose status and WEXITSTATUS(system(...)) == 5. Expected exit status: 0 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static void *worker(void *arg)
{
    (void)arg;
    char line[128] = { 0 };
    FILE *p = popen("echo hello from popen", "r");
    if (!p) {
        printf("popen failed\n");
        return NULL;
    }
    if (!fgets(line, sizeof line, p))
        strcpy(line, "(nothing)\n");
    int st = pclose(p);
    printf("popen read: %s", line);
    printf("pclose: exited=%d status=%d\n", WIFEXITED(st), WEXITSTATUS(st));

    p = popen("cat > popen_out.txt", "w");
    for (int i = 0; i < 3; i++)
        fprintf(p, "line %d written through popen\n", i);
    st = pclose(p);
    printf("popen w pclose: exited=%d status=%d\n", WIFEXITED(st), WEXITSTATUS(st));

    printf("calling system\n");
    fflush(stdout); /* the child writes straight to fd 1 */
    st = system("echo system; exit 5");
    printf("system: exited=%d WEXITSTATUS=%d\n", WIFEXITED(st), WEXITSTATUS(st));
    fflush(stdout);
    st = system("echo from system > system_out.txt; echo to stderr 1>&2");
    printf("system 2: exited=%d WEXITSTATUS=%d\n", WIFEXITED(st), WEXITSTATUS(st));
    return NULL;
}

int main(void)
{
    printf("main: start\n");
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    pthread_join(t, NULL);
    FILE *f = fopen("popen_out.txt", "r");
    char line[128];
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        n++;
    if (f)
        fclose(f);
    printf("main: popen_out.txt has %d lines\n", n);
    return 0;
}
