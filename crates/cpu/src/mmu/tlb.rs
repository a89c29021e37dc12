//! Translation lookaside buffer.
//!
//! Direct-mapped, 4096 sets. Each entry keeps one tag per kind of access (user read,
//! user write, supervisor read, supervisor write), so a hit is one load and one compare
//! (docs/prior-art.md, "Performance anchors"), and the physical address is one add of
//! the entry's addend to the linear address. A tag is filled only when the
//! walk that created the entry allowed that kind of access, and a write tag only once
//! the Dirty bit is set in the PTE, so the first write through a clean translation takes
//! the slow path and sets D (SDM Vol. 3A §4.8).
//!
//! Invariant relied on by `Mmu::write`: no entry holds a write tag for a frame that
//! holds decoded code. `insert` withholds write tags from code frames and
//! `Mmu::mark_code_frame` revokes them when a frame becomes one, so a write that hits a
//! write tag needs no self-modifying-code check; every other write takes the slow path,
//! which does the check.
//!
//! Entries are not re-checked against the page tables: like the hardware, a stale entry
//! is used until INVLPG or a CR3 load removes it (SDM Vol. 3A §4.10.4). A lookup that
//! misses because the entry lacks the needed permission re-walks the tables, which is
//! what real processors do before reporting a fault.

pub const TLB_SETS: usize = 4096;
const INVALID: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum AccessKind {
    UserRead = 0,
    UserWrite = 1,
    SupRead = 2,
    SupWrite = 3,
}

impl AccessKind {
    #[inline]
    pub fn new(user: bool, write: bool) -> Self {
        match (user, write) {
            (true, false) => Self::UserRead,
            (true, true) => Self::UserWrite,
            (false, false) => Self::SupRead,
            (false, true) => Self::SupWrite,
        }
    }
    pub fn is_user(self) -> bool {
        matches!(self, Self::UserRead | Self::UserWrite)
    }
    pub fn is_write(self) -> bool {
        matches!(self, Self::UserWrite | Self::SupWrite)
    }
}

/// 32 bytes, so the set index scales by a shift and an entry never straddles two
/// host cache lines.
#[derive(Clone, Copy)]
#[repr(C, align(32))]
struct Entry {
    tags: [u32; 4],
    /// `frame_base - (vpn << 12)`, wrapping: the linear address plus this is the
    /// physical address, for any byte of the page.
    addend: u32,
    /// Physical address of the page (4 KiB granule, even inside a 4 MiB page).
    frame_base: u32,
    global: bool,
    /// A 4 KiB piece of a 4 MiB page's translation.
    large: bool,
    /// The set is in [`Tlb::used`]. Kept when the entry is emptied by INVLPG or a
    /// fault, so that a set is listed at most once.
    listed: bool,
}

const EMPTY: Entry =
    Entry { tags: [INVALID; 4], addend: 0, frame_base: 0, global: false, large: false, listed: false };

impl Entry {
    /// No translation any more; still listed if it was (see [`Tlb::used`]).
    #[inline]
    fn clear(&mut self) {
        *self = Entry { listed: self.listed, ..EMPTY };
    }
}

/// One bit per 4 MiB region of the linear address space.
const REGION_WORDS: usize = 1024 / 64;

pub struct Tlb {
    /// A fixed-size array rather than a slice, so the set index (masked to
    /// `TLB_SETS - 1`) needs no bounds check on the hit path.
    entries: Box<[Entry; TLB_SETS]>,
    /// The sets filled since the last flush, each once (`Entry::listed`): a flush
    /// or a scan visits these instead of all 4096 sets (128 KiB). A guest that maps
    /// and unmaps in a loop flushes at every `munmap` (2.4's `flush_tlb_mm`), and
    /// every context switch loads CR3; scanning the whole array each time cost
    /// faultbench 9% of its run.
    used: Box<[u16; TLB_SETS]>,
    used_len: usize,
    /// Regions that may hold pieces of a 4 MiB page, so INVLPG scans only those.
    large_regions: [u64; REGION_WORDS],
    /// Accesses served by an entry (counted by `Mmu`'s hit paths: `translate`,
    /// `read`, `write`, `probe`).
    pub hits: u64,
    pub misses: u64,
    pub flushes: u64,
    /// Invalidations asked for from outside the MMU (INVLPG, a CR3 load, a flush):
    /// the kernel changed a translation, which 2.4 always follows with
    /// `flush_tlb_page` or `flush_tlb_mm`. The executor's block links and jump cache
    /// outlive a kernel entry only while this stays the same (`Cpu::run`). The
    /// invalidation a page fault makes by itself (`forget_faulting_page`) is not
    /// counted: a fault changes no translation, and the kernel's handling of it
    /// flushes wherever it changes a present one (`establish_pte`).
    pub remaps: u64,
}

impl Default for Tlb {
    fn default() -> Self {
        Self::new()
    }
}

/// Permissions a completed walk grants, combined over PDE and PTE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    pub user_read: bool,
    pub user_write: bool,
    pub sup_write: bool,
    pub global: bool,
}

impl Tlb {
    pub fn new() -> Self {
        Self {
            entries: Box::new([EMPTY; TLB_SETS]),
            used: Box::new([0; TLB_SETS]),
            used_len: 0,
            large_regions: [0; REGION_WORDS],
            hits: 0,
            misses: 0,
            flushes: 0,
            remaps: 0,
        }
    }

    #[inline(always)]
    fn set(vpn: u32) -> usize {
        vpn as usize & (TLB_SETS - 1)
    }

    /// Physical page base for `lin` if a usable translation is cached.
    #[inline(always)]
    pub fn lookup(&self, lin: u32, kind: AccessKind) -> Option<u32> {
        self.lookup_phys(lin, kind).map(|p| p & !0xfff)
    }

    /// Physical address of the byte at `lin` if a usable translation is cached: index,
    /// compare, add.
    #[inline(always)]
    pub fn lookup_phys(&self, lin: u32, kind: AccessKind) -> Option<u32> {
        let vpn = lin >> 12;
        let e = &self.entries[Self::set(vpn)];
        if e.tags[kind as usize] == vpn {
            Some(lin.wrapping_add(e.addend))
        } else {
            None
        }
    }

    /// Physical address of `lin` if a usable translation is cached and all `size`
    /// bytes from `lin` lie in its page: the tag is compared with the page of the
    /// access's *last* byte, so one compare also rejects an access that crosses into
    /// the next page (that page's tag lives in the next set, never in this one).
    #[inline(always)]
    pub fn lookup_span(&self, lin: u32, size: u32, kind: AccessKind) -> Option<u32> {
        let e = &self.entries[Self::set(lin >> 12)];
        if e.tags[kind as usize] == lin.wrapping_add(size - 1) >> 12 {
            Some(lin.wrapping_add(e.addend))
        } else {
            None
        }
    }

    /// Records a translation. `dirty` says whether the PTE's D bit is now set, which
    /// is required for a write tag; `code_frame` that the frame holds decoded code,
    /// which forbids one (see the module note); `large` that it comes from a 4 MiB page.
    ///
    /// Crate-private so that nothing outside the MMU can cache a write tag for a code
    /// frame.
    pub(crate) fn insert(
        &mut self,
        lin: u32,
        frame_base: u32,
        g: Grant,
        dirty: bool,
        code_frame: bool,
        large: bool,
    ) {
        let vpn = lin >> 12;
        let set = Self::set(vpn);
        let e = &mut self.entries[set];
        if !e.listed {
            e.listed = true;
            // At most TLB_SETS sets are listed at once, each once.
            self.used[self.used_len] = set as u16;
            self.used_len += 1;
        }
        // Writes to frames holding decoded code must reach the slow path, which tells
        // the block cache; such entries get no write tags.
        let w_ok = dirty && !code_frame;
        e.tags = [
            if g.user_read { vpn } else { INVALID },
            if g.user_write && w_ok { vpn } else { INVALID },
            vpn,
            if g.sup_write && w_ok { vpn } else { INVALID },
        ];
        e.addend = frame_base.wrapping_sub(vpn << 12);
        e.frame_base = frame_base;
        e.global = g.global;
        e.large = large;
        if large {
            let r = (lin >> 22) as usize;
            self.large_regions[r / 64] |= 1 << (r % 64);
        }
    }

    /// INVLPG: drop the entry for this linear page (global or not;
    /// SDM Vol. 2 INVLPG).
    ///
    /// Fix: a 4 MiB page is cached here as one entry per 4 KiB piece, and SDM Vol. 3A
    /// §4.10.2.3 requires that "INVLPG and page faults provide the same assurances that
    /// they provide when a single TLB entry is used: they invalidate all TLB entries
    /// corresponding to the translation specified by the paging structures". So every
    /// cached piece of a 4 MiB page containing `lin` goes too, not only `lin`'s own.
    pub fn invalidate_page(&mut self, lin: u32) {
        self.remaps += 1;
        self.forget_faulting_page(lin);
    }

    /// [`Tlb::invalidate_page`] for a page fault at `lin` (SDM Vol. 3A §4.10.4.1),
    /// without counting a remap: the fault changed no translation.
    pub(crate) fn forget_faulting_page(&mut self, lin: u32) {
        let vpn = lin >> 12;
        let e = &mut self.entries[Self::set(vpn)];
        if e.tags.contains(&vpn) {
            e.clear();
        }
        let r = (lin >> 22) as usize;
        if self.large_regions[r / 64] & (1 << (r % 64)) != 0 {
            self.large_regions[r / 64] &= !(1 << (r % 64));
            let first = (r as u32) << 10;
            for vpn in first..first + 1024 {
                let e = &mut self.entries[Self::set(vpn)];
                if e.large && e.tags[AccessKind::SupRead as usize] == vpn {
                    e.clear();
                }
            }
        }
    }

    /// MOV to CR3: drop every non-global entry (SDM Vol. 3A §4.10.4.1).
    pub fn flush_non_global(&mut self) {
        self.flushes += 1;
        self.remaps += 1;
        // Only listed sets can hold an entry; the global ones stay listed.
        let mut kept = 0;
        for i in 0..self.used_len {
            let set = self.used[i];
            let e = &mut self.entries[usize::from(set)];
            if e.global {
                self.used[kept] = set;
                kept += 1;
            } else {
                *e = EMPTY;
            }
        }
        self.used_len = kept;
    }

    /// Everything, including global entries (CR4.PGE toggle, CR0.PG change).
    pub fn flush_all(&mut self) {
        self.flushes += 1;
        self.remaps += 1;
        for &set in &self.used[..self.used_len] {
            self.entries[usize::from(set)] = EMPTY;
        }
        self.used_len = 0;
        self.large_regions = [0; REGION_WORDS];
    }

    /// A frame just became a code frame: remove write tags that point at it, so the
    /// next write to it goes through the slow path.
    pub fn revoke_writes_to_frame(&mut self, frame_base: u32) {
        for &set in &self.used[..self.used_len] {
            let e = &mut self.entries[usize::from(set)];
            if e.frame_base == frame_base {
                e.tags[AccessKind::UserWrite as usize] = INVALID;
                e.tags[AccessKind::SupWrite as usize] = INVALID;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RW: Grant = Grant { user_read: true, user_write: true, sup_write: true, global: false };
    const GLOBAL: Grant = Grant { global: true, ..RW };

    fn filled(t: &Tlb) -> usize {
        t.entries.iter().filter(|e| e.tags[AccessKind::SupRead as usize] != INVALID).count()
    }

    /// The list of used sets is what flushes and scans rely on: a set is listed once
    /// however often it is filled, emptied (INVLPG, a fault) and filled again, and a
    /// flush leaves no entry behind that it did not list.
    #[test]
    fn flushes_reach_every_entry_through_the_used_list() {
        let mut t = Tlb::new();
        // Every set, twice over (the second round evicts the first), some global.
        for vpn in 0..2 * TLB_SETS as u32 {
            let g = if vpn % 7 == 0 { GLOBAL } else { RW };
            t.insert(vpn << 12, 0x10_0000 + (vpn << 12), g, true, false, false);
        }
        assert_eq!(t.used_len, TLB_SETS);
        for vpn in 0..64u32 {
            let lin = (TLB_SETS as u32 + vpn) << 12;
            t.forget_faulting_page(lin);
            assert_eq!(t.lookup(lin, AccessKind::UserRead), None);
            t.insert(lin, 0x20_0000, RW, true, false, false);
        }
        assert_eq!(t.used_len, TLB_SETS, "a set emptied and filled again is listed once");

        // The write tags for the frame of vpn 4196 (set 100) go; other frames keep theirs.
        let frame = 0x10_0000 + (4196 << 12);
        t.revoke_writes_to_frame(frame);
        assert_eq!(t.lookup(4196 << 12, AccessKind::UserWrite), None);
        assert_eq!(t.lookup(4196 << 12, AccessKind::UserRead), Some(frame));
        assert_eq!(t.lookup(4198 << 12, AccessKind::UserWrite), Some(0x10_0000 + (4198 << 12)));

        t.flush_non_global();
        let globals =
            (TLB_SETS as u32..2 * TLB_SETS as u32).filter(|v| v % 7 == 0 && v - TLB_SETS as u32 >= 64);
        assert_eq!(filled(&t), globals.clone().count());
        assert_eq!(t.used_len, filled(&t), "exactly the global entries stay listed");
        for vpn in globals {
            assert_eq!(t.lookup(vpn << 12, AccessKind::SupRead), Some(0x10_0000 + (vpn << 12)));
        }

        t.insert(0x1234_5000, 0x30_0000, RW, true, false, false);
        t.flush_all();
        assert_eq!((filled(&t), t.used_len), (0, 0));
        assert!(t.entries.iter().all(|e| !e.listed));
        // Filled again from nothing, as after the first flush.
        t.insert(0x1234_5000, 0x30_0000, RW, true, false, false);
        assert_eq!((filled(&t), t.used_len), (1, 1));
    }
}
