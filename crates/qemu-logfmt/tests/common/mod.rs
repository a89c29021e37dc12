//! Helpers shared by the integration tests (included with `mod common;`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The shared object cargo built with this test run's library: beside this test
/// executable in `target/<profile>/deps/` (`cargo build` also copies it one folder up).
pub fn shim() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let so = exe.with_file_name("libgrowsdown_qemu_logfmt.so");
    assert!(so.is_file(), "{} is missing (cargo builds it with this package's library)", so.display());
    so
}

// `have(prog)`, and `need(prog, package)`: skip a test without a tool, but fail it
// under `CI=true`. The workspace's one copy of that rule.
#[path = "../../../../tests/support/tool.rs"]
mod tool;
pub use tool::*;

/// A fresh scratch folder.
pub fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("growsdown-logfmt-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Reads the shim's statistics file: (calls formatted, calls passed on to glibc,
/// formatted calls that differed from glibc in VERIFY mode).
pub fn stats(path: &Path) -> (u64, u64, u64) {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(b.len(), 24, "{}", path.display());
    let w = |i: usize| u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().unwrap());
    (w(0), w(1), w(2))
}

/// Runs `cmd`, asserting success; returns stdout.
pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    out.stdout
}
