//! Bitwise logic: AND OR XOR TEST NOT.
//!
//! SDM Vol. 2 "AND"/"OR"/"XOR"/"TEST": OF and CF are cleared, SF ZF PF are set from
//! the result, AF is undefined. [`crate::flags::Flags::logic`] clears AF, which is what
//! Intel and AMD parts (including the AMD EPYC the tests compare against) do.
//! "NOT": no flags are affected.

use crate::uop::Uop;

use crate::exception::Exception;
use crate::flags::Flags;
use crate::operand::{BinOp, Int};
use crate::table::Handler;
use crate::table::Table;
use crate::uop::Form;
use crate::Cpu;
use crate::{binops, forms};

/// AND: dest := dest & src.
pub struct And;
impl BinOp for And {
    const WRITES: bool = true;
    #[inline(always)]
    fn apply<T: Int>(f: &mut Flags, a: T, b: T) -> T {
        let r = T::from_u32(a.u32() & b.u32());
        f.logic(r);
        r
    }
}

/// OR: dest := dest | src.
pub struct Or;
impl BinOp for Or {
    const WRITES: bool = true;
    #[inline(always)]
    fn apply<T: Int>(f: &mut Flags, a: T, b: T) -> T {
        let r = T::from_u32(a.u32() | b.u32());
        f.logic(r);
        r
    }
}

/// XOR: dest := dest ^ src.
pub struct Xor;
impl BinOp for Xor {
    const WRITES: bool = true;
    #[inline(always)]
    fn apply<T: Int>(f: &mut Flags, a: T, b: T) -> T {
        let r = T::from_u32(a.u32() ^ b.u32());
        f.logic(r);
        r
    }
}

/// TEST: the flags of dest & src; the destination is only read.
pub struct Test;
impl BinOp for Test {
    const WRITES: bool = false;
    #[inline(always)]
    fn apply<T: Int>(f: &mut Flags, a: T, b: T) -> T {
        let r = T::from_u32(a.u32() & b.u32());
        f.logic(r);
        r
    }
}

/// NOT: dest := !dest, flags untouched. Still a read-modify-write: a read-only memory
/// destination faults.
pub fn not<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let loc = cpu.loc::<T>(insn, 0, true)?;
    let a = cpu.read_loc::<T>(loc)?;
    cpu.write_loc(loc, T::from_u32(!a.u32()))
}

fn not_r<T: Int>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    let a = T::gpr(cpu, u.r0);
    T::set_gpr(cpu, u.r0, T::from_u32(!a.u32()));
    Ok(())
}

fn not_form<T: Int>(u: &Uop) -> Option<Handler> {
    (u.form()? == Form::R).then_some(not_r::<T> as Handler)
}

pub(crate) fn register(t: &mut Table) {
    binops!(t, u8, And => And_rm8_r8, And_r8_rm8, And_AL_imm8, And_rm8_imm8, And_rm8_imm8_82);
    binops!(t, u16, And => And_rm16_r16, And_r16_rm16, And_AX_imm16, And_rm16_imm16, And_rm16_imm8);
    binops!(t, u32, And => And_rm32_r32, And_r32_rm32, And_EAX_imm32, And_rm32_imm32, And_rm32_imm8);

    binops!(t, u8, Or => Or_rm8_r8, Or_r8_rm8, Or_AL_imm8, Or_rm8_imm8, Or_rm8_imm8_82);
    binops!(t, u16, Or => Or_rm16_r16, Or_r16_rm16, Or_AX_imm16, Or_rm16_imm16, Or_rm16_imm8);
    binops!(t, u32, Or => Or_rm32_r32, Or_r32_rm32, Or_EAX_imm32, Or_rm32_imm32, Or_rm32_imm8);

    binops!(t, u8, Xor => Xor_rm8_r8, Xor_r8_rm8, Xor_AL_imm8, Xor_rm8_imm8, Xor_rm8_imm8_82);
    binops!(t, u16, Xor => Xor_rm16_r16, Xor_r16_rm16, Xor_AX_imm16, Xor_rm16_imm16, Xor_rm16_imm8);
    binops!(t, u32, Xor => Xor_rm32_r32, Xor_r32_rm32, Xor_EAX_imm32, Xor_rm32_imm32, Xor_rm32_imm8);

    // F6 /1 and F7 /1 are undocumented aliases of /0 that every x86 decodes as TEST.
    binops!(t, u8, Test => Test_rm8_r8, Test_AL_imm8, Test_rm8_imm8, Test_rm8_imm8_F6r1);
    binops!(t, u16, Test => Test_rm16_r16, Test_AX_imm16, Test_rm16_imm16, Test_rm16_imm16_F7r1);
    binops!(t, u32, Test => Test_rm32_r32, Test_EAX_imm32, Test_rm32_imm32, Test_rm32_imm32_F7r1);

    forms!(t, not::<u8>, not_form::<u8> => Not_rm8);
    forms!(t, not::<u16>, not_form::<u16> => Not_rm16);
    forms!(t, not::<u32>, not_form::<u32> => Not_rm32);
}
