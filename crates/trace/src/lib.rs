//! The page-fault trace: one record per fault, with the 2.4 path that resolved it,
//! rendered as text (the call chain as the seed documents write it), JSONL
//! (docs/trace-format.md) or an SVG picture, and the summary of a run. The records
//! come from the kernel's `FaultObserver` (`growsdown_kernel::Machine::observe_faults`);
//! `growsdown trace` (crates/cli) and a debugger to come print them.

pub mod jsonl;
pub mod svg;
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
    match s {
        Step::DoPageFault { .. } => "do_page_fault",
        Step::FindVma { .. } => "find_vma",
        Step::EspCheck { .. } => "esp_check",
        Step::ExpandStack { .. } => "expand_stack",
        Step::GoodArea { .. } => "good_area",
        Step::HandleMmFault => "handle_mm_fault",
        Step::PteAlloc { .. } => "pte_alloc",
        Step::HandlePteFault { .. } => "handle_pte_fault",
        Step::DoNoPage { .. } => "do_no_page",
        Step::DoAnonymousPage { .. } => "do_anonymous_page",
        Step::DoWpPage { .. } => "do_wp_page",
        Step::Spurious => "establish_pte",
        Step::BadArea { .. } => "bad_area",
        Step::NoContextFixup => "no_context",
        Step::SigBus => "do_sigbus",
        Step::OutOfMemory => "out_of_memory",
    }
}

/// The step's decision in a few words (empty when the function name says it all).
pub fn step_detail(s: &Step) -> String {
    match s {
        Step::DoPageFault { .. }
        | Step::HandleMmFault
        | Step::Spurious
        | Step::NoContextFixup
        | Step::SigBus
        | Step::OutOfMemory => String::new(),
        Step::FindVma { vma: Some((a, b, f)) } => format!("{a:08x}-{b:08x} {}", vma_perms(*f)),
        Step::FindVma { vma: None } => "no vma".into(),
        Step::EspCheck { esp, ok } => {
            format!("esp={esp:#010x} {}", if *ok { "ok" } else { "address + 32 < esp" })
        }
        Step::ExpandStack { old_start, new_start, ok: true } => {
            format!("{old_start:#010x} -> {new_start:#010x}")
        }
        Step::ExpandStack { old_start, new_start, ok: false } => {
            format!("refused ({old_start:#010x} -> {new_start:#010x} exceeds a limit)")
        }
        Step::GoodArea { write } => if *write { "write allowed" } else { "read allowed" }.into(),
        Step::PteAlloc { table } => format!("new page table {table:#x}"),
        Step::HandlePteFault { pte } => format!("pte={pte:#010x}"),
        Step::DoNoPage { file_page, early_cow } => {
            format!("file page {file_page}{}", if *early_cow { ", early COW" } else { "" })
        }
        Step::DoAnonymousPage { zero_page: true, .. } => "ZERO_PAGE, read-only".into(),
        Step::DoAnonymousPage { zero_page: false, frame } => format!("new frame {frame:#x}"),
        Step::DoWpPage { copied: false, frame, .. } => format!("reuse frame {frame:#x}"),
        Step::DoWpPage { copied: true, from_zero_page: true, frame } => {
            format!("copy of ZERO_PAGE into {frame:#x}")
        }
        Step::DoWpPage { copied: true, frame, .. } => format!("copy into {frame:#x}"),
        Step::BadArea { reason, si_code } => format!("{reason}, si_code={}", si_code_name(*si_code, true)),
    }
}

pub fn si_code_name(code: i32, segv: bool) -> String {
    match (code, segv) {
        (1, true) => "SEGV_MAPERR".into(),
        (2, true) => "SEGV_ACCERR".into(),
        (1, false) => "BUS_ADRALN".into(),
        (2, false) => "BUS_ADRERR".into(),
        (c, _) => c.to_string(),
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
}

/// The path of a fault as the chain of functions, e.g.
/// `do_page_fault -> expand_stack -> handle_mm_fault -> do_anonymous_page`.
pub fn path_key(ev: &FaultEvent) -> String {
    let mut names: Vec<&str> = Vec::new();
    for s in &ev.path {
        let n = step_function(s);
        if matches!(
            s,
            Step::FindVma { .. }
                | Step::EspCheck { .. }
                | Step::GoodArea { .. }
                | Step::HandlePteFault { .. }
        ) {
            continue;
        }
        if names.last() != Some(&n) {
            names.push(n);
        }
    }
    names.join(" -> ")
}

pub fn summarize(records: &[Record]) -> Summary {
    let mut s = Summary { total: records.len() as u64, ..Summary::default() };
    let mut results: Vec<(&'static str, u64)> = Vec::new();
    let mut paths: Vec<(String, u64)> = Vec::new();
    for r in records {
        let name = result_name(r.ev.result);
        match results.iter_mut().find(|(n, _)| *n == name) {
            Some(e) => e.1 += 1,
            None => results.push((name, 1)),
        }
        let key = path_key(&r.ev);
        match paths.iter_mut().find(|(k, _)| *k == key) {
            Some(e) => e.1 += 1,
            None => paths.push((key, 1)),
        }
        for step in &r.ev.path {
            match step {
                Step::ExpandStack { ok: true, .. } => s.stack_expansions += 1,
                Step::DoAnonymousPage { zero_page: true, .. } => s.zero_page_maps += 1,
                Step::DoAnonymousPage { zero_page: false, .. } => s.pages_allocated += 1,
                Step::DoNoPage { .. } => s.pages_allocated += 1,
                Step::DoWpPage { copied: true, .. } => {
                    s.cow_copies += 1;
                    s.pages_allocated += 1;
                }
                Step::DoWpPage { copied: false, .. } => s.cow_reuses += 1,
                Step::PteAlloc { .. } => s.page_tables += 1,
                _ => {}
            }
        }
    }
    paths.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    s.by_result = results;
    s.by_path = paths;
    s
}
