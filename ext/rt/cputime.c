/*
 * cputime.c - the process's CPU time is its threads', wherever they run.
 *
 * The kernel's process CPU clocks (clock() and clock_gettime's
 * CLOCK_PROCESS_CPUTIME_ID, a clock_getcpuclockid of the process) and
 * times() and getrusage(RUSAGE_SELF) sum the CPU time of every thread of
 * the process.  With several ranks each rank's kernel knows only its own
 * threads: a program that timed its parallel part with clock() saw home's
 * threads' share, a tenth of the truth at ten ranks.  So with several ranks
 * these calls ask the agent for every rank's app process's CPU clocks
 * (RQ_CPUTIME: the engine reads its own, asks each other rank with CPUQ and
 * sums the CPUTIME answers) and answer with the sums:
 *   - a process CPU clock (ours, by 0 or by the cluster pid): the sum of
 *     that clock (CPUCLOCK_PROF, _VIRT or _SCHED), in nanoseconds;
 *   - times and getrusage(RUSAGE_SELF) run where they ran (home: its
 *     children's times, its start of ticks), and their user and system
 *     times become the sums, split as the kernel splits a process's
 *     (cputime_adjust: the scheduler's exact total, divided in the ratio of
 *     the sampled user and system ticks, neither going back).
 * Every rank's app process counts, pshare's runtime threads in it included
 * (home's executors make the calls of threads elsewhere, a control thread
 * maps their pages): what a native process's kernel would count as its
 * threads' system time.  The agents are processes of their own and do not
 * count.  One rank: nothing here runs (rt.dsm is off), the kernel answers.
 */
#include "rt.h"

#define K_RUSAGE_SELF 0
#define K_USER_HZ 100

/* The clock's kind (CPUCLOCK_PROF, _VIRT, _SCHED) when `clk` is a CPU
 * clock of this process, else -1.  *pid: the pid a process clock names (0:
 * the caller's). */
static int process_clock(long clk, long *pid)
{
    *pid = 0;
    if (clk == K_CLOCK_PROCESS_CPUTIME_ID)
        return K_CPUCLOCK_SCHED;
    int c = (int)clk;
    if (c >= 0 || (c & K_CPUCLOCK_PERTHREAD) || K_CPUCLOCK_KIND(c) >= K_CPUCLOCK_MAX)
        return -1;
    *pid = K_CPUCLOCK_PID(c);
    if (*pid != 0 && *pid != rt.ctl->home_pid)
        return -1;
    return K_CPUCLOCK_KIND(c);
}

/* Every rank's app process's CPU clocks, summed (ns, by CPUCLOCK_*). */
static void job_cputime(int64_t sum[K_CPUCLOCK_MAX])
{
    int slot = thread_slot_index();
    struct pshare_mbox *box = chan_box(slot);
    uint64_t mask = chan_enter();
    box->len = 0;
    thread_busy(1);
    chan_call(slot, RQ_CPUTIME);
    thread_busy(0);
    memcpy(sum, box->data, K_CPUCLOCK_MAX * sizeof(int64_t));
    chan_leave(mask);
}

/* The clock's answer into the bounce buffer (run_here_by's exec). */
static long exec_process_clock(long nr, const long *a)
{
    (void)nr;
    long pid;
    int which = process_clock(a[0], &pid);
    if (!a[1])
        return -E_FAULT;
    int64_t sum[K_CPUCLOCK_MAX];
    job_cputime(sum);
    struct kts *ts = (struct kts *)a[1];
    ts->sec = sum[which] / 1000000000;
    ts->nsec = sum[which] % 1000000000;
    return 0;
}

/* clock_gettime of one of the process's CPU clocks, or clock_getres of one
 * naming the process by its cluster pid (which this rank's kernel knows
 * under no such number).  Returns 0 when `clk` is no such clock. */
int cputime_clock(long nr, const long *a, long *ret)
{
    long pid;
    int which = process_clock(a[0], &pid);
    if (which < 0)
        return 0;
    if (nr == PSHARE_NR_clock_getres) {
        long b[6] = { K_CLOCK_PROCESS_CPUTIME_ID, a[1], 0, 0, 0, 0 };
        *ret = run_here(nr, b);
        return 1;
    }
    *ret = run_here_by(nr, a, exec_process_clock);
    return 1;
}

/* a * b / c without overflow, for b <= c < 2^32 (the kernel's
 * mul_u64_u64_div_u64, for the split's ratio) */
static uint64_t scale(uint64_t a, uint64_t b, uint64_t c)
{
    return a / c * b + a % c * b / c;
}

/* The total split as the kernel's cputime_adjust splits a process's: the
 * scheduler's exact `rtime` in the ratio of the sampled user and system
 * times, and neither below what this rank answered before. */
static void adjust(const int64_t sum[K_CPUCLOCK_MAX], uint64_t *ut, uint64_t *st)
{
    static int lock;
    static uint64_t prev_ut, prev_st;
    uint64_t rtime = sum[K_CPUCLOCK_SCHED], u = sum[K_CPUCLOCK_VIRT];
    uint64_t s = sum[K_CPUCLOCK_PROF] - sum[K_CPUCLOCK_VIRT];
    while (u + s >= (1ull << 32)) {
        u >>= 1;
        s >>= 1;
    }
    uint64_t stime = !s ? 0 : !u ? rtime : rtime - scale(rtime, u, u + s);
    while (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE))
        ;
    if (prev_ut + prev_st < rtime) {          /* else a sum taken before: no older */
        if (stime < prev_st)
            stime = prev_st;
        uint64_t utime = rtime - stime;
        if (utime < prev_ut) {
            utime = prev_ut;
            stime = rtime - utime;
        }
        prev_ut = utime;
        prev_st = stime;
    }
    *ut = prev_ut;
    *st = prev_st;
    __atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
}

/* times or getrusage(RUSAGE_SELF) made (`ret` its result): the user and
 * system times in the app's buffer become the job's. */
long cputime_fix(long nr, const long *a, long ret)
{
    if (IS_ERR(ret))
        return ret;
    if (nr == PSHARE_NR_getrusage && (a[0] != K_RUSAGE_SELF || !a[1]))
        return ret;
    if (nr == PSHARE_NR_times && !a[0])
        return ret;
    int64_t sum[K_CPUCLOCK_MAX];
    uint64_t ut, st;
    job_cputime(sum);
    adjust(sum, &ut, &st);
    if (nr == PSHARE_NR_times) {
        int64_t ticks[2] = { (int64_t)(ut / (1000000000 / K_USER_HZ)),
                             (int64_t)(st / (1000000000 / K_USER_HZ)) };
        memcpy((void *)a[0], ticks, sizeof ticks);    /* tms_utime, tms_stime */
    } else {
        int64_t tv[4] = { (int64_t)(ut / 1000000000), (int64_t)(ut % 1000000000 / 1000),
                          (int64_t)(st / 1000000000), (int64_t)(st % 1000000000 / 1000) };
        memcpy((void *)a[1], tv, sizeof tv);          /* ru_utime, ru_stime */
    }
    return ret;
}
