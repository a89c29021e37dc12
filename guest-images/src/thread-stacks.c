/* thread-stacks: two stacks in one address space. The main thread grows the
 * process's stack page by page through expand_stack (linux24.md §2.4), as
 * stackgrow does; meanwhile a second thread, made with pthread_create, touches
 * pages of its own stack, which glibc mmap'd whole (RLIMIT_STACK bytes, a guard
 * page below): an ordinary anonymous VMA without VM_GROWSDOWN, so its pages fault
 * in through do_anonymous_page alone and nothing ever expands it. `growsdown trace`
 * tells the two apart by tid (docs/walkthrough.md, "Two threads, two stacks").
 *
 * Each side starts from a page-aligned ESP GAP bytes below where it stands
 * (run_on_stack), clear of anything glibc touched, and writes PAGES blocks of 4096
 * bytes with alloca, top byte first: one minor fault a page. Each thread counts its
 * own faults with getrusage(RUSAGE_THREAD) (a thread's counters are its own; the
 * process's are their sum). The counts assume anonymous memory in 4 KiB pages
 * (natively: transparent huge pages not "always").
 *
 * stdout (deterministic; same natively and under growsdown; alloca's rounding
 * makes PAGES blocks span PAGES + 1 pages):
 *   thread-stacks: the main thread's stack and a second thread's
 *   main: tid == pid; the thread: the same pid, its own tid
 *   main: grew its stack 65 pages, minflt+=65 majflt+=0
 *   thread: touched 33 pages of its mmap'd stack, minflt+=33 majflt+=0
 *   thread stack below the main stack: yes
 *   checksums 0x... 0x...
 * Exit status 0. Built with -pthread -fno-stack-clash-protection
 * -fno-stack-protector (no probes, no canaries: each page is touched by the code
 * under test, in the order the source shows). */
#define _GNU_SOURCE
#include <alloca.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#define GAP (64 * 1024)
#define MAIN_PAGES 64
#define THREAD_PAGES 32

/* void run_on_stack(void (*fn)(void *), void *arg, uintptr_t esp): calls fn(arg)
 * with ESP = esp. */
void run_on_stack(void (*fn)(void *), void *arg, uintptr_t esp);
__asm__(".text\n"
        ".globl run_on_stack\n"
        "run_on_stack:\n"
        "  pushl %ebp\n"
        "  movl %esp, %ebp\n"
        "  movl 16(%ebp), %esp\n"
        "  pushl 12(%ebp)\n"
        "  call *8(%ebp)\n"
        "  movl %ebp, %esp\n"
        "  popl %ebp\n"
        "  ret\n");

struct side {
    int pages;
    uintptr_t top, lowest;
    unsigned checksum;
    long minflt, majflt;
    pid_t pid, tid;
};

static void touch(void *arg) {
    struct side *s = arg;
    for (int i = 0; i < s->pages; i++) {
        volatile char *p = alloca(4096);
        p[4095] = (char)i;
        p[0] = (char)i;
        if ((uintptr_t)p < s->lowest) s->lowest = (uintptr_t)p;
        s->checksum = s->checksum * 7 + (unsigned char)p[4095] + (unsigned char)p[0];
    }
}

static void run_side(struct side *s) {
    char here;
    struct rusage r0, r1;
    s->pid = getpid();
    s->tid = gettid();
    s->top = ((uintptr_t)&here & ~4095u) - GAP;
    s->lowest = s->top;
    getrusage(RUSAGE_THREAD, &r0);
    run_on_stack(touch, s, s->top);
    getrusage(RUSAGE_THREAD, &r1);
    s->minflt = r1.ru_minflt - r0.ru_minflt;
    s->majflt = r1.ru_majflt - r0.ru_majflt;
}

static void *thread_main(void *arg) {
    run_side(arg);
    return NULL;
}

static long pages(const struct side *s) { return (long)((s->top - (s->lowest & ~4095u)) / 4096); }

int main(void) {
    static struct side m = {.pages = MAIN_PAGES}, t = {.pages = THREAD_PAGES};
    struct rusage warm;
    /* Warm up what the measurements use: stdio, getrusage. */
    getrusage(RUSAGE_THREAD, &warm);
    printf("thread-stacks: the main thread's stack and a second thread's\n");
    fflush(stdout);

    pthread_t th;
    if (pthread_create(&th, NULL, thread_main, &t) != 0) {
        printf("pthread_create failed\n");
        return 1;
    }
    run_side(&m);
    pthread_join(th, NULL);

    printf("main: tid %s pid; the thread: %s pid, %s tid\n", m.tid == m.pid ? "==" : "!=",
           t.pid == m.pid ? "the same" : "another", t.tid != m.tid && t.tid != t.pid ? "its own" : "not its own");
    printf("main: grew its stack %ld pages, minflt+=%ld majflt+=%ld\n", pages(&m), m.minflt, m.majflt);
    printf("thread: touched %ld pages of its mmap'd stack, minflt+=%ld majflt+=%ld\n", pages(&t), t.minflt,
           t.majflt);
    printf("thread stack below the main stack: %s\n", t.top < m.top ? "yes" : "no");
    printf("checksums 0x%08x 0x%08x\n", m.checksum, t.checksum);
    return 0;
}
