//! Processes and the scheduler: 2.4's `kernel/sched.c` (`schedule`, `switch_to`,
//! `schedule_tail`, the interruptible sleeps of wait queues) for one CPU.
//!
//! ## Current and the others
//!
//! `k.task` is always the process that runs (2.4's `current`), so every other part of
//! the kernel keeps working on it; the other processes wait in `k.tasks`, keyed by
//! pid. [`switch_to`] is the context switch:
//!
//! 1. the outgoing task's user context — general registers, EIP, EFLAGS, the six
//!    segment registers, the TLS descriptors in GDT entries 6–8, the LDT, the x87
//!    state and its count of retired instructions — is saved in its [`Context`];
//! 2. the tasks trade places (the outgoing one goes into `k.tasks`, or is dropped if
//!    it was reaped at exit);
//! 3. the incoming context is restored, and DS/ES/FS/GS are reloaded from their
//!    selectors, as 2.4's `__switch_to` does (a TLS descriptor set by clone's
//!    CLONE_SETTLS takes effect this way);
//! 4. `switch_mm`: CR3 is loaded with the incoming page directory, a full flush of
//!    the non-global TLB entries (linux24.md §5.6);
//! 5. the objects the incoming task uses — address space, files, working directory
//!    and umask, signal handlers, thread group — are handed over ([`crate::share`]):
//!    between threads of one process nothing moves but the registers, and CR3 is not
//!    reloaded.
//!
//! None of this happens while there is one process: the run loop in
//! [`crate::run`] is then the same loop as before processes existed.
//!
//! ## Sleeping
//!
//! Nothing sleeps *inside* the kernel here: the emulator is one host thread, and a
//! host call that blocks would stop every guest process. A system call that must wait
//! (a pipe read with nothing in the pipe, wait4 with no zombie, nanosleep, …) instead
//! records what it waits for in the task state ([`TaskState::Interruptible`] with a
//! [`WaitOn`]) and returns `-ERESTARTSYS` or `-ERESTARTNOHAND`. On the way back to
//! user mode `do_signal` restarts the call — EIP goes back over `int 0x80`, EAX is the
//! call number again, exactly 2.4's restart — and the scheduler runs someone else.
//! When the condition may hold, the task runs again and re-executes the call from
//! scratch, which now completes (or sleeps again). A signal wakes an interruptible
//! sleeper too; the re-executed call then sees `signal_pending` and returns its
//! restart code at once, and `do_signal` turns that into EINTR or a restart as 2.4's
//! `handle_signal` does. The re-executed `int 0x80` is not counted twice in the
//! task's instruction count.
//!
//! Readiness of file descriptors is asked of the host with `poll(fd, 0)` while there
//! are several processes; with one, calls block in the host as before. When every
//! process sleeps, the emulator waits in one host `ppoll` over every descriptor a
//! process waits for, with the earliest nanosleep/poll deadline as its timeout. If
//! nothing at all could wake anyone (every process waits for another one, or for a
//! signal only another process could send), the machine is deadlocked: as for a
//! futex wait that no thread can end, init is killed with SIGKILL and the machine
//! ends, with an error in the log, instead of hanging.
//!
//! Signals sent to the growsdown process change what "nothing could wake anyone"
//! means. With `Config::host_signals` (the CLI's `run` and `trace`), they are
//! forwarded to the guest ([`crate::hostsig`]), so a guest whose tasks all wait for
//! a signal — every process in `pause()` — is not deadlocked: as natively, it waits
//! (in the same `ppoll`, which those host signals interrupt) until someone sends
//! one. It is still a deadlock if no forwarded signal could wake it: each is
//! blocked or ignored by every thread it would go to. Without host signals (the
//! kernel's own tests, difftest) a signal-only wait is a deadlock as before, so a
//! test cannot hang.
//!
//! ## Policy
//!
//! Round robin: the current task runs until it sleeps, exits, or has retired
//! `config.slice` instructions; then the next runnable task in pid order after it
//! (wrapping) runs, the current one last. A new child is queued and the parent goes on
//! (2.4's `do_fork` does not run the child first). Decisions depend only on the
//! instruction counts and on the state of the guest's own pipes and processes, never
//! on host time — except that a nanosleep or a timed poll ends when the host clock
//! says so — so runs and their fault traces are reproducible.
//!
//! One kernel task runs besides: `kswapd` ([`crate::mm::vmscan::kswapd`]), once an
//! allocation has woken it at the low watermark, runs in `schedule()` before the next
//! task is picked, in the outgoing task's address space (a 2.4 kernel thread's lazy
//! `active_mm`). It has no pid and takes no slice of its own.

use std::os::fd::{FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use growsdown_cpu::flags::Flags;
use growsdown_cpu::fpu::Fpu;
use growsdown_cpu::{Cpu, SegReg, Segment, EAX};

use crate::errno::{Errno, SysResult};
use crate::exit::{self, INIT_PID};
use crate::run::ExitStatus;
use crate::signal::{self, SigInfo, SIGKILL};
use crate::task::Task;
use crate::{Kernel, GDT_ENTRY_TLS_ENTRIES};

/// What a sleeping task waits for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WaitOn {
    /// A host fd to become readable (POLLIN) or writable (POLLOUT): a pipe or
    /// terminal read or write (2.4's `pipe_wait`).
    Fd { fd: i32, events: i16 },
    /// poll/select/epoll_wait: any of these host fds, or the deadline (`None`: no
    /// timeout). `sigmask`: the temporary signal mask of epoll_pwait, in force
    /// while it sleeps (`None`: the task's own).
    Poll { fds: Vec<(i32, i16)>, deadline: Option<Instant>, sigmask: Option<u64> },
    /// wait4: a child matching `pid` (wait4's pid argument) and `options` to become a
    /// zombie, or the last such child to go away.
    Child { pid: i32, options: u32 },
    /// nanosleep / clock_nanosleep: the host clock to reach the deadline.
    Timer(Instant),
    /// pause / sigsuspend / rt_sigtimedwait: a signal that `mask` does not block, or
    /// the deadline.
    Signal { mask: u64, deadline: Option<Instant> },
    /// A futex wait ([`crate::futex`]): a wake on `key` that meets `bitset`, or the
    /// deadline. `seq` orders the waiters; `pi` marks a FUTEX_LOCK_PI waiter.
    Futex { key: crate::futex::FutexKey, bitset: u32, deadline: Option<Instant>, seq: u64, pi: bool },
    /// SysV IPC ([`crate::ipc`]): a change of semaphore set or message queue `id`,
    /// which makes the sleeper runnable, or the deadline (semtimedop).
    Ipc { id: i32, deadline: Option<Instant> },
    /// A file lock on the host inode `dev`/`ino` ([`crate::locks`]): whoever removes
    /// or weakens a lock there makes the sleeper runnable. `blocker`: the process
    /// whose POSIX lock it waits for, for deadlock detection.
    Lock { dev: u64, ino: u64, blocker: Option<u32> },
    /// A host-run task ([`crate::hostproc`]): its host program to end (the pidfd
    /// becomes readable). Nothing else wakes it: signals go to the host process.
    Host { pidfd: i32 },
}

/// `task->state`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TaskState {
    /// TASK_RUNNING: running or runnable.
    #[default]
    Running,
    /// TASK_INTERRUPTIBLE: sleeping on a condition; a signal wakes it too.
    Interruptible(WaitOn),
    /// The parent of a vfork, until the child execs or exits (2.4 waits for the
    /// `vfork_done` completion uninterruptibly; signals wait until after).
    VforkWait { child: u32 },
    /// TASK_ZOMBIE: exited, waiting for its parent's wait4.
    Zombie(ExitStatus),
    /// Exited and reaped at once (its parent ignores SIGCHLD): dropped at the next
    /// context switch.
    Dead,
}

impl TaskState {
    #[inline]
    pub fn is_running(&self) -> bool {
        matches!(self, Self::Running)
    }
    /// A zombie or a dead task: no more code to run.
    pub fn is_zombie(&self) -> bool {
        matches!(self, Self::Zombie(_) | Self::Dead)
    }
}

/// A task's user context while it is not on the CPU (2.4 keeps it in the task's
/// kernel stack and `thread_struct`).
#[derive(Clone, Debug, Default)]
pub struct Context {
    pub regs: [u32; 8],
    pub eip: u32,
    pub flags: Flags,
    pub segs: [Segment; 6],
    /// The three set_thread_area GDT entries, from `Personality::tls_entry_min` (6..8 by
    /// default).
    pub tls: [u64; GDT_ENTRY_TLS_ENTRIES],
    pub ldt: Vec<u64>,
    pub fpu: Fpu,
    /// Instructions this task has retired.
    pub retired: u64,
}

impl Context {
    /// The CPU's user state now; `retired` is the running task's instruction count,
    /// `tls_min` the first TLS GDT entry (`Personality::tls_entry_min`).
    pub fn save(cpu: &Cpu, retired: u64, tls_min: usize) -> Self {
        let mut tls = [0u64; GDT_ENTRY_TLS_ENTRIES];
        for (i, t) in tls.iter_mut().enumerate() {
            *t = cpu.gdt.get(tls_min + i).copied().unwrap_or(0);
        }
        Self {
            regs: cpu.regs,
            eip: cpu.eip,
            flags: cpu.flags,
            segs: cpu.segs,
            tls,
            ldt: cpu.ldt.clone(),
            fpu: cpu.fpu.clone(),
            retired,
        }
    }

    /// Loads this context into the CPU. DS, ES, FS and GS are reloaded from their
    /// selectors (a selector whose descriptor is no longer loadable becomes null, as
    /// the fixup of 2.4's `loadsegment` makes it); CS and SS keep their cached
    /// descriptors.
    fn restore(self, cpu: &mut Cpu, tls_min: usize) {
        cpu.regs = self.regs;
        cpu.eip = self.eip;
        cpu.flags = self.flags;
        for (i, t) in self.tls.iter().enumerate() {
            if let Some(d) = cpu.gdt.get_mut(tls_min + i) {
                *d = *t;
            }
        }
        cpu.ldt = self.ldt;
        cpu.fpu = self.fpu;
        cpu.segs = self.segs;
        for s in [SegReg::Ds, SegReg::Es, SegReg::Fs, SegReg::Gs] {
            let sel = self.segs[s as usize].selector;
            if cpu.load_segment(s, sel).is_err() {
                cpu.segs[s as usize] = Segment::default();
            }
        }
    }
}

impl Kernel {
    /// More than one process exists (zombies included), or the current task has a
    /// signal to take: blocking host calls must not be made, and the scheduler runs.
    /// A lone task meets a pending signal in a call when it was woken from a sleep by
    /// a signal from a process that has exited since (the sleeper re-executes its
    /// call): the call must end as Linux's does when `signal_pending`, not block in
    /// the host.
    #[inline]
    pub fn multitasking(&self) -> bool {
        !self.tasks.is_empty() || self.signal_pending()
    }

    /// The guest process `pid`, current or not.
    pub fn find_task(&self, pid: u32) -> Option<&Task> {
        if self.task.pid == pid {
            Some(&self.task)
        } else {
            self.tasks.get(&pid)
        }
    }

    /// Every guest process, the current one first.
    pub fn all_tasks(&self) -> impl Iterator<Item = &Task> {
        std::iter::once(&self.task).chain(self.tasks.values())
    }

    /// Instructions the current task has retired (the CPU's count is machine-wide).
    #[inline]
    pub fn task_icount(&self) -> u64 {
        self.cpu.icount.saturating_sub(self.icount_base)
    }
}

/// Puts the current task to sleep on `w` and returns `restart` for the system call
/// to return, or returns it at once without sleeping when a signal is pending (the
/// `if (signal_pending(current)) return -ERESTARTSYS;` of every 2.4 wait loop).
pub fn sleep_on(k: &mut Kernel, w: WaitOn, restart: Errno) -> SysResult {
    if !k.signal_pending() {
        interruptible_sleep_on(k, w);
    }
    Err(restart)
}

/// Marks the current task asleep on `w` unconditionally. The system call must
/// return an `ERESTART*` code: it is re-executed when the task wakes, and that
/// second `int 0x80` is not counted as a retired instruction of the task.
pub fn interruptible_sleep_on(k: &mut Kernel, w: WaitOn) {
    log::trace!(target: "kernel::sched", "pid {} sleeps on {w:?}", k.task.pid);
    k.task.state = TaskState::Interruptible(w);
    k.icount_base += 1;
}

/// Whether a host fd is ready now for `events` (`poll(fd, 0)`); an error, a hang-up
/// or a bad fd count as ready, since the call then returns at once.
pub fn host_ready(fd: i32, events: i16) -> bool {
    let mut p = libc::pollfd { fd, events, revents: 0 };
    // SAFETY: one valid pollfd, no timeout.
    let n = unsafe { libc::poll(&mut p, 1, 0) };
    n != 0
}

/// Whether the task `t` can run: it is runnable, or what it sleeps on may be over, or
/// a signal it does not block is pending.
fn ready(k: &Kernel, t: &Task, now: &mut Option<Instant>) -> bool {
    let w = match &t.state {
        TaskState::Running => return true,
        TaskState::Zombie(_) | TaskState::Dead => return false,
        TaskState::VforkWait { child } => {
            return k.find_task(*child).is_none_or(|c| c.vfork_done || c.state.is_zombie());
        }
        TaskState::Interruptible(WaitOn::Host { .. }) => return false,
        TaskState::Interruptible(w) => w,
    };
    let mask = match w {
        WaitOn::Signal { mask, .. } | WaitOn::Poll { sigmask: Some(mask), .. } => *mask,
        _ => t.sig.blocked,
    };
    if k.deliverable(t, mask) {
        return true;
    }
    let mut past = |d: Instant| *now.get_or_insert_with(Instant::now) >= d;
    match w {
        WaitOn::Fd { fd, events } => host_ready(*fd, *events),
        WaitOn::Poll { fds, deadline, .. } => {
            crate::syscall::signalfd::sync_task(k, t);
            deadline.is_some_and(&mut past) || {
                let mut p: Vec<libc::pollfd> =
                    fds.iter().map(|&(fd, events)| libc::pollfd { fd, events, revents: 0 }).collect();
                // SAFETY: `p` holds `p.len()` pollfd structures; no timeout.
                !p.is_empty() && unsafe { libc::poll(p.as_mut_ptr(), p.len() as libc::nfds_t, 0) } != 0
            }
        }
        WaitOn::Child { pid, options } => {
            let (any, zombie) = exit::find_waitable(k, t.tgid, *pid, *options);
            !any || zombie.is_some()
        }
        WaitOn::Timer(d) => past(*d),
        WaitOn::Futex { deadline, .. } => deadline.is_some_and(past),
        WaitOn::Signal { deadline, .. } => deadline.is_some_and(past),
        // SysV IPC: woken by whoever changes the object; only the deadline here.
        WaitOn::Ipc { deadline, .. } => deadline.is_some_and(past),
        // File locks: woken only by whoever releases a lock.
        WaitOn::Lock { .. } => false,
        WaitOn::Host { .. } => false,
    }
}

/// `schedule()`: picks the task to run next, round robin in pid order after the
/// current one, the current one last, and switches to it. A task that was asleep is
/// made runnable; it re-executes its system call. A task that was preempted gets its
/// pending signals on the way back to user mode. When nobody can run, waits in the
/// host for a descriptor or a deadline; when nothing could ever wake anyone, ends the
/// machine (see the module doc).
pub fn schedule(k: &mut Kernel) {
    loop {
        // Timers that expired while everyone slept (or before a switch) signal first.
        if k.cpu.icount >= k.timers.check_at {
            crate::timer::check(k);
        }
        if crate::hostsig::pending() {
            crate::hostsig::forward(k);
        }
        crate::hostproc::reap(k);
        // kswapd, when an allocation woke it: a kernel task that runs before the
        // next user task is picked (mm/vmscan.rs).
        if k.swap.need_balance {
            crate::mm::vmscan::kswapd(k);
        }
        let cur = k.task.pid;
        let mut now = None;
        let order = k.tasks.range(cur.saturating_add(1)..).chain(k.tasks.range(..cur)).map(|(&p, _)| p);
        let next = order
            .chain(std::iter::once(cur))
            .find(|&p| k.find_task(p).is_some_and(|t| ready(k, t, &mut now)));
        if let Some(pid) = next {
            if pid != cur {
                switch_to(k, pid);
            }
            k.slice_left = k.config.slice.max(1);
            if crate::hostproc::take_exit(k) {
                // A host-run task whose program ended: `settle` runs its do_exit.
                k.task.state = TaskState::Running;
                return;
            }
            let woken = matches!(k.task.state, TaskState::Interruptible(_));
            k.task.state = TaskState::Running;
            k.task.woken = woken;
            if !woken {
                // Back to user mode after a preemption or a vfork: signals first. A
                // woken sleeper re-executes its call instead, which decides between
                // completing, EINTR and a restart.
                signal::do_signal(k);
            }
            return;
        }
        if !wait_for_events(k) {
            deadlock(k);
            return;
        }
    }
}

/// Every task sleeps: waits in the host until one of the descriptors they wait for
/// is ready or the earliest deadline passes. False if there is nothing to wait for.
fn wait_for_events(k: &Kernel) -> bool {
    crate::syscall::signalfd::quiesce(k);
    let mut fds = Vec::new();
    let mut deadline: Option<Instant> = None;
    let mut earliest = |d: Instant| deadline = Some(deadline.map_or(d, |e| e.min(d)));
    for t in k.all_tasks() {
        match &t.state {
            TaskState::Interruptible(WaitOn::Fd { fd, events }) => {
                fds.push(libc::pollfd { fd: *fd, events: *events, revents: 0 })
            }
            TaskState::Interruptible(WaitOn::Host { pidfd }) => {
                fds.push(libc::pollfd { fd: *pidfd, events: libc::POLLIN, revents: 0 })
            }
            TaskState::Interruptible(WaitOn::Poll { fds: f, deadline: d, .. }) => {
                fds.extend(f.iter().map(|&(fd, events)| libc::pollfd { fd, events, revents: 0 }));
                if let Some(d) = d {
                    earliest(*d);
                }
            }
            TaskState::Interruptible(WaitOn::Timer(d))
            | TaskState::Interruptible(WaitOn::Futex { deadline: Some(d), .. })
            | TaskState::Interruptible(WaitOn::Signal { deadline: Some(d), .. })
            | TaskState::Interruptible(WaitOn::Ipc { deadline: Some(d), .. }) => earliest(*d),
            _ => {}
        }
    }
    // The earliest clock timer (crate::timer) may wake a sleeper with its signal.
    if let Some(d) = k.timers.next_clock {
        earliest(d);
    }
    // With host signals forwarded, a guest that only a signal can wake waits for one
    // (natively pause() waits for ever) unless no forwarded signal could wake it.
    let host_signals = k.config.host_signals && crate::hostsig::could_wake(k);
    if fds.is_empty() && deadline.is_none() && !host_signals {
        return false;
    }
    let ts = deadline.map(|d| {
        let left = d.saturating_duration_since(Instant::now());
        libc::timespec {
            tv_sec: left.as_secs() as libc::time_t,
            tv_nsec: left.subsec_nanos() as libc::c_long,
        }
    });
    let tsp = ts.as_ref().map_or(std::ptr::null(), |t| t as *const libc::timespec);
    log::trace!(target: "kernel::sched", "every process sleeps: host ppoll on {} fds, timeout {:?}", fds.len(), deadline);
    if k.config.host_signals {
        crate::hostsig::ppoll(&mut fds, ts.as_ref());
        return true;
    }
    // SAFETY: `fds` holds `fds.len()` pollfd structures; `tsp` is NULL or points at
    // `ts`, which outlives the call; no signal mask.
    unsafe { libc::ppoll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, tsp, std::ptr::null()) };
    true
}

/// Nothing can wake any process: every one waits for another or for a signal nobody
/// can send. Ends the machine by killing init (see the module doc).
fn deadlock(k: &mut Kernel) {
    // Once the first process has gone (Kernel::run_rest), the lowest-numbered process
    // left is killed, and the next deadlock takes the next one.
    let victim = if k.first_gone {
        k.all_tasks().filter(|t| !t.state.is_zombie()).map(|t| t.tgid).min().unwrap_or(k.task.tgid)
    } else {
        INIT_PID
    };
    log::error!(
        target: "kernel::sched",
        "deadlock: every task sleeps on something only another guest task could end; killing pid {victim}"
    );
    if k.task.tgid != victim {
        let thread = k.live_threads(victim).map(|t| t.pid).next();
        if let Some(pid) = thread {
            switch_to(k, pid);
        }
    }
    k.task.state = TaskState::Running;
    let eip = k.cpu.eip;
    let st = ExitStatus::Signaled { signo: SIGKILL, info: SigInfo::kernel(SIGKILL), eip, core: false };
    exit::do_group_exit(k, st);
}

/// Ends what the current task is doing that the run loop must act on: the exit of a
/// task other than init's last thread (it becomes a zombie or goes away, and another
/// task runs) and a current task that sleeps (another task runs). Returns how the
/// machine ended, if init exited: its last thread, `exit_group` or a fatal signal in
/// any of its threads (the other tasks are then killed, see [`exit::exit_machine`]).
pub fn settle(k: &mut Kernel) -> Option<ExitStatus> {
    loop {
        if let Some(st) = k.exit_status {
            let me = k.task.pid;
            let group_exit = k.task.group.group_exit;
            let last = !k.live_threads(k.task.tgid).any(|t| t.pid != me);
            if !k.first_gone && k.task.tgid == INIT_PID && (last || group_exit.is_some()) {
                // The process's status: the group's, else its leader's.
                let st = group_exit.unwrap_or(match k.tasks.get(&INIT_PID).map(|l| &l.state) {
                    Some(TaskState::Zombie(z)) => *z,
                    _ => st,
                });
                k.exit_status = Some(st);
                // The others run on only if the caller asked (Kernel::run_rest).
                if !(k.config.keep_others && k.others_remain()) {
                    exit::exit_machine(k);
                }
                return Some(st);
            }
            k.exit_status = None;
            exit::do_exit(k, st);
            if k.first_gone && !k.all_tasks().any(|t| !t.state.is_zombie()) {
                // After the first process, the last one: the machine ends.
                k.exit_status = Some(st);
                exit::exit_machine(k);
                return Some(st);
            }
            schedule(k);
            continue;
        }
        if !k.task.state.is_running() {
            schedule(k);
            continue;
        }
        return None;
    }
}

/// The context switch (see the module doc) from the current task to `next`.
pub fn switch_to(k: &mut Kernel, next: u32) {
    let Some(mut incoming) = k.tasks.remove(&next) else {
        log::error!(target: "kernel::sched", "switch_to: no task {next}");
        return;
    };
    let retired = k.task_icount();
    let prev_pid = k.task.pid;
    // The shared objects: moved to the incoming task if it shares them, parked and
    // unparked otherwise (crate::share).
    let new_mm = crate::share::hand_over(k, &mut incoming);
    let ctx = std::mem::take(&mut incoming.ctx);
    let mut prev = std::mem::replace(&mut k.task, incoming);
    if !prev.state.is_zombie() {
        prev.ctx = Context::save(&k.cpu, retired, k.config.personality.tls_entry_min);
    }
    if !matches!(prev.state, TaskState::Dead) {
        k.tasks.insert(prev.pid, prev);
    }
    k.icount_base = k.cpu.icount.saturating_sub(ctx.retired);
    ctx.restore(&mut k.cpu, k.config.personality.tls_entry_min);
    // switch_mm: threads of one process keep CR3 and the TLB (2.4's `prev == next`).
    // A host-run task has no address space: the kernel's tables, as for an exiting task.
    if k.task.mm.pgd == 0 {
        k.cpu.mmu.set_cr3(k.frames.swapper_pg_dir);
    } else if new_mm || k.cpu.mmu.cr3() != k.task.mm.pgd {
        crate::mm::activate_mm(k);
    }
    log::trace!(target: "kernel::sched", "switch_to: pid {prev_pid} -> pid {next}");
    // CPU timers follow the incoming process's instruction count.
    if k.timers.check_at != u64::MAX || !k.timers.procs.is_empty() || k.task.rlim[crate::task::RLIMIT_CPU].cur != crate::task::RLIM_INFINITY {
        crate::timer::recompute(k);
    }
    schedule_tail(k);
}

/// `schedule_tail` of a new child: CLONE_CHILD_SETTID stores the child's pid in its
/// own memory, as the child (a fault it takes is the child's). It happens on the way
/// back from clone, so while it runs EAX names clone for the tracer (which shows a
/// kernel-mode fault as the system call in EAX); the child then sees its 0.
fn schedule_tail(k: &mut Kernel) {
    let addr = std::mem::take(&mut k.task.set_child_tid);
    if addr != 0 {
        let pid = k.task.pid;
        let eax = std::mem::replace(&mut k.cpu.regs[EAX], crate::syscall::NR_CLONE);
        if k.put_user::<u32>(addr, pid).is_err() {
            log::debug!(target: "kernel::sched", "pid {pid}: CLONE_CHILD_SETTID at {addr:#x} faulted");
        }
        k.cpu.regs[EAX] = eax;
    }
}

/// The host's working directory as a descriptor (`O_PATH`), to return to later.
pub fn open_cwd() -> Option<OwnedFd> {
    // SAFETY: the path is a NUL-terminated literal.
    let fd = unsafe { libc::open(c".".as_ptr(), libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC) };
    // SAFETY: `fd` is a new descriptor nobody else owns.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The deadline of a timed wait the current system call starts or (re-executed after
/// sleeping) continues.
pub fn deadline_after(k: &mut Kernel, d: Duration) -> Instant {
    *k.task.timeout.get_or_insert_with(|| Instant::now() + d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use growsdown_cpu::Descriptor;

    /// A context switch carries the TLS descriptors of the configured slots: with
    /// `tls_entry_min` 12 it saves GDT 12..14 and puts them back there, and leaves the
    /// default slots 6..8 alone.
    #[test]
    fn context_saves_and_restores_the_configured_tls_slots() {
        let mut cpu = Cpu::new(16 << 20);
        let descs: Vec<u64> =
            (0..3).map(|i| Descriptor::encode(0x1000_0000 * (i + 1), 0xfffff, 0xc0f3)).collect();
        for (i, d) in descs.iter().enumerate() {
            cpu.gdt[12 + i] = *d;
        }
        cpu.gdt[6] = 0x1234;
        let ctx = Context::save(&cpu, 0, 12);
        assert_eq!(ctx.tls.to_vec(), descs);
        for e in 12..15 {
            cpu.gdt[e] = 0;
        }
        ctx.restore(&mut cpu, 12);
        assert_eq!(cpu.gdt[12..15].to_vec(), descs);
        assert_eq!(cpu.gdt[6], 0x1234, "default slots untouched");
    }
}
