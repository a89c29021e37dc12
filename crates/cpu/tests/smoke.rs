mod common;

use common::Machine;
use growsdown_cpu::mmu::{PTE_A, PTE_D, PTE_P, PTE_RW, PTE_US};
use growsdown_cpu::{Exception, Exit, PageFault, EAX, ECX};

#[test]
fn mov_through_page_tables_sets_accessed_and_dirty() {
    let mut m = Machine::new();
    m.map(0x0804_8000, PTE_P | PTE_US);
    m.map(0x0805_0000, PTE_P | PTE_US | PTE_RW);
    // mov eax, [0x08050010]; mov [0x08050020], eax; lea ecx, [eax+eax*2+5]
    m.load_code(
        0x0804_8000,
        &[0xa1, 0x10, 0x00, 0x05, 0x08, 0xa3, 0x20, 0x00, 0x05, 0x08, 0x8d, 0x4c, 0x40, 0x05],
    );
    let data = m.cpu.mmu.mapping(0x0805_0000).phys.unwrap();
    m.cpu.mmu.phys_mut().write_u32(data + 0x10, 0x1234_5678);
    assert_eq!(m.cpu.run(3), Exit::Budget);
    assert_eq!(m.cpu.regs[EAX], 0x1234_5678);
    assert_eq!(m.cpu.regs[ECX], 0x1234_5678u32.wrapping_mul(3).wrapping_add(5));
    assert_eq!(m.cpu.mmu.phys().read_u32(data + 0x20), 0x1234_5678);
    assert_eq!(m.pte(0x0805_0000) & (PTE_A | PTE_D), PTE_A | PTE_D);
    assert_eq!(m.pte(0x0804_8000) & (PTE_A | PTE_D), PTE_A);
    assert_eq!(m.cpu.eip, 0x0804_800e);
}

#[test]
fn store_to_read_only_page_faults_precisely() {
    let mut m = Machine::new();
    m.map(0x0804_8000, PTE_P | PTE_US);
    m.load_code(0x0804_8000, &[0xa3, 0x00, 0x81, 0x04, 0x08]); // mov [0x08048100], eax
    assert_eq!(m.cpu.run(10), Exit::Exception(Exception::from(PageFault { addr: 0x0804_8100, code: 7 })));
    assert_eq!(m.cpu.eip, 0x0804_8000);
    assert_eq!(m.cpu.mmu.cr2, 0x0804_8100);
    assert_eq!(m.cpu.icount, 0);
}

/// F3 0F BC is TZCNT only with BMI1; our CPUID does not claim it, so it is BSF:
/// source 0 leaves the destination unchanged and sets ZF (TZCNT would give 32, CF=1).
#[test]
fn tzcnt_encoding_executes_as_bsf_without_bmi1() {
    use growsdown_cpu::flags::{CF, ZF};
    let mut m = Machine::new();
    m.map(0x0804_8000, PTE_P | PTE_US);
    // tzcnt eax, ecx ; lzcnt edx, ecx
    m.load_code(0x0804_8000, &[0xf3, 0x0f, 0xbc, 0xc1, 0xf3, 0x0f, 0xbd, 0xd1]);
    m.cpu.regs[ECX] = 0b1011_0000;
    m.cpu.regs[EAX] = 0xdead_beef;
    assert_eq!(m.cpu.run(2), Exit::Budget);
    assert_eq!(m.cpu.regs[EAX], 4);
    assert_eq!(m.cpu.regs[growsdown_cpu::EDX], 7, "LZCNT encoding runs as BSR");
    assert_eq!(m.cpu.flags.get() & ZF, 0);

    m.cpu.eip = 0x0804_8000;
    m.cpu.regs[ECX] = 0;
    m.cpu.flags.set_cf(false);
    assert_eq!(m.cpu.run(1), Exit::Budget);
    assert_eq!(m.cpu.regs[EAX], 4, "BSF leaves the destination unchanged for a zero source");
    assert_eq!(m.cpu.flags.get() & (ZF | CF), ZF);
}
