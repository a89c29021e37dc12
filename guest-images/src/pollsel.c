/* pollsel: ppoll and the old i386 select(struct sel_arg_struct *) as today's Linux
 * answers them — readiness on a pipe, a timeout that expires (and the time left
 * written back as zero), EINVAL for a bad timespec or sigsetsize, EFAULT for a bad
 * argument block. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long sc(long n, long a, long b, long c, long d, long e) {
    long r = syscall(n, a, b, c, d, e);
    return r < 0 ? -errno : r;
}

int main(void) {
    int p[2];
    pipe(p);
    struct pollfd fds[2] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}};
    struct {
        int sec, nsec;
    } ts = {0, 20000000};
    long r = sc(SYS_ppoll, (long)fds, 2, (long)&ts, 0, 0);
    printf("ppoll empty pipe: %ld revents %#x %#x\n", r, fds[0].revents, fds[1].revents);
    write(p[1], "x", 1);
    fds[1].events = 0;
    ts.sec = 0, ts.nsec = 20000000;
    r = sc(SYS_ppoll, (long)fds, 1, (long)&ts, 0, 0);
    printf("ppoll readable: %ld revents %#x\n", r, fds[0].revents);
    ts.sec = 0, ts.nsec = 1000;
    fds[0].fd = p[1], fds[0].events = POLLIN;
    r = sc(SYS_ppoll, (long)fds, 1, (long)&ts, 0, 0);
    printf("ppoll timeout: %ld, time left %d.%09d\n", r, ts.sec, ts.nsec);
    ts.nsec = 1000000000;
    printf("ppoll bad timespec: %ld\n", sc(SYS_ppoll, (long)fds, 1, (long)&ts, 0, 0));
    sigset_t m;
    sigemptyset(&m);
    ts.nsec = 0;
    printf("ppoll sigsetsize 4: %ld, 8: %ld\n", sc(SYS_ppoll, (long)fds, 1, (long)&ts, (long)&m, 4),
           sc(SYS_ppoll, (long)fds, 1, (long)&ts, (long)&m, 8));

    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    struct {
        int sec, usec;
    } tv = {0, 10000};
    unsigned long args[5] = {(unsigned long)p[0] + 1, (unsigned long)&rd, 0, 0, (unsigned long)&tv};
    r = sc(SYS_select, (long)args, 0, 0, 0, 0);
    printf("old select readable: %ld, set %d\n", r, FD_ISSET(p[0], &rd));
    char c;
    read(p[0], &c, 1);
    FD_SET(p[0], &rd);
    tv.sec = 0, tv.usec = 10000;
    r = sc(SYS_select, (long)args, 0, 0, 0, 0);
    printf("old select timeout: %ld, set %d, time left %d.%06d\n", r, FD_ISSET(p[0], &rd), tv.sec, tv.usec);
    printf("old select bad block: %ld\n", sc(SYS_select, 16, 0, 0, 0, 0));
    /* A microsecond field of a million or more is carried into the seconds (today's
     * kern_select); a negative one is EINVAL. */
    write(p[1], "y", 1);
    FD_SET(p[0], &rd);
    tv.sec = 0, tv.usec = 2500000;
    r = sc(SYS_select, (long)args, 0, 0, 0, 0);
    printf("old select usec 2500000: %ld, time left written back as %d s and %s usec\n", r, tv.sec,
           tv.usec > 400000 && tv.usec < 1000000 ? "400000..999999" : "other");
    tv.usec = -1;
    printf("old select usec -1: %ld\n", sc(SYS_select, (long)args, 0, 0, 0, 0));
    return 0;
}
