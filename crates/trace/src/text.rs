//! The text format: one block per fault, the call chain written the way the seed
//! documents write it (`do_page_fault() --> expand_stack() --> …`).

use std::fmt::Write;

use super::out::{dec, hex0x, hex0x8, hex0x8_digits, vma_range, Padded};
use super::{
    is_growsdown, path_code, path_functions, path_names, result_kind, step_index, write_si_code_name,
    write_step_detail, Record, Summary,
};
use growsdown_kernel::trace::{FaultEvent, FaultResult, OomEvent, Step};

pub fn record(r: &Record) -> String {
    let mut out = Vec::new();
    write_record(&mut out, &r.ev, &r.insn, &mut Chains::default());
    String::from_utf8(out).expect("the text format is UTF-8")
}

/// The call-chain lines written so far, by path: a run takes a handful of distinct
/// paths, and a chain line is a fifth of a record. Kept by the caller, with
/// [`write_record`]'s other scratch space, so a trace does not allocate per fault.
#[derive(Default)]
pub struct Chains {
    /// By [`path_code`]: the line, `  ` to newline.
    lines: Vec<(u128, Vec<u8>)>,
    /// The entry of `lines` the last record used.
    last: usize,
    /// Where the functions of a path are built.
    path: Vec<u8>,
}

impl Chains {
    /// Appends the chain line of `ev`.
    fn write(&mut self, out: &mut Vec<u8>, ev: &FaultEvent) {
        let Some(code) = path_code(ev) else {
            write_chain(out, ev, &mut self.path);
            return;
        };
        if self.lines.get(self.last).is_none_or(|l| l.0 != code) {
            self.last = match self.lines.iter().position(|l| l.0 == code) {
                Some(i) => i,
                None => {
                    let mut line = Vec::new();
                    write_chain(&mut line, ev, &mut self.path);
                    self.lines.push((code, line));
                    self.lines.len() - 1
                }
            };
        }
        out.extend_from_slice(&self.lines[self.last].1);
    }
}

/// The chain line of `ev`, built from its functions.
fn write_chain(out: &mut Vec<u8>, ev: &FaultEvent, path: &mut Vec<u8>) {
    out.extend_from_slice(b"  ");
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
}

/// What follows `error N` with the error code's words, by its low three bits.
const ERROR_WORDS: [Padded<32>; 8] = [
    Padded::new(b" = read, not-present, kernel"),
    Padded::new(b" = read, protection, kernel"),
    Padded::new(b" = write, not-present, kernel"),
    Padded::new(b" = write, protection, kernel"),
    Padded::new(b" = read, not-present, user"),
    Padded::new(b" = read, protection, user"),
    Padded::new(b" = write, not-present, user"),
    Padded::new(b" = write, protection, user"),
];

/// The start of a step's line, by [`step_index`]: indent, function, colon, made from
/// the one table of function names.
const STEP_LINES: [Padded<24>; crate::FUNCTIONS.len()] = {
    let mut lines = [const { Padded::new(b"") }; crate::FUNCTIONS.len()];
    let mut i = 0;
    while i < lines.len() {
        lines[i] = Padded::joined(&[b"    ", crate::FUNCTIONS[i].as_bytes(), b": "]);
        i += 1;
    }
    lines
};

/// `  result: ` and the result's name, by [`result_kind`].
const RESULT_LINES: [Padded<24>; crate::RESULT_KINDS] = [
    Padded::new(b"  result: minor"),
    Padded::new(b"  result: major"),
    Padded::new(b"  result: sigsegv"),
    Padded::new(b"  result: sigbus"),
    Padded::new(b"  result: efault"),
    Padded::new(b"  result: oom"),
    Padded::new(b"  result: oom-retry"),
];

/// Appends the line of step `s`, if it has one: the steps whose function name says
/// it all have none. The steps of nearly every fault are written whole here; the
/// rest go through [`write_step_detail`], which the tests hold these to.
fn write_step_line(out: &mut Vec<u8>, s: &Step) {
    match *s {
        Step::DoPageFault { .. }
        | Step::HandleMmFault
        | Step::Spurious
        | Step::NoContextFixup
        | Step::SigBus
        | Step::OutOfMemory => {}
        Step::FindVma { vma: Some((a, b, f)) } => {
            const START: &[u8; 14] = b"    find_vma: ";
            let mut l = [b'\n'; 37];
            l[..14].copy_from_slice(START);
            l[14..36].copy_from_slice(&vma_range(a, b, f));
            out.extend_from_slice(&l);
        }
        Step::GoodArea { write: true } => out.extend_from_slice(b"    good_area: write allowed\n"),
        Step::GoodArea { write: false } => out.extend_from_slice(b"    good_area: read allowed\n"),
        Step::HandlePteFault { pte } => {
            const START: &[u8; 26] = b"    handle_pte_fault: pte=";
            let mut l = [b'\n'; 37];
            l[..26].copy_from_slice(START);
            l[26..36].copy_from_slice(&hex0x8_digits(pte));
            out.extend_from_slice(&l);
        }
        Step::DoAnonymousPage { zero_page: false, frame } => {
            out.extend_from_slice(b"    do_anonymous_page: new frame ");
            hex0x(out, frame);
            out.push(b'\n');
        }
        _ => {
            STEP_LINES[usize::from(step_index(s))].put(out);
            write_step_detail(out, s);
            out.push(b'\n');
        }
    }
}

/// One reclaim decision, a line of its own between the fault records, with who
/// reclaimed at the end:
/// `reclaim: try_to_swap_out pid 1 0x40001000 (frame 0x123000): young, kept (kswapd)`
/// or `… (direct reclaim by pid 1)`; for a shmem page sent to swap
/// `reclaim: shmem_writepage index 5 (frame 0x123000): written to slot 17 (kswapd)`.
pub fn write_reclaim(out: &mut Vec<u8>, ev: &growsdown_kernel::trace::ReclaimEvent) {
    use growsdown_kernel::trace::ReclaimWhat;
    if let ReclaimWhat::ShmemWritepage { index, slot } = ev.what {
        out.extend_from_slice(b"reclaim: shmem_writepage index ");
        dec(out, u64::from(index));
        out.extend_from_slice(b" (frame ");
        hex0x(out, ev.frame);
        out.extend_from_slice(b"): written to slot ");
        dec(out, u64::from(slot));
        write_reclaimer(out, ev.by);
        out.push(b'\n');
        return;
    }
    out.extend_from_slice(b"reclaim: try_to_swap_out pid ");
    dec(out, u64::from(ev.pid));
    out.push(b' ');
    hex0x(out, ev.address);
    out.extend_from_slice(b" (frame ");
    hex0x(out, ev.frame);
    out.extend_from_slice(b"): ");
    match ev.what {
        ReclaimWhat::Young => out.extend_from_slice(b"young, kept"),
        ReclaimWhat::Dropped => out.extend_from_slice(b"page-cache page dropped"),
        ReclaimWhat::ShmemUnmapped => out.extend_from_slice(b"shmem page unmapped, kept by its object"),
        // Written above.
        ReclaimWhat::ShmemWritepage { .. } => {}
        ReclaimWhat::Swapped { slot } => {
            out.extend_from_slice(b"written to slot ");
            dec(out, u64::from(slot));
        }
        ReclaimWhat::SwapCache { slot } => {
            out.extend_from_slice(b"already in the swap cache, slot ");
            dec(out, u64::from(slot));
        }
    }
    write_reclaimer(out, ev.by);
    out.push(b'\n');
}

/// Who made a reclaim decision, at the end of its line: ` (kswapd)` or
/// ` (direct reclaim by pid N)`.
fn write_reclaimer(out: &mut Vec<u8>, by: growsdown_kernel::trace::ReclaimBy) {
    use growsdown_kernel::trace::ReclaimBy;
    match by {
        ReclaimBy::Kswapd => out.extend_from_slice(b" (kswapd)"),
        ReclaimBy::Direct { pid } => {
            out.extend_from_slice(b" (direct reclaim by pid ");
            dec(out, u64::from(pid));
            out.push(b')');
        }
    }
}

/// A swapoff's `try_to_unuse`, one line:
/// `swapoff: try_to_unuse pid 1000: 2048 slots in use, 2048 pages read back, 0 left`.
pub fn write_unuse(out: &mut Vec<u8>, ev: &growsdown_kernel::trace::UnuseEvent) {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = write!(
        s,
        "swapoff: try_to_unuse pid {}: {} slots in use, {} pages read back, {} left",
        ev.pid, ev.slots_before, ev.pages_read, ev.slots_after
    );
    if ev.errno != 0 {
        let _ = write!(
            s,
            " (swapoff fails with {}; the area stays in use)",
            growsdown_kernel::syscall::errno_name(ev.errno)
        );
    }
    s.push('\n');
    out.extend_from_slice(s.as_bytes());
}

/// Appends the text of [`record`] for `ev` and its instruction `insn` to `out`.
/// `chains` is kept by the caller from record to record.
pub fn write_record(out: &mut Vec<u8>, ev: &FaultEvent, insn: &str, chains: &mut Chains) {
    out.extend_from_slice(b"fault #");
    dec(out, ev.seq);
    out.extend_from_slice(b"  pid ");
    dec(out, u64::from(ev.pid));
    // Only where it says something: a process's first thread has tid == pid, and
    // the traces of single-threaded programs read as they always have.
    if ev.tid != ev.pid {
        out.extend_from_slice(b"  tid ");
        dec(out, u64::from(ev.tid));
    }
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
    ERROR_WORDS[(ev.error_code & 7) as usize].put(out);
    if ev.kernel_mode {
        out.extend_from_slice(b" (kernel accessing user memory)");
    }
    out.extend_from_slice(b"  esp ");
    hex0x8(out, ev.esp);

    match ev.vma {
        Some((s, e, f)) => {
            out.extend_from_slice(b"\n  vma ");
            out.extend_from_slice(&vma_range(s, e, f));
            if is_growsdown(f) {
                out.extend_from_slice(b" GROWSDOWN");
            }
            out.push(b'\n');
        }
        None => out.extend_from_slice(b"\n  vma none\n"),
    }

    chains.write(out, ev);

    for s in &ev.path {
        write_step_line(out, s);
    }

    RESULT_LINES[result_kind(ev.result)].put(out);
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

/// An OOM kill: the faulting process, each candidate's `badness()` with its inputs,
/// the victim and the signal.
pub fn write_oom(out: &mut Vec<u8>, ev: &OomEvent) {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "oom kill after fault #{}  pid {}  machine icount {}  (out_of_memory -> select_bad_process -> badness)",
        ev.seq, ev.pid, ev.machine_icount
    );
    for c in &ev.candidates {
        let tid = if c.pid != c.tgid { format!(" tid {}", c.pid) } else { String::new() };
        let _ = writeln!(
            s,
            "  pid {}{tid}  total_vm {}  cpu {}  run {}  nice {}{}{}{}  badness {}",
            c.tgid,
            c.total_vm,
            c.cpu_time,
            c.run_time,
            c.nice,
            if c.root { "  root" } else { "" },
            if c.rawio { "  CAP_SYS_RAWIO" } else { "" },
            if c.memdie { "  PF_MEMDIE" } else { "" },
            c.points
        );
    }
    match ev.victim {
        Some(v) => {
            let tids: Vec<String> = ev.killed.iter().map(u32::to_string).collect();
            let _ = writeln!(
                s,
                "  victim pid {} ({} points): {} to {}",
                v.tgid,
                v.points,
                growsdown_kernel::signal::signal_name(ev.signo),
                tids.join(", ")
            );
        }
        None => {
            let _ = writeln!(s, "  no victim: no process has any points");
        }
    }
    out.extend_from_slice(s.as_bytes());
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
    if s.oom_kills > 0 {
        let _ = writeln!(out, "  OOM kills: {}", s.oom_kills);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{
        error_words, path_key, result_name, result_si_code, si_code_name, step_detail, step_function,
        vma_perms,
    };
    use super::*;

    /// The text format as it was written with `format!`, before `write_record`.
    fn reference(r: &Record) -> String {
        let ev = &r.ev;
        let mut out = String::new();
        let (rw, p, us) = error_words(ev.error_code);
        let tid = if ev.tid != ev.pid { format!("  tid {}", ev.tid) } else { String::new() };
        let _ = writeln!(
            out,
            "fault #{}  pid {}{tid}  icount {}  eip {:#010x}  {}",
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
    fn error_words_and_step_lines_are_the_tables() {
        for code in 0..8 {
            let (rw, p, us) = error_words(code);
            assert_eq!(ERROR_WORDS[code as usize].as_bytes(), format!(" = {rw}, {p}, {us}").as_bytes());
        }
        for (i, name) in crate::FUNCTIONS.iter().enumerate() {
            assert_eq!(STEP_LINES[i].as_bytes(), format!("    {name}: ").as_bytes());
        }
        use growsdown_kernel::trace::FaultResult as R;
        for r in [R::Minor, R::Major, R::SigSegv { si_code: 1 }, R::SigBus { si_code: 2 }, R::Efault, R::Oom]
        {
            assert_eq!(
                RESULT_LINES[result_kind(r)].as_bytes(),
                format!("  result: {}", result_name(r)).as_bytes()
            );
        }
    }

    #[test]
    fn records_are_written_as_format_wrote_them() {
        // One cache for all records, as a trace uses it: a chain line found in it
        // must be the one the record's own path gives.
        let mut chains = Chains::default();
        for ev in
            crate::jsonl::tests::events().into_iter().chain(crate::jsonl::tests::events().into_iter().rev())
        {
            let r = Record { ev, insn: "mov [eax+4], edx".into() };
            let mut got = b"previous\n".to_vec();
            write_record(&mut got, &r.ev, &r.insn, &mut chains);
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
