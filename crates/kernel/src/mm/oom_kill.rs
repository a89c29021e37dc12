//! The OOM killer: 2.4's `mm/oom_kill.c` (2.4.10 and later) — `out_of_memory` →
//! `oom_kill` → `select_bad_process` → `badness()`, then `oom_kill_task` for every
//! task sharing the chosen one's `mm` — and the fault path's way into it,
//! [`oom_after_reclaim`].
//!
//! ## When it runs
//!
//! In 2.4 an order-0 allocation that finds no free page calls `try_to_free_pages`
//! (`mm/vmscan.c`); when a whole pass of `shrink_caches` at every priority frees
//! nothing, `try_to_free_pages_zone` calls `out_of_memory()`, and `__alloc_pages`
//! yields and tries again. The faulting process therefore does not die: it waits in
//! the allocator while the victim exits, and gets its page. growsdown's fault path
//! does the same in its own shape: `handle_mm_fault` returns `VM_FAULT_OOM` having
//! changed nothing — the allocation has already tried `try_to_free_pages`
//! (`vmscan::alloc_frame`, with a swap area) — and [`oom_after_reclaim`] calls
//! [`out_of_memory`]; when the
//! victim is another process the fault returns, the current task gives up the CPU
//! (2.4's `yield()` at the end of `oom_kill`), and the faulting instruction
//! re-executes when it runs again — after the victim has run, taken its SIGKILL and
//! freed its memory. When the victim is the faulting process itself (or nothing can
//! be chosen) it dies as `do_page_fault`'s `out_of_memory:` label kills it.
//!
//! ## What is 2.4's and what is not
//!
//! * `badness()` is 2.4's, rule for rule and in its order (see [`badness`]).
//! * `select_bad_process` walks the tasks oldest first (2.4's `for_each_task` from
//!   `init_task`: `SET_LINKS` appends a new task at the tail), i.e. by pid, and keeps
//!   the first task with the most points (`points > maxpoints`, from 0: a task with
//!   0 points is never chosen). It skips pid 0 only; kernel threads have no `mm` and
//!   score 0, and so does a task already chosen (`PF_MEMDIE`). 2.4 has no rule for
//!   pid 1 here (2.6.11 added `if (p->pid == 1) continue;`); its `do_signal` drops
//!   every signal whose default action kills when `current->pid == 1`. growsdown has
//!   no pid 1: the first guest process (pid 1000) is the user's program, which is not
//!   init natively either, and is a candidate like any other process.
//! * `out_of_memory`'s damping is wall-clock time in 2.4 (not OOM unless failures
//!   went on for a second, ten of them, and five seconds since the last kill). Time
//!   here is instructions, and an allocation that fails once fails until something
//!   exits, so the first failure after reclaim kills; "give the last victim a chance
//!   to exit" is kept exactly as its intent: while a victim is alive no other is
//!   chosen, for at most [`OOM_PATIENCE`] retried faults (a victim that caught the
//!   SIGTERM 2.4 sends to a CAP_SYS_RAWIO process may never exit; 2.4 then kills
//!   again after five seconds, choosing another since the victim scores 0).
//! * `nr_swap_pages > 0` returns early in 2.4 ("enough swap space left? Not OOM");
//!   there is no swap yet, so the test is the reclaim slot's business.

use crate::signal::{send_sig_to, SigInfo, SIGKILL, SIGTERM};
use crate::task::Task;
use crate::trace::{FaultResult, OomCandidate, OomEvent, Step};
use crate::Kernel;

use super::fault::Recorder;

/// HZ of 2.4 on i386 and its `SHIFT_HZ` (`include/linux/timex.h`: HZ 100 → 7).
pub const HZ: u64 = 100;
pub const SHIFT_HZ: u32 = 7;

/// `CAP_SYS_RAWIO` and `CAP_SYS_ADMIN` (`include/linux/capability.h`).
const CAP_SYS_RAWIO: u32 = 17;
const CAP_SYS_ADMIN: u32 = 21;

/// Retried faults while a victim is alive before another may be chosen (see the
/// module doc): the victim runs within one round of the scheduler, so a victim that
/// takes SIGKILL is long gone by then.
pub const OOM_PATIENCE: u32 = 64;

/// What a task keeps for the OOM killer.
#[derive(Clone, Copy, Debug, Default)]
pub struct OomTask {
    /// `p->start_time`: the machine's instruction count when the task was forked.
    pub start_icount: u64,
    /// `PF_MEMDIE`: chosen by the OOM killer (its badness is 0 from then on).
    pub memdie: bool,
}

impl OomTask {
    pub fn started_at(icount: u64) -> Self {
        Self { start_icount: icount, memdie: false }
    }
}

/// The machine's OOM-killer state.
#[derive(Clone, Debug, Default)]
pub struct OomState {
    /// Processes killed (one per `oom_kill`, however many threads it had).
    pub kills: u64,
    /// Faults retried while the last victim was still alive.
    pub waits: u32,
    /// The thread groups killed, in order.
    pub victims: Vec<u32>,
    /// `sysctl_overcommit_memory` (`/proc/sys/vm/overcommit_memory`): 0 heuristic,
    /// anything else always (2.4 has no mode 2; see [`super::mmap::vm_enough_memory`]).
    pub overcommit_memory: u32,
}

/// 2.4's `int_sqrt`, "a very rough approximation to the sqrt() function": halve the
/// value once per two bits, take a quarter off if a bit is left; never 0.
pub fn int_sqrt(x: u32) -> u32 {
    let (mut x, mut out) = (x, x);
    while x & !1 != 0 {
        x >>= 2;
        out >>= 1;
    }
    if x != 0 {
        out -= out >> 2;
    }
    out.max(1)
}

/// Instructions as jiffies: the CPU-time clock of `crate::timer` (a fixed
/// [`crate::timer::INSNS_PER_SEC`]) at 2.4's HZ.
fn jiffies(insns: u64) -> u64 {
    insns / (crate::timer::INSNS_PER_SEC / HZ)
}

/// `badness(p)` of 2.4.10+ (`mm/oom_kill.c`), in its order:
///
/// 1. no `mm` (kernel thread, exited task) → 0; `PF_MEMDIE` → 0;
/// 2. points = `mm->total_vm` (pages of address space, not resident ones);
/// 3. cpu_time = (utime + stime) >> (SHIFT_HZ + 3), "seconds" (units of 1024 ticks,
///    10.24 s at HZ 100); run_time = (jiffies − start_time) >> (SHIFT_HZ + 10),
///    "minutes" (131072 ticks, 21.8 min); points /= int_sqrt(cpu_time), then
///    points /= int_sqrt(int_sqrt(run_time));
/// 4. nice > 0 → points × 2;
/// 5. CAP_SYS_ADMIN effective, or uid 0, or euid 0 → points / 4;
/// 6. CAP_SYS_RAWIO effective → points / 4.
///
/// growsdown's clocks: the task's CPU time is the instructions it retired, its run
/// time the machine's instructions since its fork, both at `INSNS_PER_SEC`
/// (deterministic; a real 2.4 reads the tick-based `times` and `jiffies`).
pub fn badness(k: &Kernel, t: &Task) -> OomCandidate {
    let retired = if t.pid == k.task.pid { k.task_icount() } else { t.ctx.retired };
    let cpu_time = (jiffies(retired) >> (SHIFT_HZ + 3)) as u32;
    let run_time = (jiffies(k.cpu.icount.saturating_sub(t.oom.start_icount)) >> (SHIFT_HZ + 10)) as u32;
    let c = &t.cred;
    let root = c.capable(CAP_SYS_ADMIN) || c.uid == 0 || c.euid == 0;
    let rawio = c.capable(CAP_SYS_RAWIO);
    let nice = t.sched.nice;
    let mm = k.mm_of(t).filter(|m| m.pgd != 0 && !t.state.is_zombie());
    let total_vm = mm.map_or(0, |m| m.total_vm);
    let mut points = 0;
    if mm.is_some() && !t.oom.memdie {
        points = total_vm;
        points /= int_sqrt(cpu_time);
        points /= int_sqrt(int_sqrt(run_time));
        if nice > 0 {
            points = points.saturating_mul(2);
        }
        if root {
            points /= 4;
        }
        if rawio {
            points /= 4;
        }
    }
    OomCandidate {
        pid: t.pid,
        tgid: t.tgid,
        total_vm,
        cpu_time,
        run_time,
        nice,
        root,
        rawio,
        memdie: t.oom.memdie,
        points,
    }
}

/// `select_bad_process`: every task's badness, oldest first; the chosen one is the
/// first with the most points, if any has more than 0.
pub fn select_bad_process(k: &Kernel) -> (Vec<OomCandidate>, Option<usize>) {
    let mut tasks: Vec<&Task> = k.all_tasks().filter(|t| t.pid != 0).collect();
    tasks.sort_by_key(|t| t.pid);
    let cands: Vec<OomCandidate> = tasks.iter().map(|t| badness(k, t)).collect();
    let mut chosen = None;
    let mut max = 0;
    for (i, c) in cands.iter().enumerate() {
        if c.points > max {
            max = c.points;
            chosen = Some(i);
        }
    }
    (cands, chosen)
}

/// How [`out_of_memory`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Oom {
    /// Another process (thread group `tgid`) was killed: the faulting one retries.
    KilledOther { tgid: u32 },
    /// The faulting process itself was chosen.
    KilledCurrent,
    /// The last victim is still on its way out: retry without killing again.
    Waiting,
    /// Nothing has any points (2.4 panics: "Out of memory and no killable processes").
    NoCandidate,
}

/// 2.4's `out_of_memory()` with `oom_kill()`: choose the process to kill and send it
/// (every task sharing its `mm`) the signal (see the module doc for the damping).
pub fn out_of_memory(k: &mut Kernel) -> Oom {
    if k.task.oom.memdie {
        // Chosen already and faulting on its way out (a kernel-mode copy, another
        // thread's fault): it dies; nothing else is chosen.
        return Oom::KilledCurrent;
    }
    let dying = k.all_tasks().any(|t| t.oom.memdie && !t.state.is_zombie());
    if dying && k.oom.waits < OOM_PATIENCE {
        k.oom.waits += 1;
        return Oom::Waiting;
    }
    k.oom.waits = 0;
    let (candidates, chosen) = select_bad_process(k);
    let Some(i) = chosen else {
        log::error!(target: "kernel::mm", "out of memory and no killable processes");
        record(k, candidates, None, 0, Vec::new());
        return Oom::NoCandidate;
    };
    let victim = candidates[i];
    let mm = k.find_task(victim.pid).map_or(0, |t| t.ids.mm);
    // oom_kill: every task that shares the chosen one's mm (its threads, and
    // CLONE_VM children), each through oom_kill_task.
    let tids: Vec<u32> = k
        .all_tasks()
        .filter(|t| t.ids.mm == mm && mm != 0 && !t.state.is_zombie())
        .map(|t| t.pid)
        .collect();
    let mut signo = SIGKILL;
    for &tid in &tids {
        signo = oom_kill_task(k, tid);
    }
    k.oom.kills += 1;
    k.oom.victims.push(victim.tgid);
    log::warn!(
        target: "kernel::mm",
        "Out of Memory: Killed process {} ({}), {} points",
        victim.pid,
        k.find_task(victim.pid).map_or("", |t| t.comm.as_str()),
        victim.points
    );
    let current = k.task.ids.mm == mm;
    record(k, candidates, Some(victim), signo, tids);
    if current {
        Oom::KilledCurrent
    } else {
        Oom::KilledOther { tgid: victim.tgid }
    }
}

/// `oom_kill_task(p)`: `PF_MEMDIE` (2.4 also gives it `PF_MEMALLOC`, the right to
/// the last free pages, and a long time slice: here exiting needs no page, and the
/// faulting task yields), then `force_sig`: SIGTERM to a task with CAP_SYS_RAWIO
/// ("this process has hardware access, be more careful"), SIGKILL to any other.
/// Returns the signal sent.
fn oom_kill_task(k: &mut Kernel, tid: u32) -> i32 {
    let signo = match k.find_task(tid) {
        Some(t) if t.cred.capable(CAP_SYS_RAWIO) => SIGTERM,
        Some(_) => SIGKILL,
        None => return SIGKILL,
    };
    let t = if k.task.pid == tid { Some(&mut k.task) } else { k.tasks.get_mut(&tid) };
    if let Some(t) = t {
        t.oom.memdie = true;
        // force_sig: neither blocked nor ignored (SIGKILL never is; SIGTERM may be).
        let bit = crate::signal::sigmask(signo);
        t.sig.blocked &= !bit;
    }
    if k.task.pid == tid {
        crate::signal::force_sig_info(k, SigInfo::kernel(signo));
    } else {
        unignore(k, tid, signo);
        send_sig_to(k, tid, SigInfo::kernel(signo));
    }
    signo
}

/// `force_sig_info`'s "SIG_IGN becomes SIG_DFL" for a task that is not current.
fn unignore(k: &mut Kernel, tid: u32, signo: i32) {
    let Some(id) = k.tasks.get(&tid).map(|t| t.ids.sighand) else { return };
    let actions = if id == k.task.ids.sighand { Some(&mut k.task.sig.actions) } else { k.parked.sighand.get_mut(&id) };
    if let Some(a) = actions.and_then(|a| a.get_mut(signo as usize - 1)) {
        if a.handler == crate::signal::SIG_IGN {
            a.handler = crate::signal::SIG_DFL;
        }
    }
}

/// Hands the OOM kill to the observer, if there is one.
fn record(k: &mut Kernel, candidates: Vec<OomCandidate>, victim: Option<OomCandidate>, signo: i32, killed: Vec<u32>) {
    if k.observer.is_none() {
        return;
    }
    let ev = OomEvent {
        seq: k.fault_seq,
        pid: k.task.tgid,
        tid: k.task.pid,
        machine_icount: k.cpu.icount,
        candidates,
        victim,
        signo,
        killed,
    };
    // The faults before it first, so that the observer sees the order they came in.
    crate::trace::flush_fault_log(k);
    if let Some(obs) = k.observer.as_mut() {
        obs.oom_kill(&ev);
    }
}

/// The fault path after `handle_mm_fault` returned `VM_FAULT_OOM` (no frame, reclaim
/// freed nothing): the OOM killer; the fault is retried unless the faulting process is the one
/// that dies (see the module doc).
pub(super) fn oom_after_reclaim<R: Recorder>(k: &mut Kernel, user: bool, rec: &mut R) -> FaultResult {
    // Reclaim has run already: every frame allocation goes through
    // `vmscan::alloc_frame`, which calls try_to_free_pages before it gives up.
    match out_of_memory(k) {
        Oom::KilledOther { tgid } => {
            rec.step(|| Step::OomKill { victim: tgid });
            // 2.4's yield() in oom_kill: the victim gets to run and exit first.
            k.slice_left = 0;
            if user {
                FaultResult::OomRetry
            } else {
                // A copy in a system call cannot wait in the allocator here: it
                // takes the fixup (EFAULT), the victim dies all the same.
                super::fault::out_of_memory(k, false, rec)
            }
        }
        Oom::Waiting => {
            rec.step(|| Step::OomKill { victim: 0 });
            k.slice_left = 0;
            if user {
                FaultResult::OomRetry
            } else {
                super::fault::out_of_memory(k, false, rec)
            }
        }
        Oom::KilledCurrent | Oom::NoCandidate => super::fault::out_of_memory(k, user, rec),
    }
}
