//! Signals (linux24.md §6): sigaction, masks, delivery, the 2.4 i386 frames, sigreturn,
//! default actions, and whole handlers run by the CPU.

mod sys_common;

use growsdown_cpu::{SegReg, EAX, ECX, EDX, ESP};
use growsdown_kernel::signal::{self, SigInfo, SIGSEGV};
use growsdown_kernel::syscall::*;
use growsdown_kernel::{ExitStatus, Kernel};
use sys_common::*;

const EINVAL: i32 = -22;
const SA_SIGINFO: u32 = 4;
const SA_RESTORER: u32 = 0x0400_0000;
const SA_ONSTACK: u32 = 0x0800_0000;
const SA_NODEFER: u32 = 0x4000_0000;
const SA_RESETHAND: u32 = 0x8000_0000;
const SIGUSR1: u32 = 10;
const SIGTERM: u32 = 15;
const SIGCHLD: u32 = 17;
const HANDLER: u32 = CODE + 0x100;
const RESTORER_ADDR: u32 = CODE + 0x200;

/// rt_sigaction(sig, {handler, flags, restorer, mask}) through DATA+0x40.
fn sigaction(k: &mut Kernel, sig: u32, handler: u32, flags: u32, mask: u64) -> i32 {
    for (i, v) in [handler, flags, RESTORER_ADDR, mask as u32, (mask >> 32) as u32].into_iter().enumerate() {
        poke32(k, DATA + 0x40 + 4 * i as u32, v);
    }
    sys(k, NR_RT_SIGACTION, &[sig, DATA + 0x40, 0, 8])
}

fn word(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
}

#[test]
fn rt_sigaction_round_trip_and_errors() {
    let mut k = process(&[0xf4]);
    assert_eq!(
        sigaction(&mut k, SIGUSR1, HANDLER, SA_SIGINFO | SA_RESTORER, 0x3 | (1 << 8) | (1 << 18) | (1 << 20)),
        0
    );
    assert_eq!(sys(&mut k, NR_RT_SIGACTION, &[SIGUSR1, 0, DATA + 0x80, 8]), 0);
    let old = peek(&mut k, DATA + 0x80, 20);
    assert_eq!(word(&old, 0), HANDLER);
    assert_eq!(word(&old, 4), SA_SIGINFO | SA_RESTORER);
    assert_eq!(word(&old, 8), RESTORER_ADDR);
    assert_eq!(word(&old, 12), 0x3 | (1 << 20), "SIGKILL and SIGSTOP are dropped from sa_mask");
    assert_eq!(sigaction(&mut k, 9, HANDLER, 0, 0), EINVAL);
    assert_eq!(sigaction(&mut k, 19, HANDLER, 0, 0), EINVAL);
    assert_eq!(sigaction(&mut k, 65, HANDLER, 0, 0), EINVAL);
    assert_eq!(sys(&mut k, NR_RT_SIGACTION, &[SIGUSR1, DATA + 0x40, 0, 4]), EINVAL);
    assert_eq!(sys(&mut k, NR_RT_SIGACTION, &[SIGUSR1, 0x1000, 0, 8]), -14);
    // The old sigaction: handler, mask word, flags, restorer.
    assert_eq!(sys(&mut k, NR_SIGACTION, &[SIGUSR1, 0, DATA + 0x80]), 0);
    let old = peek(&mut k, DATA + 0x80, 16);
    assert_eq!(
        [word(&old, 0), word(&old, 4), word(&old, 8)],
        [HANDLER, 0x3 | (1 << 20), SA_SIGINFO | SA_RESTORER]
    );
}

#[test]
fn sigprocmask_never_blocks_kill_or_stop() {
    let mut k = process(&[0xf4]);
    poke(&mut k, DATA, &u64::MAX.to_le_bytes());
    assert_eq!(sys(&mut k, NR_RT_SIGPROCMASK, &[0, DATA, DATA + 8, 8]), 0);
    assert_eq!(peek(&mut k, DATA + 8, 8), 0u64.to_le_bytes());
    assert_eq!(k.task.sig.blocked, !((1u64 << 8) | (1 << 18)));
    poke(&mut k, DATA, &(1u64 << 9).to_le_bytes());
    assert_eq!(sys(&mut k, NR_RT_SIGPROCMASK, &[2, DATA, 0, 8]), 0);
    assert_eq!(k.task.sig.blocked, 1 << 9);
    assert_eq!(sys(&mut k, NR_RT_SIGPROCMASK, &[7, DATA, 0, 8]), EINVAL);
    // Old sigprocmask works on the first word.
    poke32(&mut k, DATA, 1 << 1);
    assert_eq!(sys(&mut k, NR_SIGPROCMASK, &[0, DATA, DATA + 8]), 0);
    assert_eq!(peek32(&mut k, DATA + 8), 1 << 9);
    assert_eq!(k.task.sig.blocked, (1 << 9) | (1 << 1));
}

#[test]
fn default_actions_kill_ignore_and_blocked_signals_wait() {
    let mut k = process(&[0xf4]);
    let pid = k.task.pid;
    // SIGCHLD's default is to ignore.
    assert_eq!(sys(&mut k, NR_KILL, &[pid, SIGCHLD]), 0);
    signal::do_signal(&mut k);
    assert!(k.exit_status.is_none());
    // SIG_IGN drops it at once.
    assert_eq!(sigaction(&mut k, SIGUSR1, 1, 0, 0), 0);
    assert_eq!(sys(&mut k, NR_TKILL, &[pid, SIGUSR1]), 0);
    assert!(k.task.sig.pending.is_empty());
    // Blocked SIGTERM waits; unblocking delivers its default action: death.
    poke(&mut k, DATA, &(1u64 << (SIGTERM - 1)).to_le_bytes());
    assert_eq!(sys(&mut k, NR_RT_SIGPROCMASK, &[0, DATA, 0, 8]), 0);
    assert_eq!(sys(&mut k, NR_TGKILL, &[pid, pid, SIGTERM]), 0);
    assert_eq!(sys(&mut k, NR_TGKILL, &[pid, pid, SIGTERM]), 0);
    assert_eq!(k.task.sig.pending.len(), 1, "a second standard signal is discarded");
    signal::do_signal(&mut k);
    assert!(k.exit_status.is_none());
    assert_eq!(sys(&mut k, NR_RT_SIGPENDING, &[DATA + 8, 8]), 0);
    assert_eq!(peek(&mut k, DATA + 8, 8), (1u64 << (SIGTERM - 1)).to_le_bytes());
    assert_eq!(sys(&mut k, NR_RT_SIGPROCMASK, &[1, DATA, 0, 8]), 0);
    signal::do_signal(&mut k);
    match k.exit_status {
        Some(ExitStatus::Signaled { signo: 15, info, core: false, .. }) => {
            assert_eq!(info.code, -6, "SI_TKILL");
            assert_eq!(info.addr, pid, "si_pid");
        }
        other => panic!("{other:?}"),
    }
    // kill to anyone else is ESRCH; bad signal numbers EINVAL.
    let mut k = process(&[0xf4]);
    assert_eq!(sys(&mut k, NR_KILL, &[i32::MAX as u32, 0]), -3, "no such host process");
    assert_eq!(sys(&mut k, NR_KILL, &[0, 65]), EINVAL);
    assert_eq!(sys(&mut k, NR_KILL, &[0, 0]), 0);
}

/// Scenario 20: blocking or ignoring SIGSEGV does not stop a fault's SIGSEGV.
#[test]
fn fault_signals_ignore_blocking_and_sig_ign() {
    let mut k = process(&[0xf4]);
    assert_eq!(sigaction(&mut k, 11, 1, 0, 0), 0);
    poke(&mut k, DATA, &(1u64 << 10).to_le_bytes());
    assert_eq!(sys(&mut k, NR_RT_SIGPROCMASK, &[0, DATA, 0, 8]), 0);
    signal::force_sig_info(&mut k, SigInfo::fault(SIGSEGV, 1, 0x10));
    assert_eq!(k.task.sig.blocked & (1 << 10), 0);
    signal::do_signal(&mut k);
    assert_eq!(
        k.exit_status,
        Some(ExitStatus::Signaled { signo: 11, info: SigInfo::fault(11, 1, 0x10), eip: CODE, core: false })
    );
}

/// An rt frame (linux24.md §6.6): layout, handler registers, mask; then the handler's
/// `ret` and rt_sigreturn restore everything, EAX included.
#[test]
fn rt_frame_layout_and_rt_sigreturn() {
    let mut k = process(&[0xf4]);
    let pid = k.task.pid;
    assert_eq!(sigaction(&mut k, SIGUSR1, HANDLER, SA_SIGINFO | SA_RESTORER, 1 << 11), 0);
    k.task.thread.trap_no = 14;
    k.task.thread.error_code = 6;
    k.task.thread.cr2 = 0x1234;
    let esp0 = STACK_TOP - 0x103;
    k.cpu.regs[ESP] = esp0;
    k.cpu.regs[ECX] = 0x1111;
    k.cpu.regs[EDX] = 0x2222;
    k.cpu.eip = CODE + 0x10;
    let flags0 = k.cpu.flags.get();
    // SSE state the frame must carry: RC toward zero, and a value in XMM3.
    let xmm3 = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210u128;
    k.cpu.fpu.mxcsr = 0x7f80;
    k.cpu.fpu.xmm[3] = xmm3;
    assert_eq!(sys(&mut k, NR_TGKILL, &[pid, pid, SIGUSR1]), 0);
    k.cpu.regs[EAX] = 0; // what int 0x80 left
    signal::do_signal(&mut k);
    let frame = (esp0 - 892) & !7;
    assert_eq!(k.cpu.regs[ESP], frame);
    assert_eq!(k.cpu.eip, HANDLER);
    // Today's setup_rt_frame passes sig, &info, &uc in EAX, EDX, ECX (regparm(3)).
    assert_eq!(
        [k.cpu.regs[EAX], k.cpu.regs[EDX], k.cpu.regs[ECX]],
        [SIGUSR1, (esp0 - 892) / 8 * 8 + 16, (esp0 - 892) / 8 * 8 + 144]
    );
    assert_eq!(k.task.sig.blocked, (1 << 9) | (1 << 11));
    let f = peek(&mut k, frame, 892);
    assert_eq!(word(&f, 0), RESTORER_ADDR);
    assert_eq!(word(&f, 4), SIGUSR1);
    assert_eq!(word(&f, 8), frame + 16);
    assert_eq!(word(&f, 12), frame + 144);
    // siginfo: signo, errno, code (SI_TKILL), pid, uid
    assert_eq!(word(&f, 16), SIGUSR1);
    assert_eq!(word(&f, 24) as i32, -6);
    assert_eq!(word(&f, 28), pid);
    // SAFETY: getuid cannot fail.
    assert_eq!(word(&f, 32), unsafe { libc::getuid() });
    // ucontext: flags, link, stack (disabled), sigcontext, sigmask.
    assert_eq!(word(&f, 144), 0);
    assert_eq!(word(&f, 152 + 4), 2, "SS_DISABLE");
    let sc = 164;
    assert_eq!(word(&f, sc + 28), esp0);
    assert_eq!(word(&f, sc + 40), 0x1111);
    assert_eq!(word(&f, sc + 48), 14, "trapno");
    assert_eq!(word(&f, sc + 52), 6, "err");
    assert_eq!(word(&f, sc + 56), CODE + 0x10);
    assert_eq!(word(&f, sc + 60), 0x23);
    assert_eq!(word(&f, sc + 64), flags0);
    assert_eq!(word(&f, sc + 72), 0x2b);
    assert_eq!(word(&f, sc + 76), frame + 260, "fpstate");
    assert_eq!(word(&f, sc + 84), 0x1234, "cr2");
    assert_eq!(u16::from_le_bytes([f[260], f[261]]), 0x037f, "fnsave control word");
    assert_eq!(u16::from_le_bytes([f[260 + 110], f[260 + 111]]), 0, "X86_FXSR_MAGIC");
    assert_eq!(word(&f, 260 + 112 + 24), 0x7f80, "mxcsr in the FXSR image");
    assert_eq!(word(&f, 260 + 136), 0x7f80, "struct _fpstate's mxcsr");
    assert_eq!(&f[260 + 272 + 48..260 + 272 + 64], &xmm3.to_le_bytes(), "_xmm[3]");
    // The handler starts with the init state (today's fpu__clear_user_states).
    assert_eq!(k.cpu.fpu.mxcsr, 0x1f80);
    assert_eq!(k.cpu.fpu.xmm, [0; 8]);
    assert_eq!(&f[884..891], &[0xb8, 0xad, 0, 0, 0, 0xcd, 0x80]);

    // The handler clobbers registers and returns: `ret` pops pretcode, the restorer
    // calls rt_sigreturn with ESP = frame + 4.
    k.cpu.regs[ECX] = 0xdead;
    k.cpu.regs[ESP] = frame + 4;
    k.cpu.regs[EAX] = 173;
    let eax = sys(&mut k, NR_RT_SIGRETURN, &[]);
    assert_eq!(eax, 0, "the interrupted EAX comes back");
    assert_eq!(k.cpu.regs[ESP], esp0);
    assert_eq!(k.cpu.regs[ECX], 0x1111);
    assert_eq!(k.cpu.eip, CODE + 0x10);
    assert_eq!(k.task.sig.blocked, 0);
    assert_eq!(k.cpu.flags.get(), flags0);
    assert_eq!(k.cpu.fpu.mxcsr, 0x7f80, "sigreturn restores MXCSR");
    assert_eq!(k.cpu.fpu.xmm[3], xmm3, "and the XMM registers");
    assert!(k.exit_status.is_none());
}

/// A non-SA_SIGINFO frame (linux24.md §6.5) without SA_RESTORER returns through its own
/// retcode; sigreturn finds the frame at ESP - 8 and takes only the user EFLAGS bits.
#[test]
fn sigframe_retcode_and_sigreturn_eflags_mask() {
    let mut k = process(&[0xf4]);
    let pid = k.task.pid;
    assert_eq!(sigaction(&mut k, SIGUSR1, HANDLER, SA_RESETHAND | SA_NODEFER, 0), 0);
    k.cpu.regs[EAX] = 0x5555;
    let esp0 = k.cpu.regs[ESP];
    assert_eq!(sys(&mut k, NR_KILL, &[pid, SIGUSR1]), 0);
    k.cpu.regs[EAX] = 0;
    signal::do_signal(&mut k);
    let frame = (esp0 - 732) & !7;
    assert_eq!(k.cpu.regs[ESP], frame);
    assert_eq!(k.task.sig.blocked, 0, "SA_NODEFER");
    assert_eq!(k.task.sig.action(10).handler, 0, "SA_RESETHAND");
    let f = peek(&mut k, frame, 732);
    assert_eq!(word(&f, 0), frame + 724);
    assert_eq!(word(&f, 4), SIGUSR1);
    assert_eq!(word(&f, 8 + 76), frame + 96);
    assert_eq!(&f[724..732], &[0x58, 0xb8, 0x77, 0, 0, 0, 0xcd, 0x80]);
    // Forge IOPL, IF clear, VM and every user bit in the saved EFLAGS.
    let forged = 0x0007_3fd5 & !0x200;
    poke32(&mut k, frame + 8 + 64, forged);
    let before = k.cpu.flags.get();
    // `ret` + `pop eax` leave ESP = frame + 8.
    k.cpu.regs[ESP] = frame + 8;
    let eax = sys(&mut k, NR_SIGRETURN, &[]);
    assert_eq!(eax, 0, "EAX at the time of the signal (the kill result)");
    assert_eq!(k.cpu.flags.get(), (before & !0x40dd5) | (forged & 0x40dd5));
    assert_eq!(k.cpu.regs[ESP], esp0);
}

#[test]
fn sigreturn_with_a_bad_frame_or_selector_is_sigsegv() {
    let mut k = process(&[0xf4]);
    k.cpu.regs[ESP] = 0x1000;
    assert_eq!(sys(&mut k, NR_RT_SIGRETURN, &[]), 0);
    assert_eq!(k.task.sig.pending.first().map(|p| (p.signo, p.code)), Some((11, 0x80)));
    // A readable frame whose CS is not a user code segment.
    let mut k = process(&[0xf4]);
    let pid = k.task.pid;
    assert_eq!(sigaction(&mut k, SIGUSR1, HANDLER, SA_SIGINFO | SA_RESTORER, 0), 0);
    assert_eq!(sys(&mut k, NR_KILL, &[pid, SIGUSR1]), 0);
    signal::do_signal(&mut k);
    let frame = k.cpu.regs[ESP];
    poke32(&mut k, frame + 164 + 60, 0x2b);
    k.cpu.regs[ESP] = frame + 4;
    assert_eq!(sys(&mut k, NR_RT_SIGRETURN, &[]), 0);
    assert_eq!(k.cpu.eip, HANDLER, "registers untouched");
    assert_eq!(k.task.sig.pending.first().map(|p| p.signo), Some(11));
}

/// SA_ONSTACK puts the frame on the alternate stack (linux24.md §6.3); uc_stack records
/// it and sigaltstack reports SS_ONSTACK while on it, EPERM for changes.
#[test]
fn sa_onstack_uses_the_alternate_stack() {
    let mut k = process(&[0xf4]);
    let pid = k.task.pid;
    let alt = DATA + 0x8000;
    for (i, v) in [alt, 0, 0x4000].into_iter().enumerate() {
        poke32(&mut k, DATA + 0x20 + 4 * i as u32, v);
    }
    assert_eq!(sys(&mut k, NR_SIGALTSTACK, &[DATA + 0x20, 0]), 0);
    assert_eq!(sigaction(&mut k, SIGUSR1, HANDLER, SA_SIGINFO | SA_RESTORER | SA_ONSTACK, 0), 0);
    assert_eq!(sys(&mut k, NR_KILL, &[pid, SIGUSR1]), 0);
    signal::do_signal(&mut k);
    let frame = k.cpu.regs[ESP];
    assert_eq!(frame, (alt + 0x4000 - 892) & !7);
    let f = peek(&mut k, frame, 892);
    assert_eq!([word(&f, 152), word(&f, 156), word(&f, 160)], [alt, 0, 0x4000]);
    assert_eq!(sys(&mut k, NR_SIGALTSTACK, &[0, DATA + 0x30]), 0);
    assert_eq!(peek32(&mut k, DATA + 0x34), 1, "SS_ONSTACK");
    assert_eq!(sys(&mut k, NR_SIGALTSTACK, &[DATA + 0x20, 0]), -1, "EPERM on the stack");
    // Too small: ENOMEM; bad flags: EINVAL.
    let mut k = process(&[0xf4]);
    for (i, v) in [alt, 0, 1024].into_iter().enumerate() {
        poke32(&mut k, DATA + 0x20 + 4 * i as u32, v);
    }
    assert_eq!(sys(&mut k, NR_SIGALTSTACK, &[DATA + 0x20, 0]), -12);
    poke32(&mut k, DATA + 0x24, 0x10);
    assert_eq!(sys(&mut k, NR_SIGALTSTACK, &[DATA + 0x20, 0]), EINVAL);
}

/// Spec §6.8: a handler frame that cannot be written resets a SIGSEGV handler and
/// forces SIGSEGV; the next delivery kills.
#[test]
fn unwritable_frame_gives_sigsegv() {
    let mut k = process(&[0xf4]);
    assert_eq!(sigaction(&mut k, 11, HANDLER, SA_SIGINFO | SA_RESTORER, 0), 0);
    k.cpu.regs[ESP] = 0x2000;
    signal::force_sig_info(&mut k, SigInfo::fault(SIGSEGV, 1, 0x10));
    signal::do_signal(&mut k);
    assert!(k.exit_status.is_none());
    assert_eq!(k.cpu.eip, CODE, "registers unchanged");
    assert_eq!(k.task.sig.action(11).handler, 0, "handler reset to SIG_DFL");
    signal::force_sig_info(&mut k, SigInfo::fault(SIGSEGV, 1, 0x10));
    signal::do_signal(&mut k);
    match k.exit_status {
        Some(ExitStatus::Signaled { signo: 11, info, .. }) => {
            assert_eq!(info.code, 0x80, "give_sigsegv's SI_KERNEL")
        }
        other => panic!("{other:?}"),
    }
}

/// Scenario 20: a fault in a SIGSEGV handler is delivered nested, below the first frame.
#[test]
fn nested_sigsegv_builds_a_second_frame() {
    let mut k = process(&[0xf4]);
    assert_eq!(sigaction(&mut k, 11, HANDLER, SA_SIGINFO | SA_RESTORER, 0), 0);
    signal::force_sig_info(&mut k, SigInfo::fault(SIGSEGV, 1, 0x10));
    signal::do_signal(&mut k);
    let first = k.cpu.regs[ESP];
    assert_ne!(k.task.sig.blocked & (1 << 10), 0);
    signal::force_sig_info(&mut k, SigInfo::fault(SIGSEGV, 1, 0x20));
    signal::do_signal(&mut k);
    let second = k.cpu.regs[ESP];
    assert_eq!(second, (first - 892) & !7);
    assert_eq!(peek32(&mut k, second + 16 + 12), 0x20);
    assert_eq!(peek32(&mut k, second + 164 + 56), HANDLER, "interrupted the first handler");
}

// ---- whole programs run by the CPU ----

/// `main`: rt_sigaction(SIGSEGV, DATA), then a store to a read-only page.
const SEGV_MAIN: &[u8] = &[
    0xb8, 0xae, 0x00, 0x00, 0x00, // mov eax,0xae
    0xbb, 0x0b, 0x00, 0x00, 0x00, // mov ebx,0xb
    0xb9, 0x00, 0x00, 0x05, 0x08, // mov ecx,0x8050000
    0x31, 0xd2, // xor edx,edx
    0xbe, 0x08, 0x00, 0x00, 0x00, // mov esi,0x8
    0xcd, 0x80, // int 0x80
    0xc7, 0x05, 0x10, 0x00, 0x00, 0x40, 0x34, 0x12, 0x00, 0x00, // mov dword [0x40000010],0x1234
    0xa1, 0x10, 0x00, 0x00, 0x40, // mov eax,[0x40000010]
    0x89, 0xc3, // mov ebx,eax
    0xb8, 0x01, 0x00, 0x00, 0x00, // mov eax,0x1
    0xcd, 0x80, // int 0x80
];
/// `handler(sig, info, uc)`: records si_code, si_addr, trapno, err, cr2, sig, ESP and
/// sigaltstack's view at 0x08050100.., then mprotect(0x40000000, 4096, RW) and `ret`.
const SEGV_HANDLER: &[u8] = &[
    0x8b, 0x44, 0x24, 0x08, // mov eax,dword [esp+0x8]
    0x8b, 0x48, 0x08, // mov ecx,dword [eax+0x8]
    0x89, 0x0d, 0x00, 0x01, 0x05, 0x08, // mov dword [0x8050100],ecx
    0x8b, 0x48, 0x0c, // mov ecx,dword [eax+0xc]
    0x89, 0x0d, 0x04, 0x01, 0x05, 0x08, // mov dword [0x8050104],ecx
    0x8b, 0x44, 0x24, 0x0c, // mov eax,dword [esp+0xc]
    0x8b, 0x48, 0x44, // mov ecx,dword [eax+0x44]
    0x89, 0x0d, 0x08, 0x01, 0x05, 0x08, // mov dword [0x8050108],ecx
    0x8b, 0x48, 0x48, // mov ecx,dword [eax+0x48]
    0x89, 0x0d, 0x0c, 0x01, 0x05, 0x08, // mov dword [0x805010c],ecx
    0x8b, 0x48, 0x68, // mov ecx,dword [eax+0x68]
    0x89, 0x0d, 0x10, 0x01, 0x05, 0x08, // mov dword [0x8050110],ecx
    0x8b, 0x4c, 0x24, 0x04, // mov ecx,dword [esp+0x4]
    0x89, 0x0d, 0x14, 0x01, 0x05, 0x08, // mov dword [0x8050114],ecx
    0x89, 0x25, 0x18, 0x01, 0x05, 0x08, // mov dword [0x8050118],esp
    0xb8, 0xba, 0x00, 0x00, 0x00, // mov eax,0xba (sigaltstack)
    0x31, 0xdb, // xor ebx,ebx
    0xb9, 0x80, 0x01, 0x05, 0x08, // mov ecx,0x8050180
    0xcd, 0x80, // int 0x80
    0xb8, 0x7d, 0x00, 0x00, 0x00, // mov eax,0x7d (mprotect)
    0xbb, 0x00, 0x00, 0x00, 0x40, // mov ebx,0x40000000
    0xb9, 0x00, 0x10, 0x00, 0x00, // mov ecx,0x1000
    0xba, 0x03, 0x00, 0x00, 0x00, // mov edx,0x3
    0xcd, 0x80, // int 0x80
    0xa3, 0x1c, 0x01, 0x05, 0x08, // mov [0x805011c],eax
    0xc3, // ret
];
/// `restorer`: rt_sigreturn.
const RESTORER: &[u8] = &[
    0xb8, 0xad, 0x00, 0x00, 0x00, // mov eax,0xad
    0xcd, 0x80, // int 0x80
];

fn segv_program(flags: u32) -> Kernel {
    let mut k = process(SEGV_MAIN);
    poke(&mut k, HANDLER, SEGV_HANDLER);
    poke(&mut k, RESTORER_ADDR, RESTORER);
    for (i, v) in [HANDLER, flags, RESTORER_ADDR, 0, 0].into_iter().enumerate() {
        poke32(&mut k, DATA + 4 * i as u32, v);
    }
    map(&mut k, 0x4000_0000, 0x1000, PROT_READ);
    k
}

/// A SA_SIGINFO SIGSEGV handler sees si_code/si_addr and trapno/err/cr2, fixes the
/// page with mprotect, and rt_sigreturn re-runs the store, which now succeeds.
#[test]
fn sigsegv_handler_fixes_the_fault_and_resumes() {
    let mut k = segv_program(SA_SIGINFO | SA_RESTORER);
    let st = run(&mut k);
    assert_eq!(st, ExitStatus::Exited(0x34));
    let r: Vec<u32> = (0..8).map(|i| peek32(&mut k, DATA + 0x100 + 4 * i)).collect();
    assert_eq!(r[0], 2, "SEGV_ACCERR");
    assert_eq!(r[1], 0x4000_0010, "si_addr");
    assert_eq!(r[2], 14, "trapno");
    assert_eq!(r[3], 6, "err: user write, not present");
    assert_eq!(r[4], 0x4000_0010, "cr2");
    assert_eq!(r[5], 11, "sig");
    assert_eq!(r[6], (STACK_TOP - 0x100 - 892) & !7, "the handler starts with ESP at the frame");
    assert_eq!(r[7], 0, "mprotect");
    assert_eq!(peek32(&mut k, DATA + 0x184), 2, "no alternate stack: SS_DISABLE");
    assert_eq!(peek32(&mut k, 0x4000_0010), 0x1234);
    assert_eq!(k.task.sig.blocked, 0, "rt_sigreturn restored the mask");
}

#[test]
fn sa_onstack_handler_runs_on_the_sigaltstack() {
    let mut k = segv_program(SA_SIGINFO | SA_RESTORER | SA_ONSTACK);
    let alt = DATA + 0x8000;
    for (i, v) in [alt, 0, 0x4000].into_iter().enumerate() {
        poke32(&mut k, DATA + 0x20 + 4 * i as u32, v);
    }
    assert_eq!(sys(&mut k, NR_SIGALTSTACK, &[DATA + 0x20, 0]), 0);
    assert_eq!(run(&mut k), ExitStatus::Exited(0x34));
    let esp = peek32(&mut k, DATA + 0x118);
    assert_eq!(esp, (alt + 0x4000 - 892) & !7);
    assert_eq!(peek32(&mut k, DATA + 0x184), 1, "SS_ONSTACK inside the handler");
    assert_eq!(peek32(&mut k, DATA + 0x100), 2);
}

/// No handler: a NULL store kills with SIGSEGV, SEGV_MAPERR, si_addr 0x10.
#[test]
fn default_action_kills_with_the_fault_info() {
    const SEGV_NULL: &[u8] = &[
        0xc7, 0x05, 0x10, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // mov dword [0x10],0x1
        0xb8, 0x01, 0x00, 0x00, 0x00, // mov eax,0x1
        0xcd, 0x80, // int 0x80
    ];
    let mut k = process(SEGV_NULL);
    assert_eq!(
        run(&mut k),
        ExitStatus::Signaled { signo: 11, info: SigInfo::fault(11, 1, 0x10), eip: CODE, core: false }
    );
    assert_eq!(k.task.thread, growsdown_kernel::task::ThreadFault { cr2: 0x10, error_code: 6, trap_no: 14 });
}

/// raise(SIGABRT) as glibc does it: getpid + tgkill; the default action kills.
#[test]
fn tgkill_sigabrt_kills() {
    const RAISE_ABRT: &[u8] = &[
        0xb8, 0x14, 0x00, 0x00, 0x00, // mov eax,0x14 (getpid)
        0xcd, 0x80, // int 0x80
        0x89, 0xc3, // mov ebx,eax
        0x89, 0xc1, // mov ecx,eax
        0xba, 0x06, 0x00, 0x00, 0x00, // mov edx,0x6
        0xb8, 0x0e, 0x01, 0x00, 0x00, // mov eax,0x10e (tgkill)
        0xcd, 0x80, // int 0x80
        0xb8, 0x01, 0x00, 0x00, 0x00, // mov eax,0x1
        0x31, 0xdb, // xor ebx,ebx
        0xcd, 0x80, // int 0x80
    ];
    let mut k = process(RAISE_ABRT);
    match run(&mut k) {
        ExitStatus::Signaled { signo: 6, info, eip, core: false } => {
            assert_eq!(info.code, -6);
            assert_eq!(eip, CODE + 23, "just after the int 0x80 of tgkill");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(k.cpu.segs[SegReg::Cs as usize].selector, 0x23);
}

/// rt_sigqueueinfo(self) with SI_QUEUE: the info comes back from rt_sigtimedwait
/// with the rt layout's fields only (si_pid, si_uid, si_value), si_signo the call's
/// signal, the rest zero, as the x86-64 kernel's compat conversion leaves it.
#[test]
fn rt_sigqueueinfo_keeps_the_layout_fields() {
    let mut k = process(&[0xf4]);
    let pid = k.task.pid;
    let sig = 40u32;
    // Block it so it stays queued.
    poke(&mut k, DATA + 0x10, &(1u64 << (sig - 1)).to_le_bytes());
    assert_eq!(sys(&mut k, NR_RT_SIGPROCMASK, &[0, DATA + 0x10, 0, 8]), 0);
    let mut info = [0xaau8; 128];
    info[0..4].copy_from_slice(&7u32.to_le_bytes()); // si_signo: replaced
    info[4..8].copy_from_slice(&3u32.to_le_bytes()); // si_errno
    info[8..12].copy_from_slice(&(-1i32).to_le_bytes()); // SI_QUEUE
    info[12..16].copy_from_slice(&4242u32.to_le_bytes());
    info[16..20].copy_from_slice(&1000u32.to_le_bytes());
    info[20..24].copy_from_slice(&99u32.to_le_bytes());
    poke(&mut k, DATA + 0x100, &info);
    assert_eq!(sys(&mut k, NR_RT_SIGQUEUEINFO, &[pid, sig, DATA + 0x100]), 0);
    assert_eq!(sys(&mut k, NR_RT_SIGTIMEDWAIT, &[DATA + 0x10, DATA + 0x200, 0, 8]), sig as i32);
    let got = peek(&mut k, DATA + 0x200, 128);
    let words: Vec<u32> = (0..8).map(|i| word(&got, 4 * i)).collect();
    assert_eq!(words, [sig, 3, (-1i32) as u32, 4242, 1000, 99, 0, 0]);
    assert!(got[32..].iter().all(|&b| b == 0), "nothing past the union");
}

/// rt_sigqueueinfo's checks in today's order: EFAULT, EPERM (si_code >= 0 towards
/// another pid), ESRCH, then EINVAL for the signal.
#[test]
fn rt_sigqueueinfo_errors_in_order() {
    let mut k = process(&[0xf4]);
    let pid = k.task.pid;
    let mut info = [0u8; 128];
    info[8..12].copy_from_slice(&(-1i32).to_le_bytes());
    poke(&mut k, DATA + 0x100, &info);
    assert_eq!(sys(&mut k, NR_RT_SIGQUEUEINFO, &[pid, 65, 16]), -14);
    assert_eq!(sys(&mut k, NR_RT_SIGQUEUEINFO, &[pid + 77, 65, DATA + 0x100]), -3);
    assert_eq!(sys(&mut k, NR_RT_SIGQUEUEINFO, &[pid, 65, DATA + 0x100]), EINVAL);
    poke32(&mut k, DATA + 0x108, 0); // SI_USER
    assert_eq!(sys(&mut k, NR_RT_SIGQUEUEINFO, &[pid + 77, 65, DATA + 0x100]), -1);
    assert_eq!(sys(&mut k, NR_RT_TGSIGQUEUEINFO, &[pid, 0, 10, DATA + 0x100]), EINVAL);
    assert_eq!(sys(&mut k, NR_RT_TGSIGQUEUEINFO, &[pid, pid + 77, 10, DATA + 0x100]), -1);
    assert_eq!(sys(&mut k, NR_RT_TGSIGQUEUEINFO, &[pid + 77, pid, 10, DATA + 0x100]), -3);
}
