//! Where qemu-i386 7.2 itself is wrong: `guest-images/bin/x87-qemu CASE` runs one
//! x87 instruction on which QEMU and the real CPU disagree, and growsdown agrees
//! with the CPU. `growsdown difftest --against qemu` must stop at that instruction,
//! name the differing x87 register or word, re-run the program against the host CPU
//! to the same instruction, and conclude "QEMU is wrong here" with exit status 3.
//! The values are in docs/difftest.md ("Cases where QEMU itself is wrong").
//!
//! Needs qemu-user and an x86 host that runs i386 code (skipped with a message
//! otherwise; without qemu-user under `CI=true`, the tests fail).

#[path = "../../../tests/support/mod.rs"]
mod support;
use std::process::{Command, Stdio};
use support::root;
use support::tool::need;

/// Runs `guest-images/bin/PROG CASE`; returns (exit status, stdout), or None when it
/// cannot run here.
fn difftest_of(prog: &str, case: &[&str]) -> Option<(Option<i32>, String)> {
    if !need("qemu-i386", "qemu-user") {
        return None;
    }
    if !matches!(std::env::consts::ARCH, "x86" | "x86_64") {
        eprintln!("SKIPPED: the verdict needs an x86 host that runs i386 code");
        return None;
    }
    let prog = root().join("guest-images/bin").join(prog);
    let out = Command::new(env!("CARGO_BIN_EXE_growsdown"))
        .args(["difftest", "--against", "qemu", "--strict"])
        .arg(&prog)
        .args(case)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Some((out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// The report names the instruction (`mnemonic`: the start of its disassembly), the differing parts, the host's value, and the
/// verdict; the status is 3.
fn qemu_is_wrong(case: &str, mnemonic: &str, differs: &str, host: &str) {
    qemu_is_wrong_in("x87-qemu", &[case], mnemonic, differs, host);
}

fn qemu_is_wrong_in(prog: &str, args: &[&str], mnemonic: &str, differs: &str, host: &str) {
    let case = args.first().copied().unwrap_or(prog);
    let Some((status, out)) = difftest_of(prog, args) else { return };
    let first = out.lines().next().unwrap_or("");
    assert!(
        first.starts_with("difftest: DIVERGENCE after instruction ")
            && first.contains(&format!(": {mnemonic}")),
        "{case}: {out}"
    );
    assert!(out.contains(&format!("difftest: differs: {differs}\n")), "{case}: {out}");
    assert!(out.contains(&format!("difftest: native (host CPU): {host}")), "{case}: {out}");
    // The verdict names the same instruction count as the divergence.
    let n = first.split_whitespace().nth(4).unwrap();
    assert!(
        out.contains(&format!(
            "difftest: QEMU is wrong here: the host CPU agrees with growsdown (instruction {n}, {differs})"
        )),
        "{case}: {out}"
    );
    assert_eq!(status, Some(3), "{case}: {out}");
}

#[test]
fn fsin_of_pi() {
    // QEMU: sin() of the nearest double, +1.22e-16, no PE/C1; the CPU: −2^−64.
    qemu_is_wrong(
        "fsin",
        "fsin",
        "fsw (C1 PE), st0 (R7)",
        "fsw = 0x3a20 [TOP=7 C1 PE], st0 (R7) = bfbf:8000000000000000 (-5.42101086242752217004e-20)",
    );
}

#[test]
fn fcos_of_pi_2() {
    qemu_is_wrong(
        "fcos",
        "fcos",
        "fsw (C1 PE), st0 (R7)",
        "fsw = 0x3a20 [TOP=7 C1 PE], st0 (R7) = bfbe:8000000000000000 (-2.71050543121376108502e-20)",
    );
}

#[test]
fn fsincos_of_pi() {
    // The cosine (−1, now ST(0) in R6) agrees; the sine (ST(1), R7) does not.
    qemu_is_wrong(
        "fsincos",
        "fsincos",
        "fsw (C1 PE), st1 (R7)",
        "fsw = 0x3220 [TOP=6 C1 PE], st1 (R7) = bfbf:8000000000000000 (-5.42101086242752217004e-20)",
    );
}

#[test]
fn fptan_of_pi_4() {
    // QEMU: tan() in double, 1 − 2^−53; the CPU rounds to 1.0 (inexact).
    qemu_is_wrong(
        "fptan",
        "fptan",
        "fsw (PE), st1 (R7)",
        "fsw = 0x3020 [TOP=6 PE], st1 (R7) = 3fff:8000000000000000 (1)",
    );
}

#[test]
fn c1_after_rounding_up() {
    // 1/3 rounds up in round-to-nearest: the CPU sets C1, QEMU 7.2 never does.
    qemu_is_wrong("c1", "fidiv st, dword ptr [", "fsw (C1)", "fsw = 0x3a20 [TOP=7 C1 PE]");
}

#[test]
fn fldcw_reserved_bit_6() {
    qemu_is_wrong("fldcw", "fldcw [", "fcw", "fcw = 0x037f");
}

#[test]
fn fucomi_clears_of_sf_af() {
    // SDM: FCOMI/FUCOMI "set the OF, SF and AF flags to zero"; QEMU keeps them.
    qemu_is_wrong("fucomi", "fucomi st, st(1)", "eflags (AF SF OF)", "eflags = 0x00000203 (AF=0 SF=0 OF=0)");
}

/// Not an x87 case: the registers a plain (not SA_SIGINFO) handler starts with.
/// Today's i386 kernel sets EAX to the signal number and EDX, ECX to 0
/// (`ia32_setup_frame`); QEMU 7.2's `setup_frame` leaves the interrupted values.
/// difftest compares them at the handler's entry (`handler_args_differ`): the
/// `guest-images/bin/sigregs` run stops at the plain handler's first instruction,
/// and the host CPU's run agrees with growsdown. (Its SA_SIGINFO handler, before,
/// gets sig, &info, &uc in EAX, EDX, ECX from QEMU too.)
#[test]
fn plain_handler_entry_registers() {
    qemu_is_wrong_in(
        "sigregs",
        &[],
        "push ecx",
        "eax, ecx, edx",
        "eax = 0x0000000c, ecx = 0x00000000, edx = 0x00000000",
    );
}
