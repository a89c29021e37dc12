//! The dispatch table checked for gaps: every instruction a CPL-3 program may execute
//! on the processor our CPUID describes (8086..486 integer instructions, the x87, CMOV,
//! CX8, RDTSC, CPUID, multi-byte NOP, MMX, FXSR, SSE, SSE2, SSE3, SSSE3, CLFLUSH) must
//! have a handler, apart from the
//! named gaps below. A new handler for a listed gap, or a new gap, fails this test, so
//! the list always says exactly what is missing.

use growsdown_cpu::table::implemented;
use iced_x86::{Code, CpuidFeature as F, EncodingKind};

/// Features our CPUID claims (crates/cpu/src/cpuid.rs), as iced names them.
const CLAIMED: &[F] = &[
    F::INTEL8086,
    F::INTEL186,
    F::INTEL286,
    F::INTEL386,
    F::INTEL486,
    F::FPU,
    F::FPU287,
    F::FPU387,
    F::CMOV,
    F::CX8,
    F::TSC,
    F::CPUID,
    F::MULTIBYTENOP,
    F::PAUSE,
    F::MMX,
    F::FXSR,
    F::SSE,
    F::SSE2,
    F::SSE3,
    F::SSSE3,
    F::CLFSH,
];

/// Known gaps, each with why it is acceptable for now. They raise #UD (SIGILL).
const GAPS: &[(Code, &str)] = &[];

fn claimed(code: Code) -> bool {
    let feats = code.cpuid_features();
    !feats.is_empty() && feats.iter().all(|f| CLAIMED.contains(f))
}

#[test]
fn every_user_mode_instruction_of_an_i686_has_a_handler() {
    let mut missing = Vec::new();
    let mut covered = 0;
    for code in Code::values() {
        let op = code.op_code();
        if !op.is_instruction() || !op.mode32() || code.encoding() != EncodingKind::Legacy || !op.cpl3() {
            continue;
        }
        if !claimed(code) {
            continue;
        }
        let gap = GAPS.iter().find(|(c, _)| *c == code);
        match (implemented(code), gap) {
            (true, None) => covered += 1,
            (false, Some(_)) => {}
            (true, Some((c, _))) => missing.push(format!("{c:?} is implemented now: remove it from GAPS")),
            (false, None) => missing.push(format!("{code:?} ({})", op.instruction_string())),
        }
    }
    eprintln!("{covered} user-mode i686 instruction forms implemented, {} listed gaps", GAPS.len());
    assert!(missing.is_empty(), "{} gaps:\n{}", missing.len(), missing.join("\n"));
}
