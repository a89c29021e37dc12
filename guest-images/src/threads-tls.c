/* threads-tls: thread-local storage under CLONE_SETTLS — __thread variables with
 * initialisers (int, array, struct) start with their initial values in every thread,
 * each thread's changes stay its own, the main thread's are untouched, and their
 * addresses differ between live threads; pthread_key_create destructors run at thread
 * exit (not for NULL values, again when a destructor sets a value); pthread_self and
 * pthread_equal; getpid the same and gettid distinct in every thread. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define N 4
struct S {
    int a;
    char name[8];
    long long b;
};
static __thread int tint = 42;
static __thread int tarr[4] = {1, 2, 3, 4};
static __thread struct S ts = {7, "init", 1234567890123LL};
static __thread int tzero;

static pthread_barrier_t bar;
static pthread_t main_self, seen_self[N];
static int init_ok[N], fin_int[N], fin_arr[N][4], fin_a[N], fin_zero[N], self_is_main[N];
static char fin_name[N][8];
static long long fin_b[N];
static uintptr_t addr[N];
static int tid[N], pid_same[N];
static pid_t main_pid;

static pthread_key_t key, key2;
static pthread_mutex_t dm = PTHREAD_MUTEX_INITIALIZER;
static int destr_calls, destr_sum, destr2_calls, spec_initial_null[N];
static void destr(void *v) {
    pthread_mutex_lock(&dm);
    destr_calls++;
    destr_sum += (int)(intptr_t)v;
    pthread_mutex_unlock(&dm);
}
static void destr2(void *v) { /* sets its value again once: called a second time */
    pthread_mutex_lock(&dm);
    destr2_calls++;
    pthread_mutex_unlock(&dm);
    if ((intptr_t)v == 1)
        pthread_setspecific(key2, (void *)2);
}

static void *worker(void *arg) {
    int i = (int)(intptr_t)arg;
    init_ok[i] = tint == 42 && tarr[0] == 1 && tarr[1] == 2 && tarr[2] == 3 && tarr[3] == 4 && ts.a == 7 &&
                 strcmp(ts.name, "init") == 0 && ts.b == 1234567890123LL && tzero == 0;
    spec_initial_null[i] = pthread_getspecific(key) == NULL;
    tint = 100 + i;
    for (int j = 0; j < 4; j++)
        tarr[j] += 10 * i;
    ts.a = i;
    snprintf(ts.name, sizeof ts.name, "t%d", i);
    ts.b = -i;
    tzero = i * i;
    addr[i] = (uintptr_t)&tint;
    seen_self[i] = pthread_self();
    self_is_main[i] = pthread_equal(pthread_self(), main_self);
    tid[i] = (int)syscall(SYS_gettid);
    pid_same[i] = (pid_t)syscall(SYS_getpid) == main_pid;
    if (i != 1) /* thread 1 leaves its value NULL: no destructor call */
        pthread_setspecific(key, (void *)(intptr_t)(i + 1));
    if (i == 0)
        pthread_setspecific(key2, (void *)1);
    pthread_barrier_wait(&bar); /* every thread has written its own copies */
    fin_int[i] = tint;
    memcpy(fin_arr[i], tarr, sizeof tarr);
    fin_a[i] = ts.a;
    memcpy(fin_name[i], ts.name, 8);
    fin_b[i] = ts.b;
    fin_zero[i] = tzero;
    pthread_barrier_wait(&bar); /* all still alive when main compares addresses */
    return NULL;
}

int main(void) {
    setvbuf(stdout, 0, _IONBF, 0);
    main_self = pthread_self();
    main_pid = getpid();
    printf("main: pthread_equal(self, self) %s\n", pthread_equal(main_self, pthread_self()) ? "yes" : "no");
    int k1 = pthread_key_create(&key, destr);
    int k2 = pthread_key_create(&key2, destr2);
    printf("key_create: %d %d\n", k1, k2);
    pthread_setspecific(key, (void *)1000); /* the main thread's: no destructor at return */
    pthread_barrier_init(&bar, NULL, N + 1);
    pthread_t t[N];
    for (int i = 0; i < N; i++)
        pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
    pthread_barrier_wait(&bar);
    tint = -1; /* after the threads wrote theirs, before they read them back */
    pthread_barrier_wait(&bar);
    int distinct = 1;
    for (int i = 0; i < N; i++) {
        if (addr[i] == (uintptr_t)&tint)
            distinct = 0;
        for (int j = 0; j < i; j++)
            if (addr[i] == addr[j])
                distinct = 0;
    }
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < N; i++) {
        printf("thread %d: initial values %s, getspecific NULL %s, tint %d tarr %d %d %d %d ts {%d, \"%s\", %lld} "
               "tzero %d\n",
               i, init_ok[i] ? "ok" : "WRONG", spec_initial_null[i] ? "yes" : "no", fin_int[i], fin_arr[i][0],
               fin_arr[i][1], fin_arr[i][2], fin_arr[i][3], fin_a[i], fin_name[i], fin_b[i], fin_zero[i]);
        printf("thread %d: pthread_equal(self, main) %s, self == created id %s, getpid same %s\n", i,
               self_is_main[i] ? "yes" : "no", pthread_equal(seen_self[i], t[i]) ? "yes" : "no",
               pid_same[i] ? "yes" : "no");
    }
    int tids_ok = 1;
    for (int i = 0; i < N; i++) {
        if (tid[i] == getpid() || tid[i] <= 0)
            tids_ok = 0;
        for (int j = 0; j < i; j++)
            if (tid[i] == tid[j])
                tids_ok = 0;
    }
    printf("gettid distinct from getpid and each other: %s\n", tids_ok ? "yes" : "no");
    printf("main: tint %d tarr %d %d %d %d ts {%d, \"%s\", %lld} tzero %d\n", tint, tarr[0], tarr[1], tarr[2],
           tarr[3], ts.a, ts.name, ts.b, tzero);
    printf("__thread addresses distinct: %s\n", distinct ? "yes" : "no");
    printf("destructor calls %d, sum of values %d; re-arming destructor calls %d\n", destr_calls, destr_sum,
           destr2_calls);
    printf("main's getspecific: %d\n", (int)(intptr_t)pthread_getspecific(key));
    printf("key_delete: %d\n", pthread_key_delete(key));
    return 0;
}
