//! Signal delivery structures: what `setup_frame` / `setup_rt_frame` push on the
//! user stack and what sigreturn and the signal syscalls read back
//! (include/asm-i386/sigcontext.h, siginfo.h, ucontext.h, signal.h, and the frame
//! layouts of arch/i386/kernel/signal.c).

use core::mem::{offset_of, size_of};

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `struct sigcontext` (asm-i386/sigcontext.h): segment selectors are 16 bits with
/// a 16-bit hole above each (`__gsh` …), which 2.4 leaves zero.
#[repr(C)]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Sigcontext {
    pub gs: u16,
    pub __gsh: u16,
    pub fs: u16,
    pub __fsh: u16,
    pub es: u16,
    pub __esh: u16,
    pub ds: u16,
    pub __dsh: u16,
    pub edi: u32,
    pub esi: u32,
    pub ebp: u32,
    pub esp: u32,
    pub ebx: u32,
    pub edx: u32,
    pub ecx: u32,
    pub eax: u32,
    pub trapno: u32,
    pub err: u32,
    pub eip: u32,
    pub cs: u16,
    pub __csh: u16,
    pub eflags: u32,
    pub esp_at_signal: u32,
    pub ss: u16,
    pub __ssh: u16,
    /// User address of the frame's `_fpstate`, 0 if none.
    pub fpstate: u32,
    pub oldmask: u32,
    pub cr2: u32,
}
// asm-i386/sigcontext.h: 22 words.
const _: () = assert!(size_of::<Sigcontext>() == 88);
const _: () = assert!(offset_of!(Sigcontext, cs) == 60 && offset_of!(Sigcontext, fpstate) == 76);

/// `struct _fpreg`: one 80-bit x87 register as the FNSAVE image stores it.
#[repr(C)]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Fpreg {
    pub significand: [u16; 4],
    pub exponent: u16,
}
const _: () = assert!(size_of::<Fpreg>() == 10);

/// The first part of i386 `struct _fpstate` (asm-i386/sigcontext.h): the 108-byte
/// FNSAVE image (`cw` … `_st`), then `status` and `magic` (0xFFFF: "fsave data
/// only"; 0 when the FXSR image follows).
#[repr(C)]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Fpstate {
    pub cw: u32,
    pub sw: u32,
    pub tag: u32,
    pub ipoff: u32,
    pub cssel: u32,
    pub dataoff: u32,
    pub datasel: u32,
    pub _st: [Fpreg; 8],
    pub status: u16,
    pub magic: u16,
}
// asm-i386/sigcontext.h: 7 words + 8 × 10 bytes, then two 16-bit words.
const _: () = assert!(size_of::<Fpstate>() == 112);
/// Where the FNSAVE image ends inside [`Fpstate`].
pub const FNSAVE_IMAGE_SIZE: usize = offset_of!(Fpstate, status);
const _: () = assert!(FNSAVE_IMAGE_SIZE == 108);

/// `magic` of an [`Fpstate`] followed by the FXSR image (`X86_FXSR_MAGIC`).
pub const FPSTATE_MAGIC_FXSR: u16 = 0x0000;

/// The 512-byte FXSAVE area in its 32-bit-mode format (`struct i387_fxsave_struct`
/// of 2.4's asm-i386/processor.h; Intel SDM vol. 1 table 10-2). In a signal frame
/// it follows [`Fpstate`] (2.4's `save_i387_fxsave` copies the whole image to
/// `_fxsr_env`).
///
#[repr(C)]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct FxsaveArea {
    pub fcw: u16,
    pub fsw: u16,
    /// The abridged tag word: one bit per register.
    pub ftw: u8,
    pub __reserved1: u8,
    pub fop: u16,
    pub fip: u32,
    pub fcs: u32,
    pub foo: u32,
    pub fos: u32,
    pub mxcsr: u32,
    pub mxcsr_mask: u32,
    /// ST0–ST7, 16 bytes each (80 bits used).
    pub st_space: [u32; 32],
    /// XMM0–XMM7 (32-bit mode has eight).
    pub xmm_space: [u32; 32],
    pub padding: [u32; 56],
}
// Intel SDM: FXSAVE stores 512 bytes.
const _: () = assert!(size_of::<FxsaveArea>() == 512);
const _: () = assert!(offset_of!(FxsaveArea, mxcsr) == 24 && offset_of!(FxsaveArea, st_space) == 32);
const _: () = assert!(offset_of!(FxsaveArea, xmm_space) == 160);

/// The whole i386 `struct _fpstate` a signal frame reserves: [`Fpstate`], then the
/// FXSAVE image (`_fxsr_env` … `padding` in the header).
#[repr(C)]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct SigFpstate {
    pub fsave: Fpstate,
    pub fxsr: FxsaveArea,
}
// asm-i386/sigcontext.h: sizeof(struct _fpstate) == 624.
const _: () = assert!(size_of::<SigFpstate>() == 624);

/// `struct siginfo` (asm-generic/siginfo.h, 128 bytes on i386), with the union
/// flattened to the words the kernel fills: `_kill` (pid, uid), `_sigchld` (pid,
/// uid, status, utime, stime), and `_sigfault`, whose `si_addr` shares the first
/// word with `si_pid`.
#[repr(C)]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Siginfo {
    pub si_signo: i32,
    pub si_errno: i32,
    pub si_code: i32,
    /// `si_pid`, or `si_addr` for a fault signal.
    pub si_pid: u32,
    pub si_uid: u32,
    pub si_status: i32,
    pub si_utime: i32,
    pub si_stime: i32,
    pub _pad: [u32; 24],
}
// asm-generic/siginfo.h: SI_MAX_SIZE 128.
const _: () = assert!(size_of::<Siginfo>() == 128);
const _: () = assert!(offset_of!(Siginfo, si_pid) == 12 && offset_of!(Siginfo, si_status) == 20);

/// `struct signalfd_siginfo` (uapi linux/signalfd.h): what a signalfd read returns,
/// 128 bytes per signal.
#[repr(C)]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct SignalfdSiginfo {
    pub ssi_signo: u32,
    pub ssi_errno: i32,
    pub ssi_code: i32,
    pub ssi_pid: u32,
    pub ssi_uid: u32,
    pub ssi_fd: i32,
    pub ssi_tid: u32,
    pub ssi_band: u32,
    pub ssi_overrun: u32,
    pub ssi_trapno: u32,
    pub ssi_status: i32,
    pub ssi_int: i32,
    pub ssi_ptr: u64,
    pub ssi_utime: u64,
    pub ssi_stime: u64,
    pub ssi_addr: u64,
    pub ssi_addr_lsb: u16,
    pub __pad2: u16,
    pub ssi_syscall: i32,
    pub ssi_call_addr: u64,
    pub ssi_arch: u32,
    pub __pad: [u8; 28],
}
// linux/signalfd.h: padded to 128 bytes; the 64-bit fields are 8-aligned there too.
const _: () = assert!(size_of::<SignalfdSiginfo>() == 128);
const _: () = assert!(offset_of!(SignalfdSiginfo, ssi_ptr) == 48 && offset_of!(SignalfdSiginfo, ssi_addr_lsb) == 80);
const _: () = assert!(offset_of!(SignalfdSiginfo, ssi_call_addr) == 88 && offset_of!(SignalfdSiginfo, ssi_arch) == 96);

/// `stack_t` (asm-i386/signal.h): `sigaltstack`'s argument and `uc_stack`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct StackT {
    pub ss_sp: u32,
    pub ss_flags: i32,
    pub ss_size: u32,
}
const _: () = assert!(size_of::<StackT>() == 12);

/// `struct ucontext` (asm-i386/ucontext.h). `uc_sigmask` is the 64-bit `sigset_t`
/// as two words: i386 aligns it to 4, at offset 108.
#[repr(C)]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Ucontext {
    pub uc_flags: u32,
    pub uc_link: u32,
    pub uc_stack: StackT,
    pub uc_mcontext: Sigcontext,
    pub uc_sigmask: [u32; 2],
}
const _: () = assert!(size_of::<Ucontext>() == 116);
const _: () = assert!(offset_of!(Ucontext, uc_mcontext) == 20 && offset_of!(Ucontext, uc_sigmask) == 108);

/// `struct sigframe` of arch/i386/kernel/signal.c (`setup_frame`).
#[repr(C)]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Sigframe {
    pub pretcode: u32,
    pub sig: i32,
    pub sc: Sigcontext,
    pub fpstate: SigFpstate,
    /// The upper word of the blocked mask (`oldmask` holds the lower).
    pub extramask: [u32; 1],
    pub retcode: [u8; 8],
}
const _: () = assert!(size_of::<Sigframe>() == 732);
const _: () = assert!(offset_of!(Sigframe, fpstate) == 96 && offset_of!(Sigframe, retcode) == 724);

/// `struct rt_sigframe` of arch/i386/kernel/signal.c (`setup_rt_frame`).
#[repr(C)]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct RtSigframe {
    pub pretcode: u32,
    pub sig: i32,
    /// User address of `info`.
    pub pinfo: u32,
    /// User address of `uc`.
    pub puc: u32,
    pub info: Siginfo,
    pub uc: Ucontext,
    pub fpstate: SigFpstate,
    pub retcode: [u8; 8],
}
const _: () = assert!(size_of::<RtSigframe>() == 892);
const _: () = assert!(offset_of!(RtSigframe, info) == 16 && offset_of!(RtSigframe, uc) == 144);
const _: () = assert!(offset_of!(RtSigframe, fpstate) == 260 && offset_of!(RtSigframe, retcode) == 884);

/// The i386 kernel's `struct sigaction` of rt_sigaction (asm-i386/signal.h): the
/// 64-bit mask last, as two words.
#[repr(C)]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct KSigaction {
    pub sa_handler: u32,
    pub sa_flags: u32,
    pub sa_restorer: u32,
    pub sa_mask: [u32; 2],
}
const _: () = assert!(size_of::<KSigaction>() == 20);

/// `struct old_sigaction` of sigaction(2) (asm-i386/signal.h): a one-word mask,
/// before the flags.
#[repr(C)]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct OldSigaction {
    pub sa_handler: u32,
    pub sa_mask: u32,
    pub sa_flags: u32,
    pub sa_restorer: u32,
}
const _: () = assert!(size_of::<OldSigaction>() == 16);

/// Splits a 64-bit signal set into the two words i386 stores.
pub fn sigset_words(set: u64) -> [u32; 2] {
    [set as u32, (set >> 32) as u32]
}

/// Joins the two stored words of a signal set.
pub fn sigset_from_words(w: [u32; 2]) -> u64 {
    u64::from(w[0]) | (u64::from(w[1]) << 32)
}
