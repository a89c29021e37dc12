//! Go programs (guest-images/src/go/*), built at test time with Debian's golang-go
//! as GOARCH=386 CGO_ENABLED=0 GO111MODULE=off, run natively (the host runs i386
//! code) and under `growsdown run`, both with an empty environment.
//!
//! * `features` (goroutines, maps, JSON, SHA-256, SSE2 floats, a recovered panic) and
//!   `goroutines` (unbuffered and buffered channels, select, WaitGroup, Mutex,
//!   RWMutex, Once, Cond, atomics, 1000 goroutines, a pipeline, cancelled contexts,
//!   asynchronous preemption by SIGURG, locked OS threads exiting, panics recovered
//!   in goroutines, NumGoroutine back to its baseline): growsdown's stdout and exit
//!   status (0) are the native run's, and its stderr has no "fatal error" or
//!   "runtime:" line from the Go runtime. The Go runtime runs its threads (clone
//!   with CLONE_VM | CLONE_THREAD, futexes, tgkill) on growsdown's kernel.
//! * `netpoll` (time.After, context.WithTimeout, Sleep, Ticker, AfterFunc, runtime.GC
//!   with live data, an os.Pipe) needs the Go runtime's network poller, which the
//!   runtime initialises with epoll_create1 on its first timer or pollable file and
//!   then sleeps in epoll_wait with a timeout for its timers: the same checks as
//!   the other two, on growsdown's epoll (crates/kernel/src/syscall/epoll.rs).

#[path = "support/mod.rs"]
mod support;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;
use support::root;
use support::tool::need;

/// Builds guest-images/src/go/NAME into target/go-guest/NAME.
fn build(name: &str) -> PathBuf {
    let r = root();
    let out_dir = r.join("target/go-guest");
    std::fs::create_dir_all(&out_dir).unwrap();
    let bin = out_dir.join(name);
    let built = Command::new("go")
        .args(["build", "-o"])
        .arg(&bin)
        .arg(".")
        .current_dir(r.join("guest-images/src/go").join(name))
        .env("GOARCH", "386")
        .env("CGO_ENABLED", "0")
        .env("GO111MODULE", "off")
        .env("GOCACHE", out_dir.join("cache"))
        .env("GOFLAGS", "")
        .output()
        .expect("go build");
    assert!(built.status.success(), "go build of {name} failed:\n{}", String::from_utf8_lossy(&built.stderr));
    bin
}

/// The program run natively, with an empty environment (no GOMAXPROCS, GOGC, GODEBUG).
fn native(bin: &Path) -> Output {
    Command::new(bin).env_clear().stdin(Stdio::null()).output().unwrap()
}

/// The program run under `growsdown run`, with an empty environment.
fn growsdown(bin: &Path) -> Output {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_growsdown"))
        .arg("run")
        .arg(bin)
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .unwrap();
    eprintln!("{}: {:.2?} under growsdown", bin.display(), t.elapsed());
    out
}

/// The Go runtime's own complaints: "fatal error: ..." and "runtime: ..." lines.
fn runtime_errors(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains("fatal error") || l.starts_with("runtime:")).collect()
}

/// Builds NAME, runs it natively and under growsdown, and checks that both exit 0
/// with the same stdout and that the Go runtime reported nothing under growsdown.
fn assert_runs_as_natively(name: &str, last_line: &str) {
    let bin = build(name);
    let native = native(&bin);
    let native_out = String::from_utf8_lossy(&native.stdout);
    assert_eq!(native.status.code(), Some(0), "native run of {name} failed: {native:?}");
    assert!(native_out.ends_with(&format!("{last_line}\n")), "native run of {name}:\n{native_out}");

    let gd = growsdown(&bin);
    let out = String::from_utf8_lossy(&gd.stdout);
    let err = String::from_utf8_lossy(&gd.stderr);
    assert_eq!(out, native_out, "{name}: stdout under growsdown differs from the native run; stderr:\n{err}");
    assert_eq!(gd.status.code(), native.status.code(), "{name}: exit status; stderr:\n{err}");
    assert!(runtime_errors(&err).is_empty(), "{name}: the Go runtime complained under growsdown:\n{err}");
}

#[test]
fn go_features_runs_as_natively() {
    if !need("go", "golang-go") {
        return;
    }
    assert_runs_as_natively("features", "recovered: runtime error: index out of range [20] with length 0");
}

#[test]
fn go_goroutines_run_as_natively() {
    if !need("go", "golang-go") {
        return;
    }
    assert_runs_as_natively("goroutines", "goroutines back to the baseline: true");
}

#[test]
fn go_netpoll_runs_as_natively() {
    if !need("go", "golang-go") {
        return;
    }
    assert_runs_as_natively("netpoll", "goroutines back to the baseline: true");
}
