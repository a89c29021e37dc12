/* Tiny freestanding runtime for growsdown's libc-free guest images.
 * i386 Linux system calls through int $0x80, decimal/hex printing with write(2),
 * a SIGSEGV/SIGBUS handler that can resume after a probe, getrusage deltas.
 * Nothing here touches memory below the caller's stack frame except ordinary calls. */
#ifndef GROWSDOWN_RT_H
#define GROWSDOWN_RT_H

typedef unsigned int u32;
typedef int s32;

#define SYS_exit 1
#define SYS_read 3
#define SYS_write 4
#define SYS_brk 45
#define SYS_getrusage 77
#define SYS_setrlimit 75
#define SYS_munmap 91
#define SYS_rt_sigaction 174
#define SYS_ugetrlimit 191
#define SYS_mmap2 192

#define SIGBUS 7
#define SIGSEGV 11
#define SA_SIGINFO 4
#define SA_RESTORER 0x04000000
#define SA_ONSTACK 0x08000000

#define PROT_READ 1
#define PROT_WRITE 2
#define MAP_PRIVATE 2
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define RLIMIT_DATA 2

static inline s32 sys1(u32 n, u32 a) {
    s32 r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a) : "memory");
    return r;
}
static inline s32 sys2(u32 n, u32 a, u32 b) {
    s32 r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b) : "memory");
    return r;
}
static inline s32 sys3(u32 n, u32 a, u32 b, u32 c) {
    s32 r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b), "d"(c) : "memory");
    return r;
}
static inline s32 sys4(u32 n, u32 a, u32 b, u32 c, u32 d) {
    s32 r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b), "d"(c), "S"(d) : "memory");
    return r;
}
/* mmap2 needs six arguments; EBP is the sixth (pgoff, always 0 here). */
s32 rt_mmap(u32 addr, u32 len, u32 prot, u32 flags);

/* struct rusage as the i386 kernel writes it: minflt at 32, majflt at 36. */
struct rt_rusage { u32 w[18]; };
#define RU_MINFLT(r) ((r)->w[8])
#define RU_MAJFLT(r) ((r)->w[9])

void rt_exit(int status) __attribute__((noreturn));
void rt_puts(const char *s);            /* no newline added */
void rt_putdec(s32 v);
void rt_putudec(u32 v);
void rt_puthex(u32 v);                  /* 0x%x */
void rt_putrel(const char *base, u32 base_addr, u32 addr); /* base+N / base-N, decimal */
void rt_getrusage(struct rt_rusage *r);
/* " minflt+=A majflt+=B" from two snapshots. */
void rt_putdelta(const struct rt_rusage *a, const struct rt_rusage *b);
void *memset(void *d, int c, unsigned n);
void *memcpy(void *d, const void *s, unsigned n);

/* Fault capture. rt_catch_faults installs an SA_SIGINFO handler for SIGSEGV and
 * SIGBUS. During rt_probe_read/rt_probe_write a fault is recorded and the probe
 * returns 1 (the handler moves EIP to the probe's recovery point); outside a probe
 * the handler prints the fault with rt_print_fault and exits with status 0. */
struct rt_fault { u32 sig, code, addr, trapno, err, cr2; };
extern volatile struct rt_fault rt_last_fault;
extern const char *rt_fault_base_name;   /* for printing addresses relative ... */
extern u32 rt_fault_base;                /* ... to this base, if the name is set */
extern const char *rt_prog;              /* prefix for the exit-on-fault message */
void rt_catch_faults(u32 extra_flags);
void rt_fault_handler(int sig, void *info, void *uc);
void rt_print_fault(void);               /* "SIGSEGV si_code=.. si_addr=.. trapno=.. err=.. cr2=.." */
int rt_probe_read(u32 addr);             /* 0: ok, 1: faulted */
int rt_probe_write(u32 addr);

#endif
