//! CPUID: the processor we claim to be.
//!
//! Only what is implemented is reported (static glibc picks string routines and
//! IFUNCs from these bits, so a claimed feature *will* be used): an i686 (Pentium Pro
//! family 6) with FPU, PSE, TSC, CX8, PGE and CMOV. No MMX/SSE until they exist.

pub const FEAT_FPU: u32 = 1 << 0;
pub const FEAT_PSE: u32 = 1 << 3;
pub const FEAT_TSC: u32 = 1 << 4;
pub const FEAT_CX8: u32 = 1 << 8;
pub const FEAT_PGE: u32 = 1 << 13;
pub const FEAT_CMOV: u32 = 1 << 15;

/// CPUID.1:EDX, also the value of AT_HWCAP.
pub const FEATURES_EDX: u32 = FEAT_FPU | FEAT_PSE | FEAT_TSC | FEAT_CX8 | FEAT_PGE | FEAT_CMOV;
/// Family 6, model 1, stepping 9 (a Pentium Pro signature).
pub const SIGNATURE: u32 = (6 << 8) | (1 << 4) | 9;
pub const VENDOR: &[u8; 12] = b"GenuineIntel";

/// EAX, EBX, ECX, EDX for leaf `eax` (sub-leaf `ecx`).
pub fn cpuid(eax: u32, _ecx: u32) -> [u32; 4] {
    let word = |i: usize| u32::from_le_bytes([VENDOR[i], VENDOR[i + 1], VENDOR[i + 2], VENDOR[i + 3]]);
    match eax {
        0 => [1, word(0), word(8), word(4)],
        1 => [SIGNATURE, 0, 0, FEATURES_EDX],
        0x8000_0000 => [0x8000_0000, 0, 0, 0],
        // Leaves above the maximum return the highest basic leaf's data on Intel
        // parts (SDM Vol. 2 CPUID, "If a value entered ... is higher than the maximum").
        _ => [SIGNATURE, 0, 0, FEATURES_EDX],
    }
}
