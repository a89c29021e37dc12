//! x87 instructions (SDM Vol. 1 ch. 8, Vol. 2 F*).
//!
//! Arithmetic is `fpu::float80` (exact, x87 rounding/flags); this module handles the
//! register stack, stack faults, memory formats, condition codes, the last-instruction
//! pointers and pending (#MF) exceptions. Transcendentals are in `x87/transcend.rs`.
//!
//! Every waiting instruction first checks ES: an unmasked exception left pending by an
//! earlier instruction raises #MF here, with EIP at this instruction (SDM Vol. 1
//! §8.6). The FN* control instructions do not wait.

mod transcend;

use crate::uop::Uop;
use iced_x86::{Code, Register};

use crate::exception::Exception;
use crate::fpu::float80::{self as fp, Class, Cmp, Env, F80};
use crate::fpu::{Fpu, SW_B, SW_C0, SW_C1, SW_C2, SW_C3, SW_CC, SW_ES, SW_EXC, SW_IE, SW_SF};
use crate::mmu::Mmu;
use crate::seg::SegReg;
use crate::table::Table;
use crate::uop::{Handler, EA_FLAT};
use crate::Cpu;
use crate::{forms, handlers};

type R = Result<(), Exception>;

// ---- prologues ----

/// Waiting non-control instruction without a memory operand: #MF if pending, then
/// record FIP/FCS/FOP.
#[inline(always)]
fn begin(cpu: &mut Cpu, insn: &Uop) -> R {
    if cpu.fpu.pending() {
        return Err(Exception::FloatingPoint);
    }
    record(cpu, insn);
    Ok(())
}

/// FIP/FCS/FOP: [`begin`] past its pending check.
#[inline(always)]
fn record(cpu: &mut Cpu, insn: &Uop) {
    cpu.fpu.fip = insn.ip32();
    cpu.fpu.fcs = cpu.segs[SegReg::Cs as usize].selector;
    cpu.fpu.fop = FOP_FROM_CODE;
}

/// Like [`begin`], for an instruction with a memory operand: also records FDP/FDS and
/// returns the operand's linear address.
#[inline(always)]
fn begin_mem(cpu: &mut Cpu, insn: &Uop) -> Result<u32, Exception> {
    begin(cpu, insn)?;
    mem_operand(cpu, insn)
}

#[inline(always)]
fn mem_operand(cpu: &mut Cpu, insn: &Uop) -> Result<u32, Exception> {
    let sreg = insn.segment();
    let off = cpu.effective_address(insn);
    let lin = cpu.operand_lin(insn, off)?;
    cpu.fpu.fdp = off;
    cpu.fpu.fds = cpu.segs[sreg as usize].selector;
    Ok(lin)
}

/// Control instructions that wait (FLDCW, FLDENV, FRSTOR, FSTCW…): #MF if pending.
#[inline(always)]
fn wait_check(cpu: &Cpu) -> R {
    if cpu.fpu.pending() {
        Err(Exception::FloatingPoint)
    } else {
        Ok(())
    }
}

/// Marker in `Fpu::fop`: the opcode is that of the instruction at FIP, read from the
/// code when an environment is stored (keeps the hot path free of re-encoding).
const FOP_FROM_CODE: u16 = 0xffff;

/// Resolves a lazily recorded FOP by reading the instruction bytes at CS:FIP.
pub(crate) fn resolve_fop(cpu: &mut Cpu) {
    if cpu.fpu.fop != FOP_FROM_CODE {
        return;
    }
    let base = cpu.seg_base(SegReg::Cs);
    let mut lin = base.wrapping_add(cpu.fpu.fip);
    let mut fop = 0;
    for _ in 0..14 {
        let Ok(b) = cpu.read_mem::<u8>(lin) else { break };
        match b {
            0x26 | 0x2e | 0x36 | 0x3e | 0x64 | 0x65 | 0x66 | 0x67 | 0xf0 | 0xf2 | 0xf3 | 0x9b => {
                lin = lin.wrapping_add(1);
            }
            0xd8..=0xdf => {
                if let Ok(modrm) = cpu.read_mem::<u8>(lin.wrapping_add(1)) {
                    fop = (u16::from(b & 7) << 8) | u16::from(modrm);
                }
                break;
            }
            _ => break,
        }
    }
    cpu.fpu.fop = fop;
}

// ---- state helpers ----

#[inline(always)]
fn sti(r: Register) -> usize {
    (r as usize).wrapping_sub(Register::ST0 as usize) & 7
}

/// Folds an operation's flags into the status word; C1 from the rounding.
#[inline(always)]
fn finish(fpu: &mut Fpu, env: &Env) {
    fpu.status = (fpu.status & !SW_C1) | env.flags | (u16::from(env.c1) << 9);
    if env.flags & !fpu.control & SW_EXC != 0 {
        fpu.status |= SW_ES | SW_B;
    }
}

/// Stack underflow (#IS, C1 = 0). Returns true if masked (the instruction goes on
/// with the real indefinite as the operand's value).
#[cold]
fn stack_underflow(fpu: &mut Fpu) -> bool {
    fpu.status = (fpu.status & !SW_C1) | SW_IE | SW_SF;
    stack_fault_masked(fpu)
}

/// Stack overflow (#IS, C1 = 1).
#[cold]
fn stack_overflow(fpu: &mut Fpu) -> bool {
    fpu.status |= SW_IE | SW_SF | SW_C1;
    stack_fault_masked(fpu)
}

fn stack_fault_masked(fpu: &mut Fpu) -> bool {
    if fpu.control & SW_IE != 0 {
        true
    } else {
        fpu.status |= SW_ES | SW_B;
        false
    }
}

#[inline(always)]
fn env(cpu: &Cpu) -> Env {
    Env::new(cpu.fpu.control)
}

/// Stores `r` in ST(dst) (and pops) unless an unmasked IE/DE/ZE aborted the operation.
#[inline(always)]
fn commit(fpu: &mut Fpu, env: &Env, dst: usize, r: F80, pop: bool) {
    if !env.aborts() {
        fpu.set_st(dst, r);
        if pop {
            fpu.pop();
        }
    }
    finish(fpu, env);
}

/// Pushes a loaded value: stack overflow if the new ST(0) is not empty. Loads clear C1.
#[inline(always)]
fn push_loaded(fpu: &mut Fpu, env: &Env, v: F80) {
    if !fpu.is_empty(7) {
        if stack_overflow(fpu) {
            fpu.push(F80::INDEFINITE);
        }
        return;
    }
    if !env.aborts() {
        fpu.push(v);
    }
    finish(fpu, env);
}

// ---- memory operands ----

#[inline(always)]
fn read_u64(cpu: &mut Cpu, lin: u32) -> Result<u64, Exception> {
    let lo = cpu.read_mem::<u32>(lin)?;
    let hi = cpu.read_mem::<u32>(lin.wrapping_add(4))?;
    Ok(u64::from(lo) | (u64::from(hi) << 32))
}

#[inline(always)]
fn read_f80(cpu: &mut Cpu, lin: u32) -> Result<F80, Exception> {
    let sig = read_u64(cpu, lin)?;
    let se = cpu.read_mem::<u16>(lin.wrapping_add(8))?;
    Ok(F80 { sig, se })
}

/// Writes after a successful `probe_write` of the whole operand.
#[inline(always)]
fn write_u64(cpu: &mut Cpu, lin: u32, v: u64) -> R {
    cpu.write_mem::<u32>(lin, v as u32)?;
    cpu.write_mem::<u32>(lin.wrapping_add(4), (v >> 32) as u32)
}

/// Memory source formats.
const M32FP: u8 = 0;
const M64FP: u8 = 1;
const M16INT: u8 = 2;
const M32INT: u8 = 3;
const M64INT: u8 = 4;

/// Reads a memory source operand and converts it to the register format (exactly;
/// a denormal single/double raises DE, SNaNs stay signaling).
#[inline(always)]
fn read_src<const SRC: u8>(cpu: &mut Cpu, lin: u32, env: &mut Env) -> Result<F80, Exception> {
    Ok(match SRC {
        M32FP => fp::from_f32(env, cpu.read_mem::<u32>(lin)?),
        M64FP => fp::from_f64(env, read_u64(cpu, lin)?),
        M16INT => fp::from_i64(i64::from(cpu.read_mem::<u16>(lin)? as i16)),
        M32INT => fp::from_i64(i64::from(cpu.read_mem::<u32>(lin)? as i32)),
        _ => fp::from_i64(read_u64(cpu, lin)? as i64),
    })
}

// ---- the fast lane ----
//
// The hot handlers first try the common case whole: no exception pending, the
// operands present and normal, a memory operand inside one page whose translation
// the TLB holds, and a result that `float80`'s fast lane delivers (a normal number:
// only PE and C1 can come of it). Once the pending check has passed they record the
// instruction and operand pointers (SDM Vol. 1 §8.1.8) exactly as the general
// handlers do first thing; everything else they work out before changing anything,
// then commit with plain stores. Anything else runs the instruction from the start
// through the general handler, out of line, which records the same pointers again,
// so both leave the same state: registers, tags, TOP, status word, FIP/FCS/FOP and
// FDP/FDS alike. Only the TLB's hit counter (a statistic) differs: one hit per
// operand here, where the general path counts each of its lookups (two reads for an
// m64 source; a probe and two writes for an m64 store).

/// [`begin_mem`] for a known address shape, once the caller has found no exception
/// pending: FIP/FCS/FOP and, when the segment is usable, FDP/FDS recorded, as
/// `begin_mem` records them, and the operand's linear address. `None` (with the same
/// pointers recorded) where `begin_mem` raises #GP: the general handler then runs
/// from the start, records the same values again and raises it. (The callers send a
/// pending exception to the general handler too, which raises #MF before recording
/// anything: every way out of the fast lane is then a tail call.)
#[inline(always)]
fn begin_quick<const EA: u8>(cpu: &mut Cpu, u: &Uop) -> Option<u32> {
    record(cpu, u);
    let off = cpu.ea::<EA>(u);
    let seg = &cpu.segs[usize::from(u.seg)];
    if EA & EA_FLAT != 0 {
        // A flat segment (`Cpu::mem_lin`): usable, base 0; FDS is still its selector.
        cpu.fpu.fdp = off;
        cpu.fpu.fds = seg.selector;
        return Some(off);
    }
    if !seg.usable {
        return None;
    }
    let lin = seg.base.wrapping_add(off);
    cpu.fpu.fdp = off;
    cpu.fpu.fds = seg.selector;
    Some(lin)
}

/// The status word after a fast-lane operation that set `sw` (PE, C1): [`finish`]'s
/// rule. `CW` not 0: the control word is known to mask every exception (see
/// [`quick_control`]), so nothing is unmasked and ES is left as it is (clear: the
/// pending check passed).
#[inline(always)]
fn settle<const CW: u16>(fpu: &mut Fpu, sw: u16) {
    let s = (fpu.status & !SW_C1) | sw;
    if CW != 0 {
        fpu.status = s;
        return;
    }
    fpu.status = if sw & !fpu.control & SW_EXC != 0 { s | SW_ES | SW_B } else { s };
}

/// [`compute`] on the fast lane.
#[inline(always)]
fn quick<const OP: u8>(control: u16, dst: F80, src: F80) -> Option<(F80, u16)> {
    match OP {
        ADD => fp::add_quick(control, dst, src, false),
        MUL => fp::mul_quick(control, dst, src),
        SUB => fp::add_quick(control, dst, src, true),
        SUBR => fp::add_quick(control, src, dst, true),
        DIV => fp::div_quick(control, dst, src),
        _ => fp::div_quick(control, src, dst),
    }
}

/// A memory source on the fast lane: read through a TLB hit and converted, if the
/// conversion raises nothing ([`read_src`] otherwise).
#[inline(always)]
fn load_quick<const SRC: u8>(mmu: &Mmu, lin: u32) -> Option<F80> {
    match SRC {
        M32FP => fp::from_f32_quick(u32::from_le_bytes(mmu.read_hit_bytes::<4>(lin)?)),
        M64FP => fp::from_f64_quick(u64::from_le_bytes(mmu.read_hit_bytes::<8>(lin)?)),
        M16INT => Some(fp::from_i64(i64::from(i16::from_le_bytes(mmu.read_hit_bytes::<2>(lin)?)))),
        M32INT => Some(fp::from_i64(i64::from(i32::from_le_bytes(mmu.read_hit_bytes::<4>(lin)?)))),
        _ => Some(fp::from_i64(i64::from_le_bytes(mmu.read_hit_bytes::<8>(lin)?))),
    }
}

/// The precision, rounding and exception-mask fields of the control word, and
/// their values after FNINIT (64 bits, to nearest, all masked), which every Linux
/// process starts with.
const CW_FIELDS: u16 = 0x0f3f;
const CW_DEFAULT: u16 = 0x033f;

/// FNINIT's control word, which [`CW_FIELDS`] holding [`CW_DEFAULT`] stands for.
const FNINIT_CW: u16 = 0x037f;

/// Rounding toward zero, all exceptions masked: what C's casts to integer load
/// around a FISTP (the precision control does not matter to it).
const TRUNC_MASKS: u16 = 0x0c3f;
const TRUNC_CW: u16 = 0x0f7f;

/// The control word the fast lane is given: `CW` when not 0, which the caller has
/// found to stand for the control word in everything the operation reads of it (its
/// rounding, and masks all set: [`settle`]), so that the rounding has no other case
/// and the handler no out-of-line call to keep registers across; else the real one.
#[inline(always)]
fn quick_control<const CW: u16>(fpu: &Fpu) -> u16 {
    if CW != 0 {
        CW
    } else {
        fpu.control
    }
}

/// ST(dst) ← ST(dst) op ST(src) (and pop) on the fast lane; false, having changed
/// nothing, if the instruction must take the general path. `CW`: see
/// [`quick_control`].
#[inline(always)]
fn quick_regs<const OP: u8, const POP: bool, const CW: u16>(fpu: &mut Fpu, dst: usize, src: usize) -> bool {
    // Bit i of the tags rotated by TOP is ST(i)'s: with the indices known when the
    // handler is chosen, one rotate and a constant mask.
    if fpu.empty.rotate_right(u32::from(fpu.top)) & ((1 << dst) | (1 << src)) != 0 {
        return false;
    }
    let (pd, ps) = (fpu.phys(dst), fpu.phys(src));
    let Some((r, sw)) = quick::<OP>(quick_control::<CW>(fpu), fpu.regs[pd], fpu.regs[ps]) else {
        return false;
    };
    fpu.regs[pd] = r;
    settle::<CW>(fpu, sw);
    if POP {
        fpu.pop();
    }
    true
}

/// FADD… ST(0), m32fp/m64fp/m16int/m32int with a known address shape.
fn arith_mem_ea<const OP: u8, const SRC: u8, const EA: u8>(cpu: &mut Cpu, u: &Uop) -> R {
    if cpu.fpu.control & CW_FIELDS != CW_DEFAULT {
        return arith_mem_any::<OP, SRC, EA>(cpu, u);
    }
    arith_mem_quick::<OP, SRC, EA, FNINIT_CW>(cpu, u)
}

/// [`arith_mem_ea`] under another precision or rounding control.
#[inline(never)]
fn arith_mem_any<const OP: u8, const SRC: u8, const EA: u8>(cpu: &mut Cpu, u: &Uop) -> R {
    arith_mem_quick::<OP, SRC, EA, 0>(cpu, u)
}

#[inline(always)]
fn arith_mem_quick<const OP: u8, const SRC: u8, const EA: u8, const CW: u16>(cpu: &mut Cpu, u: &Uop) -> R {
    if cpu.fpu.pending() {
        return arith_mem::<OP, SRC>(cpu, u);
    }
    let Some(lin) = begin_quick::<EA>(cpu, u) else { return arith_mem::<OP, SRC>(cpu, u) };
    let fpu = &cpu.fpu;
    let p0 = fpu.phys(0);
    if fpu.empty & (1 << p0) == 0 {
        if let Some(src) = load_quick::<SRC>(&cpu.mmu, lin) {
            if let Some((r, sw)) = quick::<OP>(quick_control::<CW>(fpu), fpu.regs[p0], src) {
                cpu.mmu.count_tlb_hit();
                cpu.fpu.regs[p0] = r;
                settle::<CW>(&mut cpu.fpu, sw);
                return Ok(());
            }
        }
    }
    arith_mem::<OP, SRC>(cpu, u)
}

fn arith_mem_form<const OP: u8, const SRC: u8>(u: &Uop) -> Option<Handler> {
    crate::by_ea!(u, arith_mem_ea::<OP, SRC>)
}

/// FLD m32fp/m64fp, FILD m16/m32/m64int with a known address shape.
fn fld_ea<const SRC: u8, const EA: u8>(cpu: &mut Cpu, u: &Uop) -> R {
    let lin = if cpu.fpu.pending() { None } else { begin_quick::<EA>(cpu, u) };
    if let Some(lin) = lin.filter(|_| cpu.fpu.is_empty(7)) {
        if let Some(v) = load_quick::<SRC>(&cpu.mmu, lin) {
            cpu.mmu.count_tlb_hit();
            let fpu = &mut cpu.fpu;
            fpu.push(v);
            // As `push_loaded`: a load clears C1 and raises nothing here.
            fpu.status &= !SW_C1;
            return Ok(());
        }
    }
    match SRC {
        M32FP | M64FP => fld_mem::<SRC>(cpu, u),
        _ => fild::<SRC>(cpu, u),
    }
}

fn fld_form<const SRC: u8>(u: &Uop) -> Option<Handler> {
    crate::by_ea!(u, fld_ea::<SRC>)
}

/// FST/FSTP m32fp/m64fp, FIST/FISTP m16/m32/m64int with a known address shape.
fn fst_ea<const DST: u8, const POP: bool, const EA: u8>(cpu: &mut Cpu, u: &Uop) -> R {
    if cpu.fpu.control & CW_FIELDS != CW_DEFAULT {
        return fst_any::<DST, POP, EA>(cpu, u);
    }
    fst_quick::<DST, POP, EA, FNINIT_CW>(cpu, u)
}

/// [`fst_ea`] under another control word.
#[inline(never)]
fn fst_any<const DST: u8, const POP: bool, const EA: u8>(cpu: &mut Cpu, u: &Uop) -> R {
    if matches!(DST, DST_M16I | DST_M32I | DST_M64I) && cpu.fpu.control & TRUNC_MASKS == TRUNC_MASKS {
        return fst_quick::<DST, POP, EA, TRUNC_CW>(cpu, u);
    }
    fst_quick::<DST, POP, EA, 0>(cpu, u)
}

#[inline(always)]
fn fst_quick<const DST: u8, const POP: bool, const EA: u8, const CW: u16>(cpu: &mut Cpu, u: &Uop) -> R {
    let lin = if cpu.fpu.pending() { None } else { begin_quick::<EA>(cpu, u) };
    let fpu = &cpu.fpu;
    let p0 = fpu.phys(0);
    if let Some(lin) = lin.filter(|_| fpu.empty & (1 << p0) == 0) {
        let (x, control) = (fpu.regs[p0], quick_control::<CW>(fpu));
        let mmu = &mut cpu.mmu;
        let sw = match DST {
            DST_M32 => fp::to_f32_quick(control, x)
                .and_then(|(b, sw)| mmu.write_hit_bytes(lin, b.to_le_bytes()).then_some(sw)),
            DST_M64 => fp::to_f64_quick(control, x)
                .and_then(|(b, sw)| mmu.write_hit_bytes(lin, b.to_le_bytes()).then_some(sw)),
            DST_M16I => fp::to_int_quick(control, x, 16)
                .and_then(|(v, sw)| mmu.write_hit_bytes(lin, (v as u16).to_le_bytes()).then_some(sw)),
            DST_M32I => fp::to_int_quick(control, x, 32)
                .and_then(|(v, sw)| mmu.write_hit_bytes(lin, (v as u32).to_le_bytes()).then_some(sw)),
            _ => fp::to_int_quick(control, x, 64)
                .and_then(|(v, sw)| mmu.write_hit_bytes(lin, v.to_le_bytes()).then_some(sw)),
        };
        if let Some(sw) = sw {
            cpu.mmu.count_tlb_hit();
            settle::<CW>(&mut cpu.fpu, sw);
            if POP {
                cpu.fpu.pop();
            }
            return Ok(());
        }
    }
    fst_mem::<DST, POP>(cpu, u)
}

fn fst_form<const DST: u8, const POP: bool>(u: &Uop) -> Option<Handler> {
    crate::by_ea!(u, fst_ea::<DST, POP>)
}

/// FLDCW with a known address shape.
fn fldcw_ea<const EA: u8>(cpu: &mut Cpu, u: &Uop) -> R {
    if !cpu.fpu.pending() {
        if let Ok(lin) = cpu.mem_lin::<EA>(u) {
            if let Some(cw) = cpu.mmu.read_hit::<u16>(lin) {
                cpu.fpu.set_control_word(cw);
                return Ok(());
            }
        }
    }
    fldcw(cpu, u)
}

fn fldcw_form(u: &Uop) -> Option<Handler> {
    crate::by_ea!(u, fldcw_ea)
}

/// FNSTCW with a known address shape.
fn fnstcw_ea<const EA: u8>(cpu: &mut Cpu, u: &Uop) -> R {
    if let Ok(lin) = cpu.mem_lin::<EA>(u) {
        if cpu.mmu.write_hit::<u16>(lin, cpu.fpu.control) {
            return Ok(());
        }
    }
    fnstcw(cpu, u)
}

fn fnstcw_form(u: &Uop) -> Option<Handler> {
    crate::by_ea!(u, fnstcw_ea)
}

// ---- arithmetic ----

/// Operation numbers (the ModRM reg field of D8/DC).
const ADD: u8 = 0;
const MUL: u8 = 1;
const SUB: u8 = 4;
const SUBR: u8 = 5;
const DIV: u8 = 6;
const DIVR: u8 = 7;

#[inline(always)]
fn compute<const OP: u8>(env: &mut Env, dst: F80, src: F80) -> F80 {
    match OP {
        ADD => fp::add(env, dst, src, false),
        MUL => fp::mul(env, dst, src),
        SUB => fp::add(env, dst, src, true),
        SUBR => fp::add(env, src, dst, true),
        DIV => fp::div(env, dst, src),
        _ => fp::div(env, src, dst),
    }
}

/// FADD/FMUL/FSUB/FSUBR/FDIV/FDIVR ST(0), m32fp/m64fp and FIxxx m16int/m32int.
#[inline(never)]
fn arith_mem<const OP: u8, const SRC: u8>(cpu: &mut Cpu, insn: &Uop) -> R {
    let lin = begin_mem(cpu, insn)?;
    let mut env = env(cpu);
    let src = read_src::<SRC>(cpu, lin, &mut env)?;
    let fpu = &mut cpu.fpu;
    if fpu.is_empty(0) {
        if stack_underflow(fpu) {
            fpu.set_st(0, F80::INDEFINITE);
        }
        return Ok(());
    }
    let r = compute::<OP>(&mut env, fpu.st(0), src);
    commit(fpu, &env, 0, r, false);
    Ok(())
}

/// Picks `f::<…, I>` for the ST(i) number `i` of a register form, so that the
/// handler knows which registers it works on (SDM Vol. 1 §8.1.2: ST(i) is
/// physical register (TOP + i) mod 8).
macro_rules! by_sti {
    (@pick $i:expr, $f:ident, [$($g:tt,)*]) => {
        Some(match $i & 7 {
            0 => $f::<$($g,)* 0> as Handler,
            1 => $f::<$($g,)* 1> as Handler,
            2 => $f::<$($g,)* 2> as Handler,
            3 => $f::<$($g,)* 3> as Handler,
            4 => $f::<$($g,)* 4> as Handler,
            5 => $f::<$($g,)* 5> as Handler,
            6 => $f::<$($g,)* 6> as Handler,
            _ => $f::<$($g,)* 7> as Handler,
        })
    };
    ($i:expr, $f:ident :: < $($g:tt),* >) => {
        by_sti!(@pick $i, $f, [$($g,)*])
    };
    ($i:expr, $f:ident) => {
        by_sti!(@pick $i, $f, [])
    };
}

/// [`arith_st0_sti`] for ST(`I`).
fn arith_st0_i<const OP: u8, const I: usize>(cpu: &mut Cpu, insn: &Uop) -> R {
    if cpu.fpu.control & CW_FIELDS != CW_DEFAULT {
        return arith_st0_sti::<OP>(cpu, insn);
    }
    begin(cpu, insn)?;
    if quick_regs::<OP, false, FNINIT_CW>(&mut cpu.fpu, 0, I) {
        return Ok(());
    }
    arith_st0_sti_rest::<OP>(cpu, insn)
}

fn arith_st0_sti_form<const OP: u8>(u: &Uop) -> Option<Handler> {
    by_sti!(sti(u.op1_register()), arith_st0_i::<OP>)
}

/// [`arith_sti_st0`] for ST(`I`).
fn arith_i_st0<const OP: u8, const POP: bool, const I: usize>(cpu: &mut Cpu, insn: &Uop) -> R {
    if cpu.fpu.control & CW_FIELDS != CW_DEFAULT {
        return arith_sti_st0::<OP, POP>(cpu, insn);
    }
    begin(cpu, insn)?;
    if quick_regs::<OP, POP, FNINIT_CW>(&mut cpu.fpu, I, 0) {
        return Ok(());
    }
    arith_sti_st0_rest::<OP, POP>(cpu, insn)
}

fn arith_sti_st0_form<const OP: u8, const POP: bool>(u: &Uop) -> Option<Handler> {
    by_sti!(sti(u.op0_register()), arith_i_st0::<OP, POP>)
}

/// ST(0) ← ST(0) op ST(i). Out of line: the forms by register call it for any
/// control word but the default.
#[inline(never)]
fn arith_st0_sti<const OP: u8>(cpu: &mut Cpu, insn: &Uop) -> R {
    begin(cpu, insn)?;
    if quick_regs::<OP, false, 0>(&mut cpu.fpu, 0, sti(insn.op1_register())) {
        return Ok(());
    }
    arith_st0_sti_rest::<OP>(cpu, insn)
}

/// ST(i) ← ST(i) op ST(0), optionally popping. Out of line, as [`arith_st0_sti`].
#[inline(never)]
fn arith_sti_st0<const OP: u8, const POP: bool>(cpu: &mut Cpu, insn: &Uop) -> R {
    begin(cpu, insn)?;
    if quick_regs::<OP, POP, 0>(&mut cpu.fpu, sti(insn.op0_register()), 0) {
        return Ok(());
    }
    arith_sti_st0_rest::<OP, POP>(cpu, insn)
}

/// [`arith_st0_sti`] past the fast lane (which changed nothing), from the start, out
/// of line so that the general path's code stays out of the fast lane's way.
#[inline(never)]
fn arith_st0_sti_rest<const OP: u8>(cpu: &mut Cpu, insn: &Uop) -> R {
    begin(cpu, insn)?;
    arith_regs::<OP>(cpu, 0, sti(insn.op1_register()), false);
    Ok(())
}

/// [`arith_sti_st0`] past the fast lane.
#[inline(never)]
fn arith_sti_st0_rest<const OP: u8, const POP: bool>(cpu: &mut Cpu, insn: &Uop) -> R {
    begin(cpu, insn)?;
    arith_regs::<OP>(cpu, sti(insn.op0_register()), 0, POP);
    Ok(())
}

#[inline(always)]
fn arith_regs<const OP: u8>(cpu: &mut Cpu, dst: usize, src: usize, pop: bool) {
    let mut env = env(cpu);
    let fpu = &mut cpu.fpu;
    if fpu.is_empty(dst) || fpu.is_empty(src) {
        if stack_underflow(fpu) {
            fpu.set_st(dst, F80::INDEFINITE);
            if pop {
                fpu.pop();
            }
        }
        return;
    }
    let (a, b) = (fpu.st(dst), fpu.st(src));
    // Past the fast lane a zero operand is the common reason (x − x, 0 × y).
    let quick = match OP {
        ADD => fp::zero_quick(fpu.control, 0, a, b),
        SUB => fp::zero_quick(fpu.control, 0, a, b.negate()),
        SUBR => fp::zero_quick(fpu.control, 0, b, a.negate()),
        MUL => fp::zero_quick(fpu.control, 1, a, b),
        DIV => fp::zero_quick(fpu.control, 2, a, b),
        _ => fp::zero_quick(fpu.control, 2, b, a),
    };
    if let Some((r, sw)) = quick {
        fpu.set_st(dst, r);
        if pop {
            fpu.pop();
        }
        settle::<0>(fpu, sw);
        return;
    }
    let r = compute::<OP>(&mut env, a, b);
    commit(fpu, &env, dst, r, pop);
}

/// FSQRT, FRNDINT, FCHS, FABS: ST(0) ← f(ST(0)).
fn unary(cpu: &mut Cpu, insn: &Uop, f: fn(&mut Env, F80) -> F80) -> R {
    begin(cpu, insn)?;
    let mut env = env(cpu);
    let fpu = &mut cpu.fpu;
    if fpu.is_empty(0) {
        if stack_underflow(fpu) {
            fpu.set_st(0, F80::INDEFINITE);
        }
        return Ok(());
    }
    let r = f(&mut env, fpu.st(0));
    commit(fpu, &env, 0, r, false);
    Ok(())
}

fn fsqrt(cpu: &mut Cpu, insn: &Uop) -> R {
    begin(cpu, insn)?;
    let fpu = &mut cpu.fpu;
    if !fpu.is_empty(0) {
        if let Some((r, sw)) = fp::sqrt_quick(fpu.control, fpu.st(0)) {
            let p0 = fpu.phys(0);
            fpu.regs[p0] = r;
            settle::<0>(fpu, sw);
            return Ok(());
        }
    }
    unary(cpu, insn, fp::sqrt)
}

fn frndint(cpu: &mut Cpu, insn: &Uop) -> R {
    unary(cpu, insn, fp::round_int)
}

fn fchs(cpu: &mut Cpu, insn: &Uop) -> R {
    unary(cpu, insn, |_, x| x.negate())
}

fn fabs(cpu: &mut Cpu, insn: &Uop) -> R {
    unary(cpu, insn, |_, x| x.abs())
}

/// FSCALE: ST(0) ← ST(0) × 2^trunc(ST(1)).
fn fscale(cpu: &mut Cpu, insn: &Uop) -> R {
    begin(cpu, insn)?;
    binary_st0_st1(cpu, fp::scale);
    Ok(())
}

#[inline(always)]
fn binary_st0_st1(cpu: &mut Cpu, f: fn(&mut Env, F80, F80) -> F80) {
    let mut env = env(cpu);
    let fpu = &mut cpu.fpu;
    if fpu.is_empty(0) || fpu.is_empty(1) {
        if stack_underflow(fpu) {
            fpu.set_st(0, F80::INDEFINITE);
        }
        return;
    }
    let r = f(&mut env, fpu.st(0), fpu.st(1));
    commit(fpu, &env, 0, r, false);
}

/// FPREM / FPREM1.
fn fprem<const NEAREST: bool>(cpu: &mut Cpu, insn: &Uop) -> R {
    begin(cpu, insn)?;
    let mut env = env(cpu);
    let fpu = &mut cpu.fpu;
    if fpu.is_empty(0) || fpu.is_empty(1) {
        if stack_underflow(fpu) {
            fpu.set_st(0, F80::INDEFINITE);
        }
        return Ok(());
    }
    let r = fp::rem(&mut env, fpu.st(0), fpu.st(1), NEAREST);
    if env.aborts() {
        finish(fpu, &env);
        return Ok(());
    }
    fpu.set_st(0, r.value);
    finish(fpu, &env);
    let q = r.q;
    let mut cc = 0;
    if r.partial {
        cc |= SW_C2;
    } else {
        if q & 4 != 0 {
            cc |= SW_C0;
        }
        if q & 2 != 0 {
            cc |= SW_C3;
        }
        if q & 1 != 0 {
            cc |= SW_C1;
        }
    }
    fpu.status = (fpu.status & !SW_CC) | cc;
    Ok(())
}

/// FXTRACT: ST(0) ← exponent, then push the significand.
fn fxtract(cpu: &mut Cpu, insn: &Uop) -> R {
    begin(cpu, insn)?;
    let mut env = env(cpu);
    let fpu = &mut cpu.fpu;
    if fpu.is_empty(0) {
        if stack_underflow(fpu) {
            fpu.set_st(0, F80::INDEFINITE);
            if fpu.is_empty(7) {
                fpu.push(F80::INDEFINITE);
            }
        }
        return Ok(());
    }
    if !fpu.is_empty(7) {
        if stack_overflow(fpu) {
            fpu.set_st(0, F80::INDEFINITE);
            fpu.push(F80::INDEFINITE);
        }
        return Ok(());
    }
    let (e, s) = fp::xtract(&mut env, fpu.st(0));
    if !env.aborts() {
        fpu.set_st(0, e);
        fpu.push(s);
    }
    finish(fpu, &env);
    Ok(())
}

// ---- loads ----

/// FLD m32fp/m64fp: SNaN → IE and quieted.
#[inline(never)]
fn fld_mem<const SRC: u8>(cpu: &mut Cpu, insn: &Uop) -> R {
    let lin = begin_mem(cpu, insn)?;
    let mut env = env(cpu);
    let mut v = read_src::<SRC>(cpu, lin, &mut env)?;
    if env.src_denormal {
        env.flags |= fp::DE;
    }
    if v.is_snan() {
        env.flags |= fp::IE;
        v = v.quiet();
    }
    // An unmasked DE still loads the (normalized) value; an unmasked IE does not.
    let mut load_env = env;
    load_env.mask |= fp::DE;
    push_loaded(&mut cpu.fpu, &load_env, v);
    Ok(())
}

/// FLD m80fp: no conversion, no exceptions but stack overflow.
fn fld_m80(cpu: &mut Cpu, insn: &Uop) -> R {
    let lin = begin_mem(cpu, insn)?;
    let v = read_f80(cpu, lin)?;
    let env = env(cpu);
    push_loaded(&mut cpu.fpu, &env, v);
    Ok(())
}

/// FILD m16/m32/m64int.
#[inline(never)]
fn fild<const SRC: u8>(cpu: &mut Cpu, insn: &Uop) -> R {
    let lin = begin_mem(cpu, insn)?;
    let mut env = env(cpu);
    let v = read_src::<SRC>(cpu, lin, &mut env)?;
    push_loaded(&mut cpu.fpu, &env, v);
    Ok(())
}

fn fbld(cpu: &mut Cpu, insn: &Uop) -> R {
    let lin = begin_mem(cpu, insn)?;
    let mut b = [0u8; 10];
    cpu.read_bytes(lin, &mut b)?;
    let env = env(cpu);
    push_loaded(&mut cpu.fpu, &env, fp::from_bcd(b));
    Ok(())
}

/// FLD ST(i).
fn fld_sti(cpu: &mut Cpu, insn: &Uop) -> R {
    begin(cpu, insn)?;
    let i = sti(insn.op0_register());
    let env = env(cpu);
    let fpu = &mut cpu.fpu;
    if fpu.is_empty(i) {
        if stack_underflow(fpu) {
            if !fpu.is_empty(7) {
                stack_overflow(fpu);
            }
            fpu.push(F80::INDEFINITE);
        }
        return Ok(());
    }
    let v = fpu.st(i);
    push_loaded(fpu, &env, v);
    Ok(())
}

/// [`fld_sti`] for ST(`I`): ST(I) present and ST(7), the new ST(0), empty is the
/// common case (no stack fault; a load clears C1 and raises nothing, as in
/// [`push_loaded`]); anything else runs [`fld_sti`] from the start.
fn fld_i<const I: usize>(cpu: &mut Cpu, insn: &Uop) -> R {
    begin(cpu, insn)?;
    let fpu = &mut cpu.fpu;
    let tags = fpu.empty.rotate_right(u32::from(fpu.top));
    if tags & (1 << I) == 0 && tags & (1 << 7) != 0 {
        let v = fpu.st(I);
        fpu.push(v);
        fpu.status &= !SW_C1;
        return Ok(());
    }
    fld_sti(cpu, insn)
}

fn fld_sti_form(u: &Uop) -> Option<Handler> {
    by_sti!(sti(u.op0_register()), fld_i)
}

/// FLD1, FLDZ, FLDPI…: the constant rounded under RC (no PE).
fn fld_const<const K: u8>(cpu: &mut Cpu, insn: &Uop) -> R {
    begin(cpu, insn)?;
    let env = env(cpu);
    let v = transcend::constant(K, env.rc);
    push_loaded(&mut cpu.fpu, &env, v);
    Ok(())
}

// ---- stores ----

/// Destination formats.
const DST_M32: u8 = 0;
const DST_M64: u8 = 1;
const DST_M16I: u8 = 2;
const DST_M32I: u8 = 3;
const DST_M64I: u8 = 4;
/// FISTTP (SSE3): the integer stores that truncate whatever RC says.
const DST_M16T: u8 = 5;
const DST_M32T: u8 = 6;
const DST_M64T: u8 = 7;

/// FST/FSTP m32fp/m64fp, FIST/FISTP m16/m32/m64int.
#[inline(never)]
fn fst_mem<const DST: u8, const POP: bool>(cpu: &mut Cpu, insn: &Uop) -> R {
    let lin = begin_mem(cpu, insn)?;
    let size = match DST {
        DST_M32 | DST_M32I | DST_M32T => 4,
        DST_M16I | DST_M16T => 2,
        _ => 8,
    };
    cpu.probe_write(lin, size)?;
    let mut env = env(cpu);
    if DST >= DST_M16T {
        // FISTTP: "as if the rounding control were 11b (chop)", FCW unchanged.
        env.rc = 3;
    }
    let x = if cpu.fpu.is_empty(0) {
        if !stack_underflow(&mut cpu.fpu) {
            return Ok(());
        }
        F80::INDEFINITE
    } else {
        cpu.fpu.st(0)
    };
    let bits: u64 = match DST {
        DST_M32 => u64::from(fp::to_f32(&mut env, x)),
        DST_M64 => fp::to_f64(&mut env, x),
        DST_M16I | DST_M16T => fp::to_int(&mut env, x, 16) as u64,
        DST_M32I | DST_M32T => fp::to_int(&mut env, x, 32) as u64,
        _ => fp::to_int(&mut env, x, 64) as u64,
    };
    if env.flags & !env.mask & (fp::IE | fp::DE | fp::ZE | fp::OE | fp::UE) == 0 {
        match size {
            2 => cpu.write_mem::<u16>(lin, bits as u16)?,
            4 => cpu.write_mem::<u32>(lin, bits as u32)?,
            _ => write_u64(cpu, lin, bits)?,
        }
        if POP {
            cpu.fpu.pop();
        }
    }
    finish(&mut cpu.fpu, &env);
    Ok(())
}

/// FSTP m80fp: an exact copy.
fn fstp_m80(cpu: &mut Cpu, insn: &Uop) -> R {
    let lin = begin_mem(cpu, insn)?;
    cpu.probe_write(lin, 10)?;
    let x = if cpu.fpu.is_empty(0) {
        if !stack_underflow(&mut cpu.fpu) {
            return Ok(());
        }
        F80::INDEFINITE
    } else {
        cpu.fpu.status &= !SW_C1;
        cpu.fpu.st(0)
    };
    write_u64(cpu, lin, x.sig)?;
    cpu.write_mem::<u16>(lin.wrapping_add(8), x.se)?;
    cpu.fpu.pop();
    Ok(())
}

fn fbstp(cpu: &mut Cpu, insn: &Uop) -> R {
    let lin = begin_mem(cpu, insn)?;
    cpu.probe_write(lin, 10)?;
    let mut env = env(cpu);
    let x = if cpu.fpu.is_empty(0) {
        if !stack_underflow(&mut cpu.fpu) {
            return Ok(());
        }
        F80::INDEFINITE
    } else {
        cpu.fpu.st(0)
    };
    let b = fp::to_bcd(&mut env, x);
    if !env.aborts() {
        cpu.write_bytes(lin, &b)?;
        cpu.fpu.pop();
    }
    finish(&mut cpu.fpu, &env);
    Ok(())
}

/// FST/FSTP ST(i).
fn fst_sti<const POP: bool>(cpu: &mut Cpu, insn: &Uop) -> R {
    begin(cpu, insn)?;
    let i = sti(insn.op0_register());
    let fpu = &mut cpu.fpu;
    let v = if fpu.is_empty(0) {
        if !stack_underflow(fpu) {
            return Ok(());
        }
        F80::INDEFINITE
    } else {
        fpu.status &= !SW_C1;
        fpu.st(0)
    };
    fpu.set_st(i, v);
    if POP {
        fpu.pop();
    }
    Ok(())
}

// ---- comparisons ----

#[inline(always)]
fn set_cc(fpu: &mut Fpu, c: Cmp) {
    let cc = match c {
        Cmp::Greater => 0,
        Cmp::Less => SW_C0,
        Cmp::Equal => SW_C3,
        Cmp::Unordered => SW_C0 | SW_C2 | SW_C3,
    };
    fpu.status = (fpu.status & !SW_CC) | cc;
}

/// Compares ST(0) with `src` (None: an empty register), sets C0/C2/C3, pops `pops`
/// times.
#[inline(always)]
fn compare_cc(fpu: &mut Fpu, env: &mut Env, src: Option<F80>, quiet: bool, pops: u8) {
    let c = match (fpu.is_empty(0), src) {
        (false, Some(s)) => fp::compare(env, fpu.st(0), s, quiet),
        _ => {
            if !stack_underflow(fpu) {
                set_cc(fpu, Cmp::Unordered);
                return;
            }
            Cmp::Unordered
        }
    };
    // The codes are set even when an unmasked exception is raised (unordered for
    // IE); the pops are not done then.
    finish(fpu, env);
    set_cc(fpu, c);
    if !env.aborts() {
        for _ in 0..pops {
            fpu.pop();
        }
    }
}

/// FCOM/FCOMP m32fp/m64fp, FICOM/FICOMP m16/m32int.
fn fcom_mem<const SRC: u8, const POP: u8>(cpu: &mut Cpu, insn: &Uop) -> R {
    let lin = begin_mem(cpu, insn)?;
    let mut env = env(cpu);
    let src = read_src::<SRC>(cpu, lin, &mut env)?;
    compare_cc(&mut cpu.fpu, &mut env, Some(src), false, POP);
    Ok(())
}

/// FCOM/FCOMP/FCOMPP/FUCOM/FUCOMP/FUCOMPP with ST(i) (FCOMPP: ST(1)).
fn fcom_sti<const QUIET: bool, const POP: u8>(cpu: &mut Cpu, insn: &Uop) -> R {
    begin(cpu, insn)?;
    let i = if insn.op_count() > 1 { sti(insn.op1_register()) } else { 1 };
    let mut env = env(cpu);
    let fpu = &mut cpu.fpu;
    let src = if fpu.is_empty(i) { None } else { Some(fpu.st(i)) };
    compare_cc(fpu, &mut env, src, QUIET, POP);
    Ok(())
}

fn ftst(cpu: &mut Cpu, insn: &Uop) -> R {
    begin(cpu, insn)?;
    let mut env = env(cpu);
    compare_cc(&mut cpu.fpu, &mut env, Some(F80::ZERO), false, 0);
    Ok(())
}

/// FCOMI/FCOMIP/FUCOMI/FUCOMIP: ZF, PF, CF in EFLAGS (OF, SF, AF cleared).
fn fcomi<const QUIET: bool, const POP: bool>(cpu: &mut Cpu, insn: &Uop) -> R {
    begin(cpu, insn)?;
    let i = sti(insn.op1_register());
    let mut env = env(cpu);
    let fpu = &mut cpu.fpu;
    let (a, b) = (fpu.st(0), fpu.st(i));
    if !fpu.is_empty(0) && !fpu.is_empty(i) && fp::ordinary(a) && fp::ordinary(b) {
        // Zeros and normals compare without raising anything: the status word
        // keeps C1 and every flag (see below), and the pop is done.
        let c = fp::compare_values(a, b);
        if POP {
            fpu.pop();
        }
        let (zf, cf) = (c == Cmp::Equal, c == Cmp::Less);
        cpu.flags.set_arith(cf, false, false, zf, false, false);
        return Ok(());
    }
    let c = if fpu.is_empty(0) || fpu.is_empty(i) {
        if !stack_underflow(fpu) {
            cpu.flags.set_arith(true, true, false, true, false, false);
            return Ok(());
        }
        Cmp::Unordered
    } else {
        fp::compare(&mut env, fpu.st(0), fpu.st(i), QUIET)
    };
    // Unlike FCOM, FCOMI leaves C1 alone (measured on hardware).
    env.c1 = fpu.status & SW_C1 != 0;
    finish(fpu, &env);
    // As for FCOM, the flags are set even when an unmasked exception is raised; the
    // pop is not done then.
    if POP && !env.aborts() {
        fpu.pop();
    }
    let (zf, pf, cf) = match c {
        Cmp::Greater => (false, false, false),
        Cmp::Less => (false, false, true),
        Cmp::Equal => (true, false, false),
        Cmp::Unordered => (true, true, true),
    };
    cpu.flags.set_arith(cf, pf, false, zf, false, false);
    Ok(())
}

/// FXAM: class in C3/C2/C0, sign in C1.
fn fxam(cpu: &mut Cpu, insn: &Uop) -> R {
    begin(cpu, insn)?;
    let fpu = &mut cpu.fpu;
    let x = fpu.st(0);
    let cc = if fpu.is_empty(0) {
        SW_C3 | SW_C0
    } else {
        match x.class() {
            Class::Unsupported => 0,
            Class::QNaN | Class::SNaN => SW_C0,
            Class::Normal => SW_C2,
            Class::Inf => SW_C2 | SW_C0,
            Class::Zero => SW_C3,
            Class::Denormal => SW_C3 | SW_C2,
        }
    };
    let c1 = if x.sign() { SW_C1 } else { 0 };
    fpu.status = (fpu.status & !SW_CC) | cc | c1;
    Ok(())
}

// ---- register stack ----

/// [`fxch`] for ST(`I`): both registers present is the common case (C1 cleared).
fn fxch_i<const I: usize>(cpu: &mut Cpu, insn: &Uop) -> R {
    begin(cpu, insn)?;
    let fpu = &mut cpu.fpu;
    if fpu.empty.rotate_right(u32::from(fpu.top)) & ((1 << I) | 1) == 0 {
        let (p0, pi) = (fpu.phys(0), fpu.phys(I));
        fpu.regs.swap(p0, pi);
        fpu.status &= !SW_C1;
        return Ok(());
    }
    fxch(cpu, insn)
}

fn fxch_form(u: &Uop) -> Option<Handler> {
    by_sti!(sti(u.op1_register()), fxch_i)
}

fn fxch(cpu: &mut Cpu, insn: &Uop) -> R {
    begin(cpu, insn)?;
    let i = sti(insn.op1_register());
    let fpu = &mut cpu.fpu;
    let (e0, ei) = (fpu.is_empty(0), fpu.is_empty(i));
    if e0 || ei {
        if !stack_underflow(fpu) {
            return Ok(());
        }
        let a = if e0 { F80::INDEFINITE } else { fpu.st(0) };
        let b = if ei { F80::INDEFINITE } else { fpu.st(i) };
        fpu.set_st(0, b);
        fpu.set_st(i, a);
        return Ok(());
    }
    let (a, b) = (fpu.st(0), fpu.st(i));
    fpu.set_st(0, b);
    fpu.set_st(i, a);
    fpu.status &= !SW_C1;
    Ok(())
}

fn ffree(cpu: &mut Cpu, insn: &Uop) -> R {
    begin(cpu, insn)?;
    let p = cpu.fpu.phys(sti(insn.op0_register()));
    cpu.fpu.empty |= 1 << p;
    cpu.fpu.status &= !SW_C1;
    Ok(())
}

/// FFREEP (DF C0+i): free, then pop.
fn ffreep(cpu: &mut Cpu, insn: &Uop) -> R {
    ffree(cpu, insn)?;
    cpu.fpu.pop();
    Ok(())
}

fn fincstp(cpu: &mut Cpu, insn: &Uop) -> R {
    begin(cpu, insn)?;
    cpu.fpu.top = (cpu.fpu.top + 1) & 7;
    cpu.fpu.status &= !SW_C1;
    Ok(())
}

fn fdecstp(cpu: &mut Cpu, insn: &Uop) -> R {
    begin(cpu, insn)?;
    cpu.fpu.top = cpu.fpu.top.wrapping_sub(1) & 7;
    cpu.fpu.status &= !SW_C1;
    Ok(())
}

/// FCMOVcc ST(0), ST(i).
fn fcmov(cpu: &mut Cpu, insn: &Uop) -> R {
    begin(cpu, insn)?;
    let i = sti(insn.op1_register());
    let f = &cpu.flags;
    let cond = match insn.code() {
        Code::Fcmovb_st0_sti => f.cf(),
        Code::Fcmove_st0_sti => f.zf(),
        Code::Fcmovbe_st0_sti => f.cf() || f.zf(),
        Code::Fcmovu_st0_sti => f.pf(),
        Code::Fcmovnb_st0_sti => !f.cf(),
        Code::Fcmovne_st0_sti => !f.zf(),
        Code::Fcmovnbe_st0_sti => !f.cf() && !f.zf(),
        _ => !f.pf(),
    };
    let fpu = &mut cpu.fpu;
    if fpu.is_empty(0) || fpu.is_empty(i) {
        if stack_underflow(fpu) {
            fpu.set_st(0, F80::INDEFINITE);
        }
        return Ok(());
    }
    if cond {
        let v = fpu.st(i);
        fpu.set_st(0, v);
    }
    Ok(())
}

fn fnop(cpu: &mut Cpu, insn: &Uop) -> R {
    begin(cpu, insn)
}

// ---- control ----

fn fwait(cpu: &mut Cpu, _: &Uop) -> R {
    wait_check(cpu)
}

/// FNENI, FNDISI, FNSETPM: no-ops since the 387.
fn fnop_control(_: &mut Cpu, _: &Uop) -> R {
    Ok(())
}

fn fwait_nop(cpu: &mut Cpu, _: &Uop) -> R {
    wait_check(cpu)
}

fn fninit(cpu: &mut Cpu, _: &Uop) -> R {
    cpu.fpu.init();
    Ok(())
}

fn finit(cpu: &mut Cpu, insn: &Uop) -> R {
    wait_check(cpu)?;
    fninit(cpu, insn)
}

fn fnclex(cpu: &mut Cpu, _: &Uop) -> R {
    cpu.fpu.status &= !(SW_EXC | SW_SF | SW_ES | SW_B);
    Ok(())
}

fn fclex(cpu: &mut Cpu, insn: &Uop) -> R {
    wait_check(cpu)?;
    fnclex(cpu, insn)
}

#[inline(never)]
fn fldcw(cpu: &mut Cpu, insn: &Uop) -> R {
    wait_check(cpu)?;
    let lin = cpu.mem_linear(insn)?;
    let cw = cpu.read_mem::<u16>(lin)?;
    cpu.fpu.set_control_word(cw);
    Ok(())
}

#[inline(never)]
fn fnstcw(cpu: &mut Cpu, insn: &Uop) -> R {
    let lin = cpu.mem_linear(insn)?;
    cpu.write_mem::<u16>(lin, cpu.fpu.control)
}

fn fstcw(cpu: &mut Cpu, insn: &Uop) -> R {
    wait_check(cpu)?;
    fnstcw(cpu, insn)
}

fn fnstsw_m(cpu: &mut Cpu, insn: &Uop) -> R {
    let lin = cpu.mem_linear(insn)?;
    cpu.write_mem::<u16>(lin, cpu.fpu.status_word())
}

fn fstsw_m(cpu: &mut Cpu, insn: &Uop) -> R {
    wait_check(cpu)?;
    fnstsw_m(cpu, insn)
}

fn fnstsw_ax(cpu: &mut Cpu, _: &Uop) -> R {
    let sw = u32::from(cpu.fpu.status_word());
    cpu.regs[crate::EAX] = (cpu.regs[crate::EAX] & !0xffff) | sw;
    Ok(())
}

fn fstsw_ax(cpu: &mut Cpu, insn: &Uop) -> R {
    wait_check(cpu)?;
    fnstsw_ax(cpu, insn)
}

/// FNSTENV m14/m28byte: stores the environment, then masks all exceptions.
fn fnstenv<const WIDE: bool>(cpu: &mut Cpu, insn: &Uop) -> R {
    let lin = cpu.mem_linear(insn)?;
    resolve_fop(cpu);
    if WIDE {
        let b = cpu.fpu.env_bytes32();
        cpu.write_bytes(lin, &b)?;
    } else {
        let b = cpu.fpu.env_bytes16();
        cpu.write_bytes(lin, &b)?;
    }
    cpu.fpu.control |= SW_EXC;
    Ok(())
}

fn fstenv<const WIDE: bool>(cpu: &mut Cpu, insn: &Uop) -> R {
    wait_check(cpu)?;
    fnstenv::<WIDE>(cpu, insn)
}

fn fldenv<const WIDE: bool>(cpu: &mut Cpu, insn: &Uop) -> R {
    wait_check(cpu)?;
    let lin = cpu.mem_linear(insn)?;
    if WIDE {
        let mut b = [0u8; 28];
        cpu.read_bytes(lin, &mut b)?;
        cpu.fpu.load_env32(&b);
    } else {
        let mut b = [0u8; 14];
        cpu.read_bytes(lin, &mut b)?;
        cpu.fpu.load_env16(&b);
    }
    Ok(())
}

/// FNSAVE m94/m108byte: environment and registers, then FNINIT.
fn fnsave<const WIDE: bool>(cpu: &mut Cpu, insn: &Uop) -> R {
    let lin = cpu.mem_linear(insn)?;
    resolve_fop(cpu);
    let fpu = &cpu.fpu;
    let mut b = [0u8; 108];
    let n = if WIDE {
        b.copy_from_slice(&fpu.save_bytes());
        108
    } else {
        b[..14].copy_from_slice(&fpu.env_bytes16());
        for i in 0..8 {
            b[14 + i * 10..24 + i * 10].copy_from_slice(&fpu.st(i).to_le_bytes());
        }
        94
    };
    cpu.write_bytes(lin, &b[..n])?;
    cpu.fpu.init();
    Ok(())
}

fn fsave<const WIDE: bool>(cpu: &mut Cpu, insn: &Uop) -> R {
    wait_check(cpu)?;
    fnsave::<WIDE>(cpu, insn)
}

fn frstor<const WIDE: bool>(cpu: &mut Cpu, insn: &Uop) -> R {
    wait_check(cpu)?;
    let lin = cpu.mem_linear(insn)?;
    let n = if WIDE { 108 } else { 94 };
    let mut b = [0u8; 108];
    cpu.read_bytes(lin, &mut b[..n])?;
    if WIDE {
        cpu.fpu.restore_bytes(&b);
    } else {
        cpu.fpu.load_env16(&b[..14]);
        cpu.fpu.load_regs(&b[14..94]);
    }
    Ok(())
}

/// The FNSAVE image of the current state (for signal frames), with FOP resolved.
/// Unlike FNSAVE it leaves the FPU as it is.
pub fn save_image(cpu: &mut Cpu) -> [u8; 108] {
    resolve_fop(cpu);
    cpu.fpu.save_bytes()
}

/// Loads an FNSAVE image (sigreturn).
pub fn restore_image(cpu: &mut Cpu, image: &[u8; 108]) {
    cpu.fpu.restore_bytes(image);
}

// ---- transcendentals ----

/// FSIN, FCOS, FPTAN, FSINCOS, FPATAN, F2XM1, FYL2X, FYL2XP1.
fn transcendental<const K: u8>(cpu: &mut Cpu, insn: &Uop) -> R {
    begin(cpu, insn)?;
    transcend::execute(cpu, K);
    Ok(())
}

pub(crate) fn register(t: &mut Table) {
    forms!(t, arith_mem::<ADD, M32FP>, arith_mem_form::<ADD, M32FP> => Fadd_m32fp);
    forms!(t, arith_mem::<MUL, M32FP>, arith_mem_form::<MUL, M32FP> => Fmul_m32fp);
    forms!(t, arith_mem::<SUB, M32FP>, arith_mem_form::<SUB, M32FP> => Fsub_m32fp);
    forms!(t, arith_mem::<SUBR, M32FP>, arith_mem_form::<SUBR, M32FP> => Fsubr_m32fp);
    forms!(t, arith_mem::<DIV, M32FP>, arith_mem_form::<DIV, M32FP> => Fdiv_m32fp);
    forms!(t, arith_mem::<DIVR, M32FP>, arith_mem_form::<DIVR, M32FP> => Fdivr_m32fp);
    forms!(t, arith_mem::<ADD, M64FP>, arith_mem_form::<ADD, M64FP> => Fadd_m64fp);
    forms!(t, arith_mem::<MUL, M64FP>, arith_mem_form::<MUL, M64FP> => Fmul_m64fp);
    forms!(t, arith_mem::<SUB, M64FP>, arith_mem_form::<SUB, M64FP> => Fsub_m64fp);
    forms!(t, arith_mem::<SUBR, M64FP>, arith_mem_form::<SUBR, M64FP> => Fsubr_m64fp);
    forms!(t, arith_mem::<DIV, M64FP>, arith_mem_form::<DIV, M64FP> => Fdiv_m64fp);
    forms!(t, arith_mem::<DIVR, M64FP>, arith_mem_form::<DIVR, M64FP> => Fdivr_m64fp);
    forms!(t, arith_mem::<ADD, M16INT>, arith_mem_form::<ADD, M16INT> => Fiadd_m16int);
    forms!(t, arith_mem::<MUL, M16INT>, arith_mem_form::<MUL, M16INT> => Fimul_m16int);
    forms!(t, arith_mem::<SUB, M16INT>, arith_mem_form::<SUB, M16INT> => Fisub_m16int);
    forms!(t, arith_mem::<SUBR, M16INT>, arith_mem_form::<SUBR, M16INT> => Fisubr_m16int);
    forms!(t, arith_mem::<DIV, M16INT>, arith_mem_form::<DIV, M16INT> => Fidiv_m16int);
    forms!(t, arith_mem::<DIVR, M16INT>, arith_mem_form::<DIVR, M16INT> => Fidivr_m16int);
    forms!(t, arith_mem::<ADD, M32INT>, arith_mem_form::<ADD, M32INT> => Fiadd_m32int);
    forms!(t, arith_mem::<MUL, M32INT>, arith_mem_form::<MUL, M32INT> => Fimul_m32int);
    forms!(t, arith_mem::<SUB, M32INT>, arith_mem_form::<SUB, M32INT> => Fisub_m32int);
    forms!(t, arith_mem::<SUBR, M32INT>, arith_mem_form::<SUBR, M32INT> => Fisubr_m32int);
    forms!(t, arith_mem::<DIV, M32INT>, arith_mem_form::<DIV, M32INT> => Fidiv_m32int);
    forms!(t, arith_mem::<DIVR, M32INT>, arith_mem_form::<DIVR, M32INT> => Fidivr_m32int);
    forms!(t, arith_st0_sti::<ADD>, arith_st0_sti_form::<ADD> => Fadd_st0_sti);
    forms!(t, arith_st0_sti::<MUL>, arith_st0_sti_form::<MUL> => Fmul_st0_sti);
    forms!(t, arith_st0_sti::<SUB>, arith_st0_sti_form::<SUB> => Fsub_st0_sti);
    forms!(t, arith_st0_sti::<SUBR>, arith_st0_sti_form::<SUBR> => Fsubr_st0_sti);
    forms!(t, arith_st0_sti::<DIV>, arith_st0_sti_form::<DIV> => Fdiv_st0_sti);
    forms!(t, arith_st0_sti::<DIVR>, arith_st0_sti_form::<DIVR> => Fdivr_st0_sti);
    forms!(t, arith_sti_st0::<ADD, false>, arith_sti_st0_form::<ADD, false> => Fadd_sti_st0);
    forms!(t, arith_sti_st0::<MUL, false>, arith_sti_st0_form::<MUL, false> => Fmul_sti_st0);
    forms!(t, arith_sti_st0::<SUB, false>, arith_sti_st0_form::<SUB, false> => Fsub_sti_st0);
    forms!(t, arith_sti_st0::<SUBR, false>, arith_sti_st0_form::<SUBR, false> => Fsubr_sti_st0);
    forms!(t, arith_sti_st0::<DIV, false>, arith_sti_st0_form::<DIV, false> => Fdiv_sti_st0);
    forms!(t, arith_sti_st0::<DIVR, false>, arith_sti_st0_form::<DIVR, false> => Fdivr_sti_st0);
    forms!(t, arith_sti_st0::<ADD, true>, arith_sti_st0_form::<ADD, true> => Faddp_sti_st0);
    forms!(t, arith_sti_st0::<MUL, true>, arith_sti_st0_form::<MUL, true> => Fmulp_sti_st0);
    forms!(t, arith_sti_st0::<SUB, true>, arith_sti_st0_form::<SUB, true> => Fsubp_sti_st0);
    forms!(t, arith_sti_st0::<SUBR, true>, arith_sti_st0_form::<SUBR, true> => Fsubrp_sti_st0);
    forms!(t, arith_sti_st0::<DIV, true>, arith_sti_st0_form::<DIV, true> => Fdivp_sti_st0);
    forms!(t, arith_sti_st0::<DIVR, true>, arith_sti_st0_form::<DIVR, true> => Fdivrp_sti_st0);
    handlers!(t, fsqrt => Fsqrt);
    handlers!(t, frndint => Frndint);
    handlers!(t, fchs => Fchs);
    handlers!(t, fabs => Fabs);
    handlers!(t, fscale => Fscale);
    handlers!(t, fprem::<false> => Fprem);
    handlers!(t, fprem::<true> => Fprem1);
    handlers!(t, fxtract => Fxtract);

    forms!(t, fld_mem::<M32FP>, fld_form::<M32FP> => Fld_m32fp);
    forms!(t, fld_mem::<M64FP>, fld_form::<M64FP> => Fld_m64fp);
    handlers!(t, fld_m80 => Fld_m80fp);
    forms!(t, fild::<M16INT>, fld_form::<M16INT> => Fild_m16int);
    forms!(t, fild::<M32INT>, fld_form::<M32INT> => Fild_m32int);
    forms!(t, fild::<M64INT>, fld_form::<M64INT> => Fild_m64int);
    handlers!(t, fbld => Fbld_m80bcd);
    forms!(t, fld_sti, fld_sti_form => Fld_sti);
    handlers!(t, fld_const::<{ transcend::K_ONE }> => Fld1);
    handlers!(t, fld_const::<{ transcend::K_ZERO }> => Fldz);
    handlers!(t, fld_const::<{ transcend::K_PI }> => Fldpi);
    handlers!(t, fld_const::<{ transcend::K_L2T }> => Fldl2t);
    handlers!(t, fld_const::<{ transcend::K_L2E }> => Fldl2e);
    handlers!(t, fld_const::<{ transcend::K_LG2 }> => Fldlg2);
    handlers!(t, fld_const::<{ transcend::K_LN2 }> => Fldln2);

    forms!(t, fst_mem::<DST_M32, false>, fst_form::<DST_M32, false> => Fst_m32fp);
    forms!(t, fst_mem::<DST_M32, true>, fst_form::<DST_M32, true> => Fstp_m32fp);
    forms!(t, fst_mem::<DST_M64, false>, fst_form::<DST_M64, false> => Fst_m64fp);
    forms!(t, fst_mem::<DST_M64, true>, fst_form::<DST_M64, true> => Fstp_m64fp);
    forms!(t, fst_mem::<DST_M16I, false>, fst_form::<DST_M16I, false> => Fist_m16int);
    forms!(t, fst_mem::<DST_M16I, true>, fst_form::<DST_M16I, true> => Fistp_m16int);
    forms!(t, fst_mem::<DST_M32I, false>, fst_form::<DST_M32I, false> => Fist_m32int);
    forms!(t, fst_mem::<DST_M32I, true>, fst_form::<DST_M32I, true> => Fistp_m32int);
    forms!(t, fst_mem::<DST_M64I, true>, fst_form::<DST_M64I, true> => Fistp_m64int);
    handlers!(t, fst_mem::<DST_M16T, true> => Fisttp_m16int);
    handlers!(t, fst_mem::<DST_M32T, true> => Fisttp_m32int);
    handlers!(t, fst_mem::<DST_M64T, true> => Fisttp_m64int);
    handlers!(t, fstp_m80 => Fstp_m80fp);
    handlers!(t, fbstp => Fbstp_m80bcd);
    handlers!(t, fst_sti::<false> => Fst_sti);
    handlers!(t, fst_sti::<true> => Fstp_sti, Fstpnce_sti, Fstp_sti_DFD0, Fstp_sti_DFD8);

    handlers!(t, fcom_mem::<M32FP, 0> => Fcom_m32fp);
    handlers!(t, fcom_mem::<M64FP, 0> => Fcom_m64fp);
    handlers!(t, fcom_mem::<M32FP, 1> => Fcomp_m32fp);
    handlers!(t, fcom_mem::<M64FP, 1> => Fcomp_m64fp);
    handlers!(t, fcom_mem::<M16INT, 0> => Ficom_m16int);
    handlers!(t, fcom_mem::<M32INT, 0> => Ficom_m32int);
    handlers!(t, fcom_mem::<M16INT, 1> => Ficomp_m16int);
    handlers!(t, fcom_mem::<M32INT, 1> => Ficomp_m32int);
    handlers!(t, fcom_sti::<false, 0> => Fcom_st0_sti, Fcom_st0_sti_DCD0);
    handlers!(t, fcom_sti::<false, 1> => Fcomp_st0_sti, Fcomp_st0_sti_DCD8, Fcomp_st0_sti_DED0);
    handlers!(t, fcom_sti::<false, 2> => Fcompp);
    handlers!(t, fcom_sti::<true, 0> => Fucom_st0_sti);
    handlers!(t, fcom_sti::<true, 1> => Fucomp_st0_sti);
    handlers!(t, fcom_sti::<true, 2> => Fucompp);
    handlers!(t, ftst => Ftst);
    handlers!(t, fcomi::<false, false> => Fcomi_st0_sti);
    handlers!(t, fcomi::<false, true> => Fcomip_st0_sti);
    handlers!(t, fcomi::<true, false> => Fucomi_st0_sti);
    handlers!(t, fcomi::<true, true> => Fucomip_st0_sti);
    handlers!(t, fxam => Fxam);

    forms!(t, fxch, fxch_form => Fxch_st0_sti, Fxch_st0_sti_DDC8, Fxch_st0_sti_DFC8);
    handlers!(t, ffree => Ffree_sti);
    handlers!(t, ffreep => Ffreep_sti);
    handlers!(t, fincstp => Fincstp);
    handlers!(t, fdecstp => Fdecstp);
    handlers!(
        t,
        fcmov => Fcmovb_st0_sti,
        Fcmove_st0_sti,
        Fcmovbe_st0_sti,
        Fcmovu_st0_sti,
        Fcmovnb_st0_sti,
        Fcmovne_st0_sti,
        Fcmovnbe_st0_sti,
        Fcmovnu_st0_sti
    );
    handlers!(t, fnop => Fnop);

    handlers!(t, fwait => Wait);
    handlers!(t, fnop_control => Fneni, Fndisi, Fnsetpm);
    handlers!(t, fwait_nop => Feni, Fdisi, Fsetpm);
    handlers!(t, fninit => Fninit);
    handlers!(t, finit => Finit);
    handlers!(t, fnclex => Fnclex);
    handlers!(t, fclex => Fclex);
    forms!(t, fldcw, fldcw_form => Fldcw_m2byte);
    forms!(t, fnstcw, fnstcw_form => Fnstcw_m2byte);
    handlers!(t, fstcw => Fstcw_m2byte);
    handlers!(t, fnstsw_m => Fnstsw_m2byte);
    handlers!(t, fstsw_m => Fstsw_m2byte);
    handlers!(t, fnstsw_ax => Fnstsw_AX);
    handlers!(t, fstsw_ax => Fstsw_AX);
    handlers!(t, fnstenv::<false> => Fnstenv_m14byte);
    handlers!(t, fnstenv::<true> => Fnstenv_m28byte);
    handlers!(t, fstenv::<false> => Fstenv_m14byte);
    handlers!(t, fstenv::<true> => Fstenv_m28byte);
    handlers!(t, fldenv::<false> => Fldenv_m14byte);
    handlers!(t, fldenv::<true> => Fldenv_m28byte);
    handlers!(t, fnsave::<false> => Fnsave_m94byte);
    handlers!(t, fnsave::<true> => Fnsave_m108byte);
    handlers!(t, fsave::<false> => Fsave_m94byte);
    handlers!(t, fsave::<true> => Fsave_m108byte);
    handlers!(t, frstor::<false> => Frstor_m94byte);
    handlers!(t, frstor::<true> => Frstor_m108byte);

    handlers!(t, transcendental::<{ transcend::T_SIN }> => Fsin);
    handlers!(t, transcendental::<{ transcend::T_COS }> => Fcos);
    handlers!(t, transcendental::<{ transcend::T_SINCOS }> => Fsincos);
    handlers!(t, transcendental::<{ transcend::T_PTAN }> => Fptan);
    handlers!(t, transcendental::<{ transcend::T_PATAN }> => Fpatan);
    handlers!(t, transcendental::<{ transcend::T_F2XM1 }> => F2xm1);
    handlers!(t, transcendental::<{ transcend::T_FYL2X }> => Fyl2x);
    handlers!(t, transcendental::<{ transcend::T_FYL2XP1 }> => Fyl2xp1);
}
