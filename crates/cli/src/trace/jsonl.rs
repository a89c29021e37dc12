//! The JSONL format: one JSON object per fault, field names documented in
//! docs/trace-format.md and kept stable.

use std::fmt::Write;

use super::{
    error_words, is_growsdown, result_name, result_si_code, step_function, vma_perms, Record, Summary,
};
use growsdown_kernel::trace::Step;

/// A JSON string literal.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn hex(v: u32) -> String {
    format!("\"{v:#010x}\"")
}

fn step(s: &Step) -> String {
    let f = quote(step_function(s));
    match s {
        Step::DoPageFault { address, error_code, user } => {
            format!(
                "{{\"fn\":{f},\"address\":{},\"error_code\":{error_code},\"user\":{user}}}",
                hex(*address)
            )
        }
        Step::FindVma { vma: Some((a, b, fl)) } => format!(
            "{{\"fn\":{f},\"vma\":{{\"start\":{},\"end\":{},\"flags\":{}}}}}",
            hex(*a),
            hex(*b),
            quote(&vma_perms(*fl))
        ),
        Step::FindVma { vma: None } => format!("{{\"fn\":{f},\"vma\":null}}"),
        Step::EspCheck { esp, ok } => format!("{{\"fn\":{f},\"esp\":{},\"ok\":{ok}}}", hex(*esp)),
        Step::ExpandStack { old_start, new_start, ok } => {
            format!(
                "{{\"fn\":{f},\"old_start\":{},\"new_start\":{},\"ok\":{ok}}}",
                hex(*old_start),
                hex(*new_start)
            )
        }
        Step::GoodArea { write } => format!("{{\"fn\":{f},\"write\":{write}}}"),
        Step::PteAlloc { table } => format!("{{\"fn\":{f},\"table\":{}}}", hex(*table)),
        Step::HandlePteFault { pte } => format!("{{\"fn\":{f},\"pte\":{}}}", hex(*pte)),
        Step::DoNoPage { file_page, early_cow } => {
            format!("{{\"fn\":{f},\"file_page\":{file_page},\"early_cow\":{early_cow}}}")
        }
        Step::DoAnonymousPage { zero_page, frame } => {
            format!("{{\"fn\":{f},\"zero_page\":{zero_page},\"frame\":{}}}", hex(*frame))
        }
        Step::DoWpPage { copied, from_zero_page, frame } => format!(
            "{{\"fn\":{f},\"action\":{},\"from_zero_page\":{from_zero_page},\"frame\":{}}}",
            quote(if *copied { "copy" } else { "reuse" }),
            hex(*frame)
        ),
        Step::BadArea { reason, si_code } => {
            format!("{{\"fn\":{f},\"reason\":{},\"si_code\":{si_code}}}", quote(reason))
        }
        Step::HandleMmFault | Step::Spurious | Step::NoContextFixup | Step::SigBus | Step::OutOfMemory => {
            format!("{{\"fn\":{f}}}")
        }
    }
}

pub fn record(r: &Record) -> String {
    let ev = &r.ev;
    let (rw, p, us) = error_words(ev.error_code);
    let vma = match ev.vma {
        Some((s, e, f)) => format!(
            "{{\"start\":{},\"end\":{},\"flags\":{},\"growsdown\":{}}}",
            hex(s),
            hex(e),
            quote(&vma_perms(f)),
            is_growsdown(f)
        ),
        None => "null".into(),
    };
    let path: Vec<String> = ev.path.iter().map(step).collect();
    let si_code = result_si_code(ev.result).map_or("null".to_string(), |c| c.to_string());
    format!(
        "{{\"type\":\"fault\",\"seq\":{},\"pid\":{},\"icount\":{},\"eip\":{},\"insn\":{},\"cr2\":{},\"error_code\":{},\
\"error\":{{\"access\":\"{rw}\",\"cause\":\"{p}\",\"mode\":\"{us}\"}},\"kernel_mode\":{},\"esp\":{},\"vma\":{vma},\
\"path\":[{}],\"result\":\"{}\",\"si_code\":{si_code},\"min_flt\":{},\"maj_flt\":{}}}",
        ev.seq,
        ev.pid,
        ev.icount,
        hex(ev.eip),
        quote(&r.insn),
        hex(ev.cr2),
        ev.error_code,
        ev.kernel_mode,
        hex(ev.esp),
        path.join(","),
        result_name(ev.result),
        ev.min_flt,
        ev.maj_flt,
    )
}

pub fn summary(s: &Summary) -> String {
    let by_result: Vec<String> = s.by_result.iter().map(|(n, c)| format!("{}:{c}", quote(n))).collect();
    let by_path: Vec<String> = s.by_path.iter().map(|(p, c)| format!("{}:{c}", quote(p))).collect();
    format!(
        "{{\"type\":\"summary\",\"faults\":{},\"by_result\":{{{}}},\"by_path\":{{{}}},\"stack_expansions\":{},\
\"pages_allocated\":{},\"page_tables\":{},\"zero_page_maps\":{},\"cow_copies\":{},\"cow_reuses\":{}}}",
        s.total,
        by_result.join(","),
        by_path.join(","),
        s.stack_expansions,
        s.pages_allocated,
        s.page_tables,
        s.zero_page_maps,
        s.cow_copies,
        s.cow_reuses
    )
}
