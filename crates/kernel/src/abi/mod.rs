//! The guest's ABI structures, declared once as types with the field names of the
//! Linux i386 headers, so the kernel builds a value and copies `as_bytes()` out
//! (or reads one with `read_from_bytes`) instead of poking literal byte offsets.
//!
//! Every struct is `#[repr(C)]` with explicit padding fields: zerocopy's
//! `IntoBytes` derive refuses a type with implicit padding, and each struct carries
//! a compile-time size assertion taken from the i386 ABI (plus offset assertions
//! where the layout is subtle), so a wrong declaration does not build.
//!
//! i386 aligns `long long` to 4 bytes inside structures; a struct with a 64-bit
//! field where that matters is `#[repr(C, packed(4))]`, which gives the same
//! offsets on the x86-64 host. Read such fields by value (`{ s.field }`), never
//! by reference.
//!
//! Byte order: the guest (i386) is little-endian and the fields are stored in the
//! host's order, so the host must be little-endian too (x86-64, aarch64 …).

#[cfg(target_endian = "big")]
compile_error!("the abi structures are stored in host byte order; the i386 guest needs a little-endian host");

pub mod fs;
pub mod info;
pub mod ipc;
pub mod net;
pub mod process;
pub mod signal;
pub mod time;

pub use zerocopy::{FromBytes, FromZeros, IntoBytes};
