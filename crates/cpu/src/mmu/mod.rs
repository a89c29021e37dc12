//! The paging unit: control registers, the page walk, the TLB and typed linear-memory
//! access with precise #PF.
//!
//! Every access returns `Result`; nothing is written until every page an access touches
//! has been translated with the needed rights, so a faulting instruction leaves no
//! trace in memory (docs/prior-art.md §7.1).

mod paging;
mod phys;
mod tlb;

pub use paging::{
    Mapping, Walked, PDE_PS, PF_PRESENT, PF_RSVD, PF_USER, PF_WRITE, PTE_A, PTE_D, PTE_G, PTE_P, PTE_PCD,
    PTE_PWT, PTE_RW, PTE_US,
};
pub use phys::{PhysMem, PAGE_SHIFT, PAGE_SIZE};
pub use tlb::{AccessKind, Grant, Tlb, TLB_SETS};

pub const CR0_PE: u32 = 1 << 0;
pub const CR0_MP: u32 = 1 << 1;
/// x87/MMX/SSE emulation: their instructions raise #UD (SDM Vol. 3A §2.5).
pub const CR0_EM: u32 = 1 << 2;
/// Task switched: the first x87/MMX/SSE instruction raises #NM.
pub const CR0_TS: u32 = 1 << 3;
/// Extension type: hardwired to 1 on every processor since the 486 (SDM Vol. 3A §2.5).
pub const CR0_ET: u32 = 1 << 4;
pub const CR0_NE: u32 = 1 << 5;
pub const CR0_WP: u32 = 1 << 16;
pub const CR0_AM: u32 = 1 << 18;
pub const CR0_PG: u32 = 1 << 31;
pub const CR4_PSE: u32 = 1 << 4;
pub const CR4_PGE: u32 = 1 << 7;
/// The OS saves SSE state with FXSAVE: without it, SSE instructions raise #UD.
pub const CR4_OSFXSR: u32 = 1 << 9;
/// The OS handles #XM: without it, an unmasked SSE exception raises #UD instead.
pub const CR4_OSXMMEXCPT: u32 = 1 << 10;

/// A page fault as the processor reports it: CR2 and the error code (bit 0 P, bit 1
/// W/R, bit 2 U/S; SDM Vol. 3A §4.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageFault {
    pub addr: u32,
    pub code: u32,
}

/// Fixed-size values that live in guest memory (little-endian).
pub trait Scalar: Copy {
    const SIZE: u32;
    fn load(phys: &PhysMem, at: u32) -> Self;
    fn store(self, phys: &mut PhysMem, at: u32);
    /// The value at `at`, with no bounds compare (the TLB-hit path).
    ///
    /// # Safety
    /// `at as usize + SIZE <= phys.size()`.
    unsafe fn load_hit(phys: &PhysMem, at: u32) -> Self;
    /// Stores without the code-frame check or a bounds compare (the TLB write-tag
    /// path).
    ///
    /// # Safety
    /// `at as usize + SIZE <= phys.size()`.
    unsafe fn store_hit(self, phys: &mut PhysMem, at: u32);
    /// Stores without the code-frame check if `at` lies wholly in RAM.
    fn store_checked(self, phys: &mut PhysMem, at: u32);
    fn from_le(bytes: &[u8]) -> Self;
    fn to_le(self, out: &mut [u8]);
}

macro_rules! scalar {
    ($t:ty, $load:ident, $store:ident) => {
        impl Scalar for $t {
            const SIZE: u32 = std::mem::size_of::<$t>() as u32;
            #[inline(always)]
            fn load(phys: &PhysMem, at: u32) -> Self {
                phys.$load(at)
            }
            #[inline(always)]
            fn store(self, phys: &mut PhysMem, at: u32) {
                phys.$store(at, self)
            }
            #[inline(always)]
            unsafe fn load_hit(phys: &PhysMem, at: u32) -> Self {
                // SAFETY: the caller's contract is `PhysMem::load_hit`'s.
                <$t>::from_le_bytes(unsafe { phys.load_hit(at) })
            }
            #[inline(always)]
            unsafe fn store_hit(self, phys: &mut PhysMem, at: u32) {
                // SAFETY: the caller's contract is `PhysMem::store_hit`'s.
                unsafe { phys.store_hit(at, self.to_le_bytes()) }
            }
            #[inline(always)]
            fn store_checked(self, phys: &mut PhysMem, at: u32) {
                phys.store_checked(at, &self.to_le_bytes())
            }
            fn from_le(b: &[u8]) -> Self {
                let mut a = [0u8; std::mem::size_of::<$t>()];
                a.copy_from_slice(&b[..std::mem::size_of::<$t>()]);
                <$t>::from_le_bytes(a)
            }
            fn to_le(self, out: &mut [u8]) {
                out[..std::mem::size_of::<$t>()].copy_from_slice(&self.to_le_bytes());
            }
        }
    };
}
scalar!(u8, read_u8, write_u8);
scalar!(u16, read_u16, write_u16);
scalar!(u32, read_u32, write_u32);

/// Invariant that lets a TLB hit skip the RAM bounds compare: every translation the
/// TLB holds names a frame that lies wholly in `phys` (`translate_slow` caches no
/// other), and `phys`'s size never changes (`PhysMem` is unsized, and both fields
/// are private to this module, so nothing can put another RAM or another TLB beside
/// them). A hit through [`Tlb::lookup_span`] for `N` bytes names bytes that lie
/// within the one page of the matched entry (the tag is the page of the last byte,
/// and an entry lives only in its own page's set), so `p + N` is within that frame.
/// The previous attempt typed the RAM as 4 GiB instead, which reserved that much
/// host address space per machine (docs/performance.md).
pub struct Mmu {
    phys: Box<PhysMem>,
    tlb: Tlb,
    cr0: u32,
    /// Written by the walker on every #PF; the kernel may also write it.
    pub cr2: u32,
    cr3: u32,
    cr4: u32,
    /// Page walks performed (TLB misses that reached the tables).
    pub walks: u64,
    /// Set while the executor runs decoded blocks: a user write that would change a
    /// frame holding decoded code fails, before anything is written, with
    /// [`STORE_INTO_CODE`] (see `exec.rs`), instead of going ahead.
    pub(crate) trap_code_stores: bool,
}

/// The `PageFault::code` of a user write refused because it would change decoded
/// code while [`Mmu::trap_code_stores`] is set. Not a hardware error code (those use
/// bits 0–4, SDM Vol. 3A §4.7); it never leaves the CPU crate: the executor reruns
/// the instruction alone with such writes let through.
pub(crate) const STORE_INTO_CODE: u32 = 0xffff;

/// The `PageFault::code` of a taken conditional branch in the middle of a block (a
/// side exit, `exec.rs`): not an exception either, and it never leaves the CPU crate.
/// The branch has retired and set `Cpu::next_eip` to its target.
pub(crate) const SIDE_EXIT: u32 = 0xfffe;

impl Mmu {
    pub fn new(ram_bytes: usize) -> Self {
        Self {
            phys: PhysMem::new(ram_bytes),
            tlb: Tlb::new(),
            cr0: CR0_PE | CR0_ET,
            cr2: 0,
            cr3: 0,
            cr4: 0,
            walks: 0,
            trap_code_stores: false,
        }
    }

    /// Guest physical memory.
    #[inline(always)]
    pub fn phys(&self) -> &PhysMem {
        &self.phys
    }

    /// Guest physical memory, writable (its size cannot change: `PhysMem` is unsized).
    #[inline(always)]
    pub fn phys_mut(&mut self) -> &mut PhysMem {
        &mut self.phys
    }

    /// The TLB, for its counters.
    pub fn tlb(&self) -> &Tlb {
        &self.tlb
    }

    /// Counts a TLB hit that a handler served itself (through [`Mmu::read_hit_bytes`]
    /// or [`Mmu::write_hit_bytes`]), once it commits.
    #[inline(always)]
    pub(crate) fn count_tlb_hit(&mut self) {
        self.tlb.hits += 1;
    }

    pub fn cr0(&self) -> u32 {
        self.cr0
    }
    pub fn cr3(&self) -> u32 {
        self.cr3
    }
    pub fn cr4(&self) -> u32 {
        self.cr4
    }

    /// Changing PG or WP changes every translation's meaning: flush everything.
    pub fn set_cr0(&mut self, v: u32) {
        if (v ^ self.cr0) & (CR0_PG | CR0_WP) != 0 {
            self.tlb.flush_all();
        }
        self.cr0 = v | CR0_ET;
    }

    /// MOV to CR3 flushes the non-global TLB entries (SDM Vol. 3A §4.10.4.1).
    pub fn set_cr3(&mut self, v: u32) {
        self.cr3 = v;
        self.tlb.flush_non_global();
    }

    pub fn set_cr4(&mut self, v: u32) {
        if (v ^ self.cr4) & (CR4_PSE | CR4_PGE) != 0 {
            self.tlb.flush_all();
        }
        self.cr4 = v;
    }

    pub fn invlpg(&mut self, lin: u32) {
        self.tlb.invalidate_page(lin);
    }

    #[inline(always)]
    pub fn paging(&self) -> bool {
        self.cr0 & CR0_PG != 0
    }

    /// Physical address for one byte at `lin`, through the TLB, walking on a miss.
    #[inline(always)]
    pub fn translate(&mut self, lin: u32, kind: AccessKind) -> Result<u32, PageFault> {
        if let Some(p) = self.tlb.lookup_phys(lin, kind) {
            self.tlb.hits += 1;
            return Ok(p);
        }
        self.translate_slow(lin, kind)
    }

    #[cold]
    fn translate_slow(&mut self, lin: u32, kind: AccessKind) -> Result<u32, PageFault> {
        if !self.paging() {
            return Ok(lin);
        }
        self.tlb.misses += 1;
        let w = match self.walk(lin, kind) {
            Ok(w) => w,
            Err(pf) => {
                // Fix: "a page-fault exception resulting from an attempt to use a linear
                // address will invalidate any TLB entries that are for a page number
                // corresponding to that linear address" (SDM Vol. 3A §4.10.4.1). Without
                // this, a stale entry that could not serve this access (e.g. a clean one
                // for a write) kept serving other accesses after the fault.
                self.tlb.forget_faulting_page(lin);
                return Err(pf);
            }
        };
        let code = self.phys.is_code(w.page_base >> PAGE_SHIFT);
        // Only frames in RAM are cached (the invariant on `Mmu`): a frame beyond it
        // is walked to at every access, and reads there give all-ones.
        if self.phys.contains(w.page_base, PAGE_SIZE) {
            self.tlb.insert(lin, w.page_base, w.grant, w.dirty, code, w.large);
        }
        // Every user write to a code frame comes here (the TLB holds no write tag for
        // one), and here is before anything is written.
        if code && kind == AccessKind::UserWrite && self.trap_code_stores {
            return Err(PageFault { addr: lin, code: STORE_INTO_CODE });
        }
        Ok(w.page_base | (lin & 0xfff))
    }

    /// Checks that `len` bytes at `lin` can be accessed as `kind`, translating (and
    /// setting A/D on) every page touched, in address order. The first page that
    /// refuses gives the fault, with CR2 at the first byte in that page.
    #[inline(always)]
    pub fn probe(&mut self, lin: u32, len: u32, kind: AccessKind) -> Result<(), PageFault> {
        // The common case (an operand inside one page whose translation is cached) stays
        // small enough to inline into every read-modify-write instruction.
        if len != 0 && len <= PAGE_SIZE - (lin & 0xfff) && self.tlb.lookup_phys(lin, kind).is_some() {
            self.tlb.hits += 1;
            return Ok(());
        }
        self.probe_slow(lin, len, kind)
    }

    #[cold]
    #[inline(never)]
    fn probe_slow(&mut self, lin: u32, len: u32, kind: AccessKind) -> Result<(), PageFault> {
        if len == 0 {
            return Ok(());
        }
        self.translate(lin, kind)?;
        let last = lin.wrapping_add(len - 1);
        let mut page = lin & !0xfff;
        while page != last & !0xfff {
            page = page.wrapping_add(PAGE_SIZE);
            self.translate(page, kind)?;
        }
        Ok(())
    }

    /// The hit path is: index, compare the tag with the page of the last byte, add the
    /// addend, load. The TLB caches only frames in RAM (the invariant on [`Mmu`]); a
    /// frame outside RAM is read the slow way, which gives all-ones.
    #[inline(always)]
    pub fn read<T: Scalar>(&mut self, lin: u32, user: bool) -> Result<T, PageFault> {
        let kind = AccessKind::new(user, false);
        if let Some(p) = self.tlb.lookup_span(lin, T::SIZE, kind) {
            self.tlb.hits += 1;
            // SAFETY: a hit for `T::SIZE` bytes lies in RAM (the invariant on `Mmu`).
            return Ok(unsafe { T::load_hit(&self.phys, p) });
        }
        if lin & 0xfff <= PAGE_SIZE - T::SIZE {
            return self.read_slow(lin, kind);
        }
        self.read_split(lin, kind)
    }

    /// The TLB-hit part of [`Mmu::read`] alone: the value if a user read of it needs
    /// no walk and no page split, else `None` (then call `read`). Lets a handler keep
    /// its miss path out of line, so the hit path saves no registers.
    #[inline(always)]
    pub fn read_hit<T: Scalar>(&mut self, lin: u32) -> Option<T> {
        let p = self.tlb.lookup_span(lin, T::SIZE, AccessKind::UserRead)?;
        self.tlb.hits += 1;
        // SAFETY: a hit for `T::SIZE` bytes lies in RAM (the invariant on `Mmu`).
        Some(unsafe { T::load_hit(&self.phys, p) })
    }

    /// `N` bytes at `lin` if a user read of them hits the TLB within one page, without
    /// counting the hit (for a handler that counts once it commits: the x87's fast
    /// lane, whose m64 and m80 are no [`Scalar`]).
    #[inline(always)]
    pub fn read_hit_bytes<const N: usize>(&self, lin: u32) -> Option<[u8; N]> {
        let p = self.tlb.lookup_span(lin, N as u32, AccessKind::UserRead)?;
        // SAFETY: a hit for `N` bytes lies in RAM (the invariant on `Mmu`).
        Some(unsafe { self.phys.load_hit::<N>(p) })
    }

    /// Stores `N` bytes at `lin` if a write tag covers them within one page (no
    /// code-frame check, as in [`Mmu::write_hit`]), without counting the hit; false,
    /// having done nothing, otherwise.
    #[inline(always)]
    pub fn write_hit_bytes<const N: usize>(&mut self, lin: u32, v: [u8; N]) -> bool {
        let Some(p) = self.tlb.lookup_span(lin, N as u32, AccessKind::UserWrite) else { return false };
        // SAFETY: a hit for `N` bytes lies in RAM (the invariant on `Mmu`).
        unsafe { self.phys.store_hit::<N>(p, v) };
        true
    }

    /// The write-tag-hit part of [`Mmu::write`] alone: stores and returns true, or
    /// returns false having done nothing (then call `write`).
    #[inline(always)]
    pub fn write_hit<T: Scalar>(&mut self, lin: u32, v: T) -> bool {
        let Some(p) = self.tlb.lookup_span(lin, T::SIZE, AccessKind::UserWrite) else { return false };
        // A write tag is never granted for a code frame, so the store needs no
        // self-modifying-code check.
        // SAFETY: a hit for `T::SIZE` bytes lies in RAM (the invariant on `Mmu`).
        unsafe { v.store_hit(&mut self.phys, p) };
        self.tlb.hits += 1;
        true
    }

    /// For a read-modify-write by user code: the physical address and current value
    /// if a write tag covers it (a user-writable page is user-readable, SDM Vol. 3A
    /// §4.6), so the read and the write-back ([`Mmu::store_hit`]) need one lookup and
    /// cannot fault; else `None` (then probe, read and write the ordinary way).
    #[inline(always)]
    pub fn rmw_hit<T: Scalar>(&mut self, lin: u32) -> Option<(u32, T)> {
        let p = self.tlb.lookup_span(lin, T::SIZE, AccessKind::UserWrite)?;
        self.tlb.hits += 1;
        // SAFETY: a hit for `T::SIZE` bytes lies in RAM (the invariant on `Mmu`).
        Some((p, unsafe { T::load_hit(&self.phys, p) }))
    }

    /// The write-back of an [`Mmu::rmw_hit`]: `p` came from a write tag, so no
    /// code-frame check is needed (write tags are never granted for code). `p` is
    /// the caller's, so it keeps its bounds compare: a `p` from elsewhere writes
    /// nothing outside RAM.
    #[inline(always)]
    pub fn store_hit<T: Scalar>(&mut self, p: u32, v: T) {
        v.store_checked(&mut self.phys, p);
    }

    #[cold]
    #[inline(never)]
    fn read_slow<T: Scalar>(&mut self, lin: u32, kind: AccessKind) -> Result<T, PageFault> {
        let p = self.translate(lin, kind)?;
        Ok(T::load(&self.phys, p))
    }

    #[cold]
    fn read_split<T: Scalar>(&mut self, lin: u32, kind: AccessKind) -> Result<T, PageFault> {
        let mut buf = [0u8; 8];
        let n = T::SIZE as usize;
        self.read_into(lin, &mut buf[..n], kind)?;
        Ok(T::from_le(&buf))
    }

    /// A write that hits a write tag stores straight into RAM with no code-frame check:
    /// the TLB never holds a write tag for a frame with decoded code (`tlb.rs`), so
    /// such a write cannot be self-modifying. A tag miss, or a frame outside RAM
    /// (where the write is dropped), takes the slow path, which does the check.
    #[inline(always)]
    pub fn write<T: Scalar>(&mut self, lin: u32, v: T, user: bool) -> Result<(), PageFault> {
        let kind = AccessKind::new(user, true);
        if let Some(p) = self.tlb.lookup_span(lin, T::SIZE, kind) {
            // SAFETY: a hit for `T::SIZE` bytes lies in RAM (the invariant on `Mmu`).
            unsafe { v.store_hit(&mut self.phys, p) };
            self.tlb.hits += 1;
            return Ok(());
        }
        if lin & 0xfff <= PAGE_SIZE - T::SIZE {
            return self.write_slow(lin, v, kind);
        }
        let mut buf = [0u8; 8];
        v.to_le(&mut buf);
        self.write_from(lin, &buf[..T::SIZE as usize], kind)
    }

    #[cold]
    #[inline(never)]
    fn write_slow<T: Scalar>(&mut self, lin: u32, v: T, kind: AccessKind) -> Result<(), PageFault> {
        let p = self.translate(lin, kind)?;
        v.store(&mut self.phys, p);
        Ok(())
    }

    /// Reads `out.len()` bytes; all pages are translated before any byte is copied.
    pub fn read_into(&mut self, lin: u32, out: &mut [u8], kind: AccessKind) -> Result<(), PageFault> {
        self.probe(lin, out.len() as u32, kind)?;
        let mut done = 0usize;
        while done < out.len() {
            let a = lin.wrapping_add(done as u32);
            let chunk = ((PAGE_SIZE - (a & 0xfff)) as usize).min(out.len() - done);
            let p = self.translate(a, kind)?;
            self.phys.read_bytes(p, &mut out[done..done + chunk]);
            done += chunk;
        }
        Ok(())
    }

    /// Writes `data`; all pages are translated with write rights before any byte is
    /// stored, so a fault on the second page leaves the first unchanged.
    pub fn write_from(&mut self, lin: u32, data: &[u8], kind: AccessKind) -> Result<(), PageFault> {
        self.probe(lin, data.len() as u32, kind)?;
        let mut done = 0usize;
        while done < data.len() {
            let a = lin.wrapping_add(done as u32);
            let chunk = ((PAGE_SIZE - (a & 0xfff)) as usize).min(data.len() - done);
            let p = self.translate(a, kind)?;
            self.phys.write_bytes(p, &data[done..done + chunk]);
            done += chunk;
        }
        Ok(())
    }

    /// Byte-wise copy out of guest memory that stops at the first fault, for the
    /// kernel's `copy_from_user`: returns how many bytes were copied before it.
    pub fn copy_in(&mut self, lin: u32, out: &mut [u8], kind: AccessKind) -> Result<(), (usize, PageFault)> {
        let mut done = 0usize;
        while done < out.len() {
            let a = lin.wrapping_add(done as u32);
            let chunk = ((PAGE_SIZE - (a & 0xfff)) as usize).min(out.len() - done);
            let p = self.translate(a, kind).map_err(|f| (done, f))?;
            self.phys.read_bytes(p, &mut out[done..done + chunk]);
            done += chunk;
        }
        Ok(())
    }

    /// Page-wise copy into guest memory that stops at the first fault, for the
    /// kernel's `copy_to_user`.
    pub fn copy_out(&mut self, lin: u32, data: &[u8], kind: AccessKind) -> Result<(), (usize, PageFault)> {
        let mut done = 0usize;
        while done < data.len() {
            let a = lin.wrapping_add(done as u32);
            let chunk = ((PAGE_SIZE - (a & 0xfff)) as usize).min(data.len() - done);
            let p = self.translate(a, kind).map_err(|f| (done, f))?;
            self.phys.write_bytes(p, &data[done..done + chunk]);
            done += chunk;
        }
        Ok(())
    }

    /// A frame now holds decoded code: make sure no cached write permission bypasses
    /// the invalidation check. This must stay the only way a frame becomes a code
    /// frame, because `Mmu::write` stores through a write tag without the check.
    pub fn mark_code_frame(&mut self, frame: u32) {
        if self.phys.mark_code(frame) {
            self.tlb.revoke_writes_to_frame(frame << PAGE_SHIFT);
        }
    }
}
