//! i386 two-level page tables as 2.4 builds them (linux24.md §5): the page directory
//! (`pgd`, with the PMD folded into it), page-table pages, PTE bits,
//! `protection_map`, and the TLB flush points.
//!
//! Tables live in guest physical memory, where the CPU's paging unit walks them. The
//! kernel reads and writes them through `PhysMem` (2.4 does the same through the
//! direct map at `PAGE_OFFSET`).

use growsdown_cpu::mmu::PhysMem;

use crate::trace::Step;
use crate::Kernel;

use super::fault::Recorder;

// ---- entry bits (include/asm-i386/pgtable.h, linux24.md §5.2) ----
pub const _PAGE_PRESENT: u32 = 0x001;
pub const _PAGE_RW: u32 = 0x002;
pub const _PAGE_USER: u32 = 0x004;
pub const _PAGE_PWT: u32 = 0x008;
pub const _PAGE_PCD: u32 = 0x010;
pub const _PAGE_ACCESSED: u32 = 0x020;
pub const _PAGE_DIRTY: u32 = 0x040;
/// In a PDE: 4 MiB page (with CR4.PSE).
pub const _PAGE_PSE: u32 = 0x080;
/// In a non-present PTE: "present to Linux, not to the MMU" (`PAGE_NONE`).
pub const _PAGE_PROTNONE: u32 = 0x080;
pub const _PAGE_GLOBAL: u32 = 0x100;

/// User PDEs: P|RW|USER|A|D. Permissions then come from the PTE alone (linux24.md §3.1).
pub const _PAGE_TABLE: u32 = 0x067;
/// Kernel PDEs: P|RW|A|D.
pub const _KERNPG_TABLE: u32 = 0x063;
/// `_PAGE_CHG_MASK`: what `pte_modify` keeps (frame, Accessed, Dirty).
pub const _PAGE_CHG_MASK: u32 = PAGE_MASK | _PAGE_ACCESSED | _PAGE_DIRTY;

pub const PAGE_NONE: u32 = _PAGE_PROTNONE | _PAGE_ACCESSED;
pub const PAGE_SHARED: u32 = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED;
pub const PAGE_COPY: u32 = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED;
pub const PAGE_READONLY: u32 = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED;
pub const PAGE_KERNEL: u32 = _PAGE_PRESENT | _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED;

pub const PAGE_MASK: u32 = !0xfff;
pub const PGDIR_SHIFT: u32 = 22;
pub const PGDIR_SIZE: u32 = 1 << PGDIR_SHIFT;
pub const PTRS_PER_PGD: u32 = 1024;
#[allow(dead_code)] // kept so the table is whole
pub const PTRS_PER_PTE: u32 = 1024;
/// PDEs 0..768 are user space, 768..1024 the kernel half (linux24.md §5.1).
pub const USER_PTRS_PER_PGD: u32 = crate::TASK_SIZE / PGDIR_SIZE;

/// `protection_map[vm_flags & 0xf]` (mm/mmap.c, linux24.md §5.3). Private writable
/// mappings get `PAGE_COPY`, which is read-only: RW only ever comes from
/// `pte_mkwrite` in the fault handlers, which is what makes copy-on-write work.
pub const PROTECTION_MAP: [u32; 16] = [
    PAGE_NONE,     // __P000
    PAGE_READONLY, // __P001
    PAGE_COPY,     // __P010
    PAGE_COPY,     // __P011
    PAGE_READONLY, // __P100
    PAGE_READONLY, // __P101
    PAGE_COPY,     // __P110
    PAGE_COPY,     // __P111
    PAGE_NONE,     // __S000
    PAGE_READONLY, // __S001
    PAGE_SHARED,   // __S010
    PAGE_SHARED,   // __S011
    PAGE_READONLY, // __S100
    PAGE_READONLY, // __S101
    PAGE_SHARED,   // __S110
    PAGE_SHARED,   // __S111
];

/// `vm_get_page_prot`: the PTE protection bits for a VMA's flags.
#[inline]
pub fn protection_map(vm_flags: u32) -> u32 {
    PROTECTION_MAP[(vm_flags & 0xf) as usize]
}

// ---- the software view of an entry (linux24.md §5.2) ----

/// `pte_none`: the whole entry is zero.
#[inline]
pub fn pte_none(pte: u32) -> bool {
    pte == 0
}

/// `pte_present`: P or PROTNONE.
#[inline]
pub fn pte_present(pte: u32) -> bool {
    pte & (_PAGE_PRESENT | _PAGE_PROTNONE) != 0
}

#[inline]
pub fn pte_write(pte: u32) -> bool {
    pte & _PAGE_RW != 0
}

/// The frame number a PTE maps.
#[inline]
pub fn pte_frame(pte: u32) -> u32 {
    pte >> 12
}

/// `mk_pte(page, prot)`.
#[inline]
pub fn mk_pte(frame: u32, prot: u32) -> u32 {
    (frame << 12) | (prot & 0xfff)
}

/// `pte_modify`: new protection, same frame, Accessed and Dirty kept (mprotect).
#[inline]
pub fn pte_modify(pte: u32, prot: u32) -> u32 {
    (pte & _PAGE_CHG_MASK) | (prot & !_PAGE_CHG_MASK)
}

// ---- walking ----

/// `pgd_offset`: physical address of the PDE for `address` in directory `pgd`.
#[inline]
pub fn pgd_offset(pgd: u32, address: u32) -> u32 {
    (pgd & PAGE_MASK) | ((address >> PGDIR_SHIFT) << 2)
}

/// `pte_offset` without allocation: the physical address of the PTE for `address`,
/// or `None` when the PDE is empty (no page table yet).
pub fn pte_offset(phys: &PhysMem, pgd: u32, address: u32) -> Option<u32> {
    let pde = phys.read_u32(pgd_offset(pgd, address));
    if pde & _PAGE_PRESENT == 0 || pde & _PAGE_PSE != 0 {
        return None;
    }
    Some((pde & PAGE_MASK) | (((address >> 12) & 0x3ff) << 2))
}

/// The PTE value for `address` (0 if there is no page table).
pub fn get_pte(phys: &PhysMem, pgd: u32, address: u32) -> u32 {
    pte_offset(phys, pgd, address).map_or(0, |a| phys.read_u32(a))
}

/// `pte_alloc` (linux24.md §3.1 step 4): the PTE slot for `address`, allocating and
/// installing a zeroed page-table page with `_PAGE_TABLE` if the PDE is empty.
/// `None` is out of memory (`handle_mm_fault` then returns -1).
pub fn pte_alloc<R: Recorder>(k: &mut Kernel, address: u32, rec: &mut R) -> Option<u32> {
    let pgd = k.task.mm.pgd;
    pte_alloc_pgd(k, pgd, address, rec)
}

/// `pte_alloc` in the page directory `pgd`, which need not be the current one
/// (fork's `copy_page_range` fills the child's).
pub fn pte_alloc_pgd<R: Recorder>(k: &mut Kernel, pgd: u32, address: u32, rec: &mut R) -> Option<u32> {
    let pde_addr = pgd_offset(pgd, address);
    let pde = k.cpu.mmu.phys().read_u32(pde_addr);
    if pde & _PAGE_PRESENT == 0 {
        let frame = super::vmscan::alloc_frame(k)?;
        let table = frame << 12;
        k.cpu.mmu.phys_mut().write_u32(pde_addr, table | _PAGE_TABLE);
        rec.step(|| Step::PteAlloc { table });
        log::trace!(target: "kernel::mm", "pte_alloc: page table {table:#x} for {address:#010x}");
        // A PDE going from not-present to present needs no flush (linux24.md §5.6).
    }
    pte_offset(k.cpu.mmu.phys(), pgd, address)
}

// ---- TLB (linux24.md §5.6, uniprocessor versions of include/asm-i386/pgalloc.h) ----

/// `flush_tlb_page`: `invlpg` one page. Used by `establish_pte` (COW and the
/// spurious/dirty path), i.e. whenever a present PTE changes.
#[inline]
pub fn flush_tlb_page(k: &mut Kernel, address: u32) {
    k.cpu.mmu.invlpg(address);
}

/// `flush_tlb_mm` / `flush_tlb_range`: a CR3 reload, which drops every non-global
/// entry. Used by munmap (`zap_page_range`), mprotect, `free_pgtables`, exec and exit.
pub fn flush_tlb_mm(k: &mut Kernel) {
    let cr3 = k.cpu.mmu.cr3();
    k.cpu.mmu.set_cr3(cr3);
}

/// `establish_pte`: store a new value into a present PTE and invalidate that page's
/// translation (`flush_tlb_page`; `update_mmu_cache` is a no-op on i386).
pub fn establish_pte(k: &mut Kernel, address: u32, pte_addr: u32, entry: u32) {
    k.cpu.mmu.phys_mut().write_u32(pte_addr, entry);
    flush_tlb_page(k, address);
}

// ---- page directories ----

/// `pgd_alloc` (`get_pgd_slow`, linux24.md §5.5): a new page directory whose user half is
/// empty and whose kernel half (PDEs 768–1023) is copied from `swapper_pg_dir`.
/// Returns its physical address.
pub fn pgd_alloc(k: &mut Kernel) -> Option<u32> {
    let frame = super::vmscan::alloc_frame(k)?;
    let pgd = frame << 12;
    let swapper = k.frames.swapper_pg_dir;
    for i in USER_PTRS_PER_PGD..PTRS_PER_PGD {
        let v = k.cpu.mmu.phys().read_u32(swapper + i * 4);
        k.cpu.mmu.phys_mut().write_u32(pgd + i * 4, v);
    }
    Some(pgd)
}

/// `clear_page_tables` for PDE slots `first..first+nr` of the user half: frees each
/// page-table page and empties its PDE. The PTEs must already be clear (zapped).
pub fn clear_page_tables(k: &mut Kernel, first: u32, nr: u32) {
    let pgd = k.task.mm.pgd;
    let end = first.saturating_add(nr).min(USER_PTRS_PER_PGD);
    for i in first..end {
        let pde_addr = pgd_offset(pgd, i << PGDIR_SHIFT);
        let pde = k.cpu.mmu.phys().read_u32(pde_addr);
        if pde & _PAGE_PRESENT == 0 {
            continue;
        }
        k.cpu.mmu.phys_mut().write_u32(pde_addr, 0);
        k.frames.put(pde >> 12, k.cpu.mmu.phys_mut());
    }
}

/// `free_pgtables(prev, start, end)` after an munmap (linux24.md §2.7 step 8): frees the
/// page-table pages whose whole 4 MiB granule lies in the hole left between the VMA
/// below `start` and the VMA above `end`, then `flush_tlb_pgtables` (= full flush).
/// Page tables still shared with a neighbouring VMA stay.
pub fn free_pgtables(k: &mut Kernel, start: u32, end: u32) {
    let mm = &k.task.mm;
    // The hole: from the end of the last VMA below `start` to the start of the first
    // VMA at or above `end`.
    let hole_lo = mm.mmap.iter().filter(|v| v.end <= start).map(|v| v.end).max().unwrap_or(0);
    let hole_hi =
        mm.mmap.iter().filter(|v| v.start >= end).map(|v| v.start).min().unwrap_or(crate::TASK_SIZE);
    // Granules entirely inside [hole_lo, hole_hi) and touching [start, end).
    let first = hole_lo.div_ceil(PGDIR_SIZE).max(start >> PGDIR_SHIFT);
    let last = (hole_hi >> PGDIR_SHIFT).min(end.div_ceil(PGDIR_SIZE));
    if last > first {
        clear_page_tables(k, first, last - first);
        flush_tlb_mm(k);
    }
}
