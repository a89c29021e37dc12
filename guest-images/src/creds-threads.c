/* creds-threads: credentials are per thread. A raw setfsuid in one thread changes
 * that thread only; glibc's setuid() changes every thread (it signals each one with
 * SIGSETXID and each makes the call), so after the main thread's setuid(65534) each
 * thread reads 65534 from the raw getresuid32 and is refused a root-only file
 * (EACCES). Run as root; otherwise prints one line saying so. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_barrier_t bar;
static char path[64];

static void report(const char *who) {
    unsigned r, e, s;
    syscall(SYS_getresuid32, &r, &e, &s);
    long fs = syscall(SYS_setfsuid32, -1);
    int fd = open(path, O_RDONLY);
    int err = fd < 0 ? errno : 0;
    if (fd >= 0)
        close(fd);
    printf("%s: uids %u %u %u fs %ld, open of the root file: %s\n", who, r, e, s, fs, err ? (err == EACCES ? "EACCES" : "other error") : "ok");
}

static void *worker(void *arg) {
    long n = (long)arg;
    char name[16];
    snprintf(name, sizeof name, "thread %ld", n);
    if (n == 1)
        syscall(SYS_setfsuid32, 1234);
    pthread_barrier_wait(&bar); /* 1: fsuid set */
    pthread_barrier_wait(&bar); /* 2: main reported */
    if (n == 1)
        report(name);
    pthread_barrier_wait(&bar); /* 3 */
    if (n == 2)
        report(name);
    pthread_barrier_wait(&bar); /* 4: main calls setuid */
    pthread_barrier_wait(&bar); /* 5: done */
    for (long i = 1; i <= 2; i++) {
        pthread_barrier_wait(&bar);
        if (i == n)
            report(name);
    }
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (geteuid() != 0) {
        printf("creds-threads: needs root\n");
        return 0;
    }
    snprintf(path, sizeof path, "/tmp/creds-threads-XXXXXX");
    int fd = mkstemp(path);
    fchmod(fd, 0600);
    close(fd);
    /* The work runs in a child, so that root can remove the file afterwards. */
    pid_t child = fork();
    if (child > 0) {
        int st;
        waitpid(child, &st, 0);
        unlink(path);
        printf("child exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
        return 0;
    }
    pthread_barrier_init(&bar, NULL, 3);
    pthread_t t[2];
    for (long i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, worker, (void *)(i + 1));
    pthread_barrier_wait(&bar); /* 1 */
    report("main");
    pthread_barrier_wait(&bar); /* 2 */
    pthread_barrier_wait(&bar); /* 3 */
    pthread_barrier_wait(&bar); /* 4 */
    printf("setuid(65534) in main: %d\n", setuid(65534));
    pthread_barrier_wait(&bar); /* 5 */
    report("main");
    for (long i = 1; i <= 2; i++)
        pthread_barrier_wait(&bar);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    int r = setuid(0);
    printf("setuid(0) in main: %d (errno %s)\n", r, errno == EPERM ? "EPERM" : "other");
    return 0;
}
