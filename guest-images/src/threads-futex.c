/* threads-futex: the raw futex operations between threads (syscall(SYS_futex),
 * private futexes) — FUTEX_WAKE counts (2 of 3 waiters), WAIT_BITSET/WAKE_BITSET
 * (a wake with a disjoint bitset wakes none), FUTEX_REQUEUE (wake 1, requeue to a
 * second word, then waking that word wakes them), FUTEX_CMP_REQUEUE (EAGAIN on a
 * mismatching value, EINVAL for a negative count), FUTEX_WAKE_OP (FUTEX_OP_ADD with
 * FUTEX_OP_CMP_GT true and false, FUTEX_OP_SET with OPARG_SHIFT; the old value of
 * *uaddr2 decides). Before each wake every waiter is asleep (state S in
 * /proc/self/task/TID/stat, or counted by a FUTEX_CMP_REQUEUE onto the same word
 * without /proc), so the counts never depend on timing. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PROC_TASK
#define PROC_TASK "/proc/self/task"
#endif

static long fx(int *u, int op, int val, long val2, int *u2, int val3) {
    long r = syscall(SYS_futex, u, op, val, val2, u2, val3);
    return r < 0 ? -errno : r;
}
static const char *res(long r) {
    static char b[4][32];
    static int i;
    i = (i + 1) % 4;
    if (r < 0)
        snprintf(b[i], sizeof b[i], "%s", strerrorname_np((int)-r));
    else
        snprintf(b[i], sizeof b[i], "%ld", r);
    return b[i];
}

/* Waits (bounded) until thread TID sleeps; 0 if /proc/self/task is not there. */
static int wait_asleep(int tid) {
    char path[64], b[256];
    snprintf(path, sizeof path, PROC_TASK "/%d/stat", tid);
    for (int i = 0; i < 100000; i++) {
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            return 0;
        int n = (int)read(fd, b, sizeof b - 1);
        close(fd);
        if (n > 0) {
            b[n] = 0;
            char *q = strrchr(b, ')');
            if (q && q[1] == ' ' && q[2] == 'S')
                return 1;
        }
        sched_yield();
    }
    return 1;
}

struct waiter {
    pthread_t t;
    int *addr, val, op;
    unsigned bitset;
    int tid, done;
    long ret; /* or -errno */
};
static void *wait_fn(void *a) {
    struct waiter *w = a;
    __atomic_store_n(&w->tid, (int)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
    w->ret = fx(w->addr, w->op, w->val, 0, NULL, (int)w->bitset);
    __atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}
/* Starts N waiters on ADDR (expecting VAL), returns once all of them sleep. Without
 * /proc/self/task, counts the sleepers with a FUTEX_CMP_REQUEUE of ADDR onto itself
 * (wakes none, returns the number of waiters moved). */
static void start(struct waiter *w, int n, int *addr, int val, int op, const unsigned *bitsets) {
    for (int i = 0; i < n; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].addr = addr;
        w[i].val = val;
        w[i].op = op;
        w[i].bitset = bitsets ? bitsets[i] : 0;
        pthread_create(&w[i].t, NULL, wait_fn, &w[i]);
    }
    int proc = 1;
    for (int i = 0; i < n; i++) {
        while (__atomic_load_n(&w[i].tid, __ATOMIC_SEQ_CST) == 0)
            sched_yield();
        proc = proc && wait_asleep(w[i].tid);
    }
    while (!proc && fx(addr, FUTEX_CMP_REQUEUE_PRIVATE, 0, INT_MAX, addr, val) < n)
        sched_yield();
}
static int ndone(struct waiter *w, int n) {
    int d = 0;
    for (int i = 0; i < n; i++)
        d += __atomic_load_n(&w[i].done, __ATOMIC_SEQ_CST);
    return d;
}
static void until_done(struct waiter *w, int n, int want) {
    while (ndone(w, n) < want)
        sched_yield();
}
static void finish(const char *what, struct waiter *w, int n) {
    printf("%s: waiters returned:", what);
    for (int i = 0; i < n; i++) {
        pthread_join(w[i].t, NULL);
        printf(" %s", res(w[i].ret));
    }
    printf("\n");
}

static int A, B, C, D, E, F, G, H;

int main(void) {
    setvbuf(stdout, 0, _IONBF, 0);
    struct waiter w[4];
    long r1, r2, r3;

    start(w, 3, &A, 0, FUTEX_WAIT_PRIVATE, NULL);
    r1 = fx(&A, FUTEX_WAKE_PRIVATE, 2, 0, NULL, 0);
    until_done(w, 3, 2);
    printf("WAKE 2 of 3 waiters: %s; done now %d\n", res(r1), ndone(w, 3));
    r1 = fx(&A, FUTEX_WAKE_PRIVATE, 5, 0, NULL, 0);
    until_done(w, 3, 3);
    r2 = fx(&A, FUTEX_WAKE_PRIVATE, 5, 0, NULL, 0);
    printf("WAKE 5: %s, then again: %s\n", res(r1), res(r2));
    finish("WAKE", w, 3);

    static const unsigned bits[3] = {0x1, 0x2, 0x8};
    start(w, 3, &B, 0, FUTEX_WAIT_BITSET_PRIVATE, bits);
    r1 = fx(&B, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, 0, NULL, 0x4);
    printf("WAKE_BITSET 0x4 (waiters 0x1 0x2 0x8): %s\n", res(r1));
    r1 = fx(&B, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, 0, NULL, 0x2);
    pthread_join(w[1].t, NULL);
    printf("WAKE_BITSET 0x2: %s; woken: 0x1 %d 0x2 %d 0x8 %d\n", res(r1), w[0].done, w[1].done, w[2].done);
    r1 = fx(&B, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, 0, NULL, 0x5);
    pthread_join(w[0].t, NULL);
    printf("WAKE_BITSET 0x5: %s; woken: 0x1 %d 0x8 %d\n", res(r1), w[0].done, w[2].done);
    r1 = fx(&B, FUTEX_WAKE_PRIVATE, INT_MAX, 0, NULL, 0);
    pthread_join(w[2].t, NULL);
    printf("plain WAKE (bitset all): %s\n", res(r1));
    printf("BITSET: waiters returned: %ld %ld %ld\n", w[0].ret, w[1].ret, w[2].ret);

    start(w, 3, &C, 0, FUTEX_WAIT_PRIVATE, NULL);
    r1 = fx(&C, FUTEX_REQUEUE_PRIVATE, 1, 1, &D, 0);
    until_done(w, 3, 1);
    printf("REQUEUE wake 1, requeue 1 (3 waiters): %s; done %d\n", res(r1), ndone(w, 3));
    r1 = fx(&D, FUTEX_WAKE_PRIVATE, INT_MAX, 0, NULL, 0);
    until_done(w, 3, 2);
    r2 = fx(&C, FUTEX_WAKE_PRIVATE, INT_MAX, 0, NULL, 0);
    until_done(w, 3, 3);
    printf("WAKE the second word: %s, then the first: %s\n", res(r1), res(r2));
    finish("REQUEUE", w, 3);

    start(w, 3, &C, 0, FUTEX_WAIT_PRIVATE, NULL);
    r1 = fx(&C, FUTEX_REQUEUE_PRIVATE, 1, INT_MAX, &D, 0);
    until_done(w, 3, 1);
    r2 = fx(&C, FUTEX_WAKE_PRIVATE, INT_MAX, 0, NULL, 0);
    r3 = fx(&D, FUTEX_WAKE_PRIVATE, INT_MAX, 0, NULL, 0);
    printf("REQUEUE wake 1, requeue all: %s; WAKE first word %s, second word %s\n", res(r1), res(r2), res(r3));
    finish("REQUEUE all", w, 3);

    E = 3;
    start(w, 2, &E, 3, FUTEX_WAIT_PRIVATE, NULL);
    r1 = fx(&E, FUTEX_CMP_REQUEUE_PRIVATE, 0, INT_MAX, &F, 4);
    r2 = fx(&E, FUTEX_CMP_REQUEUE_PRIVATE, -1, INT_MAX, &F, 3);
    r3 = fx(&E, FUTEX_CMP_REQUEUE_PRIVATE, 0, INT_MAX, &F, 3);
    printf("CMP_REQUEUE value 3, expected 4: %s; nr_wake -1: %s; expected 3, wake 0: %s; done %d\n", res(r1), res(r2),
           res(r3), ndone(w, 2));
    r1 = fx(&E, FUTEX_WAKE_PRIVATE, INT_MAX, 0, NULL, 0);
    r2 = fx(&F, FUTEX_WAKE_PRIVATE, INT_MAX, 0, NULL, 0);
    printf("WAKE first word %s, second word %s\n", res(r1), res(r2));
    finish("CMP_REQUEUE", w, 2);

    H = 5;
    start(w, 2, &G, 0, FUTEX_WAIT_PRIVATE, NULL);
    start(w + 2, 2, &H, 5, FUTEX_WAIT_PRIVATE, NULL);
    r1 = fx(&G, FUTEX_WAKE_OP_PRIVATE, 1, 1, &H, FUTEX_OP(FUTEX_OP_ADD, 3, FUTEX_OP_CMP_GT, 4));
    until_done(w, 4, 2);
    printf("WAKE_OP ADD 3 if old > 4 (old 5), wake 1 + 1: %s; H now %d; done on G %d, on H %d\n", res(r1), H,
           ndone(w, 2), ndone(w + 2, 2));
    r1 = fx(&G, FUTEX_WAKE_OP_PRIVATE, 1, 1, &H, FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_GT, 100));
    until_done(w, 4, 3);
    printf("WAKE_OP ADD 1 if old > 100 (old 8), wake 1 + 1: %s; H now %d; done on G %d, on H %d\n", res(r1), H,
           ndone(w, 2), ndone(w + 2, 2));
    r1 = fx(&G, FUTEX_WAKE_OP_PRIVATE, 1, 1, &H,
            FUTEX_OP((FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT), 4, FUTEX_OP_CMP_EQ, 9));
    until_done(w, 4, 4);
    printf("WAKE_OP SET 1<<4 if old == 9 (old 9): %s; H now %d\n", res(r1), H);
    finish("WAKE_OP", w, 4);
    r1 = fx(&G, FUTEX_WAKE_OP_PRIVATE, 1, 1, &H, FUTEX_OP(FUTEX_OP_XOR, 0xff, FUTEX_OP_CMP_LT, 0));
    printf("WAKE_OP XOR 0xff, no waiters: %s; H now %d\n", res(r1), H);
    r1 = fx(&G, FUTEX_WAKE_OP_PRIVATE, 1, 1, &H, 7 << 28);
    printf("WAKE_OP unknown op 7: %s; H now %d\n", res(r1), H);
    r1 = fx(&G, FUTEX_WAKE_OP_PRIVATE, 1, 1, (int *)4, FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0));
    printf("WAKE_OP uaddr2 at 4: %s\n", res(r1));
    return 0;
}
