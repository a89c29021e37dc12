/* Freestanding runtime, see rt.h. */
#include "rt.h"

volatile struct rt_fault rt_last_fault;
const char *rt_fault_base_name;
u32 rt_fault_base;
const char *rt_prog = "guest";

/* Defined in rt-asm.S. */
extern char rt_probe_fault[];
extern void rt_restorer(void);

void *memset(void *d, int c, unsigned n) {
    unsigned char *p = d;
    while (n--) *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *d, const void *s, unsigned n) {
    unsigned char *p = d;
    const unsigned char *q = s;
    while (n--) *p++ = *q++;
    return d;
}

void rt_exit(int status) {
    for (;;) sys1(SYS_exit, (u32)status);
}

static unsigned rt_strlen(const char *s) {
    unsigned n = 0;
    while (s[n]) n++;
    return n;
}

void rt_puts(const char *s) { sys3(SYS_write, 1, (u32)s, rt_strlen(s)); }

static void put_num(u32 u, int neg) {
    char buf[12];
    int i = sizeof buf;
    do {
        buf[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (neg) buf[--i] = '-';
    sys3(SYS_write, 1, (u32)(buf + i), sizeof buf - i);
}

void rt_putdec(s32 v) { put_num(v < 0 ? -(u32)v : (u32)v, v < 0); }
void rt_putudec(u32 v) { put_num(v, 0); }

void rt_puthex(u32 v) {
    char buf[10];
    int i = sizeof buf;
    do {
        buf[--i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    buf[--i] = 'x';
    buf[--i] = '0';
    sys3(SYS_write, 1, (u32)(buf + i), sizeof buf - i);
}

void rt_putrel(const char *base, u32 base_addr, u32 addr) {
    rt_puts(base);
    if (addr >= base_addr) {
        rt_puts("+");
        rt_putudec(addr - base_addr);
    } else {
        rt_puts("-");
        rt_putudec(base_addr - addr);
    }
}

void rt_getrusage(struct rt_rusage *r) { sys2(SYS_getrusage, 0, (u32)r); }

void rt_putdelta(const struct rt_rusage *a, const struct rt_rusage *b) {
    rt_puts(" minflt+=");
    rt_putdec((s32)(RU_MINFLT(b) - RU_MINFLT(a)));
    rt_puts(" majflt+=");
    rt_putdec((s32)(RU_MAJFLT(b) - RU_MAJFLT(a)));
}

static void put_addr(u32 a) {
    if (rt_fault_base_name)
        rt_putrel(rt_fault_base_name, rt_fault_base, a);
    else
        rt_puthex(a);
}

void rt_print_fault(void) {
    rt_puts(rt_last_fault.sig == SIGBUS ? "SIGBUS" : "SIGSEGV");
    rt_puts(" si_code=");
    rt_putdec((s32)rt_last_fault.code);
    rt_puts(" si_addr=");
    put_addr(rt_last_fault.addr);
    rt_puts(" trapno=");
    rt_putdec((s32)rt_last_fault.trapno);
    rt_puts(" err=");
    rt_putdec((s32)rt_last_fault.err);
    rt_puts(" cr2=");
    put_addr(rt_last_fault.cr2);
}

/* siginfo: si_signo 0, si_errno 4, si_code 8, si_addr 12.
 * ucontext: uc_mcontext (struct sigcontext) at 20; in it trapno 48, err 52,
 * eip 56, cr2 84. */
void rt_fault_handler(int sig, void *info, void *uc) {
    u32 *si = info;
    u32 *sc = (u32 *)((char *)uc + 20);
    rt_last_fault.sig = (u32)sig;
    rt_last_fault.code = si[2] & 0xffff;
    rt_last_fault.addr = si[3];
    rt_last_fault.trapno = sc[48 / 4];
    rt_last_fault.err = sc[52 / 4];
    rt_last_fault.cr2 = sc[84 / 4];
    u32 eip = sc[56 / 4];
    extern char rt_probe_read_insn[], rt_probe_write_insn[];
    if (eip == (u32)rt_probe_read_insn || eip == (u32)rt_probe_write_insn) {
        sc[56 / 4] = (u32)rt_probe_fault; /* resume: the probe returns 1 */
        return;
    }
    rt_puts(rt_prog);
    rt_puts(": ");
    rt_print_fault();
    rt_puts("\n");
    rt_exit(0);
}

struct k_sigaction {
    void *handler;
    u32 flags;
    void (*restorer)(void);
    u32 mask[2];
};

void rt_catch_faults(u32 extra_flags) {
    static struct k_sigaction sa;
    sa.handler = (void *)rt_fault_handler;
    sa.flags = SA_SIGINFO | SA_RESTORER | extra_flags;
    sa.restorer = rt_restorer;
    sa.mask[0] = sa.mask[1] = 0;
    sys4(SYS_rt_sigaction, SIGSEGV, (u32)&sa, 0, 8);
    sys4(SYS_rt_sigaction, SIGBUS, (u32)&sa, 0, 8);
}
