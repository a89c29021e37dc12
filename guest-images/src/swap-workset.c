/* swap-workset: a working set four times guest memory. Run under growsdown with
 * --mem 16M --swap 128M (manifest's run-options column), natively without a limit:
 * the output is the program's own checksums, the same either way.
 *
 * 64 MiB of anonymous memory is filled page by page, then read back in order,
 * then rewritten in a scattered order (an LCG), then read again; a "hot" page is
 * touched between every step, so 2.4's reclaim keeps finding its Accessed bit set
 * and leaves it resident (growsdown trace shows try_to_swap_out keep it young)
 * while the pages touched once go to swap.
 * Expected: every pass's checksum, "mismatches 0", exit 0. */
#include <stdio.h>
#include <stdint.h>
#include <sys/mman.h>

#define PAGES (64 * 256) /* 64 MiB of 4 KiB pages */
#define WORDS 1024

static uint32_t fill(uint32_t page, uint32_t word, uint32_t gen) {
    return (page * 2654435761u) ^ (word * 40503u) ^ (gen * 0x9e3779b9u);
}

int main(void) {
    setvbuf(stdout, 0, _IONBF, 0);
    uint32_t *mem = mmap(0, (size_t)PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        printf("mmap failed\n");
        return 1;
    }
    static volatile uint32_t hot[WORDS];
    uint32_t hotsum = 0;

    /* Pass 1: fill. */
    for (uint32_t p = 0; p < PAGES; p++) {
        uint32_t *pg = mem + (size_t)p * WORDS;
        for (uint32_t w = 0; w < WORDS; w += 16) pg[w] = fill(p, w, 1);
        hot[p % WORDS] += p;
    }
    /* Pass 2: read back in order. */
    uint32_t sum = 0, bad = 0;
    for (uint32_t p = 0; p < PAGES; p++) {
        uint32_t *pg = mem + (size_t)p * WORDS;
        for (uint32_t w = 0; w < WORDS; w += 16) {
            sum = (sum ^ pg[w]) * 16777619u;
            bad += pg[w] != fill(p, w, 1);
        }
        hotsum = (hotsum ^ hot[(p * 7) % WORDS]) * 16777619u;
    }
    printf("pass 2 checksum %08x\n", sum);
    /* Pass 3: rewrite a scattered half of the pages. */
    uint32_t x = 12345;
    for (uint32_t i = 0; i < PAGES / 2; i++) {
        x = x * 1103515245u + 12345u;
        uint32_t p = (x >> 8) % PAGES;
        uint32_t *pg = mem + (size_t)p * WORDS;
        for (uint32_t w = 0; w < WORDS; w += 16) pg[w] = fill(p, w, 1) + 1;
        hot[i % WORDS] ^= i;
    }
    /* Pass 4: read all again, backwards, and check what pass 3 left. */
    sum = 0;
    x = 12345;
    static unsigned char touched[PAGES];
    for (uint32_t i = 0; i < PAGES / 2; i++) {
        x = x * 1103515245u + 12345u;
        touched[(x >> 8) % PAGES] = 1;
    }
    for (uint32_t p = PAGES; p-- > 0;) {
        uint32_t *pg = mem + (size_t)p * WORDS;
        for (uint32_t w = 0; w < WORDS; w += 16) {
            sum = (sum ^ pg[w]) * 16777619u;
            bad += pg[w] != fill(p, w, 1) + touched[p];
        }
        hotsum = (hotsum ^ hot[p % WORDS]) * 16777619u;
    }
    printf("pass 4 checksum %08x\n", sum);
    printf("hot page checksum %08x\n", hotsum);
    printf("mismatches %u\n", bad);
    munmap(mem, (size_t)PAGES * 4096);
    return 0;
}
