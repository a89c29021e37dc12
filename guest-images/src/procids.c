/* procids NAME: process ids and /proc, one check per line, no pid printed.
 *
 *   ids            getpid/getppid across fork, /proc/self and /proc/<pid> of the
 *                  caller and of a live, then reaped, child (the same natively)
 *   peek PID...    what open/stat/access/readlink of /proc/PID/... and kill(PID, 0)
 *                  answer: an errno name or "ok" per call (used by
 *                  crates/cli/tests/proc_isolation.rs with host pids)
 *   stderr [ign]   writes a line to stderr, then exits 3; with "ign", SIGPIPE is
 *                  ignored first (the write then fails with EPIPE)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *ename(int e)
{
    switch (e) {
    case 0: return "ok";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    case ENOTDIR: return "ENOTDIR";
    default: return "other";
    }
}

static void yesno(const char *what, int cond)
{
    printf("%s: %s\n", what, cond ? "yes" : "no");
}

/* The value of "Key:\t" in a /proc/.../status file, or -1. */
static long status_field(const char *path, const char *key)
{
    char line[256];
    size_t n = strlen(key);
    long v = -1;
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ':') {
            v = strtol(line + n + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

static int ids(void)
{
    char path[64], buf[256];
    pid_t me = getpid(), parent = getppid();
    int p[2];
    yesno("getpid() is 1", me == 1);
    yesno("getppid() is 1", parent == 1);
    yesno("/proc/self/status Pid is getpid()", status_field("/proc/self/status", "Pid") == me);
    yesno("/proc/self/status PPid is getppid()", status_field("/proc/self/status", "PPid") == parent);
    ssize_t n = readlink("/proc/self", buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    yesno("readlink /proc/self is getpid()", n > 0 && atol(buf) == me);
    snprintf(path, sizeof path, "/proc/%d/status", (int)me);
    yesno("/proc/<getpid()>/status Pid is getpid()", status_field(path, "Pid") == me);
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d", (int)me);
    yesno("stat /proc/<getpid()> is a directory", stat(path, &st) == 0 && S_ISDIR(st.st_mode));
    n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    yesno("/proc/self/exe ends in /procids", n > 8 && !strcmp(buf + n - 8, "/procids"));

    if (pipe(p) < 0)
        return 1;
    pid_t c = fork();
    if (c == 0) {
        /* The child checks its parent, then waits for the parent to close the pipe. */
        char x;
        int ok = getppid() == me;
        close(p[1]);
        while (read(p[0], &x, 1) > 0)
            ;
        _exit(ok ? 0 : 1);
    }
    close(p[0]);
    snprintf(path, sizeof path, "/proc/%d/status", (int)c);
    yesno("fork() returned a pid other than 1 and getpid()", c > 0 && c != 1 && c != me);
    yesno("/proc/<child>/status Pid is the child", status_field(path, "Pid") == c);
    yesno("/proc/<child>/status PPid is getpid()", status_field(path, "PPid") == me);
    yesno("kill(child, 0) succeeds", kill(c, 0) == 0);
    close(p[1]);
    int ws;
    waitpid(c, &ws, 0);
    yesno("child's getppid() was the parent's getpid()", WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    errno = 0;
    int fd = open(path, O_RDONLY);
    printf("open /proc/<reaped child>/status: %s\n", fd < 0 ? ename(errno) : "ok");
    errno = 0;
    printf("kill(reaped child, 0): %s\n", kill(c, 0) < 0 ? ename(errno) : "ok");
    return 0;
}

static void peek(const char *pid)
{
    static const char *files[] = {"oom_score_adj", "status", "cmdline", "environ", "mem", "exe"};
    char path[64], buf[256];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%s", pid);
    errno = 0;
    printf("stat /proc/P: %s\n", ename(stat(path, &st) < 0 ? errno : 0));
    errno = 0;
    printf("access /proc/P: %s\n", ename(access(path, F_OK) < 0 ? errno : 0));
    for (unsigned i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "/proc/%s/%s", pid, files[i]);
        errno = 0;
        int fd = open(path, O_RDONLY);
        printf("open /proc/P/%s O_RDONLY: %s\n", files[i], ename(fd < 0 ? errno : 0));
        if (fd >= 0)
            close(fd);
        errno = 0;
        fd = open(path, O_WRONLY);
        printf("open /proc/P/%s O_WRONLY: %s\n", files[i], ename(fd < 0 ? errno : 0));
        if (fd >= 0)
            close(fd);
        errno = 0;
        printf("stat /proc/P/%s: %s\n", files[i], ename(stat(path, &st) < 0 ? errno : 0));
    }
    snprintf(path, sizeof path, "/proc/%s/exe", pid);
    errno = 0;
    printf("readlink /proc/P/exe: %s\n", ename(readlink(path, buf, sizeof buf) < 0 ? errno : 0));
    /* The same, relative to /proc and through /proc/self/.. */
    snprintf(path, sizeof path, "/proc/self/../%s/status", pid);
    errno = 0;
    printf("stat /proc/self/../P/status: %s\n", ename(stat(path, &st) < 0 ? errno : 0));
    int d = open("/proc", O_RDONLY | O_DIRECTORY);
    snprintf(path, sizeof path, "%s/status", pid);
    errno = 0;
    printf("openat(/proc, P/status): %s\n", ename(openat(d, path, O_RDONLY) < 0 ? errno : 0));
    close(d);
    errno = 0;
    printf("kill(P, 0): %s\n", ename(kill(atoi(pid), 0) < 0 ? errno : 0));
    errno = 0;
    printf("kill(-P, 0): %s\n", ename(kill(-atoi(pid), 0) < 0 ? errno : 0));
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 2 && !strcmp(argv[1], "ids"))
        return ids();
    if (argc >= 3 && !strcmp(argv[1], "peek")) {
        for (int i = 2; i < argc; i++)
            peek(argv[i]);
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "stderr")) {
        static const char msg[] = "procids: a line on stderr\n";
        if (argc >= 3 && !strcmp(argv[2], "ign"))
            signal(SIGPIPE, SIG_IGN);
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        return 3;
    }
    fprintf(stderr, "usage: procids ids | peek PID... | stderr [ign]\n");
    return 2;
}
