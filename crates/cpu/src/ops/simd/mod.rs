//! MMX, SSE, SSE2, SSE3 and SSSE3, one module per family; the register files and
//! vector operands they share are in [`crate::simd`].
//!
//! * `state` — MXCSR, FXSAVE/FXRSTOR, EMMS, fences, prefetches and cache control;
//! * `int` — packed integer arithmetic, logic, compares and shifts, for MMX and XMM
//!   registers alike (generic over the register width);
//! * `mov` — moves, shuffles, unpacks, packs, inserts and extracts, MOVMSK;
//! * `float` — packed and scalar single/double arithmetic, compares and conversions,
//!   with MXCSR's rounding, flags, DAZ/FZ and #XM;
//! * `convert` — conversions between single, double and 32-bit integers (XMM, MMX
//!   and general registers);
//! * `host` — the host's own SSE instructions under a guest MXCSR, which `float`
//!   and `convert` run (x86_64 hosts only).

pub mod convert;
pub mod float;
mod host;
pub mod int;
pub mod mov;
pub mod state;

use crate::table::Table;

pub(crate) fn register(t: &mut Table) {
    convert::register(t);
    float::register(t);
    int::register(t);
    mov::register(t);
    state::register(t);
}
