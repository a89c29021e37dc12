//! Multiply and divide: MUL, IMUL (one-, two- and three-operand), DIV, IDIV.
//!
//! SDM Vol. 2 "MUL"/"IMUL": CF and OF say whether the significant part of the product
//! overflowed the low half (or the destination); SF, ZF, AF and PF are undefined. The
//! AMD EPYC the tests compare against leaves those four unchanged, and so do we.
//!
//! SDM Vol. 2 "DIV"/"IDIV": #DE when the divisor is 0 or the quotient does not fit;
//! all six flags are undefined. The host keeps CF and OF, sets AF and clears SF, ZF
//! and PF, and so do we. A #DE is raised before anything is written, so registers and
//! flags are unchanged and EIP stays at the instruction (a fault, SDM Vol. 3A §6.15).

use crate::uop::Uop;

use crate::exception::Exception;
use crate::operand::Int;
use crate::table::Handler;
use crate::table::Table;
use crate::{forms, handlers};
use crate::{Cpu, EAX, EDX};

/// The implicit accumulator: AL, AX or EAX.
#[inline(always)]
fn acc<T: Int>(cpu: &Cpu) -> u32 {
    cpu.regs[EAX] & T::MASK
}

/// The implicit double-width operand: AX, DX:AX or EDX:EAX.
#[inline(always)]
fn wide<T: Int>(cpu: &Cpu) -> u64 {
    match T::BITS {
        8 => u64::from(cpu.regs[EAX] & 0xffff),
        16 => u64::from((cpu.regs[EDX] & 0xffff) << 16 | (cpu.regs[EAX] & 0xffff)),
        _ => u64::from(cpu.regs[EDX]) << 32 | u64::from(cpu.regs[EAX]),
    }
}

/// Stores a double-width result: `lo` to AL/AX/EAX, `hi` to AH/DX/EDX.
#[inline(always)]
fn set_wide<T: Int>(cpu: &mut Cpu, lo: u32, hi: u32) {
    if T::BITS == 8 {
        cpu.regs[EAX] = cpu.regs[EAX] & !0xffff | hi << 8 | lo;
    } else {
        cpu.regs[EAX] = cpu.regs[EAX] & !T::MASK | lo;
        cpu.regs[EDX] = cpu.regs[EDX] & !T::MASK | hi;
    }
}

/// Sign-extends the low `bits` bits of `v` (bits ≤ 64).
#[inline(always)]
fn sx64(v: u64, bits: u32) -> i64 {
    let sh = 64 - bits;
    ((v << sh) as i64) >> sh
}

/// MUL r/m: AX := AL*src, DX:AX := AX*src, EDX:EAX := EAX*src (unsigned). CF = OF =
/// (upper half ≠ 0).
pub fn mul<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let b = cpu.read_op::<T>(insn, 0)?.u32();
    let p = u64::from(acc::<T>(cpu)) * u64::from(b);
    let lo = p as u32 & T::MASK;
    let hi = (p >> T::BITS) as u32 & T::MASK;
    set_wide::<T>(cpu, lo, hi);
    cpu.flags.set_cf_of(hi != 0, hi != 0);
    Ok(())
}

/// One-operand IMUL r/m: the signed double-width product. CF = OF = (the upper half is
/// not just the sign extension of the lower half).
pub fn imul1<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let b = cpu.read_op::<T>(insn, 0)?;
    let a = T::from_u32(acc::<T>(cpu));
    let p = i64::from(a.sx() as i32) * i64::from(b.sx() as i32);
    let lo = p as u32 & T::MASK;
    let hi = (p >> T::BITS) as u32 & T::MASK;
    let ovf = i64::from(T::from_u32(lo).sx() as i32) != p;
    set_wide::<T>(cpu, lo, hi);
    cpu.flags.set_cf_of(ovf, ovf);
    Ok(())
}

/// Two-operand IMUL r, r/m (0F AF) and three-operand IMUL r, r/m, imm (69, 6B): the
/// signed product truncated to the destination; CF = OF = (truncation lost
/// significant bits).
pub fn imul_trunc<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let (x, y) = if insn.op_count() == 3 {
        (cpu.read_op::<T>(insn, 1)?, cpu.read_op::<T>(insn, 2)?)
    } else {
        (cpu.read_op::<T>(insn, 0)?, cpu.read_op::<T>(insn, 1)?)
    };
    imul_into::<T, true>(cpu, insn.r0, x, y);
    Ok(())
}

/// The truncated signed product of `x` and `y` into register `r0`, and CF and OF
/// unless `FLAGS` is false (no one sees them: `crate::liveness`).
#[inline(always)]
fn imul_into<T: Int, const FLAGS: bool>(cpu: &mut Cpu, r0: u8, x: T, y: T) {
    let p = i64::from(x.sx() as i32) * i64::from(y.sx() as i32);
    let r = T::from_u32(p as u32);
    T::set_gpr(cpu, r0, r);
    if FLAGS {
        let ovf = i64::from(r.sx() as i32) != p;
        cpu.flags.set_cf_of(ovf, ovf);
    }
}

/// IMUL r, r (0F AF).
fn imul_rr<T: Int, const FLAGS: bool>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    let (x, y) = (T::gpr(cpu, u.r0), T::gpr(cpu, u.r1));
    imul_into::<T, FLAGS>(cpu, u.r0, x, y);
    Ok(())
}

/// IMUL r, r, imm (69, 6B).
fn imul_rri<T: Int, const FLAGS: bool>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    let x = T::gpr(cpu, u.r1);
    imul_into::<T, FLAGS>(cpu, u.r0, x, T::from_u32(u.imm));
    Ok(())
}

/// IMUL r, m (0F AF), the load through the TLB inline.
fn imul_rm<T: Int, const EA: u8>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    let y = cpu.load::<T, EA>(u)?;
    let x = T::gpr(cpu, u.r0);
    imul_into::<T, true>(cpu, u.r0, x, y);
    Ok(())
}

/// IMUL r, m, imm (69, 6B), the load through the TLB inline.
fn imul_rmi<T: Int, const EA: u8>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    let x = cpu.load::<T, EA>(u)?;
    imul_into::<T, true>(cpu, u.r0, x, T::from_u32(u.imm));
    Ok(())
}

/// Form selector for two- and three-operand IMUL.
fn imul_form<T: Int>(u: &Uop) -> Option<Handler> {
    use iced_x86::OpKind as K;
    match (u.op_count, u.kinds[1]) {
        (2, K::Register) => Some(imul_rr::<T, true>),
        (2, K::Memory) => crate::by_ea!(u, imul_rm::<T>),
        (3, K::Register) => Some(imul_rri::<T, true>),
        (3, K::Memory) => crate::by_ea!(u, imul_rmi::<T>),
        _ => None,
    }
}

/// Flags after a DIV/IDIV that completed (see the module comment).
#[inline]
fn div_flags(cpu: &mut Cpu) {
    let (cf, of) = (cpu.flags.cf(), cpu.flags.of());
    cpu.flags.set_arith(cf, false, true, false, false, of);
}

/// DIV r/m: unsigned AX, DX:AX or EDX:EAX divided by the source; quotient to
/// AL/AX/EAX, remainder to AH/DX/EDX. #DE on a zero divisor or a quotient above the
/// operand width.
pub fn div<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let d = u64::from(cpu.read_op::<T>(insn, 0)?.u32());
    if d == 0 {
        return Err(Exception::DivideError);
    }
    let n = wide::<T>(cpu);
    let q = n / d;
    if q > u64::from(T::MASK) {
        return Err(Exception::DivideError);
    }
    set_wide::<T>(cpu, q as u32, (n % d) as u32);
    div_flags(cpu);
    Ok(())
}

/// IDIV r/m: signed division, quotient truncated toward zero, remainder with the
/// dividend's sign. #DE on a zero divisor or a quotient outside
/// [-2^(width-1), 2^(width-1) - 1] (the most negative quotient is allowed, SDM "IDIV"
/// Operation).
pub fn idiv<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let d = i64::from(cpu.read_op::<T>(insn, 0)?.sx() as i32);
    if d == 0 {
        return Err(Exception::DivideError);
    }
    let n = sx64(wide::<T>(cpu), 2 * T::BITS);
    // None only for i64::MIN / -1, whose quotient does not fit 32 bits either.
    let q = n.checked_div(d).ok_or(Exception::DivideError)?;
    let half = 1i64 << (T::BITS - 1);
    if q < -half || q >= half {
        return Err(Exception::DivideError);
    }
    let r = n - q * d;
    set_wide::<T>(cpu, q as u32 & T::MASK, r as u32 & T::MASK);
    div_flags(cpu);
    Ok(())
}

/// The register form of two- or three-operand IMUL `u` that computes no flags, for
/// `crate::liveness`.
pub(crate) fn imul_without_flags(u: &Uop) -> Option<Handler> {
    use iced_x86::OpKind as K;
    match (u.op_count, u.kinds[1], u.regs[0].size()) {
        (2, K::Register, 2) => Some(imul_rr::<u16, false>),
        (2, K::Register, 4) => Some(imul_rr::<u32, false>),
        (3, K::Register, 2) => Some(imul_rri::<u16, false>),
        (3, K::Register, 4) => Some(imul_rri::<u32, false>),
        _ => None,
    }
}

pub(crate) fn register(t: &mut Table) {
    handlers!(t, mul::<u8> => Mul_rm8);
    handlers!(t, mul::<u16> => Mul_rm16);
    handlers!(t, mul::<u32> => Mul_rm32);
    handlers!(t, imul1::<u8> => Imul_rm8);
    handlers!(t, imul1::<u16> => Imul_rm16);
    handlers!(t, imul1::<u32> => Imul_rm32);
    forms!(t, imul_trunc::<u16>, imul_form::<u16> => Imul_r16_rm16, Imul_r16_rm16_imm16, Imul_r16_rm16_imm8);
    forms!(t, imul_trunc::<u32>, imul_form::<u32> => Imul_r32_rm32, Imul_r32_rm32_imm32, Imul_r32_rm32_imm8);
    handlers!(t, div::<u8> => Div_rm8);
    handlers!(t, div::<u16> => Div_rm16);
    handlers!(t, div::<u32> => Div_rm32);
    handlers!(t, idiv::<u8> => Idiv_rm8);
    handlers!(t, idiv::<u16> => Idiv_rm16);
    handlers!(t, idiv::<u32> => Idiv_rm32);
}
