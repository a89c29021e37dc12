/* Assembly part of the freestanding runtime: the rt_sigreturn restorer, fault
 * probes and the six-argument mmap2. The generic _start is in crt.S. */

        .file   "rt-asm.S"
        .text
        .globl  rt_restorer
rt_restorer:
        movl    $173, %eax              /* rt_sigreturn */
        int     $0x80
        hlt

/* int rt_probe_read(u32 addr): 0 if the byte could be read, 1 if it faulted. */
        .globl  rt_probe_read, rt_probe_read_insn
rt_probe_read:
        movl    4(%esp), %edx
rt_probe_read_insn:
        movb    (%edx), %al
        xorl    %eax, %eax
        ret

/* int rt_probe_write(u32 addr): writes one zero byte. */
        .globl  rt_probe_write, rt_probe_write_insn
rt_probe_write:
        movl    4(%esp), %edx
rt_probe_write_insn:
        movb    $0, (%edx)
        xorl    %eax, %eax
        ret

/* The SIGSEGV/SIGBUS handler moves EIP here when a probe faults. */
        .globl  rt_probe_fault
rt_probe_fault:
        movl    $1, %eax
        ret

/* s32 rt_mmap(u32 addr, u32 len, u32 prot, u32 flags): anonymous mmap2. */
        .globl  rt_mmap
rt_mmap:
        pushl   %ebx
        pushl   %esi
        pushl   %edi
        pushl   %ebp
        movl    20(%esp), %ebx
        movl    24(%esp), %ecx
        movl    28(%esp), %edx
        movl    32(%esp), %esi
        movl    $-1, %edi
        xorl    %ebp, %ebp
        movl    $192, %eax
        int     $0x80
        popl    %ebp
        popl    %edi
        popl    %esi
        popl    %ebx
        ret

        .section .note.GNU-stack,"",@progbits
