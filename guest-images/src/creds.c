/* creds: the uid/gid family with Linux's rules (kernel/sys.c, kernel/groups.c,
 * kernel/uid16.c) and the capability transitions of security/commoncap.c, from a
 * root caller: getres[ug]id, setresuid permutations, setreuid's saved uid, seteuid and
 * setfsuid (the fs capabilities follow the fsuid), access() by the real uid, setuid
 * dropping everything and
 * setuid(0) refused afterwards, setgroups (EPERM, EINVAL, EFAULT, sorted), the 16-bit
 * calls (0xffff is "unchanged", ids above 65535 read as 65534), capget/capset rules,
 * keep-caps, kill and tgkill of a process of another uid (EPERM; SIGCONT in the
 * session allowed), a root-only file refused (EACCES) and chown refused (EPERM,
 * 16- and 32-bit) after the drop, /proc/self/status id lines, securebits, execve
 * (root regains its capabilities, keep-caps cleared). Every scenario runs
 * in its own child. Prints relations for capability sets (the host's bounding set
 * varies), never pids. Not run as root, it prints one line saying so. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <grp.h>

struct hdr {
    uint32_t version;
    int pid;
};
struct data {
    uint32_t effective, permitted, inheritable;
};
struct caps {
    uint64_t e, p, i;
};

#define V3 0x20080522
#define FS_SET ((1ull << 0) | (1ull << 1) | (1ull << 2) | (1ull << 3) | (1ull << 4) | (1ull << 9) | (1ull << 27) | (1ull << 32))
#define BIT(c) (1ull << (c))

static char path[64];
static uint64_t full; /* the starting permitted set */

static long ret(long r) {
    return r < 0 ? -errno : r;
}

static struct caps getcaps(void) {
    struct hdr h = {V3, 0};
    struct data d[2];
    struct caps c = {~0ull, ~0ull, ~0ull};
    if (syscall(SYS_capget, &h, d) == 0) {
        c.e = d[0].effective | (uint64_t)d[1].effective << 32;
        c.p = d[0].permitted | (uint64_t)d[1].permitted << 32;
        c.i = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
    }
    return c;
}

static long setcaps(uint64_t e, uint64_t p, uint64_t i, int pid) {
    struct hdr h = {V3, pid};
    struct data d[2] = {{(uint32_t)e, (uint32_t)p, (uint32_t)i}, {e >> 32, p >> 32, i >> 32}};
    return ret(syscall(SYS_capset, &h, d));
}

static const char *set_name(uint64_t s) {
    if (s == 0)
        return "empty";
    if (s == full)
        return "full";
    if (s == (full & FS_SET))
        return "fs set";
    if (s == (full & ~FS_SET))
        return "full without fs set";
    return "other";
}

static void show_caps(const char *when) {
    struct caps c = getcaps();
    printf("  caps %s: effective %s, permitted %s, inheritable %s\n", when, set_name(c.e), set_name(c.p),
           set_name(c.i));
}

static void show_ids(void) {
    uid_t r, e, s;
    gid_t gr, ge, gs;
    getresuid(&r, &e, &s);
    getresgid(&gr, &ge, &gs);
    long fsu = syscall(SYS_setfsuid32, -1), fsg = syscall(SYS_setfsgid32, -1);
    printf("  uids %u %u %u fs %ld, gids %u %u %u fs %ld\n", r, e, s, fsu, gr, ge, gs, fsg);
}

static void show_groups(void) {
    gid_t g[16];
    int n = getgroups(16, g);
    printf("  groups (%d):", n);
    for (int i = 0; i < n; i++)
        printf(" %u", g[i]);
    printf("\n");
}

static void run(const char *name, void (*f)(void)) {
    printf("%s:\n", name);
    pid_t p = fork();
    if (p == 0) {
        f();
        exit(0);
    }
    int st;
    waitpid(p, &st, 0);
    printf("  exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

static void resuid(void) {
    show_ids();
    printf("  setresuid(1000, 1001, 0): %ld\n", ret(setresuid(1000, 1001, 0)));
    show_ids();
    show_caps("with euid 1001, saved 0");
    printf("  setfsuid(0) returns old fsuid %ld\n", syscall(SYS_setfsuid32, 0));
    show_caps("with fsuid 0");
    printf("  setfsuid(1001) returns %ld\n", syscall(SYS_setfsuid32, 1001));
    show_caps("with fsuid 1001");
    long old = syscall(SYS_setfsuid32, 4242);
    printf("  setfsuid(4242) (not an id of ours) returns %ld, fsuid now %ld\n", old, syscall(SYS_setfsuid32, -1));
    printf("  seteuid(0): %ld\n", ret(seteuid(0)));
    show_ids();
    printf("  access(0600 root file, R_OK) with real uid 1000: %ld\n", ret(access(path, R_OK)));
    printf("  faccessat(AT_EACCESS) of it with euid 0: %ld\n", ret(faccessat(AT_FDCWD, path, R_OK, AT_EACCESS)));
    int fd = open(path, O_RDONLY);
    printf("  open of it with euid 0: %s\n", fd >= 0 ? "ok" : "failed");
    close(fd);
    show_caps("with euid 0 again");
    printf("  setresuid(-1, -1, -1): %ld\n", ret(setresuid(-1, -1, -1)));
    printf("  setreuid(-1, 1002): %ld\n", ret(setreuid(-1, 1002)));
    show_ids();
    show_caps("after leaving root entirely");
    printf("  setuid(0): %ld\n", ret(setuid(0)));
    printf("  setresuid(5, -1, -1): %ld\n", ret(setresuid(5, -1, -1)));
    printf("  setreuid(1002, 1000): %ld\n", ret(setreuid(1002, 1000)));
    show_ids();
    printf("  setuid(1002): %ld\n", ret(setuid(1002)));
    show_ids();
    old = syscall(SYS_setfsuid32, 1000);
    printf("  setfsuid(1000) (the saved uid) returns %ld, fsuid now %ld\n", old, syscall(SYS_setfsuid32, -1));
    printf("  setgid(5): %ld\n", ret(setgid(5)));
    printf("  setgid(0): %ld\n", ret(setgid(0)));
    printf("  setregid(7, -1): %ld\n", ret(setregid(7, -1)));
    printf("  setresgid(0, 0, 0): %ld\n", ret(setresgid(0, 0, 0)));
    old = syscall(SYS_setfsgid32, 9);
    printf("  setfsgid(9) returns %ld, fsgid now %ld\n", old, syscall(SYS_setfsgid32, -1));
    gid_t none[1] = {0};
    printf("  setgroups(1, {0}): %ld\n", ret(setgroups(1, none)));
}

static void gids(void) {
    gid_t g[3] = {1000, 3, 5};
    printf("  setgroups(3, {1000, 3, 5}): %ld\n", ret(setgroups(3, g)));
    show_groups();
    printf("  setgroups(65537, ...): %ld\n", ret(syscall(SYS_setgroups32, 65537, g)));
    printf("  setgroups(-1, ...): %ld\n", ret(syscall(SYS_setgroups32, -1, g)));
    printf("  setgroups(2, bad): %ld\n", ret(syscall(SYS_setgroups32, 2, (void *)16)));
    gid_t bad[2] = {4, (gid_t)-1};
    printf("  setgroups(2, {4, -1}): %ld\n", ret(syscall(SYS_setgroups32, 2, bad)));
    show_groups();
    printf("  getgroups(1, ...): %ld\n", ret(getgroups(1, g)));
    printf("  getgroups(-1, ...): %ld\n", ret(syscall(SYS_getgroups32, -1, g)));
    printf("  getgroups(3, bad): %ld\n", ret(syscall(SYS_getgroups32, 3, (void *)16)));
    printf("  getgroups(0, NULL): %ld\n", ret(getgroups(0, NULL)));
    printf("  setgid(7): %ld\n", ret(setgid(7)));
    show_ids();
    printf("  setresgid(8, 9, 10): %ld\n", ret(setresgid(8, 9, 10)));
    show_ids();
    printf("  setregid(-1, 11): %ld\n", ret(setregid(-1, 11)));
    show_ids();
}

static void ids16(void) {
    uint16_t g16[4] = {70, 0xffff, 0, 0};
    printf("  setgroups16(2, {70, 0xffff}): %ld\n", ret(syscall(SYS_setgroups, 2, g16)));
    g16[1] = 60;
    printf("  setgroups16(2, {70, 60}): %ld\n", ret(syscall(SYS_setgroups, 2, g16)));
    show_groups();
    printf("  setuid16(0xffff): %ld\n", ret(syscall(SYS_setuid, 0xffff)));
    printf("  setresgid32(80000, 80000, 80000): %ld\n", ret(setresgid(80000, 80000, 80000)));
    printf("  setresuid32(70000, 70001, 0): %ld\n", ret(setresuid(70000, 70001, 0)));
    long u = syscall(SYS_getuid), eu = syscall(SYS_geteuid), g = syscall(SYS_getgid), eg = syscall(SYS_getegid);
    printf("  getuid16 %ld geteuid16 %ld getgid16 %ld getegid16 %ld\n", u, eu, g, eg);
    u = syscall(SYS_getuid32), eu = syscall(SYS_geteuid32);
    printf("  getuid32 %ld geteuid32 %ld\n", u, eu);
    uint16_t r = 1, e = 1, s = 1;
    long rr = ret(syscall(SYS_getresuid, &r, &e, &s));
    printf("  getresuid16: %ld -> %u %u %u\n", rr, r, e, s);
    printf("  getresgid16: %ld -> ", ret(syscall(SYS_getresgid, &r, &e, &s)));
    printf("%u %u %u\n", r, e, s);
    printf("  getresuid16 bad euid pointer: %ld\n", ret(syscall(SYS_getresuid, &r, (void *)16, &s)));
    printf("  setreuid16(0xffff, 0xffff): %ld\n", ret(syscall(SYS_setreuid, 0xffff, 0xffff)));
    printf("  setresuid16(0xffff, 0, 0xffff): %ld\n", ret(syscall(SYS_setresuid, 0xffff, 0, 0xffff)));
    show_ids();
    long old = syscall(SYS_setfsuid, 0x12345);
    printf("  setfsuid16(0x12345) (truncated to 0x2345) returns %ld, fsuid now %ld\n", old, syscall(SYS_setfsuid32, -1));
    printf("  setfsuid16(0xffff) returns %ld\n", syscall(SYS_setfsuid, 0xffff));
    printf("  setuid16(100): %ld\n", ret(syscall(SYS_setuid, 100)));
    show_ids();
    printf("  setuid16(0): %ld\n", ret(syscall(SYS_setuid, 0)));
    printf("  setgroups16(0, NULL): %ld\n", ret(syscall(SYS_setgroups, 0, NULL)));
    printf("  getgroups16(0, NULL): %ld\n", ret(syscall(SYS_getgroups, 0, NULL)));
    printf("  getgroups16: %ld -> ", ret(syscall(SYS_getgroups, 4, g16)));
    printf("%u %u\n", g16[0], g16[1]);
}

static void drop(void) {
    int fd = open(path, O_RDWR);
    gid_t g[2] = {20, 10};
    setgroups(2, g);
    printf("  setgid(100): %ld\n", ret(setgid(100)));
    printf("  setuid(65534): %ld\n", ret(setuid(65534)));
    show_ids();
    show_caps("after setuid(65534)");
    printf("  setuid(0): %ld\n", ret(setuid(0)));
    printf("  setgroups(0, NULL): %ld\n", ret(setgroups(0, NULL)));
    printf("  open of the 0600 root file: %ld\n", ret(open(path, O_RDONLY)));
    printf("  chown32 of it: %ld\n", ret(syscall(SYS_chown32, path, 65534, -1)));
    printf("  chown16 of it: %ld\n", ret(syscall(SYS_chown, path, 65534, 0xffff)));
    printf("  lchown16 of it: %ld\n", ret(syscall(SYS_lchown, path, 0xffff, 100)));
    printf("  fchown16 of an fd opened before: %ld\n", ret(syscall(SYS_fchown, fd, 65534, 0xffff)));
    printf("  fchown16 unchanged ids: %ld\n", ret(syscall(SYS_fchown, fd, 0xffff, 0xffff)));
    printf("  kill(parent, 0): %ld\n", ret(kill(getppid(), 0)));
    printf("  kill(parent, SIGCONT) (same session): %ld\n", ret(kill(getppid(), SIGCONT)));
    printf("  tgkill(parent, parent, 0): %ld\n", ret(syscall(SYS_tgkill, getppid(), getppid(), 0)));
    printf("  kill(self, 0): %ld\n", ret(kill(getpid(), 0)));
    char buf[4096];
    int s = open("/proc/self/status", O_RDONLY);
    ssize_t n = read(s, buf, sizeof buf - 1);
    close(s);
    buf[n > 0 ? n : 0] = 0;
    for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
        if (!strncmp(l, "Uid:", 4) || !strncmp(l, "Gid:", 4) || !strncmp(l, "Groups:", 7) || !strncmp(l, "CapEff:", 7) ||
            !strncmp(l, "CapPrm:", 7) || !strncmp(l, "CapInh:", 7))
            printf("  status %s\n", l);
}

static void keepcaps(void) {
    printf("  PR_GET_KEEPCAPS: %ld\n", ret(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0)));
    printf("  PR_SET_KEEPCAPS 2: %ld\n", ret(prctl(PR_SET_KEEPCAPS, 2, 0, 0, 0)));
    printf("  PR_SET_KEEPCAPS 1: %ld\n", ret(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0)));
    printf("  PR_GET_KEEPCAPS: %ld\n", ret(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0)));
    printf("  PR_GET_SECUREBITS: %#lx\n", ret(prctl(PR_GET_SECUREBITS, 0, 0, 0, 0)));
    printf("  PR_SET_SECUREBITS keep-caps and its lock: %ld\n", ret(prctl(PR_SET_SECUREBITS, 0x30, 0, 0, 0)));
    printf("  PR_SET_KEEPCAPS 0 when locked: %ld\n", ret(prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0)));
    printf("  PR_SET_SECUREBITS releasing the lock: %ld\n", ret(prctl(PR_SET_SECUREBITS, 0x10, 0, 0, 0)));
    printf("  PR_SET_SECUREBITS unknown bit: %ld\n", ret(prctl(PR_SET_SECUREBITS, 0x1030, 0, 0, 0)));
    printf("  PR_GET_SECUREBITS: %#lx\n", ret(prctl(PR_GET_SECUREBITS, 0, 0, 0, 0)));
    printf("  PR_CAPBSET_READ CAP_SETUID: %ld\n", ret(prctl(PR_CAPBSET_READ, 7, 0, 0, 0)));
    printf("  PR_CAPBSET_READ 999: %ld\n", ret(prctl(PR_CAPBSET_READ, 999, 0, 0, 0)));
    printf("  setresuid(1000, 1000, 1000): %ld\n", ret(setresuid(1000, 1000, 1000)));
    show_ids();
    show_caps("kept");
    struct caps c = getcaps();
    printf("  capset effective = permitted: %ld\n", setcaps(c.p, c.p, 0, 0));
    show_caps("raised");
    printf("  capset of the parent: %ld\n", setcaps(c.p, c.p, 0, getppid()));
    printf("  capset of own pid: %ld\n", setcaps(c.p, c.p, 0, getpid()));
    printf("  setuid(0) with CAP_SETUID: %ld\n", ret(setuid(0)));
    show_ids();
    show_caps("after setuid(0)");
}

static void capsets(void) {
    struct caps c = getcaps();
    uint64_t p = c.p & ~BIT(5);
    printf("  capset dropping CAP_KILL and CAP_SETPCAP from effective, CAP_KILL from permitted: %ld\n",
           setcaps(p & ~BIT(8), p, 0, 0));
    printf("  capset inheritable CAP_KILL (not permitted): %ld\n", setcaps(p & ~BIT(8), p, BIT(5), 0));
    printf("  capset inheritable CAP_CHOWN (permitted): %ld\n", setcaps(p & ~BIT(8), p, BIT(0), 0));
    printf("  capset permitted with CAP_KILL again: %ld\n", setcaps(p & ~BIT(8), c.p, BIT(0), 0));
    printf("  capset effective beyond permitted: %ld\n", setcaps(c.p, p, BIT(0), 0));
    struct hdr h = {0x19980330, 0};
    struct data d[2] = {{1, 1, 0}, {0, 0, 0}};
    printf("  capset v1 effective=permitted={CAP_CHOWN}: %ld\n", ret(syscall(SYS_capset, &h, d)));
    c = getcaps();
    printf("  now effective %llx permitted %llx inheritable %llx\n", (unsigned long long)c.e,
           (unsigned long long)c.p, (unsigned long long)c.i);
    h = (struct hdr){0x12345678, 0};
    long r = ret(syscall(SYS_capset, &h, d));
    printf("  capset bad version: %ld, version written %#x\n", r, h.version);
    h = (struct hdr){V3, 0};
    printf("  capset bad data: %ld\n", ret(syscall(SYS_capset, &h, (void *)16)));
    printf("  capset bad header: %ld\n", ret(syscall(SYS_capset, (void *)16, d)));
    printf("  PR_CAPBSET_DROP without CAP_SETPCAP: %ld\n", ret(prctl(PR_CAPBSET_DROP, 5, 0, 0, 0)));
    printf("  PR_SET_SECUREBITS noroot without CAP_SETPCAP: %ld\n", ret(prctl(PR_SET_SECUREBITS, 1, 0, 0, 0)));
    printf("  PR_SET_SECUREBITS exec-restrict-file without CAP_SETPCAP: %ld\n",
           ret(prctl(PR_SET_SECUREBITS, 0x100, 0, 0, 0)));
    printf("  PR_GET_SECUREBITS: %#lx\n", ret(prctl(PR_GET_SECUREBITS, 0, 0, 0, 0)));
    printf("  PR_CAP_AMBIENT raise CAP_CHOWN (not inheritable): %ld\n",
           ret(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, 0, 0, 0)));
    printf("  PR_CAP_AMBIENT is-set 999: %ld\n", ret(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 999, 0, 0)));
    printf("  PR_CAP_AMBIENT clear-all with an argument: %ld\n",
           ret(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 1, 0, 0)));
    printf("  setuid(1000) without CAP_SETUID: %ld\n", ret(setuid(1000)));
}

static void killer(void) {
    pid_t x = fork();
    if (x == 0) {
        setuid(1000);
        pause();
        _exit(0);
    }
    pid_t y = fork();
    if (y == 0) {
        setresuid(2000, 2000, 1000);
        usleep(100000);
        printf("  kill(uid 1000 process, 0) from uid 2000, saved 1000: %ld\n", ret(kill(x, 0)));
        printf("  kill(uid 1000 process, SIGTERM): %ld\n", ret(kill(x, SIGTERM)));
        printf("  kill(uid 1000 process, SIGCONT): %ld\n", ret(kill(x, SIGCONT)));
        printf("  tgkill(uid 1000 process, SIGTERM): %ld\n", ret(syscall(SYS_tgkill, x, x, SIGTERM)));
        printf("  seteuid(1000) (the saved uid): %ld\n", ret(seteuid(1000)));
        printf("  kill(uid 1000 process, 0) with euid 1000: %ld\n", ret(kill(x, 0)));
        _exit(0);
    }
    int st;
    waitpid(y, &st, 0);
    printf("  still there: %s\n", kill(x, 0) == 0 ? "yes" : "no");
    kill(x, SIGKILL);
    waitpid(x, &st, 0);
    printf("  uid 1000 process: %s\n", WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "exited");
}

static char *self;

/* After execve: root gets its bounding set back, keep-caps is cleared, the saved
 * uid takes the effective one. */
static void after_exec(void) {
    show_ids();
    struct caps c = getcaps();
    printf("  after execve: effective %s, permitted %s, keep-caps %ld\n", c.e ? "not empty" : "empty",
           c.p ? "not empty" : "empty", ret(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0)));
}

static void exec_root(void) {
    printf("  setresuid(0, 0, 1000): %ld\n", ret(setresuid(0, 0, 1000)));
    prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
    printf("  capset all empty: %ld\n", setcaps(0, 0, 0, 0));
    execl(self, self, "exec", NULL);
    printf("  execve failed: %d\n", errno);
}

static void exec_user(void) {
    prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
    setresuid(1000, 1000, 1000);
    show_caps("before execve as uid 1000");
    execl(self, self, "exec", NULL);
    printf("  execve failed: %d\n", errno);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    self = argv[0];
    if (argc > 1 && !strcmp(argv[1], "exec")) {
        after_exec();
        return 0;
    }
    if (geteuid() != 0) {
        printf("creds: needs root\n");
        return 0;
    }
    strcpy(path, "/tmp/creds-XXXXXX");
    int fd = mkstemp(path);
    fchmod(fd, 0600);
    close(fd);
    full = getcaps().p;
    printf("starting as root: uid %u euid %u gid %u egid %u\n", getuid(), geteuid(), getgid(), getegid());
    show_caps("at start");
    gid_t g[1] = {0};
    setgroups(1, g);
    run("setresuid/setreuid/seteuid/setfsuid", resuid);
    run("groups and gids", gids);
    run("16-bit calls", ids16);
    run("setuid(65534) drops all", drop);
    run("keep-caps", keepcaps);
    run("capset rules", capsets);
    run("kill across uids", killer);
    run("execve as root with empty sets", exec_root);
    run("execve as uid 1000 with keep-caps", exec_user);
    unlink(path);
    return 0;
}
