/* eventfd: eventfd and eventfd2 as today's Linux answers them — counter reads and
 * writes, EFD_SEMAPHORE, EFD_NONBLOCK (EAGAIN on an empty counter and on overflow),
 * EFD_CLOEXEC, EINVAL for an unknown flag, a short read or write, and the count
 * carried across fork. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *e(long r) {
    return r < 0 ? strerrorname_np(errno) : "ok";
}

int main(void) {
    setvbuf(stdout, 0, _IONBF, 0);
    long bad = syscall(SYS_eventfd2, 0, 0x10);
    printf("eventfd2 unknown flag: %s\n", e(bad));
    int fd = (int)syscall(SYS_eventfd2, 5, O_NONBLOCK | O_CLOEXEC);
    printf("flags: cloexec %d nonblock %d\n", fcntl(fd, F_GETFD) & FD_CLOEXEC, !!(fcntl(fd, F_GETFL) & O_NONBLOCK));
    uint64_t v = 0;
    long r = read(fd, &v, 8);
    printf("read: %ld %llu\n", r, (unsigned long long)v);
    r = read(fd, &v, 8);
    printf("read empty: %ld %s\n", r, e(r));
    uint32_t small;
    r = read(fd, &small, 4);
    printf("read 4 bytes: %ld %s\n", r, e(r));
    v = 7;
    printf("write 7: %ld\n", (long)write(fd, &v, 8));
    v = 0xfffffffffffffffeull - 7;
    printf("write to the maximum: %ld\n", (long)write(fd, &v, 8));
    v = 1;
    r = write(fd, &v, 8);
    printf("write past it: %ld %s\n", r, e(r));
    v = ~0ull;
    r = write(fd, &v, 8);
    printf("write ~0: %ld %s\n", r, e(r));
    close(fd);

    fd = (int)syscall(SYS_eventfd2, 3, 1 /* EFD_SEMAPHORE */);
    for (int i = 0; i < 3; i++) {
        read(fd, &v, 8);
        printf("semaphore read %d: %llu\n", i, (unsigned long long)v);
    }
    pid_t c = fork();
    if (c == 0) {
        v = 40;
        write(fd, &v, 8);
        _exit(0);
    }
    waitpid(c, 0, 0);
    read(fd, &v, 8);
    printf("after the child's write, semaphore read: %llu\n", (unsigned long long)v);
    close(fd);
    fd = (int)syscall(SYS_eventfd, 9);
    read(fd, &v, 8);
    printf("eventfd(9): %llu, cloexec %d\n", (unsigned long long)v, fcntl(fd, F_GETFD) & FD_CLOEXEC);
    return 0;
}
