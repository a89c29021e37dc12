//! What tasks share: 2.4's `task_struct` points at its address space (`mm`), its
//! open files (`files`), its filesystem context (`fs`: working directory and umask)
//! and its signal handlers (`sig`); `clone` flags decide whether a child gets copies
//! or the caller's own objects (CLONE_VM, CLONE_FILES, CLONE_FS, CLONE_SIGHAND), and
//! CLONE_THREAD puts it in the caller's thread group, which shares the pending
//! process-directed signals and the group's exit (today's `signal_struct`).
//!
//! ## Where the objects live
//!
//! The rest of the kernel works on `current` (`k.task`) and reads `k.task.mm`,
//! `k.task.files`, `k.task.fs`, `k.task.sig.actions` and `k.task.group` directly, as
//! 2.4 reads `current->mm`. So the current task *holds* the objects it uses in its own fields,
//! and every object that the current task does not use is *parked* in
//! [`Parked`], under its id; the fields of a task that is not current are empty.
//! A task names its objects by id ([`ShareIds`], and its tgid for the thread
//! group); id 0 means "none" (a task that has exited has given everything back).
//!
//! [`hand_over`] is the part of a context switch that keeps this true: an object the
//! incoming task shares with the outgoing one moves from one to the other (threads
//! of one process switch without touching anything else, in particular without a
//! CR3 reload, as 2.4's `switch_mm` skips `prev == next`); otherwise the outgoing
//! task's objects are parked and the incoming task's are taken out of the park.
//!
//! ## The working directory and the umask
//!
//! A task's `fs` keeps its working directory as an `O_PATH` descriptor and its umask
//! as a number; the kernel applies the umask itself to what a task creates. The host
//! resolves a relative path against the emulator process's one working directory,
//! so the kernel moves that directory to the current task's only when a call is
//! about to resolve a relative path and it is not there already
//! ([`Kernel::sync_cwd`]): a context switch never calls chdir or umask, and
//! processes that never use relative paths never move it.
//!
//! ## Reference counts
//!
//! 2.4 counts the users of an `mm_struct` in `mm_users` and frees it when the last
//! one calls `mmput`; the same for `files_struct`, `fs_struct` and `signal_struct`.
//! Here the count is not stored: it is the number of tasks naming the object
//! ([`Kernel::users`]), and the task that leaves an object last frees it
//! ([`crate::exit::do_exit`], [`release_shares`]).

use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, OwnedFd};

use crate::files::FdTable;
use crate::mm::MmStruct;
use crate::run::ExitStatus;
use crate::signal::{SigAction, SigInfo};
use crate::task::Task;
use crate::Kernel;

/// The ids of the objects a task uses; 0: none. The thread group's id is the tgid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShareIds {
    pub mm: u32,
    pub files: u32,
    pub fs: u32,
    pub sighand: u32,
    pub group: u32,
}

/// Which shared object, for [`Kernel::users`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Mm,
    Files,
    Fs,
    Sighand,
    Group,
}

impl ShareIds {
    pub fn get(&self, kind: Kind) -> u32 {
        match kind {
            Kind::Mm => self.mm,
            Kind::Files => self.files,
            Kind::Fs => self.fs,
            Kind::Sighand => self.sighand,
            Kind::Group => self.group,
        }
    }
}

/// `fs_struct`: the working directory (`None` only if the host could not open it)
/// and the umask.
#[derive(Debug)]
pub struct FsStruct {
    pub cwd: Option<OwnedFd>,
    pub umask: u32,
}

impl Default for FsStruct {
    fn default() -> Self {
        Self { cwd: None, umask: 0o022 }
    }
}

impl FsStruct {
    /// The host's working directory and umask now (the first task's).
    pub fn from_host() -> Self {
        Self { cwd: crate::sched::open_cwd(), umask: crate::fork::host_umask() }
    }

    /// A copy for a child without CLONE_FS (`copy_fs_struct`).
    pub fn copy(&self) -> Self {
        Self { cwd: self.cwd.as_ref().and_then(|fd| fd.try_clone().ok()), umask: self.umask }
    }
}

/// What a thread group shares beyond the four objects (today's `signal_struct`):
/// process-directed signals waiting for a thread that does not block them, and the
/// status of an `exit_group` or a fatal signal that ends every thread.
#[derive(Clone, Debug, Default)]
pub struct ThreadGroup {
    pub shared_pending: Vec<SigInfo>,
    pub group_exit: Option<ExitStatus>,
    /// The fault counts of threads that have exited (`min_flt`, `maj_flt`, `cmin_flt`,
    /// `cmaj_flt`), which today's `__exit_signal` adds into `signal_struct`: the
    /// process's counts are its live threads' plus these.
    pub exited_faults: [u64; 4],
}

impl ThreadGroup {
    /// Adds an exiting thread's fault counts ([`Task::faults`]).
    pub fn add_faults(&mut self, faults: [u64; 4]) {
        for (sum, n) in self.exited_faults.iter_mut().zip(faults) {
            *sum += n;
        }
    }
}

/// The objects no current task uses, by id (thread groups by tgid).
#[derive(Debug, Default)]
pub struct Parked {
    pub mm: BTreeMap<u32, MmStruct>,
    pub files: BTreeMap<u32, FdTable>,
    pub fs: BTreeMap<u32, FsStruct>,
    pub sighand: BTreeMap<u32, Vec<SigAction>>,
    pub group: BTreeMap<u32, ThreadGroup>,
    last_id: u32,
}

impl Parked {
    /// A new object id, never handed out before.
    pub fn new_id(&mut self) -> u32 {
        self.last_id += 1;
        self.last_id
    }
}

/// Moves one kind of object from the outgoing task to the incoming one, or parks the
/// outgoing one's and unparks the incoming one's.
fn hand<T: Default>(park: &mut BTreeMap<u32, T>, out_id: u32, out: &mut T, in_id: u32, inn: &mut T) {
    if in_id == out_id {
        *inn = std::mem::take(out);
        return;
    }
    if out_id != 0 {
        park.insert(out_id, std::mem::take(out));
    }
    if in_id != 0 {
        *inn = park.remove(&in_id).unwrap_or_default();
    }
}

/// The object half of a context switch from `k.task` to `incoming` (see the module
/// doc). Returns whether the address space changes (CR3 must be reloaded).
pub fn hand_over(k: &mut Kernel, incoming: &mut Task) -> bool {
    let (out, inn) = (k.task.ids, incoming.ids);
    let p = &mut k.parked;
    hand(&mut p.mm, out.mm, &mut k.task.mm, inn.mm, &mut incoming.mm);
    hand(&mut p.files, out.files, &mut k.task.files, inn.files, &mut incoming.files);
    hand(&mut p.sighand, out.sighand, &mut k.task.sig.actions, inn.sighand, &mut incoming.sig.actions);
    hand(&mut p.group, out.group, &mut k.task.group, inn.group, &mut incoming.group);
    hand(&mut p.fs, out.fs, &mut k.task.fs, inn.fs, &mut incoming.fs);
    out.mm != inn.mm
}

impl Kernel {
    /// How many tasks use the object `id` of `kind` (`mm_users` and the other counts
    /// of 2.4; see the module doc).
    pub fn users(&self, kind: Kind, id: u32) -> usize {
        if id == 0 {
            return 0;
        }
        self.all_tasks().filter(|t| t.ids.get(kind) == id).count()
    }

    /// The address space of task `t`, current or not (`t->mm`).
    pub fn mm_of<'a>(&'a self, t: &'a Task) -> Option<&'a MmStruct> {
        match t.ids.mm {
            0 => None,
            id if id == self.task.ids.mm => Some(&self.task.mm),
            id => self.parked.mm.get(&id),
        }
    }

    /// The file table of task `t`.
    pub fn files_of<'a>(&'a self, t: &'a Task) -> Option<&'a FdTable> {
        match t.ids.files {
            0 => None,
            id if id == self.task.ids.files => Some(&self.task.files),
            id => self.parked.files.get(&id),
        }
    }

    /// The signal action of `sig` in task `t`'s handler table (`t->sig->action`).
    pub fn action_of(&self, t: &Task, sig: i32) -> SigAction {
        let actions = match t.ids.sighand {
            0 => return SigAction::default(),
            id if id == self.task.ids.sighand => &self.task.sig.actions,
            id => match self.parked.sighand.get(&id) {
                Some(a) => a,
                None => return SigAction::default(),
            },
        };
        sig.checked_sub(1)
            .and_then(|s| usize::try_from(s).ok())
            .and_then(|i| actions.get(i))
            .copied()
            .unwrap_or_default()
    }

    /// The umask of task `t`.
    pub fn umask_of(&self, t: &Task) -> u32 {
        if t.ids.fs == self.task.ids.fs {
            self.task.fs.umask
        } else {
            self.parked.fs.get(&t.ids.fs).map_or(0o022, |f| f.umask)
        }
    }

    /// Moves the emulator process's working directory to the current task's, if it
    /// is not there: called before the host resolves a relative path (see the module
    /// doc). A directory that cannot be entered any more (removed) leaves the host
    /// where it was, logged; the path then fails as it would natively only if it
    /// does not exist there either.
    pub fn sync_cwd(&self) {
        let id = self.task.ids.fs;
        if self.host_cwd.get() == id {
            return;
        }
        if let Some(fd) = &self.task.fs.cwd {
            // SAFETY: fchdir on a descriptor the task's fs owns.
            if unsafe { libc::fchdir(fd.as_raw_fd()) } < 0 {
                log::warn!(target: "kernel::syscall", "pid {}: cannot enter its working directory", self.task.pid);
                return;
            }
        }
        self.host_cwd.set(id);
    }

    /// The thread group `tgid` (`t->signal`), whether its threads are current or not.
    pub fn group(&self, tgid: u32) -> Option<&ThreadGroup> {
        if tgid != 0 && tgid == self.task.ids.group {
            Some(&self.task.group)
        } else {
            self.parked.group.get(&tgid)
        }
    }

    /// [`Self::group`], mutable.
    pub fn group_mut(&mut self, tgid: u32) -> Option<&mut ThreadGroup> {
        if tgid != 0 && tgid == self.task.ids.group {
            Some(&mut self.task.group)
        } else {
            self.parked.group.get_mut(&tgid)
        }
    }

    /// The fault counts of process `tgid` (`min_flt`, `maj_flt`, `cmin_flt`,
    /// `cmaj_flt`): its live threads' and its exited threads'.
    pub fn process_faults(&self, tgid: u32) -> [u64; 4] {
        let mut sum = self.group(tgid).map_or([0; 4], |g| g.exited_faults);
        for t in self.live_threads(tgid) {
            for (s, n) in sum.iter_mut().zip(t.faults()) {
                *s += n;
            }
        }
        sum
    }

    /// The threads of group `tgid` that have not exited, current included.
    pub fn live_threads(&self, tgid: u32) -> impl Iterator<Item = &Task> {
        self.all_tasks().filter(move |t| t.tgid == tgid && !t.state.is_zombie())
    }
}

/// Gives back every object a task that is not current uses (it is being killed with
/// its thread group, or the machine ends): an object nobody else uses is freed, an
/// address space through `mmput`.
pub fn release_shares(k: &mut Kernel, t: &mut Task) {
    let ids = std::mem::take(&mut t.ids);
    if k.users(Kind::Mm, ids.mm) == 0 {
        if let Some(mm) = k.parked.mm.remove(&ids.mm) {
            if mm.pgd != 0 {
                crate::mm::mmput(k, mm);
            }
        }
    }
    if k.users(Kind::Files, ids.files) == 0 {
        k.parked.files.remove(&ids.files);
    }
    if k.users(Kind::Fs, ids.fs) == 0 {
        k.parked.fs.remove(&ids.fs);
    }
    if k.users(Kind::Sighand, ids.sighand) == 0 {
        k.parked.sighand.remove(&ids.sighand);
    }
    if k.users(Kind::Group, ids.group) == 0 {
        k.parked.group.remove(&ids.group);
    }
}

/// The current task leaves its objects (`__exit_mm`, `__exit_files`, `__exit_fs`,
/// `__exit_sighand` of 2.4's `do_exit`): each one another task still uses is parked
/// for it; the last user frees it (the address space through `exit_mm`, the files by
/// closing their host descriptors, which is what lets a reader of this task's pipes
/// see EOF).
pub fn exit_shares(k: &mut Kernel) {
    let ids = k.task.ids;
    // The current task is one of the users: another one keeps the object.
    let shared = |k: &Kernel, kind: Kind, id: u32| k.users(kind, id) > 1;
    if shared(k, Kind::Mm, ids.mm) {
        let mm = std::mem::take(&mut k.task.mm);
        k.parked.mm.insert(ids.mm, mm);
        k.cpu.mmu.set_cr3(k.frames.swapper_pg_dir);
    } else {
        crate::mm::exit_mm(k);
    }
    let files = std::mem::take(&mut k.task.files);
    if shared(k, Kind::Files, ids.files) {
        k.parked.files.insert(ids.files, files);
    }
    let fs = std::mem::take(&mut k.task.fs);
    if shared(k, Kind::Fs, ids.fs) {
        k.parked.fs.insert(ids.fs, fs);
    }
    let actions = std::mem::take(&mut k.task.sig.actions);
    if shared(k, Kind::Sighand, ids.sighand) {
        k.parked.sighand.insert(ids.sighand, actions);
    }
    let group = std::mem::take(&mut k.task.group);
    if shared(k, Kind::Group, ids.group) {
        k.parked.group.insert(ids.group, group);
    }
    k.task.ids = ShareIds::default();
}
