//! Files, directories, pipes and terminals: guest fds on host fds (see
//! [`crate::files`]).
//!
//! Data moves through bounded kernel buffers (at most [`CHUNK`] bytes at a time)
//! with `copy_from_user` / `copy_to_user`, so a bad pointer is -EFAULT (or a short
//! count once some bytes moved) and never a signal (linux24.md §1.7, scenario 14). For a
//! read whose destination faults part-way, the bytes the host already returned but
//! the guest did not receive are pushed back with `lseek` on a seekable file; on a
//! pipe or terminal they are lost (a native kernel leaves them in the pipe).
//!
//! While there are several guest processes, nothing may block in the host: a read,
//! write, sendfile, poll or select that would wait asks the host first with `poll(fd, 0)` and,
//! if the descriptor is not ready, puts the process to sleep on it (see
//! [`crate::sched`]); the call is re-executed when it may succeed. Writes to a pipe,
//! socket or terminal then go in pieces of at most `PIPE_BUF` bytes, each of which a
//! ready descriptor takes whole; if the descriptor fills up after some pieces went
//! through, the write returns that short count (callers such as stdio loop on it)
//! instead of sleeping with part of the data written.

use std::ffi::CString;
use std::mem::size_of;
use std::os::fd::IntoRawFd;

use crate::abi::fs::{
    Flock, Flock64, Iovec, LinuxDirent64Header, Pollfd, Stat64, Statfs, Statfs64, Statx, Termios, Utimbuf,
    Winsize,
};
use crate::abi::time::{KernelTimespec, Timespec, Timeval};
use crate::abi::{FromBytes, FromZeros, IntoBytes};
use crate::errno::{
    host_errno, Errno, SysResult, EBADF, EFAULT, EINVAL, ENOENT, ENOTTY, EOVERFLOW, ERANGE, ERESTARTNOHAND,
    ERESTARTSYS,
};
use crate::files::OpenFile;
use crate::locks;
use crate::procfs::{self, Lookup, PidEntry};
use crate::sched::{host_ready, sleep_on, WaitOn};
use crate::signal::{send_sig_info, SigInfo, SIGPIPE, SI_USER};
use crate::syscall::Args;
use crate::task::RLIMIT_NOFILE;
use crate::Kernel;

/// Largest single host transfer; a longer guest request is done in pieces.
pub const CHUNK: usize = 1 << 20;
/// `PIPE_BUF`: a write this small to a pipe with room is atomic and never blocks.
const PIPE_BUF: usize = 4096;
/// `PATH_MAX`, including the NUL.
pub const PATH_MAX: usize = 4096;
/// `MAX_RW_COUNT`: a single read/write moves at most this much.
pub(crate) const MAX_RW_COUNT: usize = 0x7fff_f000;
const UIO_MAXIOV: u32 = 1024;

pub const AT_FDCWD: i32 = -100;
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
/// faccessat2's "check with the effective ids" (linux/fcntl.h).
pub const AT_EACCESS: u32 = 0x200;
pub const AT_REMOVEDIR: u32 = 0x200;
pub const AT_SYMLINK_FOLLOW: u32 = 0x400;
pub const AT_EMPTY_PATH: u32 = 0x1000;

/// i386 open flags that differ in meaning from nothing on the host but must be kept
/// apart: O_LARGEFILE is 0x8000 in the i386 ABI.
pub const O_LARGEFILE: u32 = 0o100000;
pub const O_CLOEXEC: u32 = 0o2000000;
pub const O_NOFOLLOW: u32 = 0o400000;
const O_CREAT: u32 = 0o100;
/// O_TMPFILE is `__O_TMPFILE | O_DIRECTORY`.
const O_TMPFILE: u32 = 0o20200000;
const O_ACCMODE: u32 = 3;

const F_DUPFD: u32 = 0;
const F_GETFD: u32 = 1;
const F_SETFD: u32 = 2;
const F_GETFL: u32 = 3;
const F_SETFL: u32 = 4;
const F_GETLK: u32 = 5;
const F_SETLK: u32 = 6;
const F_SETLKW: u32 = 7;
const F_SETOWN: u32 = 8;
const F_GETOWN: u32 = 9;
const F_GETLK64: u32 = 12;
const F_SETLK64: u32 = 13;
const F_SETLKW64: u32 = 14;
const F_OFD_GETLK: u32 = 36;
const F_OFD_SETLK: u32 = 37;
const F_OFD_SETLKW: u32 = 38;
const F_DUPFD_CLOEXEC: u32 = 1030;
const F_SETPIPE_SZ: u32 = 1031;
const F_GETPIPE_SZ: u32 = 1032;
const F_ADD_SEALS: u32 = 1033;
const F_GET_SEALS: u32 = 1034;
const FD_CLOEXEC: u32 = 1;

const TCGETS: u32 = 0x5401;
const TCSETS: u32 = 0x5402;
const TCSETSW: u32 = 0x5403;
const TCSETSF: u32 = 0x5404;
const TIOCGPGRP: u32 = 0x540f;
const TIOCSPGRP: u32 = 0x5410;
const TIOCGWINSZ: u32 = 0x5413;
const TIOCSWINSZ: u32 = 0x5414;
const FIONREAD: u32 = 0x541b;
const FIONBIO: u32 = 0x5421;
const FIONCLEX: u32 = 0x5450;
const FIOCLEX: u32 = 0x5451;

// ---------------------------------------------------------------------------------
// Helpers

pub(super) fn ok_int(r: libc::c_int) -> Result<u32, Errno> {
    if r < 0 {
        Err(host_errno())
    } else {
        Ok(r as u32)
    }
}

fn ok_long(r: libc::c_long) -> Result<u32, Errno> {
    if r < 0 {
        Err(host_errno())
    } else {
        Ok(r as u32)
    }
}

fn nofile(k: &Kernel) -> u64 {
    k.task.rlim[RLIMIT_NOFILE].cur
}

/// A path argument: at most PATH_MAX - 1 bytes; EFAULT, ENAMETOOLONG.
pub fn read_path(k: &mut Kernel, addr: u32) -> Result<Vec<u8>, Errno> {
    k.strncpy_from_user(addr, PATH_MAX - 1)
}

fn cstring(v: Vec<u8>) -> Result<CString, Errno> {
    CString::new(v).map_err(|_| EINVAL)
}

/// The host fd a guest `dirfd` stands for, for a path relative to it (an absolute
/// path ignores dirfd, as in Linux). A path relative to the working directory is the
/// host's AT_FDCWD, once the host is in the task's directory ([`Kernel::sync_cwd`]).
fn host_dirfd(k: &Kernel, dirfd: u32, path: &[u8]) -> Result<i32, Errno> {
    if path.first() == Some(&b'/') {
        Ok(AT_FDCWD)
    } else if dirfd as i32 == AT_FDCWD {
        k.sync_cwd();
        Ok(AT_FDCWD)
    } else {
        k.task.files.host(dirfd)
    }
}

/// Runs a host call that creates a file or directory with the task's umask applied
/// by the kernel (`mode & ~current->fs->umask`, as `vfs_create` and `vfs_mkdir`'s
/// callers do) and the host's own umask out of the way.
fn with_umask<T>(k: &Kernel, mode: u32, create: impl FnOnce(u32) -> T) -> T {
    let mode = mode & !k.task.fs.umask;
    // SAFETY: umask cannot fail; the host's is put back at once.
    let host = unsafe { libc::umask(0) };
    let r = create(mode);
    // SAFETY: as above.
    unsafe { libc::umask(host) };
    r
}

/// Walks a guest (dirfd, path) through [`procfs::lookup`]: where it leads, and the
/// host fd it starts from. With `--sysroot`, an absolute path is first walked inside
/// the sysroot ([`crate::sysroot::resolve`]); if it exists there, `path` becomes
/// that host path (its links resolved) and the host walk is not made.
fn lookup_at(k: &Kernel, dirfd: u32, path: &mut Vec<u8>, follow: bool) -> Result<(i32, Lookup), Errno> {
    if let Some(root) = &k.config.sysroot {
        if let Some(p) = crate::sysroot::resolve(root, path, follow) {
            *path = p;
            return Ok((AT_FDCWD, Lookup::Host));
        }
    }
    let dfd = host_dirfd(k, dirfd, path)?;
    let start =
        if dfd == AT_FDCWD { None } else { k.task.files.get(dirfd).and_then(|f| f.proc_dir.as_ref()) };
    Ok((dfd, procfs::lookup(k, dfd, start, path, follow)?))
}

/// Resolves a guest (dirfd, path) to a host (dirfd, path): the path as given unless
/// it names a guest process's /proc entry (see [`procfs`]), which becomes the host
/// object standing for it. A process directory is EACCES unless `dirs` (see
/// [`procfs::host_path`]).
pub(super) fn host_at_how(
    k: &Kernel,
    dirfd: u32,
    mut path: Vec<u8>,
    follow: bool,
    dirs: bool,
) -> Result<(i32, CString), Errno> {
    let (dfd, l) = lookup_at(k, dirfd, &mut path, follow)?;
    host_for(k, dfd, path, l, follow, dirs)
}

/// The host (dirfd, path) for a walked guest path.
fn host_for(
    k: &Kernel,
    dfd: i32,
    path: Vec<u8>,
    l: Lookup,
    follow: bool,
    dirs: bool,
) -> Result<(i32, CString), Errno> {
    match l {
        Lookup::Host => Ok((dfd, cstring(path)?)),
        // Only a call that does not follow the link gets here: its metadata is that
        // of the emulator's own link.
        Lookup::SelfLink { thread, .. } => Ok((
            AT_FDCWD,
            cstring(if thread { b"/proc/thread-self".to_vec() } else { b"/proc/self".to_vec() })?,
        )),
        Lookup::Pid { pid, entry } => {
            Ok((AT_FDCWD, cstring(procfs::host_path(k, pid, &entry, follow, dirs)?)?))
        }
    }
}

/// [`host_at_how`] for calls that follow a final symlink and do not enter
/// directories.
fn host_at(k: &Kernel, dirfd: u32, path: Vec<u8>) -> Result<(i32, CString), Errno> {
    host_at_how(k, dirfd, path, true, false)
}

/// [`host_at_how`] for calls that only look at what the path names (stat): a guest
/// process directory is the emulator's own, for its metadata.
fn host_at_follow(k: &Kernel, dirfd: u32, path: Vec<u8>, follow: bool) -> Result<(i32, CString), Errno> {
    host_at_how(k, dirfd, path, follow, true)
}

/// A path (already read from the guest) as the host path it names, relative to the
/// working directory: `/proc/self/exe` and `/proc/self/fd/N` mean the guest's, and
/// no host process is reached (see [`procfs`]).
pub(crate) fn resolve_path(k: &Kernel, path: Vec<u8>) -> Result<(i32, CString), Errno> {
    host_at(k, AT_FDCWD as u32, path)
}

/// Reads a path argument and resolves it, following a final symlink.
pub(crate) fn path_at(k: &mut Kernel, dirfd: u32, addr: u32) -> Result<(i32, CString), Errno> {
    let p = read_path(k, addr)?;
    host_at(k, dirfd, p)
}

/// Reads a path argument and resolves it without following a final symlink: calls
/// that act on the name itself (unlink, mkdir, rename, link, symlink).
fn path_at_nofollow(k: &mut Kernel, dirfd: u32, addr: u32) -> Result<(i32, CString), Errno> {
    let p = read_path(k, addr)?;
    host_at_how(k, dirfd, p, false, false)
}

/// The host fd was opened (or set) O_NONBLOCK: the guest wants EAGAIN, not a sleep.
pub(crate) fn host_nonblocking(host: i32) -> bool {
    // SAFETY: no pointer arguments.
    let fl = unsafe { libc::fcntl(host, libc::F_GETFL) };
    fl >= 0 && fl & libc::O_NONBLOCK != 0
}

/// With several processes: sleep instead of blocking in the host when `host` is not
/// ready for `events` (and is not non-blocking). `None` means go ahead.
pub(crate) fn wait_ready(k: &mut Kernel, host: i32, events: i16) -> Option<SysResult> {
    if !k.multitasking() || host_ready(host, events) || host_nonblocking(host) {
        return None;
    }
    Some(sleep_on(k, WaitOn::Fd { fd: host, events }, ERESTARTSYS))
}

/// RLIMIT_FSIZE (today's `generic_write_check_limits`): a write to a regular file
/// that would end past the soft limit is cut to end at it; if nothing fits, SIGXFSZ
/// goes to the writing thread and the call fails with EFBIG. Costs nothing while the
/// limit is infinite (the default).
fn fsize_limit(k: &mut Kernel, host: i32, total: usize, offset: Option<i64>) -> Result<usize, Errno> {
    let limit = k.task.rlim[crate::task::RLIMIT_FSIZE].cur;
    if limit == crate::task::RLIM_INFINITY || !is_regular(host) {
        return Ok(total);
    }
    let pos = match offset {
        Some(o) => o,
        None => {
            // O_APPEND writes at the end of the file.
            // SAFETY: fcntl/lseek/fstat on a descriptor the guest holds; `st` is a
            // valid out-pointer.
            unsafe {
                if libc::fcntl(host, libc::F_GETFL) & libc::O_APPEND != 0 {
                    let mut st: libc::stat = std::mem::zeroed();
                    libc::fstat(host, &mut st);
                    st.st_size
                } else {
                    libc::lseek(host, 0, libc::SEEK_CUR)
                }
            }
        }
    };
    let pos = u64::try_from(pos).unwrap_or(0);
    if pos >= limit {
        return Err(xfsz(k));
    }
    Ok(total.min(usize::try_from(limit - pos).unwrap_or(usize::MAX)))
}

/// `send_sig(SIGXFSZ, current, 0)` and EFBIG: a file would grow past RLIMIT_FSIZE.
fn xfsz(k: &mut Kernel) -> Errno {
    let (tid, tgid, uid) = (k.task.pid, k.task.tgid, k.current_uid());
    crate::signal::send_sig_to(
        k,
        tid,
        crate::signal::SigInfo::user(crate::signal::SIGXFSZ, SI_USER, tgid, uid),
    );
    libc::EFBIG
}

/// `inode_newsize_ok`: a truncate that would make the file longer than RLIMIT_FSIZE
/// is EFBIG with SIGXFSZ.
fn fsize_ok(k: &mut Kernel, len: i64) -> Result<(), Errno> {
    let limit = k.task.rlim[crate::task::RLIMIT_FSIZE].cur;
    if limit != crate::task::RLIM_INFINITY && u64::try_from(len).unwrap_or(0) > limit {
        return Err(xfsz(k));
    }
    Ok(())
}

fn is_regular(host: i32) -> bool {
    // SAFETY: `st` is a valid out-pointer for fstat.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        libc::fstat(host, &mut st) == 0 && st.st_mode & libc::S_IFMT == libc::S_IFREG
    }
}

/// Installs a new host fd as the lowest free guest fd >= `min`; closes it on EMFILE.
pub(super) fn install_new(k: &mut Kernel, min: u32, file: OpenFile) -> SysResult {
    let host = file.host_fd;
    let limit = nofile(k);
    k.task.files.alloc(min, file, limit).inspect_err(|_| {
        // SAFETY: `host` is a host fd this call created and nobody else holds.
        unsafe { libc::close(host) };
    })
}

/// A host `dup` of a guest fd's host fd, marked close-on-exec on the host.
fn host_dup(host: i32) -> Result<i32, Errno> {
    // SAFETY: F_DUPFD_CLOEXEC has no pointer arguments.
    let r = unsafe { libc::fcntl(host, libc::F_DUPFD_CLOEXEC, 3) };
    ok_int(r).map(|v| v as i32)
}

// ---------------------------------------------------------------------------------
// Scatter/gather over guest iovecs

/// One guest buffer: (address, length).
pub(crate) type Iov = (u32, u32);

/// Reads and checks a guest iovec array (`rw_copy_check_uvector`): EINVAL for a bad
/// count or negative length, EFAULT for an unreadable array or a buffer beyond
/// TASK_SIZE; the total is capped at MAX_RW_COUNT.
pub(crate) fn read_iovecs(k: &mut Kernel, addr: u32, cnt: u32) -> Result<Vec<Iov>, Errno> {
    if cnt > UIO_MAXIOV {
        return Err(EINVAL);
    }
    let mut raw = vec![Iovec::new_zeroed(); cnt as usize];
    k.copy_from_user(addr, raw.as_mut_bytes()).map_err(|_| EFAULT)?;
    let mut total = 0usize;
    let mut v = Vec::with_capacity(cnt as usize);
    for c in &raw {
        let base = c.iov_base;
        let mut len = c.iov_len;
        if (len as i32) < 0 {
            return Err(EINVAL);
        }
        if len as usize > MAX_RW_COUNT - total {
            len = (MAX_RW_COUNT - total) as u32;
        }
        if !crate::uaccess::access_ok(base, len) {
            return Err(EFAULT);
        }
        total += len as usize;
        v.push((base, len));
    }
    Ok(v)
}

pub(crate) fn iov_total(iovs: &[Iov]) -> usize {
    iovs.iter().map(|i| i.1 as usize).sum()
}

/// Copies up to `max` bytes from the guest buffers, starting `skip` bytes in.
/// Stops at the first fault; the flag says whether one happened.
pub(crate) fn gather(k: &mut Kernel, iovs: &[Iov], mut skip: usize, max: usize) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(max.min(iov_total(iovs)));
    for &(base, len) in iovs {
        let len = len as usize;
        if skip >= len {
            skip -= len;
            continue;
        }
        let n = (len - skip).min(max - out.len());
        let start = out.len();
        out.resize(start + n, 0);
        if let Err(m) = k.copy_from_user(base.wrapping_add(skip as u32), &mut out[start..]) {
            out.truncate(start + m);
            return (out, true);
        }
        skip = 0;
        if out.len() == max {
            break;
        }
    }
    (out, false)
}

/// Copies `data` into the guest buffers starting `skip` bytes in; on a fault returns
/// how many bytes arrived.
pub(crate) fn scatter(k: &mut Kernel, iovs: &[Iov], mut skip: usize, data: &[u8]) -> Result<(), usize> {
    let mut done = 0usize;
    for &(base, len) in iovs {
        if done == data.len() {
            break;
        }
        let len = len as usize;
        if skip >= len {
            skip -= len;
            continue;
        }
        let n = (len - skip).min(data.len() - done);
        k.copy_to_user(base.wrapping_add(skip as u32), &data[done..done + n]).map_err(|m| done + m)?;
        done += n;
        skip = 0;
    }
    Ok(())
}

/// `read`/`readv`/`pread64`: one host read per chunk, continuing past the first chunk
/// only on regular files.
fn do_readv(k: &mut Kernel, fd: u32, iovs: &[Iov], offset: Option<i64>) -> SysResult {
    let host = k.task.files.host(fd)?;
    if offset.is_none() && super::signalfd::is_signalfd(k, fd) {
        return super::signalfd::read(k, fd, iov_total(iovs), |k, skip, rec| {
            scatter(k, iovs, skip, rec).is_ok()
        });
    }
    // Stores made through MAP_SHARED mappings of the file are read back.
    crate::mm::filemap::sync_fd(k, host)?;
    let total = iov_total(iovs);
    if total == 0 {
        // Still reports EBADF/EISDIR-style errors from the host.
        return do_host_read(host, &mut [], offset).map(|n| n as u32);
    }
    if offset.is_none() {
        if let Some(pb) = k.task.files.get(fd).map(|f| &f.pushback).filter(|p| !p.is_empty()) {
            let data = pb[..pb.len().min(total)].to_vec();
            let (n, r) = match scatter(k, iovs, 0, &data) {
                Ok(()) => (data.len(), Ok(data.len() as u32)),
                Err(0) => (0, Err(EFAULT)),
                Err(m) => (m, Ok(m as u32)),
            };
            if let Some(f) = k.task.files.get_mut(fd) {
                f.pushback.drain(..n);
            }
            return r;
        }
    }
    if offset.is_none() {
        if let Some(r) = wait_ready(k, host, libc::POLLIN) {
            return r;
        }
    }
    let more = total > CHUNK && is_regular(host);
    let mut done = 0usize;
    while done < total {
        let n = (total - done).min(CHUNK);
        let mut buf = vec![0u8; n];
        let got = match do_host_read(host, &mut buf, offset.map(|o| o.saturating_add(done as i64))) {
            Ok(g) => g,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        if got == 0 {
            break;
        }
        if let Err(m) = scatter(k, iovs, done, &buf[..got]) {
            if offset.is_none() {
                // Give back what the guest did not receive: seek back on a file,
                // else keep it for the next read (it stays "in the pipe").
                // SAFETY: lseek has no pointer arguments.
                if unsafe { libc::lseek(host, -((got - m) as i64), libc::SEEK_CUR) } < 0 {
                    if let Some(f) = k.task.files.get_mut(fd) {
                        f.pushback = buf[m..got].to_vec();
                    }
                }
            }
            done += m;
            return if done > 0 { Ok(done as u32) } else { Err(EFAULT) };
        }
        done += got;
        if got < n || !more {
            break;
        }
    }
    Ok(done as u32)
}

fn do_host_read(host: i32, buf: &mut [u8], offset: Option<i64>) -> Result<usize, Errno> {
    // SAFETY: `buf` is a live, writable buffer of `buf.len()` bytes.
    let r = unsafe {
        match offset {
            Some(o) => libc::pread(host, buf.as_mut_ptr().cast(), buf.len(), o),
            None => libc::read(host, buf.as_mut_ptr().cast(), buf.len()),
        }
    };
    if r < 0 {
        Err(host_errno())
    } else {
        Ok(r as usize)
    }
}

fn do_host_write(k: &mut Kernel, host: i32, buf: &[u8], offset: Option<i64>) -> Result<usize, Errno> {
    // SAFETY: `buf` is a live buffer of `buf.len()` bytes.
    let r = unsafe {
        match offset {
            Some(o) => libc::pwrite(host, buf.as_ptr().cast(), buf.len(), o),
            None => libc::write(host, buf.as_ptr().cast(), buf.len()),
        }
    };
    if r < 0 {
        let e = host_errno();
        if e == libc::EPIPE {
            // pipe_write: send_sig(SIGPIPE, current, 0). The emulator itself ignores
            // SIGPIPE, so the host reports EPIPE and the guest gets the signal here.
            let pid = k.task.pid;
            let uid = k.current_uid();
            send_sig_info(k, SigInfo::user(SIGPIPE, SI_USER, pid, uid));
        }
        Err(e)
    } else {
        Ok(r as usize)
    }
}

/// `write`/`writev`/`pwrite64`: gathers up to CHUNK bytes per host write.
fn do_writev(k: &mut Kernel, fd: u32, iovs: &[Iov], offset: Option<i64>) -> SysResult {
    let host = k.task.files.host(fd)?;
    // A signalfd has no write method (`vfs_write`: EINVAL); pwrite is ESPIPE first.
    if offset.is_none() && super::signalfd::is_signalfd(k, fd) {
        return Err(EINVAL);
    }
    let total = iov_total(iovs);
    if total == 0 {
        return do_host_write(k, host, &[], offset).map(|n| n as u32);
    }
    // A file mapped MAP_SHARED somewhere: its mappings' stores go to the file
    // first, and the pages the write changes are read again afterwards, so the
    // file and every mapping agree (see crate::mm::filemap::SharedFile).
    if crate::mm::filemap::shared_of_fd(k, host).is_some() {
        crate::mm::filemap::sync_fd(k, host)?;
        let r = write_iovs(k, host, iovs, total, offset);
        if let Ok(n) = r {
            let end = match offset {
                Some(o) => o.saturating_add(i64::from(n)),
                // SAFETY: lseek has no pointer arguments.
                None => unsafe { libc::lseek(host, 0, libc::SEEK_CUR) },
            };
            let start = end.saturating_sub(i64::from(n)).max(0) as u64;
            crate::mm::filemap::refresh_fd(k, host, start, u64::from(n));
        }
        return r;
    }
    write_iovs(k, host, iovs, total, offset)
}

/// The body of [`do_writev`]: `total` bytes of `iovs` to host descriptor `host`.
fn write_iovs(k: &mut Kernel, host: i32, iovs: &[Iov], total: usize, offset: Option<i64>) -> SysResult {
    let total = fsize_limit(k, host, total, offset)?;
    // Several processes and a descriptor that can block: PIPE_BUF pieces, each
    // checked for room first (see the module doc).
    let piecewise = k.multitasking() && offset.is_none() && !is_regular(host);
    let piece = if piecewise { PIPE_BUF } else { CHUNK };
    let mut done = 0usize;
    while done < total {
        if piecewise && !host_ready(host, libc::POLLOUT) {
            if done > 0 {
                break;
            }
            if let Some(r) = wait_ready(k, host, libc::POLLOUT) {
                return r;
            }
        }
        let (buf, fault) = gather(k, iovs, done, piece.min(total - done));
        if buf.is_empty() {
            return if done > 0 { Ok(done as u32) } else { Err(EFAULT) };
        }
        let w = match do_host_write(k, host, &buf, offset.map(|o| o.saturating_add(done as i64))) {
            Ok(w) => w,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        done += w;
        if w < buf.len() || fault {
            break;
        }
    }
    Ok(done as u32)
}

pub(crate) fn single_iov(addr: u32, len: u32) -> Result<Vec<Iov>, Errno> {
    let len = len.min(MAX_RW_COUNT as u32);
    if !crate::uaccess::access_ok(addr, len) {
        return Err(EFAULT);
    }
    Ok(vec![(addr, len)])
}

fn pos64(lo: u32, hi: u32) -> Result<i64, Errno> {
    let o = ((u64::from(hi) << 32) | u64::from(lo)) as i64;
    if o < 0 {
        Err(EINVAL)
    } else {
        Ok(o)
    }
}

// ---------------------------------------------------------------------------------
// read / write family

pub fn sys_read(k: &mut Kernel, a: Args) -> SysResult {
    k.task.files.host(a[0])?;
    let iov = single_iov(a[1], a[2])?;
    do_readv(k, a[0], &iov, None)
}

pub fn sys_write(k: &mut Kernel, a: Args) -> SysResult {
    k.task.files.host(a[0])?;
    let iov = single_iov(a[1], a[2])?;
    do_writev(k, a[0], &iov, None)
}

pub fn sys_readv(k: &mut Kernel, a: Args) -> SysResult {
    k.task.files.host(a[0])?;
    let iovs = read_iovecs(k, a[1], a[2])?;
    // `vfs_readv` returns 0 for an empty vector before the file's read method (a
    // signalfd's would say EINVAL, as it does for read(fd, buf, 0)).
    if iov_total(&iovs) == 0 && super::signalfd::is_signalfd(k, a[0]) {
        return Ok(0);
    }
    do_readv(k, a[0], &iovs, None)
}

pub fn sys_writev(k: &mut Kernel, a: Args) -> SysResult {
    k.task.files.host(a[0])?;
    let iovs = read_iovecs(k, a[1], a[2])?;
    do_writev(k, a[0], &iovs, None)
}

/// pread64(fd, buf, count, pos_lo, pos_hi)
pub fn sys_pread64(k: &mut Kernel, a: Args) -> SysResult {
    k.task.files.host(a[0])?;
    let off = pos64(a[3], a[4])?;
    let iov = single_iov(a[1], a[2])?;
    do_readv(k, a[0], &iov, Some(off))
}

/// pwrite64(fd, buf, count, pos_lo, pos_hi)
pub fn sys_pwrite64(k: &mut Kernel, a: Args) -> SysResult {
    k.task.files.host(a[0])?;
    let off = pos64(a[3], a[4])?;
    let iov = single_iov(a[1], a[2])?;
    do_writev(k, a[0], &iov, Some(off))
}

/// `RWF_*` flags of preadv2/pwritev2 (linux/fs.h) that are honoured here:
/// HIPRI (a polling hint), DSYNC and SYNC (the write is made durable before the
/// call returns), NOWAIT (EAGAIN instead of sleeping on a pipe, socket or
/// terminal; a regular file's data is always there to read), APPEND / NOAPPEND
/// (writes). The newer flags (ATOMIC, DONTCACHE) are EOPNOTSUPP, which today's
/// kernel also answers for a file that cannot do them.
const RWF_HIPRI: u32 = 0x01;
const RWF_DSYNC: u32 = 0x02;
const RWF_SYNC: u32 = 0x04;
const RWF_NOWAIT: u32 = 0x08;
const RWF_APPEND: u32 = 0x10;
const RWF_NOAPPEND: u32 = 0x20;
const RWF_KNOWN: u32 = RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND | RWF_NOAPPEND;

/// RWF_NOWAIT: EAGAIN when the call would sleep on a descriptor that is not a
/// regular file.
fn nowait_check(host: i32, flags: u32, events: i16) -> Result<(), Errno> {
    if flags & RWF_NOWAIT != 0 && !is_regular(host) && !host_ready(host, events) {
        return Err(libc::EAGAIN);
    }
    Ok(())
}

/// preadv(fd, iov, vlen, pos_l, pos_h) (today's `do_preadv`: a negative position
/// is EINVAL before the fd is looked at).
pub fn sys_preadv(k: &mut Kernel, a: Args) -> SysResult {
    let off = pos64(a[3], a[4])?;
    k.task.files.host(a[0])?;
    let iovs = read_iovecs(k, a[1], a[2])?;
    do_readv(k, a[0], &iovs, Some(off))
}

/// pwritev(fd, iov, vlen, pos_l, pos_h).
pub fn sys_pwritev(k: &mut Kernel, a: Args) -> SysResult {
    let off = pos64(a[3], a[4])?;
    k.task.files.host(a[0])?;
    let iovs = read_iovecs(k, a[1], a[2])?;
    do_writev(k, a[0], &iovs, Some(off))
}

/// The position argument of preadv2/pwritev2: -1 is the file position (readv /
/// writev), another negative one EINVAL.
fn pos64_or_current(lo: u32, hi: u32) -> Result<Option<i64>, Errno> {
    if lo == u32::MAX && hi == u32::MAX {
        return Ok(None);
    }
    pos64(lo, hi).map(Some)
}

/// preadv2(fd, iov, vlen, pos_l, pos_h, flags).
pub fn sys_preadv2(k: &mut Kernel, a: Args) -> SysResult {
    let off = pos64_or_current(a[3], a[4])?;
    k.task.files.host(a[0])?;
    let iovs = read_iovecs(k, a[1], a[2])?;
    if a[5] & !RWF_KNOWN != 0 {
        return Err(libc::EOPNOTSUPP);
    }
    nowait_check(k.task.files.host(a[0])?, a[5], libc::POLLIN)?;
    do_readv(k, a[0], &iovs, off)
}

/// pwritev2(fd, iov, vlen, pos_l, pos_h, flags): RWF_APPEND writes at the end
/// (the position is ignored, as for an O_APPEND file); DSYNC/SYNC sync what was
/// written before returning.
pub fn sys_pwritev2(k: &mut Kernel, a: Args) -> SysResult {
    let mut off = pos64_or_current(a[3], a[4])?;
    let host = k.task.files.host(a[0])?;
    let iovs = read_iovecs(k, a[1], a[2])?;
    let flags = a[5];
    if flags & !RWF_KNOWN != 0 {
        return Err(libc::EOPNOTSUPP);
    }
    nowait_check(host, flags, libc::POLLOUT)?;
    if flags & RWF_APPEND != 0 && is_regular(host) {
        // SAFETY: fstat into a local, zeroed struct.
        let size = unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            (libc::fstat(host, &mut st) == 0).then_some(st.st_size)
        };
        off = Some(size.ok_or_else(host_errno)?);
    }
    let n = do_writev(k, a[0], &iovs, off)?;
    if flags & (RWF_DSYNC | RWF_SYNC) != 0 {
        // SAFETY: no pointer arguments.
        unsafe {
            if flags & RWF_SYNC != 0 {
                libc::fsync(host)
            } else {
                libc::fdatasync(host)
            }
        };
    }
    Ok(n)
}

fn host_lseek(k: &mut Kernel, fd: u32, off: i64, whence: u32) -> Result<i64, Errno> {
    let f = k.task.files.get(fd).ok_or(EBADF)?;
    let host = f.host_fd;
    let off = if whence == libc::SEEK_SET as u32 { f.dir_host_offset(off) } else { off };
    // SAFETY: lseek has no pointer arguments.
    let r = unsafe { libc::lseek(host, off, whence as i32) };
    if r < 0 {
        return Err(host_errno());
    }
    let f = k.task.files.get_mut(fd).ok_or(EBADF)?;
    Ok(if f.dir_cookies.is_empty() { r } else { f.dir_cookie(r) })
}

/// lseek(fd, off_t offset, whence): EOVERFLOW if the new position needs 64 bits
/// (the position has moved anyway, as in Linux).
pub fn sys_lseek(k: &mut Kernel, a: Args) -> SysResult {
    let r = host_lseek(k, a[0], i64::from(a[1] as i32), a[2])?;
    if r > i64::from(i32::MAX) {
        return Err(EOVERFLOW);
    }
    Ok(r as u32)
}

/// _llseek(fd, offset_high, offset_low, loff_t *result, whence)
pub fn sys_llseek(k: &mut Kernel, a: Args) -> SysResult {
    let off = ((u64::from(a[1]) << 32) | u64::from(a[2])) as i64;
    let r = host_lseek(k, a[0], off, a[4])?;
    k.copy_to_user(a[3], &r.to_le_bytes()).map_err(|_| EFAULT)?;
    Ok(0)
}

// ---------------------------------------------------------------------------------
// open / close / dup / pipe

/// Opens synthetic read-only content as an anonymous host file.
fn open_synthetic(k: &mut Kernel, content: &[u8], flags: u32) -> SysResult {
    if flags & O_ACCMODE != 0 {
        return Err(libc::EACCES);
    }
    // SAFETY: the name is a NUL-terminated literal.
    let host = ok_int(unsafe { libc::memfd_create(c"growsdown-proc".as_ptr(), libc::MFD_CLOEXEC) })? as i32;
    let mut off = 0usize;
    while off < content.len() {
        // SAFETY: writing from a live slice.
        let w = unsafe { libc::write(host, content[off..].as_ptr().cast(), content.len() - off) };
        if w <= 0 {
            let e = host_errno();
            // SAFETY: closing the memfd we created.
            unsafe { libc::close(host) };
            return Err(e);
        }
        off += w as usize;
    }
    // SAFETY: no pointer arguments.
    unsafe { libc::lseek(host, 0, libc::SEEK_SET) };
    let f = OpenFile { synthetic: true, cloexec: flags & O_CLOEXEC != 0, ..OpenFile::new(host) };
    install_new(k, 0, f)
}

fn do_openat(k: &mut Kernel, dirfd: u32, path: u32, flags: u32, mode: u32) -> SysResult {
    let mut p = read_path(k, path)?;
    let follow = flags & O_NOFOLLOW == 0;
    let (dfd, l) = lookup_at(k, dirfd, &mut p, follow)?;
    if let Lookup::Pid { pid, entry } = &l {
        if let Some(text) = procfs::content(k, *pid, entry)? {
            return open_synthetic(k, &text, flags);
        }
        if let PidEntry::Namespace(_) = entry {
            let proc_dir = Some(procfs::ProcDir { pid: *pid, entry: entry.clone() });
            let (dfd, p) = host_for(k, dfd, p, l.clone(), follow, false)?;
            return open_host(k, dfd, &p, flags, mode, proc_dir);
        }
        if matches!(entry, PidEntry::Dir | PidEntry::TaskDir | PidEntry::FdDir) {
            if flags & O_ACCMODE != 0 {
                return Err(libc::EISDIR);
            }
            let dir = procfs::open_dir()?;
            let f = OpenFile {
                cloexec: flags & O_CLOEXEC != 0,
                proc_dir: Some(procfs::ProcDir { pid: *pid, entry: entry.clone() }),
                ..OpenFile::new(dir.into_raw_fd())
            };
            return install_new(k, 0, f);
        }
    }
    let (dfd, p) = host_for(k, dfd, p, l, follow, false)?;
    open_host(k, dfd, &p, flags, mode, None)
}

/// Opens a host path for the guest.
fn open_host(
    k: &mut Kernel,
    dfd: i32,
    p: &CString,
    flags: u32,
    mode: u32,
    proc_dir: Option<procfs::ProcDir>,
) -> SysResult {
    if p.as_bytes().is_empty() {
        return Err(ENOENT);
    }
    // The host fd is always close-on-exec on the host; the guest's O_CLOEXEC is kept
    // in the table.
    let hflags = (flags | O_CLOEXEC) as libc::c_int;
    let creates = flags & O_CREAT != 0 || flags & O_TMPFILE == O_TMPFILE;
    let open = |mode: u32| {
        // SAFETY: `p` is a NUL-terminated string that outlives the call.
        ok_int(unsafe { libc::openat(dfd, p.as_ptr(), hflags, mode as libc::c_uint) })
    };
    let host = if creates { with_umask(k, mode, open) } else { open(mode) }? as i32;
    let mut f = OpenFile::new(host);
    f.cloexec = flags & O_CLOEXEC != 0;
    f.largefile = flags & O_LARGEFILE != 0;
    f.proc_dir = proc_dir;
    install_new(k, 0, f)
}

/// open(path, flags, mode)
pub fn sys_open(k: &mut Kernel, a: Args) -> SysResult {
    do_openat(k, AT_FDCWD as u32, a[0], a[1], a[2])
}

/// openat(dirfd, path, flags, mode)
pub fn sys_openat(k: &mut Kernel, a: Args) -> SysResult {
    do_openat(k, a[0], a[1], a[2], a[3])
}

/// creat(path, mode) = open(path, O_CREAT|O_WRONLY|O_TRUNC, mode)
pub fn sys_creat(k: &mut Kernel, a: Args) -> SysResult {
    do_openat(k, AT_FDCWD as u32, a[0], 0o1101, a[1])
}

pub fn sys_close(k: &mut Kernel, a: Args) -> SysResult {
    crate::locks::before_close(k, |fd, _| fd == a[0]);
    k.task.files.close(a[0])?;
    crate::locks::reap(k);
    Ok(0)
}

/// close_range flags (include/uapi/linux/close_range.h).
const CLOSE_RANGE_UNSHARE: u32 = 1 << 1;
const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;

/// close_range(first, last, flags) (today's `__close_range`): EINVAL for an unknown
/// flag or `first > last`; the open fds in the range are closed, or with
/// CLOSE_RANGE_CLOEXEC marked close-on-exec. CLOSE_RANGE_UNSHARE has nothing to do:
/// no other task shares this file table.
pub fn sys_close_range(k: &mut Kernel, a: Args) -> SysResult {
    let (first, last, flags) = (a[0], a[1], a[2]);
    if flags & !(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) != 0 || first > last {
        return Err(EINVAL);
    }
    let cloexec = flags & CLOSE_RANGE_CLOEXEC != 0;
    if !cloexec {
        crate::locks::before_close(k, |fd, _| (first..=last).contains(&fd));
    }
    k.task.files.close_range(first, last, cloexec);
    crate::locks::reap(k);
    Ok(0)
}

pub fn sys_dup(k: &mut Kernel, a: Args) -> SysResult {
    let src = k.task.files.get(a[0]).ok_or(EBADF)?.clone();
    let host = host_dup(src.host_fd)?;
    let f = OpenFile {
        largefile: src.largefile,
        proc_dir: src.proc_dir,
        desc: src.desc,
        signalfd: src.signalfd,
        ..OpenFile::new(host)
    };
    install_new(k, 0, f)
}

/// Duplicates `old` onto exactly `new` (dup2/dup3).
fn dup_to(k: &mut Kernel, old: u32, new: u32, cloexec: bool) -> SysResult {
    let src = k.task.files.get(old).ok_or(EBADF)?.clone();
    if u64::from(new) >= nofile(k) {
        return Err(EBADF);
    }
    let host = host_dup(src.host_fd)?;
    let f = OpenFile {
        cloexec,
        largefile: src.largefile,
        proc_dir: src.proc_dir,
        desc: src.desc,
        signalfd: src.signalfd,
        ..OpenFile::new(host)
    };
    crate::locks::before_close(k, |fd, _| fd == new);
    if let Some(prev) = k.task.files.install(new, f) {
        prev.close_host();
    }
    crate::locks::reap(k);
    Ok(new)
}

pub fn sys_dup2(k: &mut Kernel, a: Args) -> SysResult {
    if a[0] == a[1] {
        k.task.files.host(a[0])?;
        return Ok(a[1]);
    }
    dup_to(k, a[0], a[1], false)
}

pub fn sys_dup3(k: &mut Kernel, a: Args) -> SysResult {
    if a[2] & !O_CLOEXEC != 0 || a[0] == a[1] {
        return Err(EINVAL);
    }
    dup_to(k, a[0], a[1], a[2] & O_CLOEXEC != 0)
}

fn do_pipe2(k: &mut Kernel, addr: u32, flags: u32) -> SysResult {
    let allowed = O_CLOEXEC | libc::O_NONBLOCK as u32 | libc::O_DIRECT as u32;
    if flags & !allowed != 0 {
        return Err(EINVAL);
    }
    let mut fds = [0i32; 2];
    // SAFETY: `fds` is a valid out-array of two ints.
    ok_int(unsafe { libc::pipe2(fds.as_mut_ptr(), (flags | O_CLOEXEC) as libc::c_int) })?;
    let cloexec = flags & O_CLOEXEC != 0;
    let r = match install_new(k, 0, OpenFile { cloexec, ..OpenFile::new(fds[0]) }) {
        Ok(r) => r,
        Err(e) => {
            // SAFETY: closing the write end we just created.
            unsafe { libc::close(fds[1]) };
            return Err(e);
        }
    };
    let w = match install_new(k, 0, OpenFile { cloexec, ..OpenFile::new(fds[1]) }) {
        Ok(w) => w,
        Err(e) => {
            let _ = k.task.files.close(r);
            return Err(e);
        }
    };
    // int fildes[2]
    if k.copy_to_user(addr, [r, w].as_bytes()).is_err() {
        let _ = k.task.files.close(r);
        let _ = k.task.files.close(w);
        return Err(EFAULT);
    }
    Ok(0)
}

/// eventfd2(initval, flags) and eventfd(initval) (flags 0): a host eventfd behind a
/// guest fd. EINVAL for a flag other than EFD_CLOEXEC, EFD_NONBLOCK and
/// EFD_SEMAPHORE (today's `do_eventfd`); the host is close-on-exec whatever the
/// guest asked, the guest's own flag is kept in its fd table.
pub fn sys_eventfd2(k: &mut Kernel, a: Args) -> SysResult {
    const EFD_SEMAPHORE: u32 = 1;
    let (initval, flags) = (a[0], a[1]);
    let allowed = O_CLOEXEC | libc::O_NONBLOCK as u32 | EFD_SEMAPHORE;
    if flags & !allowed != 0 {
        return Err(EINVAL);
    }
    // SAFETY: eventfd has no pointer arguments.
    let h = ok_int(unsafe { libc::eventfd(initval, (flags | O_CLOEXEC) as libc::c_int) })? as i32;
    install_new(k, 0, OpenFile { cloexec: flags & O_CLOEXEC != 0, ..OpenFile::new(h) })
}

/// memfd_create(name, flags): an anonymous file in the host's shmem, as a guest fd
/// (today's mm/memfd.c checks: flags beyond MFD_CLOEXEC, MFD_ALLOW_SEALING,
/// MFD_HUGETLB with its size bits, MFD_NOEXEC_SEAL, MFD_EXEC are EINVAL, so are
/// both of the last two together; a name longer than 249 bytes is EINVAL, a bad
/// pointer EFAULT). The host applies the rest (sealing through fcntl F_ADD_SEALS,
/// the `/memfd:NAME (deleted)` link). Its pages mapped MAP_SHARED are the host
/// file's, like any shared file mapping.
pub fn sys_memfd_create(k: &mut Kernel, a: Args) -> SysResult {
    const MFD_CLOEXEC: u32 = 0x1;
    const MFD_ALLOW_SEALING: u32 = 0x2;
    const MFD_HUGETLB: u32 = 0x4;
    const MFD_NOEXEC_SEAL: u32 = 0x8;
    const MFD_EXEC: u32 = 0x10;
    /// MFD_HUGE_SHIFT / MFD_HUGE_MASK: the huge page size's log2 in bits 26–31.
    const MFD_HUGE_BITS: u32 = 0x3f << 26;
    /// `MFD_NAME_MAX_LEN`: NAME_MAX minus the "memfd:" prefix.
    const MFD_NAME_MAX_LEN: usize = 255 - 6;
    let (name_addr, flags) = (a[0], a[1]);
    let known = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC;
    let huge_ok = flags & MFD_HUGETLB != 0 || flags & MFD_HUGE_BITS == 0;
    if flags & !(known | MFD_HUGE_BITS) != 0 || !huge_ok {
        return Err(EINVAL);
    }
    if flags & MFD_EXEC != 0 && flags & MFD_NOEXEC_SEAL != 0 {
        return Err(EINVAL);
    }
    let name = match k.strncpy_from_user(name_addr, MFD_NAME_MAX_LEN + 1) {
        Ok(n) if n.len() <= MFD_NAME_MAX_LEN => n,
        Ok(_) | Err(crate::errno::ENAMETOOLONG) => return Err(EINVAL),
        Err(e) => return Err(e),
    };
    let name = std::ffi::CString::new(name).map_err(|_| EINVAL)?;
    // SAFETY: `name` is NUL-terminated; the host fd is close-on-exec whatever the
    // guest asked (its own flag is kept in the fd table).
    let h = ok_int(unsafe { libc::memfd_create(name.as_ptr(), flags | MFD_CLOEXEC) })? as i32;
    install_new(k, 0, OpenFile { cloexec: flags & MFD_CLOEXEC != 0, ..OpenFile::new(h) })
}

pub fn sys_pipe(k: &mut Kernel, a: Args) -> SysResult {
    do_pipe2(k, a[0], 0)
}

pub fn sys_pipe2(k: &mut Kernel, a: Args) -> SysResult {
    do_pipe2(k, a[0], a[1])
}

// ---------------------------------------------------------------------------------
// fcntl

/// Converts a guest `struct flock` (32-bit offsets, 16 bytes) or `struct flock64`
/// (packed i386 layout, 24 bytes) to the host's.
fn read_flock(k: &mut Kernel, addr: u32, is64: bool) -> Result<libc::flock, Errno> {
    // SAFETY: flock is plain data; all-zero is a valid value.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    if is64 {
        let mut g = Flock64::new_zeroed();
        k.copy_from_user(addr, g.as_mut_bytes()).map_err(|_| EFAULT)?;
        (fl.l_type, fl.l_whence, fl.l_start, fl.l_len, fl.l_pid) =
            (g.l_type, g.l_whence, g.l_start, g.l_len, g.l_pid);
    } else {
        let mut g = Flock::new_zeroed();
        k.copy_from_user(addr, g.as_mut_bytes()).map_err(|_| EFAULT)?;
        (fl.l_type, fl.l_whence, fl.l_pid) = (g.l_type, g.l_whence, g.l_pid);
        (fl.l_start, fl.l_len) = (i64::from(g.l_start), i64::from(g.l_len));
    }
    Ok(fl)
}

fn write_flock(k: &mut Kernel, addr: u32, fl: &libc::flock, is64: bool) -> Result<(), Errno> {
    let r = if is64 {
        let g = Flock64 {
            l_type: fl.l_type,
            l_whence: fl.l_whence,
            l_start: fl.l_start,
            l_len: fl.l_len,
            l_pid: fl.l_pid,
        };
        k.copy_to_user(addr, g.as_bytes())
    } else {
        let l_start = i32::try_from(fl.l_start).map_err(|_| EOVERFLOW)?;
        let l_len = i32::try_from(fl.l_len).map_err(|_| EOVERFLOW)?;
        let g = Flock { l_type: fl.l_type, l_whence: fl.l_whence, l_start, l_len, l_pid: fl.l_pid };
        k.copy_to_user(addr, g.as_bytes())
    };
    r.map_err(|_| EFAULT)
}

/// fcntl64(fd, cmd, arg) (also the old fcntl: same commands on i386).
pub fn sys_fcntl64(k: &mut Kernel, a: Args) -> SysResult {
    let (fd, cmd, arg) = (a[0], a[1], a[2]);
    let file = k.task.files.get(fd).ok_or(EBADF)?.clone();
    let host = file.host_fd;
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            if u64::from(arg) >= nofile(k) {
                return Err(EINVAL);
            }
            let h = host_dup(host)?;
            let f = OpenFile {
                cloexec: cmd == F_DUPFD_CLOEXEC,
                largefile: file.largefile,
                proc_dir: file.proc_dir.clone(),
                desc: file.desc.clone(),
                signalfd: file.signalfd.clone(),
                ..OpenFile::new(h)
            };
            let limit = nofile(k);
            k.task.files.alloc(arg, f, limit).inspect_err(|_| {
                // SAFETY: closing the fd we just duplicated.
                unsafe { libc::close(h) };
            })
        }
        F_GETFD => Ok(if file.cloexec { FD_CLOEXEC } else { 0 }),
        F_SETFD => {
            if let Some(f) = k.task.files.get_mut(fd) {
                f.cloexec = arg & FD_CLOEXEC != 0;
            }
            Ok(0)
        }
        F_GETFL => {
            // SAFETY: F_GETFL has no pointer arguments.
            let fl = ok_int(unsafe { libc::fcntl(host, libc::F_GETFL) })?;
            Ok(if file.largefile { fl } else { fl & !O_LARGEFILE })
        }
        F_SETFL => {
            // SAFETY: F_SETFL takes an int.
            ok_int(unsafe { libc::fcntl(host, libc::F_SETFL, arg as libc::c_int) })
        }
        F_GETLK | F_SETLK | F_SETLKW | F_GETLK64 | F_SETLK64 | F_SETLKW64 | F_OFD_GETLK | F_OFD_SETLK
        | F_OFD_SETLKW => {
            // The guest kernel's lock table decides ([`crate::locks`]): host locks
            // would all be the emulator's and never separate guest processes.
            let is64 = !matches!(cmd, F_GETLK | F_SETLK | F_SETLKW);
            let lcmd = match cmd {
                F_GETLK | F_GETLK64 | F_OFD_GETLK => locks::Cmd::Get,
                F_SETLK | F_SETLK64 | F_OFD_SETLK => locks::Cmd::Set,
                _ => locks::Cmd::SetWait,
            };
            let ofd = matches!(cmd, F_OFD_GETLK | F_OFD_SETLK | F_OFD_SETLKW);
            let fl = read_flock(k, arg, is64)?;
            let r = locks::Request {
                l_type: fl.l_type,
                l_whence: fl.l_whence,
                l_start: fl.l_start,
                l_len: fl.l_len,
                l_pid: fl.l_pid,
            };
            if let Some(out) = locks::fcntl_lock(k, &file, lcmd, ofd, r)? {
                let mut fl = fl;
                (fl.l_type, fl.l_whence, fl.l_start, fl.l_len, fl.l_pid) =
                    (out.l_type, out.l_whence, out.l_start, out.l_len, out.l_pid);
                write_flock(k, arg, &fl, is64)?;
            }
            Ok(0)
        }
        F_GETOWN | F_SETOWN | F_SETPIPE_SZ | F_GETPIPE_SZ | F_ADD_SEALS | F_GET_SEALS => {
            // Integer-only commands with the same numbers on the host.
            // SAFETY: these commands take an int argument or none.
            ok_int(unsafe { libc::fcntl(host, cmd as libc::c_int, arg as libc::c_int) })
        }
        _ => Err(EINVAL),
    }
}

// ---------------------------------------------------------------------------------
// ioctl

/// ioctl(fd, request, arg): the terminal and FIONREAD requests glibc, musl and
/// busybox use, answered by the host for the host fd (so a non-tty gets ENOTTY
/// exactly when the host says so). Other requests: ENOTTY.
pub fn sys_ioctl(k: &mut Kernel, a: Args) -> SysResult {
    let (fd, req, arg) = (a[0], a[1], a[2]);
    let host = k.task.files.host(fd)?;
    // Each host ioctl below is given a buffer of the exact size its request reads
    // or writes (the abi structs carry size assertions).
    match req {
        TCGETS => {
            let mut t = Termios::new_zeroed();
            // SAFETY: TCGETS writes one struct termios (36 bytes), the size of `t`.
            ok_int(unsafe { libc::ioctl(host, libc::TCGETS, t.as_mut_bytes().as_mut_ptr()) })?;
            k.copy_to_user(arg, t.as_bytes()).map_err(|_| EFAULT)?;
            Ok(0)
        }
        TCSETS | TCSETSW | TCSETSF => {
            let mut t = Termios::new_zeroed();
            k.copy_from_user(arg, t.as_mut_bytes()).map_err(|_| EFAULT)?;
            let hreq = match req {
                TCSETS => libc::TCSETS,
                TCSETSW => libc::TCSETSW,
                _ => libc::TCSETSF,
            };
            // SAFETY: TCSETS* read one struct termios from `t`.
            ok_int(unsafe { libc::ioctl(host, hreq, t.as_bytes().as_ptr()) })
        }
        TIOCGWINSZ => {
            let mut w = Winsize::new_zeroed();
            // SAFETY: TIOCGWINSZ writes one struct winsize, the size of `w`.
            ok_int(unsafe { libc::ioctl(host, libc::TIOCGWINSZ, w.as_mut_bytes().as_mut_ptr()) })?;
            k.copy_to_user(arg, w.as_bytes()).map_err(|_| EFAULT)?;
            Ok(0)
        }
        TIOCSWINSZ => {
            let mut w = Winsize::new_zeroed();
            k.copy_from_user(arg, w.as_mut_bytes()).map_err(|_| EFAULT)?;
            // SAFETY: TIOCSWINSZ reads one struct winsize from `w`.
            ok_int(unsafe { libc::ioctl(host, libc::TIOCSWINSZ, w.as_bytes().as_ptr()) })
        }
        FIONREAD | TIOCGPGRP => {
            let mut v: libc::c_int = 0;
            let hreq = if req == FIONREAD { libc::FIONREAD } else { libc::TIOCGPGRP };
            // SAFETY: FIONREAD and TIOCGPGRP write one int into `v`.
            ok_int(unsafe { libc::ioctl(host, hreq, &mut v as *mut libc::c_int) })?;
            if req == FIONREAD {
                v = v.saturating_add(k.task.files.get(fd).map_or(0, |f| f.pushback.len() as libc::c_int));
            }
            k.put_user::<u32>(arg, v as u32)?;
            Ok(0)
        }
        TIOCSPGRP | FIONBIO => {
            let v = k.get_user::<u32>(arg)? as libc::c_int;
            let hreq = if req == FIONBIO { libc::FIONBIO } else { libc::TIOCSPGRP };
            // SAFETY: TIOCSPGRP and FIONBIO read one int from `v`.
            ok_int(unsafe { libc::ioctl(host, hreq, &v as *const libc::c_int) })
        }
        FIOCLEX | FIONCLEX => {
            if let Some(f) = k.task.files.get_mut(fd) {
                f.cloexec = req == FIOCLEX;
            }
            Ok(0)
        }
        _ => {
            log::debug!(target: "kernel::syscall", "ioctl request {req:#x} not supported: ENOTTY");
            Err(ENOTTY)
        }
    }
}

// ---------------------------------------------------------------------------------
// poll

/// poll(struct pollfd *fds, nfds, timeout_ms): the host polls the host fds; a guest
/// fd that is not open reports POLLNVAL.
pub fn sys_poll(k: &mut Kernel, a: Args) -> SysResult {
    do_poll(k, a[0], a[1], a[2] as i32, None)
}

/// poll with ppoll's temporary signal mask (`None`: the task's own): `do_poll` asks
/// the descriptors first; only when none is ready does a signal the mask lets
/// through end the call (-ERESTARTNOHAND, EINTR after its handler), even with a zero
/// timeout; then it sleeps, with the mask in force (in the scheduler when the host
/// must not block, [`must_not_block`]).
fn do_poll(k: &mut Kernel, addr: u32, nfds: u32, timeout: i32, mask: Option<u64>) -> SysResult {
    if u64::from(nfds) > nofile(k) {
        return Err(EINVAL);
    }
    let mut raw = vec![Pollfd::new_zeroed(); nfds as usize];
    k.copy_from_user(addr, raw.as_mut_bytes()).map_err(|_| EFAULT)?;
    let mut hfds = Vec::with_capacity(nfds as usize);
    let mut nval = vec![false; nfds as usize];
    // Data held back for a guest fd makes it readable at once.
    let mut held = vec![false; nfds as usize];
    for (i, c) in raw.iter().enumerate() {
        let (gfd, events) = (c.fd, c.events);
        let fd = if gfd < 0 {
            -1
        } else {
            match k.task.files.get(gfd as u32) {
                Some(f) => {
                    held[i] = !f.pushback.is_empty() && events & libc::POLLIN != 0;
                    f.host_fd
                }
                None => {
                    nval[i] = true;
                    -1
                }
            }
        };
        hfds.push(libc::pollfd { fd, events, revents: 0 });
    }
    let ready_now = nval.iter().chain(held.iter()).any(|&b| b);
    // Several processes: only ask the host, then sleep if nothing is ready. A
    // pending signal (under the temporary mask) is looked for before the host may
    // block.
    let multi = must_not_block(k);
    let pending = k.deliverable(&k.task, mask.unwrap_or(k.task.sig.blocked));
    let t = if ready_now || multi || mask.is_some() || pending { 0 } else { timeout };
    super::signalfd::sync_current(k);
    // SAFETY: `hfds` holds `hfds.len()` pollfd structures.
    let mut n = ok_int(unsafe { libc::poll(hfds.as_mut_ptr(), hfds.len() as libc::nfds_t, t) })?;
    if n == 0 && !ready_now {
        if crate::signal::pending_under(k, mask) {
            return Err(ERESTARTNOHAND);
        }
        if !multi && t != timeout {
            // SAFETY: as above.
            n = ok_int(unsafe { libc::poll(hfds.as_mut_ptr(), hfds.len() as libc::nfds_t, timeout) })?;
        }
    }
    if multi && n == 0 && !ready_now && timeout != 0 {
        let limit = u64::try_from(timeout).ok().map(std::time::Duration::from_millis);
        if let Some(r) = sleep_polling(k, &hfds, limit, mask) {
            return r;
        }
    }
    for (i, c) in raw.iter_mut().enumerate() {
        let mut rev = if nval[i] { libc::POLLNVAL } else { hfds[i].revents };
        if held[i] {
            rev |= libc::POLLIN;
        }
        if (nval[i] || held[i]) && hfds[i].revents == 0 {
            n += 1;
        }
        c.revents = rev;
    }
    k.copy_to_user(addr, raw.as_bytes()).map_err(|_| EFAULT)?;
    Ok(n)
}

/// ppoll(fds, nfds, timespec *tsp, sigset *sigmask, sigsetsize) and ppoll_time64:
/// poll with a timespec (EINVAL if it is malformed; NULL waits for ever), rounded
/// up to whole milliseconds, and the time not slept written back to `*tsp` as
/// today's `poll_select_finish` does. The timespec is read first, then the mask
/// (`set_user_sigmask`: EINVAL unless sigsetsize is 8, EFAULT), which is in force
/// while the call sleeps and stays for the handler of a signal that interrupts it
/// (its frame records the task's own mask).
pub fn sys_ppoll(k: &mut Kernel, a: Args, time64: bool) -> SysResult {
    let tsp = a[2];
    let limit = if tsp != 0 {
        let ts = super::time::read_timespec(k, tsp, time64)?;
        Some(std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
    } else {
        None
    };
    let mask = crate::signal::read_user_sigmask(k, a[3], a[4])?;
    let ms = limit.map_or(-1, |d| i32::try_from(d.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX));
    let start = std::time::Instant::now();
    let r = do_poll(k, a[0], a[1], ms, mask);
    if let (Some(d), true) = (limit, r.is_ok()) {
        let left = d.saturating_sub(start.elapsed());
        let ts = libc::timespec { tv_sec: left.as_secs() as i64, tv_nsec: i64::from(left.subsec_nanos()) };
        let _ = super::time::write_timespec(k, tsp, &ts, time64);
    }
    r
}

/// The old select(struct sel_arg_struct *args) of i386 (`sys_old_select`): the five
/// _newselect arguments read from one block (EFAULT if it cannot be).
pub fn sys_old_select(k: &mut Kernel, a: Args) -> SysResult {
    let mut args = [0u32; 5];
    k.copy_from_user(a[0], args.as_mut_bytes()).map_err(|_| EFAULT)?;
    sys_newselect(k, [args[0], args[1], args[2], args[3], args[4], 0])
}

/// Whether a poll or select that finds nothing ready must sleep in the scheduler
/// rather than block the host: several processes, or a clock timer (alarm,
/// setitimer, a POSIX timer) whose signal may end the wait, as natively.
pub(super) fn must_not_block(k: &Kernel) -> bool {
    k.multitasking() || k.timers.next_clock.is_some()
}

/// A poll or select that found nothing ready while there are several processes:
/// sleeps on its descriptors until they are ready or `limit` (None: no limit) has
/// passed since the call began. `None` when the time is already up.
fn sleep_polling(
    k: &mut Kernel,
    hfds: &[libc::pollfd],
    limit: Option<std::time::Duration>,
    mask: Option<u64>,
) -> Option<SysResult> {
    let deadline = limit.map(|d| crate::sched::deadline_after(k, d));
    if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
        return None;
    }
    let fds = hfds.iter().filter(|p| p.fd >= 0).map(|p| (p.fd, p.events)).collect();
    let w = WaitOn::Poll { fds, deadline, sigmask: mask };
    if mask.is_some() {
        // The caller has found no signal the temporary mask lets through.
        crate::sched::interruptible_sleep_on(k, w);
        return Some(Err(ERESTARTNOHAND));
    }
    Some(sleep_on(k, w, ERESTARTNOHAND))
}

// ---------------------------------------------------------------------------------
// stat family

/// The i386 `struct stat64` for a host `struct stat` (`cp_new_stat64`): 32-bit
/// times and the inode number both truncated (`__st_ino`) and whole (`st_ino`).
pub fn stat64_from_host(st: &libc::stat) -> Stat64 {
    Stat64 {
        st_dev: st.st_dev,
        __pad0: [0; 4],
        __st_ino: st.st_ino as u32,
        st_mode: st.st_mode,
        st_nlink: st.st_nlink as u32,
        st_uid: st.st_uid,
        st_gid: st.st_gid,
        st_rdev: st.st_rdev,
        __pad3: [0; 4],
        st_size: st.st_size,
        st_blksize: st.st_blksize as u32,
        st_blocks: st.st_blocks as u64,
        st_atime: st.st_atime as u32,
        st_atime_nsec: st.st_atime_nsec as u32,
        st_mtime: st.st_mtime as u32,
        st_mtime_nsec: st.st_mtime_nsec as u32,
        st_ctime: st.st_ctime as u32,
        st_ctime_nsec: st.st_ctime_nsec as u32,
        st_ino: st.st_ino,
    }
}

fn host_fstatat(dfd: i32, p: &CString, flags: u32) -> Result<libc::stat, Errno> {
    // SAFETY: `st` is a valid out-pointer; `p` is NUL-terminated.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        ok_int(libc::fstatat(dfd, p.as_ptr(), &mut st, flags as libc::c_int))?;
        Ok(st)
    }
}

fn put_stat64(k: &mut Kernel, addr: u32, st: &libc::stat) -> SysResult {
    k.copy_to_user(addr, stat64_from_host(st).as_bytes()).map_err(|_| EFAULT)?;
    Ok(0)
}

fn do_fstatat64(k: &mut Kernel, dirfd: u32, path: u32, buf: u32, flags: u32) -> SysResult {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | 0x800) != 0 {
        return Err(EINVAL);
    }
    let p = read_path(k, path)?;
    if p.is_empty() && flags & AT_EMPTY_PATH != 0 && dirfd as i32 != AT_FDCWD {
        let host = k.task.files.host(dirfd)?;
        // SAFETY: `st` is a valid out-pointer.
        let st = unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            ok_int(libc::fstat(host, &mut st))?;
            st
        };
        return put_stat64(k, buf, &st);
    }
    let (dfd, p) = host_at_follow(k, dirfd, p, flags & AT_SYMLINK_NOFOLLOW == 0)?;
    let st = host_fstatat(dfd, &p, flags)?;
    put_stat64(k, buf, &st)
}

pub fn sys_stat64(k: &mut Kernel, a: Args) -> SysResult {
    do_fstatat64(k, AT_FDCWD as u32, a[0], a[1], 0)
}

pub fn sys_lstat64(k: &mut Kernel, a: Args) -> SysResult {
    do_fstatat64(k, AT_FDCWD as u32, a[0], a[1], AT_SYMLINK_NOFOLLOW)
}

pub fn sys_fstat64(k: &mut Kernel, a: Args) -> SysResult {
    let host = k.task.files.host(a[0])?;
    // SAFETY: `st` is a valid out-pointer.
    let st = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        ok_int(libc::fstat(host, &mut st))?;
        st
    };
    put_stat64(k, a[1], &st)
}

/// fstatat64(dirfd, path, struct stat64 *buf, flags)
pub fn sys_fstatat64(k: &mut Kernel, a: Args) -> SysResult {
    do_fstatat64(k, a[0], a[1], a[2], a[3])
}

/// statx(dirfd, path, flags, mask, struct statx *buf): `struct statx` has the same
/// 256-byte layout on every architecture, so the host's answer is passed on.
pub fn sys_statx(k: &mut Kernel, a: Args) -> SysResult {
    let (dirfd, path, flags, mask, buf) = (a[0], a[1], a[2], a[3], a[4]);
    let p = if path == 0 && flags & AT_EMPTY_PATH != 0 { Vec::new() } else { read_path(k, path)? };
    let (dfd, p) = if p.is_empty() {
        let dfd = if dirfd as i32 == AT_FDCWD { AT_FDCWD } else { k.task.files.host(dirfd)? };
        (dfd, CString::default())
    } else {
        host_at_follow(k, dirfd, p, flags & AT_SYMLINK_NOFOLLOW == 0)?
    };
    let mut out = Statx::new_zeroed();
    let outp = out.as_mut_bytes().as_mut_ptr();
    // SAFETY: `outp` points at a whole struct statx; `p` is NUL-terminated.
    let r = unsafe { libc::syscall(libc::SYS_statx, dfd, p.as_ptr(), flags as libc::c_int, mask, outp) };
    ok_long(r)?;
    k.copy_to_user(buf, out.as_bytes()).map_err(|_| EFAULT)?;
    Ok(0)
}

// ---------------------------------------------------------------------------------
// Directories and names

/// getdents64(fd, dirp, count): the host's `linux_dirent64` records, re-encoded
/// (same layout on i386) with 32-bit-safe `d_off` values. In a listing of /proc the
/// host's process directories are left out (the guest's pid namespace holds none of
/// them; see [`procfs`]) and the guest's follow the host's other entries.
pub fn sys_getdents64(k: &mut Kernel, a: Args) -> SysResult {
    let (fd, dirp, count) = (a[0], a[1], a[2]);
    let host = k.task.files.host(fd)?;
    let n = (count as usize).min(CHUNK);
    if !crate::uaccess::access_ok(dirp, n as u32) {
        return Err(EFAULT);
    }
    if let Some(d) = k.task.files.get(fd).and_then(|f| f.proc_dir.clone()).filter(|d| d.synthetic()) {
        return proc_getdents(k, host, &d, dirp, n);
    }
    let proc_root = procfs::is_proc_root(host);
    // Where the host directory stands: restored below if the guest's buffer takes
    // fewer entries than were read (the host call moves the position first).
    // SAFETY: lseek has no pointer arguments.
    let pos = unsafe { libc::lseek(host, 0, libc::SEEK_CUR) };
    let mut buf = vec![0u8; n];
    let mut out = Vec::new();
    // For each entry of `out`: where it ends there, and the host position after it.
    let mut ends: Vec<(usize, i64)> = Vec::new();
    // A batch of nothing but host processes is not the end of the directory: read on.
    while out.is_empty() {
        // SAFETY: `buf` is `n` writable bytes.
        let got =
            ok_long(unsafe { libc::syscall(libc::SYS_getdents64, host, buf.as_mut_ptr(), n) })? as usize;
        if got == 0 {
            break;
        }
        let mut off = 0usize;
        let f = k.task.files.get_mut(fd).ok_or(EBADF)?;
        const HDR: usize = size_of::<LinuxDirent64Header>();
        while let Ok((hdr, _)) = LinuxDirent64Header::read_from_prefix(&buf[off..got]) {
            let reclen = usize::from(hdr.d_reclen);
            if reclen < HDR || off + reclen > got {
                break;
            }
            let rec = &buf[off..off + reclen];
            off += reclen;
            let name_end = rec[HDR..].iter().position(|&c| c == 0).map_or(rec.len(), |p| HDR + p);
            let name = &rec[HDR..name_end];
            if proc_root && procfs::is_pid_name(name) {
                continue;
            }
            let len = (HDR + name.len() + 1).div_ceil(8) * 8;
            let start = out.len();
            let h = LinuxDirent64Header {
                d_ino: hdr.d_ino,
                d_off: f.dir_cookie(hdr.d_off),
                d_reclen: len as u16,
                d_type: hdr.d_type,
            };
            out.extend_from_slice(h.as_bytes());
            out.extend_from_slice(name);
            out.resize(start + len, 0);
            ends.push((out.len(), hdr.d_off));
        }
    }
    if proc_root && out.is_empty() {
        return proc_root_pids(k, host, dirp, n);
    }
    match k.copy_to_user(dirp, &out) {
        Ok(()) => Ok(out.len() as u32),
        // filldir64 stops at the entry it cannot copy: the call returns the entries
        // before it (EFAULT if there are none) and the directory position stays
        // after the last one returned, so no entry is lost.
        Err(done) => {
            let kept = ends.iter().take_while(|(end, _)| *end <= done).last().copied();
            let back = kept.map_or(pos, |(_, off)| off);
            // SAFETY: lseek has no pointer arguments.
            unsafe { libc::lseek(host, back, libc::SEEK_SET) };
            kept.map(|(end, _)| end as u32).ok_or(EFAULT)
        }
    }
}

/// getdents64 of /proc past the host's entries: the guest's process directories
/// ([`procfs::root_pid_entries`]), from the position kept in the host fd's offset;
/// EINVAL when not even one fits, as in Linux.
fn proc_root_pids(k: &mut Kernel, host: i32, dirp: u32, n: usize) -> SysResult {
    const HDR: usize = size_of::<LinuxDirent64Header>();
    // SAFETY: lseek has no pointer arguments.
    let pos = unsafe { libc::lseek(host, 0, libc::SEEK_CUR) };
    let entries = procfs::root_pid_entries(k, pos);
    let mut out = Vec::new();
    let mut next = None;
    for &(tgid, off) in &entries {
        let name = tgid.to_string();
        let len = (HDR + name.len() + 1).div_ceil(8) * 8;
        if out.len() + len > n {
            break;
        }
        let start = out.len();
        let h = LinuxDirent64Header {
            d_ino: u64::from(tgid) << 16,
            d_off: off,
            d_reclen: len as u16,
            d_type: procfs::DT_DIR,
        };
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(name.as_bytes());
        out.resize(start + len, 0);
        next = Some(off);
    }
    let Some(next) = next else {
        return if entries.is_empty() { Ok(0) } else { Err(EINVAL) };
    };
    k.copy_to_user(dirp, &out).map_err(|_| EFAULT)?;
    // SAFETY: lseek has no pointer arguments.
    unsafe { libc::lseek(host, next, libc::SEEK_SET) };
    Ok(out.len() as u32)
}

/// getdents64 of an open guest /proc directory: the entries from
/// [`procfs::dir_entries`], from the position kept in the host fd's offset; EINVAL
/// when not even one fits, as in Linux.
fn proc_getdents(k: &mut Kernel, host: i32, d: &procfs::ProcDir, dirp: u32, n: usize) -> SysResult {
    const HDR: usize = size_of::<LinuxDirent64Header>();
    let entries = procfs::dir_entries(k, d)?;
    // SAFETY: lseek has no pointer arguments.
    let pos = unsafe { libc::lseek(host, 0, libc::SEEK_CUR) }.max(0) as usize;
    let mut out = Vec::new();
    let mut next = pos;
    for (i, (name, d_type)) in entries.iter().enumerate().skip(pos) {
        let len = (HDR + name.len() + 1).div_ceil(8) * 8;
        if out.len() + len > n {
            break;
        }
        let start = out.len();
        let h = LinuxDirent64Header {
            d_ino: (u64::from(d.pid) << 16) | i as u64,
            d_off: i as i64 + 1,
            d_reclen: len as u16,
            d_type: *d_type,
        };
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(name);
        out.resize(start + len, 0);
        next = i + 1;
    }
    if out.is_empty() && pos < entries.len() {
        return Err(EINVAL);
    }
    k.copy_to_user(dirp, &out).map_err(|_| EFAULT)?;
    // SAFETY: lseek has no pointer arguments.
    unsafe { libc::lseek(host, next as libc::off_t, libc::SEEK_SET) };
    Ok(out.len() as u32)
}

fn do_readlinkat(k: &mut Kernel, dirfd: u32, path: u32, buf: u32, size: u32) -> SysResult {
    if (size as i32) <= 0 {
        return Err(EINVAL);
    }
    let mut p = read_path(k, path)?;
    let (dfd, l) = lookup_at(k, dirfd, &mut p, false)?;
    let target = match procfs::link_target(k, &l)? {
        Some(t) => t,
        None => {
            let (dfd, hp) = host_for(k, dfd, p, l, false, true)?;
            let mut t = vec![0u8; PATH_MAX];
            // SAFETY: `t` has PATH_MAX writable bytes; `hp` is NUL-terminated.
            let n = unsafe { libc::readlinkat(dfd, hp.as_ptr(), t.as_mut_ptr().cast(), t.len()) };
            if n < 0 {
                return Err(host_errno());
            }
            t.truncate(n as usize);
            t
        }
    };
    let n = target.len().min(size as usize);
    k.copy_to_user(buf, &target[..n]).map_err(|_| EFAULT)?;
    Ok(n as u32)
}

pub fn sys_readlink(k: &mut Kernel, a: Args) -> SysResult {
    do_readlinkat(k, AT_FDCWD as u32, a[0], a[1], a[2])
}

pub fn sys_readlinkat(k: &mut Kernel, a: Args) -> SysResult {
    do_readlinkat(k, a[0], a[1], a[2], a[3])
}

fn do_faccessat(k: &mut Kernel, dirfd: u32, path: u32, mode: u32, flags: Option<u32>) -> SysResult {
    let p = read_path(k, path)?;
    let follow = flags.unwrap_or(0) & AT_SYMLINK_NOFOLLOW == 0;
    let (dfd, p) = host_at_follow(k, dirfd, p, follow)?;
    // SAFETY: `p` is NUL-terminated. A raw syscall, so the host kernel (which a
    // native run would also use) decides, without libc's emulation.
    let call = |f: u32| unsafe {
        libc::syscall(libc::SYS_faccessat2, dfd, p.as_ptr(), mode as libc::c_int, f as libc::c_int)
    };
    let f = flags.unwrap_or(0);
    // Without AT_EACCESS the check is by the real ids, the guest's, not the host's.
    let r = if f & AT_EACCESS != 0 {
        call(f)
    } else {
        crate::cred::with_access_creds(k, || call(f | AT_EACCESS))
    };
    ok_long(r)
}

pub fn sys_access(k: &mut Kernel, a: Args) -> SysResult {
    do_faccessat(k, AT_FDCWD as u32, a[0], a[1], None)
}

pub fn sys_faccessat(k: &mut Kernel, a: Args) -> SysResult {
    do_faccessat(k, a[0], a[1], a[2], None)
}

pub fn sys_faccessat2(k: &mut Kernel, a: Args) -> SysResult {
    do_faccessat(k, a[0], a[1], a[2], Some(a[3]))
}

/// getcwd(buf, size): the length including the NUL; ERANGE if it does not fit.
pub fn sys_getcwd(k: &mut Kernel, a: Args) -> SysResult {
    k.sync_cwd();
    let mut t = vec![0u8; PATH_MAX];
    // SAFETY: `t` has PATH_MAX writable bytes.
    let n = ok_long(unsafe { libc::syscall(libc::SYS_getcwd, t.as_mut_ptr(), t.len()) })? as usize;
    if n > a[1] as usize {
        return Err(ERANGE);
    }
    k.copy_to_user(a[0], &t[..n]).map_err(|_| EFAULT)?;
    Ok(n as u32)
}

/// chdir(path). A guest /proc process directory is not entered (EACCES, see
/// [`procfs`]): the host's working directory would be the emulator's own.
pub fn sys_chdir(k: &mut Kernel, a: Args) -> SysResult {
    let mut p = read_path(k, a[0])?;
    let (dfd, l) = lookup_at(k, AT_FDCWD as u32, &mut p, true)?;
    if matches!(l, Lookup::Pid { .. }) {
        return Err(libc::EACCES);
    }
    let (_, p) = host_for(k, dfd, p, l, true, false)?;
    // SAFETY: `p` is NUL-terminated.
    ok_int(unsafe { libc::chdir(p.as_ptr()) })?;
    entered_cwd(k)
}

/// After a host chdir/fchdir for the current task: its `fs` takes the host's new
/// working directory (the host is in it, see [`Kernel::sync_cwd`]).
fn entered_cwd(k: &mut Kernel) -> SysResult {
    k.task.fs.cwd = crate::sched::open_cwd();
    k.host_cwd.set(k.task.ids.fs);
    Ok(0)
}

pub fn sys_fchdir(k: &mut Kernel, a: Args) -> SysResult {
    // A guest /proc directory is not entered (see [`procfs`]), as chdir does not.
    if k.task.files.get(a[0]).is_some_and(|f| f.proc_dir.is_some()) {
        return Err(libc::EACCES);
    }
    let host = k.task.files.host(a[0])?;
    // SAFETY: no pointer arguments.
    ok_int(unsafe { libc::fchdir(host) })?;
    entered_cwd(k)
}

fn do_unlinkat(k: &mut Kernel, dirfd: u32, path: u32, flags: u32) -> SysResult {
    if flags & !AT_REMOVEDIR != 0 {
        return Err(EINVAL);
    }
    let (dfd, p) = path_at_nofollow(k, dirfd, path)?;
    // SAFETY: `p` is NUL-terminated.
    ok_int(unsafe { libc::unlinkat(dfd, p.as_ptr(), flags as libc::c_int) })
}

pub fn sys_unlink(k: &mut Kernel, a: Args) -> SysResult {
    do_unlinkat(k, AT_FDCWD as u32, a[0], 0)
}

pub fn sys_unlinkat(k: &mut Kernel, a: Args) -> SysResult {
    do_unlinkat(k, a[0], a[1], a[2])
}

pub fn sys_rmdir(k: &mut Kernel, a: Args) -> SysResult {
    do_unlinkat(k, AT_FDCWD as u32, a[0], AT_REMOVEDIR)
}

fn do_mkdirat(k: &mut Kernel, dirfd: u32, path: u32, mode: u32) -> SysResult {
    let (dfd, p) = path_at_nofollow(k, dirfd, path)?;
    // SAFETY: `p` is NUL-terminated.
    with_umask(k, mode, |mode| ok_int(unsafe { libc::mkdirat(dfd, p.as_ptr(), mode as libc::mode_t) }))
}

pub fn sys_mkdir(k: &mut Kernel, a: Args) -> SysResult {
    do_mkdirat(k, AT_FDCWD as u32, a[0], a[1])
}

pub fn sys_mkdirat(k: &mut Kernel, a: Args) -> SysResult {
    do_mkdirat(k, a[0], a[1], a[2])
}

fn do_renameat2(k: &mut Kernel, olddir: u32, old: u32, newdir: u32, new: u32, flags: u32) -> SysResult {
    let (od, op) = path_at_nofollow(k, olddir, old)?;
    let (nd, np) = path_at_nofollow(k, newdir, new)?;
    // SAFETY: both paths are NUL-terminated.
    let r = unsafe {
        libc::syscall(libc::SYS_renameat2, od, op.as_ptr(), nd, np.as_ptr(), flags as libc::c_uint)
    };
    ok_long(r)
}

pub fn sys_rename(k: &mut Kernel, a: Args) -> SysResult {
    do_renameat2(k, AT_FDCWD as u32, a[0], AT_FDCWD as u32, a[1], 0)
}

pub fn sys_renameat(k: &mut Kernel, a: Args) -> SysResult {
    do_renameat2(k, a[0], a[1], a[2], a[3], 0)
}

pub fn sys_renameat2(k: &mut Kernel, a: Args) -> SysResult {
    do_renameat2(k, a[0], a[1], a[2], a[3], a[4])
}

pub fn sys_chmod(k: &mut Kernel, a: Args) -> SysResult {
    let (dfd, p) = path_at(k, AT_FDCWD as u32, a[0])?;
    // SAFETY: `p` is NUL-terminated.
    ok_int(unsafe { libc::fchmodat(dfd, p.as_ptr(), a[1] as libc::mode_t, 0) })
}

pub fn sys_fchmodat(k: &mut Kernel, a: Args) -> SysResult {
    let (dfd, p) = path_at(k, a[0], a[1])?;
    // SAFETY: `p` is NUL-terminated; the raw syscall takes no flags.
    ok_long(unsafe { libc::syscall(libc::SYS_fchmodat, dfd, p.as_ptr(), a[2] as libc::mode_t) })
}

pub fn sys_fchmod(k: &mut Kernel, a: Args) -> SysResult {
    let host = k.task.files.host(a[0])?;
    // SAFETY: no pointer arguments.
    ok_int(unsafe { libc::fchmod(host, a[1] as libc::mode_t) })
}

pub fn sys_fsync(k: &mut Kernel, a: Args) -> SysResult {
    let host = k.task.files.host(a[0])?;
    crate::mm::filemap::sync_fd(k, host)?;
    // SAFETY: no pointer arguments.
    ok_int(unsafe { libc::fsync(host) })
}

/// ftruncate64(fd, length_lo, length_hi)
pub fn sys_ftruncate64(k: &mut Kernel, a: Args) -> SysResult {
    let host = k.task.files.host(a[0])?;
    let len = pos64(a[1], a[2])?;
    do_ftruncate(k, host, len)
}

/// The host's ftruncate of `host`, then the file's MAP_SHARED pages past the new end
/// leave their mappings (`vmtruncate`).
fn do_ftruncate(k: &mut Kernel, host: i32, len: i64) -> SysResult {
    if is_regular(host) {
        fsize_ok(k, len)?;
    }
    // SAFETY: no pointer arguments.
    let r = ok_int(unsafe { libc::ftruncate(host, len) })?;
    if let Some(sf) = crate::mm::filemap::shared_of_fd(k, host) {
        crate::mm::filemap::vmtruncate(k, &sf, len as u64);
    }
    Ok(r)
}

/// The host's truncate of path `p`, then [`crate::mm::filemap::truncated`].
fn do_truncate(k: &mut Kernel, p: &CString, len: i64) -> SysResult {
    fsize_ok(k, len)?;
    // SAFETY: `p` is NUL-terminated.
    let r = ok_int(unsafe { libc::truncate(p.as_ptr(), len) })?;
    if !k.page_cache.shared.is_empty() {
        // SAFETY: `st` is a plain C struct stat fills; `p` is NUL-terminated.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        if unsafe { libc::stat(p.as_ptr(), &mut st) } == 0 {
            crate::mm::filemap::truncated(k, st.st_dev, st.st_ino, len as u64);
        }
    }
    Ok(r)
}

/// truncate64(path, length_lo, length_hi)
pub fn sys_truncate64(k: &mut Kernel, a: Args) -> SysResult {
    let (_, p) = path_at(k, AT_FDCWD as u32, a[0])?;
    let len = pos64(a[1], a[2])?;
    do_truncate(k, &p, len)
}

/// truncate (92): the 32-bit form. The length is a signed `compat_off_t`, so a
/// negative one is EINVAL (today's `compat_sys_truncate` → `do_sys_truncate`).
pub fn sys_truncate(k: &mut Kernel, a: Args) -> SysResult {
    let (_, p) = path_at(k, AT_FDCWD as u32, a[0])?;
    let len = a[1] as i32;
    if len < 0 {
        return Err(EINVAL);
    }
    do_truncate(k, &p, i64::from(len))
}

/// ftruncate (93): the 32-bit form. Today's `compat_sys_ftruncate` takes the length
/// unsigned and, for a file opened without O_LARGEFILE, refuses one past 2 GiB − 1
/// (`MAX_NON_LFS`) with EINVAL. The rest (EBADF, EINVAL for a file not open for
/// writing or not regular, EPERM/ETXTBSY ...) is the host's answer.
pub fn sys_ftruncate(k: &mut Kernel, a: Args) -> SysResult {
    let file = k.task.files.get(a[0]).ok_or(EBADF)?;
    let (host, large) = (file.host_fd, file.largefile);
    let len = a[1];
    if !large && len > i32::MAX as u32 {
        return Err(EINVAL);
    }
    do_ftruncate(k, host, i64::from(len))
}

/// fallocate (324): `fd, mode, offset_lo, offset_hi, len_lo, len_hi` (i386 splits
/// the two 64-bit arguments). Today's `vfs_fallocate` order: a negative offset or a
/// length ≤ 0 is EINVAL, then the host checks the rest on its own descriptor — the
/// modes its file system supports (EOPNOTSUPP otherwise), EBADF for a descriptor not
/// open for writing, ESPIPE for a pipe, ENODEV for what is neither a file nor a
/// directory, EFBIG past the size limit. 2.4 had no fallocate.
pub fn sys_fallocate(k: &mut Kernel, a: Args) -> SysResult {
    let host = k.task.files.host(a[0])?;
    let mode = a[1] as i32;
    let offset = ((u64::from(a[3]) << 32) | u64::from(a[2])) as i64;
    let len = ((u64::from(a[5]) << 32) | u64::from(a[4])) as i64;
    if offset < 0 || len <= 0 {
        return Err(EINVAL);
    }
    // SAFETY: no pointer arguments.
    ok_int(unsafe { libc::fallocate64(host, mode, offset, len) })
}

/// fadvise64(fd, offset_lo, offset_hi, len, advice) and fadvise64_64(fd,
/// offset_lo, offset_hi, len_lo, len_hi, advice) (i386's argument layouts): the
/// advice goes to the host file (a hint; the guest kernel's page cache of shared
/// mappings is not dropped by DONTNEED), whose kernel gives the answer: EBADF,
/// ESPIPE for a pipe or FIFO, EINVAL for an unknown advice. fadvise64's `len` is a
/// 32-bit `size_t`, zero-extended.
pub fn sys_fadvise64(k: &mut Kernel, a: Args, len64: bool) -> SysResult {
    let host = k.task.files.host(a[0])?;
    let offset = ((u64::from(a[2]) << 32) | u64::from(a[1])) as i64;
    let (len, advice) = if len64 {
        (((u64::from(a[4]) << 32) | u64::from(a[3])) as i64, a[5])
    } else {
        (i64::from(a[3]), a[4])
    };
    // SAFETY: no pointer arguments.
    let r = unsafe { libc::posix_fadvise(host, offset, len, advice as i32) };
    if r != 0 {
        return Err(r);
    }
    Ok(0)
}

/// readahead(fd, offset_lo, offset_hi, count): to the host file (EBADF if the fd is
/// not open for reading, EINVAL if it is not a regular file, as `ksys_readahead`).
pub fn sys_readahead(k: &mut Kernel, a: Args) -> SysResult {
    let host = k.task.files.host(a[0])?;
    let offset = ((u64::from(a[2]) << 32) | u64::from(a[1])) as i64;
    // SAFETY: no pointer arguments.
    if unsafe { libc::readahead(host, offset, a[3] as usize) } < 0 {
        return Err(host_errno());
    }
    Ok(0)
}

/// sync_file_range(fd, offset_lo, offset_hi, nbytes_lo, nbytes_hi, flags) (i386's
/// layout): the guest's stores through MAP_SHARED mappings of the file go to it
/// first, as for fsync; then the host does the range (its checks: EINVAL for
/// unknown flags or a negative range, ESPIPE for a pipe).
pub fn sys_sync_file_range(k: &mut Kernel, a: Args) -> SysResult {
    let host = k.task.files.host(a[0])?;
    let offset = ((u64::from(a[2]) << 32) | u64::from(a[1])) as i64;
    let nbytes = ((u64::from(a[4]) << 32) | u64::from(a[3])) as i64;
    crate::mm::filemap::sync_fd(k, host)?;
    // SAFETY: no pointer arguments.
    ok_int(unsafe { libc::sync_file_range(host, offset, nbytes, a[5]) })
}

pub fn sys_fdatasync(k: &mut Kernel, a: Args) -> SysResult {
    let host = k.task.files.host(a[0])?;
    crate::mm::filemap::sync_fd(k, host)?;
    // SAFETY: no pointer arguments.
    ok_int(unsafe { libc::fdatasync(host) })
}

fn do_symlinkat(k: &mut Kernel, target: u32, dirfd: u32, path: u32) -> SysResult {
    let t = cstring(read_path(k, target)?)?;
    let (dfd, p) = path_at_nofollow(k, dirfd, path)?;
    // SAFETY: both strings are NUL-terminated.
    ok_int(unsafe { libc::symlinkat(t.as_ptr(), dfd, p.as_ptr()) })
}

/// symlink(target, linkpath)
pub fn sys_symlink(k: &mut Kernel, a: Args) -> SysResult {
    do_symlinkat(k, a[0], AT_FDCWD as u32, a[1])
}

/// symlinkat(target, newdirfd, linkpath)
pub fn sys_symlinkat(k: &mut Kernel, a: Args) -> SysResult {
    do_symlinkat(k, a[0], a[1], a[2])
}

fn do_linkat(k: &mut Kernel, olddir: u32, old: u32, newdir: u32, new: u32, flags: u32) -> SysResult {
    let p = read_path(k, old)?;
    let (od, op) = host_at_how(k, olddir, p, flags & AT_SYMLINK_FOLLOW != 0, false)?;
    let (nd, np) = path_at_nofollow(k, newdir, new)?;
    // SAFETY: both paths are NUL-terminated.
    ok_int(unsafe { libc::linkat(od, op.as_ptr(), nd, np.as_ptr(), flags as libc::c_int) })
}

pub fn sys_link(k: &mut Kernel, a: Args) -> SysResult {
    do_linkat(k, AT_FDCWD as u32, a[0], AT_FDCWD as u32, a[1], 0)
}

pub fn sys_linkat(k: &mut Kernel, a: Args) -> SysResult {
    do_linkat(k, a[0], a[1], a[2], a[3], a[4])
}

fn do_fchownat(k: &mut Kernel, dirfd: u32, path: u32, uid: u32, gid: u32, flags: u32) -> SysResult {
    let p = read_path(k, path)?;
    let (dfd, p) = host_at_follow(k, dirfd, p, flags & AT_SYMLINK_NOFOLLOW == 0)?;
    // SAFETY: `p` is NUL-terminated.
    ok_int(unsafe { libc::fchownat(dfd, p.as_ptr(), uid, gid, flags as libc::c_int) })
}

/// chown32(path, uid, gid)
pub fn sys_chown(k: &mut Kernel, a: Args) -> SysResult {
    do_fchownat(k, AT_FDCWD as u32, a[0], a[1], a[2], 0)
}

/// lchown32(path, uid, gid)
pub fn sys_lchown(k: &mut Kernel, a: Args) -> SysResult {
    do_fchownat(k, AT_FDCWD as u32, a[0], a[1], a[2], AT_SYMLINK_NOFOLLOW)
}

/// fchownat(dirfd, path, uid, gid, flags)
pub fn sys_fchownat(k: &mut Kernel, a: Args) -> SysResult {
    do_fchownat(k, a[0], a[1], a[2], a[3], a[4])
}

/// fchown32(fd, uid, gid)
pub fn sys_fchown(k: &mut Kernel, a: Args) -> SysResult {
    let host = k.task.files.host(a[0])?;
    // SAFETY: no pointer arguments.
    ok_int(unsafe { libc::fchown(host, a[1], a[2]) })
}

/// utimensat(dirfd, path, const struct timespec times[2], flags) and the time64
/// variant. A NULL path with a real dirfd changes the file behind the fd.
pub fn sys_utimensat(k: &mut Kernel, a: Args, time64: bool) -> SysResult {
    let (dirfd, path, times, flags) = (a[0], a[1], a[2], a[3]);
    let mut ts = [libc::timespec { tv_sec: 0, tv_nsec: 0 }; 2];
    let tsp = if times != 0 {
        let size = if time64 { size_of::<KernelTimespec>() } else { size_of::<Timespec>() };
        for (i, t) in ts.iter_mut().enumerate() {
            *t = read_utime(k, times.wrapping_add((i * size) as u32), time64)?;
        }
        ts.as_ptr()
    } else {
        std::ptr::null()
    };
    do_utimes(k, dirfd, path, tsp, flags)
}

/// `do_utimes`: a NULL path names the directory fd itself (futimens), unless that is
/// AT_FDCWD, when the NULL path is EFAULT as any bad path; the host then sets the
/// times (`tsp` NULL: both now).
fn do_utimes(k: &mut Kernel, dirfd: u32, path: u32, tsp: *const libc::timespec, flags: u32) -> SysResult {
    let (dfd, p) = if path == 0 && dirfd != AT_FDCWD as u32 {
        (k.task.files.host(dirfd)?, None)
    } else {
        let p = read_path(k, path)?;
        let (d, p) = host_at_follow(k, dirfd, p, flags & AT_SYMLINK_NOFOLLOW == 0)?;
        (d, Some(p))
    };
    let pp = p.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
    // SAFETY: `pp` is NULL or NUL-terminated; `tsp` is NULL or two timespecs.
    ok_long(unsafe { libc::syscall(libc::SYS_utimensat, dfd, pp, tsp, flags as libc::c_int) })
}

/// One `times[i]` of utimensat: UTIME_NOW / UTIME_OMIT pass through.
fn read_utime(k: &mut Kernel, addr: u32, time64: bool) -> Result<libc::timespec, Errno> {
    let (sec, nsec) = if time64 {
        let mut t = KernelTimespec::default();
        k.copy_from_user(addr, t.as_mut_bytes()).map_err(|_| EFAULT)?;
        // Only the low 32 bits of tv_nsec count on a 32-bit task.
        (t.tv_sec, i64::from(t.tv_nsec as i32))
    } else {
        let mut t = Timespec::default();
        k.copy_from_user(addr, t.as_mut_bytes()).map_err(|_| EFAULT)?;
        (i64::from(t.tv_sec), i64::from(t.tv_nsec))
    };
    Ok(libc::timespec { tv_sec: sec, tv_nsec: nsec })
}

/// The host's x86-64 `struct statfs` as 15 words: type, bsize, blocks, bfree,
/// bavail, files, ffree, fsid (two ints in one word), namelen, frsize, flags, spare.
type HostStatfs = [u64; 15];

/// The i386 `struct statfs64` (84 bytes, 4-byte packed).
fn statfs64_from_host(s: &HostStatfs) -> Statfs64 {
    Statfs64 {
        f_type: s[0] as u32,
        f_bsize: s[1] as u32,
        f_blocks: s[2],
        f_bfree: s[3],
        f_bavail: s[4],
        f_files: s[5],
        f_ffree: s[6],
        // The host's two fsid ints, in memory order.
        f_fsid: [s[7] as u32, (s[7] >> 32) as u32],
        f_namelen: s[8] as u32,
        f_frsize: s[9] as u32,
        f_flags: s[10] as u32,
        f_spare: [0; 4],
    }
}

fn put_statfs64(k: &mut Kernel, size: u32, buf: u32, s: &HostStatfs) -> SysResult {
    if size as usize != size_of::<Statfs64>() {
        return Err(EINVAL);
    }
    k.copy_to_user(buf, statfs64_from_host(s).as_bytes()).map_err(|_| EFAULT)?;
    Ok(0)
}

/// The host's statfs of a guest path (followed as the guest's).
fn host_statfs(k: &mut Kernel, path: u32) -> Result<HostStatfs, Errno> {
    let p = read_path(k, path)?;
    let (_, p) = host_at_follow(k, AT_FDCWD as u32, p, true)?;
    let mut s: HostStatfs = [0; 15];
    // SAFETY: `s` is 120 bytes, the size of the kernel's struct statfs on x86-64.
    ok_long(unsafe { libc::syscall(libc::SYS_statfs, p.as_ptr(), s.as_mut_ptr()) })?;
    Ok(s)
}

/// The host's fstatfs of a guest fd.
fn host_fstatfs(k: &Kernel, fd: u32) -> Result<HostStatfs, Errno> {
    let host = k.task.files.host(fd)?;
    let mut s: HostStatfs = [0; 15];
    // SAFETY: as in host_statfs.
    ok_long(unsafe { libc::syscall(libc::SYS_fstatfs, host, s.as_mut_ptr()) })?;
    Ok(s)
}

/// statfs64(path, sz, struct statfs64 *buf)
pub fn sys_statfs64(k: &mut Kernel, a: Args) -> SysResult {
    let s = host_statfs(k, a[0])?;
    put_statfs64(k, a[1], a[2], &s)
}

/// fstatfs64(fd, sz, struct statfs64 *buf)
pub fn sys_fstatfs64(k: &mut Kernel, a: Args) -> SysResult {
    let s = host_fstatfs(k, a[0])?;
    put_statfs64(k, a[1], a[2], &s)
}

/// The i386 `struct statfs` of a host one (today's `do_statfs_native`): EOVERFLOW
/// when a block count or size needs more than 32 bits, or a file count does
/// (except -1, "unknown", which fits).
fn put_statfs(k: &mut Kernel, buf: u32, s: &HostStatfs) -> SysResult {
    let big = |v: u64| v >> 32 != 0;
    let big_count = |v: u64| v != u64::MAX && big(v);
    if big(s[1]) || big(s[2]) || big(s[3]) || big(s[4]) || big(s[9]) || big_count(s[5]) || big_count(s[6]) {
        return Err(EOVERFLOW);
    }
    let w = statfs64_from_host(s);
    let out = Statfs {
        f_type: w.f_type,
        f_bsize: w.f_bsize,
        f_blocks: w.f_blocks as u32,
        f_bfree: w.f_bfree as u32,
        f_bavail: w.f_bavail as u32,
        f_files: w.f_files as u32,
        f_ffree: w.f_ffree as u32,
        f_fsid: w.f_fsid,
        f_namelen: w.f_namelen,
        f_frsize: w.f_frsize,
        f_flags: w.f_flags,
        f_spare: [0; 4],
    };
    k.copy_to_user(buf, out.as_bytes()).map_err(|_| EFAULT)?;
    Ok(0)
}

/// statfs(path, struct statfs *buf)
pub fn sys_statfs(k: &mut Kernel, a: Args) -> SysResult {
    let s = host_statfs(k, a[0])?;
    put_statfs(k, a[1], &s)
}

/// fstatfs(fd, struct statfs *buf)
pub fn sys_fstatfs(k: &mut Kernel, a: Args) -> SysResult {
    let s = host_fstatfs(k, a[0])?;
    put_statfs(k, a[1], &s)
}

/// sync(): the host's, which the guest's files are. Never fails.
pub fn sys_sync(k: &mut Kernel, _: Args) -> SysResult {
    crate::mm::filemap::writeback_all(k);
    // SAFETY: sync has no arguments.
    unsafe { libc::sync() };
    Ok(0)
}

/// syncfs(fd): EBADF for a bad guest fd, else the host's answer for its file.
pub fn sys_syncfs(k: &mut Kernel, a: Args) -> SysResult {
    let host = k.task.files.host(a[0])?;
    crate::mm::filemap::writeback_all(k);
    // SAFETY: syncfs has no pointer arguments.
    ok_long(unsafe { libc::syscall(libc::SYS_syncfs, host) })
}

/// utime(path, struct utimbuf *times) (today's `sys_utime32`): the two times with
/// no fraction, or both "now" for NULL.
pub fn sys_utime(k: &mut Kernel, a: Args) -> SysResult {
    let ts = if a[1] == 0 {
        None
    } else {
        let mut t = Utimbuf::default();
        k.copy_from_user(a[1], t.as_mut_bytes()).map_err(|_| EFAULT)?;
        let at = |sec: i32| libc::timespec { tv_sec: i64::from(sec), tv_nsec: 0 };
        Some([at(t.actime), at(t.modtime)])
    };
    utimes_path(k, a[0], ts)
}

/// utimes(path, struct timeval times[2]) (today's `sys_utimes_time32`): EINVAL for
/// a microsecond field outside 0..=999999, or both "now" for NULL.
pub fn sys_utimes(k: &mut Kernel, a: Args) -> SysResult {
    let ts = if a[1] == 0 {
        None
    } else {
        let mut tv = [Timeval::default(); 2];
        k.copy_from_user(a[1], tv.as_mut_bytes()).map_err(|_| EFAULT)?;
        if tv.iter().any(|t| !(0..1_000_000).contains(&t.tv_usec)) {
            return Err(EINVAL);
        }
        let at = |t: &Timeval| libc::timespec {
            tv_sec: i64::from(t.tv_sec),
            tv_nsec: i64::from(t.tv_usec) * 1000,
        };
        Some([at(&tv[0]), at(&tv[1])])
    };
    utimes_path(k, a[0], ts)
}

/// `do_utimes(AT_FDCWD, path, times, 0)`.
fn utimes_path(k: &mut Kernel, path: u32, ts: Option<[libc::timespec; 2]>) -> SysResult {
    let tsp = ts.as_ref().map_or(std::ptr::null(), |t| t.as_ptr());
    do_utimes(k, AT_FDCWD as u32, path, tsp, 0)
}

/// sendfile(out_fd, in_fd, off_t *offset, count) and sendfile64 (loff_t *offset):
/// the host copies between the host fds, at most CHUNK bytes per call.
pub fn sys_sendfile(k: &mut Kernel, a: Args, wide: bool) -> SysResult {
    let (out_fd, in_fd, off_ptr, count) = (a[0], a[1], a[2], a[3]);
    let hout = k.task.files.host(out_fd)?;
    let hin = k.task.files.host(in_fd)?;
    let mut off: libc::off_t = 0;
    if off_ptr != 0 {
        off = if wide {
            let mut b = [0u8; 8];
            k.copy_from_user(off_ptr, &mut b).map_err(|_| EFAULT)?;
            i64::from_le_bytes(b)
        } else {
            i64::from(k.get_user::<u32>(off_ptr)? as i32)
        };
    }
    let mut n = (count as usize).min(CHUNK);
    if k.multitasking() && n > 0 {
        // Several processes: neither end may block the host (see the module doc).
        if !is_regular(hin) {
            if let Some(r) = wait_ready(k, hin, libc::POLLIN) {
                return r;
            }
        }
        if !is_regular(hout) {
            if let Some(r) = wait_ready(k, hout, libc::POLLOUT) {
                return r;
            }
            n = n.min(PIPE_BUF);
        }
    }
    let offp: *mut libc::off_t = if off_ptr != 0 { &mut off } else { std::ptr::null_mut() };
    // SAFETY: `offp` is NULL or points at `off`.
    let r = unsafe { libc::sendfile(hout, hin, offp, n) };
    if r < 0 {
        let e = host_errno();
        if e == libc::EPIPE {
            let pid = k.task.pid;
            let uid = k.current_uid();
            send_sig_info(k, SigInfo::user(SIGPIPE, SI_USER, pid, uid));
        }
        return Err(e);
    }
    if off_ptr != 0 {
        if wide {
            k.copy_to_user(off_ptr, &off.to_le_bytes()).map_err(|_| EFAULT)?;
        } else {
            k.put_user::<u32>(off_ptr, off as u32)?;
        }
    }
    Ok(r as u32)
}

// ---------------------------------------------------------------------------------
// select

/// Reads a guest `fd_set` of `nfds` bits (whole 32-bit words), or all-clear for NULL.
fn read_fdset(k: &mut Kernel, addr: u32, nfds: usize) -> Result<Vec<u8>, Errno> {
    let bytes = nfds.div_ceil(32) * 4;
    if addr == 0 {
        return Ok(vec![0; bytes]);
    }
    let mut v = vec![0u8; bytes];
    k.copy_from_user(addr, &mut v).map_err(|_| EFAULT)?;
    Ok(v)
}

fn bit(set: &[u8], fd: usize) -> bool {
    set[fd / 8] & (1 << (fd % 8)) != 0
}

/// select over guest fd sets, done with a host poll. `timeout` None waits forever.
/// Returns the ready count and writes the three sets back.
fn do_select(
    k: &mut Kernel,
    nfds: u32,
    sets: [u32; 3],
    timeout: Option<std::time::Duration>,
    mask: Option<u64>,
) -> SysResult {
    if (nfds as i32) < 0 {
        return Err(EINVAL);
    }
    let n = (nfds as usize).min(usize::try_from(nofile(k)).unwrap_or(1024)).min(1 << 20);
    let mut ins = Vec::with_capacity(3);
    for &a in &sets {
        ins.push(read_fdset(k, a, n)?);
    }
    let mut fds = Vec::new();
    let mut pfds = Vec::new();
    for fd in 0..n {
        let (r, w, e) = (bit(&ins[0], fd), bit(&ins[1], fd), bit(&ins[2], fd));
        if !(r || w || e) {
            continue;
        }
        let host = k.task.files.host(fd as u32)?;
        let mut events = 0;
        if r {
            events |= libc::POLLIN;
        }
        if w {
            events |= libc::POLLOUT;
        }
        if e {
            events |= libc::POLLPRI;
        }
        fds.push(fd);
        pfds.push(libc::pollfd { fd: host, events, revents: 0 });
    }
    let multi = must_not_block(k);
    let ms = match timeout {
        None => -1,
        Some(d) => i32::try_from(d.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX),
    };
    // As in do_poll: ask first, then a signal (pselect6's temporary mask), then wait.
    super::signalfd::sync_current(k);
    let pending = k.deliverable(&k.task, mask.unwrap_or(k.task.sig.blocked));
    let first = if multi || mask.is_some() || pending { 0 } else { ms };
    // SAFETY: `pfds` holds `pfds.len()` pollfd structures.
    let mut n = ok_int(unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, first) })?;
    if n == 0 {
        if crate::signal::pending_under(k, mask) {
            return Err(ERESTARTNOHAND);
        }
        if !multi && first != ms {
            // SAFETY: as above.
            n = ok_int(unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) })?;
        }
    }
    if multi && n == 0 && timeout != Some(std::time::Duration::ZERO) {
        if let Some(r) = sleep_polling(k, &pfds, timeout, mask) {
            return r;
        }
    }
    let mut outs = [vec![0u8; ins[0].len()], vec![0u8; ins[0].len()], vec![0u8; ins[0].len()]];
    let mut count = 0u32;
    for (p, &fd) in pfds.iter().zip(&fds) {
        let rev = p.revents;
        let ready = [
            bit(&ins[0], fd) && rev & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0,
            bit(&ins[1], fd) && rev & (libc::POLLOUT | libc::POLLERR) != 0,
            bit(&ins[2], fd) && rev & libc::POLLPRI != 0,
        ];
        for (i, &on) in ready.iter().enumerate() {
            if on {
                outs[i][fd / 8] |= 1 << (fd % 8);
                count += 1;
            }
        }
        if rev & libc::POLLNVAL != 0 {
            return Err(EBADF);
        }
    }
    for (i, &a) in sets.iter().enumerate() {
        if a != 0 {
            k.copy_to_user(a, &outs[i]).map_err(|_| EFAULT)?;
        }
    }
    Ok(count)
}

/// _newselect(nfds, readfds, writefds, exceptfds, struct timeval *timeout)
pub fn sys_newselect(k: &mut Kernel, a: Args) -> SysResult {
    let timeout = if a[4] != 0 {
        let mut tv = Timeval::default();
        k.copy_from_user(a[4], tv.as_mut_bytes()).map_err(|_| EFAULT)?;
        // kern_select: microseconds past a second are carried into the seconds, and
        // only then is the time checked (a negative part is EINVAL).
        let sec = i64::from(tv.tv_sec) + i64::from(tv.tv_usec / 1_000_000);
        let nsec = i64::from(tv.tv_usec % 1_000_000) * 1000;
        if sec < 0 || nsec < 0 {
            return Err(EINVAL);
        }
        Some(std::time::Duration::new(sec as u64, nsec as u32))
    } else {
        None
    };
    let start = std::time::Instant::now();
    let r = do_select(k, a[0], [a[1], a[2], a[3]], timeout, None)?;
    if let Some(t) = timeout {
        // Linux writes back the time not slept.
        let left = t.saturating_sub(start.elapsed());
        let tv = Timeval { tv_sec: left.as_secs() as i32, tv_usec: left.subsec_micros() as i32 };
        let _ = k.copy_to_user(a[4], tv.as_bytes());
    }
    Ok(r)
}

/// pselect6(nfds, readfds, writefds, exceptfds, timespec *timeout, sigmask-arg) and
/// pselect6_time64 (`do_pselect`): the timeout is read first, then the argument pack
/// `{ const sigset_t *ss; size_t ss_len }` (EFAULT) and the mask it names
/// (`set_user_sigmask`: none if `ss` is NULL, EINVAL unless `ss_len` is 8, EFAULT),
/// which is in force while the call sleeps, as ppoll's.
pub fn sys_pselect6(k: &mut Kernel, a: Args, time64: bool) -> SysResult {
    let timeout = if a[4] != 0 {
        let ts = super::time::read_timespec(k, a[4], time64)?;
        Some(std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
    } else {
        None
    };
    let mask = if a[5] != 0 {
        let mut pack = [0u32; 2];
        k.copy_from_user(a[5], pack.as_mut_bytes()).map_err(|_| EFAULT)?;
        crate::signal::read_user_sigmask(k, pack[0], pack[1])?
    } else {
        None
    };
    do_select(k, a[0], [a[1], a[2], a[3]], timeout, mask)
}
