/* Signals sent from outside to the program (to growsdown's host process when it runs
 * under growsdown): tests/host_signals.rs starts it natively and under growsdown,
 * waits for "ready", sends signals with kill(2), and compares stdout and the status.
 *
 *   hostsig handler     SIGTERM handler; spins (no system call) until it runs,
 *                       then exits 3
 *   hostsig ignint      SIGINT ignored, then pause() for ever: SIGTERM's default
 *                       action ends it (status 143)
 *   hostsig pause       pause() woken by SIGUSR1 with a handler: EINTR, exit 0
 *   hostsig sigsuspend  SIGUSR2 blocked, sigsuspend(empty mask): the handler runs,
 *                       EINTR, the mask comes back, exit 0
 *   hostsig ignterm     SIGTERM ignored, pause() for ever: only SIGKILL ends it
 *   hostsig spin        no handlers, spins for ever: SIGTERM's default action
 *
 * Output goes through write(2) so nothing waits in a stdio buffer when a signal
 * kills the process. si_pid is not printed: natively it is the sender's pid, under
 * growsdown 0 (the sender is no guest process). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got, code = -1;

static void say(const char *s) { write(1, s, strlen(s)); }

static void on_sig(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    got = sig;
    code = si->si_code;
}

static void handle(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sig;
    sa.sa_flags = SA_SIGINFO;
    sigaction(sig, &sa, NULL);
}

static void report(const char *what, int r, int e)
{
    char buf[160];
    snprintf(buf, sizeof buf, "%s: returned %d (%s), handler saw signal %d (%s) si_code %d\n", what, r,
             r < 0 ? strerror(e) : "ok", (int)got, got ? strsignal(got) : "none", (int)code);
    say(buf);
}

int main(int argc, char **argv)
{
    const char *m = argc > 1 ? argv[1] : "";
    if (!strcmp(m, "handler")) {
        handle(SIGTERM);
        say("ready\n");
        while (!got)
            ;
        report("spin", 0, 0);
        return 3;
    }
    if (!strcmp(m, "ignint")) {
        signal(SIGINT, SIG_IGN);
        say("ready\n");
        for (;;)
            pause();
    }
    if (!strcmp(m, "pause")) {
        handle(SIGUSR1);
        say("ready\n");
        int r = pause();
        report("pause", r, errno);
        return 0;
    }
    if (!strcmp(m, "sigsuspend")) {
        sigset_t block, empty, now;
        sigemptyset(&block);
        sigaddset(&block, SIGUSR2);
        sigprocmask(SIG_BLOCK, &block, NULL);
        handle(SIGUSR2);
        say("ready\n");
        sigemptyset(&empty);
        int r = sigsuspend(&empty);
        report("sigsuspend", r, errno);
        sigprocmask(SIG_BLOCK, NULL, &now);
        say(sigismember(&now, SIGUSR2) ? "SIGUSR2 blocked again\n" : "SIGUSR2 not blocked\n");
        return 0;
    }
    if (!strcmp(m, "ignterm")) {
        signal(SIGTERM, SIG_IGN);
        say("ready\n");
        for (;;)
            pause();
    }
    if (!strcmp(m, "spin")) {
        say("ready\n");
        for (;;)
            got = got;
    }
    fprintf(stderr, "usage: hostsig handler|ignint|pause|sigsuspend|ignterm|spin\n");
    return 2;
}
