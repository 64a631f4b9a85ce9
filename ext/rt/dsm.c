/*
 * dsm.c - this rank's side of the distributed shared memory.
 *
 * Every page of a region in the page store has one byte here (runtime-
 * private, indexed by page number): the app's protection, whether the page is
 * managed, and this rank's DSM state - the paper's three: INVALID (no access),
 * READ (valid copy, read only), WRITE (the only valid copy).  The protection
 * the kernel applies is always the app's protection cut down by the DSM state,
 * so guard pages stay guard pages.
 *
 * A fault on a managed page whose app protection allows the access is a DSM
 * fault: the thread asks the agent for the page (RQ_FAULT), the agent has the
 * store filled completely before it replies, and the thread then opens its
 * view and tells the agent (UP_APPLIED), which lets the page's manager serve
 * the next request for it.  Losing a page (another rank wants to write it, or
 * to read a page we write) is applied by the control thread (CMD_PROTECT)
 * before the agent ships the contents.
 *
 * A new page starts as WRITE on home (it holds every page at start) and
 * INVALID elsewhere: state 0 in the table means exactly that.
 *
 * The table lives in the page store at its own address (shm.h), never a
 * managed page, so that the engine maps it too: with userfaultfd write-
 * protection (uffd.c) the engine serves a FETCH itself, write-protecting or
 * punching the pages and setting their state under the same lock, without
 * the control thread.  The kernel protection is then looser than the state
 * (mprotect is this process's own); the write-protection or the hole stands
 * in for it until the runtime next applies the page.
 *
 * Reads that are writes: a read fault whose instruction's reads were
 * followed by writes of the same page (c[i] -= ..., a counter's ++: a read
 * fault, then an upgrade, two round trips) asks for the page writable at
 * once.  One guess in WP_CHECK is checked: its page is EXCLUSIVE here, the
 * manager's WRITE mapped read only, so that the first write is an upgrade
 * made here without a message and tells whether the guess was right; the
 * others are mapped writable at once (the check's own fault and mprotect
 * cost a third of a fault here).  A checked guess that was wrong (the page
 * still unwritten at the thread's next fault) makes that instruction's reads
 * plain reads again.  A guess only changes what is asked for, never what a
 * rank may do with what it holds, so memory stays sequentially consistent.
 */
#include "rt.h"

#include "states_lock.h"

#define PS_PROT PSHARE_PS_PROT
#define PS_MANAGED PSHARE_PS_MANAGED
#define PS_SHIFT PSHARE_PS_SHIFT
#define PAGES_MAX PSHARE_PAGES_MAX
/* This rank's fourth state (never on the wire): held for writing, mapped read only. */
#define DSM_EXCLUSIVE 4
_Static_assert(DSM_EXCLUSIVE > DSM_WRITE && DSM_EXCLUSIVE < (1 << (8 - PS_SHIFT)),
               "a fourth state that fits the table's byte");

static uint8_t *pstate;
/* Serialises every change of the page states with what applies it (the
 * mprotect here, the write-protection or punch in the engine).  Without it
 * a thread that read a page's state, then lost the CPU, could
 * mprotect the page open again after the control thread had closed it for an
 * invalidation (set INVALID, mprotect NONE): the rank then read a copy the
 * manager no longer knew about (a stale read, seen as a wrong n-body result on
 * 4 ranks x 4 cores).  Taken with the app's signals blocked (a handler that
 * faulted would wait for its own thread) and never across a wait for the agent.
 * It is the word after the table (PSHARE_STATES_LOCK), shared with the engine. */
static uint32_t *prot_lock;

/* A thread holding prot_lock must not park for a fork (threads.c): another
 * thread waiting for the lock could then never park, and the fork would wait
 * for it forever.  Busy, it parks right after it lets go. */
static void lock_prot(void)
{
    thread_busy(1);
    pshare_states_lock(prot_lock);
}

static void unlock_prot(void)
{
    pshare_states_unlock(prot_lock);
    thread_busy(0);
}

/* The table, in the store at its own address (a free range found first). */
long dsm_init(void)
{
    long p = sys6(PSHARE_NR_mmap, 0, PSHARE_STATES_LEN, 0,
                  K_MAP_PRIVATE | K_MAP_ANONYMOUS | K_MAP_NORESERVE, -1, 0);
    if (IS_ERR(p))
        return p;
    long q = sys6(PSHARE_NR_mmap, p, PSHARE_STATES_LEN, K_PROT_READ | K_PROT_WRITE,
                  K_MAP_SHARED | K_MAP_FIXED | K_MAP_NORESERVE, rt.store_fd, p);
    if (IS_ERR(q)) {
        sys2(PSHARE_NR_munmap, p, PSHARE_STATES_LEN);
        return q;
    }
    pstate = (uint8_t *)p;
    prot_lock = (uint32_t *)(pstate + PSHARE_STATES_LOCK);
    rt_private(pstate, PSHARE_STATES_LEN);
    atomic_store(&rt.ctl->states_addr, (uint64_t)p);
    __atomic_fetch_add(&rt.ctl->states_gen, 1, __ATOMIC_SEQ_CST);   /* the engine may take both */
    return 0;
}

static int dsm_state(uint8_t b)
{
    int s = b >> PS_SHIFT;
    return s ? s : (rt.is_home ? DSM_WRITE : DSM_INVALID);
}

static int effective(uint8_t b)
{
    int prot = b & PS_PROT;
    switch (dsm_state(b)) {
    case DSM_WRITE:
        return prot;
    case DSM_READ:
    case DSM_EXCLUSIVE:
        return prot & ~K_PROT_WRITE;
    default:
        return 0;
    }
}

int dsm_initial_prot(int prot)
{
    return rt.is_home ? prot : 0;
}

/* Apply the kernel protection of [lo, hi) page by page, merging runs. */
static void apply(uintptr_t lo, uintptr_t hi)
{
    while (lo < hi) {
        int prot = effective(pstate[lo / PAGE_SIZE]);
        uintptr_t end = lo + PAGE_SIZE;
        while (end < hi && effective(pstate[end / PAGE_SIZE]) == prot)
            end += PAGE_SIZE;
        long r = sys3(PSHARE_NR_mprotect, lo, end - lo, prot);
        if (r == -E_NOMEM)
            rt_fail("the page states of this program need more memory mappings than "
                    "vm.max_map_count allows: raise it (sysctl vm.max_map_count=1048576)");
        lo = end;
    }
}

void dsm_manage(uintptr_t lo, uintptr_t hi, int prot)
{
    if (!rt.dsm)
        return;
    for (uintptr_t a = lo; a < hi; a += PAGE_SIZE)
        pstate[a / PAGE_SIZE] = PS_MANAGED | (prot & PS_PROT);
}

void dsm_unmanage(uintptr_t lo, uintptr_t hi)
{
    if (!rt.dsm)
        return;
    memset(&pstate[lo / PAGE_SIZE], 0, (hi - lo) / PAGE_SIZE);
}

/* The app changed its protection of [lo, hi): keep the DSM state. */
void dsm_protect(uintptr_t lo, uintptr_t hi, int prot)
{
    if (!rt.dsm)
        return;
    lock_prot();
    for (uintptr_t a = lo; a < hi; a += PAGE_SIZE) {
        uint8_t *b = &pstate[a / PAGE_SIZE];
        if (*b & PS_MANAGED)
            *b = (*b & ~PS_PROT) | (prot & PS_PROT);
    }
    apply(lo, hi);
    unlock_prot();
}

/* Under prot_lock: the DSM state of [lo, hi), and the kernel protection with it. */
static void set_state_locked(uintptr_t lo, uintptr_t hi, int state)
{
    for (uintptr_t a = lo; a < hi; a += PAGE_SIZE) {
        uint8_t *b = &pstate[a / PAGE_SIZE];
        *b = (*b & (PS_PROT | PS_MANAGED)) | (uint8_t)(state << PS_SHIFT);
    }
    apply(lo, hi);
    if (state == DSM_WRITE && (rt.ctl->punch & PSHARE_PUNCH_WP_USED))
        uffd_unprotect(lo, hi - lo);     /* the engine's, if any (uffd.c): not a fault later */
}

/* Set this rank's DSM state of [lo, hi) and the kernel protection with it. */
static void set_state(uintptr_t lo, uintptr_t hi, int state)
{
    lock_prot();
    set_state_locked(lo, hi, state);
    unlock_prot();
}

/* Set this rank's DSM state of one page (the control thread, a grant). */
void dsm_set(uintptr_t page, int state)
{
    set_state(page, page + PAGE_SIZE, state);
}

/* A new anonymous mapping [lo, hi) a thread of another rank than home made:
 * its pages start writable on that rank (`mine`) and invalid everywhere
 * else, home included (the managers know: pm_forget's owner), so the memory
 * a thread makes for itself never travels to it. */
void dsm_start_owned(uintptr_t lo, uintptr_t hi, int mine)
{
    if (rt.dsm)
        set_state(lo, hi, mine ? DSM_WRITE : DSM_INVALID);
}

/* How many managed pages there are from `page` on, at most `max`: how far
 * a run goes, and how far the agent may prefetch (the managers know no
 * mappings). */
static long managed_pages(uintptr_t page, long max)
{
    long n = 0;
    while (n < max && page / PAGE_SIZE + n < PAGES_MAX && (pstate[page / PAGE_SIZE + n] & PS_MANAGED))
        n++;
    return n;
}

/* CMD_PROTECT of a run (read-ahead, wire.h): the first page and the managed
 * pages right after it, at most `count` in all, drop to `state` (0: keep
 * theirs); returns how many that was.  It stops at the first page that is
 * not managed: every rank has the same mappings, so the run means the same
 * pages everywhere, and the manager, which knows no mappings, grants only
 * those. */
long dsm_set_run(uintptr_t page, long count, int state)
{
    long n = managed_pages(page, count < 1 ? 1 : count);
    /* none: unmapped since it was asked for (a prefetch's group, applied by
     * the control thread after an munmap's replay): nothing to open, and
     * mprotect would fail */
    if (n && state)
        set_state(page, page + n * PAGE_SIZE, state);
    return n ? n : 1;
}

/* A grant this thread asked for (a fault's run, or a lock's page that came
 * with its wake: futex.c): open the run in `state` and tell the agent each
 * page is applied, which lets the page's manager serve what waits for it.
 * Returns the pages opened. */
long dsm_apply_grant(int slot, uintptr_t page, long run, int state)
{
    thread_busy(1);
    long n = dsm_set_run(page, run, state);
    for (long i = 0; i < run; i++)
        chan_post_lazy((uint64_t)UP_APPLIED << 56 | (uint64_t)slot << 40 | (page / PAGE_SIZE + i));
    thread_busy(0);
    return n;
}

/* Reads that are writes (see the top): a score per faulting instruction,
 * in a small table all threads of the rank share (a lost update only costs
 * a guess), and per thread slot what its last read fault and its last guess
 * were. */
#define WP_SIZE 512
#define WP_GUESS 2                     /* read-then-write seen this often: guess */
#define WP_CHECK 8                     /* one guess in this many is checked */
static struct { uint64_t ip; int score; unsigned guesses; } wpred[WP_SIZE];
static struct {
    uintptr_t read_lo, read_hi;        /* the pages its last read fault brought */
    uint64_t read_ip;
    uintptr_t guess;                   /* the page its last checked guess brought (0: none) */
    uint64_t guess_ip;
} memo[PSHARE_MAX_THREADS];

static int wp_index(uint64_t ip)
{
    return (int)((ip * 0x9E3779B97F4A7C15ULL) >> 55) & (WP_SIZE - 1);
}

enum { NO_GUESS, GUESS_CHECKED, GUESS };

/* Whether a read fault at `ip` asks for its page writable, and whether
 * this guess is checked. */
static int wp_guess(uint64_t ip)
{
    int i = wp_index(ip);
    if (wpred[i].ip != ip || wpred[i].score < WP_GUESS)
        return NO_GUESS;
    return wpred[i].guesses++ % WP_CHECK == 0 ? GUESS_CHECKED : GUESS;
}

static void wp_learn(uint64_t ip)
{
    int i = wp_index(ip);
    if (wpred[i].ip != ip) {
        wpred[i].ip = ip;
        wpred[i].score = 0;
        wpred[i].guesses = 0;
    }
    if (wpred[i].score < WP_GUESS)
        wpred[i].score++;
}

static void wp_forget(uint64_t ip)
{
    int i = wp_index(ip);
    if (wpred[i].ip == ip) {
        wpred[i].score = 0;
        wpred[i].guesses = 0;
    }
}

/* A write by this thread to the page its checked guess brought: the guess
 * was right, whether the page is still here or was taken since (a contended
 * lock's page is, before the thread's next fault). */
static void wp_confirm(int slot, uintptr_t page)
{
    if (slot >= 0 && memo[slot].guess == page)
        memo[slot].guess = 0;
}

/* A thread's fault: first grade its last checked guess (0 here: confirmed by
 * a write, see wp_confirm; else unwritten, or written then lost to another
 * rank, which only the state tells) and credit the read that brought a page
 * it now writes (still held read only, or lost meanwhile). */
static void wp_grade(int slot, uintptr_t page, int write, int have)
{
    if (write)
        wp_confirm(slot, page);
    if (memo[slot].guess) {
        if (dsm_state(pstate[memo[slot].guess / PAGE_SIZE]) != DSM_WRITE)
            wp_forget(memo[slot].guess_ip);
        memo[slot].guess = 0;
    }
    if (write && have != DSM_WRITE && page >= memo[slot].read_lo && page < memo[slot].read_hi) {
        wp_learn(memo[slot].read_ip);
        memo[slot].read_hi = 0;
    }
}

/* A write to a page held EXCLUSIVE here: open it for writing, no message.
 * 0 when the control thread took the page meanwhile (a plain fault then). */
static int upgrade_here(uintptr_t page)
{
    uint64_t mask = chan_enter();
    lock_prot();
    int have = dsm_state(pstate[page / PAGE_SIZE]);
    if (have == DSM_EXCLUSIVE)
        set_state_locked(page, page + PAGE_SIZE, DSM_WRITE);
    else if (have == DSM_WRITE)
        apply(page, page + PAGE_SIZE);            /* another thread of this rank did */
    unlock_prot();
    chan_leave(mask);
    if (have == DSM_EXCLUSIVE)
        STAT_ADD(upgrades_local, 1);
    return have == DSM_EXCLUSIVE || have == DSM_WRITE;
}

/* Whether the store holds the page (not a hole: uffd.c). */
static int resident(uintptr_t page)
{
    uint8_t vec = 0;
    sys3(PSHARE_NR_mincore, page, PAGE_SIZE, &vec);
    return vec & 1;
}

/* SIGSEGV: 1 when it was a DSM fault, now served; 0 for a real fault.
 * `ip`: the faulting instruction. */
int dsm_fault(uintptr_t addr, int write, uint64_t ip)
{
    if (!rt.dsm || addr >= PAGES_MAX * PAGE_SIZE)
        return 0;
    uintptr_t page = PAGE_DOWN(addr);
    uint8_t b = pstate[page / PAGE_SIZE];
    if (!(b & PS_MANAGED))
        return 0;
    int want = write ? K_PROT_WRITE : K_PROT_READ;
    if (!((b & PS_PROT) & want))
        return 0;                                  /* the app's own protection: real */
    int have = dsm_state(b);
    if (have == DSM_EXCLUSIVE && write && upgrade_here(page)) {
        wp_confirm(thread_slot_index(), page);
        return 1;
    }
    if (have == DSM_WRITE || (have != DSM_INVALID && !write)) {
        /* another thread of this rank got it meanwhile, or the agent opened
         * a prefetched run for reading (the engine's open_here: the state
         * only): make sure the view is open, from the state as it is under
         * the lock (the control thread may have taken the page since we
         * looked), and for a READ page the READ pages after it in its group
         * with it, one mprotect for a prefetched run, not a fault a page */
        uint64_t mask = chan_enter();
        lock_prot();
        uintptr_t hi = page + PAGE_SIZE;
        if (have == DSM_READ && dsm_state(pstate[page / PAGE_SIZE]) == DSM_READ)
            while ((hi / PAGE_SIZE) % PSHARE_GROUP_PAGES && (pstate[hi / PAGE_SIZE] & PS_MANAGED) &&
                   dsm_state(pstate[hi / PAGE_SIZE]) == DSM_READ)
                hi += PAGE_SIZE;
        apply(page, hi);
        unlock_prot();
        chan_leave(mask);
        return 1;
    }
    if (have == DSM_EXCLUSIVE) {                   /* a write, and the page taken meanwhile */
        have = dsm_state(pstate[page / PAGE_SIZE]);
        if (have != DSM_READ)
            have = DSM_INVALID;
    }
    if (write && have == DSM_READ && rt.uffd >= 0 && !resident(page))
        have = DSM_INVALID;                    /* a dropped copy (uffd.c) is no upgrade */
    int slot = thread_slot_index();
    wp_grade(slot, page, write, have);
    int guess = write ? NO_GUESS : wp_guess(ip);
    struct pshare_mbox *box = chan_box(slot);
    uint64_t mask = chan_enter();              /* until the grant is applied: chan.c */
    thread_busy(1);
    box->a[0] = page;
    box->a[1] = write ? 1 : guess ? PSHARE_READ_FOR_WRITE : 0;
    box->a[2] = managed_pages(page, PSHARE_FAULT_REACH);
    box->len = 0;
    uint64_t t0 = rdtsc();
    long granted = chan_call(slot, RQ_FAULT);
    /* a grant may bring the pages after this one too (a run): a[1] */
    long run = box->a[1] > 1 ? box->a[1] : 1;
    if (guess && granted != DSM_WRITE)
        guess = NO_GUESS;                      /* others write it: the manager gave a read */
    if (guess == GUESS_CHECKED)
        granted = DSM_EXCLUSIVE;
    dsm_apply_grant(slot, page, run, (int)granted);
    thread_busy(0);
    chan_leave(mask);
    if (guess) {
        if (guess == GUESS_CHECKED) {
            memo[slot].guess = page;
            memo[slot].guess_ip = ip;
        }
        STAT_ADD(reads_for_write, 1);
    } else if (!write) {
        memo[slot].read_lo = page;
        memo[slot].read_hi = page + (uintptr_t)run * PAGE_SIZE;
        memo[slot].read_ip = ip;
    }
    if (write && have == DSM_READ)
        STAT_ADD(faults_upgrade, 1);
    else if (write)
        STAT_ADD(faults_write, 1);
    else
        STAT_ADD(faults_read, 1);
    hist_add(rt.ctl->hist_fault, rdtsc() - t0);
    return 1;
}

/* SIGBUS from the store's userfaultfd (uffd.c): 1 when it was ours, now
 * served.  A write to a page present in the store met the engine's write-
 * protection: a page it made READ (a FETCH) is written like any READ page
 * (an upgrade); one WRITE here again since is opened.  Otherwise it is a
 * hole, and under the state lock this rank's state says what it is: a page
 * held READ was dropped by the engine (the state byte lags: it is made
 * INVALID here, then fetched like any invalid page), unless a grant filled
 * it again meanwhile; a WRITE one was never written, and the pages of its
 * group held here the same way are made present, zero-filled, at once
 * (only holes are filled: fallocate keeps what is there). */
#define FILL_PAGES 16
int dsm_missing(uintptr_t addr, int write, uint64_t ip)
{
    if (rt.uffd < 0 || addr >= PAGES_MAX * PAGE_SIZE)
        return 0;
    uintptr_t page = PAGE_DOWN(addr);
    if (!(pstate[page / PAGE_SIZE] & PS_MANAGED))
        return 0;
    uint64_t mask = chan_enter();
    lock_prot();
    uint8_t *b = &pstate[page / PAGE_SIZE];
    int have = dsm_state(*b);
    int refault = 0;
    if (!((*b & PS_PROT) & (write ? K_PROT_WRITE : K_PROT_READ))) {
        /* the runtime's own access to a page the app may not touch (a fork
         * child or mremap copying a PROT_NONE region, mprotected for it):
         * its contents do not matter, as before, but a dropped copy is
         * INVALID from now on (no apply: the caller set the protection) */
        if (have == DSM_READ)
            *b = (*b & (PS_PROT | PS_MANAGED)) | (uint8_t)(DSM_INVALID << PS_SHIFT);
        sys4(PSHARE_NR_fallocate, rt.store_fd, 0, page, PAGE_SIZE);
    } else if (write && resident(page)) {
        if (have == DSM_WRITE)
            uffd_unprotect(page, PAGE_SIZE);
        else
            refault = 1;                   /* READ, INVALID: a write fault */
    } else if (have == DSM_WRITE || have == DSM_EXCLUSIVE) {
        uintptr_t lo = page, hi = page + PAGE_SIZE;
        uintptr_t group = page & ~(uintptr_t)(FILL_PAGES * PAGE_SIZE - 1);
        while (hi < group + FILL_PAGES * PAGE_SIZE && (pstate[hi / PAGE_SIZE] & PS_MANAGED) &&
               dsm_state(pstate[hi / PAGE_SIZE]) == have)
            hi += PAGE_SIZE;
        while (lo > group && (pstate[lo / PAGE_SIZE - 1] & PS_MANAGED) &&
               dsm_state(pstate[lo / PAGE_SIZE - 1]) == have)
            lo -= PAGE_SIZE;
        sys4(PSHARE_NR_fallocate, rt.store_fd, 0, lo, hi - lo);
    } else if (!resident(page)) {
        set_state_locked(page, page + PAGE_SIZE, DSM_INVALID);
        refault = 1;
    }
    unlock_prot();
    chan_leave(mask);
    return refault ? dsm_fault(addr, write, ip) : 1;
}

/* Under dsm_lock (futex.c), of a page dsm_readable says this rank may
 * read: the word at addr, without faulting (a fault would wait for the lock
 * this thread holds): 0, or -1 when it must be faulted in first.  A copy
 * the engine dropped is a hole the kernel will not read for us (uffd.c);
 * the state byte may still say READ. */
int dsm_load_word(uintptr_t addr, uint32_t *v)
{
    if (rt.uffd < 0) {
        *v = __atomic_load_n((uint32_t *)addr, __ATOMIC_SEQ_CST);
        return 0;
    }
    struct { void *base; size_t len; } local = { v, 4 }, remote = { (void *)addr, 4 };
    long n = sys6(PSHARE_NR_process_vm_readv, sys0(PSHARE_NR_getpid), &local, 1, &remote, 1, 0);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return n == 4 ? 0 : -1;
}

/* A fork-like child, before it faults a page: the table and its lock are
 * the parent's (shared with the engine), so the child takes a private copy
 * of the states of [lo, hi) ranges it is given (its regions) and a lock of
 * its own, free: a runtime thread (the control thread, which is not parked
 * for a fork) may have held the parent's when the parent forked, and the
 * child would wait for it forever (fork_wait at 2 ranks hung 1 run in 6).
 * The engine changes no state meanwhile (uffd_pause). */
static uint8_t *child_copy;

void dsm_fork_child_begin(void)
{
    if (!pstate)
        return;                         /* one rank: no table */
    long p = sys6(PSHARE_NR_mmap, 0, PSHARE_STATES_LEN, K_PROT_READ | K_PROT_WRITE,
                  K_MAP_PRIVATE | K_MAP_ANONYMOUS | K_MAP_NORESERVE, -1, 0);
    if (IS_ERR(p))
        rt_fail("fork: out of memory copying the page states");
    child_copy = (uint8_t *)p;
}

void dsm_fork_child_copy(uintptr_t lo, uintptr_t hi)
{
    if (child_copy)
        memcpy(child_copy + lo / PAGE_SIZE, pstate + lo / PAGE_SIZE, (hi - lo) / PAGE_SIZE);
}

void dsm_fork_child_end(void)
{
    if (!child_copy)
        return;
    sys5(PSHARE_NR_mremap, child_copy, PSHARE_STATES_LEN, PSHARE_STATES_LEN,
         K_MREMAP_MAYMOVE | K_MREMAP_FIXED, pstate);
    child_copy = 0;
}

/* prot_lock for futex.c: a futex word is read and its wait posted while
 * this rank cannot lose the page (the app's signals blocked by the caller). */
void dsm_lock(void)
{
    lock_prot();
}

void dsm_unlock(void)
{
    unlock_prot();
}

int dsm_managed(uintptr_t addr)
{
    return rt.dsm && addr < PAGES_MAX * PAGE_SIZE && (pstate[addr / PAGE_SIZE] & PS_MANAGED);
}

/* Under dsm_lock: 1 when this rank may read the managed page of addr now,
 * 0 when it must fault it in first, -1 when the app's protection forbids. */
int dsm_readable(uintptr_t addr)
{
    uint8_t b = pstate[addr / PAGE_SIZE];
    if (!(b & K_PROT_READ))
        return -1;
    return dsm_state(b) != DSM_INVALID;
}

/* An argument the syscall table calls a pointer but cannot describe (an
 * ioctl's, a prctl's: often a number, PR_SET_DUMPABLE's 1): touched, so
 * the call finds the page present, only where it points into the app's
 * memory that the app may read; anything else goes to the kernel as it is,
 * as natively (a number, or EFAULT for a bad pointer). */
void dsm_touch_arg(const void *p)
{
    if (dsm_may_touch(p, 0))
        dsm_touch(p, 1, 0);
}

/* Whether p is in the app's managed memory and the app may read (write)
 * it there: a touch then brings the page, where anything else would be a
 * real fault (an address unmapped meanwhile, a read-only page). */
int dsm_may_touch(const void *p, int write)
{
    uintptr_t a = (uintptr_t)p;
    return dsm_managed(a) && (pstate[a / PAGE_SIZE] & (write ? K_PROT_WRITE : K_PROT_READ));
}

/* The managed pages of [lo, hi) this rank has no copy of (another rank
 * holds them) are brought here for reading: then this rank's copy is the
 * current one (memory.c: a shared file's pages come home).  Only those are
 * touched: a page here already stays as it is, and one never touched is
 * not read in. */
void dsm_pull(uintptr_t lo, uintptr_t hi)
{
    if (!rt.dsm)
        return;
    for (uintptr_t a = PAGE_DOWN(lo); a < hi; a += PAGE_SIZE) {
        uint8_t b = pstate[a / PAGE_SIZE];
        if ((b & PS_MANAGED) && (b & K_PROT_READ) && dsm_state(b) == DSM_INVALID)
            (void)*(volatile uint8_t *)a;      /* a fault: the page comes */
    }
}

/* Make [p, p+len) readable (or writable) by touching it, so that a system
 * call executed here finds it present. */
void dsm_touch(const void *p, size_t len, int write)
{
    if (!rt.dsm || !len)
        return;
    uintptr_t a = PAGE_DOWN(p), end = (uintptr_t)p + len;
    for (; a < end; a += PAGE_SIZE) {
        volatile uint8_t *q = (volatile uint8_t *)(a < (uintptr_t)p ? (uintptr_t)p : a);
        if (write)
            __atomic_fetch_add((uint8_t *)q, 0, __ATOMIC_RELAXED);
        else
            (void)*q;
    }
}
