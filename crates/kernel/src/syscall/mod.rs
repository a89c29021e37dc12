//! `int 0x80`: today's Linux i386 system-call ABI. Number in EAX; arguments in EBX,
//! ECX, EDX, ESI, EDI, EBP; result (or -errno) back in EAX.
//!
//! Every call is logged at debug level on target `kernel::syscall` as an strace-like
//! line; a number with no implementation gets -ENOSYS and one warning per number.

pub mod cred;
pub mod epoll;
pub mod fs;
pub mod info;
pub mod net;
pub mod nr;
pub mod priority;
pub mod process;
pub mod signal;
pub mod signalfd;
pub mod swapon;
pub mod time;
pub mod xattr;

use std::sync::atomic::{AtomicU64, Ordering};

use growsdown_cpu::{EAX, EBP, EBX, ECX, EDI, EDX, ESI};

use crate::errno::{to_eax, SysResult, ENOSYS};
use crate::Kernel;

pub use nr::*;

/// The six argument registers, in ABI order.
pub type Args = [u32; 6];

/// One warning per unimplemented syscall number (bit per number; the last word
/// covers every number past the table).
static WARNED: [AtomicU64; NR_SYSCALLS.div_ceil(64) + 1] =
    [const { AtomicU64::new(0) }; NR_SYSCALLS.div_ceil(64) + 1];

fn warn_once(nr: u32) -> bool {
    let i = (nr as usize).min(NR_SYSCALLS);
    let bit = 1u64 << (i % 64);
    WARNED[i / 64].fetch_or(bit, Ordering::Relaxed) & bit == 0
}

/// Handles the `int 0x80` the CPU just reported (EIP is past the instruction).
pub fn dispatch(k: &mut Kernel) {
    // A tracer writing to standard error holds its records until here: they come
    // out before anything the call writes.
    if let Some(obs) = k.observer.as_mut() {
        obs.before_syscall();
    }
    let r = &k.cpu.regs;
    let nr = r[EAX];
    let args: Args = [r[EBX], r[ECX], r[EDX], r[ESI], r[EDI], r[EBP]];
    if let Some(eax) = do_syscall(k, nr, args) {
        k.cpu.regs[EAX] = eax;
    }
}

/// Runs syscall `nr` with `args` and returns the value for EAX, or `None` when the
/// call does not return to the caller (exit) or set EAX itself.
///
/// A call that returns an `-ERESTART*` code (it sleeps, or a signal interrupts it)
/// leaves the call number in `orig_eax` for `do_signal`, which restarts it or makes
/// it fail with EINTR. The deadline of a timed wait lives only while the call
/// sleeps and is restarted.
pub fn do_syscall(k: &mut Kernel, nr: u32, a: Args) -> Option<u32> {
    crate::cred::sync_host(k);
    let res = call(k, nr, a)?;
    if matches!(res, Err(e) if crate::errno::is_restart(e)) {
        k.task.orig_eax = Some(nr);
    }
    if k.task.state.is_running() {
        k.task.timeout = None;
    }
    k.task.woken = false;
    let eax = to_eax(res);
    if log::log_enabled!(target: "kernel::syscall", log::Level::Debug) {
        log::debug!(target: "kernel::syscall", "{} = {}", format_call(nr, &a), format_result(res));
    }
    Some(eax)
}

/// The strace-like text of a call: `name(arg, arg, ...)`.
pub fn format_call(nr: u32, a: &Args) -> String {
    let args: Vec<String> = a[..nargs(nr)]
        .iter()
        .map(|&v| if v < 0x1_0000 { v.to_string() } else { format!("{v:#x}") })
        .collect();
    match name(nr) {
        Some(n) => format!("{n}({})", args.join(", ")),
        None => format!("syscall_{nr}({})", args.join(", ")),
    }
}

fn format_result(r: SysResult) -> String {
    match r {
        Ok(v) if v < 0x1_0000 => v.to_string(),
        Ok(v) => format!("{v:#x}"),
        Err(e) => format!("-{e} ({})", errno_name(e)),
    }
}

/// Short name of an errno for the log.
pub fn errno_name(e: i32) -> &'static str {
    match e {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EEXIST => "EEXIST",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EINVAL => "EINVAL",
        libc::EMFILE => "EMFILE",
        libc::ENOTTY => "ENOTTY",
        libc::ESPIPE => "ESPIPE",
        libc::EPIPE => "EPIPE",
        libc::ERANGE => "ERANGE",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::ENOSYS => "ENOSYS",
        libc::ENOTEMPTY => "ENOTEMPTY",
        libc::ELOOP => "ELOOP",
        libc::EOVERFLOW => "EOVERFLOW",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::ECHILD => "ECHILD",
        libc::E2BIG => "E2BIG",
        libc::ENOEXEC => "ENOEXEC",
        crate::errno::ERESTARTSYS => "ERESTARTSYS",
        crate::errno::ERESTARTNOINTR => "ERESTARTNOINTR",
        crate::errno::ERESTARTNOHAND => "ERESTARTNOHAND",
        _ => "E?",
    }
}

/// The dispatch table. `None`: the call set EAX itself or ended the task.
fn call(k: &mut Kernel, nr: u32, a: Args) -> Option<SysResult> {
    use self::cred as c;
    use self::fs as f;
    use self::info as i;
    use self::process as p;
    use self::signal as s;
    use self::time as t;
    let r = match nr {
        NR_EXIT | NR_EXIT_GROUP => {
            log::debug!(target: "kernel::syscall", "{}", format_call(nr, &a));
            if nr == NR_EXIT {
                p::sys_exit(k, a);
            } else {
                p::sys_exit_group(k, a);
            }
            return None;
        }
        NR_FORK => p::sys_fork(k, a),
        NR_VFORK => p::sys_vfork(k, a),
        NR_CLONE => p::sys_clone(k, a),
        NR_EXECVE => p::sys_execve(k, a),
        NR_PAUSE => s::sys_pause(k, a),
        NR_SIGSUSPEND => s::sys_sigsuspend(k, a),
        NR_RT_SIGSUSPEND => s::sys_rt_sigsuspend(k, a),
        NR_READ => f::sys_read(k, a),
        NR_WRITE => f::sys_write(k, a),
        NR_OPEN => f::sys_open(k, a),
        NR_CLOSE => f::sys_close(k, a),
        NR_CLOSE_RANGE => f::sys_close_range(k, a),
        NR_EVENTFD => f::sys_eventfd2(k, [a[0], 0, 0, 0, 0, 0]),
        NR_EVENTFD2 => f::sys_eventfd2(k, a),
        NR_MEMFD_CREATE => f::sys_memfd_create(k, a),
        NR_FADVISE64 => f::sys_fadvise64(k, a, false),
        NR_FADVISE64_64 => f::sys_fadvise64(k, a, true),
        NR_READAHEAD => f::sys_readahead(k, a),
        NR_SYNC_FILE_RANGE => f::sys_sync_file_range(k, a),
        NR_SIGNALFD => self::signalfd::sys_signalfd(k, a),
        NR_SIGNALFD4 => self::signalfd::sys_signalfd4(k, a),
        NR_STATFS => f::sys_statfs(k, a),
        NR_FSTATFS => f::sys_fstatfs(k, a),
        NR_SYNC => f::sys_sync(k, a),
        NR_SYNCFS => f::sys_syncfs(k, a),
        NR_UTIME => f::sys_utime(k, a),
        NR_UTIMES => f::sys_utimes(k, a),
        NR_GETCPU => crate::syscall::info::sys_getcpu(k, a),
        NR_CREAT => f::sys_creat(k, a),
        NR_UNLINK => f::sys_unlink(k, a),
        NR_CHDIR => f::sys_chdir(k, a),
        NR_TIME => t::sys_time(k, a),
        NR_ALARM => t::sys_alarm(k, a),
        NR_SETITIMER => t::sys_setitimer(k, a),
        NR_GETITIMER => t::sys_getitimer(k, a),
        NR_TIMER_CREATE => t::sys_timer_create(k, a),
        NR_TIMER_SETTIME => t::sys_timer_settime(k, a, false),
        NR_TIMER_SETTIME64 => t::sys_timer_settime(k, a, true),
        NR_TIMER_GETTIME => t::sys_timer_gettime(k, a, false),
        NR_TIMER_GETTIME64 => t::sys_timer_gettime(k, a, true),
        NR_TIMER_GETOVERRUN => t::sys_timer_getoverrun(k, a),
        NR_TIMER_DELETE => t::sys_timer_delete(k, a),
        NR_TIMERFD_CREATE => t::sys_timerfd_create(k, a),
        NR_TIMERFD_SETTIME => t::sys_timerfd_settime(k, a, false),
        NR_TIMERFD_SETTIME64 => t::sys_timerfd_settime(k, a, true),
        NR_TIMERFD_GETTIME => t::sys_timerfd_gettime(k, a, false),
        NR_TIMERFD_GETTIME64 => t::sys_timerfd_gettime(k, a, true),
        NR_LSEEK => f::sys_lseek(k, a),
        NR_GETPID => p::sys_getpid(k, a),
        NR_GETUID => c::sys_getuid16(k, a),
        NR_ACCESS => f::sys_access(k, a),
        NR_KILL => s::sys_kill(k, a),
        NR_RENAME => f::sys_rename(k, a),
        NR_MKDIR => f::sys_mkdir(k, a),
        NR_RMDIR => f::sys_rmdir(k, a),
        NR_DUP => f::sys_dup(k, a),
        NR_PIPE => f::sys_pipe(k, a),
        NR_TIMES => t::sys_times(k, a),
        NR_GETGID => c::sys_getgid16(k, a),
        NR_SIGNAL => s::sys_signal(k, a),
        NR_GETEUID => c::sys_geteuid16(k, a),
        NR_GETEGID => c::sys_getegid16(k, a),
        NR_IOCTL => f::sys_ioctl(k, a),
        NR_FCNTL | NR_FCNTL64 => f::sys_fcntl64(k, a),
        NR_FLOCK => crate::locks::sys_flock(k, a[0], a[1]),
        NR_UMASK => p::sys_umask(k, a),
        NR_DUP2 => f::sys_dup2(k, a),
        NR_GETPPID => p::sys_getppid(k, a),
        NR_GETPGRP => p::sys_getpgrp(k, a),
        NR_SIGACTION => s::sys_sigaction(k, a),
        NR_SIGPENDING => s::sys_sigpending(k, a),
        NR_SETRLIMIT => p::sys_setrlimit(k, a),
        NR_GETRLIMIT => p::sys_old_getrlimit(k, a),
        NR_GETRUSAGE => p::sys_getrusage(k, a),
        NR_GETTIMEOFDAY => t::sys_gettimeofday(k, a),
        NR_GETGROUPS => c::sys_getgroups16(k, a),
        NR_READLINK => f::sys_readlink(k, a),
        NR_FCHMOD => f::sys_fchmod(k, a),
        NR_CHMOD => f::sys_chmod(k, a),
        NR_GETPRIORITY => priority::sys_getpriority(k, a),
        NR_SETPRIORITY => priority::sys_setpriority(k, a),
        NR_NICE => priority::sys_nice(k, a),
        NR_PERSONALITY => p::sys_personality(k, a),
        NR_SCHED_GETSCHEDULER => priority::sys_sched_getscheduler(k, a),
        NR_SCHED_SETSCHEDULER => priority::sys_sched_setscheduler(k, a),
        NR_SCHED_GETPARAM => priority::sys_sched_getparam(k, a),
        NR_SCHED_SETPARAM => priority::sys_sched_setparam(k, a),
        NR_SCHED_GET_PRIORITY_MAX => priority::sys_sched_get_priority_max(k, a),
        NR_SCHED_GET_PRIORITY_MIN => priority::sys_sched_get_priority_min(k, a),
        NR_SCHED_RR_GET_INTERVAL => priority::sys_sched_rr_get_interval(k, a, false),
        NR_SCHED_RR_GET_INTERVAL_TIME64 => priority::sys_sched_rr_get_interval(k, a, true),
        NR_SYSINFO => i::sys_sysinfo(k, a),
        NR_SWAPON => swapon::sys_swapon(k, a),
        NR_SWAPOFF => swapon::sys_swapoff(k, a),
        NR_FSYNC => f::sys_fsync(k, a),
        NR_FDATASYNC => f::sys_fdatasync(k, a),
        NR_BRK => crate::mm::mmap::sys_brk(k, a),
        NR_MMAP => crate::mm::mmap::sys_old_mmap(k, a),
        NR_MUNMAP => crate::mm::mmap::sys_munmap(k, a),
        NR_MPROTECT => crate::mm::mmap::sys_mprotect(k, a),
        NR_MREMAP => crate::mm::mmap::sys_mremap(k, a),
        NR_MMAP2 => crate::mm::mmap::sys_mmap2(k, a),
        NR_MADVISE => crate::mm::mmap::sys_madvise(k, a),
        NR_MSYNC => crate::mm::filemap::sys_msync(k, a),
        NR_MINCORE => crate::mm::mincore::sys_mincore(k, a),
        NR_MLOCK => crate::mm::mlock::sys_mlock(k, a),
        NR_MLOCK2 => crate::mm::mlock::sys_mlock2(k, a),
        NR_MUNLOCK => crate::mm::mlock::sys_munlock(k, a),
        NR_MLOCKALL => crate::mm::mlock::sys_mlockall(k, a),
        NR_MUNLOCKALL => crate::mm::mlock::sys_munlockall(k, a),
        NR_TRUNCATE => f::sys_truncate(k, a),
        NR_FTRUNCATE => f::sys_ftruncate(k, a),
        NR_FALLOCATE => f::sys_fallocate(k, a),
        NR_SIGRETURN => return Some(Ok(crate::signal::sys_sigreturn(k))),
        NR_UNAME => i::sys_uname(k, a),
        NR_SIGPROCMASK => s::sys_sigprocmask(k, a),
        NR_GETPGID => p::sys_getpgid(k, a),
        NR_SETPGID => p::sys_setpgid(k, a),
        NR_SETSID => p::sys_setsid(k, a),
        NR_CAPGET => c::sys_capget(k, a),
        NR_FCHDIR => f::sys_fchdir(k, a),
        NR_LLSEEK => f::sys_llseek(k, a),
        NR_READV => f::sys_readv(k, a),
        NR_WRITEV => f::sys_writev(k, a),
        NR_GETSID => p::sys_getsid(k, a),
        NR_SCHED_YIELD => p::sys_sched_yield(k, a),
        NR_NANOSLEEP => t::sys_nanosleep(k, a),
        NR_POLL => f::sys_poll(k, a),
        NR_PPOLL => f::sys_ppoll(k, a, false),
        NR_PPOLL_TIME64 => f::sys_ppoll(k, a, true),
        NR_SELECT => f::sys_old_select(k, a),
        NR_EPOLL_CREATE => self::epoll::sys_epoll_create(k, a),
        NR_EPOLL_CREATE1 => self::epoll::sys_epoll_create1(k, a),
        NR_EPOLL_CTL => self::epoll::sys_epoll_ctl(k, a),
        NR_EPOLL_WAIT => self::epoll::sys_epoll_wait(k, a),
        NR_EPOLL_PWAIT => self::epoll::sys_epoll_pwait(k, a),
        NR_EPOLL_PWAIT2 => self::epoll::sys_epoll_pwait2(k, a),
        NR_RT_SIGRETURN => return Some(Ok(crate::signal::sys_rt_sigreturn(k))),
        NR_RT_SIGACTION => s::sys_rt_sigaction(k, a),
        NR_RT_SIGPROCMASK => s::sys_rt_sigprocmask(k, a),
        NR_RT_SIGPENDING => s::sys_rt_sigpending(k, a),
        NR_RT_SIGTIMEDWAIT => s::sys_rt_sigtimedwait(k, a, false),
        NR_RT_SIGTIMEDWAIT_TIME64 => s::sys_rt_sigtimedwait(k, a, true),
        NR_PREAD64 => f::sys_pread64(k, a),
        NR_PREADV => f::sys_preadv(k, a),
        NR_PWRITEV => f::sys_pwritev(k, a),
        NR_PREADV2 => f::sys_preadv2(k, a),
        NR_PWRITEV2 => f::sys_pwritev2(k, a),
        NR_PWRITE64 => f::sys_pwrite64(k, a),
        NR_GETCWD => f::sys_getcwd(k, a),
        NR_SIGALTSTACK => s::sys_sigaltstack(k, a),
        NR_UGETRLIMIT => p::sys_ugetrlimit(k, a),
        NR_FTRUNCATE64 => f::sys_ftruncate64(k, a),
        NR_STAT64 => f::sys_stat64(k, a),
        NR_LSTAT64 => f::sys_lstat64(k, a),
        NR_FSTAT64 => f::sys_fstat64(k, a),
        NR_GETUID32 => c::sys_getuid(k, a),
        NR_GETGID32 => c::sys_getgid(k, a),
        NR_GETEUID32 => c::sys_geteuid(k, a),
        NR_GETEGID32 => c::sys_getegid(k, a),
        NR_GETGROUPS32 => c::sys_getgroups(k, a),
        NR_GETRESUID32 => c::sys_getresuid(k, a),
        NR_GETRESGID32 => c::sys_getresgid(k, a),
        NR_GETRESUID => c::sys_getresuid16(k, a),
        NR_GETRESGID => c::sys_getresgid16(k, a),
        NR_SETUID32 => c::sys_setuid(k, a),
        NR_SETGID32 => c::sys_setgid(k, a),
        NR_SETREUID32 => c::sys_setreuid(k, a),
        NR_SETREGID32 => c::sys_setregid(k, a),
        NR_SETRESUID32 => c::sys_setresuid(k, a),
        NR_SETRESGID32 => c::sys_setresgid(k, a),
        NR_SETFSUID32 => c::sys_setfsuid(k, a),
        NR_SETFSGID32 => c::sys_setfsgid(k, a),
        NR_SETGROUPS32 => c::sys_setgroups(k, a),
        NR_SETUID => c::sys_setuid16(k, a),
        NR_SETGID => c::sys_setgid16(k, a),
        NR_SETREUID => c::sys_setreuid16(k, a),
        NR_SETREGID => c::sys_setregid16(k, a),
        NR_SETRESUID => c::sys_setresuid16(k, a),
        NR_SETRESGID => c::sys_setresgid16(k, a),
        NR_SETFSUID => c::sys_setfsuid16(k, a),
        NR_SETFSGID => c::sys_setfsgid16(k, a),
        NR_SETGROUPS => c::sys_setgroups16(k, a),
        NR_CAPSET => c::sys_capset(k, a),
        NR_GETDENTS64 => f::sys_getdents64(k, a),
        NR_GETTID => p::sys_gettid(k, a),
        NR_TKILL => s::sys_tkill(k, a),
        NR_FUTEX => crate::futex::sys_futex(k, a, false),
        NR_FUTEX_TIME64 => crate::futex::sys_futex(k, a, true),
        NR_SCHED_SETAFFINITY => p::sys_sched_setaffinity(k, a),
        NR_SCHED_GETAFFINITY => p::sys_sched_getaffinity(k, a),
        NR_SET_THREAD_AREA => p::sys_set_thread_area(k, a),
        NR_MODIFY_LDT => p::sys_modify_ldt(k, a),
        NR_GET_THREAD_AREA => p::sys_get_thread_area(k, a),
        NR_SET_TID_ADDRESS => p::sys_set_tid_address(k, a),
        NR_CLOCK_GETTIME => t::sys_clock_gettime(k, a, false),
        NR_CLOCK_GETTIME64 => t::sys_clock_gettime(k, a, true),
        NR_CLOCK_GETRES => t::sys_clock_getres(k, a, false),
        NR_CLOCK_GETRES_TIME64 => t::sys_clock_getres(k, a, true),
        NR_CLOCK_NANOSLEEP => t::sys_clock_nanosleep(k, a, false),
        NR_CLOCK_NANOSLEEP_TIME64 => t::sys_clock_nanosleep(k, a, true),
        NR_TGKILL => s::sys_tgkill(k, a),
        NR_RT_SIGQUEUEINFO => s::sys_rt_sigqueueinfo(k, a),
        NR_RT_TGSIGQUEUEINFO => s::sys_rt_tgsigqueueinfo(k, a),
        NR_OPENAT => f::sys_openat(k, a),
        NR_MKDIRAT => f::sys_mkdirat(k, a),
        NR_FSTATAT64 => f::sys_fstatat64(k, a),
        NR_UNLINKAT => f::sys_unlinkat(k, a),
        NR_RENAMEAT => f::sys_renameat(k, a),
        NR_READLINKAT => f::sys_readlinkat(k, a),
        NR_FCHMODAT => f::sys_fchmodat(k, a),
        NR_FACCESSAT => f::sys_faccessat(k, a),
        NR_FACCESSAT2 => f::sys_faccessat2(k, a),
        NR_SET_ROBUST_LIST => p::sys_set_robust_list(k, a),
        NR_GET_ROBUST_LIST => p::sys_get_robust_list(k, a),
        NR_DUP3 => f::sys_dup3(k, a),
        NR_PIPE2 => f::sys_pipe2(k, a),
        NR_PRLIMIT64 => p::sys_prlimit64(k, a),
        NR_RENAMEAT2 => f::sys_renameat2(k, a),
        NR_GETRANDOM => i::sys_getrandom(k, a),
        NR_STATX => f::sys_statx(k, a),
        // glibc registers rseq at start-up and copes with ENOSYS; not worth a warning.
        NR_RSEQ => Err(ENOSYS),
        NR_CLONE3 => crate::fork::sys_clone3(k, a[0], a[1]),
        NR_TRUNCATE64 => f::sys_truncate64(k, a),
        NR_SYMLINK => f::sys_symlink(k, a),
        NR_SYMLINKAT => f::sys_symlinkat(k, a),
        NR_LINK => f::sys_link(k, a),
        NR_LINKAT => f::sys_linkat(k, a),
        NR_CHOWN32 => f::sys_chown(k, a),
        NR_LCHOWN32 => f::sys_lchown(k, a),
        NR_FCHOWN32 => f::sys_fchown(k, a),
        NR_CHOWN => f::sys_chown(k, c::ids16(a, 1)),
        NR_LCHOWN => f::sys_lchown(k, c::ids16(a, 1)),
        NR_FCHOWN => f::sys_fchown(k, c::ids16(a, 1)),
        NR_FCHOWNAT => f::sys_fchownat(k, a),
        NR_UTIMENSAT => f::sys_utimensat(k, a, false),
        NR_UTIMENSAT_TIME64 => f::sys_utimensat(k, a, true),
        NR_STATFS64 => f::sys_statfs64(k, a),
        NR_FSTATFS64 => f::sys_fstatfs64(k, a),
        NR_SETXATTR => xattr::sys_setxattr(k, a),
        NR_LSETXATTR => xattr::sys_lsetxattr(k, a),
        NR_FSETXATTR => xattr::sys_fsetxattr(k, a),
        NR_GETXATTR => xattr::sys_getxattr(k, a),
        NR_LGETXATTR => xattr::sys_lgetxattr(k, a),
        NR_FGETXATTR => xattr::sys_fgetxattr(k, a),
        NR_LISTXATTR => xattr::sys_listxattr(k, a),
        NR_LLISTXATTR => xattr::sys_llistxattr(k, a),
        NR_FLISTXATTR => xattr::sys_flistxattr(k, a),
        NR_REMOVEXATTR => xattr::sys_removexattr(k, a),
        NR_LREMOVEXATTR => xattr::sys_lremovexattr(k, a),
        NR_FREMOVEXATTR => xattr::sys_fremovexattr(k, a),
        NR_SENDFILE => f::sys_sendfile(k, a, false),
        NR_SENDFILE64 => f::sys_sendfile(k, a, true),
        NR_WAIT4 => p::sys_wait4(k, a),
        NR_WAITID => crate::exit::sys_waitid(k, a[0], a[1], a[2], a[3], a[4]),
        NR_WAITPID => p::sys_waitpid(k, a),
        NR_PRCTL => p::sys_prctl(k, a),
        NR_NEWSELECT => f::sys_newselect(k, a),
        NR_PSELECT6 => f::sys_pselect6(k, a, false),
        NR_PSELECT6_TIME64 => f::sys_pselect6(k, a, true),
        NR_SOCKETCALL => self::net::sys_socketcall(k, a),
        NR_SOCKET => self::net::sys_socket(k, a),
        NR_SOCKETPAIR => self::net::sys_socketpair(k, a),
        NR_BIND => self::net::sys_bind(k, a),
        NR_CONNECT => self::net::sys_connect(k, a),
        NR_LISTEN => self::net::sys_listen(k, a),
        NR_ACCEPT4 => self::net::sys_accept4(k, a),
        NR_GETSOCKNAME => self::net::sys_getsockname(k, a),
        NR_GETPEERNAME => self::net::sys_getpeername(k, a),
        NR_SENDTO => self::net::sys_sendto(k, a),
        NR_RECVFROM => self::net::sys_recvfrom(k, a),
        NR_SETSOCKOPT => self::net::sys_setsockopt(k, a),
        NR_GETSOCKOPT => self::net::sys_getsockopt(k, a),
        NR_SHUTDOWN => self::net::sys_shutdown(k, a),
        NR_SENDMSG => self::net::sys_sendmsg(k, a),
        NR_RECVMSG => self::net::sys_recvmsg(k, a),
        NR_SENDMMSG => self::net::sys_sendmmsg(k, a),
        NR_RECVMMSG => self::net::sys_recvmmsg(k, a, false),
        NR_RECVMMSG_TIME64 => self::net::sys_recvmmsg(k, a, true),
        NR_IPC => crate::ipc::sys_ipc(k, a),
        NR_SHMGET => crate::ipc::sys_shmget(k, a),
        NR_SHMAT => crate::ipc::sys_shmat(k, a),
        NR_SHMDT => crate::ipc::sys_shmdt(k, a),
        NR_SHMCTL => crate::ipc::sys_shmctl(k, a),
        NR_SEMGET => crate::ipc::sys_semget(k, a),
        NR_SEMCTL => crate::ipc::sys_semctl(k, a),
        NR_SEMTIMEDOP_TIME64 => crate::ipc::sys_semtimedop(k, a),
        NR_MSGGET => crate::ipc::sys_msgget(k, a),
        NR_MSGSND => crate::ipc::sys_msgsnd(k, a),
        NR_MSGRCV => crate::ipc::sys_msgrcv(k, a),
        NR_MSGCTL => crate::ipc::sys_msgctl(k, a),
        _ => {
            if warn_once(nr) {
                match name(nr) {
                    Some(n) => {
                        log::warn!(target: "kernel::syscall", "unimplemented syscall {nr} ({n}): ENOSYS")
                    }
                    None => log::warn!(target: "kernel::syscall", "unknown syscall {nr}: ENOSYS"),
                }
            }
            Err(ENOSYS)
        }
    };
    Some(r)
}
