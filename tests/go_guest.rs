//! A Go program (guest-images/src/go/features), built at test time with Debian's
//! golang-go as GOARCH=386 CGO_ENABLED=0, run natively and under growsdown.
//!
//! Go's 386 runtime refuses to start without MMX and uses SSE2 for floats; growsdown's
//! CPU has both, so the program gets past the runtime's CPU checks and its start-up.
//! It then needs a second OS thread (the runtime's sysmon, started from
//! `runtime.main` through clone with CLONE_VM | CLONE_THREAD), which growsdown's
//! kernel does not have yet (the threads issue): the test pins exactly that boundary.
//! When threads exist it must compare the whole output with the native run instead.

#[path = "support/mod.rs"]
mod support;
use std::process::{Command, Stdio};
use support::root;
use support::tool::need;

#[test]
fn go_386_program_passes_the_cpu_checks_and_stops_at_threads() {
    if !need("go", "golang-go") {
        return;
    }
    let r = root();
    let out_dir = r.join("target/go-guest");
    std::fs::create_dir_all(&out_dir).unwrap();
    let bin = out_dir.join("features");
    let built = Command::new("go")
        .args(["build", "-o"])
        .arg(&bin)
        .arg(".")
        .current_dir(r.join("guest-images/src/go/features"))
        .env("GOARCH", "386")
        .env("CGO_ENABLED", "0")
        .env("GO111MODULE", "off")
        .env("GOCACHE", out_dir.join("cache"))
        .env("GOFLAGS", "")
        .output()
        .expect("go build");
    assert!(built.status.success(), "go build failed:\n{}", String::from_utf8_lossy(&built.stderr));

    // Natively (the host runs i386 code) the program runs to the end.
    let native = Command::new(&bin).stdin(Stdio::null()).output().unwrap();
    assert!(native.status.success(), "native run failed: {native:?}");
    let native_out = String::from_utf8_lossy(&native.stdout);
    assert!(native_out.contains("recovered: runtime error: index out of range"), "{native_out}");

    let gd = Command::new(env!("CARGO_BIN_EXE_growsdown"))
        .arg("run")
        .arg(&bin)
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&gd.stderr);
    // The CPU checks of runtime·rt0_go pass (no "can only be run on processors
    // with MMX support" / "SSE2" message) ...
    assert!(!err.contains("can only be run on processors"), "{err}");
    // ... and the runtime gets as far as runtime.main starting its first extra
    // thread, which fails with EINVAL from clone: the Go runtime's own report.
    assert!(err.contains("runtime: failed to create new OS thread (have 2 already; errno=22)"), "{err}");
    assert!(err.contains("fatal error: newosproc") && err.contains("runtime.main()"), "{err}");
    assert_eq!(gd.status.code(), Some(2), "the Go runtime's exit status for a fatal error");
}
