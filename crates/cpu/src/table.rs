//! The dispatch table: iced-x86 `Code` → handler.
//!
//! Each instruction family module registers its handlers in `register`, listing the
//! iced `Code`s it implements by name, so the table can be checked for gaps (see the
//! `coverage` test) and a reader finds an instruction's semantics from its `Code`.
//! Codes without a handler raise #UD, which the kernel turns into SIGILL.
//!
//! A `Code` may also register a *form selector*: at lowering it looks at the micro-op
//! (its operand form, condition code, ...) and may return a handler specialised for
//! it; the registered handler remains the one that works for every form.

use std::sync::OnceLock;

pub use iced_x86::Code;

use crate::exception::Exception;
use crate::state::Cpu;
pub use crate::uop::Handler;
use crate::uop::Uop;

/// Picks a specialised handler for a lowered instruction, or `None` for the generic one.
pub type Select = fn(&Uop) -> Option<Handler>;

pub struct Table {
    handlers: Vec<Option<Handler>>,
    selects: Vec<Option<Select>>,
}

/// Registers one generic handler for a list of codes:
/// `handlers!(t, arith::inc::<u8> => Inc_rm8);`
#[macro_export]
#[doc(hidden)]
macro_rules! handlers {
    ($t:expr, $f:expr => $($code:ident),+ $(,)?) => {
        $( $t.set($crate::table::Code::$code, $f); )+
    };
}

/// Registers a form selector for a list of codes (see [`Select`]).
#[macro_export]
#[doc(hidden)]
macro_rules! selects {
    ($t:expr, $f:expr => $($code:ident),+ $(,)?) => {
        $( $t.set_select($crate::table::Code::$code, $f); )+
    };
}

/// Registers a handler and a form selector for the same list of codes.
#[macro_export]
#[doc(hidden)]
macro_rules! forms {
    ($t:expr, $f:expr, $s:expr => $($code:ident),+ $(,)?) => {
        $crate::handlers!($t, $f => $($code),+);
        $crate::selects!($t, $s => $($code),+);
    };
}

/// Registers a [`crate::operand::BinOp`] for a list of codes: the any-form handler and
/// its form selector.
#[macro_export]
#[doc(hidden)]
macro_rules! binops {
    ($t:expr, $ty:ty, $op:ty => $($code:ident),+ $(,)?) => {
        $crate::handlers!($t, $crate::operand::binop::<$ty, $op> => $($code),+);
        $crate::selects!($t, $crate::operand::binop_form::<$ty, $op> => $($code),+);
    };
}

impl Table {
    fn new() -> Self {
        Self { handlers: vec![None; Code::values().len()], selects: vec![None; Code::values().len()] }
    }

    pub fn set(&mut self, code: Code, h: Handler) {
        self.handlers[code as usize] = Some(h);
    }

    pub fn get(&self, code: Code) -> Option<Handler> {
        self.handlers[code as usize]
    }

    pub fn set_select(&mut self, code: Code, s: Select) {
        self.selects[code as usize] = Some(s);
    }
}

fn build() -> Table {
    let mut t = Table::new();
    crate::ops::register_all(&mut t);
    t
}

pub fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(build)
}

fn undefined(_: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    log::debug!(target: "cpu::decode", "no handler for {:?} at {:#010x}", insn.code(), insn.ip32());
    Err(Exception::InvalidOpcode)
}

/// The handler for a decoded instruction; #UD if none is registered.
#[inline]
pub fn handler_for(code: Code) -> Handler {
    table().get(code).unwrap_or(undefined)
}

/// Lowers a decoded instruction into a micro-op with the best handler for its form.
/// `known` is the lazy flag state the instruction before it in the block leaves
/// ([`Uop::flags_left`]); returns the micro-op and the state it leaves. `flat` says
/// that DS, ES and SS are flat ([`crate::uop::FLAT`]).
pub fn lower(insn: &iced_x86::Instruction, known: u8, flat: bool) -> (Uop, u8) {
    let t = table();
    let code = insn.code();
    let mut u = Uop::lower(insn, t.get(code).unwrap_or(undefined));
    u.known = known;
    // `flat`: DS, ES and SS are flat now, and the block will be dropped if they stop
    // being so (`Cpu::check_flat_segments`).
    if flat {
        u.flags |= crate::uop::FLAT;
    }
    if let Some(special) = t.selects[code as usize].and_then(|s| s(&u)) {
        u.exec = special;
    }
    // iced's flag tables say which instructions leave EFLAGS' arithmetic bits alone.
    let arith = iced_x86::RflagsBits::OF
        | iced_x86::RflagsBits::SF
        | iced_x86::RflagsBits::ZF
        | iced_x86::RflagsBits::AF
        | iced_x86::RflagsBits::CF
        | iced_x86::RflagsBits::PF;
    let touches = (insn.rflags_read() | insn.rflags_modified()) & arith != 0;
    let width = match insn.op0_kind() {
        iced_x86::OpKind::Register => insn.op0_register().size(),
        _ => insn.memory_size().size(),
    };
    let left = u.flags_left(touches, width);
    (u, left)
}

/// Whether `code` has a handler (for gap reports).
pub fn implemented(code: Code) -> bool {
    table().get(code).is_some()
}
