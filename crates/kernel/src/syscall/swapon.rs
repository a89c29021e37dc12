//! swapon(2) and swapoff(2) (2.4's `sys_swapon`/`sys_swapoff` in `mm/swapfile.c`,
//! with today's argument checks and their order).
//!
//! growsdown keeps ONE swap area (type 0): the boot-time one (`--swap`,
//! `--swap-file`) or one a guest swapon'd. A swapon that passes every check today's
//! kernel makes while another area is in use fails with EPERM, the errno of
//! `alloc_swap_info` when `MAX_SWAPFILES` areas are in use; today's kernel makes
//! that check before the path lookup, growsdown after it, so that swapon of the
//! area in use is EBUSY as it is on Linux (where slots are free).

use std::ffi::CStr;
use std::fs::File;
use std::os::fd::FromRawFd;
use std::os::unix::fs::MetadataExt;

use crate::cred::CAP_SYS_ADMIN;
use crate::errno::{Errno, SysResult, EINVAL, EPERM};
use crate::mm::swap::{self, SwapInfo};
use crate::Kernel;

use super::Args;

/// `include/linux/swap.h`: `SWAP_FLAG_PREFER | SWAP_FLAG_PRIO_MASK |
/// SWAP_FLAG_DISCARD | SWAP_FLAG_DISCARD_ONCE | SWAP_FLAG_DISCARD_PAGES`
/// (`SWAP_FLAGS_VALID`). Priorities and discard change nothing with one area.
const SWAP_FLAGS_VALID: u32 = 0x7fff | 0x8000 | 0x10000 | 0x20000 | 0x40000;

/// Opens the guest path as `file_open_name(name, O_RDWR | O_LARGEFILE)` does: the
/// lookup's errors (EFAULT, ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG, EACCES, EISDIR)
/// are the host's for the same path. Returns the file and the name `/proc/swaps`
/// shows (`d_path`: absolute).
fn open_swap_path(k: &mut Kernel, addr: u32) -> Result<(File, String), Errno> {
    let guest = super::fs::read_path(k, addr)?;
    let (dfd, host) = super::fs::path_at(k, libc::AT_FDCWD as u32, addr)?;
    let fd = open_rdwr(dfd, &host)?;
    // SAFETY: `fd` was just opened and is owned by nobody else.
    let file = unsafe { File::from_raw_fd(fd) };
    let name = String::from_utf8_lossy(&guest).into_owned();
    let shown = if name.starts_with('/') {
        name
    } else {
        k.sync_cwd();
        let cwd = std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default();
        format!("{}/{}", cwd.trim_end_matches('/'), name)
    };
    Ok((file, shown))
}

fn open_rdwr(dfd: i32, p: &CStr) -> Result<i32, Errno> {
    // SAFETY: `p` is NUL-terminated; no other pointer.
    let fd = unsafe { libc::openat(dfd, p.as_ptr(), libc::O_RDWR | libc::O_LARGEFILE | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO));
    }
    Ok(fd)
}

fn dev_ino(f: &File) -> Result<(u64, u64), Errno> {
    let md = f.metadata().map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
    Ok((md.dev(), md.ino()))
}

/// swapon(path, flags) (87). Today's order (`SYSCALL_DEFINE2(swapon)`): flags not
/// in `SWAP_FLAGS_VALID` → EINVAL; no CAP_SYS_ADMIN → EPERM; `getname` and
/// `file_open_name` → the lookup's errno; `claim_swapfile`: already a swap area
/// (`IS_SWAPFILE`) → EBUSY; then the header (see [`SwapInfo::from_guest_file`]) →
/// EINVAL. Last, growsdown's one-area limit → EPERM (see the module doc).
pub fn sys_swapon(k: &mut Kernel, a: Args) -> SysResult {
    if a[1] & !SWAP_FLAGS_VALID != 0 {
        return Err(EINVAL);
    }
    if !k.task.cred.capable(CAP_SYS_ADMIN) {
        return Err(EPERM);
    }
    let (file, shown) = open_swap_path(k, a[0])?;
    if k.swap.info.as_ref().is_some_and(|si| Ok(si.dev_ino) == dev_ino(&file)) {
        return Err(libc::EBUSY);
    }
    let si = SwapInfo::from_guest_file(file, shown)?;
    if k.swap.info.is_some() {
        return Err(EPERM);
    }
    log::info!(target: "kernel::mm", "swapon {}: {} pages", si.path, si.pages);
    k.swap.info = Some(si);
    // Reclaim scans the active and inactive lists from now on; a boot-time area
    // started them already.
    let boot_area = k.config.swap_bytes != 0 || k.config.swap_file.is_some();
    if !boot_area && !k.swap.lru_started {
        k.frames.enable_lru();
        k.swap.lru_started = true;
    }
    Ok(0)
}

/// swapoff(path) (115). Today's order (`SYSCALL_DEFINE1(swapoff)`): no
/// CAP_SYS_ADMIN → EPERM; the lookup's errno; a file that is not the swap area →
/// EINVAL; then `try_to_unuse` ([`swap::try_to_unuse`]), ENOMEM when the pages do
/// not fit in memory (the area stays in use, as 2.4's `sys_swapoff` re-enables it).
pub fn sys_swapoff(k: &mut Kernel, a: Args) -> SysResult {
    if !k.task.cred.capable(CAP_SYS_ADMIN) {
        return Err(EPERM);
    }
    let (file, _) = open_swap_path(k, a[0])?;
    let id = dev_ino(&file)?;
    match k.swap.info.as_mut() {
        Some(si) if si.dev_ino == id => si.writeok = false,
        _ => return Err(EINVAL),
    }
    let before = crate::trace::unuse_before(k);
    let unused = swap::try_to_unuse(k);
    crate::trace::unuse_observed(k, before, unused);
    if let Err(e) = unused {
        if let Some(si) = k.swap.info.as_mut() {
            si.writeok = true;
        }
        return Err(e);
    }
    if let Some(si) = k.swap.info.take() {
        log::info!(target: "kernel::mm", "swapoff {}", si.path);
    }
    Ok(0)
}
