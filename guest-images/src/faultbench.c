/* faultbench [PAGES]: a page-fault-heavy program for benchmarks.
 *
 * Touches PAGES (default 100000) fresh anonymous pages, each first read (a fault
 * that maps the zero page) then written (a write-protect fault that copies it: 2.4's
 * do_anonymous_page then do_wp_page), so every page costs two minor faults and
 * almost no other work. The pages come 256 at a time (1 MiB: below a 2 MiB huge
 * page, so the host cannot use a transparent huge page) from mmap, each chunk
 * unmapped before the next, so the resident set stays small. Prints the number of
 * minor faults the loop took, from getrusage. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>

#define CHUNK 256
#define PAGE 4096

int main(int argc, char **argv) {
    long pages = argc > 1 ? atol(argv[1]) : 100000;
    struct rusage before, after;
    unsigned sum = 0;
    getrusage(RUSAGE_SELF, &before);
    for (long done = 0; done < pages; done += CHUNK) {
        long n = pages - done < CHUNK ? pages - done : CHUNK;
        volatile unsigned char *p =
            mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            perror("mmap");
            return 1;
        }
        for (long i = 0; i < n; i++) {
            sum += p[i * PAGE];
            p[i * PAGE] = (unsigned char)i;
        }
        munmap((void *)p, n * PAGE);
    }
    getrusage(RUSAGE_SELF, &after);
    printf("faultbench: %ld pages, minflt+=%ld, sum %u\n", pages, after.ru_minflt - before.ru_minflt, sum);
    return 0;
}
