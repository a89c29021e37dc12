//! File-system structures of the i386 syscall ABI (asm-i386/stat.h, statfs.h,
//! fcntl.h, linux/stat.h, linux/dirent.h, linux/uio.h, linux/poll.h,
//! linux/eventpoll.h, asm-i386/termbits.h, asm-i386/termios.h).

use core::mem::{offset_of, size_of};

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// i386 `struct stat64` (asm-i386/stat.h, declared `__attribute__((packed))`; every
/// field is 4-aligned, so `packed(4)` gives the same offsets). `__st_ino` is the
/// truncated inode number old programs read; `st_ino` at the end is the full one.
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Stat64 {
    pub st_dev: u64,
    pub __pad0: [u8; 4],
    pub __st_ino: u32,
    pub st_mode: u32,
    pub st_nlink: u32,
    pub st_uid: u32,
    pub st_gid: u32,
    pub st_rdev: u64,
    pub __pad3: [u8; 4],
    pub st_size: i64,
    pub st_blksize: u32,
    pub st_blocks: u64,
    pub st_atime: u32,
    pub st_atime_nsec: u32,
    pub st_mtime: u32,
    pub st_mtime_nsec: u32,
    pub st_ctime: u32,
    pub st_ctime_nsec: u32,
    pub st_ino: u64,
}
// asm-i386/stat.h: sizeof(struct stat64) == 96.
const _: () = assert!(size_of::<Stat64>() == 96);
const _: () = assert!(offset_of!(Stat64, st_size) == 44 && offset_of!(Stat64, st_blocks) == 56);
const _: () = assert!(offset_of!(Stat64, st_ino) == 88);

/// `struct statx_timestamp` (linux/stat.h).
#[repr(C)]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct StatxTimestamp {
    pub tv_sec: i64,
    pub tv_nsec: u32,
    pub __reserved: i32,
}
const _: () = assert!(size_of::<StatxTimestamp>() == 16);

/// `struct statx` (linux/stat.h): the same 256 bytes on every architecture, with
/// every 64-bit field naturally aligned, so the host's answer is passed on as is.
/// Kernels after 6.1 carve new fields out of `__spare3`; they pass through too.
#[repr(C)]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Statx {
    pub stx_mask: u32,
    pub stx_blksize: u32,
    pub stx_attributes: u64,
    pub stx_nlink: u32,
    pub stx_uid: u32,
    pub stx_gid: u32,
    pub stx_mode: u16,
    pub __spare0: [u16; 1],
    pub stx_ino: u64,
    pub stx_size: u64,
    pub stx_blocks: u64,
    pub stx_attributes_mask: u64,
    pub stx_atime: StatxTimestamp,
    pub stx_btime: StatxTimestamp,
    pub stx_ctime: StatxTimestamp,
    pub stx_mtime: StatxTimestamp,
    pub stx_rdev_major: u32,
    pub stx_rdev_minor: u32,
    pub stx_dev_major: u32,
    pub stx_dev_minor: u32,
    pub stx_mnt_id: u64,
    pub stx_dio_mem_align: u32,
    pub stx_dio_offset_align: u32,
    pub __spare3: [u64; 12],
}
// linux/stat.h: struct statx is 0x100 bytes.
const _: () = assert!(size_of::<Statx>() == 256);
const _: () = assert!(offset_of!(Statx, stx_atime) == 64 && offset_of!(Statx, stx_mnt_id) == 144);

/// i386 `struct flock` (asm-i386/fcntl.h): 32-bit `off_t`s.
#[repr(C)]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Flock {
    pub l_type: i16,
    pub l_whence: i16,
    pub l_start: i32,
    pub l_len: i32,
    pub l_pid: i32,
}
const _: () = assert!(size_of::<Flock>() == 16);

/// i386 `struct flock64` (asm-i386/fcntl.h): `loff_t` aligned to 4, so `l_start`
/// follows the two shorts directly.
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Flock64 {
    pub l_type: i16,
    pub l_whence: i16,
    pub l_start: i64,
    pub l_len: i64,
    pub l_pid: i32,
}
const _: () = assert!(size_of::<Flock64>() == 24);
const _: () = assert!(offset_of!(Flock64, l_start) == 4 && offset_of!(Flock64, l_pid) == 20);

/// i386 `struct statfs64` (asm-i386/statfs.h via asm-generic/statfs.h,
/// `ARCH_PACK_STATFS64` = packed(4)).
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Statfs64 {
    pub f_type: u32,
    pub f_bsize: u32,
    pub f_blocks: u64,
    pub f_bfree: u64,
    pub f_bavail: u64,
    pub f_files: u64,
    pub f_ffree: u64,
    pub f_fsid: [u32; 2],
    pub f_namelen: u32,
    pub f_frsize: u32,
    pub f_flags: u32,
    pub f_spare: [u32; 4],
}
// asm-generic/statfs.h on i386: 84 bytes.
const _: () = assert!(size_of::<Statfs64>() == 84);
const _: () = assert!(offset_of!(Statfs64, f_fsid) == 48 && offset_of!(Statfs64, f_namelen) == 56);

/// i386 `struct statfs` (asm-generic/statfs.h with a 32-bit `__statfs_word`): what
/// statfs/fstatfs write; values that do not fit are EOVERFLOW.
#[repr(C)]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Statfs {
    pub f_type: u32,
    pub f_bsize: u32,
    pub f_blocks: u32,
    pub f_bfree: u32,
    pub f_bavail: u32,
    pub f_files: u32,
    pub f_ffree: u32,
    pub f_fsid: [u32; 2],
    pub f_namelen: u32,
    pub f_frsize: u32,
    pub f_flags: u32,
    pub f_spare: [u32; 4],
}
const _: () = assert!(size_of::<Statfs>() == 64);
const _: () = assert!(offset_of!(Statfs, f_fsid) == 28 && offset_of!(Statfs, f_namelen) == 36);

/// i386 `struct utimbuf` (linux/utime.h): 32-bit access and modification times.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Utimbuf {
    pub actime: i32,
    pub modtime: i32,
}
const _: () = assert!(size_of::<Utimbuf>() == 8);

/// The fixed part of `struct linux_dirent64` (linux/dirent.h) up to the name:
/// `offsetof(struct linux_dirent64, d_name)` is 19, and the NUL-terminated name
/// follows directly (records are padded to 8 bytes by `d_reclen`).
#[repr(C, packed)]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct LinuxDirent64Header {
    pub d_ino: u64,
    pub d_off: i64,
    pub d_reclen: u16,
    pub d_type: u8,
}
const _: () = assert!(size_of::<LinuxDirent64Header>() == 19);

/// i386 `struct iovec` (linux/uio.h).
#[repr(C)]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Iovec {
    pub iov_base: u32,
    pub iov_len: u32,
}
const _: () = assert!(size_of::<Iovec>() == 8);

/// `struct pollfd` (asm-generic/poll.h).
#[repr(C)]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Pollfd {
    pub fd: i32,
    pub events: i16,
    pub revents: i16,
}
const _: () = assert!(size_of::<Pollfd>() == 8);

/// `struct epoll_event` (linux/eventpoll.h): `__attribute__((packed))` on x86, so
/// the 64-bit `data` follows `events` at offset 4 on i386 and on the x86-64 host
/// alike.
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct EpollEvent {
    pub events: u32,
    pub data: u64,
}
const _: () = assert!(size_of::<EpollEvent>() == 12);
const _: () = assert!(offset_of!(EpollEvent, data) == 4);

/// `NCCS` of the kernel's `struct termios` (asm-i386/termbits.h).
pub const NCCS: usize = 19;

/// The kernel's `struct termios` of TCGETS/TCSETS (asm-i386/termbits.h; glibc's
/// user-side `struct termios` is a different, larger one). x86-64 has the same
/// layout, so the host's is passed on as is.
#[repr(C)]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Termios {
    pub c_iflag: u32,
    pub c_oflag: u32,
    pub c_cflag: u32,
    pub c_lflag: u32,
    pub c_line: u8,
    pub c_cc: [u8; NCCS],
}
const _: () = assert!(size_of::<Termios>() == 36);

/// `struct winsize` (asm-i386/termios.h).
#[repr(C)]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Winsize {
    pub ws_row: u16,
    pub ws_col: u16,
    pub ws_xpixel: u16,
    pub ws_ypixel: u16,
}
const _: () = assert!(size_of::<Winsize>() == 8);
