//! System calls as synchronisation points: what each side does with a call, and
//! which bytes the reference's kernel wrote that growsdown must receive.
//!
//! The reference always runs the call (its kernel is the one whose decisions
//! count). growsdown then either runs it too and must agree (calls that change the
//! state growsdown's kernel keeps: memory map, signals, TLS, exit), or is handed
//! the reference's result and output buffers without running it (I/O, time,
//! identity: the outside world is seen once, through the reference).

/// i386 system call numbers used here (`arch/x86/entry/syscalls/syscall_32.tbl`).
pub mod nr {
    pub const EXIT: u32 = 1;
    pub const FORK: u32 = 2;
    pub const READ: u32 = 3;
    pub const WRITE: u32 = 4;
    pub const OPEN: u32 = 5;
    pub const CLOSE: u32 = 6;
    pub const WAITPID: u32 = 7;
    pub const EXECVE: u32 = 11;
    pub const TIME: u32 = 13;
    pub const LSEEK: u32 = 19;
    pub const GETPID: u32 = 20;
    pub const ACCESS: u32 = 33;
    pub const KILL: u32 = 37;
    pub const DUP: u32 = 41;
    pub const PIPE: u32 = 42;
    pub const TIMES: u32 = 43;
    pub const BRK: u32 = 45;
    pub const IOCTL: u32 = 54;
    pub const FCNTL: u32 = 55;
    pub const DUP2: u32 = 63;
    pub const GETPPID: u32 = 64;
    pub const SETRLIMIT: u32 = 75;
    pub const GETRLIMIT: u32 = 76;
    pub const GETRUSAGE: u32 = 77;
    pub const SIGRETURN: u32 = 119;
    pub const SIGSUSPEND: u32 = 72;
    pub const GETTIMEOFDAY: u32 = 78;
    pub const READLINK: u32 = 85;
    pub const MMAP: u32 = 90;
    pub const MUNMAP: u32 = 91;
    pub const WAIT4: u32 = 114;
    pub const SYSINFO: u32 = 116;
    pub const CLONE: u32 = 120;
    pub const UNAME: u32 = 122;
    pub const MODIFY_LDT: u32 = 123;
    pub const MPROTECT: u32 = 125;
    pub const PRCTL: u32 = 172;
    pub const LLSEEK: u32 = 140;
    pub const GETDENTS: u32 = 141;
    pub const READV: u32 = 145;
    pub const WRITEV: u32 = 146;
    pub const NANOSLEEP: u32 = 162;
    pub const MREMAP: u32 = 163;
    pub const POLL: u32 = 168;
    pub const RT_SIGRETURN: u32 = 173;
    pub const RT_SIGACTION: u32 = 174;
    pub const RT_SIGPROCMASK: u32 = 175;
    pub const RT_SIGSUSPEND: u32 = 179;
    pub const GETCWD: u32 = 183;
    pub const SIGALTSTACK: u32 = 186;
    pub const VFORK: u32 = 190;
    pub const UGETRLIMIT: u32 = 191;
    pub const MMAP2: u32 = 192;
    pub const STAT64: u32 = 195;
    pub const LSTAT64: u32 = 196;
    pub const FSTAT64: u32 = 197;
    pub const GETUID32: u32 = 199;
    pub const GETGID32: u32 = 200;
    pub const GETEUID32: u32 = 201;
    pub const GETEGID32: u32 = 202;
    pub const MADVISE: u32 = 219;
    pub const GETDENTS64: u32 = 220;
    pub const FCNTL64: u32 = 221;
    pub const GETTID: u32 = 224;
    pub const TKILL: u32 = 238;
    pub const SCHED_GETAFFINITY: u32 = 242;
    pub const SET_THREAD_AREA: u32 = 243;
    pub const EXIT_GROUP: u32 = 252;
    pub const SET_TID_ADDRESS: u32 = 258;
    pub const CLOCK_GETTIME: u32 = 265;
    pub const TGKILL: u32 = 270;
    pub const WAITID: u32 = 284;
    pub const OPENAT: u32 = 295;
    pub const FSTATAT64: u32 = 300;
    pub const READLINKAT: u32 = 305;
    pub const FACCESSAT: u32 = 307;
    pub const SET_ROBUST_LIST: u32 = 311;
    pub const PIPE2: u32 = 331;
    pub const PRLIMIT64: u32 = 340;
    pub const GETRANDOM: u32 = 355;
    pub const STATX: u32 = 383;
    pub const EXECVEAT: u32 = 358;
    pub const RSEQ: u32 = 386;
    pub const CLOCK_GETTIME64: u32 = 403;
}

/// `MAP_FIXED` (asm-generic/mman-common.h).
const MAP_FIXED: u32 = 0x10;

/// clone flags (linux/sched.h).
const CLONE_VM: u32 = 0x100;
const CLONE_VFORK: u32 = 0x4000;
const CLONE_PARENT_SETTID: u32 = 0x0010_0000;

/// `PR_GET_NAME` (linux/prctl.h).
const PR_GET_NAME: u32 = 16;

/// `TCGETS` and `TIOCGWINSZ` (asm-generic/ioctls.h).
const TCGETS: u32 = 0x5401;
const TIOCGWINSZ: u32 = 0x5413;

/// What growsdown does at a system call the reference has just run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Run growsdown's kernel too; its result must equal the reference's.
    RunBoth,
    /// Do not run it in growsdown: EAX and the bytes at these (address, length)
    /// ranges are copied from the reference.
    Impose(Vec<(u32, u32)>),
    /// Like `Impose`, with the buffers of an iovec array (readv): its address and
    /// count; the result says how many bytes were filled.
    ImposeIov { iov: u32, count: u32 },
    /// Run growsdown's too (it changes state growsdown's kernel keeps), then copy
    /// the bytes at these ranges from the reference (what the call reported back).
    RunThenImpose(Vec<(u32, u32)>),
    /// open / openat that succeeded: growsdown opens the same file too, so that a
    /// later mmap2 of it maps the same bytes, and its fd is renumbered to the
    /// reference's. Reads stay imposed. O_EXCL is dropped on growsdown's side (the
    /// reference has just created the file).
    Open { flags_arg: usize },
    /// close: run on both when growsdown has the fd (one `Open` gave it).
    Close,
    /// `brk`: run growsdown's (configured to start at the references' page-aligned
    /// end of bss); its result must equal the reference's.
    Brk,
    /// `mmap2` without MAP_FIXED that succeeded: run growsdown's with the
    /// reference's address as its placement (`Machine::place_next_mmap`).
    MapAtReference,
    /// exit / exit_group: the reference has ended; run growsdown's and compare the
    /// status.
    Exit,
}

/// Calls the reference must not really make: they would make its kernel write
/// into the process behind the tracer's back (rseq updates its area on every
/// preemption). The tracer turns them into an invalid call (-ENOSYS) on the
/// reference before it runs, and growsdown gets the same -ENOSYS.
pub fn denied(nr: u32) -> bool {
    nr == nr::RSEQ
}

/// Calls difftest does not let either side make, and why: lockstep ends (status
/// 2) before them, with both sides still equal. A new program image (execve) or a
/// second thread in the address space (clone with CLONE_VM, not a vfork) would
/// have to be followed too.
pub fn unfollowable(nr: u32, a: &[u32; 6]) -> Option<String> {
    match nr {
        nr::EXECVE | nr::EXECVEAT => {
            Some("execve: difftest follows one program image, and stops before it is replaced".into())
        }
        nr::CLONE if a[0] & CLONE_VM != 0 && a[0] & CLONE_VFORK == 0 => {
            Some(format!("clone(flags {:#x}): threads are not followed", a[0]))
        }
        _ => None,
    }
}

fn is_error(ret: u32) -> bool {
    ret > (-4096i32) as u32
}

/// The policy for call `nr` with `args` (EBX ECX EDX ESI EDI EBP) which returned
/// `ret` on the reference.
pub fn policy(nr: u32, a: &[u32; 6], ret: u32) -> Policy {
    use nr::*;
    let ok = !is_error(ret);
    let filled = |addr: u32, len: u32| if ok && addr != 0 && len != 0 { vec![(addr, len)] } else { vec![] };
    match nr {
        EXIT | EXIT_GROUP => Policy::Exit,
        BRK => Policy::Brk,
        MMAP2 if ok && a[3] & MAP_FIXED == 0 => Policy::MapAtReference,
        MMAP | MMAP2 | MUNMAP | MPROTECT | MADVISE | MREMAP | RT_SIGACTION | RT_SIGPROCMASK | SIGALTSTACK
        | SET_THREAD_AREA | MODIFY_LDT => Policy::RunBoth,
        // growsdown's kernel restores the interrupted state from the frame (the
        // reference's bytes, copied when the handler was entered).
        SIGRETURN | RT_SIGRETURN => Policy::RunBoth,
        READ | GETRANDOM | GETDENTS | GETDENTS64 => {
            Policy::Impose(filled(a[1 - usize::from(nr == GETRANDOM)], ret))
        }
        READLINK => Policy::Impose(filled(a[1], ret)),
        READLINKAT => Policy::Impose(filled(a[2], ret)),
        GETCWD => Policy::Impose(filled(a[0], ret)),
        READV => Policy::ImposeIov { iov: a[1], count: a[2] },
        UNAME => Policy::Impose(filled(a[0], 390)),
        STAT64 | LSTAT64 | FSTAT64 => Policy::Impose(filled(a[1], 96)),
        FSTATAT64 => Policy::Impose(filled(a[2], 96)),
        STATX => Policy::Impose(filled(a[4], 256)),
        TIME => Policy::Impose(filled(a[0], 4)),
        GETTIMEOFDAY => {
            let mut v = filled(a[0], 8);
            v.extend(filled(a[1], 8));
            Policy::Impose(v)
        }
        CLOCK_GETTIME => Policy::Impose(filled(a[1], 8)),
        CLOCK_GETTIME64 => Policy::Impose(filled(a[1], 16)),
        TIMES => Policy::Impose(filled(a[0], 16)),
        SYSINFO => Policy::Impose(filled(a[0], 64)),
        GETRLIMIT | UGETRLIMIT => Policy::Impose(filled(a[1], 8)),
        // struct rusage: two timevals and fourteen longs.
        GETRUSAGE => Policy::Impose(filled(a[1], 72)),
        // A new limit (RLIMIT_STACK bounds growsdown's stack growth) is applied on
        // both sides; the old one reported is the reference's.
        SETRLIMIT => Policy::RunBoth,
        PRLIMIT64 if a[0] == 0 && a[2] != 0 => Policy::RunThenImpose(filled(a[3], 16)),
        PRLIMIT64 => Policy::Impose(filled(a[3], 16)),
        LLSEEK => Policy::Impose(filled(a[3], 8)),
        PIPE | PIPE2 => Policy::Impose(filled(a[0], 8)),
        OPEN if ok => Policy::Open { flags_arg: 1 },
        OPENAT if ok => Policy::Open { flags_arg: 2 },
        CLOSE => Policy::Close,
        // A new process: the reference's child runs on its own, unfollowed (its
        // output and exit status reach the followed parent through the reference's
        // kernel); growsdown only takes the child's pid. clone(CLONE_PARENT_SETTID)
        // also stores it at ptid in the parent.
        FORK | VFORK => Policy::Impose(vec![]),
        CLONE if a[0] & CLONE_PARENT_SETTID != 0 => Policy::Impose(filled(a[2], 4)),
        CLONE => Policy::Impose(vec![]),
        // The child's status, and struct rusage (two timevals, fourteen longs).
        WAITPID => Policy::Impose(filled(a[1], 4)),
        WAIT4 => {
            let mut v = filled(a[1], 4);
            v.extend(filled(a[3], 72));
            Policy::Impose(v)
        }
        // siginfo_t is 128 bytes.
        WAITID => {
            let mut v = filled(a[2], 128);
            v.extend(filled(a[4], 72));
            Policy::Impose(v)
        }
        POLL => Policy::Impose(filled(a[0], a[1].saturating_mul(8))),
        SCHED_GETAFFINITY => Policy::Impose(filled(a[2], ret)),
        NANOSLEEP => Policy::Impose(filled(a[1], 8)),
        // prctl(PR_GET_NAME, buf): the 16-byte comm. Other options write nothing
        // busybox and libc use.
        PRCTL if a[0] == PR_GET_NAME => Policy::Impose(filled(a[1], 16)),
        IOCTL => match a[1] {
            TCGETS => Policy::Impose(filled(a[2], 36)),
            TIOCGWINSZ => Policy::Impose(filled(a[2], 8)),
            _ => Policy::Impose(vec![]),
        },
        // sigsuspend / rt_sigsuspend: they return when a signal is delivered; the
        // mask they install is applied when the signal reaches growsdown (see
        // `deliver_at_boundary` in mod.rs).
        // No output buffers: write, writev, open, openat, close, dup, dup2, lseek,
        // access, faccessat, fcntl, fcntl64, getpid, getppid, gettid, the uid/gid
        // calls, set_tid_address, set_robust_list, kill, tkill, tgkill (a signal the
        // reference's process sends itself arrives at the reference as an
        // asynchronous one), and anything unknown.
        _ => Policy::Impose(vec![]),
    }
}

/// Whether [`policy`] knows the call's output buffers (unknown calls get only EAX
/// carried over, and difftest says so once).
pub fn known(nr: u32) -> bool {
    use nr::*;
    matches!(
        nr,
        EXIT | FORK
            | READ
            | WRITE
            | OPEN
            | CLOSE
            | WAITPID
            | EXECVE
            | TIME
            | LSEEK
            | GETPID
            | ACCESS
            | KILL
            | DUP
            | PIPE
            | TIMES
            | BRK
            | IOCTL
            | FCNTL
            | DUP2
            | GETPPID
            | SETRLIMIT
            | GETRLIMIT
            | GETRUSAGE
            | SIGRETURN
            | RT_SIGRETURN
            | GETTIMEOFDAY
            | READLINK
            | MMAP
            | MUNMAP
            | WAIT4
            | SYSINFO
            | CLONE
            | UNAME
            | MODIFY_LDT
            | MPROTECT
            | PRCTL
            | LLSEEK
            | GETDENTS
            | READV
            | WRITEV
            | NANOSLEEP
            | MREMAP
            | POLL
            | RT_SIGACTION
            | RT_SIGPROCMASK
            | SIGSUSPEND
            | RT_SIGSUSPEND
            | GETCWD
            | SIGALTSTACK
            | VFORK
            | UGETRLIMIT
            | MMAP2
            | STAT64
            | LSTAT64
            | FSTAT64
            | GETUID32
            | GETGID32
            | GETEUID32
            | GETEGID32
            | MADVISE
            | GETDENTS64
            | FCNTL64
            | GETTID
            | TKILL
            | SCHED_GETAFFINITY
            | SET_THREAD_AREA
            | EXIT_GROUP
            | SET_TID_ADDRESS
            | CLOCK_GETTIME
            | TGKILL
            | WAITID
            | OPENAT
            | FSTATAT64
            | READLINKAT
            | FACCESSAT
            | SET_ROBUST_LIST
            | PIPE2
            | PRLIMIT64
            | GETRANDOM
            | EXECVEAT
            | STATX
            | RSEQ
            | CLOCK_GETTIME64
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_copies_what_was_read() {
        let a = [0, 0x1000, 100, 0, 0, 0];
        assert_eq!(policy(nr::READ, &a, 7), Policy::Impose(vec![(0x1000, 7)]));
        assert_eq!(policy(nr::READ, &a, 0), Policy::Impose(vec![]));
        assert_eq!(policy(nr::READ, &a, (-9i32) as u32), Policy::Impose(vec![]));
        assert_eq!(policy(nr::GETRANDOM, &[0x2000, 16, 0, 0, 0, 0], 16), Policy::Impose(vec![(0x2000, 16)]));
    }

    #[test]
    fn memory_calls_run_on_both_sides() {
        let anon = [0, 0x2000, 3, 0x22, u32::MAX, 0];
        assert_eq!(policy(nr::MMAP2, &anon, 0xb7ff_0000), Policy::MapAtReference);
        assert_eq!(policy(nr::MMAP2, &anon, (-12i32) as u32), Policy::RunBoth);
        let file = [0, 0x2000, 1, 0x02, 3, 0];
        assert_eq!(policy(nr::MMAP2, &file, 0xb7fe_0000), Policy::MapAtReference);
        let fixed = [0xb7ff_0000, 0x2000, 3, 0x32, u32::MAX, 0];
        assert_eq!(policy(nr::MMAP2, &fixed, 0xb7ff_0000), Policy::RunBoth);
        assert_eq!(policy(nr::MUNMAP, &anon, 0), Policy::RunBoth);
        assert_eq!(policy(nr::BRK, &anon, 0x0811_3000), Policy::Brk);
        assert_eq!(policy(nr::EXIT_GROUP, &anon, 0), Policy::Exit);
        assert_eq!(policy(nr::WRITE, &[1, 0x1000, 5, 0, 0, 0], 5), Policy::Impose(vec![]));
    }

    #[test]
    fn stat_and_time_buffers() {
        assert_eq!(policy(nr::FSTAT64, &[1, 0x3000, 0, 0, 0, 0], 0), Policy::Impose(vec![(0x3000, 96)]));
        assert_eq!(
            policy(nr::CLOCK_GETTIME64, &[1, 0x3000, 0, 0, 0, 0], 0),
            Policy::Impose(vec![(0x3000, 16)])
        );
        assert_eq!(policy(nr::GETTIMEOFDAY, &[0x10, 0, 0, 0, 0, 0], 0), Policy::Impose(vec![(0x10, 8)]));
        assert_eq!(policy(nr::IOCTL, &[1, TCGETS, 0x40, 0, 0, 0], 0), Policy::Impose(vec![(0x40, 36)]));
        assert_eq!(policy(nr::IOCTL, &[1, TCGETS, 0x40, 0, 0, 0], (-25i32) as u32), Policy::Impose(vec![]));
    }

    #[test]
    fn processes() {
        // glibc's fork: clone(CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD).
        let fork = [0x0120_0011, 0, 0, 0, 0x0804_0000, 0];
        assert_eq!(policy(nr::CLONE, &fork, 1234), Policy::Impose(vec![]));
        assert_eq!(unfollowable(nr::CLONE, &fork), None);
        let settid = [0x0010_0011, 0, 0x3000, 0, 0, 0];
        assert_eq!(policy(nr::CLONE, &settid, 1234), Policy::Impose(vec![(0x3000, 4)]));
        // posix_spawn's clone(CLONE_VM | CLONE_VFORK) is a vfork; a thread is not.
        assert_eq!(unfollowable(nr::CLONE, &[0x4111, 0x9000, 0, 0, 0, 0]), None);
        assert!(unfollowable(nr::CLONE, &[0x003d_0f00, 0x9000, 0, 0, 0, 0]).unwrap().contains("threads"));
        assert!(unfollowable(nr::EXECVE, &[0; 6]).is_some());
        assert_eq!(
            policy(nr::WAIT4, &[99, 0x10, 0, 0x20, 0, 0], 99),
            Policy::Impose(vec![(0x10, 4), (0x20, 72)])
        );
        assert_eq!(policy(nr::WAIT4, &[99, 0x10, 0, 0, 0, 0], (-10i32) as u32), Policy::Impose(vec![]));
        assert_eq!(policy(nr::PIPE2, &[0x40, 0, 0, 0, 0, 0], 0), Policy::Impose(vec![(0x40, 8)]));
        assert_eq!(
            policy(nr::OPENAT, &[(-100i32) as u32, 0x40, 0, 0, 0, 0], 3),
            Policy::Open { flags_arg: 2 }
        );
        assert_eq!(policy(nr::OPEN, &[0x40, 0, 0, 0, 0, 0], (-2i32) as u32), Policy::Impose(vec![]));
        // prlimit64(0, RLIMIT_STACK, &new, &old) runs on both; a read only on the reference.
        assert_eq!(
            policy(nr::PRLIMIT64, &[0, 3, 0x50, 0x60, 0, 0], 0),
            Policy::RunThenImpose(vec![(0x60, 16)])
        );
        assert_eq!(policy(nr::PRLIMIT64, &[0, 3, 0, 0x60, 0, 0], 0), Policy::Impose(vec![(0x60, 16)]));
        assert_eq!(policy(nr::SETRLIMIT, &[3, 0x50, 0, 0, 0, 0], 0), Policy::RunBoth);
    }

    #[test]
    fn rseq_is_refused() {
        assert!(denied(nr::RSEQ));
        assert!(!denied(nr::WRITE));
        assert!(known(nr::RSEQ) && !known(9999));
    }
}
