/* swap-on: a guest that makes its own swap file (emulator only: NEVER run natively,
 * as root it would change the host's swap). Run by tests/swapon.rs under
 * `growsdown run --mem 16M`: creates a file, writes mkswap's version-1 header
 * itself, swapon's it, fills 32 MiB (twice --mem) so pages go to it, swapoff's it
 * (try_to_unuse reads every page back) and checks the data; and the errno of each
 * bad call, in the order today's kernel checks them (mm/swapfile.c:
 * SYSCALL_DEFINE2(swapon): flags, capable(CAP_SYS_ADMIN), the path lookup,
 * claim_swapfile's EBUSY, read_swap_header's EINVAL; SYSCALL_DEFINE1(swapoff):
 * capable, the lookup, EINVAL for a file that is no swap area). */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/swap.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096
#define AREA_PAGES 8192            /* a 32 MiB swap file */
#define WORK (32u << 20)           /* twice --mem 16M */
#define KEEP (8u << 20)            /* what fits in --mem 16M again */

static const char *err(int r) {
    if (r == 0) return "ok";
    switch (errno) {
    case EINVAL: return "EINVAL";
    case EPERM: return "EPERM";
    case EBUSY: return "EBUSY";
    case ENOENT: return "ENOENT";
    case ENOMEM: return "ENOMEM";
    default: return strerror(errno);
    }
}

/* Writes the swap file: page 0 is mkswap's header (version 1, last_page, the
 * "SWAPSPACE2" signature in the page's last 10 bytes) unless sig is 0. */
static void make_area(const char *path, int sig) {
    FILE *f = fopen(path, "w");
    static unsigned char page[PAGE];
    memset(page, 0, sizeof page);
    uint32_t version = 1, last_page = AREA_PAGES - 1;
    memcpy(page + 1024, &version, 4);
    memcpy(page + 1028, &last_page, 4);
    if (sig) memcpy(page + PAGE - 10, "SWAPSPACE2", 10);
    fwrite(page, 1, PAGE, f);
    memset(page, 0, sizeof page);
    for (int i = 1; i < AREA_PAGES; i++) fwrite(page, 1, PAGE, f);
    fclose(f);
}

/* The "Used" column of /proc/swaps' line for path, or -1 if it is not listed. */
static long swaps_used(const char *path) {
    FILE *f = fopen("/proc/swaps", "r");
    char line[512], name[256], type[32];
    long size, used = -1, u;
    int prio;
    if (!f) return -2;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%255s %31s %ld %ld %d", name, type, &size, &u, &prio) == 5 && strcmp(name, path) == 0)
            used = u;
    fclose(f);
    return used;
}

/* Writes (or only reads) one word per KiB of the first len bytes; their checksum. */
static uint32_t fill(uint32_t *p, int write, uint32_t len) {
    uint32_t sum = 0;
    for (uint32_t i = 0; i < len / 4; i += 256) {
        if (write) p[i] = i * 2654435761u ^ 0x5a5a;
        sum = sum * 31 + p[i];
    }
    return sum;
}

int main(int argc, char **argv) {
    setvbuf(stdout, 0, _IONBF, 0);
    if (geteuid() != 0) {
        printf("not root: swapon %s\n", err(swapon("/", 0)));
        return 0;
    }
    /* Fixed names in DIR (argv[1], default /tmp), not mkstemp's: its random letters
     * would change how many instructions the string functions below run, and with
     * them where kswapd's slice-end runs fall (tests/trace.rs compares two traced
     * runs record for record). Callers that may run it concurrently give each run
     * a directory of its own. */
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    char path[4096], other[4096];
    snprintf(path, sizeof path, "%s/growsdown-swap-on-a", dir);
    snprintf(other, sizeof other, "%s/growsdown-swap-on-b", dir);
    close(open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600));
    close(open(other, O_CREAT | O_TRUNC | O_WRONLY, 0600));
    printf("bad flags: %s\n", err(swapon(path, 0x80000)));
    printf("missing file: %s\n", err(swapon("/nonexistent-growsdown/swap", 0)));
    make_area(path, 0);
    printf("no signature: %s\n", err(swapon(path, 0)));
    make_area(path, 1);
    printf("swapon: %s\n", err(swapon(path, SWAP_FLAG_PREFER | 5)));
    printf("swapon again: %s\n", err(swapon(path, 0)));
    pid_t c = fork();
    if (c == 0) {
        setuid(65534);
        printf("child not root: swapon %s, ", err(swapon(path, 0)));
        printf("swapoff %s\n", err(swapoff(path)));
        _exit(0);
    }
    int st;
    printf("child waited: %s\n", waitpid(c, &st, 0) == c && WIFEXITED(st) ? "yes" : "no");
    printf("swapoff of a file that is no swap area: %s\n", err(swapoff(other)));
    printf("/proc/swaps lists it: %s, used 0: %s\n", swaps_used(path) >= 0 ? "yes" : "no",
           swaps_used(path) == 0 ? "yes" : "no");
    struct sysinfo si;
    sysinfo(&si);
    printf("sysinfo totalswap is the area: %s\n",
           (unsigned long long)si.totalswap * si.mem_unit == (unsigned long long)(AREA_PAGES - 1) * PAGE ? "yes" : "no");
    uint32_t *p = mmap(0, WORK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint32_t sum = fill(p, 1, WORK);
    uint32_t head = fill(p, 0, KEEP);
    printf("pages went to it: %s\n", swaps_used(path) > 0 ? "yes" : "no");
    /* 2.4's try_to_unuse cannot bring 32 MiB back into 16: ENOMEM, the area stays. */
    printf("swapoff with 32 MiB mapped: %s\n", err(swapoff(path)));
    printf("/proc/swaps lists it: %s\n", swaps_used(path) >= 0 ? "yes" : "no");
    printf("all data intact: %s\n", fill(p, 0, WORK) == sum ? "yes" : "no");
    munmap((char *)p + KEEP, WORK - KEEP);
    printf("swapoff with 8 MiB mapped: %s\n", err(swapoff(path)));
    printf("/proc/swaps lists it: %s\n", swaps_used(path) >= 0 ? "yes" : "no");
    printf("swapoff again: %s\n", err(swapoff(path)));
    printf("8 MiB intact: %s\n", fill(p, 0, KEEP) == head ? "yes" : "no");
    unlink(path);
    unlink(other);
    return 0;
}
