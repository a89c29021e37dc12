//! Virtual memory areas (`vm_area_struct`) and the per-process list of them
//! (`mm->mmap`, `mm->mm_rb`, `mm->mmap_cache`), linux24.md §2.1–§2.3 and §2.9.
//!
//! 2.4 keeps VMAs in a sorted linked list plus a red-black tree. Here they are one
//! vector sorted by `start` with binary search; `find_vma` still probes the
//! one-entry `mmap_cache` first, like 2.4 — the cache changes speed, never results.

use std::fmt::Write as _;
use std::rc::Rc;

use crate::errno::{Errno, ENOMEM};

use super::filemap::{FileBacking, ShmemObject};
use super::MmStruct;

// ---- vm_flags (include/linux/mm.h, linux24.md §2.2) ----
pub const VM_READ: u32 = 0x0000_0001;
pub const VM_WRITE: u32 = 0x0000_0002;
pub const VM_EXEC: u32 = 0x0000_0004;
pub const VM_SHARED: u32 = 0x0000_0008;
pub const VM_MAYREAD: u32 = 0x0000_0010;
pub const VM_MAYWRITE: u32 = 0x0000_0020;
pub const VM_MAYEXEC: u32 = 0x0000_0040;
pub const VM_MAYSHARE: u32 = 0x0000_0080;
pub const VM_GROWSDOWN: u32 = 0x0000_0100;
pub const VM_GROWSUP: u32 = 0x0000_0200;
pub const VM_DENYWRITE: u32 = 0x0000_0800;
pub const VM_EXECUTABLE: u32 = 0x0000_1000;
pub const VM_LOCKED: u32 = 0x0000_2000;
/// `MADV_SEQUENTIAL` / `MADV_RANDOM` (2.4's madvise sets them too).
pub const VM_SEQ_READ: u32 = 0x0000_8000;
pub const VM_RAND_READ: u32 = 0x0001_0000;
#[allow(dead_code)] // kept so the table is whole
pub const VM_IO: u32 = 0x0000_4000;
pub const VM_DONTCOPY: u32 = 0x0002_0000;
#[allow(dead_code)] // kept so the table is whole
pub const VM_DONTEXPAND: u32 = 0x0004_0000;
#[allow(dead_code)] // kept so the table is whole
pub const VM_RESERVED: u32 = 0x0008_0000;
/// Today's flags, unknown to 2.4. VM_LOCKONFAULT (mlock2's MLOCK_ONFAULT,
/// MCL_ONFAULT) is 0x80000 today, which is 2.4's VM_RESERVED above, so it takes a
/// bit 2.4 leaves free; the value never leaves the kernel.
pub const VM_LOCKONFAULT: u32 = 0x0010_0000;
/// `VM_LOCKED_MASK`: what mlock and munlock replace.
pub const VM_LOCKED_MASK: u32 = VM_LOCKED | VM_LOCKONFAULT;
/// `MADV_WIPEONFORK`: fork gives the child the VMA without its pages.
pub const VM_WIPEONFORK: u32 = 0x0200_0000;
/// `MADV_DONTDUMP`.
pub const VM_DONTDUMP: u32 = 0x0400_0000;

/// The permission column of `/proc/<pid>/maps` for `vm_flags`: `r`/`w`/`x`, then `s`
/// for a VM_MAYSHARE mapping or `p` (2.4's `proc_pid_maps`).
pub fn vm_perms(flags: u32) -> String {
    [
        if flags & VM_READ != 0 { 'r' } else { '-' },
        if flags & VM_WRITE != 0 { 'w' } else { '-' },
        if flags & VM_EXEC != 0 { 'x' } else { '-' },
        if flags & VM_MAYSHARE != 0 { 's' } else { 'p' },
    ]
    .iter()
    .collect()
}

/// `VM_STACK_FLAGS`: rwx, may-rwx, grows down (0x177).
pub const VM_STACK_FLAGS: u32 =
    VM_READ | VM_WRITE | VM_EXEC | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_GROWSDOWN;
/// `VM_DATA_DEFAULT_FLAGS` of i386: rwx, may-rwx (0x77). brk and bss VMAs.
pub const VM_DATA_DEFAULT_FLAGS: u32 = VM_READ | VM_WRITE | VM_EXEC | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;

/// `max_map_count` (`DEFAULT_MAX_MAP_COUNT` in 2.4).
pub const MAX_MAP_COUNT: u32 = 65536;

/// What backs a VMA's pages (2.4: `vm_file` + `vm_ops`).
#[derive(Clone, Debug)]
pub enum Backing {
    /// Anonymous: no `vm_ops`; faults go to `do_anonymous_page`.
    Anon,
    /// `MAP_SHARED|MAP_ANONYMOUS` (and shared /dev/zero): 2.4's `shmem_zero_setup`
    /// gives it an internal shmem file, so faults go through `nopage` (major), it
    /// never merges, and after fork both processes see the same pages. With swap its
    /// pages go there through `shmem_writepage` (`mm/filemap.rs`).
    Shmem { obj: Rc<ShmemObject> },
    /// A file mapping: `vm_ops->nopage = filemap_nopage`.
    File { file: Rc<FileBacking> },
    /// A MAP_SHARED file mapping: its pages are the file's shared pages
    /// ([`super::filemap::SharedFile`]), written back to the file.
    SharedFile { file: Rc<FileBacking>, map: Rc<super::filemap::SharedFile> },
}

/// `struct vm_area_struct`: the range `[start, end)` of one mapping.
#[derive(Clone, Debug)]
pub struct Vma {
    pub start: u32,
    pub end: u32,
    pub flags: u32,
    /// Offset in pages into the backing object of `start`. Anonymous VMAs keep 0 —
    /// until a GROWSDOWN VMA grows, when `expand_stack` wraps it below 0 (linux24.md §2.4).
    pub pgoff: u32,
    /// `vm_page_prot` = `protection_map[flags & 0xf]`.
    pub page_prot: u32,
    pub backing: Backing,
}

impl Vma {
    pub fn new(start: u32, end: u32, flags: u32, pgoff: u32, backing: Backing) -> Self {
        Self { start, end, flags, pgoff, page_prot: super::pgtable::protection_map(flags), backing }
    }

    pub fn contains(&self, addr: u32) -> bool {
        self.start <= addr && addr < self.end
    }

    pub fn pages(&self) -> u32 {
        (self.end - self.start) >> 12
    }

    pub fn file(&self) -> Option<&Rc<FileBacking>> {
        match &self.backing {
            Backing::File { file } | Backing::SharedFile { file, .. } => Some(file),
            _ => None,
        }
    }

    /// No `vm_ops->nopage`: faults on empty PTEs go to `do_anonymous_page`.
    pub fn is_anonymous(&self) -> bool {
        !matches!(self.backing, Backing::File { .. } | Backing::SharedFile { .. })
    }

    /// `(start, end, flags)`, as trace events report a VMA.
    pub fn summary(&self) -> (u32, u32, u32) {
        (self.start, self.end, self.flags)
    }

    /// The `/proc/<pid>/maps` line of today's `show_map_vma` (without the newline):
    /// `start-end perms offset major:minor inode `, then, for a VMA with a name,
    /// padding to column 72 (`seq_setwidth` with the 8-byte pointers of the x86-64
    /// kernels that run i386 programs today), a space and the name: the file's path,
    /// `[heap]` for the VMA holding the brk area, `[stack]` for the one holding
    /// `start_stack`, and `/dev/zero (deleted)` for the shmem object behind a shared
    /// anonymous mapping. The offset is `vm_pgoff << 12` for a mapping with a file
    /// (shmem counts) and 0 otherwise, as today prints it.
    ///
    /// 2.4's `proc_pid_maps` differed: it printed the offset of anonymous VMAs too
    /// (a grown stack showed `fffff000`), padded file names to column 49, had no
    /// `[heap]`/`[stack]` and no trailing space on anonymous lines.
    pub fn maps_line(&self, mm: &MmStruct) -> String {
        let perms = vm_perms(self.flags);
        let (major, minor, ino, offset) = match &self.backing {
            Backing::File { file } | Backing::SharedFile { file, .. } => {
                (file.dev_major(), file.dev_minor(), file.ino, self.pgoff.wrapping_shl(12))
            }
            Backing::Shmem { .. } => (0, 0, 0, self.pgoff.wrapping_shl(12)),
            Backing::Anon => (0, 0, 0, 0),
        };
        let mut line = format!(
            "{:08x}-{:08x} {} {:08x} {:02x}:{:02x} {} ",
            self.start, self.end, perms, offset, major, minor, ino
        );
        let name = match &self.backing {
            Backing::File { file } | Backing::SharedFile { file, .. } => file.path.as_str(),
            // 2.4's name for the shmem object behind a shared anonymous mapping.
            Backing::Shmem { .. } => "/dev/zero (deleted)",
            // vma_is_initial_heap, vma_is_initial_stack.
            Backing::Anon if mm.vdso != 0 && self.start == mm.vdso => "[vdso]",
            Backing::Anon if self.start <= mm.brk && self.end >= mm.start_brk => "[heap]",
            Backing::Anon if self.start <= mm.start_stack && self.end >= mm.start_stack => "[stack]",
            Backing::Anon => return line,
        };
        while line.len() < 72 {
            line.push(' ');
        }
        line.push(' ');
        line.push_str(name);
        line
    }
}

/// `can_vma_merge(vma, vm_flags)`: no file (and no shmem object behind it) and
/// exactly the same flags (linux24.md §2.9).
pub fn can_vma_merge(v: &Vma, vm_flags: u32) -> bool {
    matches!(v.backing, Backing::Anon) && v.flags == vm_flags
}

impl MmStruct {
    /// `map_count`: number of VMAs.
    pub fn map_count(&self) -> u32 {
        self.mmap.len() as u32
    }

    /// `find_vma` (linux24.md §2.3) as an index: the lowest VMA with `end > addr`, which
    /// need not contain `addr`. The cache is a hit only if it contains `addr`.
    pub fn find_vma_index(&self, addr: u32) -> Option<usize> {
        if let Some(i) = self.mmap_cache.get() {
            if self.mmap.get(i).is_some_and(|v| v.contains(addr)) {
                return Some(i);
            }
        }
        let i = self.mmap.partition_point(|v| v.end <= addr);
        if i < self.mmap.len() {
            self.mmap_cache.set(Some(i));
            Some(i)
        } else {
            None
        }
    }

    /// `find_vma`: the lowest VMA with `vm_end > addr`, or none. Callers check
    /// `vm_start <= addr` themselves.
    pub fn find_vma(&self, addr: u32) -> Option<&Vma> {
        self.find_vma_index(addr).map(|i| &self.mmap[i])
    }

    /// `find_vma_prev`: `(vma, prev)` as indices. 2.4 quirk kept: when no VMA ends
    /// above `addr`, prev is `None` too, although a last VMA exists.
    pub fn find_vma_prev(&self, addr: u32) -> (Option<usize>, Option<usize>) {
        match self.find_vma_index(addr) {
            Some(i) => (Some(i), i.checked_sub(1)),
            None => (None, None),
        }
    }

    /// `find_vma_intersection`: the first VMA overlapping `[start, end)`.
    pub fn find_vma_intersection(&self, start: u32, end: u32) -> Option<&Vma> {
        self.find_vma(start).filter(|v| end > v.start)
    }

    /// Any VMA overlapping `[start, end)`?
    pub fn overlaps(&self, start: u32, end: u32) -> bool {
        self.find_vma_intersection(start, end).is_some()
    }

    /// Forgets the `find_vma` cache. 2.4 repoints or clears it whenever a VMA is
    /// unlinked (`__vma_unlink`, `do_munmap`); with an index cache any structural
    /// change invalidates it.
    pub fn invalidate_mmap_cache(&self) {
        self.mmap_cache.set(None);
    }

    /// `insert_vm_struct` / `__vma_link`: links a VMA in address order. An overlap
    /// with an existing VMA is -ENOMEM, as 2.4.35 reports it (linux24.md §9).
    pub fn insert_vm_struct(&mut self, vma: Vma) -> Result<usize, Errno> {
        if vma.start >= vma.end {
            log::error!(target: "kernel::mm", "insert_vm_struct: empty VMA {:#x}-{:#x}", vma.start, vma.end);
            return Err(ENOMEM);
        }
        let i = self.mmap.partition_point(|v| v.start < vma.start);
        let clash_prev = i > 0 && self.mmap[i - 1].end > vma.start;
        let clash_next = self.mmap.get(i).is_some_and(|n| n.start < vma.end);
        if clash_prev || clash_next {
            log::error!(target: "kernel::mm", "insert_vm_struct: {:#x}-{:#x} overlaps a VMA", vma.start, vma.end);
            return Err(ENOMEM);
        }
        self.mmap.insert(i, vma);
        self.invalidate_mmap_cache();
        Ok(i)
    }

    /// `vma_merge(mm, prev, addr, end, vm_flags)` (linux24.md §2.9): extend `prev` (and
    /// absorb `next` if the new range closes the gap exactly), or else extend `next`
    /// downwards. Only anonymous private VMAs with identical flags merge. `prev` is
    /// the VMA just below `addr` (`None` if the range is below every VMA). The caller
    /// still adds the pages to `total_vm`.
    pub fn vma_merge(&mut self, prev: Option<usize>, addr: u32, end: u32, vm_flags: u32) -> bool {
        let next = match prev {
            Some(p) => {
                if self.mmap[p].end == addr && can_vma_merge(&self.mmap[p], vm_flags) {
                    self.mmap[p].end = end;
                    if let Some(n) = self.mmap.get(p + 1) {
                        if n.start == end && can_vma_merge(n, vm_flags) {
                            // Absorb next: prev->vm_end = next->vm_end, unlink next,
                            // map_count--.
                            self.mmap[p].end = n.end;
                            self.mmap.remove(p + 1);
                            self.invalidate_mmap_cache();
                        }
                    }
                    return true;
                }
                p + 1
            }
            None => 0,
        };
        if let Some(n) = self.mmap.get_mut(next) {
            if end == n.start && can_vma_merge(n, vm_flags) {
                // vm_pgoff is left alone, which is harmless for anonymous memory.
                n.start = addr;
                return true;
            }
        }
        false
    }

    /// The VMA just below `addr` in address order (the `prev` that `vma_merge` and
    /// `do_mmap_pgoff`'s `find_vma_prepare` compute): the last VMA with `start < addr`.
    pub fn prev_index(&self, addr: u32) -> Option<usize> {
        self.mmap.partition_point(|v| v.start < addr).checked_sub(1)
    }

    /// `/proc/<pid>/maps`: one line per VMA, in address order.
    pub fn maps(&self) -> String {
        let mut s = String::new();
        for v in &self.mmap {
            let _ = writeln!(s, "{}", v.maps_line(self));
        }
        s
    }

    /// Size of all VMAs in pages, recomputed from the list (a cross-check of the
    /// `total_vm` counter the mm code keeps the 2.4 way).
    pub fn vm_pages(&self) -> u32 {
        self.mmap.iter().map(Vma::pages).sum()
    }
}
