//! End-to-end: every case of `guest-images/expected/manifest` runs under
//! `Kernel::new` + `exec::load_elf_binary` + `run` (then `run_rest` for processes
//! that outlive the first), with stdout captured through the guest's fd 1, and must
//! print `expected/CASE.out` and end as the manifest says.

use std::io::{Read, Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use growsdown_kernel::files::OpenFile;
use growsdown_kernel::{exec, Config, ExitStatus, Kernel};

fn images() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guest-images")
}

struct Case {
    name: String,
    binary: String,
    exit: String,
    env: Vec<Vec<u8>>,
    args: Vec<Vec<u8>>,
    /// The optional 7th column, `growsdown run` options: `--mem SIZE`, `--swap SIZE`.
    opts: Vec<String>,
}

fn manifest() -> Vec<Case> {
    let text = std::fs::read_to_string(images().join("expected/manifest")).expect("manifest");
    let mut v = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split('|').map(str::trim).collect();
        if f.len() < 6 {
            continue;
        }
        let words = |s: &str| s.split_whitespace().map(|w| w.as_bytes().to_vec()).collect::<Vec<_>>();
        v.push(Case {
            name: f[0].into(),
            binary: f[1].into(),
            exit: f[2].into(),
            env: words(f[4]),
            args: words(f[5]),
            opts: f.get(6).map_or_else(Vec::new, |o| o.split_whitespace().map(String::from).collect()),
        });
    }
    v
}

/// Runs one case; returns (stdout, status).
fn run_case(c: &Case) -> (Vec<u8>, ExitStatus) {
    let bin = images().join("bin").join(&c.binary);
    let path = bin.to_str().expect("utf-8 path").to_string();
    // Processes that outlive the first one run to their end after it (as the CLI's
    // host child runs them), so their output is there too.
    let mut config = Config { keep_others: true, ..Config::default() };
    for pair in c.opts.chunks(2) {
        match pair {
            [o, v] if o == "--mem" => config.mem_bytes = size(v) as usize,
            [o, v] if o == "--swap" => config.swap_bytes = size(v),
            _ => panic!("{}: run option {pair:?} not known here", c.name),
        }
    }
    let mut k = Kernel::new(config).expect("kernel");
    let mut argv = vec![path.as_bytes().to_vec()];
    argv.extend(c.args.iter().cloned());
    exec::load_elf_binary(&mut k, &path, &argv, &c.env).expect("exec");
    let mut out = tempfile();
    let host = out.as_raw_fd();
    // SAFETY: dup of a live fd.
    let dup = unsafe { libc::dup(host) };
    assert!(dup >= 0);
    k.task.files.install(1, OpenFile::new(dup));
    let st = k.run();
    k.run_rest();
    let mut s = Vec::new();
    out.seek(SeekFrom::Start(0)).unwrap();
    out.read_to_end(&mut s).unwrap();
    (s, st)
}

/// `16M`, `64K`, `1G` or bytes, as the CLI parses sizes.
fn size(s: &str) -> u64 {
    let (n, mult) = match s.as_bytes().last() {
        Some(b'K') => (&s[..s.len() - 1], 1 << 10),
        Some(b'M') => (&s[..s.len() - 1], 1 << 20),
        Some(b'G') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    n.parse::<u64>().expect("a size") * mult
}

fn tempfile() -> std::fs::File {
    let dir = std::env::temp_dir();
    for i in 0..1000u32 {
        let p = dir.join(format!("growsdown-sys-{}-{i}", std::process::id()));
        if let Ok(f) = std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(&p) {
            let _ = std::fs::remove_file(&p);
            return f;
        }
    }
    panic!("no temp file");
}

fn status_text(st: &ExitStatus) -> String {
    match st {
        ExitStatus::Exited(c) => c.to_string(),
        ExitStatus::Signaled { signo, .. } => format!("signal {signo}"),
    }
}

#[test]
fn guest_images_match_expected_output_and_status() {
    if !images().join("bin").exists() {
        eprintln!("guest-images/bin missing: nothing to run");
        return;
    }
    let mut failures = Vec::new();
    let mut ran = 0;
    for c in manifest() {
        if !images().join("bin").join(&c.binary).exists() {
            continue;
        }
        ran += 1;
        let (out, st) = run_case(&c);
        let want =
            std::fs::read(images().join("expected").join(format!("{}.out", c.name))).unwrap_or_default();
        let got_status = status_text(&st);
        if out != want || got_status != c.exit {
            failures.push(format!(
                "{}: status {} (want {})\n--- got\n{}--- want\n{}",
                c.name,
                got_status,
                c.exit,
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&want)
            ));
        }
    }
    assert!(ran > 0);
    assert!(failures.is_empty(), "{} of {ran} cases failed:\n{}", failures.len(), failures.join("\n"));
}
