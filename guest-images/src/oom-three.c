/* Three processes exhaust memory; 2.4's OOM killer picks one by badness().
 *
 * Run under growsdown with --mem 16M (emulator only: natively there is no such
 * limit and all three finish; the test is tests/oom.rs, not the native manifest).
 *
 * Children, each mapping its memory anonymously at once (so total_vm counts it
 * from the start) and touching it only when the parent says so, one after the
 * other, so that the order of every fault is fixed:
 *   "nice"   5 MiB, niced to 10: badness total_vm x 2 (nice > 0)
 *   "small"  4 MiB
 *   "big"    8 MiB: the biggest; it is the one that runs out of memory
 * "big" faults when memory is gone; badness() chooses "nice" (about 2 x 1300
 * points against about 2100), which gets SIGKILL while it waits in read();
 * "big" retries its fault once "nice" has exited and finishes. The parent
 * reports which child died by which signal and the others' checksums.
 *
 * With the argument "alone", one process alone runs out (see alone()).
 *
 * Run as root, every process drops to nobody first, so that badness() sees the
 * same (non-root, no CAP_SYS_RAWIO) processes whoever runs the test. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1024 * 1024)

struct child {
    const char *name;
    size_t bytes;
    int nice;
    pid_t pid;
    int cmd;   /* parent -> child */
    int reply; /* child -> parent */
};

static void fail(const char *what)
{
    printf("error: %s: %s\n", what, strerror(errno));
    exit(2);
}

/* Reads one byte; 0 at end of file. */
static int get(int fd, char *c)
{
    ssize_t n;
    do {
        n = read(fd, c, 1);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        fail("read");
    return (int)n;
}

static void child_main(struct child *c)
{
    unsigned char *p;
    unsigned long sum = 0;
    size_t i;
    char cmd;

    if (c->nice && setpriority(PRIO_PROCESS, 0, c->nice) != 0)
        fail("setpriority");
    p = mmap(0, c->bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        fail("mmap");
    if (write(c->reply, "r", 1) != 1)
        fail("write");
    /* "t": touch every page; "s": checksum, report, exit. */
    while (get(c->cmd, &cmd) == 1) {
        if (cmd == 't') {
            for (i = 0; i < c->bytes; i += 4096)
                p[i] = (unsigned char)(i / 4096 * 7 + c->bytes / MIB);
            if (write(c->reply, "t", 1) != 1)
                fail("write");
        } else {
            for (i = 0; i < c->bytes; i += 4096)
                sum = sum * 31 + p[i];
            if (write(c->reply, &sum, sizeof sum) != (ssize_t)sizeof sum)
                fail("write");
            _exit(0);
        }
    }
    _exit(3);
}

/* Sends `cmd` and waits for `len` bytes of answer; 0 if the child is gone. */
static int ask(struct child *c, char cmd, void *answer, size_t len)
{
    size_t got = 0;
    if (write(c->cmd, &cmd, 1) != 1) {
        if (errno == EPIPE)
            return 0;
        fail("write");
    }
    while (got < len) {
        if (get(c->reply, (char *)answer + got) == 0)
            return 0;
        got++;
    }
    return 1;
}

/* "alone": one process touches more than there is; the OOM killer can only choose
 * it, and it dies as the faulting process (growsdown's kill line names the OOM
 * killer). */
static int alone(void)
{
    size_t bytes = 64 * MIB, i;
    /* More than memory: 2.4's vm_enough_memory refuses a private writable mapping
     * that big (overcommit_memory 0), unless MAP_NORESERVE skips the check. */
    unsigned char *p = mmap(0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("alone: 64 MiB mmap: %s\n", p == MAP_FAILED ? strerror(errno) : "mapped");
    if (p != MAP_FAILED)
        munmap(p, bytes);
    p = mmap(0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        fail("mmap MAP_NORESERVE");
    printf("alone: touching 64 MiB (MAP_NORESERVE)\n");
    for (i = 0; i < bytes; i += 4096)
        p[i] = 1;
    printf("alone: survived\n");
    return 0;
}

int main(int argc, char **argv)
{
    struct child kids[3] = {
        {"nice", 5 * MIB, 10, 0, -1, -1},
        {"small", 4 * MIB, 0, 0, -1, -1},
        {"big", 8 * MIB, 0, 0, -1, -1},
    };
    unsigned long sums[3];
    int alive[3];
    int i, j;
    char r;

    setvbuf(stdout, 0, _IONBF, 0);
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
        fail("dropping root");
    if (argc > 1 && strcmp(argv[1], "alone") == 0)
        return alone();
    signal(SIGPIPE, SIG_IGN);
    for (i = 0; i < 3; i++) {
        int down[2], up[2];
        if (pipe(down) != 0 || pipe(up) != 0)
            fail("pipe");
        kids[i].pid = fork();
        if (kids[i].pid < 0)
            fail("fork");
        if (kids[i].pid == 0) {
            /* Only this child's own ends stay open. */
            for (j = 0; j < i; j++) {
                close(kids[j].cmd);
                close(kids[j].reply);
            }
            close(down[1]);
            close(up[0]);
            kids[i].cmd = down[0];
            kids[i].reply = up[1];
            child_main(&kids[i]);
        }
        close(down[0]);
        close(up[1]);
        kids[i].cmd = down[1];
        kids[i].reply = up[0];
        if (get(kids[i].reply, &r) != 1)
            fail("child start");
    }
    printf("three children mapped 5, 4 and 8 MiB\n");
    /* Touch in a fixed order: nice, small, then big, which runs out. */
    for (i = 0; i < 3; i++) {
        alive[i] = ask(&kids[i], 't', &r, 1);
        printf("%s touched its memory: %s\n", kids[i].name, alive[i] ? "yes" : "no (gone)");
    }
    for (i = 0; i < 3; i++) {
        alive[i] = alive[i] && ask(&kids[i], 's', &sums[i], sizeof sums[i]);
    }
    for (i = 0; i < 3; i++) {
        int st;
        if (waitpid(kids[i].pid, &st, 0) != kids[i].pid)
            fail("waitpid");
        if (WIFSIGNALED(st))
            printf("%s: killed by signal %d (%s)\n", kids[i].name, WTERMSIG(st),
                   WTERMSIG(st) == SIGKILL ? "SIGKILL" : "other");
        else if (alive[i])
            printf("%s: exit %d, checksum %08lx\n", kids[i].name, WEXITSTATUS(st), sums[i]);
        else
            printf("%s: exit %d without a checksum\n", kids[i].name, WEXITSTATUS(st));
    }
    return 0;
}
