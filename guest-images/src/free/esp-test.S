/* Template for the stack-edge tests (esp32, esp33, esp40, pusha32, push1,
 * read-below). Spec §1.3 step 5.2 and §8 scenarios 1-4.
 *
 * The including file defines:
 *   TEST_NAME        "esp33"
 *   TEST_DESC        the line announcing the test, with "\n"
 *   TEST_ESP_OFFSET  ESP = (page of the initial ESP) + this, before TEST_ACCESS
 *   TEST_ACCESS      the instructions under test (may not call anything; may use
 *                    int $0x80 and store to .bss)
 *   TEST_MID         1 if TEST_ACCESS takes the middle getrusage snapshot (ru_mid)
 *
 * Why this works: at exec the stack VMA is exactly the pages the kernel wrote
 * (strings, pointers, auxv; linux24.md §4.2), and the lowest of them holds the initial
 * ESP. _start uses no stack at all (only int $0x80 and absolute .bss stores)
 * before it loads ESP with the start of that page, so ESP == vm_start when the
 * access under test runs, and everything below ESP is unmapped.
 *
 * Optional argument "handler" (anything starting with 'h'): install an SA_SIGINFO
 * handler first (with int $0x80, no stack) that prints the fault, addresses
 * relative to the ESP of the access, and exits 0 instead of dying.
 *
 * Output: TEST_DESC; then either "<name>: survived minflt+=N majflt+=N" and exit 0
 * (read-below prints one line per step), or death by SIGSEGV (no handler) or the
 * handler's "<name>: SIGSEGV si_code=.. si_addr=esp-N trapno=14 err=N cr2=esp-N". */

        .data
        .p2align 2
esp_sa: .long   rt_fault_handler
        .long   0x04000004              /* SA_RESTORER | SA_SIGINFO */
        .long   rt_restorer
        .long   0, 0
name_str:
        .asciz  TEST_NAME
esp_str:
        .asciz  "esp"

        .section .rodata
desc:   .ascii  TEST_DESC
desc_end:

        .bss
        .p2align 4
        .globl  ru0, ru_mid, ru1, esp_at_access, read_value
ru0:    .space  72
ru_mid: .space  72
ru1:    .space  72
esp_at_access: .space 4
read_value:    .space 4

        .text
        .globl  _start
_start:
        movl    %esp, %ebp              /* the initial ESP; int $0x80 preserves EBP */
        /* Touch every .bss/.data word we use later, so that the only page faults
         * between the two getrusage calls are the ones under test. */
        movl    %esp, %eax
        andl    $-4096, %eax
        addl    $TEST_ESP_OFFSET, %eax
        movl    %eax, esp_at_access
        movl    $0, ru0
        movl    $0, ru1+68
        movl    $0, read_value
        movl    $name_str, rt_prog
        movl    $esp_str, rt_fault_base_name
        movl    %eax, rt_fault_base

        /* "handler" argument? argv[1] is at 8(%ebp). */
        movl    8(%ebp), %eax
        testl   %eax, %eax
        jz      1f
        cmpb    $0x68, (%eax)          /* 'h' */
        jne     1f
        movl    $174, %eax              /* rt_sigaction(SIGSEGV, &esp_sa, 0, 8) */
        movl    $11, %ebx
        movl    $esp_sa, %ecx
        xorl    %edx, %edx
        movl    $8, %esi
        int     $0x80
1:
        movl    $4, %eax                /* write(1, desc, len) */
        movl    $1, %ebx
        movl    $desc, %ecx
        movl    $(desc_end - desc), %edx
        int     $0x80

        movl    $77, %eax               /* getrusage(RUSAGE_SELF, &ru0) */
        xorl    %ebx, %ebx
        movl    $ru0, %ecx
        int     $0x80

        movl    esp_at_access, %esp
        TEST_ACCESS
        movl    %ebp, %esp

        movl    $77, %eax               /* getrusage(RUSAGE_SELF, &ru1) */
        xorl    %ebx, %ebx
        movl    $ru1, %ecx
        int     $0x80

        pushl   $TEST_MID
        pushl   $name_str
        call    esp_report              /* prints, exits 0 */
        hlt

        .section .note.GNU-stack,"",@progbits
