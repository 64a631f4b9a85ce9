/*
 * util.c - the handful of libc-like helpers the runtime needs.
 * All hidden: exporting memcpy from a preloaded library would interpose it
 * for the whole app.
 */
#include "rt.h"
#include "states_lock.h"

void *memcpy(void *d, const void *s, size_t n)
{
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    return d;
}

void *memmove(void *d, const void *s, size_t n)
{
    unsigned char *dp = d;
    const unsigned char *sp = s;
    if (dp == sp || n == 0)
        return d;
    if (dp < sp || dp >= sp + n)
        return memcpy(d, s, n);
    while (n--)
        dp[n] = sp[n];
    return d;
}

void *memset(void *d, int c, size_t n)
{
    void *ret = d;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return ret;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] - y[i];
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int str_starts(const char *s, const char *prefix)
{
    while (*prefix)
        if (*s++ != *prefix++)
            return 0;
    return 1;
}

void fmt_str(struct fmtbuf *b, const char *s)
{
    while (*s && b->len + 1 < b->cap)
        b->p[b->len++] = *s++;
    b->p[b->len] = 0;
}

void fmt_dec(struct fmtbuf *b, long v)
{
    char tmp[24];
    int i = 0;
    unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;
    do
        tmp[i++] = '0' + u % 10;
    while (u /= 10);
    if (v < 0)
        tmp[i++] = '-';
    char out[24];
    for (int j = 0; j < i; j++)
        out[j] = tmp[i - 1 - j];
    out[i] = 0;
    fmt_str(b, out);
}

void fmt_hex(struct fmtbuf *b, unsigned long v)
{
    char out[20] = "0x";
    int i = 2, started = 0;
    for (int sh = 60; sh >= 0; sh -= 4) {
        int d = (v >> sh) & 0xf;
        if (d || started || sh == 0) {
            out[i++] = "0123456789abcdef"[d];
            started = 1;
        }
    }
    out[i] = 0;
    fmt_str(b, out);
}

/* A futex mutex (Drepper's "mutex3"): 0 free, 1 locked, 2 locked with waiters. */
void rt_lock(int *lock)
{
    pshare_futex_lock((uint32_t *)lock, K_FUTEX_PRIVATE);
}

void rt_unlock(int *lock)
{
    pshare_futex_unlock((uint32_t *)lock, K_FUTEX_PRIVATE);
}

/* A fatal runtime error: tell the agent (it prints the one line) and end the app. */
void rt_fail(const char *msg)
{
    if (rt.ctl) {
        struct fmtbuf b = { rt.ctl->error, 0, sizeof rt.ctl->error };
        fmt_str(&b, msg);
        atomic_store(&rt.ctl->state, PSHARE_RT_FAILED);
    } else {
        sys3(PSHARE_NR_write, 2, "pshare: ", 8);
        sys3(PSHARE_NR_write, 2, msg, strlen(msg));
        sys3(PSHARE_NR_write, 2, "\n", 1);
    }
    sys1(PSHARE_NR_exit_group, 126);
    __builtin_unreachable();
}

/* The runtime's own private mappings (thread arena, page-state table, region
 * table): never part of the app's memory, whatever the kernel merges. */
static struct { uintptr_t lo, hi; } private_ranges[8];
static int nprivate;

void rt_private(void *p, size_t len)
{
    if (nprivate < 8) {
        private_ranges[nprivate].lo = (uintptr_t)p;
        private_ranges[nprivate].hi = (uintptr_t)p + len;
        nprivate++;
    }
}

int rt_is_private(uintptr_t lo, uintptr_t hi)
{
    for (int i = 0; i < nprivate; i++)
        if (lo < private_ranges[i].hi && hi > private_ranges[i].lo)
            return 1;
    return 0;
}

int ts_valid(const struct kts *t)
{
    return t->sec >= 0 && t->nsec >= 0 && t->nsec < 1000000000L;
}

long ts_ns(const struct kts *t)
{
    return t->sec * 1000000000L + t->nsec;
}

struct kts ns_ts(long ns)
{
    struct kts t = { ns / 1000000000L, ns % 1000000000L };
    return t;
}

long clock_ns(int clk)
{
    struct kts t;
    sys2(PSHARE_NR_clock_gettime, clk, &t);
    return ts_ns(&t);
}
