/* a worker thread writes to address 0x10 and the process dies of SIGSEGV
 * while main is blocked in pthread_join. Expected exit status: 139 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

static volatile uintptr_t bad_addr = 0x10;

static void *crasher(void *arg)
{
    (void)arg;
    printf("worker: about to write to address 0x10\n");
    fflush(stdout);
    *(volatile int *)bad_addr = 42;
    printf("worker: NOT REACHED\n");
    return NULL;
}

int main(void)
{
    printf("main: starting crasher\n");
    fflush(stdout);
    pthread_t t;
    pthread_create(&t, NULL, crasher, NULL);
    pthread_join(t, NULL);
    printf("main: NOT REACHED\n");
    return 0;
}
