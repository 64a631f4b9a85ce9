/* Signals for a thread (on rank 1 when spread) while it calls libc
 * functions for the first time: each call goes through the dynamic loader's
 * lazy binding (_dl_runtime_resolve saves the FPU state in a big area on
 * the stack), where the stack is deeper than it has ever been.  Under pshare
 * a signal landing there crashed the thread with a SIGSEGV at address 0
 * inside the loader (not with LD_BIND_NOW=1).  The handler writes to
 * /dev/null (a forwarded call off home). */
#define _GNU_SOURCE
#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

static volatile sig_atomic_t seen;
static unsigned handled;            /* handler runs so far */
static int done, started;
static int devnull;

static void on_usr1(int sig)
{
    (void)sig;
    seen = 1;
    write(devnull, "x", 1);
    __atomic_add_fetch(&handled, 1, __ATOMIC_RELEASE);
}

static int cmp(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* Every external call here is a first call: a lazy binding each. */
static long first_calls(void)
{
    char buf[64] = "pshare lazy binding";
    int v[5] = { 5, 3, 9, 1, 7 }, key = 9;
    long s = 0;
    s += abs(-3) + labs(-4L) + llabs(-5LL) + atoi("12") + atol("13") + atoll("14");
    s += strtol("15", 0, 10) + (long)strtoul("16", 0, 10) + strtoll("17", 0, 10);
    s += (long)strtoull("18", 0, 10) + (long)strtod("19.5", 0) + (long)strtof("20.5", 0);
    s += (long)atof("21.5") + toupper('a') + tolower('B') + isalnum('x') + isxdigit('f');
    s += strchr(buf, 'l') - buf + (strrchr(buf, 'n') - buf) + (strstr(buf, "bind") - buf);
    s += strspn(buf, "pshare") + strcspn(buf, " ") + strncmp(buf, "psh", 3) + strcasecmp("A", "a");
    s += strncasecmp("ab", "AB", 2) + ((char *)memchr(buf, 'z', 19) - buf) + strnlen(buf, 5);
    s += ((char *)memrchr(buf, 'a', 19) - buf) + (strpbrk(buf, "yz") - buf) + ffs(64) + ffsl(128L);
    s += (long)((char *)memmem(buf, 19, "lazy", 4) - buf) + (strverscmp("a1", "a2") < 0);
    char *d = strdup(buf);
    s += strlen(d);
    free(d);
    qsort(v, 5, sizeof v[0], cmp);
    s += *(int *)bsearch(&key, v, 5, sizeof v[0], cmp) + v[0];
    div_t q = div(17, 5);
    ldiv_t lq = ldiv(19L, 4L);
    s += q.quot + q.rem + lq.quot + lq.rem;
    unsigned seed = 1;
    s += rand_r(&seed) > 0;
    char *save = 0;
    s += strlen(strtok_r(buf, " ", &save));
    s += wcslen(L"wide") + (long)(stpcpy(buf, "x") - buf) + strlen(strncat(buf, "yz", 1));
    s += mblen("a", 1) + (long)strsignal(SIGUSR1)[0] + (long)strerror(2)[0];
    return s;
}

static void *worker(void *arg)
{
    (void)arg;
    __atomic_store_n(&started, 1, __ATOMIC_RELEASE);
    long s = first_calls();
    while (!seen)                    /* the handler has run here at least once */
        ;
    __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    return (void *)s;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    devnull = open("/dev/null", O_WRONLY);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    while (!__atomic_load_n(&started, __ATOMIC_ACQUIRE))
        ;
    /* the next signal only once the handler has run for the last one, and
     * after a pause: signals faster than the handler runs leave the worker
     * no time between them (a pending signal is delivered as the handler
     * returns), natively on a loaded machine, and under pshare, whose
     * handler's forwarded write takes longer than the pause (the worker
     * livelocked 2 runs in 3 of CI, 7,000 handler runs a second) */
    struct timespec pause = { 0, 50000 };
    while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
        unsigned before = __atomic_load_n(&handled, __ATOMIC_ACQUIRE);
        pthread_kill(t, SIGUSR1);
        while (__atomic_load_n(&handled, __ATOMIC_ACQUIRE) == before &&
               !__atomic_load_n(&done, __ATOMIC_ACQUIRE))
            ;
        nanosleep(&pause, NULL);
    }
    void *r;
    pthread_join(t, &r);
    printf("handler ran: %s, first calls gave %ld\n", seen ? "yes" : "no", (long)r);
    return 0;
}
