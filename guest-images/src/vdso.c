/* The vDSO: found through AT_SYSINFO_EHDR, its ELF header checked, getpid called
 * through __kernel_vsyscall (AT_SYSINFO), a handler installed without SA_RESTORER
 * (raw rt_sigaction, so the kernel returns through the vDSO's trampoline), and
 * __vdso_clock_gettime looked up in the vDSO's own dynamic symbol table.
 * Prints relations only. */
#include <elf.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile int got;
static void *volatile ret_addr;

/* The return address is the frame's pretcode: the vDSO's trampoline. */
static __attribute__((noinline)) void handler(int sig)
{
    got = sig;
    ret_addr = __builtin_return_address(0);
}

/* The kernel's struct sigaction for rt_sigaction (i386). */
struct ksigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    unsigned long mask[2];
};

static long vsyscall0(uintptr_t entry, long nr)
{
    long ret;
    __asm__ volatile("call *%2" : "=a"(ret) : "0"(nr), "r"(entry) : "memory");
    return ret;
}

static const char *maps_has_vdso(void)
{
    static char buf[65536];
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return "no maps";
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *l = strstr(buf, "[vdso]");
    if (!l)
        return "no";
    while (l > buf && l[-1] != '\n')
        l--;
    char *dash = strchr(l, '-');
    unsigned long lo = strtoul(l, 0, 16);
    return lo == getauxval(AT_SYSINFO_EHDR) && dash && dash[10] == 'r' && dash[12] == 'x' ? "yes" : "wrong";
}

int main(void)
{
    setvbuf(stdout, 0, _IONBF, 0);
    uintptr_t ehdr = getauxval(AT_SYSINFO_EHDR);
    uintptr_t sysinfo = getauxval(AT_SYSINFO);
    printf("AT_SYSINFO_EHDR present: %s\n", ehdr ? "yes" : "no");
    printf("AT_SYSINFO present: %s\n", sysinfo ? "yes" : "no");
    if (!ehdr || !sysinfo)
        return 1;
    const Elf32_Ehdr *eh = (const Elf32_Ehdr *)ehdr;
    printf("ELF magic: %s\n", memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 ? "yes" : "no");
    printf("ELFCLASS32: %s, ET_DYN: %s, EM_386: %s\n", eh->e_ident[EI_CLASS] == ELFCLASS32 ? "yes" : "no",
           eh->e_type == ET_DYN ? "yes" : "no", eh->e_machine == EM_386 ? "yes" : "no");
    printf("[vdso] in maps at AT_SYSINFO_EHDR, r-x: %s\n", maps_has_vdso());

    /* The dynamic symbol table, through PT_DYNAMIC (addresses relative to the
     * PT_LOAD's p_vaddr). */
    const Elf32_Phdr *ph = (const Elf32_Phdr *)(ehdr + eh->e_phoff);
    uintptr_t bias = 0;
    const Elf32_Dyn *dyn = 0;
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD)
            bias = ehdr - ph[i].p_vaddr;
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_DYNAMIC)
            dyn = (const Elf32_Dyn *)(bias + ph[i].p_vaddr);
    const Elf32_Sym *symtab = 0;
    const char *strtab = 0;
    const Elf32_Word *hash = 0;
    for (; dyn && dyn->d_tag != DT_NULL; dyn++) {
        if (dyn->d_tag == DT_SYMTAB)
            symtab = (const Elf32_Sym *)(bias + dyn->d_un.d_ptr);
        else if (dyn->d_tag == DT_STRTAB)
            strtab = (const char *)(bias + dyn->d_un.d_ptr);
        else if (dyn->d_tag == DT_HASH)
            hash = (const Elf32_Word *)(bias + dyn->d_un.d_ptr);
    }
    printf("dynamic symbols found: %s\n", symtab && strtab && hash ? "yes" : "no");
    uintptr_t vsys = 0, gettime = 0;
    for (Elf32_Word i = 0; hash && i < hash[1]; i++) {
        const char *name = strtab + symtab[i].st_name;
        if (symtab[i].st_shndx == SHN_UNDEF)
            continue;
        if (strcmp(name, "__kernel_vsyscall") == 0)
            vsys = bias + symtab[i].st_value;
        if (strcmp(name, "__vdso_clock_gettime") == 0)
            gettime = bias + symtab[i].st_value;
    }
    printf("__kernel_vsyscall symbol == AT_SYSINFO: %s\n", vsys == sysinfo ? "yes" : "no");

    long pid = vsyscall0(sysinfo, SYS_getpid);
    printf("getpid through __kernel_vsyscall == getpid(): %s\n", pid == getpid() ? "yes" : "no");

    struct ksigaction ka = {handler, 0, 0, {0, 0}}, old;
    long r = syscall(SYS_rt_sigaction, SIGUSR1, &ka, &old, 8);
    printf("rt_sigaction without SA_RESTORER: %ld\n", r);
    raise(SIGUSR1);
    printf("handler ran and returned: %s\n", got == SIGUSR1 ? "yes" : "no");
    got = 0;
    kill(getpid(), SIGUSR1);
    printf("again: %s\n", got == SIGUSR1 ? "yes" : "no");
    printf("handler returns into the vDSO: %s\n",
           (uintptr_t)ret_addr >= ehdr && (uintptr_t)ret_addr < ehdr + 0x4000 ? "yes" : "no");
    /* SA_SIGINFO: an rt frame, returning through __kernel_rt_sigreturn. */
    ka.flags = SA_SIGINFO;
    got = 0;
    ret_addr = 0;
    r = syscall(SYS_rt_sigaction, SIGUSR2, &ka, &old, 8);
    raise(SIGUSR2);
    printf("rt handler ran (%ld): %s, returns into the vDSO: %s\n", r, got == SIGUSR2 ? "yes" : "no",
           (uintptr_t)ret_addr >= ehdr && (uintptr_t)ret_addr < ehdr + 0x4000 ? "yes" : "no");

    printf("__vdso_clock_gettime found: %s\n", gettime ? "yes" : "no");
    if (gettime) {
        struct timespec ts = {0, 0};
        int (*cg)(clockid_t, struct timespec *) = (int (*)(clockid_t, struct timespec *))gettime;
        time_t before = time(0);
        int rc = cg(CLOCK_REALTIME, &ts);
        time_t after = time(0);
        printf("clock_gettime through the vDSO: %d\n", rc);
        printf("close to time(0): %s\n", ts.tv_sec >= before && ts.tv_sec <= after + 1 ? "yes" : "no");
        rc = cg(CLOCK_MONOTONIC, &ts);
        printf("CLOCK_MONOTONIC: %d, positive: %s\n", rc, ts.tv_sec > 0 || ts.tv_nsec > 0 ? "yes" : "no");
    }
    return 0;
}
