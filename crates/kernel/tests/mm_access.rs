//! Access checks and bad addresses: linux24.md §8 scenarios 7, 8, 9, 10 and 14.

mod mm_util;

use growsdown_kernel::mm::mmap::{sys_mmap2, MAP_ANONYMOUS, MAP_PRIVATE, PROT_NONE, PROT_WRITE};
use growsdown_kernel::signal::{SEGV_ACCERR, SEGV_MAPERR, SIGSEGV};
use growsdown_kernel::trace::{FaultResult, Step};
use mm_util::*;

const SEGV_MAP: Stop = Stop::Fault(FaultResult::SigSegv { si_code: SEGV_MAPERR });
const SEGV_ACC: Stop = Stop::Fault(FaultResult::SigSegv { si_code: SEGV_ACCERR });

#[test]
fn scenario_7_write_to_the_text_segment_is_accerr() {
    let mut m = machine();
    let before = m.counters();
    // Present page (the code runs from it): code 7.
    assert_eq!(m.store(0x0804_8100, 1), SEGV_ACC);
    assert_eq!(m.ev.last().error_code, 7);
    let si = m.take_signal().expect("SIGSEGV");
    assert_eq!((si.signo, si.code, si.addr), (SIGSEGV, SEGV_ACCERR, 0x0804_8100));
    assert_eq!(m.k.task.thread.error_code, 7);
    // Not present (the second text page was never touched): code 6.
    assert_eq!(m.pte(0x0804_9000), 0);
    assert_eq!(m.store(0x0804_9000, 1), SEGV_ACC);
    assert_eq!(m.ev.last().error_code, 6);
    assert_eq!(
        m.ev.last().path.last(),
        Some(&Step::BadArea { reason: "write to a VMA without VM_WRITE", si_code: SEGV_ACCERR })
    );
    assert_eq!(m.take_signal().map(|s| (s.code, s.addr)), Some((SEGV_ACCERR, 0x0804_9000)));
    assert_eq!(m.counters(), before, "no COW, no counter change");
    assert_eq!(m.k.task.stats.cow_copies, 0);
}

#[test]
fn scenario_8_null_dereference() {
    let mut m = machine();
    assert_eq!(m.load(0), SEGV_MAP);
    assert_eq!(m.ev.last().error_code, 4);
    let si = m.take_signal().expect("SIGSEGV");
    assert_eq!((si.signo, si.code, si.addr), (SIGSEGV, SEGV_MAPERR, 0));
    // find_vma(0) is the text VMA, which does not grow down.
    let path = m.ev.last().path;
    assert_eq!(path[1], Step::FindVma { vma: Some((0x0804_8000, 0x0804_A000, 0x1875)) });
    assert_eq!(m.store(0, 1), SEGV_MAP);
    assert_eq!(m.k.task.thread.error_code, 6);
}

#[test]
fn scenario_9_user_access_to_kernel_space() {
    let mut m = machine();
    // Present supervisor page (the kernel's 4 MiB mapping of RAM): code 5.
    assert_eq!(m.load(0xC010_0000), SEGV_MAP);
    let ev = m.ev.last();
    assert_eq!(ev.error_code, 5);
    assert_eq!(ev.path[1], Step::FindVma { vma: None });
    assert_eq!(m.take_signal().map(|s| (s.code, s.addr)), Some((SEGV_MAPERR, 0xC010_0000)));
    assert_eq!((m.k.task.thread.error_code, m.k.task.thread.cr2), (5, 0xC010_0000));
    // Not present (beyond the 64 MiB of RAM): hardware code 4, sigcontext err 5.
    assert_eq!(m.load(0xF000_0000), SEGV_MAP);
    assert_eq!(m.ev.last().error_code, 4);
    assert_eq!(m.k.task.thread.error_code, 5, "2.4.35 ORs in P for kernel addresses");
}

#[test]
fn scenario_10_prot_none_and_write_only() {
    let mut m = machine();
    let none = m.syscall(sys_mmap2, &[0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, u32::MAX, 0]).unwrap();
    assert_eq!(m.load(none), SEGV_ACC);
    assert_eq!(m.ev.last().error_code, 4);
    m.take_signal();

    let wo = m.syscall(sys_mmap2, &[0, 8192, PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, u32::MAX, 0]).unwrap();
    // Read of a never-touched page: no READ or EXEC.
    assert_eq!(m.load(wo), SEGV_ACC);
    assert_eq!(
        m.ev.last().path.last(),
        Some(&Step::BadArea { reason: "read of a VMA without VM_READ or VM_EXEC", si_code: SEGV_ACCERR })
    );
    m.take_signal();
    // Write first (code 6, minor), then a read succeeds without a fault.
    let (min, _, _) = m.counters();
    assert_eq!(m.store(wo + 4096, 0x77), Stop::Done);
    assert_eq!(m.ev.last().error_code, 6);
    assert_eq!(m.counters().0, min + 1);
    let n = m.ev.len();
    assert_eq!(m.load(wo + 4096), Stop::Done);
    assert_eq!(m.eax(), 0x77);
    assert_eq!(m.ev.len(), n, "no fault");
}

#[test]
fn scenario_14_bad_pointer_in_a_syscall_is_efault_not_a_signal() {
    let mut m = machine();
    let before = (m.counters(), m.k.task.thread);
    // read(fd, 0x1000, 10): copy_to_user takes kernel #PF code 2 → bad_area →
    // exception-table fixup.
    assert_eq!(m.k.copy_to_user(0x1000, &[1; 10]), Err(0));
    let ev = m.ev.last();
    assert_eq!((ev.cr2, ev.error_code, ev.kernel_mode), (0x1000, 2, true));
    assert_eq!(ev.result, FaultResult::Efault);
    assert_eq!(ev.path.last(), Some(&Step::NoContextFixup));
    assert!(m.k.task.sig.pending.is_empty(), "no SIGSEGV");
    assert_eq!((m.counters(), m.k.task.thread), before, "counters and thread.cr2 unchanged");
    // write(fd, 0xC0000000, 10): access_ok fails before any access.
    let n = m.ev.len();
    let mut buf = [0u8; 10];
    assert_eq!(m.k.copy_from_user(0xC000_0000, &mut buf), Err(0));
    assert_eq!(m.ev.len(), n, "no fault at all");
    assert_eq!(m.k.put_user::<u32>(0x10, 5), Err(growsdown_kernel::errno::EFAULT));
}
