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
//! exits, as 2.4 does; with CLONE_VM (vfork, glibc's `posix_spawn`) the child runs
//! in the parent's own address space meanwhile.
//!
//! **Sharing** (see [`crate::share`]): CLONE_VM gives the child the caller's address
//! space itself, CLONE_FILES its file table, CLONE_FS its working directory and
//! umask, CLONE_SIGHAND its signal handlers, and CLONE_THREAD puts it in the caller's
//! thread group (same tgid and parent, exit signal -1: a thread is not waited for).
//! A thread starts with the caller's signal mask and nothing pending, its own
//! alternate signal stack disabled, as today's `copy_process` leaves it.

use growsdown_cpu::{EAX, ESP};

use crate::errno::{Errno, SysResult, EAGAIN, EINVAL, ENOMEM};
use crate::sched::{Context, TaskState};
use crate::share::ThreadGroup;
use crate::signal::{SignalState, NSIG};
use crate::task::{FaultStats, Task, RLIMIT_NPROC};
use crate::Kernel;

pub const CSIGNAL: u32 = 0x0000_00ff;
pub const CLONE_VM: u32 = 0x0000_0100;
pub const CLONE_FS: u32 = 0x0000_0200;
pub const CLONE_FILES: u32 = 0x0000_0400;
pub const CLONE_SIGHAND: u32 = 0x0000_0800;
pub const CLONE_PTRACE: u32 = 0x0000_2000;
pub const CLONE_VFORK: u32 = 0x0000_4000;
pub const CLONE_PARENT: u32 = 0x0000_8000;
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
    | CLONE_FS
    | CLONE_FILES
    | CLONE_SIGHAND
    | CLONE_PTRACE
    | CLONE_VFORK
    | CLONE_PARENT
    | CLONE_THREAD
    | CLONE_SYSVSEM
    | CLONE_SETTLS
    | CLONE_PARENT_SETTID
    | CLONE_CHILD_CLEARTID
    | CLONE_DETACHED
    | CLONE_UNTRACED
    | CLONE_CHILD_SETTID;

/// CLONE_NEWNS, checked against CLONE_FS. Namespaces and pidfds (CLONE_PIDFD), which
/// the emulator does not have, are outside [`SUPPORTED`]: EINVAL.
const CLONE_NEWNS: u32 = 0x0002_0000;

/// The combinations `copy_process` refuses, in its order: CLONE_NEWNS with CLONE_FS,
/// CLONE_THREAD without CLONE_SIGHAND, CLONE_SIGHAND without CLONE_VM (all EINVAL).
fn check_flags(flags: u32) -> Result<(), Errno> {
    if flags & (CLONE_NEWNS | CLONE_FS) == (CLONE_NEWNS | CLONE_FS) {
        return Err(EINVAL);
    }
    if flags & CLONE_THREAD != 0 && flags & CLONE_SIGHAND == 0 {
        return Err(EINVAL);
    }
    if flags & CLONE_SIGHAND != 0 && flags & CLONE_VM == 0 {
        return Err(EINVAL);
    }
    if flags & !SUPPORTED != 0 {
        log::warn!(
            target: "kernel::syscall",
            "clone flags {:#x}: namespaces and pidfds are not supported: EINVAL",
            flags & !SUPPORTED
        );
        return Err(EINVAL);
    }
    Ok(())
}

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
/// Returns the child's pid (its tid, for a thread).
pub fn do_fork(
    k: &mut Kernel,
    flags: u32,
    stack: u32,
    parent_tid: u32,
    child_tid: u32,
    tls: u32,
) -> SysResult {
    check_flags(flags)?;
    let thread = flags & CLONE_THREAD != 0;
    let exit_signal = if thread { -1 } else { (flags & CSIGNAL) as i32 };
    if exit_signal > NSIG {
        return Err(EINVAL);
    }
    // RLIMIT_NPROC counts every task, zombies included (2.4's nr_threads check).
    if (k.tasks.len() as u64 + 1) >= k.task.rlim[RLIMIT_NPROC].cur {
        return Err(EAGAIN);
    }
    let tls_desc =
        if flags & CLONE_SETTLS != 0 { Some(crate::syscall::process::tls_for_clone(k, tls)?) } else { None };
    let pid = get_pid(k).ok_or(EAGAIN)?;

    // copy_files: without CLONE_FILES every guest fd becomes a host fd of the child's
    // own. The host may run out of descriptors (a guest limit it does not know
    // about): the fork fails rather than hand the child a table with holes.
    let mut ids = k.task.ids;
    let files = if flags & CLONE_FILES == 0 {
        raise_host_nofile();
        let files = k.task.files.clone();
        if files.count() != k.task.files.count() {
            log::warn!(target: "kernel::sched", "fork: the host has no descriptors left for the child's files");
            return Err(ENOMEM);
        }
        Some(files)
    } else {
        None
    };

    // copy_mm: dup_mmap write-protects the parent's private pages and flushes its
    // TLB; CLONE_VM shares the address space instead (mm_users + 1).
    let mm = if flags & CLONE_VM == 0 { Some(crate::mm::dup_mmap(k)?) } else { None };

    let tls_min = k.config.personality.tls_entry_min;
    let mut ctx = Context::save(&k.cpu, 0, tls_min);
    ctx.regs[EAX] = 0;
    if stack != 0 {
        ctx.regs[ESP] = stack;
    }
    if let Some((idx, desc)) = tls_desc {
        ctx.tls[idx - tls_min] = desc;
    }

    // The objects the child does not share are new, and parked until it runs.
    let p = &mut k.parked;
    if let Some(files) = files {
        ids.files = p.new_id();
        p.files.insert(ids.files, files);
    }
    if let Some(mm) = mm {
        ids.mm = p.new_id();
        p.mm.insert(ids.mm, mm);
    }
    if flags & CLONE_FS == 0 {
        ids.fs = p.new_id();
        p.fs.insert(ids.fs, k.task.fs.copy());
    }
    if flags & CLONE_SIGHAND == 0 {
        ids.sighand = p.new_id();
        p.sighand.insert(ids.sighand, k.task.sig.actions.clone());
    }
    if !thread {
        ids.group = pid;
        p.group.insert(pid, ThreadGroup::default());
    }
    let parent = &k.task;
    let child = Task {
        pid,
        tgid: if thread { parent.tgid } else { pid },
        ppid: if flags & (CLONE_PARENT | CLONE_THREAD) != 0 { parent.ppid } else { parent.tgid },
        pgid: parent.pgid,
        sid: parent.sid,
        did_exec: false,
        comm: parent.comm.clone(),
        exe: parent.exe.clone(),
        ids,
        mm: Default::default(),
        files: Default::default(),
        fs: Default::default(),
        sig: SignalState {
            pending: Vec::new(),
            saved_mask: None,
            actions: Vec::new(),
            // A thread starts with no alternate stack (today's copy_process clears it
            // for CLONE_VM without CLONE_VFORK); a process keeps its parent's.
            altstack: if flags & (CLONE_VM | CLONE_VFORK) == CLONE_VM {
                Default::default()
            } else {
                parent.sig.altstack
            },
            blocked: parent.sig.blocked,
        },
        group: ThreadGroup::default(),
        rlim: parent.rlim,
        sched: parent.sched.for_child(),
        personality: parent.personality,
        cred: parent.cred.clone(),
        thread: parent.thread,
        min_flt: 0,
        maj_flt: 0,
        cmin_flt: 0,
        cmaj_flt: 0,
        stats: FaultStats::default(),
        clear_child_tid: if flags & CLONE_CHILD_CLEARTID != 0 { child_tid } else { 0 },
        set_child_tid: if flags & CLONE_CHILD_SETTID != 0 { child_tid } else { 0 },
        robust_list: (0, 0),
        exit_signal,
        state: TaskState::Running,
        ctx,
        vfork_done: false,
        orig_eax: None,
        timeout: None,
        woken: false,
        host: None,
        oom: crate::mm::oom_kill::OomTask::started_at(k.cpu.icount),
    };
    log::debug!(
        target: "kernel::sched",
        "pid {} {} {pid} (flags {flags:#x})",
        k.task.pid,
        if thread { "starts thread" } else { "forks pid" },
    );
    k.tasks.insert(pid, child);
    if !thread {
        k.task.stats.forks += 1;
    }
    if flags & CLONE_PARENT_SETTID != 0 {
        // In the parent's memory (the child's too, with CLONE_VM); a fault is ignored.
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

/// `CLONE_ARGS_SIZE_VER0`: the smallest `struct clone_args` clone3 accepts.
const CLONE_ARGS_SIZE_VER0: u32 = 64;
/// clone3's flags beyond the 32 clone takes: CLONE_CLEAR_SIGHAND and CLONE_INTO_CGROUP.
const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// clone3(struct clone_args *uargs, size_t size) (today's `copy_clone_args_from_user`
/// and `clone3_args_valid`): a size below VER0 is EINVAL, above a page E2BIG; bytes
/// past the structure the kernel knows must be zero (E2BIG); flags must leave
/// CSIGNAL to `exit_signal`, which must be a signal number and is refused with
/// CLONE_THREAD or CLONE_PARENT; `stack` and `stack_size` come together and the
/// child's ESP is their sum (the stack grows down). `set_tid` (choosing the child's
/// pid) needs a privilege the guest does not have in its namespace: EPERM as for an
/// unprivileged caller; a cgroup is EINVAL here, there are none.
pub fn sys_clone3(k: &mut Kernel, uargs: u32, size: u32) -> SysResult {
    use crate::abi::process::CloneArgs;
    use crate::abi::IntoBytes;
    if size < CLONE_ARGS_SIZE_VER0 {
        return Err(EINVAL);
    }
    if size > crate::PAGE_SIZE {
        return Err(crate::errno::E2BIG);
    }
    let mut args = CloneArgs::default();
    let known = (size as usize).min(std::mem::size_of::<CloneArgs>());
    k.copy_from_user(uargs, &mut args.as_mut_bytes()[..known]).map_err(|_| crate::errno::EFAULT)?;
    if size as usize > known {
        let mut rest = vec![0u8; size as usize - known];
        k.copy_from_user(uargs.wrapping_add(known as u32), &mut rest).map_err(|_| crate::errno::EFAULT)?;
        if rest.iter().any(|&b| b != 0) {
            return Err(crate::errno::E2BIG);
        }
    }
    if args.set_tid_size > 0 || args.set_tid != 0 {
        return Err(if args.set_tid_size > 32 { EINVAL } else { crate::errno::EPERM });
    }
    if args.exit_signal & !u64::from(CSIGNAL) != 0 || args.exit_signal > NSIG as u64 {
        return Err(EINVAL);
    }
    if args.flags & (u64::from(CSIGNAL) | CLONE_INTO_CGROUP) != 0 || args.flags >> 32 & !(CLONE_CLEAR_SIGHAND >> 32) != 0 {
        return Err(EINVAL);
    }
    let flags = args.flags as u32;
    if flags & (CLONE_THREAD | CLONE_PARENT) != 0 && args.exit_signal != 0 {
        return Err(EINVAL);
    }
    if (args.stack == 0) != (args.stack_size == 0) {
        return Err(EINVAL);
    }
    let stack = args.stack.wrapping_add(args.stack_size);
    if stack > u64::from(u32::MAX) || args.tls > u64::from(u32::MAX) {
        return Err(EINVAL);
    }
    // CLONE_CLEAR_SIGHAND with CLONE_SIGHAND is EINVAL; alone it resets the child's
    // handlers to SIG_DFL (ignored signals stay ignored).
    let clear = args.flags & CLONE_CLEAR_SIGHAND != 0;
    if clear && flags & CLONE_SIGHAND != 0 {
        return Err(EINVAL);
    }
    let (ptid, ctid) = (args.parent_tid as u32, args.child_tid as u32);
    let pid = do_fork(k, flags | args.exit_signal as u32, stack as u32, ptid, ctid, args.tls as u32)?;
    if clear {
        if let Some(actions) = k.tasks.get(&pid).map(|t| t.ids.sighand).and_then(|id| k.parked.sighand.get_mut(&id)) {
            for a in actions.iter_mut().filter(|a| a.handler != crate::signal::SIG_IGN) {
                *a = Default::default();
            }
        }
    }
    Ok(pid)
}
