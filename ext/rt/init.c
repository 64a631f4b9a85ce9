/*
 * init.c - the runtime's constructor: from here on the app is under pshare.
 *
 * It runs in the app process before any other constructor, the libraries'
 * included: the library is linked -z initfirst (DF_1_INITFIRST), which
 * glibc's loader runs first.  A preloaded library is otherwise initialised
 * after the libraries loaded after it, so their constructors ran natively on
 * every rank (libgomp printed OMP_DISPLAY_ENV once per rank; a thread one
 * started made the address spaces differ).  Off home this constructor never
 * returns, so no constructor runs there.
 * It stays dormant unless the control block from our agent is at
 * PSHARE_CTL_FD and our parent is that agent (programs the app starts do not
 * inherit the runtime: their environment no longer names it).  Order matters:
 *   1. map the control block, hide our environment variables from the app;
 *   2. the thread arena and our SIGSYS/SIGSEGV handlers on slot 0's stack;
 *   3. move the writable address space into the page store;
 *   4. arm Syscall User Dispatch: the next app instruction is already trapped.
 */
#include "rt.h"

struct rt_state rt HIDDEN;

/* The app's parent-death signal on its main thread, and whether the
 * kernel's is the runtime's signal 64 (not in a forked child): rt_pdeath_call. */
static int app_pdeath_signal;
static int pdeath_ours;

/* Drop our part of NAME=ours[:user's] from the environment, in place. */
static void env_unprefix(char **envp, const char *name, int had_user_value)
{
    size_t nl = strlen(name);
    for (char **e = envp; *e; e++) {
        if (memcmp(*e, name, nl) || (*e)[nl] != '=')
            continue;
        if (had_user_value) {
            char *v = *e + nl + 1, *colon = v;
            while (*colon && *colon != ':')
                colon++;
            if (*colon)
                memmove(v, colon + 1, strlen(colon + 1) + 1);
        } else {
            char **d = e;
            do
                d[0] = d[1];
            while (*d++);
        }
        return;
    }
}

static void fail_errno(const char *what, long err)
{
    char msg[200];
    struct fmtbuf b = { msg, 0, sizeof msg };
    fmt_str(&b, what);
    fmt_str(&b, " (error ");
    fmt_dec(&b, -err);
    fmt_str(&b, ")");
    rt_fail(msg);
}


/* The rest of start-up, on slot 0's stack: the app's stack is remapped under
 * it.  On home it returns and the app goes on to main(); elsewhere the
 * initial thread stays here as the rank's control thread. */
static void init_on_runtime_stack(void *arg)
{
    (void)arg;
    long r;
    if (rt.dsm && IS_ERR(r = dsm_init()))
        fail_errno("cannot reserve the page-state table", r);
    r = memory_init();
    if (IS_ERR(r))
        fail_errno("cannot move the program's memory into the page store", r);
    if (!rt.is_home) {
        atomic_store(&rt.ctl->control_slot, 0);      /* this thread, slot 0 */
        atomic_store(&rt.ctl->state, PSHARE_RT_RUNNING);
        control_run();
    }
    if (rt.dsm && IS_ERR(r = control_start()))
        fail_errno("cannot start the control thread", r);
}

__attribute__((constructor)) static void pshare_init(int argc, char **argv, char **envp)
{
    (void)argc;
    (void)argv;
    long p = sys6(PSHARE_NR_mmap, 0, PAGE_UP(sizeof(struct pshare_ctl)), K_PROT_READ | K_PROT_WRITE,
                  K_MAP_SHARED, PSHARE_CTL_FD, 0);
    if (IS_ERR(p))
        return;
    struct pshare_ctl *ctl = (struct pshare_ctl *)p;
    if (ctl->magic != PSHARE_MAGIC || ctl->version != PSHARE_VERSION ||
        ctl->agent_pid != sys0(PSHARE_NR_getppid)) {
        sys2(PSHARE_NR_munmap, p, PAGE_UP(sizeof(struct pshare_ctl)));
        return;
    }
    rt.ctl = ctl;
    rt.store_fd = -1;
    rt.is_home = ctl->rank == 0;
    rt.dsm = ctl->nranks > 1;
    ctl->app_pid = sys0(PSHARE_NR_getpid);
    if (ctl->comm[0])                     /* before any thread: they inherit it */
        sys2(PSHARE_NR_prctl, K_PR_SET_NAME, ctl->comm);
    long c = sys6(PSHARE_NR_mmap, 0, PAGE_UP(sizeof(struct pshare_chan)), K_PROT_READ | K_PROT_WRITE,
                  K_MAP_SHARED | K_MAP_NORESERVE, PSHARE_CHAN_FD, 0);
    if (IS_ERR(c))
        fail_errno("cannot map the channel to the agent", c);
    rt.chan = (struct pshare_chan *)c;
    env_unprefix(envp, "LD_PRELOAD", ctl->flags & PSHARE_ENV_HAD_PRELOAD);
    env_unprefix(envp, "GLIBC_TUNABLES", ctl->flags & PSHARE_ENV_HAD_TUNABLES);
    sys1(PSHARE_NR_close, PSHARE_CTL_FD);
    sys1(PSHARE_NR_close, PSHARE_CHAN_FD);
    long f = fds_init();
    if (IS_ERR(f))
        fail_errno("cannot move the page store above the program's descriptors", f);
    uffd_init();
    rt.xfer_fd = -1;                      /* memory.c's mem_xfer_ready makes it */
    sys2(PSHARE_NR_prctl, K_PR_SET_PDEATHSIG, K_SIGKILL);   /* no orphans if the agent dies */

    long r = threads_init();
    if (IS_ERR(r))
        fail_errno("cannot set up the runtime's thread arena", r);
    cpus_init();                          /* this rank's CPUs, before the app pins anything */
    if (cpus_cluster())
        vdso_trap_getcpu();               /* sched_getcpu in the job's numbers too */
    r = signals_init();
    if (IS_ERR(r))
        fail_errno("cannot install the runtime's signal handlers", r);
    /* From here the agent's death is signal 64, which rt_agent_gone takes:
     * the app's forked children must go too.  An agent already gone sent
     * nothing: look. */
    sys2(PSHARE_NR_prctl, K_PR_SET_PDEATHSIG, K_SIGPARK);
    pdeath_ours = 1;
    if (sys0(PSHARE_NR_getppid) != rt.ctl->agent_pid)
        rt_agent_gone();
    pshare_call_on_stack(init_on_runtime_stack, 0, slot_altstack_top_main());
    r = sud_arm();
    if (IS_ERR(r))
        rt_fail("this kernel has no Syscall User Dispatch (pshare needs Linux >= 5.11 "
                "built with CONFIG_GENERIC_ENTRY)");
    atomic_store(&ctl->state, PSHARE_RT_RUNNING);
    /* With several ranks, main() waits until the agents agree the address
     * spaces are the same everywhere. */
    while (rt.dsm && !atomic_load(&ctl->go))
        sys4(PSHARE_NR_futex, &ctl->go, K_FUTEX_WAIT, 0, 0);
}

/* Whether signal 64 is the kernel's word that the agent has died (the
 * parent-death signal: SI_USER from the agent, which is no longer our
 * parent), not a park or a forwarded signal (SI_QUEUE, threads.c). */
int rt_is_agent_death(const struct ksiginfo *si)
{
    return si->si_code == 0 /* SI_USER */ && si->u.kill.pid == rt.ctl->agent_pid &&
           sys0(PSHARE_NR_getppid) != rt.ctl->agent_pid;
}

/* The agent died (SIGKILLed with its launcher's process group, or crashed):
 * the job is over.  The processes the app started go with it, as a signal
 * to a native run's process group would reach them: they are in the app's
 * own group (the agent made it), and a forked child still copying its
 * address space would otherwise wait forever for pages from a dead agent. */
void rt_agent_gone(void)
{
    long me = sys0(PSHARE_NR_getpid);
    if (sys1(PSHARE_NR_getpgid, 0) == me)       /* not when sharing the launcher's group at a terminal */
        sys2(PSHARE_NR_kill, -me, K_SIGKILL);
    sys2(PSHARE_NR_kill, me, K_SIGKILL);
    for (;;)
        sys1(PSHARE_NR_exit_group, 128 + K_SIGKILL);
}

/* The app's own PR_SET_PDEATHSIG / PR_GET_PDEATHSIG on the main thread,
 * where the kernel's setting is the runtime's (signal 64): kept here, so the
 * app cannot turn the agent's death into a signal it handles while its
 * forked children stay, and reads back what it set (0 at first, as
 * natively).  Other threads' settings are their own, in the kernel.  1 when
 * the call was one of these (its result in *ret). */
int rt_pdeath_call(const long *a, long *ret)
{
    if ((a[0] != K_PR_SET_PDEATHSIG && a[0] != K_PR_GET_PDEATHSIG) || !pdeath_ours ||
        sys0(PSHARE_NR_gettid) != sys0(PSHARE_NR_getpid))
        return 0;
    if (a[0] == K_PR_SET_PDEATHSIG) {
        if (a[1] < 0 || a[1] > 64) {
            *ret = -E_INVAL;
            return 1;
        }
        app_pdeath_signal = (int)a[1];
        *ret = 0;
        return 1;
    }
    /* PR_GET_PDEATHSIG: the kernel writes it (EFAULT for a bad pointer, as
     * natively), once a DSM page is here */
    struct { const void *base; size_t len; } from = { &app_pdeath_signal, sizeof(int) },
                                              to = { (void *)a[1], sizeof(int) };
    long pid = sys0(PSHARE_NR_getpid);
    long r = sys6(PSHARE_NR_process_vm_writev, pid, &from, 1, &to, 1, 0);
    if (r == -E_FAULT && dsm_may_touch((void *)a[1], 1)) {
        dsm_touch((void *)a[1], sizeof(int), 1);
        r = sys6(PSHARE_NR_process_vm_writev, pid, &from, 1, &to, 1, 0);
    }
    *ret = r < 0 ? r : 0;
    return 1;
}

/* In a forked child: it is a separate process now, not part of the job. Its
 * counters and crash record must not reach the agent, nor the store its fds. */
void rt_detach(void)
{
    size_t len = PAGE_UP(sizeof(struct pshare_ctl));
    long p = sys6(PSHARE_NR_mmap, 0, len, K_PROT_READ | K_PROT_WRITE, K_MAP_PRIVATE | K_MAP_ANONYMOUS, -1, 0);
    if (!IS_ERR(p)) {
        memcpy((void *)p, rt.ctl, sizeof(struct pshare_ctl));
        sys2(PSHARE_NR_munmap, rt.ctl, len);
        rt.ctl = (struct pshare_ctl *)p;
    }
    pdeath_ours = 0;                     /* a child's is its own, 0 after fork */
    app_pdeath_signal = 0;
    fds_child(1);
    uffd_fork_child_close();
    sys1(PSHARE_NR_close, rt.store_fd);
    rt.store_fd = -1;
    rt.dsm = 0;
}
