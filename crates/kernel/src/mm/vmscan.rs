//! Page reclaim: 2.4's `mm/vmscan.c` as of 2.4.10+ (the VM with active and inactive
//! lists), by `kswapd` in the background and by an allocation that found nothing.
//!
//! ## Who reclaims
//!
//! The one zone has 2.4's watermarks (`free_area_init_core`: `pages_min` = its
//! frames / 128, clamped to 20..=255; `pages_low` = 2 × min; `pages_high` = 3 ×
//! min; 32/64/96 pages on 16 MiB, see [`super::frames::Watermarks`]). [`alloc_frame`]
//! is `__alloc_pages`:
//!
//! * with more than `pages_low` free it just takes a frame;
//! * at or below it, it sets the zone's `need_balance` and wakes `kswapd`, and still
//!   takes a frame: kswapd does not run inside the allocation;
//! * with nothing free, the allocating process reclaims itself (direct reclaim:
//!   [`try_to_free_pages`], a few rounds, then `out_of_memory` in the fault path).
//!   2.4 does this already at `pages_min`, keeping the last pages for allocations
//!   that cannot sleep and for reclaim's own; growsdown has neither, so it keeps no
//!   reserve.
//!
//! [`kswapd`] is a kernel task of the scheduler: once woken, `schedule()` runs it
//! before it picks the next user task — at the end of a time slice (counted in
//! instructions) or when a task sleeps or exits; with a single process `Kernel::run`
//! leaves its one-process loop while kswapd is woken so that the slice is counted.
//! It runs `kswapd_balance`: `try_to_free_pages` passes until more than `pages_high`
//! pages are free, or until a pass fails to free `SWAP_CLUSTER_MAX` frames; then it
//! sleeps until the next wakeup. The points where it runs depend only on the guest's
//! instruction counts and system calls, so a run makes the same decisions each
//! time. A woken 2.4 kswapd often runs at the allocating task's next return to user
//! mode (`reschedule_idle` sets `need_resched` when kswapd's goodness is higher);
//! here it waits for the end of the slice, which lets a fast allocator reach the
//! bottom and reclaim directly first.
//! The trace says who made each decision (`ReclaimEvent::by`); `--stats` counts
//! wakeups, kswapd's frees and direct reclaims. kswapd has no pid and is no
//! process in `/proc`: the guest's pids stay as they were.
//!
//! Stepping for difftest ([`crate::Kernel::step`]) never preempts, so there kswapd
//! does not run and every reclaim is direct.
//!
//! ## A pass
//!
//! [`try_to_free_pages`] runs `shrink_caches` at decreasing priorities until it has
//! freed `SWAP_CLUSTER_MAX` frames:
//!
//! * `refill_inactive` moves pages from the tail of the active list to the inactive
//!   list, unless their `PG_referenced` says they were used since the last look;
//! * `shrink_cache` scans the inactive list from its tail. A page nobody maps but a
//!   cache (the swap cache, a shared file's pages) is written if dirty and freed. A
//!   page some PTE maps is skipped; after too many of those, `swap_out` walks the
//!   page tables of every address space to unmap some;
//! * `swap_out` → `swap_out_mm` → `swap_out_vma` → `swap_out_pgd` → `swap_out_pmd`
//!   → `try_to_swap_out`, for every present PTE from where the last walk stopped:
//!   a PTE with the Accessed bit (which the emulated paging unit sets) is young: the
//!   bit is cleared (and that TLB entry flushed) and the page stays. Otherwise the
//!   PTE is cleared: a page-cache page is simply dropped (it is re-read through
//!   `do_no_page`), a shmem page stays with its object (`shmem_writepage` moves it
//!   to swap once nothing maps it, `shmem_getpage` brings it back), an anonymous page gets a swap slot, joins the swap cache and the
//!   PTE gets the swap entry; the next `shrink_cache` writes it and frees the frame.
//!
//! Everything happens in the order of the lists and page tables, which depend only
//! on what the guest did: the same run makes the same decisions.
//!
//! Reclaim runs only with a swap area (`--swap`, or a guest's swapon): without one
//! kswapd is never woken, nothing is scanned, and memory running out is an OOM kill
//! as before, so that runs without `--swap` are exactly what they were.

use crate::trace::{ReclaimBy, ReclaimEvent, ReclaimWhat};
use crate::Kernel;

use super::frames::{PG_ACTIVE, PG_CACHE, PG_DIRTY, PG_SWAPCACHE};
use super::pgtable::{self, pte_frame, pte_present, _PAGE_ACCESSED, _PAGE_DIRTY, PGDIR_SIZE};
use super::swap;
use super::vma::VM_LOCKED;

/// `SWAP_CLUSTER_MAX`: pages one `try_to_free_pages` tries to free.
const SWAP_CLUSTER_MAX: u32 = 32;
/// `DEF_PRIORITY`: the first pass scans 1/6 of the inactive list.
const DEF_PRIORITY: u32 = 6;

/// A frame for the kernel or a user page: 2.4's `__alloc_pages` for the one zone.
/// `None` only when nothing is free and reclaim could free nothing (the caller's
/// path then ends in `out_of_memory`).
///
/// * More than `pages_low` free: the frame, nothing else.
/// * At or below `pages_low`: `need_balance` is set and a sleeping `kswapd` woken
///   (`wake_up_interruptible(&kswapd_wait)`); it runs at the next `schedule()`, not
///   here, and the allocation goes on with what is free.
/// * Nothing free: direct reclaim, `try_to_free_pages` by the allocating process.
///   2.4 already reclaims directly at `pages_min`, keeping the pages below it for
///   allocations that cannot sleep (interrupts) and for reclaim's own (PF_MEMALLOC);
///   growsdown has neither — reclaim allocates no memory — so it keeps no reserve
///   and a process reclaims only when nothing is left, as before kswapd existed.
pub fn alloc_frame(k: &mut Kernel) -> Option<u32> {
    // Without a swap area (no --swap), nothing is reclaimed, nor is kswapd woken,
    // and running out of memory ends as it always has: runs without --swap behave
    // exactly as before reclaim existed (2.4 would still drop clean page-cache pages).
    if k.swap.info.is_none() {
        return k.frames.alloc(k.cpu.mmu.phys_mut());
    }
    if k.frames.nr_free() <= k.frames.watermarks.low {
        wakeup_kswapd(k);
    }
    if let Some(f) = k.frames.alloc(k.cpu.mmu.phys_mut()) {
        return Some(f);
    }
    k.swap.stats.direct_reclaims += 1;
    let by = std::mem::replace(&mut k.swap.reclaimer, ReclaimBy::Direct { pid: k.task.tgid });
    // 2.4's __alloc_pages goes back to `rebalance` until it gets a page and lets
    // try_to_free_pages decide when to call the OOM killer. Here a few rounds: the
    // first may only age the page tables (clear Accessed bits), the next unmap.
    let mut frame = None;
    for _ in 0..RECLAIM_ROUNDS {
        try_to_free_pages(k);
        frame = k.frames.alloc(k.cpu.mmu.phys_mut());
        if frame.is_some() {
            break;
        }
    }
    k.swap.reclaimer = by;
    frame
}

/// The allocator's `classzone->need_balance = 1; wake_up_interruptible(&kswapd_wait)`:
/// a wakeup counts only when kswapd was asleep (2.4's `waitqueue_active`).
fn wakeup_kswapd(k: &mut Kernel) {
    if !k.swap.need_balance {
        k.swap.need_balance = true;
        k.swap.stats.kswapd_wakeups += 1;
        log::trace!(target: "kernel::mm", "kswapd woken: {} pages free", k.frames.nr_free());
    }
}

/// `kswapd`, the kernel task of background reclaim, which `schedule()` runs before
/// it picks the next user task when an allocation woke it ([`alloc_frame`]).
/// `kswapd_balance`: `try_to_free_pages` passes until more than `pages_high` pages
/// are free (`check_classzone_need_balance`), or until a pass fails to free
/// `SWAP_CLUSTER_MAX` frames — then it gives up and sleeps until the next wakeup
/// (2.4 also sleeps a second there, `schedule_timeout(HZ)`; here the next
/// allocation at the low watermark wakes it, at the earliest for the next
/// `schedule()`). Either way `need_balance` is clear after it and kswapd sleeps
/// (`kswapd_can_sleep`).
///
/// It runs in the address space of whatever task was current, as a 2.4 kernel
/// thread borrows the previous task's mm (`active_mm`, lazy TLB): `swap_out` flushes
/// that mm's TLB entries and no other's. 2.4's kswapd calls the OOM killer when its
/// pass fails (`try_to_free_pages_zone` → `out_of_memory`); here only an
/// allocation that found nothing after its own reclaim does.
pub fn kswapd(k: &mut Kernel) {
    if !k.swap.need_balance {
        return;
    }
    k.swap.need_balance = false;
    // swapoff may have taken the area away since the wakeup.
    if k.swap.info.is_none() {
        return;
    }
    let by = std::mem::replace(&mut k.swap.reclaimer, ReclaimBy::Kswapd);
    // Each pass that goes on frees SWAP_CLUSTER_MAX frames and kswapd allocates
    // none, so this ends; the bound is only a guard.
    for _ in 0..=k.frames.frames / SWAP_CLUSTER_MAX {
        let freed = try_to_free_pages(k);
        k.swap.stats.kswapd_freed += u64::from(freed);
        if freed < SWAP_CLUSTER_MAX || k.frames.nr_free() > k.frames.watermarks.high {
            break;
        }
    }
    log::trace!(target: "kernel::mm", "kswapd sleeps: {} pages free", k.frames.nr_free());
    k.swap.reclaimer = by;
}

/// `try_to_free_pages` calls an allocation makes before it gives up.
const RECLAIM_ROUNDS: u32 = 4;

/// `try_to_free_pages`: `shrink_caches` at priorities 6 down to 1 until
/// `SWAP_CLUSTER_MAX` frames are free. Returns how many frames it freed.
pub fn try_to_free_pages(k: &mut Kernel) -> u32 {
    k.swap.stats.reclaims += 1;
    let before = k.swap.stats.pgsteal;
    let mut nr_pages = SWAP_CLUSTER_MAX;
    let mut priority = DEF_PRIORITY;
    while priority > 0 {
        nr_pages = shrink_caches(k, priority, nr_pages);
        if nr_pages == 0 {
            break;
        }
        priority -= 1;
    }
    let freed = (k.swap.stats.pgsteal - before) as u32;
    log::debug!(target: "kernel::mm", "try_to_free_pages: freed {freed} frames");
    freed
}

/// `shrink_caches`: keep the active list about 2/3 of the pages (`refill_inactive`),
/// then `shrink_cache`. Returns the pages still to free.
fn shrink_caches(k: &mut Kernel, priority: u32, nr_pages: u32) -> u32 {
    let ratio = u64::from(nr_pages) * u64::from(k.frames.nr_active())
        / ((u64::from(k.frames.nr_inactive()) + 1) * 2);
    refill_inactive(k, ratio as u32);
    shrink_cache(k, nr_pages, priority)
}

/// `refill_inactive(nr_pages)`: from the tail of the active list, a referenced page
/// gets another round on the active list (its bit cleared); the others go to the
/// inactive list, marked referenced.
fn refill_inactive(k: &mut Kernel, mut nr_pages: u32) {
    let mut entry = k.frames.lru_tail(true);
    while nr_pages > 0 {
        let Some(page) = entry else { break };
        entry = k.frames.lru_newer(page);
        if k.frames.test_and_clear_referenced(page) {
            k.frames.lru_move(page, true);
            continue;
        }
        nr_pages -= 1;
        k.frames.lru_move(page, false);
        k.frames.set_flag(page, super::frames::PG_REFERENCED, true);
    }
}

/// `shrink_cache(nr_pages, priority)`: scans at most `nr_inactive / priority` pages
/// from the tail of the inactive list, each rotated to its head. Returns the pages
/// still to free.
fn shrink_cache(k: &mut Kernel, mut nr_pages: u32, priority: u32) -> u32 {
    let mut max_scan = k.frames.nr_inactive() / priority;
    let mut max_mapped = (nr_pages << (10 - priority)).min(max_scan / 10) as i64;
    while max_scan > 0 && nr_pages > 0 {
        max_scan -= 1;
        let Some(page) = k.frames.lru_tail(false) else { break };
        k.frames.lru_move(page, false);
        k.swap.stats.pgscan += 1;
        let count = k.frames.count(page);
        let swapcache = k.frames.flag(page, PG_SWAPCACHE);
        let shared_file = !swapcache && k.page_cache.shared_frames.contains_key(&page);
        let shmem = !swapcache && super::filemap::is_shmem_page(k, page);
        if count != 1 || !(swapcache || shared_file || shmem) {
            // page_mapped: some PTE (or the kernel) holds it.
            max_mapped -= 1;
            if max_mapped >= 0 {
                continue;
            }
            // "Alert! We've found too many mapped pages on the inactive list, so we
            // start swapping out now!"
            swap_out(k);
            return nr_pages;
        }
        if reclaim_page(k, page) {
            nr_pages -= 1;
        }
    }
    nr_pages
}

/// Frees a page whose only reference is a cache's: a swap-cache page is written to
/// its slot if it changed since it was last written (`swap_writepage`) and leaves
/// the swap cache; a shmem page first moves to the swap cache (`shmem_writepage`);
/// a shared file's page is written back if dirty and dropped.
fn reclaim_page(k: &mut Kernel, page: u32) -> bool {
    if k.frames.count(page) != 1 {
        return false;
    }
    if !k.frames.flag(page, PG_SWAPCACHE)
        && super::filemap::is_shmem_page(k, page)
        && !super::filemap::shmem_writepage(k, page)
    {
        return false;
    }
    if k.frames.flag(page, PG_SWAPCACHE) {
        if k.frames.flag(page, PG_DIRTY) {
            let Some(entry) = swap::page_swap_entry(k, page) else { return false };
            if swap::rw_swap_page(k, true, entry, page).is_err() {
                return false;
            }
            k.frames.set_flag(page, PG_DIRTY, false);
        }
        swap::delete_from_swap_cache(k, page);
    } else if !super::filemap::shrink_shared_page(k, page) {
        return false;
    }
    k.swap.stats.pgsteal += 1;
    true
}

/// `swap_out`: unmaps up to `SWAP_CLUSTER_MAX` pages, going round the address spaces
/// (the current one and every parked one, by id) from where the last call stopped.
/// Returns whether it made that many freeable.
fn swap_out(k: &mut Kernel) -> bool {
    let mut ids: Vec<u32> = k.parked.mm.keys().copied().collect();
    let cur = k.task.ids.mm;
    if cur != 0 && k.task.mm.pgd != 0 {
        if let Err(i) = ids.binary_search(&cur) {
            ids.insert(i, cur);
        }
    }
    if ids.is_empty() {
        return false;
    }
    let mut nr_pages = SWAP_CLUSTER_MAX;
    let mut counter = ids.len() as i64;
    loop {
        // swap_mm: the first mm at or after the cursor whose walk is not done.
        let start = ids.iter().position(|&i| i >= k.swap.swap_mm).unwrap_or(0);
        let mut pick = None;
        for n in 0..ids.len() {
            let id = ids[(start + n) % ids.len()];
            let Some(mm) = mm_of(k, id) else { continue };
            if mm.swap_address == crate::TASK_SIZE {
                mm.swap_address = 0;
                continue;
            }
            pick = Some(id);
            break;
        }
        let Some(id) = pick else { return false };
        k.swap.swap_mm = id;
        nr_pages = swap_out_mm(k, id, nr_pages);
        if nr_pages == 0 {
            return true;
        }
        counter -= 1;
        if counter < 0 {
            return false;
        }
    }
}

/// The mm with share id `id`: the current task's or a parked one. kswapd runs in
/// `schedule()`, possibly just after a thread's exit parked the mm it shared (the
/// exiting task keeps the id but no page directory): then the parked one is meant.
fn mm_of(k: &mut Kernel, id: u32) -> Option<&mut super::MmStruct> {
    if id == k.task.ids.mm && (k.task.mm.pgd != 0 || !k.parked.mm.contains_key(&id)) {
        Some(&mut k.task.mm)
    } else {
        k.parked.mm.get_mut(&id)
    }
}

/// `swap_out_mm`: from `mm->swap_address`, every VMA in turn; at the end of the
/// address space the mm's walk is done (`swap_address = TASK_SIZE`).
fn swap_out_mm(k: &mut Kernel, id: u32, mut count: u32) -> u32 {
    let Some(mm) = mm_of(k, id) else { return count };
    let mut address = mm.swap_address;
    let pgd = mm.pgd;
    // Every VMA, shmem ones included: their pages are unmapped like a file's and go
    // to swap through shmem_writepage once nothing maps them.
    let vmas: Vec<(u32, u32, u32)> =
        mm.mmap.iter().filter(|v| v.end > address).map(|v| (v.start, v.end, v.flags)).collect();
    for (start, end, flags) in vmas {
        address = address.max(start);
        count = swap_out_vma(k, id, pgd, start, end, flags, address, count);
        if count == 0 {
            return 0;
        }
    }
    if let Some(mm) = mm_of(k, id) {
        mm.swap_address = crate::TASK_SIZE;
    }
    count
}

/// `swap_out_vma` → `swap_out_pgd`: the page tables of `[address, end)` one 4 MiB
/// granule at a time (the PMD is folded into the PGD on two-level i386).
#[allow(clippy::too_many_arguments)]
fn swap_out_vma(
    k: &mut Kernel,
    id: u32,
    pgd: u32,
    _start: u32,
    end: u32,
    flags: u32,
    mut address: u32,
    mut count: u32,
) -> u32 {
    while address < end {
        let granule_end = (address & !(PGDIR_SIZE - 1)).wrapping_add(PGDIR_SIZE);
        let stop = if granule_end == 0 { end } else { end.min(granule_end) };
        if pgtable::pte_offset(k.cpu.mmu.phys(), pgd, address).is_some() {
            count = swap_out_pmd(k, id, pgd, flags, address, stop, count);
            if count == 0 {
                return 0;
            }
        }
        if granule_end == 0 {
            break;
        }
        address = stop;
    }
    count
}

/// `swap_out_pmd`: `try_to_swap_out` on each present PTE of one page table; records
/// in `mm->swap_address` where the walk is.
fn swap_out_pmd(k: &mut Kernel, id: u32, pgd: u32, flags: u32, mut address: u32, end: u32, mut count: u32) -> u32 {
    while address < end {
        if let Some(pte_addr) = pgtable::pte_offset(k.cpu.mmu.phys(), pgd, address) {
            let pte = k.cpu.mmu.phys().read_u32(pte_addr);
            let frame = pte_frame(pte);
            if pte_present(pte) && k.frames.valid(frame) && !k.frames.is_reserved(frame) {
                count -= try_to_swap_out(k, id, flags, address, pte_addr, pte);
                if count == 0 {
                    if let Some(mm) = mm_of(k, id) {
                        mm.swap_address = address + crate::PAGE_SIZE;
                    }
                    return 0;
                }
            }
        }
        address += crate::PAGE_SIZE;
    }
    if let Some(mm) = mm_of(k, id) {
        mm.swap_address = address;
    }
    count
}

/// `try_to_swap_out`: one present PTE. Returns 1 when the page is now freeable
/// (nothing maps it but a cache), else 0.
fn try_to_swap_out(k: &mut Kernel, id: u32, vm_flags: u32, address: u32, pte_addr: u32, pte: u32) -> u32 {
    let current = id == k.task.ids.mm;
    let page = pte_frame(pte);
    k.swap.stats.pgscan += 1;
    // "Don't look at this pte if it's been accessed recently."
    if vm_flags & VM_LOCKED != 0 || pte & _PAGE_ACCESSED != 0 {
        if pte & _PAGE_ACCESSED != 0 {
            // ptep_test_and_clear_young, and the TLB must forget the entry that
            // has A set, or the next access would not set it again.
            k.cpu.mmu.phys_mut().write_u32(pte_addr, pte & !_PAGE_ACCESSED);
            if current {
                pgtable::flush_tlb_page(k, address);
            }
        }
        k.frames.mark_page_accessed(page);
        record(k, id, address, page, ReclaimWhat::Young);
        return 0;
    }
    // "Don't bother unmapping pages that are active."
    if k.frames.flag(page, PG_ACTIVE) {
        return 0;
    }
    // ptep_get_and_clear + flush_tlb_page.
    k.cpu.mmu.phys_mut().write_u32(pte_addr, 0);
    if current {
        pgtable::flush_tlb_page(k, address);
    }
    if pte & _PAGE_DIRTY != 0 {
        set_page_dirty(k, page);
    }
    // Already in the swap cache: the PTE takes a reference on the slot and the
    // page's copy in swap is (or will be, if dirty) up to date.
    if let Some(entry) = swap::page_swap_entry(k, page) {
        swap::swap_duplicate(k, entry);
        k.cpu.mmu.phys_mut().write_u32(pte_addr, entry);
        record(k, id, address, page, ReclaimWhat::SwapCache { slot: swap::swp_offset(entry) });
        return drop_pte(k, id, page);
    }
    // A page of a file: it can be read again (a dirty shared one is written back by
    // shrink_cache first, through set_page_dirty above).
    // A shmem page is its object's (2.4: `page->mapping` is the shmem inode's): the
    // PTE goes, the object keeps the page, and shmem_writepage moves it to swap once
    // no PTE maps it.
    if super::filemap::is_shmem_page(k, page) {
        record(k, id, address, page, ReclaimWhat::ShmemUnmapped);
        return drop_pte(k, id, page);
    }
    let file = k.frames.flag(page, PG_CACHE) || k.page_cache.shared_frames.contains_key(&page);
    if file {
        record(k, id, address, page, ReclaimWhat::Dropped);
        k.swap.stats.dropped += 1;
        return drop_pte(k, id, page);
    }
    // An anonymous page: a slot, the swap cache, the swap entry in the PTE.
    if let Some(entry) = swap::get_swap_page(k) {
        if swap::add_to_swap_cache(k, page, entry) {
            k.frames.set_flag(page, PG_DIRTY, true);
            k.cpu.mmu.phys_mut().write_u32(pte_addr, entry);
            record(k, id, address, page, ReclaimWhat::Swapped { slot: swap::swp_offset(entry) });
            return drop_pte(k, id, page);
        }
        swap::swap_free(k, entry);
    }
    // No swap space left: "preserve".
    k.cpu.mmu.phys_mut().write_u32(pte_addr, pte);
    0
}

/// `drop_pte`: rss - 1 and the PTE's reference dropped. When only a cache holds
/// the page now, it is written (if need be) and freed at once, as the brief of
/// try_to_swap_out has it (2.4 leaves that to the next `shrink_cache`, whose scan
/// may not reach the page before the allocation gives up). Returns 1 if the frame
/// was freed.
fn drop_pte(k: &mut Kernel, id: u32, page: u32) -> u32 {
    if let Some(mm) = mm_of(k, id) {
        mm.rss = mm.rss.saturating_sub(1);
    }
    // A private file page mapped once goes with its PTE (page_cache_release drops
    // an unmapped page from the page cache at once).
    let cache_page = k.frames.count(page) == 2 && k.frames.flag(page, PG_CACHE);
    super::filemap::page_cache_release(k, page);
    if cache_page {
        k.swap.stats.pgsteal += 1;
        return 1;
    }
    u32::from(reclaim_page(k, page))
}

/// `set_page_dirty` for a page whose dirty PTE is cleared: a swap-cache page must be
/// written again before it is freed; a shared file's page written back.
fn set_page_dirty(k: &mut Kernel, page: u32) {
    if k.frames.flag(page, PG_SWAPCACHE) {
        k.frames.set_flag(page, PG_DIRTY, true);
    }
    super::filemap::set_page_dirty(k, page);
}

/// Reports one `try_to_swap_out` decision to the observer (nothing when there is none).
#[inline]
fn record(k: &mut Kernel, id: u32, address: u32, frame: u32, what: ReclaimWhat) {
    if k.observer.is_none() {
        return;
    }
    let pid = pid_of_mm(k, id);
    let by = k.swap.reclaimer;
    let ev = ReclaimEvent {
        machine_icount: k.cpu.icount,
        pid,
        address,
        frame: frame << 12,
        what,
        by,
        mem: crate::trace::MemCounts::of(k),
    };
    // The faults before it first, so that the observer sees the order they came in.
    crate::trace::flush_fault_log(k);
    if let Some(obs) = k.observer.as_mut() {
        obs.reclaim(&ev);
    }
}

/// Reports `shmem_writepage` moving page `index` of a shmem object (in `frame`) to
/// swap slot `slot`: no process's page table is involved (pid 0, address 0).
pub(crate) fn record_writepage(k: &mut Kernel, frame: u32, index: u32, slot: u32) {
    if k.observer.is_none() {
        return;
    }
    let what = ReclaimWhat::ShmemWritepage { index, slot };
    let ev = ReclaimEvent {
        machine_icount: k.cpu.icount,
        pid: 0,
        address: 0,
        frame: frame << 12,
        what,
        by: k.swap.reclaimer,
        mem: crate::trace::MemCounts::of(k),
    };
    // The faults before it first, so that the observer sees the order they came in.
    crate::trace::flush_fault_log(k);
    if let Some(obs) = k.observer.as_mut() {
        obs.reclaim(&ev);
    }
}

/// The pid of a process using mm `id` (0 if none is found).
fn pid_of_mm(k: &Kernel, id: u32) -> u32 {
    if k.task.ids.mm == id {
        return k.task.tgid;
    }
    k.tasks.values().find(|t| t.ids.mm == id).map_or(0, |t| t.tgid)
}
