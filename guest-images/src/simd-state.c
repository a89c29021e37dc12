/* The SSE state instructions, the MMX/x87 register sharing and FISTTP, checked
 * against the CPU it runs on.
 *
 *   simd-state                 every check: ldmxcsr, fxsave, fxrstor, mmx, fisttp16,
 *                              fisttp32, fisttp64, fisttp-fault, clflush (lines
 *                              named NAME.case)
 *   simd-state verbose NAME    only check NAME; for ldmxcsr and fisttpN also every
 *                              operand and result behind the hash
 *
 * Only what Intel and AMD CPUs store alike is printed. FXSAVE's FOP, FIP, FCS, FDP,
 * FDS (bytes 6-23: AMD leaves them zero unless an x87 exception is pending, and
 * current Intel CPUs zero FCS/FDS) and MXCSR_MASK (bytes 28-31: 0x0000ffff on Intel,
 * 0x0002ffff on an AMD CPU with MisAlignSse) are shown as "..", and so are the same
 * fields of FNSTENV/FNSAVE. MXCSR bit 17 is AMD's misaligned-exception mask (AMD APM
 * Vol. 4, LDMXCSR: writable where CPUID MisAlignSse is set), reserved on Intel: it is
 * left out of the reserved-bit checks.
 *
 * Faults are caught by an SA_SIGINFO handler that records si_code, trapno, err, the
 * address and the FPU state of the signal frame (Linux's i386 struct _fpstate: the
 * FNSAVE-style head, then at byte 112 the FXSAVE image), then siglongjmps. The
 * handler starts with a fresh FPU (Linux's fpu__clear_user_states), so "state
 * unchanged" after a fault is read from the frame.
 *
 * Built without -msse: the compiler emits no vector code of its own, so the XMM and
 * MMX registers hold only what the asm under test puts there (no clobbers for them,
 * which GCC refuses then). Every test sets and reads the state inside one asm
 * statement; glibc's SSE2 string functions run only between tests.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

typedef struct {
    uint8_t b[512];
} __attribute__((aligned(64))) fxarea;

/* ---- output ---- */

static const char *verbose_name;
static int verbose;
/* Selects a check: every check runs without an argument, one with "verbose NAME". */
static int check(const char *name)
{
    verbose = verbose_name && !strcmp(verbose_name, name);
    return !verbose_name || verbose;
}

static uint64_t fnv;
static void hash(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        fnv ^= b[i];
        fnv *= 0x100000001b3ull;
    }
}

/* FXSAVE bytes not printed: FOP, FIP, FCS, FDP, FDS and their reserved halves
 * (6-23), MXCSR_MASK (28-31). */
static int fx_masked(int i)
{
    return (i >= 6 && i < 24) || (i >= 28 && i < 32);
}

static void dump_fx(const char *name, const uint8_t *b)
{
    for (int row = 0; row < 512; row += 32) {
        printf("%s %03d:", name, row);
        for (int i = row; i < row + 32; i++) {
            if (i % 16 == 0)
                printf(" ");
            if (fx_masked(i))
                printf("..");
            else
                printf("%02x", b[i]);
        }
        printf("\n");
    }
}

/* The first 288 bytes with the masked fields zeroed (what FXSAVE writes in 32-bit
 * mode), for comparing two images. */
static void masked_copy(uint8_t *dst, const uint8_t *src)
{
    for (int i = 0; i < 288; i++)
        dst[i] = fx_masked(i) ? 0 : src[i];
}

/* A FNSTENV image: FCW, FSW, FTW (the pointers are not printed). */
typedef struct {
    uint32_t cw, sw, tw, ip, cs, dp, ds;
} env32;
static void print_env(const char *what, const env32 *e)
{
    printf(" %s fcw=%04x fsw=%04x ftw=%04x", what, e->cw & 0xffff, e->sw & 0xffff, e->tw & 0xffff);
}

static void fill(void *p, size_t n, uint8_t seed)
{
    uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(seed + i * 37);
}

/* ---- faults ---- */

static sigjmp_buf jb;
static volatile int f_sig, f_code, f_trapno, f_err;
static volatile uintptr_t f_addr, f_eip;
static volatile unsigned f_sw, f_tag;
static uint8_t f_fx[288]; /* the frame's FXSAVE image */

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    const uint8_t *fp = (const uint8_t *)uc->uc_mcontext.fpregs;
    f_sig = sig;
    f_code = si->si_code;
    f_addr = (uintptr_t)si->si_addr;
    f_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
    f_err = uc->uc_mcontext.gregs[REG_ERR];
    f_eip = uc->uc_mcontext.gregs[REG_EIP];
    if (fp) {
        f_sw = *(const uint16_t *)(fp + 4);
        f_tag = *(const uint16_t *)(fp + 8);
        memcpy(f_fx, fp + 112, sizeof f_fx);
    } else {
        f_sw = f_tag = 0xdead;
        memset(f_fx, 0xee, sizeof f_fx);
    }
    siglongjmp(jb, 1);
}

static void fault_reset(void)
{
    f_sig = 0;
    f_code = f_trapno = f_err = -1;
    f_addr = f_eip = 0;
}

/* The signal and its details; si_addr relative to `base` (NOADDR: not printed). */
#define NOADDR ((uintptr_t)-1)
/* Print only the page of si_addr relative to `base`'s: which byte of a 512-byte
 * FXSAVE area a page fault reports differs (this AMD CPU reports the first byte of
 * the area if its first page is missing, else the last byte). */
static int page_only;
static void print_fault(uintptr_t base)
{
    if (!f_sig) {
        printf(" no fault");
        return;
    }
    printf(" %s si_code=%d trapno=%d err=%d", f_sig == SIGSEGV ? "SIGSEGV" : f_sig == SIGFPE ? "SIGFPE" : "SIG?",
           f_code, f_trapno, f_err);
    if (base != NOADDR && page_only)
        printf(" si_addr=page%+ld", (long)(f_addr - base) >> 12);
    else if (base != NOADDR)
        printf(" si_addr=base%+ld", (long)(f_addr - base));
}

static const uint32_t mxcsr_default = 0x1f80;
#define RESET_FPU() __asm__ volatile("fninit\n\tldmxcsr %0" ::"m"(mxcsr_default))

/* A page between two unmapped ones: operands crossing into `missing` (the page
 * after it) or from `hole` (the page before it) fault. Mapped first, so that no
 * later mmap fills the holes: a read-only and a PROT_NONE page. */
static uint8_t *hole, *page, *missing, *ro, *none;

/* Every x87 register holding 1.0, TOP 6 with two of them on the stack: FNSTENV's
 * tag word depends on the contents, which FNINIT does not clear (nor
 * does FXSAVE print anything else for an empty register). */
#define FLD8                                                                             \
    "fninit\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\t"         \
    "fstp %%st(0)\n\tfstp %%st(0)\n\tfstp %%st(0)\n\tfstp %%st(0)\n\tfstp %%st(0)\n\t"   \
    "fstp %%st(0)\n\t"

/* ---- LDMXCSR / STMXCSR ---- */

static void run_ldmxcsr(void)
{
    if (!check("ldmxcsr"))
        return;
    /* Every value of the 16 writable bits round-trips. */
    fnv = 0xcbf29ce484222325ull;
    unsigned diff = 0;
    for (uint32_t v = 0; v < 0x10000; v++) {
        uint32_t r;
        __asm__ volatile("ldmxcsr %1\n\tstmxcsr %0\n\tldmxcsr %2" : "=m"(r) : "m"(v), "m"(mxcsr_default));
        hash(&r, 4);
        diff += r != v;
        if (verbose && (r != v || v % 0x1111 == 0))
            printf("ldmxcsr %04x -> %08x\n", v, r);
    }
    printf("ldmxcsr.roundtrip 0000-ffff differ=%u %016llx\n", diff, (unsigned long long)fnv);

    /* A reserved bit: #GP(0), MXCSR as it was. */
    static const uint32_t init = 0xbf41;
    for (int b = 16; b < 32; b++) {
        if (b == 17)
            continue;
        uint32_t bad = 0x1f80u | 1u << b, r = 0xdeadbeef;
        fault_reset();
        if (sigsetjmp(jb, 1) == 0)
            __asm__ volatile("ldmxcsr %1\n\tldmxcsr %2\n\tstmxcsr %0" : "=m"(r) : "m"(init), "m"(bad));
        printf("ldmxcsr.reserved bit%d", b);
        print_fault(NOADDR);
        printf(" mxcsr=%08x\n", f_sig ? *(uint32_t *)(f_fx + 24) : r);
        RESET_FPU();
    }
    static const uint32_t all[] = {0xffffffff, 0x0001ffff, 0x80001f80};
    for (unsigned i = 0; i < sizeof all / sizeof all[0]; i++) {
        uint32_t r = 0xdeadbeef;
        fault_reset();
        if (sigsetjmp(jb, 1) == 0)
            __asm__ volatile("ldmxcsr %1\n\tldmxcsr %2\n\tstmxcsr %0" : "=m"(r) : "m"(init), "m"(all[i]));
        printf("ldmxcsr.reserved %08x", all[i]);
        print_fault(NOADDR);
        printf(" mxcsr=%08x\n", f_sig ? *(uint32_t *)(f_fx + 24) : r);
        RESET_FPU();
    }

    /* m32 has no alignment rule; one crossing into the unmapped page faults first. */
    static uint8_t odd[16] __attribute__((aligned(16)));
    uint32_t v = 0x7f2a, r = 0;
    memcpy(odd + 3, &v, 4);
    __asm__ volatile("ldmxcsr %1\n\tstmxcsr %0\n\tldmxcsr %2" : "=m"(odd[9]) : "m"(odd[3]), "m"(mxcsr_default));
    memcpy(&r, odd + 9, 4);
    printf("ldmxcsr.odd %08x stmxcsr.odd %08x\n", v, r);

    memcpy(missing - 4, &v, 4);
    fault_reset();
    if (sigsetjmp(jb, 1) == 0)
        __asm__ volatile("ldmxcsr %0\n\tldmxcsr (%1)" ::"m"(init), "r"(missing - 2) : "memory");
    printf("ldmxcsr.cross");
    print_fault((uintptr_t)missing);
    printf(" mxcsr=%08x\n", *(uint32_t *)(f_fx + 24));
    RESET_FPU();

    memset(missing - 4, 0x77, 4);
    fault_reset();
    if (sigsetjmp(jb, 1) == 0)
        __asm__ volatile("ldmxcsr %0\n\tstmxcsr (%1)" ::"m"(init), "r"(missing - 2) : "memory");
    printf("stmxcsr.cross");
    print_fault((uintptr_t)missing);
    printf(" below=%02x%02x%02x%02x\n", missing[-4], missing[-3], missing[-2], missing[-1]);
    RESET_FPU();

    fault_reset();
    if (sigsetjmp(jb, 1) == 0)
        __asm__ volatile("stmxcsr (%0)" ::"r"(ro + 8) : "memory");
    printf("stmxcsr.read-only");
    print_fault((uintptr_t)ro);
    printf("\n");
}

/* ---- FXSAVE ---- */

static const uint8_t xmm_pattern[128] __attribute__((aligned(16))) = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
    0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0xc0, 0x7f, 0x00, 0x00, 0x80, 0xff, 0x01, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80,
    0x9e, 0x37, 0x79, 0xb9, 0x7f, 0x4a, 0x7c, 0x15, 0xde, 0xad, 0xbe, 0xef, 0xca, 0xfe, 0xba, 0xbe,
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
    0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x5a, 0xa5, 0x5a, 0xa5, 0x3c, 0xc3, 0x3c, 0xc3, 0x0f, 0xf0, 0x0f, 0xf0, 0x69, 0x96, 0x69, 0x96,
};
#define LOAD_XMM                                                                         \
    "movups 0(%[x]),%%xmm0\n\tmovups 16(%[x]),%%xmm1\n\tmovups 32(%[x]),%%xmm2\n\t"      \
    "movups 48(%[x]),%%xmm3\n\tmovups 64(%[x]),%%xmm4\n\tmovups 80(%[x]),%%xmm5\n\t"     \
    "movups 96(%[x]),%%xmm6\n\tmovups 112(%[x]),%%xmm7\n\t"

/* An 80-bit value: significand, then sign and exponent. */
typedef struct {
    uint64_t sig;
    uint16_t se;
} __attribute__((packed)) f80;
static const f80 denormal = {0x0000000012345678ull, 0x0000};

/* x87 state: TOP 3, R3 +inf (1/0, ZE), R4 0, R5 pi but freed, R6 1, R7 a denormal,
 * R0-R2 empty holding 1.0; FCW RC chop, PC double; MXCSR 0xbf41; XMM0-7 the
 * pattern. */
#define X87_STATE                                                                        \
    FLD8 "fninit\n\tfldcw %[cw]\n\tfldt %[den]\n\tfld1\n\tfldpi\n\tfldz\n\tfld1\n\t"          \
    "fdiv %%st(1),%%st\n\tffree %%st(2)\n\tldmxcsr %[mx]\n\t" LOAD_XMM
static const uint16_t x87_cw = 0x0e7f;
static const uint32_t x87_mx = 0xbf41;

static void show_fx(const char *name, const fxarea *a, const env32 *e)
{
    printf("%s", name);
    print_env("fnstenv", e);
    printf("\n");
    dump_fx(name, a->b);
}

static fxarea fx, fx2;
static env32 env;

static void run_fxsave(void)
{
    if (!check("fxsave"))
        return;
    /* The x87 state; bytes 288-511 keep what was there. */
    fill(&fx, sizeof fx, 0x5b);
    __asm__ volatile(X87_STATE "fxsave %[fx]\n\tfnstenv %[env]"
                     : [fx] "=m"(fx), [env] "=m"(env)
                     : [cw] "m"(x87_cw), [den] "m"(denormal), [mx] "m"(x87_mx), [x] "r"(xmm_pattern)
                     : "memory");
    RESET_FPU();
    show_fx("fxsave.x87", &fx, &env);

    /* MMX registers: TOP 0, all tagged valid, sign and exponent all ones. */
    static const uint64_t mm[8] = {0, ~0ull, 0x8000000000000000ull, 1, 0x7fffffffffffffffull,
                                   0xc000000000000000ull, 0x0123456789abcdefull, 0x4000000000000000ull};
    fill(&fx, sizeof fx, 0x11);
    __asm__ volatile("fninit\n\tfld1\n\tfldz\n\t"
                     "movq 0(%[m]),%%mm0\n\tmovq 8(%[m]),%%mm1\n\tmovq 16(%[m]),%%mm2\n\t"
                     "movq 24(%[m]),%%mm3\n\tmovq 32(%[m]),%%mm4\n\tmovq 40(%[m]),%%mm5\n\t"
                     "movq 48(%[m]),%%mm6\n\tmovq 56(%[m]),%%mm7\n\t"
                     "fxsave %[fx]\n\tfnstenv %[env]\n\temms"
                     : [fx] "=m"(fx), [env] "=m"(env)
                     : [m] "r"(mm)
                     : "memory");
    RESET_FPU();
    show_fx("fxsave.mmx", &fx, &env);

    /* An unmasked x87 exception pending: FXSAVE does not wait. */
    static const uint16_t cw_im = 0x037e;
    fill(&fx, sizeof fx, 0x22);
    fault_reset();
    if (sigsetjmp(jb, 1) == 0)
        __asm__ volatile(FLD8 "fldcw %[cw]\n\tfchs\n\tfsqrt\n\tfxsave %[fx]\n\tfnstenv %[env]\n\tfninit"
                         : [fx] "=m"(fx), [env] "=m"(env)
                         : [cw] "m"(cw_im)
                         : "memory");
    RESET_FPU();
    printf("fxsave.pending");
    print_fault(NOADDR);
    printf("\n");
    show_fx("fxsave.pending", &fx, &env);

    /* Not 16-byte aligned: #GP(0), nothing written. */
    static const int offs[] = {1, 8};
    for (int k = 0; k < 2; k++) {
        static uint8_t buf[600] __attribute__((aligned(64)));
        fill(buf, sizeof buf, 0x33);
        memcpy(fx2.b, buf, sizeof fx2.b);
        fault_reset();
        if (sigsetjmp(jb, 1) == 0)
            __asm__ volatile("fninit\n\tfld1\n\tfxsave (%0)" ::"r"(buf + offs[k]) : "memory");
        RESET_FPU();
        printf("fxsave.misaligned+%d", offs[k]);
        print_fault(NOADDR);
        printf(" area %s\n", memcmp(buf, fx2.b, sizeof fx2.b) ? "written" : "unchanged");
    }

    /* The 512 bytes cross into an unmapped page: #PF, nothing written below it. */
    static const int below[] = {16, 256, 496};
    for (int k = 0; k < 3; k++) {
        fill(page, 4096, 0x44);
        memcpy(fx2.b, page + 4096 - 512, 512);
        fault_reset();
        if (sigsetjmp(jb, 1) == 0)
            __asm__ volatile("fninit\n\tfld1\n\tfxsave (%0)" ::"r"(missing - below[k]) : "memory");
        RESET_FPU();
        printf("fxsave.cross-%d", below[k]);
        page_only = 1;
        print_fault((uintptr_t)missing);
        page_only = 0;
        printf(" page %s\n", memcmp(page + 4096 - 512, fx2.b, 512) ? "written" : "unchanged");
    }
    /* The area's first bytes in the unmapped page before. */
    for (int k = 0; k < 3; k++) {
        fill(page, 4096, 0x45);
        memcpy(fx2.b, page, 512);
        fault_reset();
        if (sigsetjmp(jb, 1) == 0)
            __asm__ volatile("fninit\n\tfld1\n\tfxsave (%0)" ::"r"(page - below[k]) : "memory");
        RESET_FPU();
        printf("fxsave.from-hole-%d", below[k]);
        page_only = 1;
        print_fault((uintptr_t)page);
        page_only = 0;
        printf(" page %s\n", memcmp(page, fx2.b, 512) ? "written" : "unchanged");
    }
}

/* ---- FXRSTOR ---- */

/* The crafted image: FCW with reserved bits, FSW TOP 5 with C3 C1 C0 and masked
 * flags, abridged tag 0x5b, every class of register content, FOP..FDS garbage. */
static fxarea img;
static void make_image(uint16_t fcw, uint16_t fsw, uint32_t mxcsr)
{
    static const f80 regs[8] = {
        {0x8000000000000000ull, 0x3fff}, /* 1.0 */
        {0, 0x0000},                     /* +0 */
        {0x0000000000000001ull, 0x8000}, /* -denormal */
        {0x8000000000000000ull, 0x7fff}, /* +inf */
        {0xc000000000000001ull, 0xffff}, /* -QNaN */
        {0x4000000000000000ull, 0x4000}, /* unnormal */
        {0x8000000000000000ull, 0x0000}, /* pseudo-denormal */
        {0x123456789abcdef0ull, 0x1234}, /* unnormal, in an empty slot */
    };
    fill(&img, sizeof img, 0x66);
    memcpy(img.b + 0, &fcw, 2);
    memcpy(img.b + 2, &fsw, 2);
    img.b[4] = 0x5b;
    img.b[5] = 0xa5;
    memcpy(img.b + 24, &mxcsr, 4);
    for (int i = 0; i < 8; i++) {
        memcpy(img.b + 32 + 16 * i, &regs[i], 10);
        memset(img.b + 42 + 16 * i, 0xc3, 6);
    }
    memcpy(img.b + 160, xmm_pattern + 16, 112);
    memcpy(img.b + 272, xmm_pattern, 16);
}

static void restore_and_show(const char *name)
{
    uint32_t mx = 0;
    fill(&fx, sizeof fx, 0x77);
    __asm__ volatile("fxrstor %[img]\n\tfxsave %[fx]\n\tstmxcsr %[mx]\n\tfnstenv %[env]\n\tfninit"
                     : [fx] "=m"(fx), [env] "=m"(env), [mx] "=m"(mx)
                     : [img] "m"(img)
                     : "memory");
    RESET_FPU();
    printf("%s stmxcsr=%08x", name, mx);
    print_env("fnstenv", &env);
    printf("\n");
    dump_fx(name, fx.b);
}

/* Sets the x87 state, stores it with FXSAVE into `before`, then FXRSTOR from `p`. */
static fxarea before;
static void state_then_fxrstor(const uint8_t *p)
{
    __asm__ volatile(X87_STATE "fxsave %[fx]\n\tfxrstor (%[p])"
                     : [fx] "=m"(before)
                     : [cw] "m"(x87_cw), [den] "m"(denormal), [mx] "m"(x87_mx), [x] "r"(xmm_pattern),
                       [p] "r"(p)
                     : "memory");
}

/* After a faulting FXRSTOR: is the frame's state the one before? */
static void print_unchanged(void)
{
    uint8_t a[288], b[288];
    if (!f_sig) {
        printf(" state not captured\n");
        return;
    }
    masked_copy(a, before.b);
    masked_copy(b, f_fx);
    printf(" fsw=%04x ftw=%04x mxcsr=%08x state %s\n", f_sw & 0xffff, f_tag & 0xffff, *(uint32_t *)(f_fx + 24),
           memcmp(a, b, 288) ? "changed" : "unchanged");
}

static void run_fxrstor(void)
{
    if (!check("fxrstor"))
        return;
    /* FCW bits 13-15 reserved, bit 6 reads 1; RC up, PC extended, IE ZE OE
     * unmasked (their flags clear) */
    make_image(0xfb32, 0x6b32, 0x6d3f);
    restore_and_show("fxrstor.image");
    /* FSW with ES and B set but no unmasked exception flag. */
    make_image(0x037f, 0x8081 | 2 << 11, 0x1f80);
    restore_and_show("fxrstor.es-masked");
    /* An empty register file and all valid (abridged tags 0x00 and 0xff). */
    make_image(0x037f, 0, 0x1f80);
    img.b[4] = 0;
    restore_and_show("fxrstor.tags-empty");
    img.b[4] = 0xff;
    restore_and_show("fxrstor.tags-valid");

    /* An unmasked exception pending in the image: the next waiting x87 instruction
     * raises #MF. */
    make_image(0x037e, 0x0001 | 0x0080 | 0x8000 | 7 << 11, 0x1f80);
    fault_reset();
    uint16_t sw = 0xdead;
    if (sigsetjmp(jb, 1) == 0)
        __asm__ volatile("fxrstor %[img]\n\tfnstsw %[sw]\n\tfwait\n\tfninit" : [sw] "=m"(sw) : [img] "m"(img) : "memory");
    RESET_FPU();
    printf("fxrstor.pending fnstsw=%04x then fwait", sw);
    print_fault(NOADDR);
    printf(" fsw=%04x ftw=%04x\n", f_sw & 0xffff, f_tag & 0xffff);

    /* A reserved MXCSR bit: #GP(0), nothing restored. */
    static const uint32_t bad[] = {0x00011f80, 0x80001f80, 0xffffffff};
    for (int k = 0; k < 3; k++) {
        make_image(0x037f, 0x3800, bad[k]);
        fault_reset();
        if (sigsetjmp(jb, 1) == 0)
            state_then_fxrstor(img.b);
        RESET_FPU();
        printf("fxrstor.reserved %08x", bad[k]);
        print_fault(NOADDR);
        print_unchanged();
    }

    /* Not 16-byte aligned: #GP(0). */
    static const int offs[] = {1, 8};
    for (int k = 0; k < 2; k++) {
        static uint8_t buf[600] __attribute__((aligned(64)));
        make_image(0x037f, 0x3800, 0x1f80);
        memcpy(buf + offs[k], img.b, 512);
        fault_reset();
        if (sigsetjmp(jb, 1) == 0)
            state_then_fxrstor(buf + offs[k]);
        RESET_FPU();
        printf("fxrstor.misaligned+%d", offs[k]);
        print_fault(NOADDR);
        print_unchanged();
    }

    /* Crossing into an unmapped page: #PF, nothing restored. */
    static const int below[] = {16, 288, 304};
    for (int k = 0; k < 3; k++) {
        make_image(0x037f, 0x3800, 0x1f80);
        memcpy(missing - below[k], img.b, below[k]);
        fault_reset();
        if (sigsetjmp(jb, 1) == 0)
            state_then_fxrstor(missing - below[k]);
        RESET_FPU();
        printf("fxrstor.cross-%d", below[k]);
        page_only = 1;
        print_fault((uintptr_t)missing);
        page_only = 0;
        print_unchanged();
    }
    for (int k = 0; k < 3; k++) {
        make_image(0x037f, 0x3800, 0x1f80);
        memcpy(page, img.b + below[k], 512 - below[k]);
        fault_reset();
        if (sigsetjmp(jb, 1) == 0)
            state_then_fxrstor(page - below[k]);
        RESET_FPU();
        printf("fxrstor.from-hole-%d", below[k]);
        page_only = 1;
        print_fault((uintptr_t)page);
        page_only = 0;
        print_unchanged();
    }
}

/* ---- MMX and x87 ---- */

static void print_f80(const char *what, const uint8_t *p)
{
    printf(" %s=%02x%02x:", what, p[9], p[8]);
    for (int i = 7; i >= 0; i--)
        printf("%02x", p[i]);
}

static void run_mmx(void)
{
    if (!check("mmx"))
        return;
    static const uint64_t v = 0x0123456789abcdefull;
    static uint64_t scratch;
    env32 e1, e2;

    /* MMX use then EMMS. */
    __asm__ volatile(FLD8 "movq %[v],%%mm2\n\tfnstenv %[e1]\n\temms\n\tfnstenv %[e2]\n\tfninit"
                     : [e1] "=m"(e1), [e2] "=m"(e2)
                     : [v] "m"(v)
                     : "memory");
    printf("mmx.emms");
    print_env("after-movq", &e1);
    print_env("after-emms", &e2);
    printf("\n");

    /* An MMX write seen from the x87 side: FXAM and FSTP m80 of the register. */
    static const uint64_t vals[] = {0, 1, 0x8000000000000000ull, 0xc000000000000000ull, 0x7fffffffffffffffull,
                                    ~0ull, 0x4000000000000000ull, 0x8000000000000001ull};
    for (unsigned k = 0; k < sizeof vals / sizeof vals[0]; k++) {
        uint8_t st[10];
        uint16_t sw;
        __asm__ volatile(FLD8 "movq %[v],%%mm3\n\tfxch %%st(3)\n\tfxam\n\tfnstsw %[sw]\n\tfstpt %[st]\n\t"
                              "fnstenv %[e]\n\tfninit"
                         : [st] "=m"(st), [sw] "=m"(sw), [e] "=m"(e1)
                         : [v] "m"(vals[k])
                         : "memory");
        printf("mmx.x87view %016llx fxam=%04x", (unsigned long long)vals[k], sw);
        print_f80("fstp", st);
        print_env("then", &e1);
        printf("\n");
    }

    /* FNSAVE of the MMX registers. */
    static const uint64_t mm[8] = {0x8000000000000000ull, 0, ~0ull, 0x00000000ffffffffull,
                                   0xc000000000000000ull, 0x7ff0000000000000ull, 0x3ff0000000000000ull, 2};
    static uint8_t save[108];
    __asm__ volatile(FLD8 "movq 0(%[m]),%%mm0\n\tmovq 8(%[m]),%%mm1\n\tmovq 16(%[m]),%%mm2\n\t"
                          "movq 24(%[m]),%%mm3\n\tmovq 32(%[m]),%%mm4\n\tmovq 40(%[m]),%%mm5\n\t"
                          "movq 48(%[m]),%%mm6\n\tmovq 56(%[m]),%%mm7\n\tfnsave %[s]\n\tfnstenv %[e]\n\tfninit"
                     : [s] "=m"(save), [e] "=m"(e1)
                     : [m] "r"(mm)
                     : "memory");
    printf("mmx.fnsave");
    print_env("saved", (const env32 *)save);
    print_env("after", &e1);
    printf("\n");
    for (int i = 0; i < 8; i++) {
        char what[8];
        snprintf(what, sizeof what, "st%d", i);
        if (i % 4 == 0)
            printf("mmx.fnsave");
        print_f80(what, save + 28 + 10 * i);
        if (i % 4 == 3)
            printf("\n");
    }

    /* Which instructions make the MMX transition (TOP 0, all valid): FNSTENV after
     * each, from TOP 6 with two registers valid. */
#define TRANS(name, ins)                                                                 \
    __asm__ volatile(FLD8 ins "\n\tfnstenv %[e]\n\tfninit"                               \
                     : [e] "=m"(e1), [s] "+m"(scratch)                                   \
                     : [v] "m"(v), [x] "r"(xmm_pattern)                                  \
                     : "eax", "memory");                                                 \
    printf("mmx.transition %-18s", name);                                                \
    print_env("", &e1);                                                                  \
    printf("\n");
    TRANS("movq-load", "movq %[v],%%mm1")
    TRANS("movq-store", "movq %%mm1,%[s]")
    TRANS("movd-to-gpr", "movd %%mm1,%%eax")
    TRANS("movd-from-gpr", "movd %%eax,%%mm1")
    TRANS("paddb", "paddb %%mm1,%%mm1")
    TRANS("pxor-same", "pxor %%mm5,%%mm5")
    TRANS("pextrw", "pextrw $1,%%mm1,%%eax")
    TRANS("cvtpi2ps", "cvtpi2ps %%mm1,%%xmm0")
    TRANS("cvtpi2ps-m64", "cvtpi2ps %[v],%%xmm0")
    TRANS("movq2dq", "movq2dq %%mm1,%%xmm0")
    TRANS("movdq2q", "movdq2q %%xmm0,%%mm1")
    TRANS("movups", "movups (%[x]),%%xmm0")
    TRANS("paddb-xmm", "paddb %%xmm1,%%xmm1")
    TRANS("emms", "emms")
    TRANS("ldmxcsr", "stmxcsr %[s]\n\tldmxcsr %[s]")

    /* x87 instructions on MMX state without EMMS. */
    static uint8_t st[10];
    uint16_t sw;
    __asm__ volatile(FLD8 "movq %[v],%%mm0\n\tfld1\n\tfnstsw %[sw]\n\tfstpt %[st]\n\tfnstenv %[e]\n\tfninit"
                     : [st] "=m"(st), [sw] "=m"(sw), [e] "=m"(e1)
                     : [v] "m"(v)
                     : "memory");
    printf("mmx.then-fld1 fsw=%04x", sw);
    print_f80("st0", st);
    print_env("then", &e1);
    printf("\n");
    static const uint64_t neg_inf = 0x8000000000000000ull, zero = 0;
    __asm__ volatile(FLD8 "movq %[a],%%mm0\n\tmovq %[b],%%mm1\n\tfadd %%st(1),%%st\n\tfnstsw %[sw]\n\t"
                          "fstpt %[st]\n\tfnstenv %[e]\n\tfninit"
                     : [st] "=m"(st), [sw] "=m"(sw), [e] "=m"(e1)
                     : [a] "m"(neg_inf), [b] "m"(zero)
                     : "memory");
    printf("mmx.then-fadd fsw=%04x", sw);
    print_f80("st0", st);
    print_env("then", &e1);
    printf("\n");
    __asm__ volatile(FLD8 "movq %[a],%%mm0\n\tmovq %[a],%%mm1\n\tfucomi %%st(1),%%st\n\tfnstsw %[sw]\n\t"
                          "fstpt %[st]\n\tfnstenv %[e]\n\tfninit"
                     : [st] "=m"(st), [sw] "=m"(sw), [e] "=m"(e1)
                     : [a] "m"(neg_inf)
                     : "memory");
    printf("mmx.then-fucomi fsw=%04x", sw);
    print_f80("st0", st);
    print_env("then", &e1);
    printf("\n");

    /* An unmasked x87 exception pending (FSQRT of -1 with IE unmasked): an MMX
     * instruction raises #MF before it runs (TOP 7, one register valid, R0 still
     * 1.0); an SSE instruction not touching MMX registers does not. */
    static const uint16_t cw_im = 0x037e;
#define PENDING(name, ins)                                                               \
    {                                                                                    \
        extern char lab_##name[];                                                        \
        fault_reset();                                                                   \
        if (sigsetjmp(jb, 1) == 0)                                                       \
            __asm__ volatile(FLD8 "fstp %%st(0)\n\tfldcw %[cw]\n\tfchs\n\tfsqrt\n"        \
                                  "lab_" #name ":\n\t" ins "\n\tfninit"                  \
                             : [s] "+m"(scratch)                                         \
                             : [cw] "m"(cw_im), [v] "m"(v), [x] "r"(xmm_pattern)         \
                             : "eax", "memory");                                         \
        RESET_FPU();                                                                     \
        printf("mmx.pending %-14s", #name);                                              \
        print_fault(NOADDR);                                                                  \
        if (f_sig) {                                                                     \
            printf(" eip,si_addr=%s,%s fsw=%04x ftw=%04x",                                \
                   f_eip == (uintptr_t)lab_##name ? "insn" : "elsewhere",                \
                   f_addr == (uintptr_t)lab_##name ? "insn" : "elsewhere",               \
                   f_sw & 0xffff, f_tag & 0xffff);                                       \
            print_f80("r0", f_fx + 32 + 16 * ((0 - ((f_sw >> 11) & 7)) & 7));            \
        }                                                                                \
        printf("\n");                                                                    \
    }
    PENDING(movq, "movq %[v],%%mm0")
    PENDING(paddb, "paddb %%mm0,%%mm0")
    PENDING(movd, "movd %%eax,%%mm0")
    PENDING(emms, "emms")
    PENDING(cvtpi2ps, "cvtpi2ps %%mm0,%%xmm0")
    PENDING(movups, "movups (%[x]),%%xmm0")
    PENDING(stmxcsr, "stmxcsr %[s]")
}

/* ---- FISTTP ---- */

/* value = n * 2^-shift, normalized. */
static f80 fr(int neg, uint64_t n, int shift)
{
    f80 r = {0, 0};
    if (!n) {
        r.se = neg ? 0x8000 : 0;
        return r;
    }
    int e = 63;
    while (!(n >> 63)) {
        n <<= 1;
        e--;
    }
    r.sig = n;
    r.se = (uint16_t)((neg ? 0x8000 : 0) | (16383 + e - shift));
    return r;
}

#define NFV 80
static f80 fvals[NFV];
static const char *fnames[NFV];
static int nfv;
static void add(const char *name, f80 v)
{
    fnames[nfv] = name;
    fvals[nfv++] = v;
}
static char pm_names[NFV][24];
static void add_pm(const char *name, uint64_t n, int shift)
{
    const char *fmt = strpbrk(name, "+-") ? "%c(%s)" : "%c%s";
    snprintf(pm_names[nfv], sizeof pm_names[0], fmt, '+', name);
    add(pm_names[nfv], fr(0, n, shift));
    snprintf(pm_names[nfv], sizeof pm_names[0], fmt, '-', name);
    add(pm_names[nfv], fr(1, n, shift));
}

static void make_fvals(void)
{
    add_pm("0", 0, 0);
    add_pm("0.5", 1, 1);
    add_pm("1.5", 3, 1);
    add_pm("2.5", 5, 1);
    add_pm("1-2^-64", ~0ull, 64);
    add_pm("1", 1, 0);
    add_pm("32767", 32767, 0);
    add_pm("32767.5", 65535, 1);
    add_pm("32768", 32768, 0);
    add_pm("32768.5", 65537, 1);
    add_pm("32769", 32769, 0);
    add_pm("2^31-1", 0x7fffffff, 0);
    add_pm("2^31-0.5", 0xffffffffull, 1);
    add_pm("2^31", 0x80000000ull, 0);
    add_pm("2^31+0.5", 0x100000001ull, 1);
    add_pm("2^31+1", 0x80000001ull, 0);
    add_pm("2^63-1", 0x7fffffffffffffffull, 0);
    add_pm("2^63-0.5", ~0ull, 1);
    add_pm("2^63", 0x8000000000000000ull, 0);
    add_pm("2^63+1", 0x8000000000000001ull, 0);
    add_pm("2^64", 1, -64);
    add_pm("2^100", 1, -100);
    add("+max", (f80){~0ull, 0x7ffe});
    add("-max", (f80){~0ull, 0xfffe});
    add("+min-normal", (f80){0x8000000000000000ull, 0x0001});
    add("-min-normal", (f80){0x8000000000000000ull, 0x8001});
    add("+denormal", (f80){1, 0x0000});
    add("-denormal", (f80){0x7fffffffffffffffull, 0x8000});
    add("+pseudo-denormal", (f80){0x8000000000000000ull, 0x0000});
    add("+inf", (f80){0x8000000000000000ull, 0x7fff});
    add("-inf", (f80){0x8000000000000000ull, 0xffff});
    add("+qnan", (f80){0xc000000000000001ull, 0x7fff});
    add("-snan", (f80){0x8000000000000001ull, 0xffff});
    add("indefinite", (f80){0xc000000000000000ull, 0xffff});
    add("unnormal", (f80){0x4000000000000000ull, 0x3fff});
    add("pseudo-nan", (f80){0x4000000000000000ull, 0x7fff});
    add("empty", (f80){0, 0});
}

/* RC 0-3 with every exception masked, then with every one unmasked. */
static const uint16_t fisttp_cw[8] = {0x037f, 0x077f, 0x0b7f, 0x0f7f, 0x0340, 0x0740, 0x0b40, 0x0f40};

static void run_fisttp(int width)
{
    char name[16];
    snprintf(name, sizeof name, "fisttp%d", width);
    if (!check(name))
        return;
    fnv = 0xcbf29ce484222325ull;
    for (int i = 0; i < nfv; i++)
        for (int c = 0; c < 8; c++) {
            uint8_t out[8];
            uint16_t sw, tw;
            int empty = !strcmp(fnames[i], "empty");
            memset(out, 0xcc, sizeof out);
            if (width == 16)
                __asm__ volatile("fninit\n\tfldcw %[cw]\n\ttest %[e],%[e]\n\tjnz 1f\n\tfldt %[v]\n1:\n\t"
                                 "fisttps %[o]\n\tfnstsw %[sw]\n\tfnstenv %[env]\n\tfninit"
                                 : [o] "=m"(*(uint16_t *)out), [sw] "=m"(sw), [env] "=m"(env)
                                 : [cw] "m"(fisttp_cw[c]), [v] "m"(fvals[i]), [e] "r"(empty)
                                 : "memory", "cc");
            else if (width == 32)
                __asm__ volatile("fninit\n\tfldcw %[cw]\n\ttest %[e],%[e]\n\tjnz 1f\n\tfldt %[v]\n1:\n\t"
                                 "fisttpl %[o]\n\tfnstsw %[sw]\n\tfnstenv %[env]\n\tfninit"
                                 : [o] "=m"(*(uint32_t *)out), [sw] "=m"(sw), [env] "=m"(env)
                                 : [cw] "m"(fisttp_cw[c]), [v] "m"(fvals[i]), [e] "r"(empty)
                                 : "memory", "cc");
            else
                __asm__ volatile("fninit\n\tfldcw %[cw]\n\ttest %[e],%[e]\n\tjnz 1f\n\tfldt %[v]\n1:\n\t"
                                 "fisttpll %[o]\n\tfnstsw %[sw]\n\tfnstenv %[env]\n\tfninit"
                                 : [o] "=m"(*(uint64_t *)out), [sw] "=m"(sw), [env] "=m"(env)
                                 : [cw] "m"(fisttp_cw[c]), [v] "m"(fvals[i]), [e] "r"(empty)
                                 : "memory", "cc");
            tw = (uint16_t)env.tw;
            hash(out, sizeof out);
            hash(&sw, 2);
            hash(&tw, 2);
            if (verbose) {
                printf("%s %-16s %04x:%016llx cw=%04x -> ", name, fnames[i], fvals[i].se,
                       (unsigned long long)fvals[i].sig, fisttp_cw[c]);
                for (int b = width / 8 - 1; b >= 0; b--)
                    printf("%02x", out[b]);
                printf(" fsw=%04x ftw=%04x\n", sw, tw);
            }
        }
    printf("%s %d values x 8 control words %016llx\n", name, nfv, (unsigned long long)fnv);
}

/* A FISTTP whose destination faults: nothing stored, nothing popped, no flag. */
static void run_fisttp_fault(void)
{
    if (!check("fisttp-fault"))
        return;
    static const f80 v = {0xc000000000000000ull, 0x4000}; /* 3.0 */
    static const int widths[] = {16, 32, 64};
    for (int w = 0; w < 3; w++)
        for (int where = 0; where < 2; where++) {
            int n = widths[w] / 8;
            uint8_t *dst = where ? ro + 4096 - n : missing - 1;
            memset(missing - 8, 0xcc, 8);
            fault_reset();
            if (sigsetjmp(jb, 1) == 0) {
                if (n == 2)
                    __asm__ volatile("fninit\n\tfldt %1\n\tfisttps (%0)" ::"r"(dst), "m"(v) : "memory");
                else if (n == 4)
                    __asm__ volatile("fninit\n\tfldt %1\n\tfisttpl (%0)" ::"r"(dst), "m"(v) : "memory");
                else
                    __asm__ volatile("fninit\n\tfldt %1\n\tfisttpll (%0)" ::"r"(dst), "m"(v) : "memory");
            }
            RESET_FPU();
            printf("fisttp-fault m%d %s", widths[w], where ? "read-only" : "cross");
            print_fault(where ? (uintptr_t)ro : (uintptr_t)missing);
            printf(" fsw=%04x ftw=%04x below=", f_sw & 0xffff, f_tag & 0xffff);
            for (int i = 8; i > 0; i--)
                printf("%02x", missing[-i]);
            printf("\n");
        }
}

/* ---- CLFLUSH, PREFETCHh, fences ---- */

static void run_clflush(void)
{
    if (!check("clflush"))
        return;
    static uint8_t buf[64] __attribute__((aligned(64)));
    fill(buf, sizeof buf, 0x99);
    memcpy(fx2.b, buf, sizeof buf);
    __asm__ volatile("clflush %0\n\tclflush 63+%0" : "+m"(buf));
    printf("clflush.mapped %s\n", memcmp(buf, fx2.b, sizeof buf) ? "changed" : "unchanged");

    struct {
        const char *name;
        uint8_t *p;
        uintptr_t base;
    } t[] = {
        {"read-only", ro + 100, (uintptr_t)ro},
        {"unmapped", missing + 5, (uintptr_t)missing},
        {"prot-none", none + 4095, (uintptr_t)none},
        {"null", 0, 0},
    };
    for (unsigned k = 0; k < sizeof t / sizeof t[0]; k++) {
        fault_reset();
        if (sigsetjmp(jb, 1) == 0)
            __asm__ volatile("clflush (%0)" ::"r"(t[k].p) : "memory");
        printf("clflush.%s", t[k].name);
        print_fault(t[k].base);
        printf("\n");
    }

    static const char *const pf[] = {"prefetchnta", "prefetcht0", "prefetcht1", "prefetcht2"};
    for (unsigned k = 0; k < sizeof t / sizeof t[0]; k++) {
        fault_reset();
        if (sigsetjmp(jb, 1) == 0)
            __asm__ volatile("prefetchnta (%0)\n\tprefetcht0 (%0)\n\tprefetcht1 (%0)\n\tprefetcht2 (%0)\n\t"
                             "prefetchnta 3(%0)\n\tprefetcht0 -1(%0)" ::"r"(t[k].p)
                             : "memory");
        printf("prefetch.%s %s %s %s %s", t[k].name, pf[0], pf[1], pf[2], pf[3]);
        print_fault(t[k].base);
        printf("\n");
    }

    /* The fences and their encodings with other r/m bits (0F AE E9..EF, F1..F7,
     * F9..FF): no change to the registers or flags. */
    uint32_t in[8] = {0x11111111, 0x22222222, 0x33333333, 0x44444444, 0x55555555, 0x66666666, 0x8c5, 0};
    uint32_t out[8];
    fault_reset();
    if (sigsetjmp(jb, 1) == 0)
        __asm__ volatile("pushl %%ebp\n\tpushl %%ebx\n\tpushl %%esi\n\tpushl %%edi\n\tpushl %%ecx\n\t"
                         "pushl 24(%%ecx)\n\tpopfl\n\t"
                         "movl 0(%%ecx),%%eax\n\tmovl 4(%%ecx),%%ebx\n\tmovl 8(%%ecx),%%edx\n\t"
                         "movl 12(%%ecx),%%esi\n\tmovl 16(%%ecx),%%edi\n\tmovl 20(%%ecx),%%ebp\n\t"
                         "lfence\n\tsfence\n\tmfence\n\t"
                         ".byte 0x0f,0xae,0xe9\n\t.byte 0x0f,0xae,0xec\n\t.byte 0x0f,0xae,0xef\n\t"
                         ".byte 0x0f,0xae,0xf1\n\t.byte 0x0f,0xae,0xf4\n\t.byte 0x0f,0xae,0xf7\n\t"
                         ".byte 0x0f,0xae,0xf9\n\t.byte 0x0f,0xae,0xfc\n\t.byte 0x0f,0xae,0xff\n\t"
                         "pushfl\n\tpopl %%ecx\n\tpushl %%ecx\n\tmovl 4(%%esp),%%ecx\n\tpopl 28(%%ecx)\n\t"
                         "movl %%eax,0(%%ecx)\n\tmovl %%ebx,4(%%ecx)\n\tmovl %%edx,8(%%ecx)\n\t"
                         "movl %%esi,12(%%ecx)\n\tmovl %%edi,16(%%ecx)\n\tmovl %%ebp,20(%%ecx)\n\t"
                         "popl %%ecx\n\tpopl %%edi\n\tpopl %%esi\n\tpopl %%ebx\n\tpopl %%ebp"
                         :
                         : "c"(memcpy(out, in, sizeof in))
                         : "eax", "edx", "memory", "cc");
    printf("fences");
    print_fault(NOADDR);
    printf(" eax=%08x ebx=%08x edx=%08x esi=%08x edi=%08x ebp=%08x eflags=%03x\n", out[0], out[1], out[2],
           out[3], out[4], out[5], out[7] & 0x8d5);
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "verbose"))
        verbose_name = argv[2];
    else if (argc != 1) {
        fprintf(stderr, "usage: simd-state [verbose NAME]\n");
        return 2;
    }
    setvbuf(stdout, 0, _IOFBF, 1 << 16);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, 0);
    sigaction(SIGFPE, &sa, 0);
    sigaction(SIGBUS, &sa, 0);
    sigaction(SIGILL, &sa, 0);

    ro = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    none = mmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    hole = mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (hole == MAP_FAILED || ro == MAP_FAILED || none == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    (void)*(volatile uint8_t *)ro; /* present: a write to it is a protection fault */
    page = hole + 4096;
    missing = page + 4096;
    munmap(hole, 4096);
    munmap(missing, 4096);
    make_fvals();

    run_ldmxcsr();
    run_fxsave();
    run_fxrstor();
    run_mmx();
    run_fisttp(16);
    run_fisttp(32);
    run_fisttp(64);
    run_fisttp_fault();
    run_clflush();
    return 0;
}
