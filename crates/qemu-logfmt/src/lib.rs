//! An `LD_PRELOAD` shim that makes `qemu-i386 -d cpu[,fpu]` logging fast.
//!
//! `growsdown difftest --against qemu` (log mode) has QEMU dump its register state
//! before every guest instruction (`-singlestep -d cpu,nochain -D FIFO`). QEMU
//! writes each dump with 55 `qemu_fprintf` calls (81 with `fpu`), each one a
//! `vfprintf` on the log `FILE` — `__vfprintf_chk` in Debian's FORTIFY build — and
//! glibc's general-purpose printf engine then takes about 90% of QEMU's time
//! (perf; `cpubench 1`, 2.45 M instructions: 15 s of CPU, 0.06 s without `-d`).
//!
//! Preloaded into QEMU, this object defines `__vfprintf_chk` and `vfprintf`:
//!
//! * [`mod@format`] implements exactly the subset of printf QEMU's x86 dump uses
//!   (`%08x`, `%04x`, `%02x`, `%016lx`, `%d`, `%c`, `%s`, `%-3s`, ...: see that
//!   module), compiling a format once into a small program. Formats in read-only
//!   segments (string literals: all of QEMU's) are cached by address, so a call
//!   costs no parsing and no `strlen`.
//! * The output goes straight into the `FILE`'s buffer when it has room (the way
//!   glibc's `putc_unlocked` writes), under the stream's lock — which QEMU's logger
//!   already holds, so it is not taken again — or else through a stack buffer and
//!   `fwrite_unlocked`.
//! * A format outside the subset (or output over [`format::CAP`] bytes) is
//!   detected before anything is written, and the call goes with its `va_list`
//!   untouched to the next definition (glibc's, found with `dlsym(RTLD_NEXT, ...)`).
//!
//! The output is byte-for-byte what glibc would have written: the unit tests compare
//! with glibc's `vsnprintf` over 700,000 format × value cases,
//! `tests/preload.rs` preloads the shim into a C program, and
//! `tests/qemu_equivalence.rs` compares whole QEMU logs with and without it.
//!
//! Arguments are read from the caller's `va_list` following the System V x86-64 ABI
//! ([`VaArgs`]); the shim is x86-64 Linux (glibc) only.
//!
//! For tests: `GROWSDOWN_QEMU_LOGFMT_STATS=FILE` makes it keep three counters in
//! `FILE` (mapped shared, so they survive QEMU's `_exit`): little-endian u64s
//! counting the calls formatted, the calls passed on, and the mismatches found in
//! VERIFY mode. With `GROWSDOWN_QEMU_LOGFMT_VERIFY=1` as well, every formatted call is
//! also formatted by glibc's `vsnprintf` (on a copy of the `va_list`), glibc's text
//! is the one written, and differences are counted.

pub mod format;

use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};

use format::{Args, Out, CAP, SLACK};

/// The System V x86-64 `va_list` element (`__va_list_tag`); a C `va_list` argument
/// arrives as a pointer to one.
#[repr(C)]
#[derive(Debug)]
pub struct VaListTag {
    /// Offset in `reg_save_area` of the next general-purpose register argument;
    /// 48 (six 8-byte registers) when they are used up.
    pub gp_offset: u32,
    /// Offset of the next SSE register argument (48..176); unused here.
    pub fp_offset: u32,
    /// The next argument passed on the stack.
    pub overflow_arg_area: *mut c_void,
    /// rdi, rsi, rdx, rcx, r8, r9, then xmm0-7, as the variadic prologue saved them.
    pub reg_save_area: *mut c_void,
}

/// Walks a copy of a `va_list`'s integer-class arguments without writing to the
/// caller's `va_list`, which therefore stays usable for the fallback.
pub struct VaArgs {
    gp_offset: u32,
    overflow: *const u8,
    reg_save: *const u8,
}

impl VaArgs {
    /// # Safety
    /// `ap` must point to a live, initialised `va_list` whose remaining arguments
    /// are the ones the format asks for (printf's own contract).
    pub unsafe fn new(ap: *const VaListTag) -> Self {
        // SAFETY: `ap` is valid per this function's contract.
        let t = unsafe { &*ap };
        Self {
            gp_offset: t.gp_offset,
            overflow: t.overflow_arg_area.cast(),
            reg_save: t.reg_save_area.cast(),
        }
    }
}

impl Args for VaArgs {
    fn next_word(&mut self) -> u64 {
        // The ABI's va_arg for one INTEGER-class eightbyte: from the register save
        // area while gp_offset <= 48 - 8, else from the overflow area, 8 bytes each.
        if self.gp_offset < 48 {
            // SAFETY: gp_offset < 48 lies within the six saved registers of the
            // save area the caller's prologue filled (VaArgs::new's contract).
            let w = unsafe { self.reg_save.add(self.gp_offset as usize).cast::<u64>().read_unaligned() };
            self.gp_offset += 8;
            w
        } else {
            // SAFETY: the format asked for this argument, so the caller passed it and
            // it sits at the next 8-byte slot of the stack argument area.
            let w = unsafe { self.overflow.cast::<u64>().read_unaligned() };
            // SAFETY: one slot further is still within (or one past) the caller's
            // argument area.
            self.overflow = unsafe { self.overflow.add(8) };
            w
        }
    }
}

type VfprintfChk = unsafe extern "C" fn(*mut libc::FILE, c_int, *const c_char, *mut VaListTag) -> c_int;
type Vfprintf = unsafe extern "C" fn(*mut libc::FILE, *const c_char, *mut VaListTag) -> c_int;

static REAL_CHK: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());
static REAL_PLAIN: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());
static INIT: AtomicBool = AtomicBool::new(false);
static VERIFY: AtomicBool = AtomicBool::new(false);
/// The statistics counters (formatted, passed on, mismatched) in the shared mapping
/// of the STATS file; null when statistics are off.
static COUNTERS: AtomicPtr<[AtomicU64; 3]> = AtomicPtr::new(std::ptr::null_mut());
const FORMATTED: usize = 0;
const PASSED_ON: usize = 1;
const MISMATCHED: usize = 2;

/// The next definition of `name` after this object (glibc's), looked up once.
fn real(slot: &AtomicPtr<c_void>, name: &CStr) -> *mut c_void {
    let p = slot.load(Ordering::Relaxed);
    if !p.is_null() {
        return p;
    }
    // SAFETY: RTLD_NEXT with a NUL-terminated symbol name; dlsym is thread-safe.
    let p = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) };
    slot.store(p, Ordering::Relaxed);
    p
}

fn count(which: usize) {
    let c = COUNTERS.load(Ordering::Relaxed);
    if !c.is_null() {
        // SAFETY: a non-null COUNTERS points into a mapping that is never unmapped.
        unsafe { (*c)[which].fetch_add(1, Ordering::Relaxed) };
    }
}

/// Maps the STATS file's three counters (best effort: no file, no statistics).
fn map_stats(path: &std::ffi::OsStr) {
    use std::os::fd::AsRawFd;
    let Ok(f) = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(path)
    else {
        return;
    };
    let size = std::mem::size_of::<[AtomicU64; 3]>();
    if f.set_len(size as u64).is_err() {
        return;
    }
    // SAFETY: a fresh shared mapping of the whole (zero-filled) file; the kernel
    // keeps the mapping after the descriptor is closed.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            f.as_raw_fd(),
            0,
        )
    };
    if p != libc::MAP_FAILED {
        COUNTERS.store(p.cast(), Ordering::Relaxed);
    }
}

/// First-call setup: statistics and verification on request.
#[cold]
fn init() {
    if INIT.swap(true, Ordering::Relaxed) {
        return;
    }
    let mut n = 0usize;
    // SAFETY: collect_range has dl_iterate_phdr's callback signature and takes our
    // counter, which outlives the call.
    unsafe { libc::dl_iterate_phdr(Some(collect_range), (&raw mut n).cast()) };
    N_RANGES.store(n, Ordering::Release);
    if let Some(path) = std::env::var_os("GROWSDOWN_QEMU_LOGFMT_STATS") {
        map_stats(&path);
        VERIFY.store(
            std::env::var_os("GROWSDOWN_QEMU_LOGFMT_VERIFY").is_some_and(|v| v == "1"),
            Ordering::Relaxed,
        );
    }
}

extern "C" {
    // glibc's; a `va_list` parameter is a pointer to its first (only) element.
    fn vsnprintf(s: *mut c_char, n: usize, fmt: *const c_char, ap: *mut VaListTag) -> c_int;
}

/// VERIFY mode: replaces `out` by glibc's formatting of the same call, counting a
/// difference.
///
/// # Safety
/// As for [`try_fast`].
#[cold]
unsafe fn verify(fmt: *const c_char, ap: *const VaListTag, out: &mut Out) {
    let mut buf = [0u8; format::CAP + 1];
    // SAFETY: `ap` is live; a copy of the four fields is what va_copy makes.
    let mut copy = unsafe { std::ptr::read(ap) };
    // SAFETY: a buffer of the given size, the caller's format and arguments.
    let n = unsafe { vsnprintf(buf.as_mut_ptr().cast(), buf.len(), fmt, &mut copy) };
    let glibc = usize::try_from(n).ok().and_then(|n| buf.get(..n));
    if glibc != Some(out.as_bytes()) {
        count(MISMATCHED);
        out.clear();
        // glibc's output fits (ours did, and glibc's is below CAP + 1 or truncated).
        let _ = out.push_bytes(glibc.unwrap_or(&buf[..format::CAP]));
    }
}

/// Read-only `PT_LOAD` segments of the objects loaded at start-up (QEMU and its
/// libraries): a format string inside one cannot change, so its compiled form can be
/// cached by address. Filled once by [`init`], published by `N_RANGES`.
static RANGES: [(AtomicUsize, AtomicUsize); MAX_RANGES] =
    [const { (AtomicUsize::new(0), AtomicUsize::new(0)) }; MAX_RANGES];
static N_RANGES: AtomicUsize = AtomicUsize::new(0);
const MAX_RANGES: usize = 128;

/// dl_iterate_phdr's callback: records the object's read-only PT_LOAD segments.
///
/// # Safety
/// Called by dl_iterate_phdr with `n` pointing to a `usize` counter.
unsafe extern "C" fn collect_range(info: *mut libc::dl_phdr_info, _size: usize, n: *mut c_void) -> c_int {
    // SAFETY: dl_iterate_phdr passes a valid info whose dlpi_phdr array has
    // dlpi_phnum entries, and our own counter as `n`.
    let (info, n) = unsafe { (&*info, &mut *n.cast::<usize>()) };
    for i in 0..usize::from(info.dlpi_phnum) {
        // SAFETY: i < dlpi_phnum.
        let ph = unsafe { &*info.dlpi_phdr.add(i) };
        if ph.p_type == libc::PT_LOAD && ph.p_flags & libc::PF_W == 0 && *n < MAX_RANGES {
            let start = (info.dlpi_addr as usize).wrapping_add(ph.p_vaddr as usize);
            RANGES[*n].0.store(start, Ordering::Relaxed);
            RANGES[*n].1.store(start.wrapping_add(ph.p_memsz as usize), Ordering::Relaxed);
            *n += 1;
        }
    }
    0
}

/// Whether `len` bytes from `p` lie in one of the read-only segments.
fn immutable(p: usize, len: usize) -> bool {
    let n = N_RANGES.load(Ordering::Acquire);
    RANGES[..n].iter().any(|(s, e)| {
        let (s, e) = (s.load(Ordering::Relaxed), e.load(Ordering::Relaxed));
        p >= s && p < e && len <= e - p
    })
}

/// A compiled format (`None`: outside the subset), keyed by its address.
struct Entry {
    fmt: usize,
    prog: Option<format::Program>,
}

const CACHE_SLOTS: usize = 1024;
const PROBES: usize = 8;
/// Open addressing, `PROBES` slots from the address's hash. A slot is filled once
/// and never replaced (entries are leaked on purpose: at most CACHE_SLOTS of them),
/// so a reader never sees one freed.
static CACHE: [AtomicPtr<Entry>; CACHE_SLOTS] = [const { AtomicPtr::new(std::ptr::null_mut()) }; CACHE_SLOTS];

fn probe(fmt: usize) -> impl Iterator<Item = &'static AtomicPtr<Entry>> {
    let h = (fmt >> 3) ^ (fmt >> 13);
    (0..PROBES).map(move |k| &CACHE[(h + k) % CACHE_SLOTS])
}

fn lookup(fmt: usize) -> Option<&'static Entry> {
    for slot in probe(fmt) {
        let e = slot.load(Ordering::Acquire);
        if e.is_null() {
            return None;
        }
        // SAFETY: a non-null slot holds a leaked, never-freed Entry.
        let e = unsafe { &*e };
        if e.fmt == fmt {
            return Some(e);
        }
    }
    None
}

/// Caches `prog` for `fmt` in the first free slot (if any is left).
fn insert(fmt: usize, prog: Option<format::Program>) {
    let e = Box::into_raw(Box::new(Entry { fmt, prog }));
    for slot in probe(fmt) {
        if slot.compare_exchange(std::ptr::null_mut(), e, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            return;
        }
    }
    // SAFETY: `e` was not published; we still own it.
    drop(unsafe { Box::from_raw(e) });
}

/// Formats and writes one call, or returns `None` (nothing written) when the format
/// is outside the subset.
///
/// # Safety
/// `fp` is a valid `FILE`, `fmt` a NUL-terminated string, `ap` a live `va_list`
/// holding the arguments `fmt` asks for.
unsafe fn try_fast(fp: *mut libc::FILE, fmt: *const c_char, ap: *mut VaListTag) -> Option<c_int> {
    if !INIT.load(Ordering::Relaxed) {
        init();
    }
    let key = fmt as usize;
    let hit = lookup(key);
    let compiled;
    let prog = match hit {
        Some(e) => e.prog.as_ref(),
        None => {
            // SAFETY: `fmt` is NUL-terminated per this function's contract.
            let bytes = unsafe { CStr::from_ptr(fmt) }.to_bytes();
            compiled = format::compile(bytes).ok();
            if immutable(key, bytes.len() + 1) {
                insert(key, compiled.clone());
            }
            compiled.as_ref()
        }
    };
    let Some(prog) = prog else {
        count(PASSED_ON);
        return None;
    };
    // SAFETY: `fp` is valid per contract; the lock is released below.
    let guard = unsafe { lock(fp) };
    let f = fp.cast::<GlibcFile>();
    // SAFETY: `fp` is a glibc FILE, whose layout starts like GlibcFile; we hold its
    // lock, so its fields do not change under us.
    let (mode, ptr, end) = unsafe { ((*f).mode, (*f).write_ptr, (*f).write_end) };
    if mode > 0 {
        // A wide stream: glibc's vfprintf fails on it; let it.
        // SAFETY: taken above.
        unsafe { unlock(fp, guard) };
        count(PASSED_ON);
        return None;
    }
    // Format straight into the stream's buffer when it is byte-oriented and has room
    // for any output (what glibc's putc_unlocked does with one byte:
    // `_IO_write_ptr < _IO_write_end` only holds in put mode on a buffered stream);
    // else into a stack buffer, then fwrite_unlocked.
    let direct = mode < 0 && !ptr.is_null() && (end as usize).saturating_sub(ptr as usize) >= CAP + SLACK;
    let mut stack = format::buffer();
    let mut out = if direct {
        // SAFETY: CAP + SLACK bytes from `ptr` are inside the stream's buffer, ours
        // while we hold the lock; bytes past what we commit are scratch.
        unsafe { Out::from_raw(ptr) }
    } else {
        Out::new(&mut stack)
    };
    // SAFETY: per this function's contract.
    let mut args = unsafe { VaArgs::new(ap) };
    let ok = format::run(prog, &mut args, &mut out).is_ok();
    count(if ok { FORMATTED } else { PASSED_ON });
    if ok && VERIFY.load(Ordering::Relaxed) {
        // SAFETY: per this function's contract; `ap` was only read.
        unsafe { verify(fmt, ap, &mut out) };
    }
    let n = out.as_bytes().len();
    let r = if !ok {
        None
    } else if direct {
        // SAFETY: `n <= CAP` bytes were written at `ptr`, within the buffer.
        unsafe { (*f).write_ptr = ptr.add(n) };
        Some(n)
    } else if n == 0 {
        Some(0)
    } else {
        // SAFETY: `out` holds `n` initialised bytes; we hold the lock.
        Some(unsafe { fwrite_unlocked(out.as_bytes().as_ptr().cast(), 1, n, fp) })
            .filter(|&w| w == n)
            .or(Some(usize::MAX))
    };
    // SAFETY: taken above.
    unsafe { unlock(fp, guard) };
    r.map(|n| c_int::try_from(n).unwrap_or(-1))
}

/// The start of glibc's `struct _IO_FILE` (public ABI, <bits/types/struct_FILE.h>),
/// up to `_mode`.
#[repr(C)]
struct GlibcFile {
    flags: c_int,
    read_ptr: *mut u8,
    read_end: *mut u8,
    read_base: *mut u8,
    write_base: *mut u8,
    write_ptr: *mut u8,
    write_end: *mut u8,
    buf_base: *mut u8,
    buf_end: *mut u8,
    save_base: *mut u8,
    backup_base: *mut u8,
    save_end: *mut u8,
    markers: *mut c_void,
    chain: *mut c_void,
    fileno: c_int,
    flags2: c_int,
    old_offset: libc::off_t,
    cur_column: u16,
    vtable_offset: i8,
    shortbuf: [u8; 1],
    lock: *mut c_void,
    offset: i64,
    codecvt: *mut c_void,
    wide_data: *mut c_void,
    freeres_list: *mut c_void,
    freeres_buf: *mut c_void,
    pad5: usize,
    /// Orientation: < 0 bytes, 0 undecided, > 0 wide.
    mode: c_int,
}

const _: () = assert!(std::mem::offset_of!(GlibcFile, write_ptr) == 40);
const _: () = assert!(std::mem::offset_of!(GlibcFile, lock) == 136);
const _: () = assert!(std::mem::offset_of!(GlibcFile, mode) == 192);

extern "C" {
    fn flockfile(fp: *mut libc::FILE);
    fn funlockfile(fp: *mut libc::FILE);
    fn fwrite_unlocked(p: *const c_void, size: usize, n: usize, fp: *mut libc::FILE) -> usize;
}

/// glibc's `_IO_lock_t` (internal, unchanged since NPTL): a recursive lock.
#[repr(C)]
struct IoLock {
    lock: c_int,
    cnt: c_int,
    owner: *mut c_void,
}

/// `_IO_USER_LOCK`: the stream is not locked by stdio (`__fsetlocking`).
const IO_USER_LOCK: c_int = 0x8000;

/// Takes the stream's lock unless this thread already holds it (QEMU's logging does:
/// `qemu_log_trylock` flocks the log file around each dump), which spares two calls
/// per call. Returns whether it was taken.
///
/// # Safety
/// `fp` is a valid glibc `FILE`.
unsafe fn lock(fp: *mut libc::FILE) -> bool {
    let f = fp.cast::<GlibcFile>();
    // SAFETY: `fp` is a glibc FILE; `_lock` is null or its lock, whose owner field
    // this thread may read (a racing write only changes it to another thread's id).
    let held = unsafe {
        (*f).flags & IO_USER_LOCK != 0 || {
            let l = (*f).lock.cast::<IoLock>();
            !l.is_null()
                && std::ptr::read_volatile(&raw const (*l).owner) as usize == libc::pthread_self() as usize
        }
    };
    if !held {
        // SAFETY: a valid stream.
        unsafe { flockfile(fp) };
    }
    !held
}

/// Releases what [`lock`] took.
///
/// # Safety
/// `taken` is what `lock(fp)` returned.
unsafe fn unlock(fp: *mut libc::FILE, taken: bool) {
    if taken {
        // SAFETY: locked by `lock`.
        unsafe { funlockfile(fp) };
    }
}

/// glibc's FORTIFY `vfprintf` (`flag` only affects `%n`, which is passed on).
///
/// # Safety
/// The C contract of `vfprintf`.
#[export_name = "__vfprintf_chk"]
pub unsafe extern "C" fn logfmt_vfprintf_chk(
    fp: *mut libc::FILE,
    flag: c_int,
    fmt: *const c_char,
    ap: *mut VaListTag,
) -> c_int {
    // SAFETY: the caller's vfprintf contract is try_fast's.
    if let Some(r) = unsafe { try_fast(fp, fmt, ap) } {
        return r;
    }
    let f = real(&REAL_CHK, c"__vfprintf_chk");
    if f.is_null() {
        return -1;
    }
    // SAFETY: `f` is glibc's __vfprintf_chk, which has this signature; `ap` was
    // only read, never advanced.
    unsafe { std::mem::transmute::<*mut c_void, VfprintfChk>(f)(fp, flag, fmt, ap) }
}

/// `vfprintf`.
///
/// # Safety
/// The C contract of `vfprintf`.
#[export_name = "vfprintf"]
pub unsafe extern "C" fn logfmt_vfprintf(
    fp: *mut libc::FILE,
    fmt: *const c_char,
    ap: *mut VaListTag,
) -> c_int {
    // SAFETY: the caller's vfprintf contract is try_fast's.
    if let Some(r) = unsafe { try_fast(fp, fmt, ap) } {
        return r;
    }
    let f = real(&REAL_PLAIN, c"vfprintf");
    if f.is_null() {
        return -1;
    }
    // SAFETY: `f` is glibc's vfprintf, which has this signature; `ap` was only
    // read, never advanced.
    unsafe { std::mem::transmute::<*mut c_void, Vfprintf>(f)(fp, fmt, ap) }
}

#[cfg(test)]
mod tests;
