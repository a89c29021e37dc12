/* getdents: getdents64 into a buffer that is not all writable loses no entry — a
 * fully bad buffer is EFAULT and the directory position stays; a buffer whose end
 * runs into an unmapped page returns the entries before it and the next call goes
 * on from there. Lists a directory of 60 files made in a temporary directory and
 * prints the sorted names and the counts. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct d64 {
    unsigned long long ino;
    long long off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

static char *names[200];
static int nnames;

static void take(char *buf, long n) {
    for (long o = 0; o < n;) {
        struct d64 *d = (struct d64 *)(buf + o);
        if (nnames < 200)
            names[nnames++] = strdup(d->name);
        o += d->reclen;
    }
}

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void) {
    char tmpl[] = "/tmp/growsdown-getdents-XXXXXX";
    if (!mkdtemp(tmpl))
        return 1;
    char path[128];
    for (int i = 0; i < 60; i++) {
        snprintf(path, sizeof path, "%s/file-with-a-longish-name-%02d", tmpl, i);
        close(open(path, O_CREAT | O_WRONLY, 0644));
    }
    int fd = open(tmpl, O_RDONLY | O_DIRECTORY);
    long r = syscall(SYS_getdents64, fd, (void *)16, 4096);
    printf("bad buffer: %ld errno %s\n", r, r < 0 ? strerrorname_np(errno) : "-");
    char *two = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(two + 4096, 4096);
    char *edge = two + 4096 - 600;
    int calls = 0;
    for (;;) {
        r = syscall(SYS_getdents64, fd, edge, 4096);
        calls++;
        if (r <= 0)
            break;
        take(edge, r);
    }
    printf("edge buffer: last %ld, %d calls\n", r, calls);
    qsort(names, nnames, sizeof *names, cmp);
    printf("%d names:", nnames);
    for (int i = 0; i < nnames; i++)
        printf(" %s", strncmp(names[i], "file-with", 9) ? names[i] : names[i] + 25);
    printf("\n");
    for (int i = 0; i < 60; i++) {
        snprintf(path, sizeof path, "%s/file-with-a-longish-name-%02d", tmpl, i);
        unlink(path);
    }
    rmdir(tmpl);
    return 0;
}
