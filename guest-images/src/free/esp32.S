/* esp32: ESP = start of the stack VMA; movb %al,-32(%esp). Allowed: the ESP
 * test of linux24.md §1.3 step 5.2 passes (addr + 32 == ESP), the stack grows by one
 * page. Expected: "esp32: survived minflt+=1 majflt+=0", exit 0. */
        .file "esp32.S"
#define TEST_NAME "esp32"
#define TEST_DESC "esp32: esp = stack vm_start, movb %al,-32(%esp)\n"
#define TEST_ESP_OFFSET 0
#define TEST_MID 0
#define TEST_ACCESS movb %al, -32(%esp)
#include "esp-test.S"
