/* alarm, setitimer/getitimer, POSIX timers and timerfd: expiry, reload, old
 * values and every errno case. Output is deterministic: no times are printed,
 * only counts and comparisons. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static volatile int alrm, vt, rt, rt_value, rt_code, rt_timerid;

static void on_alrm(int s) { (void)s; alrm++; }
static void on_vt(int s) { (void)s; vt++; }
static void on_rt(int s, siginfo_t *si, void *uc) {
    (void)s; (void)uc;
    rt++;
    rt_value = si->si_value.sival_int;
    rt_code = si->si_code;
    rt_timerid = si->si_timerid;
}

static void check(const char *what, long r) {
    int e = errno;
    printf("%s: %s\n", what, r < 0 ? strerror(e) : "ok");
}

static void ms_sleep(int ms) {
    struct timespec ts = {0, ms * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGALRM, on_alrm);
    signal(SIGVTALRM, on_vt);

    /* alarm(1); pause() */
    unsigned left = alarm(1);
    printf("alarm(1) returned %u\n", left);
    int r = pause();
    int e = errno;
    printf("pause: %d %s, alarms %d\n", r, strerror(e), alrm);
    alarm(5);
    left = alarm(0);
    printf("alarm(0) after alarm(5): %u\n", left);

    /* ITIMER_REAL ticking 5 times every 20 ms */
    struct itimerval it = {{0, 20000}, {0, 20000}}, old;
    alrm = 0;
    check("setitimer real", setitimer(ITIMER_REAL, &it, NULL));
    while (alrm < 5)
        pause();
    struct itimerval cur;
    getitimer(ITIMER_REAL, &cur);
    printf("real ticks %d, interval %ld.%06ld\n", alrm, (long)cur.it_interval.tv_sec, (long)cur.it_interval.tv_usec);
    memset(&it, 0, sizeof it);
    check("setitimer real off", setitimer(ITIMER_REAL, &it, &old));
    printf("old interval %ld usec, value armed %d\n", (long)old.it_interval.tv_usec,
           old.it_value.tv_sec != 0 || old.it_value.tv_usec != 0);
    getitimer(ITIMER_REAL, &cur);
    printf("after off: %ld %ld\n", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_usec);

    /* ITIMER_VIRTUAL: 3 ticks of 10 ms of CPU time while spinning */
    struct itimerval v = {{0, 10000}, {0, 10000}};
    check("setitimer virtual", setitimer(ITIMER_VIRTUAL, &v, NULL));
    while (vt < 3) {}
    memset(&v, 0, sizeof v);
    setitimer(ITIMER_VIRTUAL, &v, NULL);
    printf("virtual ticks %d\n", vt);

    /* setitimer / getitimer errors */
    struct itimerval bad = {{0, 0}, {0, 1000000}};
    errno = 0; check("setitimer usec 1000000", setitimer(ITIMER_REAL, &bad, NULL));
    bad.it_value.tv_usec = -1;
    errno = 0; check("setitimer usec -1", setitimer(ITIMER_REAL, &bad, NULL));
    bad.it_value.tv_usec = 0; bad.it_value.tv_sec = -1;
    errno = 0; check("setitimer sec -1", setitimer(ITIMER_REAL, &bad, NULL));
    errno = 0; check("setitimer which 3", syscall(SYS_setitimer, 3, &it, NULL));
    errno = 0; check("setitimer new EFAULT", syscall(SYS_setitimer, ITIMER_REAL, (void *)1, NULL));
    errno = 0; check("setitimer old EFAULT", syscall(SYS_setitimer, ITIMER_REAL, &it, (void *)1));
    errno = 0; check("setitimer NULL new", syscall(SYS_setitimer, ITIMER_REAL, NULL, NULL));
    errno = 0; check("getitimer which 3", syscall(SYS_getitimer, 3, &cur));
    errno = 0; check("getitimer EFAULT", syscall(SYS_getitimer, ITIMER_REAL, (void *)1));

    /* POSIX timer, SIGEV_SIGNAL with a value */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_rt;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGRTMIN, &sa, NULL);
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGRTMIN;
    sev.sigev_value.sival_int = 4242;
    timer_t t1, t2, t3;
    check("timer_create signal", timer_create(CLOCK_MONOTONIC, &sev, &t1));
    printf("first timer id %ld\n", (long)(intptr_t)t1);
    struct itimerspec its = {{0, 0}, {0, 20000000}}, oits;
    check("timer_settime", timer_settime(t1, 0, &its, NULL));
    while (rt < 1)
        pause();
    int kid = (int)(intptr_t)t1;
    printf("rt %d value %d code SI_TIMER %d timerid matches %d\n", rt, rt_value, rt_code == SI_TIMER, rt_timerid == kid);

    /* TIMER_ABSTIME */
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    its.it_value = now;
    its.it_value.tv_nsec += 20000000;
    if (its.it_value.tv_nsec >= 1000000000) { its.it_value.tv_nsec -= 1000000000; its.it_value.tv_sec++; }
    check("timer_settime abstime", timer_settime(t1, TIMER_ABSTIME, &its, NULL));
    while (rt < 2)
        pause();
    printf("rt after abstime %d\n", rt);

    /* SIGEV_NONE: gettime counts down, interval shown */
    sev.sigev_notify = SIGEV_NONE;
    check("timer_create none", timer_create(CLOCK_REALTIME, &sev, &t2));
    printf("second timer id %ld\n", (long)(intptr_t)t2);
    struct itimerspec nits = {{1, 0}, {10, 0}};
    timer_settime(t2, 0, &nits, NULL);
    struct itimerspec g;
    timer_gettime(t2, &g);
    printf("none: value <= 10s %d > 9s %d interval %ld\n", g.it_value.tv_sec < 10 || (g.it_value.tv_sec == 10 && g.it_value.tv_nsec == 0),
           g.it_value.tv_sec >= 9, (long)g.it_interval.tv_sec);
    memset(&nits, 0, sizeof nits);
    timer_settime(t2, 0, &nits, &oits);
    printf("old interval %ld, old value armed %d\n", (long)oits.it_interval.tv_sec, oits.it_value.tv_sec >= 9);

    /* overrun: the signal blocked while a 5 ms interval timer runs 100 ms */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN);
    sigprocmask(SIG_BLOCK, &set, NULL);
    sev.sigev_notify = SIGEV_SIGNAL;
    timer_create(CLOCK_MONOTONIC, &sev, &t3);
    struct itimerspec ov = {{0, 5000000}, {0, 5000000}};
    timer_settime(t3, 0, &ov, NULL);
    ms_sleep(100);
    int before = rt;
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    int after = rt;
    int over = timer_getoverrun(t3);
    memset(&ov, 0, sizeof ov);
    timer_settime(t3, 0, &ov, NULL);
    printf("overrun: one signal %d, overrun >= 5 %d\n", after - before, over >= 5);

    /* POSIX timer errors */
    errno = 0; check("timer_create bad clock", timer_create(99, &sev, &t3));
    errno = 0; check("timer_create MONOTONIC_RAW", timer_create(CLOCK_MONOTONIC_RAW, &sev, &t3));
    sev.sigev_notify = 77;
    errno = 0; check("timer_create bad notify", timer_create(CLOCK_MONOTONIC, &sev, &t3));
    sev.sigev_notify = SIGEV_SIGNAL; sev.sigev_signo = 65;
    errno = 0; check("timer_create signo 65", timer_create(CLOCK_MONOTONIC, &sev, &t3));
    sev.sigev_signo = SIGRTMIN; sev.sigev_notify = SIGEV_THREAD_ID; sev._sigev_un._tid = 999999;
    errno = 0; check("timer_create bad tid", timer_create(CLOCK_MONOTONIC, &sev, &t3));
    errno = 0; check("timer_create sevp EFAULT", syscall(SYS_timer_create, CLOCK_MONOTONIC, (void *)1, &kid));
    errno = 0; check("timer_create id EFAULT", syscall(SYS_timer_create, CLOCK_MONOTONIC, NULL, (void *)1));
    its.it_value.tv_nsec = 1000000000;
    errno = 0; check("timer_settime nsec 1e9", timer_settime(t1, 0, &its, NULL));
    its.it_value.tv_nsec = 0;
    errno = 0; check("timer_settime bad id", syscall(SYS_timer_settime, 12345, 0, &its, NULL));
    errno = 0; check("timer_settime NULL", syscall(SYS_timer_settime, kid, 0, NULL, NULL));
    errno = 0; check("timer_settime EFAULT", syscall(SYS_timer_settime, kid, 0, (void *)1, NULL));
    errno = 0; check("timer_gettime bad id", syscall(SYS_timer_gettime, 12345, &g));
    errno = 0; check("timer_gettime EFAULT", syscall(SYS_timer_gettime, kid, (void *)1));
    errno = 0; check("timer_getoverrun bad id", syscall(SYS_timer_getoverrun, 12345));
    check("timer_delete", timer_delete(t1));
    errno = 0; check("timer_delete again", syscall(SYS_timer_delete, kid));

    /* timerfd: 3 expiries of 10 ms, read count, poll */
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    check("timerfd_create", fd);
    struct itimerspec fits = {{0, 10000000}, {0, 10000000}};
    check("timerfd_settime", timerfd_settime(fd, 0, &fits, NULL));
    uint64_t n, total = 0;
    while (total < 3) {
        if (read(fd, &n, sizeof n) != sizeof n) { printf("read failed\n"); break; }
        total += n;
    }
    printf("timerfd expiries >= 3: %d\n", total >= 3);
    struct pollfd pfd = {fd, POLLIN, 0};
    int pr = poll(&pfd, 1, 1000);
    printf("poll %d revents POLLIN %d\n", pr, (pfd.revents & POLLIN) != 0);
    memset(&fits, 0, sizeof fits);
    timerfd_settime(fd, 0, &fits, NULL);
    timerfd_gettime(fd, &g);
    printf("timerfd disarmed: %ld %ld\n", (long)g.it_value.tv_sec, g.it_value.tv_nsec);
    int nb = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
    errno = 0;
    long rr = read(nb, &n, sizeof n);
    printf("nonblocking read: %ld %s\n", rr, strerror(errno));
    errno = 0; check("timerfd_create bad clock", timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0));
    errno = 0; check("timerfd_create bad flags", timerfd_create(CLOCK_MONOTONIC, 1));
    errno = 0; check("timerfd_settime bad flags", timerfd_settime(fd, 4, &fits, NULL));
    errno = 0; check("timerfd_settime EFAULT", syscall(SYS_timerfd_settime, fd, 0, (void *)1, NULL));
    fits.it_value.tv_nsec = -1;
    errno = 0; check("timerfd_settime nsec -1", timerfd_settime(fd, 0, &fits, NULL));
    fits.it_value.tv_nsec = 0;
    errno = 0; check("timerfd_settime EBADF", timerfd_settime(99, 0, &fits, NULL));
    errno = 0; check("timerfd_settime not timerfd", timerfd_settime(1, 0, &fits, NULL));
    errno = 0; check("timerfd_gettime EFAULT", syscall(SYS_timerfd_gettime, fd, (void *)1));
    errno = 0; check("timerfd_settime cancel_on_set", timerfd_settime(nb, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &fits, NULL));
    printf("done\n");
    return 0;
}
