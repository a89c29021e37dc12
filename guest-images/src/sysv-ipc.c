/* sysv-ipc: SysV shared memory, semaphores and message queues as today's Linux
 * answers them — a counter in a segment shared by a parent and a forked child under
 * a semaphore, SHM_RDONLY (a write faults), IPC_RMID while attached, SEM_UNDO undone
 * at a child's exit, a semop blocked until another process posts, semtimedop's
 * timeout, EIDRM to sleepers, message types (0, >0, <0, MSG_EXCEPT), blocking
 * receives between processes, E2BIG/MSG_NOERROR, a full queue, a process-shared
 * POSIX semaphore inside a segment, the ipc(2) multiplexer's argument quirks, and
 * the errors (EEXIST, ENOENT, EINVAL, EACCES, EIDRM, ERANGE, EFBIG, E2BIG, ENOMSG,
 * EAGAIN). Keys come from ftok on a temporary file, so native runs meet no other
 * process's objects; every object is removed at the end. Prints no id, pid, address
 * or time. EACCES cases print "EACCES" for root too (root has CAP_IPC_OWNER and
 * is never refused). */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

static const char *e(long r) {
    return r < 0 ? strerrorname_np(errno) : "ok";
}

/* A refusal that root is spared (CAP_IPC_OWNER): root's outcome is not checked. */
static const char *denied(long r) {
    if (geteuid() == 0)
        return "EACCES";
    return e(r);
}

static int sem_set(int id, int n, int v) {
    union semun u = {.val = v};
    return semctl(id, n, SETVAL, u);
}

static int sem_get(int id, int n, int cmd) {
    union semun u = {.val = 0};
    return semctl(id, n, cmd, u);
}

static int sop(int id, int n, int op, int flg) {
    struct sembuf b = {.sem_num = (unsigned short)n, .sem_op = (short)op, .sem_flg = (short)flg};
    return semop(id, &b, 1);
}

/* Until GETNCNT (or GETZCNT) of semaphore n reaches want. */
static void wait_cnt(int id, int n, int cmd, int want) {
    for (int i = 0; i < 2000 && sem_get(id, n, cmd) != want; i++)
        usleep(1000);
}

static int status_of(pid_t p) {
    int st = 0;
    waitpid(p, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static sigjmp_buf jb;
static void on_segv(int sig) {
    (void)sig;
    siglongjmp(jb, 1);
}

struct msg {
    long mtype;
    char mtext[64];
};

static char key_path[] = "/tmp/sysv-ipc-XXXXXX";

/* A key of our own: ftok of a fresh temporary file, one project id per use. */
static key_t keyof(int n) {
    return ftok(key_path, 'A' + n);
}

static void shm_tests(void) {
    /* A counter two processes increment under a semaphore. */
    int shm = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
    int sem = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    printf("shmget private: %s, semget private: %s\n", e(shm), e(sem));
    volatile int *ctr = shmat(shm, NULL, 0);
    printf("shmat: %s, fresh page zero: %d\n", ctr == (void *)-1 ? e(-1) : "ok", ctr[0]);
    sem_set(sem, 0, 1);
    struct shmid_ds ds;
    shmctl(shm, IPC_STAT, &ds);
    printf("IPC_STAT: segsz %u nattch %u mode %o\n", (unsigned)ds.shm_segsz, (unsigned)ds.shm_nattch,
           ds.shm_perm.mode & 0777);
    pid_t p = fork();
    if (p == 0) {
        shmctl(shm, IPC_STAT, &ds);
        printf("child: nattch after fork %u\n", (unsigned)ds.shm_nattch);
        for (int i = 0; i < 500; i++) {
            sop(sem, 0, -1, 0);
            int v = ctr[0];
            if (i % 50 == 0)
                sched_yield();
            ctr[0] = v + 1;
            sop(sem, 0, 1, 0);
        }
        _exit(0);
    }
    for (int i = 0; i < 500; i++) {
        sop(sem, 0, -1, 0);
        int v = ctr[0];
        if (i % 70 == 0)
            sched_yield();
        ctr[0] = v + 1;
        sop(sem, 0, 1, 0);
    }
    int st = status_of(p);
    shmctl(shm, IPC_STAT, &ds);
    printf("counter %d (child %d), nattch after the child's exit %u\n", ctr[0], st, (unsigned)ds.shm_nattch);

    /* A process-shared POSIX semaphore in the segment (futexes on shared pages). */
    sem_t *ps = (sem_t *)((char *)ctr + 4096);
    sem_init(ps, 1, 0);
    p = fork();
    if (p == 0) {
        sem_wait(ps);
        printf("child: sem_wait returned, value seen %d\n", ctr[1]);
        _exit(0);
    }
    usleep(20000);
    ctr[1] = 42;
    sem_post(ps);
    st = status_of(p);
    printf("posix sem in shm: child %d\n", st);
    sem_destroy(ps);

    /* SHM_RDONLY: reading works, writing is SIGSEGV. */
    volatile int *ro = shmat(shm, NULL, SHM_RDONLY);
    struct sigaction sa = {.sa_handler = on_segv};
    sigaction(SIGSEGV, &sa, NULL);
    int faulted = 0;
    if (sigsetjmp(jb, 1) == 0) {
        int v = ro[0];
        printf("SHM_RDONLY read %d\n", v);
        ro[0] = 1;
    } else {
        faulted = 1;
    }
    signal(SIGSEGV, SIG_DFL);
    printf("SHM_RDONLY write: %s\n", faulted ? "SIGSEGV" : "no fault");
    int r = mprotect((void *)ro, 4096, PROT_READ | PROT_WRITE);
    printf("mprotect writable of SHM_RDONLY: %s\n", e(r));
    printf("shmdt rdonly: %s\n", e(shmdt((void *)ro)));

    /* Attach errors. */
    r = shmdt((char *)ctr + 4096);
    printf("shmdt not an attach start: %s\n", e(r));
    void *a = shmat(shm, (void *)((uintptr_t)ctr + 100), 0);
    printf("shmat unaligned: %s\n", e(a == (void *)-1 ? -1 : 0));
    a = shmat(shm, (void *)ctr, 0);
    printf("shmat over an attach: %s\n", e(a == (void *)-1 ? -1 : 0));
    a = shmat(shm, NULL, SHM_REMAP);
    printf("shmat SHM_REMAP without address: %s\n", e(a == (void *)-1 ? -1 : 0));
    a = shmat(shm, (void *)((uintptr_t)ctr + 100), SHM_RND | SHM_REMAP);
    printf("shmat SHM_RND|SHM_REMAP onto itself: %s, same place %d, counter %d\n",
           e(a == (void *)-1 ? -1 : 0), a == (void *)ctr, ctr[0]);
    a = shmat(-1, NULL, 0);
    printf("shmat -1: %s\n", e(a == (void *)-1 ? -1 : 0));
    a = shmat(shm + 1, NULL, 0);
    printf("shmat unknown id: %s\n", e(a == (void *)-1 ? -1 : 0));

    /* ipc(2) SHMAT version 0 writes the address through its third argument. */
    unsigned long raddr = 0;
    long lr = syscall(SYS_ipc, 21, shm, 0, &raddr, NULL, 0);
    shmctl(shm, IPC_STAT, &ds);
    printf("ipc(SHMAT): %s, address written %d, nattch %u\n", e(lr), raddr != 0, (unsigned)ds.shm_nattch);
    lr = syscall(SYS_ipc, 22, 0, 0, 0, (void *)raddr, 0);
    printf("ipc(SHMDT): %s\n", e(lr));

    /* Removal while attached: still usable, gone at the last detach. */
    r = shmctl(shm, IPC_RMID, NULL);
    shmctl(shm, IPC_STAT, &ds);
    printf("IPC_RMID attached: %s, nattch %u, SHM_DEST %d\n", e(r), (unsigned)ds.shm_nattch,
           !!(ds.shm_perm.mode & SHM_DEST));
    ctr[0] += 1;
    printf("still usable: counter %d\n", ctr[0]);
    printf("shmdt: %s\n", e(shmdt((void *)ctr)));
    r = shmctl(shm, IPC_STAT, &ds);
    printf("IPC_STAT after the last detach: %s\n", e(r));
    sem_get(sem, 0, IPC_RMID);

    /* Keys. */
    key_t key = keyof(0);
    int k1 = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
    printf("shmget key create: %s\n", e(k1));
    r = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
    printf("shmget key IPC_EXCL again: %s\n", e(r));
    r = shmget(key, 0, 0);
    printf("shmget key lookup: %s, same id %d\n", e(r), r == k1);
    r = shmget(key, 8192, 0);
    printf("shmget key larger size: %s\n", e(r));
    r = shmget(keyof(1), 4096, 0600);
    printf("shmget missing key: %s\n", e(r));
    r = shmget(IPC_PRIVATE, 0, 0600);
    printf("shmget size 0: %s\n", e(r));
    volatile char *kp = shmat(k1, NULL, 0);
    kp[10] = 'x';
    shmctl(k1, IPC_RMID, NULL);
    r = shmget(key, 0, 0);
    printf("key after IPC_RMID while attached: %s\n", e(r));
    shmctl(k1, IPC_STAT, &ds);
    printf("IPC_STAT: key %d nattch %u\n", (int)ds.shm_perm.__key, (unsigned)ds.shm_nattch);
    shmdt((void *)kp);

    /* Permissions. */
    int ro_seg = shmget(IPC_PRIVATE, 4096, 0400);
    a = shmat(ro_seg, NULL, 0);
    printf("shmat rw of a 0400 segment: %s\n", denied(a == (void *)-1 ? -1 : 0));
    if (a != (void *)-1)
        shmdt(a);
    a = shmat(ro_seg, NULL, SHM_RDONLY);
    printf("shmat rdonly of a 0400 segment: %s\n", e(a == (void *)-1 ? -1 : 0));
    shmdt(a);
    ds.shm_perm.mode = 0;
    shmctl(ro_seg, IPC_STAT, &ds);
    ds.shm_perm.mode = 0;
    r = shmctl(ro_seg, IPC_SET, &ds);
    shmctl(ro_seg, IPC_STAT, &ds);
    printf("IPC_SET mode 0: %s, mode now %o\n", e(r), ds.shm_perm.mode & 0777);
    r = shmctl(ro_seg, IPC_STAT, &ds);
    printf("IPC_STAT of a mode-0 segment: %s\n", denied(r));
    shmctl(ro_seg, IPC_RMID, NULL);
}

static void sem_tests(void) {
    int sem = semget(IPC_PRIVATE, 2, 0600);
    printf("semget 2: %s, values %d %d\n", e(sem), sem_get(sem, 0, GETVAL), sem_get(sem, 1, GETVAL));

    /* SEM_UNDO: a child's adjustments are undone when it exits. */
    sem_set(sem, 0, 5);
    pid_t p = fork();
    if (p == 0) {
        sop(sem, 0, -2, SEM_UNDO);
        sop(sem, 0, 1, SEM_UNDO);
        sop(sem, 0, -1, 0);
        printf("child: value %d\n", sem_get(sem, 0, GETVAL));
        _exit(0);
    }
    status_of(p);
    printf("after the child's exit: %d (SEM_UNDO gave back 1 of 2, the plain -1 stays)\n",
           sem_get(sem, 0, GETVAL));

    /* A semop blocked until another process posts. */
    sem_set(sem, 0, 0);
    p = fork();
    if (p == 0) {
        int r = sop(sem, 0, -1, 0);
        printf("child: woken semop %s, value %d\n", e(r), sem_get(sem, 0, GETVAL));
        _exit(0);
    }
    wait_cnt(sem, 0, GETNCNT, 1);
    printf("GETNCNT %d GETZCNT %d\n", sem_get(sem, 0, GETNCNT), sem_get(sem, 0, GETZCNT));
    sop(sem, 0, 1, 0);
    status_of(p);

    /* Waiting for zero. */
    sem_set(sem, 1, 2);
    p = fork();
    if (p == 0) {
        int r = sop(sem, 1, 0, 0);
        printf("child: wait-for-zero %s\n", e(r));
        _exit(0);
    }
    wait_cnt(sem, 1, GETZCNT, 1);
    printf("GETZCNT %d\n", sem_get(sem, 1, GETZCNT));
    sop(sem, 1, -1, 0);
    sop(sem, 1, -1, 0);
    status_of(p);

    /* Atomicity: the second op cannot proceed, so neither happens. */
    sem_set(sem, 0, 3);
    sem_set(sem, 1, 0);
    struct sembuf two[2] = {{0, -1, IPC_NOWAIT}, {1, -1, IPC_NOWAIT}};
    int r = semop(sem, two, 2);
    printf("semop of two, second blocks: %s, values %d %d\n", e(r), sem_get(sem, 0, GETVAL), sem_get(sem, 1, GETVAL));

    /* Timeouts and errors. */
    struct timespec ts = {0, 50 * 1000 * 1000};
    struct sembuf dec = {1, -1, 0};
    r = semtimedop(sem, &dec, 1, &ts);
    printf("semtimedop 50 ms: %s\n", e(r));
    r = sop(sem, 1, -1, IPC_NOWAIT);
    printf("semop IPC_NOWAIT: %s\n", e(r));
    r = sem_set(sem, 0, 40000);
    printf("SETVAL 40000: %s\n", e(r));
    sem_set(sem, 0, 32767);
    r = sop(sem, 0, 1, 0);
    printf("semop past SEMVMX: %s\n", e(r));
    r = sop(sem, 5, 1, 0);
    printf("semop sem_num 5 of 2: %s\n", e(r));
    struct sembuf many[501];
    memset(many, 0, sizeof many);
    r = semop(sem, many, 501);
    printf("semop 501 ops: %s\n", e(r));
    r = semop(sem, many, 0);
    printf("semop 0 ops: %s\n", e(r));
    unsigned short all[2] = {7, 9};
    union semun u = {.array = all};
    r = semctl(sem, 0, SETALL, u);
    all[0] = all[1] = 0;
    semctl(sem, 0, GETALL, u);
    printf("SETALL/GETALL: %s, %d %d\n", e(r), all[0], all[1]);
    struct semid_ds sds;
    u.buf = &sds;
    r = semctl(sem, 0, IPC_STAT, u);
    printf("IPC_STAT: %s nsems %lu mode %o\n", e(r), (unsigned long)sds.sem_nsems, sds.sem_perm.mode & 0777);

    /* ipc(2) SEMCTL passes a pointer to the union. */
    union semun gv = {.val = 0};
    long lr = syscall(SYS_ipc, 3, sem, 1, GETVAL | 0x100, &gv, 0);
    printf("ipc(SEMCTL GETVAL): %ld\n", lr);
    lr = syscall(SYS_ipc, 3, sem, 1, GETVAL, NULL, 0);
    printf("ipc(SEMCTL) NULL union: %s\n", e(lr));

    /* EIDRM to a sleeper. */
    sem_set(sem, 0, 0);
    p = fork();
    if (p == 0) {
        int r2 = sop(sem, 0, -1, 0);
        printf("child: semop on a removed set: %s\n", e(r2));
        _exit(0);
    }
    wait_cnt(sem, 0, GETNCNT, 1);
    r = semctl(sem, 0, IPC_RMID);
    status_of(p);
    printf("IPC_RMID: %s; GETVAL after: %s\n", e(r), e(sem_get(sem, 0, GETVAL)));

    /* Keys and permissions. */
    key_t key = keyof(2);
    int s1 = semget(key, 3, IPC_CREAT | 0600);
    r = semget(key, 3, IPC_CREAT | IPC_EXCL | 0600);
    printf("semget IPC_EXCL existing: %s\n", e(r));
    r = semget(key, 4, 0);
    printf("semget more sems than the set: %s\n", e(r));
    r = semget(key, 0, 0);
    printf("semget nsems 0 existing: %s, same %d\n", e(r), r == s1);
    r = semget(keyof(3), 1, 0);
    printf("semget missing key: %s\n", e(r));
    r = semget(IPC_PRIVATE, 0, 0600);
    printf("semget private nsems 0: %s\n", e(r));
    r = semget(key, 0, 0666);
    printf("semget asking 0666 of a 0600 set: %s\n", denied(r));
    semctl(s1, 0, IPC_RMID);
    int s2 = semget(IPC_PRIVATE, 1, 0400);
    r = sop(s2, 0, 1, 0);
    printf("semop alter of a 0400 set: %s\n", denied(r));
    semctl(s2, 0, IPC_RMID);
}

static void msg_tests(void) {
    int q = msgget(IPC_PRIVATE, 0600);
    printf("msgget: %s\n", e(q));
    struct msg m;
    const char *texts[] = {"", "one", "two", "three"};
    for (int t = 1; t <= 3; t++) {
        m.mtype = t;
        strcpy(m.mtext, texts[t]);
        msgsnd(q, &m, strlen(m.mtext) + 1, 0);
    }
    m.mtype = 2;
    strcpy(m.mtext, "two again");
    msgsnd(q, &m, 10, 0);
    struct msqid_ds ds;
    msgctl(q, IPC_STAT, &ds);
    printf("IPC_STAT: qnum %lu cbytes %lu qbytes %lu\n", (unsigned long)ds.msg_qnum, (unsigned long)ds.__msg_cbytes,
           (unsigned long)ds.msg_qbytes);
    long n = msgrcv(q, &m, sizeof m.mtext, 2, 0);
    printf("msgrcv type 2: %ld type %ld \"%s\"\n", n, m.mtype, m.mtext);
    n = msgrcv(q, &m, sizeof m.mtext, 2, MSG_EXCEPT);
    printf("msgrcv not type 2: %ld type %ld \"%s\"\n", n, m.mtype, m.mtext);
    n = msgrcv(q, &m, sizeof m.mtext, -3, 0);
    printf("msgrcv type <= 3: %ld type %ld \"%s\"\n", n, m.mtype, m.mtext);
    n = msgrcv(q, &m, sizeof m.mtext, 0, 0);
    printf("msgrcv any: %ld type %ld \"%s\"\n", n, m.mtype, m.mtext);
    n = msgrcv(q, &m, sizeof m.mtext, 0, IPC_NOWAIT);
    printf("msgrcv empty IPC_NOWAIT: %s\n", e(n));

    m.mtype = 5;
    strcpy(m.mtext, "hello world");
    msgsnd(q, &m, 12, 0);
    n = msgrcv(q, &m, 5, 5, 0);
    printf("msgrcv 5 bytes of 12: %s\n", e(n));
    memset(m.mtext, 0, sizeof m.mtext);
    n = msgrcv(q, &m, 5, 5, MSG_NOERROR);
    printf("msgrcv MSG_NOERROR: %ld \"%s\"\n", n, m.mtext);
    m.mtype = 0;
    n = msgsnd(q, &m, 1, 0);
    printf("msgsnd mtype 0: %s\n", e(n));
    n = msgsnd(q, &m, 9000, 0);
    printf("msgsnd 9000 bytes: %s\n", e(n));

    /* ipc(2) MSGRCV version 0 takes a struct ipc_kludge. */
    m.mtype = 9;
    strcpy(m.mtext, "kludge");
    msgsnd(q, &m, 7, 0);
    struct {
        void *msgp;
        long msgtyp;
    } kl = {&m, 9};
    memset(&m, 0, sizeof m);
    n = syscall(SYS_ipc, 12, q, sizeof m.mtext, 0, &kl, 0);
    printf("ipc(MSGRCV) v0: %ld type %ld \"%s\"\n", n, m.mtype, m.mtext);

    /* Blocking receives between processes. */
    pid_t p = fork();
    if (p == 0) {
        struct msg c;
        long r = msgrcv(q, &c, sizeof c.mtext, 7, 0);
        printf("child: received %ld type %ld \"%s\"\n", r, c.mtype, c.mtext);
        c.mtype = 8;
        strcpy(c.mtext, "pong");
        msgsnd(q, &c, 5, 0);
        _exit(0);
    }
    usleep(50000);
    m.mtype = 7;
    strcpy(m.mtext, "ping");
    msgsnd(q, &m, 5, 0);
    n = msgrcv(q, &m, sizeof m.mtext, 8, 0);
    printf("parent: received %ld type %ld \"%s\"\n", n, m.mtype, m.mtext);
    status_of(p);

    /* A full queue. */
    msgctl(q, IPC_STAT, &ds);
    ds.msg_qbytes = 10;
    int r = msgctl(q, IPC_SET, &ds);
    printf("IPC_SET qbytes 10: %s\n", e(r));
    m.mtype = 1;
    r = msgsnd(q, &m, 8, IPC_NOWAIT);
    printf("msgsnd 8 bytes: %s\n", e(r));
    r = msgsnd(q, &m, 8, IPC_NOWAIT);
    printf("msgsnd 8 more IPC_NOWAIT: %s\n", e(r));
    p = fork();
    if (p == 0) {
        long r2 = msgsnd(q, &m, 8, 0);
        printf("child: blocked msgsnd %s\n", e(r2));
        _exit(0);
    }
    usleep(50000);
    n = msgrcv(q, &m, sizeof m.mtext, 0, 0);
    status_of(p);
    msgctl(q, IPC_STAT, &ds);
    printf("after the receive: qnum %lu\n", (unsigned long)ds.msg_qnum);

    /* EIDRM to a blocked receiver. */
    p = fork();
    if (p == 0) {
        struct msg c;
        long r2 = msgrcv(q, &c, sizeof c.mtext, 99, 0);
        printf("child: msgrcv on a removed queue: %s\n", e(r2));
        _exit(0);
    }
    usleep(50000);
    r = msgctl(q, IPC_RMID, NULL);
    status_of(p);
    printf("IPC_RMID: %s; msgsnd after: %s\n", e(r), e(msgsnd(q, &m, 1, 0)));

    key_t key = keyof(4);
    int q1 = msgget(key, IPC_CREAT | 0600);
    r = msgget(key, IPC_CREAT | IPC_EXCL);
    printf("msgget IPC_EXCL existing: %s\n", e(r));
    r = msgget(keyof(5), 0);
    printf("msgget missing key: %s\n", e(r));
    r = msgctl(-1, IPC_STAT, &ds);
    printf("msgctl -1: %s\n", e(r));
    r = msgctl(q1, 1234, &ds);
    printf("msgctl unknown cmd: %s\n", e(r));
    msgctl(q1, IPC_RMID, NULL);
    int q2 = msgget(IPC_PRIVATE, 0200);
    r = msgrcv(q2, &m, 8, 0, IPC_NOWAIT);
    printf("msgrcv from a 0200 queue: %s\n", denied(r));
    msgctl(q2, IPC_RMID, NULL);
}

/* The direct system calls (i386 has had them since Linux 5.1; glibc still goes
 * through ipc(2)). They always use the 64-bit layouts and take no IPC_64 flag: a
 * command with it is unknown (EINVAL). */
static void direct_tests(void) {
    long shm = syscall(SYS_shmget, IPC_PRIVATE, 4096, 0600);
    long a = syscall(SYS_shmat, shm, 0, 0);
    volatile int *p = (volatile int *)a;
    p[0] = 7;
    struct shmid_ds ds;
    long r = syscall(SYS_shmctl, shm, IPC_STAT, &ds);
    printf("direct shm: get %s at %s stat %s nattch %u\n", e(shm), e(a == -1 ? -1 : 0), e(r),
           (unsigned)ds.shm_nattch);
    r = syscall(SYS_shmdt, a);
    long r2 = syscall(SYS_shmctl, shm, IPC_RMID, 0);
    printf("direct shmdt %s rmid %s\n", e(r), e(r2));
    long sem = syscall(SYS_semget, IPC_PRIVATE, 1, 0600);
    r = syscall(SYS_semctl, sem, 0, SETVAL, 3);
    struct sembuf b = {0, -1, 0};
    struct timespec64 {
        long long s, ns;
    } ts = {0, 1000000};
    r2 = syscall(SYS_semtimedop_time64, sem, &b, 1, &ts);
    long v = syscall(SYS_semctl, sem, 0, GETVAL, 0);
    printf("direct sem: get %s setval %s semtimedop %s value %ld\n", e(sem), e(r), e(r2), v);
    r = syscall(SYS_semtimedop_time64, sem, &b, 1, &ts);
    r2 = syscall(SYS_semtimedop_time64, sem, &b, 1, &ts);
    printf("direct semtimedop: %s then %s\n", e(r), e(r2));
    r = syscall(SYS_semctl, sem, 0, GETVAL | 0x100, 0);
    printf("direct semctl GETVAL|IPC_64: %s\n", e(r));
    syscall(SYS_semctl, sem, 0, IPC_RMID, 0);
    long q = syscall(SYS_msgget, IPC_PRIVATE, 0600);
    struct msg m = {3, "direct"};
    r = syscall(SYS_msgsnd, q, &m, 7, 0);
    memset(&m, 0, sizeof m);
    r2 = syscall(SYS_msgrcv, q, &m, sizeof m.mtext, -5, 0);
    printf("direct msg: get %s snd %s rcv %ld type %ld \"%s\"\n", e(q), e(r), r2, m.mtype, m.mtext);
    struct msqid_ds qd;
    r = syscall(SYS_msgctl, q, IPC_STAT, &qd);
    r2 = syscall(SYS_msgctl, q, IPC_RMID, 0);
    printf("direct msgctl stat %s qnum %lu rmid %s\n", e(r), (unsigned long)qd.msg_qnum, e(r2));
}

int main(void) {
    setvbuf(stdout, 0, _IONBF, 0);
    int fd = mkstemp(key_path);
    if (fd < 0 || keyof(0) == -1) {
        printf("ftok: %s\n", e(-1));
        return 1;
    }
    close(fd);
    shm_tests();
    sem_tests();
    msg_tests();
    direct_tests();
    unlink(key_path);
    printf("done\n");
    return 0;
}
