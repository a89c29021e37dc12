//! Debian's busybox-static:i386, a program nobody here wrote: each applet run under
//! growsdown must give the same stdout and exit status as the same binary run
//! natively on this host (which executes i386 code), under `setarch linux32 -R` so
//! `uname -m` says i686 and nothing is randomised.
//!
//! tests/run unpacks the binary to target/corpus/busybox (GROWSDOWN_BUSYBOX).

#[path = "support/mod.rs"]
mod support;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use support::busybox;

/// A deterministic text file of `lines` lines of words and numbers.
fn make_input(dir: &Path, lines: usize) -> PathBuf {
    let words = ["alpha", "Bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"];
    let mut x: u32 = 0x1234_5678;
    let mut text = String::new();
    for i in 0..lines {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let w = words[(x % 10) as usize];
        text.push_str(&format!("{w} {} line{i} {}\n", x % 1000, words[(x >> 8) as usize % 10]));
    }
    let p = dir.join("input.txt");
    std::fs::write(&p, text).unwrap();
    p
}

fn run(cmd: &mut Command, stdin: Option<&Path>) -> Output {
    cmd.env_clear().env("PATH", "/usr/bin:/bin").env("LC_ALL", "C");
    cmd.stdin(match stdin {
        Some(p) => Stdio::from(std::fs::File::open(p).unwrap()),
        None => Stdio::null(),
    });
    cmd.output().unwrap()
}

fn compare(dir: &Path, args: &[&str], stdin: Option<&Path>) -> Result<(), String> {
    let bb = busybox();
    let native =
        run(Command::new("setarch").args(["linux32", "-R"]).arg(&bb).args(args).current_dir(dir), stdin);
    let ours = run(
        Command::new(env!("CARGO_BIN_EXE_growsdown")).arg("run").arg(&bb).args(args).current_dir(dir),
        stdin,
    );
    if native.stdout == ours.stdout && native.status.code() == ours.status.code() {
        Ok(())
    } else {
        Err(format!(
            "busybox {}: native exit {:?}, growsdown exit {:?}\n--- native stdout\n{}--- growsdown stdout\n{}--- growsdown stderr\n{}",
            args.join(" "),
            native.status.code(),
            ours.status.code(),
            String::from_utf8_lossy(&native.stdout),
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&ours.stderr),
        ))
    }
}

#[test]
fn busybox_applets_match_native() {
    let dir = std::env::temp_dir().join(format!("growsdown-busybox-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = make_input(&dir, 3000);
    let inp = input.to_str().unwrap();
    // More than a pipe holds, through busybox cat's sendfile.
    let cat_pipes = format!("cat {inp} | head -n 2; cat {inp} | wc -l; cat {inp} | md5sum");
    let cases: Vec<(Vec<&str>, Option<&Path>)> = vec![
        (vec!["echo", "hello", "world"], None),
        (vec!["echo", "-n", "no newline"], None),
        (vec!["echo", "-e", "tab\\there\\nnew line"], None),
        (vec!["cat", inp], None),
        (vec!["wc", inp], None),
        (vec!["wc", "-l", "-w", "-c"], Some(&input)),
        (vec!["sort", inp], None),
        (vec!["sort", "-r", inp], None),
        (vec!["sort", "-n", "-k", "2", inp], None),
        (vec!["sort", "-u", "-f", inp], None),
        (vec!["md5sum", inp], None),
        (vec!["sha256sum", inp], None),
        (vec!["seq", "1", "100"], None),
        (vec!["seq", "10", "-3", "-20"], None),
        (vec!["seq", "0", "0.25", "3"], None),
        (vec!["expr", "3", "+", "4", "*", "5"], None),
        (vec!["expr", "length", "growsdown"], None),
        (vec!["expr", "7", "/", "0"], None),
        (vec!["expr", "abc", ":", "a\\(.\\)"], None),
        (vec!["uname", "-s", "-m"], None),
        (vec!["basename", "/usr/share/doc/notes.txt", ".txt"], None),
        (vec!["head", "-n", "7", inp], None),
        (vec!["head", "-c", "100", inp], None),
        (vec!["tr", "a-z", "A-Z"], Some(&input)),
        (vec!["tr", "-d", "aeiou"], Some(&input)),
        (vec!["sh", "-c", "i=0; while [ $i -lt 50 ]; do i=$((i+1)); echo line $i; done; exit 3"], None),
        (vec!["cat", "/nonexistent/file"], None),
        // Several processes: command substitution and pipelines fork (busybox runs
        // the applets in the forked children), the shell waits for them (wait4,
        // SIGCHLD) and reads their output through pipes.
        (vec!["sh", "-c", "echo $(echo hi)"], None),
        (vec!["sh", "-c", "seq 1 1000 | sort -r | head -n 3"], None),
        (vec!["sh", "-c", "false; echo $?"], None),
        (vec!["sh", "-c", "x=$(expr 6 \\* 7); echo $x"], None),
        (vec!["sh", "-c", "cat /nonexistent 2>/dev/null | wc -l; echo ${PIPESTATUS:-done}"], None),
        (vec!["sh", "-c", "(exit 7); echo $?; (cd /; pwd); pwd >/dev/null; sh -c 'exit 3'; echo $?"], None),
        (vec!["sh", "-c", "seq 1 20000 | head -n 2; seq 1 5 | tr '\\n' ' '; echo"], None),
        (vec!["sh", "-c", "sleep 0.05 & wait $!; echo waited $?"], None),
        (vec!["sh", "-c", "sleep 5 & kill $!; wait $!; echo $?"], None),
        (vec!["sh", "-c", &cat_pipes], None),
        (vec!["sh", "-c", "trap 'echo got USR1' USR1; kill -USR1 $$; echo after"], None),
    ];
    let failures: Vec<String> = cases.iter().filter_map(|(a, i)| compare(&dir, a, *i).err()).collect();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        failures.is_empty(),
        "{} of {} applet runs differ:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// Processes that outlive the shell (growsdown issue 13): `sh -c 'sleep 0.2 && echo
/// late & echo early'` prints both lines, as natively, and growsdown exits with the
/// shell's status while a background child still runs. That child reads a line the
/// test writes only once growsdown has exited, so the order is certain without timing.
#[test]
fn background_children_outlive_the_shell() {
    use std::io::{Read, Write};
    let dir = std::env::temp_dir();
    compare(&dir, &["sh", "-c", "sleep 0.2 && echo late & echo early"], None).unwrap();
    compare(&dir, &["sh", "-c", "(sleep 0.1; echo orphan; exit 4) & echo parent; exit 5"], None).unwrap();

    // The orphan's parent is then the host's init (exit::HOST_REAPER_PID), as
    // natively without a subreaper: the `getppid() == 1` test of daemons holds.
    let ours = run(
        Command::new(env!("CARGO_BIN_EXE_growsdown")).arg("run").arg(busybox()).args([
            "sh",
            "-c",
            // The shell exits before its child runs (the parent goes on after fork).
            "(while read k v; do [ \"$k\" = PPid: ] && echo \"$k $v\"; done < /proc/self/status) & exit 0",
        ]),
        None,
    );
    assert_eq!(String::from_utf8_lossy(&ours.stdout), "PPid: 1\n");

    let script = "exec 3<&0; (read x <&3; echo late $x) & echo early; exit 6";
    let bb = busybox();
    let mut native = Command::new("setarch");
    native.args(["linux32", "-R"]).arg(&bb).args(["sh", "-c", script]);
    let mut ours = Command::new(env!("CARGO_BIN_EXE_growsdown"));
    ours.arg("run").arg(&bb).args(["sh", "-c", script]);
    for mut cmd in [native, ours] {
        let what = format!("{cmd:?}");
        let mut child = cmd
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // The shell exits while its child waits for the line. The child waits for
        // ever, so a shell that waited for it would never exit: five minutes turn that
        // hang into a failure (a run takes milliseconds; nothing is measured).
        let start = std::time::Instant::now();
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            if start.elapsed().as_secs() > 300 {
                let _ = child.kill();
                panic!("{what}: did not exit while its child waits");
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        assert_eq!(status.code(), Some(6), "{what}");
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"go\n").unwrap();
        drop(stdin);
        let mut out = String::new();
        child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        assert_eq!(out, "early\nlate go\n", "{what}");
    }
}
