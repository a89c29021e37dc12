//! A TCP echo over loopback between a guest and a host process (growsdown issue 13,
//! sockets), both ways, each compared with the same program run natively:
//!
//! * `sockets connect PORT`: this test listens on 127.0.0.1 with `std::net` and
//!   echoes one connection; the guest connects, sends two lines, prints their echo,
//!   shuts its side down and sees the end of the stream;
//! * `sockets listen`: the guest listens on 127.0.0.1 port 0 and prints the port;
//!   this test connects, sends, reads the echo, shuts down; the guest prints the
//!   count of bytes it echoed.
//!
//! * `sockets listen` killed with SIGTERM while it waits in a lone-process host
//!   accept: the host call ends and the guest dies of the signal (status 143).
//!
//! Stdout (apart from the port line) and the exit status must be the same under
//! growsdown as natively. Native runs need an x86 host that runs i386 code: skipped
//! elsewhere, failed under `CI=true`.

#[path = "../../../tests/support/mod.rs"]
mod support;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;
use support::root;

const TIMEOUT: Duration = Duration::from_secs(60);
const DATA: &[u8] = b"from the host\nto the guest and back\n";

fn sockets() -> String {
    root().join("guest-images/bin/sockets").to_string_lossy().into_owned()
}

/// The command for `sockets ARGS`: under growsdown, or native (the host runs i386
/// code).
fn command(under_growsdown: bool, args: &[&str]) -> Command {
    let mut c = if under_growsdown {
        let mut c = Command::new(env!("CARGO_BIN_EXE_growsdown"));
        c.arg("run").arg(sockets());
        c
    } else {
        Command::new(sockets())
    };
    c.args(args).current_dir(std::env::temp_dir()).stdin(Stdio::null()).stderr(Stdio::null());
    c
}

/// Whether native i386 runs work here; a failure under `CI=true` if not.
fn native_ok() -> bool {
    match Command::new(sockets()).arg("udp").stdout(Stdio::null()).status() {
        Ok(s) if s.success() => true,
        r => {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "cannot run i386 code natively: {r:?}");
            eprintln!("SKIPPED: cannot run i386 code natively here: {r:?}");
            false
        }
    }
}

/// Runs `sockets connect PORT` against an echo server of this process: (stdout,
/// exit code, the bytes the server received).
fn guest_connects(under_growsdown: bool) -> (String, Option<i32>, Vec<u8>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("local_addr").port();
    let server = thread::spawn(move || {
        let (mut s, _) = l.accept().expect("accept");
        s.set_read_timeout(Some(TIMEOUT)).expect("timeout");
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        loop {
            let n = s.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            s.write_all(&buf[..n]).expect("write");
            got.extend_from_slice(&buf[..n]);
        }
        got
    });
    let out = command(under_growsdown, &["connect", &port.to_string()]).output().expect("run sockets");
    let got = server.join().expect("server thread");
    (String::from_utf8_lossy(&out.stdout).into_owned(), out.status.code(), got)
}

#[test]
fn guest_connects_to_a_host_listener() {
    let (out, code, got) = guest_connects(true);
    assert_eq!(code, Some(0), "growsdown: {out}");
    assert_eq!(got, b"hello from the guest\nsecond line\n");
    assert_eq!(out, "send: 33\necho: hello from the guest\nsecond line\nshutdown: 0\nrecv at the end: 0\n");
    if native_ok() {
        let (nout, ncode, ngot) = guest_connects(false);
        assert_eq!((nout, ncode, ngot), (out, code, got), "native differs");
    }
}

/// Runs `sockets listen`, connects to it, echoes [`DATA`]: (stdout without the port
/// line, exit code, the echo).
fn guest_listens(under_growsdown: bool) -> (String, Option<i32>, Vec<u8>) {
    let mut child = command(under_growsdown, &["listen"]).stdout(Stdio::piped()).spawn().expect("spawn");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("port line");
    let port: u16 = first.trim().strip_prefix("port ").and_then(|p| p.parse().ok()).expect("a port line");
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    s.write_all(DATA).expect("write");
    let mut echo = vec![0u8; DATA.len()];
    s.read_exact(&mut echo).expect("echo");
    s.shutdown(Shutdown::Write).expect("shutdown");
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).expect("end of stream");
    echo.extend_from_slice(&rest);
    let mut out = String::new();
    stdout.read_to_string(&mut out).expect("stdout");
    let status = child.wait().expect("wait");
    (out, status.code(), echo)
}

#[test]
fn host_connects_to_a_guest_listener() {
    let (out, code, echo) = guest_listens(true);
    assert_eq!(code, Some(0), "growsdown: {out}");
    assert_eq!(echo, DATA);
    assert_eq!(out, format!("echoed {} bytes\n", DATA.len()));
    if native_ok() {
        assert_eq!(guest_listens(false), (out, code, echo), "native differs");
    }
}

/// A lone guest process blocked in a host `accept` (`sockets listen`): SIGTERM sent
/// to growsdown ends the host call (its handlers have no SA_RESTART) and the guest
/// dies of it, status 143, as the program does natively.
fn sigterm_in_accept(under_growsdown: bool) -> (String, Option<i32>, Option<i32>) {
    use std::os::unix::process::ExitStatusExt;
    let mut child = command(under_growsdown, &["listen"]).stdout(Stdio::piped()).spawn().expect("spawn");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("port line");
    // The port line is printed just before accept; give the call time to block.
    thread::sleep(Duration::from_millis(200));
    // SAFETY: kill has no pointer arguments; the pid is our own child's.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("stdout");
    let status = child.wait().expect("wait");
    (rest, status.code(), status.signal())
}

#[test]
fn sigterm_ends_a_blocked_accept() {
    let (rest, code, _) = sigterm_in_accept(true);
    assert_eq!((rest.as_str(), code), ("", Some(143)), "growsdown reports the guest's death by SIGTERM");
    if native_ok() {
        let (nrest, _, nsig) = sigterm_in_accept(false);
        assert_eq!((nrest.as_str(), nsig), ("", Some(libc::SIGTERM)), "native");
    }
}
