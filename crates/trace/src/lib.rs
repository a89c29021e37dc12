//! The page-fault trace: one record per fault, with the 2.4 path that resolved it,
//! rendered as text (the call chain as the seed documents write it), JSONL
//! (docs/trace-format.md) or an SVG picture, and the summary of a run. The records
//! come from the kernel's `FaultObserver` (`growsdown_kernel::Machine::observe_faults`);
//! `growsdown trace` (crates/cli) and a debugger to come print them.

pub mod jsonl;
mod out;
pub mod sink;
pub mod svg;
mod template;
pub mod text;

use growsdown_kernel::trace::{FaultEvent, FaultResult, Step};

/// A fault event plus what the tracer adds: the faulting instruction, disassembled.
#[derive(Clone, Debug)]
pub struct Record {
    pub ev: FaultEvent,
    /// Intel syntax; for a kernel-mode fault, the system call being served.
    pub insn: String,
}

pub use growsdown_kernel::machine::vm_perms as vma_perms;
use growsdown_kernel::machine::VM_GROWSDOWN;

pub fn is_growsdown(flags: u32) -> bool {
    flags & VM_GROWSDOWN != 0
}

/// The error code's three bits in words (SDM Vol. 3A §4.7).
pub fn error_words(code: u32) -> (&'static str, &'static str, &'static str) {
    (
        if code & 2 != 0 { "write" } else { "read" },
        if code & 1 != 0 { "protection" } else { "not-present" },
        if code & 4 != 0 { "user" } else { "kernel" },
    )
}

/// Short name of a result, as used in all formats.
pub fn result_name(r: FaultResult) -> &'static str {
    match r {
        FaultResult::Minor => "minor",
        FaultResult::Major => "major",
        FaultResult::SigSegv { .. } => "sigsegv",
        FaultResult::SigBus { .. } => "sigbus",
        FaultResult::Efault => "efault",
        FaultResult::Oom => "oom",
        FaultResult::OomRetry => "oom-retry",
    }
}

pub fn result_si_code(r: FaultResult) -> Option<i32> {
    match r {
        FaultResult::SigSegv { si_code } | FaultResult::SigBus { si_code } => Some(si_code),
        _ => None,
    }
}

/// The 2.4 function a step is in.
pub fn step_function(s: &Step) -> &'static str {
    FUNCTIONS[usize::from(step_index(s))]
}

/// The names of [`step_function`], indexed by [`step_index`].
const FUNCTIONS: [&str; 20] = [
    "do_page_fault",
    "find_vma",
    "esp_check",
    "expand_stack",
    "good_area",
    "handle_mm_fault",
    "pte_alloc",
    "handle_pte_fault",
    "do_no_page",
    "do_anonymous_page",
    "do_wp_page",
    "establish_pte",
    "bad_area",
    "no_context",
    "do_sigbus",
    "out_of_memory",
    "find_get_page",
    "oom_kill",
    "do_swap_page",
    "shmem_getpage",
];

/// A step's function as a small number, so that a path can be compared as bytes.
fn step_index(s: &Step) -> u8 {
    match s {
        Step::DoPageFault { .. } => 0,
        Step::FindVma { .. } => 1,
        Step::EspCheck { .. } => 2,
        Step::ExpandStack { .. } => 3,
        Step::GoodArea { .. } => 4,
        Step::HandleMmFault => 5,
        Step::PteAlloc { .. } => 6,
        Step::HandlePteFault { .. } => 7,
        Step::DoNoPage { .. } => 8,
        Step::DoAnonymousPage { .. } => 9,
        Step::DoWpPage { .. } => 10,
        Step::Spurious => 11,
        Step::BadArea { .. } => 12,
        Step::NoContextFixup => 13,
        Step::SigBus => 14,
        Step::OutOfMemory => 15,
        Step::FindGetPage { .. } => 16,
        Step::OomKill { .. } => 17,
        Step::DoSwapPage { .. } => 18,
        Step::ShmemGetpage { .. } => 19,
    }
}

/// The step's decision in a few words (empty when the function name says it all).
pub fn step_detail(s: &Step) -> String {
    let mut out = out::Out::default();
    write_step_detail(&mut out, s);
    out.into_string()
}

/// Appends [`step_detail`] to `out`.
pub(crate) fn write_step_detail(out: &mut out::Out, s: &Step) {
    use out::{hex0x, hex0x8};
    match *s {
        Step::DoPageFault { .. }
        | Step::HandleMmFault
        | Step::Spurious
        | Step::NoContextFixup
        | Step::SigBus
        | Step::OutOfMemory => {}
        Step::FindVma { vma: Some((a, b, f)) } => out.put(&out::vma_range(a, b, f)),
        Step::FindVma { vma: None } => out.put(b"no vma"),
        Step::EspCheck { esp, ok } => {
            out.put(b"esp=");
            hex0x8(out, esp);
            out.put_slice(if ok { b" ok" } else { b" address + 32 < esp" });
        }
        Step::ExpandStack { old_start, new_start, ok } => {
            if !ok {
                out.put(b"refused (");
            }
            hex0x8(out, old_start);
            out.put(b" -> ");
            hex0x8(out, new_start);
            if !ok {
                out.put(b" exceeds a limit)");
            }
        }
        Step::GoodArea { write } => out.put_slice(if write { b"write allowed" } else { b"read allowed" }),
        Step::PteAlloc { table } => {
            out.put(b"new page table ");
            hex0x(out, table);
        }
        Step::HandlePteFault { pte } => {
            out.put(b"pte=");
            out.put(&out::hex0x8_digits(pte));
        }
        Step::DoNoPage { file_page, early_cow } => {
            out.put(b"file page ");
            out::dec(out, u64::from(file_page));
            if early_cow {
                out.put(b", early COW");
            }
        }
        Step::OomKill { victim: 0 } => out.put(b"the last victim is still exiting: retry"),
        Step::OomKill { victim } => {
            out.put(b"killed pid ");
            out::dec(out, u64::from(victim));
            out.put(b", retry when it has exited");
        }
        Step::FindGetPage { hit: true } => out.put(b"hit"),
        Step::FindGetPage { hit: false } => out.put(b"miss, read from the file"),
        Step::DoAnonymousPage { zero_page: true, .. } => out.put(b"ZERO_PAGE, read-only"),
        Step::DoAnonymousPage { zero_page: false, frame } => {
            out.put(b"new frame ");
            hex0x(out, frame);
        }
        Step::DoWpPage { copied, from_zero_page, frame } => {
            out.put_slice(match (copied, from_zero_page) {
                (false, _) => b"reuse frame ",
                (true, true) => b"copy of ZERO_PAGE into ",
                (true, false) => b"copy into ",
            });
            hex0x(out, frame);
        }
        Step::BadArea { reason, si_code } => {
            out.put_slice(reason.as_bytes());
            out.put(b", si_code=");
            write_si_code_name(out, si_code, true);
        }
        Step::DoSwapPage { slot, cached, frame } | Step::ShmemGetpage { slot, cached, frame } => {
            out.put(b"slot ");
            out::dec(out, u64::from(slot));
            out.put_slice(if cached { b", swap cache hit, frame " } else { b", read from swap into " });
            hex0x(out, frame);
        }
    }
}

pub fn si_code_name(code: i32, segv: bool) -> String {
    let mut out = out::Out::default();
    write_si_code_name(&mut out, code, segv);
    out.into_string()
}

/// Appends [`si_code_name`] to `out`.
pub(crate) fn write_si_code_name(out: &mut out::Out, code: i32, segv: bool) {
    match (code, segv) {
        (1, true) => out.put(b"SEGV_MAPERR"),
        (2, true) => out.put(b"SEGV_ACCERR"),
        (1, false) => out.put(b"BUS_ADRALN"),
        (2, false) => out.put(b"BUS_ADRERR"),
        (c, _) => out::dec_i32(out, c),
    }
}

/// Totals printed at the end of a trace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub total: u64,
    pub by_result: Vec<(&'static str, u64)>,
    pub by_path: Vec<(String, u64)>,
    pub stack_expansions: u64,
    pub pages_allocated: u64,
    pub zero_page_maps: u64,
    pub cow_copies: u64,
    pub cow_reuses: u64,
    pub page_tables: u64,
    /// OOM kills (trace events of their own, not faults).
    pub oom_kills: u64,
}

/// The path of a fault as the chain of functions, e.g.
/// `do_page_fault -> expand_stack -> handle_mm_fault -> do_anonymous_page`.
pub fn path_key(ev: &FaultEvent) -> String {
    let mut path = Vec::new();
    path_functions(ev.path.iter().copied(), &mut path);
    path_names(&path).collect::<Vec<_>>().join(" -> ")
}

/// Whether a step only checks something on the way (find_vma, the esp test,
/// good_area, handle_pte_fault): the path's chain of functions leaves it out.
fn checks_only(s: &Step) -> bool {
    matches!(
        s,
        Step::FindVma { .. } | Step::EspCheck { .. } | Step::GoodArea { .. } | Step::HandlePteFault { .. }
    )
}

/// The functions of [`path_key`] as [`step_index`]es, replacing what `path` held.
/// The steps that only check something on the way are left out ([`checks_only`]),
/// and a function that records several steps in a row is named once.
pub(crate) fn path_functions(steps: impl Iterator<Item = Step>, path: &mut Vec<u8>) {
    path.clear();
    for s in steps.filter(|s| !checks_only(s)) {
        let f = step_index(&s);
        if path.last() != Some(&f) {
            path.push(f);
        }
    }
}

/// What one pass over a fault's steps gives the summary ([`Tally`]) and the text
/// format's call-chain line: the path as one number, and what the steps count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Scan {
    /// The functions of [`path_functions`] in one number, to compare paths cheaply:
    /// five bits a function (its [`step_index`] + 1), the first lowest. None for a
    /// path of more than [`PACKED_FUNCTIONS`] functions, which no 2.4 fault takes.
    pub code: Option<u128>,
    stack_expansions: u32,
    zero_page_maps: u32,
    pages_allocated: u32,
    cow_copies: u32,
    cow_reuses: u32,
    page_tables: u32,
}

impl Scan {
    #[inline]
    pub(crate) fn of(steps: impl Iterator<Item = Step>) -> Scan {
        let mut scan = Scan::default();
        let mut code = 0u128;
        let mut n = 0;
        let mut last = u8::MAX;
        for s in steps {
            match s {
                Step::ExpandStack { ok: true, .. } => scan.stack_expansions += 1,
                Step::DoAnonymousPage { zero_page: true, .. } => scan.zero_page_maps += 1,
                Step::DoAnonymousPage { zero_page: false, .. } | Step::DoNoPage { .. } => {
                    scan.pages_allocated += 1
                }
                Step::DoWpPage { copied: true, .. } => {
                    scan.cow_copies += 1;
                    scan.pages_allocated += 1;
                }
                Step::DoWpPage { copied: false, .. } => scan.cow_reuses += 1,
                Step::PteAlloc { .. } => scan.page_tables += 1,
                _ => {}
            }
            if checks_only(&s) {
                continue;
            }
            let f = step_index(&s);
            if f != last {
                if n < PACKED_FUNCTIONS {
                    code |= u128::from(f + 1) << (5 * n);
                }
                n += 1;
                last = f;
            }
        }
        scan.code = (n <= PACKED_FUNCTIONS).then_some(code);
        scan
    }
}

/// The most functions [`Scan::code`] packs.
const PACKED_FUNCTIONS: usize = 25;

/// The names of the functions [`path_functions`] gives.
pub(crate) fn path_names(path: &[u8]) -> impl Iterator<Item = &'static str> + '_ {
    path.iter().map(|&f| FUNCTIONS[usize::from(f)])
}

pub fn summarize(records: &[Record]) -> Summary {
    let mut t = Tally::default();
    for r in records {
        t.add(&r.ev, &Scan::of(r.ev.path.iter().copied()));
    }
    t.summary()
}

/// The [`Summary`] kept as the faults happen, so that a trace need not keep them: a
/// few counters and one entry per distinct path.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    total: u64,
    by_result: Vec<(&'static str, u64)>,
    /// Where each [`result_kind`] is in `by_result`, plus one; 0 for none yet.
    result_at: [u8; RESULT_KINDS],
    /// Keyed by [`path_functions`], in order of first appearance; named and sorted
    /// when the summary is made. The [`Scan::code`] finds the entry; a path too long
    /// for one is looked up by its functions.
    by_path: Vec<(Option<u128>, Vec<u8>, u64)>,
    /// Where the functions of a path too long for a code are built.
    path: Vec<u8>,
    /// The entries of `by_path` the last two faults counted in: consecutive faults
    /// mostly take the same path, or two in turn (a page read, then written).
    last_paths: [usize; 2],
    stack_expansions: u64,
    pages_allocated: u64,
    zero_page_maps: u64,
    cow_copies: u64,
    cow_reuses: u64,
    page_tables: u64,
    oom_kills: u64,
}

/// The kinds of [`FaultResult`].
const RESULT_KINDS: usize = 7;

pub(crate) fn result_kind(r: FaultResult) -> usize {
    match r {
        FaultResult::Minor => 0,
        FaultResult::Major => 1,
        FaultResult::SigSegv { .. } => 2,
        FaultResult::SigBus { .. } => 3,
        FaultResult::Efault => 4,
        FaultResult::Oom => 5,
        FaultResult::OomRetry => 6,
    }
}

impl Tally {
    /// Counts the fault `ev`; `scan` is [`Scan::of`] its path.
    pub(crate) fn add(&mut self, ev: &FaultEvent, scan: &Scan) {
        self.add_steps(ev.result, scan, || ev.path.iter().copied())
    }

    /// [`Tally::add`] for a fault with result `result` whose steps `steps` gives
    /// (a fault rendered from its packed record has no `FaultEvent::path`);
    /// they are read again only for a path too long for a [`Scan::code`].
    #[inline]
    pub(crate) fn add_steps<S: Iterator<Item = Step>>(
        &mut self,
        result: FaultResult,
        scan: &Scan,
        steps: impl FnOnce() -> S,
    ) {
        self.total += 1;
        let k = result_kind(result);
        match self.result_at[k] {
            0 => {
                self.by_result.push((result_name(result), 1));
                self.result_at[k] = self.by_result.len() as u8;
            }
            at => self.by_result[usize::from(at - 1)].1 += 1,
        }
        // The last two paths first, here rather than in the call: mostly one of them.
        let recent = |i: usize| scan.code.is_some() && self.by_path.get(i).is_some_and(|e| e.0 == scan.code);
        let i = match self.last_paths {
            [a, _] if recent(a) => a,
            [_, b] if recent(b) => b,
            _ => self.path_entry(scan.code, steps),
        };
        self.by_path[i].2 += 1;
        if self.last_paths[0] != i {
            self.last_paths = [i, self.last_paths[0]];
        }
        self.stack_expansions += u64::from(scan.stack_expansions);
        self.zero_page_maps += u64::from(scan.zero_page_maps);
        self.pages_allocated += u64::from(scan.pages_allocated);
        self.cow_copies += u64::from(scan.cow_copies);
        self.cow_reuses += u64::from(scan.cow_reuses);
        self.page_tables += u64::from(scan.page_tables);
    }

    /// Counts an OOM kill that chose a victim.
    pub fn add_oom(&mut self, ev: &growsdown_kernel::trace::OomEvent) {
        if ev.victim.is_some() {
            self.oom_kills += 1;
        }
    }

    /// The entry of `by_path` for the path of code `code` (None: too long for one)
    /// and steps `steps`, made if new; neither of the last two (`add_steps` looks
    /// at those).
    #[inline(never)]
    fn path_entry<S: Iterator<Item = Step>>(
        &mut self,
        code: Option<u128>,
        steps: impl FnOnce() -> S,
    ) -> usize {
        if code.is_some() {
            if let Some(i) = self.by_path.iter().position(|e| e.0 == code) {
                return i;
            }
        }
        path_functions(steps(), &mut self.path);
        if code.is_none() {
            if let Some(i) = self.by_path.iter().position(|e| e.0.is_none() && e.1 == self.path) {
                return i;
            }
        }
        self.by_path.push((code, self.path.clone(), 0));
        self.by_path.len() - 1
    }

    pub fn summary(&self) -> Summary {
        let mut by_path: Vec<(String, u64)> = self
            .by_path
            .iter()
            .map(|(_, p, c)| (path_names(p).collect::<Vec<_>>().join(" -> "), *c))
            .collect();
        by_path.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        Summary {
            total: self.total,
            by_result: self.by_result.clone(),
            by_path,
            stack_expansions: self.stack_expansions,
            pages_allocated: self.pages_allocated,
            zero_page_maps: self.zero_page_maps,
            cow_copies: self.cow_copies,
            cow_reuses: self.cow_reuses,
            page_tables: self.page_tables,
            oom_kills: self.oom_kills,
        }
    }
}
