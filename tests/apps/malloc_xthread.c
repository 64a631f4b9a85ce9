/* malloc/free across threads: small blocks and mmap-sized blocks (> 256 KiB)
 * allocated by one thread, verified, realloc'ed and freed by another; plus
 * realloc growth from 16 bytes to 2 MiB with content checks.
 * Expected exit status: 0 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NTHREADS 4
#define NSMALL 64
#define NBIG 2

struct blocks {
    unsigned char *small[NSMALL];
    size_t small_size[NSMALL];
    unsigned char *big[NBIG];
    size_t big_size[NBIG];
};

static struct blocks blk[NTHREADS];
static pthread_barrier_t bar;

struct result {
    unsigned long alloc_sum;  /* checksum written by the allocating thread */
    unsigned long verify_sum; /* checksum recomputed by the freeing thread */
    int verify_ok;
    int realloc_ok;
    size_t realloc_final;
    unsigned long realloc_sum;
};
static struct result res[NTHREADS];

static unsigned char pat(int owner, int blkno, size_t i)
{
    return (unsigned char)(owner * 31 + blkno * 7 + i * 13);
}

static void *worker(void *arg)
{
    int id = (int)(long)arg;
    struct blocks *mine = &blk[id];
    unsigned long sum = 0;
    for (int j = 0; j < NSMALL; j++) {
        size_t sz = 8 + (size_t)((j * 37 + id * 11) % 500);
        mine->small[j] = malloc(sz);
        mine->small_size[j] = sz;
        for (size_t i = 0; i < sz; i++) {
            mine->small[j][i] = pat(id, j, i);
            sum += mine->small[j][i];
        }
    }
    for (int j = 0; j < NBIG; j++) {
        size_t sz = (j == 0 ? 300 * 1024 : 1024 * 1024 + 4096) + (size_t)id * 4096;
        mine->big[j] = malloc(sz);
        mine->big_size[j] = sz;
        for (size_t i = 0; i < sz; i += 61) {
            mine->big[j][i] = pat(id, 100 + j, i);
            sum += mine->big[j][i];
        }
    }
    res[id].alloc_sum = sum;

    pthread_barrier_wait(&bar);

    /* verify and free the blocks of the next thread */
    int other = (id + 1) % NTHREADS;
    struct blocks *theirs = &blk[other];
    unsigned long vsum = 0;
    int ok = 1;
    for (int j = 0; j < NSMALL; j++) {
        for (size_t i = 0; i < theirs->small_size[j]; i++) {
            ok &= theirs->small[j][i] == pat(other, j, i);
            vsum += theirs->small[j][i];
        }
        if (j % 4 == 0) { /* grow someone else's block before freeing it */
            unsigned char *p = realloc(theirs->small[j], theirs->small_size[j] * 3);
            for (size_t i = 0; i < theirs->small_size[j]; i++)
                ok &= p[i] == pat(other, j, i);
            theirs->small[j] = p;
        }
        free(theirs->small[j]);
    }
    for (int j = 0; j < NBIG; j++) {
        for (size_t i = 0; i < theirs->big_size[j]; i += 61) {
            ok &= theirs->big[j][i] == pat(other, 100 + j, i);
            vsum += theirs->big[j][i];
        }
        free(theirs->big[j]);
    }
    res[other].verify_sum = vsum;
    res[other].verify_ok = ok;

    /* realloc growth */
    size_t sz = 16;
    unsigned char *g = malloc(sz);
    for (size_t i = 0; i < sz; i++)
        g[i] = pat(id, 200, i);
    int rok = 1;
    while (sz < 2 * 1024 * 1024) {
        size_t nsz = sz * 2;
        g = realloc(g, nsz);
        for (size_t i = 0; i < sz; i += 7)
            rok &= g[i] == pat(id, 200, i);
        for (size_t i = sz; i < nsz; i++)
            g[i] = pat(id, 200, i);
        sz = nsz;
    }
    unsigned long rs = 0;
    for (size_t i = 0; i < sz; i += 4099)
        rs += g[i];
    free(g);
    res[id].realloc_ok = rok;
    res[id].realloc_final = sz;
    res[id].realloc_sum = rs;
    return NULL;
}

static void *alloc_thread(void *arg)
{
    return malloc((size_t)arg);
}

int main(void)
{
    pthread_barrier_init(&bar, NULL, NTHREADS);
    pthread_t t[NTHREADS];
    for (long i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    int all = 1;
    for (int i = 0; i < NTHREADS; i++) {
        struct result *r = &res[i];
        printf("thread %d blocks: alloc checksum %lu, verified by thread %d: %lu %s\n", i,
               r->alloc_sum, (i + NTHREADS - 1) % NTHREADS, r->verify_sum,
               r->verify_ok && r->alloc_sum == r->verify_sum ? "ok" : "MISMATCH");
        printf("thread %d realloc growth to %zu bytes: %s, sample sum %lu\n", i, r->realloc_final,
               r->realloc_ok ? "ok" : "CORRUPT", r->realloc_sum);
        all &= r->verify_ok && r->realloc_ok && r->alloc_sum == r->verify_sum;
    }
    /* main frees a block allocated by a worker that has already exited */
    void *p = NULL;
    pthread_t t2;
    pthread_create(&t2, NULL, alloc_thread, (void *)(512 * 1024));
    pthread_join(t2, &p);
    printf("block from exited thread: %s\n", p ? "allocated" : "NULL");
    memset(p, 0x5a, 512 * 1024);
    free(p);
    printf("all cross-thread frees done\n");
    return all ? 0 : 1;
}
