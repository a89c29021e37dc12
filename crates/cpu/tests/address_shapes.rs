//! Every address shape of a memory operand (disp32, base, base+index, index) reaches
//! the same byte through the handlers specialised by shape, with DS flat (the Linux
//! model: the segment is skipped, `uop::FLAT`) and with a DS whose base is not 0.
//! A handler picked for the wrong shape addresses another byte and fails here.

mod common;

use common::Machine;
use growsdown_cpu::mmu::{PTE_P, PTE_RW, PTE_US};
use growsdown_cpu::{Descriptor, Exit, SegReg, EAX, EBX, ECX, ESI};

const CODE: u32 = 0x0804_8000;
const DATA: u32 = 0x0805_0000;
/// Where every shape points (as an offset in DS).
const TARGET: u32 = DATA + 0x240;
/// The base of the non-flat DS: selector 0x33 (GDT entry 6).
const DS_BASE: u32 = 0x1000;

/// The four shapes, as (ModRM with reg = 0, SIB, displacement, EBX, ESI), each
/// addressing `TARGET` with ESI * 4 = 16.
fn shapes() -> [(u8, Option<u8>, u32, u32, u32); 4] {
    [
        (0x05, None, TARGET, 0, 0),                      // [disp32]
        (0x83, None, 0x10, TARGET - 0x10, 0),            // [ebx+disp32]
        (0x84, Some(0xb3), 0x20, TARGET - 0x20 - 16, 4), // [ebx+esi*4+disp32]
        (0x04, Some(0xb5), TARGET - 16, 0, 4),           // [esi*4+disp32]
    ]
}

/// `opcode /reg` with the shape's memory operand.
fn insn(opcode: &[u8], reg: u8, shape: (u8, Option<u8>, u32, u32, u32)) -> Vec<u8> {
    let (modrm, sib, disp, _, _) = shape;
    let mut code = opcode.to_vec();
    code.push(modrm | (reg << 3));
    code.extend(sib);
    code.extend_from_slice(&disp.to_le_bytes());
    code
}

/// Runs `code` (one instruction) with the shape's registers, DS flat or based at
/// `DS_BASE`; returns the machine and the linear address of `TARGET`.
fn run(
    code: &[u8],
    shape: (u8, Option<u8>, u32, u32, u32),
    flat: bool,
    setup: impl Fn(&mut Machine, u32),
) -> (Machine, u32) {
    let mut m = Machine::new();
    m.map(CODE, PTE_P | PTE_US);
    m.map(DATA, PTE_P | PTE_US | PTE_RW);
    m.map(DATA + DS_BASE, PTE_P | PTE_US | PTE_RW);
    m.load_code(CODE, code);
    if !flat {
        m.cpu.gdt[6] = Descriptor::encode(DS_BASE, 0xfffff, 0xc0f3);
        m.cpu.load_segment(SegReg::Ds, 0x33).unwrap();
    }
    let lin = if flat { TARGET } else { TARGET + DS_BASE };
    m.cpu.regs[EBX] = shape.3;
    m.cpu.regs[ESI] = shape.4;
    setup(&mut m, lin);
    assert_eq!(m.cpu.run(1), Exit::Budget);
    (m, lin)
}

fn write32(m: &mut Machine, lin: u32, v: u32) {
    let p = m.cpu.mmu.mapping(lin).phys.unwrap();
    m.cpu.mmu.phys_mut().write_u32(p, v);
}

fn read32(m: &Machine, lin: u32) -> u32 {
    m.cpu.mmu.phys().read_u32(m.cpu.mmu.mapping(lin).phys.unwrap())
}

#[test]
fn every_shape_reaches_the_same_byte() {
    for flat in [true, false] {
        for (n, shape) in shapes().into_iter().enumerate() {
            let what = format!("shape {n}, DS flat: {flat}");
            // mov eax, [m]
            let (m, _) = run(&insn(&[0x8b], 0, shape), shape, flat, |m, lin| write32(m, lin, 0x1234_5678));
            assert_eq!(m.cpu.regs[EAX], 0x1234_5678, "mov load, {what}");
            // mov [m], ecx
            let (m, lin) = run(&insn(&[0x89], 1, shape), shape, flat, |m, _| m.cpu.regs[ECX] = 0xcafe_f00d);
            assert_eq!(read32(&m, lin), 0xcafe_f00d, "mov store, {what}");
            // add [m], ecx
            let (m, lin) = run(&insn(&[0x01], 1, shape), shape, flat, |m, lin| {
                write32(m, lin, 40);
                m.cpu.regs[ECX] = 2;
            });
            assert_eq!(read32(&m, lin), 42, "add to memory, {what}");
            // fnstcw [m]
            let (m, lin) = run(&insn(&[0xd9], 7, shape), shape, flat, |m, lin| write32(m, lin, 0));
            assert_eq!(read32(&m, lin), 0x037f, "fnstcw, {what}");
            // fldcw [m]
            let (m, _) = run(&insn(&[0xd9], 5, shape), shape, flat, |m, lin| write32(m, lin, 0x0c7f));
            assert_eq!(m.cpu.fpu.control, 0x0c7f, "fldcw, {what}");
            // fld dword [m]: 1.5f
            let (m, _) = run(&insn(&[0xd9], 0, shape), shape, flat, |m, lin| write32(m, lin, 0x3fc0_0000));
            assert_eq!(m.cpu.fpu.st(0).to_f64_lossy(), 1.5, "fld m32, {what}");
        }
    }
}
