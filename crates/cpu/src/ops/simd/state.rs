//! The SSE control and state instructions: LDMXCSR/STMXCSR, FXSAVE/FXRSTOR, EMMS,
//! the fences and CLFLUSH.

use crate::exception::Exception;
use crate::fpu::{FXSAVE_SIZE, MXCSR_WRITABLE};
use crate::state::Cpu;
use crate::table::Table;
use crate::uop::Uop;
use crate::{handlers, AccessKind};

type R = Result<(), Exception>;

/// LDMXCSR m32: #GP(0) if a reserved bit is set (SDM Vol. 2 LDMXCSR).
fn ldmxcsr(cpu: &mut Cpu, u: &Uop) -> R {
    cpu.sse_enter()?;
    let lin = cpu.vec_lin(u)?;
    let v = u32::from_le_bytes(cpu.read_vec::<4>(lin)?);
    if v & !MXCSR_WRITABLE != 0 {
        return Err(Exception::GeneralProtection(0));
    }
    cpu.fpu.mxcsr = v;
    Ok(())
}

/// STMXCSR m32.
fn stmxcsr(cpu: &mut Cpu, u: &Uop) -> R {
    cpu.sse_enter()?;
    let lin = cpu.vec_lin(u)?;
    cpu.write_vec::<4>(lin, cpu.fpu.mxcsr.to_le_bytes())
}

/// The FXSAVE area's linear address: 16-byte aligned or #GP(0), and all 512 bytes
/// reachable (FXSAVE checks the whole area before it writes, SDM Vol. 2 FXSAVE
/// "Protected Mode Exceptions").
fn fx_area(cpu: &mut Cpu, u: &Uop, kind: AccessKind) -> Result<u32, Exception> {
    cpu.sse_enter()?;
    let lin = cpu.mem_linear(u)?;
    if lin & 15 != 0 {
        return Err(Exception::GeneralProtection(0));
    }
    cpu.mmu.probe(lin, FXSAVE_SIZE as u32, kind).map_err(Exception::from)?;
    Ok(lin)
}

/// FXSAVE m512byte: the x87, MMX and SSE state; an x87 exception pending is not
/// raised (FXSAVE does not wait).
fn fxsave(cpu: &mut Cpu, u: &Uop) -> R {
    let lin = fx_area(cpu, u, AccessKind::UserWrite)?;
    let image = fxsave_image(cpu);
    cpu.write_bytes(lin, &image)
}

/// FXRSTOR m512byte: #GP(0) with a reserved MXCSR bit, leaving the state unchanged.
fn fxrstor(cpu: &mut Cpu, u: &Uop) -> R {
    let lin = fx_area(cpu, u, AccessKind::UserRead)?;
    let mut image = [0u8; 288];
    cpu.read_bytes(lin, &mut image)?;
    if cpu.fpu.fxrstor_bytes(&image) {
        Ok(())
    } else {
        Err(Exception::GeneralProtection(0))
    }
}

/// The FXSAVE image of the current state (the kernel's signal frames): the first 288
/// bytes, which are all a 32-bit FXSAVE writes.
pub fn fxsave_image(cpu: &mut Cpu) -> [u8; 288] {
    crate::ops::x87::resolve_fop(cpu);
    cpu.fpu.fxsave_bytes()
}

/// EMMS: every x87 register tagged empty and TOP 0 (SDM Vol. 1 §9.5.1, Table 9-2
/// "Effects of MMX Instructions on x87 FPU State": EMMS sets TOS to 000B, as every
/// MMX instruction does; guest-images/simd-state's `mmx.transition emms` from TOP 6).
/// Like the x87 instructions it raises #MF first if an x87 exception is pending.
fn emms(cpu: &mut Cpu, _: &Uop) -> R {
    let cr0 = cpu.mmu.cr0();
    if cr0 & crate::mmu::CR0_EM != 0 {
        return Err(Exception::InvalidOpcode);
    }
    if cr0 & crate::mmu::CR0_TS != 0 {
        return Err(Exception::DeviceNotAvailable);
    }
    if cpu.fpu.pending() {
        return Err(Exception::FloatingPoint);
    }
    cpu.fpu.empty = 0xff;
    cpu.fpu.top = 0;
    Ok(())
}

/// The fences: one processor executing in program order needs no ordering.
fn fence(_: &mut Cpu, _: &Uop) -> R {
    Ok(())
}

/// CLFLUSH: no architectural effect on memory contents, but it faults like a byte
/// load (SDM Vol. 2 CLFLUSH: "treated as a load"), so it is checked as one. (The
/// PREFETCHh hints, which never fault, are NOPs in `ops::system`.)
fn clflush(cpu: &mut Cpu, u: &Uop) -> R {
    let lin = cpu.mem_linear(u)?;
    cpu.probe_read(lin, 1)
}

pub(crate) fn register(t: &mut Table) {
    handlers!(t, ldmxcsr => Ldmxcsr_m32);
    handlers!(t, stmxcsr => Stmxcsr_m32);
    handlers!(t, fxsave => Fxsave_m512byte);
    handlers!(t, fxrstor => Fxrstor_m512byte);
    handlers!(t, emms => Emms);
    handlers!(t, fence => Lfence, Lfence_E9, Lfence_EA, Lfence_EB, Lfence_EC, Lfence_ED, Lfence_EE, Lfence_EF);
    handlers!(t, fence => Sfence, Sfence_F9, Sfence_FA, Sfence_FB, Sfence_FC, Sfence_FD, Sfence_FE, Sfence_FF);
    handlers!(t, fence => Mfence, Mfence_F1, Mfence_F2, Mfence_F3, Mfence_F4, Mfence_F5, Mfence_F6, Mfence_F7);
    handlers!(t, clflush => Clflush_m8);
}
