/* simd-mov: the MMX/SSE/SSE2/SSE3/SSSE3 data-movement family, every form, checked
 * by comparing with the native run: moves (MOVD/MOVQ, aligned, unaligned, scalar,
 * half, non-temporal, masked, MOVQ2DQ/MOVDQ2Q, LDDQU, the SSE3 duplicating loads),
 * MOVMSK/PMOVMSKB, PEXTRW/PINSRW, shuffles, PALIGNR, unpacks and packs.
 *
 *   simd-mov                 one line per instruction form: NAME <FNV-1a 64 of results>
 *   simd-mov verbose NAME    every operand and result of the form NAME
 *
 * Each form runs on a table of edge values (0, all ones, sign bits, 0x7f.., 0x80..,
 * lane patterns) and pseudo-random values from a fixed xorshift seed. A store form's
 * destination starts as the complement of its source, so the hash sees exactly which
 * bytes are written. Then:
 *   align.*   every memory form with its operand at offsets 1 and 8 from a 16-byte
 *             boundary: the 16-byte operands of all but MOVUPS/MOVUPD/MOVDQU/LDDQU
 *             fault (#GP, SIGSEGV); the line counts faults and hashes the rest;
 *   page.*    a memory operand crossing into an unmapped page: the handler records
 *             what the faulting instruction had written by then (nothing), maps the
 *             page and returns, so the instruction runs again and completes;
 *   mmxfault.* an MMX instruction faulting on its memory operand leaves the x87
 *             stack as it was: tag and status words of the signal frame's FPU image.
 *
 * Built without -msse: the compiler then emits no MMX/SSE code of its own, so the
 * only such instructions run are those in the asm below (and that is why the asm
 * names no MMX/XMM clobbers: the compiler never allocates those registers). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

typedef struct {
    uint8_t b[16];
} __attribute__((aligned(16))) v128;

typedef void (*fn_t)(const v128 *a, const v128 *b, v128 *o);

/* ---- operands ---- */

#define NV 256
#define NEDGE_PAIR 24 /* the lane-uniform edge values, paired all with all */
static v128 vals[NV];
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t xorshift(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static const uint16_t W[] = {0x0000, 0xffff, 0x8000, 0x7fff, 0x0080, 0x007f, 0x00ff,
                             0xff00, 0xff80, 0x807f, 0x0001, 0xfffe, 0x0100, 0x7f80};
#define NW (sizeof W / sizeof W[0])
static const uint32_t D[] = {0x00000000, 0xffffffff, 0x80000000, 0x7fffffff, 0x00008000,
                             0x00007fff, 0xffff8000, 0xffff7fff, 0x0000ffff, 0xffff0000};
#define ND (sizeof D / sizeof D[0])
static const uint8_t E[] = {0x00, 0xff, 0x80, 0x7f, 0x01, 0xfe, 0x81, 0x7e};

static void set16(v128 *v, int j, uint16_t x) { memcpy(v->b + 2 * j, &x, 2); }
static void set32(v128 *v, int j, uint32_t x) { memcpy(v->b + 4 * j, &x, 4); }

static void init_vals(void) {
    int k = 0;
    for (unsigned i = 0; i < NW; i++, k++)
        for (int j = 0; j < 8; j++) set16(&vals[k], j, W[i]);
    for (unsigned i = 0; i < ND; i++, k++)
        for (int j = 0; j < 4; j++) set32(&vals[k], j, D[i]);
    for (int s = 0; s < 8; s++, k++)
        for (int j = 0; j < 16; j++) vals[k].b[j] = E[(j + s) % 8];
    for (int s = 0; s < 16; s++, k++)
        for (int j = 0; j < 8; j++) set16(&vals[k], j, W[(j * 5 + s * 3) % NW]);
    for (int s = 0; s < 8; s++, k++)
        for (int j = 0; j < 4; j++) set32(&vals[k], j, D[(j * 3 + s) % ND]);
    for (; k < NV; k++) {
        for (int j = 0; j < 4; j++) set32(&vals[k], j, (uint32_t)xorshift());
        if (k % 2 == 0) {
            uint64_t r = xorshift();
            for (int j = 0; j < 8; j++, r >>= 8)
                if (r & 1) set16(&vals[k], j, W[(r >> 1) % NW]);
        }
    }
}

/* ---- results ---- */

static uint64_t h;
static const char *verbose_name;
static int verbose;

static void feed(const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
}

static void hex(const char *tag, const v128 *v) {
    printf(" %s=", tag);
    for (int i = 15; i >= 0; i--) printf("%02x", v->b[i]);
}

static void begin(const char *name) {
    h = 0xcbf29ce484222325ull;
    verbose = verbose_name && strcmp(verbose_name, name) == 0;
}

static void end(const char *name) {
    if (!verbose_name) printf("%s %016llx\n", name, (unsigned long long)h);
}

static v128 A, B, O; /* 16-byte aligned operands */

static void one(fn_t f, const v128 *a, const v128 *b, int imm) {
    A = *a;
    B = *b;
    for (int i = 0; i < 16; i++) O.b[i] = (uint8_t)~a->b[i];
    f(&A, &B, &O);
    feed(&O, sizeof O);
    if (verbose) {
        if (imm >= 0) printf("imm=%#04x", imm);
        hex("a", a);
        hex("b", b);
        hex("out", &O);
        printf("\n");
    }
}

/* All edge pairs, then every value with a scrambled partner. */
static void run(const char *name, fn_t f) {
    begin(name);
    for (int i = 0; i < NEDGE_PAIR; i++)
        for (int j = 0; j < NEDGE_PAIR; j++) one(f, &vals[i], &vals[j], -1);
    for (int i = 0; i < NV; i++) one(f, &vals[i], &vals[(i * 97 + 31) % NV], -1);
    end(name);
}

/* ---- the forms ---- */

/* XMM: register-register (xmm6 <- xmm3), register-memory (xmm1 <- m), memory-register
 * (m <- xmm5). MMX: mm6 <- mm3, mm1 <- m, m <- mm5; EMMS after each MMX form. */
#define XRR(fn, ins)                                                                     \
    static void fn(const v128 *a, const v128 *b, v128 *o) {                              \
        __asm__ volatile("movdqu %1,%%xmm6\n\tmovdqu %2,%%xmm3\n\t" ins " %%xmm3,%%xmm6\n\t" \
                         "movdqu %%xmm6,%0"                                              \
                         : "+m"(*o)                                                      \
                         : "m"(*a), "m"(*b));                                            \
    }
#define XRM(fn, ins)                                                                     \
    static void fn(const v128 *a, const v128 *b, v128 *o) {                              \
        __asm__ volatile("movdqu %1,%%xmm1\n\t" ins " %2,%%xmm1\n\tmovdqu %%xmm1,%0"      \
                         : "+m"(*o)                                                      \
                         : "m"(*a), "m"(*b));                                            \
    }
#define XMR(fn, ins)                                                                     \
    static void fn(const v128 *a, const v128 *b, v128 *o) {                              \
        (void)b;                                                                         \
        __asm__ volatile("movdqu %1,%%xmm5\n\t" ins " %%xmm5,%0" : "+m"(*o) : "m"(*a));   \
    }
#define MRR(fn, ins)                                                                     \
    static void fn(const v128 *a, const v128 *b, v128 *o) {                              \
        __asm__ volatile("movq %1,%%mm6\n\tmovq %2,%%mm3\n\t" ins " %%mm3,%%mm6\n\t"     \
                         "movq %%mm6,%0\n\temms"                                         \
                         : "+m"(*o)                                                      \
                         : "m"(*a), "m"(*b));                                            \
    }
#define MRM(fn, ins)                                                                     \
    static void fn(const v128 *a, const v128 *b, v128 *o) {                              \
        __asm__ volatile("movq %1,%%mm1\n\t" ins " %2,%%mm1\n\tmovq %%mm1,%0\n\temms"    \
                         : "+m"(*o)                                                      \
                         : "m"(*a), "m"(*b));                                            \
    }
#define MMR(fn, ins)                                                                     \
    static void fn(const v128 *a, const v128 *b, v128 *o) {                              \
        (void)b;                                                                         \
        __asm__ volatile("movq %1,%%mm5\n\t" ins " %%mm5,%0\n\temms" : "+m"(*o) : "m"(*a)); \
    }
/* {store}: the register-register form with the store opcode (0F 11, 0F 29, 0F 7F,
 * 66 0F D6 ...), which GAS otherwise never picks. */
#define ST "%{store%} "

/* full-width moves */
#define XMOV4(n, ins) XRR(n##_rr, ins) XRR(n##_rr_st, ST ins) XRM(n##_rm, ins) XMR(n##_mr, ins)
XMOV4(movaps, "movaps")
XMOV4(movups, "movups")
XMOV4(movapd, "movapd")
XMOV4(movupd, "movupd")
XMOV4(movdqa, "movdqa")
XMOV4(movdqu, "movdqu")
XMOV4(movq_x, "movq")
XMOV4(movss, "movss")
XMOV4(movsd, "movsd")
XRM(lddqu_rm, "lddqu")
XMR(movntps_mr, "movntps")
XMR(movntpd_mr, "movntpd")
XMR(movntdq_mr, "movntdq")
MRR(movq_m_rr, "movq")
MRR(movq_m_rr_st, ST "movq")
MRM(movq_m_rm, "movq")
MMR(movq_m_mr, "movq")
MMR(movntq_mr, "movntq")

/* half moves, duplicating loads */
XRM(movlps_rm, "movlps")
XMR(movlps_mr, "movlps")
XRM(movhps_rm, "movhps")
XMR(movhps_mr, "movhps")
XRM(movlpd_rm, "movlpd")
XMR(movlpd_mr, "movlpd")
XRM(movhpd_rm, "movhpd")
XMR(movhpd_mr, "movhpd")
XRR(movhlps_rr, "movhlps")
XRR(movlhps_rr, "movlhps")
XRR(movddup_rr, "movddup")
XRM(movddup_rm, "movddup")
XRR(movsldup_rr, "movsldup")
XRM(movsldup_rm, "movsldup")
XRR(movshdup_rr, "movshdup")
XRM(movshdup_rm, "movshdup")

/* byte shuffles, unpacks, packs */
#define X2(n, ins) XRR(n##_x_rr, ins) XRM(n##_x_rm, ins)
#define M2(n, ins) MRR(n##_m_rr, ins) MRM(n##_m_rm, ins)
#define XM2(n, ins) X2(n, ins) M2(n, ins)
XM2(pshufb, "pshufb")
XM2(punpcklbw, "punpcklbw")
XM2(punpcklwd, "punpcklwd")
XM2(punpckldq, "punpckldq")
XM2(punpckhbw, "punpckhbw")
XM2(punpckhwd, "punpckhwd")
XM2(punpckhdq, "punpckhdq")
X2(punpcklqdq, "punpcklqdq")
X2(punpckhqdq, "punpckhqdq")
X2(unpcklps, "unpcklps")
X2(unpckhps, "unpckhps")
X2(unpcklpd, "unpcklpd")
X2(unpckhpd, "unpckhpd")
XM2(packsswb, "packsswb")
XM2(packssdw, "packssdw")
XM2(packuswb, "packuswb")

/* MOVD between general registers or m32 and MMX/XMM registers; the destination
 * register starts as b, so the zero extension shows. */
static void movd_m_r32(const v128 *a, const v128 *b, v128 *o) {
    uint32_t x;
    memcpy(&x, a->b, 4);
    __asm__ volatile("movq %2,%%mm6\n\tmovd %1,%%mm6\n\tmovq %%mm6,%0\n\temms"
                     : "+m"(*o)
                     : "r"(x), "m"(*b));
}
static void movd_m_m32(const v128 *a, const v128 *b, v128 *o) {
    __asm__ volatile("movq %2,%%mm1\n\tmovd %1,%%mm1\n\tmovq %%mm1,%0\n\temms"
                     : "+m"(*o)
                     : "m"(*a), "m"(*b));
}
static void movd_r32_m(const v128 *a, const v128 *b, v128 *o) {
    uint32_t x;
    (void)b;
    __asm__ volatile("movq %1,%%mm3\n\tmovd %%mm3,%0\n\temms" : "=r"(x) : "m"(*a));
    memcpy(o->b, &x, 4);
}
static void movd_m32_m(const v128 *a, const v128 *b, v128 *o) {
    (void)b;
    __asm__ volatile("movq %1,%%mm5\n\tmovd %%mm5,%0\n\temms" : "+m"(*o) : "m"(*a));
}
static void movd_x_r32(const v128 *a, const v128 *b, v128 *o) {
    uint32_t x;
    memcpy(&x, a->b, 4);
    __asm__ volatile("movdqu %2,%%xmm6\n\tmovd %1,%%xmm6\n\tmovdqu %%xmm6,%0"
                     : "+m"(*o)
                     : "r"(x), "m"(*b));
}
static void movd_x_m32(const v128 *a, const v128 *b, v128 *o) {
    __asm__ volatile("movdqu %2,%%xmm1\n\tmovd %1,%%xmm1\n\tmovdqu %%xmm1,%0"
                     : "+m"(*o)
                     : "m"(*a), "m"(*b));
}
static void movd_r32_x(const v128 *a, const v128 *b, v128 *o) {
    uint32_t x;
    (void)b;
    __asm__ volatile("movdqu %1,%%xmm3\n\tmovd %%xmm3,%0" : "=r"(x) : "m"(*a));
    memcpy(o->b, &x, 4);
}
static void movd_m32_x(const v128 *a, const v128 *b, v128 *o) {
    (void)b;
    __asm__ volatile("movdqu %1,%%xmm5\n\tmovd %%xmm5,%0" : "+m"(*o) : "m"(*a));
}
static void movnti_mr(const v128 *a, const v128 *b, v128 *o) {
    uint32_t x;
    (void)b;
    memcpy(&x, a->b, 4);
    __asm__ volatile("movnti %1,%0" : "+m"(*o) : "r"(x));
}
static void movq2dq_rr(const v128 *a, const v128 *b, v128 *o) {
    __asm__ volatile("movdqu %2,%%xmm6\n\tmovq %1,%%mm3\n\tmovq2dq %%mm3,%%xmm6\n\t"
                     "movdqu %%xmm6,%0\n\temms"
                     : "+m"(*o)
                     : "m"(*a), "m"(*b));
}
static void movdq2q_rr(const v128 *a, const v128 *b, v128 *o) {
    __asm__ volatile("movq %2,%%mm6\n\tmovdqu %1,%%xmm3\n\tmovdq2q %%xmm3,%%mm6\n\t"
                     "movq %%mm6,%0\n\temms"
                     : "+m"(*o)
                     : "m"(*a), "m"(*b));
}

/* MASKMOVQ/MASKMOVDQU: a's bytes where b's byte has bit 7 set, to DS:EDI = o. */
static void maskmovq_(const v128 *a, const v128 *b, v128 *o) {
    __asm__ volatile("movq %1,%%mm6\n\tmovq %2,%%mm3\n\tmaskmovq %%mm3,%%mm6\n\temms"
                     : "+m"(*o)
                     : "m"(*a), "m"(*b), "D"(o));
}
static void maskmovdqu_(const v128 *a, const v128 *b, v128 *o) {
    __asm__ volatile("movdqu %1,%%xmm6\n\tmovdqu %2,%%xmm3\n\tmaskmovdqu %%xmm3,%%xmm6"
                     : "+m"(*o)
                     : "m"(*a), "m"(*b), "D"(o));
}

/* MOVMSKPS/PD, PMOVMSKB: the destination starts as garbage, so the clearing shows. */
#define MSK(fn, load, reg, ins)                                                          \
    static void fn(const v128 *a, const v128 *b, v128 *o) {                              \
        uint32_t x = 0xdeadbeef;                                                         \
        (void)b;                                                                         \
        __asm__ volatile(load " %1,%%" reg "\n\t" ins " %%" reg ",%0\n\temms" : "+r"(x) : "m"(*a)); \
        memcpy(o->b, &x, 4);                                                             \
    }
MSK(movmskps_, "movdqu", "xmm3", "movmskps")
MSK(movmskpd_, "movdqu", "xmm3", "movmskpd")
MSK(pmovmskb_x, "movdqu", "xmm3", "pmovmskb")
MSK(pmovmskb_m, "movq", "mm3", "pmovmskb")

/* ---- imm8 forms: one function per immediate ---- */

#define IMMS(X, n, ins)                                                                  \
    X(n, ins, 0) X(n, ins, 1) X(n, ins, 2) X(n, ins, 3) X(n, ins, 4) X(n, ins, 5)        \
    X(n, ins, 6) X(n, ins, 7) X(n, ins, 8) X(n, ins, 9) X(n, ins, 10) X(n, ins, 11)      \
    X(n, ins, 12) X(n, ins, 13) X(n, ins, 14) X(n, ins, 15) X(n, ins, 16) X(n, ins, 17)  \
    X(n, ins, 18) X(n, ins, 19) X(n, ins, 20) X(n, ins, 21) X(n, ins, 22) X(n, ins, 23)  \
    X(n, ins, 24) X(n, ins, 25) X(n, ins, 26) X(n, ins, 27) X(n, ins, 28) X(n, ins, 29)  \
    X(n, ins, 30) X(n, ins, 31) X(n, ins, 32) X(n, ins, 33) X(n, ins, 48) X(n, ins, 64)  \
    X(n, ins, 0x1b) X(n, ins, 0x39) X(n, ins, 0x4e) X(n, ins, 0x72) X(n, ins, 0x93)      \
    X(n, ins, 0xb1) X(n, ins, 0xc6) X(n, ins, 0xd8) X(n, ins, 0xe4) X(n, ins, 0x80)      \
    X(n, ins, 0x55) X(n, ins, 0xaa) X(n, ins, 0xff)
#define IMMVAL(n, ins, i) i,
static const int imms[] = {IMMS(IMMVAL, _, _)};
#define NIMM ((int)(sizeof imms / sizeof imms[0]))

#define XRRI(n, ins, i)                                                                  \
    static void n##_##i(const v128 *a, const v128 *b, v128 *o) {                         \
        __asm__ volatile("movdqu %1,%%xmm6\n\tmovdqu %2,%%xmm3\n\t" ins " %3,%%xmm3,%%xmm6\n\t" \
                         "movdqu %%xmm6,%0"                                              \
                         : "+m"(*o)                                                      \
                         : "m"(*a), "m"(*b), "i"(i));                                    \
    }
#define XRMI(n, ins, i)                                                                  \
    static void n##_##i(const v128 *a, const v128 *b, v128 *o) {                         \
        __asm__ volatile("movdqu %1,%%xmm1\n\t" ins " %3,%2,%%xmm1\n\tmovdqu %%xmm1,%0"   \
                         : "+m"(*o)                                                      \
                         : "m"(*a), "m"(*b), "i"(i));                                    \
    }
#define MRRI(n, ins, i)                                                                  \
    static void n##_##i(const v128 *a, const v128 *b, v128 *o) {                         \
        __asm__ volatile("movq %1,%%mm6\n\tmovq %2,%%mm3\n\t" ins " %3,%%mm3,%%mm6\n\t"  \
                         "movq %%mm6,%0\n\temms"                                         \
                         : "+m"(*o)                                                      \
                         : "m"(*a), "m"(*b), "i"(i));                                    \
    }
#define MRMI(n, ins, i)                                                                  \
    static void n##_##i(const v128 *a, const v128 *b, v128 *o) {                         \
        __asm__ volatile("movq %1,%%mm1\n\t" ins " %3,%2,%%mm1\n\tmovq %%mm1,%0\n\temms" \
                         : "+m"(*o)                                                      \
                         : "m"(*a), "m"(*b), "i"(i));                                    \
    }
/* PEXTRW r32 <- mm3/xmm3 (destination starts as garbage). */
#define XEXT(n, ins, i)                                                                  \
    static void n##_##i(const v128 *a, const v128 *b, v128 *o) {                         \
        uint32_t x = 0xdeadbeef;                                                         \
        (void)b;                                                                         \
        __asm__ volatile("movdqu %1,%%xmm3\n\t" ins " %2,%%xmm3,%0" : "+r"(x) : "m"(*a), "i"(i)); \
        memcpy(o->b, &x, 4);                                                             \
    }
#define MEXT(n, ins, i)                                                                  \
    static void n##_##i(const v128 *a, const v128 *b, v128 *o) {                         \
        uint32_t x = 0xdeadbeef;                                                         \
        (void)b;                                                                         \
        __asm__ volatile("movq %1,%%mm3\n\t" ins " %2,%%mm3,%0\n\temms" : "+r"(x) : "m"(*a), "i"(i)); \
        memcpy(o->b, &x, 4);                                                             \
    }
/* PINSRW from r32 (b's low doubleword); the memory form is XRMI/MRMI (m16 = b). */
#define XINS(n, ins, i)                                                                  \
    static void n##_##i(const v128 *a, const v128 *b, v128 *o) {                         \
        uint32_t x;                                                                      \
        memcpy(&x, b->b, 4);                                                             \
        __asm__ volatile("movdqu %1,%%xmm6\n\t" ins " %3,%2,%%xmm6\n\tmovdqu %%xmm6,%0"  \
                         : "+m"(*o)                                                      \
                         : "m"(*a), "r"(x), "i"(i));                                     \
    }
#define MINS(n, ins, i)                                                                  \
    static void n##_##i(const v128 *a, const v128 *b, v128 *o) {                         \
        uint32_t x;                                                                      \
        memcpy(&x, b->b, 4);                                                             \
        __asm__ volatile("movq %1,%%mm6\n\t" ins " %3,%2,%%mm6\n\tmovq %%mm6,%0\n\temms" \
                         : "+m"(*o)                                                      \
                         : "m"(*a), "r"(x), "i"(i));                                     \
    }
#define TABREF(n, ins, i) n##_##i,
#define IMMFORM(n, ins, DEF)                                                             \
    IMMS(DEF, n, ins)                                                                    \
    static const fn_t n##_tab[] = {IMMS(TABREF, n, ins)};

IMMFORM(pshufw_rr, "pshufw", MRRI)
IMMFORM(pshufw_rm, "pshufw", MRMI)
IMMFORM(pshufd_rr, "pshufd", XRRI)
IMMFORM(pshufd_rm, "pshufd", XRMI)
IMMFORM(pshufhw_rr, "pshufhw", XRRI)
IMMFORM(pshufhw_rm, "pshufhw", XRMI)
IMMFORM(pshuflw_rr, "pshuflw", XRRI)
IMMFORM(pshuflw_rm, "pshuflw", XRMI)
IMMFORM(shufps_rr, "shufps", XRRI)
IMMFORM(shufps_rm, "shufps", XRMI)
IMMFORM(shufpd_rr, "shufpd", XRRI)
IMMFORM(shufpd_rm, "shufpd", XRMI)
IMMFORM(palignr_x_rr, "palignr", XRRI)
IMMFORM(palignr_x_rm, "palignr", XRMI)
IMMFORM(palignr_m_rr, "palignr", MRRI)
IMMFORM(palignr_m_rm, "palignr", MRMI)
IMMFORM(pextrw_x, "pextrw", XEXT)
IMMFORM(pextrw_m, "pextrw", MEXT)
IMMFORM(pinsrw_x_r32, "pinsrw", XINS)
IMMFORM(pinsrw_x_m16, "pinsrw", XRMI)
IMMFORM(pinsrw_m_r32, "pinsrw", MINS)
IMMFORM(pinsrw_m_m16, "pinsrw", MRMI)

/* ---- the list ---- */

/* mem: 0 no memory operand, 1 memory source (b), 2 memory destination (o). */
struct form {
    const char *name;
    fn_t f;
    const fn_t *tab;
    int mem;
};
#define F(n, mem) {#n, n, 0, mem}
#define FI(n, mem) {#n, 0, n##_tab, mem}
#define FX4(n) F(n##_rr, 0), F(n##_rr_st, 0), F(n##_rm, 1), F(n##_mr, 2)
#define FX2(n) F(n##_x_rr, 0), F(n##_x_rm, 1)
#define FM2(n) F(n##_m_rr, 0), F(n##_m_rm, 1)
static const struct form forms[] = {
    FX4(movaps), FX4(movups), FX4(movapd), FX4(movupd), FX4(movdqa), FX4(movdqu),
    F(lddqu_rm, 1), F(movntps_mr, 2), F(movntpd_mr, 2), F(movntdq_mr, 2),
    FX4(movq_x), F(movq_m_rr, 0), F(movq_m_rr_st, 0), F(movq_m_rm, 1), F(movq_m_mr, 2),
    F(movntq_mr, 2),
    F(movd_m_r32, 0), F(movd_m_m32, 1), F(movd_r32_m, 0), F(movd_m32_m, 2),
    F(movd_x_r32, 0), F(movd_x_m32, 1), F(movd_r32_x, 0), F(movd_m32_x, 2),
    F(movnti_mr, 2), F(movq2dq_rr, 0), F(movdq2q_rr, 0),
    FX4(movss), FX4(movsd),
    F(movlps_rm, 1), F(movlps_mr, 2), F(movhps_rm, 1), F(movhps_mr, 2),
    F(movlpd_rm, 1), F(movlpd_mr, 2), F(movhpd_rm, 1), F(movhpd_mr, 2),
    F(movhlps_rr, 0), F(movlhps_rr, 0),
    F(movddup_rr, 0), F(movddup_rm, 1), F(movsldup_rr, 0), F(movsldup_rm, 1),
    F(movshdup_rr, 0), F(movshdup_rm, 1),
    F(maskmovq_, 0), F(maskmovdqu_, 0),
    F(movmskps_, 0), F(movmskpd_, 0), F(pmovmskb_x, 0), F(pmovmskb_m, 0),
    FI(pextrw_x, 0), FI(pextrw_m, 0),
    FI(pinsrw_x_r32, 0), FI(pinsrw_x_m16, 1), FI(pinsrw_m_r32, 0), FI(pinsrw_m_m16, 1),
    FI(pshufw_rr, 0), FI(pshufw_rm, 1), FI(pshufd_rr, 0), FI(pshufd_rm, 1),
    FI(pshufhw_rr, 0), FI(pshufhw_rm, 1), FI(pshuflw_rr, 0), FI(pshuflw_rm, 1),
    FI(shufps_rr, 0), FI(shufps_rm, 1), FI(shufpd_rr, 0), FI(shufpd_rm, 1),
    FX2(pshufb), FM2(pshufb),
    FI(palignr_x_rr, 0), FI(palignr_x_rm, 1), FI(palignr_m_rr, 0), FI(palignr_m_rm, 1),
    FX2(punpcklbw), FM2(punpcklbw), FX2(punpcklwd), FM2(punpcklwd),
    FX2(punpckldq), FM2(punpckldq), FX2(punpckhbw), FM2(punpckhbw),
    FX2(punpckhwd), FM2(punpckhwd), FX2(punpckhdq), FM2(punpckhdq),
    FX2(punpcklqdq), FX2(punpckhqdq),
    FX2(unpcklps), FX2(unpckhps), FX2(unpcklpd), FX2(unpckhpd),
    FX2(packsswb), FM2(packsswb), FX2(packssdw), FM2(packssdw),
    FX2(packuswb), FM2(packuswb),
};
#define NFORMS ((int)(sizeof forms / sizeof forms[0]))

static void run_imm(const char *name, const fn_t *tab) {
    begin(name);
    for (int k = 0; k < NIMM; k++)
        for (int i = 0; i < NV; i += 4) one(tab[k], &vals[i], &vals[(i * 97 + 31) % NV], imms[k]);
    end(name);
}

/* ---- faults ---- */

static sigjmp_buf jb;
static volatile int fix_page;        /* page.*: map the missing page and return */
static uint8_t *volatile missing;    /* that page */
static volatile int fault_code;
static volatile long fault_addr;     /* si_addr - missing (page.*) or si_addr (align.*) */
static uint8_t snapshot[16];         /* the 16 bytes below `missing` at the fault */
static volatile unsigned fault_tag, fault_sw; /* x87 tag and status words at the fault */

static void on_segv(int sig, siginfo_t *si, void *ctx) {
    struct _libc_fpstate *fp = ((ucontext_t *)ctx)->uc_mcontext.fpregs;
    fault_code = si->si_code;
    fault_tag = fp ? fp->tag & 0xffff : 0xdead;
    fault_sw = fp ? fp->sw & 0xffff : 0xdead;
    if (fix_page) {
        volatile uint8_t *p = missing;
        fault_addr = (long)((uint8_t *)si->si_addr - missing);
        for (int i = 0; i < 16; i++) snapshot[i] = p[i - 16];
        if (mmap((void *)p, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
            MAP_FAILED)
            siglongjmp(jb, 2);
        for (int i = 0; i < 4096; i++) p[i] = (uint8_t)(0x3c + i);
        fix_page = 0;
        return;
    }
    fault_addr = (long)si->si_addr;
    siglongjmp(jb, sig);
}

static void clear_mmx(void) { __asm__ volatile("emms"); }

/* Every memory form with its operand 1 and 8 bytes past a 16-byte boundary. */
static void run_align(const struct form *fm) {
    static uint8_t buf[64] __attribute__((aligned(16)));
    char name[64];
    snprintf(name, sizeof name, "align.%s", fm->name);
    begin(name);
    int faults = 0, code = 0;
    long addr = 0;
    static const int offs[] = {1, 8};
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < NV; i += 16) {
            const v128 *a = &vals[i], *b = &vals[(i * 97 + 31) % NV];
            fn_t f = fm->tab ? fm->tab[i / 16 % NIMM] : fm->f;
            v128 *mb = (v128 *)(buf + 16 + offs[t]);
            memcpy(mb, fm->mem == 1 ? b : a, 16);
            if (fm->mem == 2)
                for (int j = 0; j < 16; j++) mb->b[j] = (uint8_t)~a->b[j];
            A = *a;
            B = *b;
            O = *a;
            if (sigsetjmp(jb, 1) == 0) {
                if (fm->mem == 1)
                    f(&A, mb, &O);
                else
                    f(&A, &B, mb);
            } else {
                clear_mmx();
                faults++;
                code = fault_code;
                addr = fault_addr;
            }
            feed(&O, 16);
            feed(buf, sizeof buf);
            if (verbose) {
                printf("off=%d faults=%d", offs[t], faults);
                hex("a", a);
                hex("b", b);
                hex("out", &O);
                hex("mem", mb);
                printf("\n");
            }
        }
    if (!verbose_name) printf("%s faults=%d si_code=%d si_addr=%ld %016llx\n", name, faults, code, addr,
                              (unsigned long long)h);
}

/* A memory operand `off` bytes below an unmapped page. */
static uint8_t *page;
typedef void (*pagefn_t)(uint8_t *m);
static v128 PA = {{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
                   0xee, 0xff}};
static v128 PB = {{0x80, 0x01, 0xff, 0x7f, 0x80, 0x80, 0x00, 0xc0, 0x81, 0x00, 0x90, 0xff, 0x00,
                   0x00, 0x80, 0x7f}};
static v128 PR; /* a register's value after the instruction */

static void pg_movdqu_st(uint8_t *m) { __asm__ volatile("movdqu %0,%%xmm2\n\tmovdqu %%xmm2,(%1)" ::"m"(PA), "r"(m) : "memory"); }
static void pg_movups_st(uint8_t *m) { __asm__ volatile("movdqu %0,%%xmm2\n\tmovups %%xmm2,(%1)" ::"m"(PA), "r"(m) : "memory"); }
static void pg_movupd_st(uint8_t *m) { __asm__ volatile("movdqu %0,%%xmm2\n\tmovupd %%xmm2,(%1)" ::"m"(PA), "r"(m) : "memory"); }
static void pg_movq_st(uint8_t *m) { __asm__ volatile("movdqu %0,%%xmm2\n\tmovq %%xmm2,(%1)" ::"m"(PA), "r"(m) : "memory"); }
static void pg_movhps_st(uint8_t *m) { __asm__ volatile("movdqu %0,%%xmm2\n\tmovhps %%xmm2,(%1)" ::"m"(PA), "r"(m) : "memory"); }
static void pg_movsd_st(uint8_t *m) { __asm__ volatile("movdqu %0,%%xmm2\n\tmovsd %%xmm2,(%1)" ::"m"(PA), "r"(m) : "memory"); }
static void pg_movss_st(uint8_t *m) { __asm__ volatile("movdqu %0,%%xmm2\n\tmovss %%xmm2,(%1)" ::"m"(PA), "r"(m) : "memory"); }
static void pg_movd_st(uint8_t *m) { __asm__ volatile("movdqu %0,%%xmm2\n\tmovd %%xmm2,(%1)" ::"m"(PA), "r"(m) : "memory"); }
static void pg_movq_mm_st(uint8_t *m) { __asm__ volatile("movq %0,%%mm2\n\tmovq %%mm2,(%1)\n\temms" ::"m"(PA), "r"(m) : "memory"); }
static void pg_maskmovdqu(uint8_t *m) {
    __asm__ volatile("movdqu %0,%%xmm2\n\tmovdqu %1,%%xmm4\n\tmaskmovdqu %%xmm4,%%xmm2" ::"m"(PA), "m"(PB), "D"(m) : "memory");
}
static void pg_maskmovdqu_0(uint8_t *m) { /* mask all zero */
    __asm__ volatile("movdqu %0,%%xmm2\n\tmovdqu %1,%%xmm4\n\tmaskmovdqu %%xmm4,%%xmm2" ::"m"(PA), "m"(O), "D"(m) : "memory");
}
static void pg_maskmovq(uint8_t *m) {
    __asm__ volatile("movq %0,%%mm2\n\tmovq %1,%%mm4\n\tmaskmovq %%mm4,%%mm2\n\temms" ::"m"(PA), "m"(PB), "D"(m) : "memory");
}
/* Loads into a register that also feeds the result (merging or two-operand): the
 * restarted instruction must find it unchanged. */
static void pg_movdqu_ld(uint8_t *m) { __asm__ volatile("movdqu %1,%%xmm2\n\tmovdqu (%2),%%xmm2\n\tmovdqu %%xmm2,%0" : "=m"(PR) : "m"(PA), "r"(m)); }
static void pg_lddqu_ld(uint8_t *m) { __asm__ volatile("movdqu %1,%%xmm2\n\tlddqu (%2),%%xmm2\n\tmovdqu %%xmm2,%0" : "=m"(PR) : "m"(PA), "r"(m)); }
static void pg_movhps_ld(uint8_t *m) { __asm__ volatile("movdqu %1,%%xmm2\n\tmovhps (%2),%%xmm2\n\tmovdqu %%xmm2,%0" : "=m"(PR) : "m"(PA), "r"(m)); }
static void pg_movlpd_ld(uint8_t *m) { __asm__ volatile("movdqu %1,%%xmm2\n\tmovlpd (%2),%%xmm2\n\tmovdqu %%xmm2,%0" : "=m"(PR) : "m"(PA), "r"(m)); }
static void pg_movsd_ld(uint8_t *m) { __asm__ volatile("movdqu %1,%%xmm2\n\tmovsd (%2),%%xmm2\n\tmovdqu %%xmm2,%0" : "=m"(PR) : "m"(PA), "r"(m)); }
static void pg_movddup_ld(uint8_t *m) { __asm__ volatile("movdqu %1,%%xmm2\n\tmovddup (%2),%%xmm2\n\tmovdqu %%xmm2,%0" : "=m"(PR) : "m"(PA), "r"(m)); }
static void pg_pinsrw_x_ld(uint8_t *m) { __asm__ volatile("movdqu %1,%%xmm2\n\tpinsrw $5,(%2),%%xmm2\n\tmovdqu %%xmm2,%0" : "=m"(PR) : "m"(PA), "r"(m)); }
static void pg_pshufb_m_ld(uint8_t *m) { __asm__ volatile("movq %1,%%mm2\n\tpshufb (%2),%%mm2\n\tmovq %%mm2,%0\n\temms" : "=m"(PR) : "m"(PA), "r"(m)); }
static void pg_palignr_m_ld(uint8_t *m) { __asm__ volatile("movq %1,%%mm2\n\tpalignr $3,(%2),%%mm2\n\tmovq %%mm2,%0\n\temms" : "=m"(PR) : "m"(PA), "r"(m)); }
static void pg_punpcklbw_m_ld(uint8_t *m) { __asm__ volatile("movq %1,%%mm2\n\tpunpcklbw (%2),%%mm2\n\tmovq %%mm2,%0\n\temms" : "=m"(PR) : "m"(PA), "r"(m)); }

static const struct {
    const char *name;
    pagefn_t f;
    int off; /* bytes of the operand below the unmapped page */
} pages[] = {
    {"movdqu.st", pg_movdqu_st, 8},     {"movups.st", pg_movups_st, 1},
    {"movupd.st", pg_movupd_st, 15},    {"movq.st", pg_movq_st, 4},
    {"movhps.st", pg_movhps_st, 7},     {"movsd.st", pg_movsd_st, 2},
    {"movss.st", pg_movss_st, 2},       {"movd.st", pg_movd_st, 1},
    {"movq_mm.st", pg_movq_mm_st, 6},   {"maskmovdqu", pg_maskmovdqu, 8},
    {"maskmovdqu.mask0", pg_maskmovdqu_0, 8}, {"maskmovdqu.below", pg_maskmovdqu, 16},
    {"maskmovq", pg_maskmovq, 4},
    {"movdqu.ld", pg_movdqu_ld, 8},     {"lddqu.ld", pg_lddqu_ld, 3},
    {"movhps.ld", pg_movhps_ld, 4},     {"movlpd.ld", pg_movlpd_ld, 5},
    {"movsd.ld", pg_movsd_ld, 7},       {"movddup.ld", pg_movddup_ld, 1},
    {"pinsrw.ld", pg_pinsrw_x_ld, 1},   {"pshufb_mm.ld", pg_pshufb_m_ld, 4},
    {"palignr_mm.ld", pg_palignr_m_ld, 2}, {"punpcklbw_mm.ld", pg_punpcklbw_m_ld, 2},
};

static void run_page(int k) {
    uint8_t *m = page + 4096 - pages[k].off;
    munmap(missing, 4096);
    for (int i = 0; i < 16; i++) page[4096 - 16 + i] = (uint8_t)(0xe0 + i);
    memset(&PR, 0, sizeof PR);
    memset(&O, 0, sizeof O);
    memset(snapshot, 0, sizeof snapshot);
    fault_code = 0;
    fault_addr = -1;
    fix_page = 1;
    if (sigsetjmp(jb, 1) == 0) pages[k].f(m);
    else clear_mmx();
    printf("page.%s si_code=%d si_addr=missing%+ld before:", pages[k].name, fault_code, fault_addr);
    for (int i = 0; i < 16; i++) printf("%02x", snapshot[i]);
    printf(" after:");
    for (int i = 0; i < 24; i++) printf("%02x", page[4096 - 16 + i]);
    printf(" reg:");
    for (int i = 15; i >= 0; i--) printf("%02x", PR.b[i]);
    printf("\n");
    fix_page = 0;
}

/* Every x87 register holding 1.0, two of them on the stack (TOP = 6, six tagged
 * empty), then an MMX instruction whose memory operand is in the unmapped page `m`:
 * the frame's tag word is 0x0fff if the x87 state is as before, 0 after the switch to
 * MMX use (TOP 0, all valid). The registers' contents are set here because what a
 * signal handler leaves in them differs between kernels. */
#define FLD8                                                                             \
    "finit\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\t"          \
    "fstp %%st(0)\n\tfstp %%st(0)\n\tfstp %%st(0)\n\tfstp %%st(0)\n\tfstp %%st(0)\n\t"   \
    "fstp %%st(0)\n\t"
#define MF(n, ins, ...)                                                                  \
    static void mf_##n(uint8_t *m) { __asm__ volatile(FLD8 ins ::__VA_ARGS__ : "memory"); }
MF(movq_ld, "movq (%0),%%mm1", "r"(m))
MF(movq_st, "movq %%mm1,(%0)", "r"(m))
MF(movntq, "movntq %%mm1,(%0)", "r"(m))
MF(movd_ld, "movd (%0),%%mm1", "r"(m))
MF(movd_st, "movd %%mm1,(%0)", "r"(m))
MF(pinsrw, "pinsrw $1,(%0),%%mm1", "r"(m))
MF(pshufw, "pshufw $1,(%0),%%mm1", "r"(m))
MF(pshufb, "pshufb (%0),%%mm1", "r"(m))
MF(palignr, "palignr $1,(%0),%%mm1", "r"(m))
MF(punpcklbw, "punpcklbw (%0),%%mm1", "r"(m))
MF(punpckhdq, "punpckhdq (%0),%%mm1", "r"(m))
MF(packsswb, "packsswb (%0),%%mm1", "r"(m))
MF(maskmovq, "maskmovq %%mm2,%%mm1", "D"(m))
static const struct {
    const char *name;
    pagefn_t f;
} mmxfaults[] = {
    {"movq_ld", mf_movq_ld}, {"movq_st", mf_movq_st}, {"movntq", mf_movntq},
    {"movd_ld", mf_movd_ld}, {"movd_st", mf_movd_st}, {"pinsrw", mf_pinsrw},
    {"pshufw", mf_pshufw},   {"pshufb", mf_pshufb},   {"palignr", mf_palignr},
    {"punpcklbw", mf_punpcklbw}, {"punpckhdq", mf_punpckhdq}, {"packsswb", mf_packsswb},
    {"maskmovq", mf_maskmovq},
};

static void run_mmxfault(int k) {
    munmap(missing, 4096);
    fault_tag = fault_sw = 0xffffffff;
    if (sigsetjmp(jb, 1) == 0) mmxfaults[k].f(missing);
    clear_mmx();
    printf("mmxfault.%s si_code=%d tag=%04x sw=%04x\n", mmxfaults[k].name, fault_code, fault_tag, fault_sw);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "verbose") == 0) verbose_name = argv[2];
    init_vals();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, 0);
    sigaction(SIGBUS, &sa, 0);

    for (int k = 0; k < NFORMS; k++) {
        if (forms[k].tab)
            run_imm(forms[k].name, forms[k].tab);
        else
            run(forms[k].name, forms[k].f);
    }
    for (int k = 0; k < NFORMS; k++)
        if (forms[k].mem) run_align(&forms[k]);

    page = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    missing = page + 4096;
    if (!verbose_name)
        for (int k = 0; k < (int)(sizeof pages / sizeof pages[0]); k++) run_page(k);
    if (!verbose_name)
        for (int k = 0; k < (int)(sizeof mmxfaults / sizeof mmxfaults[0]); k++) run_mmxfault(k);
    return 0;
}
