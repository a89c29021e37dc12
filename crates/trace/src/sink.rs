//! Where the fault records go: a [`Sink`] renders them (text or JSONL, the summary
//! counts, the SVG's marks) and writes them, and a [`Tracer`] is the kernel's
//! observer that feeds it. On standard error every record is rendered and written as
//! its fault happens, in order with the guest's own writes there; to a file the
//! guest thread only copies each fault into a batch, and a second thread renders and
//! writes ([`Tracer::new`] with `threaded`).

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::thread::JoinHandle;

use growsdown_cpu::Cpu;
use growsdown_kernel::trace::UnuseEvent;
use growsdown_kernel::trace::{
    FaultEvent, FaultLog, FaultObserver, FaultRecord, InsnSource, InsnTexts, LoggedFault, OomEvent,
    ReclaimEvent, Step,
};

use crate::svg::Picture;
use crate::{jsonl, text, Tally};

/// The record format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One block per fault, the call chain as the seed documents write it.
    Text,
    /// One JSON object per line (docs/trace-format.md).
    Jsonl,
}

/// What rendering the records keeps, on whichever thread renders them. Nothing grows
/// with the number of faults except the SVG's marks, and those only when an SVG is
/// asked for.
pub struct Sink {
    out: Box<dyn Write + Send>,
    /// Records rendered and not yet written; reused, so rendering a fault allocates
    /// nothing.
    buf: Vec<u8>,
    /// Standard error is written a record at a time, in step with what the guest
    /// writes there; a file in chunks of [`CHUNK`].
    write_each: bool,
    format: Format,
    error: Option<std::io::Error>,
    /// The text format's call-chain lines.
    chains: text::Chains,
    tally: Tally,
    picture: Option<Picture>,
}

/// How much a file-backed trace buffers between writes.
const CHUNK: usize = 64 * 1024;

impl Sink {
    /// A sink writing to `out`: record by record (`write_each`, for standard error) or
    /// in chunks; with `svg`, also keeping the marks of an SVG picture.
    pub fn new(out: Box<dyn Write + Send>, format: Format, write_each: bool, svg: bool) -> Self {
        Sink {
            out,
            buf: Vec::with_capacity(CHUNK + 4096),
            write_each,
            format,
            error: None,
            chains: text::Chains::default(),
            tally: Tally::default(),
            picture: svg.then(Picture::default),
        }
    }

    /// Writes the summary and flushes: the SVG picture's marks, if asked for, or the
    /// first write error.
    pub fn close(mut self) -> std::io::Result<Option<Picture>> {
        let summary = self.tally.summary();
        let tail = match self.format {
            Format::Text => text::summary(&summary),
            Format::Jsonl => jsonl::summary(&summary) + "\n",
        };
        self.buf.extend_from_slice(tail.as_bytes());
        self.drain();
        let written = self.out.flush();
        match self.error.take() {
            Some(e) => Err(e),
            None => written.map(|()| self.picture),
        }
    }

    fn record(&mut self, ev: &FaultEvent, insn: &str) {
        let Sink { buf, format, chains, tally, picture, .. } = self;
        match format {
            Format::Text => text::write_record(buf, ev, insn, chains),
            Format::Jsonl => {
                jsonl::write_record(buf, ev, insn);
                buf.push(b'\n');
            }
        }
        tally.add(ev);
        if let Some(p) = picture {
            p.add(ev, insn);
        }
        self.drain_if_due();
    }

    /// Writes the buffer out after each record on standard error (its order with the
    /// guest's own writes there is kept), else once a chunk is full.
    fn drain_if_due(&mut self) {
        if self.write_each || self.buf.len() >= CHUNK {
            self.drain();
        }
    }

    fn oom(&mut self, ev: &OomEvent) {
        match self.format {
            Format::Text => text::write_oom(&mut self.buf, ev),
            Format::Jsonl => {
                self.buf.extend_from_slice(jsonl::oom_line(ev).as_bytes());
                self.buf.push(b'\n');
            }
        }
        self.tally.add_oom(ev);
        self.drain_if_due();
    }

    /// A reclaim decision (`try_to_swap_out`), between the faults it happened among.
    fn reclaim(&mut self, ev: &ReclaimEvent) {
        match self.format {
            Format::Text => text::write_reclaim(&mut self.buf, ev),
            Format::Jsonl => {
                jsonl::write_reclaim(&mut self.buf, ev);
                self.buf.push(b'\n');
            }
        }
        if let Some(p) = &mut self.picture {
            p.add_reclaim(ev);
        }
        self.drain_if_due();
    }

    /// A swapoff's `try_to_unuse`, between the faults it happened among.
    fn unuse(&mut self, ev: &UnuseEvent) {
        match self.format {
            Format::Text => text::write_unuse(&mut self.buf, ev),
            Format::Jsonl => {
                jsonl::write_unuse(&mut self.buf, ev);
                self.buf.push(b'\n');
            }
        }
        if let Some(p) = &mut self.picture {
            p.add_unuse(ev);
        }
        self.drain_if_due();
    }

    fn drain(&mut self) {
        if self.error.is_none() {
            if let Err(e) = self.out.write_all(&self.buf) {
                self.error = Some(e);
            }
        }
        self.buf.clear();
    }
}

/// Standard error: every record rendered and written as the fault happens, so that
/// records and the guest's own writes to standard error come out in the order they
/// happened.
struct InPlace {
    sink: Sink,
    insns: InsnTexts,
    /// Each fault's record unpacked; reused.
    ev: FaultEvent,
}

/// A trace file: the guest thread only copies each fault into a [`Batch`]; full
/// batches go to a renderer thread ([`render`]) that owns the [`Sink`], so decoding,
/// rendering, counting and writing run beside the guest instead of in its way.
struct Piped {
    batch: Batch,
    /// Bounded at [`BATCHES_QUEUED`]: a guest that faults faster than the renderer
    /// keeps up waits for it rather than queueing without limit.
    full: SyncSender<Batch>,
    /// Batches the renderer is done with, to be filled again rather than allocated.
    empty: Receiver<Batch>,
    /// The renderer has stopped (it panicked): records are dropped, the guest runs
    /// on, and joining the renderer reports the failure.
    stopped: bool,
    renderer: JoinHandle<Sink>,
}

/// Faults per [`Batch`]: the kernel's log's run ([`FaultLog`]), so that a full log
/// becomes a batch by swapping vectors.
const BATCH: usize = growsdown_kernel::trace::FAULT_LOG;

/// Full batches the channel holds before the guest waits. With the batch being
/// filled, the one being rendered and the full one in hand, at most
/// `BATCHES_QUEUED + 3` batches ever exist (a new one is made only when none has
/// come back), each about `BATCH` × 152 bytes (a fault's [`FaultRecord`] and the
/// instruction's bytes), 78 KB, and the kernel's log as large, plus the paths that
/// did not pack: about 620 KB however long the run. Few batches also keep the memory the guest thread writes
/// warm in the cache.
const BATCHES_QUEUED: usize = 4;

/// A run of faults as the guest thread copied them, with what their instructions'
/// text is made from. Each fault is one fixed-size [`FaultRecord`] (its path packed
/// into it) stored with one copy, one after another, so that the guest thread writes
/// a sequential run of memory (which the processor fetches ahead). A recycled batch
/// is refilled without allocating.
struct Batch {
    faults: Vec<Fault>,
    /// The paths that did not pack (`PackedPath::spilled`, rare: `bad_area`), one
    /// after another, in the order of their faults.
    steps: Vec<Step>,
    /// OOM kills (rare), each after the first `.0` faults of the batch.
    ooms: Vec<(usize, OomEvent)>,
    /// Reclaim decisions, each with the number of faults of the batch before it.
    reclaims: Vec<(u32, ReclaimEvent)>,
    /// Swapoffs' `try_to_unuse` (rare), each with the numbers of faults and of
    /// reclaim decisions of the batch before it.
    unuses: Vec<(u32, u32, UnuseEvent)>,
}

/// A fault as the kernel recorded it, and its instruction's bytes: the kernel's
/// log ([`FaultLog`]) holds the same, and a batch takes its runs whole.
type Fault = LoggedFault;

impl Batch {
    fn new() -> Self {
        Batch {
            faults: Vec::with_capacity(BATCH),
            steps: Vec::new(),
            ooms: Vec::new(),
            reclaims: Vec::new(),
            unuses: Vec::new(),
        }
    }

    #[inline]
    fn push(&mut self, rec: &FaultRecord, spill: &[Step], insn: InsnSource) {
        let mut spilled = 0;
        if rec.path.spilled() {
            self.steps.extend_from_slice(spill);
            spilled = spill.len() as u32;
        }
        self.faults.push(Fault { rec: *rec, spilled, insn });
    }

    /// [`Batch::push`] for an event not recorded by the kernel's fault path.
    fn push_event(&mut self, ev: &FaultEvent, insn: InsnSource) {
        let start = self.steps.len();
        let rec = FaultRecord::pack(ev, &mut self.steps);
        let spilled = (self.steps.len() - start) as u32;
        self.faults.push(Fault { rec, spilled, insn });
    }

    fn len(&self) -> usize {
        self.faults.len()
    }

    /// Takes the kernel's run of faults, leaving `log` empty: by swapping vectors
    /// when the batch holds no fault yet (the usual case: the log fills at the
    /// batch's size), else by copying.
    fn take(&mut self, log: &mut FaultLog) {
        if self.faults.is_empty() {
            // Events already in the batch are placed before fault 0: still so.
            std::mem::swap(&mut self.faults, &mut log.faults);
            std::mem::swap(&mut self.steps, &mut log.steps);
        } else {
            self.faults.extend_from_slice(&log.faults);
            self.steps.extend_from_slice(&log.steps);
        }
        log.clear();
    }

    fn clear(&mut self) {
        self.faults.clear();
        self.steps.clear();
        self.ooms.clear();
        self.reclaims.clear();
        self.unuses.clear();
    }

    /// Calls `f` with each fault, rebuilt in `ev`, and what its instruction's text is
    /// made from; `g` with each OOM kill, `h` with each reclaim decision and `u` with
    /// each swapoff's `try_to_unuse`, in order with the faults (reclaim before an OOM
    /// kill at the same place: the kill comes when reclaim freed nothing).
    fn each(
        &self,
        ev: &mut FaultEvent,
        mut f: impl FnMut(&FaultEvent, &InsnSource),
        mut g: impl FnMut(&OomEvent),
        mut h: impl FnMut(&ReclaimEvent),
        mut u: impl FnMut(&UnuseEvent),
    ) {
        let mut ooms = self.ooms.iter().peekable();
        let mut reclaims = self.reclaims.iter().peekable();
        // Placed by the faults and the reclaim decisions before each.
        let mut unuses = self.unuses.iter().peekable();
        let mut unuses_due = |faults: usize, reclaimed: usize| {
            while let Some((_, _, e)) =
                unuses.next_if(|(f, r, _)| *f as usize <= faults && *r as usize <= reclaimed)
            {
                u(e);
            }
        };
        let mut reclaimed = 0;
        let mut spill_at = 0;
        for (i, fault) in self.faults.iter().enumerate() {
            while let Some((_, r)) = reclaims.next_if(|(before, _)| *before as usize <= i) {
                unuses_due(i, reclaimed);
                h(r);
                reclaimed += 1;
            }
            unuses_due(i, reclaimed);
            while let Some((_, o)) = ooms.next_if(|(at, _)| *at == i) {
                g(o);
            }
            let spilled = fault.spilled as usize;
            fault.rec.unpack(&self.steps[spill_at..spill_at + spilled], ev);
            spill_at += spilled;
            f(ev, &fault.insn);
        }
        for (_, r) in reclaims {
            unuses_due(self.faults.len(), reclaimed);
            h(r);
            reclaimed += 1;
        }
        unuses_due(usize::MAX, usize::MAX);
        for (_, o) in ooms {
            g(o);
        }
    }
}

impl Piped {
    fn start(sink: Sink) -> std::io::Result<Self> {
        let (full, full_rx) = sync_channel(BATCHES_QUEUED);
        let (empty_tx, empty) = channel();
        let renderer = std::thread::Builder::new()
            .name("trace-renderer".into())
            .spawn(move || render(full_rx, empty_tx, sink))?;
        Ok(Piped { batch: Batch::new(), full, empty, stopped: false, renderer })
    }

    /// Hands the batch being filled to the renderer and takes an empty one.
    fn send(&mut self) {
        let next = self.empty.try_recv().unwrap_or_else(|_| Batch::new());
        let full = std::mem::replace(&mut self.batch, next);
        if !self.stopped && self.full.send(full).is_err() {
            self.stopped = true;
        }
    }

    /// Sends what is left and waits for the renderer: the sink, or None if the
    /// renderer panicked.
    fn finish(mut self) -> Option<Sink> {
        if self.batch.len() > 0 {
            self.send();
        }
        drop(self.full);
        self.renderer.join().ok()
    }
}

/// The renderer thread: renders every batch, in order, and gives the sink back with
/// everything written but the summary.
fn render(full: Receiver<Batch>, empty: Sender<Batch>, mut sink: Sink) -> Sink {
    // Made here, not passed in: the formatter inside is not Send.
    let mut insns = InsnTexts::new();
    let mut ev = FaultEvent::empty();
    while let Ok(mut batch) = full.recv() {
        let sink = &RefCell::new(&mut sink);
        batch.each(
            &mut ev,
            |ev, src| sink.borrow_mut().record(ev, insns.text_of(ev.eip, src)),
            |o| sink.borrow_mut().oom(o),
            |r| sink.borrow_mut().reclaim(r),
            |e| sink.borrow_mut().unuse(e),
        );
        batch.clear();
        // The guest thread may be gone already; the batch is then simply dropped.
        let _ = empty.send(batch);
    }
    sink
}

enum Observer {
    InPlace(Box<InPlace>),
    Piped(Piped),
}

/// The kernel's fault observer (through [`Tracer::observer`]), feeding a [`Sink`];
/// [`Tracer::finish`] takes the sink back at the end of the run.
pub struct Tracer(Rc<RefCell<Option<Observer>>>);

impl Tracer {
    /// Records go to `sink`: rendered on a second thread if `threaded` (a file), else
    /// as each fault happens (standard error). Fails only if the thread cannot start.
    pub fn new(sink: Sink, threaded: bool) -> std::io::Result<Self> {
        let observer = if threaded {
            Observer::Piped(Piped::start(sink)?)
        } else {
            Observer::InPlace(Box::new(InPlace { sink, insns: InsnTexts::new(), ev: FaultEvent::empty() }))
        };
        Ok(Tracer(Rc::new(RefCell::new(Some(observer)))))
    }

    /// What to give the kernel (`Machine::observe_faults`).
    pub fn observer(&self) -> Box<dyn FaultObserver> {
        Box::new(Shared(self.0.clone()))
    }

    /// Waits for every record to be rendered and gives the sink back, or None if the
    /// renderer thread stopped (it panicked).
    pub fn finish(self) -> Option<Sink> {
        let taken = self.0.borrow_mut().take();
        match taken {
            Some(Observer::InPlace(o)) => Some(o.sink),
            Some(Observer::Piped(p)) => p.finish(),
            None => None,
        }
    }
}

/// The observer the kernel holds; shared with the [`Tracer`], which takes it back.
struct Shared(Rc<RefCell<Option<Observer>>>);

impl FaultObserver for Shared {
    fn fault(&mut self, ev: &FaultEvent, cpu: &Cpu) {
        match self.0.borrow_mut().as_mut() {
            Some(Observer::InPlace(o)) => {
                let insn = o.insns.text(ev, cpu);
                o.sink.record(ev, insn);
            }
            Some(Observer::Piped(p)) => {
                p.batch.push_event(ev, InsnSource::read(ev, cpu));
                if p.batch.len() == BATCH {
                    p.send();
                }
            }
            None => {}
        }
    }

    fn fault_record(&mut self, rec: &FaultRecord, spill: &[Step], cpu: &Cpu) {
        match self.0.borrow_mut().as_mut() {
            Some(Observer::InPlace(o)) => {
                rec.unpack(spill, &mut o.ev);
                let insn = o.insns.text(&o.ev, cpu);
                o.sink.record(&o.ev, insn);
            }
            Some(Observer::Piped(p)) => {
                p.batch.push(rec, spill, InsnSource::read_at(rec.kernel_mode(), rec.eip, cpu));
                if p.batch.len() == BATCH {
                    p.send();
                }
            }
            None => {}
        }
    }

    /// Only the renderer thread's observer: the in-place one renders each fault as
    /// it happens, in order with what the guest writes to standard error.
    fn wants_log(&self) -> bool {
        matches!(self.0.borrow().as_ref(), Some(Observer::Piped(_)))
    }

    fn faults(&mut self, log: &mut FaultLog) {
        match self.0.borrow_mut().as_mut() {
            Some(Observer::Piped(p)) => {
                p.batch.take(log);
                if p.batch.len() >= BATCH {
                    p.send();
                }
            }
            // Not asked for (`wants_log`), but rendered all the same.
            Some(Observer::InPlace(o)) => {
                let InPlace { sink, insns, ev } = &mut **o;
                let mut at = 0;
                for f in &log.faults {
                    let n = f.spilled as usize;
                    f.rec.unpack(&log.steps[at..at + n], ev);
                    at += n;
                    sink.record(ev, insns.text_of(ev.eip, &f.insn));
                }
                log.clear();
            }
            None => log.clear(),
        }
    }

    fn oom_kill(&mut self, ev: &OomEvent) {
        match self.0.borrow_mut().as_mut() {
            Some(Observer::InPlace(o)) => o.sink.oom(ev),
            Some(Observer::Piped(p)) => {
                let at = p.batch.len();
                p.batch.ooms.push((at, ev.clone()));
            }
            None => {}
        }
    }

    fn reclaim(&mut self, ev: &ReclaimEvent) {
        match self.0.borrow_mut().as_mut() {
            Some(Observer::InPlace(o)) => o.sink.reclaim(ev),
            Some(Observer::Piped(p)) => {
                let before = p.batch.len() as u32;
                p.batch.reclaims.push((before, *ev));
            }
            None => {}
        }
    }

    fn unuse(&mut self, ev: &UnuseEvent) {
        match self.0.borrow_mut().as_mut() {
            Some(Observer::InPlace(o)) => o.sink.unuse(ev),
            Some(Observer::Piped(p)) => {
                let at = (p.batch.len() as u32, p.batch.reclaims.len() as u32);
                p.batch.unuses.push((at.0, at.1, *ev));
            }
            None => {}
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use growsdown_kernel::trace::{FaultResult, MemCounts};

    /// A fault event whose path is that of a fresh anonymous page.
    fn fault(seq: u64) -> FaultEvent {
        FaultEvent {
            seq,
            pid: 1,
            tid: 1 + (seq % 2) as u32,
            icount: seq * 4,
            machine_icount: seq * 5,
            eip: 0x0804_8000,
            esp: 0xbfff_f000,
            cr2: 0x4000_0000 + (seq as u32) * 0x1000,
            error_code: 6,
            kernel_mode: false,
            vma: Some((0x4000_0000, 0x8000_0000, 0x73)),
            path: vec![
                Step::DoPageFault { address: 0x4000_0000, error_code: 6, user: true },
                Step::GoodArea { write: true },
                Step::HandleMmFault,
                Step::DoAnonymousPage { zero_page: false, frame: seq as u32 * 0x1000 },
            ],
            result: FaultResult::Minor,
            min_flt: seq,
            maj_flt: 0,
            mem: MemCounts { rss: seq, pswpin: 0, pswpout: 0 },
        }
    }

    fn sink(out: impl Write + Send + 'static) -> Sink {
        Sink::new(Box::new(out), Format::Jsonl, false, false)
    }

    /// What the guest thread does with each fault, without a guest.
    fn feed(p: &mut Piped, faults: u64) {
        for seq in 1..=faults {
            p.batch.push_event(&fault(seq), InsnSource::default());
            if p.batch.len() == BATCH {
                p.send();
            }
        }
    }

    /// Shared with the test, so that what the renderer wrote can be read afterwards.
    #[derive(Clone, Default)]
    struct Written(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Written {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_fault_is_rendered_once_in_order() {
        let written = Written::default();
        let mut p = Piped::start(sink(written.clone())).unwrap();
        // Several full batches, enough to wait on the bounded channel, and a
        // partial last one.
        let faults = (BATCH * (BATCHES_QUEUED + 5) + 7) as u64;
        feed(&mut p, faults);
        let mut sink = p.finish().expect("the renderer ran to the end");
        sink.drain();
        assert!(sink.error.is_none());
        assert_eq!(sink.tally.summary().total, faults);
        let text = String::from_utf8(written.0.lock().unwrap().clone()).unwrap();
        let want: String = (1..=faults)
            .map(|seq| {
                let mut line = Vec::new();
                jsonl::write_record(&mut line, &fault(seq), "(unreadable)");
                String::from_utf8(line).unwrap() + "\n"
            })
            .collect();
        assert!(text == want, "the rendered records differ from the faults fed");
    }

    /// Fails the first write (`Breaks(false)`), panics on any after (or on the
    /// first, `Breaks(true)`).
    struct Breaks(bool);

    impl Write for Breaks {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            if std::mem::replace(&mut self.0, true) {
                panic!("a renderer that stops half way (this panic is the test's)");
            }
            Err(std::io::Error::other("the first write fails"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_renderer_that_stops_neither_holds_up_the_guest_nor_panics_it() {
        // A failed write is remembered and nothing more is written: an error at the
        // end, not a stop.
        let mut p = Piped::start(sink(Breaks(false))).unwrap();
        feed(&mut p, (BATCH * 3) as u64);
        let s = p.finish().expect("a failed write does not stop the renderer");
        assert!(s.error.is_some());

        // A renderer that panics on its first chunk: far more batches than the
        // channel holds must still go by without the guest waiting for ever.
        let mut p = Piped::start(sink(Breaks(true))).unwrap();
        feed(&mut p, (BATCH * (BATCHES_QUEUED + 20)) as u64);
        assert!(p.stopped, "sending to a renderer that is gone is noticed");
        assert!(p.finish().is_none());
    }
}
