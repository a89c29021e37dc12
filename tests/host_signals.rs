//! Signals sent to the `growsdown` process reach the guest (crates/kernel/src/hostsig.rs):
//! guest-images/bin/hostsig runs natively and under `growsdown run`, gets the same
//! signals from this test after it prints "ready", and must print the same and end
//! with the same status (a death by signal N counted as 128+N, which is how
//! growsdown reports its guest's death: it exits with 128+N rather than re-raising).

#[path = "support/mod.rs"]
mod support;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::root;

/// What the test does to the running program after "ready".
enum Act {
    Send(i32),
    Wait(Duration),
    /// Sends the signal every 200 ms until the program ends: a pause() that has
    /// not started yet when the first one arrives would otherwise wait for ever
    /// (natively too).
    Repeat(i32),
    /// The program must still be running.
    Alive,
}

fn start(native: bool, mode: &str) -> Child {
    let prog = root().join("guest-images/bin/hostsig");
    let mut cmd = if native {
        Command::new(&prog)
    } else {
        let mut c = Command::new(env!("CARGO_BIN_EXE_growsdown"));
        c.arg("run").arg(&prog);
        c
    };
    cmd.arg(mode).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

fn kill(c: &Child, sig: i32) {
    // SAFETY: kill takes no pointers; the child has not been reaped (it is waited
    // for only after the last signal), so its pid is still ours.
    unsafe { libc::kill(c.id() as libc::pid_t, sig) };
}

/// Long enough that only a hang reaches it: then the program is killed with SIGKILL
/// and the test fails on the status (128+9).
const HANG: Duration = Duration::from_secs(300);

/// Runs `mode`, acts, and returns (stdout, 128+N or exit code).
fn run(native: bool, mode: &str, acts: &[Act]) -> (String, i32) {
    let mut c = start(native, mode);
    let mut out = BufReader::new(c.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert_eq!(first, "ready\n", "{mode} (native {native})");
    for a in acts {
        match a {
            Act::Send(s) => kill(&c, *s),
            Act::Wait(d) => std::thread::sleep(*d),
            Act::Repeat(s) => {
                while c.try_wait().unwrap().is_none() {
                    kill(&c, *s);
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
            Act::Alive => assert!(c.try_wait().unwrap().is_none(), "{mode} (native {native}) ended early"),
        }
    }
    // The watchdog fires only while the child's output is still open, that is while
    // the child (which starts nothing that could inherit it) is alive and so not
    // reaped (`wait` below comes after it is stopped and joined; a `try_wait` above
    // reaps only a child that has ended): the pid it signals is still this child's.
    let pid = c.id() as libc::pid_t;
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if stopped.recv_timeout(HANG).is_err() {
            // SAFETY: kill takes no pointers; the pid is the live child's (above).
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    let _ = stop.send(());
    watchdog.join().unwrap();
    let st = c.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    let code = st.code().or(st.signal().map(|s| 128 + s)).unwrap();
    (first + &rest, code)
}

fn same(mode: &str, acts: &[Act], want_code: i32) {
    let (n_out, n_code) = run(true, mode, acts);
    let (g_out, g_code) = run(false, mode, acts);
    assert_eq!(g_out, n_out, "{mode}: stdout under growsdown vs native");
    assert_eq!((n_code, g_code), (want_code, want_code), "{mode}: status (native, growsdown)");
}

const SHORT: Duration = Duration::from_millis(300);

#[test]
fn a_sigterm_handler_runs_in_the_guest() {
    same("handler", &[Act::Send(libc::SIGTERM)], 3);
}

#[test]
fn an_ignored_sigint_does_nothing_and_sigterm_kills() {
    same(
        "ignint",
        &[Act::Send(libc::SIGINT), Act::Wait(SHORT), Act::Alive, Act::Send(libc::SIGTERM)],
        128 + libc::SIGTERM,
    );
}

#[test]
fn pause_is_woken_by_sigusr1_with_a_handler() {
    same("pause", &[Act::Repeat(libc::SIGUSR1)], 0);
}

#[test]
fn sigsuspend_takes_a_blocked_sigusr2() {
    same("sigsuspend", &[Act::Send(libc::SIGUSR2)], 0);
}

#[test]
fn an_ignored_sigterm_keeps_the_guest_running_until_sigkill() {
    same(
        "ignterm",
        &[Act::Send(libc::SIGTERM), Act::Wait(SHORT), Act::Alive, Act::Send(libc::SIGKILL)],
        128 + libc::SIGKILL,
    );
}

/// A guest without handlers ends after SIGTERM, whether it computes or sleeps (the
/// forwarding takes at most one `Config::slice` of instructions); a signal that is
/// never looked at would hang until `HANG` and fail with 128+SIGKILL.
#[test]
fn sigterm_ends_a_guest_without_handlers_promptly() {
    for mode in ["spin", "ignint"] {
        let (_, code) = run(false, mode, &[Act::Send(libc::SIGTERM)]);
        assert_eq!(code, 128 + libc::SIGTERM, "{mode}");
    }
}

/// execve keeps ignored actions and the blocked mask, so the program started under
/// growsdown starts with those growsdown was started with (`nohup`, a shell's `&`),
/// as it would natively: busybox prints its /proc/self/status lines, natively and as
/// a guest, started both times with SIGHUP and SIGUSR1 ignored and SIGUSR2 blocked.
#[test]
fn the_first_process_inherits_ignored_and_blocked_signals() {
    use std::os::unix::process::CommandExt;
    let bb = support::busybox();
    let status = |native: bool| {
        let mut cmd = if native {
            Command::new(&bb)
        } else {
            let mut c = Command::new(env!("CARGO_BIN_EXE_growsdown"));
            c.arg("run").arg(&bb);
            c
        };
        cmd.args(["grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"]);
        // SAFETY: rt_sigaction, signal and sigprocmask are async-signal-safe; they
        // run in the forked child before exec. Every action is reset first (the test
        // runner may have been started with some ignored), through the raw call in
        // the kernel's x86-64 layout (handler, flags, restorer, mask).
        unsafe {
            cmd.pre_exec(|| {
                let dfl = [0u64; 4];
                for sig in 1..=64 {
                    if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                        libc::syscall(
                            libc::SYS_rt_sigaction,
                            sig,
                            dfl.as_ptr(),
                            std::ptr::null::<u8>(),
                            8usize,
                        );
                    }
                }
                libc::signal(libc::SIGHUP, libc::SIG_IGN);
                libc::signal(libc::SIGUSR1, libc::SIG_IGN);
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, libc::SIGUSR2);
                libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
                Ok(())
            });
        }
        let out = cmd.stdin(Stdio::null()).output().unwrap();
        assert!(out.status.success(), "native {native}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let native = status(true);
    assert!(native.contains("SigBlk:\t0000000000000800\n"), "{native}");
    assert!(native.contains("SigIgn:\t0000000000000201\n"), "{native}");
    assert_eq!(status(false), native);
}
