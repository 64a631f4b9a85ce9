/*
 * uffd.c - read copies the agent can drop without this process.
 *
 * Dropping a read copy (an INV) used to be an mprotect by the control
 * thread: the engine woke it, waited, and on a core where an app thread
 * computes the scheduler often ran that thread first (docs/BENCHMARKS.md,
 * "What holds a fault up on a busy core").  Instead the engine punches the
 * page out of the store (fallocate PUNCH_HOLE on the memfd removes it from
 * every mapping at once) and answers at once.
 *
 * For that, every store mapping of the app is registered with a userfaultfd
 * in MISSING mode with UFFD_FEATURE_SIGBUS: touching a hole is then a SIGBUS
 * (BUS_ADRERR, the exact address), not a fresh zero page that the app would
 * take for the page's contents.  A hole is one of two things, told apart by
 * this rank's state of the page (dsm_missing, under the state lock):
 *   - READ (or INVALID): a dropped copy; the page is invalid here, ask again;
 *   - WRITE: memory nobody has written yet (it was never punched: the manager
 *     drops only copies that another rank holds too), filled with zeroes.
 * So a READ page must never be a hole otherwise: the engine fills the pages
 * it keeps READ after a FETCH, and those of a grant that comes without bytes.
 *
 * UFFD_USER_MODE_ONLY needs no privilege (Linux >= 5.11); the kernel's own
 * accesses to a hole then fail with EFAULT, which the runtime already avoids
 * (bounce buffers, marshal.c).  Where userfaultfd is refused ctl->punch
 * stays 0, and where a mapping cannot be registered it loses PUNCH_ON: the
 * engine drops copies through the control thread as before.  The descriptor
 * sits just below the store's, out of the app's reach (fds.c).  A forked
 * child's mappings lose the registration (no UFFD_FEATURE_EVENT_FORK): the
 * child registers them with a descriptor of its own before it copies them,
 * and no copy is punched meanwhile (uffd_pause).
 *
 * A FETCH without the control thread: where the kernel has write-protection
 * for shmem (UFFD_FEATURE_WP_HUGETLBFS_SHMEM, Linux >= 5.19) the mappings are
 * registered in WP mode too, and PUNCH_WP tells the engine it may serve a
 * FETCH itself (the engine's fetch_here says when it leaves it to the
 * control thread).  It takes the descriptor (pidfd_getfd: ctl->uffd_fd) and
 * the page-state table (in the store: dsm.c); under the table's lock it
 * write-protects the owner's pages (UFFDIO_WRITEPROTECT acts on this
 * process's memory, from any process holding the descriptor) and sets their
 * state, then reads them and punches those that leave, and protects the
 * holes again (a punch takes the protection with the pages).  A write to a
 * page so protected is a SIGBUS on a page present in the store
 * (dsm_missing): an upgrade if it is READ now.  Once the engine has used it
 * (PSHARE_PUNCH_WP_USED) the runtime lifts the protection as it makes pages
 * WRITE; a write that still meets it (WRITE here) lifts it then.
 */
#include "rt.h"

#define K_UFFD_USER_MODE_ONLY 1
#define K_UFFD_API 0xAAULL
#define K_UFFD_FEATURE_MISSING_SHMEM (1ULL << 5)
#define K_UFFD_FEATURE_SIGBUS (1ULL << 7)
#define K_UFFD_FEATURE_WP_HUGETLBFS_SHMEM (1ULL << 12)
#define K_UFFDIO_REGISTER_MODE_MISSING 1ULL
#define K_UFFDIO_REGISTER_MODE_WP 2ULL
/* _IOWR(0xAA, nr, size) */
#define K_UFFDIO_API 0xc018aa3fUL
#define K_UFFDIO_REGISTER 0xc020aa00UL
#define K_UFFDIO_WRITEPROTECT 0xc018aa06UL

struct uffdio_api {
    uint64_t api, features, ioctls;
};
_Static_assert(sizeof(struct uffdio_api) == 24, "UFFDIO_API's size is in its ioctl number");

struct uffdio_register {
    uint64_t start, len, mode, ioctls;
};
_Static_assert(sizeof(struct uffdio_register) == 32, "UFFDIO_REGISTER's size is in its ioctl number");

struct uffdio_writeprotect {
    uint64_t start, len, mode;
};
_Static_assert(sizeof(struct uffdio_writeprotect) == 24, "UFFDIO_WRITEPROTECT's size is in its ioctl number");

/* The registration mode of this process's mappings: MISSING, and WP where
 * the kernel has it for shmem (uffd_open). */
static uint64_t reg_mode = K_UFFDIO_REGISTER_MODE_MISSING;

/* A userfaultfd whose missing-page (and write-protect: `wp`) faults are
 * SIGBUS, or a negative errno. */
static long uffd_open_with(int wp)
{
    long fd = sys1(PSHARE_NR_userfaultfd, K_O_CLOEXEC | K_UFFD_USER_MODE_ONLY);
    if (fd == -E_INVAL)                     /* before Linux 5.11: privileged only */
        fd = sys1(PSHARE_NR_userfaultfd, K_O_CLOEXEC);
    if (IS_ERR(fd))
        return fd;
    struct uffdio_api api = { K_UFFD_API, K_UFFD_FEATURE_SIGBUS | K_UFFD_FEATURE_MISSING_SHMEM |
                              (wp ? K_UFFD_FEATURE_WP_HUGETLBFS_SHMEM : 0), 0 };
    long r = sys3(PSHARE_NR_ioctl, fd, K_UFFDIO_API, &api);
    if (IS_ERR(r)) {
        sys1(PSHARE_NR_close, fd);
        return r;
    }
    return fd;
}

/* One with write-protection if the kernel has it (a feature it does not
 * know fails UFFDIO_API, and the API handshake is once per descriptor). */
static long uffd_open(void)
{
    long fd = uffd_open_with(1);
    if (!IS_ERR(fd)) {
        reg_mode = K_UFFDIO_REGISTER_MODE_MISSING | K_UFFDIO_REGISTER_MODE_WP;
        return fd;
    }
    reg_mode = K_UFFDIO_REGISTER_MODE_MISSING;
    return uffd_open_with(0);
}

/* With several ranks: our userfaultfd, and punching on if there is one. */
void uffd_init(void)
{
    rt.uffd = -1;
    if (!rt.dsm || (rt.ctl->flags & PSHARE_NO_PUNCH))
        return;
    long fd = uffd_open();
    if (IS_ERR(fd))
        return;
    long kept = fds_keep(fd);
    if (IS_ERR(kept)) {
        sys1(PSHARE_NR_close, fd);
        return;
    }
    rt.uffd = (int)kept;
    int wp = (reg_mode & K_UFFDIO_REGISTER_MODE_WP) ? PSHARE_PUNCH_WP : 0;
    atomic_store(&rt.ctl->uffd_fd, rt.uffd);          /* states_gen: dsm_init */
    atomic_store(&rt.ctl->punch, PSHARE_PUNCH_HOLES | PSHARE_PUNCH_ON | wp);
}

static int register_with(int fd, uintptr_t addr, size_t len, uint64_t mode)
{
    struct uffdio_register reg = { addr, len, mode, 0 };
    return !IS_ERR(sys3(PSHARE_NR_ioctl, fd, K_UFFDIO_REGISTER, &reg));
}

/* A new store mapping of the app's: holes in it are SIGBUS from now on.
 * If it cannot be registered the engine stops punching (a hole there would
 * read as zeroes); the descriptor stays open, or the mappings registered
 * before would lose their registration and their holes read as zeroes. */
void uffd_register(uintptr_t addr, size_t len)
{
    if (rt.uffd < 0 || !len)
        return;
    if (register_with(rt.uffd, addr, len, reg_mode))
        return;
    /* without write-protection here the engine must not serve a FETCH */
    __atomic_fetch_and(&rt.ctl->punch, ~PSHARE_PUNCH_WP, __ATOMIC_SEQ_CST);
    if (!(reg_mode & K_UFFDIO_REGISTER_MODE_WP) ||
        !register_with(rt.uffd, addr, len, K_UFFDIO_REGISTER_MODE_MISSING))
        __atomic_fetch_and(&rt.ctl->punch, ~PSHARE_PUNCH_ON, __ATOMIC_SEQ_CST);
}

/* A write-protected page of [addr, addr+len) is WRITE here again: open it.
 * (dsm.c does at once when it makes pages WRITE, once the engine has
 * write-protected any: PSHARE_PUNCH_WP_USED; a write that meets one
 * still protected is a SIGBUS that does it then.) */
void uffd_unprotect(uintptr_t addr, size_t len)
{
    struct uffdio_writeprotect w = { addr, len, 0 };
    if (rt.uffd >= 0 && (reg_mode & K_UFFDIO_REGISTER_MODE_WP))
        sys3(PSHARE_NR_ioctl, rt.uffd, K_UFFDIO_WRITEPROTECT, &w);
}

/* While a forked child copies the address space (threads.c), no copy is
 * punched: the child's page states are the parent's at the fork, so a page
 * WRITE then and dropped since (a FETCH leaves it READ here, an INV punches
 * it) would be a hole the child took for never written, filled with zeroes
 * in the store the parent shares.  A punch decided before the pause is of a
 * page READ here already at the fork: the child asks for it. */
void uffd_pause(int paused)
{
    if (paused)
        __atomic_fetch_or(&rt.ctl->punch, PSHARE_PUNCH_PAUSED, __ATOMIC_SEQ_CST);
    else
        __atomic_fetch_and(&rt.ctl->punch, ~PSHARE_PUNCH_PAUSED, __ATOMIC_SEQ_CST);
}

/* A forked child, before it reads any page of the store: the same
 * registration, on its own descriptor (its mappings lost ours).  Without
 * one it must not read a hole: it dies with a clear message instead. */
int uffd_fork_child_open(void)
{
    if (rt.uffd < 0)
        return -1;
    sys1(PSHARE_NR_close, rt.uffd);         /* the parent's: not this memory's */
    long fd = uffd_open();
    if (IS_ERR(fd))
        rt_fail("fork: cannot open a userfaultfd to copy the address space");
    rt.uffd = (int)fd;
    return rt.uffd;
}

void uffd_fork_child_register(uintptr_t addr, size_t len)
{
    if (rt.uffd >= 0 && !register_with(rt.uffd, addr, len, K_UFFDIO_REGISTER_MODE_MISSING))
        rt_fail("fork: cannot register the address space with a userfaultfd");
}

/* The child has its own memory now (mem_privatize): no store, no holes. */
void uffd_fork_child_close(void)
{
    if (rt.uffd >= 0)
        sys1(PSHARE_NR_close, rt.uffd);
    rt.uffd = -1;
}
