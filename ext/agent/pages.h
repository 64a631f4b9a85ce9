/*
 * pages.h - the page manager (home's agent): who owns each page, who holds
 * copies.  Kai Li's Ivy with a central manager: one writer or many readers,
 * write-invalidate, so memory stays sequentially consistent.
 *
 * Plain C, no MPI and no Python: the engine (_engine.pyx) feeds it requests
 * and answers and carries out the actions it emits; the tests drive it the
 * same way with a recording emitter (tests/test_manager.py).
 */
#ifndef PSHARE_PAGES_H
#define PSHARE_PAGES_H
#include <stdint.h>
#include "../rt/shm.h"

#define PM_MAX_RANKS 64               /* a copyset is one 64-bit word */
#define PM_PAGE 4096
#define PM_READAHEAD_MAX 16           /* pages one read fault may bring (wire.h's payload holds them) */
#define PM_GROUP_PAGES PSHARE_GROUP_PAGES   /* pages with one manager: a read-ahead run stays in its
                                               group (the runtime's too: dsm.c opens a READ run in one) */

/* Which rank manages a page: groups of PM_GROUP_PAGES dealt round-robin over
 * the ranks, so no rank serves every fault (home's fresh pages included). */
static inline int pm_manager_of(uint64_t page, int nranks)
{
    return (int)((page / PM_PAGE / PM_GROUP_PAGES) % (uint64_t)nranks);
}

enum pm_act {
    PM_FETCH = 1,      /* ask `rank` for the bytes of `count` pages from `page` on; it drops
                          to `state` first (0 = keeps it); it may answer fewer (pm_answer) */
    PM_INV = 2,        /* ask `rank` to drop its copy */
    PM_GRANT = 3,      /* tell `rank`'s thread in `slot` it holds `count` pages from `page`
                          on in `state`; `data` = the bytes it lacks, or NULL (its copy
                          is good) */
};

struct pm_action {
    int kind, rank, slot, state, count;
    uint64_t page;
    const uint8_t *data;
    int to;            /* PM_FETCH with no other answer to wait for: the requester, whose
                          thread waits in `slot`: the owner may send it the bytes itself
                          (pm_answered); else -1 */
};

typedef void (*pm_emit_fn)(void *ctx, const struct pm_action *a);
struct pm;

struct pm *pm_new(pm_emit_fn emit, void *ctx);
/* Anti-thrashing (Mirage's delta): a page granted for writing stays with its
 * writer for a window before another rank may take it; the window of a page
 * grows (up to `max_ns`) while writers keep taking it from one another soon
 * after they got it, and shrinks when they do not.  0 (the default): off. */
void pm_set_hold(struct pm *m, uint64_t max_ns);
/* The time the manager decides by (ns, monotonic): set before each call. */
void pm_set_clock(struct pm *m, uint64_t now_ns);
/* Serve the requests whose page's window has passed; the next window's end
 * (0: none pending). */
uint64_t pm_tick(struct pm *m);
void pm_free(struct pm *m);
/* `write` of a request: a read that its thread guesses is a write (dsm.c):
 * served as a write, a contended lock's page too (a woken waiter's
 * pthread_mutex_lock reads the mutex's kind, then writes its word: as a
 * read, shared, then an upgrade, a condvar hand-over took twice the faults
 * and half as long again). */
#define PM_READ_FOR_WRITE 2
/* A thread wants the page (a read: and up to `want` - 1 pages after it, the
 * requester's read-ahead window; `write`: 0, 1 or PM_READ_FOR_WRITE): 0, or
 * -1 when there is no memory for it. */
int pm_request(struct pm *m, uint64_t page, int write, int rank, int slot, int want);
/* The answer to a FETCH (data = `count` pages from `page` on: at least one, at most
 * what was asked) or an INV (data = NULL) of `page`. */
void pm_answer(struct pm *m, uint64_t page, const uint8_t *data, int count);
/* Who reports a FETCH its owner answered straight to the requester
 * (PM_FETCH `to`): the requester that got the pages (a read's transaction
 * ends then) and, for a write, also the owner that dropped them (the
 * transaction ends with both: a futex wait the owner's rank sent before the
 * drop is here before any wake after it, pm_drop_pending). */
#define PM_BY_REQUESTER 1
#define PM_BY_OWNER 2
/* A report of such an answer: `count` pages from `page` on went; the
 * transaction ends as with pm_answer, but no grant goes out from here. */
void pm_answered(struct pm *m, uint64_t page, int count, int by);
/* Whether the page went straight from its owner to a writer and the owner's
 * report of its drop has not come yet: a futex wake for a word on it waits
 * (a wait the owner's rank sent before the drop could still be on its way). */
int pm_drop_pending(struct pm *m, uint64_t page);
/* [lo, hi) was mapped, unmapped or zeroed: its pages start over, fresh, held
 * for writing by `owner` (the rank whose thread mapped it: its pages never
 * travel there; home for everything else).  A page whose transaction is still
 * under way (a read answered straight to its requester, whose report may come
 * after the fence: pm_answered) starts over when it ends. */
int pm_forget(struct pm *m, uint64_t lo, uint64_t hi, int owner);
/* Whose a page nobody asked for yet is (tests). */
int pm_fresh_owner(struct pm *m, uint64_t page);
/* Tests: the entry of a page (-1 owner when it has none), pages known. */
void pm_inspect(struct pm *m, uint64_t page, int *owner, uint64_t *copyset, int *writer,
                int *busy, int *queued);
uint64_t pm_count(struct pm *m);

#endif
