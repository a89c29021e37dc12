//! Helpers shared by the end-to-end tests of the `growsdown` binary (included with
//! `#[path]` by each test file of the cli package that needs them).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `tool::need`: skip a test without a host tool, but fail it under `CI=true`.
pub mod tool;

/// Runs `growsdown ARGS` with an empty environment (so the stack layout, and with it
/// every address in a trace, is the same on every machine), in the temp folder, with
/// stdin closed.
pub fn growsdown_clean(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_growsdown"))
        .args(args)
        .env_clear()
        .current_dir(std::env::temp_dir())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

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
