/* sysregs: the system-register stores a user program may run — SGDT, SIDT (32- and
 * 16-bit operand size), SLDT and STR (register and memory, before and after the
 * process gets an LDT), SMSW (16- and 32-bit register, memory). Prints what they
 * store. Natively, on a CPU with UMIP, these are Linux's emulated values. */
#define _GNU_SOURCE
#include <asm/ldt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void tables(void) {
    unsigned char g[6], i[6], g16[6], i16[6];
    memset(g, 0xaa, 6), memset(i, 0xaa, 6), memset(g16, 0xaa, 6), memset(i16, 0xaa, 6);
    __asm__ volatile("sgdtl %0" : "=m"(g));
    __asm__ volatile("sidtl %0" : "=m"(i));
    __asm__ volatile("data16 sgdt %0" : "=m"(g16));
    __asm__ volatile("data16 sidt %0" : "=m"(i16));
    printf("sgdt limit %04x base %08x; 16-bit: limit %04x base %08x\n", *(uint16_t *)g, *(uint32_t *)(g + 2),
           *(uint16_t *)g16, *(uint32_t *)(g16 + 2));
    printf("sidt limit %04x base %08x; 16-bit: limit %04x base %08x\n", *(uint16_t *)i, *(uint32_t *)(i + 2),
           *(uint16_t *)i16, *(uint32_t *)(i16 + 2));
}

static void selectors(const char *when) {
    uint32_t ldt32 = 0xdeadbeef, tr32 = 0xdeadbeef;
    uint16_t ldt16 = 0xbeef, tr16 = 0xbeef, ldtm = 0xbeef, trm = 0xbeef;
    __asm__ volatile("sldt %0" : "+r"(ldt32));
    __asm__ volatile("str %0" : "+r"(tr32));
    __asm__ volatile("sldt %0" : "+r"(ldt16));
    __asm__ volatile("str %0" : "+r"(tr16));
    __asm__ volatile("sldt %0" : "=m"(ldtm));
    __asm__ volatile("str %0" : "=m"(trm));
    printf("%s: sldt r32 %08x r16 %04x m16 %04x; str r32 %08x r16 %04x m16 %04x\n", when, ldt32, ldt16, ldtm, tr32,
           tr16, trm);
}

int main(void) {
    tables();
    selectors("no LDT");
    struct user_desc d;
    memset(&d, 0, sizeof d);
    d.entry_number = 0;
    d.base_addr = 0x1000;
    d.limit = 0xff;
    d.seg_32bit = 1;
    printf("modify_ldt: %ld\n", syscall(SYS_modify_ldt, 0x11, &d, sizeof d));
    selectors("with an LDT");
    uint32_t m32 = 0xdeadbeef;
    uint16_t m16 = 0xbeef, mm = 0xbeef;
    __asm__ volatile("smsw %0" : "+r"(m32));
    __asm__ volatile("smsw %0" : "+r"(m16));
    __asm__ volatile("smsw %0" : "=m"(mm));
    printf("smsw r32 %08x r16 %04x m16 %04x\n", m32, m16, mm);
    return 0;
}
