/* priority: nice values and scheduling policies as a program sees them — nice,
 * getpriority/setpriority for a process, a thread, a process group and a user, the
 * permission rules (RLIMIT_NICE, a more favourable value), the sched_* calls and
 * their errors, inheritance across fork and SCHED_RESET_ON_FORK. Printed relative
 * to the starting nice value, so `nice -n 3` around the run changes nothing. Run
 * as root and as another user, the answers differ the same way natively. Needs a
 * kernel with SCHED_EXT (6.12) for policy 7's range. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int base;

static void say(const char *what, long r) {
    if (r == -1 && errno)
        printf("%s: -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%s: %ld\n", what, r);
}

/* getpriority through the raw call: 20 - nice, never negative. */
static long rawprio(int which, int who) { return syscall(SYS_getpriority, which, who); }

static long rel(long nice) { return nice - base; }

int main(void) {
    setvbuf(stdout, 0, _IONBF, 0);
    int root = geteuid() == 0;
    /* A process group of its own: the caller's group natively holds the shell too. */
    setpgid(0, 0);
    printf("root: %s\n", root ? "yes" : "no");
    errno = 0;
    base = getpriority(PRIO_PROCESS, 0);
    printf("raw getpriority = 20 - nice: %s\n", rawprio(PRIO_PROCESS, 0) == 20 - base ? "yes" : "no");
    struct rlimit rl;
    getrlimit(RLIMIT_NICE, &rl);
    printf("RLIMIT_NICE %ld/%ld, RLIMIT_RTPRIO ", (long)rl.rlim_cur, (long)rl.rlim_max);
    getrlimit(RLIMIT_RTPRIO, &rl);
    printf("%ld/%ld\n", (long)rl.rlim_cur, (long)rl.rlim_max);

    errno = 0;
    say("nice(2) relative", rel(nice(2)));
    errno = 0;
    say("getpriority relative", rel(getpriority(PRIO_PROCESS, 0)));
    errno = 0;
    say("setpriority(self, +5)", setpriority(PRIO_PROCESS, 0, base + 5));
    errno = 0;
    say("getpriority(getpid()) relative", rel(getpriority(PRIO_PROCESS, getpid())));
    errno = 0;
    say("setpriority(self, +100) clamps to 19", setpriority(PRIO_PROCESS, 0, 100));
    errno = 0;
    say("getpriority", getpriority(PRIO_PROCESS, 0));
    errno = 0;
    say("nice(-1) (needs CAP_SYS_NICE here)", nice(-1) == -1 && errno ? -1 : 0);
    errno = 0;
    say("setpriority more favourable", setpriority(PRIO_PROCESS, 0, 10));
    errno = 0;
    say("getpriority after", getpriority(PRIO_PROCESS, 0));
    setpriority(PRIO_PROCESS, 0, 15);

    /* A child inherits; the parent sees the child's change by pid. */
    int up[2], down[2];
    pipe(up);
    pipe(down);
    pid_t c = fork();
    if (c == 0) {
        char b;
        errno = 0;
        printf("child inherits: %d\n", getpriority(PRIO_PROCESS, 0));
        setpriority(PRIO_PROCESS, 0, 17);
        write(up[1], "x", 1);
        read(down[0], &b, 1);
        _exit(0);
    }
    char b;
    read(up[0], &b, 1);
    errno = 0;
    say("child's by pid", getpriority(PRIO_PROCESS, c));
    errno = 0;
    say("PRIO_PGRP 0 (the most favourable of the group)", getpriority(PRIO_PGRP, 0));
    errno = 0;
    long u = getpriority(PRIO_USER, 0);
    /* Natively the user's other processes count too (for root, kernel threads at
     * -20): only the relation is fixed. */
    printf("PRIO_USER 0 no less favourable than mine: %s\n", u <= 15 ? "yes" : "no");
    errno = 0;
    say("setpriority(PRIO_PGRP, 0, 18)", setpriority(PRIO_PGRP, 0, 18));
    errno = 0;
    say("child after PRIO_PGRP", getpriority(PRIO_PROCESS, c));
    write(down[1], "x", 1);
    waitpid(c, 0, 0);
    errno = 0;
    say("getpriority(bad which)", getpriority(7, 0));
    errno = 0;
    say("setpriority(bad which)", setpriority(7, 0, 1));
    errno = 0;
    say("getpriority(no such pid)", getpriority(PRIO_PROCESS, 999999));
    errno = 0;
    say("setpriority(no such pid)", setpriority(PRIO_PROCESS, 999999, 1));
    errno = 0;
    say("getpriority(no such pgrp)", getpriority(PRIO_PGRP, 999999));

    /* sched_* */
    errno = 0;
    say("sched_getscheduler(0)", sched_getscheduler(0));
    struct sched_param sp = {0};
    errno = 0;
    say("sched_getparam(0)", sched_getparam(0, &sp));
    printf("priority %d\n", sp.sched_priority);
    errno = 0;
    say("sched_getparam(NULL)", syscall(SYS_sched_getparam, 0, 0));
    errno = 0;
    say("sched_getparam(bad pointer)", syscall(SYS_sched_getparam, 0, 8));
    errno = 0;
    say("sched_getscheduler(-1)", sched_getscheduler(-1));
    errno = 0;
    say("sched_getscheduler(no such pid)", sched_getscheduler(999999));
    for (int pol = 0; pol <= 7; pol++) {
        errno = 0;
        long mx = sched_get_priority_max(pol);
        int e1 = errno;
        errno = 0;
        long mn = sched_get_priority_min(pol);
        printf("policy %d: max %ld%s min %ld%s\n", pol, mx, e1 ? " EINVAL" : "", mn, errno ? " EINVAL" : "");
    }
    sp.sched_priority = 5;
    errno = 0;
    say("SCHED_OTHER with priority 5", sched_setscheduler(0, SCHED_OTHER, &sp));
    errno = 0;
    say("policy 4", sched_setscheduler(0, 4, &sp));
    sp.sched_priority = 0;
    errno = 0;
    say("SCHED_BATCH", sched_setscheduler(0, SCHED_BATCH, &sp));
    errno = 0;
    say("now", sched_getscheduler(0));
    errno = 0;
    say("SCHED_IDLE", sched_setscheduler(0, SCHED_IDLE, &sp));
    errno = 0;
    say("SCHED_OTHER back (can_nice for nice 15)", sched_setscheduler(0, SCHED_OTHER, &sp));
    sp.sched_priority = 100;
    errno = 0;
    say("SCHED_FIFO 100", sched_setscheduler(0, SCHED_FIFO, &sp));
    sp.sched_priority = 0;
    errno = 0;
    say("SCHED_FIFO 0", sched_setscheduler(0, SCHED_FIFO, &sp));
    sp.sched_priority = 10;
    errno = 0;
    say("SCHED_RR 10 (CAP_SYS_NICE or RLIMIT_RTPRIO)", sched_setscheduler(0, SCHED_RR, &sp));
    errno = 0;
    say("now", sched_getscheduler(0));
    struct timespec ts = {7, 7};
    errno = 0;
    say("sched_rr_get_interval", sched_rr_get_interval(0, &ts));
    printf("interval %s\n", ts.tv_sec == 0 && (ts.tv_nsec == 100000000 || ts.tv_nsec == 0) ? "RR_TIMESLICE or 0" : "other");
    errno = 0;
    say("sched_rr_get_interval(bad pointer)", syscall(SYS_sched_rr_get_interval, 0, 8));
    errno = 0;
    say("sched_rr_get_interval(-1)", syscall(SYS_sched_rr_get_interval, -1, &ts));
    sp.sched_priority = 0;
    errno = 0;
    say("SCHED_OTHER | SCHED_RESET_ON_FORK", sched_setscheduler(0, SCHED_OTHER | SCHED_RESET_ON_FORK, &sp));
    errno = 0;
    say("now", sched_getscheduler(0));
    c = fork();
    if (c == 0) {
        errno = 0;
        printf("child of RESET_ON_FORK: policy %d nice %d\n", sched_getscheduler(0), getpriority(PRIO_PROCESS, 0));
        _exit(0);
    }
    waitpid(c, 0, 0);
    errno = 0;
    say("sched_setparam keeps the policy", sched_setparam(0, &sp));
    errno = 0;
    say("sched_setscheduler(NULL param)", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, 0));
    errno = 0;
    say("sched_setscheduler(-1 policy)", syscall(SYS_sched_setscheduler, 0, -1, &sp));
    return 0;
}
