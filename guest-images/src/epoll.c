/* epoll: epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait and
 * epoll_pwait2 as today's Linux answers them — flag and size checks, ADD/MOD/DEL
 * with a pipe and an eventfd and their errors (EEXIST, ENOENT, EBADF, EINVAL, EPERM,
 * EFAULT), level- and edge-triggered readiness, EPOLLONESHOT, data.u64 passed
 * through, timeouts, a wait in a forked child woken by its parent, and waits ended
 * by a signal (EINTR) with and without a temporary signal mask. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

static const char *ename(long r) {
    static char buf[32];
    switch (-r) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EINTR: return "EINTR";
    case EBADF: return "EBADF";
    case EFAULT: return "EFAULT";
    case EEXIST: return "EEXIST";
    case EINVAL: return "EINVAL";
    case ELOOP: return "ELOOP";
    case ENOSYS: return "ENOSYS";
    }
    snprintf(buf, sizeof buf, "%ld", r);
    return buf;
}

/* The raw call, -errno on failure. */
static long sc(long n, long a, long b, long c, long d, long e, long f) {
    long r = syscall(n, a, b, c, d, e, f);
    return r < 0 ? -errno : r;
}

static long ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.u64 = data;
    return sc(SYS_epoll_ctl, epfd, op, fd, (long)&ev, 0, 0);
}

static long wait_ms(int epfd, struct epoll_event *evs, int max, int ms) {
    return sc(SYS_epoll_wait, epfd, (long)evs, max, ms, 0, 0);
}

static void show(const char *what, long r, struct epoll_event *evs) {
    if (r < 0) {
        printf("%s: %s\n", what, ename(r));
        return;
    }
    printf("%s: %ld", what, r);
    for (long i = 0; i < r; i++) {
        uint64_t d = evs[i].data.u64;
        unsigned ev = evs[i].events;
        printf(" [events %#x data %#llx]", ev, (unsigned long long)d);
    }
    printf("\n");
}

static long ms_since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static volatile int handled;
static void on_usr1(int sig) {
    (void)sig;
    handled++;
}

/* A child that sends SIGUSR1 to its parent after `ms` milliseconds. */
static pid_t signal_later(int ms) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        usleep(ms * 1000);
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    return pid;
}

int main(void) {
    struct epoll_event evs[8];
    long r;

    /* Creation. */
    r = sc(SYS_epoll_create, 0, 0, 0, 0, 0, 0);
    printf("epoll_create(0): %s\n", ename(r));
    r = sc(SYS_epoll_create, -1, 0, 0, 0, 0, 0);
    printf("epoll_create(-1): %s\n", ename(r));
    int ep = sc(SYS_epoll_create, 1, 0, 0, 0, 0, 0);
    printf("epoll_create(1) ok: %d\n", ep >= 0);
    long fl = fcntl(ep, F_GETFD);
    printf("epoll_create FD_CLOEXEC: %ld\n", fl);
    close(ep);
    r = sc(SYS_epoll_create1, 1, 0, 0, 0, 0, 0);
    printf("epoll_create1(1): %s\n", ename(r));
    r = sc(SYS_epoll_create1, O_NONBLOCK, 0, 0, 0, 0, 0);
    printf("epoll_create1(O_NONBLOCK): %s\n", ename(r));
    ep = sc(SYS_epoll_create1, EPOLL_CLOEXEC, 0, 0, 0, 0, 0);
    fl = fcntl(ep, F_GETFD);
    printf("epoll_create1(EPOLL_CLOEXEC) ok: %d FD_CLOEXEC: %ld\n", ep >= 0, fl);

    int p[2], q[2];
    pipe(p);
    pipe(q);
    int efd = eventfd(0, EFD_NONBLOCK);
    char name[] = "/tmp/epoll.XXXXXX";
    int reg = mkstemp(name);
    unlink(name);

    /* epoll_ctl and its errors. */
    r = ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 0x0123456789abcdefULL);
    printf("ADD pipe: %s\n", ename(r));
    r = ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 1);
    printf("ADD pipe again: %s\n", ename(r));
    r = ctl(ep, EPOLL_CTL_MOD, efd, EPOLLIN, 1);
    printf("MOD unregistered: %s\n", ename(r));
    r = sc(SYS_epoll_ctl, ep, EPOLL_CTL_DEL, efd, 0, 0, 0);
    printf("DEL unregistered: %s\n", ename(r));
    r = ctl(999, EPOLL_CTL_ADD, p[0], EPOLLIN, 1);
    printf("ADD bad epfd: %s\n", ename(r));
    r = ctl(ep, EPOLL_CTL_ADD, 999, EPOLLIN, 1);
    printf("ADD bad fd: %s\n", ename(r));
    r = ctl(ep, EPOLL_CTL_ADD, -1, EPOLLIN, 1);
    printf("ADD fd -1: %s\n", ename(r));
    r = ctl(ep, EPOLL_CTL_ADD, ep, EPOLLIN, 1);
    printf("ADD epfd to itself: %s\n", ename(r));
    int dupep = dup(ep);
    r = ctl(ep, EPOLL_CTL_ADD, dupep, EPOLLIN, 1);
    printf("ADD a dup of epfd to itself: %s\n", ename(r));
    close(dupep);
    r = ctl(ep, EPOLL_CTL_ADD, reg, EPOLLIN, 1);
    printf("ADD regular file: %s\n", ename(r));
    r = ctl(p[1], EPOLL_CTL_ADD, q[0], EPOLLIN, 1);
    printf("ADD with a pipe as epfd: %s\n", ename(r));
    r = ctl(reg, EPOLL_CTL_ADD, reg, EPOLLIN, 1);
    printf("ADD regular file with it as epfd: %s\n", ename(r));
    r = sc(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, q[0], 0, 0, 0);
    printf("ADD NULL event: %s\n", ename(r));
    r = sc(SYS_epoll_ctl, ep, EPOLL_CTL_MOD, p[0], 16, 0, 0);
    printf("MOD bad event pointer: %s\n", ename(r));
    r = ctl(ep, 99, p[0], EPOLLIN, 1);
    printf("op 99: %s\n", ename(r));
    r = sc(SYS_epoll_ctl, ep, 99, p[0], 0, 0, 0);
    printf("op 99 NULL event: %s\n", ename(r));
    r = ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLEXCLUSIVE, 1);
    printf("MOD EPOLLEXCLUSIVE: %s\n", ename(r));
    r = ctl(ep, EPOLL_CTL_ADD, q[0], EPOLLIN | EPOLLEXCLUSIVE, 0x55);
    printf("ADD EPOLLEXCLUSIVE: %s\n", ename(r));
    r = sc(SYS_epoll_ctl, ep, EPOLL_CTL_DEL, q[0], 0, 0, 0);
    printf("DEL NULL event: %s\n", ename(r));

    /* Waits: nothing ready, then a pipe and an eventfd. */
    r = wait_ms(ep, evs, 8, 0);
    show("wait, nothing ready, timeout 0", r, evs);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r = wait_ms(ep, evs, 8, 20);
    long el = ms_since(&t0);
    show("wait, nothing ready, timeout 20 ms", r, evs);
    printf("  waited at least 19 ms: %d\n", el >= 19);
    r = wait_ms(ep, evs, 0, 0);
    printf("maxevents 0: %s\n", ename(r));
    r = wait_ms(ep, evs, -1, 0);
    printf("maxevents -1: %s\n", ename(r));
    r = wait_ms(ep, evs, 0x7fffffff / 12 + 1, 0);
    printf("maxevents INT_MAX/12+1: %s\n", ename(r));
    r = wait_ms(999, evs, 8, 0);
    printf("wait bad epfd: %s\n", ename(r));
    r = wait_ms(p[0], evs, 8, 0);
    printf("wait on a pipe: %s\n", ename(r));
    r = sc(SYS_epoll_wait, p[0], 0, 8, 0, 0, 0);
    printf("wait on a pipe, NULL events: %s\n", ename(r));
    r = sc(SYS_epoll_wait, ep, 0, 8, 0, 0, 0);
    printf("wait NULL events, nothing ready: %s\n", ename(r));

    write(p[1], "ab", 2);
    r = sc(SYS_epoll_wait, ep, 0, 8, 0, 0, 0);
    printf("wait NULL events, pipe ready: %s\n", ename(r));
    r = wait_ms(ep, evs, 8, 1000);
    show("wait, pipe readable", r, evs);
    r = wait_ms(ep, evs, 8, -1);
    show("wait again (level-triggered)", r, evs);

    r = ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLOUT, 0xfeedfacecafebeefULL);
    printf("ADD eventfd: %s\n", ename(r));
    r = wait_ms(ep, evs, 8, 0);
    show("wait, pipe readable, eventfd writable", r, evs);
    r = wait_ms(ep, evs, 1, 0);
    show("maxevents 1", r, evs);
    r = wait_ms(ep, evs, 1, 0);
    show("maxevents 1 again", r, evs);
    r = ctl(ep, EPOLL_CTL_MOD, efd, EPOLLIN, 42);
    printf("MOD eventfd EPOLLIN: %s\n", ename(r));
    char buf[8];
    read(p[0], buf, 2);
    r = wait_ms(ep, evs, 8, 0);
    show("wait, pipe drained, eventfd zero", r, evs);
    uint64_t one = 1;
    write(efd, &one, 8);
    r = wait_ms(ep, evs, 8, 0);
    show("wait, eventfd 1", r, evs);
    uint64_t v;
    read(efd, &v, 8);

    /* Edge-triggered: one report per change, not per wait. */
    r = ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLET, 7);
    printf("MOD pipe EPOLLET: %s\n", ename(r));
    write(p[1], "x", 1);
    r = wait_ms(ep, evs, 8, 0);
    show("ET, one byte written", r, evs);
    r = wait_ms(ep, evs, 8, 0);
    show("ET, byte still there, no new edge", r, evs);
    write(p[1], "y", 1);
    r = wait_ms(ep, evs, 8, 0);
    show("ET, another byte", r, evs);
    read(p[0], buf, 2);

    /* One-shot: disarmed after one report until MOD. */
    r = ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLONESHOT, 8);
    printf("MOD pipe EPOLLONESHOT: %s\n", ename(r));
    write(p[1], "x", 1);
    r = wait_ms(ep, evs, 8, 0);
    show("ONESHOT, first", r, evs);
    r = wait_ms(ep, evs, 8, 0);
    show("ONESHOT, disarmed", r, evs);
    r = ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 1);
    printf("ADD disarmed: %s\n", ename(r));
    r = ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLONESHOT, 9);
    printf("MOD rearm: %s\n", ename(r));
    r = wait_ms(ep, evs, 8, 0);
    show("ONESHOT, rearmed", r, evs);
    read(p[0], buf, 1);
    r = ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN, 10);
    printf("MOD pipe EPOLLIN: %s\n", ename(r));

    /* Nested: an epoll fd is readable when it has events. */
    int ep2 = sc(SYS_epoll_create1, 0, 0, 0, 0, 0, 0);
    r = ctl(ep2, EPOLL_CTL_ADD, ep, EPOLLIN, 0x2);
    printf("ADD epfd to another: %s\n", ename(r));
    r = ctl(ep, EPOLL_CTL_ADD, ep2, EPOLLIN, 0x3);
    printf("ADD back (loop): %s\n", ename(r));
    r = wait_ms(ep2, evs, 8, 0);
    show("outer, inner idle", r, evs);
    write(q[1], "q", 1);
    r = ctl(ep, EPOLL_CTL_ADD, q[0], EPOLLIN, 0x4);
    printf("ADD second pipe: %s\n", ename(r));
    r = wait_ms(ep2, evs, 8, 0);
    show("outer, inner ready", r, evs);

    /* Hang-up, and a closed fd leaving the set. */
    close(q[1]);
    read(q[0], buf, 1);
    r = wait_ms(ep, evs, 8, 0);
    show("pipe writer closed", r, evs);
    close(q[0]);
    r = wait_ms(ep, evs, 8, 0);
    show("after close of that pipe", r, evs);
    close(ep2);

    /* epoll_pwait and epoll_pwait2. */
    sigset_t none, usr1, old;
    sigemptyset(&none);
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    r = sc(SYS_epoll_pwait, ep, (long)evs, 8, 0, (long)&none, 4);
    printf("pwait sigsetsize 4: %s\n", ename(r));
    r = sc(SYS_epoll_pwait, ep, (long)evs, 8, 0, 16, 8);
    printf("pwait bad sigmask: %s\n", ename(r));
    r = sc(SYS_epoll_pwait, ep, (long)evs, 8, 10, (long)&none, 8);
    show("pwait, timeout 10 ms", r, evs);
    struct {
        long long sec;
        long nsec, pad;
    } ts = {0, 20000000, 0};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r = sc(SYS_epoll_pwait2, ep, (long)evs, 8, (long)&ts, 0, 0);
    el = ms_since(&t0);
    show("pwait2, 20 ms", r, evs);
    printf("  waited at least 19 ms: %d\n", el >= 19);
    ts.nsec = 1000000000;
    r = sc(SYS_epoll_pwait2, ep, (long)evs, 8, (long)&ts, 0, 0);
    printf("pwait2 nsec 1e9: %s\n", ename(r));
    ts.sec = -1, ts.nsec = 0;
    r = sc(SYS_epoll_pwait2, ep, (long)evs, 8, (long)&ts, 0, 0);
    printf("pwait2 sec -1: %s\n", ename(r));
    r = sc(SYS_epoll_pwait2, ep, (long)evs, 8, 16, 0, 0);
    printf("pwait2 bad timespec pointer: %s\n", ename(r));
    write(p[1], "x", 1);
    r = sc(SYS_epoll_pwait2, ep, (long)evs, 8, 0, 0, 0);
    show("pwait2, no timeout, pipe ready", r, evs);
    read(p[0], buf, 1);

    /* A wait in a child, ended by its parent writing to a pipe. */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        r = wait_ms(ep, evs, 8, -1);
        show("child: wait, woken by the parent", r, evs);
        fflush(stdout);
        _exit(0);
    }
    usleep(50000);
    write(p[1], "z", 1);
    int st;
    waitpid(pid, &st, 0);
    printf("child exit status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    read(p[0], buf, 1);

    /* Waits ended by a signal: EINTR after the handler, SA_RESTART or not. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, 0);
    pid = signal_later(100);
    r = wait_ms(ep, evs, 8, 5000);
    int h = handled;
    show("wait, SIGUSR1 arrives", r, evs);
    printf("  handler ran: %d\n", h);
    waitpid(pid, &st, 0);

    /* SIGUSR1 blocked, epoll_pwait lets it in: EINTR, and the old mask is back. */
    handled = 0;
    sigprocmask(SIG_BLOCK, &usr1, 0);
    pid = signal_later(100);
    r = sc(SYS_epoll_pwait, ep, (long)evs, 8, 5000, (long)&none, 8);
    h = handled;
    show("pwait with SIGUSR1 unblocked", r, evs);
    sigprocmask(SIG_SETMASK, 0, &old);
    int blocked = sigismember(&old, SIGUSR1);
    printf("  handler ran: %d, SIGUSR1 blocked again: %d\n", h, blocked);
    waitpid(pid, &st, 0);
    sigprocmask(SIG_UNBLOCK, &usr1, 0);

    /* SIGUSR1 open, epoll_pwait blocks it: the wait times out (the handler runs
     * once the mask is back, or on a later call if the signal comes late). */
    handled = 0;
    pid = signal_later(50);
    r = sc(SYS_epoll_pwait, ep, (long)evs, 8, 300, (long)&usr1, 8);
    show("pwait with SIGUSR1 blocked", r, evs);
    waitpid(pid, &st, 0);
    h = handled;
    printf("  handler ran once the child was gone: %d\n", h);

    /* pwait2 ended by a signal. */
    handled = 0;
    pid = signal_later(100);
    r = sc(SYS_epoll_pwait2, ep, (long)evs, 8, 0, 0, 0);
    h = handled;
    show("pwait2 forever, SIGUSR1 arrives", r, evs);
    printf("  handler ran: %d\n", h);
    waitpid(pid, &st, 0);

    close(ep);
    r = wait_ms(ep, evs, 8, 0);
    printf("wait on closed epfd: %s\n", ename(r));
    return 0;
}
