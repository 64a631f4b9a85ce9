/*
 * wire.h - the agent <-> agent messages: one definition for C and Cython
 * (the engine includes it; Python gets the names through pshare._engine).
 *
 * Every message is one MPI message on the engine's own communicator: a
 * fixed header, then `len` payload bytes (a page, a forwarded call's bytes,
 * or a pickled message of the Python side).  Messages between two ranks
 * keep their order (MPI's non-overtaking rule on one communicator and tag),
 * which the protocol relies on: a grant before a later invalidation of the
 * same page, a replay before anything that uses the memory it maps, `bye`
 * last.
 *
 * Page transactions need no key: the manager runs one transaction per page
 * at a time, so an answer names its page and that is enough.
 */
#ifndef PSHARE_WIRE_H
#define PSHARE_WIRE_H
#include <stdint.h>

/* X(name, number, what it carries) - the table the engine dispatches through */
#define PSHARE_WIRE_KINDS(X)                                                        \
    X(FAULT,     1, "-> the page's manager: page, slot, a[0] 1 = write, a[1] read-ahead") \
    X(GRANT,     2, "manager (or the owner) -> rank: page, slot, a[0] state, a[1] pages, a[2] manager + 1 if from the owner (say GOT); payload = them or none") \
    X(FETCH,     3, "manager -> owner: page, a[0] state to drop to (0 = keep), a[1] pages, a[2] requester + 1 (0: answer PAGE here; else GRANT there, and SENT here for a write), slot = its thread's") \
    X(PAGE,      4, "owner -> manager: page, a[1] pages, payload = their bytes")     \
    X(INV,       5, "manager -> holder: page; drop the copy")                      \
    X(INV_DONE,  6, "holder -> manager: page (the INV answer)")                    \
    X(SYS,       7, "-> home: slot, a[0..9] the call, payload = its input bytes")   \
    X(ANSWER,    8, "home -> rank: slot, a[0] result, a[1] flag, payload = output") \
    X(SIGNAL,    9, "home -> rank: a[0] cluster tid, a[1] signal, a[2] PSHARE_SIG_*, a timer's a[3] id, a[4] overrun, a[5] value") \
    X(PY,       10, "payload = a pickled message of the Python side (rare ops)")   \
    X(FWAIT,    11, "-> the futex page's manager: page = address, slot, a[0] bitset") \
    X(FWAKE,    12, "-> the manager: page = address, slot, a[0] how many, a[1] bitset, a[2] the word (-1: unknown); ANSWER a[0] woken") \
    X(FCANCEL,  13, "-> the manager: page = address, slot, a[0] -errno: end the slot's wait") \
    X(FWOKEN,   14, "manager -> waiter's rank: slot, a[0] 0 or -errno (its wait is over)") \
    X(BARRIER,  15, "-> the barrier's manager: page = address, slot, a[0] its thread count") \
    X(GO,       16, "barrier's manager -> rank: slot, a[0] 1 = the serial thread (the round is complete)") \
    X(FENCE,    17, "home -> rank: a[0] the fence's number; ask for no page until UNFENCE") \
    X(FENCED,   18, "rank -> home: a[0] every fence up to this one: all pages it asked for are in, applied") \
    X(UNFENCE,  19, "home -> rank: the fenced op is done everywhere: ask for the held faults") \
    X(GOT,      20, "requester -> manager: page, a[1] pages: a grant its owner sent straight here came") \
    X(SENT,     21, "owner -> manager: page, a[1] pages: a write's run went straight to the requester, dropped here") \
    X(GLOBAL,   22, "-> home: slot, a[0..7] an address-space op or sigaction (RQ_GLOBAL's a[]), payload = its data") \
    X(REPLAY,   23, "home -> rank: page = the op's number, a[0] nr, a[1..6] its arguments as home decided them, a[7] the maker's rank << 8, a[8..9] the range whose pages start over; payload = home's data (a file's path, a sigaction)") \
    X(REPLAYED, 24, "rank -> home: page = the op's number, a[0] the replay's result") \
    X(SPAWN,    25, "-> home: slot, a[0] clone flags, a[1] tls, a[2] ctid, a[3] ptid, a[4] new stack; payload = the register frame; ANSWER a[0] the tid, a[1] 1 = start it yourself") \
    X(START,    26, "home -> the thread's rank: a[1] flags, a[2] tls, a[3] ctid, a[4] cluster tid, a[5] ptid, a[6..8] the maker's rank and slot, home's executor for it; payload = the frame") \
    X(STARTED,  27, "rank -> home: a[0] the local tid or -errno, a[1] the thread's slot, a[2..5] START's a[4], a[6..8] back") \
    X(TEXIT,    28, "rank -> home: a[0] the cluster tid of a thread that ended (its executor ends)") \
    X(SWEND,    29, "rank -> home: slot, a[0] the number of its thread's signal wait at home to end (a signal came to the thread)") \
    X(TCALL,    30, "-> home, then the named thread's rank: slot (the caller's), page = the caller's rank << 32 | the named cluster tid, a[0..9] the call (SYS's), payload = its input bytes; the rank that runs it ANSWERs the caller") \
    X(CPUQ,     31, "rank -> every other rank: slot; answer CPUTIME") \
    X(CPUTIME,  32, "-> the CPUQ's rank: slot, a[0..2] the app process's CPU clocks (ns: CPUCLOCK_PROF, _VIRT, _SCHED)")

enum pshare_wire_kind {
#define PSHARE_WIRE_ENUM(name, nr, what) W_##name = nr,
    PSHARE_WIRE_KINDS(PSHARE_WIRE_ENUM)
#undef PSHARE_WIRE_ENUM
    W_NKINDS
};

static const char *const pshare_wire_names[W_NKINDS] = {
#define PSHARE_WIRE_NAME(name, nr, what) [nr] = #name,
    PSHARE_WIRE_KINDS(PSHARE_WIRE_NAME)
#undef PSHARE_WIRE_NAME
};

struct pshare_wire {
    uint32_t kind;          /* enum pshare_wire_kind */
    int32_t slot;           /* the requesting thread's mailbox slot on its rank */
    uint64_t page;          /* page address (FAULT .. INV_DONE), futex address (FWAIT ..) */
    int64_t a[10];          /* kind-specific (SYS: the mailbox's a[]) */
    uint64_t len;           /* payload bytes after the header */
};

#define PSHARE_WIRE_HDR ((int)sizeof(struct pshare_wire))
/* the largest payload: a forwarded call's bytes fill at most one mailbox
 * (256 KiB); a pickled message of the Python side gets a little more */
#define PSHARE_WIRE_MAX_PAYLOAD (260 * 1024)
#define PSHARE_WIRE_MAX (PSHARE_WIRE_HDR + PSHARE_WIRE_MAX_PAYLOAD)

_Static_assert(sizeof(struct pshare_wire) == 104, "the header is part of the protocol");
/* the engine's handler table and per-kind counters */
#define PSHARE_WIRE_SLOTS 48
_Static_assert(W_NKINDS <= PSHARE_WIRE_SLOTS, "the engine's handler table and counters have a slot per kind");
_Static_assert(PSHARE_WIRE_MAX_PAYLOAD >= 256 * 1024, "a mailbox's data must fit (shm.h)");

#endif
