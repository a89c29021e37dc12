/* procs: several processes under growsdown — fork, vfork, posix_spawn, execve, exit
 * and wait4, SIGCHLD, kill between processes, pipes between processes, sleeping.
 *
 *   procs NAME      runs one case; `procs list` names them
 *
 * Output is written with write(2) (no stdio buffers to duplicate across fork) and
 * never contains a pid, an address or a time, so a native run prints the same. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void out(const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 1) n = sizeof buf - 1;
    for (int done = 0; done < n;) {
        int w = write(1, buf + done, n - done);
        if (w <= 0) return;
        done += w;
    }
}

static const char *self_exe = "/proc/self/exe";

static void describe(const char *what, int st) {
    if (WIFEXITED(st))
        out("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        out("%s: killed by signal %d%s\n", what, WTERMSIG(st), WCOREDUMP(st) ? " (core)" : "");
    else
        out("%s: status 0x%x\n", what, st);
}

static void msleep(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* ---- exit statuses through wait4 ---- */
static void c_wait_status(void) {
    int codes[] = {0, 7, 255, 256 + 3};
    pid_t pids[4];
    for (int i = 0; i < 4; i++) {
        pids[i] = fork();
        if (pids[i] == 0) _exit(codes[i]);
    }
    /* Reaped in reverse order of creation, by pid. */
    for (int i = 3; i >= 0; i--) {
        int st = 0;
        pid_t r = waitpid(pids[i], &st, 0);
        char what[64];
        snprintf(what, sizeof what, "child exit(%d) reaped=%s", codes[i], r == pids[i] ? "yes" : "no");
        describe(what, st);
    }
    /* A child killed by a signal it does not handle. */
    pid_t p = fork();
    if (p == 0) {
        *(volatile int *)0 = 1;
        _exit(0);
    }
    int st;
    waitpid(p, &st, 0);
    describe("child writing to NULL", st);
    errno = 0;
    pid_t r = waitpid(-1, &st, 0);
    out("no children left: waitpid=%d errno=%s\n", r, errno == ECHILD ? "ECHILD" : strerror(errno));
    r = waitpid(-1, &st, WNOHANG);
    out("WNOHANG without children: %d errno=%s\n", r, errno == ECHILD ? "ECHILD" : strerror(errno));
    errno = 0;
    r = waitpid(-1, &st, 0x100);
    out("bad options: %d errno=%s\n", r, errno == EINVAL ? "EINVAL" : strerror(errno));
}

/* ---- a pipe between parent and child, the reader first ---- */
#define BIG (200 * 1024) /* more than a pipe holds: the writer must wait too */

static unsigned sum_bytes(const unsigned char *b, size_t n, unsigned s) {
    for (size_t i = 0; i < n; i++) s = s * 31 + b[i];
    return s;
}

static void fill(unsigned char *b, size_t n, size_t off) {
    for (size_t i = 0; i < n; i++) b[i] = (unsigned char)((off + i) * 7 + (off + i) / 251);
}

static void write_big(int fd) {
    static unsigned char buf[8192];
    size_t off = 0;
    while (off < BIG) {
        size_t n = BIG - off < sizeof buf ? BIG - off : sizeof buf;
        fill(buf, n, off);
        size_t done = 0;
        while (done < n) {
            ssize_t w = write(fd, buf + done, n - done);
            if (w <= 0) _exit(9);
            done += w;
        }
        off += n;
    }
}

static void read_big(int fd, const char *who) {
    static unsigned char buf[5000];
    size_t total = 0;
    unsigned s = 0;
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0) {
        s = sum_bytes(buf, r, s);
        total += r;
    }
    static unsigned char ref[BIG];
    fill(ref, BIG, 0);
    out("%s read %zu bytes, %s, then EOF (%zd)\n", who, total,
        total == BIG && s == sum_bytes(ref, BIG, 0) ? "checksum ok" : "checksum BAD", r);
}

static void c_pipe(void) {
    int p[2];
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        write_big(p[1]);
        _exit(0);
    }
    close(p[1]);
    read_big(p[0], "parent"); /* the parent runs first and reads before anything is written */
    int st;
    waitpid(pid, &st, 0);
    describe("writer child", st);

    pipe(p);
    pid = fork();
    if (pid == 0) {
        close(p[1]);
        read_big(p[0], "child");
        _exit(0);
    }
    close(p[0]);
    write_big(p[1]);
    close(p[1]);
    waitpid(pid, &st, 0);
    describe("reader child", st);

    /* A reader gone: the writer gets SIGPIPE (or EPIPE when it ignores it). */
    pipe(p);
    pid = fork();
    if (pid == 0) _exit(0);
    close(p[0]);
    waitpid(pid, &st, 0);
    signal(SIGPIPE, SIG_IGN);
    errno = 0;
    ssize_t w = write(p[1], "x", 1);
    out("write with no reader: %zd %s\n", w, errno == EPIPE ? "EPIPE" : strerror(errno));
    signal(SIGPIPE, SIG_DFL);
    close(p[1]);
    pipe(p);
    pid = fork();
    if (pid == 0) {
        close(p[0]);
        msleep(50); /* the parent closes its read end meanwhile */
        write(p[1], "x", 1);
        _exit(0);
    }
    close(p[0]);
    close(p[1]);
    waitpid(pid, &st, 0);
    describe("child writing to a closed pipe", st);
}

/* ---- execve ---- */
static void c_exec_child(int argc, char **argv) {
    out("exec'd: argc=%d", argc);
    for (int i = 1; i < argc; i++) out(" [%s]", strncmp(argv[i], "/tmp/procs-", 11) ? argv[i] : "(script)");
    out(" env=%s\n", getenv("PROCS_ENV") ? getenv("PROCS_ENV") : "(none)");
    if (!getenv("PROCS_ENV") || strcmp(getenv("PROCS_ENV"), "from-parent") != 0) exit(5);
    struct sigaction sa;
    sigaction(SIGUSR1, NULL, &sa);
    out("exec'd: SIGUSR1 %s, ", sa.sa_handler == SIG_DFL ? "SIG_DFL" : "not reset");
    sigaction(SIGUSR2, NULL, &sa);
    out("SIGUSR2 %s\n", sa.sa_handler == SIG_IGN ? "SIG_IGN" : "not kept");
    out("exec'd: fd 10 %s, fd 11 %s\n", fcntl(10, F_GETFD) < 0 && errno == EBADF ? "closed" : "open",
        fcntl(11, F_GETFD) >= 0 ? "open" : "closed");
    sigset_t m;
    sigprocmask(SIG_SETMASK, NULL, &m);
    out("exec'd: SIGHUP %s\n", sigismember(&m, SIGHUP) ? "still blocked" : "unblocked");
    exit(5);
}

static void on_usr1(int s) { (void)s; }

static void c_exec(void) {
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGUSR2, SIG_IGN);
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGHUP);
    sigprocmask(SIG_BLOCK, &m, NULL);
    int a = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int b = open("/dev/null", O_RDONLY);
    dup2(a, 10);
    fcntl(10, F_SETFD, FD_CLOEXEC);
    dup2(b, 11);
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {"procs", "exec-child", "one", "two words", NULL};
        char *envp[] = {"PROCS_ENV=from-parent", NULL};
        execve(self_exe, argv, envp);
        out("execve failed: %s\n", strerror(errno));
        _exit(1);
    }
    int st;
    waitpid(pid, &st, 0);
    describe("exec'd child", st);

    /* Refusals before the point of no return come back to the caller. */
    char *argv[] = {"x", NULL};
    errno = 0;
    int r = execve("/nonexistent/procs", argv, environ);
    out("execve(missing) = %d %s\n", r, errno == ENOENT ? "ENOENT" : strerror(errno));
    r = execve("/dev/null", argv, environ);
    out("execve(/dev/null) = %d %s\n", r, errno == EACCES ? "EACCES" : strerror(errno));
    char tmp[] = "/tmp/procs-noexec-XXXXXX";
    int fd = mkstemp(tmp);
    write(fd, "not a program\n", 14);
    close(fd);
    chmod(tmp, 0700);
    r = execve(tmp, argv, environ);
    out("execve(text file) = %d %s\n", r, errno == ENOEXEC ? "ENOEXEC" : strerror(errno));
    /* A #! script whose interpreter is this program, with one argument. */
    char me[256] = {0};
    readlink(self_exe, me, sizeof me - 1);
    fd = open(tmp, O_WRONLY | O_TRUNC);
    char line[300];
    int n = snprintf(line, sizeof line, "#!%s exec-child\n", me);
    write(fd, line, n);
    close(fd);
    pid = fork();
    if (pid == 0) {
        char *sargv[] = {"script", "arg", NULL};
        execve(tmp, sargv, environ);
        out("execve(script) failed: %s\n", strerror(errno));
        _exit(1);
    }
    waitpid(pid, &st, 0);
    describe("script child", st);
    unlink(tmp);
    static char big[200 * 1024];
    memset(big, 'a', sizeof big - 1);
    char *bigv[] = {"x", big, NULL};
    r = execve(self_exe, bigv, environ);
    out("execve(200 KiB argument) = %d %s\n", r, errno == E2BIG ? "E2BIG" : strerror(errno));
    char **volatile bad = (char **)8;
    r = execve(self_exe, bad, environ);
    out("execve(bad argv) = %d %s\n", r, errno == EFAULT ? "EFAULT" : strerror(errno));
    out("still the same program\n");
}

/* ---- zombies, reaping, RUSAGE_CHILDREN ---- */
static long children_minflt(void) {
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return ru.ru_minflt;
}

static void c_zombie(void) {
    int p[2];
    pipe(p);
    pid_t me = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        static volatile char touch[64 * 4096];
        for (size_t i = 0; i < sizeof touch; i += 4096) touch[i] = 1; /* 64 minor faults */
        out("child: getppid is the parent: %s\n", getppid() == me ? "yes" : "no");
        _exit(3); /* closes the pipe: the parent's read sees EOF */
    }
    close(p[1]);
    char c;
    read(p[0], &c, 1);
    msleep(50);
    out("before wait: kill(zombie, 0) = %d, RUSAGE_CHILDREN minflt = %ld\n", kill(pid, 0), children_minflt());
    int st;
    pid_t r = waitpid(-1, &st, WNOHANG);
    describe(r == pid ? "reaped with WNOHANG" : "not reaped", st);
    out("after wait: RUSAGE_CHILDREN minflt >= 64: %s\n", children_minflt() >= 64 ? "yes" : "no");
    errno = 0;
    int k = kill(pid, 0);
    out("kill(reaped, 0) = %d %s\n", k, errno == ESRCH ? "ESRCH" : strerror(errno));

    /* A grandchild's faults reach the grandparent through the child's wait. */
    long before = children_minflt();
    pid = fork();
    if (pid == 0) {
        pid_t g = fork();
        if (g == 0) {
            static volatile char t2[32 * 4096];
            for (size_t i = 0; i < sizeof t2; i += 4096) t2[i] = 1;
            _exit(0);
        }
        waitpid(g, NULL, 0);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    out("grandchild's faults counted: %s\n", children_minflt() - before >= 32 ? "yes" : "no");

    /* SIGCHLD ignored: children are not kept as zombies; wait4 finds none. */
    signal(SIGCHLD, SIG_IGN);
    pid = fork();
    if (pid == 0) _exit(1);
    errno = 0;
    r = waitpid(pid, &st, 0);
    out("SIGCHLD ignored: waitpid = %d %s\n", r, errno == ECHILD ? "ECHILD" : strerror(errno));
    signal(SIGCHLD, SIG_DFL);

    /* An orphan is adopted: its parent is no longer the one that forked it. */
    pipe(p);
    pid = fork();
    if (pid == 0) {
        pid_t mid = getpid();
        if (fork() == 0) {
            close(p[0]);
            while (getppid() == mid) msleep(1);
            out("orphan adopted: yes\n");
            _exit(0); /* closes the write end */
        }
        _exit(0);
    }
    close(p[1]);
    waitpid(pid, NULL, 0);
    read(p[0], &c, 1); /* EOF once the orphan is done */
    close(p[0]);
}

/* ---- SIGCHLD with a handler ---- */
static volatile sig_atomic_t chld_code, chld_status, chld_count;
static volatile pid_t chld_pid;

static void on_chld(int s, siginfo_t *si, void *uc) {
    (void)s;
    (void)uc;
    chld_code = si->si_code;
    chld_status = si->si_status;
    chld_pid = si->si_pid;
    chld_count++;
}

static void c_sigchld(void) {
    struct sigaction sa = {0};
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGCHLD, &sa, NULL);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &old);
    pid_t pid = fork();
    if (pid == 0) _exit(42);
    while (!chld_count) sigsuspend(&old);
    out("SIGCHLD: si_code=%s si_status=%d si_pid is the child: %s\n",
        chld_code == CLD_EXITED ? "CLD_EXITED" : "?", chld_status, chld_pid == pid ? "yes" : "no");
    sigprocmask(SIG_SETMASK, &old, NULL);
    int st;
    waitpid(pid, &st, 0);
    describe("child", st);

    /* A child killed by a signal: CLD_KILLED. */
    chld_count = 0;
    sigprocmask(SIG_BLOCK, &block, NULL);
    pid = fork();
    if (pid == 0) {
        for (;;) pause();
    }
    kill(pid, SIGKILL);
    while (!chld_count) sigsuspend(&old);
    out("SIGCHLD: si_code=%s si_status=%d\n", chld_code == CLD_KILLED ? "CLD_KILLED" : "?", chld_status);
    sigprocmask(SIG_SETMASK, &old, NULL);
    waitpid(pid, &st, 0);
    describe("child", st);

    /* wait4 interrupted by SIGCHLD's handler (no SA_RESTART) returns the child
     * anyway: the zombie is found before the signal counts. */
    chld_count = 0;
    pid = fork();
    if (pid == 0) {
        msleep(10);
        _exit(6);
    }
    pid_t r = waitpid(pid, &st, 0);
    describe(r == pid ? "waited through the handler" : "wait failed", st);
}

/* ---- kill between processes ---- */
static volatile sig_atomic_t got_usr1;
static void on_usr1_count(int s) {
    (void)s;
    got_usr1++;
}

static void c_kill(void) {
    int p[2];
    int st;
    /* SIGTERM to a child blocked in read. */
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        close(p[1]);
        read(p[0], &c, 1);
        _exit(0);
    }
    close(p[0]);
    msleep(10);
    out("kill(child, SIGTERM) = %d\n", kill(pid, SIGTERM));
    waitpid(pid, &st, 0);
    describe("child in read", st);
    close(p[1]);

    /* SIGTERM to a child that computes. */
    pid = fork();
    if (pid == 0) {
        volatile unsigned x = 0;
        for (;;) x++;
    }
    kill(pid, SIGTERM);
    waitpid(pid, &st, 0);
    describe("child in a loop", st);

    /* A handler without SA_RESTART: the read fails with EINTR. With SA_RESTART it
     * goes on and gets the byte written after the signal. (The first child is gone
     * when the byte is written: no SIGPIPE for that.) */
    signal(SIGPIPE, SIG_IGN);
    for (int restart = 0; restart < 2; restart++) {
        int go[2];
        pipe(p);
        pipe(go);
        pid = fork();
        if (pid == 0) {
            struct sigaction sa = {0};
            sa.sa_handler = on_usr1_count;
            sa.sa_flags = restart ? SA_RESTART : 0;
            sigaction(SIGUSR1, &sa, NULL);
            close(p[1]);
            close(go[0]);
            write(go[1], "r", 1); /* handler installed */
            char c = '?';
            errno = 0;
            ssize_t r = read(p[0], &c, 1);
            char res[64];
            if (r < 0)
                snprintf(res, sizeof res, "-1 %s", errno == EINTR ? "EINTR" : strerror(errno));
            else
                snprintf(res, sizeof res, "%zd byte '%c'", r, c);
            out("%s: read = %s, handler ran %d time(s)\n", restart ? "SA_RESTART" : "no SA_RESTART", res,
                (int)got_usr1);
            _exit(0);
        }
        close(p[0]);
        close(go[1]);
        char c;
        read(go[0], &c, 1);
        msleep(50); /* the child is in read by now */
        kill(pid, SIGUSR1);
        msleep(50);
        write(p[1], "z", 1);
        waitpid(pid, &st, 0);
        close(p[1]);
        close(go[0]);
    }
    signal(SIGPIPE, SIG_DFL);

    /* The child signals its parent. */
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1_count;
    sigaction(SIGUSR1, &sa, NULL);
    got_usr1 = 0;
    sigset_t usr1, old;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, &old);
    pid = fork();
    if (pid == 0) {
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    waitpid(pid, &st, 0);
    while (!got_usr1) sigsuspend(&old);
    sigprocmask(SIG_SETMASK, &old, NULL);
    out("parent got SIGUSR1 from its child: %d\n", (int)got_usr1);
    errno = 0;
    int k = kill(pid, 0);
    out("kill(reaped child, 0) = %d %s\n", k, errno == ESRCH ? "ESRCH" : strerror(errno));
}

/* ---- vfork and posix_spawn ---- */
static void c_vfork(void) {
    int st;
    pid_t pid = vfork();
    if (pid == 0) {
        out("vfork child runs first\n");
        _exit(4);
    }
    out("vfork parent resumes\n");
    waitpid(pid, &st, 0);
    describe("vfork child", st);

    pid = vfork();
    if (pid == 0) {
        char *argv[] = {"procs", "exec-child", "vfork", NULL};
        char *envp[] = {NULL};
        execve(self_exe, argv, envp);
        _exit(1);
    }
    waitpid(pid, &st, 0);
    describe("vfork+exec child", st);

    char *argv[] = {"procs", "exec-child", "spawned", NULL};
    char *envp[] = {"PROCS_ENV=spawn", NULL};
    int r = posix_spawn(&pid, self_exe, NULL, NULL, argv, envp);
    waitpid(pid, &st, 0);
    out("posix_spawn = %d\n", r);
    describe("spawned child", st);
}

/* ---- a chain of processes, each the parent of the next ---- */
static void c_chain(void) {
    int depth = 0;
    for (;;) {
        pid_t pid = fork();
        if (pid < 0) {
            out("fork failed at depth %d: %s\n", depth, strerror(errno));
            _exit(100);
        }
        if (pid == 0) {
            if (++depth == 40) _exit(0);
            continue;
        }
        int st;
        waitpid(pid, &st, 0);
        if (depth > 0) _exit(WEXITSTATUS(st) + 1);
        out("chain of 40 processes: the deepest is %d levels down\n", WEXITSTATUS(st) + 1);
        return;
    }
}

/* ---- sleeping processes and the order they wake in ---- */
static void c_sleep(void) {
    int p[2];
    pipe(p);
    /* Far enough apart that the order survives a slow fork on a loaded host: C
       wakes before A unless C started sleeping 200 ms after A. */
    long ms[] = {400, 10, 200};
    for (int i = 0; i < 3; i++) {
        if (fork() == 0) {
            close(p[0]);
            msleep(ms[i]);
            char c = 'A' + i;
            write(p[1], &c, 1);
            _exit(0);
        }
    }
    close(p[1]);
    char order[4] = {0};
    read(p[0], order, 1);
    read(p[0], order + 1, 1);
    read(p[0], order + 2, 1);
    out("woke in order %s\n", order);
    for (int i = 0; i < 3; i++) wait(NULL);
    /* poll with a timeout while a child runs. */
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        msleep(150);
        write(p[1], "!", 1);
        _exit(0);
    }
    close(p[1]);
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    struct timeval tv = {0, 5000};
    int n = select(p[0] + 1, &r, NULL, NULL, &tv);
    out("select, 5 ms: %d ready\n", n);
    FD_SET(p[0], &r);
    n = select(p[0] + 1, &r, NULL, NULL, NULL);
    out("select, no timeout: %d ready\n", n);
    wait(NULL);
}

static const struct {
    const char *name;
    void (*fn)(void);
} cases[] = {
    {"wait-status", c_wait_status}, {"pipe", c_pipe},       {"exec", c_exec}, {"zombie", c_zombie},
    {"sigchld", c_sigchld},         {"kill", c_kill},       {"vfork", c_vfork}, {"sleep", c_sleep},
    {"chain", c_chain},
};

int main(int argc, char **argv) {
    /* A child killed by SIGSEGV must not dump core natively either. */
    struct rlimit nocore = {0, 0};
    setrlimit(RLIMIT_CORE, &nocore);
    if (argc > 1 && strcmp(argv[1], "exec-child") == 0) c_exec_child(argc - 1, argv + 1);
    size_t n = sizeof cases / sizeof cases[0];
    if (argc < 2 || strcmp(argv[1], "list") == 0) {
        for (size_t i = 0; i < n; i++) out("%s\n", cases[i].name);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(argv[1], cases[i].name) != 0) continue;
        out("procs %s\n", cases[i].name);
        cases[i].fn();
        out("end\n");
        return 0;
    }
    out("unknown case %s (try: procs list)\n", argv[1]);
    return 2;
}
