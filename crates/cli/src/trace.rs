//! `growsdown trace`: run like `run`, recording every page fault.

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::rc::Rc;

use clap::{Args, ValueEnum};
use growsdown_cpu::Cpu;
use growsdown_kernel::machine::Layout;
use growsdown_kernel::trace::{insn_text, FaultEvent, FaultObserver};
use growsdown_trace::{jsonl, summarize, svg, text, Record};

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

/// Everything the observer keeps: the records (for the summary and the SVG) and the
/// stream the records are written to as they happen.
struct Sink {
    records: Vec<Record>,
    out: Box<dyn Write>,
    format: Format,
    error: Option<std::io::Error>,
}

struct Observer(Rc<RefCell<Sink>>);

impl FaultObserver for Observer {
    fn fault(&mut self, ev: &FaultEvent, cpu: &Cpu) {
        let rec = Record { ev: ev.clone(), insn: insn_text(ev, cpu) };
        let mut sink = self.0.borrow_mut();
        let line = match sink.format {
            Format::Text => text::record(&rec),
            Format::Jsonl => jsonl::record(&rec) + "\n",
        };
        if sink.error.is_none() {
            if let Err(e) = sink.out.write_all(line.as_bytes()) {
                sink.error = Some(e);
            }
        }
        sink.records.push(rec);
    }
}

pub fn run(a: TraceArgs) -> u8 {
    let out: Box<dyn Write> = match &a.output {
        Some(p) => match File::create(p) {
            Ok(f) => Box::new(BufWriter::new(f)),
            Err(e) => {
                eprintln!("growsdown: cannot write the trace to {}: {e}", p.display());
                return 2;
            }
        },
        None => Box::new(std::io::stderr()),
    };
    let sink = Rc::new(RefCell::new(Sink { records: Vec::new(), out, format: a.format, error: None }));
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
    let summary = summarize(&sink.records);
    let tail = match a.format {
        Format::Text => text::summary(&summary),
        Format::Jsonl => jsonl::summary(&summary) + "\n",
    };
    let written = sink.out.write_all(tail.as_bytes()).and_then(|()| sink.out.flush());
    if let Some(e) = sink.error.take().or(written.err()) {
        eprintln!("growsdown: writing the trace failed: {e}");
        return code.max(1);
    }
    if let Some(p) = &a.svg {
        let layout = Layout { stack_start, ..k.layout() };
        if let Err(e) = std::fs::write(p, svg::render(&sink.records, &layout, k.stats().icount)) {
            eprintln!("growsdown: cannot write {}: {e}", p.display());
            return code.max(1);
        }
    }
    code
}
