//! Instruction semantics, one module per family. Each module has a `register`
//! function that lists, by iced `Code`, what it implements.

pub mod arith;
pub mod bcd;
pub mod bits;
pub mod control;
pub mod logic;
pub mod mov;
pub mod muldiv;
pub mod segment;
pub mod shift;
pub mod simd;
pub mod stack;
pub mod string;
pub mod system;
pub mod x87;

use crate::table::Table;

pub(crate) fn register_all(t: &mut Table) {
    arith::register(t);
    bcd::register(t);
    bits::register(t);
    control::register(t);
    logic::register(t);
    mov::register(t);
    muldiv::register(t);
    segment::register(t);
    shift::register(t);
    simd::register(t);
    stack::register(t);
    string::register(t);
    system::register(t);
    x87::register(t);
}
