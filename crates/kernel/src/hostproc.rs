//! Host-run processes: a guest `execve` of a program that is not i386 (an x86-64
//! ELF, or a `#!` script whose interpreter is one) replaces the guest process by a
//! host process, as qemu-user's binfmt setup would run it (issue 14).
//!
//! The boundary: the host program is not emulated, not traced and not difftested.
//! The guest kernel keeps only its identity — the guest task keeps its pid, tgid,
//! parent, process group, session, credentials and exit signal — so that the guest
//! can `wait4` for it, `kill` it and get SIGCHLD when it ends:
//!
//! * [`spawn`] starts a child (clone with CLONE_VM | CLONE_VFORK, as posix_spawn
//!   does) and execs the program in it with what `execve` hands a new program
//!   natively: the guest's descriptors at their guest numbers (the host fds behind
//!   them; close-on-exec ones are not passed; the emulator's own descriptors never
//!   reach it), argv (argv[0] as given) and envp, the task's working directory and
//!   umask, its signal dispositions as exec leaves them (ignored stay ignored,
//!   everything else default), its blocked mask, and the resource limits the guest
//!   changed (CPU, FSIZE, CORE, NOFILE, STACK). A failing host `execve` comes back
//!   through a close-on-exec pipe before the guest's point
//!   of no return, so execve returns the host's errno and the old program goes on.
//! * The guest task then gives back its address space, files, working directory and
//!   handlers as an exiting task does, and sleeps on [`WaitOn::Host`] with a pidfd,
//!   which the all-asleep `ppoll` of [`crate::sched`] waits on. It never runs guest
//!   code again. [`reap`], called whenever the scheduler looks for work, asks each
//!   such pidfd `waitid(P_PIDFD, WEXITED | WNOHANG)`; once the host process has
//!   ended, the task is scheduled once and exits with that status (exit code, or
//!   signal and core-dump flag) through the usual `do_exit`: SIGCHLD to the guest
//!   parent, a zombie for wait4/waitid, the host's rusage (times, page faults).
//! * Signals the guest sends to the task (kill, tkill, tgkill, a process group, a
//!   child's SIGCHLD, a timer) go to the host process with `pidfd_send_signal`
//!   ([`forward_signal`]): i386 and x86-64 signal numbers agree. The receiver sees
//!   the emulator's host pid as the sender, not the guest sender's pid.
//!
//! Limits (documented in docs/architecture.md): the host program's own children are
//! host processes the guest does not see; guest children the exec'ing process had
//! stay its children but cannot be waited for by the host program (they are
//! reparented when it ends); after the first guest process has gone and the others
//! run on in a host child of growsdown (`Kernel::run_rest`), a host-run process
//! started before is no longer a child of that process: its end is still seen, but
//! reported as exit status 0.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::errno::{Errno, EIO};
use crate::run::ExitStatus;
use crate::sched::{TaskState, WaitOn};
use crate::signal::{SigInfo, SIGKILL, SIGSTOP, SIG_IGN};
use crate::task::{Rlimit, RLIMIT_CORE, RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_STACK, RLIM_INFINITY};
use crate::Kernel;

/// waitid's idtype for a pidfd (linux/wait.h).
const P_PIDFD: i32 = 3;

/// The host process behind a host-run guest task.
#[derive(Debug)]
pub struct HostProc {
    /// Its host pid (logs only: signals and waits go through the pidfd).
    pub pid: i32,
    /// `None` once it has been reaped.
    pub pidfd: Option<OwnedFd>,
    /// How it ended, until the task's `do_exit` takes it.
    pub exit: Option<ExitStatus>,
    /// The host's rusage of it, once reaped (`ru_utime`, `ru_stime` in µs).
    pub utime_us: u64,
    pub stime_us: u64,
}

/// Everything the host child needs, prepared before the clone (the child makes no
/// allocation: it only makes system calls).
pub struct SpawnSpec {
    path: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
    /// (guest fd, host fd) of every descriptor the program gets.
    fds: Vec<(i32, i32)>,
    cwd: Option<i32>,
    umask: u32,
    /// Signals (bit `sig - 1`) the program starts with ignored.
    ignored: u64,
    blocked: u64,
    rlimits: Vec<(i32, Rlimit)>,
}

fn cstring(b: &[u8]) -> Result<CString, Errno> {
    // A guest string never holds a NUL (strncpy_from_user stops there).
    CString::new(b).map_err(|_| libc::EINVAL)
}

/// The limits a host program gets from the guest: those whose guest value is not
/// the guest kernel's default (the guest, or `--stack-limit`, set them). The
/// defaults are 2.4's `INIT_RLIMITS`, not the host's: passing them would lower the
/// host program's limits below what natively it would inherit.
fn changed_rlimits(rlim: &[Rlimit]) -> Vec<(i32, Rlimit)> {
    let defaults = crate::task::default_rlimits();
    let host_res = [
        (RLIMIT_CPU, libc::RLIMIT_CPU),
        (RLIMIT_FSIZE, libc::RLIMIT_FSIZE),
        (RLIMIT_CORE, libc::RLIMIT_CORE),
        (RLIMIT_NOFILE, libc::RLIMIT_NOFILE),
        (RLIMIT_STACK, libc::RLIMIT_STACK),
    ];
    host_res
        .iter()
        .filter(|&&(g, _)| rlim.get(g) != defaults.get(g))
        .filter_map(|&(g, h)| Some((h as i32, *rlim.get(g)?)))
        .collect()
}

impl SpawnSpec {
    /// What the current task hands the host program at `path` (a host path).
    pub fn from_task(k: &Kernel, path: &str, argv: &[Vec<u8>], envp: &[Vec<u8>]) -> Result<Self, Errno> {
        let t = &k.task;
        let fds = t
            .files
            .fds
            .iter()
            .enumerate()
            .filter_map(|(g, f)| f.as_ref().filter(|f| !f.cloexec).map(|f| (g as i32, f.host_fd)))
            .collect();
        let mut ignored = 0u64;
        for sig in 1..=crate::signal::NSIG {
            if t.sig.action(sig).handler == SIG_IGN {
                ignored |= crate::signal::sigmask(sig);
            }
        }
        Ok(Self {
            path: cstring(path.as_bytes())?,
            argv: argv.iter().map(|a| cstring(a)).collect::<Result<_, _>>()?,
            envp: envp.iter().map(|e| cstring(e)).collect::<Result<_, _>>()?,
            fds,
            cwd: t.fs.cwd.as_ref().map(|c| c.as_raw_fd()),
            umask: t.fs.umask,
            ignored,
            blocked: t.sig.blocked,
            rlimits: changed_rlimits(&t.rlim),
        })
    }
}

/// The kernel's `struct sigaction` of an x86-64 host (`rt_sigaction` with an 8-byte
/// mask): only SIG_DFL and SIG_IGN are set with it, which need no restorer.
#[repr(C)]
struct HostSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}
const _: () = assert!(std::mem::size_of::<HostSigaction>() == 32);

fn cvec(v: &[CString]) -> Vec<*const libc::c_char> {
    v.iter().map(|s| s.as_ptr()).chain(std::iter::once(std::ptr::null())).collect()
}

/// Forks and execs the program of `spec`; returns its pid and a pidfd, or the errno
/// of the host's `execve` (or of the clone).
pub fn spawn(spec: &SpawnSpec) -> Result<(i32, OwnedFd), Errno> {
    let argv = cvec(&spec.argv);
    let envp = cvec(&spec.envp);
    let mut tmp = vec![0i32; spec.fds.len()];
    let mut pipe = [0i32; 2];
    // SAFETY: `pipe` is two writable ints.
    if unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(errno());
    }
    // SAFETY: both descriptors are new and ours.
    let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(pipe[0]), OwnedFd::from_raw_fd(pipe[1])) };
    // Temporary copies go at or above every descriptor the child still needs, so
    // that moving one to its guest number never overwrites another.
    let base = spec
        .fds
        .iter()
        .flat_map(|&(g, h)| [g, h])
        .chain([pipe[0], pipe[1], spec.cwd.unwrap_or(0)])
        .max()
        .unwrap_or(0)
        + 1;
    // posix_spawn's way (clone with CLONE_VM | CLONE_VFORK on a stack of its own):
    // the child shares the emulator's memory until its execve, so neither the page
    // tables nor the guest's memory are copied and no page becomes copy-on-write;
    // the emulator waits meanwhile. Every signal is blocked around the clone, so no
    // handler of the emulator's runs in the child before it resets the dispositions.
    let mut args = ChildArgs { spec, argv: &argv, envp: &envp, tmp: &mut tmp, err: wr.as_raw_fd(), base };
    let mut stack = vec![0u8; CHILD_STACK];
    // The top of the stack, 16-byte aligned, as the x86-64 ABI wants it.
    let top = stack.as_mut_ptr().wrapping_add(CHILD_STACK);
    let top = top.wrapping_sub(top as usize % 16);
    let all = u64::MAX;
    let mut old = 0u64;
    // SAFETY: rt_sigprocmask with pointers to two local u64 sets (8 bytes).
    unsafe { libc::syscall(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK, &all as *const u64, &mut old as *mut u64, 8usize) };
    // SAFETY: `child_entry` runs on `stack`, which outlives the child's use of it (the
    // caller is suspended until the child execs or exits: CLONE_VFORK); `args`
    // points at live locals for the same time.
    let pid = unsafe {
        libc::clone(
            child_entry,
            top.cast(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            (&mut args as *mut ChildArgs).cast(),
        )
    };
    let clone_err = errno();
    // SAFETY: as above, restoring the saved mask.
    unsafe { libc::syscall(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK, &old as *const u64, std::ptr::null::<u8>(), 8usize) };
    drop(stack);
    if pid < 0 {
        return Err(clone_err);
    }
    drop(wr);
    // SAFETY: pidfd_open(pid, 0) on our own, not yet reaped child.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32;
    let pidfd_err = errno();
    let mut buf = [0u8; 4];
    let n = loop {
        // SAFETY: reads at most 4 bytes into `buf`.
        let n = unsafe { libc::read(rd.as_raw_fd(), buf.as_mut_ptr().cast(), 4) };
        if n >= 0 || errno() != libc::EINTR {
            break n;
        }
    };
    if n > 0 || pidfd < 0 {
        // The host refused the program (or it cannot be watched): the child is gone
        // or goes now; reap it so that it leaves no zombie.
        if n <= 0 {
            // SAFETY: kill and waitpid of our own child; no pointers but a null status.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        // SAFETY: waitpid of our own child with a null status pointer.
        unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
        if pidfd >= 0 {
            // SAFETY: closing the pidfd we just opened.
            unsafe { libc::close(pidfd) };
        }
        return Err(if n == 4 {
            i32::from_ne_bytes(buf)
        } else if pidfd < 0 {
            pidfd_err
        } else {
            EIO
        });
    }
    // SAFETY: a new descriptor nobody else owns.
    Ok((pid, unsafe { OwnedFd::from_raw_fd(pidfd) }))
}

fn errno() -> Errno {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(EIO)
}

/// The child's stack: the child runs only [`child`], which makes system calls.
const CHILD_STACK: usize = 64 * 1024;

/// What [`child_entry`] gets through clone's argument.
struct ChildArgs<'a> {
    spec: &'a SpawnSpec,
    argv: &'a [*const libc::c_char],
    envp: &'a [*const libc::c_char],
    tmp: &'a mut [i32],
    err: i32,
    base: i32,
}

extern "C" fn child_entry(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `ChildArgs` of `spawn`, alive while the parent waits.
    let a = unsafe { &mut *arg.cast::<ChildArgs>() };
    // SAFETY: this is the clone child of `spawn`.
    unsafe { child(a.spec, a.argv, a.envp, a.tmp, a.err, a.base) }
}

/// The clone child: sets up what exec hands the program (see the module doc) and
/// execs it; on failure writes the errno to `err` and exits 127.
///
/// # Safety
/// Only in the clone child of `spawn`: it shares the parent's memory and writes
/// nothing of it but `tmp`; every pointer comes from the parent's prepared memory.
unsafe fn child(
    spec: &SpawnSpec,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
    tmp: &mut [i32],
    err: i32,
    base: i32,
) -> ! {
    let fail = |e: i32| -> ! {
        let b = e.to_ne_bytes();
        // SAFETY: writes 4 bytes from `b`; _exit ends the child without unwinding.
        unsafe {
            libc::write(err, b.as_ptr().cast(), 4);
            libc::_exit(127)
        }
    };
    // Every descriptor the emulator has is closed at exec unless it becomes a guest fd.
    // SAFETY: close_range has no pointer arguments.
    if unsafe { libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, libc::CLOSE_RANGE_CLOEXEC) } < 0 {
        fail(errno());
    }
    if let Some(cwd) = spec.cwd {
        // SAFETY: fchdir on a descriptor the task's fs holds.
        if unsafe { libc::fchdir(cwd) } < 0 {
            fail(errno());
        }
    }
    // SAFETY: umask, rt_sigaction and rt_sigprocmask with pointers to locals.
    unsafe {
        libc::umask(spec.umask as libc::mode_t);
        for sig in 1..=64i32 {
            if sig == SIGKILL || sig == SIGSTOP {
                continue;
            }
            let ign = spec.ignored & crate::signal::sigmask(sig) != 0;
            let act = HostSigaction { handler: if ign { libc::SIG_IGN } else { libc::SIG_DFL }, flags: 0, restorer: 0, mask: 0 };
            libc::syscall(libc::SYS_rt_sigaction, sig, &act as *const HostSigaction, std::ptr::null::<u8>(), 8usize);
        }
        libc::syscall(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK, &spec.blocked as *const u64, std::ptr::null::<u8>(), 8usize);
        for &(res, r) in &spec.rlimits {
            let conv = |v: u64| if v == RLIM_INFINITY { libc::RLIM_INFINITY } else { v as libc::rlim_t };
            let lim = libc::rlimit { rlim_cur: conv(r.cur), rlim_max: conv(r.max) };
            // A limit the host refuses (a hard limit above ours) is left as it is.
            libc::setrlimit(res as _, &lim);
        }
    }
    // The guest fds: first out of the way (at `base` or above, close-on-exec), then
    // onto their guest numbers (dup2 clears close-on-exec there).
    for (slot, &(_, h)) in tmp.iter_mut().zip(&spec.fds) {
        // SAFETY: fcntl without pointers.
        let t = unsafe { libc::fcntl(h, libc::F_DUPFD_CLOEXEC, base) };
        if t < 0 {
            fail(errno());
        }
        *slot = t;
    }
    // SAFETY: fcntl without pointers.
    let err = match unsafe { libc::fcntl(err, libc::F_DUPFD_CLOEXEC, base) } {
        e if e >= 0 => e,
        _ => err,
    };
    for (&t, &(g, _)) in tmp.iter().zip(&spec.fds) {
        // SAFETY: dup2 without pointers.
        if unsafe { libc::dup2(t, g) } < 0 {
            fail(errno());
        }
    }
    // SAFETY: argv and envp are NULL-terminated arrays of C strings that live in the
    // parent's (copied) memory.
    unsafe { libc::execve(spec.path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    let e = errno();
    let b = e.to_ne_bytes();
    // SAFETY: as in `fail`, with the moved error descriptor.
    unsafe {
        libc::write(err, b.as_ptr().cast(), 4);
        libc::_exit(127)
    }
}

/// The host process of guest task `tid`, if it is a host-run task whose program has
/// not ended.
fn live_host(k: &Kernel, tid: u32) -> Option<&HostProc> {
    k.find_task(tid)?.host.as_deref()
}

/// `kill`/`tkill`/`tgkill`/a process-directed signal to a host-run task: sent to
/// the host process (`pidfd_send_signal`, which cannot reach a recycled pid). `None`
/// if `tid` is not host-run (the caller queues the signal as usual); `Some(true)`
/// otherwise (a program that has just ended drops it, as a zombie would).
pub fn forward_signal(k: &Kernel, tid: u32, sig: i32) -> Option<bool> {
    let h = live_host(k, tid)?;
    if let Some(fd) = &h.pidfd {
        if h.exit.is_none() && sig > 0 {
            // SAFETY: pidfd_send_signal on our pidfd with a null siginfo (the kernel
            // fills SI_USER as kill(2) does).
            let r = unsafe {
                libc::syscall(libc::SYS_pidfd_send_signal, fd.as_raw_fd(), sig, std::ptr::null::<u8>(), 0u32)
            };
            log::debug!(target: "kernel::signal", "signal {sig} to pid {tid}: host pid {} ({r})", h.pid);
        }
    }
    Some(true)
}

/// Finds host-run tasks whose program has ended (`waitid(P_PIDFD, WNOHANG)`) and
/// makes them runnable: the scheduler then switches to each and [`take_exit`] ends it.
pub fn reap(k: &mut Kernel) {
    let ended: Vec<(u32, ExitStatus, u64, u64, u64, u64)> = k
        .all_tasks()
        .filter(|t| matches!(t.state, TaskState::Interruptible(WaitOn::Host { .. })))
        .filter_map(|t| {
            let h = t.host.as_ref()?;
            let fd = h.pidfd.as_ref()?;
            poll_exit(fd.as_raw_fd()).map(|(st, ru)| {
                (t.pid, st, tv_us(&ru.ru_utime), tv_us(&ru.ru_stime), ru.ru_minflt as u64, ru.ru_majflt as u64)
            })
        })
        .collect();
    for (pid, st, ut, stime, minflt, majflt) in ended {
        let t = if k.task.pid == pid { Some(&mut k.task) } else { k.tasks.get_mut(&pid) };
        let Some(t) = t else { continue };
        log::debug!(target: "kernel::sched", "pid {pid}: its host program ended: {st:?}");
        t.state = TaskState::Running;
        // The process's counts go on across exec, natively too.
        t.min_flt += minflt;
        t.maj_flt += majflt;
        if let Some(h) = t.host.as_mut() {
            h.exit = Some(st);
            h.pidfd = None;
            h.utime_us = ut;
            h.stime_us = stime;
        }
    }
}

fn tv_us(t: &libc::timeval) -> u64 {
    (t.tv_sec as u64).saturating_mul(1_000_000).saturating_add(t.tv_usec as u64)
}

/// `waitid(P_PIDFD, fd, WEXITED | WNOHANG)` with the host's rusage: the status if
/// the process has ended (and is now reaped). A process that is not the emulator's
/// child (see the module doc) is reported as exit 0 once its pidfd is readable.
fn poll_exit(fd: i32) -> Option<(ExitStatus, libc::rusage)> {
    // SAFETY: zeroed plain C structures.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waitid with pointers to the two locals.
    let r = unsafe {
        libc::syscall(libc::SYS_waitid, P_PIDFD, fd, &mut info as *mut _, libc::WEXITED | libc::WNOHANG, &mut ru as *mut _)
    };
    if r < 0 {
        if errno() == libc::ECHILD && crate::sched::host_ready(fd, libc::POLLIN) {
            return Some((ExitStatus::Exited(0), ru));
        }
        return None;
    }
    // SAFETY: waitid filled `info` (si_pid 0: nothing has ended yet).
    let (pid, status) = unsafe { (info.si_pid(), info.si_status()) };
    if pid == 0 {
        return None;
    }
    let st = match info.si_code {
        libc::CLD_EXITED => ExitStatus::Exited(status),
        code => ExitStatus::Signaled {
            signo: status,
            info: SigInfo::kernel(status),
            eip: 0,
            core: code == libc::CLD_DUMPED,
        },
    };
    Some((st, ru))
}

/// After the scheduler switched to a task: if it is a host-run task whose program has
/// ended, starts its exit (the run loop's `settle` runs `do_exit` with the status).
pub fn take_exit(k: &mut Kernel) -> bool {
    let Some(st) = k.task.host.as_mut().and_then(|h| h.exit.take()) else { return false };
    k.exit_status = Some(st);
    true
}

/// The machine ends while `t`'s host program runs ([`crate::exit::exit_machine`],
/// which kills every other guest process): it is killed with SIGKILL and reaped, so
/// that a library user's machine leaves no process behind. (The CLI keeps the
/// others running instead, `Config::keep_others`: then this is not reached while one
/// lives.)
pub fn kill_with_machine(t: &mut crate::task::Task) {
    let Some(fd) = t.host.as_mut().and_then(|h| h.pidfd.take()) else { return };
    // SAFETY: pidfd_send_signal and waitid on our pidfd; null siginfo and rusage.
    unsafe {
        libc::syscall(libc::SYS_pidfd_send_signal, fd.as_raw_fd(), SIGKILL, std::ptr::null::<u8>(), 0u32);
        let mut info: libc::siginfo_t = std::mem::zeroed();
        libc::syscall(libc::SYS_waitid, P_PIDFD, fd.as_raw_fd(), &mut info as *mut _, libc::WEXITED, std::ptr::null::<u8>());
    }
    log::debug!(target: "kernel::sched", "pid {}: its host program is killed with the machine", t.pid);
}
