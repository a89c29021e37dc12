//! Credentials: kernel/sys.c's rules for the uid/gid family, commoncap's capability
//! transitions and capset rules, the 16-bit calls, and the signal permission check.

mod sys_common;

use growsdown_kernel::cred::{cap_full_set, Cred, CAP_KILL, CAP_SETGID, CAP_SETUID};
use growsdown_kernel::syscall::nr::*;
use sys_common::{process, sys, DATA};

const EPERM: i32 = -1;
const EFAULT: i32 = -14;
const EINVAL: i32 = -22;
const FS_BITS: u64 = 0x1f | 1 << 9 | 1 << 27 | 1 << 32;

fn root() -> Cred {
    Cred::default()
}

fn ids(c: &Cred) -> [u32; 4] {
    [c.uid, c.euid, c.suid, c.fsuid]
}

#[test]
fn setuid_as_root_drops_everything() {
    let mut c = root();
    c.setuid(65534).unwrap();
    assert_eq!(ids(&c), [65534; 4]);
    assert_eq!((c.cap_effective, c.cap_permitted), (0, 0));
    assert_eq!(c.setuid(0), Err(1));
    assert_eq!(c.setuid(u32::MAX), Err(22));
}

#[test]
fn setresuid_keeps_caps_while_an_id_is_root() {
    let mut c = root();
    c.setresuid(1000, 1001, 0).unwrap();
    assert_eq!(ids(&c), [1000, 1001, 0, 1001]);
    assert_eq!(c.cap_effective, 0);
    assert_eq!(c.cap_permitted, cap_full_set());
    // Without CAP_SETUID only the current ids; 0 is the saved one.
    assert_eq!(c.setresuid(5, u32::MAX, u32::MAX), Err(1));
    c.setresuid(u32::MAX, 0, u32::MAX).unwrap();
    assert_eq!(c.cap_effective, cap_full_set());
    // Leaving root entirely clears both sets; keep-caps keeps the permitted one.
    let mut k = c.clone();
    c.setresuid(1, 1, 1).unwrap();
    assert_eq!((c.cap_effective, c.cap_permitted), (0, 0));
    k.securebits = 1 << 4;
    k.setresuid(1, 1, 1).unwrap();
    assert_eq!((k.cap_effective, k.cap_permitted), (0, cap_full_set()));
}

#[test]
fn setreuid_moves_the_saved_uid() {
    let mut c = root();
    c.setresuid(1000, 0, 0).unwrap();
    c.setreuid(u32::MAX, 1002).unwrap();
    assert_eq!(ids(&c), [1000, 1002, 1002, 1002]);
    // euid back to the real uid: the saved uid stays.
    c.setreuid(u32::MAX, 1000).unwrap();
    assert_eq!(ids(&c), [1000, 1000, 1002, 1000]);
    assert_eq!(c.setreuid(7, u32::MAX), Err(1));
}

#[test]
fn setfsuid_returns_the_old_one_and_moves_the_fs_caps() {
    let mut c = root();
    assert_eq!(c.setfsuid(1000), 0);
    assert_eq!(c.cap_effective, cap_full_set() & !FS_BITS);
    assert_eq!(c.setfsuid(u32::MAX), 1000);
    assert_eq!(c.setfsuid(0), 1000);
    assert_eq!(c.cap_effective, cap_full_set());
    let mut n = root();
    n.setuid(5).unwrap();
    assert_eq!(n.setfsuid(6), 5);
    assert_eq!(n.fsuid, 5);
}

#[test]
fn gids() {
    let mut c = root();
    c.setresgid(8, 9, 10).unwrap();
    assert_eq!([c.gid, c.egid, c.sgid, c.fsgid], [8, 9, 10, 9]);
    c.setregid(u32::MAX, 11).unwrap();
    assert_eq!([c.gid, c.egid, c.sgid, c.fsgid], [8, 11, 11, 11]);
    c.cap_effective &= !(1 << CAP_SETGID);
    assert_eq!(c.setgid(5), Err(1));
    c.setgid(8).unwrap();
    assert_eq!([c.gid, c.egid, c.sgid, c.fsgid], [8, 8, 11, 8]);
    assert_eq!(c.setfsgid(12), 8);
    assert_eq!(c.fsgid, 8);
}

#[test]
fn capset_rules() {
    let mut c = root();
    let full = cap_full_set();
    let p = full & !(1 << CAP_KILL);
    c.capset(p & !(1 << 8), p, 0).unwrap();
    // Inheritable beyond permitted without CAP_SETPCAP; permitted growing;
    // effective beyond permitted.
    assert_eq!(c.capset(p & !(1 << 8), p, 1 << CAP_KILL), Err(1));
    assert_eq!(c.capset(p & !(1 << 8), full, 0), Err(1));
    assert_eq!(c.capset(p, p & !(1 << 8), 0), Err(1));
    c.capset(1, 1, 1).unwrap();
    assert_eq!((c.cap_effective, c.cap_permitted, c.cap_inheritable), (1, 1, 1));
}

#[test]
fn exec_gives_root_its_bounding_set() {
    let mut c = root();
    c.capset(0, 0, 0).unwrap();
    c.exec();
    assert_eq!((c.cap_effective, c.cap_permitted), (cap_full_set(), cap_full_set()));
    let mut n = root();
    n.securebits = 1 << 4;
    n.setresuid(1, 1, 1).unwrap();
    n.exec();
    assert_eq!((n.cap_effective, n.cap_permitted, n.securebits), (0, 0, 0));
}

#[test]
fn kill_permission() {
    let mut a = root();
    let mut b = root();
    b.setuid(1000).unwrap();
    assert!(a.kill_ok_by(&b));
    a.setresuid(2000, 2000, 1000).unwrap();
    assert!(!a.kill_ok_by(&b), "the sender's saved uid does not count");
    a.setresuid(u32::MAX, 1000, u32::MAX).unwrap();
    assert!(a.kill_ok_by(&b));
    let mut r = root();
    r.cap_effective = 1 << CAP_KILL;
    r.setfsuid(3);
    assert!(r.kill_ok_by(&b));
}

#[test]
fn syscalls_16_bit() {
    let mut k = process(&[0xf4]);
    k.task.cred = root();
    assert_eq!(sys(&mut k, NR_SETUID, &[0xffff]), EINVAL);
    assert_eq!(sys(&mut k, NR_SETRESUID32, &[70000, 70001, 0]), 0);
    assert_eq!(sys(&mut k, NR_GETUID, &[]), 65534);
    assert_eq!(sys(&mut k, NR_GETUID32, &[]), 70000);
    // 0xffff: unchanged; the upper half of the register is not part of the id.
    assert_eq!(sys(&mut k, NR_SETRESUID, &[0xffff, 0x1_0000, 0xffff]), 0);
    assert_eq!(sys(&mut k, NR_GETEUID32, &[]), 0);
    assert_eq!(sys(&mut k, NR_GETRESUID, &[DATA, DATA + 2, DATA + 4]), 0);
    let mut b = [0u8; 6];
    k.copy_from_user(DATA, &mut b).unwrap();
    assert_eq!(b, [0xfe, 0xff, 0, 0, 0, 0]);
    assert_eq!(sys(&mut k, NR_GETRESUID32, &[DATA, 16, DATA]), EFAULT);
    assert!(k.task.cred.capable(CAP_SETUID));
}

#[test]
fn setgroups_checks_in_linux_order() {
    let mut k = process(&[0xf4]);
    k.task.cred = root();
    k.copy_to_user(DATA, &[5, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]).unwrap();
    assert_eq!(sys(&mut k, NR_SETGROUPS32, &[65537, DATA]), EINVAL);
    assert_eq!(sys(&mut k, NR_SETGROUPS32, &[2, 16]), EFAULT);
    assert_eq!(sys(&mut k, NR_SETGROUPS32, &[3, DATA]), EINVAL);
    assert_eq!(sys(&mut k, NR_SETGROUPS32, &[2, DATA]), 0);
    assert_eq!(k.task.cred.groups, vec![1, 5]);
    assert_eq!(sys(&mut k, NR_GETGROUPS, &[1, DATA]), EINVAL);
    assert_eq!(sys(&mut k, NR_GETGROUPS, &[2, DATA]), 2);
    k.task.cred.cap_effective = 0;
    assert_eq!(sys(&mut k, NR_SETGROUPS32, &[65537, DATA]), EPERM);
}

#[test]
fn capset_only_for_the_caller() {
    let mut k = process(&[0xf4]);
    k.task.cred = root();
    let pid = k.task.pid;
    let hdr = DATA;
    let data = DATA + 8;
    let mut h = [0u8; 8];
    h[..4].copy_from_slice(&0x2008_0522u32.to_le_bytes());
    h[4..].copy_from_slice(&(pid + 1).to_le_bytes());
    k.copy_to_user(hdr, &h).unwrap();
    k.copy_to_user(data, &[0; 24]).unwrap();
    assert_eq!(sys(&mut k, NR_CAPSET, &[hdr, data]), EPERM);
    h[4..].copy_from_slice(&pid.to_le_bytes());
    k.copy_to_user(hdr, &h).unwrap();
    assert_eq!(sys(&mut k, NR_CAPSET, &[hdr, 16]), EFAULT);
    assert_eq!(sys(&mut k, NR_CAPSET, &[hdr, data]), 0);
    assert_eq!(k.task.cred.cap_permitted, 0);
    assert_eq!(sys(&mut k, NR_CAPGET, &[hdr, data]), 0);
}
