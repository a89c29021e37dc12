/* One program, three links (guest-images/build.sh): `dynamic` (dynamically linked,
 * not PIE: PT_INTERP /lib/ld-linux.so.2), `dynamic-pie` (gcc -pie) and `static-pie`
 * (gcc -static-pie, ET_DYN without PT_INTERP). It checks what exec hands over (issue
 * 14): AT_BASE (the interpreter's load address, 0 without one), AT_ENTRY (the
 * program's own entry, not ld.so's), AT_PHDR (the program's headers, wherever the
 * program was placed), and then uses libc (stdio, qsort, strtod, getenv) through
 * whatever the dynamic linker resolved. Only relations are printed: the addresses
 * themselves differ between a native run and growsdown. */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

extern char _start[];

static int first_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    *(struct dl_phdr_info *)data = *info;
    return 1; /* stop after the main program */
}

static int cmp(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, 0, _IONBF, 0);
    unsigned long base = getauxval(AT_BASE), entry = getauxval(AT_ENTRY);
    unsigned long phdr = getauxval(AT_PHDR), phnum = getauxval(AT_PHNUM);
    printf("argc=%d argv[1]=%s\n", argc, argc > 1 ? argv[1] : "(none)");
    printf("interpreter loaded (AT_BASE != 0): %s\n", base ? "yes" : "no");
    printf("AT_BASE page-aligned: %s\n", base % 4096 == 0 ? "yes" : "no");
    printf("AT_ENTRY == &_start: %s\n", entry == (unsigned long)_start ? "yes" : "no");
    printf("AT_PHENT == 32: %s\n", getauxval(AT_PHENT) == 32 ? "yes" : "no");

    struct dl_phdr_info me;
    memset(&me, 0, sizeof me);
    dl_iterate_phdr(first_object, &me);
    printf("main program's phdr == AT_PHDR: %s\n", (unsigned long)me.dlpi_phdr == phdr ? "yes" : "no");
    printf("main program's phnum == AT_PHNUM: %s\n", me.dlpi_phnum == phnum ? "yes" : "no");

    /* The load bias: where the first PT_LOAD's page went, minus where it was linked. */
    const Elf32_Phdr *ph = (const Elf32_Phdr *)phdr;
    unsigned long first = ~0ul, bias = ~0ul;
    for (unsigned long i = 0; i < phnum; i++) {
        if (ph[i].p_type == PT_PHDR)
            bias = phdr - ph[i].p_vaddr;
        if (ph[i].p_type == PT_LOAD && first == ~0ul)
            first = ph[i].p_vaddr;
    }
    printf("linked at 0 (ET_DYN): %s\n", first == 0 ? "yes" : "no");
    printf("moved by a page-aligned bias: %s\n", bias != 0 && bias % 4096 == 0 ? "yes" : "no");
    printf("dlpi_addr == the bias: %s\n", (unsigned long)me.dlpi_addr == bias ? "yes" : "no");
    printf("main lies above the load bias: %s\n",
           (unsigned long)main >= (unsigned long)me.dlpi_addr ? "yes" : "no");

    int v[] = {5, 3, 9, 1, 7};
    qsort(v, 5, sizeof v[0], cmp);
    printf("qsort: %d %d %d %d %d\n", v[0], v[1], v[2], v[3], v[4]);
    printf("strtod: %.4f\n", strtod("2.71828", 0));
    const char *e = getenv("DYN_TEST");
    printf("DYN_TEST=%s\n", e ? e : "(unset)");
    return 3;
}
