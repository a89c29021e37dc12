/* segments: the descriptor queries a user program may run — LAR, LSL, VERR, VERW —
 * on the selectors Linux gives a 32-bit process (user CS and DS, the TLS entry glibc
 * loads into GS, null and LDT selectors, a kernel selector), ARPL, and SALC.
 * Prints each result with ZF; every selector printed is one whose descriptor is the
 * same under any Linux (no per-CPU or 64-bit-only entries). */
#include <stdint.h>
#include <stdio.h>

/* The TLS selector glibc loads into GS is 0x33 under an i386 kernel and 0x63 under
 * an x86-64 one (GDT_ENTRY_TLS_MIN 6 or 12): printed as "tls". */
static void query(const char *what, uint16_t sel) {
    uint32_t ar = 0xdeadbeef, lim = 0xdeadbeef;
    uint8_t zar, zlim, zr, zw;
    uint16_t ar16 = 0xbeef;
    uint8_t zar16;
    __asm__ volatile("larl %k2, %0\n setz %1" : "+r"(ar), "=q"(zar) : "r"((uint32_t)sel) : "cc");
    __asm__ volatile("larw %2, %0\n setz %1" : "+r"(ar16), "=q"(zar16) : "r"(sel) : "cc");
    __asm__ volatile("lsll %k2, %0\n setz %1" : "+r"(lim), "=q"(zlim) : "r"((uint32_t)sel) : "cc");
    __asm__ volatile("verr %1\n setz %0" : "=q"(zr) : "m"(sel) : "cc");
    __asm__ volatile("verw %w1\n setz %0" : "=q"(zw) : "r"(sel) : "cc");
    char selstr[8];
    snprintf(selstr, sizeof selstr, "%04x", sel);
    printf("%-7s %s: lar %08x zf=%d lar16 %04x zf=%d lsl %08x zf=%d verr zf=%d verw zf=%d\n", what, what[0] == 't' ? "----" : selstr, ar, zar,
           ar16, zar16, lim, zlim, zr, zw);
}

int main(void) {
    uint16_t cs, ds, gs;
    __asm__("mov %%cs, %0" : "=r"(cs));
    __asm__("mov %%ds, %0" : "=r"(ds));
    __asm__("mov %%gs, %0" : "=r"(gs));
    query("cs", cs);
    query("ds", ds);
    query("tls", gs);
    query("cs rpl0", cs & ~3);
    query("null", 0);
    query("null3", 3);
    query("ldt0", 7);
    query("ldt9", 0x4f);
    query("kernel", 0x10);
    query("beyond", 0xfff8);
    for (uint16_t d = 0; d < 8; d++) {
        uint16_t dst = 0x1230 | (d >> 1), src = 0x4560 | (d & 3);
        uint8_t z;
        uint32_t full = 0xabcd0000u | dst;
        __asm__ volatile("arpl %2, %w0\n setz %1" : "+r"(full), "=q"(z) : "r"(src) : "cc");
        uint16_t m = dst;
        uint8_t zm;
        __asm__ volatile("arpl %2, %0\n setz %1" : "+m"(m), "=q"(zm) : "r"(src) : "cc");
        printf("arpl %04x,%04x -> reg %08x zf=%d mem %04x zf=%d\n", dst, src, full, z, m, zm);
    }
    for (int cf = 0; cf < 2; cf++) {
        uint32_t eax = 0x12345678;
        if (cf)
            __asm__ volatile("stc\n .byte 0xd6" : "+a"(eax) : : "cc");
        else
            __asm__ volatile("clc\n .byte 0xd6" : "+a"(eax) : : "cc");
        printf("salc cf=%d -> eax %08x\n", cf, eax);
    }
    return 0;
}
