//! Socket structures of the i386 syscall ABI (linux/socket.h, linux/in.h, linux/in6.h,
//! linux/un.h, and the compat layouts of net/compat.c).
//!
//! The socket addresses (`sockaddr_in`, `sockaddr_in6`, `sockaddr_un`) hold no
//! pointer or `long`, so their i386 layouts are the host's: they are copied as
//! bytes, up to `sizeof(struct sockaddr_storage)`. `struct msghdr`, `struct
//! cmsghdr` and `struct mmsghdr` hold pointers and `size_t`s and are converted
//! (the kernel's `compat_msghdr`, `compat_cmsghdr`, `compat_mmsghdr`).

use core::mem::{offset_of, size_of};

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `sizeof(struct sockaddr_storage)` (linux/socket.h): the most a socket address
/// may be (`move_addr_to_kernel` refuses a longer one).
pub const SOCKADDR_STORAGE: usize = 128;

/// `struct sockaddr_un` (linux/un.h): `sa_family_t sun_family; char sun_path[108]`.
#[repr(C)]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct SockaddrUn {
    pub sun_family: u16,
    pub sun_path: [u8; 108],
}
const _: () = assert!(size_of::<SockaddrUn>() == 110);
const _: () = assert!(size_of::<SockaddrUn>() == size_of::<libc::sockaddr_un>());

/// `struct sockaddr_in` (linux/in.h); the same bytes on the host.
#[repr(C)]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct SockaddrIn {
    pub sin_family: u16,
    pub sin_port: u16,
    pub sin_addr: u32,
    pub __pad: [u8; 8],
}
const _: () = assert!(size_of::<SockaddrIn>() == 16);
const _: () = assert!(size_of::<SockaddrIn>() == size_of::<libc::sockaddr_in>());

/// `struct sockaddr_in6` (linux/in6.h); the same bytes on the host.
#[repr(C)]
#[derive(Clone, Copy, Debug, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct SockaddrIn6 {
    pub sin6_family: u16,
    pub sin6_port: u16,
    pub sin6_flowinfo: u32,
    pub sin6_addr: [u8; 16],
    pub sin6_scope_id: u32,
}
const _: () = assert!(size_of::<SockaddrIn6>() == 28);
const _: () = assert!(size_of::<SockaddrIn6>() == size_of::<libc::sockaddr_in6>());

/// `struct compat_msghdr` (include/net/compat.h): the i386 `struct msghdr`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct MsgHdr {
    pub msg_name: u32,
    pub msg_namelen: u32,
    pub msg_iov: u32,
    pub msg_iovlen: u32,
    pub msg_control: u32,
    pub msg_controllen: u32,
    pub msg_flags: u32,
}
const _: () = assert!(size_of::<MsgHdr>() == 28);
const _: () = assert!(offset_of!(MsgHdr, msg_namelen) == 4 && offset_of!(MsgHdr, msg_controllen) == 20);

/// `struct compat_mmsghdr`: a msghdr and the count of bytes that call moved.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct MMsgHdr {
    pub msg_hdr: MsgHdr,
    pub msg_len: u32,
}
const _: () = assert!(size_of::<MMsgHdr>() == 32);

/// `struct compat_cmsghdr`: the i386 control-message header (`size_t cmsg_len` is
/// 32 bits; the host's is 64, so every control message is rebuilt).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct CmsgHdr {
    pub cmsg_len: u32,
    pub cmsg_level: i32,
    pub cmsg_type: i32,
}
const _: () = assert!(size_of::<CmsgHdr>() == 12);

/// `CMSG_COMPAT_ALIGN`: i386 control messages are aligned to 4 bytes.
pub const fn cmsg_align(len: usize) -> usize {
    (len + 3) & !3
}

/// `struct linger` (linux/socket.h): two ints on every architecture.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Linger {
    pub l_onoff: i32,
    pub l_linger: i32,
}
const _: () = assert!(size_of::<Linger>() == 8);
const _: () = assert!(size_of::<Linger>() == size_of::<libc::linger>());

/// `struct ucred` (linux/socket.h): pid, uid, gid; the same 12 bytes on the host.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Ucred {
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
}
const _: () = assert!(size_of::<Ucred>() == 12);
const _: () = assert!(size_of::<Ucred>() == size_of::<libc::ucred>());
