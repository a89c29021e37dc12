//! Signals sent to the growsdown host process, forwarded to the guest.
//!
//! Natively, `kill -TERM` of a program reaches that program; here the program is a
//! guest process inside one host process, so the host signal must be turned into a
//! guest one or the guest's handlers never run, `SIG_IGN` means nothing and the
//! default action kills the emulator rather than the guest (growsdown would not
//! report the guest's status).
//!
//! ## Which signals, to whom
//!
//! | host signal | guest target | why |
//! |---|---|---|
//! | SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGCONT | init (pid 1000), process-directed | `kill(2)` of the program's pid names one process: the first guest process is the one the user started |
//! | SIGINT, SIGQUIT, SIGWINCH | every guest process in init's process group | the terminal sends these to its whole foreground process group, which natively holds every guest process that did not `setpgid` away |
//!
//! Once the first process has exited and the others run on in a host child
//! (`Kernel::run_rest`, the CLI), every forwarded signal goes to each guest process
//! left: that host process stands for all of them.
//!
//! Not forwarded: SIGALRM (the emulator may use host timers), SIGPIPE (the
//! emulator's own writes see EPIPE; Rust ignores it), SIGCHLD (the host's children
//! are not guest processes), SIGKILL and SIGSTOP (cannot be caught: they act on the
//! host process, which is what a native kill would do to the program), and the
//! job-control stops SIGTSTP/SIGTTIN/SIGTTOU (the kernel has no job control: the
//! host process keeps its default action and stops as a whole). A signal that was
//! ignored when growsdown started (`nohup`, a shell's background `&` for SIGINT)
//! stays ignored in the host and is not forwarded.
//!
//! The guest sees `si_code` SI_USER and `si_pid` 0: natively `si_pid` is the
//! sender's host pid, which is no guest process.
//!
//! ## How
//!
//! The host handler only sets the signal's bit in one atomic word (async-signal
//! safe). The kernel looks at that word with one relaxed load each time `Cpu::run`
//! returns (every `Config::slice` instructions at most, and at every system call
//! and fault) and in the scheduler; [`forward`] then queues the guest signals, and
//! the usual `do_signal` delivers them. When every guest task sleeps, the host
//! `ppoll` is made with these signals blocked around the check and unblocked only
//! inside the call (the `pselect` pattern), so a signal arriving between the check
//! and the wait still ends the wait. Outside that wait the signals are not blocked
//! and the handlers are installed without SA_RESTART: a host call that blocks for a
//! single guest process (a read of the terminal, a nanosleep) returns EINTR, which
//! the guest sees as its call's EINTR, and the signal is forwarded right after.
//! A signal that arrives just before such a call starts is seen when it returns.
//!
//! Forwarding is on only with [`crate::Config::host_signals`] (the CLI sets it; the
//! kernel's own tests do not, and then a guest that can only be woken by a signal
//! is a deadlock, see [`crate::sched`]).

use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};

use crate::exit::INIT_PID;
use crate::signal::{self, sigmask, SigInfo, SI_USER};
use crate::Kernel;

/// (host signal, guest signal, sent to init's whole process group).
const FORWARDED: [(libc::c_int, i32, bool); 8] = [
    (libc::SIGHUP, signal::SIGHUP, false),
    (libc::SIGINT, signal::SIGINT, true),
    (libc::SIGQUIT, signal::SIGQUIT, true),
    (libc::SIGUSR1, signal::SIGUSR1, false),
    (libc::SIGUSR2, signal::SIGUSR2, false),
    (libc::SIGTERM, signal::SIGTERM, false),
    (libc::SIGCONT, signal::SIGCONT, false),
    (libc::SIGWINCH, signal::SIGWINCH, true),
];

/// Bit `i` set: host signal `FORWARDED[i]` arrived and has not been forwarded yet.
static PENDING: AtomicU32 = AtomicU32::new(0);
/// Bit `i` set: growsdown handles `FORWARDED[i]` (it was not ignored at start).
static INSTALLED: AtomicU32 = AtomicU32::new(0);
/// The thread that runs the kernel: a signal the host delivers to another thread
/// (the trace renderer) is passed on to it, so that its `ppoll` ends.
static KERNEL_TID: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    // Only async-signal-safe work: atomics and raw system calls.
    if let Some(i) = FORWARDED.iter().position(|f| f.0 == sig) {
        PENDING.fetch_or(1 << i, Ordering::Relaxed);
    }
    let main = KERNEL_TID.load(Ordering::Relaxed);
    // SAFETY: gettid, getpid and tgkill take no pointers and are async-signal-safe;
    // errno is the interrupted code's, so it is put back.
    unsafe {
        let errno = *libc::__errno_location();
        let me = libc::syscall(libc::SYS_gettid) as libc::c_int;
        if main != 0 && me != main {
            libc::syscall(libc::SYS_tgkill, libc::getpid(), main, sig);
        }
        *libc::__errno_location() = errno;
    }
}

/// Installs the host handlers, once per host process, from the thread that will
/// run the kernel.
pub fn install() -> Result<(), String> {
    // SAFETY: gettid takes no arguments.
    let tid = unsafe { libc::syscall(libc::SYS_gettid) } as libc::c_int;
    KERNEL_TID.store(tid, Ordering::Relaxed);
    if INSTALLED.load(Ordering::Relaxed) != 0 {
        return Ok(());
    }
    let mut installed = 0;
    for (i, &(host, _, _)) in FORWARDED.iter().enumerate() {
        // SAFETY: `old` and `new` are valid sigaction structures for the calls; the
        // handler does only async-signal-safe work.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(host, std::ptr::null(), &mut old) != 0 {
                return Err(format!("sigaction({host}): {}", std::io::Error::last_os_error()));
            }
            if old.sa_sigaction == libc::SIG_IGN {
                continue;
            }
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            // No SA_RESTART: a blocking host call for the guest must end.
            new.sa_flags = 0;
            libc::sigemptyset(&mut new.sa_mask);
            if libc::sigaction(host, &new, std::ptr::null_mut()) != 0 {
                return Err(format!("sigaction({host}): {}", std::io::Error::last_os_error()));
            }
        }
        installed |= 1 << i;
    }
    INSTALLED.store(installed, Ordering::Relaxed);
    Ok(())
}

/// What execve(2) keeps of the caller's signal state: ignored actions stay ignored,
/// and the blocked mask stays (`flush_signal_handlers` resets only handled ones). The
/// first guest process stands for the program the user started, so it starts with
/// the actions and mask growsdown itself was started with (`nohup` ignores SIGHUP; a
/// non-interactive shell's `&` ignores SIGINT and SIGQUIT). Except SIGPIPE: Rust's
/// runtime ignores it in every program before `main`, so what growsdown was started
/// with is lost; the guest gets the default, which a parent's `SIG_IGN` is rarely.
pub fn inherit_from_host(k: &mut Kernel) {
    for sig in 1..=64 {
        if matches!(sig, signal::SIGKILL | signal::SIGSTOP | signal::SIGPIPE) {
            continue;
        }
        // The raw call (the kernel's layout: handler, flags, restorer, mask) also
        // answers for 32 and 33, which glibc's sigaction refuses.
        let mut old = [0u64; 4];
        // SAFETY: no new action; `old` has room for the kernel's struct sigaction.
        let r = unsafe {
            libc::syscall(libc::SYS_rt_sigaction, sig, std::ptr::null::<u8>(), old.as_mut_ptr(), 8usize)
        };
        if r == 0 && old[0] == libc::SIG_IGN as u64 {
            if let Some(a) = k.task.sig.action_mut(sig) {
                a.handler = signal::SIG_IGN;
            }
        }
    }
    // SAFETY: an empty set to fill; `how` is ignored without a new set.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: reads this thread's mask into `set`.
    if unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut set) } == 0 {
        let unblockable = sigmask(signal::SIGKILL) | sigmask(signal::SIGSTOP);
        for sig in 1..=64 {
            // SAFETY: `set` is an initialised sigset_t.
            if unsafe { libc::sigismember(&set, sig) } == 1 {
                k.task.sig.blocked |= sigmask(sig) & !unblockable;
            }
        }
    }
}

/// A host signal waits to be forwarded: one relaxed load, cheap enough for every
/// return from `Cpu::run`.
#[inline]
pub fn pending() -> bool {
    PENDING.load(Ordering::Relaxed) != 0
}

/// Queues the guest signals for the host signals that arrived (see the module doc).
pub fn forward(k: &mut Kernel) {
    let bits = PENDING.swap(0, Ordering::Relaxed);
    for (i, &(_, sig, group)) in FORWARDED.iter().enumerate() {
        if bits & (1 << i) == 0 {
            continue;
        }
        let to = targets(k, group);
        log::debug!(target: "kernel::signal", "host signal {} forwarded to guest processes {to:?}", signal::signal_name(sig));
        for tgid in to {
            signal::group_send_sig_info(k, tgid, SigInfo::user(sig, SI_USER, 0, signal::host_uid()));
        }
    }
}

/// The guest processes a forwarded signal goes to: init, or every live process in
/// init's process group.
fn targets(k: &Kernel, group: bool) -> Vec<u32> {
    if k.first_gone {
        // The first process has gone (`Kernel::run_rest`): the host process now
        // stands for the guest processes left, and each of them gets the signal.
        let mut v: Vec<u32> = k.all_tasks().filter(|t| !t.state.is_zombie()).map(|t| t.tgid).collect();
        v.sort_unstable();
        v.dedup();
        return v;
    }
    let Some(pgid) = k.find_task(INIT_PID).map(|t| t.pgid) else {
        return vec![INIT_PID];
    };
    if !group {
        return vec![INIT_PID];
    }
    // A host-run process (crate::hostproc) is in growsdown's own host process group:
    // the terminal's signal has reached it already.
    let mut v: Vec<u32> = k
        .all_tasks()
        .filter(|t| t.pgid == pgid && !t.state.is_zombie() && t.host.is_none())
        .map(|t| t.tgid)
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Whether some forwarded host signal could still wake a sleeping guest task: one
/// of its targets has a thread that neither blocks it (with the mask it waits with)
/// nor ignores it. If none could, waiting for one would be waiting forever.
pub fn could_wake(k: &Kernel) -> bool {
    let installed = INSTALLED.load(Ordering::Relaxed);
    FORWARDED.iter().enumerate().filter(|(i, _)| installed & (1 << i) != 0).any(|(_, &(_, sig, group))| {
        targets(k, group).into_iter().any(|tgid| {
            k.live_threads(tgid).any(|t| {
                wait_mask(t) & sigmask(sig) == 0
                    && !signal::ignores(k.action_of(t, sig), sig)
            })
        })
    })
}

/// The host `ppoll` of a scheduler with every task asleep, ended early by a host
/// signal to forward (see the module doc).
pub fn ppoll(fds: &mut [libc::pollfd], timeout: Option<&libc::timespec>) {
    let set = signal_set();
    let tsp = timeout.map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `set` and `old` are valid sigset_t; `fds` holds `fds.len()` pollfd
    // structures and `tsp` is NULL or points at the caller's timespec.
    unsafe {
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
        if !pending() {
            let mut during = old;
            for (host, _, _) in FORWARDED {
                libc::sigdelset(&mut during, host);
            }
            libc::ppoll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, tsp, &during);
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
    }
}

/// The signals that do not wake task `t` from its sleep: the mask it waits with
/// (sigsuspend's, ppoll's) or its blocked set.
fn wait_mask(t: &crate::task::Task) -> u64 {
    use crate::sched::{TaskState, WaitOn};
    match &t.state {
        TaskState::Interruptible(WaitOn::Signal { mask, .. })
        | TaskState::Interruptible(WaitOn::Poll { sigmask: Some(mask), .. }) => *mask,
        _ => t.sig.blocked,
    }
}

fn signal_set() -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset initialise and fill a local sigset_t.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for (host, _, _) in FORWARDED {
            libc::sigaddset(&mut set, host);
        }
        set
    }
}
