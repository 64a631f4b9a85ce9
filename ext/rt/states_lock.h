/*
 * states_lock.h - the runtime's futex lock (rt_lock, private) and the
 * page-state table's lock (shm.h, PSHARE_STATES_LOCK), one implementation
 * for both sides that take the latter: the runtime's threads
 * (ext/rt/dsm.c) and the engine (ext/agent/_engine.pyx), which are separate
 * processes, so the futex is a shared one.  Each side defines
 * PSHARE_FUTEX_CALL(word, op, val) as its own futex call before it includes
 * this file (the runtime in rt.h: it makes raw syscalls only).
 *
 * The word: 0 free, 1 held, 2 held and waited for (Drepper's mutex).
 */
#ifndef PSHARE_STATES_LOCK_H
#define PSHARE_STATES_LOCK_H
#include <stdint.h>

#define PSHARE_FUTEX_WAIT 0
#define PSHARE_FUTEX_WAKE 1

/* `private`: FUTEX_PRIVATE_FLAG (128) for a lock of one process, 0 for one
 * two processes share. */
static inline void pshare_futex_lock(uint32_t *word, int private)
{
    uint32_t c = 0;
    if (__atomic_compare_exchange_n(word, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return;
    if (c != 2)
        c = __atomic_exchange_n(word, 2, __ATOMIC_ACQUIRE);
    while (c != 0) {
        PSHARE_FUTEX_CALL(word, PSHARE_FUTEX_WAIT | private, 2);
        c = __atomic_exchange_n(word, 2, __ATOMIC_ACQUIRE);
    }
}

static inline void pshare_futex_unlock(uint32_t *word, int private)
{
    if (__atomic_exchange_n(word, 0, __ATOMIC_RELEASE) == 2)
        PSHARE_FUTEX_CALL(word, PSHARE_FUTEX_WAKE | private, 1);
}

/* The page-state table's lock: the runtime's threads and the engine. */
static inline void pshare_states_lock(uint32_t *word)
{
    pshare_futex_lock(word, 0);
}

/* 1 when taken; 0 when held elsewhere (the engine then leaves the work to
 * the control thread rather than wait for an app thread that may not run). */
static inline int pshare_states_trylock(uint32_t *word)
{
    uint32_t c = 0;
    return __atomic_compare_exchange_n(word, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static inline void pshare_states_unlock(uint32_t *word)
{
    pshare_futex_unlock(word, 0);
}

#endif
