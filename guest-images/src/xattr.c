/* xattr: setxattr, getxattr, listxattr, removexattr and their l and f forms as
 * today's Linux answers them: values set and read back, a name list, XATTR_CREATE
 * and XATTR_REPLACE, a short buffer (ERANGE), size 0 (the length only), and the
 * errors in the order the kernel checks them: the flags (EINVAL), the name (EFAULT,
 * ERANGE for "" and for 256 bytes), the value (E2BIG, EFAULT), then the path
 * (ENOENT) or the fd (EBADF). A user attribute on a symlink itself is EPERM. Works
 * in a fresh folder under /tmp; prints no path. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long sc(long n, long a, long b, long c, long d, long e) {
    long r = syscall(n, a, b, c, d, e);
    return r < 0 ? -errno : r;
}

#define BAD 16L /* an unmapped address */

static void show_list(const char *what, const char *buf, long n) {
    printf("%s: %ld [", what, n);
    for (long i = 0; i < n; i++) putchar(buf[i] ? buf[i] : '|');
    printf("]\n");
}

int main(void) {
    setvbuf(stdout, 0, _IONBF, 0);
    char dir[] = "/tmp/growsdown-xattr-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char file[64], link[64], missing[64];
    snprintf(file, sizeof file, "%s/file", dir);
    snprintf(link, sizeof link, "%s/link", dir);
    snprintf(missing, sizeof missing, "%s/missing", dir);
    int fd = open(file, O_RDWR | O_CREAT, 0644);
    symlink("file", link);
    long f = (long)file, l = (long)link, m = (long)missing;
    char buf[256];

    long r = sc(SYS_setxattr, f, (long)"user.first", (long)"one", 3, 0);
    printf("setxattr user.first: %ld\n", r);
    if (r == -EOPNOTSUPP) {
        printf("no user xattrs here\n");
        return 0;
    }
    printf("lsetxattr via file, XATTR_CREATE new: %ld\n", sc(SYS_lsetxattr, f, (long)"user.second", (long)"2", 1, 1));
    printf("fsetxattr empty value: %ld\n", sc(SYS_fsetxattr, fd, (long)"user.empty", 0, 0, 0));
    printf("setxattr via link (followed): %ld\n", sc(SYS_setxattr, l, (long)"user.third", (long)"three!", 6, 0));
    printf("XATTR_CREATE existing: %ld\n", sc(SYS_setxattr, f, (long)"user.first", (long)"x", 1, 1));
    printf("XATTR_REPLACE missing: %ld\n", sc(SYS_setxattr, f, (long)"user.nope", (long)"x", 1, 2));
    printf("XATTR_REPLACE existing: %ld\n", sc(SYS_setxattr, f, (long)"user.first", (long)"uno", 3, 2));

    memset(buf, 0, sizeof buf);
    r = sc(SYS_getxattr, f, (long)"user.first", (long)buf, sizeof buf, 0);
    printf("getxattr user.first: %ld \"%s\"\n", r, buf);
    memset(buf, 0, sizeof buf);
    r = sc(SYS_getxattr, l, (long)"user.third", (long)buf, sizeof buf, 0);
    printf("getxattr via link: %ld \"%s\"\n", r, buf);
    printf("lgetxattr of the link itself: %ld\n", sc(SYS_lgetxattr, l, (long)"user.third", (long)buf, sizeof buf, 0));
    memset(buf, 0, sizeof buf);
    r = sc(SYS_fgetxattr, fd, (long)"user.second", (long)buf, sizeof buf, 0);
    printf("fgetxattr user.second: %ld \"%s\"\n", r, buf);
    printf("fgetxattr user.empty: %ld\n", sc(SYS_fgetxattr, fd, (long)"user.empty", (long)buf, sizeof buf, 0));
    printf("size 0: %ld, short buffer: %ld, missing name: %ld\n",
           sc(SYS_getxattr, f, (long)"user.third", 0, 0, 0), sc(SYS_getxattr, f, (long)"user.third", (long)buf, 2, 0),
           sc(SYS_getxattr, f, (long)"user.none", (long)buf, sizeof buf, 0));
    printf("bad value buffer: %ld\n", sc(SYS_getxattr, f, (long)"user.first", BAD, 10, 0));

    long n = sc(SYS_listxattr, f, (long)buf, sizeof buf, 0, 0);
    /* The order is the filesystem's; print the total and each name's presence. */
    printf("listxattr: %ld, size 0: %ld, short: %ld\n", n, sc(SYS_listxattr, f, 0, 0, 0, 0),
           sc(SYS_listxattr, f, (long)buf, 3, 0, 0));
    n = sc(SYS_listxattr, f, (long)buf, sizeof buf, 0, 0);
    int seen = 0;
    for (long i = 0; i < n; i += strlen(buf + i) + 1) {
        if (!strcmp(buf + i, "user.first")) seen |= 1;
        if (!strcmp(buf + i, "user.second")) seen |= 2;
        if (!strcmp(buf + i, "user.third")) seen |= 4;
        if (!strcmp(buf + i, "user.empty")) seen |= 8;
    }
    printf("names seen: %#x\n", seen);
    n = sc(SYS_llistxattr, l, (long)buf, sizeof buf, 0, 0);
    show_list("llistxattr of the link", buf, n);
    printf("flistxattr: %ld, bad buffer: %ld, bad fd: %ld, missing path: %ld\n",
           sc(SYS_flistxattr, fd, (long)buf, sizeof buf, 0, 0), sc(SYS_flistxattr, fd, BAD, sizeof buf, 0, 0),
           sc(SYS_flistxattr, 99, (long)buf, sizeof buf, 0, 0), sc(SYS_listxattr, m, (long)buf, sizeof buf, 0, 0));

    printf("user xattr on a symlink: %ld\n", sc(SYS_lsetxattr, l, (long)"user.x", (long)"1", 1, 0));
    printf("removexattr: %ld", sc(SYS_removexattr, f, (long)"user.first", 0, 0, 0));
    printf(", again: %ld\n", sc(SYS_removexattr, f, (long)"user.first", 0, 0, 0));
    printf("lremovexattr via file: %ld, fremovexattr: %ld\n", sc(SYS_lremovexattr, f, (long)"user.second", 0, 0, 0),
           sc(SYS_fremovexattr, fd, (long)"user.empty", 0, 0, 0));
    n = sc(SYS_listxattr, f, (long)buf, sizeof buf, 0, 0);
    show_list("left", buf, n);

    /* The order of the checks. */
    char longname[300];
    memset(longname, 'a', sizeof longname);
    memcpy(longname, "user.", 5);
    longname[256] = 0; /* 256 bytes: one too many */
    printf("set: bad flags + missing path: %ld\n", sc(SYS_setxattr, m, (long)"user.a", (long)"1", 1, 4));
    printf("set: empty name + missing path: %ld\n", sc(SYS_setxattr, m, (long)"", (long)"1", 1, 0));
    printf("set: 256-byte name: %ld, 255-byte name: ", sc(SYS_setxattr, f, (long)longname, (long)"1", 1, 0));
    longname[255] = 0;
    printf("%ld\n", sc(SYS_setxattr, f, (long)longname, (long)"1", 1, 0));
    printf("set: bad name pointer + missing path: %ld\n", sc(SYS_setxattr, m, BAD, (long)"1", 1, 0));
    printf("set: size 65537 + missing path: %ld\n", sc(SYS_setxattr, m, (long)"user.a", (long)"1", 65537, 0));
    printf("set: bad value + missing path: %ld\n", sc(SYS_setxattr, m, (long)"user.a", BAD, 4, 0));
    printf("set: missing path: %ld, bad path pointer: %ld\n", sc(SYS_setxattr, m, (long)"user.a", (long)"1", 1, 0),
           sc(SYS_setxattr, BAD, (long)"user.a", (long)"1", 1, 0));
    printf("fset: bad flags + bad fd: %ld, bad name + bad fd: %ld, bad fd: %ld\n",
           sc(SYS_fsetxattr, 99, (long)"user.a", (long)"1", 1, 8), sc(SYS_fsetxattr, 99, (long)"", (long)"1", 1, 0),
           sc(SYS_fsetxattr, 99, (long)"user.a", (long)"1", 1, 0));
    printf("get: empty name + missing path: %ld, missing path: %ld, bad fd + bad name: %ld, bad fd: %ld\n",
           sc(SYS_getxattr, m, (long)"", (long)buf, 10, 0), sc(SYS_getxattr, m, (long)"user.a", (long)buf, 10, 0),
           sc(SYS_fgetxattr, 99, BAD, (long)buf, 10, 0), sc(SYS_fgetxattr, 99, (long)"user.a", (long)buf, 10, 0));
    printf("remove: empty name + missing path: %ld, missing path: %ld, bad fd: %ld\n",
           sc(SYS_removexattr, m, (long)"", 0, 0, 0), sc(SYS_removexattr, m, (long)"user.a", 0, 0, 0),
           sc(SYS_fremovexattr, 99, (long)"user.a", 0, 0, 0));
    printf("unknown namespace: %ld\n", sc(SYS_setxattr, f, (long)"bogus.name", (long)"1", 1, 0));

    close(fd);
    unlink(link);
    unlink(file);
    rmdir(dir);
    return 0;
}
