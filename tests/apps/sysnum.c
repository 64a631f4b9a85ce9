/* syscall counting for pshare --stats-json: exactly 1000 getppid (via
 * syscall(SYS_getppid)), 500 getpid (via syscall(SYS_getpid)), 10 mkdir and
 * 10 rmdir (glibc 2.36 x86_64 mkdir()/rmdir() issue SYS_mkdir/SYS_rmdir),
 * spread over 4 worker threads. Prints only "done". Expected exit status: 0 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NTHREADS 4

static void *worker(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < 1000 / NTHREADS; i++)
        syscall(SYS_getppid);
    for (int i = 0; i < 500 / NTHREADS; i++)
        syscall(SYS_getpid);
    if (id < 2) {
        for (int i = 0; i < 5; i++) {
            char name[48];
            snprintf(name, sizeof name, "sysnum_dir_%ld_%d", id, i);
            mkdir(name, 0755);
            rmdir(name);
        }
    }
    return NULL;
}

int main(void)
{
    pthread_t t[NTHREADS];
    for (long i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    printf("done\n");
    return 0;
}
