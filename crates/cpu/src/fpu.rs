//! x87 FPU state (SDM Vol. 1 §8.1). Instruction semantics live in `ops::x87`.

/// The x87 register stack and control/status words.
#[derive(Clone, Debug)]
pub struct Fpu {
    pub control: u16,
    pub status: u16,
    pub tag: u16,
}

impl Default for Fpu {
    /// The state after FNINIT: control 0x037F, status 0, all registers empty.
    fn default() -> Self {
        Self { control: 0x037f, status: 0, tag: 0xffff }
    }
}
