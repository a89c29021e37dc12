/* The packed-integer MMX/SSE2/SSSE3 family, checked against the CPU it runs on.
 *
 *   simd-int                 one line per instruction: NAME <FNV-1a 64 of all results>
 *   simd-int verbose NAME    every operand and result of instruction NAME
 *
 * Each instruction runs on a table of edge operands (zero, all ones, sign bits,
 * 0x7f.., 0x80.. at every lane width, ...) and pseudo-random ones from a fixed
 * xorshift seed, in every form: MMX and XMM, register source, memory source (the MMX
 * one at an odd address: m64 operands have no alignment rule), destination and
 * source the same register, shifts by register/memory count and by each class of
 * imm8. A 16-byte-misaligned m128 source must raise #GP: SIGSEGV, caught here. An
 * MMX memory source on a PROT_NONE page faults before the instruction changes
 * anything, the x87 TOP and tag word included (read from the signal frame's FNSAVE
 * image), though a completed MMX instruction sets TOP to 0 and tags all valid.
 *
 * Registers are loaded with PXOR + POR from memory and read back with FXSAVE, so the
 * only vector instructions are the family's own (built without -msse: the compiler
 * emits none of its own, hence no MMX/XMM clobbers, which GCC refuses then). MMX
 * leaves TOP = 0, so FXSAVE's ST(i) slot is MMi.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

typedef struct {
    uint64_t q[2];
} __attribute__((aligned(16))) v128;

static struct {
    uint8_t b[512];
} __attribute__((aligned(16))) fx;

/* Results of one run: destination and source register after the instruction. */
typedef struct {
    v128 d, s;
} res;

static void grab_mm(res *r)
{
    memcpy(&r->d.q[0], fx.b + 32, 8);
    memcpy(&r->s.q[0], fx.b + 48, 8);
    r->d.q[1] = r->s.q[1] = 0;
}

static void grab_xmm(res *r)
{
    memcpy(&r->d, fx.b + 160, 16);
    memcpy(&r->s, fx.b + 176, 16);
}

/* The memory source of the MMX forms, at an odd address. */
static uint8_t odd_buf[32] __attribute__((aligned(16)));
#define ODD (*(uint64_t *)(odd_buf + 3))
/* The memory source of the XMM forms (aligned) and a misaligned one. */
static v128 mem_src;
static uint8_t mis_buf[48] __attribute__((aligned(16)));
#define MIS (*(v128 *)(mis_buf + 8))
/* A PROT_NONE page. */
static volatile uint64_t *none_page;

#define LOAD_MM                                  \
    "pxor %%mm0,%%mm0\n\tpor %[a],%%mm0\n\t"     \
    "pxor %%mm1,%%mm1\n\tpor %[b],%%mm1\n\t"
#define LOAD_XMM                                 \
    "pxor %%xmm0,%%xmm0\n\tpor %[a],%%xmm0\n\t"  \
    "pxor %%xmm1,%%xmm1\n\tpor %[b],%%xmm1\n\t"
#define SAVE "\n\tfxsave %[fx]\n\temms"

/* The forms of a two-operand instruction. */
enum { MM_RR, MM_RM, MM_SAME, XMM_RR, XMM_RM, XMM_SAME, NFORMS };
static const char *const form_names[NFORMS] = {"mm,mm", "mm,m64", "mm0,mm0", "xmm,xmm", "xmm,m128", "xmm0,xmm0"};
typedef void (*runner)(const v128 *a, const v128 *b, res *r);

#define DEF_MM(op)                                                                   \
    static void op##_mm_rr(const v128 *a, const v128 *b, res *r)                     \
    {                                                                                \
        asm volatile(LOAD_MM #op " %%mm1,%%mm0" SAVE                                 \
                     : [fx] "=m"(fx)                                                 \
                     : [a] "m"(a->q[0]), [b] "m"(b->q[0])                            \
                     : "memory");                                                    \
        grab_mm(r);                                                                  \
    }                                                                                \
    static void op##_mm_rm(const v128 *a, const v128 *b, res *r)                     \
    {                                                                                \
        ODD = b->q[0];                                                               \
        asm volatile(LOAD_MM #op " %[m],%%mm0" SAVE                                  \
                     : [fx] "=m"(fx)                                                 \
                     : [a] "m"(a->q[0]), [b] "m"(b->q[0]), [m] "m"(ODD)              \
                     : "memory");                                                    \
        grab_mm(r);                                                                  \
    }                                                                                \
    static void op##_mm_same(const v128 *a, const v128 *b, res *r)                   \
    {                                                                                \
        asm volatile(LOAD_MM #op " %%mm0,%%mm0" SAVE                                 \
                     : [fx] "=m"(fx)                                                 \
                     : [a] "m"(a->q[0]), [b] "m"(b->q[0])                            \
                     : "memory");                                                    \
        grab_mm(r);                                                                  \
    }                                                                                \
    /* x87 TOP 6, two registers valid, then an m64 source that faults. */           \
    static void op##_mm_fault(void)                                                  \
    {                                                                                \
        asm volatile("fninit\n\tfld1\n\tfldz\n\t" #op " %[m],%%mm0\n\temms"           \
                     :                                                               \
                     : [m] "m"(*none_page)                                           \
                     : "memory");                                                    \
    }
#define DEF_XMM(op)                                                                  \
    static void op##_xmm_rr(const v128 *a, const v128 *b, res *r)                    \
    {                                                                                \
        asm volatile(LOAD_XMM #op " %%xmm1,%%xmm0" SAVE                              \
                     : [fx] "=m"(fx)                                                 \
                     : [a] "m"(*a), [b] "m"(*b)                                      \
                     : "memory");                                                    \
        grab_xmm(r);                                                                 \
    }                                                                                \
    static void op##_xmm_rm(const v128 *a, const v128 *b, res *r)                    \
    {                                                                                \
        mem_src = *b;                                                                \
        asm volatile(LOAD_XMM #op " %[m],%%xmm0" SAVE                                \
                     : [fx] "=m"(fx)                                                 \
                     : [a] "m"(*a), [b] "m"(*b), [m] "m"(mem_src)                    \
                     : "memory");                                                    \
        grab_xmm(r);                                                                 \
    }                                                                                \
    static void op##_xmm_same(const v128 *a, const v128 *b, res *r)                  \
    {                                                                                \
        asm volatile(LOAD_XMM #op " %%xmm0,%%xmm0" SAVE                              \
                     : [fx] "=m"(fx)                                                 \
                     : [a] "m"(*a), [b] "m"(*b)                                      \
                     : "memory");                                                    \
        grab_xmm(r);                                                                 \
    }                                                                                \
    /* The misaligned m128 source: must fault before anything changes. */           \
    static void op##_xmm_mis(const v128 *a, const v128 *b, res *r)                   \
    {                                                                                \
        asm volatile(LOAD_XMM #op " %[m],%%xmm0" SAVE                                \
                     : [fx] "=m"(fx)                                                 \
                     : [a] "m"(*a), [b] "m"(*b), [m] "m"(MIS)                        \
                     : "memory");                                                    \
        grab_xmm(r);                                                                 \
    }

/* Kinds of instruction, for the operand sets they run on. */
enum { K_BIN, K_SHIFT };

typedef struct {
    const char *name;
    int kind;
    runner f[NFORMS];
    runner mis;
    void (*mm_fault)(void);
} insn;

#define DEF_BOTH(op) DEF_MM(op) DEF_XMM(op)
#define ROW_BOTH(op, k) {#op, k, {op##_mm_rr, op##_mm_rm, op##_mm_same, op##_xmm_rr, op##_xmm_rm, op##_xmm_same}, op##_xmm_mis, op##_mm_fault},
#define ROW_XMM(op, k) {#op, k, {0, 0, 0, op##_xmm_rr, op##_xmm_rm, op##_xmm_same}, op##_xmm_mis, 0},

/* Instructions with MMX and XMM forms (K_BIN: two vectors; K_SHIFT: a count). */
#define BOTH(X)                                                                      \
    X(paddb, K_BIN) X(paddw, K_BIN) X(paddd, K_BIN) X(paddq, K_BIN)                  \
    X(paddsb, K_BIN) X(paddsw, K_BIN) X(paddusb, K_BIN) X(paddusw, K_BIN)            \
    X(psubb, K_BIN) X(psubw, K_BIN) X(psubd, K_BIN) X(psubq, K_BIN)                  \
    X(psubsb, K_BIN) X(psubsw, K_BIN) X(psubusb, K_BIN) X(psubusw, K_BIN)            \
    X(pcmpeqb, K_BIN) X(pcmpeqw, K_BIN) X(pcmpeqd, K_BIN)                            \
    X(pcmpgtb, K_BIN) X(pcmpgtw, K_BIN) X(pcmpgtd, K_BIN)                            \
    X(pand, K_BIN) X(pandn, K_BIN) X(por, K_BIN) X(pxor, K_BIN)                      \
    X(pmullw, K_BIN) X(pmulhw, K_BIN) X(pmulhuw, K_BIN) X(pmuludq, K_BIN)            \
    X(pmaddwd, K_BIN) X(psadbw, K_BIN) X(pavgb, K_BIN) X(pavgw, K_BIN)               \
    X(pminub, K_BIN) X(pmaxub, K_BIN) X(pminsw, K_BIN) X(pmaxsw, K_BIN)              \
    X(pabsb, K_BIN) X(pabsw, K_BIN) X(pabsd, K_BIN)                                  \
    X(psignb, K_BIN) X(psignw, K_BIN) X(psignd, K_BIN)                               \
    X(phaddw, K_BIN) X(phaddd, K_BIN) X(phaddsw, K_BIN)                              \
    X(phsubw, K_BIN) X(phsubd, K_BIN) X(phsubsw, K_BIN)                              \
    X(pmaddubsw, K_BIN) X(pmulhrsw, K_BIN)                                           \
    X(psllw, K_SHIFT) X(pslld, K_SHIFT) X(psllq, K_SHIFT)                            \
    X(psrlw, K_SHIFT) X(psrld, K_SHIFT) X(psrlq, K_SHIFT)                            \
    X(psraw, K_SHIFT) X(psrad, K_SHIFT)
/* The float-register bit logic: XMM only. */
#define XMM_ONLY(X)                                                                  \
    X(andps, K_BIN) X(andpd, K_BIN) X(andnps, K_BIN) X(andnpd, K_BIN)                \
    X(orps, K_BIN) X(orpd, K_BIN) X(xorps, K_BIN) X(xorpd, K_BIN)

#define DEF_BOTH_K(op, k) DEF_BOTH(op)
#define DEF_XMM_K(op, k) DEF_XMM(op)
BOTH(DEF_BOTH_K)
XMM_ONLY(DEF_XMM_K)

static const insn insns[] = {BOTH(ROW_BOTH) XMM_ONLY(ROW_XMM)};
#define NINSNS (sizeof insns / sizeof insns[0])

/* Shifts by imm8: every count class (0, 1, below/at/above each lane width, > 127). */
#define IMMS(X, op) \
    X(op, 0) X(op, 1) X(op, 2) X(op, 7) X(op, 8) X(op, 9) X(op, 15) X(op, 16) X(op, 17) \
    X(op, 31) X(op, 32) X(op, 33) X(op, 63) X(op, 64) X(op, 65) X(op, 127) X(op, 128) X(op, 255)
#define NIMMS 18

typedef void (*imm_runner)(const v128 *a, res *r);

#define DEF_IMM_MM(op, n)                                                            \
    static void op##_mm_##n(const v128 *a, res *r)                                   \
    {                                                                                \
        static const v128 zero;                                                      \
        const v128 *b = &zero;                                                       \
        asm volatile(LOAD_MM #op " $" #n ",%%mm0" SAVE                               \
                     : [fx] "=m"(fx)                                                 \
                     : [a] "m"(a->q[0]), [b] "m"(b->q[0])                            \
                     : "memory");                                                    \
        grab_mm(r);                                                                  \
    }
#define DEF_IMM_XMM(op, n)                                                           \
    static void op##_xmm_##n(const v128 *a, res *r)                                  \
    {                                                                                \
        static const v128 zero;                                                      \
        const v128 *b = &zero;                                                       \
        asm volatile(LOAD_XMM #op " $" #n ",%%xmm0" SAVE                             \
                     : [fx] "=m"(fx)                                                 \
                     : [a] "m"(*a), [b] "m"(*b)                                      \
                     : "memory");                                                    \
        grab_xmm(r);                                                                 \
    }
#define REF_MM(op, n) op##_mm_##n,
#define REF_XMM(op, n) op##_xmm_##n,
#define REF_IMM(op, n) n,

typedef struct {
    const char *name;
    imm_runner mm[NIMMS], xmm[NIMMS];
} imm_insn;

#define IMM_BOTH(X) X(psllw) X(pslld) X(psllq) X(psrlw) X(psrld) X(psrlq) X(psraw) X(psrad)
#define IMM_XMM(X) X(pslldq) X(psrldq)
#define DEF_IMM_BOTH(op) IMMS(DEF_IMM_MM, op) IMMS(DEF_IMM_XMM, op)
#define DEF_IMM_X(op) IMMS(DEF_IMM_XMM, op)
IMM_BOTH(DEF_IMM_BOTH)
IMM_XMM(DEF_IMM_X)
#define ROW_IMM_BOTH(op) {#op "-imm", {IMMS(REF_MM, op)}, {IMMS(REF_XMM, op)}},
#define ROW_IMM_X(op) {#op, {0}, {IMMS(REF_XMM, op)}},
static const imm_insn imm_insns[] = {IMM_BOTH(ROW_IMM_BOTH) IMM_XMM(ROW_IMM_X)};
static const int imm_values[NIMMS] = {IMMS(REF_IMM, x)};
#define NIMM_INSNS (sizeof imm_insns / sizeof imm_insns[0])

/* Operands. */
static const uint64_t edges[] = {
    0,
    ~0ull,
    1,
    0x8000000000000000ull,
    0x7fffffffffffffffull,
    0x8080808080808080ull,
    0x7f7f7f7f7f7f7f7full,
    0x0101010101010101ull,
    0x8000800080008000ull,
    0x7fff7fff7fff7fffull,
    0x0001000100010001ull,
    0x8000000080000000ull,
    0x7fffffff7fffffffull,
    0x00000001ffffffffull,
    0xff00ff00ff00ff00ull,
    0x807f01fffe7e8100ull,
    0x4000c0003fffc001ull,
    0xfffefffd00020003ull,
};
#define NEDGES (sizeof edges / sizeof edges[0])
#define NRANDOM 300

/* Shift counts: every class of the whole 64-bit count (the high half of an XMM
 * count operand is ignored; it is varied too). */
static const uint64_t counts[] = {
    0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 255, 256,
    0x100000000ull, 0x100000001ull, 0x8000000000000000ull, ~0ull,
};
#define NCOUNTS (sizeof counts / sizeof counts[0])
#define NSHIFTED 40

static uint64_t xs = 0x9e3779b97f4a7c15ull;
static uint64_t xorshift(void)
{
    xs ^= xs << 13;
    xs ^= xs >> 7;
    xs ^= xs << 17;
    return xs;
}

#define MAXPAIRS (NEDGES * NEDGES + NRANDOM)
static v128 pa[MAXPAIRS], pb[MAXPAIRS];
static int npairs;
static v128 sa[NSHIFTED], sb[NCOUNTS];
static uint64_t shifted_random[NSHIFTED];

static void make_operands(void)
{
    for (unsigned i = 0; i < NEDGES; i++)
        for (unsigned j = 0; j < NEDGES; j++) {
            pa[npairs] = (v128){{edges[i], edges[j]}};
            pb[npairs] = (v128){{edges[j], edges[(i + j) % NEDGES]}};
            npairs++;
        }
    for (int i = 0; i < NRANDOM; i++) {
        pa[npairs].q[0] = xorshift();
        pa[npairs].q[1] = xorshift();
        pb[npairs].q[0] = xorshift();
        pb[npairs].q[1] = xorshift();
        npairs++;
    }
    for (unsigned i = 0; i < NSHIFTED; i++) {
        if (i < NEDGES) {
            sa[i] = (v128){{edges[i], edges[(i * 5 + 1) % NEDGES]}};
        } else {
            shifted_random[i] = xorshift();
            sa[i] = (v128){{shifted_random[i], xorshift()}};
        }
    }
    for (unsigned i = 0; i < NCOUNTS; i++)
        sb[i] = (v128){{counts[i], i % 2 ? xorshift() : 0}};
}

/* FNV-1a, 64 bits. */
static uint64_t fnv;
static void hash_bytes(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        fnv ^= b[i];
        fnv *= 0x100000001b3ull;
    }
}
static void hash_res(const res *r)
{
    hash_bytes(r, sizeof *r);
}

static const char *verbose_name;
static void show(const char *form, const v128 *a, const v128 *b, const res *r)
{
    printf("%-10s a=%016llx:%016llx b=%016llx:%016llx -> d=%016llx:%016llx s=%016llx:%016llx\n", form,
           (unsigned long long)a->q[1], (unsigned long long)a->q[0], (unsigned long long)b->q[1],
           (unsigned long long)b->q[0], (unsigned long long)r->d.q[1], (unsigned long long)r->d.q[0],
           (unsigned long long)r->s.q[1], (unsigned long long)r->s.q[0]);
}

static void run_one(const insn *in, const v128 *a, const v128 *b, int verbose)
{
    for (int f = 0; f < NFORMS; f++) {
        if (!in->f[f])
            continue;
        res r;
        in->f[f](a, b, &r);
        hash_res(&r);
        if (verbose)
            show(form_names[f], a, b, &r);
    }
}

static void run_insn(const insn *in)
{
    int verbose = verbose_name && !strcmp(verbose_name, in->name);
    if (verbose_name && !verbose)
        return;
    fnv = 0xcbf29ce484222325ull;
    if (in->kind == K_SHIFT) {
        for (unsigned i = 0; i < NSHIFTED; i++)
            for (unsigned j = 0; j < NCOUNTS; j++)
                run_one(in, &sa[i], &sb[j], verbose);
    } else {
        for (int i = 0; i < npairs; i++)
            run_one(in, &pa[i], &pb[i], verbose);
    }
    printf("%s %016llx\n", in->name, (unsigned long long)fnv);
}

static void run_imm_insn(const imm_insn *in)
{
    int verbose = verbose_name && !strcmp(verbose_name, in->name);
    if (verbose_name && !verbose)
        return;
    fnv = 0xcbf29ce484222325ull;
    for (unsigned i = 0; i < NSHIFTED; i++)
        for (int k = 0; k < NIMMS; k++) {
            v128 imm = {{(uint64_t)imm_values[k], 0}};
            res r;
            if (in->mm[0]) {
                in->mm[k](&sa[i], &r);
                hash_res(&r);
                if (verbose)
                    show("mm,imm8", &sa[i], &imm, &r);
            }
            in->xmm[k](&sa[i], &r);
            hash_res(&r);
            if (verbose)
                show("xmm,imm8", &sa[i], &imm, &r);
        }
    printf("%s %016llx\n", in->name, (unsigned long long)fnv);
}

/* The misaligned m128 source: SIGSEGV (from #GP(0)) natively and under growsdown. */
static sigjmp_buf env;
static unsigned fault_sw, fault_tag;
static void on_segv(int sig, siginfo_t *si, void *uc_)
{
    (void)sig;
    (void)si;
    ucontext_t *uc = uc_;
    fault_sw = uc->uc_mcontext.fpregs->sw & 0xffff;
    fault_tag = uc->uc_mcontext.fpregs->tag & 0xffff;
    siglongjmp(env, 1);
}

static void run_misaligned(const insn *in)
{
    if (verbose_name && strcmp(verbose_name, "misaligned"))
        return;
    memcpy(&MIS, &pb[5], 16);
    res r;
    if (sigsetjmp(env, 1) == 0) {
        in->mis(&pa[5], &pb[5], &r);
        printf("misaligned %s no fault\n", in->name);
    } else {
        printf("misaligned %s SIGSEGV\n", in->name);
    }
}

static void run_mm_fault(const insn *in)
{
    if (!in->mm_fault || (verbose_name && strcmp(verbose_name, "mmx-fault")))
        return;
    if (sigsetjmp(env, 1) == 0) {
        in->mm_fault();
        printf("mmx-fault %s no fault\n", in->name);
    } else {
        printf("mmx-fault %s SIGSEGV TOP=%u tag=%04x\n", in->name, (fault_sw >> 11) & 7, fault_tag);
    }
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "verbose"))
        verbose_name = argv[2];
    else if (argc != 1) {
        fprintf(stderr, "usage: simd-int [verbose NAME]\n");
        return 2;
    }
    struct sigaction sa_segv;
    memset(&sa_segv, 0, sizeof sa_segv);
    sa_segv.sa_sigaction = on_segv;
    sa_segv.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa_segv, 0);

    none_page = mmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (none_page == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    make_operands();
    for (unsigned i = 0; i < NINSNS; i++)
        run_insn(&insns[i]);
    for (unsigned i = 0; i < NIMM_INSNS; i++)
        run_imm_insn(&imm_insns[i]);
    for (unsigned i = 0; i < NINSNS; i++)
        run_misaligned(&insns[i]);
    for (unsigned i = 0; i < NINSNS; i++)
        run_mm_fault(&insns[i]);
    return 0;
}
