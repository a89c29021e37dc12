//! The executor's bookkeeping: EIP and the instruction count are exact at every exit
//! however blocks are cut (budget, fused compare-and-branch, self-modifying code),
//! and a loop run through block links ends in the same state as one single-stepped.

mod common;

use common::Machine;
use growsdown_cpu::flags::{CF, OF, SF, ZF};
use growsdown_cpu::mmu::{PF_USER, PF_WRITE, PTE_P, PTE_RW, PTE_US};
use growsdown_cpu::{Exception, Exit, PageFault, EAX, EBX, ECX, ESP};

const CODE: u32 = 0x0804_8000;

/// `mov ecx, 5 ; top: add eax, ecx ; dec ecx ; cmp ecx, 0 ; jne top ; mov ebx, eax`
const LOOP: [u8; 17] = [
    0xb9, 0x05, 0x00, 0x00, 0x00, // mov ecx, 5
    0x01, 0xc8, // add eax, ecx
    0x49, // dec ecx
    0x83, 0xf9, 0x00, // cmp ecx, 0
    0x75, 0xf8, // jne -8 (to add)
    0x89, 0xc3, // mov ebx, eax
    0x90, 0x90,
];
/// 1 + 5 iterations of 4 instructions + the final mov.
const LOOP_INSNS: u64 = 1 + 5 * 4 + 1;

fn machine(code: &[u8]) -> Machine {
    let mut m = Machine::new();
    m.map(CODE, PTE_P | PTE_US | PTE_RW);
    m.load_code(CODE, code);
    m
}

#[test]
fn a_loop_of_linked_blocks_ends_where_stepping_does() {
    let mut run = machine(&LOOP);
    assert_eq!(run.cpu.run(LOOP_INSNS), Exit::Budget);
    let mut step = machine(&LOOP);
    for _ in 0..LOOP_INSNS {
        assert_eq!(step.cpu.step(), Exit::Budget);
    }
    for m in [&run, &step] {
        assert_eq!((m.cpu.regs[EAX], m.cpu.regs[EBX], m.cpu.regs[ECX]), (15, 15, 0));
        assert_eq!(m.cpu.eip, CODE + 15);
        assert_eq!(m.cpu.icount, LOOP_INSNS);
    }
    assert_eq!(run.cpu.flags.get(), step.cpu.flags.get());
    assert!(run.cpu.blocks_linked > 0, "the loop's back edge is followed through a link");
}

#[test]
fn every_budget_stops_on_an_instruction_boundary() {
    // Whatever the budget, the state equals that many single steps: in particular a
    // budget that ends between the fused CMP and JNE retires the CMP alone.
    for budget in 0..=LOOP_INSNS {
        let mut run = machine(&LOOP);
        let mut step = machine(&LOOP);
        assert_eq!(run.cpu.run(budget), Exit::Budget);
        for _ in 0..budget {
            step.cpu.step();
        }
        assert_eq!(run.cpu.eip, step.cpu.eip, "budget {budget}");
        assert_eq!(run.cpu.icount, budget, "budget {budget}");
        assert_eq!(run.cpu.regs, step.cpu.regs, "budget {budget}");
        assert_eq!(run.cpu.flags.get(), step.cpu.flags.get(), "budget {budget}");
    }
}

#[test]
fn a_compare_cut_off_from_its_branch_sets_the_flags_and_stops_before_the_branch() {
    // cmp eax, ebx ; jb +2 ; nop ; nop
    let mut m = machine(&[0x39, 0xd8, 0x72, 0x02, 0x90, 0x90, 0x90, 0x90]);
    m.cpu.regs[EAX] = 1;
    m.cpu.regs[EBX] = 2;
    assert_eq!(m.cpu.run(1), Exit::Budget);
    assert_eq!((m.cpu.eip, m.cpu.icount), (CODE + 2, 1));
    assert_eq!(m.cpu.flags.get() & (CF | ZF | SF), CF | SF);
    assert_eq!(m.cpu.run(1), Exit::Budget);
    assert_eq!((m.cpu.eip, m.cpu.icount), (CODE + 6, 2), "1 < 2 unsigned: taken");
}

#[test]
fn a_store_into_the_running_block_takes_effect_at_the_next_instruction() {
    // mov byte [CODE+9], 0x40 (turns the `nop` below into `inc eax`) ; nop ; nop
    let mut code = vec![0xc6, 0x05];
    code.extend_from_slice(&(CODE + 9).to_le_bytes());
    code.extend_from_slice(&[0x40, 0x90, 0x90, 0x90, 0x90]);
    let mut m = machine(&code);
    assert_eq!(m.cpu.run(4), Exit::Budget);
    assert_eq!(m.cpu.regs[EAX], 1, "the rewritten instruction ran, not its stale decoding");
    assert_eq!((m.cpu.eip, m.cpu.icount), (CODE + 10, 4));
    assert!(m.cpu.blocks_invalidated > 0);
}

#[test]
fn an_instruction_across_two_pages_is_cached_and_dropped_with_either_frame() {
    // mov eax, 0x11223344 starting 2 bytes before the page boundary.
    let mut m = Machine::new();
    let f1 = m.map(CODE, PTE_P | PTE_US | PTE_RW);
    let f2 = m.map(CODE + 0x1000, PTE_P | PTE_US | PTE_RW);
    let at = CODE + 0xffe;
    m.cpu.mmu.phys_mut().write_bytes(f1 + 0xffe, &[0xb8, 0x44]);
    m.cpu.mmu.phys_mut().write_bytes(f2, &[0x33, 0x22, 0x11]);
    let run_once = |m: &mut Machine| {
        m.cpu.eip = at;
        assert_eq!(m.cpu.run(1), Exit::Budget);
        assert_eq!(m.cpu.eip, CODE + 0x1003);
        m.cpu.regs[EAX]
    };
    assert_eq!(run_once(&mut m), 0x1122_3344);
    let built = m.cpu.blocks_built;
    assert_eq!(run_once(&mut m), 0x1122_3344);
    assert_eq!(m.cpu.blocks_built, built, "the second run finds the decoded instruction");

    // A write to the second frame changes the instruction.
    m.cpu.mmu.phys_mut().write_u8(f2 + 2, 0x55);
    assert_eq!(run_once(&mut m), 0x5522_3344);

    // The second page remapped to another frame (the kernel would INVLPG).
    let f3 = m.map(CODE + 0x2000, PTE_P | PTE_US | PTE_RW);
    m.cpu.mmu.phys_mut().write_bytes(f3, &[0x66, 0x77, 0x88]);
    m.map_to(CODE + 0x1000, f3, PTE_P | PTE_US | PTE_RW, PTE_P | PTE_RW | PTE_US);
    m.cpu.mmu.invlpg(CODE + 0x1000);
    assert_eq!(run_once(&mut m), 0x8877_6644);
}

/// `jmp +2 ; (2 bytes never run) ; call f ; inc ebx ; nop x4 ; f: inc eax ; mov [0x1000], eax`
const THROUGH: [u8; 20] = [
    0xeb, 0x02, // jmp +2 (to the call)
    0xff, 0xff, // not an instruction: the jump skips it
    0xe8, 0x05, 0x00, 0x00, 0x00, // call f (CODE+14), returning to CODE+9
    0x43, // inc ebx
    0x90, 0x90, 0x90, 0x90, //
    0x40, // f: inc eax
    0xa3, 0x00, 0x10, 0x00, 0x00, // mov [0x1000], eax: unmapped, faults
];
const STACK_TOP: u32 = 0x0900_1000;

fn through_machine() -> Machine {
    let mut m = machine(&THROUGH);
    m.map(STACK_TOP - 0x1000, PTE_P | PTE_US | PTE_RW);
    m.cpu.regs[ESP] = STACK_TOP;
    m
}

#[test]
fn a_block_continues_through_a_same_page_jmp_and_call_and_stays_exact() {
    // One block holds the JMP, the CALL and the callee; the fault at its end is still
    // reported at its own instruction, after the three before it retired.
    let mut m = through_machine();
    let fault = Exit::Exception(Exception::from(PageFault { addr: 0x1000, code: PF_USER | PF_WRITE }));
    assert_eq!(m.cpu.run(100), fault);
    assert_eq!((m.cpu.eip, m.cpu.icount), (CODE + 15, 3));
    assert_eq!((m.cpu.regs[EAX], m.cpu.regs[EBX]), (1, 0));
    assert_eq!(m.cpu.regs[ESP], STACK_TOP - 4);
    assert_eq!(m.cpu.mmu.read::<u32>(STACK_TOP - 4, true), Ok(CODE + 9), "the return address");
    assert_eq!(m.cpu.blocks_built, 1, "one block from the JMP to the faulting store");

    // Any budget inside it stops where single steps do.
    for budget in 0..=3 {
        let mut run = through_machine();
        let mut step = through_machine();
        assert_eq!(run.cpu.run(budget), Exit::Budget);
        for _ in 0..budget {
            assert_eq!(step.cpu.step(), Exit::Budget);
        }
        assert_eq!((run.cpu.eip, run.cpu.icount), (step.cpu.eip, budget), "budget {budget}");
        assert_eq!(run.cpu.regs, step.cpu.regs, "budget {budget}");
    }
}

#[test]
fn a_store_into_code_that_already_ran_elsewhere_takes_effect_when_it_runs_again() {
    // Page 1: call f ; mov byte [f], 0x43 (inc ebx) ; call f ; nop
    // Page 2: f: inc eax ; ret
    let f = CODE + 0x1000;
    let mut code = vec![0xe8];
    code.extend_from_slice(&(f - (CODE + 5)).to_le_bytes());
    code.extend_from_slice(&[0xc6, 0x05]);
    code.extend_from_slice(&f.to_le_bytes());
    code.push(0x43);
    code.push(0xe8);
    code.extend_from_slice(&(f - (CODE + 17)).to_le_bytes());
    code.push(0x90);
    let mut m = through_machine();
    m.load_code(CODE, &code);
    m.map(f, PTE_P | PTE_US | PTE_RW);
    m.load_code(f, &[0x40, 0xc3]);
    m.cpu.eip = CODE;
    // call, inc, ret, mov, call, (new) inc ebx, ret, nop
    assert_eq!(m.cpu.run(8), Exit::Budget);
    assert_eq!((m.cpu.regs[EAX], m.cpu.regs[EBX]), (1, 1), "the second call ran the rewritten instruction");
    assert_eq!((m.cpu.eip, m.cpu.icount), (CODE + 18, 8));
    assert!(m.cpu.blocks_invalidated > 0);
}

#[test]
fn blocks_lowered_for_flat_segments_are_not_used_once_ds_is_null() {
    // mov ecx, [DATA] ; mov ds, bx ; mov edx, [DATA]
    const DATA: u32 = 0x0a00_0000;
    let mut code = vec![0x8b, 0x0d];
    code.extend_from_slice(&DATA.to_le_bytes());
    code.extend_from_slice(&[0x8e, 0xdb, 0x8b, 0x15]);
    code.extend_from_slice(&DATA.to_le_bytes());
    let mut m = machine(&code);
    m.map(DATA, PTE_P | PTE_US | PTE_RW);
    // First with DS reloaded flat: every block is decoded for flat segments.
    m.cpu.regs[EBX] = 0x2b;
    assert_eq!(m.cpu.run(3), Exit::Budget);
    // Then with a null DS: the same code must fault at the second load.
    m.cpu.eip = CODE;
    m.cpu.regs[EBX] = 0;
    assert_eq!(m.cpu.run(3), Exit::Exception(Exception::GeneralProtection(0)));
    assert_eq!(m.cpu.eip, CODE + 8, "at the load through the null DS");
}

/// `mov eax, 0x80000001 ; shl eax, 1 ; imul ebx, ebx, 0x40000000 ; mov edx, ecx ;
/// add ecx, 1`: the flags of SHL and IMUL are overwritten by the ADD with nothing
/// that could stop the block in between, so the block skips computing them
/// (`crate::liveness`).
const DEAD_FLAGS: [u8; 19] = [
    0xb8, 0x01, 0x00, 0x00, 0x80, // mov eax, 0x80000001
    0xd1, 0xe0, // shl eax, 1: CF = 1, OF = 1
    0x69, 0xdb, 0x00, 0x00, 0x00, 0x40, // imul ebx, ebx, 0x40000000: CF = OF = 1 for ebx = 3
    0x89, 0xca, // mov edx, ecx
    0x83, 0xc1, 0x01, // add ecx, 1
    0x90, // nop
];

#[test]
fn flags_a_block_skips_are_exact_wherever_the_budget_cuts_it() {
    // Cut after the SHL, the IMUL or the MOV, the state is what single steps give:
    // the skipped flags are computed whenever the block stops before the ADD.
    for budget in 0..=6 {
        let mut run = machine(&DEAD_FLAGS);
        let mut step = machine(&DEAD_FLAGS);
        for m in [&mut run, &mut step] {
            m.cpu.regs[EBX] = 3;
            m.cpu.regs[ECX] = 0xffff_ffff;
        }
        assert_eq!(run.cpu.run(budget), Exit::Budget);
        for _ in 0..budget {
            step.cpu.step();
        }
        assert_eq!(run.cpu.eip, step.cpu.eip, "budget {budget}");
        assert_eq!(run.cpu.regs, step.cpu.regs, "budget {budget}");
        assert_eq!(run.cpu.flags.get(), step.cpu.flags.get(), "budget {budget}");
    }
    // The SHL's own flags, cut right after it: CF (the bit shifted out) and OF.
    let mut m = machine(&DEAD_FLAGS);
    m.cpu.run(2);
    assert_eq!(m.cpu.flags.get() & (CF | OF | ZF | SF), CF | OF);
    // The IMUL's, after it: CF = OF = 1 (the product overflowed), SF, ZF, AF and PF
    // left as the SHL set them.
    let mut m = machine(&DEAD_FLAGS);
    m.cpu.regs[EBX] = 3;
    m.cpu.run(3);
    assert_eq!(m.cpu.regs[EBX], 0xc000_0000);
    assert_eq!(m.cpu.flags.get() & (CF | OF | ZF | SF), CF | OF);
    // Run whole: the ADD's flags (0xffffffff + 1: CF, ZF, no overflow).
    let mut m = machine(&DEAD_FLAGS);
    m.cpu.regs[EBX] = 3;
    m.cpu.regs[ECX] = 0xffff_ffff;
    m.cpu.run(6);
    assert_eq!((m.cpu.regs[EAX], m.cpu.regs[EBX], m.cpu.regs[ECX]), (2, 0xc000_0000, 0));
    assert_eq!(m.cpu.flags.get() & (CF | OF | ZF | SF), CF | ZF);
}

#[test]
fn a_fault_between_a_shift_and_the_overwriter_sees_the_shifts_flags() {
    // shl eax, 1 ; mov [0x1000], eax (not mapped: #PF) ; add eax, eax: the store may
    // fault, so the SHL's flags are live there and computed.
    let mut m = machine(&[0xd1, 0xe0, 0xa3, 0x00, 0x10, 0x00, 0x00, 0x01, 0xc0, 0x90]);
    m.cpu.regs[EAX] = 0x8000_0001;
    assert!(matches!(m.cpu.run(10), Exit::Exception(Exception::PageFault { .. })));
    assert_eq!((m.cpu.eip, m.cpu.icount), (CODE + 2, 1));
    assert_eq!(m.cpu.flags.get() & (CF | OF | ZF | SF), CF | OF);
}
