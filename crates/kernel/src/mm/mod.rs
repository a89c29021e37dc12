//! Memory management, Linux 2.4 style (spec §2–§5).

pub mod fault;
pub mod filemap;
pub mod frames;

use crate::Kernel;

/// The address space (`mm_struct`).
#[derive(Clone, Debug, Default)]
pub struct MmStruct {
    pub pgd: u32,
}

/// Sets up the kernel half and turns paging on.
pub fn boot(_k: &mut Kernel) -> Result<(), String> {
    Ok(())
}
