//! The file-descriptor table: guest fds backed by host fds (like qemu-user).
//!
//! Every guest fd owns its own host fd: `dup` on the guest is a host `dup`, so two
//! guest fds share an open file description (offset, status flags) exactly when the
//! guest asked for that, and FD_CLOEXEC is per guest fd. The three stdio fds the
//! emulator inherits are *borrowed*: closing them in the guest removes the guest fd
//! but leaves the emulator's own stdin/stdout/stderr open (its log goes to stderr, and
//! a later host `open` must not land on fd 2).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::errno::{Errno, EBADF, EMFILE};

/// Directory offsets handed to the guest for host `d_off` values that do not fit a
/// 32-bit `off_t` start here (see [`OpenFile::dir_cookie`]).
pub const DIR_COOKIE_BASE: i64 = 1 << 30;
/// At most this many cookies per directory fd; beyond it the raw value is passed on.
const MAX_DIR_COOKIES: usize = 1 << 20;

/// The identity of an open file description. Fork duplicates host fds, and a host
/// `dup` shares the host description, but the guest kernel cannot ask the host which
/// fds share one: the guest fds that do (open, then dup or fork) hold the same
/// `Arc<Desc>`, whose count is the number of guest fds naming it. OFD and flock locks
/// are owned by it ([`crate::locks`]).
#[derive(Debug)]
pub struct Desc(pub u64);

impl Desc {
    fn new_arc() -> Arc<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Arc::new(Self(NEXT.fetch_add(1, Ordering::Relaxed)))
    }
}

#[derive(Clone, Debug)]
pub struct OpenFile {
    pub host_fd: i32,
    pub cloexec: bool,
    /// Closing the guest fd closes the host fd (false for the inherited stdio).
    pub owned: bool,
    /// The guest opened it with O_LARGEFILE (reported back by F_GETFL).
    pub largefile: bool,
    /// Synthetic content (e.g. /proc/self/maps) in an anonymous host file.
    pub synthetic: bool,
    /// A guest process's /proc directory, opened on an empty, removed host directory:
    /// its listing comes from the guest kernel, and paths relative to it are walked
    /// from it (see [`crate::procfs`]).
    pub proc_dir: Option<crate::procfs::ProcDir>,
    /// Host directory offsets too large for a 32-bit guest `off_t`, indexed by
    /// `cookie - DIR_COOKIE_BASE`. A native i386 process on a 64-bit kernel gets
    /// 32-bit directory hashes from ext4; the emulator, a 64-bit process, gets 63-bit
    /// ones, which 32-bit glibc's `readdir` rejects with EOVERFLOW.
    pub dir_cookies: Vec<i64>,
    /// Bytes the host already handed over for a non-seekable file (pipe, tty) that
    /// the guest did not receive because its buffer faulted. A native kernel leaves
    /// them in the pipe; the next read of this fd returns them first.
    pub pushback: Vec<u8>,
    /// The open file description (shared by dup and fork).
    pub desc: Arc<Desc>,
    /// A signalfd: its mask, shared by the fds of its open file description (see
    /// [`crate::syscall::signalfd`]); the host fd is an eventfd.
    pub signalfd: Option<Arc<crate::syscall::signalfd::SignalfdCtx>>,
}

impl OpenFile {
    pub fn new(host_fd: i32) -> Self {
        Self {
            host_fd,
            cloexec: false,
            owned: true,
            largefile: false,
            synthetic: false,
            proc_dir: None,
            dir_cookies: Vec::new(),
            pushback: Vec::new(),
            desc: Desc::new_arc(),
            signalfd: None,
        }
    }

    /// The `d_off` to give the guest for a host directory offset.
    pub fn dir_cookie(&mut self, host_off: i64) -> i64 {
        if (0..DIR_COOKIE_BASE).contains(&host_off) {
            return host_off;
        }
        if let Some(i) = self.dir_cookies.iter().position(|&o| o == host_off) {
            return DIR_COOKIE_BASE + i as i64;
        }
        if self.dir_cookies.len() >= MAX_DIR_COOKIES {
            return host_off;
        }
        self.dir_cookies.push(host_off);
        DIR_COOKIE_BASE + (self.dir_cookies.len() - 1) as i64
    }

    /// The host offset for a guest directory offset (the inverse of `dir_cookie`).
    pub fn dir_host_offset(&self, guest_off: i64) -> i64 {
        if guest_off >= DIR_COOKIE_BASE {
            if let Some(&o) =
                usize::try_from(guest_off - DIR_COOKIE_BASE).ok().and_then(|i| self.dir_cookies.get(i))
            {
                return o;
            }
        }
        guest_off
    }

    /// Closes the host fd if this guest fd owns it.
    pub fn close_host(&self) {
        if self.owned {
            // SAFETY: closing a file descriptor has no memory-safety preconditions.
            unsafe { libc::close(self.host_fd) };
        }
    }
}

#[derive(Debug, Default)]
pub struct FdTable {
    pub fds: Vec<Option<OpenFile>>,
}

/// A copy of the table as fork makes it: every owned host fd is duplicated, so the
/// copy shares the open file descriptions (offsets, status flags) and can close its
/// fds independently.
impl Clone for FdTable {
    fn clone(&self) -> Self {
        let fds = self
            .fds
            .iter()
            .map(|f| {
                let f = f.as_ref()?;
                if !f.owned {
                    return Some(f.clone());
                }
                // SAFETY: F_DUPFD_CLOEXEC has no pointer arguments.
                let h = unsafe { libc::fcntl(f.host_fd, libc::F_DUPFD_CLOEXEC, 3) };
                (h >= 0).then(|| OpenFile { host_fd: h, ..f.clone() })
            })
            .collect();
        Self { fds }
    }
}

/// The task's files are closed with it.
impl Drop for FdTable {
    fn drop(&mut self) {
        for f in self.fds.iter().flatten() {
            f.close_host();
        }
    }
}

impl FdTable {
    /// fds 0, 1, 2 are the emulator's own stdin, stdout, stderr. They were opened by
    /// a 64-bit parent, so F_GETFL shows O_LARGEFILE, as it would natively.
    pub fn with_stdio() -> Self {
        Self {
            fds: (0..3)
                .map(|fd| Some(OpenFile { owned: false, largefile: true, ..OpenFile::new(fd) }))
                .collect(),
        }
    }

    pub fn get(&self, fd: u32) -> Option<&OpenFile> {
        self.fds.get(fd as usize).and_then(|f| f.as_ref())
    }

    pub fn get_mut(&mut self, fd: u32) -> Option<&mut OpenFile> {
        self.fds.get_mut(fd as usize).and_then(|f| f.as_mut())
    }

    /// The host fd behind a guest fd, or EBADF.
    pub fn host(&self, fd: u32) -> Result<i32, Errno> {
        self.get(fd).map(|f| f.host_fd).ok_or(EBADF)
    }

    /// Installs `file` at the lowest free guest fd >= `min` below `limit`
    /// (RLIMIT_NOFILE). On EMFILE the caller still owns `file`'s host fd.
    pub fn alloc(&mut self, min: u32, file: OpenFile, limit: u64) -> Result<u32, Errno> {
        let limit = usize::try_from(limit.min(1 << 20)).unwrap_or(1 << 20);
        let mut fd = min as usize;
        while fd < self.fds.len() && self.fds[fd].is_some() {
            fd += 1;
        }
        if fd >= limit {
            return Err(EMFILE);
        }
        if fd >= self.fds.len() {
            self.fds.resize(fd + 1, None);
        }
        self.fds[fd] = Some(file);
        Ok(fd as u32)
    }

    /// Puts `file` at exactly `fd`, returning what was there (the caller closes it).
    pub fn install(&mut self, fd: u32, file: OpenFile) -> Option<OpenFile> {
        let i = fd as usize;
        if i >= self.fds.len() {
            self.fds.resize(i + 1, None);
        }
        self.fds[i].replace(file)
    }

    /// Removes a guest fd from the table without closing its host fd.
    pub fn remove(&mut self, fd: u32) -> Option<OpenFile> {
        let f = self.fds.get_mut(fd as usize)?.take();
        while matches!(self.fds.last(), Some(None)) && self.fds.len() > 3 {
            self.fds.pop();
        }
        f
    }

    /// `close`: removes the guest fd and closes its host fd.
    pub fn close(&mut self, fd: u32) -> Result<(), Errno> {
        let f = self.remove(fd).ok_or(EBADF)?;
        f.close_host();
        Ok(())
    }

    /// close_range's work: closes (or with `cloexec`, marks close-on-exec) every open
    /// guest fd from `first` to `last`.
    pub fn close_range(&mut self, first: u32, last: u32, cloexec: bool) {
        let end = (last as usize).min(self.fds.len().saturating_sub(1));
        for fd in first as usize..=end {
            if cloexec {
                if let Some(f) = self.fds[fd].as_mut() {
                    f.cloexec = true;
                }
            } else if self.fds.get(fd).is_some_and(Option::is_some) {
                let _ = self.close(fd as u32);
            }
        }
    }

    /// `flush_old_files` at exec: closes every guest fd marked close-on-exec.
    pub fn close_on_exec(&mut self) {
        let fds: Vec<u32> = self
            .fds
            .iter()
            .enumerate()
            .filter(|(_, f)| f.as_ref().is_some_and(|f| f.cloexec))
            .map(|(i, _)| i as u32)
            .collect();
        for fd in fds {
            let _ = self.close(fd);
        }
    }

    /// Number of open guest fds.
    pub fn count(&self) -> usize {
        self.fds.iter().filter(|f| f.is_some()).count()
    }
}
