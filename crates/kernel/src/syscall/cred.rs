//! The uid/gid family, supplementary groups and capabilities (kernel/sys.c,
//! kernel/groups.c, kernel/uid16.c, kernel/capability.c) over the current task's
//! [`Cred`]; the rules themselves are in [`crate::cred`].
//!
//! The 16-bit calls (kernel/uid16.c) take `old_uid_t` arguments, in which 0xffff is
//! "unchanged" (`low2highuid`), and report ids above 65535 as 65534 (`high2lowuid`).

use crate::abi::process::{CapUserData, CapUserHeader};
use crate::abi::{FromZeros, IntoBytes};
use crate::cred::{cap_valid, high2low, low2high, Cred, CAP_SETGID, CAP_SETPCAP, NGROUPS_MAX};
use crate::errno::{Errno, SysResult, EFAULT, EINVAL, EPERM, ESRCH};
use crate::syscall::Args;
use crate::Kernel;

/// The arguments with the two 16-bit ids at `at` and `at + 1` widened (chown16,
/// lchown16, fchown16).
pub fn ids16(mut a: Args, at: usize) -> Args {
    a[at] = low2high(a[at]);
    a[at + 1] = low2high(a[at + 1]);
    a
}

fn cred(k: &mut Kernel) -> &mut Cred {
    &mut k.task.cred
}

pub fn sys_getuid(k: &mut Kernel, _a: Args) -> SysResult {
    Ok(k.task.cred.uid)
}
pub fn sys_geteuid(k: &mut Kernel, _a: Args) -> SysResult {
    Ok(k.task.cred.euid)
}
pub fn sys_getgid(k: &mut Kernel, _a: Args) -> SysResult {
    Ok(k.task.cred.gid)
}
pub fn sys_getegid(k: &mut Kernel, _a: Args) -> SysResult {
    Ok(k.task.cred.egid)
}
pub fn sys_getuid16(k: &mut Kernel, _a: Args) -> SysResult {
    Ok(high2low(k.task.cred.uid))
}
pub fn sys_geteuid16(k: &mut Kernel, _a: Args) -> SysResult {
    Ok(high2low(k.task.cred.euid))
}
pub fn sys_getgid16(k: &mut Kernel, _a: Args) -> SysResult {
    Ok(high2low(k.task.cred.gid))
}
pub fn sys_getegid16(k: &mut Kernel, _a: Args) -> SysResult {
    Ok(high2low(k.task.cred.egid))
}

/// getres[ug]id: the three ids stored in order, stopping at the first EFAULT.
fn put_ids(k: &mut Kernel, a: Args, ids: [u32; 3], wide: bool) -> SysResult {
    for (addr, id) in a.into_iter().zip(ids) {
        if wide {
            k.put_user::<u32>(addr, id)?;
        } else {
            k.put_user::<u16>(addr, high2low(id) as u16)?;
        }
    }
    Ok(0)
}

pub fn sys_getresuid(k: &mut Kernel, a: Args) -> SysResult {
    let c = &k.task.cred;
    put_ids(k, a, [c.uid, c.euid, c.suid], true)
}
pub fn sys_getresgid(k: &mut Kernel, a: Args) -> SysResult {
    let c = &k.task.cred;
    put_ids(k, a, [c.gid, c.egid, c.sgid], true)
}
pub fn sys_getresuid16(k: &mut Kernel, a: Args) -> SysResult {
    let c = &k.task.cred;
    put_ids(k, a, [c.uid, c.euid, c.suid], false)
}
pub fn sys_getresgid16(k: &mut Kernel, a: Args) -> SysResult {
    let c = &k.task.cred;
    put_ids(k, a, [c.gid, c.egid, c.sgid], false)
}

pub fn sys_setuid(k: &mut Kernel, a: Args) -> SysResult {
    cred(k).setuid(a[0]).map(|()| 0)
}
pub fn sys_setgid(k: &mut Kernel, a: Args) -> SysResult {
    cred(k).setgid(a[0]).map(|()| 0)
}
pub fn sys_setreuid(k: &mut Kernel, a: Args) -> SysResult {
    cred(k).setreuid(a[0], a[1]).map(|()| 0)
}
pub fn sys_setregid(k: &mut Kernel, a: Args) -> SysResult {
    cred(k).setregid(a[0], a[1]).map(|()| 0)
}
pub fn sys_setresuid(k: &mut Kernel, a: Args) -> SysResult {
    cred(k).setresuid(a[0], a[1], a[2]).map(|()| 0)
}
pub fn sys_setresgid(k: &mut Kernel, a: Args) -> SysResult {
    cred(k).setresgid(a[0], a[1], a[2]).map(|()| 0)
}
/// setfsuid(uid): the old fsuid, never an error.
pub fn sys_setfsuid(k: &mut Kernel, a: Args) -> SysResult {
    Ok(cred(k).setfsuid(a[0]))
}
pub fn sys_setfsgid(k: &mut Kernel, a: Args) -> SysResult {
    Ok(cred(k).setfsgid(a[0]))
}

pub fn sys_setuid16(k: &mut Kernel, a: Args) -> SysResult {
    sys_setuid(k, ids16(a, 0))
}
pub fn sys_setgid16(k: &mut Kernel, a: Args) -> SysResult {
    sys_setgid(k, ids16(a, 0))
}
pub fn sys_setreuid16(k: &mut Kernel, a: Args) -> SysResult {
    sys_setreuid(k, ids16(a, 0))
}
pub fn sys_setregid16(k: &mut Kernel, a: Args) -> SysResult {
    sys_setregid(k, ids16(a, 0))
}
pub fn sys_setresuid16(k: &mut Kernel, a: Args) -> SysResult {
    sys_setresuid(k, ids16(ids16(a, 0), 1))
}
pub fn sys_setresgid16(k: &mut Kernel, a: Args) -> SysResult {
    sys_setresgid(k, ids16(ids16(a, 0), 1))
}
/// setfsuid16: the old fsuid in full (kernel/uid16.c does not narrow it).
pub fn sys_setfsuid16(k: &mut Kernel, a: Args) -> SysResult {
    sys_setfsuid(k, ids16(a, 0))
}
pub fn sys_setfsgid16(k: &mut Kernel, a: Args) -> SysResult {
    sys_setfsgid(k, ids16(a, 0))
}

/// getgroups(size, list): EINVAL for a negative size or one smaller than the
/// number of groups (0 asks for the count), EFAULT for a bad list.
fn do_getgroups(k: &mut Kernel, size: u32, list: u32, wide: bool) -> SysResult {
    if (size as i32) < 0 {
        return Err(EINVAL);
    }
    let n = k.task.cred.groups.len() as u32;
    if size == 0 {
        return Ok(n);
    }
    if size < n {
        return Err(EINVAL);
    }
    let mut b = Vec::with_capacity(n as usize * 4);
    for &id in &k.task.cred.groups {
        if wide {
            b.extend_from_slice(&id.to_le_bytes());
        } else {
            b.extend_from_slice(&(high2low(id) as u16).to_le_bytes());
        }
    }
    k.copy_to_user(list, &b).map_err(|_| EFAULT)?;
    Ok(n)
}

pub fn sys_getgroups(k: &mut Kernel, a: Args) -> SysResult {
    do_getgroups(k, a[0], a[1], true)
}
pub fn sys_getgroups16(k: &mut Kernel, a: Args) -> SysResult {
    do_getgroups(k, a[0], a[1], false)
}

/// setgroups(size, list) (`may_setgroups`, then `groups_from_user`): EPERM without
/// CAP_SETGID, EINVAL for more than NGROUPS_MAX; then entry by entry EFAULT or
/// EINVAL for -1; the set is stored sorted (`groups_sort`).
fn do_setgroups(k: &mut Kernel, size: u32, list: u32, wide: bool) -> SysResult {
    if !k.task.cred.capable(CAP_SETGID) {
        return Err(EPERM);
    }
    if size > NGROUPS_MAX {
        return Err(EINVAL);
    }
    let mut groups = Vec::with_capacity(size as usize);
    for i in 0..size {
        let gid = if wide {
            k.get_user::<u32>(list.wrapping_add(i * 4))?
        } else {
            low2high(u32::from(k.get_user::<u16>(list.wrapping_add(i * 2))?))
        };
        if gid == u32::MAX {
            return Err(EINVAL);
        }
        groups.push(gid);
    }
    groups.sort_unstable();
    k.task.cred.groups = groups;
    Ok(0)
}

pub fn sys_setgroups(k: &mut Kernel, a: Args) -> SysResult {
    do_setgroups(k, a[0], a[1], true)
}
pub fn sys_setgroups16(k: &mut Kernel, a: Args) -> SysResult {
    do_setgroups(k, a[0], a[1], false)
}

/// Capability header versions (linux/capability.h): v1 carries one 32-bit data
/// block, v2 and v3 two.
const CAP_VERSION_1: u32 = 0x1998_0330;
const CAP_VERSION_2: u32 = 0x2007_1026;
const CAP_VERSION_3: u32 = 0x2008_0522;

/// `cap_validate_magic`: the number of data blocks of the header's version; an
/// unknown version is answered with v3 in the header and EINVAL.
fn cap_validate_magic(k: &mut Kernel, hdr: u32) -> Result<usize, Errno> {
    // Only the version word is read here (`get_user(version, &header->version)`).
    let h = CapUserHeader { version: k.get_user::<u32>(hdr)?, pid: 0 };
    match h.version {
        CAP_VERSION_1 => Ok(1),
        CAP_VERSION_2 | CAP_VERSION_3 => Ok(2),
        _ => {
            k.put_user::<u32>(hdr, CAP_VERSION_3)?;
            Err(EINVAL)
        }
    }
}

/// capget(hdr, data) (today's `sys_capget`): a NULL `data` with an unknown version
/// is the way libcap probes the version (0); a negative pid is EINVAL, one that is
/// no guest task ESRCH.
pub fn sys_capget(k: &mut Kernel, a: Args) -> SysResult {
    let (hdr, data) = (a[0], a[1]);
    let tocopy = cap_validate_magic(k, hdr);
    if data == 0 {
        return match tocopy {
            Ok(_) | Err(EINVAL) => Ok(0),
            Err(e) => Err(e),
        };
    }
    let tocopy = tocopy?;
    let pid = k.get_user::<u32>(hdr.wrapping_add(4))? as i32;
    if pid < 0 {
        return Err(EINVAL);
    }
    let c = if pid == 0 || pid as u32 == k.task.pid {
        &k.task.cred
    } else {
        &k.find_task(pid as u32).ok_or(ESRCH)?.cred
    };
    let block = |i: u32| CapUserData {
        effective: (c.cap_effective >> (32 * i)) as u32,
        permitted: (c.cap_permitted >> (32 * i)) as u32,
        inheritable: (c.cap_inheritable >> (32 * i)) as u32,
    };
    let blocks = [block(0), block(1)];
    k.copy_to_user(data, blocks[..tocopy].as_bytes()).map_err(|_| EFAULT)?;
    Ok(0)
}

/// capset(hdr, data) (today's `sys_capset` and `cap_capset`): only the caller's own
/// sets (another pid is EPERM); the rules are [`Cred::capset`]'s.
pub fn sys_capset(k: &mut Kernel, a: Args) -> SysResult {
    let (hdr, data) = (a[0], a[1]);
    let tocopy = cap_validate_magic(k, hdr)?;
    let pid = k.get_user::<u32>(hdr.wrapping_add(4))?;
    if pid != 0 && pid != k.task.pid {
        return Err(EPERM);
    }
    let mut blocks = [CapUserData::new_zeroed(); 2];
    k.copy_from_user(data, blocks[..tocopy].as_mut_bytes()).map_err(|_| EFAULT)?;
    let set = |f: fn(&CapUserData) -> u32| u64::from(f(&blocks[0])) | u64::from(f(&blocks[1])) << 32;
    let (e, p, i) = (set(|b| b.effective), set(|b| b.permitted), set(|b| b.inheritable));
    cred(k).capset(e, p, i).map(|()| 0)
}

const PR_GET_KEEPCAPS: u32 = 7;
const PR_SET_KEEPCAPS: u32 = 8;
const PR_CAPBSET_READ: u32 = 23;
const PR_CAPBSET_DROP: u32 = 24;
const PR_GET_SECUREBITS: u32 = 27;
const PR_SET_SECUREBITS: u32 = 28;
const PR_CAP_AMBIENT: u32 = 47;
const PR_CAP_AMBIENT_IS_SET: u32 = 1;
const PR_CAP_AMBIENT_RAISE: u32 = 2;
const PR_CAP_AMBIENT_LOWER: u32 = 3;
const PR_CAP_AMBIENT_CLEAR_ALL: u32 = 4;
const SECURE_NO_CAP_AMBIENT_RAISE: u32 = 6;
/// `SECURE_ALL_BITS` (linux/securebits.h): noroot, no-setuid-fixup, keep-caps,
/// no-cap-ambient-raise, exec-restrict-file, exec-deny-interactive; each one's lock
/// is the bit above it (`SECURE_ALL_LOCKS`).
const SECURE_ALL_BITS: u32 = 0x555;
const SECURE_ALL_LOCKS: u32 = SECURE_ALL_BITS << 1;
/// `SECURE_ALL_UNPRIVILEGED`: the exec bits, which a task may set without CAP_SETPCAP.
const SECURE_ALL_UNPRIVILEGED: u32 = 1 << 8 | 1 << 10;

/// The prctl options of `cap_task_prctl` (keep-caps, the bounding and ambient sets,
/// the securebits); `None` for any other option.
pub fn prctl(k: &mut Kernel, a: Args) -> Option<SysResult> {
    use crate::cred::{SECURE_KEEP_CAPS, SECURE_KEEP_CAPS_LOCKED};
    let c = &mut k.task.cred;
    let bit = |set: u64, cap: u32| u32::from(set & (1 << cap) != 0);
    Some(match a[0] {
        PR_GET_KEEPCAPS => Ok(u32::from(c.securebits & (1 << SECURE_KEEP_CAPS) != 0)),
        PR_SET_KEEPCAPS => {
            if a[1] > 1 {
                Err(EINVAL)
            } else if c.securebits & (1 << SECURE_KEEP_CAPS_LOCKED) != 0 {
                Err(EPERM)
            } else {
                c.securebits = c.securebits & !(1 << SECURE_KEEP_CAPS) | a[1] << SECURE_KEEP_CAPS;
                Ok(0)
            }
        }
        PR_CAPBSET_READ if !cap_valid(a[1]) => Err(EINVAL),
        PR_CAPBSET_READ => Ok(bit(c.cap_bset, a[1])),
        // cap_prctl_drop: CAP_SETPCAP first, then the number.
        PR_CAPBSET_DROP if !c.capable(CAP_SETPCAP) => Err(EPERM),
        PR_CAPBSET_DROP if !cap_valid(a[1]) => Err(EINVAL),
        PR_CAPBSET_DROP => {
            c.cap_bset &= !(1 << a[1]);
            Ok(0)
        }
        PR_GET_SECUREBITS => Ok(c.securebits),
        PR_SET_SECUREBITS => {
            let (old, new) = (c.securebits, a[1]);
            // A locked bit may not change, a lock may not be released, no unknown
            // bits, and without CAP_SETPCAP only the unprivileged bits may change.
            if ((old & SECURE_ALL_LOCKS) >> 1) & (old ^ new) != 0
                || old & SECURE_ALL_LOCKS & !new != 0
                || new & !(SECURE_ALL_LOCKS | SECURE_ALL_BITS) != 0
                || (!c.capable(CAP_SETPCAP) && (old ^ new) & !SECURE_ALL_UNPRIVILEGED != 0)
            {
                Err(EPERM)
            } else {
                c.securebits = new;
                Ok(0)
            }
        }
        PR_CAP_AMBIENT if a[1] == PR_CAP_AMBIENT_CLEAR_ALL => {
            if a[2] | a[3] | a[4] != 0 {
                Err(EINVAL)
            } else {
                c.cap_ambient = 0;
                Ok(0)
            }
        }
        PR_CAP_AMBIENT if !cap_valid(a[2]) || a[3] | a[4] != 0 => Err(EINVAL),
        PR_CAP_AMBIENT => match a[1] {
            PR_CAP_AMBIENT_IS_SET => Ok(bit(c.cap_ambient, a[2])),
            PR_CAP_AMBIENT_RAISE
                if bit(c.cap_permitted, a[2]) == 0
                    || bit(c.cap_inheritable, a[2]) == 0
                    || c.securebits & (1 << SECURE_NO_CAP_AMBIENT_RAISE) != 0 =>
            {
                Err(EPERM)
            }
            PR_CAP_AMBIENT_RAISE => {
                c.cap_ambient |= 1 << a[2];
                Ok(0)
            }
            PR_CAP_AMBIENT_LOWER => {
                c.cap_ambient &= !(1 << a[2]);
                Ok(0)
            }
            _ => Err(EINVAL),
        },
        _ => return None,
    })
}
