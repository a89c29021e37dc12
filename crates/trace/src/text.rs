//! The text format: one block per fault, the call chain written the way the seed
//! documents write it (`do_page_fault() --> expand_stack() --> …`).

use std::fmt::Write;

use super::out::{
    dec, hex0x, hex0x8, hex0x8_digits, hex8_digits, hex_digits, vma_range, DecMemo, Out, Padded,
};
use super::template::{Hole, Marks};
use super::{
    is_growsdown, path_functions, path_names, result_kind, step_index, write_si_code_name, write_step_detail,
    Record, Scan, Summary,
};
use growsdown_kernel::trace::{FaultEvent, FaultResult, OomEvent, Step};

pub fn record(r: &Record) -> String {
    let mut out = Out::default();
    write_whole(&mut out, r, &mut Memo::default());
    out.into_string()
}

/// [`write_record`] of `r`, its own path scanned here.
fn write_whole(out: &mut Out, r: &Record, memo: &mut Memo) {
    let steps = r.ev.path.iter().copied();
    write_record(out, &r.ev, steps.clone(), &Scan::of(steps), &r.insn, memo, &mut Marks::default());
}

/// What the records of a trace repeat, kept from record to record by the caller so
/// that it is written again rather than made again: a fault-heavy guest faults over
/// and over in one VMA, at one instruction, with one stack pointer, along a few
/// paths. Nothing here changes what is written: each part is keyed by everything it
/// is made from.
#[derive(Default)]
pub struct Memo {
    chains: Chains,
    /// From `  error` to the end of the VMA line, keyed by the error code, ESP and
    /// the VMA, one for each of the error code's low three bits and the mode (a
    /// guest that reads a page and then writes it alternates two).
    middle: [Option<(MiddleKey, Out)>; 16],
    /// The `find_vma` line of a VMA, keyed by it.
    find_vma: Option<((u32, u32, u32), [u8; 37])>,
    eip: (u32, [u8; 10]),
    seq: DecMemo,
    icount: DecMemo,
    min_flt: DecMemo,
    maj_flt: DecMemo,
}

/// What the middle part of a text record is made of: the error code, ESP and the VMA.
type MiddleKey = (u32, u32, Option<(u32, u32, u32)>);

/// The call-chain lines written so far, by path: a run takes a handful of distinct
/// paths, and a chain line is a fifth of a record.
#[derive(Default)]
struct Chains {
    /// By [`Scan::code`]: the line, `  ` to newline.
    lines: Vec<(u128, Vec<u8>)>,
    /// The entry of `lines` the last record used.
    last: usize,
    /// Where the functions of a path are built.
    path: Vec<u8>,
}

impl Chains {
    /// Appends the chain line of the path of code `code` whose steps `steps` gives.
    fn write(&mut self, out: &mut Out, code: Option<u128>, steps: impl Iterator<Item = Step>) {
        let Some(code) = code else {
            out.put_slice(&chain_line(steps, &mut self.path));
            return;
        };
        if self.lines.get(self.last).is_none_or(|l| l.0 != code) {
            self.last = match self.lines.iter().position(|l| l.0 == code) {
                Some(i) => i,
                None => {
                    self.lines.push((code, chain_line(steps, &mut self.path)));
                    self.lines.len() - 1
                }
            };
        }
        out.put_slice(&self.lines[self.last].1);
    }
}

/// The chain line of a path, built from its functions.
fn chain_line(steps: impl Iterator<Item = Step>, path: &mut Vec<u8>) -> Vec<u8> {
    let mut out = b"  ".to_vec();
    path_functions(steps, path);
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
    out
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
/// A frame's digits are marked as a [`Hole::Frame`] in `marks`.
#[inline(always)]
fn write_step_line(out: &mut Out, s: &Step, memo: &mut Memo, marks: &mut Marks) {
    let frame = |out: &mut Out, marks: &mut Marks, frame: u32| {
        out.put(b"0x");
        let at = out.len();
        let (d, n) = hex_digits(frame);
        out.put_first(&d, n);
        marks.hole(Hole::Frame, at, out);
    };
    match *s {
        Step::DoPageFault { .. }
        | Step::HandleMmFault
        | Step::Spurious
        | Step::NoContextFixup
        | Step::SigBus
        | Step::OutOfMemory => {}
        Step::FindVma { vma: Some((a, b, f)) } => {
            let line = match &memo.find_vma {
                Some((key, line)) if *key == (a, b, f) => line,
                _ => {
                    let mut line = [b'\n'; 37];
                    line[..14].copy_from_slice(b"    find_vma: ");
                    line[14..36].copy_from_slice(&vma_range(a, b, f));
                    &memo.find_vma.insert(((a, b, f), line)).1
                }
            };
            out.put(line);
        }
        Step::GoodArea { write: true } => out.put(b"    good_area: write allowed\n"),
        Step::GoodArea { write: false } => out.put(b"    good_area: read allowed\n"),
        Step::HandlePteFault { pte } => {
            out.put(b"    handle_pte_fault: pte=");
            out.put(&hex0x8_digits(pte));
            out.byte(b'\n');
        }
        Step::DoAnonymousPage { zero_page: true, .. } => {
            out.put(b"    do_anonymous_page: ZERO_PAGE, read-only\n")
        }
        Step::DoAnonymousPage { zero_page: false, frame: f } => {
            out.put(b"    do_anonymous_page: new frame ");
            frame(out, marks, f);
            out.byte(b'\n');
        }
        Step::DoWpPage { copied: true, from_zero_page: true, frame: f } => {
            out.put(b"    do_wp_page: copy of ZERO_PAGE into ");
            frame(out, marks, f);
            out.byte(b'\n');
        }
        Step::DoWpPage { copied, from_zero_page: _, frame: f } => {
            out.put_slice(if copied {
                b"    do_wp_page: copy into "
            } else {
                b"    do_wp_page: reuse frame "
            });
            frame(out, marks, f);
            out.byte(b'\n');
        }
        _ => {
            STEP_LINES[usize::from(step_index(s))].put(out);
            write_step_detail(out, s);
            out.byte(b'\n');
        }
    }
}

/// One reclaim decision, a line of its own between the fault records, with who
/// reclaimed at the end:
/// `reclaim: try_to_swap_out pid 1 0x40001000 (frame 0x123000): young, kept (kswapd)`
/// or `… (direct reclaim by pid 1)`; for a shmem page sent to swap
/// `reclaim: shmem_writepage index 5 (frame 0x123000): written to slot 17 (kswapd)`.
pub(crate) fn write_reclaim(out: &mut Out, ev: &growsdown_kernel::trace::ReclaimEvent) {
    use growsdown_kernel::trace::ReclaimWhat;
    if let ReclaimWhat::ShmemWritepage { index, slot } = ev.what {
        out.put(b"reclaim: shmem_writepage index ");
        dec(out, u64::from(index));
        out.put(b" (frame ");
        hex0x(out, ev.frame);
        out.put(b"): written to slot ");
        dec(out, u64::from(slot));
        write_reclaimer(out, ev.by);
        out.byte(b'\n');
        return;
    }
    out.put(b"reclaim: try_to_swap_out pid ");
    dec(out, u64::from(ev.pid));
    out.byte(b' ');
    hex0x(out, ev.address);
    out.put(b" (frame ");
    hex0x(out, ev.frame);
    out.put(b"): ");
    match ev.what {
        ReclaimWhat::Young => out.put(b"young, kept"),
        ReclaimWhat::Dropped => out.put(b"page-cache page dropped"),
        ReclaimWhat::ShmemUnmapped => out.put(b"shmem page unmapped, kept by its object"),
        // Written above.
        ReclaimWhat::ShmemWritepage { .. } => {}
        ReclaimWhat::Swapped { slot } => {
            out.put(b"written to slot ");
            dec(out, u64::from(slot));
        }
        ReclaimWhat::SwapCache { slot } => {
            out.put(b"already in the swap cache, slot ");
            dec(out, u64::from(slot));
        }
    }
    write_reclaimer(out, ev.by);
    out.byte(b'\n');
}

/// Who made a reclaim decision, at the end of its line: ` (kswapd)` or
/// ` (direct reclaim by pid N)`.
fn write_reclaimer(out: &mut Out, by: growsdown_kernel::trace::ReclaimBy) {
    use growsdown_kernel::trace::ReclaimBy;
    match by {
        ReclaimBy::Kswapd => out.put(b" (kswapd)"),
        ReclaimBy::Direct { pid } => {
            out.put(b" (direct reclaim by pid ");
            dec(out, u64::from(pid));
            out.byte(b')');
        }
    }
}

/// A swapoff's `try_to_unuse`, one line:
/// `swapoff: try_to_unuse pid 1000: 2048 slots in use, 2048 pages read back, 0 left`.
pub(crate) fn write_unuse(out: &mut Out, ev: &growsdown_kernel::trace::UnuseEvent) {
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
    out.put_slice(s.as_bytes());
}

/// Appends the text of [`record`] for the fault `ev`, whose steps `steps` gives
/// (`ev.path`, or for a fault rendered from its packed record the steps decoded from
/// it), scanned into `scan`, and its instruction `insn` to `out`. `memo` is kept by
/// the caller from record to record; `marks` gets the places of the numbers that
/// change from fault to fault (`template`), from where `marks.begin` was called.
pub(crate) fn write_record<S: Iterator<Item = Step> + Clone>(
    out: &mut Out,
    ev: &FaultEvent,
    steps: S,
    scan: &Scan,
    insn: &str,
    memo: &mut Memo,
    marks: &mut Marks,
) {
    out.put(b"fault #");
    let at = out.len();
    memo.seq.dec(out, ev.seq);
    marks.hole(Hole::Seq, at, out);
    out.put(b"  pid ");
    dec(out, u64::from(ev.pid));
    // Only where it says something: a process's first thread has tid == pid, and
    // the traces of single-threaded programs read as they always have.
    if ev.tid != ev.pid {
        out.put(b"  tid ");
        dec(out, u64::from(ev.tid));
    }
    out.put(b"  icount ");
    let at = out.len();
    memo.icount.dec(out, ev.icount);
    marks.hole(Hole::Icount, at, out);
    out.put(b"  eip ");
    // An unset entry holds no digits: every written one starts with `0x`.
    if memo.eip.0 != ev.eip || memo.eip.1[0] == 0 {
        memo.eip = (ev.eip, hex0x8_digits(ev.eip));
    }
    out.put(&memo.eip.1);
    out.put(b"  ");
    out.put_slice(insn.as_bytes());

    out.put(b"\n  cr2 0x");
    let at = out.len();
    out.put(&hex8_digits(ev.cr2));
    marks.hole(Hole::Cr2, at, out);
    let key = (ev.error_code, ev.esp, ev.vma);
    let middle = match &mut memo.middle[(ev.error_code & 7) as usize | usize::from(ev.kernel_mode) << 3] {
        Some((k, line)) if *k == key => line,
        entry => {
            let (k, line) = entry.get_or_insert_with(|| (key, Out::default()));
            *k = key;
            line.clear();
            write_middle(line, ev);
            line
        }
    };
    out.put_slice(middle.as_bytes());

    memo.chains.write(out, scan.code, steps.clone());

    for s in steps {
        write_step_line(out, &s, memo, marks);
    }

    RESULT_LINES[result_kind(ev.result)].put(out);
    match ev.result {
        FaultResult::SigSegv { si_code } => {
            out.put(b" SIGSEGV ");
            write_si_code_name(out, si_code, true);
        }
        FaultResult::SigBus { si_code } => {
            out.put(b" SIGBUS ");
            write_si_code_name(out, si_code, false);
        }
        _ => {}
    }
    out.put(b"  (min_flt ");
    let at = out.len();
    memo.min_flt.dec(out, ev.min_flt);
    marks.hole(Hole::MinFlt, at, out);
    out.put(b", maj_flt ");
    let at = out.len();
    memo.maj_flt.dec(out, ev.maj_flt);
    marks.hole(Hole::MajFlt, at, out);
    out.put(b")\n");
}

/// The part of a record from `  error` to the end of the VMA line.
fn write_middle(o: &mut Out, ev: &FaultEvent) {
    o.put(b"  error ");
    dec(o, u64::from(ev.error_code));
    ERROR_WORDS[(ev.error_code & 7) as usize].put(o);
    if ev.kernel_mode {
        o.put(b" (kernel accessing user memory)");
    }
    o.put(b"  esp ");
    hex0x8(o, ev.esp);
    match ev.vma {
        Some((s, e, f)) => {
            o.put(b"\n  vma ");
            o.put(&vma_range(s, e, f));
            if is_growsdown(f) {
                o.put(b" GROWSDOWN");
            }
            o.byte(b'\n');
        }
        None => o.put(b"\n  vma none\n"),
    }
}

/// An OOM kill: the faulting process, each candidate's `badness()` with its inputs,
/// the victim and the signal.
pub(crate) fn write_oom(out: &mut Out, ev: &OomEvent) {
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
    out.put_slice(s.as_bytes());
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
        let mut memo = Memo::default();
        for ev in
            crate::jsonl::tests::events().into_iter().chain(crate::jsonl::tests::events().into_iter().rev())
        {
            let r = Record { ev, insn: "mov [eax+4], edx".into() };
            let mut got = Out::with_capacity(4);
            got.put(b"previous\n");
            write_whole(&mut got, &r, &mut memo);
            assert_eq!(got.into_string(), format!("previous\n{}", reference(&r)));
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
