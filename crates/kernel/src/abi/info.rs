//! System information structures (linux/utsname.h, linux/sysinfo.h).

use core::mem::{offset_of, size_of};

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Length of each `struct new_utsname` field (`__NEW_UTS_LEN` + 1).
pub const UTS_LEN: usize = 65;

/// `struct new_utsname` (linux/utsname.h) of uname(2): six NUL-padded strings.
#[repr(C)]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct NewUtsname {
    pub sysname: [u8; UTS_LEN],
    pub nodename: [u8; UTS_LEN],
    pub release: [u8; UTS_LEN],
    pub version: [u8; UTS_LEN],
    pub machine: [u8; UTS_LEN],
    pub domainname: [u8; UTS_LEN],
}
const _: () = assert!(size_of::<NewUtsname>() == 390);

/// i386 `struct sysinfo` (linux/sysinfo.h): 32-bit `long`s, then `_f` padding to
/// the 64 bytes of the original layout.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Sysinfo {
    pub uptime: i32,
    pub loads: [u32; 3],
    pub totalram: u32,
    pub freeram: u32,
    pub sharedram: u32,
    pub bufferram: u32,
    pub totalswap: u32,
    pub freeswap: u32,
    pub procs: u16,
    pub pad: u16,
    pub totalhigh: u32,
    pub freehigh: u32,
    pub mem_unit: u32,
    /// `char _f[20 - 2 * sizeof(long) - sizeof(int)]`.
    pub _f: [u8; 8],
}
const _: () = assert!(size_of::<Sysinfo>() == 64);
const _: () = assert!(offset_of!(Sysinfo, procs) == 40 && offset_of!(Sysinfo, mem_unit) == 52);
