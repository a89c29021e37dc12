/* threads-many: many threads — 100 joinable threads on 64 KiB stacks
 * (pthread_attr_setstacksize), all alive at once, each returning index*3; 100
 * detached threads that post a semaphore; 200
 * threads created and joined one after another. Prints sums and counts only. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *en(int r) { return r ? strerrorname_np(r) : "0"; }

#define N 100
static pthread_barrier_t bar;
static size_t seen_size[N];
static int seen_detached[N];
static void *joinable(void *a) {
    intptr_t i = (intptr_t)a;
    pthread_attr_t at;
    if (pthread_getattr_np(pthread_self(), &at) == 0) {
        pthread_attr_getstacksize(&at, &seen_size[i]);
        pthread_attr_getdetachstate(&at, &seen_detached[i]);
        pthread_attr_destroy(&at);
    }
    pthread_barrier_wait(&bar); /* all 100 alive together */
    return (void *)(i * 3);
}

static sem_t done;
static int det_state[N];
static void *detached(void *a) {
    intptr_t i = (intptr_t)a;
    pthread_attr_t at;
    if (pthread_getattr_np(pthread_self(), &at) == 0) {
        pthread_attr_getdetachstate(&at, &det_state[i]);
        pthread_attr_destroy(&at);
    }
    sem_post(&done);
    return NULL;
}

static void *seq(void *a) { return (void *)((intptr_t)a + 1); }

int main(void) {
    setvbuf(stdout, 0, _IONBF, 0);
    pthread_attr_t at;
    pthread_attr_init(&at);
    printf("setstacksize 64 KiB: %s\n", en(pthread_attr_setstacksize(&at, 64 * 1024)));
    printf("setstacksize 1 KiB: %s\n", en(pthread_attr_setstacksize(&at, 1024)));
    pthread_barrier_init(&bar, NULL, N);
    pthread_t t[N];
    int created = 0;
    for (int i = 0; i < N; i++) {
        int r = pthread_create(&t[i], &at, joinable, (void *)(intptr_t)i);
        if (r) {
            printf("pthread_create %d: %s\n", i, en(r));
            return 1;
        }
        created++;
    }
    long sum = 0;
    int joined = 0, size_ok = 0, joinable_ok = 0;
    for (int i = 0; i < N; i++) {
        void *v;
        if (pthread_join(t[i], &v) == 0)
            joined++, sum += (intptr_t)v;
        size_ok += seen_size[i] == 64 * 1024;
        joinable_ok += seen_detached[i] == PTHREAD_CREATE_JOINABLE;
    }
    printf("joinable: created %d joined %d, sum of index*3 %ld, stack size 64 KiB in %d, joinable in %d\n", created,
           joined, sum, size_ok, joinable_ok);

    sem_init(&done, 0, 0);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int dcreated = 0, dwaited = 0;
    for (int i = 0; i < N; i++) {
        pthread_t d;
        if (pthread_create(&d, &at, detached, (void *)(intptr_t)i) == 0)
            dcreated++;
    }
    for (int i = 0; i < N; i++)
        dwaited += sem_wait(&done) == 0;
    int det_ok = 0;
    for (int i = 0; i < N; i++)
        det_ok += det_state[i] == PTHREAD_CREATE_DETACHED;
    printf("detached: created %d, semaphore waits %d, detached state in %d\n", dcreated, dwaited, det_ok);

    long ssum = 0;
    int sjoined = 0;
    for (int i = 0; i < 200; i++) {
        pthread_t s;
        void *v;
        if (pthread_create(&s, NULL, seq, (void *)(intptr_t)i) == 0 && pthread_join(s, &v) == 0)
            sjoined++, ssum += (intptr_t)v;
    }
    printf("sequential: %d created and joined, sum %ld\n", sjoined, ssum);
    return 0;
}
