//! /proc and pids as the guest sees them (docs/architecture.md, "/proc and pids"):
//! the guest's processes are alone in their pid namespace. A host process — pid 1,
//! this test process, growsdown's own — is ENOENT under /proc by every route (absolute,
//! relative to a /proc dirfd, through `..`, through a symbolic link) and ESRCH for
//! kill, tkill and tgkill, as for a pid outside the caller's namespace in today's
//! Linux (`proc_pid_lookup`, `kill_something_info`). The guest's own entries are its
//! kernel's.

mod sys_common;

use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use growsdown_kernel::exit::{INIT_PID, INIT_PPID};
use growsdown_kernel::syscall::*;
use growsdown_kernel::Kernel;
use sys_common::*;

const O_RDONLY: u32 = 0;
const O_WRONLY: u32 = 1;
const O_CREAT: u32 = 0o100;
const O_DIRECTORY: u32 = 0o200000;
const O_NOFOLLOW: u32 = 0o400000;
const S_IFMT: u32 = 0o170000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;
const PATH: u32 = DATA + 0x100;
const BUF: u32 = DATA + 0x2000;

fn put_str(k: &mut Kernel, addr: u32, s: &str) {
    let mut b = s.as_bytes().to_vec();
    b.push(0);
    poke(k, addr, &b);
}

fn open(k: &mut Kernel, path: &str, flags: u32) -> i32 {
    put_str(k, PATH, path);
    sys(k, NR_OPEN, &[PATH, flags, 0o644])
}

fn stat_mode(k: &mut Kernel, nr: u32, path: &str) -> Result<u32, i32> {
    put_str(k, PATH, path);
    match sys(k, nr, &[PATH, BUF]) {
        0 => Ok(peek32(k, BUF + 16) & S_IFMT),
        e => Err(e),
    }
}

fn readlink(k: &mut Kernel, path: &str) -> Result<String, i32> {
    put_str(k, PATH, path);
    match sys(k, NR_READLINK, &[PATH, BUF, 256]) {
        n if n >= 0 => Ok(String::from_utf8(peek(k, BUF, n as usize)).unwrap()),
        e => Err(e),
    }
}

fn read_all(k: &mut Kernel, fd: i32) -> String {
    let n = sys(k, NR_READ, &[fd as u32, BUF, 4096]);
    assert!(n >= 0, "read: {n}");
    String::from_utf8_lossy(&peek(k, BUF, n as usize)).into_owned()
}

/// A fresh directory of this test's own.
fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("growsdown-procfs-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn a_host_process_is_enoent_by_every_route() {
    let mut k = process(&[0xf4]);
    let me = std::process::id();
    let enoent = -libc::ENOENT;
    let links = scratch("links");
    symlink("/proc/1", links.join("init")).unwrap();
    symlink("../../proc", links.join("proc")).unwrap();
    let l = links.display();
    // A host pid that happens to be the guest's own (INIT_PID) is not asked about.
    let paths = [
        "/proc/1".to_string(),
        "/proc/1/status".into(),
        "/proc/1/oom_score_adj".into(),
        "/proc/1/cmdline".into(),
        "/proc/1/exe".into(),
        "/proc//1/./status".into(),
        "/proc/self/../1/status".into(),
        "/proc/thread-self/../../../1/status".into(),
        format!("/proc/{me}/status"),
        format!("/proc/{me}/mem"),
        format!("/proc/{INIT_PPID}"),
        format!("{l}/init/status"),
        format!("{l}/proc/1/environ"),
    ];
    for path in paths.iter().filter(|p| me != INIT_PID || !p.contains(&me.to_string())) {
        assert_eq!(open(&mut k, path, O_RDONLY), enoent, "open {path}");
        assert_eq!(open(&mut k, path, O_WRONLY), enoent, "open {path} for writing");
        assert_eq!(stat_mode(&mut k, NR_STAT64, path), Err(enoent), "stat {path}");
        assert_eq!(stat_mode(&mut k, NR_LSTAT64, path), Err(enoent), "lstat {path}");
        put_str(&mut k, PATH, path);
        assert_eq!(sys(&mut k, NR_ACCESS, &[PATH, 0]), enoent, "access {path}");
        assert_eq!(readlink(&mut k, path), Err(enoent), "readlink {path}");
        assert_eq!(sys(&mut k, NR_UNLINK, &[PATH]), enoent, "unlink {path}");
    }
    assert_eq!(open(&mut k, "/proc/1/newfile", O_WRONLY | O_CREAT), enoent);
    put_str(&mut k, PATH, "/proc/1/newdir");
    assert_eq!(sys(&mut k, NR_MKDIR, &[PATH, 0o755]), enoent);
    // Relative to a directory fd on /proc.
    let proc_fd = open(&mut k, "/proc", O_RDONLY | O_DIRECTORY);
    assert!(proc_fd >= 0);
    let mine = format!("{me}/status");
    let rels = ["1/oom_score_adj", "1", "./1/status", if me == INIT_PID { "1/status" } else { &mine }];
    for rel in rels {
        put_str(&mut k, PATH, rel);
        assert_eq!(
            sys(&mut k, NR_OPENAT, &[proc_fd as u32, PATH, O_RDONLY, 0]),
            enoent,
            "openat /proc {rel}"
        );
    }
    std::fs::remove_dir_all(&links).unwrap();
}

#[test]
fn kill_reaches_no_host_process() {
    let mut k = process(&[0xf4]);
    let esrch = -libc::ESRCH;
    let me = std::process::id();
    // A host process the guest must not be able to signal.
    let mut victim = Command::new("sleep").arg("30").stdin(Stdio::null()).spawn().expect("sleep");
    let v = victim.id();
    // A host pid that happens to be the guest's own (INIT_PID) is not asked about.
    for pid in [1, me, v, INIT_PPID].into_iter().filter(|&p| p != INIT_PID) {
        assert_eq!(sys(&mut k, NR_KILL, &[pid, 0]), esrch, "kill({pid}, 0)");
        // -INIT_PPID names the guest's own process group (it starts in its caller's).
        if pid != INIT_PPID {
            assert_eq!(sys(&mut k, NR_KILL, &[(-(pid as i32)) as u32, 0]), esrch, "kill(-{pid}, 0)");
        }
        assert_eq!(sys(&mut k, NR_TKILL, &[pid, 0]), esrch, "tkill({pid}, 0)");
        assert_eq!(sys(&mut k, NR_TGKILL, &[pid, pid, 0]), esrch, "tgkill({pid}, {pid}, 0)");
    }
    if v != INIT_PID {
        assert_eq!(sys(&mut k, NR_KILL, &[v, libc::SIGTERM as u32]), esrch);
        assert_eq!(victim.try_wait().unwrap(), None, "the host process was not signalled");
    }
    // The guest's own group holds the guest and nothing else.
    assert_eq!(sys(&mut k, NR_KILL, &[(-(INIT_PPID as i32)) as u32, 0]), 0, "kill(-own group, 0)");
    // kill(-1): every guest process but the caller, and there is none.
    assert_eq!(sys(&mut k, NR_KILL, &[u32::MAX, 0]), esrch);
    victim.kill().unwrap();
    victim.wait().unwrap();
}

#[test]
fn pids_are_the_guest_kernels_own() {
    let mut k = process(&[0xf4]);
    assert_eq!(sys(&mut k, NR_GETPID, &[]), INIT_PID as i32);
    assert_eq!(sys(&mut k, NR_GETPPID, &[]), INIT_PPID as i32);
    assert_ne!(INIT_PID, 1);
    assert_ne!(INIT_PPID, 1);
    assert_eq!(sys(&mut k, NR_KILL, &[INIT_PID, 0]), 0, "the guest itself");
}

#[test]
fn the_guests_own_entries() {
    let mut k = process(&[0xf4]);
    let pid = INIT_PID;
    assert_eq!(readlink(&mut k, "/proc/self"), Ok(pid.to_string()));
    assert_eq!(readlink(&mut k, "/proc/thread-self"), Ok(format!("{pid}/task/{pid}")));
    assert_eq!(stat_mode(&mut k, NR_LSTAT64, "/proc/self"), Ok(S_IFLNK));
    assert_eq!(stat_mode(&mut k, NR_STAT64, "/proc/self"), Ok(S_IFDIR));
    assert_eq!(stat_mode(&mut k, NR_STAT64, &format!("/proc/{pid}")), Ok(S_IFDIR));
    assert_eq!(stat_mode(&mut k, NR_LSTAT64, &format!("/proc/{pid}")), Ok(S_IFDIR));
    assert_eq!(stat_mode(&mut k, NR_LSTAT64, "/proc/self/"), Ok(S_IFDIR));
    for path in ["/proc/self/status".to_string(), format!("/proc/{pid}/task/{pid}/status")] {
        let fd = open(&mut k, &path, O_RDONLY);
        assert!(fd >= 0, "{path}: {fd}");
        let text = read_all(&mut k, fd);
        assert!(text.contains(&format!("\nPid:\t{pid}\nPPid:\t{INIT_PPID}\n")), "{path}:\n{text}");
        assert_eq!(sys(&mut k, NR_CLOSE, &[fd as u32]), 0);
    }
    // Entries the guest kernel does not have, and pids that are not its.
    for path in [
        "/proc/self/oom_score_adj".to_string(),
        "/proc/self/mem".into(),
        "/proc/self/stat".into(),
        "/proc/self/cwd".into(),
        format!("/proc/0{pid}/status"),
        format!("/proc/{pid}/task/{}/status", pid + 1),
        format!("/proc/{}/status", pid + 1),
    ] {
        assert_eq!(open(&mut k, &path, O_RDONLY), -libc::ENOENT, "{path}");
    }
    // fd/N is the guest fd's file.
    let fd = open(&mut k, "/proc", O_RDONLY | O_DIRECTORY);
    assert_eq!(readlink(&mut k, &format!("/proc/self/fd/{fd}")), Ok("/proc".into()));
    // The directories list the guest kernel's entries, and a path relative to them
    // stays in the guest's directory (also from a namespace directory, which is the
    // emulator's own on the host).
    let dir = open(&mut k, "/proc/self", O_RDONLY | O_DIRECTORY);
    assert!(dir >= 0, "{dir}");
    let names = list(&mut k, dir);
    for n in [".", "..", "exe", "fd", "maps", "status", "cmdline", "task"] {
        assert!(names.iter().any(|x| x == n), "{n} in {names:?}");
    }
    assert_eq!(readlink(&mut k, &format!("/proc/self/fd/{dir}")), Ok(format!("/proc/{pid}")));
    let fds = open(&mut k, "/proc/self/fd", O_RDONLY | O_DIRECTORY);
    let names = list(&mut k, fds);
    for n in [fd, dir, fds] {
        assert!(names.contains(&n.to_string()), "fd {n} in {names:?}");
    }
    let net = open(&mut k, "/proc/self/net", O_RDONLY | O_DIRECTORY);
    assert!(net >= 0, "{net}");
    for (d, rel) in [(dir, "status"), (net, "../status"), (fds, "../task/../status")] {
        put_str(&mut k, PATH, rel);
        let f = sys(&mut k, NR_OPENAT, &[d as u32, PATH, O_RDONLY, 0]);
        assert!(f >= 0, "openat {rel}: {f}");
        assert!(read_all(&mut k, f).contains(&format!("\nPid:\t{pid}\n")), "{rel}");
    }
    put_str(&mut k, PATH, "../../1/status");
    assert_eq!(sys(&mut k, NR_OPENAT, &[net as u32, PATH, O_RDONLY, 0]), -libc::ENOENT);
    // Not entered: the host's working directory would be the emulator's directory.
    put_str(&mut k, PATH, "/proc/self/net");
    assert_eq!(sys(&mut k, NR_CHDIR, &[PATH]), -libc::EACCES);
    assert_eq!(sys(&mut k, NR_FCHDIR, &[net as u32]), -libc::EACCES);
    assert_eq!(sys(&mut k, NR_FCHDIR, &[dir as u32]), -libc::EACCES);
}

/// The names getdents64 lists for `fd`, to the end.
fn list(k: &mut Kernel, fd: i32) -> Vec<String> {
    let mut names = Vec::new();
    loop {
        let n = sys(k, NR_GETDENTS64, &[fd as u32, BUF, 4096]);
        assert!(n >= 0, "getdents64: {n}");
        if n == 0 {
            return names;
        }
        let b = peek(k, BUF, n as usize);
        let mut off = 0;
        while off < b.len() {
            let reclen = u16::from_le_bytes([b[off + 16], b[off + 17]]) as usize;
            let name = &b[off + 19..off + reclen];
            let end = name.iter().position(|&c| c == 0).unwrap();
            names.push(String::from_utf8_lossy(&name[..end]).into_owned());
            off += reclen;
        }
    }
}

/// `ls /proc`: the host's non-process entries, `self` and `thread-self`, and the
/// guest's processes (in pid order, after the others, as `proc_pid_readdir` lists
/// them), never a host process.
#[test]
fn a_listing_of_proc_shows_the_guests_processes_only() {
    let mut k = process(&[0xf4]);
    let child = sys(&mut k, NR_FORK, &[]);
    assert!(child > INIT_PID as i32, "fork: {child}");
    let fd = open(&mut k, "/proc", O_RDONLY | O_DIRECTORY);
    assert!(fd >= 0);
    let names = list(&mut k, fd);
    for n in ["self", "thread-self", "cpuinfo"] {
        assert!(names.iter().any(|x| x == n), "{n} in {names:?}");
    }
    let pids: Vec<&str> =
        names.iter().filter(|n| n.bytes().all(|c| c.is_ascii_digit())).map(|s| s.as_str()).collect();
    assert_eq!(pids, [INIT_PID.to_string(), child.to_string()], "{names:?}");
    let first_pid = names.iter().position(|n| n == &INIT_PID.to_string()).unwrap();
    assert!(names[..first_pid].iter().all(|n| !n.bytes().all(|c| c.is_ascii_digit())), "{names:?}");
    assert_eq!(names.iter().position(|n| n == "thread-self").map(|i| i < first_pid), Some(true), "{names:?}");
    // A buffer that takes one entry at a time lists the same, and so does a second
    // pass after rewinding; a buffer too small for one entry is EINVAL.
    assert_eq!(sys(&mut k, NR_LSEEK, &[fd as u32, 0, 0]), 0);
    let mut one = Vec::new();
    loop {
        let n = sys(&mut k, NR_GETDENTS64, &[fd as u32, BUF, 32]);
        assert!(n >= 0, "getdents64: {n}");
        if n == 0 {
            break;
        }
        let b = peek(&mut k, BUF, n as usize);
        let end = b[19..].iter().position(|&c| c == 0).unwrap();
        one.push(String::from_utf8_lossy(&b[19..19 + end]).into_owned());
    }
    assert_eq!(one, names);
    assert_eq!(sys(&mut k, NR_LSEEK, &[fd as u32, 0, 0]), 0);
    assert_eq!(list(&mut k, fd), names);
    assert_eq!(sys(&mut k, NR_LSEEK, &[fd as u32, 0, 0]), 0);
    assert_eq!(sys(&mut k, NR_GETDENTS64, &[fd as u32, BUF, 8]), -libc::EINVAL);
}

#[test]
fn paths_outside_proc_are_the_hosts() {
    let mut k = process(&[0xf4]);
    let d = scratch("host");
    // A symlink loop is ELOOP, as natively.
    symlink("b", d.join("a")).unwrap();
    symlink("a", d.join("b")).unwrap();
    assert_eq!(open(&mut k, &format!("{}/a/x", d.display()), O_RDONLY), -libc::ELOOP);
    // O_NOFOLLOW refuses a final symlink into /proc as any other (ELOOP), and unlink
    // removes the link itself, not what it points to.
    symlink("/proc/self/status", d.join("st")).unwrap();
    assert_eq!(open(&mut k, &format!("{}/st", d.display()), O_RDONLY | O_NOFOLLOW), -libc::ELOOP);
    assert!(open(&mut k, &format!("{}/st", d.display()), O_RDONLY) >= 0);
    put_str(&mut k, PATH, &format!("{}/st", d.display()));
    assert_eq!(sys(&mut k, NR_UNLINK, &[PATH]), 0);
    assert!(!d.join("st").exists());
    // Creating a file through a relative symlinked directory still works.
    std::fs::create_dir(d.join("real")).unwrap();
    symlink("real", d.join("via")).unwrap();
    let fd = open(&mut k, &format!("{}/via/new/", d.display()), O_WRONLY | O_CREAT);
    assert_eq!(fd, -libc::EISDIR, "a trailing slash on a file to create");
    let fd = open(&mut k, &format!("{}/via/new", d.display()), O_WRONLY | O_CREAT);
    assert!(fd >= 0, "{fd}");
    assert!(d.join("real/new").is_file());
    assert_eq!(open(&mut k, &format!("{}/missing/new", d.display()), O_WRONLY | O_CREAT), -libc::ENOENT);
    std::fs::remove_dir_all(&d).unwrap();
}

/// `/proc/sys/vm/overcommit_memory` is the guest kernel's mode (what
/// `vm_enough_memory` follows), by an absolute path and relative to a directory fd,
/// and cannot be written (growsdown sets it with `--overcommit-memory`).
#[test]
fn overcommit_memory_is_the_guest_kernels() {
    let mut k = process(&[0xf4]);
    for mode in [0u32, 1] {
        k.oom.overcommit_memory = mode;
        let fd = open(&mut k, "/proc/sys/vm/overcommit_memory", O_RDONLY);
        assert!(fd >= 0, "{fd}");
        assert_eq!(read_all(&mut k, fd), format!("{mode}\n"));
        assert_eq!(sys(&mut k, NR_CLOSE, &[fd as u32]), 0);
    }
    let dir = open(&mut k, "/proc/sys", O_RDONLY | O_DIRECTORY);
    assert!(dir >= 0);
    put_str(&mut k, PATH, "vm/../vm/overcommit_memory");
    let fd = sys(&mut k, NR_OPENAT, &[dir as u32, PATH, O_RDONLY, 0]);
    assert!(fd >= 0, "{fd}");
    assert_eq!(read_all(&mut k, fd), "1\n");
    assert_eq!(open(&mut k, "/proc/sys/vm/overcommit_memory", O_WRONLY), -libc::EACCES);
}
