/* prctl with number and pointer arguments, from main and from a thread (on
 * another rank under mpiexec): a number where the syscall table says
 * "pointer" (PR_SET_DUMPABLE's 1) must reach the kernel as it is, a pointer
 * into the app's memory must find its page; main's parent-death signal is
 * what it set, a thread's is its own (the worker asks only for its own
 * thread's settings: a process-wide one made on home is not seen on another
 * rank, a limit in the README).  The worker writes its results to
 * shared memory, main prints them after the join.  Expected exit status: 0 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

static char report[512];

static void *worker(void *arg)
{
    (void)arg;
    char name[16] = { 0 };
    int pdeath = -1;
    long set_name = prctl(PR_SET_NAME, "prctl-worker");
    prctl(PR_GET_NAME, name);
    long slack = prctl(PR_SET_TIMERSLACK, 70000UL);
    prctl(PR_GET_PDEATHSIG, &pdeath);
    snprintf(report, sizeof report, "worker: set_name %ld name %s slack %ld/%d pdeath %d\n",
             set_name, name, slack, prctl(PR_GET_TIMERSLACK), pdeath);
    return NULL;
}

int main(void)
{
    int pdeath = -1, subreaper = -1;
    printf("main: dumpable %d/%d\n", prctl(PR_SET_DUMPABLE, 1), prctl(PR_GET_DUMPABLE));
    printf("main: slack %d/%d\n", prctl(PR_SET_TIMERSLACK, 50000UL), prctl(PR_GET_TIMERSLACK));
    prctl(PR_GET_PDEATHSIG, &pdeath);
    printf("main: pdeath at start %d\n", pdeath);
    printf("main: set pdeath %d\n", prctl(PR_SET_PDEATHSIG, SIGUSR2));
    printf("main: set pdeath 99 %d\n", prctl(PR_SET_PDEATHSIG, 99));
    prctl(PR_GET_PDEATHSIG, &pdeath);
    printf("main: pdeath %d, bad pointer %d\n", pdeath, prctl(PR_GET_PDEATHSIG, (int *)8));
    printf("main: subreaper %d\n", prctl(PR_SET_CHILD_SUBREAPER, 1));
    prctl(PR_GET_CHILD_SUBREAPER, &subreaper);
    printf("main: subreaper now %d\n", subreaper);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    pthread_join(t, NULL);
    fputs(report, stdout);
    return 0;
}
