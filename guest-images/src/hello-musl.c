/* hello-musl: musl's start-up (no IFUNC, set_thread_area, set_tid_address) and
 * stdio. Expected (with arguments "one two" and environment A=1 B=2):
 *   hello from musl
 *   argc=3 envc=2
 *   3 * 7 = 21, 1/3 = 0.333333, 2^40 = 1099511627776
 *   exit status 0 */
#include <stdio.h>

int main(int argc, char **argv, char **envp) {
    (void)argv;
    int envc = 0;
    while (envp[envc]) envc++;
    printf("hello from musl\n");
    printf("argc=%d envc=%d\n", argc, envc);
    volatile int a = 3, b = 7;
    volatile double third = 1.0 / 3.0;
    printf("%d * %d = %d, 1/3 = %f, 2^40 = %llu\n", a, b, a * b, third, 1ULL << 40);
    return 0;
}
