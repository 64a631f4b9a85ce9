/* the edge of a neighbour's block, read every round: main writes 3 pages
 * (a row that starts 16 bytes into a page, as malloc'd rows do), the worker
 * (on rank 1 under pshare) reads them all after a barrier, 40 rounds.  Under
 * pshare the worker's read of the first page starts a stream that the next
 * two pages continue; once learned, its first fault asks for all three
 * (the engine's learned runs): one fault a round, not three.
 * Expected exit status: 0 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUNDS 40
#define PAGE 4096
#define ROW (2 * PAGE)

static unsigned char *area;          /* a 16-page group: the row at byte 16 */
static pthread_barrier_t bar;
static long sums[ROUNDS];

static void *worker(void *arg)
{
    (void)arg;
    for (int r = 0; r < ROUNDS; r++) {
        pthread_barrier_wait(&bar);    /* main wrote the row */
        long s = 0;
        for (int i = 0; i < ROW; i += 64)
            s += area[16 + i];
        s += area[16 + ROW - 1];
        sums[r] = s;
        pthread_barrier_wait(&bar);    /* main may write again */
    }
    return NULL;
}

int main(void)
{
    if (posix_memalign((void **)&area, 16 * PAGE, 16 * PAGE))
        return 1;
    memset(area, 0, 16 * PAGE);
    pthread_barrier_init(&bar, NULL, 2);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    for (int r = 0; r < ROUNDS; r++) {
        memset(area + 16, r + 1, ROW);
        pthread_barrier_wait(&bar);
        pthread_barrier_wait(&bar);
    }
    pthread_join(t, NULL);
    long want = 0, right = 0;
    for (int r = 0; r < ROUNDS; r++) {
        want = (long)(r + 1) * (ROW / 64 + 1);
        right += sums[r] == want;
    }
    printf("rounds %d, the worker read main's row right in %ld\n", ROUNDS, right);
    return right == ROUNDS ? 0 : 1;
}
