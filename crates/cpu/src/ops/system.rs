//! System and miscellaneous instructions: hint NOPs, CPUID, RDTSC, the flag
//! instructions CLC/STC/CMC/CLD/STD/CLI/STI, SMSW, and the privileged instructions that
//! a CPL-3 program may only fault on.
//!
//! Decisions:
//! * Hint NOPs: PAUSE, ENDBR32/ENDBR64 and RDSSPD (CET is not reported, and without CET
//!   they are NOPs), the `0F 18` prefetches and `0F 0D` PREFETCH/PREFETCHW (NOPs on every
//!   processor users compare against; they never fault, whatever the address), and the
//!   reserved-NOP space `0F 0D` (register forms), `0F 18`–`0F 1F` (iced's `Reservednop_*`;
//!   the MPX `BND*` forms decode as these too), CLDEMOTE, PREFETCHIT0/1.
//!   LFENCE/MFENCE/SFENCE and CLFLUSH are in `ops::simd::state`.
//! * CLI/STI change IF when IOPL is 3 and raise #GP(0) otherwise (SDM CLI/STI, CPL 3).
//! * IN/OUT/INS/OUTS raise #GP(0) whatever IOPL says: there is no I/O permission bitmap
//!   and no device behind any port.
//! * HLT, LGDT, LIDT, LLDT, LTR, LMSW, CLTS, MOV to/from CRn and DRn, INVLPG, INVD,
//!   WBINVD, RDMSR, WRMSR: #GP(0) (CPL 3), checked before any memory operand is touched.
//! * RDTSC: EDX:EAX = icount + tsc_offset; #GP(0) if CR4.TSD is set. RDPMC: #GP(0)
//!   unless CR4.PCE is set, then counters 0 and 1 read as 0. RDTSCP is not reported in
//!   CPUID and stays #UD.
//! * SMSW, SGDT, SIDT, SLDT and STR are not privileged (the CPU has no UMIP): SMSW to
//!   a 32-bit register gets all of CR0, to 16 bits the low half, to memory a 16-bit
//!   store; SGDT/SIDT store limit and base from `Cpu::gdtr`/`idtr`; SLDT and STR the
//!   selectors the kernel set (`Cpu::ldtr`, 0 without an LDT; `Cpu::tr`).

use crate::uop::Uop;
use iced_x86::OpKind;

use crate::exception::Exception;
use crate::flags::{CF, DF, IF, IOPL};
use crate::handlers;
use crate::operand::Int;
use crate::ops::mov::nop;
use crate::state::{EAX, EBX, ECX, EDX};
use crate::table::Table;
use crate::Cpu;

/// CR4.TSD: RDTSC is privileged.
const CR4_TSD: u32 = 1 << 2;
/// CR4.PCE: RDPMC allowed at any CPL.
const CR4_PCE: u32 = 1 << 8;

/// CPUID: EAX, EBX, ECX, EDX from [`crate::cpuid::cpuid`] for leaf EAX, sub-leaf ECX.
pub fn cpuid(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    let [a, b, c, d] = crate::cpuid::cpuid(cpu.regs[EAX], cpu.regs[ECX]);
    cpu.regs[EAX] = a;
    cpu.regs[EBX] = b;
    cpu.regs[ECX] = c;
    cpu.regs[EDX] = d;
    Ok(())
}

/// RDTSC: EDX:EAX := instructions retired + `tsc_offset`.
pub fn rdtsc(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    if cpu.mmu.cr4() & CR4_TSD != 0 {
        return Err(Exception::GeneralProtection(0));
    }
    let t = cpu.icount.wrapping_add(cpu.tsc_offset);
    cpu.regs[EAX] = t as u32;
    cpu.regs[EDX] = (t >> 32) as u32;
    Ok(())
}

/// RDPMC: #GP(0) unless CR4.PCE; no counter ever counts.
pub fn rdpmc(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    if cpu.mmu.cr4() & CR4_PCE == 0 || cpu.regs[ECX] > 1 {
        return Err(Exception::GeneralProtection(0));
    }
    cpu.regs[EAX] = 0;
    cpu.regs[EDX] = 0;
    Ok(())
}

pub fn clc(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    cpu.flags.set_bits(CF, false);
    Ok(())
}

pub fn stc(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    cpu.flags.set_bits(CF, true);
    Ok(())
}

pub fn cmc(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    let c = cpu.flags.cf();
    cpu.flags.set_bits(CF, !c);
    Ok(())
}

pub fn cld(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    cpu.flags.set_bits(DF, false);
    Ok(())
}

pub fn std(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    cpu.flags.set_bits(DF, true);
    Ok(())
}

/// CLI/STI at CPL 3: allowed only with IOPL 3.
fn set_if(cpu: &mut Cpu, on: bool) -> Result<(), Exception> {
    if cpu.flags.get() & IOPL != IOPL {
        return Err(Exception::GeneralProtection(0));
    }
    cpu.flags.set_bits(IF, on);
    Ok(())
}

pub fn cli(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    set_if(cpu, false)
}

pub fn sti(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    set_if(cpu, true)
}

/// SMSW r/m: CR0 (truncated to T for a register; 16 bits to memory).
pub fn smsw<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let cr0 = cpu.mmu.cr0();
    if insn.op0_kind() == OpKind::Memory {
        let lin = cpu.mem_linear(insn)?;
        cpu.write_mem::<u16>(lin, cr0 as u16)
    } else {
        T::set_reg(cpu, insn.op0_register(), T::from_u32(cr0));
        Ok(())
    }
}

/// SALC (D6, undocumented): AL = CF ? 0xFF : 0; flags unchanged.
fn salc(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    let al = if cpu.flags.cf() { 0xff } else { 0 };
    cpu.regs[EAX] = (cpu.regs[EAX] & !0xff) | al;
    Ok(())
}

/// SGDT/SIDT m: the limit in the low 2 bytes, the base in the high 4 (with a 16-bit
/// operand size as well, on every processor since the P6: SDM Vol. 2 SGDT). Not
/// privileged: the CPU has no UMIP.
fn store_table<const IDT: bool>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let t = if IDT { cpu.idtr } else { cpu.gdtr };
    let lin = cpu.mem_linear(insn)?;
    let mut b = [0u8; 6];
    b[..2].copy_from_slice(&t.limit.to_le_bytes());
    b[2..].copy_from_slice(&t.base.to_le_bytes());
    cpu.write_bytes(lin, &b)
}

/// SLDT/STR r/m: the selector; a 32-bit register gets it zero-extended, memory a
/// 16-bit store.
fn sldt_str<T: Int, const TR: bool>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let sel = if TR {
        cpu.tr
    } else if cpu.ldt.is_empty() {
        0
    } else {
        cpu.ldtr
    };
    crate::ops::mov::store_selector::<T>(cpu, insn, sel)
}

/// Instructions that need CPL 0 (or an I/O permission this CPU never grants).
pub fn privileged(_: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    Err(Exception::GeneralProtection(0))
}

pub(crate) fn register(t: &mut Table) {
    handlers!(t, nop =>
        Pause, Endbr32, Endbr64, Rdsspd_r32,
        Prefetchnta_m8, Prefetcht0_m8, Prefetcht1_m8, Prefetcht2_m8,
        Prefetchit0_m8, Prefetchit1_m8, Cldemote_m8,
        Prefetch_m8, Prefetchw_m8, Prefetchwt1_m8,
        Prefetchreserved3_m8, Prefetchreserved4_m8, Prefetchreserved5_m8,
        Prefetchreserved6_m8, Prefetchreserved7_m8,
        Reservednop_rm16_r16_0F0D, Reservednop_rm32_r32_0F0D,
        Reservednop_rm16_r16_0F18, Reservednop_rm32_r32_0F18,
        Reservednop_rm16_r16_0F19, Reservednop_rm32_r32_0F19,
        Reservednop_rm16_r16_0F1A, Reservednop_rm32_r32_0F1A,
        Reservednop_rm16_r16_0F1B, Reservednop_rm32_r32_0F1B,
        Reservednop_rm16_r16_0F1C, Reservednop_rm32_r32_0F1C,
        Reservednop_rm16_r16_0F1D, Reservednop_rm32_r32_0F1D,
        Reservednop_rm16_r16_0F1E, Reservednop_rm32_r32_0F1E,
        Reservednop_rm16_r16_0F1F, Reservednop_rm32_r32_0F1F);
    handlers!(t, cpuid => Cpuid);
    handlers!(t, rdtsc => Rdtsc);
    handlers!(t, rdpmc => Rdpmc);
    handlers!(t, clc => Clc);
    handlers!(t, stc => Stc);
    handlers!(t, cmc => Cmc);
    handlers!(t, cld => Cld);
    handlers!(t, std => Std);
    handlers!(t, cli => Cli);
    handlers!(t, salc => Salc);
    handlers!(t, sti => Sti);
    handlers!(t, smsw::<u16> => Smsw_rm16);
    handlers!(t, smsw::<u32> => Smsw_r32m16);
    handlers!(t, store_table::<false> => Sgdt_m1632_16, Sgdt_m1632);
    handlers!(t, store_table::<true> => Sidt_m1632_16, Sidt_m1632);
    handlers!(t, sldt_str::<u16, false> => Sldt_rm16);
    handlers!(t, sldt_str::<u32, false> => Sldt_r32m16);
    handlers!(t, sldt_str::<u16, true> => Str_rm16);
    handlers!(t, sldt_str::<u32, true> => Str_r32m16);
    handlers!(t, privileged =>
        Hlt,
        In_AL_imm8, In_AX_imm8, In_EAX_imm8, In_AL_DX, In_AX_DX, In_EAX_DX,
        Out_imm8_AL, Out_imm8_AX, Out_imm8_EAX, Out_DX_AL, Out_DX_AX, Out_DX_EAX,
        Insb_m8_DX, Insw_m16_DX, Insd_m32_DX, Outsb_DX_m8, Outsw_DX_m16, Outsd_DX_m32,
        Lgdt_m1632_16, Lgdt_m1632, Lidt_m1632_16, Lidt_m1632,
        Lldt_rm16, Lldt_r32m16, Ltr_rm16, Ltr_r32m16, Lmsw_rm16, Lmsw_r32m16, Clts,
        Mov_r32_cr, Mov_cr_r32, Mov_r32_dr, Mov_dr_r32,
        Invlpg_m, Invd, Wbinvd, Rdmsr, Wrmsr);
}
