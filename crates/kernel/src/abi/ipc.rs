//! SysV IPC structures of the i386 ABI (asm-generic/ipcbuf.h, shmbuf.h, msgbuf.h,
//! arch/x86/include/uapi/asm/sembuf.h, linux/sem.h, linux/msg.h, linux/shm.h): the
//! `*64_ds` layouts that `IPC_64` selects, which glibc and musl always ask for.
//! The times are split into low and high words (the y2038 layout of today's
//! headers); the high words are written as 0.

use core::mem::{offset_of, size_of};

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `struct ipc64_perm`: i386's `__kernel_mode_t` is an `unsigned short`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Ipc64Perm {
    pub key: i32,
    pub uid: u32,
    pub gid: u32,
    pub cuid: u32,
    pub cgid: u32,
    pub mode: u16,
    pub pad1: u16,
    pub seq: u16,
    pub pad2: u16,
    pub unused1: u32,
    pub unused2: u32,
}
const _: () = assert!(size_of::<Ipc64Perm>() == 36);
const _: () = assert!(offset_of!(Ipc64Perm, seq) == 24);

/// `struct shmid64_ds`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Shmid64Ds {
    pub shm_perm: Ipc64Perm,
    pub shm_segsz: u32,
    pub shm_atime: u32,
    pub shm_atime_high: u32,
    pub shm_dtime: u32,
    pub shm_dtime_high: u32,
    pub shm_ctime: u32,
    pub shm_ctime_high: u32,
    pub shm_cpid: i32,
    pub shm_lpid: i32,
    pub shm_nattch: u32,
    pub unused4: u32,
    pub unused5: u32,
}
const _: () = assert!(size_of::<Shmid64Ds>() == 84);
const _: () = assert!(offset_of!(Shmid64Ds, shm_nattch) == 72);

/// `struct shminfo64` (IPC_INFO).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Shminfo64 {
    pub shmmax: u32,
    pub shmmin: u32,
    pub shmmni: u32,
    pub shmseg: u32,
    pub shmall: u32,
    pub unused: [u32; 4],
}
const _: () = assert!(size_of::<Shminfo64>() == 36);

/// `struct shm_info` (SHM_INFO).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct ShmInfo {
    pub used_ids: i32,
    pub shm_tot: u32,
    pub shm_rss: u32,
    pub shm_swp: u32,
    pub swap_attempts: u32,
    pub swap_successes: u32,
}
const _: () = assert!(size_of::<ShmInfo>() == 24);

/// `struct semid64_ds` (x86's sembuf.h, the `__i386__` branch).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Semid64Ds {
    pub sem_perm: Ipc64Perm,
    pub sem_otime: u32,
    pub sem_otime_high: u32,
    pub sem_ctime: u32,
    pub sem_ctime_high: u32,
    pub sem_nsems: u32,
    pub unused3: u32,
    pub unused4: u32,
}
const _: () = assert!(size_of::<Semid64Ds>() == 64);

/// `struct seminfo` (IPC_INFO, SEM_INFO).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Seminfo {
    pub semmap: i32,
    pub semmni: i32,
    pub semmns: i32,
    pub semmnu: i32,
    pub semmsl: i32,
    pub semopm: i32,
    pub semume: i32,
    pub semusz: i32,
    pub semvmx: i32,
    pub semaem: i32,
}
const _: () = assert!(size_of::<Seminfo>() == 40);

/// `struct sembuf`: one operation of semop.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Sembuf {
    pub sem_num: u16,
    pub sem_op: i16,
    pub sem_flg: i16,
}
const _: () = assert!(size_of::<Sembuf>() == 6);

/// `struct msqid64_ds`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Msqid64Ds {
    pub msg_perm: Ipc64Perm,
    pub msg_stime: u32,
    pub msg_stime_high: u32,
    pub msg_rtime: u32,
    pub msg_rtime_high: u32,
    pub msg_ctime: u32,
    pub msg_ctime_high: u32,
    pub msg_cbytes: u32,
    pub msg_qnum: u32,
    pub msg_qbytes: u32,
    pub msg_lspid: i32,
    pub msg_lrpid: i32,
    pub unused4: u32,
    pub unused5: u32,
}
const _: () = assert!(size_of::<Msqid64Ds>() == 88);
const _: () = assert!(offset_of!(Msqid64Ds, msg_qbytes) == 68);

/// `struct msginfo` (IPC_INFO, MSG_INFO).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct Msginfo {
    pub msgpool: i32,
    pub msgmap: i32,
    pub msgmax: i32,
    pub msgmnb: i32,
    pub msgmni: i32,
    pub msgssz: i32,
    pub msgtql: i32,
    pub msgseg: u16,
    pub pad: u16,
}
const _: () = assert!(size_of::<Msginfo>() == 32);

/// `struct ipc_kludge`: version 0 of ipc(MSGRCV) passes the buffer and the type
/// through it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct IpcKludge {
    pub msgp: u32,
    pub msgtyp: i32,
}
const _: () = assert!(size_of::<IpcKludge>() == 8);
