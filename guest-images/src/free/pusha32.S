/* pusha32: ESP = start of the stack VMA; pusha stores 32 bytes below ESP, the
 * lowest exactly at ESP-32 (linux24.md §8 scenario 2). Allowed, one page of growth.
 * Expected: "pusha32: survived minflt+=1 majflt+=0", exit 0. */
        .file "pusha32.S"
#define TEST_NAME "pusha32"
#define TEST_DESC "pusha32: esp = stack vm_start, pusha; popa\n"
#define TEST_ESP_OFFSET 0
#define TEST_MID 0
#define TEST_ACCESS pusha; popa
#include "esp-test.S"
