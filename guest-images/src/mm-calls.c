/* The calls around memory regions and their argument checks, as today's Linux
 * answers them: mmap/mprotect/mremap/madvise errno cases, mincore, the mlock
 * family under RLIMIT_MEMLOCK, MADV_DONTNEED/WIPEONFORK/DONTFORK/REMOVE across
 * fork, truncate/ftruncate/fallocate, /proc/self/maps and smaps.
 * Prints results and errno names only, never addresses, so the output is the same
 * natively and under growsdown, as root or not. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif
#ifndef MADV_FREE
#define MADV_FREE 8
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

#define PG 4096u

static const char *en(int e) {
    switch (e) {
    case 0: return "ok";
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case EFAULT: return "EFAULT";
    case EPERM: return "EPERM";
    case EAGAIN: return "EAGAIN";
    case EBADF: return "EBADF";
    case EACCES: return "EACCES";
    case ESPIPE: return "ESPIPE";
    case ENODEV: return "ENODEV";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EOVERFLOW: return "EOVERFLOW";
    default: return "other";
    }
}

/* The errno of a call returning -1 on failure, or "ok". */
static const char *rc(long r) { return en(r == -1 ? errno : 0); }

static void show(const char *what, long r) {
    const char *s = rc(r);
    printf("%-44s %s\n", what, s);
}

static const char *mm(void *p) { return en(p == MAP_FAILED ? errno : 0); }

static void *anon(unsigned pages) {
    return mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/* mincore as a string of 0/1, or the errno name. */
static void core(const char *what, void *p, unsigned pages) {
    unsigned char v[64];
    char s[65];
    long r = mincore(p, pages * PG, v);
    if (r) {
        show(what, r);
        return;
    }
    for (unsigned i = 0; i < pages; i++)
        s[i] = (v[i] & 1) ? '1' : '0';
    s[pages] = 0;
    printf("%-44s %s\n", what, s);
}

static int root;

/* What an unprivileged caller gets (`unpriv`) or root (CAP_IPC_LOCK: ok). */
static void limited(const char *what, long r, int unpriv) {
    int e = r == -1 ? errno : 0;
    int want = root ? 0 : unpriv;
    printf("%-44s %s\n", what, e == want ? "as expected" : en(e));
}

/* The smaps field `key` (kB) of the VMA starting at `p`, or -1. */
static long smaps_field(void *p, const char *key) {
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    int in = 0;
    long val = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long s, e;
        if (sscanf(line, "%lx-%lx ", &s, &e) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            in = s == (unsigned long)(uintptr_t)p;
            continue;
        }
        if (in && strncmp(line, key, strlen(key)) == 0) {
            val = atol(line + strlen(key));
            break;
        }
    }
    fclose(f);
    return val;
}

static void mmap_checks(void) {
    void *p;
    long r;
    puts("== mmap, mprotect");
    p = mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("%-44s %s\n", "mmap length 0", mm(p));
    p = mmap(NULL, 0xfffff800u, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("%-44s %s\n", "mmap length wrapping on page-align", mm(p));
    p = mmap(NULL, 0xfffff000u, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("%-44s %s\n", "mmap length 4 GiB - 4 KiB", mm(p));
    p = mmap(NULL, PG, PROT_READ, MAP_ANONYMOUS, -1, 0);
    printf("%-44s %s\n", "mmap without SHARED or PRIVATE", mm(p));
    char *a = anon(3);
    munmap(a + PG, PG);
    r = mprotect(a, 3 * PG, PROT_READ);
    show("mprotect over a hole", r);
    r = mprotect(a + 1, PG, PROT_READ);
    show("mprotect unaligned", r);
    r = mprotect(a, PG, 0x10);
    show("mprotect unknown prot bit", r);
    munmap(a, 3 * PG);
    r = mprotect(a, PG, PROT_READ);
    show("mprotect unmapped", r);
}

static void mincore_checks(void) {
    puts("== mincore");
    char *a = anon(4);
    core("fresh 4 pages", a, 4);
    a[0] = 1;
    a[2 * PG] = 1;
    core("after writing pages 0 and 2", a, 4);
    volatile char c = a[3 * PG];
    (void)c;
    core("after reading page 3", a, 4);
    unsigned char v[4];
    show("unaligned start", mincore(a + 1, PG, v));
    show("vec in the null page", mincore(a, PG, (unsigned char *)8));
    munmap(a + 2 * PG, PG);
    show("range with an unmapped page", mincore(a, 4 * PG, v));
    show("length 0", mincore(a, 0, v));
    show("range past user space", mincore((void *)0xfffff000u, 2 * PG, v));
    munmap(a, 4 * PG);
}

static void mlock_checks(void) {
    struct rlimit rl = {64 * 1024, 64 * 1024};
    long r;
    puts("== mlock");
    setrlimit(RLIMIT_MEMLOCK, &rl);
    char *a = anon(4);
    r = mlock(a, 4 * PG);
    show("mlock 4 pages under a 64 KiB limit", r);
    core("  populated", a, 4);
    long lk = smaps_field(a, "Locked:");
    long sz = smaps_field(a, "Size:");
    long rs = smaps_field(a, "Rss:");
    printf("%-44s Size %ld kB, Rss %ld kB, Locked %ld kB\n", "  smaps", sz, rs, lk);
    r = munlock(a, 4 * PG);
    show("munlock", r);
    lk = smaps_field(a, "Locked:");
    printf("%-44s %ld kB\n", "  smaps Locked after munlock", lk);
    r = mlock(a + PG, PG);
    show("mlock the middle page of four", r);
    lk = smaps_field(a + PG, "Locked:");
    printf("%-44s %ld kB\n", "  smaps Locked of the split-off VMA", lk);
    munlock(a, 4 * PG);
    char *big = anon(32);
    r = mlock(big, 32 * PG);
    limited("mlock 128 KiB over the 64 KiB limit", r, ENOMEM);
    munlock(big, 32 * PG);
    r = syscall(SYS_mlock2, a, PG, 2);
    show("mlock2 unknown flag", r);
    char *b = anon(4);
    r = syscall(SYS_mlock2, b, 4 * PG, MLOCK_ONFAULT);
    show("mlock2 MLOCK_ONFAULT", r);
    core("  not populated", b, 4);
    munlock(b, 4 * PG);
    munmap(b, 4 * PG);
    munmap(a + 2 * PG, PG);
    r = mlock(a, 4 * PG);
    show("mlock over a hole", r);
    r = munlock(a, 4 * PG);
    show("munlock over a hole", r);
    munmap(a, 4 * PG);
    r = mlock(a, PG);
    show("mlock unmapped", r);
    char *c = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
    printf("%-44s %s\n", "mmap MAP_LOCKED", mm(c));
    core("  populated", c, 3);
    show("madvise DONTNEED on locked memory", madvise(c, PG, MADV_DONTNEED));
    munmap(c, 3 * PG);
    c = mmap(NULL, 32 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
    limited("mmap MAP_LOCKED 128 KiB over the limit", c == MAP_FAILED ? -1 : 0, EAGAIN);
    if (c != MAP_FAILED)
        munmap(c, 32 * PG);
    show("mlockall 0", mlockall(0));
    show("mlockall MCL_ONFAULT alone", mlockall(MCL_ONFAULT));
    show("mlockall unknown flag", mlockall(8));
    r = mlockall(MCL_FUTURE);
    show("mlockall MCL_FUTURE", r);
    char *d = anon(2);
    core("  a later mapping is populated", d, 2);
    r = munlockall();
    show("munlockall", r);
    char *e = anon(2);
    core("  after munlockall it is not", e, 2);
    munmap(d, 2 * PG);
    munmap(e, 2 * PG);
    r = mlockall(MCL_FUTURE | MCL_ONFAULT);
    show("mlockall MCL_FUTURE|MCL_ONFAULT", r);
    d = anon(2);
    core("  a later mapping is not populated", d, 2);
    munlockall();
    munmap(d, 2 * PG);
    rl.rlim_cur = 0;
    setrlimit(RLIMIT_MEMLOCK, &rl);
    a = anon(1);
    r = mlock(a, PG);
    limited("mlock with RLIMIT_MEMLOCK 0", r, EPERM);
    munlock(a, PG);
    r = mlockall(MCL_FUTURE);
    limited("mlockall with RLIMIT_MEMLOCK 0", r, EPERM);
    munlockall();
    munmap(a, PG);
}

static void madvise_checks(void) {
    long r;
    int st;
    puts("== madvise");
    char *a = anon(2);
    memset(a, 0xab, 2 * PG);
    r = madvise(a, 2 * PG, MADV_DONTNEED);
    show("MADV_DONTNEED", r);
    printf("%-44s %d %d\n", "  bytes afterwards", a[0], a[PG + 7]);
    core("  resident", a, 2);
    show("unaligned start", madvise(a + 1, PG, MADV_NORMAL));
    show("advice 5", madvise(a, PG, 5));
    show("advice 200", madvise(a, PG, 200));
    show("length wrapping on page-align", madvise(a, 0xfffff800u, MADV_NORMAL));
    show("length 0", madvise(a, 0, MADV_NORMAL));
    show("MADV_RANDOM", madvise(a, PG, MADV_RANDOM));
    show("MADV_WILLNEED", madvise(a, 2 * PG, MADV_WILLNEED));
    show("MADV_REMOVE on private memory", madvise(a, PG, MADV_REMOVE));
    munmap(a + PG, PG);
    show("range with an unmapped page", madvise(a, 2 * PG, MADV_NORMAL));
    show("unmapped range", madvise(a + PG, PG, MADV_NORMAL));
    memset(a, 0x11, PG);
    r = madvise(a, PG, MADV_FREE);
    printf("%-44s %s, %s\n", "MADV_FREE", rc(r), a[0] == 0 || a[0] == 0x11 ? "old or zero" : "garbage");
    munmap(a, PG);

    char *s = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    memset(s, 0x22, 2 * PG);
    show("MADV_FREE on shared memory", madvise(s, PG, MADV_FREE));
    show("MADV_WIPEONFORK on shared memory", madvise(s, PG, MADV_WIPEONFORK));
    r = madvise(s, PG, MADV_REMOVE);
    show("MADV_REMOVE on shared memory", r);
    printf("%-44s %d %d\n", "  bytes of the removed and the kept page", s[0], s[PG]);
    munmap(s, 2 * PG);

    char *w = anon(3);
    memset(w, 0x5a, 3 * PG);
    r = madvise(w + PG, PG, MADV_WIPEONFORK);
    show("MADV_WIPEONFORK on the middle page", r);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        printf("  child sees %d %d %d\n", w[0], w[PG], w[2 * PG]);
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, &st, 0);
    printf("  parent keeps %d %d %d\n", w[0], w[PG], w[2 * PG]);
    r = madvise(w + PG, PG, MADV_KEEPONFORK);
    show("MADV_KEEPONFORK", r);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        printf("  child sees %d %d %d\n", w[0], w[PG], w[2 * PG]);
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, &st, 0);

    r = madvise(w, 3 * PG, MADV_DONTFORK);
    show("MADV_DONTFORK", r);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        volatile char c = w[PG];
        (void)c;
        _exit(0);
    }
    waitpid(pid, &st, 0);
    printf("%-44s %s\n", "  child touching it", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV ? "SIGSEGV" : "no fault");
    r = madvise(w, 3 * PG, MADV_DOFORK);
    show("MADV_DOFORK", r);
    fflush(stdout);
    pid = fork();
    if (pid == 0)
        _exit(w[PG]);
    waitpid(pid, &st, 0);
    printf("%-44s %s %d\n", "  child touching it", WIFEXITED(st) ? "exit" : "killed", WEXITSTATUS(st));
    munmap(w, 3 * PG);
}

static void mremap_checks(void) {
    puts("== mremap");
    char *a = anon(2), *b = anon(2);
    memset(a, 0x33, 2 * PG);
    void *r = mremap(a, 2 * PG, 2 * PG, MREMAP_FIXED, b);
    printf("%-44s %s\n", "MREMAP_FIXED without MREMAP_MAYMOVE", mm(r));
    r = mremap(a, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, a + PG);
    printf("%-44s %s\n", "MREMAP_FIXED onto an overlapping range", mm(r));
    r = mremap(a, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, b + 1);
    printf("%-44s %s\n", "MREMAP_FIXED to an unaligned address", mm(r));
    r = mremap(a, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, b);
    printf("%-44s %s, %s\n", "MREMAP_FIXED onto a mapping", mm(r), r == b ? "at new_addr" : "elsewhere");
    printf("%-44s %d %d\n", "  bytes at the new place", b[0], b[PG + 9]);
    unsigned char v[2];
    show("  old range mincore", mincore(a, 2 * PG, v));
    char *c = anon(2);
    memset(c, 0x44, 2 * PG);
    r = (void *)syscall(SYS_mremap, c, 2 * PG, 3 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
    printf("%-44s %s\n", "MREMAP_DONTUNMAP resizing", mm(r));
    r = (void *)syscall(SYS_mremap, c, 2 * PG, 2 * PG, MREMAP_DONTUNMAP, 0);
    printf("%-44s %s\n", "MREMAP_DONTUNMAP without MREMAP_MAYMOVE", mm(r));
    /* Raw calls: glibc's wrapper passes an unspecified new_addr with DONTUNMAP, and
     * today's kernels check it even when it is only a hint. */
    r = (void *)syscall(SYS_mremap, c, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 4097);
    printf("%-44s %s\n", "MREMAP_DONTUNMAP with an unaligned hint", mm(r));
    char *d = (void *)syscall(SYS_mremap, c, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
    printf("%-44s %s, %s\n", "MREMAP_DONTUNMAP", mm(d), d != c ? "moved" : "same place");
    printf("%-44s %d %d\n", "  bytes at the new place", d[0], d[PG + 9]);
    core("  old range still mapped, empty", c, 2);
    printf("%-44s %d %d\n", "  bytes at the old place", c[0], c[PG + 9]);
    r = mremap(c, PG, PG, 8);
    printf("%-44s %s\n", "unknown flag", mm(r));
    r = mremap(c, PG, 0, MREMAP_MAYMOVE);
    printf("%-44s %s\n", "new length 0", mm(r));
    r = mremap(c + 1, PG, PG, MREMAP_MAYMOVE);
    printf("%-44s %s\n", "unaligned address", mm(r));
    char *g = anon(4);
    munmap(g, PG);
    munmap(g + 3 * PG, PG);
    r = mremap(g + PG, 3 * PG, 4 * PG, MREMAP_MAYMOVE);
    printf("%-44s %s\n", "old range past the VMA", mm(r));
    munmap(g + PG, 2 * PG);
    munmap(c, 2 * PG);
    r = mremap(c, PG, 2 * PG, MREMAP_MAYMOVE);
    printf("%-44s %s\n", "unmapped old range", mm(r));
    r = mremap(c, 0, PG, MREMAP_MAYMOVE);
    printf("%-44s %s\n", "old length 0 of unmapped memory", mm(r));
    r = mremap(d, 0, PG, MREMAP_MAYMOVE);
    printf("%-44s %s\n", "old length 0 of private memory", mm(r));
    munmap(b, 2 * PG);
    munmap(d, 2 * PG);
}

static long fsize(int fd) {
    struct stat st;
    return fstat(fd, &st) ? -1 : (long)st.st_size;
}

static void file_checks(const char *path, int fd) {
    long r;
    puts("== truncate, ftruncate, fallocate");
    r = syscall(SYS_ftruncate, fd, 10000);
    long sz = fsize(fd);
    printf("%-44s %s, size %ld\n", "ftruncate 10000", rc(r), sz);
    r = syscall(SYS_truncate, path, 5000);
    sz = fsize(fd);
    printf("%-44s %s, size %ld\n", "truncate 5000", rc(r), sz);
    show("truncate -1", syscall(SYS_truncate, path, -1));
    show("truncate of a missing file gives ENOENT", syscall(SYS_truncate, "/nonexistent/mm-calls", 0) == -1 && errno == ENOENT ? 0 : -1);
    show("ftruncate of a bad fd", syscall(SYS_ftruncate, 999, 0));
    show("ftruncate past 2 GiB without O_LARGEFILE", syscall(SYS_ftruncate, fd, 0x80000000u));
    int ro = syscall(SYS_open, path, O_RDONLY);
    show("ftruncate of a read-only fd", syscall(SYS_ftruncate, ro, 0));
    r = fallocate(fd, 0, 0, 20000);
    sz = fsize(fd);
    printf("%-44s %s, size %ld\n", "fallocate 20000", rc(r), sz);
    r = fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 40000);
    sz = fsize(fd);
    printf("%-44s %s, size %ld\n", "fallocate KEEP_SIZE 40000", rc(r), sz);
    show("fallocate negative offset", fallocate(fd, 0, -1, 10));
    show("fallocate length 0", fallocate(fd, 0, 0, 0));
    show("fallocate of a bad fd", fallocate(999, 0, 0, 10));
    show("fallocate of a read-only fd", fallocate(ro, 0, 0, 10));
    show("fallocate unknown mode", fallocate(fd, 0x1000, 0, 10));
    int p[2];
    pipe(p);
    show("fallocate of a pipe", fallocate(p[1], 0, 0, 10));
    int nul = open("/dev/null", O_WRONLY);
    show("fallocate of /dev/null", fallocate(nul, 0, 0, 10));
    close(nul);
    close(p[0]);
    close(p[1]);
    close(ro);
}

static void maps_checks(const char *path, int fd) {
    puts("== /proc/self/maps");
    struct stat st;
    fstat(fd, &st);
    char *fm = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0);
    /* Guard pages unmapped on both sides, so no neighbour merges with it. */
    char *an = anon(6);
    munmap(an, PG);
    munmap(an + 5 * PG, PG);
    an += PG;
    char *brk0 = sbrk(0);
    sbrk(PG);
    brk0[0] = 1;
    an[0] = 1;
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int heap = 0, stack = 0, file_named = 0, ino_ok = 0, dev_ok = 0, anon_ok = 0, brk_in_heap = 0;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long s, e, off, ino;
        unsigned maj, min;
        char perms[8];
        int n = 0;
        if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %n", &s, &e, perms, &off, &maj, &min, &ino, &n) < 7)
            continue;
        size_t len = strlen(line);
        if (strstr(line, "[heap]")) {
            heap = 1;
            if (s <= (unsigned long)(uintptr_t)brk0 && (unsigned long)(uintptr_t)brk0 < e)
                brk_in_heap = 1;
        }
        if (strstr(line, "[stack]"))
            stack = 1;
        if (s == (unsigned long)(uintptr_t)fm) {
            file_named = strstr(line, path) != NULL && line[len - 1] == '\n';
            ino_ok = ino == (unsigned long)st.st_ino;
            dev_ok = maj == major(st.st_dev) && min == minor(st.st_dev);
        }
        if (s == (unsigned long)(uintptr_t)an)
            anon_ok = strcmp(line + len - 9, "00:00 0 \n") == 0 && strcmp(perms, "rw-p") == 0 && off == 0;
    }
    if (f)
        fclose(f);
    printf("%-44s %s\n", "a [heap] line", heap ? "yes" : "no");
    printf("%-44s %s\n", "  holding the break", brk_in_heap ? "yes" : "no");
    printf("%-44s %s\n", "a [stack] line", stack ? "yes" : "no");
    printf("%-44s %s\n", "file mapping line names the file", file_named ? "yes" : "no");
    printf("%-44s %s\n", "  inode matches stat", ino_ok ? "yes" : "no");
    printf("%-44s %s\n", "  device matches stat", dev_ok ? "yes" : "no");
    printf("%-44s %s\n", "anonymous line ends in \"00:00 0 \"", anon_ok ? "yes" : "no");
    long sz = smaps_field(an, "Size:");
    long rs = smaps_field(an, "Rss:");
    printf("%-44s Size %ld kB, Rss %ld kB\n", "smaps of 4 pages, 1 touched", sz, rs);
    munmap(fm, PG);
    munmap(an, 4 * PG);
}

int main(void) {
    char path[] = "/tmp/mm-calls-XXXXXX";
    root = geteuid() == 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    mmap_checks();
    mincore_checks();
    mlock_checks();
    madvise_checks();
    mremap_checks();
    int fd = mkstemp(path);
    if (fd < 0) {
        puts("mkstemp failed");
        return 1;
    }
    close(fd);
    fd = syscall(SYS_open, path, O_RDWR);
    file_checks(path, fd);
    maps_checks(path, fd);
    close(fd);
    unlink(path);
    return 0;
}
