/*
 * schedcall.c - calls about one thread's scheduling run where that thread
 * runs, for it.
 *
 * sched_setaffinity and sched_getaffinity (pthread_setaffinity_np, glibc's
 * pthread_create with an affinity in its attributes, OpenMP's binding),
 * sched_{set,get}param, sched_{set,get}scheduler, sched_rr_get_interval,
 * sched_{set,get}attr and {set,get}priority(PRIO_PROCESS) name a thread by
 * its tid, 0 being the caller.  They act on the kernel's thread where the
 * thread runs; but a cluster tid is a kernel tid on home only (its
 * executor's there).  Run as they are on another rank they changed the
 * executor of a thread there, or whatever that number is on this host, and
 * failed with ESRCH on another host.  So:
 *   - the caller itself (0, or its cluster tid) or a thread of this rank:
 *     here, with that thread's kernel tid;
 *   - else through home (RQ_TCALL, wire TCALL): home's engine sends it on to
 *     the named thread's rank when the tid is an executor's, or runs it on
 *     home (a thread of home, another process, no such tid: the kernel's
 *     answer).  The control thread there runs it (schedcall_run) and the
 *     answer goes back to the caller.
 * Only the thread-directed forms come here: getpriority/setpriority of a
 * process group or user stay where every HOME call runs.  A thread's CPU
 * clock (clock_gettime, clock_getres of pthread_getcpuclockid's clock,
 * which holds the tid) is read the same way: the kernel lets only a thread
 * of the same process read it, and the control thread where the thread runs
 * is one.
 */
#include "rt.h"

#define K_PRIO_PROCESS 0

/* A thread's CPU clock (the kernel's MAKE_THREAD_CPUCLOCK): its tid, else -1. */
static long clock_thread(long clk)
{
    int c = (int)clk;
    return c < 0 && (c & K_CPUCLOCK_PERTHREAD) ? K_CPUCLOCK_PID(c) : -1;
}

/* The argument that names a thread, or -1 when the call names none. */
static int named_thread_arg(long nr, const long *a)
{
    switch (nr) {
    case PSHARE_NR_clock_gettime:
    case PSHARE_NR_clock_getres:
        return clock_thread(a[0]) >= 0 ? 0 : -1;
    case PSHARE_NR_sched_setaffinity:
    case PSHARE_NR_sched_getaffinity:
    case PSHARE_NR_sched_setparam:
    case PSHARE_NR_sched_getparam:
    case PSHARE_NR_sched_setscheduler:
    case PSHARE_NR_sched_getscheduler:
    case PSHARE_NR_sched_rr_get_interval:
    case PSHARE_NR_sched_setattr:
    case PSHARE_NR_sched_getattr:
        return 0;
    case PSHARE_NR_getpriority:
    case PSHARE_NR_setpriority:
        return a[0] == K_PRIO_PROCESS ? 1 : -1;
    }
    return -1;
}

/* The thread the call names at argument `arg` (0: the caller). */
static long named_tid(long nr, const long *a, int arg)
{
    if (nr == PSHARE_NR_clock_gettime || nr == PSHARE_NR_clock_getres)
        return clock_thread(a[arg]);
    return (int)a[arg];                   /* the kernel's pid_t */
}

/* The call for a thread of this rank, its buffers present: an affinity in
 * the cluster's CPU numbers (cpus.c), or as it is. */
static long exec_for_thread(long nr, const long *a)
{
    if (nr == PSHARE_NR_sched_getaffinity && cpus_cluster())
        return cpus_getaffinity(a[0], a[1], (void *)a[2]);
    if (nr == PSHARE_NR_sched_setaffinity && cpus_cluster())
        return cpus_setaffinity(a[0], a[1], (const void *)a[2]);
    return sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* The call, with `tid` (a kernel tid of this rank; 0: the caller) as the
 * thread it names: by the caller (`here`: on bounce buffers), or by the
 * control thread (its buffers in the mailbox). */
static long run_for(long nr, const long *a, int arg, long tid, int here)
{
    long b[6];
    for (int i = 0; i < 6; i++)
        b[i] = a[i];
    if (nr == PSHARE_NR_clock_gettime || nr == PSHARE_NR_clock_getres)
        b[arg] = K_MAKE_CPUCLOCK(tid, (int)a[arg] & 7);   /* its clock here */
    else
        b[arg] = tid;
    return here ? run_here_by(nr, b, exec_for_thread) : exec_for_thread(nr, b);
}

long schedcall_spread(long nr, const long *a, struct kucontext *uc)
{
    int arg = named_thread_arg(nr, a);
    if (arg < 0)
        return rt.is_home ? run_here(nr, a) : run_forwarded(nr, a, uc);
    long tid = named_tid(nr, a, arg);
    if (tid == 0 || tid == thread_cluster_tid())
        return run_for(nr, a, arg, 0, 1);
    if (tid < 0)
        return run_here(nr, a);           /* the kernel's EINVAL or ESRCH */
    int slot = thread_app_slot_of_tid(tid);
    if (slot >= 0)
        return run_for(nr, a, arg, thread_slot_tid(slot), 1);
    if (rt.is_home) {
        slot = thread_slot_of_tid(tid);
        if (slot < 0 || !thread_slot_is_executor(slot))
            return run_here(nr, a);       /* another process, or none: the kernel's answer */
    }
    return run_thread_call(nr, a, tid);
}

/* Whether a LOCAL call names a thread that may run elsewhere (a thread's
 * CPU clock), for schedcall_spread. */
int schedcall_names_thread(long nr, const long *a)
{
    return (nr == PSHARE_NR_clock_gettime || nr == PSHARE_NR_clock_getres) && clock_thread(a[0]) > 0;
}

/* The control thread: a call another rank's thread made about a thread of
 * this rank (CMD_TCALL), its buffers in the mailbox. */
long schedcall_run(long nr, const long *a, long tid)
{
    int arg = named_thread_arg(nr, a);
    if (arg < 0)
        return -E_INVAL;
    int slot = thread_app_slot_of_tid(tid);
    if (slot >= 0)
        return run_for(nr, a, arg, thread_slot_tid(slot), 0);
    if (rt.is_home)
        return sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);   /* not a thread: as it is */
    return -E_SRCH;                       /* it ended meanwhile */
}
