//! x87 FPU state (SDM Vol. 1 §8.1). Instruction semantics live in `ops::x87`; the
//! arithmetic itself in [`float80`].
//!
//! ## Arithmetic: our own 64-bit-significand soft float, no dependency
//!
//! Users compare results bit for bit with a real x87, so the arithmetic must be the
//! x87's, not merely IEEE's. Considered:
//! * `rustc_apfloat` (`X87DoubleExtended`): correct IEEE arithmetic with the four
//!   rounding modes, but it has no notion of the x87 *precision control* (rounding an
//!   extended-exponent result to 24 or 53 bits, which is not the same as computing in
//!   single/double: the exponent range stays 15 bits), does not report the C1
//!   "rounded up" bit, does not implement the x87 NaN-selection rule (larger
//!   significand wins), treats unnormals/pseudo-denormals its own way, has no
//!   unmasked-overflow exponent wrapping, and allocates-free but is slow-ish (generic
//!   multi-limb code) for an interpreter's hot path;
//! * softfloat ports (Berkeley SoftFloat 3 bindings or pure-Rust ports): extF80 with
//!   rounding precision exists in SoftFloat 3, but the Rust crates are either C
//!   bindings (needs a C toolchain in CI, `unsafe` FFI per operation) or thinly
//!   maintained ports; flags and the x87-specific bits (C1, NaN rules, unsupported
//!   encodings, denormal-operand exception) would still have to be wrapped.
//!
//! An x87 value has a 64-bit significand, so every basic operation is exact in
//! 128-bit integers: products are 64×64→128, quotients two 128/64 divisions with a
//! sticky remainder, square roots an integer square root of a 128-bit value with an
//! exact remainder test (correct rounding, no midpoint cases), sums aligned in 128
//! bits with a sticky bit. One rounding routine then applies RC and PC with the
//! x87's tininess, overflow and C1 behaviour. That is ~1000 lines we control fully,
//! fast (no allocation, native u128), and pinned bit for bit against the host's x87
//! by `tests/x87_vs_host.rs`. So: no new crate.

#[path = "float80.rs"]
pub mod float80;

use float80::F80;

/// Status word bits.
pub const SW_IE: u16 = 1 << 0;
pub const SW_DE: u16 = 1 << 1;
pub const SW_ZE: u16 = 1 << 2;
pub const SW_OE: u16 = 1 << 3;
pub const SW_UE: u16 = 1 << 4;
pub const SW_PE: u16 = 1 << 5;
/// Stack fault (with IE; C1 tells overflow from underflow).
pub const SW_SF: u16 = 1 << 6;
/// Error summary: an unmasked exception is pending.
pub const SW_ES: u16 = 1 << 7;
pub const SW_C0: u16 = 1 << 8;
pub const SW_C1: u16 = 1 << 9;
pub const SW_C2: u16 = 1 << 10;
pub const SW_TOP: u16 = 7 << 11;
pub const SW_C3: u16 = 1 << 14;
/// Busy: mirrors ES on everything since the 387.
pub const SW_B: u16 = 1 << 15;
pub const SW_CC: u16 = SW_C0 | SW_C1 | SW_C2 | SW_C3;
/// The six exception flags.
pub const SW_EXC: u16 = 0x3f;

/// MXCSR (SDM Vol. 1 §10.2.3): the six exception flags (same order as the x87's).
pub const MXCSR_IE: u32 = 1 << 0;
pub const MXCSR_DE: u32 = 1 << 1;
pub const MXCSR_ZE: u32 = 1 << 2;
pub const MXCSR_OE: u32 = 1 << 3;
pub const MXCSR_UE: u32 = 1 << 4;
pub const MXCSR_PE: u32 = 1 << 5;
pub const MXCSR_FLAGS: u32 = 0x3f;
/// Denormals-are-zero: denormal source operands read as zeros of the same sign.
pub const MXCSR_DAZ: u32 = 1 << 6;
/// The six exception masks, bits 7–12 (flag bit << 7).
pub const MXCSR_MASKS: u32 = 0x3f << 7;
/// Rounding control, bits 13–14 (00 nearest, 01 down, 10 up, 11 toward zero).
pub const MXCSR_RC: u32 = 3 << 13;
/// Flush-to-zero: tiny results become zeros when underflow is masked.
pub const MXCSR_FZ: u32 = 1 << 15;
/// The value after reset and at process start: all exceptions masked.
pub const MXCSR_DEFAULT: u32 = 0x1f80;
/// Bits LDMXCSR/FXRSTOR may set (FXSAVE's MXCSR_MASK): a processor with DAZ. Any
/// other bit set is #GP(0) (SDM Vol. 1 §10.5.1.2).
pub const MXCSR_WRITABLE: u32 = 0xffff;

/// Size of the FXSAVE/FXRSTOR area (SDM Vol. 2 FXSAVE, Table 3-53).
pub const FXSAVE_SIZE: usize = 512;

/// The register stack, control/status words and the last-instruction pointers, and
/// the SSE state beside them (what FXSAVE stores: XMM0–7 and MXCSR). MMX registers
/// are no extra state: MM*i* is the significand of physical register R*i*.
#[derive(Clone, Debug)]
pub struct Fpu {
    /// Physical registers R0–R7; ST(i) is `regs[(top + i) & 7]`.
    pub regs: [F80; 8],
    /// Stack top (status word bits 11–13).
    pub top: u8,
    /// Bit i set: physical register i is empty (tag 11). The other tag values are
    /// derived from the contents, as the hardware does for FNSTENV/FNSAVE.
    pub empty: u8,
    pub control: u16,
    /// The status word without TOP (see [`Fpu::status_word`]).
    pub status: u16,
    /// Last non-control instruction: offset, CS selector, and 11-bit opcode. `fop`
    /// is 0xFFFF while it is still "the opcode of the instruction at CS:FIP", which
    /// `ops::x87` reads from the code only when an environment is stored — use
    /// `ops::x87::save_image` rather than [`Fpu::save_bytes`] from outside.
    pub fip: u32,
    pub fcs: u16,
    pub fop: u16,
    /// Last memory operand: offset and segment selector.
    pub fdp: u32,
    pub fds: u16,
    /// XMM0–XMM7, bit 0 of the register in bit 0 of the `u128`.
    pub xmm: [u128; 8],
    pub mxcsr: u32,
}

impl Default for Fpu {
    /// The state after FNINIT: control 0x037F, status 0, all registers empty.
    fn default() -> Self {
        Self {
            regs: [F80::ZERO; 8],
            top: 0,
            empty: 0xff,
            control: 0x037f,
            status: 0,
            fip: 0,
            fcs: 0,
            fop: 0,
            fdp: 0,
            fds: 0,
            xmm: [0; 8],
            mxcsr: MXCSR_DEFAULT,
        }
    }
}

impl Fpu {
    /// FNINIT: registers keep their contents but are all tagged empty.
    pub fn init(&mut self) {
        self.control = 0x037f;
        self.status = 0;
        self.top = 0;
        self.empty = 0xff;
        self.fip = 0;
        self.fcs = 0;
        self.fop = 0;
        self.fdp = 0;
        self.fds = 0;
    }

    #[inline(always)]
    pub fn phys(&self, i: usize) -> usize {
        (self.top as usize + i) & 7
    }

    #[inline(always)]
    pub fn st(&self, i: usize) -> F80 {
        self.regs[self.phys(i)]
    }

    #[inline(always)]
    pub fn is_empty(&self, i: usize) -> bool {
        self.empty & (1 << self.phys(i)) != 0
    }

    /// Writes ST(i) and tags it non-empty.
    #[inline(always)]
    pub fn set_st(&mut self, i: usize, v: F80) {
        let p = self.phys(i);
        self.regs[p] = v;
        self.empty &= !(1 << p);
    }

    /// Decrements TOP and writes the new ST(0).
    #[inline(always)]
    pub fn push(&mut self, v: F80) {
        self.top = self.top.wrapping_sub(1) & 7;
        self.set_st(0, v);
    }

    /// Tags ST(0) empty and increments TOP.
    #[inline(always)]
    pub fn pop(&mut self) {
        self.empty |= 1 << self.top;
        self.top = (self.top + 1) & 7;
    }

    /// The status word as FNSTSW stores it.
    #[inline]
    pub fn status_word(&self) -> u16 {
        (self.status & !SW_TOP) | (u16::from(self.top) << 11)
    }

    /// Loads a status word (FLDENV/FRSTOR): TOP from bits 11–13; ES and B follow the
    /// unmasked exception flags.
    pub fn set_status_word(&mut self, sw: u16) {
        self.top = ((sw >> 11) & 7) as u8;
        self.status = sw & !SW_TOP;
        self.update_summary();
    }

    /// Loads a control word (FLDCW). Bit 6 reads as 1, bits 13–15 as 0.
    pub fn set_control_word(&mut self, cw: u16) {
        self.control = (cw & 0x1f3f) | 0x40;
        self.update_summary();
    }

    /// Recomputes ES and B from the exception flags and masks.
    #[inline]
    pub fn update_summary(&mut self) {
        if self.status & !self.control & SW_EXC != 0 {
            self.status |= SW_ES | SW_B;
        } else {
            self.status &= !(SW_ES | SW_B);
        }
    }

    /// Whether a waiting x87 instruction must raise #MF before it executes.
    #[inline(always)]
    pub fn pending(&self) -> bool {
        self.status & SW_ES != 0
    }

    /// The full tag word: for each physical register 00 valid, 01 zero, 10 special,
    /// 11 empty.
    pub fn tag_word(&self) -> u16 {
        (0..8).fold(0u16, |tw, p| {
            let t = if self.empty & (1 << p) != 0 { 3 } else { self.regs[p].tag() };
            tw | (t << (2 * p))
        })
    }

    /// Loads a tag word: only "empty or not" is kept (the rest is recomputed from the
    /// register contents on the next store, as on the hardware).
    pub fn set_tag_word(&mut self, tw: u16) {
        self.empty = (0..8).fold(0u8, |e, p| e | (u8::from((tw >> (2 * p)) & 3 == 3) << p));
    }

    /// The abridged tag byte (1 = valid) of FXSAVE.
    pub fn abridged_tag(&self) -> u8 {
        !self.empty
    }

    /// The 28-byte protected-mode 32-bit environment (FNSTENV m28byte): reserved halves
    /// read as 0xFFFF as on current Intel parts.
    pub fn env_bytes32(&self) -> [u8; 28] {
        let mut b = [0u8; 28];
        let words: [u32; 7] = [
            0xffff_0000 | u32::from(self.control),
            0xffff_0000 | u32::from(self.status_word()),
            0xffff_0000 | u32::from(self.tag_word()),
            self.fip,
            u32::from(self.fcs) | (u32::from(self.fop & 0x7ff) << 16),
            self.fdp,
            0xffff_0000 | u32::from(self.fds),
        ];
        for (i, w) in words.iter().enumerate() {
            b[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
        }
        b
    }

    /// Loads a 28-byte 32-bit environment (FLDENV m28byte).
    pub fn load_env32(&mut self, b: &[u8]) {
        let w = |i: usize| u32::from_le_bytes([b[i * 4], b[i * 4 + 1], b[i * 4 + 2], b[i * 4 + 3]]);
        self.control = (w(0) as u16 & 0x1f3f) | 0x40;
        self.set_tag_word(w(2) as u16);
        self.fip = w(3);
        self.fcs = w(4) as u16;
        self.fop = ((w(4) >> 16) & 0x7ff) as u16;
        self.fdp = w(5);
        self.fds = w(6) as u16;
        self.set_status_word(w(1) as u16);
    }

    /// The 14-byte protected-mode 16-bit environment (FNSTENV m14byte).
    pub fn env_bytes16(&self) -> [u8; 14] {
        let mut b = [0u8; 14];
        let words: [u16; 7] = [
            self.control,
            self.status_word(),
            self.tag_word(),
            self.fip as u16,
            self.fcs,
            self.fdp as u16,
            self.fds,
        ];
        for (i, w) in words.iter().enumerate() {
            b[i * 2..i * 2 + 2].copy_from_slice(&w.to_le_bytes());
        }
        b
    }

    /// Loads a 14-byte 16-bit environment (FLDENV m14byte).
    pub fn load_env16(&mut self, b: &[u8]) {
        let w = |i: usize| u16::from_le_bytes([b[i * 2], b[i * 2 + 1]]);
        self.control = (w(0) & 0x1f3f) | 0x40;
        self.set_tag_word(w(2));
        self.fip = u32::from(w(3));
        self.fcs = w(4);
        self.fdp = u32::from(w(5));
        self.fds = w(6);
        self.set_status_word(w(1));
    }

    /// The 108-byte FNSAVE image (32-bit environment, then ST(0)..ST(7)); the layout
    /// of the `struct _fpstate` head in Linux i386 signal frames.
    pub fn save_bytes(&self) -> [u8; 108] {
        let mut b = [0u8; 108];
        b[..28].copy_from_slice(&self.env_bytes32());
        for i in 0..8 {
            b[28 + i * 10..38 + i * 10].copy_from_slice(&self.st(i).to_le_bytes());
        }
        b
    }

    /// Loads a 108-byte FRSTOR image.
    pub fn restore_bytes(&mut self, b: &[u8]) {
        self.load_env32(&b[..28]);
        self.load_regs(&b[28..]);
    }

    /// The FXSAVE image's first 288 bytes in its 32-bit layout (SDM Vol. 2 FXSAVE,
    /// Table 3-53): the rest of the 512-byte area (XMM8–15 and the reserved and
    /// software-available bytes) is not written by a 32-bit FXSAVE. `fop` must be
    /// resolved (not `FOP_FROM_CODE`): use `ops::x87`'s `resolve_fop` first.
    pub fn fxsave_bytes(&self) -> [u8; 288] {
        let mut b = [0u8; 288];
        b[0..2].copy_from_slice(&self.control.to_le_bytes());
        b[2..4].copy_from_slice(&self.status_word().to_le_bytes());
        b[4] = self.abridged_tag();
        b[6..8].copy_from_slice(&(self.fop & 0x7ff).to_le_bytes());
        b[8..12].copy_from_slice(&self.fip.to_le_bytes());
        b[12..14].copy_from_slice(&self.fcs.to_le_bytes());
        b[16..20].copy_from_slice(&self.fdp.to_le_bytes());
        b[20..22].copy_from_slice(&self.fds.to_le_bytes());
        b[24..28].copy_from_slice(&self.mxcsr.to_le_bytes());
        b[28..32].copy_from_slice(&MXCSR_WRITABLE.to_le_bytes());
        // Physical registers in stack order: ST(i) at 32 + 16i (an MMX register MMi is
        // R_i, which is ST(i) because every MMX instruction sets TOP to 0).
        for i in 0..8 {
            b[32 + i * 16..42 + i * 16].copy_from_slice(&self.st(i).to_le_bytes());
        }
        for (i, x) in self.xmm.iter().enumerate() {
            b[160 + i * 16..176 + i * 16].copy_from_slice(&x.to_le_bytes());
        }
        b
    }

    /// Loads an FXRSTOR image (at least its first 288 bytes). Returns false, having
    /// changed nothing, if the MXCSR image sets a reserved bit (FXRSTOR's #GP(0)).
    #[must_use]
    pub fn fxrstor_bytes(&mut self, b: &[u8]) -> bool {
        let w16 = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
        let w32 = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        let mxcsr = w32(24);
        if mxcsr & !MXCSR_WRITABLE != 0 {
            return false;
        }
        self.mxcsr = mxcsr;
        self.control = (w16(0) & 0x1f3f) | 0x40;
        self.empty = !b[4];
        self.fop = w16(6) & 0x7ff;
        self.fip = w32(8);
        self.fcs = w16(12);
        self.fdp = w32(16);
        self.fds = w16(20);
        self.set_status_word(w16(2));
        for i in 0..8 {
            let mut r = [0u8; 10];
            r.copy_from_slice(&b[32 + i * 16..42 + i * 16]);
            let p = self.phys(i);
            self.regs[p] = F80::from_le_bytes(r);
        }
        for (i, x) in self.xmm.iter_mut().enumerate() {
            *x = u128::from_le_bytes(b[160 + i * 16..176 + i * 16].try_into().expect("16 bytes"));
        }
        true
    }

    /// Loads ST(0)..ST(7) from 80 bytes (after TOP is set).
    pub fn load_regs(&mut self, b: &[u8]) {
        for i in 0..8 {
            let mut r = [0u8; 10];
            r.copy_from_slice(&b[i * 10..i * 10 + 10]);
            let p = self.phys(i);
            self.regs[p] = F80::from_le_bytes(r);
        }
    }
}
