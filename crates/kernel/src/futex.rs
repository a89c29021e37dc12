//! Fast user-space mutexes: today's `kernel/futex/` for one CPU. 2.4 had no futexes
//! (they came with NPTL in 2.6); the ABI and every errno are today's kernel's.
//!
//! ## Keys
//!
//! A futex is named by a key, as `get_futex_key` makes it: a private futex
//! (FUTEX_PRIVATE_FLAG), or a word in a private mapping, is (address space, virtual
//! address), so only threads of one process meet on it; a word in a shared mapping
//! is its physical address, so two processes mapping the same page — a parent and a
//! forked child sharing a MAP_SHARED page — meet on it whatever addresses they use.
//!
//! ## Waiting
//!
//! A waiter is a task asleep on [`WaitOn::Futex`] with its key, bitset and the number
//! it drew when it went to sleep; wakers wake the lowest numbers first (today's
//! `futex_q` lists are FIFO per priority), so runs are reproducible. A wake
//! completes the waiter's system call (EAX = 0, EIP past `int 0x80`) instead of
//! re-executing it, which would read a word that has changed since. A timeout or a
//! signal re-executes the call, which then returns ETIMEDOUT or a restart code
//! (timeouts are deadlines on the host's monotonic clock, kept across the restart
//! in `task.timeout`, as every timed sleep here).
//!
//! ## Priority inheritance
//!
//! The PI operations keep the owner's tid in the word, FUTEX_WAITERS while threads
//! wait and FUTEX_OWNER_DIED after a robust owner died. With one CPU and a
//! scheduler without priorities there is nothing to boost: what remains is the
//! hand-over, in which UNLOCK_PI gives the lock straight to the oldest waiter.

use std::time::{Duration, Instant};

use growsdown_cpu::EAX;

use crate::errno::{Errno, SysResult, EAGAIN, EDEADLK, EFAULT, EINVAL, ENOSYS, EPERM, ERESTARTNOHAND, ERESTARTSYS, ESRCH};
use crate::mm::pgtable::{get_pte, PAGE_MASK, _PAGE_PRESENT};
use crate::mm::vma::VM_SHARED;
use crate::sched::{TaskState, WaitOn};
use crate::syscall::Args;
use crate::Kernel;

pub const FUTEX_WAIT: u32 = 0;
pub const FUTEX_WAKE: u32 = 1;
pub const FUTEX_REQUEUE: u32 = 3;
pub const FUTEX_CMP_REQUEUE: u32 = 4;
pub const FUTEX_WAKE_OP: u32 = 5;
pub const FUTEX_LOCK_PI: u32 = 6;
pub const FUTEX_UNLOCK_PI: u32 = 7;
pub const FUTEX_TRYLOCK_PI: u32 = 8;
pub const FUTEX_WAIT_BITSET: u32 = 9;
pub const FUTEX_WAKE_BITSET: u32 = 10;
pub const FUTEX_LOCK_PI2: u32 = 13;
pub const FUTEX_PRIVATE_FLAG: u32 = 128;
pub const FUTEX_CLOCK_REALTIME: u32 = 256;

/// The bits of a PI or robust futex word.
pub const FUTEX_WAITERS: u32 = 0x8000_0000;
pub const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
pub const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
const FUTEX_BITSET_MATCH_ANY: u32 = u32::MAX;

/// `ROBUST_LIST_LIMIT`: at most this many robust-list entries are walked at exit.
const ROBUST_LIST_LIMIT: u32 = 2048;

/// What a futex is called (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FutexKey {
    /// A word of one address space (its id, the virtual address).
    Private { mm: u32, addr: u32 },
    /// A word of a shared page: its physical address.
    Shared { phys: u32 },
}

/// `get_futex_key`: the key of the word at `uaddr`, which the caller has just read
/// (so its page is present).
fn get_futex_key(k: &Kernel, uaddr: u32, private: bool) -> FutexKey {
    let mm = &k.task.mm;
    let shared = !private && mm.find_vma(uaddr).is_some_and(|v| v.start <= uaddr && v.flags & VM_SHARED != 0);
    if shared {
        let pte = get_pte(k.cpu.mmu.phys(), mm.pgd, uaddr);
        if pte & _PAGE_PRESENT != 0 {
            return FutexKey::Shared { phys: (pte & PAGE_MASK) | (uaddr & !PAGE_MASK) };
        }
    }
    FutexKey::Private { mm: k.task.ids.mm, addr: uaddr }
}

/// The waiters on `key` (PI ones or the others), oldest first.
fn waiters(k: &Kernel, key: FutexKey, pi: bool) -> Vec<(u32, u32)> {
    let mut w: Vec<(u64, u32, u32)> = k
        .tasks
        .values()
        .filter_map(|t| match &t.state {
            TaskState::Interruptible(WaitOn::Futex { key: kk, bitset, seq, pi: p, .. })
                if *kk == key && *p == pi =>
            {
                Some((*seq, t.pid, *bitset))
            }
            _ => None,
        })
        .collect();
    w.sort_unstable();
    w.into_iter().map(|(_, pid, bitset)| (pid, bitset)).collect()
}

/// Ends the futex wait of sleeping task `pid`: its call returns `result`.
fn wake_task(k: &mut Kernel, pid: u32, result: u32) {
    if let Some(t) = k.tasks.get_mut(&pid) {
        t.state = TaskState::Running;
        // The sleep left EIP on `int 0x80` and EAX = the call number, for a restart;
        // the call completes instead, and its instruction counts as retired.
        t.ctx.eip = t.ctx.eip.wrapping_add(2);
        t.ctx.regs[EAX] = result;
        t.ctx.retired += 1;
        t.timeout = None;
        t.orig_eax = None;
        log::trace!(target: "kernel::futex", "pid {pid} woken");
    }
}

/// `futex_wake`: wakes up to `nr` waiters on `key` whose bitset meets `bitset`;
/// returns how many.
pub fn futex_wake(k: &mut Kernel, key: FutexKey, nr: u32, bitset: u32) -> u32 {
    let mut n = 0;
    for (pid, b) in waiters(k, key, false) {
        if n >= nr {
            break;
        }
        if b & bitset != 0 {
            wake_task(k, pid, 0);
            n += 1;
        }
    }
    n
}

/// A futex timeout as a deadline: relative on CLOCK_MONOTONIC, or absolute on
/// CLOCK_MONOTONIC or (FUTEX_CLOCK_REALTIME) CLOCK_REALTIME. Taken once per call, so
/// a restarted wait keeps it.
fn deadline(k: &mut Kernel, utime: u32, time64: bool, absolute: bool, realtime: bool) -> Result<Option<Instant>, Errno> {
    if utime == 0 {
        return Ok(None);
    }
    if let Some(d) = k.task.timeout {
        return Ok(Some(d));
    }
    let ts = crate::syscall::time::read_timespec(k, utime, time64)?;
    if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
        return Err(EINVAL);
    }
    let d = Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
    let left = if absolute {
        let clock = if realtime { libc::CLOCK_REALTIME } else { libc::CLOCK_MONOTONIC };
        let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `now` is a valid timespec.
        unsafe { libc::clock_gettime(clock, &mut now) };
        d.saturating_sub(Duration::new(now.tv_sec.max(0) as u64, now.tv_nsec as u32))
    } else {
        d
    };
    Ok(Some(crate::sched::deadline_after(k, left)))
}

/// Sleeps the current task on `key` (or returns at once: a timeout already past, a
/// pending signal). `restart` is the code for a signal: ERESTARTSYS for an untimed
/// wait (restarted after a handler with SA_RESTART), ERESTARTNOHAND for a timed one
/// (EINTR after a handler, today's -ERESTART_RESTARTBLOCK).
fn futex_sleep(k: &mut Kernel, key: FutexKey, bitset: u32, until: Option<Instant>, pi: bool) -> SysResult {
    let restart = if until.is_some() { ERESTARTNOHAND } else { ERESTARTSYS };
    if until.is_some_and(|d| Instant::now() >= d) {
        return Err(libc::ETIMEDOUT);
    }
    k.futex_seq += 1;
    let seq = k.futex_seq;
    crate::sched::sleep_on(k, WaitOn::Futex { key, bitset, deadline: until, seq, pi }, restart)
}

/// A call re-executed after its sleep ended without a wake: by its deadline
/// (ETIMEDOUT) or by a signal (the restart code); `None` if neither (it waits again).
fn resumed(k: &Kernel, until: Option<Instant>) -> Option<Errno> {
    if !k.task.woken {
        return None;
    }
    if until.is_some_and(|d| Instant::now() >= d) {
        return Some(libc::ETIMEDOUT);
    }
    k.signal_pending().then_some(if until.is_some() { ERESTARTNOHAND } else { ERESTARTSYS })
}

/// futex(uaddr, op, val, timeout|val2, uaddr2, val3).
pub fn sys_futex(k: &mut Kernel, a: Args, time64: bool) -> SysResult {
    let (uaddr, op, val, utime, uaddr2, val3) = (a[0], a[1], a[2], a[3], a[4], a[5]);
    let private = op & FUTEX_PRIVATE_FLAG != 0;
    let realtime = op & FUTEX_CLOCK_REALTIME != 0;
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    if realtime && !matches!(cmd, FUTEX_WAIT | FUTEX_WAIT_BITSET | FUTEX_LOCK_PI2) {
        return Err(ENOSYS);
    }
    if uaddr & 3 != 0 {
        return Err(EINVAL);
    }
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let bitset = if cmd == FUTEX_WAIT { FUTEX_BITSET_MATCH_ANY } else { val3 };
            if bitset == 0 {
                return Err(EINVAL);
            }
            // WAIT's timeout is relative, WAIT_BITSET's absolute.
            let until = deadline(k, utime, time64, cmd == FUTEX_WAIT_BITSET, realtime)?;
            if let Some(e) = resumed(k, until) {
                return Err(e);
            }
            if k.get_user::<u32>(uaddr)? != val {
                return Err(EAGAIN);
            }
            let key = get_futex_key(k, uaddr, private);
            futex_sleep(k, key, bitset, until, false)
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bitset = if cmd == FUTEX_WAKE { FUTEX_BITSET_MATCH_ANY } else { val3 };
            if bitset == 0 {
                return Err(EINVAL);
            }
            // A shared key needs the page (get_user_pages); a private one is only an
            // address, and the word is never read.
            if !private {
                k.get_user::<u32>(uaddr)?;
            }
            let key = get_futex_key(k, uaddr, private);
            Ok(futex_wake(k, key, val, bitset))
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            let (nr_wake, nr_requeue) = (val as i32, utime as i32);
            if nr_wake < 0 || nr_requeue < 0 || uaddr2 & 3 != 0 {
                return Err(EINVAL);
            }
            if !private {
                k.get_user::<u32>(uaddr)?;
                k.get_user::<u32>(uaddr2)?;
            }
            if cmd == FUTEX_CMP_REQUEUE && k.get_user::<u32>(uaddr)? != val3 {
                return Err(EAGAIN);
            }
            let (key1, key2) = (get_futex_key(k, uaddr, private), get_futex_key(k, uaddr2, private));
            let woken = futex_wake(k, key1, nr_wake as u32, FUTEX_BITSET_MATCH_ANY);
            let mut moved = 0;
            for (pid, _) in waiters(k, key1, false).into_iter().take(nr_requeue as usize) {
                if let Some(TaskState::Interruptible(WaitOn::Futex { key, .. })) =
                    k.tasks.get_mut(&pid).map(|t| &mut t.state)
                {
                    *key = key2;
                    moved += 1;
                }
            }
            Ok(woken + moved)
        }
        FUTEX_WAKE_OP => {
            if uaddr2 & 3 != 0 {
                return Err(EINVAL);
            }
            if !private {
                // A shared key needs the page present (get_user_pages).
                k.get_user::<u32>(uaddr)?;
            }
            let old = futex_atomic_op(k, uaddr2, val3)?;
            let (key1, key2) = (get_futex_key(k, uaddr, private), get_futex_key(k, uaddr2, private));
            let mut n = futex_wake(k, key1, val, FUTEX_BITSET_MATCH_ANY);
            if futex_op_cmp(val3, old)? {
                n += futex_wake(k, key2, utime, FUTEX_BITSET_MATCH_ANY);
            }
            Ok(n)
        }
        FUTEX_LOCK_PI | FUTEX_LOCK_PI2 => {
            // LOCK_PI's timeout is absolute on CLOCK_REALTIME; LOCK_PI2's on
            // CLOCK_MONOTONIC unless FUTEX_CLOCK_REALTIME.
            let until = deadline(k, utime, time64, true, cmd == FUTEX_LOCK_PI || realtime)?;
            if let Some(e) = resumed(k, until) {
                return Err(e);
            }
            futex_lock_pi(k, uaddr, private, until, false)
        }
        FUTEX_TRYLOCK_PI => futex_lock_pi(k, uaddr, private, None, true),
        FUTEX_UNLOCK_PI => futex_unlock_pi(k, uaddr, private),
        _ => Err(ENOSYS),
    }
}

/// The operation of FUTEX_WAKE_OP on `*uaddr2` (`futex_atomic_op_inuser`): returns
/// the old value. An unknown operation is ENOSYS before anything is written.
fn futex_atomic_op(k: &mut Kernel, uaddr2: u32, encoded: u32) -> Result<u32, Errno> {
    let op = (encoded >> 28) & 7;
    let sext12 = |v: u32| ((v << 20) as i32 >> 20) as u32;
    let mut oparg = sext12((encoded >> 12) & 0xfff);
    if encoded & (8 << 28) != 0 {
        // FUTEX_OP_OPARG_SHIFT: a shift out of range is masked (with a kernel warning).
        if oparg > 31 {
            oparg &= 31;
        }
        oparg = 1u32 << oparg;
    }
    if op > 4 {
        return Err(ENOSYS);
    }
    let old = k.get_user::<u32>(uaddr2)?;
    let new = match op {
        0 => oparg,
        1 => old.wrapping_add(oparg),
        2 => old | oparg,
        3 => old & !oparg,
        _ => old ^ oparg,
    };
    k.put_user::<u32>(uaddr2, new)?;
    Ok(old)
}

/// The comparison of FUTEX_WAKE_OP: the old value against the sign-extended 12-bit
/// argument, signed; an unknown comparison is ENOSYS (after the write, as in Linux).
fn futex_op_cmp(encoded: u32, old: u32) -> Result<bool, Errno> {
    let cmparg = ((encoded << 20) as i32) >> 20;
    let old = old as i32;
    Ok(match (encoded >> 24) & 0xf {
        0 => old == cmparg,
        1 => old != cmparg,
        2 => old < cmparg,
        3 => old <= cmparg,
        4 => old > cmparg,
        5 => old >= cmparg,
        _ => return Err(ENOSYS),
    })
}

/// FUTEX_LOCK_PI / FUTEX_TRYLOCK_PI (`futex_lock_pi_atomic`): a word with no owner
/// is taken (keeping FUTEX_OWNER_DIED, which tells the caller the last owner died);
/// the caller's own tid is EDEADLK; an owner that is no thread of the machine is
/// ESRCH; otherwise FUTEX_WAITERS is set and the caller waits for UNLOCK_PI to hand
/// it the lock (TRYLOCK: EAGAIN).
fn futex_lock_pi(k: &mut Kernel, uaddr: u32, private: bool, until: Option<Instant>, try_only: bool) -> SysResult {
    let me = k.task.pid;
    let word = k.get_user::<u32>(uaddr)?;
    let owner = word & FUTEX_TID_MASK;
    if owner == 0 {
        k.put_user::<u32>(uaddr, (word & FUTEX_OWNER_DIED) | me)?;
        return Ok(0);
    }
    if owner == me {
        return Err(EDEADLK);
    }
    if k.find_task(owner).is_none_or(|t| t.state.is_zombie()) {
        return Err(ESRCH);
    }
    if try_only {
        return Err(EAGAIN);
    }
    if word & FUTEX_WAITERS == 0 {
        k.put_user::<u32>(uaddr, word | FUTEX_WAITERS)?;
    }
    let key = get_futex_key(k, uaddr, private);
    futex_sleep(k, key, FUTEX_BITSET_MATCH_ANY, until, true)
}

/// FUTEX_UNLOCK_PI (`futex_unlock_pi`): only the owner may unlock (EPERM); the
/// oldest waiter becomes the owner (word = its tid | FUTEX_WAITERS, its LOCK_PI
/// returns 0), or the word becomes 0.
fn futex_unlock_pi(k: &mut Kernel, uaddr: u32, private: bool) -> SysResult {
    let me = k.task.pid;
    let word = k.get_user::<u32>(uaddr)?;
    if word & FUTEX_TID_MASK != me {
        return Err(EPERM);
    }
    let key = get_futex_key(k, uaddr, private);
    match waiters(k, key, true).first() {
        Some(&(next, _)) => {
            k.put_user::<u32>(uaddr, FUTEX_WAITERS | next)?;
            wake_task(k, next, 0);
        }
        None => k.put_user::<u32>(uaddr, 0)?,
    }
    Ok(0)
}

/// `mm_release` at exit and exec: the robust futexes the task still holds are
/// marked FUTEX_OWNER_DIED and a waiter woken (`exit_robust_list`), then
/// CLONE_CHILD_CLEARTID's word is zeroed and one waiter on it woken — how
/// pthread_join learns that the thread is gone — if another task shares the address
/// space to see it.
pub fn mm_release(k: &mut Kernel) {
    exit_robust_list(k);
    let tid_addr = std::mem::take(&mut k.task.clear_child_tid);
    if tid_addr != 0 && k.users(crate::share::Kind::Mm, k.task.ids.mm) > 1 && k.put_user::<u32>(tid_addr, 0).is_ok() {
        let key = get_futex_key(k, tid_addr, false);
        futex_wake(k, key, 1, FUTEX_BITSET_MATCH_ANY);
    }
}

/// `exit_robust_list`: walks the list registered with set_robust_list (`struct
/// robust_list_head`: next, futex_offset, list_op_pending; bit 0 of a pointer marks
/// a PI futex), at most ROBUST_LIST_LIMIT entries, then the pending one. A fault
/// ends the walk.
fn exit_robust_list(k: &mut Kernel) {
    let head = std::mem::take(&mut k.task.robust_list).0;
    let tid = k.task.pid;
    walk_robust_list(k, tid, head);
}

/// The robust list of thread `t`, killed with its process while another thread is
/// current (`exit_group`, a fatal signal): walked in the current task's address
/// space, which is `t`'s, as `t`'s own `do_exit` would have (a robust mutex in
/// memory shared with another process is then marked owner-died for it).
pub fn exit_robust_list_of(k: &mut Kernel, t: &mut crate::task::Task) {
    let head = std::mem::take(&mut t.robust_list).0;
    if t.ids.mm == k.task.ids.mm && t.ids.mm != 0 {
        walk_robust_list(k, t.pid, head);
    }
}

/// The walk of [`exit_robust_list`] for thread `tid`.
fn walk_robust_list(k: &mut Kernel, tid: u32, head: u32) {
    if head == 0 {
        return;
    }
    let walk = |k: &mut Kernel| -> Result<(), Errno> {
        let mut entry = k.get_user::<u32>(head)?;
        let offset = k.get_user::<u32>(head.wrapping_add(4))?;
        let pending = k.get_user::<u32>(head.wrapping_add(8))?;
        let mut limit = ROBUST_LIST_LIMIT;
        while entry & !1 != head {
            let next = k.get_user::<u32>(entry & !1)?;
            if entry & !1 != pending & !1 {
                handle_futex_death(k, tid, (entry & !1).wrapping_add(offset), entry & 1 != 0, false)?;
            }
            entry = next;
            limit -= 1;
            if limit == 0 {
                break;
            }
        }
        if pending & !1 != 0 {
            handle_futex_death(k, tid, (pending & !1).wrapping_add(offset), pending & 1 != 0, true)?;
        }
        Ok(())
    };
    if walk(k).is_err() {
        log::debug!(target: "kernel::futex", "pid {tid}: robust list at {head:#x} faulted");
    }
}

/// `handle_futex_death`: a word the dying task owns gets FUTEX_OWNER_DIED (keeping
/// FUTEX_WAITERS) and one waiter is woken: a plain waiter's wait returns, a PI
/// waiter retries its LOCK_PI and takes the lock with FUTEX_OWNER_DIED. A pending
/// operation on an unowned word wakes a waiter too (the lock may have been released
/// just before the death).
fn handle_futex_death(k: &mut Kernel, me: u32, uaddr: u32, pi: bool, pending_op: bool) -> Result<(), Errno> {
    if uaddr & 3 != 0 {
        return Err(EFAULT);
    }
    let word = k.get_user::<u32>(uaddr)?;
    let key = get_futex_key(k, uaddr, false);
    if pending_op && !pi && word == 0 {
        futex_wake(k, key, 1, FUTEX_BITSET_MATCH_ANY);
        return Ok(());
    }
    if word & FUTEX_TID_MASK != me {
        return Ok(());
    }
    k.put_user::<u32>(uaddr, (word & FUTEX_WAITERS) | FUTEX_OWNER_DIED)?;
    if word & FUTEX_WAITERS != 0 {
        if pi {
            // The oldest PI waiter runs its LOCK_PI again (its sleep left the call
            // ready to be re-executed).
            if let Some(&(pid, _)) = waiters(k, key, true).first() {
                if let Some(t) = k.tasks.get_mut(&pid) {
                    t.state = TaskState::Running;
                }
            }
        } else {
            futex_wake(k, key, 1, FUTEX_BITSET_MATCH_ANY);
        }
    }
    Ok(())
}
