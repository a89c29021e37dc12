/* pgroups: process groups and sessions as Linux keeps them — getpgrp/getpgid/getsid
 * relations (printed as "self", "parent's", "child's", never as numbers), setpgid's
 * rules (EINVAL, ESRCH, EPERM, EACCES after the child's execve), setsid (EPERM for a
 * group leader), and kill(-pgrp) / kill(0) reaching exactly the group's members. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *err(long r) {
    static char b[32];
    if (r >= 0)
        return "ok";
    snprintf(b, sizeof b, "%s", strerrorname_np(errno));
    return b;
}

static volatile sig_atomic_t got;
static void on_usr1(int s) {
    (void)s;
    got = 1;
}

int main(int argc, char **argv) {
    if (argc > 1) { /* the exec'd child: wait to be killed or told */
        pause();
        return 0;
    }
    setvbuf(stdout, 0, _IONBF, 0);
    pid_t me = getpid(), pg = getpgrp();
    printf("leader of its group: %s; getpgid(0) == getpgrp: %s\n", pg == me ? "yes" : "no",
           getpgid(0) == pg ? "yes" : "no");
    /* A pid above PID_MAX_LIMIT names no process, natively or under growsdown. */
    printf("getpgid(no such pid): %s\n", err(getpgid(4194305)));
    printf("setpgid(0, -1): %s\n", err(setpgid(0, -1)));
    printf("setpgid(no such pid, 0): %s\n", err(setpgid(4194305, 0)));
    pid_t sid = setsid();
    printf("setsid: %s, now session and group leader: %s\n", err(sid), getsid(0) == me && getpgrp() == me ? "yes" : "no");
    printf("setsid again: %s\n", err(setsid()));
    printf("setpgid(0, 0) as session leader: %s\n", err(setpgid(0, 0)));

    signal(SIGUSR1, on_usr1);
    int p[2];
    pipe(p);
    pid_t a = fork();
    if (a == 0) { /* child a: its own group */
        close(p[0]);
        setpgid(0, 0);
        write(p[1], "x", 1);
        while (!got)
            pause();
        printf("child a: got SIGUSR1, group is its own: %s\n", getpgrp() == getpid() ? "yes" : "no");
        _exit(0);
    }
    close(p[1]);
    char c;
    read(p[0], &c, 1);
    pid_t b = fork();
    if (b == 0) { /* child b: stays in the parent's group */
        while (!got)
            pause();
        printf("child b: got SIGUSR1, in the parent's group: %s\n", getpgrp() == getppid() ? "yes" : "no");
        _exit(0);
    }
    printf("getpgid(a) is a: %s; getpgid(b) is mine: %s; getsid(a) is mine: %s\n", getpgid(a) == a ? "yes" : "no",
           getpgid(b) == me ? "yes" : "no", getsid(a) == me ? "yes" : "no");
    printf("setpgid(b, a) into a's group: %s\n", err(setpgid(b, a)));
    printf("setpgid(b, me) back: %s\n", err(setpgid(b, me)));
    printf("setpgid(b, 12345) missing group: %s\n", err(setpgid(b, 12345)));
    /* kill(-a): only child a */
    /* Printed after a has exited: a prints when the signal arrives, which may be
     * before or after the parent would otherwise print. */
    long ka = kill(-a, SIGUSR1);
    int st;
    waitpid(a, &st, 0);
    printf("kill(-a, SIGUSR1): %s\n", err(ka));
    printf("a exited %d\n", WEXITSTATUS(st));
    /* kill(0): the caller's group, b and the caller */
    long k0 = kill(0, SIGUSR1);
    waitpid(b, &st, 0);
    printf("kill(0, SIGUSR1): %s\n", err(k0));
    printf("b exited %d, parent got it too: %s\n", WEXITSTATUS(st), got ? "yes" : "no");
    printf("kill(-a) after a is gone: %s\n", err(kill(-a, 0)));

    /* EACCES: a child that has exec'd */
    pid_t e = fork();
    if (e == 0) {
        execl("/proc/self/exe", argv[0], "wait", (char *)0);
        _exit(127);
    }
    usleep(200000);
    printf("setpgid(child after execve, 0): %s\n", err(setpgid(e, 0)));
    kill(e, SIGKILL);
    waitpid(e, &st, 0);
    printf("exec'd child killed by %d\n", WTERMSIG(st));
    return 0;
}
