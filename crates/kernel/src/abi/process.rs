//! Process and memory-map structures of the i386 syscall ABI (linux/resource.h,
//! asm-i386/ldt.h).

use core::mem::{offset_of, size_of};

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use super::time::Timeval;

/// i386 `struct rusage` (linux/resource.h): two timevals and fourteen `long`s.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Rusage {
    pub ru_utime: Timeval,
    pub ru_stime: Timeval,
    pub ru_maxrss: i32,
    pub ru_ixrss: i32,
    pub ru_idrss: i32,
    pub ru_isrss: i32,
    pub ru_minflt: i32,
    pub ru_majflt: i32,
    pub ru_nswap: i32,
    pub ru_inblock: i32,
    pub ru_oublock: i32,
    pub ru_msgsnd: i32,
    pub ru_msgrcv: i32,
    pub ru_nsignals: i32,
    pub ru_nvcsw: i32,
    pub ru_nivcsw: i32,
}
const _: () = assert!(size_of::<Rusage>() == 72);
const _: () = assert!(offset_of!(Rusage, ru_minflt) == 32 && offset_of!(Rusage, ru_majflt) == 36);

/// i386 `struct rlimit` (linux/resource.h): 32-bit `unsigned long`s.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Rlimit {
    pub rlim_cur: u32,
    pub rlim_max: u32,
}
const _: () = assert!(size_of::<Rlimit>() == 8);

/// `struct rlimit64` (linux/resource.h) of prlimit64; `packed(4)` keeps i386's
/// alignment (the offsets are the same either way).
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Rlimit64 {
    pub rlim_cur: u64,
    pub rlim_max: u64,
}
const _: () = assert!(size_of::<Rlimit64>() == 16);

/// `struct user_desc` (asm-i386/ldt.h) of set_thread_area / get_thread_area and
/// clone's CLONE_SETTLS. The C bit-fields (`seg_32bit:1, contents:2,
/// read_exec_only:1, limit_in_pages:1, seg_not_present:1, useable:1`) share one
/// word, kept whole in `flags`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct UserDesc {
    pub entry_number: u32,
    pub base_addr: u32,
    pub limit: u32,
    pub flags: u32,
}
const _: () = assert!(size_of::<UserDesc>() == 16);

/// `struct mmap_arg_struct` (arch/x86/kernel/sys_ia32.c; 2.4's
/// arch/i386/kernel/sys_i386.c): old_mmap's six arguments in memory.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct MmapArgStruct {
    pub addr: u32,
    pub len: u32,
    pub prot: u32,
    pub flags: u32,
    pub fd: u32,
    /// In bytes, unlike mmap2's page offset.
    pub offset: u32,
}
const _: () = assert!(size_of::<MmapArgStruct>() == 24);

/// `struct clone_args` of clone3 (linux/sched.h), every field a `__aligned_u64`:
/// 64 bytes in its first version (`CLONE_ARGS_SIZE_VER0`), 80 with `set_tid` and
/// `set_tid_size` (VER1), 88 with `cgroup` (VER2).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct CloneArgs {
    pub flags: u64,
    pub pidfd: u64,
    pub child_tid: u64,
    pub parent_tid: u64,
    pub exit_signal: u64,
    pub stack: u64,
    pub stack_size: u64,
    pub tls: u64,
    pub set_tid: u64,
    pub set_tid_size: u64,
    pub cgroup: u64,
}
const _: () = assert!(size_of::<CloneArgs>() == 88);
const _: () = assert!(offset_of!(CloneArgs, stack) == 40 && offset_of!(CloneArgs, set_tid) == 64);

/// The i386 `siginfo_t` waitid fills in (asm-generic/siginfo.h, the `_sigchld`
/// member): 128 bytes, the rest zero.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct ChldSiginfo {
    pub si_signo: i32,
    pub si_errno: i32,
    pub si_code: i32,
    pub si_pid: i32,
    pub si_uid: u32,
    pub si_status: i32,
    pub si_utime: i32,
    pub si_stime: i32,
    pub pad: [u32; 24],
}
const _: () = assert!(size_of::<ChldSiginfo>() == 128);
const _: () = assert!(offset_of!(ChldSiginfo, si_status) == 20);

/// `struct __user_cap_header_struct` (linux/capability.h).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct CapUserHeader {
    pub version: u32,
    pub pid: i32,
}
const _: () = assert!(size_of::<CapUserHeader>() == 8);

/// `struct __user_cap_data_struct`: one 32-bit block of each set; v1 passes one
/// block, v2 and v3 two (capabilities 0-31, then 32-63).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct CapUserData {
    pub effective: u32,
    pub permitted: u32,
    pub inheritable: u32,
}
const _: () = assert!(size_of::<CapUserData>() == 12);
