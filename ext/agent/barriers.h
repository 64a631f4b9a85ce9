/*
 * barriers.h - the pthread barriers a rank manages: the rounds in progress of
 * the barriers whose address it manages (pm_manager_of).  The app's
 * pthread_barrier_wait (ext/rt/barrier.c) sends each thread's arrival here
 * instead of moving the barrier's page between ranks for every thread.
 *
 * Plain C, no MPI: the engine feeds it and sends what it answers.
 */
#ifndef PSHARE_BARRIERS_H
#define PSHARE_BARRIERS_H
#include <stdint.h>

struct br;
/* A thread of a complete round may go on: the engine tells its rank's
 * thread in `slot`; `serial` for exactly one of them (the last to arrive:
 * PTHREAD_BARRIER_SERIAL_THREAD, as glibc picks it). */
typedef void (*br_go_fn)(void *ctx, int rank, int slot, int serial);

struct br *br_new(void);
void br_free(struct br *t);
/* The thread (rank, slot) arrived at the barrier at `addr` of `count`
 * threads (the round's first arrival sets the count).  The arrival that
 * completes the round lets every thread of it go (`go`, in the order they
 * arrived) and the barrier starts a new round.  0, or -1 when there is no
 * memory for it. */
int br_arrive(struct br *t, uint64_t addr, uint32_t count, int rank, int slot,
              br_go_fn go, void *ctx);
/* Threads waiting now (tests, stats). */
uint64_t br_waiting(const struct br *t);

#endif
