/*
 * pages.c - the page manager: Ivy's central manager as a state machine.
 *
 * One transaction per page at a time.  A read fetches the owner's bytes
 * (the owner drops from WRITE to READ); a write invalidates every other copy
 * and fetches the owner's bytes, all asked at once.  The transaction ends
 * when its last answer is in and the grant goes out; requests that came
 * meanwhile wait in the page's queue, in order.  Nothing here waits: the
 * answers come back through pm_answer, and other pages' transactions go on
 * in between.
 *
 * A FETCH that is its transaction's only ask (a read's; a write's when the
 * owner holds the only copy) names the requester (PM_FETCH `to`): the owner
 * may send it the bytes itself, one hop fewer when the manager is a third
 * rank.  The transaction stays open until the requester reports them come
 * (pm_answered), so nothing from here about the page overtakes the grant;
 * a write's also until the owner reports its drop (pm_drop_pending).
 *
 * The manager never waits for a grant to be applied: the rank that gets it
 * holds back any later FETCH or INV of that page until its thread has set
 * the page's protection (the engine's "applying" list), and MPI keeps a
 * grant ahead of everything home sends that rank after it.
 *
 * A page nobody asked for yet is owned with write access by home (it held
 * every page at start) or, in a mapping a thread of another rank made, by
 * that rank (the runtime starts such a mapping writable there and invalid
 * everywhere else, so the pages a thread makes for itself never travel):
 * `fresh`, the ranges of the latter, sorted and disjoint.
 *
 * Read-ahead: a read fault may ask for more pages after its own (the
 * requester's window, which grows while its faults are sequential: the
 * engine keeps it); the run stays within the page's group (one manager).
 * A write fault may too: when the page's only copy is its owner's and the
 * requester has none (a rank filling memory another wrote last), the owner
 * drops the run to INVALID and sends it; when the requester holds a copy
 * (an upgrade), every other holder drops the run (one INV each, answered
 * once the whole run is dropped) and the requester gets it writable
 * without bytes.  The pages of such a run are in the same state as the
 * first (same owner, writer and copy set) and were last made writable for
 * the requester or for nobody since they were made: a run that reaches
 * past the end of a rank's part of an array does not take the next rank's
 * part (nbody's positions went 30% slower when it did).
 * The run is one transaction: its pages are busy together, the owner sends
 * them in one message (fewer at a page whose grant it has not applied yet:
 * only it knows; never past the mapping's end: the requester asks for no
 * more than its runtime counted managed), and the
 * faulting thread applies them all.  A page joins only while it is in the
 * same hands as the first (same owner, same writer), idle, and not held by
 * the requester.
 *
 * Anti-thrashing (off unless pm_set_hold): a write grant opens a window in
 * which no other rank may take the page (a request that would is queued
 * and served when the window ends, pm_tick).  The window is the page's own
 * and adapts: it grows when the page's writer changes within the longest
 * window (false sharing, a fault storm), halves when it does not.  Memory
 * stays sequentially consistent: the writer merely keeps the page longer.
 */
#include <stdlib.h>
#include <string.h>
#include "pages.h"
#include "../rt/shm.h"

_Static_assert(PM_READ_FOR_WRITE == PSHARE_READ_FOR_WRITE, "the runtime's guess is the manager's");

#define HOME 0

struct waiter {
    struct waiter *next;
    int write, rank, slot, want;
};

struct page {
    struct page *next;            /* hash chain */
    uint64_t addr;
    uint64_t copyset;             /* ranks holding a valid copy, the owner included */
    int owner;
    int writer;                   /* the owner may write (then it is the only holder) */
    int busy;                     /* a transaction is under way */
    int left;                     /* answers it still waits for */
    int t_write, t_rank, t_slot;  /* the request it serves */
    int run;                      /* pages in the transaction it leads (0: it is in another's run) */
    int wrote;                    /* the rank that got it writable last (-1: none since it was made) */
    int last_writer;              /* anti-thrashing: who got it for writing last, when, */
    uint64_t granted_at;          /* ... the page's window now, and when it ends */
    uint64_t hold_ns, held_until;
    struct page *timer_next;      /* in the list of pages whose window holds requests */
    int timed;
    int forgotten;                /* pm_forget came while busy: starts over when it is done */
    int reported;                 /* PM_BY_* reports of an owner-to-requester answer so far */
    uint8_t *data;                /* the owner's bytes, when they came before the last answer */
    struct waiter *head, *tail;
};

struct fresh {
    uint64_t lo, hi;
    int owner;
};

struct pm {
    struct page **buckets;
    uint64_t nbuckets, count;
    struct fresh *fresh;          /* mappings whose new pages are another rank's than home */
    int nfresh;
    pm_emit_fn emit;
    void *ctx;
    uint64_t now, hold_max;
    struct page *timers;          /* pages with requests waiting for their window to end */
};

static uint64_t bucket_of(const struct pm *m, uint64_t addr)
{
    return ((addr >> 12) * 0x9E3779B97F4A7C15ULL) >> 20 & (m->nbuckets - 1);
}

struct pm *pm_new(pm_emit_fn emit, void *ctx)
{
    struct pm *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->nbuckets = 1 << 12;
    m->buckets = calloc(m->nbuckets, sizeof *m->buckets);
    if (!m->buckets) {
        free(m);
        return NULL;
    }
    m->emit = emit;
    m->ctx = ctx;
    return m;
}

static void drop(struct page *p)
{
    while (p->head) {
        struct waiter *w = p->head;
        p->head = w->next;
        free(w);
    }
    free(p->data);
    free(p);
}

void pm_free(struct pm *m)
{
    if (!m)
        return;
    for (uint64_t b = 0; b < m->nbuckets; b++)
        while (m->buckets[b]) {
            struct page *p = m->buckets[b];
            m->buckets[b] = p->next;
            drop(p);
        }
    free(m->buckets);
    free(m->fresh);
    free(m);
}

/* Whose a page is before anyone asks for it (see the top). */
int pm_fresh_owner(struct pm *m, uint64_t addr)
{
    int lo = 0, hi = m->nfresh;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (m->fresh[mid].hi <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->nfresh && m->fresh[lo].lo <= addr ? m->fresh[lo].owner : HOME;
}

/* [lo, hi) now belongs to `owner` when fresh: cut it out of the ranges, then
 * (owner not home) add it, in order.  0, or -1 when there is no memory. */
static int set_fresh(struct pm *m, uint64_t lo, uint64_t hi, int owner)
{
    if (!m->nfresh && owner == HOME)
        return 0;
    /* a range may be split in two, and one is added */
    struct fresh *out = malloc((m->nfresh + 2) * sizeof *out);
    if (!out)
        return -1;
    int n = 0, added = owner == HOME;
    for (int i = 0; i < m->nfresh; i++) {
        struct fresh f = m->fresh[i];
        if (!added && f.lo >= lo) {
            out[n++] = (struct fresh){ lo, hi, owner };
            added = 1;
        }
        if (f.lo < lo)
            out[n++] = (struct fresh){ f.lo, f.hi < lo ? f.hi : lo, f.owner };
        if (!added && f.hi > lo) {
            out[n++] = (struct fresh){ lo, hi, owner };
            added = 1;
        }
        if (f.hi > hi)
            out[n++] = (struct fresh){ f.lo > hi ? f.lo : hi, f.hi, f.owner };
    }
    if (!added)
        out[n++] = (struct fresh){ lo, hi, owner };
    free(m->fresh);
    m->fresh = out;
    m->nfresh = n;
    return 0;
}

static struct page *find(struct pm *m, uint64_t addr)
{
    for (struct page *p = m->buckets[bucket_of(m, addr)]; p; p = p->next)
        if (p->addr == addr)
            return p;
    return NULL;
}

static void grow(struct pm *m)
{
    uint64_t old_n = m->nbuckets;
    struct page **old = m->buckets, **nb = calloc(old_n * 2, sizeof *nb);
    if (!nb)
        return;                                   /* longer chains, still correct */
    m->buckets = nb;
    m->nbuckets = old_n * 2;
    for (uint64_t b = 0; b < old_n; b++)
        while (old[b]) {
            struct page *p = old[b];
            old[b] = p->next;
            uint64_t i = bucket_of(m, p->addr);
            p->next = nb[i];
            nb[i] = p;
        }
    free(old);
}

static struct page *get(struct pm *m, uint64_t addr)
{
    struct page *p = find(m, addr);
    if (p)
        return p;
    p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->addr = addr;
    p->owner = pm_fresh_owner(m, addr);
    p->copyset = 1ULL << p->owner;
    p->writer = 1;
    p->wrote = -1;
    if (m->count >= m->nbuckets)
        grow(m);
    uint64_t i = bucket_of(m, addr);
    p->next = m->buckets[i];
    m->buckets[i] = p;
    m->count++;
    return p;
}

/* A write grant to `rank`: the page's window (see the top). */
static void hold_for_writer(struct pm *m, struct page *p, int rank)
{
    if (!m->hold_max)
        return;
    if (p->last_writer != rank && p->granted_at && m->now - p->granted_at < m->hold_max) {
        uint64_t grown = 2 * p->hold_ns + m->hold_max / 8;
        p->hold_ns = grown < m->hold_max ? grown : m->hold_max;
    } else {
        p->hold_ns /= 2;
    }
    p->last_writer = rank;
    p->granted_at = m->now;
    p->held_until = m->now + p->hold_ns;
}

/* Whether a request must wait for the page's window to end. */
static int held(struct pm *m, struct page *p, int rank)
{
    /* a read takes something too: the writer's right to write */
    return m->hold_max && p->held_until > m->now && p->writer && rank != p->owner;
}

static void arm(struct pm *m, struct page *p)
{
    if (p->timed)
        return;
    p->timed = 1;
    p->timer_next = m->timers;
    m->timers = p;
}

static void act(struct pm *m, int kind, int rank, int slot, uint64_t page, int state,
                int count, const uint8_t *data)
{
    struct pm_action a = { kind, rank, slot, state, count, page, data, -1 };
    m->emit(m->ctx, &a);
}

/* A FETCH that is the transaction's only ask: the owner may send the bytes
 * to the requester itself (one hop fewer when the manager is a third rank);
 * the reports then come to pm_answered. */
static void act_only_fetch(struct pm *m, struct page *p, int state)
{
    struct pm_action a = { PM_FETCH, p->owner, p->t_slot, state, p->run, p->addr, NULL,
                           p->t_rank };
    m->emit(m->ctx, &a);
}

/* The longest run from `p` a request for `want` pages may have: at most
 * PM_READAHEAD_MAX, within p's group (one manager's). */
static int run_limit(const struct page *p, int want)
{
    uint64_t left_in_group = PM_GROUP_PAGES - (p->addr / PM_PAGE) % PM_GROUP_PAGES;
    if (want > PM_READAHEAD_MAX)
        want = PM_READAHEAD_MAX;
    if ((uint64_t)want > left_in_group)
        want = (int)left_in_group;
    return want;
}

/* Whether page q may join the run p leads for `rank` (see the top): idle,
 * in the same hands as p (for an upgrade, `any_owner`: the same copy set
 * is enough), not held for its writer, and for a write not last made
 * writable for another rank. */
static int joins(struct pm *m, const struct page *p, struct page *q, int rank, int write,
                 int any_owner)
{
    return !q->busy && !q->head && (any_owner || q->owner == p->owner) &&
           q->writer == p->writer && !held(m, q, rank) &&
           !(write && q->wrote >= 0 && q->wrote != rank);
}

/* The pages after `p` that an upgrade by `rank` takes along: those in p's
 * state (see the top) but for their owners, at most `want`, within p's
 * group.  An upgrade's pages are read-shared (the requester's and others'
 * copies, the same bytes) and it fetches none, so only the copy set counts:
 * one INV run to each other holder.  A stencil's edge (the page two ranks'
 * rows share, last written by the neighbour, then the requester's own rows,
 * all read by the neighbour since) is one upgrade, not two. */
static int upgrade_run(struct pm *m, struct page *p, int rank, int want)
{
    want = run_limit(p, want);
    int run = 1;
    for (; run < want; run++) {
        struct page *q = find(m, p->addr + (uint64_t)run * PM_PAGE);
        if (!q || !joins(m, p, q, rank, 1, 1) || q->copyset != p->copyset)
            break;
        q->busy = 1;
        q->run = 0;
    }
    return run;
}

/* The pages after `p` that a fault of `rank` brings along (at most `want`
 * in all, within p's group; see the top); they are marked busy as members
 * of p's run.  A page the anti-thrashing window holds for its writer does
 * not join, nor, for a write, one last made writable for another rank.
 * Returns the run's length. */
static int readahead(struct pm *m, struct page *p, int rank, int want, int write)
{
    uint64_t me = 1ULL << rank;
    want = run_limit(p, want);
    int run = 1;
    for (; run < want; run++) {
        uint64_t a = p->addr + (uint64_t)run * PM_PAGE;
        struct page *q = find(m, a);
        if (q) {
            if (!joins(m, p, q, rank, write, 0) || (q->copyset & me))
                break;
        } else {
            if (!p->writer || pm_fresh_owner(m, a) != p->owner)   /* a new entry: fresh, writable */
                break;
            q = get(m, a);
            if (!q)
                break;
        }
        q->busy = 1;
        q->run = 0;
    }
    return run;
}

/* Start serving a request; 1 when it finished at once (granted), 0 when it
 * now waits for answers. */
static int serve(struct pm *m, struct page *p, int write, int rank, int slot, int want)
{
    uint64_t me = 1ULL << rank;
    p->t_write = write;
    p->t_rank = rank;
    p->t_slot = slot;
    p->run = 1;
    p->reported = 0;                  /* this transaction's reports only (pm_drop_pending) */
    if (!write) {
        if (rank == p->owner) {
            act(m, PM_GRANT, rank, slot, p->addr, p->writer ? DSM_WRITE : DSM_READ, 1, NULL);
            return 1;
        }
        if (p->copyset & me) {
            act(m, PM_GRANT, rank, slot, p->addr, DSM_READ, 1, NULL);
            return 1;
        }
        p->busy = 1;
        p->left = 1;
        p->run = readahead(m, p, rank, want, 0);
        act_only_fetch(m, p, p->writer ? DSM_READ : 0);
        return 0;
    }
    if (rank == p->owner && p->writer) {
        p->wrote = rank;
        act(m, PM_GRANT, rank, slot, p->addr, DSM_WRITE, 1, NULL);
        return 1;
    }
    int fetch = !(p->copyset & me);                         /* it has no copy yet */
    uint64_t holders = p->copyset & ~me;
    if (fetch)
        holders &= ~(1ULL << p->owner);                     /* the owner is fetched instead */
    if (!holders && !fetch) {
        /* the only copy is the requester's: it upgrades */
        p->owner = rank;
        p->copyset = me;
        p->writer = 1;
        p->wrote = rank;
        hold_for_writer(m, p, rank);
        act(m, PM_GRANT, rank, slot, p->addr, DSM_WRITE, 1, NULL);
        return 1;
    }
    p->busy = 1;
    p->left = __builtin_popcountll(holders) + fetch;
    if (fetch && !holders && p->writer)
        p->run = readahead(m, p, rank, want, 1);       /* the owner's alone: a run */
    else if (!fetch)
        p->run = upgrade_run(m, p, rank, want);        /* others drop theirs: a run */
    /* asks may be answered at once (the engine's local ones are queued, not
     * run inside act), so count them all before the first goes out */
    for (int r = 0; holders; r++, holders >>= 1)
        if (holders & 1)
            act(m, PM_INV, r, -1, p->addr, DSM_INVALID, p->run, NULL);
    if (fetch && p->left == 1)
        act_only_fetch(m, p, DSM_INVALID);
    else if (fetch)
        act(m, PM_FETCH, p->owner, -1, p->addr, DSM_INVALID, p->run, NULL);
    return 0;
}

/* Serve the page's queue until a request has to wait for answers. */
static void run_queue(struct pm *m, struct page *p)
{
    while (!p->busy && p->head) {
        if (held(m, p, p->head->rank)) {
            arm(m, p);                            /* pm_tick serves it when the window ends */
            return;
        }
        struct waiter *w = p->head;
        p->head = w->next;
        if (!p->head)
            p->tail = NULL;
        int write = w->write, rank = w->rank, slot = w->slot, want = w->want;
        free(w);
        serve(m, p, write, rank, slot, want);
    }
}

int pm_request(struct pm *m, uint64_t page, int write, int rank, int slot, int want)
{
    struct page *p = get(m, page);
    if (!p)
        return -1;
    if (write == PM_READ_FOR_WRITE)
        write = 1;                    /* the runtime's guess is served as a write (pages.h) */
    if (p->busy || p->head || held(m, p, rank)) {
        struct waiter *w = malloc(sizeof *w);
        if (!w)
            return -1;
        *w = (struct waiter){ NULL, write, rank, slot, want };
        if (p->tail)
            p->tail->next = w;
        else
            p->head = w;
        p->tail = w;
        if (!p->busy)
            run_queue(m, p);                      /* held: arms the window's timer */
        return 0;
    }
    serve(m, p, write, rank, slot, want);
    run_queue(m, p);
    return 0;
}

/* pm_forget came while the page was busy: it starts over, fresh, now that
 * its transaction is done (the requester's report can come after the fence
 * that let the range be unmapped: pm_answered). */
static void start_over(struct pm *m, struct page *p)
{
    if (!p->forgotten)
        return;
    p->forgotten = 0;
    p->owner = pm_fresh_owner(m, p->addr);
    p->copyset = 1ULL << p->owner;
    p->writer = 1;
    p->wrote = -1;
    p->last_writer = 0;
    p->granted_at = p->hold_ns = p->held_until = 0;
}

/* The transaction p leads is answered: `got` pages of its run came (a
 * fetched run may come short: the owner stops at the mapping's end or at a
 * page it has not applied yet; an upgrade's run is dropped whole).  The
 * requester gets them, with `bytes` when `grant` (else the owner sent them
 * itself); the run's other pages stay as they were; the queues go on. */
static void finish(struct pm *m, struct page *p, int got, const uint8_t *bytes, int grant)
{
    int rank = p->t_rank, run = p->run;
    if (p->t_write) {
        p->owner = rank;
        p->copyset = 1ULL << rank;
        p->writer = 1;
        p->wrote = rank;
        hold_for_writer(m, p, rank);
    } else {
        p->writer = 0;
        p->copyset |= 1ULL << rank;
    }
    p->busy = 0;
    for (int i = 1; i < run; i++) {
        struct page *q = find(m, p->addr + (uint64_t)i * PM_PAGE);
        if (!q)
            continue;
        if (i < got && p->t_write) {
            q->owner = rank;
            q->copyset = 1ULL << rank;
            q->writer = 1;
            q->wrote = rank;
            hold_for_writer(m, q, rank);
        } else if (i < got) {
            q->writer = 0;
            q->copyset |= 1ULL << rank;
        }
        q->busy = 0;
        start_over(m, q);
    }
    if (grant)
        act(m, PM_GRANT, rank, p->t_slot, p->addr, p->t_write ? DSM_WRITE : DSM_READ, got, bytes);
    free(p->data);
    p->data = NULL;
    start_over(m, p);
    run_queue(m, p);
    for (int i = 1; i < run; i++) {
        struct page *q = find(m, p->addr + (uint64_t)i * PM_PAGE);
        if (q)
            run_queue(m, q);
    }
}

void pm_answer(struct pm *m, uint64_t page, const uint8_t *data, int count)
{
    struct page *p = find(m, page);
    if (!p || !p->busy || !p->run)
        return;                                   /* not asked: ignore */
    if (data && --p->left > 0) {
        /* a write's fetch answered before its invalidations: one page */
        if (!p->data)
            p->data = malloc(PM_PAGE);
        if (p->data)
            memcpy(p->data, data, PM_PAGE);
        return;
    }
    if (!data && --p->left > 0)
        return;
    int run = p->run;
    finish(m, p, data ? (count > 1 ? (count < run ? count : run) : 1) : run,
           data ? data : p->data, 1);
}

void pm_answered(struct pm *m, uint64_t page, int count, int by)
{
    struct page *p = find(m, page);
    if (!p || !p->busy || !p->run || p->left != 1 || (p->reported & by) ||
        (!p->t_write && by != PM_BY_REQUESTER))
        return;                                   /* not such a fetch under way: ignore */
    p->reported |= by;
    if (p->t_write && p->reported != (PM_BY_REQUESTER | PM_BY_OWNER))
        return;
    p->left = 0;
    finish(m, p, count > 1 ? (count < p->run ? count : p->run) : 1, NULL, 0);
}

int pm_drop_pending(struct pm *m, uint64_t page)
{
    struct page *p = find(m, page);
    /* a read ends at the requester's report: only a write is still busy then */
    return p && p->busy && p->reported == PM_BY_REQUESTER;
}

int pm_forget(struct pm *m, uint64_t lo, uint64_t hi, int owner)
{
    if (set_fresh(m, lo, hi, owner) != 0)
        return -1;
    if ((hi - lo) / PM_PAGE <= m->count) {
        for (uint64_t a = lo; a < hi; a += PM_PAGE) {
            struct page **pp = &m->buckets[bucket_of(m, a)];
            for (; *pp; pp = &(*pp)->next)
                if ((*pp)->addr == a) {
                    struct page *p = *pp;
                    if (!p->busy && !p->head) {
                        *pp = p->next;
                        drop(p);
                        m->count--;
                    } else if (p->busy) {
                        p->forgotten = 1;
                    }
                    break;
                }
        }
        return 0;
    }
    for (uint64_t b = 0; b < m->nbuckets; b++)
        for (struct page **pp = &m->buckets[b]; *pp;) {
            struct page *p = *pp;
            if (p->addr >= lo && p->addr < hi && !p->busy && !p->head) {
                *pp = p->next;
                drop(p);
                m->count--;
            } else {
                if (p->addr >= lo && p->addr < hi && p->busy)
                    p->forgotten = 1;
                pp = &p->next;
            }
        }
    return 0;
}

void pm_set_hold(struct pm *m, uint64_t max_ns)
{
    m->hold_max = max_ns;
}

void pm_set_clock(struct pm *m, uint64_t now_ns)
{
    m->now = now_ns;
}

uint64_t pm_tick(struct pm *m)
{
    struct page *due = NULL;
    for (struct page **pp = &m->timers; *pp;) {
        struct page *p = *pp;
        if (p->held_until <= m->now) {
            *pp = p->timer_next;
            p->timed = 0;
            p->timer_next = due;
            due = p;
        } else {
            pp = &p->timer_next;
        }
    }
    while (due) {
        struct page *p = due;
        due = p->timer_next;
        run_queue(m, p);                          /* may arm it again */
    }
    uint64_t next = 0;
    for (struct page *p = m->timers; p; p = p->timer_next)
        if (!next || p->held_until < next)
            next = p->held_until;
    return next;
}

void pm_inspect(struct pm *m, uint64_t page, int *owner, uint64_t *copyset, int *writer,
                int *busy, int *queued)
{
    struct page *p = find(m, page);
    *owner = p ? p->owner : -1;
    *copyset = p ? p->copyset : 0;
    *writer = p ? p->writer : 0;
    *busy = p ? p->busy : 0;
    int n = 0;
    for (struct waiter *w = p ? p->head : NULL; w; w = w->next)
        n++;
    *queued = n;
}

uint64_t pm_count(struct pm *m)
{
    return m->count;
}
