//! The difftest side of the SDM's undefined state. The rules themselves — which
//! EFLAGS bits, destinations and x87 condition codes the Intel SDM leaves undefined
//! after each instruction — live in [`growsdown_cpu::spec`]; this module adds what only
//! difftest needs: where an undefined destination sits in a snapshot
//! ([`undefined_dest`]), QEMU's known errata ([`qemu_errata`]) and flag names for
//! reports.

use growsdown_cpu::flags::{AF, CF, OF, PF, SF, ZF};
use growsdown_cpu::spec::eflags::Undefined;
use growsdown_decoder::{Instruction, Mnemonic, OpKind, Register};

/// The destination register of `insn` when `undefined` (from
/// [`growsdown_cpu::spec::eflags::undefined`]) says its result is undefined: the
/// register's index in `Cpu::regs` order (EAX ECX EDX EBX ESP EBP ESI EDI) and the
/// bits of it that are undefined. `None` for a memory destination (memory is not
/// compared) and when the result is defined.
pub fn undefined_dest(insn: &Instruction, undefined: Undefined) -> Option<(usize, u32)> {
    if !undefined.result || insn.op0_kind() != OpKind::Register {
        return None;
    }
    let r = insn.op0_register();
    let index = r.full_register32().number().checked_sub(Register::EAX.number())?;
    let bits = match r.size() {
        1 => 0xff, // no 8-bit case today, kept for completeness
        2 => 0xffff,
        _ => u32::MAX,
    };
    (index < 8).then_some((index, bits))
}

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
    use growsdown_cpu::spec::eflags::{count_operand, undefined};
    use growsdown_decoder::decode_one;

    fn insn(bytes: &[u8]) -> Instruction {
        decode_one(bytes, 0x1000).unwrap()
    }

    /// [`undefined_dest`] as `state.rs` calls it: ZF after the instruction stands for
    /// "the source was zero".
    fn dest(bytes: &[u8], ecx: u32, zf_after: bool) -> Option<(usize, u32)> {
        let i = insn(bytes);
        undefined_dest(&i, undefined(&i, count_operand(&i, ecx), zf_after))
    }

    #[test]
    fn undefined_destinations() {
        let shld16 = [0x66, 0x0f, 0xa4, 0xd8, 0x14]; // shld ax, bx, 20
        assert_eq!(dest(&shld16, 0, false), Some((0, 0xffff)));
        assert_eq!(dest(&[0x66, 0x0f, 0xa4, 0xd8, 0x10], 0, false), None); // count 16
        assert_eq!(dest(&[0x0f, 0xbc, 0xc3], 0, true), Some((0, u32::MAX))); // bsf eax, ebx
        assert_eq!(dest(&[0x0f, 0xbc, 0xc3], 0, false), None);
        assert_eq!(dest(&[0x66, 0x0f, 0xbd, 0xca], 0, true), Some((1, 0xffff))); // bsr cx, dx
        assert_eq!(dest(&[0x66, 0x0f, 0xcb], 0, false), Some((3, 0xffff))); // bswap bx
        assert_eq!(dest(&[0x0f, 0xcb], 0, false), None); // bswap ebx
        assert_eq!(dest(&[0x0f, 0xbc, 0x03], 0, true), Some((0, u32::MAX))); // bsf eax, [ebx]
        assert_eq!(dest(&[0x66, 0x0f, 0xa5, 0x1b], 20, false), None); // shld [ebx], bx, cl: memory
    }

    #[test]
    fn errata() {
        use growsdown_cpu::fpu::SW_C1;
        assert_eq!(qemu_errata(&insn(&[0xdb, 0xe9])), (OF | SF | AF, 0)); // fucomi st(1)
        assert_eq!(qemu_errata(&insn(&[0xde, 0xc1])), (0, SW_C1)); // faddp
        assert_eq!(qemu_errata(&insn(&[0x01, 0xd8])), (0, 0)); // add eax, ebx
    }

    #[test]
    fn names() {
        assert_eq!(flag_names(CF | ZF | OF), "CF ZF OF");
        assert_eq!(flag_names(0), "");
    }
}
