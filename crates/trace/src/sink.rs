//! Where the fault records go: a [`Sink`] renders them (text or JSONL, the summary
//! counts, the SVG's marks) and writes them, and a [`Tracer`] is the kernel's
//! observer that feeds it. On standard error every record is rendered as its fault
//! happens and written out before the guest's next system call, in order with the
//! guest's own writes there; to a file the guest thread only copies each fault into
//! a batch, and a second thread renders and writes ([`Tracer::new`] with
//! `threaded`).

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender, TryRecvError};
use std::thread::JoinHandle;

use growsdown_cpu::Cpu;
use growsdown_kernel::trace::UnuseEvent;
use growsdown_kernel::trace::{
    FaultEvent, FaultLog, FaultObserver, FaultRecord, InsnSource, InsnTexts, LoggedFault, OomEvent,
    ReclaimEvent, Step,
};

use crate::out::Out;
use crate::svg::Picture;
use crate::template::{Marks, Templates};
use crate::{jsonl, text, Scan, Tally};

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
    buf: Out,
    /// How much is written at a time: [`CHUNK`] to a file; [`STDERR_CHUNK`] to
    /// standard error, which is also written out before each system call the guest
    /// makes (`FaultObserver::before_syscall`), so that the records and what the
    /// guest writes there come out in the order they happened.
    chunk: usize,
    format: Format,
    error: Option<std::io::Error>,
    /// What the text format's records repeat.
    memo: text::Memo,
    /// Records kept to write the next ones like them from.
    templates: Templates,
    tally: Tally,
    picture: Option<Picture>,
}

/// How much a trace on standard error buffers at most between the guest's system
/// calls: a guest that faults without making any still shows its records soon.
const STDERR_CHUNK: usize = 64 * 1024;

/// How much a file-backed trace buffers between writes: a fault-heavy guest
/// writes ~85 MB of text in ~35 ms, and a system call every 64 KB cost the
/// renderer thread more than its share.
const CHUNK: usize = 1024 * 1024;

impl Sink {
    /// A sink writing to `out`: standard error (`stderr`: in small chunks, and
    /// whenever the guest makes a system call) or a file (in large chunks); with
    /// `svg`, also keeping the marks of an SVG picture.
    pub fn new(out: Box<dyn Write + Send>, format: Format, stderr: bool, svg: bool) -> Self {
        let chunk = if stderr { STDERR_CHUNK } else { CHUNK };
        Sink {
            out,
            buf: Out::with_capacity(chunk + 8192),
            chunk,
            format,
            error: None,
            memo: text::Memo::default(),
            templates: Templates::default(),
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
        self.buf.put_slice(tail.as_bytes());
        self.drain();
        let written = self.out.flush();
        match self.error.take() {
            Some(e) => Err(e),
            None => written.map(|()| self.picture),
        }
    }

    fn record(&mut self, ev: &FaultEvent, insn: &str) {
        let steps = ev.path.iter().copied();
        self.write(ev, steps, insn);
        if let Some(p) = &mut self.picture {
            p.add(ev, insn);
        }
        self.drain_if_due();
    }

    /// [`Sink::record`] for a fault as the kernel logged it, its path still packed:
    /// rendered straight from the record, its steps decoded as they are written, when
    /// no SVG needs the event whole (and, rarely, when the path did not pack: then it
    /// is unpacked into `ev`).
    fn record_logged(&mut self, f: &LoggedFault, spill: &[Step], ev: &mut FaultEvent, insn: &str) {
        match f.rec.steps() {
            Some(steps) if self.picture.is_none() => {
                let Sink { buf, format, memo, templates, .. } = self;
                let scan =
                    templates.write(buf, &f.rec, steps.clone(), ev, insn, |out, ev, steps, scan, marks| {
                        write_fault(*format, out, ev, steps, scan, insn, memo, marks)
                    });
                self.tally.add_steps(f.rec.result, &scan, || steps);
                self.drain_if_due();
            }
            _ => {
                f.rec.unpack(spill, ev);
                self.record(ev, insn);
            }
        }
    }

    /// Renders and counts the fault `ev` whose steps `steps` gives (its own path is
    /// not read).
    #[inline]
    fn write<S: Iterator<Item = Step> + Clone>(&mut self, ev: &FaultEvent, steps: S, insn: &str) {
        let Sink { buf, format, memo, tally, .. } = self;
        let scan = Scan::of(steps.clone());
        write_fault(*format, buf, ev, steps.clone(), &scan, insn, memo, &mut Marks::default());
        tally.add_steps(ev.result, &scan, || steps);
    }

    /// Writes the buffer out once a chunk is full.
    fn drain_if_due(&mut self) {
        if self.buf.len() >= self.chunk {
            self.drain();
        }
    }

    fn oom(&mut self, ev: &OomEvent) {
        match self.format {
            Format::Text => text::write_oom(&mut self.buf, ev),
            Format::Jsonl => {
                self.buf.put_slice(jsonl::oom_line(ev).as_bytes());
                self.buf.byte(b'\n');
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
                self.buf.byte(b'\n');
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
                self.buf.byte(b'\n');
            }
        }
        if let Some(p) = &mut self.picture {
            p.add_unuse(ev);
        }
        self.drain_if_due();
    }

    fn drain(&mut self) {
        if self.buf.len() == 0 {
            return;
        }
        if self.error.is_none() {
            if let Err(e) = self.out.write_all(self.buf.as_bytes()) {
                self.error = Some(e);
            }
        }
        self.buf.clear();
    }
}

/// Appends the record of the fault `ev` in `format`, a whole line: its steps as
/// `steps` gives them, scanned into `scan`; `memo` the text format's, `marks` where
/// its numbers went ([`Marks`]).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn write_fault<S: Iterator<Item = Step> + Clone>(
    format: Format,
    out: &mut Out,
    ev: &FaultEvent,
    steps: S,
    scan: &Scan,
    insn: &str,
    memo: &mut text::Memo,
    marks: &mut Marks,
) {
    match format {
        Format::Text => text::write_record(out, ev, steps, scan, insn, memo, marks),
        Format::Jsonl => {
            jsonl::write_record(out, ev, steps, insn, marks);
            out.byte(b'\n');
        }
    }
}

/// Standard error: every record rendered as the fault happens and written out
/// before the guest's next system call, so that records and the guest's own writes
/// to standard error come out in the order they happened.
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
/// did not pack: about 620 KB however long the run, beside the renderer's output
/// buffer ([`CHUNK`], 1 MB) and its templates (`template::Templates`, 16 records).
/// Few batches also keep the memory the guest thread writes
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

    /// Calls `f` with each fault and its path if it did not pack; `g` with each OOM
    /// kill, `h` with each reclaim decision and `u` with each swapoff's
    /// `try_to_unuse`, in order with the faults (reclaim before an OOM kill at the
    /// same place: the kill comes when reclaim freed nothing).
    fn each(
        &self,
        mut f: impl FnMut(&Fault, &[Step]),
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
            f(fault, &self.steps[spill_at..spill_at + spilled]);
            spill_at += spilled;
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
    // Made here, not passed in: the formatter inside is not Send. Its tables are
    // built now, while the guest runs, not when the first batch comes (at exit, for
    // a short program).
    InsnTexts::warm_up();
    let mut insns = InsnTexts::new();
    let mut ev = FaultEvent::empty();
    let spin = std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
    while let Some(mut batch) = next_batch(&full, spin) {
        let sink = &RefCell::new(&mut sink);
        batch.each(
            |f, spill| sink.borrow_mut().record_logged(f, spill, &mut ev, insns.text_of(f.rec.eip, &f.insn)),
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

/// The next batch, or None once the guest thread is done. A renderer that has
/// caught up waits for the next batch busily for a while ([`SPIN`]) before it
/// sleeps: waking a sleeping thread is a system call on the guest thread's side
/// (and in a virtual machine an interrupt between processors), which at a batch
/// every ~100 µs of a fault-heavy guest cost more than the rendering.
fn next_batch(full: &Receiver<Batch>, spin: bool) -> Option<Batch> {
    let start = std::time::Instant::now();
    loop {
        match full.try_recv() {
            Ok(b) => return Some(b),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) if spin && start.elapsed() < SPIN => std::hint::spin_loop(),
            Err(TryRecvError::Empty) => return full.recv().ok(),
        }
    }
}

/// How long [`next_batch`] waits busily: a few batches' time on a fault-heavy
/// guest, nothing a fault-light one notices (it sends a batch every 512 faults).
/// Only with a second processor to wait on: on one, the guest thread would wait
/// for the renderer's busy waiting.
const SPIN: std::time::Duration = std::time::Duration::from_micros(500);

enum Observer {
    InPlace(Box<InPlace>),
    Piped(Piped),
}

/// The kernel's fault observer (through [`Tracer::observer`]), feeding a [`Sink`];
/// [`Tracer::finish`] takes the sink back at the end of the run.
pub struct Tracer(Rc<RefCell<Option<Observer>>>);

impl Tracer {
    /// Records go to `sink`: rendered on a second thread if `threaded` (a file), else
    /// as each fault happens and written out before the guest's next system call
    /// (standard error). Fails only if the thread cannot start.
    pub fn new(sink: Sink, threaded: bool) -> std::io::Result<Self> {
        let observer = if threaded {
            Observer::Piped(Piped::start(sink)?)
        } else {
            // The formatter's tables built beside the guest's start (loading the
            // ELF, the first instructions) instead of at its first fault, on this
            // thread. If the thread cannot start, the first fault builds them.
            let _ = std::thread::Builder::new().name("trace-warm-up".into()).spawn(InsnTexts::warm_up);
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
                // Written as the renderer thread writes a logged fault (from a
                // template, mostly), here as it happens.
                let InPlace { sink, insns, ev } = &mut **o;
                let src = InsnSource::read_at(rec.kernel_mode(), rec.eip, cpu);
                let f = LoggedFault { rec: *rec, spilled: spill.len() as u32, insn: src };
                sink.record_logged(&f, spill, ev, insns.text_of(rec.eip, &src));
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
                    sink.record_logged(f, &log.steps[at..at + n], ev, insns.text_of(f.rec.eip, &f.insn));
                    at += n;
                }
                log.clear();
            }
            None => log.clear(),
        }
    }

    fn before_syscall(&mut self) {
        if let Some(Observer::InPlace(o)) = self.0.borrow_mut().as_mut() {
            o.sink.drain();
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
    use crate::Record;
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
                let mut line = Out::default();
                let ev = fault(seq);
                jsonl::write_record(
                    &mut line,
                    &ev,
                    ev.path.iter().copied(),
                    "(unreadable)",
                    &mut Marks::default(),
                );
                line.into_string() + "\n"
            })
            .collect();
        assert!(text == want, "the rendered records differ from the faults fed");
    }

    /// Paths the kernel packs, one of each step kind among them, for the fault that
    /// [`fault`] makes (its address, error code and ESP).
    fn packable_paths() -> Vec<Vec<Step>> {
        let dpf = Step::DoPageFault { address: 0x4000_0000, error_code: 6, user: true };
        let vma = Step::FindVma { vma: Some((0x4000_0000, 0x8000_0000, 0x73)) };
        vec![
            vec![
                dpf,
                vma,
                Step::EspCheck { esp: 0xbfff_f000, ok: true },
                Step::ExpandStack { old_start: 0x4000_1000, new_start: 0x4000_0000, ok: true },
                Step::GoodArea { write: true },
                Step::HandleMmFault,
                Step::HandlePteFault { pte: 0 },
                Step::DoAnonymousPage { zero_page: false, frame: 0x41000 },
            ],
            vec![
                dpf,
                vma,
                Step::GoodArea { write: false },
                Step::HandleMmFault,
                Step::HandlePteFault { pte: 0 },
            ],
            vec![dpf, Step::DoAnonymousPage { zero_page: true, frame: 0x2000 }],
            vec![dpf, vma, Step::HandleMmFault, Step::HandlePteFault { pte: 0x2025 }],
            vec![dpf, Step::DoWpPage { copied: true, from_zero_page: true, frame: 0x43000 }],
            vec![dpf, Step::DoWpPage { copied: true, from_zero_page: false, frame: 0x44000 }],
            vec![dpf, Step::DoWpPage { copied: false, from_zero_page: false, frame: 0x45000 }],
            vec![
                dpf,
                Step::PteAlloc { table: 0x9000 },
                Step::DoNoPage { file_page: 12_345, early_cow: true },
            ],
            vec![dpf, Step::FindVma { vma: None }, Step::NoContextFixup],
            vec![dpf, Step::FindGetPage { hit: false }, Step::FindGetPage { hit: true }, Step::Spurious],
            vec![dpf, Step::SigBus],
            vec![dpf, Step::OutOfMemory, Step::OomKill { victim: 0 }, Step::OomKill { victim: 1001 }],
            vec![dpf, Step::DoSwapPage { slot: 77, cached: true, frame: 0x7000 }],
            vec![dpf, Step::DoSwapPage { slot: 78, cached: false, frame: 0x7000 }],
            vec![dpf, Step::ShmemGetpage { slot: 9, cached: false, frame: 0x8000 }],
            vec![dpf, Step::ExpandStack { old_start: 0x4000_1000, new_start: 0x4000_0000, ok: false }],
            vec![],
            // Too many functions for a path code: the summary keys it by them.
            [dpf, Step::HandleMmFault].repeat(14),
            // Does not pack (a string): rendered from the event.
            vec![dpf, Step::FindVma { vma: None }, Step::BadArea { reason: "no vma", si_code: 1 }],
        ]
    }

    #[test]
    fn a_logged_fault_is_rendered_and_counted_as_its_event_is() {
        use growsdown_kernel::trace::FaultResult as R;
        let results = [R::Minor, R::Major, R::SigSegv { si_code: 2 }, R::SigBus { si_code: 1 }, R::Efault];
        for format in [Format::Text, Format::Jsonl] {
            let (fast_out, slow_out) = (Written::default(), Written::default());
            let mut fast = Sink::new(Box::new(fast_out.clone()), format, false, false);
            let mut slow = Sink::new(Box::new(slow_out.clone()), format, false, false);
            // Each record alone, with nothing kept from the one before.
            let mut alone = Vec::new();
            let mut ev = FaultEvent::empty();
            let mut packed = 0;
            // Twice over, so that call-chain lines and summary entries are found again.
            let paths = packable_paths();
            for (i, path) in paths.iter().chain(&paths).enumerate() {
                let mut e = fault(i as u64 + 1);
                e.path = path.clone();
                e.cr2 = 0x4000_0000;
                // What the text format keeps from record to record changes now
                // and then, and comes back.
                e.eip = [0x0804_8000, 0x0804_8010, 0x0804_8000][i % 3];
                e.esp = [0xbfff_f000, 0xbfff_f000, 0xbfff_e000, 0xbfff_f000][i % 4];
                e.vma = [e.vma, Some((0x4000_0000, 0x4010_0000, 0x73)), e.vma, None][i % 4];
                if let Some(Step::FindVma { vma }) = e.path.get_mut(1) {
                    *vma = [*vma, Some((0x4000_0000, 0x4001_0000, 0x77))][i % 2];
                }
                e.error_code = [6, 6, 4, 7][i % 4];
                e.result = results[i % results.len()];
                e.kernel_mode = i % 3 == 1;
                if let Some(Step::DoPageFault { user, error_code, .. }) = e.path.first_mut() {
                    *user = !e.kernel_mode;
                    *error_code = e.error_code;
                }
                let mut spill = Vec::new();
                let rec = FaultRecord::pack(&e, &mut spill);
                packed += usize::from(!rec.path.spilled());
                let f = LoggedFault { rec, spilled: spill.len() as u32, insn: InsnSource::default() };
                fast.record_logged(&f, &spill, &mut ev, "movzx ecx, byte ptr [edx]");
                // What the record keeps of the event (its counters are 32 bits wide).
                let mut back = FaultEvent::empty();
                rec.unpack(&spill, &mut back);
                slow.record(&back, "movzx ecx, byte ptr [edx]");
                alone.push(Record { ev: back, insn: "movzx ecx, byte ptr [edx]".into() });
            }
            assert_eq!(packed, 2 * paths.len() - 2, "all but bad_area's path pack");
            fast.close().unwrap();
            slow.close().unwrap();
            let (fast, slow) = (fast_out.0.lock().unwrap().clone(), slow_out.0.lock().unwrap().clone());
            assert!(fast.len() > 5000, "{format:?}: the records were written");
            let summary = crate::summarize(&alone);
            let alone: String = match format {
                Format::Text => alone.iter().map(text::record).collect::<String>() + &text::summary(&summary),
                Format::Jsonl => {
                    alone.iter().map(|r| jsonl::record(r) + "\n").collect::<String>()
                        + &jsonl::summary(&summary)
                        + "\n"
                }
            };
            assert!(slow == alone.as_bytes(), "{format:?}: {}\n---\n{alone}", String::from_utf8_lossy(&slow));
            assert!(
                fast == slow,
                "{format:?}: {}\n---\n{}",
                String::from_utf8_lossy(&fast),
                String::from_utf8_lossy(&slow)
            );
        }
    }

    /// Most records are written from the last one like them (a template,
    /// `template::Templates`): thousands of faults along a few paths at a few
    /// instructions, their numbers of every width, must come out as each record
    /// written alone, in both formats.
    #[test]
    fn records_written_from_templates_are_the_records() {
        for format in [Format::Text, Format::Jsonl] {
            let mut seed = 0x2545_f491_4f6c_dd1du64;
            let mut next = |n: u64| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed % n
            };
            let out = Written::default();
            let mut sink = Sink::new(Box::new(out.clone()), format, false, false);
            let mut ev = FaultEvent::empty();
            let mut alone = Vec::new();
            let mut seq = 0;
            for _ in 0..4000 {
                // Numbers of every width, so that templates are written around as
                // well as over.
                let wide = |lo: u64, pick: u64| [lo, lo * 9 + 7, lo * 100 + 1, 123_456_789, 5][pick as usize];
                seq += 1 + [0, 0, 0, 7, 95][next(5) as usize];
                let mut e = fault(seq);
                e.icount = wide(1 + next(90), next(5));
                e.min_flt = wide(next(50), next(5));
                e.maj_flt = wide(next(3), next(5));
                e.mem = MemCounts {
                    rss: wide(next(40), next(5)),
                    pswpin: wide(next(2), next(5)),
                    pswpout: next(3),
                };
                e.tid = [e.pid, e.pid + 1][next(2) as usize];
                e.eip = [0x0804_9600, 0x0804_9608][next(2) as usize];
                e.cr2 = 0x4000_0000 + (next(1 << 20) as u32) * 0x10;
                e.error_code = [4, 6][next(2) as usize];
                let frame = [0x2000, 0x4_1000, 0x14_0000, 0x1234_5000, 0][next(5) as usize];
                let dpf = Step::DoPageFault { address: e.cr2, error_code: e.error_code, user: true };
                let vma = Step::FindVma { vma: e.vma };
                e.path = match next(6) {
                    0 => {
                        vec![dpf, vma, Step::HandleMmFault, Step::DoAnonymousPage { zero_page: true, frame }]
                    }
                    1 => vec![
                        dpf,
                        vma,
                        Step::HandleMmFault,
                        Step::DoWpPage { copied: true, from_zero_page: true, frame },
                    ],
                    // The frame is not the last step: it stays in the template.
                    2 => vec![
                        dpf,
                        Step::DoWpPage { copied: false, from_zero_page: false, frame },
                        Step::HandleMmFault,
                    ],
                    // expand_stack shows the faulting page.
                    3 => vec![
                        dpf,
                        Step::EspCheck { esp: e.esp, ok: true },
                        Step::ExpandStack { old_start: 0x4100_0000, new_start: e.cr2 & !0xfff, ok: true },
                        Step::DoAnonymousPage { zero_page: false, frame },
                    ],
                    // Two frames.
                    4 => vec![
                        dpf,
                        Step::PteAlloc { table: frame },
                        Step::DoNoPage { file_page: next(3) as u32, early_cow: false },
                        Step::DoAnonymousPage { zero_page: false, frame },
                        Step::DoWpPage { copied: true, from_zero_page: false, frame: frame + 0x1000 },
                    ],
                    _ => vec![dpf, Step::DoSwapPage { slot: next(3) as u32, cached: true, frame }],
                };
                // The same EIP with other bytes there now (rewritten code).
                let insn = ["movzx ecx, byte ptr [edx]", "mov byte ptr [edx], cl"][next(2) as usize];
                let mut spill = Vec::new();
                let rec = FaultRecord::pack(&e, &mut spill);
                assert!(!rec.path.spilled());
                let f = LoggedFault { rec, spilled: 0, insn: InsnSource::default() };
                sink.record_logged(&f, &spill, &mut ev, insn);
                let mut back = FaultEvent::empty();
                rec.unpack(&spill, &mut back);
                alone.push(Record { ev: back, insn: insn.into() });
            }
            sink.close().unwrap();
            let got = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
            let summary = crate::summarize(&alone);
            let want = match format {
                Format::Text => alone.iter().map(text::record).collect::<String>() + &text::summary(&summary),
                Format::Jsonl => {
                    alone.iter().map(|r| jsonl::record(r) + "\n").collect::<String>()
                        + &jsonl::summary(&summary)
                        + "\n"
                }
            };
            if got != want {
                let line = got.lines().zip(want.lines()).position(|(a, b)| a != b);
                panic!("{format:?}: first difference at line {line:?}");
            }
        }
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
        // More than a chunk of records (each several hundred bytes).
        let faults = (BATCH * 8) as u64;
        assert!(faults * 400 > CHUNK as u64);
        feed(&mut p, faults);
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
