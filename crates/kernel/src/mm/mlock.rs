//! Locking pages in memory: mlock, mlock2, munlock, mlockall, munlockall
//! (2.4's `mm/mlock.c`, with today's argument checks and errno values).
//!
//! A locked page is one that is present (reclaim keeps the pages of a VM_LOCKED VMA,
//! `try_to_swap_out`'s first test): locking faults the
//! range in (`make_pages_present`, today's `__mm_populate`) unless it is locked on
//! fault (MLOCK_ONFAULT, MCL_ONFAULT, today's VM_LOCKONFAULT), and the VMAs carry
//! VM_LOCKED so `mm.locked_vm`, MADV_DONTNEED (EINVAL) and fork (the child's copy is
//! unlocked) see it. The VMA surgery is mprotect's ([`vma_modify_flags`]).

use crate::errno::{Errno, SysResult, EINVAL, ENOMEM, EPERM};
use crate::syscall::Args;
use crate::task::RLIMIT_MEMLOCK;
use crate::Kernel;

use super::mmap::{make_pages_present, mprotect_merge, rlimit, vma_modify_flags};
use super::pgtable::PAGE_MASK;
use super::vma::{VM_LOCKED, VM_LOCKED_MASK, VM_LOCKONFAULT};

pub const MLOCK_ONFAULT: u32 = 1;
pub const MCL_CURRENT: u32 = 1;
pub const MCL_FUTURE: u32 = 2;
pub const MCL_ONFAULT: u32 = 4;

/// `capable(CAP_IPC_LOCK)`: the guest runs with the emulator's credentials, so root
/// has it (as 2.4's and today's root does).
pub fn capable_ipc_lock() -> bool {
    // SAFETY: no arguments.
    unsafe { libc::geteuid() == 0 }
}

/// Today's `can_do_mlock`: a non-zero RLIMIT_MEMLOCK or CAP_IPC_LOCK (2.4 asked for
/// CAP_IPC_LOCK alone).
pub fn can_do_mlock(k: &Kernel) -> bool {
    rlimit(k, RLIMIT_MEMLOCK) != 0 || capable_ipc_lock()
}

/// Today's `mlock_future_ok`: may a mapping of `len` more bytes with `vm_flags` be
/// locked without going over RLIMIT_MEMLOCK?
pub fn mlock_future_ok(k: &Kernel, vm_flags: u32, len: u32) -> bool {
    if vm_flags & VM_LOCKED == 0 || capable_ipc_lock() {
        return true;
    }
    let pages = u64::from(k.task.mm.locked_vm) + u64::from(len >> 12);
    pages <= rlimit(k, RLIMIT_MEMLOCK) >> 12
}

/// `mlock_fixup`: `[start, end)` of VMA `i` gets `newflags`, and `locked_vm` follows
/// (today's counting: pages newly locked are added, pages unlocked removed).
fn mlock_fixup(k: &mut Kernel, i: usize, start: u32, end: u32, newflags: u32) -> Result<usize, Errno> {
    let oldflags = k.task.mm.mmap[i].flags;
    let pages = (end - start) >> 12;
    let i = vma_modify_flags(k, i, start, end, newflags)?;
    let mm = &mut k.task.mm;
    match (oldflags & VM_LOCKED != 0, newflags & VM_LOCKED != 0) {
        (false, true) => mm.locked_vm += pages,
        (true, false) => mm.locked_vm = mm.locked_vm.saturating_sub(pages),
        _ => {}
    }
    Ok(i)
}

/// Today's `apply_vma_lock_flags`: every VMA of `[start, end)` gets `flags` in place of
/// its VM_LOCKED/VM_LOCKONFAULT bits. A hole is ENOMEM (after the VMAs before it were
/// changed, as in Linux).
fn apply_vma_lock_flags(k: &mut Kernel, start: u32, len: u32, flags: u32) -> Result<(), Errno> {
    let end = start.wrapping_add(len);
    if end < start {
        return Err(EINVAL);
    }
    if end == start {
        return Ok(());
    }
    let Some(mut i) = k.task.mm.find_vma_index(start).filter(|&i| k.task.mm.mmap[i].start <= start) else {
        return Err(ENOMEM);
    };
    let mut nstart = start;
    loop {
        let v = &k.task.mm.mmap[i];
        let newflags = (v.flags & !VM_LOCKED_MASK) | flags;
        let tmp = v.end.min(end);
        i = mlock_fixup(k, i, nstart, tmp, newflags)?;
        if tmp >= end {
            break;
        }
        nstart = tmp;
        i += 1;
        if k.task.mm.mmap.get(i).is_none_or(|v| v.start != nstart) {
            mprotect_merge(k, i - 1);
            return Err(ENOMEM);
        }
    }
    mprotect_merge(k, i);
    Ok(())
}

/// `start &= PAGE_MASK; len = PAGE_ALIGN(len + offset)` as today's 64-bit kernels
/// compute it for a 32-bit caller, where nothing wraps: the range clipped to user
/// space, and whether it reached beyond (pages that are unmapped, so ENOMEM).
fn lock_range(start: u32, len: u32) -> (u32, u32, bool) {
    let s = start & PAGE_MASK;
    let end = u64::from(start) + u64::from(len);
    let end = (end + 0xfff) & !0xfff;
    let top = u64::from(crate::TASK_SIZE);
    (s, (end.min(top).max(u64::from(s)) - u64::from(s)) as u32, end > top)
}

/// Pages of `[start, start + len)` already in VM_LOCKED VMAs (today's
/// `count_mm_mlocked_page_nr`), which a new mlock of the range does not charge again.
fn count_mlocked_pages(k: &Kernel, start: u32, len: u32) -> u64 {
    let end = u64::from(start) + u64::from(len);
    k.task
        .mm
        .mmap
        .iter()
        .filter(|v| v.flags & VM_LOCKED != 0)
        .map(|v| {
            let (s, e) = (u64::from(v.start.max(start)), u64::from(v.end).min(end));
            if e > s {
                (e - s) >> 12
            } else {
                0
            }
        })
        .sum()
}

/// Today's `do_mlock`: EPERM when the caller may not lock at all, ENOMEM over
/// RLIMIT_MEMLOCK or for a range with unmapped pages, then the range is faulted in
/// unless `flags` has VM_LOCKONFAULT.
fn do_mlock(k: &mut Kernel, start: u32, len: u32, flags: u32) -> SysResult {
    if !can_do_mlock(k) {
        return Err(EPERM);
    }
    let (start, len, beyond) = lock_range(start, len);
    let limit = rlimit(k, RLIMIT_MEMLOCK) >> 12;
    let mut locked = (u64::from(len) >> 12) + u64::from(beyond) + u64::from(k.task.mm.locked_vm);
    if locked > limit && !capable_ipc_lock() {
        locked -= count_mlocked_pages(k, start, len);
    }
    if locked > limit && !capable_ipc_lock() {
        return Err(ENOMEM);
    }
    apply_vma_lock_flags(k, start, len, flags)?;
    if beyond {
        return Err(ENOMEM);
    }
    if flags & VM_LOCKONFAULT == 0 {
        populate_locked(k, start, start.wrapping_add(len));
    }
    Ok(0)
}

/// `__mm_populate` of a locked range: faults in the pages of the VM_LOCKED VMAs in it
/// that are not locked on fault. PROT_NONE VMAs are skipped, as today's
/// `populate_vma_page_range` does.
fn populate_locked(k: &mut Kernel, start: u32, end: u32) {
    let ranges: Vec<(u32, u32)> = k
        .task
        .mm
        .mmap
        .iter()
        .filter(|v| v.end > start && v.start < end)
        .filter(|v| v.flags & (VM_LOCKED | VM_LOCKONFAULT) == VM_LOCKED)
        .filter(|v| v.flags & (super::vma::VM_READ | super::vma::VM_WRITE | super::vma::VM_EXEC) != 0)
        .map(|v| (v.start.max(start), v.end.min(end)))
        .collect();
    for (s, e) in ranges {
        make_pages_present(k, s, e);
    }
}

/// mlock (150).
pub fn sys_mlock(k: &mut Kernel, a: Args) -> SysResult {
    do_mlock(k, a[0], a[1], VM_LOCKED)
}

/// mlock2 (376): today's only; MLOCK_ONFAULT locks pages as they are faulted in.
pub fn sys_mlock2(k: &mut Kernel, a: Args) -> SysResult {
    let flags = a[2];
    if flags & !MLOCK_ONFAULT != 0 {
        return Err(EINVAL);
    }
    let onfault = if flags & MLOCK_ONFAULT != 0 { VM_LOCKONFAULT } else { 0 };
    do_mlock(k, a[0], a[1], VM_LOCKED | onfault)
}

/// munlock (151): needs no privilege and no limit.
pub fn sys_munlock(k: &mut Kernel, a: Args) -> SysResult {
    let (start, len, beyond) = lock_range(a[0], a[1]);
    apply_vma_lock_flags(k, start, len, 0)?;
    if beyond {
        return Err(ENOMEM);
    }
    Ok(0)
}

/// Today's `apply_mlockall_flags`: MCL_FUTURE goes into `def_flags` (every later
/// mapping, brk included, is locked), MCL_CURRENT locks every VMA now; errors of the
/// single VMAs are ignored, as in Linux.
fn apply_mlockall_flags(k: &mut Kernel, flags: u32) {
    let mm = &mut k.task.mm;
    mm.def_flags &= !VM_LOCKED_MASK;
    if flags & MCL_FUTURE != 0 {
        mm.def_flags |= VM_LOCKED;
        if flags & MCL_ONFAULT != 0 {
            mm.def_flags |= VM_LOCKONFAULT;
        }
        if flags & MCL_CURRENT == 0 {
            return;
        }
    }
    let mut to_add = 0;
    if flags & MCL_CURRENT != 0 {
        to_add |= VM_LOCKED;
        if flags & MCL_ONFAULT != 0 {
            to_add |= VM_LOCKONFAULT;
        }
    }
    let mut i = 0;
    while i < k.task.mm.mmap.len() {
        let v = &k.task.mm.mmap[i];
        let (start, end) = (v.start, v.end);
        let newflags = (v.flags & !VM_LOCKED_MASK) | to_add;
        match mlock_fixup(k, i, start, end, newflags) {
            Ok(j) => i = j + 1,
            Err(_) => i += 1,
        }
    }
}

/// mlockall (152). No flags, unknown flags or MCL_ONFAULT alone are EINVAL; EPERM
/// when the caller may not lock; ENOMEM for MCL_CURRENT when the whole address space
/// is over RLIMIT_MEMLOCK (all today's `mlockall`).
pub fn sys_mlockall(k: &mut Kernel, a: Args) -> SysResult {
    let flags = a[0];
    if flags == 0 || flags & !(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0 || flags == MCL_ONFAULT {
        return Err(EINVAL);
    }
    if !can_do_mlock(k) {
        return Err(EPERM);
    }
    let limit = rlimit(k, RLIMIT_MEMLOCK) >> 12;
    if flags & MCL_CURRENT != 0 && u64::from(k.task.mm.total_vm) > limit && !capable_ipc_lock() {
        return Err(ENOMEM);
    }
    apply_mlockall_flags(k, flags);
    if flags & MCL_CURRENT != 0 {
        populate_locked(k, 0, crate::TASK_SIZE);
    }
    Ok(0)
}

/// munlockall (153).
pub fn sys_munlockall(k: &mut Kernel, _a: Args) -> SysResult {
    apply_mlockall_flags(k, 0);
    Ok(0)
}
