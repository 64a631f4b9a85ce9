/* Read copies dropped while a thread uses them: main rewrites an array a
 * worker reads every round (across ranks the worker's copies are dropped
 * by punching them out of its page store, ext/rt/uffd.c); the worker waits
 * on a futex word on a page main keeps writing; a child the worker forks
 * reads the array after its copies were dropped; memory the worker maps
 * reads as zeroes; the app's own SIGBUS handler still gets a real SIGBUS.
 * Expected exit status: 0 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGES 48
#define WORDS (PAGES * 4096 / sizeof(long))
#define ROUNDS 40

static long data[WORDS] __attribute__((aligned(4096)));
/* one page: the futex word and words main writes while the worker waits */
static struct {
    uint32_t flag;
    uint32_t pad;
    long noise[500];
} shared_page __attribute__((aligned(4096)));
static pthread_barrier_t bar;
static long sums[ROUNDS];

static long futex(uint32_t *w, int op, uint32_t val)
{
    return syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

static long sum_data(void)
{
    long s = 0;
    for (size_t i = 0; i < WORDS; i += 61)
        s += data[i];
    return s;
}

static sigjmp_buf bus_jump;
static void on_bus(int sig, siginfo_t *si, void *ctx)
{
    (void)ctx;
    (void)si;
    siglongjmp(bus_jump, sig);
}

static void *worker(void *arg)
{
    (void)arg;
    for (int r = 0; r < ROUNDS; r++) {
        pthread_barrier_wait(&bar);          /* main has written round r */
        sums[r] = sum_data();
        pthread_barrier_wait(&bar);          /* main may write again */
    }

    /* a futex wait on a page main writes meanwhile */
    for (int r = 1; r <= 20; r++) {
        while (__atomic_load_n(&shared_page.flag, __ATOMIC_ACQUIRE) < (uint32_t)r)
            futex(&shared_page.flag, FUTEX_WAIT_PRIVATE, (uint32_t)r - 1);
    }

    /* a child reads the array after this rank's copies were dropped */
    (void)sum_data();                        /* copies here again ... */
    pthread_barrier_wait(&bar);
    pthread_barrier_wait(&bar);              /* ... and main has rewritten the array */
    pid_t pid = fork();
    if (pid == 0)
        _exit((int)(sum_data() % 251));
    int st = 0;
    waitpid(pid, &st, 0);
    printf("child: exited=%d sum%%251=%d (parent's %ld)\n", WIFEXITED(st), WEXITSTATUS(st),
           sum_data() % 251);

    /* fresh memory reads as zeroes, then holds what is written */
    size_t len = 64 * 4096;
    unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    long z = 0;
    for (size_t i = 0; i < len; i += 512)
        z += m[i];
    for (size_t i = 0; i < len; i += 4096)
        m[i + 7] = (unsigned char)(i / 4096);
    long w = 0;
    for (size_t i = 0; i < len; i += 4096)
        w += m[i + 7];
    printf("fresh: zeroes %ld, written %ld\n", z, w);
    munmap(m, len);
    return NULL;
}

int main(void)
{
    pthread_barrier_init(&bar, NULL, 2);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    for (int r = 0; r < ROUNDS; r++) {
        for (size_t i = 0; i < WORDS; i++)
            data[i] = (long)(i * 3 + (size_t)r * 7);
        pthread_barrier_wait(&bar);
        pthread_barrier_wait(&bar);
    }
    for (int r = 1; r <= 20; r++) {
        for (int k = 0; k < 500; k++)
            shared_page.noise[k] += r;
        usleep(200);
        __atomic_store_n(&shared_page.flag, (uint32_t)r, __ATOMIC_RELEASE);
        futex(&shared_page.flag, FUTEX_WAKE_PRIVATE, 1);
    }
    pthread_barrier_wait(&bar);
    for (size_t i = 0; i < WORDS; i++)
        data[i] = (long)(i * 5 + 1);
    pthread_barrier_wait(&bar);
    pthread_join(t, NULL);
    for (int r = 0; r < ROUNDS; r++)
        printf("round %d: %ld\n", r, sums[r]);
    printf("noise %ld\n", shared_page.noise[499]);

    /* a real SIGBUS (a file mapping past the file's end) reaches the app */
    char name[] = "bus_XXXXXX";
    int fd = mkstemp(name);
    if (ftruncate(fd, 4096) != 0)
        return 2;
    char *f = mmap(NULL, 2 * 4096, PROT_READ, MAP_SHARED, fd, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_bus;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGBUS, &sa, NULL);
    int sig = sigsetjmp(bus_jump, 1);
    if (sig == 0) {
        volatile char c = f[4096 + 10];
        (void)c;
        printf("no SIGBUS\n");
    } else {
        printf("SIGBUS handled: %d\n", sig);
    }
    unlink(name);
    return 0;
}
