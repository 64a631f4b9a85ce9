/* A writer and a reader on two ranks, the pages' managers on a third: every
 * round a writer thread rewrites an array of 6 page groups (16 pages each,
 * one manager per group, dealt round-robin over the ranks), then a reader
 * thread sums it (argv[2] "w": and rewrites it, so the pages go back and
 * forth for writing).  Under pshare with 3 ranks (--placement 1,2) the
 * writer is on rank 1, the reader on rank 2 and a third of the groups are
 * managed by home: for those the owner sends the other its pages itself and
 * the receiver tells the manager (GOT), the owner too for a write (SENT):
 * one hop fewer than through the manager (tests/test_apps.py counts them).
 * argv[1]: rounds (default 20).  stdout: each round's sum, the same at any
 * rank count.  Expected exit status: 0 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define PAGE 4096
#define GROUP (16UL * PAGE)
#define BYTES (6 * GROUP)
#define WORDS (BYTES / sizeof(long))

static long rounds;
static int rewrite;
static long *array;
static pthread_barrier_t written, summed;

static void *writer(void *arg)
{
    (void)arg;
    for (long r = 0; r < rounds; r++) {
        for (unsigned long i = 0; i < WORDS; i++)
            array[i] = (long)i * 3 + r;
        pthread_barrier_wait(&written);
        pthread_barrier_wait(&summed);
    }
    return NULL;
}

static void *reader(void *arg)
{
    (void)arg;
    for (long r = 0; r < rounds; r++) {
        pthread_barrier_wait(&written);
        long sum = 0;
        for (unsigned long i = 0; i < WORDS; i++) {
            sum += array[i] ^ (long)i;
            if (rewrite)
                array[i] = array[i] * 2 + 1;
        }
        printf("round %ld sum %ld\n", r, sum);
        fflush(stdout);
        pthread_barrier_wait(&summed);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    rounds = argc > 1 ? atol(argv[1]) : 20;
    rewrite = argc > 2 && argv[2][0] == 'w';
    if (rounds < 1) {
        fprintf(stderr, "usage: %s [ROUNDS [w]]\n", argv[0]);
        return 2;
    }
    char *raw = mmap(NULL, BYTES + GROUP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return 1;
    array = (long *)(((unsigned long)raw + GROUP - 1) & ~(GROUP - 1));
    pthread_barrier_init(&written, NULL, 2);
    pthread_barrier_init(&summed, NULL, 2);
    pthread_t w, r;
    if (pthread_create(&w, NULL, writer, NULL) != 0 || pthread_create(&r, NULL, reader, NULL) != 0)
        return 1;
    pthread_join(w, NULL);
    pthread_join(r, NULL);
    return 0;
}
