/* brk-layout: linux24.md §8 scenario 11 on the exact layout it describes (see
 * brk-layout.ld): data PT_LOAD at 0x080A0000, filesz 0x100, memsz 0x1234.
 *
 * Expected under the 2.4 model (all values exact):
 *   start: majflt=2            padzero's early-COW fault + the one text page
 *   bss zero 0x80a0100..0x80a1234: ok   (the file bytes after p_filesz do not show)
 *   brk(0x0)=0x80a1234
 *   brk(0x80a1f00)=0x80a1f00   same page, no VMA change
 *   brk(0x80a3001)=0x80a3001   bss VMA grows to 0x080A1000-0x080A4000
 *   write 0x80a3000: ok
 *   brk(0x80a1500)=0x80a1500   0x080A2000-0x080A4000 unmapped
 *   write 0x80a2000: SIGSEGV si_code=1 si_addr=0x80a2000 trapno=14 err=6 cr2=0x80a2000
 *   brk(0x8000000)=0x80a1500   below end_code: unchanged
 *   setrlimit(RLIMIT_DATA, 0x10000)=0
 *   brk(0x80b0001)=0x80a1500   start_data + 0x10001 > RLIMIT_DATA
 *   brk(0x80b0000)=0x80b0000
 *   brk(0x80a1500)=0x80a1500
 *   mmap(0x80c0000, 4096, fixed)=0x80c0000
 *   brk(0x80bf000)=0x80bf000   one free page left below the mapping
 *   brk(0x80bf001)=0x80bf000   refused: no guard page
 */
#include "rt.h"

/* In .data (the file-backed part of the data page), written by getrusage. */
static struct rt_rusage ru __attribute__((section(".data"))) = {{1}};

static u32 do_brk(u32 want) {
    u32 r = (u32)sys1(SYS_brk, want);
    rt_puts("brk(");
    rt_puthex(want);
    rt_puts(")=");
    rt_puthex(r);
    rt_puts("\n");
    return r;
}

static void probe_write(u32 addr) {
    rt_puts("write ");
    rt_puthex(addr);
    if (rt_probe_write(addr)) {
        rt_puts(": ");
        rt_print_fault();
        rt_puts("\n");
    } else {
        rt_puts(": ok\n");
    }
}

int main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    rt_getrusage(&ru);
    /* Nothing in .bss may be written before the zero check. */
    rt_prog = "brk-layout";
    rt_puts("start: majflt=");
    rt_putdec((s32)RU_MAJFLT(&ru));
    rt_puts("\n");
    int zero = 1;
    for (u32 a = 0x080A0100; a < 0x080A1234; a++)
        if (*(volatile unsigned char *)a) zero = 0;
    rt_puts("bss zero 0x80a0100..0x80a1234: ");
    rt_puts(zero ? "ok\n" : "NOT ZERO\n");
    rt_catch_faults(0);

    do_brk(0);
    do_brk(0x080A1F00);
    do_brk(0x080A3001);
    probe_write(0x080A3000);
    do_brk(0x080A1500);
    probe_write(0x080A2000);
    do_brk(0x08000000);

    u32 saved[2], lim[2] = {0x10000, 0xffffffff};
    sys2(SYS_ugetrlimit, RLIMIT_DATA, (u32)saved);
    lim[1] = saved[1];
    rt_puts("setrlimit(RLIMIT_DATA, 0x10000)=");
    rt_putdec(sys2(SYS_setrlimit, RLIMIT_DATA, (u32)lim));
    rt_puts("\n");
    do_brk(0x080B0001);
    do_brk(0x080B0000);
    do_brk(0x080A1500);
    sys2(SYS_setrlimit, RLIMIT_DATA, (u32)saved);

    rt_puts("mmap(0x80c0000, 4096, fixed)=");
    rt_puthex((u32)rt_mmap(0x080C0000, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED));
    rt_puts("\n");
    do_brk(0x080BF000);
    do_brk(0x080BF001);
    return 0;
}
