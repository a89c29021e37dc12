//! The JSONL format: one JSON object per fault, field names documented in
//! docs/trace-format.md and kept stable.
//!
//! A fault line is written by hand ([`write_record`]): through serde it cost tens of
//! thousands of host instructions per fault, more than emulating a fault-heavy guest.
//! The record structs it was serialized from are kept, for the tests, as the statement
//! of what the line must be: their field order is the documented order of the keys,
//! and a test checks that the hand-written line is what serde_json makes of them. The
//! summary, written once, is still serialized by serde_json. The kernel crate itself
//! knows nothing of serde.

use std::io;

use serde::{Serialize, Serializer};
use serde_json::ser::{CharEscape, Formatter};

use super::out::{dec, dec_i32, hex0x8_digits, json_str, perms, Out, Padded};
use super::template::{Hole, Marks};
#[cfg(test)]
use super::{error_words, vma_perms};
use super::{is_growsdown, result_name, result_si_code, step_index, Record, Summary};
use growsdown_kernel::trace::{FaultEvent, OomEvent, Step};

#[cfg(test)]
/// An address, written as the string `"0x%08x"`.
#[derive(Clone, Copy, Debug)]
struct Hex(u32);

#[cfg(test)]
impl Serialize for Hex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{:#010x}", self.0))
    }
}

/// `(key, count)` pairs written as a JSON object, in the order given.
struct Counts<'a, K>(&'a [(K, u64)]);

impl<K: AsRef<str>> Serialize for Counts<'_, K> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, c)| (k.as_ref(), c)))
    }
}

#[cfg(test)]
/// A fault record (`"type": "fault"`).
#[derive(Serialize)]
struct FaultLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    seq: u64,
    pid: u32,
    icount: u64,
    eip: Hex,
    insn: &'a str,
    cr2: Hex,
    error_code: u32,
    error: ErrorWords,
    kernel_mode: bool,
    esp: Hex,
    vma: Option<FaultVma>,
    path: Vec<StepLine>,
    result: &'static str,
    si_code: Option<i32>,
    min_flt: u64,
    maj_flt: u64,
    tid: u32,
    mem: MemLine,
}

#[cfg(test)]
/// The machine's memory counters after an event (`"mem"`).
#[derive(Serialize)]
struct MemLine {
    rss: u64,
    pswpin: u64,
    pswpout: u64,
}

#[cfg(test)]
/// The error code's bits in words.
#[derive(Serialize)]
struct ErrorWords {
    access: &'static str,
    cause: &'static str,
    mode: &'static str,
}

#[cfg(test)]
/// The VMA of a fault record (after any stack expansion).
#[derive(Serialize)]
struct FaultVma {
    start: Hex,
    end: Hex,
    flags: String,
    growsdown: bool,
}

#[cfg(test)]
/// The VMA `find_vma` returned, in a path step.
#[derive(Serialize)]
struct StepVma {
    start: Hex,
    end: Hex,
    flags: String,
}

#[cfg(test)]
/// One path step: `{"fn": name, …decision}`. The variant names are the `fn` values;
/// [`step_line`] maps each kernel [`Step`] to its line, and the unit test below checks
/// that every `fn` written is the name [`crate::step_function`] gives.
#[derive(Serialize)]
#[serde(tag = "fn", rename_all = "snake_case")]
enum StepLine {
    DoPageFault { address: Hex, error_code: u32, user: bool },
    FindVma { vma: Option<StepVma> },
    EspCheck { esp: Hex, ok: bool },
    ExpandStack { old_start: Hex, new_start: Hex, ok: bool },
    GoodArea { write: bool },
    HandleMmFault,
    PteAlloc { table: Hex },
    HandlePteFault { pte: Hex },
    DoNoPage { file_page: u32, early_cow: bool },
    DoAnonymousPage { zero_page: bool, frame: Hex },
    DoWpPage { action: &'static str, from_zero_page: bool, frame: Hex },
    EstablishPte,
    BadArea { reason: &'static str, si_code: i32 },
    NoContext,
    DoSigbus,
    OutOfMemory,
    FindGetPage { hit: bool },
    OomKill { victim: u32 },
    DoSwapPage { slot: u32, swap_cache: &'static str, frame: Hex },
    ShmemGetpage { slot: u32, swap_cache: &'static str, frame: Hex },
}

#[cfg(test)]
fn step_line(s: &Step) -> StepLine {
    match *s {
        Step::DoPageFault { address, error_code, user } => {
            StepLine::DoPageFault { address: Hex(address), error_code, user }
        }
        Step::FindVma { vma } => StepLine::FindVma {
            vma: vma.map(|(a, b, fl)| StepVma { start: Hex(a), end: Hex(b), flags: vma_perms(fl) }),
        },
        Step::EspCheck { esp, ok } => StepLine::EspCheck { esp: Hex(esp), ok },
        Step::ExpandStack { old_start, new_start, ok } => {
            StepLine::ExpandStack { old_start: Hex(old_start), new_start: Hex(new_start), ok }
        }
        Step::GoodArea { write } => StepLine::GoodArea { write },
        Step::HandleMmFault => StepLine::HandleMmFault,
        Step::PteAlloc { table } => StepLine::PteAlloc { table: Hex(table) },
        Step::HandlePteFault { pte } => StepLine::HandlePteFault { pte: Hex(pte) },
        Step::DoNoPage { file_page, early_cow } => StepLine::DoNoPage { file_page, early_cow },
        Step::FindGetPage { hit } => StepLine::FindGetPage { hit },
        Step::DoAnonymousPage { zero_page, frame } => {
            StepLine::DoAnonymousPage { zero_page, frame: Hex(frame) }
        }
        Step::DoWpPage { copied, from_zero_page, frame } => StepLine::DoWpPage {
            action: if copied { "copy" } else { "reuse" },
            from_zero_page,
            frame: Hex(frame),
        },
        Step::Spurious => StepLine::EstablishPte,
        Step::BadArea { reason, si_code } => StepLine::BadArea { reason, si_code },
        Step::NoContextFixup => StepLine::NoContext,
        Step::SigBus => StepLine::DoSigbus,
        Step::OutOfMemory => StepLine::OutOfMemory,
        Step::OomKill { victim } => StepLine::OomKill { victim },
        Step::DoSwapPage { slot, cached, frame } => {
            StepLine::DoSwapPage { slot, swap_cache: if cached { "hit" } else { "read" }, frame: Hex(frame) }
        }
        Step::ShmemGetpage { slot, cached, frame } => StepLine::ShmemGetpage {
            slot,
            swap_cache: if cached { "hit" } else { "read" },
            frame: Hex(frame),
        },
    }
}

/// The summary, the last line (`"type": "summary"`).
#[derive(Serialize)]
struct SummaryLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    faults: u64,
    by_result: Counts<'a, &'static str>,
    by_path: Counts<'a, String>,
    stack_expansions: u64,
    pages_allocated: u64,
    page_tables: u64,
    zero_page_maps: u64,
    cow_copies: u64,
    cow_reuses: u64,
    /// Only when there were any, so that the summaries of other runs stay as they were.
    #[serde(skip_serializing_if = "is_zero")]
    oom_kills: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// An OOM kill (`"type": "oom_kill"`).
#[derive(Serialize)]
struct OomLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    seq: u64,
    pid: u32,
    tid: u32,
    machine_icount: u64,
    candidates: Vec<OomCandidateLine>,
    victim: Option<u32>,
    victim_badness: Option<u32>,
    signal: Option<&'static str>,
    killed: &'a [u32],
}

/// One candidate's `badness()` and what it was computed from.
#[derive(Serialize)]
struct OomCandidateLine {
    pid: u32,
    tid: u32,
    total_vm: u32,
    cpu_time: u32,
    run_time: u32,
    nice: i32,
    root: bool,
    rawio: bool,
    memdie: bool,
    badness: u32,
}

/// The line of an OOM kill (docs/trace-format.md).
pub fn oom_line(ev: &OomEvent) -> String {
    line(&OomLine {
        kind: "oom_kill",
        seq: ev.seq,
        pid: ev.pid,
        tid: ev.tid,
        machine_icount: ev.machine_icount,
        candidates: ev
            .candidates
            .iter()
            .map(|c| OomCandidateLine {
                pid: c.tgid,
                tid: c.pid,
                total_vm: c.total_vm,
                cpu_time: c.cpu_time,
                run_time: c.run_time,
                nice: c.nice,
                root: c.root,
                rawio: c.rawio,
                memdie: c.memdie,
                badness: c.points,
            })
            .collect(),
        victim: ev.victim.map(|v| v.tgid),
        victim_badness: ev.victim.map(|v| v.points),
        signal: ev.victim.map(|_| growsdown_kernel::signal::signal_name(ev.signo)),
        killed: &ev.killed,
    })
}

/// serde_json's compact output, except that backspace and form feed are written
/// `\u0008` and `\u000c` (not `\b` and `\f`), as the format always wrote them.
pub(crate) struct Compact;

impl Formatter for Compact {
    fn write_char_escape<W: ?Sized + io::Write>(&mut self, w: &mut W, e: CharEscape) -> io::Result<()> {
        match e {
            CharEscape::Backspace => w.write_all(b"\\u0008"),
            CharEscape::FormFeed => w.write_all(b"\\u000c"),
            e => serde_json::ser::CompactFormatter.write_char_escape(w, e),
        }
    }
}

/// One line of JSON (without the newline).
fn line<T: Serialize>(v: &T) -> String {
    let mut out = Vec::with_capacity(256);
    v.serialize(&mut serde_json::Serializer::with_formatter(&mut out, Compact))
        .expect("the trace records always serialize");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

#[cfg(test)]
fn fault_line<'a>(ev: &FaultEvent, insn: &'a str) -> FaultLine<'a> {
    let (access, cause, mode) = error_words(ev.error_code);
    FaultLine {
        kind: "fault",
        seq: ev.seq,
        pid: ev.pid,
        icount: ev.icount,
        eip: Hex(ev.eip),
        insn,
        cr2: Hex(ev.cr2),
        error_code: ev.error_code,
        error: ErrorWords { access, cause, mode },
        kernel_mode: ev.kernel_mode,
        esp: Hex(ev.esp),
        vma: ev.vma.map(|(s, e, f)| FaultVma {
            start: Hex(s),
            end: Hex(e),
            flags: vma_perms(f),
            growsdown: is_growsdown(f),
        }),
        path: ev.path.iter().map(step_line).collect(),
        result: result_name(ev.result),
        si_code: result_si_code(ev.result),
        min_flt: ev.min_flt,
        maj_flt: ev.maj_flt,
        tid: ev.tid,
        mem: MemLine { rss: ev.mem.rss, pswpin: ev.mem.pswpin, pswpout: ev.mem.pswpout },
    }
}

pub fn record(r: &Record) -> String {
    let mut out = Out::default();
    write_record(&mut out, &r.ev, r.ev.path.iter().copied(), &r.insn, &mut Marks::default());
    out.into_string()
}

/// One reclaim decision: `{"type":"reclaim","fn":"try_to_swap_out",…}`
/// (docs/trace-format.md).
pub(crate) fn write_reclaim(out: &mut Out, ev: &growsdown_kernel::trace::ReclaimEvent) {
    use growsdown_kernel::trace::{ReclaimBy, ReclaimWhat};
    out.put_slice(if matches!(ev.what, ReclaimWhat::ShmemWritepage { .. }) {
        br#"{"type":"reclaim","fn":"shmem_writepage","machine_icount":"#
    } else {
        br#"{"type":"reclaim","fn":"try_to_swap_out","machine_icount":"#
    });
    dec(out, ev.machine_icount);
    out.put(br#","pid":"#);
    dec(out, u64::from(ev.pid));
    out.put(br#","address":"#);
    hex_str(out, ev.address);
    out.put(br#","frame":"#);
    hex_str(out, ev.frame);
    match ev.what {
        ReclaimWhat::Young => out.put(br#","decision":"young","slot":null"#),
        ReclaimWhat::Dropped => out.put(br#","decision":"dropped","slot":null"#),
        ReclaimWhat::ShmemUnmapped => out.put(br#","decision":"shmem_unmapped","slot":null"#),
        ReclaimWhat::ShmemWritepage { index, slot } => {
            out.put(br#","decision":"swapped","slot":"#);
            dec(out, u64::from(slot));
            out.put(br#","index":"#);
            dec(out, u64::from(index));
        }
        ReclaimWhat::Swapped { slot } => {
            out.put(br#","decision":"swapped","slot":"#);
            dec(out, u64::from(slot));
        }
        ReclaimWhat::SwapCache { slot } => {
            out.put(br#","decision":"swap_cache","slot":"#);
            dec(out, u64::from(slot));
        }
    }
    match ev.by {
        ReclaimBy::Kswapd => out.put(br#","by":"kswapd","by_pid":null"#),
        ReclaimBy::Direct { pid } => {
            out.put(br#","by":"direct","by_pid":"#);
            dec(out, u64::from(pid));
        }
    }
    write_mem(out, &ev.mem, &mut Marks::default());
    out.byte(b'}');
}

/// Appends the line of [`record`] (without the newline) for the fault `ev`, whose
/// steps `steps` gives (`ev.path`, or for a fault rendered from its packed record the
/// steps decoded from it), and its instruction `insn` to `out`.
pub(crate) fn write_record(
    out: &mut Out,
    ev: &FaultEvent,
    steps: impl Iterator<Item = Step>,
    insn: &str,
    marks: &mut Marks,
) {
    out.put(br#"{"type":"fault","seq":"#);
    dec_marked(out, ev.seq, Hole::Seq, marks);
    out.put(br#","pid":"#);
    dec(out, u64::from(ev.pid));
    out.put(br#","icount":"#);
    dec_marked(out, ev.icount, Hole::Icount, marks);
    out.put(br#","eip":"#);
    hex_str(out, ev.eip);
    out.put(br#","insn":"#);
    json_str(out, insn);
    out.put(br#","cr2":"#);
    hex_str_marked(out, ev.cr2, Hole::Cr2, marks);
    out.put(br#","error_code":"#);
    dec(out, u64::from(ev.error_code));
    ERROR_OBJECTS[(ev.error_code & 7) as usize].put(out);
    bool(out, ev.kernel_mode);
    out.put(br#","esp":"#);
    hex_str(out, ev.esp);
    out.put(br#","vma":"#);
    match ev.vma {
        Some((s, e, f)) => {
            vma(out, s, e, f);
            out.put(br#","growsdown":"#);
            bool(out, is_growsdown(f));
            out.byte(b'}');
        }
        None => out.put(b"null"),
    }
    out.put(br#","path":["#);
    for (i, s) in steps.enumerate() {
        if i > 0 {
            out.byte(b',');
        }
        write_step(out, &s, marks);
    }
    out.put(br#"],"result":""#);
    out.put_slice(result_name(ev.result).as_bytes());
    out.put(br#"","si_code":"#);
    match result_si_code(ev.result) {
        Some(c) => dec_i32(out, c),
        None => out.put(b"null"),
    }
    out.put(br#","min_flt":"#);
    dec_marked(out, ev.min_flt, Hole::MinFlt, marks);
    out.put(br#","maj_flt":"#);
    dec_marked(out, ev.maj_flt, Hole::MajFlt, marks);
    // Last, as the format adds fields: readers that index by position still work.
    out.put(br#","tid":"#);
    dec(out, u64::from(ev.tid));
    write_mem(out, &ev.mem, marks);
    out.byte(b'}');
}

/// [`dec`], its digits marked as `hole`.
fn dec_marked(out: &mut Out, v: u64, hole: Hole, marks: &mut Marks) {
    let at = out.len();
    dec(out, v);
    marks.hole(hole, at, out);
}

/// [`hex_str`], its eight digits marked as `hole`.
fn hex_str_marked(out: &mut Out, v: u32, hole: Hole, marks: &mut Marks) {
    let at = out.len() + 3;
    hex_str(out, v);
    marks.hole(hole, at, out);
    // The closing quote is not the hole's.
    marks.shorten(hole, 1);
}

/// A swapoff's `try_to_unuse`: `{"type":"unuse","fn":"try_to_unuse",…}`
/// (docs/trace-format.md).
pub(crate) fn write_unuse(out: &mut Out, ev: &growsdown_kernel::trace::UnuseEvent) {
    out.put(br#"{"type":"unuse","fn":"try_to_unuse","machine_icount":"#);
    dec(out, ev.machine_icount);
    out.put(br#","pid":"#);
    dec(out, u64::from(ev.pid));
    out.put(br#","slots_before":"#);
    dec(out, u64::from(ev.slots_before));
    out.put(br#","pages_read":"#);
    dec(out, ev.pages_read);
    out.put(br#","slots_after":"#);
    dec(out, u64::from(ev.slots_after));
    out.put(br#","result":""#);
    out.put_slice(match ev.errno {
        0 => b"ok",
        e => growsdown_kernel::syscall::errno_name(e).as_bytes(),
    });
    out.byte(b'"');
    write_mem(out, &ev.mem, &mut Marks::default());
    out.byte(b'}');
}

/// `,"mem":{"rss":…,"pswpin":…,"pswpout":…}`: the memory counters after an event,
/// the SVG's curves (docs/trace-format.md); their digits marked as holes (a fault
/// record's template uses them).
fn write_mem(out: &mut Out, m: &growsdown_kernel::trace::MemCounts, marks: &mut Marks) {
    out.put(br#","mem":{"rss":"#);
    dec_marked(out, m.rss, Hole::Rss, marks);
    out.put(br#","pswpin":"#);
    dec_marked(out, m.pswpin, Hole::PswpIn, marks);
    out.put(br#","pswpout":"#);
    dec_marked(out, m.pswpout, Hole::PswpOut, marks);
    out.byte(b'}');
}

/// An address as the string `"0x%08x"`.
fn hex_str(out: &mut Out, v: u32) {
    let d = hex0x8_digits(v);
    out.put(&[b'"', d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], b'"']);
}

fn bool(out: &mut Out, b: bool) {
    out.put_slice(if b { b"true" } else { b"false" });
}

/// `{"start":…,"end":…,"flags":…` — left open for a fault record's `growsdown`.
fn vma(out: &mut Out, start: u32, end: u32, flags: u32) {
    out.put(br#"{"start":"#);
    hex_str(out, start);
    out.put(br#","end":"#);
    hex_str(out, end);
    out.put(br#","flags":""#);
    out.put(&perms(flags));
    out.byte(b'"');
}

/// The start of a path step's object, by [`step_index`]: `{"fn":` and the name.
const STEP_STARTS: [Padded<32>; crate::FUNCTIONS.len()] = [
    Padded::new(br#"{"fn":"do_page_fault""#),
    Padded::new(br#"{"fn":"find_vma""#),
    Padded::new(br#"{"fn":"esp_check""#),
    Padded::new(br#"{"fn":"expand_stack""#),
    Padded::new(br#"{"fn":"good_area""#),
    Padded::new(br#"{"fn":"handle_mm_fault""#),
    Padded::new(br#"{"fn":"pte_alloc""#),
    Padded::new(br#"{"fn":"handle_pte_fault""#),
    Padded::new(br#"{"fn":"do_no_page""#),
    Padded::new(br#"{"fn":"do_anonymous_page""#),
    Padded::new(br#"{"fn":"do_wp_page""#),
    Padded::new(br#"{"fn":"establish_pte""#),
    Padded::new(br#"{"fn":"bad_area""#),
    Padded::new(br#"{"fn":"no_context""#),
    Padded::new(br#"{"fn":"do_sigbus""#),
    Padded::new(br#"{"fn":"out_of_memory""#),
    Padded::new(br#"{"fn":"find_get_page""#),
    Padded::new(br#"{"fn":"oom_kill""#),
    Padded::new(br#"{"fn":"do_swap_page""#),
    Padded::new(br#"{"fn":"shmem_getpage""#),
];

/// `"error":{…}` with the error code's words, by its low three bits, from the comma
/// before to the comma after.
const ERROR_OBJECTS: [Padded<96>; 8] = [
    Padded::new(br#","error":{"access":"read","cause":"not-present","mode":"kernel"},"kernel_mode":"#),
    Padded::new(br#","error":{"access":"read","cause":"protection","mode":"kernel"},"kernel_mode":"#),
    Padded::new(br#","error":{"access":"write","cause":"not-present","mode":"kernel"},"kernel_mode":"#),
    Padded::new(br#","error":{"access":"write","cause":"protection","mode":"kernel"},"kernel_mode":"#),
    Padded::new(br#","error":{"access":"read","cause":"not-present","mode":"user"},"kernel_mode":"#),
    Padded::new(br#","error":{"access":"read","cause":"protection","mode":"user"},"kernel_mode":"#),
    Padded::new(br#","error":{"access":"write","cause":"not-present","mode":"user"},"kernel_mode":"#),
    Padded::new(br#","error":{"access":"write","cause":"protection","mode":"user"},"kernel_mode":"#),
];

/// One path step: `{"fn": name, …decision}`, the name being [`crate::step_function`]'s.
/// The fault's address (`do_page_fault`'s) and the frame of `do_anonymous_page` and
/// `do_wp_page` are marked as holes in `marks`.
fn write_step(out: &mut Out, s: &Step, marks: &mut Marks) {
    STEP_STARTS[usize::from(step_index(s))].put(out);
    match *s {
        Step::DoPageFault { address, error_code, user } => {
            out.put(br#","address":"#);
            hex_str_marked(out, address, Hole::Address, marks);
            out.put(br#","error_code":"#);
            dec(out, u64::from(error_code));
            out.put(br#","user":"#);
            bool(out, user);
        }
        Step::FindVma { vma: v } => {
            out.put(br#","vma":"#);
            match v {
                Some((a, b, f)) => {
                    vma(out, a, b, f);
                    out.byte(b'}');
                }
                None => out.put(b"null"),
            }
        }
        Step::EspCheck { esp, ok } => {
            out.put(br#","esp":"#);
            hex_str(out, esp);
            out.put(br#","ok":"#);
            bool(out, ok);
        }
        Step::ExpandStack { old_start, new_start, ok } => {
            out.put(br#","old_start":"#);
            hex_str(out, old_start);
            out.put(br#","new_start":"#);
            hex_str(out, new_start);
            out.put(br#","ok":"#);
            bool(out, ok);
        }
        Step::GoodArea { write } => {
            out.put(br#","write":"#);
            bool(out, write);
        }
        Step::PteAlloc { table } => {
            out.put(br#","table":"#);
            hex_str(out, table);
        }
        Step::HandlePteFault { pte } => {
            out.put(br#","pte":"#);
            hex_str(out, pte);
        }
        Step::FindGetPage { hit } => {
            out.put(br#","hit":"#);
            bool(out, hit);
        }
        Step::OomKill { victim } => {
            out.put(br#","victim":"#);
            dec(out, u64::from(victim));
        }
        Step::DoNoPage { file_page, early_cow } => {
            out.put(br#","file_page":"#);
            dec(out, u64::from(file_page));
            out.put(br#","early_cow":"#);
            bool(out, early_cow);
        }
        Step::DoAnonymousPage { zero_page, frame } => {
            out.put(br#","zero_page":"#);
            bool(out, zero_page);
            out.put(br#","frame":"#);
            marks.frame_fixed();
            hex_str_marked(out, frame, Hole::Frame, marks);
        }
        Step::DoWpPage { copied, from_zero_page, frame } => {
            out.put_slice(if copied { br#","action":"copy""# } else { br#","action":"reuse""# });
            out.put(br#","from_zero_page":"#);
            bool(out, from_zero_page);
            out.put(br#","frame":"#);
            marks.frame_fixed();
            hex_str_marked(out, frame, Hole::Frame, marks);
        }
        Step::BadArea { reason, si_code } => {
            out.put(br#","reason":"#);
            json_str(out, reason);
            out.put(br#","si_code":"#);
            dec_i32(out, si_code);
        }
        Step::DoSwapPage { slot, cached, frame } | Step::ShmemGetpage { slot, cached, frame } => {
            out.put(br#","slot":"#);
            dec(out, u64::from(slot));
            out.put_slice(if cached { br#","swap_cache":"hit""# } else { br#","swap_cache":"read""# });
            out.put(br#","frame":"#);
            hex_str(out, frame);
        }
        Step::HandleMmFault | Step::Spurious | Step::NoContextFixup | Step::SigBus | Step::OutOfMemory => {}
    }
    out.byte(b'}');
}

pub fn summary(s: &Summary) -> String {
    line(&SummaryLine {
        kind: "summary",
        faults: s.total,
        by_result: Counts(&s.by_result),
        by_path: Counts(&s.by_path),
        stack_expansions: s.stack_expansions,
        pages_allocated: s.pages_allocated,
        page_tables: s.page_tables,
        zero_page_maps: s.zero_page_maps,
        cow_copies: s.cow_copies,
        cow_reuses: s.cow_reuses,
        oom_kills: s.oom_kills,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::step_function;
    use super::*;

    #[test]
    fn the_tables_say_what_the_names_say() {
        for (i, name) in crate::FUNCTIONS.iter().enumerate() {
            assert_eq!(STEP_STARTS[i].as_bytes(), format!(r#"{{"fn":"{name}""#).as_bytes());
        }
        for code in 0..8 {
            let (access, cause, mode) = error_words(code);
            let want = format!(
                r#","error":{{"access":"{access}","cause":"{cause}","mode":"{mode}"}},"kernel_mode":"#
            );
            assert_eq!(ERROR_OBJECTS[code as usize].as_bytes(), want.as_bytes());
        }
    }

    /// One step of each kind.
    fn every_step() -> Vec<Step> {
        vec![
            Step::DoPageFault { address: 0xbfff_effc, error_code: 6, user: true },
            Step::FindVma { vma: Some((0xbfff_f000, 0xc000_0000, 0x0100_0173)) },
            Step::FindVma { vma: None },
            Step::EspCheck { esp: 0xbfff_f000, ok: true },
            Step::ExpandStack { old_start: 0xbfff_f000, new_start: 0xbfff_e000, ok: false },
            Step::GoodArea { write: true },
            Step::HandleMmFault,
            Step::PteAlloc { table: 0x3000 },
            Step::HandlePteFault { pte: 0 },
            Step::DoNoPage { file_page: 7, early_cow: true },
            Step::DoAnonymousPage { zero_page: false, frame: 0x1f_3000 },
            Step::DoWpPage { copied: true, from_zero_page: true, frame: 0x20_0000 },
            Step::DoWpPage { copied: false, from_zero_page: false, frame: 0x20_0000 },
            Step::Spurious,
            Step::BadArea { reason: "no vma", si_code: 1 },
            Step::NoContextFixup,
            Step::SigBus,
            Step::OutOfMemory,
            Step::OomKill { victim: 1001 },
            Step::DoSwapPage { slot: 17, cached: false, frame: 0x5f_3000 },
            Step::DoSwapPage { slot: 3, cached: true, frame: 0x1000 },
            Step::ShmemGetpage { slot: 9, cached: false, frame: 0x2000 },
        ]
    }

    #[test]
    fn every_step_is_written_under_its_function_name_first() {
        for s in every_step() {
            let l = line(&step_line(&s));
            let want = format!("{{\"fn\":\"{}\"", step_function(&s));
            assert!(l.starts_with(&want), "{s:?} was written {l}");
        }
    }

    #[test]
    fn steps_are_written_as_documented() {
        let got: Vec<String> = every_step().iter().map(|s| line(&step_line(s))).collect();
        let want = [
            r#"{"fn":"do_page_fault","address":"0xbfffeffc","error_code":6,"user":true}"#.to_string(),
            format!(
                r#"{{"fn":"find_vma","vma":{{"start":"0xbffff000","end":"0xc0000000","flags":"{}"}}}}"#,
                vma_perms(0x0100_0173)
            ),
            r#"{"fn":"find_vma","vma":null}"#.into(),
            r#"{"fn":"esp_check","esp":"0xbffff000","ok":true}"#.into(),
            r#"{"fn":"expand_stack","old_start":"0xbffff000","new_start":"0xbfffe000","ok":false}"#.into(),
            r#"{"fn":"good_area","write":true}"#.into(),
            r#"{"fn":"handle_mm_fault"}"#.into(),
            r#"{"fn":"pte_alloc","table":"0x00003000"}"#.into(),
            r#"{"fn":"handle_pte_fault","pte":"0x00000000"}"#.into(),
            r#"{"fn":"do_no_page","file_page":7,"early_cow":true}"#.into(),
            r#"{"fn":"do_anonymous_page","zero_page":false,"frame":"0x001f3000"}"#.into(),
            r#"{"fn":"do_wp_page","action":"copy","from_zero_page":true,"frame":"0x00200000"}"#.into(),
            r#"{"fn":"do_wp_page","action":"reuse","from_zero_page":false,"frame":"0x00200000"}"#.into(),
            r#"{"fn":"establish_pte"}"#.into(),
            r#"{"fn":"bad_area","reason":"no vma","si_code":1}"#.into(),
            r#"{"fn":"no_context"}"#.into(),
            r#"{"fn":"do_sigbus"}"#.into(),
            r#"{"fn":"out_of_memory"}"#.into(),
            r#"{"fn":"oom_kill","victim":1001}"#.into(),
            r#"{"fn":"do_swap_page","slot":17,"swap_cache":"read","frame":"0x005f3000"}"#.into(),
            r#"{"fn":"do_swap_page","slot":3,"swap_cache":"hit","frame":"0x00001000"}"#.into(),
            r#"{"fn":"shmem_getpage","slot":9,"swap_cache":"read","frame":"0x00002000"}"#.into(),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn strings_are_escaped_as_before() {
        // Every control character as \uXXXX except the four short forms the format
        // has always used; quotes and backslashes escaped; other characters as is.
        let s = "a\"b\\c\nd\re\tf\u{8}g\u{c}h\u{1}i\u{1f}j\u{7f}k/é";
        assert_eq!(line(&s), r#""a\"b\\c\nd\re\tf\u0008g\u000ch\u0001i\u001fj"#.to_string() + "\u{7f}k/é\"");
    }

    /// Faults covering every step, every result and both kinds of VMA.
    pub(crate) fn events() -> Vec<FaultEvent> {
        use growsdown_kernel::trace::FaultResult;
        let results = [
            FaultResult::Minor,
            FaultResult::Major,
            FaultResult::SigSegv { si_code: 2 },
            FaultResult::SigBus { si_code: -3 },
            FaultResult::Efault,
            FaultResult::Oom,
            FaultResult::OomRetry,
        ];
        let vmas =
            [None, Some((0xbfff_e000, 0xc000_0000, 0x0100_0173)), Some((0x0804_8000, 0x0804_9000, 0x75))];
        let mut out = Vec::new();
        for (i, result) in results.into_iter().enumerate() {
            let steps = every_step();
            out.push(FaultEvent {
                seq: i as u64 + 1,
                pid: 4_000_000_000,
                tid: if i % 2 == 0 { 4_000_000_000 } else { 4_000_000_001 + i as u32 },
                icount: u64::MAX - i as u64,
                machine_icount: u64::MAX - i as u64,
                eip: 0x0806_d7d7,
                esp: 0xbfff_f000,
                cr2: 0,
                error_code: i as u32,
                kernel_mode: i % 2 == 1,
                vma: vmas[i % 3],
                path: steps[i..].iter().chain(&steps[..i]).cloned().collect(),
                result,
                min_flt: 0,
                maj_flt: 1 << 40,
                mem: growsdown_kernel::trace::MemCounts { rss: i as u64, pswpin: 1 << 33, pswpout: 7 },
            });
        }
        out.push(FaultEvent { path: Vec::new(), ..out[0].clone() });
        out
    }

    #[test]
    fn fault_lines_are_what_serde_makes_of_the_record_structs() {
        for ev in events() {
            for insn in ["rep stosd [edi]", "int 0x80 (execve)", "a\"b\\c\n\u{8}é"] {
                let mut got = Out::with_capacity(4);
                got.put(b"previous line\n");
                write_record(&mut got, &ev, ev.path.iter().copied(), insn, &mut Marks::default());
                let want = format!("previous line\n{}", line(&fault_line(&ev, insn)));
                assert_eq!(got.into_string(), want);
            }
        }
    }

    #[test]
    fn every_step_is_written_by_hand_as_serde_writes_it() {
        for s in every_step() {
            let mut got = Out::default();
            write_step(&mut got, &s, &mut Marks::default());
            assert_eq!(got.into_string(), line(&step_line(&s)));
        }
    }

    #[test]
    fn summary_keeps_the_order_of_its_counts() {
        let s = Summary {
            total: 3,
            by_result: vec![("minor", 2), ("major", 1)],
            by_path: vec![("do_page_fault -> b".into(), 2), ("a \"q\"".into(), 1)],
            stack_expansions: 1,
            pages_allocated: 2,
            zero_page_maps: 3,
            cow_copies: 4,
            cow_reuses: 5,
            page_tables: 6,
            oom_kills: 0,
        };
        assert_eq!(
            summary(&s),
            r#"{"type":"summary","faults":3,"by_result":{"minor":2,"major":1},"by_path":{"do_page_fault -> b":2,"a \"q\"":1},"stack_expansions":1,"pages_allocated":2,"page_tables":6,"zero_page_maps":3,"cow_copies":4,"cow_reuses":5}"#
        );
        // OOM kills only when there were any.
        let s = Summary { oom_kills: 2, ..s };
        assert!(summary(&s).ends_with(r#""cow_reuses":5,"oom_kills":2}"#));
    }

    #[test]
    fn an_oom_kill_is_written_as_documented() {
        use growsdown_kernel::trace::OomCandidate;
        let c = |pid, total_vm, nice, points| OomCandidate {
            pid,
            tgid: pid,
            total_vm,
            cpu_time: 0,
            run_time: 0,
            nice,
            root: false,
            rawio: false,
            memdie: false,
            points,
        };
        let ev = OomEvent {
            seq: 7,
            pid: 1003,
            tid: 1003,
            machine_icount: 99,
            candidates: vec![c(1001, 1488, 10, 2976), c(1003, 2256, 0, 2256)],
            victim: Some(c(1001, 1488, 10, 2976)),
            signo: 9,
            killed: vec![1001],
        };
        assert_eq!(
            oom_line(&ev),
            r#"{"type":"oom_kill","seq":7,"pid":1003,"tid":1003,"machine_icount":99,"candidates":[{"pid":1001,"tid":1001,"total_vm":1488,"cpu_time":0,"run_time":0,"nice":10,"root":false,"rawio":false,"memdie":false,"badness":2976},{"pid":1003,"tid":1003,"total_vm":2256,"cpu_time":0,"run_time":0,"nice":0,"root":false,"rawio":false,"memdie":false,"badness":2256}],"victim":1001,"victim_badness":2976,"signal":"SIGKILL","killed":[1001]}"#
        );
        let none = OomEvent { victim: None, killed: Vec::new(), ..ev };
        assert!(
            oom_line(&none).ends_with(r#""victim":null,"victim_badness":null,"signal":null,"killed":[]}"#)
        );
    }
}
