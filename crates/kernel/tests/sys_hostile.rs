//! Hostile arguments: every syscall number with boundary pointers, lengths and
//! flags must come back with a value (usually -EFAULT / -EINVAL / -ENOSYS) and never
//! panic the kernel.
//!
//! Calls that could block on a pipe the fuzzed process itself made (read, write,
//! poll, select and their relatives), signal other host processes (kill) or end the
//! test's own stdio are left out; everything else is called. Guest memory used for
//! paths is zeroed before each call, so a path argument is "" or unreadable and no
//! host file is touched.

mod sys_common;

use growsdown_kernel::syscall::*;
use sys_common::*;

const VALUES: [u32; 14] = [
    0,
    1,
    2,
    3,
    8,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0xffff_ff9c, // AT_FDCWD
    0x1000,
    DATA,
    DATA + 0xfffc,
    0xbfff_fffc,
    0xc000_0000,
];

const SKIP: &[u32] = &[
    NR_READ,
    NR_WRITE,
    NR_READV,
    NR_WRITEV,
    NR_PREAD64,
    NR_PWRITE64,
    NR_SENDFILE,
    NR_SENDFILE64,
    NR_POLL,
    NR_NEWSELECT,
    NR_PSELECT6,
    NR_PSELECT6_TIME64,
    NR_KILL,
];

#[test]
fn hostile_arguments_never_panic() {
    let mut k = process(&[0xf4]);
    // Keep the guest away from the test's own stdin/stdout/stderr.
    for fd in 0..3 {
        k.task.files.remove(fd);
    }
    // SAFETY: reading the umask to restore it afterwards.
    let umask = unsafe { libc::umask(0o022) };
    // SAFETY: as above.
    unsafe { libc::umask(umask) };
    let mut seed = 0x1234_5678u32;
    let mut next = || {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        VALUES[(seed >> 16) as usize % VALUES.len()]
    };
    let mut calls = 0;
    for nr in (0..=460u32).chain([1000, u32::MAX]) {
        if SKIP.contains(&nr) {
            continue;
        }
        for _ in 0..24 {
            // A previous call may have unmapped or protected DATA: map it afresh.
            if k.copy_to_user(DATA, &[0u8; 0x100]).is_err()
                || k.copy_to_user(DATA + 0xff00, &[0u8; 0x100]).is_err()
            {
                map(&mut k, DATA, 0x10000, PROT_READ | PROT_WRITE);
            }
            let args = [next(), next(), next(), next(), next(), next()];
            let _ = do_syscall(&mut k, nr, args);
            calls += 1;
            // Whatever the call did to the task, start the next one from a sane state.
            k.exit_status = None;
            k.task.sig.pending.clear();
            growsdown_kernel::mm::load_user_segments(&mut k);
            k.cpu.regs[growsdown_cpu::ESP] = STACK_TOP - 0x100;
        }
    }
    // SAFETY: restoring the process umask.
    unsafe { libc::umask(umask) };
    assert!(calls > 10_000);
}
