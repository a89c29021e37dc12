//! CPUID: the processor we claim to be.
//!
//! Only what is implemented is reported (static glibc picks string routines and
//! IFUNCs from these bits, so a claimed feature *will* be used): a family-6 Intel
//! part with the user-mode instruction sets of a Core 2 "Merom" — x87, CMOV, CX8,
//! TSC, MMX, FXSR, SSE, SSE2, SSE3, SSSE3, CLFLUSH — and the paging features the
//! paging unit has (PSE, PGE). No SSE4, no AVX, no XSAVE: growsdown does not
//! implement them, so glibc never picks code that uses them.

pub const FEAT_FPU: u32 = 1 << 0;
pub const FEAT_PSE: u32 = 1 << 3;
pub const FEAT_TSC: u32 = 1 << 4;
pub const FEAT_CX8: u32 = 1 << 8;
pub const FEAT_PGE: u32 = 1 << 13;
pub const FEAT_CMOV: u32 = 1 << 15;
pub const FEAT_CLFSH: u32 = 1 << 19;
pub const FEAT_MMX: u32 = 1 << 23;
pub const FEAT_FXSR: u32 = 1 << 24;
pub const FEAT_SSE: u32 = 1 << 25;
pub const FEAT_SSE2: u32 = 1 << 26;

/// CPUID.1:ECX bits.
pub const FEAT_SSE3: u32 = 1 << 0;
pub const FEAT_SSSE3: u32 = 1 << 9;

/// CPUID.1:EDX, also the value of AT_HWCAP.
pub const FEATURES_EDX: u32 = FEAT_FPU
    | FEAT_PSE
    | FEAT_TSC
    | FEAT_CX8
    | FEAT_PGE
    | FEAT_CMOV
    | FEAT_CLFSH
    | FEAT_MMX
    | FEAT_FXSR
    | FEAT_SSE
    | FEAT_SSE2;
/// CPUID.1:ECX.
pub const FEATURES_ECX: u32 = FEAT_SSE3 | FEAT_SSSE3;
/// CPUID.1:EBX: the CLFLUSH line size in 8-byte units (bits 15:8), 64 bytes.
pub const LEAF1_EBX: u32 = 8 << 8;
/// Family 6, model 15, stepping 11 (a Core 2 Merom signature: SSSE3, no SSE4).
pub const SIGNATURE: u32 = (6 << 8) | (15 << 4) | 11;
pub const VENDOR: &[u8; 12] = b"GenuineIntel";

/// EAX, EBX, ECX, EDX for leaf `eax` (sub-leaf `ecx`).
pub fn cpuid(eax: u32, _ecx: u32) -> [u32; 4] {
    let word = |i: usize| u32::from_le_bytes([VENDOR[i], VENDOR[i + 1], VENDOR[i + 2], VENDOR[i + 3]]);
    match eax {
        0 => [1, word(0), word(8), word(4)],
        1 => [SIGNATURE, LEAF1_EBX, FEATURES_ECX, FEATURES_EDX],
        0x8000_0000 => [0x8000_0000, 0, 0, 0],
        // Leaves above the maximum return the highest basic leaf's data on Intel
        // parts (SDM Vol. 2 CPUID, "If a value entered ... is higher than the maximum").
        _ => [SIGNATURE, LEAF1_EBX, FEATURES_ECX, FEATURES_EDX],
    }
}
