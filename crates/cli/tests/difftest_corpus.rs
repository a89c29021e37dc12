//! The difftest corpus (issue 4): `growsdown difftest` against qemu-i386 and against
//! the host CPU over our guest images, busybox applets and a static-library demo.
//! Every case must end with `difftest: N instructions compared, 0 divergences` and
//! exit status 0. Figures and the cases left out are in docs/difftest.md.
//!
//! Needs qemu-user (the qemu cases are skipped with a message without it) and an x86
//! host that runs i386 code (the native cases likewise); busybox is Debian's
//! busybox-static:i386 at target/corpus/busybox or $GROWSDOWN_BUSYBOX (tests/run
//! unpacks it). Slow in debug builds: run with `cargo test --release`.
//!
//! Left out, and why:
//! * `zlib-demo` runs to the end in 370 M instructions (about an hour at ~100 k
//!   compared instructions/s), so it is checked over its first 1 M instructions
//!   (`--max-insns`, which still ends with the 0-divergences line and status 0).
//! * signal handlers (`esp33 handler`, `esp40 handler`, `scenarios`): lockstep into a
//!   handler is not implemented (difftest stops with status 2 when both sides take a
//!   signal that has a handler). A fatal signal with no handler works (`segv-exit`).
//!   Also, `esp33`/`esp40` fault only under 2.4's ESP check: today's host kernel
//!   dropped it and QEMU's stack is a fixed mapping, so neither reference faults.
//! * `procs`, and `sh -c` with anything that forks: difftest follows one process.
//! * lua/cxx/sqlite demos: not measured to the end yet (see docs/difftest.md).

#[path = "../../../tests/support/mod.rs"]
mod support;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;
use support::root;

fn image(name: &str) -> String {
    root().join("guest-images/bin").join(name).to_string_lossy().into_owned()
}

fn have(prog: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(prog).is_file()))
}

/// Whether this reference can run here; prints why not.
fn available(against: &str) -> bool {
    match against {
        "qemu" if !have("qemu-i386") => {
            eprintln!("SKIPPED: qemu-i386 not found (apt-get install qemu-user)");
            false
        }
        "native" if !matches!(std::env::consts::ARCH, "x86" | "x86_64") => {
            eprintln!("SKIPPED: --against native needs an x86 host");
            false
        }
        _ => true,
    }
}

/// A working directory with the small input files the applets read.
fn workdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("growsdown-difftest-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("words.txt"), "pear\napple\nzebra\nmango\nkiwi\napple\n").unwrap();
    d
}

/// Runs `growsdown difftest --against AGAINST [extra] PROG ARGS` and checks the
/// verdict; returns the number of instructions compared.
fn difftest(against: &str, extra: &[&str], prog: &str, args: &[&str]) -> Option<u64> {
    if !available(against) {
        return None;
    }
    let tag = format!("{against}-{}", Path::new(prog).file_name().unwrap().to_string_lossy());
    let dir = workdir(&tag);
    let t0 = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_growsdown"))
        .args(["difftest", "--against", against])
        .args(extra)
        .arg(prog)
        .args(args)
        .current_dir(&dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let secs = t0.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stdout.lines().last().unwrap_or("");
    let n = last
        .strip_prefix("difftest: ")
        .and_then(|s| s.strip_suffix(" instructions compared, 0 divergences"))
        .and_then(|s| s.parse::<u64>().ok());
    assert!(
        out.status.code() == Some(0) && n.is_some(),
        "difftest --against {against} {prog} {args:?}: status {:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status.code()
    );
    let n = n.unwrap();
    eprintln!(
        "{against:6} {prog} {}: {n} instructions, 0 divergences, {secs:.1} s, {:.0} instructions/s",
        args.join(" "),
        n as f64 / secs.max(1e-9)
    );
    Some(n)
}

/// One test per case and reference, e.g. `qemu_hello_glibc` / `native_hello_glibc`.
macro_rules! corpus {
    ($($name:ident: $extra:expr, $prog:expr, $args:expr;)*) => {
        mod qemu {
            use super::*;
            $(#[test] fn $name() { difftest("qemu", $extra, &$prog, $args); })*
        }
        mod native {
            use super::*;
            $(#[test] fn $name() { difftest("native", $extra, &$prog, $args); })*
        }
    };
}

corpus! {
    hello_glibc: &[], image("hello-glibc"), &[];
    hello_musl: &[], image("hello-musl"), &[];
    // 258 stack-growth faults in growsdown (QEMU: a fixed 8 MiB stack).
    stackgrow: &[], image("stackgrow"), &[];
    esp32: &[], image("esp32"), &[];
    push1: &[], image("push1"), &[];
    read_below: &[], image("read-below"), &[];
    // Writes to NULL with no handler: both sides must be killed by SIGSEGV at the
    // same instruction (difftest then reports agreement).
    segv_exit: &[], image("segv-exit"), &[];
    // 2.4 M instructions: the longest case (~30 s per reference).
    cpubench_1: &[], image("cpubench"), &["1"];
    // The first 1 M of 370 M instructions (see the top of this file).
    zlib_demo_first_million: &["--max-insns", "1000000"], image("zlib-demo"), &[];
    busybox_echo: &[], busybox(), &["echo", "hi"];
    busybox_sort: &[], busybox(), &["sort", "words.txt"];
    busybox_md5sum: &[], busybox(), &["md5sum", "words.txt"];
    // Uses `rep bsf` (decoded as TZCNT): BSF on our i686, real TZCNT on a BMI1 host.
    busybox_seq: &[], busybox(), &["seq", "1", "20"];
    busybox_expr: &[], busybox(), &["expr", "3", "+", "4"];
    // The loop and `echo` are shell built-ins: no fork.
    busybox_sh_loop: &[], busybox(), &["sh", "-c", "i=0; while [ $i -lt 20 ]; do i=$((i+1)); done; echo $i"];
}

fn busybox() -> String {
    support::busybox().to_string_lossy().into_owned()
}
