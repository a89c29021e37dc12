//! Error numbers of the Linux i386 ABI (the same as every mainstream Linux arch, so
//! the host's `libc` constants are used).

pub type Errno = i32;

pub use libc::{
    E2BIG, EACCES, EAGAIN, EBADF, EEXIST, EFAULT, EINTR, EINVAL, EISDIR, ELOOP, EMFILE, ENAMETOOLONG, ENODEV,
    ENOENT, ENOEXEC, ENOMEM, ENOSPC, ENOSYS, ENOTDIR, ENOTTY, EOVERFLOW, EPERM, ERANGE, ESPIPE, ESRCH,
};

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
