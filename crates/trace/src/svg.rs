//! `--svg`: the run as a picture. The machine's instruction count runs across (all
//! tasks together, so that threads and processes share one clock); the address space
//! runs up the side in bands (low memory, text, data/bss, heap, mmap area, stack,
//! kernel), each band zoomed to what the program used, so a 3 GiB address space with
//! a few pages in use stays readable. One mark per fault, coloured by what resolved
//! it; the stack band shows the stack's lower bound moving down as it grows. The
//! stack of each further thread is an ordinary mmap'd VMA (the thread library's, no
//! VM_GROWSDOWN) and gets a band of its own, labelled with the thread's tid; the
//! faults such a thread takes are ringed.
//!
//! Under the bands, on the same time axis, the memory the machine holds: resident
//! pages (every address space's `rss`) always, and when the run moved any page to
//! or from swap a second panel with the pages written to and read from swap so far
//! (`pswpout`, `pswpin`). Each is a step line through the counters every fault and
//! reclaim event carries ([`MemCounts`]), ending at the values of the run's end.

use std::collections::HashMap;
use std::fmt::Write;

use super::{result_name, Record};
use growsdown_kernel::machine::Layout;
use growsdown_kernel::trace::{FaultEvent, FaultResult, MemCounts, ReclaimEvent, Step};
use growsdown_kernel::TASK_SIZE;

const W: f64 = 1000.0;
const LEFT: f64 = 170.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 50.0;
const BAND_H: f64 = 90.0;
const GAP: f64 = 8.0;
/// Height of a memory panel, and of the time axis under the last one.
const MEM_H: f64 = 110.0;
const AXIS_H: f64 = 30.0;
/// The strip at the top of a memory panel that holds its key.
const MEM_KEY: f64 = 20.0;
/// One memory curve: its `data-line` name, colour, what it shows and its counter.
struct MemLine {
    name: &'static str,
    colour: &'static str,
    what: &'static str,
    get: fn(&MemCounts) -> u64,
}

/// The memory curves, in the order drawn.
const MEM_LINES: [MemLine; 3] = [
    MemLine {
        name: "resident",
        colour: "#1f77b4",
        what: "resident pages (every address space's rss)",
        get: |m| m.rss,
    },
    MemLine {
        name: "swapped-out",
        colour: "#d62728",
        what: "pages written to swap so far (pswpout)",
        get: |m| m.pswpout,
    },
    MemLine {
        name: "swapped-in",
        colour: "#2ca02c",
        what: "pages read from swap so far (pswpin, with readahead)",
        get: |m| m.pswpin,
    },
];
/// The most thread stacks drawn as bands of their own, so that a program of a
/// hundred threads still gives a picture one can read.
const THREAD_BANDS: usize = 6;
/// Where the mmap area begins in the picture: 2.4's `TASK_UNMAPPED_BASE`, which `growsdown trace`
/// runs with.
const MMAP_BASE: u32 = growsdown_kernel::Personality::LINUX_24.mmap_base;

struct Band {
    label: &'static str,
    /// A thread's stack: the tid and the VMA `[start, end)` and flags. Owns that
    /// range, which lies inside the mmap area.
    thread: Option<ThreadStack>,
    /// Partition of the address space this band owns.
    owns: (u64, u64),
    /// Zoomed range actually drawn.
    lo: u64,
    hi: u64,
    used: bool,
}

/// The stack of a thread other than its process's first, as its own faults found it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ThreadStack {
    /// glibc caches the stacks of threads that have exited and gives them to new
    /// ones: every thread found on this VMA.
    tids: Vec<u32>,
    start: u32,
    end: u32,
    flags: u32,
}

impl Band {
    fn owns(&self, a: u64) -> bool {
        a >= self.owns.0 && a < self.owns.1
    }
}

/// The band an address is drawn in: a thread's stack before the partition around it.
fn band_of<'a>(bands: impl IntoIterator<Item = &'a Band>, a: u64) -> Option<usize> {
    let mut part = None;
    for (i, b) in bands.into_iter().enumerate() {
        if b.owns(a) {
            if b.thread.is_some() {
                return Some(i);
            }
            part = part.or(Some(i));
        }
    }
    part
}

/// Colour and legend name of each kind of mark, indexed by [`classify`].
const KINDS: [(&str, &str); 13] = [
    ("#d62728", "SIGSEGV"),
    ("#8c1d1d", "SIGBUS"),
    ("#ff7f0e", "EFAULT (kernel fixup)"),
    ("#000000", "out of memory"),
    ("#e6a100", "major: do_no_page (file)"),
    ("#9467bd", "do_wp_page copy (COW)"),
    ("#c5b0d5", "do_wp_page reuse"),
    ("#5fa8d3", "do_anonymous_page ZERO_PAGE"),
    ("#1b9e4b", "expand_stack + new page"),
    ("#7fc97f", "do_anonymous_page new page"),
    ("#999999", "minor (other)"),
    ("#8c564b", "major: do_swap_page (read from swap)"),
    ("#e377c2", "do_swap_page swap-cache hit"),
];

/// What kind of mark a fault gets ([`KINDS`]), from its result and path.
fn classify(ev: &FaultEvent) -> u8 {
    match ev.result {
        FaultResult::SigSegv { .. } => 0,
        FaultResult::SigBus { .. } => 1,
        FaultResult::Efault => 2,
        FaultResult::Oom | FaultResult::OomRetry => 3,
        FaultResult::Major if ev.path.iter().any(|s| matches!(s, Step::DoSwapPage { .. })) => 11,
        FaultResult::Major => 4,
        FaultResult::Minor => {
            for s in ev.path.iter().rev() {
                match s {
                    Step::DoSwapPage { .. } => return 12,
                    Step::DoWpPage { copied: true, .. } => return 5,
                    Step::DoWpPage { copied: false, .. } => return 6,
                    Step::DoAnonymousPage { zero_page: true, .. } => return 7,
                    Step::DoAnonymousPage { zero_page: false, .. } => {
                        let grew = ev.path.iter().any(|s| matches!(s, Step::ExpandStack { ok: true, .. }));
                        return if grew { 8 } else { 9 };
                    }
                    _ => {}
                }
            }
            10
        }
    }
}

/// One fault as the picture needs it: where and when, what its mark says, and of
/// what kind it is; not the path.
#[derive(Clone, Copy, Debug)]
struct Mark {
    seq: u64,
    /// Set for a fault of a thread other than its process's first.
    tid: Option<u32>,
    /// The faulting thread's own count, for the tooltip.
    icount: u64,
    /// The machine's count: where the mark is across.
    at: u64,
    eip: u32,
    cr2: u32,
    error_code: u32,
    result: FaultResult,
    kind: u8,
    /// Index into [`Picture::insns`].
    insn: u32,
}

/// What [`render`] draws, gathered fault by fault so that a trace need not keep the
/// faults themselves.
#[derive(Clone, Debug, Default)]
pub struct Picture {
    marks: Vec<Mark>,
    /// The distinct instruction texts: a run faults at few distinct instructions.
    insns: Vec<String>,
    insn_ids: HashMap<String, u32>,
    /// Every `expand_stack` step, in order: the machine's instruction count at its
    /// fault, the new start and whether it was allowed.
    expansions: Vec<(u64, u32, bool)>,
    /// The stacks of the threads other than their process's first, in order of their
    /// first fault there.
    thread_stacks: Vec<ThreadStack>,
    /// The memory counters over time: the machine's instruction count and the
    /// counters there, one sample where they changed (the last of an instant).
    mem: Vec<(u64, MemCounts)>,
}

impl Picture {
    /// Adds a fault, `insn` being its instruction's text.
    pub fn add(&mut self, ev: &FaultEvent, insn: &str) {
        let insn = match self.insn_ids.get(insn) {
            Some(&i) => i,
            None => {
                let i = self.insns.len() as u32;
                self.insns.push(insn.to_string());
                self.insn_ids.insert(insn.to_string(), i);
                i
            }
        };
        let other_thread = ev.tid != ev.pid;
        if other_thread && !self.thread_stacks.iter().any(|t| t.tids.contains(&ev.tid)) {
            // A thread's stack is the VMA its ESP is in, found at a fault on it.
            if let Some((start, end, flags)) = ev.vma {
                if (start..end).contains(&ev.esp) && (start..end).contains(&ev.cr2) {
                    let room = self.thread_stacks.len() < THREAD_BANDS;
                    match self.thread_stacks.iter_mut().find(|t| t.start < end && start < t.end) {
                        Some(t) => t.tids.push(ev.tid),
                        None if room => {
                            self.thread_stacks.push(ThreadStack { tids: vec![ev.tid], start, end, flags })
                        }
                        // More threads than bands: the rest stay in the mmap area.
                        None => {}
                    }
                }
            }
        }
        self.marks.push(Mark {
            seq: ev.seq,
            tid: other_thread.then_some(ev.tid),
            icount: ev.icount,
            at: ev.machine_icount,
            eip: ev.eip,
            cr2: ev.cr2,
            error_code: ev.error_code,
            result: ev.result,
            kind: classify(ev),
            insn,
        });
        for s in &ev.path {
            if let Step::ExpandStack { new_start, ok, .. } = *s {
                self.expansions.push((ev.machine_icount, new_start, ok));
            }
        }
        self.sample(ev.machine_icount, ev.mem);
    }

    /// Adds a reclaim decision: only its memory counters are drawn.
    pub fn add_reclaim(&mut self, ev: &ReclaimEvent) {
        self.sample(ev.machine_icount, ev.mem);
    }

    /// Adds a swapoff's `try_to_unuse`: only its memory counters are drawn.
    pub fn add_unuse(&mut self, ev: &growsdown_kernel::trace::UnuseEvent) {
        self.sample(ev.machine_icount, ev.mem);
    }

    /// The counters at the end of the run (`Machine::mem_counts`), after the last
    /// event: where the memory curves end (a munmap or exit after the last event
    /// shows only here).
    pub fn end_mem(&mut self, icount: u64, mem: MemCounts) {
        self.sample(icount, mem);
    }

    fn sample(&mut self, icount: u64, mem: MemCounts) {
        match self.mem.last_mut() {
            Some((_, last)) if *last == mem => {}
            Some((at, last)) if *at == icount => *last = mem,
            _ => self.mem.push((icount, mem)),
        }
    }

    /// The picture of the faults added; the arguments are [`render`]'s.
    pub fn render(&self, layout: &Layout, total_icount: u64) -> String {
        draw(self, layout, total_icount)
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The picture of a run: `layout` is the process's address space at exit, except
/// `stack_start`, the stack VMA's start right after exec (the stack's growth is drawn
/// from there); `total_icount` the instructions the run retired.
pub fn render(records: &[Record], layout: &Layout, total_icount: u64) -> String {
    let mut p = Picture::default();
    for r in records {
        p.add(&r.ev, &r.insn);
    }
    p.render(layout, total_icount)
}

fn draw(p: &Picture, layout: &Layout, total_icount: u64) -> String {
    let l = layout;
    let stack_start = l.stack_start.unwrap_or(TASK_SIZE);
    let heap_top = u64::from(l.brk.max(l.start_brk));
    // Partition boundaries, low to high. The stack band starts at the lowest
    // address the stack VMA reached or a fault near it touched.
    let stack_low = p
        .expansions
        .iter()
        .map(|&(_, new_start, _)| u64::from(new_start))
        .chain(std::iter::once(u64::from(stack_start)))
        .min()
        .unwrap_or(u64::from(TASK_SIZE))
        .saturating_sub(64 * 4096)
        .max(u64::from(MMAP_BASE));
    let parts: [(&'static str, u64, u64); 7] = [
        ("below text", 0, u64::from(l.start_code)),
        ("text", u64::from(l.start_code), u64::from(l.end_code)),
        ("data / bss", u64::from(l.end_code), u64::from(l.start_brk)),
        ("brk heap", u64::from(l.start_brk), u64::from(MMAP_BASE)),
        ("mmap area", u64::from(MMAP_BASE), stack_low),
        ("stack", stack_low, u64::from(TASK_SIZE)),
        ("kernel", u64::from(TASK_SIZE), 1u64 << 32),
    ];
    let mut bands: Vec<Band> = parts
        .iter()
        .map(|&(label, a, b)| {
            // Nominal extent of the region itself, zoom starts there.
            let (lo, hi, used) = match label {
                "text" | "data / bss" => (a, b.max(a + 1), b > a),
                "brk heap" => (a, heap_top.max(a + 4096), heap_top > a),
                "stack" => (u64::from(stack_start).max(a), u64::from(TASK_SIZE), true),
                _ => (u64::MAX, 0, false),
            };
            Band { label, thread: None, owns: (a, b.max(a)), lo, hi, used }
        })
        .collect();
    let mut stacks = p.thread_stacks.clone();
    stacks.sort_by_key(|t| std::cmp::Reverse(t.start));
    // Listed low to high like the partitions, after the mmap area they lie in, so
    // that they are drawn just above it.
    let at = bands.iter().position(|b| b.label == "mmap area").map_or(bands.len(), |i| i + 1);
    for t in stacks {
        let band = Band {
            label: "thread stack",
            owns: (u64::from(t.start), u64::from(t.end)),
            thread: Some(t),
            lo: u64::MAX,
            hi: 0,
            used: false,
        };
        bands.insert(at, band);
    }
    for m in &p.marks {
        let a = u64::from(m.cr2);
        if let Some(i) = band_of(&bands, a) {
            let b = &mut bands[i];
            b.lo = b.lo.min(a & !0xfff);
            b.hi = b.hi.max((a & !0xfff) + 4096);
            b.used = true;
        }
    }
    for &(_, new_start, ok) in &p.expansions {
        if ok {
            if let Some(b) = bands.iter_mut().find(|b| b.label == "stack" && b.thread.is_none()) {
                b.lo = b.lo.min(u64::from(new_start));
            }
        }
    }
    let shown: Vec<&Band> = bands.iter().filter(|b| b.used && b.hi > b.lo).rev().collect();
    let plot_w = W - LEFT - RIGHT;
    let mut kinds_seen = [false; KINDS.len()];
    for m in &p.marks {
        kinds_seen[usize::from(m.kind)] = true;
    }
    let ringed = p.marks.iter().any(|m| m.tid.is_some());
    let kinds = kinds_seen.iter().filter(|&&k| k).count() + usize::from(ringed);
    let legend_rows = kinds.div_ceil(3) as f64;
    let mem_top = TOP + shown.len() as f64 * (BAND_H + GAP);
    let swapped = p.mem.iter().any(|(_, m)| m.pswpin > 0 || m.pswpout > 0);
    let mem_h = (1.0 + f64::from(u8::from(swapped))) * (MEM_H + GAP) + AXIS_H;
    let height = mem_top + mem_h + 24.0 + 20.0 * legend_rows;
    let total = total_icount.max(p.marks.iter().map(|m| m.at).max().unwrap_or(0)).max(1) as f64;
    let x_of = |icount: u64| LEFT + plot_w * (icount as f64 / total);
    let band_top = |i: usize| TOP + i as f64 * (BAND_H + GAP);
    let y_in = |i: usize, b: &Band, addr: u64| {
        let span = (b.hi - b.lo).max(1) as f64;
        let frac = ((addr.saturating_sub(b.lo)) as f64 / span).clamp(0.0, 1.0);
        band_top(i) + BAND_H * (1.0 - frac)
    };

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height:.0}" viewBox="0 0 {W} {height:.0}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="22" font-size="15" font-weight="bold">Page faults over time ({} faults, {} instructions)</text>"#,
        p.marks.len(),
        total_icount
    );
    let _ = writeln!(
        s,
        r##"<text x="{LEFT}" y="38" fill="#555">instructions retired →   ·   address space ↑ (each band zoomed to the addresses used)</text>"##
    );
    for (i, b) in shown.iter().enumerate() {
        let y = band_top(i);
        let _ = writeln!(
            s,
            r##"<rect class="band" x="{LEFT}" y="{y:.1}" width="{plot_w:.1}" height="{BAND_H}" fill="#f4f6f8" stroke="#ccd"/>"##
        );
        let _ = writeln!(s, r#"<text x="8" y="{:.1}" font-weight="bold">{}</text>"#, y + 16.0, esc(b.label));
        let _ = writeln!(
            s,
            r##"<text x="8" y="{:.1}" fill="#555">{:#010x}</text>"##,
            y + 32.0,
            b.hi.min(0xffff_ffff)
        );
        let _ = writeln!(s, r##"<text x="8" y="{:.1}" fill="#555">{:#010x}</text>"##, y + BAND_H - 4.0, b.lo);
        if let Some(t) = &b.thread {
            let tids: Vec<String> = t.tids.iter().map(u32::to_string).collect();
            let who = if tids.len() == 1 { "tid" } else { "tids" };
            let _ = writeln!(
                s,
                r#"<text class="thread-stack" x="8" y="{:.1}" font-weight="bold">{who} {}</text>"#,
                y + 48.0,
                tids.join(", ")
            );
            // Unlike the process's stack it never moves: the thread library mmap'd
            // it whole, and a fault below it is bad_area, not expand_stack.
            let _ = writeln!(
                s,
                r##"<text x="{:.1}" y="{:.1}" fill="#555" text-anchor="end">vma {:08x}-{:08x} {}, no VM_GROWSDOWN</text>"##,
                W - RIGHT - 4.0,
                y + 14.0,
                t.start,
                t.end,
                super::vma_perms(t.flags)
            );
        }
        if b.label == "stack" {
            // The stack VMA's start over time: a step line that only moves down.
            let mut pts = vec![(x_of(0), y_in(i, b, u64::from(stack_start)))];
            let mut cur = u64::from(stack_start);
            for &(icount, new_start, ok) in &p.expansions {
                if ok {
                    let x = x_of(icount);
                    pts.push((x, y_in(i, b, cur)));
                    cur = u64::from(new_start);
                    pts.push((x, y_in(i, b, cur)));
                }
            }
            pts.push((x_of(total as u64), y_in(i, b, cur)));
            let pts: Vec<String> = pts.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
            let _ = writeln!(
                s,
                r##"<polyline class="stack-bound" points="{}" fill="none" stroke="#1b9e4b" stroke-width="1.5" stroke-dasharray="4 2"/>"##,
                pts.join(" ")
            );
            let _ = writeln!(
                s,
                r##"<text x="{:.1}" y="{:.1}" fill="#1b9e4b" text-anchor="end">stack vm_start</text>"##,
                W - RIGHT - 4.0,
                y_in(i, b, cur) - 4.0
            );
        }
    }
    draw_memory(&mut s, p, mem_top, swapped, &x_of, total as u64);
    let mut legend: Vec<(&str, &str)> = Vec::new();
    for m in &p.marks {
        let a = u64::from(m.cr2);
        let Some(i) = band_of(shown.iter().copied(), a) else { continue };
        let (colour, name) = KINDS[usize::from(m.kind)];
        if !legend.iter().any(|(_, n)| *n == name) {
            legend.push((colour, name));
        }
        let x = x_of(m.at);
        let y = y_in(i, shown[i], a);
        let tid = m.tid.map(|t| format!(" tid {t}")).unwrap_or_default();
        let title = format!(
            "#{}{tid} icount {} eip {:#010x} {}\ncr2 {:#010x} error {} → {}",
            m.seq,
            m.icount,
            m.eip,
            p.insns[m.insn as usize],
            m.cr2,
            m.error_code,
            result_name(m.result)
        );
        let ring = match m.tid {
            Some(t) => format!(r##" data-tid="{t}" stroke="#222" stroke-width="1.2""##),
            None => String::new(),
        };
        let _ = writeln!(
            s,
            r#"<circle class="fault" cx="{x:.1}" cy="{y:.1}" r="3.5" fill="{colour}" fill-opacity="0.85"{ring}><title>{}</title></circle>"#,
            esc(&title)
        );
    }
    let ly = mem_top + mem_h + 16.0;
    for (n, (colour, name)) in legend.iter().enumerate() {
        let x = LEFT + (n % 3) as f64 * 270.0;
        let y = ly + (n / 3) as f64 * 20.0;
        let _ = writeln!(s, r#"<circle cx="{x:.1}" cy="{:.1}" r="5" fill="{colour}"/>"#, y - 4.0);
        let _ = writeln!(s, r#"<text x="{:.1}" y="{y:.1}">{}</text>"#, x + 10.0, esc(name));
    }
    if ringed {
        let n = legend.len();
        let x = LEFT + (n % 3) as f64 * 270.0;
        let y = ly + (n / 3) as f64 * 20.0;
        let _ = writeln!(
            s,
            r##"<circle cx="{x:.1}" cy="{:.1}" r="5" fill="white" stroke="#222" stroke-width="1.2"/>"##,
            y - 4.0
        );
        let _ =
            writeln!(s, r#"<text x="{:.1}" y="{y:.1}">ringed: another thread (tid ≠ pid)</text>"#, x + 10.0);
    }
    s.push_str("</svg>\n");
    s
}

/// The memory panels under the bands, from `top`: resident pages, then (`swapped`)
/// the pages written to and read from swap, sharing one scale; then the time axis.
fn draw_memory(s: &mut String, p: &Picture, top: f64, swapped: bool, x_of: &dyn Fn(u64) -> f64, end: u64) {
    let plot_w = W - LEFT - RIGHT;
    let panels: &[&[usize]] = if swapped { &[&[0], &[1, 2]] } else { &[&[0]] };
    for (n, lines) in panels.iter().enumerate() {
        let y0 = top + n as f64 * (MEM_H + GAP);
        let max = p
            .mem
            .iter()
            .flat_map(|(_, m)| lines.iter().map(move |&i| (MEM_LINES[i].get)(m)))
            .max()
            .unwrap_or(0);
        let scale = max.max(1) as f64;
        // The top MEM_KEY pixels hold the panel's key, above the highest value.
        let y_of = |v: u64| y0 + MEM_KEY + (MEM_H - MEM_KEY) * (1.0 - v as f64 / scale);
        let _ = writeln!(
            s,
            r##"<rect class="mem-panel" x="{LEFT}" y="{y0:.1}" width="{plot_w:.1}" height="{MEM_H}" fill="#f8f8f4" stroke="#ccd"/>"##
        );
        let label = if n == 0 { "resident pages" } else { "swap (pages)" };
        let _ = writeln!(s, r#"<text x="8" y="{:.1}" font-weight="bold">{label}</text>"#, y0 + 16.0);
        let _ = writeln!(s, r##"<text x="8" y="{:.1}" fill="#555">max {max}</text>"##, y0 + MEM_KEY + 12.0);
        let _ = writeln!(s, r##"<text x="8" y="{:.1}" fill="#555">0</text>"##, y0 + MEM_H - 4.0);
        for (k, &i) in lines.iter().enumerate() {
            let MemLine { name, colour, what, get } = MEM_LINES[i];
            let last = p.mem.last().map_or(0, |(_, m)| get(m));
            let peak = p.mem.iter().map(|(_, m)| get(m)).max().unwrap_or(0);
            let pts = step_points(p.mem.iter().map(|(at, m)| (*at, get(m))), x_of, &y_of, x_of(end));
            let title = if n == 0 {
                format!("{what}: {last} at the end, peak {peak}")
            } else {
                format!("{what}: {last}")
            };
            let _ = writeln!(
                s,
                r#"<polyline class="mem" data-line="{name}" data-final="{last}" points="{pts}" fill="none" stroke="{colour}" stroke-width="1.6"><title>{}</title></polyline>"#,
                esc(&title)
            );
            // The legend inside the panel, top left, with the final value.
            let lx = LEFT + 8.0 + k as f64 * 350.0;
            let ly = y0 + 14.0;
            let _ = writeln!(
                s,
                r#"<line x1="{lx:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="2.5"/>"#,
                ly - 4.0,
                lx + 18.0,
                ly - 4.0
            );
            let key = what.replace(" so far", "");
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{ly:.1}">{}: {last} at the end</text>"#,
                lx + 24.0,
                esc(&key)
            );
        }
    }
    // The time axis: ticks at the quarters of the run.
    let y = top + panels.len() as f64 * (MEM_H + GAP);
    let _ = writeln!(
        s,
        r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#888"/>"##,
        LEFT + plot_w
    );
    for q in 0..=4u64 {
        let at = end / 4 * q + if q == 4 { end % 4 } else { 0 };
        let x = x_of(at);
        let anchor = match q {
            0 => "start",
            4 => "end",
            _ => "middle",
        };
        let _ =
            writeln!(s, r##"<line x1="{x:.1}" y1="{y:.1}" x2="{x:.1}" y2="{:.1}" stroke="#888"/>"##, y + 4.0);
        let _ = writeln!(
            s,
            r##"<text x="{x:.1}" y="{:.1}" fill="#555" text-anchor="{anchor}">{at}</text>"##,
            y + 15.0
        );
    }
    let _ = writeln!(s, r##"<text x="8" y="{:.1}" fill="#555">instructions retired</text>"##, y + 15.0);
}

/// The points of a step line through `samples` (instruction count, value), from 0
/// at the start to `end_x`. Steps that fall on the same half pixel become one
/// vertical stroke through their extremes, so a run of a million events draws a
/// line of a few thousand points that looks the same.
fn step_points(
    samples: impl Iterator<Item = (u64, u64)>,
    x_of: &dyn Fn(u64) -> f64,
    y_of: &dyn Fn(u64) -> f64,
    end_x: f64,
) -> String {
    /// The half pixel being drawn: its number and its points' y, the first, the
    /// extremes in the order they were reached, and the last.
    struct Column {
        at: i64,
        first: f64,
        lo: (f64, u32),
        hi: (f64, u32),
        last: f64,
        n: u32,
    }
    fn flush(pts: &mut Vec<(f64, f64)>, col: Option<Column>) {
        if let Some(c) = col {
            let x = c.at as f64 / 2.0;
            let (a, b) = if c.lo.1 <= c.hi.1 { (c.lo.0, c.hi.0) } else { (c.hi.0, c.lo.0) };
            for y in [c.first, a, b, c.last] {
                if pts.last() != Some(&(x, y)) {
                    pts.push((x, y));
                }
            }
        }
    }
    let mut pts: Vec<(f64, f64)> = Vec::new();
    let mut col: Option<Column> = None;
    let mut put = |x: f64, y: f64| {
        let at = (x * 2.0).round() as i64;
        match &mut col {
            Some(c) if c.at == at => {
                c.n += 1;
                if y < c.lo.0 {
                    c.lo = (y, c.n);
                }
                if y > c.hi.0 {
                    c.hi = (y, c.n);
                }
                c.last = y;
            }
            _ => {
                flush(&mut pts, col.take());
                col = Some(Column { at, first: y, lo: (y, 0), hi: (y, 0), last: y, n: 0 });
            }
        }
    };
    let mut cur = y_of(0);
    put(x_of(0), cur);
    for (at, v) in samples {
        // Across to the sample's time, then up or down to its value.
        let (x, y) = (x_of(at), y_of(v));
        put(x, cur);
        put(x, y);
        cur = y;
    }
    put(end_x, cur);
    flush(&mut pts, col);
    let mut out = String::with_capacity(pts.len() * 12);
    for (i, (x, y)) in pts.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{x:.1},{y:.1}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(s: &str) -> Vec<(f64, f64)> {
        s.split(' ')
            .map(|p| {
                let (x, y) = p.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect()
    }

    #[test]
    fn a_long_step_line_is_drawn_with_few_points_and_keeps_its_extremes() {
        // 100 000 samples over 800 pixels, rising, with one spike inside a column.
        let n = 100_000u64;
        let x_of = |at: u64| 100.0 + 800.0 * at as f64 / n as f64;
        let y_of = |v: u64| 500.0 - v as f64 / 1000.0;
        let spike = 50_003;
        let samples = (1..=n).map(|at| (at, if at == spike { 400_000 } else { at }));
        let pts = points(&step_points(samples, &x_of, &y_of, x_of(n)));
        assert!(pts.len() <= 4 * 1601, "{} points", pts.len());
        assert_eq!(pts[0], (100.0, 500.0));
        assert_eq!(*pts.last().unwrap(), (900.0, 400.0));
        assert!(pts.windows(2).all(|w| w[1].0 >= w[0].0), "left to right");
        assert!(pts.iter().any(|p| p.1 == 100.0), "the spike to 400 000 is drawn");
        // Apart from the spike, the line only rises (y grows downwards).
        let no_spike = (1..=n).map(|at| (at, at));
        let pts = points(&step_points(no_spike, &x_of, &y_of, x_of(n)));
        assert!(pts.windows(2).all(|w| w[1].1 <= w[0].1));
    }

    #[test]
    fn memory_samples_keep_the_last_of_an_instant_and_skip_repeats() {
        let mut p = Picture::default();
        let m = |rss| MemCounts { rss, pswpin: 0, pswpout: 0 };
        p.end_mem(5, m(1));
        p.end_mem(5, m(2));
        p.end_mem(6, m(2));
        p.end_mem(7, m(3));
        assert_eq!(p.mem, [(5, m(2)), (7, m(3))]);
    }
}
