/* a worker writes all over memory main filled (under pshare, on another rank:
 * the pages come to it in runs, not one fault each), then reads memory main
 * filled and writes every page of it again (upgrades of the copies it read,
 * in runs too); main checks every byte after the join.
 * Expected exit status: 0 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define PAGES 256
#define PAGE 4096

static unsigned char *a, *b;
static long read_sum;

static void *worker(void *arg)
{
    (void)arg;
    for (int p = 0; p < PAGES; p++)                 /* first writes: runs fetched */
        memset(a + p * PAGE, (p * 7) & 0xff, PAGE);
    for (int p = 0; p < PAGES; p++)                 /* reads: read-ahead */
        read_sum += b[p * PAGE + 11];
    for (int p = 0; p < PAGES; p++)                 /* writes to what it read: runs upgraded */
        b[p * PAGE + 13] = (unsigned char)(b[p * PAGE + 11] + 1);
    return NULL;
}

int main(void)
{
    a = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    b = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED || b == MAP_FAILED)
        return 1;
    for (int p = 0; p < PAGES; p++) {
        memset(a + p * PAGE, 0xee, PAGE);
        memset(b + p * PAGE, p & 0x7f, PAGE);
    }
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    pthread_join(t, NULL);
    long bad_a = 0, bad_b = 0;
    for (int p = 0; p < PAGES; p++)
        for (int i = 0; i < PAGE; i++) {
            bad_a += a[p * PAGE + i] != ((p * 7) & 0xff);
            unsigned char want = i == 13 ? (unsigned char)((p & 0x7f) + 1) : (unsigned char)(p & 0x7f);
            bad_b += b[p * PAGE + i] != want;
        }
    printf("worker read %ld; wrong bytes: %ld in a, %ld in b\n", read_sum, bad_a, bad_b);
    return bad_a || bad_b;
}
