//! Physical frames: 2.4's `mem_map` (one `struct page` per frame) reduced to what the
//! fault path looks at — the reference count and the `PG_reserved` / page-cache flags.
//!
//! * `count` is `page_count()`: one reference per PTE mapping the frame, one for the
//!   page cache while the frame is in it, one for a page table or page directory.
//! * Reserved frames (frame 0, `swapper_pg_dir`, `empty_zero_page`) are never counted
//!   and never freed: 2.4's `free_page_and_swap_cache` and `zap_pte_range` skip
//!   `PageReserved` pages, and `do_wp_page` never reuses one (linux24.md §3.5).
//! * Allocation is `get_zeroed_page`: a frame comes back zero-filled. Running out is
//!   not a panic: [`FrameAllocator::alloc`] returns `None` and the fault path turns
//!   that into `handle_mm_fault` = -1, i.e. `out_of_memory` (linux24.md §1.8).
//!
//! Frames are handed out lowest-first from a cursor, and freed frames are reused
//! last-in first-out, so a run is deterministic for a given sequence of faults.

use growsdown_cpu::mmu::PhysMem;

/// `PG_reserved`: not refcounted, never freed, never reused by COW.
pub const PG_RESERVED: u8 = 1 << 0;
/// The frame holds a page of a file in the page cache (`PageCache` owns one reference).
pub const PG_CACHE: u8 = 1 << 1;
/// `PG_swap_cache`: the frame is in the swap cache ([`super::swap`] owns one reference).
pub const PG_SWAPCACHE: u8 = 1 << 2;
/// `PG_lru`: the frame is on the active or the inactive list.
pub const PG_LRU: u8 = 1 << 3;
/// `PG_active`: on the active list (else the inactive one, when `PG_lru`).
pub const PG_ACTIVE: u8 = 1 << 4;
/// `PG_referenced`: `mark_page_accessed` saw it once; a second time activates it.
pub const PG_REFERENCED: u8 = 1 << 5;
/// `PG_dirty`: the page differs from its copy in swap (set when a dirty PTE is
/// unmapped, cleared when `rw_swap_page` writes it).
pub const PG_DIRTY: u8 = 1 << 6;

/// `zone_balance_ratio`, `zone_balance_min`, `zone_balance_max` (2.4's
/// mm/page_alloc.c, the same for every zone): `pages_min` is the zone's size / 128,
/// at least 20 and at most 255 pages.
const ZONE_BALANCE_RATIO: u32 = 128;
const ZONE_BALANCE_MIN: u32 = 20;
const ZONE_BALANCE_MAX: u32 = 255;

/// A zone's watermarks in pages, as 2.4's `free_area_init_core` sets them: `min`
/// (`pages_min`), `low` = 2 × min (below it an allocation wakes `kswapd`), `high` =
/// 3 × min (`kswapd` reclaims until more than that is free).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Watermarks {
    pub min: u32,
    pub low: u32,
    pub high: u32,
}

impl Watermarks {
    /// For a zone of `realsize` pages (its size less its holes).
    pub fn for_zone(realsize: u32) -> Self {
        let min = (realsize / ZONE_BALANCE_RATIO).clamp(ZONE_BALANCE_MIN, ZONE_BALANCE_MAX);
        Self { min, low: min * 2, high: min * 3 }
    }
}

/// End of an LRU list (`list_head` pointing at the head).
const NIL: u32 = u32::MAX;

/// 2.4's `active_list` / `inactive_list` (mm/swap.c, 2.4.10+), threaded through the
/// frame table as indices so that adding a page on a fault allocates nothing. New
/// pages go on the head; `refill_inactive` and `shrink_cache` take from the tail.
#[derive(Clone, Copy)]
struct LruList {
    head: u32,
    tail: u32,
    len: u32,
}

impl Default for LruList {
    fn default() -> Self {
        Self { head: NIL, tail: NIL, len: 0 }
    }
}

pub struct FrameAllocator {
    /// Frames of guest physical memory.
    pub frames: u32,
    count: Vec<u32>,
    flags: Vec<u8>,
    /// Frames returned by `free`, reused before `next`.
    free_list: Vec<u32>,
    /// Every frame at or above this one has never been handed out.
    next: u32,
    /// Frames currently free (never used + freed).
    nr_free: u32,
    /// Optional cap on frames in use, so tests (and `--mem`-like knobs) can provoke
    /// out-of-memory without filling all of guest RAM.
    pub limit: Option<u32>,
    /// LRU links, one pair per frame (`page->lru`); empty (and the lists unused)
    /// until [`FrameAllocator::enable_lru`], so a machine without swap pays nothing.
    lru_next: Vec<u32>,
    lru_prev: Vec<u32>,
    active: LruList,
    inactive: LruList,
    /// The shared `empty_zero_page` frame (set by `mm::boot`).
    pub zero_page: u32,
    /// Physical address of `swapper_pg_dir`, the master page directory whose kernel
    /// half every process copies (set by `mm::boot`).
    pub swapper_pg_dir: u32,
    /// The watermarks of the one zone all frames are in (2.4's ZONE_NORMAL, which
    /// here also holds what 2.4 puts in ZONE_DMA): from the size of guest memory,
    /// not from `limit`, which only tests set.
    pub watermarks: Watermarks,
}

impl FrameAllocator {
    /// All of `phys` free except frame 0, which 2.4 keeps reserved (the BIOS data area
    /// page on a PC; here it also keeps physical address 0 from ever meaning a frame).
    pub fn new(phys: &mut PhysMem) -> Self {
        let frames = phys.frames();
        let mut a = Self {
            frames,
            count: vec![0; frames as usize],
            flags: vec![0; frames as usize],
            free_list: Vec::new(),
            lru_next: Vec::new(),
            lru_prev: Vec::new(),
            active: LruList::default(),
            inactive: LruList::default(),
            next: 1,
            nr_free: frames.saturating_sub(1),
            limit: None,
            zero_page: 0,
            swapper_pg_dir: 0,
            watermarks: Watermarks::for_zone(frames),
        };
        if let Some(f) = a.flags.first_mut() {
            *f = PG_RESERVED;
        }
        a
    }

    /// Frames currently handed out (including reserved boot frames).
    pub fn in_use(&self) -> u32 {
        self.frames - self.nr_free
    }

    /// Frames still free (`nr_free_pages`).
    pub fn nr_free(&self) -> u32 {
        match self.limit {
            Some(l) => self.nr_free.min(l.saturating_sub(self.in_use())),
            None => self.nr_free,
        }
    }

    /// `get_zeroed_page`: a zero-filled frame with count 1, or `None` when memory is
    /// exhausted. Zeroing goes through `PhysMem`, which also drops any decoded code
    /// that a previous user of the frame left in the block cache.
    pub fn alloc(&mut self, phys: &mut PhysMem) -> Option<u32> {
        if self.nr_free() == 0 {
            return None;
        }
        let frame = match self.free_list.pop() {
            Some(f) => f,
            None if self.next < self.frames => {
                self.next += 1;
                self.next - 1
            }
            None => return None,
        };
        self.nr_free -= 1;
        self.count[frame as usize] = 1;
        self.flags[frame as usize] = 0;
        phys.zero_frame(frame);
        Some(frame)
    }

    /// Allocates a frame and marks it reserved for good (boot-time structures).
    pub fn alloc_reserved(&mut self, phys: &mut PhysMem) -> Option<u32> {
        let f = self.alloc(phys)?;
        self.flags[f as usize] |= PG_RESERVED;
        Some(f)
    }

    /// A frame number that names a real frame (`VALID_PAGE`).
    pub fn valid(&self, frame: u32) -> bool {
        frame < self.frames
    }

    pub fn count(&self, frame: u32) -> u32 {
        self.count.get(frame as usize).copied().unwrap_or(0)
    }

    pub fn is_reserved(&self, frame: u32) -> bool {
        self.flags.get(frame as usize).is_none_or(|f| f & PG_RESERVED != 0)
    }

    pub fn in_page_cache(&self, frame: u32) -> bool {
        self.flags.get(frame as usize).is_some_and(|f| f & PG_CACHE != 0)
    }

    pub fn set_page_cache(&mut self, frame: u32, on: bool) {
        if let Some(f) = self.flags.get_mut(frame as usize) {
            if on {
                *f |= PG_CACHE;
            } else {
                *f &= !PG_CACHE;
            }
        }
    }

    /// `get_page`: one more reference. Reserved frames are not counted.
    pub fn get(&mut self, frame: u32) {
        if !self.is_reserved(frame) {
            self.count[frame as usize] += 1;
        }
    }

    /// `put_page` / `__free_page`: drops one reference and frees the frame when it was
    /// the last. Returns the count left (0 = freed). Reserved frames are untouched.
    ///
    /// A freed frame that held decoded instructions is written through `frame_mut` so
    /// `PhysMem` queues it and the executor drops those blocks before running again.
    pub fn put(&mut self, frame: u32, phys: &mut PhysMem) -> u32 {
        if self.is_reserved(frame) {
            return 1;
        }
        let c = &mut self.count[frame as usize];
        if *c == 0 {
            log::error!(target: "kernel::mm", "put_page on free frame {frame:#x}");
            return 0;
        }
        *c -= 1;
        if *c > 0 {
            return *c;
        }
        // `__free_pages_ok` wants the page off the LRU (`lru_cache_del` in
        // `page_cache_release`).
        self.lru_del(frame);
        self.flags[frame as usize] = 0;
        if phys.is_code(frame) {
            phys.frame_mut(frame);
        }
        self.free_list.push(frame);
        self.nr_free += 1;
        0
    }
}

impl FrameAllocator {
    pub fn flag(&self, frame: u32, bit: u8) -> bool {
        self.flags.get(frame as usize).is_some_and(|f| f & bit != 0)
    }

    pub fn set_flag(&mut self, frame: u32, bit: u8, on: bool) {
        if let Some(f) = self.flags.get_mut(frame as usize) {
            if on {
                *f |= bit;
            } else {
                *f &= !bit;
            }
        }
    }

    /// `PageTestandClearReferenced`.
    pub fn test_and_clear_referenced(&mut self, frame: u32) -> bool {
        let r = self.flag(frame, PG_REFERENCED);
        self.set_flag(frame, PG_REFERENCED, false);
        r
    }

    /// Pages on the active and on the inactive list (`nr_active_pages`,
    /// `nr_inactive_pages`).
    pub fn nr_active(&self) -> u32 {
        self.active.len
    }

    pub fn nr_inactive(&self) -> u32 {
        self.inactive.len
    }

    /// The oldest page of the active (`true`) or inactive list.
    pub fn lru_tail(&self, active: bool) -> Option<u32> {
        let t = if active { self.active.tail } else { self.inactive.tail };
        (t != NIL).then_some(t)
    }

    /// The page after `frame` towards the head of its list (`entry->prev` in 2.4's
    /// walk from the tail).
    pub fn lru_newer(&self, frame: u32) -> Option<u32> {
        let p = self.lru_prev[frame as usize];
        (p != NIL).then_some(p)
    }

    fn list(&mut self, active: bool) -> &mut LruList {
        if active {
            &mut self.active
        } else {
            &mut self.inactive
        }
    }

    fn link_head(&mut self, frame: u32, active: bool) {
        let f = frame as usize;
        let old = self.list(active).head;
        self.lru_prev[f] = NIL;
        self.lru_next[f] = old;
        if old != NIL {
            self.lru_prev[old as usize] = frame;
        }
        let l = self.list(active);
        l.head = frame;
        if l.tail == NIL {
            l.tail = frame;
        }
        l.len += 1;
        self.set_flag(frame, PG_LRU, true);
        self.set_flag(frame, PG_ACTIVE, active);
    }

    /// Takes `frame` off whichever list holds it (`lru_cache_del`); nothing if none.
    pub fn lru_del(&mut self, frame: u32) {
        if !self.flag(frame, PG_LRU) {
            return;
        }
        let active = self.flag(frame, PG_ACTIVE);
        let f = frame as usize;
        let (prev, next) = (self.lru_prev[f], self.lru_next[f]);
        if prev != NIL {
            self.lru_next[prev as usize] = next;
        }
        if next != NIL {
            self.lru_prev[next as usize] = prev;
        }
        let l = self.list(active);
        if l.head == frame {
            l.head = next;
        }
        if l.tail == frame {
            l.tail = prev;
        }
        l.len -= 1;
        self.lru_prev[f] = NIL;
        self.lru_next[f] = NIL;
        self.set_flag(frame, PG_LRU | PG_ACTIVE, false);
    }

    /// Keeps the active and inactive lists from now on (a swap area exists, so
    /// reclaim will scan them).
    pub fn enable_lru(&mut self) {
        self.lru_next = vec![NIL; self.frames as usize];
        self.lru_prev = vec![NIL; self.frames as usize];
    }

    /// `lru_cache_add`: a new user page goes on the head of the inactive list.
    pub fn lru_cache_add(&mut self, frame: u32) {
        if !self.lru_next.is_empty()
            && self.valid(frame) && !self.is_reserved(frame) && !self.flag(frame, PG_LRU) {
            self.link_head(frame, false);
        }
    }

    /// Moves `frame` to the head of the active (`true`) or inactive list
    /// (`activate_page`, `refill_inactive`'s `add_page_to_inactive_list`, or a
    /// rotation within one list).
    pub fn lru_move(&mut self, frame: u32, active: bool) {
        if self.flag(frame, PG_LRU) {
            self.lru_del(frame);
            self.link_head(frame, active);
        }
    }

    /// `mark_page_accessed` (mm/filemap.c, 2.4.10+): an inactive page referenced
    /// twice goes to the active list; otherwise it is marked referenced.
    pub fn mark_page_accessed(&mut self, frame: u32) {
        if !self.flag(frame, PG_ACTIVE) && self.flag(frame, PG_REFERENCED) {
            self.lru_move(frame, true);
            self.set_flag(frame, PG_REFERENCED, false);
        } else {
            self.set_flag(frame, PG_REFERENCED, true);
        }
    }
}
