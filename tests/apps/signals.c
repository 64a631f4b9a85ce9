/* signals: sigaction SIGUSR1 handler run in a worker via pthread_kill,
 * raise() runs the handler in the calling thread, sigprocmask blocking
 * keeps a signal pending until unblocked, alarm() arithmetic, a timer
 * SIGALRM caught with sigsuspend, SIG_IGN, per-thread masks.
 * Expected exit status: 0 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static __thread int my_id = -1;
static volatile sig_atomic_t usr1_count, usr1_where = -2;
static volatile sig_atomic_t usr2_count, usr2_where = -2;
static volatile sig_atomic_t alrm_count;

static void on_usr1(int sig)
{
    (void)sig;
    usr1_count++;
    usr1_where = my_id;
}

static void on_usr2(int sig)
{
    (void)sig;
    usr2_count++;
    usr2_where = my_id;
}

static void on_alrm(int sig)
{
    (void)sig;
    alrm_count++;
}

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int worker_ready;
static int worker_mask_has_usr1, worker_mask_has_usr2;

static void *worker(void *arg)
{
    my_id = (int)(long)arg;
    /* SIGUSR1 is blocked (inherited from main); wait for it atomically */
    sigset_t cur;
    pthread_sigmask(SIG_SETMASK, NULL, &cur);
    pthread_mutex_lock(&m);
    worker_mask_has_usr1 = sigismember(&cur, SIGUSR1);
    worker_mask_has_usr2 = sigismember(&cur, SIGUSR2);
    worker_ready = 1;
    pthread_cond_signal(&c);
    pthread_mutex_unlock(&m);
    sigset_t wait_mask;
    sigfillset(&wait_mask);
    sigdelset(&wait_mask, SIGUSR1);
    while (usr1_count == 0)
        sigsuspend(&wait_mask);
    return NULL;
}

int main(void)
{
    my_id = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    sa.sa_handler = on_alrm;
    sigaction(SIGALRM, &sa, NULL);

    struct sigaction old;
    sigaction(SIGUSR1, NULL, &old);
    printf("sigaction readback: handler %s\n", old.sa_handler == on_usr1 ? "matches" : "differs");

    /* 1. raise() runs the handler synchronously in this thread */
    raise(SIGUSR2);
    printf("raise(SIGUSR2): count=%d ran in thread %d\n", (int)usr2_count, (int)usr2_where);

    /* 2. sigprocmask: a blocked signal stays pending */
    sigset_t set, oldset, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, &oldset);
    raise(SIGUSR2);
    sigpending(&pend);
    printf("blocked SIGUSR2: count=%d pending=%d\n", (int)usr2_count, sigismember(&pend, SIGUSR2));
    sigprocmask(SIG_SETMASK, &oldset, NULL);
    printf("unblocked SIGUSR2: count=%d\n", (int)usr2_count);

    /* 3. pthread_kill to a worker: handler runs in the worker */
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, &oldset);
    pthread_t t;
    pthread_create(&t, NULL, worker, (void *)1L);
    pthread_sigmask(SIG_SETMASK, &oldset, NULL);
    pthread_mutex_lock(&m);
    while (!worker_ready)
        pthread_cond_wait(&c, &m);
    pthread_mutex_unlock(&m);
    int rc = pthread_kill(t, SIGUSR1);
    pthread_join(t, NULL);
    printf("pthread_kill(worker, SIGUSR1)=%d: count=%d ran in thread %d\n", rc, (int)usr1_count,
           (int)usr1_where);
    printf("worker inherited mask: SIGUSR1 blocked=%d SIGUSR2 blocked=%d\n", worker_mask_has_usr1,
           worker_mask_has_usr2);
    printf("pthread_kill(self, 0): %d\n", pthread_kill(pthread_self(), 0));

    /* 4. alarm arithmetic, then a real SIGALRM from a short timer */
    unsigned prev = alarm(5);
    unsigned left = alarm(0);
    printf("alarm(5) returned %u, alarm(0) returned %u\n", prev, left);
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    sigprocmask(SIG_BLOCK, &set, &oldset);
    struct itimerval it = { { 0, 0 }, { 0, 30000 } };
    setitimer(ITIMER_REAL, &it, NULL);
    sigset_t waitset = oldset;
    sigdelset(&waitset, SIGALRM);
    while (alrm_count == 0)
        sigsuspend(&waitset);
    sigprocmask(SIG_SETMASK, &oldset, NULL);
    printf("SIGALRM caught: %d\n", (int)alrm_count);

    /* 5. SIG_IGN */
    signal(SIGUSR2, SIG_IGN);
    raise(SIGUSR2);
    printf("ignored SIGUSR2: count still %d\n", (int)usr2_count);
    signal(SIGUSR2, SIG_DFL);
    printf("done\n");
    return 0;
}
