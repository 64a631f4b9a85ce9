/* pointers into main's stack handed to threads (threads fill main's local
 * array and write results through pointers to main's locals), and a pointer
 * into a worker's stack handed to another worker while both run.
 * Expected exit status: 0 */
#include <pthread.h>
#include <stdio.h>

#define NTHREADS 4
#define COLS 256

struct arg {
    int id;
    int (*grid)[COLS];      /* points at main's stack */
    long *sum_out;          /* points at main's stack */
    char *name_out;         /* points at main's stack */
};

static pthread_barrier_t bar;
static int *published;      /* points into thread 0's stack */
static long peer_result;

static void *worker(void *p)
{
    struct arg *a = p; /* the struct itself lives on main's stack */
    long s = 0;
    for (int c = 0; c < COLS; c++) {
        a->grid[a->id][c] = (a->id + 1) * 1000 + c;
        s += a->grid[a->id][c];
    }
    *a->sum_out = s;
    snprintf(a->name_out, 16, "worker-%d", a->id);

    int local[32]; /* thread 0 lends this stack array to thread 1 */
    if (a->id == 0) {
        for (int i = 0; i < 32; i++)
            local[i] = -1;
        published = local;
    }
    pthread_barrier_wait(&bar);
    if (a->id == 1)
        for (int i = 0; i < 32; i++)
            published[i] = i * i;
    pthread_barrier_wait(&bar);
    if (a->id == 0) {
        long t = 0;
        for (int i = 0; i < 32; i++)
            t += local[i];
        peer_result = t;
    }
    pthread_barrier_wait(&bar); /* keep local alive until everyone is done */
    return NULL;
}

int main(void)
{
    int grid[NTHREADS][COLS];
    long sums[NTHREADS];
    char names[NTHREADS][16];
    struct arg args[NTHREADS];
    pthread_t t[NTHREADS];
    pthread_barrier_init(&bar, NULL, NTHREADS);
    for (int i = 0; i < NTHREADS; i++) {
        args[i] = (struct arg){ i, grid, &sums[i], names[i] };
        pthread_create(&t[i], NULL, worker, &args[i]);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < NTHREADS; i++) {
        long s = 0;
        for (int c = 0; c < COLS; c++)
            s += grid[i][c];
        printf("%s: row %d first=%d last=%d sum=%ld reported=%ld\n", names[i], i, grid[i][0],
               grid[i][COLS - 1], s, sums[i]);
    }
    printf("thread 1 wrote into thread 0's stack: sum of squares = %ld (expected 10416)\n", peer_result);
    return 0;
}
