//! `do_page_fault` (`arch/i386/mm/fault.c`, linux24.md §1) and `expand_stack`
//! (`include/linux/mm.h`, linux24.md §2.4).
//!
//! The steps and their order are 2.4.35's (linux24.md §1.3):
//!
//! 1. kernel address, kernel mode, not present → `vmalloc_fault`;
//! 2. si_code = SEGV_MAPERR;
//! 3. no mm → `no_context`;
//! 4. `find_vma`: none → `bad_area`; inside → `good_area`; below a GROWSDOWN VMA →
//!    (user faults only) the `address + 32 < esp` test, then `expand_stack`;
//! 5. `good_area`: si_code = SEGV_ACCERR, access check on `error_code & 3`;
//! 6. `handle_mm_fault` → 1 minor / 2 major / 0 `do_sigbus` / -1 the OOM killer
//!    (`oom_kill::oom_after_reclaim`), then `out_of_memory` if this process dies.
//!
//! Every decision is recorded as a [`Step`] when an observer is installed. The
//! recording is a type parameter ([`Recorder`]): without an observer the path is
//! compiled with [`NoTrace`], whose `step` is empty, so the only cost is the one
//! `observer.is_some()` test at entry.

use growsdown_cpu::exception::vector;
use growsdown_cpu::mmu::{PF_PRESENT, PF_USER};

use crate::errno::{Errno, ENOMEM};
use crate::signal::{
    force_sig_info, SigInfo, BUS_ADRERR, SEGV_ACCERR, SEGV_MAPERR, SIGBUS, SIGKILL, SIGSEGV,
};
use crate::task::{RLIMIT_AS, RLIMIT_MEMLOCK, RLIMIT_STACK};
use crate::trace::{
    flush_fault_log, FaultRecord, FaultResult, InsnSource, PathRecorder, Step, ThreadFaults, FAULT_LOG,
};
use crate::{Kernel, PAGE_SIZE, TASK_SIZE};

use super::memory::{handle_mm_fault, VM_FAULT_MAJOR, VM_FAULT_MINOR, VM_FAULT_SIGBUS};
use super::pgtable::{self, PAGE_MASK};
use super::vma::{VM_EXEC, VM_GROWSDOWN, VM_LOCKED, VM_READ, VM_WRITE};

/// Where the fault path writes its [`Step`]s.
pub trait Recorder {
    /// Records the step `f` builds; `f` is not called when nothing records.
    fn step(&mut self, f: impl FnOnce() -> Step);
}

/// No observer: recording compiles to nothing.
pub struct NoTrace;

impl Recorder for NoTrace {
    #[inline(always)]
    fn step(&mut self, _f: impl FnOnce() -> Step) {}
}

impl Recorder for Vec<Step> {
    #[inline(always)]
    fn step(&mut self, f: impl FnOnce() -> Step) {
        self.push(f());
    }
}

/// The #PF handler. `esp` is the user ESP at the time of the fault (for a kernel-mode
/// fault taken in a syscall it is the user ESP too, but it is not used); `user` is
/// error-code bit 2. Returns how the fault ended; a user fault that ends in a signal
/// has queued it with `force_sig_info`, a kernel fault that cannot be resolved is
/// [`FaultResult::Efault`] (the exception-table fixup: the uaccess copy stops).
///
/// Inlined into its two callers, so that the test for an observer comes before either
/// path's function is entered: a traced fault no longer goes through the untraced
/// path's prologue (six registers saved and a large frame) to reach its own, and
/// an untraced one makes the same one call as before.
#[inline(always)]
pub fn do_page_fault(k: &mut Kernel, address: u32, error_code: u32, esp: u32, user: bool) -> FaultResult {
    k.fault_seq += 1;
    if k.observer.is_none() {
        return do_page_fault_untraced(k, address, error_code, esp, user);
    }
    do_page_fault_traced(k, address, error_code, esp, user)
}

/// [`do_page_fault`] without an observer: the path recorded into nothing.
#[inline(never)]
fn do_page_fault_untraced(k: &mut Kernel, address: u32, error_code: u32, esp: u32, user: bool) -> FaultResult {
    ThreadFaults::charged(k, |k| __do_page_fault(k, address, error_code, esp, user, &mut NoTrace).0)
}

/// [`do_page_fault`] with an observer: records the fault and hands it over. A
/// function of its own, so that the untraced path compiles as if this were not there.
#[inline(never)]
fn do_page_fault_traced(k: &mut Kernel, address: u32, error_code: u32, esp: u32, user: bool) -> FaultResult {
    // The path is packed into the record as it is made (fixed size, no allocation).
    // A path that does not pack (`bad_area`'s, which ends in a signal) is recorded
    // as steps into a vector allocated then.
    let mut rec = PathRecorder::new(address, error_code, esp, user, Vec::new());
    let (result, vma) =
        ThreadFaults::charged(k, |k| __do_page_fault(k, address, error_code, esp, user, &mut rec));
    let mem = crate::trace::MemCounts::of(k);
    let record = FaultRecord {
        seq: k.fault_seq,
        pid: k.task.tgid,
        tid: k.task.pid,
        // The faulting thread's own count: instructions it retired before this one.
        icount: k.task_icount(),
        machine_icount: k.cpu.icount,
        eip: k.cpu.eip,
        esp,
        cr2: address,
        error_code,
        vma,
        path: rec.packed,
        result,
        // 32 bits wide, as i386 Linux keeps them (`FaultRecord`).
        min_flt: k.task.min_flt as u32,
        maj_flt: k.task.maj_flt as u32,
        rss: mem.rss as u32,
        pswpin: mem.pswpin as u32,
        pswpout: mem.pswpout as u32,
    };
    if let Some(log) = k.fault_log.as_mut() {
        // Stored where the observer takes it from, a run at a time: no call through
        // the observer at each fault.
        log.push(record, &rec.spill, InsnSource::read_at(!user, k.cpu.eip, &k.cpu));
        if log.faults.len() >= FAULT_LOG {
            flush_fault_log(k);
        }
    } else if let Some(obs) = k.observer.as_mut() {
        obs.fault_record(&record, &rec.spill, &k.cpu);
    }
    result
}

/// The decision procedure of linux24.md §1.3. Also returns the VMA the fault was resolved
/// against (after any stack expansion), for the trace event.
fn __do_page_fault<R: Recorder>(
    k: &mut Kernel,
    address: u32,
    error_code: u32,
    esp: u32,
    user: bool,
    rec: &mut R,
) -> (FaultResult, Option<(u32, u32, u32)>) {
    rec.step(|| Step::DoPageFault { address, error_code, user });

    // 1. A kernel-mode, not-present fault on a kernel address: vmalloc area sync.
    //    A user-mode fault on a kernel address does not come here (P or U set).
    if address >= TASK_SIZE && error_code & (PF_PRESENT | PF_USER) == 0 {
        return (vmalloc_fault(k, address, rec), None);
    }

    // 3. No user context: 2.4 goes to no_context (an oops unless fixed up).
    if k.task.mm.pgd == 0 {
        log::error!(target: "kernel::fault", "page fault at {address:#010x} with no mm");
        if user {
            force_sig_info(k, SigInfo::kernel(SIGKILL));
        }
        return (no_context(rec), None);
    }

    // 4–5. find_vma: the first VMA with vm_end > address. si_code stays MAPERR
    //      until good_area.
    let idx = k.task.mm.find_vma_index(address);
    rec.step(|| Step::FindVma { vma: idx.map(|i| k.task.mm.mmap[i].summary()) });
    let Some(idx) = idx else {
        // Covers every address >= TASK_SIZE: no user VMA ends above it.
        return (
            bad_area(k, address, error_code, user, SEGV_MAPERR, "no VMA at or above the address", rec),
            None,
        );
    };
    let found = k.task.mm.mmap[idx].summary();

    if k.task.mm.mmap[idx].start > address {
        // The address is in the hole below this VMA.
        if k.task.mm.mmap[idx].flags & VM_GROWSDOWN == 0 {
            let r = bad_area(
                k,
                address,
                error_code,
                user,
                SEGV_MAPERR,
                "in the hole below a VMA that does not grow down",
                rec,
            );
            return (r, Some(found));
        }
        if user && k.config.personality.esp_check {
            // "Accessing the stack below %esp is always a bug", with 32 bytes of
            // slack for pusha, which stores 8 dwords before it updates ESP. Kernel-
            // mode faults (copy_to_user, signal frames) skip this test entirely.
            let ok = address.wrapping_add(32) >= esp;
            rec.step(|| Step::EspCheck { esp, ok });
            if !ok {
                let r =
                    bad_area(k, address, error_code, user, SEGV_MAPERR, "more than 32 bytes below ESP", rec);
                return (r, Some(found));
            }
        }
        let old_start = k.task.mm.mmap[idx].start;
        let res = expand_stack(k, idx, address);
        rec.step(|| Step::ExpandStack { old_start, new_start: address & PAGE_MASK, ok: res.is_ok() });
        if res.is_err() {
            let r = bad_area(
                k,
                address,
                error_code,
                user,
                SEGV_MAPERR,
                "expand_stack refused (RLIMIT_STACK or RLIMIT_AS)",
                rec,
            );
            return (r, Some(found));
        }
    }

    // 6. good_area: from here on a refusal is SEGV_ACCERR.
    let vma = k.task.mm.mmap[idx].summary();
    let flags = vma.2;
    let write = match error_code & 3 {
        // 3: write, present (COW or a write-protected page); 2: write, not present.
        2 | 3 => {
            if flags & VM_WRITE == 0 {
                return (
                    bad_area(
                        k,
                        address,
                        error_code,
                        user,
                        SEGV_ACCERR,
                        "write to a VMA without VM_WRITE",
                        rec,
                    ),
                    Some(vma),
                );
            }
            true
        }
        // 1: read, present — a protection fault on a read cannot be fixed.
        1 => {
            return (
                bad_area(k, address, error_code, user, SEGV_ACCERR, "read fault on a present page", rec),
                Some(vma),
            );
        }
        // 0: read, not present.
        _ => {
            if flags & (VM_READ | VM_EXEC) == 0 {
                return (
                    bad_area(
                        k,
                        address,
                        error_code,
                        user,
                        SEGV_ACCERR,
                        "read of a VMA without VM_READ or VM_EXEC",
                        rec,
                    ),
                    Some(vma),
                );
            }
            false
        }
    };
    rec.step(|| Step::GoodArea { write });

    // 7. handle_mm_fault; the result is charged to current, for kernel-mode faults
    //    taken on its behalf too (linux24.md §3.8).
    let result = match handle_mm_fault(k, idx, address, write, rec) {
        VM_FAULT_MINOR => {
            k.task.min_flt += 1;
            FaultResult::Minor
        }
        VM_FAULT_MAJOR => {
            k.task.maj_flt += 1;
            FaultResult::Major
        }
        VM_FAULT_SIGBUS => do_sigbus(k, address, error_code, user, rec),
        _ => super::oom_kill::oom_after_reclaim(k, user, rec),
    };
    log::trace!(target: "kernel::fault", "#PF {address:#010x} code {error_code} eip {:#010x}: {result:?}", k.cpu.eip);
    (result, Some(vma))
}

/// `bad_area` (linux24.md §1.4): for a user fault, record the fault in `current->thread`
/// and force SIGSEGV; for a kernel fault, the exception-table fixup (no signal,
/// `thread.cr2` untouched).
fn bad_area<R: Recorder>(
    k: &mut Kernel,
    address: u32,
    error_code: u32,
    user: bool,
    si_code: i32,
    reason: &'static str,
    rec: &mut R,
) -> FaultResult {
    rec.step(|| Step::BadArea { reason, si_code });
    if !user {
        return no_context(rec);
    }
    log::debug!(target: "kernel::fault", "SIGSEGV at {address:#010x} (code {error_code}, si_code {si_code}): {reason}");
    k.task.thread.cr2 = address;
    // 2.4.35: "kernel addresses are always protection faults".
    k.task.thread.error_code = error_code | u32::from(address >= TASK_SIZE);
    k.task.thread.trap_no = vector::PF.into();
    force_sig_info(k, SigInfo::fault(SIGSEGV, si_code, address));
    FaultResult::SigSegv { si_code }
}

/// `no_context` with an exception-table entry: every kernel access to user memory
/// goes through `uaccess`, whose callers see the failed copy (EFAULT / short count).
fn no_context<R: Recorder>(rec: &mut R) -> FaultResult {
    rec.step(|| Step::NoContextFixup);
    FaultResult::Efault
}

/// `do_sigbus` (linux24.md §1.6): the page lies beyond end of file. SIGBUS BUS_ADRERR for
/// user and kernel faults alike (2.4); a kernel fault also takes the fixup, so the
/// syscall fails with EFAULT *and* the process gets SIGBUS. Nothing is charged.
fn do_sigbus<R: Recorder>(
    k: &mut Kernel,
    address: u32,
    error_code: u32,
    user: bool,
    rec: &mut R,
) -> FaultResult {
    rec.step(|| Step::SigBus);
    log::debug!(target: "kernel::fault", "SIGBUS at {address:#010x} (code {error_code})");
    k.task.thread.cr2 = address;
    k.task.thread.error_code = error_code;
    k.task.thread.trap_no = vector::PF.into();
    force_sig_info(k, SigInfo::fault(SIGBUS, BUS_ADRERR, address));
    if !user {
        no_context(rec);
    }
    FaultResult::SigBus { si_code: BUS_ADRERR }
}

/// `out_of_memory` (linux24.md §1.8), reached after the OOM killer (§1.8a) when the
/// faulting process is its victim or nothing could be chosen, and for every
/// kernel-mode fault: a user fault kills the process (`do_exit(SIGKILL)`), a kernel
/// fault takes the fixup. 2.4 lets pid 1 yield and retry forever instead;
/// the emulated program plays init's part (the first process) and nothing else could
/// free memory, so the retry would hang — it is killed like any other process.
pub(super) fn out_of_memory<R: Recorder>(k: &mut Kernel, user: bool, rec: &mut R) -> FaultResult {
    rec.step(|| Step::OutOfMemory);
    log::warn!(target: "kernel::fault", "VM: killing process {}", k.task.comm);
    if user {
        force_sig_info(k, SigInfo::kernel(SIGKILL));
    } else {
        no_context(rec);
    }
    FaultResult::Oom
}

/// `vmalloc_fault` (linux24.md §1.9): copy the master PDE from `swapper_pg_dir` into the
/// current directory. Every process copies the whole kernel half at `pgd_alloc` and
/// the emulated kernel never adds kernel mappings later, so in practice this finds
/// the address unmapped in the master too and ends in `no_context`.
fn vmalloc_fault<R: Recorder>(k: &mut Kernel, address: u32, rec: &mut R) -> FaultResult {
    let master_pde = k.cpu.mmu.phys().read_u32(pgtable::pgd_offset(k.frames.swapper_pg_dir, address));
    if master_pde & pgtable::_PAGE_PRESENT == 0 || k.task.mm.pgd == 0 {
        return no_context(rec);
    }
    if master_pde & pgtable::_PAGE_PSE == 0 {
        let pte = pgtable::get_pte(k.cpu.mmu.phys(), k.frames.swapper_pg_dir, address);
        if pte & pgtable::_PAGE_PRESENT == 0 {
            return no_context(rec);
        }
    }
    let pde_addr = pgtable::pgd_offset(k.task.mm.pgd, address);
    k.cpu.mmu.phys_mut().write_u32(pde_addr, master_pde);
    // Not a fault 2.4 counts; the access is simply retried.
    FaultResult::Minor
}

/// `expand_stack(vma, address)`, 2.4.35 (linux24.md §2.4): move `vm_start` of the
/// GROWSDOWN VMA `idx` down to the page holding `address`. Only the VMA changes —
/// no page tables, no pages, no rss; the new pages are demand-faulted afterwards.
///
/// Refused with -ENOMEM if the stack would become *larger* than RLIMIT_STACK
/// (a stack of exactly the limit is allowed), if `total_vm` would exceed RLIMIT_AS,
/// or, for a VM_LOCKED stack, RLIMIT_MEMLOCK. There is no guard gap: `find_vma`
/// chose this VMA, so the previous one ends at or below `address`.
pub fn expand_stack(k: &mut Kernel, idx: usize, address: u32) -> Result<(), Errno> {
    let address = address & PAGE_MASK;
    let task = &mut k.task;
    let mm = &mut task.mm;
    let vma = &mm.mmap[idx];
    if vma.start <= address {
        // Someone (another thread in 2.4) already grew it.
        return Ok(());
    }
    let grow = (vma.start - address) / PAGE_SIZE;
    let size = u64::from(vma.end - address);
    if size > task.rlim[RLIMIT_STACK].cur
        || (u64::from(mm.total_vm) + u64::from(grow)) * u64::from(PAGE_SIZE) > task.rlim[RLIMIT_AS].cur
    {
        return Err(ENOMEM);
    }
    if vma.flags & VM_LOCKED != 0
        && (u64::from(mm.locked_vm) + u64::from(grow)) * u64::from(PAGE_SIZE) > task.rlim[RLIMIT_MEMLOCK].cur
    {
        return Err(ENOMEM);
    }
    let locked = vma.flags & VM_LOCKED != 0;
    let vma = &mut mm.mmap[idx];
    vma.start = address;
    // For the anonymous stack this wraps below 0; maps shows it (`fffff000`).
    vma.pgoff = vma.pgoff.wrapping_sub(grow);
    mm.total_vm += grow;
    if locked {
        mm.locked_vm += grow;
    }
    task.stats.stack_expansions += 1;
    log::trace!(target: "kernel::mm", "expand_stack: vm_start {address:#010x} (+{grow} pages)");
    Ok(())
}
