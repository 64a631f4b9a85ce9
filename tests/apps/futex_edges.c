/* futexes at their edges, from a thread that pshare places on another rank:
 * a signal handler interrupts sem_wait (EINTR), sem_timedwait and a raw
 * FUTEX_WAIT time out (ETIMEDOUT), a wrong value gives EAGAIN, FUTEX_WAKE
 * counts whom it woke, and a wake only meets waiters whose bitset it shares.
 * Expected exit status: 0 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static sem_t sem;
static volatile sig_atomic_t handled;
static int done_eintr;
static unsigned word, word_bits, word_gate = 5;

static long futex(unsigned *uaddr, int op, unsigned val, const struct timespec *ts, unsigned bits)
{
    return syscall(SYS_futex, uaddr, op, val, ts, NULL, bits);
}

static void on_usr1(int sig)
{
    (void)sig;
    handled = 1;
}

static void *interrupted(void *arg)
{
    (void)arg;
    int r = sem_wait(&sem);
    int e = errno;
    printf("sem_wait: %d %s, handler ran: %s\n", r, r ? strerror(e) : "-", handled ? "yes" : "no");
    fflush(stdout);
    __atomic_store_n(&done_eintr, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void *timed(void *arg)
{
    (void)arg;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 100 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    int r = sem_timedwait(&sem, &ts);
    printf("sem_timedwait: %d %s\n", r, r ? strerror(errno) : "-");
    struct timespec rel = { 0, 50 * 1000000L };
    long f = futex(&word_gate, FUTEX_WAIT_PRIVATE, 5, &rel, 0);
    printf("futex wait 50 ms: %ld %s\n", f, f ? strerror(errno) : "-");
    f = futex(&word_gate, FUTEX_WAIT_PRIVATE, 4, NULL, 0);
    printf("futex wait, wrong value: %ld %s\n", f, f ? strerror(errno) : "-");
    return NULL;
}

static void *waiter(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&word, __ATOMIC_SEQ_CST))
        futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL, 0);
    return NULL;
}

static void *bits_waiter(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&word_bits, __ATOMIC_SEQ_CST))
        futex(&word_bits, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL, 1);
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;              /* no SA_RESTART; sem_wait says EINTR anyway */
    sigaction(SIGUSR1, &sa, NULL);
    sem_init(&sem, 0, 0);

    pthread_t t;
    pthread_create(&t, NULL, interrupted, NULL);
    /* until it is interrupted: a signal that came before it waited is only handled */
    while (!__atomic_load_n(&done_eintr, __ATOMIC_SEQ_CST)) {
        pthread_kill(t, SIGUSR1);
        usleep(20000);
    }
    pthread_join(t, NULL);

    pthread_create(&t, NULL, timed, NULL);
    pthread_join(t, NULL);

    /* FUTEX_WAKE's count: two waiters (they wait again after each wake) */
    pthread_t w[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&w[i], NULL, waiter, NULL);
    long woken = 0;
    while (woken < 2) {
        long n = futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, 0);
        if (n < 0 || n > 2)
            printf("futex wake: %ld?\n", n);
        woken += n > 0 ? n : 0;
        usleep(1000);
    }
    printf("futex wake: woke at least 2\n");
    __atomic_store_n(&word, 1, __ATOMIC_SEQ_CST);
    futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, 0);
    for (int i = 0; i < 2; i++)
        pthread_join(w[i], NULL);

    /* bitsets: a wake with bit 2 never meets a waiter of bit 1 */
    pthread_create(&t, NULL, bits_waiter, NULL);
    long other = 0;
    for (int i = 0; i < 30; i++) {
        other += futex(&word_bits, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, 2);
        usleep(1000);
    }
    long mine = 0;
    while (mine < 1) {
        mine += futex(&word_bits, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, 1);
        usleep(1000);
    }
    printf("bitset: bit 2 woke %ld, bit 1 woke at least 1\n", other);
    __atomic_store_n(&word_bits, 1, __ATOMIC_SEQ_CST);
    futex(&word_bits, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, 1);
    pthread_join(t, NULL);
    return 0;
}
