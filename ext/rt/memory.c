/*
 * memory.c - the region table and the address-space system calls.
 *
 * Every private writable mapping of the app (data/bss of every object, the
 * brk heap, the main stack, anonymous mappings) is backed by the page store:
 * a memfd shared with the agent, mapped MAP_SHARED|MAP_FIXED at the address
 * the app knows.  The region table says, for each such range, where its
 * contents live in the store and what protection the app asked for.
 *
 * Invariants:
 *   - regions are sorted, disjoint and page aligned; a page's store offset is
 *     its address (the store is a sparse file as large as the address space),
 *     so every rank and the agent find a page at the same offset;
 *   - the table changes only under mem_lock with the app's signals blocked
 *     (an app handler that calls malloc must not find the lock held);
 *   - memory leaving the table is punched out of the store, so freed memory
 *     is returned and reads back as zeroes, as for private anonymous memory.
 * Read-only file mappings stay native, and so do shared mappings (MAP_SHARED,
 * file or anonymous) with one rank.  With several, a writable shared file
 * mapping or a shared anonymous one is a shared region: on home the app's
 * mapping is the file itself (or a memfd standing in for the anonymous
 * memory), so files, other processes and forked children see what home's
 * copy holds, and the engine reads and writes its pages through it
 * (struct pshare_backing); elsewhere it is store memory the DSM fills, as
 * any region.  Pages a thread on another rank wrote reach the file when they
 * come back to home: any touch there, and msync, munmap and exit_group,
 * which bring a file's pages home first (mem_pull_shared).
 * With more than one rank every change here is made by the control thread
 * (control.c), and dsm.c keeps the page states in step.
 */
#include "rt.h"

/* Room for more regions than the kernel allows mappings (vm.max_map_count,
 * 65530 by default; each region is at least one): reserved, not committed.
 * An operation that could not record its regions fails first with ENOMEM,
 * the kernel's answer for too many mappings, before it changes anything. */
#define MAX_REGIONS (1UL << 21)
#define REGION_OP_MAX 4           /* regions one operation may add: two splits, an insert, one spare */
#define STACK_RESERVE_MAX (64UL << 20)

/* What backs a region (see the top): the store, or for a shared region
 * home's own mapping of it, or (elsewhere) the store as its copy. */
enum { BACKED_STORE, SHARED_ANON, SHARED_FILE, SHARED_COPY };

struct region {
    uintptr_t start, end;
    int prot;                     /* the app's protection */
    int backed;                   /* BACKED_STORE or a shared region's kind */
};

static struct region *regions;    /* in private memory, MAX_REGIONS entries */
static size_t nregions;
static uint64_t npages;           /* pages in the table, kept as it changes */
static uintptr_t brk_start, brk_cur;
static int mem_lock;

/* ---- locking: the table lock is taken with the app's signals blocked ---- */

static uint64_t lock_table(void)
{
    uint64_t all = ~RT_RESERVED_SIGS, old;
    sys4(PSHARE_NR_rt_sigprocmask, K_SIG_BLOCK, &all, &old, 8);
    rt_lock(&mem_lock);
    return old;
}

static void unlock_table(uint64_t old)
{
    rt_unlock(&mem_lock);
    sys4(PSHARE_NR_rt_sigprocmask, K_SIG_SETMASK, &old, 0, 8);
}

/* ---- the store: offset = address ---- */

static void store_punch(uintptr_t addr, size_t len)
{
    sys4(PSHARE_NR_fallocate, rt.store_fd, K_FALLOC_FL_PUNCH_HOLE | K_FALLOC_FL_KEEP_SIZE, addr, len);
}

/* Map the store over [addr, addr+len): the app's protection on home (or with
 * one rank), none elsewhere until the DSM brings the pages. */
static long map_store(uintptr_t addr, size_t len, int prot, int extra)
{
    long r = sys6(PSHARE_NR_mmap, addr, len, rt.dsm ? dsm_initial_prot(prot) : prot,
                  K_MAP_SHARED | K_MAP_FIXED | extra, rt.store_fd, addr);
    if (!IS_ERR(r)) {
        uffd_register(addr, len);
        dsm_manage(addr, addr + len, prot);
    }
    return r;
}

/* ---- the table ---- */

/* Under the lock, before an operation changes anything. */
static int table_room(void)
{
    return nregions + REGION_OP_MAX <= MAX_REGIONS;
}

static void account(void)
{
    uint64_t pages = npages;
    atomic_store(&rt.ctl->regions, nregions);
    atomic_store(&rt.ctl->pages_managed, pages);
    if (nregions > rt.ctl->regions_peak)
        atomic_store(&rt.ctl->regions_peak, nregions);
    if (pages > rt.ctl->pages_managed_peak)
        atomic_store(&rt.ctl->pages_managed_peak, pages);
}

/* index of the first region whose end is above addr */
static size_t first_above(uintptr_t addr)
{
    size_t lo = 0, hi = nregions;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (regions[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static struct region *region_of(uintptr_t addr)
{
    size_t i = first_above(addr);
    return (i < nregions && regions[i].start <= addr) ? &regions[i] : 0;
}

static int insert_at(size_t i, struct region r)
{
    if (nregions == MAX_REGIONS)
        return -E_NOMEM;
    memmove(&regions[i + 1], &regions[i], (nregions - i) * sizeof r);
    regions[i] = r;
    nregions++;
    npages += (r.end - r.start) / PAGE_SIZE;
    return 0;
}

/* Split the region containing addr so that a region boundary falls on addr. */
static int split_at(uintptr_t addr)
{
    size_t i = first_above(addr);
    if (i == nregions || regions[i].start >= addr)
        return 0;
    if (nregions == MAX_REGIONS)
        return -E_NOMEM;             /* never: every operation checks its room first */
    struct region hi = regions[i];
    hi.start = addr;
    npages -= (hi.end - addr) / PAGE_SIZE;
    regions[i].end = addr;
    return insert_at(i + 1, hi);
}

/* Drop [lo, hi) from the table; with punch, free its store pages too. */
static void table_remove(uintptr_t lo, uintptr_t hi, int punch)
{
    split_at(lo);
    split_at(hi);
    size_t i = first_above(lo), j = i;
    for (; j < nregions && regions[j].start < hi; j++) {
        if (punch)
            store_punch(regions[j].start, regions[j].end - regions[j].start);
        dsm_unmanage(regions[j].start, regions[j].end);
        npages -= (regions[j].end - regions[j].start) / PAGE_SIZE;
    }
    /* one move for the whole range: erasing one by one is quadratic */
    memmove(&regions[i], &regions[j], (nregions - j) * sizeof regions[0]);
    nregions -= j - i;
}

static int table_insert_backed(uintptr_t start, uintptr_t end, int prot, int backed)
{
    size_t i = first_above(start);
    if (i > 0 && backed == BACKED_STORE) {       /* extend the neighbour below */
        struct region *p = &regions[i - 1];
        if (p->end == start && p->prot == prot && p->backed == BACKED_STORE) {
            npages += (end - start) / PAGE_SIZE;
            p->end = end;
            return 0;
        }
    }
    return insert_at(i, (struct region){ start, end, prot, backed });
}

static int table_insert(uintptr_t start, uintptr_t end, int prot)
{
    return table_insert_backed(start, end, prot, BACKED_STORE);
}

static void table_protect(uintptr_t lo, uintptr_t hi, int prot)
{
    split_at(lo);
    split_at(hi);
    for (size_t i = first_above(lo); i < nregions && regions[i].start < hi; i++)
        regions[i].prot = prot;
}

/* Put [addr, addr+len) into the store: home (or a lone rank) copies what is
 * there; other ranks get the pages from home through the DSM. */
static long adopt(uintptr_t addr, size_t len, int prot, uintptr_t copy_lo, uintptr_t copy_hi)
{
    if (copy_hi > copy_lo && (!rt.dsm || rt.is_home)) {
        if (!(prot & K_PROT_READ))
            sys3(PSHARE_NR_mprotect, copy_lo, copy_hi - copy_lo, prot | K_PROT_READ);
        long tmp = sys6(PSHARE_NR_mmap, 0, copy_hi - copy_lo, K_PROT_READ | K_PROT_WRITE, K_MAP_SHARED,
                        rt.store_fd, copy_lo);
        if (IS_ERR(tmp))
            return tmp;
        memcpy((void *)tmp, (void *)copy_lo, copy_hi - copy_lo);
        sys2(PSHARE_NR_munmap, tmp, copy_hi - copy_lo);
    }
    long r = map_store(addr, len, prot, 0);
    if (IS_ERR(r))
        return r;
    return table_insert(addr, addr + len, prot);
}

/* ---- start-up: move the app's writable memory into the store ---- */

struct map_line {
    uintptr_t start, end;
    int prot, shared;
    const char *path;              /* NUL-terminated, "" for anonymous */
};

static uintptr_t parse_hex(const char **p)
{
    uintptr_t v = 0;
    for (;;) {
        char c = **p;
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
        if (d < 0)
            return v;
        v = v * 16 + d;
        (*p)++;
    }
}

/* Parse one line of /proc/self/maps in place; returns the next line. */
static char *parse_map_line(char *s, struct map_line *m)
{
    const char *p = s;
    m->start = parse_hex(&p);
    p++;
    m->end = parse_hex(&p);
    p++;
    m->prot = (p[0] == 'r' ? K_PROT_READ : 0) | (p[1] == 'w' ? K_PROT_WRITE : 0) | (p[2] == 'x' ? K_PROT_EXEC : 0);
    m->shared = p[3] == 's';
    for (int field = 0; field < 4; field++) {        /* perms offset dev inode */
        while (*p && *p != ' ' && *p != '\n')
            p++;
        while (*p == ' ')
            p++;
    }
    char *path = (char *)p;
    char *e = path;
    while (*e && *e != '\n')
        e++;
    char *next = *e ? e + 1 : e;
    *e = 0;
    m->path = path;
    return next;
}

extern char _end[] HIDDEN;        /* the end of the runtime's own bss */

static int is_ours(const struct map_line *m, const char *self_path)
{
    if (rt_is_private(m->start, m->end))
        return 1;
    /* a bss larger than its last file page is an anonymous mapping of ours */
    if (m->path[0] == 0 && m->start < PAGE_UP((uintptr_t)_end) && m->end > (uintptr_t)&rt)
        return 1;
    return self_path && *self_path && m->path[0] && !memcmp(m->path, self_path, strlen(self_path) + 1);
}

static long read_maps(char *buf, size_t cap)
{
    long fd = sys4(PSHARE_NR_openat, K_AT_FDCWD, "/proc/self/maps", K_O_RDONLY | K_O_CLOEXEC, 0);
    if (IS_ERR(fd))
        return fd;
    size_t n = 0;
    for (;;) {
        long r = sys3(PSHARE_NR_read, fd, buf + n, cap - 1 - n);
        if (r <= 0)
            break;
        n += r;
        if (n == cap - 1) {
            sys1(PSHARE_NR_close, fd);
            return -E_NOMEM;
        }
    }
    sys1(PSHARE_NR_close, fd);
    buf[n] = 0;
    return n;
}

struct init_args {
    char *maps;
    long result;
};

static void migrate(void *arg)
{
    struct init_args *a = arg;
    struct map_line m, prev = { 0 };
    const char *self_path = 0;
    uintptr_t self_addr = (uintptr_t)&migrate;

    /* our own library: every mapping of the file the code of migrate() is in */
    for (char *s = a->maps; *s;) {
        char *next = parse_map_line(s, &m);
        if (self_addr >= m.start && self_addr < m.end)
            self_path = m.path;
        s = next;
        if (*s)
            s[-1] = '\n';    /* parse_map_line cut it; restore for the second pass */
    }

    for (char *s = a->maps; *s; prev = m) {
        s = parse_map_line(s, &m);
        if (m.shared || is_ours(&m, self_path))
            continue;
        int anon = m.path[0] == 0 || str_starts(m.path, "[anon") || str_starts(m.path, "[heap]");
        int stack = str_starts(m.path, "[stack]");
        if (!anon && !stack && (m.path[0] == '[' || !(m.prot & K_PROT_WRITE)))
            continue;                /* text, rodata, relro, vdso, vvar: the same files everywhere */
        long r;
        if (stack) {
            /* Give the stack room to grow: the store mapping does not grow down. */
            struct { uint64_t cur, max; } lim;
            sys2(PSHARE_NR_getrlimit, K_RLIMIT_STACK, &lim);
            uintptr_t reserve = lim.cur > STACK_RESERVE_MAX ? STACK_RESERVE_MAX : PAGE_UP(lim.cur);
            uintptr_t lo = m.end - reserve;
            if (lo > m.start)
                lo = m.start;
            if (lo < prev.end + (1UL << 20))
                lo = m.start;
            r = adopt(lo, m.end - lo, m.prot, m.start, m.end);
        } else {
            if (str_starts(m.path, "[heap]"))
                brk_start = m.start;
            r = adopt(m.start, m.end - m.start, m.prot, m.start, m.prot ? m.end : m.start);
        }
        if (IS_ERR(r)) {
            a->result = r;
            return;
        }
    }
    a->result = 0;
}

/* prctl(PR_SET_MM, PR_SET_MM_MAP): the kernel's struct prctl_mm_map */
struct mm_map {
    uint64_t start_code, end_code, start_data, end_data, start_brk, brk, start_stack;
    uint64_t arg_start, arg_end, env_start, env_end;
    uint64_t auxv;
    uint32_t auxv_size, exe_fd;
};

/* The fields of /proc/self/stat this needs (1-based field numbers). */
static int read_mm_fields(struct mm_map *m)
{
    char buf[2048];                      /* 52 fields of at most 20 digits */
    long fd = sys4(PSHARE_NR_openat, K_AT_FDCWD, "/proc/self/stat", K_O_RDONLY | K_O_CLOEXEC, 0);
    if (IS_ERR(fd))
        return -1;
    long n = sys3(PSHARE_NR_read, fd, buf, sizeof buf - 1);
    sys1(PSHARE_NR_close, fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    const char *p = buf + n;
    while (p > buf && *p != ')')        /* the name may hold spaces and ')' */
        p--;
    if (*p != ')')
        return -1;
    static const struct { int field; size_t off; } want[] = {
        { 26, __builtin_offsetof(struct mm_map, start_code) },
        { 27, __builtin_offsetof(struct mm_map, end_code) },
        { 28, __builtin_offsetof(struct mm_map, start_stack) },
        { 45, __builtin_offsetof(struct mm_map, start_data) },
        { 46, __builtin_offsetof(struct mm_map, end_data) },
        { 47, __builtin_offsetof(struct mm_map, start_brk) },
        { 48, __builtin_offsetof(struct mm_map, arg_start) },
        { 49, __builtin_offsetof(struct mm_map, arg_end) },
        { 50, __builtin_offsetof(struct mm_map, env_start) },
        { 51, __builtin_offsetof(struct mm_map, env_end) },
    };
    size_t w = 0;
    p++;                                 /* now at " S ..." : field 3 follows */
    for (int field = 3; *p && w < sizeof want / sizeof want[0]; field++) {
        while (*p == ' ')
            p++;
        if (field == want[w].field) {
            uint64_t v = 0;
            while (*p >= '0' && *p <= '9')
                v = v * 10 + (*p++ - '0');
            *(uint64_t *)((char *)m + want[w].off) = v;
            w++;
        }
        while (*p && *p != ' ')
            p++;
    }
    return w == sizeof want / sizeof want[0] ? 0 : -1;
}

/* /proc/PID/cmdline and /proc/PID/environ are read by the kernel from
 * anonymous memory only (FOLL_ANON), and the stack that holds the strings
 * moves into the store, a shared mapping: both would read as empty (ps shows
 * "[prog]", pgrep -f misses it).  Point the kernel at a private copy of the
 * strings instead, taken before the app can change them.  PR_SET_MM_MAP needs
 * no privilege when exe_fd is -1; if the kernel refuses, they stay empty. */
static size_t args_len(const struct mm_map *m)
{
    if (m->arg_start == 0 || m->arg_start > m->arg_end || m->arg_end > m->env_start ||
        m->env_start > m->env_end || m->env_end - m->arg_start > (64UL << 20))
        return 0;
    return PAGE_UP(m->env_end - m->arg_start);
}

static void keep_args_visible(struct mm_map *m, char *copy)
{
    memcpy(copy, (void *)m->arg_start, m->env_end - m->arg_start);
    uint64_t shift = (uintptr_t)copy - m->arg_start;
    m->arg_start += shift;
    m->arg_end += shift;
    m->env_start += shift;
    m->env_end += shift;
    m->brk = sys1(PSHARE_NR_brk, 0);
    m->auxv = 0;
    m->auxv_size = 0;                    /* 0: the auxiliary vector stays */
    m->exe_fd = (uint32_t)-1;            /* -1: the exe link stays (no privilege needed) */
    sys5(PSHARE_NR_prctl, K_PR_SET_MM, K_PR_SET_MM_MAP, m, sizeof *m, 0);
}

long memory_init(void)
{
    size_t maps_cap = 1 << 20;
    size_t table = MAX_REGIONS * sizeof(struct region);
    struct mm_map mm;
    size_t args = read_mm_fields(&mm) ? 0 : args_len(&mm);
    long p = sys6(PSHARE_NR_mmap, 0, table + maps_cap + args, K_PROT_READ | K_PROT_WRITE,
                  K_MAP_PRIVATE | K_MAP_ANONYMOUS | K_MAP_NORESERVE, -1, 0);
    if (IS_ERR(p))
        return p;
    regions = (struct region *)p;
    rt_private((void *)p, table + maps_cap + args);
    if (args)
        keep_args_visible(&mm, (char *)p + table + maps_cap);
    struct init_args a = { (char *)p + table, 0 };
    long n = read_maps(a.maps, maps_cap);
    if (IS_ERR(n))
        return n;
    long brk0 = sys1(PSHARE_NR_brk, 0);
    migrate(&a);                /* the caller runs us on a runtime stack */
    brk_cur = brk0;
    if (!brk_start)
        brk_start = brk0;
    account();
    return a.result;
}

/* ---- the address-space calls ---- */

static long mmap_in_store(uintptr_t addr, size_t len, int prot, int flags, int fd, long off,
                          int backed);

long mem_mmap(uintptr_t addr, size_t len, int prot, int flags, int fd, long off)
{
    int anon = flags & K_MAP_ANONYMOUS;
    if ((flags & K_MAP_TYPE) != K_MAP_PRIVATE || (!anon && !(prot & K_PROT_WRITE)) || len == 0) {
        uint64_t old = lock_table();
        if (!table_room()) {
            unlock_table(old);
            return -E_NOMEM;
        }
        long r = sys6(PSHARE_NR_mmap, addr, len, prot, flags, fd, off);
        if (!IS_ERR(r) && (flags & K_MAP_FIXED)) {
            table_remove(r, r + PAGE_UP(len), 1);
            account();
        }
        unlock_table(old);
        return r;
    }
    return mmap_in_store(addr, len, prot, flags, fd, off, BACKED_STORE);
}

/* Another rank's replay of a shared region home made (control.c: its
 * flags say private anonymous memory): store memory at the same address,
 * its pages home's until the DSM brings them. */
long mem_mmap_copy(uintptr_t addr, size_t len, int prot, int flags)
{
    return mmap_in_store(addr, len, prot, flags, -1, 0, SHARED_COPY);
}

/* Home: a descriptor number of ours where a shared region's backing waits
 * for the engine (rt.xfer_fd), made at the first shared mapping: an app
 * that makes none keeps every number but pshare's top two (fds.c).  0 when
 * there is none (the number below ours is the app's): shared mappings then
 * stay native, each rank's own, as with one rank. */
int mem_xfer_ready(void)
{
    if (rt.xfer_fd >= 0)
        return 1;
    if (!rt.dsm || !rt.is_home || rt.xfer_fd == -2)
        return 0;
    long fd = sys1(PSHARE_NR_dup, rt.store_fd), kept = fd;
    if (!IS_ERR(fd))
        kept = fds_keep(fd);
    if (IS_ERR(kept)) {
        if (!IS_ERR(fd))
            sys1(PSHARE_NR_close, fd);
        rt.xfer_fd = -2;                       /* asked once */
        return 0;
    }
    rt.xfer_fd = (int)kept;
    return 1;
}

/* Home: a shared region (see the top), mapped where the kernel puts the
 * app's own mapping; its backing waits at rt.xfer_fd for the engine.  An
 * anonymous one is a memfd of its size (the kernel's MAP_SHARED|
 * MAP_ANONYMOUS is a shmem file too: the same memory to a forked child). */
long mem_mmap_backed(uintptr_t addr, size_t len, int prot, int flags, int fd, long off,
                     struct pshare_backing *backing)
{
    int anon = flags & K_MAP_ANONYMOUS;
    if (len == 0)
        return -E_INVAL;
    uint64_t old = lock_table();
    long r = -E_NOMEM, mfd = fd;
    if (!table_room())
        goto out;
    if (anon) {
        mfd = sys2(PSHARE_NR_memfd_create, "pshare-shared", K_MFD_CLOEXEC);
        if (IS_ERR(mfd))
            goto out;                          /* no descriptor left: no memory, as mmap says */
        r = sys2(PSHARE_NR_ftruncate, mfd, PAGE_UP(len));
        if (IS_ERR(r))
            goto close;
        flags &= ~K_MAP_ANONYMOUS;
        off = 0;
    }
    r = sys6(PSHARE_NR_mmap, addr, len, prot, flags, mfd, off);
    if (IS_ERR(r))
        goto close;
    long kept = fds_replace(mfd, rt.xfer_fd);
    if (IS_ERR(kept)) {
        sys2(PSHARE_NR_munmap, r, len);
        r = kept;
        goto close;
    }
    backing->fd = rt.xfer_fd;
    backing->offset = off;
    table_remove(r, r + PAGE_UP(len), 1);      /* what a MAP_FIXED one replaced */
    dsm_manage(r, r + PAGE_UP(len), prot);     /* home's, writable: state 0 */
    table_insert_backed(r, r + PAGE_UP(len), prot, anon ? SHARED_ANON : SHARED_FILE);
    account();
close:
    if (anon)
        sys1(PSHARE_NR_close, mfd);
out:
    unlock_table(old);
    return r;
}

/* Which shared regions [addr, addr+len) meets: 1 any, 2 also store memory. */
int mem_shared_kind(uintptr_t addr, size_t len)
{
    uint64_t old = lock_table();
    uintptr_t lo = PAGE_DOWN(addr), hi = PAGE_UP(addr + len);
    int kind = 0;
    for (size_t i = first_above(lo); i < nregions && regions[i].start < hi; i++)
        kind |= regions[i].backed == BACKED_STORE ? 2 : 1;
    unlock_table(old);
    return kind & 1 ? kind : 0;
}

/* Home: the pages of shared file regions in [lo, hi) that other ranks hold
 * come back, so that the file holds what the app wrote (msync, munmap,
 * exit_group): a copy here is the file's page.  The table is not held
 * while a page comes (a fault may need it). */
void mem_pull_shared(uintptr_t lo, uintptr_t hi)
{
    if (!rt.dsm || !rt.is_home)
        return;
    for (uintptr_t at = PAGE_DOWN(lo); at < hi;) {
        uintptr_t s = 0, e = 0;
        uint64_t old = lock_table();
        for (size_t i = first_above(at); i < nregions && regions[i].start < hi; i++)
            if (regions[i].backed == SHARED_FILE && (regions[i].prot & K_PROT_READ)) {
                s = regions[i].start > at ? regions[i].start : at;
                e = regions[i].end < hi ? regions[i].end : hi;
                break;
            }
        unlock_table(old);
        if (e <= s)
            return;
        dsm_pull(s, e);
        at = e;
    }
}

/* Home, before a call that must find a file holding what the app wrote
 * through its shared mappings: msync and munmap of their range, exit_group
 * of all (a thread of another rank has msync forwarded: dispatch.c). */
void mem_pull_before(long nr, const long *a)
{
    if (nr == PSHARE_NR_msync || nr == PSHARE_NR_munmap)
        mem_pull_shared(a[0], a[0] + a[1]);
    else if (nr == PSHARE_NR_exit_group)
        mem_pull_shared(0, ~(uintptr_t)0);
}

static long mmap_in_store(uintptr_t addr, size_t len, int prot, int flags, int fd, long off,
                          int backed)
{
    int anon = flags & K_MAP_ANONYMOUS;
    len = PAGE_UP(len);
    if ((flags & K_MAP_FIXED) && (addr & (PAGE_SIZE - 1)))
        return -E_INVAL;
    uint64_t old = lock_table();
    long r = -E_NOMEM;
    uintptr_t a = addr;
    if (!table_room())
        goto out;
    if (!(flags & K_MAP_FIXED)) {
        /* Let the kernel choose the address, as natively. */
        r = sys6(PSHARE_NR_mmap, addr, len, 0,
                 K_MAP_PRIVATE | K_MAP_ANONYMOUS | K_MAP_NORESERVE | (flags & K_MAP_FIXED_NOREPLACE), -1, 0);
        if (IS_ERR(r))
            goto out;
        a = r;
    }
    store_punch(a, len);               /* fresh pages: zeroes, whatever was here before */
    if (!anon) {
        /* A writable private file mapping: its first contents come from the file. */
        long tmp = sys6(PSHARE_NR_mmap, 0, len, K_PROT_READ | K_PROT_WRITE, K_MAP_SHARED, rt.store_fd, a);
        if (IS_ERR(tmp)) {
            r = tmp;
            goto out;
        }
        for (size_t done = 0; done < len;) {
            long n = sys4(PSHARE_NR_pread64, fd, tmp + done, len - done, off + done);
            if (n <= 0) {
                if (n < 0 && done == 0) {
                    sys2(PSHARE_NR_munmap, tmp, len);
                    r = n;
                    goto out;
                }
                break;
            }
            done += n;
        }
        sys2(PSHARE_NR_munmap, tmp, len);
    }
    table_remove(a, a + len, 0);
    r = map_store(a, len, prot, flags & K_MAP_POPULATE);
    if (IS_ERR(r))
        goto out;
    table_insert_backed(a, a + len, prot, backed);
    account();
    r = a;
out:
    unlock_table(old);
    return r;
}

/* The kernel call and the table change happen under one lock: otherwise a
 * racing mmap could be handed the freed range and lose its new region. */
long mem_munmap(uintptr_t addr, size_t len)
{
    uint64_t old = lock_table();
    if (!table_room()) {
        unlock_table(old);
        return -E_NOMEM;
    }
    long r = sys2(PSHARE_NR_munmap, addr, len);
    if (!IS_ERR(r)) {
        table_remove(addr, addr + PAGE_UP(len), 1);
        account();
    }
    unlock_table(old);
    return r;
}

long mem_mprotect(uintptr_t addr, size_t len, int prot)
{
    uint64_t old = lock_table();
    long r;
    uintptr_t lo = addr, hi = addr + PAGE_UP(len);
    if (!table_room()) {
        unlock_table(old);
        return -E_NOMEM;
    }
    if (!rt.dsm) {
        r = sys3(PSHARE_NR_mprotect, addr, len, prot);
    } else {
        /* store pages: the app's protection cut down by their DSM state;
         * everything else as the kernel says */
        r = (addr & (PAGE_SIZE - 1)) ? -E_INVAL : 0;
        uintptr_t at = lo;
        for (size_t i = first_above(lo); !r && at < hi; i++) {
            uintptr_t next = (i < nregions && regions[i].start < hi) ? regions[i].start : hi;
            if (next > at)
                r = sys3(PSHARE_NR_mprotect, at, next - at, prot);
            if (r || next >= hi)
                break;
            uintptr_t e = regions[i].end < hi ? regions[i].end : hi;
            dsm_protect(next > lo ? next : lo, e, prot);
            at = e;
        }
    }
    if (!IS_ERR(r))
        table_protect(lo, hi, prot & (K_PROT_READ | K_PROT_WRITE | K_PROT_EXEC));
    unlock_table(old);
    return r;
}

int mem_prot_of(uintptr_t addr)
{
    struct region *g = region_of(addr);
    return g ? g->prot : -1;
}

long mem_madvise(uintptr_t addr, size_t len, int advice)
{
    if (advice != K_MADV_DONTNEED && advice != K_MADV_FREE && advice != K_MADV_REMOVE)
        return sys3(PSHARE_NR_madvise, addr, len, advice);
    /* Private anonymous memory reads back as zeroes after these: punch the store. */
    uintptr_t lo = PAGE_DOWN(addr), hi = PAGE_UP(addr + len);
    uint64_t old = lock_table();
    int all_store = 1;
    uintptr_t at = lo;
    for (size_t i = first_above(lo); i < nregions && regions[i].start < hi; i++) {
        struct region *g = &regions[i];
        if (g->start > at || g->backed != BACKED_STORE)
            all_store = 0;          /* the kernel's call too: home's shared pages are its */
        uintptr_t s = g->start > lo ? g->start : lo, e = g->end < hi ? g->end : hi;
        at = e;
        if (g->backed != BACKED_STORE && advice != K_MADV_REMOVE)
            continue;               /* shared memory keeps its contents (control.c) */
        store_punch(s, e - s);
        dsm_manage(s, e, g->prot);          /* the pages start over, as new ones */
        if (rt.dsm)
            dsm_protect(s, e, g->prot);
    }
    long r = 0;
    if (!all_store || at < hi)
        r = sys3(PSHARE_NR_madvise, addr, len, advice == K_MADV_FREE ? K_MADV_DONTNEED : advice);
    unlock_table(old);
    return r;
}

long mem_mremap(uintptr_t old_addr, size_t oldlen, size_t newlen, int flags, uintptr_t newaddr)
{
    uint64_t mask = lock_table();
    struct region *g = region_of(old_addr);
    oldlen = PAGE_UP(oldlen);
    newlen = PAGE_UP(newlen);
    long r;
    if (!table_room()) {
        r = -E_NOMEM;
        goto out;
    }
    if (!g) {
        r = sys5(PSHARE_NR_mremap, old_addr, oldlen, newlen, flags, newaddr);
        if (!IS_ERR(r) && (flags & K_MREMAP_FIXED))
            table_remove(newaddr, newaddr + newlen, 1);
        goto out;
    }
    int prot = g->prot;
    if (oldlen == 0 || old_addr + oldlen > g->end || (old_addr & (PAGE_SIZE - 1))) {
        r = -E_INVAL;           /* spans regions or duplicates a mapping: not supported */
        goto out;
    }
    if (!(flags & K_MREMAP_FIXED) && newlen <= oldlen) {
        if (newlen < oldlen) {
            sys2(PSHARE_NR_munmap, old_addr + newlen, oldlen - newlen);
            table_remove(old_addr + newlen, old_addr + oldlen, 1);
        }
        r = old_addr;
        goto out;
    }
    if (!(flags & K_MREMAP_FIXED) && old_addr + oldlen == g->end) {
        /* grow in place when the pages after it are free */
        store_punch(g->end, newlen - oldlen);
        r = sys6(PSHARE_NR_mmap, g->end, newlen - oldlen, prot,
                 K_MAP_SHARED | K_MAP_FIXED_NOREPLACE, rt.store_fd, g->end);
        if (!IS_ERR(r) && (uintptr_t)r == g->end) {
            uffd_register(g->end, newlen - oldlen);
            table_insert(g->end, g->end + (newlen - oldlen), prot);
            r = old_addr;
            goto out;
        }
        if (!IS_ERR(r))
            sys2(PSHARE_NR_munmap, r, newlen - oldlen);
    }
    if (!(flags & K_MREMAP_MAYMOVE)) {
        r = -E_NOMEM;
        goto out;
    }
    /* move: a new region, the contents copied, the old one dropped */
    uintptr_t a = newaddr;
    if (!(flags & K_MREMAP_FIXED)) {
        r = sys6(PSHARE_NR_mmap, 0, newlen, 0, K_MAP_PRIVATE | K_MAP_ANONYMOUS | K_MAP_NORESERVE, -1, 0);
        if (IS_ERR(r))
            goto out;
        a = r;
    }
    store_punch(a, newlen);
    r = map_store(a, newlen, K_PROT_READ | K_PROT_WRITE, 0);
    if (IS_ERR(r))
        goto out;
    if (!(prot & K_PROT_READ))
        sys3(PSHARE_NR_mprotect, old_addr, oldlen, K_PROT_READ);
    memcpy((void *)a, (void *)old_addr, oldlen < newlen ? oldlen : newlen);
    sys3(PSHARE_NR_mprotect, a, newlen, prot);
    sys2(PSHARE_NR_munmap, old_addr, oldlen);
    table_remove(old_addr, old_addr + oldlen, 1);
    table_insert(a, a + newlen, prot);
    r = a;
out:
    account();
    unlock_table(mask);
    return r;
}

long mem_brk(uintptr_t newbrk)
{
    uint64_t mask = lock_table();
    if (newbrk < brk_start || !table_room()) {
        unlock_table(mask);
        return brk_cur;
    }
    uintptr_t old_top = PAGE_UP(brk_cur), new_top = PAGE_UP(newbrk);
    if (new_top > old_top) {
        store_punch(old_top, new_top - old_top);
        int prot = K_PROT_READ | K_PROT_WRITE;
        long r = sys6(PSHARE_NR_mmap, old_top, new_top - old_top, rt.dsm ? dsm_initial_prot(prot) : prot,
                      K_MAP_SHARED | K_MAP_FIXED_NOREPLACE, rt.store_fd, old_top);
        if (IS_ERR(r) || (uintptr_t)r != old_top) {
            if (!IS_ERR(r))
                sys2(PSHARE_NR_munmap, r, new_top - old_top);
            unlock_table(mask);
            return brk_cur;          /* as the kernel: the old break means failure */
        }
        uffd_register(old_top, new_top - old_top);
        dsm_manage(old_top, new_top, prot);
        table_insert(old_top, new_top, prot);
    } else if (new_top < old_top) {
        sys2(PSHARE_NR_munmap, new_top, old_top - new_top);
        table_remove(new_top, old_top, 1);
    }
    brk_cur = newbrk;
    account();
    unlock_table(mask);
    return brk_cur;
}

/* In a forked child: the store is shared with the parent, so give every
 * region private memory with the same contents.  A page the parent's rank
 * dropped is a hole, which must fault here too (uffd.c), not read as zeroes. */
void mem_privatize(void)
{
    dsm_fork_child_begin();             /* its own page states first: dsm.c */
    for (size_t i = 0; i < nregions; i++)
        dsm_fork_child_copy(regions[i].start, regions[i].end);
    dsm_fork_child_end();
    if (uffd_fork_child_open() >= 0)
        for (size_t i = 0; i < nregions; i++)
            if (regions[i].backed == BACKED_STORE)
                uffd_fork_child_register(regions[i].start, regions[i].end - regions[i].start);
    for (size_t i = 0; i < nregions; i++) {
        struct region *g = &regions[i];
        size_t len = g->end - g->start;
        if (g->backed != BACKED_STORE) {
            /* home's own mapping, shared with the child as natively: its
             * pages come home first, then it is the child's as it is */
            dsm_pull(g->start, g->end);
            sys3(PSHARE_NR_mprotect, g->start, len, g->prot);
            continue;
        }
        long tmp = sys6(PSHARE_NR_mmap, 0, len, K_PROT_READ | K_PROT_WRITE, K_MAP_PRIVATE | K_MAP_ANONYMOUS, -1, 0);
        if (IS_ERR(tmp))
            rt_fail("fork: out of memory copying the address space");
        if (g->prot & K_PROT_READ)
            memcpy((void *)tmp, (void *)g->start, len);
        else if (g->prot == 0) {
            sys3(PSHARE_NR_mprotect, g->start, len, K_PROT_READ);
            memcpy((void *)tmp, (void *)g->start, len);
        }
        sys5(PSHARE_NR_mremap, tmp, len, len, K_MREMAP_MAYMOVE | K_MREMAP_FIXED, g->start);
        sys3(PSHARE_NR_mprotect, g->start, len, g->prot);
    }
    nregions = 0;
    npages = 0;
}
