//! Every case of guest-images/expected/manifest, run through the `growsdown` binary:
//! stdout must equal the golden file (expected/CASE.out, the spec's outcome) and the
//! exit status the manifest's "exit" column (a death by signal N is 128+N).

#[path = "support/mod.rs"]
mod support;
use std::process::{Command, Stdio};
use support::root;

struct Case {
    name: String,
    binary: String,
    exit: i32,
    env: Vec<String>,
    args: Vec<String>,
    /// The optional seventh column: `growsdown run` options (`--mem 16M --swap 64M`).
    opts: Vec<String>,
}

fn cases() -> Vec<Case> {
    let manifest = std::fs::read_to_string(root().join("guest-images/expected/manifest")).unwrap();
    manifest
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('|').map(str::trim).collect();
            assert!(f.len() == 6 || f.len() == 7, "manifest line: {l}");
            let exit = match f[2].strip_prefix("signal ") {
                Some(sig) => 128 + sig.parse::<i32>().unwrap(),
                None => f[2].parse().unwrap(),
            };
            let words = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
            let opts = f.get(6).map_or_else(Vec::new, |o| words(o));
            Case { name: f[0].into(), binary: f[1].into(), exit, env: words(f[4]), args: words(f[5]), opts }
        })
        .collect()
}

fn run_case(c: &Case) -> Result<(), String> {
    let r = root();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_growsdown"));
    cmd.arg("run").args(&c.opts).arg(r.join("guest-images/bin").join(&c.binary)).args(&c.args);
    cmd.env_clear().current_dir(std::env::temp_dir()).stdin(Stdio::null());
    for kv in &c.env {
        let (k, v) = kv.split_once('=').unwrap();
        cmd.env(k, v);
    }
    let out = cmd.output().map_err(|e| format!("{}: cannot start growsdown: {e}", c.name))?;
    let want = std::fs::read(r.join("guest-images/expected").join(format!("{}.out", c.name))).unwrap();
    let code = out.status.code().unwrap_or(-1);
    let mut problems = Vec::new();
    if out.stdout != want {
        problems.push(format!(
            "stdout differs\n--- expected\n{}--- got\n{}",
            String::from_utf8_lossy(&want),
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    if code != c.exit {
        problems.push(format!("exit status {code}, expected {}", c.exit));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}: {}\nstderr: {}", c.name, problems.join("; "), String::from_utf8_lossy(&out.stderr)))
    }
}

/// Cases that need a kernel feature not built yet, with the reason. They must still
/// fail: when one starts passing, the test says so and it leaves this list.
const PENDING: &[(&str, &str)] = &[];

#[test]
fn every_guest_image_case_matches_the_spec() {
    let cases = cases();
    assert!(cases.len() >= 30, "manifest has {} cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let pending = PENDING.iter().find(|(n, _)| *n == c.name);
        match (run_case(c), pending) {
            (Ok(()), None) => {}
            (Err(e), None) => failures.push(e),
            (Err(_), Some((_, why))) => eprintln!("{}: pending: {why}", c.name),
            (Ok(()), Some(_)) => failures.push(format!("{}: passes now; remove it from PENDING", c.name)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// A store through a MAP_SHARED mapping, msync'd, is in the host file while the
/// guest still runs (it waits for end of input before exiting): the kernel wrote
/// the dirty page back, not the exit.
#[test]
fn msync_reaches_the_host_file_while_the_guest_runs() {
    use std::io::{BufRead, BufReader};
    let dir = std::env::temp_dir().join(format!("growsdown-msync-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_growsdown"))
        .arg("run")
        .arg(root().join("guest-images/bin/shared-file"))
        .arg("msync-wait")
        .arg(&file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "synced\n");
    let data = std::fs::read(&file).unwrap();
    assert_eq!(data.len(), 4096);
    assert!(data.starts_with(b"stored through the mapping\n"), "{:?}", &data[..32]);
    assert!(child.try_wait().unwrap().is_none(), "the guest still runs");
    drop(child.stdin.take());
    let st = child.wait().unwrap();
    assert_eq!(st.code(), Some(0));
    std::fs::remove_dir_all(&dir).unwrap();
}
