//! Signals: generation (`force_sig_info`, `send_sig_info`), delivery (`do_signal`),
//! the i386 signal frames and sigreturn, following Linux 2.4 (linux24.md §6).
//!
//! Deliberate choices, where the spec leaves one or where 2.4 and a native run differ:
//! * **pid 1.** 2.4 discards every default action for init (linux24.md §6.2, §8 scenario
//!   20). The guest is an ordinary program whose native run is not init, so its
//!   default actions apply (and the mini-kernel numbers it 1000, not 1).
//! * **Frame alignment.** 2.4's `(esp - sizeof(frame)) & ~7` (linux24.md §6.3), not the
//!   16-byte rule of today's kernels: the spec's scenarios give exact frame addresses.
//!   A known difference now that the CPU has SSE: a handler compiled to assume
//!   today's alignment (ESP+4 a multiple of 16 at entry) that keeps vectors on its
//!   stack with MOVAPS may fault here where it would not natively.
//! * **Stop signals** (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU) with the default action are
//!   discarded with a log line: there is no job control to resume the task.
//! * **Core dumps** are never written; RLIMIT_CORE is 0 by default, so `core` is false.
//! * **SIGCHLD set to SIG_IGN** (or SA_NOCLDWAIT): the exiting child is reaped at once
//!   and never becomes a zombie, as today's kernels and POSIX do. 2.4 queued the
//!   SIGCHLD and reaped in `do_signal`; the difference is only visible to a wait4
//!   racing with it.
//! * **Interrupted system calls** follow 2.4's `-ERESTART*` protocol (see
//!   [`crate::errno::ERESTARTSYS`]): a call that sleeps returns a restart code, and
//!   the way back to user mode either restarts it (EIP back over `int 0x80`) or, if a
//!   handler runs, makes it fail with EINTR (always for ERESTARTNOHAND, unless
//!   SA_RESTART for ERESTARTSYS).
//! * **Handler registers** follow today's kernel: EAX holds the signal number, and
//!   for an SA_SIGINFO handler EDX and ECX the addresses of its siginfo and
//!   ucontext (zero otherwise), so `regparm(3)` handlers work; 2.4 left the three
//!   registers as the interrupted code had them.
//! * **FPU state** in the frame: always saved (the FNSAVE layout, then the FXSR image
//!   with MXCSR and XMM0–7, `magic` 0) and the sigcontext `fpstate` points at it, as
//!   on a task that has used the FPU; the handler starts with an initialised FPU and
//!   SSE state and sigreturn restores the saved one.

use core::mem::{offset_of, size_of};

use growsdown_cpu::flags::TF;
use growsdown_cpu::fpu::{Fpu, MXCSR_WRITABLE};
use growsdown_cpu::{Descriptor, SegReg, Segment, EAX, EBP, EBX, ECX, EDI, EDX, ESI, ESP};

use crate::abi::signal::{
    sigset_from_words, sigset_words, RtSigframe, SigFpstate, Sigcontext, Sigframe, Siginfo, StackT, Ucontext,
    FNSAVE_IMAGE_SIZE, FPSTATE_MAGIC_FXSR,
};
use crate::abi::{FromZeros, IntoBytes};
use crate::errno::{
    is_restart, Errno, EFAULT, EINTR, EINVAL, ENOMEM, EPERM, ERESTARTNOHAND, ERESTARTNOINTR, ERESTARTSYS,
};
use crate::task::Task;
use crate::{Kernel, USER_CS, USER_DS};

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
pub const SIGSTKFLT: i32 = 16;
pub const SIGCHLD: i32 = 17;
pub const SIGCONT: i32 = 18;
pub const SIGSTOP: i32 = 19;
pub const SIGTSTP: i32 = 20;
pub const SIGTTIN: i32 = 21;
pub const SIGTTOU: i32 = 22;
pub const SIGURG: i32 = 23;
pub const SIGXCPU: i32 = 24;
pub const SIGXFSZ: i32 = 25;
pub const SIGVTALRM: i32 = 26;
pub const SIGPROF: i32 = 27;
pub const SIGWINCH: i32 = 28;
pub const SIGIO: i32 = 29;
pub const SIGPWR: i32 = 30;
pub const SIGSYS: i32 = 31;
pub const SIGRTMIN: i32 = 32;
/// `_NSIG`: signals are 1..=64.
pub const NSIG: i32 = 64;

pub const SI_USER: i32 = 0;
pub const SI_KERNEL: i32 = 0x80;
pub const SI_QUEUE: i32 = -1;
pub const SI_TKILL: i32 = -6;
/// SIGCHLD si_codes.
pub const CLD_EXITED: i32 = 1;
pub const CLD_KILLED: i32 = 2;
pub const CLD_DUMPED: i32 = 3;
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
/// SIGTRAP si_codes.
pub const TRAP_BRKPT: i32 = 1;
pub const TRAP_TRACE: i32 = 2;

/// `sa_handler` special values.
pub const SIG_DFL: u32 = 0;
pub const SIG_IGN: u32 = 1;

/// `sa_flags` (i386).
pub const SA_NOCLDSTOP: u32 = 0x0000_0001;
pub const SA_NOCLDWAIT: u32 = 0x0000_0002;
pub const SA_SIGINFO: u32 = 0x0000_0004;
pub const SA_RESTORER: u32 = 0x0400_0000;
pub const SA_ONSTACK: u32 = 0x0800_0000;
pub const SA_RESTART: u32 = 0x1000_0000;
pub const SA_NODEFER: u32 = 0x4000_0000;
pub const SA_RESETHAND: u32 = 0x8000_0000;

/// `ss_flags` of `stack_t`.
pub const SS_ONSTACK: u32 = 1;
pub const SS_DISABLE: u32 = 2;
pub const SS_AUTODISARM: u32 = 1 << 31;
/// MINSIGSTKSZ on i386.
pub const MINSIGSTKSZ: u32 = 2048;

/// Sizes of the i386 2.4 frames (linux24.md §6.5, §6.6); the layouts are in [`crate::abi::signal`].
pub const SIGFRAME_SIZE: u32 = size_of::<Sigframe>() as u32;
pub const RT_SIGFRAME_SIZE: u32 = size_of::<RtSigframe>() as u32;
/// `pop eax; mov eax, 119; int 0x80`.
pub const SIGFRAME_RETCODE: [u8; 8] = [0x58, 0xb8, 0x77, 0x00, 0x00, 0x00, 0xcd, 0x80];
/// `mov eax, 173; int 0x80` (and a pad byte).
pub const RT_SIGFRAME_RETCODE: [u8; 8] = [0xb8, 0xad, 0x00, 0x00, 0x00, 0xcd, 0x80, 0x00];

/// EFLAGS bits sigreturn takes from the frame: CF PF AF ZF SF TF DF OF AC.
pub const FIX_EFLAGS: u32 = 0x40dd5;

/// A queued signal's `siginfo`: the three header words and the 20 bytes of the
/// union `_sifields` as the i386 (compat) ABI lays them out, which is all today's
/// x86-64 kernel keeps of an i386 caller's siginfo (`post_copy_siginfo_from_user32`
/// copies the fields of the code's layout into its `kernel_siginfo`, and
/// `copy_siginfo_to_user32` writes only those back, the rest zero). So one small
/// `Copy` value carries both the kernel-generated signals and what rt_sigqueueinfo
/// queues ([`SigInfo::from_user`]).
///
/// The union words by offset: `addr` (12) is `si_addr` for a fault layout, `si_pid`
/// for kill / rt / SIGCHLD, `si_tid` for SI_TIMER, `si_band` for SIGPOLL; `uid` (16)
/// is `si_uid`, or `si_overrun`, `si_fd`, `si_addr_lsb`; `status` (20) is
/// `si_status`, or the `si_value` of SI_TIMER / SI_QUEUE; `extra` (24, 28) holds
/// SIGCHLD's `si_utime` / `si_stime` (and the bound or perf words of the rarer fault
/// layouts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigInfo {
    pub signo: i32,
    pub errno: i32,
    pub code: i32,
    pub addr: u32,
    pub uid: u32,
    pub status: i32,
    pub extra: [u32; 2],
}

/// `enum siginfo_layout` (kernel/signal.c): which union fields a (signal, si_code)
/// pair carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigLayout {
    Kill,
    Timer,
    Poll,
    Fault,
    /// SIGBUS BUS_MCEERR_AR/AO: `si_addr` and the 16-bit `si_addr_lsb`.
    FaultMceerr,
    /// SIGSEGV SEGV_BNDERR: `si_addr`, `si_lower`, `si_upper`.
    FaultBnderr,
    /// SIGSEGV SEGV_PKUERR: `si_addr`, `si_pkey`.
    FaultPkuerr,
    /// SIGTRAP TRAP_PERF: `si_addr`, `si_perf_data`, `si_perf_type`, `si_perf_flags`.
    FaultPerf,
    Chld,
    Rt,
    Sys,
}

/// `sig_sicodes`: the signals with si_codes of their own, and the highest one
/// (NSIGILL, NSIGFPE, NSIGSEGV, NSIGBUS, NSIGTRAP, NSIGCHLD, NSIGPOLL, NSIGSYS of
/// today's uapi siginfo.h).
fn sig_sicode_limit(sig: i32) -> Option<i32> {
    match sig {
        SIGILL => Some(11),
        SIGFPE => Some(15),
        SIGSEGV => Some(10),
        SIGBUS => Some(5),
        SIGTRAP => Some(6),
        SIGCHLD => Some(6),
        SIGIO => Some(NSIGPOLL),
        SIGSYS => Some(2),
        _ => None,
    }
}
/// NSIGPOLL: POLL_IN .. POLL_HUP.
const NSIGPOLL: i32 = 6;
/// SI_SIGIO.
pub const SI_SIGIO: i32 = -5;

/// `siginfo_layout(sig, si_code)` of today's kernel/signal.c.
pub fn siginfo_layout(sig: i32, code: i32) -> SigLayout {
    if code > SI_USER && code < SI_KERNEL {
        match sig_sicode_limit(sig) {
            Some(limit) if code <= limit => match sig {
                SIGBUS if (4..=5).contains(&code) => SigLayout::FaultMceerr,
                SIGSEGV if code == 3 => SigLayout::FaultBnderr,
                SIGSEGV if code == 4 => SigLayout::FaultPkuerr,
                SIGTRAP if code == 6 => SigLayout::FaultPerf,
                SIGILL | SIGFPE | SIGSEGV | SIGBUS | SIGTRAP => SigLayout::Fault,
                SIGCHLD => SigLayout::Chld,
                SIGIO => SigLayout::Poll,
                _ => SigLayout::Sys,
            },
            Some(_) => SigLayout::Kill,
            None if code <= NSIGPOLL => SigLayout::Poll,
            None => SigLayout::Kill,
        }
    } else if code == crate::timer::SI_TIMER {
        SigLayout::Timer
    } else if code == SI_SIGIO {
        SigLayout::Poll
    } else if code < 0 {
        SigLayout::Rt
    } else {
        SigLayout::Kill
    }
}

impl SigInfo {
    pub fn fault(signo: i32, code: i32, addr: u32) -> Self {
        Self { signo, errno: 0, code, addr, uid: 0, status: 0, extra: [0; 2] }
    }
    /// `force_sig(sig)`: si_code SI_KERNEL, pid and uid 0.
    pub fn kernel(signo: i32) -> Self {
        Self { signo, errno: 0, code: SI_KERNEL, addr: 0, uid: 0, status: 0, extra: [0; 2] }
    }
    /// kill() / tgkill() from a process: SI_USER or SI_TKILL with the sender's pid
    /// and uid (`prepare_kill_siginfo`).
    pub fn user(signo: i32, code: i32, pid: u32, uid: u32) -> Self {
        Self { signo, errno: 0, code, addr: pid, uid, status: 0, extra: [0; 2] }
    }
    /// The exit signal a child sends its parent (`do_notify_parent`): CLD_EXITED with
    /// the exit code, or CLD_KILLED / CLD_DUMPED with the signal number; the child's
    /// pid and uid (si_utime and si_stime stay 0).
    pub fn chld(signo: i32, code: i32, pid: u32, uid: u32, status: i32) -> Self {
        Self { signo, errno: 0, code, addr: pid, uid, status, extra: [0; 2] }
    }

    /// A POSIX timer's signal (`posix_timer_event`): SI_TIMER, the timer id, the
    /// overrun count and the sigevent's value.
    pub fn timer(signo: i32, id: i32, overrun: i32, value: u32) -> Self {
        let code = crate::timer::SI_TIMER;
        Self {
            signo,
            errno: 0,
            code,
            addr: id as u32,
            uid: overrun as u32,
            status: value as i32,
            extra: [0; 2],
        }
    }

    /// A siginfo a process hands rt_sigqueueinfo / rt_tgsigqueueinfo, for signal
    /// `signo` (`__copy_siginfo_from_user32`: si_signo is replaced by the call's
    /// signal, then `post_copy_siginfo_from_user32` keeps the fields of the
    /// layout only).
    pub fn from_user(signo: i32, u: &Siginfo) -> Self {
        let mut si = Self {
            signo,
            errno: u.si_errno,
            code: u.si_code,
            addr: u.si_pid,
            uid: 0,
            status: 0,
            extra: [0; 2],
        };
        match siginfo_layout(signo, u.si_code) {
            SigLayout::Fault => {}
            SigLayout::FaultMceerr => si.uid = u.si_uid & 0xffff,
            SigLayout::FaultPkuerr => si.status = u.si_status,
            SigLayout::FaultBnderr => {
                si.status = u.si_status;
                si.extra[0] = u.si_utime as u32;
            }
            SigLayout::Kill | SigLayout::Poll => si.uid = u.si_uid,
            SigLayout::Timer | SigLayout::Rt | SigLayout::Sys => {
                si.uid = u.si_uid;
                si.status = u.si_status;
            }
            SigLayout::FaultPerf => {
                si.uid = u.si_uid;
                si.status = u.si_status;
                si.extra[0] = u.si_utime as u32;
            }
            SigLayout::Chld => {
                si.uid = u.si_uid;
                si.status = u.si_status;
                si.extra = [u.si_utime as u32, u.si_stime as u32];
            }
        }
        si
    }

    /// `copy_siginfo_to_user32`: the header and the union words; the rest of the
    /// 128 bytes is zero.
    pub fn to_user(&self) -> Siginfo {
        let mut si = Siginfo::new_zeroed();
        si.si_signo = self.signo;
        si.si_errno = self.errno;
        si.si_code = self.code;
        si.si_pid = self.addr;
        si.si_uid = self.uid;
        si.si_status = self.status;
        si.si_utime = self.extra[0] as i32;
        si.si_stime = self.extra[1] as i32;
        si
    }
}

/// The host's real uid, which growsdown's processes run as.
pub fn host_uid() -> u32 {
    // SAFETY: getuid has no preconditions.
    unsafe { libc::getuid() }
}

impl Kernel {
    /// The real uid of the current task, as signals carry it in `si_uid` (kill's
    /// SI_USER, tgkill's SI_TKILL, a child's SIGCHLD).
    pub fn current_uid(&self) -> u32 {
        self.task.cred.uid
    }
}

pub fn signal_name(signo: i32) -> &'static str {
    const NAMES: [&str; 32] = [
        "signal",
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    usize::try_from(signo).ok().and_then(|i| NAMES.get(i)).copied().unwrap_or("signal")
}

/// si_code for an x87 #MF from the unmasked exceptions pending in the status word (or
/// for #XM, from MXCSR's flags and masks).
pub fn fpe_code(status: u16, control: u16) -> i32 {
    let pending = status & !control & 0x3f;
    if pending & 0x01 != 0 {
        FPE_FLTINV
    } else if pending & 0x04 != 0 {
        FPE_FLTDIV
    } else if pending & 0x08 != 0 {
        FPE_FLTOVF
    } else if pending & 0x12 != 0 {
        // Denormal operand counts as underflow (2.4's math_error and today's
        // fpu__exception_code both).
        FPE_FLTUND
    } else if pending & 0x20 != 0 {
        FPE_FLTRES
    } else {
        0
    }
}

/// The mask bit of a signal (1..=64).
#[inline]
pub fn sigmask(sig: i32) -> u64 {
    if (1..=NSIG).contains(&sig) {
        1u64 << (sig - 1)
    } else {
        0
    }
}

/// SIGKILL and SIGSTOP can never be blocked.
pub const UNBLOCKABLE: u64 = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1));

/// Signals whose default action is to do nothing.
fn default_ignored(sig: i32) -> bool {
    matches!(sig, SIGCHLD | SIGURG | SIGWINCH | SIGCONT)
}

fn default_stops(sig: i32) -> bool {
    matches!(sig, SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU)
}

/// One `struct k_sigaction`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigAction {
    pub handler: u32,
    pub flags: u32,
    pub restorer: u32,
    pub mask: u64,
}

/// `sas_ss_sp`, `sas_ss_size` and the SS_AUTODISARM flag.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AltStack {
    pub sp: u32,
    pub size: u32,
    pub autodisarm: bool,
}

/// Per-task signal state.
#[derive(Clone, Debug)]
pub struct SignalState {
    /// Pending signals with their info; the lowest unblocked number is delivered first.
    pub pending: Vec<SigInfo>,
    pub blocked: u64,
    /// Indexed by signal number - 1.
    pub actions: Vec<SigAction>,
    pub altstack: AltStack,
    /// The mask to restore after sigsuspend (2.4 keeps it on the kernel stack as
    /// `saveset`): the handler's frame records it as the mask to return to.
    pub saved_mask: Option<u64>,
}

impl Default for SignalState {
    fn default() -> Self {
        Self {
            pending: Vec::new(),
            blocked: 0,
            actions: vec![SigAction::default(); NSIG as usize],
            altstack: AltStack::default(),
            saved_mask: None,
        }
    }
}

/// Pending real-time signals beyond this many are dropped (2.4's `max_queued_signals`
/// is 1024).
const MAX_QUEUED: usize = 1024;

/// Whether action `a` throws `sig` away (SIG_IGN, or SIG_DFL for a signal whose
/// default is to do nothing).
pub(crate) fn ignores(a: SigAction, sig: i32) -> bool {
    a.handler == SIG_IGN || (a.handler == SIG_DFL && default_ignored(sig))
}

/// Whether `pending` holds a signal `blocked` lets through.
fn any_deliverable(pending: &[SigInfo], blocked: u64) -> bool {
    let blocked = blocked & !UNBLOCKABLE;
    pending.iter().any(|p| sigmask(p.signo) & !blocked != 0)
}

/// Queues `info` on a thread's or a process's pending list (the checks of
/// [`SignalState::queue`]; `ignored` says whether the receiver ignores it).
fn enqueue(pending: &mut Vec<SigInfo>, info: SigInfo, ignored: bool) -> bool {
    let sig = info.signo;
    if !(1..=NSIG).contains(&sig) {
        return false;
    }
    if ignored {
        log::debug!(target: "kernel::signal", "{} ignored", signal_name(sig));
        return false;
    }
    if sig < SIGRTMIN && pending.iter().any(|p| p.signo == sig) {
        log::debug!(target: "kernel::signal", "{} already pending: discarded", signal_name(sig));
        return false;
    }
    if pending.len() >= MAX_QUEUED {
        log::warn!(target: "kernel::signal", "signal queue full: {} dropped", sig);
        return false;
    }
    pending.push(info);
    true
}

impl SignalState {
    pub fn action(&self, sig: i32) -> SigAction {
        sig.checked_sub(1)
            .and_then(|s| usize::try_from(s).ok())
            .and_then(|i| self.actions.get(i))
            .copied()
            .unwrap_or_default()
    }

    pub fn action_mut(&mut self, sig: i32) -> Option<&mut SigAction> {
        sig.checked_sub(1).and_then(|s| usize::try_from(s).ok()).and_then(|i| self.actions.get_mut(i))
    }

    /// The bitmask of pending signals.
    pub fn pending_mask(&self) -> u64 {
        self.pending.iter().fold(0, |m, p| m | sigmask(p.signo))
    }

    /// Whether a newly generated `sig` would be thrown away at once (2.4's
    /// `ignored_signal`): not blocked, and its action is to ignore it.
    fn ignored(&self, sig: i32) -> bool {
        self.blocked & sigmask(sig) == 0 && ignores(self.action(sig), sig)
    }

    /// `signal_pending`: a pending signal that `blocked` lets through (SIGKILL and
    /// SIGSTOP always do). The thread's own queue only: [`Kernel::deliverable`] adds
    /// the process's.
    pub fn has_deliverable(&self, blocked: u64) -> bool {
        any_deliverable(&self.pending, blocked)
    }

    /// The queueing half of `send_sig_info` (linux24.md §6.1): drop an ignored signal; a
    /// standard signal already pending discards the new one (and its info);
    /// real-time signals queue. Returns whether the signal was queued.
    pub fn queue(&mut self, info: SigInfo) -> bool {
        let ignored = (1..=NSIG).contains(&info.signo) && self.ignored(info.signo);
        enqueue(&mut self.pending, info, ignored)
    }

    /// Drops pending instances of `sig` (when its action becomes "ignore").
    pub fn discard_pending(&mut self, sig: i32) {
        self.pending.retain(|p| p.signo != sig);
    }

    /// `sas_ss_flags(sp)`.
    pub fn sas_ss_flags(&self, sp: u32) -> u32 {
        if self.altstack.size == 0 {
            SS_DISABLE
        } else if self.on_sig_stack(sp) {
            SS_ONSTACK
        } else {
            0
        }
    }

    /// `on_sig_stack(sp)`: 2.4's unsigned `sp - sas_ss_sp < sas_ss_size`.
    pub fn on_sig_stack(&self, sp: u32) -> bool {
        sp.wrapping_sub(self.altstack.sp) < self.altstack.size
    }
}

/// `force_sig_info`: un-ignore, unblock, queue (linux24.md §6.1). A fault signal can be
/// neither ignored nor blocked.
pub fn force_sig_info(k: &mut Kernel, info: SigInfo) {
    let sig = info.signo;
    if let Some(a) = k.task.sig.action_mut(sig) {
        if a.handler == SIG_IGN {
            a.handler = SIG_DFL;
        }
    }
    k.task.sig.blocked &= !sigmask(sig);
    send_sig_info(k, info);
}

/// `force_sig(sig)`: force_sig_info with SI_KERNEL.
pub fn force_sig(k: &mut Kernel, sig: i32) {
    force_sig_info(k, SigInfo::kernel(sig));
}

/// `send_sig_info` to the current thread (linux24.md §6.1, [`SignalState::queue`]).
pub fn send_sig_info(k: &mut Kernel, info: SigInfo) {
    k.task.sig.queue(info);
}

/// `send_sig_info` to the guest thread `tid`, current or not (tkill, tgkill, a
/// fault). A thread that is not current finds the signal when it next runs: a
/// sleeping one is woken by it ([`crate::sched`] treats a deliverable pending signal
/// as a wake-up). False if there is no such thread (a zombie takes no signals but
/// exists: true).
pub fn send_sig_to(k: &mut Kernel, tid: u32, info: SigInfo) -> bool {
    if let Some(sent) = crate::hostproc::forward_signal(k, tid, info.signo) {
        return sent;
    }
    if k.task.pid == tid {
        k.task.sig.queue(info);
        return true;
    }
    let Some(t) = k.tasks.get(&tid) else { return false };
    if t.state.is_zombie() {
        return true;
    }
    let ignored = (1..=NSIG).contains(&info.signo)
        && t.sig.blocked & sigmask(info.signo) == 0
        && ignores(k.action_of(t, info.signo), info.signo);
    if let Some(t) = k.tasks.get_mut(&tid) {
        enqueue(&mut t.sig.pending, info, ignored);
    }
    true
}

/// `group_send_sig_info`: a process-directed signal (kill, a child's exit signal) to
/// thread group `tgid`. It waits in the process's queue for any thread that does not
/// block it (today's `shared_pending`; every such thread that sleeps is woken, the
/// first to return to user mode takes it). It is ignored only if the leader (or the
/// first thread left) does not block it and its action ignores it. False if there is
/// no such process; a process whose threads have all exited takes it and drops it.
pub fn group_send_sig_info(k: &mut Kernel, tgid: u32, info: SigInfo) -> bool {
    if let Some(sent) = crate::hostproc::forward_signal(k, tgid, info.signo) {
        return sent;
    }
    let target = k.find_task(tgid).filter(|t| !t.state.is_zombie()).or_else(|| k.live_threads(tgid).next());
    let Some(t) = target else {
        return k.find_task(tgid).is_some();
    };
    let ignored = (1..=NSIG).contains(&info.signo)
        && t.sig.blocked & sigmask(info.signo) == 0
        && ignores(k.action_of(t, info.signo), info.signo);
    if let Some(g) = k.group_mut(tgid) {
        enqueue(&mut g.shared_pending, info, ignored);
    }
    true
}

impl Kernel {
    /// Whether task `t` has a signal `blocked` lets through, in its own queue or its
    /// process's.
    pub fn deliverable(&self, t: &Task, blocked: u64) -> bool {
        t.sig.has_deliverable(blocked)
            || self.group(t.ids.group).is_some_and(|g| any_deliverable(&g.shared_pending, blocked))
    }

    /// `signal_pending(current)`.
    pub fn signal_pending(&self) -> bool {
        self.deliverable(&self.task, self.task.sig.blocked)
    }

    /// The signals pending for task `t`, current or not: its own and its process's.
    pub fn pending_mask_of(&self, t: &Task) -> u64 {
        let shared = self
            .group(t.ids.group)
            .map_or(0, |g| g.shared_pending.iter().fold(0, |m, p| m | sigmask(p.signo)));
        t.sig.pending_mask() | shared
    }

    /// The signals pending for the current thread: its own and its process's
    /// (sigpending's set before the mask is applied).
    pub fn pending_mask(&self) -> u64 {
        let shared = self.task.group.shared_pending.iter().fold(0, |m, p| m | sigmask(p.signo));
        self.task.sig.pending_mask() | shared
    }
}

/// `set_user_sigmask`'s reading half, for the calls that sleep with a temporary mask
/// (ppoll, pselect6, epoll_pwait, epoll_pwait2): `None` when no mask is given;
/// EINVAL unless `size` is 8, EFAULT. SIGKILL and SIGSTOP are taken out.
pub fn read_user_sigmask(k: &mut Kernel, addr: u32, size: u32) -> Result<Option<u64>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    if size != crate::syscall::signal::SIGSET_SIZE {
        return Err(EINVAL);
    }
    let mut b = [0u8; 8];
    k.copy_from_user(addr, &mut b).map_err(|_| EFAULT)?;
    Ok(Some(u64::from_le_bytes(b) & !UNBLOCKABLE))
}

/// The `signal_pending` test of a call about to sleep under a temporary mask
/// (`mask`; `None`: the task's own): whether a signal it lets through is pending.
/// If so, the temporary mask goes in for the handler that ends the call with EINTR
/// and the task's own is kept for the frame, as sigsuspend does (today's
/// `restore_saved_sigmask_unless(error == -EINTR)`); [`do_signal`] puts it back if
/// no handler runs.
pub fn pending_under(k: &mut Kernel, mask: Option<u64>) -> bool {
    if !k.deliverable(&k.task, mask.unwrap_or(k.task.sig.blocked)) {
        return false;
    }
    if let Some(m) = mask {
        let st = &mut k.task.sig;
        st.saved_mask = Some(st.blocked);
        st.blocked = m;
    }
    true
}

/// Removes and returns the lowest-numbered pending signal that is not blocked
/// (the oldest instance of it for real-time signals): from the thread's own queue
/// first, then from its process's (today's `dequeue_signal`).
fn dequeue_signal(k: &mut Kernel) -> Option<SigInfo> {
    let allowed = !(k.task.sig.blocked & !UNBLOCKABLE);
    dequeue_from(k, allowed)
}

/// [`dequeue_signal`] of the signals in `set` only (rt_sigtimedwait).
pub fn dequeue_from(k: &mut Kernel, set: u64) -> Option<SigInfo> {
    let blocked = !set;
    let take = |q: &mut Vec<SigInfo>| {
        let pos = q
            .iter()
            .enumerate()
            .filter(|(_, p)| blocked & sigmask(p.signo) == 0)
            .min_by_key(|(i, p)| (p.signo, *i))
            .map(|(i, _)| i)?;
        Some(q.remove(pos))
    };
    take(&mut k.task.sig.pending).or_else(|| take(&mut k.task.group.shared_pending))
}

/// Delivers pending signals on the way back to user mode (linux24.md §6.2): discards
/// ignored ones, applies default actions, and builds at most one handler frame.
///
/// Then, as the end of 2.4's `do_signal`: a system call that returned an
/// `-ERESTART*` code and ran no handler is restarted (EAX = the call number, EIP
/// back over `int 0x80`), and a mask sigsuspend replaced is put back.
pub fn do_signal(k: &mut Kernel) {
    let handled = deliver_signal(k);
    if !handled && k.exit_status.is_none() {
        if let Some(m) = k.task.sig.saved_mask.take() {
            k.task.sig.blocked = m;
        }
        if let Some(nr) = k.task.orig_eax {
            let eax = k.cpu.regs[EAX] as i32;
            if eax < 0 && is_restart(-eax) {
                k.cpu.regs[EAX] = nr;
                k.cpu.eip = k.cpu.eip.wrapping_sub(2);
            }
        }
    }
    k.task.orig_eax = None;
}

/// The signal half of `do_signal`; true if a handler frame was built (or the task
/// died).
fn deliver_signal(k: &mut Kernel) -> bool {
    while k.exit_status.is_none() {
        let Some(info) = dequeue_signal(k) else { return false };
        let sig = info.signo;
        let ka = k.task.sig.action(sig);
        if sig == SIGKILL || ka.handler == SIG_DFL {
            if default_ignored(sig) {
                continue;
            }
            if default_stops(sig) {
                log::info!(target: "kernel::signal", "{}: no job control, stop ignored", signal_name(sig));
                continue;
            }
            log::debug!(
                target: "kernel::signal",
                "killed by {} (code {}, addr {:#x}) at eip {:#010x}",
                signal_name(sig),
                info.code,
                info.addr,
                k.cpu.eip
            );
            // A fatal signal kills the whole process (today's do_group_exit).
            let st = crate::ExitStatus::Signaled { signo: sig, info, eip: k.cpu.eip, core: false };
            crate::exit::do_group_exit(k, st);
            return true;
        }
        if ka.handler == SIG_IGN {
            continue;
        }
        handle_signal(k, info, ka);
        return true;
    }
    true
}

/// `handle_signal`: build the frame, then SA_RESETHAND and the handler's mask, as 2.4
/// does even when the frame could not be written (linux24.md §6.2, §6.8).
fn handle_signal(k: &mut Kernel, info: SigInfo, ka: SigAction) {
    let sig = info.signo;
    // "Are we from a system call?": a call interrupted by this handler fails with
    // EINTR, or is restarted once the handler returns (SA_RESTART, ERESTARTNOINTR).
    if let Some(nr) = k.task.orig_eax.take() {
        let eax = k.cpu.regs[EAX] as i32;
        match -eax {
            ERESTARTNOHAND => k.cpu.regs[EAX] = (-EINTR) as u32,
            ERESTARTSYS if ka.flags & SA_RESTART == 0 => k.cpu.regs[EAX] = (-EINTR) as u32,
            ERESTARTSYS | ERESTARTNOINTR => {
                k.cpu.regs[EAX] = nr;
                k.cpu.eip = k.cpu.eip.wrapping_sub(2);
            }
            _ => {}
        }
    }
    // After sigsuspend the frame records the mask from before it.
    let oldset = k.task.sig.saved_mask.take().unwrap_or(k.task.sig.blocked);
    let ok = if ka.flags & SA_SIGINFO != 0 {
        setup_rt_frame(k, &info, &ka, oldset)
    } else {
        setup_frame(k, sig, &ka, oldset)
    };
    if !ok {
        give_sigsegv(k, sig);
    }
    if ka.flags & SA_RESETHAND != 0 {
        if let Some(a) = k.task.sig.action_mut(sig) {
            a.handler = SIG_DFL;
        }
    }
    if ka.flags & SA_NODEFER == 0 {
        let st = &mut k.task.sig;
        st.blocked = (st.blocked | ka.mask | sigmask(sig)) & !UNBLOCKABLE;
    }
}

/// `give_sigsegv` (linux24.md §6.8).
fn give_sigsegv(k: &mut Kernel, sig: i32) {
    log::debug!(target: "kernel::signal", "cannot build the frame for {}: SIGSEGV", signal_name(sig));
    if sig == SIGSEGV {
        if let Some(a) = k.task.sig.action_mut(SIGSEGV) {
            a.handler = SIG_DFL;
        }
    }
    force_sig(k, SIGSEGV);
}

/// `get_sigframe` (linux24.md §6.3): the alternate stack if SA_ONSTACK and not on it
/// already, then `(esp - size) & ~7`.
fn get_sigframe(k: &Kernel, ka: &SigAction, size: u32) -> u32 {
    let mut esp = k.cpu.regs[ESP];
    if ka.flags & SA_ONSTACK != 0 && k.task.sig.sas_ss_flags(esp) == 0 {
        esp = k.task.sig.altstack.sp.wrapping_add(k.task.sig.altstack.size);
    }
    esp.wrapping_sub(size) & !7
}

/// `save_i387_fxsave` (2.4's i387.c; today's `copy_fpstate_to_sigframe` for an ia32
/// frame does the same): the state in the legacy FNSAVE layout first
/// (`convert_fxsr_to_user`: environment, full tag word, ST(0)–ST(7)), `status` the
/// status word and `magic` `X86_FXSR_MAGIC`, then the whole FXSAVE image with MXCSR
/// and XMM0–7 in `_fxsr_env` onwards.
/// Today's kernels save the FPU for every task, so the frame always has it (2.4
/// leaves fpstate NULL for a task that never touched the FPU; nothing here tracks
/// that).
fn save_fpstate(k: &mut Kernel) -> Option<SigFpstate> {
    let image = growsdown_cpu::ops::x87::save_image(&mut k.cpu);
    let fxsave = growsdown_cpu::ops::simd::state::fxsave_image(&mut k.cpu);
    let mut fp = SigFpstate::new_zeroed();
    fp.fsave.as_mut_bytes()[..FNSAVE_IMAGE_SIZE].copy_from_slice(&image);
    fp.fsave.status = fp.fsave.sw as u16;
    fp.fsave.magic = FPSTATE_MAGIC_FXSR;
    fp.fxsr.as_mut_bytes()[..fxsave.len()].copy_from_slice(&fxsave);
    Some(fp)
}

/// `restore_i387_fxsave`: the x87 state from the frame's legacy FNSAVE part
/// (`convert_fxsr_from_user`: that is the part a handler edits), MXCSR and XMM0–7
/// from its FXSR part. Like both 2.4 and today's kernel, the FXSR part is read
/// whatever `magic` says. MXCSR is sanitised with the writable-bit mask instead of
/// failing (today's `__fpu_restore_sig`: `mxcsr &= mxcsr_feature_mask`; 2.4 also
/// cleared DAZ, which its CPUs lacked).
fn restore_fpstate(k: &mut Kernel, fp: &SigFpstate) {
    let mut b = [0u8; FNSAVE_IMAGE_SIZE];
    b.copy_from_slice(&fp.fsave.as_bytes()[..FNSAVE_IMAGE_SIZE]);
    growsdown_cpu::ops::x87::restore_image(&mut k.cpu, &b);
    k.cpu.fpu.mxcsr = fp.fxsr.mxcsr & MXCSR_WRITABLE;
    for (i, x) in k.cpu.fpu.xmm.iter_mut().enumerate() {
        let w = &fp.fxsr.xmm_space[i * 4..i * 4 + 4];
        *x = w.iter().rev().fold(0u128, |v, &word| (v << 32) | u128::from(word));
    }
}

/// `setup_sigcontext` (linux24.md §6.4) for the current registers.
fn sigcontext(k: &Kernel, fpstate: u32, oldmask: u32) -> Sigcontext {
    let c = &k.cpu;
    let sel = |s: SegReg| c.segs[s as usize].selector;
    Sigcontext {
        gs: sel(SegReg::Gs),
        __gsh: 0,
        fs: sel(SegReg::Fs),
        __fsh: 0,
        es: sel(SegReg::Es),
        __esh: 0,
        ds: sel(SegReg::Ds),
        __dsh: 0,
        edi: c.regs[EDI],
        esi: c.regs[ESI],
        ebp: c.regs[EBP],
        esp: c.regs[ESP],
        ebx: c.regs[EBX],
        edx: c.regs[EDX],
        ecx: c.regs[ECX],
        eax: c.regs[EAX],
        trapno: k.task.thread.trap_no,
        err: k.task.thread.error_code,
        eip: c.eip,
        cs: sel(SegReg::Cs),
        __csh: 0,
        eflags: c.flags.get(),
        esp_at_signal: c.regs[ESP],
        ss: sel(SegReg::Ss),
        __ssh: 0,
        fpstate,
        oldmask,
        cr2: k.task.thread.cr2,
    }
}

/// Loads a data segment register for the handler; falls back to a flat segment if
/// the GDT has not been filled in (a bare machine in tests).
fn set_user_seg(k: &mut Kernel, s: SegReg, sel: u16) {
    if k.cpu.load_segment(s, sel).is_err() {
        k.cpu.segs[s as usize] = Segment::loaded(sel, &Descriptor { base: 0, limit: u32::MAX, attrs: 0xcf3 });
    }
}

/// Points the CPU at a handler whose frame is at `frame`.
fn enter_handler(k: &mut Kernel, frame: u32, handler: u32) {
    k.cpu.regs[ESP] = frame;
    k.cpu.eip = handler;
    set_user_seg(k, SegReg::Ds, USER_DS);
    set_user_seg(k, SegReg::Es, USER_DS);
    set_user_seg(k, SegReg::Ss, USER_DS);
    k.cpu.force_cs(USER_CS);
    k.cpu.flags.set_bits(TF, false);
    // The FPU state is in the frame; the handler starts with a fresh one: today's
    // `fpu__clear_user_states` loads the init state (FNINIT's x87 with zeroed
    // registers, MXCSR 0x1F80, XMM zeroed). 2.4 left XMM registers as they were.
    k.cpu.fpu = Fpu::default();
}

/// `setup_frame` (linux24.md §6.5): the 732-byte `struct sigframe`. False if it could not
/// be written.
fn setup_frame(k: &mut Kernel, sig: i32, ka: &SigAction, oldset: u64) -> bool {
    let frame = get_sigframe(k, ka, SIGFRAME_SIZE);
    let fp = save_fpstate(k);
    let fp_ptr = if fp.is_some() { frame.wrapping_add(offset_of!(Sigframe, fpstate) as u32) } else { 0 };
    let pretcode = if ka.flags & SA_RESTORER != 0 {
        ka.restorer
    } else if k.task.mm.vdso != 0 {
        // Today's kernel returns through the vDSO's trampoline; `retcode` stays
        // in the frame for programs that look for it (gdb's old unwinders).
        k.task.mm.vdso + crate::vdso::entry_offsets().1
    } else {
        frame.wrapping_add(offset_of!(Sigframe, retcode) as u32)
    };
    let [lo, hi] = sigset_words(oldset);
    let f = Sigframe {
        pretcode,
        sig,
        sc: sigcontext(k, fp_ptr, lo),
        fpstate: fp.unwrap_or_else(SigFpstate::new_zeroed),
        extramask: [hi],
        retcode: SIGFRAME_RETCODE,
    };
    if k.copy_to_user(frame, f.as_bytes()).is_err() {
        return false;
    }
    log::debug!(
        target: "kernel::signal",
        "{}: frame at {:#010x}, handler {:#010x}",
        signal_name(sig),
        frame,
        ka.handler
    );
    enter_handler(k, frame, ka.handler);
    // Today's i386 setup_frame also passes the signal number in EAX (and zeroes EDX
    // and ECX) for handlers built with regparm(3); 2.4 left the three alone.
    k.cpu.regs[EAX] = sig as u32;
    k.cpu.regs[EDX] = 0;
    k.cpu.regs[ECX] = 0;
    true
}

/// `setup_rt_frame` (linux24.md §6.6): the 892-byte `struct rt_sigframe`.
fn setup_rt_frame(k: &mut Kernel, info: &SigInfo, ka: &SigAction, oldset: u64) -> bool {
    let sig = info.signo;
    let frame = get_sigframe(k, ka, RT_SIGFRAME_SIZE);
    let esp = k.cpu.regs[ESP];
    let fp = save_fpstate(k);
    let fp_ptr = if fp.is_some() { frame.wrapping_add(offset_of!(RtSigframe, fpstate) as u32) } else { 0 };
    let pretcode = if ka.flags & SA_RESTORER != 0 {
        ka.restorer
    } else if k.task.mm.vdso != 0 {
        // Today's kernel returns through the vDSO's trampoline; `retcode` stays
        // in the frame for programs that look for it (gdb's old unwinders).
        k.task.mm.vdso + crate::vdso::entry_offsets().2
    } else {
        frame.wrapping_add(offset_of!(RtSigframe, retcode) as u32)
    };
    let alt = k.task.sig.altstack;
    let uc_stack = StackT {
        ss_sp: alt.sp,
        ss_flags: (k.task.sig.sas_ss_flags(esp) | if alt.autodisarm { SS_AUTODISARM } else { 0 }) as i32,
        ss_size: alt.size,
    };
    let f = RtSigframe {
        pretcode,
        sig,
        pinfo: frame.wrapping_add(offset_of!(RtSigframe, info) as u32),
        puc: frame.wrapping_add(offset_of!(RtSigframe, uc) as u32),
        info: info.to_user(),
        uc: Ucontext {
            uc_flags: 0,
            uc_link: 0,
            uc_stack,
            uc_mcontext: sigcontext(k, fp_ptr, oldset as u32),
            uc_sigmask: sigset_words(oldset),
        },
        fpstate: fp.unwrap_or_else(SigFpstate::new_zeroed),
        retcode: RT_SIGFRAME_RETCODE,
    };
    if k.copy_to_user(frame, f.as_bytes()).is_err() {
        return false;
    }
    if alt.autodisarm {
        k.task.sig.altstack = AltStack::default();
    }
    log::debug!(
        target: "kernel::signal",
        "{}: rt frame at {:#010x}, handler {:#010x}, code {}, addr {:#x}",
        signal_name(sig),
        frame,
        ka.handler,
        info.code,
        info.addr
    );
    enter_handler(k, frame, ka.handler);
    // Today's i386 setup_rt_frame: the signal number, &info and &uc in EAX, EDX and
    // ECX, for regparm(3) handlers (klibc's); 2.4 left the three alone.
    k.cpu.regs[EAX] = sig as u32;
    k.cpu.regs[EDX] = frame.wrapping_add(offset_of!(RtSigframe, info) as u32);
    k.cpu.regs[ECX] = frame.wrapping_add(offset_of!(RtSigframe, uc) as u32);
    true
}

/// Checks a selector a sigreturn frame wants in CS: a present DPL-3 code segment.
fn valid_user_cs(k: &Kernel, sel: u16) -> bool {
    if sel & !3 == 0 {
        return false;
    }
    match k.cpu.descriptor(sel) {
        Ok(d) => d.is_code_or_data() && d.is_code() && d.present() && (d.dpl() == 3 || d.attrs & 0x04 != 0),
        Err(_) => false,
    }
}

/// `restore_sigcontext` (linux24.md §6.7). Validates every selector before changing
/// anything: a bad one leaves the registers as they are and fails (the caller sends
/// SIGSEGV). Returns the saved EAX.
fn restore_sigcontext(k: &mut Kernel, sc: &Sigcontext) -> Result<u32, ()> {
    let cs = sc.cs | 3;
    let ss = sc.ss | 3;
    if !valid_user_cs(k, cs) {
        return Err(());
    }
    let saved = k.cpu.segs;
    let loads = [
        (SegReg::Gs, sc.gs),
        (SegReg::Fs, sc.fs),
        (SegReg::Es, sc.es),
        (SegReg::Ds, sc.ds),
        (SegReg::Ss, ss),
    ];
    for (s, v) in loads {
        if k.cpu.load_segment(s, v).is_err() {
            k.cpu.segs = saved;
            return Err(());
        }
    }
    if sc.fpstate != 0 {
        let mut fp = SigFpstate::new_zeroed();
        if k.copy_from_user(sc.fpstate, fp.as_mut_bytes()).is_err() {
            k.cpu.segs = saved;
            return Err(());
        }
        restore_fpstate(k, &fp);
    }
    k.cpu.force_cs(cs);
    let r = &mut k.cpu.regs;
    r[EDI] = sc.edi;
    r[ESI] = sc.esi;
    r[EBP] = sc.ebp;
    r[ESP] = sc.esp;
    r[EBX] = sc.ebx;
    r[EDX] = sc.edx;
    r[ECX] = sc.ecx;
    k.cpu.eip = sc.eip;
    let cur = k.cpu.flags.get();
    k.cpu.flags.set((cur & !FIX_EFLAGS) | (sc.eflags & FIX_EFLAGS));
    Ok(sc.eax)
}

/// `sys_sigreturn` (119): the frame is at ESP - 8 (linux24.md §6.7). Returns the EAX to
/// leave in place; a bad frame forces SIGSEGV and returns 0.
pub fn sys_sigreturn(k: &mut Kernel) -> u32 {
    let frame = k.cpu.regs[ESP].wrapping_sub(8);
    let mut f = Sigframe::new_zeroed();
    if k.copy_from_user(frame, f.as_mut_bytes()).is_err() {
        return badframe(k, "sigreturn", frame);
    }
    let set = sigset_from_words([f.sc.oldmask, f.extramask[0]]);
    k.task.sig.blocked = set & !UNBLOCKABLE;
    match restore_sigcontext(k, &f.sc) {
        Ok(eax) => eax,
        Err(()) => badframe(k, "sigreturn", frame),
    }
}

/// `sys_rt_sigreturn` (173): the frame is at ESP - 4; also re-applies `uc_stack`.
pub fn sys_rt_sigreturn(k: &mut Kernel) -> u32 {
    let frame = k.cpu.regs[ESP].wrapping_sub(4);
    let mut uc = Ucontext::new_zeroed();
    if !crate::uaccess::access_ok(frame, RT_SIGFRAME_SIZE)
        || k.copy_from_user(frame.wrapping_add(offset_of!(RtSigframe, uc) as u32), uc.as_mut_bytes()).is_err()
    {
        return badframe(k, "rt_sigreturn", frame);
    }
    let set = sigset_from_words(uc.uc_sigmask);
    k.task.sig.blocked = set & !UNBLOCKABLE;
    let eax = match restore_sigcontext(k, &uc.uc_mcontext) {
        Ok(eax) => eax,
        Err(()) => return badframe(k, "rt_sigreturn", frame),
    };
    // do_sigaltstack(&uc_stack, NULL, regs->esp); errors other than EFAULT ignored.
    let st = uc.uc_stack;
    let ss = (st.ss_sp, st.ss_flags as u32, st.ss_size);
    let esp = k.cpu.regs[ESP];
    let _ = do_sigaltstack(k, Some(ss), esp);
    eax
}

fn badframe(k: &mut Kernel, what: &str, frame: u32) -> u32 {
    log::debug!(target: "kernel::signal", "{what}: bad frame at {frame:#010x}: SIGSEGV");
    force_sig(k, SIGSEGV);
    0
}

/// `do_sigaltstack`: installs `new` = (ss_sp, ss_flags, ss_size) if given and returns
/// the old (ss_sp, ss_flags, ss_size) as seen from stack pointer `sp`.
pub fn do_sigaltstack(
    k: &mut Kernel,
    new: Option<(u32, u32, u32)>,
    sp: u32,
) -> Result<(u32, u32, u32), Errno> {
    let st = &mut k.task.sig;
    let old_alt = st.altstack;
    let old =
        (old_alt.sp, st.sas_ss_flags(sp) | if old_alt.autodisarm { SS_AUTODISARM } else { 0 }, old_alt.size);
    if let Some((ss_sp, ss_flags, ss_size)) = new {
        if st.on_sig_stack(sp) && st.altstack.size != 0 {
            return Err(EPERM);
        }
        let mode = ss_flags & !SS_AUTODISARM;
        if mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK {
            return Err(EINVAL);
        }
        if mode == SS_DISABLE {
            st.altstack = AltStack::default();
        } else {
            if ss_size < MINSIGSTKSZ {
                return Err(ENOMEM);
            }
            st.altstack = AltStack { sp: ss_sp, size: ss_size, autodisarm: ss_flags & SS_AUTODISARM != 0 };
        }
    }
    Ok(old)
}

/// Reads a user `stack_t` (ss_sp, ss_flags, ss_size).
pub fn read_stack_t(k: &mut Kernel, addr: u32) -> Result<(u32, u32, u32), Errno> {
    let mut st = StackT::default();
    k.copy_from_user(addr, st.as_mut_bytes()).map_err(|_| EFAULT)?;
    Ok((st.ss_sp, st.ss_flags as u32, st.ss_size))
}

/// Writes a user `stack_t`.
pub fn write_stack_t(k: &mut Kernel, addr: u32, v: (u32, u32, u32)) -> Result<(), Errno> {
    let st = StackT { ss_sp: v.0, ss_flags: v.1 as i32, ss_size: v.2 };
    k.copy_to_user(addr, st.as_bytes()).map_err(|_| EFAULT)
}

/// `do_sigaction`: installs `new` for `sig` (if given) and returns the old action.
pub fn do_sigaction(k: &mut Kernel, sig: i32, new: Option<SigAction>) -> Result<SigAction, Errno> {
    if !(1..=NSIG).contains(&sig) || (new.is_some() && (sig == SIGKILL || sig == SIGSTOP)) {
        return Err(EINVAL);
    }
    let st = &mut k.task.sig;
    let old = st.action(sig);
    if let Some(mut a) = new {
        a.mask &= !UNBLOCKABLE;
        if let Some(slot) = st.action_mut(sig) {
            *slot = a;
        }
        // POSIX 3.3.1.3: setting a pending signal to be ignored discards it.
        if a.handler == SIG_IGN || (a.handler == SIG_DFL && default_ignored(sig)) {
            st.discard_pending(sig);
        }
    }
    Ok(old)
}
