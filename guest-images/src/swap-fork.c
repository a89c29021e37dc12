/* swap-fork: swapped pages across fork, a file page dropped and read again, and
 * swap slots given back. Run under growsdown with --mem 16M --swap 64M (manifest's
 * run-options column), natively without a limit: the output is the program's own
 * checksums and counts, the same either way.
 *
 * 1. The parent fills 24 MiB of anonymous memory (more than guest memory: most of
 *    it goes to swap) and maps an 8 MiB file it wrote, read-only and private.
 * 2. It forks. The child reads every page (a swapped page shared by both is read
 *    from swap once, into the swap cache, and mapped by both), then writes one
 *    word in every 8th page (do_swap_page maps a shared page read-only; the write
 *    copies it: COW after fork on swapped pages) and checks the file pages, which
 *    reclaim dropped from the page cache under pressure and do_no_page reads again.
 * 3. The parent waits and checks that its own pages still hold what it wrote.
 * 4. munmap of everything; a second child does the same with a smaller area and
 *    exits without unmapping (exit releases its slots).
 * Expected: the checksums, "parent data intact: yes", "child exit 0", exit 0. */
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define ANON_PAGES (24 * 256)
#define FILE_PAGES (8 * 256)
#define WORDS 1024

static uint32_t val(uint32_t page, uint32_t word, uint32_t salt) {
    return (page * 2654435761u) ^ (word * 40503u) ^ salt;
}

static uint32_t fnv(uint32_t h, uint32_t v) {
    return (h ^ v) * 16777619u;
}

static uint32_t sum_pages(const uint32_t *m, uint32_t pages) {
    uint32_t h = 2166136261u;
    for (uint32_t p = 0; p < pages; p++)
        for (uint32_t w = 0; w < WORDS; w += 64) h = fnv(h, m[(size_t)p * WORDS + w]);
    return h;
}

static int run_child(uint32_t *anon, const uint32_t *file) {
    uint32_t before = sum_pages(anon, ANON_PAGES);
    uint32_t fsum = sum_pages(file, FILE_PAGES);
    uint32_t bad = 0;
    for (uint32_t p = 0; p < ANON_PAGES; p += 8) anon[(size_t)p * WORDS] ^= 0xffffffffu;
    for (uint32_t p = 0; p < ANON_PAGES; p++)
        bad += anon[(size_t)p * WORDS + 1] != val(p, 1, 0x1234);
    for (uint32_t p = 0; p < FILE_PAGES; p++)
        bad += file[(size_t)p * WORDS + 5] != val(p, 5, 0xf11e);
    printf("child: anon checksum before writes %08x\n", before);
    printf("child: file checksum %08x\n", fsum);
    printf("child: anon checksum after writes %08x\n", sum_pages(anon, ANON_PAGES));
    printf("child: mismatches %u\n", bad);
    return bad != 0;
}

int main(void) {
    setvbuf(stdout, 0, _IONBF, 0);
    char path[] = "/tmp/swap-fork-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        printf("mkstemp failed\n");
        return 1;
    }
    unlink(path);
    static uint32_t buf[WORDS];
    for (uint32_t p = 0; p < FILE_PAGES; p++) {
        for (uint32_t w = 0; w < WORDS; w++) buf[w] = val(p, w, 0xf11e);
        if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) {
            printf("write failed\n");
            return 1;
        }
    }
    uint32_t *file = mmap(0, (size_t)FILE_PAGES * 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    uint32_t *anon = mmap(0, (size_t)ANON_PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (file == MAP_FAILED || anon == MAP_FAILED) {
        printf("mmap failed\n");
        return 1;
    }
    printf("file checksum %08x\n", sum_pages(file, FILE_PAGES));
    for (uint32_t p = 0; p < ANON_PAGES; p++)
        for (uint32_t w = 0; w < WORDS; w++) anon[(size_t)p * WORDS + w] = val(p, w, 0x1234);
    uint32_t mine = sum_pages(anon, ANON_PAGES);
    printf("parent: anon checksum %08x\n", mine);

    pid_t pid = fork();
    if (pid == 0) _exit(run_child(anon, file));
    int st = 0;
    pid_t w = waitpid(pid, &st, 0);
    printf("child pid == waited pid: %s\n", w == pid ? "yes" : "no");
    printf("child exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    printf("parent data intact: %s\n", sum_pages(anon, ANON_PAGES) == mine ? "yes" : "no");
    printf("file checksum again %08x\n", sum_pages(file, FILE_PAGES));
    munmap(anon, (size_t)ANON_PAGES * 4096);
    munmap(file, (size_t)FILE_PAGES * 4096);
    close(fd);

    /* A child that swaps and exits with its memory still mapped. */
    pid = fork();
    if (pid == 0) {
        uint32_t *m = mmap(0, (size_t)ANON_PAGES * 4096, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) _exit(2);
        for (uint32_t p = 0; p < ANON_PAGES; p++) m[(size_t)p * WORDS] = p;
        uint32_t bad = 0;
        for (uint32_t p = 0; p < ANON_PAGES; p++) bad += m[(size_t)p * WORDS] != p;
        _exit(bad != 0);
    }
    w = waitpid(pid, &st, 0);
    printf("second child exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    return 0;
}
