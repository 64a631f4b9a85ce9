/*
 * barriers.c - the barrier rounds a rank manages (barriers.h): a hash table
 * of rounds in progress, each with the threads that arrived, in order.  A
 * round is freed when it completes; the next arrival starts a new one.
 */
#include <stdlib.h>
#include "barriers.h"

#define BR_BUCKETS 256

struct arrival {
    int rank, slot;
};

struct round {
    struct round *next;
    uint64_t addr;
    uint32_t count, arrived;
    struct arrival *who;              /* `count` of them */
};

struct br {
    struct round *head[BR_BUCKETS];
    uint64_t waiting;
};

static unsigned bucket_of(uint64_t addr)
{
    return (unsigned)(((addr >> 3) * 0x9E3779B97F4A7C15ULL) >> 56) % BR_BUCKETS;
}

struct br *br_new(void)
{
    return calloc(1, sizeof(struct br));
}

void br_free(struct br *t)
{
    if (!t)
        return;
    for (unsigned b = 0; b < BR_BUCKETS; b++)
        while (t->head[b]) {
            struct round *r = t->head[b];
            t->head[b] = r->next;
            free(r->who);
            free(r);
        }
    free(t);
}

int br_arrive(struct br *t, uint64_t addr, uint32_t count, int rank, int slot,
              br_go_fn go, void *ctx)
{
    unsigned b = bucket_of(addr);
    struct round **pp = &t->head[b];
    while (*pp && (*pp)->addr != addr)
        pp = &(*pp)->next;
    struct round *r = *pp;
    if (!r) {
        if (count < 1)
            count = 1;
        r = calloc(1, sizeof *r);
        if (!r)
            return -1;
        r->who = malloc(count * sizeof *r->who);
        if (!r->who) {
            free(r);
            return -1;
        }
        r->addr = addr;
        r->count = count;
        r->next = t->head[b];
        t->head[b] = r;
        pp = &t->head[b];
    }
    r->who[r->arrived++] = (struct arrival){ rank, slot };
    if (r->arrived < r->count) {
        t->waiting++;
        return 0;
    }
    *pp = r->next;                    /* complete: the next arrival starts a new round */
    t->waiting -= r->count - 1;
    for (uint32_t i = 0; i < r->count; i++)
        go(ctx, r->who[i].rank, r->who[i].slot, i == r->count - 1);
    free(r->who);
    free(r);
    return 0;
}

uint64_t br_waiting(const struct br *t)
{
    return t->waiting;
}
