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
    if k.multitasking() {
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
    if k.multitasking() {
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
