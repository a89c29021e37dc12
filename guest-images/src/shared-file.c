/* shared-file: MAP_SHARED file mappings (2.4's shared page-cache pages, written
 * back to the file):
 * - a parent and a forked child increment a counter in a MAP_SHARED file; after
 *   both have unmapped it, the file (read with read()) holds the sum;
 * - one file page mapped twice in one process: a store through one mapping is
 *   seen through the other, and code stored through a writable mapping runs
 *   through an executable one;
 * - read() sees stores made through a mapping, and a mapping sees write()s;
 * - a page past end of file gives SIGBUS (BUS_ADRERR), also one the file lost to
 *   ftruncate while it was mapped;
 * - the permission rules: PROT_WRITE on a read-only descriptor (EACCES, also
 *   through mprotect), MAP_SHARED_VALIDATE with an unknown flag (EOPNOTSUPP), a
 *   private writable mapping never reaching the file;
 * - msync's argument checks; a /dev/shm file ftruncate'd and shared across fork,
 *   as test harnesses share a result page; sem_open's named semaphore across fork.
 * Prints values and errno names only. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif

static const char *en(int e) {
    switch (e) {
    case 0: return "ok";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EBADF: return "EBADF";
    case ENODEV: return "ENODEV";
    default: return "other";
    }
}

static sigjmp_buf jb;
static volatile int bus_code;
static void on_bus(int sig, siginfo_t *si, void *uc) {
    (void)sig;
    (void)uc;
    bus_code = si->si_code;
    siglongjmp(jb, 1);
}

static int make_file(char *path, size_t size) {
    strcpy(path, "/tmp/growsdown-shared-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || ftruncate(fd, size) != 0)
        exit(1);
    return fd;
}

/* `shared-file msync-wait FILE`: stores a line through a MAP_SHARED mapping of
 * FILE, msyncs it, says "synced" and waits for end of input before it exits, so
 * that a test can read FILE on the host while the guest still runs. */
static int msync_wait(const char *file) {
    int fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, 4096) != 0)
        return 1;
    char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
        return 1;
    strcpy(m, "stored through the mapping\n");
    if (msync(m, 4096, MS_SYNC) != 0)
        return 1;
    printf("synced\n");
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0) {
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "msync-wait") == 0)
        return msync_wait(argv[2]);
    /* `shared-file single`: only what one process does (no fork, no signal), for
     * difftest, which follows one process and cannot see another one's stores. */
    int single = argc == 2 && strcmp(argv[1], "single") == 0;
    const long page = 4096;
    char path[64], small_path[64];
    int fd = make_file(path, page);
    if (single)
        goto two_mappings;
    /* 1. Counter shared by parent and child through the file. */
    volatile int *ctr = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ctr[0] = 0;
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 5000; i++)
            __sync_fetch_and_add(&ctr[0], 1);
        _exit(0);
    }
    for (int i = 0; i < 3000; i++)
        __sync_fetch_and_add(&ctr[0], 2);
    int st;
    waitpid(pid, &st, 0);
    munmap((void *)ctr, page);
    int v = -1;
    pread(fd, &v, sizeof v, 0);
    printf("counter in the file after both unmapped: %d\n", v);

    /* 2. Two mappings of one page in one process; code through the second. */
two_mappings:;
    char *a = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *b = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0);
    strcpy(a + 100, "through a");
    printf("two mappings, different addresses: %s; b sees a's store: %s\n", a != b ? "yes" : "no",
           strcmp(b + 100, "through a") == 0 ? "yes" : "no");
    /* mov eax, 42; ret */
    static const unsigned char code[] = {0xb8, 42, 0, 0, 0, 0xc3};
    memcpy(a + 512, code, sizeof code);
    char *x = mmap(NULL, page, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    int (*fn)(void) = (int (*)(void))(x + 512);
    int r1 = fn();
    a[513] = 7;
    int r2 = fn();
    printf("code stored through a runs through x: %d, then after a new store: %d\n", r1, r2);

    /* 3. read() sees mapped stores; the mapping sees write()s. */
    strcpy(a + 200, "stored");
    char buf[16] = {0};
    pread(fd, buf, 6, 200);
    printf("pread sees the mapping's store: %s\n", strcmp(buf, "stored") == 0 ? "yes" : "no");
    pwrite(fd, "written", 7, 300);
    printf("the mappings see pwrite: %s %s\n", strncmp(a + 300, "written", 7) == 0 ? "yes" : "no",
           strncmp(b + 300, "written", 7) == 0 ? "yes" : "no");
    munmap(a, page);
    munmap(b, page);
    munmap(x, page);

    /* 4. SIGBUS past end of file. */
    if (single)
        goto permissions;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_bus;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGBUS, &sa, NULL);
    int small = make_file(small_path, 100);
    unlink(small_path);
    char *s = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, small, 0);
    s[99] = 'x';
    int tail = s[200];
    int got_bus = 0;
    if (sigsetjmp(jb, 1) == 0) {
        volatile char c = s[page + 5];
        (void)c;
    } else {
        got_bus = 1;
    }
    printf("last page past 100 bytes reads %d; next page: SIGBUS %s, code %s\n", tail, got_bus ? "yes" : "no",
           bus_code == BUS_ADRERR ? "BUS_ADRERR" : "other");
    munmap(s, 2 * page);
    off_t len = lseek(small, 0, SEEK_END);
    printf("file still 100 bytes after stores in the last page: %s\n", len == 100 ? "yes" : "no");
    close(small);

    /* A mapped page the file loses to ftruncate: SIGBUS afterwards (vmtruncate). */
    int two = make_file(small_path, 2 * page);
    unlink(small_path);
    char *t2 = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, two, 0);
    t2[0] = 'a';
    t2[page] = 'b';
    int tr = ftruncate(two, page);
    bus_code = 0;
    got_bus = 0;
    if (sigsetjmp(jb, 1) == 0) {
        volatile char c = t2[page];
        (void)c;
    } else {
        got_bus = 1;
    }
    printf("ftruncate to one page: %s; first page still '%c'; second: SIGBUS %s\n", en(tr == 0 ? 0 : errno),
           t2[0], got_bus ? "yes" : "no");
    munmap(t2, 2 * page);
    close(two);

    /* 5. Permission rules. */
permissions:;
    int ro = open(path, O_RDONLY);
    unlink(path);
    errno = 0;
    void *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
    int e1 = p == MAP_FAILED ? errno : 0;
    char *rom = mmap(NULL, page, PROT_READ, MAP_SHARED, ro, 0);
    errno = 0;
    int e2 = mprotect(rom, page, PROT_READ | PROT_WRITE) == 0 ? 0 : errno;
    char *priv = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
    int e3 = priv == MAP_FAILED ? errno : 0;
    strcpy(priv + 100, "private!");
    printf("PROT_WRITE shared on O_RDONLY: %s; mprotect to write: %s; private writable: %s\n", en(e1), en(e2),
           en(e3));
    printf("private store stays private: %s\n", strcmp(rom + 100, "through a") == 0 ? "yes" : "no");
    errno = 0;
    p = mmap(NULL, page, PROT_READ, MAP_SHARED_VALIDATE | 0x200000, fd, 0);
    int e4 = p == MAP_FAILED ? errno : 0;
    p = mmap(NULL, page, PROT_READ, MAP_SHARED_VALIDATE, fd, 0);
    int e5 = p == MAP_FAILED ? errno : 0;
    printf("MAP_SHARED_VALIDATE unknown flag: %s; known flags: %s\n", en(e4), en(e5));

    /* 6. msync's checks. */
    char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int m1 = msync(m + 1, page, MS_SYNC) == 0 ? 0 : errno;
    int m2 = msync(m, page, MS_SYNC | MS_ASYNC) == 0 ? 0 : errno;
    int m3 = msync(m, page, 0x100) == 0 ? 0 : errno;
    munmap(m + page, page);
    int m4 = msync(m, 2 * page, MS_SYNC) == 0 ? 0 : errno;
    int m5 = msync(m, page, MS_ASYNC | MS_INVALIDATE) == 0 ? 0 : errno;
    printf("msync unaligned %s, SYNC|ASYNC %s, bad flag %s, hole %s, ASYNC|INVALIDATE %s\n", en(m1), en(m2),
           en(m3), en(m4), en(m5));
    munmap(m, page);
    close(ro);
    close(fd);

    if (single)
        return 0;
    /* 7. A /dev/shm file, ftruncate'd and shared across fork. */
    char shm[64];
    snprintf(shm, sizeof shm, "/dev/shm/growsdown-shared-%d", (int)getpid());
    int sfd = open(shm, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (sfd < 0) {
        printf("/dev/shm: cannot create\n");
        return 0;
    }
    unlink(shm);
    int t = ftruncate(sfd, page);
    volatile int *res = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
    pid = fork();
    if (pid == 0) {
        res[10] = 1234;
        _exit(0);
    }
    waitpid(pid, &st, 0);
    printf("/dev/shm page: ftruncate %s, the child's result seen: %d\n", en(t == 0 ? 0 : errno), res[10]);

    /* 8. A POSIX named semaphore (a /dev/shm file mapped MAP_SHARED by glibc's
     * sem_open) posted by a child, waited for by the parent. */
    char name[64];
    snprintf(name, sizeof name, "/growsdown-sem-%d", (int)getpid());
    sem_t *sem = sem_open(name, O_CREAT | O_EXCL, 0600, 0);
    if (sem == SEM_FAILED) {
        printf("sem_open: failed\n");
        return 1;
    }
    pid = fork();
    if (pid == 0) {
        sem_t *c = sem_open(name, 0);
        for (int i = 0; i < 3; i++)
            sem_post(c);
        _exit(0);
    }
    for (int i = 0; i < 3; i++)
        sem_wait(sem);
    waitpid(pid, &st, 0);
    int sv = -1;
    sem_getvalue(sem, &sv);
    int un = sem_unlink(name);
    printf("sem_open across fork: 3 posts waited for, value now %d, sem_unlink %s\n", sv, en(un == 0 ? 0 : errno));
    return 0;
}
