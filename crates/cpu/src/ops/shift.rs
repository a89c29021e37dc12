//! Shifts and rotates: SHL/SAL SHR SAR ROL ROR RCL RCR (by 1, CL, imm8) and the
//! double-precision SHLD SHRD (imm8, CL).
//!
//! SDM Vol. 2 "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR", "SHLD", "SHRD":
//! * the count is masked to 5 bits; a masked count of 0 changes no flag and no data;
//! * RCL/RCR of 8- and 16-bit operands rotate through CF modulo 9 and 17, ROL/ROR
//!   modulo the width; CF is still written when that remainder is 0;
//! * OF is defined only for a masked count of 1; AF is undefined after a shift with a
//!   non-zero count; CF is undefined after SHL/SHR by at least the width; SHLD/SHRD
//!   of a 16-bit operand by more than 16 leaves result and flags undefined.
//!
//! Where the SDM leaves something undefined we do what the AMD EPYC the tests run on
//! does (crates/cpu/tests/alu_vs_host.rs compares every count 0..=40):
//! * OF is the count-1 formula applied to the last single-bit step, for every count;
//! * SHL/SHR/SAR/SHLD/SHRD set AF to 1;
//! * SHL/SHR by at least the width shift zeros out: result 0, CF 0 once every bit
//!   is gone;
//! * 16-bit SHLD/SHRD by 17..31 behave as a funnel over dest:src:src, i.e. the result
//!   is the source rotated by count-16, with CF = 0 and OF from the dest bits alone.

use crate::uop::Uop;

use crate::exception::Exception;
use crate::handlers;
use crate::operand::Int;
use crate::state::ECX;
use crate::table::Handler;
use crate::table::Table;
use crate::Cpu;
use iced_x86::OpKind;

/// Operand forms of [`shift_rmw`].
const ANY: u8 = 0;
const R_IMM: u8 = 1;
const R_CL: u8 = 2;
const FORM: u8 = 3;
/// Added to a register form: the flags are dead (`crate::liveness`), not computed.
const NO_FLAGS: u8 = 4;

/// What a shift or rotate produced, before it is written back.
struct Out {
    res: u32,
    cf: bool,
    of: bool,
}

/// Which flags an operation writes besides CF and OF.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// ROL/ROR/RCL/RCR: "The SF, ZF, AF, and PF flags are always unaffected."
    Rotate,
    /// Shifts: SF, ZF, PF from the result; AF set (undefined in the SDM, see above).
    Shift,
}

#[inline(always)]
fn msb<T: Int>(v: u32) -> bool {
    v & T::SIGN != 0
}

/// Read-modify-write skeleton shared by every shift and rotate. `count_op` is the
/// operand holding the count (CL or an immediate; iced gives the D0-D3 "by 1" forms
/// an immediate 1). The destination is located with write intent before anything is
/// computed, even for a zero count: the access is a read-modify-write whatever the
/// count, and the host faults on a read-only destination with a zero count too.
///
/// `F` is the operand form the handler was chosen for: [`ANY`], or a register
/// destination shifted by an immediate ([`R_IMM`]) or by CL ([`R_CL`]), which need
/// no operand decoding at all.
#[inline(always)]
fn shift_rmw<T: Int, const F: u8>(
    cpu: &mut Cpu,
    insn: &Uop,
    count_op: u32,
    kind: Kind,
    f: impl FnOnce(u32, u32, bool) -> Out,
) -> Result<(), Exception> {
    // `loc` is None for the register forms, whose destination is `insn.r0`.
    let (count, loc) = match F & FORM {
        R_IMM => (insn.imm & 0x1f, None),
        R_CL => (cpu.regs[ECX] & 0x1f, None),
        _ => {
            let count = cpu.read_op::<u8>(insn, count_op)?.u32() & 0x1f;
            (count, Some(cpu.loc::<T>(insn, 0, true)?))
        }
    };
    let a = match loc {
        None => T::gpr(cpu, insn.r0).u32(),
        Some(l) => cpu.read_loc::<T>(l)?.u32(),
    };
    if count == 0 {
        return Ok(());
    }
    let o = f(a, count, cpu.flags.cf());
    let r = T::from_u32(o.res);
    match loc {
        None => T::set_gpr(cpu, insn.r0, r),
        Some(l) => cpu.write_loc(l, r)?,
    }
    if F & NO_FLAGS != 0 {
        return Ok(());
    }
    match kind {
        Kind::Rotate => cpu.flags.set_cf_of(o.cf, o.of),
        Kind::Shift => cpu.flags.shift(r, o.cf, o.of),
    }
    Ok(())
}

/// SHL/SAL: CF is the last bit shifted out (0 once the count exceeds the width);
/// OF = MSB(result) XOR CF, the SDM's count-1 rule, which the host applies to every
/// count.
pub fn shl<T: Int, const F: u8>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    shift_rmw::<T, F>(cpu, insn, 1, Kind::Shift, |a, c, _| {
        let wide = u64::from(a) << c;
        let res = wide as u32 & T::MASK;
        let cf = (wide >> T::BITS) & 1 != 0;
        Out { res, cf, of: msb::<T>(res) != cf }
    })
}

/// SHR: CF is the last bit shifted out. OF is the MSB of the value entering the last
/// single-bit step: the original MSB for a count of 1 (SDM), 0 for larger counts.
pub fn shr<T: Int, const F: u8>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    shift_rmw::<T, F>(cpu, insn, 1, Kind::Shift, |a, c, _| {
        let before_last = a >> (c - 1);
        Out { res: before_last >> 1, cf: before_last & 1 != 0, of: msb::<T>(before_last) }
    })
}

/// SAR: the sign fills in; CF is the last bit shifted out (the sign bit once the count
/// reaches the width); OF is cleared (SDM for count 1; the host does so for all).
pub fn sar<T: Int, const F: u8>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    shift_rmw::<T, F>(cpu, insn, 1, Kind::Shift, |a, c, _| {
        let before_last = (T::from_u32(a).sx() as i32) >> (c - 1);
        Out { res: (before_last >> 1) as u32 & T::MASK, cf: before_last & 1 != 0, of: false }
    })
}

/// ROL: rotate by count mod width; CF = LSB(result), OF = MSB(result) XOR CF.
pub fn rol<T: Int, const F: u8>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    shift_rmw::<T, F>(cpu, insn, 1, Kind::Rotate, |a, c, _| {
        let n = c % T::BITS;
        let v = u64::from(a);
        let res = ((v << n) | (v >> (T::BITS - n))) as u32 & T::MASK;
        let cf = res & 1 != 0;
        Out { res, cf, of: msb::<T>(res) != cf }
    })
}

/// ROR: rotate by count mod width; CF = MSB(result), OF = XOR of the two most
/// significant result bits.
pub fn ror<T: Int, const F: u8>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    shift_rmw::<T, F>(cpu, insn, 1, Kind::Rotate, |a, c, _| {
        let n = c % T::BITS;
        let v = u64::from(a);
        let res = ((v >> n) | (v << (T::BITS - n))) as u32 & T::MASK;
        Out { res, cf: msb::<T>(res), of: msb::<T>(res) != msb::<T>(res << 1) }
    })
}

/// RCL: rotate the (width+1)-bit value CF:dest left by count mod (width+1); OF =
/// MSB(result) XOR new CF.
pub fn rcl<T: Int, const F: u8>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    shift_rmw::<T, F>(cpu, insn, 1, Kind::Rotate, |a, c, cf_in| {
        let w = T::BITS + 1;
        let n = c % w;
        let v = u64::from(cf_in) << T::BITS | u64::from(a);
        let rot = ((v << n) | (v >> (w - n))) & ((1u64 << w) - 1);
        let res = rot as u32 & T::MASK;
        let cf = rot >> T::BITS != 0;
        Out { res, cf, of: msb::<T>(res) != cf }
    })
}

/// RCR: rotate CF:dest right by count mod (width+1). OF = XOR of the two most
/// significant result bits, which for a count of 1 is the SDM's MSB(dest) XOR old CF.
pub fn rcr<T: Int, const F: u8>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    shift_rmw::<T, F>(cpu, insn, 1, Kind::Rotate, |a, c, cf_in| {
        let w = T::BITS + 1;
        let n = c % w;
        let v = u64::from(cf_in) << T::BITS | u64::from(a);
        let rot = ((v >> n) | (v << (w - n))) & ((1u64 << w) - 1);
        let res = rot as u32 & T::MASK;
        Out { res, cf: rot >> T::BITS != 0, of: msb::<T>(res) != msb::<T>(res << 1) }
    })
}

/// SHLD dest, src, count: dest shifted left with src's high bits filling in. CF is the
/// last bit shifted out of dest; OF = CF XOR MSB(dest << count), i.e. the count-1 sign
/// change rule on the last step for in-range counts. 16-bit counts of 17..31: see the
/// module comment.
pub fn shld<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let src = cpu.read_op::<T>(insn, 1)?.u32();
    shift_rmw::<T, ANY>(cpu, insn, 2, Kind::Shift, |a, c, _| {
        let (res, cf) = if c <= T::BITS {
            let res = (u64::from(a) << c | u64::from(src) >> (T::BITS - c)) as u32 & T::MASK;
            (res, (a >> (T::BITS - c)) & 1 != 0)
        } else {
            let n = c - T::BITS;
            let s = u64::from(src);
            (((s << n) | (s >> (T::BITS - n))) as u32 & T::MASK, false)
        };
        let dest_alone = (u64::from(a) << c) as u32;
        Out { res, cf, of: cf != msb::<T>(dest_alone) }
    })
}

/// SHRD dest, src, count: dest shifted right with src's low bits filling in. CF is the
/// last bit shifted out of dest; OF = XOR of the two most significant result bits
/// (the sign change of the last step). 16-bit counts of 17..31: see the module comment.
pub fn shrd<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let src = cpu.read_op::<T>(insn, 1)?.u32();
    shift_rmw::<T, ANY>(cpu, insn, 2, Kind::Shift, |a, c, _| {
        let (res, cf) = if c <= T::BITS {
            let before_last = (u64::from(src) << T::BITS | u64::from(a)) >> (c - 1);
            ((before_last >> 1) as u32 & T::MASK, before_last & 1 != 0)
        } else {
            let n = c - T::BITS;
            let s = u64::from(src);
            (((s >> n) | (s << (T::BITS - n))) as u32 & T::MASK, false)
        };
        Out { res, cf, of: msb::<T>(res) != msb::<T>(res << 1) }
    })
}

/// The register-destination forms of a shift or rotate (other forms keep the
/// any-form handler).
fn shift_form(u: &Uop, by_imm: Handler, by_cl: Handler) -> Option<Handler> {
    if u.op0_kind() != OpKind::Register {
        return None;
    }
    match u.op1_kind() {
        OpKind::Register => Some(by_cl),
        OpKind::Immediate8 => Some(by_imm),
        _ => None,
    }
}

/// The register form of SHL, SHR or SAR `u` that computes no flags, for
/// `crate::liveness`.
pub(crate) fn without_flags(u: &Uop) -> Option<Handler> {
    use iced_x86::Mnemonic as M;
    macro_rules! pick {
        ($op:ident) => {
            match (u.regs[0].size(), u.op1_kind()) {
                (1, OpKind::Immediate8) => Some($op::<u8, { R_IMM | NO_FLAGS }> as Handler),
                (2, OpKind::Immediate8) => Some($op::<u16, { R_IMM | NO_FLAGS }>),
                (4, OpKind::Immediate8) => Some($op::<u32, { R_IMM | NO_FLAGS }>),
                (1, OpKind::Register) => Some($op::<u8, { R_CL | NO_FLAGS }>),
                (2, OpKind::Register) => Some($op::<u16, { R_CL | NO_FLAGS }>),
                (4, OpKind::Register) => Some($op::<u32, { R_CL | NO_FLAGS }>),
                _ => None,
            }
        };
    }
    if u.op0_kind() != OpKind::Register {
        return None;
    }
    match u.mnemonic() {
        M::Shl | M::Sal => pick!(shl),
        M::Shr => pick!(shr),
        M::Sar => pick!(sar),
        _ => None,
    }
}

macro_rules! shift_forms {
    ($t:expr, $op:ident, $ty:ty => $($code:ident),+) => {
        $crate::forms!($t, $op::<$ty, ANY>, |u: &Uop| shift_form(u, $op::<$ty, R_IMM>, $op::<$ty, R_CL>) => $($code),+);
    };
}

pub(crate) fn register(t: &mut Table) {
    // C0/C1 /6 and D0-D3 /6 are the SAL encodings, identical to /4 on every x86.
    shift_forms!(t, shl, u8 => Shl_rm8_1, Shl_rm8_CL, Shl_rm8_imm8, Sal_rm8_1, Sal_rm8_CL, Sal_rm8_imm8);
    shift_forms!(t, shl, u16 => Shl_rm16_1, Shl_rm16_CL, Shl_rm16_imm8, Sal_rm16_1, Sal_rm16_CL, Sal_rm16_imm8);
    shift_forms!(t, shl, u32 => Shl_rm32_1, Shl_rm32_CL, Shl_rm32_imm8, Sal_rm32_1, Sal_rm32_CL, Sal_rm32_imm8);
    shift_forms!(t, shr, u8 => Shr_rm8_1, Shr_rm8_CL, Shr_rm8_imm8);
    shift_forms!(t, shr, u16 => Shr_rm16_1, Shr_rm16_CL, Shr_rm16_imm8);
    shift_forms!(t, shr, u32 => Shr_rm32_1, Shr_rm32_CL, Shr_rm32_imm8);
    shift_forms!(t, sar, u8 => Sar_rm8_1, Sar_rm8_CL, Sar_rm8_imm8);
    shift_forms!(t, sar, u16 => Sar_rm16_1, Sar_rm16_CL, Sar_rm16_imm8);
    shift_forms!(t, sar, u32 => Sar_rm32_1, Sar_rm32_CL, Sar_rm32_imm8);

    shift_forms!(t, rol, u8 => Rol_rm8_1, Rol_rm8_CL, Rol_rm8_imm8);
    shift_forms!(t, rol, u16 => Rol_rm16_1, Rol_rm16_CL, Rol_rm16_imm8);
    shift_forms!(t, rol, u32 => Rol_rm32_1, Rol_rm32_CL, Rol_rm32_imm8);
    shift_forms!(t, ror, u8 => Ror_rm8_1, Ror_rm8_CL, Ror_rm8_imm8);
    shift_forms!(t, ror, u16 => Ror_rm16_1, Ror_rm16_CL, Ror_rm16_imm8);
    shift_forms!(t, ror, u32 => Ror_rm32_1, Ror_rm32_CL, Ror_rm32_imm8);
    shift_forms!(t, rcl, u8 => Rcl_rm8_1, Rcl_rm8_CL, Rcl_rm8_imm8);
    shift_forms!(t, rcl, u16 => Rcl_rm16_1, Rcl_rm16_CL, Rcl_rm16_imm8);
    shift_forms!(t, rcl, u32 => Rcl_rm32_1, Rcl_rm32_CL, Rcl_rm32_imm8);
    shift_forms!(t, rcr, u8 => Rcr_rm8_1, Rcr_rm8_CL, Rcr_rm8_imm8);
    shift_forms!(t, rcr, u16 => Rcr_rm16_1, Rcr_rm16_CL, Rcr_rm16_imm8);
    shift_forms!(t, rcr, u32 => Rcr_rm32_1, Rcr_rm32_CL, Rcr_rm32_imm8);

    handlers!(t, shld::<u16> => Shld_rm16_r16_imm8, Shld_rm16_r16_CL);
    handlers!(t, shld::<u32> => Shld_rm32_r32_imm8, Shld_rm32_r32_CL);
    handlers!(t, shrd::<u16> => Shrd_rm16_r16_imm8, Shrd_rm16_r16_CL);
    handlers!(t, shrd::<u32> => Shrd_rm32_r32_imm8, Shrd_rm32_r32_CL);
}
