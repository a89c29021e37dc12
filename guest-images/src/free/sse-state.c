/* sse-state: the SSE state (XMM0-7, MXCSR) and the MMX registers through the
 * instructions growsdown has for them today, for `growsdown difftest`, which
 * compares XMM0-7 and MXCSR after every instruction (docs/difftest.md, "SSE
 * state").
 *
 *   xmm   FXRSTOR loads XMM0-7 with fixed patterns, then the packed-integer
 *         family runs on them: add/sub (wrapping, saturating), multiplies,
 *         PMADDWD, PSADBW, PAVG, PMIN/PMAX, compares, logic (also ANDPS..XORPD),
 *         shifts by imm8 and by register, byte shifts, SSSE3 PABS/PSIGN/PHADD/
 *         PHSUB/PMADDUBSW/PMULHRSW, memory sources, the same register twice;
 *   mxcsr LDMXCSR/STMXCSR with each rounding mode, FZ, DAZ, the flags, all
 *         exceptions unmasked, and an MXCSR loaded by FXRSTOR;
 *   mmx   FXRSTOR loads MM0-7 (the x87 significands), MMX arithmetic writes them
 *         (the CPU sets the register's sign+exponent to all ones, TOP to 0 and
 *         every tag valid), EMMS empties the tags;
 *   float moves, shuffles and SSE/SSE2/SSE3 floating point with MXCSR's flags:
 *         MOVAPS/MOVUPS/MOVD/MOVQ/MOVSS/MOVSD, PSHUFD/SHUFPS/UNPCKLPS/PSHUFB/
 *         PALIGNR, ADDPS/MULPD/DIVSS (1/3: PE; 1/0: ZE)/SQRTSD/MINPS/MAXPD/HADDPS,
 *         CVTSI2SD/CVTTSD2SI/CVTPS2PD, COMISD/UCOMISS (EFLAGS), RCPPS/RSQRTSS
 *         (approximations: the host's tables), each rounding mode for one
 *         division, and a denormal with DAZ and FZ.
 *
 * No argument: every part in this order. After each group the state is read with
 * FXSAVE and printed (MXCSR, the abridged tag, the registers in hex), so a `run`
 * can be checked against the host too. Libc-free (rt.c): the same instruction
 * count under QEMU and under the host CPU, and a short difftest. No moves, no
 * floating point: only instructions growsdown has had since the packed-integer
 * family, except the float part. */
#include "rt.h"

typedef unsigned char u8;
typedef unsigned long long u64;

static u8 area[512] __attribute__((aligned(16)));
static u32 mem16[4] __attribute__((aligned(16))) = {0x80017fff, 0x0000ffff, 0x7f7f8080, 0xdeadbeef};

/* XMM0-7 (and, for the mmx part, MM0-7) before each group: fixed words chosen to
 * reach the saturations, sign changes and carries. */
static const u32 PAT[8][4] = {
    {0x01234567, 0x89abcdef, 0xfedcba98, 0x76543210}, {0x7fff8000, 0x80007fff, 0xffff0001, 0x00010000},
    {0x7f807f80, 0x01ff00fe, 0x80808080, 0x7f7f7f7f}, {0xffffffff, 0x00000000, 0x80000000, 0x7fffffff},
    {0x12345678, 0x9abcdef0, 0x0fedcba9, 0x87654321}, {0x00ff00ff, 0xff00ff00, 0x55aa55aa, 0xaa55aa55},
    {0xc0000001, 0x3fffffff, 0x00000002, 0xfffffffe}, {0x0000007f, 0x00008000, 0x80000000, 0x00000081},
};

static void put_word(u32 v) {
    char b[9];
    for (int i = 7; i >= 0; i--) {
        b[i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    }
    b[8] = 0;
    rt_puts(b);
}

static u32 word(unsigned off) {
    return area[off] | (u32)area[off + 1] << 8 | (u32)area[off + 2] << 16 | (u32)area[off + 3] << 24;
}

/* FXSAVE image: MXCSR at 24, ST/MM registers at 32 + 16i, XMM registers at 160 + 16i. */
static void load(u32 mxcsr) {
    __asm__ volatile("fxsave %0" : "=m"(area));
    for (int i = 0; i < 8; i++) {
        memcpy(area + 160 + 16 * i, PAT[i], 16);
        memcpy(area + 32 + 16 * i, PAT[i], 8);
        area[32 + 16 * i + 8] = (u8)i; /* sign+exponent: not all ones */
        area[32 + 16 * i + 9] = 0x40;
    }
    area[4] = 0xff; /* abridged tag: all valid */
    memcpy(area + 24, &mxcsr, 4);
    __asm__ volatile("fxrstor %0" : : "m"(area));
}

static void dump_xmm(const char *name) {
    __asm__ volatile("fxsave %0" : "=m"(area));
    rt_puts(name);
    rt_puts(": mxcsr=");
    put_word(word(24));
    rt_puts("\n");
    for (int i = 0; i < 8; i++) {
        rt_puts("  xmm");
        rt_putudec((u32)i);
        rt_puts("=");
        for (int w = 3; w >= 0; w--)
            put_word(word(160 + 16 * i + 4 * w));
        rt_puts("\n");
    }
}

static void dump_mmx(const char *name) {
    __asm__ volatile("fxsave %0" : "=m"(area));
    rt_puts(name);
    rt_puts(": fsw=");
    put_word(word(0) >> 16);
    rt_puts(" ftw=");
    put_word(area[4]);
    rt_puts("\n");
    for (int i = 0; i < 8; i++) {
        rt_puts("  r");
        rt_putudec((u32)i);
        rt_puts("=");
        put_word(word(32 + 16 * i + 8) & 0xffff);
        rt_puts(":");
        put_word(word(32 + 16 * i + 4));
        put_word(word(32 + 16 * i));
        rt_puts("\n");
    }
}

static void part_xmm(void) {
    load(0x1f80);
    __asm__ volatile("paddb %%xmm1, %%xmm0\n\tpaddw %%xmm2, %%xmm1\n\tpaddd %%xmm3, %%xmm2\n\t"
                     "paddq %%xmm4, %%xmm3\n\tpsubusb %%xmm5, %%xmm4\n\tpsubsw %%xmm6, %%xmm5\n\t"
                     "paddsb %%xmm7, %%xmm6\n\tpaddusw %%xmm0, %%xmm7\n\tpsubq %%xmm1, %%xmm0\n\t"
                     "psubsb %%xmm2, %%xmm1\n\tpaddsw %%xmm3, %%xmm2\n\tpsubusw %%xmm4, %%xmm3" ::
                         : "memory");
    dump_xmm("add/sub");
    load(0x1f80);
    __asm__ volatile("pmullw %%xmm1, %%xmm0\n\tpmulhw %%xmm2, %%xmm1\n\tpmulhuw %%xmm3, %%xmm2\n\t"
                     "pmuludq %%xmm4, %%xmm3\n\tpmaddwd %%xmm5, %%xmm4\n\tpsadbw %%xmm6, %%xmm5\n\t"
                     "pavgb %%xmm7, %%xmm6\n\tpavgw %%xmm0, %%xmm7" ::
                         : "memory");
    dump_xmm("multiply");
    load(0x1f80);
    __asm__ volatile("pminub %%xmm1, %%xmm0\n\tpmaxub %%xmm2, %%xmm1\n\tpminsw %%xmm3, %%xmm2\n\t"
                     "pmaxsw %%xmm4, %%xmm3\n\tpcmpeqb %%xmm5, %%xmm4\n\tpcmpgtw %%xmm6, %%xmm5\n\t"
                     "pcmpeqd %%xmm7, %%xmm6\n\tpcmpgtd %%xmm0, %%xmm7\n\tpcmpgtb %%xmm1, %%xmm0\n\t"
                     "pcmpeqw %%xmm2, %%xmm2" ::
                         : "memory");
    dump_xmm("min/max/compare");
    load(0x1f80);
    __asm__ volatile("pand %%xmm1, %%xmm0\n\tpandn %%xmm2, %%xmm1\n\tpor %%xmm3, %%xmm2\n\t"
                     "pxor %%xmm4, %%xmm3\n\tandps %%xmm5, %%xmm4\n\tandnpd %%xmm6, %%xmm5\n\t"
                     "orps %%xmm7, %%xmm6\n\txorpd %%xmm0, %%xmm7\n\tpxor %%xmm0, %%xmm0" ::
                         : "memory");
    dump_xmm("logic");
    load(0x1f80);
    __asm__ volatile("psllw $3, %%xmm0\n\tpsrlw $15, %%xmm1\n\tpsraw $4, %%xmm2\n\tpslld $31, %%xmm3\n\t"
                     "psrld $1, %%xmm4\n\tpsrad $31, %%xmm5\n\tpsllq $63, %%xmm6\n\tpsrlq $17, %%xmm7\n\t"
                     "pslldq $5, %%xmm0\n\tpsrldq $11, %%xmm1\n\tpsrlw $16, %%xmm2\n\t"
                     "psllq %%xmm7, %%xmm4\n\tpsrad %%xmm6, %%xmm3\n\tpsrlq %%xmm5, %%xmm6" ::
                         : "memory");
    dump_xmm("shift");
    load(0x1f80);
    __asm__ volatile("pabsb %%xmm1, %%xmm0\n\tpabsw %%xmm2, %%xmm1\n\tpabsd %%xmm3, %%xmm2\n\t"
                     "psignb %%xmm4, %%xmm3\n\tpsignw %%xmm5, %%xmm4\n\tpsignd %%xmm6, %%xmm5\n\t"
                     "phaddw %%xmm7, %%xmm6\n\tphaddd %%xmm0, %%xmm7\n\tphaddsw %%xmm1, %%xmm0\n\t"
                     "phsubw %%xmm2, %%xmm1\n\tphsubd %%xmm3, %%xmm2\n\tphsubsw %%xmm4, %%xmm3\n\t"
                     "pmaddubsw %%xmm5, %%xmm4\n\tpmulhrsw %%xmm6, %%xmm5" ::
                         : "memory");
    dump_xmm("ssse3");
    load(0x1f80);
    __asm__ volatile("paddd (%0), %%xmm0\n\tpxor (%0), %%xmm1\n\tpmaddwd (%0), %%xmm2\n\t"
                     "pcmpgtb (%0), %%xmm3\n\tpsubusb (%0), %%xmm4" ::"r"(mem16)
                     : "memory");
    dump_xmm("memory");
}

static u32 ld_st(u32 v) {
    u32 out;
    __asm__ volatile("ldmxcsr %1\n\tpaddb %%xmm1, %%xmm0\n\tstmxcsr %0" : "=m"(out) : "m"(v) : "memory");
    return out;
}

static void part_mxcsr(void) {
    static const u32 values[] = {0x1f80, 0x3f80, 0x5f80, 0x7f80, 0x9f80, 0x1fc0, 0x1fbf, 0x0000, 0xffff, 0x1f80};
    for (unsigned i = 0; i < sizeof values / sizeof *values; i++) {
        rt_puts("ldmxcsr ");
        put_word(values[i]);
        rt_puts(" -> stmxcsr ");
        put_word(ld_st(values[i]));
        rt_puts("\n");
    }
    load(0x9fe1); /* FZ, all masked, DAZ, PE and IE set */
    dump_xmm("fxrstor mxcsr");
    load(0x1f80);
}

static const float F4[4] __attribute__((aligned(16))) = {1.0f, 3.0f, -2.5f, 1e-30f};
static const double D2[2] __attribute__((aligned(16))) = {2.0, 1e-310};
static const u32 ZERO4[4] __attribute__((aligned(16))) = {0, 0, 0, 0};
static const u32 CSR[5] = {0x1f80, 0x3f80, 0x5f80, 0x7f80, 0x9fc0};

static void part_float(void) {
    load(0x1f80);
    __asm__ volatile("movaps (%0), %%xmm0\n\tmovupd (%1), %%xmm1\n\tmovd %%xmm0, %%eax\n\t"
                     "movd %%eax, %%xmm2\n\tmovq %%xmm1, %%xmm3\n\tmovss 4(%0), %%xmm4\n\t"
                     "movsd (%1), %%xmm5\n\tpshufd $0x1b, %%xmm0, %%xmm6\n\tshufps $0x4e, %%xmm0, %%xmm7\n\t"
                     "unpcklps %%xmm0, %%xmm4\n\tpshufb %%xmm6, %%xmm7\n\tpalignr $5, %%xmm6, %%xmm2" ::"r"(F4),
                     "r"(D2)
                     : "eax", "memory");
    dump_xmm("moves");
    load(0x1f80);
    __asm__ volatile("movaps (%0), %%xmm0\n\tmovaps %%xmm0, %%xmm1\n\taddps %%xmm0, %%xmm1\n\t"
                     "movapd (%1), %%xmm2\n\tmulpd %%xmm2, %%xmm2\n\tmovss (%0), %%xmm3\n\t"
                     "divss 4(%0), %%xmm3\n\tsqrtsd (%1), %%xmm4\n\tminps %%xmm1, %%xmm0\n\t"
                     "maxpd (%1), %%xmm5\n\thaddps %%xmm1, %%xmm1\n\tcvtsi2sd %%ecx, %%xmm6\n\t"
                     "cvttsd2si %%xmm4, %%eax\n\tcvtps2pd %%xmm0, %%xmm7\n\tcomisd %%xmm2, %%xmm4\n\t"
                     "ucomiss %%xmm1, %%xmm0\n\trcpps (%0), %%xmm5\n\trsqrtss 4(%0), %%xmm6" ::"r"(F4),
                     "r"(D2), "c"(7)
                     : "eax", "memory", "cc");
    dump_xmm("arithmetic");
    __asm__ volatile("movss (%0), %%xmm3\n\tdivss (%1), %%xmm3" ::"r"(F4), "r"(ZERO4) : "memory");
    dump_xmm("divide by zero");
    for (unsigned i = 0; i < sizeof CSR / sizeof *CSR; i++) {
        load(CSR[i]);
        __asm__ volatile("movss (%0), %%xmm0\n\tdivss 4(%0), %%xmm0\n\tmovss 12(%0), %%xmm1\n\t"
                         "mulss %%xmm1, %%xmm1\n\taddsd 8(%1), %%xmm2" ::"r"(F4),
                         "r"(D2)
                         : "memory");
        dump_xmm("rounding");
    }
    load(0x1f80);
}

static void part_mmx(void) {
    load(0x1f80);
    __asm__ volatile("paddb %%mm1, %%mm0\n\tpsubsw %%mm2, %%mm1\n\tpmullw %%mm3, %%mm2\n\t"
                     "pmaddwd %%mm4, %%mm3\n\tpcmpgtb %%mm5, %%mm4\n\tpxor %%mm6, %%mm6\n\t"
                     "psllq $7, %%mm7\n\tpsadbw %%mm0, %%mm5\n\tpabsw %%mm1, %%mm0" ::
                         : "memory");
    dump_mmx("mmx");
    __asm__ volatile("emms" ::: "memory");
    dump_mmx("emms");
}

int main(int argc, char **argv) {
    const char *only = argc > 1 ? argv[1] : 0;
    int any = 0;
    struct {
        const char *name;
        void (*run)(void);
    } parts[] = {{"xmm", part_xmm}, {"mxcsr", part_mxcsr}, {"mmx", part_mmx}, {"float", part_float}};
    for (unsigned i = 0; i < sizeof parts / sizeof *parts; i++) {
        const char *a = only, *b = parts[i].name;
        while (a && *a && *a == *b)
            a++, b++;
        if (!only || (*a == 0 && *b == 0)) {
            parts[i].run();
            any = 1;
        }
    }
    if (!any) {
        rt_puts("usage: sse-state [xmm|mxcsr|mmx|float]\n");
        return 2;
    }
    return 0;
}
