//! Integer add/subtract family: ADD ADC SUB SBB CMP INC DEC NEG.
//!
//! All of them define every one of the six arithmetic flags (SDM Vol. 2 "ADD", "ADC",
//! "SUB", "SBB", "CMP", "NEG": OF SF ZF AF CF PF set according to the result; "INC",
//! "DEC": the same except CF, which is not affected), so they go through the lazy
//! flag recorders in [`crate::flags`].
//!
//! Precise faults: the source is read first, then a read-modify-write destination is
//! located with write intent (see the operand forms in [`crate::operand`]), so a fault on either
//! leaves registers, memory and EFLAGS untouched. Flags are recorded only after the
//! write-back, which cannot fault once the location has been probed.

use crate::uop::Uop;

use crate::exception::Exception;
use crate::flags::Flags;
use crate::operand::{BinOp, Int};
use crate::table::Handler;
use crate::table::Table;
use crate::uop::Form;
use crate::Cpu;
use crate::{binops, forms};

/// ADD: dest := dest + src.
pub struct Add;
impl BinOp for Add {
    const WRITES: bool = true;
    #[inline(always)]
    fn apply<T: Int>(f: &mut Flags, a: T, b: T) -> T {
        let r = T::from_u32(a.u32().wrapping_add(b.u32()));
        f.add(a, b, r);
        r
    }
}

/// ADC: dest := dest + src + CF.
pub struct Adc;
impl BinOp for Adc {
    const WRITES: bool = true;
    #[inline(always)]
    fn apply<T: Int>(f: &mut Flags, a: T, b: T) -> T {
        let c = f.cf();
        let r = T::from_u32(a.u32().wrapping_add(b.u32()).wrapping_add(u32::from(c)));
        f.adc(a, b, r, c);
        r
    }
}

/// SUB: dest := dest - src.
pub struct Sub;
impl BinOp for Sub {
    const WRITES: bool = true;
    #[inline(always)]
    fn apply<T: Int>(f: &mut Flags, a: T, b: T) -> T {
        let r = T::from_u32(a.u32().wrapping_sub(b.u32()));
        f.sub(a, b, r);
        r
    }
}

/// SBB: dest := dest - (src + CF).
pub struct Sbb;
impl BinOp for Sbb {
    const WRITES: bool = true;
    #[inline(always)]
    fn apply<T: Int>(f: &mut Flags, a: T, b: T) -> T {
        let c = f.cf();
        let r = T::from_u32(a.u32().wrapping_sub(b.u32()).wrapping_sub(u32::from(c)));
        f.sbb(a, b, r, c);
        r
    }
}

/// CMP: the flags of dest - src; nothing is written, so the destination is only read
/// (a CMP against a read-only page does not fault).
pub struct Cmp;
impl BinOp for Cmp {
    const WRITES: bool = false;
    #[inline(always)]
    fn apply<T: Int>(f: &mut Flags, a: T, b: T) -> T {
        let r = T::from_u32(a.u32().wrapping_sub(b.u32()));
        f.sub(a, b, r);
        r
    }
}

/// INC: dest := dest + 1, CF preserved.
pub fn inc<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let loc = cpu.loc::<T>(insn, 0, true)?;
    let a = cpu.read_loc::<T>(loc)?;
    let r = T::from_u32(a.u32().wrapping_add(1));
    cpu.write_loc(loc, r)?;
    cpu.flags.inc(a, r);
    Ok(())
}

fn inc_r<T: Int>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    let a = T::gpr(cpu, u.r0);
    let r = T::from_u32(a.u32().wrapping_add(1));
    T::set_gpr(cpu, u.r0, r);
    cpu.flags.inc(a, r);
    Ok(())
}

fn dec_r<T: Int>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    let a = T::gpr(cpu, u.r0);
    let r = T::from_u32(a.u32().wrapping_sub(1));
    T::set_gpr(cpu, u.r0, r);
    cpu.flags.dec(a, r);
    Ok(())
}

fn inc_form<T: Int>(u: &Uop) -> Option<Handler> {
    (u.form()? == Form::R).then_some(inc_r::<T> as Handler)
}

fn dec_form<T: Int>(u: &Uop) -> Option<Handler> {
    (u.form()? == Form::R).then_some(dec_r::<T> as Handler)
}

/// DEC: dest := dest - 1, CF preserved.
pub fn dec<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let loc = cpu.loc::<T>(insn, 0, true)?;
    let a = cpu.read_loc::<T>(loc)?;
    let r = T::from_u32(a.u32().wrapping_sub(1));
    cpu.write_loc(loc, r)?;
    cpu.flags.dec(a, r);
    Ok(())
}

/// NEG: dest := 0 - dest. Its flags are those of SUB with a minuend of 0, which gives
/// the SDM's "CF := 0 if the source is 0, else 1" and OF for the most negative value.
pub fn neg<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let loc = cpu.loc::<T>(insn, 0, true)?;
    let a = cpu.read_loc::<T>(loc)?;
    let zero = T::from_u32(0);
    let r = T::from_u32(0u32.wrapping_sub(a.u32()));
    cpu.write_loc(loc, r)?;
    cpu.flags.sub(zero, a, r);
    Ok(())
}

fn neg_r<T: Int>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    let a = T::gpr(cpu, u.r0);
    let r = T::from_u32(0u32.wrapping_sub(a.u32()));
    T::set_gpr(cpu, u.r0, r);
    cpu.flags.sub(T::from_u32(0), a, r);
    Ok(())
}

fn neg_form<T: Int>(u: &Uop) -> Option<Handler> {
    (u.form()? == Form::R).then_some(neg_r::<T> as Handler)
}

pub(crate) fn register(t: &mut Table) {
    binops!(t, u8, Add => Add_rm8_r8, Add_r8_rm8, Add_AL_imm8, Add_rm8_imm8, Add_rm8_imm8_82);
    binops!(t, u16, Add => Add_rm16_r16, Add_r16_rm16, Add_AX_imm16, Add_rm16_imm16, Add_rm16_imm8);
    binops!(t, u32, Add => Add_rm32_r32, Add_r32_rm32, Add_EAX_imm32, Add_rm32_imm32, Add_rm32_imm8);

    binops!(t, u8, Adc => Adc_rm8_r8, Adc_r8_rm8, Adc_AL_imm8, Adc_rm8_imm8, Adc_rm8_imm8_82);
    binops!(t, u16, Adc => Adc_rm16_r16, Adc_r16_rm16, Adc_AX_imm16, Adc_rm16_imm16, Adc_rm16_imm8);
    binops!(t, u32, Adc => Adc_rm32_r32, Adc_r32_rm32, Adc_EAX_imm32, Adc_rm32_imm32, Adc_rm32_imm8);

    binops!(t, u8, Sub => Sub_rm8_r8, Sub_r8_rm8, Sub_AL_imm8, Sub_rm8_imm8, Sub_rm8_imm8_82);
    binops!(t, u16, Sub => Sub_rm16_r16, Sub_r16_rm16, Sub_AX_imm16, Sub_rm16_imm16, Sub_rm16_imm8);
    binops!(t, u32, Sub => Sub_rm32_r32, Sub_r32_rm32, Sub_EAX_imm32, Sub_rm32_imm32, Sub_rm32_imm8);

    binops!(t, u8, Sbb => Sbb_rm8_r8, Sbb_r8_rm8, Sbb_AL_imm8, Sbb_rm8_imm8, Sbb_rm8_imm8_82);
    binops!(t, u16, Sbb => Sbb_rm16_r16, Sbb_r16_rm16, Sbb_AX_imm16, Sbb_rm16_imm16, Sbb_rm16_imm8);
    binops!(t, u32, Sbb => Sbb_rm32_r32, Sbb_r32_rm32, Sbb_EAX_imm32, Sbb_rm32_imm32, Sbb_rm32_imm8);

    binops!(t, u8, Cmp => Cmp_rm8_r8, Cmp_r8_rm8, Cmp_AL_imm8, Cmp_rm8_imm8, Cmp_rm8_imm8_82);
    binops!(t, u16, Cmp => Cmp_rm16_r16, Cmp_r16_rm16, Cmp_AX_imm16, Cmp_rm16_imm16, Cmp_rm16_imm8);
    binops!(t, u32, Cmp => Cmp_rm32_r32, Cmp_r32_rm32, Cmp_EAX_imm32, Cmp_rm32_imm32, Cmp_rm32_imm8);

    forms!(t, inc::<u8>, inc_form::<u8> => Inc_rm8);
    forms!(t, inc::<u16>, inc_form::<u16> => Inc_rm16, Inc_r16);
    forms!(t, inc::<u32>, inc_form::<u32> => Inc_rm32, Inc_r32);
    forms!(t, dec::<u8>, dec_form::<u8> => Dec_rm8);
    forms!(t, dec::<u16>, dec_form::<u16> => Dec_rm16, Dec_r16);
    forms!(t, dec::<u32>, dec_form::<u32> => Dec_rm32, Dec_r32);

    forms!(t, neg::<u8>, neg_form::<u8> => Neg_rm8);
    forms!(t, neg::<u16>, neg_form::<u16> => Neg_rm16);
    forms!(t, neg::<u32>, neg_form::<u32> => Neg_rm32);
}
