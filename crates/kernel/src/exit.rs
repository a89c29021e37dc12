//! Process exit and reaping: 2.4's `kernel/exit.c` — `do_exit`, `exit_notify`,
//! `forget_original_parent`, `sys_wait4`, `release_task`; and today's `waitid`, which
//! 2.4 did not have.
//!
//! * A process other than init that exits gives up its address space, files and
//!   working directory at once, hands its children to init, sends its exit signal
//!   (SIGCHLD) to its parent and stays a zombie until the parent's wait4.
//! * The machine's status is that of **init**, pid [`INIT_PID`] (1000), the program
//!   the emulator started: when it exits (or is killed) `Kernel::run` returns its
//!   status, with init's own address space kept, so `--stats` and the tracer can
//!   still look at it. Every other guest process is then killed — its memory and
//!   files released, nobody notified — unless the caller asked for them to live on
//!   (`Config::keep_others`, the CLI): natively they outlive their parent. Then
//!   `Kernel::run_rest` lets init exit as any process does and runs the others until
//!   the last one ends; orphans from then on go to [`HOST_REAPER_PID`].
//! * Reaping (wait4) adds the child's `min_flt`/`maj_flt` and its own children's
//!   `cmin_flt`/`cmaj_flt` into the parent's `cmin_flt`/`cmaj_flt` (linux24.md §3.8).

use crate::abi::process::{ChldSiginfo, Rusage};
use crate::abi::IntoBytes;
use crate::errno::{SysResult, ECHILD, EFAULT, EINVAL, ERESTARTSYS};
use crate::run::ExitStatus;
use crate::sched::{sleep_on, TaskState, WaitOn};
use crate::signal::{
    group_send_sig_info, SigInfo, CLD_DUMPED, CLD_EXITED, CLD_KILLED, SA_NOCLDWAIT, SIGCHLD, SIG_IGN,
};
use crate::task::Task;
use crate::Kernel;

/// The first process: the program the emulator started, and the reaper of orphans
/// (it acts as a `PR_SET_CHILD_SUBREAPER` would). Not 1: guest pids are the guest
/// kernel's own, and a process whose parent is pid 1 believes its parent has died
/// (the `getppid() == 1` test of daemons and of test harnesses). 1000 is above 2.4's
/// `RESERVED_PIDS`, so `get_pid` hands out the pids after it first.
pub const INIT_PID: u32 = 1000;

/// The parent of the first process as `getppid()` shows it: the process that started
/// the emulator, which is outside the machine. Below 2.4's `RESERVED_PIDS`, so
/// `get_pid` never hands it out and it never names a guest process: `kill` answers
/// ESRCH and `/proc/100` does not exist for the guest.
pub const INIT_PPID: u32 = 100;

/// The parent of the processes orphaned once the first process has gone: the host's
/// init, as natively for a program's orphans when no subreaper is set
/// (`find_new_reaper`). A daemon's `getppid() == 1` test ("my parent has died")
/// thus answers as natively. It is outside the machine: no guest process is pid 1
/// (`get_pid` starts above 2.4's `RESERVED_PIDS`), a child of it is reaped the moment
/// it exits, and nothing is sent to it.
pub const HOST_REAPER_PID: u32 = 1;

/// Who reaps the children of the exiting process `tgid`: init while it lives (a
/// subreaper, see [`INIT_PID`]), else the host's init.
fn reaper(k: &Kernel, tgid: u32) -> u32 {
    if k.first_gone || tgid == INIT_PID {
        HOST_REAPER_PID
    } else {
        INIT_PID
    }
}

pub const WNOHANG: u32 = 0x0000_0001;
pub const WUNTRACED: u32 = 0x0000_0002;
pub const WCONTINUED: u32 = 0x0000_0008;
pub const WNOTHREAD: u32 = 0x2000_0000;
pub const WALL: u32 = 0x4000_0000;
pub const WCLONE: u32 = 0x8000_0000;
/// waitid's options (linux/wait.h): WSTOPPED is WUNTRACED.
pub const WSTOPPED: u32 = WUNTRACED;
pub const WEXITED: u32 = 0x0000_0004;
pub const WNOWAIT: u32 = 0x0100_0000;
/// waitid's idtype.
pub const P_ALL: u32 = 0;
pub const P_PID: u32 = 1;
pub const P_PGID: u32 = 2;

/// The wait status of an exit: `code << 8`, or the signal number (| 0x80 for a core
/// dump).
pub fn wait_status(st: &ExitStatus) -> u32 {
    match *st {
        ExitStatus::Exited(c) => ((c & 0xff) as u32) << 8,
        ExitStatus::Signaled { signo, core, .. } => signo as u32 | if core { 0x80 } else { 0 },
    }
}

/// `do_exit` for the current task, which is not init's last thread: `mm_release`
/// (clear-child-tid and robust futexes, [`crate::futex::mm_release`]), then the
/// shared objects are given back ([`crate::share::exit_shares`]: `__exit_mm`,
/// `__exit_files`, `__exit_fs`, `__exit_sighand`), then `exit_notify`. The task is
/// left a zombie (or dead, if nobody waits for it) for the scheduler to switch away
/// from.
///
/// A thread that is not the last of its process leaves silently: a thread is never
/// waited for, and a group leader stays a zombie that its parent can neither see nor
/// reap until the last thread is gone (today's `delay_group_leader`). The last thread
/// out hands the process's children to init and tells the parent, with the
/// leader's status (the group's, after `exit_group` or a fatal signal).
pub fn do_exit(k: &mut Kernel, st: ExitStatus) {
    let me = k.task.pid;
    let tgid = k.task.tgid;
    log::debug!(target: "kernel::sched", "pid {me} ({}) exits: {st:?}", k.task.comm);
    crate::futex::mm_release(k);
    let group_exit = k.task.group.group_exit;
    let last = !k.live_threads(tgid).any(|t| t.pid != me);
    let faults = if last {
        // The process ends: what its parent reaps is its leader, with every thread's
        // counts (and its exited threads' in the group).
        let mut f = k.task.group.exited_faults;
        for (s, n) in f.iter_mut().zip(k.task.faults()) {
            *s += n;
        }
        Some(f)
    } else {
        let mine = k.task.faults();
        k.task.group.add_faults(mine);
        None
    };
    crate::share::exit_shares(k);
    crate::locks::exit_locks(k, tgid, last);
    k.task.vfork_done = true;
    k.task.sig.pending.clear();
    k.task.orig_eax = None;
    k.task.timeout = None;

    let Some(faults) = faults else {
        k.task.state = if me == tgid { TaskState::Zombie(group_exit.unwrap_or(st)) } else { TaskState::Dead };
        return;
    };
    // SysV IPC: the last thread of the process applies its SEM_UNDO adjustments
    // (`exit_sem` in today's `do_exit`).
    crate::ipc::exit_sem(k, tgid);
    crate::timer::exit_timers(k, tgid);
    let leader = if me == tgid { Some(&mut k.task) } else { k.tasks.get_mut(&tgid) };
    if let Some(l) = leader {
        [l.min_flt, l.maj_flt, l.cmin_flt, l.cmaj_flt] = faults;
    }

    // forget_original_parent: the process's children go to the reaper, which is told
    // about the ones that are already zombies (the host's init reaps them at once).
    let reaper = reaper(k, tgid);
    let mut orphan_zombies = Vec::new();
    for t in k.tasks.values_mut().filter(|t| t.ppid == tgid) {
        t.ppid = reaper;
        if let TaskState::Zombie(z) = &t.state {
            if t.pid == t.tgid {
                orphan_zombies.push((t.pid, t.exit_signal, *z));
            }
        }
    }
    for (pid, sig, z) in orphan_zombies {
        if reaper == HOST_REAPER_PID {
            if k.live_threads(pid).next().is_none() {
                k.tasks.remove(&pid);
            }
        } else {
            notify_parent(k, reaper, pid, sig, &z);
        }
    }

    // The process is over: the leader (this task, or a zombie waiting for it) is
    // what the parent sees.
    let (parent, sig, status) = if me == tgid {
        (k.task.ppid, k.task.exit_signal, group_exit.unwrap_or(st))
    } else {
        k.task.state = TaskState::Dead;
        match k.tasks.get(&tgid) {
            Some(l) => match l.state {
                TaskState::Zombie(z) => (l.ppid, l.exit_signal, group_exit.unwrap_or(z)),
                _ => return,
            },
            // The leader is gone (an exec from another thread took its place).
            None => return,
        }
    };

    // exit_notify: a parent that ignores SIGCHLD (or asked for SA_NOCLDWAIT) does not
    // keep zombies; the child is released now and the parent is not signalled.
    // A parent outside the machine (the host's init, after the first process has
    // gone) reaps it at once.
    let autoreap = match k.find_task(parent) {
        None => true,
        Some(p) => {
            let a = k.action_of(p, SIGCHLD);
            sig == SIGCHLD && (a.handler == SIG_IGN || a.flags & SA_NOCLDWAIT != 0)
        }
    };
    if autoreap || sig < 0 {
        if me == tgid {
            k.task.state = TaskState::Dead;
        } else {
            k.tasks.remove(&tgid);
        }
        return;
    }
    notify_parent(k, parent, tgid, sig, &status);
    if me == tgid {
        k.task.state = TaskState::Zombie(status);
    } else if let Some(l) = k.tasks.get_mut(&tgid) {
        l.state = TaskState::Zombie(status);
    }
}

/// `do_group_exit`: `exit_group`, or a signal whose default action kills: every other
/// thread of the process is killed now ([`zap_other_threads`]) and the current one
/// exits with `st`, which becomes the process's status.
pub fn do_group_exit(k: &mut Kernel, st: ExitStatus) {
    if k.task.group.group_exit.is_none() {
        k.task.group.group_exit = Some(st);
        zap_other_threads(k, Some(st));
    }
    k.exit_status = Some(k.task.group.group_exit.unwrap_or(st));
}

/// Kills every other thread of the current task's process at once (they are not
/// running: there is one CPU), as `zap_other_threads` + their own `do_exit` would:
/// their objects are given back. With `st`, the leader (if it is another thread)
/// stays a zombie with that status for the parent; without (execve, `de_thread`), it
/// goes away too, and the current thread will take its pid.
pub fn zap_other_threads(k: &mut Kernel, st: Option<ExitStatus>) {
    let (me, tgid) = (k.task.pid, k.task.tgid);
    let others: Vec<u32> = k.tasks.values().filter(|t| t.tgid == tgid && t.pid != me).map(|t| t.pid).collect();
    for pid in others {
        let Some(mut t) = k.tasks.remove(&pid) else { continue };
        if !t.state.is_zombie() {
            k.task.group.add_faults(t.faults());
        }
        crate::futex::exit_robust_list_of(k, &mut t);
        crate::share::release_shares(k, &mut t);
        log::debug!(target: "kernel::sched", "pid {pid} killed with its thread group");
        match st {
            Some(st) if pid == tgid => {
                if !matches!(t.state, TaskState::Zombie(_)) {
                    t.state = TaskState::Zombie(st);
                }
                k.tasks.insert(pid, t);
            }
            _ => {}
        }
    }
}

/// `do_notify_parent`: the child's exit signal, with CLD_EXITED / CLD_KILLED and the
/// status, to `parent`. An exit signal of 0 sends nothing.
fn notify_parent(k: &mut Kernel, parent: u32, child: u32, sig: i32, st: &ExitStatus) {
    if sig == 0 {
        return;
    }
    let uid = k.current_uid();
    let info = match *st {
        ExitStatus::Exited(c) => SigInfo::chld(sig, CLD_EXITED, child, uid, c & 0xff),
        ExitStatus::Signaled { signo, core, .. } => {
            SigInfo::chld(sig, if core { crate::signal::CLD_DUMPED } else { CLD_KILLED }, child, uid, signo)
        }
    };
    group_send_sig_info(k, parent, info);
}

/// Init has exited: the machine ends. Every other task is killed, its address
/// space freed and its files closed; zombies are dropped. Init's last thread stays
/// current with its address space.
pub fn exit_machine(k: &mut Kernel) {
    let others = std::mem::take(&mut k.tasks);
    if !others.is_empty() {
        log::debug!(target: "kernel::sched", "init exits: killing {} other tasks", others.len());
    }
    for (_, mut t) in others {
        crate::hostproc::kill_with_machine(&mut t);
        crate::share::release_shares(k, &mut t);
    }
}

/// Whether child `t` of the caller matches wait4's `pid` and `options`: pid > 0 that
/// child; -1 any child; < -1 the process group -pid (the guest kernel's process
/// groups: setpgid/setsid). wait4's 0, the caller's own group, was turned into
/// -pgid when the call was made ([`wait_target`]), as today's `kernel_wait4` looks
/// the group up once. A child whose exit signal is not SIGCHLD (a "clone" child) is
/// seen only with __WCLONE, the others only without it; __WALL sees both.
fn wait_matches(t: &Task, pid: i32, options: u32) -> bool {
    let by_pid = match pid {
        p if p > 0 => t.pid == p as u32,
        -1 => true,
        p => p.checked_neg().and_then(|g| u32::try_from(g).ok()) == Some(t.pgid),
    };
    let clone_child = t.exit_signal != SIGCHLD;
    by_pid && (options & WALL != 0 || clone_child == (options & WCLONE != 0))
}

/// The children of `parent` wait4(`pid`, `options`) looks at: whether there is any,
/// and the lowest-numbered zombie among them (the oldest, as today's kernels scan
/// children in creation order).
/// Only children that exited count (`WEXITED`, which wait4 implies): there is no
/// job control, so WSTOPPED/WCONTINUED never find a child.
pub fn find_waitable(k: &Kernel, parent: u32, pid: i32, options: u32) -> (bool, Option<u32>) {
    let mut any = false;
    let mut zombie: Option<u32> = None;
    // Threads are not children; a leader whose threads run on is not a zombie yet.
    let children = k.all_tasks().filter(|t| {
        t.ppid == parent && t.tgid != parent && t.pid == t.tgid && t.state != TaskState::Dead
    });
    for t in children {
        if !wait_matches(t, pid, options) {
            continue;
        }
        any = true;
        if options & WEXITED != 0
            && matches!(t.state, TaskState::Zombie(_))
            && k.live_threads(t.tgid).next().is_none()
        {
            zombie = Some(zombie.map_or(t.pid, |z| z.min(t.pid)));
        }
    }
    (any, zombie)
}

/// The i386 `struct rusage` of a reaped child (2.4's `getrusage(p, RUSAGE_BOTH)`):
/// its fault counts plus its children's. Times are 0: the host cannot tell how much
/// of the emulator's CPU time one guest process used.
fn child_rusage(t: &Task) -> Rusage {
    let mut r = Rusage {
        ru_minflt: (t.min_flt + t.cmin_flt) as i32,
        ru_majflt: (t.maj_flt + t.cmaj_flt) as i32,
        ..Rusage::default()
    };
    // A host-run child's times are the host's (crate::hostproc).
    if let Some(h) = &t.host {
        let tv = |us: u64| crate::abi::time::Timeval { tv_sec: (us / 1_000_000) as i32, tv_usec: (us % 1_000_000) as i32 };
        r.ru_utime = tv(h.utime_us);
        r.ru_stime = tv(h.stime_us);
    }
    r
}

/// `sys_wait4(pid, stat_addr, options, ru)`: reaps a zombie child matching `pid`
/// (status and rusage written first; a fault there leaves it a zombie and returns
/// EFAULT), else ECHILD when nothing matches, 0 with WNOHANG, or sleeps until a
/// matching child exits (restarted after a handler only with SA_RESTART, as 2.4's
/// -ERESTARTSYS). Stopped and continued children are never reported: there is no
/// job control.
pub fn sys_wait4(k: &mut Kernel, pid: i32, stat_addr: u32, options: u32, ru: u32) -> SysResult {
    if options & !(WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WCLONE | WALL) != 0 {
        return Err(EINVAL);
    }
    // INT_MIN has no process group to name (today's `kernel_wait4`).
    if pid == i32::MIN {
        return Err(libc::ESRCH);
    }
    let pid = wait_target(k, pid);
    let options = options | WEXITED;
    let me = k.task.tgid;
    let (any, zombie) = find_waitable(k, me, pid, options);
    if let Some(z) = zombie {
        let (st, usage, _) = reapable(k, z)?;
        if ru != 0 {
            k.copy_to_user(ru, usage.as_bytes()).map_err(|_| EFAULT)?;
        }
        if stat_addr != 0 {
            k.put_user::<u32>(stat_addr, wait_status(&st))?;
        }
        release_task(k, z);
        return Ok(z);
    }
    if !any {
        return Err(ECHILD);
    }
    if options & WNOHANG != 0 {
        return Ok(0);
    }
    sleep_on(k, WaitOn::Child { pid, options }, ERESTARTSYS)
}

/// The zombie child `z` that wait4/waitid found: its exit status, its rusage (with
/// its children's) and its real uid.
fn reapable(k: &Kernel, z: u32) -> Result<(ExitStatus, Rusage, u32), crate::errno::Errno> {
    let child = k.tasks.get(&z).ok_or(ECHILD)?;
    let TaskState::Zombie(st) = child.state else { return Err(ECHILD) };
    Ok((st, child_rusage(child), child.cred.uid))
}

/// wait4's `pid` with 0 (the caller's process group) made explicit: `-pgid`.
fn wait_target(k: &Kernel, pid: i32) -> i32 {
    if pid == 0 {
        -(k.task.pgid as i32)
    } else {
        pid
    }
}

/// `waitid(idtype, id, siginfo_t *infop, options, struct rusage *ru)` (today's
/// `kernel_waitid`): P_ALL, P_PID (id > 0), P_PGID (0: the caller's group);
/// P_PIDFD is EINVAL here, as there are no pidfds. Options must name at least one
/// of WEXITED, WSTOPPED, WCONTINUED. The exited child's status goes into `infop`
/// as SIGCHLD's siginfo (CLD_EXITED with the code, CLD_KILLED / CLD_DUMPED with
/// the signal); WNOWAIT leaves it a zombie. A bad `infop` or `ru` is EFAULT after
/// the child was reaped. With WNOHANG and no child ready the
/// call returns 0 and `infop` is zeroed where today's kernel writes it (signo,
/// errno, code, pid, uid, status). Stopped and continued children are never
/// reported (no job control), so WSTOPPED/WCONTINUED alone wait for nothing that
/// can come, until the children are gone (ECHILD) or a signal interrupts.
pub fn sys_waitid(k: &mut Kernel, which: u32, id: u32, infop: u32, options: u32, ru: u32) -> SysResult {
    if options & !(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | WNOTHREAD | WCLONE | WALL) != 0
        || options & (WEXITED | WSTOPPED | WCONTINUED) == 0
    {
        return Err(EINVAL);
    }
    let pid = match which {
        P_ALL => -1,
        P_PID if (id as i32) > 0 => id as i32,
        P_PGID if id == 0 => -(k.task.pgid as i32),
        P_PGID if (id as i32) > 1 => -(id as i32),
        // Process group 1 is never a guest's (pids start at INIT_PID).
        P_PGID if id == 1 => return Err(ECHILD),
        _ => return Err(EINVAL),
    };
    let me = k.task.tgid;
    let (any, zombie) = find_waitable(k, me, pid, options);
    if let Some(z) = zombie {
        let (st, usage, uid) = reapable(k, z)?;
        let (code, status) = match st {
            ExitStatus::Exited(c) => (CLD_EXITED, c & 0xff),
            ExitStatus::Signaled { signo, core, .. } => (if core { CLD_DUMPED } else { CLD_KILLED }, signo),
        };
        // Today's `kernel_waitid` reaps first and copies out after: a bad `infop`
        // or `ru` is EFAULT with the child gone (2.4 had no waitid).
        if options & WNOWAIT == 0 {
            release_task(k, z);
        }
        if ru != 0 {
            k.copy_to_user(ru, usage.as_bytes()).map_err(|_| EFAULT)?;
        }
        if infop != 0 {
            let info = ChldSiginfo {
                si_signo: SIGCHLD,
                si_code: code,
                si_pid: z as i32,
                si_uid: uid,
                si_status: status,
                ..ChldSiginfo::default()
            };
            k.copy_to_user(infop, info.as_bytes()).map_err(|_| EFAULT)?;
        }
        return Ok(0);
    }
    if !any {
        return Err(ECHILD);
    }
    if options & WNOHANG != 0 {
        if ru != 0 {
            k.copy_to_user(ru, Rusage::default().as_bytes()).map_err(|_| EFAULT)?;
        }
        if infop != 0 {
            // signo, errno, code, pid, uid, status: the words today's waitid writes.
            k.copy_to_user(infop, &[0u8; 24]).map_err(|_| EFAULT)?;
        }
        return Ok(0);
    }
    sleep_on(k, WaitOn::Child { pid, options }, ERESTARTSYS)
}

/// `release_task`: the zombie `pid` goes away; its fault counts and its children's
/// go into the current task's `cmin_flt`/`cmaj_flt` (linux24.md §3.8).
fn release_task(k: &mut Kernel, pid: u32) {
    if let Some(c) = k.tasks.remove(&pid) {
        k.task.cmin_flt += c.min_flt + c.cmin_flt;
        k.task.cmaj_flt += c.maj_flt + c.cmaj_flt;
        log::debug!(
            target: "kernel::sched",
            "pid {} reaps pid {pid}: minflt {} majflt {} (with its children's)",
            k.task.pid,
            c.min_flt + c.cmin_flt,
            c.maj_flt + c.cmaj_flt
        );
    }
}
