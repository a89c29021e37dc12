/* swap-shmem: shared memory goes to swap too. Run under growsdown with --mem 16M
 * --swap 64M (manifest's run-options column), natively without a limit: the output
 * is the program's own checksums and counts, the same either way.
 *
 * 1. A 24 MiB MAP_SHARED|MAP_ANONYMOUS mapping (a shmem object, 2.4's
 *    shmem_zero_setup) is filled by a forked child: more than guest memory, so
 *    reclaim unmaps its pages and shmem_writepage moves them to swap. After wait
 *    the parent reads every page (shmem_getpage brings each back from swap) and
 *    checks it, writes one word of every page and reads them all again; munmap.
 * 2. A 12 MiB SysV segment (shmget/shmat) likewise: a child attaches, fills it and
 *    detaches; while nothing is attached the segment keeps its pages (in memory or
 *    in swap); the parent attaches, checks every page, removes it (IPC_RMID) and
 *    detaches.
 * Expected: the checksums, "mismatches 0" four times, "child exit 0" twice, exit 0. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAP_PAGES (24 * 256)
#define SHM_PAGES (12 * 256)
#define WORDS 1024

static uint32_t val(uint32_t page, uint32_t word, uint32_t salt) {
    return (page * 2654435761u) ^ (word * 40503u) ^ salt;
}

static uint32_t fnv(uint32_t h, uint32_t v) {
    return (h ^ v) * 16777619u;
}

static void fill(uint32_t *m, uint32_t pages, uint32_t salt) {
    for (uint32_t p = 0; p < pages; p++)
        for (uint32_t w = 0; w < WORDS; w++) m[(size_t)p * WORDS + w] = val(p, w, salt);
}

/* Checksum of every 32nd word; mismatches of word 3 of every page against `salt`
 * (word 0 against `salt0`, which may differ after the parent's rewrite). */
static uint32_t check(const uint32_t *m, uint32_t pages, uint32_t salt, uint32_t salt0, uint32_t *bad) {
    uint32_t h = 2166136261u;
    *bad = 0;
    for (uint32_t p = 0; p < pages; p++) {
        for (uint32_t w = 0; w < WORDS; w += 32) h = fnv(h, m[(size_t)p * WORDS + w]);
        *bad += m[(size_t)p * WORDS + 3] != val(p, 3, salt);
        *bad += m[(size_t)p * WORDS] != val(p, 0, salt0);
    }
    return h;
}

static int child_status(pid_t pid) {
    int st = 0;
    pid_t got = waitpid(pid, &st, 0);
    printf("child pid == waited pid: %s\n", got == pid ? "yes" : "no");
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int shared_anonymous(void) {
    uint32_t *m = mmap(0, (size_t)MAP_PAGES * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        printf("mmap failed\n");
        return 1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        printf("fork failed\n");
        return 1;
    }
    if (pid == 0) {
        fill(m, MAP_PAGES, 0x5a5a);
        _exit(0);
    }
    printf("shared anonymous: child exit %d\n", child_status(pid));
    uint32_t bad;
    uint32_t sum = check(m, MAP_PAGES, 0x5a5a, 0x5a5a, &bad);
    printf("shared anonymous: parent checksum %08x, mismatches %u\n", sum, bad);
    for (uint32_t p = 0; p < MAP_PAGES; p++) m[(size_t)p * WORDS] = val(p, 0, 0xbeef);
    sum = check(m, MAP_PAGES, 0x5a5a, 0xbeef, &bad);
    printf("shared anonymous: after rewrite checksum %08x, mismatches %u\n", sum, bad);
    printf("munmap: %d\n", munmap(m, (size_t)MAP_PAGES * 4096));
    return 0;
}

static int sysv_segment(void) {
    size_t size = (size_t)SHM_PAGES * 4096;
    int id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
    if (id < 0) {
        printf("shmget failed\n");
        return 1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        printf("fork failed\n");
        return 1;
    }
    if (pid == 0) {
        uint32_t *c = shmat(id, 0, 0);
        if (c == (void *)-1) _exit(2);
        fill(c, SHM_PAGES, 0x7e57);
        _exit(shmdt(c) != 0);
    }
    printf("sysv segment: child exit %d\n", child_status(pid));
    struct shmid_ds ds;
    if (shmctl(id, IPC_STAT, &ds) != 0) {
        printf("IPC_STAT failed\n");
        return 1;
    }
    printf("sysv segment: size %zu MiB, attached %lu\n", (size_t)ds.shm_segsz >> 20, (unsigned long)ds.shm_nattch);
    uint32_t *s = shmat(id, 0, SHM_RDONLY);
    if (s == (void *)-1) {
        printf("shmat failed\n");
        return 1;
    }
    uint32_t bad;
    uint32_t sum = check(s, SHM_PAGES, 0x7e57, 0x7e57, &bad);
    printf("sysv segment: parent checksum %08x, mismatches %u\n", sum, bad);
    /* A second pass: the pages the first pass pushed out come back again. */
    sum = check(s, SHM_PAGES, 0x7e57, 0x7e57, &bad);
    printf("sysv segment: second pass checksum %08x, mismatches %u\n", sum, bad);
    printf("IPC_RMID: %d\n", shmctl(id, IPC_RMID, 0));
    printf("shmdt: %d\n", shmdt(s));
    return 0;
}

int main(void) {
    setvbuf(stdout, 0, _IONBF, 0);
    if (shared_anonymous() != 0) return 1;
    if (sysv_segment() != 0) return 1;
    return 0;
}
