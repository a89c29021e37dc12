//! Signal system calls: sigaction, masks, the alternate stack, kill between guest
//! processes, pause and sigsuspend. Delivery, frames and sigreturn live in
//! [`crate::signal`].

use crate::abi::signal::{sigset_from_words, sigset_words, KSigaction, OldSigaction, Siginfo};
use crate::abi::{FromZeros, IntoBytes};
use crate::errno::{SysResult, EAGAIN, EFAULT, EINTR, EINVAL, EPERM, ERESTARTNOHAND, ERESTARTNOINTR, ESRCH};
use crate::sched::{interruptible_sleep_on, WaitOn};
use crate::signal::{
    do_sigaction, do_sigaltstack, group_send_sig_info, read_stack_t, send_sig_to, write_stack_t, SigAction,
    SigInfo, NSIG, SA_NODEFER, SA_RESETHAND, SI_TKILL, SI_USER, UNBLOCKABLE,
};
use crate::syscall::Args;
use crate::Kernel;

const SIG_BLOCK: u32 = 0;
const SIG_UNBLOCK: u32 = 1;
const SIG_SETMASK: u32 = 2;
/// `sizeof(sigset_t)` the kernel accepts.
pub(crate) const SIGSET_SIZE: u32 = 8;

/// rt_sigaction(sig, const struct sigaction *act, struct sigaction *oact, sigsetsize)
/// with the i386 kernel layout: handler, flags, restorer, mask (8 bytes).
pub fn sys_rt_sigaction(k: &mut Kernel, a: Args) -> SysResult {
    let (sig, act, oact, size) = (a[0] as i32, a[1], a[2], a[3]);
    if size != SIGSET_SIZE {
        return Err(EINVAL);
    }
    let new = if act != 0 {
        let mut sa = KSigaction::new_zeroed();
        k.copy_from_user(act, sa.as_mut_bytes()).map_err(|_| EFAULT)?;
        Some(SigAction {
            handler: sa.sa_handler,
            flags: sa.sa_flags,
            restorer: sa.sa_restorer,
            mask: sigset_from_words(sa.sa_mask),
        })
    } else {
        None
    };
    let old = do_sigaction(k, sig, new)?;
    if oact != 0 {
        let sa = KSigaction {
            sa_handler: old.handler,
            sa_flags: old.flags,
            sa_restorer: old.restorer,
            sa_mask: sigset_words(old.mask),
        };
        k.copy_to_user(oact, sa.as_bytes()).map_err(|_| EFAULT)?;
    }
    Ok(0)
}

/// sigaction(sig, const struct old_sigaction *act, struct old_sigaction *oact):
/// handler, mask (one word), flags, restorer.
pub fn sys_sigaction(k: &mut Kernel, a: Args) -> SysResult {
    let (sig, act, oact) = (a[0] as i32, a[1], a[2]);
    let new = if act != 0 {
        let mut sa = OldSigaction::new_zeroed();
        k.copy_from_user(act, sa.as_mut_bytes()).map_err(|_| EFAULT)?;
        Some(SigAction {
            handler: sa.sa_handler,
            mask: u64::from(sa.sa_mask),
            flags: sa.sa_flags,
            restorer: sa.sa_restorer,
        })
    } else {
        None
    };
    let old = do_sigaction(k, sig, new)?;
    if oact != 0 {
        let sa = OldSigaction {
            sa_handler: old.handler,
            sa_mask: old.mask as u32,
            sa_flags: old.flags,
            sa_restorer: old.restorer,
        };
        k.copy_to_user(oact, sa.as_bytes()).map_err(|_| EFAULT)?;
    }
    Ok(0)
}

/// signal(sig, handler): SA_ONESHOT | SA_NOMASK; returns the old handler.
pub fn sys_signal(k: &mut Kernel, a: Args) -> SysResult {
    let new = SigAction { handler: a[1], flags: SA_RESETHAND | SA_NODEFER, restorer: 0, mask: 0 };
    Ok(do_sigaction(k, a[0] as i32, Some(new))?.handler)
}

fn apply_how(blocked: u64, how: u32, set: u64) -> Result<u64, i32> {
    let new = match how {
        SIG_BLOCK => blocked | set,
        SIG_UNBLOCK => blocked & !set,
        SIG_SETMASK => set,
        _ => return Err(EINVAL),
    };
    Ok(new & !UNBLOCKABLE)
}

/// rt_sigprocmask(how, const sigset_t *set, sigset_t *oset, sigsetsize)
pub fn sys_rt_sigprocmask(k: &mut Kernel, a: Args) -> SysResult {
    let (how, set, oset, size) = (a[0], a[1], a[2], a[3]);
    if size != SIGSET_SIZE {
        return Err(EINVAL);
    }
    let old = k.task.sig.blocked;
    if set != 0 {
        let mut b = [0u8; 8];
        k.copy_from_user(set, &mut b).map_err(|_| EFAULT)?;
        k.task.sig.blocked = apply_how(old, how, u64::from_le_bytes(b))?;
    }
    if oset != 0 {
        k.copy_to_user(oset, &old.to_le_bytes()).map_err(|_| EFAULT)?;
    }
    Ok(0)
}

/// sigprocmask(how, const old_sigset_t *set, old_sigset_t *oset): the first word
/// only (SIG_SETMASK keeps the upper word).
pub fn sys_sigprocmask(k: &mut Kernel, a: Args) -> SysResult {
    let (how, set, oset) = (a[0], a[1], a[2]);
    let old = k.task.sig.blocked;
    if set != 0 {
        let w = u64::from(k.get_user::<u32>(set)?);
        let new = match how {
            SIG_SETMASK => (old & !0xffff_ffff) | w,
            _ => apply_how(old, how, w)?,
        };
        k.task.sig.blocked = new & !UNBLOCKABLE;
    }
    if oset != 0 {
        k.put_user::<u32>(oset, old as u32)?;
    }
    Ok(0)
}

/// rt_sigpending(sigset_t *set, sigsetsize): pending and blocked.
pub fn sys_rt_sigpending(k: &mut Kernel, a: Args) -> SysResult {
    if a[1] > SIGSET_SIZE {
        return Err(EINVAL);
    }
    let p = k.pending_mask() & k.task.sig.blocked;
    k.copy_to_user(a[0], &p.to_le_bytes()[..a[1] as usize]).map_err(|_| EFAULT)?;
    Ok(0)
}

/// sigpending(old_sigset_t *set)
pub fn sys_sigpending(k: &mut Kernel, a: Args) -> SysResult {
    let p = k.pending_mask() & k.task.sig.blocked;
    k.put_user::<u32>(a[0], p as u32)?;
    Ok(0)
}

/// sigaltstack(const stack_t *ss, stack_t *oss); `stack_t` is ss_sp, ss_flags,
/// ss_size on i386.
pub fn sys_sigaltstack(k: &mut Kernel, a: Args) -> SysResult {
    let new = if a[0] != 0 { Some(read_stack_t(k, a[0])?) } else { None };
    let sp = k.cpu.regs[growsdown_cpu::ESP];
    let old = do_sigaltstack(k, new, sp)?;
    if a[1] != 0 {
        write_stack_t(k, a[1], old)?;
    }
    Ok(0)
}

/// Checks a signal number for kill-type calls; 0 is the "may I signal it" probe.
fn valid_sig(sig: i32) -> Result<(), i32> {
    if (0..=NSIG).contains(&sig) {
        Ok(())
    } else {
        Err(EINVAL)
    }
}

/// The sender's pid in a signal's info: the process (tgid), as `si_pid` shows it.
fn sender(k: &Kernel) -> u32 {
    k.task.tgid
}

/// Whether `pid` names a process: a thread-group leader, or any thread of the
/// group (Linux finds a process by any of its threads' ids, `find_task_by_vpid`).
fn process_of(k: &Kernel, pid: u32) -> Option<u32> {
    k.find_task(pid).map(|t| t.tgid)
}

/// kill(pid, sig) (today's `kill_something_info`), over the guest's processes only:
///
/// * pid > 0: that guest process (a zombie accepts and drops it); the signal is
///   process-directed: any of its threads that does not block it takes it;
/// * pid 0, or -pgrp of the emulator's process group (every guest process is in it),
///   or -pid of a guest process: every guest process, the caller included;
/// * pid -1: every guest process except the caller (ESRCH if there is none). Linux
///   spares the pid-1 init of the caller's namespace; no guest process is pid 1.
///
/// Any other pid or process group names no guest process: ESRCH, as for a pid outside
/// the caller's pid namespace (`find_vpid` finds nothing). Guest pids are the guest
/// kernel's own, so a host process with the same number is never reached.
pub fn sys_kill(k: &mut Kernel, a: Args) -> SysResult {
    let (pid, sig) = (a[0] as i32, a[1] as i32);
    valid_sig(sig)?;
    let me = k.task.tgid;
    let from = sender(k);
    let uid = k.current_uid();
    if pid > 0 {
        let tgid = process_of(k, pid as u32).ok_or(ESRCH)?;
        crate::cred::may_signal(k, sig, tgid)?;
        if sig != 0 {
            group_send_sig_info(k, tgid, SigInfo::user(sig, SI_USER, from, uid));
        }
        return Ok(0);
    }
    // kill_something_info: 0 is the caller's process group, -1 every process but
    // the caller, -N process group N; only guest processes are ever reached.
    let pgrp = match pid {
        0 => Some(k.task.pgid),
        -1 => None,
        _ => Some(pid.unsigned_abs()),
    };
    let targets: Vec<u32> = k
        .all_tasks()
        .filter(|t| {
            t.pid == t.tgid && !t.state.is_zombie() || t.pid != t.tgid && k.find_task(t.tgid).is_none()
        })
        .filter(|t| pgrp.map_or(t.tgid != me, |g| t.pgid == g))
        .map(|t| t.tgid)
        .collect();
    if targets.is_empty() {
        return Err(ESRCH);
    }
    // Permission per process: a group kill fails (EPERM) only if every one was refused
    // (`__kill_pgrp_info`); kill(-1) succeeds anyway (`kill_something_info`).
    let allowed: Vec<u32> =
        targets.into_iter().filter(|&p| crate::cred::may_signal(k, sig, p).is_ok()).collect();
    if allowed.is_empty() && pid != -1 {
        return Err(crate::errno::EPERM);
    }
    if sig != 0 {
        for p in allowed {
            group_send_sig_info(k, p, SigInfo::user(sig, SI_USER, from, uid));
        }
    }
    Ok(0)
}

/// Sends `sig` to thread `tid` with SI_TKILL, after `tkill`'s and `tgkill`'s checks:
/// ESRCH if there is no such live thread (in process `tgid`, for tgkill).
fn do_tkill(k: &mut Kernel, tgid: Option<u32>, tid: u32, sig: i32) -> SysResult {
    let t = k.find_task(tid).filter(|t| !t.state.is_zombie()).ok_or(ESRCH)?;
    if tgid.is_some_and(|g| g != t.tgid) {
        return Err(ESRCH);
    }
    crate::cred::may_signal(k, sig, tid)?;
    if sig != 0 {
        let from = sender(k);
        let uid = k.current_uid();
        send_sig_to(k, tid, SigInfo::user(sig, SI_TKILL, from, uid));
    }
    Ok(0)
}

/// tkill(tid, sig): a thread-directed signal.
pub fn sys_tkill(k: &mut Kernel, a: Args) -> SysResult {
    let (tid, sig) = (a[0] as i32, a[1] as i32);
    if tid <= 0 {
        return Err(EINVAL);
    }
    valid_sig(sig)?;
    do_tkill(k, None, tid as u32, sig)
}

/// tgkill(tgid, tid, sig): a thread-directed signal to thread `tid` of process
/// `tgid` (pthread_kill, raise, abort).
pub fn sys_tgkill(k: &mut Kernel, a: Args) -> SysResult {
    let (tgid, tid, sig) = (a[0] as i32, a[1] as i32, a[2] as i32);
    if tgid <= 0 || tid <= 0 {
        return Err(EINVAL);
    }
    valid_sig(sig)?;
    do_tkill(k, Some(tgid as u32), tid as u32, sig)
}

/// `__copy_siginfo_from_user32`: the caller's 128-byte siginfo (EFAULT if any of it
/// cannot be read), as a queued signal `sig` carries it.
fn copy_siginfo_from_user(k: &mut Kernel, sig: i32, uinfo: u32) -> Result<SigInfo, i32> {
    let mut u = Siginfo::new_zeroed();
    k.copy_from_user(uinfo, u.as_mut_bytes()).map_err(|_| EFAULT)?;
    Ok(SigInfo::from_user(sig, &u))
}

/// Neither the kernel's own si_codes (>= 0) nor kill's and tgkill's SI_TKILL may be
/// forged towards another task (`do_rt_sigqueueinfo`: "Not even root can pretend to
/// send signals from the kernel"). `pid` is compared with the caller's thread id
/// (`task_pid_vnr(current)`).
fn forged(k: &Kernel, info: &SigInfo, pid: i32) -> bool {
    (info.code >= 0 || info.code == SI_TKILL) && k.task.pid as i32 != pid
}

/// rt_sigqueueinfo(tgid, sig, siginfo_t *uinfo) (today's `do_rt_sigqueueinfo` then
/// `kill_proc_info`): EFAULT, EPERM for a forged si_code, ESRCH when `tgid` names no
/// guest task (any pid <= 0 included), then EINVAL for a bad signal
/// (`check_kill_permission`); sig 0 only checks. The signal is process-directed,
/// with the caller's info as given (sigqueue's SI_QUEUE, si_pid, si_uid, si_value).
pub fn sys_rt_sigqueueinfo(k: &mut Kernel, a: Args) -> SysResult {
    let (pid, sig, uinfo) = (a[0] as i32, a[1] as i32, a[2]);
    let info = copy_siginfo_from_user(k, sig, uinfo)?;
    if forged(k, &info, pid) {
        return Err(EPERM);
    }
    let tgid = u32::try_from(pid).ok().filter(|&p| p > 0).and_then(|p| process_of(k, p)).ok_or(ESRCH)?;
    valid_sig(sig)?;
    if sig != 0 {
        group_send_sig_info(k, tgid, info);
    }
    Ok(0)
}

/// rt_tgsigqueueinfo(tgid, tid, sig, siginfo_t *uinfo) (`do_rt_tgsigqueueinfo`, then
/// `do_send_specific`): EFAULT, EINVAL for an id <= 0, EPERM for a forged si_code
/// unless `tid` is the caller, ESRCH unless `tid` is a live thread of `tgid`, EINVAL
/// for a bad signal; the signal goes to that thread.
pub fn sys_rt_tgsigqueueinfo(k: &mut Kernel, a: Args) -> SysResult {
    let (tgid, tid, sig, uinfo) = (a[0] as i32, a[1] as i32, a[2] as i32, a[3]);
    let info = copy_siginfo_from_user(k, sig, uinfo)?;
    if tid <= 0 || tgid <= 0 {
        return Err(EINVAL);
    }
    if forged(k, &info, tid) {
        return Err(EPERM);
    }
    let t = k.find_task(tid as u32).filter(|t| !t.state.is_zombie()).ok_or(ESRCH)?;
    if t.tgid != tgid as u32 {
        return Err(ESRCH);
    }
    valid_sig(sig)?;
    if sig != 0 {
        send_sig_to(k, tid as u32, info);
    }
    Ok(0)
}

/// `sigsuspend` with the new mask `mask`: if a signal it lets through is pending,
/// installs the mask (the old one is kept for the handler's frame) and returns
/// -ERESTARTNOHAND, which the handler turns into EINTR; otherwise sleeps until one
/// arrives. If no handler runs (the signal was a stop signal, discarded), the old
/// mask comes back and the call is restarted: it sleeps again, as 2.4's loop does.
fn do_sigsuspend(k: &mut Kernel, mask: u64) -> SysResult {
    let mask = mask & !UNBLOCKABLE;
    if k.deliverable(&k.task, mask) {
        let st = &mut k.task.sig;
        st.saved_mask = Some(st.blocked);
        st.blocked = mask;
        return Err(ERESTARTNOHAND);
    }
    interruptible_sleep_on(k, WaitOn::Signal { mask, deadline: None });
    Err(ERESTARTNOHAND)
}

/// rt_sigsuspend(const sigset_t *mask, sigsetsize)
pub fn sys_rt_sigsuspend(k: &mut Kernel, a: Args) -> SysResult {
    if a[1] != SIGSET_SIZE {
        return Err(EINVAL);
    }
    let mut b = [0u8; 8];
    k.copy_from_user(a[0], &mut b).map_err(|_| EFAULT)?;
    do_sigsuspend(k, u64::from_le_bytes(b))
}

/// sigsuspend(history0, history1, old_sigset_t mask): the mask is one word.
pub fn sys_sigsuspend(k: &mut Kernel, a: Args) -> SysResult {
    do_sigsuspend(k, u64::from(a[2]))
}

/// pause(): sleeps until a signal is delivered; returns EINTR after its handler.
pub fn sys_pause(k: &mut Kernel, _a: Args) -> SysResult {
    let mask = k.task.sig.blocked;
    do_sigsuspend(k, mask)
}

/// rt_sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec
/// *timeout, sigsetsize) and its time64 form (today's `do_sigtimedwait`): takes a
/// pending signal of `set` (SIGKILL and SIGSTOP taken out), the thread's own first,
/// then the process's, and returns its number with its info; otherwise waits with
/// `set` unblocked for one to arrive, until the timeout (EAGAIN; a zero timeout does
/// not wait), or until another signal interrupts the wait (EINTR, and its handler
/// runs).
pub fn sys_rt_sigtimedwait(k: &mut Kernel, a: Args, time64: bool) -> SysResult {
    let (uset, uinfo, uts, size) = (a[0], a[1], a[2], a[3]);
    if size != SIGSET_SIZE {
        return Err(EINVAL);
    }
    let mut b = [0u8; 8];
    k.copy_from_user(uset, &mut b).map_err(|_| EFAULT)?;
    let set = u64::from_le_bytes(b) & !UNBLOCKABLE;
    let deadline = if uts != 0 {
        match k.task.timeout {
            Some(d) => Some(d),
            None => {
                let ts = crate::syscall::time::read_timespec(k, uts, time64)?;
                if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
                    return Err(EINVAL);
                }
                let d = std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
                Some(crate::sched::deadline_after(k, d))
            }
        }
    } else {
        None
    };
    if let Some(info) = crate::signal::dequeue_from(k, set) {
        if uinfo != 0 {
            k.copy_to_user(uinfo, info.to_user().as_bytes()).map_err(|_| EFAULT)?;
        }
        return Ok(info.signo as u32);
    }
    if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
        return Err(EAGAIN);
    }
    if k.task.woken || k.signal_pending() {
        // Woken (or found) with another signal: EINTR, which no restart undoes.
        return Err(EINTR);
    }
    let mask = k.task.sig.blocked & !set;
    interruptible_sleep_on(k, WaitOn::Signal { mask, deadline });
    Err(ERESTARTNOINTR)
}
