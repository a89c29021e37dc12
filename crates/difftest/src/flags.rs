//! The undefined-EFLAGS table: for each instruction, the arithmetic flags the Intel
//! SDM declares *undefined* after it, so that difftest does not report a divergence
//! where two correct implementations may differ.
//!
//! Source: Intel® 64 and IA-32 Architectures Software Developer's Manual, Volume 2
//! (Instruction Set Reference), the "Flags Affected" section of each instruction's
//! page. Each row below names the page by its heading (the SDM's pages are titled
//! by mnemonic; Vol. 2A holds A–L, Vol. 2B M–U, Vol. 2C V–Z) and quotes the sentence
//! it encodes. Flags the SDM calls *unaffected* or *defined* are compared exactly.
//!
//! Beyond flags, a few instructions leave their destination register undefined; see
//! [`undefined_dest`].

use growsdown_cpu::flags::{AF, CF, OF, PF, SF, ZF};
use growsdown_decoder::{Instruction, Mnemonic, OpKind, Register};

/// All six arithmetic flags.
pub const ALL6: u32 = CF | PF | AF | ZF | SF | OF;

/// Width in bits of the first (destination) operand.
fn dest_bits(insn: &Instruction) -> u32 {
    match insn.op0_kind() {
        OpKind::Register => insn.op0_register().size() as u32 * 8,
        OpKind::Memory => insn.memory_size().size() as u32 * 8,
        _ => 32,
    }
}

/// Which operand holds the shift/rotate count (SHLD/SHRD: the third).
fn count_operand_index(insn: &Instruction) -> Option<u32> {
    use Mnemonic::*;
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

/// The EFLAGS bits (a subset of CF PF AF ZF SF OF) whose value after `insn` the SDM
/// leaves undefined. `count` is the raw count operand of a shift or rotate (see
/// [`count_operand`]); when it is `None` for such an instruction every flag whose
/// definedness depends on the count is treated as undefined (the conservative
/// answer).
pub fn undefined_mask(insn: &Instruction, count: Option<u32>) -> u32 {
    use Mnemonic::*;
    match insn.mnemonic() {
        // Vol. 2A "AAA—ASCII Adjust After Addition" and Vol. 2A "AAS—ASCII Adjust
        // AL After Subtraction": "The AF and CF flags are set to 1 if the adjustment
        // results in a decimal carry [borrow]; otherwise they are set to 0. The OF,
        // SF, ZF, and PF flags are undefined."
        Aaa | Aas => OF | SF | ZF | PF,

        // Vol. 2A "AAD—ASCII Adjust AX Before Division" and "AAM—ASCII Adjust AX
        // After Multiply": "The SF, ZF, and PF flags are set according to the
        // resulting binary value in the AL register; the OF, AF, and CF flags are
        // undefined." (AAM 0 raises #DE and changes nothing.)
        Aad | Aam => OF | AF | CF,

        // Vol. 2A "DAA—Decimal Adjust AL After Addition" and "DAS—Decimal Adjust AL
        // After Subtraction": "The CF and AF flags are set if the adjustment of the
        // value results in a decimal carry [borrow] in either digit of the result.
        // The SF, ZF, and PF flags are set according to the result. The OF flag is
        // undefined."
        Daa | Das => OF,

        // Vol. 2A "AND—Logical AND", Vol. 2B "OR—Logical Inclusive OR", Vol. 2B
        // "TEST—Logical Compare", Vol. 2C "XOR—Logical Exclusive OR": "The OF and CF
        // flags are cleared; the SF, ZF, and PF flags are set according to the
        // result. The state of the AF flag is undefined."
        And | Or | Xor | Test => AF,

        // Vol. 2B "SAL/SAR/SHL/SHR—Shift": "The CF flag contains the value of the
        // last bit shifted out of the destination operand; it is undefined for SHL
        // and SHR instructions where the count is greater than or equal to the size
        // (in bits) of the destination operand. The OF flag is affected only for
        // 1-bit shifts; otherwise, it is undefined. The SF, ZF, and PF flags are set
        // according to the result. If the count is 0, the flags are not affected. For
        // a non-zero count, the AF flag is undefined." The count is masked to 5 bits
        // ("COUNTMASK = 1FH" outside 64-bit mode).
        Shl | Sal | Shr | Sar => match count.map(|c| c & 0x1f) {
            Some(0) => 0,
            Some(1) => AF,
            Some(c) => {
                let cf = if insn.mnemonic() != Sar && c >= dest_bits(insn) { CF } else { 0 };
                AF | OF | cf
            }
            None => AF | OF | if insn.mnemonic() != Sar { CF } else { 0 },
        },

        // Vol. 2B "RCL/RCR/ROL/ROR—Rotate": "If the masked count is 0, the flags are
        // not affected. If the masked count is 1, then the OF flag is affected,
        // otherwise (masked count is greater than 1) the OF flag is undefined. The CF
        // flag is affected when the masked count is nonzero. The SF, ZF, AF, and PF
        // flags are always unaffected." The masked count is COUNT & 1FH, before the
        // MOD SIZE / MOD (SIZE+1) reduction.
        Rol | Ror | Rcl | Rcr => match count.map(|c| c & 0x1f) {
            Some(0 | 1) => 0,
            _ => OF,
        },

        // Vol. 2B "SHLD—Double Precision Shift Left" and "SHRD—Double Precision
        // Shift Right": "If the count is 1 or greater, the CF flag is filled with the
        // last bit shifted out of the destination operand and the SF, ZF, and PF
        // flags are set according to the value of the result. For a 1-bit shift, the
        // OF flag is set if a sign change occurred; otherwise, it is cleared. For
        // shifts greater than 1 bit, the OF flag is undefined. If a shift occurs, the
        // AF flag is undefined. If the count operand is 0, the flags are not
        // affected. If the count is greater than the operand size, the flags are
        // undefined." (Count masked to 5 bits, so only 16-bit operands can exceed.)
        Shld | Shrd => match count.map(|c| c & 0x1f) {
            Some(0) => 0,
            Some(c) if c > dest_bits(insn) => ALL6,
            Some(1) => AF,
            Some(_) => AF | OF,
            None => ALL6,
        },

        // Vol. 2B "MUL—Unsigned Multiply": "The OF and CF flags are set to 0 if the
        // upper half of the result is 0; otherwise, they are set to 1. The SF, ZF,
        // AF, and PF flags are undefined." Vol. 2A "IMUL—Signed Multiply" (all
        // three forms): "The SF, ZF, AF, and PF flags are undefined."
        Mul | Imul => SF | ZF | AF | PF,

        // Vol. 2A "DIV—Unsigned Divide" and "IDIV—Signed Divide": "The CF, OF, SF,
        // ZF, AF, and PF flags are undefined."
        Div | Idiv => ALL6,

        // Vol. 2A "BSF—Bit Scan Forward" and "BSR—Bit Scan Reverse": "The ZF flag is
        // set to 1 if the source operand is 0; otherwise, the ZF flag is cleared. The
        // CF, OF, SF, AF, and PF flags are undefined."
        //
        // F3 0F BC / F3 0F BD decode as TZCNT / LZCNT, but the i686 growsdown claims
        // (no BMI1, no LZCNT in CPUID) runs them as BSF / BSR with an ignored prefix
        // (Vol. 2B "TZCNT", "LZCNT"), and so does QEMU with that CPU model; gcc emits
        // `rep bsf` for __builtin_ctz. Same table entries.
        Bsf | Bsr | Tzcnt | Lzcnt => CF | OF | SF | AF | PF,

        // Vol. 2A "BT—Bit Test", "BTC—Bit Test and Complement", "BTR—Bit Test and
        // Reset", "BTS—Bit Test and Set": "The CF flag contains the value of the
        // selected bit [before it is changed]. The ZF flag is unaffected. The OF, SF,
        // AF, and PF flags are undefined."
        Bt | Btc | Btr | Bts => OF | SF | AF | PF,

        // Everything else the i686 we emulate runs defines every flag it writes
        // (ADD/ADC/SUB/SBB/CMP/NEG/INC/DEC, CMPXCHG, CMPXCHG8B, XADD, CMPS/SCAS,
        // SAHF, POPF, LAR/LSL/VERR/VERW, ARPL, FCOMI/FUCOMI...). MOV to/from CR/DR
        // also leave all six undefined (Vol. 2B "MOV—Move to/from Control
        // Registers") but fault at CPL 3, where difftest runs.
        _ => 0,
    }
}

/// A destination register whose value the SDM leaves undefined after `insn`: the
/// register's index in `Cpu::regs` order (EAX ECX EDX EBX ESP EBP ESI EDI) and the
/// bits of it that are undefined. `zf_after` is ZF after the instruction (BSF/BSR set
/// it exactly when the source was 0).
///
/// * Vol. 2A "BSF"/"BSR": "If the content of the source operand is 0, the content of
///   the destination operand is undefined."
/// * Vol. 2A "BSWAP": "When the BSWAP instruction references a 16-bit register, the
///   result is undefined."
/// * Vol. 2B "SHLD"/"SHRD": "If the count is greater than the operand size, the
///   result is undefined."
pub fn undefined_dest(insn: &Instruction, count: Option<u32>, zf_after: bool) -> Option<(usize, u32)> {
    use Mnemonic::*;
    if insn.op0_kind() != OpKind::Register {
        return None;
    }
    let r = insn.op0_register();
    let undefined = match insn.mnemonic() {
        Bsf | Bsr | Tzcnt | Lzcnt => zf_after,
        Bswap => r.size() == 2,
        Shld | Shrd => count.is_none_or(|c| (c & 0x1f) > dest_bits(insn)),
        _ => false,
    };
    if !undefined {
        return None;
    }
    let index = r.full_register32().number().checked_sub(Register::EAX.number())?;
    let bits = match r.size() {
        1 => 0xff, // no 8-bit case today, kept for completeness
        2 => 0xffff,
        _ => u32::MAX,
    };
    (index < 8).then_some((index, bits))
}

/// The x87 condition codes (a subset of C0 C1 C2 C3, as status-word bits) whose
/// value after `insn` the SDM leaves undefined; `c2_after` is C2 after the
/// instruction (FSIN/FCOS/FSINCOS/FPTAN leave C1 undefined when they set C2).
///
/// Source: SDM Vol. 1 §8.1.3.1, Table 8-1 "Condition Code Interpretation" (one row
/// per instruction group, quoted below), and the "FPU Flags Affected" section of
/// each instruction's page in Vol. 2, which says the same for every row here.
/// Where Vol. 1 and Vol. 2 differ (FCOMI: Vol. 1 "Undefined", Vol. 2 "Not
/// affected") the weaker word, undefined, is used. Instructions that are not x87
/// instructions leave the condition codes alone and are not listed.
/// Where qemu-i386 7.2 is known to be wrong and the host CPU agrees with growsdown
/// (docs/difftest.md, "Cases where QEMU itself is wrong"; guest image `x87-qemu`,
/// `crates/cli/tests/difftest_qemu_wrong.rs`): the EFLAGS bits and x87 condition
/// codes that, against QEMU, are taken from QEMU instead of compared, unless
/// `--strict`. Without this any program that divides in floating point stops
/// against QEMU at its first rounded-up result.
///
/// * FCOMI, FCOMIP, FUCOMI, FUCOMIP: QEMU leaves OF, SF and AF as they were; Vol. 2
///   "FCOMI/FCOMIP/FUCOMI/FUCOMIP" clears them ("The OF, SF, and AF flags are
///   cleared").
/// * The arithmetic instructions whose C1 means "Roundup" (Vol. 1 Table 8-1): QEMU
///   never sets C1 for a result rounded up.
pub fn qemu_errata(insn: &Instruction) -> (u32, u16) {
    use growsdown_cpu::flags::{AF, OF, SF};
    use growsdown_cpu::fpu::SW_C1;
    use Mnemonic::*;
    match insn.mnemonic() {
        Fcomi | Fcomip | Fucomi | Fucomip => (OF | SF | AF, 0),
        F2xm1 | Fadd | Faddp | Fbstp | Fiadd | Fdiv | Fdivp | Fdivr | Fdivrp | Fidiv | Fidivr | Fimul
        | Fist | Fistp | Fisttp | Fisub | Fisubr | Fmul | Fmulp | Fpatan | Frndint | Fscale | Fst | Fstp
        | Fsub | Fsubp | Fsubr | Fsubrp | Fsqrt | Fyl2x | Fyl2xp1 | Fsin | Fcos | Fsincos | Fptan => {
            (0, SW_C1)
        }
        _ => (0, 0),
    }
}

pub fn undefined_fpu_cc(insn: &Instruction, c2_after: bool) -> u16 {
    use growsdown_cpu::fpu::{SW_C0, SW_C1, SW_C2, SW_C3};
    use Mnemonic::*;
    const C023: u16 = SW_C0 | SW_C2 | SW_C3;
    const ALL: u16 = SW_C0 | SW_C1 | SW_C2 | SW_C3;
    match insn.mnemonic() {
        // Table 8-1, "FCOM, FCOMP, FCOMPP, FICOM, FICOMP, FTST, FUCOM, FUCOMP,
        // FUCOMPP": C0 C3 C2 "Result of Comparison" / "Operands are not
        // Comparable", C1 "0 or #IS"; "FXAM": "Operand class", C1 "Sign";
        // "FPREM, FPREM1": "Q2 Q1 0=reduction complete 1=reduction incomplete Q0 or
        // #IS"; "FINIT/FNINIT, FSAVE/FNSAVE": "0 0 0 0"; "FLDENV, FRSTOR": "Each bit
        // loaded from memory" (FXRSTOR likewise, Vol. 2 "FXRSTOR"). All defined.
        Fcom | Fcomp | Fcompp | Ficom | Ficomp | Ftst | Fucom | Fucomp | Fucompp | Fxam | Fprem | Fprem1
        | Finit | Fninit | Fsave | Fnsave | Fldenv | Frstor | Fxrstor => 0,

        // Table 8-1, "FCOMI, FCOMIP, FUCOMI, FUCOMIP": C0 C3 C2 "Undefined. (These
        // instructions set the status flags in the EFLAGS register.)", C1 "#IS"
        // (Vol. 2 "FCOMI/FCOMIP/FUCOMI/FUCOMIP": "C1 Set to 0. C0, C2, C3 Not
        // affected.").
        Fcomi | Fcomip | Fucomi | Fucomip => C023,

        // Table 8-1, "F2XM1, FADD, FADDP, FBSTP, FCMOVcc, FIADD, FDIV, FDIVP, FDIVR,
        // FDIVRP, FIDIV, FIDIVR, FIMUL, FIST, FISTP, FISUB, FISUBR, FMUL, FMULP,
        // FPATAN, FRNDINT, FSCALE, FST, FSTP, FSUB, FSUBP, FSUBR, FSUBRP, FSQRT,
        // FYL2X, FYL2XP1": C0 C3 C2 "Undefined", C1 "Roundup or #IS". FISTTP (SSE3)
        // as FISTP (Vol. 2 "FISTTP": "C0, C2, C3 Undefined").
        F2xm1 | Fadd | Faddp | Fbstp | Fcmovb | Fcmove | Fcmovbe | Fcmovu | Fcmovnb | Fcmovne | Fcmovnbe
        | Fcmovnu | Fiadd | Fdiv | Fdivp | Fdivr | Fdivrp | Fidiv | Fidivr | Fimul | Fist | Fistp
        | Fisttp | Fisub | Fisubr | Fmul | Fmulp | Fpatan | Frndint | Fscale | Fst | Fstp | Fsub | Fsubp
        | Fsubr | Fsubrp | Fsqrt | Fyl2x | Fyl2xp1 => C023,

        // Table 8-1, "FCOS, FSIN, FSINCOS, FPTAN": C0 C3 "Undefined", C2 "1=source
        // operand out of range", C1 "Roundup or #IS (Undefined if C2=1)".
        Fcos | Fsin | Fsincos | Fptan => {
            if c2_after {
                SW_C0 | SW_C1 | SW_C3
            } else {
                SW_C0 | SW_C3
            }
        }

        // Table 8-1, "FABS, FBLD, FCHS, FDECSTP, FILD, FINCSTP, FLD, Load Constants,
        // FSTP (ext. real), FXCH, FXTRACT": C0 C3 C2 "Undefined", C1 "0 or #IS".
        Fabs | Fbld | Fchs | Fdecstp | Fild | Fincstp | Fld | Fld1 | Fldl2t | Fldl2e | Fldpi | Fldlg2
        | Fldln2 | Fldz | Fxch | Fxtract => C023,

        // Table 8-1, "FFREE, FLDCW, FCLEX/FNCLEX, FNOP, FSTCW/FNSTCW,
        // FSTENV/FNSTENV, FSTSW/FNSTSW": C0 C3 C2 C1 "Undefined". Vol. 2
        // "WAIT/FWAIT": "The C0, C1, C2, and C3 flags are undefined." FFREEP
        // (undocumented DF /0 form of FFREE + pop) as FFREE.
        Ffree | Ffreep | Fldcw | Fclex | Fnclex | Fnop | Fstcw | Fnstcw | Fstenv | Fnstenv | Fstsw
        | Fnstsw | Wait => ALL,

        _ => 0,
    }
}

/// Names of the set arithmetic flags in `mask`, for reports ("CF ZF").
pub fn flag_names(mask: u32) -> String {
    const NAMES: [(u32, &str); 12] = [
        (CF, "CF"),
        (PF, "PF"),
        (AF, "AF"),
        (ZF, "ZF"),
        (SF, "SF"),
        (growsdown_cpu::flags::TF, "TF"),
        (growsdown_cpu::flags::IF, "IF"),
        (growsdown_cpu::flags::DF, "DF"),
        (OF, "OF"),
        (growsdown_cpu::flags::NT, "NT"),
        (growsdown_cpu::flags::AC, "AC"),
        (growsdown_cpu::flags::ID, "ID"),
    ];
    let v: Vec<&str> = NAMES.iter().filter(|(b, _)| mask & b != 0).map(|(_, n)| *n).collect();
    v.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use growsdown_decoder::decode_one;

    fn insn(bytes: &[u8]) -> Instruction {
        decode_one(bytes, 0x1000).unwrap()
    }

    fn mask(bytes: &[u8], ecx: u32) -> u32 {
        let i = insn(bytes);
        undefined_mask(&i, count_operand(&i, ecx))
    }

    #[test]
    fn logic_leaves_af_undefined() {
        assert_eq!(mask(&[0x21, 0xd8], 0), AF); // and eax, ebx
        assert_eq!(mask(&[0x0c, 0x01], 0), AF); // or al, 1
        assert_eq!(mask(&[0x31, 0xc0], 0), AF); // xor eax, eax
        assert_eq!(mask(&[0x85, 0xc0], 0), AF); // test eax, eax
        assert_eq!(mask(&[0x01, 0xd8], 0), 0); // add eax, ebx: all defined
        assert_eq!(mask(&[0x40], 0), 0); // inc eax
    }

    #[test]
    fn shifts_depend_on_count() {
        assert_eq!(mask(&[0xd1, 0xe0], 0), AF); // shl eax, 1
        assert_eq!(mask(&[0xc1, 0xe0, 0x03], 0), AF | OF); // shl eax, 3
        assert_eq!(mask(&[0xc1, 0xe0, 0x00], 0), 0); // shl eax, 0: flags unaffected
        assert_eq!(mask(&[0xc1, 0xe0, 0x20], 0), 0); // count 32 masks to 0
        assert_eq!(mask(&[0xd3, 0xe0], 0x21), AF); // shl eax, cl with cl = 33 → 1
        assert_eq!(mask(&[0xd3, 0xe0], 0x1100), 0); // only CL counts: 0
                                                    // 8-bit SHL/SHR by ≥ 8: CF undefined too; SAR keeps CF (sign bit) defined.
        assert_eq!(mask(&[0xc0, 0xe0, 0x09], 0), AF | OF | CF); // shl al, 9
        assert_eq!(mask(&[0xc0, 0xe8, 0x08], 0), AF | OF | CF); // shr al, 8
        assert_eq!(mask(&[0xc0, 0xf8, 0x09], 0), AF | OF); // sar al, 9
        assert_eq!(mask(&[0xc1, 0xe0, 0x1f], 0), AF | OF); // shl eax, 31: CF defined
                                                           // Unknown count: conservative.
        let i = insn(&[0xd3, 0xe0]);
        assert_eq!(undefined_mask(&i, None), AF | OF | CF);
    }

    #[test]
    fn rotates_leave_of_undefined_beyond_one() {
        assert_eq!(mask(&[0xd1, 0xc0], 0), 0); // rol eax, 1
        assert_eq!(mask(&[0xc1, 0xc8, 0x02], 0), OF); // ror eax, 2
        assert_eq!(mask(&[0xd3, 0xd0], 0x21), 0); // rcl eax, cl (33 → 1)
        assert_eq!(mask(&[0xc0, 0xd8, 0x09], 0), OF); // rcr al, 9 (masked 9 ≠ 1)
        assert_eq!(mask(&[0xc0, 0xc0, 0x00], 0), 0); // rol al, 0
    }

    #[test]
    fn double_shifts() {
        assert_eq!(mask(&[0x0f, 0xa4, 0xd8, 0x01], 0), AF); // shld eax, ebx, 1
        assert_eq!(mask(&[0x0f, 0xac, 0xd8, 0x04], 0), AF | OF); // shrd eax, ebx, 4
        assert_eq!(mask(&[0x0f, 0xa5, 0xd8], 0), 0); // shld eax, ebx, cl; cl = 0
        assert_eq!(mask(&[0x66, 0x0f, 0xa4, 0xd8, 0x14], 0), ALL6); // 16-bit, count 20
        assert_eq!(mask(&[0x66, 0x0f, 0xa4, 0xd8, 0x10], 0), AF | OF); // 16-bit, count 16
        let i = insn(&[0x66, 0x0f, 0xa4, 0xd8, 0x14]);
        assert_eq!(undefined_dest(&i, Some(20), false), Some((0, 0xffff)));
        assert_eq!(undefined_dest(&i, Some(16), false), None);
    }

    #[test]
    fn multiply_divide() {
        assert_eq!(mask(&[0xf7, 0xe3], 0), SF | ZF | AF | PF); // mul ebx
        assert_eq!(mask(&[0x0f, 0xaf, 0xc3], 0), SF | ZF | AF | PF); // imul eax, ebx
        assert_eq!(mask(&[0x6b, 0xc3, 0x05], 0), SF | ZF | AF | PF); // imul eax, ebx, 5
        assert_eq!(mask(&[0xf6, 0xf3], 0), ALL6); // div bl
        assert_eq!(mask(&[0xf7, 0xfb], 0), ALL6); // idiv ebx
    }

    #[test]
    fn bit_scans_and_tests() {
        assert_eq!(mask(&[0x0f, 0xbc, 0xc3], 0), CF | OF | SF | AF | PF); // bsf eax, ebx
        assert_eq!(mask(&[0x0f, 0xbd, 0xc3], 0), CF | OF | SF | AF | PF); // bsr eax, ebx
        assert_eq!(mask(&[0x0f, 0xa3, 0xd8], 0), OF | SF | AF | PF); // bt eax, ebx
        assert_eq!(mask(&[0x0f, 0xba, 0xe8, 0x03], 0), OF | SF | AF | PF); // bts eax, 3
        assert_eq!(mask(&[0x0f, 0xb3, 0xd8], 0), OF | SF | AF | PF); // btr eax, ebx
        assert_eq!(mask(&[0x0f, 0xbb, 0xd8], 0), OF | SF | AF | PF); // btc eax, ebx
        let bsf = insn(&[0x0f, 0xbc, 0xc3]);
        assert_eq!(undefined_dest(&bsf, None, true), Some((0, u32::MAX)));
        assert_eq!(undefined_dest(&bsf, None, false), None);
        let bsr16 = insn(&[0x66, 0x0f, 0xbd, 0xca]); // bsr cx, dx
        assert_eq!(undefined_dest(&bsr16, None, true), Some((1, 0xffff)));
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
        let i = insn(&[0x66, 0x0f, 0xcb]); // bswap bx
        assert_eq!(undefined_dest(&i, None, false), Some((3, 0xffff)));
        let i = insn(&[0x0f, 0xcb]); // bswap ebx
        assert_eq!(undefined_dest(&i, None, false), None);
    }

    #[test]
    fn x87_condition_codes() {
        use growsdown_cpu::fpu::{SW_C0, SW_C1, SW_C2, SW_C3};
        let cc = |b: &[u8], c2: bool| undefined_fpu_cc(&insn(b), c2);
        assert_eq!(cc(&[0xd9, 0xe8], false), SW_C0 | SW_C2 | SW_C3); // fld1
        assert_eq!(cc(&[0xde, 0xc1], false), SW_C0 | SW_C2 | SW_C3); // faddp
        assert_eq!(cc(&[0xd8, 0xd1], false), 0); // fcom st(1)
        assert_eq!(cc(&[0xd9, 0xe5], false), 0); // fxam
        assert_eq!(cc(&[0xd9, 0xf8], false), 0); // fprem
        assert_eq!(cc(&[0xdb, 0xe3], false), 0); // fninit
        assert_eq!(cc(&[0xd9, 0xfe], false), SW_C0 | SW_C3); // fsin
        assert_eq!(cc(&[0xd9, 0xfe], true), SW_C0 | SW_C1 | SW_C3); // fsin, out of range
        assert_eq!(cc(&[0xdf, 0xe0], false), SW_C0 | SW_C1 | SW_C2 | SW_C3); // fnstsw ax
        assert_eq!(cc(&[0xd9, 0x2b], false), SW_C0 | SW_C1 | SW_C2 | SW_C3); // fldcw [ebx]
        assert_eq!(cc(&[0xdb, 0xe9], false), SW_C0 | SW_C2 | SW_C3); // fucomi st(1)
        assert_eq!(cc(&[0x01, 0xd8], false), 0); // add eax, ebx
    }

    #[test]
    fn names() {
        assert_eq!(flag_names(CF | ZF | OF), "CF ZF OF");
        assert_eq!(flag_names(0), "");
    }
}
