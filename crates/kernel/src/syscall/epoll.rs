//! epoll (today's fs/eventpoll.c) on host epoll instances.
//!
//! A guest epoll fd is a host epoll instance in the guest's fd table like any other
//! host fd. epoll_ctl names the target by its host fd and passes the guest's
//! `events` and `data` through unchanged, so the host does the checks that depend on
//! the files (EPERM for a file that cannot be polled — a regular file, a directory,
//! the memfd behind a synthetic /proc file, as natively for /proc/<pid>/maps and
//! its siblings —, EINVAL when epfd is not an epoll fd or is the target, EEXIST,
//! ENOENT, ELOOP, the EPOLLEXCLUSIVE rules, EPOLLWAKEUP without
//! CAP_BLOCK_SUSPEND).
//!
//! The host never blocks while there are several guest tasks: epoll_wait takes what
//! is ready with a zero timeout and otherwise sleeps through the scheduler on the
//! host epoll fd turning readable, which is what an epoll fd with events does.
//!
//! Known differences: the host keys a registration by the *host* fd number, the
//! guest kernel by the guest's. They agree within a process (dup and dup2 give new
//! numbers on both sides), but a child of fork has other host fds behind the same
//! guest fds, so its epoll_ctl on a registration it inherited does not find it
//! (ENOENT for MOD/DEL, and ADD succeeds where Linux says EEXIST). Bytes a faulted
//! pipe read held back (`OpenFile::pushback`) do not make the fd ready for epoll as
//! they do for poll.

use std::mem::size_of;
use std::time::{Duration, Instant};

use super::fs::{install_new, ok_int, O_CLOEXEC};
use super::time::read_timespec;
use super::Args;
use crate::abi::fs::EpollEvent;
use crate::abi::{FromZeros, IntoBytes};
use crate::errno::{SysResult, EFAULT, EINVAL, ERESTARTNOHAND};
use crate::files::OpenFile;
use crate::sched::{deadline_after, host_ready, interruptible_sleep_on, WaitOn};
use crate::uaccess::access_ok;
use crate::Kernel;

/// The one op that takes no event (`ep_op_has_event`).
const EPOLL_CTL_DEL: u32 = 2;
/// `EP_MAX_EVENTS`: maxevents * sizeof(struct epoll_event) must fit an int.
const EP_MAX_EVENTS: i32 = i32::MAX / size_of::<EpollEvent>() as i32;
/// At most this many events are taken from the host per call; the rest stay ready
/// in the host instance for the next call, as they would past maxevents.
const HOST_BATCH: usize = 1024;

/// epoll_create1's work: EINVAL for any flag but EPOLL_CLOEXEC (O_CLOEXEC). The
/// host instance is close-on-exec whatever the guest asked; the guest's flag lives
/// in its fd table.
fn do_epoll_create(k: &mut Kernel, flags: u32) -> SysResult {
    if flags & !O_CLOEXEC != 0 {
        return Err(EINVAL);
    }
    // SAFETY: epoll_create1 has no pointer arguments.
    let host = ok_int(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })? as i32;
    install_new(k, 0, OpenFile { cloexec: flags & O_CLOEXEC != 0, ..OpenFile::new(host) })
}

/// epoll_create(size): the size is only checked to be positive.
pub fn sys_epoll_create(k: &mut Kernel, a: Args) -> SysResult {
    if (a[0] as i32) <= 0 {
        return Err(EINVAL);
    }
    do_epoll_create(k, 0)
}

/// epoll_create1(flags)
pub fn sys_epoll_create1(k: &mut Kernel, a: Args) -> SysResult {
    do_epoll_create(k, a[0])
}

/// epoll_ctl(epfd, op, fd, struct epoll_event *event). The event is read first for
/// every op but EPOLL_CTL_DEL, an unknown op included (EFAULT before anything
/// else, as `SYSCALL_DEFINE4(epoll_ctl)` copies it); then EBADF for epfd, then for
/// fd; the rest is the host's, in `do_epoll_ctl`'s order.
pub fn sys_epoll_ctl(k: &mut Kernel, a: Args) -> SysResult {
    let (epfd, op, fd, uevent) = (a[0], a[1], a[2], a[3]);
    let mut ev = EpollEvent::new_zeroed();
    if op != EPOLL_CTL_DEL {
        k.copy_from_user(uevent, ev.as_mut_bytes()).map_err(|_| EFAULT)?;
    }
    let host_ep = k.task.files.host(epfd)?;
    let host_fd = k.task.files.host(fd)?;
    let mut hev = libc::epoll_event { events: ev.events, u64: ev.data };
    // SAFETY: `hev` is a valid epoll_event the host reads (and never keeps).
    ok_int(unsafe { libc::epoll_ctl(host_ep, op as libc::c_int, host_fd, &mut hev) })
}

/// epoll_wait(epfd, events, maxevents, timeout_ms); a negative timeout waits for ever.
pub fn sys_epoll_wait(k: &mut Kernel, a: Args) -> SysResult {
    do_epoll_wait(k, a[0], a[1], a[2] as i32, ms_timeout(a[3]), None)
}

/// epoll_pwait(epfd, events, maxevents, timeout_ms, sigmask, sigsetsize): the mask,
/// if any, is checked (sigsetsize 8, EFAULT) before anything else, as
/// `set_user_sigmask` is.
pub fn sys_epoll_pwait(k: &mut Kernel, a: Args) -> SysResult {
    let mask = crate::signal::read_user_sigmask(k, a[4], a[5])?;
    do_epoll_wait(k, a[0], a[1], a[2] as i32, ms_timeout(a[3]), mask)
}

/// epoll_pwait2(epfd, events, maxevents, struct __kernel_timespec *timeout, sigmask,
/// sigsetsize): the timeout is a 64-bit timespec on i386 too (EFAULT, EINVAL for a
/// negative or unnormalized one; NULL waits for ever), read before the mask.
pub fn sys_epoll_pwait2(k: &mut Kernel, a: Args) -> SysResult {
    let timeout = if a[3] != 0 {
        let ts = read_timespec(k, a[3], true)?;
        Some(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
    } else {
        None
    };
    let mask = crate::signal::read_user_sigmask(k, a[4], a[5])?;
    do_epoll_wait(k, a[0], a[1], a[2] as i32, timeout, mask)
}

/// `ep_timeout_to_timespec`: a negative count of milliseconds is no timeout.
fn ms_timeout(ms: u32) -> Option<Duration> {
    u64::try_from(ms as i32).ok().map(Duration::from_millis)
}

/// `do_epoll_wait` + `ep_poll`. Ready events come first, then an elapsed timeout,
/// then a pending signal (EINTR after its handler: `ep_poll` returns -EINTR, which
/// is never restarted); only then does the task sleep. A temporary `mask` is the
/// one signals are judged by throughout; it stays installed only for a signal's
/// handler (`restore_saved_sigmask_unless(error == -EINTR)`), whose frame records
/// the task's own mask.
fn do_epoll_wait(
    k: &mut Kernel,
    epfd: u32,
    uevents: u32,
    maxevents: i32,
    timeout: Option<Duration>,
    mask: Option<u64>,
) -> SysResult {
    if maxevents <= 0 || maxevents > EP_MAX_EVENTS {
        return Err(EINVAL);
    }
    // The i386 kernel's `access_ok` on the whole array, before the fd is looked at.
    if !access_ok(uevents, maxevents as u32 * size_of::<EpollEvent>() as u32) {
        return Err(EFAULT);
    }
    let host = k.task.files.host(epfd)?;
    let mut buf = vec![libc::epoll_event { events: 0, u64: 0 }; (maxevents as usize).min(HOST_BATCH)];
    // Taking events from the host consumes them (an edge, a one-shot arming), and
    // Linux puts an event whose copy-out faults back on the ready list. So the first
    // guest slot is tried before the host is asked; a bad buffer is EFAULT only once
    // an event is ready.
    let writable = slot_writable(k, uevents);
    super::signalfd::sync_current(k);
    if writable {
        let n = host_epoll_wait(host, &mut buf, 0)?;
        if n > 0 {
            return copy_out(k, uevents, &buf[..n]);
        }
    } else {
        if !is_host_epoll(host) {
            return Err(EINVAL);
        }
        if host_ready(host, libc::POLLIN) {
            return Err(EFAULT);
        }
    }
    if timeout == Some(Duration::ZERO) {
        return Ok(0);
    }
    let multi = super::fs::must_not_block(k);
    let deadline = if multi { timeout.map(|d| deadline_after(k, d)) } else { None };
    if deadline.is_some_and(|d| Instant::now() >= d) {
        return Ok(0);
    }
    if crate::signal::pending_under(k, mask) {
        return Err(ERESTARTNOHAND);
    }
    if multi {
        let w = WaitOn::Poll { fds: vec![(host, libc::POLLIN)], deadline, sigmask: mask };
        interruptible_sleep_on(k, w);
        return Err(ERESTARTNOHAND);
    }
    // One task: nobody else could end the wait, so the host blocks, as poll does.
    let ms = timeout.map_or(-1, |d| i32::try_from(d.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX));
    if writable {
        let n = host_epoll_wait(host, &mut buf, ms)?;
        return copy_out(k, uevents, &buf[..n]);
    }
    let mut p = libc::pollfd { fd: host, events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd.
    let r = ok_int(unsafe { libc::poll(&mut p, 1, ms) })?;
    if r > 0 {
        Err(EFAULT)
    } else {
        Ok(0)
    }
}

/// A host epoll_wait into `buf`; the number of events.
fn host_epoll_wait(host: i32, buf: &mut [libc::epoll_event], ms: i32) -> Result<usize, crate::errno::Errno> {
    let n = buf.len().min(i32::MAX as usize) as libc::c_int;
    // SAFETY: `buf` holds `n` epoll_event structures the host may fill.
    ok_int(unsafe { libc::epoll_wait(host, buf.as_mut_ptr(), n, ms) }).map(|n| n as usize)
}

/// Whether the guest can take one event at `addr`: its 12 bytes are read and
/// written back unchanged (one CPU, so nobody sees them in between).
fn slot_writable(k: &mut Kernel, addr: u32) -> bool {
    let mut b = [0u8; size_of::<EpollEvent>()];
    k.copy_from_user(addr, &mut b).is_ok() && k.copy_to_user(addr, &b).is_ok()
}

/// Whether a host fd is an epoll instance (only asked when the guest's buffer is
/// bad, to give EINVAL before EFAULT as `do_epoll_wait` does). If the host cannot
/// say, the caller goes on as for an epoll fd.
fn is_host_epoll(host: i32) -> bool {
    std::fs::read_link(format!("/proc/self/fd/{host}"))
        .map_or(true, |p| p.as_os_str() == "anon_inode:[eventpoll]")
}

/// `ep_send_events`' copy-out: the events in the guest layout; a fault after some
/// events is a short count, at the first one EFAULT.
fn copy_out(k: &mut Kernel, addr: u32, evs: &[libc::epoll_event]) -> SysResult {
    let out: Vec<EpollEvent> = evs.iter().map(|e| EpollEvent { events: e.events, data: e.u64 }).collect();
    match k.copy_to_user(addr, out.as_bytes()) {
        Ok(()) => Ok(out.len() as u32),
        Err(done) if done >= size_of::<EpollEvent>() => Ok((done / size_of::<EpollEvent>()) as u32),
        Err(_) => Err(EFAULT),
    }
}
