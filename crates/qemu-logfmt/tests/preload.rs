//! The shim preloaded into a C program that prints through `vfprintf` wrappers like
//! QEMU's `qemu_fprintf`: the output must equal the unpreloaded run's, with calls
//! both formatted by the shim and passed on to glibc. This checks the exported
//! symbols and the `va_list` walk against gcc's real variadic calls. Needs gcc
//! (skipped with a message without it; under `CI=true` the test fails instead).

mod common;
use common::*;
use std::process::Command;

#[test]
fn c_program_prints_the_same_with_the_shim() {
    if !need("gcc", "gcc-multilib") {
        return;
    }
    let so = shim();
    let dir = scratch("preload");
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/printer.c");
    // -O2 with FORTIFY calls __vfprintf_chk; -O0 (no FORTIFY) calls vfprintf.
    for (name, flags) in
        [("chk", &["-O2", "-D_FORTIFY_SOURCE=2"][..]), ("plain", &["-O0", "-U_FORTIFY_SOURCE"][..])]
    {
        let exe = dir.join(name);
        run(Command::new("gcc").args(flags).arg("-w").arg("-o").arg(&exe).arg(&src));
        let plain = run(Command::new(&exe).env_clear());
        let stats_file = dir.join(format!("{name}.stats"));
        let shimmed = run(Command::new(&exe)
            .env_clear()
            .env("LD_PRELOAD", &so)
            .env("GROWSDOWN_QEMU_LOGFMT_STATS", &stats_file)
            .env("GROWSDOWN_QEMU_LOGFMT_VERIFY", "1"));
        assert_eq!(String::from_utf8_lossy(&shimmed), String::from_utf8_lossy(&plain), "{name}");
        let (formatted, passed_on, mismatched) = stats(&stats_file);
        eprintln!("{name}: {} bytes, {formatted} calls formatted, {passed_on} passed on", plain.len());
        // 8 ints x 3 + 5 longs + 6 strings + QEMU's line + total = 37; 3 passed on.
        assert_eq!((formatted, passed_on, mismatched), (37, 3, 0), "{name}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
