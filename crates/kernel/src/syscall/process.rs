//! The process: fork, exec, exit and wait, identity, TLS descriptors, limits,
//! resource usage, scheduling and futexes. The work of fork, exit and wait is in
//! [`crate::fork`] and [`crate::exit`], exec's in [`crate::exec`].

use growsdown_cpu::{Descriptor, SegReg, Segment};

use crate::abi::process::{Rlimit as AbiRlimit, Rlimit64, Rusage, UserDesc as AbiUserDesc};
use crate::abi::time::Timeval;
use crate::abi::IntoBytes;
use crate::errno::{Errno, SysResult, EACCES, EFAULT, EINVAL, ENOSYS, EPERM, ESRCH};
use crate::syscall::Args;
use crate::task::{Rlimit, RLIMIT_NOFILE, RLIM_INFINITY, RLIM_NLIMITS};
use crate::{ExitStatus, Kernel, GDT_ENTRY_TLS_ENTRIES};

/// exit(status): the calling thread ends; the process ends with it if it was the
/// last one. The run loop then does the rest (`do_exit`, or the end of the machine
/// for init's last thread).
pub fn sys_exit(k: &mut Kernel, a: Args) {
    k.exit_status = Some(ExitStatus::Exited(a[0] as i32 & 0xff));
}

/// exit_group(status): every thread of the process ends (`do_group_exit`).
pub fn sys_exit_group(k: &mut Kernel, a: Args) {
    crate::exit::do_group_exit(k, ExitStatus::Exited(a[0] as i32 & 0xff));
}

pub fn sys_fork(k: &mut Kernel, _a: Args) -> SysResult {
    crate::fork::sys_fork(k)
}

pub fn sys_vfork(k: &mut Kernel, _a: Args) -> SysResult {
    crate::fork::sys_vfork(k)
}

/// clone(flags, newsp, parent_tidptr, tls, child_tidptr)
pub fn sys_clone(k: &mut Kernel, a: Args) -> SysResult {
    crate::fork::sys_clone(k, a[0], a[1], a[2], a[3], a[4])
}

/// wait4(pid, int *status, options, struct rusage *ru)
pub fn sys_wait4(k: &mut Kernel, a: Args) -> SysResult {
    crate::exit::sys_wait4(k, a[0] as i32, a[1], a[2], a[3])
}

/// waitpid(pid, int *status, options) = wait4 without rusage.
pub fn sys_waitpid(k: &mut Kernel, a: Args) -> SysResult {
    crate::exit::sys_wait4(k, a[0] as i32, a[1], a[2], 0)
}

/// `MAX_ARG_STRINGS`-like bound of 2.4's `count()`: more pointers than fit in the
/// argument area as 4-byte words is E2BIG.
const MAX_ARG_PTRS: usize = (growsdown_loader::ARG_MAX as usize - 4) / 4;

/// Copies a NULL-terminated array of user string pointers (argv or envp) into the
/// kernel, charging the strings (with their NULs) to `room`, the bytes left in the
/// 128 KiB argument area (2.4's `count` + `copy_strings`). A NULL array is empty.
/// EFAULT for a bad pointer, E2BIG when the area is full.
fn copy_strings(k: &mut Kernel, addr: u32, room: &mut usize) -> Result<Vec<Vec<u8>>, Errno> {
    let mut v = Vec::new();
    if addr == 0 {
        return Ok(v);
    }
    loop {
        if v.len() >= MAX_ARG_PTRS {
            return Err(libc::E2BIG);
        }
        let p = k.get_user::<u32>(addr.wrapping_add(4 * v.len() as u32))?;
        if p == 0 {
            return Ok(v);
        }
        let s = match k.strncpy_from_user(p, room.saturating_sub(1)) {
            Ok(s) => s,
            Err(crate::errno::ENAMETOOLONG) => return Err(libc::E2BIG),
            Err(e) => return Err(e),
        };
        *room = room.saturating_sub(s.len() + 1);
        v.push(s);
    }
}

/// execve(filename, argv, envp): reads the path and the two string arrays from user
/// memory (bounded by the 128 KiB argument area: E2BIG), then
/// [`crate::exec::do_execve`]. A refusal before the point of no return is returned to
/// the caller, whose program goes on; a failure after it leaves SIGKILL pending. On
/// success the new program starts with every register 0, EAX included.
pub fn sys_execve(k: &mut Kernel, a: Args) -> SysResult {
    let path = super::fs::read_path(k, a[0])?;
    if path.is_empty() {
        return Err(libc::ENOENT);
    }
    let (_, host) = super::fs::resolve_path(k, path)?;
    let mut room = growsdown_loader::ARG_MAX as usize - 4;
    room = room.checked_sub(host.as_bytes().len() + 1).ok_or(libc::E2BIG)?;
    let argv = copy_strings(k, a[1], &mut room)?;
    let envp = copy_strings(k, a[2], &mut room)?;
    let host = host.to_string_lossy().into_owned();
    match crate::exec::do_execve(k, &host, &argv, &envp) {
        Ok(()) => Ok(0),
        Err(crate::exec::ExecError::Refused { errno, msg }) => {
            log::debug!(target: "kernel::syscall", "execve refused: {msg}");
            Err(errno)
        }
        Err(crate::exec::ExecError::Killed(msg)) => {
            log::warn!(target: "kernel::syscall", "execve failed after the point of no return: {msg}");
            Ok(0)
        }
    }
}

/// getpid(): the process, i.e. the thread group's id.
pub fn sys_getpid(k: &mut Kernel, _a: Args) -> SysResult {
    Ok(k.task.tgid)
}

pub fn sys_gettid(k: &mut Kernel, _a: Args) -> SysResult {
    Ok(k.task.pid)
}

pub fn sys_getppid(k: &mut Kernel, _a: Args) -> SysResult {
    Ok(k.task.ppid)
}

/// Process group and session: the host's, since the guest runs in the emulator's
/// place in the host's job control.
/// getpgrp(): the caller's process group.
pub fn sys_getpgrp(k: &mut Kernel, _a: Args) -> SysResult {
    Ok(k.task.pgid)
}

fn is_self(k: &Kernel, pid: u32) -> bool {
    pid == 0 || pid == k.task.pid || pid == k.task.tgid
}

/// The (pgid, sid) of pid 0 (the caller) or a guest process, zombies included (a
/// zombie keeps its group until reaped, as in `find_task_by_vpid`).
fn group_of(k: &Kernel, pid: u32) -> Result<(u32, u32), Errno> {
    if is_self(k, pid) {
        return Ok((k.task.pgid, k.task.sid));
    }
    k.find_task(pid).map(|t| (t.pgid, t.sid)).ok_or(ESRCH)
}

/// getpgid(pid): ESRCH for anything but a guest process.
pub fn sys_getpgid(k: &mut Kernel, a: Args) -> SysResult {
    group_of(k, a[0]).map(|(pgid, _)| pgid)
}

/// getsid(pid): ESRCH for anything but a guest process.
pub fn sys_getsid(k: &mut Kernel, a: Args) -> SysResult {
    group_of(k, a[0]).map(|(_, sid)| sid)
}

/// setsid() (today's `ksys_setsid`): EPERM if a process group with the caller's
/// pid exists (it leads one); else it leads a new session and group of its own.
pub fn sys_setsid(k: &mut Kernel, _a: Args) -> SysResult {
    let me = k.task.tgid;
    let leads = k.all_tasks().any(|t| t.pgid == me);
    if leads {
        return Err(EPERM);
    }
    set_process_groups(k, me, me, Some(me));
    Ok(me)
}

/// Process group and session are the process's: every thread of `tgid` gets them.
fn set_process_groups(k: &mut Kernel, tgid: u32, pgid: u32, sid: Option<u32>) {
    let threads = std::iter::once(&mut k.task).chain(k.tasks.values_mut()).filter(|t| t.tgid == tgid);
    for t in threads {
        t.pgid = pgid;
        if let Some(s) = sid {
            t.sid = s;
        }
    }
}

/// setpgid(pid, pgid) (today's `sys_setpgid`), checked in its order: EINVAL for a
/// negative pgid; ESRCH unless pid is the caller or one of its children; EACCES for
/// a child that has exec'd; EPERM for a child in another session, for a session
/// leader, and for a group that does not exist in the caller's session (other than
/// the target's own pid).
pub fn sys_setpgid(k: &mut Kernel, a: Args) -> SysResult {
    let me = k.task.tgid;
    let pid = if a[0] == 0 { me } else { a[0] };
    if (a[1] as i32) < 0 {
        return Err(EINVAL);
    }
    let pgid = if a[1] == 0 { pid } else { a[1] };
    let (target_sid, did_exec) = if pid == me {
        (k.task.sid, false)
    } else {
        match k.find_task(pid) {
            Some(t) if t.ppid == me && t.pid == t.tgid => (t.sid, t.did_exec),
            _ => return Err(ESRCH),
        }
    };
    if pid != me {
        if target_sid != k.task.sid {
            return Err(EPERM);
        }
        if did_exec {
            return Err(EACCES);
        }
    }
    if target_sid == pid {
        return Err(EPERM);
    }
    if pgid != pid {
        let sid = k.task.sid;
        let exists = k.all_tasks().any(|t| t.pgid == pgid && t.sid == sid);
        if !exists {
            return Err(EPERM);
        }
    }
    set_process_groups(k, pid, pgid, None);
    Ok(0)
}

/// umask(mask): the task's `fs->umask`, which the kernel applies to the files and
/// directories the task creates.
pub fn sys_umask(k: &mut Kernel, a: Args) -> SysResult {
    Ok(std::mem::replace(&mut k.task.fs.umask, a[0] & 0o777))
}

// ---------------------------------------------------------------------------------
// TLS: set_thread_area / get_thread_area

const UD_SEG_32BIT: u32 = 1 << 0;
const UD_READ_EXEC_ONLY: u32 = 1 << 3;
const UD_LIMIT_IN_PAGES: u32 = 1 << 4;
const UD_SEG_NOT_PRESENT: u32 = 1 << 5;
const UD_USEABLE: u32 = 1 << 6;

/// A `struct user_desc`: entry_number, base_addr, limit, flag bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserDesc {
    pub entry: u32,
    pub base: u32,
    pub limit: u32,
    pub flags: u32,
}

impl UserDesc {
    fn contents(&self) -> u32 {
        (self.flags >> 1) & 3
    }
    /// `LDT_empty`: the documented way to ask for "no segment".
    fn is_empty(&self) -> bool {
        self.base == 0 && self.limit == 0 && self.flags & 0x7f == UD_READ_EXEC_ONLY | UD_SEG_NOT_PRESENT
    }
    /// `LDT_zero`: all-zero apart from entry_number, also taken as "no segment".
    fn is_zero(&self) -> bool {
        self.base == 0 && self.limit == 0 && self.flags & 0x7f == 0
    }
    /// `tls_desc_okay`: only present 32-bit data segments (or "no segment").
    fn okay(&self) -> bool {
        if self.is_empty() || self.is_zero() {
            return true;
        }
        self.flags & UD_SEG_32BIT != 0 && self.contents() <= 1 && self.flags & UD_SEG_NOT_PRESENT == 0
    }
    /// The raw GDT descriptor for set_thread_area (0 for "no segment").
    pub fn encode(&self) -> u64 {
        if self.is_empty() || self.is_zero() {
            return 0;
        }
        self.fill_ldt()
    }
    /// `fill_ldt`: the descriptor the fields describe, accessed bit set (today's
    /// kernels set it "so it can be mapped RO"), DPL 3, never a 64-bit code segment.
    fn fill_ldt(&self) -> u64 {
        let f = self.flags;
        let ty = (((f & UD_READ_EXEC_ONLY == 0) as u16) << 1) | ((self.contents() as u16) << 2) | 1;
        let attrs = ty
            | 0x10
            | (3 << 5)
            | (((f & UD_SEG_NOT_PRESENT == 0) as u16) << 7)
            | (((f & UD_USEABLE != 0) as u16) << 12)
            | (((f & UD_SEG_32BIT != 0) as u16) << 14)
            | (((f & UD_LIMIT_IN_PAGES != 0) as u16) << 15);
        Descriptor::encode(self.base, self.limit & 0xfffff, attrs)
    }
    /// `fill_user_desc`: the fields back from a raw descriptor.
    pub fn decode(entry: u32, raw: u64) -> Self {
        let lo = raw as u32;
        let hi = (raw >> 32) as u32;
        let base = (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff00_0000);
        let limit = (lo & 0xffff) | (hi & 0x000f_0000);
        let ty = (hi >> 8) & 0xf;
        let flags = ((hi >> 22) & 1)
            | ((ty >> 2) << 1)
            | ((((ty & 2) == 0) as u32) << 3)
            | (((hi >> 23) & 1) << 4)
            | ((((hi >> 15) & 1 == 0) as u32) << 5)
            | (((hi >> 20) & 1) << 6);
        Self { entry, base, limit, flags }
    }
    fn to_abi(self) -> AbiUserDesc {
        AbiUserDesc { entry_number: self.entry, base_addr: self.base, limit: self.limit, flags: self.flags }
    }
}

/// The TLS slots: `Personality::tls_entry_min` and the two after it (6–8 by default; 12–14
/// when difftest runs against an x86-64 host kernel).
fn tls_range(k: &Kernel) -> std::ops::RangeInclusive<usize> {
    let min = k.config.personality.tls_entry_min;
    min..=min + GDT_ENTRY_TLS_ENTRIES - 1
}

/// Reads a `struct user_desc` and checks it (`tls_desc_okay`).
fn read_user_desc(k: &mut Kernel, addr: u32) -> Result<UserDesc, Errno> {
    let mut u = AbiUserDesc::default();
    k.copy_from_user(addr, u.as_mut_bytes()).map_err(|_| EFAULT)?;
    let info = UserDesc { entry: u.entry_number, base: u.base_addr, limit: u.limit, flags: u.flags };
    if !info.okay() {
        return Err(EINVAL);
    }
    Ok(info)
}

/// The TLS slot clone's CLONE_SETTLS asks for: (GDT index, descriptor). The entry
/// must name a TLS slot; -1 ("pick one") is EINVAL here, as in today's
/// `do_set_thread_area(p, -1, tls, 0)`.
pub(crate) fn tls_for_clone(k: &mut Kernel, addr: u32) -> Result<(usize, u64), Errno> {
    let info = read_user_desc(k, addr)?;
    let idx = info.entry as usize;
    if !tls_range(k).contains(&idx) {
        return Err(EINVAL);
    }
    Ok((idx, info.encode()))
}

// ---------------------------------------------------------------------------------
// modify_ldt

/// LDT_ENTRIES: the architecture's limit (an LDT is at most 64 KiB).
const LDT_ENTRIES: u32 = 8192;
/// What `read_default_ldt` reports on an i386 kernel: five zeroed descriptors (an
/// x86-64 kernel reports 128 bytes).
const DEFAULT_LDT_BYTES: u32 = 5 * 8;

/// modify_ldt(func, ptr, bytecount) (today's arch/x86/kernel/ldt.c): 0 reads the
/// LDT, 1 writes an entry the old way, 0x11 the new way, 2 reads the "default LDT";
/// anything else is ENOSYS. The LDT belongs to the address space here as in Linux:
/// fork copies it, execve drops it.
pub fn sys_modify_ldt(k: &mut Kernel, a: Args) -> SysResult {
    match a[0] {
        0 => read_ldt(k, a[1], a[2]),
        1 => write_ldt(k, a[1], a[2], true),
        2 => {
            let n = a[2].min(DEFAULT_LDT_BYTES);
            k.copy_to_user(a[1], &vec![0u8; n as usize]).map_err(|_| EFAULT)?;
            Ok(n)
        }
        0x11 => write_ldt(k, a[1], a[2], false),
        _ => Err(ENOSYS),
    }
}

/// `read_ldt`: 0 without an LDT; otherwise `bytecount` (at most the whole 64 KiB)
/// bytes: the entries, then zeros.
fn read_ldt(k: &mut Kernel, ptr: u32, bytecount: u32) -> SysResult {
    if k.cpu.ldt.is_empty() {
        return Ok(0);
    }
    let n = bytecount.min(LDT_ENTRIES * 8) as usize;
    let mut out = vec![0u8; n];
    for (chunk, d) in out.chunks_mut(8).zip(&k.cpu.ldt) {
        chunk.copy_from_slice(&d.to_le_bytes()[..chunk.len()]);
    }
    k.copy_to_user(ptr, &out).map_err(|_| EFAULT)?;
    Ok(n as u32)
}

/// `write_ldt`: one `struct user_desc`, checked in Linux's order (EINVAL for a wrong
/// size, EFAULT, then EINVAL for the entry number and a code segment of "contents
/// 3" that is present or written the old way). `LDT_empty` (and, the old way, a zero
/// base and limit) clears the entry. The LDT grows to hold the entry.
fn write_ldt(k: &mut Kernel, ptr: u32, bytecount: u32, oldmode: bool) -> SysResult {
    if bytecount as usize != std::mem::size_of::<AbiUserDesc>() {
        return Err(EINVAL);
    }
    let mut u = AbiUserDesc::default();
    k.copy_from_user(ptr, u.as_mut_bytes()).map_err(|_| EFAULT)?;
    let info = UserDesc { entry: u.entry_number, base: u.base_addr, limit: u.limit, flags: u.flags };
    if info.entry >= LDT_ENTRIES {
        return Err(EINVAL);
    }
    if info.contents() == 3 && (oldmode || info.flags & UD_SEG_NOT_PRESENT == 0) {
        return Err(EINVAL);
    }
    let desc = if (oldmode && info.base == 0 && info.limit == 0) || info.is_empty() {
        0
    } else if oldmode {
        // The old interface has no AVL bit.
        info.fill_ldt() & !(1 << 52)
    } else {
        info.fill_ldt()
    };
    let idx = info.entry as usize;
    if k.cpu.ldt.len() <= idx {
        k.cpu.ldt.resize(idx + 1, 0);
    }
    k.cpu.ldt[idx] = desc;
    // A data segment register holding a selector of this entry is reloaded, as on
    // the way back to user mode; one that can no longer be loaded becomes null.
    for s in [SegReg::Ds, SegReg::Es, SegReg::Fs, SegReg::Gs] {
        let sel = k.cpu.segs[s as usize].selector;
        if sel & 4 != 0 && usize::from(sel >> 3) == idx && k.cpu.load_segment(s, sel).is_err() {
            k.cpu.segs[s as usize] = Segment::default();
        }
    }
    Ok(0)
}

/// set_thread_area(struct user_desc *u_info) (today's `do_set_thread_area`).
pub fn sys_set_thread_area(k: &mut Kernel, a: Args) -> SysResult {
    let addr = a[0];
    let info = read_user_desc(k, addr)?;
    let mut idx = info.entry as i32;
    if idx == -1 {
        let free = tls_range(k).find(|&i| k.cpu.gdt.get(i).is_some_and(|&d| d == 0));
        idx = free.ok_or(ESRCH)? as i32;
        k.put_user::<u32>(addr, idx as u32)?;
    }
    let idx = usize::try_from(idx).map_err(|_| EINVAL)?;
    if !tls_range(k).contains(&idx) || idx >= k.cpu.gdt.len() {
        return Err(EINVAL);
    }
    k.cpu.gdt[idx] = info.encode();
    // A segment register holding this selector is reloaded, as on the way back to
    // user mode; if the new descriptor cannot be loaded it becomes null.
    for s in [SegReg::Ds, SegReg::Es, SegReg::Fs, SegReg::Gs] {
        let sel = k.cpu.segs[s as usize].selector;
        if sel & 4 == 0 && usize::from(sel >> 3) == idx && k.cpu.load_segment(s, sel).is_err() {
            k.cpu.segs[s as usize] = Segment::default();
        }
    }
    Ok(0)
}

/// get_thread_area(struct user_desc *u_info)
pub fn sys_get_thread_area(k: &mut Kernel, a: Args) -> SysResult {
    let idx = k.get_user::<u32>(a[0])?;
    let i = idx as usize;
    if !tls_range(k).contains(&i) || i >= k.cpu.gdt.len() {
        return Err(EINVAL);
    }
    let d = UserDesc::decode(idx, k.cpu.gdt[i]);
    k.copy_to_user(a[0], d.to_abi().as_bytes()).map_err(|_| EFAULT)?;
    Ok(0)
}

/// set_tid_address(int *tidptr): remembered; returns the tid.
pub fn sys_set_tid_address(k: &mut Kernel, a: Args) -> SysResult {
    k.task.clear_child_tid = a[0];
    Ok(k.task.pid)
}

/// `sizeof(struct robust_list_head)` on i386.
const ROBUST_LIST_HEAD_SIZE: u32 = 12;

/// set_robust_list(head, len)
pub fn sys_set_robust_list(k: &mut Kernel, a: Args) -> SysResult {
    if a[1] != ROBUST_LIST_HEAD_SIZE {
        return Err(EINVAL);
    }
    k.task.robust_list = (a[0], a[1]);
    Ok(0)
}

/// get_robust_list(pid, head_ptr *, size_t *len_ptr)
pub fn sys_get_robust_list(k: &mut Kernel, a: Args) -> SysResult {
    if !is_self(k, a[0]) {
        return Err(ESRCH);
    }
    let (head, len) = k.task.robust_list;
    k.put_user::<u32>(a[2], if head == 0 { ROBUST_LIST_HEAD_SIZE } else { len })?;
    k.put_user::<u32>(a[1], head)?;
    Ok(0)
}

// ---------------------------------------------------------------------------------
// Resource limits

/// Raising a hard limit needs CAP_SYS_RESOURCE (`do_prlimit`).
fn can_raise_limits(k: &Kernel) -> bool {
    k.task.cred.capable(crate::cred::CAP_SYS_RESOURCE)
}

/// `do_prlimit`: validates and installs `new` for `res`, returns the old value.
fn do_prlimit(k: &mut Kernel, res: u32, new: Option<Rlimit>) -> Result<Rlimit, Errno> {
    let r = res as usize;
    if r >= RLIM_NLIMITS {
        return Err(EINVAL);
    }
    let old = k.task.rlim[r];
    if let Some(n) = new {
        if n.cur > n.max {
            return Err(EINVAL);
        }
        if n.max > old.max && !can_raise_limits(k) {
            return Err(EPERM);
        }
        if r == RLIMIT_NOFILE && n.max > 1 << 20 {
            return Err(EPERM);
        }
        // Limits are the process's (`signal->rlim`): every thread gets the new one.
        k.task.rlim[r] = n;
        let tgid = k.task.tgid;
        for t in k.tasks.values_mut().filter(|t| t.tgid == tgid) {
            t.rlim[r] = n;
        }
        if r == crate::task::RLIMIT_CPU {
            // `update_rlimit_cpu`: the CPU-time check restarts from the new limit.
            if let Some(p) = k.timers.procs.get_mut(&tgid) {
                p.rlim_next = 0;
            }
            crate::timer::recompute(k);
        }
    }
    Ok(old)
}

fn read_rlimit64(k: &mut Kernel, addr: u32) -> Result<Rlimit, Errno> {
    let mut r = Rlimit64::default();
    k.copy_from_user(addr, r.as_mut_bytes()).map_err(|_| EFAULT)?;
    Ok(Rlimit { cur: r.rlim_cur, max: r.rlim_max })
}

/// prlimit64(pid, resource, const struct rlimit64 *new, struct rlimit64 *old)
pub fn sys_prlimit64(k: &mut Kernel, a: Args) -> SysResult {
    if !is_self(k, a[0]) {
        return Err(ESRCH);
    }
    let new = if a[2] != 0 { Some(read_rlimit64(k, a[2])?) } else { None };
    let old = do_prlimit(k, a[1], new)?;
    if a[3] != 0 {
        let r = Rlimit64 { rlim_cur: old.cur, rlim_max: old.max };
        k.copy_to_user(a[3], r.as_bytes()).map_err(|_| EFAULT)?;
    }
    Ok(0)
}

fn put_rlimit32(k: &mut Kernel, addr: u32, r: Rlimit, ceiling: u64) -> SysResult {
    let clamp = |v: u64| v.min(ceiling) as u32;
    let g = AbiRlimit { rlim_cur: clamp(r.cur), rlim_max: clamp(r.max) };
    k.copy_to_user(addr, g.as_bytes()).map_err(|_| EFAULT)?;
    Ok(0)
}

/// ugetrlimit(resource, struct rlimit *): unsigned 32-bit, infinity 0xFFFFFFFF.
pub fn sys_ugetrlimit(k: &mut Kernel, a: Args) -> SysResult {
    let old = do_prlimit(k, a[0], None)?;
    put_rlimit32(k, a[1], old, u64::from(u32::MAX))
}

/// The old getrlimit (76): values clamped to 0x7FFFFFFF.
pub fn sys_old_getrlimit(k: &mut Kernel, a: Args) -> SysResult {
    let old = do_prlimit(k, a[0], None)?;
    put_rlimit32(k, a[1], old, 0x7fff_ffff)
}

/// setrlimit(resource, const struct rlimit *): 0xFFFFFFFF is infinity.
pub fn sys_setrlimit(k: &mut Kernel, a: Args) -> SysResult {
    if a[0] as usize >= RLIM_NLIMITS {
        return Err(EINVAL);
    }
    let mut g = AbiRlimit::default();
    k.copy_from_user(a[1], g.as_mut_bytes()).map_err(|_| EFAULT)?;
    let widen = |v: u32| if v == u32::MAX { RLIM_INFINITY } else { u64::from(v) };
    let cur = widen(g.rlim_cur);
    let max = widen(g.rlim_max);
    do_prlimit(k, a[0], Some(Rlimit { cur, max }))?;
    Ok(0)
}

// ---------------------------------------------------------------------------------
// Resource usage

/// The emulator's own CPU time: the guest's user and system time as the host sees it.
fn host_rusage() -> libc::rusage {
    // SAFETY: `ru` is a valid out-pointer.
    unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    }
}

/// The i386 `struct rusage` (72 bytes): 2.4's `getrusage` fills utime, stime,
/// minflt, majflt and nswap; the rest is zero. The fault counts are the task's own
/// 2.4 counts (linux24.md §3.8), not the host's.
///
/// RUSAGE_CHILDREN reports the fault counts of the reaped children (`cmin_flt`,
/// `cmaj_flt`) and zero times: the host cannot tell how much of the emulator's CPU
/// time was a child's.
pub fn rusage(k: &Kernel, who: Who) -> Rusage {
    let [min, maj, cmin, cmaj] = k.process_faults(k.task.tgid);
    if who == Who::Children {
        return Rusage { ru_minflt: cmin as i32, ru_majflt: cmaj as i32, ..Rusage::default() };
    }
    let ru = host_rusage();
    let tv = |t: libc::timeval| Timeval { tv_sec: t.tv_sec as i32, tv_usec: t.tv_usec as i32 };
    let (min, maj) = if who == Who::Thread { (k.task.min_flt, k.task.maj_flt) } else { (min, maj) };
    Rusage {
        ru_utime: tv(ru.ru_utime),
        ru_stime: tv(ru.ru_stime),
        ru_minflt: min as i32,
        ru_majflt: maj as i32,
        ..Rusage::default()
    }
}

/// getrusage's `who`: RUSAGE_SELF (the process: every thread's counts, the exited
/// ones' included), RUSAGE_THREAD (the caller's), RUSAGE_CHILDREN (the process's
/// reaped children).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    SelfProcess,
    Thread,
    Children,
}

/// getrusage(who, struct rusage *)
pub fn sys_getrusage(k: &mut Kernel, a: Args) -> SysResult {
    let who = match a[0] as i32 {
        0 => Who::SelfProcess,
        1 => Who::Thread,
        -1 => Who::Children,
        _ => return Err(EINVAL),
    };
    let ru = rusage(k, who);
    k.copy_to_user(a[1], ru.as_bytes()).map_err(|_| EFAULT)?;
    Ok(0)
}

/// The execution-domain part of a personality value (`PER_MASK`).
pub const PER_MASK: u32 = 0xff;

/// personality(persona): returns the old value; 0xffffffff only asks. Any value is
/// taken, as today's kernel does (there is one execution domain, PER_LINUX, and
/// others are only remembered).
pub fn sys_personality(k: &mut Kernel, a: Args) -> SysResult {
    let old = k.task.personality;
    if a[0] != u32::MAX {
        k.task.personality = a[0];
    }
    Ok(old)
}

/// sched_yield(): with several processes the caller's time slice ends, so the next
/// runnable one runs (2.4 sets `need_resched`); alone it just returns.
pub fn sys_sched_yield(k: &mut Kernel, _a: Args) -> SysResult {
    if k.multitasking() {
        k.slice_left = 0;
    }
    Ok(0)
}

/// sched_getaffinity(pid, len, mask): one CPU, CPU 0. Returns the mask size (4).
pub fn sys_sched_getaffinity(k: &mut Kernel, a: Args) -> SysResult {
    if !is_self(k, a[0]) {
        return Err(ESRCH);
    }
    let len = a[1];
    if len == 0 || len & 3 != 0 {
        return Err(EINVAL);
    }
    k.put_user::<u32>(a[2], 1)?;
    Ok(4)
}

/// sched_setaffinity(pid, len, mask): any mask containing CPU 0 is accepted.
pub fn sys_sched_setaffinity(k: &mut Kernel, a: Args) -> SysResult {
    if !is_self(k, a[0]) {
        return Err(ESRCH);
    }
    if a[1] == 0 {
        return Err(EINVAL);
    }
    let mut b = [0u8; 4];
    let n = (a[1] as usize).min(4);
    k.copy_from_user(a[2], &mut b[..n]).map_err(|_| EFAULT)?;
    if b[0] & 1 == 0 {
        return Err(EINVAL);
    }
    Ok(0)
}

const PR_SET_PDEATHSIG: u32 = 1;
const PR_GET_PDEATHSIG: u32 = 2;
const PR_GET_DUMPABLE: u32 = 3;
const PR_SET_DUMPABLE: u32 = 4;
const PR_SET_NAME: u32 = 15;
const PR_GET_NAME: u32 = 16;
const PR_GET_NO_NEW_PRIVS: u32 = 39;
const PR_SET_NO_NEW_PRIVS: u32 = 38;

/// prctl(option, ...): the process name and a few flags; other options EINVAL.
pub fn sys_prctl(k: &mut Kernel, a: Args) -> SysResult {
    if let Some(r) = crate::syscall::cred::prctl(k, a) {
        return r;
    }
    match a[0] {
        PR_SET_NAME => {
            let mut b = [0u8; 16];
            let n = match k.copy_from_user(a[1], &mut b) {
                Ok(()) => 16,
                Err(0) => return Err(EFAULT),
                Err(m) => m,
            };
            let name: Vec<u8> = b[..n.min(15)].iter().take_while(|&&c| c != 0).copied().collect();
            k.task.comm = String::from_utf8_lossy(&name).into_owned();
            Ok(0)
        }
        PR_GET_NAME => {
            let mut b = [0u8; 16];
            let c = k.task.comm.as_bytes();
            let n = c.len().min(15);
            b[..n].copy_from_slice(&c[..n]);
            k.copy_to_user(a[1], &b).map_err(|_| EFAULT)?;
            Ok(0)
        }
        PR_SET_PDEATHSIG => {
            if a[1] > 64 {
                return Err(EINVAL);
            }
            Ok(0)
        }
        PR_GET_PDEATHSIG => {
            k.put_user::<u32>(a[1], 0)?;
            Ok(0)
        }
        PR_GET_DUMPABLE => Ok(1),
        PR_SET_DUMPABLE => {
            if a[1] > 1 {
                return Err(EINVAL);
            }
            Ok(0)
        }
        PR_SET_NO_NEW_PRIVS | PR_GET_NO_NEW_PRIVS => Ok(0),
        _ => Err(EINVAL),
    }
}
