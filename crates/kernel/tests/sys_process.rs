//! Process syscalls: TLS descriptors, identity, limits, resource usage, clocks,
//! futex, and unknown numbers.

mod sys_common;

use growsdown_cpu::{Descriptor, SegReg};
use growsdown_kernel::syscall::*;
use growsdown_kernel::ExitStatus;
use sys_common::*;

const EINVAL: i32 = -22;
const EFAULT: i32 = -14;

fn user_desc(k: &mut growsdown_kernel::Kernel, at: u32, entry: u32, base: u32, limit: u32, flags: u32) {
    for (i, v) in [entry, base, limit, flags].into_iter().enumerate() {
        poke32(k, at + 4 * i as u32, v);
    }
}

/// seg_32bit | limit_in_pages | useable: what glibc passes.
const GLIBC_TLS_FLAGS: u32 = 0x51;

#[test]
fn set_thread_area_allocates_tls_entries() {
    let mut k = process(&[0xf4]);
    user_desc(&mut k, DATA, u32::MAX, 0x1234_5678, 0xfffff, GLIBC_TLS_FLAGS);
    assert_eq!(sys(&mut k, NR_SET_THREAD_AREA, &[DATA]), 0);
    assert_eq!(peek32(&mut k, DATA), 6, "entry_number written back");
    assert_eq!(k.cpu.gdt[6], Descriptor::encode(0x1234_5678, 0xfffff, 0xd0f3));
    let d = Descriptor::decode(k.cpu.gdt[6]);
    assert_eq!((d.base, d.limit, d.dpl(), d.present()), (0x1234_5678, u32::MAX, 3, true));
    user_desc(&mut k, DATA + 0x10, u32::MAX, 0x1000, 0xff, 1);
    assert_eq!(sys(&mut k, NR_SET_THREAD_AREA, &[DATA + 0x10]), 0);
    assert_eq!(peek32(&mut k, DATA + 0x10), 7);
    // get_thread_area round-trips the fields.
    poke32(&mut k, DATA + 0x20, 6);
    assert_eq!(sys(&mut k, NR_GET_THREAD_AREA, &[DATA + 0x20]), 0);
    let got: Vec<u32> = (0..4).map(|i| peek32(&mut k, DATA + 0x20 + 4 * i)).collect();
    assert_eq!(got, [6, 0x1234_5678, 0xfffff, GLIBC_TLS_FLAGS]);
    // Explicit entry, clearing with an "empty" descriptor, and the errors.
    user_desc(&mut k, DATA + 0x30, 8, 0, 0, 0x28); // read_exec_only | seg_not_present
    assert_eq!(sys(&mut k, NR_SET_THREAD_AREA, &[DATA + 0x30]), 0);
    assert_eq!(k.cpu.gdt[8], 0);
    user_desc(&mut k, DATA + 0x30, 5, 0x1000, 0xfff, 1);
    assert_eq!(sys(&mut k, NR_SET_THREAD_AREA, &[DATA + 0x30]), EINVAL, "not a TLS slot");
    user_desc(&mut k, DATA + 0x30, 8, 0x1000, 0xfff, 0);
    assert_eq!(sys(&mut k, NR_SET_THREAD_AREA, &[DATA + 0x30]), EINVAL, "16-bit segment");
    user_desc(&mut k, DATA + 0x30, 8, 0x1000, 0xfff, 1 | (2 << 1));
    assert_eq!(sys(&mut k, NR_SET_THREAD_AREA, &[DATA + 0x30]), EINVAL, "code segment");
    user_desc(&mut k, DATA + 0x30, u32::MAX, 0x1000, 0xfff, 1);
    assert_eq!(sys(&mut k, NR_SET_THREAD_AREA, &[DATA + 0x30]), 0);
    assert_eq!(peek32(&mut k, DATA + 0x30), 8);
    assert_eq!(sys(&mut k, NR_SET_THREAD_AREA, &[DATA + 0x30]), 0, "8 again: reuses the given entry");
    user_desc(&mut k, DATA + 0x30, u32::MAX, 0x1000, 0xfff, 1);
    assert_eq!(sys(&mut k, NR_SET_THREAD_AREA, &[DATA + 0x30]), -3, "ESRCH: all three in use");
    assert_eq!(sys(&mut k, NR_SET_THREAD_AREA, &[0x1000]), EFAULT);
    poke32(&mut k, DATA + 0x20, 3);
    assert_eq!(sys(&mut k, NR_GET_THREAD_AREA, &[DATA + 0x20]), EINVAL);
}

/// `tls`: set_thread_area(DATA), GS = entry*8+3, EAX = GS:[0], exit(EAX).
const TLS: &[u8] = &[
    0xb8, 0xf3, 0x00, 0x00, 0x00, // mov eax,0xf3
    0xbb, 0x00, 0x00, 0x05, 0x08, // mov ebx,0x8050000
    0xcd, 0x80, // int 0x80
    0xa3, 0x04, 0x02, 0x05, 0x08, // mov [0x8050204],eax
    0x8b, 0x0d, 0x00, 0x00, 0x05, 0x08, // mov ecx,dword [0x8050000]
    0x8d, 0x0c, 0xcd, 0x03, 0x00, 0x00, 0x00, // lea ecx,[ecx*8+0x3]
    0x8e, 0xe9, // mov gs,ecx
    0x65, 0xa1, 0x00, 0x00, 0x00, 0x00, // mov eax,gs:0x0
    0xa3, 0x00, 0x02, 0x05, 0x08, // mov [0x8050200],eax
    0x89, 0xc3, // mov ebx,eax
    0xb8, 0x01, 0x00, 0x00, 0x00, // mov eax,0x1
    0xcd, 0x80, // int 0x80
];

#[test]
fn tls_through_gs_after_set_thread_area() {
    let mut k = process(TLS);
    user_desc(&mut k, DATA, u32::MAX, DATA + 0x100, 0xfffff, GLIBC_TLS_FLAGS);
    poke32(&mut k, DATA + 0x100, 0xdead_be42);
    assert_eq!(run(&mut k), ExitStatus::Exited(0x42));
    assert_eq!(peek32(&mut k, DATA + 0x204), 0, "set_thread_area returned 0");
    assert_eq!(peek32(&mut k, DATA + 0x200), 0xdead_be42);
    assert_eq!(k.cpu.segs[SegReg::Gs as usize].selector, 0x33);
    assert_eq!(k.cpu.segs[SegReg::Gs as usize].base, DATA + 0x100);
}

#[test]
fn identity_and_thread_calls() {
    let mut k = process(&[0xf4]);
    let pid = k.task.pid as i32;
    assert_eq!(sys(&mut k, NR_GETPID, &[]), pid);
    assert_eq!(sys(&mut k, NR_GETTID, &[]), pid);
    assert_eq!(sys(&mut k, NR_SET_TID_ADDRESS, &[DATA]), pid);
    assert_eq!(k.task.clear_child_tid, DATA);
    assert_eq!(sys(&mut k, NR_SET_ROBUST_LIST, &[DATA, 12]), 0);
    assert_eq!(sys(&mut k, NR_SET_ROBUST_LIST, &[DATA, 24]), EINVAL);
    // SAFETY: no preconditions.
    let (uid, gid, euid) = unsafe { (libc::getuid(), libc::getgid(), libc::geteuid()) };
    assert_eq!(sys(&mut k, NR_GETUID32, &[]) as u32, uid);
    assert_eq!(sys(&mut k, NR_GETGID32, &[]) as u32, gid);
    assert_eq!(sys(&mut k, NR_GETEUID32, &[]) as u32, euid);
    assert_eq!(sys(&mut k, NR_GETUID, &[]) as u32, if uid > 0xffff { 65534 } else { uid });
    let n = sys(&mut k, NR_GETGROUPS32, &[0, 0]);
    assert!(n >= 0);
    assert_eq!(sys(&mut k, NR_GETGROUPS32, &[n as u32, DATA]), n);
    assert_eq!(sys(&mut k, NR_RSEQ, &[DATA, 32, 0, 0x53053053]), -38);
    assert_eq!(sys(&mut k, 9999, &[]), -38, "unknown number: ENOSYS");
    assert_eq!(sys(&mut k, NR_FORK + 1000, &[]), -38);
    assert_eq!(sys(&mut k, NR_SCHED_GETAFFINITY, &[0, 128, DATA]), 4);
    assert_eq!(peek32(&mut k, DATA), 1, "one CPU");
    assert_eq!(sys(&mut k, NR_SCHED_YIELD, &[]), 0);
    let old = sys(&mut k, NR_UMASK, &[0o027]);
    assert_eq!(sys(&mut k, NR_UMASK, &[old as u32]), 0o027);
}

#[test]
fn rlimits_are_stored_and_reported() {
    let mut k = process(&[0xf4]);
    // ugetrlimit(RLIMIT_STACK): 8 MiB soft, infinity hard.
    assert_eq!(sys(&mut k, NR_UGETRLIMIT, &[3, DATA]), 0);
    assert_eq!([peek32(&mut k, DATA), peek32(&mut k, DATA + 4)], [8 << 20, u32::MAX]);
    // prlimit64 sets RLIMIT_STACK and returns the old one.
    poke(&mut k, DATA + 0x10, &(1u64 << 20).to_le_bytes());
    poke(&mut k, DATA + 0x18, &u64::MAX.to_le_bytes());
    assert_eq!(sys(&mut k, NR_PRLIMIT64, &[0, 3, DATA + 0x10, DATA + 0x20]), 0);
    assert_eq!(peek(&mut k, DATA + 0x20, 8), (8u64 << 20).to_le_bytes());
    assert_eq!(k.task.rlim[3].cur, 1 << 20);
    // setrlimit(RLIMIT_DATA, {64 KiB, inf}).
    poke32(&mut k, DATA + 0x30, 0x10000);
    poke32(&mut k, DATA + 0x34, u32::MAX);
    assert_eq!(sys(&mut k, NR_SETRLIMIT, &[2, DATA + 0x30]), 0);
    assert_eq!(k.task.rlim[2].cur, 0x10000);
    assert_eq!(k.task.rlim[2].max, u64::MAX);
    // soft > hard, bad resource, other pid.
    poke32(&mut k, DATA + 0x30, 0x20000);
    poke32(&mut k, DATA + 0x34, 0x10000);
    assert_eq!(sys(&mut k, NR_SETRLIMIT, &[2, DATA + 0x30]), EINVAL);
    assert_eq!(sys(&mut k, NR_UGETRLIMIT, &[16, DATA]), EINVAL);
    assert_eq!(sys(&mut k, NR_PRLIMIT64, &[4242, 3, 0, DATA]), -3);
    // The old getrlimit clamps infinity to 0x7fffffff.
    assert_eq!(sys(&mut k, NR_GETRLIMIT, &[2, DATA]), 0);
    assert_eq!(peek32(&mut k, DATA + 4), 0x7fff_ffff);
}

/// `rusage`: getrusage before and after writing two fresh pages and reading then
/// writing a third.
const RUSAGE: &[u8] = &[
    0xb8, 0x4d, 0x00, 0x00, 0x00, // mov eax,0x4d
    0x31, 0xdb, // xor ebx,ebx
    0xb9, 0x00, 0x03, 0x05, 0x08, // mov ecx,0x8050300
    0xcd, 0x80, // int 0x80
    0xc7, 0x05, 0x00, 0x00, 0x00, 0x40, 0x01, 0x00, 0x00, 0x00, // mov dword [0x40000000],0x1
    0xc7, 0x05, 0x00, 0x10, 0x00, 0x40, 0x01, 0x00, 0x00, 0x00, // mov dword [0x40001000],0x1
    0xa1, 0x00, 0x20, 0x00, 0x40, // mov eax,[0x40002000]
    0xc7, 0x05, 0x00, 0x20, 0x00, 0x40, 0x01, 0x00, 0x00, 0x00, // mov dword [0x40002000],0x1
    0xb8, 0x4d, 0x00, 0x00, 0x00, // mov eax,0x4d
    0x31, 0xdb, // xor ebx,ebx
    0xb9, 0x00, 0x04, 0x05, 0x08, // mov ecx,0x8050400
    0xcd, 0x80, // int 0x80
    0xb8, 0x01, 0x00, 0x00, 0x00, // mov eax,0x1
    0x31, 0xdb, // xor ebx,ebx
    0xcd, 0x80, // int 0x80
];

/// getrusage reports the task's 2.4 fault counts: two write faults on fresh
/// anonymous pages, a ZERO_PAGE read and its COW are four minor faults.
#[test]
fn getrusage_counts_the_tasks_faults() {
    let mut k = process(RUSAGE);
    map(&mut k, 0x4000_0000, 0x3000, PROT_READ | PROT_WRITE);
    // Touch the result page first: the fault of getrusage's own copy_to_user comes
    // after the counts are taken and would show up in the difference (as natively).
    poke(&mut k, DATA + 0x300, &[0; 0x200]);
    assert_eq!(run(&mut k), ExitStatus::Exited(0));
    let before = peek(&mut k, DATA + 0x300, 72);
    let after = peek(&mut k, DATA + 0x400, 72);
    let w = |b: &[u8], off: usize| u32::from_le_bytes(b[off..off + 4].try_into().unwrap());
    assert_eq!(w(&after, 32) - w(&before, 32), 4, "ru_minflt");
    assert_eq!(w(&after, 36) - w(&before, 36), 0, "ru_majflt");
    assert_eq!(u64::from(w(&after, 32)), k.task.min_flt);
    // Kernel-level: RUSAGE_CHILDREN is zero, a bad `who` is EINVAL.
    assert_eq!(sys(&mut k, NR_GETRUSAGE, &[(-1i32) as u32, DATA + 0x500]), 0);
    assert_eq!(peek(&mut k, DATA + 0x500, 72), vec![0; 72]);
    assert_eq!(sys(&mut k, NR_GETRUSAGE, &[5, DATA + 0x500]), EINVAL);
    assert_eq!(sys(&mut k, NR_GETRUSAGE, &[0, 0x1000]), EFAULT);
}

#[test]
fn clocks_sleep_and_time() {
    let mut k = process(&[0xf4]);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as u32;
    assert_eq!(sys(&mut k, NR_CLOCK_GETTIME, &[0, DATA]), 0);
    let s = peek32(&mut k, DATA);
    assert!(s >= now && s <= now + 5);
    assert!(peek32(&mut k, DATA + 4) < 1_000_000_000);
    assert_eq!(sys(&mut k, NR_CLOCK_GETTIME64, &[1, DATA + 0x10]), 0);
    let mono = u64::from_le_bytes(peek(&mut k, DATA + 0x10, 8).try_into().unwrap());
    assert!(mono > 0);
    assert_eq!(sys(&mut k, NR_CLOCK_GETTIME, &[99, DATA]), EINVAL);
    assert_eq!(sys(&mut k, NR_CLOCK_GETTIME, &[0, 0x1000]), EFAULT);
    assert_eq!(sys(&mut k, NR_GETTIMEOFDAY, &[DATA + 0x20, DATA + 0x28]), 0);
    assert!(peek32(&mut k, DATA + 0x20) >= now);
    assert!(peek32(&mut k, DATA + 0x24) < 1_000_000);
    let t = sys(&mut k, NR_TIME, &[DATA + 0x30]) as u32;
    assert_eq!(peek32(&mut k, DATA + 0x30), t);
    assert_eq!(sys(&mut k, NR_CLOCK_GETRES, &[1, DATA + 0x40]), 0);
    assert_eq!(peek32(&mut k, DATA + 0x40), 0);
    // nanosleep 1 ms; bad nanoseconds are EINVAL.
    poke32(&mut k, DATA + 0x50, 0);
    poke32(&mut k, DATA + 0x54, 1_000_000);
    let t0 = std::time::Instant::now();
    assert_eq!(sys(&mut k, NR_NANOSLEEP, &[DATA + 0x50, 0]), 0);
    assert!(t0.elapsed() >= std::time::Duration::from_millis(1));
    poke32(&mut k, DATA + 0x54, 1_000_000_000);
    assert_eq!(sys(&mut k, NR_NANOSLEEP, &[DATA + 0x50, 0]), EINVAL);
    // clock_nanosleep_time64 with a relative 1 ms.
    poke(&mut k, DATA + 0x60, &0u64.to_le_bytes());
    poke(&mut k, DATA + 0x68, &1_000_000u64.to_le_bytes());
    assert_eq!(sys(&mut k, NR_CLOCK_NANOSLEEP_TIME64, &[1, 0, DATA + 0x60, 0]), 0);
    assert_ne!(sys(&mut k, NR_TIMES, &[DATA + 0x70]), EFAULT);
    assert_eq!(sys(&mut k, NR_TIMES, &[0x1000]), EFAULT);
    assert_eq!(sys(&mut k, NR_SYSINFO, &[DATA + 0x100]), 0);
    let unit = u64::from(peek32(&mut k, DATA + 0x100 + 52));
    // SAFETY: a valid out-pointer.
    let host = unsafe {
        let mut si: libc::sysinfo = std::mem::zeroed();
        libc::sysinfo(&mut si);
        si
    };
    assert_eq!(
        u64::from(peek32(&mut k, DATA + 0x100 + 16)) * unit,
        (host.totalram * host.mem_unit as u64) & !(unit - 1),
        "the host's RAM, as a native run sees it"
    );
    assert_eq!(sys(&mut k, NR_GETRANDOM, &[DATA + 0x200, 16, 0]), 16);
    assert_eq!(sys(&mut k, NR_GETRANDOM, &[DATA + 0x200, 16, 0x40]), EINVAL);
}

#[test]
fn futex_single_thread_semantics() {
    let mut k = process(&[0xf4]);
    poke32(&mut k, DATA, 5);
    // WAIT with a different value: EAGAIN; WAKE: nobody.
    assert_eq!(sys(&mut k, NR_FUTEX, &[DATA, 128, 4, 0, 0, 0]), -11);
    assert_eq!(sys(&mut k, NR_FUTEX, &[DATA, 129, 1, 0, 0, 0]), 0);
    assert_eq!(sys(&mut k, NR_FUTEX, &[DATA + 1, 0, 5, 0, 0, 0]), EINVAL);
    assert_eq!(sys(&mut k, NR_FUTEX, &[0x1000, 0, 5, 0, 0, 0]), EFAULT);
    // WAIT with a 1 ms timeout: the task sleeps until the deadline (the scheduler's,
    // never the host's), and the call re-executed after it returns ETIMEDOUT.
    poke32(&mut k, DATA + 0x10, 0);
    poke32(&mut k, DATA + 0x14, 1_000_000);
    assert_eq!(sys(&mut k, NR_FUTEX, &[DATA, 0, 5, DATA + 0x10, 0, 0]), -514);
    let Some(deadline) = k.task.timeout else { panic!("no deadline kept for the restart") };
    std::thread::sleep(deadline.saturating_duration_since(std::time::Instant::now()));
    k.task.state = growsdown_kernel::sched::TaskState::Running;
    k.task.woken = true;
    assert_eq!(sys(&mut k, NR_FUTEX, &[DATA, 0, 5, DATA + 0x10, 0, 0]), -110);
    // WAKE_OP: *uaddr2 += 3 (op ADD, oparg 3, cmp EQ 0).
    poke32(&mut k, DATA + 0x20, 10);
    assert_eq!(sys(&mut k, NR_FUTEX, &[DATA, 5, 1, 1, DATA + 0x20, (1 << 28) | (3 << 12)]), 0);
    assert_eq!(peek32(&mut k, DATA + 0x20), 13);
    // WAIT forever on the expected value: the task sleeps on the futex (the call
    // returns the restart code the scheduler re-executes it with); alone, the run
    // loop then finds a deadlock (sys_fork.rs runs that).
    assert_eq!(sys(&mut k, NR_FUTEX, &[DATA, 0, 5, 0, 0, 0]), -512);
    assert!(matches!(
        k.task.state,
        growsdown_kernel::sched::TaskState::Interruptible(growsdown_kernel::sched::WaitOn::Futex { .. })
    ));
}
