//! Behaviour of the control-transfer, stack, string, data-movement and system
//! instructions: hand-computed expectations, and on an x86-64 host the same
//! instruction executed natively for comparison (flags, BSWAP, SETcc, LAHF/SAHF,
//! the PUSHF image).

mod common;

use common::Machine;
use growsdown_cpu::flags::{AF, CF, DF, IF, IOPL, OF, PF, SF, ZF};
use growsdown_cpu::mmu::{PTE_P, PTE_RW, PTE_US};
use growsdown_cpu::{Descriptor, Exception, Exit, SegReg, EAX, EBP, EBX, ECX, EDI, EDX, ESI, ESP};

const CODE: u32 = 0x0804_8000;
const STACK: u32 = 0xbfff_f000;
const DATA: u32 = 0x1000_0000;
const RW: u32 = PTE_P | PTE_RW | PTE_US;
const RO: u32 = PTE_P | PTE_US;
const ARITH: u32 = CF | PF | AF | ZF | SF | OF;

fn machine(code: &[u8]) -> Machine {
    let mut m = Machine::new();
    m.map(CODE, RO);
    m.load_code(CODE, code);
    m.map(STACK, RW);
    m.map(DATA, RW);
    m.map(DATA + 0x1000, RW);
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

fn write_bytes(m: &mut Machine, lin: u32, b: &[u8]) {
    for (i, &v) in b.iter().enumerate() {
        write8(m, lin + i as u32, v);
    }
}

fn write16(m: &mut Machine, lin: u32, v: u16) {
    write_bytes(m, lin, &v.to_le_bytes());
}

fn write32(m: &mut Machine, lin: u32, v: u32) {
    write_bytes(m, lin, &v.to_le_bytes());
}

fn read32(m: &Machine, lin: u32) -> u32 {
    (0..4).map(|i| u32::from(read8(m, lin + i)) << (8 * i)).sum()
}

/// Runs `n` instructions, all of which must complete.
fn run(m: &mut Machine, n: u64) {
    for _ in 0..n {
        assert_eq!(m.cpu.step(), Exit::Budget, "at eip {:#x}", m.cpu.eip);
    }
}

// ---------------------------------------------------------------- control transfer

#[test]
fn call_ret_and_ret_imm16() {
    // 0: call +5 (to 10); 5: nop x5; 10: ret 4
    let mut m = machine(&[0xe8, 0x05, 0, 0, 0, 0x90, 0x90, 0x90, 0x90, 0x90, 0xc2, 0x04, 0x00]);
    let esp = m.cpu.regs[ESP];
    run(&mut m, 1);
    assert_eq!(m.cpu.eip, CODE + 10);
    assert_eq!(read32(&m, esp - 4), CODE + 5);
    run(&mut m, 1);
    assert_eq!(m.cpu.eip, CODE + 5);
    assert_eq!(m.cpu.regs[ESP], esp + 4);
}

#[test]
fn jmp_and_call_through_registers_and_memory() {
    // jmp eax
    let mut m = machine(&[0xff, 0xe0]);
    m.cpu.regs[EAX] = CODE + 0x20;
    run(&mut m, 1);
    assert_eq!(m.cpu.eip, CODE + 0x20);
    // call [ebx]
    let mut m = machine(&[0xff, 0x13]);
    write32(&mut m, DATA, CODE + 0x30);
    m.cpu.regs[EBX] = DATA;
    run(&mut m, 1);
    assert_eq!(m.cpu.eip, CODE + 0x30);
    assert_eq!(read32(&m, m.cpu.regs[ESP]), CODE + 2);
    // 16-bit operand size: jmp ax takes the zero-extended 16 bits.
    let mut m = machine(&[0x66, 0xff, 0xe0]);
    m.cpu.regs[EAX] = 0xffff_1234;
    run(&mut m, 1);
    assert_eq!(m.cpu.eip, 0x1234);
}

#[test]
fn jcc_taken_and_not_taken() {
    // cmp eax, ebx ; jl +2 ; nop ; nop
    let code = [0x39, 0xd8, 0x7c, 0x02, 0x90, 0x90, 0x90];
    let mut m = machine(&code);
    m.cpu.regs[EAX] = (-5i32) as u32;
    m.cpu.regs[EBX] = 3;
    run(&mut m, 2);
    assert_eq!(m.cpu.eip, CODE + 6);
    let mut m = machine(&code);
    m.cpu.regs[EAX] = 5;
    m.cpu.regs[EBX] = 3;
    run(&mut m, 2);
    assert_eq!(m.cpu.eip, CODE + 4);
    // jne rel32 (0F 85) backwards
    let mut m = machine(&[0x90, 0x0f, 0x85, 0xfa, 0xff, 0xff, 0xff]);
    m.cpu.eip = CODE + 1;
    run(&mut m, 1);
    assert_eq!(m.cpu.eip, CODE + 1);
}

#[test]
fn loop_family_and_jecxz() {
    // loop -2 (to itself): runs ECX times
    let mut m = machine(&[0xe2, 0xfe]);
    m.cpu.regs[ECX] = 5;
    run(&mut m, 4);
    assert_eq!((m.cpu.eip, m.cpu.regs[ECX]), (CODE, 1));
    run(&mut m, 1);
    assert_eq!((m.cpu.eip, m.cpu.regs[ECX]), (CODE + 2, 0));
    // addr16 loop: uses CX only, upper ECX kept
    let mut m = machine(&[0x67, 0xe2, 0xfd]);
    m.cpu.regs[ECX] = 0x1234_0001;
    run(&mut m, 1);
    assert_eq!((m.cpu.eip, m.cpu.regs[ECX]), (CODE + 3, 0x1234_0000));
    let mut m = machine(&[0x67, 0xe2, 0xfd]);
    m.cpu.regs[ECX] = 0x0001_0000; // CX = 0 -> 0xffff, taken
    run(&mut m, 1);
    assert_eq!((m.cpu.eip, m.cpu.regs[ECX]), (CODE, 0x0001_ffff));
    // loope / loopne look at ZF
    let mut m = machine(&[0xe1, 0x10]);
    m.cpu.regs[ECX] = 3;
    m.cpu.flags.set_bits(ZF, true);
    run(&mut m, 1);
    assert_eq!((m.cpu.eip, m.cpu.regs[ECX]), (CODE + 0x12, 2));
    let mut m = machine(&[0xe0, 0x10]);
    m.cpu.regs[ECX] = 3;
    m.cpu.flags.set_bits(ZF, true);
    run(&mut m, 1);
    assert_eq!((m.cpu.eip, m.cpu.regs[ECX]), (CODE + 2, 2));
    // jecxz / jcxz
    let mut m = machine(&[0xe3, 0x10]);
    m.cpu.regs[ECX] = 0x0001_0000;
    run(&mut m, 1);
    assert_eq!(m.cpu.eip, CODE + 2);
    let mut m = machine(&[0x67, 0xe3, 0x10]);
    m.cpu.regs[ECX] = 0x0001_0000;
    run(&mut m, 1);
    assert_eq!(m.cpu.eip, CODE + 0x13);
}

#[test]
fn sixteen_bit_branch_targets_wrap_to_ip() {
    // data16 jmp rel16 at CODE: the target is truncated to 16 bits.
    let mut m = machine(&[0x66, 0xe9, 0x10, 0x00]);
    run(&mut m, 1);
    assert_eq!(m.cpu.eip, (CODE + 4 + 0x10) & 0xffff);
}

#[test]
fn int3_int_3_int_80_into_bound_and_ud() {
    let mut m = machine(&[0xcc]);
    assert_eq!(m.cpu.step(), Exit::Exception(Exception::Breakpoint));
    assert_eq!(m.cpu.eip, CODE + 1, "INT3 is a trap");
    let mut m = machine(&[0xcd, 0x03]);
    assert_eq!(m.cpu.step(), Exit::Exception(Exception::SoftwareInterrupt(3)));
    assert_eq!(m.cpu.eip, CODE + 2);
    let mut m = machine(&[0xcd, 0x80]);
    assert_eq!(m.cpu.step(), Exit::Exception(Exception::SoftwareInterrupt(0x80)));
    assert_eq!(m.cpu.eip, CODE + 2);
    // into: NOP with OF=0, #OF trap with OF=1
    let mut m = machine(&[0xce, 0xce]);
    run(&mut m, 1);
    m.cpu.flags.set_bits(OF, true);
    assert_eq!(m.cpu.step(), Exit::Exception(Exception::Overflow));
    assert_eq!(m.cpu.eip, CODE + 2);
    // bound eax, [ebx]: in range passes, out of range is a fault
    let mut m = machine(&[0x62, 0x03, 0x62, 0x03]);
    write32(&mut m, DATA, (-10i32) as u32);
    write32(&mut m, DATA + 4, 10);
    m.cpu.regs[EBX] = DATA;
    m.cpu.regs[EAX] = (-10i32) as u32;
    run(&mut m, 1);
    m.cpu.regs[EAX] = 11;
    assert_eq!(m.cpu.step(), Exit::Exception(Exception::BoundRange));
    assert_eq!(m.cpu.eip, CODE + 2, "#BR is a fault");
    // 16-bit bound with signed words
    let mut m = machine(&[0x66, 0x62, 0x03]);
    write16(&mut m, DATA, 0xfff0);
    write16(&mut m, DATA + 2, 0x0010);
    m.cpu.regs[EBX] = DATA;
    m.cpu.regs[EAX] = 0xfff5;
    run(&mut m, 1);
    for code in [&[0x0f, 0x0b][..], &[0x0f, 0xb9, 0xc0], &[0x0f, 0xff, 0x00]] {
        let mut m = machine(code);
        m.cpu.regs[EAX] = 0x7000_0000; // unmapped: UD0's operand is never touched
        assert_eq!(m.cpu.step(), Exit::Exception(Exception::InvalidOpcode));
        assert_eq!(m.cpu.eip, CODE);
    }
}

#[test]
fn far_transfers_within_cpl3() {
    // ljmp 0x23:CODE+0x10
    let mut m = machine(&[0xea, 0x10, 0x80, 0x04, 0x08, 0x23, 0x00]);
    run(&mut m, 1);
    assert_eq!(m.cpu.eip, CODE + 0x10);
    // lcall 0x23:CODE+0x10 ; at +0x10: lret
    let mut code = vec![0x9a, 0x10, 0x80, 0x04, 0x08, 0x23, 0x00];
    code.resize(0x10, 0x90);
    code.push(0xcb);
    let mut m = machine(&code);
    let esp = m.cpu.regs[ESP];
    run(&mut m, 1);
    assert_eq!(m.cpu.eip, CODE + 0x10);
    assert_eq!((read32(&m, esp - 4), read32(&m, esp - 8)), (0x23, CODE + 7));
    run(&mut m, 1);
    assert_eq!((m.cpu.eip, m.cpu.regs[ESP]), (CODE + 7, esp));
    // To a DPL-0 code segment: #GP(selector), nothing changes.
    let mut m = machine(&[0xea, 0x10, 0x80, 0x04, 0x08, 0x10, 0x00]);
    m.cpu.gdt[2] = Descriptor::encode(0, 0xfffff, 0xc09b);
    assert_eq!(m.cpu.step(), Exit::Exception(Exception::GeneralProtection(0x10)));
    assert_eq!(m.cpu.eip, CODE);
    // To a data segment, and through a null selector.
    let mut m = machine(&[0xea, 0x10, 0x80, 0x04, 0x08, 0x2b, 0x00]);
    assert_eq!(m.cpu.step(), Exit::Exception(Exception::GeneralProtection(0x28)));
    let mut m = machine(&[0xea, 0x10, 0x80, 0x04, 0x08, 0x03, 0x00]);
    assert_eq!(m.cpu.step(), Exit::Exception(Exception::GeneralProtection(0)));
}

#[test]
fn iret_to_the_same_level_applies_popf_rules() {
    // pushfd/push cs/push target/iretd as in the host experiment.
    let mut m = machine(&[0xcf]);
    let esp = m.cpu.regs[ESP];
    write32(&mut m, esp, CODE + 0x40);
    write32(&mut m, esp + 4, 0x23);
    // Try to set every arithmetic flag, DF, clear IF, set IOPL.
    write32(&mut m, esp + 8, ARITH | DF | IOPL | 2);
    run(&mut m, 1);
    assert_eq!(m.cpu.eip, CODE + 0x40);
    assert_eq!(m.cpu.regs[ESP], esp + 12);
    assert_eq!(m.cpu.flags.get(), ARITH | DF | IF | 2);
    // NT set: a task return, refused.
    let mut m = machine(&[0xcf]);
    let f = m.cpu.flags.get();
    m.cpu.flags.set(f | 0x4000);
    assert_eq!(m.cpu.step(), Exit::Exception(Exception::GeneralProtection(0)));
}

// ---------------------------------------------------------------- stack

/// ENTER imm16, level against the stack image computed by hand from the SDM
/// pseudocode (and checked on the host for levels 0..3 and 33).
#[test]
fn enter_with_nesting_levels_0_1_3() {
    let s = STACK + 0x800; // ESP before
    let b = STACK + 0x900; // EBP before: the enclosing frame
    for level in [0u8, 1, 3, 33] {
        let mut m = machine(&[0xc8, 0x08, 0x00, level]);
        m.cpu.regs[ESP] = s;
        m.cpu.regs[EBP] = b;
        // The enclosing display: [b-4], [b-8] hold the outer frame pointers.
        write32(&mut m, b - 4, 0xaaaa_0001);
        write32(&mut m, b - 8, 0xaaaa_0002);
        run(&mut m, 1);
        let ft = s - 4; // FrameTemp
        let mut image = vec![b];
        let lvl = u32::from(level % 32);
        if lvl > 0 {
            for i in 1..lvl {
                image.push([0xaaaa_0001, 0xaaaa_0002][i as usize - 1]);
            }
            image.push(ft);
        }
        for (i, v) in image.iter().enumerate() {
            assert_eq!(read32(&m, s - 4 * (i as u32 + 1)), *v, "level {level} slot {i}");
        }
        assert_eq!(m.cpu.regs[EBP], ft, "level {level}");
        assert_eq!(m.cpu.regs[ESP], s - 4 * image.len() as u32 - 8, "level {level}");
        // ... and LEAVE undoes it.
        let mut l = machine(&[0xc9]);
        l.cpu.regs[EBP] = m.cpu.regs[EBP];
        l.cpu.regs[ESP] = m.cpu.regs[ESP];
        write32(&mut l, ft, b);
        run(&mut l, 1);
        assert_eq!((l.cpu.regs[ESP], l.cpu.regs[EBP]), (s, b));
    }
}

#[test]
fn enter_16_bit_operand_size() {
    // data16 enter 4, 2: word pushes, BP := FrameTemp.
    let mut m = machine(&[0x66, 0xc8, 0x04, 0x00, 0x02]);
    let s = STACK + 0x800;
    // 32-bit stack: the display is read at [EBP-2] with the full EBP.
    let blin = STACK + 0x900;
    write16(&mut m, blin - 2, 0xbeef);
    m.cpu.regs[EBP] = blin;
    run(&mut m, 1);
    assert_eq!(read8(&m, s - 1), (blin >> 8) as u8);
    assert_eq!(u32::from(read8(&m, s - 2)), blin & 0xff);
    assert_eq!((read8(&m, s - 4), read8(&m, s - 3)), (0xef, 0xbe));
    let ft = s - 2;
    assert_eq!((read8(&m, s - 6), read8(&m, s - 5)), (ft as u8, (ft >> 8) as u8));
    assert_eq!(m.cpu.regs[EBP] & 0xffff, ft & 0xffff);
    assert_eq!(m.cpu.regs[ESP], s - 6 - 4);
}

#[test]
fn push_pop_forms() {
    // push esp pushes the old value; pop esp loads the popped value.
    let mut m = machine(&[0x54, 0x5c]);
    let s = m.cpu.regs[ESP];
    run(&mut m, 1);
    assert_eq!(read32(&m, s - 4), s);
    write32(&mut m, s - 4, 0x1234_5678);
    run(&mut m, 1);
    assert_eq!(m.cpu.regs[ESP], 0x1234_5678);
    // pop dword [esp+4] uses the incremented ESP (host: 1111 2222 1111 4444).
    let mut m = machine(&[0x8f, 0x44, 0x24, 0x04]);
    let s = m.cpu.regs[ESP];
    for (i, v) in [0x1111, 0x2222, 0x3333, 0x4444].iter().enumerate() {
        write32(&mut m, s + 4 * i as u32, *v);
    }
    run(&mut m, 1);
    let got: Vec<u32> = (0..4).map(|i| read32(&m, s + 4 * i)).collect();
    assert_eq!(got, [0x1111, 0x2222, 0x1111, 0x4444]);
    // push imm8 sign-extended, 16-bit pushes move ESP by 2.
    let mut m = machine(&[0x6a, 0xff, 0x66, 0x6a, 0x80, 0x66, 0x58]);
    let s = m.cpu.regs[ESP];
    run(&mut m, 3);
    assert_eq!(read32(&m, s - 4), 0xffff_ffff);
    assert_eq!(m.cpu.regs[EAX] & 0xffff, 0xff80);
    assert_eq!(m.cpu.regs[ESP], s - 4);
}

#[test]
fn push_sreg_stores_the_selector_zero_extended() {
    // push ds (32-bit): 4 bytes written, upper half zero (host: 0000002b).
    let mut m = machine(&[0x1e, 0x66, 0x0e, 0x0f, 0xa1]);
    let s = m.cpu.regs[ESP];
    for i in 0..8 {
        write8(&mut m, s - 8 + i, 0xaa);
    }
    run(&mut m, 1);
    assert_eq!(read32(&m, s - 4), 0x2b);
    // data16 push cs: two bytes only (host: 0023aaaa).
    run(&mut m, 1);
    assert_eq!(read32(&m, s - 8), 0x0023_aaaa);
    // pop fs with 0x2b
    m.cpu.regs[ESP] = s - 4;
    run(&mut m, 1);
    assert_eq!(m.cpu.segs[SegReg::Fs as usize].selector, 0x2b);
    assert_eq!(m.cpu.regs[ESP], s);
    // pop ss with a null selector: #GP(0), ESP unchanged.
    let mut m = machine(&[0x17]);
    let s = m.cpu.regs[ESP];
    assert_eq!(m.cpu.step(), Exit::Exception(Exception::GeneralProtection(0)));
    assert_eq!(m.cpu.regs[ESP], s);
}

#[test]
fn pusha_popa_round_trip() {
    let mut m = machine(&[0x60, 0x61, 0x66, 0x60, 0x66, 0x61]);
    let regs = [1, 2, 3, 4, STACK + 0x800, 6, 7, 8];
    m.cpu.regs = regs;
    run(&mut m, 1);
    m.cpu.regs = [0; 8];
    m.cpu.regs[ESP] = STACK + 0x800 - 32;
    run(&mut m, 1);
    assert_eq!(m.cpu.regs, regs);
    m.cpu.regs = [0xaaaa_0001, 2, 3, 4, STACK + 0x800, 6, 7, 0xbbbb_0008];
    run(&mut m, 1);
    assert_eq!(read8(&m, STACK + 0x800 - 2), 1);
    m.cpu.regs[EAX] = 0xcccc_cccc;
    m.cpu.regs[EDI] = 0xdddd_dddd;
    run(&mut m, 1);
    assert_eq!(m.cpu.regs[EAX], 0xcccc_0001);
    assert_eq!(m.cpu.regs[EDI], 0xdddd_0008);
    assert_eq!(m.cpu.regs[ESP], STACK + 0x800);
}

#[test]
fn popf_at_cpl3_keeps_if_iopl_and_vm() {
    // popfd with everything set (but TF): host 0x274cd5 -> 0x244ed7 with IF=1 before.
    let mut m = machine(&[0x9d, 0x9c, 0x66, 0x9d, 0x66, 0x9c]);
    let s = m.cpu.regs[ESP];
    write32(&mut m, s, 0x0027_4cd5);
    run(&mut m, 2);
    assert_eq!(read32(&m, s), 0x0024_4ed7);
    // popfw 0x0cd5: only the low 16 bits (host: 0x0ed7).
    write32(&mut m, s, 0x0000_0cd5);
    let f = m.cpu.flags.get();
    m.cpu.flags.set(f & !0xffff | 0x202);
    run(&mut m, 2);
    assert_eq!(read32(&m, s) & 0xffff, 0x0ed7);
    assert_eq!(m.cpu.flags.get() & 0x0024_0000, 0x0024_0000, "AC and ID survive POPFW");
    // With IOPL 3 (iopl(3)), IF follows the image.
    let mut m = machine(&[0x9d]);
    m.cpu.flags.set(IOPL | IF | 2);
    let s = m.cpu.regs[ESP];
    write32(&mut m, s, 2);
    run(&mut m, 1);
    assert_eq!(m.cpu.flags.get(), IOPL | 2);
}

// ---------------------------------------------------------------- strings

#[test]
fn rep_movsb_overlapping_forward_replicates() {
    let mut m = machine(&[0xf3, 0xa4]);
    write_bytes(&mut m, DATA, b"ab");
    m.cpu.regs[ESI] = DATA;
    m.cpu.regs[EDI] = DATA + 2;
    m.cpu.regs[ECX] = 100;
    run(&mut m, 1);
    for i in 0..102 {
        assert_eq!(read8(&m, DATA + i), if i % 2 == 0 { b'a' } else { b'b' });
    }
}

#[test]
fn rep_movsd_backward_and_across_pages() {
    // std; rep movsd — like memmove's backward copy.
    let mut m = machine(&[0xfd, 0xf3, 0xa5]);
    for i in 0..0x1400u32 {
        write8(&mut m, DATA + i, (i * 13) as u8);
    }
    let n = 0x400; // dwords
    m.cpu.regs[ECX] = n;
    m.cpu.regs[ESI] = DATA + 0x0ffc; // last dword of the source
    m.cpu.regs[EDI] = DATA + 0x13fc; // overlapping destination, higher
    run(&mut m, 2);
    for i in 0..0x1000u32 {
        assert_eq!(read8(&m, DATA + 0x400 + i), (i * 13) as u8, "byte {i:#x}");
    }
    assert_eq!(m.cpu.regs[ECX], 0);
    assert_eq!(m.cpu.regs[ESI], DATA - 4);
    assert_eq!(m.cpu.regs[EDI], DATA + 0x3fc);
}

#[test]
fn rep_with_zero_count_does_nothing() {
    let mut m = machine(&[0xf3, 0xa6, 0xf3, 0xab]);
    m.cpu.regs[ESI] = 0x7000_0000; // unmapped: never touched
    m.cpu.regs[EDI] = 0x7000_0000;
    let f = m.cpu.flags.get();
    run(&mut m, 2);
    assert_eq!(m.cpu.flags.get(), f);
    assert_eq!((m.cpu.regs[ESI], m.cpu.regs[EDI]), (0x7000_0000, 0x7000_0000));
}

#[test]
fn repe_cmpsb_stops_at_the_first_difference() {
    let mut m = machine(&[0xf3, 0xa6]);
    m.map(DATA + 0x2000, RW);
    write_bytes(&mut m, DATA, b"hello world");
    write_bytes(&mut m, DATA + 0x1ffa, b"hello_world"); // crosses a page at index 6
    m.cpu.regs[ESI] = DATA;
    m.cpu.regs[EDI] = DATA + 0x1ffa;
    m.cpu.regs[ECX] = 11;
    run(&mut m, 1);
    // Stops after comparing ' ' (0x20) with '_' (0x5f): 6 elements done.
    assert_eq!(m.cpu.regs[ECX], 5);
    assert_eq!(m.cpu.regs[ESI], DATA + 6);
    assert_eq!(m.cpu.regs[EDI], DATA + 0x2000);
    assert!(!m.cpu.flags.zf());
    assert!(m.cpu.flags.cf(), "0x20 - 0x5f borrows");
}

#[test]
fn repne_scasb_finds_the_terminator_like_strlen() {
    let mut m = machine(&[0xf2, 0xae]);
    write_bytes(&mut m, DATA + 0xff0, b"0123456789abcdefghij\0");
    m.cpu.regs[EDI] = DATA + 0xff0;
    m.cpu.regs[ECX] = u32::MAX;
    m.cpu.regs[EAX] = 0;
    run(&mut m, 1);
    assert_eq!(!m.cpu.regs[ECX] - 1, 20, "strlen");
    assert_eq!(m.cpu.regs[EDI], DATA + 0xff0 + 21);
    assert!(m.cpu.flags.zf());
}

#[test]
fn lods_stos_scas_widths_and_directions() {
    // lodsw; std; stosd; cld; scasb
    let mut m = machine(&[0x66, 0xad, 0xfd, 0xab, 0xfc, 0xae]);
    write16(&mut m, DATA, 0xbeef);
    write8(&mut m, DATA + 0x100, 0x42);
    m.cpu.regs[ESI] = DATA;
    m.cpu.regs[EAX] = 0x1234_0000;
    m.cpu.regs[EDI] = DATA + 0x200;
    run(&mut m, 3);
    assert_eq!(m.cpu.regs[EAX], 0x1234_beef);
    assert_eq!(m.cpu.regs[ESI], DATA + 2);
    assert_eq!(read32(&m, DATA + 0x200), 0x1234_beef);
    assert_eq!(m.cpu.regs[EDI], DATA + 0x1fc);
    m.cpu.regs[EDI] = DATA + 0x100;
    m.cpu.regs[EAX] = 0x42;
    run(&mut m, 2);
    assert!(m.cpu.flags.zf());
    assert_eq!(m.cpu.regs[EDI], DATA + 0x101);
}

#[test]
fn address_size_prefix_uses_si_di_cx_and_wraps() {
    // addr16 rep movsb with a DS base: SI/DI/CX only, upper halves kept, SI wraps.
    let mut m = machine(&[0x67, 0xf3, 0xa4]);
    let ds = Descriptor::encode(DATA, 0xfffff, 0xc0f3);
    m.cpu.gdt[6] = ds;
    m.cpu.load_segment(SegReg::Ds, 0x33).unwrap();
    m.cpu.load_segment(SegReg::Es, 0x33).unwrap();
    // SI starts at 0xfffe and must wrap to 0, not run on to DATA+0x10000.
    m.map(DATA + 0xf000, RW);
    m.map(DATA + 0x10000, RW);
    write_bytes(&mut m, DATA + 0xfffe, &[1, 2]);
    write_bytes(&mut m, DATA, &[3, 4]);
    write_bytes(&mut m, DATA + 0x10000, &[9, 9]);
    m.cpu.regs[ESI] = 0xaaaa_fffe;
    m.cpu.regs[EDI] = 0xbbbb_0800;
    m.cpu.regs[ECX] = 0xcccc_0004;
    run(&mut m, 1);
    assert_eq!(m.cpu.regs[ESI], 0xaaaa_0002);
    assert_eq!(m.cpu.regs[EDI], 0xbbbb_0804);
    assert_eq!(m.cpu.regs[ECX], 0xcccc_0000);
    let got: Vec<u8> = (0..4).map(|i| read8(&m, DATA + 0x800 + i)).collect();
    assert_eq!(got, [1, 2, 3, 4]);
}

#[test]
fn segment_override_applies_to_the_source_only() {
    // fs: movsb with FS based at DATA+0x100; ES stays flat.
    let mut m = machine(&[0x64, 0xa4, 0x64, 0xac]);
    m.cpu.gdt[6] = Descriptor::encode(DATA + 0x100, 0xfffff, 0xc0f3);
    m.cpu.load_segment(SegReg::Fs, 0x33).unwrap();
    write8(&mut m, DATA + 0x105, 0x77);
    write8(&mut m, DATA + 0x106, 0x88);
    m.cpu.regs[ESI] = 5;
    m.cpu.regs[EDI] = DATA + 0x10;
    run(&mut m, 2);
    assert_eq!(read8(&m, DATA + 0x10), 0x77);
    assert_eq!(m.cpu.regs[EAX] & 0xff, 0x88);
}

#[test]
fn big_rep_stosd_and_movsd_are_exact() {
    // 64 KiB fill and copy across 16 pages each.
    let mut m = machine(&[0xf3, 0xab, 0xf3, 0xa5]);
    for p in 2..40 {
        m.map(DATA + p * 0x1000, RW);
    }
    m.cpu.regs[EAX] = 0x0102_0304;
    m.cpu.regs[EDI] = DATA + 0x2002;
    m.cpu.regs[ECX] = 0x4000;
    run(&mut m, 1);
    assert_eq!(m.cpu.regs[EDI], DATA + 0x2002 + 0x10000);
    for i in (0..0x10000).step_by(997) {
        assert_eq!(read8(&m, DATA + 0x2002 + i), [4, 3, 2, 1][i as usize % 4]);
    }
    m.cpu.regs[ESI] = DATA + 0x2002;
    m.cpu.regs[EDI] = DATA + 0x14001;
    m.cpu.regs[ECX] = 0x4000;
    run(&mut m, 1);
    for i in (0..0x10000).step_by(991) {
        assert_eq!(read8(&m, DATA + 0x14001 + i), [4, 3, 2, 1][i as usize % 4]);
    }
}

// ---------------------------------------------------------------- data movement

#[test]
fn movzx_movsx_cbw_cwd_xlat() {
    // movzx eax, byte [ebx]; movsx ecx, byte [ebx]; movsx dx, bl; movzx esi, word [ebx]
    let mut m = machine(&[0x0f, 0xb6, 0x03, 0x0f, 0xbe, 0x0b, 0x66, 0x0f, 0xbe, 0xd3, 0x0f, 0xb7, 0x33]);
    write16(&mut m, DATA, 0x8081);
    m.cpu.regs[EBX] = DATA;
    m.cpu.regs[EDX] = 0xdead_0000;
    run(&mut m, 4);
    assert_eq!(m.cpu.regs[EAX], 0x81);
    assert_eq!(m.cpu.regs[ECX], 0xffff_ff81);
    assert_eq!(m.cpu.regs[EDX], 0xdead_0000, "bl = 0x00 (DATA's low byte)");
    assert_eq!(m.cpu.regs[ESI], 0x8081);
    // cbw; cwde; cwd; cdq
    let mut m = machine(&[0x66, 0x98, 0x98, 0x66, 0x99, 0x99]);
    m.cpu.regs[EAX] = 0x1234_5680;
    m.cpu.regs[EDX] = 0x5555_5555;
    run(&mut m, 1);
    assert_eq!(m.cpu.regs[EAX], 0x1234_ff80);
    run(&mut m, 1);
    assert_eq!(m.cpu.regs[EAX], 0xffff_ff80);
    run(&mut m, 1);
    assert_eq!(m.cpu.regs[EDX], 0x5555_ffff);
    m.cpu.regs[EAX] = 0x7fff_ffff;
    run(&mut m, 1);
    assert_eq!(m.cpu.regs[EDX], 0);
    // xlat, and addr16 xlat using BX
    let mut m = machine(&[0xd7, 0x67, 0xd7]);
    write8(&mut m, DATA + 0x90, 0x33);
    m.cpu.regs[EBX] = DATA;
    m.cpu.regs[EAX] = 0x90;
    run(&mut m, 1);
    assert_eq!(m.cpu.regs[EAX], 0x33);
    m.cpu.gdt[6] = Descriptor::encode(DATA, 0xfffff, 0xc0f3);
    m.cpu.load_segment(SegReg::Ds, 0x33).unwrap();
    write8(&mut m, DATA + 0x0010 + 0x33, 0x44);
    m.cpu.regs[EBX] = 0xffff_0010;
    run(&mut m, 1);
    assert_eq!(m.cpu.regs[EAX], 0x44);
}

#[test]
fn xchg_forms() {
    // xchg ecx, eax (0x91); xchg [ebx], dl; xchg ah, al; data16 xchg cx, ax
    let mut m = machine(&[0x91, 0x86, 0x13, 0x86, 0xe0, 0x66, 0x91]);
    m.cpu.regs[EAX] = 0x1111_2233;
    m.cpu.regs[ECX] = 0x4444_5566;
    m.cpu.regs[EDX] = 0x77;
    m.cpu.regs[EBX] = DATA;
    write8(&mut m, DATA, 0x99);
    run(&mut m, 1);
    assert_eq!((m.cpu.regs[EAX], m.cpu.regs[ECX]), (0x4444_5566, 0x1111_2233));
    run(&mut m, 1);
    assert_eq!((read8(&m, DATA), m.cpu.regs[EDX]), (0x77, 0x99));
    run(&mut m, 1);
    assert_eq!(m.cpu.regs[EAX], 0x4444_6655);
    run(&mut m, 1);
    assert_eq!((m.cpu.regs[EAX], m.cpu.regs[ECX]), (0x4444_2233, 0x1111_6655));
}

#[test]
fn xadd_same_register_keeps_the_sum() {
    let mut m = machine(&[0x0f, 0xc1, 0xc0]); // xadd eax, eax
    m.cpu.regs[EAX] = 21;
    run(&mut m, 1);
    assert_eq!(m.cpu.regs[EAX], 42);
}

#[test]
fn cmpxchg8b_both_outcomes() {
    let mut m = machine(&[0x0f, 0xc7, 0x0e, 0x0f, 0xc7, 0x0e]); // cmpxchg8b [esi] twice
    write32(&mut m, DATA, 1);
    write32(&mut m, DATA + 4, 2);
    m.cpu.regs[ESI] = DATA;
    m.cpu.regs[EAX] = 1;
    m.cpu.regs[EDX] = 2;
    m.cpu.regs[EBX] = 3;
    m.cpu.regs[ECX] = 4;
    m.cpu.flags.set_bits(CF, true);
    run(&mut m, 1);
    assert!(m.cpu.flags.zf() && m.cpu.flags.cf());
    assert_eq!((read32(&m, DATA), read32(&m, DATA + 4)), (3, 4));
    run(&mut m, 1);
    assert!(!m.cpu.flags.zf());
    assert_eq!((m.cpu.regs[EAX], m.cpu.regs[EDX]), (3, 4));
}

#[test]
fn segment_register_moves_and_far_pointer_loads() {
    // mov eax, ds (zero-extended); data16 mov ax, ds (low half); mov [ebx], ss (16-bit
    // store); mov es, cx; lfs edi, [ebx+8]
    let mut m = machine(&[0x8c, 0xd8, 0x66, 0x8c, 0xda, 0x8c, 0x13, 0x8e, 0xc1, 0x0f, 0xb4, 0x7b, 0x08]);
    m.cpu.regs[EAX] = 0xdead_beef;
    m.cpu.regs[EDX] = 0xdead_beef;
    m.cpu.regs[EBX] = DATA;
    m.cpu.regs[ECX] = 0xffff_0000; // null selector into ES is allowed
    write32(&mut m, DATA, 0xaaaa_aaaa);
    write32(&mut m, DATA + 8, 0x1234_5678);
    write16(&mut m, DATA + 12, 0x2b);
    run(&mut m, 5);
    assert_eq!(m.cpu.regs[EAX], 0x2b);
    assert_eq!(m.cpu.regs[EDX], 0xdead_002b);
    assert_eq!(read32(&m, DATA), 0xaaaa_002b);
    assert_eq!(m.cpu.segs[SegReg::Es as usize].selector, 0);
    assert_eq!(m.cpu.regs[EDI], 0x1234_5678);
    assert_eq!(m.cpu.segs[SegReg::Fs as usize].selector, 0x2b);
    // lss with a bad selector: #GP, the register is not written.
    let mut m = machine(&[0x0f, 0xb2, 0x23]); // lss esp, [ebx]
    write32(&mut m, DATA, 0x1234_5678);
    write16(&mut m, DATA + 4, 0x23); // a code segment
    m.cpu.regs[EBX] = DATA;
    let esp = m.cpu.regs[ESP];
    assert_eq!(m.cpu.step(), Exit::Exception(Exception::GeneralProtection(0x20)));
    assert_eq!(m.cpu.regs[ESP], esp);
}

#[test]
fn setcc_and_cmov_follow_conditions() {
    // cmp eax, ebx; setb cl; setg byte [esi]; cmovl edx, ebx; cmovg edi, ebx
    let mut m =
        machine(&[0x39, 0xd8, 0x0f, 0x92, 0xc1, 0x0f, 0x9f, 0x06, 0x0f, 0x4c, 0xd3, 0x0f, 0x4f, 0xfb]);
    m.cpu.regs[EAX] = 1;
    m.cpu.regs[EBX] = (-1i32) as u32;
    m.cpu.regs[ECX] = 0xffff_ffff;
    m.cpu.regs[ESI] = DATA;
    m.cpu.regs[EDX] = 7;
    m.cpu.regs[EDI] = 7;
    run(&mut m, 5);
    assert_eq!(m.cpu.regs[ECX], 0xffff_ff01, "1 < 0xffffffff unsigned");
    assert_eq!(read8(&m, DATA), 1, "1 > -1 signed");
    assert_eq!(m.cpu.regs[EDX], 7);
    assert_eq!(m.cpu.regs[EDI], 0xffff_ffff);
}

// ---------------------------------------------------------------- system

#[test]
fn system_instructions_at_cpl3() {
    // cpuid
    let mut m = machine(&[0x0f, 0xa2]);
    m.cpu.regs[EAX] = 0;
    run(&mut m, 1);
    assert_eq!(m.cpu.regs[EBX], u32::from_le_bytes(*b"Genu"));
    // rdtsc = icount + offset
    let mut m = machine(&[0x90, 0x0f, 0x31]);
    m.cpu.tsc_offset = 0x1_0000_0000;
    run(&mut m, 2);
    assert_eq!((m.cpu.regs[EDX], m.cpu.regs[EAX]), (1, 1));
    // flag instructions
    let mut m = machine(&[0xf9, 0xf5, 0xf5, 0xfd, 0xfc, 0xf8]);
    run(&mut m, 1);
    assert!(m.cpu.flags.cf());
    run(&mut m, 1);
    assert!(!m.cpu.flags.cf());
    run(&mut m, 2);
    assert!(m.cpu.flags.cf() && m.cpu.flags.df());
    run(&mut m, 2);
    assert!(!m.cpu.flags.cf() && !m.cpu.flags.df());
    // privileged: #GP(0), EIP unchanged, nothing touched (the LGDT operand is unmapped)
    for code in [
        &[0xfa][..],
        &[0xfb],
        &[0xf4],
        &[0xe4, 0x80],
        &[0xee],
        &[0x6c],
        &[0x0f, 0x01, 0x10],
        &[0x0f, 0x20, 0xc0],
        &[0x0f, 0x22, 0xd8],
        &[0x0f, 0x01, 0x38],
        &[0x0f, 0x09],
        &[0x0f, 0x32],
        &[0x0f, 0x30],
        &[0x0f, 0x06],
    ] {
        let mut m = machine(code);
        m.cpu.regs[EAX] = 0x7000_0000;
        m.cpu.regs[EDI] = 0x7000_0000;
        assert_eq!(m.cpu.step(), Exit::Exception(Exception::GeneralProtection(0)), "{code:02x?}");
        assert_eq!(m.cpu.eip, CODE);
    }
    // cli/sti under IOPL 3
    let mut m = machine(&[0xfa, 0xfb]);
    m.cpu.flags.set(IOPL | IF | 2);
    run(&mut m, 1);
    assert_eq!(m.cpu.flags.get() & IF, 0);
    run(&mut m, 1);
    assert_eq!(m.cpu.flags.get() & IF, IF);
    // lfence, sfence, mfence: no operand, nothing to order on one processor
    let mut m = machine(&[0x0f, 0xae, 0xe8, 0x0f, 0xae, 0xf8, 0x0f, 0xae, 0xf0]);
    run(&mut m, 3);
    assert_eq!(m.cpu.eip, CODE + 9);
    // hint NOPs never touch their operand
    let mut m =
        machine(&[0xf3, 0x0f, 0x1e, 0xfb, 0x0f, 0x18, 0x00, 0x0f, 0x0d, 0x08, 0x0f, 0x1f, 0x00, 0xf3, 0x90]);
    m.cpu.regs[EAX] = 0x7000_0000;
    run(&mut m, 5);
    assert_eq!(m.cpu.eip, CODE + 15);
    // smsw
    let mut m = machine(&[0x0f, 0x01, 0xe0]);
    run(&mut m, 1);
    assert_eq!(m.cpu.regs[EAX], m.cpu.mmu.cr0());
}

// ---------------------------------------------------------------- against the host

#[cfg(target_arch = "x86_64")]
mod host {
    use super::*;
    use std::arch::asm;

    /// The EFLAGS bits the tests set on the host (never TF, AC, NT or IF).
    const SETTABLE: u64 = (ARITH | DF) as u64;

    /// Runs `code` in the emulator with EFLAGS = `flags` and the given registers.
    fn emu(code: &[u8], regs: &[(usize, u32)], flags: u32) -> Machine {
        let mut m = machine(code);
        emu_in(&mut m, code, regs, flags);
        m
    }

    /// The same, reusing a machine (rewriting the code drops its decoded blocks).
    fn emu_in(m: &mut Machine, code: &[u8], regs: &[(usize, u32)], flags: u32) {
        m.load_code(CODE, code);
        m.cpu.regs = [0; 8];
        m.cpu.regs[ESP] = STACK + 0x800;
        for &(r, v) in regs {
            m.cpu.regs[r] = v;
        }
        m.cpu.flags.set(flags | IF | 2);
        run(m, 1);
    }

    macro_rules! host_op {
        ($insn:literal, $a:expr, $b:expr, $flags_in:expr) => {{
            let mut a: u64 = $a;
            let mut b: u64 = $b;
            let fl: u64;
            // SAFETY: the asm touches only the registers it declares, RFLAGS (saved and restored with pushfq/popfq around it) and the stack slots it pushes and pops itself; no memory of ours.
            unsafe {
                asm!(
                    "pushfq",
                    "push {fin}",
                    "popfq",
                    $insn,
                    "pushfq",
                    "pop {fout}",
                    "popfq",
                    fin = in(reg) $flags_in as u64,
                    fout = lateout(reg) fl,
                    inout("rax") a,
                    inout("rcx") b,
                );
            }
            (a, b, fl)
        }};
    }

    const VALUES: [u32; 10] = [0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff_ffff, 0x8000_0000, 0xffff_fffe, 0xffff_ffff];

    /// `cmpxchg [mem], cl/cx/ecx` natively: (memory after, accumulator after, flags).
    macro_rules! host_cmpxchg {
        ($insn:literal, $ty:ty, $acc:expr, $mem:expr, $src:expr) => {{
            let mut mem: $ty = $mem as $ty;
            let mut acc: u64 = u64::from($acc);
            let fl: u64;
            // SAFETY: as above, plus one store through `p`, which points at the live local `mem` of the asm's own type.
            unsafe {
                asm!(
                    "pushfq",
                    "push 0",
                    "popfq",
                    $insn,
                    "pushfq",
                    "pop {f}",
                    "popfq",
                    p = in(reg) &mut mem,
                    f = lateout(reg) fl,
                    inout("rax") acc,
                    in("rcx") u64::from($src),
                );
            }
            (u32::from(mem), acc as u32, fl as u32 & ARITH)
        }};
    }

    #[test]
    fn cmpxchg_matches_the_host() {
        let src = 0x5a5a_5a5au32;
        for &a in &VALUES {
            for &d in &VALUES {
                let cases = [
                    (&[0x0f, 0xb0, 0x0b][..], host_cmpxchg!("cmpxchg byte ptr [{p}], cl", u8, a, d, src)),
                    (&[0x66, 0x0f, 0xb1, 0x0b], host_cmpxchg!("cmpxchg word ptr [{p}], cx", u16, a, d, src)),
                    (&[0x0f, 0xb1, 0x0b], host_cmpxchg!("cmpxchg dword ptr [{p}], ecx", u32, a, d, src)),
                ];
                for (code, (mem, acc, fl)) in cases {
                    let mut m = machine(code);
                    write32(&mut m, DATA, d);
                    m.cpu.regs[EAX] = a;
                    m.cpu.regs[ECX] = src;
                    m.cpu.regs[EBX] = DATA;
                    run(&mut m, 1);
                    let width = match code.len() {
                        4 => 0xffff,
                        _ if code[1] == 0xb0 => 0xff,
                        _ => u32::MAX,
                    };
                    assert_eq!(read32(&m, DATA) & width, mem, "{code:02x?} {a:#x} vs {d:#x}");
                    assert_eq!(m.cpu.regs[EAX], acc, "{code:02x?} {a:#x} vs {d:#x}");
                    assert_eq!(m.cpu.flags.get() & ARITH, fl, "{code:02x?} {a:#x} vs {d:#x}");
                }
            }
        }
    }

    #[test]
    fn xadd_matches_the_host() {
        for &a in &VALUES {
            for &b in &VALUES {
                for (code, host) in [
                    (&[0x0f, 0xc1, 0xc8][..], host_op!("xadd eax, ecx", u64::from(a), u64::from(b), 0)),
                    (&[0x0f, 0xc0, 0xc8], host_op!("xadd al, cl", u64::from(a), u64::from(b), 0)),
                    (&[0x66, 0x0f, 0xc1, 0xc8], host_op!("xadd ax, cx", u64::from(a), u64::from(b), 0)),
                ] {
                    let m = emu(code, &[(EAX, a), (ECX, b)], 0);
                    assert_eq!(u64::from(m.cpu.regs[EAX]), host.0 & 0xffff_ffff, "{code:02x?}");
                    assert_eq!(u64::from(m.cpu.regs[ECX]), host.1 & 0xffff_ffff, "{code:02x?}");
                    assert_eq!(
                        u64::from(m.cpu.flags.get() & ARITH),
                        host.2 & u64::from(ARITH),
                        "{code:02x?} {a:#x} {b:#x}"
                    );
                }
            }
        }
    }

    #[test]
    fn bswap_matches_the_host_including_the_16_bit_form() {
        for &v in &[0x1122_3344u32, 0x8899_aabb, 0, 0xffff_ffff] {
            let (h32, _, _) = host_op!("bswap eax", u64::from(v), 0, 0);
            let (h16, _, _) = host_op!(".byte 0x66, 0x0f, 0xc8", u64::from(v), 0, 0);
            let m = emu(&[0x0f, 0xc8], &[(EAX, v)], 0);
            assert_eq!(u64::from(m.cpu.regs[EAX]), h32 & 0xffff_ffff);
            let m = emu(&[0x66, 0x0f, 0xc8], &[(EAX, v)], 0);
            assert_eq!(u64::from(m.cpu.regs[EAX]), h16 & 0xffff_ffff, "bswap ax of {v:#x}");
        }
    }

    /// Every combination of CF PF ZF SF OF (AF too, though no condition reads it).
    fn flag_combinations() -> impl Iterator<Item = u32> {
        (0u32..64).map(|i| {
            [CF, PF, ZF, SF, OF, AF]
                .iter()
                .enumerate()
                .filter(|(b, _)| i & (1 << b) != 0)
                .map(|(_, f)| f)
                .sum()
        })
    }

    #[test]
    fn setcc_matches_the_host_for_all_16_conditions() {
        macro_rules! host_set {
            ($insn:literal, $flags:expr) => {{
                let r: u64;
                // SAFETY: the asm touches only the registers it declares, RFLAGS (saved and restored with pushfq/popfq around it) and the stack slots it pushes and pops itself; no memory of ours.
                unsafe {
                    asm!("pushfq", "push {f}", "popfq", $insn, "popfq", "movzx {r}, al", f = in(reg) $flags as u64, r = lateout(reg) r, out("al") _);
                }
                r
            }};
        }
        let mut m = machine(&[]);
        for flags in flag_combinations() {
            let host: [u64; 16] = [
                host_set!("seto al", flags),
                host_set!("setno al", flags),
                host_set!("setb al", flags),
                host_set!("setae al", flags),
                host_set!("sete al", flags),
                host_set!("setne al", flags),
                host_set!("setbe al", flags),
                host_set!("seta al", flags),
                host_set!("sets al", flags),
                host_set!("setns al", flags),
                host_set!("setp al", flags),
                host_set!("setnp al", flags),
                host_set!("setl al", flags),
                host_set!("setge al", flags),
                host_set!("setle al", flags),
                host_set!("setg al", flags),
            ];
            for (cc, &h) in host.iter().enumerate() {
                emu_in(&mut m, &[0x0f, 0x90 + cc as u8, 0xc0], &[(EAX, 0xffff_ffff)], flags);
                assert_eq!(u64::from(m.cpu.regs[EAX] & 0xff), h, "set cc {cc:#x} flags {flags:#x}");
                assert_eq!(m.cpu.regs[EAX] >> 8, 0x00ff_ffff);
                // CMOVcc and Jcc decide the same way.
                emu_in(&mut m, &[0x0f, 0x40 + cc as u8, 0xc1], &[(EAX, 1), (ECX, 2)], flags);
                assert_eq!(u64::from(m.cpu.regs[EAX] == 2), h, "cmov cc {cc:#x}");
                emu_in(&mut m, &[0x70 + cc as u8, 0x10], &[], flags);
                assert_eq!(u64::from(m.cpu.eip == CODE + 0x12), h, "jcc {cc:#x}");
            }
        }
    }

    #[test]
    fn lahf_sahf_match_the_host() {
        let mut m = machine(&[]);
        for ah in 0u32..256 {
            let r: u64;
            let fl: u64;
            // SAFETY: the asm touches only the registers it declares, RFLAGS (saved and restored with pushfq/popfq around it) and the stack slots it pushes and pops itself; no memory of ours.
            unsafe {
                asm!(
                    "pushfq",
                    "sahf",
                    "pushfq",
                    "pop {f}",
                    "mov ah, 0",
                    "lahf",
                    "popfq",
                    f = lateout(reg) fl,
                    inout("rax") u64::from(ah << 8) => r,
                );
            }
            emu_in(&mut m, &[0x9e, 0x9f], &[(EAX, ah << 8)], 0);
            assert_eq!(u64::from(m.cpu.flags.get() & 0xff), fl & 0xff, "sahf {ah:#x}");
            m.cpu.regs[EAX] = 0;
            run(&mut m, 1);
            assert_eq!(u64::from(m.cpu.regs[EAX] >> 8), (r >> 8) & 0xff, "lahf after sahf {ah:#x}");
        }
    }

    #[test]
    fn pushf_image_matches_the_host() {
        for flags in flag_combinations().chain([DF, DF | CF | ZF]) {
            let img: u64;
            // SAFETY: the asm touches only the registers it declares, RFLAGS (saved and restored with pushfq/popfq around it) and the stack slots it pushes and pops itself; no memory of ours.
            unsafe {
                asm!(
                    "pushfq",
                    "push {f}",
                    "popfq",
                    "pushfq",
                    "pop {i}",
                    "popfq",
                    f = in(reg) (u64::from(flags) & SETTABLE) | 0x202,
                    i = lateout(reg) img,
                );
            }
            // popfd of the same image then pushfd, in the emulator.
            let mut m = machine(&[0x9d, 0x9c]);
            let s = m.cpu.regs[ESP];
            write32(&mut m, s, flags | 0x202);
            run(&mut m, 2);
            assert_eq!(u64::from(read32(&m, s)), img & 0xffff_ffff, "flags {flags:#x}");
        }
    }
}
