//! `/proc` as the guest sees it: the process directories are the guest kernel's own
//! (today's `proc_pid_lookup` in a pid namespace that holds the guest's processes
//! only), never the host's.
//!
//! ## The walk
//!
//! Every path a system call takes is first walked here, one component at a time, as
//! `link_path_walk` does: from `/`, the working directory or a directory fd, through
//! `.`, `..` and symbolic links (at most 40: ELOOP), holding `O_PATH` descriptors only
//! (nothing is read or changed). When the walk stands on the root of a procfs mount,
//! the next component is looked up in the guest kernel:
//!
//! * `self` and `thread-self` are the calling guest process;
//! * a number is the guest process with that pid if it exists (zombies included, as
//!   in Linux), and ENOENT otherwise: a host process is never reached, whatever its
//!   number, by an absolute path, a relative one, `..`, or a symbolic link into /proc;
//! * any other name (`cpuinfo`, `sys`, ...) is the host's.
//!
//! A path that never enters a process directory goes to the host as the guest gave
//! it ([`Lookup::Host`]). The host resolves it again, so a symbolic link that another
//! host process swaps between the walk and the call is not seen; guest processes do
//! not run in between.
//!
//! ## A guest process's directory
//!
//! [`PidEntry`] lists what `/proc/<pid>/` (and `/proc/<pid>/task/<pid>/`) holds; any
//! other name there is ENOENT. `exe`, `fd/N` and the namespace entries (`mounts`,
//! `mountinfo`, `net/...`, which describe the host's mount and network namespaces that
//! a native process shares) are served from host objects: the program's file, the
//! guest fd's host file, the emulator's own entry. `maps` and `status` are written from
//! the guest kernel's state. The directories (`/proc/<pid>`, `fd`, `task`) list the
//! guest kernel's entries ([`dir_entries`]); an open one is a [`ProcDir`] on an inert
//! host directory, and a path relative to it is walked from it. They are never
//! entered (chdir, fchdir: EACCES), since the host's working directory would then be
//! the emulator's own. docs/architecture.md ("/proc and pids") has the whole list.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::errno::{host_errno, Errno, EACCES, ELOOP, ENOENT, ENOTDIR};
use crate::sched::TaskState;
use crate::task::Task;
use crate::Kernel;

/// `PROC_SUPER_MAGIC`.
const PROC_SUPER_MAGIC: i64 = 0x9fa0;
/// `PROC_ROOT_INO`: the inode number of a procfs mount's root.
const PROC_ROOT_INO: u64 = 1;
/// `MAXSYMLINKS` of today's namei.
const MAXSYMLINKS: u32 = 40;

/// Where a guest path leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Outside every process directory: the host resolves the path as given.
    Host,
    /// `/proc/self` or `/proc/thread-self` itself, not followed (readlink, lstat).
    SelfLink { pid: u32, thread: bool },
    /// An entry of the directory of guest process `pid`.
    Pid { pid: u32, entry: PidEntry },
}

/// What a guest process's `/proc/<pid>/` directory holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PidEntry {
    /// `/proc/<pid>`, `/proc/<pid>/task/<pid>`.
    Dir,
    /// `/proc/<pid>/task`: one thread, the process itself.
    TaskDir,
    /// `exe`: a symbolic link to the program.
    Exe,
    /// `maps`: `proc_pid_maps` of the guest's VMAs.
    Maps,
    /// `smaps`: the maps lines, each with the VMA's memory use (`show_smap`).
    Smaps,
    /// `status`: identity, state and signal masks.
    Status,
    /// `cmdline`, `environ`: the argument and environment strings in the process's
    /// memory (`mm->arg_start..arg_end`, `env_start..env_end`).
    Cmdline,
    Environ,
    /// `fd`: the directory of open descriptors.
    FdDir,
    /// `fd/N`: guest fd `fd`'s file, as the host fd behind it.
    Fd { fd: u32, host: i32 },
    /// `mounts`, `mountinfo`, `net/...`: the namespace's, the same for every process.
    Namespace(Vec<u8>),
    /// `/proc/swaps` and `/proc/meminfo` of a machine with a swap area (`--swap`):
    /// the guest kernel's swap figures (without one they are the host's files).
    /// Reached from the procfs root, not from a process directory; `pid` is the
    /// caller's.
    Swaps,
    Meminfo,
    /// `/proc/sys/vm/overcommit_memory`: the guest kernel's mode (`--overcommit-memory`,
    /// which `vm_enough_memory` follows), not the host's. Read-only here: a write is
    /// EACCES, as it is natively for a process that is not root.
    Overcommit,
}

/// Entries that describe a namespace the guest shares with the emulator, not the
/// process: served from the emulator's own `/proc/self/`.
const NAMESPACE_ENTRIES: [&[u8]; 3] = [b"mounts", b"mountinfo", b"net"];

/// Whether host directory `fd` is procfs's `sys/vm` (the same directory as the
/// emulator's `/proc/sys/vm`, however the guest reached it).
fn is_sys_vm(fd: i32) -> bool {
    let (Ok(here), Ok(vm)) = (lstat_at(fd, b"."), lstat_at(libc::AT_FDCWD, b"/proc/sys/vm")) else {
        return false;
    };
    here.st_dev == vm.st_dev && here.st_ino == vm.st_ino
}

/// `openat(dir, name, O_PATH | O_NOFOLLOW)`.
fn open_path(dir: i32, name: &[u8], follow: bool) -> Result<OwnedFd, Errno> {
    let c = CString::new(name).map_err(|_| ENOENT)?;
    let nofollow = if follow { 0 } else { libc::O_NOFOLLOW };
    // SAFETY: `c` is NUL-terminated and outlives the call.
    let fd = unsafe { libc::openat(dir, c.as_ptr(), libc::O_PATH | libc::O_CLOEXEC | nofollow) };
    if fd < 0 {
        return Err(host_errno());
    }
    // SAFETY: `fd` is a new descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn lstat_at(dir: i32, name: &[u8]) -> Result<libc::stat, Errno> {
    let c = CString::new(name).map_err(|_| ENOENT)?;
    // SAFETY: `st` is a valid out-pointer; `c` is NUL-terminated.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::fstatat(dir, c.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) < 0 {
            return Err(host_errno());
        }
        Ok(st)
    }
}

fn readlink_at(dir: i32, name: &[u8]) -> Result<Vec<u8>, Errno> {
    let c = CString::new(name).map_err(|_| ENOENT)?;
    let mut t = vec![0u8; crate::syscall::fs::PATH_MAX];
    // SAFETY: `t` has `t.len()` writable bytes; `c` is NUL-terminated.
    let n = unsafe { libc::readlinkat(dir, c.as_ptr(), t.as_mut_ptr().cast(), t.len()) };
    if n < 0 {
        return Err(host_errno());
    }
    t.truncate(n as usize);
    Ok(t)
}

/// Whether host descriptor `fd` is the root directory of a procfs mount.
pub fn is_proc_root(fd: i32) -> bool {
    // SAFETY: `st` is a valid out-pointer.
    let ino = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::fstat(fd, &mut st) < 0 {
            return false;
        }
        st.st_ino
    };
    ino == PROC_ROOT_INO && on_procfs(fd)
}

/// Whether host descriptor `fd` is on a procfs mount.
fn on_procfs(fd: i32) -> bool {
    // SAFETY: `sf` is a valid out-pointer.
    unsafe {
        let mut sf: libc::statfs = std::mem::zeroed();
        libc::fstatfs(fd, &mut sf) == 0 && sf.f_type as i64 == PROC_SUPER_MAGIC
    }
}

/// A directory-entry name under /proc that names a process (`name_to_int` accepts
/// only decimal digits).
pub fn is_pid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(u8::is_ascii_digit)
}

/// The guest process a procfs-root name stands for: `self`, `thread-self` or a pid.
/// `Ok(None)`: not a process name (the host's entry). ENOENT for a pid that is not a
/// guest's.
fn pid_of(k: &Kernel, name: &[u8]) -> Result<Option<(u32, bool)>, Errno> {
    match name {
        b"self" => return Ok(Some((k.task.tgid, false))),
        b"thread-self" => return Ok(Some((k.task.pid, true))),
        _ => {}
    }
    if !is_pid_name(name) {
        return Ok(None);
    }
    // `name_to_int` refuses a leading zero; an overflowing number is no pid either.
    let pid = std::str::from_utf8(name).ok().filter(|s| !s.starts_with('0')).and_then(|s| s.parse::<u32>().ok());
    match pid {
        Some(p) if k.find_task(p).is_some() => Ok(Some((p, false))),
        _ => Err(ENOENT),
    }
}

/// What `rest` (the components after `/proc/<pid>/`) names in guest process `pid`'s
/// directory, and which task it is about (the thread, below `task/<tid>/`); ENOENT
/// for anything it does not hold.
fn entry(k: &Kernel, pid: u32, rest: &[Vec<u8>]) -> Result<(u32, PidEntry), Errno> {
    let t = k.find_task(pid).ok_or(ENOENT)?;
    let (t, rest) = match rest {
        [task] if task == b"task" => return Ok((pid, PidEntry::TaskDir)),
        [task, tid, tail @ ..] if task == b"task" => {
            let tid = std::str::from_utf8(tid).ok().filter(|s| !s.starts_with('0')).and_then(|s| s.parse().ok());
            let thread = tid.and_then(|tid| k.find_task(tid)).filter(|th| th.tgid == t.tgid).ok_or(ENOENT)?;
            (thread, tail)
        }
        r => (t, r),
    };
    let files = k.files_of(t);
    Ok((t.pid, match rest {
        [] => PidEntry::Dir,
        [n] if n == b"exe" => PidEntry::Exe,
        [n] if n == b"maps" => PidEntry::Maps,
        [n] if n == b"smaps" => PidEntry::Smaps,
        [n] if n == b"status" => PidEntry::Status,
        [n] if n == b"cmdline" => PidEntry::Cmdline,
        [n] if n == b"environ" => PidEntry::Environ,
        [n] if n == b"fd" => PidEntry::FdDir,
        [n, fd] if n == b"fd" => {
            let fd = std::str::from_utf8(fd).ok().filter(|s| is_pid_name(s.as_bytes())).ok_or(ENOENT)?;
            let fd = fd.parse::<u32>().map_err(|_| ENOENT)?;
            PidEntry::Fd { fd, host: files.ok_or(ENOENT)?.host(fd).map_err(|_| ENOENT)? }
        }
        [n, ..] if NAMESPACE_ENTRIES.contains(&n.as_slice()) => PidEntry::Namespace(rest.join(&b'/')),
        _ => return Err(ENOENT),
    }))
}

/// An open guest /proc directory: `/proc/<pid>` ([`PidEntry::Dir`]), its `fd`, its
/// `task`, or a namespace entry (`net`, opened on the emulator's own, so that a path
/// relative to it such as `../status` is walked in the guest's directory, not in the
/// emulator's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcDir {
    pub pid: u32,
    pub entry: PidEntry,
}

impl ProcDir {
    /// The components below `/proc/<pid>/` that name it.
    fn rest(&self) -> Vec<Vec<u8>> {
        match &self.entry {
            PidEntry::FdDir => vec![b"fd".to_vec()],
            PidEntry::TaskDir => vec![b"task".to_vec()],
            PidEntry::Namespace(p) => p.split(|&c| c == b'/').map(<[u8]>::to_vec).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether the listing is the guest kernel's ([`dir_entries`]) rather than that of
    /// the host directory behind it (a namespace directory such as `net`).
    pub fn synthetic(&self) -> bool {
        matches!(self.entry, PidEntry::Dir | PidEntry::TaskDir | PidEntry::FdDir)
    }
}

/// `DT_DIR`, `DT_REG`, `DT_LNK`.
pub(crate) const DT_DIR: u8 = 4;
const DT_REG: u8 = 8;
const DT_LNK: u8 = 10;

/// The entries of an open guest /proc directory, `.` and `..` first: what
/// `proc_pid_readdir`'s tables hold of [`PidEntry`], the guest fds, the threads.
pub fn dir_entries(k: &Kernel, d: &ProcDir) -> Result<Vec<(Vec<u8>, u8)>, Errno> {
    let t = k.find_task(d.pid).ok_or(ENOENT)?;
    let mut v: Vec<(Vec<u8>, u8)> = vec![(b".".to_vec(), DT_DIR), (b"..".to_vec(), DT_DIR)];
    match d.entry {
        PidEntry::FdDir => {
            if let Some(files) = k.files_of(t) {
                let fds = files.fds.iter().enumerate().filter(|(_, f)| f.is_some());
                v.extend(fds.map(|(n, _)| (n.to_string().into_bytes(), DT_LNK)));
            }
        }
        PidEntry::TaskDir => {
            let mut tids: Vec<u32> = k.live_threads(t.tgid).map(|th| th.pid).collect();
            if tids.is_empty() {
                tids.push(t.pid);
            }
            tids.sort_unstable();
            v.extend(tids.iter().map(|tid| (tid.to_string().into_bytes(), DT_DIR)));
        }
        _ => {
            let names: [(&[u8], u8); 11] = [
                (b"cmdline", DT_REG),
                (b"environ", DT_REG),
                (b"exe", DT_LNK),
                (b"fd", DT_DIR),
                (b"maps", DT_REG),
                (b"mountinfo", DT_REG),
                (b"mounts", DT_REG),
                (b"net", DT_DIR),
                (b"smaps", DT_REG),
                (b"status", DT_REG),
                (b"task", DT_DIR),
            ];
            v.extend(names.iter().map(|&(n, t)| (n.to_vec(), t)));
        }
    }
    Ok(v)
}

/// Where the guest's process directories start in a listing of /proc: positions
/// past every host one. Today's `proc_pid_readdir` gives the entry of tgid `t` the
/// position `t + TGID_OFFSET` and ends at `PID_MAX_LIMIT + TGID_OFFSET` (4194562),
/// so the host's getdents at any position from here on is empty and the guest's
/// entries follow the host's non-process ones (and `self`, `thread-self`) as its
/// process directories follow them natively. The entry of guest tgid `t` ends at
/// `PROC_GUEST_POS + t`, below the 32-bit `d_off` cookies of [`crate::files`].
pub const PROC_GUEST_POS: i64 = 1 << 23;

/// The guest's process directories in a listing of /proc from host position `pos`
/// (`proc_pid_readdir`: thread-group leaders in pid order, zombies included): each
/// tgid with the position after its entry.
pub fn root_pid_entries(k: &Kernel, pos: i64) -> Vec<(u32, i64)> {
    let mut tgids: Vec<u32> = k
        .all_tasks()
        .filter(|t| t.pid == t.tgid && t.state != TaskState::Dead)
        .map(|t| t.tgid)
        .filter(|&t| PROC_GUEST_POS + i64::from(t) > pos)
        .collect();
    tgids.sort_unstable();
    tgids.into_iter().map(|t| (t, PROC_GUEST_POS + i64::from(t))).collect()
}

/// The host object behind an open guest /proc directory: an empty directory made
/// with `mkdtemp` in the host's temporary directory and removed at once. Nothing can
/// be created in it or reached through it; its offset is the guest's position in
/// the listing.
pub fn open_dir() -> Result<OwnedFd, Errno> {
    use std::os::unix::ffi::OsStrExt;
    let tmpl = std::env::temp_dir().join("growsdown-procdir-XXXXXX");
    let mut t = CString::new(tmpl.as_os_str().as_bytes()).map_err(|_| EACCES)?.into_bytes_with_nul();
    // SAFETY: `t` is a writable NUL-terminated template that mkdtemp fills in.
    if unsafe { libc::mkdtemp(t.as_mut_ptr().cast()) }.is_null() {
        log::warn!(target: "kernel::syscall", "cannot make a directory for a /proc directory: {}", host_errno());
        return Err(EACCES);
    }
    let dir = t.as_ptr().cast::<libc::c_char>();
    // SAFETY: `dir` is the NUL-terminated path mkdtemp made.
    let fd = unsafe { libc::open(dir, libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) };
    let e = host_errno();
    // SAFETY: as above; the directory is ours and empty.
    unsafe { libc::rmdir(dir) };
    if fd < 0 {
        return Err(e);
    }
    // SAFETY: `fd` is a new descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The guest /proc directory that guest process `pid`'s fd `fd` has open, if any.
fn fd_proc_dir(k: &Kernel, pid: u32, fd: u32) -> Option<ProcDir> {
    k.files_of(k.find_task(pid)?)?.get(fd)?.proc_dir.clone()
}

/// What readlink says of a walked path that the guest kernel answers: `/proc/self`
/// and `/proc/thread-self` ([`self_link`]), `exe` (the program), and `fd/N` when the fd
/// is an open guest /proc directory (that directory's path) or a signalfd. `None`: the host's
/// readlink of the path's host object answers.
pub fn link_target(k: &Kernel, l: &Lookup) -> Result<Option<Vec<u8>>, Errno> {
    Ok(match *l {
        Lookup::SelfLink { pid, thread } => Some(self_link(k.find_task(pid).map_or(pid, |t| t.tgid), pid, thread)),
        Lookup::Pid { pid, entry: PidEntry::Exe } => Some(exe_path(k.find_task(pid).ok_or(ENOENT)?)),
        // A signalfd is a host eventfd underneath (crate::syscall::signalfd); the
        // guest's link names what it opened, as `anon_inode_getfd("[signalfd]")` does.
        Lookup::Pid { pid, entry: PidEntry::Fd { fd, .. } }
            if k
                .find_task(pid)
                .and_then(|t| k.files_of(t))
                .and_then(|f| f.get(fd))
                .is_some_and(|f| f.signalfd.is_some()) =>
        {
            Some(b"anon_inode:[signalfd]".to_vec())
        }
        Lookup::Pid { pid, entry: PidEntry::Fd { fd, .. } } => fd_proc_dir(k, pid, fd).map(|d| {
            let tail = match d.entry {
                PidEntry::FdDir => "/fd".to_string(),
                PidEntry::TaskDir => "/task".to_string(),
                PidEntry::Namespace(p) => format!("/{}", String::from_utf8_lossy(&p)),
                _ => String::new(),
            };
            format!("/proc/{}{tail}", d.pid).into_bytes()
        }),
        _ => None,
    })
}

/// The walk's position.
enum At {
    /// A host directory (`O_PATH`), and whether it is a procfs root.
    Host(OwnedFd, bool),
    /// Inside guest process `pid`'s directory, `rest` below it; `root` is the procfs
    /// root it was entered from (for `..`).
    Pid { pid: u32, rest: Vec<Vec<u8>>, root: OwnedFd },
}

/// Walks `path` from host directory `dirfd` (a host fd or `AT_FDCWD`) and says where
/// it leads (see the module doc). `follow`: whether a symbolic link in the last
/// component is followed. Errors are those the walk itself meets (ENOENT, ENOTDIR,
/// EACCES, ELOOP on a directory component; ENOENT for a process that is not a
/// guest's); a missing last component is no error (the caller may create it).
///
/// `start`: the guest /proc directory that `dirfd` stands for, if it is one (a
/// relative path is then walked from it).
pub fn lookup(
    k: &Kernel,
    dirfd: i32,
    start: Option<&ProcDir>,
    path: &[u8],
    follow: bool,
) -> Result<Lookup, Errno> {
    use std::collections::VecDeque;
    let host_dir = |fd: OwnedFd| {
        let root = is_proc_root(fd.as_raw_fd());
        At::Host(fd, root)
    };
    let mut at = match start {
        Some(d) if path.first() != Some(&b'/') => {
            At::Pid { pid: d.pid, rest: d.rest(), root: open_path(libc::AT_FDCWD, b"/proc", true)? }
        }
        _ => {
            let (base, start) =
                if path.first() == Some(&b'/') { (libc::AT_FDCWD, b"/") } else { (dirfd, b".") };
            host_dir(open_path(base, start, true)?)
        }
    };
    let split = |p: &[u8]| -> VecDeque<Vec<u8>> {
        p.split(|&c| c == b'/').filter(|c| !c.is_empty()).map(<[u8]>::to_vec).collect()
    };
    // A trailing slash follows a symbolic link in the last component.
    let follow = follow || path.ends_with(b"/");
    let mut queue = split(path);
    let mut links = 0u32;
    while let Some(name) = queue.pop_front() {
        let last = queue.is_empty();
        if name == b"." {
            continue;
        }
        at = match at {
            At::Pid { pid, mut rest, root } => {
                if name == b".." {
                    if rest.pop().is_none() {
                        At::Host(root, true)
                    } else {
                        At::Pid { pid, rest, root }
                    }
                } else {
                    rest.push(name);
                    match entry(k, pid, &rest)?.1 {
                        PidEntry::Exe if !last => return Err(ENOTDIR),
                        // A descriptor's file is followed to the host object behind it
                        // (this process's own host fd), or to the guest /proc
                        // directory it has open.
                        PidEntry::Fd { fd, host } if !last => match fd_proc_dir(k, pid, fd) {
                            Some(d) => At::Pid { pid: d.pid, rest: d.rest(), root },
                            None => host_dir(open_path(
                                libc::AT_FDCWD,
                                format!("/proc/self/fd/{host}").as_bytes(),
                                true,
                            )?),
                        },
                        _ => At::Pid { pid, rest, root },
                    }
                }
            }
            At::Host(cur, proc_root) => {
                if proc_root && last && k.swap.info.is_some() {
                    match name.as_slice() {
                        b"swaps" => return Ok(Lookup::Pid { pid: k.task.tgid, entry: PidEntry::Swaps }),
                        b"meminfo" => return Ok(Lookup::Pid { pid: k.task.tgid, entry: PidEntry::Meminfo }),
                        _ => {}
                    }
                }
                if last && name == b"overcommit_memory" && is_sys_vm(cur.as_raw_fd()) {
                    return Ok(Lookup::Pid { pid: k.task.tgid, entry: PidEntry::Overcommit });
                }
                if proc_root {
                    if let Some((pid, thread)) = pid_of(k, &name)? {
                        if last && !follow && !is_pid_name(&name) {
                            return Ok(Lookup::SelfLink { pid, thread });
                        }
                        let rest = if thread { vec![b"task".to_vec(), pid.to_string().into_bytes()] } else { Vec::new() };
                        at = At::Pid { pid, rest, root: cur };
                        continue;
                    }
                }
                if name == b".." {
                    host_dir(open_path(cur.as_raw_fd(), b"..", true)?)
                } else {
                    let st = match lstat_at(cur.as_raw_fd(), &name) {
                        Ok(st) => st,
                        Err(_) if last => return Ok(Lookup::Host),
                        Err(e) => return Err(e),
                    };
                    let kind = st.st_mode & libc::S_IFMT;
                    if kind == libc::S_IFLNK && (follow || !last) {
                        links += 1;
                        if links > MAXSYMLINKS {
                            return Err(ELOOP);
                        }
                        let target = readlink_at(cur.as_raw_fd(), &name)?;
                        let mut q = split(&target);
                        q.extend(queue);
                        queue = q;
                        if target.first() == Some(&b'/') {
                            host_dir(open_path(libc::AT_FDCWD, b"/", true)?)
                        } else {
                            At::Host(cur, proc_root)
                        }
                    } else if last {
                        return Ok(Lookup::Host);
                    } else if kind == libc::S_IFDIR {
                        let dir = open_path(cur.as_raw_fd(), &name, false)?;
                        let root = st.st_ino == PROC_ROOT_INO && on_procfs(dir.as_raw_fd());
                        At::Host(dir, root)
                    } else {
                        return Err(ENOTDIR);
                    }
                }
            }
        };
    }
    match at {
        At::Host(..) => Ok(Lookup::Host),
        At::Pid { pid, rest, .. } => {
            let (pid, entry) = entry(k, pid, &rest)?;
            let dir = matches!(entry, PidEntry::Dir | PidEntry::TaskDir | PidEntry::FdDir | PidEntry::Namespace(_));
            if let PidEntry::Fd { fd, .. } = entry {
                if let Some(d) = fd_proc_dir(k, pid, fd).filter(|_| follow) {
                    return Ok(Lookup::Pid { pid: d.pid, entry: d.entry });
                }
            }
            if path.ends_with(b"/") && !dir {
                return Err(ENOTDIR);
            }
            Ok(Lookup::Pid { pid, entry })
        }
    }
}

/// The host path that stands for a guest process's entry in calls that only look at
/// it (stat, access) or that procfs refuses to let change it (chmod, unlink, ...): the
/// emulator's own entry of the same kind, or the object behind it. `follow`: whether
/// `exe` is followed to the program. The directories are EACCES for calls that would
/// enter them (see the module doc); callers that only stat them pass `dirs`.
pub fn host_path(k: &Kernel, pid: u32, entry: &PidEntry, follow: bool, dirs: bool) -> Result<Vec<u8>, Errno> {
    Ok(match entry {
        // The slash: the directory, also for a call that does not follow the
        // emulator's own /proc/self link.
        PidEntry::Dir if dirs => b"/proc/self/".to_vec(),
        PidEntry::TaskDir if dirs => b"/proc/self/task/".to_vec(),
        PidEntry::FdDir if dirs => b"/proc/self/fd/".to_vec(),
        PidEntry::Dir | PidEntry::TaskDir | PidEntry::FdDir => return Err(EACCES),
        PidEntry::Exe if follow => exe_path(k.find_task(pid).ok_or(ENOENT)?),
        PidEntry::Exe => b"/proc/self/exe".to_vec(),
        PidEntry::Maps => b"/proc/self/maps".to_vec(),
        PidEntry::Smaps => b"/proc/self/smaps".to_vec(),
        PidEntry::Status => b"/proc/self/status".to_vec(),
        PidEntry::Cmdline => b"/proc/self/cmdline".to_vec(),
        PidEntry::Environ => b"/proc/self/environ".to_vec(),
        PidEntry::Fd { host, .. } => format!("/proc/self/fd/{host}").into_bytes(),
        PidEntry::Namespace(p) => [b"/proc/self/".as_slice(), p].concat(),
        PidEntry::Swaps => b"/proc/swaps".to_vec(),
        PidEntry::Meminfo => b"/proc/meminfo".to_vec(),
        PidEntry::Overcommit => b"/proc/sys/vm/overcommit_memory".to_vec(),
    })
}

/// The program's path as `/proc/<pid>/exe` shows it.
pub fn exe_path(t: &Task) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    match std::fs::canonicalize(&t.exe) {
        Ok(p) => p.as_os_str().as_bytes().to_vec(),
        Err(_) => t.exe.as_bytes().to_vec(),
    }
}

/// The text of `/proc/<pid>/maps`: one `show_map_vma` line per VMA (today's format,
/// see [`crate::mm::Vma::maps_line`]).
pub fn maps(k: &Kernel, t: &Task) -> String {
    k.mm_of(t).map_or_else(String::new, |mm| mm.maps())
}

/// Today's `show_smap_vma_flags` mnemonics, in its order, for the flags this kernel
/// has.
const VM_FLAG_NAMES: [(u32, &str); 18] = {
    use crate::mm::vma::*;
    [
        (VM_READ, "rd"),
        (VM_WRITE, "wr"),
        (VM_EXEC, "ex"),
        (VM_SHARED, "sh"),
        (VM_MAYREAD, "mr"),
        (VM_MAYWRITE, "mw"),
        (VM_MAYEXEC, "me"),
        (VM_MAYSHARE, "ms"),
        (VM_GROWSDOWN, "gd"),
        (VM_LOCKED, "lo"),
        (VM_IO, "io"),
        (VM_SEQ_READ, "sr"),
        (VM_RAND_READ, "rr"),
        (VM_DONTCOPY, "dc"),
        (VM_DONTEXPAND, "de"),
        (VM_LOCKONFAULT, "lf"),
        (VM_WIPEONFORK, "wf"),
        (VM_DONTDUMP, "dd"),
    ]
};

/// The text of `/proc/<pid>/smaps` (today's `show_smap`): each maps line followed by
/// the VMA's memory use, counted from its page tables the way `smaps_pte_entry`
/// does: present PTEs of normal pages (the ZERO_PAGE is not counted), shared when
/// the frame has other references, dirty and referenced from the PTE bits; Pss
/// divides each page by its reference count; Locked is the Pss of a VM_LOCKED VMA.
/// Swap is the swap entries' pages (today's `smaps_pte_entry` for a swap PTE:
/// Swap += page size, SwapPss divided by the slot's count); there is no huge page
/// and no KSM, so those lines are 0.
pub fn smaps(k: &Kernel, t: &Task) -> String {
    use crate::mm::pgtable::{get_pte, pte_frame, pte_present, _PAGE_ACCESSED, _PAGE_DIRTY};
    use crate::mm::vma::VM_LOCKED;
    use std::fmt::Write;
    let Some(mm) = k.mm_of(t) else { return String::new() };
    let mut s = String::new();
    for v in &mm.mmap {
        let (mut rss, mut pss, mut sc, mut sd, mut pc, mut pd, mut rf, mut anon) = (0u64, 0u64, 0, 0, 0, 0, 0, 0);
        let (mut swap, mut swap_pss) = (0u64, 0u64);
        let mut a = v.start;
        while a < v.end {
            let pte = get_pte(k.cpu.mmu.phys(), mm.pgd, a);
            let f = pte_frame(pte);
            if crate::mm::swap::is_swap_pte(pte) {
                swap += 4;
                let refs = u64::from(crate::mm::swap::swap_count(k, pte).max(1));
                swap_pss += (4096 << 12) / refs;
            }
            if pte_present(pte) && k.frames.valid(f) && !k.frames.is_reserved(f) {
                let refs = u64::from(k.frames.count(f).max(1));
                let dirty = pte & _PAGE_DIRTY != 0;
                rss += 4096;
                pss += (4096 << 12) / refs;
                match (refs > 1, dirty) {
                    (true, true) => sd += 4,
                    (true, false) => sc += 4,
                    (false, true) => pd += 4,
                    (false, false) => pc += 4,
                }
                if pte & _PAGE_ACCESSED != 0 {
                    rf += 4;
                }
                // Anonymous: the pages of an anonymous VMA, and the private copies a
                // write made in a private file mapping (the dirty ones).
                let private_file = v.flags & crate::mm::vma::VM_SHARED == 0 && v.file().is_some();
                if matches!(v.backing, crate::mm::Backing::Anon) || dirty && private_file {
                    anon += 4;
                }
            }
            a += 4096;
        }
        let locked = if v.flags & VM_LOCKED != 0 { pss >> 22 } else { 0 };
        let _ = writeln!(s, "{}", v.maps_line(mm));
        for (name, kb) in [
            ("Size:", u64::from(v.end - v.start) >> 10),
            ("KernelPageSize:", 4),
            ("MMUPageSize:", 4),
            ("Rss:", rss >> 10),
            ("Pss:", pss >> 22),
            ("Shared_Clean:", sc),
            ("Shared_Dirty:", sd),
            ("Private_Clean:", pc),
            ("Private_Dirty:", pd),
            ("Referenced:", rf),
            ("Anonymous:", anon),
            ("LazyFree:", 0),
            ("AnonHugePages:", 0),
            ("ShmemPmdMapped:", 0),
            ("FilePmdMapped:", 0),
            ("Shared_Hugetlb:", 0),
            ("Private_Hugetlb:", 0),
            ("Swap:", swap),
            ("SwapPss:", swap_pss >> 22),
            ("Locked:", locked),
        ] {
            let _ = writeln!(s, "{name:<16}{kb:>8} kB");
        }
        let _ = writeln!(s, "{:<16}{:>8}", "THPeligible:", 0);
        let mut flags = String::from("VmFlags:");
        for (bit, n) in VM_FLAG_NAMES {
            if v.flags & bit != 0 {
                flags.push(' ');
                flags.push_str(n);
            }
        }
        let _ = writeln!(s, "{flags} ");
    }
    s
}

/// The text of `/proc/<pid>/status` (today's `proc_pid_status`), the lines the guest
/// kernel knows: name, umask, state, the guest pids, the task's credentials, the
/// threads, the signal masks, the capability sets.
pub fn status(k: &Kernel, t: &Task) -> String {
    use std::fmt::Write;
    let umask = k.umask_of(t);
    let state = match &t.state {
        TaskState::Running => "R (running)",
        TaskState::Interruptible(_) => "S (sleeping)",
        TaskState::VforkWait { .. } => "D (disk sleep)",
        TaskState::Zombie(_) | TaskState::Dead => "Z (zombie)",
    };
    let c = &t.cred;
    // `task_state`: each group followed by a space, and a lone space for none
    // (the `{groups:>1}` below).
    let groups: String = c.groups.iter().map(|g| format!("{g} ")).collect();
    let mask = |q: &[crate::signal::SigInfo]| q.iter().fold(0u64, |m, i| m | 1u64 << ((i.signo - 1) & 63));
    let pending = mask(&t.sig.pending);
    let shared = k.group(t.ids.group).map_or(0, |g| mask(&g.shared_pending));
    let threads = k.live_threads(t.tgid).count().max(1);
    let (mut ign, mut cgt) = (0u64, 0u64);
    for i in 0..64 {
        match k.action_of(t, i + 1).handler {
            crate::signal::SIG_DFL => {}
            crate::signal::SIG_IGN => ign |= 1 << i,
            _ => cgt |= 1 << i,
        }
    }
    let mut s = String::new();
    let _ = write!(
        s,
        "Name:\t{}\nUmask:\t{umask:04o}\nState:\t{state}\nTgid:\t{tgid}\nNgid:\t0\nPid:\t{pid}\nPPid:\t{}\n\
         TracerPid:\t0\nUid:\t{}\t{}\t{}\t{}\nGid:\t{}\t{}\t{}\t{}\nGroups:\t{groups:>1}\nNStgid:\t{tgid}\nNSpid:\t{pid}\n\
         Threads:\t{threads}\nSigPnd:\t{pending:016x}\nShdPnd:\t{shared:016x}\nSigBlk:\t{:016x}\n\
         SigIgn:\t{ign:016x}\nSigCgt:\t{cgt:016x}\nCapInh:\t{:016x}\nCapPrm:\t{:016x}\nCapEff:\t{:016x}\n\
         CapBnd:\t{:016x}\nCapAmb:\t{:016x}\n",
        t.comm,
        t.ppid,
        c.uid,
        c.euid,
        c.suid,
        c.fsuid,
        c.gid,
        c.egid,
        c.sgid,
        c.fsgid,
        t.sig.blocked,
        c.cap_inheritable,
        c.cap_permitted,
        c.cap_effective,
        c.cap_bset,
        c.cap_ambient,
        pid = t.pid,
        tgid = t.tgid,
    );
    s
}

/// `/proc/swaps` (2.4's `swap_info_struct` as `get_swaparea_info` prints it, today's
/// column layout): sizes in KiB; the one area, a file, priority -1.
fn proc_swaps(k: &Kernel) -> String {
    let mut s = String::from("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
    if let Some(si) = &k.swap.info {
        s.push_str(&format!("{:<40}file\t\t{}\t\t{}\t\t-1\n", si.path, si.pages * 4, si.inuse_pages * 4));
    }
    s
}

/// `/proc/meminfo` with a swap area: the host's file with its `SwapCached`,
/// `SwapTotal` and `SwapFree` lines replaced by the guest kernel's (the other
/// figures stay the host's, as `sysinfo` gives them).
fn meminfo(k: &Kernel) -> String {
    let host = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let (total, free) = crate::mm::swap::si_swapinfo(k);
    let cached = crate::mm::swap::swap_cache_pages(k);
    let mut s = String::with_capacity(host.len());
    for line in host.lines() {
        let kb = match line.split(':').next() {
            Some("SwapCached") => Some(u64::from(cached) * 4),
            Some("SwapTotal") => Some(u64::from(total) * 4),
            Some("SwapFree") => Some(u64::from(free) * 4),
            _ => None,
        };
        match (kb, line.split_once(':')) {
            (Some(kb), Some((name, _))) => s.push_str(&format!("{:<16}{kb:>8} kB", format!("{name}:"))),
            _ => s.push_str(line),
        }
        s.push('\n');
    }
    s
}

/// The content of a synthetic entry (`maps`, `status`, `cmdline`, `environ`) of
/// guest process `pid`; `None` for an entry served from a host object.
pub fn content(k: &Kernel, pid: u32, entry: &PidEntry) -> Result<Option<Vec<u8>>, Errno> {
    let t = k.find_task(pid).ok_or(ENOENT)?;
    Ok(Some(match entry {
        PidEntry::Maps => maps(k, t).into_bytes(),
        PidEntry::Smaps => smaps(k, t).into_bytes(),
        PidEntry::Swaps => proc_swaps(k).into_bytes(),
        PidEntry::Meminfo => meminfo(k).into_bytes(),
        PidEntry::Overcommit => format!("{}\n", k.oom.overcommit_memory).into_bytes(),
        PidEntry::Status => status(k, t).into_bytes(),
        PidEntry::Cmdline | PidEntry::Environ => {
            let Some(mm) = k.mm_of(t) else { return Ok(Some(Vec::new())) };
            let (start, end) =
                if *entry == PidEntry::Cmdline { (mm.arg_start, mm.arg_end) } else { (mm.env_start, mm.env_end) };
            read_vm(k, mm.pgd, start, end)
        }
        _ => return Ok(None),
    }))
}

/// `access_process_vm` for reading, without faulting anything in: the bytes of `t`'s
/// memory in `start..end`, up to the first page that is not present. (A zombie has no
/// memory left: nothing, as in Linux.)
fn read_vm(k: &Kernel, pgd: u32, start: u32, end: u32) -> Vec<u8> {
    let phys = k.cpu.mmu.phys();
    let mut out = Vec::new();
    let mut a = start;
    while pgd != 0 && a < end {
        let pte = crate::mm::pgtable::get_pte(phys, pgd, a);
        if pte & 1 == 0 {
            break;
        }
        let off = a & (crate::PAGE_SIZE - 1);
        let n = (crate::PAGE_SIZE - off).min(end - a);
        let at = out.len();
        out.resize(at + n as usize, 0);
        phys.read_bytes((pte & !(crate::PAGE_SIZE - 1)) + off, &mut out[at..]);
        a += n;
    }
    out
}

/// A readlink of `/proc/self` or `/proc/thread-self`: `<tgid>` or `<tgid>/task/<tid>`.
fn self_link(tgid: u32, tid: u32, thread: bool) -> Vec<u8> {
    if thread {
        format!("{tgid}/task/{tid}").into_bytes()
    } else {
        tgid.to_string().into_bytes()
    }
}
