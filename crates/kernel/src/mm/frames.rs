//! Physical frame allocator with per-frame reference counts (`mem_map`).

use growsdown_cpu::mmu::PhysMem;

pub struct FrameAllocator {
    pub frames: u32,
}

impl FrameAllocator {
    pub fn new(phys: &mut PhysMem) -> Self {
        Self { frames: phys.frames() }
    }
}
