//! Debian's bash-static:i386 (growsdown issue 13): `/dev/fd/N`, `/dev/stdin` and
//! `/proc/self/fd/` are the guest's descriptors, so bash's process substitution and
//! here-strings work. Each line runs under `bash -c` natively on this host (which
//! executes i386 code, under `setarch linux32 -R`) and under growsdown; stdout and
//! the exit status must be the same. Commands other than bash's builtins are the i386
//! busybox's (`busybox cat`), from a PATH holding only it: growsdown runs i386
//! programs only.
//!
//! Both runs start with descriptors 0, 1 and 2 only (whatever the test runner
//! inherited is closed in the child), so fd numbers and /proc/self/fd listings are
//! the program's own. Standard input is a pipe the test writes one line into.
//!
//! tests/run unpacks the binary to target/corpus/bash (GROWSDOWN_BASH); without it
//! the test is skipped, and fails under `CI=true`.

#[path = "support/mod.rs"]
mod support;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use support::{bash_static, busybox};

const INPUT: &[u8] = b"from the test\n";

/// The lines `bash -c` runs (`$D` is a directory with a file `two-lines`).
const LINES: &[&str] = &[
    // Process substitution, both ways.
    "busybox cat <(echo hi)",
    "read x < <(echo sub); echo \"$x\"",
    "busybox diff <(echo a; echo b) <(echo a; echo c); echo status $?",
    "busybox paste <(busybox seq 3) <(busybox seq 4 6)",
    "while read l; do echo \"got $l\"; done < <(busybox seq 3)",
    "mapfile -t a < <(printf 'a\\nb\\n'); echo ${#a[@]} ${a[1]}",
    "source <(echo echo sourced)",
    "echo <(true) | busybox sed 's/[0-9]*$/N/'",
    "echo x > >(read y; echo \"got $y\"); wait $!",
    "busybox tee >(busybox wc -c) <<< abc >/dev/null; wait $!",
    "busybox wc -l < <(busybox seq 5)",
    // The substitution outlives bash: its output still comes (growsdown issue 13).
    "echo late > >(busybox sleep 0.1; busybox cat); echo early",
    // /dev/stdin and /dev/fd/N: the guest's descriptors.
    "busybox cat /dev/fd/0",
    "busybox cat /dev/stdin",
    "x=$(< /dev/stdin); echo \"[$x]\"",
    "echo $(< /dev/fd/0)",
    "read x < /dev/stdin; echo \"$x\"",
    "echo hi | busybox cat /dev/fd/0",
    "echo hi | busybox cat /dev/stdin",
    "[ -e /dev/fd/0 ] && echo fd 0 exists",
    "busybox cat /dev/fd/3 3<$D/two-lines",
    "busybox cat /dev/fd/4 4<<<four",
    "exec 3<&0; busybox cat /proc/self/fd/3",
    "busybox readlink /proc/self/fd/0 < $D/two-lines",
    // Here-strings and here-documents.
    "busybox cat <<< 'here string'",
    "busybox cat /dev/stdin <<< 'from here'",
    "echo $(busybox cat /dev/fd/0 <<< hs)",
    "busybox cat <<EOF\nhere document\nEOF",
    // Descriptors bash opens itself.
    "exec 3< $D/two-lines; read -u 3 x; echo \"$x\"; read -u 3 y; echo \"$y\"",
    "exec {fd}< $D/two-lines; read -u $fd l; echo \"$l $fd\"",
    // Listings of the guest's descriptors.
    "echo /proc/self/fd/*",
    "busybox ls /dev/fd/",
    "busybox ls /proc/self/fd | busybox wc -l",
    "exit 7",
];

fn run(cmd: &mut Command, dir: &Path, bin: &Path) -> Output {
    cmd.env_clear()
        .env("PATH", bin)
        .env("LC_ALL", "C")
        .env("D", dir)
        // No ~/.bashrc of the host's user: bash reads it when it takes its input for
        // a network connection (Debian's SSH_SOURCE_BASHRC).
        .env("HOME", dir)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: close_range takes no pointers and is async-signal-safe; it runs in the
    // forked child before exec, closing what the test runner inherited above fd 2.
    unsafe {
        cmd.pre_exec(|| {
            libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // The line may never read its input: a closed pipe is no error here.
    let _ = stdin.write_all(INPUT);
    drop(stdin);
    child.wait_with_output().unwrap()
}

#[test]
fn bash_lines_match_native() {
    let Some(bash) = bash_static() else { return };
    let dir = std::env::temp_dir().join(format!("growsdown-bash-{}", std::process::id()));
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let _ = std::fs::remove_file(bin.join("busybox"));
    std::os::unix::fs::symlink(busybox(), bin.join("busybox")).unwrap();
    std::fs::write(dir.join("two-lines"), "line one\nline two\n").unwrap();
    // Found in the test's PATH: the runs' PATH holds busybox only.
    let setarch = std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).map(|d| d.join("setarch")).find(|p| p.is_file()))
        .expect("setarch (util-linux) on PATH");
    let mut failures = Vec::new();
    for line in LINES {
        let native =
            run(Command::new(&setarch).args(["linux32", "-R"]).arg(&bash).args(["-c", line]), &dir, &bin);
        let ours = run(
            Command::new(env!("CARGO_BIN_EXE_growsdown")).arg("run").arg(&bash).args(["-c", line]),
            &dir,
            &bin,
        );
        assert!(!native.stdout.is_empty() || native.status.code() != Some(0), "{line}: no native output");
        if native.stdout != ours.stdout || native.status.code() != ours.status.code() {
            failures.push(format!(
                "bash -c {line:?}: native exit {:?}, growsdown exit {:?}\n--- native stdout\n{}--- growsdown stdout\n{}--- growsdown stderr\n{}",
                native.status.code(),
                ours.status.code(),
                String::from_utf8_lossy(&native.stdout),
                String::from_utf8_lossy(&ours.stdout),
                String::from_utf8_lossy(&ours.stderr),
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        failures.is_empty(),
        "{} of {} lines differ:\n\n{}",
        failures.len(),
        LINES.len(),
        failures.join("\n\n")
    );
}
