//! Memory management, Linux 2.4 style (linux24.md §2–§5).
//!
//! | module | 2.4 source | what |
//! |---|---|---|
//! | [`frames`] | `mm/page_alloc.c`, `mem_map` | physical frames, refcounts, ZERO_PAGE |
//! | [`pgtable`] | `include/asm-i386/pgtable*.h`, `pgalloc.h` | PDE/PTE bits, `protection_map`, TLB flushes |
//! | [`vma`] | `include/linux/mm.h`, `mm/mmap.c` | VMAs, `find_vma`, `vma_merge`, maps |
//! | [`fault`] | `arch/i386/mm/fault.c`, `expand_stack` | `do_page_fault` |
//! | [`memory`] | `mm/memory.c` | `handle_mm_fault` … `do_wp_page`, `zap_page_range`, `copy_page_range` |
//! | [`filemap`] | `mm/filemap.c`, `mm/shmem.c` | page cache, `filemap_nopage`, `shmem_nopage` |
//! | [`mmap`] | `mm/mmap.c`, `mm/mprotect.c`, `mm/mremap.c`, `mm/madvise.c` | mmap, munmap, brk, mprotect, mremap, madvise |
//! | [`mlock`] | `mm/mlock.c` | mlock, mlock2, munlock, mlockall, munlockall |
//! | [`oom_kill`] | `mm/oom_kill.c` | `out_of_memory`, `select_bad_process`, `badness` |
//! | [`mincore`] | `mm/mincore.c` (today's) | mincore |
//! | [`swap`] | `mm/swapfile.c`, `mm/swap_state.c`, `mm/page_io.c` | swap area, swap map, swap cache |
//! | [`vmscan`] | `mm/vmscan.c`, `mm/swap.c` | LRU lists, `try_to_free_pages`, `swap_out` |
//!
//! One machine runs one address space at a time: the current task's `mm`, whose page
//! directory CR3 points at. Address-space lifetime: [`boot`] (first mm), [`exit_mmap`]
//! (exit, exec), [`dup_mmap`] (fork), [`switch_mm`] (context switch), [`mmput`]
//! (free an mm that is not current).

pub mod fault;
pub mod filemap;
pub mod frames;
pub mod memory;
pub mod mincore;
pub mod mlock;
pub mod mmap;
pub mod oom_kill;
pub mod pgtable;
pub mod swap;
pub mod vma;
pub mod vmscan;

use std::cell::Cell;

use growsdown_cpu::TableRegister;
use growsdown_cpu::mmu::{
    CR0_AM, CR0_MP, CR0_NE, CR0_PE, CR0_PG, CR0_WP, CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_PGE, CR4_PSE,
};
use growsdown_cpu::{Descriptor, SegReg};

pub use vma::{Backing, Vma};

use crate::Kernel;
use pgtable::{PGDIR_SHIFT, PGDIR_SIZE, USER_PTRS_PER_PGD};

/// The address space (`struct mm_struct`, linux24.md §2.1).
#[derive(Clone, Debug, Default)]
pub struct MmStruct {
    /// Physical address of the page directory.
    pub pgd: u32,
    /// The VMAs, sorted by address and never overlapping (`mmap` + `mm_rb`).
    pub mmap: Vec<Vma>,
    /// Index of the VMA `find_vma` returned last.
    pub mmap_cache: Cell<Option<usize>>,
    /// Pages covered by all VMAs.
    pub total_vm: u32,
    /// Pages in VM_LOCKED VMAs.
    pub locked_vm: u32,
    /// Resident pages mapped by this mm; ZERO_PAGE and reserved frames do not count.
    pub rss: u32,
    pub start_code: u32,
    pub end_code: u32,
    pub start_data: u32,
    pub end_data: u32,
    pub start_brk: u32,
    pub brk: u32,
    pub start_stack: u32,
    pub arg_start: u32,
    pub arg_end: u32,
    pub env_start: u32,
    pub env_end: u32,
    /// Flags every new VMA gets (VM_LOCKED after `mlockall(MCL_FUTURE)`), else 0.
    pub def_flags: u32,
    /// Where exec mapped the vDSO (today's `mm->context.vdso`), 0 for none: names
    /// the `[vdso]` VMA and gives signal frames their return trampolines.
    pub vdso: u32,
    /// Where `swap_out` goes on walking this mm (`mm->swap_address`); TASK_SIZE
    /// when the walk has reached the end.
    pub swap_address: u32,
}

/// GDT entries of 2.4 i386 (`include/asm-i386/segment.h`): kernel CS/DS at 2 and 3,
/// user CS/DS at 4 and 5, all flat 4 GiB. As in today's kernels, every descriptor has
/// its accessed bit set (so the CPU never writes the GDT), which LAR shows a user
/// program: user CS reads back as 0x00CFFB00, user DS as 0x00CFF300.
const GDT_KERNEL_CS: u64 = 0x00cf_9b00_0000_ffff;
const GDT_KERNEL_DS: u64 = 0x00cf_9300_0000_ffff;
const USER_CS_ATTRS: u16 = 0xc0fb;
const USER_DS_ATTRS: u16 = 0xc0f3;

/// Physical RAM the kernel maps at PAGE_OFFSET (896 MiB: 1 GiB minus the vmalloc
/// reserve, linux24.md §5.5).
const MAXMEM: u64 = 896 << 20;

/// Boots memory management (2.4's `head.S` + `paging_init` + `mem_init`):
///
/// * `swapper_pg_dir`, whose kernel half (PDEs 768–1023) maps physical RAM at
///   0xC0000000 with 4 MiB PSE pages, supervisor only (no U/S) and global. A user
///   access to 0xC0100000 therefore faults with code 5 (scenario 9);
/// * `empty_zero_page`, the shared reserved ZERO_PAGE;
/// * GDT entries 2–5 (`__KERNEL_CS/DS`, `__USER_CS` 0x23, `__USER_DS` 0x2b);
/// * CR4.PSE|PGE, then CR0 |= PG|WP (plus AM, NE, MP as `head.S` ORs 0x50022);
/// * an empty user address space for the initial task, loaded in CR3.
pub fn boot(k: &mut Kernel) -> Result<(), String> {
    let phys = k.cpu.mmu.phys_mut();
    let swapper = k.frames.alloc_reserved(phys).ok_or("no memory for swapper_pg_dir")? << 12;
    let zero = k.frames.alloc_reserved(phys).ok_or("no memory for empty_zero_page")?;
    k.frames.swapper_pg_dir = swapper;
    k.frames.zero_page = zero;

    let ram = (phys.size() as u64).min(MAXMEM);
    let big_pages = ram.div_ceil(u64::from(PGDIR_SIZE)) as u32;
    for i in 0..big_pages.min(pgtable::PTRS_PER_PGD - USER_PTRS_PER_PGD) {
        let pde = (i << PGDIR_SHIFT) | pgtable::PAGE_KERNEL | pgtable::_PAGE_PSE | pgtable::_PAGE_GLOBAL;
        phys.write_u32(swapper + (USER_PTRS_PER_PGD + i) * 4, pde);
    }

    let cpu = &mut k.cpu;
    if cpu.gdt.len() < 6 {
        cpu.gdt.resize(32, 0);
    }
    cpu.gdt[2] = GDT_KERNEL_CS;
    cpu.gdt[3] = GDT_KERNEL_DS;
    cpu.gdt[usize::from(crate::USER_CS >> 3)] = Descriptor::encode(0, 0xfffff, USER_CS_ATTRS);
    cpu.gdt[usize::from(crate::USER_DS >> 3)] = Descriptor::encode(0, 0xfffff, USER_DS_ATTRS);
    // What SGDT, SIDT, SLDT and STR show a user program. The GDT and IDT live in
    // kernel space, out of its reach; the values are those today's x86-64 kernels
    // give a 32-bit process on a CPU with UMIP (the dummy values of
    // arch/x86/kernel/umip.c: GDT at 0xFFFE0000 and IDT at 0xFFFF0000 with limit 0,
    // TSS selector GDT_ENTRY_TSS * 8, LDT selector GDT_ENTRY_LDT * 8 when the
    // process has an LDT), so a program prints the same as natively on such hosts.
    cpu.gdtr = TableRegister { base: 0xfffe_0000, limit: 0 };
    cpu.idtr = TableRegister { base: 0xffff_0000, limit: 0 };
    cpu.tr = 8 * 8;
    cpu.ldtr = 10 * 8;

    // OSFXSR and OSXMMEXCPT: the kernel saves SSE state and handles #XM, so SSE
    // instructions run (2.4's cpu_init sets them when the CPU has FXSR and XMM).
    cpu.mmu.set_cr4(cpu.mmu.cr4() | CR4_PSE | CR4_PGE | CR4_OSFXSR | CR4_OSXMMEXCPT);
    cpu.mmu.set_cr3(swapper);
    cpu.mmu.set_cr0(cpu.mmu.cr0() | CR0_PE | CR0_PG | CR0_WP | CR0_AM | CR0_NE | CR0_MP);

    let pgd = pgtable::pgd_alloc(k).ok_or("no memory for the first page directory")?;
    k.task.mm = MmStruct { pgd, ..MmStruct::default() };
    k.cpu.mmu.set_cr3(pgd);
    load_user_segments(k);
    log::debug!(
        target: "kernel::mm",
        "boot: swapper_pg_dir {swapper:#x}, ZERO_PAGE frame {zero:#x}, {big_pages} kernel 4M pages, pgd {pgd:#x}"
    );
    Ok(())
}

/// CS = `__USER_CS`, DS = ES = SS = `__USER_DS`, FS = GS = 0 (`start_thread`).
pub fn load_user_segments(k: &mut Kernel) {
    let cpu = &mut k.cpu;
    cpu.force_cs(crate::USER_CS);
    for s in [SegReg::Ds, SegReg::Es, SegReg::Ss] {
        if let Err(e) = cpu.load_segment(s, crate::USER_DS) {
            log::error!(target: "kernel::mm", "loading {} with __USER_DS: {e}", s.name());
        }
    }
    for s in [SegReg::Fs, SegReg::Gs] {
        if let Err(e) = cpu.load_segment(s, 0) {
            log::error!(target: "kernel::mm", "clearing {}: {e}", s.name());
        }
    }
}

/// `exit_mmap` (used at exit and by exec's `exec_mmap`): unmaps every VMA (dropping
/// its pages), frees the user page tables (`clear_page_tables`) and flushes the
/// TLB. The page directory and its kernel half stay, like 2.4 keeps the mm itself
/// until `mmdrop`; layout fields are reset.
pub fn exit_mmap(k: &mut Kernel) {
    let vmas = std::mem::take(&mut k.task.mm.mmap);
    k.task.mm.invalidate_mmap_cache();
    for v in vmas {
        memory::zap_pte_range(k, v.start, v.end);
        memory::release_vma(k, v);
    }
    pgtable::clear_page_tables(k, 0, USER_PTRS_PER_PGD);
    pgtable::flush_tlb_mm(k);
    if k.task.mm.rss != 0 {
        log::error!(target: "kernel::mm", "exit_mmap: rss {} after unmapping everything", k.task.mm.rss);
    }
    let pgd = k.task.mm.pgd;
    k.task.mm = MmStruct { pgd, ..MmStruct::default() };
}

/// `dup_mmap` (fork's `copy_mm` without CLONE_VM, linux24.md §4.1): a copy of the current
/// address space for a child. The layout fields and `total_vm` are copied; the child
/// gets its own page directory (kernel half from `swapper_pg_dir`), a copy of every
/// VMA except VM_DONTCOPY ones (with VM_LOCKED cleared), and its PTEs through
/// `copy_page_range`, which write-protects the parent's private pages — except for a
/// VM_WIPEONFORK VMA (today's MADV_WIPEONFORK), whose copy starts empty. The parent's
/// TLB is flushed at the end. Fault counters are the task's business (fork resets
/// the child's).
pub fn dup_mmap(k: &mut Kernel) -> Result<MmStruct, crate::errno::Errno> {
    let pgd = pgtable::pgd_alloc(k).ok_or(crate::errno::ENOMEM)?;
    let parent = &k.task.mm;
    let mut child = MmStruct {
        pgd,
        mmap: Vec::with_capacity(parent.mmap.len()),
        mmap_cache: Cell::new(None),
        locked_vm: 0,
        rss: 0,
        def_flags: 0,
        swap_address: 0,
        ..parent.clone()
    };
    let vmas: Vec<Vma> = parent.mmap.iter().filter(|v| v.flags & vma::VM_DONTCOPY == 0).cloned().collect();
    // The VM_DONTCOPY VMAs left behind are not the child's (today's
    // `vm_stat_account`; 2.4 copied total_vm as it was).
    child.total_vm = vmas.iter().map(Vma::pages).sum();
    for v in vmas {
        // Linked first, so that a copy that fails half-way is undone by mmput.
        let mut tmp = v.clone();
        tmp.flags &= !vma::VM_LOCKED_MASK;
        child.mmap.push(tmp);
        // MADV_WIPEONFORK (today's `dup_mmap`): the child gets the VMA but none of
        // its pages, so it reads zeros there.
        if v.flags & vma::VM_WIPEONFORK != 0 {
            continue;
        }
        let Some(rss) = memory::copy_page_range(k, pgd, &v) else {
            pgtable::flush_tlb_mm(k);
            mmput(k, child);
            return Err(crate::errno::ENOMEM);
        };
        child.rss += rss;
    }
    pgtable::flush_tlb_mm(k);
    Ok(child)
}

/// `switch_mm`: makes `next` the current address space (CR3 reload, a full flush
/// of non-global translations) and returns the previous one.
pub fn switch_mm(k: &mut Kernel, next: MmStruct) -> MmStruct {
    let prev = std::mem::replace(&mut k.task.mm, next);
    k.cpu.mmu.set_cr3(k.task.mm.pgd);
    prev
}

/// The CR3 load of `switch_mm` in a context switch ([`crate::sched::switch_to`]),
/// which has already made the next task current: its page directory goes into CR3,
/// a full flush of the non-global TLB entries (linux24.md §5.6).
pub fn activate_mm(k: &mut Kernel) {
    k.cpu.mmu.set_cr3(k.task.mm.pgd);
}

/// `exit_mm` of a process that exits while others go on: its address space is torn
/// down (`exit_mmap`) and its page directory freed. CR3 is pointed at
/// `swapper_pg_dir` (kernel half only) until the next context switch loads another
/// task's, as 2.4 runs an exiting task on borrowed page tables.
pub fn exit_mm(k: &mut Kernel) {
    if k.task.mm.pgd == 0 {
        return;
    }
    exit_mmap(k);
    let pgd = std::mem::take(&mut k.task.mm).pgd;
    k.cpu.mmu.set_cr3(k.frames.swapper_pg_dir);
    k.frames.put(pgd >> 12, k.cpu.mmu.phys_mut());
}

/// `mmput` of the last user: tears down an address space that is not the current one
/// (`exit_mmap`) and frees its page directory.
pub fn mmput(k: &mut Kernel, mm: MmStruct) {
    let current = switch_mm(k, mm);
    exit_mmap(k);
    let dead = switch_mm(k, current);
    k.frames.put(dead.pgd >> 12, k.cpu.mmu.phys_mut());
}
