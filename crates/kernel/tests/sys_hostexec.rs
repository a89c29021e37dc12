//! The first program of a machine is never a host program (issue 14): `Machine::execve`
//! (what `growsdown run PROG` calls) refuses an ELF that is not i386, and a `#!`
//! script whose interpreter is one, with ENOEXEC before the point of no return. A
//! guest's own execve of such a program runs it on the host instead: the
//! `host-exec` guest image (tests/guest_images.rs, sys_guest_images.rs) checks that.

use growsdown_kernel::{Config, ExecError, Machine};

fn machine() -> Machine {
    Machine::new(Config { mem_bytes: 32 << 20, ..Config::default() }).expect("boot")
}

fn refused(path: &str) -> (i32, String) {
    match machine().execve(path, &[path.as_bytes().to_vec()], &[]) {
        Err(ExecError::Refused { errno, msg }) => (errno, msg),
        other => panic!("{path}: {other:?}"),
    }
}

#[test]
fn a_host_program_is_not_the_first_program() {
    let host = ["/bin/true", "/usr/bin/true"].into_iter().find(|p| std::path::Path::new(p).is_file());
    let host = host.expect("the host's true (coreutils)");
    let (errno, msg) = refused(host);
    assert_eq!(errno, libc::ENOEXEC);
    assert!(msg.contains("not an i386 program (ELF e_machine"), "{msg}");

    let dir = std::env::temp_dir().join(format!("growsdown-sys-hostexec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("script");
    std::fs::write(&script, format!("#!{host}\n")).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (errno, msg) = refused(script.to_str().unwrap());
    assert_eq!(errno, libc::ENOEXEC);
    assert!(msg.contains("is not an i386 program"), "{msg}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A library user's machine (`Config::keep_others` off) kills every process left when
/// the first one exits: a host program it started too, which is reaped at once. The
/// host program is `sleep 3600`: a machine that waited for it instead would hang, and
/// a watchdog five minutes on ends this test binary with a message rather than a
/// stuck suite (it measures nothing; a run takes milliseconds).
#[test]
fn the_machine_ends_with_its_host_programs() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guest-images/bin/host-exec");
    let mut m = machine();
    m.execve(path.to_str().unwrap(), &[b"host-exec".to_vec(), b"leave".to_vec()], &[]).expect("exec");
    let (done, wait) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if wait.recv_timeout(std::time::Duration::from_secs(300)).is_err() {
            eprintln!("the machine did not end: it waits for its host `sleep 3600`");
            std::process::exit(1);
        }
    });
    assert_eq!(m.run(), growsdown_kernel::ExitStatus::Exited(0));
    done.send(()).unwrap();
    watchdog.join().unwrap();
    // No child of this process is left, not even a zombie: the host `sleep 3600` was
    // killed and reaped.
    // SAFETY: a zeroed siginfo for waitid to fill.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: waitid with a pointer to `info`.
    let r = unsafe { libc::waitid(libc::P_ALL, 0, &mut info, libc::WEXITED | libc::WNOHANG) };
    assert_eq!((r, std::io::Error::last_os_error().raw_os_error()), (-1, Some(libc::ECHILD)));
}
