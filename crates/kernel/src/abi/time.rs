//! Time structures of the i386 syscall ABI (linux/time.h, linux/time_types.h,
//! asm-i386/posix_types.h, linux/times.h).

use core::mem::{offset_of, size_of};

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// The old i386 `struct timespec`: 32-bit `time_t`, 32-bit `long`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Timespec {
    pub tv_sec: i32,
    pub tv_nsec: i32,
}
const _: () = assert!(size_of::<Timespec>() == 8);

/// `struct __kernel_timespec` (linux/time_types.h) of the *_time64 calls: 64-bit
/// `tv_sec` and `tv_nsec`; a 32-bit task's kernel reads only the low 32 bits of
/// `tv_nsec`. `packed(4)` keeps i386's 4-byte alignment of `long long`.
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct KernelTimespec {
    pub tv_sec: i64,
    pub tv_nsec: i64,
}
const _: () = assert!(size_of::<KernelTimespec>() == 16);
const _: () = assert!(offset_of!(KernelTimespec, tv_nsec) == 8);

/// i386 `struct timeval` (linux/time.h): 32-bit `time_t` and `suseconds_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Timeval {
    pub tv_sec: i32,
    pub tv_usec: i32,
}
const _: () = assert!(size_of::<Timeval>() == 8);

/// `struct timezone` (linux/time.h).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Timezone {
    pub tz_minuteswest: i32,
    pub tz_dsttime: i32,
}
const _: () = assert!(size_of::<Timezone>() == 8);

/// i386 `struct tms` (linux/times.h): four 32-bit `clock_t`s.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Tms {
    pub tms_utime: i32,
    pub tms_stime: i32,
    pub tms_cutime: i32,
    pub tms_cstime: i32,
}
const _: () = assert!(size_of::<Tms>() == 16);

/// i386 `struct itimerval` (linux/time.h, `__kernel_old_itimerval`): setitimer's.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Itimerval {
    pub it_interval: Timeval,
    pub it_value: Timeval,
}
const _: () = assert!(size_of::<Itimerval>() == 16);

/// The old i386 `struct itimerspec` of timer_settime / timerfd_settime.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Itimerspec {
    pub it_interval: Timespec,
    pub it_value: Timespec,
}
const _: () = assert!(size_of::<Itimerspec>() == 16);

/// `struct __kernel_itimerspec` of the *_time64 calls.
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct KernelItimerspec {
    pub it_interval: KernelTimespec,
    pub it_value: KernelTimespec,
}
const _: () = assert!(size_of::<KernelItimerspec>() == 32);

/// i386 `struct sigevent` (asm-generic/siginfo.h, SIGEV_MAX_SIZE 64): the union's
/// first word is `sigev_notify_thread_id` for SIGEV_THREAD_ID.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Sigevent {
    pub sigev_value: u32,
    pub sigev_signo: i32,
    pub sigev_notify: i32,
    pub sigev_tid: i32,
    pub _pad: [u32; 12],
}
const _: () = assert!(size_of::<Sigevent>() == 64);
const _: () = assert!(offset_of!(Sigevent, sigev_tid) == 12);
