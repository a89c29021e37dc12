//! Credentials (today's `struct cred`, kernel/sys.c, kernel/groups.c and
//! security/commoncap.c): each task's user and group ids, supplementary groups and
//! capability sets, with Linux's rules for changing them.
//!
//! Every task has its own [`Cred`] (threads too: glibc makes setuid process-wide by
//! signalling each thread with SIGSETXID, and each thread changes its own ids, as on
//! Linux). The first task starts with the emulator process's credentials, read
//! once ([`Cred::from_host`]); fork and clone copy them.
//!
//! ## The host follows
//!
//! The guest's files are the host's, so the host must check access with the
//! guest's identity. Before each system call [`sync_host`] gives the host thread the
//! current task's fsuid, fsgid, supplementary groups and effective capabilities
//! (within what the emulator process itself is permitted), with raw system calls,
//! which act on the calling thread only; it does so only when they differ from what
//! the thread has. An emulator running as root keeps its euid 0 and its permitted
//! set, so it can always go back; one that is not root can only ever follow to ids
//! it already has, because the guest cannot take others either.

use std::cell::RefCell;
use std::sync::OnceLock;

use crate::errno::{Errno, EINVAL, EPERM};
use crate::Kernel;

/// NGROUPS_MAX (linux/limits.h).
pub const NGROUPS_MAX: u32 = 65536;
/// `overflowuid` / `overflowgid`: what a 16-bit call reports for an id above 65535.
pub const OVERFLOW_ID: u32 = 65534;

// Capability numbers (linux/capability.h) the kernel checks.
pub const CAP_CHOWN: u32 = 0;
pub const CAP_DAC_OVERRIDE: u32 = 1;
pub const CAP_DAC_READ_SEARCH: u32 = 2;
pub const CAP_FOWNER: u32 = 3;
pub const CAP_FSETID: u32 = 4;
pub const CAP_KILL: u32 = 5;
pub const CAP_SETGID: u32 = 6;
pub const CAP_SETUID: u32 = 7;
pub const CAP_SETPCAP: u32 = 8;
pub const CAP_LINUX_IMMUTABLE: u32 = 9;
pub const CAP_IPC_OWNER: u32 = 15;
pub const CAP_SYS_ADMIN: u32 = 21;
pub const CAP_SYS_NICE: u32 = 23;
pub const CAP_SYS_RESOURCE: u32 = 24;
pub const CAP_MKNOD: u32 = 27;
pub const CAP_MAC_OVERRIDE: u32 = 32;

/// `CAP_FS_SET`: what an fsuid leaving 0 takes out of the effective set
/// (`cap_drop_fs_set`) and an fsuid becoming 0 puts back from the permitted set.
const CAP_FS_SET: u64 = 1 << CAP_CHOWN
    | 1 << CAP_DAC_OVERRIDE
    | 1 << CAP_DAC_READ_SEARCH
    | 1 << CAP_FOWNER
    | 1 << CAP_FSETID
    | 1 << CAP_LINUX_IMMUTABLE
    | 1 << CAP_MKNOD
    | 1 << CAP_MAC_OVERRIDE;

// securebits (linux/securebits.h).
pub const SECURE_NOROOT: u32 = 0;
pub const SECURE_NO_SETUID_FIXUP: u32 = 2;
pub const SECURE_KEEP_CAPS: u32 = 4;
pub const SECURE_KEEP_CAPS_LOCKED: u32 = 5;

/// `CAP_LAST_CAP` of the kernel we answer for: the host's (the native reference runs
/// on it), 40 if it cannot be read.
pub fn cap_last_cap() -> u32 {
    static LAST: OnceLock<u32> = OnceLock::new();
    *LAST.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .filter(|&n: &u32| n < 64)
            .unwrap_or(40)
    })
}

/// `cap_valid`.
pub fn cap_valid(cap: u32) -> bool {
    cap <= cap_last_cap()
}

/// Every capability the kernel knows (`CAP_FULL_SET`).
pub fn cap_full_set() -> u64 {
    u64::MAX >> (63 - cap_last_cap())
}

/// Which of the three uid-changing paths of `security_task_fix_setuid` ran.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SetId {
    /// setuid, setreuid, setresuid (LSM_SETID_ID, _RE, _RES).
    Ids,
    /// setfsuid (LSM_SETID_FS).
    Fs,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cred {
    pub uid: u32,
    pub euid: u32,
    pub suid: u32,
    pub fsuid: u32,
    pub gid: u32,
    pub egid: u32,
    pub sgid: u32,
    pub fsgid: u32,
    /// Supplementary groups, sorted (`groups_sort`).
    pub groups: Vec<u32>,
    pub cap_inheritable: u64,
    pub cap_permitted: u64,
    pub cap_effective: u64,
    pub cap_bset: u64,
    pub cap_ambient: u64,
    pub securebits: u32,
}

impl Default for Cred {
    /// Root with every capability (`init_cred`).
    fn default() -> Self {
        let full = cap_full_set();
        Cred {
            uid: 0,
            euid: 0,
            suid: 0,
            fsuid: 0,
            gid: 0,
            egid: 0,
            sgid: 0,
            fsgid: 0,
            groups: Vec::new(),
            cap_inheritable: 0,
            cap_permitted: full,
            cap_effective: full,
            cap_bset: full,
            cap_ambient: 0,
            securebits: 0,
        }
    }
}

/// The 16-bit calls' "unchanged" (0xffff) widened to the 32-bit one (`low2highuid`).
pub fn low2high(id: u32) -> u32 {
    let id = id & 0xffff;
    if id == 0xffff {
        u32::MAX
    } else {
        id
    }
}

/// An id as the 16-bit calls report it (`high2lowuid`).
pub fn high2low(id: u32) -> u32 {
    if id > 0xffff {
        OVERFLOW_ID
    } else {
        id
    }
}

/// `uid_valid(make_kuid(...))` in the initial user namespace: only -1 is invalid.
fn valid(id: u32) -> bool {
    id != u32::MAX
}

impl Cred {
    /// The emulator process's credentials, read once (later reads would see what
    /// [`sync_host`] did to this thread).
    pub fn from_host() -> Cred {
        static HOST: OnceLock<Cred> = OnceLock::new();
        HOST.get_or_init(read_host).clone()
    }

    /// `capable(cap)`: the effective set has `cap` (`cap_capable`).
    pub fn capable(&self, cap: u32) -> bool {
        cap < 64 && self.cap_effective & (1 << cap) != 0
    }

    fn issecure(&self, bit: u32) -> bool {
        self.securebits & (1 << bit) != 0
    }

    /// `in_group_p`: the fsgid or a supplementary group.
    pub fn in_group_p(&self, gid: u32) -> bool {
        self.fsgid == gid || self.groups.binary_search(&gid).is_ok()
    }

    /// `in_egroup_p`: the egid or a supplementary group.
    pub fn in_egroup_p(&self, gid: u32) -> bool {
        self.egid == gid || self.groups.binary_search(&gid).is_ok()
    }

    /// `cap_task_fix_setuid`: the capability sets after a uid change from `old`.
    fn fix_setuid(&mut self, old: &Cred, how: SetId) {
        if self.issecure(SECURE_NO_SETUID_FIXUP) {
            return;
        }
        match how {
            SetId::Ids => {
                // cap_emulate_setxuid: leaving root entirely drops the permitted and
                // effective sets (unless keep-caps) and always the ambient set.
                let had_root = old.uid == 0 || old.euid == 0 || old.suid == 0;
                let has_root = self.uid == 0 || self.euid == 0 || self.suid == 0;
                if had_root && !has_root {
                    if !self.issecure(SECURE_KEEP_CAPS) {
                        self.cap_permitted = 0;
                        self.cap_effective = 0;
                    }
                    self.cap_ambient = 0;
                }
                if old.euid == 0 && self.euid != 0 {
                    self.cap_effective = 0;
                }
                if old.euid != 0 && self.euid == 0 {
                    self.cap_effective = self.cap_permitted;
                }
            }
            SetId::Fs => {
                if old.fsuid == 0 && self.fsuid != 0 {
                    self.cap_effective &= !CAP_FS_SET;
                }
                if old.fsuid != 0 && self.fsuid == 0 {
                    self.cap_effective |= self.cap_permitted & CAP_FS_SET;
                }
            }
        }
    }

    /// `__sys_setuid`: with CAP_SETUID all of uid, euid, suid and fsuid; without it
    /// euid and fsuid, to the real or saved uid only.
    pub fn setuid(&mut self, uid: u32) -> Result<(), Errno> {
        if !valid(uid) {
            return Err(EINVAL);
        }
        let old = self.clone();
        if old.capable(CAP_SETUID) {
            self.uid = uid;
            self.suid = uid;
        } else if uid != old.uid && uid != old.suid {
            return Err(EPERM);
        }
        self.euid = uid;
        self.fsuid = uid;
        self.fix_setuid(&old, SetId::Ids);
        Ok(())
    }

    /// `__sys_setreuid`: -1 leaves an id; the saved uid follows the new euid when the
    /// real uid is set or the euid becomes other than the old real uid.
    pub fn setreuid(&mut self, ruid: u32, euid: u32) -> Result<(), Errno> {
        let old = self.clone();
        let cap = old.capable(CAP_SETUID);
        let mut new = old.clone();
        if ruid != u32::MAX {
            new.uid = ruid;
            if ruid != old.uid && ruid != old.euid && !cap {
                return Err(EPERM);
            }
        }
        if euid != u32::MAX {
            new.euid = euid;
            if euid != old.uid && euid != old.euid && euid != old.suid && !cap {
                return Err(EPERM);
            }
        }
        if ruid != u32::MAX || (euid != u32::MAX && euid != old.uid) {
            new.suid = new.euid;
        }
        new.fsuid = new.euid;
        new.fix_setuid(&old, SetId::Ids);
        *self = new;
        Ok(())
    }

    /// `__sys_setresuid`: without CAP_SETUID each id may only become one of the
    /// current real, effective and saved uids.
    pub fn setresuid(&mut self, r: u32, e: u32, s: u32) -> Result<(), Errno> {
        let old = self.clone();
        let keep = |id: u32, cur: u32| id == u32::MAX || id == cur;
        if keep(r, old.uid) && (e == u32::MAX || (e == old.euid && e == old.fsuid)) && keep(s, old.suid) {
            return Ok(());
        }
        let new_id = |id: u32| id != u32::MAX && id != old.uid && id != old.euid && id != old.suid;
        if (new_id(r) || new_id(e) || new_id(s)) && !old.capable(CAP_SETUID) {
            return Err(EPERM);
        }
        if r != u32::MAX {
            self.uid = r;
        }
        if e != u32::MAX {
            self.euid = e;
        }
        if s != u32::MAX {
            self.suid = s;
        }
        self.fsuid = self.euid;
        self.fix_setuid(&old, SetId::Ids);
        Ok(())
    }

    /// `__sys_setfsuid`: returns the old fsuid whether or not it changed.
    pub fn setfsuid(&mut self, uid: u32) -> u32 {
        let old = self.clone();
        if !valid(uid) {
            return old.fsuid;
        }
        let allowed = [old.uid, old.euid, old.suid, old.fsuid].contains(&uid) || old.capable(CAP_SETUID);
        if allowed && uid != old.fsuid {
            self.fsuid = uid;
            self.fix_setuid(&old, SetId::Fs);
        }
        old.fsuid
    }

    /// `__sys_setgid`.
    pub fn setgid(&mut self, gid: u32) -> Result<(), Errno> {
        if !valid(gid) {
            return Err(EINVAL);
        }
        if self.capable(CAP_SETGID) {
            (self.gid, self.egid, self.sgid, self.fsgid) = (gid, gid, gid, gid);
        } else if gid == self.gid || gid == self.sgid {
            (self.egid, self.fsgid) = (gid, gid);
        } else {
            return Err(EPERM);
        }
        Ok(())
    }

    /// `__sys_setregid`.
    pub fn setregid(&mut self, rgid: u32, egid: u32) -> Result<(), Errno> {
        let old = self.clone();
        let cap = old.capable(CAP_SETGID);
        let mut new = old.clone();
        if rgid != u32::MAX {
            if rgid == old.gid || rgid == old.egid || cap {
                new.gid = rgid;
            } else {
                return Err(EPERM);
            }
        }
        if egid != u32::MAX {
            if egid == old.gid || egid == old.egid || egid == old.sgid || cap {
                new.egid = egid;
            } else {
                return Err(EPERM);
            }
        }
        if rgid != u32::MAX || (egid != u32::MAX && egid != old.gid) {
            new.sgid = new.egid;
        }
        new.fsgid = new.egid;
        *self = new;
        Ok(())
    }

    /// `__sys_setresgid`.
    pub fn setresgid(&mut self, r: u32, e: u32, s: u32) -> Result<(), Errno> {
        let keep = |id: u32, cur: u32| id == u32::MAX || id == cur;
        if keep(r, self.gid) && (e == u32::MAX || (e == self.egid && e == self.fsgid)) && keep(s, self.sgid) {
            return Ok(());
        }
        let new_id = |id: u32| id != u32::MAX && id != self.gid && id != self.egid && id != self.sgid;
        if (new_id(r) || new_id(e) || new_id(s)) && !self.capable(CAP_SETGID) {
            return Err(EPERM);
        }
        if r != u32::MAX {
            self.gid = r;
        }
        if e != u32::MAX {
            self.egid = e;
        }
        if s != u32::MAX {
            self.sgid = s;
        }
        self.fsgid = self.egid;
        Ok(())
    }

    /// `__sys_setfsgid`: returns the old fsgid whether or not it changed.
    pub fn setfsgid(&mut self, gid: u32) -> u32 {
        let old = self.fsgid;
        if valid(gid) && ([self.gid, self.egid, self.sgid, self.fsgid].contains(&gid) || self.capable(CAP_SETGID)) {
            self.fsgid = gid;
        }
        old
    }

    /// `cap_capset`: the new sets may only shrink the permitted set, keep the
    /// effective set within the new permitted one, and add to the inheritable set
    /// only what is permitted (unless CAP_SETPCAP) and within the bounding set.
    pub fn capset(&mut self, effective: u64, permitted: u64, inheritable: u64) -> Result<(), Errno> {
        let capped = !self.capable(CAP_SETPCAP);
        if capped && inheritable & !(self.cap_inheritable | self.cap_permitted) != 0 {
            return Err(EPERM);
        }
        if inheritable & !(self.cap_inheritable | self.cap_bset) != 0 {
            return Err(EPERM);
        }
        if permitted & !self.cap_permitted != 0 {
            return Err(EPERM);
        }
        if effective & !permitted != 0 {
            return Err(EPERM);
        }
        self.cap_effective = effective;
        self.cap_inheritable = inheritable;
        self.cap_permitted = permitted;
        self.cap_ambient &= permitted & inheritable;
        Ok(())
    }

    /// `cap_bprm_creds_from_file` for a file without file capabilities, and
    /// `begin_new_exec`'s id updates: the saved and fs ids take the effective ones
    /// (set-user-ID bits are not honoured, see docs/architecture.md); root gets its
    /// bounding set back; keep-caps is cleared.
    pub fn exec(&mut self) {
        let root = !self.issecure(SECURE_NOROOT) && (self.uid == 0 || self.euid == 0);
        let effective = root && self.euid == 0;
        // get_file_caps clears the permitted set; handle_privileged_root gives root
        // its bounding and inheritable sets; the ambient set is added to it.
        self.cap_permitted = if root { self.cap_bset | self.cap_inheritable } else { 0 };
        self.cap_permitted |= self.cap_ambient;
        self.cap_effective = if effective { self.cap_permitted } else { self.cap_ambient };
        self.suid = self.euid;
        self.fsuid = self.euid;
        self.sgid = self.egid;
        self.fsgid = self.egid;
        self.securebits &= !(1 << SECURE_KEEP_CAPS);
    }

    /// `kill_ok_by_cred`: the sender's real or effective uid is the target's real or
    /// saved uid, or the sender has CAP_KILL.
    pub fn kill_ok_by(&self, target: &Cred) -> bool {
        self.euid == target.suid
            || self.euid == target.uid
            || self.uid == target.suid
            || self.uid == target.uid
            || self.capable(CAP_KILL)
    }
}

/// `check_kill_permission` for a signal `sig` (0: the probe) from the current task
/// to task `target`: EPERM unless it is the sender's own process, the creds allow
/// it, or it is SIGCONT within the sender's session.
pub fn may_signal(k: &Kernel, sig: i32, target: u32) -> Result<(), Errno> {
    let Some(t) = k.find_task(target) else {
        return Ok(());
    };
    if t.tgid == k.task.tgid || k.task.cred.kill_ok_by(&t.cred) {
        return Ok(());
    }
    if sig == crate::signal::SIGCONT && t.sid == k.task.sid {
        return Ok(());
    }
    Err(EPERM)
}

fn read_host() -> Cred {
    let mut c = Cred::default();
    // SAFETY: out-pointers to the fields; prctl and capget with valid arguments.
    unsafe {
        libc::getresuid(&mut c.uid, &mut c.euid, &mut c.suid);
        libc::getresgid(&mut c.gid, &mut c.egid, &mut c.sgid);
        // An invalid id changes nothing and returns the current fs id.
        c.fsuid = libc::syscall(libc::SYS_setfsuid, u32::MAX) as u32;
        c.fsgid = libc::syscall(libc::SYS_setfsgid, u32::MAX) as u32;
        let n = libc::getgroups(0, std::ptr::null_mut());
        if n > 0 {
            let mut g = vec![0; n as usize];
            let m = libc::getgroups(n, g.as_mut_ptr());
            g.truncate(m.max(0) as usize);
            c.groups = g;
        }
        let mut hdr = [0x2008_0522u32, 0];
        let mut data = [0u32; 6];
        if libc::syscall(libc::SYS_capget, hdr.as_mut_ptr(), data.as_mut_ptr()) == 0 {
            c.cap_effective = u64::from(data[0]) | u64::from(data[3]) << 32;
            c.cap_permitted = u64::from(data[1]) | u64::from(data[4]) << 32;
            c.cap_inheritable = u64::from(data[2]) | u64::from(data[5]) << 32;
        }
        let (mut bset, mut amb) = (0u64, 0u64);
        for cap in 0..=cap_last_cap() {
            if libc::prctl(libc::PR_CAPBSET_READ, cap as libc::c_ulong, 0, 0, 0) == 1 {
                bset |= 1 << cap;
            }
            let is_set = libc::PR_CAP_AMBIENT_IS_SET as libc::c_ulong;
            if libc::prctl(libc::PR_CAP_AMBIENT, is_set, cap as libc::c_ulong, 0, 0) == 1 {
                amb |= 1 << cap;
            }
        }
        c.cap_bset = bset;
        c.cap_ambient = amb;
        c.securebits = libc::prctl(libc::PR_GET_SECUREBITS, 0, 0, 0, 0).max(0) as u32;
    }
    c.groups.sort_unstable();
    c.groups.dedup();
    c
}

/// What the host thread has now, of what [`sync_host`] sets.
#[derive(Clone, PartialEq, Eq)]
struct HostIds {
    fsuid: u32,
    fsgid: u32,
    groups: Vec<u32>,
    effective: u64,
}

thread_local! {
    /// `None` until the first sync: the thread still has the process's credentials.
    static HOST: RefCell<Option<HostIds>> = const { RefCell::new(None) };
}

/// The host's capability sets with `effective` (`capset` on the calling thread).
fn host_capset(effective: u64, h: &Cred) -> bool {
    let hdr = [0x2008_0522u32, 0];
    let data = [
        effective as u32,
        h.cap_permitted as u32,
        h.cap_inheritable as u32,
        (effective >> 32) as u32,
        (h.cap_permitted >> 32) as u32,
        (h.cap_inheritable >> 32) as u32,
    ];
    // SAFETY: a v3 header and two data blocks for the calling thread.
    unsafe { libc::syscall(libc::SYS_capset, hdr.as_ptr(), data.as_ptr()) == 0 }
}

/// Gives the host thread the current task's fsuid, fsgid, groups and effective
/// capabilities (within the emulator's permitted set) if it does not have them, so
/// that the host's permission checks are the guest's (see the module doc).
pub fn sync_host(k: &Kernel) {
    sync_host_to(&k.task.cred, k.task.pid);
}

/// [`sync_host`] to the credentials `c` (of task `pid`, for the log).
fn sync_host_to(c: &Cred, pid: u32) {
    let host = Cred::from_host();
    let effective = c.cap_effective & host.cap_permitted;
    HOST.with(|h| {
        let mut h = h.borrow_mut();
        let cur = h.get_or_insert_with(|| HostIds {
            fsuid: host.fsuid,
            fsgid: host.fsgid,
            groups: host.groups.clone(),
            effective: host.cap_effective,
        });
        if cur.fsuid == c.fsuid && cur.fsgid == c.fsgid && cur.effective == effective && cur.groups == c.groups {
            return;
        }
        // Everything permitted first, so the id changes below are allowed.
        let mut ok = cur.effective == host.cap_permitted || host_capset(host.cap_permitted, &host);
        // SAFETY: raw system calls on the calling thread with a valid group array.
        unsafe {
            if cur.groups != c.groups {
                ok &= libc::syscall(libc::SYS_setgroups, c.groups.len(), c.groups.as_ptr()) == 0;
            }
            libc::syscall(libc::SYS_setfsgid, c.fsgid);
            libc::syscall(libc::SYS_setfsuid, c.fsuid);
            ok &= libc::syscall(libc::SYS_setfsgid, u32::MAX) as u32 == c.fsgid;
            ok &= libc::syscall(libc::SYS_setfsuid, u32::MAX) as u32 == c.fsuid;
        }
        ok &= host_capset(effective, &host);
        if !ok {
            log::warn!(target: "kernel::cred", "pid {pid}: the host cannot take the guest's credentials");
        }
        *cur = HostIds { fsuid: c.fsuid, fsgid: c.fsgid, groups: c.groups.clone(), effective };
    });
}

/// Runs the host call `f` with the credentials access(2) checks with
/// (`access_override_creds`: the real uid and gid as the fs ids; the effective set
/// emptied for a non-root real uid, the permitted set for root), then goes back to
/// the task's. `f` must ask the host for AT_EACCESS, so that the host checks these
/// and not its own real ids.
pub fn with_access_creds<R>(k: &Kernel, f: impl FnOnce() -> R) -> R {
    let mut c = k.task.cred.clone();
    c.fsuid = c.uid;
    c.fsgid = c.gid;
    if !c.issecure(SECURE_NO_SETUID_FIXUP) {
        c.cap_effective = if c.uid == 0 { c.cap_permitted } else { 0 };
    }
    sync_host_to(&c, k.task.pid);
    let r = f();
    sync_host(k);
    r
}
