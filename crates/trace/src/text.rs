//! The text format: one block per fault, the call chain written the way the seed
//! documents write it (`do_page_fault() --> expand_stack() --> …`).

use std::fmt::Write;

use super::out::{dec, hex0x8, hex8, perms};
use super::{
    error_words, is_growsdown, path_functions, path_names, result_name, step_function, write_si_code_name,
    write_step_detail, Record, Summary,
};
use growsdown_kernel::trace::{FaultEvent, FaultResult};

pub fn record(r: &Record) -> String {
    let mut out = Vec::new();
    write_record(&mut out, &r.ev, &r.insn, &mut Vec::new());
    String::from_utf8(out).expect("the text format is UTF-8")
}

/// Appends the text of [`record`] for `ev` and its instruction `insn` to `out`.
/// `path` is scratch space, kept by the caller so a trace does not allocate per fault.
pub fn write_record(out: &mut Vec<u8>, ev: &FaultEvent, insn: &str, path: &mut Vec<u8>) {
    let (rw, p, us) = error_words(ev.error_code);
    out.extend_from_slice(b"fault #");
    dec(out, ev.seq);
    out.extend_from_slice(b"  pid ");
    dec(out, u64::from(ev.pid));
    out.extend_from_slice(b"  icount ");
    dec(out, ev.icount);
    out.extend_from_slice(b"  eip ");
    hex0x8(out, ev.eip);
    out.extend_from_slice(b"  ");
    out.extend_from_slice(insn.as_bytes());

    out.extend_from_slice(b"\n  cr2 ");
    hex0x8(out, ev.cr2);
    out.extend_from_slice(b"  error ");
    dec(out, u64::from(ev.error_code));
    out.extend_from_slice(b" = ");
    for (i, w) in [rw, p, us].into_iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        out.extend_from_slice(w.as_bytes());
    }
    if ev.kernel_mode {
        out.extend_from_slice(b" (kernel accessing user memory)");
    }
    out.extend_from_slice(b"  esp ");
    hex0x8(out, ev.esp);

    match ev.vma {
        Some((s, e, f)) => {
            out.extend_from_slice(b"\n  vma ");
            hex8(out, s);
            out.push(b'-');
            hex8(out, e);
            out.push(b' ');
            out.extend_from_slice(&perms(f));
            if is_growsdown(f) {
                out.extend_from_slice(b" GROWSDOWN");
            }
        }
        None => out.extend_from_slice(b"\n  vma none"),
    }

    out.extend_from_slice(b"\n  ");
    path_functions(ev, path);
    for (i, n) in path_names(path).enumerate() {
        if i > 0 {
            out.extend_from_slice(b" --> ");
        }
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(b"()");
    }
    if path.is_empty() {
        // What splitting the empty path key gives: one nameless call.
        out.extend_from_slice(b"()");
    }
    out.push(b'\n');

    for s in &ev.path {
        let start = out.len();
        out.extend_from_slice(b"    ");
        out.extend_from_slice(step_function(s).as_bytes());
        out.extend_from_slice(b": ");
        let detail = out.len();
        write_step_detail(out, s);
        if out.len() == detail {
            out.truncate(start);
        } else {
            out.push(b'\n');
        }
    }

    out.extend_from_slice(b"  result: ");
    out.extend_from_slice(result_name(ev.result).as_bytes());
    match ev.result {
        FaultResult::SigSegv { si_code } => {
            out.extend_from_slice(b" SIGSEGV ");
            write_si_code_name(out, si_code, true);
        }
        FaultResult::SigBus { si_code } => {
            out.extend_from_slice(b" SIGBUS ");
            write_si_code_name(out, si_code, false);
        }
        _ => {}
    }
    out.extend_from_slice(b"  (min_flt ");
    dec(out, ev.min_flt);
    out.extend_from_slice(b", maj_flt ");
    dec(out, ev.maj_flt);
    out.extend_from_slice(b")\n");
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

#[cfg(test)]
mod tests {
    use super::super::{path_key, result_si_code, si_code_name, step_detail, vma_perms};
    use super::*;

    /// The text format as it was written with `format!`, before `write_record`.
    fn reference(r: &Record) -> String {
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

    #[test]
    fn records_are_written_as_format_wrote_them() {
        let mut path = Vec::new();
        for ev in crate::jsonl::tests::events() {
            let r = Record { ev, insn: "mov [eax+4], edx".into() };
            let mut got = b"previous\n".to_vec();
            write_record(&mut got, &r.ev, &r.insn, &mut path);
            assert_eq!(String::from_utf8(got).unwrap(), format!("previous\n{}", reference(&r)));
            assert_eq!(record(&r), reference(&r));
        }
    }

    #[test]
    fn step_details_are_written_as_format_wrote_them() {
        use growsdown_kernel::trace::Step;
        let steps = [
            Step::FindVma { vma: Some((0xbfff_f000, 0xc000_0000, 0x0100_0173)) },
            Step::EspCheck { esp: 0xbfff_f000, ok: false },
            Step::ExpandStack { old_start: 0xbfff_f000, new_start: 0xbfff_e000, ok: true },
            Step::ExpandStack { old_start: 0xbfff_f000, new_start: 0xbfff_e000, ok: false },
            Step::PteAlloc { table: 0 },
            Step::DoAnonymousPage { zero_page: false, frame: 0x1f_3000 },
            Step::DoWpPage { copied: true, from_zero_page: false, frame: 0x20_0000 },
            Step::BadArea { reason: "no vma", si_code: 7 },
        ];
        let want = [
            format!("bffff000-c0000000 {}", vma_perms(0x0100_0173)),
            "esp=0xbffff000 address + 32 < esp".into(),
            "0xbffff000 -> 0xbfffe000".into(),
            "refused (0xbffff000 -> 0xbfffe000 exceeds a limit)".into(),
            "new page table 0x0".into(),
            "new frame 0x1f3000".into(),
            "copy into 0x200000".into(),
            "no vma, si_code=7".into(),
        ];
        let got: Vec<String> = steps.iter().map(step_detail).collect();
        assert_eq!(got, want);
    }
}
