/*
 * futexes.c - the futex waiters a rank manages (futexes.h): a hash table of
 * FIFO lists, one per bucket, a waiter per thread that waits.
 */
#include <stdlib.h>
#include "futexes.h"

#define FX_BUCKETS 1024

struct waiter {
    struct waiter *next;
    uint64_t addr;
    int rank, slot;
    uint32_t bitset;
};

struct fx {
    struct waiter *head[FX_BUCKETS], *tail[FX_BUCKETS];
    uint64_t count;
};

static unsigned bucket_of(uint64_t addr)
{
    return (unsigned)(((addr >> 2) * 0x9E3779B97F4A7C15ULL) >> 54) % FX_BUCKETS;
}

struct fx *fx_new(void)
{
    return calloc(1, sizeof(struct fx));
}

void fx_free(struct fx *t)
{
    if (!t)
        return;
    for (unsigned b = 0; b < FX_BUCKETS; b++)
        while (t->head[b]) {
            struct waiter *w = t->head[b];
            t->head[b] = w->next;
            free(w);
        }
    free(t);
}

int fx_wait(struct fx *t, uint64_t addr, int rank, int slot, uint32_t bitset)
{
    struct waiter *w = malloc(sizeof *w);
    if (!w)
        return -1;
    *w = (struct waiter){ NULL, addr, rank, slot, bitset };
    unsigned b = bucket_of(addr);
    if (t->tail[b])
        t->tail[b]->next = w;
    else
        t->head[b] = w;
    t->tail[b] = w;
    t->count++;
    return 0;
}

/* Unlink *pp (its predecessor is prev, NULL at the head) from bucket b. */
static struct waiter *unlink_at(struct fx *t, unsigned b, struct waiter **pp, struct waiter *prev)
{
    struct waiter *w = *pp;
    *pp = w->next;
    if (t->tail[b] == w)
        t->tail[b] = prev;
    t->count--;
    return w;
}

int fx_wake(struct fx *t, uint64_t addr, int n, uint32_t bitset, fx_woken_fn woken, void *ctx)
{
    unsigned b = bucket_of(addr);
    int done = 0;
    struct waiter *prev = NULL;
    for (struct waiter **pp = &t->head[b]; *pp && done < n;) {
        struct waiter *w = *pp;
        if (w->addr != addr || !(w->bitset & bitset)) {
            prev = w;
            pp = &w->next;
            continue;
        }
        unlink_at(t, b, pp, prev);
        woken(ctx, w->rank, w->slot);
        free(w);
        done++;
    }
    return done;
}

int fx_cancel(struct fx *t, uint64_t addr, int rank, int slot)
{
    unsigned b = bucket_of(addr);
    struct waiter *prev = NULL;
    for (struct waiter **pp = &t->head[b]; *pp; pp = &(*pp)->next) {
        struct waiter *w = *pp;
        if (w->addr == addr && w->rank == rank && w->slot == slot) {
            free(unlink_at(t, b, pp, prev));
            return 1;
        }
        prev = w;
    }
    return 0;
}

uint64_t fx_waiting(const struct fx *t)
{
    return t->count;
}
