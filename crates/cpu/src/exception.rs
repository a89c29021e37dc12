//! Exceptions and interrupts the CPU can report to whoever drives it (the kernel).

use crate::mmu::PageFault;

/// IDT vector numbers of the architecture's exceptions and interrupts: SDM Vol. 3A
/// §6.3.1, Table 6-1 "Protected-Mode Exceptions and Interrupts" (the mnemonics are
/// the table's, without the `#`). [`Exception::vector`] maps to these; the kernel
/// records them as `trap_no`.
pub mod vector {
    /// #DE Divide Error: DIV and IDIV.
    pub const DE: u8 = 0;
    /// #DB Debug Exception.
    pub const DB: u8 = 1;
    /// NMI Interrupt.
    pub const NMI: u8 = 2;
    /// #BP Breakpoint: INT3.
    pub const BP: u8 = 3;
    /// #OF Overflow: INTO.
    pub const OF: u8 = 4;
    /// #BR BOUND Range Exceeded.
    pub const BR: u8 = 5;
    /// #UD Invalid Opcode (Undefined Opcode).
    pub const UD: u8 = 6;
    /// #NM Device Not Available (No Math Coprocessor).
    pub const NM: u8 = 7;
    /// #DF Double Fault.
    pub const DF: u8 = 8;
    /// Coprocessor Segment Overrun (reserved; processors after the 386 do not
    /// generate it).
    pub const CSO: u8 = 9;
    /// #TS Invalid TSS.
    pub const TS: u8 = 10;
    /// #NP Segment Not Present.
    pub const NP: u8 = 11;
    /// #SS Stack-Segment Fault.
    pub const SS: u8 = 12;
    /// #GP General Protection.
    pub const GP: u8 = 13;
    /// #PF Page Fault.
    pub const PF: u8 = 14;
    /// #MF x87 FPU Floating-Point Error (Math Fault).
    pub const MF: u8 = 16;
    /// #AC Alignment Check.
    pub const AC: u8 = 17;
    /// #MC Machine Check.
    pub const MC: u8 = 18;
    /// #XM SIMD Floating-Point Exception.
    pub const XM: u8 = 19;
}

/// Something that stops normal execution of an instruction. Faults leave EIP at the
/// instruction and no architectural trace (SDM Vol. 3A §6.5); traps (`INT n`, `INT3`,
/// `INTO`) complete the instruction and leave EIP after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exception {
    /// #DE, vector 0: DIV/IDIV by zero or quotient overflow, AAM by zero.
    DivideError,
    /// #DB, vector 1, single-step: the instruction that just retired began with
    /// EFLAGS.TF set (trap; SDM Vol. 3A §18.3.1.4).
    SingleStep,
    /// #DB, vector 1, from INT1/ICEBP (F1) (trap).
    Icebp,
    /// Internal to the executor, never returned by [`crate::Cpu::run`]: an
    /// instruction (POPF, IRET) set EFLAGS.TF, so single-stepping starts with the
    /// next instruction (a trap: the instruction has retired).
    TrapFlagSet,
    /// #BP, vector 3: INT3 (trap).
    Breakpoint,
    /// #OF, vector 4: INTO with OF=1 (trap).
    Overflow,
    /// #BR, vector 5: BOUND out of range.
    BoundRange,
    /// #UD, vector 6: undefined or unimplemented opcode, or a LOCK where not allowed.
    InvalidOpcode,
    /// #NM, vector 7.
    DeviceNotAvailable,
    /// #NP, vector 11: a segment load or far transfer named a descriptor whose P bit
    /// is clear; the error code is its selector.
    SegmentNotPresent(u16),
    /// #SS, vector 12, with its error code.
    StackFault(u16),
    /// #GP, vector 13, with its error code (a selector, or 0).
    GeneralProtection(u16),
    /// #PF, vector 14: CR2 and the error code (bits 0–4 of [`PageFault::code`]).
    ///
    /// The fields are inline rather than a [`PageFault`] so that the
    /// `Result<(), Exception>` every instruction handler returns is eight bytes,
    /// which the Rust ABI returns in a register; with a nested 8-byte struct it
    /// was twelve and went through memory at every instruction. Convert with
    /// `From<PageFault>` and [`Exception::page_fault`].
    PageFault { addr: u32, code: u16 },
    /// #MF, vector 16: unmasked x87 exception at the next waiting x87 instruction.
    FloatingPoint,
    /// #AC, vector 17.
    AlignmentCheck,
    /// #XM, vector 19: an unmasked SSE floating-point exception (the flags are in
    /// MXCSR; the destination is unchanged).
    SimdFloatingPoint,
    /// `INT n` with any n other than 3 (trap). Whether the gate allows it is the
    /// kernel's business: Linux i386 opens only 0x80 (and 3, 4) to user mode.
    SoftwareInterrupt(u8),
}

impl Exception {
    /// The IDT vector.
    pub fn vector(self) -> u8 {
        match self {
            Self::DivideError => vector::DE,
            Self::SingleStep | Self::Icebp | Self::TrapFlagSet => vector::DB,
            Self::Breakpoint => vector::BP,
            Self::Overflow => vector::OF,
            Self::BoundRange => vector::BR,
            Self::InvalidOpcode => vector::UD,
            Self::DeviceNotAvailable => vector::NM,
            Self::SegmentNotPresent(_) => vector::NP,
            Self::StackFault(_) => vector::SS,
            Self::GeneralProtection(_) => vector::GP,
            Self::PageFault { .. } => vector::PF,
            Self::FloatingPoint => vector::MF,
            Self::AlignmentCheck => vector::AC,
            Self::SimdFloatingPoint => vector::XM,
            Self::SoftwareInterrupt(n) => n,
        }
    }

    /// The page fault, if this is one.
    pub fn page_fault(self) -> Option<PageFault> {
        match self {
            Self::PageFault { addr, code } => Some(PageFault { addr, code: u32::from(code) }),
            _ => None,
        }
    }

    /// A user write refused because it would change decoded code (see
    /// `Mmu::trap_code_stores`): internal to the executor, never returned by `run`.
    pub(crate) fn is_store_into_code(self) -> bool {
        matches!(self, Self::PageFault { code, .. } if u32::from(code) == crate::mmu::STORE_INTO_CODE)
    }

    /// A conditional branch taken in the middle of a block (`mmu::SIDE_EXIT`): the
    /// block ends there, the branch retired; internal to the executor, never
    /// returned by `run`.
    #[inline(always)]
    pub(crate) fn side_exit() -> Self {
        Self::PageFault { addr: 0, code: crate::mmu::SIDE_EXIT as u16 }
    }

    /// Whether this is [`Exception::side_exit`].
    #[inline(always)]
    pub(crate) fn is_side_exit(self) -> bool {
        matches!(self, Self::PageFault { code, .. } if u32::from(code) == crate::mmu::SIDE_EXIT)
    }

    /// Traps complete the instruction: EIP moves past it.
    pub fn is_trap(self) -> bool {
        matches!(
            self,
            Self::Breakpoint
                | Self::Overflow
                | Self::SoftwareInterrupt(_)
                | Self::SingleStep
                | Self::Icebp
                | Self::TrapFlagSet
        )
    }

    /// The error code pushed by the hardware, where the vector has one.
    pub fn error_code(self) -> Option<u32> {
        match self {
            Self::StackFault(e) | Self::GeneralProtection(e) | Self::SegmentNotPresent(e) => {
                Some(u32::from(e))
            }
            Self::PageFault { code, .. } => Some(u32::from(code)),
            Self::AlignmentCheck => Some(0),
            _ => None,
        }
    }
}

// What the variant's inline fields are for (see `PageFault` above).
const _: () = assert!(std::mem::size_of::<Result<(), Exception>>() == 8);

impl From<PageFault> for Exception {
    #[inline]
    fn from(pf: PageFault) -> Self {
        // Error codes use bits 0-4 (SDM Vol. 3A §4.7), and the executor's own
        // `STORE_INTO_CODE` fits in 16: the cast loses nothing.
        Self::PageFault { addr: pf.addr, code: pf.code as u16 }
    }
}

impl std::fmt::Display for Exception {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PageFault { addr, code } => write!(f, "#PF at {addr:#010x}, error code {code}"),
            Self::GeneralProtection(e) => write!(f, "#GP({e:#x})"),
            Self::StackFault(e) => write!(f, "#SS({e:#x})"),
            Self::SegmentNotPresent(e) => write!(f, "#NP({e:#x})"),
            Self::SoftwareInterrupt(n) => write!(f, "int {n:#x}"),
            other => write!(f, "{other:?} (vector {})", other.vector()),
        }
    }
}

/// Why [`crate::Cpu::run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// An exception or interrupt; EIP is as [`Exception::is_trap`] says.
    Exception(Exception),
    /// The instruction budget ran out between two instructions.
    Budget,
}
