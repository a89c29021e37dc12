/* futex-fork: shared (non-private) futexes between processes, on a word in a
 * MAP_SHARED|MAP_ANONYMOUS page inherited across fork. The child sleeps in
 * FUTEX_WAIT and the parent's FUTEX_WAKE returns 1 (retried until it does, so that
 * the count never depends on timing); the reverse direction; a FUTEX_PRIVATE_FLAG
 * wake from the parent finds no waiter (0) while the child sleeps, then a shared one
 * wakes it; a child waiting with FUTEX_PRIVATE_FLAG is not woken by the parent's
 * shared wake (0) and times out. Results are passed back in the shared page and
 * printed by the parent. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long fx(int *u, int op, int val, const struct timespec *ts, int *u2, int val3) {
    return syscall(SYS_futex, u, op, val, ts, u2, val3);
}
static const char *res(long r, int err) {
    static char b[4][32];
    static int i;
    i = (i + 1) % 4;
    if (r < 0)
        snprintf(b[i], sizeof b[i], "%s", strerrorname_np(err));
    else
        snprintf(b[i], sizeof b[i], "%ld", r);
    return b[i];
}

/* Waits (bounded) until process PID sleeps; gives up quietly without /proc. */
static void wait_asleep(int pid) {
    char path[64], b[256];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    for (int i = 0; i < 100000; i++) {
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            return;
        int n = (int)read(fd, b, sizeof b - 1);
        close(fd);
        if (n > 0) {
            b[n] = 0;
            char *q = strrchr(b, ')');
            if (q && q[1] == ' ' && q[2] == 'S')
                return;
        }
        sched_yield();
    }
}

/* FUTEX_WAKE (shared) until it wakes one, at most ~2 s; returns the last result. */
static long wake_one(int *u) {
    long r = 0;
    for (int i = 0; i < 20000; i++) {
        r = fx(u, FUTEX_WAKE, 1, NULL, NULL, 0);
        if (r != 0)
            break;
        usleep(100);
    }
    return r;
}

struct shared {
    int w, announce, w2, announce2, w3, announce3;
    long c_ret, c_wake, c_ret3;
    int c_err, c_err3;
};

int main(void) {
    setvbuf(stdout, 0, _IONBF, 0);
    struct shared *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        return 1;

    /* The child waits, the parent wakes. */
    pid_t c = fork();
    if (c == 0) {
        __atomic_store_n(&sh->announce, 1, __ATOMIC_SEQ_CST);
        sh->c_ret = fx(&sh->w, FUTEX_WAIT, 0, NULL, NULL, 0);
        sh->c_err = errno;
        _exit(0);
    }
    while (!__atomic_load_n(&sh->announce, __ATOMIC_SEQ_CST))
        sched_yield();
    wait_asleep(c);
    long priv = fx(&sh->w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    int perr = errno;
    long shared = wake_one(&sh->w);
    int serr = errno;
    __atomic_store_n(&sh->w, 1, __ATOMIC_SEQ_CST);
    int st;
    waitpid(c, &st, 0);
    printf("parent: private wake of the waiting child: %s\n", res(priv, perr));
    printf("parent: shared wake: %s\n", res(shared, serr));
    printf("child: FUTEX_WAIT returned %s; exit status %d\n", res(sh->c_ret, sh->c_err), WEXITSTATUS(st));

    /* The parent waits, the child wakes. */
    c = fork();
    if (c == 0) {
        while (!__atomic_load_n(&sh->announce2, __ATOMIC_SEQ_CST))
            sched_yield();
        sh->c_wake = wake_one(&sh->w2);
        _exit(0);
    }
    __atomic_store_n(&sh->announce2, 1, __ATOMIC_SEQ_CST);
    long r = fx(&sh->w2, FUTEX_WAIT, 0, NULL, NULL, 0);
    int err = errno;
    waitpid(c, &st, 0);
    printf("parent: FUTEX_WAIT returned %s\n", res(r, err));
    printf("child: shared wake: %ld; exit status %d\n", sh->c_wake, WEXITSTATUS(st));

    /* The child waits with FUTEX_PRIVATE_FLAG: a shared wake does not reach it. */
    c = fork();
    if (c == 0) {
        struct timespec ts = {0, 10000000};
        __atomic_store_n(&sh->announce3, 1, __ATOMIC_SEQ_CST);
        sh->c_ret3 = fx(&sh->w3, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
        sh->c_err3 = errno;
        _exit(0);
    }
    while (!__atomic_load_n(&sh->announce3, __ATOMIC_SEQ_CST))
        sched_yield();
    wait_asleep(c);
    r = fx(&sh->w3, FUTEX_WAKE, 1, NULL, NULL, 0);
    err = errno;
    waitpid(c, &st, 0);
    printf("parent: shared wake of a child in a private wait: %s\n", res(r, err));
    printf("child: private FUTEX_WAIT (10 ms) returned %s\n", res(sh->c_ret3, sh->c_err3));
    return 0;
}
