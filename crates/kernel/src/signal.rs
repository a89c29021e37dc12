//! Signals: generation (`force_sig_info`), delivery (`do_signal`), i386 signal frames
//! and sigreturn (spec §6).

use crate::Kernel;

pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGQUIT: i32 = 3;
pub const SIGILL: i32 = 4;
pub const SIGTRAP: i32 = 5;
pub const SIGABRT: i32 = 6;
pub const SIGBUS: i32 = 7;
pub const SIGFPE: i32 = 8;
pub const SIGKILL: i32 = 9;
pub const SIGUSR1: i32 = 10;
pub const SIGSEGV: i32 = 11;
pub const SIGUSR2: i32 = 12;
pub const SIGPIPE: i32 = 13;
pub const SIGALRM: i32 = 14;
pub const SIGTERM: i32 = 15;
pub const SIGCHLD: i32 = 17;
pub const SIGSTOP: i32 = 19;
pub const SIGSYS: i32 = 31;

pub const SI_KERNEL: i32 = 0x80;
pub const SEGV_MAPERR: i32 = 1;
pub const SEGV_ACCERR: i32 = 2;
pub const BUS_ADRALN: i32 = 1;
pub const BUS_ADRERR: i32 = 2;
pub const ILL_ILLOPN: i32 = 2;
pub const FPE_INTDIV: i32 = 1;
pub const FPE_INTOVF: i32 = 2;
pub const FPE_FLTDIV: i32 = 3;
pub const FPE_FLTOVF: i32 = 4;
pub const FPE_FLTUND: i32 = 5;
pub const FPE_FLTRES: i32 = 6;
pub const FPE_FLTINV: i32 = 7;

/// The fields of `siginfo_t` that fault signals carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigInfo {
    pub signo: i32,
    pub errno: i32,
    pub code: i32,
    pub addr: u32,
}

impl SigInfo {
    pub fn fault(signo: i32, code: i32, addr: u32) -> Self {
        Self { signo, errno: 0, code, addr }
    }
    /// `force_sig(sig)`: si_code SI_KERNEL, no address.
    pub fn kernel(signo: i32) -> Self {
        Self { signo, errno: 0, code: SI_KERNEL, addr: 0 }
    }
}

pub fn signal_name(signo: i32) -> &'static str {
    match signo {
        SIGHUP => "SIGHUP",
        SIGINT => "SIGINT",
        SIGQUIT => "SIGQUIT",
        SIGILL => "SIGILL",
        SIGTRAP => "SIGTRAP",
        SIGABRT => "SIGABRT",
        SIGBUS => "SIGBUS",
        SIGFPE => "SIGFPE",
        SIGKILL => "SIGKILL",
        SIGUSR1 => "SIGUSR1",
        SIGSEGV => "SIGSEGV",
        SIGUSR2 => "SIGUSR2",
        SIGPIPE => "SIGPIPE",
        SIGALRM => "SIGALRM",
        SIGTERM => "SIGTERM",
        SIGCHLD => "SIGCHLD",
        SIGSTOP => "SIGSTOP",
        SIGSYS => "SIGSYS",
        _ => "signal",
    }
}

/// si_code for an x87 #MF from the unmasked exceptions pending in the status word.
pub fn fpe_code(status: u16, control: u16) -> i32 {
    let pending = status & !control & 0x3f;
    if pending & 0x01 != 0 {
        FPE_FLTINV
    } else if pending & 0x04 != 0 {
        FPE_FLTDIV
    } else if pending & 0x08 != 0 {
        FPE_FLTOVF
    } else if pending & 0x10 != 0 {
        FPE_FLTUND
    } else if pending & 0x20 != 0 {
        FPE_FLTRES
    } else {
        0
    }
}

/// Per-task signal state.
#[derive(Clone, Debug, Default)]
pub struct SignalState {
    /// Pending signals with their info, lowest number delivered first.
    pub pending: Vec<SigInfo>,
    pub blocked: u64,
}

/// `force_sig_info`: unblock, un-ignore, queue (spec §6.1).
pub fn force_sig_info(k: &mut Kernel, info: SigInfo) {
    let bit = 1u64 << (info.signo - 1);
    k.task.sig.blocked &= !bit;
    if !k.task.sig.pending.iter().any(|p| p.signo == info.signo) {
        k.task.sig.pending.push(info);
    }
}

/// Delivers one pending signal on the way back to user mode (spec §6.2).
pub fn do_signal(k: &mut Kernel) {
    if let Some(pos) = k.task.sig.pending.iter().enumerate().min_by_key(|(_, p)| p.signo).map(|(i, _)| i) {
        let info = k.task.sig.pending.remove(pos);
        k.exit_status = Some(crate::ExitStatus::Signaled { signo: info.signo, info, eip: k.cpu.eip, core: false });
    }
}
