/* Exercises the shim's exported vfprintf/__vfprintf_chk through real C variadic
 * calls (qemu_fprintf style wrappers). Built by tests/preload.rs twice: -O2
 * -D_FORTIFY_SOURCE=2 (vfprintf becomes __vfprintf_chk) and -O0 (plain vfprintf).
 * Output goes to stdout; the test compares it with and without LD_PRELOAD. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <inttypes.h>

static int pr(FILE *f, const char *fmt, ...)
{
    va_list ap;
    int r;
    va_start(ap, fmt);
    r = vfprintf(f, fmt, ap);
    va_end(ap);
    return r;
}

/* More named integer arguments: the va_list starts at gp_offset 40. */
static int pr5(FILE *f, int a, int b, int c, const char *fmt, ...)
{
    va_list ap;
    int r;
    (void)a; (void)b; (void)c;
    va_start(ap, fmt);
    r = vfprintf(f, fmt, ap);
    va_end(ap);
    return r;
}

/* A named double: fp_offset moves, gp_offset does not. */
static int prd(FILE *f, double d, const char *fmt, ...)
{
    va_list ap;
    int r;
    (void)d;
    va_start(ap, fmt);
    r = vfprintf(f, fmt, ap);
    va_end(ap);
    return r;
}

int main(void)
{
    static const int32_t ints[] = {0, 1, -1, 42, -42, 0x7fffffff, (int32_t)0x80000000, 0x1234abcd};
    static const uint64_t longs[] = {0, 1, 0xffffffffffffffffull, 0x8000000000000000ull, 0x0123456789abcdefull};
    static const char *strs[] = {"", "ES", "CS", "LDT", "TSS32-busy", NULL};
    int total = 0;
    for (unsigned i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        int v = ints[i];
        total += pr(stdout, "%d|%i|%u|%x|%X|%08x|%-8d|%08d|%.5d|%hhx|%hd|%c|\n", v, v, v, v, v, v, v, v, v, v, v,
                    'A' + (v & 15));
        total += pr5(stdout, 1, 2, 3, "%d %x %u %d %x %u %d %x\n", v, v, v, v, v, v, v, v);
        total += prd(stdout, 1.5, "%04x %d %s\n", v & 0xffff, v, "x");
    }
    for (unsigned i = 0; i < sizeof longs / sizeof longs[0]; i++) {
        uint64_t v = longs[i];
        total += pr(stdout, "%016" PRIx64 " %lx %ld %lu %llx %zu %jd|%d\n", v, v, v, v, (unsigned long long)v,
                    (size_t)v, (intmax_t)v, 7);
    }
    for (unsigned i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        total += pr(stdout, "%-3s=%04x [%5s] [%-6s] [%.2s]\n", strs[i], 0x2b, strs[i], strs[i], strs[i]);
    }
    /* Passed on to glibc: floating point, %p, flags outside the subset. */
    total += pr(stdout, "%f %d %e\n", 2.5, 7, 1e10);
    total += pr(stdout, "%p %#x %+d\n", (void *)0x1234, 255, 5);
    total += pr5(stdout, 1, 2, 3, "%d %g %d %d %d %d %d %d %s\n", 1, 3.25, 2, 3, 4, 5, 6, 7, "end");
    /* QEMU's first dump line, twenty arguments. */
    total += pr(stdout,
                "EAX=%08x EBX=%08x ECX=%08x EDX=%08x\nESI=%08x EDI=%08x EBP=%08x ESP=%08x\n"
                "EIP=%08x EFL=%08x [%c%c%c%c%c%c%c] CPL=%d II=%d A20=%d SMM=%d HLT=%d\n",
                1, 2, 3, 4, 5, 6, 7, 0x40800950, 0x080496c0, 0x246, '-', '-', '-', 'Z', '-', 'P', '-', 3, 0, 1,
                0, 0);
    pr(stdout, "total %d\n", total);
    return 0;
}
