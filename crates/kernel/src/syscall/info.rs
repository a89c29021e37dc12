//! System information: uname, sysinfo, getrandom.

use crate::abi::info::{NewUtsname, Sysinfo, UTS_LEN};
use crate::abi::{FromZeros, IntoBytes};
use crate::errno::{host_errno, SysResult, EFAULT, EINVAL};
use crate::syscall::Args;
use crate::Kernel;

/// The `struct new_utsname` (6 × 65 bytes) the guest sees: the host's names and
/// release (static glibc 2.36 refuses kernels older than 3.2, so the modern release
/// string is kept) with machine "i686".
pub fn utsname() -> NewUtsname {
    // SAFETY: utsname is plain data; `u` is a valid out-pointer.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: uname writes only into the struct it is given.
    unsafe { libc::uname(&mut u) };
    let host =
        |f: &[libc::c_char]| -> Vec<u8> { f.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect() };
    let mut g = NewUtsname::new_zeroed();
    let fields: [(&mut [u8; UTS_LEN], Vec<u8>); 6] = [
        (&mut g.sysname, b"Linux".to_vec()),
        (&mut g.nodename, host(&u.nodename)),
        (&mut g.release, host(&u.release)),
        (&mut g.version, host(&u.version)),
        (&mut g.machine, b"i686".to_vec()),
        (&mut g.domainname, host(&u.domainname)),
    ];
    for (out, src) in fields {
        let n = src.len().min(UTS_LEN - 1);
        out[..n].copy_from_slice(&src[..n]);
    }
    g
}

/// uname(struct new_utsname *)
pub fn sys_uname(k: &mut Kernel, a: Args) -> SysResult {
    k.copy_to_user(a[0], utsname().as_bytes()).map_err(|_| EFAULT)?;
    Ok(0)
}

/// sysinfo(struct sysinfo *): the host's figures, as a native i386 program on this
/// host sees them (they agree with the host's /proc/meminfo, which the guest also
/// reads). Like the kernel's compat path, memory sizes that do not fit 32 bits are
/// scaled by doubling `mem_unit` up to the page size.
pub fn sys_sysinfo(k: &mut Kernel, a: Args) -> SysResult {
    // SAFETY: sysinfo is plain data; `si` is a valid out-pointer.
    let mut si: libc::sysinfo = unsafe { std::mem::zeroed() };
    // SAFETY: sysinfo writes only into the struct it is given.
    if unsafe { libc::sysinfo(&mut si) } < 0 {
        return Err(host_errno());
    }
    // With a swap area (`--swap`), the swap figures are the guest's own
    // (`si_swapinfo`); without one, the host's, as before.
    if k.swap.info.is_some() {
        let (total, free) = crate::mm::swap::si_swapinfo(k);
        let unit = u64::from(si.mem_unit.max(1));
        si.totalswap = (u64::from(total) * u64::from(crate::PAGE_SIZE) / unit) as _;
        si.freeswap = (u64::from(free) * u64::from(crate::PAGE_SIZE) / unit) as _;
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
    let [totalram, freeram, sharedram, bufferram, totalswap, freeswap, totalhigh, freehigh] =
        mem.map(|v| v as u32);
    let g = Sysinfo {
        uptime: si.uptime as i32,
        loads: si.loads.map(|l| l as u32),
        totalram,
        freeram,
        sharedram,
        bufferram,
        totalswap,
        freeswap,
        procs: si.procs,
        pad: 0,
        totalhigh,
        freehigh,
        mem_unit: unit,
        _f: [0; 8],
    };
    k.copy_to_user(a[0], g.as_bytes()).map_err(|_| EFAULT)?;
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

/// getcpu(unsigned *cpu, unsigned *node, struct getcpu_cache *): the host CPU and
/// NUMA node the emulator runs on (which is where the guest runs); each pointer may
/// be NULL, and one that cannot be written is EFAULT.
pub fn sys_getcpu(k: &mut Kernel, a: Args) -> SysResult {
    let (mut cpu, mut node) = (0u32, 0u32);
    // SAFETY: the two out-pointers are valid u32s; the cache argument is unused.
    let r = unsafe { libc::syscall(libc::SYS_getcpu, &mut cpu as *mut u32, &mut node as *mut u32, 0usize) };
    if r < 0 {
        return Err(host_errno());
    }
    if a[0] != 0 {
        k.put_user::<u32>(a[0], cpu)?;
    }
    if a[1] != 0 {
        k.put_user::<u32>(a[1], node)?;
    }
    Ok(0)
}
