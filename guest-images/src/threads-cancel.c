/* threads-cancel: pthread_cancel (glibc's SIGCANCEL sent with tgkill) of threads
 * blocked in pthread_cond_wait (the cleanup handler gets the mutex back and unlocks
 * it), in read() on an empty pipe and in nanosleep; a cancel held back by
 * PTHREAD_CANCEL_DISABLE until the thread enables it and reaches a cancellation
 * point; PTHREAD_CANCEL_ASYNCHRONOUS on a busy loop; cleanup handlers in LIFO order.
 * Each join returns PTHREAD_CANCELED. The canceller waits until a blocking thread
 * sleeps (state S in /proc/self/task/TID/stat) so that the signal interrupts the
 * blocked call; the output is the same whichever way it lands. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const char *en(int r) { return r ? strerrorname_np(r) : "0"; }

/* Waits (bounded) until thread TID is asleep; gives up quietly without /proc. */
static void wait_asleep(volatile int *tidp) {
    while (*tidp == 0)
        sched_yield();
    char path[64], b[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", *tidp);
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

static char log_[16][48];
static int nlog;
static pthread_mutex_t log_m = PTHREAD_MUTEX_INITIALIZER;
static void note(const char *s) {
    pthread_mutex_lock(&log_m);
    snprintf(log_[nlog++], sizeof log_[0], "%s", s);
    pthread_mutex_unlock(&log_m);
}
static void flush_log(const char *what) {
    printf("%s: log:", what);
    for (int i = 0; i < nlog; i++)
        printf(" [%s]", log_[i]);
    printf("\n");
    nlog = 0;
}

static volatile int tid;
static void set_tid(void) { tid = (int)syscall(SYS_gettid); }

static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int cleanup_held_mutex = -1;
static void cond_cleanup(void *a) {
    (void)a;
    cleanup_held_mutex = pthread_mutex_trylock(&cm) == EBUSY; /* EBUSY: this thread holds it */
    pthread_mutex_unlock(&cm);
    note("cond: unlocked the mutex");
}
static void *in_cond(void *a) {
    (void)a;
    pthread_mutex_lock(&cm);
    pthread_cleanup_push(cond_cleanup, NULL);
    set_tid();
    for (;;)
        pthread_cond_wait(&cv, &cm);
    pthread_cleanup_pop(0);
    return NULL;
}

static int pipefd[2];
static void *in_read(void *a) {
    (void)a;
    char c;
    pthread_cleanup_push((void (*)(void *))note, "read");
    set_tid();
    read(pipefd[0], &c, 1);
    note("read returned");
    pthread_cleanup_pop(0);
    return NULL;
}

static void *in_sleep(void *a) {
    (void)a;
    pthread_cleanup_push((void (*)(void *))note, "nanosleep");
    set_tid();
    struct timespec ts = {10, 0};
    nanosleep(&ts, NULL);
    note("nanosleep returned");
    pthread_cleanup_pop(0);
    return NULL;
}

static sem_t s1, s2;
static void *disabled(void *a) {
    (void)a;
    int old = -1;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    note(old == PTHREAD_CANCEL_ENABLE ? "old state ENABLE" : "old state ?");
    pthread_cleanup_push((void (*)(void *))note, "disabled: cleanup");
    sem_post(&s1);
    sem_wait(&s2); /* a cancellation point, but cancellation is disabled */
    note("ran on after the cancel");
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL); /* another one */
    note("slept while disabled");
    pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
    note(old == PTHREAD_CANCEL_DISABLE ? "re-enabled" : "re-enabled from ?");
    pthread_testcancel();
    note("NOT REACHED");
    pthread_cleanup_pop(0);
    return NULL;
}

static volatile unsigned long spins;
static void *async_loop(void *a) {
    (void)a;
    int old = -1;
    pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &old);
    note(old == PTHREAD_CANCEL_DEFERRED ? "old type DEFERRED" : "old type ?");
    pthread_cleanup_push((void (*)(void *))note, "async: cleanup");
    sem_post(&s1);
    for (;;)
        spins++;
    pthread_cleanup_pop(0);
    return NULL;
}

static void *lifo(void *a) {
    (void)a;
    pthread_cleanup_push((void (*)(void *))note, "first pushed");
    pthread_cleanup_push((void (*)(void *))note, "second pushed");
    pthread_cleanup_push((void (*)(void *))note, "popped with 1");
    pthread_cleanup_pop(1);
    pthread_cleanup_push((void (*)(void *))note, "popped with 0");
    pthread_cleanup_pop(0);
    pthread_cleanup_push((void (*)(void *))note, "third pushed");
    sem_post(&s1);
    sem_wait(&s2); /* cancelled here, or at once if the cancel came first */
    note("NOT REACHED");
    pthread_cleanup_pop(0);
    pthread_cleanup_pop(0);
    pthread_cleanup_pop(0);
    return NULL;
}

static void cancel_join(const char *what, pthread_t t) {
    int c = pthread_cancel(t);
    void *v = NULL;
    int j = pthread_join(t, &v);
    printf("%s: cancel %s, join %s, value %s\n", what, en(c), en(j),
           v == PTHREAD_CANCELED ? "PTHREAD_CANCELED" : "not PTHREAD_CANCELED");
    flush_log(what);
}

int main(void) {
    setvbuf(stdout, 0, _IONBF, 0);
    pthread_t t;
    sem_init(&s1, 0, 0);
    sem_init(&s2, 0, 0);

    tid = 0;
    pthread_create(&t, NULL, in_cond, NULL);
    wait_asleep(&tid);
    cancel_join("cond_wait", t);
    printf("cond_wait: cleanup held the mutex: %s, mutex free after: %s\n", cleanup_held_mutex == 1 ? "yes" : "no",
           pthread_mutex_trylock(&cm) == 0 ? "yes" : "no");
    pthread_mutex_unlock(&cm);

    pipe(pipefd);
    tid = 0;
    pthread_create(&t, NULL, in_read, NULL);
    wait_asleep(&tid);
    cancel_join("read", t);
    char c;
    int fl = fcntl(pipefd[0], F_GETFL);
    fcntl(pipefd[0], F_SETFL, fl | O_NONBLOCK);
    int r = (int)read(pipefd[0], &c, 1);
    printf("read: pipe still empty and open: %s\n", r < 0 && errno == EAGAIN ? "yes" : "no");

    tid = 0;
    pthread_create(&t, NULL, in_sleep, NULL);
    wait_asleep(&tid);
    cancel_join("nanosleep", t);

    pthread_create(&t, NULL, disabled, NULL);
    sem_wait(&s1);
    int cr = pthread_cancel(t);
    sem_post(&s2);
    void *v = NULL;
    int j = pthread_join(t, &v);
    printf("disabled: cancel %s, join %s, value %s\n", en(cr), en(j),
           v == PTHREAD_CANCELED ? "PTHREAD_CANCELED" : "not PTHREAD_CANCELED");
    flush_log("disabled");

    pthread_create(&t, NULL, async_loop, NULL);
    sem_wait(&s1);
    cancel_join("asynchronous", t);

    pthread_create(&t, NULL, lifo, NULL);
    sem_wait(&s1);
    cancel_join("lifo", t);
    return 0;
}
