//! Process timers: `alarm` and the three interval timers of `setitimer` (2.4's
//! `kernel/itimer.c`, today's `kernel/time/itimer.c`), POSIX timers (today's
//! `kernel/time/posix-timers.c` and `posix-cpu-timers.c`) and the CPU-time limit
//! RLIMIT_CPU (`check_process_timers`).
//!
//! ## Two time bases
//!
//! *Clock* timers (ITIMER_REAL, POSIX timers on CLOCK_REALTIME / MONOTONIC /
//! BOOTTIME) count host monotonic nanoseconds from [`Timers::epoch`]. *CPU* timers
//! (ITIMER_VIRTUAL, ITIMER_PROF, POSIX timers on CLOCK_PROCESS_CPUTIME_ID, and
//! RLIMIT_CPU) count the instructions the process's threads have retired, converted
//! at the fixed nominal rate [`INSNS_PER_SEC`]: the guest's CPU time is then a
//! function of what it executed, never of how fast the host ran it, so a program
//! that spins until SIGVTALRM or SIGXCPU gets its signal at the same instruction in
//! every run.
//!
//! ## Cost
//!
//! The run loop compares `cpu.icount` with [`Timers::check_at`] after every
//! `Cpu::run` (one comparison per kernel entry): it is `u64::MAX` while nothing is
//! armed, the machine instruction count at which the current process's earliest CPU
//! timer is due, or 0 while a clock timer is armed (each kernel entry then reads the
//! host clock; entries happen at least every `Config::slice` instructions, and the
//! budget of `Cpu::run` is cut to reach a CPU timer exactly, see [`Timers::budget`]).
//! When every task sleeps, the earliest clock timer bounds the host wait
//! ([`Timers::next_clock`]).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::signal::{group_send_sig_info, send_sig_to, SigInfo, SIGKILL};
use crate::task::{RLIMIT_CPU, RLIM_INFINITY};
use crate::Kernel;

/// The nominal speed of the emulated CPU for CPU time: 100 million instructions per
/// second. A round figure of the order the interpreter retires per host second, so
/// a one-second RLIMIT_CPU or ITIMER_VIRTUAL ends after roughly the wall time it
/// takes natively; fixed, so that CPU timers are deterministic.
pub const INSNS_PER_SEC: u64 = 100_000_000;
/// Instructions per microsecond / nanoseconds per instruction at that rate.
pub const INSNS_PER_USEC: u64 = INSNS_PER_SEC / 1_000_000;
pub const NSEC_PER_INSN: u64 = 1_000_000_000 / INSNS_PER_SEC;

pub const ITIMER_REAL: usize = 0;
pub const ITIMER_VIRTUAL: usize = 1;
pub const ITIMER_PROF: usize = 2;

pub const SIGEV_SIGNAL: i32 = 0;
pub const SIGEV_NONE: i32 = 1;
pub const SIGEV_THREAD: i32 = 2;
pub const SIGEV_THREAD_ID: i32 = 4;
/// `si_code` of a POSIX timer's signal.
pub const SI_TIMER: i32 = -2;

/// One timer: `expires` is 0 when disarmed, else the time of the next expiry in its
/// base (clock nanoseconds since the epoch, or process instructions), `interval`
/// the reload in the same unit.
#[derive(Clone, Copy, Debug, Default)]
pub struct Timer {
    pub cpu: bool,
    pub expires: u64,
    pub interval: u64,
}

/// A POSIX timer (`struct k_itimer`).
#[derive(Clone, Copy, Debug)]
pub struct PosixTimer {
    pub t: Timer,
    pub clock: i32,
    pub notify: i32,
    pub signo: i32,
    pub value: u32,
    /// SIGEV_THREAD_ID: the thread.
    pub tid: u32,
    /// Expirations that found the previous signal still queued, or were skipped by
    /// a late check (`it_overrun`), and the count the last signal carried.
    pub overrun: i32,
    pub overrun_last: i32,
}

/// The timers of one process.
#[derive(Clone, Debug, Default)]
pub struct ProcTimers {
    pub itimer: [Timer; 3],
    pub posix: BTreeMap<i32, PosixTimer>,
    /// `signal->next_posix_timer_id`.
    pub next_id: i32,
    /// The next CPU time (instructions) at which RLIMIT_CPU is checked again.
    pub rlim_next: u64,
}

impl ProcTimers {
    fn is_empty(&self) -> bool {
        self.itimer.iter().all(|t| t.expires == 0) && self.posix.is_empty()
    }
}

/// Every process's timers, keyed by tgid.
#[derive(Debug)]
pub struct Timers {
    pub procs: BTreeMap<u32, ProcTimers>,
    pub epoch: Instant,
    /// See the module doc.
    pub check_at: u64,
    /// The machine instruction count at which the current process's earliest CPU
    /// timer (or RLIMIT_CPU) is due; `u64::MAX` if none.
    pub icount_due: u64,
    /// The earliest armed clock timer of any process.
    pub next_clock: Option<Instant>,
}

impl Default for Timers {
    fn default() -> Self {
        Self {
            procs: BTreeMap::new(),
            epoch: Instant::now(),
            check_at: u64::MAX,
            icount_due: u64::MAX,
            next_clock: None,
        }
    }
}

impl Timers {
    /// The budget for `Cpu::run`: `slice`, cut so that a CPU timer of the current
    /// process fires at its instruction.
    #[inline]
    pub fn budget(&self, icount: u64, slice: u64) -> u64 {
        slice.min(self.icount_due.saturating_sub(icount)).max(1)
    }

    /// Host monotonic nanoseconds since the epoch.
    pub fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    pub fn ns_to_instant(&self, ns: u64) -> Instant {
        self.epoch + Duration::from_nanos(ns)
    }
}

/// The CPU time of process `tgid` in instructions: the retired instructions of its
/// live threads (those of exited threads are not kept).
pub fn proc_cpu(k: &Kernel, tgid: u32) -> u64 {
    let mut n = 0;
    for t in k.all_tasks().filter(|t| t.tgid == tgid) {
        n += if t.pid == k.task.pid { k.task_icount() } else { t.ctx.retired };
    }
    n
}

/// The timers of the current process, created on first use.
pub fn current(k: &mut Kernel) -> &mut ProcTimers {
    let tgid = k.task.tgid;
    k.timers.procs.entry(tgid).or_default()
}

/// Recomputes when the run loop must look at timers next: after any timer of any
/// process changed, after a context switch, after setrlimit.
pub fn recompute(k: &mut Kernel) {
    k.timers.procs.retain(|_, p| !p.is_empty() || p.rlim_next != 0);
    let rlim = k.task.rlim[RLIMIT_CPU];
    if k.timers.procs.is_empty() && rlim.cur == RLIM_INFINITY {
        k.timers.check_at = u64::MAX;
        k.timers.icount_due = u64::MAX;
        k.timers.next_clock = None;
        return;
    }
    let mut clock: Option<u64> = None;
    for p in k.timers.procs.values() {
        for t in p.itimer.iter().chain(p.posix.values().map(|p| &p.t)) {
            if !t.cpu && t.expires != 0 {
                clock = Some(clock.map_or(t.expires, |c| c.min(t.expires)));
            }
        }
    }
    k.timers.next_clock = clock.map(|ns| k.timers.ns_to_instant(ns));
    let tgid = k.task.tgid;
    let mut due = u64::MAX;
    if let Some(p) = k.timers.procs.get(&tgid) {
        for t in p.itimer.iter().chain(p.posix.values().map(|p| &p.t)) {
            if t.cpu && t.expires != 0 {
                due = due.min(t.expires);
            }
        }
    }
    if rlim.cur != RLIM_INFINITY {
        let next = k.timers.procs.get(&tgid).map_or(0, |p| p.rlim_next);
        let soft = rlim.cur.saturating_mul(INSNS_PER_SEC);
        due = due.min(if next != 0 { next } else { soft });
    }
    k.timers.icount_due = if due == u64::MAX {
        u64::MAX
    } else {
        let now = proc_cpu(k, tgid);
        k.cpu.icount.saturating_add(due.saturating_sub(now))
    };
    k.timers.check_at = if clock.is_some() { 0 } else { k.timers.icount_due };
}

/// Advances an expired timer (`hrtimer_forward`): the number of expiries up to
/// `now` (at least 1); the timer is disarmed if it has no interval.
fn forward(t: &mut Timer, now: u64) -> u64 {
    if t.interval == 0 {
        t.expires = 0;
        return 1;
    }
    let n = (now - t.expires) / t.interval + 1;
    t.expires += n * t.interval;
    n
}

/// Fires every timer that is due; called from the run loop and the scheduler when
/// `cpu.icount >= check_at`.
pub fn check(k: &mut Kernel) {
    let now_ns = k.timers.now_ns();
    let mut fire: Vec<(u32, SigInfo, Option<u32>)> = Vec::new();
    // A process with RLIMIT_CPU and no timer has no entry yet; it is checked too.
    if k.task.rlim[RLIMIT_CPU].cur != RLIM_INFINITY {
        current(k);
    }
    let tgids: Vec<u32> = k.timers.procs.keys().copied().collect();
    let cur_tgid = k.task.tgid;
    for tgid in tgids {
        let cpu = if tgid == cur_tgid { proc_cpu(k, tgid) } else { 0 };
        let pending: Vec<(i32, u32)> = pending_timer_signals(k, tgid);
        let Some(p) = k.timers.procs.get_mut(&tgid) else { continue };
        for (i, t) in p.itimer.iter_mut().enumerate() {
            let now = if t.cpu { cpu } else { now_ns };
            if t.expires != 0 && (!t.cpu || tgid == cur_tgid) && t.expires <= now {
                forward(t, now);
                let sig = [crate::signal::SIGALRM, crate::signal::SIGVTALRM, crate::signal::SIGPROF][i];
                fire.push((tgid, SigInfo::kernel(sig), None));
            }
        }
        for (&id, pt) in p.posix.iter_mut() {
            let t = &mut pt.t;
            let now = if t.cpu { cpu } else { now_ns };
            if t.expires == 0 || (t.cpu && tgid != cur_tgid) || t.expires > now {
                continue;
            }
            let n = forward(t, now);
            if pt.notify == SIGEV_NONE {
                continue;
            }
            let missed = (n - 1).min(i32::MAX as u64) as i32;
            // `posix_timer_event`: a signal of this timer still queued is not queued
            // again; the expiry counts as an overrun.
            if pending.iter().any(|&(sid, _)| sid == id) {
                pt.overrun = pt.overrun.saturating_add(missed).saturating_add(1);
                continue;
            }
            pt.overrun_last = pt.overrun.saturating_add(missed);
            pt.overrun = 0;
            let info = SigInfo::timer(pt.signo, id, pt.overrun_last, pt.value);
            let to = (pt.notify & SIGEV_THREAD_ID != 0).then_some(pt.tid);
            fire.push((tgid, info, to));
        }
        if tgid == cur_tgid {
            rlimit_cpu(k, tgid, cpu, &mut fire);
        }
    }
    for (tgid, info, to) in fire {
        match to {
            Some(tid) => {
                send_sig_to(k, tid, info);
            }
            None => {
                group_send_sig_info(k, tgid, info);
            }
        }
    }
    recompute(k);
}

/// `check_process_timers`' RLIMIT_CPU part: SIGKILL at the hard limit; SIGXCPU at
/// the soft limit and then once per second of CPU time, the soft limit raised by one
/// second each time (as today's kernel does, visible in getrlimit).
fn rlimit_cpu(k: &mut Kernel, tgid: u32, cpu: u64, fire: &mut Vec<(u32, SigInfo, Option<u32>)>) {
    let r = k.task.rlim[RLIMIT_CPU];
    if r.cur == RLIM_INFINITY {
        return;
    }
    let secs = cpu / INSNS_PER_SEC;
    if r.max != RLIM_INFINITY && secs >= r.max {
        fire.push((tgid, SigInfo::kernel(SIGKILL), None));
        return;
    }
    if secs >= r.cur {
        fire.push((tgid, SigInfo::kernel(crate::signal::SIGXCPU), None));
        if r.cur < r.max {
            let n = crate::task::Rlimit { cur: r.cur + 1, max: r.max };
            for t in std::iter::once(&mut k.task).chain(k.tasks.values_mut()).filter(|t| t.tgid == tgid) {
                t.rlim[RLIMIT_CPU] = n;
            }
        }
    }
    let next = (secs + 1).max(k.task.rlim[RLIMIT_CPU].cur).saturating_mul(INSNS_PER_SEC);
    k.timers.procs.entry(tgid).or_default().rlim_next = next;
}

/// The (timer id, signo) of SI_TIMER signals queued for process `tgid`.
fn pending_timer_signals(k: &Kernel, tgid: u32) -> Vec<(i32, u32)> {
    let mut v = Vec::new();
    let shared = k.group(tgid).map(|g| g.shared_pending.as_slice()).unwrap_or(&[]);
    let own = k.all_tasks().filter(|t| t.tgid == tgid).flat_map(|t| t.sig.pending.iter());
    for s in shared.iter().chain(own) {
        if s.code == SI_TIMER {
            v.push((s.addr as i32, s.signo as u32));
        }
    }
    v
}

/// The process ends: its timers go (`exit_itimers`, and the itimers with the
/// `signal_struct`).
pub fn exit_timers(k: &mut Kernel, tgid: u32) {
    if k.timers.procs.remove(&tgid).is_some() {
        recompute(k);
    }
}

/// execve: POSIX timers are deleted (`exit_itimers` in `begin_new_exec`); the
/// interval timers and alarm stay.
pub fn exec_timers(k: &mut Kernel) {
    let tgid = k.task.tgid;
    if let Some(p) = k.timers.procs.get_mut(&tgid) {
        p.posix.clear();
        p.next_id = 0;
        recompute(k);
    }
}
