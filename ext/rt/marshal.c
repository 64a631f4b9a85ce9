/*
 * marshal.c - system calls on bounce buffers.
 *
 * With more than one rank the kernel may not touch app memory directly: a
 * page may be absent here (the kernel answers EFAULT, it does not fault) or
 * be taken away while a blocking call waits.  So, from the table's pointer
 * descriptors, the calling thread copies the call's input into a buffer
 * (touching app memory in user mode, where the DSM serves faults), the call
 * runs on the buffer - here, or forwarded to home by data - and the thread
 * copies the output back.  Pointers the table cannot describe go through as
 * they are, after their first page is touched.
 *
 * Arguments that point into the buffer travel as offsets (bit i of `rel` set
 * for argument i): the buffer is at another address on the executing side.
 *
 * Forwarded, only moving bytes travel (marshal_pack_in and friends): the
 * request carries the input bytes and a table of the buffer's segments, the
 * executor gets every segment at its offset (output-only ones as they are:
 * uninitialised), and the answer carries only the bytes the call reports it
 * wrote, by the same rule (out_len) on both sides.
 */
#include "rt.h"

static int add(struct mspec *m, uint8_t *base, size_t cap, int arg, const void *app,
               size_t len, int dir, int kind)
{
    if (m->np == MSPEC_MAX)
        return -E_INVAL;
    size_t off = (m->used + 15) & ~(size_t)15;
    if (off + len > cap)
        return -E_NOMEM;
    struct mpart *p = &m->p[m->np++];
    p->arg = arg;
    p->app = (uintptr_t)app;
    p->off = off;
    p->len = len;
    p->dir = dir;
    p->kind = kind;
    if ((dir & ARG_IN) && len)
        memcpy(base + off, app, len);
    m->used = off + len;
    if (arg >= 0) {
        m->a[arg] = off;
        m->rel |= 1u << arg;
    }
    return 0;
}

/* Length clamped so the data fits: reads and writes become short, as they may. */
static size_t room(const struct mspec *m, size_t cap, size_t want)
{
    size_t off = (m->used + 15) & ~(size_t)15;
    size_t left = cap > off ? cap - off : 0;
    return want < left ? want : left;
}

/* The buffers of an iovec array as one contiguous run of the data (cut to
 * the room left: a stream's read or write gets shorter), a part each;
 * `laid`, when given, gets each entry's offset and length in the run.  The
 * run's offset (its length in *len), or -errno. */
static long add_iov_run(struct mspec *m, uint8_t *base, size_t cap, const struct kiov *iov,
                        long cnt, int dir, struct kiov *laid, size_t *len)
{
    size_t total = 0;
    for (long i = 0; i < cnt; i++)
        total += iov[i].len;
    size_t fits = room(m, cap, total), off = (m->used + 15) & ~(size_t)15, at = 0;
    for (long i = 0; i < cnt; i++) {
        size_t n = iov[i].len < fits - at ? iov[i].len : fits - at;
        if (laid)
            laid[i] = (struct kiov){ off + at, n };
        if (!n)
            continue;
        if (m->np == MSPEC_MAX)
            return -E_INVAL;
        m->p[m->np++] = (struct mpart){ .app = iov[i].base, .off = off + at, .len = n,
                                        .arg = -1, .dir = dir, .kind = ARG_IOV };
        if (dir & ARG_IN)
            memcpy(base + off + at, (const void *)iov[i].base, n);
        at += n;
    }
    m->used = off + fits;
    *len = fits;
    return (long)off;
}

static int add_iov(struct mspec *m, uint8_t *base, size_t cap, const long *a, int iov_arg,
                   int cnt_arg, int dir)
{
    /* readv/writev and friends become read/write of one flat buffer */
    long cnt = a[cnt_arg];
    if (cnt < 0 || cnt > 1024)
        return -E_INVAL;
    size_t len;
    long off = add_iov_run(m, base, cap, (const struct kiov *)a[iov_arg], cnt, dir, 0, &len);
    if (off < 0)
        return (int)off;
    m->a[iov_arg] = off;
    m->rel |= 1u << iov_arg;
    m->a[cnt_arg] = len;
    return 0;
}

/* ---- sendmsg, recvmsg, sendmmsg, recvmmsg: pointers inside the header ----
 *
 * The header is copied with its name, iovec and control pointers rewritten
 * to offsets into the data (0 stays NULL: nothing is at offset 0 but a
 * header), then the buffers it points to: the name, the iovec array (bases
 * rewritten to offsets), the data (contiguous, one segment), the control
 * bytes.  Received, the data comes back by the result (recvmsg: bytes, the
 * readv rule) or whole (recvmmsg: `whole`, copied in first so what the
 * kernel did not write stays the app's); the name and control bytes whole
 * (copied in first, likewise); of the header only what the kernel writes
 * (msghdr_out). */

static int add_msg(struct mspec *m, uint8_t *base, size_t cap, struct kmsghdr *h, int recv, int whole)
{
    int r;
    if (h->name) {
        r = add(m, base, cap, -1, (const void *)h->name, h->namelen, recv ? ARG_INOUT : ARG_IN,
                ARG_BUF_FIXED);
        if (r)
            return r;
        h->name = m->p[m->np - 1].off;
    }
    if (h->iovlen > 1024)
        return -E_MSGSIZE;                          /* the kernel's answer past UIO_MAXIOV */
    if (h->iovlen) {
        const struct kiov *iov = (const void *)h->iov;
        r = add(m, base, cap, -1, iov, h->iovlen * sizeof *iov, ARG_IN, ARG_IOVTAB);
        if (r)
            return r;
        h->iov = m->p[m->np - 1].off;
        size_t len;
        long off = add_iov_run(m, base, cap, iov, (long)h->iovlen,
                               !recv ? ARG_IN : whole ? ARG_INOUT : ARG_OUT,
                               (struct kiov *)(base + h->iov), &len);
        if (off < 0)
            return (int)off;
    }
    if (h->control) {
        if (room(m, cap, h->controllen) < h->controllen)
            return -E_NOBUFS;                       /* as past the kernel's optmem_max */
        r = add(m, base, cap, -1, (const void *)h->control, h->controllen,
                recv ? ARG_INOUT : ARG_IN, ARG_BUF_FIXED);
        if (r)
            return r;
        h->control = m->p[m->np - 1].off;
    }
    return 0;
}

/* The segments one message's buffers become (marshal_pack_in's rule). */
static int msg_segments(const struct kmsghdr *h)
{
    return (h->name && h->namelen) + 2 * (h->iovlen != 0) + (h->control && h->controllen);
}

static int marshal_msg(long nr, const long *args, struct mspec *m, uint8_t *base, size_t cap)
{
    int recv = nr == PSHARE_NR_recvmsg || nr == PSHARE_NR_recvmmsg;
    if (!args[1])
        return 0;                                   /* NULL: the kernel's EFAULT */
    if (nr == PSHARE_NR_sendmsg || nr == PSHARE_NR_recvmsg) {
        int r = add(m, base, cap, 1, (const void *)args[1], sizeof(struct kmsghdr),
                    recv ? ARG_INOUT : ARG_IN, ARG_MSGHDR);
        if (!r)
            m->p[m->np - 1].elem = sizeof(struct kmsghdr);
        return r ? r : add_msg(m, base, cap, (struct kmsghdr *)(base + m->a[1]), recv, 0);
    }
    /* the m variants: as many whole messages as the segment table and the
     * data hold (at least one), as the kernel may send or receive fewer */
    long vlen = (unsigned int)args[2] < 1024 ? (unsigned int)args[2] : 1024;
    int r, segs = 1;
    if (nr == PSHARE_NR_recvmmsg && args[4]) {
        r = add(m, base, cap, 4, (const void *)args[4], 16, ARG_INOUT, ARG_BUF_FIXED);
        if (r)
            return r;
        segs++;
    }
    const struct kmmsghdr *app = (const struct kmmsghdr *)args[1];
    long n = 0;
    for (; n < vlen; n++)
        if ((segs += msg_segments(&app[n].hdr)) > MSEG_MAX)
            break;
    if (!n && vlen)
        return -E_NOBUFS;
    r = add(m, base, cap, 1, app, n * sizeof *app, ARG_INOUT, ARG_MSGHDR);
    if (r)
        return r;
    struct mpart *vec = &m->p[m->np - 1];
    struct kmmsghdr *copy = (struct kmmsghdr *)(base + vec->off);
    vec->elem = sizeof *app;
    for (long i = 0; i < n; i++) {
        int np = m->np;
        size_t used = m->used;
        r = add_msg(m, base, cap, &copy[i].hdr, recv, recv);
        if (r && i) {                               /* it does not fit: one message fewer */
            m->np = np;
            m->used = used;
            n = i;
            break;
        }
        if (r)
            return r;
    }
    vec->len = n * sizeof *app;
    m->a[2] = n;
    return 0;
}

/* Reads every string of a NULL-terminated array, so that their pages are
 * here before the kernel reads them: a page on another rank is brought by
 * the fault the read takes, where the kernel would fail with EFAULT. */
static void present_strv(const char *const *v)
{
    for (; *v; v++)
        for (const volatile char *c = *v; *c; c++)
            ;
}

/* A NULL-terminated array of strings (forwarded) as one input part: the
 * array, its entries offsets into the data, then the strings.  The
 * kernel's E2BIG when it does not fit the mailbox. */
static int add_strv(struct mspec *m, uint8_t *base, size_t cap, int arg, const char *const *v)
{
    size_t n = 0, bytes = 0;
    for (; v[n]; n++)
        bytes += strlen(v[n]) + 1;
    size_t table = (n + 1) * sizeof(uint64_t);
    int r = add(m, base, cap, arg, v, table + bytes, 0, ARG_STRV);
    if (r)
        return r == -E_NOMEM ? -E_2BIG : r;
    struct mpart *p = &m->p[m->np - 1];
    uint64_t *entry = (uint64_t *)(base + p->off);
    size_t at = p->off + table;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(v[i]) + 1;
        entry[i] = at;
        memcpy(base + at, v[i], len);
        at += len;
    }
    entry[n] = 0;
    p->dir = ARG_IN;
    return 0;
}

/* Offsets back to addresses, on the side that runs the call. */
void marshal_rebase(uint8_t *base, uint32_t off, uint32_t len, uint32_t elem, int kind)
{
    if (kind == ARG_STRV) {
        for (uint32_t at = 0; at + sizeof(uint64_t) <= len; at += sizeof(uint64_t)) {
            uint64_t *entry = (uint64_t *)(base + off + at);
            if (!*entry)
                break;
            *entry += (uintptr_t)base;
        }
        return;
    }
    if (kind == ARG_IOVTAB) {
        for (uint32_t at = 0; at + sizeof(struct kiov) <= len; at += sizeof(struct kiov))
            ((struct kiov *)(base + off + at))->base += (uintptr_t)base;
        return;
    }
    if (kind != ARG_MSGHDR || !elem)
        return;
    for (uint32_t at = 0; at + sizeof(struct kmsghdr) <= len; at += elem) {
        struct kmsghdr *h = (struct kmsghdr *)(base + off + at);
        if (h->name)
            h->name += (uintptr_t)base;
        if (h->iov)
            h->iov += (uintptr_t)base;
        if (h->control)
            h->control += (uintptr_t)base;
    }
}

/* What the kernel writes of the headers: the lengths and flags (and each
 * mmsghdr's msg_len), never the app's pointers. */
static void msghdr_out(uintptr_t app, const uint8_t *from, size_t len, uint32_t elem)
{
    for (size_t at = 0; elem && at + sizeof(struct kmsghdr) <= len; at += elem) {
        struct kmsghdr *to = (struct kmsghdr *)(app + at);
        const struct kmsghdr *h = (const struct kmsghdr *)(from + at);
        to->namelen = h->namelen;
        to->controllen = h->controllen;
        to->flags = h->flags;
        if (elem == sizeof(struct kmmsghdr))
            ((struct kmmsghdr *)to)->len = ((const struct kmmsghdr *)h)->len;
    }
}

static unsigned long ioctl_size(unsigned long cmd, int *dir)
{
    unsigned long size = (cmd >> 16) & 0x3fff, d = cmd >> 30;
    if (d) {
        *dir = (d & 2 ? ARG_OUT : 0) | (d & 1 ? ARG_IN : 0);   /* _IOC_READ: kernel writes */
        return size;
    }
    switch (cmd) {                     /* the old tty ioctls carry no size */
    case 0x5401: *dir = ARG_OUT; return 60;          /* TCGETS */
    case 0x5402: case 0x5403: case 0x5404: *dir = ARG_IN; return 60;   /* TCSETS* */
    case 0x5413: *dir = ARG_OUT; return 8;           /* TIOCGWINSZ */
    case 0x5414: *dir = ARG_IN; return 8;            /* TIOCSWINSZ */
    case 0x541B: *dir = ARG_OUT; return 4;           /* FIONREAD */
    case 0x5421: case 0x5452: *dir = ARG_IN; return 4;   /* FIONBIO, FIOASYNC */
    case 0x540F: *dir = ARG_OUT; return 4;           /* TIOCGPGRP */
    case 0x5410: *dir = ARG_IN; return 4;            /* TIOCSPGRP */
    default: *dir = 0; return 0;
    }
}

/* Fill m from the call's arguments (`forwarded`: for another rank to run);
 * 0 or -errno. */
int marshal_in(long nr, const long *args, struct mspec *m, uint8_t *base, size_t cap, int forwarded)
{
    memset(m, 0, sizeof *m);
    m->nr = nr;
    for (int i = 0; i < 6; i++)
        m->a[i] = args[i];
    const struct pshare_sysent *e = &pshare_systab[nr];
    int r = 0;

    switch (nr) {                      /* pointers the table calls "ptr" */
    case PSHARE_NR_ioctl: {
        int dir;
        unsigned long size = ioctl_size(args[1], &dir);
        if (size && args[2])
            return add(m, base, cap, 2, (void *)args[2], size, dir, ARG_BUF_FIXED);
        return 0;
    }
    case PSHARE_NR_fcntl:
        switch (args[1]) {
        case 5: case 6: case 7:                    /* F_GETLK, F_SETLK, F_SETLKW */
        case 36: case 37: case 38:                 /* F_OFD_* */
            return add(m, base, cap, 2, (void *)args[2], 32, ARG_INOUT, ARG_BUF_FIXED);
        case 15: case 16:                          /* F_SETOWN_EX, F_GETOWN_EX */
            return add(m, base, cap, 2, (void *)args[2], 8, ARG_INOUT, ARG_BUF_FIXED);
        }
        return 0;
    case PSHARE_NR_sched_setattr: {           /* struct sched_attr: its size is its first field */
        if (!args[1])
            return 0;
        uint32_t size;
        memcpy(&size, (const void *)args[1], 4);
        size = size ? size : 48;                   /* 0: SCHED_ATTR_SIZE_VER0, as the kernel reads it */
        return add(m, base, cap, 1, (void *)args[1], size < 4096 ? size : 4096, ARG_IN, ARG_BUF_FIXED);
    }
    case PSHARE_NR_select:
    case PSHARE_NR_pselect6: {
        size_t set = ((size_t)args[0] + 63) / 64 * 8;
        for (int i = 1; i <= 3 && !r; i++)
            if (args[i])
                r = add(m, base, cap, i, (void *)args[i], set, ARG_INOUT, ARG_BUF_FIXED);
        if (!r && args[4])
            r = add(m, base, cap, 4, (void *)args[4], 16, ARG_INOUT, ARG_BUF_FIXED);
        if (!r && nr == PSHARE_NR_pselect6 && args[5])
            r = add(m, base, cap, 5, (void *)args[5], 16, ARG_IN, ARG_BUF_FIXED);
        return r;
    }
    case PSHARE_NR_accept:
    case PSHARE_NR_accept4:
    case PSHARE_NR_getsockname:
    case PSHARE_NR_getpeername:
    case PSHARE_NR_recvfrom: {
        int addr = nr == PSHARE_NR_recvfrom ? 4 : 1;
        if (nr == PSHARE_NR_recvfrom && args[1])
            r = add(m, base, cap, 1, (void *)args[1], room(m, cap, args[2]), ARG_OUT, ARG_BUF_ARG);
        if (!r && args[addr] && args[addr + 1]) {
            int len = *(int *)args[addr + 1];
            r = add(m, base, cap, addr + 1, (void *)args[addr + 1], 4, ARG_INOUT, ARG_BUF_FIXED);
            if (!r)
                r = add(m, base, cap, addr, (void *)args[addr], len > 0 ? len : 0, ARG_OUT, ARG_BUF_FIXED);
        }
        if (nr == PSHARE_NR_recvfrom)
            m->a[2] = m->np ? m->p[0].len : m->a[2];
        return r;
    }
    case PSHARE_NR_prctl:
        if (args[0] == K_PR_SET_NAME && args[1]) {      /* the kernel reads 15 bytes at most */
            size_t n = 0;
            while (n < 15 && ((const char *)args[1])[n])
                n++;
            return add(m, base, cap, 1, (const void *)args[1], n < 15 ? n + 1 : 15, ARG_IN,
                       ARG_BUF_FIXED);
        }
        if (args[0] == K_PR_GET_NAME && args[1])
            return add(m, base, cap, 1, (const void *)args[1], 16, ARG_OUT, ARG_BUF_FIXED);
        break;
    case PSHARE_NR_sendmsg:
    case PSHARE_NR_recvmsg:
    case PSHARE_NR_sendmmsg:
    case PSHARE_NR_recvmmsg:
        return marshal_msg(nr, args, m, base, cap);
    case PSHARE_NR_readv:
    case PSHARE_NR_preadv:
    case PSHARE_NR_preadv2:
        r = add_iov(m, base, cap, args, 1, 2, ARG_OUT);
        m->nr = nr == PSHARE_NR_readv ? PSHARE_NR_read : PSHARE_NR_pread64;
        return r;
    case PSHARE_NR_writev:
    case PSHARE_NR_pwritev:
    case PSHARE_NR_pwritev2:
        r = add_iov(m, base, cap, args, 1, 2, ARG_IN);
        m->nr = nr == PSHARE_NR_writev ? PSHARE_NR_write : PSHARE_NR_pwrite64;
        return r;
    }

    for (int i = 0; i < e->nargs && !r; i++) {
        uint32_t d = e->arg[i];
        const void *p = (const void *)args[i];
        int kind = pshare_arg_kind(d), dir = pshare_arg_dir(d);
        if (!p || kind == ARG_NONE || kind == ARG_FD)
            continue;
        switch (kind) {
        case ARG_STR:
            r = add(m, base, cap, i, p, strlen(p) + 1, ARG_IN, kind);
            break;
        case ARG_BUF_ARG: {
            size_t want = args[pshare_arg_index(d)];
            size_t len = room(m, cap, want);
            r = add(m, base, cap, i, p, len, dir, kind);
            if (!r && len < want)
                m->a[pshare_arg_index(d)] = len;
            break;
        }
        case ARG_BUF_FIXED:
            r = add(m, base, cap, i, p, pshare_arg_size(d), dir, kind);
            break;
        case ARG_ARR: {
            size_t n = args[pshare_arg_index(d)], sz = pshare_arg_size(d);
            if (n > (1UL << 20))
                return -E_INVAL;
            r = add(m, base, cap, i, p, n * sz, dir, kind);
            if (!r)
                m->p[m->np - 1].elem = sz;
            break;
        }
        case ARG_BUF_RV:
            r = add(m, base, cap, i, p, room(m, cap, 65536), dir, kind);
            break;
        case ARG_STRV:
            /* execve's argv, envp: their pages may be on a rank other than
             * the one that runs the call (a thread's stack elsewhere) */
            if (forwarded)
                r = add_strv(m, base, cap, i, p);
            else
                present_strv(p);      /* as they are: no limit but the kernel's */
            break;
        default:                      /* ARG_PTR, ARG_IOV without a rule: as it is */
            dsm_touch_arg(p);
            break;
        }
    }
    return r;
}

/* Execute m here with its data at base. */
long marshal_exec(const struct mspec *m, uint8_t *base, long (*exec)(long nr, const long *a))
{
    long a[6];
    for (int i = 0; i < 6; i++)
        a[i] = (m->rel & (1u << i)) ? (long)(base + m->a[i]) : m->a[i];
    for (int i = 0; i < m->np; i++)
        marshal_rebase(base, m->p[i].off, m->p[i].len, m->p[i].elem, m->p[i].kind);
    return exec(m->nr, a);
}

/* The bytes of an output part the call wrote, from its result (not an
 * error): buffers whose count is the result, arrays of returned elements,
 * the iovecs filled in order (`flat`: what is left of the result to spread),
 * whole fixed-size and in/out objects. */
static size_t out_len(unsigned dir, unsigned kind, size_t len, size_t elem, long ret, size_t *flat)
{
    size_t n = len;
    if (!(dir & ARG_OUT))
        return 0;
    if (kind == ARG_BUF_ARG || kind == ARG_BUF_RV)
        n = (size_t)ret < n ? (size_t)ret : n;
    else if (kind == ARG_ARR && dir == ARG_OUT)
        n = elem && (size_t)ret < n / elem ? (size_t)ret * elem : n;
    else if (kind == ARG_IOV && dir == ARG_OUT) {   /* ARG_INOUT (recvmmsg): whole */
        n = *flat < n ? *flat : n;
        *flat -= n;
    }
    return n;
}

/* n bytes the call wrote into part p, into the app's buffer. */
static void copy_out(const struct mpart *p, const uint8_t *from, size_t n)
{
    if (n && p->kind == ARG_MSGHDR)
        msghdr_out(p->app, from, n, p->elem);
    else if (n)
        memcpy((void *)p->app, from, n);
}

/* Copy the call's output back into app memory. */
void marshal_out(const struct mspec *m, const uint8_t *base, long ret)
{
    if (IS_ERR(ret))
        return;
    size_t flat = ret;                       /* bytes left to scatter for readv */
    for (int i = 0; i < m->np; i++) {
        const struct mpart *p = &m->p[i];
        size_t n = out_len(p->dir, p->kind, p->len, p->elem, ret, &flat);
        copy_out(p, base + p->off, n);
    }
}

/* ---- forwarded: only moving bytes travel ---- */

/* The request: the input bytes, in segment order, packed at the data's
 * start; then (8-aligned) the segment table.  m's parts become segments
 * (an iovec's pieces, contiguous, one).  Returns the bytes to send or
 * -errno; *tab = the table's offset, *nseg = its entries. */
long marshal_pack_in(const struct mspec *m, uint8_t *base, size_t cap, long *tab, long *nseg)
{
    struct mseg seg[MSEG_MAX];
    int ns = 0;
    size_t end = 0;
    for (int i = 0; i < m->np; i++) {
        const struct mpart *p = &m->p[i];
        if (!p->len || !p->dir)
            continue;
        if (p->off < end)
            return -E_INVAL;                 /* parts are laid out in order */
        struct mseg *last = ns ? &seg[ns - 1] : 0;
        if (last && p->kind == ARG_IOV && last->kind == ARG_IOV && last->dir == p->dir &&
            last->off + last->len == p->off) {
            last->len += p->len;             /* one flat buffer: the same rule */
        } else {
            if (ns == MSEG_MAX)
                return -E_INVAL;
            seg[ns++] = (struct mseg){ .off = p->off, .len = p->len, .elem = p->elem,
                                       .dir = p->dir, .kind = p->kind };
        }
        end = p->off + p->len;
    }
    size_t at = 0;
    for (int i = 0; i < ns; i++) {
        if (!(seg[i].dir & ARG_IN))
            continue;
        if (at != seg[i].off)
            memmove(base + at, base + seg[i].off, seg[i].len);   /* leftwards, in order */
        at += seg[i].len;
    }
    at = (at + 7) & ~(size_t)7;
    if (at + ns * sizeof *seg > cap)
        return -E_NOMEM;
    memcpy(base + at, seg, ns * sizeof *seg);
    *tab = at;
    *nseg = ns;
    return at + ns * sizeof *seg;
}

/* Executor: the request's input bytes back at their offsets (the segment
 * table copied out to seg first).  Returns the number of segments or -errno
 * (a request that does not describe itself). */
int marshal_unpack_in(uint8_t *base, size_t len, size_t cap, long tab, long nseg, struct mseg *seg)
{
    if (nseg < 0 || nseg > MSEG_MAX || tab < 0 || (size_t)tab + nseg * sizeof *seg > len)
        return -E_INVAL;
    memcpy(seg, base + tab, nseg * sizeof *seg);
    size_t from[MSEG_MAX], at = 0, end = 0;
    for (int i = 0; i < nseg; i++) {
        if (seg[i].off < end || (size_t)seg[i].off + seg[i].len > cap)
            return -E_INVAL;
        end = seg[i].off + seg[i].len;
        from[i] = at;
        if (seg[i].dir & ARG_IN)
            at += seg[i].len;
    }
    if (at > (size_t)tab)
        return -E_INVAL;
    for (int i = nseg - 1; i >= 0; i--)          /* rightwards, last first */
        if ((seg[i].dir & ARG_IN) && from[i] != seg[i].off)
            memmove(base + seg[i].off, base + from[i], seg[i].len);
    return nseg;
}

/* Executor: the answer: the bytes the call wrote into each output segment,
 * packed in order at the data's start.  Returns their number. */
size_t marshal_pack_out(const struct mseg *seg, int nseg, uint8_t *base, long ret)
{
    if (IS_ERR(ret))
        return 0;
    size_t flat = ret, at = 0;
    for (int i = 0; i < nseg; i++) {
        size_t n = out_len(seg[i].dir, seg[i].kind, seg[i].len, seg[i].elem, ret, &flat);
        if (n && at != seg[i].off)
            memmove(base + at, base + seg[i].off, n);                /* leftwards, in order */
        at += n;
    }
    return at;
}

/* Caller: the answer's packed output bytes (len of them) into app memory,
 * part by part, by the rule the executor packed them with. */
void marshal_out_packed(const struct mspec *m, const uint8_t *data, size_t len, long ret)
{
    if (IS_ERR(ret))
        return;
    size_t flat = ret, at = 0;
    for (int i = 0; i < m->np; i++) {
        const struct mpart *p = &m->p[i];
        if (!p->len || !p->dir)
            continue;
        size_t n = out_len(p->dir, p->kind, p->len, p->elem, ret, &flat);
        if (n > len - at)
            n = len - at;                    /* never past what came */
        copy_out(p, data + at, n);
        at += n;
    }
}
