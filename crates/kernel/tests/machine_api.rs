//! The machine API as a tool sees it: boot, exec, registers, guest memory through
//! the paging unit, the address space, stepping, signals, the end status. Only
//! `growsdown_kernel::Machine` and its public types are used here.

use std::path::{Path, PathBuf};

use growsdown_cpu::ESP;
use growsdown_kernel::machine::{BadAddress, VM_GROWSDOWN};
use growsdown_kernel::signal::{SIGSEGV, SIGTERM};
use growsdown_kernel::{Config, ExitStatus, Machine, Stepped, TASK_SIZE};

fn image(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guest-images/bin").join(name)
}

/// segv-exit: writes to NULL without a handler (no output).
fn boot() -> Machine {
    let mut m = Machine::new(Config { mem_bytes: 64 << 20, ..Config::default() }).expect("boot");
    let path = image("segv-exit");
    m.exec(path.to_str().unwrap(), &[b"segv-exit".to_vec()], &[b"A=1".to_vec()]).expect("exec");
    m
}

#[test]
fn exec_layout_memory_and_the_end() {
    let mut m = boot();
    // The 2.4 layout: one growing stack VMA ending at TASK_SIZE, the code below it.
    let regions = m.regions();
    let stack = regions.last().expect("regions");
    assert_eq!(stack.end, TASK_SIZE);
    assert_ne!(stack.flags & VM_GROWSDOWN, 0);
    assert_eq!(stack.perms, "rwxp", "2.4's VM_STACK_FLAGS include VM_EXEC");
    let layout = m.layout();
    assert_eq!(layout.stack_start, Some(stack.start));
    assert!(layout.start_code < layout.end_code && layout.end_code <= layout.start_brk);
    assert!(regions.iter().any(|r| r.start <= layout.start_code && layout.start_code < r.end));

    // argc at ESP, argv[0] where argv[0] points.
    let esp = m.cpu().regs[ESP];
    let mut w = [0u8; 8];
    m.read_mem(esp, &mut w).unwrap();
    assert_eq!(u32::from_le_bytes(w[..4].try_into().unwrap()), 1);
    let argv0 = u32::from_le_bytes(w[4..].try_into().unwrap());
    let mut s = [0u8; 10];
    m.read_mem(argv0, &mut s).unwrap();
    assert_eq!(&s, b"segv-exit\0");

    // Writes go through the paging unit: a stack word round-trips, page 0 is no one's.
    m.write_mem(esp - 4, &0xdead_beefu32.to_le_bytes()).unwrap();
    m.read_mem(esp - 4, &mut w[..4]).unwrap();
    assert_eq!(w[..4], 0xdead_beefu32.to_le_bytes());
    assert_eq!(m.write_mem(0, &[1]), Err(BadAddress { addr: 0, done: 0 }));
    assert_eq!(m.read_mem(TASK_SIZE - 2, &mut w[..4]), Err(BadAddress { addr: TASK_SIZE - 2, done: 0 }));

    // One instruction, then to the end: killed by SIGSEGV at address 0.
    let eip = m.cpu().eip;
    assert_eq!(m.step(), Stepped::Retired);
    assert_ne!(m.cpu().eip, eip);
    assert_eq!(m.exit_status(), None);
    match m.run() {
        ExitStatus::Signaled { signo, info, .. } => assert_eq!((signo, info.addr), (SIGSEGV, 0)),
        other => panic!("{other:?}"),
    }
    assert!(m.stats().icount > 1);
}

#[test]
fn a_signal_sent_from_outside_takes_its_default_action() {
    let mut m = boot();
    assert_eq!(m.signal_handler(SIGTERM), 0, "SIG_DFL");
    assert_eq!(m.pending_signals(), 0);
    m.deliver_signal(SIGTERM, None);
    assert!(
        matches!(m.exit_status(), Some(ExitStatus::Signaled { signo: SIGTERM, .. })),
        "{:?}",
        m.exit_status()
    );
}
