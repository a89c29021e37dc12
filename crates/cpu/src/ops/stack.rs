//! Stack instructions: PUSH/POP (register, r/m, immediate, segment register),
//! PUSHA/PUSHAD, POPA/POPAD, PUSHF/PUSHFD, POPF/POPFD, ENTER, LEAVE.
//!
//! Every instruction here is all-or-nothing: the stack slots it stores to are
//! translated for writing, in the order the processor stores them, before the first
//! byte is written, and ESP changes last. So a fault leaves memory, registers and ESP
//! as they were, and CR2 is the first byte of the first store that the processor would
//! have found unwritable. (The host writes the slots before the faulting one — it
//! leaves garbage below an unchanged ESP; writing nothing is the precise choice and
//! is indistinguishable to a program that restarts the instruction.)
//!
//! The stack is the 32-bit one of the Linux flat model: SS.B is assumed set, ESP (not
//! SP) is the stack pointer. The operand size picks 2- or 4-byte slots.
//!
//! Decisions where the SDM leaves a choice:
//! * `PUSH Sreg` with a 32-bit operand size moves ESP by 4 and stores the selector
//!   zero-extended to 4 bytes (the SDM allows this or a 16-bit store; the AMD EPYC
//!   host writes all 4 bytes, upper half zero). `PUSH Sreg` with 16-bit operand size
//!   stores 2 bytes.
//! * `POPF` at CPL 3 changes only [`flags::USER_POPF`] (and only its low 16 bits for
//!   POPFW); IF changes only when IOPL is 3 (and is otherwise silently kept, no #GP),
//!   IOPL/VM/VIF/VIP never, RF is cleared. `PUSHF` stores the image with VM and RF clear.
//! * `ENTER` also checks that the byte at the final ESP is writable (SDM ENTER, #PF:
//!   "if a write using the final value of the stack pointer ... would cause a page
//!   fault"); the host reports CR2 = final ESP for a large frame, and so do we.
//!   The nesting level is taken modulo 32.

use crate::uop::Uop;
use iced_x86::{OpKind, Register};

use crate::exception::Exception;
use crate::flags::{self, IF, IOPL, RF, VM};
use crate::operand::Int;
use crate::seg::SegReg;
use crate::state::{EBP, ESP};
use crate::table::Handler;
use crate::table::Table;
use crate::Cpu;
use crate::{forms, handlers};

/// Pushes `vals` in order (the first one ends up highest) as one operation: every slot
/// is probed for writing in store order, then all are written, then ESP moves.
pub(crate) fn push_all<T: Int>(cpu: &mut Cpu, vals: &[u32]) -> Result<(), Exception> {
    let size = T::BITS / 8;
    let esp = cpu.regs[ESP];
    let mut a = esp;
    for _ in vals {
        a = a.wrapping_sub(size);
        let lin = cpu.linear(SegReg::Ss, a)?;
        cpu.probe_write(lin, size)?;
    }
    let mut a = esp;
    for &v in vals {
        a = a.wrapping_sub(size);
        let lin = cpu.linear(SegReg::Ss, a)?;
        cpu.write_mem::<T>(lin, T::from_u32(v))?;
    }
    cpu.regs[ESP] = a;
    Ok(())
}

/// Reads N stack slots of width T upward from ESP (zero-extended) without moving ESP.
pub(crate) fn peek_all<T: Int, const N: usize>(cpu: &mut Cpu) -> Result<[u32; N], Exception> {
    let mut out = [0u32; N];
    for (i, v) in out.iter_mut().enumerate() {
        *v = cpu.peek::<T>(i as u32 * (T::BITS / 8))?.u32();
    }
    Ok(out)
}

/// BP or EBP for width T.
#[inline(always)]
fn bp<T: Int>() -> Register {
    if T::BITS == 16 {
        Register::BP
    } else {
        Register::EBP
    }
}

/// PUSH r / r/m / imm. The operand is read before ESP moves, so `push esp` stores the
/// old value and `push [esp+4]` addresses with the old ESP.
pub fn push<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let v = cpu.read_op::<T>(insn, 0)?;
    cpu.push::<T>(v)
}

// The register and immediate forms take the TLB hit inline; on a miss or a page split
// they hand the whole instruction to the general handler out of line (nothing has
// changed yet, so it starts afresh), and the hit path saves no registers.

fn push_r<T: Int, const FLAT: bool>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    if cpu.push_hit::<T, FLAT>(T::gpr(cpu, u.r0))? {
        return Ok(());
    }
    push_r_miss::<T>(cpu, u)
}

#[inline(never)]
fn push_r_miss<T: Int>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    cpu.push::<T>(T::gpr(cpu, u.r0))
}

fn push_i<T: Int, const FLAT: bool>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    if cpu.push_hit::<T, FLAT>(T::from_u32(u.imm))? {
        return Ok(());
    }
    push_i_miss::<T>(cpu, u)
}

#[inline(never)]
fn push_i_miss<T: Int>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    cpu.push::<T>(T::from_u32(u.imm))
}

fn pop_r<T: Int, const FLAT: bool>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    match cpu.peek_hit::<T, FLAT>(0)? {
        Some(v) => {
            // ESP moves first: `pop esp` leaves the popped value.
            cpu.regs[ESP] = cpu.regs[ESP].wrapping_add(T::BITS / 8);
            T::set_gpr(cpu, u.r0, v);
            Ok(())
        }
        None => pop_r_miss::<T>(cpu, u),
    }
}

#[inline(never)]
fn pop_r_miss<T: Int>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    let v = cpu.peek::<T>(0)?;
    cpu.regs[ESP] = cpu.regs[ESP].wrapping_add(T::BITS / 8);
    T::set_gpr(cpu, u.r0, v);
    Ok(())
}

/// PUSH m with a known address shape: the operand is read (with the old ESP) and
/// the slot written through TLB hits; anything else, from the start, through the
/// general handler, which reads again (a second TLB hit counted: a statistic only).
fn push_m<T: Int, const FLAT: bool, const EA: u8>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    if let Ok(lin) = cpu.mem_lin::<EA>(u) {
        if let Some(v) = cpu.mmu.read_hit::<T>(lin) {
            if cpu.push_hit::<T, FLAT>(v)? {
                return Ok(());
            }
        }
    }
    push_m_miss::<T>(cpu, u)
}

#[inline(never)]
fn push_m_miss<T: Int>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    push::<T>(cpu, u)
}

fn push_form<T: Int>(u: &Uop) -> Option<Handler> {
    let flat = u.flat_stack();
    match u.op0_kind() {
        OpKind::Register if flat => Some(push_r::<T, true>),
        OpKind::Register => Some(push_r::<T, false>),
        OpKind::Immediate8to16 | OpKind::Immediate8to32 | OpKind::Immediate16 | OpKind::Immediate32 => {
            Some(if flat { push_i::<T, true> } else { push_i::<T, false> })
        }
        OpKind::Memory if flat => crate::by_ea!(u, push_m::<T, true>),
        OpKind::Memory => crate::by_ea!(u, push_m::<T, false>),
        _ => None,
    }
}

fn pop_form<T: Int>(u: &Uop) -> Option<Handler> {
    (u.op0_kind() == OpKind::Register).then_some(if u.flat_stack() {
        pop_r::<T, true>
    } else {
        pop_r::<T, false>
    })
}

/// POP r / r/m. For a memory destination the effective address is computed with the
/// incremented ESP (SDM POP: "If the ESP register is used as a base register ... the
/// POP instruction computes the effective address of the operand after it increments
/// the ESP register"); if that store faults, ESP is put back. `pop esp` leaves the
/// popped value in ESP.
pub fn pop<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let esp = cpu.regs[ESP];
    let v = cpu.peek::<T>(0)?;
    let new_esp = esp.wrapping_add(T::BITS / 8);
    match insn.op0_kind() {
        OpKind::Register => {
            cpu.regs[ESP] = new_esp;
            T::set_reg(cpu, insn.op0_register(), v);
            Ok(())
        }
        OpKind::Memory => {
            cpu.regs[ESP] = new_esp;
            let res = cpu.loc::<T>(insn, 0, true).and_then(|loc| cpu.write_loc(loc, v));
            if res.is_err() {
                cpu.regs[ESP] = esp;
            }
            res
        }
        _ => Err(Exception::InvalidOpcode),
    }
}

fn sreg_of(insn: &Uop) -> Result<SegReg, Exception> {
    SegReg::from_iced(insn.op0_register()).ok_or(Exception::InvalidOpcode)
}

/// PUSH ES/CS/SS/DS/FS/GS: the selector zero-extended to the operand size (4-byte slot
/// written in full for PUSHD, like the host).
pub fn push_sreg<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let sel = cpu.segs[sreg_of(insn)? as usize].selector;
    cpu.push::<T>(T::from_u32(u32::from(sel)))
}

/// POP ES/SS/DS/FS/GS: the low 16 bits of the slot are loaded (with the descriptor
/// checks of [`Cpu::load_segment`]) before ESP moves.
pub fn pop_sreg<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let sreg = sreg_of(insn)?;
    if sreg == SegReg::Cs {
        return Err(Exception::InvalidOpcode);
    }
    let v = cpu.peek::<T>(0)?;
    cpu.load_segment(sreg, v.u32() as u16)?;
    cpu.regs[ESP] = cpu.regs[ESP].wrapping_add(T::BITS / 8);
    cpu.ss_shadow = sreg == SegReg::Ss;
    Ok(())
}

/// PUSHA/PUSHAD: eAX eCX eDX eBX (original eSP) eBP eSI eDI, all-or-nothing.
pub fn pusha<T: Int>(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    let r = cpu.regs;
    push_all::<T>(cpu, &r)
}

/// POPA/POPAD: eDI eSI eBP (skipped) eBX eDX eCX eAX; all eight slots are read before
/// any register changes.
pub fn popa<T: Int>(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    let v = peek_all::<T, 8>(cpu)?;
    let esp = cpu.regs[ESP].wrapping_add(8 * (T::BITS / 8));
    for (i, &val) in v.iter().enumerate() {
        let reg = 7 - i;
        if reg != ESP {
            cpu.regs[reg] = (cpu.regs[reg] & !T::MASK) | (val & T::MASK);
        }
    }
    cpu.regs[ESP] = esp;
    Ok(())
}

/// PUSHF/PUSHFD: EFLAGS with VM and RF cleared in the image.
pub fn pushf<T: Int>(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    let f = cpu.flags.get() & !(VM | RF);
    cpu.push::<T>(T::from_u32(f))
}

/// The EFLAGS bits a CPL-3 POPF/IRET of width T may change.
pub(crate) fn user_flags_mask<T: Int>(cur: u32) -> u32 {
    let mut m = flags::USER_POPF;
    if cur & IOPL == IOPL {
        // CPL <= IOPL: IF may change.
        m |= IF;
    }
    m & T::MASK
}

/// POPF/POPFD at CPL 3.
pub fn popf<T: Int>(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    let v = cpu.peek::<T>(0)?.u32();
    let cur = cpu.flags.get();
    let m = user_flags_mask::<T>(cur);
    cpu.flags.set(((cur & !m) | (v & m)) & !RF);
    cpu.regs[ESP] = cpu.regs[ESP].wrapping_add(T::BITS / 8);
    trap_flag_set(cur, cpu.flags.get())
}

/// After an instruction that loaded EFLAGS: if it set TF, the executor must single-step
/// from the next instruction on (the trap comes after the instruction *following* the
/// one that set TF, SDM Vol. 3A §18.3.1.4), so it is told through a trap.
#[inline(always)]
pub(crate) fn trap_flag_set(before: u32, after: u32) -> Result<(), Exception> {
    if !before & after & crate::flags::TF != 0 {
        Err(Exception::TrapFlagSet)
    } else {
        Ok(())
    }
}

/// One pass of ENTER's memory accesses in architectural order. With `commit == false`
/// only checks (translations with the right intent, which set A/D like the real
/// accesses would); with `commit == true` performs them. Returns (FrameTemp, EBP after
/// the display loop, final ESP).
fn enter_pass<T: Int>(
    cpu: &mut Cpu,
    alloc: u32,
    level: u32,
    commit: bool,
) -> Result<(u32, u32, u32), Exception> {
    let size = T::BITS / 8;
    let mut esp = cpu.regs[ESP];
    let ebp0 = cpu.regs[EBP];
    let mut ebp = ebp0;
    let store = |cpu: &mut Cpu, esp: &mut u32, v: u32| -> Result<(), Exception> {
        *esp = esp.wrapping_sub(size);
        let lin = cpu.linear(SegReg::Ss, *esp)?;
        if commit {
            cpu.write_mem::<T>(lin, T::from_u32(v))
        } else {
            cpu.probe_write(lin, size)
        }
    };
    store(cpu, &mut esp, ebp0)?;
    let frame_temp = esp;
    if level > 0 {
        for _ in 1..level {
            ebp = ebp.wrapping_sub(size);
            let lin = cpu.linear(SegReg::Ss, ebp)?;
            let v = if commit {
                cpu.read_mem::<T>(lin)?.u32()
            } else {
                cpu.probe_read(lin, size)?;
                0
            };
            store(cpu, &mut esp, v)?;
        }
        store(cpu, &mut esp, frame_temp)?;
    }
    let final_esp = esp.wrapping_sub(alloc);
    if !commit {
        let lin = cpu.linear(SegReg::Ss, final_esp)?;
        cpu.probe_write(lin, 1)?;
    }
    Ok((frame_temp, ebp, final_esp))
}

/// ENTER imm16, imm8 (SDM ENTER, 32-bit stack): push eBP; FrameTemp := ESP; copy
/// level-1 frame pointers from the enclosing display; push FrameTemp; eBP := FrameTemp;
/// ESP := ESP - imm16. The reads of the display can themselves fault; they are checked
/// in order with the stores in a first pass, so a fault changes nothing.
pub fn enter<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let alloc = u32::from(insn.immediate16());
    let level = u32::from(insn.immediate8_2nd()) % 32;
    enter_pass::<T>(cpu, alloc, level, false)?;
    let (frame_temp, ebp, final_esp) = enter_pass::<T>(cpu, alloc, level, true)?;
    // eBP := FrameTemp; for a 16-bit operand size only BP, the upper half being what
    // the display loop left in EBP.
    cpu.regs[EBP] = (ebp & !T::MASK) | (frame_temp & T::MASK);
    cpu.regs[ESP] = final_esp;
    Ok(())
}

/// LEAVE: ESP := EBP, then pop eBP; the pop is read before either register changes.
pub fn leave<T: Int>(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    let ebp = cpu.regs[EBP];
    let lin = cpu.linear(SegReg::Ss, ebp)?;
    let v = cpu.read_mem::<T>(lin)?;
    cpu.regs[ESP] = ebp.wrapping_add(T::BITS / 8);
    T::set_reg(cpu, bp::<T>(), v);
    Ok(())
}

pub(crate) fn register(t: &mut Table) {
    forms!(t, push::<u16>, push_form::<u16> => Push_r16, Push_rm16, Push_imm16, Pushw_imm8);
    forms!(t, push::<u32>, push_form::<u32> => Push_r32, Push_rm32, Pushd_imm32, Pushd_imm8);
    forms!(t, pop::<u16>, pop_form::<u16> => Pop_r16, Pop_rm16);
    forms!(t, pop::<u32>, pop_form::<u32> => Pop_r32, Pop_rm32);
    handlers!(t, push_sreg::<u16> => Pushw_ES, Pushw_CS, Pushw_SS, Pushw_DS, Pushw_FS, Pushw_GS);
    handlers!(t, push_sreg::<u32> => Pushd_ES, Pushd_CS, Pushd_SS, Pushd_DS, Pushd_FS, Pushd_GS);
    handlers!(t, pop_sreg::<u16> => Popw_ES, Popw_SS, Popw_DS, Popw_FS, Popw_GS);
    handlers!(t, pop_sreg::<u32> => Popd_ES, Popd_SS, Popd_DS, Popd_FS, Popd_GS);
    handlers!(t, pusha::<u16> => Pushaw);
    handlers!(t, pusha::<u32> => Pushad);
    handlers!(t, popa::<u16> => Popaw);
    handlers!(t, popa::<u32> => Popad);
    handlers!(t, pushf::<u16> => Pushfw);
    handlers!(t, pushf::<u32> => Pushfd);
    handlers!(t, popf::<u16> => Popfw);
    handlers!(t, popf::<u32> => Popfd);
    handlers!(t, enter::<u16> => Enterw_imm16_imm8);
    handlers!(t, enter::<u32> => Enterd_imm16_imm8);
    handlers!(t, leave::<u16> => Leavew);
    handlers!(t, leave::<u32> => Leaved);
}
