/* dlopen a library by a long path, then another by a shorter one, and call
 * both from workers (on every rank).  Usage: dlopen_paths LONG.so SHORT.so */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static int (*long_fn)(int), (*short_fn)(int);

static void *worker(void *arg)
{
    long i = (long)arg;
    printf("worker %ld: long %d short %d\n", i, long_fn((int)i), short_fn((int)i));
    fflush(stdout);
    return 0;
}

static void *open_fn(const char *path, const char *sym)
{
    void *h = dlopen(path, RTLD_NOW);
    if (!h) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        exit(2);
    }
    void *f = dlsym(h, sym);
    if (!f) {
        fprintf(stderr, "dlsym: %s\n", dlerror());
        exit(2);
    }
    return f;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s LONG.so SHORT.so\n", argv[0]);
        return 2;
    }
    long_fn = (int (*)(int))open_fn(argv[1], "long_fn");
    short_fn = (int (*)(int))open_fn(argv[2], "short_fn");
    printf("main: long %d short %d\n", long_fn(100), short_fn(100));
    fflush(stdout);
    for (long i = 0; i < 4; i++) {      /* one after another: the output order is fixed */
        pthread_t t;
        pthread_create(&t, 0, worker, (void *)i);
        pthread_join(t, 0);
    }
    return 0;
}
