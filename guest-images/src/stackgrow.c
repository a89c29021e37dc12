/* stackgrow: the seed scenario. Grows the stack page by page through
 * expand_stack (linux24.md §2.4, §1.3 step 5) and counts the page faults it took.
 *
 * Each phase starts from a page-aligned ESP, GAP bytes below the current stack
 * page, set with run_on_stack(): the gap keeps the phase clear of anything glibc's
 * start-up touched, and the alignment makes the page count independent of where
 * the kernel put the initial ESP (argument sizes, randomisation).
 *   phase 1: recursion, DEPTH frames of FRAME bytes, each frame memset;
 *   phase 2: alloca in a loop, PAGES2 blocks of 4096 bytes, both ends written.
 * Every page below the phase's start is first touched by a write, so each costs
 * exactly one minor fault (do_anonymous_page), and no major faults.
 *
 * stdout (deterministic; same natively and under growsdown):
 *   recursion: depth 128, grew 130 pages, minflt+=130 majflt+=0
 *   alloca: 128 blocks, grew 129 pages, minflt+=129 majflt+=0
 *   checksum 0x...
 * stderr: the process's own getrusage totals (they depend on the kernel).
 * Exit status 0. Built with -fno-stack-clash-protection -fno-stack-protector. */
#include <alloca.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#define GAP (64 * 1024)
#define DEPTH 128
#define FRAME 4096
#define PAGES2 128

/* void run_on_stack(void (*fn)(void), uintptr_t esp): calls fn with ESP = esp. */
void run_on_stack(void (*fn)(void), uintptr_t esp);
__asm__(".text\n"
        ".globl run_on_stack\n"
        "run_on_stack:\n"
        "  pushl %ebp\n"
        "  movl %esp, %ebp\n"
        "  movl 12(%ebp), %esp\n"
        "  call *8(%ebp)\n"
        "  movl %ebp, %esp\n"
        "  popl %ebp\n"
        "  ret\n");

static uintptr_t lowest;
static unsigned checksum;
static struct rusage r0, r1;

__attribute__((noinline)) static unsigned recurse(int depth) {
    char buf[FRAME];
    memset(buf, depth & 0xff, sizeof buf);
    if ((uintptr_t)buf < lowest) lowest = (uintptr_t)buf;
    unsigned below = depth < DEPTH ? recurse(depth + 1) : 0;
    __asm__ volatile("" ::"r"(buf) : "memory");
    return below * 31 + (unsigned char)buf[depth % FRAME];
}

static void phase1(void) { checksum = recurse(1); }

static void phase2(void) {
    for (int i = 0; i < PAGES2; i++) {
        volatile char *p = alloca(4096);
        p[4095] = (char)i;
        p[0] = (char)i;
        if ((uintptr_t)p < lowest) lowest = (uintptr_t)p;
        checksum = checksum * 7 + (unsigned char)p[4095];
    }
}

static long pages_between(uintptr_t top, uintptr_t low) { return (long)((top - (low & ~4095u)) / 4096); }

static void run_phase(const char *what, int count, const char *unit, void (*fn)(void), uintptr_t top) {
    lowest = top;
    getrusage(RUSAGE_SELF, &r0);
    run_on_stack(fn, top);
    getrusage(RUSAGE_SELF, &r1);
    printf("%s: %d %s, grew %ld pages, minflt+=%ld majflt+=%ld\n", what, count, unit,
           pages_between(top, lowest), r1.ru_minflt - r0.ru_minflt, r1.ru_majflt - r0.ru_majflt);
}

int main(void) {
    char here;
    /* Warm up everything the measurements use: stdio, getrusage, the r0/r1 pages. */
    getrusage(RUSAGE_SELF, &r0);
    getrusage(RUSAGE_SELF, &r1);
    printf("stackgrow: growing the stack page by page\n");
    fflush(stdout);

    uintptr_t top1 = ((uintptr_t)&here & ~4095u) - GAP;
    run_phase("recursion", DEPTH, "frames", phase1, top1);
    uintptr_t top2 = (lowest & ~4095u) - GAP;
    run_phase("alloca", PAGES2, "blocks", phase2, top2);
    printf("checksum 0x%08x\n", checksum);

    struct rusage t;
    getrusage(RUSAGE_SELF, &t);
    fprintf(stderr, "stackgrow totals: minflt=%ld majflt=%ld\n", t.ru_minflt, t.ru_majflt);
    return 0;
}
