/*
 * fds.c - the runtime's own file descriptors, out of the app's reach.
 *
 * The page store is the descriptor the runtime keeps open (the control
 * block and the channel are closed once mapped), with several ranks also a
 * userfaultfd (uffd.c) just below it.  The agent hands the store over at
 * PSHARE_STORE_FD; fds_init moves it to the highest number the hard
 * RLIMIT_NOFILE allows (hard - 1, at most FD_TOP - 1), fds_keep puts the
 * next one below (the userfaultfd; on home the descriptor a shared mapping's
 * backing waits at for the engine, fds_replace), and the real soft limit
 * stays at or below the lowest of ours (rt.fd_low).  So:
 *   - the kernel never hands it out and refuses it as a dup2/dup3/F_DUPFD
 *     target (EBADF/EINVAL, as for any descriptor at or above the limit);
 *     every number below the app's limit is the app's, 1022 and 1023 too;
 *   - every call that takes a descriptor (the `fd` arguments of syscalls.tbl)
 *     gets EBADF for ours, as if it were closed, and close_range stops below
 *     it (fd_guard, before a call runs here or is forwarded, and again in
 *     home's executors);
 *   - RLIMIT_NOFILE is virtual above the cap: an app that raises its soft
 *     limit past our descriptor sees the value it set, while the kernel
 *     keeps the cap (fd_exec).  Processes the app starts get the app's
 *     value back before they run anything.
 */
#include "rt.h"

#define FD_TOP (1UL << 20)            /* our descriptor stays below this (table size) */
#define K_RLIMIT_NOFILE 7
#define K_O_CLOEXEC_DUP3 K_O_CLOEXEC

struct krlimit {
    uint64_t cur, max;
};

static long app_cur = -1;             /* the app's soft limit when above the cap, else -1 */

static long nofile_get(struct krlimit *r)
{
    return sys4(PSHARE_NR_prlimit64, 0, K_RLIMIT_NOFILE, 0, r);
}

static long nofile_set_real(uint64_t cur, uint64_t max)
{
    struct krlimit r = { cur, max };
    return sys4(PSHARE_NR_prlimit64, 0, K_RLIMIT_NOFILE, &r, 0);
}

long fds_init(void)
{
    struct krlimit lim;
    long r = nofile_get(&lim);
    if (IS_ERR(r))
        return r;
    uint64_t top = lim.max < FD_TOP ? lim.max : FD_TOP;
    long target = (long)top - 1;
    if (target > PSHARE_STORE_FD) {
        r = nofile_set_real(target + 1, lim.max);
        if (!IS_ERR(r))
            r = sys3(PSHARE_NR_dup3, PSHARE_STORE_FD, target, K_O_CLOEXEC_DUP3);
        if (IS_ERR(r)) {
            nofile_set_real(lim.cur, lim.max);
            return r;
        }
        sys1(PSHARE_NR_close, PSHARE_STORE_FD);
    } else {
        target = PSHARE_STORE_FD;     /* already above anything the hard limit allows */
        sys3(PSHARE_NR_fcntl, target, K_F_SETFD, K_FD_CLOEXEC);
    }
    rt.store_fd = (int)target;
    rt.fd_low = (int)target;
    if (lim.cur > (uint64_t)target) {
        app_cur = lim.cur;
        nofile_set_real(target, lim.max);
    }
    return 0;
}

/* Another descriptor of ours (the userfaultfd, home's xfer_fd), moved just below the
 * lowest: its number, or a negative errno (the number is taken already). */
long fds_keep(long fd)
{
    long target = rt.fd_low - 1;
    if (rt.store_fd < 0 || target < 3)
        return -E_BADF;
    if (!IS_ERR(sys2(PSHARE_NR_fcntl, target, K_F_GETFD)))
        return -E_EXIST;                     /* inherited by the app: not ours to take */
    struct krlimit lim;
    long r = nofile_get(&lim);
    if (!IS_ERR(r))
        r = sys3(PSHARE_NR_dup3, fd, target, K_O_CLOEXEC_DUP3);
    if (IS_ERR(r))
        return r;
    if (lim.cur > (uint64_t)target) {        /* the number is out of the app's reach */
        if (app_cur < 0)
            app_cur = lim.cur;
        nofile_set_real(target, lim.max);
    }
    sys1(PSHARE_NR_close, fd);
    rt.fd_low = (int)target;
    return target;
}

/* Make our descriptor `ours` (one fds_keep gave) a copy of fd: the kernel
 * refuses a dup3 to a number at or above the soft limit, which is at our
 * lowest, so the limit goes just past `ours` for the call (every number
 * from ours up is ours: the app cannot be given one meanwhile). */
long fds_replace(long fd, long ours)
{
    struct krlimit lim;
    long r = nofile_get(&lim);
    if (IS_ERR(r))
        return r;
    if (lim.cur > (uint64_t)ours)
        return sys3(PSHARE_NR_dup3, fd, ours, K_O_CLOEXEC_DUP3);
    r = nofile_set_real(ours + 1, lim.max);
    if (!IS_ERR(r))
        r = sys3(PSHARE_NR_dup3, fd, ours, K_O_CLOEXEC_DUP3);
    nofile_set_real(lim.cur, lim.max);
    return r;
}

/* A process of the app's (fork, posix_spawn child): its limit is the app's.
 * A CLONE_VM child shares our memory: it must leave app_cur alone. */
void fds_child(int own_memory)
{
    if (app_cur < 0)
        return;
    struct krlimit lim;
    if (!IS_ERR(nofile_get(&lim)))
        nofile_set_real(app_cur, lim.max);
    if (own_memory)
        app_cur = -1;
}

static int is_ours(long fd)
{
    return rt.store_fd >= 0 && fd >= rt.fd_low && fd <= rt.store_fd;
}

/* Before a call runs (here, forwarded, or in an executor): 1 and *ret when
 * it is answered without the kernel; may narrow close_range. */
int fd_guard(long nr, long *a, long *ret)
{
    if (rt.store_fd < 0 || nr < 0 || nr >= PSHARE_NR_MAX)
        return 0;
    const struct pshare_sysent *e = &pshare_systab[nr];
    for (int i = 0; i < e->nargs; i++) {
        if (pshare_arg_kind(e->arg[i]) == ARG_FD && is_ours(a[i])) {
            *ret = -E_BADF;
            return 1;
        }
    }
    if (nr == PSHARE_NR_close_range) {
        unsigned first = a[0], last = a[1], ours = rt.fd_low;
        if (first <= (unsigned)rt.store_fd && ours <= last) {
            if (first >= ours) {         /* nothing of the app's at or above ours */
                *ret = 0;
                return 1;
            }
            a[1] = ours - 1;
        }
    }
    return 0;
}

/* RLIMIT_NOFILE as the app set it; every other call as it is.  Buffers are
 * where the call runs (bounce buffers or the app's). */
static long nofile_call(struct krlimit *newl, struct krlimit *oldl)
{
    struct krlimit now;
    long r = nofile_get(&now);
    if (IS_ERR(r))
        return r;
    if (app_cur >= 0)
        now.cur = app_cur;
    if (newl) {
        struct krlimit want = *newl;
        if (want.cur > want.max)
            return -E_INVAL;
        uint64_t cap = rt.fd_low;
        r = nofile_set_real(want.cur > cap ? cap : want.cur, want.max);
        if (IS_ERR(r))
            return r;
        app_cur = want.cur > cap ? (long)want.cur : -1;
    }
    if (oldl)
        *oldl = now;
    return 0;
}

/* The path an open or openat opens for reading only, else 0 (another call,
 * or not for reading), and its flags. */
const char *fd_open_read_path(long nr, const long *a, long *flags)
{
    const char *path;
    if (nr == PSHARE_NR_open) {
        path = (const char *)a[0];
        *flags = a[1];
    } else if (nr == PSHARE_NR_openat) {
        path = (const char *)a[1];
        *flags = a[2];
    } else {
        return 0;
    }
    return path && (*flags & 3 /* O_ACCMODE */) == K_O_RDONLY ? path : 0;
}

/* An open answered with a memfd holding text (a file pshare makes look as
 * natively: cpus.c, procfs.c), at its start; the open's O_CLOEXEC kept. */
long fd_memfd_answer(const char *name, long flags, const char *text, size_t len)
{
    long fd = sys2(PSHARE_NR_memfd_create, name, (flags & K_O_CLOEXEC) ? K_MFD_CLOEXEC : 0);
    if (IS_ERR(fd))
        return fd;
    long w = sys3(PSHARE_NR_write, fd, text, len);
    if (IS_ERR(w) || IS_ERR(sys3(PSHARE_NR_lseek, fd, 0, 0))) {
        sys1(PSHARE_NR_close, fd);
        return IS_ERR(w) ? w : -E_NOMEM;
    }
    return fd;
}

long fd_exec(long nr, const long *a)
{
    if (rt.dsm && (nr == PSHARE_NR_timer_create || nr == PSHARE_NR_timer_delete))
        return sigcarry_timer_call(nr, a);      /* a timer may signal a thread elsewhere */
    if ((nr == PSHARE_NR_open || nr == PSHARE_NR_openat) && cpus_file_open(nr, a))
        return cpus_file_here(nr, a);           /* the cluster's CPU count (cpus.c) */
    if (rt.dsm && rt.is_home) {
        int file = procfs_file_open(nr, a);
        if (file)
            return procfs_file_here(nr, a, file);   /* its thread count less the runtime's */
        if (nr == PSHARE_NR_getdents64)
            return procfs_getdents(a[0], (void *)a[1], a[2]);   /* the runtime's tids dropped */
    }
    if (rt.store_fd >= 0) {
        switch (nr) {
        case PSHARE_NR_getrlimit:
            if (a[0] == K_RLIMIT_NOFILE)
                return a[1] ? nofile_call(0, (struct krlimit *)a[1]) : -E_FAULT;
            break;
        case PSHARE_NR_setrlimit:
            if (a[0] == K_RLIMIT_NOFILE)
                return a[1] ? nofile_call((struct krlimit *)a[1], 0) : -E_FAULT;
            break;
        case PSHARE_NR_prlimit64:
            if (a[1] == K_RLIMIT_NOFILE && (a[0] == 0 || a[0] == sys0(PSHARE_NR_getpid)))
                return nofile_call((struct krlimit *)a[2], (struct krlimit *)a[3]);
            break;
        }
    }
    return sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
