//! qemu-i386 logs the same bytes with and without the shim.
//!
//! Each case runs `qemu-i386 -singlestep -d cpu,fpu,nochain -D FIFO` twice at the
//! same time, once with `LD_PRELOAD` of the shim, and compares the two logs (hashed
//! per MiB as they stream: `cpubench 1` logs 3.5 GB). The guest must behave the
//! same in both: `-seed 1` fixes its random bytes (AT_RANDOM, getrandom), each
//! QEMU runs in fresh user and PID namespaces (`unshare -Urpf`) so the TIDs glibc's
//! start-up sees are equal, and stdout is /dev/null (whose inode number glibc's
//! fstat puts in registers; two pipes would differ). Without `unshare` the byte comparison is skipped with a
//! message (also under `CI=true`: see `have_unshare`), and only the in-process check
//! runs: the shim's VERIFY mode formats every call with glibc too and counts
//! differences. Skipped without qemu-i386 (failing instead under `CI=true`).
//!
//! The guest's environment must not see `LD_PRELOAD` (QEMU's `-U LD_PRELOAD`):
//! `hello-glibc` prints its environment count.

mod common;
use common::*;
use std::hash::Hasher;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// difftest's `-cpu` model (growsdown_cli::difftest::qemu::cpu_model()).
const CPU: &str = "base,fpu=on,pse=on,tsc=on,cx8=on,pge=on,cmov=on,\
                   vendor=GenuineIntel,family=6,model=1,stepping=9,level=1,xlevel=0x80000000";

fn image(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guest-images/bin").join(name)
}

/// Whether QEMU can run in fresh user and PID namespaces. Not a missing tool (so
/// no CI=true failure, unlike qemu-i386): `unshare` is util-linux, essential on
/// Debian and not something tests/run installs; what fails here is the host refusing
/// unprivileged namespaces (a sysctl, a container's seccomp or AppArmor profile),
/// like the tests that need an x86 host.
fn have_unshare() -> bool {
    have("unshare")
        && Command::new("unshare")
            .args(["-Urpf", "true"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

/// Starts QEMU logging into `log` (a FIFO), with the shim when `shim` is given.
fn qemu(prog: &Path, args: &[&str], log: &Path, shim: Option<(&Path, &Path)>, ns: bool) -> Child {
    let mut cmd = if ns {
        let mut c = Command::new("unshare");
        c.args(["-Urpf", "qemu-i386"]);
        c
    } else {
        Command::new("qemu-i386")
    };
    // The same -U in both runs: the guest's environment is then A, B only.
    cmd.args(["-seed", "1", "-cpu", CPU, "-U", "LD_PRELOAD", "-U", "GROWSDOWN_QEMU_LOGFMT_STATS"])
        .args(["-U", "GROWSDOWN_QEMU_LOGFMT_VERIFY", "-singlestep", "-d", "cpu,fpu,nochain", "-D"])
        .arg(log)
        .arg(prog)
        .args(args)
        .env_clear()
        .env("A", "1")
        .env("B", "2")
        .stdin(Stdio::null())
        // Not a pipe: glibc's stdio fstat()s stdout, and two pipes have different
        // inode numbers, which the guest's registers then show.
        .stdout(Stdio::null());
    if let Some((so, stats)) = shim {
        cmd.env("LD_PRELOAD", so).env("GROWSDOWN_QEMU_LOGFMT_STATS", stats);
    }
    cmd.spawn().unwrap()
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo {}", p.display());
}

/// Reads a log FIFO to its end: (length, hash of each MiB).
fn digest(p: PathBuf) -> std::thread::JoinHandle<(u64, Vec<u64>)> {
    std::thread::spawn(move || {
        let mut f = std::fs::File::open(&p).unwrap();
        let mut buf = vec![0u8; 1 << 20];
        let (mut total, mut hashes) = (0u64, Vec::new());
        loop {
            // Fill a whole MiB (or up to EOF) so block boundaries do not depend on
            // how the pipe was read.
            let mut got = 0;
            while got < buf.len() {
                match f.read(&mut buf[got..]).unwrap() {
                    0 => break,
                    n => got += n,
                }
            }
            if got == 0 {
                return (total, hashes);
            }
            let mut h = std::collections::hash_map::DefaultHasher::new();
            h.write(&buf[..got]);
            hashes.push(h.finish());
            total += got as u64;
        }
    })
}

/// Runs one case both ways and compares; returns the log size.
fn same_log(name: &str, args: &[&str]) -> u64 {
    let so = shim();
    let dir = scratch(&format!("eq-{name}"));
    let ns = have_unshare();
    let (plain_log, shim_log, stats_file) = (dir.join("plain.log"), dir.join("shim.log"), dir.join("stats"));
    mkfifo(&plain_log);
    mkfifo(&shim_log);
    let prog = image(name);
    let a = qemu(&prog, args, &plain_log, None, ns);
    let b = qemu(&prog, args, &shim_log, Some((&so, &stats_file)), ns);
    let (da, db) = (digest(plain_log), digest(shim_log));
    let (oa, ob) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let ((la, ha), (lb, hb)) = (da.join().unwrap(), db.join().unwrap());
    assert!(oa.status.success() && ob.status.success(), "{name}: {} / {}", oa.status, ob.status);
    let (formatted, passed_on, _) = stats(&stats_file);
    eprintln!("{name}: {la} / {lb} log bytes; shim formatted {formatted} calls, passed on {passed_on}");
    assert!(formatted > 0, "{name}: the shim formatted nothing");
    if ns {
        let first = ha.iter().zip(&hb).position(|(x, y)| x != y);
        assert!(
            la == lb && first.is_none(),
            "{name}: logs differ ({la} vs {lb} bytes; first differing MiB: {first:?})"
        );
    } else {
        eprintln!("{name}: byte comparison SKIPPED (no `unshare -Urpf`: the guests' TIDs would differ)");
    }
    let _ = std::fs::remove_dir_all(&dir);
    la
}

#[test]
fn hello_glibc_logs_the_same_and_does_not_see_ld_preload() {
    if !need("qemu-i386", "qemu-user") {
        return;
    }
    assert!(same_log("hello-glibc", &[]) > 1_000_000);
    // The guest's environment is exactly A=1 B=2: QEMU's own LD_PRELOAD is hidden.
    let dir = scratch("env");
    let out = run(Command::new("qemu-i386")
        .args(["-U", "LD_PRELOAD"])
        .arg(image("hello-glibc"))
        .env_clear()
        .env("A", "1")
        .env("B", "2")
        .env("LD_PRELOAD", shim()));
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("argc=1 envc=2\n"), "{text}");
    // Every call formatted by the shim equals glibc's formatting of it.
    let stats_file = dir.join("stats");
    run(Command::new("qemu-i386")
        .args(["-U", "LD_PRELOAD", "-U", "GROWSDOWN_QEMU_LOGFMT_STATS", "-U", "GROWSDOWN_QEMU_LOGFMT_VERIFY"])
        .args(["-cpu", CPU, "-singlestep", "-d", "cpu,fpu,nochain", "-D", "/dev/null"])
        .arg(image("hello-glibc"))
        .env_clear()
        .env("LD_PRELOAD", shim())
        .env("GROWSDOWN_QEMU_LOGFMT_STATS", &stats_file)
        .env("GROWSDOWN_QEMU_LOGFMT_VERIFY", "1"));
    let (formatted, passed_on, mismatched) = stats(&stats_file);
    eprintln!("verify: {formatted} calls formatted and checked against glibc, {passed_on} passed on");
    assert!(formatted > 1_000_000);
    assert_eq!(mismatched, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cpubench_logs_the_same() {
    if !need("qemu-i386", "qemu-user") {
        return;
    }
    assert!(same_log("cpubench", &["1"]) > 1_000_000_000);
}
