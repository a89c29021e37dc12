//! Clocks and sleeping, answered by the host's clocks. With several guest processes
//! a sleep does not block the host: the process sleeps in the scheduler until the
//! deadline (see [`crate::sched`]).
//!
//! i386 has two `struct timespec`s: the old one (32-bit `tv_sec`, 32-bit `tv_nsec`,
//! 8 bytes) and `__kernel_timespec` of the *_time64 calls (64-bit `tv_sec`, 64-bit
//! `tv_nsec` of which the kernel reads the low 32 bits, 16 bytes).

use std::time::{Duration, Instant};

use crate::abi::time::{KernelTimespec, Timespec, Timeval, Timezone, Tms};
use crate::abi::IntoBytes;
use crate::errno::{host_errno, Errno, SysResult, EFAULT, EINVAL, EOVERFLOW, ERESTARTNOHAND};
use crate::sched::{interruptible_sleep_on, WaitOn};
use crate::syscall::Args;
use crate::Kernel;

const NSEC_PER_SEC: i64 = 1_000_000_000;

/// Reads a guest timespec (old or time64) and checks it is a valid duration/time:
/// EFAULT, or EINVAL for a negative second count or nanoseconds out of range.
pub fn read_timespec(k: &mut Kernel, addr: u32, time64: bool) -> Result<libc::timespec, Errno> {
    let (sec, nsec) = if time64 {
        let mut ts = KernelTimespec::default();
        k.copy_from_user(addr, ts.as_mut_bytes()).map_err(|_| EFAULT)?;
        // Only the low 32 bits of tv_nsec count on a 32-bit task.
        (ts.tv_sec, i64::from(ts.tv_nsec as i32))
    } else {
        let mut ts = Timespec::default();
        k.copy_from_user(addr, ts.as_mut_bytes()).map_err(|_| EFAULT)?;
        (i64::from(ts.tv_sec), i64::from(ts.tv_nsec))
    };
    if sec < 0 || !(0..NSEC_PER_SEC).contains(&nsec) {
        return Err(EINVAL);
    }
    Ok(libc::timespec { tv_sec: sec, tv_nsec: nsec })
}

/// Writes a timespec in the old (EOVERFLOW past 2038) or time64 layout.
pub fn write_timespec(k: &mut Kernel, addr: u32, ts: &libc::timespec, time64: bool) -> Result<(), Errno> {
    if time64 {
        let t = KernelTimespec { tv_sec: ts.tv_sec, tv_nsec: ts.tv_nsec };
        k.copy_to_user(addr, t.as_bytes()).map_err(|_| EFAULT)
    } else {
        let tv_sec = i32::try_from(ts.tv_sec).map_err(|_| EOVERFLOW)?;
        let t = Timespec { tv_sec, tv_nsec: ts.tv_nsec as i32 };
        k.copy_to_user(addr, t.as_bytes()).map_err(|_| EFAULT)
    }
}

/// Clock ids the guest may name. Negative ids (per-process CPU clocks and dynamic
/// clocks) would name host objects; they are refused.
fn clock_id(clk: u32) -> Result<libc::clockid_t, Errno> {
    let c = clk as i32;
    if c < 0 {
        return Err(EINVAL);
    }
    Ok(c)
}

fn host_clock(clk: libc::clockid_t) -> Result<libc::timespec, Errno> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid out-pointer.
    if unsafe { libc::clock_gettime(clk, &mut ts) } < 0 {
        return Err(host_errno());
    }
    Ok(ts)
}

/// clock_gettime(clk, tp) and clock_gettime64.
pub fn sys_clock_gettime(k: &mut Kernel, a: Args, time64: bool) -> SysResult {
    let ts = host_clock(clock_id(a[0])?)?;
    write_timespec(k, a[1], &ts, time64)?;
    Ok(0)
}

/// clock_getres(clk, res) and clock_getres_time64; `res` may be NULL.
pub fn sys_clock_getres(k: &mut Kernel, a: Args, time64: bool) -> SysResult {
    let clk = clock_id(a[0])?;
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid out-pointer.
    if unsafe { libc::clock_getres(clk, &mut ts) } < 0 {
        return Err(host_errno());
    }
    if a[1] != 0 {
        write_timespec(k, a[1], &ts, time64)?;
    }
    Ok(0)
}

/// gettimeofday(struct timeval *tv, struct timezone *tz): either may be NULL; the
/// kernel's timezone is 0/0.
pub fn sys_gettimeofday(k: &mut Kernel, a: Args) -> SysResult {
    if a[0] != 0 {
        let ts = host_clock(libc::CLOCK_REALTIME)?;
        let tv = Timeval { tv_sec: ts.tv_sec as i32, tv_usec: (ts.tv_nsec / 1000) as i32 };
        k.copy_to_user(a[0], tv.as_bytes()).map_err(|_| EFAULT)?;
    }
    if a[1] != 0 {
        k.copy_to_user(a[1], Timezone::default().as_bytes()).map_err(|_| EFAULT)?;
    }
    Ok(0)
}

/// time(time_t *tloc)
pub fn sys_time(k: &mut Kernel, a: Args) -> SysResult {
    let t = host_clock(libc::CLOCK_REALTIME)?.tv_sec as u32;
    if a[0] != 0 {
        k.put_user::<u32>(a[0], t)?;
    }
    Ok(t)
}

/// times(struct tms *buf): the emulator's CPU times in clock ticks; returns the
/// host's tick count (truncated to 32 bits, as on i386).
pub fn sys_times(k: &mut Kernel, a: Args) -> SysResult {
    // SAFETY: tms is plain data; `t` is a valid out-pointer.
    let mut t: libc::tms = unsafe { std::mem::zeroed() };
    // SAFETY: times writes only into the struct it is given.
    let r = unsafe { libc::times(&mut t) };
    if a[0] != 0 {
        // clock_t is 32 bits on i386: truncated, as a native run's would wrap.
        let g = Tms {
            tms_utime: t.tms_utime as i32,
            tms_stime: t.tms_stime as i32,
            tms_cutime: t.tms_cutime as i32,
            tms_cstime: t.tms_cstime as i32,
        };
        k.copy_to_user(a[0], g.as_bytes()).map_err(|_| EFAULT)?;
    }
    Ok(r as u32)
}

/// Sleeps on the host: relative, or absolute with TIMER_ABSTIME; restarts after a
/// host signal (the guest never sees it).
pub fn host_sleep(clock: libc::clockid_t, flags: libc::c_int, ts: libc::timespec) -> Result<(), Errno> {
    let mut req = ts;
    loop {
        let mut rem = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: both pointers are valid timespecs.
        let r = unsafe { libc::clock_nanosleep(clock, flags, &req, &mut rem) };
        match r {
            0 => return Ok(()),
            // A signal for the guest ends the sleep (see crate::hostsig); the call
            // starts again unless a handler runs.
            libc::EINTR if crate::hostsig::pending() => return Err(crate::errno::ERESTARTNOHAND),
            libc::EINTR => {
                if flags & libc::TIMER_ABSTIME == 0 {
                    req = rem;
                }
            }
            e => return Err(e),
        }
    }
}

fn duration(ts: &libc::timespec) -> Duration {
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// A sleep of `d` while there are several processes: sleeps in the scheduler until
/// the deadline, taken once when the call starts. A signal interrupts it
/// (-ERESTARTNOHAND: EINTR if a handler runs, else the sleep goes on to the same
/// deadline); the time left goes to `rem` if given.
fn sched_sleep(k: &mut Kernel, d: Duration, rem: Option<(u32, bool)>) -> SysResult {
    let deadline = crate::sched::deadline_after(k, d);
    let now = Instant::now();
    if now >= deadline {
        return Ok(0);
    }
    if k.signal_pending() {
        if let Some((addr, time64)) = rem.filter(|r| r.0 != 0) {
            let left = deadline - now;
            let ts =
                libc::timespec { tv_sec: left.as_secs() as i64, tv_nsec: i64::from(left.subsec_nanos()) };
            write_timespec(k, addr, &ts, time64)?;
        }
        return Err(ERESTARTNOHAND);
    }
    interruptible_sleep_on(k, WaitOn::Timer(deadline));
    Err(ERESTARTNOHAND)
}

/// nanosleep(req, rem). With one process the host sleeps and nothing can interrupt
/// it, so `rem` is left alone.
pub fn sys_nanosleep(k: &mut Kernel, a: Args) -> SysResult {
    let ts = read_timespec(k, a[0], false)?;
    if k.multitasking() || k.timers.next_clock.is_some() {
        return sched_sleep(k, duration(&ts), Some((a[1], false)));
    }
    host_sleep(libc::CLOCK_MONOTONIC, 0, ts)?;
    Ok(0)
}

/// clock_nanosleep(clk, flags, req, rem) and clock_nanosleep_time64.
pub fn sys_clock_nanosleep(k: &mut Kernel, a: Args, time64: bool) -> SysResult {
    let clk = clock_id(a[0])?;
    if !matches!(clk, libc::CLOCK_REALTIME | libc::CLOCK_MONOTONIC | libc::CLOCK_BOOTTIME | libc::CLOCK_TAI) {
        return Err(EINVAL);
    }
    let ts = read_timespec(k, a[2], time64)?;
    let flags = if a[1] & 1 != 0 { libc::TIMER_ABSTIME } else { 0 };
    // A clock timer armed: the sleep must be one its signal can interrupt.
    if k.multitasking() || k.timers.next_clock.is_some() {
        if flags == 0 {
            return sched_sleep(k, duration(&ts), Some((a[3], time64)));
        }
        // An absolute time on `clk`: how far it is from now.
        let now = host_clock(clk)?;
        let d = duration(&ts).saturating_sub(duration(&now));
        return sched_sleep(k, d, None);
    }
    host_sleep(clk, flags, ts)?;
    Ok(0)
}

// ---------------------------------------------------------------------------------
// Timers (crate::timer): alarm, setitimer/getitimer, POSIX timers, timerfd.

use crate::abi::time::{Itimerspec, Itimerval, KernelItimerspec, Sigevent};
use crate::abi::FromZeros;
use crate::timer::{self, PosixTimer, Timer, NSEC_PER_INSN};

const USEC_PER_SEC: i64 = 1_000_000;

/// A timer's time to go and interval in its own unit, as nanoseconds.
fn timer_get_ns(k: &Kernel, t: &Timer) -> (u64, u64) {
    let (now, unit) =
        if t.cpu { (timer::proc_cpu(k, k.task.tgid), NSEC_PER_INSN) } else { (k.timers.now_ns(), 1) };
    let left = if t.expires == 0 {
        0
    } else {
        // An expired timer not yet seen by the check: the smallest time left, as
        // `itimer_get_remtime` reports it.
        t.expires.saturating_sub(now).max(1) * unit
    };
    (left, t.interval * unit)
}

/// Arms `t` to expire `value` ns from now (0: disarm) with `interval` ns reload.
fn timer_set_ns(k: &Kernel, t: &mut Timer, value: u64, interval: u64) {
    let (now, unit) =
        if t.cpu { (timer::proc_cpu(k, k.task.tgid), NSEC_PER_INSN) } else { (k.timers.now_ns(), 1) };
    t.interval = interval.div_ceil(unit);
    t.expires = if value == 0 { 0 } else { now + value.div_ceil(unit).max(1) };
}

fn tv_ns(tv: &Timeval) -> Result<u64, Errno> {
    // `timeval_valid`.
    if tv.tv_sec < 0 || !(0..USEC_PER_SEC as i32).contains(&tv.tv_usec) {
        return Err(EINVAL);
    }
    Ok(tv.tv_sec as u64 * NSEC_PER_SEC as u64 + tv.tv_usec as u64 * 1000)
}

fn ns_tv(ns: u64) -> Timeval {
    // `ns_to_kernel_old_timeval` rounds up to the microsecond.
    let us = ns.div_ceil(1000);
    Timeval { tv_sec: (us / USEC_PER_SEC as u64) as i32, tv_usec: (us % USEC_PER_SEC as u64) as i32 }
}

/// `do_getitimer` for the current process.
fn get_itimer(k: &mut Kernel, which: usize) -> Itimerval {
    let t = k.timers.procs.get(&k.task.tgid).map(|p| p.itimer[which]).unwrap_or_default();
    let (left, iv) = timer_get_ns(k, &Timer { cpu: which != timer::ITIMER_REAL, ..t });
    Itimerval { it_interval: ns_tv(iv), it_value: ns_tv(left) }
}

/// `do_setitimer`: returns the old value.
fn set_itimer(k: &mut Kernel, which: usize, value: u64, interval: u64) -> Itimerval {
    let old = get_itimer(k, which);
    let mut t = Timer { cpu: which != timer::ITIMER_REAL, ..Default::default() };
    timer_set_ns(k, &mut t, value, interval);
    timer::current(k).itimer[which] = t;
    timer::recompute(k);
    old
}

/// getitimer(which, struct itimerval *)
pub fn sys_getitimer(k: &mut Kernel, a: Args) -> SysResult {
    let which = a[0] as usize;
    if which > timer::ITIMER_PROF {
        return Err(EINVAL);
    }
    let v = get_itimer(k, which);
    k.copy_to_user(a[1], v.as_bytes()).map_err(|_| EFAULT)?;
    Ok(0)
}

/// setitimer(which, new, old): a NULL `new` disarms (the "misfeature" today's
/// itimer.c still supports); the new value is read and checked before `which`.
pub fn sys_setitimer(k: &mut Kernel, a: Args) -> SysResult {
    let (value, interval) = if a[1] != 0 {
        let mut v = Itimerval::default();
        k.copy_from_user(a[1], v.as_mut_bytes()).map_err(|_| EFAULT)?;
        (tv_ns(&v.it_value)?, tv_ns(&v.it_interval)?)
    } else {
        (0, 0)
    };
    let which = a[0] as usize;
    if which > timer::ITIMER_PROF {
        return Err(EINVAL);
    }
    let old = set_itimer(k, which, value, interval);
    if a[2] != 0 {
        k.copy_to_user(a[2], old.as_bytes()).map_err(|_| EFAULT)?;
    }
    Ok(0)
}

/// alarm(seconds): ITIMER_REAL without interval; returns the seconds that were left,
/// rounded to the nearest (at least 1 if any time was left), as `alarm_setitimer`.
pub fn sys_alarm(k: &mut Kernel, a: Args) -> SysResult {
    // A 32-bit task's `unsigned int` seconds; `alarm_setitimer` caps them at INT_MAX.
    let secs = u64::from(a[0].min(i32::MAX as u32));
    let old = set_itimer(k, timer::ITIMER_REAL, secs * NSEC_PER_SEC as u64, 0);
    let v = old.it_value;
    let mut s = v.tv_sec as u32;
    if (v.tv_sec == 0 && v.tv_usec != 0) || v.tv_usec >= 500_000 {
        s += 1;
    }
    Ok(s)
}

/// Reads an itimerspec (old or time64), checked as `timespec64_valid`: (value,
/// interval) in ns, each with the raw timespec of the value.
fn read_itimerspec(
    k: &mut Kernel,
    addr: u32,
    time64: bool,
) -> Result<(libc::timespec, libc::timespec), Errno> {
    let (v, i) = if time64 {
        let mut s = KernelItimerspec::default();
        k.copy_from_user(addr, s.as_mut_bytes()).map_err(|_| EFAULT)?;
        let (v, i) = (s.it_value, s.it_interval);
        ((v.tv_sec, i64::from(v.tv_nsec as i32)), (i.tv_sec, i64::from(i.tv_nsec as i32)))
    } else {
        let mut s = Itimerspec::default();
        k.copy_from_user(addr, s.as_mut_bytes()).map_err(|_| EFAULT)?;
        let (v, i) = (s.it_value, s.it_interval);
        ((i64::from(v.tv_sec), i64::from(v.tv_nsec)), (i64::from(i.tv_sec), i64::from(i.tv_nsec)))
    };
    let ok = |(s, n): (i64, i64)| s >= 0 && (0..NSEC_PER_SEC).contains(&n);
    if !ok(v) || !ok(i) {
        return Err(EINVAL);
    }
    Ok((libc::timespec { tv_sec: v.0, tv_nsec: v.1 }, libc::timespec { tv_sec: i.0, tv_nsec: i.1 }))
}

fn write_itimerspec(k: &mut Kernel, addr: u32, v: &libc::itimerspec, time64: bool) -> Result<(), Errno> {
    if time64 {
        let c =
            |t: &libc::timespec| crate::abi::time::KernelTimespec { tv_sec: t.tv_sec, tv_nsec: t.tv_nsec };
        let s = KernelItimerspec { it_interval: c(&v.it_interval), it_value: c(&v.it_value) };
        k.copy_to_user(addr, s.as_bytes()).map_err(|_| EFAULT)
    } else {
        let c = |t: &libc::timespec| Timespec { tv_sec: t.tv_sec as i32, tv_nsec: t.tv_nsec as i32 };
        let s = Itimerspec { it_interval: c(&v.it_interval), it_value: c(&v.it_value) };
        k.copy_to_user(addr, s.as_bytes()).map_err(|_| EFAULT)
    }
}

fn ts_ns(t: &libc::timespec) -> u64 {
    (t.tv_sec as u64).saturating_mul(NSEC_PER_SEC as u64).saturating_add(t.tv_nsec as u64)
}

fn ns_ts(ns: u64) -> libc::timespec {
    libc::timespec { tv_sec: (ns / NSEC_PER_SEC as u64) as i64, tv_nsec: (ns % NSEC_PER_SEC as u64) as i64 }
}

/// The clocks a POSIX timer may use: Ok(true) for the process CPU clock. The
/// clocks that exist but have no timers (MONOTONIC_RAW, the COARSE ones) give
/// EOPNOTSUPP, as `do_timer_create` does for a clock without `timer_create`.
fn posix_clock(clk: i32) -> Result<bool, Errno> {
    match clk {
        libc::CLOCK_REALTIME | libc::CLOCK_MONOTONIC | libc::CLOCK_BOOTTIME | libc::CLOCK_TAI => Ok(false),
        libc::CLOCK_PROCESS_CPUTIME_ID => Ok(true),
        libc::CLOCK_MONOTONIC_RAW | libc::CLOCK_REALTIME_COARSE | libc::CLOCK_MONOTONIC_COARSE => {
            Err(libc::EOPNOTSUPP)
        }
        // CLOCK_THREAD_CPUTIME_ID timers and the alarm clocks are not implemented.
        _ => Err(EINVAL),
    }
}

/// timer_create(clockid, struct sigevent *, timer_t *)
pub fn sys_timer_create(k: &mut Kernel, a: Args) -> SysResult {
    let clock = a[0] as i32;
    let cpu = posix_clock(clock)?;
    let ev = if a[1] != 0 {
        let mut ev = Sigevent::new_zeroed();
        k.copy_from_user(a[1], ev.as_mut_bytes()).map_err(|_| EFAULT)?;
        // `good_sigevent`.
        let notify = ev.sigev_notify;
        if notify == SIGEV_SIGNAL_THREAD_ID {
            let tid = ev.sigev_tid as u32;
            if k.find_task(tid).is_none_or(|t| t.tgid != k.task.tgid) {
                return Err(EINVAL);
            }
        }
        match notify {
            SIGEV_SIGNAL_THREAD_ID | timer::SIGEV_SIGNAL | timer::SIGEV_THREAD => {
                if !(1..=crate::signal::NSIG).contains(&ev.sigev_signo) {
                    return Err(EINVAL);
                }
            }
            timer::SIGEV_NONE => {}
            _ => return Err(EINVAL),
        }
        Some(ev)
    } else {
        None
    };
    let p = timer::current(k);
    // `posix_timer_add`: the next free id from `next_posix_timer_id`, wrapping at
    // INT_MAX.
    let mut id = p.next_id;
    while p.posix.contains_key(&id) {
        id = (id + 1) & i32::MAX;
    }
    p.next_id = (id + 1) & i32::MAX;
    let (notify, signo, value, tid) = match ev {
        Some(ev) => (ev.sigev_notify, ev.sigev_signo, ev.sigev_value, ev.sigev_tid as u32),
        // No sigevent: SIGALRM with the timer id as value.
        None => (timer::SIGEV_SIGNAL, crate::signal::SIGALRM, id as u32, 0),
    };
    let t = PosixTimer {
        t: Timer { cpu, ..Default::default() },
        clock,
        notify,
        signo,
        value,
        tid,
        overrun: 0,
        overrun_last: 0,
    };
    p.posix.insert(id, t);
    if k.put_user::<u32>(a[2], id as u32).is_err() {
        timer::current(k).posix.remove(&id);
        return Err(EFAULT);
    }
    Ok(0)
}

const SIGEV_SIGNAL_THREAD_ID: i32 = timer::SIGEV_SIGNAL | timer::SIGEV_THREAD_ID;

fn posix_timer(k: &Kernel, id: u32) -> Result<PosixTimer, Errno> {
    k.timers.procs.get(&k.task.tgid).and_then(|p| p.posix.get(&(id as i32)).copied()).ok_or(EINVAL)
}

fn posix_gettime(k: &Kernel, t: &PosixTimer) -> libc::itimerspec {
    let (left, iv) = timer_get_ns(k, &t.t);
    libc::itimerspec { it_interval: ns_ts(iv), it_value: ns_ts(left) }
}

/// timer_settime(id, flags, new, old) and timer_settime64.
pub fn sys_timer_settime(k: &mut Kernel, a: Args, time64: bool) -> SysResult {
    if a[2] == 0 {
        return Err(EINVAL);
    }
    let (value, interval) = read_itimerspec(k, a[2], time64)?;
    let mut t = posix_timer(k, a[0])?;
    let old = posix_gettime(k, &t);
    let mut v = ts_ns(&value);
    if a[1] & 1 != 0 && v != 0 {
        // TIMER_ABSTIME: the time from now on the timer's clock (a time already
        // past fires at once).
        let now = if t.t.cpu {
            timer::proc_cpu(k, k.task.tgid) * NSEC_PER_INSN
        } else {
            ts_ns(&host_clock(t.clock)?)
        };
        v = v.saturating_sub(now).max(1);
    }
    timer_set_ns(k, &mut t.t, v, ts_ns(&interval));
    t.overrun = 0;
    if let Some(p) = k.timers.procs.get_mut(&k.task.tgid) {
        p.posix.insert(a[0] as i32, t);
    }
    timer::recompute(k);
    if a[3] != 0 {
        write_itimerspec(k, a[3], &old, time64)?;
    }
    Ok(0)
}

/// timer_gettime(id, cur) and timer_gettime64.
pub fn sys_timer_gettime(k: &mut Kernel, a: Args, time64: bool) -> SysResult {
    let t = posix_timer(k, a[0])?;
    let v = posix_gettime(k, &t);
    write_itimerspec(k, a[1], &v, time64)?;
    Ok(0)
}

/// timer_getoverrun(id): the overrun count of the last signal, capped at
/// DELAYTIMER_MAX (INT_MAX).
pub fn sys_timer_getoverrun(k: &mut Kernel, a: Args) -> SysResult {
    // Expiries that found the signal still queued count until the next one is queued
    // (the kernel folds them into `it_overrun_last` at delivery).
    let t = posix_timer(k, a[0])?;
    Ok(t.overrun_last.saturating_add(t.overrun).max(0) as u32)
}

/// timer_delete(id)
pub fn sys_timer_delete(k: &mut Kernel, a: Args) -> SysResult {
    posix_timer(k, a[0])?;
    if let Some(p) = k.timers.procs.get_mut(&k.task.tgid) {
        p.posix.remove(&(a[0] as i32));
    }
    timer::recompute(k);
    Ok(0)
}

const TFD_TIMER_ABSTIME: u32 = 1;
const TFD_TIMER_CANCEL_ON_SET: u32 = 2;

/// timerfd_create(clockid, flags): a host timerfd in the guest's fd table, so read,
/// poll, select and epoll work through the host. The clock and flags are checked
/// here first, as `timerfd_create` checks them.
pub fn sys_timerfd_create(k: &mut Kernel, a: Args) -> SysResult {
    let clock = a[0] as i32;
    let flags = a[1];
    let allowed = libc::O_CLOEXEC as u32 | libc::O_NONBLOCK as u32;
    if flags & !allowed != 0 {
        return Err(EINVAL);
    }
    if !matches!(
        clock,
        libc::CLOCK_REALTIME
            | libc::CLOCK_MONOTONIC
            | libc::CLOCK_BOOTTIME
            | libc::CLOCK_REALTIME_ALARM
            | libc::CLOCK_BOOTTIME_ALARM
    ) {
        return Err(EINVAL);
    }
    let hflags = (flags | libc::O_CLOEXEC as u32) as libc::c_int;
    // SAFETY: timerfd_create has no pointer arguments.
    let h = unsafe { libc::timerfd_create(clock, hflags) };
    if h < 0 {
        return Err(host_errno());
    }
    super::fs::install_new(
        k,
        0,
        crate::files::OpenFile {
            cloexec: flags & libc::O_CLOEXEC as u32 != 0,
            ..crate::files::OpenFile::new(h)
        },
    )
}

/// timerfd_settime(fd, flags, new, old) and timerfd_settime64.
pub fn sys_timerfd_settime(k: &mut Kernel, a: Args, time64: bool) -> SysResult {
    if a[1] & !(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET) != 0 {
        return Err(EINVAL);
    }
    let (value, interval) = read_itimerspec(k, a[2], time64)?;
    let h = k.task.files.host(a[0])?;
    let new = libc::itimerspec { it_interval: interval, it_value: value };
    let mut old = libc::itimerspec { it_interval: ns_ts(0), it_value: ns_ts(0) };
    // SAFETY: `new` and `old` are valid itimerspecs for the duration of the call.
    if unsafe { libc::timerfd_settime(h, a[1] as libc::c_int, &new, &mut old) } < 0 {
        return Err(host_errno());
    }
    if a[3] != 0 {
        write_itimerspec(k, a[3], &old, time64)?;
    }
    Ok(0)
}

/// timerfd_gettime(fd, cur) and timerfd_gettime64.
pub fn sys_timerfd_gettime(k: &mut Kernel, a: Args, time64: bool) -> SysResult {
    let h = k.task.files.host(a[0])?;
    let mut cur = libc::itimerspec { it_interval: ns_ts(0), it_value: ns_ts(0) };
    // SAFETY: `cur` is a valid out-pointer.
    if unsafe { libc::timerfd_gettime(h, &mut cur) } < 0 {
        return Err(host_errno());
    }
    write_itimerspec(k, a[1], &cur, time64)?;
    Ok(0)
}
