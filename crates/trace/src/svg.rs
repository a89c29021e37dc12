//! `--svg`: the run as a picture. Instruction count runs across; the address space
//! runs up the side in bands (low memory, text, data/bss, heap, mmap area, stack,
//! kernel), each band zoomed to what the program used, so a 3 GiB address space with
//! a few pages in use stays readable. One mark per fault, coloured by what resolved
//! it; the stack band shows the stack's lower bound moving down as it grows.

use std::collections::HashMap;
use std::fmt::Write;

use super::{result_name, Record};
use growsdown_kernel::machine::Layout;
use growsdown_kernel::trace::{FaultEvent, FaultResult, Step};
use growsdown_kernel::TASK_SIZE;

const W: f64 = 1000.0;
const LEFT: f64 = 170.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 50.0;
const BAND_H: f64 = 90.0;
const GAP: f64 = 8.0;
/// Where the mmap area begins in the picture: 2.4's `TASK_UNMAPPED_BASE`, which `growsdown trace`
/// runs with.
const MMAP_BASE: u32 = growsdown_kernel::Personality::LINUX_24.mmap_base;

struct Band {
    label: &'static str,
    /// Partition of the address space this band owns.
    owns: (u64, u64),
    /// Zoomed range actually drawn.
    lo: u64,
    hi: u64,
    used: bool,
}

/// Colour and legend name of each kind of mark, indexed by [`classify`].
const KINDS: [(&str, &str); 11] = [
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
];

/// What kind of mark a fault gets ([`KINDS`]), from its result and path.
fn classify(ev: &FaultEvent) -> u8 {
    match ev.result {
        FaultResult::SigSegv { .. } => 0,
        FaultResult::SigBus { .. } => 1,
        FaultResult::Efault => 2,
        FaultResult::Oom => 3,
        FaultResult::Major => 4,
        FaultResult::Minor => {
            for s in ev.path.iter().rev() {
                match s {
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
    icount: u64,
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
    /// Every `expand_stack` step, in order: the instruction count of its fault, the
    /// new start and whether it was allowed.
    expansions: Vec<(u64, u32, bool)>,
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
        self.marks.push(Mark {
            seq: ev.seq,
            icount: ev.icount,
            eip: ev.eip,
            cr2: ev.cr2,
            error_code: ev.error_code,
            result: ev.result,
            kind: classify(ev),
            insn,
        });
        for s in &ev.path {
            if let Step::ExpandStack { new_start, ok, .. } = *s {
                self.expansions.push((ev.icount, new_start, ok));
            }
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
            Band { label, owns: (a, b.max(a)), lo, hi, used }
        })
        .collect();
    for m in &p.marks {
        let a = u64::from(m.cr2);
        if let Some(b) = bands.iter_mut().find(|b| a >= b.owns.0 && a < b.owns.1) {
            b.lo = b.lo.min(a & !0xfff);
            b.hi = b.hi.max((a & !0xfff) + 4096);
            b.used = true;
        }
    }
    for &(_, new_start, ok) in &p.expansions {
        if ok {
            if let Some(b) = bands.iter_mut().find(|b| b.label == "stack") {
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
    let kinds = kinds_seen.iter().filter(|&&k| k).count();
    let legend_rows = kinds.div_ceil(3) as f64;
    let height = TOP + shown.len() as f64 * (BAND_H + GAP) + 24.0 + 20.0 * legend_rows;
    let total = total_icount.max(p.marks.iter().map(|m| m.icount).max().unwrap_or(0)).max(1) as f64;
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
    let mut legend: Vec<(&str, &str)> = Vec::new();
    for m in &p.marks {
        let a = u64::from(m.cr2);
        let Some(i) = shown.iter().position(|b| a >= b.owns.0 && a < b.owns.1) else { continue };
        let (colour, name) = KINDS[usize::from(m.kind)];
        if !legend.iter().any(|(_, n)| *n == name) {
            legend.push((colour, name));
        }
        let x = x_of(m.icount);
        let y = y_in(i, shown[i], a);
        let title = format!(
            "#{} icount {} eip {:#010x} {}\ncr2 {:#010x} error {} → {}",
            m.seq,
            m.icount,
            m.eip,
            p.insns[m.insn as usize],
            m.cr2,
            m.error_code,
            result_name(m.result)
        );
        let _ = writeln!(
            s,
            r#"<circle class="fault" cx="{x:.1}" cy="{y:.1}" r="3.5" fill="{colour}" fill-opacity="0.85"><title>{}</title></circle>"#,
            esc(&title)
        );
    }
    let ly = TOP + shown.len() as f64 * (BAND_H + GAP) + 16.0;
    for (n, (colour, name)) in legend.iter().enumerate() {
        let x = LEFT + (n % 3) as f64 * 270.0;
        let y = ly + (n / 3) as f64 * 20.0;
        let _ = writeln!(s, r#"<circle cx="{x:.1}" cy="{:.1}" r="5" fill="{colour}"/>"#, y - 4.0);
        let _ = writeln!(s, r#"<text x="{:.1}" y="{y:.1}">{}</text>"#, x + 10.0, esc(name));
    }
    s.push_str("</svg>\n");
    s
}
