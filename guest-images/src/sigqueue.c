/* sigqueue / rt_sigqueueinfo / rt_tgsigqueueinfo: values and codes a handler and
 * sigwaitinfo see, the errno cases (EPERM for a forged si_code towards another
 * task, ESRCH, EINVAL, EFAULT), a thread-directed queued signal, and the order of
 * queued real-time signals. Output is relations only (no pids). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *en(int e)
{
    switch (e) {
    case 0: return "0";
    case EPERM: return "EPERM";
    case ESRCH: return "ESRCH";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case EAGAIN: return "EAGAIN";
    default: return "other";
    }
}

static const char *yesno(int b) { return b ? "yes" : "no"; }

static volatile sig_atomic_t got_sig, got_code, got_val, got_pid_self, got_uid_ok, got_pid_raw;

static void handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    got_sig = sig;
    got_code = si->si_code;
    got_val = si->si_value.sival_int;
    got_pid_self = si->si_pid == getpid();
    got_pid_raw = si->si_pid;
    got_uid_ok = si->si_uid == getuid();
}

static long rt_sigqueueinfo(pid_t pid, int sig, siginfo_t *si)
{
    long r = syscall(SYS_rt_sigqueueinfo, pid, sig, si);
    return r < 0 ? -errno : r;
}

static long rt_tgsigqueueinfo(pid_t tgid, pid_t tid, int sig, siginfo_t *si)
{
    long r = syscall(SYS_rt_tgsigqueueinfo, tgid, tid, sig, si);
    return r < 0 ? -errno : r;
}

static void mkinfo(siginfo_t *si, int code, int value)
{
    memset(si, 0, sizeof *si);
    si->si_code = code;
    si->si_pid = getpid();
    si->si_uid = getuid();
    si->si_value.sival_int = value;
}

static pid_t tid_of_thread;
static int pipefd[2];

static char thread_line[200];

static void *thread_main(void *arg)
{
    (void)arg;
    tid_of_thread = gettid();
    char c = 1;
    if (write(pipefd[1], &c, 1) != 1)
        return NULL;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 1);
    siginfo_t si;
    int s = sigwaitinfo(&set, &si);
    /* Printed by main after the join: printing here would race with main's line. */
    snprintf(thread_line, sizeof thread_line, "thread: sigwaitinfo %s, code SI_QUEUE %s, value %d, pid ours %s\n",
             yesno(s == SIGRTMIN + 1), yesno(si.si_code == SI_QUEUE), si.si_value.sival_int,
             yesno(si.si_pid == getpid()));
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGRTMIN, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);

    /* 1. sigqueue to self: the handler sees SI_QUEUE, the value, our pid and uid. */
    union sigval v = {.sival_int = 42};
    int r = sigqueue(getpid(), SIGRTMIN, v);
    printf("sigqueue self: %d, handler sig RTMIN %s, code SI_QUEUE %s, value %d, pid ours %s, uid ours %s\n", r,
           yesno(got_sig == SIGRTMIN), yesno(got_code == SI_QUEUE), (int)got_val, yesno(got_pid_self), yesno(got_uid_ok));

    /* 2. rt_sigqueueinfo to self with a kernel si_code (>= 0) is allowed, and the
     * info arrives as given. */
    siginfo_t si;
    mkinfo(&si, SI_USER, 0);
    si.si_pid = 12345;
    got_sig = 0;
    long rr = rt_sigqueueinfo(getpid(), SIGUSR1, &si);
    printf("rt_sigqueueinfo self SI_USER: %s, handler %s, code 0 %s, forged pid kept %s\n", en((int)-rr),
           yesno(got_sig == SIGUSR1), yesno(got_code == 0), yesno(got_pid_raw == 12345));
    mkinfo(&si, SI_KERNEL, 0);
    got_sig = 0;
    rr = rt_sigqueueinfo(getpid(), SIGUSR1, &si);
    printf("rt_sigqueueinfo self SI_KERNEL: %s, handler %s, code SI_KERNEL %s\n", en((int)-rr), yesno(got_sig == SIGUSR1),
           yesno(got_code == SI_KERNEL));

    /* 3. Queued real-time signals: lowest number first, each instance in order,
     * with its value; a standard signal is not queued twice. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN);
    sigaddset(&set, SIGRTMIN + 2);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, &old);
    int vals[4][2] = {{2, 1}, {0, 2}, {0, 3}, {2, 4}};
    for (int i = 0; i < 4; i++) {
        union sigval w = {.sival_int = vals[i][1]};
        sigqueue(getpid(), SIGRTMIN + vals[i][0], w);
    }
    union sigval u1 = {.sival_int = 100}, u2 = {.sival_int = 200};
    sigqueue(getpid(), SIGUSR2, u1);
    sigqueue(getpid(), SIGUSR2, u2);
    for (int i = 0; i < 6; i++) {
        struct timespec zero = {0, 0};
        siginfo_t w;
        int s = sigtimedwait(&set, &w, &zero);
        if (s < 0) {
            printf("sigtimedwait %d: %s\n", i, en(errno));
            continue;
        }
        const char *name = s == SIGUSR2 ? "USR2" : s == SIGRTMIN ? "RTMIN" : "RTMIN+2";
        printf("sigtimedwait %d: %s value %d code SI_QUEUE %s\n", i, name, w.si_value.sival_int,
               yesno(w.si_code == SI_QUEUE));
    }
    sigprocmask(SIG_SETMASK, &old, NULL);

    /* 4. To a child: sigwaitinfo there reads the value and our pid; a forged
     * si_code (>= 0, or SI_TKILL) towards it is EPERM. */
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    if (pipe(pipefd) != 0)
        return 1;
    pid_t child = fork();
    if (child == 0) {
        siginfo_t w;
        int s = sigwaitinfo(&set, &w);
        printf("child: sigwaitinfo USR1 %s, value %d, code SI_QUEUE %s, pid parent %s\n", yesno(s == SIGUSR1),
               w.si_value.sival_int, yesno(w.si_code == SI_QUEUE), yesno(w.si_pid == getppid()));
        _exit(0);
    }
    mkinfo(&si, SI_USER, 1);
    printf("rt_sigqueueinfo child SI_USER: %s\n", en((int)-rt_sigqueueinfo(child, SIGUSR1, &si)));
    mkinfo(&si, SI_TKILL, 1);
    printf("rt_sigqueueinfo child SI_TKILL: %s\n", en((int)-rt_sigqueueinfo(child, SIGUSR1, &si)));
    mkinfo(&si, SI_KERNEL, 1);
    printf("rt_sigqueueinfo child SI_KERNEL: %s\n", en((int)-rt_sigqueueinfo(child, SIGUSR1, &si)));
    mkinfo(&si, SI_QUEUE, 1);
    printf("rt_sigqueueinfo child sig 0: %s\n", en((int)-rt_sigqueueinfo(child, 0, &si)));
    union sigval cv = {.sival_int = 77};
    r = sigqueue(child, SIGUSR1, cv);
    int st;
    pid_t w = waitpid(child, &st, 0);
    printf("sigqueue child: %d, waited %s, exit %d\n", r, yesno(w == child), WEXITSTATUS(st));
    sigprocmask(SIG_SETMASK, &old, NULL);

    /* 5. The errno cases, in the kernel's order. */
    mkinfo(&si, SI_QUEUE, 0);
    printf("gone pid: %s\n", en((int)-rt_sigqueueinfo(child, SIGUSR1, &si)));
    printf("gone pid, sig 65: %s\n", en((int)-rt_sigqueueinfo(child, 65, &si)));
    printf("self, sig 65: %s\n", en((int)-rt_sigqueueinfo(getpid(), 65, &si)));
    printf("self, sig -1: %s\n", en((int)-rt_sigqueueinfo(getpid(), -1, &si)));
    printf("pid 0: %s\n", en((int)-rt_sigqueueinfo(0, SIGUSR1, &si)));
    printf("pid -1: %s\n", en((int)-rt_sigqueueinfo(-1, SIGUSR1, &si)));
    printf("pid 0 SI_USER: %s\n", en((int)-rt_sigqueueinfo(0, SIGUSR1, &(siginfo_t){.si_code = SI_USER})));
    printf("bad pointer: %s\n", en((int)-rt_sigqueueinfo(getpid(), SIGUSR1, (siginfo_t *)16)));
    printf("self sig 0: %s\n", en((int)-rt_sigqueueinfo(getpid(), 0, &si)));

    /* 6. rt_tgsigqueueinfo to a thread that waits for it. */
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 1);
    sigprocmask(SIG_BLOCK, &set, &old);
    pthread_t th;
    pthread_create(&th, NULL, thread_main, NULL);
    char c;
    if (read(pipefd[0], &c, 1) != 1)
        return 1;
    mkinfo(&si, SI_USER, 5);
    printf("tgsigqueueinfo thread SI_USER: %s\n",
           en((int)-rt_tgsigqueueinfo(getpid(), tid_of_thread, SIGRTMIN + 1, &si)));
    mkinfo(&si, SI_TKILL, 5);
    printf("tgsigqueueinfo thread SI_TKILL: %s\n",
           en((int)-rt_tgsigqueueinfo(getpid(), tid_of_thread, SIGRTMIN + 1, &si)));
    mkinfo(&si, SI_QUEUE, 5);
    printf("tgsigqueueinfo tid 0: %s\n", en((int)-rt_tgsigqueueinfo(getpid(), 0, SIGRTMIN + 1, &si)));
    printf("tgsigqueueinfo tgid 0: %s\n", en((int)-rt_tgsigqueueinfo(0, tid_of_thread, SIGRTMIN + 1, &si)));
    printf("tgsigqueueinfo wrong tgid: %s\n", en((int)-rt_tgsigqueueinfo(child, tid_of_thread, SIGRTMIN + 1, &si)));
    printf("tgsigqueueinfo sig 65: %s\n", en((int)-rt_tgsigqueueinfo(getpid(), tid_of_thread, 65, &si)));
    printf("tgsigqueueinfo bad pointer: %s\n",
           en((int)-rt_tgsigqueueinfo(getpid(), tid_of_thread, SIGRTMIN + 1, (siginfo_t *)16)));
    si.si_value.sival_int = 99;
    printf("tgsigqueueinfo thread: %s\n", en((int)-rt_tgsigqueueinfo(getpid(), tid_of_thread, SIGRTMIN + 1, &si)));
    pthread_join(th, NULL);
    fputs(thread_line, stdout);
    /* pthread_join returns when the kernel clears the tid (mm_release), a moment
       before the thread is gone (exit_notify): wait for that, natively too. */
    for (int i = 0; i < 1000 && syscall(SYS_tgkill, getpid(), tid_of_thread, 0) == 0; i++)
        usleep(1000);
    printf("tgsigqueueinfo gone thread: %s\n",
           en((int)-rt_tgsigqueueinfo(getpid(), tid_of_thread, SIGRTMIN + 1, &si)));
    /* To the caller itself, a kernel si_code is allowed. */
    sigprocmask(SIG_SETMASK, &old, NULL);
    mkinfo(&si, SI_USER, 0);
    got_sig = 0;
    rr = rt_tgsigqueueinfo(getpid(), gettid(), SIGUSR1, &si);
    printf("tgsigqueueinfo self SI_USER: %s, handler %s\n", en((int)-rr), yesno(got_sig == SIGUSR1));
    return 0;
}
