/* trapflag: EFLAGS.TF single-stepping and ICEBP, as Linux reports them.
 *
 * Each sequence is a small assembly function; a SA_SIGINFO SIGTRAP handler records
 * every trap as the sequence's name, the trap address (si_addr, the EIP after the
 * instruction) as an offset into the sequence, si_code, trapno and the error code,
 * and clears TF in the saved EFLAGS when the sequence's end is reached.
 *   popf    TF set by POPF: no trap after that POPF, a trap after each following
 *           instruction, including the POPF that clears TF again;
 *   movss   MOV SS: the trap after it waits for the next instruction (one trap);
 *   popss   the same for POP SS;
 *   icebp   INT1 (F1): SIGTRAP with TRAP_BRKPT;
 *   sigret  TF set in the saved EFLAGS by a SIGUSR1 handler: sigreturn restores it
 *           and the instruction after the interrupted int $0x80 traps.
 * Prints no absolute address. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

#define TF 0x100

extern char seq_popf[], seq_popf_end[], seq_movss[], seq_movss_end[], seq_popss[], seq_popss_end[];
extern char seq_icebp[], seq_icebp_end[], seq_sigret[], seq_sigret_end[];

__asm__(".text\n"
        "seq_popf:\n"
        "  pushf\n  orl $0x100, (%esp)\n  popf\n"
        "  nop\n  movl $1, %eax\n  addl $2, %eax\n"
        "  pushf\n  andl $0xfffffeff, (%esp)\n  popf\n"
        "  nop\n"
        "seq_popf_end:\n  ret\n"
        "seq_movss:\n"
        "  pushf\n  orl $0x100, (%esp)\n  popf\n"
        "  movw %ss, %ax\n  movw %ax, %ss\n  nop\n  nop\n"
        "seq_movss_end:\n"
        "  pushf\n  andl $0xfffffeff, (%esp)\n  popf\n  ret\n"
        "seq_popss:\n"
        "  pushf\n  orl $0x100, (%esp)\n  popf\n"
        "  pushl %ss\n  popl %ss\n  nop\n  nop\n"
        "seq_popss_end:\n"
        "  pushf\n  andl $0xfffffeff, (%esp)\n  popf\n  ret\n"
        "seq_icebp:\n"
        "  nop\n  .byte 0xf1\n"
        "seq_icebp_end:\n  ret\n"
        "seq_sigret:\n"
        "  pushl %ebx\n"
        "  movl $20, %eax\n  int $0x80\n"           /* getpid */
        "  movl %eax, %ebx\n  movl $10, %ecx\n"      /* SIGUSR1 */
        "  movl $37, %eax\n  int $0x80\n"           /* kill */
        "  nop\n  nop\n"
        "seq_sigret_end:\n"
        "  popl %ebx\n  ret\n");

struct seq {
    const char *name;
    char *start, *end;
};
static const struct seq seqs[] = {
    {"popf", seq_popf, seq_popf_end},    {"movss", seq_movss, seq_movss_end},
    {"popss", seq_popss, seq_popss_end}, {"icebp", seq_icebp, seq_icebp_end},
    {"sigret", seq_sigret, seq_sigret_end},
};

struct trap {
    int seq;
    long off;
    int code, trapno, err;
};
static struct trap traps[64];
static volatile int ntraps;

static int which(uintptr_t a) {
    for (unsigned i = 0; i < sizeof seqs / sizeof *seqs; i++)
        if (a >= (uintptr_t)seqs[i].start && a <= (uintptr_t)seqs[i].end)
            return (int)i;
    return -1;
}

static void on_trap(int sig, siginfo_t *si, void *ctx) {
    (void)sig;
    ucontext_t *uc = ctx;
    uintptr_t a = (uintptr_t)si->si_addr;
    int s = which(a);
    if (ntraps < 64) {
        traps[ntraps] = (struct trap){s, s < 0 ? 0 : (long)(a - (uintptr_t)seqs[s].start), si->si_code,
                                      (int)uc->uc_mcontext.gregs[REG_TRAPNO], (int)uc->uc_mcontext.gregs[REG_ERR]};
        ntraps++;
    }
    if (s < 0 || a == (uintptr_t)seqs[s].end || ntraps >= 64)
        uc->uc_mcontext.gregs[REG_EFL] &= ~TF;
}

static void on_usr1(int sig, siginfo_t *si, void *ctx) {
    (void)sig, (void)si;
    ((ucontext_t *)ctx)->uc_mcontext.gregs[REG_EFL] |= TF;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_trap;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGTRAP, &sa, 0);
    sa.sa_sigaction = on_usr1;
    sigaction(SIGUSR1, &sa, 0);
    for (unsigned i = 0; i < sizeof seqs / sizeof *seqs; i++) {
        int before = ntraps;
        ((void (*)(void))seqs[i].start)();
        printf("%s: %d traps\n", seqs[i].name, ntraps - before);
        for (int t = before; t < ntraps; t++)
            printf("  %s+%ld si_code=%d trapno=%d err=%d\n", traps[t].seq < 0 ? "?" : seqs[traps[t].seq].name,
                   traps[t].off, traps[t].code, traps[t].trapno, traps[t].err);
    }
    return 0;
}
