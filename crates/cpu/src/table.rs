//! The dispatch table: iced-x86 `Code` → handler.
//!
//! Each instruction family module registers its handlers in `register`, listing the
//! iced `Code`s it implements by name, so the table can be checked for gaps (see the
//! `coverage` test) and a reader finds an instruction's semantics from its `Code`.
//! Codes without a handler raise #UD, which the kernel turns into SIGILL.

use std::sync::OnceLock;

pub use iced_x86::Code;

use crate::exception::Exception;
use crate::state::Cpu;
pub use crate::uop::Handler;
use crate::uop::Uop;

pub struct Table {
    handlers: Vec<Option<Handler>>,
}

/// Registers one generic handler for a list of codes:
/// `handlers!(t, arith::add::<u8> => Add_rm8_r8, Add_r8_rm8, Add_AL_imm8);`
#[macro_export]
#[doc(hidden)]
macro_rules! handlers {
    ($t:expr, $f:expr => $($code:ident),+ $(,)?) => {
        $( $t.set($crate::table::Code::$code, $f); )+
    };
}

impl Table {
    fn new() -> Self {
        Self { handlers: vec![None; Code::values().len()] }
    }

    pub fn set(&mut self, code: Code, h: Handler) {
        self.handlers[code as usize] = Some(h);
    }

    pub fn get(&self, code: Code) -> Option<Handler> {
        self.handlers[code as usize]
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

/// Whether `code` has a handler (for gap reports).
pub fn implemented(code: Code) -> bool {
    table().get(code).is_some()
}
