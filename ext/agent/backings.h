/*
 * backings.h - home's shared regions and what backs them.
 *
 * A MAP_SHARED mapping with several ranks (ext/rt/memory.c's shared regions)
 * is on home the file itself, or a memfd for anonymous memory: that is
 * home's copy of its pages, so files, other processes and forked children
 * see it.  The engine reads and writes those pages through its own
 * descriptor of the backing (taken from the app when the mapping is made)
 * instead of the page store, and never punches them: that would free the
 * file's data.
 *
 * Plain C, no MPI: the engine feeds it the mappings home makes and unmakes.
 */
#ifndef PSHARE_BACKINGS_H
#define PSHARE_BACKINGS_H
#include <stdint.h>

struct bk;

struct bk *bk_new(void);
void bk_free(struct bk *t);               /* closes every descriptor */
/* [lo, hi) is a new shared region backed by fd (the table's now) from file
 * offset off; whatever was in the range is cut first.  0, or -1 (no
 * memory: fd is closed). */
int bk_add(struct bk *t, uint64_t lo, uint64_t hi, int fd, int64_t off);
/* [lo, hi) is no longer mapped as it was: the regions in it shrink, split
 * or go.  0, or -1 (no memory). */
int bk_cut(struct bk *t, uint64_t lo, uint64_t hi);
/* Whether any byte of [page, page+len) is a shared region's. */
int bk_any(const struct bk *t, uint64_t page, uint64_t len);
/* len bytes from `page` on, from or into where home keeps them: the store
 * (offset = address) or a shared region's backing.  Past a file's end
 * reads are zeroes and writes are dropped (a write must not make the file
 * longer).  0, or -1. */
int bk_io(const struct bk *t, int store, uint8_t *buf, uint64_t len, uint64_t page, int write);
/* fd, or when its description is O_APPEND (pwrite obeys it on Linux: every
 * page would land at the end) one of its own, reopened through /proc; -1
 * when that fails.  fd is the caller's to give, and is closed then. */
int bk_own_description(int fd);

#endif
