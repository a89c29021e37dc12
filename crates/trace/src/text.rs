//! The text format: one block per fault, the call chain written the way the seed
//! documents write it (`do_page_fault() --> expand_stack() --> …`).

use std::fmt::Write;

use super::{
    error_words, is_growsdown, path_key, result_name, result_si_code, si_code_name, step_detail,
    step_function, vma_perms, Record, Summary,
};
use growsdown_kernel::trace::FaultResult;

pub fn record(r: &Record) -> String {
    let ev = &r.ev;
    let mut out = String::new();
    let (rw, p, us) = error_words(ev.error_code);
    let _ = writeln!(
        out,
        "fault #{}  pid {}  icount {}  eip {:#010x}  {}",
        ev.seq, ev.pid, ev.icount, ev.eip, r.insn
    );
    let _ = writeln!(
        out,
        "  cr2 {:#010x}  error {} = {rw}, {p}, {us}{}  esp {:#010x}",
        ev.cr2,
        ev.error_code,
        if ev.kernel_mode { " (kernel accessing user memory)" } else { "" },
        ev.esp
    );
    match ev.vma {
        Some((s, e, f)) => {
            let _ = writeln!(
                out,
                "  vma {s:08x}-{e:08x} {}{}",
                vma_perms(f),
                if is_growsdown(f) { " GROWSDOWN" } else { "" }
            );
        }
        None => {
            let _ = writeln!(out, "  vma none");
        }
    }
    let chain: Vec<String> = path_key(ev).split(" -> ").map(|f| format!("{f}()")).collect();
    let _ = writeln!(out, "  {}", chain.join(" --> "));
    for s in &ev.path {
        let d = step_detail(s);
        if !d.is_empty() {
            let _ = writeln!(out, "    {}: {d}", step_function(s));
        }
    }
    let sig = match ev.result {
        FaultResult::SigSegv { si_code } => format!(" SIGSEGV {}", si_code_name(si_code, true)),
        FaultResult::SigBus { si_code } => format!(" SIGBUS {}", si_code_name(si_code, false)),
        _ => String::new(),
    };
    let _ = result_si_code(ev.result);
    let _ = writeln!(
        out,
        "  result: {}{sig}  (min_flt {}, maj_flt {})",
        result_name(ev.result),
        ev.min_flt,
        ev.maj_flt
    );
    out
}

pub fn summary(s: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "summary: {} page faults", s.total);
    let by: Vec<String> = s.by_result.iter().map(|(n, c)| format!("{n} {c}")).collect();
    let _ = writeln!(out, "  by result: {}", by.join(", "));
    let _ = writeln!(out, "  by path:");
    for (p, c) in &s.by_path {
        let _ = writeln!(out, "    {c:>6}  {p}");
    }
    let _ = writeln!(out, "  stack expansions: {}", s.stack_expansions);
    let _ = writeln!(out, "  pages allocated: {} (page tables: {})", s.pages_allocated, s.page_tables);
    let _ = writeln!(out, "  zero-page mappings: {}", s.zero_page_maps);
    let _ = writeln!(out, "  COW: {} copies, {} reuses", s.cow_copies, s.cow_reuses);
    out
}
