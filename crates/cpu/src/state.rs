//! Architectural state of the processor and its construction.

use crate::blocks::Blocks;
use crate::flags::Flags;
use crate::fpu::Fpu;
use crate::mmu::Mmu;
use crate::seg::{SegReg, Segment};

/// General registers in hardware encoding order (SDM Vol. 2 Table 2-1).
pub const EAX: usize = 0;
pub const ECX: usize = 1;
pub const EDX: usize = 2;
pub const EBX: usize = 3;
pub const ESP: usize = 4;
pub const EBP: usize = 5;
pub const ESI: usize = 6;
pub const EDI: usize = 7;

pub const REG_NAMES: [&str; 8] = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];

/// GDTR or IDTR: a linear base and a limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableRegister {
    pub base: u32,
    pub limit: u16,
}

/// One i386 processor running at CPL 3, with its paging unit and physical memory.
///
/// The CPU knows nothing about Linux: whoever drives it (the kernel crate) sets up
/// page tables and descriptors, calls [`Cpu::run`], and acts on the [`crate::Exit`].
///
/// `#[repr(C)]`, with what every instruction touches first (the general registers,
/// EIP, EFLAGS' lazy state, the segment caches), so code generated later can
/// address the fields at the fixed offsets in [`offsets`].
#[repr(C)]
pub struct Cpu {
    pub regs: [u32; 8],
    pub eip: u32,
    /// Where execution continues after the current instruction; handlers of control
    /// transfers overwrite it. Valid only while an instruction executes.
    pub next_eip: u32,
    pub flags: Flags,
    pub segs: [Segment; 6],
    /// Global descriptor table, as 8-byte descriptors (entry 0 is the null descriptor).
    /// The kernel owns its contents; segment loads read it like the hardware does.
    pub gdt: Vec<u64>,
    /// Local descriptor table (modify_ldt).
    pub ldt: Vec<u64>,
    pub fpu: Fpu,
    pub mmu: Mmu,
    /// GDTR and IDTR as SGDT/SIDT store them (the tables themselves are `gdt` and
    /// the kernel's business); the kernel sets them.
    pub gdtr: TableRegister,
    pub idtr: TableRegister,
    /// The selector LLDT loaded while `ldt` is not empty (SLDT reads 0 otherwise),
    /// and the task register's selector (STR); the kernel sets them.
    pub ldtr: u16,
    pub tr: u16,
    /// Instructions retired.
    pub icount: u64,
    /// Value RDTSC adds to `icount`; the kernel or a differential tester may set it.
    pub tsc_offset: u64,
    /// The decoded blocks; `None` only while [`Cpu::run`] has them out. Boxed so
    /// that taking them out and back at every kernel entry moves one pointer, not
    /// the store (136 bytes, which the compiler copies with `memcpy` calls: three
    /// per kernel entry, ~90 host instructions on every page fault).
    pub(crate) code: Option<Box<Blocks>>,
    /// Link epoch: links between blocks made in an earlier one are dead
    /// (see `blocks.rs`).
    pub(crate) code_epoch: u64,
    /// The TLB's remap count and CS (base, limit, attributes, usable) when the last
    /// [`Cpu::run`] began: links and the jump cache survive into the next run only
    /// while both are the same (`exec.rs`).
    pub(crate) links_made_under: (u64, u32, u32, u16, bool),
    /// The instruction at EIP had a store refused because it would change decoded
    /// code; the executor runs it alone next (`exec.rs`).
    pub(crate) store_into_code: bool,
    /// DS, ES and SS were flat (usable, base 0) when the decoded blocks were lowered
    /// (`uop::FLAT`); `flush_blocks` asks the executor to drop them all before the
    /// next block runs, because that changed (`Cpu::check_flat_segments`) or because
    /// they hold more than `decoded_limit` bytes.
    pub(crate) flat_data: bool,
    pub(crate) flush_blocks: bool,
    /// A MOV SS or POP SS just loaded SS: the single-step trap waits for the next
    /// instruction (SDM Vol. 3A §6.8.3). Read only while single-stepping.
    pub(crate) ss_shadow: bool,
    /// Single-stepping: the instruction that just retired loaded SS, so the trap is
    /// owed after the next one.
    pub(crate) shadow_pending: bool,
    /// The decoded blocks are 16-bit code (CS's D bit was clear when they were built).
    pub(crate) code16: bool,
    /// Decoded blocks found in the cache by address, built, and reached through the
    /// previous block's link.
    pub blocks_hit: u64,
    pub blocks_built: u64,
    pub blocks_linked: u64,
    /// Decoded blocks dropped because their code frame was written.
    pub blocks_invalidated: u64,
    /// Host bytes the decoded blocks may hold (`Blocks::bytes`): past it, every block
    /// is dropped before the next one is fetched and code is decoded again as it
    /// runs (QEMU's `tb_flush` of a full translation buffer). The kernel sets it to
    /// bound its host memory; unlimited by default.
    pub decoded_limit: usize,
}

impl Cpu {
    /// A processor with `ram_bytes` of physical memory, paging off, flat segments not
    /// yet loaded (selectors 0). The kernel is expected to fill the GDT, load segments
    /// and turn paging on.
    pub fn new(ram_bytes: usize) -> Self {
        Self {
            regs: [0; 8],
            eip: 0,
            next_eip: 0,
            flags: Flags::default(),
            segs: [Segment::default(); 6],
            gdt: vec![0; 32],
            ldt: Vec::new(),
            fpu: Fpu::default(),
            mmu: Mmu::new(ram_bytes),
            gdtr: TableRegister::default(),
            idtr: TableRegister::default(),
            ldtr: 0,
            tr: 0,
            icount: 0,
            tsc_offset: 0,
            code: Some(Box::default()),
            code_epoch: 0,
            links_made_under: (u64::MAX, 0, 0, 0, false),
            store_into_code: false,
            flat_data: false,
            flush_blocks: false,
            ss_shadow: false,
            shadow_pending: false,
            code16: false,
            blocks_hit: 0,
            blocks_built: 0,
            blocks_linked: 0,
            blocks_invalidated: 0,
            decoded_limit: usize::MAX,
        }
    }

    #[inline(always)]
    pub fn reg(&self, r: usize) -> u32 {
        self.regs[r]
    }

    #[inline(always)]
    pub fn esp(&self) -> u32 {
        self.regs[ESP]
    }

    #[inline(always)]
    pub fn seg_base(&self, s: SegReg) -> u32 {
        self.segs[s as usize].base
    }

    /// Drops every decoded block (e.g. after the kernel rewrote memory wholesale).
    pub fn flush_decoded(&mut self) {
        if let Some(code) = self.code.as_mut() {
            code.clear();
        }
        self.new_code_epoch();
    }

    /// Decoded blocks held (for tests and statistics).
    pub fn decoded_blocks(&self) -> usize {
        self.code.as_ref().map_or(0, |c| c.len())
    }
}

/// Byte offsets of the fields generated code would address (checked at compile time;
/// `Flags` and `Segment` are `#[repr(C)]` too). Anything not listed here may move.
pub mod offsets {
    use super::Cpu;
    use std::mem::offset_of;

    /// `regs[0]` (EAX); register `i` is at `REGS + 4 * i`.
    pub const REGS: usize = offset_of!(Cpu, regs);
    pub const EIP: usize = offset_of!(Cpu, eip);
    pub const NEXT_EIP: usize = offset_of!(Cpu, next_eip);
    pub const FLAGS: usize = offset_of!(Cpu, flags);
    /// `segs[0]` (ES); each `Segment` is `SEGMENT_SIZE` bytes, in `SegReg` order.
    pub const SEGS: usize = offset_of!(Cpu, segs);
    pub const SEGMENT_SIZE: usize = std::mem::size_of::<crate::seg::Segment>();

    const _: () = assert!(REGS == 0);
    const _: () = assert!(EIP == 32);
    const _: () = assert!(NEXT_EIP == 36);
    const _: () = assert!(FLAGS == 40);
    const _: () = assert!(SEGS == 60);
    const _: () = assert!(SEGMENT_SIZE == 16);
}
