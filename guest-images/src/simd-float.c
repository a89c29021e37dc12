/* SSE, SSE2 and SSE3 floating point, self-checking against the native run.
 *
 *   simd-float                 one line per instruction form: NAME FNV-1a-64 of every
 *                              result and the MXCSR after it, over a table of edge
 *                              values and xorshift operands, in the 4 rounding modes
 *                              with DAZ and FZ off and on (all exceptions masked)
 *   simd-float xm              the same instructions with exceptions unmasked: each
 *                              #XM is caught (SIGFPE, SA_SIGINFO) and si_code, the
 *                              interrupted MXCSR and XMM0 (the destination, which
 *                              must be unchanged) are read from the signal frame
 *   ... verbose NAME           every operand and result of form NAME, in hex
 *
 * Forms: NAME_r has a register source, NAME_m a memory source. The MMX forms also
 * hash the x87 status and tag words after the instruction (the MMX transition).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

typedef struct {
    uint32_t w[4];
} __attribute__((aligned(16))) v128;

/* ---- operands ---- */

static const uint32_t F32_EDGE[] = {
    0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x007fffff, 0x807fffff, 0x00400000,
    0x00800000, 0x80800000, 0x00800001, 0x7f7fffff, 0xff7fffff, 0x7f000000, 0x7f800000,
    0xff800000, 0x7fc00000, 0xffc00000, 0x7fc12345, 0xffd54321, 0x7f812345, 0xff800001,
    0x7fbfffff, 0x3f800000, 0xbf800000, 0x40000000, 0x3f800001, 0x3fffffff, 0x40490fdb,
    0x3eaaaaab, 0x4b000001, 0x4effffff, 0x4f000000, 0xcf000000, 0xcf000001, 0x4f800000,
    0x3f000000, 0x3fc00000, 0x40200000, 0xbfc00000, 0x1f000000, 0x5f800000, 0x0c000000,
    0x72800000, 0x33800000,
};
#define N_F32_EDGE (sizeof F32_EDGE / sizeof F32_EDGE[0])

static const uint64_t F64_EDGE[] = {
    0x0000000000000000ull, 0x8000000000000000ull, 0x0000000000000001ull,
    0x8000000000000001ull, 0x000fffffffffffffull, 0x0008000000000000ull,
    0x0010000000000000ull, 0x8010000000000000ull, 0x7fefffffffffffffull,
    0xffefffffffffffffull, 0x7fe0000000000000ull, 0x7ff0000000000000ull,
    0xfff0000000000000ull, 0x7ff8000000000000ull, 0xfff8000000000000ull,
    0x7ff8000012345678ull, 0x7ff0000012345678ull, 0xfff0000000000001ull,
    0x3ff0000000000000ull, 0xbff0000000000000ull, 0x4000000000000000ull,
    0x3ff0000000000001ull, 0x3fffffffffffffffull, 0x400921fb54442d18ull,
    0x3fd5555555555555ull, 0x41dfffffffe00000ull, 0x41dfffffffc00000ull,
    0x41e0000000000000ull, 0xc1e0000000000000ull, 0xc1e0000000100000ull,
    0xc1e0000000200000ull, 0x3fe0000000000000ull, 0x3ff8000000000000ull,
    0x4004000000000000ull, 0xbff8000000000000ull, 0x1a70000000000000ull,
    0x6570000000000000ull, 0x47efffffe0000000ull, 0x47effffff0000000ull,
    0x47efffffefffffffull, 0x3810000000000000ull, 0x36a0000000000000ull,
    0x3690000000000000ull, 0x3690000000000001ull, 0x3800000000000000ull,
    0x380fffffffffffffull, 0x380fffffe0000000ull, 0x3ff0000010000000ull,
};
#define N_F64_EDGE (sizeof F64_EDGE / sizeof F64_EDGE[0])

static const uint32_t I32_EDGE[] = {
    0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 0x80000001, 0x01000001, 0x00ffffff,
    0x7ffffffe, 12345678, (uint32_t)-16777217, 0x40000001, 0x7fffffc0, 0xffffff81,
};
#define N_I32_EDGE (sizeof I32_EDGE / sizeof I32_EDGE[0])

#define N_RAND 160

static uint32_t xs = 0x9e3779b9u;
static uint32_t rnd(void)
{
    xs ^= xs << 13;
    xs ^= xs >> 17;
    xs ^= xs << 5;
    return xs;
}

/* Random singles: raw bits, ordinary magnitudes, the extremes of the exponent
 * range, and short significands (exact results, ties). */
static uint32_t rnd_f32(void)
{
    uint32_t r = rnd(), s = r & 0x80000000u, m = rnd() & 0x7fffff;
    switch (r & 3) {
    case 0: return rnd();
    case 1: return s | ((100 + r % 55) << 23) | m;
    case 2: return s | ((r >> 4 & 1 ? 246 + (r >> 8) % 9 : (r >> 8) % 9) << 23) | m;
    default: return s | ((120 + (r >> 4) % 15) << 23) | (m & 0x700000);
    }
}

static uint64_t rnd_f64(void)
{
    uint32_t r = rnd();
    uint64_t s = (uint64_t)(r & 0x80000000u) << 32;
    uint64_t m = ((uint64_t)rnd() << 32 | rnd()) & 0xfffffffffffffull;
    switch (r & 3) {
    case 0: return (uint64_t)rnd() << 32 | rnd();
    case 1: return s | (uint64_t)(990 + r % 70) << 52 | m;
    case 2: {
        /* double extremes, and the single range edges (for the narrowing) */
        static const uint32_t e[] = {0, 3, 2044, 2046, 873, 896, 897, 1150, 1151, 1152};
        return s | (uint64_t)e[(r >> 4) % 10] << 52 | m;
    }
    default: return s | (uint64_t)(1016 + (r >> 4) % 15) << 52 | (m & 0xe000000000000ull);
    }
}

static uint32_t rnd_i32(void)
{
    uint32_t r = rnd();
    switch (r & 3) {
    case 0: return rnd();
    case 1: return rnd() >> (r >> 4) % 32;
    case 2: return -(rnd() >> (r >> 4) % 32);
    default: return (rnd() & 0xffffff00u) | 0x80; /* ties for the single conversion */
    }
}

/* Value pools: the edge table then N_RAND random values, as 64-bit slots. */
#define POOL_MAX 256
static uint64_t pool_s[POOL_MAX], pool_d[POOL_MAX], pool_i[POOL_MAX];
static int n_s, n_d, n_i;

static void make_pools(void)
{
    for (unsigned i = 0; i < N_F32_EDGE; i++) pool_s[n_s++] = F32_EDGE[i];
    for (int i = 0; i < N_RAND; i++) pool_s[n_s++] = rnd_f32();
    for (unsigned i = 0; i < N_F64_EDGE; i++) pool_d[n_d++] = F64_EDGE[i];
    for (int i = 0; i < N_RAND; i++) pool_d[n_d++] = rnd_f64();
    for (unsigned i = 0; i < N_I32_EDGE; i++) pool_i[n_i++] = I32_EDGE[i];
    for (int i = 0; i < N_RAND; i++) pool_i[n_i++] = rnd_i32();
}

/* ---- hashing ---- */

static uint64_t h;
static void hash(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
}

/* ---- the instructions ---- */

/* The registers are loaded with FXRSTOR and read back with FXSAVE (the MMX/SSE moves
 * are another family's business): fx_in holds MXCSR, XMM0 = the destination,
 * XMM1 = the source, and for the MMX forms an x87 stack with 1.0 on it (TOP 7) and
 * MM1 = the source, so the MMX transition shows in FSW and FTW afterwards. `s` is
 * the memory source; `gres` gets EAX (conversions to an integer) or EFLAGS (the
 * COMIs). */
static uint8_t fx_in[512] __attribute__((aligned(16)));
static uint8_t fx_out[512] __attribute__((aligned(16)));
static uint32_t gres;
typedef void (*fn_t)(const v128 *s);

#define IO "=m"(fx_out), "=m"(gres) : "m"(fx_in), "m"(*s)
/* no XMM/MMX clobbers: this file is compiled without SSE and never uses them */
#define CLOB "eax", "st", "cc", "memory"

#define BIN(n, insn)                                                                  \
    static void n##_r(const v128 *s)                                                  \
    {                                                                                 \
        __asm__ volatile("fxrstor %2\n\t" insn " %%xmm1, %%xmm0\n\tfxsave %0" : IO : CLOB); \
    }                                                                                 \
    static void n##_m(const v128 *s)                                                  \
    {                                                                                 \
        __asm__ volatile("fxrstor %2\n\t" insn " %3, %%xmm0\n\tfxsave %0" : IO : CLOB); \
    }

#define CMP(n, insn, imm)                                                             \
    static void n##_r(const v128 *s)                                                  \
    {                                                                                 \
        __asm__ volatile("fxrstor %2\n\t" insn " $" #imm ", %%xmm1, %%xmm0\n\tfxsave %0" \
                         : IO : CLOB);                                                \
    }                                                                                 \
    static void n##_m(const v128 *s)                                                  \
    {                                                                                 \
        __asm__ volatile("fxrstor %2\n\t" insn " $" #imm ", %3, %%xmm0\n\tfxsave %0"  \
                         : IO : CLOB);                                                \
    }

/* EFLAGS set to OF SF ZF AF PF CF before, so that clearing shows. */
#define COMI_BODY(insn, src)                                                          \
    "fxrstor %2\n\tmovl $0x8d5, %%eax\n\tpushl %%eax\n\tpopfl\n\t" insn " " src       \
    ", %%xmm0\n\tpushfl\n\tpopl %%eax\n\tandl $0x8d5, %%eax\n\tmovl %%eax, %1\n\t"    \
    "fxsave %0"
#define COMI(n, insn)                                                                 \
    static void n##_r(const v128 *s)                                                  \
    {                                                                                 \
        __asm__ volatile(COMI_BODY(insn, "%%xmm1") : IO : CLOB);                      \
    }                                                                                 \
    static void n##_m(const v128 *s)                                                  \
    {                                                                                 \
        __asm__ volatile(COMI_BODY(insn, "%3") : IO : CLOB);                          \
    }

/* xmm <- r/m32: the integer is s->w[0]. */
#define FROMI(n, insn)                                                                \
    static void n##_r(const v128 *s)                                                  \
    {                                                                                 \
        __asm__ volatile("movl %3, %%eax\n\tfxrstor %2\n\t" insn " %%eax, %%xmm0\n\t" \
                         "fxsave %0" : IO : CLOB);                                    \
    }                                                                                 \
    static void n##_m(const v128 *s)                                                  \
    {                                                                                 \
        __asm__ volatile("fxrstor %2\n\t" insn "l %3, %%xmm0\n\tfxsave %0" : IO : CLOB); \
    }

/* r32 <- xmm/m: EAX is 0x55aa55aa before (unchanged on #XM). */
#define TOI(n, insn)                                                                  \
    static void n##_r(const v128 *s)                                                  \
    {                                                                                 \
        __asm__ volatile("fxrstor %2\n\tmovl $0x55aa55aa, %%eax\n\t" insn " %%xmm1, "  \
                         "%%eax\n\tmovl %%eax, %1\n\tfxsave %0" : IO : CLOB);         \
    }                                                                                 \
    static void n##_m(const v128 *s)                                                  \
    {                                                                                 \
        __asm__ volatile("fxrstor %2\n\tmovl $0x55aa55aa, %%eax\n\t" insn " %3, "      \
                         "%%eax\n\tmovl %%eax, %1\n\tfxsave %0" : IO : CLOB);         \
    }

/* xmm <- mm1/m64 and mm0 <- xmm1/m */
#define FROMMM(n, insn)                                                               \
    static void n##_r(const v128 *s)                                                  \
    {                                                                                 \
        __asm__ volatile("fxrstor %2\n\t" insn " %%mm1, %%xmm0\n\tfxsave %0" : IO : CLOB); \
    }                                                                                 \
    static void n##_m(const v128 *s)                                                  \
    {                                                                                 \
        __asm__ volatile("fxrstor %2\n\t" insn " %3, %%xmm0\n\tfxsave %0" : IO : CLOB); \
    }
#define TOMM(n, insn)                                                                 \
    static void n##_r(const v128 *s)                                                  \
    {                                                                                 \
        __asm__ volatile("fxrstor %2\n\t" insn " %%xmm1, %%mm0\n\tfxsave %0" : IO : CLOB); \
    }                                                                                 \
    static void n##_m(const v128 *s)                                                  \
    {                                                                                 \
        __asm__ volatile("fxrstor %2\n\t" insn " %3, %%mm0\n\tfxsave %0" : IO : CLOB); \
    }

BIN(addps, "addps") BIN(addss, "addss") BIN(addpd, "addpd") BIN(addsd, "addsd")
BIN(subps, "subps") BIN(subss, "subss") BIN(subpd, "subpd") BIN(subsd, "subsd")
BIN(mulps, "mulps") BIN(mulss, "mulss") BIN(mulpd, "mulpd") BIN(mulsd, "mulsd")
BIN(divps, "divps") BIN(divss, "divss") BIN(divpd, "divpd") BIN(divsd, "divsd")
BIN(minps, "minps") BIN(minss, "minss") BIN(minpd, "minpd") BIN(minsd, "minsd")
BIN(maxps, "maxps") BIN(maxss, "maxss") BIN(maxpd, "maxpd") BIN(maxsd, "maxsd")
BIN(sqrtps, "sqrtps") BIN(sqrtss, "sqrtss") BIN(sqrtpd, "sqrtpd") BIN(sqrtsd, "sqrtsd")
BIN(rcpps, "rcpps") BIN(rcpss, "rcpss") BIN(rsqrtps, "rsqrtps") BIN(rsqrtss, "rsqrtss")
BIN(addsubps, "addsubps") BIN(addsubpd, "addsubpd")
BIN(haddps, "haddps") BIN(haddpd, "haddpd") BIN(hsubps, "hsubps") BIN(hsubpd, "hsubpd")
BIN(cvtps2pd, "cvtps2pd") BIN(cvtpd2ps, "cvtpd2ps") BIN(cvtss2sd, "cvtss2sd")
BIN(cvtsd2ss, "cvtsd2ss") BIN(cvtdq2ps, "cvtdq2ps") BIN(cvtps2dq, "cvtps2dq")
BIN(cvttps2dq, "cvttps2dq") BIN(cvtdq2pd, "cvtdq2pd") BIN(cvtpd2dq, "cvtpd2dq")
BIN(cvttpd2dq, "cvttpd2dq")

#define CMP8(n)                                                                       \
    CMP(n##0, #n, 0) CMP(n##1, #n, 1) CMP(n##2, #n, 2) CMP(n##3, #n, 3)               \
    CMP(n##4, #n, 4) CMP(n##5, #n, 5) CMP(n##6, #n, 6) CMP(n##7, #n, 7)
CMP8(cmpps) CMP8(cmpss) CMP8(cmppd) CMP8(cmpsd)
/* imm8 bits 3-7 are ignored by the legacy SSE encodings */
CMP(cmpps11, "cmpps", 11) CMP(cmpsd253, "cmpsd", 253)

COMI(comiss, "comiss") COMI(ucomiss, "ucomiss") COMI(comisd, "comisd")
COMI(ucomisd, "ucomisd")
FROMI(cvtsi2ss, "cvtsi2ss") FROMI(cvtsi2sd, "cvtsi2sd")
TOI(cvtss2si, "cvtss2si") TOI(cvttss2si, "cvttss2si") TOI(cvtsd2si, "cvtsd2si")
TOI(cvttsd2si, "cvttsd2si")
FROMMM(cvtpi2ps, "cvtpi2ps") FROMMM(cvtpi2pd, "cvtpi2pd")
TOMM(cvtps2pi, "cvtps2pi") TOMM(cvttps2pi, "cvttps2pi") TOMM(cvtpd2pi, "cvtpd2pi")
TOMM(cvttpd2pi, "cvttpd2pi")

/* ---- the table of forms ---- */

/* Operand kinds: element type S/D/I, lanes per vector, binary or unary or
 * horizontal. */
enum { S, D, I };
enum { BIN2, UN, HOR };
struct form {
    const char *name;
    fn_t f;
    int type, lanes, arity;
    int out;   /* what the result is beside XMM0 and MXCSR */
    int exact; /* no rounding: only IE and DE, so fewer modes (compares, MIN, MAX) */
};
enum { OUT_XMM, OUT_GPR, OUT_MM };

#define F2(n, t, l, a) {#n "_r", n##_r, t, l, a, OUT_XMM, 0}, {#n "_m", n##_m, t, l, a, OUT_XMM, 0},
#define FE(n, t, l) {#n "_r", n##_r, t, l, BIN2, OUT_XMM, 1}, {#n "_m", n##_m, t, l, BIN2, OUT_XMM, 1},
#define FO(n, t, l, o) {#n "_r", n##_r, t, l, UN, o, 0}, {#n "_m", n##_m, t, l, UN, o, 0},
#define FC(n, t) {#n "_r", n##_r, t, 1, BIN2, OUT_GPR, 1}, {#n "_m", n##_m, t, 1, BIN2, OUT_GPR, 1},
#define FCMP8(n, t, l)                                                                \
    FE(n##0, t, l) FE(n##1, t, l) FE(n##2, t, l) FE(n##3, t, l) FE(n##4, t, l)        \
    FE(n##5, t, l) FE(n##6, t, l) FE(n##7, t, l)

static const struct form forms[] = {
    F2(addps, S, 4, BIN2) F2(addss, S, 1, BIN2) F2(addpd, D, 2, BIN2) F2(addsd, D, 1, BIN2)
    F2(subps, S, 4, BIN2) F2(subss, S, 1, BIN2) F2(subpd, D, 2, BIN2) F2(subsd, D, 1, BIN2)
    F2(mulps, S, 4, BIN2) F2(mulss, S, 1, BIN2) F2(mulpd, D, 2, BIN2) F2(mulsd, D, 1, BIN2)
    F2(divps, S, 4, BIN2) F2(divss, S, 1, BIN2) F2(divpd, D, 2, BIN2) F2(divsd, D, 1, BIN2)
    FE(minps, S, 4) FE(minss, S, 1) FE(minpd, D, 2) FE(minsd, D, 1)
    FE(maxps, S, 4) FE(maxss, S, 1) FE(maxpd, D, 2) FE(maxsd, D, 1)
    F2(sqrtps, S, 4, UN) F2(sqrtss, S, 1, UN) F2(sqrtpd, D, 2, UN) F2(sqrtsd, D, 1, UN)
    F2(rcpps, S, 4, UN) F2(rcpss, S, 1, UN) F2(rsqrtps, S, 4, UN) F2(rsqrtss, S, 1, UN)
    F2(addsubps, S, 4, BIN2) F2(addsubpd, D, 2, BIN2)
    F2(haddps, S, 4, HOR) F2(haddpd, D, 2, HOR) F2(hsubps, S, 4, HOR) F2(hsubpd, D, 2, HOR)
    FCMP8(cmpps, S, 4) FCMP8(cmpss, S, 1) FCMP8(cmppd, D, 2) FCMP8(cmpsd, D, 1)
    FE(cmpps11, S, 4) FE(cmpsd253, D, 1)
    FC(comiss, S) FC(ucomiss, S) FC(comisd, D) FC(ucomisd, D)
    F2(cvtps2pd, S, 2, UN) F2(cvtpd2ps, D, 2, UN) F2(cvtss2sd, S, 1, UN)
    F2(cvtsd2ss, D, 1, UN) F2(cvtdq2ps, I, 4, UN) F2(cvtps2dq, S, 4, UN)
    F2(cvttps2dq, S, 4, UN) F2(cvtdq2pd, I, 2, UN) F2(cvtpd2dq, D, 2, UN)
    F2(cvttpd2dq, D, 2, UN)
    F2(cvtsi2ss, I, 1, UN) F2(cvtsi2sd, I, 1, UN)
    FO(cvtss2si, S, 1, OUT_GPR) FO(cvttss2si, S, 1, OUT_GPR) FO(cvtsd2si, D, 1, OUT_GPR)
    FO(cvttsd2si, D, 1, OUT_GPR)
    FO(cvtpi2ps, I, 2, OUT_MM) FO(cvtpi2pd, I, 2, OUT_MM)
    FO(cvtps2pi, S, 2, OUT_MM) FO(cvttps2pi, S, 2, OUT_MM) FO(cvtpd2pi, D, 2, OUT_MM)
    FO(cvttpd2pi, D, 2, OUT_MM)
};
#define N_FORMS (sizeof forms / sizeof forms[0])

/* ---- unmasked exceptions ---- */

static sigjmp_buf jb;
static volatile int trapped, trap_code;
static uint32_t trap_mxcsr, trap_eflags, trap_eax, trap_sw, trap_tw;
static uint16_t trap_magic;
static v128 trap_xmm0;

/* uc_mcontext.fpregs is Linux's i386 struct _fpstate: sw at byte 4, tag at 8,
 * magic (0 with the FXSR part) at 110, mxcsr at 136, XMM0-7 at 272. */
static void on_fpe(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    const unsigned char *fp = (const unsigned char *)uc->uc_mcontext.fpregs;
    (void)sig;
    trapped = 1;
    trap_code = si->si_code;
    trap_eflags = uc->uc_mcontext.gregs[REG_EFL] & 0x8d5;
    trap_eax = uc->uc_mcontext.gregs[REG_EAX];
    trap_sw = fp ? *(const uint16_t *)(fp + 4) : 0xdead;
    trap_tw = fp ? *(const uint16_t *)(fp + 8) : 0xdead;
    trap_magic = fp ? *(const uint16_t *)(fp + 110) : 0xdead;
    if (fp && trap_magic == 0) {
        memcpy(&trap_mxcsr, fp + 136, 4);
        memcpy(&trap_xmm0, fp + 272, 16);
    } else {
        trap_mxcsr = 0xdeadbeef;
        memset(&trap_xmm0, 0xee, 16);
    }
    siglongjmp(jb, 1);
}

/* ---- the driver ---- */

static int xm, verbose;
static const char *only;

static void put(v128 *v, int type, int lane, uint64_t x)
{
    if (type == D)
        memcpy(&v->w[2 * lane], &x, 8);
    else
        v->w[lane] = (uint32_t)x;
}

static void print_v(const char *what, const void *p)
{
    const uint32_t *w = p;
    printf(" %s %08x%08x%08x%08x", what, w[3], w[2], w[1], w[0]);
}

static void run_one(const struct form *fm, const v128 *a, const v128 *b, uint32_t mode)
{
    static v128 src;
    static const uint32_t mx_default = 0x1f80;
    uint8_t *st = fx_in + 32; /* ST(i) at 16 i */
    src = *b;
    memcpy(fx_in + 24, &mode, 4);
    memcpy(fx_in + 160, a, 16);
    memcpy(fx_in + 176, b, 16);
    if (fm->out == OUT_MM) {
        /* TOP 7, ST(0) = R7 = 1.0 valid; MM1 = R1 = ST(2) = the source */
        static const uint8_t one[10] = {0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f};
        fx_in[2] = 0, fx_in[3] = 0x38, fx_in[4] = 0x80;
        memcpy(st, one, 10);
        memcpy(st + 32, b, 8);
        st[40] = st[41] = 0xff;
    } else {
        fx_in[2] = fx_in[3] = fx_in[4] = 0;
    }
    gres = 0;
    if (xm) {
        trapped = 0;
        if (sigsetjmp(jb, 0) == 0)
            fm->f(&src);
    } else {
        fm->f(&src);
    }
    __asm__ volatile("ldmxcsr %0\n\tfninit" ::"m"(mx_default));
    if (trapped) {
        /* EFLAGS and EAX are results only for COMIS (whose EFLAGS are set before)
         * and the conversions to an integer (EAX set before); elsewhere they hold
         * what the C code left, e.g. flags of arithmetic on the stack pointer. */
        uint32_t g = fm->out != OUT_GPR ? 0 : fm->arity == BIN2 ? trap_eflags : trap_eax;
        uint32_t t[3] = {trap_code, trap_mxcsr, g};
        hash(t, sizeof t);
        hash(&trap_xmm0, 16);
        if (fm->out == OUT_MM) {
            /* the MMX transition is made even when #XM follows */
            uint32_t x87[2] = {trap_sw, trap_tw};
            hash(x87, sizeof x87);
        }
        if (verbose) {
            printf("%s mode %04x", fm->name, mode);
            print_v("a", a);
            print_v("b", b);
            printf(" -> #XM code %d mxcsr %04x eflags %03x eax %08x", trap_code, trap_mxcsr,
                   trap_eflags, trap_eax);
            print_v("xmm0", &trap_xmm0);
            printf(" sw %04x tw %04x magic %04x\n", trap_sw, trap_tw, trap_magic);
        }
        trapped = 0;
        return;
    }
    uint32_t mx;
    memcpy(&mx, fx_out + 24, 4);
    hash(fx_out + 160, 16);
    hash(&mx, 4);
    if (fm->out == OUT_GPR)
        hash(&gres, 4);
    uint32_t x87[4] = {0, 0, 0, 0};
    if (fm->out == OUT_MM) {
        uint16_t fsw = fx_out[2] | fx_out[3] << 8;
        int top = fsw >> 11 & 7;
        x87[0] = fsw;
        x87[1] = fx_out[4];
        memcpy(&x87[2], fx_out + 32 + 16 * ((8 - top) & 7), 8); /* MM0 = R0 */
        hash(x87, sizeof x87);
    }
    if (verbose) {
        printf("%s mode %04x", fm->name, mode);
        print_v("a", a);
        print_v("b", b);
        print_v("->", fx_out + 160);
        printf(" mxcsr %04x", mx);
        if (fm->out == OUT_GPR)
            printf(" gpr %08x", gres);
        if (fm->out == OUT_MM)
            printf(" fsw %04x ftw %02x mm0 %08x%08x", x87[0], x87[1], x87[3], x87[2]);
        printf("\n");
    }
}

static const uint64_t *pool_of(int type, int *n)
{
    switch (type) {
    case S: *n = n_s; return pool_s;
    case D: *n = n_d; return pool_d;
    default: *n = n_i; return pool_i;
    }
}

/* The operand vectors of one form, in order: binary forms take edge x edge pairs
 * then random pairs, one pair per lane; unary forms each pool value once per lane;
 * the other lanes of scalar forms are random. Each is run in every mode. */
static void run_form(const struct form *fm, const uint32_t *modes, int n_modes)
{
    int n;
    const uint64_t *p = pool_of(fm->type, &n);
    int n_edge = fm->type == S ? (int)N_F32_EDGE : fm->type == D ? (int)N_F64_EDGE
                                                                 : (int)N_I32_EDGE;
    int per = fm->lanes;
    int n_pairs = fm->arity == UN ? n : n_edge * n_edge + 2 * N_RAND;
    uint32_t seed = xs;
    h = 0xcbf29ce484222325ull;
    for (int base = 0; base < n_pairs; base += per) {
        v128 a, b;
        for (int k = 0; k < 4; k++) {
            a.w[k] = rnd();
            b.w[k] = rnd();
        }
        for (int k = 0; k < per; k++) {
            int idx = (base + k) % n_pairs;
            uint64_t x, y;
            if (fm->arity == UN) {
                x = 0;
                y = p[idx];
            } else if (idx < n_edge * n_edge) {
                x = p[idx / n_edge];
                y = p[idx % n_edge];
            } else {
                x = p[rnd() % n];
                y = p[rnd() % n];
            }
            if (fm->arity == HOR) {
                /* pairs (x, y) sit side by side: lanes 2k, 2k+1 of a then of b */
                int lanes_per_vec = fm->lanes;
                int slot = 2 * k;
                v128 *v = slot < lanes_per_vec ? &a : &b;
                put(v, fm->type, slot % lanes_per_vec, x);
                put(v, fm->type, slot % lanes_per_vec + 1, y);
            } else {
                if (fm->arity != UN)
                    put(&a, fm->type, k, x);
                put(&b, fm->type, k, y);
            }
        }
        for (int m = 0; m < n_modes; m++)
            run_one(fm, &a, &b, modes[m]);
    }
    xs = seed; /* every form sees the same stream of filler bits */
    printf("%s %016llx\n", fm->name, (unsigned long long)h);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "xm"))
            xm = 1;
        else if (!strcmp(argv[i], "verbose") && i + 1 < argc)
            verbose = 1, only = argv[++i];
    }
    make_pools();
    /* a clean FXSAVE image to patch: FCW 0x37f, XMM2-7 zero */
    __asm__ volatile("fninit\n\tfxsave %0" : "=m"(fx_in));
    memset(fx_in + 192, 0, 128);
    memset(fx_in + 32, 0, 128);
    memset(fx_in + 8, 0, 16); /* FOP, FIP, FCS, FDP, FDS */

    uint32_t modes[32];
    int n_modes = 0;
    if (!xm) {
        /* RC 0-3, each with DAZ/FZ off, DAZ, FZ, both; every exception masked */
        for (int rc = 0; rc < 4; rc++)
            for (int df = 0; df < 4; df++)
                modes[n_modes++] = 0x1f80 | rc << 13 | (df & 1) << 6 | (df & 2) << 14;
    } else {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_fpe;
        sa.sa_flags = SA_SIGINFO | SA_NODEFER; /* siglongjmp needs no mask restore */
        sigaction(SIGFPE, &sa, 0);
        /* each exception unmasked alone, then all; plain, FZ, DAZ; one in RC up */
        for (int e = 0; e <= 6; e++) {
            uint32_t m = e < 6 ? 0x1f80 & ~(0x80u << e) : 0;
            modes[n_modes++] = m;
            modes[n_modes++] = m | 0x8000;
            modes[n_modes++] = m | 0x40;
        }
        modes[n_modes++] = 0x4000 | 0x1380; /* RC up, OE and UE unmasked */
        modes[n_modes++] = 0x6000;          /* RC toward zero, all unmasked */
    }
    /* the exact forms: DAZ and FZ off and on (RC varied along), or for xm IE, DE,
     * all unmasked, with and without DAZ */
    static const uint32_t exact_modes[] = {0x1f80, 0x1fc0, 0xff80, 0xdfc0};
    static const uint32_t exact_xm_modes[] = {0x1f00, 0x1e80, 0x1ec0, 0x0000, 0x8040};
    for (unsigned i = 0; i < N_FORMS; i++) {
        if (only && strcmp(only, forms[i].name))
            continue;
        if (forms[i].exact && xm)
            run_form(&forms[i], exact_xm_modes, 5);
        else if (forms[i].exact)
            run_form(&forms[i], exact_modes, 4);
        else
            run_form(&forms[i], modes, n_modes);
    }
    return 0;
}
