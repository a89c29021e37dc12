/* sigregs: the registers a signal handler starts with. Today's i386 kernel passes
 * the signal number in EAX and, for an SA_SIGINFO handler, the siginfo and ucontext
 * addresses in EDX and ECX (0 for a plain handler), so handlers built with
 * regparm(3) — klibc's — read their arguments from registers. Each handler here
 * takes its arguments both ways and prints whether they agree. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

static volatile int sig_r, sig_s, same_info, same_uc, info_signo, edx0, ecx0;

__attribute__((regparm(3))) static void rt_handler(int sig, siginfo_t *info, void *uc) {
    sig_r = sig;
    info_signo = info ? info->si_signo : -1;
    same_info = info != 0;
    same_uc = uc != 0 && ((ucontext_t *)uc)->uc_mcontext.gregs[REG_TRAPNO] == 0;
}

/* A plain handler called with the usual stack argument; EDX and ECX read at entry. */
extern void plain_handler(int);
void plain_body(int sig_stack, int eax, int edx, int ecx) {
    sig_s = sig_stack;
    sig_r = eax;
    edx0 = edx;
    ecx0 = ecx;
}
__asm__(".text\n"
        "plain_handler:\n"
        "  pushl %ecx\n  pushl %edx\n  pushl %eax\n  pushl 16(%esp)\n"
        "  call plain_body\n  addl $16, %esp\n  ret\n");

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = (void (*)(int, siginfo_t *, void *))rt_handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, 0);
    raise(SIGUSR1);
    printf("SA_SIGINFO regparm handler: sig %d, info %s (si_signo %d), uc %s\n", sig_r, same_info ? "set" : "null",
           info_signo, same_uc ? "set" : "null");
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = plain_handler;
    sigaction(SIGUSR2, &sa, 0);
    raise(SIGUSR2);
    printf("plain handler: stack sig %d, eax %d, edx %#x, ecx %#x\n", sig_s, sig_r, edx0, ecx0);
    return 0;
}
