/*
 * shm.h - the control block shared by the agent and the runtime.
 *
 * The agent creates it as a memfd, passes it to the app at PSHARE_CTL_FD, and
 * reads it back while and after the app runs.  The Cython side (ext/agent/
 * rtctl.pyx) includes this very header, so both sides agree on the layout by
 * construction.  Counters are written with atomic adds by app threads and read
 * by the agent without locks: a slightly stale figure is fine, a torn one is
 * impossible for aligned 64-bit words on x86_64.
 */
#ifndef PSHARE_SHM_H
#define PSHARE_SHM_H
#include <stdint.h>

#define PSHARE_MAGIC     0x31657261687370ULL      /* "pshare1" */
#define PSHARE_VERSION   1
#define PSHARE_CTL_FD    1021                     /* control block (this struct) */
#define PSHARE_STORE_FD  1022                     /* page store: the app's shared memory */
#define PSHARE_STORE_SIZE (1ULL << 44)            /* sparse; offsets are never reused */
#define PSHARE_NSYS      512                      /* per-number counters */
#define PSHARE_MAX_THREADS 1024                   /* runtime thread slots per rank */

/* flags set by the agent */
#define PSHARE_ENV_HAD_PRELOAD   0x1   /* the user had LD_PRELOAD: strip our prefix only */
#define PSHARE_ENV_HAD_TUNABLES  0x2   /* likewise for GLIBC_TUNABLES */

/* runtime state, written by the runtime */
#define PSHARE_RT_NONE     0           /* never started (not loaded, or dormant) */
#define PSHARE_RT_RUNNING  1
#define PSHARE_RT_FAILED   2           /* see error[]; the app exits with 126 */

struct pshare_syscount {
    uint64_t count;
    uint64_t cycles;                   /* TSC cycles spent in the runtime for it */
};

/* The first fatal signal of the app, as the runtime saw it (state != 0). */
struct pshare_crash {
    int32_t state;
    int32_t signo;
    int32_t code;                      /* si_code */
    int32_t tid;                       /* kernel tid of the faulting thread */
    int32_t thread;                    /* thread number: 0 = main, then creation order */
    int32_t pad;
    uint64_t addr;                     /* si_addr */
    uint64_t ip;                       /* instruction pointer */
};

struct pshare_ctl {
    /* agent -> runtime */
    uint64_t magic;
    uint32_t version;
    uint32_t flags;
    int32_t rank;
    int32_t nranks;
    int32_t agent_pid;
    int32_t pad0;

    /* runtime -> agent */
    int32_t state;
    int32_t app_pid;
    char error[256];

    uint64_t threads_started;          /* app threads that ran on this rank, main included */
    uint64_t threads_exited;
    uint64_t threads_peak;
    uint64_t regions;                  /* shared regions in the page store now */
    uint64_t regions_peak;
    uint64_t pages_managed;            /* pages of the app's address space in the store now */
    uint64_t pages_managed_peak;

    uint64_t faults_read;
    uint64_t faults_write;
    uint64_t faults_upgrade;
    uint64_t pages_in;
    uint64_t pages_out;
    uint64_t invalidations;

    uint64_t syscalls_local;           /* executed on this rank */
    uint64_t syscalls_forwarded;       /* sent to home */
    uint64_t syscalls_invalid;         /* unknown numbers, answered ENOSYS */

    uint32_t fork_gate;                /* a forked child has its own memory (threads.c) */
    uint32_t pad1;
    struct pshare_crash crash;
    struct pshare_syscount sys[PSHARE_NSYS];
};

#endif
