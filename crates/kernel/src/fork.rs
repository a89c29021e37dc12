//! fork, vfork and clone: 2.4's `kernel/fork.c` (`do_fork`, `copy_mm`, `copy_files`,
//! `copy_sighand`, `get_pid`).
//!
//! The child is a copy of the caller:
//!
//! * **memory:** `copy_mm` without CLONE_VM is [`crate::mm::dup_mmap`], exactly spec
//!   §4.1: every private page is write-protected in both processes (parent PTE 0x067
//!   becomes 0x065, the child's is 0x045), page counts go up, the parent's TLB is
//!   flushed, and the first write on either side is a COW fault;
//! * **counters:** the child's `min_flt`, `maj_flt`, `cmin_flt`, `cmaj_flt` start at
//!   0 (linux24.md §3.8), and so do the emulator's extra statistics;
//! * **files:** every guest fd is duplicated on the host, so both processes share the
//!   open file descriptions (offsets, status flags) and close their own copies (the
//!   emulator raises its own soft descriptor limit to the hard one for that);
//! * **signals:** handlers, blocked mask and alternate stack are copied; nothing is
//!   pending in the child;
//! * rlimits, umask, working directory, name, TLS descriptors and LDT are copied;
//! * **registers:** the caller's, with EAX = 0 in the child (and ESP = the new stack
//!   if clone gave one). The parent gets the child's pid and goes on running; the
//!   child is queued (2.4 does not run the child first).
//!
//! **vfork** (and clone with CLONE_VFORK) suspends the parent until the child execs or
//! exits, as 2.4 does. The child's memory, however, is a copy-on-write copy, not the
//! parent's own address space: a child that only execs or `_exit`s — all a vfork child
//! may do — cannot tell, but one that writes to memory the parent reads afterwards
//! would see its writes stay in its copy. The same holds for CLONE_VM together with
//! CLONE_VFORK (glibc's `posix_spawn`: its report of a failed exec to the parent is
//! lost; the child then exits with 127, as old glibc's did). **Threads** — CLONE_VM
//! without CLONE_VFORK, and CLONE_THREAD, CLONE_SIGHAND, CLONE_FILES, CLONE_FS, which
//! share kernel objects the emulator keeps per process — are refused with EINVAL.

use growsdown_cpu::{EAX, ESP};

use crate::errno::{SysResult, EAGAIN, EINVAL, ENOMEM};
use crate::sched::{open_cwd, Context, TaskState};
use crate::signal::{SignalState, NSIG};
use crate::task::{FaultStats, Task, RLIMIT_NPROC};
use crate::Kernel;

pub const CSIGNAL: u32 = 0x0000_00ff;
pub const CLONE_VM: u32 = 0x0000_0100;
#[allow(dead_code)] // kept so the table is whole
pub const CLONE_FS: u32 = 0x0000_0200;
#[allow(dead_code)] // kept so the table is whole
pub const CLONE_FILES: u32 = 0x0000_0400;
#[allow(dead_code)] // kept so the table is whole
pub const CLONE_SIGHAND: u32 = 0x0000_0800;
pub const CLONE_PTRACE: u32 = 0x0000_2000;
pub const CLONE_VFORK: u32 = 0x0000_4000;
pub const CLONE_PARENT: u32 = 0x0000_8000;
#[allow(dead_code)] // kept so the table is whole
pub const CLONE_THREAD: u32 = 0x0001_0000;
pub const CLONE_SYSVSEM: u32 = 0x0004_0000;
pub const CLONE_SETTLS: u32 = 0x0008_0000;
pub const CLONE_PARENT_SETTID: u32 = 0x0010_0000;
pub const CLONE_CHILD_CLEARTID: u32 = 0x0020_0000;
pub const CLONE_DETACHED: u32 = 0x0040_0000;
pub const CLONE_UNTRACED: u32 = 0x0080_0000;
pub const CLONE_CHILD_SETTID: u32 = 0x0100_0000;

/// `PID_MAX` of 2.4: pids are below it, and wrap around to 300 (`RESERVED_PIDS`).
pub const PID_MAX: u32 = 0x8000;
const RESERVED_PIDS: u32 = 300;
// The first process's parent is outside the machine: get_pid must never hand its pid out.
const _: () = assert!(crate::exit::INIT_PPID < RESERVED_PIDS && crate::exit::INIT_PID < PID_MAX);

/// Flags the emulator honours (or may ignore without changing what the guest sees:
/// ptrace, SysV semaphore undo, the obsolete CLONE_DETACHED).
const SUPPORTED: u32 = CSIGNAL
    | CLONE_VM
    | CLONE_PTRACE
    | CLONE_VFORK
    | CLONE_PARENT
    | CLONE_SYSVSEM
    | CLONE_SETTLS
    | CLONE_PARENT_SETTID
    | CLONE_CHILD_CLEARTID
    | CLONE_DETACHED
    | CLONE_UNTRACED
    | CLONE_CHILD_SETTID;

/// `get_pid`: the next free pid after the last one handed out, wrapping from
/// PID_MAX to 300.
fn get_pid(k: &mut Kernel) -> Option<u32> {
    for _ in 0..PID_MAX {
        k.last_pid += 1;
        if k.last_pid >= PID_MAX {
            k.last_pid = RESERVED_PIDS;
        }
        let p = k.last_pid;
        if k.find_task(p).is_none() {
            return Some(p);
        }
    }
    None
}

/// Every guest process holds host descriptors of its own: the emulator's soft
/// RLIMIT_NOFILE is raised to its hard limit once, before the first fork. (The guest's
/// own RLIMIT_NOFILE is the task's, unaffected.)
fn raise_host_nofile() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: `r` is a valid rlimit for getrlimit and setrlimit.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 && r.rlim_cur < r.rlim_max {
                r.rlim_cur = r.rlim_max;
                libc::setrlimit(libc::RLIMIT_NOFILE, &r);
            }
        }
    });
}

/// The host's umask, read without changing it.
pub(crate) fn host_umask() -> u32 {
    // SAFETY: umask cannot fail; the second call puts the value back.
    unsafe {
        let m = libc::umask(0o022);
        libc::umask(m);
        m
    }
}

/// `do_fork(clone_flags, stack_start, ...)` (see the module doc). `stack` 0 keeps the
/// caller's ESP. `parent_tid`, `child_tid` and `tls` are clone's pointers for
/// CLONE_PARENT_SETTID, CLONE_CHILD_SETTID / CLONE_CHILD_CLEARTID and CLONE_SETTLS.
/// Returns the child's pid.
pub fn do_fork(
    k: &mut Kernel,
    flags: u32,
    stack: u32,
    parent_tid: u32,
    child_tid: u32,
    tls: u32,
) -> SysResult {
    if flags & !SUPPORTED != 0 || (flags & CLONE_VM != 0 && flags & CLONE_VFORK == 0) {
        log::warn!(
            target: "kernel::syscall",
            "clone flags {flags:#x}: threads and shared fs/files/signal tables are not supported: EINVAL"
        );
        return Err(EINVAL);
    }
    let exit_signal = (flags & CSIGNAL) as i32;
    if exit_signal > NSIG {
        return Err(EINVAL);
    }
    // RLIMIT_NPROC counts every process, zombies included (2.4's nr_threads check).
    if (k.tasks.len() as u64 + 1) >= k.task.rlim[RLIMIT_NPROC].cur {
        return Err(EAGAIN);
    }
    let tls_desc =
        if flags & CLONE_SETTLS != 0 { Some(crate::syscall::process::tls_for_clone(k, tls)?) } else { None };
    let pid = get_pid(k).ok_or(EAGAIN)?;

    // copy_files: every guest fd becomes a host fd of the child's own. The host may
    // run out of descriptors (a guest limit it does not know about): the fork fails
    // rather than hand the child a table with holes.
    raise_host_nofile();
    let files = k.task.files.clone();
    if files.count() != k.task.files.count() {
        log::warn!(target: "kernel::sched", "fork: the host has no descriptors left for the child's files");
        return Err(ENOMEM);
    }

    // copy_mm: dup_mmap write-protects the parent's private pages and flushes its TLB.
    let mm = crate::mm::dup_mmap(k)?;

    let tls_min = k.config.personality.tls_entry_min;
    let mut ctx = Context::save(&k.cpu, 0, tls_min);
    ctx.regs[EAX] = 0;
    if stack != 0 {
        ctx.regs[ESP] = stack;
    }
    if let Some((idx, desc)) = tls_desc {
        ctx.tls[idx - tls_min] = desc;
    }
    let umask = host_umask();
    k.task.umask = umask;
    let parent = &k.task;
    let child = Task {
        pid,
        ppid: if flags & CLONE_PARENT != 0 { parent.ppid } else { parent.pid },
        pgid: parent.pgid,
        sid: parent.sid,
        did_exec: false,
        comm: parent.comm.clone(),
        exe: parent.exe.clone(),
        mm,
        files,
        sig: SignalState { pending: Vec::new(), saved_mask: None, ..parent.sig.clone() },
        rlim: parent.rlim,
        thread: parent.thread,
        min_flt: 0,
        maj_flt: 0,
        cmin_flt: 0,
        cmaj_flt: 0,
        stats: FaultStats::default(),
        clear_child_tid: if flags & CLONE_CHILD_CLEARTID != 0 { child_tid } else { 0 },
        set_child_tid: if flags & CLONE_CHILD_SETTID != 0 { child_tid } else { 0 },
        robust_list: (0, 0),
        umask,
        exit_signal,
        state: TaskState::Running,
        ctx,
        cwd: open_cwd(),
        vfork_done: false,
        orig_eax: None,
        timeout: None,
    };
    log::debug!(
        target: "kernel::sched",
        "pid {} forks pid {pid} (flags {flags:#x}, rss {}, {} VMAs)",
        k.task.pid,
        child.mm.rss,
        child.mm.mmap.len()
    );
    k.tasks.insert(pid, child);
    k.task.stats.forks += 1;
    if flags & CLONE_PARENT_SETTID != 0 {
        // In the parent's memory only (the child's is a copy); a fault is ignored.
        let _ = k.put_user::<u32>(parent_tid, pid);
    }
    if flags & CLONE_VFORK != 0 {
        k.task.state = TaskState::VforkWait { child: pid };
    }
    Ok(pid)
}

/// fork(): `do_fork(SIGCHLD, 0)`.
pub fn sys_fork(k: &mut Kernel) -> SysResult {
    do_fork(k, crate::signal::SIGCHLD as u32, 0, 0, 0, 0)
}

/// vfork(): `do_fork(CLONE_VFORK | CLONE_VM | SIGCHLD, 0)`.
pub fn sys_vfork(k: &mut Kernel) -> SysResult {
    do_fork(k, CLONE_VFORK | CLONE_VM | crate::signal::SIGCHLD as u32, 0, 0, 0, 0)
}

/// clone(flags, newsp, parent_tidptr, tls, child_tidptr): the i386 argument order.
pub fn sys_clone(
    k: &mut Kernel,
    flags: u32,
    newsp: u32,
    parent_tid: u32,
    tls: u32,
    child_tid: u32,
) -> SysResult {
    do_fork(k, flags, newsp, parent_tid, child_tid, tls)
}
