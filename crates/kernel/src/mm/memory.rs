//! Resolving a fault once `do_page_fault` has found the VMA and checked the access:
//! 2.4's `mm/memory.c` (linux24.md §3) — `handle_mm_fault`, `handle_pte_fault`,
//! `do_no_page`, `do_anonymous_page`, `do_wp_page` — plus the PTE-level helpers of
//! munmap (`zap_page_range`), exec (`put_dirty_page`), mremap (`move_page_tables`)
//! and fork (`copy_page_range`).
//!
//! Results are the `handle_mm_fault` codes: 1 minor, 2 major, 0 SIGBUS, -1 OOM.
//! A PTE that holds a swap entry ([`super::swap`]) goes to `do_swap_page`.

use crate::trace::Step;
use crate::Kernel;

use super::fault::Recorder;
use super::swap;
use super::filemap::{filemap_nopage, page_cache_release, shmem_nopage, shmem_release, NoPage};
use super::pgtable::{
    self, establish_pte, mk_pte, pte_alloc, pte_frame, pte_none, pte_present, pte_write, _PAGE_ACCESSED,
    _PAGE_DIRTY, _PAGE_RW, PAGE_MASK, PGDIR_SIZE,
};
use super::vma::{Backing, Vma, VM_MAYWRITE, VM_SHARED};

pub const VM_FAULT_OOM: i32 = -1;
pub const VM_FAULT_SIGBUS: i32 = 0;
pub const VM_FAULT_MINOR: i32 = 1;
pub const VM_FAULT_MAJOR: i32 = 2;

/// `rss++`, keeping the peak for `--stats`.
pub(crate) fn rss_inc(k: &mut Kernel) {
    k.task.mm.rss += 1;
    let rss = u64::from(k.task.mm.rss);
    if rss > k.task.stats.peak_rss {
        k.task.stats.peak_rss = rss;
    }
}

/// `alloc_page` for user memory: a zeroed frame (reclaiming if memory is short),
/// counted in the stats and put on the LRU (`lru_cache_add`) for reclaim to find.
pub(crate) fn alloc_page(k: &mut Kernel) -> Option<u32> {
    let f = super::vmscan::alloc_frame(k)?;
    k.task.stats.pages_allocated += 1;
    k.frames.lru_cache_add(f);
    Some(f)
}

/// `handle_mm_fault(mm, vma, address, write_access)` (linux24.md §3.1): find or allocate
/// the page table (`pmd_alloc` is folded on two-level i386), then dispatch on the
/// PTE. `vma` is the index of the VMA in `k.task.mm.mmap`.
pub fn handle_mm_fault<R: Recorder>(
    k: &mut Kernel,
    vma: usize,
    address: u32,
    write: bool,
    rec: &mut R,
) -> i32 {
    rec.step(|| Step::HandleMmFault);
    let Some(pte_addr) = pte_alloc(k, address, rec) else {
        return VM_FAULT_OOM;
    };
    handle_pte_fault(k, vma, address, write, pte_addr, rec)
}

/// `handle_pte_fault` (linux24.md §3.2).
fn handle_pte_fault<R: Recorder>(
    k: &mut Kernel,
    vma: usize,
    address: u32,
    write: bool,
    pte_addr: u32,
    rec: &mut R,
) -> i32 {
    let mut entry = k.cpu.mmu.phys().read_u32(pte_addr);
    rec.step(|| Step::HandlePteFault { pte: entry });
    if !pte_present(entry) {
        if pte_none(entry) {
            return do_no_page(k, vma, address, write, pte_addr, rec);
        }
        return do_swap_page(k, vma, address, write, pte_addr, entry, rec);
    }
    if write {
        if !pte_write(entry) {
            return do_wp_page(k, vma, address, pte_addr, entry, rec);
        }
        entry |= _PAGE_DIRTY;
    }
    // Present and allowed: a stale TLB entry or a race. Mark it young (and dirty)
    // and flush that page.
    entry |= _PAGE_ACCESSED;
    establish_pte(k, address, pte_addr, entry);
    rec.step(|| Step::Spurious);
    VM_FAULT_MINOR
}

/// `do_swap_page` (2.4's mm/memory.c): the PTE holds a swap entry. The page is
/// looked up in the swap cache (`lookup_swap_cache`: found, a minor fault), else
/// read from the swap file with a few slots after it (`swapin_readahead`,
/// `read_swap_cache_async`: a major fault). The PTE then maps the swap-cache page
/// and gives up its slot reference (`swap_free`); the page stays in the swap cache
/// (unless swap is more than half full: `remove_exclusive_swap_page`). A write maps
/// it writable and dirty only if this PTE is its only user (`can_share_swap_page`);
/// a page still shared after fork is mapped read-only, and the write then goes to
/// `do_wp_page`, which copies it.
fn do_swap_page<R: Recorder>(
    k: &mut Kernel,
    vma: usize,
    address: u32,
    write: bool,
    pte_addr: u32,
    orig_pte: u32,
    rec: &mut R,
) -> i32 {
    let entry = orig_pte;
    let slot = swap::swp_offset(entry);
    let mut ret = VM_FAULT_MINOR;
    let page = match swap::lookup_swap_cache(k, entry) {
        Some(p) => {
            k.swap.stats.cache_hits += 1;
            p
        }
        None => {
            swap::swapin_readahead(k, entry);
            let Some(p) = swap::read_swap_cache_async(k, entry) else {
                // "Back out if somebody else faulted in this pte."
                if k.cpu.mmu.phys().read_u32(pte_addr) != orig_pte {
                    return VM_FAULT_MINOR;
                }
                log::warn!(target: "kernel::mm", "do_swap_page: cannot read slot {slot} for {address:#010x}");
                return VM_FAULT_OOM;
            };
            // Had to read the page from the swap area: a major fault.
            ret = VM_FAULT_MAJOR;
            p
        }
    };
    rec.step(|| Step::DoSwapPage { slot, cached: ret == VM_FAULT_MINOR, frame: page << 12 });
    k.frames.mark_page_accessed(page);
    if k.cpu.mmu.phys().read_u32(pte_addr) != orig_pte {
        page_cache_release(k, page);
        return VM_FAULT_MINOR;
    }
    swap::swap_free(k, entry);
    if swap::vm_swap_full(k) {
        swap::remove_exclusive_swap_page(k, page);
    }
    rss_inc(k);
    let mut pte = mk_pte(page, k.task.mm.mmap[vma].page_prot);
    if write && swap::can_share_swap_page(k, page) {
        pte |= _PAGE_RW | _PAGE_DIRTY;
    }
    // Not present before: no TLB flush.
    k.cpu.mmu.phys_mut().write_u32(pte_addr, pte);
    ret
}

/// `do_no_page` (linux24.md §3.3): the PTE is empty. Anonymous VMAs (no `nopage`) go to
/// `do_anonymous_page`; file VMAs ask `filemap_nopage` for the page-cache page (shared
/// anonymous ones `shmem_nopage`), take a private copy at once on a write to a private
/// mapping ("early COW"), and map it with the VMA's protection. Always a **major**
/// fault when `nopage` was called, even if the page was already cached — 2.4 counts
/// it so.
fn do_no_page<R: Recorder>(
    k: &mut Kernel,
    vma: usize,
    address: u32,
    write: bool,
    pte_addr: u32,
    rec: &mut R,
) -> i32 {
    let v = &k.task.mm.mmap[vma];
    let backing = v.backing.clone();
    if let Backing::Anon = backing {
        return do_anonymous_page(k, vma, write, pte_addr, rec);
    }
    let index = ((address - v.start) >> 12).wrapping_add(v.pgoff);
    let (flags, prot) = (v.flags, v.page_prot);
    let early_cow = write && flags & VM_SHARED == 0;
    rec.step(|| Step::DoNoPage { file_page: index, early_cow });

    let hits = k.page_cache.hits;
    let nopage = match &backing {
        Backing::File { file } => filemap_nopage(k, file, index),
        Backing::SharedFile { map, .. } => super::filemap::shared_nopage(k, map, index),
        Backing::Shmem { obj } => shmem_nopage(k, obj, index, rec),
        Backing::Anon => NoPage::Sigbus,
    };
    // The page-cache lookup of a shared file mapping, where it decides what every
    // mapping of the file sees (a private file mapping's is the same lookup, left
    // out of its traces).
    if matches!(backing, Backing::SharedFile { .. }) && matches!(nopage, NoPage::Page(_)) {
        let hit = k.page_cache.hits != hits;
        rec.step(|| Step::FindGetPage { hit });
    }
    let page = match nopage {
        NoPage::Page(f) => f,
        NoPage::Sigbus => return VM_FAULT_SIGBUS,
        NoPage::Oom => return VM_FAULT_OOM,
    };
    let mut frame = page;
    if early_cow {
        let Some(new) = alloc_page(k) else {
            page_cache_release(k, page);
            return VM_FAULT_OOM;
        };
        k.cpu.mmu.phys_mut().copy_frame(page, new);
        page_cache_release(k, page);
        frame = new;
    }
    // Single-threaded: nobody can have filled the PTE meanwhile.
    if !k.frames.is_reserved(frame) {
        rss_inc(k);
    }
    let mut entry = mk_pte(frame, prot);
    if write {
        entry |= _PAGE_RW | _PAGE_DIRTY;
    }
    // Not present before: no TLB flush (linux24.md §5.6).
    k.cpu.mmu.phys_mut().write_u32(pte_addr, entry);
    VM_FAULT_MAJOR
}

/// `do_anonymous_page` (linux24.md §3.4). A read maps the shared ZERO_PAGE read-only
/// (0x025 for a private VMA) without allocating or counting rss; a write allocates
/// a zeroed frame mapped RW and dirty (0x067), rss + 1. Always minor, no flush.
fn do_anonymous_page<R: Recorder>(
    k: &mut Kernel,
    vma: usize,
    write: bool,
    pte_addr: u32,
    rec: &mut R,
) -> i32 {
    let prot = k.task.mm.mmap[vma].page_prot;
    if !write {
        let zero = k.frames.zero_page;
        // pte_wrprotect: even a shared writable VMA gets the zero page read-only.
        k.cpu.mmu.phys_mut().write_u32(pte_addr, mk_pte(zero, prot & !_PAGE_RW));
        k.task.stats.zero_page_maps += 1;
        rec.step(|| Step::DoAnonymousPage { zero_page: true, frame: zero << 12 });
        return VM_FAULT_MINOR;
    }
    let Some(frame) = alloc_page(k) else {
        return VM_FAULT_OOM;
    };
    rss_inc(k);
    k.cpu.mmu.phys_mut().write_u32(pte_addr, mk_pte(frame, prot) | _PAGE_RW | _PAGE_DIRTY);
    rec.step(|| Step::DoAnonymousPage { zero_page: false, frame: frame << 12 });
    VM_FAULT_MINOR
}

/// `do_wp_page` (linux24.md §3.5): a write to a present, read-only PTE in a VM_WRITE VMA.
///
/// * **Reuse** when we hold the only reference to a non-reserved page
///   (`can_share_swap_page` without swap): set RW|D|A in place and flush that page.
/// * **Copy** otherwise — a page shared after fork, a page-cache page (the cache
///   holds a reference of its own), or the reserved ZERO_PAGE (a copy of which is
///   just a clear, `copy_cow_page`): map a new frame 0x067, flush that page, drop
///   the old reference. rss grows only when the old page was reserved (ZERO_PAGE),
///   since otherwise one counted page replaces another.
///
/// Both paths are minor faults.
fn do_wp_page<R: Recorder>(
    k: &mut Kernel,
    vma: usize,
    address: u32,
    pte_addr: u32,
    pte: u32,
    rec: &mut R,
) -> i32 {
    let old = pte_frame(pte);
    if !k.frames.valid(old) {
        log::error!(target: "kernel::mm", "do_wp_page: bogus page {pte:#x} at {address:#010x}");
        return VM_FAULT_OOM;
    }
    let reserved = k.frames.is_reserved(old);
    // A page of a shared mapping is the file's (or the shmem object's) own: a write
    // makes it writable and dirty where it is, never a copy (the page's count is at
    // least 2, the object's reference and this PTE's, so the test below would copy).
    let shared = k.task.mm.mmap[vma].flags & VM_SHARED != 0;
    if !reserved && (shared || swap::can_share_swap_page(k, old)) {
        establish_pte(k, address, pte_addr, pte | _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED);
        k.task.stats.cow_reuses += 1;
        rec.step(|| Step::DoWpPage { copied: false, from_zero_page: false, frame: old << 12 });
        return VM_FAULT_MINOR;
    }
    let from_zero_page = old == k.frames.zero_page;
    // page_cache_get(old_page): allocating may reclaim, which may unmap this very
    // PTE; the page stays ours, and the PTE is checked again below.
    k.frames.get(old);
    let Some(new) = alloc_page(k) else {
        page_cache_release(k, old);
        return VM_FAULT_OOM;
    };
    if k.cpu.mmu.phys().read_u32(pte_addr) != pte {
        // Reclaim swapped it out meanwhile: the access is simply retried.
        k.frames.put(new, k.cpu.mmu.phys_mut());
        page_cache_release(k, old);
        return VM_FAULT_MINOR;
    }
    if !from_zero_page {
        k.cpu.mmu.phys_mut().copy_frame(old, new);
    }
    if reserved {
        rss_inc(k);
    }
    // break_cow: the VMA's protection made writable and dirty.
    let prot = k.task.mm.mmap[vma].page_prot;
    establish_pte(k, address, pte_addr, mk_pte(new, prot) | _PAGE_RW | _PAGE_DIRTY);
    page_cache_release(k, old);
    page_cache_release(k, old);
    k.task.stats.cow_copies += 1;
    rec.step(|| Step::DoWpPage { copied: true, from_zero_page, frame: new << 12 });
    VM_FAULT_MINOR
}

/// Clears the PTEs of `[start, end)` and drops the pages they mapped, without any
/// TLB flush (the caller flushes once). rss goes down by one for every present,
/// non-reserved page. Returns how many pages were dropped.
pub(crate) fn zap_pte_range(k: &mut Kernel, start: u32, end: u32) -> u32 {
    let pgd = k.task.mm.pgd;
    let mut dropped = 0;
    let mut addr = start & PAGE_MASK;
    while addr < end {
        let Some(pte_addr) = pgtable::pte_offset(k.cpu.mmu.phys(), pgd, addr) else {
            // No page table: skip to the next 4 MiB granule.
            match (addr & !(PGDIR_SIZE - 1)).checked_add(PGDIR_SIZE) {
                Some(next) => addr = next,
                None => break,
            }
            continue;
        };
        let pte = k.cpu.mmu.phys().read_u32(pte_addr);
        if swap::is_swap_pte(pte) {
            k.cpu.mmu.phys_mut().write_u32(pte_addr, 0);
            swap::free_swap_and_cache(k, pte);
        } else if !pte_none(pte) {
            k.cpu.mmu.phys_mut().write_u32(pte_addr, 0);
            let frame = pte_frame(pte);
            if pte_present(pte) && k.frames.valid(frame) && !k.frames.is_reserved(frame) {
                // 2.4's zap_pte_range: `if (pte_dirty(pte)) set_page_dirty(page)`.
                if pte & _PAGE_DIRTY != 0 {
                    super::filemap::set_page_dirty(k, frame);
                }
                page_cache_release(k, frame);
                k.task.mm.rss = k.task.mm.rss.saturating_sub(1);
                dropped += 1;
            }
        }
        match addr.checked_add(crate::PAGE_SIZE) {
            Some(next) => addr = next,
            None => break,
        }
    }
    dropped
}

/// `zap_page_range(mm, address, size)`: unmap the pages of a range (munmap,
/// MADV_DONTNEED), then `flush_tlb_range` — a full flush on i386 (linux24.md §5.6).
#[allow(dead_code)] // 2.4's entry point (MADV_DONTNEED); do_munmap calls zap_pte_range itself
pub fn zap_page_range(k: &mut Kernel, address: u32, size: u32) -> u32 {
    let end = address.saturating_add(size);
    let dropped = zap_pte_range(k, address, end);
    pgtable::flush_tlb_mm(k);
    dropped
}

/// `put_dirty_page` (exec's `setup_arg_pages`, linux24.md §4.2): install `frame` at
/// `address` writable and dirty (0x067 with the stack's PAGE_COPY), rss + 1, no
/// fault and no flush. `None` if no page table could be allocated.
pub fn put_dirty_page(k: &mut Kernel, address: u32, frame: u32, prot: u32) -> Option<()> {
    let pte_addr = pte_alloc(k, address, &mut super::fault::NoTrace)?;
    if !pte_none(k.cpu.mmu.phys().read_u32(pte_addr)) {
        log::error!(target: "kernel::mm", "put_dirty_page: {address:#010x} already mapped");
        return None;
    }
    k.cpu.mmu.phys_mut().write_u32(pte_addr, mk_pte(frame, prot) | _PAGE_RW | _PAGE_DIRTY);
    rss_inc(k);
    Some(())
}

/// `install_page`-like: map `frame` at `address` with the VMA's `prot` as it is
/// (read-only stays read-only), rss + 1, no fault — for a page the kernel filled
/// itself (the vDSO). `None` if no page table could be allocated or the slot is taken.
pub fn install_page(k: &mut Kernel, address: u32, frame: u32, prot: u32) -> Option<()> {
    let pte_addr = pte_alloc(k, address, &mut super::fault::NoTrace)?;
    if !pte_none(k.cpu.mmu.phys().read_u32(pte_addr)) {
        return None;
    }
    k.cpu.mmu.phys_mut().write_u32(pte_addr, mk_pte(frame, prot));
    rss_inc(k);
    Some(())
}

/// `move_page_tables` (mremap): moves every PTE of `[old, old+len)` to the same
/// offset from `new`, leaving the old slots empty. Pages and their references move
/// with the PTEs; rss is unchanged. The caller flushes the TLB. `None` is out of
/// memory for a page table (the PTEs moved so far stay moved, and the caller moves
/// them back).
pub fn move_page_tables(k: &mut Kernel, new: u32, old: u32, len: u32) -> Option<()> {
    let pgd = k.task.mm.pgd;
    let mut off = 0;
    while off < len {
        let from = old.wrapping_add(off);
        if let Some(src) = pgtable::pte_offset(k.cpu.mmu.phys(), pgd, from) {
            if !pte_none(k.cpu.mmu.phys().read_u32(src)) {
                let dst = pte_alloc(k, new.wrapping_add(off), &mut super::fault::NoTrace)?;
                // Read after pte_alloc: the allocation may have reclaimed this page
                // (the PTE then holds a swap entry, which moves like any other).
                let pte = k.cpu.mmu.phys().read_u32(src);
                k.cpu.mmu.phys_mut().write_u32(dst, pte);
                k.cpu.mmu.phys_mut().write_u32(src, 0);
            }
        }
        off += crate::PAGE_SIZE;
    }
    Some(())
}

/// Drops a VMA that has been unlinked and whose PTEs are zapped: the last VMA of a
/// shmem object frees the object's pages (a file reference just goes away with the
/// `Rc`).
pub fn release_vma(k: &mut Kernel, vma: Vma) {
    match &vma.backing {
        Backing::Shmem { obj } if std::rc::Rc::strong_count(obj) == 1 => shmem_release(k, obj),
        Backing::SharedFile { map, .. } if std::rc::Rc::strong_count(map) == 1 => {
            super::filemap::shared_release(k, map)
        }
        _ => {}
    }
}

/// `copy_page_range(dst, src, vma)` (fork, linux24.md §4.1): copies the current mm's PTEs
/// of `vma` into the page directory `dst_pgd`.
///
/// * empty PTEs stay empty (the child demand-faults on its own);
/// * reserved frames (ZERO_PAGE) are copied verbatim: not counted, already read-only;
/// * normal pages are shared: for a COW mapping (private, hence VM_MAYWRITE) a
///   writable PTE loses RW **in the parent too**, so the first write on either side
///   goes to `do_wp_page`; the child's copy is marked old (and clean if shared);
///   `page_count` + 1 and child rss + 1.
///
/// Worked example: parent 0x067 → parent 0x065, child 0x045. The caller flushes the
/// parent's TLB once at the end. Returns the child's rss contribution, or `None` when
/// a child page table could not be allocated.
pub fn copy_page_range(k: &mut Kernel, dst_pgd: u32, vma: &Vma) -> Option<u32> {
    let src_pgd = k.task.mm.pgd;
    let cow = vma.flags & (VM_SHARED | VM_MAYWRITE) == VM_MAYWRITE;
    let mut rss = 0;
    let mut addr = vma.start;
    while addr < vma.end {
        let Some(src) = pgtable::pte_offset(k.cpu.mmu.phys(), src_pgd, addr) else {
            // Nothing populated in this 4 MiB granule.
            match (addr & !(PGDIR_SIZE - 1)).checked_add(PGDIR_SIZE) {
                Some(next) => addr = next,
                None => break,
            }
            continue;
        };
        // The child gets a page table for every granule the parent has populated.
        let dst = pgtable::pte_alloc_pgd(k, dst_pgd, addr, &mut super::fault::NoTrace)?;
        let pte = k.cpu.mmu.phys().read_u32(src);
        if !pte_none(pte) {
            let frame = pte_frame(pte);
            if !pte_present(pte) || !k.frames.valid(frame) || k.frames.is_reserved(frame) {
                // A swap entry: the child's PTE holds the slot too.
                if swap::is_swap_pte(pte) {
                    swap::swap_duplicate(k, pte);
                }
                k.cpu.mmu.phys_mut().write_u32(dst, pte);
            } else {
                let mut parent = pte;
                if cow && pte_write(pte) {
                    parent &= !_PAGE_RW;
                    k.cpu.mmu.phys_mut().write_u32(src, parent);
                }
                let mut child = parent & !_PAGE_ACCESSED;
                if vma.flags & VM_SHARED != 0 {
                    child &= !_PAGE_DIRTY;
                }
                k.frames.get(frame);
                k.cpu.mmu.phys_mut().write_u32(dst, child);
                rss += 1;
            }
        }
        match addr.checked_add(crate::PAGE_SIZE) {
            Some(next) => addr = next,
            None => break,
        }
    }
    Some(rss)
}
