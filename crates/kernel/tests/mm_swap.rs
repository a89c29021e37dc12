//! Swap: the swap area, reclaim (`try_to_free_pages` → `swap_out` →
//! `try_to_swap_out`), `do_swap_page` and the swap cache, with a frame cap that makes
//! memory run out after a few pages.

mod mm_util;

use growsdown_kernel::mm::mmap::*;
use growsdown_kernel::mm::swap::{is_swap_pte, swp_entry, swp_offset, swp_type, SwapInfo};
use growsdown_kernel::trace::{FaultResult, Step};
use mm_util::*;

const RW: u32 = PROT_READ | PROT_WRITE;
const ANON: u32 = MAP_PRIVATE | MAP_ANONYMOUS;
/// Pages the tests touch: four times what the cap leaves them.
const PAGES: u32 = 64;
const ROOM: u32 = 16;

fn mmap(m: &mut Machine, len: u32) -> u32 {
    m.syscall(sys_mmap2, &[0, len, RW, ANON, u32::MAX, 0]).expect("mmap")
}

/// A machine with a 1 MiB swap area (255 slots), an anonymous area of `PAGES`
/// pages whose page table exists, and room for `ROOM` more frames.
fn swapping() -> (Machine, u32) {
    let mut m = machine_with(|k| {
        k.swap.info = Some(SwapInfo::open(None, Some(1 << 20)).expect("swap file"));
        k.frames.enable_lru();
    });
    let p = mmap(&mut m, PAGES * 4096);
    assert_eq!(m.load(p), Stop::Done); // the page table
    m.k.frames.limit = Some(m.k.frames.in_use() + ROOM);
    (m, p)
}

fn fill(m: &mut Machine, p: u32) {
    for i in 0..PAGES {
        assert_eq!(m.store(p + i * 4096, 0x1000 + i), Stop::Done, "page {i}");
    }
}

fn slots_in_use(m: &Machine) -> u32 {
    m.k.swap.info.as_ref().map_or(0, |si| si.inuse_pages)
}

#[test]
fn swap_entries_are_i386_2_4_encoding() {
    let e = swp_entry(0, 5);
    assert_eq!(e, 5 << 8);
    assert_eq!((swp_type(e), swp_offset(e)), (0, 5));
    assert!(is_swap_pte(e), "not present, not none");
    assert!(!is_swap_pte(0));
    assert!(!is_swap_pte(0x067), "present");
    assert!(!is_swap_pte(0x080), "PROT_NONE is present to Linux");
}

#[test]
fn a_working_set_four_times_memory_swaps_out_and_back_in() {
    let (mut m, p) = swapping();
    fill(&mut m, p);
    assert!(m.k.swap.stats.pswpout > 0, "pages were written to swap");
    let swapped: Vec<u32> = (0..PAGES).filter(|i| is_swap_pte(m.pte(p + i * 4096))).collect();
    assert!(!swapped.is_empty(), "some PTEs hold swap entries");
    // Every page reads back what was written, through do_swap_page for the
    // swapped ones.
    for i in 0..PAGES {
        assert_eq!(m.load(p + i * 4096), Stop::Done);
        assert_eq!(m.eax(), 0x1000 + i, "page {i}");
    }
    let first = swapped[0];
    let ev = m.ev.since(0).into_iter().rev().find(|e| e.cr2 == p + first * 4096).expect("refault");
    assert!(
        ev.path.iter().any(|s| matches!(s, Step::DoSwapPage { .. })),
        "the refault went through do_swap_page: {:?}",
        ev.path
    );
    assert!(matches!(ev.result, FaultResult::Minor | FaultResult::Major));
    assert!(m.k.swap.stats.pswpin > 0);
}

#[test]
fn munmap_gives_every_slot_back() {
    let (mut m, p) = swapping();
    fill(&mut m, p);
    assert!(slots_in_use(&m) > 0);
    assert_eq!(m.syscall(sys_munmap, &[p, PAGES * 4096]), Ok(0));
    // What is left belongs to the other VMAs (reclaim walks the whole address
    // space: the stack and data pages went out too).
    let elsewhere: u32 =
        m.k.task
            .mm
            .mmap
            .clone()
            .iter()
            .map(|v| (v.start..v.end).step_by(4096).filter(|&a| is_swap_pte(m.pte(a))).count() as u32)
            .sum();
    assert_eq!(slots_in_use(&m), elsewhere, "munmap freed the slots of the swapped pages");
    growsdown_kernel::mm::exit_mmap(&mut m.k);
    assert_eq!(slots_in_use(&m), 0, "exit freed every slot");
}

#[test]
fn the_same_run_makes_the_same_decisions() {
    let paths = || {
        let (mut m, p) = swapping();
        fill(&mut m, p);
        for i in (0..PAGES).rev() {
            assert_eq!(m.load(p + i * 4096), Stop::Done);
        }
        m.ev.since(0).into_iter().map(|e| (e.cr2, e.path, e.result)).collect::<Vec<_>>()
    };
    assert_eq!(paths(), paths());
}

#[test]
fn without_swap_running_out_is_still_an_oom_kill() {
    let mut m = machine();
    let p = mmap(&mut m, PAGES * 4096);
    assert_eq!(m.load(p), Stop::Done);
    m.k.frames.limit = Some(m.k.frames.in_use() + ROOM);
    let mut end = None;
    for i in 0..PAGES {
        match m.store(p + i * 4096, i) {
            Stop::Done => {}
            s => {
                end = Some((i, s));
                break;
            }
        }
    }
    assert_eq!(end, Some((ROOM, Stop::Fault(FaultResult::Oom))));
    assert_eq!(m.k.swap.stats.reclaims, 0, "no reclaim without a swap area");
}

#[test]
fn a_page_used_between_reclaims_stays_resident() {
    let (mut m, p) = swapping();
    let hot = p; // page 0
    for i in 1..PAGES {
        assert_eq!(m.store(p + i * 4096, i), Stop::Done);
        // Touching the hot page sets its Accessed bit again (the TLB entry was
        // flushed when reclaim cleared it).
        assert_eq!(m.load(hot), Stop::Done);
    }
    assert!(m.k.swap.stats.pswpout > 0);
    assert!(!is_swap_pte(m.pte(hot)), "the hot page was never swapped out");
    assert!(is_swap_pte(m.pte(p + 4096)), "a page touched once went out");
}
