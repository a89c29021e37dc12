/* fscalls: statfs, fstatfs, sync, syncfs, utime, utimes and getcpu as today's Linux
 * answers them, errors included. Prints only what does not change between runs
 * (not free-block counts, not which CPU). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

struct statfs32 {
    unsigned f_type, f_bsize, f_blocks, f_bfree, f_bavail, f_files, f_ffree;
    int f_fsid[2];
    unsigned f_namelen, f_frsize, f_flags, f_spare[4];
};

static long sc(long n, long a, long b, long c) {
    long r = syscall(n, a, b, c);
    return r < 0 ? -errno : r;
}

int main(void) {
    struct statfs32 s;
    memset(&s, 0xaa, sizeof s);
    long r = sc(SYS_statfs, (long)"/proc", (long)&s, 0);
    printf("statfs /proc: %ld type %#x bsize %u namelen %u frsize %u spare %u %u %u %u\n", r, s.f_type, s.f_bsize,
           s.f_namelen, s.f_frsize, s.f_spare[0], s.f_spare[1], s.f_spare[2], s.f_spare[3]);
    printf("statfs missing: %ld, bad buffer: %ld\n", sc(SYS_statfs, (long)"/nonexistent/x", (long)&s, 0),
           sc(SYS_statfs, (long)"/proc", 16, 0));
    int fd = open("/proc", O_RDONLY | O_DIRECTORY);
    memset(&s, 0xaa, sizeof s);
    r = sc(SYS_fstatfs, fd, (long)&s, 0);
    printf("fstatfs /proc: %ld type %#x namelen %u; bad fd: %ld\n", r, s.f_type, s.f_namelen,
           sc(SYS_fstatfs, 99, (long)&s, 0));
    printf("sync: %ld syncfs: %ld syncfs(99): %ld\n", sc(SYS_sync, 0, 0, 0), sc(SYS_syncfs, fd, 0, 0),
           sc(SYS_syncfs, 99, 0, 0));
    close(fd);

    char path[] = "/tmp/growsdown-fscalls-XXXXXX";
    fd = mkstemp(path);
    close(fd);
    struct stat st;
    struct {
        int actime, modtime;
    } ub = {1000000000, 1234567890};
    printf("utime: %ld", sc(SYS_utime, (long)path, (long)&ub, 0));
    stat(path, &st);
    printf(" atime %ld mtime %ld\n", (long)st.st_atime, (long)st.st_mtime);
    struct {
        int sec, usec;
    } tv[2] = {{1100000000, 250000}, {1200000000, 999999}};
    printf("utimes: %ld", sc(SYS_utimes, (long)path, (long)tv, 0));
    stat(path, &st);
    printf(" atime %ld.%09ld mtime %ld.%09ld\n", (long)st.st_atime, st.st_atim.tv_nsec, (long)st.st_mtime,
           st.st_mtim.tv_nsec);
    tv[1].usec = 1000000;
    printf("utimes usec 1000000: %ld, usec -1: ", sc(SYS_utimes, (long)path, (long)tv, 0));
    tv[1].usec = -1;
    printf("%ld, bad times: %ld, missing file: %ld\n", sc(SYS_utimes, (long)path, (long)tv, 0),
           sc(SYS_utimes, (long)path, 16, 0), sc(SYS_utime, (long)"/nonexistent/x", 0, 0));
    /* A NULL path names the fd itself, except AT_FDCWD: then it is a bad path. */
    r = syscall(SYS_utimensat, AT_FDCWD, 0, 0, 0);
    printf("utimensat(AT_FDCWD, NULL): %ld %s\n", r, r < 0 ? strerrorname_np(errno) : "");
    time_t now = time(0);
    printf("utime NULL: %ld", sc(SYS_utime, (long)path, 0, 0));
    stat(path, &st);
    printf(" mtime now: %s\n", st.st_mtime >= now - 2 && st.st_mtime <= now + 2 ? "yes" : "no");
    unlink(path);

    unsigned cpu = 12345, node = 12345;
    r = sc(SYS_getcpu, (long)&cpu, (long)&node, 0);
    printf("getcpu: %ld cpu in range %d node %u; NULLs: %ld; bad pointer: %ld\n", r,
           cpu < (unsigned)sysconf(_SC_NPROCESSORS_CONF), node, sc(SYS_getcpu, 0, 0, 0), sc(SYS_getcpu, 16, 0, 0));
    return 0;
}
