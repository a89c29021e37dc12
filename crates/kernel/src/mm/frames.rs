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
    /// The shared `empty_zero_page` frame (set by `mm::boot`).
    pub zero_page: u32,
    /// Physical address of `swapper_pg_dir`, the master page directory whose kernel
    /// half every process copies (set by `mm::boot`).
    pub swapper_pg_dir: u32,
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
            next: 1,
            nr_free: frames.saturating_sub(1),
            limit: None,
            zero_page: 0,
            swapper_pg_dir: 0,
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
        self.flags[frame as usize] = 0;
        if phys.is_code(frame) {
            phys.frame_mut(frame);
        }
        self.free_list.push(frame);
        self.nr_free += 1;
        0
    }
}
