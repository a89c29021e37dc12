//! exec of host programs (growsdown issue 14): a guest that execs a program that is
//! not i386 (the host's x86-64 coreutils, /bin/sh) gets it run as a host process that
//! keeps its guest pid — its output, its exit status or signal, `kill` from the
//! guest, `wait`, pipes between it and guest processes — as natively, where an i386
//! shell runs the host's tools the same way. Each run's stdout and exit status are
//! compared with the same command run natively.
//!
//! The tools are named by path (`/usr/bin/seq`), so that busybox's shell execs them
//! rather than running its own applet; `getconf LONG_BIT` says 64 only from the
//! host's x86-64 program (busybox has no such applet).

#[path = "support/mod.rs"]
mod support;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use support::tool::need;
use support::{bash_static, busybox};

fn growsdown() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_growsdown"));
    c.arg("run");
    c
}

fn run(cmd: &mut Command, dir: &Path) -> Output {
    // Signals the test runner was started with ignored (SIGWINCH, 32...) would stay
    // ignored natively but not in the guest, whose first process starts with every
    // action default: both runs start with defaults.
    // SAFETY: rt_sigaction (the kernel's x86-64 layout: handler, flags, restorer,
    // mask) is async-signal-safe; it runs in the forked child before exec.
    unsafe {
        cmd.pre_exec(|| {
            let dfl = [0u64; 4];
            for sig in 1..=64 {
                if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                    libc::syscall(libc::SYS_rt_sigaction, sig, dfl.as_ptr(), std::ptr::null::<u8>(), 8usize);
                }
            }
            Ok(())
        });
    }
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("LC_ALL", "C")
        .env("HOME", dir)
        .env("HOSTEXEC_VAR", "yes")
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Both runs give the same stdout and exit status; returns growsdown's stdout.
fn same(what: &str, native: Output, ours: Output) -> String {
    assert_eq!(
        (native.stdout.as_slice(), native.status.code()),
        (ours.stdout.as_slice(), ours.status.code()),
        "{what}\nnative: {}\ngrowsdown: {}",
        show(&native),
        show(&ours)
    );
    String::from_utf8_lossy(&ours.stdout).into_owned()
}

fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("growsdown-host-exec-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn tools() -> bool {
    ["seq", "tr", "wc", "sort", "sleep", "getconf", "env", "grep"].iter().all(|t| need(t, "coreutils"))
        && need("setarch", "util-linux")
}

fn busybox_sh(dir: &Path, script: &str) -> String {
    let bb = busybox();
    let native =
        run(Command::new("setarch").args(["linux32", "-R"]).arg(&bb).args(["sh", "-c", script]), dir);
    let ours = run(growsdown().arg(&bb).args(["sh", "-c", script]), dir);
    same(&format!("busybox sh -c {script:?}"), native, ours)
}

#[test]
fn busybox_sh_runs_host_tools() {
    if !tools() {
        return;
    }
    let dir = scratch("busybox");
    assert_eq!(busybox_sh(&dir, "/usr/bin/seq 3 | /usr/bin/tr 1 x; echo $?"), "x\n2\n3\n0\n");
    assert_eq!(busybox_sh(&dir, "/usr/bin/getconf LONG_BIT"), "64\n");
    busybox_sh(&dir, "seq 3 | tr 1 x; echo $?");
    busybox_sh(&dir, "/bin/false; echo $?; /usr/bin/sleep 100 & kill $!; wait $!; echo $?");
    busybox_sh(&dir, "x=$(/usr/bin/seq 2 4 | /usr/bin/wc -l); echo \"[$x]\"");
    // The shell itself becomes the host program: growsdown exits with its status.
    busybox_sh(&dir, "exec /usr/bin/getconf LONG_BIT");
    busybox_sh(&dir, "exec /bin/false");
    busybox_sh(&dir, "exec /bin/sh -c 'exit 7'");
    // A background host program outlives the shell; its output still comes.
    busybox_sh(&dir, "(/usr/bin/sleep 0.3; /usr/bin/echo late) & echo early");
    // ELF files the host refuses (a truncated x86-64 one, an ARM one): the host's
    // execve error is the guest's (ENOEXEC: the shell then reads them as scripts).
    let true_head = std::fs::read("/bin/true").unwrap();
    let mut arm = b"\x7fELF\x01\x01\x01".to_vec();
    arm.resize(18, 0);
    arm.extend_from_slice(&[40, 0]);
    arm.resize(120, 0);
    for (name, bytes) in [("trunc", &true_head[..200]), ("arm32", &arm[..])] {
        std::fs::write(dir.join(name), bytes).unwrap();
        std::fs::set_permissions(dir.join(name), std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
    }
    busybox_sh(&dir, "./trunc 2>/dev/null; echo $?; ./arm32 2>/dev/null; echo $?");
    // A host program orphaned while it runs: reparented as any guest process.
    busybox_sh(&dir, "(/bin/sh -c 'sleep 0.3; echo orphan' &); echo early");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The first process execs a host program that is killed by a signal: growsdown
/// exits 128 + the signal, as for a guest killed by it.
#[test]
fn init_exec_host_killed_by_signal() {
    if !tools() {
        return;
    }
    let dir = scratch("killed");
    let o = run(growsdown().arg(busybox()).args(["sh", "-c", "exec /bin/sh -c 'kill -TERM $$'"]), &dir);
    assert_eq!(o.status.code(), Some(143), "{}", show(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `growsdown run` of a host program itself is refused as not i386: 126, one line.
#[test]
fn run_of_a_host_program_is_refused() {
    let o = run(growsdown().arg("/bin/true"), &std::env::temp_dir());
    assert_eq!(o.status.code(), Some(126), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("growsdown: /bin/true: not an i386 program (ELF e_machine 62)"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// The script bash runs, with host tools: the same output from the i386 bash-static
/// under growsdown as from the host's own bash.
const SCRIPT: &str = r#"
printf 'b\na\nc\n' > f
/usr/bin/sort f
/usr/bin/wc -l < f
sort -r f | head -n 1
x=$(/usr/bin/tr a-z A-Z < f); echo "$x"
/bin/false; echo "false: $?"
/bin/sh -c 'kill -TERM $$' 2>/dev/null; echo "sh killed: $?"
/usr/bin/sleep 100 & kill $!; wait $!; echo "sleep killed: $?"
/usr/bin/seq 3 | /usr/bin/tr 1 x; echo "pipestatus: ${PIPESTATUS[*]}"
( exec /usr/bin/sh -c 'exit 9' ); echo "subshell exec: $?"
/usr/bin/env | grep -c '^HOSTEXEC_VAR=yes$'
cd /usr && /usr/bin/pwd; cd - >/dev/null
(umask 027; /usr/bin/sh -c umask)
exec 4<f; /usr/bin/sh -c 'read l <&4; echo "fd 4: $l"'
trap '' USR1; /usr/bin/grep SigIgn /proc/self/status; trap - USR1
/usr/bin/sh -c 'exit 3' & wait $!; echo "background: $?"
echo done
"#;

#[test]
fn bash_script_with_host_tools_matches_host_bash() {
    if !tools() || !need("bash", "bash") {
        return;
    }
    let Some(bash) = bash_static() else { return };
    let dir = scratch("bash");
    std::fs::write(dir.join("script.sh"), SCRIPT).unwrap();
    let native = run(Command::new("bash").arg("script.sh"), &dir);
    let ours = run(growsdown().arg(&bash).arg("script.sh"), &dir);
    let out = same("bash script.sh", native, ours);
    assert!(out.contains("false: 1\nsh killed: 143\nsleep killed: 143\n"), "{out}");
    assert!(out.ends_with("background: 3\ndone\n"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
