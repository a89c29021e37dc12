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
    /// iced's first general register of this width (AL, AX, EAX): registers of the
    /// width follow it in encoding order.
    const FIRST: Register;
    fn from_u32(v: u32) -> Self;
    fn u32(self) -> u32;
    /// Sign-extended to 32 bits.
    fn sx(self) -> u32;
    /// The general register with encoding `i` (0–7) of this width.
    fn gpr(cpu: &Cpu, i: u8) -> Self;
    fn set_gpr(cpu: &mut Cpu, i: u8, v: Self);

    #[inline(always)]
    fn get_reg(cpu: &Cpu, r: Register) -> Self {
        Self::gpr(cpu, gpr_index(r, Self::FIRST))
    }
    #[inline(always)]
    fn set_reg(cpu: &mut Cpu, r: Register, v: Self) {
        Self::set_gpr(cpu, gpr_index(r, Self::FIRST), v)
    }
}

/// Encoding (0–7) of an iced general register among those of its width.
#[inline(always)]
fn gpr_index(r: Register, first: Register) -> u8 {
    ((r as usize).wrapping_sub(first as usize) & 7) as u8
}

impl Int for u8 {
    const BITS: u32 = 8;
    const MASK: u32 = 0xff;
    const SIGN: u32 = 0x80;
    const FIRST: Register = Register::AL;
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
    fn gpr(cpu: &Cpu, i: u8) -> Self {
        let shift = u32::from(i & 4) * 2;
        (cpu.regs[usize::from(i & 3)] >> shift) as u8
    }
    #[inline(always)]
    fn set_gpr(cpu: &mut Cpu, i: u8, v: Self) {
        let shift = u32::from(i & 4) * 2;
        let r = &mut cpu.regs[usize::from(i & 3)];
        *r = (*r & !(0xff << shift)) | (u32::from(v) << shift);
    }
}

impl Int for u16 {
    const BITS: u32 = 16;
    const MASK: u32 = 0xffff;
    const SIGN: u32 = 0x8000;
    const FIRST: Register = Register::AX;
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
    fn gpr(cpu: &Cpu, i: u8) -> Self {
        cpu.regs[usize::from(i & 7)] as u16
    }
    #[inline(always)]
    fn set_gpr(cpu: &mut Cpu, i: u8, v: Self) {
        let r = &mut cpu.regs[usize::from(i & 7)];
        *r = (*r & !0xffff) | u32::from(v);
    }
}

impl Int for u32 {
    const BITS: u32 = 32;
    const MASK: u32 = 0xffff_ffff;
    const SIGN: u32 = 0x8000_0000;
    const FIRST: Register = Register::EAX;
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
    fn gpr(cpu: &Cpu, i: u8) -> Self {
        cpu.regs[usize::from(i & 7)]
    }
    #[inline(always)]
    fn set_gpr(cpu: &mut Cpu, i: u8, v: Self) {
        cpu.regs[usize::from(i & 7)] = v;
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

/// Linear address of `offset` in segment `s`, for an access of whose size and kind
/// only the first byte and "read" are known; #GP(0) through a null selector.
#[inline(always)]
fn linear_in(s: &crate::seg::Segment, offset: u32) -> Result<u32, Exception> {
    linear_access(s, false, offset, 1, false)
}

/// Linear address of an access of `len` bytes at `offset` in segment `s` (`stack`:
/// it is SS), with the segment's limit and type checks unless it is open.
#[inline(always)]
pub(crate) fn linear_access(
    s: &crate::seg::Segment,
    stack: bool,
    offset: u32,
    len: u32,
    write: bool,
) -> Result<u32, Exception> {
    if !s.open {
        s.check(stack, offset, len, write)?;
    }
    Ok(s.base.wrapping_add(offset))
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

    /// Effective address for a micro-op whose address shape ([`Uop::ea_mode`]) is
    /// known when the handler is chosen: only the registers the shape uses are read.
    #[inline(always)]
    pub fn ea<const MODE: u8>(&self, u: &Uop) -> u32 {
        use crate::uop::{EA_BASE, EA_BASE_INDEX, EA_DISP};
        let base = self.regs[usize::from(u.base & 7)];
        let index = self.regs[usize::from(u.index & 7)] << (u.scale & 3);
        // The shape alone: EA_FLAT is the segment's business.
        match MODE & 3 {
            EA_DISP => u.disp,
            EA_BASE => u.disp.wrapping_add(base),
            EA_BASE_INDEX => u.disp.wrapping_add(base).wrapping_add(index),
            _ => u.disp.wrapping_add(index),
        }
    }

    /// Linear address of the memory operand of a micro-op with a known address shape.
    #[inline(always)]
    pub fn mem_lin<const MODE: u8>(&self, u: &Uop) -> Result<u32, Exception> {
        if MODE & crate::uop::EA_FLAT != 0 {
            // A flat DS, ES or SS (checked when the block was lowered, and the block
            // dropped once it is no longer so): the segment adds nothing.
            return Ok(self.ea::<MODE>(u));
        }
        // Indexed by the lowered segment number directly: one bounds check fewer
        // than going through `SegReg`.
        let s = &self.segs[usize::from(u.seg)];
        linear_access(s, u.seg == SegReg::Ss as u8, self.ea::<MODE>(u), u.mem_len(), u.writes_memory())
    }

    /// Linear address of an access of `len` bytes at `offset` through `sreg`, with
    /// the segment's limit and type checks.
    #[inline(always)]
    pub fn seg_access(&self, sreg: SegReg, offset: u32, len: u32, write: bool) -> Result<u32, Exception> {
        linear_access(&self.segs[sreg as usize], sreg == SegReg::Ss, offset, len, write)
    }

    /// Linear address of the micro-op's memory operand at `offset` (its effective
    /// address), checked for the operand's size and whether it is written.
    #[inline(always)]
    pub fn operand_lin(&self, u: &Uop, offset: u32) -> Result<u32, Exception> {
        self.seg_access(u.segment(), offset, u.mem_len(), u.writes_memory())
    }

    /// Linear address of `offset` in segment `sreg`; #GP(0) through a null selector.
    #[inline(always)]
    pub fn linear(&self, sreg: SegReg, offset: u32) -> Result<u32, Exception> {
        linear_in(&self.segs[sreg as usize], offset)
    }

    /// Linear address of the instruction's memory operand.
    #[inline]
    pub fn mem_linear(&self, insn: &Uop) -> Result<u32, Exception> {
        self.operand_lin(insn, self.effective_address(insn))
    }

    // ---- user-mode memory access (the CPU always runs at CPL 3) ----

    #[inline(always)]
    pub fn read_mem<T: Scalar>(&mut self, lin: u32) -> Result<T, Exception> {
        self.mmu.read::<T>(lin, true).map_err(Exception::from)
    }

    #[inline(always)]
    pub fn write_mem<T: Scalar>(&mut self, lin: u32, v: T) -> Result<(), Exception> {
        self.mmu.write::<T>(lin, v, true).map_err(Exception::from)
    }

    /// Checks that `len` bytes at `lin` may be written, before anything is written.
    #[inline]
    pub fn probe_write(&mut self, lin: u32, len: u32) -> Result<(), Exception> {
        self.mmu.probe(lin, len, AccessKind::UserWrite).map_err(Exception::from)
    }

    #[inline]
    pub fn probe_read(&mut self, lin: u32, len: u32) -> Result<(), Exception> {
        self.mmu.probe(lin, len, AccessKind::UserRead).map_err(Exception::from)
    }

    pub fn read_bytes(&mut self, lin: u32, out: &mut [u8]) -> Result<(), Exception> {
        self.mmu.read_into(lin, out, AccessKind::UserRead).map_err(Exception::from)
    }

    pub fn write_bytes(&mut self, lin: u32, data: &[u8]) -> Result<(), Exception> {
        self.mmu.write_from(lin, data, AccessKind::UserWrite).map_err(Exception::from)
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

    /// The TLB-hit part of [`Cpu::push`]: `Ok(true)` if the slot was written through a
    /// write tag and ESP moved; `Ok(false)` if nothing happened (a miss or a page split:
    /// then do the whole push the general way, out of line). Only the SS check can fail;
    /// with `FLAT` (SS known flat, [`Uop::flat_stack`]) there is none.
    #[inline(always)]
    pub fn push_hit<T: Int, const FLAT: bool>(&mut self, v: T) -> Result<bool, Exception> {
        let esp = self.regs[ESP].wrapping_sub(T::BITS / 8);
        let lin = if FLAT { esp } else { self.linear(SegReg::Ss, esp)? };
        if self.mmu.write_hit::<T>(lin, v) {
            self.regs[ESP] = esp;
            return Ok(true);
        }
        Ok(false)
    }

    /// The TLB-hit part of [`Cpu::peek`]: `Ok(None)` on a miss or a page split (then
    /// read the general way, out of line).
    #[inline(always)]
    pub fn peek_hit<T: Int, const FLAT: bool>(&mut self, offset: u32) -> Result<Option<T>, Exception> {
        let at = self.regs[ESP].wrapping_add(offset);
        let lin = if FLAT { at } else { self.linear(SegReg::Ss, at)? };
        Ok(self.mmu.read_hit::<T>(lin))
    }

    /// Reads the memory operand of a micro-op with a known address shape: the TLB hit
    /// inline, a miss or a page split out of line.
    #[inline(always)]
    pub(crate) fn load<T: Int, const EA: u8>(&mut self, u: &Uop) -> Result<T, Exception> {
        let lin = self.mem_lin::<EA>(u)?;
        match self.mmu.read_hit::<T>(lin) {
            Some(v) => Ok(v),
            None => read_miss::<T>(self, lin),
        }
    }
}

// ---- operand forms ----
//
// A binary operation whose destination is also its first source (ADD, AND, CMP, ...)
// is written once, as a `BinOp`; these functions give it one handler per operand
// form. Lowering picks the form (`Uop::form`), so the handler that runs knows where
// its operands are. Precise faults as everywhere: a memory source is read before
// anything changes; a memory destination that is written is probed for writing
// before it is read, so the write-back cannot fault after the flags were recorded.

/// A two-operand instruction `dest := dest OP src` with its flags.
pub trait BinOp {
    /// Whether the result is written back (false for CMP and TEST, which only set
    /// flags, so their destination is only read and a read-only page does not fault).
    const WRITES: bool;
    fn apply<T: Int>(flags: &mut crate::flags::Flags, a: T, b: T) -> T;
}

/// Any form (what the dispatch table registers for the `Code`).
pub fn binop<T: Int, O: BinOp>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    let b = cpu.read_op::<T>(u, 1)?;
    let loc = cpu.loc::<T>(u, 0, O::WRITES)?;
    let a = cpu.read_loc::<T>(loc)?;
    let r = O::apply(&mut cpu.flags, a, b);
    if O::WRITES {
        cpu.write_loc(loc, r)?;
    }
    Ok(())
}

fn binop_rr<T: Int, O: BinOp>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    let (a, b) = (T::gpr(cpu, u.r0), T::gpr(cpu, u.r1));
    let r = O::apply(&mut cpu.flags, a, b);
    if O::WRITES {
        T::set_gpr(cpu, u.r0, r);
    }
    Ok(())
}

fn binop_ri<T: Int, O: BinOp>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    let a = T::gpr(cpu, u.r0);
    let r = O::apply(&mut cpu.flags, a, T::from_u32(u.imm));
    if O::WRITES {
        T::set_gpr(cpu, u.r0, r);
    }
    Ok(())
}

fn binop_rm<T: Int, O: BinOp, const EA: u8>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    let b = cpu.load::<T, EA>(u)?;
    let a = T::gpr(cpu, u.r0);
    let r = O::apply(&mut cpu.flags, a, b);
    if O::WRITES {
        T::set_gpr(cpu, u.r0, r);
    }
    Ok(())
}

/// A read past a TLB miss or a page split, out of line.
#[inline(never)]
fn read_miss<T: Int>(cpu: &mut Cpu, lin: u32) -> Result<T, Exception> {
    cpu.read_mem::<T>(lin)
}

#[inline(always)]
fn binop_mem<T: Int, O: BinOp, const EA: u8>(cpu: &mut Cpu, u: &Uop, b: T) -> Result<(), Exception> {
    let lin = cpu.mem_lin::<EA>(u)?;
    if O::WRITES {
        // One lookup through a write tag covers the read and the write-back.
        if let Some((p, a)) = cpu.mmu.rmw_hit::<T>(lin) {
            let r = O::apply(&mut cpu.flags, a, b);
            cpu.mmu.store_hit::<T>(p, r);
            return Ok(());
        }
        return binop_mem_miss::<T, O>(cpu, lin, b);
    }
    let a = match cpu.mmu.read_hit::<T>(lin) {
        Some(a) => a,
        None => read_miss::<T>(cpu, lin)?,
    };
    O::apply(&mut cpu.flags, a, b);
    Ok(())
}

/// A read-modify-write past a write-tag miss or a page split: probed for writing
/// first, so the write-back cannot fault after the flags were recorded.
#[inline(never)]
fn binop_mem_miss<T: Int, O: BinOp>(cpu: &mut Cpu, lin: u32, b: T) -> Result<(), Exception> {
    cpu.probe_write(lin, T::BITS / 8)?;
    let a = cpu.read_mem::<T>(lin)?;
    let r = O::apply(&mut cpu.flags, a, b);
    cpu.write_mem::<T>(lin, r)
}

fn binop_mr<T: Int, O: BinOp, const EA: u8>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    let b = T::gpr(cpu, u.r1);
    binop_mem::<T, O, EA>(cpu, u, b)
}

fn binop_mi<T: Int, O: BinOp, const EA: u8>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    binop_mem::<T, O, EA>(cpu, u, T::from_u32(u.imm))
}

/// The form-specialised handler of a `BinOp` for a lowered instruction.
pub fn binop_form<T: Int, O: BinOp>(u: &Uop) -> Option<crate::uop::Handler> {
    use crate::uop::Form;
    match u.form()? {
        Form::RR => Some(binop_rr::<T, O>),
        Form::RI => Some(binop_ri::<T, O>),
        Form::RM => crate::by_ea!(u, binop_rm::<T, O>),
        Form::MR => crate::by_ea!(u, binop_mr::<T, O>),
        Form::MI => crate::by_ea!(u, binop_mi::<T, O>),
        Form::R | Form::M => None,
    }
}
