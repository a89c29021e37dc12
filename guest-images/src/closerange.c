/* closerange: close_range(2) as today's Linux answers it — EINVAL for an unknown flag
 * and for first > last, closing a range with holes and a range past the last open
 * fd, CLOSE_RANGE_CLOEXEC marking instead of closing (seen through F_GETFD and then
 * across an execve of /proc/self/exe). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long cr(unsigned a, unsigned b, unsigned f) {
    long r = syscall(436, a, b, f);
    return r < 0 ? -errno : r;
}

static void show(const char *what) {
    printf("%-28s", what);
    for (int fd = 3; fd < 16; fd++) {
        int fl = fcntl(fd, F_GETFD);
        printf(" %c", fl < 0 ? '-' : (fl & FD_CLOEXEC) ? 'x' : 'o');
    }
    printf("\n");
}

int main(int argc, char **argv) {
    if (argc > 1) {
        show("after execve");
        return 0;
    }
    /* Whatever the caller left open above stderr goes first, so the numbers below
     * are the same however the program is started. */
    printf("close 3..~0: %ld\n", cr(3, ~0u, 0));
    for (int i = 0; i < 12; i++)
        open("/dev/null", O_RDONLY);
    close(6);
    show("fds 3..14 open, 6 closed");
    printf("bad flag: %ld, first > last: %ld\n", cr(3, 5, 1), cr(9, 8, 0));
    printf("close 5..7: %ld\n", cr(5, 7, 0));
    show("after");
    printf("cloexec 8..10: %ld\n", cr(8, 10, 4));
    show("after");
    printf("unshare 12..~0: %ld\n", cr(12, ~0u, 2));
    show("after");
    fflush(stdout);
    execl("/proc/self/exe", argv[0], "again", (char *)0);
    printf("execve failed: %s\n", strerror(errno));
    return 1;
}
