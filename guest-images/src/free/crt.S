/* Generic _start for freestanding C programs: calls main(argc, argv), then
 * exits with its return value. */
        .file   "crt.S"
        .text
        .globl  _start
_start:
        /* ESP -> argc, argv[0..], NULL, envp... (System V i386 process start). */
        xorl    %ebp, %ebp
        movl    (%esp), %eax            /* argc */
        leal    4(%esp), %ecx           /* argv */
        andl    $-16, %esp
        subl    $8, %esp
        pushl   %ecx
        pushl   %eax
        call    main
        pushl   %eax
        call    rt_exit

        .section .note.GNU-stack,"",@progbits
