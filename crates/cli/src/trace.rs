//! `growsdown trace`: run like `run`, recording every page fault.

use std::cell::RefCell;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::thread::JoinHandle;

use clap::{Args, ValueEnum};
use growsdown_cpu::Cpu;
use growsdown_kernel::machine::Layout;
use growsdown_kernel::trace::{FaultEvent, FaultObserver, FaultResult, InsnSource, InsnTexts, Step};
use growsdown_trace::svg::Picture;
use growsdown_trace::{jsonl, text, Tally};

use crate::run::{finish, start, GuestArgs};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One block per fault, the call chain as the seed documents write it.
    Text,
    /// One JSON object per line (docs/trace-format.md), for jq.
    Jsonl,
}

#[derive(Args)]
pub struct TraceArgs {
    /// Output format of the fault records.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,

    /// Write the trace to FILE instead of standard error. A file is rendered and
    /// written by a second thread, beside the guest; standard error is written as
    /// each fault happens, in order with the guest's own output there.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,

    /// Also draw the run as an SVG picture: faults over time against the address
    /// space, the stack's lower bound moving down as it grows.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,

    #[command(flatten)]
    guest: GuestArgs,
}

/// What rendering the records keeps, on whichever thread renders them. Nothing grows
/// with the number of faults except the SVG's marks, and those only when an SVG is
/// asked for.
struct Sink {
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
        if self.write_each || self.buf.len() >= CHUNK {
            self.drain();
        }
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

/// Faults per [`Batch`].
const BATCH: usize = 512;

/// Full batches the channel holds before the guest waits. With the batch being
/// filled, the one being rendered and the full one in hand, at most
/// `BATCHES_QUEUED + 3` batches ever exist (a new one is made only when none has
/// come back), each about `BATCH` × 290 bytes (a fault's fields, its path of six to
/// eight steps, the instruction's bytes), 150 KB, or 210 KB were every path a dozen
/// steps long: about 1 MB however long the run. Few batches also keep the memory the
/// guest thread writes warm in the cache.
const BATCHES_QUEUED: usize = 4;

/// A run of faults as the guest thread copied them, with what their instructions'
/// text is made from. Flat: the events one after another, their paths one after
/// another, so that the guest thread writes a fault's copy in two sequential runs of
/// memory (which the processor fetches ahead) rather than into a path buffer of its
/// own somewhere on the heap (a cache miss each, measured: the recording cost half
/// again as much). A recycled batch is refilled without allocating.
struct Batch {
    faults: Vec<Fault>,
    steps: Vec<Step>,
}

/// A fault event without its path, which is `steps` of the batch from `path_start`
/// on, `path_len` of them.
struct Fault {
    ev: Fields,
    path_start: u32,
    path_len: u32,
    insn: InsnSource,
}

/// The fields of [`FaultEvent`] but the path.
#[derive(Clone, Copy)]
struct Fields {
    seq: u64,
    pid: u32,
    icount: u64,
    eip: u32,
    esp: u32,
    cr2: u32,
    error_code: u32,
    kernel_mode: bool,
    vma: Option<(u32, u32, u32)>,
    result: FaultResult,
    min_flt: u64,
    maj_flt: u64,
}

impl Fields {
    fn of(ev: &FaultEvent) -> Self {
        // Every field named, so that one added to FaultEvent is not forgotten here.
        let FaultEvent {
            seq,
            pid,
            icount,
            eip,
            esp,
            cr2,
            error_code,
            kernel_mode,
            vma,
            path: _,
            result,
            min_flt,
            maj_flt,
        } = *ev;
        Fields { seq, pid, icount, eip, esp, cr2, error_code, kernel_mode, vma, result, min_flt, maj_flt }
    }

    /// Writes these fields and `path` into `ev`, reusing its path buffer.
    fn restore(&self, path: &[Step], ev: &mut FaultEvent) {
        let Fields {
            seq,
            pid,
            icount,
            eip,
            esp,
            cr2,
            error_code,
            kernel_mode,
            vma,
            result,
            min_flt,
            maj_flt,
        } = *self;
        *ev = FaultEvent {
            seq,
            pid,
            icount,
            eip,
            esp,
            cr2,
            error_code,
            kernel_mode,
            vma,
            path: std::mem::take(&mut ev.path),
            result,
            min_flt,
            maj_flt,
        };
        ev.path.clear();
        ev.path.extend_from_slice(path);
    }
}

impl Batch {
    fn new() -> Self {
        // Room for the steps of the usual 2.4 paths (six to eight) without growing.
        Batch { faults: Vec::with_capacity(BATCH), steps: Vec::with_capacity(BATCH * 8) }
    }

    fn push(&mut self, ev: &FaultEvent, insn: InsnSource) {
        self.faults.push(Fault {
            ev: Fields::of(ev),
            path_start: self.steps.len() as u32,
            path_len: ev.path.len() as u32,
            insn,
        });
        self.steps.extend_from_slice(&ev.path);
    }

    fn len(&self) -> usize {
        self.faults.len()
    }

    fn clear(&mut self) {
        self.faults.clear();
        self.steps.clear();
    }

    /// Calls `f` with each fault, rebuilt in `ev`, and what its instruction's text is
    /// made from.
    fn each(&self, ev: &mut FaultEvent, mut f: impl FnMut(&FaultEvent, &InsnSource)) {
        for fault in &self.faults {
            let start = fault.path_start as usize;
            fault.ev.restore(&self.steps[start..start + fault.path_len as usize], ev);
            f(ev, &fault.insn);
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
    let mut ev = FaultEvent {
        seq: 0,
        pid: 0,
        icount: 0,
        eip: 0,
        esp: 0,
        cr2: 0,
        error_code: 0,
        kernel_mode: false,
        vma: None,
        path: Vec::new(),
        result: FaultResult::Minor,
        min_flt: 0,
        maj_flt: 0,
    };
    while let Ok(mut batch) = full.recv() {
        batch.each(&mut ev, |ev, src| sink.record(ev, insns.text_of(ev.eip, src)));
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

/// The observer the kernel holds; shared, so that the run can take it back at the end.
struct Shared(Rc<RefCell<Option<Observer>>>);

impl FaultObserver for Shared {
    fn fault(&mut self, ev: &FaultEvent, cpu: &Cpu) {
        match self.0.borrow_mut().as_mut() {
            Some(Observer::InPlace(o)) => {
                let insn = o.insns.text(ev, cpu);
                o.sink.record(ev, insn);
            }
            Some(Observer::Piped(p)) => {
                p.batch.push(ev, InsnSource::read(ev, cpu));
                if p.batch.len() == BATCH {
                    p.send();
                }
            }
            None => {}
        }
    }
}

pub fn run(a: TraceArgs) -> u8 {
    let out: Box<dyn Write + Send> = match &a.output {
        Some(p) => match File::create(p) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("growsdown: cannot write the trace to {}: {e}", p.display());
                return 2;
            }
        },
        None => Box::new(std::io::stderr()),
    };
    let sink = Sink {
        out,
        buf: Vec::with_capacity(CHUNK + 4096),
        write_each: a.output.is_none(),
        format: a.format,
        error: None,
        chains: text::Chains::default(),
        tally: Tally::default(),
        picture: a.svg.is_some().then(Picture::default),
    };
    let observer = if a.output.is_some() {
        match Piped::start(sink) {
            Ok(p) => Observer::Piped(p),
            Err(e) => {
                eprintln!("growsdown: cannot start the trace renderer: {e}");
                return 2;
            }
        }
    } else {
        Observer::InPlace(Box::new(InPlace { sink, insns: InsnTexts::new() }))
    };
    let shared = Rc::new(RefCell::new(Some(observer)));
    let (mut k, path) = match start(&a.guest, Some(Box::new(Shared(shared.clone())))) {
        Ok(v) => v,
        Err(code) => return code,
    };
    // The SVG draws the stack growing from where exec left it.
    let stack_start = k.layout().stack_start;
    let status = k.run();
    k.observe_faults(None);

    let code = finish(&k, &path, status, a.guest.stats);
    let taken = shared.borrow_mut().take();
    let sink = match taken {
        Some(Observer::InPlace(o)) => Some(o.sink),
        Some(Observer::Piped(p)) => p.finish(),
        None => None,
    };
    let Some(mut sink) = sink else {
        eprintln!("growsdown: writing the trace failed: the trace renderer stopped");
        return code.max(1);
    };
    let summary = sink.tally.summary();
    let tail = match a.format {
        Format::Text => text::summary(&summary),
        Format::Jsonl => jsonl::summary(&summary) + "\n",
    };
    sink.buf.extend_from_slice(tail.as_bytes());
    sink.drain();
    let written = sink.out.flush();
    if let Some(e) = sink.error.take().or(written.err()) {
        eprintln!("growsdown: writing the trace failed: {e}");
        return code.max(1);
    }
    if let (Some(p), Some(picture)) = (&a.svg, &sink.picture) {
        let layout = Layout { stack_start, ..k.layout() };
        if let Err(e) = std::fs::write(p, picture.render(&layout, k.stats().icount)) {
            eprintln!("growsdown: cannot write {}: {e}", p.display());
            return code.max(1);
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fault event whose path is that of a fresh anonymous page.
    fn fault(seq: u64) -> FaultEvent {
        FaultEvent {
            seq,
            pid: 1,
            icount: seq * 4,
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
        }
    }

    fn sink(out: impl Write + Send + 'static) -> Sink {
        Sink {
            out: Box::new(out),
            buf: Vec::new(),
            write_each: false,
            format: Format::Jsonl,
            error: None,
            chains: text::Chains::default(),
            tally: Tally::default(),
            picture: None,
        }
    }

    /// What the guest thread does with each fault, without a guest.
    fn feed(p: &mut Piped, faults: u64) {
        for seq in 1..=faults {
            p.batch.push(&fault(seq), InsnSource::default());
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
