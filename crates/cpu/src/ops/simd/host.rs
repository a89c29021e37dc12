//! The host's own SSE instructions, run under a guest's MXCSR: the arithmetic of the
//! `float` and `convert` families (see `ops::simd::float` for why).
//!
//! Every operation is one `asm!` block that saves the host MXCSR, loads the guest's
//! rounding control, DAZ and FZ with every exception masked and every flag clear
//! (so the host never traps and the flags read back are exactly this operation's),
//! runs the instruction on XMM0 (destination) and XMM1 (source), reads MXCSR back
//! and restores the host's. Operands travel through a small frame on the stack:
//! two 16-byte loads and a store are noise beside LDMXCSR.

#[cfg(not(target_arch = "x86_64"))]
compile_error!(
    "growsdown's SSE floating point runs the host's own SSE instructions \
     (crates/cpu/src/ops/simd/host.rs) and needs an x86_64 host"
);

use core::arch::asm;
use core::mem::offset_of;

/// What an operation returns: the destination register, the general-register
/// operand (a converted integer, or COMISS's ZF/PF/CF as bytes 0/1/2) and the
/// MXCSR flags it raised.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Out {
    pub v: u128,
    pub g: u32,
    pub flags: u32,
}

/// The operands as the `asm!` blocks address them (offsets fixed below).
#[repr(C)]
struct Frame {
    a: u128,
    b: u128,
    mxcsr: u32,
    saved: u32,
    out: u32,
    g: u32,
}

// The asm templates spell these offsets out.
const _: () = assert!(
    offset_of!(Frame, a) == 0
        && offset_of!(Frame, b) == 16
        && offset_of!(Frame, mxcsr) == 32
        && offset_of!(Frame, saved) == 36
        && offset_of!(Frame, out) == 40
        && offset_of!(Frame, g) == 44
);

/// One SSE instruction on the host: `run(mxcsr, a, b, g)` with XMM0 = `a`,
/// XMM1 = `b` and the frame's integer slot = `g` (what CVTSI2SS reads).
pub(crate) trait HostOp {
    fn run(mxcsr: u32, a: u128, b: u128, g: u32) -> Out;
}

/// The one asm block; `$insn` are the instruction lines (they may use EAX and the
/// integer slot at `[{f} + 44]`).
macro_rules! run {
    ($mxcsr:expr, $a:expr, $b:expr, $g:expr, $($insn:expr),+) => {{
        let mut f = Frame { a: $a, b: $b, mxcsr: $mxcsr, saved: 0, out: 0, g: $g };
        let p: *mut Frame = &mut f;
        // SAFETY: `p` points at a live, writable Frame for the whole block, which
        // touches only its bytes, the XMM0/XMM1/EAX it declares clobbered, and MXCSR,
        // whose host value it saves first and restores last; every exception is
        // masked in the MXCSR it loads (the caller's mask bits), so nothing traps.
        unsafe {
            asm!(
                "stmxcsr dword ptr [{f} + 36]",
                "ldmxcsr dword ptr [{f} + 32]",
                "movdqu xmm0, xmmword ptr [{f}]",
                "movdqu xmm1, xmmword ptr [{f} + 16]",
                $($insn,)+
                "movdqu xmmword ptr [{f}], xmm0",
                "stmxcsr dword ptr [{f} + 40]",
                "ldmxcsr dword ptr [{f} + 36]",
                f = in(reg) p,
                out("xmm0") _,
                out("xmm1") _,
                out("eax") _,
                options(nostack),
            );
        }
        Out { v: f.a, g: f.g, flags: f.out & crate::fpu::MXCSR_FLAGS }
    }};
}

/// `Name = "instruction lines", ...;`: a type per host instruction.
macro_rules! host_ops {
    ($($name:ident = $($insn:literal),+;)*) => {$(
        pub(crate) struct $name;
        impl HostOp for $name {
            #[inline(always)]
            fn run(mxcsr: u32, a: u128, b: u128, g: u32) -> Out {
                run!(mxcsr, a, b, g, $($insn),+)
            }
        }
    )*};
}

host_ops! {
    Addps = "addps xmm0, xmm1"; Addss = "addss xmm0, xmm1";
    Addpd = "addpd xmm0, xmm1"; Addsd = "addsd xmm0, xmm1";
    Subps = "subps xmm0, xmm1"; Subss = "subss xmm0, xmm1";
    Subpd = "subpd xmm0, xmm1"; Subsd = "subsd xmm0, xmm1";
    Mulps = "mulps xmm0, xmm1"; Mulss = "mulss xmm0, xmm1";
    Mulpd = "mulpd xmm0, xmm1"; Mulsd = "mulsd xmm0, xmm1";
    Divps = "divps xmm0, xmm1"; Divss = "divss xmm0, xmm1";
    Divpd = "divpd xmm0, xmm1"; Divsd = "divsd xmm0, xmm1";
    Minps = "minps xmm0, xmm1"; Minss = "minss xmm0, xmm1";
    Minpd = "minpd xmm0, xmm1"; Minsd = "minsd xmm0, xmm1";
    Maxps = "maxps xmm0, xmm1"; Maxss = "maxss xmm0, xmm1";
    Maxpd = "maxpd xmm0, xmm1"; Maxsd = "maxsd xmm0, xmm1";
    Sqrtps = "sqrtps xmm0, xmm1"; Sqrtss = "sqrtss xmm0, xmm1";
    Sqrtpd = "sqrtpd xmm0, xmm1"; Sqrtsd = "sqrtsd xmm0, xmm1";
    Rcpps = "rcpps xmm0, xmm1"; Rcpss = "rcpss xmm0, xmm1";
    Rsqrtps = "rsqrtps xmm0, xmm1"; Rsqrtss = "rsqrtss xmm0, xmm1";
    Addsubps = "addsubps xmm0, xmm1"; Addsubpd = "addsubpd xmm0, xmm1";
    Haddps = "haddps xmm0, xmm1"; Haddpd = "haddpd xmm0, xmm1";
    Hsubps = "hsubps xmm0, xmm1"; Hsubpd = "hsubpd xmm0, xmm1";
    Cvtps2pd = "cvtps2pd xmm0, xmm1"; Cvtpd2ps = "cvtpd2ps xmm0, xmm1";
    Cvtss2sd = "cvtss2sd xmm0, xmm1"; Cvtsd2ss = "cvtsd2ss xmm0, xmm1";
    Cvtdq2ps = "cvtdq2ps xmm0, xmm1"; Cvtps2dq = "cvtps2dq xmm0, xmm1";
    Cvttps2dq = "cvttps2dq xmm0, xmm1"; Cvtdq2pd = "cvtdq2pd xmm0, xmm1";
    Cvtpd2dq = "cvtpd2dq xmm0, xmm1"; Cvttpd2dq = "cvttpd2dq xmm0, xmm1";
    Cvtsi2ss = "cvtsi2ss xmm0, dword ptr [{f} + 44]";
    Cvtsi2sd = "cvtsi2sd xmm0, dword ptr [{f} + 44]";
    Cvtss2si = "cvtss2si eax, xmm1", "mov dword ptr [{f} + 44], eax";
    Cvttss2si = "cvttss2si eax, xmm1", "mov dword ptr [{f} + 44], eax";
    Cvtsd2si = "cvtsd2si eax, xmm1", "mov dword ptr [{f} + 44], eax";
    Cvttsd2si = "cvttsd2si eax, xmm1", "mov dword ptr [{f} + 44], eax";
    Comiss = "comiss xmm0, xmm1", "setz byte ptr [{f} + 44]", "setp byte ptr [{f} + 45]",
        "setc byte ptr [{f} + 46]";
    Ucomiss = "ucomiss xmm0, xmm1", "setz byte ptr [{f} + 44]", "setp byte ptr [{f} + 45]",
        "setc byte ptr [{f} + 46]";
    Comisd = "comisd xmm0, xmm1", "setz byte ptr [{f} + 44]", "setp byte ptr [{f} + 45]",
        "setc byte ptr [{f} + 46]";
    Ucomisd = "ucomisd xmm0, xmm1", "setz byte ptr [{f} + 44]", "setp byte ptr [{f} + 45]",
        "setc byte ptr [{f} + 46]";
}

/// CMPPS/CMPSS/CMPPD/CMPSD: the predicate is an immediate of the host instruction,
/// so each of the eight is its own block.
pub(crate) trait HostCmp {
    fn run(pred: u8, mxcsr: u32, a: u128, b: u128) -> Out;
}

macro_rules! host_cmps {
    ($($name:ident = $m:literal;)*) => {$(
        pub(crate) struct $name;
        impl HostCmp for $name {
            #[inline(always)]
            fn run(pred: u8, mxcsr: u32, a: u128, b: u128) -> Out {
                match pred & 7 {
                    0 => run!(mxcsr, a, b, 0, concat!($m, " xmm0, xmm1, 0")),
                    1 => run!(mxcsr, a, b, 0, concat!($m, " xmm0, xmm1, 1")),
                    2 => run!(mxcsr, a, b, 0, concat!($m, " xmm0, xmm1, 2")),
                    3 => run!(mxcsr, a, b, 0, concat!($m, " xmm0, xmm1, 3")),
                    4 => run!(mxcsr, a, b, 0, concat!($m, " xmm0, xmm1, 4")),
                    5 => run!(mxcsr, a, b, 0, concat!($m, " xmm0, xmm1, 5")),
                    6 => run!(mxcsr, a, b, 0, concat!($m, " xmm0, xmm1, 6")),
                    _ => run!(mxcsr, a, b, 0, concat!($m, " xmm0, xmm1, 7")),
                }
            }
        }
    )*};
}

host_cmps! {
    Cmpps = "cmpps";
    Cmpss = "cmpss";
    Cmppd = "cmppd";
    Cmpsd = "cmpsd";
}
