//! growsdown's own messages on standard error: the kill line, `--stats`, errors.
//!
//! They must not change how growsdown ends. `eprintln!` panics when the write fails,
//! and with `growsdown run prog 2>&1 | head` it does: once `head` has gone, stderr is a
//! broken pipe (EPIPE: Rust ignores SIGPIPE, so the write returns the error) and the
//! panic would turn the guest's exit status into 101. A message that cannot be written
//! is dropped instead. (A closed descriptor 2 cannot happen: the Rust runtime opens
//! /dev/null on a closed 0, 1 or 2 before `main`.) The logger, env_logger, drops
//! failed writes itself.

/// `eprintln!` that drops the message when standard error cannot be written.
macro_rules! report {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
pub(crate) use report;
