/*
 * futexes.h - the futex waiters a rank manages: the private futex words of
 * the pages it manages (pm_manager_of).  The app's FUTEX_WAIT and FUTEX_WAKE
 * of such a word meet here instead of in home's kernel (ext/rt/futex.c says
 * why a wait that arrives is never late).
 *
 * Plain C, no MPI: the engine feeds it and sends what it answers.
 */
#ifndef PSHARE_FUTEXES_H
#define PSHARE_FUTEXES_H
#include <stdint.h>

struct fx;
/* A waiter woken: the engine tells its rank's thread in `slot`. */
typedef void (*fx_woken_fn)(void *ctx, int rank, int slot);

struct fx *fx_new(void);
void fx_free(struct fx *t);
/* The thread (rank, slot) waits on `addr` for a wake whose bitset meets
 * `bitset`: 0, or -1 when there is no memory for it. */
int fx_wait(struct fx *t, uint64_t addr, int rank, int slot, uint32_t bitset);
/* Wake up to `n` waiters of `addr` whose bitset meets `bitset`, oldest first
 * (the kernel's order for waiters of one priority); returns how many. */
int fx_wake(struct fx *t, uint64_t addr, int n, uint32_t bitset, fx_woken_fn woken, void *ctx);
/* The thread's wait ends without a wake (timeout, signal): 1 when it was
 * still waiting (now removed), 0 when a wake took it first. */
int fx_cancel(struct fx *t, uint64_t addr, int rank, int slot);
/* Waiters now (tests, stats). */
uint64_t fx_waiting(const struct fx *t);

#endif
