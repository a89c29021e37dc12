//! Shared operand plumbing: the one place that turns iced-x86 operands into values and
//! locations, generic over 8-, 16- and 32-bit widths.
//!
//! Rules every handler relies on for precise faults:
//! * read every source before writing anything;
//! * for read-modify-write of memory, take a [`Loc`] with `write = true` first: that
//!   translates with write intent (setting D) so the later read and write cannot fault;
//! * change ESP only after the stack memory access succeeded.

use iced_x86::{OpKind, Register};

use crate::exception::Exception;
use crate::mmu::{AccessKind, Scalar};
use crate::seg::SegReg;
use crate::state::{Cpu, ESP};
use crate::uop::{Uop, NO_REG};

/// An integer operand width.
pub trait Int: Scalar + Copy + Eq + Ord + Default + std::fmt::Debug + std::fmt::LowerHex + 'static {
    const BITS: u32;
    const MASK: u32;
    const SIGN: u32;
    fn from_u32(v: u32) -> Self;
    fn u32(self) -> u32;
    /// Sign-extended to 32 bits.
    fn sx(self) -> u32;
    fn get_reg(cpu: &Cpu, r: Register) -> Self;
    fn set_reg(cpu: &mut Cpu, r: Register, v: Self);
}

/// Index into `Cpu::regs` of a 32-bit, 16-bit or low-8-bit register of iced's.
#[inline(always)]
fn gpr_index(r: Register, first: Register) -> usize {
    (r as usize).wrapping_sub(first as usize)
}

impl Int for u8 {
    const BITS: u32 = 8;
    const MASK: u32 = 0xff;
    const SIGN: u32 = 0x80;
    #[inline(always)]
    fn from_u32(v: u32) -> Self {
        v as u8
    }
    #[inline(always)]
    fn u32(self) -> u32 {
        u32::from(self)
    }
    #[inline(always)]
    fn sx(self) -> u32 {
        self as i8 as i32 as u32
    }
    /// AL..BL are the low bytes of EAX..EBX, AH..BH bits 8..15 (no REX in 32-bit mode).
    #[inline(always)]
    fn get_reg(cpu: &Cpu, r: Register) -> Self {
        let i = gpr_index(r, Register::AL);
        if i < 4 {
            cpu.regs[i] as u8
        } else {
            (cpu.regs[i - 4] >> 8) as u8
        }
    }
    #[inline(always)]
    fn set_reg(cpu: &mut Cpu, r: Register, v: Self) {
        let i = gpr_index(r, Register::AL);
        if i < 4 {
            cpu.regs[i] = (cpu.regs[i] & !0xff) | u32::from(v);
        } else {
            cpu.regs[i - 4] = (cpu.regs[i - 4] & !0xff00) | (u32::from(v) << 8);
        }
    }
}

impl Int for u16 {
    const BITS: u32 = 16;
    const MASK: u32 = 0xffff;
    const SIGN: u32 = 0x8000;
    #[inline(always)]
    fn from_u32(v: u32) -> Self {
        v as u16
    }
    #[inline(always)]
    fn u32(self) -> u32 {
        u32::from(self)
    }
    #[inline(always)]
    fn sx(self) -> u32 {
        self as i16 as i32 as u32
    }
    #[inline(always)]
    fn get_reg(cpu: &Cpu, r: Register) -> Self {
        cpu.regs[gpr_index(r, Register::AX) & 7] as u16
    }
    #[inline(always)]
    fn set_reg(cpu: &mut Cpu, r: Register, v: Self) {
        let i = gpr_index(r, Register::AX) & 7;
        cpu.regs[i] = (cpu.regs[i] & !0xffff) | u32::from(v);
    }
}

impl Int for u32 {
    const BITS: u32 = 32;
    const MASK: u32 = 0xffff_ffff;
    const SIGN: u32 = 0x8000_0000;
    #[inline(always)]
    fn from_u32(v: u32) -> Self {
        v
    }
    #[inline(always)]
    fn u32(self) -> u32 {
        self
    }
    #[inline(always)]
    fn sx(self) -> u32 {
        self
    }
    #[inline(always)]
    fn get_reg(cpu: &Cpu, r: Register) -> Self {
        cpu.regs[gpr_index(r, Register::EAX) & 7]
    }
    #[inline(always)]
    fn set_reg(cpu: &mut Cpu, r: Register, v: Self) {
        cpu.regs[gpr_index(r, Register::EAX) & 7] = v;
    }
}

/// Where an operand lives once its address has been computed (and, for writes,
/// checked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loc {
    Reg(Register),
    /// Linear address.
    Mem(u32),
}

/// Value of any general register of iced's, zero-extended.
pub fn reg_value(cpu: &Cpu, r: Register) -> u32 {
    if r.is_gpr32() {
        u32::get_reg(cpu, r)
    } else if r.is_gpr16() {
        u32::from(u16::get_reg(cpu, r))
    } else if r.is_gpr8() {
        u32::from(u8::get_reg(cpu, r))
    } else {
        0
    }
}

impl Cpu {
    /// Effective address (offset within the segment) of the memory operand, with
    /// 16-bit wrap-around under a 0x67 prefix. Branch-free: an absent base or index
    /// ([`NO_REG`], bit 3 set) contributes through a zero mask.
    #[inline(always)]
    pub fn effective_address(&self, u: &Uop) -> u32 {
        let present = |r: u8| u32::from(r & NO_REG == 0).wrapping_neg();
        let base = self.regs[usize::from(u.base & 7)] & present(u.base);
        let index = self.regs[usize::from(u.index & 7)] & present(u.index);
        let ea = u.disp.wrapping_add(base).wrapping_add(index << u.scale);
        if u.addr16() {
            ea & 0xffff
        } else {
            ea
        }
    }

    /// Linear address of `offset` in segment `sreg`; #GP(0) through a null selector.
    #[inline(always)]
    pub fn linear(&self, sreg: SegReg, offset: u32) -> Result<u32, Exception> {
        let s = &self.segs[sreg as usize];
        if !s.usable {
            return Err(Exception::GeneralProtection(0));
        }
        Ok(s.base.wrapping_add(offset))
    }

    /// Linear address of the instruction's memory operand.
    #[inline]
    pub fn mem_linear(&self, insn: &Uop) -> Result<u32, Exception> {
        self.linear(insn.segment(), self.effective_address(insn))
    }

    // ---- user-mode memory access (the CPU always runs at CPL 3) ----

    #[inline(always)]
    pub fn read_mem<T: Scalar>(&mut self, lin: u32) -> Result<T, Exception> {
        self.mmu.read::<T>(lin, true).map_err(Exception::PageFault)
    }

    #[inline(always)]
    pub fn write_mem<T: Scalar>(&mut self, lin: u32, v: T) -> Result<(), Exception> {
        self.mmu.write::<T>(lin, v, true).map_err(Exception::PageFault)
    }

    /// Checks that `len` bytes at `lin` may be written, before anything is written.
    #[inline]
    pub fn probe_write(&mut self, lin: u32, len: u32) -> Result<(), Exception> {
        self.mmu.probe(lin, len, AccessKind::UserWrite).map_err(Exception::PageFault)
    }

    #[inline]
    pub fn probe_read(&mut self, lin: u32, len: u32) -> Result<(), Exception> {
        self.mmu.probe(lin, len, AccessKind::UserRead).map_err(Exception::PageFault)
    }

    pub fn read_bytes(&mut self, lin: u32, out: &mut [u8]) -> Result<(), Exception> {
        self.mmu.read_into(lin, out, AccessKind::UserRead).map_err(Exception::PageFault)
    }

    pub fn write_bytes(&mut self, lin: u32, data: &[u8]) -> Result<(), Exception> {
        self.mmu.write_from(lin, data, AccessKind::UserWrite).map_err(Exception::PageFault)
    }

    // ---- operands ----

    /// Location of operand `n`. With `write`, a memory operand is translated for
    /// writing now, so the instruction cannot fault after it starts changing state.
    #[inline]
    pub fn loc<T: Int>(&mut self, insn: &Uop, n: u32, write: bool) -> Result<Loc, Exception> {
        match insn.op_kind(n) {
            OpKind::Register => Ok(Loc::Reg(insn.op_register(n))),
            OpKind::Memory => {
                let lin = self.mem_linear(insn)?;
                if write {
                    self.probe_write(lin, T::BITS / 8)?;
                }
                Ok(Loc::Mem(lin))
            }
            _ => Err(Exception::InvalidOpcode),
        }
    }

    #[inline(always)]
    pub fn read_loc<T: Int>(&mut self, loc: Loc) -> Result<T, Exception> {
        match loc {
            Loc::Reg(r) => Ok(T::get_reg(self, r)),
            Loc::Mem(lin) => self.read_mem::<T>(lin),
        }
    }

    #[inline(always)]
    pub fn write_loc<T: Int>(&mut self, loc: Loc, v: T) -> Result<(), Exception> {
        match loc {
            Loc::Reg(r) => {
                T::set_reg(self, r, v);
                Ok(())
            }
            Loc::Mem(lin) => self.write_mem::<T>(lin, v),
        }
    }

    /// Value of operand `n`: register, memory or immediate (immediates arrive already
    /// sign- or zero-extended the way the instruction defines them).
    #[inline]
    pub fn read_op<T: Int>(&mut self, insn: &Uop, n: u32) -> Result<T, Exception> {
        match insn.op_kind(n) {
            OpKind::Register => Ok(T::get_reg(self, insn.op_register(n))),
            OpKind::Memory => {
                let lin = self.mem_linear(insn)?;
                self.read_mem::<T>(lin)
            }
            OpKind::Immediate8
            | OpKind::Immediate16
            | OpKind::Immediate32
            | OpKind::Immediate8to16
            | OpKind::Immediate8to32 => Ok(T::from_u32(insn.imm)),
            OpKind::Immediate8_2nd => Ok(T::from_u32(insn.imm2)),
            _ => Err(Exception::InvalidOpcode),
        }
    }

    #[inline]
    pub fn write_op<T: Int>(&mut self, insn: &Uop, n: u32, v: T) -> Result<(), Exception> {
        match insn.op_kind(n) {
            OpKind::Register => {
                T::set_reg(self, insn.op_register(n), v);
                Ok(())
            }
            OpKind::Memory => {
                let lin = self.mem_linear(insn)?;
                self.write_mem::<T>(lin, v)
            }
            _ => Err(Exception::InvalidOpcode),
        }
    }

    // ---- stack ----

    /// PUSH: the store happens first; ESP changes only if it succeeded, so a push that
    /// faults (the seed scenario: a CALL below the stack VMA) restarts cleanly.
    #[inline]
    pub fn push<T: Int>(&mut self, v: T) -> Result<(), Exception> {
        let esp = self.regs[ESP].wrapping_sub(T::BITS / 8);
        let lin = self.linear(SegReg::Ss, esp)?;
        self.write_mem::<T>(lin, v)?;
        self.regs[ESP] = esp;
        Ok(())
    }

    /// POP: reads, then moves ESP.
    #[inline]
    pub fn pop<T: Int>(&mut self) -> Result<T, Exception> {
        let esp = self.regs[ESP];
        let lin = self.linear(SegReg::Ss, esp)?;
        let v = self.read_mem::<T>(lin)?;
        self.regs[ESP] = esp.wrapping_add(T::BITS / 8);
        Ok(v)
    }

    /// Reads the stack slot `offset` bytes above ESP without moving ESP.
    #[inline]
    pub fn peek<T: Int>(&mut self, offset: u32) -> Result<T, Exception> {
        let lin = self.linear(SegReg::Ss, self.regs[ESP].wrapping_add(offset))?;
        self.read_mem::<T>(lin)
    }
}
