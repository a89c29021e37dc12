/* sigxmm: the SSE state across a signal, as Linux keeps it. A SIGUSR1 arrives while
 * XMM0-7 and MXCSR hold known values (raised by an int $0x80 in the same asm block);
 * the handler prints what it starts with (today's kernels: MXCSR 0x1f80, XMM zeroed),
 * the values the frame's struct _fpstate holds (magic 0 = FXSR image present, mxcsr,
 * _xmm[]), clobbers its own XMM registers and MXCSR, and edits the frame's XMM5 and
 * MXCSR; after sigreturn the interrupted code sees its own values, with the edits.
 * Built without -msse: the compiler keeps out of the XMM registers, so the asm
 * blocks need not name them. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

typedef struct {
    uint32_t w[4];
} x128;

static x128 before[8], after[8], inside[8];
static uint32_t mxcsr_before = 0x3f80 | 0x6000, mxcsr_after, mxcsr_inside;

static void save_all(x128 *out, uint32_t *mx) {
    __asm__ volatile("movdqu %%xmm0, 0(%0)\n movdqu %%xmm1, 16(%0)\n movdqu %%xmm2, 32(%0)\n"
                     "movdqu %%xmm3, 48(%0)\n movdqu %%xmm4, 64(%0)\n movdqu %%xmm5, 80(%0)\n"
                     "movdqu %%xmm6, 96(%0)\n movdqu %%xmm7, 112(%0)\n stmxcsr (%1)"
                     :
                     : "r"(out), "r"(mx)
                     : "memory");
}

static void on_usr1(int sig, siginfo_t *si, void *ctx) {
    (void)sig, (void)si;
    save_all(inside, &mxcsr_inside);
    int zero = 1;
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 4; j++)
            zero &= inside[i].w[j] == 0;
    printf("handler starts with mxcsr %08x, xmm all zero: %d\n", mxcsr_inside, zero);
    ucontext_t *uc = ctx;
    unsigned char *fp = (unsigned char *)uc->uc_mcontext.fpregs;
    uint16_t magic;
    uint32_t mx;
    memcpy(&magic, fp + 110, 2);
    memcpy(&mx, fp + 136, 4);
    printf("frame: magic %04x mxcsr %08x\n", magic, mx);
    for (int i = 0; i < 8; i++) {
        x128 x;
        memcpy(&x, fp + 272 + 16 * i, 16);
        printf("frame xmm%d %08x %08x %08x %08x\n", i, x.w[3], x.w[2], x.w[1], x.w[0]);
    }
    /* The handler's own SSE work. */
    uint32_t m = 0x1f80 | 0x2000;
    __asm__ volatile("ldmxcsr %0\n pcmpeqd %%xmm0, %%xmm0\n pcmpeqd %%xmm5, %%xmm5\n pcmpeqd %%xmm7, %%xmm7" : : "m"(m));
    /* Edits to the frame: XMM5 and MXCSR (round up) come back at sigreturn. */
    x128 five = {{0x55555555, 0x66666666, 0x77777777, 0x88888888}};
    memcpy(fp + 272 + 16 * 5, &five, 16);
    mx = (mx & ~0x6000u) | 0x4000;
    memcpy(fp + 136, &mx, 4);
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, 0);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 4; j++)
            before[i].w[j] = 0x01010101u * (uint32_t)(i * 4 + j + 1);
    int pid = getpid();
    __asm__ volatile("movdqu 0(%[b]), %%xmm0\n movdqu 16(%[b]), %%xmm1\n movdqu 32(%[b]), %%xmm2\n"
                     "movdqu 48(%[b]), %%xmm3\n movdqu 64(%[b]), %%xmm4\n movdqu 80(%[b]), %%xmm5\n"
                     "movdqu 96(%[b]), %%xmm6\n movdqu 112(%[b]), %%xmm7\n ldmxcsr (%[m])\n"
                     "pushl %%ebx\n movl %[pid], %%ebx\n movl $37, %%eax\n movl $10, %%ecx\n int $0x80\n popl %%ebx\n"
                     "movdqu %%xmm0, 0(%[a])\n movdqu %%xmm1, 16(%[a])\n movdqu %%xmm2, 32(%[a])\n"
                     "movdqu %%xmm3, 48(%[a])\n movdqu %%xmm4, 64(%[a])\n movdqu %%xmm5, 80(%[a])\n"
                     "movdqu %%xmm6, 96(%[a])\n movdqu %%xmm7, 112(%[a])\n stmxcsr (%[ma])"
                     :
                     : [b] "r"(before), [a] "r"(after), [m] "r"(&mxcsr_before), [ma] "r"(&mxcsr_after), [pid] "g"(pid)
                     : "eax", "ecx", "memory");
    printf("after sigreturn: mxcsr %08x\n", mxcsr_after);
    for (int i = 0; i < 8; i++)
        printf("xmm%d %08x %08x %08x %08x%s\n", i, after[i].w[3], after[i].w[2], after[i].w[1], after[i].w[0],
               memcmp(&after[i], &before[i], 16) ? " (changed)" : "");
    return 0;
}
