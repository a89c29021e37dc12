//! signalfd and signalfd4 (today's fs/signalfd.c): a descriptor whose reads dequeue
//! the reader's pending signals of a mask as `struct signalfd_siginfo` records.
//!
//! Design. Like every guest fd, a signalfd is backed by a host fd, here a host
//! eventfd, so that fcntl, dup, fork, close, fstat ("anon_inode") and the host's
//! poll and epoll work on it unchanged; the open file carries the shared
//! [`SignalfdCtx`] (the mask, one per open file description, as Linux's `ctx`: dup,
//! fork and a later signalfd(fd, ...) all see the same). Reading never touches the
//! eventfd: it dequeues from the *reading* task (its own queue, then its process's,
//! `dequeue_signal` order), so after fork parent and child each read their own
//! signals, a thread reads its own and its process's, and across exec the fd keeps
//! reading the same process's signals.
//!
//! Readiness is per reader too (`signalfd_poll` looks at `current`), while a host
//! eventfd has one state. The guest kernel sets that state for the task about to
//! look at it: readable exactly when a signal of the mask is pending for that task
//! ([`sync_current`] before poll, select and epoll_wait ask the host; [`sync_task`]
//! when the scheduler checks whether a sleeping poller can run). No signal is
//! generated while every task sleeps (only a running task, a timer or a forwarded
//! host signal does, and each makes the scheduler look again), so before the host
//! wait for all sleepers every signalfd is made unreadable ([`quiesce`]): a state
//! left by one task cannot wake another that shares the fd.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::abi::signal::SignalfdSiginfo;
use crate::abi::{FromZeros, IntoBytes};
use crate::errno::{SysResult, EAGAIN, EBADF, EFAULT, EINVAL, ERESTARTSYS};
use crate::files::{FdTable, OpenFile};
use crate::sched::{interruptible_sleep_on, WaitOn};
use crate::signal::{dequeue_from, SigInfo, SigLayout, UNBLOCKABLE};
use crate::syscall::fs::O_CLOEXEC;
use crate::syscall::signal::SIGSET_SIZE;
use crate::syscall::Args;
use crate::task::Task;
use crate::Kernel;

/// SFD_NONBLOCK (= O_NONBLOCK on i386).
const SFD_NONBLOCK: u32 = 0o4000;
/// SFD_CLOEXEC (= O_CLOEXEC).
const SFD_CLOEXEC: u32 = O_CLOEXEC;

/// Open signalfd descriptions; while there are none, the poll paths skip the sync.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// One signalfd open file description (`struct signalfd_ctx`): the signals it reads.
#[derive(Debug)]
pub struct SignalfdCtx {
    mask: AtomicU64,
}

impl SignalfdCtx {
    fn new(mask: u64) -> Arc<Self> {
        LIVE.fetch_add(1, Ordering::Relaxed);
        Arc::new(Self { mask: AtomicU64::new(mask) })
    }

    /// The signals the descriptor reads (never SIGKILL or SIGSTOP).
    pub fn mask(&self) -> u64 {
        self.mask.load(Ordering::Relaxed)
    }
}

impl Drop for SignalfdCtx {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// signalfd(ufd, sigset_t *mask, sizemask): signalfd4 with no flags.
pub fn sys_signalfd(k: &mut Kernel, a: Args) -> SysResult {
    do_signalfd4(k, a[0] as i32, a[1], a[2], 0)
}

/// signalfd4(ufd, sigset_t *mask, sizemask, flags).
pub fn sys_signalfd4(k: &mut Kernel, a: Args) -> SysResult {
    do_signalfd4(k, a[0] as i32, a[1], a[2], a[3])
}

/// `do_compat_signalfd4` then `do_signalfd4`: EINVAL unless sizemask is 8, EFAULT,
/// EINVAL for a flag other than SFD_CLOEXEC and SFD_NONBLOCK; SIGKILL and SIGSTOP
/// are taken out of the mask. `ufd` -1 creates a signalfd; another fd must be one
/// (EBADF if it is not open, EINVAL if it is not a signalfd), whose mask is replaced
/// for every holder of its open file description.
fn do_signalfd4(k: &mut Kernel, ufd: i32, umask: u32, sizemask: u32, flags: u32) -> SysResult {
    if sizemask != SIGSET_SIZE {
        return Err(EINVAL);
    }
    let mut b = [0u8; 8];
    k.copy_from_user(umask, &mut b).map_err(|_| EFAULT)?;
    if flags & !(SFD_CLOEXEC | SFD_NONBLOCK) != 0 {
        return Err(EINVAL);
    }
    let mask = u64::from_le_bytes(b) & !UNBLOCKABLE;
    if ufd != -1 {
        let f = u32::try_from(ufd).ok().and_then(|fd| k.task.files.get(fd)).ok_or(EBADF)?;
        let ctx = f.signalfd.as_ref().ok_or(EINVAL)?;
        ctx.mask.store(mask, Ordering::Relaxed);
        return Ok(ufd as u32);
    }
    // The host eventfd only carries readiness; O_NONBLOCK on it is the file's status
    // flag (F_GETFL, F_SETFL), which reads consult.
    let hflags = libc::EFD_CLOEXEC | if flags & SFD_NONBLOCK != 0 { libc::EFD_NONBLOCK } else { 0 };
    // SAFETY: eventfd has no pointer arguments.
    let h = unsafe { libc::eventfd(0, hflags) };
    if h < 0 {
        return Err(crate::errno::host_errno());
    }
    let f = OpenFile {
        cloexec: flags & SFD_CLOEXEC != 0,
        signalfd: Some(SignalfdCtx::new(mask)),
        ..OpenFile::new(h)
    };
    crate::syscall::fs::install_new(k, 0, f)
}

/// `signalfd_copyinfo`: the record for one dequeued signal, by its layout; pointers
/// and clock values are widened as the x86-64 kernel that runs i386 code natively
/// widens them (zero-extended).
fn copyinfo(info: &SigInfo) -> SignalfdSiginfo {
    let mut s = SignalfdSiginfo::new_zeroed();
    s.ssi_signo = info.signo as u32;
    s.ssi_errno = info.errno;
    s.ssi_code = info.code;
    match crate::signal::siginfo_layout(info.signo, info.code) {
        SigLayout::Kill => {
            s.ssi_pid = info.addr;
            s.ssi_uid = info.uid;
        }
        SigLayout::Timer => {
            s.ssi_tid = info.addr;
            s.ssi_overrun = info.uid;
            s.ssi_ptr = u64::from(info.status as u32);
            s.ssi_int = info.status;
        }
        SigLayout::Poll => {
            s.ssi_band = info.addr;
            s.ssi_fd = info.uid as i32;
        }
        SigLayout::Fault | SigLayout::FaultBnderr | SigLayout::FaultPkuerr | SigLayout::FaultPerf => {
            s.ssi_addr = u64::from(info.addr);
        }
        SigLayout::FaultMceerr => {
            s.ssi_addr = u64::from(info.addr);
            s.ssi_addr_lsb = info.uid as u16;
        }
        SigLayout::Chld => {
            s.ssi_pid = info.addr;
            s.ssi_uid = info.uid;
            s.ssi_status = info.status;
            s.ssi_utime = u64::from(info.extra[0]);
            s.ssi_stime = u64::from(info.extra[1]);
        }
        SigLayout::Rt => {
            s.ssi_pid = info.addr;
            s.ssi_uid = info.uid;
            s.ssi_ptr = u64::from(info.status as u32);
            s.ssi_int = info.status;
        }
        SigLayout::Sys => {
            s.ssi_call_addr = u64::from(info.addr);
            s.ssi_syscall = info.uid as i32;
            s.ssi_arch = info.status as u32;
        }
    }
    s
}

/// `signalfd_read_iter` for a read of `total` bytes: EINVAL below one record; then
/// one record per pending signal of the mask while they fit, each dequeued and
/// copied in turn (`copy(offset, bytes)`, false on a fault: the signal is lost, and
/// the call returns the records before it, or EFAULT). With nothing pending:
/// EAGAIN for O_NONBLOCK, else `-ERESTARTSYS` if another signal is pending, else a
/// sleep until a signal of the mask (or one the task does not block) arrives.
pub fn read(
    k: &mut Kernel,
    fd: u32,
    total: usize,
    mut copy: impl FnMut(&mut Kernel, usize, &[u8]) -> bool,
) -> SysResult {
    let Some(f) = k.task.files.get(fd) else { return Err(EBADF) };
    let (Some(ctx), host) = (f.signalfd.clone(), f.host_fd) else { return Err(EINVAL) };
    let count = total / size_of_record();
    if count == 0 {
        return Err(EINVAL);
    }
    let mut done = 0usize;
    while done < count {
        let Some(info) = dequeue_from(k, ctx.mask()) else { break };
        log::debug!(target: "kernel::signal", "signalfd {fd}: {} read", crate::signal::signal_name(info.signo));
        if !copy(k, done * size_of_record(), copyinfo(&info).as_bytes()) {
            return if done == 0 { Err(EFAULT) } else { Ok((done * size_of_record()) as u32) };
        }
        done += 1;
    }
    if done > 0 {
        return Ok((done * size_of_record()) as u32);
    }
    // SAFETY: F_GETFL has no pointer arguments.
    let fl = unsafe { libc::fcntl(host, libc::F_GETFL) };
    if fl >= 0 && fl & libc::O_NONBLOCK != 0 {
        return Err(EAGAIN);
    }
    if k.signal_pending() {
        return Err(ERESTARTSYS);
    }
    // Woken by a signal of the mask even though the task blocks it.
    let mask = k.task.sig.blocked & !ctx.mask();
    interruptible_sleep_on(k, WaitOn::Signal { mask, deadline: None });
    Err(ERESTARTSYS)
}

fn size_of_record() -> usize {
    core::mem::size_of::<SignalfdSiginfo>()
}

/// Whether guest fd `fd` of the current task is a signalfd.
pub fn is_signalfd(k: &Kernel, fd: u32) -> bool {
    k.task.files.get(fd).is_some_and(|f| f.signalfd.is_some())
}

/// Makes a host eventfd readable (`ready`) or not.
fn set_ready(host: i32, ready: bool) {
    if crate::sched::host_ready(host, libc::POLLIN) == ready {
        return;
    }
    let mut v = 1u64;
    // SAFETY: `v` is 8 writable bytes; the eventfd's counter is 0 before a write and
    // non-zero before a read, so neither blocks.
    unsafe {
        if ready {
            libc::write(host, (&raw const v).cast(), 8);
        } else {
            libc::read(host, (&raw mut v).cast(), 8);
        }
    }
}

/// Sets every signalfd of `files` for a task whose pending signals are `pending`.
fn sync_table(files: &FdTable, pending: Option<u64>) {
    for f in files.fds.iter().flatten() {
        if let Some(ctx) = &f.signalfd {
            set_ready(f.host_fd, pending.is_some_and(|p| p & ctx.mask() != 0));
        }
    }
}

/// Before the current task's poll, select or epoll_wait asks the host: its
/// signalfds are readable exactly when a signal of their mask is pending for it.
pub fn sync_current(k: &Kernel) {
    if LIVE.load(Ordering::Relaxed) != 0 {
        sync_table(&k.task.files, Some(k.pending_mask()));
    }
}

/// [`sync_current`] for task `t`, current or not (the scheduler, before it asks the
/// host whether a sleeping poller's descriptors are ready).
pub fn sync_task(k: &Kernel, t: &Task) {
    if LIVE.load(Ordering::Relaxed) != 0 {
        if let Some(files) = k.files_of(t) {
            sync_table(files, Some(k.pending_mask_of(t)));
        }
    }
}

/// Before the host wait of a machine whose tasks all sleep: no signalfd is readable
/// (see the module doc).
pub fn quiesce(k: &Kernel) {
    if LIVE.load(Ordering::Relaxed) != 0 {
        for t in k.all_tasks() {
            if let Some(files) = k.files_of(t) {
                sync_table(files, None);
            }
        }
    }
}
