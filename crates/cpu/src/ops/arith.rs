//! Integer add/subtract family: ADD ADC SUB SBB CMP INC DEC NEG.
//!
//! All of them define every one of the six arithmetic flags (SDM Vol. 2 "ADD", "ADC",
//! "SUB", "SBB", "CMP", "NEG": OF SF ZF AF CF PF set according to the result; "INC",
//! "DEC": the same except CF, which is not affected), so they go through the lazy
//! flag recorders in [`crate::flags`].
//!
//! Precise faults: the source is read first, then a read-modify-write destination is
//! located with write intent ([`Cpu::loc`] with `write = true`), so a fault on either
//! leaves registers, memory and EFLAGS untouched. Flags are recorded only after the
//! write-back, which cannot fault once the location has been probed.

use crate::uop::Uop;

use crate::exception::Exception;
use crate::handlers;
use crate::operand::{Int, Loc};
use crate::table::Table;
use crate::Cpu;

/// Destination location (probed for writing when `write`), destination value and
/// source value of a two-operand instruction. Only one operand of these forms can be
/// in memory, so the order in which the accesses could fault is unambiguous.
#[inline(always)]
pub(crate) fn dest_src<T: Int>(cpu: &mut Cpu, insn: &Uop, write: bool) -> Result<(Loc, T, T), Exception> {
    let b = cpu.read_op::<T>(insn, 1)?;
    let loc = cpu.loc::<T>(insn, 0, write)?;
    let a = cpu.read_loc::<T>(loc)?;
    Ok((loc, a, b))
}

/// ADD: dest := dest + src.
pub fn add<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let (loc, a, b) = dest_src::<T>(cpu, insn, true)?;
    let r = T::from_u32(a.u32().wrapping_add(b.u32()));
    cpu.write_loc(loc, r)?;
    cpu.flags.add(a, b, r);
    Ok(())
}

/// ADC: dest := dest + src + CF.
pub fn adc<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let (loc, a, b) = dest_src::<T>(cpu, insn, true)?;
    let c = cpu.flags.cf();
    let r = T::from_u32(a.u32().wrapping_add(b.u32()).wrapping_add(u32::from(c)));
    cpu.write_loc(loc, r)?;
    cpu.flags.adc(a, b, r, c);
    Ok(())
}

/// SUB: dest := dest - src.
pub fn sub<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let (loc, a, b) = dest_src::<T>(cpu, insn, true)?;
    let r = T::from_u32(a.u32().wrapping_sub(b.u32()));
    cpu.write_loc(loc, r)?;
    cpu.flags.sub(a, b, r);
    Ok(())
}

/// SBB: dest := dest - (src + CF).
pub fn sbb<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let (loc, a, b) = dest_src::<T>(cpu, insn, true)?;
    let c = cpu.flags.cf();
    let r = T::from_u32(a.u32().wrapping_sub(b.u32()).wrapping_sub(u32::from(c)));
    cpu.write_loc(loc, r)?;
    cpu.flags.sbb(a, b, r, c);
    Ok(())
}

/// CMP: the flags of dest - src; nothing is written, so the destination is only read
/// (a CMP against a read-only page does not fault).
pub fn cmp<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let (_, a, b) = dest_src::<T>(cpu, insn, false)?;
    let r = T::from_u32(a.u32().wrapping_sub(b.u32()));
    cpu.flags.sub(a, b, r);
    Ok(())
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

pub(crate) fn register(t: &mut Table) {
    handlers!(t, add::<u8> => Add_rm8_r8, Add_r8_rm8, Add_AL_imm8, Add_rm8_imm8, Add_rm8_imm8_82);
    handlers!(t, add::<u16> => Add_rm16_r16, Add_r16_rm16, Add_AX_imm16, Add_rm16_imm16, Add_rm16_imm8);
    handlers!(t, add::<u32> => Add_rm32_r32, Add_r32_rm32, Add_EAX_imm32, Add_rm32_imm32, Add_rm32_imm8);

    handlers!(t, adc::<u8> => Adc_rm8_r8, Adc_r8_rm8, Adc_AL_imm8, Adc_rm8_imm8, Adc_rm8_imm8_82);
    handlers!(t, adc::<u16> => Adc_rm16_r16, Adc_r16_rm16, Adc_AX_imm16, Adc_rm16_imm16, Adc_rm16_imm8);
    handlers!(t, adc::<u32> => Adc_rm32_r32, Adc_r32_rm32, Adc_EAX_imm32, Adc_rm32_imm32, Adc_rm32_imm8);

    handlers!(t, sub::<u8> => Sub_rm8_r8, Sub_r8_rm8, Sub_AL_imm8, Sub_rm8_imm8, Sub_rm8_imm8_82);
    handlers!(t, sub::<u16> => Sub_rm16_r16, Sub_r16_rm16, Sub_AX_imm16, Sub_rm16_imm16, Sub_rm16_imm8);
    handlers!(t, sub::<u32> => Sub_rm32_r32, Sub_r32_rm32, Sub_EAX_imm32, Sub_rm32_imm32, Sub_rm32_imm8);

    handlers!(t, sbb::<u8> => Sbb_rm8_r8, Sbb_r8_rm8, Sbb_AL_imm8, Sbb_rm8_imm8, Sbb_rm8_imm8_82);
    handlers!(t, sbb::<u16> => Sbb_rm16_r16, Sbb_r16_rm16, Sbb_AX_imm16, Sbb_rm16_imm16, Sbb_rm16_imm8);
    handlers!(t, sbb::<u32> => Sbb_rm32_r32, Sbb_r32_rm32, Sbb_EAX_imm32, Sbb_rm32_imm32, Sbb_rm32_imm8);

    handlers!(t, cmp::<u8> => Cmp_rm8_r8, Cmp_r8_rm8, Cmp_AL_imm8, Cmp_rm8_imm8, Cmp_rm8_imm8_82);
    handlers!(t, cmp::<u16> => Cmp_rm16_r16, Cmp_r16_rm16, Cmp_AX_imm16, Cmp_rm16_imm16, Cmp_rm16_imm8);
    handlers!(t, cmp::<u32> => Cmp_rm32_r32, Cmp_r32_rm32, Cmp_EAX_imm32, Cmp_rm32_imm32, Cmp_rm32_imm8);

    handlers!(t, inc::<u8> => Inc_rm8);
    handlers!(t, inc::<u16> => Inc_rm16, Inc_r16);
    handlers!(t, inc::<u32> => Inc_rm32, Inc_r32);
    handlers!(t, dec::<u8> => Dec_rm8);
    handlers!(t, dec::<u16> => Dec_rm16, Dec_r16);
    handlers!(t, dec::<u32> => Dec_rm32, Dec_r32);

    handlers!(t, neg::<u8> => Neg_rm8);
    handlers!(t, neg::<u16> => Neg_rm16);
    handlers!(t, neg::<u32> => Neg_rm32);
}
