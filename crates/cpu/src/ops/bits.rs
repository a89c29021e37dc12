//! Bit test and scan: BT BTS BTR BTC (register and imm8 bit offsets), BSF BSR.
//!
//! SDM Vol. 2 "BT"/"BTS"/"BTR"/"BTC": CF := the selected bit (before it is changed);
//! ZF is unaffected; OF, SF, AF, PF are undefined — the AMD EPYC the tests compare
//! against leaves them unchanged, and so do we. An imm8 offset is taken modulo the
//! operand width. A register offset into a register operand is too, but into a
//! memory operand it is a signed offset into a bit string starting at the operand:
//! the word or dword at EA + (width/8) × (offset SAR log2(width)) is accessed (SDM
//! "BT" Operation and Table 3-2, "Bit(BitBase, BitOffset)").
//!
//! SDM Vol. 2 "BSF"/"BSR": ZF := (source = 0); CF, OF, SF, AF, PF undefined (the host
//! keeps them). With a zero source the destination is undefined in the SDM and left
//! unchanged by AMD (documented) and Intel (observed); so here too.

use crate::uop::Uop;
use iced_x86::OpKind;

use crate::exception::Exception;
use crate::flags::{CF, ZF};
use crate::handlers;
use crate::operand::{Int, Loc};
use crate::table::Table;
use crate::Cpu;

/// The operand holding the selected bit and the bit's index within it. With `write`,
/// a memory operand is translated for writing before anything changes.
#[inline(always)]
fn bit_target<T: Int>(cpu: &mut Cpu, insn: &Uop, write: bool) -> Result<(Loc, u32), Exception> {
    let offset = cpu.read_op::<T>(insn, 1)?;
    let bit = offset.u32() & (T::BITS - 1);
    if insn.op0_kind() != OpKind::Memory {
        return Ok((Loc::Reg(insn.op0_register()), bit));
    }
    let mut lin = cpu.mem_linear(insn)?;
    if insn.op1_kind() == OpKind::Register {
        // Signed offset, floor-divided into whole operands.
        let units = (offset.sx() as i32) >> T::BITS.trailing_zeros();
        lin = lin.wrapping_add(units.wrapping_mul((T::BITS / 8) as i32) as u32);
    }
    if write {
        cpu.probe_write(lin, T::BITS / 8)?;
    }
    Ok((Loc::Mem(lin), bit))
}

/// BT: CF := the selected bit.
pub fn bt<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let (loc, bit) = bit_target::<T>(cpu, insn, false)?;
    let v = cpu.read_loc::<T>(loc)?.u32();
    cpu.flags.set_bits(CF, v >> bit & 1 != 0);
    Ok(())
}

/// Shared body of BTS/BTR/BTC: `f` maps (value, bit mask) to the new value.
#[inline(always)]
fn bt_modify<T: Int>(cpu: &mut Cpu, insn: &Uop, f: impl FnOnce(u32, u32) -> u32) -> Result<(), Exception> {
    let (loc, bit) = bit_target::<T>(cpu, insn, true)?;
    let v = cpu.read_loc::<T>(loc)?.u32();
    cpu.write_loc(loc, T::from_u32(f(v, 1 << bit)))?;
    cpu.flags.set_bits(CF, v >> bit & 1 != 0);
    Ok(())
}

/// BTS: CF := bit, bit := 1.
pub fn bts<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    bt_modify::<T>(cpu, insn, |v, m| v | m)
}

/// BTR: CF := bit, bit := 0.
pub fn btr<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    bt_modify::<T>(cpu, insn, |v, m| v & !m)
}

/// BTC: CF := bit, bit := NOT bit.
pub fn btc<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    bt_modify::<T>(cpu, insn, |v, m| v ^ m)
}

/// BSF: index of the least significant set bit of the source.
pub fn bsf<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let src = cpu.read_op::<T>(insn, 1)?.u32();
    if src != 0 {
        T::set_reg(cpu, insn.op0_register(), T::from_u32(src.trailing_zeros()));
    }
    cpu.flags.set_bits(ZF, src == 0);
    Ok(())
}

/// BSR: index of the most significant set bit of the source.
pub fn bsr<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let src = cpu.read_op::<T>(insn, 1)?.u32();
    if src != 0 {
        T::set_reg(cpu, insn.op0_register(), T::from_u32(31 - src.leading_zeros()));
    }
    cpu.flags.set_bits(ZF, src == 0);
    Ok(())
}

pub(crate) fn register(t: &mut Table) {
    handlers!(t, bt::<u16> => Bt_rm16_r16, Bt_rm16_imm8);
    handlers!(t, bt::<u32> => Bt_rm32_r32, Bt_rm32_imm8);
    handlers!(t, bts::<u16> => Bts_rm16_r16, Bts_rm16_imm8);
    handlers!(t, bts::<u32> => Bts_rm32_r32, Bts_rm32_imm8);
    handlers!(t, btr::<u16> => Btr_rm16_r16, Btr_rm16_imm8);
    handlers!(t, btr::<u32> => Btr_rm32_r32, Btr_rm32_imm8);
    handlers!(t, btc::<u16> => Btc_rm16_r16, Btc_rm16_imm8);
    handlers!(t, btc::<u32> => Btc_rm32_r32, Btc_rm32_imm8);
    handlers!(t, bsf::<u16> => Bsf_r16_rm16);
    handlers!(t, bsf::<u32> => Bsf_r32_rm32);
    // F3 0F BC / F3 0F BD are TZCNT / LZCNT only on CPUs that report BMI1 / LZCNT.
    // Ours reports neither, so the F3 prefix is ignored and they execute as BSF / BSR,
    // as on every older processor (SDM Vol. 2 TZCNT, LZCNT). glibc's string routines
    // rely on this.
    handlers!(t, bsf::<u16> => Tzcnt_r16_rm16);
    handlers!(t, bsf::<u32> => Tzcnt_r32_rm32);
    handlers!(t, bsr::<u16> => Bsr_r16_rm16);
    handlers!(t, bsr::<u32> => Bsr_r32_rm32);
    handlers!(t, bsr::<u16> => Lzcnt_r16_rm16);
    handlers!(t, bsr::<u32> => Lzcnt_r32_rm32);
}
