//! `growsdown run PROG` applies exec's checks and exits like a shell (issue 14):
//!
//! * a missing file: status 127, "growsdown: PROG: No such file or directory";
//! * a directory, a FIFO, a character device (`/dev/zero`), a regular file without an
//!   execute bit (even for root: `generic_permission` wants one x bit): status 126,
//!   "Permission denied", at once — a FIFO is never opened blocking and a device is
//!   never read (today's `do_open_execat` / `may_open`);
//! * a malformed ELF: 126 with the loader's sentence (ENOEXEC);
//! * the loader reads only the header, the program headers and the interpreter path:
//!   a guest image grown to a 3 GiB sparse file runs with its usual output, and the
//!   same file with a program header table beyond its end fails — growsdown reads a
//!   few hundred KiB of it either way and host memory stays far below its size.
//!
//! "At once" is checked by what was done, not by a clock: each run's bytes read
//! (`rchar` in /proc/PID/io, read while the child is a zombie) and the children's
//! peak RSS. The one deadline, `HANG`, only turns a hang (a blocking open of the
//! FIFO) into a failure instead of a stuck suite; it is minutes, far beyond any run.

#[path = "../../../tests/support/mod.rs"]
mod support;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::root;

/// Long enough that only a hang reaches it.
const HANG: Duration = Duration::from_secs(300);

/// Runs `growsdown ARGS`; returns its output and the bytes it read through system
/// calls (`rchar`: read, pread, readv, sendfile …; a file mapped with mmap and never
/// touched counts nothing, one read with `read` counts in full).
fn growsdown(args: &[&str]) -> (Output, u64) {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_growsdown"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run growsdown");
    let pid = child.id();
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            r.read_to_end(&mut v).unwrap();
            v
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    // Wait for the exit without reaping, so /proc/PID/io still holds the totals.
    let start = Instant::now();
    loop {
        // SAFETY: `siginfo_t` is a plain C struct; all zeroes is a valid value.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is writable; `pid` is our unreaped child (WNOWAIT leaves it so).
        let r = unsafe {
            libc::waitid(libc::P_PID, pid, &mut info, libc::WEXITED | libc::WNOWAIT | libc::WNOHANG)
        };
        assert_eq!(r, 0, "waitid: {}", std::io::Error::last_os_error());
        // SAFETY: filled by waitid above; zero while the child still runs.
        if unsafe { info.si_pid() } != 0 {
            break;
        }
        if start.elapsed() > HANG {
            let _ = child.kill();
            panic!("growsdown {args:?} did not exit; killed after {HANG:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).expect("read /proc/PID/io");
    let rchar = io
        .lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .and_then(|v| v.parse().ok())
        .expect("rchar in /proc/PID/io");
    let status = child.wait().unwrap();
    let output = Output { status, stdout: out.join().unwrap(), stderr: err.join().unwrap() };
    (output, rchar)
}

/// A fresh folder of this test's own under the temporary directory.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("growsdown-exec-checks-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The most a run that reads one ELF header and its program headers may read: the
/// host's own start-up reads (/proc/self/maps, ld.so's libraries) included.
const HEADERS_ONLY: u64 = 64 << 10;

/// Runs PROG; expects `code` and exactly the one line `line` on stderr, having read
/// no more than a header's worth (an unbounded read of /dev/zero would read it all).
fn expect(prog: &Path, code: i32, line: &str) {
    let (o, read) = growsdown(&["run", prog.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(code), "{}: {}", prog.display(), stderr(&o));
    assert_eq!(stderr(&o), format!("{line}\n"), "{}", prog.display());
    assert!(o.stdout.is_empty());
    assert!(read < HEADERS_ONLY, "{}: read {read} bytes", prog.display());
}

#[test]
fn missing_file_is_127() {
    let d = scratch("missing");
    let p = d.join("nope");
    expect(&p, 127, &format!("growsdown: {}: No such file or directory", p.display()));
    // A missing directory on the way is ENOENT too.
    let p = d.join("no/such/prog");
    expect(&p, 127, &format!("growsdown: {}: No such file or directory", p.display()));
}

#[test]
fn not_a_regular_file_is_126_at_once() {
    let d = scratch("kinds");
    let dir = d.join("dir");
    std::fs::create_dir(&dir).unwrap();
    expect(
        &dir,
        126,
        &format!("growsdown: {}: Permission denied (a directory cannot be executed)", dir.display()),
    );
    let fifo = d.join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: `c` is a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o755) }, 0);
    expect(
        &fifo,
        126,
        &format!("growsdown: {}: Permission denied (a FIFO cannot be executed)", fifo.display()),
    );
    expect(
        Path::new("/dev/zero"),
        126,
        "growsdown: /dev/zero: Permission denied (a character device cannot be executed)",
    );
}

#[test]
fn no_execute_bit_is_126() {
    let d = scratch("mode");
    let p = d.join("hello");
    std::fs::copy(root().join("guest-images/bin/hello-glibc"), &p).unwrap();
    for mode in [0o644, 0o600, 0o000] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        expect(&p, 126, &format!("growsdown: {}: Permission denied (no execute permission)", p.display()));
    }
    // One x bit anywhere is enough for root (and the owner's for its owner).
    let mode = if unsafe_geteuid() == 0 { 0o601 } else { 0o700 };
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    let (o, _) = growsdown(&["run", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

fn unsafe_geteuid() -> u32 {
    // SAFETY: geteuid takes no arguments and cannot fail.
    unsafe { libc::geteuid() }
}

#[test]
fn malformed_elf_is_126_enoexec() {
    let d = scratch("malformed");
    let p = d.join("bad");
    std::fs::write(&p, b"\x7fELF\x01\x01\x01\0\0\0").unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    expect(
        &p,
        126,
        &format!(
            "growsdown: {}: truncated: the file is 10 bytes, shorter than the 52-byte ELF32 header",
            p.display()
        ),
    );
}

/// Peak resident set of the process's waited-for children, in KiB.
fn children_maxrss_kib() -> i64 {
    // SAFETY: `ru` is a plain C struct that getrusage fills.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable `struct rusage`.
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) }, 0);
    ru.ru_maxrss
}

#[test]
fn sparse_three_gib_elf_starts_at_once() {
    const SIZE: u64 = 3 << 30;
    let d = scratch("sparse");
    let image = root().join("guest-images/bin/hello-glibc");
    let big = d.join("hello-big");
    std::fs::copy(&image, &big).unwrap();
    std::fs::OpenOptions::new().write(true).open(&big).unwrap().set_len(SIZE).unwrap();
    assert_eq!(std::fs::metadata(&big).unwrap().len(), SIZE);

    let (small, small_read) = growsdown(&["run", "--mem", "64M", image.to_str().unwrap()]);
    let (o, read) = growsdown(&["run", "--mem", "64M", big.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(o.stdout, small.stdout);
    eprintln!("read: {small_read} bytes for the image, {read} for it grown to 3 GiB");
    // What the image itself costs (its segments lie in its first KiBs; 282,412 bytes
    // both ways here), give or take a header's worth: not the file's 3 GiB.
    assert!(
        read <= small_read + HEADERS_ONLY,
        "read {read} bytes from the 3 GiB file, {small_read} from the image"
    );

    // Program headers claimed past the end of the file: a clean ENOEXEC, at once.
    let f = std::fs::OpenOptions::new().write(true).open(&big).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&f, &0xFFFF_FF00u32.to_le_bytes(), 28).unwrap();
    drop(f);
    let (o, read) = growsdown(&["run", "--mem", "64M", big.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(126));
    assert!(
        stderr(&o).contains("program header 0 (at file offset 0xffffff00) lies beyond"),
        "{}",
        stderr(&o)
    );
    assert!(read < HEADERS_ONLY, "read {read} bytes");

    // Every child of this test binary so far stayed far below the file's size.
    let rss = children_maxrss_kib();
    assert!(rss < 512 * 1024, "peak RSS {rss} KiB");
    let _ = std::fs::remove_dir_all(&d);
}

/// The host's i386 dynamic linker, or None (skipped; a failure under `CI=true`).
fn host_ld_so() -> Option<PathBuf> {
    let p = Path::new("/lib/ld-linux.so.2");
    if p.exists() {
        return Some(p.canonicalize().unwrap());
    }
    assert!(
        std::env::var_os("CI").is_none_or(|v| v != "true"),
        "/lib/ld-linux.so.2 missing and CI=true: install libc6-i386 (gcc-multilib)"
    );
    eprintln!("SKIPPED: /lib/ld-linux.so.2 not found (apt-get install libc6-i386)");
    None
}

/// `--sysroot DIR`: PT_INTERP is looked up in DIR first (a copy of ld.so there is the
/// one mapped: made non-executable, exec fails with its name), and so are the
/// guest's own absolute paths (ld.so reads DIR/etc/ld.so.preload), each falling back
/// to the host's file (libc.so.6, /etc/ld.so.cache) as qemu-user's -L does.
#[test]
fn sysroot_interpreter_and_guest_paths() {
    let Some(ld) = host_ld_so() else { return };
    // Canonical, as growsdown shows the interpreter's path.
    let d = scratch("sysroot").canonicalize().unwrap();
    std::fs::create_dir_all(d.join("lib")).unwrap();
    std::fs::create_dir_all(d.join("etc")).unwrap();
    let my_ld = d.join("lib/ld-linux.so.2");
    std::fs::copy(&ld, &my_ld).unwrap();
    let prog = root().join("guest-images/bin/dynamic-pie");
    let expected = std::fs::read(root().join("guest-images/expected/dynamic-pie.out")).unwrap();
    let run = || {
        let mut args = vec!["run", "--sysroot", d.to_str().unwrap()];
        args.push(prog.to_str().unwrap());
        args.push("arg");
        Command::new(env!("CARGO_BIN_EXE_growsdown"))
            .args(&args)
            .env_clear()
            .env("DYN_TEST", "x")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let o = run();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(o.stdout, expected);
    assert_eq!(stderr(&o), "");

    std::fs::write(d.join("etc/ld.so.preload"), "/nonexistent/libgrowsdown-preload.so\n").unwrap();
    let o = run();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(o.stdout, expected);
    assert!(
        stderr(&o).contains("'/nonexistent/libgrowsdown-preload.so' from /etc/ld.so.preload"),
        "{}",
        stderr(&o)
    );

    std::fs::set_permissions(&my_ld, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = run();
    assert_eq!(o.status.code(), Some(126));
    assert_eq!(
        stderr(&o),
        format!(
            "growsdown: {}: interpreter {}: Permission denied (no execute permission)\n",
            prog.display(),
            my_ld.display()
        )
    );
    let _ = std::fs::remove_dir_all(&d);
}
