//! mincore (218): which pages of a range are resident (today's `mm/mincore.c`; 2.4
//! had its own in `mm/filemap.c` that asked the page cache only).
//!
//! A page is resident when its PTE is present — the ZERO_PAGE a read mapped counts,
//! as today (`mincore_pte_range` looks at `pte_present`). A PTE holding a swap
//! entry is resident while the page is still in the swap cache. A page without a
//! PTE is not resident; for a file mapping today's kernel would look the
//! page up in the host's page cache, which the guest kernel does not see, so such
//! pages read as 0.

use crate::errno::{SysResult, EFAULT, EINVAL, ENOMEM};
use crate::syscall::Args;
use crate::uaccess::access_ok;
use crate::{Kernel, PAGE_SIZE};

use super::pgtable::{get_pte, pte_present, PAGE_MASK};

/// mincore(start, len, vec): errno as today's `sys_mincore` — EINVAL for an unaligned
/// start, ENOMEM for a range outside user space or with unmapped pages, EFAULT when
/// `vec` cannot hold one byte per page.
pub fn sys_mincore(k: &mut Kernel, a: Args) -> SysResult {
    let (start, len, vec) = (a[0], a[1], a[2]);
    if start & !PAGE_MASK != 0 {
        return Err(EINVAL);
    }
    if !access_ok(start, len) {
        return Err(ENOMEM);
    }
    // Counted without PAGE_ALIGN, which could overflow.
    let pages = (len >> 12) + u32::from(len & !PAGE_MASK != 0);
    if !access_ok(vec, pages) {
        return Err(EFAULT);
    }
    let pgd = k.task.mm.pgd;
    let mut addr = start;
    let mut left = pages;
    let mut out = vec;
    while left > 0 {
        // vma_lookup: a page outside every VMA ends the walk with ENOMEM (what was
        // already copied out stays).
        let v = k.task.mm.find_vma(addr).filter(|v| v.start <= addr).ok_or(ENOMEM)?;
        let n = ((v.end - addr) / PAGE_SIZE).min(left);
        let bytes: Vec<u8> =
            (0..n).map(|p| u8::from(resident(k, get_pte(k.cpu.mmu.phys(), pgd, addr + p * PAGE_SIZE)))).collect();
        k.copy_to_user(out, &bytes).map_err(|_| EFAULT)?;
        addr = addr.wrapping_add(n * PAGE_SIZE);
        out = out.wrapping_add(n);
        left -= n;
    }
    Ok(0)
}

/// Today's `mincore_pte_range`: a present PTE is resident; a swap entry is resident
/// while its page is still in the swap cache (`mincore_page` on the swap space).
fn resident(k: &Kernel, pte: u32) -> bool {
    if super::swap::is_swap_pte(pte) {
        return super::swap::cached_frame(k, pte).is_some();
    }
    pte_present(pte)
}
