//! growsdown's host memory is bounded by `--mem` plus a fixed overhead, for any guest
//! (issue 14; docs/architecture.md, "Host memory"): peak RSS ≤ `--mem` + 64 MiB +
//! 0.25 % of `--mem`. Measured as a user would, with `/usr/bin/time -v` (Debian's
//! package `time`, which tests/run installs): its "Maximum resident set size" of the
//! growsdown process.
//!
//! * `touch-mem 100` under `--mem 128M`: 100 MiB really resident (the measure sees
//!   them), and the whole within the bound;
//! * `touch-mem 1` under `--mem 3G`: the guest's RAM costs nothing until touched;
//! * `codegen 1000000`: a million distinct functions, each a decoded block (about
//!   300 MiB of host memory without `Cpu::decoded_limit`), under `--mem 16M`;
//! * python3.11 from the i386 userland (`crates/cli/tests/userland.rs`) building a
//!   400 000-element list under `--mem 128M`;
//! * `swap-workset`, a 64 MiB working set under `--mem 16M --swap 128M` (issue 15):
//!   swapping costs no host memory beyond the bound.
//!
//! These are memory bounds, not timings.

#[path = "../../../tests/support/mod.rs"]
mod support;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::root;

const MIB: u64 = 1 << 20;
/// The overhead docs/architecture.md states.
const OVERHEAD: u64 = 64 * MIB;

/// The bound for a run with `mem` bytes of guest memory.
fn bound(mem: u64) -> u64 {
    mem + OVERHEAD + mem / 400
}

/// Fails unless a peak RSS of `rss` bytes is within [`bound`] for `mem` bytes.
fn assert_within_bound(rss: u64, mem: u64) {
    assert!(rss <= bound(mem), "peak RSS {} KiB over the bound {} KiB", rss / 1024, bound(mem) / 1024);
}

/// Runs `growsdown run --mem MEM ARGS` under `/usr/bin/time -v`; returns stdout and
/// the peak RSS in bytes. None when `time` is missing (a failure under `CI=true`).
fn measure(mem: &str, args: &[&Path], extra: &[&str]) -> Option<(String, u64)> {
    if !support::tool::need("time", "time") {
        return None;
    }
    let report = std::env::temp_dir().join(format!(
        "growsdown-peak-rss-{}-{mem}-{}",
        std::process::id(),
        args.last().unwrap().file_name().unwrap().to_string_lossy()
    ));
    let out = Command::new("time")
        .arg("-v")
        .arg("-o")
        .arg(&report)
        .arg(env!("CARGO_BIN_EXE_growsdown"))
        .args(["run", "--mem", mem])
        .args(args)
        .args(extra)
        .env_clear()
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .expect("run /usr/bin/time");
    let text = std::fs::read_to_string(&report).expect("time -v's report");
    let _ = std::fs::remove_file(&report);
    assert!(out.status.success(), "{:?}: {}\n{text}", args, String::from_utf8_lossy(&out.stderr));
    let kib: u64 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes): "))
        .unwrap_or_else(|| panic!("no peak RSS in time -v's report:\n{text}"))
        .parse()
        .unwrap();
    Some((String::from_utf8(out.stdout).unwrap(), kib * 1024))
}

fn image(name: &str) -> PathBuf {
    root().join("guest-images/bin").join(name)
}

#[test]
fn touching_100_mib_under_128m() {
    let Some((out, rss)) = measure("128M", &[&image("touch-mem")], &["100"]) else { return };
    assert_eq!(out, "touched 100 MiB, 25600 pages, checksum 3264000\n");
    assert!(rss >= 100 * MIB, "peak RSS {} KiB: the touched pages should be resident", rss / 1024);
    assert_within_bound(rss, 128 * MIB);
}

#[test]
fn untouched_guest_memory_costs_nothing() {
    let Some((out, rss)) = measure("3G", &[&image("touch-mem")], &["1"]) else { return };
    assert_eq!(out, "touched 1 MiB, 256 pages, checksum 32640\n");
    assert!(rss <= OVERHEAD + (3 << 30) / 400, "peak RSS {} KiB", rss / 1024);
}

#[test]
fn a_million_decoded_blocks_stay_within_the_bound() {
    let Some((out, rss)) = measure("16M", &[&image("codegen")], &["1000000"]) else { return };
    assert_eq!(out, "called 1000000 functions, count 1000000\n");
    assert_within_bound(rss, 16 * MIB);
}

#[test]
fn python_within_the_bound() {
    let dir = std::env::var_os("GROWSDOWN_I386_USERLAND")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/i386-userland"));
    let python = dir.join("usr/bin/python3.11");
    if !python.exists() {
        let msg = format!("{} is missing: run tests/run", python.display());
        assert!(std::env::var_os("CI").is_none_or(|v| v != "true"), "{msg} (CI=true)");
        eprintln!("SKIPPED: {msg}");
        return;
    }
    let dir = dir.canonicalize().unwrap();
    let program = "import os, sys, re, collections, datetime, random, pickle, argparse, logging, typing, inspect, ast\n\
                   x = [str(i) * 10 for i in range(400000)]\nprint(len(x), x[-1])";
    let Some((out, rss)) =
        measure("128M", &[Path::new("--sysroot"), &dir, &python], &["-I", "-B", "-c", program])
    else {
        return;
    };
    assert_eq!(out, "400000 399999399999399999399999399999399999399999399999399999399999\n");
    assert_within_bound(rss, 128 * MIB);
}

/// Issue 15: "host memory stays within --mem plus the fixed overhead however much
/// the guest swaps". swap-workset keeps a 64 MiB working set under `--mem 16M`:
/// the pages out live in the swap file (written with pwrite, never kept in the
/// process), so the peak stays within the bound for 16 MiB, below the working set
/// itself.
#[test]
fn a_working_set_four_times_memory_swaps_within_the_bound() {
    let golden = std::fs::read_to_string(root().join("guest-images/expected/swap-workset.out")).unwrap();
    let Some((out, rss)) =
        measure("16M", &[Path::new("--swap"), Path::new("128M"), &image("swap-workset")], &[])
    else {
        return;
    };
    assert_eq!(out, golden);
    assert_within_bound(rss, 16 * MIB);
    assert!(rss < 64 * MIB, "peak RSS {} KiB: the 64 MiB working set is in host memory", rss / 1024);
}
