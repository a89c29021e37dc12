//! System calls as synchronisation points: what each side does with a call, and
//! which bytes the reference's kernel wrote that growsdown must receive.
//!
//! The reference always runs the call (its kernel is the one whose decisions
//! count). growsdown then either runs it too and must agree (calls that change the
//! state growsdown's kernel keeps: memory map, signals, TLS, exit), or is handed
//! the reference's result and output buffers without running it (I/O, time,
//! identity: the outside world is seen once, through the reference).

use growsdown_kernel::syscall::nr;

/// `MAP_FIXED` (asm-generic/mman-common.h).
const MAP_FIXED: u32 = 0x10;

/// clone flags (linux/sched.h).
const CLONE_VM: u32 = 0x100;
const CLONE_VFORK: u32 = 0x4000;
const CLONE_PARENT_SETTID: u32 = 0x0010_0000;

/// `PR_GET_NAME` (linux/prctl.h).
const PR_GET_NAME: u32 = 16;
/// prctl options that change the credentials (linux/prctl.h).
const PR_SET_KEEPCAPS: u32 = 8;
const PR_CAPBSET_DROP: u32 = 24;
const PR_CAP_AMBIENT: u32 = 47;

/// `TCGETS` and `TIOCGWINSZ` (asm-generic/ioctls.h).
const TCGETS: u32 = 0x5401;
const TIOCGWINSZ: u32 = 0x5413;

/// `sizeof(struct sockaddr_in6)`: the socket address bytes imposed.
const SOCKADDR_IN6: u32 = 28;

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
/// preemption), or they would start what difftest cannot tell from its arguments in
/// registers (clone3 keeps its flags in memory: both sides fall back to clone, whose
/// flags [`unfollowable`] reads). The tracer turns them into an invalid call
/// (-ENOSYS) on the reference before it runs, and growsdown gets the same -ENOSYS.
///
/// swapon and swapoff are refused too: the reference runs on the host, where (as
/// root) they would change the host's swap.
pub fn denied(nr: u32) -> bool {
    nr == nr::NR_RSEQ || nr == nr::NR_CLONE3 || nr == nr::NR_SWAPON || nr == nr::NR_SWAPOFF
}

/// Calls difftest does not let either side make, and why: lockstep ends (status
/// 2) before them, with both sides still equal. A new program image (execve) or a
/// second thread in the address space (clone with CLONE_VM, not a vfork) would
/// have to be followed too.
pub fn unfollowable(nr: u32, a: &[u32; 6]) -> Option<String> {
    match nr {
        nr::NR_EXECVE | nr::NR_EXECVEAT => {
            Some("execve: difftest follows one program image, and stops before it is replaced".into())
        }
        nr::NR_CLONE if a[0] & CLONE_VM != 0 && a[0] & CLONE_VFORK == 0 => {
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
        NR_EXIT | NR_EXIT_GROUP => Policy::Exit,
        NR_BRK => Policy::Brk,
        NR_MMAP2 if ok && a[3] & MAP_FIXED == 0 => Policy::MapAtReference,
        NR_MMAP | NR_MMAP2 | NR_MUNMAP | NR_MPROTECT | NR_MADVISE | NR_MREMAP | NR_RT_SIGACTION
        | NR_RT_SIGPROCMASK | NR_SIGALTSTACK | NR_SET_THREAD_AREA | NR_MODIFY_LDT => Policy::RunBoth,
        // growsdown's kernel restores the interrupted state from the frame (the
        // reference's bytes, copied when the handler was entered).
        NR_SIGRETURN | NR_RT_SIGRETURN => Policy::RunBoth,
        NR_READ | NR_GETRANDOM | NR_GETDENTS | NR_GETDENTS64 => {
            Policy::Impose(filled(a[1 - usize::from(nr == NR_GETRANDOM)], ret))
        }
        NR_READLINK => Policy::Impose(filled(a[1], ret)),
        NR_PREAD64 => Policy::Impose(filled(a[1], ret)),
        // Both sides have the file open (`Policy::Open`): growsdown writes the same
        // bytes to the same host file, so that its MAP_SHARED pages of the file take
        // them in (a write only the reference made would leave them stale); msync
        // writes growsdown's dirty shared pages, the reference's are in the file.
        NR_PWRITE64 | NR_MSYNC => Policy::RunBoth,
        NR_READLINKAT => Policy::Impose(filled(a[2], ret)),
        // The value or the name list the reference's kernel read from the file (a
        // size of 0 only asks for the length).
        NR_GETXATTR | NR_LGETXATTR | NR_FGETXATTR => {
            Policy::Impose(filled(a[2], if a[3] != 0 { ret } else { 0 }))
        }
        NR_LISTXATTR | NR_LLISTXATTR | NR_FLISTXATTR => {
            Policy::Impose(filled(a[1], if a[2] != 0 { ret } else { 0 }))
        }
        NR_GETCWD => Policy::Impose(filled(a[0], ret)),
        NR_READV => Policy::ImposeIov { iov: a[1], count: a[2] },
        NR_UNAME => Policy::Impose(filled(a[0], 390)),
        NR_STAT64 | NR_LSTAT64 | NR_FSTAT64 => Policy::Impose(filled(a[1], 96)),
        NR_FSTATAT64 => Policy::Impose(filled(a[2], 96)),
        NR_STATX => Policy::Impose(filled(a[4], 256)),
        NR_TIME => Policy::Impose(filled(a[0], 4)),
        NR_GETTIMEOFDAY => {
            let mut v = filled(a[0], 8);
            v.extend(filled(a[1], 8));
            Policy::Impose(v)
        }
        NR_CLOCK_GETTIME => Policy::Impose(filled(a[1], 8)),
        NR_CLOCK_GETTIME64 => Policy::Impose(filled(a[1], 16)),
        NR_TIMES => Policy::Impose(filled(a[0], 16)),
        NR_SYSINFO => Policy::Impose(filled(a[0], 64)),
        NR_GETRLIMIT | NR_UGETRLIMIT => Policy::Impose(filled(a[1], 8)),
        // struct rusage: two timevals and fourteen longs.
        NR_GETRUSAGE => Policy::Impose(filled(a[1], 72)),
        // A new limit (RLIMIT_STACK bounds growsdown's stack growth) is applied on
        // both sides; the old one reported is the reference's.
        NR_SETRLIMIT => Policy::RunBoth,
        NR_PRLIMIT64 if a[0] == 0 && a[2] != 0 => Policy::RunThenImpose(filled(a[3], 16)),
        NR_PRLIMIT64 => Policy::Impose(filled(a[3], 16)),
        NR_LLSEEK => Policy::Impose(filled(a[3], 8)),
        NR_PIPE | NR_PIPE2 => Policy::Impose(filled(a[0], 8)),
        NR_OPEN if ok => Policy::Open { flags_arg: 1 },
        NR_OPENAT if ok => Policy::Open { flags_arg: 2 },
        NR_CLOSE => Policy::Close,
        // A new process: the reference's child runs on its own, unfollowed (its
        // output and exit status reach the followed parent through the reference's
        // kernel); growsdown only takes the child's pid. clone(CLONE_PARENT_SETTID)
        // also stores it at ptid in the parent.
        NR_FORK | NR_VFORK => Policy::Impose(vec![]),
        NR_CLONE if a[0] & CLONE_PARENT_SETTID != 0 => Policy::Impose(filled(a[2], 4)),
        NR_CLONE => Policy::Impose(vec![]),
        // The child's status, and struct rusage (two timevals, fourteen longs).
        NR_WAITPID => Policy::Impose(filled(a[1], 4)),
        NR_WAIT4 => {
            let mut v = filled(a[1], 4);
            v.extend(filled(a[3], 72));
            Policy::Impose(v)
        }
        // siginfo_t is 128 bytes.
        NR_WAITID => {
            let mut v = filled(a[2], 128);
            v.extend(filled(a[4], 72));
            Policy::Impose(v)
        }
        NR_POLL => Policy::Impose(filled(a[0], a[1].saturating_mul(8))),
        NR_SCHED_GETAFFINITY => Policy::Impose(filled(a[2], ret)),
        // struct sched_param (one int); a timespec, 32- or 64-bit.
        NR_SCHED_GETPARAM => Policy::Impose(filled(a[1], 4)),
        NR_SCHED_RR_GET_INTERVAL => Policy::Impose(filled(a[1], 8)),
        NR_SCHED_RR_GET_INTERVAL_TIME64 => Policy::Impose(filled(a[1], 16)),
        NR_NANOSLEEP => Policy::Impose(filled(a[1], 8)),
        // prctl(PR_GET_NAME, buf): the 16-byte comm. Other options write nothing
        // busybox and libc use.
        NR_PRCTL if a[0] == PR_GET_NAME => Policy::Impose(filled(a[1], 16)),
        // Credentials are kernel state growsdown keeps (its file checks follow them):
        // the changes run on both sides and must agree; what is read back is the
        // reference's (capget runs on both: the buffer's size depends on the header).
        NR_SETUID | NR_SETUID32 | NR_SETGID | NR_SETGID32 | NR_SETREUID | NR_SETREUID32 | NR_SETREGID
        | NR_SETREGID32 | NR_SETRESUID | NR_SETRESUID32 | NR_SETRESGID | NR_SETRESGID32 | NR_SETFSUID
        | NR_SETFSUID32 | NR_SETFSGID | NR_SETFSGID32 | NR_SETGROUPS | NR_SETGROUPS32 | NR_CAPSET
        | NR_CAPGET => Policy::RunBoth,
        NR_PRCTL if matches!(a[0], PR_SET_KEEPCAPS | PR_CAPBSET_DROP | PR_CAP_AMBIENT) => Policy::RunBoth,
        NR_GETRESUID32 | NR_GETRESGID32 => {
            Policy::Impose([a[0], a[1], a[2]].iter().flat_map(|&p| filled(p, 4)).collect())
        }
        NR_GETRESUID | NR_GETRESGID => {
            Policy::Impose([a[0], a[1], a[2]].iter().flat_map(|&p| filled(p, 2)).collect())
        }
        // getgroups(0, list) only counts.
        NR_GETGROUPS32 if a[0] != 0 => Policy::Impose(filled(a[1], ret.saturating_mul(4))),
        NR_GETGROUPS if a[0] != 0 => Policy::Impose(filled(a[1], ret.saturating_mul(2))),
        NR_IOCTL => match a[1] {
            TCGETS => Policy::Impose(filled(a[2], 36)),
            TIOCGWINSZ => Policy::Impose(filled(a[2], 8)),
            _ => Policy::Impose(vec![]),
        },
        // Sockets: the reference's sockets are the only ones (growsdown makes none),
        // so every socket call is imposed. Socket addresses: the reference's stored
        // length is in memory, so the 28 bytes of a sockaddr_in6 (which cover
        // sockaddr_in) are copied and the length word; a longer Unix path shows as
        // a divergence. recvmsg/recvmmsg and socketcall keep their buffers in
        // memory too: only EAX is carried over (a program reading what they
        // received diverges, it does not stop difftest).
        NR_SOCKETPAIR => Policy::Impose(filled(a[3], 8)),
        NR_ACCEPT4 | NR_GETSOCKNAME | NR_GETPEERNAME => {
            let mut v = filled(a[1], SOCKADDR_IN6);
            v.extend(filled(a[2], 4));
            Policy::Impose(v)
        }
        NR_RECVFROM => {
            let mut v = filled(a[1], ret.min(a[2]));
            v.extend(filled(a[4], SOCKADDR_IN6));
            v.extend(filled(a[5], 4));
            Policy::Impose(v)
        }
        // The option values passed through are at most 16 bytes (net.rs).
        NR_GETSOCKOPT => {
            let mut v = filled(a[3], 16);
            v.extend(filled(a[4], 4));
            Policy::Impose(v)
        }
        // sigsuspend / rt_sigsuspend: they return when a signal is delivered; the
        // mask they install is applied when the signal reaches growsdown (see
        // `deliver_at_boundary` in mod.rs).
        // No output buffers: write, writev, open, openat, close, dup, dup2, lseek,
        // access, faccessat, the set/remove xattr calls, fcntl, fcntl64, getpid, getppid, gettid, the uid/gid
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
        NR_EXIT
            | NR_FORK
            | NR_READ
            | NR_WRITE
            | NR_OPEN
            | NR_CLOSE
            | NR_WAITPID
            | NR_EXECVE
            | NR_TIME
            | NR_LSEEK
            | NR_GETPID
            | NR_ACCESS
            | NR_KILL
            | NR_DUP
            | NR_PIPE
            | NR_TIMES
            | NR_BRK
            | NR_IOCTL
            | NR_FCNTL
            | NR_DUP2
            | NR_GETPPID
            | NR_SETRLIMIT
            | NR_GETRLIMIT
            | NR_GETRUSAGE
            | NR_SIGRETURN
            | NR_RT_SIGRETURN
            | NR_GETTIMEOFDAY
            | NR_READLINK
            | NR_PREAD64
            | NR_PWRITE64
            | NR_MSYNC
            | NR_MMAP
            | NR_MUNMAP
            | NR_WAIT4
            | NR_SYSINFO
            | NR_CLONE
            | NR_UNAME
            | NR_MODIFY_LDT
            | NR_MPROTECT
            | NR_PRCTL
            | NR_LLSEEK
            | NR_GETDENTS
            | NR_READV
            | NR_WRITEV
            | NR_SOCKET
            | NR_SOCKETPAIR
            | NR_BIND
            | NR_CONNECT
            | NR_LISTEN
            | NR_ACCEPT4
            | NR_GETSOCKNAME
            | NR_GETPEERNAME
            | NR_SENDTO
            | NR_RECVFROM
            | NR_SETSOCKOPT
            | NR_GETSOCKOPT
            | NR_SHUTDOWN
            | NR_SENDMSG
            | NR_NANOSLEEP
            | NR_MREMAP
            | NR_POLL
            | NR_RT_SIGACTION
            | NR_RT_SIGPROCMASK
            | NR_SIGSUSPEND
            | NR_RT_SIGSUSPEND
            | NR_GETCWD
            | NR_SIGALTSTACK
            | NR_VFORK
            | NR_UGETRLIMIT
            | NR_MMAP2
            | NR_STAT64
            | NR_LSTAT64
            | NR_FSTAT64
            | NR_GETUID32
            | NR_SETUID
            | NR_SETUID32
            | NR_SETGID
            | NR_SETGID32
            | NR_SETREUID
            | NR_SETREUID32
            | NR_SETREGID
            | NR_SETREGID32
            | NR_SETRESUID
            | NR_SETRESUID32
            | NR_SETRESGID
            | NR_SETRESGID32
            | NR_GETRESUID
            | NR_GETRESUID32
            | NR_GETRESGID
            | NR_GETRESGID32
            | NR_SETFSUID
            | NR_SETFSUID32
            | NR_SETFSGID
            | NR_SETFSGID32
            | NR_SETGROUPS
            | NR_SETGROUPS32
            | NR_GETGROUPS
            | NR_GETGROUPS32
            | NR_CAPGET
            | NR_CAPSET
            | NR_GETGID32
            | NR_GETEUID32
            | NR_GETEGID32
            | NR_MADVISE
            | NR_GETDENTS64
            | NR_FCNTL64
            | NR_GETTID
            | NR_TKILL
            | NR_SCHED_GETAFFINITY
            | NR_SET_THREAD_AREA
            | NR_EXIT_GROUP
            | NR_SET_TID_ADDRESS
            | NR_CLOCK_GETTIME
            | NR_TGKILL
            | NR_WAITID
            | NR_OPENAT
            | NR_FSTATAT64
            | NR_READLINKAT
            | NR_FACCESSAT
            | NR_SET_ROBUST_LIST
            | NR_PIPE2
            | NR_PRLIMIT64
            | NR_GETRANDOM
            | NR_EXECVEAT
            | NR_STATX
            | NR_RSEQ
            | NR_CLOCK_GETTIME64
            | NR_SETXATTR
            | NR_LSETXATTR
            | NR_FSETXATTR
            | NR_GETXATTR
            | NR_LGETXATTR
            | NR_FGETXATTR
            | NR_LISTXATTR
            | NR_LLISTXATTR
            | NR_FLISTXATTR
            | NR_REMOVEXATTR
            | NR_LREMOVEXATTR
            | NR_FREMOVEXATTR
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_copies_what_was_read() {
        let a = [0, 0x1000, 100, 0, 0, 0];
        assert_eq!(policy(nr::NR_READ, &a, 7), Policy::Impose(vec![(0x1000, 7)]));
        assert_eq!(policy(nr::NR_READ, &a, 0), Policy::Impose(vec![]));
        assert_eq!(policy(nr::NR_READ, &a, (-9i32) as u32), Policy::Impose(vec![]));
        assert_eq!(
            policy(nr::NR_GETRANDOM, &[0x2000, 16, 0, 0, 0, 0], 16),
            Policy::Impose(vec![(0x2000, 16)])
        );
    }

    #[test]
    fn memory_calls_run_on_both_sides() {
        let anon = [0, 0x2000, 3, 0x22, u32::MAX, 0];
        assert_eq!(policy(nr::NR_MMAP2, &anon, 0xb7ff_0000), Policy::MapAtReference);
        assert_eq!(policy(nr::NR_MMAP2, &anon, (-12i32) as u32), Policy::RunBoth);
        let file = [0, 0x2000, 1, 0x02, 3, 0];
        assert_eq!(policy(nr::NR_MMAP2, &file, 0xb7fe_0000), Policy::MapAtReference);
        let fixed = [0xb7ff_0000, 0x2000, 3, 0x32, u32::MAX, 0];
        assert_eq!(policy(nr::NR_MMAP2, &fixed, 0xb7ff_0000), Policy::RunBoth);
        assert_eq!(policy(nr::NR_MUNMAP, &anon, 0), Policy::RunBoth);
        assert_eq!(policy(nr::NR_BRK, &anon, 0x0811_3000), Policy::Brk);
        assert_eq!(policy(nr::NR_EXIT_GROUP, &anon, 0), Policy::Exit);
        assert_eq!(policy(nr::NR_WRITE, &[1, 0x1000, 5, 0, 0, 0], 5), Policy::Impose(vec![]));
    }

    #[test]
    fn stat_and_time_buffers() {
        assert_eq!(policy(nr::NR_FSTAT64, &[1, 0x3000, 0, 0, 0, 0], 0), Policy::Impose(vec![(0x3000, 96)]));
        assert_eq!(
            policy(nr::NR_CLOCK_GETTIME64, &[1, 0x3000, 0, 0, 0, 0], 0),
            Policy::Impose(vec![(0x3000, 16)])
        );
        assert_eq!(policy(nr::NR_GETTIMEOFDAY, &[0x10, 0, 0, 0, 0, 0], 0), Policy::Impose(vec![(0x10, 8)]));
        assert_eq!(policy(nr::NR_IOCTL, &[1, TCGETS, 0x40, 0, 0, 0], 0), Policy::Impose(vec![(0x40, 36)]));
        assert_eq!(
            policy(nr::NR_IOCTL, &[1, TCGETS, 0x40, 0, 0, 0], (-25i32) as u32),
            Policy::Impose(vec![])
        );
    }

    #[test]
    fn credentials() {
        assert_eq!(policy(nr::NR_SETRESUID32, &[1, 2, 3, 0, 0, 0], 0), Policy::RunBoth);
        assert_eq!(policy(nr::NR_SETFSUID, &[5, 0, 0, 0, 0, 0], 0), Policy::RunBoth);
        assert_eq!(policy(nr::NR_PRCTL, &[PR_SET_KEEPCAPS, 1, 0, 0, 0, 0], 0), Policy::RunBoth);
        assert_eq!(
            policy(nr::NR_GETRESUID, &[0x10, 0x20, 0x30, 0, 0, 0], 0),
            Policy::Impose(vec![(0x10, 2), (0x20, 2), (0x30, 2)])
        );
        assert_eq!(policy(nr::NR_GETGROUPS32, &[8, 0x40, 0, 0, 0, 0], 3), Policy::Impose(vec![(0x40, 12)]));
        assert_eq!(policy(nr::NR_GETGROUPS32, &[0, 0x40, 0, 0, 0, 0], 3), Policy::Impose(vec![]));
        assert!(known(nr::NR_SETGROUPS) && known(nr::NR_CAPSET));
    }

    #[test]
    fn processes() {
        // glibc's fork: clone(CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD).
        let fork = [0x0120_0011, 0, 0, 0, 0x0804_0000, 0];
        assert_eq!(policy(nr::NR_CLONE, &fork, 1234), Policy::Impose(vec![]));
        assert_eq!(unfollowable(nr::NR_CLONE, &fork), None);
        let settid = [0x0010_0011, 0, 0x3000, 0, 0, 0];
        assert_eq!(policy(nr::NR_CLONE, &settid, 1234), Policy::Impose(vec![(0x3000, 4)]));
        // posix_spawn's clone(CLONE_VM | CLONE_VFORK) is a vfork; a thread is not.
        assert_eq!(unfollowable(nr::NR_CLONE, &[0x4111, 0x9000, 0, 0, 0, 0]), None);
        assert!(unfollowable(nr::NR_CLONE, &[0x003d_0f00, 0x9000, 0, 0, 0, 0]).unwrap().contains("threads"));
        assert!(unfollowable(nr::NR_EXECVE, &[0; 6]).is_some());
        assert_eq!(
            policy(nr::NR_WAIT4, &[99, 0x10, 0, 0x20, 0, 0], 99),
            Policy::Impose(vec![(0x10, 4), (0x20, 72)])
        );
        assert_eq!(policy(nr::NR_WAIT4, &[99, 0x10, 0, 0, 0, 0], (-10i32) as u32), Policy::Impose(vec![]));
        assert_eq!(policy(nr::NR_PIPE2, &[0x40, 0, 0, 0, 0, 0], 0), Policy::Impose(vec![(0x40, 8)]));
        assert_eq!(
            policy(nr::NR_OPENAT, &[(-100i32) as u32, 0x40, 0, 0, 0, 0], 3),
            Policy::Open { flags_arg: 2 }
        );
        assert_eq!(policy(nr::NR_OPEN, &[0x40, 0, 0, 0, 0, 0], (-2i32) as u32), Policy::Impose(vec![]));
        // prlimit64(0, RLIMIT_STACK, &new, &old) runs on both; a read only on the reference.
        assert_eq!(
            policy(nr::NR_PRLIMIT64, &[0, 3, 0x50, 0x60, 0, 0], 0),
            Policy::RunThenImpose(vec![(0x60, 16)])
        );
        assert_eq!(policy(nr::NR_PRLIMIT64, &[0, 3, 0, 0x60, 0, 0], 0), Policy::Impose(vec![(0x60, 16)]));
        assert_eq!(policy(nr::NR_SETRLIMIT, &[3, 0x50, 0, 0, 0, 0], 0), Policy::RunBoth);
    }

    #[test]
    fn rseq_is_refused() {
        assert!(denied(nr::NR_RSEQ));
        assert!(denied(nr::NR_CLONE3));
        assert!(denied(nr::NR_SWAPON) && denied(nr::NR_SWAPOFF));
        assert!(!denied(nr::NR_WRITE));
        assert!(known(nr::NR_RSEQ) && !known(9999));
    }
}
