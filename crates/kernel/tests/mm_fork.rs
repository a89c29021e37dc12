//! fork's address-space copy: linux24.md §8 scenario 12 (COW after fork) and shared
//! memory across fork, driven through `dup_mmap` / `switch_mm` / `mmput`.

mod mm_util;

use growsdown_kernel::mm::mmap::*;
use growsdown_kernel::mm::{dup_mmap, mmput, switch_mm, MmStruct};
use growsdown_kernel::trace::Step;
use mm_util::*;

/// Makes `mm` current and gives the task fresh fault counters (a child after fork);
/// returns the previous mm and counters.
fn become_(m: &mut Machine, mm: MmStruct, counters: (u64, u64)) -> (MmStruct, (u64, u64)) {
    let old = (m.k.task.min_flt, m.k.task.maj_flt);
    (m.k.task.min_flt, m.k.task.maj_flt) = counters;
    (switch_mm(&mut m.k, mm), old)
}

#[test]
fn scenario_12_cow_after_fork() {
    let mut m = machine();
    let p = m
        .syscall(sys_mmap2, &[0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, u32::MAX, 0]);
    let p = p.unwrap();
    let (x, y, z) = (p, p + 4096, p + 8192);
    assert_eq!(m.store(x, 0x11), Stop::Done); // X: written, 0x067, count 1
    assert_eq!(m.load(y), Stop::Done); // Y: ZERO_PAGE
    let xf = m.pte(x) >> 12;
    assert_eq!(m.pte(x) & 0xfff, 0x067);
    let (parent_rss, parent_total) = (m.k.task.mm.rss, m.k.task.mm.total_vm);
    let flushes = m.k.cpu.mmu.tlb().flushes;

    let child = dup_mmap(&mut m.k).unwrap();
    assert!(m.k.cpu.mmu.tlb().flushes > flushes, "parent TLB flushed");
    assert_eq!(m.pte(x) & 0xfff, 0x065, "parent write-protected");
    assert_eq!(m.k.frames.count(xf), 2);
    assert_eq!(m.pte(y) & 0xfff, 0x025);
    assert_eq!(m.pte(z), 0);
    assert_eq!((m.k.task.mm.rss, m.k.task.mm.total_vm), (parent_rss, parent_total));
    assert_eq!(child.total_vm, parent_total);
    assert_eq!(child.rss, parent_rss, "every present non-reserved page is now shared");

    // Look at the child's PTEs.
    let (parent, parent_counters) = become_(&mut m, child, (0, 0));
    assert_eq!(m.pte(x), (xf << 12) | 0x045, "child copy: RW, A cleared");
    assert_eq!(m.pte(y) >> 12, m.k.frames.zero_page);
    assert_eq!(m.pte(z), 0);
    let (child, _) = become_(&mut m, parent, parent_counters);

    // Parent writes X: count 2 → copy; minor + 1, rss unchanged.
    let (min, maj, rss) = m.counters();
    assert_eq!(m.store(x, 0x22), Stop::Done);
    let ev = m.ev.last();
    assert_eq!(ev.error_code, 7);
    assert!(matches!(ev.path.last(), Some(Step::DoWpPage { copied: true, from_zero_page: false, .. })));
    assert_eq!(m.counters(), (min + 1, maj, rss));
    assert_eq!(m.k.frames.count(xf), 1);

    // The child: counters start at 0.
    let (parent, parent_counters) = become_(&mut m, child, (0, 0));
    let child_rss = m.k.task.mm.rss;
    // Writes X: count 1 → reuse in place, no copy.
    assert_eq!(m.store(x, 0x33), Stop::Done);
    assert!(matches!(m.ev.last().path.last(), Some(Step::DoWpPage { copied: false, .. })));
    assert_eq!(m.pte(x) >> 12, xf);
    assert_eq!(m.counters(), (1, 0, child_rss));
    // Writes Y: copy from the zero page, rss + 1.
    assert_eq!(m.store(y, 0x44), Stop::Done);
    assert!(matches!(
        m.ev.last().path.last(),
        Some(Step::DoWpPage { copied: true, from_zero_page: true, .. })
    ));
    assert_eq!(m.counters(), (2, 0, child_rss + 1));
    // Reads Z: ZERO_PAGE.
    assert_eq!(m.load(z), Stop::Done);
    assert_eq!(m.eax(), 0);
    assert_eq!(m.counters(), (3, 0, child_rss + 1));
    assert_eq!(m.peek(x), 0x33);
    let (child, _) = become_(&mut m, parent, parent_counters);
    assert_eq!(m.peek(x), 0x22, "the parent kept its own copy");
    assert_eq!(m.peek(y), 0);

    // The child exits: everything it held is freed.
    let before_fork = {
        let in_use = m.k.frames.in_use();
        mmput(&mut m.k, child);
        (in_use, m.k.frames.in_use())
    };
    assert!(before_fork.1 < before_fork.0);
    assert_eq!(m.peek(x), 0x22);
}

#[test]
fn scenario_12_child_exits_first_parent_reuses() {
    let mut m = machine();
    let p =
        m.syscall(sys_mmap2, &[0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, u32::MAX, 0]);
    let p = p.unwrap();
    assert_eq!(m.store(p, 1), Stop::Done);
    let child = dup_mmap(&mut m.k).unwrap();
    mmput(&mut m.k, child);
    let (min, _, rss) = m.counters();
    assert_eq!(m.store(p, 2), Stop::Done);
    assert!(matches!(m.ev.last().path.last(), Some(Step::DoWpPage { copied: false, .. })));
    assert_eq!((m.counters().0, m.counters().2), (min + 1, rss));
}

#[test]
fn shared_anonymous_memory_is_shared_across_fork() {
    let mut m = machine();
    let s = m.syscall(sys_mmap2, &[0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, u32::MAX, 0]);
    let s = s.unwrap();
    assert_eq!(m.store(s, 5), Stop::Done);
    let child = dup_mmap(&mut m.k).unwrap();
    assert_eq!(m.pte(s) & 0xfff, 0x067, "shared: stays writable");
    let (parent, pc) = become_(&mut m, child, (0, 0));
    assert_eq!(m.store(s, 6), Stop::Done);
    let (child, _) = become_(&mut m, parent, pc);
    assert_eq!(m.peek(s), 6, "the parent sees the child's write");
    let before = m.k.frames.in_use();
    mmput(&mut m.k, child);
    // The child's page directory and its 4 page tables (text/data, vDSO, shmem,
    // stack granules) go; the shared page and the vDSO page stay with the parent.
    assert_eq!(m.k.frames.in_use(), before - 5);
    assert_eq!(m.peek(s), 6);
}
