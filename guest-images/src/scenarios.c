/* scenarios: the test scenarios of docs/linux24.md §8, one per run.
 *
 *   scenarios NAME [DIR]      run scenario NAME (DIR: where file scenarios create
 *                             their scratch file, default /tmp)
 *   scenarios list            print the names
 *
 * Output: one line per observation, written with write(2) so that nothing is lost
 * when a scenario ends by dying. Every access under test is a "step":
 *
 *   write p+0x1000 -> ok minflt+=1 majflt+=0
 *   read p+0x0 -> ok value=0 minflt+=1 majflt+=0
 *   read 0x0 -> SIGSEGV si_code=1 si_addr=0x0 trapno=14 err=4 cr2=0x0 minflt+=0 majflt+=0
 *
 * si_code, si_addr come from the siginfo; trapno, err, cr2 from the sigcontext in
 * the ucontext; minflt/majflt are getrusage(RUSAGE_SELF) deltas over the step
 * only. Addresses are printed relative to a named base (p, t, top, ...) whenever
 * the absolute value depends on the layout; absolute values are printed only where
 * the spec fixes them (e.g. "mmap#1=0x40000000").
 *
 * To make the deltas exact, main first touches every page the steps and the
 * signal delivery will need: each page of every PT_LOAD (text read, data and bss
 * written, RELRO read), 64 KiB of stack below main, and the alternate signal
 * stack. Only the accesses under test fault inside a measurement window.
 *
 * The expected output under the 2.4.35 model is in guest-images/expected/
 * scenarios-NAME.out; where today's Linux behaves differently (and the spec, not
 * the host, is the oracle), the native output is in expected/native/. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

typedef uintptr_t addr_t;
#define PAGE 4096u

/* ------------------------------------------------------------------------ */
/* Output                                                                    */

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 1) n = sizeof buf - 1;
    if (n > 0) write(1, buf, (size_t)n);
}

/* Named bases for relative addresses; A() picks the nearest one. */
static struct {
    const char *name;
    addr_t addr;
} bases[4];
static int nbases;

static void set_base(const char *name, addr_t addr) {
    nbases = 1;
    bases[0].name = name;
    bases[0].addr = addr;
}
static void no_base(void) { nbases = 0; }

static const char *A(addr_t a) {
    static char ring[8][48];
    static int k;
    char *s = ring[k++ & 7];
    int best = -1;
    addr_t bestd = 0;
    for (int i = 0; i < nbases; i++) {
        addr_t d = a >= bases[i].addr ? a - bases[i].addr : bases[i].addr - a;
        if (best < 0 || d < bestd) best = i, bestd = d;
    }
    if (best < 0)
        snprintf(s, 48, "0x%lx", (unsigned long)a);
    else
        snprintf(s, 48, "%s%c0x%lx", bases[best].name, a >= bases[best].addr ? '+' : '-',
                 (unsigned long)bestd);
    return s;
}

/* ------------------------------------------------------------------------ */
/* Fault capture and fault counting                                          */

static struct rusage ru0, ru1;
static void snap0(void) { getrusage(RUSAGE_SELF, &ru0); }
static void snap1(void) { getrusage(RUSAGE_SELF, &ru1); }
static const char *delta(void) {
    static char s[64];
    snprintf(s, sizeof s, " minflt+=%ld majflt+=%ld", ru1.ru_minflt - ru0.ru_minflt,
             ru1.ru_majflt - ru0.ru_majflt);
    return s;
}

static struct {
    int sig, code, trapno, err;
    addr_t addr, cr2;
    int on_alt;
} F;
static sigjmp_buf probe_jb;
static volatile sig_atomic_t in_probe;
static char *alt_lo, *alt_hi;
/* Called from the handler before the probe resumes (sigsegv-handler, sigaltstack). */
static void (*fault_hook)(void);

static const char *fault_str(void) {
    static char s[160];
    snprintf(s, sizeof s, "%s si_code=%d si_addr=%s trapno=%d err=%d cr2=%s",
             F.sig == SIGBUS ? "SIGBUS" : F.sig == SIGSEGV ? "SIGSEGV" : "SIG?", F.code, A(F.addr),
             F.trapno, F.err, A(F.cr2));
    return s;
}

static void on_fault(int sig, siginfo_t *si, void *ucv) {
    ucontext_t *uc = ucv;
    char here;
    F.sig = sig;
    F.code = si->si_code;
    F.addr = (addr_t)si->si_addr;
    F.trapno = (int)uc->uc_mcontext.gregs[REG_TRAPNO];
    F.err = (int)uc->uc_mcontext.gregs[REG_ERR];
    F.cr2 = (addr_t)uc->uc_mcontext.cr2;
    F.on_alt = alt_lo && &here >= alt_lo && &here < alt_hi;
    if (fault_hook) fault_hook();
    if (in_probe) {
        in_probe = 0;
        siglongjmp(probe_jb, 1);
    }
    out("unexpected %s\n", fault_str());
    _exit(99);
}

static void catch_faults(int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
}

enum { RD, WR };

/* Returns 1 if the access faulted (F holds the details). */
__attribute__((noinline)) static int probe(int kind, addr_t a, unsigned *val) {
    if (sigsetjmp(probe_jb, 1)) return 1;
    in_probe = 1;
    if (kind == RD)
        *val = *(volatile unsigned char *)a;
    else
        *(volatile unsigned char *)a = 0x5a;
    in_probe = 0;
    return 0;
}

static void step(int kind, addr_t a) {
    unsigned v = 0;
    snap0();
    int faulted = probe(kind, a, &v);
    snap1();
    const char *op = kind == RD ? "read" : "write";
    if (faulted)
        out("%s %s -> %s%s\n", op, A(a), fault_str(), delta());
    else if (kind == RD)
        out("%s %s -> ok value=%u%s\n", op, A(a), v, delta());
    else
        out("%s %s -> ok%s\n", op, A(a), delta());
}

/* ESP games, in assembly. push_at(esp): ESP = esp; push %eax; restore.
 * run_on_stack(fn, esp): calls fn with ESP = esp. */
void push_at(addr_t esp);
void run_on_stack(void (*fn)(void), addr_t esp);
__asm__(".text\n"
        ".globl push_at\n"
        "push_at:\n"
        "  pushl %ebp\n"
        "  movl %esp, %ebp\n"
        "  movl 8(%ebp), %esp\n"
        "  pushl %eax\n"
        "  movl %ebp, %esp\n"
        "  popl %ebp\n"
        "  ret\n"
        ".globl run_on_stack\n"
        "run_on_stack:\n"
        "  pushl %ebp\n"
        "  movl %esp, %ebp\n"
        "  movl 12(%ebp), %esp\n"
        "  call *8(%ebp)\n"
        "  movl %ebp, %esp\n"
        "  popl %ebp\n"
        "  ret\n");

__attribute__((noinline)) static int probe_push(addr_t esp) {
    if (sigsetjmp(probe_jb, 1)) return 1;
    in_probe = 1;
    push_at(esp);
    in_probe = 0;
    return 0;
}

__attribute__((noinline)) static int probe_run_on_stack(void (*fn)(void), addr_t esp) {
    if (sigsetjmp(probe_jb, 1)) return 1;
    in_probe = 1;
    run_on_stack(fn, esp);
    in_probe = 0;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Warming up: make every page the steps need present                        */

/* A text page that nothing executes or reads: write-text's "not present" case.
 * 8 KiB of nops starting on a page boundary; the second page lies wholly inside. */
__attribute__((section(".text.growsdown_cold"), aligned(4096), noinline, used)) void cold_pages(void) {
    __asm__ volatile(".fill 8192, 1, 0x90");
}
#define COLD_PAGE ((addr_t)cold_pages + PAGE)

static char altstack[64 * 1024];

__attribute__((noinline)) static void touch_stack(void) {
    volatile char buf[64 * 1024];
    for (unsigned i = 0; i < sizeof buf; i += 64) buf[i] = 0;
}

static void touch_image(void) {
    const Elf32_Phdr *ph = (const Elf32_Phdr *)getauxval(AT_PHDR);
    unsigned n = (unsigned)getauxval(AT_PHNUM);
    addr_t relro_lo = 0, relro_hi = 0;
    for (unsigned i = 0; i < n; i++)
        if (ph[i].p_type == PT_GNU_RELRO) relro_lo = ph[i].p_vaddr, relro_hi = ph[i].p_vaddr + ph[i].p_memsz;
    for (unsigned i = 0; i < n; i++) {
        if (ph[i].p_type != PT_LOAD) continue;
        addr_t lo = ph[i].p_vaddr & ~(PAGE - 1), hi = ph[i].p_vaddr + ph[i].p_memsz;
        for (addr_t a = lo; a < hi; a += PAGE) {
            volatile unsigned char *p = (volatile unsigned char *)(a < ph[i].p_vaddr ? ph[i].p_vaddr : a);
            if (a == COLD_PAGE) continue;
            unsigned char c = *p;
            int relro = (addr_t)p >= relro_lo && (addr_t)p < relro_hi;
            if ((ph[i].p_flags & PF_W) && !relro) *p = c;
        }
    }
}

static void warm_up(void) {
    touch_image();
    touch_stack();
    snap0();
    snap1();
    /* Run the probe and formatting paths once. */
    unsigned v;
    probe(RD, (addr_t)&v, &v);
    (void)A(0);
    (void)delta();
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

static addr_t xmmap(addr_t hint, size_t len, int prot, int flags, int fd) {
    void *p = mmap((void *)hint, len, prot, flags, fd, 0);
    return p == MAP_FAILED ? (addr_t)-errno : (addr_t)p;
}
static long sys_brk(addr_t a) { return syscall(SYS_brk, a); }
static const char *ret(long r) {
    static char s[32];
    if (r == -1)
        snprintf(s, sizeof s, "-%d", errno);
    else
        snprintf(s, sizeof s, "%ld", r);
    return s;
}
/* The end of the stack VMA: the kernel copies the execve filename first, right
 * below the last pointer-sized slot (linux24.md §4.2: 4 bytes; today's 64-bit Linux
 * leaves 8 for a 32-bit process), so the page end above it is vm_end. */
static addr_t stack_top(void) {
    const char *fn = (const char *)getauxval(AT_EXECFN);
    return ((addr_t)fn + strlen(fn) + 1 + 4 + PAGE - 1) & ~(PAGE - 1);
}
static void set_stack_limit(rlim_t cur) {
    struct rlimit r;
    getrlimit(RLIMIT_STACK, &r);
    r.rlim_cur = cur;
    out("setrlimit(RLIMIT_STACK, 0x%lx)=%s\n", (unsigned long)cur, ret(setrlimit(RLIMIT_STACK, &r)));
}
static void use_altstack(void) {
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    alt_lo = altstack;
    alt_hi = altstack + sizeof altstack;
    out("sigaltstack(64 KiB)=%s\n", ret(sigaltstack(&ss, NULL)));
}

/* ------------------------------------------------------------------------ */
/* Scenarios                                                                 */

/* §8.5: zero page, then COW on anonymous mmap. */
static void sc_zeropage_cow(void) {
    addr_t p = xmmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    out("mmap#1=0x%lx\n", (unsigned long)p);
    set_base("p", p);
    step(RD, p);
    step(WR, p);
    step(WR, p + 4096);
    step(RD, p);
}

/* §8.7: writes to the text segment. */
static void sc_write_text(void) {
    set_base("text", (addr_t)sc_write_text);
    step(WR, (addr_t)sc_write_text); /* present page: code 7 */
    set_base("cold", COLD_PAGE);
    step(WR, COLD_PAGE);             /* never touched: code 6 */
    step(RD, COLD_PAGE);             /* file page: a major fault */
    step(WR, COLD_PAGE);             /* now present: code 7 */
}

/* §8.8: NULL dereference. */
static void sc_null_read(void) { step(RD, 0); }
static void sc_null_write(void) { step(WR, 0); }

/* §8.9: user access to kernel space; 2.4.35 reports err | 1 for kernel addresses. */
static void sc_kernel_addr(void) {
    step(RD, 0xC0100000u);
    step(WR, 0xC0100000u);
    step(RD, 0xFFFFF000u);
    step(RD, 0xC0000000u);
}

/* §8.10: PROT_NONE. */
static void sc_prot_none(void) {
    addr_t p = xmmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    set_base("p", p);
    step(RD, p);
    step(WR, p);
}

/* §8.10: PROT_WRITE only. */
static void sc_write_only(void) {
    addr_t p = xmmap(0, 8192, PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    set_base("p", p);
    step(RD, p);
    step(WR, p + 4096);
    step(RD, p + 4096);
}

/* §8.11 relative to this binary's break; brk-layout has the exact spec layout.
 * A = PAGE_ALIGN(break at main). The initial break is not printed: it depends on
 * what glibc's start-up allocated (TLS, _dl_get_origin's malloc). RLIMIT_DATA
 * counts from start_data (max PT_LOAD p_vaddr in 2.4), so the limit is set to
 * A - start_data + 0x10000. */
static addr_t start_data(void) {
    const Elf32_Phdr *ph = (const Elf32_Phdr *)getauxval(AT_PHDR);
    unsigned n = (unsigned)getauxval(AT_PHNUM);
    addr_t sd = 0;
    for (unsigned i = 0; i < n; i++)
        if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr > sd) sd = ph[i].p_vaddr;
    return sd;
}
static void show_brk(addr_t want) {
    addr_t r = (addr_t)sys_brk(want);
    out("brk(%s)=%s\n", A(want), A(r));
}
static void sc_brk_edges(void) {
    addr_t b0 = (addr_t)sys_brk(0);
    addr_t a = (b0 + PAGE - 1) & ~(PAGE - 1);
    set_base("A", a);
    show_brk(a - 1);
    show_brk(a + 0x2001);
    step(WR, a + 0x2000);
    show_brk(a - 0xb00);
    step(WR, a);
    step(WR, a + 0x1000);
    out("brk(0x1000)=%s\n", A((addr_t)sys_brk(0x1000))); /* below end_code */

    addr_t sd = start_data();
    struct rlimit saved, r;
    getrlimit(RLIMIT_DATA, &saved);
    r = saved;
    r.rlim_cur = a - sd + 0x10000;
    out("setrlimit(RLIMIT_DATA, A-start_data+0x10000)=%s\n", ret(setrlimit(RLIMIT_DATA, &r)));
    show_brk(a + 0x10001);
    show_brk(a + 0x10000);
    show_brk(a - 0xb00);
    setrlimit(RLIMIT_DATA, &saved);

    addr_t m = xmmap(a + 0x10000, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1);
    out("mmap(A+0x10000, fixed)=%s\n", A(m));
    show_brk(a + 0xf000);
    show_brk(a + 0xf001);
    out("munmap(A+0x10000)=%s\n", ret(munmap((void *)m, 4096)));
    out("brk(initial)=%s\n", (addr_t)sys_brk(b0) == b0 ? "initial" : "WRONG");
}

/* §8.18: mmap placement, merging, munmap splitting. */
static void sc_mmap_merge(void) {
    int rw = PROT_READ | PROT_WRITE, pa = MAP_PRIVATE | MAP_ANONYMOUS;
    addr_t p = xmmap(0, 8192, rw, pa, -1);
    out("mmap#1=0x%lx\n", (unsigned long)p);
    set_base("p", p);
    addr_t q = xmmap(0, 8192, rw, pa, -1);
    out("mmap#2=%s\n", A(q));
    out("mmap#3 (read-only)=%s\n", A(xmmap(0, 4096, PROT_READ, pa, -1)));
    step(WR, p);
    step(WR, p + 0x1000);
    set_base("q", q); /* = p+0x2000 under the 2.4 model */
    step(WR, q);
    step(WR, q + 0x1000);
    set_base("p", p);
    out("munmap(p+0x1000, 4096)=%s\n", ret(munmap((void *)(p + 0x1000), 4096)));
    step(WR, p + 0x1000);
    step(RD, p);
    set_base("q", q);
    step(RD, q);
    set_base("p", p);
    out("munmap(p+0x1001, 4096)=%s\n", ret(munmap((void *)(p + 0x1001), 4096)));
    out("munmap(0x50000000, 4096)=%s\n", ret(munmap((void *)0x50000000, 4096)));
    no_base();
    addr_t h = xmmap(0x12345, 4096, rw, pa, -1);
    out("mmap(0x12345, 4096)=%s\n", A(h));
    out("mmap(0x12345, 4096, MAP_FIXED)=%ld\n", (long)xmmap(0x12345, 4096, rw, pa | MAP_FIXED, -1));
    out("munmap(%s, 4096)=%s\n", A(h), ret(munmap((void *)h, 4096)));
}

/* §8.17: mprotect round trip. */
static void sc_mprotect_roundtrip(void) {
    addr_t p = xmmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    set_base("p", p);
    step(WR, p);
    out("mprotect(p, 4096, PROT_READ)=%s\n", ret(mprotect((void *)p, 4096, PROT_READ)));
    step(WR, p);
    step(RD, p);
    out("mprotect(p, 4096, PROT_READ|PROT_WRITE)=%s\n",
        ret(mprotect((void *)p, 4096, PROT_READ | PROT_WRITE)));
    step(WR, p);
    step(WR, p);
}

/* §8.14: a bad pointer passed to a syscall is -EFAULT, not a signal. */
static void sc_bad_syscall_pointer(void) {
    int fds[2];
    if (pipe(fds)) {
        out("pipe failed: %d\n", errno);
        return;
    }
    write(fds[1], "0123456789", 10);
    snap0();
    long r = read(fds[0], (void *)0x1000, 10);
    int e = errno;
    snap1();
    out("read(pipe, 0x1000, 10)=%ld errno=%d%s\n", r, r < 0 ? e : 0, delta());
    snap0();
    r = write(1, (void *)0xC0000000u, 10);
    e = errno;
    snap1();
    out("write(1, 0xc0000000, 10)=%ld errno=%d%s\n", r, r < 0 ? e : 0, delta());
    r = write(1, (void *)0x1000, 10);
    e = errno;
    out("write(1, 0x1000, 10)=%ld errno=%d\n", r, r < 0 ? e : 0);
    char buf[11] = {0};
    r = read(fds[0], buf, 10);
    out("read(pipe, buf, 10)=%ld \"%s\"\n", r, buf);
}

/* §8.13: kernel-mode stack growth has no ESP limit; user mode has. */
static void sc_kernel_stack_growth(void) {
    char here;
    addr_t t = ((addr_t)&here & ~(PAGE - 1)) - 0x40000; /* 256 KiB below this frame */
    set_base("t", t);
    int fds[2];
    if (pipe(fds)) {
        out("pipe failed: %d\n", errno);
        return;
    }
    char pattern[100];
    for (int i = 0; i < 100; i++) pattern[i] = (char)(i * 7 + 1);
    write(fds[1], pattern, 100);
    snap0();
    long r = read(fds[0], (void *)t, 100);
    snap1();
    out("read(pipe, t, 100)=%ld%s\n", r, delta());
    out("data %s\n", r == 100 && memcmp((void *)t, pattern, 100) == 0 ? "ok" : "WRONG");
    step(WR, t + 0x1000); /* inside the grown VMA, far below ESP */
    step(WR, t - 0x10000); /* below the VMA, far below ESP: MAPERR */
}

/* §8.6: growth up to RLIMIT_STACK; beyond it only an alternate stack helps. */
static void sc_rlimit_stack(void) {
    addr_t top = stack_top();
    set_base("top", top);
    use_altstack();
    catch_faults(SA_ONSTACK);
    set_stack_limit(0x100000);
    addr_t esp = top - 0x100000 + 4;
    snap0();
    int f = probe_push(esp);
    snap1();
    out("push with esp=%s -> %s%s\n", A(esp), f ? fault_str() : "ok", delta());
    esp = top - 0x100000;
    snap0();
    f = probe_push(esp);
    snap1();
    out("push with esp=%s -> %s on_altstack=%d%s\n", A(esp), f ? fault_str() : "ok", F.on_alt, delta());
    catch_faults(0);
    out("again without SA_ONSTACK: the frame cannot be written, expect death by SIGSEGV\n");
    probe_push(esp);
    out("still alive\n");
}

/* Addresses dereferenced on purpose (kept opaque to the compiler). */
static volatile addr_t bad_addr[2] = {0x20, 0x40};

/* §8.20: nested SIGSEGV in the handler; a blocked SIGSEGV is delivered anyway. */
static int level;
static void nested_hook(void) {
    level++;
    out("handler level %d: %s\n", level, fault_str());
    if (level == 1) *(volatile char *)bad_addr[0] = 1; /* fault again, SIGSEGV is blocked now */
}
static void sc_sigsegv_handler(void) {
    fault_hook = nested_hook;
    step(WR, 0x10);
    fault_hook = NULL;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGSEGV);
    out("sigprocmask(SIG_BLOCK, {SIGSEGV})=%s\n", ret(sigprocmask(SIG_BLOCK, &s, NULL)));
    step(RD, 0x30);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
}

/* §8.20 / §6.1: SIG_IGN does not ignore a fault. */
static void sc_sigsegv_ignored(void) {
    signal(SIGSEGV, SIG_IGN);
    out("signal(SIGSEGV, SIG_IGN); expect death by SIGSEGV\n");
    *(volatile int *)bad_addr[1] = 1;
    out("still alive\n");
}

/* §6.3, §8.6: the handler runs on the alternate stack, also after an overflow. */
static int depth;
__attribute__((noinline)) static void overflow(void) {
    volatile char buf[1024];
    buf[0] = 1;
    buf[sizeof buf - 1] = 1;
    if (++depth < 1000000) overflow();
    __asm__ volatile("" ::"r"(buf) : "memory");
}
static int alt_flags;
static void alt_hook(void) {
    stack_t cur;
    sigaltstack(NULL, &cur);
    alt_flags = cur.ss_flags;
}
static void sc_sigaltstack(void) {
    addr_t top = stack_top();
    use_altstack();
    catch_faults(SA_ONSTACK);
    fault_hook = alt_hook;
    step(WR, 0);
    out("in handler: on_altstack=%d ss_flags=%d\n", F.on_alt, alt_flags);
    stack_t cur;
    sigaltstack(NULL, &cur);
    out("after: ss_flags=%d\n", cur.ss_flags);
    set_base("top", top);
    set_stack_limit(0x40000);
    depth = 0;
    snap0();
    int f = probe_run_on_stack(overflow, top - 0x10000);
    snap1();
    out("recursion from esp=top-0x10000: depth %d -> %s on_altstack=%d ss_flags=%d\n", depth,
        f ? fault_str() : "returned?", F.on_alt, alt_flags);
    fault_hook = NULL;
}

/* §8.12: COW after fork (order of the spec's table: parent writes X first). */
static void sc_fork_cow(void) {
    addr_t p = xmmap(0, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    set_base("p", p);
    addr_t x = p, y = p + PAGE, z = p + 2 * PAGE;
    *(volatile char *)x = 1;           /* X: written, private page */
    (void)*(volatile char *)y;         /* Y: read, ZERO_PAGE */
    int sync[2];
    if (pipe(sync)) {
        out("pipe failed: %d\n", errno);
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        out("fork failed: %d\n", errno);
        return;
    }
    if (pid == 0) {
        char c;
        warm_up(); /* copy our own stack/data pages first (COW), outside the windows */
        read(sync[0], &c, 1);
        out("child: ");
        step(WR, x);
        out("child: ");
        step(WR, y);
        out("child: ");
        step(RD, z);
        _exit(0);
    }
    warm_up();
    out("parent: ");
    step(WR, x);
    write(sync[1], "g", 1);
    int status = 0;
    waitpid(pid, &status, 0);
    out("parent: child exit status 0x%x\n", status);
}

static int scratch_file(const char *dir, size_t size, char fill, char *path, size_t pathlen) {
    snprintf(path, pathlen, "%s/growsdown-scenarios-%d.tmp", dir, (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        out("open %s failed: %d\n", dir, errno);
        return -1;
    }
    char buf[256];
    memset(buf, fill, sizeof buf);
    for (size_t done = 0; done < size;) {
        size_t n = size - done < sizeof buf ? size - done : sizeof buf;
        write(fd, buf, n);
        done += n;
    }
    return fd;
}

/* §8.15: file mapping beyond EOF. */
static const char *scratch_dir = "/tmp";
static void sc_file_eof(void) {
    char path[256];
    int fd = scratch_file(scratch_dir, 100, 'A', path, sizeof path);
    if (fd < 0) return;
    addr_t q = xmmap(0, 8192, PROT_READ, MAP_PRIVATE, fd);
    set_base("q", q);
    step(RD, q);
    step(RD, q + 4096);
    int fds[2];
    pipe(fds);
    snap0();
    in_probe = 1;
    long r = -2;
    if (sigsetjmp(probe_jb, 1) == 0) {
        r = write(fds[1], (void *)(q + 4096), 1);
        in_probe = 0;
        snap1();
        out("write(pipe, q+0x1000, 1)=%ld errno=%d%s\n", r, r < 0 ? errno : 0, delta());
    } else {
        snap1();
        out("write(pipe, q+0x1000, 1) -> %s%s\n", fault_str(), delta());
    }
    close(fd);
    unlink(path);
}

/* §8.16: private file mapping, write first vs read then write. */
static void sc_file_cow(void) {
    char path[256];
    int fd = scratch_file(scratch_dir, 8192, 'B', path, sizeof path);
    if (fd < 0) return;
    addr_t q = xmmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd);
    set_base("q", q);
    step(WR, q);
    step(RD, q + 4096);
    step(WR, q + 4096);
    step(RD, q);
    close(fd);
    unlink(path);
}

static const struct {
    const char *name;
    void (*fn)(void);
    const char *what;
} scenarios[] = {
    {"zeropage-cow", sc_zeropage_cow, "§8.5 zero page, then COW on anonymous mmap"},
    {"write-text", sc_write_text, "§8.7 writes to the text segment"},
    {"null-read", sc_null_read, "§8.8 NULL read"},
    {"null-write", sc_null_write, "§8.8 NULL write"},
    {"kernel-addr", sc_kernel_addr, "§8.9 user access to kernel space"},
    {"prot-none", sc_prot_none, "§8.10 PROT_NONE"},
    {"write-only", sc_write_only, "§8.10 PROT_WRITE only"},
    {"brk-edges", sc_brk_edges, "§8.11 brk edge cases, relative to this binary's break"},
    {"mmap-merge", sc_mmap_merge, "§8.18 mmap placement and merging"},
    {"mprotect-roundtrip", sc_mprotect_roundtrip, "§8.17 mprotect round trip"},
    {"bad-syscall-pointer", sc_bad_syscall_pointer, "§8.14 bad pointer in a syscall"},
    {"kernel-stack-growth", sc_kernel_stack_growth, "§8.13 kernel-mode stack growth"},
    {"rlimit-stack", sc_rlimit_stack, "§8.6 stack growth beyond RLIMIT_STACK (dies at the end)"},
    {"sigsegv-handler", sc_sigsegv_handler, "§8.20 nested and blocked SIGSEGV"},
    {"sigsegv-ignored", sc_sigsegv_ignored, "§8.20 SIG_IGN does not ignore a fault (dies)"},
    {"sigaltstack", sc_sigaltstack, "§6.3 alternate signal stack, stack overflow"},
    {"fork-cow", sc_fork_cow, "§8.12 COW after fork"},
    {"file-eof", sc_file_eof, "§8.15 file mapping beyond EOF"},
    {"file-cow", sc_file_cow, "§8.16 private file mapping COW"},
};

int main(int argc, char **argv) {
    size_t n = sizeof scenarios / sizeof scenarios[0];
    if (argc < 2 || strcmp(argv[1], "list") == 0) {
        for (size_t i = 0; i < n; i++) out("%-20s %s\n", scenarios[i].name, scenarios[i].what);
        return argc < 2 ? 2 : 0;
    }
    if (argc > 2) scratch_dir = argv[2];
    for (size_t i = 0; i < n; i++) {
        if (strcmp(argv[1], scenarios[i].name) != 0) continue;
        catch_faults(0);
        warm_up();
        out("scenario %s\n", scenarios[i].name);
        scenarios[i].fn();
        out("end\n");
        return 0;
    }
    out("unknown scenario %s (try: scenarios list)\n", argv[1]);
    return 2;
}
