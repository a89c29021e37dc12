/* signalfd / signalfd4: records read (kill, sigqueue, several at once), O_NONBLOCK
 * EAGAIN, poll/select/epoll readiness, a mask update, fork (each process reads its
 * own signals), a blocking read woken by another process, the errno cases, flags,
 * fstat; and ppoll / pselect with a temporary mask that lets a blocked signal
 * interrupt them (EINTR), the mask in force in the handler and restored after.
 * Output is relations only (no pids). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *en(int e)
{
    switch (e) {
    case 0: return "0";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case EAGAIN: return "EAGAIN";
    case EINTR: return "EINTR";
    default: return "other";
    }
}

static const char *yesno(int b) { return b ? "yes" : "no"; }

static const char *name(int s)
{
    if (s == SIGUSR1)
        return "USR1";
    if (s == SIGUSR2)
        return "USR2";
    if (s == SIGRTMIN)
        return "RTMIN";
    if (s == SIGHUP)
        return "HUP";
    return "?";
}

static int readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n = poll(&p, 1, 0);
    return n == 1 && (p.revents & POLLIN);
}

static void read_one(const char *what, int fd)
{
    struct signalfd_siginfo s;
    ssize_t n = read(fd, &s, sizeof s);
    if (n < 0) {
        printf("%s: read %s\n", what, en(errno));
        return;
    }
    printf("%s: read %d, %s code %d, pid ours %s, uid ours %s, int %d ptr %llu\n", what, (int)n,
           name((int)s.ssi_signo), s.ssi_code, yesno(s.ssi_pid == (unsigned)getpid()),
           yesno(s.ssi_uid == getuid()), s.ssi_int, (unsigned long long)s.ssi_ptr);
}

static volatile sig_atomic_t handled, hup_blocked_in_handler;

static void on_usr2(int sig)
{
    (void)sig;
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    hup_blocked_in_handler = sigismember(&cur, SIGHUP);
    handled++;
}

static volatile sig_atomic_t alarms;

static void on_alrm(int sig)
{
    (void)sig;
    alarms++;
}

static void arm(void)
{
    struct itimerval it = {{0, 0}, {0, 50000}};
    setitimer(ITIMER_REAL, &it, NULL);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    sigset_t blk, m;
    sigemptyset(&blk);
    sigaddset(&blk, SIGUSR1);
    sigaddset(&blk, SIGRTMIN);
    sigprocmask(SIG_BLOCK, &blk, NULL);

    /* Creation and errno cases. */
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    sigaddset(&m, SIGRTMIN);
    int sfd = signalfd(-1, &m, 0);
    printf("signalfd: %s\n", yesno(sfd >= 0));
    {
        char path[64], link[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", sfd);
        ssize_t n = readlink(path, link, sizeof link - 1);
        link[n < 0 ? 0 : n] = 0;
        printf("/proc/self/fd link: %s\n", link);
    }
    printf("flags: O_RDWR %s, O_NONBLOCK %s, cloexec %s\n", yesno((fcntl(sfd, F_GETFL) & O_ACCMODE) == O_RDWR),
           yesno(fcntl(sfd, F_GETFL) & O_NONBLOCK), yesno(fcntl(sfd, F_GETFD) & FD_CLOEXEC));
    int nb = signalfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC);
    printf("nonblock: O_NONBLOCK %s, cloexec %s\n", yesno(fcntl(nb, F_GETFL) & O_NONBLOCK),
           yesno(fcntl(nb, F_GETFD) & FD_CLOEXEC));
    printf("bad flags: %s\n", en(signalfd(-1, &m, 1) < 0 ? errno : 0));
    printf("sizemask 4: %s\n", en(syscall(SYS_signalfd4, -1, &m, 4, 0) < 0 ? errno : 0));
    printf("bad mask pointer: %s\n", en(syscall(SYS_signalfd4, -1, (void *)16, 8, 0) < 0 ? errno : 0));
    printf("fd 999: %s\n", en(signalfd(999, &m, 0) < 0 ? errno : 0));
    printf("fd -2: %s\n", en(signalfd(-2, &m, 0) < 0 ? errno : 0));
    int pfd[2];
    if (pipe(pfd) != 0)
        return 1;
    printf("pipe fd: %s\n", en(signalfd(pfd[0], &m, 0) < 0 ? errno : 0));
    printf("old signalfd syscall: %s\n", yesno(syscall(SYS_signalfd, sfd, &m, 8) == sfd));
    struct stat st, est;
    int efd = eventfd(0, 0);
    fstat(sfd, &st);
    fstat(efd, &est);
    printf("fstat: mode %o, same inode as an eventfd %s\n", (unsigned)st.st_mode, yesno(st.st_ino == est.st_ino));
    close(efd);

    /* Nothing pending. */
    printf("empty: readable %s\n", yesno(readable(sfd)));
    read_one("empty nonblock", nb);
    char small[100];
    printf("small buffer: %s\n", en(read(sfd, small, sizeof small) < 0 ? errno : 0));
    printf("write: %s\n", en(write(sfd, small, 8) < 0 ? errno : 0));

    /* kill, then poll/select/epoll readiness and the read. */
    kill(getpid(), SIGUSR1);
    printf("after kill: readable %s\n", yesno(readable(sfd)));
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(sfd, &rs);
    struct timeval tv = {0, 0};
    printf("select: %d, set %s\n", select(sfd + 1, &rs, NULL, NULL, &tv), yesno(FD_ISSET(sfd, &rs)));
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7};
    epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
    struct epoll_event out[2];
    int n = epoll_wait(ep, out, 2, 0);
    printf("epoll: %d, data %u\n", n, n > 0 ? out[0].data.u32 : 0);
    read_one("kill", sfd);
    printf("after read: readable %s, epoll %d\n", yesno(readable(sfd)), epoll_wait(ep, out, 2, 0));

    /* sigqueue values; several records in one read. */
    union sigval v1 = {.sival_int = 11}, v2 = {.sival_int = -5};
    sigqueue(getpid(), SIGRTMIN, v1);
    sigqueue(getpid(), SIGRTMIN, v2);
    struct signalfd_siginfo recs[3];
    ssize_t got = read(sfd, recs, sizeof recs);
    printf("two queued: read %d\n", (int)got);
    for (int i = 0; i < got / (int)sizeof recs[0]; i++)
        printf("  %s code SI_QUEUE %s int %d ptr %llu pid ours %s\n", name((int)recs[i].ssi_signo),
               yesno(recs[i].ssi_code == SI_QUEUE), recs[i].ssi_int, (unsigned long long)recs[i].ssi_ptr,
               yesno(recs[i].ssi_pid == (unsigned)getpid()));

    /* A mask update: the fd now reads SIGUSR2 only; SIGUSR1 stays pending. */
    sigaddset(&blk, SIGUSR2);
    sigprocmask(SIG_BLOCK, &blk, NULL);
    sigset_t m2;
    sigemptyset(&m2);
    sigaddset(&m2, SIGUSR2);
    printf("update: %s\n", yesno(signalfd(sfd, &m2, 0) == sfd));
    kill(getpid(), SIGUSR1);
    printf("USR1 pending, mask USR2: readable %s, nonblock fd (USR1) readable %s\n", yesno(readable(sfd)),
           yesno(readable(nb)));
    kill(getpid(), SIGUSR2);
    read_one("mask USR2", sfd);
    sigset_t pend;
    sigpending(&pend);
    printf("USR1 still pending %s, USR2 pending %s\n", yesno(sigismember(&pend, SIGUSR1)), yesno(sigismember(&pend, SIGUSR2)));
    read_one("nonblock fd", nb);
    read_one("nonblock fd again", nb);
    signalfd(sfd, &m, 0);

    /* fork: the child shares the fd but reads its own signals. */
    kill(getpid(), SIGUSR1);
    pid_t child = fork();
    if (child == 0) {
        printf("child: readable %s\n", yesno(readable(nb)));
        read_one("child empty", nb);
        kill(getpid(), SIGUSR1);
        printf("child: after kill readable %s\n", yesno(readable(nb)));
        read_one("child", nb);
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    printf("parent: child exit %d, readable %s\n", WEXITSTATUS(status), yesno(readable(nb)));
    read_one("parent", nb);

    /* A blocking read that another process's kill wakes. */
    child = fork();
    if (child == 0) {
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    struct signalfd_siginfo s;
    ssize_t r = read(sfd, &s, sizeof s);
    printf("blocking read: %d, %s, pid child %s\n", (int)r, name((int)s.ssi_signo), yesno(s.ssi_pid == (unsigned)child));
    waitpid(child, &status, 0);

    /* A signalfd polled by a sleeping poll: woken by another process's kill. */
    child = fork();
    if (child == 0) {
        usleep(20000);
        kill(getppid(), SIGRTMIN);
        _exit(0);
    }
    struct pollfd p = {.fd = sfd, .events = POLLIN};
    n = poll(&p, 1, 5000);
    printf("sleeping poll: %d, POLLIN %s\n", n, yesno(p.revents & POLLIN));
    n = epoll_wait(ep, out, 2, 0);
    printf("epoll then: %d\n", n);
    read_one("after sleeping poll", sfd);
    waitpid(child, &status, 0);

    /* ppoll and pselect with a temporary mask. SIGUSR2 is blocked and pending; the
     * temporary mask lets it through and blocks SIGHUP instead. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    sigset_t tmp;
    sigemptyset(&tmp);
    sigaddset(&tmp, SIGHUP);
    sigaddset(&tmp, SIGUSR1);
    sigaddset(&tmp, SIGRTMIN);
    struct timespec zero = {0, 0}, five = {5, 0};
    kill(getpid(), SIGUSR2);
    struct pollfd pp = {.fd = pfd[0], .events = POLLIN};
    n = ppoll(&pp, 1, &zero, NULL);
    printf("ppoll no mask, zero timeout: %d, handled %d\n", n, (int)handled);
    n = ppoll(&pp, 1, &five, &tmp);
    int e = errno;
    printf("ppoll mask: %d %s, handled %d, HUP blocked in handler %s\n", n, en(n < 0 ? e : 0), (int)handled,
           yesno(hup_blocked_in_handler));
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("after ppoll: USR2 blocked %s, HUP blocked %s\n", yesno(sigismember(&cur, SIGUSR2)),
           yesno(sigismember(&cur, SIGHUP)));
    /* Sleeping: another process sends SIGUSR2 while ppoll waits. */
    child = fork();
    if (child == 0) {
        usleep(20000);
        kill(getppid(), SIGUSR2);
        _exit(0);
    }
    n = ppoll(&pp, 1, &five, &tmp);
    e = errno;
    printf("sleeping ppoll mask: %d %s, handled %d\n", n, en(n < 0 ? e : 0), (int)handled);
    waitpid(child, &status, 0);
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("after: USR2 blocked %s, HUP blocked %s\n", yesno(sigismember(&cur, SIGUSR2)), yesno(sigismember(&cur, SIGHUP)));
    kill(getpid(), SIGUSR2);
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(pfd[0], &rd);
    n = pselect(pfd[0] + 1, &rd, NULL, NULL, &five, &tmp);
    e = errno;
    printf("pselect mask: %d %s, handled %d, HUP blocked in handler %s\n", n, en(n < 0 ? e : 0), (int)handled,
           yesno(hup_blocked_in_handler));
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("after pselect: USR2 blocked %s, HUP blocked %s\n", yesno(sigismember(&cur, SIGUSR2)),
           yesno(sigismember(&cur, SIGHUP)));
    /* A mask that still blocks the signal: the call times out. */
    sigaddset(&tmp, SIGUSR2);
    kill(getpid(), SIGUSR2);
    struct timespec short_ts = {0, 10000000};
    n = ppoll(&pp, 1, &short_ts, &tmp);
    printf("ppoll mask blocking it: %d, handled %d\n", n, (int)handled);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    printf("unblocked: handled %d\n", (int)handled);
    /* A bad sigsetsize. */
    n = syscall(SYS_ppoll, &pp, 1, &zero, &tmp, 4);
    printf("ppoll sigsetsize 4: %s\n", en(n < 0 ? errno : 0));

    /* The pselect pattern in a lone process: SIGALRM blocked except inside the
     * call, a timer's signal ends it. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alrm;
    sigaction(SIGALRM, &sa, NULL);
    sigset_t ab;
    sigemptyset(&ab);
    sigaddset(&ab, SIGALRM);
    sigprocmask(SIG_BLOCK, &ab, NULL);
    arm();
    n = ppoll(NULL, 0, NULL, &none);
    e = errno;
    printf("ppoll timer: %d %s, alarms %d\n", n, en(n < 0 ? e : 0), (int)alarms);
    arm();
    n = pselect(0, NULL, NULL, NULL, NULL, &none);
    e = errno;
    printf("pselect timer: %d %s, alarms %d\n", n, en(n < 0 ? e : 0), (int)alarms);
    sigprocmask(SIG_UNBLOCK, &ab, NULL);
    arm();
    n = poll(NULL, 0, 5000);
    e = errno;
    printf("poll timer: %d %s, alarms %d\n", n, en(n < 0 ? e : 0), (int)alarms);
    return 0;
}
