//! The SSE and SSE2 conversions between single, double and 32-bit integers, in XMM,
//! MMX and general registers. Like the arithmetic they run as the host's own
//! instructions under the guest's MXCSR (see `float` for why, and for #XM).
//!
//! The forms with an MMX operand are run on the host as their XMM twins on the
//! low 64 bits (CVTPI2PS as CVTDQ2PS, CVTPS2PI as CVTPS2DQ, ...), the other lanes
//! zero so they raise nothing: the conversion and its flags are the same, and the
//! host's own x87/MMX state is never touched.

use crate::exception::Exception;
use crate::handlers;
use crate::state::Cpu;
use crate::table::Table;
use crate::uop::Uop;
use iced_x86::OpKind;

use super::float::{arith, host_mxcsr, shape, signal, ADD, NARROW};
use super::host::{self, HostOp};

type R = Result<(), Exception>;

const LOW64: u128 = u64::MAX as u128;

/// The checks an instruction with an MMX operand makes before it reads memory: those
/// of SSE, and #MF with an x87 exception pending (SDM Vol. 2 CVTPS2PI, "Protected
/// Mode Exceptions"). The x87-to-MMX transition itself ([`Cpu::mmx_transition`]) comes
/// once the operands are read: it happens even when the conversion then raises #XM
/// (measured: the #XM frame shows TOP 0 and every register valid).
fn mmx_checks(cpu: &Cpu) -> R {
    cpu.sse_enter()?;
    if cpu.fpu.pending() {
        return Err(Exception::FloatingPoint);
    }
    Ok(())
}

/// CVTSI2SS/CVTSI2SD xmm, r/m32: the rest of the destination is kept.
fn from_int<H: HostOp>(cpu: &mut Cpu, u: &Uop) -> R {
    cpu.sse_enter()?;
    let v = match u.op_kind(1) {
        OpKind::Memory => cpu.read_vec_operand(u)? as u32,
        _ => cpu.regs[usize::from(u.r1)],
    };
    let o = H::run(host_mxcsr(cpu.fpu.mxcsr), cpu.xmm(u.r0), 0, v);
    signal(cpu, o.flags)?;
    cpu.set_xmm(u.r0, o.v);
    Ok(())
}

/// CVTSS2SI, CVTTSS2SI, CVTSD2SI, CVTTSD2SI r32, xmm/m: the integer indefinite
/// 0x80000000 on NaN or overflow (masked IE).
fn to_int<H: HostOp>(cpu: &mut Cpu, u: &Uop) -> R {
    cpu.sse_enter()?;
    let b = cpu.xmm_operand(u, 1)?;
    let o = H::run(host_mxcsr(cpu.fpu.mxcsr), 0, b, 0);
    signal(cpu, o.flags)?;
    cpu.regs[usize::from(u.r0)] = o.g;
    Ok(())
}

/// The mm/m64 source of CVTPI2PS and CVTPI2PD. Only the register form makes the
/// MMX transition (measured: from memory, TOP and the tags stay as they were).
fn pi_source(cpu: &mut Cpu, u: &Uop) -> Result<u64, Exception> {
    match u.op_kind(1) {
        OpKind::Memory => {
            cpu.sse_enter()?;
            Ok(cpu.read_vec_operand(u)? as u64)
        }
        _ => {
            mmx_checks(cpu)?;
            cpu.mmx_transition();
            Ok(cpu.mm(u.r1))
        }
    }
}

/// CVTPI2PS xmm, mm/m64: the high quadword of the destination is kept.
fn cvtpi2ps(cpu: &mut Cpu, u: &Uop) -> R {
    let src = pi_source(cpu, u)?;
    let o = host::Cvtdq2ps::run(host_mxcsr(cpu.fpu.mxcsr), 0, u128::from(src), 0);
    signal(cpu, o.flags)?;
    let d = cpu.xmm(u.r0);
    cpu.set_xmm(u.r0, (d & !LOW64) | (o.v & LOW64));
    Ok(())
}

/// CVTPI2PD xmm, mm/m64: exact, no flags; the MMX transition as for CVTPI2PS.
fn cvtpi2pd(cpu: &mut Cpu, u: &Uop) -> R {
    let src = pi_source(cpu, u)?;
    let lo = f64::from(src as u32 as i32).to_bits();
    let hi = f64::from((src >> 32) as u32 as i32).to_bits();
    cpu.set_xmm(u.r0, (u128::from(hi) << 64) | u128::from(lo));
    Ok(())
}

/// CVTPS2PI, CVTTPS2PI (xmm/m64 source) and CVTPD2PI, CVTTPD2PI (xmm/m128) into an
/// MMX register, run as the XMM twin `H` on the source's low 64 bits (singles) or
/// all of it (doubles).
fn to_mm<H: HostOp, const SRC_MASK: u128>(cpu: &mut Cpu, u: &Uop) -> R {
    mmx_checks(cpu)?;
    let b = cpu.xmm_operand(u, 1)? & SRC_MASK;
    cpu.mmx_transition();
    let o = H::run(host_mxcsr(cpu.fpu.mxcsr), 0, b, 0);
    signal(cpu, o.flags)?;
    cpu.set_mm(u.r0, o.v as u64);
    Ok(())
}

pub(crate) fn register(t: &mut Table) {
    use shape::{NONE, PD, SD};
    handlers!(t, arith::<host::Cvtps2pd, ADD, NONE> => Cvtps2pd_xmm_xmmm64);
    handlers!(t, arith::<host::Cvtpd2ps, NARROW, PD> => Cvtpd2ps_xmm_xmmm128);
    handlers!(t, arith::<host::Cvtss2sd, ADD, NONE> => Cvtss2sd_xmm_xmmm32);
    handlers!(t, arith::<host::Cvtsd2ss, NARROW, SD> => Cvtsd2ss_xmm_xmmm64);
    handlers!(t, arith::<host::Cvtdq2ps, ADD, NONE> => Cvtdq2ps_xmm_xmmm128);
    handlers!(t, arith::<host::Cvtps2dq, ADD, NONE> => Cvtps2dq_xmm_xmmm128);
    handlers!(t, arith::<host::Cvttps2dq, ADD, NONE> => Cvttps2dq_xmm_xmmm128);
    handlers!(t, arith::<host::Cvtdq2pd, ADD, NONE> => Cvtdq2pd_xmm_xmmm64);
    handlers!(t, arith::<host::Cvtpd2dq, ADD, NONE> => Cvtpd2dq_xmm_xmmm128);
    handlers!(t, arith::<host::Cvttpd2dq, ADD, NONE> => Cvttpd2dq_xmm_xmmm128);
    handlers!(t, from_int::<host::Cvtsi2ss> => Cvtsi2ss_xmm_rm32);
    handlers!(t, from_int::<host::Cvtsi2sd> => Cvtsi2sd_xmm_rm32);
    handlers!(t, to_int::<host::Cvtss2si> => Cvtss2si_r32_xmmm32);
    handlers!(t, to_int::<host::Cvttss2si> => Cvttss2si_r32_xmmm32);
    handlers!(t, to_int::<host::Cvtsd2si> => Cvtsd2si_r32_xmmm64);
    handlers!(t, to_int::<host::Cvttsd2si> => Cvttsd2si_r32_xmmm64);
    handlers!(t, cvtpi2ps => Cvtpi2ps_xmm_mmm64);
    handlers!(t, cvtpi2pd => Cvtpi2pd_xmm_mmm64);
    handlers!(t, to_mm::<host::Cvtps2dq, LOW64> => Cvtps2pi_mm_xmmm64);
    handlers!(t, to_mm::<host::Cvttps2dq, LOW64> => Cvttps2pi_mm_xmmm64);
    handlers!(t, to_mm::<host::Cvtpd2dq, { u128::MAX }> => Cvtpd2pi_mm_xmmm128);
    handlers!(t, to_mm::<host::Cvttpd2dq, { u128::MAX }> => Cvttpd2pi_mm_xmmm128);
}
