//! Scheduling priority and policy as a program sees them: `nice`, `getpriority`,
//! `setpriority` and the `sched_*` policy calls (today's kernel/sys.c and
//! kernel/sched/syscalls.c decide the arguments, the errors and the permission
//! rules).
//!
//! Each task keeps its nice value, policy and real-time priority ([`SchedAttr`]),
//! inherited across fork (unless SCHED_RESET_ON_FORK), kept across exec, and per
//! thread as in Linux. The guest kernel's scheduler does not act on them: every
//! runnable guest task gets the same time slice in turn, whatever its policy, and the
//! host process's own priority is never changed (a guest cannot raise the emulator
//! above other host processes). 2.4's `nice` field is the value kept here; its
//! `badness()` reads it.

use crate::abi::time::{KernelTimespec, Timespec};
use crate::abi::IntoBytes;
use crate::cred::CAP_SYS_NICE;
use crate::errno::{SysResult, EACCES, EINVAL, EPERM, ESRCH};
use crate::task::{Task, RLIMIT_NICE, RLIMIT_RTPRIO, RLIM_INFINITY};
use crate::Kernel;

use super::Args;

pub const SCHED_OTHER: u32 = 0;
pub const SCHED_FIFO: u32 = 1;
pub const SCHED_RR: u32 = 2;
pub const SCHED_BATCH: u32 = 3;
pub const SCHED_IDLE: u32 = 5;
pub const SCHED_DEADLINE: u32 = 6;
/// sched_ext (Linux 6.12): BPF-defined scheduling. Its priority range is answered;
/// a task cannot be moved to it here (EINVAL, as a kernel without
/// CONFIG_SCHED_CLASS_EXT answers).
pub const SCHED_EXT: u32 = 7;
/// Or'd into a policy: the child of a fork starts as SCHED_OTHER, nice >= 0.
pub const SCHED_RESET_ON_FORK: u32 = 0x4000_0000;

/// `which` of get/setpriority.
const PRIO_PROCESS: u32 = 0;
const PRIO_PGRP: u32 = 1;
const PRIO_USER: u32 = 2;

/// Highest real-time priority (`MAX_RT_PRIO - 1`).
const MAX_USER_RT_PRIO: u32 = 99;
/// `RR_TIMESLICE`: 100 ms.
const RR_TIMESLICE_NS: i64 = 100_000_000;

/// A task's scheduling attributes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedAttr {
    /// -20 (most favourable) to 19.
    pub nice: i32,
    /// SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH or SCHED_IDLE.
    pub policy: u32,
    /// 1–99 for SCHED_FIFO / SCHED_RR, else 0.
    pub rt_priority: u32,
    pub reset_on_fork: bool,
}

impl SchedAttr {
    /// The first task's: the emulator's own nice value, as a program started the same
    /// way natively would have (`nice -n 5 growsdown run …`), and SCHED_OTHER.
    pub fn from_host() -> Self {
        // SAFETY: clearing errno and reading the emulator's own priority; no pointers.
        let nice = unsafe {
            *libc::__errno_location() = 0;
            libc::getpriority(libc::PRIO_PROCESS, 0)
        };
        Self { nice: nice.clamp(-20, 19), ..Self::default() }
    }

    /// What a forked child starts with (`sched_fork`): the parent's, or with
    /// SCHED_RESET_ON_FORK SCHED_OTHER and a nice value no better than 0.
    pub fn for_child(&self) -> Self {
        if !self.reset_on_fork {
            return *self;
        }
        Self { nice: self.nice.max(0), policy: SCHED_OTHER, rt_priority: 0, reset_on_fork: false }
    }
}

/// `capable(CAP_SYS_NICE)` of the calling task.
fn capable_sys_nice(k: &Kernel) -> bool {
    k.task.cred.capable(CAP_SYS_NICE)
}

/// `set_one_prio_perm` / `check_same_owner`: the target's uid or euid is the
/// caller's euid.
fn same_owner(k: &Kernel, t: &Task) -> bool {
    let me = k.task.cred.euid;
    t.cred.uid == me || t.cred.euid == me
}

/// `can_nice(p, nice)`: RLIMIT_NICE allows `20 - nice`, or CAP_SYS_NICE.
fn can_nice(k: &Kernel, t: &Task, nice: i32) -> bool {
    let lim = t.rlim[RLIMIT_NICE].cur;
    (lim == RLIM_INFINITY || (20 - nice) as u64 <= lim) || capable_sys_nice(k)
}

/// The tasks `which`/`who` name (`who` 0: the caller, its group, its user).
fn prio_targets(k: &Kernel, which: u32, who: u32) -> Vec<u32> {
    let me = &k.task;
    match which {
        PRIO_PROCESS => {
            let tid = if who == 0 { me.pid } else { who };
            k.find_task(tid).filter(|t| alive(t)).map(|t| t.pid).into_iter().collect()
        }
        PRIO_PGRP => {
            let pgrp = if who == 0 { me.pgid } else { who };
            k.all_tasks().filter(|t| alive(t) && t.pgid == pgrp).map(|t| t.pid).collect()
        }
        _ => {
            let uid = if who == 0 { me.cred.uid } else { who };
            k.all_tasks().filter(|t| alive(t) && t.cred.uid == uid).map(|t| t.pid).collect()
        }
    }
}

fn alive(t: &Task) -> bool {
    !matches!(t.state, crate::sched::TaskState::Zombie(_) | crate::sched::TaskState::Dead)
}

fn sched_of(k: &Kernel, pid: u32) -> Option<SchedAttr> {
    k.find_task(pid).map(|t| t.sched)
}

fn set_sched(k: &mut Kernel, pid: u32, f: impl FnOnce(&mut SchedAttr)) {
    if k.task.pid == pid {
        f(&mut k.task.sched);
    } else if let Some(t) = k.tasks.get_mut(&pid) {
        f(&mut t.sched);
    }
}

/// getpriority(which, who): `20 - nice` of the most favourable task named (so the
/// result is never negative), ESRCH if none, EINVAL for `which`.
pub fn sys_getpriority(k: &mut Kernel, a: Args) -> SysResult {
    let (which, who) = (a[0], a[1]);
    if which > PRIO_USER {
        return Err(EINVAL);
    }
    let best = prio_targets(k, which, who).into_iter().filter_map(|p| sched_of(k, p)).map(|s| s.nice).min();
    best.map(|n| (20 - n) as u32).ok_or(ESRCH)
}

/// setpriority(which, who, niceval): niceval clamped to -20..19; for each task named,
/// EPERM if its user is not the caller's (`set_one_prio_perm`), EACCES if the value
/// is more favourable than its own and neither RLIMIT_NICE nor CAP_SYS_NICE allows
/// it (`can_nice`). The result is the last error, 0 once a task was changed, ESRCH
/// if none was named.
pub fn sys_setpriority(k: &mut Kernel, a: Args) -> SysResult {
    let (which, who, niceval) = (a[0], a[1], (a[2] as i32).clamp(-20, 19));
    if which > PRIO_USER {
        return Err(EINVAL);
    }
    let mut error = Err(ESRCH);
    for pid in prio_targets(k, which, who) {
        let Some(t) = k.find_task(pid) else { continue };
        if !same_owner(k, t) && !capable_sys_nice(k) {
            error = Err(EPERM);
            continue;
        }
        if niceval < t.sched.nice && !can_nice(k, t, niceval) {
            error = Err(EACCES);
            continue;
        }
        set_sched(k, pid, |s| s.nice = niceval);
        if error == Err(ESRCH) {
            error = Ok(0);
        }
    }
    error
}

/// nice(inc): the caller's nice value moves by `inc` (clamped to -40..40, the result
/// to -20..19); a more favourable value needs RLIMIT_NICE or CAP_SYS_NICE (EPERM).
pub fn sys_nice(k: &mut Kernel, a: Args) -> SysResult {
    let inc = (a[0] as i32).clamp(-40, 40);
    let nice = (k.task.sched.nice + inc).clamp(-20, 19);
    if inc < 0 && !can_nice(k, &k.task, nice) {
        return Err(EPERM);
    }
    k.task.sched.nice = nice;
    Ok(0)
}

/// `find_process_by_pid`: 0 is the caller; negative pids are EINVAL before this.
fn sched_target(k: &Kernel, pid: u32) -> Result<u32, crate::errno::Errno> {
    if (pid as i32) < 0 {
        return Err(EINVAL);
    }
    let pid = if pid == 0 { k.task.pid } else { pid };
    k.find_task(pid).filter(|t| alive(t)).map(|t| t.pid).ok_or(ESRCH)
}

/// sched_getscheduler(pid): the policy, with SCHED_RESET_ON_FORK or'd in.
pub fn sys_sched_getscheduler(k: &mut Kernel, a: Args) -> SysResult {
    let pid = sched_target(k, a[0])?;
    let s = sched_of(k, pid).ok_or(ESRCH)?;
    Ok(s.policy | if s.reset_on_fork { SCHED_RESET_ON_FORK } else { 0 })
}

/// sched_getparam(pid, param): `struct sched_param` is one int, the real-time
/// priority (0 for the other policies).
pub fn sys_sched_getparam(k: &mut Kernel, a: Args) -> SysResult {
    if a[1] == 0 || (a[0] as i32) < 0 {
        return Err(EINVAL);
    }
    let pid = sched_target(k, a[0])?;
    let s = sched_of(k, pid).ok_or(ESRCH)?;
    k.put_user::<u32>(a[1], s.rt_priority)?;
    Ok(0)
}

/// sched_setscheduler(pid, policy, param).
pub fn sys_sched_setscheduler(k: &mut Kernel, a: Args) -> SysResult {
    if (a[1] as i32) < 0 {
        return Err(EINVAL);
    }
    do_sched_setscheduler(k, a[0], Some(a[1]), a[2])
}

/// sched_setparam(pid, param): the task's own policy, a new priority.
pub fn sys_sched_setparam(k: &mut Kernel, a: Args) -> SysResult {
    do_sched_setscheduler(k, a[0], None, a[1])
}

/// Today's `do_sched_setscheduler` + `__sched_setscheduler`: EINVAL for a NULL
/// param or a negative pid, EFAULT reading it, ESRCH, EINVAL for an unknown
/// policy (SCHED_DEADLINE needs sched_setattr) or a priority outside 1..99 for
/// SCHED_FIFO/RR (0 otherwise); without CAP_SYS_NICE a real-time policy needs
/// RLIMIT_RTPRIO at least the priority, and the task must be the caller's user
/// (EPERM). `policy` None: keep the task's (sched_setparam).
fn do_sched_setscheduler(k: &mut Kernel, pid: u32, policy: Option<u32>, param: u32) -> SysResult {
    if param == 0 || (pid as i32) < 0 {
        return Err(EINVAL);
    }
    let prio = k.get_user::<u32>(param)?;
    let pid = sched_target(k, pid)?;
    let Some(t) = k.find_task(pid) else { return Err(ESRCH) };
    let cur = t.sched;
    let (policy, reset) = match policy {
        Some(p) => (p & !SCHED_RESET_ON_FORK, p & SCHED_RESET_ON_FORK != 0),
        None => (cur.policy, cur.reset_on_fork),
    };
    let rt = matches!(policy, SCHED_FIFO | SCHED_RR);
    if !matches!(policy, SCHED_OTHER | SCHED_FIFO | SCHED_RR | SCHED_BATCH | SCHED_IDLE) {
        return Err(EINVAL);
    }
    if prio > MAX_USER_RT_PRIO || rt != (prio != 0) {
        return Err(EINVAL);
    }
    if !capable_sys_nice(k) {
        if rt {
            let lim = t.rlim[RLIMIT_RTPRIO].cur;
            // A task may always lower its real-time priority, never raise it past
            // RLIMIT_RTPRIO.
            let keeps = cur.policy == policy && prio <= cur.rt_priority;
            if !keeps && (lim == 0 || (lim != RLIM_INFINITY && u64::from(prio) > lim)) {
                return Err(EPERM);
            }
        }
        // Leaving SCHED_IDLE needs can_nice for the task's nice value.
        if cur.policy == SCHED_IDLE && policy != SCHED_IDLE && !can_nice(k, t, t.sched.nice) {
            return Err(EPERM);
        }
        if !same_owner(k, t) {
            return Err(EPERM);
        }
        // Dropping SCHED_RESET_ON_FORK needs the capability.
        if cur.reset_on_fork && !reset {
            return Err(EPERM);
        }
    }
    set_sched(k, pid, |s| {
        s.policy = policy;
        s.rt_priority = prio;
        s.reset_on_fork = reset;
    });
    Ok(0)
}

/// sched_get_priority_max(policy): 99 for SCHED_FIFO/RR, 0 for the others
/// (SCHED_EXT included), EINVAL for an unknown policy.
pub fn sys_sched_get_priority_max(_k: &mut Kernel, a: Args) -> SysResult {
    match a[0] {
        SCHED_FIFO | SCHED_RR => Ok(MAX_USER_RT_PRIO),
        SCHED_OTHER | SCHED_BATCH | SCHED_IDLE | SCHED_DEADLINE | SCHED_EXT => Ok(0),
        _ => Err(EINVAL),
    }
}

/// sched_get_priority_min(policy): 1 for SCHED_FIFO/RR, 0 for the others.
pub fn sys_sched_get_priority_min(_k: &mut Kernel, a: Args) -> SysResult {
    match a[0] {
        SCHED_FIFO | SCHED_RR => Ok(1),
        SCHED_OTHER | SCHED_BATCH | SCHED_IDLE | SCHED_DEADLINE | SCHED_EXT => Ok(0),
        _ => Err(EINVAL),
    }
}

/// sched_rr_get_interval(pid, tp) (`time64`: a 64-bit timespec): RR_TIMESLICE
/// (100 ms) for SCHED_RR, 0 for SCHED_FIFO. For the other policies today's CFS
/// answers with a slice that depends on the run queue's load; here it is 0, which
/// the fair class also answers when the run queue holds no weight.
pub fn sys_sched_rr_get_interval(k: &mut Kernel, a: Args, time64: bool) -> SysResult {
    let pid = sched_target(k, a[0])?;
    let s = sched_of(k, pid).ok_or(ESRCH)?;
    let ns = if s.policy == SCHED_RR { RR_TIMESLICE_NS } else { 0 };
    let (sec, nsec) = (ns / 1_000_000_000, ns % 1_000_000_000);
    if time64 {
        let ts = KernelTimespec { tv_sec: sec, tv_nsec: nsec };
        k.copy_to_user(a[1], ts.as_bytes()).map_err(|_| crate::errno::EFAULT)?;
    } else {
        let ts = Timespec { tv_sec: sec as i32, tv_nsec: nsec as i32 };
        k.copy_to_user(a[1], ts.as_bytes()).map_err(|_| crate::errno::EFAULT)?;
    }
    Ok(0)
}
