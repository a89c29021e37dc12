//! The OOM killer's parts one by one (mm/oom_kill.rs): 2.4's `int_sqrt` and
//! `badness()` rule by rule, `select_bad_process`'s choice and `oom_kill`'s reach
//! (every task sharing the victim's mm), and `vm_enough_memory` with
//! `overcommit_memory` for mmap and mremap. tests/oom.rs runs the whole thing on a
//! guest program.

#[path = "sys_common/mod.rs"]
mod sys_common;

use growsdown_kernel::mm::oom_kill::{badness, int_sqrt, out_of_memory, select_bad_process, Oom};
use growsdown_kernel::share::ShareIds;
use growsdown_kernel::signal::{SIGKILL, SIGTERM};
use growsdown_kernel::syscall::NR_MREMAP;
use growsdown_kernel::task::Task;
use sys_common::*;

const ENOMEM: i32 = -12;

#[test]
fn int_sqrt_is_2_4s_rough_one() {
    // 2.4's approximation, not the square root: one halving per two bits, a
    // quarter off when a bit is left, never 0.
    let got: Vec<u32> = [0, 1, 2, 3, 4, 15, 16, 100, 1024, 1 << 20].iter().map(|&x| int_sqrt(x)).collect();
    assert_eq!(got, vec![1, 1, 1, 1, 2, 3, 3, 9, 24, 768]);
}

#[test]
fn badness_applies_each_rule_in_2_4s_order() {
    let mut k = kernel();
    map(&mut k, 0x4000_0000, 1000 * 4096, PROT_READ | PROT_WRITE);
    let total = k.task.mm.total_vm;
    // Not root, no capabilities, nice 0, no CPU or run time: total_vm itself.
    k.task.cred.uid = 1000;
    k.task.cred.euid = 1000;
    k.task.cred.cap_effective = 0;
    k.task.sched.nice = 0;
    let b = |k: &growsdown_kernel::Kernel| badness(k, &k.task).points;
    assert_eq!(b(&k), total);
    // nice > 0 doubles.
    k.task.sched.nice = 1;
    assert_eq!(b(&k), total * 2);
    k.task.sched.nice = -5;
    assert_eq!(b(&k), total);
    // uid 0 or euid 0 or CAP_SYS_ADMIN: / 4; CAP_SYS_RAWIO: / 4 more.
    k.task.cred.euid = 0;
    assert_eq!(b(&k), total / 4);
    k.task.cred.euid = 1000;
    k.task.cred.cap_effective = 1 << 21;
    assert_eq!(b(&k), total / 4);
    k.task.cred.cap_effective = (1 << 21) | (1 << 17);
    assert_eq!(b(&k), total / 4 / 4);
    k.task.cred.cap_effective = 0;
    // CPU time: instructions at 100 MIPS, in units of 1024 ticks of HZ 100 (10.24 s):
    // 4 units → int_sqrt(4) = 2.
    let insns_per_unit = 1_000_000u64 * 1024;
    k.icount_base = 0;
    k.cpu.icount = 4 * insns_per_unit;
    let c = badness(&k, &k.task);
    assert_eq!(c.cpu_time, 4);
    // Run time since the fork (start 0 here): 4 units of 1024 → 0 units of 131072.
    assert_eq!(c.run_time, 0);
    assert_eq!(c.points, total / 2);
    // Run time (machine instructions since the fork, here since boot) of 256 units
    // of 131072 ticks, no CPU time: / int_sqrt(int_sqrt(256)) = / int_sqrt(12) = / 3.
    k.cpu.icount = 256 * 131_072 * 1_000_000;
    k.icount_base = k.cpu.icount;
    let c = badness(&k, &k.task);
    assert_eq!((c.cpu_time, c.run_time), (0, 256));
    assert_eq!(int_sqrt(int_sqrt(256)), 3);
    assert_eq!(c.points, total / 3);
    // PF_MEMDIE: 0, whatever the rest.
    k.task.oom.memdie = true;
    assert_eq!(b(&k), 0);
}

/// A task of the current process (another thread: the same mm) with pid `pid`.
fn thread(k: &growsdown_kernel::Kernel, pid: u32, nice: i32) -> Task {
    let ids = ShareIds { group: k.task.tgid, ..k.task.ids };
    let mut t = Task::new(pid, "thread", "", ids);
    t.tgid = k.task.tgid;
    t.sched.nice = nice;
    t.cred = k.task.cred.clone();
    t
}

#[test]
fn the_first_task_with_the_most_points_is_chosen_and_its_mm_dies_whole() {
    let mut k = kernel();
    map(&mut k, 0x4000_0000, 64 * 4096, PROT_READ | PROT_WRITE);
    k.task.cred.uid = 1000;
    k.task.cred.euid = 1000;
    k.task.cred.cap_effective = 0;
    k.task.sched.nice = 0;
    let pid = k.task.pid;
    // Two more tasks on the same mm: the same points as current (a tie: the first,
    // by pid, stays chosen), and a niced one (twice the points).
    let t = thread(&k, pid + 1, 0);
    k.tasks.insert(pid + 1, t);
    let (cands, chosen) = select_bad_process(&k);
    assert_eq!(cands.len(), 2);
    assert_eq!(chosen.map(|i| cands[i].pid), Some(pid), "a tie keeps the oldest");
    let t = thread(&k, pid + 2, 5);
    k.tasks.insert(pid + 2, t);
    let (cands, chosen) = select_bad_process(&k);
    assert_eq!(chosen.map(|i| cands[i].pid), Some(pid + 2));
    // The victim shares current's mm: current dies, and every task of that mm was
    // sent SIGKILL (no CAP_SYS_RAWIO) and marked PF_MEMDIE.
    assert_eq!(out_of_memory(&mut k), Oom::KilledCurrent);
    assert_eq!(k.oom.kills, 1);
    assert!(k.task.oom.memdie);
    assert!(k.task.sig.pending.iter().any(|s| s.signo == SIGKILL));
    for p in [pid + 1, pid + 2] {
        let t = &k.tasks[&p];
        assert!(t.oom.memdie);
        assert!(t.sig.pending.iter().any(|s| s.signo == SIGKILL), "pid {p}");
    }
    // Chosen ones score 0.
    assert!(select_bad_process(&k).0.iter().all(|c| c.points == 0));
}

#[test]
fn a_victim_with_cap_sys_rawio_gets_sigterm() {
    let mut k = kernel();
    map(&mut k, 0x4000_0000, 64 * 4096, PROT_READ | PROT_WRITE);
    k.task.cred.cap_effective = 1 << 17;
    assert_eq!(out_of_memory(&mut k), Oom::KilledCurrent);
    assert!(k.task.sig.pending.iter().any(|s| s.signo == SIGTERM));
}

#[test]
fn vm_enough_memory_refuses_what_is_not_there_unless_overcommit_is_set() {
    let mut k = kernel();
    let rw = PROT_READ | PROT_WRITE;
    let anon = MAP_PRIVATE | MAP_ANONYMOUS;
    // 64 MiB of guest memory: a 128 MiB private writable mapping is refused…
    let big = 128 << 20;
    assert_eq!(sys(&mut k, growsdown_kernel::syscall::NR_MMAP2, &[0, big, rw, anon, u32::MAX, 0]), ENOMEM);
    // …not with MAP_NORESERVE (0x4000), not read-only, and not with overcommit 1.
    let r = sys(&mut k, growsdown_kernel::syscall::NR_MMAP2, &[0, big, rw, anon | 0x4000, u32::MAX, 0]);
    assert!(r > 0, "MAP_NORESERVE: {r}");
    let r = sys(&mut k, growsdown_kernel::syscall::NR_MMAP2, &[0, big, PROT_READ, anon, u32::MAX, 0]);
    assert!(r > 0, "read-only: {r}");
    // mremap growing a private writable mapping is checked too.
    let small = sys(&mut k, growsdown_kernel::syscall::NR_MMAP2, &[0, 4096, rw, anon, u32::MAX, 0]) as u32;
    assert_eq!(sys(&mut k, NR_MREMAP, &[small, 4096, big, 1, 0]), ENOMEM);
    k.oom.overcommit_memory = 1;
    let r = sys(&mut k, NR_MREMAP, &[small, 4096, big, 1, 0]);
    assert!(r > 0, "overcommit 1: mremap {r}");
    let r = sys(&mut k, growsdown_kernel::syscall::NR_MMAP2, &[0, big, rw, anon, u32::MAX, 0]);
    assert!(r > 0, "overcommit 1: mmap {r}");
}

#[test]
fn shared_anonymous_memory_and_shmget_are_checked_too() {
    let mut k = kernel();
    let rw = PROT_READ | PROT_WRITE;
    let shared_anon = 1 | MAP_ANONYMOUS; // MAP_SHARED
    let big = 128 << 20;
    let mmap2 = growsdown_kernel::syscall::NR_MMAP2;
    assert_eq!(sys(&mut k, mmap2, &[0, big, rw, shared_anon, u32::MAX, 0]), ENOMEM);
    let r = sys(&mut k, mmap2, &[0, big, rw, shared_anon | 0x4000, u32::MAX, 0]);
    assert!(r > 0, "MAP_NORESERVE: {r}");
    let shmget = growsdown_kernel::syscall::NR_SHMGET;
    let ipc_private_creat = [0, big, 0o1000 | 0o600];
    assert_eq!(sys(&mut k, shmget, &ipc_private_creat), ENOMEM);
    let r = sys(&mut k, shmget, &[0, big, 0o1000 | 0o600 | growsdown_kernel::ipc::SHM_NORESERVE]);
    assert!(r >= 0, "SHM_NORESERVE: {r}");
    k.oom.overcommit_memory = 1;
    assert!(sys(&mut k, shmget, &ipc_private_creat) >= 0);
}
