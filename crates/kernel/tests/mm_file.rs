//! File mappings: linux24.md §8 scenarios 15 and 16, the page cache, and the limits of
//! MAP_SHARED file mappings.

mod mm_util;

use std::os::fd::AsRawFd;

use growsdown_kernel::errno::EACCES;
use growsdown_kernel::mm::filemap::FileBacking;
use growsdown_kernel::mm::mmap::*;
use growsdown_kernel::signal::{BUS_ADRERR, SIGBUS};
use growsdown_kernel::trace::{FaultResult, Step};
use mm_util::*;

/// Maps `host` (a host descriptor) the way sys_mmap2 does after the fd lookup.
fn map_file(
    m: &mut Machine,
    host: &std::fs::File,
    len: u32,
    prot: u32,
    flags: u32,
    pgoff: u32,
) -> Result<u32, i32> {
    let f = FileBacking::from_host_fd(host.as_raw_fd())?;
    do_mmap_pgoff(&mut m.k, Some(f), 0, len, prot, flags, pgoff)
}

#[test]
fn scenario_15_file_mapping_beyond_eof_is_sigbus() {
    let mut m = machine();
    let data = TempFile::new(&[0x42; 100]);
    let host = std::fs::File::open(data.path()).unwrap();
    let q = map_file(&mut m, &host, 8192, PROT_READ, MAP_PRIVATE, 0).unwrap();
    assert_eq!(q, 0x4000_0000);

    let (min, maj, rss) = m.counters();
    assert_eq!(m.load(q), Stop::Done);
    assert_eq!(m.eax(), 0x4242_4242);
    let ev = m.ev.last();
    assert_eq!((ev.error_code, ev.result), (4, FaultResult::Major));
    assert!(ev.path.contains(&Step::DoNoPage { file_page: 0, early_cow: false }));
    assert_eq!(m.pte(q) & 0xfff, 0x025);
    assert_eq!(m.counters(), (min, maj + 1, rss + 1));
    // Bytes past EOF in the last page read as zero.
    assert_eq!(m.load(q + 100), Stop::Done);
    assert_eq!(m.eax(), 0);

    // Page 1 is at/after EOF in pages (1): nopage returns NULL → SIGBUS.
    assert_eq!(m.load(q + 4096), Stop::Fault(FaultResult::SigBus { si_code: BUS_ADRERR }));
    let si = m.take_signal().expect("SIGBUS");
    assert_eq!((si.signo, si.code, si.addr), (SIGBUS, BUS_ADRERR, q + 4096));
    assert_eq!(m.k.task.thread.cr2, q + 4096);
    assert_eq!(m.ev.last().path.last(), Some(&Step::SigBus));
    assert_eq!(m.counters(), (min, maj + 1, rss + 1), "no counter change");

    // From the kernel side (write(fd2, q+4096, 1)): SIGBUS *and* EFAULT.
    let mut b = [0u8; 1];
    assert_eq!(m.k.copy_from_user(q + 4096, &mut b), Err(0));
    assert_eq!(m.take_signal().map(|s| (s.signo, s.addr)), Some((SIGBUS, q + 4096)));
    assert_eq!(m.ev.last().path.last(), Some(&Step::NoContextFixup));
}

#[test]
fn scenario_16_private_file_mapping_write_first_vs_read_then_write() {
    let mut m = machine();
    let mut content = vec![0u8; 8192];
    content[..4096].fill(0x01);
    content[4096..].fill(0x02);
    let data = TempFile::new(&content);
    let host = std::fs::File::open(data.path()).unwrap();
    let q = map_file(&mut m, &host, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, 0).unwrap();

    // Write first: code 6 → do_no_page with early COW → private copy 0x067, major.
    let (min, maj, rss) = m.counters();
    assert_eq!(m.store(q, 0xFFFF_FFFF), Stop::Done);
    let ev = m.ev.last();
    assert_eq!(ev.error_code, 6);
    assert!(ev.path.contains(&Step::DoNoPage { file_page: 0, early_cow: true }));
    assert_eq!(m.pte(q) & 0xfff, 0x067);
    assert_eq!(m.counters(), (min, maj + 1, rss + 1));
    assert_eq!(m.peek(q + 4), 0x0101_0101, "the rest of the page is the file's");

    // Read then write: major (0x025 on the page-cache page), then code 7 → copy.
    assert_eq!(m.load(q + 4096), Stop::Done);
    assert_eq!(m.eax(), 0x0202_0202);
    assert_eq!(m.pte(q + 4096) & 0xfff, 0x025);
    let cached = m.pte(q + 4096) >> 12;
    assert!(m.k.frames.in_page_cache(cached));
    assert_eq!(m.k.frames.count(cached), 2, "page cache + this PTE");
    assert_eq!(m.counters(), (min, maj + 2, rss + 2));
    assert_eq!(m.store(q + 4096, 7), Stop::Done);
    let ev = m.ev.last();
    assert_eq!(ev.error_code, 7);
    assert!(matches!(ev.path.last(), Some(Step::DoWpPage { copied: true, from_zero_page: false, .. })));
    assert_eq!(m.pte(q + 4096) & 0xfff, 0x067);
    assert_ne!(m.pte(q + 4096) >> 12, cached);
    assert_eq!(m.counters(), (min + 1, maj + 2, rss + 2));
    assert_eq!(m.peek(q + 4100), 0x0202_0202);
    // The host file is untouched (private mapping).
    assert_eq!(std::fs::read(data.path()).unwrap(), content);
}

#[test]
fn file_pgoff_maps_and_unmapping_empties_the_page_cache() {
    let mut m = machine();
    let mut content = vec![0u8; 3 * 4096];
    for (i, c) in content.chunks_mut(4096).enumerate() {
        c.fill(i as u8 + 1);
    }
    let data = TempFile::new(&content);
    let host = std::fs::File::open(data.path()).unwrap();
    let cached = m.k.page_cache.len();
    let q = map_file(&mut m, &host, 4096, PROT_READ, MAP_PRIVATE, 2).unwrap();
    assert_eq!(m.load(q), Stop::Done);
    assert_eq!(m.eax(), 0x0303_0303);
    assert_eq!(m.vma(q).map(|v| v.3), Some(2));
    assert!(m
        .k
        .task
        .mm
        .maps()
        .lines()
        .any(|l| l.starts_with("40000000-40001000 r--p 00002000") && l.ends_with(data.path())));
    assert_eq!(m.k.page_cache.len(), cached + 1);
    drop(host); // the mapping keeps its own descriptor
    assert_eq!(m.syscall(sys_munmap, &[q, 4096]), Ok(0));
    assert_eq!(m.k.page_cache.len(), cached);
}

#[test]
fn shared_file_mappings() {
    let mut m = machine();
    let data = TempFile::new(&[5; 4096]);
    let ro = std::fs::File::open(data.path()).unwrap();
    let rw = std::fs::OpenOptions::new().read(true).write(true).open(data.path()).unwrap();
    // Writable MAP_SHARED: EACCES without write access. With it, a store goes to the
    // file's shared page (no copy) and reaches the host file when the mapping goes.
    assert_eq!(map_file(&mut m, &ro, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, 0), Err(EACCES));
    let w = map_file(&mut m, &rw, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, 0).unwrap();
    assert_eq!(m.store(w + 8, 0x1122_3344), Stop::Done);
    assert_eq!(m.pte(w) & 0x040, 0x040, "dirty");
    assert_eq!(m.syscall(sys_munmap, &[w, 4096]), Ok(0));
    let bytes = std::fs::read(data.path()).unwrap();
    assert_eq!(bytes[8..12], 0x1122_3344u32.to_le_bytes(), "written back at munmap");
    assert_eq!(bytes[12], 5);
    // Read-only MAP_SHARED works, shows 's', and cannot be made writable.
    let q = map_file(&mut m, &ro, 4096, PROT_READ, MAP_SHARED, 0).unwrap();
    assert!(m.k.task.mm.maps().contains("40000000-40001000 r--s"));
    assert_eq!(m.load(q), Stop::Done);
    assert_eq!(m.eax(), 0x0505_0505);
    assert_eq!(m.syscall(sys_mprotect, &[q, 4096, PROT_READ | PROT_WRITE]), Err(EACCES));
    // GROWSDOWN file mappings are refused.
    assert_eq!(map_file(&mut m, &ro, 4096, PROT_READ, MAP_PRIVATE | MAP_GROWSDOWN, 0), Err(libc::EINVAL));
}
