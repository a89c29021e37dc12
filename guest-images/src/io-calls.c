/* io-calls: the vectored and advisory file calls — preadv/pwritev, preadv2/pwritev2
 * (position -1, RWF_APPEND, RWF_NOWAIT on an empty pipe, RWF_DSYNC, unknown flags),
 * memfd_create (flags, names, sealing, the /proc/self/fd link), posix_fadvise,
 * readahead, sync_file_range, personality — each with its errors. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static void say(const char *what, long r) {
    if (r < 0)
        printf("%s: -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%s: %ld\n", what, r);
}

/* The raw calls, with i386's split 64-bit positions. */
static long rpreadv2(int fd, struct iovec *v, int n, long long pos, int flags) {
    return syscall(SYS_preadv2, fd, v, n, (unsigned)pos, (unsigned)(pos >> 32), flags);
}
static long rpwritev2(int fd, struct iovec *v, int n, long long pos, int flags) {
    return syscall(SYS_pwritev2, fd, v, n, (unsigned)pos, (unsigned)(pos >> 32), flags);
}

int main(void) {
    setvbuf(stdout, 0, _IONBF, 0);
    char path[] = "/tmp/io-calls-XXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    char a[4] = "abcd", b[6] = "efghij";
    struct iovec w[2] = {{a, 4}, {b, 6}};
    say("pwritev at 3", pwritev(fd, w, 2, 3));
    say("file position after pwritev", lseek(fd, 0, SEEK_CUR));
    char r1[5] = {0}, r2[8] = {0};
    struct iovec rv[2] = {{r1, 4}, {r2, 7}};
    say("preadv at 0", preadv(fd, rv, 2, 0));
    printf("read %02x%02x%02x|%s|%s\n", r1[0], r1[1], r1[2], r1 + 3, r2);
    say("preadv negative position", preadv(fd, rv, 2, -2));
    say("preadv bad fd", preadv(99, rv, 2, 0));
    say("preadv bad iovec", syscall(SYS_preadv, fd, 8, 2, 0, 0));
    say("preadv 1025 iovecs", syscall(SYS_preadv, fd, rv, 1025, 0, 0));
    memset(r1, 0, sizeof r1);
    lseek(fd, 5, SEEK_SET);
    struct iovec one = {r1, 4};
    say("preadv2 at -1 (the file position)", rpreadv2(fd, &one, 1, -1, 0));
    printf("read %s, position now %ld\n", r1, (long)lseek(fd, 0, SEEK_CUR));
    say("preadv2 position -2", rpreadv2(fd, &one, 1, -2, 0));
    say("preadv2 unknown flag", rpreadv2(fd, &one, 1, 0, 0x4000));
    say("preadv2 RWF_HIPRI", rpreadv2(fd, &one, 1, 0, RWF_HIPRI));
    say("preadv2 RWF_NOWAIT on a file", rpreadv2(fd, &one, 1, 0, RWF_NOWAIT));
    struct iovec z = {"Z", 1};
    say("pwritev2 RWF_APPEND at 0", rpwritev2(fd, &z, 1, 0, RWF_APPEND));
    struct stat st;
    fstat(fd, &st);
    printf("size now %ld\n", (long)st.st_size);
    say("pwritev2 RWF_DSYNC", rpwritev2(fd, &z, 1, 1, RWF_DSYNC));
    say("pwritev2 RWF_SYNC at -1", rpwritev2(fd, &z, 1, -1, RWF_SYNC));
    int p[2];
    pipe(p);
    say("preadv2 RWF_NOWAIT on an empty pipe", rpreadv2(p[0], &one, 1, -1, RWF_NOWAIT));
    say("preadv on a pipe", preadv(p[0], &one, 1, 0));
    say("pwritev2 to a pipe, position -1", rpwritev2(p[1], &z, 1, -1, 0));
    say("preadv2 RWF_NOWAIT on a pipe with data", rpreadv2(p[0], &one, 1, -1, RWF_NOWAIT));

    /* posix_fadvise / readahead / sync_file_range */
    printf("fadvise SEQUENTIAL: %s\n", strerrorname_np(posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)) ?: "0");
    printf("fadvise DONTNEED: %d\n", posix_fadvise(fd, 0, 4096, POSIX_FADV_DONTNEED));
    printf("fadvise bad advice: %s\n", strerrorname_np(posix_fadvise(fd, 0, 0, 9)));
    printf("fadvise negative length: %s\n", strerrorname_np(posix_fadvise(fd, 0, -1, POSIX_FADV_NORMAL)));
    printf("fadvise on a pipe: %s\n", strerrorname_np(posix_fadvise(p[0], 0, 0, POSIX_FADV_NORMAL)));
    printf("fadvise bad fd: %s\n", strerrorname_np(posix_fadvise(99, 0, 0, POSIX_FADV_NORMAL)));
    say("readahead", readahead(fd, 0, 4096));
    say("readahead on a pipe", readahead(p[0], 0, 4096));
    say("readahead bad fd", readahead(99, 0, 4096));
    say("sync_file_range", sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE));
    say("sync_file_range bad flags", sync_file_range(fd, 0, 0, 0x10));
    say("sync_file_range negative offset", sync_file_range(fd, -1, 0, 0));
    say("sync_file_range on a pipe", sync_file_range(p[0], 0, 0, 0));

    /* memfd_create */
    int m = memfd_create("growsdown-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    say("memfd_create", m >= 0 ? 0 : -1);
    char link[64], tgt[128] = {0};
    snprintf(link, sizeof link, "/proc/self/fd/%d", m);
    readlink(link, tgt, sizeof tgt - 1);
    printf("link: %s\n", tgt);
    printf("FD_CLOEXEC: %d\n", fcntl(m, F_GETFD) & FD_CLOEXEC);
    say("write", write(m, "hello", 5));
    say("F_ADD_SEALS write", fcntl(m, F_ADD_SEALS, F_SEAL_WRITE));
    say("F_GET_SEALS", fcntl(m, F_GET_SEALS));
    say("write after the seal", write(m, "x", 1));
    say("pread", pread(m, tgt, 5, 0));
    printf("data %.5s\n", tgt);
    int m2 = memfd_create("nosealing", 0);
    say("F_ADD_SEALS without MFD_ALLOW_SEALING", fcntl(m2, F_ADD_SEALS, F_SEAL_WRITE));
    say("F_GETFD of a memfd without MFD_CLOEXEC", fcntl(m2, F_GETFD));
    say("memfd_create unknown flag", memfd_create("x", 0x100));
    say("memfd_create huge bits without MFD_HUGETLB", memfd_create("x", 21 << 26));
    say("memfd_create EXEC|NOEXEC_SEAL", memfd_create("x", 0x8 | 0x10));
    char name[260];
    memset(name, 'n', sizeof name);
    name[249] = 0;
    int m3 = memfd_create(name, 0);
    say("memfd_create 249-byte name", m3 >= 0 ? 0 : -1);
    name[249] = 'n';
    name[250] = 0;
    say("memfd_create 250-byte name", memfd_create(name, 0));
    say("memfd_create bad name pointer", syscall(SYS_memfd_create, 8, 0));
    ftruncate(m2, 4096);
    char *map = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, m2, 0);
    strcpy(map, "through the mapping");
    char back[32] = {0};
    pread(m2, back, 19, 0);
    printf("memfd mapped shared, read back: %s\n", back);

    /* personality: the starting value is the caller's (setarch -R sets
     * ADDR_NO_RANDOMIZE), so it starts from a known one. */
    personality(PER_LINUX);
    say("personality query", personality(0xffffffff));
    say("set ADDR_NO_RANDOMIZE", personality(ADDR_NO_RANDOMIZE));
    say("query", personality(0xffffffff));
    say("set PER_LINUX32", personality(PER_LINUX32));
    say("query", personality(0xffffffff));
    personality(PER_LINUX);
    return 0;
}
