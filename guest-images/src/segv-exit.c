/* segv-exit: writes to address 0 with no handler installed (linux24.md §8 scenario 8).
 * Expected: prints the line below, then dies by SIGSEGV: wait status 11 (no core,
 * RLIMIT_CORE = 0 by default), i.e. a shell reports 139.
 *   segv-exit: writing to NULL */
#include <unistd.h>

int main(void) {
    static const char msg[] = "segv-exit: writing to NULL\n";
    write(1, msg, sizeof msg - 1);
    *(volatile int *)0 = 1;
    return 0;
}
