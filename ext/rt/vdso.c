/*
 * vdso.c - the vDSO's getcpu made a system call, so that the runtime sees it.
 *
 * glibc's sched_getcpu (its rseq registration is off: the launcher's
 * glibc.pthread.rseq=0) calls the vDSO's getcpu, which reads the CPU's
 * number without entering the kernel: never trapped.  With the job's CPUs
 * (cpus.c) a thread on another rank then read its node's number, which in
 * the job's numbering is one of home's CPUs, while its affinity named
 * another.  So the runtime overwrites the vDSO's getcpu with
 *     mov $SYS_getcpu, %eax; syscall; ret
 * whose syscall, made outside the trampoline, Syscall User Dispatch traps
 * like any of the app's; dispatch.c answers it in the job's numbers
 * (cpus_getcpu).  The kernel refuses to make the vDSO writable (mprotect:
 * EINVAL on 6.18) but, as for a debugger's breakpoint, a write through
 * /proc/self/mem copies its page: the copy is the process's own, every
 * thread's, and a forked child's.  The rest of the vDSO (the clocks) is
 * untouched and stays fast.  Where the vDSO has no getcpu, or the write is
 * refused, sched_getcpu keeps the node's numbers (README).
 */
#include "rt.h"

#define K_AT_SYSINFO_EHDR 33
#define K_PT_LOAD 1
#define K_SHT_DYNSYM 11

struct elf_ehdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct elf_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};
struct elf_shdr {
    uint32_t name, type;
    uint64_t flags, addr, offset, size;
    uint32_t link, info;
    uint64_t addralign, entsize;
};
struct elf_sym {
    uint32_t name;
    uint8_t info, other;
    uint16_t shndx;
    uint64_t value, size;
};
_Static_assert(sizeof(struct elf_ehdr) == 64 && sizeof(struct elf_phdr) == 56 &&
               sizeof(struct elf_shdr) == 64 && sizeof(struct elf_sym) == 24,
               "ELF64 layouts");

/* The vDSO's address (AT_SYSINFO_EHDR), or 0. */
static uintptr_t vdso_base(void)
{
    uint64_t aux[128];
    long fd = sys3(PSHARE_NR_open, "/proc/self/auxv", K_O_RDONLY | K_O_CLOEXEC, 0);
    if (IS_ERR(fd))
        return 0;
    long n = sys3(PSHARE_NR_read, fd, aux, sizeof aux);
    sys1(PSHARE_NR_close, fd);
    for (long i = 0; i + 1 < (IS_ERR(n) ? 0 : n / 8); i += 2)
        if (aux[i] == K_AT_SYSINFO_EHDR)
            return (uintptr_t)aux[i + 1];
    return 0;
}

/* The address of the vDSO's symbol `name` with at least `len` bytes of code, or 0. */
static uintptr_t vdso_function(uintptr_t base, const char *name, size_t len)
{
    const struct elf_ehdr *eh = (const void *)base;
    if (memcmp(eh->ident, "\177ELF", 4) != 0 || eh->ident[4] != 2 /* 64-bit */ ||
        eh->phentsize != sizeof(struct elf_phdr) || eh->shentsize != sizeof(struct elf_shdr))
        return 0;
    /* the image is mapped from its offset 0: a symbol's value is an
     * address the first PT_LOAD's vaddr maps at its offset */
    const struct elf_phdr *ph = (const void *)(base + eh->phoff);
    long bias = -1;
    for (int i = 0; i < eh->phnum && bias < 0; i++)
        if (ph[i].type == K_PT_LOAD)
            bias = (long)(ph[i].offset - ph[i].vaddr);
    const struct elf_shdr *sh = (const void *)(base + eh->shoff);
    for (int i = 0; bias >= 0 && i < eh->shnum; i++) {
        if (sh[i].type != K_SHT_DYNSYM || sh[i].link >= eh->shnum ||
            sh[i].entsize != sizeof(struct elf_sym))
            continue;
        const struct elf_sym *sym = (const void *)(base + sh[i].offset);
        const char *str = (const char *)(base + sh[sh[i].link].offset);
        for (uint64_t k = 0; k < sh[i].size / sizeof *sym; k++)
            if (sym[k].value && sym[k].size >= len && str_starts(str + sym[k].name, name) &&
                strlen(str + sym[k].name) == strlen(name))
                return base + (uintptr_t)bias + sym[k].value;
    }
    return 0;
}

/* Make the vDSO's getcpu a system call (at start-up, one thread running). */
void vdso_trap_getcpu(void)
{
    static const uint8_t code[8] = {
        0xb8, PSHARE_NR_getcpu & 0xff, PSHARE_NR_getcpu >> 8, 0, 0,   /* mov $nr, %eax */
        0x0f, 0x05,                                                  /* syscall */
        0xc3,                                                        /* ret */
    };
    _Static_assert(PSHARE_NR_getcpu < 0x10000, "the number is two bytes of the mov");
    uintptr_t base = vdso_base();
    uintptr_t fn = base ? vdso_function(base, "__vdso_getcpu", sizeof code) : 0;
    if (!fn)
        return;
    long fd = sys3(PSHARE_NR_open, "/proc/self/mem", K_O_RDWR | K_O_CLOEXEC, 0);
    if (IS_ERR(fd))
        return;
    sys4(PSHARE_NR_pwrite64, fd, code, sizeof code, fn);
    sys1(PSHARE_NR_close, fd);
}
