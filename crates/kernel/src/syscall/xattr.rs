//! Extended attributes: setxattr, getxattr, listxattr, removexattr and their `l`
//! (no final symlink followed) and `f` (open descriptor) forms, on the host file
//! behind the guest's path or fd. `ls -l` asks for `security.selinux` and the POSIX
//! ACLs of every file it lists; `cp -a` and `tar` copy them.
//!
//! The checks follow today's `fs/xattr.c` (`path_setxattrat`, `path_getxattrat`,
//! `path_listxattrat`, `path_removexattrat`, which the old calls are wrappers of):
//! the attribute name is imported first (`import_xattr_name`: EFAULT, ERANGE for an
//! empty name or one of more than `XATTR_NAME_MAX` bytes), for a set also the flags
//! (EINVAL) and the value (E2BIG over `XATTR_SIZE_MAX`, EFAULT), and only then the
//! path is looked up or the fd checked (EBADF); listxattr has no name. The host
//! kernel then decides the rest (ENODATA, EEXIST, ERANGE for a short buffer,
//! EPERM for a user attribute on a symlink, EOPNOTSUPP), as it does natively.

use std::ffi::CString;

use crate::errno::{host_errno, Errno, SysResult, E2BIG, EFAULT, EINVAL, ENAMETOOLONG, ERANGE};
use crate::syscall::fs::{host_at_how, read_path, AT_FDCWD};
use crate::syscall::Args;
use crate::Kernel;

/// `XATTR_NAME_MAX`, `XATTR_SIZE_MAX`, `XATTR_LIST_MAX` (include/uapi/linux/limits.h).
const XATTR_NAME_MAX: usize = 255;
const XATTR_SIZE_MAX: u32 = 65536;
const XATTR_LIST_MAX: u32 = 65536;
/// setxattr's flags (include/uapi/linux/xattr.h).
const XATTR_CREATE: u32 = 1;
const XATTR_REPLACE: u32 = 2;

/// The file an xattr call acts on, found after its name (and value) were imported.
enum Target {
    /// A host path, the final symlink followed or not.
    Path(CString, bool),
    /// A host descriptor.
    Fd(i32),
}

/// `import_xattr_name`: `strncpy_from_user` into a buffer of `XATTR_NAME_MAX + 1`
/// bytes; an empty name or one that fills the buffer is ERANGE.
fn import_name(k: &mut Kernel, addr: u32) -> Result<CString, Errno> {
    match k.strncpy_from_user(addr, XATTR_NAME_MAX) {
        Ok(n) if n.is_empty() => Err(ERANGE),
        Ok(n) => CString::new(n).map_err(|_| ERANGE),
        Err(ENAMETOOLONG) => Err(ERANGE),
        Err(e) => Err(e),
    }
}

/// The path argument (`getname` then the lookup: EFAULT, ENAMETOOLONG, the walk's
/// errors), resolved as the guest's other path calls are (`--sysroot`, `/proc`).
fn path_target(k: &mut Kernel, addr: u32, follow: bool) -> Result<Target, Errno> {
    let p = read_path(k, addr)?;
    let (dfd, p) = host_at_how(k, AT_FDCWD as u32, p, follow, true)?;
    // A guest path relative to AT_FDCWD stays relative to the host's working
    // directory, which is the task's.
    debug_assert_eq!(dfd, AT_FDCWD);
    Ok(Target::Path(p, follow))
}

/// The fd argument (`fdget`: EBADF). `None`: a guest /proc file or directory, which
/// the guest kernel serves from a memfd or an empty directory; procfs has no xattr
/// handlers (no `IOP_XATTR`), so get/set/remove are EOPNOTSUPP and the list is
/// empty, as natively for root (write permission is not checked first).
fn fd_target(k: &Kernel, fd: u32) -> Result<Option<Target>, Errno> {
    let f = k.task.files.get(fd).ok_or(libc::EBADF)?;
    if f.synthetic || f.proc_dir.is_some() {
        return Ok(None);
    }
    Ok(Some(Target::Fd(f.host_fd)))
}

fn ok_ssize(r: libc::ssize_t) -> Result<u32, Errno> {
    if r < 0 {
        Err(host_errno())
    } else {
        Ok(r as u32)
    }
}

fn do_setxattr(
    k: &mut Kernel,
    target: impl FnOnce(&mut Kernel) -> Result<Option<Target>, Errno>,
    a: Args,
) -> SysResult {
    let (name, value, size, flags) = (a[1], a[2], a[3], a[4]);
    if flags & !(XATTR_CREATE | XATTR_REPLACE) != 0 {
        return Err(EINVAL);
    }
    let name = import_name(k, name)?;
    let mut v = Vec::new();
    if size != 0 {
        if size > XATTR_SIZE_MAX {
            return Err(E2BIG);
        }
        v.resize(size as usize, 0);
        k.copy_from_user(value, &mut v).map_err(|_| EFAULT)?;
    }
    let Some(t) = target(k)? else { return Err(libc::EOPNOTSUPP) };
    let (n, vp, len, fl) = (name.as_ptr(), v.as_ptr().cast(), v.len(), flags as libc::c_int);
    // SAFETY: `name` and the path are NUL-terminated; `v` has `len` readable bytes.
    let r = unsafe {
        match &t {
            Target::Path(p, true) => libc::setxattr(p.as_ptr(), n, vp, len, fl),
            Target::Path(p, false) => libc::lsetxattr(p.as_ptr(), n, vp, len, fl),
            Target::Fd(fd) => libc::fsetxattr(*fd, n, vp, len, fl),
        }
    };
    ok_ssize(r as libc::ssize_t)
}

fn do_getxattr(
    k: &mut Kernel,
    target: impl FnOnce(&mut Kernel) -> Result<Option<Target>, Errno>,
    a: Args,
) -> SysResult {
    let (name, value, size) = (a[1], a[2], a[3]);
    let name = import_name(k, name)?;
    let Some(t) = target(k)? else { return Err(libc::EOPNOTSUPP) };
    // `do_getxattr`: a larger buffer is cut to XATTR_SIZE_MAX (a value that does
    // not fit then is E2BIG, which the host says too).
    let mut v = vec![0u8; size.min(XATTR_SIZE_MAX) as usize];
    let (n, vp, len) = (name.as_ptr(), v.as_mut_ptr().cast(), v.len());
    // SAFETY: `name` and the path are NUL-terminated; `v` has `len` writable bytes.
    let r = unsafe {
        match &t {
            Target::Path(p, true) => libc::getxattr(p.as_ptr(), n, vp, len),
            Target::Path(p, false) => libc::lgetxattr(p.as_ptr(), n, vp, len),
            Target::Fd(fd) => libc::fgetxattr(*fd, n, vp, len),
        }
    };
    let got = ok_ssize(r)?;
    if size != 0 && got > 0 {
        k.copy_to_user(value, &v[..got as usize]).map_err(|_| EFAULT)?;
    }
    Ok(got)
}

fn do_listxattr(k: &mut Kernel, target: Option<Target>, list: u32, size: u32) -> SysResult {
    let Some(t) = target else { return Ok(0) };
    let mut v = vec![0u8; size.min(XATTR_LIST_MAX) as usize];
    let (vp, len) = (v.as_mut_ptr().cast(), v.len());
    // SAFETY: the path is NUL-terminated; `v` has `len` writable bytes.
    let r = unsafe {
        match &t {
            Target::Path(p, true) => libc::listxattr(p.as_ptr(), vp, len),
            Target::Path(p, false) => libc::llistxattr(p.as_ptr(), vp, len),
            Target::Fd(fd) => libc::flistxattr(*fd, vp, len),
        }
    };
    let got = ok_ssize(r)?;
    if size != 0 && got > 0 {
        k.copy_to_user(list, &v[..got as usize]).map_err(|_| EFAULT)?;
    }
    Ok(got)
}

fn do_removexattr(
    k: &mut Kernel,
    target: impl FnOnce(&mut Kernel) -> Result<Option<Target>, Errno>,
    name: u32,
) -> SysResult {
    let name = import_name(k, name)?;
    let Some(t) = target(k)? else { return Err(libc::EOPNOTSUPP) };
    // SAFETY: `name` and the path are NUL-terminated.
    let r = unsafe {
        match &t {
            Target::Path(p, true) => libc::removexattr(p.as_ptr(), name.as_ptr()),
            Target::Path(p, false) => libc::lremovexattr(p.as_ptr(), name.as_ptr()),
            Target::Fd(fd) => libc::fremovexattr(*fd, name.as_ptr()),
        }
    };
    ok_ssize(r as libc::ssize_t)
}

/// setxattr(path, name, value, size, flags).
pub fn sys_setxattr(k: &mut Kernel, a: Args) -> SysResult {
    do_setxattr(k, |k| path_target(k, a[0], true).map(Some), a)
}

pub fn sys_lsetxattr(k: &mut Kernel, a: Args) -> SysResult {
    do_setxattr(k, |k| path_target(k, a[0], false).map(Some), a)
}

pub fn sys_fsetxattr(k: &mut Kernel, a: Args) -> SysResult {
    do_setxattr(k, |k| fd_target(k, a[0]), a)
}

/// getxattr(path, name, value, size): the value's length.
pub fn sys_getxattr(k: &mut Kernel, a: Args) -> SysResult {
    do_getxattr(k, |k| path_target(k, a[0], true).map(Some), a)
}

pub fn sys_lgetxattr(k: &mut Kernel, a: Args) -> SysResult {
    do_getxattr(k, |k| path_target(k, a[0], false).map(Some), a)
}

pub fn sys_fgetxattr(k: &mut Kernel, a: Args) -> SysResult {
    do_getxattr(k, |k| fd_target(k, a[0]), a)
}

/// listxattr(path, list, size): the NUL-separated names' total length.
pub fn sys_listxattr(k: &mut Kernel, a: Args) -> SysResult {
    let t = path_target(k, a[0], true)?;
    do_listxattr(k, Some(t), a[1], a[2])
}

pub fn sys_llistxattr(k: &mut Kernel, a: Args) -> SysResult {
    let t = path_target(k, a[0], false)?;
    do_listxattr(k, Some(t), a[1], a[2])
}

pub fn sys_flistxattr(k: &mut Kernel, a: Args) -> SysResult {
    let t = fd_target(k, a[0])?;
    do_listxattr(k, t, a[1], a[2])
}

/// removexattr(path, name).
pub fn sys_removexattr(k: &mut Kernel, a: Args) -> SysResult {
    do_removexattr(k, |k| path_target(k, a[0], true).map(Some), a[1])
}

pub fn sys_lremovexattr(k: &mut Kernel, a: Args) -> SysResult {
    do_removexattr(k, |k| path_target(k, a[0], false).map(Some), a[1])
}

pub fn sys_fremovexattr(k: &mut Kernel, a: Args) -> SysResult {
    do_removexattr(k, |k| fd_target(k, a[0]), a[1])
}
