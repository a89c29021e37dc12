/* eflags-ss: programs that read EFLAGS and load SS, for `growsdown difftest`,
 * whose native reference single-steps with the trap flag (docs/difftest.md,
 * "The trap flag").
 *
 *   (no argument)  with TF clear: PUSHF (16-bit) and PUSHFD images, POPFD setting
 *                  and clearing DF and AC, then MOV SS and POP SS each followed by
 *                  an instruction in their shadow (PUSHFD, PUSHF, MOV, ADD, JMP, a
 *                  second MOV SS); prints every EFLAGS image pushed and the values
 *                  the shadowed instructions computed;
 *   tf-handler     POPFD sets TF with an SA_SIGINFO SIGTRAP handler: a trap after
 *                  each following instruction (none after the POPF that set TF),
 *                  PUSHFD pushing TF, until the handler clears TF in the saved
 *                  EFLAGS at the sequence's end; prints each trap's offset into the
 *                  sequence and si_code;
 *   tf-movss       the same over MOV SS and POP SS: no trap after either (their
 *                  shadow), one after the instruction that follows;
 *   tf-kill        POPFD sets TF with SIGTRAP at its default action: the trap after
 *                  the next instruction kills the process (status: signal 5).
 *
 * Libc-free (rt.c): the same instruction count under QEMU and the host CPU. */
#include "rt.h"

static u32 out[16];

static void put_word(u32 v) {
    char b[9];
    for (int i = 7; i >= 0; i--) {
        b[i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    }
    b[8] = 0;
    rt_puts(b);
}

static void flags_and_ss(void) {
    __asm__ volatile(
        /* PUSHF (16 bits) and PUSHFD after an ADD that sets CF ZF PF AF. */
        "movl $-1, %%eax\n\taddl $1, %%eax\n\t"
        "pushw $0\n\tpushfw\n\tpopl %%eax\n\tmovl %%eax, 0(%0)\n\t"
        "pushfl\n\tpopl %%eax\n\tmovl %%eax, 4(%0)\n\t"
        /* POPFD with DF and AC set, read back, then both cleared. */
        "pushfl\n\torl $0x40400, (%%esp)\n\tpopfl\n\t"
        "pushfl\n\tpopl %%eax\n\tmovl %%eax, 8(%0)\n\t"
        "pushfl\n\tandl $0xfffbfbff, (%%esp)\n\tpopfl\n\t"
        "pushfl\n\tpopl %%eax\n\tmovl %%eax, 12(%0)\n\t"
        /* MOV SS, then PUSHFD in its shadow. */
        "movw %%ss, %%ax\n\tmovw %%ax, %%ss\n\tpushfl\n\tpopl %%eax\n\tmovl %%eax, 16(%0)\n\t"
        /* POP SS, then PUSHF (16 bits) in its shadow. */
        "pushl %%ss\n\tpopl %%ss\n\tpushw $0\n\tpushfw\n\tpopl %%eax\n\tmovl %%eax, 20(%0)\n\t"
        /* MOV SS, MOV in the shadow; POP SS, ADD in the shadow. */
        "movw %%ss, %%ax\n\tmovw %%ax, %%ss\n\tmovl $0x1234, %%edx\n\tmovl %%edx, 24(%0)\n\t"
        "pushl %%ss\n\tpopl %%ss\n\taddl $0x7fffffff, %%edx\n\tpushfl\n\tpopl %%eax\n\t"
        "movl %%edx, 28(%0)\n\tmovl %%eax, 32(%0)\n\t"
        /* MOV SS, a jump in the shadow; MOV SS twice in a row. */
        "movw %%ss, %%ax\n\tmovw %%ax, %%ss\n\tjmp 1f\n\tmovl $0xbad, 36(%0)\n"
        "1:\tmovw %%ax, %%ss\n\tmovw %%ax, %%ss\n\tpushfl\n\tpopl %%eax\n\tmovl %%eax, 40(%0)\n\t"
        "cld\n\t"
        :
        : "r"(out)
        : "eax", "edx", "memory", "cc");
    static const char *const names[] = {"pushf ", "pushfd", "df ac ", "clear ", "mov ss pushfd", "pop ss pushf ",
                                        "mov ss mov   ", "pop ss add   ", "  eflags     ", "mov ss jmp   ",
                                        "mov ss twice "};
    for (unsigned i = 0; i < sizeof names / sizeof *names; i++) {
        rt_puts(names[i]);
        rt_puts(" ");
        put_word(out[i]);
        rt_puts("\n");
    }
}

extern char tf_seq[], tf_end[], ss_seq[], ss_end[];
__asm__(".text\n"
        "tf_seq:\n"
        "  pushfl\n  orl $0x100, (%esp)\n  popfl\n"
        "  nop\n  movl $1, %eax\n  addl $2, %eax\n"
        "  pushfl\n  popl %eax\n"
        "tf_end:\n  ret\n"
        "ss_seq:\n"
        "  pushfl\n  orl $0x100, (%esp)\n  popfl\n"
        "  movw %ss, %ax\n  movw %ax, %ss\n  nop\n"
        "  pushl %ss\n  popl %ss\n  incl %eax\n"
        "  pushfl\n  popl %eax\n"
        "ss_end:\n  ret\n");

static char *seq_start, *seq_end;

static volatile u32 traps[32][2], ntraps, tf_pushed;

/* SA_SIGINFO handler: si_addr at 12 in the siginfo, si_code at 8; EFLAGS in the
 * ucontext at 20 (uc_flags, uc_link, uc_stack) + 4 * REG_EFL (16). */
static void on_trap(int sig, void *info, void *uc) {
    (void)sig;
    u32 addr = ((u32 *)info)[3];
    if (ntraps < 32) {
        traps[ntraps][0] = addr - (u32)seq_start;
        traps[ntraps][1] = ((u32 *)info)[2];
        ntraps++;
    }
    if (addr == (u32)seq_end || ntraps >= 32)
        ((u32 *)uc)[5 + 16] &= ~0x100u;
}

static void traced(const char *name) {
    static struct {
        void *handler;
        u32 flags;
        void *restorer;
        u32 mask[2];
    } sa;
    extern void rt_restorer(void);
    sa.handler = (void *)on_trap;
    sa.flags = SA_SIGINFO | SA_RESTORER;
    sa.restorer = (void *)rt_restorer;
    sys4(SYS_rt_sigaction, 5 /* SIGTRAP */, (u32)&sa, 0, 8);
    u32 eflags;
    __asm__ volatile("call *%1" : "=a"(eflags) : "r"(seq_start) : "memory", "cc");
    rt_puts("traps: ");
    rt_putudec(ntraps);
    rt_puts(", eflags pushed with TF: ");
    put_word(eflags);
    rt_puts("\n");
    for (u32 i = 0; i < ntraps; i++) {
        rt_puts("  ");
        rt_puts(name);
        rt_puts("+");
        rt_putudec(traps[i][0]);
        rt_puts(" si_code=");
        rt_putudec(traps[i][1]);
        rt_puts("\n");
    }
}

static void tf_handler(void) {
    seq_start = tf_seq, seq_end = tf_end;
    traced("tf_seq");
}

static void tf_movss(void) {
    seq_start = ss_seq, seq_end = ss_end;
    traced("ss_seq");
}

static void tf_kill(void) {
    rt_puts("setting TF, SIGTRAP at its default action\n");
    __asm__ volatile("pushfl\n\torl $0x100, (%%esp)\n\tpopfl\n\tnop\n\tnop" ::: "memory", "cc");
    rt_puts("not reached\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        flags_and_ss();
        return 0;
    }
    static const struct {
        const char *name;
        void (*run)(void);
    } modes[] = {{"tf-handler", tf_handler}, {"tf-movss", tf_movss}, {"tf-kill", tf_kill}};
    for (unsigned i = 0; i < sizeof modes / sizeof *modes; i++) {
        const char *a = argv[1], *b = modes[i].name;
        while (*a && *a == *b)
            a++, b++;
        if (*a == 0 && *b == 0) {
            modes[i].run();
            return 0;
        }
    }
    rt_puts("usage: eflags-ss [tf-handler|tf-movss|tf-kill]\n");
    return 2;
}
