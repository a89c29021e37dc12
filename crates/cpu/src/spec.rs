//! What the Intel SDM leaves *undefined* after an instruction: the one statement of
//! those rules in growsdown. Difftest (`growsdown-difftest`) uses it not to report a
//! divergence where two correct implementations may differ; the cpu crate's tests
//! against the host CPU (`tests/alu_vs_host.rs`) use it to tell a defined difference
//! (a failure) from an undefined one.
//!
//! Source: Intel® 64 and IA-32 Architectures Software Developer's Manual. For the
//! integer instructions, Volume 2 (Instruction Set Reference), the "Flags Affected"
//! section (and, for results, the "Description"/"Operation") of each instruction's
//! page; the pages are titled by mnemonic (Vol. 2A holds A–L, Vol. 2B M–U, Vol. 2C
//! V–Z), and each row below names its page by heading and quotes the sentence it
//! encodes. For the x87, Vol. 1 §8.1.3.1 Table 8-1. State the SDM calls *unaffected*
//! or *defined* is compared exactly and has no row.
//!
//! One sub-module per family of architectural state, each a table of rows keyed on
//! iced's [`Mnemonic`] and an evaluator that applies the rows to one decoded
//! [`Instruction`]:
//!
//! * [`eflags`] — the six arithmetic flags, and destinations left undefined;
//! * [`x87`] — the FPU condition codes C0–C3.
//!
//! A later family (MXCSR flags after SSE instructions, say) gets a module of the same
//! shape: a `RULES` table whose rows name mnemonics, a condition and the undefined
//! bits, and a function from an instruction (and what the caller knows about its
//! operands) to those bits.

use growsdown_decoder::{Instruction, Mnemonic, OpKind, Register};

/// Width in bits of the first (destination) operand (32 when it has none).
pub fn dest_bits(insn: &Instruction) -> u32 {
    match insn.op0_kind() {
        OpKind::Register => insn.op0_register().size() as u32 * 8,
        OpKind::Memory => insn.memory_size().size() as u32 * 8,
        _ => 32,
    }
}

/// The undefined arithmetic EFLAGS (CF PF AF ZF SF OF) and undefined destinations
/// of the integer instructions.
pub mod eflags {
    use super::{dest_bits, Instruction, Mnemonic, OpKind, Register};
    use crate::flags::{AF, ARITH, CF, OF, PF, SF, ZF};
    use Mnemonic::*;

    /// When a [`Rule`] applies. "Count" is the shift or rotate count masked to 5 bits
    /// ("COUNTMASK = 1FH" outside 64-bit mode; for rotates the masked count before
    /// the MOD SIZE / MOD (SIZE+1) reduction), as the SDM's flag descriptions use it.
    /// An unknown count (`None`) satisfies every count condition: the conservative
    /// answer.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum When {
        Always,
        CountNonZero,
        CountAbove1,
        /// Count ≥ the destination's width in bits (SHL/SHR CF).
        CountAtLeastWidth,
        /// Count > the destination's width in bits (only 16-bit SHLD/SHRD reach it).
        CountAboveWidth,
        /// The source operand is zero (BSF/BSR).
        SourceZero,
        /// The operand is 16 bits wide (BSWAP).
        Width16,
    }

    /// One row: after any of `mnemonics`, when `when` holds, the EFLAGS bits `flags`
    /// are undefined and, with `result`, the destination operand too.
    #[derive(Clone, Copy, Debug)]
    pub struct Rule {
        pub mnemonics: &'static [Mnemonic],
        pub when: When,
        pub flags: u32,
        pub result: bool,
    }

    const fn rule(mnemonics: &'static [Mnemonic], when: When, flags: u32, result: bool) -> Rule {
        Rule { mnemonics, when, flags, result }
    }

    /// Every instruction not listed here that the i686 we emulate runs defines every
    /// flag it writes and its result (ADD/ADC/SUB/SBB/CMP/NEG/INC/DEC/NOT, CMPXCHG,
    /// CMPXCHG8B, XADD, CMPS/SCAS, SAHF, POPF, LAR/LSL/VERR/VERW, ARPL,
    /// FCOMI/FUCOMI...). MOV to/from CR/DR also leave all six undefined (Vol. 2B
    /// "MOV—Move to/from Control Registers") but fault at CPL 3.
    pub const RULES: &[Rule] = &[
        // Vol. 2A "AAA—ASCII Adjust After Addition" and Vol. 2A "AAS—ASCII Adjust
        // AL After Subtraction": "The AF and CF flags are set to 1 if the adjustment
        // results in a decimal carry [borrow]; otherwise they are set to 0. The OF,
        // SF, ZF, and PF flags are undefined."
        rule(&[Aaa, Aas], When::Always, OF | SF | ZF | PF, false),
        // Vol. 2A "AAD—ASCII Adjust AX Before Division" and "AAM—ASCII Adjust AX
        // After Multiply": "The SF, ZF, and PF flags are set according to the
        // resulting binary value in the AL register; the OF, AF, and CF flags are
        // undefined." (AAM 0 raises #DE and changes nothing.)
        rule(&[Aad, Aam], When::Always, OF | AF | CF, false),
        // Vol. 2A "DAA—Decimal Adjust AL After Addition" and "DAS—Decimal Adjust AL
        // After Subtraction": "The CF and AF flags are set if the adjustment of the
        // value results in a decimal carry [borrow] in either digit of the result.
        // The SF, ZF, and PF flags are set according to the result. The OF flag is
        // undefined."
        rule(&[Daa, Das], When::Always, OF, false),
        // Vol. 2A "AND—Logical AND", Vol. 2B "OR—Logical Inclusive OR", Vol. 2B
        // "TEST—Logical Compare", Vol. 2C "XOR—Logical Exclusive OR": "The OF and CF
        // flags are cleared; the SF, ZF, and PF flags are set according to the
        // result. The state of the AF flag is undefined."
        rule(&[And, Or, Xor, Test], When::Always, AF, false),
        // Vol. 2B "SAL/SAR/SHL/SHR—Shift": "The CF flag contains the value of the
        // last bit shifted out of the destination operand; it is undefined for SHL
        // and SHR instructions where the count is greater than or equal to the size
        // (in bits) of the destination operand. The OF flag is affected only for
        // 1-bit shifts; otherwise, it is undefined. The SF, ZF, and PF flags are set
        // according to the result. If the count is 0, the flags are not affected. For
        // a non-zero count, the AF flag is undefined."
        rule(&[Shl, Sal, Shr, Sar], When::CountNonZero, AF, false),
        rule(&[Shl, Sal, Shr, Sar], When::CountAbove1, OF, false),
        rule(&[Shl, Sal, Shr], When::CountAtLeastWidth, CF, false),
        // Vol. 2B "RCL/RCR/ROL/ROR—Rotate": "If the masked count is 0, the flags are
        // not affected. If the masked count is 1, then the OF flag is affected,
        // otherwise (masked count is greater than 1) the OF flag is undefined. The CF
        // flag is affected when the masked count is nonzero. The SF, ZF, AF, and PF
        // flags are always unaffected."
        rule(&[Rol, Ror, Rcl, Rcr], When::CountAbove1, OF, false),
        // Vol. 2B "SHLD—Double Precision Shift Left" and "SHRD—Double Precision
        // Shift Right": "If the count is 1 or greater, the CF flag is filled with the
        // last bit shifted out of the destination operand and the SF, ZF, and PF
        // flags are set according to the value of the result. For a 1-bit shift, the
        // OF flag is set if a sign change occurred; otherwise, it is cleared. For
        // shifts greater than 1 bit, the OF flag is undefined. If a shift occurs, the
        // AF flag is undefined. If the count operand is 0, the flags are not
        // affected. If the count is greater than the operand size, the flags are
        // undefined." And: "If the count is greater than the operand size, the
        // result is undefined." (Count masked to 5 bits, so only 16-bit operands can
        // exceed.)
        rule(&[Shld, Shrd], When::CountNonZero, AF, false),
        rule(&[Shld, Shrd], When::CountAbove1, OF, false),
        rule(&[Shld, Shrd], When::CountAboveWidth, ARITH, true),
        // Vol. 2B "MUL—Unsigned Multiply": "The OF and CF flags are set to 0 if the
        // upper half of the result is 0; otherwise, they are set to 1. The SF, ZF,
        // AF, and PF flags are undefined." Vol. 2A "IMUL—Signed Multiply" (all
        // three forms): "The SF, ZF, AF, and PF flags are undefined."
        rule(&[Mul, Imul], When::Always, SF | ZF | AF | PF, false),
        // Vol. 2A "DIV—Unsigned Divide" and "IDIV—Signed Divide": "The CF, OF, SF,
        // ZF, AF, and PF flags are undefined."
        rule(&[Div, Idiv], When::Always, ARITH, false),
        // Vol. 2A "BSF—Bit Scan Forward" and "BSR—Bit Scan Reverse": "The ZF flag is
        // set to 1 if the source operand is 0; otherwise, the ZF flag is cleared. The
        // CF, OF, SF, AF, and PF flags are undefined." And: "If the content of the
        // source operand is 0, the content of the destination operand is undefined."
        //
        // F3 0F BC / F3 0F BD decode as TZCNT / LZCNT, but the i686 growsdown claims
        // (no BMI1, no LZCNT in CPUID) runs them as BSF / BSR with an ignored prefix
        // (Vol. 2B "TZCNT", "LZCNT"), and so does QEMU with that CPU model; gcc emits
        // `rep bsf` for __builtin_ctz. Same rows.
        rule(&[Bsf, Bsr, Tzcnt, Lzcnt], When::Always, CF | OF | SF | AF | PF, false),
        rule(&[Bsf, Bsr, Tzcnt, Lzcnt], When::SourceZero, 0, true),
        // Vol. 2A "BT—Bit Test", "BTC—Bit Test and Complement", "BTR—Bit Test and
        // Reset", "BTS—Bit Test and Set": "The CF flag contains the value of the
        // selected bit [before it is changed]. The ZF flag is unaffected. The OF, SF,
        // AF, and PF flags are undefined."
        rule(&[Bt, Btc, Btr, Bts], When::Always, OF | SF | AF | PF, false),
        // Vol. 2A "BSWAP—Byte Swap": "When the BSWAP instruction references a 16-bit
        // register, the result is undefined."
        rule(&[Bswap], When::Width16, 0, true),
    ];

    /// What [`undefined`] finds undefined after one instruction.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Undefined {
        /// EFLAGS bits, a subset of [`ARITH`].
        pub flags: u32,
        /// Whether the destination operand (register or memory) is undefined.
        pub result: bool,
    }

    /// Which operand holds the shift/rotate count (SHLD/SHRD: the third).
    fn count_operand_index(insn: &Instruction) -> Option<u32> {
        match insn.mnemonic() {
            Shl | Sal | Shr | Sar | Rol | Ror | Rcl | Rcr => Some(1),
            Shld | Shrd => Some(2),
            _ => None,
        }
    }

    /// The raw (unmasked) count operand of a shift, rotate or double shift: its
    /// immediate (iced presents the D0/D1 "by 1" forms as an immediate 1) or CL taken
    /// from `ecx` before the instruction ran. `None` for every other instruction.
    pub fn count_operand(insn: &Instruction, ecx: u32) -> Option<u32> {
        let i = count_operand_index(insn)?;
        match insn.op_kind(i) {
            OpKind::Register if insn.op_register(i) == Register::CL => Some(ecx & 0xff),
            OpKind::Immediate8 | OpKind::Immediate8_2nd => Some(insn.immediate(i) as u32 & 0xff),
            _ => None,
        }
    }

    /// Whether `when` holds for `insn`, given its raw `count` (see [`count_operand`])
    /// and whether its source operand was zero.
    pub fn holds(when: When, insn: &Instruction, count: Option<u32>, source_zero: bool) -> bool {
        let count = count.map(|c| c & 0x1f);
        let width = dest_bits(insn);
        match when {
            When::Always => true,
            When::CountNonZero => count.is_none_or(|c| c != 0),
            When::CountAbove1 => count.is_none_or(|c| c > 1),
            When::CountAtLeastWidth => count.is_none_or(|c| c >= width),
            When::CountAboveWidth => count.is_none_or(|c| c > width),
            When::SourceZero => source_zero,
            When::Width16 => width == 16,
        }
    }

    /// The EFLAGS bits and whether the result are undefined after `insn`: the union
    /// of the [`RULES`] rows for its mnemonic whose condition holds. `count` is the
    /// raw count operand of a shift or rotate (see [`count_operand`]; `None` counts
    /// as "could be anything"); `source_zero` whether the source operand was zero
    /// (after BSF/BSR that is ZF).
    pub fn undefined(insn: &Instruction, count: Option<u32>, source_zero: bool) -> Undefined {
        let m = insn.mnemonic();
        RULES.iter().filter(|r| r.mnemonics.contains(&m) && holds(r.when, insn, count, source_zero)).fold(
            Undefined::default(),
            |u, r| Undefined { flags: u.flags | r.flags, result: u.result | r.result },
        )
    }
}

/// The x87 condition codes C0–C3 the SDM leaves undefined.
pub mod x87 {
    use super::{Instruction, Mnemonic};
    use crate::fpu::{SW_C0, SW_C1, SW_C2, SW_C3};
    use Mnemonic::*;

    const C023: u16 = SW_C0 | SW_C2 | SW_C3;
    const ALL: u16 = SW_C0 | SW_C1 | SW_C2 | SW_C3;

    /// When a [`Rule`] applies.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum When {
        Always,
        /// C2 is set after the instruction (FSIN/FCOS/FSINCOS/FPTAN: source out of
        /// range).
        C2Set,
    }

    /// One row: after any of `mnemonics`, when `when` holds, the condition codes
    /// `cc` (status-word bits) are undefined.
    #[derive(Clone, Copy, Debug)]
    pub struct Rule {
        pub mnemonics: &'static [Mnemonic],
        pub when: When,
        pub cc: u16,
    }

    const fn rule(mnemonics: &'static [Mnemonic], when: When, cc: u16) -> Rule {
        Rule { mnemonics, when, cc }
    }

    /// Source: SDM Vol. 1 §8.1.3.1, Table 8-1 "Condition Code Interpretation" (one
    /// row per instruction group, quoted below), and the "FPU Flags Affected" section
    /// of each instruction's page in Vol. 2, which says the same for every row here.
    /// Where Vol. 1 and Vol. 2 differ (FCOMI: Vol. 1 "Undefined", Vol. 2 "Not
    /// affected") the weaker word, undefined, is used. Instructions that are not x87
    /// instructions leave the condition codes alone and are not listed.
    ///
    /// Defined, so not listed: Table 8-1, "FCOM, FCOMP, FCOMPP, FICOM, FICOMP, FTST,
    /// FUCOM, FUCOMP, FUCOMPP": C0 C3 C2 "Result of Comparison" / "Operands are not
    /// Comparable", C1 "0 or #IS"; "FXAM": "Operand class", C1 "Sign"; "FPREM,
    /// FPREM1": "Q2 Q1 0=reduction complete 1=reduction incomplete Q0 or #IS";
    /// "FINIT/FNINIT, FSAVE/FNSAVE": "0 0 0 0"; "FLDENV, FRSTOR": "Each bit loaded
    /// from memory" (FXRSTOR likewise, Vol. 2 "FXRSTOR").
    pub const RULES: &[Rule] = &[
        // Table 8-1, "FCOMI, FCOMIP, FUCOMI, FUCOMIP": C0 C3 C2 "Undefined. (These
        // instructions set the status flags in the EFLAGS register.)", C1 "#IS"
        // (Vol. 2 "FCOMI/FCOMIP/FUCOMI/FUCOMIP": "C1 Set to 0. C0, C2, C3 Not
        // affected.").
        rule(&[Fcomi, Fcomip, Fucomi, Fucomip], When::Always, C023),
        // Table 8-1, "F2XM1, FADD, FADDP, FBSTP, FCMOVcc, FIADD, FDIV, FDIVP, FDIVR,
        // FDIVRP, FIDIV, FIDIVR, FIMUL, FIST, FISTP, FISUB, FISUBR, FMUL, FMULP,
        // FPATAN, FRNDINT, FSCALE, FST, FSTP, FSUB, FSUBP, FSUBR, FSUBRP, FSQRT,
        // FYL2X, FYL2XP1": C0 C3 C2 "Undefined", C1 "Roundup or #IS". FISTTP (SSE3)
        // as FISTP (Vol. 2 "FISTTP": "C0, C2, C3 Undefined").
        rule(
            &[
                F2xm1, Fadd, Faddp, Fbstp, Fcmovb, Fcmove, Fcmovbe, Fcmovu, Fcmovnb, Fcmovne, Fcmovnbe,
                Fcmovnu, Fiadd, Fdiv, Fdivp, Fdivr, Fdivrp, Fidiv, Fidivr, Fimul, Fist, Fistp, Fisttp, Fisub,
                Fisubr, Fmul, Fmulp, Fpatan, Frndint, Fscale, Fst, Fstp, Fsub, Fsubp, Fsubr, Fsubrp, Fsqrt,
                Fyl2x, Fyl2xp1,
            ],
            When::Always,
            C023,
        ),
        // Table 8-1, "FCOS, FSIN, FSINCOS, FPTAN": C0 C3 "Undefined", C2 "1=source
        // operand out of range", C1 "Roundup or #IS (Undefined if C2=1)".
        rule(&[Fcos, Fsin, Fsincos, Fptan], When::Always, SW_C0 | SW_C3),
        rule(&[Fcos, Fsin, Fsincos, Fptan], When::C2Set, SW_C1),
        // Table 8-1, "FABS, FBLD, FCHS, FDECSTP, FILD, FINCSTP, FLD, Load Constants,
        // FSTP (ext. real), FXCH, FXTRACT": C0 C3 C2 "Undefined", C1 "0 or #IS".
        rule(
            &[
                Fabs, Fbld, Fchs, Fdecstp, Fild, Fincstp, Fld, Fld1, Fldl2t, Fldl2e, Fldpi, Fldlg2, Fldln2,
                Fldz, Fxch, Fxtract,
            ],
            When::Always,
            C023,
        ),
        // Table 8-1, "FFREE, FLDCW, FCLEX/FNCLEX, FNOP, FSTCW/FNSTCW,
        // FSTENV/FNSTENV, FSTSW/FNSTSW": C0 C3 C2 C1 "Undefined". Vol. 2
        // "WAIT/FWAIT": "The C0, C1, C2, and C3 flags are undefined." FFREEP
        // (undocumented DF /0 form of FFREE + pop) as FFREE.
        rule(
            &[Ffree, Ffreep, Fldcw, Fclex, Fnclex, Fnop, Fstcw, Fnstcw, Fstenv, Fnstenv, Fstsw, Fnstsw, Wait],
            When::Always,
            ALL,
        ),
    ];

    /// The condition codes (a subset of C0 C1 C2 C3, as status-word bits) whose value
    /// after `insn` the SDM leaves undefined; `c2_after` is C2 after the instruction.
    pub fn undefined_cc(insn: &Instruction, c2_after: bool) -> u16 {
        let m = insn.mnemonic();
        RULES
            .iter()
            .filter(|r| r.mnemonics.contains(&m) && (r.when == When::Always || c2_after))
            .fold(0, |cc, r| cc | r.cc)
    }
}

#[cfg(test)]
mod tests {
    use super::eflags::{count_operand, undefined, Undefined, RULES};
    use super::x87::undefined_cc;
    use super::*;
    use crate::flags::{AF, ARITH, CF, OF, PF, SF, ZF};
    use crate::fpu::{SW_C0, SW_C1, SW_C2, SW_C3, SW_CC};
    use growsdown_decoder::decode_one;

    fn insn(bytes: &[u8]) -> Instruction {
        decode_one(bytes, 0x1000).unwrap()
    }

    fn mask(bytes: &[u8], ecx: u32) -> u32 {
        let i = insn(bytes);
        undefined(&i, count_operand(&i, ecx), false).flags
    }

    fn result(bytes: &[u8], count: Option<u32>, source_zero: bool) -> bool {
        undefined(&insn(bytes), count, source_zero).result
    }

    /// Every row names a mnemonic and something undefined, within the state its
    /// family covers; no mnemonic appears twice in a row.
    #[test]
    fn tables_are_well_formed() {
        for r in RULES {
            assert!(!r.mnemonics.is_empty(), "{r:?}");
            assert!(r.flags != 0 || r.result, "{r:?}");
            assert_eq!(r.flags & !ARITH, 0, "{r:?}");
            for (i, m) in r.mnemonics.iter().enumerate() {
                assert!(!r.mnemonics[..i].contains(m), "{m:?} twice in {r:?}");
            }
        }
        for r in x87::RULES {
            assert!(!r.mnemonics.is_empty(), "{r:?}");
            assert!(r.cc != 0 && r.cc & !SW_CC == 0, "{r:?}");
            for (i, m) in r.mnemonics.iter().enumerate() {
                assert!(!r.mnemonics[..i].contains(m), "{m:?} twice in {r:?}");
            }
        }
    }

    #[test]
    fn logic_leaves_af_undefined() {
        assert_eq!(mask(&[0x21, 0xd8], 0), AF); // and eax, ebx
        assert_eq!(mask(&[0x0c, 0x01], 0), AF); // or al, 1
        assert_eq!(mask(&[0x31, 0xc0], 0), AF); // xor eax, eax
        assert_eq!(mask(&[0x85, 0xc0], 0), AF); // test eax, eax
        assert_eq!(mask(&[0x01, 0xd8], 0), 0); // add eax, ebx: all defined
        assert_eq!(mask(&[0x40], 0), 0); // inc eax
        assert_eq!(undefined(&insn(&[0x01, 0xd8]), None, true), Undefined::default());
    }

    #[test]
    fn shifts_depend_on_count() {
        assert_eq!(mask(&[0xd1, 0xe0], 0), AF); // shl eax, 1
        assert_eq!(mask(&[0xc1, 0xe0, 0x03], 0), AF | OF); // shl eax, 3
        assert_eq!(mask(&[0xc1, 0xe0, 0x00], 0), 0); // shl eax, 0: flags unaffected
        assert_eq!(mask(&[0xc1, 0xe0, 0x20], 0), 0); // count 32 masks to 0
        assert_eq!(mask(&[0xd3, 0xe0], 0x21), AF); // shl eax, cl with cl = 33 → 1
        assert_eq!(mask(&[0xd3, 0xe0], 0x1100), 0); // only CL counts: 0
        assert_eq!(mask(&[0xd0, 0xf0], 0), AF); // sal al, 1 (the /6 alias)
                                                // 8-bit SHL/SHR by ≥ 8: CF undefined too; SAR keeps CF (sign bit) defined.
        assert_eq!(mask(&[0xc0, 0xe0, 0x09], 0), AF | OF | CF); // shl al, 9
        assert_eq!(mask(&[0xc0, 0xe8, 0x08], 0), AF | OF | CF); // shr al, 8
        assert_eq!(mask(&[0xc0, 0xf8, 0x09], 0), AF | OF); // sar al, 9
        assert_eq!(mask(&[0xc1, 0xe0, 0x1f], 0), AF | OF); // shl eax, 31: CF defined
        assert_eq!(mask(&[0x66, 0xc1, 0x64, 0x24, 0x04, 0x10], 0), AF | OF | CF); // shl word [esp+4], 16
                                                                                  // Unknown count: conservative.
        let i = insn(&[0xd3, 0xe0]);
        assert_eq!(undefined(&i, None, false).flags, AF | OF | CF);
        let i = insn(&[0xd3, 0xf8]); // sar eax, cl
        assert_eq!(undefined(&i, None, false).flags, AF | OF);
        assert!(!result(&[0xc1, 0xe0, 0x1f], Some(31), false));
    }

    #[test]
    fn rotates_leave_of_undefined_beyond_one() {
        assert_eq!(mask(&[0xd1, 0xc0], 0), 0); // rol eax, 1
        assert_eq!(mask(&[0xc1, 0xc8, 0x02], 0), OF); // ror eax, 2
        assert_eq!(mask(&[0xd3, 0xd0], 0x21), 0); // rcl eax, cl (33 → 1)
        assert_eq!(mask(&[0xc0, 0xd8, 0x09], 0), OF); // rcr al, 9 (masked 9 ≠ 1)
        assert_eq!(mask(&[0xc0, 0xc0, 0x00], 0), 0); // rol al, 0
        assert_eq!(undefined(&insn(&[0xd3, 0xc0]), None, false).flags, OF); // rol eax, cl
    }

    #[test]
    fn double_shifts() {
        assert_eq!(mask(&[0x0f, 0xa4, 0xd8, 0x01], 0), AF); // shld eax, ebx, 1
        assert_eq!(mask(&[0x0f, 0xac, 0xd8, 0x04], 0), AF | OF); // shrd eax, ebx, 4
        assert_eq!(mask(&[0x0f, 0xa5, 0xd8], 0), 0); // shld eax, ebx, cl; cl = 0
        assert_eq!(mask(&[0x66, 0x0f, 0xa4, 0xd8, 0x14], 0), ARITH); // 16-bit, count 20
        assert_eq!(mask(&[0x66, 0x0f, 0xa4, 0xd8, 0x10], 0), AF | OF); // 16-bit, count 16
        let shld16 = [0x66, 0x0f, 0xa4, 0xd8, 0x14];
        assert!(result(&shld16, Some(20), false));
        assert!(!result(&shld16, Some(16), false));
        assert!(result(&shld16, None, false));
        // Unknown count: everything, as if it could exceed the width.
        assert_eq!(
            undefined(&insn(&[0x0f, 0xa5, 0xd8]), None, false),
            Undefined { flags: ARITH, result: true }
        );
        assert!(!result(&[0x0f, 0xa5, 0xd8], Some(31), false)); // 32-bit: 31 is not above the width
    }

    #[test]
    fn multiply_divide() {
        assert_eq!(mask(&[0xf7, 0xe3], 0), SF | ZF | AF | PF); // mul ebx
        assert_eq!(mask(&[0x0f, 0xaf, 0xc3], 0), SF | ZF | AF | PF); // imul eax, ebx
        assert_eq!(mask(&[0x6b, 0xc3, 0x05], 0), SF | ZF | AF | PF); // imul eax, ebx, 5
        assert_eq!(mask(&[0xf6, 0xf3], 0), ARITH); // div bl
        assert_eq!(mask(&[0xf7, 0xfb], 0), ARITH); // idiv ebx
    }

    #[test]
    fn bit_scans_and_tests() {
        assert_eq!(mask(&[0x0f, 0xbc, 0xc3], 0), CF | OF | SF | AF | PF); // bsf eax, ebx
        assert_eq!(mask(&[0x0f, 0xbd, 0xc3], 0), CF | OF | SF | AF | PF); // bsr eax, ebx
        assert_eq!(mask(&[0xf3, 0x0f, 0xbc, 0xc3], 0), CF | OF | SF | AF | PF); // rep bsf (tzcnt)
        assert_eq!(mask(&[0x0f, 0xa3, 0xd8], 0), OF | SF | AF | PF); // bt eax, ebx
        assert_eq!(mask(&[0x0f, 0xba, 0xe8, 0x03], 0), OF | SF | AF | PF); // bts eax, 3
        assert_eq!(mask(&[0x0f, 0xb3, 0xd8], 0), OF | SF | AF | PF); // btr eax, ebx
        assert_eq!(mask(&[0x0f, 0xbb, 0xd8], 0), OF | SF | AF | PF); // btc eax, ebx
        assert!(result(&[0x0f, 0xbc, 0xc3], None, true));
        assert!(!result(&[0x0f, 0xbc, 0xc3], None, false));
        assert!(result(&[0x66, 0x0f, 0xbd, 0xca], None, true)); // bsr cx, dx
    }

    #[test]
    fn bcd_adjustments() {
        assert_eq!(mask(&[0x37], 0), OF | SF | ZF | PF); // aaa
        assert_eq!(mask(&[0x3f], 0), OF | SF | ZF | PF); // aas
        assert_eq!(mask(&[0xd5, 0x0a], 0), OF | AF | CF); // aad
        assert_eq!(mask(&[0xd4, 0x0a], 0), OF | AF | CF); // aam
        assert_eq!(mask(&[0x27], 0), OF); // daa
        assert_eq!(mask(&[0x2f], 0), OF); // das
    }

    #[test]
    fn bswap16_result_is_undefined() {
        assert!(result(&[0x66, 0x0f, 0xcb], None, false)); // bswap bx
        assert!(!result(&[0x0f, 0xcb], None, false)); // bswap ebx
        assert_eq!(mask(&[0x66, 0x0f, 0xcb], 0), 0);
    }

    #[test]
    fn count_operands() {
        assert_eq!(count_operand(&insn(&[0xd3, 0xe0]), 0x1234), Some(0x34)); // shl eax, cl
        assert_eq!(count_operand(&insn(&[0xd1, 0xe0]), 0x1234), Some(1)); // shl eax, 1
        assert_eq!(count_operand(&insn(&[0xc1, 0xe0, 0xff]), 0), Some(0xff)); // shl eax, 255
        assert_eq!(count_operand(&insn(&[0x0f, 0xa4, 0xd8, 0x07]), 0), Some(7)); // shld eax, ebx, 7
        assert_eq!(count_operand(&insn(&[0x0f, 0xad, 0xd8]), 0x0305), Some(5)); // shrd eax, ebx, cl
        assert_eq!(count_operand(&insn(&[0x01, 0xd8]), 5), None); // add eax, ebx
    }

    #[test]
    fn x87_condition_codes() {
        let cc = |b: &[u8], c2: bool| undefined_cc(&insn(b), c2);
        assert_eq!(cc(&[0xd9, 0xe8], false), SW_C0 | SW_C2 | SW_C3); // fld1
        assert_eq!(cc(&[0xde, 0xc1], false), SW_C0 | SW_C2 | SW_C3); // faddp
        assert_eq!(cc(&[0xd8, 0xd1], false), 0); // fcom st(1)
        assert_eq!(cc(&[0xd9, 0xe5], false), 0); // fxam
        assert_eq!(cc(&[0xd9, 0xf8], false), 0); // fprem
        assert_eq!(cc(&[0xdb, 0xe3], false), 0); // fninit
        assert_eq!(cc(&[0xd9, 0xfe], false), SW_C0 | SW_C3); // fsin
        assert_eq!(cc(&[0xd9, 0xfe], true), SW_C0 | SW_C1 | SW_C3); // fsin, out of range
        assert_eq!(cc(&[0xde, 0xc1], true), SW_C0 | SW_C2 | SW_C3); // faddp: C2 changes nothing
        assert_eq!(cc(&[0xdf, 0xe0], false), SW_C0 | SW_C1 | SW_C2 | SW_C3); // fnstsw ax
        assert_eq!(cc(&[0xd9, 0x2b], false), SW_C0 | SW_C1 | SW_C2 | SW_C3); // fldcw [ebx]
        assert_eq!(cc(&[0xdb, 0xe9], false), SW_C0 | SW_C2 | SW_C3); // fucomi st(1)
        assert_eq!(cc(&[0x01, 0xd8], false), 0); // add eax, ebx
    }
}
