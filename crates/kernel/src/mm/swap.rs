//! The swap area and the swap cache: 2.4's `mm/swapfile.c` (`swap_info`, the swap map,
//! `get_swap_page`, `swap_duplicate`, `swap_free`), `mm/swap_state.c` (the swap cache:
//! `add_to_swap_cache`, `lookup_swap_cache`, `read_swap_cache_async`) and
//! `mm/page_io.c` (`rw_swap_page`).
//!
//! One swap area (type 0), a host file: a temporary one (`--swap SIZE`, unlinked as
//! soon as it is created, so it goes away with the emulator) or one the user names
//! (`--swap-file PATH`). Page 0 holds a `mkswap` header (version 1, "SWAPSPACE2");
//! slots 1.. hold pages. A swapped-out page lives only in that file, never in host
//! memory: the only per-slot state kept here is the swap map's count.
//!
//! ## Counts
//!
//! `swap_map[offset]` counts the references to a slot, as in 2.4: one for every PTE
//! holding the swap entry, and one for the swap cache while a frame is attached to
//! the slot. A frame in the swap cache has one `page_count` reference from the
//! cache ([`super::frames::PG_SWAPCACHE`]).
//!
//! ## Swap entries in PTEs
//!
//! i386 2.4's encoding (`include/asm-i386/pgtable.h`): `SWP_ENTRY(type, offset) =
//! (type << 1) | (offset << 8)`, stored as the whole PTE. Bit 0 (present) and bit 7
//! (`_PAGE_PROTNONE`) are clear, so `pte_present` is false; the offset is at least 1
//! (slot 0 is the header), so `pte_none` is false too: `handle_pte_fault`'s third
//! branch, `do_swap_page`.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};

use crate::Kernel;

use super::frames::{PG_DIRTY, PG_SWAPCACHE};

/// `SWP_ENTRY(type, offset)`.
#[inline]
pub fn swp_entry(typ: u32, offset: u32) -> u32 {
    (typ << 1) | (offset << 8)
}

/// `SWP_TYPE(entry)`.
#[inline]
pub fn swp_type(entry: u32) -> u32 {
    (entry >> 1) & 0x3f
}

/// `SWP_OFFSET(entry)`.
#[inline]
pub fn swp_offset(entry: u32) -> u32 {
    entry >> 8
}

/// A PTE holding a swap entry: not none, not present (neither P nor PROTNONE).
#[inline]
pub fn is_swap_pte(pte: u32) -> bool {
    pte != 0 && !super::pgtable::pte_present(pte)
}

/// `SWAP_MAP_MAX`: a count that high sticks (2.4 then never frees the slot).
const SWAP_MAP_MAX: u16 = 0x7fff;
/// `SWAP_MAP_BAD`: the header slot (and bad pages) are never handed out.
const SWAP_MAP_BAD: u16 = 0x8000;
/// `SWAP_CLUSTER_MAX`-sized readahead window is 2.4's `page_cluster` (1 << 3 pages);
/// growsdown reads a few slots around the missing one.
pub const SWAPIN_READAHEAD: u32 = 4;

/// `struct swap_info_struct`.
pub struct SwapInfo {
    file: File,
    /// What `/proc/swaps` names (the temporary file's name once it is unlinked).
    pub path: String,
    /// Slots including the header (`max`).
    pub max: u32,
    /// Usable slots (`pages`).
    pub pages: u32,
    swap_map: Vec<u16>,
    lowest_bit: u32,
    highest_bit: u32,
    /// Slots in use (`inuse_pages`).
    pub inuse_pages: u32,
    /// `SWP_WRITEOK`: `get_swap_page` may hand out slots (cleared while swapoff
    /// empties the area, as 2.4's `sys_swapoff` does before `try_to_unuse`).
    pub writeok: bool,
    /// The host file's identity: swapon's EBUSY and swapoff's lookup compare it
    /// (today's `IS_SWAPFILE(inode)` and `p->swap_file->f_mapping == mapping`).
    pub dev_ino: (u64, u64),
}

/// Counters for `--stats` and `/proc/vmstat`-like reporting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SwapStats {
    /// Pages read from swap (`pswpin`).
    pub pswpin: u64,
    /// Pages written to swap (`pswpout`).
    pub pswpout: u64,
    /// Pages `shrink_cache` and `try_to_swap_out` looked at (`pgscan`).
    pub pgscan: u64,
    /// Frames freed by reclaim (`pgsteal`).
    pub pgsteal: u64,
    /// Page-cache pages dropped by reclaim (re-read on the next fault).
    pub dropped: u64,
    /// `try_to_free_pages` calls.
    pub reclaims: u64,
    /// Faults that found the page in the swap cache.
    pub cache_hits: u64,
    /// Times an allocation woke a sleeping `kswapd` (free pages at or below
    /// `pages_low`).
    pub kswapd_wakeups: u64,
    /// Frames `kswapd` freed (part of `pgsteal`).
    pub kswapd_freed: u64,
    /// Allocations that found nothing free and reclaimed themselves (today's
    /// `allocstall`).
    pub direct_reclaims: u64,
}

/// The swap state of the machine: the area (if any), the swap cache, the reclaim
/// cursor and counters.
#[derive(Default)]
pub struct SwapState {
    pub info: Option<SwapInfo>,
    /// `swapper_space`: swap entry → frame.
    cache: HashMap<u32, u32>,
    /// frame → swap entry (`page->index` of a swap-cache page).
    entry_of: HashMap<u32, u32>,
    /// `swap_mm`: the id of the mm `swap_out` goes on with.
    pub swap_mm: u32,
    pub stats: SwapStats,
    /// The active/inactive lists were started by a guest's swapon (a boot-time
    /// area starts them in `Kernel::new`); they are started once only.
    pub lru_started: bool,
    /// The zone's `need_balance`: an allocation found free pages at or below
    /// `pages_low` and woke `kswapd`, which runs at the next `schedule()`
    /// ([`super::vmscan::kswapd`]).
    pub need_balance: bool,
    /// Who is reclaiming now, for the trace's reclaim records.
    pub reclaimer: crate::trace::ReclaimBy,
}

impl SwapInfo {
    /// Opens (creating if needed) the swap file: `path` `None` is a temporary file
    /// in the host's temporary directory, gone at once from the file system.
    /// `bytes` is the area's size (`None`: the existing file's size).
    pub fn open(path: Option<&str>, bytes: Option<u64>) -> Result<Self, String> {
        let (file, shown) = match path {
            None => {
                let dir = std::env::temp_dir();
                let f = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .custom_flags(libc::O_TMPFILE | libc::O_CLOEXEC)
                    .mode(0o600)
                    .open(&dir)
                    .or_else(|_| {
                        // No O_TMPFILE on this file system: create, then unlink at once.
                        let p = dir.join(format!("growsdown-swap-{}", std::process::id()));
                        let f = std::fs::OpenOptions::new()
                            .read(true)
                            .write(true)
                            .create_new(true)
                            .mode(0o600)
                            .open(&p)?;
                        std::fs::remove_file(&p)?;
                        Ok::<File, std::io::Error>(f)
                    })
                    .map_err(|e| format!("--swap: cannot create a swap file in {}: {e}", dir.display()))?;
                (f, format!("{}/growsdown-swap", dir.display()))
            }
            Some(p) => {
                // Created only when a size says how big (`--swap SIZE`); otherwise
                // the file must be there already, as swapon wants it.
                let f = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(bytes.is_some())
                    .truncate(false)
                    .mode(0o600)
                    .open(p)
                    .map_err(|e| format!("--swap-file {p}: {e}"))?;
                (f, p.to_string())
            }
        };
        let size = match bytes {
            Some(b) => {
                file.set_len(b).map_err(|e| format!("swap file {shown}: {e}"))?;
                b
            }
            None => file.metadata().map_err(|e| format!("swap file {shown}: {e}"))?.len(),
        };
        // sys_swapon: at most 2^24 slots in 2.4's i386 encoding is far more than
        // 3 GiB of guest memory will want; an area of one page has no slot.
        let max = u32::try_from(size / u64::from(crate::PAGE_SIZE)).unwrap_or(u32::MAX).min(1 << 24);
        if max < 2 {
            return Err(format!("swap file {shown}: {size} bytes is too small (at least 2 pages)"));
        }
        let mut swap_map = vec![0u16; max as usize];
        swap_map[0] = SWAP_MAP_BAD;
        let dev_ino = file.metadata().map(|m| (m.dev(), m.ino())).unwrap_or((0, 0));
        let si = Self {
            file,
            path: shown,
            max,
            pages: max - 1,
            swap_map,
            lowest_bit: 1,
            highest_bit: max - 1,
            inuse_pages: 0,
            writeok: true,
            dev_ino,
        };
        si.write_header()?;
        Ok(si)
    }

    /// A guest's `swapon` of an open host file: today's `claim_swapfile`,
    /// `read_swap_header` and `setup_swap_map_and_extents`, each failure EINVAL: not
    /// a regular file (block devices are not offered to the guest); smaller than a
    /// page; no "SWAPSPACE2" in the last 10 bytes of page 0; `version` not 1;
    /// `last_page` 0; more than `MAX_SWAP_BADPAGES` bad pages or one outside
    /// `1..=last_page`; a file with holes (`generic_swapfile_activate`); no good
    /// page left. The area is `min(last_page + 1, file pages)` slots; bad pages
    /// get `SWAP_MAP_BAD` and are never handed out.
    pub fn from_guest_file(file: File, path: String) -> Result<Self, crate::errno::Errno> {
        use libc::EINVAL;
        let md = file.metadata().map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
        if !md.file_type().is_file() {
            return Err(EINVAL);
        }
        let size = md.len();
        if size < u64::from(crate::PAGE_SIZE) {
            return Err(EINVAL);
        }
        let mut page = [0u8; 4096];
        file.read_exact_at(&mut page, 0).map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
        if &page[4096 - 10..] != b"SWAPSPACE2" {
            return Err(EINVAL);
        }
        let word = |i: usize| u32::from_le_bytes([page[1024 + i * 4], page[1025 + i * 4], page[1026 + i * 4], page[1027 + i * 4]]);
        let (version, last_page, nr_badpages) = (word(0), word(1), word(2));
        if version != 1 || last_page == 0 {
            return Err(EINVAL);
        }
        // MAX_SWAP_BADPAGES: the bad-page list fills the rest of the header
        // (`(offsetof(union swap_header, magic.magic) - offsetof(.., info.badpages)) / 4`).
        const BADPAGES_AT: usize = 1024 + 4 * 3 + 16 + 16 + 4 * 117;
        const MAX_SWAP_BADPAGES: u32 = ((4096 - 10 - BADPAGES_AT) / 4) as u32;
        if nr_badpages > MAX_SWAP_BADPAGES {
            return Err(EINVAL);
        }
        // Today's swap files must have every block allocated (holes: EINVAL).
        if md.blocks() * 512 < size {
            return Err(EINVAL);
        }
        let file_pages = u32::try_from(size / u64::from(crate::PAGE_SIZE)).unwrap_or(u32::MAX);
        let max = last_page.saturating_add(1).min(file_pages).min(1 << 24);
        let mut swap_map = vec![0u16; max as usize];
        swap_map[0] = SWAP_MAP_BAD;
        let mut pages = max - 1;
        for i in 0..nr_badpages as usize {
            let at = BADPAGES_AT + i * 4;
            let bad = u32::from_le_bytes([page[at], page[at + 1], page[at + 2], page[at + 3]]);
            if bad == 0 || bad > last_page {
                return Err(EINVAL);
            }
            if let Some(c) = swap_map.get_mut(bad as usize) {
                if *c == 0 {
                    *c = SWAP_MAP_BAD;
                    pages -= 1;
                }
            }
        }
        if pages == 0 {
            return Err(EINVAL);
        }
        let lowest_bit = (1..max).find(|&o| swap_map[o as usize] == 0).unwrap_or(1);
        let highest_bit = (1..max).rev().find(|&o| swap_map[o as usize] == 0).unwrap_or(1);
        Ok(Self {
            file,
            path,
            max,
            pages,
            swap_map,
            lowest_bit,
            highest_bit,
            inuse_pages: 0,
            writeok: true,
            dev_ino: (md.dev(), md.ino()),
        })
    }

    /// `mkswap`'s version-1 header in page 0: `version`, `last_page`, `nr_badpages`
    /// at byte 1024 and the "SWAPSPACE2" signature in the page's last 10 bytes.
    fn write_header(&self) -> Result<(), String> {
        let mut page = [0u8; 4096];
        page[1024..1028].copy_from_slice(&1u32.to_le_bytes());
        page[1028..1032].copy_from_slice(&(self.max - 1).to_le_bytes());
        page[4096 - 10..].copy_from_slice(b"SWAPSPACE2");
        self.file.write_all_at(&page, 0).map_err(|e| format!("swap file {}: {e}", self.path))
    }

    /// Free slots (`nr_swap_pages`).
    pub fn nr_free(&self) -> u32 {
        self.pages - self.inuse_pages
    }

    /// The count of a slot (0 for an offset outside the area).
    pub fn count(&self, offset: u32) -> u16 {
        self.swap_map.get(offset as usize).copied().unwrap_or(0)
    }
}

/// `get_swap_page`: the lowest free slot, with count 1 (the caller's reference), as a
/// swap entry; `None` when there is no swap or it is full. 2.4 hands out clusters
/// from `cluster_next`; lowest-first keeps the choice a function of the run alone.
pub fn get_swap_page(k: &mut Kernel) -> Option<u32> {
    let si = k.swap.info.as_mut()?;
    if !si.writeok || si.inuse_pages == si.pages {
        return None;
    }
    let mut off = si.lowest_bit;
    while off <= si.highest_bit {
        if si.swap_map[off as usize] == 0 {
            si.swap_map[off as usize] = 1;
            si.inuse_pages += 1;
            si.lowest_bit = off + 1;
            return Some(swp_entry(0, off));
        }
        off += 1;
    }
    None
}

/// `swap_duplicate`: one more reference to the slot (a PTE copied by fork, the swap
/// cache). False for an entry that names no slot in use.
pub fn swap_duplicate(k: &mut Kernel, entry: u32) -> bool {
    let Some(si) = k.swap.info.as_mut() else { return false };
    let off = swp_offset(entry);
    if swp_type(entry) != 0 || off == 0 || off >= si.max {
        log::error!(target: "kernel::mm", "swap_duplicate: bad swap entry {entry:#x}");
        return false;
    }
    let c = &mut si.swap_map[off as usize];
    if *c == 0 || *c & SWAP_MAP_BAD != 0 {
        log::error!(target: "kernel::mm", "swap_duplicate: unused swap entry {entry:#x}");
        return false;
    }
    if *c < SWAP_MAP_MAX {
        *c += 1;
    }
    true
}

/// `swap_free` (`swap_entry_free`): drops one reference; the slot is free again when
/// the last goes. Returns the count left.
pub fn swap_free(k: &mut Kernel, entry: u32) -> u16 {
    let Some(si) = k.swap.info.as_mut() else { return 0 };
    let off = swp_offset(entry);
    if swp_type(entry) != 0 || off == 0 || off >= si.max {
        log::error!(target: "kernel::mm", "swap_free: bad swap entry {entry:#x}");
        return 0;
    }
    let c = &mut si.swap_map[off as usize];
    if *c == 0 || *c & SWAP_MAP_BAD != 0 {
        log::error!(target: "kernel::mm", "swap_free: unused swap entry {entry:#x}");
        return 0;
    }
    if *c < SWAP_MAP_MAX {
        *c -= 1;
        if *c == 0 {
            si.inuse_pages -= 1;
            si.lowest_bit = si.lowest_bit.min(off);
        }
    }
    *c
}

/// The swap count of an entry (`swap_map[offset]`).
pub fn swap_count(k: &Kernel, entry: u32) -> u16 {
    k.swap.info.as_ref().map_or(0, |si| si.count(swp_offset(entry)))
}

/// `vm_swap_full`: more than half of the swap area is in use.
pub fn vm_swap_full(k: &Kernel) -> bool {
    k.swap.info.as_ref().is_some_and(|si| si.nr_free() * 2 < si.pages)
}

/// `rw_swap_page`: reads (`write` false) or writes the frame from/to the slot of
/// `entry` with pread/pwrite, synchronously. Errors are logged and reported.
pub fn rw_swap_page(k: &mut Kernel, write: bool, entry: u32, frame: u32) -> Result<(), crate::errno::Errno> {
    let Some(si) = k.swap.info.as_ref() else { return Err(libc::EIO) };
    let off = u64::from(swp_offset(entry)) * u64::from(crate::PAGE_SIZE);
    let r = if write {
        let data = k.cpu.mmu.phys().slice(frame << 12, crate::PAGE_SIZE as usize);
        si.file.write_all_at(data, off)
    } else {
        let file = &si.file;
        let buf = k.cpu.mmu.phys_mut().frame_mut(frame);
        file.read_exact_at(buf, off)
    };
    match r {
        Ok(()) => {
            if write {
                k.swap.stats.pswpout += 1;
            } else {
                k.swap.stats.pswpin += 1;
            }
            Ok(())
        }
        Err(e) => {
            log::error!(target: "kernel::mm", "rw_swap_page({}, {entry:#x}): {e}", if write { "WRITE" } else { "READ" });
            Err(e.raw_os_error().unwrap_or(libc::EIO))
        }
    }
}

/// The swap entry of a frame in the swap cache (`page->index`).
pub fn page_swap_entry(k: &Kernel, frame: u32) -> Option<u32> {
    if !k.frames.flag(frame, PG_SWAPCACHE) {
        return None;
    }
    k.swap.entry_of.get(&frame).copied()
}

/// `add_to_swap_cache(page, entry)`: the swap cache takes one reference on the slot
/// (`swap_duplicate`) and one on the frame.
pub fn add_to_swap_cache(k: &mut Kernel, frame: u32, entry: u32) -> bool {
    if !swap_duplicate(k, entry) {
        return false;
    }
    k.swap.cache.insert(entry, frame);
    k.swap.entry_of.insert(frame, entry);
    k.frames.set_flag(frame, PG_SWAPCACHE, true);
    k.frames.get(frame);
    k.frames.lru_cache_add(frame);
    true
}

/// `delete_from_swap_cache`: the frame leaves the swap cache, which drops its
/// references to the slot (`swap_free`) and to the frame (freeing it if it was the
/// last).
pub fn delete_from_swap_cache(k: &mut Kernel, frame: u32) {
    let Some(entry) = k.swap.entry_of.remove(&frame) else { return };
    k.swap.cache.remove(&entry);
    k.frames.set_flag(frame, PG_SWAPCACHE, false);
    swap_free(k, entry);
    k.frames.put(frame, k.cpu.mmu.phys_mut());
}

/// `lookup_swap_cache`: the frame attached to `entry`, with one reference taken for
/// the caller.
pub fn lookup_swap_cache(k: &mut Kernel, entry: u32) -> Option<u32> {
    let frame = *k.swap.cache.get(&entry)?;
    k.frames.get(frame);
    Some(frame)
}

/// The frame the swap cache holds for `entry`, if any (no reference taken).
pub fn cached_frame(k: &Kernel, entry: u32) -> Option<u32> {
    k.swap.cache.get(&entry).copied()
}

/// `read_swap_cache_async`: the swap-cache frame of `entry`, read from the swap file
/// into a new frame if it is not cached; one reference for the caller. `None` when
/// no frame could be had (out of memory), the slot is free (the entry went away
/// meanwhile) or the read failed.
pub fn read_swap_cache_async(k: &mut Kernel, entry: u32) -> Option<u32> {
    if let Some(f) = lookup_swap_cache(k, entry) {
        return Some(f);
    }
    if swap_count(k, entry) == 0 {
        return None;
    }
    let frame = super::vmscan::alloc_frame(k)?;
    // Reclaim may have freed the slot, or attached a frame to it meanwhile.
    if let Some(f) = lookup_swap_cache(k, entry) {
        k.frames.put(frame, k.cpu.mmu.phys_mut());
        return Some(f);
    }
    if swap_count(k, entry) == 0 || rw_swap_page(k, false, entry, frame).is_err() {
        k.frames.put(frame, k.cpu.mmu.phys_mut());
        return None;
    }
    if !add_to_swap_cache(k, frame, entry) {
        k.frames.put(frame, k.cpu.mmu.phys_mut());
        return None;
    }
    Some(frame)
}

/// `swapin_readahead`: reads the slots after `entry` that are in use and not cached
/// into the swap cache (2.4's `valid_swaphandles` window of `1 << page_cluster`
/// slots), stopping at the first slot that is free or when memory is short. They
/// stay in the cache, on the inactive list, with no reference but the cache's.
pub fn swapin_readahead(k: &mut Kernel, entry: u32) {
    let off = swp_offset(entry);
    for i in 1..SWAPIN_READAHEAD {
        let e = swp_entry(0, off + i);
        if swap_count(k, e) == 0 || swap_count(k, e) & SWAP_MAP_BAD != 0 {
            break;
        }
        if k.swap.cache.contains_key(&e) {
            continue;
        }
        // Only with a frame to spare: readahead must not push out what it reads.
        if k.frames.nr_free() < 2 {
            break;
        }
        match read_swap_cache_async(k, e) {
            Some(f) => {
                k.frames.put(f, k.cpu.mmu.phys_mut());
            }
            None => break,
        }
    }
}

/// `exclusive_swap_page`: no PTE holds the frame's slot (the cache's count alone).
pub fn exclusive_swap_page(k: &Kernel, frame: u32) -> bool {
    page_swap_entry(k, frame).is_some_and(|e| swap_count(k, e) == 1)
}

/// `can_share_swap_page`: whether the one PTE mapping `frame` may write it in place:
/// count 1 (no swap cache), or count 2 with the swap cache's reference and an
/// exclusive slot.
pub fn can_share_swap_page(k: &Kernel, frame: u32) -> bool {
    match k.frames.count(frame) {
        1 => !k.frames.is_reserved(frame),
        2 => exclusive_swap_page(k, frame),
        _ => false,
    }
}

/// `remove_exclusive_swap_page`: a frame held by the swap cache and one user (the
/// caller's PTE or reference) whose slot nobody else refers to leaves the swap cache,
/// freeing the slot; it is dirty from now on (its only copy is in memory).
pub fn remove_exclusive_swap_page(k: &mut Kernel, frame: u32) -> bool {
    if k.frames.count(frame) != 2 || !exclusive_swap_page(k, frame) {
        return false;
    }
    delete_from_swap_cache(k, frame);
    k.frames.set_flag(frame, PG_DIRTY, true);
    true
}

/// `free_swap_and_cache`: a PTE holding `entry` goes away (munmap, exit). The slot
/// loses that reference; if only the swap cache then refers to it, and nothing maps
/// the cached frame, the frame leaves the cache and is freed with the slot.
pub fn free_swap_and_cache(k: &mut Kernel, entry: u32) {
    if swap_free(k, entry) != 1 {
        return;
    }
    if let Some(&frame) = k.swap.cache.get(&entry) {
        if k.frames.count(frame) == 1 {
            delete_from_swap_cache(k, frame);
        }
    }
}

/// After a reference to a swap-cache frame was dropped: a frame left with only the
/// cache's reference and a slot only the cache refers to is of no further use
/// (nothing maps it, nothing will fault it back in), so it leaves the cache now
/// rather than at the next reclaim, and its slot is free. growsdown's page cache
/// drops unmapped pages the same way ([`super::filemap::page_cache_release`]).
pub fn drop_unused_swap_cache(k: &mut Kernel, frame: u32) {
    if k.frames.count(frame) == 1 && exclusive_swap_page(k, frame) {
        delete_from_swap_cache(k, frame);
    }
}

/// What `vm_enough_memory` adds for swap: `nr_swap_pages` (free slots) plus the
/// pages of the swap cache (`swapper_space.nrpages`).
pub fn swap_free_pages(k: &Kernel) -> u64 {
    let free = k.swap.info.as_ref().map_or(0, SwapInfo::nr_free);
    u64::from(free) + k.swap.cache.len() as u64
}

/// Frames in the swap cache (`swapper_space.nrpages`, meminfo's `SwapCached`).
pub fn swap_cache_pages(k: &Kernel) -> u32 {
    k.swap.cache.len() as u32
}

/// `si_swapinfo`: (total, free) swap in pages; (0, 0) with no swap area.
pub fn si_swapinfo(k: &Kernel) -> (u32, u32) {
    k.swap.info.as_ref().map_or((0, 0), |si| (si.pages, si.nr_free()))
}

/// `try_to_unuse` (2.4's `mm/swapfile.c`), for `swapoff`: every swap entry in every
/// mm's page tables, then every shmem object's (`shmem_unuse`), is read back in
/// (through the swap cache, as `do_swap_page` would, but without a fault) and mapped
/// again, old and with the VMA's protection
/// (`unuse_pte`: `pte_mkold(mk_pte(page, vma->vm_page_prot))`, so a write to a
/// private page then goes through `do_wp_page`); each page leaves the swap cache
/// once its PTEs have it; what is left in the swap cache (readahead, pages mapped
/// and also in swap) leaves it dirty. The caller has cleared `writeok`, so reclaim
/// running meanwhile cannot put pages back in this area. ENOMEM when a page cannot
/// be had: 2.4's `try_to_unuse` then stops and `sys_swapoff` puts the area back in
/// use; the pages read so far stay in memory.
pub fn try_to_unuse(k: &mut Kernel) -> Result<(), crate::errno::Errno> {
    // (entry, mm id, pte address, vma page_prot)
    let mut ptes: Vec<(u32, u32, u32, u32)> = Vec::new();
    let mut ids: Vec<u32> = k.parked.mm.keys().copied().collect();
    if k.task.ids.mm != 0 && k.task.mm.pgd != 0 && !ids.contains(&k.task.ids.mm) {
        ids.push(k.task.ids.mm);
    }
    ids.sort_unstable();
    for &id in &ids {
        let Some(mm) = mm_of(k, id) else { continue };
        let pgd = mm.pgd;
        let vmas: Vec<(u32, u32, u32)> = mm.mmap.iter().map(|v| (v.start, v.end, v.page_prot)).collect();
        for (start, end, prot) in vmas {
            let mut a = start;
            while a < end {
                match super::pgtable::pte_offset(k.cpu.mmu.phys(), pgd, a) {
                    Some(pte_addr) => {
                        let pte = k.cpu.mmu.phys().read_u32(pte_addr);
                        if is_swap_pte(pte) && swp_type(pte) == 0 {
                            ptes.push((pte, id, pte_addr, prot));
                        }
                        a = a.wrapping_add(crate::PAGE_SIZE);
                    }
                    // No page table: the next 4 MiB granule.
                    None => a = (a & !(super::pgtable::PGDIR_SIZE - 1)).wrapping_add(super::pgtable::PGDIR_SIZE),
                }
                if a == 0 {
                    break;
                }
            }
        }
    }
    // Slot by slot as 2.4 does, so pages shared through fork stay shared.
    ptes.sort_unstable();
    let mut i = 0;
    while i < ptes.len() {
        let entry = ptes[i].0;
        let Some(page) = read_swap_cache_async(k, entry) else {
            // Not a kernel problem: swapoff's ENOMEM, which the guest is told.
            log::debug!(target: "kernel::mm", "try_to_unuse: no page for slot {}", swp_offset(entry));
            return Err(libc::ENOMEM);
        };
        while i < ptes.len() && ptes[i].0 == entry {
            let (_, id, pte_addr, prot) = ptes[i];
            i += 1;
            // Reclaim inside the read may have changed nothing here (it only
            // unmaps present PTEs), but check as `unuse_pte` does.
            if k.cpu.mmu.phys().read_u32(pte_addr) != entry {
                continue;
            }
            k.cpu.mmu.phys_mut().write_u32(pte_addr, super::pgtable::mk_pte(page, prot) & !super::pgtable::_PAGE_ACCESSED);
            swap_free(k, entry);
            k.frames.get(page);
            if let Some(mm) = mm_of(k, id) {
                mm.rss += 1;
            }
        }
        if k.swap.entry_of.contains_key(&page) {
            k.frames.set_flag(page, PG_DIRTY, true);
            delete_from_swap_cache(k, page);
        }
        k.frames.put(page, k.cpu.mmu.phys_mut());
    }
    // shmem objects' pages in swap (2.4's try_to_unuse calls shmem_unuse for a slot
    // no PTE held).
    super::filemap::shmem_unuse(k)?;
    // The swap cache's own pages: readahead, and pages both mapped and in swap.
    let mut rest: Vec<u32> = k.swap.entry_of.keys().copied().collect();
    rest.sort_unstable();
    for frame in rest {
        k.frames.set_flag(frame, PG_DIRTY, true);
        delete_from_swap_cache(k, frame);
    }
    let left = k.swap.info.as_ref().map_or(0, |si| si.inuse_pages);
    if left != 0 {
        // A reference this walk does not know of (2.4 would loop for ever).
        log::error!(target: "kernel::mm", "try_to_unuse: {left} slots still in use");
        return Err(libc::EBUSY);
    }
    Ok(())
}

/// The mm with share id `id`: the current task's or a parked one.
fn mm_of(k: &mut Kernel, id: u32) -> Option<&mut super::MmStruct> {
    if id == k.task.ids.mm {
        Some(&mut k.task.mm)
    } else {
        k.parked.mm.get_mut(&id)
    }
}
