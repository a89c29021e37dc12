/* exec of host programs (growsdown issue 14): an i386 process that fork+execs the
 * host's /bin/true, /bin/false, /bin/sh -c 'exit 7', a host program killed by
 * SIGKILL (from the guest: kill(2) reaches it) and one that kills itself with
 * SIGTERM, and checks wait4's statuses and rusage, waitid's siginfo, SIGCHLD,
 * posix_spawn, popen("echo hi") reading the host shell's output, and a pipe and a
 * file passed through exec at their descriptor numbers (close-on-exec ones not
 * passed), the working directory, the umask, the signal dispositions and blocked
 * mask as exec leaves them, and an exec from a second thread. Natively these are
 * ordinary x86-64 programs; under growsdown host processes that keep their guest
 * pids. Output is the same either way. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static volatile sig_atomic_t chld_count;
static volatile sig_atomic_t chld_pid;

static void on_chld(int sig, siginfo_t *si, void *uc) {
    (void)sig;
    (void)uc;
    chld_count++;
    chld_pid = si->si_pid;
}

/* A second thread of a process execs a host program while the first blocks in a
 * read: exec ends the other thread and the process keeps its pid (de_thread). */
static int never[2];

static void *exec_from_thread(void *arg) {
    (void)arg;
    char *argv[] = {"sh", "-c", "exit 5", NULL};
    execv("/bin/sh", argv);
    _exit(126);
}

static void describe(const char *what, int st) {
    if (WIFEXITED(st))
        printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        printf("%s: killed by signal %d%s\n", what, WTERMSIG(st), WCOREDUMP(st) ? " (core)" : "");
    else
        printf("%s: status %#x\n", what, st);
}

/* fork + execv(path, argv); returns the child's pid. */
static pid_t run(const char *path, char *const argv[]) {
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        execv(path, argv);
        printf("execv %s: %s\n", path, strerror(errno));
        fflush(stdout);
        _exit(126);
    }
    return p;
}

static void wait_for(const char *what, pid_t p) {
    int st = 0;
    struct rusage ru;
    memset(&ru, 0xff, sizeof ru);
    pid_t w = wait4(p, &st, 0, &ru);
    printf("%s: waited pid == child pid: %s\n", what, w == p ? "yes" : "no");
    describe(what, st);
    printf("%s: rusage times sane: %s\n", what,
           ru.ru_utime.tv_usec >= 0 && ru.ru_utime.tv_usec < 1000000 && ru.ru_stime.tv_usec >= 0 &&
                   ru.ru_stime.tv_usec < 1000000
               ? "yes"
               : "no");
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && strcmp(argv[1], "leave") == 0) {
        /* For crates/kernel/tests/sys_hostexec.rs: exits while a host program it
         * started runs on (a library user's machine kills it). */
        int ex[2];
        if (pipe2(ex, O_CLOEXEC) < 0)
            return 1;
        char *sleep_argv[] = {"sleep", "3600", NULL};
        pid_t p = run("/bin/sleep", sleep_argv);
        close(ex[1]);
        /* End of file once the child's exec has closed its copy. */
        char c;
        printf("started: %s %d\n", p > 0 ? "yes" : "no", (int)read(ex[0], &c, 1));
        return 0;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);

    char *true_argv[] = {"true", NULL};
    char *false_argv[] = {"false", NULL};
    char *exit7_argv[] = {"sh", "-c", "exit 7", NULL};

    chld_count = 0;
    pid_t p = run("/bin/true", true_argv);
    wait_for("true", p);
    printf("true: SIGCHLD seen: %s, from the child: %s\n", chld_count > 0 ? "yes" : "no",
           chld_pid == p ? "yes" : "no");

    wait_for("false", run("/bin/false", false_argv));
    wait_for("sh exit 7", run("/bin/sh", exit7_argv));

    /* A host program the guest kills once it surely runs: cat echoes a line back
     * through a pipe, then blocks reading a pipe nobody writes any more. */
    int hold[2], rdy[2];
    if (pipe(hold) < 0 || pipe(rdy) < 0)
        return 1;
    char *cat_argv[] = {"cat", NULL};
    fflush(stdout);
    p = fork();
    if (p == 0) {
        dup2(hold[0], 0);
        dup2(rdy[1], 1);
        close(hold[0]);
        close(hold[1]);
        close(rdy[0]);
        close(rdy[1]);
        execv("/bin/cat", cat_argv);
        _exit(126);
    }
    close(hold[0]);
    close(rdy[1]);
    if (write(hold[1], "ready\n", 6) != 6)
        return 1;
    char rb[16];
    ssize_t got = read(rdy[0], rb, sizeof rb);
    printf("cat echoed: %d bytes\n", (int)got);
    printf("kill: %d\n", kill(p, SIGKILL));
    wait_for("cat killed", p);
    close(hold[1]);
    close(rdy[0]);

    /* A host program killed by a signal of its own. */
    char *term_argv[] = {"sh", "-c", "kill -TERM $$; sleep 5", NULL};
    wait_for("sh kill -TERM $$", run("/bin/sh", term_argv));

    /* waitid's siginfo for a host child. */
    p = run("/bin/sh", exit7_argv);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r = waitid(P_PID, p, &si, WEXITED);
    printf("waitid: %d signo %d code %s pid == child: %s status %d\n", r, si.si_signo,
           si.si_code == CLD_EXITED ? "CLD_EXITED" : "other", si.si_pid == p ? "yes" : "no", si.si_status);

    /* WNOHANG while it runs, then the status. */
    int go[2];
    if (pipe(go) < 0)
        return 1;
    char *read_argv[] = {"sh", "-c", "read x; exit 3", NULL};
    fflush(stdout);
    p = fork();
    if (p == 0) {
        dup2(go[0], 0);
        close(go[0]);
        close(go[1]);
        execv("/bin/sh", read_argv);
        _exit(126);
    }
    close(go[0]);
    int st = 0;
    printf("WNOHANG while it runs: %d\n", (int)waitpid(p, &st, WNOHANG));
    if (write(go[1], "x\n", 2) != 2)
        return 1;
    close(go[1]);
    printf("WUNTRACED: waited pid == child pid: %s\n", waitpid(p, &st, WUNTRACED) == p ? "yes" : "no");
    describe("sh read; exit 3", st);

    /* posix_spawn. */
    char *echo_argv[] = {"echo", "from posix_spawn", NULL};
    pid_t sp;
    r = posix_spawn(&sp, "/bin/echo", NULL, NULL, echo_argv, environ);
    st = 0;
    waitpid(sp, &st, 0);
    printf("posix_spawn: %d\n", r);
    describe("posix_spawn echo", st);

    /* popen: the C library runs /bin/sh -c, here the host's. */
    FILE *f = popen("echo hi; echo there", "r");
    char line[128];
    while (f && fgets(line, sizeof line, f))
        printf("popen read: %s", line);
    printf("pclose: %#x\n", f ? pclose(f) : -1);

    /* A pipe passed through exec at fd 5, a close-on-exec one not passed, the
     * working directory and the umask. */
    int out[2];
    if (pipe(out) < 0)
        return 1;
    int cloexec = open("/dev/null", O_RDONLY | O_CLOEXEC);
    fflush(stdout);
    p = fork();
    if (p == 0) {
        close(out[0]);
        dup2(out[1], 5);
        close(out[1]);
        dup2(cloexec, 6);
        fcntl(6, F_SETFD, FD_CLOEXEC);
        if (chdir("/usr") < 0)
            _exit(125);
        umask(027);
        char *sh_argv[] = {"sh", "-c",
                           "echo to fd 5 >&5; { [ -e /proc/self/fd/6 ] && echo fd 6 open || echo fd 6 closed; } >&5; "
                           "pwd >&5; umask >&5",
                           NULL};
        execv("/bin/sh", sh_argv);
        _exit(126);
    }
    close(out[1]);
    char buf[512];
    ssize_t n, total = 0;
    while ((n = read(out[0], buf + total, sizeof buf - 1 - total)) > 0)
        total += n;
    buf[total] = 0;
    close(out[0]);
    printf("through fd 5:\n%s", buf);
    wait_for("fd passing", p);

    /* The signal state exec leaves, as the kernel shows it to the new program (a
     * shell would clear its mask itself): grep of /proc/self/status, exec'd directly. */
    if (pipe(out) < 0)
        return 1;
    fflush(stdout);
    p = fork();
    if (p == 0) {
        close(out[0]);
        dup2(out[1], 1);
        close(out[1]);
        /* Whatever the test runner left ignored is default here, natively too: the
           raw call (the kernel's i386 layout: handler, flags, restorer, mask) also
           resets 32 and 33, which glibc's signal() refuses. */
        for (int sig = 1; sig <= 64; sig++)
            if (sig != SIGKILL && sig != SIGSTOP) {
                struct { unsigned long handler, flags, restorer; unsigned long long mask; } dfl = {0, 0, 0, 0};
                syscall(SYS_rt_sigaction, sig, &dfl, NULL, 8);
            }
        signal(SIGUSR1, SIG_IGN);
        sa.sa_sigaction = on_chld;
        sigaction(SIGUSR2, &sa, NULL); /* handled: default after exec */
        sigset_t m;
        sigemptyset(&m);
        sigaddset(&m, SIGTERM);
        sigaddset(&m, SIGRTMIN + 3);
        sigprocmask(SIG_BLOCK, &m, NULL);
        char *grep_argv[] = {"grep", "-E", "^Sig(Blk|Ign|Cgt)", "/proc/self/status", NULL};
        execv("/bin/grep", grep_argv);
        _exit(126);
    }
    close(out[1]);
    total = 0;
    while ((n = read(out[0], buf + total, sizeof buf - 1 - total)) > 0)
        total += n;
    buf[total] = 0;
    close(out[0]);
    printf("signal state after exec:\n%s", buf);
    wait_for("grep", p);

    /* exec from a second thread. */
    if (pipe(never) < 0)
        return 1;
    fflush(stdout);
    p = fork();
    if (p == 0) {
        pthread_t th;
        pthread_create(&th, NULL, exec_from_thread, NULL);
        char c;
        if (read(never[0], &c, 1) < 0)
            _exit(124);
        _exit(125);
    }
    wait_for("exec from a thread", p);
    close(never[0]);
    close(never[1]);

    /* No other child is left. */
    errno = 0;
    pid_t w = wait(NULL);
    int e = errno;
    printf("wait with no child: %d %s\n", (int)w, e == ECHILD ? "ECHILD" : "other");
    return 0;
}
