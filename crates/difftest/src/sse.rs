//! The SSE part of a snapshot: XMM0–7 and MXCSR, what each side gives, what is
//! compared, and the instructions whose results are not comparable everywhere.
//!
//! Compared after every instruction (docs/difftest.md, "SSE state"):
//!
//! * XMM0–7, all 128 bits, except the destination of an instruction whose result
//!   the SDM only bounds ([`approximated_dest`]: RCPPS/RCPSS/RSQRTPS/RSQRTSS,
//!   "relative error ≤ 1.5 × 2^−12", different tables on Intel, AMD and QEMU):
//!   those are compared against the host CPU only;
//! * MXCSR, all bits, except the six exception flags against QEMU unless
//!   `--strict` ([`qemu_mxcsr_errata`]).
//!
//! Sources: growsdown `Fpu::xmm`/`Fpu::mxcsr`; native `PTRACE_GETFPREGS`
//! (`user_fpregs_struct::xmm_space` and `mxcsr`); QEMU's `g` reply (XMM0–7 after
//! the x87 block, then MXCSR) or its `-d cpu,fpu` dump (`MXCSR=` on the FCW line,
//! then four `XMMnn=hi lo` lines).

use growsdown_cpu::fpu::{Fpu, MXCSR_FLAGS};
use growsdown_decoder::{Instruction, Mnemonic};

/// The SSE state one side reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sse {
    /// XMM0–7, bit 0 of the register in bit 0.
    pub xmm: [u128; 8],
    pub mxcsr: u32,
}

impl Sse {
    pub fn of_fpu(f: &Fpu) -> Self {
        Self { xmm: f.xmm, mxcsr: f.mxcsr }
    }

    /// From 128 bytes of eight little-endian registers (FXSAVE's XMM area, QEMU's
    /// `g` reply).
    pub fn from_le_bytes(b: &[u8], mxcsr: u32) -> Option<Self> {
        let mut s = Self { mxcsr, ..Self::default() };
        for (i, x) in s.xmm.iter_mut().enumerate() {
            *x = u128::from_le_bytes(b.get(16 * i..16 * i + 16)?.try_into().ok()?);
        }
        Some(s)
    }
}

/// Which bits of which XMM registers an instruction leaves to the implementation:
/// `(register, bits)` for RCPPS/RSQRTPS (the whole destination) and RCPSS/RSQRTSS
/// (its low doubleword; the rest is copied from the destination or source, SDM
/// Vol. 2 RCPSS: "The upper 3 double-words ... are unchanged" (legacy SSE), and
/// compared). SDM Vol. 2 RCPPS: "The relative error for this approximation is
/// |Relative Error| ≤ 1.5 ∗ 2^−12"; the tables themselves differ between vendors
/// and QEMU computes the exact quotient.
pub fn approximated_dest(insn: &Instruction) -> Option<(usize, u128)> {
    let bits = match insn.mnemonic() {
        Mnemonic::Rcpps | Mnemonic::Rsqrtps => u128::MAX,
        Mnemonic::Rcpss | Mnemonic::Rsqrtss => 0xffff_ffff,
        _ => return None,
    };
    let r = insn.op0_register();
    if !r.is_xmm() {
        return None;
    }
    Some((r.number() - growsdown_decoder::Register::XMM0.number(), bits))
}

/// MXCSR bits taken from QEMU 7.2 instead of compared (without `--strict`): the six
/// exception flags, after every instruction but the two that load them from memory
/// (LDMXCSR, FXRSTOR: the same bytes on both sides). QEMU keeps its own softfloat
/// status and merges it into MXCSR: the flags it raises differ from the CPU's in
/// cases (docs/difftest.md, "Cases where QEMU itself is wrong"); where the host
/// and QEMU disagree the host is right, which `--strict` and the verdict show.
pub fn qemu_mxcsr_errata(insn: &Instruction) -> u32 {
    match insn.mnemonic() {
        Mnemonic::Ldmxcsr | Mnemonic::Fxrstor => 0,
        _ => MXCSR_FLAGS,
    }
}

/// Whether an instruction writes an MMX register: the CPU then sets that physical
/// x87 register's sign and exponent to all ones (SDM Vol. 1 §9.5.1, "MMX
/// Instructions and the x87 FPU Tag Word"; Table 9-? "Effect of MMX ... on x87"),
/// which QEMU 7.2 does not do (it writes the 64-bit significand only). Against QEMU
/// the sign+exponent word of the register written is taken from QEMU unless
/// `--strict`. Returns the MMX register number.
pub fn mmx_dest(insn: &Instruction) -> Option<usize> {
    let r = insn.op0_register();
    if insn.op_count() == 0 || !r.is_mm() {
        return None;
    }
    Some(r.number() - growsdown_decoder::Register::MM0.number())
}

/// `0x0123456789abcdef_fedcba9876543210`: the register in hex, most significant
/// quadword first, split in the middle.
pub fn hex128(v: u128) -> String {
    format!("{:016x}_{:016x}", (v >> 64) as u64, v as u64)
}

/// "[FZ RC=down PM UM OM ZM DM IM DAZ PE IE]": MXCSR's set fields.
pub fn mxcsr_names(v: u32) -> String {
    let mut out = Vec::new();
    if v & (1 << 15) != 0 {
        out.push("FZ".to_string());
    }
    let rc = ["nearest", "down", "up", "zero"][((v >> 13) & 3) as usize];
    out.push(format!("RC={rc}"));
    let masks = (v >> 7) & 0x3f;
    if masks == 0x3f {
        out.push("all masked".into());
    } else {
        out.extend(mxcsr_bit_names(masks << 7).split(' ').filter(|s| !s.is_empty()).map(String::from));
    }
    out.extend(mxcsr_bit_names(v & 0x7f).split(' ').filter(|s| !s.is_empty()).map(String::from));
    format!("[{}]", out.join(" "))
}

/// Names of MXCSR bits ("PE IE", "RC").
pub fn mxcsr_bit_names(mask: u32) -> String {
    const NAMES: [&str; 16] =
        ["IE", "DE", "ZE", "OE", "UE", "PE", "DAZ", "IM", "DM", "ZM", "OM", "UM", "PM", "RC", "RC", "FZ"];
    let mut v: Vec<&str> = Vec::new();
    for (b, name) in NAMES.iter().enumerate().rev() {
        if mask & (1 << b) != 0 && v.last() != Some(name) {
            v.push(name);
        }
    }
    if mask >> 16 != 0 {
        v.push("reserved");
    }
    v.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use growsdown_decoder::decode_one;

    #[test]
    fn names() {
        assert_eq!(mxcsr_names(0x1f80), "[RC=nearest all masked]");
        assert_eq!(mxcsr_names(0x9fe1), "[FZ RC=nearest all masked DAZ PE IE]");
        assert_eq!(mxcsr_names(0x3f80), "[RC=down all masked]");
        assert_eq!(mxcsr_names(0x0000), "[RC=nearest]");
        assert_eq!(mxcsr_bit_names(0x6021), "RC PE IE");
        assert_eq!(hex128(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210), "0123456789abcdef_fedcba9876543210");
    }

    #[test]
    fn approximations_and_mmx_destinations() {
        // rcpps xmm3, xmm1 / rsqrtss xmm5, [eax] / paddd xmm2, xmm3
        let i = decode_one(&[0x0f, 0x53, 0xd9], 0).unwrap();
        assert_eq!(approximated_dest(&i), Some((3, u128::MAX)));
        let i = decode_one(&[0xf3, 0x0f, 0x52, 0x28], 0).unwrap();
        assert_eq!(approximated_dest(&i), Some((5, 0xffff_ffff)));
        let i = decode_one(&[0x66, 0x0f, 0xfe, 0xd3], 0).unwrap();
        assert_eq!((approximated_dest(&i), mmx_dest(&i)), (None, None));
        // paddb mm1, mm2 writes MM1; emms writes none.
        let i = decode_one(&[0x0f, 0xfc, 0xca], 0).unwrap();
        assert_eq!(mmx_dest(&i), Some(1));
        let i = decode_one(&[0x0f, 0x77], 0).unwrap();
        assert_eq!(mmx_dest(&i), None);
        // ldmxcsr [eax] loads the flags: compared against QEMU too.
        let i = decode_one(&[0x0f, 0xae, 0x10], 0).unwrap();
        assert_eq!(qemu_mxcsr_errata(&i), 0);
        let i = decode_one(&[0x0f, 0x58, 0xc1], 0).unwrap(); // addps
        assert_eq!(qemu_mxcsr_errata(&i), MXCSR_FLAGS);
    }
}
