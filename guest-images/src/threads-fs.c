/* threads-fs: what threads share of the filesystem context and what processes do
 * not (CLONE_FS): the working directory and the umask.
 *
 * - a thread's chdir moves the whole process (getcwd in main sees it), a forked
 *   child's chdir does not move its parent;
 * - a thread's umask is main's; a child's umask is its own;
 * - files and directories are created with the mode masked by the umask in force;
 * - relative paths are resolved against each process's own directory while two
 *   processes with different directories take turns.
 * Prints only comparisons and modes, never paths. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char base[64];
static char sub[96];

static void *thread_chdir(void *arg) {
    (void)arg;
    int r = chdir(sub);
    umask(077);
    return (void *)(long)r;
}

static const char *yes(int c) { return c ? "yes" : "no"; }

static unsigned mode_of(const char *p) {
    struct stat st;
    if (stat(p, &st) != 0)
        return 0;
    return st.st_mode & 07777;
}

int main(void) {
    strcpy(base, "/tmp/growsdown-threads-fs-XXXXXX");
    if (!mkdtemp(base)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(sub, sizeof sub, "%s/sub", base);
    mkdir(sub, 0755);
    if (chdir(base) != 0)
        return 1;
    umask(022);

    /* A thread's chdir and umask are the process's. */
    pthread_t t;
    void *ret;
    pthread_create(&t, NULL, thread_chdir, NULL);
    pthread_join(t, &ret);
    char cwd[256];
    char *c = getcwd(cwd, sizeof cwd);
    printf("thread chdir: %ld; main now in it: %s\n", (long)ret, yes(c && strcmp(cwd, sub) == 0));
    mode_t old = umask(022);
    printf("thread's umask seen by main: %03o\n", (unsigned)old);

    /* Creation modes under umask 027. */
    umask(027);
    int fd = open("f666", O_CREAT | O_WRONLY, 0666);
    close(fd);
    mkdir("d777", 0777);
    umask(0);
    fd = open("g640", O_CREAT | O_WRONLY, 0640);
    close(fd);
    printf("open 0666 under 027: %04o; mkdir 0777 under 027: %04o; open 0640 under 0: %04o\n",
           mode_of("f666"), mode_of("d777"), mode_of("g640"));
    umask(022);

    /* A child has its own directory and umask; relative paths follow each one. */
    int p2c[2], c2p[2];
    pipe(p2c);
    pipe(c2p);
    pid_t pid = fork();
    if (pid == 0) {
        chdir(base);
        umask(077);
        char b;
        for (int i = 0; i < 3; i++) {
            write(c2p[1], "x", 1);
            read(p2c[0], &b, 1);
            /* "sub" exists only relative to base: the child sees it. */
            struct stat st;
            int r = stat("sub", &st);
            write(c2p[1], r == 0 ? "y" : "n", 1);
            read(p2c[0], &b, 1);
        }
        fd = open("child-file", O_CREAT | O_WRONLY, 0666);
        close(fd);
        _exit(0);
    }
    int ok_parent = 1, ok_child = 1;
    for (int i = 0; i < 3; i++) {
        char b;
        read(c2p[0], &b, 1);
        /* The parent is in base/sub: "sub" is not there, "f666" is. */
        struct stat st;
        if (stat("sub", &st) == 0 || stat("f666", &st) != 0)
            ok_parent = 0;
        write(p2c[1], "x", 1);
        read(c2p[0], &b, 1);
        if (b != 'y')
            ok_child = 0;
        write(p2c[1], "x", 1);
    }
    int st;
    waitpid(pid, &st, 0);
    c = getcwd(cwd, sizeof cwd);
    printf("turns: parent's relative paths its own: %s; child's its own: %s\n", yes(ok_parent), yes(ok_child));
    printf("parent still in sub after the child's chdir: %s; umask still 022: %s\n",
           yes(c && strcmp(cwd, sub) == 0), yes(umask(022) == 022));
    char cf[160];
    snprintf(cf, sizeof cf, "%s/child-file", base);
    printf("child's file under its umask 077: %04o\n", mode_of(cf));

    unlink("f666");
    unlink("g640");
    rmdir("d777");
    unlink(cf);
    chdir("/");
    rmdir(sub);
    rmdir(base);
    return 0;
}
