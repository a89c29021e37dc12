/* ldt: modify_ldt as today's Linux answers it, and LDT segments in use.
 *   - read with no LDT, the default-LDT read, and each argument error (EINVAL,
 *     EFAULT, ENOSYS);
 *   - a 32-bit data segment (base 0x20000000, limit 0xff) loaded into FS: reads and
 *     writes through it, a read past the limit (#GP → SIGSEGV, SI_KERNEL, trapno 13);
 *   - a read-only one (a write is #GP) and an expand-down one (offsets above the
 *     limit are valid, below are not);
 *   - LAR/LSL/VERR/VERW on the LDT selectors, the raw entries read back;
 *   - a far call into a 32-bit LDT code segment based at a function;
 *   - clearing entries the new way (LDT_empty) and the old way (base and limit 0).
 * Prints no address that depends on the layout. */
#define _GNU_SOURCE
#include <asm/ldt.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define BASE 0x20000000u

static long mldt(int func, void *ptr, unsigned long n) {
    long r = syscall(SYS_modify_ldt, func, ptr, n);
    return r < 0 ? -errno : r;
}

static struct user_desc desc(unsigned entry, unsigned base, unsigned limit, int contents, int ro, int is32, int np) {
    struct user_desc d;
    memset(&d, 0, sizeof d);
    d.entry_number = entry;
    d.base_addr = base;
    d.limit = limit;
    d.seg_32bit = is32;
    d.contents = contents;
    d.read_exec_only = ro;
    d.seg_not_present = np;
    d.useable = 1;
    return d;
}

static sigjmp_buf jb;
static volatile int segv_trapno, segv_err, segv_code;
static void on_segv(int sig, siginfo_t *si, void *ctx) {
    (void)sig;
    ucontext_t *uc = ctx;
    segv_code = si->si_code;
    segv_trapno = (int)uc->uc_mcontext.gregs[REG_TRAPNO];
    segv_err = (int)uc->uc_mcontext.gregs[REG_ERR];
    siglongjmp(jb, 1);
}

#define TRY(label, stmt)                                                                          \
    do {                                                                                          \
        if (sigsetjmp(jb, 1) == 0) {                                                              \
            stmt;                                                                                 \
            printf("%s: ok\n", label);                                                            \
        } else                                                                                    \
            printf("%s: SIGSEGV si_code=%#x trapno=%d err=%#x\n", label, segv_code, segv_trapno, \
                   segv_err);                                                                     \
    } while (0)

static uint32_t fs_read(uint32_t off) {
    uint32_t v;
    __asm__ volatile("movl %%fs:(%1), %0" : "=r"(v) : "r"(off) : "memory");
    return v;
}
static void fs_write(uint32_t off, uint32_t v) {
    __asm__ volatile("movl %1, %%fs:(%0)" : : "r"(off), "r"(v) : "memory");
}
static void load_fs(uint16_t sel) {
    __asm__ volatile("movw %0, %%fs" : : "r"(sel));
}

static void query(const char *what, uint16_t sel) {
    uint32_t ar = 0xdeadbeef, lim = 0xdeadbeef;
    uint8_t zar, zlim, zr, zw;
    __asm__ volatile("larl %k2, %0\n setz %1" : "+r"(ar), "=q"(zar) : "r"((uint32_t)sel) : "cc");
    __asm__ volatile("lsll %k2, %0\n setz %1" : "+r"(lim), "=q"(zlim) : "r"((uint32_t)sel) : "cc");
    __asm__ volatile("verr %w1\n setz %0" : "=q"(zr) : "r"(sel) : "cc");
    __asm__ volatile("verw %w1\n setz %0" : "=q"(zw) : "r"(sel) : "cc");
    printf("%s %04x: lar %08x zf=%d lsl %08x zf=%d verr %d verw %d\n", what, sel, ar, zar, lim, zlim, zr, zw);
}

/* Called far through an LDT code segment whose base is this function's address:
 * offset 0 is its first byte. */
extern char farfn[];
__asm__(".text\nfarfn:\n  movl $42, %eax\n  lret\n");

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, 0);
    unsigned char *mem = mmap((void *)BASE, 0x2000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (mem != (void *)BASE)
        return 1;
    for (int i = 0; i < 0x2000; i++)
        mem[i] = (unsigned char)(i * 7 + 1);
    uint64_t buf[16];
    memset(buf, 0xaa, sizeof buf);

    printf("read, no LDT: %ld\n", mldt(0, buf, sizeof buf));
    long dn = mldt(2, buf, 16);
    printf("read default 16: %ld first %016llx\n", dn, (unsigned long long)buf[0]);
    struct user_desc d = desc(1, BASE, 0xff, 0, 0, 1, 0);
    printf("write, bytecount 15: %ld\n", mldt(0x11, &d, 15));
    printf("write, bad pointer: %ld\n", mldt(0x11, (void *)8, sizeof d));
    struct user_desc e = desc(8192, BASE, 0xff, 0, 0, 1, 0);
    printf("write, entry 8192: %ld\n", mldt(0x11, &e, sizeof e));
    e = desc(3, BASE, 0xff, 3, 0, 1, 0);
    printf("write, contents 3 present: %ld\n", mldt(0x11, &e, sizeof e));
    e = desc(3, BASE, 0xff, 3, 0, 1, 1);
    printf("write, contents 3 not present: %ld\n", mldt(0x11, &e, sizeof e));
    printf("write old, contents 3 not present: %ld\n", mldt(1, &e, sizeof e));
    printf("func 3: %ld\n", mldt(3, buf, sizeof buf));

    printf("write data: %ld\n", mldt(0x11, &d, sizeof d));
    uint16_t fs0;
    __asm__ volatile("movw %%fs, %0" : "=r"(fs0));
    load_fs(0x0f);
    uint32_t v = fs_read(0x10);
    fs_write(0x20, 0x11223344);
    load_fs(fs0);
    printf("fs:0x10 = %08x, fs:0x20 wrote %08x\n", v, *(uint32_t *)(mem + 0x20));
    TRY("read fs:0xfd (4 bytes past the limit)", (load_fs(0x0f), v = fs_read(0xfd)));
    load_fs(fs0);
    TRY("read fs:0xfc", (load_fs(0x0f), v = fs_read(0xfc)));
    load_fs(fs0);

    struct user_desc r = desc(2, BASE, 0xff, 0, 1, 1, 0);
    printf("write read-only: %ld\n", mldt(0x11, &r, sizeof r));
    TRY("write through read-only", (load_fs(0x17), fs_write(0, 1)));
    load_fs(fs0);
    struct user_desc x = desc(4, BASE, 0xfff, 1, 0, 1, 0);
    printf("write expand-down: %ld\n", mldt(0x11, &x, sizeof x));
    TRY("expand-down read 0x1000", (load_fs(0x27), v = fs_read(0x1000)));
    load_fs(fs0);
    printf("  value %08x\n", v);
    TRY("expand-down read 0x10", (load_fs(0x27), v = fs_read(0x10)));
    load_fs(fs0);

    struct user_desc c = desc(5, (uint32_t)(uintptr_t)farfn, 0xfff, 2, 1, 1, 0);
    printf("write code: %ld\n", mldt(0x11, &c, sizeof c));
    uint32_t ret = 0;
    static struct {
        uint32_t off;
        uint16_t sel;
    } __attribute__((packed)) target = {0, 0x2f};
    __asm__ volatile("lcall *%1" : "=a"(ret) : "m"(target) : "memory", "cc");
    printf("far call through the LDT: eax=%u\n", ret);

    query("data", 0x0f);
    query("ro", 0x17);
    query("down", 0x27);
    query("code", 0x2f);
    query("absent", 0x1f);
    query("beyond", 0x4f);

    memset(buf, 0xaa, sizeof buf);
    long n = mldt(0, buf, 7 * 8);
    printf("read 56: %ld\n", n);
    for (int i = 0; i < 7; i++) {
        /* The code segment's base is the function's address: masked. */
        uint64_t raw = buf[i];
        if (i == 5)
            raw &= 0x00ffff000000ffffull;
        printf("  entry %d: %016llx\n", i, (unsigned long long)raw);
    }
    printf("read 4: %ld\n", mldt(0, buf, 4));
    struct user_desc empty = desc(2, 0, 0, 0, 1, 0, 1);
    empty.useable = 0;
    printf("clear 2 (LDT_empty): %ld\n", mldt(0x11, &empty, sizeof empty));
    struct user_desc old = desc(4, 0, 0, 0, 0, 1, 0);
    printf("clear 4 (old, base and limit 0): %ld\n", mldt(1, &old, sizeof old));
    struct user_desc oldavl = desc(6, BASE, 0xff, 0, 0, 1, 0);
    printf("write 6 old (no AVL): %ld\n", mldt(1, &oldavl, sizeof oldavl));
    memset(buf, 0xaa, sizeof buf);
    n = mldt(0, buf, 8 * 8);
    printf("read 64: %ld\n", n);
    for (int i = 0; i < 8; i++) {
        uint64_t raw = buf[i];
        if (i == 5)
            raw &= 0x00ffff000000ffffull;
        printf("  entry %d: %016llx\n", i, (unsigned long long)raw);
    }
    query("cleared", 0x17);
    return 0;
}
