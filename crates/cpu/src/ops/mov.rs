//! Data movement: MOV and friends, LEA, NOP.

use iced_x86::Instruction;

use crate::exception::Exception;
use crate::handlers;
use crate::operand::Int;
use crate::table::Table;
use crate::Cpu;

/// MOV r/m, r / r, r/m / r, imm / r/m, imm / moffs forms.
pub fn mov<T: Int>(cpu: &mut Cpu, insn: &Instruction) -> Result<(), Exception> {
    let v = cpu.read_op::<T>(insn, 1)?;
    cpu.write_op::<T>(insn, 0, v)
}

/// LEA: the effective address, truncated to the destination width, no memory access.
pub fn lea<T: Int>(cpu: &mut Cpu, insn: &Instruction) -> Result<(), Exception> {
    let ea = cpu.effective_address(insn);
    T::set_reg(cpu, insn.op0_register(), T::from_u32(ea));
    Ok(())
}

pub fn nop(_: &mut Cpu, _: &Instruction) -> Result<(), Exception> {
    Ok(())
}

pub(crate) fn register(t: &mut Table) {
    handlers!(t, mov::<u8> => Mov_rm8_r8, Mov_r8_rm8, Mov_r8_imm8, Mov_rm8_imm8, Mov_AL_moffs8, Mov_moffs8_AL);
    handlers!(t, mov::<u16> => Mov_rm16_r16, Mov_r16_rm16, Mov_r16_imm16, Mov_rm16_imm16, Mov_AX_moffs16, Mov_moffs16_AX);
    handlers!(t, mov::<u32> => Mov_rm32_r32, Mov_r32_rm32, Mov_r32_imm32, Mov_rm32_imm32, Mov_EAX_moffs32, Mov_moffs32_EAX);
    handlers!(t, lea::<u16> => Lea_r16_m);
    handlers!(t, lea::<u32> => Lea_r32_m);
    handlers!(t, nop => Nopd, Nopw, Nop_rm16, Nop_rm32);
}
