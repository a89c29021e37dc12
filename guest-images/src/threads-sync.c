/* threads-sync: glibc's synchronisation objects between threads (CLONE_VM|
 * CLONE_THREAD, futexes underneath) — mutex kinds (normal, errorcheck's EDEADLK and
 * EPERM, recursive), trylock's EBUSY, a condvar producer/consumer across 4 threads,
 * an expiring pthread_cond_timedwait, semaphores, rwlocks (readers at once,
 * EBUSY while write-locked), pthread_once, a barrier's serial thread, a contended
 * counter and join values. Everything is printed by the main thread after the joins. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *en(int r) { return r ? strerrorname_np(r) : "0"; }
static const char *ee(int r) { return r < 0 ? strerrorname_np(errno) : "0"; }

static pthread_t go(void *(*f)(void *), void *arg) {
    pthread_t t;
    int r = pthread_create(&t, NULL, f, arg);
    if (r) {
        printf("pthread_create: %s\n", en(r));
        _exit(1);
    }
    return t;
}

static void *join(pthread_t t) {
    void *v = NULL;
    int r = pthread_join(t, &v);
    if (r)
        printf("pthread_join: %s\n", en(r));
    return v;
}

static struct timespec soon(int ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += ms * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* --- mutexes touched from another thread --- */
static pthread_mutex_t m_err, m_rec, m_norm;
static int other_trylock_norm, other_unlock_err, other_trylock_rec;
static void *mutex_other(void *a) {
    (void)a;
    other_trylock_norm = pthread_mutex_trylock(&m_norm);
    other_unlock_err = pthread_mutex_unlock(&m_err);
    other_trylock_rec = pthread_mutex_trylock(&m_rec);
    return NULL;
}

/* --- producer/consumer --- */
#define NITEMS 400
static pthread_mutex_t pc_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pc_notempty = PTHREAD_COND_INITIALIZER, pc_notfull = PTHREAD_COND_INITIALIZER;
static int buf[8], head, count, produced, consumed;
static long long csum[2];
static void *producer(void *a) {
    int base = (int)(intptr_t)a;
    for (int i = 1; i <= NITEMS / 2; i++) {
        pthread_mutex_lock(&pc_m);
        while (count == 8)
            pthread_cond_wait(&pc_notfull, &pc_m);
        buf[(head + count) % 8] = base + i;
        count++;
        produced++;
        pthread_cond_signal(&pc_notempty);
        pthread_mutex_unlock(&pc_m);
    }
    return NULL;
}
static void *consumer(void *a) {
    int id = (int)(intptr_t)a;
    for (;;) {
        pthread_mutex_lock(&pc_m);
        while (count == 0 && consumed < NITEMS)
            pthread_cond_wait(&pc_notempty, &pc_m);
        if (count == 0) { /* everything consumed */
            pthread_cond_broadcast(&pc_notempty);
            pthread_mutex_unlock(&pc_m);
            return NULL;
        }
        csum[id] += buf[head];
        head = (head + 1) % 8;
        count--;
        consumed++;
        if (consumed == NITEMS)
            pthread_cond_broadcast(&pc_notempty);
        pthread_cond_signal(&pc_notfull);
        pthread_mutex_unlock(&pc_m);
    }
}

/* --- semaphores --- */
static sem_t sem;
static void *sem_poster(void *a) {
    (void)a;
    sem_post(&sem);
    return NULL;
}

/* --- rwlock --- */
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t rd_bar;
static int readers_in, readers_max, rd_ret[4], try_rd, try_wr;
static pthread_mutex_t rd_m = PTHREAD_MUTEX_INITIALIZER;
static void *reader(void *a) {
    int i = (int)(intptr_t)a;
    rd_ret[i] = pthread_rwlock_rdlock(&rw);
    pthread_mutex_lock(&rd_m);
    readers_in++;
    pthread_mutex_unlock(&rd_m);
    pthread_barrier_wait(&rd_bar); /* passes only with all 4 read locks held at once */
    pthread_mutex_lock(&rd_m);
    if (readers_in > readers_max)
        readers_max = readers_in;
    pthread_mutex_unlock(&rd_m);
    pthread_barrier_wait(&rd_bar);
    pthread_rwlock_unlock(&rw);
    return NULL;
}
static void *rw_trier(void *a) {
    (void)a;
    try_rd = pthread_rwlock_tryrdlock(&rw);
    try_wr = pthread_rwlock_trywrlock(&rw);
    return NULL;
}

/* --- once, barrier, counter --- */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int once_runs, once_seen[8];
static pthread_barrier_t bar8, bar4;
static void once_init(void) { once_runs++; }
static void *once_caller(void *a) {
    int i = (int)(intptr_t)a;
    pthread_barrier_wait(&bar8);
    pthread_once(&once, once_init);
    once_seen[i] = once_runs;
    return NULL;
}
static int bar_ret[4];
static void *bar_waiter(void *a) {
    bar_ret[(intptr_t)a] = pthread_barrier_wait(&bar4);
    return NULL;
}
static pthread_mutex_t cnt_m = PTHREAD_MUTEX_INITIALIZER;
static int counter;
static void *incr(void *a) {
    (void)a;
    for (int i = 0; i < 10000; i++) {
        pthread_mutex_lock(&cnt_m);
        counter++;
        pthread_mutex_unlock(&cnt_m);
    }
    return NULL;
}
static void *ret_val(void *a) {
    intptr_t i = (intptr_t)a;
    if (i == 2)
        pthread_exit((void *)(i * 7 + 1));
    return (void *)(i * 7 + 1);
}

int main(void) {
    setvbuf(stdout, 0, _IONBF, 0);
    pthread_t t[8];
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_NORMAL);
    pthread_mutex_init(&m_norm, &ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&m_err, &ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&m_rec, &ma);

    printf("normal lock: %s\n", en(pthread_mutex_lock(&m_norm)));
    printf("normal trylock by the owner: %s\n", en(pthread_mutex_trylock(&m_norm)));
    printf("errorcheck lock: %s\n", en(pthread_mutex_lock(&m_err)));
    printf("errorcheck relock: %s\n", en(pthread_mutex_lock(&m_err)));
    printf("errorcheck trylock by the owner: %s\n", en(pthread_mutex_trylock(&m_err)));
    int rl[4];
    for (int i = 0; i < 3; i++)
        rl[i] = pthread_mutex_lock(&m_rec);
    rl[3] = pthread_mutex_trylock(&m_rec);
    printf("recursive lock x3, trylock: %s %s %s %s\n", en(rl[0]), en(rl[1]), en(rl[2]), en(rl[3]));
    join(go(mutex_other, NULL));
    printf("other thread: normal trylock %s, errorcheck unlock %s, recursive trylock %s\n",
           en(other_trylock_norm), en(other_unlock_err), en(other_trylock_rec));
    for (int i = 0; i < 4; i++)
        rl[i] = pthread_mutex_unlock(&m_rec);
    int r1 = pthread_mutex_unlock(&m_rec);
    printf("recursive unlock x4: %s %s %s %s, once more: %s\n", en(rl[0]), en(rl[1]), en(rl[2]), en(rl[3]), en(r1));
    r1 = pthread_mutex_unlock(&m_err);
    int r2 = pthread_mutex_unlock(&m_err);
    printf("errorcheck unlock: %s, again: %s\n", en(r1), en(r2));
    r1 = pthread_mutex_unlock(&m_norm);
    r2 = pthread_mutex_trylock(&m_norm);
    printf("normal unlock: %s, trylock now: %s\n", en(r1), en(r2));
    pthread_mutex_unlock(&m_norm);

    t[0] = go(producer, (void *)0);
    t[1] = go(producer, (void *)1000);
    t[2] = go(consumer, (void *)0);
    t[3] = go(consumer, (void *)1);
    for (int i = 0; i < 4; i++)
        join(t[i]);
    printf("producer/consumer: produced %d consumed %d sum %lld left %d\n", produced, consumed, csum[0] + csum[1], count);

    pthread_mutex_lock(&pc_m);
    struct timespec dl = soon(10);
    int r = pthread_cond_timedwait(&pc_notempty, &pc_m, &dl);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int late = now.tv_sec > dl.tv_sec || (now.tv_sec == dl.tv_sec && now.tv_nsec >= dl.tv_nsec);
    printf("cond_timedwait: %s, deadline passed: %s, mutex held again: %s\n", en(r), late ? "yes" : "no",
           pthread_mutex_trylock(&pc_m) == EBUSY ? "yes" : "no");
    pthread_mutex_unlock(&pc_m);

    int v = -1;
    printf("sem_init 2: %s\n", ee(sem_init(&sem, 0, 2)));
    sem_getvalue(&sem, &v);
    printf("sem_getvalue: %d\n", v);
    int a = sem_trywait(&sem), b = sem_trywait(&sem);
    printf("sem_trywait x2: %s %s\n", ee(a), ee(b));
    printf("sem_trywait empty: %s\n", ee(sem_trywait(&sem)));
    dl = soon(10);
    printf("sem_timedwait: %s\n", ee(sem_timedwait(&sem, &dl)));
    dl.tv_nsec = 1000000000L;
    printf("sem_timedwait bad nsec: %s\n", ee(sem_timedwait(&sem, &dl)));
    t[0] = go(sem_poster, NULL);
    printf("sem_wait for another thread's post: %s\n", ee(sem_wait(&sem)));
    join(t[0]);
    sem_post(&sem);
    sem_post(&sem);
    sem_getvalue(&sem, &v);
    printf("sem_getvalue after 2 posts: %d\n", v);

    pthread_barrier_init(&rd_bar, NULL, 4);
    for (int i = 0; i < 4; i++)
        t[i] = go(reader, (void *)(intptr_t)i);
    for (int i = 0; i < 4; i++)
        join(t[i]);
    printf("rdlock x4: %s %s %s %s, readers inside at once: %d\n", en(rd_ret[0]), en(rd_ret[1]), en(rd_ret[2]),
           en(rd_ret[3]), readers_max);
    printf("wrlock: %s\n", en(pthread_rwlock_wrlock(&rw)));
    join(go(rw_trier, NULL));
    printf("while write-locked, other thread: tryrdlock %s trywrlock %s\n", en(try_rd), en(try_wr));
    r1 = pthread_rwlock_rdlock(&rw);
    r2 = pthread_rwlock_unlock(&rw);
    int r3 = pthread_rwlock_rdlock(&rw);
    printf("rdlock by the writer: %s, unlock: %s, rdlock: %s\n", en(r1), en(r2), en(r3));
    join(go(rw_trier, NULL));
    printf("while read-locked, other thread: tryrdlock %s trywrlock %s\n", en(try_rd), en(try_wr));
    pthread_rwlock_unlock(&rw); /* the main thread's read lock */
    pthread_rwlock_unlock(&rw); /* rw_trier's: glibc rwlocks are not owned by a thread */
    printf("trywrlock when free: %s\n", en(pthread_rwlock_trywrlock(&rw)));
    pthread_rwlock_unlock(&rw);

    pthread_barrier_init(&bar8, NULL, 8);
    for (int i = 0; i < 8; i++)
        t[i] = go(once_caller, (void *)(intptr_t)i);
    for (int i = 0; i < 8; i++)
        join(t[i]);
    printf("pthread_once from 8 threads: init ran %d time(s), seen:", once_runs);
    for (int i = 0; i < 8; i++)
        printf(" %d", once_seen[i]);
    printf("\n");

    pthread_barrier_init(&bar4, NULL, 4);
    for (int i = 0; i < 4; i++)
        t[i] = go(bar_waiter, (void *)(intptr_t)i);
    for (int i = 0; i < 4; i++)
        join(t[i]);
    int serial = 0, zero = 0;
    for (int i = 0; i < 4; i++)
        serial += bar_ret[i] == PTHREAD_BARRIER_SERIAL_THREAD, zero += bar_ret[i] == 0;
    printf("barrier of 4: serial %d, zero %d\n", serial, zero);

    for (int i = 0; i < 8; i++)
        t[i] = go(incr, NULL);
    for (int i = 0; i < 8; i++)
        join(t[i]);
    printf("counter after 8 x 10000 locked increments: %d\n", counter);

    for (int i = 0; i < 4; i++)
        t[i] = go(ret_val, (void *)(intptr_t)i);
    printf("join values:");
    for (int i = 0; i < 4; i++)
        printf(" %d", (int)(intptr_t)join(t[i]));
    printf("\n");
    printf("join self: %s\n", en(pthread_join(pthread_self(), NULL)));
    return 0;
}
