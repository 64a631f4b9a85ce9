/*
 * tramp.S - the only instructions of the app process allowed to enter the kernel.
 *
 * Syscall User Dispatch lets syscalls through when they are made from the
 * address range [pshare_tramp_start, pshare_tramp_end) and raises SIGSYS
 * for every other one.  So every raw syscall of the runtime, the restorer that
 * returns from its signal handlers, and the clone that starts threads live here
 * and nowhere else.
 */
        .section pshare_tramp,"ax",@progbits
        .globl  pshare_tramp_start
        .hidden pshare_tramp_start
pshare_tramp_start:

/* long pshare_syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6) */
        .p2align 4
        .globl  pshare_syscall6
        .hidden pshare_syscall6
        .type   pshare_syscall6,@function
pshare_syscall6:
        mov     %rdi, %rax
        mov     %rsi, %rdi
        mov     %rdx, %rsi
        mov     %rcx, %rdx
        mov     %r8, %r10
        mov     %r9, %r8
        mov     8(%rsp), %r9
        syscall
        ret
        .size   pshare_syscall6, .-pshare_syscall6

/* The sa_restorer of every handler, ours and the app's: rt_sigreturn. */
        .p2align 4
        .globl  pshare_restore_rt
        .hidden pshare_restore_rt
        .type   pshare_restore_rt,@function
pshare_restore_rt:
        mov     $15, %eax
        syscall
        hlt
        .size   pshare_restore_rt, .-pshare_restore_rt

/* void pshare_sigreturn_to(void *uc): rt_sigreturn through a frame we built;
 * the kernel reads the ucontext at the stack pointer. */
        .p2align 4
        .globl  pshare_sigreturn_to
        .hidden pshare_sigreturn_to
        .type   pshare_sigreturn_to,@function
pshare_sigreturn_to:
        mov     %rdi, %rsp
        mov     $15, %eax
        syscall
        hlt
        .size   pshare_sigreturn_to, .-pshare_sigreturn_to

/*
 * long pshare_clone(unsigned long flags, void *stack, int *ptid, int *ctid,
 *                   unsigned long tls, void (*fn)(void *), void *arg)
 *
 * With fn != NULL the child calls fn(arg) on `stack` and never returns.
 * With fn == NULL (fork-like, stack == 0) the child returns 0 like fork.
 * r9 (fn) survives the syscall in both tasks, so the child can tell.
 */
        .p2align 4
        .globl  pshare_clone
        .hidden pshare_clone
        .type   pshare_clone,@function
pshare_clone:
        mov     8(%rsp), %rax
        test    %r9, %r9
        jz      1f
        and     $-16, %rsi
        sub     $16, %rsi
        mov     %rax, 8(%rsi)
        mov     %r9, 0(%rsi)
1:      mov     %rcx, %r10
        mov     $56, %eax
        syscall
        test    %rax, %rax
        jnz     2f
        test    %r9, %r9
        jz      2f
        xor     %ebp, %ebp
        pop     %rax
        pop     %rdi
        call    *%rax
        hlt
2:      ret
        .size   pshare_clone, .-pshare_clone

        .globl  pshare_tramp_end
        .hidden pshare_tramp_end
pshare_tramp_end:

        .text
/* void pshare_call_on_stack(void (*fn)(void *), void *arg, void *stack_top) */
        .p2align 4
        .globl  pshare_call_on_stack
        .hidden pshare_call_on_stack
        .type   pshare_call_on_stack,@function
pshare_call_on_stack:
        push    %rbp
        mov     %rsp, %rbp
        and     $-16, %rdx
        mov     %rdx, %rsp
        mov     %rdi, %rax
        mov     %rsi, %rdi
        call    *%rax
        mov     %rbp, %rsp
        pop     %rbp
        ret
        .size   pshare_call_on_stack, .-pshare_call_on_stack

        .section .note.GNU-stack,"",@progbits
