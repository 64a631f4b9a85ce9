/* The demo's Monte Carlo π (pi.c, unchanged) with its own timing: pi.c's main()
 * is renamed and wrapped, so pshare-bench apps can time the computation
 * without the launcher's start-up.  Prints pi.c's line, then "elapsed_s ...". */
#include "bench.h"

#define main pi_main
#include "pi.c"
#undef main

int main(int argc, char **argv)
{
    int64_t t0 = now_ns();
    int status = pi_main(argc, argv);
    int64_t t1 = now_ns();
    if (status == 0)
        printf("elapsed_s %.6f\n", (t1 - t0) / 1e9);
    return status;
}
