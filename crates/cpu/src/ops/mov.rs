//! Data movement: MOV and friends, LEA, NOP, MOVZX/MOVSX, XCHG, XADD, CMPXCHG,
//! CMPXCHG8B, BSWAP, CMOVcc, SETcc, CBW/CWDE/CWD/CDQ, XLAT, LAHF/SAHF, moves to and
//! from segment registers, and the far-pointer loads LDS/LES/LFS/LGS/LSS.
//!
//! Precise faults follow the rules of [`crate::operand`]: every source is read and
//! every memory destination is translated for writing (probed) before the first
//! register, memory byte or flag changes.
//!
//! Decisions where the SDM leaves a choice (checked against the host CPU where
//! possible, see `tests/control_string.rs`):
//! * `BSWAP r16` is undefined in the SDM; Intel and AMD parts (and this host) swap the
//!   zero-extended 16-bit value as a doubleword and keep the low half, i.e. write 0.
//! * `MOV r32, Sreg` zero-extends the selector (P6 and later; the host does too);
//!   `MOV r16, Sreg` changes only the low 16 bits; a memory destination is always a
//!   16-bit store whatever the operand size.
//! * CMPXCHG and CMPXCHG8B always write their destination (the old value goes back
//!   when the comparison fails), so a read-only destination faults with a write error
//!   code either way, as on the host.
//! * The interrupt shadow after `MOV SS`/`POP SS`/`LSS` is not modelled (no external
//!   interrupts reach a CPL-3 interpreter between two instructions).

use crate::uop::Uop;
use iced_x86::{Mnemonic, OpKind, Register};

use crate::exception::Exception;
use crate::flags::ZF;
use crate::operand::{reg_value, Int};
use crate::seg::SegReg;
use crate::state::{EAX, EBX, ECX, EDX};
use crate::table::Handler;
use crate::table::Table;
use crate::uop::Form;
use crate::Cpu;
use crate::{forms, handlers};

/// AL, AX or EAX for width T.
#[inline(always)]
pub(crate) fn accumulator<T: Int>() -> Register {
    match T::BITS {
        8 => Register::AL,
        16 => Register::AX,
        _ => Register::EAX,
    }
}

/// MOV r/m, r / r, r/m / r, imm / r/m, imm / moffs forms.
pub fn mov<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let v = cpu.read_op::<T>(insn, 1)?;
    cpu.write_op::<T>(insn, 0, v)
}

fn mov_rr<T: Int>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    let v = T::gpr(cpu, u.r1);
    T::set_gpr(cpu, u.r0, v);
    Ok(())
}

fn mov_ri<T: Int>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    T::set_gpr(cpu, u.r0, T::from_u32(u.imm));
    Ok(())
}

fn mov_rm<T: Int, const EA: u8>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    let lin = cpu.mem_lin::<EA>(u)?;
    match cpu.mmu.read_hit::<T>(lin) {
        Some(v) => {
            T::set_gpr(cpu, u.r0, v);
            Ok(())
        }
        None => mov_rm_miss::<T>(cpu, u, lin),
    }
}

/// `mov_rm` past a TLB miss or a page split (out of line, a tail call).
#[inline(never)]
fn mov_rm_miss<T: Int>(cpu: &mut Cpu, u: &Uop, lin: u32) -> Result<(), Exception> {
    let v = cpu.read_mem::<T>(lin)?;
    T::set_gpr(cpu, u.r0, v);
    Ok(())
}

fn mov_mr<T: Int, const EA: u8>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    let lin = cpu.mem_lin::<EA>(u)?;
    let v = T::gpr(cpu, u.r1);
    if cpu.mmu.write_hit::<T>(lin, v) {
        return Ok(());
    }
    store_miss::<T>(cpu, lin, v)
}

fn mov_mi<T: Int, const EA: u8>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    let lin = cpu.mem_lin::<EA>(u)?;
    let v = T::from_u32(u.imm);
    if cpu.mmu.write_hit::<T>(lin, v) {
        return Ok(());
    }
    store_miss::<T>(cpu, lin, v)
}

/// A store past a write-tag miss or a page split (out of line, a tail call).
#[inline(never)]
fn store_miss<T: Int>(cpu: &mut Cpu, lin: u32, v: T) -> Result<(), Exception> {
    cpu.write_mem::<T>(lin, v)
}

/// MOV by operand form.
fn mov_form<T: Int>(u: &Uop) -> Option<Handler> {
    match u.form()? {
        Form::RR => Some(mov_rr::<T>),
        Form::RI => Some(mov_ri::<T>),
        Form::RM => crate::by_ea!(u, mov_rm::<T>),
        Form::MR => crate::by_ea!(u, mov_mr::<T>),
        Form::MI => crate::by_ea!(u, mov_mi::<T>),
        Form::R | Form::M => None,
    }
}

/// LEA: the effective address, truncated to the destination width, no memory access.
pub fn lea<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let ea = cpu.effective_address(insn);
    T::set_reg(cpu, insn.op0_register(), T::from_u32(ea));
    Ok(())
}

fn lea_ea<T: Int, const EA: u8>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    let ea = cpu.ea::<EA>(u);
    T::set_gpr(cpu, u.r0, T::from_u32(ea));
    Ok(())
}

/// LEA by address shape.
fn lea_form<T: Int>(u: &Uop) -> Option<Handler> {
    crate::by_ea!(u, lea_ea::<T>)
}

/// NOP, including the multi-byte `0F 1F /0` forms: the ModRM memory operand is never
/// accessed, so it cannot fault.
pub fn nop(_: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    Ok(())
}

/// MOVZX: destination width D, source width S, zero-extended.
pub fn movzx<D: Int, S: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let v = cpu.read_op::<S>(insn, 1)?;
    D::set_reg(cpu, insn.op0_register(), D::from_u32(v.u32()));
    Ok(())
}

fn movx_rr<D: Int, S: Int, const SIGNED: bool>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    let v = S::gpr(cpu, u.r1);
    D::set_gpr(cpu, u.r0, D::from_u32(if SIGNED { v.sx() } else { v.u32() }));
    Ok(())
}

fn movx_rm<D: Int, S: Int, const SIGNED: bool, const EA: u8>(
    cpu: &mut Cpu,
    u: &Uop,
) -> Result<(), Exception> {
    let lin = cpu.mem_lin::<EA>(u)?;
    match cpu.mmu.read_hit::<S>(lin) {
        Some(v) => {
            D::set_gpr(cpu, u.r0, D::from_u32(if SIGNED { v.sx() } else { v.u32() }));
            Ok(())
        }
        None => movx_rm_miss::<D, S, SIGNED>(cpu, u, lin),
    }
}

/// `movx_rm` past a TLB miss or a page split (out of line, a tail call).
#[inline(never)]
fn movx_rm_miss<D: Int, S: Int, const SIGNED: bool>(
    cpu: &mut Cpu,
    u: &Uop,
    lin: u32,
) -> Result<(), Exception> {
    let v = cpu.read_mem::<S>(lin)?;
    D::set_gpr(cpu, u.r0, D::from_u32(if SIGNED { v.sx() } else { v.u32() }));
    Ok(())
}

/// MOVZX/MOVSX by operand form.
fn movx_form<D: Int, S: Int, const SIGNED: bool>(u: &Uop) -> Option<Handler> {
    match u.form()? {
        Form::RR => Some(movx_rr::<D, S, SIGNED>),
        Form::RM => crate::by_ea!(u, movx_rm::<D, S, SIGNED>),
        _ => None,
    }
}

/// MOVSX: destination width D, source width S, sign-extended.
pub fn movsx<D: Int, S: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let v = cpu.read_op::<S>(insn, 1)?;
    D::set_reg(cpu, insn.op0_register(), D::from_u32(v.sx()));
    Ok(())
}

/// XCHG r/m, r and XCHG r, eAX. A memory operand is translated for writing before
/// anything changes.
pub fn xchg<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let loc = cpu.loc::<T>(insn, 0, true)?;
    let a = cpu.read_loc::<T>(loc)?;
    let r = insn.op1_register();
    let b = T::get_reg(cpu, r);
    cpu.write_loc(loc, b)?;
    T::set_reg(cpu, r, a);
    Ok(())
}

/// XADD r/m, r: TEMP := SRC + DEST; SRC := DEST; DEST := TEMP (so `xadd eax, eax`
/// leaves the sum). Flags as ADD.
pub fn xadd<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let loc = cpu.loc::<T>(insn, 0, true)?;
    let d = cpu.read_loc::<T>(loc)?;
    let r = insn.op1_register();
    let s = T::get_reg(cpu, r);
    let sum = T::from_u32(d.u32().wrapping_add(s.u32()));
    T::set_reg(cpu, r, d);
    // The destination was probed for writing: this cannot fault.
    cpu.write_loc(loc, sum)?;
    cpu.flags.add(d, s, sum);
    Ok(())
}

/// CMPXCHG r/m, r: compare the accumulator with DEST (flags as `CMP acc, DEST`); equal:
/// DEST := SRC; not equal: DEST := DEST (the write still happens) and acc := DEST.
pub fn cmpxchg<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let loc = cpu.loc::<T>(insn, 0, true)?;
    let d = cpu.read_loc::<T>(loc)?;
    let s = T::get_reg(cpu, insn.op1_register());
    let acc = accumulator::<T>();
    let a = T::get_reg(cpu, acc);
    if a == d {
        cpu.write_loc(loc, s)?;
    } else {
        cpu.write_loc(loc, d)?;
        T::set_reg(cpu, acc, d);
    }
    cpu.flags.sub(a, d, T::from_u32(a.u32().wrapping_sub(d.u32())));
    Ok(())
}

/// CMPXCHG8B m64: EDX:EAX against m64; equal: m64 := ECX:EBX, ZF=1; else EDX:EAX :=
/// m64 (written back unchanged), ZF=0. Other flags unchanged. All 8 bytes are probed
/// for writing first.
pub fn cmpxchg8b(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    if insn.op0_kind() != OpKind::Memory {
        return Err(Exception::InvalidOpcode);
    }
    let lin = cpu.mem_linear(insn)?;
    cpu.probe_write(lin, 8)?;
    let lo = cpu.read_mem::<u32>(lin)?;
    let hi = cpu.read_mem::<u32>(lin.wrapping_add(4))?;
    let equal = lo == cpu.regs[EAX] && hi == cpu.regs[EDX];
    let (wlo, whi) = if equal { (cpu.regs[EBX], cpu.regs[ECX]) } else { (lo, hi) };
    cpu.write_mem::<u32>(lin, wlo)?;
    cpu.write_mem::<u32>(lin.wrapping_add(4), whi)?;
    if !equal {
        cpu.regs[EAX] = lo;
        cpu.regs[EDX] = hi;
    }
    cpu.flags.set_bits(ZF, equal);
    Ok(())
}

/// BSWAP: the zero-extended register value byte-reversed as a doubleword, truncated to
/// the operand width (the 16-bit form therefore writes 0, like the hardware).
pub fn bswap<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let r = insn.op0_register();
    let v = T::get_reg(cpu, r).u32().swap_bytes();
    T::set_reg(cpu, r, T::from_u32(v));
    Ok(())
}

/// CMOVcc: the source is always read (a memory source may fault even when the
/// condition is false); the destination is written only when it holds.
pub fn cmov<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let v = cpu.read_op::<T>(insn, 1)?;
    if cpu.flags.cond(insn.condition_code()) {
        T::set_reg(cpu, insn.op0_register(), v);
    }
    Ok(())
}

/// SETcc r/m8.
pub fn setcc(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let v = u8::from(cpu.flags.cond(insn.condition_code()));
    cpu.write_op::<u8>(insn, 0, v)
}

/// CBW (T = u16: AX := sx AL) and CWDE (T = u32: EAX := sx AX).
pub fn cbw<T: Int>(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    let half = T::BITS / 2;
    let low = cpu.regs[EAX] & ((1 << half) - 1);
    let ext = if low & (1 << (half - 1)) != 0 { low | (T::MASK & !((1 << half) - 1)) } else { low };
    T::set_reg(cpu, accumulator::<T>(), T::from_u32(ext));
    Ok(())
}

/// CWD (T = u16: DX := sign of AX) and CDQ (T = u32: EDX := sign of EAX).
pub fn cwd<T: Int>(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    let a = T::get_reg(cpu, accumulator::<T>());
    let d = if a.u32() & T::SIGN != 0 { T::MASK } else { 0 };
    let dreg = if T::BITS == 16 { Register::DX } else { Register::EDX };
    T::set_reg(cpu, dreg, T::from_u32(d));
    Ok(())
}

/// XLAT: AL := [seg:eBX + AL] (iced reports base eBX, index AL; 0x67 uses BX and wraps
/// at 64 KiB).
pub fn xlat(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let lin = cpu.mem_linear(insn)?;
    let v = cpu.read_mem::<u8>(lin)?;
    u8::set_reg(cpu, Register::AL, v);
    Ok(())
}

/// LAHF: AH := SF ZF 0 AF 0 PF 1 CF.
pub fn lahf(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    let f = cpu.flags.get() as u8;
    u8::set_reg(cpu, Register::AH, f);
    Ok(())
}

/// SAHF: SF ZF AF PF CF := AH bits 7 6 4 2 0.
pub fn sahf(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    const BITS: u32 = 0xd5;
    let ah = (cpu.regs[EAX] >> 8) & BITS;
    let f = cpu.flags.get();
    cpu.flags.set((f & !BITS) | ah);
    Ok(())
}

fn sreg_of(r: Register) -> Result<SegReg, Exception> {
    SegReg::from_iced(r).ok_or(Exception::InvalidOpcode)
}

/// MOV r/m, Sreg. T is the operand size: a register destination gets the selector
/// zero-extended to T; a memory destination is always a 16-bit store.
pub fn mov_from_sreg<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let sel = cpu.segs[sreg_of(insn.op1_register())? as usize].selector;
    store_selector::<T>(cpu, insn, sel)
}

/// Stores a selector to operand 0 the way MOV r/m, Sreg, SLDT and STR do: a register
/// gets it zero-extended to T, memory a 16-bit store.
pub(crate) fn store_selector<T: Int>(cpu: &mut Cpu, insn: &Uop, sel: u16) -> Result<(), Exception> {
    if insn.op0_kind() == OpKind::Memory {
        let lin = cpu.mem_linear(insn)?;
        cpu.write_mem::<u16>(lin, sel)
    } else {
        T::set_reg(cpu, insn.op0_register(), T::from_u32(u32::from(sel)));
        Ok(())
    }
}

/// MOV Sreg, r/m16 (CS is not a valid destination: the decoder rejects `8E /1`).
pub fn mov_to_sreg(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let sreg = sreg_of(insn.op0_register())?;
    if sreg == SegReg::Cs {
        return Err(Exception::InvalidOpcode);
    }
    let sel = match insn.op1_kind() {
        OpKind::Register => reg_value(cpu, insn.op1_register()) as u16,
        _ => {
            let lin = cpu.mem_linear(insn)?;
            cpu.read_mem::<u16>(lin)?
        }
    };
    cpu.load_segment(sreg, sel)?;
    cpu.ss_shadow = sreg == SegReg::Ss;
    Ok(())
}

/// LDS/LES/LFS/LGS/LSS r, m16:T. Offset and selector are read first, then the segment
/// register is loaded (which may #GP), and only then the general register is written.
pub fn load_far_pointer<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let sreg = match insn.mnemonic() {
        Mnemonic::Lds => SegReg::Ds,
        Mnemonic::Les => SegReg::Es,
        Mnemonic::Lfs => SegReg::Fs,
        Mnemonic::Lgs => SegReg::Gs,
        Mnemonic::Lss => SegReg::Ss,
        _ => return Err(Exception::InvalidOpcode),
    };
    if insn.op1_kind() != OpKind::Memory {
        return Err(Exception::InvalidOpcode);
    }
    let lin = cpu.mem_linear(insn)?;
    let off = cpu.read_mem::<T>(lin)?;
    let sel = cpu.read_mem::<u16>(lin.wrapping_add(T::BITS / 8))?;
    cpu.load_segment(sreg, sel)?;
    T::set_reg(cpu, insn.op0_register(), off);
    Ok(())
}

pub(crate) fn register(t: &mut Table) {
    forms!(t, mov::<u8>, mov_form::<u8> => Mov_rm8_r8, Mov_r8_rm8, Mov_r8_imm8, Mov_rm8_imm8, Mov_AL_moffs8, Mov_moffs8_AL);
    forms!(t, mov::<u16>, mov_form::<u16> => Mov_rm16_r16, Mov_r16_rm16, Mov_r16_imm16, Mov_rm16_imm16, Mov_AX_moffs16, Mov_moffs16_AX);
    forms!(t, mov::<u32>, mov_form::<u32> => Mov_rm32_r32, Mov_r32_rm32, Mov_r32_imm32, Mov_rm32_imm32, Mov_EAX_moffs32, Mov_moffs32_EAX);
    forms!(t, lea::<u16>, lea_form::<u16> => Lea_r16_m);
    forms!(t, lea::<u32>, lea_form::<u32> => Lea_r32_m);
    handlers!(t, nop => Nopd, Nopw, Nop_rm16, Nop_rm32);

    forms!(t, movzx::<u16, u8>, movx_form::<u16, u8, false> => Movzx_r16_rm8);
    forms!(t, movzx::<u32, u8>, movx_form::<u32, u8, false> => Movzx_r32_rm8);
    forms!(t, movzx::<u16, u16>, movx_form::<u16, u16, false> => Movzx_r16_rm16);
    forms!(t, movzx::<u32, u16>, movx_form::<u32, u16, false> => Movzx_r32_rm16);
    forms!(t, movsx::<u16, u8>, movx_form::<u16, u8, true> => Movsx_r16_rm8);
    forms!(t, movsx::<u32, u8>, movx_form::<u32, u8, true> => Movsx_r32_rm8);
    forms!(t, movsx::<u16, u16>, movx_form::<u16, u16, true> => Movsx_r16_rm16);
    forms!(t, movsx::<u32, u16>, movx_form::<u32, u16, true> => Movsx_r32_rm16);

    handlers!(t, xchg::<u8> => Xchg_rm8_r8);
    handlers!(t, xchg::<u16> => Xchg_rm16_r16, Xchg_r16_AX);
    handlers!(t, xchg::<u32> => Xchg_rm32_r32, Xchg_r32_EAX);
    handlers!(t, xadd::<u8> => Xadd_rm8_r8);
    handlers!(t, xadd::<u16> => Xadd_rm16_r16);
    handlers!(t, xadd::<u32> => Xadd_rm32_r32);
    handlers!(t, cmpxchg::<u8> => Cmpxchg_rm8_r8);
    handlers!(t, cmpxchg::<u16> => Cmpxchg_rm16_r16);
    handlers!(t, cmpxchg::<u32> => Cmpxchg_rm32_r32);
    handlers!(t, cmpxchg8b => Cmpxchg8b_m64);
    handlers!(t, bswap::<u16> => Bswap_r16);
    handlers!(t, bswap::<u32> => Bswap_r32);

    handlers!(t, cmov::<u16> =>
        Cmovo_r16_rm16, Cmovno_r16_rm16, Cmovb_r16_rm16, Cmovae_r16_rm16,
        Cmove_r16_rm16, Cmovne_r16_rm16, Cmovbe_r16_rm16, Cmova_r16_rm16,
        Cmovs_r16_rm16, Cmovns_r16_rm16, Cmovp_r16_rm16, Cmovnp_r16_rm16,
        Cmovl_r16_rm16, Cmovge_r16_rm16, Cmovle_r16_rm16, Cmovg_r16_rm16);
    handlers!(t, cmov::<u32> =>
        Cmovo_r32_rm32, Cmovno_r32_rm32, Cmovb_r32_rm32, Cmovae_r32_rm32,
        Cmove_r32_rm32, Cmovne_r32_rm32, Cmovbe_r32_rm32, Cmova_r32_rm32,
        Cmovs_r32_rm32, Cmovns_r32_rm32, Cmovp_r32_rm32, Cmovnp_r32_rm32,
        Cmovl_r32_rm32, Cmovge_r32_rm32, Cmovle_r32_rm32, Cmovg_r32_rm32);
    handlers!(t, setcc =>
        Seto_rm8, Setno_rm8, Setb_rm8, Setae_rm8, Sete_rm8, Setne_rm8, Setbe_rm8, Seta_rm8,
        Sets_rm8, Setns_rm8, Setp_rm8, Setnp_rm8, Setl_rm8, Setge_rm8, Setle_rm8, Setg_rm8);

    handlers!(t, cbw::<u16> => Cbw);
    handlers!(t, cbw::<u32> => Cwde);
    handlers!(t, cwd::<u16> => Cwd);
    handlers!(t, cwd::<u32> => Cdq);
    handlers!(t, xlat => Xlat_m8);
    handlers!(t, lahf => Lahf);
    handlers!(t, sahf => Sahf);

    handlers!(t, mov_from_sreg::<u16> => Mov_rm16_Sreg);
    handlers!(t, mov_from_sreg::<u32> => Mov_r32m16_Sreg);
    handlers!(t, mov_to_sreg => Mov_Sreg_rm16, Mov_Sreg_r32m16);
    handlers!(t, load_far_pointer::<u16> => Lds_r16_m1616, Les_r16_m1616, Lfs_r16_m1616, Lgs_r16_m1616, Lss_r16_m1616);
    handlers!(t, load_far_pointer::<u32> => Lds_r32_m1632, Les_r32_m1632, Lfs_r32_m1632, Lgs_r32_m1632, Lss_r32_m1632);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seg::Descriptor;

    /// A CPU with paging off, flat CPL-3 segments, executing `code` at 0x1000.
    fn cpu(code: &[u8]) -> Cpu {
        let mut cpu = Cpu::new(1 << 20);
        cpu.gdt[4] = Descriptor::encode(0, 0xfffff, 0xc0fb);
        cpu.gdt[5] = Descriptor::encode(0, 0xfffff, 0xc0f3);
        cpu.force_cs(0x23);
        for s in [SegReg::Ds, SegReg::Es, SegReg::Ss] {
            cpu.load_segment(s, 0x2b).unwrap();
        }
        cpu.mmu.phys_mut().write_bytes(0x1000, code);
        cpu.eip = 0x1000;
        cpu.regs[crate::state::ESP] = 0x8000;
        cpu
    }

    #[test]
    fn bswap_16_writes_zero_and_32_reverses() {
        let mut c = cpu(&[0x66, 0x0f, 0xc8, 0x0f, 0xcb]);
        c.regs[EAX] = 0x1122_3344;
        c.regs[EBX] = 0x1122_3344;
        assert_eq!(c.run(2), crate::Exit::Budget);
        assert_eq!(c.regs[EAX], 0x1122_0000);
        assert_eq!(c.regs[EBX], 0x4433_2211);
    }

    #[test]
    fn cmpxchg_not_equal_loads_the_accumulator_and_keeps_memory() {
        // cmpxchg [0x2000], cl with AL != [0x2000]
        let mut c = cpu(&[0x0f, 0xb0, 0x0d, 0x00, 0x20, 0x00, 0x00]);
        c.mmu.phys_mut().write_u8(0x2000, 0x42);
        c.regs[EAX] = 0x1234_5600;
        c.regs[ECX] = 0x99;
        assert_eq!(c.run(1), crate::Exit::Budget);
        assert_eq!(c.regs[EAX], 0x1234_5642);
        assert_eq!(c.mmu.phys().read_u8(0x2000), 0x42);
        assert!(!c.flags.zf());
    }

    #[test]
    fn mov_to_cs_is_undefined_and_mov_ss_checks_the_descriptor() {
        // 8E C8 (mov cs, ax) does not decode; mov ss, ax with a code selector is #GP.
        let mut c = cpu(&[0x8e, 0xc8]);
        assert_eq!(c.run(1), crate::Exit::Exception(Exception::InvalidOpcode));
        let mut c = cpu(&[0x8e, 0xd0]);
        c.regs[EAX] = 0x23;
        assert_eq!(c.run(1), crate::Exit::Exception(Exception::GeneralProtection(0x20)));
        assert_eq!(c.segs[SegReg::Ss as usize].selector, 0x2b);
    }
}
