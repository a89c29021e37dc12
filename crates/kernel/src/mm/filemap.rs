//! File-backed pages: the page cache and `filemap_nopage` (2.4's `mm/filemap.c`,
//! linux24.md §3.3).
//!
//! A mapped file is a host file; [`FileBacking`] holds a host descriptor of its own
//! (so the guest may close its fd after mmap, as POSIX allows) and the identity
//! (device, inode) that keys the page cache. A page is read with `pread` the first
//! time a process faults on it.
//!
//! The page cache owns one reference on each of its frames, so a cached page mapped
//! by one PTE has `page_count` 2 and `do_wp_page` copies instead of reusing it
//! (linux24.md §3.5). Unlike 2.4, which keeps clean pages until memory pressure, a page
//! leaves the cache as soon as its last mapping goes away (see [`page_cache_release`]):
//! the guest's `write()` goes straight to the host file, and dropping unmapped pages
//! keeps the cache from serving stale data to a later mapping.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use crate::errno::{host_errno, Errno};
use crate::Kernel;

/// One open host file behind file mappings (2.4: the `struct file` in `vm_file`).
#[derive(Debug)]
pub struct FileBacking {
    /// Host descriptor owned by this object (closed on drop).
    pub host_fd: i32,
    pub dev: u64,
    pub ino: u64,
    /// Modification time (seconds, nanoseconds) when the mapping was made. Part of
    /// the page-cache key, so a file rewritten through the host between two mappings
    /// is read afresh rather than served from pages cached for the old contents.
    pub mtime: (i64, i64),
    /// Path shown in `/proc/<pid>/maps`.
    pub path: String,
    /// `FMODE_READ` / `FMODE_WRITE` of the descriptor the mapping was made from.
    pub readable: bool,
    pub writable: bool,
}

/// What `fstat` says about a host descriptor.
pub struct HostStat {
    pub dev: u64,
    pub ino: u64,
    pub mtime: (i64, i64),
    pub size: u64,
    pub mode: u32,
    pub rdev: u64,
}

/// `fstat` on a host descriptor.
pub fn host_fstat(fd: i32) -> Result<HostStat, Errno> {
    // SAFETY: `st` is a plain C struct that fstat fills; zeroed is a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a valid, writable `struct stat`.
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Err(host_errno());
    }
    Ok(HostStat {
        dev: st.st_dev as u64,
        ino: st.st_ino as u64,
        mtime: (st.st_mtime as i64, st.st_mtime_nsec as i64),
        size: st.st_size as u64,
        mode: st.st_mode as u32,
        rdev: st.st_rdev as u64,
    })
}

impl FileBacking {
    /// Takes a private duplicate of host descriptor `fd` for a mapping.
    pub fn from_host_fd(fd: i32) -> Result<Rc<Self>, Errno> {
        let st = host_fstat(fd)?;
        // SAFETY: F_DUPFD_CLOEXEC on a descriptor we were given; no memory involved.
        let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
        if dup < 0 {
            return Err(host_errno());
        }
        // SAFETY: F_GETFL reads the descriptor's status flags; no memory involved.
        let fl = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        let acc = if fl < 0 { libc::O_RDONLY } else { fl & libc::O_ACCMODE };
        let path = std::fs::read_link(format!("/proc/self/fd/{fd}"))
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Rc::new(Self {
            host_fd: dup,
            dev: st.dev,
            ino: st.ino,
            mtime: st.mtime,
            path,
            readable: acc == libc::O_RDONLY || acc == libc::O_RDWR,
            writable: acc == libc::O_WRONLY || acc == libc::O_RDWR,
        }))
    }

    /// The executable `file` (opened read-only at `path`) behind `load_elf_binary`'s
    /// mappings.
    pub fn from_exec_file(file: std::fs::File, path: &str) -> Result<Rc<Self>, String> {
        let fd = std::os::fd::IntoRawFd::into_raw_fd(file);
        let st = match host_fstat(fd) {
            Ok(st) => st,
            Err(e) => {
                // SAFETY: `fd` came from into_raw_fd above and is ours to close.
                unsafe { libc::close(fd) };
                return Err(format!("cannot stat {path}: {}", std::io::Error::from_raw_os_error(e)));
            }
        };
        let shown =
            std::fs::canonicalize(path).map(|p| p.to_string_lossy().into_owned()).unwrap_or(path.into());
        Ok(Rc::new(Self {
            host_fd: fd,
            dev: st.dev,
            ino: st.ino,
            mtime: st.mtime,
            path: shown,
            readable: true,
            writable: false,
        }))
    }

    /// Current size of the file in bytes (re-read at every fault, so a file that
    /// grows or shrinks under a mapping is seen like 2.4 sees `i_size`).
    pub fn size(&self) -> Result<u64, Errno> {
        host_fstat(self.host_fd).map(|s| s.size)
    }

    /// glibc's `major()` of the host device number.
    pub fn dev_major(&self) -> u32 {
        (((self.dev >> 8) & 0xfff) | ((self.dev >> 32) & !0xfff)) as u32
    }

    /// glibc's `minor()` of the host device number.
    pub fn dev_minor(&self) -> u32 {
        ((self.dev & 0xff) | ((self.dev >> 12) & !0xff)) as u32
    }
}

impl Drop for FileBacking {
    fn drop(&mut self) {
        // SAFETY: `host_fd` is owned by this object and closed exactly once.
        unsafe { libc::close(self.host_fd) };
    }
}

/// Page-cache key: (device, inode, modification time, page index).
type PageKey = (u64, u64, (i64, i64), u32);

/// The page cache (2.4's `page_hash_table`): file page → frame.
#[derive(Default)]
pub struct PageCache {
    pages: HashMap<PageKey, u32>,
    owner: HashMap<u32, PageKey>,
    /// `filemap_nopage` found the page already cached.
    pub hits: u64,
    /// `filemap_nopage` had to read it from the host file.
    pub misses: u64,
    /// The files mapped MAP_SHARED, by (device, inode) ([`SharedFile`]).
    pub shared: HashMap<(u64, u64), std::rc::Weak<SharedFile>>,
    /// Which shared file page each of their frames holds.
    pub shared_frames: HashMap<u32, (u64, u64, u32)>,
    /// The frames shmem objects hold: the object and the page index
    /// (`page->mapping`, `page->index`), for `shrink_cache`'s `shmem_writepage`.
    pub shmem_frames: HashMap<u32, (std::rc::Weak<ShmemObject>, u32)>,
}

impl PageCache {
    pub fn len(&self) -> usize {
        self.pages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }

    fn lookup(&self, key: PageKey) -> Option<u32> {
        self.pages.get(&key).copied()
    }

    fn insert(&mut self, key: PageKey, frame: u32) {
        self.pages.insert(key, frame);
        self.owner.insert(frame, key);
    }

    fn remove_frame(&mut self, frame: u32) {
        if let Some(key) = self.owner.remove(&frame) {
            self.pages.remove(&key);
        }
    }
}

/// What `vm_ops->nopage` returned.
pub enum NoPage {
    /// The page, with one reference taken for the caller.
    Page(u32),
    /// NULL: beyond end of file, or a read error → SIGBUS (linux24.md §1.6).
    Sigbus,
    /// `NOPAGE_OOM`.
    Oom,
}

/// `filemap_nopage` for page `index` of `file` (linux24.md §3.3): NULL when the index is
/// at or beyond the file size in pages (rounded up); otherwise the page-cache page,
/// read from the host file on a miss. Bytes past end of file in the last page read
/// as zeros.
pub fn filemap_nopage(k: &mut Kernel, file: &FileBacking, index: u32) -> NoPage {
    if let Some(r) = beyond_eof(file, index) {
        return r;
    }
    let key = (file.dev, file.ino, file.mtime, index);
    if let Some(frame) = k.page_cache.lookup(key) {
        return cache_hit(k, frame);
    }
    let frame = match read_new_page(k, file, index) {
        Ok(f) => f,
        Err(r) => return r,
    };
    // The allocation's reference becomes the page cache's; take one for the caller.
    k.frames.set_page_cache(frame, true);
    k.page_cache.insert(key, frame);
    k.frames.get(frame);
    NoPage::Page(frame)
}

/// `filemap_nopage`'s size test: SIGBUS for a page at or beyond end of file (in
/// pages, rounded up), or when the file cannot be asked its size.
fn beyond_eof(file: &FileBacking, index: u32) -> Option<NoPage> {
    match file.size() {
        Ok(size) => (u64::from(index) >= size.div_ceil(u64::from(crate::PAGE_SIZE))).then_some(NoPage::Sigbus),
        Err(e) => {
            log::warn!(target: "kernel::mm", "filemap_nopage: fstat {}: errno {e}", file.path);
            Some(NoPage::Sigbus)
        }
    }
}

/// A cached page found (`find_get_page` hit): one reference for the caller.
fn cache_hit(k: &mut Kernel, frame: u32) -> NoPage {
    k.page_cache.hits += 1;
    k.frames.get(frame);
    NoPage::Page(frame)
}

/// A page-cache miss: a new frame holding page `index` of the file, with the
/// allocation's one reference (OOM, or SIGBUS for a read error).
fn read_new_page(k: &mut Kernel, file: &FileBacking, index: u32) -> Result<u32, NoPage> {
    let Some(frame) = super::vmscan::alloc_frame(k) else {
        return Err(NoPage::Oom);
    };
    k.task.stats.pages_allocated += 1;
    // `add_to_page_cache` puts the page on the LRU, where reclaim finds it.
    k.frames.lru_cache_add(frame);
    if let Err(e) = read_page(k, file, index, frame) {
        log::warn!(target: "kernel::mm", "filemap_nopage: reading page {index} of {}: errno {e}", file.path);
        k.frames.put(frame, k.cpu.mmu.phys_mut());
        return Err(NoPage::Sigbus);
    }
    k.page_cache.misses += 1;
    Ok(frame)
}

/// Reads page `index` of the host file into `frame` (already zeroed).
fn read_page(k: &mut Kernel, file: &FileBacking, index: u32, frame: u32) -> Result<(), Errno> {
    let buf = k.cpu.mmu.phys_mut().frame_mut(frame);
    let base = i64::from(index) * i64::from(crate::PAGE_SIZE);
    let mut done = 0usize;
    while done < buf.len() {
        // SAFETY: the destination is the unread tail of a live 4 KiB frame slice.
        let n = unsafe {
            libc::pread(
                file.host_fd,
                buf[done..].as_mut_ptr().cast(),
                buf.len() - done,
                (base + done as i64) as libc::off_t,
            )
        };
        match n {
            0 => break,
            n if n > 0 => done += n as usize,
            _ => {
                let e = host_errno();
                if e != libc::EINTR {
                    return Err(e);
                }
            }
        }
    }
    Ok(())
}

/// `page_cache_release` / `put_page` for a page some PTE stops mapping: drops the
/// reference, and when only the page cache's own reference is left, drops the page
/// from the cache and frees it (see the module comment for why).
pub fn page_cache_release(k: &mut Kernel, frame: u32) {
    let left = k.frames.put(frame, k.cpu.mmu.phys_mut());
    if left == 1 && k.frames.in_page_cache(frame) {
        k.page_cache.remove_frame(frame);
        k.frames.set_page_cache(frame, false);
        k.frames.put(frame, k.cpu.mmu.phys_mut());
    } else if left == 1 && k.frames.flag(frame, super::frames::PG_SWAPCACHE) {
        // The same for the swap cache (2.4's `free_page_and_swap_cache` when the
        // slot is no one else's).
        super::swap::drop_unused_swap_cache(k, frame);
    }
}

/// Reclaim of a shared file's page that no PTE maps any more (`shrink_cache` on a
/// page whose only reference is its `address_space`'s): written back if dirty
/// (`writepage`), then dropped from the object and freed. A later fault reads it
/// from the file again. False if the frame is not such a page or could not be
/// written.
pub fn shrink_shared_page(k: &mut Kernel, frame: u32) -> bool {
    let Some(&(dev, ino, index)) = k.page_cache.shared_frames.get(&frame) else { return false };
    let Some(sf) = k.page_cache.shared.get(&(dev, ino)).and_then(std::rc::Weak::upgrade) else {
        return false;
    };
    if sf.dirty.borrow().contains(&index) && writeback(k, &sf, index, index).is_err() {
        return false;
    }
    if k.frames.count(frame) != 1 {
        return false;
    }
    sf.pages.borrow_mut().remove(&index);
    k.page_cache.shared_frames.remove(&frame);
    k.frames.put(frame, k.cpu.mmu.phys_mut());
    true
}

/// The internal shmem file behind a shared anonymous mapping (2.4's
/// `shmem_zero_setup`, `mm/shmem.c`), and a SysV segment's: page index → frame,
/// or → swap entry for a page reclaim moved to swap (2.4's `shmem_inode_info`, whose
/// `i_direct`/`i_indirect` vector holds the swap entries). The object holds one
/// reference on each of its frames for as long as some VMA (or the IPC namespace)
/// refers to it, so the pages survive their PTEs being zapped (MADV_DONTNEED, a
/// partial munmap) and are found again by every process that shares the mapping
/// after fork. With a swap area, a frame nothing maps any more goes to swap through
/// [`shmem_writepage`] and comes back through [`shmem_nopage`] (`shmem_getpage`).
#[derive(Debug, Default)]
pub struct ShmemObject {
    pages: RefCell<BTreeMap<u32, u32>>,
    /// Index → swap entry; each holds one reference on its slot (`info->swapped`
    /// is its length).
    swap: RefCell<BTreeMap<u32, u32>>,
    /// SHM_LOCK (`info->locked`): `shmem_writepage` leaves the pages in memory.
    pub locked: std::cell::Cell<bool>,
}

impl ShmemObject {
    /// Frames the object holds (resident pages).
    pub fn nr_pages(&self) -> usize {
        self.pages.borrow().len()
    }

    /// Pages of the object in swap (`info->swapped`).
    pub fn nr_swapped(&self) -> usize {
        self.swap.borrow().len()
    }
}

/// `shmem_nopage` → `shmem_getpage`: the object's page `index`, with one reference
/// taken for the caller. A page in memory is returned as it is; a page in swap is
/// looked up in the swap cache (`lookup_swap_cache`) or read from its slot
/// (`swapin_readahead`, `read_swap_cache_async`), leaves the swap cache and goes
/// back into the object, and its slot is freed (`swap_free`, `delete_from_swap_cache`:
/// the object's copy is the only one again); otherwise a zero-filled page is
/// allocated (2.4's `shmem_getpage`'s three cases, in its order).
pub fn shmem_nopage<R: super::fault::Recorder>(
    k: &mut Kernel,
    obj: &Rc<ShmemObject>,
    index: u32,
    rec: &mut R,
) -> NoPage {
    if let Some(&frame) = obj.pages.borrow().get(&index) {
        k.frames.get(frame);
        return NoPage::Page(frame);
    }
    let swapped = obj.swap.borrow().get(&index).copied();
    if let Some(entry) = swapped {
        let slot = super::swap::swp_offset(entry);
        let (page, cached) = match super::swap::lookup_swap_cache(k, entry) {
            Some(p) => {
                k.swap.stats.cache_hits += 1;
                (p, true)
            }
            None => {
                // shmem_swapin: 2.4.20's readahead around the slot, then the read.
                super::swap::swapin_readahead(k, entry);
                let Some(p) = super::swap::read_swap_cache_async(k, entry) else {
                    log::warn!(target: "kernel::mm", "shmem_getpage: cannot read slot {slot} for page {index}");
                    return NoPage::Oom;
                };
                (p, false)
            }
        };
        rec.step(|| crate::trace::Step::ShmemGetpage { slot, cached, frame: page << 12 });
        shmem_swapin_done(k, obj, index, entry, page);
        k.frames.mark_page_accessed(page);
        return NoPage::Page(page);
    }
    let Some(frame) = super::vmscan::alloc_frame(k) else {
        return NoPage::Oom;
    };
    k.task.stats.pages_allocated += 1;
    // add_to_page_cache puts a shmem page on the LRU, where shrink_cache finds it.
    k.frames.lru_cache_add(frame);
    // The allocation's reference is the object's; take one for the caller.
    shmem_add_page(k, obj, index, frame);
    k.frames.get(frame);
    NoPage::Page(frame)
}

/// The object takes `frame` (and the reference the caller passes it) as page `index`.
fn shmem_add_page(k: &mut Kernel, obj: &Rc<ShmemObject>, index: u32, frame: u32) {
    obj.pages.borrow_mut().insert(index, frame);
    k.page_cache.shmem_frames.insert(frame, (Rc::downgrade(obj), index));
}

/// `shmem_getpage`'s end of a swap-in (also `shmem_unuse`'s): `page`, the swap-cache
/// frame of `entry` with one reference held by the caller, becomes the object's page
/// `index` again. The object's slot reference goes (`swap_free`), the page leaves the
/// swap cache (which frees the slot), and the object keeps one reference on the
/// frame while the caller keeps its own.
fn shmem_swapin_done(k: &mut Kernel, obj: &Rc<ShmemObject>, index: u32, entry: u32, page: u32) {
    obj.swap.borrow_mut().remove(&index);
    super::swap::swap_free(k, entry);
    // delete_from_swap_cache drops the cache's reference: take the object's first.
    k.frames.get(page);
    super::swap::delete_from_swap_cache(k, page);
    k.frames.set_flag(page, super::frames::PG_DIRTY, false);
    shmem_add_page(k, obj, index, page);
}

/// Whether `frame` is a page some shmem object holds.
pub fn is_shmem_page(k: &Kernel, frame: u32) -> bool {
    !k.page_cache.shmem_frames.is_empty() && k.page_cache.shmem_frames.contains_key(&frame)
}

/// `shmem_writepage` (the shmem `address_space`'s `writepage`, called by
/// `shrink_cache` for a page whose only reference is its object's): the page gets a
/// swap slot (`get_swap_page`), leaves the object for the swap cache
/// (`add_to_swap_cache`, dirty), and the object's index entry becomes the swap entry.
/// `shrink_cache` then writes it (`swap_writepage`) and frees it. False, leaving the
/// page where it is, for a locked object (SHM_LOCK), a page someone else still holds,
/// or no free slot.
pub fn shmem_writepage(k: &mut Kernel, page: u32) -> bool {
    let Some((weak, index)) = k.page_cache.shmem_frames.get(&page).cloned() else { return false };
    let Some(obj) = weak.upgrade() else { return false };
    if obj.locked.get() || k.frames.count(page) != 1 {
        return false;
    }
    let Some(entry) = super::swap::get_swap_page(k) else { return false };
    if !super::swap::add_to_swap_cache(k, page, entry) {
        super::swap::swap_free(k, entry);
        return false;
    }
    obj.pages.borrow_mut().remove(&index);
    k.page_cache.shmem_frames.remove(&page);
    // The object's frame reference is the swap cache's now (add_to_swap_cache took
    // one); get_swap_page's slot reference is the object's swap entry.
    k.frames.put(page, k.cpu.mmu.phys_mut());
    obj.swap.borrow_mut().insert(index, entry);
    k.frames.set_flag(page, super::frames::PG_DIRTY, true);
    let slot = super::swap::swp_offset(entry);
    super::vmscan::record_writepage(k, page, index, slot);
    true
}

/// Frees the pages of a shmem object whose last user is going away
/// (`shmem_delete_inode` → `shmem_truncate`): its frames, and its slots in swap
/// (`shmem_free_swp` → `free_swap_and_cache`). The PTEs mapping them must already
/// be zapped.
pub fn shmem_release(k: &mut Kernel, obj: &ShmemObject) {
    let pages = std::mem::take(&mut *obj.pages.borrow_mut());
    for frame in pages.into_values() {
        k.page_cache.shmem_frames.remove(&frame);
        k.frames.put(frame, k.cpu.mmu.phys_mut());
    }
    let swap = std::mem::take(&mut *obj.swap.borrow_mut());
    shmem_free_swp(k, swap.into_values());
}

/// `shmem_free_swp`: each entry's slot loses the object's reference, and a copy
/// still in the swap cache goes with it.
fn shmem_free_swp(k: &mut Kernel, entries: impl IntoIterator<Item = u32>) {
    for entry in entries {
        super::swap::free_swap_and_cache(k, entry);
    }
}

/// `shmem_unuse` (from `try_to_unuse`, for swapoff): every page of every shmem
/// object that is in swap is read back (through the swap cache) and put back in its
/// object, as `shmem_getpage` would but without a fault. The objects are found
/// through the IPC namespace and every address space's VMAs, in that order. ENOMEM
/// when a page cannot be had; the pages read so far stay in memory.
pub fn shmem_unuse(k: &mut Kernel) -> Result<(), Errno> {
    let mut objs: Vec<Rc<ShmemObject>> = crate::ipc::shm_objects(k);
    let mms = std::iter::once(&k.task.mm).chain(k.parked.mm.values());
    for mm in mms {
        for v in &mm.mmap {
            if let super::vma::Backing::Shmem { obj } = &v.backing {
                objs.push(obj.clone());
            }
        }
    }
    let mut seen: Vec<*const ShmemObject> = Vec::new();
    for obj in objs {
        if seen.contains(&Rc::as_ptr(&obj)) {
            continue;
        }
        seen.push(Rc::as_ptr(&obj));
        let entries: Vec<(u32, u32)> = obj.swap.borrow().iter().map(|(&i, &e)| (i, e)).collect();
        for (index, entry) in entries {
            let Some(page) = super::swap::read_swap_cache_async(k, entry) else {
                // swapoff's ENOMEM, which the guest is told: no log above debug.
                log::debug!(target: "kernel::mm", "shmem_unuse: no page for slot {}", super::swap::swp_offset(entry));
                return Err(libc::ENOMEM);
            };
            shmem_swapin_done(k, &obj, index, entry, page);
            k.frames.put(page, k.cpu.mmu.phys_mut());
        }
    }
    Ok(())
}

/// A file mapped MAP_SHARED (2.4: the pages of the inode's `address_space` that
/// `filemap_nopage` finds with `find_get_page`): one frame per file page, shared by
/// every MAP_SHARED mapping of the file in every process, so a store through one is
/// seen through all of them. The object holds one reference on each of its frames.
///
/// A page is dirty when some PTE mapping it has the D bit (the CPU sets it on the
/// first store, SDM Vol. 3A §4.8), or when a zapped PTE had it ([`set_page_dirty`]).
/// Dirty pages go back to the host file with `pwrite` (2.4's `filemap_sync` +
/// `filemap_fdatasync`): on msync, fsync/fdatasync/sync, before a `read` or `write`
/// of the file through a descriptor (so both stay coherent), and when the last
/// mapping goes away (munmap, exit). Only the part of a page below end of file is
/// written: a mapping never grows the file.
#[derive(Debug)]
pub struct SharedFile {
    pub dev: u64,
    pub ino: u64,
    /// The descriptor pages are read and written through: a writable one as soon as
    /// some mapping was made from a writable descriptor.
    file: RefCell<Rc<FileBacking>>,
    pages: RefCell<BTreeMap<u32, u32>>,
    dirty: RefCell<std::collections::BTreeSet<u32>>,
}

impl SharedFile {
    /// The host file behind the mapping.
    pub fn file(&self) -> Rc<FileBacking> {
        self.file.borrow().clone()
    }
}

/// The shared-mapping object of `file`'s inode: the one every MAP_SHARED mapping of
/// it uses (created by the first). A writable descriptor replaces a read-only one for
/// write-back.
pub fn shared_file(k: &mut Kernel, file: Rc<FileBacking>) -> Rc<SharedFile> {
    let key = (file.dev, file.ino);
    if let Some(sf) = k.page_cache.shared.get(&key).and_then(std::rc::Weak::upgrade) {
        if file.writable && !sf.file.borrow().writable {
            *sf.file.borrow_mut() = file;
        }
        return sf;
    }
    let sf = Rc::new(SharedFile {
        dev: file.dev,
        ino: file.ino,
        file: RefCell::new(file),
        pages: RefCell::default(),
        dirty: RefCell::default(),
    });
    k.page_cache.shared.insert(key, Rc::downgrade(&sf));
    sf
}

/// `filemap_nopage` for a shared mapping: SIGBUS at or beyond end of file; the
/// object's page if it has it (`find_get_page` hit), else one read from the file.
/// One reference taken for the caller.
pub fn shared_nopage(k: &mut Kernel, sf: &SharedFile, index: u32) -> NoPage {
    let file = sf.file();
    if let Some(r) = beyond_eof(&file, index) {
        return r;
    }
    let cached = sf.pages.borrow().get(&index).copied();
    if let Some(frame) = cached {
        return cache_hit(k, frame);
    }
    let frame = match read_new_page(k, &file, index) {
        Ok(f) => f,
        Err(r) => return r,
    };
    // The allocation's reference is the object's; take one for the caller.
    sf.pages.borrow_mut().insert(index, frame);
    k.page_cache.shared_frames.insert(frame, (sf.dev, sf.ino, index));
    k.frames.get(frame);
    NoPage::Page(frame)
}

/// `set_page_dirty` for a frame whose PTE had the D bit when it was zapped: if the
/// frame belongs to a shared file mapping, its page must be written back.
pub fn set_page_dirty(k: &Kernel, frame: u32) {
    // Every dirty page zapped (munmap, exit) comes here: no hashing while no file
    // is mapped MAP_SHARED.
    if k.page_cache.shared_frames.is_empty() {
        return;
    }
    if let Some(&(dev, ino, index)) = k.page_cache.shared_frames.get(&frame) {
        if let Some(sf) = k.page_cache.shared.get(&(dev, ino)).and_then(std::rc::Weak::upgrade) {
            sf.dirty.borrow_mut().insert(index);
        }
    }
}

/// The present PTEs that map `sf`'s pages, in every address space: whose (`None`
/// the current task's, else the parked mm's id), the PTE's physical address, the PTE,
/// and the file page it maps.
fn mapped_ptes(k: &Kernel, sf: &Rc<SharedFile>) -> Vec<(Option<u32>, u32, u32, u32)> {
    let mms = std::iter::once((None, &k.task.mm)).chain(k.parked.mm.iter().map(|(&id, m)| (Some(id), m)));
    let mut found = Vec::new();
    for (id, mm) in mms {
        for v in &mm.mmap {
            let super::vma::Backing::SharedFile { map, .. } = &v.backing else { continue };
            if !Rc::ptr_eq(map, sf) {
                continue;
            }
            let mut a = v.start;
            while a < v.end {
                if let Some(pa) = super::pgtable::pte_offset(k.cpu.mmu.phys(), mm.pgd, a) {
                    let pte = k.cpu.mmu.phys().read_u32(pa);
                    if pte & super::pgtable::_PAGE_PRESENT != 0 {
                        found.push((id, pa, pte, ((a - v.start) >> 12).wrapping_add(v.pgoff)));
                    }
                }
                a += crate::PAGE_SIZE;
            }
        }
    }
    found
}

/// `filemap_sync` over every address space: moves the D bits of the PTEs that map
/// `sf`'s pages into its dirty set, clearing them (the next store sets them again;
/// the current task's TLB is flushed so that it does).
fn collect_dirty(k: &mut Kernel, sf: &Rc<SharedFile>) {
    let mut flush = false;
    for (id, pa, pte, index) in mapped_ptes(k, sf) {
        if pte & super::pgtable::_PAGE_DIRTY != 0 {
            k.cpu.mmu.phys_mut().write_u32(pa, pte & !super::pgtable::_PAGE_DIRTY);
            sf.dirty.borrow_mut().insert(index);
            flush |= id.is_none();
        }
    }
    if flush {
        super::pgtable::flush_tlb_mm(k);
    }
}

/// Writes `sf`'s dirty pages in `[first, last]` back to the host file
/// (`filemap_fdatasync`), each up to end of file. Returns the first host error.
pub fn writeback(k: &mut Kernel, sf: &Rc<SharedFile>, first: u32, last: u32) -> Result<(), Errno> {
    collect_dirty(k, sf);
    let file = sf.file();
    let size = file.size()?;
    let dirty: Vec<u32> = sf.dirty.borrow().range(first..=last).copied().collect();
    let mut result = Ok(());
    for index in dirty {
        sf.dirty.borrow_mut().remove(&index);
        let Some(&frame) = sf.pages.borrow().get(&index) else { continue };
        let off = u64::from(index) * u64::from(crate::PAGE_SIZE);
        if off >= size {
            continue;
        }
        if !file.writable {
            log::warn!(target: "kernel::mm", "msync: {} has no writable descriptor; page {index} not written", file.path);
            continue;
        }
        let n = (size - off).min(u64::from(crate::PAGE_SIZE)) as usize;
        let data = &k.cpu.mmu.phys_mut().frame_mut(frame)[..n];
        // SAFETY: `data` is `n` readable bytes of a live frame.
        let w = unsafe { libc::pwrite(file.host_fd, data.as_ptr().cast(), n, off as libc::off_t) };
        if w < 0 && result.is_ok() {
            result = Err(host_errno());
        }
    }
    result
}

/// The shared-mapping object of the host file behind descriptor `host_fd`, if the
/// file is mapped MAP_SHARED somewhere.
pub fn shared_of_fd(k: &Kernel, host_fd: i32) -> Option<Rc<SharedFile>> {
    if k.page_cache.shared.is_empty() {
        return None;
    }
    let st = host_fstat(host_fd).ok()?;
    k.page_cache.shared.get(&(st.dev, st.ino)).and_then(std::rc::Weak::upgrade)
}

/// Before a `read`/`write`/`fsync` of a descriptor: the mapped file's dirty pages go
/// to the host file first, so the call sees (and, for a write, merges with) the
/// stores made through mappings.
pub fn sync_fd(k: &mut Kernel, host_fd: i32) -> Result<(), Errno> {
    match shared_of_fd(k, host_fd) {
        Some(sf) => writeback(k, &sf, 0, u32::MAX),
        None => Ok(()),
    }
}

/// After a `write` of `[off, off + len)` through a descriptor: the mapped file's
/// pages in that range are read again, so every mapping sees the new bytes (2.4's
/// `generic_file_write` writes into the page-cache pages themselves).
pub fn refresh_fd(k: &mut Kernel, host_fd: i32, off: u64, len: u64) {
    let Some(sf) = shared_of_fd(k, host_fd) else { return };
    if len == 0 {
        return;
    }
    let first = (off / u64::from(crate::PAGE_SIZE)) as u32;
    let last = ((off + len - 1) / u64::from(crate::PAGE_SIZE)).min(u64::from(u32::MAX)) as u32;
    let frames: Vec<(u32, u32)> = sf.pages.borrow().range(first..=last).map(|(&i, &f)| (i, f)).collect();
    let file = sf.file();
    for (index, frame) in frames {
        k.cpu.mmu.phys_mut().frame_mut(frame).fill(0);
        if let Err(e) = read_page(k, &file, index, frame) {
            log::warn!(target: "kernel::mm", "re-reading page {index} of {}: errno {e}", file.path);
        }
    }
}

/// sync/syncfs: every mapped file's dirty pages are written back.
pub fn writeback_all(k: &mut Kernel) {
    let files: Vec<Rc<SharedFile>> = k.page_cache.shared.values().filter_map(std::rc::Weak::upgrade).collect();
    for sf in files {
        if let Err(e) = writeback(k, &sf, 0, u32::MAX) {
            log::warn!(target: "kernel::mm", "writing back {}: errno {e}", sf.file().path);
        }
    }
}

/// The last mapping of a shared file goes away: its dirty pages are written back
/// and its frames freed (the PTEs mapping them are already zapped).
pub fn shared_release(k: &mut Kernel, sf: &Rc<SharedFile>) {
    if let Err(e) = writeback(k, sf, 0, u32::MAX) {
        log::warn!(target: "kernel::mm", "writing back {}: errno {e}", sf.file().path);
    }
    let pages = std::mem::take(&mut *sf.pages.borrow_mut());
    for frame in pages.into_values() {
        k.page_cache.shared_frames.remove(&frame);
        k.frames.put(frame, k.cpu.mmu.phys_mut());
    }
    k.page_cache.shared.remove(&(sf.dev, sf.ino));
}

/// msync(addr, len, flags) (today's checks: EINVAL for an unaligned address or bad
/// flags, or MS_SYNC with MS_ASYNC; ENOMEM if part of the range is not mapped, after
/// the mapped parts are done; EBUSY for MS_INVALIDATE on a locked mapping). MS_SYNC
/// and MS_ASYNC both write the range's dirty shared pages back now, so the host file
/// holds them when the call returns (today's MS_ASYNC only schedules it); private
/// mappings have nothing to write.
pub fn sys_msync(k: &mut Kernel, a: crate::syscall::Args) -> crate::errno::SysResult {
    use super::vma::{Backing, VM_LOCKED};
    const MS_ASYNC: u32 = 1;
    const MS_INVALIDATE: u32 = 2;
    const MS_SYNC: u32 = 4;
    let (start, len, flags) = (a[0], a[1], a[2]);
    if start & (crate::PAGE_SIZE - 1) != 0
        || flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0
        || flags & (MS_ASYNC | MS_SYNC) == (MS_ASYNC | MS_SYNC)
    {
        return Err(libc::EINVAL);
    }
    let len = crate::page_align(len);
    let Some(end) = start.checked_add(len) else { return Err(libc::ENOMEM) };
    if end == start {
        return Ok(0);
    }
    let mut unmapped = false;
    let mut a = start;
    while a < end {
        let Some(v) = k.task.mm.find_vma(a).cloned() else {
            unmapped = true;
            break;
        };
        if v.start > a {
            unmapped = true;
            a = v.start;
            if a >= end {
                break;
            }
        }
        if flags & MS_INVALIDATE != 0 && v.flags & VM_LOCKED != 0 {
            return Err(libc::EBUSY);
        }
        let to = end.min(v.end);
        if let Backing::SharedFile { map, .. } = &v.backing {
            let first = ((a - v.start) >> 12).wrapping_add(v.pgoff);
            let last = ((to - 1 - v.start) >> 12).wrapping_add(v.pgoff);
            writeback(k, map, first, last)?;
        }
        a = to;
    }
    if unmapped {
        Err(libc::ENOMEM)
    } else {
        Ok(0)
    }
}

/// `shmem_fallocate(FALLOC_FL_PUNCH_HOLE)` for MADV_REMOVE: the object drops pages
/// `first..first + count`, which read back as zeros on the next fault. Only the
/// caller's PTEs are zapped (by the caller): another process sharing the object
/// after fork keeps the frames it has mapped (today's `unmap_mapping_range` would
/// zap them too).
pub fn shmem_punch_hole(k: &mut Kernel, obj: &ShmemObject, first: u32, count: u32) {
    let range = first..first.saturating_add(count);
    for frame in take_range(&obj.pages, range.clone()) {
        k.page_cache.shmem_frames.remove(&frame);
        k.frames.put(frame, k.cpu.mmu.phys_mut());
    }
    // shmem_truncate_range: the range's pages in swap lose their slots too.
    shmem_free_swp(k, take_range(&obj.swap, range));
}

/// Removes the pages of `range` from an object's page map; returns their frames
/// (or swap entries), whose references the caller drops.
fn take_range(pages: &RefCell<BTreeMap<u32, u32>>, range: std::ops::Range<u32>) -> Vec<u32> {
    let mut pages = pages.borrow_mut();
    let idx: Vec<u32> = pages.range(range).map(|(&i, _)| i).collect();
    idx.iter().filter_map(|i| pages.remove(i)).collect()
}

/// Drops `sf`'s pages of `range`, dirty or not, and frees their frames.
fn drop_shared_pages(k: &mut Kernel, sf: &SharedFile, range: std::ops::Range<u32>) {
    sf.dirty.borrow_mut().retain(|i| !range.contains(i));
    for frame in take_range(&sf.pages, range) {
        k.page_cache.shared_frames.remove(&frame);
        k.frames.put(frame, k.cpu.mmu.phys_mut());
    }
}

/// MADV_REMOVE on a shared file mapping (`vfs_fallocate(PUNCH_HOLE | KEEP_SIZE)`):
/// the file's pages `first..first + count` go from the object, dirty or not, and
/// the host file gets the hole; they read back as zeros. The caller has zapped its
/// own PTEs; other processes' mappings keep the frames they hold (as for shmem).
pub fn shared_punch_hole(k: &mut Kernel, sf: &Rc<SharedFile>, first: u32, count: u32) -> Result<(), Errno> {
    drop_shared_pages(k, sf, first..first.saturating_add(count));
    let file = sf.file();
    let (off, len) = (i64::from(first) * 4096, i64::from(count) * 4096);
    // SAFETY: fallocate on a descriptor the object owns; no pointers.
    let r = unsafe {
        libc::fallocate(file.host_fd, libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE, off, len)
    };
    if r < 0 {
        return Err(host_errno());
    }
    Ok(())
}

/// `vmtruncate` after a file mapped MAP_SHARED shrank to `size` bytes: the pages
/// wholly past the new end leave every mapping of the file in every process (a later
/// access is SIGBUS, from `filemap_nopage`'s size check) and the object; what they
/// held is gone with them, as the truncation discarded it.
pub fn vmtruncate(k: &mut Kernel, sf: &Rc<SharedFile>, size: u64) {
    let keep = u32::try_from(size.div_ceil(u64::from(crate::PAGE_SIZE))).unwrap_or(u32::MAX);
    let mut flush = false;
    for (id, pa, pte, index) in mapped_ptes(k, sf) {
        if index < keep {
            continue;
        }
        k.cpu.mmu.phys_mut().write_u32(pa, 0);
        k.frames.put(pte >> 12, k.cpu.mmu.phys_mut());
        let mm = match id {
            None => Some(&mut k.task.mm),
            Some(id) => k.parked.mm.get_mut(&id),
        };
        if let Some(mm) = mm {
            mm.rss = mm.rss.saturating_sub(1);
        }
        flush |= id.is_none();
    }
    if flush {
        super::pgtable::flush_tlb_mm(k);
    }
    drop_shared_pages(k, sf, keep..u32::MAX);
}

/// After a host truncate of `(dev, ino)` to `size`: [`vmtruncate`] if the file is
/// mapped MAP_SHARED.
pub fn truncated(k: &mut Kernel, dev: u64, ino: u64, size: u64) {
    if let Some(sf) = k.page_cache.shared.get(&(dev, ino)).and_then(std::rc::Weak::upgrade) {
        vmtruncate(k, &sf, size);
    }
}
