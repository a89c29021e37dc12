/* x87 instructions where qemu-i386 7.2 and the real CPU disagree (growsdown agrees
 * with the CPU): `growsdown difftest --against qemu x87-qemu CASE` must stop at the
 * instruction named by CASE with exit status 3 ("QEMU is wrong here").
 *
 *   fsin     fsin of the x87's pi (FLDPI):   QEMU computes sin() of the nearest
 *   fcos     fcos of pi/2                     double in host double precision
 *   fsincos  fsincos of pi                    (53 bits), the CPU reduces with a
 *   fptan    fptan of pi/4                    66-bit pi and rounds to 64 bits
 *   c1       1/3 in round-to-nearest: rounded up, so the CPU sets C1; QEMU never
 *            sets C1 after an inexact result
 *   fldcw    fldcw 0x033f: FCW bit 6 reads as 1 on the CPU; QEMU keeps it 0
 *   fucomi   fucomi after an ADD that set OF SF AF: the CPU clears them (SDM:
 *            "set the OF, SF and AF flags to zero"); QEMU leaves them as they were
 *
 * No argument: every case in this order. Each case starts from FNINIT, loads its
 * operand, runs the instruction once, and prints ST(0) (and ST(1) where the
 * instruction pushes) as sign+exponent:significand, and the status and control
 * words. Libc-free (rt.c), so that the instruction counts under QEMU and under the
 * host CPU are the same (glibc's start-up walks the auxv, which differs). */
#include "rt.h"

typedef unsigned short u16;
typedef unsigned long long u64;

struct f80 { u64 sig; u16 se; } __attribute__((packed));
struct result { struct f80 st0, st1; u16 sw, cw; u32 eflags; };

/* The operands, as the x87 holds them. */
static const struct f80 PI = { 0xc90fdaa22168c235ULL, 0x4000 };
static const struct f80 PI_2 = { 0xc90fdaa22168c235ULL, 0x3fff };
static const struct f80 PI_4 = { 0xc90fdaa22168c235ULL, 0x3ffe };
static const int THREE = 3;
static const u16 CW_BIT6_CLEAR = 0x033f;

static void hex(u64 v, int digits) {
    char b[17];
    for (int i = digits - 1; i >= 0; i--) {
        b[i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    }
    b[digits] = 0;
    rt_puts(b);
}

static void put80(const struct f80 *v) {
    hex(v->se, 4);
    rt_puts(":");
    hex(v->sig, 16);
}

/* fninit; fld tbyte [x]; OP; fnstsw; fnstcw; fstp tbyte (ST0); fstp (ST1). */
#define UNARY(name, insn)                                                           \
    static void name(const struct f80 *x, struct result *r) {                      \
        __asm__ volatile("fninit\n\t"                                               \
                         "fldt (%1)\n\t" insn "\n\t"                                \
                         "fnstsw %%ax\n\t"                                          \
                         "movw %%ax, %2\n\t"                                        \
                         "fnstcw %3\n\t"                                            \
                         "fstpt %0\n\t"                                             \
                         : "=m"(r->st0)                                             \
                         : "r"(x), "m"(r->sw), "m"(r->cw)                           \
                         : "eax", "memory");                                        \
    }
#define PUSHING(name, insn)                                                         \
    static void name(const struct f80 *x, struct result *r) {                      \
        __asm__ volatile("fninit\n\t"                                               \
                         "fldt (%2)\n\t" insn "\n\t"                                \
                         "fnstsw %%ax\n\t"                                          \
                         "movw %%ax, %3\n\t"                                        \
                         "fnstcw %4\n\t"                                            \
                         "fstpt %0\n\t"                                             \
                         "fstpt %1\n\t"                                             \
                         : "=m"(r->st0), "=m"(r->st1)                               \
                         : "r"(x), "m"(r->sw), "m"(r->cw)                           \
                         : "eax", "memory");                                        \
    }

UNARY(do_fsin, "fsin")
UNARY(do_fcos, "fcos")
PUSHING(do_fsincos, "fsincos")
PUSHING(do_fptan, "fptan")

static void do_c1(const struct f80 *x, struct result *r) {
    (void)x;
    __asm__ volatile("fninit\n\t"
                     "fld1\n\t"
                     "fidivl %3\n\t"
                     "fnstsw %%ax\n\t"
                     "movw %%ax, %1\n\t"
                     "fnstcw %2\n\t"
                     "fstpt %0\n\t"
                     : "=m"(r->st0)
                     : "m"(r->sw), "m"(r->cw), "m"(THREE)
                     : "eax", "memory");
}

static void do_fldcw(const struct f80 *x, struct result *r) {
    (void)x;
    __asm__ volatile("fninit\n\t"
                     "fldcw %2\n\t"
                     "fnstcw %1\n\t"
                     "fldz\n\t"
                     "fnstsw %%ax\n\t"
                     "movw %%ax, %0\n\t"
                     "fstpt %3\n\t"
                     "fninit\n\t"
                     : "=m"(r->sw), "=m"(r->cw)
                     : "m"(CW_BIT6_CLEAR), "m"(r->st0)
                     : "eax", "memory");
}

static void do_fucomi(const struct f80 *x, struct result *r) {
    (void)x;
    __asm__ volatile("fninit\n\t"
                     "fld1\n\t"
                     "fldz\n\t"
                     "movb $0x7f, %%al\n\t"
                     "addb $1, %%al\n\t" /* 0x80: OF SF AF set */
                     "fucomi %%st(1), %%st\n\t"
                     "pushfl\n\t"
                     "popl %%eax\n\t"
                     "movl %%eax, %0\n\t"
                     "fnstsw %%ax\n\t"
                     "movw %%ax, %1\n\t"
                     "fnstcw %2\n\t"
                     "fstpt %3\n\t"
                     "fstp %%st(0)\n\t"
                     : "=m"(r->eflags)
                     : "m"(r->sw), "m"(r->cw), "m"(r->st0)
                     : "eax", "memory", "cc");
}

struct test {
    const char *name;
    void (*run)(const struct f80 *, struct result *);
    const struct f80 *arg;
    int pushes;
};

static const struct test TESTS[] = {
    { "fsin", do_fsin, &PI, 0 },
    { "fcos", do_fcos, &PI_2, 0 },
    { "fsincos", do_fsincos, &PI, 1 },
    { "fptan", do_fptan, &PI_4, 1 },
    { "c1", do_c1, 0, 0 },
    { "fldcw", do_fldcw, 0, 0 },
    { "fucomi", do_fucomi, 0, 0 },
};

static int same(const char *a, const char *b) {
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

static void report(const struct test *t, const struct result *r) {
    rt_puts(t->name);
    if (t->arg) {
        rt_puts("(");
        put80(t->arg);
        rt_puts(")");
    }
    rt_puts(": st0=");
    put80(&r->st0);
    if (t->pushes) {
        rt_puts(" st1=");
        put80(&r->st1);
    }
    rt_puts(" sw=");
    hex(r->sw, 4);
    rt_puts(" cw=");
    hex(r->cw, 4);
    if (r->eflags) {
        rt_puts(" eflags&0x8d5=");
        hex(r->eflags & 0x8d5, 3);
    }
    rt_puts("\n");
}

int main(int argc, char **argv) {
    int n = sizeof TESTS / sizeof TESTS[0], found = 0;
    for (int i = 0; i < n; i++) {
        if (argc > 1 && !same(argv[1], TESTS[i].name))
            continue;
        struct result r;
        memset(&r, 0, sizeof r);
        TESTS[i].run(TESTS[i].arg, &r);
        report(&TESTS[i], &r);
        found = 1;
    }
    if (!found) {
        rt_puts("x87-qemu: unknown case\n");
        return 2;
    }
    return 0;
}
