//! System information: uname, sysinfo, getrandom.

use crate::errno::{host_errno, SysResult, EFAULT, EINVAL};
use crate::syscall::Args;
use crate::Kernel;

/// Length of each `struct new_utsname` field.
const UTS_LEN: usize = 65;

/// The `struct new_utsname` (6 × 65 bytes) the guest sees: the host's names and
/// release (static glibc 2.36 refuses kernels older than 3.2, so the modern release
/// string is kept) with machine "i686".
pub fn utsname_bytes() -> [u8; 6 * UTS_LEN] {
    // SAFETY: utsname is plain data; `u` is a valid out-pointer.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    unsafe { libc::uname(&mut u) };
    let mut b = [0u8; 6 * UTS_LEN];
    let fields: [&[libc::c_char]; 6] =
        [&u.sysname, &u.nodename, &u.release, &u.version, &u.machine, &u.domainname];
    for (i, f) in fields.iter().enumerate() {
        let out = &mut b[i * UTS_LEN..(i + 1) * UTS_LEN];
        let src: Vec<u8> = match i {
            0 => b"Linux".to_vec(),
            4 => b"i686".to_vec(),
            _ => f.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect(),
        };
        let n = src.len().min(UTS_LEN - 1);
        out[..n].copy_from_slice(&src[..n]);
    }
    b
}

/// uname(struct new_utsname *)
pub fn sys_uname(k: &mut Kernel, a: Args) -> SysResult {
    k.copy_to_user(a[0], &utsname_bytes()).map_err(|_| EFAULT)?;
    Ok(0)
}

/// sysinfo(struct sysinfo *): the host's figures, as a native i386 program on this
/// host sees them (they agree with the host's /proc/meminfo, which the guest also
/// reads). Like the kernel's compat path, memory sizes that do not fit 32 bits are
/// scaled by doubling `mem_unit` up to the page size.
pub fn sys_sysinfo(k: &mut Kernel, a: Args) -> SysResult {
    // SAFETY: sysinfo is plain data; `si` is a valid out-pointer.
    let mut si: libc::sysinfo = unsafe { std::mem::zeroed() };
    if unsafe { libc::sysinfo(&mut si) } < 0 {
        return Err(host_errno());
    }
    let mut mem = [
        si.totalram,
        si.freeram,
        si.sharedram,
        si.bufferram,
        si.totalswap,
        si.freeswap,
        si.totalhigh,
        si.freehigh,
    ];
    let mut unit = si.mem_unit;
    while mem.iter().any(|&v| v > u64::from(u32::MAX)) && unit < 4096 {
        unit <<= 1;
        for v in &mut mem {
            *v >>= 1;
        }
    }
    let mut b = [0u8; 64];
    let mut put = |off: usize, v: u64| b[off..off + 4].copy_from_slice(&(v as u32).to_le_bytes());
    put(0, si.uptime as u64);
    put(4, si.loads[0]);
    put(8, si.loads[1]);
    put(12, si.loads[2]);
    for (i, v) in mem[..6].iter().enumerate() {
        put(16 + 4 * i, *v);
    }
    put(44, mem[6]);
    put(48, mem[7]);
    put(52, u64::from(unit));
    b[40..42].copy_from_slice(&si.procs.to_le_bytes());
    k.copy_to_user(a[0], &b).map_err(|_| EFAULT)?;
    Ok(0)
}

const GRND_NONBLOCK: u32 = 1;
const GRND_RANDOM: u32 = 2;
const GRND_INSECURE: u32 = 4;

/// getrandom(buf, len, flags): host randomness, at most 1 MiB per call (a short
/// count, which the interface allows and libc loops on).
pub fn sys_getrandom(k: &mut Kernel, a: Args) -> SysResult {
    let (buf, len, flags) = (a[0], a[1], a[2]);
    if flags & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0
        || flags & (GRND_RANDOM | GRND_INSECURE) == (GRND_RANDOM | GRND_INSECURE)
    {
        return Err(EINVAL);
    }
    let n = (len as usize).min(super::fs::CHUNK).min(0x01ff_ffff);
    if !crate::uaccess::access_ok(buf, n as u32) {
        return Err(EFAULT);
    }
    let mut v = vec![0u8; n];
    // SAFETY: `v` has `n` writable bytes.
    let got = unsafe { libc::getrandom(v.as_mut_ptr().cast(), n, flags as libc::c_uint) };
    if got < 0 {
        return Err(host_errno());
    }
    let got = got as usize;
    match k.copy_to_user(buf, &v[..got]) {
        Ok(()) => Ok(got as u32),
        Err(0) => Err(EFAULT),
        Err(m) => Ok(m as u32),
    }
}
