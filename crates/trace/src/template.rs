//! Records written from the last one like them. A fault-heavy guest faults along a
//! few paths at a few instructions, and two such faults' records differ only in a
//! few numbers: the sequence number, the instruction count, the address, the frame
//! the last step got, the counters. A record written whole is kept as a [`Template`]
//! with the places of those numbers (its holes, which the format's writer marks in
//! [`Marks`]); the next fault whose record would differ from it only there is
//! written by copying the template and writing its numbers over the template's. It
//! costs a fraction of writing the record from its steps, and the bytes are the
//! same: the template is keyed by everything else the record is made from.

use growsdown_kernel::trace::{FaultEvent, FaultRecord, FaultResult, PackedSteps, Step};

use crate::out::{hex8_digits, hex_digits, DecMemo, Out};
use crate::Scan;

/// The numbers of a record that change from one fault to the next along the same
/// path at the same instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hole {
    Seq,
    Icount,
    /// CR2 in the record's head (eight hex digits).
    Cr2,
    /// CR2 again, as `do_page_fault`'s address (JSONL).
    Address,
    /// The frame the path's last step got (`do_wp_page`'s copy, `do_anonymous_page`'s
    /// new frame): eight hex digits in JSONL, as few as the value needs in text.
    Frame,
    MinFlt,
    MajFlt,
    Rss,
    PswpIn,
    PswpOut,
}

const HOLES: usize = 10;

/// Where the writer of a record put the digits of each of its holes, from the
/// record's start; and how many frames its steps wrote (a frame is a hole only as
/// the path's one frame).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Marks {
    start: usize,
    at: [Option<(usize, usize)>; HOLES],
    frames: u8,
    /// Whether the frame's digits are always eight (JSONL) or as few as needed.
    frame_fixed: bool,
}

impl Marks {
    /// A record starts at the cursor of `out`.
    pub(crate) fn begin(&mut self, out: &Out) {
        *self = Marks { start: out.len(), ..Marks::default() };
    }

    /// The digits of `hole` were written from `at` to the cursor.
    #[inline(always)]
    pub(crate) fn hole(&mut self, hole: Hole, at: usize, out: &Out) {
        self.at[hole as usize] = Some((at - self.start, out.len() - self.start));
        if hole == Hole::Frame {
            self.frames += 1;
        }
    }

    /// The last `n` bytes written as `hole` are not its digits.
    pub(crate) fn shorten(&mut self, hole: Hole, n: usize) {
        if let Some((_, end)) = &mut self.at[hole as usize] {
            *end -= n;
        }
    }

    /// The frame's digits are eight, whatever its value.
    pub(crate) fn frame_fixed(&mut self) {
        self.frame_fixed = true;
    }
}

/// A record written whole, kept to write the records of later faults that differ
/// from it only in its holes.
struct Template {
    key: Key,
    /// What the key keeps ([`Key::of`]).
    frame_hole: bool,
    with_cr2: bool,
    insn: String,
    text: Vec<u8>,
    holes: [Option<(usize, usize)>; HOLES],
    frame_fixed: bool,
    /// The steps' [`Scan`]: the holes do not change it.
    scan: Scan,
}

/// What a record is made from, but for its holes. The frame of the last step, when
/// it is a hole, is zeroed in `path`; the fault address is kept only when the record
/// shows it outside its holes (`expand_stack`'s new start).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key {
    pid: u32,
    tid: u32,
    eip: u32,
    esp: u32,
    cr2: u32,
    error_code: u32,
    user: bool,
    vma: Option<(u32, u32, u32)>,
    result: FaultResult,
    len: usize,
    path: [u8; PATH_BYTES],
}

/// Room for a packed path's bytes in a [`Key`].
const PATH_BYTES: usize = 40;

/// Templates kept: a few paths at a few instructions.
const SLOTS: usize = 16;

impl Key {
    /// The key of `rec`, with a frame hole if `frame_hole` (the last four bytes of
    /// the path are the last step's frame) and its address if `with_cr2`; None for a
    /// path too long to key.
    #[inline]
    fn of(rec: &FaultRecord, frame_hole: bool, with_cr2: bool) -> Option<Self> {
        let bytes = rec.path.packed_bytes();
        let mut path = [0; PATH_BYTES];
        path.get_mut(..bytes.len())?.copy_from_slice(bytes);
        if frame_hole {
            let n = bytes.len().checked_sub(4)?;
            path[n..n + 4].fill(0);
        }
        Some(Key {
            pid: rec.pid,
            tid: rec.tid,
            eip: rec.eip,
            esp: rec.esp,
            cr2: if with_cr2 { rec.cr2 } else { 0 },
            error_code: rec.error_code,
            user: rec.path.user(),
            vma: rec.vma,
            result: rec.result,
            len: bytes.len(),
            path,
        })
    }

    /// `Key::of(rec, frame_hole, with_cr2) == Some(*self)`, for the key of a
    /// template (made with the same `frame_hole` and `with_cr2`), compared field by
    /// field without making `rec`'s key.
    #[inline(always)]
    fn matches(&self, rec: &FaultRecord, frame_hole: bool, with_cr2: bool) -> bool {
        let bytes = rec.path.packed_bytes();
        if bytes.len() != self.len
            || rec.eip != self.eip
            || rec.error_code != self.error_code
            || rec.esp != self.esp
            || rec.pid != self.pid
            || rec.tid != self.tid
            || (with_cr2 && rec.cr2 != self.cr2)
            || rec.path.user() != self.user
            || rec.vma != self.vma
            || rec.result != self.result
        {
            return false;
        }
        // A template's key has a frame hole only for a path of at least four bytes.
        let n = if frame_hole { self.len - 4 } else { self.len };
        bytes[..n] == self.path[..n]
    }
}

/// Where the template for `rec` is kept: by what tells the paths of one guest apart
/// most often (which instruction, reading or writing, how long a path), not by
/// everything; the key decides.
#[inline]
fn slot(rec: &FaultRecord) -> usize {
    let h = rec.eip ^ rec.error_code.rotate_left(24) ^ (rec.path.packed_bytes().len() as u32).rotate_left(16);
    (h.wrapping_mul(0x9e37_79b1) >> (32 - SLOTS.trailing_zeros())) as usize
}

/// The frame of the path's last step, when it is a hole: the packed path's last
/// four bytes.
fn last_frame(rec: &FaultRecord) -> u32 {
    let b = rec.path.packed_bytes();
    let f = b.len().saturating_sub(4);
    b.get(f..f + 4).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The numbers of the holes, with the digits of the last ones kept
/// ([`DecMemo`]).
#[derive(Default)]
struct Numbers {
    seq: DecMemo,
    icount: DecMemo,
    min_flt: DecMemo,
    maj_flt: DecMemo,
    rss: DecMemo,
    pswpin: DecMemo,
    pswpout: DecMemo,
}

impl Numbers {
    /// The digits of `rec`'s `hole` and how many; None for a decimal of 10^8 or
    /// more.
    #[inline(always)]
    fn digits(&mut self, hole: Hole, rec: &FaultRecord, frame_fixed: bool) -> Option<([u8; 8], usize)> {
        match hole {
            Hole::Seq => self.seq.digits(rec.seq),
            Hole::Icount => self.icount.digits(rec.icount),
            Hole::Cr2 | Hole::Address => Some((hex8_digits(rec.cr2), 8)),
            Hole::Frame if frame_fixed => Some((hex8_digits(last_frame(rec)), 8)),
            Hole::Frame => Some(hex_digits(last_frame(rec))),
            Hole::MinFlt => self.min_flt.digits(u64::from(rec.min_flt)),
            Hole::MajFlt => self.maj_flt.digits(u64::from(rec.maj_flt)),
            Hole::Rss => self.rss.digits(u64::from(rec.rss)),
            Hole::PswpIn => self.pswpin.digits(u64::from(rec.pswpin)),
            Hole::PswpOut => self.pswpout.digits(u64::from(rec.pswpout)),
        }
    }

    /// Appends the digits of `rec`'s `hole`.
    fn put(&mut self, out: &mut Out, hole: Hole, rec: &FaultRecord, frame_fixed: bool) {
        match self.digits(hole, rec, frame_fixed) {
            Some((d, n)) => out.put_first(&d, n),
            // Only a decimal of 10^8 or more.
            None => crate::out::dec(out, decimal(hole, rec)),
        }
    }
}

/// The value of a decimal hole of `rec`.
fn decimal(hole: Hole, rec: &FaultRecord) -> u64 {
    match hole {
        Hole::Seq => rec.seq,
        Hole::Icount => rec.icount,
        Hole::MinFlt => u64::from(rec.min_flt),
        Hole::MajFlt => u64::from(rec.maj_flt),
        Hole::Rss => u64::from(rec.rss),
        Hole::PswpIn => u64::from(rec.pswpin),
        Hole::PswpOut => u64::from(rec.pswpout),
        Hole::Cr2 | Hole::Address => u64::from(rec.cr2),
        Hole::Frame => u64::from(last_frame(rec)),
    }
}

const ALL: [Hole; HOLES] = [
    Hole::Seq,
    Hole::Icount,
    Hole::Cr2,
    Hole::Address,
    Hole::Frame,
    Hole::MinFlt,
    Hole::MajFlt,
    Hole::Rss,
    Hole::PswpIn,
    Hole::PswpOut,
];

impl Template {
    /// Whether `rec` with the instruction `insn` is written as this template with
    /// its holes filled.
    #[inline]
    fn fits(&self, rec: &FaultRecord, insn: &str) -> bool {
        self.key.matches(rec, self.frame_hole, self.with_cr2) && self.insn == insn
    }

    /// Writes `rec`'s record: the template's text copied whole and each hole's
    /// digits written over the template's in place, when every one is as wide as
    /// the template's (mostly); else written around the holes.
    #[inline(never)]
    fn write(&mut self, out: &mut Out, rec: &FaultRecord, numbers: &mut Numbers) {
        let base = out.len();
        out.put_slice(&self.text);
        // Hole by hole, not in a loop over `ALL`: looping, the compiler computed
        // every number before knowing which it needed.
        let fits = self.fill(out, base, Hole::Seq, rec, numbers)
            && self.fill(out, base, Hole::Icount, rec, numbers)
            && self.fill(out, base, Hole::Cr2, rec, numbers)
            && self.fill(out, base, Hole::Address, rec, numbers)
            && self.fill(out, base, Hole::Frame, rec, numbers)
            && self.fill(out, base, Hole::MinFlt, rec, numbers)
            && self.fill(out, base, Hole::MajFlt, rec, numbers)
            && self.fill(out, base, Hole::Rss, rec, numbers)
            && self.fill(out, base, Hole::PswpIn, rec, numbers)
            && self.fill(out, base, Hole::PswpOut, rec, numbers);
        if !fits {
            out.truncate(base);
            self.write_around(out, rec, numbers);
        }
    }

    /// Writes `rec`'s `hole` over the template's copy at `base`, if the template
    /// has that hole; false if its digits are not as many as the template's.
    #[inline(always)]
    fn fill(&self, out: &mut Out, base: usize, hole: Hole, rec: &FaultRecord, numbers: &mut Numbers) -> bool {
        let Some((start, end)) = self.holes[hole as usize] else { return true };
        match numbers.digits(hole, rec, self.frame_fixed) {
            Some((d, n)) if n == end - start => {
                out.patch(base + start, &d, n);
                true
            }
            _ => false,
        }
    }

    /// [`Template::write`] when a number is not as wide as the template's: the text
    /// copied around the holes, in the order they come; the record written becomes
    /// the template (the next ones are as wide as it, mostly).
    #[cold]
    fn write_around(&mut self, out: &mut Out, rec: &FaultRecord, numbers: &mut Numbers) {
        let base = out.len();
        let mut order: Vec<(usize, usize, Hole)> =
            ALL.iter().filter_map(|&h| self.holes[h as usize].map(|(s, e)| (s, e, h))).collect();
        order.sort_unstable_by_key(|o| o.0);
        let mut at = 0;
        for (start, end, hole) in order {
            out.put_slice(&self.text[at..start]);
            let from = out.len() - base;
            numbers.put(out, hole, rec, self.frame_fixed);
            self.holes[hole as usize] = Some((from, out.len() - base));
            at = end;
        }
        out.put_slice(&self.text[at..]);
        self.text.clear();
        self.text.extend_from_slice(&out.as_bytes()[base..]);
    }

    /// The template of the record `text` just written for `rec` (`marks` says where
    /// its holes are); None if its path is too long to key or a hole was not marked
    /// where it belongs.
    fn of(
        rec: &FaultRecord,
        steps: PackedSteps<'_>,
        insn: &str,
        text: &[u8],
        marks: &Marks,
        scan: Scan,
    ) -> Option<Self> {
        // A frame is a hole only when it is the path's one frame and its last step:
        // then it is the last four bytes of the packed path. Any other frame stays
        // in the text, and in the key.
        let last = steps.clone().last();
        let frame_hole = marks.frames == 1
            && matches!(last, Some(Step::DoWpPage { .. } | Step::DoAnonymousPage { zero_page: false, .. }));
        // `expand_stack` shows the faulting page: then the address is in the key.
        let with_cr2 = steps.clone().any(|s| matches!(s, Step::ExpandStack { .. }));
        let key = Key::of(rec, frame_hole, with_cr2)?;
        let mut holes = marks.at;
        if !frame_hole {
            holes[Hole::Frame as usize] = None;
        }
        // Holes within the text, none inside another.
        let mut spans: Vec<(usize, usize)> = holes.iter().flatten().copied().collect();
        spans.sort_unstable();
        let ordered = spans.windows(2).all(|w| w[0].1 <= w[1].0);
        if !ordered || spans.last().is_some_and(|s| s.1 > text.len()) {
            return None;
        }
        Some(Template {
            key,
            frame_hole,
            with_cr2,
            insn: insn.to_owned(),
            text: text.to_vec(),
            holes,
            frame_fixed: marks.frame_fixed,
            scan,
        })
    }
}

/// The templates of one trace, in one format.
#[derive(Default)]
pub(crate) struct Templates {
    slots: Vec<Option<Template>>,
    numbers: Numbers,
    marks: Marks,
}

impl Templates {
    /// Writes the record of a fault as the kernel logged it, its path packed
    /// (`steps` decodes it): from a template when one fits, else whole by `write`
    /// (the format's writer, given the event's fields unpacked into `ev`, the
    /// steps' [`Scan`] and the marks to put the holes in), kept as the template for
    /// the next. Returns the steps' scan, for the summary.
    #[inline]
    pub(crate) fn write(
        &mut self,
        out: &mut Out,
        rec: &FaultRecord,
        steps: PackedSteps<'_>,
        ev: &mut FaultEvent,
        insn: &str,
        write: impl FnOnce(&mut Out, &FaultEvent, PackedSteps<'_>, &Scan, &mut Marks),
    ) -> Scan {
        if self.slots.is_empty() {
            self.slots.resize_with(SLOTS, || None);
        }
        let slot = slot(rec);
        if let Some(t) = &mut self.slots[slot] {
            if t.fits(rec, insn) {
                t.write(out, rec, &mut self.numbers);
                return t.scan;
            }
        }
        rec.unpack_fields(ev);
        let scan = Scan::of(steps.clone());
        let start = out.len();
        self.marks.begin(out);
        write(out, ev, steps.clone(), &scan, &mut self.marks);
        self.slots[slot] = Template::of(rec, steps, insn, &out.as_bytes()[start..], &self.marks, scan);
        scan
    }
}
