//! Exceptions and interrupts the CPU can report to whoever drives it (the kernel).

use crate::mmu::PageFault;

/// Something that stops normal execution of an instruction. Faults leave EIP at the
/// instruction and no architectural trace (SDM Vol. 3A §6.5); traps (`INT n`, `INT3`,
/// `INTO`) complete the instruction and leave EIP after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exception {
    /// #DE, vector 0: DIV/IDIV by zero or quotient overflow, AAM by zero.
    DivideError,
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
    /// #SS, vector 12, with its error code.
    StackFault(u16),
    /// #GP, vector 13, with its error code (a selector, or 0).
    GeneralProtection(u16),
    /// #PF, vector 14.
    PageFault(PageFault),
    /// #MF, vector 16: unmasked x87 exception at the next waiting x87 instruction.
    FloatingPoint,
    /// #AC, vector 17.
    AlignmentCheck,
    /// `INT n` with any n other than 3 (trap). Whether the gate allows it is the
    /// kernel's business: Linux i386 opens only 0x80 (and 3, 4) to user mode.
    SoftwareInterrupt(u8),
}

impl Exception {
    /// The IDT vector.
    pub fn vector(self) -> u8 {
        match self {
            Self::DivideError => 0,
            Self::Breakpoint => 3,
            Self::Overflow => 4,
            Self::BoundRange => 5,
            Self::InvalidOpcode => 6,
            Self::DeviceNotAvailable => 7,
            Self::StackFault(_) => 12,
            Self::GeneralProtection(_) => 13,
            Self::PageFault(_) => 14,
            Self::FloatingPoint => 16,
            Self::AlignmentCheck => 17,
            Self::SoftwareInterrupt(n) => n,
        }
    }

    /// Traps complete the instruction: EIP moves past it.
    pub fn is_trap(self) -> bool {
        matches!(self, Self::Breakpoint | Self::Overflow | Self::SoftwareInterrupt(_))
    }

    /// The error code pushed by the hardware, where the vector has one.
    pub fn error_code(self) -> Option<u32> {
        match self {
            Self::StackFault(e) | Self::GeneralProtection(e) => Some(u32::from(e)),
            Self::PageFault(pf) => Some(pf.code),
            Self::AlignmentCheck => Some(0),
            _ => None,
        }
    }
}

impl From<PageFault> for Exception {
    #[inline]
    fn from(pf: PageFault) -> Self {
        Self::PageFault(pf)
    }
}

impl std::fmt::Display for Exception {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PageFault(pf) => write!(f, "#PF at {:#010x}, error code {}", pf.addr, pf.code),
            Self::GeneralProtection(e) => write!(f, "#GP({e:#x})"),
            Self::StackFault(e) => write!(f, "#SS({e:#x})"),
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
