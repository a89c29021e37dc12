//! SSE floating point at the CPU level, where the guest image `simd-float xm` cannot
//! look without a kernel: the MXCSR an unmasked exception leaves, that nothing else
//! changes with #XM or a fault, and where the MMX transition happens.
//!
//! The expected MXCSR values were measured on the host (an AMD Zen, SIGFPE handler
//! reading MXCSR from the signal frame after the same instruction;
//! `guest-images/bin/simd-float xm verbose FORM` prints such runs).

mod common;

use common::Machine;
use growsdown_cpu::mmu::{CR4_OSFXSR, CR4_OSXMMEXCPT, PTE_P, PTE_RW, PTE_US};
use growsdown_cpu::{Exception, Exit, PageFault, EAX};

const CODE: u32 = 0x0804_8000;
const DATA: u32 = 0x0805_0000;
/// Never mapped.
const HOLE: u32 = 0x0806_0000;

const MULPS_XMM0_XMM1: [u8; 3] = [0x0f, 0x59, 0xc1];
const ADDPS_XMM0_M_EAX: [u8; 3] = [0x0f, 0x58, 0x00];
const COMISS_XMM0_XMM1: [u8; 3] = [0x0f, 0x2f, 0xc1];
const CVTPS2PI_MM0_M_EAX: [u8; 3] = [0x0f, 0x2d, 0x00];

fn machine(code: &[u8]) -> Machine {
    let mut m = Machine::new();
    m.map(CODE, PTE_P | PTE_US);
    m.load_code(CODE, code);
    m.map(DATA, PTE_P | PTE_RW | PTE_US);
    m.cpu.mmu.set_cr4(m.cpu.mmu.cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
    m
}

fn v4(w: [u32; 4]) -> u128 {
    w.iter().rev().fold(0, |acc, &x| (acc << 32) | u128::from(x))
}

/// MULPS XMM0, XMM1 with `a` × `b` under `mxcsr`: the trap it must raise (or not)
/// and the MXCSR after.
fn mulps(a: [u32; 4], b: [u32; 4], mxcsr: u32) -> (Exit, u128, u32) {
    let mut m = machine(&MULPS_XMM0_XMM1);
    m.cpu.fpu.xmm[0] = v4(a);
    m.cpu.fpu.xmm[1] = v4(b);
    m.cpu.fpu.mxcsr = mxcsr;
    let exit = m.cpu.step();
    (exit, m.cpu.fpu.xmm[0], m.cpu.fpu.mxcsr)
}

const XM: Exit = Exit::Exception(Exception::SimdFloatingPoint);
const ONE: u32 = 0x3f80_0000;

#[test]
fn unmasked_overflow_sets_pe_only_if_the_unbounded_result_is_inexact() {
    let a = [0x7180_0000, ONE, ONE, ONE]; // 2^100
    let (exit, d, mx) = mulps(a, a, 0x1b80);
    assert_eq!((exit, d, mx), (XM, v4(a), 0x1b88), "2^100 * 2^100 is exact: OE alone");
    let a = [0x71c0_0001, ONE, ONE, ONE];
    let (exit, d, mx) = mulps(a, a, 0x1b80);
    assert_eq!((exit, d, mx), (XM, v4(a), 0x1ba8), "an inexact overflow: OE and PE");
    let (exit, _, mx) = mulps(a, a, 0x1f80);
    assert_eq!((exit, mx), (Exit::Budget, 0x1fa8), "masked: OE and PE, no trap");
}

#[test]
fn unmasked_underflow_traps_on_exact_tiny_results_and_ignores_fz() {
    let a = [0x1f00_0000, ONE, ONE, ONE]; // 2^-65: the product 2^-130 is a denormal
    let (exit, d, mx) = mulps(a, a, 0x1f80);
    assert_eq!((exit, d as u32, mx), (Exit::Budget, 0x0008_0000, 0x1f80), "masked, exact: no flag");
    let (exit, d, mx) = mulps(a, a, 0x1780);
    assert_eq!((exit, d, mx), (XM, v4(a), 0x1790));
    let (exit, d, mx) = mulps(a, a, 0x9780);
    assert_eq!((exit, d, mx), (XM, v4(a), 0x9790), "FZ applies to masked underflows only");
    let a = [0x0d80_0000, ONE, ONE, ONE]; // 2^-100: 2^-200 is 0 in single, exact unbounded
    let (_, _, mx) = mulps(a, a, 0x1f80);
    assert_eq!(mx, 0x1fb0);
    let (exit, _, mx) = mulps(a, a, 0x1780);
    assert_eq!((exit, mx), (XM, 0x1790));
    let (a, b) = ([0x1f00_0001, ONE, ONE, ONE], [0x1f00_0003, ONE, ONE, ONE]);
    let (exit, _, mx) = mulps(a, b, 0x1780);
    assert_eq!((exit, mx), (XM, 0x17b0), "tiny and inexact: UE and PE");
}

#[test]
fn an_unmasked_precomputation_exception_leaves_only_precomputation_flags() {
    // Element 0 an SNaN (IE), element 1 inexact (PE).
    let a = [0x7f80_0001, 0x3fff_ffff, ONE, ONE];
    let b = [ONE, 0x3fff_ffff, ONE, ONE];
    let (exit, d, mx) = mulps(a, b, 0x1f00);
    assert_eq!((exit, d, mx), (XM, v4(a), 0x1f01));
    let (exit, _, mx) = mulps(a, b, 0x0f80);
    assert_eq!((exit, mx), (XM, 0x0fa1), "PE unmasked: every flag");
    // Element 0 a denormal (DE), element 1 an exact overflow.
    let a = [0x0000_0001, 0x7180_0000, ONE, ONE];
    let b = [ONE, 0x7180_0000, ONE, ONE];
    let (exit, _, mx) = mulps(a, b, 0x1e80);
    assert_eq!((exit, mx), (XM, 0x1e82), "DE unmasked: no OE or PE");
    let (exit, _, mx) = mulps(a, b, 0x1b80);
    assert_eq!((exit, mx), (XM, 0x1b8a), "OE unmasked: DE of one element, OE of the other");
    let (exit, _, mx) = mulps(a, b, 0x1780);
    assert_eq!((exit, mx), (XM, 0x17ba), "UE unmasked: the denormal product is tiny");
}

#[test]
fn comiss_with_an_unmasked_invalid_leaves_eflags() {
    let mut m = machine(&COMISS_XMM0_XMM1);
    m.cpu.fpu.xmm[0] = u128::from(0x7fc0_0000u32); // QNaN: COMISS signals IE
    m.cpu.fpu.xmm[1] = u128::from(ONE);
    m.cpu.fpu.mxcsr = 0x1f00;
    let flags = m.cpu.flags.get();
    assert_eq!(m.cpu.step(), XM);
    assert_eq!(m.cpu.flags.get(), flags);
    assert_eq!(m.cpu.fpu.mxcsr, 0x1f01);
    assert_eq!(m.cpu.eip, CODE, "a fault: EIP at the instruction");
}

#[test]
fn without_osxmmexcpt_an_unmasked_exception_is_ud() {
    let mut m = machine(&MULPS_XMM0_XMM1);
    m.cpu.mmu.set_cr4(m.cpu.mmu.cr4() & !CR4_OSXMMEXCPT);
    m.cpu.fpu.xmm[0] = v4([0x7f80_0001, ONE, ONE, ONE]);
    m.cpu.fpu.mxcsr = 0x1f00;
    assert_eq!(m.cpu.step(), Exit::Exception(Exception::InvalidOpcode));
}

#[test]
fn a_faulting_memory_source_changes_nothing() {
    let mut m = machine(&ADDPS_XMM0_M_EAX);
    m.cpu.regs[EAX] = HOLE;
    m.cpu.fpu.xmm[0] = 0x1234;
    let mxcsr = m.cpu.fpu.mxcsr;
    assert_eq!(m.cpu.step(), Exit::Exception(Exception::from(PageFault { addr: HOLE, code: 4 })));
    assert_eq!((m.cpu.fpu.xmm[0], m.cpu.fpu.mxcsr, m.cpu.eip), (0x1234, mxcsr, CODE));
    // ADDPS m128 must be 16-byte aligned.
    let mut m = machine(&ADDPS_XMM0_M_EAX);
    m.cpu.regs[EAX] = DATA + 8;
    assert_eq!(m.cpu.step(), Exit::Exception(Exception::GeneralProtection(0)));
}

#[test]
fn cvtps2pi_makes_the_mmx_transition_only_once_its_source_is_read() {
    let mut m = machine(&CVTPS2PI_MM0_M_EAX);
    m.cpu.regs[EAX] = HOLE;
    m.cpu.fpu.top = 7;
    m.cpu.fpu.empty = 0x7f;
    let (sw, tw) = (m.cpu.fpu.status_word(), m.cpu.fpu.tag_word());
    assert_eq!(m.cpu.step(), Exit::Exception(Exception::from(PageFault { addr: HOLE, code: 4 })));
    assert_eq!((m.cpu.fpu.status_word(), m.cpu.fpu.tag_word()), (sw, tw));
    // Mapped: TOP 0, every register valid, MM0 = (1, -2).
    let mut m = machine(&CVTPS2PI_MM0_M_EAX);
    m.cpu.regs[EAX] = DATA;
    let p = m.cpu.mmu.mapping(DATA).phys.expect("mapped");
    m.cpu.mmu.phys_mut().write_bytes(p, &[0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
    m.cpu.fpu.top = 7;
    m.cpu.fpu.empty = 0x7f;
    assert_eq!(m.cpu.step(), Exit::Budget);
    assert_eq!((m.cpu.fpu.top, m.cpu.fpu.empty), (0, 0));
    assert_eq!(m.cpu.fpu.regs[0].sig, 0xffff_fffe_0000_0001);
}
