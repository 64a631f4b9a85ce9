/*
 * control.c - how calls are executed when the job has more than one rank.
 *
 * App threads (any rank):
 *   run_here       LOCAL calls, and HOME calls made on home: executed on this
 *                  rank, on bounce buffers (marshal.c);
 *   run_forwarded  HOME calls made elsewhere: marshalled into the mailbox and
 *                  run on home by the thread's executor;
 *   run_global     address-space calls and sigaction: decided by home's
 *                  control thread, replayed by every other rank's, in the
 *                  agent's one global order, before the caller resumes.
 * Runtime threads, which never run app code:
 *   control thread one per rank; applies what the agent commands (page
 *                  protection, thread starts, replays, signals); never waits
 *                  for the agent, which waits for it;
 *   executors      on home, one per thread of another rank (the paper's 1:1),
 *                  made by home's control thread (the paper's creator): they
 *                  run that thread's forwarded calls in home's process, so
 *                  fds, cwd, locks and pids are the job's.
 */
#include "rt.h"

/* ---- futex: on the real address; the kernel does not fault pages in ---- */

/* EFAULT: the words are brought and the call made again, unless a word is
 * not the app's managed memory it may use so (a thread's stack unmapped
 * meanwhile): then the EFAULT is the app's, as natively; the touch would
 * have been a real fault, fatal in an executor. */
static long futex_here(const long *a)
{
    int cmd = a[1] & 127;
    int write1 = cmd == 6 || cmd == 7 || cmd == 8 || cmd == 13;
    int second = cmd == 5 /* WAKE_OP */ || cmd == 3 || cmd == 4 || cmd == 11 || cmd == 12;
    for (int tries = 0;; tries++) {
        long r = sys6(PSHARE_NR_futex, a[0], a[1], a[2], a[3], a[4], a[5]);
        if (r != -E_FAULT || tries == 64)
            return r;
        if (!dsm_may_touch((void *)a[0], write1) ||
            (second && !dsm_may_touch((void *)a[4], cmd == 5)))
            return r;
        dsm_touch((void *)a[0], 4, write1);
        if (second)
            dsm_touch((void *)a[4], 4, cmd == 5);
    }
}

static int futex_has_timeout(long op)
{
    int cmd = op & 127;
    return cmd == 0 || cmd == 9 || cmd == 6 || cmd == 11 || cmd == 13;
}

/* ---- LOCAL, and HOME on home ---- */

/* The call itself, its memory arguments bounced through the mailbox. */
static long execute_here(long nr, const long *a, long (*exec)(long nr, const long *a))
{
    if (nr == PSHARE_NR_futex)
        return futex_here(a);
    /* bounce buffers stack up in the mailbox's upper half: an app signal
     * handler may make a call while this one blocks */
    struct mspec m;
    size_t *top = thread_bounce();
    size_t at = *top;
    uint8_t *base = chan_box(thread_slot_index())->data + FWD_CAP + at;
    int err = marshal_in(nr, a, &m, base, FWD_CAP - at, 0);
    if (err)
        return err;
    *top = at + ((m.used + 63) & ~(size_t)63);
    long r = marshal_exec(&m, base, exec);
    *top = at;
    marshal_out(&m, base, r);
    return r;
}

/* Here, its buffers copied to and from bounce buffers, executed by `exec`
 * (fd_exec: the kernel, but for the runtime's descriptors). */
long run_here_by(long nr, const long *a, long (*exec)(long nr, const long *a))
{
    if (!rt.dsm)
        return sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);   /* one rank: nothing is virtual */
    /* a call that may block: counted as asleep (chan_sleep_begin), so that
     * home's agent polls while home's threads nap or wait in the kernel */
    int counted = chan_sleep_begin();
    long r = execute_here(nr, a, exec);
    chan_sleep_end(counted);
    return r;
}

long run_here(long nr, const long *a)
{
    return run_here_by(nr, a, fd_exec);
}

/* ---- HOME elsewhere: forwarded to the executor ---- */

/* The trapped call now running goes to home: counted forwarded (and no
 * longer local) once, however many pieces it takes. */
static void count_forwarded(void)
{
    struct trap *t = thread_trap();
    if (!t || !t->active || t->forwarded)
        return;
    t->forwarded = 1;
    STAT_ADD(syscalls_local, -1);
    STAT_ADD(syscalls_forwarded, 1);
    atomic_add(&rt.ctl->sys[t->nr].forwarded, 1);
}

/* A call for home's agent: RQ_SYSCALL (run by the executor) or RQ_TCALL
 * (run where thread `tid` runs: schedcall.c), its buffers in the mailbox. */
static long forward(long nr, const long *a, uint32_t kind, long tid)
{
    int slot = thread_slot_index();
    struct pshare_mbox *box = chan_box(slot);
    struct mspec m;
    int err;
    uint64_t mask = chan_enter();             /* the mailbox is ours until marshal_out: chan.c */
    if (nr == PSHARE_NR_futex) {
        memset(&m, 0, sizeof m);
        m.nr = nr;
        for (int i = 0; i < 6; i++)
            m.a[i] = a[i];
        err = 0;
        if (futex_has_timeout(a[1]) && a[3]) {
            memcpy(box->data, (void *)a[3], 16);
            m.a[3] = 0;
            m.rel = 1u << 3;
            m.used = 16;
            m.p[0] = (struct mpart){ .app = a[3], .off = 0, .len = 16, .arg = 3,
                                     .dir = ARG_IN, .kind = ARG_BUF_FIXED };
            m.np = 1;
        }
    } else {
        err = marshal_in(nr, a, &m, box->data, FWD_CAP - MSEG_ROOM, 1);
    }
    if (err) {
        chan_leave(mask);
        return err;
    }
    long tab, nseg;
    long len = marshal_pack_in(&m, box->data, FWD_CAP, &tab, &nseg);
    if (IS_ERR(len)) {
        chan_leave(mask);
        return len;
    }
    box->a[0] = m.nr;
    for (int i = 0; i < 6; i++)
        box->a[1 + i] = m.a[i];
    box->a[7] = m.rel;
    box->a[8] = tab;
    box->a[9] = nseg;
    box->len = len;                           /* the input bytes and the table only */
    box->tcall_tid = (uint32_t)tid;
    count_forwarded();                        /* now: exit_group never comes back */
    uint64_t t0 = rdtsc();
    thread_busy(1);
    long r = chan_call(slot, kind);
    thread_busy(0);
    hist_add(rt.ctl->hist_forward, rdtsc() - t0);
    marshal_out_packed(&m, box->data, box->len, r);   /* the bytes the call wrote */
    chan_leave(mask);
    return r;
}

long run_forwarded(long nr, const long *a, struct kucontext *uc)
{
    (void)uc;
    return forward(nr, a, RQ_SYSCALL, 0);
}

long run_thread_call(long nr, const long *a, long tid)
{
    return forward(nr, a, RQ_TCALL, tid);
}

/* ---- big reads and writes: every byte, a mailbox-full at a time ---- */

/* Room for one piece: the forwarded data area, or what is left of the
 * bounce-buffer stack here. */
static size_t io_room(void)
{
    size_t used = rt.is_home ? *thread_bounce() : 0;
    size_t left = FWD_CAP > used + 64 ? FWD_CAP - used - 64 : 0;
    return left & ~(size_t)(PAGE_SIZE - 1);
}

static long io_piece(long nr, long fd, uintptr_t buf, size_t len, long off, struct kucontext *uc)
{
    long a[6] = { fd, (long)buf, (long)len, off, 0, 0 };
    return rt.is_home ? run_here(nr, a) : run_forwarded(nr, a, uc);
}

/* The file type bits of a kernel struct stat (x86_64: 144 bytes). */
#define KSTAT_SIZE 144
#define K_S_IFMT 0170000
#define K_S_IFREG 0100000
#define K_S_IFBLK 0060000
#define K_S_IFCHR 0020000
static uint32_t kstat_type(const uint8_t *st)
{
    uint32_t mode;
    memcpy(&mode, st + 24, 4);                   /* st_mode */
    return mode & K_S_IFMT;
}

/* A regular file or block device: a full piece does not mean more would block. */
static int io_seekable(long fd, struct kucontext *uc)
{
    uint8_t st[KSTAT_SIZE];
    long a[6] = { fd, (long)st };
    long r = rt.is_home ? run_here(PSHARE_NR_fstat, a) : run_forwarded(PSHARE_NR_fstat, a, uc);
    if (IS_ERR(r))
        return 0;
    return kstat_type(st) == K_S_IFREG || kstat_type(st) == K_S_IFBLK;
}

/* read, write, pread64, pwrite64 and the vector forms, whatever their size:
 * up to a mailbox-full as one call, as it is; beyond that as consecutive
 * calls of one piece each, until all is moved or a piece comes back short
 * (end of file, a full pipe, an error after some bytes: what the one call
 * would have returned).  A read that is not from a file stops after a full
 * piece rather than wait for more, as the kernel's read may. */
long run_io(long nr, const long *a, struct kucontext *uc)
{
    struct kiov one, *iov = &one;
    long cnt = 1, off = -1, base_nr;
    int vec = 0, is_read;
    switch (nr) {
    case PSHARE_NR_read: case PSHARE_NR_write:
        one.base = a[1];
        one.len = a[2];
        base_nr = nr;
        break;
    case PSHARE_NR_pread64: case PSHARE_NR_pwrite64:
        one.base = a[1];
        one.len = a[2];
        off = a[3];
        base_nr = nr;
        break;
    default:                                    /* readv, writev, preadv(2), pwritev(2) */
        vec = 1;
        iov = (struct kiov *)a[1];
        cnt = a[2];
        if (nr != PSHARE_NR_readv && nr != PSHARE_NR_writev)
            off = a[3];
        is_read = nr == PSHARE_NR_readv || nr == PSHARE_NR_preadv || nr == PSHARE_NR_preadv2;
        base_nr = off == -1 ? (is_read ? PSHARE_NR_read : PSHARE_NR_write)
                            : (is_read ? PSHARE_NR_pread64 : PSHARE_NR_pwrite64);
        break;
    }
    is_read = base_nr == PSHARE_NR_read || base_nr == PSHARE_NR_pread64;
    size_t room = io_room(), total = 0;
    if (cnt < 0 || cnt > 1024 || (cnt && !iov))
        return rt.is_home ? run_here(nr, a) : run_forwarded(nr, a, uc);   /* the kernel's answer */
    for (long i = 0; i < cnt; i++)
        total += iov[i].len;
    if (total <= room || !room || (vec && nr == PSHARE_NR_preadv2 && a[5]) ||
        (vec && nr == PSHARE_NR_pwritev2 && a[5]))
        return rt.is_home ? run_here(nr, a) : run_forwarded(nr, a, uc);
    if ((long)total < 0)
        return -E_INVAL;
    long done = 0;
    int checked = 0;
    for (long i = 0; i < cnt; i++) {
        for (size_t at = 0; at < iov[i].len;) {
            size_t n = iov[i].len - at < room ? iov[i].len - at : room;
            long r = io_piece(base_nr, a[0], iov[i].base + at, n, off == -1 ? 0 : off + done, uc);
            if (IS_ERR(r))
                return done ? done : r;
            done += r;
            at += r;
            if ((size_t)r < n)
                return done;
            if (is_read && !checked && done < (long)total) {
                if (!io_seekable(a[0], uc))
                    return done;
                checked = 1;
            }
        }
    }
    return done;
}

/* ---- GLOBAL: one order for the whole job ---- */

/* The op drops pages that some rank may hold or have asked for, or makes
 * pages whose first owner is not home: home first fences the job's page
 * traffic (the engine's global_begin).  Else a grant asked for before it could be written
 * into the store after it (over a new mapping's pages), or a run reaching
 * from one mapping into a new one next to it could be served, before the
 * new one's manager knew its maker owns it, as home's zeroes.  A brk that
 * grows makes pages home owns either way; mprotect changes no page's
 * owner. */
static int fenced_op(long nr, const long *a)
{
    switch (nr) {
    case PSHARE_NR_munmap:
    case PSHARE_NR_mmap:
        return 1;
    case PSHARE_NR_madvise:
        return a[2] == K_MADV_DONTNEED || a[2] == K_MADV_FREE || a[2] == K_MADV_REMOVE;
    case PSHARE_NR_brk:
        return a[0] && (uintptr_t)a[0] < (uintptr_t)mem_brk(0);
    default:
        return 0;
    }
}

long run_global(long nr, const long *a)
{
    int slot = thread_slot_index();
    struct pshare_mbox *box = chan_box(slot);
    uint64_t mask = chan_enter();
    /* the app's sigaction first: a fault reading it uses a[] and len */
    size_t len = 0;
    if (nr == PSHARE_NR_rt_sigaction && a[1]) {
        memcpy(box->data, (void *)a[1], sizeof(struct ksigaction));
        len = sizeof(struct ksigaction);
    }
    box->a[0] = nr;
    for (int i = 0; i < 6; i++)
        box->a[1 + i] = a[i];
    box->a[7] = fenced_op(nr, a) ? PSHARE_GLOBAL_FENCE : 0;
    box->len = len;
    thread_busy(1);
    long r = chan_call(slot, RQ_GLOBAL);
    thread_busy(0);
    if (nr == PSHARE_NR_rt_sigaction && a[2] && !IS_ERR(r))
        memcpy((void *)a[2], box->data + sizeof(struct ksigaction), sizeof(struct ksigaction));
    chan_leave(mask);
    return r;
}

/* What backs a shared mapping of fd: 1 a regular file (memory.c's shared
 * regions: the engine reads and writes it), 2 /dev/zero (anonymous memory),
 * 0 anything else (a device: it stays native, on each rank separately). */
static int backing_kind(long fd)
{
    uint8_t st[KSTAT_SIZE];
    if (IS_ERR(sys2(PSHARE_NR_fstat, fd, st)))
        return 0;
    uint64_t rdev;
    memcpy(&rdev, st + 40, 8);                   /* st_rdev */
    if (kstat_type(st) == K_S_IFREG)
        return 1;
    return kstat_type(st) == K_S_IFCHR && rdev == 0x105 ? 2 : 0;   /* char 1:5 */
}

/* What home's control thread decides and every other one replays.  On home
 * (decide) the box is rewritten into its replay form: mmap gets the address
 * chosen and MAP_FIXED; a read-only file mapping gets the file's path.
 * a[7]: 1 = decide, 0 = replay, + the calling thread's rank << 8; out, on
 * home: the rank the new pages start at (an anonymous mapping starts at its
 * maker's rank: dsm_start_owned).  a[8], a[9]: the range whose pages start
 * over in the DSM (0, 0: none). */
static long apply_global(struct pshare_mbox *box)
{
    long nr = box->a[0], *a = &box->a[1];
    int decide = box->a[7] & 1, maker = (int)(box->a[7] >> 8);
    long r;
    box->a[8] = box->a[9] = 0;
    if (decide) {
        box->a[7] = 0;                  /* the pages start at home unless said below */
        if (rt.xfer_fd >= 0)            /* the engine took the last backing (its decide) */
            fds_replace(rt.store_fd, rt.xfer_fd);
    }
    switch (nr) {
    case PSHARE_NR_mmap: {
        long flags = a[3];
        int anon = flags & K_MAP_ANONYMOUS, shared = (flags & K_MAP_TYPE) != K_MAP_PRIVATE;
        /* memory.c's shared regions: writable shared files, shared anonymous
         * memory (home decides: a replay's own form says) */
        int backed = decide && shared && (anon || (a[2] & K_PROT_WRITE)) &&
                     !(flags & K_MAP_HUGETLB);
        if (backed && !anon) {
            int kind = backing_kind(a[4]);
            backed = kind != 0;
            if (kind == 2)
                flags |= K_MAP_ANONYMOUS;     /* /dev/zero: shared anonymous memory */
            anon = flags & K_MAP_ANONYMOUS;
        }
        backed = backed && mem_xfer_ready();
        int file_native = !anon && !backed && (shared || !(a[2] & K_PROT_WRITE));
        if (decide && backed) {
            struct pshare_backing *b = (struct pshare_backing *)box->data;
            r = mem_mmap_backed(a[0], a[1], a[2], (int)flags, a[4], a[5], b);
            if (IS_ERR(r))
                return r;
            a[0] = r;
            a[3] = (flags & ~(K_MAP_TYPE | K_MAP_FIXED_NOREPLACE)) |
                   K_MAP_PRIVATE | K_MAP_ANONYMOUS | K_MAP_FIXED | PSHARE_MAP_SHARED_COPY;
            a[4] = -1;
            a[5] = 0;
            box->len = sizeof *b;             /* the engine takes the backing */
            box->a[8] = r;
            box->a[9] = r + PAGE_UP(a[1]);
            return r;
        }
        if (flags & PSHARE_MAP_SHARED_COPY)
            return mem_mmap_copy(a[0], a[1], a[2], (int)(flags & ~PSHARE_MAP_SHARED_COPY));
        if (decide) {
            r = mem_mmap(a[0], a[1], a[2], flags, a[4], a[5]);
            if (IS_ERR(r))
                return r;
            a[0] = r;
            a[3] = (flags & ~K_MAP_FIXED_NOREPLACE) | K_MAP_FIXED;
            box->len = 0;
            if (file_native) {
                char link[32] = "/proc/self/fd/";
                struct fmtbuf b = { link, 14, sizeof link };
                fmt_dec(&b, a[4]);
                long n = sys3(PSHARE_NR_readlink, link, box->data, K_PATH_MAX);
                box->len = n > 0 && n < K_PATH_MAX ? n : 0;     /* no path: the replay fails */
            } else if (!(flags & K_MAP_ANONYMOUS)) {
                a[3] = (a[3] & ~K_MAP_TYPE) | K_MAP_PRIVATE | K_MAP_ANONYMOUS;   /* contents by DSM */
                a[4] = -1;
                a[5] = 0;
            } else if (maker != 0) {
                /* zeroes the maker writes first: they start there */
                dsm_start_owned(r, r + PAGE_UP(a[1]), 0);
                box->a[7] = maker;
            }
            box->a[8] = r;
            box->a[9] = r + PAGE_UP(a[1]);
            return r;
        }
        if (file_native) {
            /* the path comes without its NUL, over what an earlier
             * command left in the box */
            if (!box->len || box->len >= K_PATH_MAX)
                return -E_INVAL;
            box->data[box->len] = 0;
            long fd = sys4(PSHARE_NR_openat, K_AT_FDCWD, box->data, K_O_RDONLY | K_O_CLOEXEC, 0);
            if (IS_ERR(fd))
                return fd;
            r = mem_mmap(a[0], a[1], a[2] & ~K_PROT_WRITE, (flags & ~K_MAP_TYPE) | K_MAP_PRIVATE, fd, a[5]);
            sys1(PSHARE_NR_close, fd);
            return r;
        }
        r = mem_mmap(a[0], a[1], a[2], flags, a[4], a[5]);
        if (!IS_ERR(r) && maker != 0)   /* home said it starts at the maker's rank */
            dsm_start_owned(r, r + PAGE_UP(a[1]), maker == rt.ctl->rank);
        return r;
    }
    case PSHARE_NR_munmap:
        r = mem_munmap(a[0], a[1]);
        box->a[8] = a[0];
        box->a[9] = a[0] + PAGE_UP(a[1]);
        return r;
    case PSHARE_NR_mprotect:
        return mem_mprotect(a[0], a[1], a[2]);
    case PSHARE_NR_madvise: {
        int drops = a[2] == K_MADV_DONTNEED || a[2] == K_MADV_FREE || a[2] == K_MADV_REMOVE;
        int shared = drops ? mem_shared_kind(a[0], a[1]) : 0;
        /* shared memory keeps its contents but for MADV_REMOVE, which frees
         * them: one range starts over or none (a call over both kinds is
         * refused, README) */
        if (decide && shared == 3 && a[2] != K_MADV_REMOVE)
            return -E_INVAL;
        r = mem_madvise(a[0], a[1], a[2]);
        if (drops && (!shared || a[2] == K_MADV_REMOVE)) {
            box->a[8] = PAGE_DOWN(a[0]);
            box->a[9] = PAGE_UP(a[0] + a[1]);
        }
        return r;
    }
    case PSHARE_NR_brk: {
        long before = mem_brk(0);
        r = mem_brk(a[0]);
        if (r < before) {
            box->a[8] = PAGE_UP(r);
            box->a[9] = PAGE_UP(before);
        }
        return r;
    }
    case PSHARE_NR_rt_sigaction: {
        /* a[1] is the app's act pointer: 0 for a query, which changes nothing */
        struct ksigaction *act = a[1] ? (struct ksigaction *)box->data : 0;
        struct ksigaction *oact = (struct ksigaction *)(box->data + sizeof *act);
        if (decide) {
            if (!act)
                memset(box->data, 0, sizeof *act);
            box->len = 2 * sizeof *act;
        }
        r = sig_action(a[0], act, decide ? oact : 0, a[3]);
        return r;
    }
    case PSHARE_NR_exit_group:
        sys1(PSHARE_NR_exit_group, a[0]);
        return 0;
    default:
        return decide ? sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]) : 0;
    }
}

/* The runtime's own threads (the control thread, executors) run for a few
 * microseconds when woken.  While the cores are contended (chan.c) that is
 * on a core where an app thread computes: a short time slice lets their
 * wake-up preempt it at once (EEVDF, Linux 6.12+: sched_runtime of a
 * SCHED_OTHER thread is its slice; a shorter slice than the running
 * task's preempts) instead of after its slice, up to a few ms.  With idle
 * cores it only cut their polls short: faults on 2 idle vCPUs went from
 * 30-47 to 73-163 us (pshare-bench faults), so they get the default slice
 * back.  Everything else (nice, policy) is kept; older kernels ignore the
 * field.  The agent's engine does the same (_engine.pyx cores_contended). */

static uint8_t slice_short[PSHARE_MAX_THREADS];    /* by slot: what the thread has now */

static void slice_follows_contention(int slot)
{
    int want = chan_contended();
    if (want == slice_short[slot])
        return;
    slice_short[slot] = (uint8_t)want;
    struct pshare_sched_attr attr;
    memset(&attr, 0, sizeof attr);
    if (sys4(PSHARE_NR_sched_getattr, 0, &attr, sizeof attr, 0) != 0 || attr.policy != 0)
        return;                                    /* not SCHED_OTHER: leave it */
    attr.size = sizeof attr;
    attr.runtime = want ? PSHARE_SHORT_SLICE_NS : 0;    /* 0: the default slice */
    sys3(PSHARE_NR_sched_setattr, 0, &attr, 0);
}

/* ---- executors (home) ---- */

/* A forwarded call in a mailbox (CMD_SYSCALL, CMD_TCALL): the input bytes
 * back at their offsets, the output buffers as they are; its arguments in
 * a[].  The segments' count, or -errno. */
static int box_call_args(struct pshare_mbox *box, struct mseg *seg, long *a)
{
    int nseg = marshal_unpack_in(box->data, box->len, FWD_CAP, box->a[8], box->a[9], seg);
    for (int i = 0; i < nseg; i++)
        marshal_rebase(box->data, seg[i].off, seg[i].len, seg[i].elem, seg[i].kind);
    for (int i = 0; i < 6; i++)
        a[i] = (box->a[7] & (1 << i)) ? (long)(box->data + box->a[1 + i]) : box->a[1 + i];
    return nseg;
}

/* ... and its answer: the result, then what the call wrote. */
static void box_call_answer(struct pshare_mbox *box, const struct mseg *seg, int nseg, long r)
{
    box->a[0] = r;
    box->len = nseg < 0 ? 0 : marshal_pack_out(seg, nseg, box->data, r);
}

static void executor_loop(void *arg)
{
    (void)arg;
    int slot = thread_slot_index();
    struct pshare_mbox *box = chan_box(slot);
    for (;;) {
        slice_follows_contention(slot);
        chan_wait_command(box, 0);
        if (box->kind == CMD_EXECUTOR_END) {
            __atomic_store_n(&box->state, MB_IDLE, __ATOMIC_RELEASE);
            return;
        }
        if (box->kind == CMD_SPAWN) {
            /* a process started by this executor's thread, here on home */
            const struct kucontext *uc = (const struct kucontext *)box->data;
            uint32_t fpsize;
            memcpy(&fpsize, box->data + sizeof *uc, 4);
            box->a[0] = thread_start_process(uc, box->data + sizeof *uc + 4, fpsize, box->a[1],
                                             (int *)box->a[3], box->a[2]);
            box->len = 0;                    /* nothing goes back but the result */
            __atomic_store_n(&box->state, MB_REPLY, __ATOMIC_RELEASE);
            chan_post((uint64_t)UP_EXEC_DONE << 56 | (uint64_t)slot << 40);
            continue;
        }
        struct mseg seg[MSEG_MAX];
        long a[6];
        int nseg = box_call_args(box, seg, a);
        long nr = box->a[0], r;
        uint64_t held = sigcarry_hold();
        if (nseg < 0)
            r = nseg;
        else if (fd_guard(nr, a, &r))
            ;                                /* the same rule as on the caller's side */
        else if (nr == PSHARE_NR_futex)
            r = futex_here(a);
        else if (nr == PSHARE_NR_rt_sigtimedwait)
            r = sigwait_at_home(a, slot);   /* the thread's wait, at home */
        else if ((nr == PSHARE_NR_tgkill || nr == PSHARE_NR_tkill))
            r = signal_thread(nr == PSHARE_NR_tgkill ? a[1] : a[0], nr == PSHARE_NR_tgkill ? a[2] : a[1]);
        else {
            mem_pull_before(nr, a);          /* msync, exit_group: a file's pages come home */
            r = fd_exec(nr, a);
            sigcarry_raised(slot, r);        /* SIGPIPE, SIGXFSZ: the thread's, before the answer */
        }
        sigcarry_release(held);
        box_call_answer(box, seg, nseg, r);
        __atomic_store_n(&box->state, MB_REPLY, __ATOMIC_RELEASE);
        chan_post((uint64_t)UP_EXEC_DONE << 56 | (uint64_t)slot << 40);
    }
}

/* A signal for a thread of this rank, as a tgkill within the one process
 * gives it: from home's pid (the app's getpid), not this rank's.  glibc's
 * SIGCANCEL handler ignores a signal whose si_pid is not getpid(), so a
 * thread on another rank could not be cancelled.  Only the thread itself may
 * queue a signal that says SI_TKILL with a pid of our choosing: off home it
 * is asked to (thread_forward_signal), on home tgkill says the truth. */
static long tgkill_local(int tid, long sig)
{
    if (rt.is_home || sig == 0)
        return sys3(PSHARE_NR_tgkill, sys0(PSHARE_NR_getpid), tid, sig);
    return thread_forward_signal(tid, sig, PSHARE_SIG_TKILL);
}

/* A signal for a cluster-wide tid: a thread of this rank, or (on home) the
 * executor of a thread elsewhere, in which case the agent carries it. */
long signal_thread(long tid, long sig)
{
    int slot = thread_slot_of_tid(tid);
    if (slot >= 0 && thread_slot_is_executor(slot)) {
        chan_post((uint64_t)UP_SIGNAL << 56 | (uint64_t)slot << 40 | (uint64_t)sig);
        return 0;
    }
    if (slot >= 0) {
        long r = tgkill_local(thread_slot_tid(slot), sig);
        futex_signalled(slot);        /* a futex wait looks at its signals now */
        return r;
    }
    return sys3(PSHARE_NR_tgkill, sys0(PSHARE_NR_getpid), tid, sig);
}

/* ---- the control thread ---- */

static void control_loop(void *arg)
{
    (void)arg;
    int slot = thread_slot_index();
    struct pshare_mbox *box = chan_box(slot);
    for (;;) {
        slice_follows_contention(slot);
        chan_wait_command(box, 1);
        long r = 0;
        switch (box->kind) {
        case CMD_PROTECT:
            r = dsm_set_run(box->a[0], box->a[2] > 1 ? box->a[2] : 1, box->a[1]);
            break;
        case CMD_SPAWN: {
            const struct kucontext *uc = (const struct kucontext *)box->data;
            uint32_t fpsize;
            memcpy(&fpsize, box->data + sizeof *uc, 4);
            r = thread_spawn_local(uc, box->data + sizeof *uc + 4, fpsize, box->a[1],
                                   0, (int *)box->a[3], box->a[2], box->a[4],
                                   (box->a[1] & K_CLONE_PARENT_SETTID) ? (int *)box->a[5] : 0);
            box->a[1] = IS_ERR(r) ? -1 : thread_slot_of_tid(box->a[4] ? box->a[4] : r);
            break;
        }
        case CMD_EXECUTOR: {
            int s = -1;
            r = runtime_thread(executor_loop, 0, &s);
            box->a[1] = s;
            if (!IS_ERR(r))
                thread_mark_executor(s, r);
            break;
        }
        case CMD_GLOBAL:
            r = apply_global(box);
            break;
        case CMD_SIGNAL:
            r = sigcarry_deliver(box->a);
            break;
        case CMD_TCALL: {
            struct mseg seg[MSEG_MAX];
            long a[6];
            int nseg = box_call_args(box, seg, a);
            r = nseg < 0 ? nseg : schedcall_run(box->a[0], a, box->tcall_tid);
            box_call_answer(box, seg, nseg, r);
            break;
        }
        }
        box->a[0] = r;
        chan_reply(box);
    }
}

/* Home: a runtime thread.  Elsewhere the initial thread becomes it. */
long control_start(void)
{
    int slot;
    long r = runtime_thread(control_loop, 0, &slot);
    /* published before the runtime says RUNNING: the agent reads it then */
    atomic_store(&rt.ctl->control_slot, slot);
    return r;
}

void control_run(void)
{
    atomic_store(&rt.ctl->control_slot, thread_slot_index());
    block_app_signals();
    control_loop(0);
    for (;;)
        sys0(PSHARE_NR_pause);
}
