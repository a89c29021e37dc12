/* threads-exec: execve from a thread that is not the group leader. The main
 * program starts 3 threads (one sleeping in a 1 ms nanosleep loop, one blocked on a
 * condvar, the third the exec'ing one) while the main thread blocks in
 * pthread_join; the third thread execs /proc/self/exe. The kernel kills the other
 * threads and the exec'ing thread takes over the leader's pid: the new image
 * (argv[1] "after-exec") checks that getpid() is the original pid, gettid() ==
 * getpid(), the parent is the same, and /proc/self/task holds one entry. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const char *yesno(int c) { return c ? "yes" : "no"; }

static int after(int argc, char **argv) {
    printf("after exec: argv[1] %s, argc %d\n", argv[1], argc);
    if (argc < 4)
        return 1;
    printf("same pid: %s\n", yesno(getpid() == atoi(argv[2])));
    printf("same parent: %s\n", yesno(getppid() == atoi(argv[3])));
    printf("gettid == getpid: %s\n", yesno(syscall(SYS_gettid) == getpid()));
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    if (d)
        closedir(d);
    printf("threads in /proc/self/task: %d\n", n);
    return 0;
}

static sem_t started;
static void *sleeper(void *a) {
    (void)a;
    sem_post(&started);
    for (;;) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static void *cond_waiter(void *a) {
    (void)a;
    pthread_mutex_lock(&m);
    sem_post(&started);
    for (;;)
        pthread_cond_wait(&cv, &m);
    return NULL;
}
static char pidbuf[16], ppidbuf[16];
static void *execer(void *a) {
    (void)a;
    sem_wait(&started);
    sem_wait(&started);
    char *argv[] = {"threads-exec", "after-exec", pidbuf, ppidbuf, NULL};
    char *envp[] = {NULL};
    execve("/proc/self/exe", argv, envp);
    static const char msg[] = "execve failed\n";
    write(1, msg, sizeof msg - 1);
    _exit(1);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "after-exec") == 0)
        return after(argc, argv);
    printf("before exec: starting 3 threads, the third execs\n");
    fflush(stdout);
    snprintf(pidbuf, sizeof pidbuf, "%d", (int)getpid());
    snprintf(ppidbuf, sizeof ppidbuf, "%d", (int)getppid());
    sem_init(&started, 0, 0);
    pthread_t t[3];
    pthread_create(&t[0], NULL, sleeper, NULL);
    pthread_create(&t[1], NULL, cond_waiter, NULL);
    pthread_create(&t[2], NULL, execer, NULL);
    pthread_join(t[2], NULL); /* never returns: the exec replaces the process */
    static const char msg[] = "join returned\n";
    write(1, msg, sizeof msg - 1);
    return 1;
}
