//! MMX, SSE, SSE2, SSE3 and SSSE3, one module per family; the register files and
//! vector operands they share are in [`crate::simd`].
//!
//! * `state` — MXCSR, FXSAVE/FXRSTOR, EMMS, fences, prefetches and cache control;
//! * `int` — packed integer arithmetic, logic, compares and shifts, for MMX and XMM
//!   registers alike (generic over the register width);
//! * `mov` — moves, shuffles, unpacks, packs, inserts and extracts, MOVMSK;
//! * `float` — packed and scalar single/double arithmetic, compares and conversions,
//!   with MXCSR's rounding, flags, DAZ/FZ and #XM.

pub mod float;
pub mod int;
pub mod mov;
pub mod state;

use crate::table::Table;

pub(crate) fn register(t: &mut Table) {
    float::register(t);
    int::register(t);
    mov::register(t);
    state::register(t);
}
