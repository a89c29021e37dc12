//! Anonymous memory and the address-space syscalls: linux24.md §8 scenarios 5, 17 and
//! 18, plus mremap, madvise, MAP_FIXED, rlimits and out-of-memory.

mod mm_util;

use growsdown_kernel::errno::{EBADF, EINVAL, ENOMEM};
use growsdown_kernel::mm::mmap::*;
use growsdown_kernel::signal::{SEGV_ACCERR, SEGV_MAPERR, SIGKILL};
use growsdown_kernel::task::RLIMIT_AS;
use growsdown_kernel::trace::{FaultResult, Step};
use mm_util::*;

const RW: u32 = PROT_READ | PROT_WRITE;
const ANON: u32 = MAP_PRIVATE | MAP_ANONYMOUS;

fn mmap(m: &mut Machine, addr: u32, len: u32, prot: u32, flags: u32) -> Result<u32, i32> {
    m.syscall(sys_mmap2, &[addr, len, prot, flags, u32::MAX, 0])
}

fn munmap(m: &mut Machine, addr: u32, len: u32) -> Result<u32, i32> {
    m.syscall(sys_munmap, &[addr, len])
}

fn vmas(m: &Machine) -> Vec<(u32, u32, u32)> {
    m.k.task.mm.mmap.iter().map(|v| (v.start, v.end, v.flags)).collect()
}

#[test]
fn scenario_5_zero_page_then_cow_on_anonymous_mmap() {
    let mut m = machine();
    let total_vm = m.k.task.mm.total_vm;
    let p = mmap(&mut m, 0, 8192, RW, ANON).unwrap();
    assert_eq!(p, 0x4000_0000);
    assert_eq!(m.k.task.mm.total_vm, total_vm + 2);
    assert_eq!(m.pte(p), 0, "no pages at mmap time");

    let (min, maj, rss) = m.counters();
    assert_eq!(m.load(p), Stop::Done);
    assert_eq!(m.ev.last().error_code, 4);
    assert_eq!(m.eax(), 0);
    assert_eq!(m.pte(p) & 0xfff, 0x025);
    assert_eq!(m.pte(p) >> 12, m.k.frames.zero_page);
    assert_eq!(m.counters(), (min + 1, maj, rss));

    assert_eq!(m.store(p, 42), Stop::Done);
    let ev = m.ev.last();
    assert_eq!(ev.error_code, 7);
    assert_eq!(
        ev.path[ev.path.len() - 1],
        Step::DoWpPage { copied: true, from_zero_page: true, frame: m.pte(p) & !0xfff }
    );
    assert_eq!(m.pte(p) & 0xfff, 0x067);
    assert_eq!(m.counters(), (min + 2, maj, rss + 1));
    assert_eq!(m.k.task.stats.cow_copies, 1);
    // The COW invalidated the read-only translation: the store landed in the copy.
    assert_eq!(m.load(p), Stop::Done);
    assert_eq!(m.eax(), 42);

    // Second page written first: one minor fault, code 6.
    assert_eq!(m.store(p + 4096, 1), Stop::Done);
    assert_eq!(m.ev.last().error_code, 6);
    assert_eq!(m.counters(), (min + 3, maj, rss + 2));
    // The first anonymous fault in 0x40000000's 4 MiB needed a page table.
    let first = m.ev.since(0).into_iter().find(|e| e.cr2 == p).unwrap();
    assert!(first.path.iter().any(|s| matches!(s, Step::PteAlloc { .. })));
}

#[test]
fn scenario_17_mprotect_round_trip() {
    let mut m = machine();
    let p = mmap(&mut m, 0, 4096, RW, ANON).unwrap();
    assert_eq!(m.store(p, 9), Stop::Done);
    assert_eq!(m.pte(p) & 0xfff, 0x067);
    let flushes = m.k.cpu.mmu.tlb().flushes;

    assert_eq!(m.syscall(sys_mprotect, &[p, 4096, PROT_READ]), Ok(0));
    assert_eq!(m.pte(p) & 0xfff, 0x065, "D and A kept, RW gone");
    assert!(m.k.cpu.mmu.tlb().flushes > flushes, "full TLB flush");
    assert_eq!(m.store(p, 10), Stop::Fault(FaultResult::SigSegv { si_code: SEGV_ACCERR }));
    assert_eq!(m.ev.last().error_code, 7);
    m.take_signal();

    assert_eq!(m.syscall(sys_mprotect, &[p, 4096, RW]), Ok(0));
    assert_eq!(m.pte(p) & 0xfff, 0x065, "PAGE_COPY: still not writable");
    let (min, maj, rss) = m.counters();
    assert_eq!(m.store(p, 11), Stop::Done);
    let ev = m.ev.last();
    assert_eq!(ev.error_code, 7);
    assert!(matches!(ev.path.last(), Some(Step::DoWpPage { copied: false, .. })), "reuse");
    assert_eq!(m.counters(), (min + 1, maj, rss));
    assert_eq!(m.k.task.stats.cow_reuses, 1);
    assert_eq!(m.k.task.stats.cow_copies, 0);
    assert_eq!(m.peek(p), 11);
}

#[test]
fn mprotect_splits_checks_and_merges() {
    let mut m = machine();
    let p = mmap(&mut m, 0, 3 * 4096, RW, ANON).unwrap();
    let n = m.k.task.mm.map_count();
    assert_eq!(m.syscall(sys_mprotect, &[p + 4096, 4096, PROT_READ]), Ok(0));
    assert_eq!(m.k.task.mm.map_count(), n + 2);
    assert_eq!(m.vma(p + 4096).map(|v| (v.0, v.1, v.2)), Some((p + 4096, p + 8192, 0x71)));
    // Back to RW: the three pieces merge again.
    assert_eq!(m.syscall(sys_mprotect, &[p + 4096, 4096, RW]), Ok(0));
    assert_eq!(m.k.task.mm.map_count(), n);
    assert_eq!(m.vma(p).map(|v| (v.0, v.1)), Some((p, p + 3 * 4096)));
    // Errors.
    assert_eq!(m.syscall(sys_mprotect, &[p + 1, 4096, PROT_READ]), Err(EINVAL));
    assert_eq!(m.syscall(sys_mprotect, &[p, 4096, 0x8]), Err(EINVAL));
    assert_eq!(m.syscall(sys_mprotect, &[0x3000_0000, 4096, PROT_READ]), Err(ENOMEM));
    assert_eq!(m.syscall(sys_mprotect, &[p, 4 * 4096, PROT_READ]), Err(ENOMEM), "hole above");
    assert_eq!(m.syscall(sys_mprotect, &[p, 0, PROT_READ]), Ok(0));
    // The text VMA may become writable (MAYWRITE), a read-only shared file may not
    // (tested with files); PROT_EXEC on the stack is fine.
    assert_eq!(m.syscall(sys_mprotect, &[0xBFFF_F000, 4096, PROT_READ]), Ok(0));
}

#[test]
fn scenario_18_mmap_placement_merging_and_munmap() {
    let mut m = machine();
    let n = m.k.task.mm.map_count();
    assert_eq!(mmap(&mut m, 0, 8192, RW, ANON), Ok(0x4000_0000));
    assert_eq!(mmap(&mut m, 0, 8192, RW, ANON), Ok(0x4000_2000));
    assert_eq!(m.k.task.mm.map_count(), n + 1, "merged");
    assert_eq!(m.vma(0x4000_2000).map(|v| (v.0, v.1, v.2)), Some((0x4000_0000, 0x4000_4000, 0x73)));
    assert_eq!(mmap(&mut m, 0, 4096, PROT_READ, ANON), Ok(0x4000_4000));
    assert_eq!(m.k.task.mm.map_count(), n + 2, "flags differ: separate");

    assert_eq!(m.store(0x4000_1000, 5), Stop::Done);
    let rss = m.k.task.mm.rss;
    assert_eq!(munmap(&mut m, 0x4000_1000, 4096), Ok(0));
    assert_eq!(m.k.task.mm.map_count(), n + 3, "split");
    assert_eq!(m.k.task.mm.rss, rss - 1);
    let v: Vec<_> = vmas(&m).into_iter().filter(|v| v.0 >= 0x4000_0000 && v.0 < 0x5000_0000).collect();
    assert_eq!(
        v,
        vec![
            (0x4000_0000, 0x4000_1000, 0x73),
            (0x4000_2000, 0x4000_4000, 0x73),
            (0x4000_4000, 0x4000_5000, 0x71)
        ]
    );
    assert_eq!(m.load(0x4000_1000), Stop::Fault(FaultResult::SigSegv { si_code: SEGV_MAPERR }));
    m.take_signal();

    assert_eq!(munmap(&mut m, 0x4000_1001, 4096), Err(EINVAL));
    assert_eq!(munmap(&mut m, 0x5000_0000, 4096), Ok(0));
    assert_eq!(munmap(&mut m, 0x5000_0000, 0), Err(EINVAL));
    assert_eq!(munmap(&mut m, 0xC000_0000, 4096), Err(EINVAL));

    // A free hint is rounded up; MAP_FIXED needs alignment.
    assert_eq!(mmap(&mut m, 0x12345, 4096, RW, ANON), Ok(0x13000));
    assert_eq!(mmap(&mut m, 0x12345, 4096, RW, ANON | MAP_FIXED), Err(EINVAL));
    // The hole at 0x40001000 is reused by the next search.
    assert_eq!(mmap(&mut m, 0, 4096, PROT_READ | PROT_EXEC, ANON), Ok(0x4000_1000));
    assert_eq!(m.k.task.mm.vm_pages(), m.k.task.mm.total_vm);
}

#[test]
fn mmap_argument_checks_and_map_fixed_replacement() {
    let mut m = machine();
    // Today's errno (2.4 returned the address for len 0 and EINVAL for a length
    // that wraps when page-aligned).
    assert_eq!(mmap(&mut m, 0x1000, 0, RW, ANON), Err(EINVAL), "len 0");
    assert_eq!(mmap(&mut m, 0, 4096, RW, MAP_ANONYMOUS), Err(EINVAL), "no map type");
    assert_eq!(mmap(&mut m, 0, 4096, RW, MAP_PRIVATE), Err(EBADF), "fd -1");
    assert_eq!(mmap(&mut m, 0, 0xFFFF_F001, RW, ANON), Err(ENOMEM));
    assert_eq!(mmap(&mut m, 0xBFFF_F000, 0x2000, RW, ANON | MAP_FIXED), Err(ENOMEM));

    let p = mmap(&mut m, 0, 4 * 4096, RW, ANON).unwrap();
    assert_eq!(m.store(p + 4096, 3), Stop::Done);
    let total_vm = m.k.task.mm.total_vm;
    // MAP_FIXED over the middle replaces it (and drops the page).
    assert_eq!(mmap(&mut m, p + 4096, 4096, PROT_READ, ANON | MAP_FIXED), Ok(p + 4096));
    assert_eq!(m.k.task.mm.total_vm, total_vm);
    assert_eq!(m.load(p + 4096), Stop::Done);
    assert_eq!(m.eax(), 0);
    assert_eq!(mmap(&mut m, p, 4096, RW, ANON | MAP_FIXED_NOREPLACE), Err(libc::EEXIST));

    // old_mmap takes its arguments from user memory.
    let args = [0u32, 4096, RW, ANON, u32::MAX, 0];
    let bytes: Vec<u8> = args.iter().flat_map(|w| w.to_le_bytes()).collect();
    assert_eq!(m.k.copy_to_user(p, &bytes), Ok(()));
    let q = m.syscall(sys_old_mmap, &[p]).unwrap();
    assert!(m.vma(q).is_some());
    let bad = [0u32, 4096, RW, ANON, u32::MAX, 0x10];
    let bytes: Vec<u8> = bad.iter().flat_map(|w| w.to_le_bytes()).collect();
    assert_eq!(m.k.copy_to_user(p, &bytes), Ok(()));
    assert_eq!(m.syscall(sys_old_mmap, &[p]), Err(EINVAL));
    assert_eq!(m.syscall(sys_old_mmap, &[0x10]), Err(growsdown_kernel::errno::EFAULT));
}

#[test]
fn rlimit_as_limits_mmap_and_stack_growth() {
    let mut m = machine();
    let total = u64::from(m.k.task.mm.total_vm) * 4096;
    m.k.task.rlim[RLIMIT_AS].cur = total + 2 * 4096;
    assert!(mmap(&mut m, 0, 8192, RW, ANON).is_ok());
    assert_eq!(mmap(&mut m, 0, 4096, RW, ANON), Err(ENOMEM));
    assert_eq!(m.run("push_eax", 0xBFFF_F000), Stop::Fault(FaultResult::SigSegv { si_code: SEGV_MAPERR }));
}

#[test]
fn shared_anonymous_mapping_is_shmem() {
    let mut m = machine();
    let a = mmap(&mut m, 0, 4096, RW, MAP_SHARED | MAP_ANONYMOUS).unwrap();
    let b = mmap(&mut m, 0, 4096, RW, MAP_SHARED | MAP_ANONYMOUS).unwrap();
    assert_eq!(b, a + 4096);
    assert_eq!(m.vma(a).map(|v| (v.1, v.2)), Some((a + 4096, 0xfb)), "never merged");
    assert!(m.k.task.mm.maps().contains("40000000-40001000 rw-s 00000000 00:00 0"));
    // Faults go through shmem's nopage: major, and the PTE is PAGE_SHARED (writable
    // at once, even on a read fault), never the zero page.
    let (min, maj, rss) = m.counters();
    assert_eq!(m.load(b), Stop::Done);
    assert_eq!(m.eax(), 0);
    assert_eq!(m.ev.last().result, FaultResult::Major);
    assert_eq!(m.pte(b) & 0xfff, 0x027);
    assert_ne!(m.pte(b) >> 12, m.k.frames.zero_page);
    let n = m.ev.len();
    assert_eq!(m.store(b, 8), Stop::Done);
    assert_eq!(m.ev.len(), n, "no write fault");
    assert_eq!(m.counters(), (min, maj + 1, rss + 1));
    // MADV_DONTNEED drops the PTE but the object keeps the data.
    assert_eq!(m.syscall(sys_madvise, &[b, 4096, MADV_DONTNEED]), Ok(0));
    assert_eq!(m.pte(b), 0);
    assert_eq!(m.load(b), Stop::Done);
    assert_eq!(m.eax(), 8);
    // munmap of the last VMA frees the object's page.
    let in_use = m.k.frames.in_use();
    assert_eq!(m.syscall(sys_munmap, &[b, 4096]), Ok(0));
    assert_eq!(m.k.frames.in_use(), in_use - 1);
}

#[test]
fn mremap_shrink_grow_in_place_and_move() {
    let mut m = machine();
    let p = mmap(&mut m, 0, 2 * 4096, RW, ANON).unwrap();
    assert_eq!(m.store(p, 0xAA), Stop::Done);
    assert_eq!(m.store(p + 4096, 0xBB), Stop::Done);
    // Shrink.
    assert_eq!(m.syscall(sys_mremap, &[p, 8192, 4096, 0, 0]), Ok(p));
    assert_eq!(m.vma(p).map(|v| v.1), Some(p + 4096));
    // Grow in place (nothing above).
    assert_eq!(m.syscall(sys_mremap, &[p, 4096, 3 * 4096, 0, 0]), Ok(p));
    assert_eq!(m.vma(p).map(|v| v.1), Some(p + 3 * 4096));
    assert_eq!(m.load(p + 4096), Stop::Done);
    assert_eq!(m.eax(), 0, "the shrunk page was dropped");
    // Block the space above, then grow: ENOMEM without MAYMOVE, a move with it.
    let blocker = mmap(&mut m, p + 3 * 4096, 4096, PROT_READ, ANON | MAP_FIXED).unwrap();
    assert_eq!(blocker, p + 3 * 4096);
    assert_eq!(m.syscall(sys_mremap, &[p, 3 * 4096, 8 * 4096, 0, 0]), Err(ENOMEM));
    let (min, maj, rss) = m.counters();
    let frame = m.pte(p) >> 12;
    let q = m.syscall(sys_mremap, &[p, 3 * 4096, 8 * 4096, MREMAP_MAYMOVE, 0]).unwrap();
    assert_ne!(q, p);
    assert!(m.vma(p).is_none());
    assert_eq!(m.pte(q) >> 12, frame, "the page moved, not copied");
    assert_eq!(m.counters(), (min, maj, rss));
    assert_eq!(m.load(q), Stop::Done);
    assert_eq!(m.eax(), 0xAA);
    assert_eq!(m.vma(q).map(|v| v.1), Some(q + 8 * 4096));
    assert_eq!(m.k.task.mm.vm_pages(), m.k.task.mm.total_vm);
    // MREMAP_FIXED.
    let r = m.syscall(sys_mremap, &[q, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, 0x5000_0000]).unwrap();
    assert_eq!(r, 0x5000_0000);
    assert_eq!(m.load(r), Stop::Done);
    assert_eq!(m.eax(), 0xAA);
    // Errors.
    assert_eq!(m.syscall(sys_mremap, &[0x6000_0000, 4096, 8192, 0, 0]), Err(libc::EFAULT));
    assert_eq!(m.syscall(sys_mremap, &[r + 1, 4096, 8192, 0, 0]), Err(EINVAL));
    assert_eq!(m.syscall(sys_mremap, &[r, 4096, 8192, MREMAP_FIXED, 0]), Err(EINVAL));
    assert_eq!(m.k.task.mm.vm_pages(), m.k.task.mm.total_vm);
}

#[test]
fn madvise_dontneed_drops_private_pages() {
    let mut m = machine();
    let p = mmap(&mut m, 0, 2 * 4096, RW, ANON).unwrap();
    assert_eq!(m.store(p, 1), Stop::Done);
    assert_eq!(m.store(p + 4096, 2), Stop::Done);
    let rss = m.k.task.mm.rss;
    assert_eq!(m.syscall(sys_madvise, &[p, 8192, MADV_DONTNEED]), Ok(0));
    assert_eq!(m.k.task.mm.rss, rss - 2);
    assert_eq!(m.load(p), Stop::Done);
    assert_eq!(m.eax(), 0);
    assert_eq!(m.syscall(sys_madvise, &[p, 8192, 0]), Ok(0));
    assert_eq!(m.syscall(sys_madvise, &[p, 8192, 7]), Err(EINVAL));
    assert_eq!(m.syscall(sys_madvise, &[p + 1, 8192, 0]), Err(EINVAL));
    assert_eq!(m.syscall(sys_madvise, &[p, 0x10000, 0]), Err(ENOMEM), "hole");
}

#[test]
fn out_of_memory_kills_a_user_fault_and_fails_a_kernel_one() {
    let mut m = machine();
    let p = mmap(&mut m, 0, 4 * 4096, RW, ANON).unwrap();
    assert_eq!(m.store(p, 1), Stop::Done); // page table allocated
    let in_use = m.k.frames.in_use();
    m.k.frames.limit = Some(in_use);
    let before = m.counters();
    assert_eq!(m.store(p + 4096, 1), Stop::Fault(FaultResult::Oom));
    assert_eq!(m.ev.last().path.last(), Some(&Step::OutOfMemory));
    assert_eq!(m.take_signal().map(|s| s.signo), Some(SIGKILL));
    assert_eq!(m.counters(), before);
    // Kernel mode: the copy fails, no signal.
    assert_eq!(m.k.copy_to_user(p + 8192, &[1]), Err(0));
    assert!(m.k.task.sig.pending.is_empty());
    // Reading still works: the zero page needs no memory.
    assert_eq!(m.load(p + 3 * 4096), Stop::Done);
}

/// `Kernel::step` (difftest's lockstep step) resolves every fault an instruction
/// takes: a REP MOVSD over 128 fresh pages faults on each source (zero page) and
/// destination page, 256 resolved faults in one instruction, which retires once.
/// (It used to give up after 64 faults and report the instruction stuck.)
#[test]
fn one_step_of_rep_movsd_resolves_a_fault_per_page() {
    use growsdown_cpu::{ECX, EDI, ESI};
    use growsdown_kernel::Stepped;
    let mut m = machine();
    let len = 128 * 4096;
    let src = mmap(&mut m, 0, len, RW, ANON).unwrap();
    let dst = mmap(&mut m, 0, len, RW, ANON).unwrap();
    let (min0, _, _) = m.counters();
    m.k.cpu.regs[ESI] = src;
    m.k.cpu.regs[EDI] = dst;
    m.k.cpu.regs[ECX] = len / 4;
    m.k.cpu.eip = snippet("rep_movsd");
    assert_eq!(m.k.step(), Stepped::Retired);
    assert_eq!((m.k.cpu.regs[ECX], m.k.cpu.regs[ESI], m.k.cpu.regs[EDI]), (0, src + len, dst + len));
    assert_eq!(m.k.cpu.eip, snippet("rep_movsd") + 2);
    let (min1, _, _) = m.counters();
    assert_eq!(min1 - min0, 256, "one minor fault per source and destination page");
}
