//! The address-space syscalls: `mm/mmap.c` (mmap, munmap, brk, `get_unmapped_area`,
//! `do_brk`), `mm/mprotect.c`, `mm/mremap.c` and `mm/filemap.c`'s madvise
//! (linux24.md §2.5–§2.10).
//!
//! None of them allocates a page (unless a VMA is VM_LOCKED): they only change VMAs,
//! and for munmap / mprotect / mremap the PTEs of pages already faulted in.
//!
//! Syscall entry points have the dispatcher's signature
//! `fn(&mut Kernel, Args) -> SysResult`; the `do_*` functions are the kernel-internal
//! APIs (`do_mmap_pgoff`, `do_munmap`, `do_brk`) that exec uses too.

use std::rc::Rc;

use crate::abi::process::MmapArgStruct;
use crate::abi::{FromZeros, IntoBytes};
use crate::errno::{
    Errno, SysResult, EACCES, EAGAIN, EBADF, EEXIST, EFAULT, EINVAL, ENODEV, ENOMEM, EOVERFLOW, EPERM,
};
use libc::EOPNOTSUPP;
use crate::syscall::Args;
use crate::task::{RLIMIT_AS, RLIMIT_DATA, RLIM_INFINITY};
use crate::{page_align, Kernel, PAGE_SIZE, TASK_SIZE};

use super::fault::NoTrace;
use super::filemap::{host_fstat, FileBacking};
use super::memory::{self, handle_mm_fault, move_page_tables, zap_pte_range};
use super::pgtable::{self, protection_map, pte_modify, pte_present, _PAGE_RW, PAGE_MASK};
use super::vma::*;

#[allow(dead_code)] // kept so the table is whole
pub const PROT_NONE: u32 = 0x0;
pub const PROT_READ: u32 = 0x1;
pub const PROT_WRITE: u32 = 0x2;
pub const PROT_EXEC: u32 = 0x4;
pub const PROT_GROWSDOWN: u32 = 0x0100_0000;
pub const PROT_GROWSUP: u32 = 0x0200_0000;

pub const MAP_SHARED: u32 = 0x01;
pub const MAP_PRIVATE: u32 = 0x02;
/// MAP_SHARED that refuses flags it does not know (EOPNOTSUPP), today's kernel.
pub const MAP_SHARED_VALIDATE: u32 = 0x03;
/// What MAP_SHARED_VALIDATE accepts: today's `LEGACY_MAP_MASK` (MAP_SYNC needs a
/// DAX file, which a host file is not here).
const SHARED_VALIDATE_KNOWN: u32 = MAP_TYPE
    | MAP_FIXED
    | MAP_ANONYMOUS
    | MAP_DENYWRITE
    | MAP_EXECUTABLE
    | 0x400_0000 // MAP_UNINITIALIZED
    | MAP_GROWSDOWN
    | MAP_LOCKED
    | MAP_NORESERVE
    | 0x8000 // MAP_POPULATE
    | 0x1_0000 // MAP_NONBLOCK
    | 0x2_0000 // MAP_STACK
    | 0x4_0000; // MAP_HUGETLB
pub const MAP_TYPE: u32 = 0x0f;
pub const MAP_FIXED: u32 = 0x10;
pub const MAP_ANONYMOUS: u32 = 0x20;
pub const MAP_GROWSDOWN: u32 = 0x0100;
pub const MAP_DENYWRITE: u32 = 0x0800;
pub const MAP_EXECUTABLE: u32 = 0x1000;
pub const MAP_LOCKED: u32 = 0x2000;
pub const MAP_NORESERVE: u32 = 0x4000;
/// Today's "MAP_FIXED, but fail with EEXIST instead of replacing" (not in 2.4).
pub const MAP_FIXED_NOREPLACE: u32 = 0x10_0000;

pub const MREMAP_MAYMOVE: u32 = 1;
pub const MREMAP_FIXED: u32 = 2;
/// Today's (5.7): move the pages, keep the old range mapped and empty.
pub const MREMAP_DONTUNMAP: u32 = 4;

pub const MADV_DONTNEED: u32 = 4;

/// `TASK_UNMAPPED_BASE` = TASK_SIZE / 3: where `get_unmapped_area` starts looking.
pub const TASK_UNMAPPED_BASE: u32 = 0x4000_0000;

/// `calc_vm_flags` (linux24.md §2.2): PROT_* → VM_READ/WRITE/EXEC; MAP_GROWSDOWN,
/// MAP_DENYWRITE and MAP_EXECUTABLE → their VM_ flags. MAP_LOCKED is not translated
/// in 2.4.35.
pub fn calc_vm_flags(prot: u32, flags: u32) -> u32 {
    let mut vm = 0;
    for (p, v) in [(PROT_READ, VM_READ), (PROT_WRITE, VM_WRITE), (PROT_EXEC, VM_EXEC)] {
        if prot & p != 0 {
            vm |= v;
        }
    }
    for (m, v) in
        [(MAP_GROWSDOWN, VM_GROWSDOWN), (MAP_DENYWRITE, VM_DENYWRITE), (MAP_EXECUTABLE, VM_EXECUTABLE)]
    {
        if flags & m != 0 {
            vm |= v;
        }
    }
    vm
}

/// `vm_enough_memory(pages)` of 2.4 (`mm/mmap.c`), the overcommit check. Any
/// nonzero `sysctl_overcommit_memory` grants everything (2.4 tests it for truth:
/// today's strict mode 2 does not exist in 2.4.x). Otherwise the heuristic: the
/// request must be less than page-cache pages + free pages + free swap pages +
/// swap-cache pages (counted twice on purpose, 2.4 says, against swap
/// over-allocation) + unused dentries and inodes in pages. growsdown has no dentry
/// or inode caches of its own, so the sum is free frames, page-cache pages, free
/// swap slots and the swap cache (`swap::swap_free_pages`). Callers in 2.4: private writable `do_mmap_pgoff` without MAP_NORESERVE,
/// `do_brk` (and `sys_brk` before it), `do_mremap` growing a private writable
/// mapping, and `shmem_file_setup` (shmget, shared anonymous mmap; growsdown skips it
/// for today's SHM_NORESERVE and MAP_NORESERVE); not `dup_mmap` (fork) and not
/// `expand_stack`.
pub fn vm_enough_memory(k: &Kernel, pages: u32) -> bool {
    if k.oom.overcommit_memory != 0 {
        return true;
    }
    let free = u64::from(k.frames.nr_free()) + k.page_cache.len() as u64 + super::swap::swap_free_pages(k);
    free > u64::from(pages)
}

pub(crate) fn rlimit(k: &Kernel, r: usize) -> u64 {
    k.task.rlim[r].cur
}

/// `total_vm` plus `len` bytes would exceed RLIMIT_AS.
fn over_as_limit(k: &Kernel, len: u32) -> bool {
    u64::from(k.task.mm.total_vm) * u64::from(PAGE_SIZE) + u64::from(len) > rlimit(k, RLIMIT_AS)
}

// ---------------------------------------------------------------------------------
// get_unmapped_area, do_mmap_pgoff
// ---------------------------------------------------------------------------------

/// `get_unmapped_area` (linux24.md §2.5). MAP_FIXED: the address as given (ENOMEM out of
/// range, EINVAL unaligned). Otherwise the hint rounded up to a page if the range is
/// free, else the first fit bottom-up from TASK_UNMAPPED_BASE.
pub fn get_unmapped_area(k: &Kernel, addr: u32, len: u32, flags: u32) -> Result<u32, Errno> {
    let mm = &k.task.mm;
    if flags & MAP_FIXED != 0 {
        if len > TASK_SIZE || addr > TASK_SIZE - len || addr >= TASK_SIZE {
            return Err(ENOMEM);
        }
        if addr & !PAGE_MASK != 0 {
            return Err(EINVAL);
        }
        return Ok(addr);
    }
    // arch_get_unmapped_area, the generic one i386 uses.
    if len > TASK_SIZE {
        return Err(ENOMEM);
    }
    // Not in 2.4: difftest's hook (`Machine::place_next_mmap`), the reference's choice.
    if let Some(next) = k.mmap_next {
        if next & !PAGE_MASK == 0
            && TASK_SIZE - len >= next
            && mm.find_vma(next).is_none_or(|v| next + len <= v.start)
        {
            return Ok(next);
        }
    }
    if addr != 0 {
        let addr = page_align(addr);
        if addr != 0 && TASK_SIZE - len >= addr && mm.find_vma(addr).is_none_or(|v| addr + len <= v.start) {
            return Ok(addr);
        }
    }
    let mut addr = k.config.personality.mmap_base;
    let mut i = mm.find_vma_index(addr).unwrap_or(mm.mmap.len());
    loop {
        if TASK_SIZE - len < addr {
            return Err(ENOMEM);
        }
        match mm.mmap.get(i) {
            Some(v) if addr + len > v.start => {
                addr = addr.max(v.end);
                i += 1;
            }
            _ => return Ok(addr),
        }
    }
}

/// What an mmap maps: a host file, or nothing (anonymous).
pub type MapFile = Option<Rc<FileBacking>>;

/// `do_mmap_pgoff(file, addr, len, prot, flags, pgoff)` (linux24.md §2.6), steps in
/// 2.4.35's order. Returns the address mapped.
///
/// A MAP_SHARED file mapping uses the file's shared pages (`filemap::SharedFile`),
/// written back to the host file; one made from a descriptor opened read-only also
/// loses VM_MAYWRITE, so mprotect cannot make it writable later (EACCES).
/// MAP_SHARED_VALIDATE refuses unknown flags with EOPNOTSUPP (today's kernel).
pub fn do_mmap_pgoff(
    k: &mut Kernel,
    file: MapFile,
    addr: u32,
    len: u32,
    prot: u32,
    flags: u32,
    pgoff: u32,
) -> Result<u32, Errno> {
    // 2. A zero length "succeeds" and maps nothing: 2.4, and what exec's `elf_map`
    // relies on for a segment without file bytes. The system calls refuse it first
    // (`do_mmap2`).
    if len == 0 {
        return Ok(addr);
    }
    // 3–4. Page-align; reject overflow of the length and of the file offset. The
    // errno values are today's `do_mmap` (ENOMEM for a length that wraps or
    // exceeds the address space, EOVERFLOW for the offset); 2.4 said EINVAL.
    let len = page_align(len);
    if len == 0 || len > TASK_SIZE {
        return Err(ENOMEM);
    }
    if pgoff.checked_add(len >> 12).is_none() {
        return Err(EOVERFLOW);
    }
    // 5.
    if k.task.mm.map_count() > MAX_MAP_COUNT {
        return Err(ENOMEM);
    }
    let mut flags = flags;
    if flags & MAP_FIXED_NOREPLACE != 0 {
        flags |= MAP_FIXED;
    }
    // 6. An unaligned result would be an error code in 2.4; here errors are values.
    let addr = get_unmapped_area(k, addr, len, flags)?;
    if flags & MAP_FIXED_NOREPLACE != 0 && k.task.mm.overlaps(addr, addr + len) {
        return Err(EEXIST);
    }

    // 7. vm_flags.
    let mut vm_flags =
        calc_vm_flags(prot, flags) | k.task.mm.def_flags | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;

    // 8. mlock limit. MAP_LOCKED is today's (2.4.35 ignored it): EPERM when the
    // caller may not lock at all, EAGAIN over RLIMIT_MEMLOCK (`mlock_future_ok`).
    if flags & MAP_LOCKED != 0 {
        if !super::mlock::can_do_mlock(k) {
            return Err(EPERM);
        }
        vm_flags |= VM_LOCKED;
    }
    if !super::mlock::mlock_future_ok(k, vm_flags, len) {
        return Err(EAGAIN);
    }

    // 9–10. Sharing.
    match &file {
        Some(f) => {
            match flags & MAP_TYPE {
                MAP_SHARED | MAP_SHARED_VALIDATE => {
                    if flags & MAP_TYPE == MAP_SHARED_VALIDATE && flags & !SHARED_VALIDATE_KNOWN != 0 {
                        return Err(EOPNOTSUPP);
                    }
                    if prot & PROT_WRITE != 0 && !f.writable {
                        return Err(EACCES);
                    }
                    vm_flags |= VM_SHARED | VM_MAYSHARE;
                    // A descriptor opened read-only: never writable, not even later
                    // through mprotect (2.4's `if (!(file->f_mode & FMODE_WRITE))
                    // vm_flags &= ~(VM_MAYWRITE | VM_SHARED)`).
                    if !f.writable {
                        vm_flags &= !(VM_MAYWRITE | VM_SHARED);
                    }
                }
                MAP_PRIVATE => {}
                _ => return Err(EINVAL),
            }
            if !f.readable {
                return Err(EACCES);
            }
        }
        None => match flags & MAP_TYPE {
            MAP_SHARED_VALIDATE if flags & !SHARED_VALIDATE_KNOWN != 0 => return Err(EOPNOTSUPP),
            MAP_SHARED | MAP_SHARED_VALIDATE => vm_flags |= VM_SHARED | VM_MAYSHARE,
            MAP_PRIVATE => vm_flags &= !(VM_SHARED | VM_MAYSHARE),
            _ => return Err(EINVAL),
        },
    }

    // 11. Clear old maps: MAP_FIXED silently replaces what was there.
    while k.task.mm.overlaps(addr, addr + len) {
        if do_munmap(k, addr, len).is_err() {
            return Err(ENOMEM);
        }
    }

    // 12. RLIMIT_AS.
    if over_as_limit(k, len) {
        return Err(ENOMEM);
    }

    // 13. Private writable mappings must fit in memory (no MAP_NORESERVE).
    if vm_flags & (VM_SHARED | VM_WRITE) == VM_WRITE
        && flags & MAP_NORESERVE == 0
        && !vm_enough_memory(k, len >> 12)
    {
        return Err(ENOMEM);
    }

    let end = addr + len;
    let merged = file.is_none()
        && vm_flags & VM_SHARED == 0
        && flags & MAP_TYPE == MAP_PRIVATE
        && !k.task.mm.mmap.is_empty()
        && {
            // 14. Anonymous private mappings try vma_merge.
            let prev = k.task.mm.prev_index(addr);
            k.task.mm.vma_merge(prev, addr, end, vm_flags)
        };
    if !merged {
        // 15–16. A new VMA with its backing object.
        let backing = match file {
            Some(f) => {
                if vm_flags & (VM_GROWSDOWN | VM_GROWSUP) != 0 {
                    return Err(EINVAL);
                }
                if vm_flags & VM_MAYSHARE != 0 {
                    let map = super::filemap::shared_file(k, f.clone());
                    Backing::SharedFile { file: f, map }
                } else {
                    Backing::File { file: f }
                }
            }
            None if vm_flags & VM_SHARED != 0 => {
                // shmem_zero_setup → shmem_file_setup's vm_enough_memory (2.4 checks
                // it always; today's MAP_NORESERVE skips it, as for private ones).
                if flags & MAP_NORESERVE == 0 && !vm_enough_memory(k, len >> 12) {
                    return Err(ENOMEM);
                }
                Backing::Shmem { obj: Rc::default() }
            }
            None => Backing::Anon,
        };
        let pgoff = if matches!(backing, Backing::File { .. } | Backing::SharedFile { .. }) { pgoff } else { 0 };
        k.task.mm.insert_vm_struct(Vma::new(addr, end, vm_flags, pgoff, backing))?;
    }

    // 17. Accounting; a locked mapping is faulted in at once, unless it was locked
    // on fault (`mlockall(MCL_FUTURE | MCL_ONFAULT)`, today's `mm_populate` check).
    k.task.mm.total_vm += len >> 12;
    if vm_flags & VM_LOCKED != 0 {
        k.task.mm.locked_vm += len >> 12;
        if vm_flags & VM_LOCKONFAULT == 0 {
            make_pages_present(k, addr, end);
        }
    }
    let how = if merged { " (merged)" } else { "" };
    log::debug!(target: "kernel::mm", "mmap {addr:#010x}-{end:#010x} flags {vm_flags:#x}{how}");
    Ok(addr)
}

/// `make_pages_present`: fault in every page of `[start, end)` through
/// `handle_mm_fault`, charging the faults like `get_user_pages` does.
pub fn make_pages_present(k: &mut Kernel, start: u32, end: u32) {
    crate::trace::ThreadFaults::charged(k, |k| fault_in(k, start, end));
}

fn fault_in(k: &mut Kernel, start: u32, end: u32) {
    let mut addr = start & PAGE_MASK;
    while addr < end {
        let Some(i) = k.task.mm.find_vma_index(addr).filter(|&i| k.task.mm.mmap[i].start <= addr) else {
            return;
        };
        let write = k.task.mm.mmap[i].flags & VM_WRITE != 0;
        match handle_mm_fault(k, i, addr, write, &mut NoTrace) {
            memory::VM_FAULT_MINOR => k.task.min_flt += 1,
            memory::VM_FAULT_MAJOR => k.task.maj_flt += 1,
            _ => return,
        }
        addr = match addr.checked_add(PAGE_SIZE) {
            Some(a) => a,
            None => return,
        };
    }
}

// ---------------------------------------------------------------------------------
// munmap
// ---------------------------------------------------------------------------------

/// `do_munmap(mm, addr, len)` (linux24.md §2.7). Unmapping nothing succeeds. Every VMA
/// touching the range is unlinked, its pages in the range zapped, and what is left
/// of it re-inserted (`unmap_fixup`: whole / tail / head / middle split). Then the
/// page tables left empty in the hole are freed, with a full TLB flush.
pub fn do_munmap(k: &mut Kernel, addr: u32, len: u32) -> Result<(), Errno> {
    if addr & !PAGE_MASK != 0 || addr >= TASK_SIZE || len > TASK_SIZE - addr {
        return Err(EINVAL);
    }
    let len = page_align(len);
    if len == 0 {
        return Err(EINVAL);
    }
    let end = addr + len;
    let mm = &mut k.task.mm;
    let (Some(first), _) = mm.find_vma_prev(addr) else {
        return Ok(());
    };
    if mm.mmap[first].start >= end {
        return Ok(());
    }
    // Punching a hole in one VMA needs one more VMA.
    let f = &mm.mmap[first];
    if f.start < addr && end < f.end && mm.map_count() >= MAX_MAP_COUNT {
        return Err(ENOMEM);
    }
    let last = first + mm.mmap[first..].partition_point(|v| v.start < end);
    let unlinked: Vec<Vma> = mm.mmap.drain(first..last).collect();
    mm.invalidate_mmap_cache();

    for mut v in unlinked {
        let st = addr.max(v.start);
        let en = end.min(v.end);
        zap_pte_range(k, st, en);
        let pages = (en - st) >> 12;
        let mm = &mut k.task.mm;
        mm.total_vm = mm.total_vm.saturating_sub(pages);
        if v.flags & VM_LOCKED != 0 {
            mm.locked_vm = mm.locked_vm.saturating_sub(pages);
        }
        // unmap_fixup.
        match (st == v.start, en == v.end) {
            // The whole VMA goes (and with it its file or shmem reference).
            (true, true) => memory::release_vma(k, v),
            // Tail.
            (false, true) => {
                v.end = st;
                mm.insert_vm_struct(v)?;
            }
            // Head.
            (true, false) => {
                v.pgoff = v.pgoff.wrapping_add((en - v.start) >> 12);
                v.start = en;
                mm.insert_vm_struct(v)?;
            }
            // Middle: the spare VMA becomes the upper part.
            (false, false) => {
                let mut upper = v.clone();
                upper.pgoff = v.pgoff.wrapping_add((en - v.start) >> 12);
                upper.start = en;
                v.end = st;
                mm.insert_vm_struct(v)?;
                mm.insert_vm_struct(upper)?;
            }
        }
    }
    // tlb_finish_mmu → flush_tlb_range (a full flush on i386), then free_pgtables.
    pgtable::flush_tlb_mm(k);
    pgtable::free_pgtables(k, addr, end);
    log::debug!(target: "kernel::mm", "munmap {addr:#010x}-{end:#010x}");
    Ok(())
}

/// munmap (91).
pub fn sys_munmap(k: &mut Kernel, a: Args) -> SysResult {
    do_munmap(k, a[0], a[1]).map(|()| 0)
}

// ---------------------------------------------------------------------------------
// mmap front ends
// ---------------------------------------------------------------------------------

/// The common part of `sys_mmap2` and `old_mmap`: strip the loader-only flags, look
/// up the fd unless MAP_ANONYMOUS (EBADF), and check the file can be mapped.
///
/// A zero length is EINVAL, as today's `do_mmap` says (2.4 returned the address and
/// mapped nothing).
fn do_mmap2(k: &mut Kernel, addr: u32, len: u32, prot: u32, flags: u32, fd: u32, pgoff: u32) -> SysResult {
    if len == 0 {
        return Err(EINVAL);
    }
    let mut flags = flags & !(MAP_EXECUTABLE | MAP_DENYWRITE);
    let mut file = None;
    if flags & MAP_ANONYMOUS == 0 {
        let host = k.task.files.get(fd).ok_or(EBADF)?.host_fd;
        let st = host_fstat(host)?;
        match st.mode & libc::S_IFMT {
            libc::S_IFREG => file = Some(FileBacking::from_host_fd(host)?),
            // /dev/zero (char 1:5): `mmap_zero` makes a private mapping anonymous
            // and a shared one shmem.
            libc::S_IFCHR if st.rdev == libc::makedev(1, 5) => flags |= MAP_ANONYMOUS,
            // No `f_op->mmap`.
            _ => return Err(ENODEV),
        }
    }
    do_mmap_pgoff(k, file, addr, len, prot, flags, pgoff)
}

/// mmap2 (192): `addr, len, prot, flags, fd, pgoff` with the offset in pages.
pub fn sys_mmap2(k: &mut Kernel, a: Args) -> SysResult {
    do_mmap2(k, a[0], a[1], a[2], a[3], a[4], a[5])
}

/// old_mmap (90): EBX points at six words `addr, len, prot, flags, fd, offset`; the
/// byte offset must be page-aligned.
pub fn sys_old_mmap(k: &mut Kernel, a: Args) -> SysResult {
    let mut m = MmapArgStruct::new_zeroed();
    k.copy_from_user(a[0], m.as_mut_bytes()).map_err(|_| EFAULT)?;
    if m.offset & !PAGE_MASK != 0 {
        return Err(EINVAL);
    }
    do_mmap2(k, m.addr, m.len, m.prot, m.flags, m.fd, m.offset >> 12)
}

// ---------------------------------------------------------------------------------
// brk
// ---------------------------------------------------------------------------------

/// `do_brk(addr, len)` (linux24.md §2.8): an anonymous rwx private mapping (0x77) at a
/// fixed address, merged with the VMA below when possible. Used by brk and by the
/// ELF loader for bss.
pub fn do_brk(k: &mut Kernel, addr: u32, len: u32) -> Result<u32, Errno> {
    let len = page_align(len);
    if len == 0 {
        return Ok(addr);
    }
    let end = match addr.checked_add(len) {
        Some(e) if e <= TASK_SIZE => e,
        _ => return Err(EINVAL),
    };
    let def_flags = k.task.mm.def_flags;
    if !super::mlock::mlock_future_ok(k, def_flags, len) {
        return Err(EAGAIN);
    }
    while k.task.mm.overlaps(addr, end) {
        if do_munmap(k, addr, len).is_err() {
            return Err(ENOMEM);
        }
    }
    if over_as_limit(k, len) || k.task.mm.map_count() > MAX_MAP_COUNT || !vm_enough_memory(k, len >> 12) {
        return Err(ENOMEM);
    }
    let flags = VM_DATA_DEFAULT_FLAGS | def_flags;
    let mm = &mut k.task.mm;
    let merged = !mm.mmap.is_empty() && {
        let prev = mm.prev_index(addr);
        mm.vma_merge(prev, addr, end, flags)
    };
    if !merged {
        mm.insert_vm_struct(Vma::new(addr, end, flags, 0, Backing::Anon))?;
    }
    mm.total_vm += len >> 12;
    if flags & VM_LOCKED != 0 {
        mm.locked_vm += len >> 12;
        if flags & VM_LOCKONFAULT == 0 {
            make_pages_present(k, addr, end);
        }
    }
    Ok(addr)
}

/// brk (45), linux24.md §2.8. Always returns the break after the call: the new one on
/// success, the old one on any failure (never -ENOMEM; libc compares).
pub fn sys_brk(k: &mut Kernel, a: Args) -> SysResult {
    let brk = a[0];
    let mm = &mut k.task.mm;
    // brk(0) and anything below the code end is a query.
    if brk < mm.end_code {
        return Ok(mm.brk);
    }
    let newbrk = page_align(brk);
    let oldbrk = page_align(mm.brk);
    if oldbrk == newbrk {
        mm.brk = brk;
        return Ok(brk);
    }
    // Shrinking: only end_code bounds it, so going below start_brk unmaps bss/data
    // pages too (a 2.4 quirk).
    if brk <= mm.brk {
        if do_munmap(k, newbrk, oldbrk.wrapping_sub(newbrk)).is_ok() {
            k.task.mm.brk = brk;
        }
        return Ok(k.task.mm.brk);
    }
    // Growing. RLIMIT_DATA counts from start_data, not start_brk.
    let rlim = k.task.rlim[RLIMIT_DATA].cur;
    if rlim < RLIM_INFINITY && u64::from(brk.wrapping_sub(mm.start_data)) > rlim {
        return Ok(mm.brk);
    }
    // At least one free page must stay between the new break and the next mapping.
    if mm.overlaps(oldbrk, newbrk.wrapping_add(PAGE_SIZE)) {
        return Ok(mm.brk);
    }
    let grow = newbrk.wrapping_sub(oldbrk);
    if !vm_enough_memory(k, grow >> 12) {
        return Ok(k.task.mm.brk);
    }
    if do_brk(k, oldbrk, grow) != Ok(oldbrk) {
        return Ok(k.task.mm.brk);
    }
    k.task.mm.brk = brk;
    Ok(brk)
}

// ---------------------------------------------------------------------------------
// mprotect
// ---------------------------------------------------------------------------------

/// `change_protection`: rewrite every present PTE of `[start, end)` with `newprot`,
/// keeping frame, Accessed and Dirty (`pte_modify`), then `flush_tlb_range` (a full
/// flush). The reserved ZERO_PAGE is never made writable: a shared anonymous VMA maps
/// it read-only on a read fault (2.4 would use a shmem page there instead).
fn change_protection(k: &mut Kernel, start: u32, end: u32, newprot: u32) {
    let pgd = k.task.mm.pgd;
    let mut addr = start;
    while addr < end {
        if let Some(pte_addr) = pgtable::pte_offset(k.cpu.mmu.phys(), pgd, addr) {
            let pte = k.cpu.mmu.phys().read_u32(pte_addr);
            if pte_present(pte) {
                let mut new = pte_modify(pte, newprot);
                if k.frames.is_reserved(pgtable::pte_frame(pte)) {
                    new &= !_PAGE_RW;
                }
                k.cpu.mmu.phys_mut().write_u32(pte_addr, new);
            }
        }
        addr += PAGE_SIZE;
    }
    pgtable::flush_tlb_mm(k);
}

/// Splits VMA `i` so that `[start, end)` (inside it) is a VMA of its own; returns
/// its index.
fn split_vma(k: &mut Kernel, mut i: usize, start: u32, end: u32) -> Result<usize, Errno> {
    let mm = &mut k.task.mm;
    let v = mm.mmap[i].clone();
    if v.start < start {
        let mut upper = v.clone();
        upper.pgoff = v.pgoff.wrapping_add((start - v.start) >> 12);
        upper.start = start;
        mm.mmap[i].end = start;
        mm.mmap.insert(i + 1, upper);
        i += 1;
    }
    let v = mm.mmap[i].clone();
    if end < v.end {
        let mut upper = v.clone();
        upper.pgoff = v.pgoff.wrapping_add((end - v.start) >> 12);
        upper.start = end;
        mm.mmap[i].end = end;
        mm.mmap.insert(i + 1, upper);
    }
    mm.invalidate_mmap_cache();
    Ok(i)
}

/// Merges VMA `i + 1` into VMA `i` if they touch and are anonymous private with the
/// same flags (2.4.35's mprotect merges, linux24.md §2.10).
pub(crate) fn mprotect_merge(k: &mut Kernel, i: usize) -> bool {
    let mm = &mut k.task.mm;
    let (Some(a), Some(b)) = (mm.mmap.get(i), mm.mmap.get(i + 1)) else {
        return false;
    };
    if a.end == b.start && can_vma_merge(a, b.flags) && a.flags & VM_SHARED == 0 {
        mm.mmap[i].end = b.end;
        mm.mmap.remove(i + 1);
        mm.invalidate_mmap_cache();
        return true;
    }
    false
}

/// `vma_modify_flags` (today's name; 2.4 has one `*_fixup` per caller:
/// `mprotect_fixup`, `mlock_fixup`, `madvise_fixup_*`): give `[start, end)` of VMA
/// `i` the flags `newflags`, splitting as needed, rewriting its present PTEs when
/// the protection changes, and merging it into the VMA below when possible.
/// Returns the index of the VMA now covering `end - 1`.
pub(crate) fn vma_modify_flags(
    k: &mut Kernel,
    i: usize,
    start: u32,
    end: u32,
    newflags: u32,
) -> Result<usize, Errno> {
    let oldflags = k.task.mm.mmap[i].flags;
    if oldflags == newflags {
        return Ok(i);
    }
    // Punching a hole in one VMA needs one or two more (today's `split_vma` checks
    // `map_count` the same way).
    if k.task.mm.map_count() >= MAX_MAP_COUNT {
        let v = &k.task.mm.mmap[i];
        if v.start < start || end < v.end {
            return Err(ENOMEM);
        }
    }
    let newprot = protection_map(newflags);
    let mut i = split_vma(k, i, start, end)?;
    let v = &mut k.task.mm.mmap[i];
    v.flags = newflags;
    v.page_prot = newprot;
    // mprotect rewrites the PTEs whenever the access bits change — also between
    // two flag sets with the same `protection_map` entry, since a written private
    // page's PTE has RW that PAGE_COPY lacks. Flags-only changes (mlock, madvise)
    // leave the PTEs alone, as 2.4's `mlock_fixup` does.
    if (oldflags ^ newflags) & (VM_READ | VM_WRITE | VM_EXEC | VM_SHARED) != 0 {
        change_protection(k, start, end, newprot);
    }
    if i > 0 && mprotect_merge(k, i - 1) {
        i -= 1;
    }
    Ok(i)
}

/// `mprotect_fixup`: [`vma_modify_flags`] with new protection bits.
fn mprotect_fixup(k: &mut Kernel, i: usize, start: u32, end: u32, newflags: u32) -> Result<usize, Errno> {
    vma_modify_flags(k, i, start, end, newflags)
}

/// mprotect (125), linux24.md §2.10. The range must be covered by VMAs without holes
/// (ENOMEM), every requested right needs its VM_MAY* bit (EACCES). Private mappings
/// always get the read-only PAGE_COPY, so `mprotect(RW)` on private memory leaves
/// its PTEs write-protected and the next write is a `do_wp_page` reuse.
///
/// Today's PROT_GROWSDOWN (extend the change down to the start of a GROWSDOWN VMA)
/// is accepted; 2.4 knew no such flag.
pub fn sys_mprotect(k: &mut Kernel, a: Args) -> SysResult {
    let (mut start, len, prot) = (a[0], a[1], a[2]);
    if start & !PAGE_MASK != 0 {
        return Err(EINVAL);
    }
    let grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
    let prot = prot & !grows;
    if grows == PROT_GROWSUP | PROT_GROWSDOWN || prot & !(PROT_READ | PROT_WRITE | PROT_EXEC) != 0 {
        return Err(EINVAL);
    }
    let len = page_align(len);
    let end = start.wrapping_add(len);
    if end < start {
        return Err(ENOMEM);
    }
    if end == start {
        return Ok(0);
    }
    let Some(mut i) = k.task.mm.find_vma_index(start) else {
        return Err(ENOMEM);
    };
    if grows & PROT_GROWSDOWN != 0 {
        if k.task.mm.mmap[i].flags & VM_GROWSDOWN == 0 {
            return Err(EINVAL);
        }
        start = start.min(k.task.mm.mmap[i].start);
    } else if grows & PROT_GROWSUP != 0 {
        return Err(EINVAL);
    }
    if k.task.mm.mmap[i].start > start {
        return Err(ENOMEM);
    }
    let newvm = calc_vm_flags(prot, 0);
    let mut nstart = start;
    loop {
        let v = &k.task.mm.mmap[i];
        let newflags = newvm | (v.flags & !(VM_READ | VM_WRITE | VM_EXEC));
        // Each of READ/WRITE/EXEC/SHARED needs MAYREAD/MAYWRITE/MAYEXEC/MAYSHARE.
        if newflags & !(newflags >> 4) & 0xf != 0 {
            return Err(EACCES);
        }
        let tmp = v.end.min(end);
        i = mprotect_fixup(k, i, nstart, tmp, newflags)?;
        if tmp >= end {
            break;
        }
        nstart = tmp;
        i += 1;
        if k.task.mm.mmap.get(i).is_none_or(|v| v.start != nstart) {
            return Err(ENOMEM);
        }
    }
    // The final merge of the last VMA with the one above it.
    mprotect_merge(k, i);
    Ok(0)
}

// ---------------------------------------------------------------------------------
// mremap
// ---------------------------------------------------------------------------------

/// `move_vma`: a new VMA at `new_addr` with the properties of VMA `i`, the PTEs of
/// `[old_addr, old_addr+old_len)` moved over (pages move, nothing is copied), then
/// the old range unmapped — or, with MREMAP_DONTUNMAP (today's), left mapped but
/// empty and unlocked, its locked pages counted for the new range instead.
fn move_vma(
    k: &mut Kernel,
    i: usize,
    old_addr: u32,
    old_len: u32,
    new_addr: u32,
    new_len: u32,
    dontunmap: bool,
) -> SysResult {
    let v = k.task.mm.mmap[i].clone();
    let pgoff = v.pgoff.wrapping_add((old_addr - v.start) >> 12);
    if move_page_tables(k, new_addr, old_addr, old_len).is_none() {
        // Out of memory for a page table: put back what was moved.
        let _ = move_page_tables(k, old_addr, new_addr, old_len);
        pgtable::flush_tlb_mm(k);
        return Err(ENOMEM);
    }
    let end = new_addr + new_len;
    let mm = &mut k.task.mm;
    let merged = matches!(v.backing, Backing::Anon) && {
        let prev = mm.prev_index(new_addr);
        mm.vma_merge(prev, new_addr, end, v.flags)
    };
    if !merged {
        let mut nv = Vma::new(new_addr, end, v.flags, pgoff, v.backing.clone());
        nv.page_prot = v.page_prot;
        mm.insert_vm_struct(nv)?;
    }
    mm.total_vm += new_len >> 12;
    if v.flags & VM_LOCKED != 0 {
        mm.locked_vm += new_len >> 12;
    }
    if dontunmap {
        pgtable::flush_tlb_mm(k);
        if v.flags & VM_LOCKED_MASK != 0 {
            // The old VMA loses VM_LOCKED; its pages were counted for the new one.
            let j = k.task.mm.find_vma_index(old_addr).ok_or(EFAULT)?;
            let flags = k.task.mm.mmap[j].flags & !VM_LOCKED_MASK;
            let j = vma_modify_flags(k, j, old_addr, old_addr + old_len, flags)?;
            mprotect_merge(k, j);
            let mm = &mut k.task.mm;
            mm.locked_vm = mm.locked_vm.saturating_sub(old_len >> 12);
        }
        return Ok(new_addr);
    }
    do_munmap(k, old_addr, old_len)?;
    pgtable::flush_tlb_mm(k);
    Ok(new_addr)
}

/// Today's `vma_to_resize`: the VMA holding `[addr, addr + old_len)` (EFAULT if none
/// or the range crosses its end), checked for growing to `new_len` (EAGAIN over
/// RLIMIT_MEMLOCK for a locked VMA, ENOMEM over RLIMIT_AS). `old_len` 0 (duplicate a
/// shared mapping) is EINVAL for a private one.
fn vma_to_resize(k: &Kernel, addr: u32, old_len: u32, new_len: u32) -> Result<usize, Errno> {
    let mm = &k.task.mm;
    let i = mm.find_vma_index(addr).filter(|&i| mm.mmap[i].start <= addr).ok_or(EFAULT)?;
    let v = &mm.mmap[i];
    if old_len == 0 && v.flags & (VM_SHARED | VM_MAYSHARE) == 0 {
        return Err(EINVAL);
    }
    if old_len > v.end - addr {
        return Err(EFAULT);
    }
    if new_len > old_len {
        if !super::mlock::mlock_future_ok(k, v.flags, new_len - old_len) {
            return Err(EAGAIN);
        }
        if over_as_limit(k, new_len - old_len) {
            return Err(ENOMEM);
        }
        // 2.4's do_mremap: "Private writable mapping? Check memory availability".
        if v.flags & (VM_SHARED | VM_WRITE) == VM_WRITE && !vm_enough_memory(k, (new_len - old_len) >> 12) {
            return Err(ENOMEM);
        }
    }
    Ok(i)
}

/// mremap (163) with today's semantics and errno (2.4's `do_mremap` had no
/// MREMAP_DONTUNMAP and no duplicate-with-old_len-0): shrink in place; grow in place
/// when the range ends its VMA and the space above is free; otherwise move if
/// MREMAP_MAYMOVE (to a fresh area, or to `new_addr` with MREMAP_FIXED, which
/// replaces what was there), moving the page-table entries rather than copying
/// pages. MREMAP_DONTUNMAP moves without resizing and leaves the old range mapped
/// and empty.
pub fn sys_mremap(k: &mut Kernel, a: Args) -> SysResult {
    let (addr, old_len, new_len, flags, new_addr) = (a[0], a[1], a[2], a[3], a[4]);
    if flags & !(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP) != 0 {
        return Err(EINVAL);
    }
    if flags & MREMAP_FIXED != 0 && flags & MREMAP_MAYMOVE == 0 {
        return Err(EINVAL);
    }
    // DONTUNMAP is always a move and never a resize.
    if flags & MREMAP_DONTUNMAP != 0 && (flags & MREMAP_MAYMOVE == 0 || old_len != new_len) {
        return Err(EINVAL);
    }
    if addr & !PAGE_MASK != 0 {
        return Err(EINVAL);
    }
    let mut old_len = page_align(old_len);
    let new_len = page_align(new_len);
    if new_len == 0 {
        return Err(EINVAL);
    }
    // access_ok of the old range (a wrapped page_align lands here too).
    if old_len > TASK_SIZE || addr > TASK_SIZE - old_len {
        return Err(EFAULT);
    }
    let dontunmap = flags & MREMAP_DONTUNMAP != 0;

    if flags & (MREMAP_FIXED | MREMAP_DONTUNMAP) != 0 {
        // mremap_to. Today's `check_mremap_params` checks `new_addr` whenever the
        // call implies one (`vrm_implies_new_addr`: FIXED or DONTUNMAP), even where
        // it is only a hint.
        {
            if new_addr & !PAGE_MASK != 0 {
                return Err(EINVAL);
            }
            if new_len > TASK_SIZE || new_addr > TASK_SIZE - new_len {
                return Err(EINVAL);
            }
            if new_addr < addr + old_len && addr < new_addr + new_len {
                return Err(EINVAL);
            }
        }
        if k.task.mm.map_count() + 2 >= MAX_MAP_COUNT - 3 {
            return Err(ENOMEM);
        }
        if flags & MREMAP_FIXED != 0 {
            do_munmap(k, new_addr, new_len)?;
        }
        if old_len > new_len {
            do_munmap(k, addr + new_len, old_len - new_len)?;
            old_len = new_len;
        }
        let i = vma_to_resize(k, addr, old_len, new_len)?;
        if old_len == 0 {
            return dup_shared(k, i, addr, new_addr, new_len, flags);
        }
        // DONTUNMAP keeps the old range, so the address space grows by old_len.
        if dontunmap && over_as_limit(k, old_len) {
            return Err(ENOMEM);
        }
        let v = &k.task.mm.mmap[i];
        let mut map_flags = if v.flags & VM_MAYSHARE != 0 { MAP_SHARED } else { 0 };
        if flags & MREMAP_FIXED != 0 {
            map_flags |= MAP_FIXED;
        }
        let dest = get_unmapped_area(k, new_addr, new_len, map_flags)?;
        return move_vma(k, i, addr, old_len, dest, new_len, dontunmap);
    }

    if old_len >= new_len {
        // Shrinking always works: it just unmaps the tail.
        if old_len > new_len {
            do_munmap(k, addr + new_len, old_len - new_len)?;
        }
        return Ok(addr);
    }

    let i = vma_to_resize(k, addr, old_len, new_len)?;
    if old_len == 0 {
        return dup_shared(k, i, addr, new_addr, new_len, flags);
    }
    let v = &k.task.mm.mmap[i];

    // Grow in place: the old range ends the VMA and the pages above are free.
    if v.end == addr + old_len {
        let limit = k.task.mm.mmap.get(i + 1).map_or(TASK_SIZE, |n| n.start);
        if u64::from(addr) + u64::from(new_len) <= u64::from(limit) {
            let grow = (new_len - old_len) >> 12;
            let mm = &mut k.task.mm;
            mm.mmap[i].end = addr + new_len;
            mm.total_vm += grow;
            if mm.mmap[i].flags & VM_LOCKED != 0 {
                mm.locked_vm += grow;
                if mm.mmap[i].flags & VM_LOCKONFAULT == 0 {
                    make_pages_present(k, addr + old_len, addr + new_len);
                }
            }
            return Ok(addr);
        }
    }
    if flags & MREMAP_MAYMOVE == 0 {
        return Err(ENOMEM);
    }
    let shared = if v.flags & VM_MAYSHARE != 0 { MAP_SHARED } else { 0 };
    let dest = get_unmapped_area(k, 0, new_len, shared)?;
    move_vma(k, i, addr, old_len, dest, new_len, false)
}

/// mremap with `old_len` 0 of a shared mapping (today's "duplicate the mapping",
/// once for DOS emulators' shm): a second VMA of the same object at a new place; the
/// old one stays. Needs MREMAP_MAYMOVE, since nothing can grow in place.
fn dup_shared(k: &mut Kernel, i: usize, addr: u32, new_addr: u32, new_len: u32, flags: u32) -> SysResult {
    if flags & MREMAP_MAYMOVE == 0 {
        return Err(ENOMEM);
    }
    let v = k.task.mm.mmap[i].clone();
    let map_flags = MAP_SHARED | if flags & MREMAP_FIXED != 0 { MAP_FIXED } else { 0 };
    let dest = get_unmapped_area(k, new_addr, new_len, map_flags)?;
    if over_as_limit(k, new_len) {
        return Err(ENOMEM);
    }
    let pgoff = v.pgoff.wrapping_add((addr - v.start) >> 12);
    let mut nv = Vma::new(dest, dest + new_len, v.flags, pgoff, v.backing.clone());
    nv.page_prot = v.page_prot;
    let mm = &mut k.task.mm;
    mm.insert_vm_struct(nv)?;
    mm.total_vm += new_len >> 12;
    if v.flags & VM_LOCKED != 0 {
        mm.locked_vm += new_len >> 12;
    }
    Ok(dest)
}

// ---------------------------------------------------------------------------------
// madvise
// ---------------------------------------------------------------------------------

// MADV_* (include/uapi/asm-generic/mman-common.h).
pub const MADV_NORMAL: u32 = 0;
pub const MADV_RANDOM: u32 = 1;
pub const MADV_SEQUENTIAL: u32 = 2;
#[allow(dead_code)] // kept so the table is whole
pub const MADV_WILLNEED: u32 = 3;
pub const MADV_FREE: u32 = 8;
pub const MADV_REMOVE: u32 = 9;
pub const MADV_DONTFORK: u32 = 10;
pub const MADV_DOFORK: u32 = 11;
pub const MADV_DONTDUMP: u32 = 16;
pub const MADV_DODUMP: u32 = 17;
pub const MADV_WIPEONFORK: u32 = 18;
pub const MADV_KEEPONFORK: u32 = 19;
pub const MADV_POPULATE_READ: u32 = 22;
pub const MADV_POPULATE_WRITE: u32 = 23;
pub const MADV_DONTNEED_LOCKED: u32 = 24;
pub const MADV_HWPOISON: u32 = 100;
pub const MADV_SOFT_OFFLINE: u32 = 101;

/// Today's `madvise_behavior_valid`, for an x86 kernel with KSM and THP: NORMAL ..
/// COLLAPSE except the unassigned 5–7, HWPOISON and SOFT_OFFLINE, GUARD_INSTALL and
/// GUARD_REMOVE.
fn madvise_behavior_valid(advice: u32) -> bool {
    matches!(advice, 0..=4 | 8..=25 | 100..=103)
}

/// What one piece of a madvise range (inside VMA `i`) gets; returns the index of the
/// VMA covering `end - 1` afterwards. Per-VMA errors are today's `madvise_vma_behavior`.
fn madvise_vma(k: &mut Kernel, i: usize, start: u32, end: u32, advice: u32) -> Result<usize, Errno> {
    let v = k.task.mm.mmap[i].clone();
    let flags = v.flags;
    match advice {
        MADV_DONTNEED | MADV_DONTNEED_LOCKED | MADV_FREE => {
            // madvise_dontneed_free_valid_vma.
            if advice != MADV_DONTNEED_LOCKED && flags & VM_LOCKED != 0 {
                return Err(EINVAL);
            }
            // MADV_FREE: private anonymous only (`vma_is_anonymous`). The pages
            // may be freed until written again; here they are freed at once, which
            // is one of the outcomes Linux allows.
            if advice == MADV_FREE && !matches!(v.backing, Backing::Anon) {
                return Err(EINVAL);
            }
            // zap_page_range: private anonymous memory then reads back as zeros,
            // private file pages as the file's contents, shared memory as what its
            // object holds. The caller flushes the TLB.
            zap_pte_range(k, start, end);
            Ok(i)
        }
        MADV_REMOVE => {
            // madvise_remove: a locked VMA or one without a file is EINVAL, one not
            // shared and writable EACCES; then the object's pages go (a hole is
            // punched) and the range reads back as zeros.
            if flags & VM_LOCKED != 0 {
                return Err(EINVAL);
            }
            let obj = match &v.backing {
                Backing::Anon => return Err(EINVAL),
                _ if flags & (VM_SHARED | VM_MAYWRITE) != VM_SHARED | VM_MAYWRITE => return Err(EACCES),
                Backing::Shmem { obj } => Some(obj.clone()),
                Backing::SharedFile { map, .. } => {
                    let first = v.pgoff.wrapping_add((start - v.start) >> 12);
                    let map = map.clone();
                    zap_pte_range(k, start, end);
                    super::filemap::shared_punch_hole(k, &map, first, (end - start) >> 12)?;
                    None
                }
                // Private file mappings are refused above (not VM_SHARED).
                Backing::File { .. } => return Err(EACCES),
            };
            if let Some(obj) = obj {
                let first = v.pgoff.wrapping_add((start - v.start) >> 12);
                zap_pte_range(k, start, end);
                super::filemap::shmem_punch_hole(k, &obj, first, (end - start) >> 12);
            }
            Ok(i)
        }
        MADV_DONTFORK => vma_modify_flags(k, i, start, end, flags | VM_DONTCOPY),
        MADV_DOFORK => vma_modify_flags(k, i, start, end, flags & !VM_DONTCOPY),
        MADV_WIPEONFORK => {
            // Private anonymous memory only.
            if !matches!(v.backing, Backing::Anon) || flags & VM_SHARED != 0 {
                return Err(EINVAL);
            }
            vma_modify_flags(k, i, start, end, flags | VM_WIPEONFORK)
        }
        MADV_KEEPONFORK => vma_modify_flags(k, i, start, end, flags & !VM_WIPEONFORK),
        MADV_NORMAL => vma_modify_flags(k, i, start, end, flags & !(VM_SEQ_READ | VM_RAND_READ)),
        MADV_SEQUENTIAL => vma_modify_flags(k, i, start, end, (flags & !VM_RAND_READ) | VM_SEQ_READ),
        MADV_RANDOM => vma_modify_flags(k, i, start, end, (flags & !VM_SEQ_READ) | VM_RAND_READ),
        MADV_DONTDUMP => vma_modify_flags(k, i, start, end, flags | VM_DONTDUMP),
        MADV_DODUMP => vma_modify_flags(k, i, start, end, flags & !VM_DONTDUMP),
        MADV_POPULATE_READ | MADV_POPULATE_WRITE => {
            // faultin_page_range: an access the VMA does not allow is EFAULT.
            let need = if advice == MADV_POPULATE_WRITE { VM_WRITE } else { VM_READ };
            if flags & need == 0 {
                return Err(EFAULT);
            }
            let write = advice == MADV_POPULATE_WRITE;
            let mut addr = start;
            while addr < end {
                match handle_mm_fault(k, i, addr, write, &mut NoTrace) {
                    memory::VM_FAULT_MINOR => k.task.min_flt += 1,
                    memory::VM_FAULT_MAJOR => k.task.maj_flt += 1,
                    memory::VM_FAULT_SIGBUS => return Err(EFAULT),
                    _ => return Err(ENOMEM),
                }
                addr += PAGE_SIZE;
            }
            Ok(i)
        }
        // WILLNEED, COLD, PAGEOUT, MERGEABLE, HUGEPAGE, COLLAPSE, guard pages ...:
        // hints this kernel has no use for.
        _ => Ok(i),
    }
}

/// madvise (219) with today's `do_madvise` rules: EINVAL for an unknown advice, an
/// unaligned start or a range that wraps; EPERM for HWPOISON/SOFT_OFFLINE without
/// CAP_SYS_ADMIN; a range with unmapped holes is ENOMEM after advising what is
/// mapped (an error of one VMA stops the walk there). Flag-setting advice splits
/// VMAs as mprotect does ([`vma_modify_flags`]).
///
/// 2.4 knew NORMAL..DONTNEED only, and its MADV_DONTNEED is what is kept; the rest
/// is today's.
pub fn sys_madvise(k: &mut Kernel, a: Args) -> SysResult {
    let (start, len_in, advice) = (a[0], a[1], a[2]);
    if !madvise_behavior_valid(advice) {
        return Err(EINVAL);
    }
    if start & !PAGE_MASK != 0 {
        return Err(EINVAL);
    }
    // A 32-bit process on today's 64-bit kernels: the length is page-aligned in 64
    // bits and never wraps, so a range reaching past user space is unmapped there
    // (ENOMEM), not EINVAL as the 32-bit arithmetic of 2.4 would make it.
    let end64 = u64::from(start) + ((u64::from(len_in) + 0xfff) & !0xfff);
    if end64 == u64::from(start) {
        return Ok(0);
    }
    let beyond = end64 > u64::from(TASK_SIZE);
    let end = end64.min(u64::from(TASK_SIZE)) as u32;
    if matches!(advice, MADV_HWPOISON | MADV_SOFT_OFFLINE) {
        // madvise_inject_error; root is accepted without poisoning anything.
        return if super::mlock::capable_ipc_lock() { Ok(0) } else { Err(EPERM) };
    }
    let mut unmapped = beyond;
    let mut addr = start;
    let mut zapped = false;
    let mut result = Ok(0);
    while addr < end {
        let Some(i) = k.task.mm.find_vma_index(addr) else {
            unmapped = true;
            break;
        };
        let v = &k.task.mm.mmap[i];
        if v.start >= end {
            unmapped = true;
            break;
        }
        if v.start > addr {
            unmapped = true;
        }
        let (st, en) = (addr.max(v.start), end.min(v.end));
        zapped |= matches!(advice, MADV_DONTNEED | MADV_DONTNEED_LOCKED | MADV_FREE | MADV_REMOVE);
        match madvise_vma(k, i, st, en, advice) {
            Ok(j) => {
                if en >= end {
                    mprotect_merge(k, j);
                }
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
        addr = en;
    }
    if zapped {
        pgtable::flush_tlb_mm(k);
    }
    match result {
        Ok(_) if unmapped => Err(ENOMEM),
        r => r,
    }
}
