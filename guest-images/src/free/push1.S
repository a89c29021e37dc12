/* push1: ESP = start of the stack VMA; push %eax (linux24.md §8 scenario 1): #PF code
 * 6 at ESP-4, the stack grows by one page. Expected:
 * "push1: survived minflt+=1 majflt+=0", exit 0. */
        .file "push1.S"
#define TEST_NAME "push1"
#define TEST_DESC "push1: esp = stack vm_start, push %eax; pop %eax\n"
#define TEST_ESP_OFFSET 0
#define TEST_MID 0
#define TEST_ACCESS pushl %eax; popl %eax
#include "esp-test.S"
