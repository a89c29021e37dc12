//! Signal system calls: sigaction, masks, the alternate stack, kill to self.
//! Delivery, frames and sigreturn live in [`crate::signal`].

use crate::errno::{SysResult, EFAULT, EINVAL, ESRCH};
use crate::signal::{
    do_sigaction, do_sigaltstack, read_stack_t, send_sig_info, write_stack_t, SigAction, SigInfo, NSIG,
    SA_NODEFER, SA_RESETHAND, SI_TKILL, SI_USER, UNBLOCKABLE,
};
use crate::syscall::Args;
use crate::Kernel;

const SIG_BLOCK: u32 = 0;
const SIG_UNBLOCK: u32 = 1;
const SIG_SETMASK: u32 = 2;
/// `sizeof(sigset_t)` the kernel accepts.
const SIGSET_SIZE: u32 = 8;

fn get32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

/// rt_sigaction(sig, const struct sigaction *act, struct sigaction *oact, sigsetsize)
/// with the i386 kernel layout: handler, flags, restorer, mask (8 bytes).
pub fn sys_rt_sigaction(k: &mut Kernel, a: Args) -> SysResult {
    let (sig, act, oact, size) = (a[0] as i32, a[1], a[2], a[3]);
    if size != SIGSET_SIZE {
        return Err(EINVAL);
    }
    let new = if act != 0 {
        let mut b = [0u8; 20];
        k.copy_from_user(act, &mut b).map_err(|_| EFAULT)?;
        Some(SigAction {
            handler: get32(&b, 0),
            flags: get32(&b, 4),
            restorer: get32(&b, 8),
            mask: u64::from(get32(&b, 12)) | (u64::from(get32(&b, 16)) << 32),
        })
    } else {
        None
    };
    let old = do_sigaction(k, sig, new)?;
    if oact != 0 {
        let mut b = [0u8; 20];
        b[0..4].copy_from_slice(&old.handler.to_le_bytes());
        b[4..8].copy_from_slice(&old.flags.to_le_bytes());
        b[8..12].copy_from_slice(&old.restorer.to_le_bytes());
        b[12..20].copy_from_slice(&old.mask.to_le_bytes());
        k.copy_to_user(oact, &b).map_err(|_| EFAULT)?;
    }
    Ok(0)
}

/// sigaction(sig, const struct old_sigaction *act, struct old_sigaction *oact):
/// handler, mask (one word), flags, restorer.
pub fn sys_sigaction(k: &mut Kernel, a: Args) -> SysResult {
    let (sig, act, oact) = (a[0] as i32, a[1], a[2]);
    let new = if act != 0 {
        let mut b = [0u8; 16];
        k.copy_from_user(act, &mut b).map_err(|_| EFAULT)?;
        Some(SigAction {
            handler: get32(&b, 0),
            mask: u64::from(get32(&b, 4)),
            flags: get32(&b, 8),
            restorer: get32(&b, 12),
        })
    } else {
        None
    };
    let old = do_sigaction(k, sig, new)?;
    if oact != 0 {
        let mut b = [0u8; 16];
        b[0..4].copy_from_slice(&old.handler.to_le_bytes());
        b[4..8].copy_from_slice(&(old.mask as u32).to_le_bytes());
        b[8..12].copy_from_slice(&old.flags.to_le_bytes());
        b[12..16].copy_from_slice(&old.restorer.to_le_bytes());
        k.copy_to_user(oact, &b).map_err(|_| EFAULT)?;
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
    let p = k.task.sig.pending_mask() & k.task.sig.blocked;
    k.copy_to_user(a[0], &p.to_le_bytes()[..a[1] as usize]).map_err(|_| EFAULT)?;
    Ok(0)
}

/// sigpending(old_sigset_t *set)
pub fn sys_sigpending(k: &mut Kernel, a: Args) -> SysResult {
    let p = k.task.sig.pending_mask() & k.task.sig.blocked;
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

fn signal_self(k: &mut Kernel, sig: i32, code: i32) -> SysResult {
    if sig != 0 {
        let pid = k.task.pid;
        send_sig_info(k, SigInfo::user(sig, code, pid));
    }
    Ok(0)
}

/// kill(pid, sig): pid 0, -1, the task's pid or -pid reach the task itself. Any
/// other pid names a host process (the guest lives among them, as a native run
/// would): the host delivers the signal, or says ESRCH / EPERM. Broadcasts
/// (-1) stop at the task.
pub fn sys_kill(k: &mut Kernel, a: Args) -> SysResult {
    let (pid, sig) = (a[0] as i32, a[1] as i32);
    valid_sig(sig)?;
    let me = k.task.pid as i32;
    if pid == 0 || pid == -1 || pid == me || pid == -me {
        return signal_self(k, sig, SI_USER);
    }
    if pid == i32::MIN {
        return Err(ESRCH);
    }
    // SAFETY: kill has no pointer arguments.
    if unsafe { libc::kill(pid, sig) } < 0 {
        return Err(crate::errno::host_errno());
    }
    Ok(0)
}

/// tkill(tid, sig)
pub fn sys_tkill(k: &mut Kernel, a: Args) -> SysResult {
    let (tid, sig) = (a[0] as i32, a[1] as i32);
    if tid <= 0 {
        return Err(EINVAL);
    }
    valid_sig(sig)?;
    if tid != k.task.pid as i32 {
        return Err(ESRCH);
    }
    signal_self(k, sig, SI_TKILL)
}

/// tgkill(tgid, tid, sig): how glibc's raise() and abort() signal themselves.
pub fn sys_tgkill(k: &mut Kernel, a: Args) -> SysResult {
    let (tgid, tid, sig) = (a[0] as i32, a[1] as i32, a[2] as i32);
    if tgid <= 0 || tid <= 0 {
        return Err(EINVAL);
    }
    valid_sig(sig)?;
    let me = k.task.pid as i32;
    if tgid != me || tid != me {
        return Err(ESRCH);
    }
    signal_self(k, sig, SI_TKILL)
}
