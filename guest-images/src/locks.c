/* locks: file locks between guest processes, as today's Linux answers them —
 * POSIX record locks (F_SETLK EAGAIN, F_GETLK naming the parent as the owner,
 * F_SETLKW waiting until the parent unlocks, split ranges, SEEK_CUR/SEEK_END,
 * negative lengths, the lock dropped when the owner closes ANY fd of the file,
 * EDEADLK for two processes waiting for each other, EINTR), OFD locks (shared by
 * dup and fork, conflicting with another open and with POSIX locks, l_pid -1, gone
 * at the last close), flock (LOCK_NB EWOULDBLOCK, blocking between processes,
 * conversions, last close, independent of fcntl locks) and the errno cases. The
 * order between processes comes from pipe handshakes; where a process must be
 * asleep in a lock call first, the other one waits 200 ms after the handshake.
 * Prints no pid, path or address. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

static char path[64];
static int to_child[2], to_parent[2];

static const char *res(int r) {
    if (r >= 0)
        return "ok";
    if (errno == EWOULDBLOCK)
        return "EWOULDBLOCK";
    return strerrorname_np(errno);
}

static int lk(int fd, int cmd, short type, short whence, long start, long len) {
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = whence;
    fl.l_start = start;
    fl.l_len = len;
    return fcntl(fd, cmd, &fl);
}

static void getlk(const char *what, int fd, int cmd, short type, long start, long len) {
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = len;
    int r = fcntl(fd, cmd, &fl);
    const char *s = res(r);
    if (r < 0) {
        printf("%s: %s\n", what, s);
        return;
    }
    const char *t = fl.l_type == F_RDLCK ? "F_RDLCK" : fl.l_type == F_WRLCK ? "F_WRLCK" : "F_UNLCK";
    if (fl.l_type == F_UNLCK) {
        printf("%s: F_UNLCK\n", what);
        return;
    }
    const char *owner = fl.l_pid == -1 ? "-1" : fl.l_pid == getppid() ? "the parent" : fl.l_pid == getpid() ? "me" : "other";
    printf("%s: %s start %ld len %ld pid %s\n", what, t, (long)fl.l_start, (long)fl.l_len, owner);
}

static void tell(int *p) {
    if (write(p[1], "x", 1) != 1)
        _exit(90);
}
static void hear(int *p) {
    char c;
    if (read(p[0], &c, 1) != 1)
        _exit(91);
}
static int reopen(int flags) {
    int fd = open(path, flags);
    if (fd < 0) {
        perror("open");
        exit(1);
    }
    return fd;
}
static void reap(pid_t pid) {
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        printf("child status %#x\n", st);
}
static void on_usr1(int s) { (void)s; }

static void errors(int fd) {
    int ro = reopen(O_RDONLY), wo = reopen(O_WRONLY);
    printf("bad l_type: %s\n", res(lk(fd, F_SETLK, 5, SEEK_SET, 0, 1)));
    printf("bad l_whence: %s\n", res(lk(fd, F_SETLK, F_WRLCK, 7, 0, 1)));
    printf("start -1: %s\n", res(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, -1, 1)));
    printf("start 3 len -5: %s\n", res(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 3, -5)));
    printf("start 10 len -5: %s\n", res(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 10, -5)));
    getlk("own lock seen by F_GETLK", fd, F_GETLK, F_WRLCK, 0, 0);
    printf("unlock it: %s\n", res(lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 5, 5)));
    printf("write lock, read-only fd: %s\n", res(lk(ro, F_SETLK, F_WRLCK, SEEK_SET, 0, 1)));
    printf("read lock, write-only fd: %s\n", res(lk(wo, F_SETLK, F_RDLCK, SEEK_SET, 0, 1)));
    printf("read lock, read-only fd: %s\n", res(lk(ro, F_SETLK, F_RDLCK, SEEK_SET, 0, 1)));
    printf("unlock, read-only fd: %s\n", res(lk(ro, F_SETLK, F_UNLCK, SEEK_SET, 0, 0)));
    printf("F_GETLK F_UNLCK: %s\n", res(lk(fd, F_GETLK, F_UNLCK, SEEK_SET, 0, 1)));
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_pid = 1};
    printf("F_OFD_SETLK l_pid 1: %s\n", res(fcntl(fd, F_OFD_SETLK, &fl)));
    printf("F_SETLK closed fd: %s\n", res(lk(99, F_SETLK, F_WRLCK, SEEK_SET, 0, 1)));
    printf("flock closed fd: %s\n", res(flock(99, LOCK_EX)));
    printf("flock 0: %s\n", res(flock(fd, 0)));
    printf("flock SH|EX: %s\n", res(flock(fd, LOCK_SH | LOCK_EX)));
    printf("flock UN without a lock: %s\n", res(flock(fd, LOCK_UN)));
    int op = open(path, O_PATH);
    printf("flock O_PATH fd: %s\n", res(flock(op, LOCK_EX)));
    printf("F_SETLK O_PATH fd: %s\n", res(lk(op, F_SETLK, F_RDLCK, SEEK_SET, 0, 1)));
    close(op);
    close(ro);
    close(wo);
}

static void posix_contention(int fd) {
    printf("-- posix locks between parent and child\n");
    lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 100);
    lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 40, 10);
    lseek(fd, 60, SEEK_SET);
    lk(fd, F_SETLK, F_RDLCK, SEEK_CUR, 0, 10);
    lk(fd, F_SETLK, F_WRLCK, SEEK_END, 50, 0);
    pid_t pid = fork();
    if (pid == 0) {
        int my = reopen(O_RDWR);
        printf("child F_SETLK write at 0: %s\n", res(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1)));
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 1};
        fcntl(my, F_GETLK, &fl);
        const char *yes = fl.l_pid == getppid() ? "yes" : "no";
        printf("F_GETLK owner is the parent: %s\n", yes);
        getlk("child F_GETLK write at 0", my, F_GETLK, F_WRLCK, 0, 1);
        getlk("child F_GETLK write at 45", my, F_GETLK, F_WRLCK, 45, 1);
        getlk("child F_GETLK read at 45", my, F_GETLK, F_RDLCK, 45, 1);
        getlk("child F_GETLK write at 65", my, F_GETLK, F_WRLCK, 65, 1);
        getlk("child F_GETLK read at 100", my, F_GETLK, F_RDLCK, 100, 10);
        getlk("child F_GETLK write at 100", my, F_GETLK, F_WRLCK, 100, 10);
        struct flock64 f64 = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 150, .l_len = 1};
        fcntl(my, F_GETLK64, &f64);
        printf("child F_GETLK64 write at 150: start %lld len %lld\n", (long long)f64.l_start, (long long)f64.l_len);
        printf("child F_SETLK read at 65: %s\n", res(lk(my, F_SETLK, F_RDLCK, SEEK_SET, 65, 1)));
        /* Closing the child's copy of the parent's fd releases nothing of the
         * parent's. */
        close(fd);
        printf("child F_SETLK after closing its copy: %s\n", res(lk(my, F_SETLK, F_WRLCK, SEEK_SET, 0, 1)));
        tell(to_parent);
        printf("child F_SETLKW write at 0: %s\n", res(lk(my, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1)));
        char c = 0;
        if (pread(my, &c, 1, 0) != 1)
            c = '?';
        printf("child sees the parent's byte: %c\n", c);
        _exit(0);
    }
    hear(to_parent);
    usleep(200000);
    if (pwrite(fd, "P", 1, 0) != 1)
        printf("pwrite failed\n");
    printf("parent unlocks 0..1\n");
    lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 1);
    reap(pid);
    lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);
}

static void close_releases(int fd) {
    printf("-- closing another fd releases the process's locks\n");
    lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0);
    int other = reopen(O_RDONLY);
    pid_t pid = fork();
    if (pid == 0) {
        int my = reopen(O_RDWR);
        printf("child F_SETLK: %s\n", res(lk(my, F_SETLK, F_WRLCK, SEEK_SET, 10, 1)));
        tell(to_parent);
        hear(to_child);
        printf("child F_SETLK after the parent's close: %s\n", res(lk(my, F_SETLK, F_WRLCK, SEEK_SET, 10, 1)));
        _exit(0);
    }
    hear(to_parent);
    close(other);
    getlk("parent F_GETLK after the close", fd, F_GETLK, F_WRLCK, 0, 0);
    tell(to_child);
    reap(pid);
    getlk("parent F_GETLK after the child's exit", fd, F_GETLK, F_WRLCK, 0, 0);
}

static void deadlock(int fd) {
    printf("-- EDEADLK\n");
    lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1);
    pid_t pid = fork();
    if (pid == 0) {
        lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 1, 1);
        tell(to_parent);
        printf("child F_SETLKW byte 0: %s\n", res(lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1)));
        _exit(0);
    }
    hear(to_parent);
    usleep(200000);
    printf("parent F_SETLKW byte 1: %s\n", res(lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 1, 1)));
    printf("parent unlocks byte 0\n");
    lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 1);
    reap(pid);
}

static void interrupted(int fd) {
    printf("-- EINTR\n");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1);
    int fl = reopen(O_RDONLY);
    flock(fl, LOCK_EX);
    pid_t pid = fork();
    if (pid == 0) {
        int my = reopen(O_RDONLY);
        tell(to_parent);
        printf("child F_SETLKW: %s\n", res(lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1)));
        tell(to_parent);
        printf("child flock LOCK_EX: %s\n", res(flock(my, LOCK_EX)));
        _exit(0);
    }
    for (int i = 0; i < 2; i++) {
        hear(to_parent);
        usleep(200000);
        kill(pid, SIGUSR1);
    }
    reap(pid);
    lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);
    close(fl);
}

static void ofd(void) {
    printf("-- OFD locks\n");
    int a = reopen(O_RDWR), b = reopen(O_RDWR);
    int ad = dup(a);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
    printf("OFD lock on a: %s\n", res(fcntl(a, F_OFD_SETLK, &fl)));
    printf("OFD lock on dup of a: %s\n", res(fcntl(ad, F_OFD_SETLK, &fl)));
    printf("OFD lock on b: %s\n", res(fcntl(b, F_OFD_SETLK, &fl)));
    printf("POSIX lock on b, same process: %s\n", res(lk(b, F_SETLK, F_WRLCK, SEEK_SET, 5, 1)));
    getlk("F_GETLK on b", b, F_GETLK, F_WRLCK, 0, 0);
    getlk("F_OFD_GETLK on b", b, F_OFD_GETLK, F_RDLCK, 0, 0);
    pid_t pid = fork();
    if (pid == 0) {
        struct flock f2 = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 5};
        printf("child OFD lock on the inherited a: %s\n", res(fcntl(a, F_OFD_SETLK, &f2)));
        int my = reopen(O_RDWR);
        printf("child OFD lock on its own open: %s\n", res(fcntl(my, F_OFD_SETLK, &f2)));
        _exit(0);
    }
    reap(pid);
    getlk("after the child's conversion, F_OFD_GETLK on b", b, F_OFD_GETLK, F_WRLCK, 0, 0);
    close(a);
    printf("after closing a, OFD lock on b: %s\n", res(fcntl(b, F_OFD_SETLK, &fl)));
    close(ad);
    printf("after closing its dup too: %s\n", res(fcntl(b, F_OFD_SETLK, &fl)));
    close(b);
}

static void flocks(void) {
    printf("-- flock\n");
    int a = reopen(O_RDONLY), b = reopen(O_RDONLY), c = reopen(O_RDONLY);
    printf("a LOCK_EX: %s\n", res(flock(a, LOCK_EX)));
    printf("a LOCK_EX again: %s\n", res(flock(a, LOCK_EX)));
    printf("b LOCK_EX|LOCK_NB: %s\n", res(flock(b, LOCK_EX | LOCK_NB)));
    printf("b LOCK_SH|LOCK_NB: %s\n", res(flock(b, LOCK_SH | LOCK_NB)));
    printf("fcntl lock beside it: %s\n", res(lk(b, F_SETLK, F_RDLCK, SEEK_SET, 0, 0)));
    printf("a converts to LOCK_SH: %s\n", res(flock(a, LOCK_SH)));
    printf("b LOCK_SH|LOCK_NB: %s\n", res(flock(b, LOCK_SH | LOCK_NB)));
    printf("a converts to LOCK_EX|LOCK_NB: %s\n", res(flock(a, LOCK_EX | LOCK_NB)));
    printf("b LOCK_UN: %s\n", res(flock(b, LOCK_UN)));
    printf("c LOCK_EX|LOCK_NB (a lost its lock): %s\n", res(flock(c, LOCK_EX | LOCK_NB)));
    flock(c, LOCK_UN);
    printf("a LOCK_EX: %s\n", res(flock(a, LOCK_EX)));
    int ad = dup(a);
    close(a);
    printf("after closing a, c LOCK_SH|LOCK_NB: %s\n", res(flock(c, LOCK_SH | LOCK_NB)));
    pid_t pid = fork();
    if (pid == 0) {
        printf("child LOCK_EX on the inherited dup: %s\n", res(flock(ad, LOCK_EX | LOCK_NB)));
        int my = reopen(O_RDONLY);
        printf("child LOCK_EX|LOCK_NB on its own open: %s\n", res(flock(my, LOCK_EX | LOCK_NB)));
        close(ad);
        tell(to_parent);
        printf("child LOCK_EX: %s\n", res(flock(my, LOCK_EX)));
        _exit(0);
    }
    hear(to_parent);
    usleep(200000);
    printf("parent closes the last fd of the description\n");
    close(ad);
    reap(pid);
    printf("c LOCK_SH|LOCK_NB after the child's exit: %s\n", res(flock(c, LOCK_SH | LOCK_NB)));
    close(b);
    close(c);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    strcpy(path, "/tmp/growsdown-locks-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || pipe(to_child) < 0 || pipe(to_parent) < 0) {
        perror("setup");
        return 1;
    }
    char buf[100];
    memset(buf, '.', sizeof buf);
    if (write(fd, buf, sizeof buf) != sizeof buf)
        return 1;
    errors(fd);
    lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);
    posix_contention(fd);
    close_releases(fd);
    deadlock(fd);
    interrupted(fd);
    ofd();
    flocks();
    unlink(path);
    printf("done\n");
    return 0;
}
