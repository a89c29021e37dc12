/* waitid: the siginfo of exited and killed children, WNOWAIT, WNOHANG with nothing
 * ready, P_PID / P_PGID / P_ALL, and the errors; wait4's 0 and -pgid naming the
 * guest's process groups. Output is relations, never raw pids. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *code_name(int c) {
    switch (c) {
    case CLD_EXITED: return "CLD_EXITED";
    case CLD_KILLED: return "CLD_KILLED";
    case CLD_DUMPED: return "CLD_DUMPED";
    case 0: return "0";
    default: return "other";
    }
}

static pid_t child_exiting(int code) {
    pid_t p = fork();
    if (p == 0)
        _exit(code);
    return p;
}

static pid_t child_sleeping(void) {
    pid_t p = fork();
    if (p == 0) {
        for (;;)
            pause();
    }
    return p;
}

static void show(const char *what, int r, siginfo_t *si, pid_t expect) {
    int e = errno;
    if (r < 0) {
        printf("%s: -1 %s\n", what, strerrorname_np(e));
        return;
    }
    printf("%s: %d signo %d code %s pid %s status %d uid %s\n", what, r, si->si_signo, code_name(si->si_code),
           si->si_pid == expect ? "= child" : (si->si_pid == 0 ? "0" : "other"), si->si_status,
           si->si_uid == getuid() ? "= mine" : "other");
}

/* The raw call: glibc's waitid has no rusage argument. */
static int raw_waitid(int which, int id, siginfo_t *si, int options, struct rusage *ru) {
    return syscall(SYS_waitid, which, id, si, options, ru);
}

int main(void) {
    setvbuf(stdout, 0, _IONBF, 0);
    siginfo_t si;

    pid_t a = child_exiting(7);
    memset(&si, 0x55, sizeof si);
    show("P_PID WEXITED|WNOWAIT", waitid(P_PID, a, &si, WEXITED | WNOWAIT), &si, a);
    memset(&si, 0x55, sizeof si);
    show("again, reaping", waitid(P_PID, a, &si, WEXITED), &si, a);
    errno = 0;
    show("reaped already", waitid(P_PID, a, &si, WEXITED), &si, a);

    pid_t b = child_sleeping();
    memset(&si, 0x55, sizeof si);
    int r = waitid(P_ALL, 0, &si, WEXITED | WNOHANG);
    printf("P_ALL WNOHANG, nothing ready: %d signo %d pid %d status %d\n", r, si.si_signo, si.si_pid, si.si_status);
    kill(b, SIGKILL);
    struct rusage ru;
    memset(&si, 0, sizeof si);
    memset(&ru, 0x55, sizeof ru);
    show("P_ALL after SIGKILL", raw_waitid(P_ALL, 0, &si, WEXITED, &ru), &si, b);
    printf("rusage written: %s\n", ru.ru_nswap == 0 ? "yes" : "no");

    pid_t c = child_sleeping();
    kill(c, SIGTERM);
    memset(&si, 0, sizeof si);
    show("P_PID SIGTERM", waitid(P_PID, c, &si, WEXITED), &si, c);

    /* A child in its own process group. */
    pid_t d = fork();
    if (d == 0) {
        setpgid(0, 0);
        usleep(50000);
        _exit(3);
    }
    setpgid(d, d);
    pid_t e = child_exiting(4);
    usleep(100000);
    /* wait4(0): only children in the caller's group: e, not d. */
    int st;
    pid_t w = wait4(0, &st, 0, 0);
    printf("wait4(0): %s exit %d\n", w == e ? "= same-group child" : (w == d ? "= other-group child" : "?"),
           WEXITSTATUS(st));
    w = wait4(0, &st, WNOHANG, 0);
    printf("wait4(0) again: %d %s\n", w, w < 0 ? strerrorname_np(errno) : "");
    memset(&si, 0, sizeof si);
    show("P_PGID of the other group", waitid(P_PGID, d, &si, WEXITED), &si, d);

    pid_t f = child_exiting(9);
    usleep(50000);
    w = wait4(-getpgrp(), &st, 0, 0);
    printf("wait4(-pgrp): %s exit %d\n", w == f ? "= child" : "?", WEXITSTATUS(st));
    pid_t g = child_exiting(10);
    memset(&si, 0, sizeof si);
    show("P_PGID 0 (mine)", waitid(P_PGID, 0, &si, WEXITED), &si, g);

    /* Errors. */
    show("no WEXITED/WSTOPPED/WCONTINUED", waitid(P_ALL, 0, &si, WNOHANG), &si, 0);
    show("bad option", waitid(P_ALL, 0, &si, WEXITED | 0x100), &si, 0);
    show("bad idtype", waitid((idtype_t)7, 0, &si, WEXITED), &si, 0);
    show("P_PID 0", waitid(P_PID, 0, &si, WEXITED), &si, 0);
    show("P_PID -5", waitid(P_PID, -5, &si, WEXITED), &si, 0);
    show("no children", waitid(P_ALL, 0, &si, WEXITED), &si, 0);
    show("no children, WNOHANG", waitid(P_ALL, 0, &si, WEXITED | WNOHANG), &si, 0);
    pid_t h = child_exiting(1);
    usleep(50000);
    show("bad infop", raw_waitid(P_PID, h, (siginfo_t *)8, WEXITED, 0), &si, 0);
    memset(&si, 0, sizeof si);
    show("still there after EFAULT", waitid(P_PID, h, &si, WEXITED), &si, h);
    errno = 0;
    w = wait4(INT_MIN, &st, 0, 0);
    printf("wait4(INT_MIN): %d %s\n", w, strerrorname_np(errno));
    return 0;
}
