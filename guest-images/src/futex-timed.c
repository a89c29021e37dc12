/* futex-timed: futex timeouts and argument checks — a FUTEX_WAIT with a 5 s relative
 * timeout in a child (MAP_SHARED word) cut short by the parent's FUTEX_WAKE after
 * ~20 ms returns 0 well before the timeout; a 20 ms FUTEX_WAIT nobody wakes returns
 * ETIMEDOUT no earlier than 20 ms; a wrong expected value gives EAGAIN at once;
 * FUTEX_WAIT_BITSET with bitset 0 EINVAL; absolute FUTEX_WAIT_BITSET deadlines in
 * the past (CLOCK_REALTIME and CLOCK_MONOTONIC) ETIMEDOUT; a bad timespec EINVAL;
 * a misaligned word EINVAL; an unmapped one EFAULT; an unknown op ENOSYS. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long fx(void *u, int op, int val, const struct timespec *ts, int *u2, int val3) {
    long r = syscall(SYS_futex, u, op, val, ts, u2, val3);
    return r < 0 ? -errno : r;
}
static const char *res(long r) {
    static char b[32];
    if (r < 0)
        snprintf(b, sizeof b, "%s", strerrorname_np((int)-r));
    else
        snprintf(b, sizeof b, "%ld", r);
    return b;
}
static long long now_ns(clockid_t c) {
    struct timespec ts;
    clock_gettime(c, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct shared {
    int w, announce;
    long ret; /* or -errno */
    long long took;
};

int main(void) {
    setvbuf(stdout, 0, _IONBF, 0);
    struct shared *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        return 1;
    pid_t c = fork();
    if (c == 0) {
        struct timespec ts = {5, 0};
        __atomic_store_n(&sh->announce, 1, __ATOMIC_SEQ_CST);
        long long t0 = now_ns(CLOCK_MONOTONIC);
        sh->ret = fx(&sh->w, FUTEX_WAIT, 0, &ts, NULL, 0);
        sh->took = now_ns(CLOCK_MONOTONIC) - t0;
        _exit(0);
    }
    while (!__atomic_load_n(&sh->announce, __ATOMIC_SEQ_CST))
        sched_yield();
    usleep(20000);
    long wr = 0;
    for (int i = 0; i < 20000 && wr == 0; i++) /* retried: the child may not sleep yet */
        if ((wr = fx(&sh->w, FUTEX_WAKE, 1, NULL, NULL, 0)) == 0)
            usleep(100);
    int st;
    waitpid(c, &st, 0);
    printf("parent: FUTEX_WAKE after 20 ms: %ld\n", wr);
    printf("child: 5 s FUTEX_WAIT returned %s, woken early: %s\n", res(sh->ret),
           sh->took < 2500000000LL ? "yes" : "no");

    int w = 0;
    struct timespec ts = {0, 20000000};
    long long t0 = now_ns(CLOCK_MONOTONIC);
    long r = fx(&w, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
    long long took = now_ns(CLOCK_MONOTONIC) - t0;
    printf("20 ms FUTEX_WAIT, nobody wakes: %s, waited at least 20 ms: %s\n", res(r), took >= 20000000 ? "yes" : "no");
    r = fx(&w, FUTEX_WAIT_PRIVATE, 1, &ts, NULL, 0);
    printf("FUTEX_WAIT, value 0, expected 1: %s\n", res(r));
    r = fx(&w, FUTEX_WAIT, 7, NULL, NULL, 0);
    printf("FUTEX_WAIT (shared), value 0, expected 7, no timeout: %s\n", res(r));
    r = fx(&w, FUTEX_WAIT_BITSET_PRIVATE, 0, &ts, NULL, 0);
    printf("FUTEX_WAIT_BITSET bitset 0: %s\n", res(r));
    r = fx(&w, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0);
    printf("FUTEX_WAKE_BITSET bitset 0: %s\n", res(r));

    struct timespec past;
    clock_gettime(CLOCK_REALTIME, &past);
    past.tv_sec -= 1;
    r = fx(&w, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &past, NULL, FUTEX_BITSET_MATCH_ANY);
    printf("FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME, deadline 1 s ago: %s\n", res(r));
    clock_gettime(CLOCK_MONOTONIC, &past);
    past.tv_sec -= 1;
    r = fx(&w, FUTEX_WAIT_BITSET_PRIVATE, 0, &past, NULL, FUTEX_BITSET_MATCH_ANY);
    printf("FUTEX_WAIT_BITSET (CLOCK_MONOTONIC), deadline 1 s ago: %s\n", res(r));
    struct timespec zero = {0, 0};
    r = fx(&w, FUTEX_WAIT_PRIVATE, 0, &zero, NULL, 0);
    printf("FUTEX_WAIT, zero relative timeout: %s\n", res(r));
    struct timespec bad = {0, 1000000000};
    r = fx(&w, FUTEX_WAIT_PRIVATE, 0, &bad, NULL, 0);
    printf("FUTEX_WAIT, tv_nsec 1000000000: %s\n", res(r));
    bad.tv_sec = -1;
    bad.tv_nsec = 0;
    r = fx(&w, FUTEX_WAIT_PRIVATE, 0, &bad, NULL, 0);
    printf("FUTEX_WAIT, tv_sec -1: %s\n", res(r));
    r = fx(&w, FUTEX_WAIT_PRIVATE, 0, (struct timespec *)4, NULL, 0);
    printf("FUTEX_WAIT, timeout pointer 4: %s\n", res(r));

    static int arr[2];
    r = fx((char *)arr + 1, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    printf("FUTEX_WAKE, misaligned word: %s\n", res(r));
    r = fx((char *)arr + 2, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
    printf("FUTEX_WAIT, misaligned word: %s\n", res(r));
    r = fx((void *)4, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
    printf("FUTEX_WAIT, word at 4: %s\n", res(r));
    r = fx((void *)4, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    printf("FUTEX_WAKE, word at 4 (not read): %s\n", res(r));
    r = fx(&w, 99, 0, NULL, NULL, 0);
    printf("futex op 99: %s\n", res(r));
    r = fx(&w, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0);
    printf("FUTEX_WAKE|FUTEX_CLOCK_REALTIME: %s\n", res(r));
    return 0;
}
