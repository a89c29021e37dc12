//! Sockets: the direct socket calls of i386 (socket … shutdown, sendmsg, recvmsg,
//! sendmmsg, recvmmsg) and the multiplexer `socketcall` (net/socket.c), for AF_UNIX, AF_INET and
//! AF_INET6 on the host's network stack.
//!
//! Every guest socket is a host socket behind a guest fd ([`crate::files`]), so read,
//! write, poll, select and epoll work on it unchanged, the host's TCP/IP stack talks
//! to the world, and two guest processes talk through the host as two native
//! processes would. What the kernel does here is the i386 ABI around that:
//!
//! * arguments are checked in the order today's kernel checks them (`import_ubuf`
//!   before the descriptor for send/recv, the flags of accept4 first, …), and socket
//!   addresses are copied with `move_addr_to_kernel` / `move_addr_to_user`'s rules
//!   (EINVAL past `sizeof(struct sockaddr_storage)`, the untruncated length written
//!   back);
//! * a Unix socket path is a guest path: resolved against the guest's working
//!   directory and through the guest's /proc ([`fs::resolve_path`]), so it never
//!   names the emulator's own /proc entries; the abstract namespace is the host's;
//! * `struct msghdr` and control messages have the 32-bit compat layout and are
//!   rebuilt (net/compat.c): SCM_RIGHTS carries guest fds, which become host fds on
//!   the way out and new guest fds on the way in (MSG_CMSG_CLOEXEC, and MSG_CTRUNC
//!   with the fds that do not fit closed, as `scm_detach_fds_compat`);
//! * SCM_CREDENTIALS is refused: the host would report the emulator's pid for every
//!   guest process, so `SO_PASSCRED` and `SO_PEERCRED` are ENOPROTOOPT and sending
//!   credentials is EINVAL;
//! * socket options pass through only where the value has the same layout on i386
//!   and x86-64 (ints, `struct linger`, the 64-bit `SO_*TIMEO_NEW`); the 32-bit
//!   `struct timeval` of `SO_RCVTIMEO`/`SO_SNDTIMEO` is converted; anything else is
//!   ENOPROTOOPT (logged once per option on `kernel::net`).
//!
//! Blocking: with one guest process a call blocks in the host (a forwarded host
//! signal ends it with EINTR, see [`crate::hostsig`]). With several, nothing may
//! block the one host thread: accept, recv* wait for POLLIN, send* for POLLOUT, on
//! the scheduler ([`crate::sched::sleep_on`], `-ERESTARTSYS` so SA_RESTART decides
//! after a handler), honouring MSG_DONTWAIT, O_NONBLOCK and SO_RCVTIMEO/SO_SNDTIMEO
//! (then `-ERESTARTNOHAND`, and EAGAIN at the deadline, as `sock_intr_errno`). The
//! host call itself is then made with MSG_DONTWAIT, so a stream send larger than the
//! room in the socket returns a short count instead of waiting for the rest, and
//! MSG_WAITALL returns what has arrived. connect puts the host socket in
//! non-blocking mode for the call and sleeps on POLLOUT after EINPROGRESS; the
//! re-executed call asks the host again, whose `__inet_stream_connect` answers
//! EALREADY while the handshake runs, then 0 or the error (ECONNREFUSED), as a
//! native restarted connect does.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::abi::net::{cmsg_align, CmsgHdr, MMsgHdr, MsgHdr, SockaddrUn, SOCKADDR_STORAGE};
use crate::abi::time::Timeval;
use crate::abi::{FromBytes, FromZeros, IntoBytes};
use crate::errno::{
    host_errno, Errno, SysResult, EAGAIN, EBADF, EFAULT, EINVAL, ERESTARTNOHAND, ERESTARTSYS,
};
use crate::files::OpenFile;
use crate::sched::{deadline_after, host_ready, sleep_on, WaitOn};
use crate::signal::{send_sig_info, SigInfo, SIGPIPE, SI_USER};
use crate::syscall::fs::{
    self, gather, host_nonblocking, install_new, iov_total, ok_int, read_iovecs, scatter, single_iov, Iov,
    CHUNK, O_CLOEXEC,
};
use crate::syscall::Args;
use crate::Kernel;

const ENOTSOCK: Errno = libc::ENOTSOCK;
const EAFNOSUPPORT: Errno = libc::EAFNOSUPPORT;
const ENOPROTOOPT: Errno = libc::ENOPROTOOPT;
const EMSGSIZE: Errno = libc::EMSGSIZE;
const ENOBUFS: Errno = libc::ENOBUFS;

// linux/socket.h, linux/net.h
const AF_UNIX: u32 = 1;
const AF_INET: u32 = 2;
const AF_INET6: u32 = 10;
/// `NPROTO` (`AF_MAX`): a family at or past it is EAFNOSUPPORT before the type is
/// looked at (`__sock_create`).
const NPROTO: u32 = 46;
const SOCK_TYPE_MASK: u32 = 0xf;
/// `SOCK_MAX`: one past SOCK_PACKET.
const SOCK_MAX: u32 = 11;
const SOCK_CLOEXEC: u32 = O_CLOEXEC;
const SOCK_NONBLOCK: u32 = libc::O_NONBLOCK as u32;

const MSG_CTRUNC: u32 = 0x8;
const MSG_DONTWAIT: u32 = 0x40;
const MSG_ERRQUEUE: u32 = 0x2000;
const MSG_NOSIGNAL: u32 = 0x4000;
const MSG_CMSG_CLOEXEC: u32 = 0x4000_0000;
const MSG_CMSG_COMPAT: u32 = 0x8000_0000;

const SOL_SOCKET: i32 = 1;
const SCM_RIGHTS: i32 = 1;
const SCM_CREDENTIALS: i32 = 2;
/// `SCM_MAX_FD`: the most descriptors one SCM_RIGHTS message may carry.
const SCM_MAX_FD: usize = 253;

/// The i386 `SO_RCVTIMEO_OLD` / `SO_SNDTIMEO_OLD`: a 32-bit `struct timeval`.
const SO_RCVTIMEO_OLD: u32 = 20;
const SO_SNDTIMEO_OLD: u32 = 21;

/// socketcall's call numbers (linux/net.h).
const SYS_SOCKET: u32 = 1;
const SYS_SENDMMSG: u32 = 20;
/// `nargs[]` of net/socket.c: how many longs each socketcall reads.
const SOCKETCALL_NARGS: [u8; 21] = [0, 3, 3, 3, 2, 3, 3, 3, 4, 4, 4, 6, 6, 2, 5, 5, 3, 3, 4, 5, 4];

// ---------------------------------------------------------------------------------
// Helpers

/// `sockfd_lookup_light`: the host socket behind a guest fd; EBADF, ENOTSOCK.
fn sock_host(k: &Kernel, fd: u32) -> Result<i32, Errno> {
    let host = k.task.files.host(fd)?;
    if is_socket(host) {
        Ok(host)
    } else {
        Err(ENOTSOCK)
    }
}

fn is_socket(host: i32) -> bool {
    // SAFETY: `st` is a valid out-pointer for fstat.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        libc::fstat(host, &mut st) == 0 && st.st_mode & libc::S_IFMT == libc::S_IFSOCK
    }
}

fn ok_isize(r: isize) -> Result<usize, Errno> {
    if r < 0 {
        Err(host_errno())
    } else {
        Ok(r as usize)
    }
}

/// A socket address in the kernel: `struct sockaddr_storage` and its length.
#[derive(Clone)]
struct SockAddr {
    buf: [u8; SOCKADDR_STORAGE],
    len: usize,
}

impl SockAddr {
    fn empty() -> Self {
        Self { buf: [0; SOCKADDR_STORAGE], len: SOCKADDR_STORAGE }
    }
    fn ptr(&self) -> *const libc::sockaddr {
        self.buf.as_ptr().cast()
    }
    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len.min(SOCKADDR_STORAGE)]
    }
}

/// `move_addr_to_kernel`: EINVAL for a negative length or one past
/// `sockaddr_storage`, EFAULT for an unreadable address.
fn move_addr_to_kernel(k: &mut Kernel, addr: u32, len: u32) -> Result<SockAddr, Errno> {
    if (len as i32) < 0 || len as usize > SOCKADDR_STORAGE {
        return Err(EINVAL);
    }
    let mut sa = SockAddr { buf: [0; SOCKADDR_STORAGE], len: len as usize };
    if len > 0 {
        k.copy_from_user(addr, &mut sa.buf[..len as usize]).map_err(|_| EFAULT)?;
    }
    Ok(sa)
}

/// `move_addr_to_user`: copies at most `*ulen` bytes of the address and stores its
/// untruncated length in `*ulen` ("fromlen shall refer to the value before
/// truncation", 1003.1g).
fn move_addr_to_user(k: &mut Kernel, sa: &[u8], uaddr: u32, ulen: u32) -> Result<(), Errno> {
    let len = k.get_user::<u32>(ulen)? as i32;
    let len = len.min(sa.len() as i32);
    if len < 0 {
        return Err(EINVAL);
    }
    if len > 0 {
        k.copy_to_user(uaddr, &sa[..len as usize]).map_err(|_| EFAULT)?;
    }
    k.put_user(ulen, sa.len() as u32)
}

/// A Unix socket address naming a path: the path as the guest means it (relative to
/// its working directory, /proc being the guest's). Abstract names (a leading NUL)
/// and other families pass unchanged; so does a length the host will refuse anyway
/// (`unix_validate_addr`).
fn unix_path(k: &Kernel, sa: SockAddr) -> Result<SockAddr, Errno> {
    let family = u16::from_ne_bytes([sa.buf[0], sa.buf[1]]);
    if u32::from(family) != AF_UNIX
        || sa.len <= 2
        || sa.len > std::mem::size_of::<SockaddrUn>()
        || sa.buf[2] == 0
    {
        return Ok(sa);
    }
    let raw = &sa.buf[2..sa.len];
    let path = raw[..raw.iter().position(|&c| c == 0).unwrap_or(raw.len())].to_vec();
    let (_, host) = fs::resolve_path(k, path.clone())?;
    let host = host.into_bytes();
    if host == path {
        return Ok(sa);
    }
    let mut un = SockaddrUn::new_zeroed();
    if host.len() >= un.sun_path.len() {
        return Err(libc::ENAMETOOLONG);
    }
    un.sun_family = AF_UNIX as u16;
    un.sun_path[..host.len()].copy_from_slice(&host);
    let mut out = SockAddr { buf: [0; SOCKADDR_STORAGE], len: 2 + host.len() + 1 };
    out.buf[..size_of_val(&un)].copy_from_slice(un.as_bytes());
    log::debug!(target: "kernel::net", "unix socket path {:?} is host {:?}", String::from_utf8_lossy(&path), String::from_utf8_lossy(&host));
    Ok(out)
}

/// The timeout set with SO_RCVTIMEO or SO_SNDTIMEO on the host socket (`None`: none).
fn host_timeout(host: i32, opt: libc::c_int) -> Option<Duration> {
    let mut tv = libc::timeval { tv_sec: 0, tv_usec: 0 };
    let mut len = std::mem::size_of::<libc::timeval>() as libc::socklen_t;
    // SAFETY: `tv` and `len` are valid out-pointers of the sizes given.
    let r = unsafe { libc::getsockopt(host, libc::SOL_SOCKET, opt, (&raw mut tv).cast(), &mut len) };
    if r < 0 || (tv.tv_sec == 0 && tv.tv_usec == 0) {
        return None;
    }
    Some(Duration::from_secs(tv.tv_sec as u64) + Duration::from_micros(tv.tv_usec as u64))
}

/// With several processes, a socket call that would block sleeps on the scheduler
/// until `host` is ready for `events` (`None`: go ahead). `timeo` names the option
/// whose timeout bounds the wait (`sock_rcvtimeo` / `sock_sndtimeo`); at the deadline
/// the call fails with EAGAIN.
fn sock_wait(
    k: &mut Kernel,
    host: i32,
    events: i16,
    dontwait: bool,
    timeo: libc::c_int,
) -> Option<SysResult> {
    if !k.multitasking() || dontwait || host_ready(host, events) || host_nonblocking(host) {
        return None;
    }
    Some(sleep_sock(k, host, events, timeo, EAGAIN))
}

/// Sleeps on `host` for `events`, bounded by its `timeo` option; `expired` is the
/// result once that has passed.
fn sleep_sock(k: &mut Kernel, host: i32, events: i16, timeo: libc::c_int, expired: Errno) -> SysResult {
    match host_timeout(host, timeo) {
        None => sleep_on(k, WaitOn::Fd { fd: host, events }, ERESTARTSYS),
        Some(d) => {
            let deadline = deadline_after(k, d);
            if Instant::now() >= deadline {
                return Err(expired);
            }
            let w = WaitOn::Poll { fds: vec![(host, events)], deadline: Some(deadline), sigmask: None };
            sleep_on(k, w, ERESTARTNOHAND)
        }
    }
}

/// The flags of the host call: with several processes it must not block.
fn host_flags(k: &Kernel, flags: u32) -> libc::c_int {
    let f = flags & !MSG_CMSG_COMPAT;
    (if k.multitasking() { f | MSG_DONTWAIT } else { f }) as libc::c_int
}

/// Whether the guest asked not to wait (MSG_DONTWAIT or an O_NONBLOCK socket).
fn no_wait(host: i32, flags: u32) -> bool {
    flags & MSG_DONTWAIT != 0 || host_nonblocking(host)
}

fn check_type_flags(ty: u32) -> Result<(), Errno> {
    if ty & !SOCK_TYPE_MASK & !(SOCK_CLOEXEC | SOCK_NONBLOCK) != 0 {
        return Err(EINVAL);
    }
    Ok(())
}

/// `__sock_create`'s checks: a family past NPROTO, then a type past SOCK_MAX, then
/// a family this kernel does not have.
fn check_family(family: u32, ty: u32) -> Result<(), Errno> {
    if family >= NPROTO {
        return Err(EAFNOSUPPORT);
    }
    if ty & SOCK_TYPE_MASK >= SOCK_MAX {
        return Err(EINVAL);
    }
    if !matches!(family, AF_UNIX | AF_INET | AF_INET6) {
        return Err(EAFNOSUPPORT);
    }
    Ok(())
}

fn new_sock_file(host: i32, ty: u32) -> OpenFile {
    OpenFile { cloexec: ty & SOCK_CLOEXEC != 0, ..OpenFile::new(host) }
}

// ---------------------------------------------------------------------------------
// socket, socketpair, bind, connect, listen, accept

/// socket(family, type, protocol)
pub fn sys_socket(k: &mut Kernel, a: Args) -> SysResult {
    let (family, ty, proto) = (a[0], a[1], a[2]);
    check_type_flags(ty)?;
    check_family(family, ty)?;
    // SAFETY: no pointer arguments.
    let h = ok_int(unsafe { libc::socket(family as i32, (ty | SOCK_CLOEXEC) as i32, proto as i32) })?;
    install_new(k, 0, new_sock_file(h as i32, ty))
}

/// socketpair(family, type, protocol, int sv[2]): today's `__sys_socketpair` stores
/// the two fds before it creates the sockets, so a bad `sv` is EFAULT before the
/// family is looked at.
pub fn sys_socketpair(k: &mut Kernel, a: Args) -> SysResult {
    let (family, ty, proto, sv) = (a[0], a[1], a[2], a[3]);
    check_type_flags(ty)?;
    let mut probe = [0u8; 8];
    k.copy_from_user(sv, &mut probe).map_err(|_| EFAULT)?;
    k.copy_to_user(sv, &probe).map_err(|_| EFAULT)?;
    check_family(family, ty)?;
    let mut fds = [0i32; 2];
    // SAFETY: `fds` is a valid out-array of two ints.
    ok_int(unsafe {
        libc::socketpair(family as i32, (ty | SOCK_CLOEXEC) as i32, proto as i32, fds.as_mut_ptr())
    })?;
    let f0 = match install_new(k, 0, new_sock_file(fds[0], ty)) {
        Ok(f) => f,
        Err(e) => {
            // SAFETY: closing the other end we just created.
            unsafe { libc::close(fds[1]) };
            return Err(e);
        }
    };
    let f1 = match install_new(k, 0, new_sock_file(fds[1], ty)) {
        Ok(f) => f,
        Err(e) => {
            let _ = k.task.files.close(f0);
            return Err(e);
        }
    };
    if k.copy_to_user(sv, [f0, f1].as_bytes()).is_err() {
        let _ = k.task.files.close(f0);
        let _ = k.task.files.close(f1);
        return Err(EFAULT);
    }
    Ok(0)
}

/// bind(fd, addr, addrlen)
pub fn sys_bind(k: &mut Kernel, a: Args) -> SysResult {
    let host = sock_host(k, a[0])?;
    let sa = move_addr_to_kernel(k, a[1], a[2])?;
    let sa = unix_path(k, sa)?;
    // SAFETY: `sa` holds `sa.len` bytes of socket address.
    ok_int(unsafe { libc::bind(host, sa.ptr(), sa.len as libc::socklen_t) })
}

/// connect(fd, addr, addrlen): today's `__sys_connect` looks the fd up (EBADF), then
/// copies the address, then asks for a socket (ENOTSOCK).
pub fn sys_connect(k: &mut Kernel, a: Args) -> SysResult {
    let host = k.task.files.host(a[0])?;
    let sa = move_addr_to_kernel(k, a[1], a[2])?;
    if !is_socket(host) {
        return Err(ENOTSOCK);
    }
    let sa = unix_path(k, sa)?;
    let connect = || {
        // SAFETY: `sa` holds `sa.len` bytes of socket address.
        ok_int(unsafe { libc::connect(host, sa.ptr(), sa.len as libc::socklen_t) })
    };
    if !k.multitasking() || host_nonblocking(host) {
        return connect();
    }
    // SAFETY: F_GETFL/F_SETFL take no pointers; the flags are put back at once, and
    // nothing else runs on the host meanwhile.
    let fl = unsafe { libc::fcntl(host, libc::F_GETFL) };
    // SAFETY: as above.
    unsafe { libc::fcntl(host, libc::F_SETFL, fl | libc::O_NONBLOCK) };
    let r = connect();
    // SAFETY: as above.
    unsafe { libc::fcntl(host, libc::F_SETFL, fl) };
    match r {
        // inet_wait_for_connect: the handshake ends with POLLOUT (or an error).
        Err(libc::EINPROGRESS) | Err(libc::EALREADY) => {
            sleep_sock(k, host, libc::POLLOUT, libc::SO_SNDTIMEO, libc::EINPROGRESS)
        }
        // A Unix listener whose backlog is full (`unix_wait_for_peer`): nothing
        // to poll for on this socket, so look again shortly.
        Err(EAGAIN) => sleep_on(k, WaitOn::Timer(Instant::now() + Duration::from_millis(1)), ERESTARTSYS),
        r => r,
    }
}

/// listen(fd, backlog)
pub fn sys_listen(k: &mut Kernel, a: Args) -> SysResult {
    let host = sock_host(k, a[0])?;
    // SAFETY: no pointer arguments.
    ok_int(unsafe { libc::listen(host, a[1] as i32) })
}

/// accept4(fd, addr, addrlen, flags): EBADF, then EINVAL for an unknown flag, then
/// ENOTSOCK (`__sys_accept4_file`); the peer's address is stored after the connection is taken, and if
/// that faults the connection is dropped (`do_accept`).
pub fn sys_accept4(k: &mut Kernel, a: Args) -> SysResult {
    let (fd, uaddr, ulen, flags) = (a[0], a[1], a[2], a[3]);
    let host = k.task.files.host(fd)?;
    if flags & !(SOCK_CLOEXEC | SOCK_NONBLOCK) != 0 {
        return Err(EINVAL);
    }
    if !is_socket(host) {
        return Err(ENOTSOCK);
    }
    if let Some(r) = sock_wait(k, host, libc::POLLIN, false, libc::SO_RCVTIMEO) {
        return r;
    }
    let mut sa = SockAddr::empty();
    let mut len = SOCKADDR_STORAGE as libc::socklen_t;
    let hflags = (flags & SOCK_NONBLOCK) | SOCK_CLOEXEC;
    // SAFETY: `sa.buf` has room for `len` bytes; `len` is a valid in/out pointer.
    let r = unsafe { libc::accept4(host, sa.buf.as_mut_ptr().cast(), &mut len, hflags as i32) };
    let h = match ok_int(r) {
        Ok(h) => h as i32,
        Err(EAGAIN) if k.multitasking() && !host_nonblocking(host) => {
            return sleep_sock(k, host, libc::POLLIN, libc::SO_RCVTIMEO, EAGAIN)
        }
        Err(e) => return Err(e),
    };
    sa.len = len as usize;
    if uaddr != 0 {
        if let Err(e) = move_addr_to_user(k, sa.bytes(), uaddr, ulen) {
            // SAFETY: the connection we just accepted; nobody else holds it.
            unsafe { libc::close(h) };
            return Err(e);
        }
    }
    install_new(k, 0, new_sock_file(h, flags))
}

/// accept(fd, addr, addrlen): accept4 with no flags.
pub fn sys_accept(k: &mut Kernel, a: Args) -> SysResult {
    sys_accept4(k, [a[0], a[1], a[2], 0, 0, 0])
}

type GetName = unsafe extern "C" fn(libc::c_int, *mut libc::sockaddr, *mut libc::socklen_t) -> libc::c_int;

fn do_getname(k: &mut Kernel, a: Args, f: GetName) -> SysResult {
    let host = sock_host(k, a[0])?;
    let mut sa = SockAddr::empty();
    let mut len = SOCKADDR_STORAGE as libc::socklen_t;
    // SAFETY: `sa.buf` has room for `len` bytes; `len` is a valid in/out pointer.
    ok_int(unsafe { f(host, sa.buf.as_mut_ptr().cast(), &mut len) })?;
    sa.len = len as usize;
    move_addr_to_user(k, sa.bytes(), a[1], a[2])?;
    Ok(0)
}

/// getsockname(fd, addr, addrlen)
pub fn sys_getsockname(k: &mut Kernel, a: Args) -> SysResult {
    do_getname(k, a, libc::getsockname)
}

/// getpeername(fd, addr, addrlen)
pub fn sys_getpeername(k: &mut Kernel, a: Args) -> SysResult {
    do_getname(k, a, libc::getpeername)
}

/// shutdown(fd, how)
pub fn sys_shutdown(k: &mut Kernel, a: Args) -> SysResult {
    let host = sock_host(k, a[0])?;
    // SAFETY: no pointer arguments.
    ok_int(unsafe { libc::shutdown(host, a[1] as i32) })
}

// ---------------------------------------------------------------------------------
// Data: send and receive

/// One host sendmsg of the guest's bytes (at most [`CHUNK`]), with `name` and the
/// host control messages `control`.
fn do_send(
    k: &mut Kernel,
    host: i32,
    iovs: &[Iov],
    flags: u32,
    name: Option<&SockAddr>,
    control: &mut [u8],
) -> SysResult {
    if let Some(r) = sock_wait(k, host, libc::POLLOUT, no_wait(host, flags), libc::SO_SNDTIMEO) {
        return r;
    }
    let total = iov_total(iovs).min(CHUNK);
    let (mut buf, fault) = gather(k, iovs, 0, total);
    if fault && buf.is_empty() {
        return Err(EFAULT);
    }
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    // SAFETY: msghdr is plain data; all-zero is a valid value.
    let mut mh: libc::msghdr = unsafe { std::mem::zeroed() };
    mh.msg_iov = &mut iov;
    mh.msg_iovlen = 1;
    if let Some(sa) = name {
        mh.msg_name = sa.buf.as_ptr() as *mut libc::c_void;
        mh.msg_namelen = sa.len as libc::socklen_t;
    }
    if !control.is_empty() {
        mh.msg_control = control.as_mut_ptr().cast();
        mh.msg_controllen = control.len();
    }
    // SAFETY: `mh` points at `buf`, `sa` and `control`, which outlive the call.
    let r = unsafe { libc::sendmsg(host, &mh, host_flags(k, flags)) };
    match ok_isize(r) {
        Ok(n) => Ok(n as u32),
        Err(EAGAIN) if k.multitasking() && !no_wait(host, flags) => {
            sleep_sock(k, host, libc::POLLOUT, libc::SO_SNDTIMEO, EAGAIN)
        }
        Err(libc::EPIPE) => {
            // The emulator ignores SIGPIPE; the guest gets it unless MSG_NOSIGNAL
            // (`sk_stream_error`, `unix_stream_sendmsg`).
            if flags & MSG_NOSIGNAL == 0 {
                let (pid, uid) = (k.task.pid, k.current_uid());
                send_sig_info(k, SigInfo::user(SIGPIPE, SI_USER, pid, uid));
            }
            Err(libc::EPIPE)
        }
        Err(e) => Err(e),
    }
}

/// What one host recvmsg returned.
struct Received {
    /// The length the host reported (with MSG_TRUNC, a datagram's whole length).
    len: usize,
    /// Bytes copied to the guest.
    copied: usize,
    name: SockAddr,
    control: Vec<u8>,
    flags: u32,
}

/// One host recvmsg into the guest buffers; `ctl_room` is the size of the host
/// control buffer (0: none).
fn do_recv(k: &mut Kernel, host: i32, iovs: &[Iov], flags: u32, ctl_room: usize) -> Result<Received, Errno> {
    let dontwait = no_wait(host, flags) || flags & MSG_ERRQUEUE != 0;
    if let Some(r) = sock_wait(k, host, libc::POLLIN, dontwait, libc::SO_RCVTIMEO) {
        return Err(r.err().unwrap_or(EAGAIN));
    }
    let total = iov_total(iovs).min(CHUNK);
    let mut buf = vec![0u8; total];
    let mut name = SockAddr::empty();
    let mut control = vec![0u8; ctl_room];
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    // SAFETY: msghdr is plain data; all-zero is a valid value.
    let mut mh: libc::msghdr = unsafe { std::mem::zeroed() };
    mh.msg_iov = &mut iov;
    mh.msg_iovlen = 1;
    mh.msg_name = name.buf.as_mut_ptr().cast();
    mh.msg_namelen = SOCKADDR_STORAGE as libc::socklen_t;
    if ctl_room > 0 {
        mh.msg_control = control.as_mut_ptr().cast();
        mh.msg_controllen = ctl_room;
    }
    // Received descriptors are close-on-exec on the host whatever the guest asked
    // (its own flag goes into its fd table).
    let hflags = host_flags(k, flags & !MSG_CMSG_CLOEXEC) | MSG_CMSG_CLOEXEC as libc::c_int;
    // SAFETY: `mh` points at `buf`, `name` and `control`, which outlive the call and
    // have the sizes given.
    let r = unsafe { libc::recvmsg(host, &mut mh, hflags) };
    let len = match ok_isize(r) {
        Ok(n) => n,
        Err(EAGAIN) if k.multitasking() && !dontwait => {
            return Err(sleep_sock(k, host, libc::POLLIN, libc::SO_RCVTIMEO, EAGAIN).err().unwrap_or(EAGAIN));
        }
        Err(e) => return Err(e),
    };
    name.len = mh.msg_namelen as usize;
    control.truncate(mh.msg_controllen);
    let mut got = Received { len, copied: 0, name, control, flags: mh.msg_flags as u32 };
    let n = len.min(buf.len());
    match scatter(k, iovs, 0, &buf[..n]) {
        Ok(()) => got.copied = n,
        Err(0) if n > 0 => {
            drop_fds(&got.control);
            return Err(EFAULT);
        }
        Err(m) => got.copied = m,
    }
    Ok(got)
}

/// sendto(fd, buf, len, flags, addr, addrlen). Today's kernel checks the buffer
/// with `access_ok` before the fd, but for a 32-bit task on a 64-bit kernel every
/// 32-bit address passes it, so natively a bad buffer is seen only after the fd:
/// that order is kept.
pub fn sys_sendto(k: &mut Kernel, a: Args) -> SysResult {
    let host = sock_host(k, a[0])?;
    let iov = single_iov(a[1], a[2])?;
    let name = if a[4] != 0 {
        let sa = move_addr_to_kernel(k, a[4], a[5])?;
        Some(unix_path(k, sa)?)
    } else {
        None
    };
    do_send(k, host, &iov, a[3], name.as_ref(), &mut [])
}

/// recvfrom(fd, buf, len, flags, addr, addrlen)
pub fn sys_recvfrom(k: &mut Kernel, a: Args) -> SysResult {
    let host = sock_host(k, a[0])?;
    let iov = single_iov(a[1], a[2])?;
    let got = do_recv(k, host, &iov, a[3], 0)?;
    if a[4] != 0 {
        move_addr_to_user(k, got.name.bytes(), a[4], a[5])?;
    }
    Ok(result_len(&got, a[3]) as u32)
}

/// The count a receive returns: the bytes copied, or with MSG_TRUNC the real length
/// the host reported.
fn result_len(got: &Received, flags: u32) -> usize {
    if flags & libc::MSG_TRUNC as u32 != 0 {
        got.len
    } else {
        got.copied
    }
}

// ---------------------------------------------------------------------------------
// sendmsg / recvmsg: the compat msghdr and control messages

/// A guest msghdr read and checked as `__get_compat_msghdr` does.
struct GuestMsg {
    hdr: MsgHdr,
    iovs: Vec<Iov>,
}

fn read_msghdr(k: &mut Kernel, addr: u32) -> Result<GuestMsg, Errno> {
    let mut hdr = MsgHdr::new_zeroed();
    k.copy_from_user(addr, hdr.as_mut_bytes()).map_err(|_| EFAULT)?;
    if (hdr.msg_namelen as i32) < 0 {
        return Err(EINVAL);
    }
    if hdr.msg_iovlen > 1024 {
        return Err(EMSGSIZE);
    }
    let iovs = read_iovecs(k, hdr.msg_iov, hdr.msg_iovlen)?;
    Ok(GuestMsg { hdr, iovs })
}

/// `cmsghdr_from_user_compat_to_kern` and `__scm_send`: the guest's control messages
/// as the host's, SCM_RIGHTS fds as host fds.
fn control_to_host(k: &mut Kernel, addr: u32, len: u32) -> Result<Vec<u8>, Errno> {
    if len > i32::MAX as u32 {
        return Err(ENOBUFS);
    }
    let len = len as usize;
    let hsz = std::mem::size_of::<CmsgHdr>();
    // `CMSG_COMPAT_FIRSTHDR`: no header fits, no message; then "kcmlen == 0".
    if len < hsz {
        return Err(EINVAL);
    }
    if len > 1 << 16 {
        return Err(ENOBUFS);
    }
    let raw = k.read_user(addr, len)?;
    let mut out = Vec::new();
    let mut off = 0usize;
    while off + hsz <= len {
        let h = CmsgHdr::read_from_bytes(&raw[off..off + hsz]).map_err(|_| EINVAL)?;
        let cl = h.cmsg_len as usize;
        // CMSG_COMPAT_OK
        if cl < hsz || cl > len - off {
            return Err(EINVAL);
        }
        let data = &raw[off + hsz..off + cl];
        let mut payload = data.to_vec();
        if h.cmsg_level == SOL_SOCKET {
            match h.cmsg_type {
                SCM_RIGHTS => {
                    let n = data.len() / 4;
                    if n == 0 {
                        return Err(EINVAL);
                    }
                    if n > SCM_MAX_FD {
                        return Err(EINVAL);
                    }
                    payload.clear();
                    for c in data.chunks_exact(4) {
                        let fd = u32::from_ne_bytes([c[0], c[1], c[2], c[3]]);
                        let h = k.task.files.host(fd).map_err(|_| EBADF)?;
                        payload.extend_from_slice(&h.to_ne_bytes());
                    }
                }
                SCM_CREDENTIALS => {
                    log::warn!(target: "kernel::net", "SCM_CREDENTIALS refused (the host would see the emulator's pid)");
                    return Err(EINVAL);
                }
                _ => {}
            }
        }
        let hlen = std::mem::size_of::<libc::cmsghdr>() + payload.len();
        let start = out.len();
        out.resize(start + ((hlen + 7) & !7), 0);
        out[start..start + 8].copy_from_slice(&(hlen as u64).to_ne_bytes());
        out[start + 8..start + 12].copy_from_slice(&h.cmsg_level.to_ne_bytes());
        out[start + 12..start + 16].copy_from_slice(&h.cmsg_type.to_ne_bytes());
        out[start + 16..start + 16 + payload.len()].copy_from_slice(&payload);
        off += cmsg_align(cl);
    }
    Ok(out)
}

/// Walks host control messages: (level, type, data).
fn host_cmsgs(ctl: &[u8]) -> Vec<(i32, i32, &[u8])> {
    let mut v = Vec::new();
    let mut off = 0usize;
    while off + 16 <= ctl.len() {
        let len = u64::from_ne_bytes(ctl[off..off + 8].try_into().unwrap_or([0; 8])) as usize;
        if len < 16 || off + len > ctl.len() {
            break;
        }
        let level = i32::from_ne_bytes(ctl[off + 8..off + 12].try_into().unwrap_or([0; 4]));
        let ty = i32::from_ne_bytes(ctl[off + 12..off + 16].try_into().unwrap_or([0; 4]));
        v.push((level, ty, &ctl[off + 16..off + len]));
        off += (len + 7) & !7;
    }
    v
}

fn rights_fds(data: &[u8]) -> impl Iterator<Item = i32> + '_ {
    data.chunks_exact(4).map(|c| i32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
}

/// Closes the host fds of every SCM_RIGHTS message in host control data (a
/// receive that fails after the host installed them).
fn drop_fds(ctl: &[u8]) {
    for (level, ty, data) in host_cmsgs(ctl) {
        if level == SOL_SOCKET && ty == SCM_RIGHTS {
            for h in rights_fds(data) {
                // SAFETY: a descriptor the host just gave us and nobody holds.
                unsafe { libc::close(h) };
            }
        }
    }
}

/// `put_cmsg_compat` and `scm_detach_fds_compat`: the host's control messages into
/// the guest's buffer. Returns the bytes used and whether something did not fit.
fn control_to_guest(k: &mut Kernel, ctl: &[u8], addr: u32, len: u32, cloexec: bool) -> (u32, bool) {
    let hsz = std::mem::size_of::<CmsgHdr>();
    let mut room = len as usize;
    let mut off = 0usize;
    let mut trunc = false;
    for (level, ty, data) in host_cmsgs(ctl) {
        if level == SOL_SOCKET && ty == SCM_RIGHTS {
            let fds: Vec<i32> = rights_fds(data).collect();
            let fdmax = if room <= hsz { 0 } else { (room - hsz) / 4 }.min(fds.len());
            // `consumed`: host fds handed to the fd table (installed, or closed by
            // a failed install or store, as `receive_fd` drops them).
            let (mut installed, mut consumed) = (0usize, 0usize);
            while installed < fdmax {
                consumed += 1;
                // On EMFILE install_new has closed the host fd.
                let Ok(gfd) = install_new(k, 0, OpenFile { cloexec, ..OpenFile::new(fds[installed]) }) else {
                    break;
                };
                if k.put_user(addr.wrapping_add((off + hsz + 4 * installed) as u32), gfd).is_err() {
                    let _ = k.task.files.close(gfd);
                    break;
                }
                installed += 1;
            }
            for &h in &fds[consumed..] {
                // SAFETY: a received descriptor that does not fit: closed, as
                // `__scm_destroy` drops the files.
                unsafe { libc::close(h) };
            }
            if installed > 0 {
                let cm = CmsgHdr {
                    cmsg_len: (hsz + 4 * installed) as u32,
                    cmsg_level: SOL_SOCKET,
                    cmsg_type: SCM_RIGHTS,
                };
                if k.copy_to_user(addr.wrapping_add(off as u32), cm.as_bytes()).is_ok() {
                    let space = cmsg_align(hsz + 4 * installed);
                    off += space;
                    room = room.saturating_sub(space);
                }
            }
            if installed < fds.len() {
                trunc = true;
            }
            continue;
        }
        if room < hsz {
            trunc = true;
            continue;
        }
        let mut cmlen = hsz + data.len();
        if room < cmlen {
            trunc = true;
            cmlen = room;
        }
        let cm = CmsgHdr { cmsg_len: cmlen as u32, cmsg_level: level, cmsg_type: ty };
        let mut bytes = cm.as_bytes().to_vec();
        bytes.extend_from_slice(&data[..cmlen - hsz]);
        if k.copy_to_user(addr.wrapping_add(off as u32), &bytes).is_err() {
            break;
        }
        let space = cmsg_align(cmlen);
        off += space;
        room = room.saturating_sub(space);
    }
    (off as u32, trunc)
}

fn do_sendmsg(k: &mut Kernel, host: i32, msg: u32, flags: u32) -> SysResult {
    let m = read_msghdr(k, msg)?;
    let name = if m.hdr.msg_name != 0 && m.hdr.msg_namelen != 0 {
        let len = m.hdr.msg_namelen.min(SOCKADDR_STORAGE as u32);
        let sa = move_addr_to_kernel(k, m.hdr.msg_name, len)?;
        Some(unix_path(k, sa)?)
    } else {
        None
    };
    let mut control = if m.hdr.msg_controllen != 0 {
        control_to_host(k, m.hdr.msg_control, m.hdr.msg_controllen)?
    } else {
        Vec::new()
    };
    do_send(k, host, &m.iovs, flags, name.as_ref(), &mut control)
}

fn do_recvmsg(k: &mut Kernel, host: i32, msg: u32, flags: u32) -> SysResult {
    let m = read_msghdr(k, msg)?;
    // Room for as much as the guest's buffer could take in the host's wider layout.
    let ctl_room =
        (m.hdr.msg_controllen as usize).min(1 << 16) * 2 + if m.hdr.msg_controllen > 0 { 64 } else { 0 };
    let got = do_recv(k, host, &m.iovs, flags, ctl_room)?;
    let (used, trunc) = control_to_guest(
        k,
        &got.control,
        m.hdr.msg_control,
        m.hdr.msg_controllen,
        flags & MSG_CMSG_CLOEXEC != 0,
    );
    if m.hdr.msg_name != 0 {
        let klen = if m.hdr.msg_namelen == 0 { &[][..] } else { got.name.bytes() };
        move_addr_to_user(k, klen, m.hdr.msg_name, msg + 4)?;
    }
    let mut oflags = (got.flags & !(MSG_CMSG_CLOEXEC | MSG_CMSG_COMPAT)) | (flags & MSG_CMSG_CLOEXEC);
    if trunc {
        oflags |= MSG_CTRUNC;
    }
    k.put_user(msg + 24, oflags)?;
    k.put_user(msg + 20, used)?;
    Ok(result_len(&got, flags) as u32)
}

/// sendmsg(fd, msg, flags)
pub fn sys_sendmsg(k: &mut Kernel, a: Args) -> SysResult {
    let host = sock_host(k, a[0])?;
    do_sendmsg(k, host, a[1], a[2])
}

/// recvmsg(fd, msg, flags)
pub fn sys_recvmsg(k: &mut Kernel, a: Args) -> SysResult {
    let host = sock_host(k, a[0])?;
    do_recvmsg(k, host, a[1], a[2])
}

/// sendmmsg(fd, mmsg, vlen, flags): sendmsg for each entry, its count stored in
/// `msg_len`; the first error ends the loop and is returned only if nothing was sent
/// (`__sys_sendmmsg`). vlen is capped at UIO_MAXIOV.
pub fn sys_sendmmsg(k: &mut Kernel, a: Args) -> SysResult {
    let (fd, vec, vlen, flags) = (a[0], a[1], a[2].min(1024), a[3]);
    let host = sock_host(k, fd)?;
    let sz = std::mem::size_of::<MMsgHdr>() as u32;
    let mut sent = 0u32;
    while sent < vlen {
        let entry = vec.wrapping_add(sent * sz);
        // After the first message, the others do not wait (MSG_BATCH semantics
        // aside, a blocked later entry would redo the earlier ones when restarted).
        let f = if sent > 0 { flags | MSG_DONTWAIT } else { flags };
        match do_sendmsg(k, host, entry, f) {
            Ok(n) => {
                if let Err(e) = k.put_user(entry + 28, n) {
                    return if sent > 0 { Ok(sent) } else { Err(e) };
                }
                sent += 1;
            }
            Err(_) if sent > 0 => break,
            Err(e) => return Err(e),
        }
    }
    Ok(sent)
}

/// recvmmsg(fd, mmsg, vlen, flags, timeout) with an old 32-bit timespec (`time64`
/// false) or a 64-bit one (`do_recvmmsg`): recvmsg for each entry, its count
/// stored in `msg_len`; MSG_WAITFORONE turns on MSG_DONTWAIT after the first
/// datagram; the timeout is looked at only after each datagram (today's kernel
/// too) and what is left of it is stored back. The first error is returned only
/// if nothing was received. With several processes the entries after the first do
/// not wait (a restarted call would lose what the first ones took).
pub fn sys_recvmmsg(k: &mut Kernel, a: Args, time64: bool) -> SysResult {
    const MSG_WAITFORONE: u32 = 0x10000;
    let (fd, vec, vlen, mut flags, uts) = (a[0], a[1], a[2].min(1024), a[3], a[4]);
    let end = if uts != 0 {
        let (sec, nsec) = if time64 {
            let mut t = crate::abi::time::KernelTimespec::default();
            k.copy_from_user(uts, t.as_mut_bytes()).map_err(|_| EFAULT)?;
            // A 32-bit task's kernel reads only the low half of tv_nsec.
            (t.tv_sec, i64::from(t.tv_nsec as i32))
        } else {
            let mut t = crate::abi::time::Timespec::default();
            k.copy_from_user(uts, t.as_mut_bytes()).map_err(|_| EFAULT)?;
            (i64::from(t.tv_sec), i64::from(t.tv_nsec))
        };
        // poll_select_set_timeout: timespec64_valid.
        if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
            return Err(EINVAL);
        }
        Some(Instant::now() + Duration::new(sec as u64, nsec as u32))
    } else {
        None
    };
    let host = sock_host(k, fd)?;
    let sz = std::mem::size_of::<MMsgHdr>() as u32;
    let mut got = 0u32;
    let mut left = None;
    while got < vlen {
        let entry = vec.wrapping_add(got * sz);
        let f = if got > 0 && k.multitasking() { flags | MSG_DONTWAIT } else { flags };
        let n = match do_recvmsg(k, host, entry, f & !MSG_WAITFORONE) {
            Ok(n) => n,
            Err(_) if got > 0 => break,
            Err(e) => return Err(e),
        };
        if let Err(e) = k.put_user(entry + 28, n) {
            if got == 0 {
                return Err(e);
            }
            break;
        }
        got += 1;
        if flags & MSG_WAITFORONE != 0 {
            flags |= MSG_DONTWAIT;
        }
        if let Some(end) = end {
            let rest = end.saturating_duration_since(Instant::now());
            left = Some(rest);
            if rest.is_zero() {
                break;
            }
        }
        let mf: u32 = k.get_user(entry + 24)?;
        if mf & libc::MSG_OOB as u32 != 0 {
            break;
        }
    }
    if let (Some(rest), true) = (left, got > 0) {
        let r = if time64 {
            let t = crate::abi::time::KernelTimespec {
                tv_sec: rest.as_secs() as i64,
                tv_nsec: i64::from(rest.subsec_nanos()),
            };
            k.copy_to_user(uts, t.as_bytes())
        } else {
            let t = crate::abi::time::Timespec {
                tv_sec: rest.as_secs() as i32,
                tv_nsec: rest.subsec_nanos() as i32,
            };
            k.copy_to_user(uts, t.as_bytes())
        };
        r.map_err(|_| EFAULT)?;
    }
    Ok(got)
}

// ---------------------------------------------------------------------------------
// Socket options

/// Options passed through: the value is laid out the same on i386 and the host.
fn passes_through(level: i32, opt: i32) -> bool {
    match level {
        libc::SOL_SOCKET => matches!(
            opt,
            libc::SO_DEBUG
                | libc::SO_REUSEADDR
                | libc::SO_TYPE
                | libc::SO_ERROR
                | libc::SO_DONTROUTE
                | libc::SO_BROADCAST
                | libc::SO_SNDBUF
                | libc::SO_RCVBUF
                | libc::SO_SNDBUFFORCE
                | libc::SO_RCVBUFFORCE
                | libc::SO_KEEPALIVE
                | libc::SO_OOBINLINE
                | libc::SO_NO_CHECK
                | libc::SO_PRIORITY
                | libc::SO_LINGER
                | libc::SO_BSDCOMPAT
                | libc::SO_REUSEPORT
                | libc::SO_RCVLOWAT
                | libc::SO_SNDLOWAT
                | libc::SO_ACCEPTCONN
                | libc::SO_PROTOCOL
                | libc::SO_DOMAIN
                // SO_RCVTIMEO_NEW, SO_SNDTIMEO_NEW: `struct __kernel_sock_timeval`,
                // two 64-bit fields everywhere.
                | 66
                | 67
        ),
        libc::IPPROTO_TCP => matches!(
            opt,
            libc::TCP_NODELAY
                | libc::TCP_MAXSEG
                | libc::TCP_CORK
                | libc::TCP_KEEPIDLE
                | libc::TCP_KEEPINTVL
                | libc::TCP_KEEPCNT
                | libc::TCP_SYNCNT
                | libc::TCP_LINGER2
                | libc::TCP_DEFER_ACCEPT
                | libc::TCP_WINDOW_CLAMP
                | libc::TCP_QUICKACK
                | libc::TCP_USER_TIMEOUT
        ),
        libc::IPPROTO_IP => {
            matches!(opt, libc::IP_TOS | libc::IP_TTL | libc::IP_MULTICAST_TTL | libc::IP_MULTICAST_LOOP)
        }
        libc::IPPROTO_IPV6 => matches!(
            opt,
            libc::IPV6_V6ONLY
                | libc::IPV6_UNICAST_HOPS
                | libc::IPV6_MULTICAST_HOPS
                | libc::IPV6_MULTICAST_LOOP
        ),
        _ => false,
    }
}

fn is_old_timeo(level: i32, opt: u32) -> bool {
    level == libc::SOL_SOCKET && matches!(opt, SO_RCVTIMEO_OLD | SO_SNDTIMEO_OLD)
}

/// One warning per refused option.
fn refuse(level: i32, opt: u32) -> Errno {
    static SEEN: Mutex<Option<HashSet<(i32, u32)>>> = Mutex::new(None);
    if let Ok(mut s) = SEEN.lock() {
        if s.get_or_insert_with(HashSet::new).insert((level, opt)) {
            log::warn!(target: "kernel::net", "socket option level {level} name {opt}: not supported (ENOPROTOOPT)");
        }
    }
    ENOPROTOOPT
}

/// setsockopt(fd, level, optname, optval, optlen)
pub fn sys_setsockopt(k: &mut Kernel, a: Args) -> SysResult {
    let (fd, level, opt, val, len) = (a[0], a[1] as i32, a[2], a[3], a[4]);
    let host = sock_host(k, fd)?;
    if (len as i32) < 0 {
        return Err(EINVAL);
    }
    if is_old_timeo(level, opt) {
        // sock_set_timeout with in_compat_syscall(): a 32-bit timeval.
        if (len as usize) < std::mem::size_of::<Timeval>() {
            return Err(EINVAL);
        }
        let mut tv = Timeval::new_zeroed();
        k.copy_from_user(val, tv.as_mut_bytes()).map_err(|_| EFAULT)?;
        let htv = libc::timeval { tv_sec: tv.tv_sec.into(), tv_usec: tv.tv_usec.into() };
        let hopt = if opt == SO_RCVTIMEO_OLD { libc::SO_RCVTIMEO } else { libc::SO_SNDTIMEO };
        // SAFETY: `htv` is a host timeval of the size given.
        return ok_int(unsafe {
            libc::setsockopt(
                host,
                level,
                hopt,
                (&raw const htv).cast(),
                std::mem::size_of::<libc::timeval>() as u32,
            )
        });
    }
    if !passes_through(level, opt as i32) {
        return Err(refuse(level, opt));
    }
    // Every option passed through reads at most 16 bytes; more are not looked at.
    let n = (len as usize).min(16);
    let mut buf = [0u8; 16];
    k.copy_from_user(val, &mut buf[..n]).map_err(|_| EFAULT)?;
    // SAFETY: `buf` holds `n` bytes.
    ok_int(unsafe { libc::setsockopt(host, level, opt as i32, buf.as_ptr().cast(), n as u32) })
}

/// getsockopt(fd, level, optname, optval, optlen)
pub fn sys_getsockopt(k: &mut Kernel, a: Args) -> SysResult {
    let (fd, level, opt, val, ulen) = (a[0], a[1] as i32, a[2], a[3], a[4]);
    let host = sock_host(k, fd)?;
    let len = k.get_user::<u32>(ulen)? as i32;
    if len < 0 {
        return Err(EINVAL);
    }
    if is_old_timeo(level, opt) {
        let hopt = if opt == SO_RCVTIMEO_OLD { libc::SO_RCVTIMEO } else { libc::SO_SNDTIMEO };
        let mut htv = libc::timeval { tv_sec: 0, tv_usec: 0 };
        let mut hl = std::mem::size_of::<libc::timeval>() as libc::socklen_t;
        // SAFETY: `htv` and `hl` are valid out-pointers of the sizes given.
        ok_int(unsafe { libc::getsockopt(host, level, hopt, (&raw mut htv).cast(), &mut hl) })?;
        let tv = Timeval { tv_sec: htv.tv_sec as i32, tv_usec: htv.tv_usec as i32 };
        let n = (len as usize).min(std::mem::size_of::<Timeval>());
        k.copy_to_user(val, &tv.as_bytes()[..n]).map_err(|_| EFAULT)?;
        k.put_user(ulen, n as u32)?;
        return Ok(0);
    }
    if !passes_through(level, opt as i32) {
        return Err(refuse(level, opt));
    }
    let mut buf = [0u8; 16];
    let mut hl = (len as u32).min(16);
    // SAFETY: `buf` has room for `hl` bytes; `hl` is a valid in/out pointer.
    ok_int(unsafe { libc::getsockopt(host, level, opt as i32, buf.as_mut_ptr().cast(), &mut hl) })?;
    let n = (hl as usize).min(16);
    k.copy_to_user(val, &buf[..n]).map_err(|_| EFAULT)?;
    k.put_user(ulen, hl)?;
    Ok(0)
}

// ---------------------------------------------------------------------------------
// socketcall

/// socketcall(call, args): the i386 multiplexer. EINVAL for an unknown call before
/// anything is read; the arguments are `nargs[call]` longs at `args` (EFAULT).
pub fn sys_socketcall(k: &mut Kernel, a: Args) -> SysResult {
    let (call, args) = (a[0], a[1]);
    if !(SYS_SOCKET..=SYS_SENDMMSG).contains(&call) {
        return Err(EINVAL);
    }
    let n = usize::from(SOCKETCALL_NARGS[call as usize]);
    let mut raw = [0u8; 24];
    k.copy_from_user(args, &mut raw[..n * 4]).map_err(|_| EFAULT)?;
    let mut v: Args = [0; 6];
    for (i, c) in raw.chunks_exact(4).enumerate() {
        v[i] = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    match call {
        1 => sys_socket(k, v),
        2 => sys_bind(k, v),
        3 => sys_connect(k, v),
        4 => sys_listen(k, v),
        5 => sys_accept(k, v),
        6 => sys_getsockname(k, v),
        7 => sys_getpeername(k, v),
        8 => sys_socketpair(k, v),
        // SYS_SEND, SYS_RECV: sendto/recvfrom without an address.
        9 => sys_sendto(k, [v[0], v[1], v[2], v[3], 0, 0]),
        10 => sys_recvfrom(k, [v[0], v[1], v[2], v[3], 0, 0]),
        11 => sys_sendto(k, v),
        12 => sys_recvfrom(k, v),
        13 => sys_shutdown(k, v),
        14 => sys_setsockopt(k, v),
        15 => sys_getsockopt(k, v),
        16 => sys_sendmsg(k, v),
        17 => sys_recvmsg(k, v),
        18 => sys_accept4(k, v),
        19 => sys_recvmmsg(k, v, false),
        _ => sys_sendmmsg(k, v),
    }
}
