/* threads-signals: signals in a thread group — pthread_kill and tkill run the handler
 * in the target thread; a process-directed kill() goes to the one thread that does
 * not block the signal; masks are per thread and inherited at creation; sigwaitinfo
 * in a thread takes a pthread_kill'ed signal (SI_TKILL, our pid); tgkill with a tgid
 * that is not the thread's gives ESRCH (EINVAL for a tgid or tid <= 0, ESRCH once the
 * thread is gone); a signal blocked in every thread stays pending for the process
 * until a thread unblocks it, and is then handled by that thread. The main thread
 * prints everything; no pids or tids are printed, only comparisons. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *ee(long r) { return r < 0 ? strerrorname_np(errno) : "0"; }
static const char *yesno(int c) { return c ? "yes" : "no"; }
static int gettid_(void) { return (int)syscall(SYS_gettid); }

static volatile int h1_n, h1_tid[4], h2_n, h2_tid;
static pthread_t h1_self[4];
static void on_usr1(int s) {
    (void)s;
    int i = h1_n;
    if (i < 4) {
        h1_tid[i] = gettid_();
        h1_self[i] = pthread_self();
    }
    h1_n = i + 1;
}
static void on_usr2(int s) {
    (void)s;
    h2_tid = gettid_();
    h2_n++;
}

static sem_t ready, go;
static volatile int ttid[4];
static pthread_t tself[4];

static void *usr1_target(void *a) {
    (void)a;
    sigset_t s, wait_mask;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &s, &wait_mask);
    sigdelset(&wait_mask, SIGUSR1);
    ttid[0] = gettid_();
    tself[0] = pthread_self();
    sem_post(&ready);
    while (h1_n < 2)
        sigsuspend(&wait_mask);
    return NULL;
}

static void *usr2_blocker(void *a) { /* inherits SIGUSR2 blocked from main */
    ttid[(long)a] = gettid_();
    sem_post(&ready);
    sem_wait(&go);
    return NULL;
}
static void *usr2_taker(void *a) {
    sigset_t none;
    sigemptyset(&none);
    ttid[(long)a] = gettid_();
    sem_post(&ready);
    while (h2_n == 0)
        sigsuspend(&none);
    return NULL;
}

static int inh_hup, own_winch, own_hup;
static void *mask_changer(void *a) {
    (void)a;
    sigset_t s, cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    inh_hup = sigismember(&cur, SIGHUP);
    sigemptyset(&s);
    sigaddset(&s, SIGWINCH);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    sigemptyset(&s);
    sigaddset(&s, SIGHUP);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    own_winch = sigismember(&cur, SIGWINCH);
    own_hup = sigismember(&cur, SIGHUP);
    return NULL;
}

static int sw_ret, sw_signo, sw_code, sw_pid_ours;
static void *waiter(void *a) {
    (void)a;
    sigset_t s;
    siginfo_t si;
    sigemptyset(&s);
    sigaddset(&s, SIGTERM);
    sw_ret = sigwaitinfo(&s, &si);
    sw_signo = si.si_signo;
    sw_code = si.si_code;
    sw_pid_ours = si.si_pid == getpid();
    return NULL;
}

static int p_pending_before, p_handled_in_unblock;
static void *unblocker(void *a) {
    (void)a;
    sigset_t s;
    ttid[3] = gettid_();
    sem_post(&ready);
    sem_wait(&go);
    sigpending(&s);
    p_pending_before = sigismember(&s, SIGUSR2);
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL); /* the handler runs before this returns */
    p_handled_in_unblock = h2_n == 1;
    return NULL;
}

int main(void) {
    setvbuf(stdout, 0, _IONBF, 0);
    signal(SIGUSR1, on_usr1);
    signal(SIGUSR2, on_usr2);
    sem_init(&ready, 0, 0);
    sem_init(&go, 0, 0);
    pthread_t t[4];

    pthread_create(&t[0], NULL, usr1_target, NULL);
    sem_wait(&ready);
    printf("pthread_kill SIGUSR1: %d\n", pthread_kill(t[0], SIGUSR1));
    while (h1_n < 1)
        sched_yield();
    printf("tkill SIGUSR1: %s\n", ee(syscall(SYS_tkill, ttid[0], SIGUSR1)));
    pthread_join(t[0], NULL);
    printf("handler calls %d; pthread_kill's ran in target: %s (pthread_self %s); tkill's ran in target: %s\n", h1_n,
           yesno(h1_tid[0] == ttid[0]), yesno(pthread_equal(h1_self[0], t[0])), yesno(h1_tid[1] == ttid[0]));

    sigset_t s, cur;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    pthread_create(&t[0], NULL, usr2_blocker, (void *)0);
    pthread_create(&t[1], NULL, usr2_blocker, (void *)1);
    pthread_create(&t[2], NULL, usr2_taker, (void *)2);
    for (int i = 0; i < 3; i++)
        sem_wait(&ready);
    printf("kill(getpid(), SIGUSR2): %s\n", ee(kill(getpid(), SIGUSR2)));
    pthread_join(t[2], NULL);
    sem_post(&go);
    sem_post(&go);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    printf("process-directed SIGUSR2: handled %d time(s), by the thread not blocking it: %s\n", h2_n,
           yesno(h2_tid == ttid[2]));

    sigemptyset(&s);
    sigaddset(&s, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    pthread_create(&t[0], NULL, mask_changer, NULL);
    pthread_join(t[0], NULL);
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    printf("thread: inherited SIGHUP blocked %s, after its changes SIGWINCH blocked %s, SIGHUP blocked %s\n",
           yesno(inh_hup), yesno(own_winch), yesno(own_hup));
    printf("main after: SIGWINCH blocked %s, SIGHUP blocked %s, SIGUSR2 blocked %s\n", yesno(sigismember(&cur, SIGWINCH)),
           yesno(sigismember(&cur, SIGHUP)), yesno(sigismember(&cur, SIGUSR2)));

    sigemptyset(&s);
    sigaddset(&s, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    pthread_create(&t[0], NULL, waiter, NULL);
    printf("pthread_kill SIGTERM to the sigwaitinfo thread: %d\n", pthread_kill(t[0], SIGTERM));
    pthread_join(t[0], NULL);
    sigpending(&cur);
    /* si_code: SI_TKILL from older kernels, SI_USER from this host's 6.18; either passes. */
    printf("sigwaitinfo: returned %s, si_signo %s, si_code SI_TKILL or SI_USER %s, si_pid ours %s; SIGTERM pending "
           "in main: %s\n",
           sw_ret == SIGTERM ? "SIGTERM" : "?", sw_signo == SIGTERM ? "SIGTERM" : "?",
           yesno(sw_code == SI_TKILL || sw_code == SI_USER), yesno(sw_pid_ours), yesno(sigismember(&cur, SIGTERM)));

    pthread_create(&t[0], NULL, usr2_blocker, (void *)1);
    sem_wait(&ready);
    int tid = ttid[1], pid = getpid();
    printf("tgkill(pid, tid, 0): %s\n", ee(syscall(SYS_tgkill, pid, tid, 0)));
    printf("tgkill(tid, tid, SIGUSR1) (tid is not a tgid): %s\n", ee(syscall(SYS_tgkill, tid, tid, SIGUSR1)));
    printf("tgkill(1, tid, SIGUSR1): %s\n", ee(syscall(SYS_tgkill, 1, tid, SIGUSR1)));
    printf("tgkill(0, tid, 0): %s\n", ee(syscall(SYS_tgkill, 0, tid, 0)));
    printf("tgkill(pid, -1, 0): %s\n", ee(syscall(SYS_tgkill, pid, -1, 0)));
    printf("tgkill(pid, tid, 65): %s\n", ee(syscall(SYS_tgkill, pid, tid, 65)));
    printf("tkill(0, 0): %s\n", ee(syscall(SYS_tkill, 0, 0)));
    sem_post(&go);
    pthread_join(t[0], NULL);
    /* pthread_join returns once the kernel clears the tid; the task may take a
       moment more to go away. */
    long r = 0;
    for (int i = 0; i < 100000 && r == 0; i++)
        if ((r = syscall(SYS_tgkill, pid, tid, 0)) == 0)
            sched_yield();
    printf("tgkill after the thread is gone: %s\n", ee(r));
    printf("handler calls after the tgkill errors: SIGUSR1 %d\n", h1_n);

    h2_n = 0;
    pthread_create(&t[0], NULL, unblocker, NULL);
    sem_wait(&ready);
    printf("kill(getpid(), SIGUSR2) with every thread blocking it: %s\n", ee(kill(getpid(), SIGUSR2)));
    sigpending(&cur);
    printf("pending in main: %s, handled yet: %s\n", yesno(sigismember(&cur, SIGUSR2)), yesno(h2_n != 0));
    sem_post(&go);
    pthread_join(t[0], NULL);
    sigpending(&cur);
    printf("thread saw it pending %s, handled on unblocking %s, in that thread %s; pending in main after: %s\n",
           yesno(p_pending_before), yesno(p_handled_in_unblock), yesno(h2_tid == ttid[3]), yesno(sigismember(&cur, SIGUSR2)));
    return 0;
}
