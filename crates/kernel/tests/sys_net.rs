//! Sockets at the system-call level (crates/kernel/src/syscall/net.rs): what the
//! guest images cannot see from inside, such as host descriptors closed when
//! SCM_RIGHTS does not fit, and the refusals this kernel documents.

mod sys_common;
use growsdown_kernel::syscall::*;
use sys_common::*;

const AF_UNIX: u32 = 1;
const AF_INET: u32 = 2;
const AF_NETLINK: u32 = 16;
const SOCK_STREAM: u32 = 1;
const SOCK_DGRAM: u32 = 2;
const SOL_SOCKET: u32 = 1;
const SCM_RIGHTS: u32 = 1;
const SO_PASSCRED: u32 = 16;
const SO_PEERCRED: u32 = 17;
const SO_RCVTIMEO_OLD: u32 = 20;
const SO_TIMESTAMP_OLD: u32 = 29;
const MSG_CTRUNC: u32 = 8;
const O_NONBLOCK: u32 = 0o4000;

const EBADF: i32 = -9;
const EAGAIN: i32 = -11;
const EFAULT: i32 = -14;
const EINVAL: i32 = -22;
const ENOPROTOOPT: i32 = -92;
const EAFNOSUPPORT: i32 = -97;

fn socketpair(k: &mut Kernel, ty: u32) -> (u32, u32) {
    assert_eq!(sys(k, NR_SOCKETPAIR, &[AF_UNIX, ty, 0, DATA]), 0);
    (peek32(k, DATA), peek32(k, DATA + 4))
}

use growsdown_kernel::Kernel;

/// Two fds sent, room for one: the receiver gets one fd and MSG_CTRUNC, and the
/// host fd that did not fit is closed (`scm_detach_fds_compat`): once the received
/// one is closed too, the pipe has no writer left and reads end of file.
#[test]
fn scm_rights_that_do_not_fit_are_closed() {
    let mut k = process(&[]);
    assert_eq!(sys(&mut k, NR_PIPE2, &[DATA + 0x100, O_NONBLOCK]), 0);
    let (r, w) = (peek32(&mut k, DATA + 0x100), peek32(&mut k, DATA + 0x104));
    let (s0, s1) = socketpair(&mut k, SOCK_DGRAM);
    // One byte, and a control message with [w, w].
    let (byte, iov, msg, ctl) = (DATA + 0x200, DATA + 0x210, DATA + 0x220, DATA + 0x240);
    poke(&mut k, byte, b"x");
    poke32(&mut k, iov, byte);
    poke32(&mut k, iov + 4, 1);
    for (i, v) in [20, SOL_SOCKET, SCM_RIGHTS, w, w].into_iter().enumerate() {
        poke32(&mut k, ctl + 4 * i as u32, v);
    }
    for (i, v) in [0, 0, iov, 1, ctl, 20, 0].into_iter().enumerate() {
        poke32(&mut k, msg + 4 * i as u32, v);
    }
    assert_eq!(sys(&mut k, NR_SENDMSG, &[s0, msg, 0]), 1);
    assert_eq!(sys(&mut k, NR_CLOSE, &[w]), 0);
    // Receive with room for one fd: 12 + 4 bytes.
    let rctl = DATA + 0x300;
    for (i, v) in [0, 0, iov, 1, rctl, 16, 0].into_iter().enumerate() {
        poke32(&mut k, msg + 4 * i as u32, v);
    }
    assert_eq!(sys(&mut k, NR_RECVMSG, &[s1, msg, 0]), 1);
    assert_eq!(peek32(&mut k, msg + 24) & MSG_CTRUNC, MSG_CTRUNC, "msg_flags");
    assert_eq!(peek32(&mut k, msg + 20), 16, "msg_controllen: the bytes used");
    assert_eq!(peek32(&mut k, rctl), 16, "cmsg_len");
    assert_eq!((peek32(&mut k, rctl + 4), peek32(&mut k, rctl + 8)), (SOL_SOCKET, SCM_RIGHTS));
    let got = peek32(&mut k, rctl + 12);
    assert_eq!(sys(&mut k, NR_READ, &[r, DATA + 0x400, 1]), EAGAIN, "the received writer is open");
    assert_eq!(sys(&mut k, NR_CLOSE, &[got]), 0);
    assert_eq!(sys(&mut k, NR_READ, &[r, DATA + 0x400, 1]), 0, "no writer left: end of file");
}

/// A closed guest fd in SCM_RIGHTS is EBADF, whatever host fd has that number.
#[test]
fn scm_rights_of_a_closed_guest_fd_is_ebadf() {
    let mut k = process(&[]);
    let (s0, _s1) = socketpair(&mut k, SOCK_DGRAM);
    let (iov, msg, ctl) = (DATA + 0x210, DATA + 0x220, DATA + 0x240);
    poke32(&mut k, iov, DATA + 0x200);
    poke32(&mut k, iov + 4, 1);
    // Guest fd 40 is not open.
    for (i, v) in [16, SOL_SOCKET, SCM_RIGHTS, 40].into_iter().enumerate() {
        poke32(&mut k, ctl + 4 * i as u32, v);
    }
    for (i, v) in [0, 0, iov, 1, ctl, 16, 0].into_iter().enumerate() {
        poke32(&mut k, msg + 4 * i as u32, v);
    }
    assert_eq!(sys(&mut k, NR_SENDMSG, &[s0, msg, 0]), EBADF);
}

/// socketcall: EINVAL for a call number outside 1..=20 before the arguments are
/// read, EFAULT for unreadable arguments; families this kernel does not have are
/// EAFNOSUPPORT.
#[test]
fn socketcall_checks_and_families() {
    let mut k = process(&[]);
    assert_eq!(sys(&mut k, NR_SOCKETCALL, &[0, 8]), EINVAL);
    assert_eq!(sys(&mut k, NR_SOCKETCALL, &[21, 8]), EINVAL);
    assert_eq!(sys(&mut k, NR_SOCKETCALL, &[1, 8]), EFAULT);
    poke32(&mut k, DATA, AF_NETLINK);
    poke32(&mut k, DATA + 4, SOCK_DGRAM);
    poke32(&mut k, DATA + 8, 0);
    assert_eq!(sys(&mut k, NR_SOCKETCALL, &[1, DATA]), EAFNOSUPPORT);
    poke32(&mut k, DATA, AF_INET);
    let fd = sys(&mut k, NR_SOCKETCALL, &[1, DATA]);
    assert!(fd >= 3, "socketcall(SYS_SOCKET) gives an fd: {fd}");
    assert_eq!(sys(&mut k, NR_SOCKET, &[AF_NETLINK, SOCK_DGRAM, 0]), EAFNOSUPPORT);
}

/// Credentials would carry the emulator's pid: refused. The 32-bit timeval of
/// SO_RCVTIMEO is converted both ways (half a second: a whole number of jiffies at
/// any HZ, which the host rounds to); timestamps (64-bit timevals in control
/// messages) are refused.
#[test]
fn socket_options() {
    let mut k = process(&[]);
    let (s0, _s1) = socketpair(&mut k, SOCK_STREAM);
    poke32(&mut k, DATA + 0x100, 1);
    poke32(&mut k, DATA + 0x110, 4);
    assert_eq!(sys(&mut k, NR_SETSOCKOPT, &[s0, SOL_SOCKET, SO_PASSCRED, DATA + 0x100, 4]), ENOPROTOOPT);
    assert_eq!(sys(&mut k, NR_SETSOCKOPT, &[s0, SOL_SOCKET, SO_TIMESTAMP_OLD, DATA + 0x100, 4]), ENOPROTOOPT);
    poke32(&mut k, DATA + 0x110, 12);
    assert_eq!(
        sys(&mut k, NR_GETSOCKOPT, &[s0, SOL_SOCKET, SO_PEERCRED, DATA + 0x100, DATA + 0x110]),
        ENOPROTOOPT
    );
    poke32(&mut k, DATA + 0x100, 3);
    poke32(&mut k, DATA + 0x104, 500_000);
    assert_eq!(sys(&mut k, NR_SETSOCKOPT, &[s0, SOL_SOCKET, SO_RCVTIMEO_OLD, DATA + 0x100, 8]), 0);
    poke(&mut k, DATA + 0x100, &[0; 8]);
    poke32(&mut k, DATA + 0x110, 64);
    assert_eq!(sys(&mut k, NR_GETSOCKOPT, &[s0, SOL_SOCKET, SO_RCVTIMEO_OLD, DATA + 0x100, DATA + 0x110]), 0);
    assert_eq!((peek32(&mut k, DATA + 0x100), peek32(&mut k, DATA + 0x104)), (3, 500_000));
    assert_eq!(peek32(&mut k, DATA + 0x110), 8, "an i386 timeval is 8 bytes");
}

/// getsockname into a short buffer: the bytes that fit, and the whole length
/// (`move_addr_to_user`); a bad length pointer is EFAULT.
#[test]
fn getsockname_truncates_and_reports_the_length() {
    let mut k = process(&[]);
    let s = sys(&mut k, NR_SOCKET, &[AF_INET, SOCK_DGRAM, 0]) as u32;
    poke(&mut k, DATA + 0x100, &[0xaa; 16]);
    poke32(&mut k, DATA + 0x110, 2);
    assert_eq!(sys(&mut k, NR_GETSOCKNAME, &[s, DATA + 0x100, DATA + 0x110]), 0);
    assert_eq!(peek(&mut k, DATA + 0x100, 3), [AF_INET as u8, 0, 0xaa]);
    assert_eq!(peek32(&mut k, DATA + 0x110), 16);
    assert_eq!(sys(&mut k, NR_GETSOCKNAME, &[s, DATA + 0x100, 8]), EFAULT);
}
