//! The growsdown CPU: an i386 at CPL 3 with a real paging unit.
//!
//! * [`Cpu`] — registers, EFLAGS, segments, x87, and the [`mmu::Mmu`] holding guest
//!   physical memory, CR0/CR2/CR3/CR4, the page walk and the TLB;
//! * [`Cpu::run`] — executes decoded blocks until an [`Exception`] or the budget ends;
//! * `ops` — instruction semantics by family, dispatched through [`table`].
//!
//! It knows nothing about Linux. The kernel crate builds page tables in guest physical
//! memory, fills the GDT, and resolves the page faults and interrupts `run` reports.

mod blocks;
pub mod cpuid;
pub mod exception;
mod exec;
pub mod flags;
pub mod fpu;
mod liveness;
pub mod mmu;
pub mod operand;
pub mod ops;
pub mod seg;
pub mod simd;
pub mod spec;
mod state;
pub mod table;
pub mod uop;

pub use exception::{Exception, Exit};
pub use mmu::{AccessKind, Mmu, PageFault};
pub use operand::{Int, Loc};
pub use seg::{Descriptor, SegReg, Segment};
pub use state::{offsets, Cpu, TableRegister, EAX, EBP, EBX, ECX, EDI, EDX, ESI, ESP, REG_NAMES};
