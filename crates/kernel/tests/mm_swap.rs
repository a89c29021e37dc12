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
    swapping_mapped(ANON)
}

/// [`swapping`] with an area of mmap flags `flags` (private or shared anonymous).
fn swapping_mapped(flags: u32) -> (Machine, u32) {
    let mut m = machine_with(|k| {
        k.swap.info = Some(SwapInfo::open(None, Some(1 << 20)).expect("swap file"));
        k.frames.enable_lru();
    });
    let p = m.syscall(sys_mmap2, &[0, PAGES * 4096, RW, flags, u32::MAX, 0]).expect("mmap");
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

// ---------------------------------------------------------------------------------
// swapon / swapoff
// ---------------------------------------------------------------------------------

use growsdown_kernel::syscall::swapon::{sys_swapoff, sys_swapon};

const EPERM: i32 = 1;
const ENOENT: i32 = 2;
const EFAULT: i32 = 14;
const EBUSY: i32 = 16;
const ENOTDIR: i32 = 20;
const EINVAL: i32 = 22;
const ELOOP: i32 = 40;

/// A host file of `pages` pages for the guest to swapon, with `mkswap`'s version-1
/// header (`version`, `last_page`, "SWAPSPACE2") unless `sig` is false; removed on drop.
struct SwapFile(String);

impl SwapFile {
    fn new(tag: &str, pages: u32, version: u32, last_page: u32, sig: bool) -> Self {
        let p = std::env::temp_dir().join(format!("growsdown-mm-swapon-{}-{tag}", std::process::id()));
        let mut bytes = vec![0u8; pages as usize * 4096];
        bytes[1024..1028].copy_from_slice(&version.to_le_bytes());
        bytes[1028..1032].copy_from_slice(&last_page.to_le_bytes());
        if sig {
            bytes[4086..4096].copy_from_slice(b"SWAPSPACE2");
        }
        std::fs::write(&p, bytes).expect("swap file");
        Self(p.display().to_string())
    }
}

impl Drop for SwapFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Puts `s` NUL-terminated in guest memory at `at` and returns `at`.
fn put_str(m: &mut Machine, at: u32, s: &str) -> u32 {
    let mut b = s.as_bytes().to_vec();
    b.push(0);
    m.k.copy_to_user(at, &b).expect("guest string");
    at
}

/// A machine without a boot-time swap area, whose task has CAP_SYS_ADMIN (as the
/// root of a guest would), and a page for path strings.
fn admin() -> (Machine, u32) {
    let mut m = machine();
    m.k.task.cred.cap_effective = !0;
    let buf = mmap(&mut m, 4 * 4096);
    (m, buf)
}

#[test]
fn swapon_checks_in_todays_order() {
    let (mut m, buf) = admin();
    let good = SwapFile::new("good", 16, 1, 15, true);
    let g = put_str(&mut m, buf, &good.0);
    // Today's SYSCALL_DEFINE2(swapon): flags before the capability...
    m.k.task.cred.cap_effective = 0;
    assert_eq!(m.syscall(sys_swapon, &[0, 0x80000]), Err(EINVAL), "bad flags first");
    // ...the capability before the path.
    assert_eq!(m.syscall(sys_swapon, &[0, 0]), Err(EPERM));
    assert_eq!(m.syscall(sys_swapon, &[g, 0x8000 | 5]), Err(EPERM));
    m.k.task.cred.cap_effective = !0;
    // getname / file_open_name.
    assert_eq!(m.syscall(sys_swapon, &[0, 0]), Err(EFAULT));
    let missing = put_str(&mut m, buf + 3 * 4096, "/nonexistent-growsdown/swap");
    assert_eq!(m.syscall(sys_swapon, &[missing, 0]), Err(ENOENT));
    let notdir = put_str(&mut m, buf + 4096, &format!("{}/x", good.0));
    assert_eq!(m.syscall(sys_swapon, &[notdir, 0]), Err(ENOTDIR));
    let looped = std::env::temp_dir().join(format!("growsdown-mm-swapon-{}-loop", std::process::id()));
    let _ = std::fs::remove_file(&looped);
    std::os::unix::fs::symlink(&looped, &looped).expect("symlink");
    let l = put_str(&mut m, buf + 2 * 4096, looped.to_str().unwrap());
    assert_eq!(m.syscall(sys_swapon, &[l, 0]), Err(ELOOP));
    assert_eq!(m.syscall(sys_swapoff, &[l]), Err(ELOOP));
    let _ = std::fs::remove_file(&looped);
    // read_swap_header: the signature, the version, last_page.
    for (tag, f) in [
        ("nosig", SwapFile::new("nosig", 16, 1, 15, false)),
        ("v2", SwapFile::new("v2", 16, 2, 15, true)),
        ("empty", SwapFile::new("empty", 16, 1, 0, true)),
        ("small", SwapFile::new("small", 1, 1, 15, true)),
    ] {
        let p = put_str(&mut m, buf + 4096, &f.0);
        assert_eq!(m.syscall(sys_swapon, &[p, 0]), Err(EINVAL), "{tag}");
    }
    assert!(m.k.swap.info.is_none());
    // Every valid flag is taken.
    assert_eq!(m.syscall(sys_swapon, &[g, 0x7ffff]), Ok(0));
    let si = m.k.swap.info.as_ref().expect("the area");
    assert_eq!((si.pages, si.inuse_pages, si.path.as_str()), (15, 0, good.0.as_str()));
    // claim_swapfile: already a swap area.
    assert_eq!(m.syscall(sys_swapon, &[g, 0]), Err(EBUSY));
    // growsdown's one area: another valid file is EPERM (MAX_SWAPFILES' errno).
    let other = SwapFile::new("other", 8, 1, 7, true);
    let o = put_str(&mut m, buf + 4096, &other.0);
    assert_eq!(m.syscall(sys_swapon, &[o, 0]), Err(EPERM));
    // swapoff: capability, then the lookup, then "not a swap area".
    m.k.task.cred.cap_effective = 0;
    assert_eq!(m.syscall(sys_swapoff, &[0]), Err(EPERM));
    m.k.task.cred.cap_effective = !0;
    assert_eq!(m.syscall(sys_swapoff, &[0]), Err(EFAULT));
    assert_eq!(m.syscall(sys_swapoff, &[missing]), Err(ENOENT));
    assert_eq!(m.syscall(sys_swapoff, &[o]), Err(EINVAL));
    assert_eq!(m.syscall(sys_swapoff, &[g]), Ok(0));
    assert!(m.k.swap.info.is_none());
    assert_eq!(m.syscall(sys_swapoff, &[g]), Err(EINVAL), "no longer a swap area");
}

#[test]
fn the_header_bad_pages_are_never_used() {
    let (mut m, buf) = admin();
    let f = SwapFile::new("bad", 16, 1, 15, true);
    let mut bytes = std::fs::read(&f.0).unwrap();
    bytes[1032..1036].copy_from_slice(&2u32.to_le_bytes());
    bytes[1536..1540].copy_from_slice(&1u32.to_le_bytes());
    bytes[1540..1544].copy_from_slice(&7u32.to_le_bytes());
    std::fs::write(&f.0, &bytes).unwrap();
    let p = put_str(&mut m, buf, &f.0);
    assert_eq!(m.syscall(sys_swapon, &[p, 0]), Ok(0));
    assert_eq!(m.k.swap.info.as_ref().unwrap().pages, 13);
    let mut got = vec![];
    while let Some(e) = growsdown_kernel::mm::swap::get_swap_page(&mut m.k) {
        got.push(swp_offset(e));
    }
    assert_eq!(got, [2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15]);
    // A bad page past last_page: EINVAL.
    bytes[1540..1544].copy_from_slice(&16u32.to_le_bytes());
    let f2 = SwapFile::new("bad2", 16, 1, 15, true);
    std::fs::write(&f2.0, &bytes).unwrap();
    let mut m2 = admin();
    let p2 = put_str(&mut m2.0, m2.1, &f2.0);
    assert_eq!(m2.0.syscall(sys_swapon, &[p2, 0]), Err(EINVAL));
}

#[test]
fn swapoff_reads_every_page_back_in() {
    let (mut m, buf) = admin();
    let f = SwapFile::new("unuse", 256, 1, 255, true);
    let path = put_str(&mut m, buf, &f.0);
    assert_eq!(m.syscall(sys_swapon, &[path, 0]), Ok(0));
    let p = mmap(&mut m, PAGES * 4096);
    assert_eq!(m.load(p), Stop::Done);
    m.k.frames.limit = Some(m.k.frames.in_use() + ROOM);
    fill(&mut m, p);
    assert!(slots_in_use(&m) > 0, "pages went to the guest's area");
    // Room for every page again, then swapoff.
    m.k.frames.limit = None;
    assert_eq!(m.syscall(sys_swapoff, &[path]), Ok(0));
    assert!(m.k.swap.info.is_none());
    for i in 0..PAGES {
        assert!(!is_swap_pte(m.pte(p + i * 4096)), "page {i} is back");
    }
    let faults = m.ev.len();
    for i in 0..PAGES {
        assert_eq!(m.load(p + i * 4096), Stop::Done);
        assert_eq!(m.eax(), 0x1000 + i, "page {i}");
    }
    assert_eq!(m.ev.len(), faults, "no fault: every page was mapped by try_to_unuse");
}

#[test]
fn swapoff_without_room_is_enomem_and_the_area_stays() {
    let (mut m, buf) = admin();
    let f = SwapFile::new("enomem", 256, 1, 255, true);
    let path = put_str(&mut m, buf, &f.0);
    assert_eq!(m.syscall(sys_swapon, &[path, 0]), Ok(0));
    let p = mmap(&mut m, PAGES * 4096);
    assert_eq!(m.load(p), Stop::Done);
    m.k.frames.limit = Some(m.k.frames.in_use() + ROOM);
    fill(&mut m, p);
    let used = slots_in_use(&m);
    assert_eq!(m.syscall(sys_swapoff, &[path]), Err(12));
    let si = m.k.swap.info.as_ref().expect("the area is still there");
    assert!(si.writeok && si.inuse_pages > 0 && si.inuse_pages <= used);
    // Everything still reads back.
    for i in 0..PAGES {
        assert_eq!(m.load(p + i * 4096), Stop::Done);
        assert_eq!(m.eax(), 0x1000 + i, "page {i}");
    }
}

// ---------------------------------------------------------------------------------
// kswapd
// ---------------------------------------------------------------------------------

use growsdown_kernel::mm::frames::Watermarks;
use growsdown_kernel::trace::{FaultEvent, FaultObserver, ReclaimBy, ReclaimEvent};
use std::cell::RefCell;
use std::rc::Rc;

/// Frames the kswapd tests leave free at the start: more than `pages_high` (384 on
/// the tests' 64 MiB machine), so kswapd can reach it.
const KSWAPD_ROOM: u32 = 600;
/// Pages those tests touch: five times that room.
const KSWAPD_PAGES: u32 = 3000;

/// Every reclaim decision, in order.
#[derive(Default)]
struct Reclaims(Rc<RefCell<Vec<ReclaimEvent>>>);

impl FaultObserver for Reclaims {
    fn fault(&mut self, _ev: &FaultEvent, _cpu: &growsdown_cpu::Cpu) {}
    fn reclaim(&mut self, ev: &ReclaimEvent) {
        self.0.borrow_mut().push(*ev);
    }
}

/// A machine with a 16 MiB swap area, an anonymous area of `KSWAPD_PAGES` pages
/// whose page table exists, `KSWAPD_ROOM` frames free, and every reclaim decision
/// recorded.
fn kswapd_machine() -> (Machine, u32, Rc<RefCell<Vec<ReclaimEvent>>>) {
    let mut m = machine_with(|k| {
        k.swap.info = Some(SwapInfo::open(None, Some(16 << 20)).expect("swap file"));
        k.frames.enable_lru();
    });
    let p = mmap(&mut m, KSWAPD_PAGES * 4096);
    assert_eq!(m.load(p), Stop::Done); // the page table
    m.k.frames.limit = Some(m.k.frames.in_use() + KSWAPD_ROOM);
    let log = Rc::new(RefCell::new(Vec::new()));
    m.k.observer = Some(Box::new(Reclaims(log.clone())));
    (m, p, log)
}

/// Writes page `i` of the area (one new frame while it has never been written).
fn touch(m: &mut Machine, p: u32, i: u32) {
    assert_eq!(m.store(p + i * 4096, 0x5000 + i), Stop::Done, "page {i}");
}

#[test]
fn watermarks_are_free_area_init_cores() {
    // pages_min = realsize / 128, clamped to [20, 255]; low = 2 min, high = 3 min.
    assert_eq!(Watermarks::for_zone(4096), Watermarks { min: 32, low: 64, high: 96 }); // 16 MiB
    assert_eq!(Watermarks::for_zone(16384), Watermarks { min: 128, low: 256, high: 384 }); // 64 MiB
    assert_eq!(Watermarks::for_zone(1024), Watermarks { min: 20, low: 40, high: 60 });
    assert_eq!(Watermarks::for_zone(1 << 20), Watermarks { min: 255, low: 510, high: 765 });
    let m = machine();
    assert_eq!(m.k.frames.watermarks, Watermarks::for_zone(16384), "the machine's 64 MiB zone");
}

#[test]
fn without_swap_kswapd_is_never_woken() {
    let mut m = machine();
    let p = mmap(&mut m, KSWAPD_PAGES * 4096);
    assert_eq!(m.load(p), Stop::Done);
    m.k.frames.limit = Some(m.k.frames.in_use() + KSWAPD_ROOM);
    let mut i = 0;
    while m.store(p + i * 4096, i) == Stop::Done {
        i += 1;
    }
    assert_eq!(i, KSWAPD_ROOM, "every free frame was used, then an OOM kill");
    assert!(!m.k.swap.need_balance);
    assert_eq!(m.k.swap.stats, Default::default(), "nothing woken, scanned or counted");
}

#[test]
fn kswapd_wakes_at_pages_low_and_frees_up_to_pages_high_before_memory_runs_out() {
    let (mut m, p, log) = kswapd_machine();
    let w = m.k.frames.watermarks;
    // Down to pages_low nothing happens; the allocation that finds pages_low free
    // wakes kswapd and still gets its frame: no reclaim inline.
    let mut i = 0;
    while m.k.frames.nr_free() > w.low {
        assert!(!m.k.swap.need_balance);
        touch(&mut m, p, i);
        i += 1;
    }
    assert!(!m.k.swap.need_balance, "exactly pages_low free is not below it yet");
    touch(&mut m, p, i);
    i += 1;
    assert!(m.k.swap.need_balance, "woken");
    assert_eq!(m.k.frames.nr_free(), w.low - 1);
    assert_eq!(m.k.swap.stats.kswapd_wakeups, 1);
    assert_eq!((m.k.swap.stats.reclaims, m.k.swap.stats.pgscan), (0, 0), "kswapd has not run");
    // More allocations before the next schedule(): no second wakeup.
    for _ in 0..100 {
        touch(&mut m, p, i);
        i += 1;
    }
    assert_eq!(m.k.swap.stats.kswapd_wakeups, 1);
    assert!(log.borrow().is_empty());
    // The scheduler runs kswapd before it picks the next task.
    growsdown_kernel::sched::schedule(&mut m.k);
    assert!(!m.k.swap.need_balance, "kswapd sleeps again");
    assert!(m.k.frames.nr_free() > w.high, "free {} > pages_high {}", m.k.frames.nr_free(), w.high);
    let st = m.k.swap.stats;
    assert!(st.kswapd_freed >= u64::from(w.high + 1 - (w.low - 1 - 100)));
    assert_eq!(st.kswapd_freed, st.pgsteal, "every frame freed was kswapd's");
    assert_eq!(st.direct_reclaims, 0);
    assert!(st.pswpout > 0);
    let log = log.borrow();
    assert!(!log.is_empty());
    assert!(log.iter().all(|e| e.by == ReclaimBy::Kswapd), "every decision was kswapd's");
    drop(log);
    // Every page reads back what was written.
    for j in 0..i {
        assert_eq!(m.load(p + j * 4096), Stop::Done);
        assert_eq!(m.eax(), 0x5000 + j, "page {j}");
    }
}

/// Writes every page of the area, with a `schedule()` after every `every` pages
/// (none if 0), then reads every page back the same way.
fn steady(m: &mut Machine, p: u32, every: u32) {
    for i in 0..KSWAPD_PAGES {
        touch(m, p, i);
        if every != 0 && i % every == every - 1 {
            growsdown_kernel::sched::schedule(&mut m.k);
        }
    }
    for i in 0..KSWAPD_PAGES {
        assert_eq!(m.load(p + i * 4096), Stop::Done);
        assert_eq!(m.eax(), 0x5000 + i, "page {i}");
        if every != 0 && i % every == every - 1 {
            growsdown_kernel::sched::schedule(&mut m.k);
        }
    }
}

#[test]
fn a_slow_steady_allocation_never_reclaims_directly() {
    // 16 pages between two schedule() calls, each page at most 1 + readahead frames
    // when read back: far fewer than pages_low, so kswapd keeps up.
    let (mut m, p, log) = kswapd_machine();
    steady(&mut m, p, 16);
    let st = m.k.swap.stats;
    assert!(st.pswpout > 0 && st.pswpin > 0, "the area went to swap and came back: {st:?}");
    assert!(st.kswapd_wakeups > 1, "{st:?}");
    assert_eq!(st.direct_reclaims, 0, "{st:?}");
    assert_eq!(st.kswapd_freed, st.pgsteal);
    assert!(log.borrow().iter().all(|e| e.by == ReclaimBy::Kswapd));
    // The same work with no schedule() at all: kswapd is woken but never runs, and
    // the process reclaims for itself when nothing is left.
    let (mut m, p, log) = kswapd_machine();
    steady(&mut m, p, 0);
    let st = m.k.swap.stats;
    assert_eq!((st.kswapd_wakeups, st.kswapd_freed), (1, 0), "{st:?}");
    assert!(st.direct_reclaims > 0);
    let pid = m.k.task.tgid;
    assert!(log.borrow().iter().all(|e| e.by == ReclaimBy::Direct { pid }));
}

#[test]
fn kswapd_makes_the_same_decisions_in_the_same_run() {
    let run = || {
        let (mut m, p, log) = kswapd_machine();
        // 500 pages between two schedule() calls: more than kswapd leaves free, so
        // the process reclaims too.
        steady(&mut m, p, 500);
        let st = m.k.swap.stats;
        let log = log.borrow().clone();
        (st, log)
    };
    let (a, b) = (run(), run());
    assert!(a.0.kswapd_freed > 0 && a.0.direct_reclaims > 0, "both kinds of reclaim: {:?}", a.0);
    assert_eq!(a.0, b.0);
    assert_eq!(a.1.len(), b.1.len());
    assert!(a.1 == b.1, "the same reclaim records");
}

/// `guest-images/bin/swap-workset` run to its end as `growsdown run --mem 16M --swap
/// 128M` runs it, with a time slice of `slice` instructions and its output thrown
/// away: the swap counters and every reclaim decision. A real run: one process, so
/// `Kernel::run`'s loop leaves its one-process form while kswapd is woken, and
/// `schedule()` at the end of the slice runs it.
fn swap_workset(slice: u64) -> (growsdown_kernel::mm::swap::SwapStats, Vec<ReclaimEvent>) {
    use growsdown_kernel::{exec, files::OpenFile, Config, ExitStatus, Kernel};
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../guest-images/bin/swap-workset");
    let config = Config { mem_bytes: 16 << 20, swap_bytes: 128 << 20, slice, ..Config::default() };
    let mut k = Kernel::new(config).expect("boot");
    exec::load_elf_binary(&mut k, path, &[path.as_bytes().to_vec()], &[]).expect("exec");
    let null = std::fs::File::create("/dev/null").expect("/dev/null");
    // SAFETY: dup of a live fd.
    let fd = unsafe { libc::dup(std::os::fd::AsRawFd::as_raw_fd(&null)) };
    assert!(fd >= 0);
    k.task.files.install(1, OpenFile::new(fd));
    let log = Rc::new(RefCell::new(Vec::new()));
    k.observer = Some(Box::new(Reclaims(log.clone())));
    assert_eq!(k.run(), ExitStatus::Exited(0));
    let log = log.borrow().clone();
    (k.swap.stats, log)
}

#[test]
fn in_a_real_run_kswapd_does_all_the_reclaim_when_it_runs_often_enough() {
    // The default slice (2^20 instructions): swap-workset faults in a new page every
    // few hundred instructions, far more than pages_low (64 on 16 MiB) a slice, so
    // the process also reclaims for itself. Two runs decide the same.
    let (st, log) = swap_workset(1 << 20);
    assert!(st.kswapd_wakeups > 0 && st.kswapd_freed > 0 && st.direct_reclaims > 0, "{st:?}");
    assert!(log.iter().any(|e| e.by == ReclaimBy::Kswapd));
    assert!(log.iter().any(|e| matches!(e.by, ReclaimBy::Direct { pid: 1000 })));
    let (st2, log2) = swap_workset(1 << 20);
    assert_eq!(st, st2);
    assert!(log == log2, "the same reclaim records, by the same reclaimers");
    // A slice of 10000 instructions: kswapd runs before the process has used what
    // it freed, and the process never reclaims.
    let (st, log) = swap_workset(10_000);
    assert_eq!(st.direct_reclaims, 0, "{st:?}");
    assert_eq!(st.kswapd_freed, st.pgsteal, "{st:?}");
    assert!(st.pswpout > 0);
    assert!(log.iter().all(|e| e.by == ReclaimBy::Kswapd));
}

// Shared memory (shmem objects: shared anonymous mappings, SysV segments) goes to
// swap too: try_to_swap_out unmaps a shmem page, shrink_cache's shmem_writepage
// moves it to a slot once nothing maps it, shmem_getpage brings it back.

use growsdown_kernel::ipc::{
    sys_shmat, sys_shmctl, sys_shmdt, sys_shmget, IPC_CREAT, IPC_PRIVATE, IPC_RMID, SHM_LOCK, SHM_UNLOCK,
};
use growsdown_kernel::mm::vma::Backing;

const SHARED: u32 = MAP_SHARED | MAP_ANONYMOUS;

/// Slots held by swap entries in the current mm's page tables (anonymous pages of
/// the other VMAs: reclaim walks the whole address space).
fn pte_slots(m: &Machine) -> u32 {
    let vmas = m.k.task.mm.mmap.clone();
    vmas.iter()
        .map(|v| (v.start..v.end).step_by(4096).filter(|&a| is_swap_pte(m.pte(a))).count() as u32)
        .sum()
}

/// The pages in swap of the shmem object mapped at `addr`.
fn shmem_swapped(m: &Machine, addr: u32) -> usize {
    let v = m.k.task.mm.find_vma(addr).expect("vma");
    match &v.backing {
        Backing::Shmem { obj } => obj.nr_swapped(),
        _ => panic!("not a shmem mapping"),
    }
}

/// Reads every page back and checks it; returns how many faults went through
/// shmem_getpage (read from swap or found in the swap cache).
fn read_back(m: &mut Machine, p: u32) -> usize {
    let from = m.ev.len();
    for i in 0..PAGES {
        assert_eq!(m.load(p + i * 4096), Stop::Done);
        assert_eq!(m.eax(), 0x1000 + i, "page {i}");
    }
    m.ev.since(from).iter().filter(|e| e.path.iter().any(|s| matches!(s, Step::ShmemGetpage { .. }))).count()
}

/// A machine as [`swapping`] makes it, with a shared anonymous area instead.
fn swapping_shared() -> (Machine, u32) {
    swapping_mapped(SHARED)
}

#[test]
fn shared_anonymous_pages_go_to_swap_and_come_back() {
    let (mut m, p) = swapping_shared();
    fill(&mut m, p);
    let out = shmem_swapped(&m, p);
    assert!(out > 0, "shmem_writepage moved pages of the object to swap");
    assert_eq!(slots_in_use(&m), pte_slots(&m) + out as u32, "each swapped shmem page holds one slot");
    for i in 0..PAGES {
        assert!(!is_swap_pte(m.pte(p + i * 4096)), "a shmem PTE never holds a swap entry");
    }
    assert!(read_back(&mut m, p) > 0, "faults went through shmem_getpage");
    // Reading pushed other pages out; what is in swap is still one slot each.
    assert_eq!(slots_in_use(&m), pte_slots(&m) + shmem_swapped(&m, p) as u32);
    assert_eq!(m.syscall(sys_munmap, &[p, PAGES * 4096]), Ok(0));
    assert_eq!(slots_in_use(&m), pte_slots(&m), "munmap of the last user freed the object's slots");
    growsdown_kernel::mm::exit_mmap(&mut m.k);
    assert_eq!(slots_in_use(&m), 0, "exit freed every slot");
}

#[test]
fn shared_anonymous_slots_go_at_exit() {
    let (mut m, p) = swapping_shared();
    fill(&mut m, p);
    assert!(shmem_swapped(&m, p) > 0);
    growsdown_kernel::mm::exit_mmap(&mut m.k);
    assert_eq!(slots_in_use(&m), 0, "exit freed the object's slots with the rest");
}

/// A SysV segment of `PAGES` pages, attached: (id, address).
fn segment(m: &mut Machine) -> (u32, u32) {
    let id = m.syscall(sys_shmget, &[IPC_PRIVATE as u32, PAGES * 4096, IPC_CREAT | 0o600]).expect("shmget");
    let at = m.syscall(sys_shmat, &[id, 0, 0]).expect("shmat");
    (id, at)
}

#[test]
fn sysv_segment_pages_go_to_swap_and_ipc_rmid_frees_them() {
    let mut m = machine_with(|k| {
        k.swap.info = Some(SwapInfo::open(None, Some(1 << 20)).expect("swap file"));
        k.frames.enable_lru();
    });
    let (id, at) = segment(&mut m);
    assert_eq!(m.load(at), Stop::Done);
    m.k.frames.limit = Some(m.k.frames.in_use() + ROOM);
    fill(&mut m, at);
    assert!(shmem_swapped(&m, at) > 0, "the segment's pages went to swap");
    // Detached, the segment keeps its pages in swap; attached again they read back.
    assert_eq!(m.syscall(sys_shmdt, &[at]), Ok(0));
    assert!(slots_in_use(&m) > pte_slots(&m), "the unattached segment's slots stay");
    let at = m.syscall(sys_shmat, &[id, 0, 0]).expect("shmat again");
    assert!(read_back(&mut m, at) > 0, "faults went through shmem_getpage");
    assert_eq!(m.syscall(sys_shmdt, &[at]), Ok(0));
    assert_eq!(m.syscall(sys_shmctl, &[id, IPC_RMID, 0]), Ok(0));
    assert_eq!(slots_in_use(&m), pte_slots(&m), "IPC_RMID of the unattached segment freed its slots");
    // Removed while attached: the last detach (here exit) frees them.
    let (id, at) = segment(&mut m);
    fill(&mut m, at);
    assert!(shmem_swapped(&m, at) > 0);
    assert_eq!(m.syscall(sys_shmctl, &[id, IPC_RMID, 0]), Ok(0));
    assert!(slots_in_use(&m) > pte_slots(&m), "still attached: the slots stay");
    growsdown_kernel::mm::exit_mmap(&mut m.k);
    assert_eq!(slots_in_use(&m), 0, "exit freed every slot");
}

#[test]
fn madv_remove_frees_the_slots_of_the_range() {
    let (mut m, p) = swapping_shared();
    fill(&mut m, p);
    let before = shmem_swapped(&m, p);
    assert!(before > 0);
    assert_eq!(m.syscall(sys_madvise, &[p, PAGES * 4096, MADV_REMOVE]), Ok(0));
    assert_eq!(shmem_swapped(&m, p), 0);
    assert_eq!(slots_in_use(&m), pte_slots(&m), "the punched range's slots are free");
    assert_eq!(m.load(p + 4096), Stop::Done);
    assert_eq!(m.eax(), 0, "a punched page reads back as zeros");
}

#[test]
fn swapoff_brings_shmem_pages_back() {
    let (mut m, buf) = admin();
    let f = SwapFile::new("shmem", 256, 1, 255, true);
    let path = put_str(&mut m, buf, &f.0);
    assert_eq!(m.syscall(sys_swapon, &[path, 0]), Ok(0));
    let p = m.syscall(sys_mmap2, &[0, PAGES * 4096, RW, SHARED, u32::MAX, 0]).expect("mmap");
    assert_eq!(m.load(p), Stop::Done);
    let (id, at) = segment(&mut m);
    assert_eq!(m.load(at), Stop::Done);
    m.k.frames.limit = Some(m.k.frames.in_use() + ROOM);
    fill(&mut m, p);
    fill(&mut m, at);
    // The segment is left unattached: only the IPC namespace finds it.
    assert_eq!(m.syscall(sys_shmdt, &[at]), Ok(0));
    assert!(shmem_swapped(&m, p) > 0);
    m.k.frames.limit = None;
    assert_eq!(m.syscall(sys_swapoff, &[path]), Ok(0));
    assert!(m.k.swap.info.is_none());
    assert_eq!(shmem_swapped(&m, p), 0, "shmem_unuse took every page back into the mapping's object");
    let at = m.syscall(sys_shmat, &[id, 0, 0]).expect("shmat");
    assert_eq!(shmem_swapped(&m, at), 0, "and into the unattached segment's");
    assert_eq!(read_back(&mut m, p), 0);
    assert_eq!(read_back(&mut m, at), 0, "no page came from swap");
}

#[test]
fn a_locked_segment_stays_in_memory() {
    let (mut m, p) = swapping();
    m.k.frames.limit = None;
    let (id, at) = segment(&mut m);
    assert_eq!(m.syscall(sys_shmctl, &[id, SHM_LOCK, 0]), Ok(0));
    for i in 0..8 {
        assert_eq!(m.store(at + i * 4096, 0x1000 + i), Stop::Done);
    }
    m.k.frames.limit = Some(m.k.frames.in_use() + ROOM);
    fill(&mut m, p);
    assert!(m.k.swap.stats.pswpout > 0, "anonymous pages went to swap");
    assert_eq!(shmem_swapped(&m, at), 0, "shmem_writepage left the locked segment's pages alone");
    assert_eq!(m.syscall(sys_shmctl, &[id, SHM_UNLOCK, 0]), Ok(0));
    for i in 0..PAGES {
        assert_eq!(m.load(p + i * 4096), Stop::Done);
    }
    assert!(shmem_swapped(&m, at) > 0, "unlocked, its pages go to swap too");
}
