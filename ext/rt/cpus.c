/*
 * cpus.c - the cluster's CPUs, seen as one machine's.
 *
 * With several ranks (and `--cpus cluster`, the default) the app's CPUs are
 * every rank's usable ones: rank r's (the affinity it started with, in
 * order) are numbered cpu_base .. cpu_base + count - 1 of cpu_total, after
 * every lower rank's (the agents agree on the numbers: ctl).  A program
 * that sizes itself by its CPUs (an OpenMP team, a thread pool) then
 * spreads over every node, not over home's cores only.
 *   - sched_getaffinity: a thread not pinned on its node may run on any CPU
 *     of the cluster (pshare places it): all of them; one pinned to some of
 *     its node's CPUs: those, in the cluster's numbers.
 *   - sched_setaffinity: the mask's CPUs on the thread's node; all of the
 *     node's when it names only other nodes' (a thread does not move to
 *     another node); EINVAL, as the kernel's, when it names none at all.
 *   - getcpu (sched_getcpu: the vDSO's is made a system call, vdso.c): the
 *     CPU the thread runs on, in the job's numbers;
 *   - reading /sys/devices/system/cpu/{online,possible,present}, where glibc
 *     counts CPUs (sysconf, get_nprocs) and libgomp sizes its masks: a memfd
 *     on home with "0-(cpu_total - 1)".
 * The affinity calls run on the named thread's own rank (schedcall.c).
 */
#include "rt.h"

#define CPUS_MAX 8192                       /* bits in the masks handled here */
#define K_MFD_CLOEXEC 1

static uint16_t here[CPUS_MAX];             /* this rank's usable CPUs, in order */
static int nhere;

/* At start, in the initial thread: its affinity is the agent's. */
void cpus_init(void)
{
    uint64_t k[CPUS_MAX / 64] = { 0 };
    long r = sys3(PSHARE_NR_sched_getaffinity, 0, sizeof k, k);
    if (IS_ERR(r))
        return;
    for (int c = 0; c < r * 8 && c < CPUS_MAX; c++)
        if (k[c / 64] >> (c % 64) & 1)
            here[nhere++] = (uint16_t)c;
}

int cpus_cluster(void)
{
    int n = rt.ctl->cpu_total;
    return rt.dsm && n > 0 && n <= CPUS_MAX && nhere > 0;
}

static inline int bit(const uint64_t *m, long c) { return m[c / 64] >> (c % 64) & 1; }
static inline void set_bit(uint64_t *m, long c) { m[c / 64] |= 1UL << (c % 64); }

/* sched_getaffinity(tid, len, out) for `tid` of this rank (0: the caller). */
long cpus_getaffinity(long tid, long len, void *out)
{
    uint64_t k[CPUS_MAX / 64] = { 0 }, v[CPUS_MAX / 64] = { 0 };
    long total = rt.ctl->cpu_total, base = rt.ctl->cpu_base;
    if (len * 8 < total || (len & 7))
        return -E_INVAL;                    /* as the kernel's, for a machine of `total` */
    long r = sys3(PSHARE_NR_sched_getaffinity, tid, sizeof k, k);
    if (IS_ERR(r))
        return r;
    /* the kernel's cpumask_size(): this kernel's, or more for more CPUs */
    long size = (total + 63) / 64 * 8;
    size = r > size ? r : size;
    int all = 1;
    for (int i = 0; i < nhere; i++)
        if (!bit(k, here[i]))
            all = 0;
        else if (base + i < total)
            set_bit(v, base + i);
    if (all)
        for (long c = 0; c < total; c++)
            set_bit(v, c);
    long n = len < size ? len : size;
    memcpy(out, v, (size_t)n);
    return n;
}

/* sched_setaffinity(tid, len, mask) for `tid` of this rank. */
long cpus_setaffinity(long tid, long len, const void *mask)
{
    uint64_t v[CPUS_MAX / 64] = { 0 }, k[CPUS_MAX / 64] = { 0 };
    long total = rt.ctl->cpu_total, base = rt.ctl->cpu_base;
    long n = len < (long)sizeof v ? len : (long)sizeof v;
    if (n < 0)
        return -E_INVAL;
    memcpy(v, mask, (size_t)n);
    int any = 0, mine = 0;
    for (long c = 0; c < total; c++)
        any |= bit(v, c);
    if (!any)
        return -E_INVAL;                    /* no usable CPU: the kernel's answer */
    for (int i = 0; i < nhere; i++)
        if (base + i < total && bit(v, base + i)) {
            set_bit(k, here[i]);
            mine = 1;
        }
    if (!mine)
        for (int i = 0; i < nhere; i++)
            set_bit(k, here[i]);            /* only other nodes' CPUs: stays on its node's */
    return sys3(PSHARE_NR_sched_setaffinity, tid, sizeof k, k);
}

/* getcpu's answer here (its buffers present): the CPU in the job's numbers */
static long exec_getcpu(long nr, const long *a)
{
    long r = sys3(nr, a[0], a[1], a[2]);
    if (r != 0 || !a[0])
        return r;
    uint32_t *cpu = (uint32_t *)a[0];
    for (int i = 0; i < nhere; i++)
        if (here[i] == *cpu) {
            *cpu = (uint32_t)(rt.ctl->cpu_base + i);
            break;
        }
    return r;
}

long cpus_getcpu(const long *a)
{
    return run_here_by(PSHARE_NR_getcpu, a, exec_getcpu);
}

/* open/openat of one of the files glibc counts CPUs from, for reading */
int cpus_file_open(long nr, const long *a)
{
    static const char *const files[] = {
        "/sys/devices/system/cpu/online", "/sys/devices/system/cpu/possible",
        "/sys/devices/system/cpu/present",
    };
    long flags;
    const char *path = fd_open_read_path(nr, a, &flags);
    if (!path || !cpus_cluster())
        return 0;
    for (unsigned i = 0; i < sizeof files / sizeof files[0]; i++)
        if (str_starts(path, files[i]) && path[strlen(files[i])] == 0)
            return 1;
    return 0;
}

/* ... made on home: a memfd holding what the kernel's file would say. */
long cpus_file_here(long nr, const long *a)
{
    long flags = nr == PSHARE_NR_open ? a[1] : a[2];
    char text[32];
    struct fmtbuf b = { text, 0, sizeof text };
    fmt_str(&b, "0");
    if (rt.ctl->cpu_total > 1) {
        fmt_str(&b, "-");
        fmt_dec(&b, rt.ctl->cpu_total - 1);
    }
    fmt_str(&b, "\n");
    return fd_memfd_answer("cpus", flags, text, b.len);
}
