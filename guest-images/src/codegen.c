/* codegen [N]: writes N distinct two-byte functions (`inc %eax; ret`) into one
 * read-write-execute anonymous mapping, then calls each once, threading a counter
 * through EAX, and prints the count. Every function is a decoded block of its own
 * under growsdown: a million of them would hold about 200 MiB of micro-ops on the
 * host without the decoded-block limit (docs/architecture.md, "Host memory");
 * crates/cli/tests/peak_rss.rs checks that the peak RSS stays within the bound. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

/* The generated functions take and return the counter in EAX. */
typedef unsigned __attribute__((regparm(1))) (*fn)(unsigned);

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    unsigned char *code = mmap(0, (size_t)n * 2, PROT_READ | PROT_WRITE | PROT_EXEC,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (long i = 0; i < n; i++) {
        code[2 * i] = 0x40;     /* inc %eax */
        code[2 * i + 1] = 0xc3; /* ret */
    }
    unsigned count = 0;
    for (long i = 0; i < n; i++) {
        count = ((fn)(void *)(code + 2 * i))(count);
    }
    printf("called %ld functions, count %u\n", n, count);
    return 0;
}
