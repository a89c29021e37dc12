/* Sockets: TCP over loopback between two processes, UDP, a Unix socket passing
 * file descriptors with SCM_RIGHTS, the errors of the socket calls (through
 * glibc, the direct i386 calls and socketcall), and the two halves of a TCP echo
 * with a host process (modes `connect PORT` and `listen`, driven by
 * crates/cli/tests/net_host.rs).
 *
 *   sockets tcp | udp | inet6 | unix-fd | errors | connect PORT | listen
 *
 * Output is deterministic: no pids, ports or addresses are printed, only
 * relations ("peer is loopback: yes"). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static void res(const char *what, long r)
{
    if (r < 0)
        printf("%s: -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%s: %ld\n", what, r);
}

/* socketcall(2) itself, whatever glibc uses for the wrappers. */
static long sc(int call, unsigned long *args)
{
    return syscall(SYS_socketcall, call, args);
}

static void status(pid_t c)
{
    int st;
    pid_t w = waitpid(c, &st, 0);
    printf("child pid == waited pid: %s, exit %d\n", w == c ? "yes" : "no", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static int loopback_listener(unsigned short *port)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 4) < 0) {
        perror("listen");
        exit(1);
    }
    socklen_t len = sizeof a;
    getsockname(l, (struct sockaddr *)&a, &len);
    *port = a.sin_port;
    return l;
}

static int recv_all(int s, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(s, buf + got, n - got, 0);
        if (r <= 0)
            return -1;
        got += r;
    }
    return 0;
}

static volatile int alarms;
static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static void tcp(void)
{
    int p[2];
    pipe(p);
    pid_t c = fork();
    if (c == 0) {
        unsigned short port;
        int l = loopback_listener(&port);
        write(p[1], &port, sizeof port);
        struct sockaddr_in peer;
        socklen_t pl = sizeof peer;
        int s = accept4(l, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
        printf("child: accepted, peer is loopback: %s, addrlen %d, cloexec %d\n",
               peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK) ? "yes" : "no", (int)pl,
               fcntl(s, F_GETFD) & FD_CLOEXEC);
        char buf[256];
        ssize_t n, total = 0;
        while ((n = recv(s, buf, sizeof buf, 0)) > 0) {
            send(s, buf, n, 0);
            total += n;
        }
        printf("child: end of stream after %zd bytes (%zd)\n", total, n);
        close(s);
        close(l);
        _exit(0);
    }
    unsigned short port;
    read(p[0], &port, sizeof port);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = port, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("connect");
        exit(1);
    }
    const char *msgs[] = { "hello", "echo over loopback", "third message, a little longer than the others" };
    for (int i = 0; i < 3; i++) {
        char buf[128] = { 0 };
        size_t n = strlen(msgs[i]);
        long r;
        /* Printed after the echo: the child prints when it accepts. */
        if (i == 1) {
            struct iovec iov[2] = { { (void *)msgs[i], 5 }, { (void *)(msgs[i] + 5), n - 5 } };
            struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
            r = sendmsg(s, &m, 0);
        } else {
            r = send(s, msgs[i], n, 0);
        }
        int e = recv_all(s, buf, n);
        res(i == 1 ? "parent: sendmsg" : "parent: send", r);
        if (e < 0)
            printf("parent: echo lost\n");
        else
            printf("parent: echo \"%s\"\n", buf);
    }
    struct sockaddr_in peer;
    socklen_t pl = sizeof peer;
    getpeername(s, (struct sockaddr *)&peer, &pl);
    printf("parent: peer port matches: %s\n", peer.sin_port == port ? "yes" : "no");
    long r = shutdown(s, SHUT_WR);
    char b;
    long e = recv(s, &b, 1, 0);
    res("parent: shutdown", r);
    res("parent: recv after shutdown", e);
    close(s);

    /* While the child may still exist (several processes: the calls sleep on the
     * scheduler), a refused connection, a receive timeout and an accept interrupted by
     * a signal. */
    unsigned short dead;
    int l = loopback_listener(&dead);
    close(l);
    s = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_port = dead;
    res("parent: connect to a closed port", connect(s, (struct sockaddr *)&a, sizeof a));
    close(s);
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    struct timeval tv = { 0, 100000 };
    res("parent: SO_RCVTIMEO", setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    res("parent: recv with a timeout", recv(sv[0], &b, 1, 0));
    close(sv[0]);
    close(sv[1]);
    l = loopback_listener(&dead);
    struct sigaction sa = { .sa_handler = on_alarm };
    sigaction(SIGALRM, &sa, 0);
    alarm(1);
    res("parent: accept interrupted", accept(l, 0, 0));
    printf("parent: alarms %d\n", alarms);
    close(l);
    status(c);
}

static void udp(void)
{
    int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct sockaddr_in sb = sa;
    bind(a, (struct sockaddr *)&sa, sizeof sa);
    bind(b, (struct sockaddr *)&sb, sizeof sb);
    socklen_t l = sizeof sa;
    getsockname(a, (struct sockaddr *)&sa, &l);
    l = sizeof sb;
    getsockname(b, (struct sockaddr *)&sb, &l);
    res("sendto", sendto(a, "datagram one", 12, 0, (struct sockaddr *)&sb, sizeof sb));
    char buf[64] = { 0 };
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    res("recvfrom", recvfrom(b, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl));
    printf("data \"%s\", from a: %s, fromlen %d\n", buf, from.sin_port == sa.sin_port ? "yes" : "no", (int)fl);
    res("sendto again", sendto(a, "a longer datagram", 17, 0, (struct sockaddr *)&sb, sizeof sb));
    memset(buf, 0, sizeof buf);
    res("recv MSG_TRUNC into 4 bytes", recv(b, buf, 4, MSG_TRUNC));
    printf("data \"%s\"\n", buf);
    res("sendto a third", sendto(a, "third", 5, 0, (struct sockaddr *)&sb, sizeof sb));
    struct iovec iov = { buf, 3 };
    struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1 };
    memset(buf, 0, sizeof buf);
    res("recvmsg into 3 bytes", recvmsg(b, &m, 0));
    printf("data \"%s\", flags MSG_TRUNC %d, namelen %d\n", buf, !!(m.msg_flags & MSG_TRUNC), (int)m.msg_namelen);
    res("recv MSG_DONTWAIT, nothing queued", recv(b, buf, sizeof buf, MSG_DONTWAIT));
    struct mmsghdr mm[2];
    struct iovec iv[2] = { { "mm1", 3 }, { "mm22", 4 } };
    memset(mm, 0, sizeof mm);
    for (int i = 0; i < 2; i++) {
        mm[i].msg_hdr.msg_iov = &iv[i];
        mm[i].msg_hdr.msg_iovlen = 1;
        mm[i].msg_hdr.msg_name = &sb;
        mm[i].msg_hdr.msg_namelen = sizeof sb;
    }
    res("sendmmsg", sendmmsg(a, mm, 2, 0));
    printf("msg_len %u %u\n", mm[0].msg_len, mm[1].msg_len);
    char rb[2][16];
    struct iovec riv[2] = { { rb[0], sizeof rb[0] }, { rb[1], sizeof rb[1] } };
    struct mmsghdr rm[3];
    memset(rm, 0, sizeof rm);
    memset(rb, 0, sizeof rb);
    for (int i = 0; i < 2; i++) {
        rm[i].msg_hdr.msg_iov = &riv[i];
        rm[i].msg_hdr.msg_iovlen = 1;
    }
    struct timespec ts = { 5, 0 };
    res("recvmmsg, timeout 5 s", recvmmsg(b, rm, 2, 0, &ts));
    printf("msg_len %u %u, data \"%s\" \"%s\", timeout left below 5 s: %s\n", rm[0].msg_len, rm[1].msg_len, rb[0],
           rb[1], ts.tv_sec < 5 || (ts.tv_sec == 5 && ts.tv_nsec == 0) ? "yes" : "no");
    res("recvmmsg MSG_DONTWAIT, nothing queued", recvmmsg(b, rm, 2, MSG_DONTWAIT, 0));
    sendto(a, "w1", 2, 0, (struct sockaddr *)&sb, sizeof sb);
    res("recvmmsg MSG_WAITFORONE, one queued", recvmmsg(b, rm, 2, MSG_WAITFORONE, 0));
    ts.tv_nsec = 1000000000;
    res("recvmmsg, bad timeout", recvmmsg(b, rm, 2, 0, &ts));
    close(a);
    close(b);
}

/* TCP over ::1 between two processes; where the host has no IPv6 loopback, the
 * same over 127.0.0.1, printing the same lines. */
static void inet6(void)
{
    int fam = AF_INET6;
    int t = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    if (t < 0 || bind(t, (struct sockaddr *)&a6, sizeof a6) < 0)
        fam = AF_INET;
    if (t >= 0)
        close(t);
    int p[2];
    pipe(p);
    pid_t c = fork();
    if (c == 0) {
        int l;
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        if (fam == AF_INET6) {
            l = socket(AF_INET6, SOCK_STREAM, 0);
            bind(l, (struct sockaddr *)&a6, sizeof a6);
            listen(l, 1);
        } else {
            unsigned short port;
            l = loopback_listener(&port);
        }
        getsockname(l, (struct sockaddr *)&ss, &len);
        write(p[1], &ss, sizeof ss);
        int s = accept(l, 0, 0);
        char buf[64];
        ssize_t n;
        while ((n = read(s, buf, sizeof buf)) > 0)
            write(s, buf, n);
        _exit(0);
    }
    struct sockaddr_storage ss;
    read(p[0], &ss, sizeof ss);
    int s = socket(fam, SOCK_STREAM, 0);
    socklen_t len = fam == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    res("connect to the loopback", connect(s, (struct sockaddr *)&ss, len));
    struct sockaddr_storage peer;
    socklen_t pl = sizeof peer;
    getpeername(s, (struct sockaddr *)&peer, &pl);
    printf("peer family is the socket's: %s, peer address length matches: %s\n", peer.ss_family == fam ? "yes" : "no",
           pl == len ? "yes" : "no");
    res("write", write(s, "over the loopback", 17));
    char buf[32] = { 0 };
    recv_all(s, buf, 17);
    printf("echo \"%s\"\n", buf);
    close(s);
    status(c);
}

/* Sends `n` fds with one byte of data over Unix socket `s`. */
static long send_fds(int s, int *fds, int n)
{
    char c = 'F';
    struct iovec iov = { &c, 1 };
    union {
        char buf[CMSG_SPACE(4 * sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = CMSG_SPACE(n * sizeof(int)) };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(n * sizeof(int));
    memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
    return sendmsg(s, &m, 0);
}

/* Receives fds into `fds` (at most `room` of them fit the control buffer). */
static int recv_fds(int s, int *fds, int room, int flags, int *ctrunc)
{
    char c;
    struct iovec iov = { &c, 1 };
    union {
        char buf[CMSG_SPACE(4 * sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = CMSG_SPACE(room * sizeof(int)) };
    long r = recvmsg(s, &m, flags);
    if (r < 0) {
        res("recvmsg", r);
        return -1;
    }
    *ctrunc = !!(m.msg_flags & MSG_CTRUNC);
    int n = 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
            int k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            memcpy(fds + n, CMSG_DATA(cm), k * sizeof(int));
            n += k;
        }
    }
    return n;
}

static void unix_fd(void)
{
    char dir[] = "/tmp/growsdown-sockets-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
    char cwd[256];
    getcwd(cwd, sizeof cwd);
    chdir(dir);
    int f = open("data", O_RDWR | O_CREAT | O_TRUNC, 0600);
    write(f, "first part|second part", 23);
    close(f);
    int p[2];
    pipe(p);

    /* A socketpair: the child opens the file, reads 11 bytes, and passes it on;
     * then it passes two fds to a receiver with room for one. */
    int sv[2];
    res("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    pid_t c = fork();
    if (c == 0) {
        close(sv[0]);
        int fd = open("data", O_RDONLY);
        char buf[16] = { 0 };
        read(fd, buf, 11);
        int fds[2] = { fd, p[1] };
        send_fds(sv[1], fds, 1);
        send_fds(sv[1], fds, 2);
        close(fd);
        _exit(0);
    }
    close(sv[1]);
    int fds[4] = { -1, -1, -1, -1 }, trunc;
    int n = recv_fds(sv[0], fds, 1, MSG_CMSG_CLOEXEC, &trunc);
    printf("received %d fd, ctrunc %d, cloexec %d, new fd above the socket: %s\n", n, trunc,
           fcntl(fds[0], F_GETFD) & FD_CLOEXEC, fds[0] > sv[0] ? "yes" : "no");
    char buf[32] = { 0 };
    res("read through it (the offset is shared)", read(fds[0], buf, sizeof buf - 1));
    printf("data \"%s\"\n", buf);
    close(fds[0]);
    fds[0] = fds[1] = -1;
    n = recv_fds(sv[0], fds, 1, 0, &trunc);
    printf("received %d fd of 2, ctrunc %d, cloexec %d\n", n, trunc, fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
    struct stat st;
    fstat(fds[0], &st);
    printf("it is the file: %s\n", S_ISREG(st.st_mode) ? "yes" : "no");
    close(fds[0]);
    status(c);
    close(sv[0]);

    /* A bound path relative to the working directory, SOCK_SEQPACKET. */
    int l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    strcpy(a.sun_path, "sock");
    res("bind \"sock\"", bind(l, (struct sockaddr *)&a, offsetof(struct sockaddr_un, sun_path) + 5));
    res("listen", listen(l, 2));
    printf("socket file exists in the directory: %s\n", stat("sock", &st) == 0 && S_ISSOCK(st.st_mode) ? "yes" : "no");
    struct sockaddr_un got;
    socklen_t gl = sizeof got;
    getsockname(l, (struct sockaddr *)&got, &gl);
    printf("getsockname: \"%s\", len %d\n", got.sun_path, (int)gl);
    res("bind again: in use", bind(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&a, sizeof a));
    c = fork();
    if (c == 0) {
        int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
        if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
            perror("child connect");
            _exit(1);
        }
        int fd = open("data", O_RDONLY);
        lseek(fd, 12, SEEK_SET);
        send_fds(s, &fd, 1);
        char ack;
        read(s, &ack, 1);
        _exit(ack == 'A' ? 0 : 2);
    }
    int s = accept(l, 0, 0);
    n = recv_fds(s, fds, 4, 0, &trunc);
    memset(buf, 0, sizeof buf);
    read(fds[0], buf, sizeof buf - 1);
    printf("over the path socket: %d fd, ctrunc %d, data \"%s\"\n", n, trunc, buf);
    write(s, "A", 1);
    status(c);
    close(s);
    close(l);
    close(fds[0]);
    unlink("sock");
    unlink("data");
    chdir(cwd);
    rmdir(dir);
}

static void errors(void)
{
    int pfd[2];
    pipe(pfd);
    int t = socket(AF_INET, SOCK_STREAM, 0);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int v = 1;
    socklen_t len;
    /* Unmapped in both worlds (a native i386 process on a 64-bit kernel may use
     * addresses up to 4 GiB, so a high one is not "bad" there). */
    void *bad = (void *)8;
    int dummy[2];

    res("socket: bad flag", socket(AF_INET, SOCK_STREAM | 0x100, 0));
    res("socket: family 12345", socket(12345, SOCK_STREAM, 0));
    res("socket: family 12345, type 15", socket(12345, 15, 0));
    res("socket: type 15", socket(AF_INET, 15, 0));
    res("socket: AF_UNIX SOCK_STREAM protocol 7", socket(AF_UNIX, SOCK_STREAM, 7));
    res("socketpair: AF_INET", socketpair(AF_INET, SOCK_STREAM, 0, dummy));
    res("socketpair: bad sv", socketpair(AF_UNIX, SOCK_STREAM, 0, bad));
    res("socketpair: bad sv, AF_INET", socketpair(AF_INET, SOCK_STREAM, 0, bad));
    res("bind: fd -1", bind(-1, (struct sockaddr *)&a, sizeof a));
    res("bind: a pipe", bind(pfd[0], (struct sockaddr *)&a, sizeof a));
    res("bind: bad address", bind(t, bad, sizeof a));
    res("bind: addrlen 129", bind(t, (struct sockaddr *)&a, 129));
    res("bind: addrlen -1", bind(t, (struct sockaddr *)&a, -1));
    res("bind: addrlen 4", bind(t, (struct sockaddr *)&a, 4));
    res("connect: a pipe, bad address", connect(pfd[0], bad, sizeof a));
    res("connect: a pipe", connect(pfd[0], (struct sockaddr *)&a, sizeof a));
    res("accept4: bad flag, fd -1", accept4(-1, 0, 0, 0x1234));
    res("accept4: bad flag", accept4(t, 0, 0, 0x1234));
    res("accept4: bad flag, a pipe", accept4(pfd[0], 0, 0, 0x1234));
    res("accept: not listening", accept(t, 0, 0));
    res("listen: UDP", listen(u, 1));
    res("listen: a pipe", listen(pfd[0], 1));
    res("bind UDP to loopback", bind(u, (struct sockaddr *)&a, sizeof a));
    len = 4;
    struct sockaddr_in n = { 0 };
    res("getsockname: room for 4", getsockname(u, (struct sockaddr *)&n, &len));
    printf("len %d, family %d, port still 0: %s\n", (int)len, n.sin_family, n.sin_port == 0 ? "yes" : "no");
    res("getsockname: bad addrlen", getsockname(u, (struct sockaddr *)&n, bad));
    len = -1;
    res("getsockname: addrlen -1", getsockname(u, (struct sockaddr *)&n, &len));
    len = sizeof n;
    res("getsockname: bad address", getsockname(u, bad, &len));
    res("getpeername: not connected", getpeername(t, (struct sockaddr *)&n, &len));
    res("recv: bad buffer, fd -1", recv(-1, bad, 10, 0));
    res("recv: bad buffer, a pipe", recv(pfd[0], bad, 10, 0));
    res("recv: a pipe", recv(pfd[0], &v, 1, 0));
    res("recv: MSG_DONTWAIT, nothing queued", recv(u, &v, 1, MSG_DONTWAIT));
    res("send: not connected, MSG_NOSIGNAL", send(t, "x", 1, MSG_NOSIGNAL));
    struct sigaction sa = { .sa_handler = on_alarm };
    sigaction(SIGPIPE, &sa, 0);
    res("send: not connected", send(t, "x", 1, 0));
    printf("SIGPIPE handled: %d\n", alarms);
    res("sendto: bad address", sendto(u, "x", 1, 0, bad, sizeof a));
    res("shutdown: bad how", shutdown(t, 7));
    res("shutdown: not connected", shutdown(t, SHUT_RD));

    unsigned short dead;
    int l = loopback_listener(&dead);
    close(l);
    a.sin_port = dead;
    res("connect: a closed port", connect(t, (struct sockaddr *)&a, sizeof a));

    res("setsockopt: SO_REUSEADDR", setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v));
    res("setsockopt: optlen 2", setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &v, 2));
    res("setsockopt: optlen -1", setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &v, -1));
    res("setsockopt: bad optval", setsockopt(t, SOL_SOCKET, SO_REUSEADDR, bad, 4));
    res("setsockopt: level 999", setsockopt(t, 999, 1, &v, sizeof v));
    res("setsockopt: TCP_NODELAY", setsockopt(t, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v));
    struct linger lg = { 1, 5 };
    res("setsockopt: SO_LINGER", setsockopt(t, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
    struct timeval tv = { 2, 500000 };
    res("setsockopt: SO_SNDTIMEO", setsockopt(t, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
    res("setsockopt: SO_SNDTIMEO, optlen 4", setsockopt(t, SOL_SOCKET, SO_SNDTIMEO, &tv, 4));
    int out = 0;
    len = sizeof out;
    res("getsockopt: SO_TYPE", getsockopt(u, SOL_SOCKET, SO_TYPE, &out, &len));
    printf("type %d, len %d\n", out, (int)len);
    len = sizeof out;
    res("getsockopt: TCP_NODELAY", getsockopt(t, IPPROTO_TCP, TCP_NODELAY, &out, &len));
    printf("nodelay %d\n", !!out);
    struct linger lo = { 0, 0 };
    len = sizeof lo;
    res("getsockopt: SO_LINGER", getsockopt(t, SOL_SOCKET, SO_LINGER, &lo, &len));
    printf("linger %d %d, len %d\n", lo.l_onoff, lo.l_linger, (int)len);
    struct timeval to = { 0, 0 };
    len = sizeof to;
    res("getsockopt: SO_SNDTIMEO", getsockopt(t, SOL_SOCKET, SO_SNDTIMEO, &to, &len));
    printf("sndtimeo %ld.%06ld, len %d\n", (long)to.tv_sec, (long)to.tv_usec, (int)len);
    res("getsockopt: bad optlen", getsockopt(t, SOL_SOCKET, SO_TYPE, &out, bad));
    len = -1;
    res("getsockopt: optlen -1", getsockopt(t, SOL_SOCKET, SO_TYPE, &out, &len));
    len = sizeof out;
    res("getsockopt: a pipe", getsockopt(pfd[0], SOL_SOCKET, SO_TYPE, &out, &len));

    int sv[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    char c = 'x';
    struct iovec iov = { &c, 1 };
    char cbuf[64];
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = 8 };
    res("sendmsg: controllen 8", sendmsg(sv[0], &m, 0));
    struct cmsghdr *cm = (struct cmsghdr *)cbuf;
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = 60;
    m.msg_controllen = CMSG_SPACE(sizeof(int));
    res("sendmsg: cmsg_len past the buffer", sendmsg(sv[0], &m, 0));
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    *(int *)CMSG_DATA(cm) = 99;
    res("sendmsg: SCM_RIGHTS of a closed fd", sendmsg(sv[0], &m, 0));
    m.msg_control = bad;
    res("sendmsg: bad control", sendmsg(sv[0], &m, 0));
    res("sendmsg: bad msghdr", sendmsg(sv[0], bad, 0));
    m.msg_control = 0;
    m.msg_controllen = 0;
    m.msg_iovlen = 1025;
    res("sendmsg: 1025 iovecs", sendmsg(sv[0], &m, 0));
    m.msg_iovlen = 1;
    res("sendmsg: plain", sendmsg(sv[0], &m, 0));
    c = 0;
    res("recvmsg", recvmsg(sv[1], &m, 0));
    printf("byte %c\n", c);

    /* The multiplexer and the direct calls. */
    unsigned long args[6] = { AF_UNIX, SOCK_STREAM, 0 };
    res("socketcall 0", sc(0, args));
    res("socketcall 21", sc(21, args));
    res("socketcall SYS_SOCKET, bad args", sc(1, bad));
    long s1 = sc(1, args);
    printf("socketcall SYS_SOCKET gives a socket: %s\n", s1 >= 0 ? "yes" : "no");
    args[0] = s1;
    args[1] = 1;
    res("socketcall SYS_LISTEN (unbound AF_UNIX)", sc(4, args));
    args[1] = SHUT_RDWR;
    res("socketcall SYS_SHUTDOWN, not connected", sc(13, args));
    long s2 = syscall(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    printf("direct socket: %s, nonblocking %d\n", s2 >= 0 ? "yes" : "no", !!(fcntl(s2, F_GETFL) & O_NONBLOCK));
    res("direct recvfrom, nonblocking", syscall(SYS_recvfrom, s2, &v, 1, 0, 0, 0));
    res("direct socket: bad flag", syscall(SYS_socket, AF_INET, SOCK_DGRAM | 0x10, 0));
    close(s1);
    close(s2);
}

/* The guest half of a TCP echo with a host process: connect to 127.0.0.1:PORT,
 * send two lines, read their echo, close. */
static int connect_mode(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
        printf("connect: %s\n", strerrorname_np(errno));
        return 1;
    }
    const char *msg = "hello from the guest\nsecond line\n";
    size_t n = strlen(msg);
    res("send", send(s, msg, n, 0));
    char buf[128] = { 0 };
    if (recv_all(s, buf, n) < 0) {
        printf("echo lost\n");
        return 1;
    }
    printf("echo: %s", buf);
    res("shutdown", shutdown(s, SHUT_WR));
    res("recv at the end", recv(s, buf, sizeof buf, 0));
    close(s);
    return 0;
}

/* The other direction: listen on 127.0.0.1, print the port, echo one connection
 * until the peer shuts down. */
static int listen_mode(void)
{
    unsigned short port;
    int l = loopback_listener(&port);
    printf("port %d\n", ntohs(port));
    fflush(stdout);
    int s = accept(l, 0, 0);
    char buf[256];
    ssize_t n, total = 0;
    while ((n = read(s, buf, sizeof buf)) > 0) {
        write(s, buf, n);
        total += n;
    }
    printf("echoed %zd bytes\n", total);
    close(s);
    close(l);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, 0, _IONBF, 0);
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "tcp"))
        tcp();
    else if (!strcmp(mode, "udp"))
        udp();
    else if (!strcmp(mode, "inet6"))
        inet6();
    else if (!strcmp(mode, "unix-fd"))
        unix_fd();
    else if (!strcmp(mode, "errors"))
        errors();
    else if (!strcmp(mode, "connect") && argc > 2)
        return connect_mode(atoi(argv[2]));
    else if (!strcmp(mode, "listen"))
        return listen_mode();
    else {
        fprintf(stderr, "usage: sockets tcp|udp|inet6|unix-fd|errors|connect PORT|listen\n");
        return 2;
    }
    return 0;
}
