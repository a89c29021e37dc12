//! The descriptor queries a CPL-3 program may run: LAR, LSL, VERR, VERW and ARPL.
//!
//! They never fault on a bad selector: they answer through ZF (SDM Vol. 2 LAR, LSL,
//! VERR/VERW: "ZF is cleared" for a null selector, one outside its table, a
//! descriptor type the instruction does not accept, or one the privilege rule
//! hides). Only reading the selector operand from memory may fault. The rule for
//! code and data segments, at CPL 3: a conforming code segment is always visible,
//! anything else needs DPL >= max(CPL, RPL).

use iced_x86::OpKind;

use crate::exception::Exception;
use crate::flags::ZF;
use crate::handlers;
use crate::operand::Int;
use crate::seg::Descriptor;
use crate::table::Table;
use crate::uop::Uop;
use crate::Cpu;

type R = Result<(), Exception>;

const CPL: u16 = 3;

/// The 16-bit selector operand (register low half or a word of memory).
fn selector_operand(cpu: &mut Cpu, u: &Uop) -> Result<u16, Exception> {
    match u.op_kind(1) {
        OpKind::Memory => {
            let lin = cpu.mem_linear(u)?;
            cpu.read_mem::<u16>(lin)
        }
        _ => Ok(crate::operand::reg_value(cpu, u.op1_register()) as u16),
    }
}

/// The raw descriptor a non-null selector names, if it is inside its table.
fn raw_descriptor(cpu: &Cpu, sel: u16) -> Option<u64> {
    if sel & !3 == 0 {
        return None;
    }
    let table = if sel & 4 != 0 { &cpu.ldt } else { &cpu.gdt };
    table.get(usize::from(sel >> 3)).copied()
}

/// Whether the privilege rule lets CPL 3 see this code or data descriptor.
fn visible(d: &Descriptor, sel: u16) -> bool {
    let conforming = d.is_code() && d.attrs & 0x04 != 0;
    conforming || d.dpl() >= CPL.max(sel & 3)
}

/// The descriptor `sel` names if LAR (`lar`) or LSL (`!lar`) accepts it: any code or
/// data segment that is visible, and the system types each lists (LAR: 16/32-bit
/// TSS, LDT, call and task gates; LSL: TSS and LDT, which have limits), with the
/// same privilege rule.
fn queried(cpu: &Cpu, sel: u16, lar: bool) -> Option<u64> {
    let raw = raw_descriptor(cpu, sel)?;
    let d = Descriptor::decode(raw);
    let ok = if d.is_code_or_data() {
        visible(&d, sel)
    } else {
        let ty = d.attrs & 0xf;
        let listed = if lar {
            matches!(ty, 1 | 2 | 3 | 4 | 5 | 9 | 0xb | 0xc)
        } else {
            matches!(ty, 1 | 2 | 3 | 9 | 0xb)
        };
        listed && d.dpl() >= CPL.max(sel & 3)
    };
    ok.then_some(raw)
}

/// LAR r16/r32, r/m16: the access-rights bytes of the descriptor's second doubleword,
/// bits 8–23 (SDM: masked with 00FxFF00H, the limit bits 19:16 "x" being what the
/// descriptor holds, as the host shows), truncated to the operand size.
fn lar<T: Int>(cpu: &mut Cpu, u: &Uop) -> R {
    let sel = selector_operand(cpu, u)?;
    match queried(cpu, sel, true) {
        Some(raw) => {
            let ar = (raw >> 32) as u32 & 0x00ff_ff00;
            T::set_reg(cpu, u.op0_register(), T::from_u32(ar));
            cpu.flags.set_bits(ZF, true);
        }
        None => cpu.flags.set_bits(ZF, false),
    }
    Ok(())
}

/// LSL r16/r32, r/m16: the segment limit in bytes (granularity applied), truncated
/// to the operand size.
fn lsl<T: Int>(cpu: &mut Cpu, u: &Uop) -> R {
    let sel = selector_operand(cpu, u)?;
    match queried(cpu, sel, false) {
        Some(raw) => {
            T::set_reg(cpu, u.op0_register(), T::from_u32(Descriptor::decode(raw).limit));
            cpu.flags.set_bits(ZF, true);
        }
        None => cpu.flags.set_bits(ZF, false),
    }
    Ok(())
}

/// VERR (`WRITE` false) and VERW: a visible data segment (writable for VERW), or for
/// VERR a readable code segment.
fn verify<const WRITE: bool>(cpu: &mut Cpu, u: &Uop) -> R {
    let sel = match u.op_kind(0) {
        OpKind::Memory => {
            let lin = cpu.mem_linear(u)?;
            cpu.read_mem::<u16>(lin)?
        }
        _ => crate::operand::reg_value(cpu, u.op0_register()) as u16,
    };
    let ok = raw_descriptor(cpu, sel).map(Descriptor::decode).is_some_and(|d| {
        d.is_code_or_data()
            && visible(&d, sel)
            && if WRITE { !d.is_code() && d.rw() } else { !d.is_code() || d.rw() }
    });
    cpu.flags.set_bits(ZF, ok);
    Ok(())
}

/// ARPL r/m16, r16: raises the destination selector's RPL to the source's.
fn arpl(cpu: &mut Cpu, u: &Uop) -> R {
    let loc = cpu.loc::<u16>(u, 0, true)?;
    let dst = cpu.read_loc::<u16>(loc)?;
    let src = crate::operand::reg_value(cpu, u.op1_register()) as u16;
    if dst & 3 < src & 3 {
        cpu.write_loc::<u16>(loc, (dst & !3) | (src & 3))?;
        cpu.flags.set_bits(ZF, true);
    } else {
        cpu.flags.set_bits(ZF, false);
    }
    Ok(())
}

pub(crate) fn register(t: &mut Table) {
    handlers!(t, lar::<u16> => Lar_r16_rm16);
    handlers!(t, lar::<u32> => Lar_r32_r32m16);
    handlers!(t, lsl::<u16> => Lsl_r16_rm16);
    handlers!(t, lsl::<u32> => Lsl_r32_r32m16);
    handlers!(t, verify::<false> => Verr_rm16, Verr_r32m16);
    handlers!(t, verify::<true> => Verw_rm16, Verw_r32m16);
    handlers!(t, arpl => Arpl_rm16_r16, Arpl_r32m16_r32);
}
