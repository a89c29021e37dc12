//! growsdown's own decoded form: the micro-op.
//!
//! iced-x86 decodes; this module lowers each decoded instruction, once, when its block
//! is built, into a [`Uop`]: the handler picked for its operand form, the registers as
//! indices, the memory operand with base, index, scale, displacement and segment
//! resolved, the immediate, the branch target and the instruction's own EIP and
//! length. Handlers read only the micro-op, never iced's `Instruction`, so running an
//! instruction costs no operand-kind decoding beyond what its handler's form implies
//! (docs/house-style.md, "operand-form handlers"). The lowering lives here and only
//! here; the semantics stay in `ops`, one module per family, registered by iced `Code`
//! in [`crate::table`].

use iced_x86::{Code, ConditionCode, Instruction, MemorySize, Mnemonic, OpKind, Register};

use crate::exception::Exception;
use crate::seg::SegReg;
use crate::state::Cpu;

/// Executes one micro-op. On `Ok`, execution continues with the next micro-op of the
/// block, or at `cpu.next_eip` after the last one; control transfers write
/// `cpu.next_eip`. On `Err`, faults leave EIP at the instruction, traps move it past.
pub type Handler = fn(&mut Cpu, &Uop) -> Result<(), Exception>;

/// "No register" in [`Uop::base`] and [`Uop::index`]: bit 3 set.
pub const NO_REG: u8 = 8;

/// [`Uop::flags`]: F3 (REP/REPE) prefix.
pub const REP: u8 = 1 << 0;
/// [`Uop::flags`]: F2 (REPNE) prefix.
pub const REPNE: u8 = 1 << 1;
/// [`Uop::flags`]: 16-bit addressing (0x67 prefix): the effective address wraps at 64 KiB.
pub const ADDR16: u8 = 1 << 2;
/// [`Uop::flags`]: the block was lowered while DS, ES and SS were flat (usable, base
/// 0: the Linux model), so through them a linear address is the offset: a memory
/// operand's shape gains [`EA_FLAT`], and stack handlers skip SS. Blocks lowered so
/// are dropped when that stops being true (`Cpu::check_flat_segments`).
pub const FLAT: u8 = 1 << 3;
/// [`Uop::flags`]: a CMP or TEST fused with the Jcc after it (see `ops::control::fuse`):
/// the micro-op retires two instructions; `alt` runs the first one alone.
pub const FUSED: u8 = 1 << 4;

/// [`Uop::flags`]: a 128-bit memory operand of a legacy SSE instruction that must be
/// 16-byte aligned (#GP(0) otherwise, SDM Vol. 1 §10.4.1.1): every one but the
/// explicitly unaligned moves (MOVUPS, MOVUPD, MOVDQU, LDDQU).
pub const ALIGN16: u8 = 1 << 5;

/// [`Uop::flags`]: the explicit memory operand is written (or read and written), so
/// a segment's type check treats the access as a write.
pub const MEM_WRITE: u8 = 1 << 6;

/// [`Uop::flags`]: no one can see this instruction's arithmetic flags before a later
/// one in the block overwrites them, so `exec` is a variant that does not compute
/// them, and `alt` the exact handler, which a block cut short by the instruction
/// budget runs instead (`crate::liveness`).
pub const DEAD_FLAGS: u8 = 1 << 7;

/// [`Uop::ea_mode`]: displacement only.
pub const EA_DISP: u8 = 0;
/// [`Uop::ea_mode`]: base + displacement.
pub const EA_BASE: u8 = 1;
/// [`Uop::ea_mode`]: base + index << scale + displacement.
pub const EA_BASE_INDEX: u8 = 2;
/// [`Uop::ea_mode`]: index << scale + displacement.
pub const EA_INDEX: u8 = 3;
/// [`Uop::ea_mode`], added to one of the above: the segment is flat ([`FLAT`]).
pub const EA_FLAT: u8 = 4;

/// Picks `f::<..., MODE>` for the micro-op's address shape: `by_ea!(u, f::<T, O>)`
/// evaluates to `Option<Handler>` (`None` under 16-bit addressing).
#[macro_export]
#[doc(hidden)]
macro_rules! by_ea {
    (@pick $u:expr, $f:ident, [$($g:tt,)*]) => {
        match $u.ea_mode() {
            Some($crate::uop::EA_DISP) => Some($f::<$($g,)* { $crate::uop::EA_DISP }> as $crate::uop::Handler),
            Some($crate::uop::EA_BASE) => Some($f::<$($g,)* { $crate::uop::EA_BASE }> as $crate::uop::Handler),
            Some($crate::uop::EA_BASE_INDEX) => Some($f::<$($g,)* { $crate::uop::EA_BASE_INDEX }> as $crate::uop::Handler),
            Some($crate::uop::EA_INDEX) => Some($f::<$($g,)* { $crate::uop::EA_INDEX }> as $crate::uop::Handler),
            Some(m) if m == $crate::uop::EA_DISP | $crate::uop::EA_FLAT => {
                Some($f::<$($g,)* { $crate::uop::EA_DISP | $crate::uop::EA_FLAT }> as $crate::uop::Handler)
            }
            Some(m) if m == $crate::uop::EA_BASE | $crate::uop::EA_FLAT => {
                Some($f::<$($g,)* { $crate::uop::EA_BASE | $crate::uop::EA_FLAT }> as $crate::uop::Handler)
            }
            Some(m) if m == $crate::uop::EA_BASE_INDEX | $crate::uop::EA_FLAT => {
                Some($f::<$($g,)* { $crate::uop::EA_BASE_INDEX | $crate::uop::EA_FLAT }> as $crate::uop::Handler)
            }
            Some(_) => Some($f::<$($g,)* { $crate::uop::EA_INDEX | $crate::uop::EA_FLAT }> as $crate::uop::Handler),
            None => None,
        }
    };
    ($u:expr, $f:ident :: < $($g:tt),* >) => {
        $crate::by_ea!(@pick $u, $f, [$($g,)*])
    };
    ($u:expr, $f:ident) => {
        $crate::by_ea!(@pick $u, $f, [])
    };
}

/// Operands a micro-op keeps (every 32-bit-mode legacy instruction growsdown runs has at
/// most three explicit ones).
pub const MAX_OPS: usize = 3;

/// Where the operands of a one- or two-operand instruction live, decided once at
/// lowering so a form-specialised handler reads them without looking at operand kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// Register destination (and source), register source.
    RR,
    /// Register destination, immediate source.
    RI,
    /// Register destination, memory source.
    RM,
    /// Memory destination, register source.
    MR,
    /// Memory destination, immediate source.
    MI,
    /// One register operand.
    R,
    /// One memory operand.
    M,
}

/// One lowered instruction.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct Uop {
    pub exec: Handler,
    /// For a [`FUSED`] micro-op, the handler of its first instruction alone (used when
    /// the budget ends between the two); otherwise the same as `exec`.
    pub alt: Handler,
    /// EIP of this instruction (not linear: CS base not added).
    pub eip: u32,
    /// Memory operand displacement (already sign-extended).
    pub disp: u32,
    /// First immediate, extended the way the instruction defines it; a far pointer's
    /// selector.
    pub imm: u32,
    /// Near branch target, far pointer offset, or ENTER's second immediate.
    pub imm2: u32,
    pub code: Code,
    pub len: u8,
    pub op_count: u8,
    pub kinds: [OpKind; MAX_OPS],
    pub regs: [Register; MAX_OPS],
    /// Register indices (`Cpu::regs`) of the memory operand, or [`NO_REG`].
    pub base: u8,
    pub index: u8,
    /// log2 of the index scale.
    pub scale: u8,
    /// Segment of the memory operand (a [`SegReg`] as u8).
    pub seg: u8,
    pub cc: ConditionCode,
    pub msize: MemorySize,
    pub flags: u8,
    /// `regs[0]` / `regs[1]` as an index into `Cpu::regs` (for 8-bit registers, the
    /// encoding 0–7: AL CL DL BL AH CH DH BH), or for an XMM or MMX register its number.
    pub r0: u8,
    pub r1: u8,
    /// The lazy flag state this instruction finds, when the instruction before it in
    /// the block fixes it (`flags::lazy` kind | width << `WIDTH_SHIFT`), else 0. Lets a Jcc after
    /// a CMP or TEST compare the recorded operands directly.
    pub known: u8,
    /// Instructions of its block retired once this micro-op has run: those of the
    /// micro-ops before it, plus one (two when [`FUSED`]). Set when the block is
    /// stored (`Blocks::insert`); a side exit or a fault in the middle of a block commits
    /// the count from it, as fused micro-ops may come before.
    pub upto: u8,
}

const _: () = assert!(std::mem::size_of::<Uop>() <= 56);

/// The terminator's handler ([`Uop::terminator`]).
fn block_end(_: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    Err(Exception::side_exit())
}

/// Index of a general, XMM or MMX register in its kind's encoding order (0–7), or 0.
fn gpr_number(r: Register) -> u8 {
    let first = if r.is_gpr32() {
        Register::EAX
    } else if r.is_gpr16() {
        Register::AX
    } else if r.is_gpr8() {
        Register::AL
    } else if r.is_xmm() {
        Register::XMM0
    } else if (Register::MM0..=Register::MM7).contains(&r) {
        Register::MM0
    } else {
        return 0;
    };
    ((r as usize - first as usize) & 7) as u8
}

/// Index into `Cpu::regs` of a 16- or 32-bit address register, or [`NO_REG`].
fn address_reg(r: Register) -> u8 {
    if r == Register::None {
        NO_REG
    } else {
        gpr_number(r)
    }
}

/// Whether the instruction writes memory (iced's access info; only at lowering, for
/// an instruction with a memory operand). The answer depends on the `Code` alone (the
/// access kinds are per opcode form, and the memory form has its own `Code`), so it is
/// asked once per `Code` and remembered: iced's info factory costs more than the rest
/// of the lowering.
fn writes_memory(insn: &Instruction) -> bool {
    use iced_x86::{InstructionInfoFactory, OpAccess};
    const UNKNOWN: u8 = 0;
    const WRITES: u8 = 1;
    const READS: u8 = 2;
    thread_local! {
        static INFO: std::cell::RefCell<InstructionInfoFactory> = std::cell::RefCell::new(InstructionInfoFactory::new());
        static BY_CODE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let code = insn.code() as usize;
    let known = BY_CODE.with(|m| m.borrow().get(code).copied().unwrap_or(UNKNOWN));
    if known != UNKNOWN {
        return known == WRITES;
    }
    let writes = INFO.with(|f| {
        let mut f = f.borrow_mut();
        let info = f.info_options(insn, iced_x86::InstructionInfoOptions::NO_REGISTER_USAGE);
        info.used_memory().iter().any(|m| {
            matches!(
                m.access(),
                OpAccess::Write | OpAccess::CondWrite | OpAccess::ReadWrite | OpAccess::ReadCondWrite
            )
        })
    });
    BY_CODE.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() <= code {
            m.resize(code + 1, UNKNOWN);
        }
        m[code] = if writes { WRITES } else { READS };
    });
    writes
}

/// The legacy SSE instructions whose 128-bit memory operand may be unaligned.
fn unaligned_ok(code: Code) -> bool {
    matches!(
        code,
        Code::Movups_xmm_xmmm128
            | Code::Movups_xmmm128_xmm
            | Code::Movupd_xmm_xmmm128
            | Code::Movupd_xmmm128_xmm
            | Code::Movdqu_xmm_xmmm128
            | Code::Movdqu_xmmm128_xmm
            | Code::Lddqu_xmm_m128
    )
}

impl Uop {
    /// Lowers one decoded instruction with the handler chosen for it.
    pub fn lower(insn: &Instruction, exec: Handler) -> Self {
        let op_count = (insn.op_count() as usize).min(MAX_OPS);
        let mut kinds = [OpKind::Register; MAX_OPS];
        let mut regs = [Register::None; MAX_OPS];
        let mut imm = 0u32;
        let mut imm2 = 0u32;
        for n in 0..op_count {
            let k = insn.op_kind(n as u32);
            kinds[n] = k;
            match k {
                OpKind::Register => regs[n] = insn.op_register(n as u32),
                OpKind::Immediate8
                | OpKind::Immediate16
                | OpKind::Immediate32
                | OpKind::Immediate8to16
                | OpKind::Immediate8to32 => imm = insn.immediate(n as u32) as u32,
                OpKind::Immediate8_2nd => imm2 = u32::from(insn.immediate8_2nd()),
                OpKind::NearBranch16 | OpKind::NearBranch32 => imm2 = insn.near_branch_target() as u32,
                OpKind::FarBranch16 => {
                    imm = u32::from(insn.far_branch_selector());
                    imm2 = u32::from(insn.far_branch16());
                }
                OpKind::FarBranch32 => {
                    imm = u32::from(insn.far_branch_selector());
                    imm2 = insn.far_branch32();
                }
                _ => {}
            }
        }
        let base = insn.memory_base();
        let index = insn.memory_index();
        let mut flags = 0;
        if insn.has_rep_prefix() {
            flags |= REP;
        }
        if insn.has_repne_prefix() {
            flags |= REPNE;
        }
        let string_a16 = kinds[..op_count]
            .iter()
            .any(|k| matches!(k, OpKind::MemorySegSI | OpKind::MemorySegDI | OpKind::MemoryESDI));
        if base.is_gpr16() || index.is_gpr16() || string_a16 {
            flags |= ADDR16;
        }
        let has_mem = kinds[..op_count].contains(&OpKind::Memory);
        if has_mem && base == Register::None && index == Register::None && insn.memory_displ_size() == 2 {
            flags |= ADDR16;
        }
        if has_mem && insn.memory_size().size() == 16 && !unaligned_ok(insn.code()) {
            flags |= ALIGN16;
        }
        if has_mem && writes_memory(insn) {
            flags |= MEM_WRITE;
        }
        Self {
            exec,
            alt: exec,
            eip: insn.ip32(),
            disp: insn.memory_displacement32(),
            imm,
            imm2,
            code: insn.code(),
            len: insn.len() as u8,
            op_count: op_count as u8,
            kinds,
            regs,
            base: address_reg(base),
            index: address_reg(index),
            scale: insn.memory_index_scale().trailing_zeros() as u8,
            seg: SegReg::from_iced(insn.memory_segment()).unwrap_or(SegReg::Ds) as u8,
            cc: insn.condition_code(),
            msize: insn.memory_size(),
            flags,
            r0: gpr_number(regs[0]),
            r1: gpr_number(regs[1]),
            known: 0,
            upto: 1,
        }
    }

    /// The micro-op that ends every block (`Blocks::insert`): its handler returns
    /// [`Exception::side_exit`], so the executor's loop stops there with `next_eip`
    /// as the block left it and the count at `upto`, the block's instructions. It
    /// retires nothing itself.
    pub fn terminator(end_eip: u32, insns: u8) -> Self {
        Self {
            exec: block_end,
            alt: block_end,
            eip: end_eip,
            disp: 0,
            imm: 0,
            imm2: 0,
            code: Code::INVALID,
            len: 0,
            op_count: 0,
            kinds: [OpKind::Register; MAX_OPS],
            regs: [Register::None; MAX_OPS],
            base: NO_REG,
            index: NO_REG,
            scale: 0,
            seg: SegReg::Ds as u8,
            cc: ConditionCode::None,
            msize: MemorySize::Unknown,
            flags: 0,
            r0: 0,
            r1: 0,
            known: 0,
            upto: insns,
        }
    }

    // The accessors below keep the names of iced's `Instruction` for what the handlers
    // read, so the semantics in `ops` read the same as the SDM's operand lists.

    /// Bytes of the explicit memory operand (at least 1).
    #[inline(always)]
    pub fn mem_len(&self) -> u32 {
        (self.msize.size() as u32).max(1)
    }

    /// Whether the explicit memory operand is written ([`MEM_WRITE`]).
    #[inline(always)]
    pub fn writes_memory(&self) -> bool {
        self.flags & MEM_WRITE != 0
    }

    #[inline(always)]
    pub fn op_kind(&self, n: u32) -> OpKind {
        self.kinds.get(n as usize).copied().unwrap_or(OpKind::Register)
    }
    #[inline(always)]
    pub fn op0_kind(&self) -> OpKind {
        self.kinds[0]
    }
    #[inline(always)]
    pub fn op1_kind(&self) -> OpKind {
        self.kinds[1]
    }
    #[inline(always)]
    pub fn op_register(&self, n: u32) -> Register {
        self.regs.get(n as usize).copied().unwrap_or(Register::None)
    }
    #[inline(always)]
    pub fn op0_register(&self) -> Register {
        self.regs[0]
    }
    #[inline(always)]
    pub fn op1_register(&self) -> Register {
        self.regs[1]
    }
    #[inline(always)]
    pub fn op_count(&self) -> u32 {
        u32::from(self.op_count)
    }
    #[inline(always)]
    pub fn code(&self) -> Code {
        self.code
    }
    /// The handler that leaves the architectural state exact after this micro-op
    /// alone: `alt` for one that skips its dead flags ([`DEAD_FLAGS`]), else `exec`.
    #[inline]
    pub fn exact(&self) -> Handler {
        if self.flags & DEAD_FLAGS != 0 {
            self.alt
        } else {
            self.exec
        }
    }
    #[inline]
    pub fn mnemonic(&self) -> Mnemonic {
        self.code.mnemonic()
    }
    #[inline(always)]
    pub fn condition_code(&self) -> ConditionCode {
        self.cc
    }
    #[inline(always)]
    pub fn memory_size(&self) -> MemorySize {
        self.msize
    }
    /// Segment register of the memory operand (DS unless overridden or SS-based).
    #[inline(always)]
    pub fn segment(&self) -> SegReg {
        SegReg::ALL[usize::from(self.seg)]
    }
    #[inline(always)]
    pub fn immediate8(&self) -> u8 {
        self.imm as u8
    }
    #[inline(always)]
    pub fn immediate16(&self) -> u16 {
        self.imm as u16
    }
    #[inline(always)]
    pub fn immediate8_2nd(&self) -> u8 {
        self.imm2 as u8
    }
    #[inline(always)]
    pub fn near_branch_target(&self) -> u32 {
        self.imm2
    }
    #[inline(always)]
    pub fn far_branch_selector(&self) -> u16 {
        self.imm as u16
    }
    #[inline(always)]
    pub fn far_branch_offset(&self) -> u32 {
        self.imm2
    }
    #[inline(always)]
    pub fn ip32(&self) -> u32 {
        self.eip
    }
    #[inline(always)]
    pub fn next_ip32(&self) -> u32 {
        self.eip.wrapping_add(u32::from(self.len))
    }
    #[inline(always)]
    pub fn has_rep_prefix(&self) -> bool {
        self.flags & REP != 0
    }
    #[inline(always)]
    pub fn has_repne_prefix(&self) -> bool {
        self.flags & REPNE != 0
    }
    #[inline(always)]
    pub fn addr16(&self) -> bool {
        self.flags & ADDR16 != 0
    }

    /// The lazy flag state this instruction leaves, given the one it finds
    /// (`self.known`): what CMP/SUB/NEG and AND/OR/XOR/TEST record, unchanged by an
    /// instruction that touches no flag (`touches_flags` false), unknown otherwise.
    pub fn flags_left(&self, touches_flags: bool, width_bytes: usize) -> u8 {
        use crate::flags::lazy;
        let w = match width_bytes {
            1 => 0,
            2 => 1,
            4 => 3,
            _ => return 0,
        };
        match self.mnemonic() {
            Mnemonic::Cmp | Mnemonic::Sub | Mnemonic::Neg => lazy::SUB | (w << lazy::WIDTH_SHIFT),
            Mnemonic::And | Mnemonic::Or | Mnemonic::Xor | Mnemonic::Test => {
                lazy::LOGIC | (w << lazy::WIDTH_SHIFT)
            }
            _ if !touches_flags => self.known,
            _ => 0,
        }
    }

    /// The shape of the memory operand's address, for handlers specialised on it
    /// ([`Cpu::ea`]); `None` under 16-bit addressing, which only the generic
    /// handlers implement.
    /// Whether SS was flat when the micro-op was lowered ([`FLAT`]).
    #[inline(always)]
    pub fn flat_stack(&self) -> bool {
        self.flags & FLAT != 0
    }

    pub fn ea_mode(&self) -> Option<u8> {
        if self.addr16() {
            return None;
        }
        let shape = match (self.base & NO_REG == 0, self.index & NO_REG == 0) {
            (false, false) => EA_DISP,
            (true, false) => EA_BASE,
            (true, true) => EA_BASE_INDEX,
            (false, true) => EA_INDEX,
        };
        let flat = self.flags & FLAT != 0 && matches!(self.segment(), SegReg::Ds | SegReg::Es | SegReg::Ss);
        Some(if flat { shape | EA_FLAT } else { shape })
    }

    /// The operand form, for instructions whose explicit operands are one or two
    /// registers, memory operands or immediates.
    pub fn form(&self) -> Option<Form> {
        use OpKind as K;
        let imm = |k: OpKind| {
            matches!(
                k,
                K::Immediate8 | K::Immediate16 | K::Immediate32 | K::Immediate8to16 | K::Immediate8to32
            )
        };
        match self.op_count {
            1 => match self.kinds[0] {
                K::Register => Some(Form::R),
                K::Memory => Some(Form::M),
                _ => None,
            },
            2 => match (self.kinds[0], self.kinds[1]) {
                (K::Register, K::Register) => Some(Form::RR),
                (K::Register, K::Memory) => Some(Form::RM),
                (K::Memory, K::Register) => Some(Form::MR),
                (K::Register, k) if imm(k) => Some(Form::RI),
                (K::Memory, k) if imm(k) => Some(Form::MI),
                _ => None,
            },
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use growsdown_decoder::decode_one;

    fn nothing(_: &mut Cpu, _: &Uop) -> Result<(), Exception> {
        Ok(())
    }

    #[test]
    fn lowers_sib_memory_operand() {
        // mov eax, fs:[ebx+esi*4-8]
        let insn = decode_one(&[0x64, 0x8b, 0x44, 0xb3, 0xf8], 0x1000).unwrap();
        let u = Uop::lower(&insn, nothing);
        assert_eq!((u.base, u.index, u.scale, u.disp), (3, 6, 2, (-8i32) as u32));
        assert_eq!(u.segment(), SegReg::Fs);
        assert_eq!((u.r0, u.len, u.eip), (0, 5, 0x1000));
        assert_eq!(u.next_ip32(), 0x1005);
        assert!(!u.addr16());
        assert_eq!(u.form(), Some(Form::RM));
    }

    #[test]
    fn forms() {
        let form = |b: &[u8]| Uop::lower(&decode_one(b, 0).unwrap(), nothing).form();
        assert_eq!(form(&[0x01, 0xd8]), Some(Form::RR)); // add eax, ebx
        assert_eq!(form(&[0x01, 0x18]), Some(Form::MR)); // add [eax], ebx
        assert_eq!(form(&[0x83, 0xc0, 0x01]), Some(Form::RI)); // add eax, 1
        assert_eq!(form(&[0x05, 1, 0, 0, 0]), Some(Form::RI)); // add eax, 1 (short form)
        assert_eq!(form(&[0x83, 0x00, 0x01]), Some(Form::MI)); // add dword [eax], 1
        assert_eq!(form(&[0x40]), Some(Form::R)); // inc eax
        assert_eq!(form(&[0xff, 0x00]), Some(Form::M)); // inc dword [eax]
        assert_eq!(form(&[0xa4]), None); // movsb
    }

    #[test]
    fn lowers_branch_and_immediates() {
        // jne +0x10 ; enter 0x20, 3 ; add ecx, -1
        let j = Uop::lower(&decode_one(&[0x75, 0x10], 0x2000).unwrap(), nothing);
        assert_eq!(j.near_branch_target(), 0x2012);
        assert_eq!(j.condition_code(), ConditionCode::ne);
        let e = Uop::lower(&decode_one(&[0xc8, 0x20, 0x00, 0x03], 0).unwrap(), nothing);
        assert_eq!((e.immediate16(), e.immediate8_2nd()), (0x20, 3));
        let a = Uop::lower(&decode_one(&[0x83, 0xc1, 0xff], 0).unwrap(), nothing);
        assert_eq!((a.r0, a.imm), (1, u32::MAX));
    }

    #[test]
    fn sixteen_bit_addressing_is_flagged() {
        // mov ax, [bx+si+2] (67 66 8b 40 02)
        let u = Uop::lower(&decode_one(&[0x67, 0x66, 0x8b, 0x40, 0x02], 0).unwrap(), nothing);
        assert!(u.addr16());
        assert_eq!((u.base, u.index), (3, 6));
    }
}
