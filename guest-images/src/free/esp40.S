/* esp40: ESP = start of the stack VMA; movl %eax,-40(%esp) (linux24.md §8 scenario 3).
 * Expected: death by SIGSEGV; with "handler":
 * "esp40: SIGSEGV si_code=1 si_addr=esp-40 trapno=14 err=6 cr2=esp-40", exit 0. */
        .file "esp40.S"
#define TEST_NAME "esp40"
#define TEST_DESC "esp40: esp = stack vm_start, movl %eax,-40(%esp)\n"
#define TEST_ESP_OFFSET 0
#define TEST_MID 0
#define TEST_ACCESS movl %eax, -40(%esp)
#include "esp-test.S"
