//! Decimal adjust: DAA DAS AAA AAS AAM AAD.
//!
//! The defined results and flags follow the "Operation" and "Flags Affected"
//! sections of SDM Vol. 2 "DAA", "DAS", "AAA", "AAS", "AAM", "AAD". The flags the SDM
//! leaves undefined are those of the adder the AMD EPYC the tests compare against
//! uses for the adjustment, and we reproduce them:
//! * DAA/DAS: OF of the 8-bit AL ± correction (0x06, 0x60 or 0x66);
//! * AAA/AAS: OF, SF, ZF and PF of the 16-bit AX ± 0x106 (or ± 0 when no adjustment
//!   is made), before AL's high nibble is cleared;
//! * AAM: CF, AF and OF cleared;
//! * AAD: CF, AF and OF of the 8-bit AL + (AH × base), whose SF, ZF, PF are the
//!   defined ones.

use crate::uop::Uop;

use crate::exception::Exception;
use crate::flags::Flags;
use crate::handlers;
use crate::table::Table;
use crate::{Cpu, EAX};

#[inline(always)]
fn al(cpu: &Cpu) -> u32 {
    cpu.regs[EAX] & 0xff
}

#[inline(always)]
fn set_ax(cpu: &mut Cpu, ax: u32) {
    cpu.regs[EAX] = cpu.regs[EAX] & !0xffff | ax & 0xffff;
}

/// Corrections of DAA/DAS: (low nibble adjusted, high nibble adjusted, correction).
#[inline(always)]
fn decimal_correction(cpu: &Cpu) -> (bool, bool, u32) {
    let a = al(cpu);
    let low = a & 0xf > 9 || cpu.flags.af();
    let high = a > 0x99 || cpu.flags.cf();
    (low, high, if low { 0x06 } else { 0 } | if high { 0x60 } else { 0 })
}

/// DAA: adjusts AL after adding two packed BCD bytes. CF = high-digit adjustment,
/// AF = low-digit adjustment (a carry out of AL + 6 implies AL > 0x99, so it never
/// changes CF on its own).
pub fn daa(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    let a = al(cpu);
    let (low, high, corr) = decimal_correction(cpu);
    let r = (a + corr) & 0xff;
    cpu.regs[EAX] = cpu.regs[EAX] & !0xff | r;
    let (sf, zf, pf) = Flags::szp(r as u8);
    let of = (a ^ r) & (corr ^ r) & 0x80 != 0;
    cpu.flags.set_arith(high, pf, low, zf, sf, of);
    Ok(())
}

/// DAS: adjusts AL after subtracting two packed BCD bytes. CF = high-digit
/// adjustment, or the borrow out of AL - 6 (which the SDM's DAS, unlike DAA, keeps
/// when no high-digit adjustment follows).
pub fn das(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    let a = al(cpu);
    let (low, high, corr) = decimal_correction(cpu);
    let r = a.wrapping_sub(corr) & 0xff;
    cpu.regs[EAX] = cpu.regs[EAX] & !0xff | r;
    let (sf, zf, pf) = Flags::szp(r as u8);
    let of = (a ^ corr) & (a ^ r) & 0x80 != 0;
    let cf = high || (low && a < 6);
    cpu.flags.set_arith(cf, pf, low, zf, sf, of);
    Ok(())
}

/// Whether AAA/AAS adjust: low nibble of AL above 9, or AF set.
#[inline(always)]
fn ascii_adjust(cpu: &Cpu) -> bool {
    al(cpu) & 0xf > 9 || cpu.flags.af()
}

/// AAA: AX := AX + 0x106 when adjusting (so a carry out of AL + 6 also reaches AH,
/// as the current SDM specifies), then AL's high nibble cleared; CF = AF = adjusted.
pub fn aaa(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    let ax = cpu.regs[EAX] & 0xffff;
    let adj = ascii_adjust(cpu);
    let k = if adj { 0x106 } else { 0 };
    let t = (ax + k) & 0xffff;
    set_ax(cpu, t & 0xff0f);
    let of = (ax ^ t) & (k ^ t) & 0x8000 != 0;
    let (sf, zf, pf) = Flags::szp(t as u16);
    cpu.flags.set_arith(adj, pf, adj, zf, sf, of);
    Ok(())
}

/// AAS: AX := AX - 6, AH := AH - 1 (together AX - 0x106) when adjusting, then AL's
/// high nibble cleared; CF = AF = adjusted.
pub fn aas(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    let ax = cpu.regs[EAX] & 0xffff;
    let adj = ascii_adjust(cpu);
    let k = if adj { 0x106 } else { 0 };
    let t = ax.wrapping_sub(k) & 0xffff;
    set_ax(cpu, t & 0xff0f);
    let of = (ax ^ k) & (ax ^ t) & 0x8000 != 0;
    let (sf, zf, pf) = Flags::szp(t as u16);
    cpu.flags.set_arith(adj, pf, adj, zf, sf, of);
    Ok(())
}

/// AAM imm8: AH := AL / imm8, AL := AL mod imm8 (any base, 10 being the documented
/// one); #DE for a base of 0. SF, ZF, PF from AL; CF, AF, OF cleared, which is what
/// the logic-op flag recorder produces.
pub fn aam(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let base = u32::from(insn.immediate8());
    if base == 0 {
        return Err(Exception::DivideError);
    }
    let a = al(cpu);
    let r = a % base;
    set_ax(cpu, (a / base) << 8 | r);
    cpu.flags.logic(r as u8);
    Ok(())
}

/// AAD imm8: AL := (AL + AH × imm8) mod 256, AH := 0. The flags are those of that
/// final 8-bit addition (SF, ZF, PF defined; CF, AF, OF as the host gives them).
pub fn aad(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let base = u32::from(insn.immediate8());
    let a = al(cpu) as u8;
    let prod = ((cpu.regs[EAX] >> 8 & 0xff) * base) as u8;
    let r = a.wrapping_add(prod);
    set_ax(cpu, u32::from(r));
    cpu.flags.add(a, prod, r);
    Ok(())
}

pub(crate) fn register(t: &mut Table) {
    handlers!(t, daa => Daa);
    handlers!(t, das => Das);
    handlers!(t, aaa => Aaa);
    handlers!(t, aas => Aas);
    handlers!(t, aam => Aam_imm8);
    handlers!(t, aad => Aad_imm8);
}
