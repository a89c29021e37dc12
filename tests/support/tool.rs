//! Tests that need a host tool (gcc, qemu-i386): [`need`] says whether to run.
//!
//! Shared by the cli package's tests (through `tests/support/mod.rs`) and by
//! crates/qemu-logfmt's (through `#[path]`), so the rule is written once.

/// Whether `prog` is on PATH.
pub fn have(prog: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(prog).is_file()))
}

/// Whether a test that needs `prog` (from the Debian package `package`) can run.
/// When `prog` is missing the test is skipped: this prints SKIPPED and returns false,
/// and the caller returns and passes. Under `CI=true` a missing tool is not a reason
/// to skip (tests/run installs it): this panics, and the test fails.
#[track_caller]
pub fn need(prog: &str, package: &str) -> bool {
    if have(prog) {
        return true;
    }
    if std::env::var_os("CI").is_some_and(|v| v == "true") {
        panic!("{prog} not found and CI=true: install {package} (tests/run does)");
    }
    eprintln!("SKIPPED: {prog} not found (apt-get install {package})");
    false
}
