//! Stack growth: linux24.md §8 scenarios 1, 2, 3, 4, 6 and 13.

mod mm_util;

use growsdown_kernel::signal::{SEGV_MAPERR, SIGSEGV};
use growsdown_kernel::task::RLIMIT_STACK;
use growsdown_kernel::trace::{FaultResult, Step};
use mm_util::*;

const STACK_TOP_PAGE: u32 = 0xBFFF_F000;

#[test]
fn scenario_1_push_just_below_the_stack_vma() {
    let mut m = machine();
    assert_eq!(m.vma(STACK_TOP_PAGE), Some((0xBFFF_F000, 0xC000_0000, 0x177, 0)));
    let total_vm = m.k.task.mm.total_vm;
    let (min, maj, rss) = m.counters();
    m.k.cpu.regs[growsdown_cpu::EAX] = 0xDEAD_BEEF;
    assert_eq!(m.run("push_eax", 0xBFFF_F000), Stop::Done);

    let ev = m.ev.last();
    assert_eq!((ev.cr2, ev.error_code, ev.kernel_mode), (0xBFFF_EFFC, 6, false));
    assert_eq!(ev.result, FaultResult::Minor);
    assert_eq!(m.vma(0xBFFF_E000), Some((0xBFFF_E000, 0xC000_0000, 0x177, 0xFFFF_FFFF)));
    assert_eq!(m.k.task.mm.total_vm, total_vm + 1);
    assert_eq!(m.pte(0xBFFF_EFFC) & 0xfff, 0x067);
    assert_eq!(m.counters(), (min + 1, maj, rss + 1));
    assert_eq!(m.k.cpu.regs[growsdown_cpu::ESP], 0xBFFF_EFFC);
    assert_eq!(m.peek(0xBFFF_EFFC), 0xDEAD_BEEF);
    assert!(
        // The wrapped pgoff (above) is 2.4's; today's maps prints 0 for the offset
        // of anonymous memory.
        m.k.task.mm.maps().contains("bfffe000-c0000000 rwxp 00000000 00:00 0 "),
        "{}",
        m.k.task.mm.maps()
    );
    assert_eq!(m.k.task.stats.stack_expansions, 1);

    // The decisions, in 2.4's order. The page table for 0xBFC00000-0xC0000000
    // already exists (the argument page), so there is no PteAlloc.
    assert_eq!(
        ev.path,
        vec![
            Step::DoPageFault { address: 0xBFFF_EFFC, error_code: 6, user: true },
            Step::FindVma { vma: Some((0xBFFF_F000, 0xC000_0000, 0x177)) },
            Step::EspCheck { esp: 0xBFFF_F000, ok: true },
            Step::ExpandStack { old_start: 0xBFFF_F000, new_start: 0xBFFF_E000, ok: true },
            Step::GoodArea { write: true },
            Step::HandleMmFault,
            Step::HandlePteFault { pte: 0 },
            Step::DoAnonymousPage { zero_page: false, frame: m.pte(0xBFFF_EFFC) & !0xfff },
        ]
    );
    assert_eq!(ev.vma, Some((0xBFFF_E000, 0xC000_0000, 0x177)));
    assert_eq!((ev.min_flt, ev.maj_flt), (min + 1, maj));
}

#[test]
fn scenario_2_pusha_exactly_32_bytes_below_esp() {
    let mut m = machine();
    let (min, maj, _) = m.counters();
    assert_eq!(m.run("pusha", 0xBFFF_F010), Stop::Done);
    // Which of pusha's stores faults first is the CPU's business (its lowest store is
    // 0xBFFFEFF0); every one of them is within the 32 bytes of slack.
    let ev = m.ev.last();
    assert_eq!(ev.cr2 & !0xfff, 0xBFFF_E000);
    assert_eq!(ev.error_code, 6);
    assert!(ev.path.contains(&Step::EspCheck { esp: 0xBFFF_F010, ok: true }));
    assert_eq!(m.counters().0, min + 1);
    assert_eq!(m.counters().1, maj);
    assert_eq!(m.k.cpu.regs[growsdown_cpu::ESP], 0xBFFF_EFF0);
    assert!(m.k.task.sig.pending.is_empty());
}

#[test]
fn scenario_2_the_slack_is_exactly_32_bytes() {
    use growsdown_kernel::mm::fault::do_page_fault;
    // The lowest pusha store, as do_page_fault sees it: address + 32 == ESP passes.
    let mut m = machine();
    assert_eq!(do_page_fault(&mut m.k, 0xBFFF_EFF0, 6, 0xBFFF_F010, true), FaultResult::Minor);
    // One byte lower is refused.
    let mut m = machine();
    assert_eq!(
        do_page_fault(&mut m.k, 0xBFFF_EFEF, 6, 0xBFFF_F010, true),
        FaultResult::SigSegv { si_code: SEGV_MAPERR }
    );
}

#[test]
fn scenario_3_access_far_below_esp_is_segv_maperr() {
    let mut m = machine();
    let before = (m.counters(), m.vma(STACK_TOP_PAGE), m.k.task.mm.total_vm);
    assert_eq!(
        m.run("store_esp_m40", 0xBFFF_F000),
        Stop::Fault(FaultResult::SigSegv { si_code: SEGV_MAPERR })
    );
    let si = m.take_signal().expect("SIGSEGV");
    assert_eq!((si.signo, si.code, si.addr), (SIGSEGV, SEGV_MAPERR, 0xBFFF_EFD8));
    let t = m.k.task.thread;
    assert_eq!((t.trap_no, t.error_code, t.cr2), (14, 6, 0xBFFF_EFD8));
    assert_eq!((m.counters(), m.vma(STACK_TOP_PAGE), m.k.task.mm.total_vm), before);
    let ev = m.ev.last();
    assert!(ev.path.contains(&Step::EspCheck { esp: 0xBFFF_F000, ok: false }));
    assert_eq!(
        ev.path.last(),
        Some(&Step::BadArea { reason: "more than 32 bytes below ESP", si_code: SEGV_MAPERR })
    );

    // ESP-33 is refused, ESP-32 allowed.
    assert_eq!(
        m.run("store8_esp_m33", 0xBFFF_F000),
        Stop::Fault(FaultResult::SigSegv { si_code: SEGV_MAPERR })
    );
    assert_eq!(m.take_signal().map(|s| s.addr), Some(0xBFFF_EFDF));
    let (min, _, _) = m.counters();
    assert_eq!(m.run("store8_esp_m32", 0xBFFF_F000), Stop::Done);
    assert_eq!(m.counters().0, min + 1);
    assert_eq!(m.vma(0xBFFF_EFE0).map(|v| v.0), Some(0xBFFF_E000));
}

#[test]
fn scenario_4_reading_below_the_stack_grows_it_then_cow_from_zero_page() {
    let mut m = machine();
    let (min, maj, rss) = m.counters();
    m.k.cpu.regs[growsdown_cpu::EAX] = 0x1234;
    assert_eq!(m.run("load_esp_m8", 0xBFFF_F004), Stop::Done);
    assert_eq!(m.ev.last().error_code, 4);
    assert_eq!(m.eax(), 0);
    assert_eq!(m.counters(), (min + 1, maj, rss));
    let zero = m.pte(0xBFFF_EFFC);
    assert_eq!(zero & 0xfff, 0x025);
    assert_eq!(zero >> 12, m.k.frames.zero_page);

    m.k.cpu.regs[growsdown_cpu::EAX] = 0x5678;
    assert_eq!(m.run("store_esp_m8", 0xBFFF_F004), Stop::Done);
    let ev = m.ev.last();
    assert_eq!(ev.error_code, 7);
    assert!(matches!(ev.path.last(), Some(Step::DoWpPage { copied: true, from_zero_page: true, .. })));
    assert_eq!(m.counters(), (min + 2, maj, rss + 1));
    assert_eq!(m.pte(0xBFFF_EFFC) & 0xfff, 0x067);
    assert_eq!(m.peek(0xBFFF_EFFC), 0x5678);
    assert_eq!(m.peek(0xBFFF_E000), 0, "the copy of the zero page is clear");
}

#[test]
fn scenario_6_stack_growth_beyond_rlimit_stack() {
    let mut m = machine();
    assert_eq!(m.k.task.rlim[RLIMIT_STACK].cur, 8 << 20);
    // The lowest page the stack can reach is 0xBF800000: exactly 8 MiB is allowed.
    let (min, _, _) = m.counters();
    assert_eq!(m.run("push_eax", 0xBF80_0004), Stop::Done);
    assert_eq!(m.vma(0xBF80_0000).map(|v| v.0), Some(0xBF80_0000));
    assert_eq!(m.counters().0, min + 1);

    // One page more is refused: MAPERR at the push target.
    let before = m.counters();
    assert_eq!(m.run("push_eax", 0xBF80_0000), Stop::Fault(FaultResult::SigSegv { si_code: SEGV_MAPERR }));
    let si = m.take_signal().expect("SIGSEGV");
    assert_eq!((si.signo, si.code, si.addr), (SIGSEGV, SEGV_MAPERR, 0xBF7F_FFFC));
    assert_eq!(m.counters(), before);
    let ev = m.ev.last();
    assert!(ev.path.contains(&Step::ExpandStack {
        old_start: 0xBF80_0000,
        new_start: 0xBF7F_F000,
        ok: false
    }));
    assert_eq!(m.vma(0xBF80_0000).map(|v| v.0), Some(0xBF80_0000));
}

#[test]
fn scenario_6_variant_rlimit_applies_to_the_first_expansion_too() {
    let mut m = machine_with(|k| k.task.rlim[RLIMIT_STACK].cur = 0x2000);
    assert_eq!(m.run("push_eax", 0xBFFF_F000), Stop::Done, "two pages fit");
    assert_eq!(m.run("push_eax", 0xBFFF_E000), Stop::Fault(FaultResult::SigSegv { si_code: SEGV_MAPERR }));
    assert_eq!(m.take_signal().map(|s| s.addr), Some(0xBFFF_DFFC));
}

#[test]
fn scenario_13_kernel_mode_stack_growth_has_no_esp_limit() {
    // From user mode, with ESP = 0xBFFFEF00, a store to 0xBFFF0000 is MAPERR.
    let mut m = machine();
    m.k.cpu.regs[growsdown_cpu::ESP] = 0xBFFF_EF00;
    assert_eq!(m.store(0xBFFF_0000, 1), Stop::Fault(FaultResult::SigSegv { si_code: SEGV_MAPERR }));
    assert_eq!(m.take_signal().map(|s| (s.signo, s.addr)), Some((SIGSEGV, 0xBFFF_0000)));

    // The same store done by the kernel (copy_to_user in read()): code 2, no ESP test.
    let mut m = machine();
    assert_eq!(m.run("push_eax", 0xBFFF_F000), Stop::Done); // stack now starts at 0xBFFFE000
    m.k.cpu.regs[growsdown_cpu::ESP] = 0xBFFF_EF00;
    let total_vm = m.k.task.mm.total_vm;
    let (min, maj, rss) = m.counters();
    let cr2 = m.k.task.thread.cr2;
    assert_eq!(m.k.copy_to_user(0xBFFF_0000, &[0x5a; 100]), Ok(()));
    let ev = m.ev.last();
    assert_eq!((ev.cr2, ev.error_code, ev.kernel_mode), (0xBFFF_0000, 2, true));
    assert!(!ev.path.iter().any(|s| matches!(s, Step::EspCheck { .. })), "no ESP test in kernel mode");
    assert_eq!(m.vma(0xBFFF_0000).map(|v| (v.0, v.3)), Some((0xBFFF_0000, 0u32.wrapping_sub(15))));
    assert_eq!(m.k.task.mm.total_vm, total_vm + 14);
    assert_eq!(m.counters(), (min + 1, maj, rss + 1));
    assert!(m.k.task.sig.pending.is_empty());
    assert_eq!(m.k.task.thread.cr2, cr2, "kernel faults leave thread.cr2 alone");
    assert_eq!(m.peek(0xBFFF_0060) & 0xff, 0x5a);
}

/// `Personality::esp_check = false` (today's Linux, set by difftest against such a
/// host): the same store 40 bytes below ESP grows the stack instead.
#[test]
fn without_the_esp_check_a_store_far_below_esp_grows_the_stack() {
    let mut m = machine_with(|k| k.config.personality.esp_check = false);
    assert_eq!(m.run("store_esp_m40", 0xBFFF_F000), Stop::Done);
    let (start, _, _, _) = m.vma(0xBFFF_EFD8).expect("the stack VMA covers the store");
    assert_eq!(start, 0xBFFF_E000);
    assert!(!m.ev.last().path.iter().any(|s| matches!(s, Step::EspCheck { .. })));
}
