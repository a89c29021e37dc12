//! Test machine: a CPU with flat user segments and hand-built page tables.
#![allow(dead_code)]

use growsdown_cpu::mmu::{CR0_PG, CR0_WP, PTE_P, PTE_RW, PTE_US};
use growsdown_cpu::{Cpu, Descriptor, SegReg};

pub const PD: u32 = 0x1000;
/// Page tables are allocated from here upward, one per 4 MiB region.
pub const PT_BASE: u32 = 0x2000;

pub struct Machine {
    pub cpu: Cpu,
    next_pt: u32,
    /// Next free frame for data pages.
    pub next_frame: u32,
}

impl Machine {
    /// 16 MiB of RAM, paging and WP on, flat CPL-3 segments (GDT 4 = code 0x23,
    /// 5 = data 0x2b, as Linux 2.4 lays them out).
    pub fn new() -> Self {
        let mut cpu = Cpu::new(16 << 20);
        cpu.gdt[4] = Descriptor::encode(0, 0xfffff, 0xc0fb);
        cpu.gdt[5] = Descriptor::encode(0, 0xfffff, 0xc0f3);
        cpu.force_cs(0x23);
        for s in [SegReg::Ds, SegReg::Es, SegReg::Ss] {
            cpu.load_segment(s, 0x2b).unwrap();
        }
        cpu.mmu.set_cr3(PD);
        cpu.mmu.set_cr0(cpu.mmu.cr0() | CR0_PG | CR0_WP);
        Self { cpu, next_pt: PT_BASE, next_frame: 0x100 }
    }

    /// Maps linear page `lin` to a fresh zeroed frame with PTE flags `flags`
    /// (PDE gets P|RW|US). Returns the frame's physical address.
    pub fn map(&mut self, lin: u32, flags: u32) -> u32 {
        let frame = self.next_frame << 12;
        self.next_frame += 1;
        self.map_to(lin, frame, flags, PTE_P | PTE_RW | PTE_US);
        frame
    }

    pub fn map_to(&mut self, lin: u32, phys: u32, pte_flags: u32, pde_flags: u32) {
        let pde_addr = PD + (lin >> 22) * 4;
        let mut pde = self.cpu.mmu.phys().read_u32(pde_addr);
        if pde & PTE_P == 0 {
            pde = self.next_pt;
            self.next_pt += 0x1000;
        }
        pde = (pde & !0xfff) | pde_flags;
        self.cpu.mmu.phys_mut().write_u32(pde_addr, pde);
        let pte_addr = (pde & !0xfff) + ((lin >> 12) & 0x3ff) * 4;
        self.cpu.mmu.phys_mut().write_u32(pte_addr, phys | pte_flags);
    }

    pub fn pte(&self, lin: u32) -> u32 {
        self.cpu.mmu.mapping(lin).pte.unwrap_or(0)
    }

    /// Loads code at `lin` (page must be mapped) and points EIP at it.
    pub fn load_code(&mut self, lin: u32, code: &[u8]) {
        let phys = self.cpu.mmu.mapping(lin).phys.expect("code page mapped");
        self.cpu.mmu.phys_mut().write_bytes(phys, code);
        self.cpu.eip = lin;
    }
}

impl Default for Machine {
    fn default() -> Self {
        Self::new()
    }
}
