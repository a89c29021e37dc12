//! File locks: POSIX record locks (fcntl F_GETLK/F_SETLK/F_SETLKW and the 64-bit
//! forms), open-file-description locks (F_OFD_*) and `flock`, after today's
//! `fs/locks.c`.
//!
//! ## Why the guest kernel keeps the table
//!
//! Every guest process lives in the one emulator process, so host locks cannot tell
//! guest processes apart: a host POSIX lock taken for a guest parent is the
//! emulator's, and never blocks its guest child. The lock table is therefore the
//! guest kernel's ([`LockTable`], `k.locks`), keyed by the host inode (device and
//! inode number of the host fd), and the host is not asked at all.
//!
//! Host locks are left out on purpose, not only for lack of use: they could at best
//! mirror the union of every guest's locks, and even that would not hold, because the
//! host drops *all* of the emulator's POSIX locks on a file whenever the emulator
//! closes any fd of that file — which it does every time any guest process closes
//! one. A lock that a host process sees would come and go with unrelated guest
//! closes; better none than a wrong one. Guests are thus not protected against other
//! host processes (nor are they against each other's host locks).
//!
//! ## Owners
//!
//! * POSIX locks belong to the process (its tgid: today's `fl_owner` is the
//!   `files_struct`, which the threads of a process share); they are released when
//!   the process closes *any* fd of the inode (`locks_remove_posix` from
//!   `filp_close`) and when it exits.
//! * OFD and flock locks belong to the open file description, which the guest fds
//!   that share it (dup, fork) name with the same [`crate::files::Desc`]. The table
//!   keeps a weak reference to it: when the last guest fd of the description is
//!   closed, its locks are gone ([`reap`]).
//!
//! POSIX and OFD locks live in one list per inode and conflict with each other, as
//! in today's `file_lock_context.flc_posix`; flock locks are a separate list and
//! never conflict with either (`flc_flock`).
//!
//! ## Waiting
//!
//! F_SETLKW, F_OFD_SETLKW and a blocking flock that meet a conflicting lock sleep on
//! [`WaitOn::Lock`] with `-ERESTARTSYS` (the `wait_event_interruptible` of
//! `fcntl_setlk`/`flock_lock_inode_wait`). Such a sleep never ends by itself: every
//! change that removes or weakens a lock on the inode makes its sleepers runnable
//! ([`wake`]), and they re-execute their call, which takes the lock or sleeps again.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use crate::errno::{Errno, SysResult, EAGAIN, EBADF, EDEADLK, EINVAL, EOVERFLOW, ERESTARTSYS};
use crate::files::{Desc, OpenFile};
use crate::sched::{sleep_on, TaskState, WaitOn};
use crate::Kernel;

pub const F_RDLCK: i16 = 0;
pub const F_WRLCK: i16 = 1;
pub const F_UNLCK: i16 = 2;
const SEEK_SET: i16 = 0;
const SEEK_CUR: i16 = 1;
const SEEK_END: i16 = 2;
const OFFSET_MAX: i64 = i64::MAX;
/// `MAX_DEADLK_ITERATIONS` of fs/locks.c: the waits-for chain followed this far.
const MAX_DEADLK_ITERATIONS: usize = 10;

const LOCK_SH: u32 = 1;
const LOCK_EX: u32 = 2;
const LOCK_NB: u32 = 4;
const LOCK_UN: u32 = 8;

/// Whose lock it is.
#[derive(Clone, Debug)]
enum Owner {
    /// A process (tgid): POSIX record locks.
    Process(u32),
    /// An open file description: OFD and flock locks.
    Desc(u64, Weak<Desc>),
}

impl Owner {
    fn same(&self, o: &Owner) -> bool {
        match (self, o) {
            (Owner::Process(a), Owner::Process(b)) => a == b,
            (Owner::Desc(a, _), Owner::Desc(b, _)) => a == b,
            _ => false,
        }
    }
    fn alive(&self) -> bool {
        match self {
            Owner::Process(_) => true,
            Owner::Desc(_, w) => w.strong_count() > 0,
        }
    }
}

/// One lock: `start..=end` (`end` = OFFSET_MAX: to the end of the file, however
/// long it grows); flock locks cover everything.
#[derive(Clone, Debug)]
struct Lock {
    owner: Owner,
    write: bool,
    start: i64,
    end: i64,
}

impl Lock {
    fn overlaps(&self, o: &Lock) -> bool {
        self.start <= o.end && o.start <= self.end
    }
    /// `posix_locks_conflict` / `flock_locks_conflict`.
    fn conflicts(&self, o: &Lock) -> bool {
        !self.owner.same(&o.owner) && (self.write || o.write) && self.overlaps(o)
    }
}

/// The locks of one inode (today's `file_lock_context`).
#[derive(Debug, Default)]
struct InodeLocks {
    posix: Vec<Lock>,
    flock: Vec<Lock>,
}

/// The guest machine's locks, by host (device, inode).
#[derive(Debug, Default)]
pub struct LockTable {
    inodes: HashMap<(u64, u64), InodeLocks>,
}

impl LockTable {
    fn has_process_locks(&self, tgid: u32) -> bool {
        self.inodes.values().any(|i| i.posix.iter().any(|l| matches!(l.owner, Owner::Process(p) if p == tgid)))
    }
}

/// The guest's lock request, from `struct flock` or `struct flock64`.
#[derive(Clone, Copy, Debug)]
pub struct Request {
    pub l_type: i16,
    pub l_whence: i16,
    pub l_start: i64,
    pub l_len: i64,
    pub l_pid: i32,
}

/// Which fcntl lock command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmd {
    Get,
    Set,
    SetWait,
}

fn host_inode(fd: i32) -> Result<((u64, u64), i64), Errno> {
    // SAFETY: `st` is a plain struct that fstat fills.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a valid, writable struct stat.
    if unsafe { libc::fstat(fd, &mut st) } < 0 {
        return Err(crate::errno::host_errno());
    }
    Ok(((st.st_dev, st.st_ino), st.st_size))
}

/// The host fd's status flags (F_GETFL).
fn access_mode(fd: i32) -> Result<i32, Errno> {
    // SAFETY: F_GETFL has no pointer arguments.
    let fl = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if fl < 0 {
        return Err(crate::errno::host_errno());
    }
    Ok(fl)
}

/// `flock_to_posix_lock`: the byte range of a request, `(start, end)`.
fn range(file: &OpenFile, r: &Request) -> Result<(i64, i64), Errno> {
    let base = match r.l_whence {
        SEEK_SET => 0,
        SEEK_CUR => {
            // SAFETY: lseek has no pointer arguments.
            let p = unsafe { libc::lseek(file.host_fd, 0, libc::SEEK_CUR) };
            if p < 0 {
                return Err(crate::errno::host_errno());
            }
            p
        }
        SEEK_END => host_inode(file.host_fd)?.1,
        _ => return Err(EINVAL),
    };
    if r.l_start > 0 && base > OFFSET_MAX - r.l_start {
        return Err(EOVERFLOW);
    }
    let mut start = base + r.l_start;
    if start < 0 {
        return Err(EINVAL);
    }
    let end;
    if r.l_len > 0 {
        if r.l_len - 1 > OFFSET_MAX - start {
            return Err(EOVERFLOW);
        }
        end = start + r.l_len - 1;
    } else if r.l_len < 0 {
        end = start - 1;
        start = start.checked_add(r.l_len).ok_or(EINVAL)?;
        if start < 0 {
            return Err(EINVAL);
        }
    } else {
        end = OFFSET_MAX;
    }
    Ok((start, end))
}

/// Makes every task asleep on a lock of inode `ino` runnable: it re-executes its
/// call (today's `locks_wake_up_blocks`, which wakes all blocked waiters).
fn wake(k: &mut Kernel, ino: (u64, u64)) {
    for t in k.tasks.values_mut() {
        if matches!(&t.state, TaskState::Interruptible(WaitOn::Lock { dev, ino: i, .. }) if (*dev, *i) == ino) {
            t.state = TaskState::Running;
        }
    }
}

/// `posix_locks_deadlock`: whether `caller` waiting for a lock of `blocker` closes
/// a cycle of processes each waiting for the next one's POSIX lock.
fn deadlock(k: &Kernel, caller: u32, mut blocker: u32) -> bool {
    for _ in 0..MAX_DEADLK_ITERATIONS {
        if blocker == caller {
            return true;
        }
        let next = k.all_tasks().filter(|t| t.tgid == blocker).find_map(|t| match &t.state {
            TaskState::Interruptible(WaitOn::Lock { blocker: Some(b), .. }) => Some(*b),
            _ => None,
        });
        match next {
            Some(b) => blocker = b,
            None => return false,
        }
    }
    false
}

/// fcntl's lock commands on `file`: `ofd` for the F_OFD_* forms. Returns what
/// F_GETLK writes back (`Some`) or `None` for the set commands.
pub fn fcntl_lock(
    k: &mut Kernel,
    file: &OpenFile,
    cmd: Cmd,
    ofd: bool,
    r: Request,
) -> Result<Option<Request>, Errno> {
    // fcntl on an O_PATH fd knows only the fd commands (`check_fcntl_cmd`).
    let mode = access_mode(file.host_fd)?;
    if mode & libc::O_PATH != 0 {
        return Err(EBADF);
    }
    if !matches!(r.l_type, F_RDLCK | F_WRLCK | F_UNLCK) {
        return Err(EINVAL);
    }
    let (start, end) = range(file, &r)?;
    // An OFD request must say l_pid 0 (`fcntl_getlk`/`fcntl_setlk`): the field is
    // reserved for a later use.
    if ofd && r.l_pid != 0 {
        return Err(EINVAL);
    }
    let tgid = k.task.tgid;
    let owner = if ofd {
        Owner::Desc(file.desc.0, Arc::downgrade(&file.desc))
    } else {
        Owner::Process(tgid)
    };
    let (ino, _) = host_inode(file.host_fd)?;
    let req = Lock { owner, write: r.l_type == F_WRLCK, start, end };
    if cmd == Cmd::Get {
        if r.l_type == F_UNLCK {
            return Err(EINVAL);
        }
        reap(k);
        let found = k.locks.inodes.get(&ino).and_then(|i| i.posix.iter().find(|l| l.conflicts(&req)));
        let out = match found {
            None => Request { l_type: F_UNLCK, ..r },
            Some(l) => Request {
                l_type: if l.write { F_WRLCK } else { F_RDLCK },
                l_whence: SEEK_SET,
                l_start: l.start,
                l_len: if l.end == OFFSET_MAX { 0 } else { l.end - l.start + 1 },
                l_pid: match l.owner {
                    Owner::Process(p) => p as i32,
                    Owner::Desc(..) => -1,
                },
            },
        };
        return Ok(Some(out));
    }
    // `check_fmode_for_setlk`.
    match r.l_type {
        F_RDLCK if mode & libc::O_ACCMODE == libc::O_WRONLY => return Err(EBADF),
        F_WRLCK if mode & libc::O_ACCMODE == libc::O_RDONLY => return Err(EBADF),
        _ => {}
    }
    reap(k);
    if r.l_type != F_UNLCK {
        let conflict = k.locks.inodes.get(&ino).and_then(|i| i.posix.iter().find(|l| l.conflicts(&req)));
        if let Some(c) = conflict {
            if cmd == Cmd::Set {
                return Err(EAGAIN);
            }
            let blocker = match c.owner {
                Owner::Process(p) if !ofd => Some(p),
                _ => None,
            };
            // The detector cannot follow OFD owners (`posix_locks_deadlock`).
            if let Some(b) = blocker {
                if deadlock(k, tgid, b) {
                    return Err(EDEADLK);
                }
            }
            let w = WaitOn::Lock { dev: ino.0, ino: ino.1, blocker };
            return sleep_on(k, w, ERESTARTSYS).map(|_| None);
        }
    }
    let locks = k.locks.inodes.entry(ino).or_default();
    let weakened = posix_apply(&mut locks.posix, req, r.l_type == F_UNLCK);
    if locks.posix.is_empty() && locks.flock.is_empty() {
        k.locks.inodes.remove(&ino);
    }
    if weakened {
        wake(k, ino);
    }
    Ok(None)
}

/// `posix_lock_inode` once the request meets no conflict: the owner's locks are cut
/// where the request covers them, locks of the same type that overlap or adjoin it
/// are merged into it, and the request is added unless it unlocks. Returns whether
/// the owner gave up anything (a byte unlocked or a write lock made a read lock),
/// which is when waiters may now proceed.
fn posix_apply(list: &mut Vec<Lock>, req: Lock, unlock: bool) -> bool {
    let (mut start, mut end) = (req.start, req.end);
    let mut kept = Vec::with_capacity(list.len() + 2);
    let mut weakened = false;
    for l in list.drain(..) {
        if !l.owner.same(&req.owner) {
            kept.push(l);
            continue;
        }
        let adjoins = l.end.checked_add(1) == Some(req.start) || req.end.checked_add(1) == Some(l.start);
        if !unlock && l.write == req.write && (l.overlaps(&req) || adjoins) {
            start = start.min(l.start);
            end = end.max(l.end);
            continue;
        }
        if !l.overlaps(&req) {
            kept.push(l);
            continue;
        }
        // Overlapped by a request of the other type (or an unlock): keep what lies
        // outside it.
        if unlock || l.write {
            weakened = true;
        }
        if l.start < req.start {
            kept.push(Lock { end: req.start - 1, ..l.clone() });
        }
        if l.end > req.end {
            kept.push(Lock { start: req.end + 1, ..l });
        }
    }
    if !unlock {
        kept.push(Lock { start, end, ..req });
    }
    kept.sort_by_key(|l| l.start);
    *list = kept;
    weakened
}

/// flock(fd, operation): `flock_lock_inode` for the open file description of `fd`.
pub fn sys_flock(k: &mut Kernel, fd: u32, op: u32) -> SysResult {
    let file = k.task.files.get(fd).ok_or(EBADF)?.clone();
    let nb = op & LOCK_NB != 0;
    let write = match op & !LOCK_NB {
        LOCK_SH => false,
        LOCK_EX => true,
        LOCK_UN => return flock_unlock(k, &file).map(|_| 0),
        _ => return Err(EINVAL),
    };
    // An O_PATH fd opens nothing to lock (EBADF, as today's `flock`).
    // SAFETY: F_GETFL has no pointer arguments.
    let fl = unsafe { libc::fcntl(file.host_fd, libc::F_GETFL) };
    if fl < 0 || fl & libc::O_PATH != 0 {
        return Err(EBADF);
    }
    let (ino, _) = host_inode(file.host_fd)?;
    reap(k);
    let owner = Owner::Desc(file.desc.0, Arc::downgrade(&file.desc));
    let req = Lock { owner, write, start: 0, end: OFFSET_MAX };
    if let Some(i) = k.locks.inodes.get(&ino) {
        if i.flock.iter().any(|l| l.owner.same(&req.owner) && l.write == write) {
            return Ok(0);
        }
    }
    // A conversion drops the old lock first, so a waiter may get in between (and a
    // failed LOCK_NB conversion leaves no lock): today's `flock_lock_inode` does so.
    flock_unlock(k, &file)?;
    let conflict = k.locks.inodes.get(&ino).is_some_and(|i| i.flock.iter().any(|l| l.conflicts(&req)));
    if conflict {
        if nb {
            return Err(EAGAIN);
        }
        return sleep_on(k, WaitOn::Lock { dev: ino.0, ino: ino.1, blocker: None }, ERESTARTSYS);
    }
    k.locks.inodes.entry(ino).or_default().flock.push(req);
    Ok(0)
}

/// Removes the flock lock of `file`'s description, if any, waking the waiters.
fn flock_unlock(k: &mut Kernel, file: &OpenFile) -> Result<(), Errno> {
    let (ino, _) = host_inode(file.host_fd)?;
    let Some(i) = k.locks.inodes.get_mut(&ino) else { return Ok(()) };
    let n = i.flock.len();
    i.flock.retain(|l| !matches!(&l.owner, Owner::Desc(id, _) if *id == file.desc.0));
    let removed = i.flock.len() != n;
    if i.posix.is_empty() && i.flock.is_empty() {
        k.locks.inodes.remove(&ino);
    }
    if removed {
        wake(k, ino);
    }
    Ok(())
}

/// Before the current process closes the guest fds that `closing` selects:
/// `locks_remove_posix` — its POSIX locks on their inodes go, whichever fd took them.
pub fn before_close(k: &mut Kernel, closing: impl Fn(u32, &OpenFile) -> bool) {
    let tgid = k.task.tgid;
    if !k.locks.has_process_locks(tgid) {
        return;
    }
    let inodes: Vec<(u64, u64)> = k
        .task
        .files
        .fds
        .iter()
        .enumerate()
        .filter_map(|(fd, f)| f.as_ref().filter(|f| closing(fd as u32, f)))
        .filter_map(|f| host_inode(f.host_fd).ok().map(|(ino, _)| ino))
        .collect();
    for ino in inodes {
        release_process(k, tgid, Some(ino));
    }
}

/// Removes the POSIX locks of process `tgid` (on `only`, or everywhere), waking
/// their waiters.
fn release_process(k: &mut Kernel, tgid: u32, only: Option<(u64, u64)>) {
    let mut woken = Vec::new();
    k.locks.inodes.retain(|ino, i| {
        if only.is_some_and(|o| o != *ino) {
            return true;
        }
        let n = i.posix.len();
        i.posix.retain(|l| !matches!(l.owner, Owner::Process(p) if p == tgid));
        if i.posix.len() != n {
            woken.push(*ino);
        }
        !(i.posix.is_empty() && i.flock.is_empty())
    });
    for ino in woken {
        wake(k, ino);
    }
}

/// Forgets the OFD and flock locks of descriptions that no guest fd names any more
/// (today's `locks_remove_file` at the last `fput`), waking their waiters. Called
/// after fds close and before the table is consulted.
pub fn reap(k: &mut Kernel) {
    let mut woken = Vec::new();
    k.locks.inodes.retain(|ino, i| {
        let n = i.posix.len() + i.flock.len();
        i.posix.retain(|l| l.owner.alive());
        i.flock.retain(|l| l.owner.alive());
        if i.posix.len() + i.flock.len() != n {
            woken.push(*ino);
        }
        !(i.posix.is_empty() && i.flock.is_empty())
    });
    for ino in woken {
        wake(k, ino);
    }
}

/// At exit: the last thread of process `tgid` gives up its POSIX locks (today's
/// `exit_files` closes every file, and each close removes them); any task's exit may
/// have closed the last fd of a description.
pub fn exit_locks(k: &mut Kernel, tgid: u32, last: bool) {
    if k.locks.inodes.is_empty() {
        return;
    }
    if last {
        release_process(k, tgid, None);
    }
    reap(k);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(owner: u32, write: bool, start: i64, end: i64) -> Lock {
        Lock { owner: Owner::Process(owner), write, start, end }
    }
    fn show(l: &[Lock]) -> Vec<(bool, i64, i64)> {
        l.iter().map(|l| (l.write, l.start, l.end)).collect()
    }

    #[test]
    fn split_and_merge() {
        let mut v = Vec::new();
        posix_apply(&mut v, p(1, true, 0, 99), false);
        // A read lock in the middle splits the write lock in three.
        assert!(posix_apply(&mut v, p(1, false, 10, 19), false));
        assert_eq!(show(&v), [(true, 0, 9), (false, 10, 19), (true, 20, 99)]);
        // Write again over it: one lock.
        posix_apply(&mut v, p(1, true, 10, 19), false);
        assert_eq!(show(&v), [(true, 0, 99)]);
        // Adjoining locks of one type merge.
        posix_apply(&mut v, p(1, true, 100, 109), false);
        assert_eq!(show(&v), [(true, 0, 109)]);
        // Unlock a hole.
        assert!(posix_apply(&mut v, p(1, false, 50, 59), true));
        assert_eq!(show(&v), [(true, 0, 49), (true, 60, 109)]);
        // Another owner's locks are untouched.
        posix_apply(&mut v, p(2, false, 200, OFFSET_MAX), false);
        posix_apply(&mut v, p(1, false, 0, OFFSET_MAX), true);
        assert_eq!(show(&v), [(false, 200, OFFSET_MAX)]);
    }

    #[test]
    fn conflicts() {
        assert!(p(1, true, 0, 9).conflicts(&p(2, false, 9, 9)));
        assert!(!p(1, false, 0, 9).conflicts(&p(2, false, 0, 9)));
        assert!(!p(1, true, 0, 9).conflicts(&p(1, true, 0, 9)));
        assert!(!p(1, true, 0, 9).conflicts(&p(2, true, 10, 19)));
    }
}
