//! SSE, SSE2 and SSE3 floating point: the packed and scalar single/double arithmetic
//! (ADD, SUB, MUL, DIV, MIN, MAX, SQRT, RCP, RSQRT; ADDSUB, HADD, HSUB), the compares
//! (CMPccPS/SS/PD/SD, COMISS/UCOMISS/COMISD/UCOMISD), and the MXCSR machinery the
//! conversions in `convert` share: rounding control, DAZ, FZ, the six flags and #XM.
//!
//! ## The arithmetic is the host's own SSE instruction
//!
//! Users compare results bit for bit with a real CPU, MXCSR included. A soft float
//! (ours in `float80`, or a SoftFloat port) gets IEEE results right but not the
//! things programs observe beyond them: which NaN comes out (x86 propagates the first
//! operand's payload, quiets SNaNs, returns the *default* NaN, sign bit set, for
//! invalid operations), MIN/MAX returning the second operand on NaNs and on ±0, DAZ
//! and FZ, the denormal-operand flag, the integer indefinite of the conversions — and
//! RCPPS/RSQRTPS, whose 12-bit approximations are not specified at all: Intel and
//! AMD return different bits (SDM Vol. 2 RCPPS: "relative error ... less than or
//! equal to 1.5 ∗ 2^−12"), so only running the instruction reproduces this host.
//! This emulator runs only on x86_64 hosts (growsdown runs i386 guests natively for
//! comparison anyway), whose SSE and SSE2 are architectural, so each guest
//! instruction runs the same host instruction (`host`): one `asm!` block under the
//! guest's RC, DAZ and FZ with every exception masked, bit-exact by construction, no
//! allocation, a few nanoseconds. Only what the host must not do — trap — is decided
//! here, from the flags it raised.
//!
//! ## Unmasked exceptions (SDM Vol. 1 §11.5.1, §11.5.2)
//!
//! The host run reports the masked-response flags of all elements, ORed. With an
//! unmasked exception the destination is not written and #XM is raised, and the
//! MXCSR flags the hardware leaves differ from the masked ones. Measured on this
//! host (the `simd-float xm` guest case pins it):
//! * a pre-computation exception (IE, DE, ZE) unmasked in any element: only the
//!   pre-computation flags of all elements are set, no post-computation flag;
//! * otherwise each element raises its post-computation flags by its masks: a masked
//!   overflow sets OE and PE; an unmasked one OE, and PE only if the result rounded
//!   to the format's precision with an unbounded exponent is inexact; a masked
//!   underflow sets UE only with PE (tiny and inexact, FZ or not); an unmasked one
//!   UE on any tiny result, exact or not, and PE as for overflow (FZ does not apply).
//!
//! So when the guest unmasks OE or UE and an instruction can overflow or underflow
//! (ADD, SUB, MUL, DIV, ADDSUB, HADD, HSUB, CVTPD2PS, CVTSD2SS), each element is run
//! again alone on the host ([`lane_flags`]), and its unbounded-exponent inexactness
//! is computed exactly with the x87 soft float at 24 or 53 bits of precision (its
//! 15-bit exponent holds every product and quotient of singles and doubles). That
//! slow path is taken only by programs that unmask OE or UE.

use crate::exception::Exception;
use crate::fpu::float80::{self, Env, Unp, F80};
use crate::fpu::{
    MXCSR_DAZ, MXCSR_DE, MXCSR_FLAGS, MXCSR_FZ, MXCSR_IE, MXCSR_MASKS, MXCSR_OE, MXCSR_PE, MXCSR_RC,
    MXCSR_UE, MXCSR_ZE,
};
use crate::handlers;
use crate::mmu::CR4_OSXMMEXCPT;
use crate::state::Cpu;
use crate::table::Table;
use crate::uop::Uop;

use super::host::{self, HostCmp, HostOp};

type R = Result<(), Exception>;

/// The pre-computation exceptions (SDM Vol. 1 §11.5.1): detected on the operands,
/// before any result is computed.
const PRE: u32 = MXCSR_IE | MXCSR_DE | MXCSR_ZE;

/// The MXCSR the host runs an operation under: the guest's RC, DAZ and FZ, every
/// exception masked, no flags.
#[inline(always)]
pub(super) fn host_mxcsr(guest: u32) -> u32 {
    (guest & (MXCSR_RC | MXCSR_DAZ | MXCSR_FZ)) | MXCSR_MASKS
}

/// The flags whose exceptions the guest has unmasked.
#[inline(always)]
fn unmasked(mxcsr: u32) -> u32 {
    !(mxcsr >> 7) & MXCSR_FLAGS
}

/// The fault an unmasked exception raises: #XM, or #UD while the OS has not set
/// CR4.OSXMMEXCPT to say it handles #XM (SDM Vol. 3A §13.1.4, Table 13-1).
#[cold]
fn xm(cpu: &Cpu) -> Exception {
    if cpu.mmu.cr4() & CR4_OSXMMEXCPT != 0 {
        Exception::SimdFloatingPoint
    } else {
        Exception::InvalidOpcode
    }
}

/// For an instruction that cannot overflow or underflow: merges the flags of its
/// host run into MXCSR, or raises #XM with the flags the hardware leaves (see the
/// module doc). `Ok`: the caller writes the destination.
#[inline(always)]
pub(super) fn signal(cpu: &mut Cpu, flags: u32) -> R {
    let unmasked = unmasked(cpu.fpu.mxcsr);
    if flags & unmasked == 0 {
        cpu.fpu.mxcsr |= flags;
        return Ok(());
    }
    let pre = flags & PRE;
    cpu.fpu.mxcsr |= if pre & unmasked != 0 { pre } else { flags };
    Err(xm(cpu))
}

/// What one result element of an instruction that can overflow or underflow
/// computes, for the unmasked-OE/UE path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Elem {
    Add,
    Sub,
    Mul,
    Div,
    /// Double to single (CVTPD2PS, CVTSD2SS): the operand is `y`.
    Narrow,
}

/// Instruction shapes for [`elements`]: how result elements map to operand elements.
pub(super) mod shape {
    /// Element *i* of the result from element *i* of both operands.
    pub const PS: u8 = 0;
    pub const SS: u8 = 1;
    pub const PD: u8 = 2;
    pub const SD: u8 = 3;
    /// ADDSUBPS/PD: even elements subtract, odd ones add.
    pub const ADDSUB_PS: u8 = 4;
    pub const ADDSUB_PD: u8 = 5;
    /// HADDPS/HSUBPS/HADDPD/HSUBPD: pairs of the destination, then of the source.
    pub const H_PS: u8 = 6;
    pub const H_PD: u8 = 7;
    /// No element can overflow or underflow.
    pub const NONE: u8 = 8;
}

/// One result element: the operation, whether its operands are doubles, and their
/// bits.
#[derive(Clone, Copy, Debug)]
struct Lane {
    op: Elem,
    double: bool,
    x: u64,
    y: u64,
}

fn f32_at(v: u128, i: u32) -> u64 {
    u64::from((v >> (32 * i)) as u32)
}

fn f64_at(v: u128, i: u32) -> u64 {
    (v >> (64 * i)) as u64
}

/// The result elements of an instruction of shape `sh` applying `op` to `a`
/// (destination) and `b` (source).
fn elements(op: Elem, sh: u8, a: u128, b: u128) -> ([Lane; 4], usize) {
    let lane = |op, double, x, y| Lane { op, double, x, y };
    let mut l = [lane(op, false, 0, 0); 4];
    let n = match sh {
        shape::PS | shape::SS | shape::ADDSUB_PS => {
            let n = if sh == shape::SS { 1 } else { 4 };
            for (i, e) in l.iter_mut().enumerate().take(n) {
                let i = i as u32;
                let op = if sh == shape::ADDSUB_PS && i & 1 == 0 { Elem::Sub } else { op };
                *e = lane(op, false, f32_at(a, i), f32_at(b, i));
            }
            n
        }
        shape::PD | shape::SD | shape::ADDSUB_PD => {
            let n = if sh == shape::SD { 1 } else { 2 };
            for (i, e) in l.iter_mut().enumerate().take(n) {
                let i = i as u32;
                let op = if sh == shape::ADDSUB_PD && i == 0 { Elem::Sub } else { op };
                *e = lane(op, true, f64_at(a, i), f64_at(b, i));
            }
            n
        }
        shape::H_PS => {
            for (i, e) in l.iter_mut().enumerate() {
                let v = if i < 2 { a } else { b };
                let j = 2 * (i as u32 & 1);
                *e = lane(op, false, f32_at(v, j), f32_at(v, j + 1));
            }
            4
        }
        shape::H_PD => {
            l[0] = lane(op, true, f64_at(a, 0), f64_at(a, 1));
            l[1] = lane(op, true, f64_at(b, 0), f64_at(b, 1));
            2
        }
        _ => 0,
    };
    (l, n)
}

/// For an instruction that can overflow or underflow: [`signal`], and the slow path
/// when the guest unmasks OE or UE (module doc).
#[inline(always)]
pub(super) fn signal_ou(cpu: &mut Cpu, flags: u32, op: Elem, sh: u8, a: u128, b: u128) -> R {
    if unmasked(cpu.fpu.mxcsr) & (MXCSR_OE | MXCSR_UE) == 0 || sh == shape::NONE {
        return signal(cpu, flags);
    }
    signal_unmasked_ou(cpu, flags, op, sh, a, b)
}

#[cold]
#[inline(never)]
fn signal_unmasked_ou(cpu: &mut Cpu, flags: u32, op: Elem, sh: u8, a: u128, b: u128) -> R {
    let mxcsr = cpu.fpu.mxcsr;
    let unmasked = unmasked(mxcsr);
    if flags & PRE & unmasked != 0 {
        return signal(cpu, flags);
    }
    let (lanes, n) = elements(op, sh, a, b);
    let all = lanes[..n].iter().fold(0, |acc, &l| acc | lane_flags(mxcsr, l));
    if all & unmasked == 0 {
        cpu.fpu.mxcsr |= flags;
        return Ok(());
    }
    cpu.fpu.mxcsr |= all;
    Err(xm(cpu))
}

/// The flags one element raises under the guest's masks (module doc).
fn lane_flags(mxcsr: u32, l: Lane) -> u32 {
    let unmasked = unmasked(mxcsr);
    // FZ applies only to masked underflows (SDM Vol. 1 §10.2.3.4).
    let mut hm = host_mxcsr(mxcsr);
    if unmasked & MXCSR_UE != 0 {
        hm &= !MXCSR_FZ;
    }
    let (x, y) = (u128::from(l.x), u128::from(l.y));
    let o = match (l.op, l.double) {
        (Elem::Add, false) => host::Addss::run(hm, x, y, 0),
        (Elem::Sub, false) => host::Subss::run(hm, x, y, 0),
        (Elem::Mul, false) => host::Mulss::run(hm, x, y, 0),
        (Elem::Div, false) => host::Divss::run(hm, x, y, 0),
        (Elem::Add, true) => host::Addsd::run(hm, x, y, 0),
        (Elem::Sub, true) => host::Subsd::run(hm, x, y, 0),
        (Elem::Mul, true) => host::Mulsd::run(hm, x, y, 0),
        (Elem::Div, true) => host::Divsd::run(hm, x, y, 0),
        (Elem::Narrow, _) => host::Cvtsd2ss::run(hm, 0, y, 0),
    };
    let f = o.flags;
    let single_result = !l.double || l.op == Elem::Narrow;
    // A nonzero denormal result with no PE is an exact tiny result.
    let denormal = if single_result {
        let r = o.v as u32;
        r & 0x7f80_0000 == 0 && r & 0x007f_ffff != 0
    } else {
        let r = o.v as u64;
        r & 0x7ff0_0000_0000_0000 == 0 && r & 0x000f_ffff_ffff_ffff != 0
    };
    let overflow = f & MXCSR_OE != 0 && unmasked & MXCSR_OE != 0;
    let tiny = (f & MXCSR_UE != 0 || (f & MXCSR_PE == 0 && denormal)) && unmasked & MXCSR_UE != 0;
    if !overflow && !tiny {
        return f;
    }
    let pe = if inexact_unbounded(l, mxcsr & MXCSR_DAZ != 0) { MXCSR_PE } else { 0 };
    (f & MXCSR_DE) | if overflow { MXCSR_OE } else { MXCSR_UE } | pe
}

/// Whether the element's exact result needs more significand bits than its format
/// has (24 or 53), whatever its exponent: the x87 soft float with precision control
/// rounds the significand only, with a 15-bit exponent (SDM Vol. 1 §8.1.5.2).
fn inexact_unbounded(l: Lane, daz: bool) -> bool {
    let single_result = !l.double || l.op == Elem::Narrow;
    // Control word: all masked; PC 0 = 24 bits, 2 = 53 bits.
    let pc: u16 = if single_result { 0 } else { 2 };
    let mut env = Env::new(0x3f | (pc << 8));
    let load = |env: &mut Env, v: u64| -> F80 {
        let x = if l.double { float80::from_f64(env, v) } else { float80::from_f32(env, v as u32) };
        let denormal = if l.double {
            v & 0x7ff0_0000_0000_0000 == 0 && v << 1 != 0
        } else {
            v & 0x7f80_0000 == 0 && (v as u32) << 1 != 0
        };
        if daz && denormal {
            F80::zero(x.sign())
        } else {
            x
        }
    };
    let (x, y) = (load(&mut env, l.x), load(&mut env, l.y));
    match l.op {
        Elem::Add => float80::add(&mut env, x, y, false),
        Elem::Sub => float80::add(&mut env, x, y, true),
        Elem::Mul => float80::mul(&mut env, x, y),
        Elem::Div => float80::div(&mut env, x, y),
        Elem::Narrow if y.sig != 0 && y.exp() != 0x7fff => float80::round_unp(&mut env, Unp::of(y), 24),
        Elem::Narrow => y,
    };
    env.flags & float80::PE != 0
}

/// An XMM-to-XMM instruction run as its host instruction `H`: `op` and `SH` say how
/// its elements overflow or underflow (`shape::NONE`: they cannot).
pub(super) fn arith<H: HostOp, const OP: u8, const SH: u8>(cpu: &mut Cpu, u: &Uop) -> R {
    cpu.sse_enter()?;
    let b = cpu.xmm_operand(u, 1)?;
    let a = cpu.xmm(u.r0);
    let o = H::run(host_mxcsr(cpu.fpu.mxcsr), a, b, 0);
    signal_ou(cpu, o.flags, elem(OP), SH, a, b)?;
    cpu.set_xmm(u.r0, o.v);
    Ok(())
}

/// [`Elem`] as a const generic (0 add, 1 sub, 2 mul, 3 div, 4 narrow).
pub(super) const fn elem(op: u8) -> Elem {
    match op {
        0 => Elem::Add,
        1 => Elem::Sub,
        2 => Elem::Mul,
        3 => Elem::Div,
        _ => Elem::Narrow,
    }
}

pub(super) const ADD: u8 = 0;
pub(super) const SUB: u8 = 1;
pub(super) const MUL: u8 = 2;
pub(super) const DIV: u8 = 3;
pub(super) const NARROW: u8 = 4;

/// CMPccPS/SS/PD/SD: the predicate is imm8 bits 0–2 (SDM Vol. 2 CMPPS, Table 3-7).
fn cmp<H: HostCmp>(cpu: &mut Cpu, u: &Uop) -> R {
    cpu.sse_enter()?;
    let b = cpu.xmm_operand(u, 1)?;
    let a = cpu.xmm(u.r0);
    let o = H::run(u.imm as u8, host_mxcsr(cpu.fpu.mxcsr), a, b);
    signal(cpu, o.flags)?;
    cpu.set_xmm(u.r0, o.v);
    Ok(())
}

/// COMISS/UCOMISS/COMISD/UCOMISD: ZF, PF, CF from the compare, OF, SF, AF cleared
/// (SDM Vol. 2 COMISS); with #XM EFLAGS are unchanged.
fn comi<H: HostOp>(cpu: &mut Cpu, u: &Uop) -> R {
    cpu.sse_enter()?;
    let b = cpu.xmm_operand(u, 1)?;
    let a = cpu.xmm(u.r0);
    let o = H::run(host_mxcsr(cpu.fpu.mxcsr), a, b, 0);
    signal(cpu, o.flags)?;
    let (zf, pf, cf) = (o.g & 0xff != 0, o.g & 0xff00 != 0, o.g & 0xff_0000 != 0);
    cpu.flags.set_arith(cf, pf, false, zf, false, false);
    Ok(())
}

pub(crate) fn register(t: &mut Table) {
    use shape::{ADDSUB_PD, ADDSUB_PS, H_PD, H_PS, NONE, PD, PS, SD, SS};
    handlers!(t, arith::<host::Addps, ADD, PS> => Addps_xmm_xmmm128);
    handlers!(t, arith::<host::Addss, ADD, SS> => Addss_xmm_xmmm32);
    handlers!(t, arith::<host::Addpd, ADD, PD> => Addpd_xmm_xmmm128);
    handlers!(t, arith::<host::Addsd, ADD, SD> => Addsd_xmm_xmmm64);
    handlers!(t, arith::<host::Subps, SUB, PS> => Subps_xmm_xmmm128);
    handlers!(t, arith::<host::Subss, SUB, SS> => Subss_xmm_xmmm32);
    handlers!(t, arith::<host::Subpd, SUB, PD> => Subpd_xmm_xmmm128);
    handlers!(t, arith::<host::Subsd, SUB, SD> => Subsd_xmm_xmmm64);
    handlers!(t, arith::<host::Mulps, MUL, PS> => Mulps_xmm_xmmm128);
    handlers!(t, arith::<host::Mulss, MUL, SS> => Mulss_xmm_xmmm32);
    handlers!(t, arith::<host::Mulpd, MUL, PD> => Mulpd_xmm_xmmm128);
    handlers!(t, arith::<host::Mulsd, MUL, SD> => Mulsd_xmm_xmmm64);
    handlers!(t, arith::<host::Divps, DIV, PS> => Divps_xmm_xmmm128);
    handlers!(t, arith::<host::Divss, DIV, SS> => Divss_xmm_xmmm32);
    handlers!(t, arith::<host::Divpd, DIV, PD> => Divpd_xmm_xmmm128);
    handlers!(t, arith::<host::Divsd, DIV, SD> => Divsd_xmm_xmmm64);
    handlers!(t, arith::<host::Minps, ADD, NONE> => Minps_xmm_xmmm128);
    handlers!(t, arith::<host::Minss, ADD, NONE> => Minss_xmm_xmmm32);
    handlers!(t, arith::<host::Minpd, ADD, NONE> => Minpd_xmm_xmmm128);
    handlers!(t, arith::<host::Minsd, ADD, NONE> => Minsd_xmm_xmmm64);
    handlers!(t, arith::<host::Maxps, ADD, NONE> => Maxps_xmm_xmmm128);
    handlers!(t, arith::<host::Maxss, ADD, NONE> => Maxss_xmm_xmmm32);
    handlers!(t, arith::<host::Maxpd, ADD, NONE> => Maxpd_xmm_xmmm128);
    handlers!(t, arith::<host::Maxsd, ADD, NONE> => Maxsd_xmm_xmmm64);
    handlers!(t, arith::<host::Sqrtps, ADD, NONE> => Sqrtps_xmm_xmmm128);
    handlers!(t, arith::<host::Sqrtss, ADD, NONE> => Sqrtss_xmm_xmmm32);
    handlers!(t, arith::<host::Sqrtpd, ADD, NONE> => Sqrtpd_xmm_xmmm128);
    handlers!(t, arith::<host::Sqrtsd, ADD, NONE> => Sqrtsd_xmm_xmmm64);
    handlers!(t, arith::<host::Rcpps, ADD, NONE> => Rcpps_xmm_xmmm128);
    handlers!(t, arith::<host::Rcpss, ADD, NONE> => Rcpss_xmm_xmmm32);
    handlers!(t, arith::<host::Rsqrtps, ADD, NONE> => Rsqrtps_xmm_xmmm128);
    handlers!(t, arith::<host::Rsqrtss, ADD, NONE> => Rsqrtss_xmm_xmmm32);
    handlers!(t, arith::<host::Addsubps, ADD, ADDSUB_PS> => Addsubps_xmm_xmmm128);
    handlers!(t, arith::<host::Addsubpd, ADD, ADDSUB_PD> => Addsubpd_xmm_xmmm128);
    handlers!(t, arith::<host::Haddps, ADD, H_PS> => Haddps_xmm_xmmm128);
    handlers!(t, arith::<host::Haddpd, ADD, H_PD> => Haddpd_xmm_xmmm128);
    handlers!(t, arith::<host::Hsubps, SUB, H_PS> => Hsubps_xmm_xmmm128);
    handlers!(t, arith::<host::Hsubpd, SUB, H_PD> => Hsubpd_xmm_xmmm128);
    handlers!(t, cmp::<host::Cmpps> => Cmpps_xmm_xmmm128_imm8);
    handlers!(t, cmp::<host::Cmpss> => Cmpss_xmm_xmmm32_imm8);
    handlers!(t, cmp::<host::Cmppd> => Cmppd_xmm_xmmm128_imm8);
    handlers!(t, cmp::<host::Cmpsd> => Cmpsd_xmm_xmmm64_imm8);
    handlers!(t, comi::<host::Comiss> => Comiss_xmm_xmmm32);
    handlers!(t, comi::<host::Ucomiss> => Ucomiss_xmm_xmmm32);
    handlers!(t, comi::<host::Comisd> => Comisd_xmm_xmmm64);
    handlers!(t, comi::<host::Ucomisd> => Ucomisd_xmm_xmmm64);
}
