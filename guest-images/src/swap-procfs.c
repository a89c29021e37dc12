/* swap-procfs: the guest kernel's swap area as /proc/swaps, /proc/meminfo and
 * sysinfo show it, and slots given back by munmap. Run under growsdown with
 * --mem 16M --swap 64M (manifest's run-options column).
 *
 * 32 MiB of anonymous memory is written (half of it at least goes to swap), the
 * "Used" column of the growsdown swap area in /proc/swaps is read, the memory is
 * unmapped, and "Used" is read again: back to 0. The program's own pages (text,
 * data, stack) are locked first (mlockall), so that reclaim takes only the area's
 * pages (try_to_swap_out keeps a VM_LOCKED page) and every slot is the area's. sysinfo's totalswap and
 * /proc/meminfo's SwapTotal agree with /proc/swaps' Size.
 * Natively the host's swap areas are not growsdown's: the program says so
 * (expected/native/swap-procfs.out). */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>

#define PAGES (32 * 256)

/* Size and Used (KiB) of the growsdown swap area in /proc/swaps; 0 if none. */
static int ours(unsigned long *size, unsigned long *used) {
    FILE *f = fopen("/proc/swaps", "r");
    char line[512], name[256], type[32];
    int found = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%255s %31s %lu %lu", name, type, size, used) == 4 && strstr(name, "growsdown-swap"))
            found = 1;
    fclose(f);
    return found;
}

static unsigned long meminfo(const char *key) {
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    unsigned long v = 0;
    size_t n = strlen(key);
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ':') sscanf(line + n + 1, "%lu", &v);
    fclose(f);
    return v;
}

int main(void) {
    setvbuf(stdout, 0, _IONBF, 0);
    unsigned long size = 0, used = 0;
    if (!ours(&size, &used)) {
        printf("no growsdown swap area in /proc/swaps\n");
        return 0;
    }
    if (mlockall(MCL_CURRENT) != 0) {
        printf("mlockall failed\n");
        return 1;
    }
    struct sysinfo si;
    sysinfo(&si);
    printf("swap size %lu kB\n", size);
    printf("sysinfo totalswap == size: %s\n", (unsigned long long)si.totalswap * si.mem_unit == size * 1024ull ? "yes" : "no");
    printf("meminfo SwapTotal == size: %s\n", meminfo("SwapTotal") == size ? "yes" : "no");
    printf("used before: %lu kB\n", used);
    uint32_t *m = mmap(0, (size_t)PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return 1;
    for (uint32_t p = 0; p < PAGES; p++) m[(size_t)p * 1024] = p;
    uint32_t bad = 0;
    for (uint32_t p = 0; p < PAGES; p++) bad += m[(size_t)p * 1024] != p;
    ours(&size, &used);
    printf("used while mapped >= 16 MiB: %s\n", used >= 16384 ? "yes" : "no");
    printf("meminfo SwapFree == size - used: %s\n", meminfo("SwapFree") == size - used ? "yes" : "no");
    munmap(m, (size_t)PAGES * 4096);
    ours(&size, &used);
    printf("used after munmap: %lu kB\n", used);
    printf("mismatches %u\n", bad);
    return 0;
}
