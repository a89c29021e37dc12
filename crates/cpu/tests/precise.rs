//! Precise faults of the stack, control-transfer, string and exchange instructions:
//! a faulting instruction leaves EIP, every register, EFLAGS and memory as they were
//! (or, for REP string instructions, exactly "as far as it got"), CR2 and the error code
//! are the ones the hardware reports, and the instruction restarts to the right final
//! state once the page is mapped.
//!
//! The expected CR2 values were taken from the host (an AMD EPYC running the same
//! instructions in 32-bit mode with a SIGSEGV handler reading `si_addr`): PUSHAD
//! faults on its first store that hits the hole, ENTER on the final ESP, a CALL on
//! ESP-4, an element that straddles a page on the first byte of the unmapped page.

mod common;

use common::Machine;
use growsdown_cpu::mmu::{PTE_P, PTE_RW, PTE_US};
use growsdown_cpu::{Exception, Exit, PageFault, EAX, EBP, EBX, ECX, EDI, EDX, ESI, ESP};

const CODE: u32 = 0x0804_8000;
/// A stack page; the page below it starts unmapped.
const STACK: u32 = 0xbfff_f000;
const RW: u32 = PTE_P | PTE_RW | PTE_US;
const RO: u32 = PTE_P | PTE_US;

fn machine(code: &[u8]) -> Machine {
    let mut m = Machine::new();
    m.map(CODE, RO);
    m.load_code(CODE, code);
    m.map(STACK, RW);
    m.cpu.regs[ESP] = STACK + 0x800;
    m
}

fn phys(m: &Machine, lin: u32) -> u32 {
    m.cpu.mmu.mapping(lin).phys.expect("mapped")
}

fn write8(m: &mut Machine, lin: u32, v: u8) {
    let p = phys(m, lin);
    m.cpu.mmu.phys_mut().write_u8(p, v);
}

fn read8(m: &Machine, lin: u32) -> u8 {
    m.cpu.mmu.phys().read_u8(phys(m, lin))
}

fn write32(m: &mut Machine, lin: u32, v: u32) {
    for i in 0..4 {
        write8(m, lin + i, (v >> (8 * i)) as u8);
    }
}

fn read32(m: &Machine, lin: u32) -> u32 {
    (0..4).map(|i| u32::from(read8(m, lin + i)) << (8 * i)).sum()
}

fn pf(addr: u32, code: u32) -> Exit {
    Exit::Exception(Exception::from(PageFault { addr, code }))
}

/// Runs one instruction and checks it faulted with (cr2, code) and left EIP, the
/// registers and EFLAGS exactly as they were.
fn assert_fault_changes_nothing(m: &mut Machine, cr2: u32, code: u32) {
    let (regs, eip, flags, icount) = (m.cpu.regs, m.cpu.eip, m.cpu.flags.get(), m.cpu.icount);
    assert_eq!(m.cpu.step(), pf(cr2, code));
    assert_eq!(m.cpu.mmu.cr2, cr2);
    assert_eq!(m.cpu.eip, eip, "EIP must stay at the faulting instruction");
    assert_eq!(m.cpu.regs, regs, "no register may change");
    assert_eq!(m.cpu.flags.get(), flags, "EFLAGS must not change");
    assert_eq!(m.cpu.icount, icount);
}

#[test]
fn pushad_faulting_on_its_fifth_store_writes_nothing_then_restarts() {
    let mut m = machine(&[0x60]); // pushad
    let esp = STACK + 16;
    m.cpu.regs =
        [0x1111_1111, 0x2222_2222, 0x3333_3333, 0x4444_4444, esp, 0x6666_6666, 0x7777_7777, 0x8888_8888];
    for i in 0..16 {
        write8(&mut m, STACK + i, 0x55);
    }
    // Stores go EAX at ESP-4, ECX, EDX, EBX at ESP-16 = STACK, then the original ESP
    // at ESP-20: the first store into the hole. CR2 is that store's address.
    assert_fault_changes_nothing(&mut m, STACK - 4, 6);
    for i in 0..16 {
        assert_eq!(read8(&m, STACK + i), 0x55, "byte {i} above the hole was written");
    }
    // The kernel maps the page; the instruction restarts and completes.
    m.map(STACK - 0x1000, RW);
    assert_eq!(m.cpu.step(), Exit::Budget);
    assert_eq!(m.cpu.regs[ESP], esp - 32);
    assert_eq!(m.cpu.eip, CODE + 1);
    let expect =
        [0x1111_1111, 0x2222_2222, 0x3333_3333, 0x4444_4444, esp, 0x6666_6666, 0x7777_7777, 0x8888_8888];
    for (i, v) in expect.iter().enumerate() {
        assert_eq!(read32(&m, esp - 4 * (i as u32 + 1)), *v, "slot {i}");
    }
}

#[test]
fn pushad_with_misaligned_esp_faults_at_the_straddling_store() {
    let mut m = machine(&[0x60]);
    m.cpu.regs[ESP] = STACK + 14;
    // Stores at +10, +6, +2, then EBX at STACK-2..STACK+1: CR2 = STACK-2 (host: b-2).
    assert_fault_changes_nothing(&mut m, STACK - 2, 6);
}

#[test]
fn pushaw_is_all_or_nothing_too() {
    let mut m = machine(&[0x66, 0x60]); // pushaw
    m.cpu.regs[ESP] = STACK + 6;
    // Word stores at +4, +2, +0, then -2.
    assert_fault_changes_nothing(&mut m, STACK - 2, 6);
}

#[test]
fn call_whose_push_faults_leaves_esp_and_eip() {
    // call rel32 (to CODE+0x100)
    let mut m = machine(&[0xe8, 0xfb, 0x00, 0x00, 0x00]);
    m.cpu.regs[ESP] = STACK;
    assert_fault_changes_nothing(&mut m, STACK - 4, 6);
    m.map(STACK - 0x1000, RW);
    assert_eq!(m.cpu.step(), Exit::Budget);
    assert_eq!(m.cpu.eip, CODE + 0x100);
    assert_eq!(m.cpu.regs[ESP], STACK - 4);
    assert_eq!(read32(&m, STACK - 4), CODE + 5);
}

#[test]
fn indirect_call_reads_its_target_before_the_push() {
    // call [eax]: the target page is unmapped; fault is a read at the target pointer.
    let mut m = machine(&[0xff, 0x10]);
    m.cpu.regs[EAX] = 0x4000_0000;
    assert_fault_changes_nothing(&mut m, 0x4000_0000, 4);
    // Mapped target, stack hole: the push faults.
    m.map(0x4000_0000, RW);
    write32(&mut m, 0x4000_0000, CODE + 0x40);
    m.cpu.regs[ESP] = STACK;
    assert_fault_changes_nothing(&mut m, STACK - 4, 6);
}

#[test]
fn movsd_crossing_into_an_unmapped_page_writes_nothing() {
    let mut m = machine(&[0xa5]); // movsd
    m.map(0x1000_0000, RW);
    m.map(0x2000_0000, RW); // 0x2000_1000 stays unmapped
    write32(&mut m, 0x1000_0010, 0x4433_2211);
    write8(&mut m, 0x2000_0ffe, 0xaa);
    write8(&mut m, 0x2000_0fff, 0xbb);
    m.cpu.regs[ESI] = 0x1000_0010;
    m.cpu.regs[EDI] = 0x2000_0ffe;
    assert_fault_changes_nothing(&mut m, 0x2000_1000, 6);
    assert_eq!((read8(&m, 0x2000_0ffe), read8(&m, 0x2000_0fff)), (0xaa, 0xbb));
    m.map(0x2000_1000, RW);
    assert_eq!(m.cpu.step(), Exit::Budget);
    assert_eq!(read32(&m, 0x2000_0ffe), 0x4433_2211);
    assert_eq!((m.cpu.regs[ESI], m.cpu.regs[EDI]), (0x1000_0014, 0x2000_1002));
}

#[test]
fn movsd_with_a_source_crossing_into_an_unmapped_page_is_a_read_fault() {
    let mut m = machine(&[0xa5]);
    m.map(0x1000_0000, RW);
    m.map(0x2000_0000, RW);
    m.cpu.regs[ESI] = 0x1000_0ffd;
    m.cpu.regs[EDI] = 0x2000_0000;
    assert_fault_changes_nothing(&mut m, 0x1000_1000, 4);
    assert_eq!(read32(&m, 0x2000_0000), 0);
}

/// The source pattern used by the REP tests.
fn pattern(i: u32) -> u8 {
    (i.wrapping_mul(7) ^ (i >> 8)) as u8
}

#[test]
fn rep_movsb_over_three_pages_stops_at_the_hole_and_resumes() {
    const SRC: u32 = 0x1000_0000;
    const DST: u32 = 0x2000_0000;
    let mut m = machine(&[0xf3, 0xa4]); // rep movsb
    for p in 0..3 {
        m.map(SRC + p * 0x1000, RW);
    }
    m.map(DST, RW);
    m.map(DST + 0x2000, RW); // the second destination page is a hole
    for i in 0..0x3000 {
        write8(&mut m, SRC + i, pattern(i));
    }
    let total = 0x3000 - 200;
    m.cpu.regs[ESI] = SRC + 100;
    m.cpu.regs[EDI] = DST + 100;
    m.cpu.regs[ECX] = total;
    let before = m.cpu.regs;

    assert_eq!(m.cpu.step(), pf(DST + 0x1000, 6));
    assert_eq!(m.cpu.mmu.cr2, DST + 0x1000);
    assert_eq!(m.cpu.eip, CODE, "REP restarts at the instruction");
    // As far as it got: 0x1000 - 100 bytes (the host reports the same ECX/ESI/EDI).
    let done = 0x1000 - 100;
    assert_eq!(m.cpu.regs[ECX], total - done);
    assert_eq!(m.cpu.regs[ESI], SRC + 0x1000);
    assert_eq!(m.cpu.regs[EDI], DST + 0x1000);
    for r in [EAX, EBX, EDX, ESP, EBP] {
        assert_eq!(m.cpu.regs[r], before[r]);
    }
    for i in 100..0x1000 {
        assert_eq!(read8(&m, DST + i), pattern(i), "byte {i}");
    }
    assert!((0x2000..0x3000).all(|i| read8(&m, DST + i) == 0), "nothing beyond the hole");

    m.map(DST + 0x1000, RW);
    assert_eq!(m.cpu.step(), Exit::Budget);
    assert_eq!(m.cpu.eip, CODE + 2);
    assert_eq!(m.cpu.regs[ECX], 0);
    assert_eq!(m.cpu.regs[ESI], SRC + 100 + total);
    assert_eq!(m.cpu.regs[EDI], DST + 100 + total);
    for i in 0..0x3000 {
        let want = if (100..0x3000 - 100).contains(&i) { pattern(i) } else { 0 };
        assert_eq!(read8(&m, DST + i), want, "byte {i:#x}");
    }
}

#[test]
fn rep_movsd_misaligned_stops_before_the_straddling_element() {
    const SRC: u32 = 0x1000_0000;
    const DST: u32 = 0x2000_0000;
    let mut m = machine(&[0xf3, 0xa5]); // rep movsd
    m.map(SRC, RW);
    m.map(SRC + 0x1000, RW);
    m.map(DST, RW);
    for i in 0..0x2000 {
        write8(&mut m, SRC + i, pattern(i));
    }
    m.cpu.regs[ESI] = SRC + 101;
    m.cpu.regs[EDI] = DST + 101;
    m.cpu.regs[ECX] = 2000;
    // 998 dwords fit below DST+0x1000-3; the 999th straddles (host: ECX=1002, EDI=+4093).
    assert_eq!(m.cpu.step(), pf(DST + 0x1000, 6));
    assert_eq!(m.cpu.regs[ECX], 1002);
    assert_eq!(m.cpu.regs[ESI], SRC + 4093);
    assert_eq!(m.cpu.regs[EDI], DST + 4093);
    // The straddling element wrote nothing (stricter than the host's fast strings).
    assert_eq!((read8(&m, DST + 4093), read8(&m, DST + 4095)), (0, 0));
    assert_eq!(read8(&m, DST + 4092), pattern(4092));
    m.map(DST + 0x1000, RW);
    assert_eq!(m.cpu.step(), Exit::Budget);
    assert_eq!(m.cpu.regs[ECX], 0);
    for i in 101..101 + 8000 {
        assert_eq!(read8(&m, DST + i), pattern(i));
    }
}

#[test]
fn rep_stosd_backward_faults_at_the_page_below() {
    let mut m = machine(&[0xfd, 0xf3, 0xab]); // std; rep stosd
    m.map(0x2000_1000, RW);
    m.cpu.regs[EAX] = 0xdead_beef;
    m.cpu.regs[EDI] = 0x2000_1008;
    m.cpu.regs[ECX] = 10;
    assert_eq!(m.cpu.step(), Exit::Budget); // std
                                            // Elements at +8, +4, +0 fit; the 4th at 0x2000_0ffc faults.
    assert_eq!(m.cpu.step(), pf(0x2000_0ffc, 6));
    assert_eq!(m.cpu.regs[ECX], 7);
    assert_eq!(m.cpu.regs[EDI], 0x2000_0ffc);
    assert_eq!(m.cpu.eip, CODE + 1);
    for a in [0x2000_1000, 0x2000_1004, 0x2000_1008] {
        assert_eq!(read32(&m, a), 0xdead_beef);
    }
    assert_eq!(read32(&m, 0x2000_100c), 0);
}

#[test]
fn rep_cmpsb_faults_on_the_source_with_the_registers_exact() {
    let mut m = machine(&[0xf3, 0xa6]); // repe cmpsb
    m.map(0x1000_0000, RW);
    m.map(0x2000_0000, RW);
    m.map(0x2000_1000, RW);
    m.cpu.regs[ESI] = 0x1000_0ff0;
    m.cpu.regs[EDI] = 0x2000_0ff0;
    m.cpu.regs[ECX] = 100;
    // All zero and equal up to the end of the source page, then a read fault there.
    assert_eq!(m.cpu.step(), pf(0x1000_1000, 4));
    assert_eq!((m.cpu.regs[ECX], m.cpu.regs[ESI], m.cpu.regs[EDI]), (84, 0x1000_1000, 0x2000_1000));
    assert!(m.cpu.flags.zf());
}

#[test]
fn enter_checks_the_final_esp() {
    // enter 64, 0 with ESP 16 above the hole: the push of EBP fits, the final ESP
    // (ESP-4-64) does not; the host reports CR2 = final ESP.
    let mut m = machine(&[0xc8, 0x40, 0x00, 0x00]);
    m.cpu.regs[ESP] = STACK + 16;
    m.cpu.regs[EBP] = STACK + 0x100;
    assert_fault_changes_nothing(&mut m, STACK + 12 - 64, 6);
    assert_eq!(read32(&m, STACK + 12), 0, "the EBP slot must not be written");
    // enter 12, 0: final ESP = STACK exactly, no fault.
    let mut m = machine(&[0xc8, 0x0c, 0x00, 0x00]);
    m.cpu.regs[ESP] = STACK + 16;
    assert_eq!(m.cpu.step(), Exit::Budget);
    assert_eq!(m.cpu.regs[ESP], STACK);
}

#[test]
fn enter_with_an_unreadable_display_is_a_read_fault() {
    // enter 0, 2 with EBP+2 above the hole: reading [EBP-4] faults (host: CR2 = b-2, 4).
    let mut m = machine(&[0xc8, 0x00, 0x00, 0x02]);
    m.cpu.regs[ESP] = STACK + 64;
    m.cpu.regs[EBP] = STACK + 2;
    assert_fault_changes_nothing(&mut m, STACK - 2, 4);
    assert_eq!(read32(&m, STACK + 60), 0);
}

#[test]
fn pop_to_memory_that_faults_restores_esp() {
    // pop dword [esp+0x1000]: the address uses the incremented ESP; the store faults.
    let mut m = machine(&[0x8f, 0x84, 0x24, 0x00, 0x10, 0x00, 0x00]);
    m.cpu.regs[ESP] = STACK + 0x800;
    assert_fault_changes_nothing(&mut m, STACK + 0x1804, 6);
}

#[test]
fn popad_reading_past_the_stack_changes_no_register() {
    let mut m = machine(&[0x61]); // popad
    m.cpu.regs[ESP] = STACK + 0x1000 - 16;
    assert_fault_changes_nothing(&mut m, STACK + 0x1000, 4);
}

#[test]
fn cmpxchg_writes_even_when_unequal_so_a_read_only_page_faults() {
    // lock cmpxchg [ebx], ecx with EAX != [ebx] on a read-only page: write fault (the
    // host faults the same way).
    let mut m = machine(&[0xf0, 0x0f, 0xb1, 0x0b]);
    m.map(0x1000_0000, RO);
    m.cpu.regs[EBX] = 0x1000_0000;
    m.cpu.regs[EAX] = 1;
    m.cpu.regs[ECX] = 2;
    assert_fault_changes_nothing(&mut m, 0x1000_0000, 7);
}

#[test]
fn xchg_xadd_and_cmpxchg8b_on_read_only_memory_change_nothing() {
    for code in [
        &[0x87, 0x0b][..],         // xchg [ebx], ecx
        &[0x0f, 0xc1, 0x0b],       // xadd [ebx], ecx
        &[0x0f, 0xc7, 0x0b],       // cmpxchg8b [ebx]
        &[0x0f, 0xc7, 0x4b, 0xfc], // cmpxchg8b [ebx-4]: spans the RW page below and the RO page
    ] {
        let mut m = machine(code);
        m.map(0x0fff_f000, RW);
        m.map(0x1000_0000, RO);
        m.cpu.regs[EBX] = 0x1000_0000;
        let f = m.cpu.flags.get();
        m.cpu.flags.set(f | 0x8d5);
        assert_fault_changes_nothing(&mut m, 0x1000_0000, 7);
        assert_eq!(read32(&m, 0x0fff_fffc), 0);
    }
}

#[test]
fn cmov_with_a_false_condition_still_reads_its_source() {
    // cmove eax, [ebx] with ZF=0 and [ebx] unmapped.
    let mut m = machine(&[0x0f, 0x44, 0x03]);
    m.cpu.regs[EBX] = 0x5000_0000;
    assert!(!m.cpu.flags.zf());
    assert_fault_changes_nothing(&mut m, 0x5000_0000, 4);
}

#[test]
fn far_call_push_fault_changes_nothing() {
    // call far 0x23:CODE+0x40 with ESP at the hole.
    let mut m = machine(&[0x9a, 0x40, 0x80, 0x04, 0x08, 0x23, 0x00]);
    m.cpu.regs[ESP] = STACK + 4;
    // CS goes to ESP-4 (fits), EIP to ESP-8 (the hole).
    assert_fault_changes_nothing(&mut m, STACK - 4, 6);
    assert_eq!(read32(&m, STACK), 0);
    assert_eq!(m.cpu.segs[1].selector, 0x23);
}

#[test]
fn push_and_pushfd_and_enter_at_the_hole() {
    for code in [&[0x50][..], &[0x9c], &[0x6a, 0x01], &[0x0f, 0xa0], &[0xc8, 0, 0, 1]] {
        let mut m = machine(code);
        m.cpu.regs[ESP] = STACK;
        assert_fault_changes_nothing(&mut m, STACK - 4, 6);
    }
}
