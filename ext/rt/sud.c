/*
 * sud.c - Syscall User Dispatch, armed per thread.
 *
 * The kernel keeps the setting per task and clears it for every new task, so
 * each app thread calls sud_arm() itself before its first app instruction.
 * The selector stays BLOCK for good: the runtime's own syscalls are let
 * through by address (the trampoline section), not by flipping the selector,
 * so there is no window in which an app syscall could slip through.
 */
#include "rt.h"

long sud_arm(void)
{
    rt.sud_selector = SUD_FILTER_BLOCK;
    return sys5(PSHARE_NR_prctl, PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON,
                (uintptr_t)pshare_tramp_start,
                (uintptr_t)(pshare_tramp_end - pshare_tramp_start), &rt.sud_selector);
}
