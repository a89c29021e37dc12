/* rlimits: RLIMIT_FSIZE and RLIMIT_CPU as today's kernel enforces them.
 * - `rlimits fsize`: a write that would end past the soft limit is cut to end at it
 *   (a short write); one that starts at the limit fails with EFBIG and raises
 *   SIGXFSZ (handled: the handler runs; ignored: only EFBIG); an ftruncate past the
 *   limit is EFBIG too; pwrite and O_APPEND writes are checked the same way.
 * - `rlimits cpu`: RLIMIT_CPU soft 1 s, hard 10 s: the spinning process gets SIGXCPU
 *   (handled once, it counts and exits).
 * Prints counts and errno names only. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static void on_sig(int sig) {
    (void)sig;
    got++;
}

/* The limit applies to every regular file, stdout included when it is one: each
 * line is printed with the limit lifted, then the limit is put back. */
static struct rlimit fsz = {100, RLIM_INFINITY};
#define SAY(...)                                                                                            \
    do {                                                                                                   \
        struct rlimit inf = {RLIM_INFINITY, RLIM_INFINITY};                                                \
        setrlimit(RLIMIT_FSIZE, &inf);                                                                     \
        printf(__VA_ARGS__);                                                                               \
        fflush(stdout);                                                                                    \
        setrlimit(RLIMIT_FSIZE, &fsz);                                                                     \
    } while (0)

static const char *en(int e) {
    return e == 0 ? "ok" : e == EFBIG ? "EFBIG" : e == EINVAL ? "EINVAL" : "other";
}

static int fsize(void) {
    char path[] = "/tmp/growsdown-rlimits-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 1;
    unlink(path);
    signal(SIGXFSZ, on_sig);
    setrlimit(RLIMIT_FSIZE, &fsz);
    char buf[64];
    memset(buf, 'x', sizeof buf);
    ssize_t w1 = write(fd, buf, 64);
    ssize_t w2 = write(fd, buf, 64);
    errno = 0;
    ssize_t w3 = write(fd, buf, 64);
    int e3 = errno;
    SAY("writes of 64 under a 100-byte limit: %zd, %zd, then %zd %s; SIGXFSZ handled %d times\n", w1, w2, w3,
           en(e3), (int)got);
    errno = 0;
    ssize_t p1 = pwrite(fd, buf, 64, 90);
    ssize_t p2 = pwrite(fd, buf, 10, 10);
    errno = 0;
    ssize_t p3 = pwrite(fd, buf, 10, 200);
    int ep3 = errno;
    SAY("pwrite at 90: %zd; at 10: %zd; at 200: %zd %s; SIGXFSZ %d\n", p1, p2, p3, en(ep3), (int)got);
    errno = 0;
    int t1 = ftruncate(fd, 50);
    int t2 = ftruncate(fd, 150) == 0 ? 0 : errno;
    SAY("ftruncate to 50: %s; to 150: %s; SIGXFSZ %d\n", en(t1 == 0 ? 0 : errno), en(t2), (int)got);
    char apath[] = "/tmp/growsdown-rlimits-XXXXXX";
    int a = mkstemp(apath);
    write(a, buf, 60);
    close(a);
    a = open(apath, O_WRONLY | O_APPEND);
    unlink(apath);
    ssize_t a1 = write(a, buf, 64);
    SAY("O_APPEND write of 64 at 60: %zd\n", a1);
    signal(SIGXFSZ, SIG_IGN);
    errno = 0;
    ssize_t w4 = write(fd, buf, 64);
    int e4 = errno;
    lseek(fd, 0, SEEK_END);
    errno = 0;
    ssize_t w5 = write(fd, buf, 64);
    int e5 = errno;
    SAY("SIGXFSZ ignored: a write at 100 gives %zd %s, at the end %zd %s\n", w4, en(e4), w5, en(e5));
    return 0;
}

static int cpu(void) {
    signal(SIGXCPU, on_sig);
    struct rlimit rl = {1, 10};
    setrlimit(RLIMIT_CPU, &rl);
    volatile unsigned long n = 0;
    while (!got)
        n++;
    printf("SIGXCPU after about a second of CPU: handled %d time\n", (int)got);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "cpu") == 0)
        return cpu();
    return fsize();
}
