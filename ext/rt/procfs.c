/*
 * procfs.c - the app's own process in /proc, as natively: without the
 * runtime's threads.
 *
 * With several ranks home's process holds, besides the app's threads and
 * the executors of the threads elsewhere (each under that thread's cluster
 * tid), the runtime's control thread.  A program that counts its threads
 * (the entries of /proc/self/task, "Threads:" in /proc/self/status, field
 * 20 of /proc/self/stat: "am I single-threaded?" before a fork, psutil's
 * num_threads) saw one too many, also after joining every thread.  Every
 * such call runs on home, in fd_exec, so there:
 *   - an open for reading of the process's status or stat (/proc/self,
 *     /proc/thread-self or /proc/PID) gets a memfd holding the file as the
 *     kernel wrote it at the open, its thread count less the runtime's
 *     threads (as cpus.c answers the CPU count's files);
 *   - getdents64 of the process's task directory drops the runtime's tids
 *     (an fd whose entries name one of them is checked by its path first).
 */
#include "rt.h"

#define FILE_STATUS 1
#define FILE_STAT 2
#define HIDDEN_MAX 8

struct kdirent64 {
    uint64_t ino;
    int64_t off;
    uint16_t reclen;
    uint8_t type;
    char name[];
};

static int hidden_tids(long *tids)
{
    int n = thread_runtime_tids(tids, HIDDEN_MAX);
    return n < HIDDEN_MAX ? n : HIDDEN_MAX;
}

static const char *after_process_dir(const char *path)
{
    if (str_starts(path, "/proc/self/"))
        return path + 11;
    if (str_starts(path, "/proc/thread-self/"))
        return path + 18;
    if (!str_starts(path, "/proc/"))
        return 0;
    char pid[24];
    struct fmtbuf b = { pid, 0, sizeof pid - 1 };
    fmt_dec(&b, sys0(PSHARE_NR_getpid));
    pid[b.len] = 0;
    const char *p = path + 6;
    if (!str_starts(p, pid) || p[b.len] != '/')
        return 0;
    return p + b.len + 1;
}

static int same(const char *a, const char *b)
{
    size_t n = strlen(b);
    return strlen(a) == n && memcmp(a, b, n) == 0;
}

/* open/openat of the process's status or stat for reading: which (0: neither) */
int procfs_file_open(long nr, const long *a)
{
    long flags;
    const char *path = fd_open_read_path(nr, a, &flags);
    const char *rest = path && path[0] == '/' ? after_process_dir(path) : 0;
    if (!rest)
        return 0;
    return same(rest, "status") ? FILE_STATUS : same(rest, "stat") ? FILE_STAT : 0;
}

/* The decimal number at p (to its end or a blank); its end in *end. */
static long number_at(const char *p, const char *stop, const char **end)
{
    long v = 0;
    while (p < stop && *p >= '0' && *p <= '9')
        v = v * 10 + (*p++ - '0');
    *end = p;
    return v;
}

/* text[0, len) with the number [from, to) replaced by v, into out */
static size_t replace_number(const char *text, size_t len, const char *from, const char *to, long v,
                             char *out, size_t cap)
{
    struct fmtbuf b = { out, 0, cap };
    size_t head = (size_t)(from - text);
    if (head > cap)
        return 0;
    memcpy(out, text, head);
    b.len = head;
    fmt_dec(&b, v);
    size_t tail = len - (size_t)(to - text);
    if (b.len + tail > cap)
        return 0;
    memcpy(out + b.len, to, tail);
    return b.len + tail;
}

/* Where the thread count is: status's "Threads:" line, stat's 20th field
 * (the 18th after the command's closing parenthesis). */
static const char *count_at(const char *text, size_t len, int file)
{
    const char *end = text + len;
    if (file == FILE_STATUS) {
        for (const char *p = text; p + 9 < end; p++)
            if ((p == text || p[-1] == '\n') && memcmp(p, "Threads:", 8) == 0) {
                p += 8;
                while (p < end && (*p == '\t' || *p == ' '))
                    p++;
                return p;
            }
        return 0;
    }
    const char *p = 0;
    for (const char *q = text; q < end; q++)
        if (*q == ')')
            p = q;
    if (!p)
        return 0;
    for (int field = 2; field < 20 && p < end; field++) {
        p++;                                   /* the blank before the next field */
        while (p < end && *p != ' ')
            p++;
    }
    return p < end ? p + 1 : 0;
}

long procfs_file_here(long nr, const long *a, int file)
{
    long flags = nr == PSHARE_NR_open ? a[1] : a[2];
    long real = sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    if (IS_ERR(real))
        return real;
    char text[8192], out[8192 + 32];
    long len = 0, r;
    while (len < (long)sizeof text && (r = sys3(PSHARE_NR_read, real, text + len, sizeof text - len)) > 0)
        len += r;
    long tids[HIDDEN_MAX];
    int hidden = hidden_tids(tids);
    const char *at = len > 0 && len < (long)sizeof text ? count_at(text, (size_t)len, file) : 0;
    const char *to;
    long count = at ? number_at(at, text + len, &to) : 0;
    size_t n = at && to > at && count > hidden
        ? replace_number(text, (size_t)len, at, to, count - hidden, out, sizeof out) : 0;
    if (!n) {
        sys3(PSHARE_NR_lseek, real, 0, 0);     /* not the layout we know: the kernel's own */
        return real;
    }
    sys1(PSHARE_NR_close, real);
    return fd_memfd_answer(file == FILE_STATUS ? "status" : "stat", flags, out, n);
}

/* The tid an entry names, or -1 (its name is not a number). */
static long entry_tid(const struct kdirent64 *d)
{
    const char *end;
    long v = number_at(d->name, d->name + 24, &end);
    return end == d->name || *end ? -1 : v;
}

static int names_tid(const struct kdirent64 *d, const long *tids, int n)
{
    long v = entry_tid(d);
    for (int i = 0; i < n && v >= 0; i++)
        if (tids[i] == v)
            return 1;
    return 0;
}

/* Whether fd is this process's task directory. */
static int is_task_dir(long fd)
{
    char link[64], path[64];
    struct fmtbuf b = { link, 0, sizeof link - 1 };
    fmt_str(&b, "/proc/self/fd/");
    fmt_dec(&b, fd);
    link[b.len] = 0;
    long n = sys4(PSHARE_NR_readlinkat, K_AT_FDCWD, link, path, sizeof path - 1);
    if (n <= 0)
        return 0;
    path[n] = 0;
    const char *rest = after_process_dir(path);
    return rest && same(rest, "task");
}

long procfs_getdents(long fd, void *buf, long count)
{
    for (;;) {
        long r = sys3(PSHARE_NR_getdents64, fd, buf, count);
        if (r <= 0)
            return r;
        /* most directories name no number: the runtime's tids are not
         * looked up for them */
        int numbers = 0, found = 0, hidden = 0;
        for (long at = 0; at < r && !numbers; at += ((struct kdirent64 *)((char *)buf + at))->reclen)
            numbers = entry_tid((struct kdirent64 *)((char *)buf + at)) >= 0;
        long tids[HIDDEN_MAX];
        if (numbers)
            hidden = hidden_tids(tids);
        for (long at = 0; at < r && hidden && !found; at += ((struct kdirent64 *)((char *)buf + at))->reclen)
            found = names_tid((struct kdirent64 *)((char *)buf + at), tids, hidden);
        if (!found || !is_task_dir(fd))
            return r;
        long kept = 0;
        for (long at = 0; at < r;) {
            struct kdirent64 *d = (struct kdirent64 *)((char *)buf + at);
            uint16_t len = d->reclen;
            if (!names_tid(d, tids, hidden)) {
                if (kept != at)
                    memmove((char *)buf + kept, d, len);
                kept += len;
            }
            at += len;
        }
        if (kept)
            return kept;                       /* else it held only those: read on */
    }
}
