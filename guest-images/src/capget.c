/* capget: capget(2) as today's Linux answers it — the version probe (an unknown
 * version gets v3 written back, 0 with NULL data, EINVAL with data), v1's single
 * block and v3's two, EINVAL for a negative pid, ESRCH for no such process, EFAULT
 * for a bad header; prints whether the sets read through v1 and v3 agree and equal
 * the process's own (pid 0 and getpid()), not the capability bits themselves. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct hdr {
    uint32_t version;
    int pid;
};
struct data {
    uint32_t effective, permitted, inheritable;
};

static long cg(struct hdr *h, struct data *d) {
    long r = syscall(SYS_capget, h, d);
    return r < 0 ? -errno : r;
}

int main(void) {
    struct hdr h = {0, 0};
    struct data d[2];
    long r = cg(&h, 0);
    printf("probe: %ld, version written %#x\n", r, h.version);
    h.version = 0;
    r = cg(&h, d);
    printf("unknown version with data: %ld, version %#x\n", r, h.version);
    struct data v3[2], v1[2], self[2];
    memset(v3, 0xaa, sizeof v3), memset(v1, 0xaa, sizeof v1), memset(self, 0xaa, sizeof self);
    h = (struct hdr){0x20080522, 0};
    printf("v3: %ld\n", cg(&h, v3));
    h = (struct hdr){0x19980330, 0};
    r = cg(&h, v1);
    printf("v1: %ld, second block untouched: %s, first equals v3's: %s\n", r,
           v1[1].effective == 0xaaaaaaaa ? "yes" : "no", memcmp(&v1[0], &v3[0], sizeof v1[0]) ? "no" : "yes");
    h = (struct hdr){0x20080522, getpid()};
    r = cg(&h, self);
    printf("v3 of getpid(): %ld, equals pid 0's: %s\n", r, memcmp(self, v3, sizeof v3) ? "no" : "yes");
    h = (struct hdr){0x20071026, 0};
    printf("v2: %ld\n", cg(&h, d));
    h = (struct hdr){0x20080522, -1};
    printf("pid -1: %ld\n", cg(&h, d));
    h = (struct hdr){0x20080522, 4194305};
    printf("no such pid: %ld\n", cg(&h, d));
    printf("bad header: %ld\n", cg((struct hdr *)16, d));
    h = (struct hdr){0x20080522, 0};
    printf("bad data: %ld\n", cg(&h, (struct data *)16));
    printf("permitted includes effective: %s\n", (v3[0].effective & ~v3[0].permitted) == 0 ? "yes" : "no");
    return 0;
}
