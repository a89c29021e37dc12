//! Guest physical memory: a flat byte array of frames, plus the "this frame holds
//! decoded code" bitmap that makes self-modifying code work.
//!
//! Every path that can change a frame's bytes goes through here, so a write to a code
//! frame is never missed: the frame is queued for invalidation and the executor drops
//! its decoded blocks before running another instruction. The one exception is
//! `store_hit`, used only by `Mmu` through a TLB write tag, which the TLB never
//! grants for a code frame (see `tlb.rs`).
//!
//! RAM is allocated once, in `new`, and its size never changes: `PhysMem` is unsized
//! (the RAM is its last field), so no safe code can move another `PhysMem` into its
//! place (assignment, `mem::swap` and `mem::replace` need a sized type), and `Mmu`
//! keeps its `Box<PhysMem>` private. That lets a TLB hit, which names a frame the
//! TLB checked against this RAM when it cached the translation, load and store
//! without a bounds compare (`load_hit`, `store_hit`).

use std::alloc::Layout;

pub const PAGE_SIZE: u32 = 4096;
pub const PAGE_SHIFT: u32 = 12;

#[repr(C)]
struct Head {
    /// One bit per frame: some decoded block starts in this frame.
    code: Vec<u64>,
    /// Code frames written since the executor last looked.
    dirty_code: Vec<u32>,
}

#[repr(C)]
pub struct PhysMem {
    head: Head,
    ram: [u8],
}

impl PhysMem {
    /// `bytes` is rounded down to whole frames. The allocation is zero-filled lazily by
    /// the host (calloc), so a large guest RAM costs nothing until touched.
    pub fn new(bytes: usize) -> Box<Self> {
        let frames = bytes / PAGE_SIZE as usize;
        let len = frames * PAGE_SIZE as usize;
        let head = Head { code: vec![0; frames.div_ceil(64)], dirty_code: Vec::new() };
        // The layout `#[repr(C)]` gives `PhysMem` with `len` bytes of RAM, which is
        // what `Box` computes from the pointer's length when it frees it.
        let (layout, ram_at) = Layout::new::<Head>()
            .extend(Layout::array::<u8>(len).expect("guest RAM size"))
            .expect("guest RAM size");
        let layout = layout.pad_to_align();
        debug_assert_eq!(ram_at, std::mem::size_of::<Head>());
        // SAFETY: `layout` has a non-zero size (`Head` is not empty). The memory is
        // zeroed, so the RAM bytes are initialised; `head` is written before the box
        // is made. The fat pointer's length is the RAM's, which with `layout`'s
        // alignment gives back `layout` (`Layout::for_value`), as `Box` needs.
        unsafe {
            let at = std::alloc::alloc_zeroed(layout);
            if at.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            let mem = std::ptr::slice_from_raw_parts_mut(at, len) as *mut PhysMem;
            std::ptr::addr_of_mut!((*mem).head).write(head);
            debug_assert_eq!(Layout::for_value(&*mem), layout);
            Box::from_raw(mem)
        }
    }

    pub fn frames(&self) -> u32 {
        (self.ram.len() / PAGE_SIZE as usize) as u32
    }

    pub fn size(&self) -> usize {
        self.ram.len()
    }

    #[inline]
    pub fn contains(&self, phys: u32, len: u32) -> bool {
        (phys as usize).checked_add(len as usize).is_some_and(|end| end <= self.ram.len())
    }

    /// The `N` bytes at `phys`, which the caller knows lie in RAM: the TLB-hit path of
    /// `Mmu`, with no bounds compare.
    ///
    /// # Safety
    /// `phys as usize + N <= self.size()`.
    #[inline(always)]
    pub(crate) unsafe fn load_hit<const N: usize>(&self, phys: u32) -> [u8; N] {
        // SAFETY: in bounds by the caller's contract; `[u8; N]` has alignment 1.
        unsafe { self.ram.as_ptr().add(phys as usize).cast::<[u8; N]>().read() }
    }

    /// Stores `N` bytes at `phys`, which the caller knows lie in RAM, *without* the
    /// code-frame check and with no bounds compare. Only for `Mmu` through a TLB write
    /// tag, which the TLB never grants for a code frame.
    ///
    /// # Safety
    /// `phys as usize + N <= self.size()`.
    #[inline(always)]
    pub(crate) unsafe fn store_hit<const N: usize>(&mut self, phys: u32, v: [u8; N]) {
        // SAFETY: in bounds by the caller's contract; `[u8; N]` has alignment 1.
        unsafe { self.ram.as_mut_ptr().add(phys as usize).cast::<[u8; N]>().write(v) }
    }

    /// Stores `bytes` at `phys` if they all lie in RAM, *without* the code-frame
    /// check (for `Mmu::store_hit`, through a write tag).
    #[inline(always)]
    pub(crate) fn store_checked(&mut self, phys: u32, bytes: &[u8]) {
        let p = phys as usize;
        if let Some(b) = self.ram.get_mut(p..p + bytes.len()) {
            b.copy_from_slice(bytes);
        }
    }

    // ---- reads (never fail for in-range addresses; callers translate first) ----

    #[inline]
    pub fn read_u8(&self, phys: u32) -> u8 {
        self.ram.get(phys as usize).copied().unwrap_or(0xff)
    }

    #[inline]
    pub fn read_u16(&self, phys: u32) -> u16 {
        let p = phys as usize;
        match self.ram.get(p..p + 2) {
            Some(b) => u16::from_le_bytes([b[0], b[1]]),
            None => 0xffff,
        }
    }

    /// Reads outside RAM return all-ones, like an unpopulated bus.
    #[inline]
    pub fn read_u32(&self, phys: u32) -> u32 {
        let p = phys as usize;
        match self.ram.get(p..p + 4) {
            Some(b) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            None => 0xffff_ffff,
        }
    }

    pub fn read_bytes(&self, phys: u32, out: &mut [u8]) {
        let p = phys as usize;
        match self.ram.get(p..p + out.len()) {
            Some(b) => out.copy_from_slice(b),
            None => out.fill(0xff),
        }
    }

    /// A slice of RAM starting at `phys`, clipped to RAM and to `len`.
    pub fn slice(&self, phys: u32, len: usize) -> &[u8] {
        let p = (phys as usize).min(self.ram.len());
        let end = p.saturating_add(len).min(self.ram.len());
        &self.ram[p..end]
    }

    pub fn frame(&self, frame: u32) -> &[u8] {
        let p = (frame as usize) << PAGE_SHIFT;
        &self.ram[p..p + PAGE_SIZE as usize]
    }

    // ---- writes ----

    #[inline]
    fn note_write(&mut self, phys: u32) {
        let f = (phys >> PAGE_SHIFT) as usize;
        if let Some(w) = self.head.code.get_mut(f / 64) {
            if *w & (1 << (f % 64)) != 0 {
                *w &= !(1 << (f % 64));
                self.head.dirty_code.push(f as u32);
            }
        }
    }

    #[inline]
    pub fn write_u8(&mut self, phys: u32, v: u8) {
        self.note_write(phys);
        if let Some(b) = self.ram.get_mut(phys as usize) {
            *b = v;
        }
    }

    #[inline]
    pub fn write_u16(&mut self, phys: u32, v: u16) {
        self.note_write(phys);
        let p = phys as usize;
        if let Some(b) = self.ram.get_mut(p..p + 2) {
            b.copy_from_slice(&v.to_le_bytes());
        }
    }

    #[inline]
    pub fn write_u32(&mut self, phys: u32, v: u32) {
        self.note_write(phys);
        let p = phys as usize;
        if let Some(b) = self.ram.get_mut(p..p + 4) {
            b.copy_from_slice(&v.to_le_bytes());
        }
    }

    /// Writes bytes that may span frames (the caller translated each page).
    pub fn write_bytes(&mut self, phys: u32, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let p = phys as usize;
        let end = p + data.len();
        if end > self.ram.len() {
            return;
        }
        for f in (p >> PAGE_SHIFT)..=((end - 1) >> PAGE_SHIFT) {
            self.note_write((f as u32) << PAGE_SHIFT);
        }
        self.ram[p..end].copy_from_slice(data);
    }

    /// The whole frame, writable. Marks it written.
    pub fn frame_mut(&mut self, frame: u32) -> &mut [u8] {
        self.note_write(frame << PAGE_SHIFT);
        let p = (frame as usize) << PAGE_SHIFT;
        &mut self.ram[p..p + PAGE_SIZE as usize]
    }

    pub fn zero_frame(&mut self, frame: u32) {
        self.frame_mut(frame).fill(0);
    }

    pub fn copy_frame(&mut self, from: u32, to: u32) {
        self.note_write(to << PAGE_SHIFT);
        let s = (from as usize) << PAGE_SHIFT;
        let d = (to as usize) << PAGE_SHIFT;
        self.ram.copy_within(s..s + PAGE_SIZE as usize, d);
    }

    // ---- code tracking ----

    /// Crate-private: a frame becomes code only through `Mmu::mark_code_frame`, which
    /// also revokes the TLB's write tags for it.
    pub(crate) fn mark_code(&mut self, frame: u32) -> bool {
        let f = frame as usize;
        match self.head.code.get_mut(f / 64) {
            Some(w) => {
                let was = *w & (1 << (f % 64)) != 0;
                *w |= 1 << (f % 64);
                !was
            }
            None => false,
        }
    }

    #[inline]
    pub fn is_code(&self, frame: u32) -> bool {
        let f = frame as usize;
        self.head.code.get(f / 64).is_some_and(|w| w & (1 << (f % 64)) != 0)
    }

    #[inline]
    pub fn has_dirty_code(&self) -> bool {
        !self.head.dirty_code.is_empty()
    }

    pub fn take_dirty_code(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.head.dirty_code)
    }
}
