//! SysV IPC: shared memory segments, semaphore sets and message queues (today's
//! `ipc/shm.c`, `ipc/sem.c`, `ipc/msg.c`, `ipc/util.c`, `ipc/syscall.c`). 2.4 had the
//! same three families behind the same `ipc(2)` multiplexer; the limits, the ids and
//! the errno of each case are today's kernel's.
//!
//! ## The namespace
//!
//! The objects live in [`IpcNamespace`], one per guest machine (`k.ipc`): a guest
//! never sees the host's SysV objects, and the host never sees the guest's. Ids are
//! built as Linux builds them, `index + seq * 32768` (`ipc_buildid`), with the lowest
//! free index and a sequence number that advances at every creation.
//!
//! Permissions are checked as `ipcperms` checks them, against the calling task's
//! effective uid, gid, groups and capabilities (CAP_IPC_OWNER, CAP_SYS_ADMIN,
//! CAP_SYS_RESOURCE; see [`crate::cred`]).
//!
//! ## Shared memory
//!
//! A segment is a [`ShmemObject`], as `shmem_kernel_file_setup` gives today's
//! segments a shmem file: its pages are allocated zero-filled on first touch by
//! `shmem_nopage` and shared by every attach. The namespace holds one reference on
//! the object, each attach (a VMA with `Backing::Shmem`) one more, so `shm_nattch` is
//! the count of VMAs, as `shm_open` / `shm_close` count them (fork and a VMA split
//! each add one). IPC_RMID of an attached segment keeps only a weak reference: the
//! last VMA to go frees the pages and their swap slots (`release_vma`), and the
//! entry, whose key has become IPC_PRIVATE meanwhile, is forgotten at the next
//! look-up. With swap, a segment's pages go there like any shmem object's, attached
//! or not (`shmem_writepage`, `mm/filemap.rs`).
//!
//! ## Sleeping
//!
//! semop and msgsnd/msgrcv that must wait sleep on [`WaitOn::Ipc`] with the id of
//! their object (see [`crate::sched`]): every change of that object makes its
//! sleepers runnable, and they re-execute their call from scratch. Which object a
//! task slept on is remembered here too ([`Sleeper`]): a re-executed call that finds
//! its object gone returns EIDRM (a new call on a removed id gets EINVAL), and
//! GETNCNT/GETZCNT count the sleepers. A signal ends the wait with EINTR (the calls
//! return ERESTARTNOHAND: today's semop and msgrcv are never restarted after a
//! handler); semtimedop's timeout is a deadline kept across the re-executions.
//!
//! ## Limits
//!
//! SEM_UNDO lists belong to the process (tgid), as if every thread were created with
//! CLONE_SYSVSEM (glibc's threads are); a fork starts with none. The old (non
//! IPC_64) structure layouts of `ipc(2)` are not implemented: the commands that
//! read or write a structure return EINVAL without IPC_64 (every libc passes it).
//! The direct shmctl/semctl/msgctl calls always use the 64-bit layouts and take no
//! IPC_64 flag. `/proc/<pid>/maps` names an attach as any shmem mapping, not
//! `/SYSV<key> (deleted)`; shm_atime/shm_lpid are not updated by fork or exit.

use std::collections::{BTreeMap, VecDeque};
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

use crate::abi::ipc::*;
use crate::abi::{FromBytes, FromZeros, IntoBytes};
use crate::cred::{Cred, CAP_IPC_OWNER, CAP_SYS_ADMIN, CAP_SYS_RESOURCE};
use crate::errno::{Errno, SysResult, E2BIG, EACCES, EEXIST, EFAULT, EINVAL, ENOENT, ENOMEM, ENOSPC, ENOSYS, EPERM, ERANGE, ERESTARTNOHAND};
use crate::mm::filemap::{shmem_release, ShmemObject};
use crate::mm::mmap::{calc_vm_flags, do_munmap, get_unmapped_area, make_pages_present, MAP_FIXED, PROT_EXEC, PROT_READ, PROT_WRITE};
use crate::mm::pgtable::PAGE_MASK;
use crate::mm::vma::{Backing, Vma, MAX_MAP_COUNT, VM_LOCKED, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_SHARED};
use crate::sched::{TaskState, WaitOn};
use crate::syscall::Args;
use crate::{page_align, Kernel, PAGE_SIZE, TASK_SIZE};

const EIDRM: Errno = libc::EIDRM;
const ENOMSG: Errno = libc::ENOMSG;
const EFBIG: Errno = libc::EFBIG;

pub const IPC_PRIVATE: i32 = 0;
pub const IPC_CREAT: u32 = 0o1000;
pub const IPC_EXCL: u32 = 0o2000;
pub const IPC_NOWAIT: u32 = 0o4000;
pub const IPC_RMID: u32 = 0;
pub const IPC_SET: u32 = 1;
pub const IPC_STAT: u32 = 2;
pub const IPC_INFO: u32 = 3;
/// In the cmd of a ctl call: the `*64_ds` layouts.
pub const IPC_64: u32 = 0x100;

pub const SHM_RDONLY: u32 = 0o10000;
/// shmget: do not account the segment against overcommit (today's flag; 2.4's
/// `shmem_file_setup` always checked `vm_enough_memory`).
pub const SHM_NORESERVE: u32 = 0o10000;
pub const SHM_RND: u32 = 0o20000;
pub const SHM_REMAP: u32 = 0o40000;
pub const SHM_EXEC: u32 = 0o100000;
pub const SHM_LOCK: u32 = 11;
pub const SHM_UNLOCK: u32 = 12;
pub const SHM_STAT: u32 = 13;
pub const SHM_INFO: u32 = 14;
pub const SHM_STAT_ANY: u32 = 15;
/// In `shm_perm.mode`: removed, destroyed at the last detach.
const SHM_DEST: u32 = 0o1000;

pub const SEM_UNDO: i16 = 0x1000;
pub const GETPID: u32 = 11;
pub const GETVAL: u32 = 12;
pub const GETALL: u32 = 13;
pub const GETNCNT: u32 = 14;
pub const GETZCNT: u32 = 15;
pub const SETVAL: u32 = 16;
pub const SETALL: u32 = 17;
pub const SEM_STAT: u32 = 18;
pub const SEM_INFO: u32 = 19;
pub const SEM_STAT_ANY: u32 = 20;

pub const MSG_NOERROR: u32 = 0o10000;
pub const MSG_EXCEPT: u32 = 0o20000;
pub const MSG_COPY: u32 = 0o40000;
pub const MSG_STAT: u32 = 11;
pub const MSG_INFO: u32 = 12;
pub const MSG_STAT_ANY: u32 = 13;

/// `SHMLBA` of i386: a page.
const SHMLBA: u32 = PAGE_SIZE;
/// Today's defaults (include/uapi/linux/shm.h, sem.h, msg.h; ipc/util.h).
const SHMMIN: u32 = 1;
const SHMMAX: u32 = u32::MAX - (1 << 24);
const SHMALL: u32 = u32::MAX - (1 << 24);
const SHMMNI: u32 = 4096;
const SEMMSL: u32 = 32000;
const SEMMNI: u32 = 32000;
const SEMMNS: u32 = SEMMNI * SEMMSL;
const SEMOPM: u32 = 500;
const SEMVMX: i32 = 32767;
const SEMAEM: i32 = SEMVMX;
const MSGMAX: u32 = 8192;
const MSGMNB: u32 = 16384;
const MSGMNI: u32 = 32000;
/// `IPCMNI`: ids are `index + seq * IPCMNI`.
const IPCMNI: u32 = 32768;
/// `IPCID_SEQ_MAX` with the default IPCMNI.
const IPCID_SEQ_MAX: u32 = i32::MAX as u32 / IPCMNI;

const S_IRUGO: u32 = 0o444;
const S_IWUGO: u32 = 0o222;
const S_IXUGO: u32 = 0o111;
const S_IRWXUGO: u32 = 0o777;

/// `struct kern_ipc_perm`.
#[derive(Clone, Debug)]
pub struct Perm {
    pub key: i32,
    pub uid: u32,
    pub gid: u32,
    pub cuid: u32,
    pub cgid: u32,
    pub mode: u32,
    pub seq: u32,
}

impl Perm {
    fn to_abi(&self) -> Ipc64Perm {
        Ipc64Perm {
            key: self.key,
            uid: self.uid,
            gid: self.gid,
            cuid: self.cuid,
            cgid: self.cgid,
            mode: self.mode as u16,
            seq: self.seq as u16,
            ..Default::default()
        }
    }
}

/// One object of a family.
#[derive(Debug)]
pub struct Obj<T> {
    pub perm: Perm,
    pub id: i32,
    pub body: T,
}

/// `struct ipc_ids`: one family's objects by index.
#[derive(Debug)]
pub struct Ids<T> {
    objs: BTreeMap<u32, Obj<T>>,
    seq: u32,
}

impl<T> Default for Ids<T> {
    fn default() -> Self {
        Self { objs: BTreeMap::new(), seq: 0 }
    }
}

impl<T> Ids<T> {
    /// `ipc_obtain_object_check`: EINVAL for a negative id, a free index or a stale
    /// sequence number.
    fn get(&self, id: i32) -> Result<&Obj<T>, Errno> {
        if id < 0 {
            return Err(EINVAL);
        }
        self.objs.get(&(id as u32 % IPCMNI)).filter(|o| o.id == id).ok_or(EINVAL)
    }

    fn get_mut(&mut self, id: i32) -> Result<&mut Obj<T>, Errno> {
        if id < 0 {
            return Err(EINVAL);
        }
        self.objs.get_mut(&(id as u32 % IPCMNI)).filter(|o| o.id == id).ok_or(EINVAL)
    }

    fn find_key(&self, key: i32) -> Option<&Obj<T>> {
        self.objs.values().find(|o| o.perm.key == key)
    }

    /// `ipc_addid`: the lowest free index, the next sequence number.
    fn add(&mut self, cred: &Cred, key: i32, mode: u32, body: T, max: u32) -> Result<i32, Errno> {
        if self.objs.len() as u32 >= max {
            return Err(ENOSPC);
        }
        let idx = (0..IPCMNI).find(|i| !self.objs.contains_key(i)).ok_or(ENOSPC)?;
        let seq = self.seq;
        self.seq = if self.seq >= IPCID_SEQ_MAX { 0 } else { self.seq + 1 };
        let id = (idx + seq * IPCMNI) as i32;
        let (uid, gid) = (cred.euid, cred.egid);
        let perm = Perm { key, uid, gid, cuid: uid, cgid: gid, mode: mode & S_IRWXUGO, seq };
        self.objs.insert(idx, Obj { perm, id, body });
        Ok(id)
    }

    fn remove(&mut self, id: i32) -> Option<Obj<T>> {
        let idx = id as u32 % IPCMNI;
        if self.objs.get(&idx).is_some_and(|o| o.id == id) {
            self.objs.remove(&idx)
        } else {
            None
        }
    }

    /// The highest index in use (what IPC_INFO and *_INFO return).
    fn max_idx(&self) -> u32 {
        self.objs.keys().next_back().copied().unwrap_or(0)
    }
}

/// The pages of a segment: the namespace's reference, weak once it is removed.
#[derive(Debug)]
pub enum ShmRef {
    Live(Rc<ShmemObject>),
    Dest(Weak<ShmemObject>),
}

/// `struct shmid_kernel`.
#[derive(Debug)]
pub struct Shm {
    pub obj: ShmRef,
    pub size: u32,
    pub atime: u32,
    pub dtime: u32,
    pub ctime: u32,
    pub cpid: u32,
    pub lpid: u32,
}

impl Shm {
    /// `shm_nattch`: the VMAs holding the object.
    fn nattch(&self) -> u32 {
        match &self.obj {
            ShmRef::Live(rc) => Rc::strong_count(rc) as u32 - 1,
            ShmRef::Dest(w) => w.strong_count() as u32,
        }
    }

    fn ptr(&self) -> *const ShmemObject {
        match &self.obj {
            ShmRef::Live(rc) => Rc::as_ptr(rc),
            ShmRef::Dest(w) => w.as_ptr(),
        }
    }

    fn upgrade(&self) -> Option<Rc<ShmemObject>> {
        match &self.obj {
            ShmRef::Live(rc) => Some(rc.clone()),
            ShmRef::Dest(w) => w.upgrade(),
        }
    }
}

/// One semaphore: `semval` and `sempid`.
#[derive(Clone, Debug, Default)]
pub struct Sem {
    pub val: i32,
    pub pid: u32,
}

/// `struct sem_array`.
#[derive(Debug)]
pub struct SemSet {
    pub sems: Vec<Sem>,
    pub otime: u32,
    pub ctime: u32,
}

/// One message: its type and text.
#[derive(Debug)]
pub struct Msg {
    pub mtype: i32,
    pub text: Vec<u8>,
}

/// `struct msg_queue`.
#[derive(Debug)]
pub struct MsgQueue {
    pub msgs: VecDeque<Msg>,
    pub cbytes: u32,
    pub qbytes: u32,
    pub stime: u32,
    pub rtime: u32,
    pub ctime: u32,
    pub lspid: u32,
    pub lrpid: u32,
}

/// What a sleeping task waits for in an IPC call (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sleeper {
    pub id: i32,
    /// A semop that blocked: the semaphore, and whether it waits for zero.
    pub sem: Option<(u16, bool)>,
}

/// The guest machine's IPC namespace.
#[derive(Debug, Default)]
pub struct IpcNamespace {
    pub shm: Ids<Shm>,
    pub sem: Ids<SemSet>,
    pub msg: Ids<MsgQueue>,
    /// SEM_UNDO adjustments: (tgid, semid) → one per semaphore.
    pub undo: BTreeMap<(u32, i32), Vec<i32>>,
    /// Tasks asleep in an IPC call, by pid.
    pub sleepers: BTreeMap<u32, Sleeper>,
}

/// `ipcperms`: whether the caller may access `p` for `flag`'s rwx bits; root
/// (CAP_IPC_OWNER) always may.
fn ipcperms(cred: &Cred, p: &Perm, flag: u32) -> Result<(), Errno> {
    let euid = cred.euid;
    let requested = (flag >> 6) | (flag >> 3) | flag;
    let mut granted = p.mode;
    if euid == p.cuid || euid == p.uid {
        granted >>= 6;
    } else if cred.in_group_p(p.cgid) || cred.in_group_p(p.gid) {
        granted >>= 3;
    }
    if requested & !granted & 0o7 != 0 && !cred.capable(CAP_IPC_OWNER) {
        return Err(EACCES);
    }
    Ok(())
}

/// `ipcctl_obtain_check`'s owner test for IPC_SET and IPC_RMID (CAP_SYS_ADMIN: root).
fn owner_check(cred: &Cred, p: &Perm) -> Result<(), Errno> {
    let euid = cred.euid;
    if euid == p.cuid || euid == p.uid || cred.capable(CAP_SYS_ADMIN) {
        Ok(())
    } else {
        Err(EPERM)
    }
}

/// IPC_SET's part common to every family (`ipc_update_perm`).
fn update_perm(p: &mut Perm, new: &Ipc64Perm) {
    p.uid = new.uid;
    p.gid = new.gid;
    p.mode = (p.mode & !S_IRWXUGO) | (u32::from(new.mode) & S_IRWXUGO);
}

fn now_secs() -> u32 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as u32)
}

/// `ipc_parse_version`: the command without IPC_64, and whether it was there.
fn parse_version(cmd: u32) -> (u32, bool) {
    (cmd & !IPC_64, cmd & IPC_64 != 0)
}

fn put_struct<T: IntoBytes + zerocopy::Immutable>(k: &mut Kernel, addr: u32, v: &T) -> Result<(), Errno> {
    k.copy_to_user(addr, v.as_bytes()).map_err(|_| EFAULT)
}

fn get_struct<T: FromBytes + IntoBytes + FromZeros>(k: &mut Kernel, addr: u32) -> Result<T, Errno> {
    let mut v = T::new_zeroed();
    k.copy_from_user(addr, v.as_mut_bytes()).map_err(|_| EFAULT)?;
    Ok(v)
}

/// `ipcget`: IPC_PRIVATE always creates; a key finds its object or (IPC_CREAT)
/// creates one; `check` is the family's `more_checks`.
fn ipcget<T>(
    cred: &Cred,
    ids: &mut Ids<T>,
    key: i32,
    flg: u32,
    max: u32,
    check: impl FnOnce(&T) -> Result<(), Errno>,
    new: impl FnOnce() -> Result<T, Errno>,
) -> SysResult {
    if key != IPC_PRIVATE {
        if let Some(o) = ids.find_key(key) {
            if flg & IPC_CREAT != 0 && flg & IPC_EXCL != 0 {
                return Err(EEXIST);
            }
            check(&o.body)?;
            ipcperms(cred, &o.perm, flg)?;
            return Ok(o.id as u32);
        }
        if flg & IPC_CREAT == 0 {
            return Err(ENOENT);
        }
    }
    let body = new()?;
    ids.add(cred, key, flg, body, max).map(|id| id as u32)
}

// ---------------------------------------------------------------------------------
// Sleeping and waking
// ---------------------------------------------------------------------------------

/// A re-executed call: forgets what the task slept on, and tells whether it slept on
/// `id` (so a vanished object is EIDRM, not EINVAL).
fn resumed(k: &mut Kernel, id: i32) -> bool {
    let pid = k.task.pid;
    k.ipc.sleepers.remove(&pid).is_some_and(|s| s.id == id)
}

/// `ipc_obtain_object_check` for a call that may be re-executed after sleeping.
fn check_gone<T>(r: Result<T, Errno>, id: i32, slept: bool) -> Result<T, Errno> {
    match r {
        Err(EINVAL) if slept && id >= 0 => Err(EIDRM),
        r => r,
    }
}

/// Sleeps the current task on object `id` until it changes, a signal, or `until`.
fn ipc_sleep(k: &mut Kernel, id: i32, sem: Option<(u16, bool)>, until: Option<Instant>) -> SysResult {
    let r = crate::sched::sleep_on(k, WaitOn::Ipc { id, deadline: until }, ERESTARTNOHAND);
    if matches!(k.task.state, TaskState::Interruptible(_)) {
        k.ipc.sleepers.insert(k.task.pid, Sleeper { id, sem });
    }
    r
}

/// Makes every task asleep on object `id` runnable: it re-executes its call.
fn wake(k: &mut Kernel, id: i32) {
    for t in k.tasks.values_mut() {
        if matches!(&t.state, TaskState::Interruptible(WaitOn::Ipc { id: i, .. }) if *i == id) {
            t.state = TaskState::Running;
        }
    }
}

/// The deadline of semtimedop's timeout (`None`: no timeout), taken at the first
/// execution and kept across re-executions.
fn timeout(k: &mut Kernel, addr: u32, time64: bool) -> Result<Option<Instant>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    if let Some(d) = k.task.timeout {
        return Ok(Some(d));
    }
    let ts = crate::syscall::time::read_timespec(k, addr, time64)?;
    let d = Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
    Ok(Some(crate::sched::deadline_after(k, d)))
}

// ---------------------------------------------------------------------------------
// Shared memory
// ---------------------------------------------------------------------------------

/// Forgets removed segments whose last attach has gone.
fn shm_gc(k: &mut Kernel) {
    k.ipc.shm.objs.retain(|_, o| !matches!(&o.body.obj, ShmRef::Dest(w) if w.strong_count() == 0));
}

/// shmget(key, size, shmflg).
pub fn sys_shmget(k: &mut Kernel, a: Args) -> SysResult {
    let (key, size, flg) = (a[0] as i32, a[1], a[2]);
    shm_gc(k);
    let tot: u64 = k.ipc.shm.objs.values().map(|o| u64::from(page_align(o.body.size) >> 12)).sum();
    let tgid = k.task.tgid;
    // shmem_file_setup's vm_enough_memory (mm/oom_kill.rs docs, linux24.md §1.8a),
    // known before ipcget borrows the table; asked only for a new segment.
    let enough = flg & SHM_NORESERVE != 0
        || crate::mm::mmap::vm_enough_memory(k, page_align(size.min(SHMMAX)) >> 12);
    ipcget(
        &k.task.cred,
        &mut k.ipc.shm,
        key,
        flg,
        SHMMNI,
        |s| if s.size < size { Err(EINVAL) } else { Ok(()) },
        || {
            // newseg.
            if !(SHMMIN..=SHMMAX).contains(&size) {
                return Err(EINVAL);
            }
            let pages = u64::from(size).div_ceil(u64::from(PAGE_SIZE));
            if tot + pages > u64::from(SHMALL) {
                return Err(ENOSPC);
            }
            if !enough {
                return Err(ENOMEM);
            }
            Ok(Shm {
                obj: ShmRef::Live(Rc::default()),
                size,
                atime: 0,
                dtime: 0,
                ctime: now_secs(),
                cpid: tgid,
                lpid: 0,
            })
        },
    )
}

/// `do_shmat`: maps segment `shmid` at `shmaddr` (0: where there is room) and returns
/// the address.
fn do_shmat(k: &mut Kernel, shmid: i32, shmaddr: u32, shmflg: u32) -> Result<u32, Errno> {
    shm_gc(k);
    if shmid < 0 {
        return Err(EINVAL);
    }
    let mut addr = shmaddr;
    let fixed = addr != 0;
    if fixed {
        if addr & (SHMLBA - 1) != 0 {
            if shmflg & SHM_RND != 0 && addr >= SHMLBA {
                addr &= !(SHMLBA - 1);
            } else {
                return Err(EINVAL);
            }
        }
    } else if shmflg & SHM_REMAP != 0 {
        return Err(EINVAL);
    }
    let (mut prot, mut acc) = if shmflg & SHM_RDONLY != 0 {
        (PROT_READ, S_IRUGO)
    } else {
        (PROT_READ | PROT_WRITE, S_IRUGO | S_IWUGO)
    };
    if shmflg & SHM_EXEC != 0 {
        prot |= PROT_EXEC;
        acc |= S_IXUGO;
    }
    let seg = k.ipc.shm.get(shmid)?;
    ipcperms(&k.task.cred, &seg.perm, acc)?;
    let obj = seg.body.upgrade().ok_or(EIDRM)?;
    let size = seg.body.size;
    if fixed && shmflg & SHM_REMAP == 0 {
        let end = addr.checked_add(size).ok_or(EINVAL)?;
        if k.task.mm.overlaps(addr, end) {
            return Err(EINVAL);
        }
    }
    // do_mmap of the shm file, MAP_SHARED (| MAP_FIXED).
    let len = page_align(size);
    if len == 0 || len > TASK_SIZE {
        return Err(ENOMEM);
    }
    if k.task.mm.map_count() > MAX_MAP_COUNT {
        return Err(ENOMEM);
    }
    let addr = get_unmapped_area(k, addr, len, if fixed { MAP_FIXED } else { 0 })?;
    while k.task.mm.overlaps(addr, addr + len) {
        do_munmap(k, addr, len).map_err(|_| ENOMEM)?;
    }
    let mut vm_flags = calc_vm_flags(prot, 0) | k.task.mm.def_flags | VM_MAYREAD | VM_MAYEXEC | VM_MAYSHARE;
    // do_mmap: a file opened without FMODE_WRITE (SHM_RDONLY opens it O_RDONLY)
    // loses VM_MAYWRITE and VM_SHARED, so mprotect cannot make it writable.
    if shmflg & SHM_RDONLY == 0 {
        vm_flags |= VM_MAYWRITE | VM_SHARED;
    }
    k.task.mm.insert_vm_struct(Vma::new(addr, addr + len, vm_flags, 0, Backing::Shmem { obj }))?;
    k.task.mm.total_vm += len >> 12;
    if vm_flags & VM_LOCKED != 0 {
        k.task.mm.locked_vm += len >> 12;
        make_pages_present(k, addr, addr + len);
    }
    let tgid = k.task.tgid;
    if let Ok(seg) = k.ipc.shm.get_mut(shmid) {
        seg.body.atime = now_secs();
        seg.body.lpid = tgid;
    }
    log::debug!(target: "kernel::ipc", "shmat {shmid} at {addr:#010x}-{:#010x}", addr + len);
    Ok(addr)
}

/// shmat(shmid, shmaddr, shmflg).
pub fn sys_shmat(k: &mut Kernel, a: Args) -> SysResult {
    do_shmat(k, a[0] as i32, a[1], a[2])
}

/// The segment a VMA maps, if it is a SysV segment: its id, size and object.
fn seg_of_vma(k: &Kernel, v: &Vma) -> Option<(i32, u32, *const ShmemObject)> {
    let Backing::Shmem { obj } = &v.backing else {
        return None;
    };
    let p = Rc::as_ptr(obj);
    k.ipc.shm.objs.values().find(|o| o.body.ptr() == p).map(|o| (o.id, o.body.size, p))
}

/// shmdt(shmaddr): unmaps the attach that starts at `shmaddr` — the segment VMA
/// whose offset says it starts there (a fragment left by munmap or mprotect counts),
/// and the VMAs of the same segment that follow it within the segment's size.
pub fn sys_shmdt(k: &mut Kernel, a: Args) -> SysResult {
    let addr = a[0];
    if addr & !PAGE_MASK != 0 {
        return Err(EINVAL);
    }
    let starts_here = |v: &Vma| (v.start.wrapping_sub(addr) >> 12) == v.pgoff;
    let Some(first) = k.task.mm.find_vma_index(addr) else {
        return Err(EINVAL);
    };
    let mut found = None;
    for v in &k.task.mm.mmap[first..] {
        if starts_here(v) {
            if let Some((id, size, ptr)) = seg_of_vma(k, v) {
                found = Some((id, page_align(size), ptr, v.start));
                break;
            }
        }
    }
    let Some((id, size, ptr, start)) = found else {
        return Err(EINVAL);
    };
    let mut ranges = Vec::new();
    for v in k.task.mm.mmap.iter().filter(|v| v.start >= start) {
        let same = matches!(&v.backing, Backing::Shmem { obj } if Rc::as_ptr(obj) == ptr);
        if v.start == start || (u64::from(v.end) - u64::from(addr) <= u64::from(size) && same && starts_here(v)) {
            ranges.push((v.start, v.end));
        } else if v.start != start && u64::from(v.end) - u64::from(addr) > u64::from(size) {
            break;
        }
    }
    for (s, e) in ranges {
        do_munmap(k, s, e - s)?;
    }
    let tgid = k.task.tgid;
    if let Ok(seg) = k.ipc.shm.get_mut(id) {
        seg.body.dtime = now_secs();
        seg.body.lpid = tgid;
    }
    shm_gc(k);
    Ok(0)
}

fn shm_ds(o: &Obj<Shm>) -> Shmid64Ds {
    let s = &o.body;
    let mut perm = o.perm.to_abi();
    if matches!(s.obj, ShmRef::Dest(_)) {
        perm.mode |= SHM_DEST as u16;
    }
    Shmid64Ds {
        shm_perm: perm,
        shm_segsz: s.size,
        shm_atime: s.atime,
        shm_dtime: s.dtime,
        shm_ctime: s.ctime,
        shm_cpid: s.cpid as i32,
        shm_lpid: s.lpid as i32,
        shm_nattch: s.nattch(),
        ..Default::default()
    }
}

/// The object at index `idx` for the *_STAT commands, which take an index and
/// return the id.
fn by_index<T>(ids: &Ids<T>, idx: i32) -> Result<&Obj<T>, Errno> {
    if idx < 0 {
        return Err(EINVAL);
    }
    ids.objs.get(&(idx as u32)).ok_or(EINVAL)
}

/// shmctl(shmid, cmd, buf); `ipc64`: the layout the cmd asked for.
fn do_shmctl(k: &mut Kernel, shmid: i32, cmd: u32, buf: u32, ipc64: bool) -> SysResult {
    shm_gc(k);
    if shmid < 0 && !matches!(cmd, IPC_INFO | SHM_INFO) {
        return Err(EINVAL);
    }
    let needs_buf = matches!(cmd, IPC_STAT | IPC_SET | IPC_INFO | SHM_INFO | SHM_STAT | SHM_STAT_ANY);
    if needs_buf && !ipc64 {
        return Err(EINVAL);
    }
    match cmd {
        IPC_INFO => {
            let info = Shminfo64 { shmmax: SHMMAX, shmmin: SHMMIN, shmmni: SHMMNI, shmseg: SHMMNI, shmall: SHMALL, ..Default::default() };
            put_struct(k, buf, &info)?;
            Ok(k.ipc.shm.max_idx())
        }
        SHM_INFO => {
            let shm = &k.ipc.shm;
            let info = ShmInfo {
                used_ids: shm.objs.len() as i32,
                shm_tot: shm.objs.values().map(|o| page_align(o.body.size) >> 12).sum(),
                shm_rss: shm.objs.values().filter_map(|o| o.body.upgrade()).map(|r| r.nr_pages() as u32).sum(),
                // shm_get_stat: the segments' pages in swap.
                shm_swp: shm.objs.values().filter_map(|o| o.body.upgrade()).map(|r| r.nr_swapped() as u32).sum(),
                ..Default::default()
            };
            let max = shm.max_idx();
            put_struct(k, buf, &info)?;
            Ok(max)
        }
        IPC_STAT | SHM_STAT | SHM_STAT_ANY => {
            let o = if cmd == IPC_STAT { k.ipc.shm.get(shmid)? } else { by_index(&k.ipc.shm, shmid)? };
            if cmd != SHM_STAT_ANY {
                ipcperms(&k.task.cred, &o.perm, S_IRUGO)?;
            }
            let (ds, id) = (shm_ds(o), o.id);
            put_struct(k, buf, &ds)?;
            Ok(if cmd == IPC_STAT { 0 } else { id as u32 })
        }
        IPC_SET => {
            let new: Shmid64Ds = get_struct(k, buf)?;
            let o = k.ipc.shm.get_mut(shmid)?;
            owner_check(&k.task.cred, &o.perm)?;
            update_perm(&mut o.perm, &new.shm_perm);
            o.body.ctime = now_secs();
            Ok(0)
        }
        IPC_RMID => {
            let o = k.ipc.shm.get_mut(shmid)?;
            owner_check(&k.task.cred, &o.perm)?;
            if o.body.nattch() > 0 {
                // shm_destroy waits for the last detach: the key is freed now.
                if let ShmRef::Live(rc) = &o.body.obj {
                    o.body.obj = ShmRef::Dest(Rc::downgrade(rc));
                }
                o.perm.key = IPC_PRIVATE;
                return Ok(0);
            }
            if let Some(o) = k.ipc.shm.remove(shmid) {
                if let ShmRef::Live(rc) = o.body.obj {
                    if Rc::strong_count(&rc) == 1 {
                        shmem_release(k, &rc);
                    }
                }
            }
            Ok(0)
        }
        SHM_LOCK | SHM_UNLOCK => {
            let o = k.ipc.shm.get(shmid)?;
            owner_check(&k.task.cred, &o.perm)?;
            // shmem_lock: a locked segment's pages stay in memory (shmem_writepage
            // refuses them); pages already in swap come back on their next fault.
            if let Some(obj) = o.body.upgrade() {
                obj.locked.set(cmd == SHM_LOCK);
            }
            Ok(0)
        }
        _ => Err(EINVAL),
    }
}

/// The segments' shmem objects still alive, in id order (`shmem_unuse` walks them
/// for swapoff: a segment nobody has attached has pages in swap too).
pub(crate) fn shm_objects(k: &Kernel) -> Vec<Rc<ShmemObject>> {
    k.ipc.shm.objs.values().filter_map(|o| o.body.upgrade()).collect()
}

/// shmctl(shmid, cmd, buf): the direct call always uses the 64-bit layouts and
/// takes the command as it is (`sys_shmctl` passes IPC_64 itself; a cmd with the
/// flag is unknown).
pub fn sys_shmctl(k: &mut Kernel, a: Args) -> SysResult {
    do_shmctl(k, a[0] as i32, a[1], a[2], true)
}

// ---------------------------------------------------------------------------------
// Semaphores
// ---------------------------------------------------------------------------------

/// semget(key, nsems, semflg).
pub fn sys_semget(k: &mut Kernel, a: Args) -> SysResult {
    let (key, nsems, flg) = (a[0] as i32, a[1] as i32, a[2]);
    if nsems < 0 || nsems as u32 > SEMMSL {
        return Err(EINVAL);
    }
    let total: u64 = k.ipc.sem.objs.values().map(|o| o.body.sems.len() as u64).sum();
    ipcget(
        &k.task.cred,
        &mut k.ipc.sem,
        key,
        flg,
        SEMMNI,
        |s| if (nsems as usize) > s.sems.len() { Err(EINVAL) } else { Ok(()) },
        || {
            if nsems == 0 {
                return Err(EINVAL);
            }
            if total + nsems as u64 > u64::from(SEMMNS) {
                return Err(ENOSPC);
            }
            Ok(SemSet { sems: vec![Sem::default(); nsems as usize], otime: 0, ctime: now_secs() })
        },
    )
}

/// What `perform_atomic_semop` found.
enum SemopOutcome {
    Done,
    /// Would block on this semaphore (waiting for zero?), or EAGAIN with IPC_NOWAIT.
    Block(u16, bool, bool),
}

/// `perform_atomic_semop`: every operation, or none.
fn perform_atomic_semop(
    set: &mut SemSet,
    undo: &mut Option<Vec<i32>>,
    sops: &[Sembuf],
    pid: u32,
) -> Result<SemopOutcome, Errno> {
    let mut vals: Vec<i32> = set.sems.iter().map(|s| s.val).collect();
    let mut adj = undo.clone();
    for s in sops {
        let n = usize::from(s.sem_num);
        let curr = vals[n];
        let op = i32::from(s.sem_op);
        let result = curr + op;
        let nowait = s.sem_flg as u32 & IPC_NOWAIT != 0;
        if op == 0 && curr != 0 {
            return Ok(SemopOutcome::Block(s.sem_num, true, nowait));
        }
        if result < 0 {
            return Ok(SemopOutcome::Block(s.sem_num, false, nowait));
        }
        if result > SEMVMX {
            return Err(ERANGE);
        }
        if s.sem_flg & SEM_UNDO != 0 {
            if let Some(adj) = adj.as_mut() {
                let u = adj[n] - op;
                if !(-SEMAEM - 1..=SEMAEM).contains(&u) {
                    return Err(ERANGE);
                }
                adj[n] = u;
            }
        }
        vals[n] = result;
    }
    for s in sops {
        set.sems[usize::from(s.sem_num)].pid = pid;
    }
    for (sem, v) in set.sems.iter_mut().zip(vals) {
        sem.val = v;
    }
    *undo = adj;
    set.otime = now_secs();
    Ok(SemopOutcome::Done)
}

/// `do_semtimedop(semid, sops, nsops, timeout)`.
fn do_semtimedop(k: &mut Kernel, semid: i32, tsops: u32, nsops: u32, tmo: u32, time64: bool) -> SysResult {
    let slept = resumed(k, semid);
    if nsops < 1 || semid < 0 {
        return Err(EINVAL);
    }
    if nsops > SEMOPM {
        return Err(E2BIG);
    }
    let mut sops = vec![Sembuf::default(); nsops as usize];
    k.copy_from_user(tsops, sops.as_mut_slice().as_mut_bytes()).map_err(|_| EFAULT)?;
    let until = timeout(k, tmo, time64)?;
    let max = sops.iter().map(|s| s.sem_num).max().unwrap_or(0);
    let undos = sops.iter().any(|s| s.sem_flg & SEM_UNDO != 0);
    let alter = sops.iter().any(|s| s.sem_op != 0);
    let pid = k.task.tgid;
    let r = k.ipc.sem.get(semid).map(|o| o.body.sems.len());
    let nsems = check_gone(r, semid, slept)?;
    if usize::from(max) >= nsems {
        return Err(EFBIG);
    }
    ipcperms(&k.task.cred, &k.ipc.sem.get(semid)?.perm, if alter { S_IWUGO } else { S_IRUGO })?;
    let key = (pid, semid);
    let mut undo = undos.then(|| k.ipc.undo.get(&key).cloned().unwrap_or_else(|| vec![0; nsems]));
    let set = k.ipc.sem.get_mut(semid)?;
    match perform_atomic_semop(&mut set.body, &mut undo, &sops, pid)? {
        SemopOutcome::Done => {
            if let Some(u) = undo {
                k.ipc.undo.insert(key, u);
            }
            if alter {
                wake(k, semid);
            }
            Ok(0)
        }
        SemopOutcome::Block(_, _, true) => Err(libc::EAGAIN),
        SemopOutcome::Block(n, zero, false) => {
            if until.is_some_and(|d| Instant::now() >= d) {
                return Err(libc::EAGAIN);
            }
            ipc_sleep(k, semid, Some((n, zero)), until)
        }
    }
}

/// semtimedop_time64(semid, sops, nsops, timeout).
pub fn sys_semtimedop(k: &mut Kernel, a: Args) -> SysResult {
    do_semtimedop(k, a[0] as i32, a[1], a[2], a[3], true)
}

/// GETNCNT / GETZCNT: the tasks asleep on semaphore `n` of `semid`.
fn count_sleepers(k: &Kernel, semid: i32, n: u16, zero: bool) -> u32 {
    k.ipc
        .sleepers
        .iter()
        .filter(|(pid, s)| {
            s.id == semid
                && s.sem == Some((n, zero))
                && k.find_task(**pid).is_some_and(|t| matches!(t.state, TaskState::Interruptible(WaitOn::Ipc { .. })))
        })
        .count() as u32
}

/// semctl(semid, semnum, cmd, arg).
fn do_semctl(k: &mut Kernel, semid: i32, semnum: i32, cmd: u32, arg: u32, ipc64: bool) -> SysResult {
    if semid < 0 && !matches!(cmd, IPC_INFO | SEM_INFO) {
        return Err(EINVAL);
    }
    let needs_buf = matches!(cmd, IPC_STAT | IPC_SET | IPC_INFO | SEM_INFO | SEM_STAT | SEM_STAT_ANY);
    if needs_buf && !ipc64 {
        return Err(EINVAL);
    }
    let pid = k.task.tgid;
    match cmd {
        IPC_INFO | SEM_INFO => {
            let sem = &k.ipc.sem;
            let mut info = Seminfo {
                semmap: SEMMNS as i32,
                semmni: SEMMNI as i32,
                semmns: SEMMNS as i32,
                semmnu: SEMMNS as i32,
                semmsl: SEMMSL as i32,
                semopm: SEMOPM as i32,
                semume: SEMOPM as i32,
                semusz: 20,
                semvmx: SEMVMX,
                semaem: SEMAEM,
            };
            if cmd == SEM_INFO {
                info.semusz = sem.objs.len() as i32;
                info.semaem = sem.objs.values().map(|o| o.body.sems.len() as i32).sum();
            }
            let max = sem.max_idx();
            put_struct(k, arg, &info)?;
            Ok(max)
        }
        IPC_STAT | SEM_STAT | SEM_STAT_ANY => {
            let o = if cmd == IPC_STAT { k.ipc.sem.get(semid)? } else { by_index(&k.ipc.sem, semid)? };
            if cmd != SEM_STAT_ANY {
                ipcperms(&k.task.cred, &o.perm, S_IRUGO)?;
            }
            let ds = Semid64Ds {
                sem_perm: o.perm.to_abi(),
                sem_otime: o.body.otime,
                sem_ctime: o.body.ctime,
                sem_nsems: o.body.sems.len() as u32,
                ..Default::default()
            };
            let id = o.id;
            put_struct(k, arg, &ds)?;
            Ok(if cmd == IPC_STAT { 0 } else { id as u32 })
        }
        IPC_SET => {
            let new: Semid64Ds = get_struct(k, arg)?;
            let o = k.ipc.sem.get_mut(semid)?;
            owner_check(&k.task.cred, &o.perm)?;
            update_perm(&mut o.perm, &new.sem_perm);
            o.body.ctime = now_secs();
            Ok(0)
        }
        IPC_RMID => {
            let o = k.ipc.sem.get(semid)?;
            owner_check(&k.task.cred, &o.perm)?;
            k.ipc.sem.remove(semid);
            k.ipc.undo.retain(|&(_, id), _| id != semid);
            wake(k, semid);
            Ok(0)
        }
        GETVAL | GETPID | GETNCNT | GETZCNT => {
            let o = k.ipc.sem.get(semid)?;
            ipcperms(&k.task.cred, &o.perm, S_IRUGO)?;
            let s = o.body.sems.get(usize::try_from(semnum).map_err(|_| EINVAL)?).ok_or(EINVAL)?;
            Ok(match cmd {
                GETVAL => s.val as u32,
                GETPID => s.pid,
                _ => count_sleepers(k, semid, semnum as u16, cmd == GETZCNT),
            })
        }
        GETALL => {
            let o = k.ipc.sem.get(semid)?;
            ipcperms(&k.task.cred, &o.perm, S_IRUGO)?;
            let vals: Vec<u16> = o.body.sems.iter().map(|s| s.val as u16).collect();
            k.copy_to_user(arg, vals.as_bytes()).map_err(|_| EFAULT)?;
            Ok(0)
        }
        SETVAL => {
            let val = arg as i32;
            let o = k.ipc.sem.get_mut(semid)?;
            let n = usize::try_from(semnum).ok().filter(|&n| n < o.body.sems.len()).ok_or(EINVAL)?;
            if !(0..=SEMVMX).contains(&val) {
                return Err(ERANGE);
            }
            ipcperms(&k.task.cred, &o.perm, S_IWUGO)?;
            o.body.sems[n] = Sem { val, pid };
            o.body.ctime = now_secs();
            for (_, u) in k.ipc.undo.iter_mut().filter(|((_, id), _)| *id == semid) {
                u[n] = 0;
            }
            wake(k, semid);
            Ok(0)
        }
        SETALL => {
            let nsems = k.ipc.sem.get(semid)?.body.sems.len();
            let mut vals = vec![0u16; nsems];
            k.copy_from_user(arg, vals.as_mut_slice().as_mut_bytes()).map_err(|_| EFAULT)?;
            if vals.iter().any(|&v| i32::from(v) > SEMVMX) {
                return Err(ERANGE);
            }
            let o = k.ipc.sem.get_mut(semid)?;
            ipcperms(&k.task.cred, &o.perm, S_IWUGO)?;
            for (s, v) in o.body.sems.iter_mut().zip(vals) {
                *s = Sem { val: i32::from(v), pid };
            }
            o.body.ctime = now_secs();
            for (_, u) in k.ipc.undo.iter_mut().filter(|((_, id), _)| *id == semid) {
                u.iter_mut().for_each(|a| *a = 0);
            }
            wake(k, semid);
            Ok(0)
        }
        _ => Err(EINVAL),
    }
}

/// semctl(semid, semnum, cmd, arg): the 64-bit layouts, the command as it is (see
/// [`sys_shmctl`]).
pub fn sys_semctl(k: &mut Kernel, a: Args) -> SysResult {
    do_semctl(k, a[0] as i32, a[1] as i32, a[2], a[3], true)
}

/// `exit_sem`: applies the SEM_UNDO adjustments of process `tgid`, which is ending,
/// clamping each value to [0, SEMVMX] as today's kernel does, and forgets it.
pub fn exit_sem(k: &mut Kernel, tgid: u32) {
    k.ipc.sleepers.retain(|&pid, _| pid != k.task.pid);
    let mine: Vec<(i32, Vec<i32>)> = k
        .ipc
        .undo
        .iter()
        .filter(|((t, _), _)| *t == tgid)
        .map(|(&(_, id), u)| (id, u.clone()))
        .collect();
    for (id, adj) in mine {
        k.ipc.undo.remove(&(tgid, id));
        let Ok(o) = k.ipc.sem.get_mut(id) else { continue };
        let mut changed = false;
        for (s, a) in o.body.sems.iter_mut().zip(adj) {
            if a != 0 {
                s.val = (s.val + a).clamp(0, SEMVMX);
                s.pid = tgid;
                changed = true;
            }
        }
        if changed {
            o.body.otime = now_secs();
            wake(k, id);
        }
    }
}

// ---------------------------------------------------------------------------------
// Message queues
// ---------------------------------------------------------------------------------

/// msgget(key, msgflg).
pub fn sys_msgget(k: &mut Kernel, a: Args) -> SysResult {
    let (key, flg) = (a[0] as i32, a[1]);
    ipcget(&k.task.cred, &mut k.ipc.msg, key, flg, MSGMNI, |_| Ok(()), || {
        Ok(MsgQueue {
            msgs: VecDeque::new(),
            cbytes: 0,
            qbytes: MSGMNB,
            stime: 0,
            rtime: 0,
            ctime: now_secs(),
            lspid: 0,
            lrpid: 0,
        })
    })
}

/// `do_msgsnd(msqid, mtype, mtext, msgsz, msgflg)`.
fn do_msgsnd(k: &mut Kernel, msqid: i32, msgp: u32, msgsz: u32, msgflg: u32) -> SysResult {
    let slept = resumed(k, msqid);
    if msgsz > MSGMAX || (msgsz as i32) < 0 || msqid < 0 {
        return Err(EINVAL);
    }
    let mtype = k.get_user::<u32>(msgp)? as i32;
    if mtype < 1 {
        return Err(EINVAL);
    }
    let text = k.read_user(msgp.wrapping_add(4), msgsz as usize)?;
    let r = k.ipc.msg.get_mut(msqid).map(|_| ());
    check_gone(r, msqid, slept)?;
    let pid = k.task.tgid;
    let o = k.ipc.msg.get_mut(msqid)?;
    ipcperms(&k.task.cred, &o.perm, S_IWUGO)?;
    let q = &mut o.body;
    if msgsz + q.cbytes > q.qbytes || 1 + q.msgs.len() as u32 > q.qbytes {
        if msgflg & IPC_NOWAIT != 0 {
            return Err(libc::EAGAIN);
        }
        return ipc_sleep(k, msqid, None, None);
    }
    q.msgs.push_back(Msg { mtype, text });
    q.cbytes += msgsz;
    q.lspid = pid;
    q.stime = now_secs();
    wake(k, msqid);
    Ok(0)
}

/// msgsnd(msqid, msgp, msgsz, msgflg).
pub fn sys_msgsnd(k: &mut Kernel, a: Args) -> SysResult {
    do_msgsnd(k, a[0] as i32, a[1], a[2], a[3])
}

/// `find_msg`: the index of the message `msgtyp` and `msgflg` select (see msgrcv(2)).
fn find_msg(q: &MsgQueue, msgtyp: i32, msgflg: u32) -> Option<usize> {
    if msgtyp == 0 {
        return (!q.msgs.is_empty()).then_some(0);
    }
    if msgtyp < 0 {
        // SEARCH_LESSEQUAL: the first of the lowest type at most |msgtyp|.
        let limit = if msgtyp == i32::MIN { i32::MAX } else { -msgtyp };
        let mut best: Option<(usize, i32)> = None;
        for (i, m) in q.msgs.iter().enumerate() {
            if m.mtype <= limit && best.is_none_or(|(_, t)| m.mtype < t) {
                best = Some((i, m.mtype));
            }
        }
        return best.map(|(i, _)| i);
    }
    if msgflg & MSG_EXCEPT != 0 {
        q.msgs.iter().position(|m| m.mtype != msgtyp)
    } else {
        q.msgs.iter().position(|m| m.mtype == msgtyp)
    }
}

/// `do_msgrcv(msqid, buf, bufsz, msgtyp, msgflg)`.
fn do_msgrcv(k: &mut Kernel, msqid: i32, msgp: u32, bufsz: u32, msgtyp: i32, msgflg: u32) -> SysResult {
    let slept = resumed(k, msqid);
    if msqid < 0 || (bufsz as i32) < 0 {
        return Err(EINVAL);
    }
    if msgflg & MSG_COPY != 0 {
        // Only with CONFIG_CHECKPOINT_RESTORE.
        return Err(ENOSYS);
    }
    let r = k.ipc.msg.get(msqid).map(|_| ());
    check_gone(r, msqid, slept)?;
    let pid = k.task.tgid;
    let o = k.ipc.msg.get_mut(msqid)?;
    ipcperms(&k.task.cred, &o.perm, S_IRUGO)?;
    let q = &mut o.body;
    let Some(i) = find_msg(q, msgtyp, msgflg) else {
        if msgflg & IPC_NOWAIT != 0 {
            return Err(ENOMSG);
        }
        return ipc_sleep(k, msqid, None, None);
    };
    if q.msgs[i].text.len() > bufsz as usize && msgflg & MSG_NOERROR == 0 {
        return Err(E2BIG);
    }
    let Some(m) = q.msgs.remove(i) else { return Err(EINVAL) };
    q.cbytes -= m.text.len() as u32;
    q.lrpid = pid;
    q.rtime = now_secs();
    wake(k, msqid);
    let n = m.text.len().min(bufsz as usize);
    k.put_user::<u32>(msgp, m.mtype as u32)?;
    k.copy_to_user(msgp.wrapping_add(4), &m.text[..n]).map_err(|_| EFAULT)?;
    Ok(n as u32)
}

/// msgrcv(msqid, msgp, msgsz, msgtyp, msgflg).
pub fn sys_msgrcv(k: &mut Kernel, a: Args) -> SysResult {
    do_msgrcv(k, a[0] as i32, a[1], a[2], a[3] as i32, a[4])
}

/// msgctl(msqid, cmd, buf).
fn do_msgctl(k: &mut Kernel, msqid: i32, cmd: u32, buf: u32, ipc64: bool) -> SysResult {
    if msqid < 0 && !matches!(cmd, IPC_INFO | MSG_INFO) {
        return Err(EINVAL);
    }
    let needs_buf = matches!(cmd, IPC_STAT | IPC_SET | IPC_INFO | MSG_INFO | MSG_STAT | MSG_STAT_ANY);
    if needs_buf && !ipc64 {
        return Err(EINVAL);
    }
    match cmd {
        IPC_INFO | MSG_INFO => {
            let msg = &k.ipc.msg;
            let mut info = Msginfo {
                msgpool: 16384,
                msgmap: 16384,
                msgmax: MSGMAX as i32,
                msgmnb: MSGMNB as i32,
                msgmni: MSGMNI as i32,
                msgssz: 16,
                msgtql: 16384,
                msgseg: 0xffff,
                pad: 0,
            };
            if cmd == MSG_INFO {
                info.msgpool = msg.objs.len() as i32;
                info.msgmap = msg.objs.values().map(|o| o.body.msgs.len() as i32).sum();
                info.msgtql = msg.objs.values().map(|o| o.body.cbytes as i32).sum();
            }
            let max = msg.max_idx();
            put_struct(k, buf, &info)?;
            Ok(max)
        }
        IPC_STAT | MSG_STAT | MSG_STAT_ANY => {
            let o = if cmd == IPC_STAT { k.ipc.msg.get(msqid)? } else { by_index(&k.ipc.msg, msqid)? };
            if cmd != MSG_STAT_ANY {
                ipcperms(&k.task.cred, &o.perm, S_IRUGO)?;
            }
            let q = &o.body;
            let ds = Msqid64Ds {
                msg_perm: o.perm.to_abi(),
                msg_stime: q.stime,
                msg_rtime: q.rtime,
                msg_ctime: q.ctime,
                msg_cbytes: q.cbytes,
                msg_qnum: q.msgs.len() as u32,
                msg_qbytes: q.qbytes,
                msg_lspid: q.lspid as i32,
                msg_lrpid: q.lrpid as i32,
                ..Default::default()
            };
            let id = o.id;
            put_struct(k, buf, &ds)?;
            Ok(if cmd == IPC_STAT { 0 } else { id as u32 })
        }
        IPC_SET => {
            let new: Msqid64Ds = get_struct(k, buf)?;
            let o = k.ipc.msg.get_mut(msqid)?;
            owner_check(&k.task.cred, &o.perm)?;
            // Raising msg_qbytes past MSGMNB needs CAP_SYS_RESOURCE.
            if new.msg_qbytes > MSGMNB && !k.task.cred.capable(CAP_SYS_RESOURCE) {
                return Err(EPERM);
            }
            update_perm(&mut o.perm, &new.msg_perm);
            o.body.qbytes = new.msg_qbytes;
            o.body.ctime = now_secs();
            wake(k, msqid);
            Ok(0)
        }
        IPC_RMID => {
            let o = k.ipc.msg.get(msqid)?;
            owner_check(&k.task.cred, &o.perm)?;
            k.ipc.msg.remove(msqid);
            wake(k, msqid);
            Ok(0)
        }
        _ => Err(EINVAL),
    }
}

/// msgctl(msqid, cmd, buf): the 64-bit layouts, the command as it is (see
/// [`sys_shmctl`]).
pub fn sys_msgctl(k: &mut Kernel, a: Args) -> SysResult {
    do_msgctl(k, a[0] as i32, a[1], a[2], true)
}

// ---------------------------------------------------------------------------------
// ipc(2)
// ---------------------------------------------------------------------------------

const SEMOP: u32 = 1;
const SEMGET: u32 = 2;
const SEMCTL: u32 = 3;
const SEMTIMEDOP: u32 = 4;
const MSGSND: u32 = 11;
const MSGRCV: u32 = 12;
const MSGGET: u32 = 13;
const MSGCTL: u32 = 14;
const SHMAT: u32 = 21;
const SHMDT: u32 = 22;
const SHMGET: u32 = 23;
const SHMCTL: u32 = 24;

/// ipc(call, first, second, third, ptr, fifth): i386's multiplexer, with
/// `ksys_ipc`'s argument quirks (the version in the high half of `call`).
pub fn sys_ipc(k: &mut Kernel, a: Args) -> SysResult {
    let (call, first, second, third, ptr, fifth) = (a[0], a[1], a[2], a[3], a[4], a[5]);
    let version = call >> 16;
    match call & 0xffff {
        SEMOP => do_semtimedop(k, first as i32, ptr, second, 0, false),
        SEMTIMEDOP => do_semtimedop(k, first as i32, ptr, second, fifth, false),
        SEMGET => sys_semget(k, [first, second, third, 0, 0, 0]),
        SEMCTL => {
            // The fourth argument points at the union.
            if ptr == 0 {
                return Err(EINVAL);
            }
            let arg: u32 = k.get_user(ptr)?;
            let (cmd, ipc64) = parse_version(third);
            do_semctl(k, first as i32, second as i32, cmd, arg, ipc64)
        }
        MSGSND => do_msgsnd(k, first as i32, ptr, second, third),
        MSGRCV => {
            if version == 0 {
                if ptr == 0 {
                    return Err(EINVAL);
                }
                let kl: IpcKludge = get_struct(k, ptr)?;
                do_msgrcv(k, first as i32, kl.msgp, second, kl.msgtyp, third)
            } else {
                do_msgrcv(k, first as i32, ptr, second, fifth as i32, third)
            }
        }
        MSGGET => sys_msgget(k, [first, second, 0, 0, 0, 0]),
        MSGCTL => {
            let (cmd, ipc64) = parse_version(second);
            do_msgctl(k, first as i32, cmd, ptr, ipc64)
        }
        SHMAT => {
            // Version 1 was iBCS2's kernel-internal entry point.
            if version == 1 {
                return Err(EINVAL);
            }
            let addr = do_shmat(k, first as i32, ptr, second)?;
            k.put_user::<u32>(third, addr)?;
            Ok(0)
        }
        SHMDT => sys_shmdt(k, [ptr, 0, 0, 0, 0, 0]),
        SHMGET => sys_shmget(k, [first, second, third, 0, 0, 0]),
        SHMCTL => {
            let (cmd, ipc64) = parse_version(second);
            do_shmctl(k, first as i32, cmd, ptr, ipc64)
        }
        _ => Err(ENOSYS),
    }
}
