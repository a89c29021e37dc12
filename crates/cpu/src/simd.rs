//! The MMX and SSE register files as instructions see them: entry checks, register
//! access and vector operands. The semantics live in `ops::simd`, one module per
//! family; the state itself (XMM0–7, MXCSR, the x87 registers MMX aliases) in
//! [`crate::fpu::Fpu`].
//!
//! An SSE operand is handled as a `u128` whose bit 0 is bit 0 of the register (so
//! lane *k* of width *w* bytes is bits `8wk .. 8w(k+1)`); an MMX operand as a `u64`.
//! A memory operand narrower than the register (the scalar and 64-bit forms) reads
//! zero-extended; which bits of the register a handler keeps is the handler's
//! business (MOVSS from memory zeroes the rest, ADDSS keeps it).

use iced_x86::OpKind;

use crate::exception::Exception;
use crate::fpu::float80::F80;
use crate::mmu::{CR0_EM, CR0_TS, CR4_OSFXSR};
use crate::state::Cpu;
use crate::uop::{Uop, ALIGN16};

type R = Result<(), Exception>;

/// Sign and exponent of a physical x87 register after an MMX write: all ones, so the
/// register reads as a NaN or infinity to x87 code (SDM Vol. 1 §9.5.1).
const MMX_SE: u16 = 0xffff;

impl Cpu {
    /// The checks every SSE instruction makes before anything else (SDM Vol. 3A
    /// §13.1.4, Table 13-1 "Action Taken for Combinations of OSFXSR, OSXMMEXCPT, SSE,
    /// SSE2, SSE3, EM, MP, and TS"): #UD with CR0.EM set or CR4.OSFXSR clear, #NM
    /// with CR0.TS set.
    #[inline(always)]
    pub fn sse_enter(&self) -> R {
        let (cr0, cr4) = (self.mmu.cr0(), self.mmu.cr4());
        if cr0 & CR0_EM != 0 || cr4 & CR4_OSFXSR == 0 {
            return Err(Exception::InvalidOpcode);
        }
        if cr0 & CR0_TS != 0 {
            return Err(Exception::DeviceNotAvailable);
        }
        Ok(())
    }

    /// What every MMX instruction but EMMS does first (SDM Vol. 1 §9.5.1, Table 9-2):
    /// [`Cpu::mmx_check`], then [`Cpu::mmx_transition`]. For a form with a memory
    /// operand, check, access memory, then make the transition: a fault leaves TOP
    /// and the tags as they were (as the CPU does, seen through the FNSAVE image of
    /// a signal frame).
    #[inline(always)]
    pub fn mmx_enter(&mut self) -> R {
        self.mmx_check()?;
        self.mmx_transition();
        Ok(())
    }

    /// The entry exceptions of an MMX instruction: #UD with CR0.EM, #NM with CR0.TS,
    /// #MF with an unmasked x87 exception pending.
    #[inline(always)]
    pub fn mmx_check(&self) -> R {
        let cr0 = self.mmu.cr0();
        if cr0 & CR0_EM != 0 {
            return Err(Exception::InvalidOpcode);
        }
        if cr0 & CR0_TS != 0 {
            return Err(Exception::DeviceNotAvailable);
        }
        if self.fpu.pending() {
            return Err(Exception::FloatingPoint);
        }
        Ok(())
    }

    /// The x87 state becomes MMX state: TOP 0, every register tagged valid.
    #[inline(always)]
    pub fn mmx_transition(&mut self) {
        self.fpu.top = 0;
        self.fpu.empty = 0;
    }

    #[inline(always)]
    pub fn xmm(&self, i: u8) -> u128 {
        self.fpu.xmm[usize::from(i & 7)]
    }

    #[inline(always)]
    pub fn set_xmm(&mut self, i: u8, v: u128) {
        self.fpu.xmm[usize::from(i & 7)] = v;
    }

    /// MM*i*: the significand of physical x87 register R*i* (not ST(i)).
    #[inline(always)]
    pub fn mm(&self, i: u8) -> u64 {
        self.fpu.regs[usize::from(i & 7)].sig
    }

    /// Writes MM*i*; the register's sign and exponent become all ones.
    #[inline(always)]
    pub fn set_mm(&mut self, i: u8, v: u64) {
        self.fpu.regs[usize::from(i & 7)] = F80 { sig: v, se: MMX_SE };
    }

    /// Linear address of a vector memory operand, with the 16-byte alignment check of
    /// [`ALIGN16`] operands (#GP(0)).
    #[inline(always)]
    pub fn vec_lin(&self, u: &Uop) -> Result<u32, Exception> {
        let lin = self.mem_linear(u)?;
        if u.flags & ALIGN16 != 0 && lin & 15 != 0 {
            return Err(Exception::GeneralProtection(0));
        }
        Ok(lin)
    }

    /// `N` bytes of guest memory at `lin`, through the TLB hit path when it can.
    #[inline(always)]
    pub fn read_vec<const N: usize>(&mut self, lin: u32) -> Result<[u8; N], Exception> {
        if let Some(b) = self.mmu.read_hit_bytes::<N>(lin) {
            return Ok(b);
        }
        let mut b = [0u8; N];
        self.read_bytes(lin, &mut b)?;
        Ok(b)
    }

    /// Stores `N` bytes at `lin`; nothing is stored if any byte would fault.
    #[inline(always)]
    pub fn write_vec<const N: usize>(&mut self, lin: u32, v: [u8; N]) -> R {
        if self.mmu.write_hit_bytes::<N>(lin, v) {
            return Ok(());
        }
        self.write_bytes(lin, &v)
    }

    /// Reads the memory operand of `u` as its memory size (16, 8, 4, 2 or 1 bytes),
    /// zero-extended to 128 bits.
    #[inline]
    pub fn read_vec_operand(&mut self, u: &Uop) -> Result<u128, Exception> {
        let lin = self.vec_lin(u)?;
        Ok(match u.memory_size().size() {
            16 => u128::from_le_bytes(self.read_vec::<16>(lin)?),
            8 => u128::from(u64::from_le_bytes(self.read_vec::<8>(lin)?)),
            4 => u128::from(u32::from_le_bytes(self.read_vec::<4>(lin)?)),
            2 => u128::from(u16::from_le_bytes(self.read_vec::<2>(lin)?)),
            _ => u128::from(self.read_vec::<1>(lin)?[0]),
        })
    }

    /// Writes the low bytes of `v` to the memory operand of `u`, as many as its
    /// memory size.
    #[inline]
    pub fn write_vec_operand(&mut self, u: &Uop, v: u128) -> R {
        let lin = self.vec_lin(u)?;
        let b = v.to_le_bytes();
        match u.memory_size().size() {
            16 => self.write_vec::<16>(lin, b),
            8 => self.write_vec::<8>(lin, (v as u64).to_le_bytes()),
            4 => self.write_vec::<4>(lin, (v as u32).to_le_bytes()),
            2 => self.write_vec::<2>(lin, [b[0], b[1]]),
            _ => self.write_vec::<1>(lin, [b[0]]),
        }
    }

    /// Operand `n` of an SSE instruction: an XMM register, or memory read as
    /// [`Cpu::read_vec_operand`] does.
    #[inline]
    pub fn xmm_operand(&mut self, u: &Uop, n: u32) -> Result<u128, Exception> {
        match u.op_kind(n) {
            OpKind::Memory => self.read_vec_operand(u),
            _ => Ok(self.xmm(xmm_number(u, n))),
        }
    }

    /// Operand `n` of an MMX instruction: an MMX register, or memory (8 or 4 bytes,
    /// zero-extended).
    #[inline]
    pub fn mm_operand(&mut self, u: &Uop, n: u32) -> Result<u64, Exception> {
        match u.op_kind(n) {
            OpKind::Memory => Ok(self.read_vec_operand(u)? as u64),
            _ => Ok(self.mm(xmm_number(u, n))),
        }
    }

    /// Writes operand `n` of an SSE instruction: the whole XMM register, or as many
    /// bytes of memory as the memory size.
    #[inline]
    pub fn set_xmm_operand(&mut self, u: &Uop, n: u32, v: u128) -> R {
        match u.op_kind(n) {
            OpKind::Memory => self.write_vec_operand(u, v),
            _ => {
                self.set_xmm(xmm_number(u, n), v);
                Ok(())
            }
        }
    }

    /// Writes operand `n` of an MMX instruction (register or 8 bytes of memory).
    #[inline]
    pub fn set_mm_operand(&mut self, u: &Uop, n: u32, v: u64) -> R {
        match u.op_kind(n) {
            OpKind::Memory => self.write_vec_operand(u, u128::from(v)),
            _ => {
                self.set_mm(xmm_number(u, n), v);
                Ok(())
            }
        }
    }
}

/// The XMM or MMX register number of register operand `n` (0–7).
#[inline(always)]
pub fn xmm_number(u: &Uop, n: u32) -> u8 {
    match n {
        0 => u.r0,
        1 => u.r1,
        _ => {
            let r = u.op_register(n);
            if r.is_xmm() {
                (r as u8).wrapping_sub(iced_x86::Register::XMM0 as u8) & 7
            } else {
                (r as u8).wrapping_sub(iced_x86::Register::MM0 as u8) & 7
            }
        }
    }
}
