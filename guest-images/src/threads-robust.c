/* threads-robust: robust and priority-inheritance mutexes, where the kernel does the
 * work — a robust mutex whose owner thread exits holding it (the kernel walks the
 * set_robust_list list and sets FUTEX_OWNER_DIED): the next lock gets EOWNERDEAD,
 * also for a thread already blocked on it; pthread_mutex_consistent, then unlock and
 * lock work; left inconsistent it becomes ENOTRECOVERABLE. PI mutexes
 * (FUTEX_LOCK_PI/UNLOCK_PI/TRYLOCK_PI): 4 threads x 1000 contended increments,
 * trylock EBUSY while another thread holds it, errorcheck+PI EDEADLK and EPERM, a
 * robust PI mutex whose owner died. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *en(int r) { return r ? strerrorname_np(r) : "0"; }

static void init_mutex(pthread_mutex_t *m, int type, int robust, int proto) {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, type);
    pthread_mutexattr_setrobust(&a, robust);
    pthread_mutexattr_setprotocol(&a, proto);
    int r = pthread_mutex_init(m, &a);
    if (r)
        printf("pthread_mutex_init: %s\n", en(r));
    pthread_mutexattr_destroy(&a);
}

/* Waits (bounded) until thread TID sleeps; gives up quietly without /proc. */
static void wait_asleep(int tid) {
    char path[64], b[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
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

static pthread_mutex_t rm, pim, pie;
static int lock_ret;
static void *lock_and_exit(void *a) {
    lock_ret = pthread_mutex_lock((pthread_mutex_t *)a);
    return NULL; /* exits holding it */
}
static sem_t locked;
/* Locks, waits until the main thread sleeps on the mutex, exits holding it. */
static void *lock_until_main_blocks(void *a) {
    lock_ret = pthread_mutex_lock((pthread_mutex_t *)a);
    sem_post(&locked);
    wait_asleep(getpid()); /* the main thread, blocked in pthread_mutex_lock */
    return NULL;
}

static int counter;
static void *pi_incr(void *a) {
    (void)a;
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&pim);
        counter++;
        pthread_mutex_unlock(&pim);
    }
    return NULL;
}
static int other_try, other_unlock;
static void *pi_other(void *a) {
    other_try = pthread_mutex_trylock((pthread_mutex_t *)a);
    other_unlock = pthread_mutex_unlock((pthread_mutex_t *)a);
    return NULL;
}

static void owner_dies(const char *what, pthread_mutex_t *m) {
    pthread_t t;
    pthread_create(&t, NULL, lock_and_exit, m);
    pthread_join(t, NULL);
    int r = pthread_mutex_lock(m);
    printf("%s: the thread's lock %s; after it exited holding it, lock: %s\n", what, en(lock_ret), en(r));
}

int main(void) {
    setvbuf(stdout, 0, _IONBF, 0);
    pthread_t t[4];
    int r1, r2, r3;

    init_mutex(&rm, PTHREAD_MUTEX_NORMAL, PTHREAD_MUTEX_ROBUST, PTHREAD_PRIO_NONE);
    owner_dies("robust", &rm);
    r1 = pthread_mutex_consistent(&rm);
    r2 = pthread_mutex_unlock(&rm);
    r3 = pthread_mutex_lock(&rm);
    printf("robust: consistent %s, unlock %s, lock %s\n", en(r1), en(r2), en(r3));
    r1 = pthread_mutex_unlock(&rm);
    r2 = pthread_mutex_consistent(&rm);
    printf("robust: unlock %s, consistent on a consistent mutex %s\n", en(r1), en(r2));

    /* An owner that dies while another thread sleeps waiting for the mutex. */
    sem_init(&locked, 0, 0);
    pthread_create(&t[0], NULL, lock_until_main_blocks, &rm);
    sem_wait(&locked);
    r1 = pthread_mutex_lock(&rm);
    pthread_join(t[0], NULL);
    printf("robust: blocked waiter when the owner exited: %s\n", en(r1));
    /* Left inconsistent: unlocking without pthread_mutex_consistent. */
    r1 = pthread_mutex_unlock(&rm);
    r2 = pthread_mutex_lock(&rm);
    r3 = pthread_mutex_trylock(&rm);
    printf("robust: unlock without consistent %s, then lock %s, trylock %s\n", en(r1), en(r2), en(r3));

    init_mutex(&rm, PTHREAD_MUTEX_ERRORCHECK, PTHREAD_MUTEX_ROBUST, PTHREAD_PRIO_NONE);
    pthread_create(&t[0], NULL, lock_and_exit, &rm);
    pthread_join(t[0], NULL);
    r1 = pthread_mutex_trylock(&rm);
    r2 = pthread_mutex_lock(&rm);
    printf("robust errorcheck: trylock after the owner died %s, relock %s\n", en(r1), en(r2));

    init_mutex(&pim, PTHREAD_MUTEX_NORMAL, PTHREAD_MUTEX_STALLED, PTHREAD_PRIO_INHERIT);
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, pi_incr, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    printf("PI: counter after 4 x 1000 locked increments: %d\n", counter);
    r1 = pthread_mutex_lock(&pim);
    pthread_create(&t[0], NULL, pi_other, &pim);
    pthread_join(t[0], NULL);
    r2 = pthread_mutex_unlock(&pim);
    r3 = pthread_mutex_trylock(&pim);
    printf("PI: lock %s; other thread: trylock %s; unlock %s, trylock free %s\n", en(r1), en(other_try), en(r2),
           en(r3));
    pthread_mutex_unlock(&pim);

    init_mutex(&pie, PTHREAD_MUTEX_ERRORCHECK, PTHREAD_MUTEX_STALLED, PTHREAD_PRIO_INHERIT);
    r1 = pthread_mutex_lock(&pie);
    r2 = pthread_mutex_lock(&pie);
    r3 = pthread_mutex_trylock(&pie);
    printf("PI errorcheck: lock %s, relock %s, trylock %s\n", en(r1), en(r2), en(r3));
    pthread_create(&t[0], NULL, pi_other, &pie);
    pthread_join(t[0], NULL);
    r1 = pthread_mutex_unlock(&pie);
    r2 = pthread_mutex_unlock(&pie);
    printf("PI errorcheck: other thread: trylock %s, unlock %s; unlock %s, again %s\n", en(other_try),
           en(other_unlock), en(r1), en(r2));

    init_mutex(&pie, PTHREAD_MUTEX_NORMAL, PTHREAD_MUTEX_ROBUST, PTHREAD_PRIO_INHERIT);
    owner_dies("robust PI", &pie);
    r1 = pthread_mutex_consistent(&pie);
    r2 = pthread_mutex_unlock(&pie);
    r3 = pthread_mutex_trylock(&pie);
    printf("robust PI: consistent %s, unlock %s, trylock %s\n", en(r1), en(r2), en(r3));
    pthread_mutex_unlock(&pie);
    sem_init(&locked, 0, 0);
    pthread_create(&t[0], NULL, lock_until_main_blocks, &pie);
    sem_wait(&locked);
    r1 = pthread_mutex_lock(&pie);
    pthread_join(t[0], NULL);
    r2 = pthread_mutex_unlock(&pie);
    r3 = pthread_mutex_lock(&pie);
    printf("robust PI: blocked waiter when the owner exited: %s; unlock without consistent %s, then lock %s\n",
           en(r1), en(r2), en(r3));
    return 0;
}
