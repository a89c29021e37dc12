/* esp33: ESP = start of the stack VMA; movb %al,-33(%esp). Refused: addr + 32 <
 * ESP → SIGSEGV SEGV_MAPERR (linux24.md §8 scenario 3, variant). Expected: death by
 * SIGSEGV (wait status 11); with argument "handler":
 * "esp33: SIGSEGV si_code=1 si_addr=esp-33 trapno=14 err=6 cr2=esp-33", exit 0. */
        .file "esp33.S"
#define TEST_NAME "esp33"
#define TEST_DESC "esp33: esp = stack vm_start, movb %al,-33(%esp)\n"
#define TEST_ESP_OFFSET 0
#define TEST_MID 0
#define TEST_ACCESS movb %al, -33(%esp)
#include "esp-test.S"
