/* A child that outlives its parent (growsdown issue 13): the parent forks and exits
 * with status 3 at once; the child waits until it has been orphaned, then writes
 * lines to stdout (unbuffered) and to a file, forks and reaps a grandchild of its own,
 * and exits. Natively the caller gets status 3 at once and the orphan's output still
 * reaches whoever reads stdout to its end; so must it under growsdown.
 * Prints relations, never pids or times. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void msleep(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static void orphan(pid_t parent, int fd, const char *path) {
    /* ~100 ms, then until the parent has gone (bounded: 10 s). */
    msleep(100);
    int polls = 0;
    while (getppid() == parent && polls++ < 1000) msleep(10);
    printf("child: orphaned (getppid() is no longer the parent): %s\n", getppid() != parent ? "yes" : "no");
    polls = 0;
    while (kill(parent, 0) == 0 && polls++ < 1000) msleep(10);
    printf("child: the parent is gone (kill(parent, 0) fails with ESRCH): %s\n",
           kill(parent, 0) < 0 && errno == ESRCH ? "yes" : "no");
    for (int i = 1; i <= 3; i++) {
        printf("child: late line %d\n", i);
        dprintf(fd, "file line %d\n", i);
    }
    /* An orphan still forks and reaps its own children. */
    pid_t me = getpid();
    pid_t g = fork();
    if (g == 0) {
        printf("grandchild: getppid() is the orphan: %s\n", getppid() == me ? "yes" : "no");
        _exit(7);
    }
    int st = 0;
    pid_t w = waitpid(g, &st, 0);
    printf("child: reaped its own child: %s, status %d\n", w == g ? "yes" : "no",
           WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    /* The file holds what was written. */
    char buf[256];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = 0;
    printf("child: the file holds:\n%s", buf);
    close(fd);
    unlink(path);
    printf("child: done\n");
    _exit(0);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    char path[] = "/tmp/growsdown-orphans-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("mkstemp");
        return 1;
    }
    pid_t parent = getpid();
    pid_t c = fork();
    if (c < 0) {
        perror("fork");
        return 1;
    }
    if (c == 0) orphan(parent, fd, path);
    printf("parent: forked a child; exits with 3 now\n");
    return 3;
}
