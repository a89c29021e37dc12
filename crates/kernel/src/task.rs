//! The task (`task_struct` in 2.4): a thread of a process. Its identity, the objects
//! it may share with other tasks (address space, files, filesystem context, signal
//! handlers, thread group: see [`crate::share`]), its own signal mask and pending
//! signals, limits, fault counters, and what the scheduler keeps about it (state,
//! saved CPU context; see [`crate::sched`]).

use std::time::Instant;

use crate::files::FdTable;
use crate::mm::MmStruct;
use crate::sched::{Context, TaskState};
use crate::share::{FsStruct, ShareIds, ThreadGroup};
use crate::signal::{SignalState, SIGCHLD};

pub const RLIMIT_CPU: usize = 0;
pub const RLIMIT_FSIZE: usize = 1;
pub const RLIMIT_DATA: usize = 2;
pub const RLIMIT_STACK: usize = 3;
pub const RLIMIT_CORE: usize = 4;
#[allow(dead_code)] // kept so the table is whole
pub const RLIMIT_RSS: usize = 5;
pub const RLIMIT_NPROC: usize = 6;
pub const RLIMIT_NOFILE: usize = 7;
pub const RLIMIT_MEMLOCK: usize = 8;
pub const RLIMIT_AS: usize = 9;
pub const RLIMIT_NICE: usize = 13;
pub const RLIMIT_RTPRIO: usize = 14;
pub const RLIM_NLIMITS: usize = 16;
pub const RLIM_INFINITY: u64 = u64::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rlimit {
    pub cur: u64,
    pub max: u64,
}

/// `INIT_RLIMITS` of 2.4 i386 (linux24.md §4.5): STACK 8 MiB, CORE 0, NOFILE 1024.
pub fn default_rlimits() -> [Rlimit; RLIM_NLIMITS] {
    let inf = Rlimit { cur: RLIM_INFINITY, max: RLIM_INFINITY };
    let mut r = [inf; RLIM_NLIMITS];
    r[RLIMIT_STACK] = Rlimit { cur: 8 << 20, max: RLIM_INFINITY };
    r[RLIMIT_CORE] = Rlimit { cur: 0, max: RLIM_INFINITY };
    r[RLIMIT_NOFILE] = Rlimit { cur: 1024, max: 1024 };
    r[RLIMIT_NPROC] = Rlimit { cur: 4096, max: 4096 };
    // Today's INIT_RLIMITS (2.4 had neither): no nice value below 0 and no
    // real-time priority without CAP_SYS_NICE.
    r[RLIMIT_NICE] = Rlimit { cur: 0, max: 0 };
    r[RLIMIT_RTPRIO] = Rlimit { cur: 0, max: 0 };
    r
}

/// What the last user fault left in `current->thread` (copied to sigcontext).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThreadFault {
    pub cr2: u32,
    pub error_code: u32,
    pub trap_no: u32,
}

/// Counters `--stats` and the tracer report, beyond the 2.4 ones.
#[derive(Clone, Copy, Debug, Default)]
pub struct FaultStats {
    pub cow_copies: u64,
    pub cow_reuses: u64,
    pub stack_expansions: u64,
    pub zero_page_maps: u64,
    pub pages_allocated: u64,
    pub peak_rss: u64,
    /// Children this process created with fork/vfork/clone.
    pub forks: u64,
}

pub struct Task {
    /// The task's own id (a thread id; `gettid`).
    pub pid: u32,
    /// The thread group: the pid of its first thread (`getpid`). A process that never
    /// made a thread has `tgid == pid`.
    pub tgid: u32,
    /// The parent process (a tgid): every thread of a process has the same parent.
    pub ppid: u32,
    /// Process group and session (setpgid/setsid; inherited across fork).
    pub pgid: u32,
    pub sid: u32,
    /// The task has called execve since its fork: its parent may no longer move it
    /// to another process group (setpgid's EACCES).
    pub did_exec: bool,
    pub comm: String,
    /// Host path of the executable (for /proc/self/exe and AT_EXECFN).
    pub exe: String,
    /// Which shared objects the task uses; while it is current it holds them in `mm`,
    /// `files`, `fs`, `sig.actions` and `group` (empty otherwise, see [`crate::share`]).
    pub ids: ShareIds,
    pub mm: MmStruct,
    pub files: FdTable,
    pub fs: FsStruct,
    pub sig: SignalState,
    pub group: ThreadGroup,
    pub rlim: [Rlimit; RLIM_NLIMITS],
    /// Nice value, scheduling policy and real-time priority
    /// ([`crate::syscall::priority`]).
    pub sched: crate::syscall::priority::SchedAttr,
    /// The execution domain and its flags (personality(2)): PER_LINUX (0) with
    /// ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC... as the program set them. Reported
    /// back; the kernel's behaviour does not depend on them (it never randomises).
    pub personality: u32,
    /// The task's own credentials (`task->cred`; see [`crate::cred`]).
    pub cred: crate::cred::Cred,
    pub thread: ThreadFault,
    /// `min_flt` / `maj_flt` of 2.4: charged by `do_page_fault` from the result of
    /// `handle_mm_fault` (linux24.md §3.8).
    pub min_flt: u64,
    pub maj_flt: u64,
    /// `cmin_flt` / `cmaj_flt`: the counts of reaped children (their own plus their
    /// children's), added by wait4 (linux24.md §3.8); getrusage(RUSAGE_CHILDREN).
    pub cmin_flt: u64,
    pub cmaj_flt: u64,
    pub stats: FaultStats,
    /// set_tid_address, or clone's CLONE_CHILD_CLEARTID.
    pub clear_child_tid: u32,
    /// clone's CLONE_CHILD_SETTID: the child stores its pid here when it first runs
    /// (`schedule_tail`), in its own address space and charged to it.
    pub set_child_tid: u32,
    pub robust_list: (u32, u32),
    /// The signal sent to the parent at exit (clone's CSIGNAL; SIGCHLD for fork; -1
    /// for a thread, which nobody waits for).
    pub exit_signal: i32,
    /// Running, sleeping (on what), or a zombie (with its exit status).
    pub state: TaskState,
    /// The user CPU context while the task is not current.
    pub ctx: Context,
    /// Set once the process has exec'd or exited: releases a parent waiting in vfork
    /// (2.4's `mm_release` → `complete(vfork_done)`).
    pub vfork_done: bool,
    /// The system call number to restart with (2.4's `regs->orig_eax` when it is
    /// not -1): set when a call returns one of the `ERESTART*` codes, consumed by
    /// `do_signal` on the way back to user mode.
    pub orig_eax: Option<u32>,
    /// Absolute deadline of a timed wait (nanosleep, poll, select) that is being
    /// restarted after sleeping, so the restart does not start the time again.
    pub timeout: Option<Instant>,
    /// The task was asleep and runs again to re-execute its system call (a futex
    /// wait tells a timeout or a signal from a spurious wake-up by it).
    pub woken: bool,
    /// A host-run task: it exec'd a program that is not i386, which runs as this host
    /// process ([`crate::hostproc`]).
    pub host: Option<Box<crate::hostproc::HostProc>>,
    /// `start_time` and `PF_MEMDIE` (`mm/oom_kill.rs`).
    pub oom: crate::mm::oom_kill::OomTask,
}

/// The emulator's own personality flags, which a program started the same way
/// natively would inherit (`setarch -R growsdown run …`: ADDR_NO_RANDOMIZE).
fn host_personality() -> u32 {
    // SAFETY: 0xffffffff only queries; no pointers.
    let p = unsafe { libc::personality(0xffff_ffff) };
    if p < 0 {
        0
    } else {
        p as u32
    }
}

impl Task {
    /// `min_flt`, `maj_flt`, `cmin_flt`, `cmaj_flt`.
    pub fn faults(&self) -> [u64; 4] {
        [self.min_flt, self.maj_flt, self.cmin_flt, self.cmaj_flt]
    }

    /// A task that is its own thread group, using the objects `ids`.
    pub fn new(pid: u32, comm: &str, exe: &str, ids: ShareIds) -> Self {
        Self {
            pid,
            tgid: pid,
            ppid: crate::exit::INIT_PPID,
            // The first process is started the way a non-interactive shell starts a
            // command: in its caller's process group and session, not a leader of
            // either (so setsid succeeds, as natively from a script).
            pgid: crate::exit::INIT_PPID,
            sid: crate::exit::INIT_PPID,
            did_exec: false,
            comm: comm.chars().take(15).collect(),
            exe: exe.to_string(),
            ids,
            mm: MmStruct::default(),
            files: FdTable::with_stdio(),
            fs: FsStruct::from_host(),
            sig: SignalState::default(),
            group: ThreadGroup::default(),
            rlim: default_rlimits(),
            sched: crate::syscall::priority::SchedAttr::from_host(),
            personality: host_personality(),
            cred: crate::cred::Cred::from_host(),
            thread: ThreadFault::default(),
            min_flt: 0,
            maj_flt: 0,
            cmin_flt: 0,
            cmaj_flt: 0,
            stats: FaultStats::default(),
            clear_child_tid: 0,
            set_child_tid: 0,
            robust_list: (0, 0),
            exit_signal: SIGCHLD,
            state: TaskState::Running,
            ctx: Context::default(),
            vfork_done: false,
            orig_eax: None,
            timeout: None,
            woken: false,
            host: None,
            oom: Default::default(),
        }
    }
}
