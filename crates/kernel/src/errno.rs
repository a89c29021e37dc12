//! Error numbers of the Linux i386 ABI (the same as every mainstream Linux arch, so
//! the host's `libc` constants are used).

pub type Errno = i32;

// The whole table, though the kernel itself does not return every one of them.
#[allow(unused_imports)]
pub use libc::{
    E2BIG, EACCES, EAGAIN, EBADF, ECHILD, EEXIST, EFAULT, EINTR, EINVAL, EIO, EISDIR, ELOOP, EMFILE,
    EDEADLK, ENAMETOOLONG, ENODEV, ENOENT, ENOEXEC, ENOMEM, ENOSPC, ENOSYS, ENOTDIR, ENOTTY, EOVERFLOW, EPERM, ERANGE,
    ESPIPE, ESRCH,
};

/// Kernel-internal "restart me" results (2.4's `include/linux/errno.h`). A system
/// call that must wait returns one of them; they never reach user mode:
/// [`crate::signal::do_signal`] turns them into a restart of the call (EIP back over
/// `int 0x80`, EAX = the call number) or, when a signal handler runs, into -EINTR.
///
/// * `ERESTARTSYS`: restarted after a handler only with SA_RESTART (read, write,
///   wait4);
/// * `ERESTARTNOINTR`: always restarted;
/// * `ERESTARTNOHAND`: restarted only if no handler runs (pause, sigsuspend, poll,
///   select, nanosleep).
pub const ERESTARTSYS: Errno = 512;
pub const ERESTARTNOINTR: Errno = 513;
pub const ERESTARTNOHAND: Errno = 514;
/// Today's kernel's fourth code (after 2.4): nanosleep, clock_nanosleep, poll and
/// futex waits interrupted by a signal resume through `restart_syscall` with what is
/// left of them (`restart_block`). growsdown's kernel never returns it; only a
/// reference kernel does (difftest). Seen from user mode it acts as
/// `ERESTARTNOHAND`: EINTR when a handler runs, the call carried on when none does.
pub const ERESTART_RESTARTBLOCK: Errno = 516;

/// Whether `e` is one of the restart results above.
pub fn is_restart(e: Errno) -> bool {
    matches!(e, ERESTARTSYS | ERESTARTNOINTR | ERESTARTNOHAND)
}

/// A syscall's result: the value for EAX, or an errno that becomes `-errno`.
pub type SysResult = Result<u32, Errno>;

/// The value of EAX for a result (`-errno` for errors).
pub fn to_eax(r: SysResult) -> u32 {
    match r {
        Ok(v) => v,
        Err(e) => (-e) as u32,
    }
}

/// The last host errno as ours.
pub fn host_errno() -> Errno {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}
