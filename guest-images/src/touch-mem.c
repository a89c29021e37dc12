/* touch-mem [MIB]: makes MIB (default 100) mebibytes of anonymous memory resident
 * and keeps them so: one mmap, a write to every page, then a read of every page
 * (a checksum), so the peak resident set of the process is MIB plus its image.
 * crates/cli/tests/peak_rss.rs runs it under --mem 128M and /usr/bin/time -v to
 * bound growsdown's own peak RSS (docs/architecture.md). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define PAGE 4096

int main(int argc, char **argv) {
    long mib = argc > 1 ? atol(argv[1]) : 100;
    size_t len = (size_t)mib << 20;
    unsigned char *p = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (size_t i = 0; i < len; i += PAGE) p[i] = (unsigned char)(i / PAGE * 7 + 1);
    unsigned long sum = 0;
    for (size_t i = 0; i < len; i += PAGE) sum += p[i];
    printf("touched %ld MiB, %lu pages, checksum %lu\n", mib, (unsigned long)(len / PAGE), sum);
    return 0;
}
