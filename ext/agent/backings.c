/*
 * backings.c - home's shared regions and what backs them (backings.h).
 *
 * A sorted array of disjoint ranges, each with the descriptor and file
 * offset of its backing.  Home's app makes few shared mappings; a fault's
 * page is looked up by binary search, and with none the engine never asks.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "backings.h"

struct backing {
    uint64_t lo, hi;
    int fd;
    int is_file;                  /* a regular file: its end cuts what is read and written */
    int64_t off;                  /* the file offset of lo */
};

struct bk {
    struct backing *r;
    int n, cap;
};

struct bk *bk_new(void)
{
    return calloc(1, sizeof(struct bk));
}

void bk_free(struct bk *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->n; i++)
        close(t->r[i].fd);
    free(t->r);
    free(t);
}

/* The region holding addr, or -1 - the index of the first above it. */
static int find(const struct bk *t, uint64_t addr)
{
    int lo = 0, hi = t->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (t->r[mid].hi <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < t->n && t->r[lo].lo <= addr ? lo : -1 - lo;
}

static int room(struct bk *t, int more)
{
    if (t->n + more <= t->cap)
        return 0;
    int cap = t->cap * 2 + more + 4;
    struct backing *r = realloc(t->r, cap * sizeof *r);
    if (!r)
        return -1;
    t->r = r;
    t->cap = cap;
    return 0;
}

int bk_cut(struct bk *t, uint64_t lo, uint64_t hi)
{
    if (!t->n || hi <= lo)
        return 0;
    if (room(t, 1) != 0)                  /* a region that spans the range splits in two */
        return -1;
    int i = find(t, lo);
    i = i >= 0 ? i : -1 - i;
    while (i < t->n && t->r[i].lo < hi) {
        struct backing *b = &t->r[i];
        if (b->lo < lo && b->hi > hi) {   /* both ends stay: two regions, a descriptor each */
            struct backing upper = *b;
            upper.off += (int64_t)(hi - b->lo);
            upper.lo = hi;
            upper.fd = fcntl(b->fd, F_DUPFD_CLOEXEC, 0);
            b->hi = lo;
            if (upper.fd < 0)
                return -1;
            memmove(&t->r[i + 2], &t->r[i + 1], (t->n - i - 1) * sizeof *b);
            t->r[i + 1] = upper;
            t->n++;
            return 0;
        }
        if (b->lo < lo) {
            b->hi = lo;
            i++;
        } else if (b->hi > hi) {
            b->off += (int64_t)(hi - b->lo);
            b->lo = hi;
            i++;
        } else {
            close(b->fd);
            memmove(b, b + 1, (t->n - i - 1) * sizeof *b);
            t->n--;
        }
    }
    return 0;
}

int bk_add(struct bk *t, uint64_t lo, uint64_t hi, int fd, int64_t off)
{
    struct stat st;
    if (bk_cut(t, lo, hi) != 0 || room(t, 1) != 0) {
        close(fd);
        return -1;
    }
    int i = -1 - find(t, lo);
    memmove(&t->r[i + 1], &t->r[i], (t->n - i) * sizeof t->r[0]);
    t->r[i] = (struct backing){ lo, hi, fd, fstat(fd, &st) == 0 && S_ISREG(st.st_mode), off };
    t->n++;
    return 0;
}

int bk_any(const struct bk *t, uint64_t page, uint64_t len)
{
    if (!t->n)
        return 0;
    int i = find(t, page);
    if (i >= 0)
        return 1;
    i = -1 - i;
    return i < t->n && t->r[i].lo < page + len;
}

/* len bytes of region b at addr, from or into its backing. */
static int backing_io(const struct backing *b, uint8_t *buf, uint64_t len, uint64_t addr, int write)
{
    int64_t off = b->off + (int64_t)(addr - b->lo), n = (int64_t)len;
    if (b->is_file) {
        struct stat st;
        if (fstat(b->fd, &st) != 0)
            return -1;
        n = st.st_size > off ? st.st_size - off : 0;
        if (n > (int64_t)len)
            n = (int64_t)len;
    }
    if (write)
        return n == 0 || pwrite(b->fd, buf, n, off) == n ? 0 : -1;
    ssize_t got = n > 0 ? pread(b->fd, buf, n, off) : 0;
    if (got < 0)
        return -1;
    memset(buf + got, 0, len - (uint64_t)got);
    return 0;
}

static int store_io(int store, uint8_t *buf, uint64_t len, uint64_t addr, int write)
{
    ssize_t n = write ? pwrite(store, buf, len, addr) : pread(store, buf, len, addr);
    return n == (ssize_t)len ? 0 : -1;
}

int bk_io(const struct bk *t, int store, uint8_t *buf, uint64_t len, uint64_t page, int write)
{
    uint64_t at = page, end = page + len;
    if (!t->n)
        return store_io(store, buf, len, page, write);
    while (at < end) {
        int i = find(t, at);
        uint64_t stop;
        int r;
        if (i >= 0) {
            stop = t->r[i].hi < end ? t->r[i].hi : end;
            r = backing_io(&t->r[i], buf + (at - page), stop - at, at, write);
        } else {
            i = -1 - i;
            stop = i < t->n && t->r[i].lo < end ? t->r[i].lo : end;
            r = store_io(store, buf + (at - page), stop - at, at, write);
        }
        if (r != 0)
            return -1;
        at = stop;
    }
    return 0;
}

int bk_own_description(int fd)
{
    if (fd < 0 || !(fcntl(fd, F_GETFL) & O_APPEND))
        return fd;
    char path[48];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int mine = open(path, O_RDWR | O_CLOEXEC);
    close(fd);
    return mine;
}
