/* stdio from threads: printf to stdout and fprintf to stderr in ordered
 * turns (mutex + condvar), fprintf to a shared FILE and to per-thread files,
 * fwrite by one thread and fread by another. Expected exit status: 0 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define NTHREADS 4
#define ROUNDS 5

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int turn;
static FILE *shared;
static pthread_barrier_t bar;

struct rec {
    int id;
    double x;
    char tag[12];
};

static long fread_sum;
static size_t fread_count;

static void *worker(void *arg)
{
    int id = (int)(long)arg;
    for (int r = 0; r < ROUNDS; r++) {
        pthread_mutex_lock(&m);
        while (turn != id)
            pthread_cond_wait(&c, &m);
        printf("round %d: hello from thread %d\n", r, id);
        fprintf(shared, "shared.txt: round %d thread %d value %.3f\n", r, id, r * 1.5 + id);
        if (r == ROUNDS - 1)
            fprintf(stderr, "stderr: thread %d finished its rounds\n", id);
        turn = (turn + 1) % NTHREADS;
        pthread_cond_broadcast(&c);
        pthread_mutex_unlock(&m);
    }

    char name[32];
    snprintf(name, sizeof name, "thread_%d.txt", id);
    FILE *f = fopen(name, "w");
    for (int i = 0; i < 10 * (id + 1); i++)
        fprintf(f, "%d:%d %s\n", id, i, i % 2 ? "odd" : "even");
    fputs("end\n", f);
    fclose(f);

    if (id == 0) {
        FILE *b = fopen("records.bin", "wb");
        for (int i = 0; i < 100; i++) {
            struct rec rr;
            memset(&rr, 0, sizeof rr);
            rr.id = i;
            rr.x = i * 0.25;
            snprintf(rr.tag, sizeof rr.tag, "rec%03d", i);
            fwrite(&rr, sizeof rr, 1, b);
        }
        fclose(b);
    }
    pthread_barrier_wait(&bar);
    if (id == 1) {
        FILE *b = fopen("records.bin", "rb");
        struct rec rr;
        while (fread(&rr, sizeof rr, 1, b) == 1) {
            fread_sum += rr.id + (long)(rr.x * 4) + (rr.tag[5] - '0');
            fread_count++;
        }
        fclose(b);
    }
    return NULL;
}

int main(void)
{
    shared = fopen("shared.txt", "w");
    pthread_barrier_init(&bar, NULL, NTHREADS);
    printf("main: starting %d threads\n", NTHREADS);
    pthread_t t[NTHREADS];
    for (long i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    fclose(shared);
    printf("fread: %zu records, checksum %ld\n", fread_count, fread_sum);

    FILE *f = fopen("thread_3.txt", "r");
    char line[64];
    int lines = 0;
    while (fgets(line, sizeof line, f))
        lines++;
    fclose(f);
    printf("thread_3.txt has %d lines, last: %s", lines, line);
    fputs("main: done\n", stdout);
    fprintf(stderr, "stderr: main done\n");
    return 0;
}
