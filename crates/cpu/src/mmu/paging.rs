//! The two-level page walk of 32-bit paging (SDM Vol. 3A §4.3), with the access rights
//! of §4.6 and the Accessed/Dirty updates of §4.8.
//!
//! Rights are combined over both levels the way 486-and-later processors do it: a user
//! access needs U/S=1 in the PDE *and* the PTE; a user write needs R/W=1 in both; a
//! supervisor write needs R/W=1 in both only when CR0.WP=1 (Linux 2.4 sets WP at boot,
//! so `copy_to_user` into a read-only COW page faults with error code 3).

use super::tlb::{AccessKind, Grant};
use super::{Mmu, PageFault};

pub const PTE_P: u32 = 0x001;
pub const PTE_RW: u32 = 0x002;
pub const PTE_US: u32 = 0x004;
pub const PTE_PWT: u32 = 0x008;
pub const PTE_PCD: u32 = 0x010;
pub const PTE_A: u32 = 0x020;
pub const PTE_D: u32 = 0x040;
/// Page size in a PDE (4 MiB page when CR4.PSE=1).
pub const PDE_PS: u32 = 0x080;
pub const PTE_G: u32 = 0x100;

pub const PF_PRESENT: u32 = 1;
pub const PF_WRITE: u32 = 2;
pub const PF_USER: u32 = 4;
/// A reserved bit was set in a present paging-structure entry (SDM Vol. 3A §4.7).
pub const PF_RSVD: u32 = 8;

/// Bits 21:12 of a PDE that maps a 4 MiB page. This processor reports neither PAT nor
/// PSE-36 in CPUID, so all of them are reserved (SDM Vol. 3A §4.3, Table 4-4: bit 12
/// is PAT "if the PAT is supported ... otherwise, reserved"; bits 21:13 hold physical
/// address bits above 31 only with PSE-36).
const PDE_4M_RESERVED: u32 = 0x003f_f000;

/// What a successful walk produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Walked {
    /// Physical address of the 4 KiB page holding the linear address.
    pub page_base: u32,
    pub grant: Grant,
    /// D is set in the entry that maps the page (after this walk's own update).
    pub dirty: bool,
    pub large: bool,
}

/// Read-only view of how a linear address is mapped, for traces and the kernel's
/// own inspection. Never changes A/D bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub pde: u32,
    /// `None` for a 4 MiB page or when the PDE is not present.
    pub pte: Option<u32>,
    pub phys: Option<u32>,
}

impl Mmu {
    fn fault(&mut self, lin: u32, kind: AccessKind, present: bool) -> PageFault {
        let code = (u32::from(present) * PF_PRESENT)
            | (u32::from(kind.is_write()) * PF_WRITE)
            | (u32::from(kind.is_user()) * PF_USER);
        // The processor loads CR2 with the faulting linear address (SDM Vol. 3A §6.15,
        // interrupt 14).
        self.cr2 = lin;
        PageFault { addr: lin, code }
    }

    fn allowed(&self, us: bool, rw: bool, kind: AccessKind) -> bool {
        match kind {
            AccessKind::UserRead => us,
            AccessKind::UserWrite => us && rw,
            AccessKind::SupRead => true,
            AccessKind::SupWrite => rw || self.cr0 & super::CR0_WP == 0,
        }
    }

    fn grant(&self, us: bool, rw: bool, global: bool) -> Grant {
        Grant {
            user_read: us,
            user_write: us && rw,
            sup_write: rw || self.cr0 & super::CR0_WP == 0,
            global: global && self.cr4 & super::CR4_PGE != 0,
        }
    }

    /// Walks the tables in guest physical memory for `lin`, checks `kind`, and sets
    /// Accessed (and Dirty for a write) in the entries used. On a violation nothing is
    /// updated and the #PF error code says why.
    pub(crate) fn walk(&mut self, lin: u32, kind: AccessKind) -> Result<Walked, PageFault> {
        self.walks += 1;
        let pde_addr = (self.cr3 & 0xffff_f000) | ((lin >> 22) << 2);
        let pde = self.phys.read_u32(pde_addr);
        if pde & PTE_P == 0 {
            return Err(self.fault(lin, kind, false));
        }
        let write = kind.is_write();
        if pde & PDE_PS != 0 && self.cr4 & super::CR4_PSE != 0 {
            // 4 MiB page: the PDE is the only level (SDM Vol. 3A §4.3, Table 4-4).
            if pde & PDE_4M_RESERVED != 0 {
                // Fix: a reserved bit set in a present entry is a reserved-bit violation:
                // #PF with P=1 and RSVD=1 in the error code, no translation, no A/D update
                // (SDM Vol. 3A §4.3, Table 4-4; §4.7). It used to be silently ignored.
                let mut pf = self.fault(lin, kind, true);
                pf.code |= PF_RSVD;
                return Err(pf);
            }
            let (us, rw) = (pde & PTE_US != 0, pde & PTE_RW != 0);
            if !self.allowed(us, rw, kind) {
                return Err(self.fault(lin, kind, true));
            }
            let new = pde | PTE_A | if write { PTE_D } else { 0 };
            if new != pde {
                self.phys.write_u32(pde_addr, new);
            }
            return Ok(Walked {
                page_base: (pde & 0xffc0_0000) | (lin & 0x003f_f000),
                grant: self.grant(us, rw, pde & PTE_G != 0),
                dirty: new & PTE_D != 0,
                large: true,
            });
        }
        let pte_addr = (pde & 0xffff_f000) | (((lin >> 12) & 0x3ff) << 2);
        let pte = self.phys.read_u32(pte_addr);
        if pte & PTE_P == 0 {
            return Err(self.fault(lin, kind, false));
        }
        let us = pde & pte & PTE_US != 0;
        let rw = pde & pte & PTE_RW != 0;
        if !self.allowed(us, rw, kind) {
            return Err(self.fault(lin, kind, true));
        }
        if pde & PTE_A == 0 {
            self.phys.write_u32(pde_addr, pde | PTE_A);
        }
        let new = pte | PTE_A | if write { PTE_D } else { 0 };
        if new != pte {
            self.phys.write_u32(pte_addr, new);
        }
        Ok(Walked {
            page_base: pte & 0xffff_f000,
            grant: self.grant(us, rw, pte & PTE_G != 0),
            dirty: new & PTE_D != 0,
            large: false,
        })
    }

    /// How `lin` is mapped right now in the tables CR3 points at (not the TLB).
    pub fn mapping(&self, lin: u32) -> Mapping {
        let pde = self.phys.read_u32((self.cr3 & 0xffff_f000) | ((lin >> 22) << 2));
        if pde & PTE_P == 0 {
            return Mapping { pde, pte: None, phys: None };
        }
        if pde & PDE_PS != 0 && self.cr4 & super::CR4_PSE != 0 {
            return Mapping { pde, pte: None, phys: Some((pde & 0xffc0_0000) | (lin & 0x003f_ffff)) };
        }
        let pte = self.phys.read_u32((pde & 0xffff_f000) | (((lin >> 12) & 0x3ff) << 2));
        let phys = (pte & PTE_P != 0).then_some((pte & 0xffff_f000) | (lin & 0xfff));
        Mapping { pde, pte: Some(pte), phys }
    }
}
