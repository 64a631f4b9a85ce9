/* More private mappings than pshare's region table used to hold (32768):
 * alternate protections over 36000 pages give 36000 separate mappings
 * (vm.max_map_count is 65530 by default), then single pages are unmapped in
 * the middle of the last ones.  Every page left keeps its contents, and
 * stays private memory: a forked child's writes do not reach the parent. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGES 36000
#define STEP 61                       /* pages with a marker */

int main(void)
{
    long ps = sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, PAGES * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (long p = 0; p < PAGES; p += STEP)
        memcpy(m + p * ps, &p, sizeof p);
    long failed = 0;
    for (long p = 1; p < PAGES - 2000; p += 2)
        if (mprotect(m + p * ps, ps, PROT_READ) != 0)
            failed++;
    printf("mprotect of every other page: %ld failed\n", failed);
    /* single pages out of the middle of the last mappings */
    long holes[] = { PAGES - 1500, PAGES - 700, PAGES - 4001, PAGES - 9001 };
    for (int i = 0; i < 4; i++)
        if (munmap(m + holes[i] * ps, ps) != 0)
            perror("munmap");
    pid_t child = fork();
    if (child == 0) {                 /* scribble over the child's copy */
        for (long p = 0; p < PAGES; p += STEP)
            if (p % 2 == 0 && p != holes[0] && p != holes[1] && p != holes[2] && p != holes[3])
                memset(m + p * ps, 0x55, sizeof(long));
        _exit(0);
    }
    int st;
    waitpid(child, &st, 0);
    printf("child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    long bad = 0, checked = 0;
    for (long p = 0; p < PAGES; p += STEP) {
        int hole = 0;
        for (int i = 0; i < 4; i++)
            hole |= p == holes[i];
        if (hole)
            continue;
        long v;
        memcpy(&v, m + p * ps, sizeof v);
        bad += v != p;
        checked++;
    }
    printf("markers checked: %ld, wrong: %ld\n", checked, bad);
    /* everything writable again, one mapping per piece, then gone */
    long r = mprotect(m, (PAGES - 10000) * ps, PROT_READ | PROT_WRITE);
    m[5] = 1;
    printf("mprotect back: %ld; munmap all: %d\n", r, munmap(m, PAGES * ps));
    return bad != 0;
}
