/* rwlock: readers check an invariant that writers keep under the write lock;
 * tryrdlock/trywrlock give EBUSY while another thread holds the write lock.
 * Expected exit status: 0 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#define NTHREADS 4
#define OPS 500

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static long a, b;
static long reads[NTHREADS], writes[NTHREADS], broken[NTHREADS];

static void *worker(void *arg)
{
    int id = (int)(long)arg;
    for (int j = 0; j < OPS; j++) {
        if (j % 10 == id) {
            pthread_rwlock_wrlock(&rw);
            a++;
            b += 2;
            writes[id]++;
            pthread_rwlock_unlock(&rw);
        } else {
            pthread_rwlock_rdlock(&rw);
            if (b != 2 * a)
                broken[id]++;
            reads[id]++;
            pthread_rwlock_unlock(&rw);
        }
    }
    return NULL;
}

static void *try_worker(void *arg)
{
    int *r = arg;
    r[0] = pthread_rwlock_tryrdlock(&rw);
    r[1] = pthread_rwlock_trywrlock(&rw);
    if (r[0] == 0 || r[1] == 0)
        pthread_rwlock_unlock(&rw); /* drop whichever lock we got */
    return NULL;
}

static const char *ename(int e)
{
    return e == 0 ? "0" : e == EBUSY ? "EBUSY" : "other";
}

int main(void)
{
    pthread_t t[NTHREADS];
    for (long i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    long nb = 0;
    for (int i = 0; i < NTHREADS; i++) {
        printf("thread %d: %ld reads, %ld writes\n", i, reads[i], writes[i]);
        nb += broken[i];
    }
    printf("a = %ld, b = %ld, invariant violations seen by readers: %ld\n", a, b, nb);

    int r[2];
    pthread_t tt;
    pthread_rwlock_wrlock(&rw);
    pthread_create(&tt, NULL, try_worker, r);
    pthread_join(tt, NULL);
    pthread_rwlock_unlock(&rw);
    printf("while write-locked: tryrdlock=%s trywrlock=%s\n", ename(r[0]), ename(r[1]));

    pthread_rwlock_rdlock(&rw);
    pthread_create(&tt, NULL, try_worker, r);
    pthread_join(tt, NULL);
    pthread_rwlock_unlock(&rw);
    printf("while read-locked: tryrdlock=%s trywrlock=%s\n", ename(r[0]), ename(r[1]));
    return nb == 0 ? 0 : 1;
}
