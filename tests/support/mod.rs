//! Helpers shared by the end-to-end tests of the `growsdown` binary (included with
//! `#[path]` by each test file of the cli package that needs them).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `tool::need`: skip a test without a host tool, but fail it under `CI=true`.
pub mod tool;

/// The repository's top folder.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Debian's busybox-static:i386, unpacked by tests/run (or `$GROWSDOWN_BUSYBOX`).
pub fn busybox() -> PathBuf {
    let p = std::env::var_os("GROWSDOWN_BUSYBOX")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/corpus/busybox"));
    assert!(
        p.is_file(),
        "{} is missing: run tests/run, which unpacks Debian's busybox-static:i386 there",
        p.display()
    );
    p
}

/// Debian's bash-static:i386, unpacked by tests/run (or `$GROWSDOWN_BASH`); `None`
/// (with a message) when it is missing, which fails the test under `CI=true`.
#[track_caller]
pub fn bash_static() -> Option<PathBuf> {
    let p = std::env::var_os("GROWSDOWN_BASH")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/corpus/bash"));
    if p.is_file() {
        return Some(p);
    }
    let msg =
        format!("{} is missing: run tests/run, which unpacks Debian's bash-static:i386 there", p.display());
    assert!(std::env::var_os("CI").is_none_or(|v| v != "true"), "{msg} (CI=true)");
    eprintln!("SKIPPED: {msg}");
    None
}
