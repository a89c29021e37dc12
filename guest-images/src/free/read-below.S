/* read-below: ESP = stack vm_start + 4; movl -8(%esp),%eax reads 4 bytes below
 * the VMA (linux24.md §8 scenario 4): code 4, the stack grows, ZERO_PAGE is mapped,
 * minor +1, value 0. Then movl %eax,-8(%esp): code 7, copy of the zero page,
 * minor +1. Expected:
 *   "read-below: read value=0 minflt+=1 majflt+=0"
 *   "read-below: write minflt+=1 majflt+=0", exit 0. */
        .file "read-below.S"
#define TEST_NAME "read-below"
#define TEST_DESC "read-below: esp = stack vm_start + 4, movl -8(%esp),%eax; movl %eax,-8(%esp)\n"
#define TEST_ESP_OFFSET 4
#define TEST_MID 1
#define TEST_ACCESS \
        movl    -8(%esp), %eax; \
        movl    %eax, read_value; \
        movl    $77, %eax; \
        xorl    %ebx, %ebx; \
        movl    $ru_mid, %ecx; \
        int     $0x80; \
        movl    read_value, %eax; \
        movl    %eax, -8(%esp)
#include "esp-test.S"
