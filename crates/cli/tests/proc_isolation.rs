//! A guest never reaches a host process (growsdown issue 13), and growsdown survives
//! a closed stderr.
//!
//! * `procids peek PID` under growsdown, for host pids: 1 (the host's init), this
//!   test's own pid, its parent's, and 100 (the guest's `getppid()` of the first
//!   process, outside the machine). Every /proc path of those pids is ENOENT and every
//!   `kill` ESRCH, as for a pid outside the caller's pid namespace in today's Linux
//!   (`proc_pid_lookup`, `kill_something_info`). The same program run natively first
//!   shows that the host pids' directories exist (`stat /proc/P: ok`), so the answers
//!   under growsdown are the isolation's, not an accident of the host.
//! * `procids stderr [ign]` with growsdown's stderr a pipe whose reader is gone: the
//!   guest's outcome is growsdown's exit status (3; 128+SIGPIPE when the guest does
//!   not ignore SIGPIPE), the same as the program's native outcome, with and without
//!   `--stats` and logging. A panic would be status 101.
//!
//! Native runs need an x86 host that runs i386 code: skipped elsewhere, failed under
//! `CI=true`.

#[path = "../../../tests/support/mod.rs"]
mod support;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Output, Stdio};
use support::root;

const SIGPIPE: i32 = 13;
/// Lines `procids peek` prints per pid.
const PER_PID: usize = 25;

fn procids() -> String {
    root().join("guest-images/bin/procids").to_string_lossy().into_owned()
}

fn growsdown(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_growsdown"));
    c.args(args).current_dir(std::env::temp_dir()).stdin(Stdio::null());
    c
}

/// Runs `procids ARGS` natively, or None (with a message) where the host cannot; that
/// is a failure under `CI=true`.
fn native(args: &[&str], stderr: Stdio) -> Option<Output> {
    match Command::new(procids()).args(args).stdin(Stdio::null()).stderr(stderr).output() {
        Ok(o) => Some(o),
        Err(e) => {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "cannot run i386 code natively: {e}");
            eprintln!("SKIPPED: cannot run i386 code natively here: {e}");
            None
        }
    }
}

/// A stderr whose reader has gone: writes fail with EPIPE.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    Stdio::from(writer)
}

fn peek_lines(out: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| {
            let (what, answer) = l.rsplit_once(": ").expect("a `what: answer` line");
            (what.to_string(), answer.to_string())
        })
        .collect()
}

#[test]
fn host_pids_are_out_of_reach() {
    let me = std::process::id().to_string();
    let parent = std::os::unix::process::parent_id().to_string();
    // 1000 is the guest's own pid (the only guest process of `peek`): a host pid that
    // happens to be 1000 is not asked about.
    let pids: Vec<&str> =
        ["1", me.as_str(), parent.as_str(), "100"].into_iter().filter(|&p| p != "1000").collect();
    if let Some(n) = native(&["peek", "1", &me], Stdio::inherit()) {
        let lines = peek_lines(&n.stdout);
        let exists = lines.iter().filter(|(w, a)| w == "stat /proc/P" && a == "ok").count();
        assert_eq!(exists, 2, "natively /proc/1 and /proc/<this test> exist:\n{lines:?}");
    }
    let prog = procids();
    let mut args = vec!["run", prog.as_str(), "peek"];
    args.extend(&pids);
    let out = growsdown(&args).stderr(Stdio::inherit()).output().expect("growsdown runs");
    assert_eq!(out.status.code(), Some(0));
    let lines = peek_lines(&out.stdout);
    assert_eq!(lines.len(), pids.len() * PER_PID, "{lines:?}");
    for (i, chunk) in lines.chunks(PER_PID).enumerate() {
        for (what, answer) in chunk {
            // 100 is also the guest's own process group (it starts in its caller's),
            // so kill(-100, 0) reaches the guest itself, and only it.
            let own_group = pids[i] == "100" && what == "kill(-P, 0)";
            let want = if own_group {
                "ok"
            } else if what.starts_with("kill") {
                "ESRCH"
            } else {
                "ENOENT"
            };
            assert_eq!(answer, want, "pid {}: {what}", pids[i]);
        }
    }
}

/// growsdown's outcome for `procids stderr ARGS` with a broken stderr, beside the
/// native one.
fn closed_stderr_case(
    extra: &[&str],
    env: &[(&str, &str)],
    guest: &[&str],
) -> (ExitStatus, Option<ExitStatus>) {
    let mut args = vec!["run"];
    args.extend(extra);
    let prog = procids();
    args.push(&prog);
    args.extend(guest);
    let mut c = growsdown(&args);
    c.env_remove("RUST_LOG").envs(env.iter().copied()).stdout(Stdio::null()).stderr(closed_pipe());
    let got = c.status().expect("growsdown runs");
    let native = native(guest, closed_pipe()).map(|o| o.status);
    (got, native)
}

#[test]
fn a_closed_stderr_keeps_the_guest_status() {
    // growsdown's own writes to stderr: none, --stats, every log line.
    let options: [&[&str]; 3] = [&[], &["--stats"], &[]];
    let envs: [&[(&str, &str)]; 3] = [&[], &[], &[("RUST_LOG", "trace")]];
    for (extra, env) in options.into_iter().zip(envs) {
        // SIGPIPE ignored: the write fails with EPIPE and the program exits 3.
        let (got, native) = closed_stderr_case(extra, env, &["stderr", "ign"]);
        assert_eq!(got.code(), Some(3), "{extra:?} {env:?}: {got:?}");
        if let Some(n) = native {
            assert_eq!(n.code(), Some(3), "natively");
        }
        // SIGPIPE's default action kills the program; growsdown reports it as a shell
        // would (128 + 13), its kill line going nowhere.
        let (got, native) = closed_stderr_case(extra, env, &["stderr"]);
        assert_eq!(got.code(), Some(128 + SIGPIPE), "{extra:?} {env:?}: {got:?}");
        if let Some(n) = native {
            assert_eq!(n.signal(), Some(SIGPIPE), "natively");
        }
    }
}

/// An error message (the program is missing) on a broken stderr: growsdown's own
/// status for it (127, a shell's for a missing file: issue 14), no panic.
#[test]
fn a_closed_stderr_keeps_growsdowns_own_error_status() {
    let mut c = growsdown(&["run", "/nonexistent/procids"]);
    c.stdout(Stdio::null()).stderr(closed_pipe());
    assert_eq!(c.status().expect("growsdown runs").code(), Some(127));
}
