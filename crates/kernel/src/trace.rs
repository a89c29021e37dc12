//! Page-fault trace events: what `growsdown trace` shows.
//!
//! The fault path records each decision it makes as a [`Step`] — the same functions,
//! in the same order, as Linux 2.4 — into a [`FaultEvent`]. Recording is skipped
//! entirely unless an observer is installed, so an untraced run pays one branch per
//! fault.

use growsdown_cpu::Cpu;

use crate::task::Task;
use crate::Kernel;

/// One decision on the fault path. Copy, so that a tracer copies a path in one go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Entry: the faulting address, hardware error code, user or kernel mode.
    DoPageFault {
        address: u32,
        error_code: u32,
        user: bool,
    },
    /// `find_vma` result: the VMA (start, end, flags) or none.
    FindVma {
        vma: Option<(u32, u32, u32)>,
    },
    /// The `address + 32 < esp` test for user faults below a GROWSDOWN VMA.
    EspCheck {
        esp: u32,
        ok: bool,
    },
    /// `expand_stack`: old and new `vm_start`, or the reason it refused.
    ExpandStack {
        old_start: u32,
        new_start: u32,
        ok: bool,
    },
    /// The access check of `good_area` on `error_code & 3`.
    GoodArea {
        write: bool,
    },
    HandleMmFault,
    /// `pte_alloc` had to allocate a page table (physical address of it).
    PteAlloc {
        table: u32,
    },
    HandlePteFault {
        pte: u32,
    },
    /// `do_no_page` on a file-backed VMA: the page index read, early COW or not.
    DoNoPage {
        file_page: u32,
        early_cow: bool,
    },
    /// `do_anonymous_page`: read → ZERO_PAGE, write → new zeroed frame.
    DoAnonymousPage {
        zero_page: bool,
        frame: u32,
    },
    /// `do_wp_page`: reuse in place, or copy into a new frame.
    DoWpPage {
        copied: bool,
        from_zero_page: bool,
        frame: u32,
    },
    /// Present PTE, access allowed: only A/D updated (spurious / stale TLB).
    Spurious,
    /// `bad_area` with the reason and si_code.
    BadArea {
        reason: &'static str,
        si_code: i32,
    },
    /// Kernel-mode bad access: exception-table fixup (syscall gets -EFAULT).
    NoContextFixup,
    /// `do_sigbus`.
    SigBus,
    OutOfMemory,
    /// `filemap_nopage`'s page-cache lookup (`find_get_page`) for a file mapping:
    /// the page was cached, or it is read from the file now.
    FindGetPage {
        hit: bool,
    },
    /// The OOM killer chose another process (its tgid; 0: the last victim is still
    /// exiting): the fault is retried once memory is freed (`mm/oom_kill.rs`).
    OomKill {
        victim: u32,
    },
    /// `do_swap_page`: the PTE held the swap entry of `slot`; the page was in the
    /// swap cache (`lookup_swap_cache`, minor) or read from the swap file
    /// (`read_swap_cache_async`, major) into `frame`.
    DoSwapPage {
        slot: u32,
        cached: bool,
        frame: u32,
    },
    /// `shmem_getpage` (from `shmem_nopage`): the shmem object's page was in swap
    /// slot `slot`; it was in the swap cache (`lookup_swap_cache`) or read from the
    /// swap file (`read_swap_cache_async`) into `frame`, which the object holds
    /// again (the slot is freed).
    ShmemGetpage {
        slot: u32,
        cached: bool,
        frame: u32,
    },
}

/// How a fault ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultResult {
    Minor,
    Major,
    SigSegv {
        si_code: i32,
    },
    SigBus {
        si_code: i32,
    },
    /// A kernel-mode fault that could not be resolved: the syscall sees EFAULT.
    Efault,
    Oom,
    /// Another process was killed for memory; the instruction re-executes.
    OomRetry,
}

/// One page fault, as `growsdown trace` reports it.
#[derive(Clone, Debug)]
pub struct FaultEvent {
    pub seq: u64,
    /// The process (the task's `tgid`, what `getpid` returns).
    pub pid: u32,
    /// The thread (the task's own `pid`, what `gettid` returns); `pid` in a process
    /// that never made a thread.
    pub tid: u32,
    /// Instructions the faulting task (thread) retired before the faulting one.
    pub icount: u64,
    /// Instructions the whole machine retired before it, every task's: a clock
    /// common to all threads and processes (the SVG's time axis).
    pub machine_icount: u64,
    pub eip: u32,
    pub esp: u32,
    pub cr2: u32,
    pub error_code: u32,
    /// Taken while the kernel accessed user memory for a syscall.
    pub kernel_mode: bool,
    /// VMA found (start, end, flags) after any expansion.
    pub vma: Option<(u32, u32, u32)>,
    pub path: Vec<Step>,
    pub result: FaultResult,
    /// The faulting thread's own counters after the fault (in 2.4 every thread is
    /// a task with its own; a process's are the sum, see [`ThreadFaults`]).
    pub min_flt: u64,
    pub maj_flt: u64,
    /// The machine's memory counters after the fault (the SVG's memory curves).
    pub mem: MemCounts,
}

/// The memory the trace draws over time, sampled at each fault and reclaim event
/// (only while an observer is installed): resident pages and pages moved to and from
/// swap. Machine-wide, so that a curve built from the samples needs no event for
/// what happens between them (munmap, exit, fork): the next sample has it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemCounts {
    /// Resident pages of every address space: the sum of each mm's `rss` (2.4's
    /// count of the pages its PTEs map; threads sharing an mm count it once).
    pub rss: u64,
    /// Pages read from swap (`pswpin`, what `--stats` prints; readahead included).
    pub pswpin: u64,
    /// Pages written to swap (`pswpout`).
    pub pswpout: u64,
}

impl MemCounts {
    /// The counters now. Walks the parked address spaces (one per other process), so
    /// it is called only to build an event for an observer. Inlined, and the walk
    /// skipped when nothing is parked (a guest of one process): the traced fault
    /// path takes these at every fault.
    #[inline]
    pub(crate) fn of(k: &Kernel) -> Self {
        let parked: u64 =
            if k.parked.mm.is_empty() { 0 } else { k.parked.mm.values().map(|mm| u64::from(mm.rss)).sum() };
        MemCounts {
            rss: u64::from(k.task.mm.rss) + parked,
            pswpin: k.swap.stats.pswpin,
            pswpout: k.swap.stats.pswpout,
        }
    }
}

impl FaultEvent {
    /// An event with every number zero and no path: what [`FaultRecord::unpack`]
    /// fills in.
    pub fn empty() -> Self {
        FaultEvent {
            seq: 0,
            pid: 0,
            tid: 0,
            icount: 0,
            machine_icount: 0,
            eip: 0,
            esp: 0,
            cr2: 0,
            error_code: 0,
            kernel_mode: false,
            vma: None,
            path: Vec::new(),
            result: FaultResult::Minor,
            min_flt: 0,
            maj_flt: 0,
            mem: MemCounts { rss: 0, pswpin: 0, pswpout: 0 },
        }
    }
}

/// One page fault as the fault path records it for a tracer: the fields of
/// [`FaultEvent`] with the path packed into a fixed size ([`PackedPath`]), so that the
/// whole record is one `Copy` value a tracer stores with one fixed-size copy, and
/// nothing is allocated per fault. [`FaultRecord::unpack`] gives the event back.
///
/// 128 bytes, the most the compiler copies inline rather than with a `memcpy` call:
/// the fault counters and the memory counters are 32 bits wide, as 2.4 keeps them on
/// i386 (`task_struct.min_flt`/`maj_flt`, `mm_struct.rss` and the `pswpin`/`pswpout`
/// of `kstat` are `unsigned long`/`unsigned int`), so they wrap where i386 Linux's
/// do; and the mode is a flag of the path ([`FaultRecord::kernel_mode`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultRecord {
    pub seq: u64,
    pub pid: u32,
    pub tid: u32,
    pub icount: u64,
    pub machine_icount: u64,
    pub eip: u32,
    pub esp: u32,
    pub cr2: u32,
    pub error_code: u32,
    pub vma: Option<(u32, u32, u32)>,
    pub path: PackedPath,
    pub result: FaultResult,
    pub min_flt: u32,
    pub maj_flt: u32,
    /// [`MemCounts`], 32 bits each.
    pub rss: u32,
    pub pswpin: u32,
    pub pswpout: u32,
}

impl FaultRecord {
    /// Taken while the kernel accessed user memory for a syscall.
    #[inline]
    pub fn kernel_mode(&self) -> bool {
        !self.path.user
    }

    /// The record of `ev`; a path that does not pack is appended to `spill` (which
    /// is not cleared) and the record says so ([`PackedPath::spilled`]).
    pub fn pack(ev: &FaultEvent, spill: &mut Vec<Step>) -> Self {
        let start = spill.len();
        let mut rec = PathRecorder::new(ev.cr2, ev.error_code, ev.esp, !ev.kernel_mode, &mut *spill);
        for s in &ev.path {
            rec.push(*s);
        }
        let path = rec.packed;
        if !path.spilled() {
            spill.truncate(start);
        }
        // Every field named, so that one added to FaultEvent is not forgotten here.
        let FaultEvent {
            seq,
            pid,
            tid,
            icount,
            machine_icount,
            eip,
            esp,
            cr2,
            error_code,
            // In the path (`PathRecorder::new` above).
            kernel_mode: _,
            vma,
            path: _,
            result,
            min_flt,
            maj_flt,
            mem: MemCounts { rss, pswpin, pswpout },
        } = *ev;
        // 32 bits wide, as i386 Linux counts them (see the type).
        FaultRecord {
            seq,
            pid,
            tid,
            icount,
            machine_icount,
            eip,
            esp,
            cr2,
            error_code,
            vma,
            path,
            result,
            min_flt: min_flt as u32,
            maj_flt: maj_flt as u32,
            rss: rss as u32,
            pswpin: pswpin as u32,
            pswpout: pswpout as u32,
        }
    }

    /// The steps of a path that packed, decoded one at a time; None for a path
    /// recorded as steps instead ([`PackedPath::spilled`]).
    #[inline]
    pub fn steps(&self) -> Option<PackedSteps<'_>> {
        let p = &self.path;
        let fault = FaultCtx { address: self.cr2, error_code: self.error_code, esp: self.esp, user: p.user };
        (!p.spilled()).then_some(PackedSteps { path: p, at: 0, fault })
    }

    /// Writes the event into `ev`, reusing its path buffer; `spill` is the path when
    /// it did not pack ([`PackedPath::spilled`]), ignored otherwise.
    pub fn unpack(&self, spill: &[Step], ev: &mut FaultEvent) {
        self.unpack_fields(ev);
        match self.steps() {
            Some(steps) => ev.path.extend(steps),
            None => ev.path.extend_from_slice(spill),
        }
    }

    /// [`FaultRecord::unpack`] but for the path, which is left empty: for a tracer
    /// that reads the steps from [`FaultRecord::steps`].
    pub fn unpack_fields(&self, ev: &mut FaultEvent) {
        let FaultRecord {
            seq,
            pid,
            tid,
            icount,
            machine_icount,
            eip,
            esp,
            cr2,
            error_code,
            vma,
            path,
            result,
            min_flt,
            maj_flt,
            rss,
            pswpin,
            pswpout,
        } = *self;
        let kernel_mode = !path.user;
        let (min_flt, maj_flt) = (u64::from(min_flt), u64::from(maj_flt));
        let mem = MemCounts { rss: u64::from(rss), pswpin: u64::from(pswpin), pswpout: u64::from(pswpout) };
        // Field by field into the event, its path buffer kept: nothing is dropped or
        // allocated once the buffer has grown to the longest path.
        let FaultEvent {
            seq: e_seq,
            pid: e_pid,
            tid: e_tid,
            icount: e_icount,
            machine_icount: e_machine_icount,
            eip: e_eip,
            esp: e_esp,
            cr2: e_cr2,
            error_code: e_error_code,
            kernel_mode: e_kernel_mode,
            vma: e_vma,
            path: steps,
            result: e_result,
            min_flt: e_min_flt,
            maj_flt: e_maj_flt,
            mem: e_mem,
        } = ev;
        (*e_seq, *e_pid, *e_tid, *e_icount, *e_machine_icount) = (seq, pid, tid, icount, machine_icount);
        (*e_eip, *e_esp, *e_cr2, *e_error_code, *e_kernel_mode) = (eip, esp, cr2, error_code, kernel_mode);
        (*e_vma, *e_result, *e_min_flt, *e_maj_flt, *e_mem) = (vma, result, min_flt, maj_flt, mem);
        steps.clear();
    }
}

/// Bytes a [`PackedPath`] holds, a byte for each step and four for each argument:
/// room for the common 2.4 paths (a stack expansion: eight steps, six arguments,
/// 32 bytes) and for any of nine steps and six arguments, and small enough that a
/// whole [`FaultRecord`], with the memory counters the SVG draws, is 128 bytes.
const PACKED_BYTES: usize = 33;

/// A fault's path in a fixed size: each step one byte (its kind in the low five bits,
/// its yes/no fields in the three above) followed by its arguments that vary (four
/// bytes each, little-endian), in order. Steps and arguments share one room, so
/// that one compare tells whether a step fits with its arguments.
/// What the fault's own fields already say is not stored again: the address, error
/// code and mode of `do_page_fault`, the ESP of the esp test and the new start of
/// `expand_stack` (the faulting page) are the fault's.
/// A step that does not pack that way (`bad_area`, whose reason is a string, or
/// one that differs from the fault's fields) or a path longer than the room makes the
/// whole path recorded as [`Step`]s instead ([`PackedPath::spilled`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PackedPath {
    bytes: [u8; PACKED_BYTES],
    /// Bytes used, or [`SPILLED`], which no step fits after: the one compare per
    /// step tests that too.
    len: u8,
    /// The fault's mode (`do_page_fault`'s `user`), here in what would be the
    /// record's padding so that a [`FaultRecord`] stays at 128 bytes.
    user: bool,
}

impl Default for PackedPath {
    fn default() -> Self {
        PackedPath { bytes: [0; PACKED_BYTES], len: 0, user: false }
    }
}

/// [`PackedPath::len`] of a path recorded as steps instead.
const SPILLED: u8 = u8::MAX;

/// What a packed path leaves out: the fault's own fields.
#[derive(Clone, Copy, Debug)]
struct FaultCtx {
    address: u32,
    error_code: u32,
    esp: u32,
    user: bool,
}

/// The step kinds of a packed path's codes.
mod kind {
    pub const DO_PAGE_FAULT: u8 = 0;
    pub const FIND_VMA: u8 = 1;
    pub const ESP_CHECK: u8 = 2;
    pub const EXPAND_STACK: u8 = 3;
    pub const GOOD_AREA: u8 = 4;
    pub const HANDLE_MM_FAULT: u8 = 5;
    pub const PTE_ALLOC: u8 = 6;
    pub const HANDLE_PTE_FAULT: u8 = 7;
    pub const DO_NO_PAGE: u8 = 8;
    pub const DO_ANONYMOUS_PAGE: u8 = 9;
    pub const DO_WP_PAGE: u8 = 10;
    pub const SPURIOUS: u8 = 11;
    pub const NO_CONTEXT_FIXUP: u8 = 12;
    pub const SIG_BUS: u8 = 13;
    pub const OUT_OF_MEMORY: u8 = 14;
    pub const FIND_GET_PAGE: u8 = 15;
    pub const OOM_KILL: u8 = 16;
    pub const DO_SWAP_PAGE: u8 = 17;
    pub const SHMEM_GETPAGE: u8 = 18;
    /// The low bits of a code; the three above are the step's flags.
    pub const MASK: u8 = 0x1f;
    pub const F0: u8 = 1 << 5;
    pub const F1: u8 = 1 << 6;
}

impl PackedPath {
    /// Whether the path is recorded as steps (the observer's `spill`) instead.
    pub fn spilled(&self) -> bool {
        self.len == SPILLED
    }

    /// The bytes of a path that packed: each step's code byte followed by its
    /// arguments, four bytes each, little-endian (empty for a spilled path). Two
    /// faults with the same address, error code, ESP and mode whose bytes are
    /// equal took the same steps; a tracer compares paths by them.
    pub fn packed_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// The fault's mode: `do_page_fault`'s `user`.
    pub fn user(&self) -> bool {
        self.user
    }

    /// Appends `s`; false, changing nothing, if it does not pack or there is no room.
    /// Inlined where a step is recorded, the match folds down to the one arm.
    #[inline(always)]
    fn pack(&mut self, s: Step, f: &FaultCtx) -> bool {
        use kind::*;
        let flag = |b: bool, bit: u8| if b { bit } else { 0 };
        match s {
            Step::DoPageFault { address, error_code, user } => {
                address == f.address
                    && error_code == f.error_code
                    && user == f.user
                    && self.put(DO_PAGE_FAULT, [])
            }
            Step::FindVma { vma: None } => self.put(FIND_VMA, []),
            Step::FindVma { vma: Some((start, end, flags)) } => self.put(FIND_VMA | F0, [start, end, flags]),
            Step::EspCheck { esp, ok } => esp == f.esp && self.put(ESP_CHECK | flag(ok, F0), []),
            Step::ExpandStack { old_start, new_start, ok } => {
                new_start == f.address & !0xfff && self.put(EXPAND_STACK | flag(ok, F0), [old_start])
            }
            Step::GoodArea { write } => self.put(GOOD_AREA | flag(write, F0), []),
            Step::HandleMmFault => self.put(HANDLE_MM_FAULT, []),
            Step::PteAlloc { table } => self.put(PTE_ALLOC, [table]),
            Step::HandlePteFault { pte } => self.put(HANDLE_PTE_FAULT, [pte]),
            Step::DoNoPage { file_page, early_cow } => {
                self.put(DO_NO_PAGE | flag(early_cow, F0), [file_page])
            }
            Step::DoAnonymousPage { zero_page, frame } => {
                self.put(DO_ANONYMOUS_PAGE | flag(zero_page, F0), [frame])
            }
            Step::DoWpPage { copied, from_zero_page, frame } => {
                self.put(DO_WP_PAGE | flag(copied, F0) | flag(from_zero_page, F1), [frame])
            }
            Step::Spurious => self.put(SPURIOUS, []),
            Step::BadArea { .. } => false,
            Step::NoContextFixup => self.put(NO_CONTEXT_FIXUP, []),
            Step::SigBus => self.put(SIG_BUS, []),
            Step::OutOfMemory => self.put(OUT_OF_MEMORY, []),
            Step::FindGetPage { hit } => self.put(FIND_GET_PAGE | flag(hit, F0), []),
            Step::OomKill { victim } => self.put(OOM_KILL, [victim]),
            Step::DoSwapPage { slot, cached, frame } => {
                self.put(DO_SWAP_PAGE | flag(cached, F0), [slot, frame])
            }
            Step::ShmemGetpage { slot, cached, frame } => {
                self.put(SHMEM_GETPAGE | flag(cached, F0), [slot, frame])
            }
        }
    }

    /// Appends a step of kind and flags `code` with its `N` arguments, if there is
    /// room: one compare (the length and `N` say where everything goes). `N` is a
    /// constant at each step, so the arguments are `N` plain (unaligned) stores.
    #[inline(always)]
    fn put<const N: usize>(&mut self, code: u8, args: [u32; N]) -> bool {
        let at = usize::from(self.len);
        if at + 1 + 4 * N > PACKED_BYTES {
            return false;
        }
        self.bytes[at] = code;
        for (i, a) in args.into_iter().enumerate() {
            let p = at + 1 + 4 * i;
            self.bytes[p..p + 4].copy_from_slice(&a.to_le_bytes());
        }
        self.len += (1 + 4 * N) as u8;
        true
    }

    /// Appends the steps packed to `out`.
    fn unpack(&self, f: &FaultCtx, out: &mut Vec<Step>) {
        out.extend(PackedSteps { path: self, at: 0, fault: *f });
    }
}

/// The steps of a packed path, decoded one at a time ([`FaultRecord::steps`]): a
/// tracer renders and counts them without unpacking the path into a vector first.
#[derive(Clone)]
pub struct PackedSteps<'a> {
    path: &'a PackedPath,
    /// The next step's code byte.
    at: usize,
    fault: FaultCtx,
}

impl Iterator for PackedSteps<'_> {
    type Item = Step;

    #[inline]
    fn next(&mut self) -> Option<Step> {
        use kind::*;
        let end = usize::from(self.path.len).min(PACKED_BYTES);
        if self.at >= end {
            return None;
        }
        let (bytes, f) = (&self.path.bytes, &self.fault);
        let code = bytes[self.at];
        let mut at = self.at + 1;
        let mut arg = || {
            let a = bytes.get(at..at + 4).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
            at += 4;
            a
        };
        let (f0, f1) = (code & F0 != 0, code & F1 != 0);
        let step = match code & MASK {
            DO_PAGE_FAULT => Step::DoPageFault { address: f.address, error_code: f.error_code, user: f.user },
            FIND_VMA if f0 => Step::FindVma { vma: Some((arg(), arg(), arg())) },
            FIND_VMA => Step::FindVma { vma: None },
            ESP_CHECK => Step::EspCheck { esp: f.esp, ok: f0 },
            EXPAND_STACK => Step::ExpandStack { old_start: arg(), new_start: f.address & !0xfff, ok: f0 },
            GOOD_AREA => Step::GoodArea { write: f0 },
            HANDLE_MM_FAULT => Step::HandleMmFault,
            PTE_ALLOC => Step::PteAlloc { table: arg() },
            HANDLE_PTE_FAULT => Step::HandlePteFault { pte: arg() },
            DO_NO_PAGE => Step::DoNoPage { file_page: arg(), early_cow: f0 },
            DO_ANONYMOUS_PAGE => Step::DoAnonymousPage { zero_page: f0, frame: arg() },
            DO_WP_PAGE => Step::DoWpPage { copied: f0, from_zero_page: f1, frame: arg() },
            SPURIOUS => Step::Spurious,
            NO_CONTEXT_FIXUP => Step::NoContextFixup,
            SIG_BUS => Step::SigBus,
            OUT_OF_MEMORY => Step::OutOfMemory,
            FIND_GET_PAGE => Step::FindGetPage { hit: f0 },
            OOM_KILL => Step::OomKill { victim: arg() },
            SHMEM_GETPAGE => Step::ShmemGetpage { slot: arg(), cached: f0, frame: arg() },
            // DO_SWAP_PAGE: `pack` makes no other code.
            _ => Step::DoSwapPage { slot: arg(), cached: f0, frame: arg() },
        };
        self.at = at;
        Some(step)
    }
}

/// The [`Recorder`](crate::mm::fault::Recorder) of a traced fault: packs each step
/// into a [`PackedPath`], or once one does not pack, records the whole path as
/// steps in `spill`.
pub struct PathRecorder<S> {
    pub packed: PackedPath,
    fault: FaultCtx,
    /// The path when it does not pack: a `Vec<Step>`, or a `&mut` one to append to.
    pub spill: S,
}

impl<S: std::borrow::BorrowMut<Vec<Step>>> PathRecorder<S> {
    /// For a fault at `address` with `error_code`, user ESP `esp`, in user mode or
    /// not (what `do_page_fault` records first); `spill` is appended to, not cleared.
    pub fn new(address: u32, error_code: u32, esp: u32, user: bool, spill: S) -> Self {
        PathRecorder {
            packed: PackedPath { user, ..PackedPath::default() },
            fault: FaultCtx { address, error_code, esp, user },
            spill,
        }
    }

    #[inline(always)]
    pub fn push(&mut self, s: Step) {
        if self.packed.pack(s, &self.fault) {
            return;
        }
        self.spill_packed();
        self.spill.borrow_mut().push(s);
    }

    /// From here on the path is recorded as steps, starting with those packed so far
    /// (the first time: a spilled path has no room for more, so `pack` refuses).
    #[cold]
    #[inline(never)]
    fn spill_packed(&mut self) {
        if !self.packed.spilled() {
            self.packed.unpack(&self.fault, self.spill.borrow_mut());
            self.packed.len = SPILLED;
        }
    }
}

impl<S: std::borrow::BorrowMut<Vec<Step>>> crate::mm::fault::Recorder for PathRecorder<S> {
    #[inline(always)]
    fn step(&mut self, f: impl FnOnce() -> Step) {
        self.push(f());
    }
}

/// What a task's faults have been charged with: 2.4's `min_flt` / `maj_flt` and
/// the counters growsdown adds ([`crate::task::FaultStats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultCounts {
    pub min_flt: u64,
    pub maj_flt: u64,
    pub cow_copies: u64,
    pub cow_reuses: u64,
    pub stack_expansions: u64,
}

impl FaultCounts {
    fn of(t: &Task) -> Self {
        FaultCounts {
            min_flt: t.min_flt,
            maj_flt: t.maj_flt,
            cow_copies: t.stats.cow_copies,
            cow_reuses: t.stats.cow_reuses,
            stack_expansions: t.stats.stack_expansions,
        }
    }

    pub fn add(&mut self, o: &FaultCounts) {
        self.min_flt += o.min_flt;
        self.maj_flt += o.maj_flt;
        self.cow_copies += o.cow_copies;
        self.cow_reuses += o.cow_reuses;
        self.stack_expansions += o.stack_expansions;
    }

    /// `after - before`, counter by counter.
    fn since(after: &FaultCounts, before: &FaultCounts) -> Self {
        FaultCounts {
            min_flt: after.min_flt.wrapping_sub(before.min_flt),
            maj_flt: after.maj_flt.wrapping_sub(before.maj_flt),
            cow_copies: after.cow_copies.wrapping_sub(before.cow_copies),
            cow_reuses: after.cow_reuses.wrapping_sub(before.cow_reuses),
            stack_expansions: after.stack_expansions.wrapping_sub(before.stack_expansions),
        }
    }
}

/// One thread's share of [`ThreadFaults`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThreadCounts {
    pub tgid: u32,
    pub tid: u32,
    pub counts: FaultCounts,
    /// The most resident pages the thread saw its address space hold at a fault.
    pub peak_rss: u64,
}

/// Every thread's fault counts, kept after the thread is gone. A task's counters are
/// its own (2.4 charges `current`), and a thread that exits takes them with it, so
/// the process's totals — what `--stats` reports, and what today's
/// `/proc/PID/stat` sums over the live threads plus those that have exited — are
/// summed from here. Charged per fault as the difference of the task's counters,
/// not copied from them: a thread that execs takes over the leader's pid
/// (`de_thread`), and its earlier faults stay under its old tid rather than being
/// counted twice.
#[derive(Clone, Debug, Default)]
pub struct ThreadFaults {
    /// In order of each thread's first fault; the slot `at` is stale while its
    /// thread is `current`.
    threads: Vec<ThreadCounts>,
    /// The entry charged last, held outside the list: faults come in runs from one
    /// thread, and charging it is then a compare and a few adds.
    current: ThreadCounts,
    at: usize,
}

impl ThreadFaults {
    /// Runs `f` (a fault, or `make_pages_present`) and charges the current task's
    /// entry with what `f` added to its counters.
    #[inline]
    pub(crate) fn charged<T>(k: &mut Kernel, f: impl FnOnce(&mut Kernel) -> T) -> T {
        let before = FaultCounts::of(&k.task);
        let r = f(k);
        let delta = FaultCounts::since(&FaultCounts::of(&k.task), &before);
        let t = &mut k.thread_faults;
        if t.current.tid != k.task.pid || t.current.tgid != k.task.tgid {
            t.switch(k.task.tgid, k.task.pid);
        }
        t.current.counts.add(&delta);
        t.current.peak_rss = t.current.peak_rss.max(k.task.stats.peak_rss);
        r
    }

    /// Puts the current entry back in its slot and takes out `tid`'s, made if new.
    #[cold]
    #[inline(never)]
    fn switch(&mut self, tgid: u32, tid: u32) {
        // tid 0 is no task: the empty entry before the first fault.
        if self.current.tid != 0 {
            self.threads[self.at] = self.current;
        }
        // Newest first: a thread that faults again soon is usually a recent one.
        self.at = match self.threads.iter().rposition(|e| e.tid == tid && e.tgid == tgid) {
            Some(i) => i,
            None => {
                let e = ThreadCounts { tgid, tid, counts: FaultCounts::default(), peak_rss: 0 };
                self.threads.push(e);
                self.threads.len() - 1
            }
        };
        self.current = self.threads[self.at];
    }

    /// The threads of process `tgid` that took a fault, in order of their first.
    pub fn threads_of(&self, tgid: u32) -> impl Iterator<Item = &ThreadCounts> {
        let held = self.current.tid != 0;
        self.threads
            .iter()
            .enumerate()
            .map(move |(i, e)| if held && i == self.at { &self.current } else { e })
            .filter(move |e| e.tgid == tgid)
    }
}

/// Receives every fault event, in order, with a read-only view of the CPU (for
/// disassembling the faulting instruction; see [`insn_text`]).
pub trait FaultObserver {
    fn fault(&mut self, ev: &FaultEvent, cpu: &Cpu);

    /// The fault as the kernel records it: a fixed-size [`FaultRecord`] and, for a
    /// path that did not pack, its steps (`spill`). A tracer that keeps the faults
    /// copies this as it is; the default unpacks it into a [`FaultEvent`] for
    /// [`FaultObserver::fault`].
    fn fault_record(&mut self, rec: &FaultRecord, spill: &[Step], cpu: &Cpu) {
        let mut ev = FaultEvent::empty();
        rec.unpack(spill, &mut ev);
        self.fault(&ev, cpu);
    }

    /// Whether the observer takes faults in runs, through [`FaultObserver::faults`],
    /// instead of one at a time through [`FaultObserver::fault_record`]. Asked once,
    /// when it is installed (`Machine::observe_faults`).
    fn wants_log(&self) -> bool {
        false
    }

    /// The faults since the last call, in order (for an observer that
    /// [`wants_log`](FaultObserver::wants_log)): a run of [`FAULT_LOG`], or fewer
    /// before any other event and when the observer is replaced. The observer takes
    /// them and leaves `log` empty (it may swap in vectors of its own).
    fn faults(&mut self, log: &mut FaultLog) {
        log.clear();
    }

    /// An OOM kill (`mm/oom_kill.rs`), with every candidate's badness.
    fn oom_kill(&mut self, _ev: &OomEvent) {}

    /// One decision of page reclaim (`try_to_swap_out`). Only called when an
    /// observer is installed; ignored unless the observer wants it.
    fn reclaim(&mut self, _ev: &ReclaimEvent) {}

    /// A swapoff's `try_to_unuse`, as one record.
    fn unuse(&mut self, _ev: &UnuseEvent) {}

    /// A system call is about to run (called at its entry while an observer is
    /// installed, before the call does anything): an observer that holds written
    /// records back writes them out here, so that they come out before anything
    /// the call itself writes.
    fn before_syscall(&mut self) {}
}

/// Faults a [`FaultLog`] holds before the kernel hands them over.
pub const FAULT_LOG: usize = 512;

/// A fault as the kernel logs it for an observer that takes faults in runs: its
/// record and what its instruction's text is made from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoggedFault {
    pub rec: FaultRecord,
    /// The length of its path in the log's `steps` if the path did not pack.
    pub spilled: u32,
    pub insn: InsnSource,
}

/// The faults the kernel keeps for an observer that
/// [`wants_log`](FaultObserver::wants_log), handed over [`FAULT_LOG`] at a time:
/// the fault path stores each where it stays until the observer takes the run,
/// without a call through the observer, a borrow of its state or a copy of the
/// record on the way, at every fault.
#[derive(Debug, Default)]
pub struct FaultLog {
    pub faults: Vec<LoggedFault>,
    /// The paths that did not pack (`PackedPath::spilled`, rare: `bad_area`), one
    /// after another, in the order of their faults.
    pub steps: Vec<Step>,
}

impl FaultLog {
    pub fn new() -> Self {
        FaultLog { faults: Vec::with_capacity(FAULT_LOG), steps: Vec::new() }
    }

    pub fn clear(&mut self) {
        self.faults.clear();
        self.steps.clear();
    }

    /// Appends a fault; `spill` is its path when it did not pack.
    #[inline(always)]
    pub fn push(&mut self, rec: FaultRecord, spill: &[Step], insn: InsnSource) {
        let mut spilled = 0;
        if rec.path.spilled() {
            self.steps.extend_from_slice(spill);
            spilled = spill.len() as u32;
        }
        self.faults.push(LoggedFault { rec, spilled, insn });
    }
}

/// Hands the faults logged so far to the observer: before any other event goes to
/// it, and when it is replaced. Nothing when none are logged.
#[inline(never)]
pub(crate) fn flush_fault_log(k: &mut Kernel) {
    if let (Some(log), Some(obs)) = (k.fault_log.as_mut(), k.observer.as_mut()) {
        if !log.faults.is_empty() {
            obs.faults(log);
            log.clear();
        }
    }
}

/// `try_to_unuse` for a swapoff (`mm/swap.rs`): every swapped-out page read back and
/// mapped again, summed up in one record (a page at a time would be as many records
/// as the area held).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnuseEvent {
    /// Instructions the whole machine had retired (the fault events' clock).
    pub machine_icount: u64,
    /// The process that called swapoff.
    pub pid: u32,
    /// Slots in use before the walk, and after it (0 when every page came back).
    pub slots_before: u32,
    pub slots_after: u32,
    /// Pages read from swap by the walk (`pswpin`'s increase).
    pub pages_read: u64,
    /// 0, or the errno swapoff returns: ENOMEM when the pages do not fit in memory
    /// (the area stays in use, the pages read so far stay in memory).
    pub errno: i32,
    /// The memory counters after the walk.
    pub mem: MemCounts,
}

/// What [`unuse_observed`] compares with after the walk: the slots in use and
/// `pswpin` before it. None without an observer, so swapoff pays nothing then.
pub(crate) fn unuse_before(k: &Kernel) -> Option<(u32, u64)> {
    k.observer.as_ref()?;
    Some((k.swap.info.as_ref().map_or(0, |si| si.inuse_pages), k.swap.stats.pswpin))
}

/// Hands a swapoff's `try_to_unuse` to the observer as an [`UnuseEvent`].
pub(crate) fn unuse_observed(
    k: &mut Kernel,
    before: Option<(u32, u64)>,
    result: Result<(), crate::errno::Errno>,
) {
    let Some((slots_before, pswpin)) = before else { return };
    let ev = UnuseEvent {
        machine_icount: k.cpu.icount,
        pid: k.task.tgid,
        slots_before,
        slots_after: k.swap.info.as_ref().map_or(0, |si| si.inuse_pages),
        pages_read: k.swap.stats.pswpin - pswpin,
        errno: result.err().unwrap_or(0),
        mem: MemCounts::of(k),
    };
    // The faults before it first, so that the observer sees the order they came in.
    flush_fault_log(k);
    if let Some(obs) = k.observer.as_mut() {
        obs.unuse(&ev);
    }
}

/// One task's `badness()` at an OOM kill (the inputs 2.4's formula reads, in its
/// units, and the result).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OomCandidate {
    pub pid: u32,
    pub tgid: u32,
    /// `mm->total_vm`, pages (0: no mm).
    pub total_vm: u32,
    /// CPU time >> (SHIFT_HZ + 3) ticks and run time >> (SHIFT_HZ + 10) ticks.
    pub cpu_time: u32,
    pub run_time: u32,
    pub nice: i32,
    /// CAP_SYS_ADMIN, uid 0 or euid 0 (points / 4); CAP_SYS_RAWIO (points / 4).
    pub root: bool,
    pub rawio: bool,
    /// Already chosen (PF_MEMDIE): 0 points.
    pub memdie: bool,
    pub points: u32,
}

/// An OOM kill: who faulted, every candidate, the victim and the signal sent to each
/// task sharing its mm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OomEvent {
    /// The fault's `seq` (the event that follows it in the trace).
    pub seq: u64,
    pub pid: u32,
    pub tid: u32,
    pub machine_icount: u64,
    pub candidates: Vec<OomCandidate>,
    /// None: nothing had any points.
    pub victim: Option<OomCandidate>,
    pub signo: i32,
    /// Every task the signal went to.
    pub killed: Vec<u32>,
}

/// What `try_to_swap_out` did with one present PTE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReclaimWhat {
    /// The Accessed bit was set: cleared, and the page kept (`mark_page_accessed`).
    Young,
    /// An anonymous page got swap slot `slot`: the PTE now holds the swap entry and
    /// the page, in the swap cache, is written and freed by `shrink_cache`.
    Swapped { slot: u32 },
    /// The page was already in the swap cache (slot `slot`): the PTE takes the entry.
    SwapCache { slot: u32 },
    /// A page-cache page (a file's): the PTE is cleared and the page dropped; the
    /// next access reads it again through `do_no_page`.
    Dropped,
    /// A shmem page (a shared anonymous mapping's, a SysV segment's): the PTE is
    /// cleared and the shmem object keeps the page; the next access finds it again
    /// through `shmem_nopage`.
    ShmemUnmapped,
    /// `shmem_writepage` (from `shrink_cache`, for a shmem page no PTE maps): page
    /// `index` of its object got swap slot `slot` and was written there; the
    /// object holds the swap entry. The event's pid and address are 0.
    ShmemWritepage { index: u32, slot: u32 },
}

/// Who ran the reclaim a decision belongs to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReclaimBy {
    /// `kswapd`, woken by an allocation at the low watermark, run by `schedule()`.
    #[default]
    Kswapd,
    /// Direct reclaim: an allocation of process `pid` found nothing free and called
    /// `try_to_free_pages` itself.
    Direct { pid: u32 },
}

/// A reclaim decision, as `growsdown trace` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReclaimEvent {
    /// Instructions the whole machine had retired (the fault events' clock).
    pub machine_icount: u64,
    /// The process whose page table was walked (0 if no task names the mm).
    pub pid: u32,
    pub address: u32,
    /// Physical address of the page.
    pub frame: u32,
    pub what: ReclaimWhat,
    /// `kswapd` or the process whose allocation reclaimed.
    pub by: ReclaimBy,
    /// The memory counters when the decision was made: the unmapping it leads to
    /// (rss - 1, a write to swap) shows in the next event's.
    pub mem: MemCounts,
}

/// Reads the instruction at `eip` through the current page tables *without* the
/// paging unit's side effects (no A/D bits set, no TLB fill), so tracing cannot change
/// what it observes. None if the bytes are not mapped or do not decode.
pub fn insn_at(cpu: &Cpu, eip: u32) -> Option<growsdown_decoder::Instruction> {
    let (bytes, n) = insn_bytes(cpu, eip);
    growsdown_decoder::decode_one(&bytes[..n], eip).ok()
}

/// The up to [`growsdown_decoder::MAX_INSN_LEN`] bytes at `eip` that are mapped, read
/// as [`insn_at`] reads them, and how many there are.
#[inline]
fn insn_bytes(cpu: &Cpu, eip: u32) -> ([u8; growsdown_decoder::MAX_INSN_LEN], usize) {
    let mut bytes = [0u8; growsdown_decoder::MAX_INSN_LEN];
    // Mostly the instruction lies within one page: one walk, one fixed-size copy (a
    // tracer reads this on every fault).
    if (eip & 0xfff) as usize <= 0x1000 - bytes.len() {
        let Some(phys) = cpu.mmu.mapping(eip).phys else { return (bytes, 0) };
        if let Ok(b) = cpu.mmu.phys().slice(phys, bytes.len()).try_into() {
            return (b, bytes.len());
        }
    }
    let mut n = 0;
    while n < bytes.len() {
        let lin = eip.wrapping_add(n as u32);
        let Some(phys) = cpu.mmu.mapping(lin).phys else { break };
        let take = ((0x1000 - (lin & 0xfff)) as usize).min(bytes.len() - n);
        bytes[n..n + take].copy_from_slice(cpu.mmu.phys().slice(phys, take));
        n += take;
    }
    (bytes, n)
}

/// The instruction a fault event is about, in Intel syntax. A kernel-mode fault
/// happens while serving a system call: EIP is past `int 0x80` and EAX still holds the
/// call number, so the text names the call.
pub fn insn_text(ev: &FaultEvent, cpu: &Cpu) -> String {
    let mut out = String::new();
    if !kernel_mode_text(ev, cpu, &mut out) {
        match insn_at(cpu, ev.eip) {
            Some(i) => out = growsdown_decoder::format_intel(&i),
            None => out.push_str("(unreadable)"),
        }
    }
    out
}

/// Appends the text of a kernel-mode fault to `out`; false, appending nothing, for a
/// user-mode one.
fn kernel_mode_text(ev: &FaultEvent, cpu: &Cpu, out: &mut String) -> bool {
    match InsnSource::kernel_mode(ev, cpu) {
        Some(src) => {
            src.kernel_mode_text(out);
            true
        }
        None => false,
    }
}

/// What the text of a fault's instruction is made from, taken at the fault: the
/// bytes at EIP, or for a kernel-mode fault what it was serving. A tracer that
/// renders on another thread reads this on the fault path, where it is cheap and the
/// memory and registers are the fault's own, and leaves decoding and formatting to
/// [`InsnTexts::text_of`] later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsnSource {
    /// A user-mode fault: the bytes readable at EIP, `n` of them.
    Bytes { n: u8, bytes: [u8; growsdown_decoder::MAX_INSN_LEN] },
    /// A kernel-mode fault before the first instruction: exec loading the program.
    Exec,
    /// A kernel-mode fault while serving the system call numbered so (EAX).
    Syscall(u32),
}

impl Default for InsnSource {
    fn default() -> Self {
        InsnSource::Bytes { n: 0, bytes: [0; growsdown_decoder::MAX_INSN_LEN] }
    }
}

impl InsnSource {
    /// Reads what `ev`'s text is made of, as [`insn_text`] reads it.
    pub fn read(ev: &FaultEvent, cpu: &Cpu) -> Self {
        Self::read_at(ev.kernel_mode, ev.eip, cpu)
    }

    /// [`InsnSource::read`] for a fault at `eip`, in kernel mode or not.
    #[inline]
    pub fn read_at(kernel_mode: bool, eip: u32, cpu: &Cpu) -> Self {
        if let Some(src) = Self::kernel_mode_at(kernel_mode, cpu) {
            return src;
        }
        // Mostly the code page's translation is in the TLB (the block holding the
        // faulting instruction was fetched through it): then no walk. The TLB is
        // only read, and it holds what the page tables say (the kernel invalidates
        // what it changes), so the bytes are those a walk would find.
        if let Some(bytes) = cpu.mmu.read_hit_bytes::<{ growsdown_decoder::MAX_INSN_LEN }>(eip) {
            return InsnSource::Bytes { n: growsdown_decoder::MAX_INSN_LEN as u8, bytes };
        }
        let (bytes, n) = insn_bytes(cpu, eip);
        InsnSource::Bytes { n: n as u8, bytes }
    }

    fn kernel_mode(ev: &FaultEvent, cpu: &Cpu) -> Option<Self> {
        Self::kernel_mode_at(ev.kernel_mode, cpu)
    }

    #[inline]
    fn kernel_mode_at(kernel_mode: bool, cpu: &Cpu) -> Option<Self> {
        if !kernel_mode {
            return None;
        }
        if cpu.icount == 0 && cpu.eip == 0 {
            return Some(InsnSource::Exec);
        }
        Some(InsnSource::Syscall(cpu.regs[growsdown_cpu::EAX]))
    }

    /// Appends the text of a kernel-mode source; nothing for bytes.
    fn kernel_mode_text(&self, out: &mut String) {
        use std::fmt::Write;
        match *self {
            InsnSource::Bytes { .. } => {}
            InsnSource::Exec => out.push_str("execve (loading the program)"),
            InsnSource::Syscall(nr) => {
                let _ = match crate::syscall::nr::name(nr) {
                    Some(name) => write!(out, "int 0x80 ({name})"),
                    None => write!(out, "int 0x80 (syscall {nr})"),
                };
            }
        }
    }
}

/// [`insn_text`] for a tracer that asks for every fault: one formatter kept, and the
/// text of recently seen instructions remembered. A fault-heavy guest faults at the
/// same few instructions over and over, and decoding plus formatting costs more host
/// instructions than everything else the tracer does per fault.
pub struct InsnTexts {
    /// Made at the first instruction formatted ([`InsnTexts::warm_up`]).
    formatter: Option<growsdown_decoder::IntelText>,
    /// Direct-mapped on EIP. A slot is keyed by the bytes too, not EIP alone: exec,
    /// another process or self-modifying code can put a different instruction there.
    slots: Vec<InsnSlot>,
    /// The text of a kernel-mode fault, rebuilt each time: it depends on EAX, not on
    /// the bytes at EIP.
    syscall: String,
}

#[derive(Default)]
struct InsnSlot {
    eip: u32,
    /// Bytes readable at `eip` (fewer than 15 where the mapped pages end). An empty
    /// slot has 0, which never hits: nothing readable is not looked up.
    n: u8,
    bytes: [u8; growsdown_decoder::MAX_INSN_LEN],
    text: String,
}

/// Slots in [`InsnTexts`]; a power of two.
const INSN_SLOTS: usize = 256;

impl InsnTexts {
    pub fn new() -> Self {
        InsnTexts {
            formatter: None,
            slots: (0..INSN_SLOTS).map(|_| InsnSlot::default()).collect(),
            syscall: String::new(),
        }
    }

    /// Builds what the first instruction's text needs (the formatter's tables,
    /// shared by the process: [`growsdown_decoder::IntelText::warm_up`]), so that a
    /// thread that calls this ahead of the first fault spares the one that renders it.
    pub fn warm_up() {
        growsdown_decoder::IntelText::warm_up();
    }

    /// What [`insn_text`] returns for `ev`.
    pub fn text(&mut self, ev: &FaultEvent, cpu: &Cpu) -> &str {
        let src = InsnSource::read(ev, cpu);
        self.text_of(ev.eip, &src)
    }

    /// What [`insn_text`] returns for a fault at `eip` whose [`InsnSource`] is `src`.
    pub fn text_of(&mut self, eip: u32, src: &InsnSource) -> &str {
        let InsnSource::Bytes { n, bytes } = src else {
            self.syscall.clear();
            src.kernel_mode_text(&mut self.syscall);
            return &self.syscall;
        };
        let n = usize::from(*n);
        // Fibonacci hashing: the top bits of the product mix all of EIP's bits.
        let i = (eip.wrapping_mul(0x9e37_79b1) >> (32 - INSN_SLOTS.trailing_zeros())) as usize;
        let slot = &mut self.slots[i];
        let hit = slot.eip == eip && usize::from(slot.n) == n && n > 0 && slot.bytes[..n] == bytes[..n];
        if !hit {
            slot.eip = eip;
            slot.n = n as u8;
            slot.bytes = *bytes;
            slot.text.clear();
            match growsdown_decoder::decode_one(&bytes[..n], eip) {
                Ok(i) => self
                    .formatter
                    .get_or_insert_with(growsdown_decoder::IntelText::new)
                    .format_into(&i, &mut slot.text),
                Err(_) => slot.text.push_str("(unreadable)"),
            }
        }
        &slot.text
    }
}

impl Default for InsnTexts {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(path: Vec<Step>) -> FaultEvent {
        FaultEvent {
            seq: 7,
            pid: 3,
            tid: 4,
            icount: 1 << 40,
            machine_icount: (1 << 40) + 5,
            eip: 0x0804_8123,
            esp: 0xbfff_f000,
            cr2: 0xbfff_effc,
            error_code: 6,
            kernel_mode: false,
            vma: Some((0xbfff_e000, 0xc000_0000, 0x0100_0173)),
            path,
            result: FaultResult::SigSegv { si_code: 2 },
            min_flt: 9,
            maj_flt: 1,
            mem: MemCounts { rss: 11, pswpin: 12, pswpout: 13 },
        }
    }

    fn round_trip(ev: &FaultEvent) -> (FaultRecord, FaultEvent) {
        let mut spill = vec![Step::SigBus];
        let rec = FaultRecord::pack(ev, &mut spill);
        let mut back = FaultEvent::empty();
        rec.unpack(&spill[1..], &mut back);
        (rec, back)
    }

    fn same(a: &FaultEvent, b: &FaultEvent) -> bool {
        format!("{a:?}") == format!("{b:?}")
    }

    #[test]
    fn every_step_packs_and_unpacks_as_it_was() {
        let dpf = Step::DoPageFault { address: 0xbfff_effc, error_code: 6, user: true };
        let paths = [
            vec![
                dpf,
                Step::FindVma { vma: Some((0xbfff_f000, 0xc000_0000, 0x0100_0173)) },
                Step::EspCheck { esp: 0xbfff_f000, ok: true },
                Step::ExpandStack { old_start: 0xbfff_f000, new_start: 0xbfff_e000, ok: true },
                Step::GoodArea { write: true },
                Step::HandleMmFault,
                Step::HandlePteFault { pte: 0x1234_5067 },
                Step::DoAnonymousPage { zero_page: false, frame: 0x0040_0000 },
            ],
            vec![dpf, Step::FindVma { vma: None }, Step::NoContextFixup],
            vec![Step::PteAlloc { table: 0x9000 }, Step::DoNoPage { file_page: 3, early_cow: true }],
            vec![Step::FindGetPage { hit: false }, Step::FindGetPage { hit: true }, Step::Spurious],
            vec![Step::DoWpPage { copied: true, from_zero_page: true, frame: 0x5000 }, Step::SigBus],
            vec![Step::DoWpPage { copied: false, from_zero_page: false, frame: 0x6000 }, Step::OutOfMemory],
            vec![
                Step::OomKill { victim: 12 },
                Step::DoSwapPage { slot: 77, cached: true, frame: 0x7000 },
                Step::ShmemGetpage { slot: 78, cached: false, frame: 0x8000 },
            ],
            vec![Step::DoAnonymousPage { zero_page: true, frame: 0x1000 }, Step::GoodArea { write: false }],
        ];
        for path in paths {
            let ev = event(path);
            let (rec, back) = round_trip(&ev);
            assert!(!rec.path.spilled(), "{:?} packs", ev.path);
            assert!(same(&ev, &back), "{ev:?} came back as {back:?}");
        }
    }

    #[test]
    fn what_does_not_pack_is_kept_as_steps() {
        let dpf = Step::DoPageFault { address: 0xbfff_effc, error_code: 6, user: true };
        let paths = [
            // bad_area's reason is a string.
            vec![dpf, Step::FindVma { vma: None }, Step::BadArea { reason: "no VMA", si_code: 1 }],
            // Fields that are not the fault's own.
            vec![Step::DoPageFault { address: 0x1000, error_code: 6, user: true }],
            vec![dpf, Step::EspCheck { esp: 0x1234, ok: false }],
            vec![Step::ExpandStack { old_start: 0xbfff_f000, new_start: 0xbfff_d000, ok: true }],
            // Longer than the room.
            vec![Step::HandleMmFault; PACKED_BYTES + 1],
            vec![Step::HandlePteFault { pte: 1 }; PACKED_BYTES / 5 + 1],
        ];
        for path in paths {
            let ev = event(path);
            let (rec, back) = round_trip(&ev);
            assert!(rec.path.spilled(), "{:?} spills", ev.path);
            assert!(same(&ev, &back), "{ev:?} came back as {back:?}");
        }
    }

    /// A record is copied into a tracer's batch at every fault: at most 128 bytes,
    /// which the compiler copies inline (152, with 64-bit counters, took a `memcpy`
    /// call).
    #[test]
    fn a_record_is_at_most_128_bytes() {
        assert!(std::mem::size_of::<FaultRecord>() <= 128, "{}", std::mem::size_of::<FaultRecord>());
    }
}
