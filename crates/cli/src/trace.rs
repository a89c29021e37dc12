//! `growsdown trace`: run like `run`, recording every page fault.

use std::cell::RefCell;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;

use clap::{Args, ValueEnum};
use growsdown_cpu::Cpu;
use growsdown_kernel::machine::Layout;
use growsdown_kernel::trace::{FaultEvent, FaultObserver, InsnTexts};
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

    /// Write the trace to FILE instead of standard error.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,

    /// Also draw the run as an SVG picture: faults over time against the address
    /// space, the stack's lower bound moving down as it grows.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,

    #[command(flatten)]
    guest: GuestArgs,
}

/// Everything the observer keeps. Nothing grows with the number of faults except
/// the SVG's marks, and those only when an SVG is asked for.
struct Sink {
    out: Box<dyn Write>,
    /// Records rendered and not yet written; reused, so rendering a fault allocates
    /// nothing.
    buf: Vec<u8>,
    /// Standard error is written a record at a time, in step with what the guest
    /// writes there; a file in chunks of [`CHUNK`].
    write_each: bool,
    format: Format,
    error: Option<std::io::Error>,
    insns: InsnTexts,
    /// Scratch for the text format's call chain.
    path: Vec<u8>,
    tally: Tally,
    picture: Option<Picture>,
}

/// How much a file-backed trace buffers between writes.
const CHUNK: usize = 64 * 1024;

impl Sink {
    fn drain(&mut self) {
        if self.error.is_none() {
            if let Err(e) = self.out.write_all(&self.buf) {
                self.error = Some(e);
            }
        }
        self.buf.clear();
    }
}

struct Observer(Rc<RefCell<Sink>>);

impl FaultObserver for Observer {
    fn fault(&mut self, ev: &FaultEvent, cpu: &Cpu) {
        let mut sink = self.0.borrow_mut();
        let Sink { buf, format, insns, path, tally, picture, .. } = &mut *sink;
        let insn = insns.text(ev, cpu);
        match format {
            Format::Text => text::write_record(buf, ev, insn, path),
            Format::Jsonl => {
                jsonl::write_record(buf, ev, insn);
                buf.push(b'\n');
            }
        }
        tally.add(ev);
        if let Some(p) = picture {
            p.add(ev, insn);
        }
        if sink.write_each || sink.buf.len() >= CHUNK {
            sink.drain();
        }
    }
}

pub fn run(a: TraceArgs) -> u8 {
    let out: Box<dyn Write> = match &a.output {
        Some(p) => match File::create(p) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("growsdown: cannot write the trace to {}: {e}", p.display());
                return 2;
            }
        },
        None => Box::new(std::io::stderr()),
    };
    let sink = Rc::new(RefCell::new(Sink {
        out,
        buf: Vec::with_capacity(CHUNK + 4096),
        write_each: a.output.is_none(),
        format: a.format,
        error: None,
        insns: InsnTexts::new(),
        path: Vec::new(),
        tally: Tally::default(),
        picture: a.svg.is_some().then(Picture::default),
    }));
    let (mut k, path) = match start(&a.guest, Some(Box::new(Observer(sink.clone())))) {
        Ok(v) => v,
        Err(code) => return code,
    };
    // The SVG draws the stack growing from where exec left it.
    let stack_start = k.layout().stack_start;
    let status = k.run();
    k.observe_faults(None);

    let code = finish(&k, &path, status, a.guest.stats);
    let mut sink = sink.borrow_mut();
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
