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

    /// Opens `path` read-only for `load_elf_binary`.
    pub fn open(path: &str) -> Result<Rc<Self>, String> {
        let file = std::fs::File::open(path).map_err(|e| format!("cannot open {path}: {e}"))?;
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
    let size = match file.size() {
        Ok(s) => s,
        Err(e) => {
            log::warn!(target: "kernel::mm", "filemap_nopage: fstat {}: errno {e}", file.path);
            return NoPage::Sigbus;
        }
    };
    let size_pages = size.div_ceil(u64::from(crate::PAGE_SIZE));
    if u64::from(index) >= size_pages {
        return NoPage::Sigbus;
    }
    let key = (file.dev, file.ino, file.mtime, index);
    if let Some(frame) = k.page_cache.lookup(key) {
        k.page_cache.hits += 1;
        k.frames.get(frame);
        return NoPage::Page(frame);
    }
    let Some(frame) = k.frames.alloc(&mut k.cpu.mmu.phys) else {
        return NoPage::Oom;
    };
    k.task.stats.pages_allocated += 1;
    if let Err(e) = read_page(k, file, index, frame) {
        log::warn!(target: "kernel::mm", "filemap_nopage: reading page {index} of {}: errno {e}", file.path);
        k.frames.put(frame, &mut k.cpu.mmu.phys);
        return NoPage::Sigbus;
    }
    k.page_cache.misses += 1;
    // The allocation's reference becomes the page cache's; take one for the caller.
    k.frames.set_page_cache(frame, true);
    k.page_cache.insert(key, frame);
    k.frames.get(frame);
    NoPage::Page(frame)
}

/// Reads page `index` of the host file into `frame` (already zeroed).
fn read_page(k: &mut Kernel, file: &FileBacking, index: u32, frame: u32) -> Result<(), Errno> {
    let buf = k.cpu.mmu.phys.frame_mut(frame);
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
    let left = k.frames.put(frame, &mut k.cpu.mmu.phys);
    if left == 1 && k.frames.in_page_cache(frame) {
        k.page_cache.remove_frame(frame);
        k.frames.set_page_cache(frame, false);
        k.frames.put(frame, &mut k.cpu.mmu.phys);
    }
}

/// The internal shmem file behind a shared anonymous mapping (2.4's
/// `shmem_zero_setup`, `mm/shmem.c`): page index → frame. The object holds one
/// reference on each of its frames for as long as some VMA refers to it, so the pages
/// survive their PTEs being zapped (MADV_DONTNEED, a partial munmap) and are found
/// again by every process that shares the mapping after fork. There is no swap, so
/// pages are never written anywhere.
#[derive(Debug, Default)]
pub struct ShmemObject {
    pages: RefCell<BTreeMap<u32, u32>>,
}

impl ShmemObject {
    /// Frames the object holds.
    pub fn nr_pages(&self) -> usize {
        self.pages.borrow().len()
    }
}

/// `shmem_nopage`: the object's page `index`, allocated zero-filled on first use,
/// with one reference taken for the caller.
pub fn shmem_nopage(k: &mut Kernel, obj: &ShmemObject, index: u32) -> NoPage {
    if let Some(&frame) = obj.pages.borrow().get(&index) {
        k.frames.get(frame);
        return NoPage::Page(frame);
    }
    let Some(frame) = k.frames.alloc(&mut k.cpu.mmu.phys) else {
        return NoPage::Oom;
    };
    k.task.stats.pages_allocated += 1;
    // The allocation's reference is the object's; take one for the caller.
    obj.pages.borrow_mut().insert(index, frame);
    k.frames.get(frame);
    NoPage::Page(frame)
}

/// Frees the pages of a shmem object whose last VMA is going away (`shmem_delete_inode`).
/// The PTEs mapping them must already be zapped.
pub fn shmem_release(k: &mut Kernel, obj: &ShmemObject) {
    let pages = std::mem::take(&mut *obj.pages.borrow_mut());
    for frame in pages.into_values() {
        k.frames.put(frame, &mut k.cpu.mmu.phys);
    }
}

/// `shmem_fallocate(FALLOC_FL_PUNCH_HOLE)` for MADV_REMOVE: the object drops pages
/// `first..first + count`, which read back as zeros on the next fault. Only the
/// caller's PTEs are zapped (by the caller): another process sharing the object
/// after fork keeps the frames it has mapped (today's `unmap_mapping_range` would
/// zap them too).
pub fn shmem_punch_hole(k: &mut Kernel, obj: &ShmemObject, first: u32, count: u32) {
    let gone: Vec<u32> = {
        let mut pages = obj.pages.borrow_mut();
        let idx: Vec<u32> = pages.range(first..first.saturating_add(count)).map(|(&i, _)| i).collect();
        idx.iter().filter_map(|i| pages.remove(i)).collect()
    };
    for frame in gone {
        k.frames.put(frame, &mut k.cpu.mmu.phys);
    }
}
