//! `growsdown trace`: run like `run`, recording every page fault.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use growsdown_kernel::machine::Layout;
use growsdown_trace::sink::{self, Sink, Tracer};

use crate::run::{finish, outlive, start, GuestArgs};
use crate::stderr::report;

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
    /// written by a second thread, beside the guest; standard error is written out
    /// before each system call the guest makes, in order with the guest's own
    /// output there.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,

    /// Also draw the run as an SVG picture: faults over time against the address
    /// space, the stack's lower bound moving down as it grows; under it, resident
    /// pages over time and, if the run used swap, pages swapped out and in.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,

    #[command(flatten)]
    guest: GuestArgs,
}

pub fn run(a: TraceArgs) -> u8 {
    let out: Box<dyn Write + Send> = match &a.output {
        Some(p) => match File::create(p) {
            Ok(f) => Box::new(f),
            Err(e) => {
                report!("growsdown: cannot write the trace to {}: {e}", p.display());
                return 2;
            }
        },
        None => Box::new(std::io::stderr()),
    };
    let format = match a.format {
        Format::Text => sink::Format::Text,
        Format::Jsonl => sink::Format::Jsonl,
    };
    let sink = Sink::new(out, format, a.output.is_none(), a.svg.is_some());
    let tracer = match Tracer::new(sink, a.output.is_some()) {
        Ok(t) => t,
        Err(e) => {
            report!("growsdown: cannot start the trace renderer: {e}");
            return 2;
        }
    };
    let (mut k, path) = match start(&a.guest, Some(tracer.observer())) {
        Ok(v) => v,
        Err(code) => return code,
    };
    // The SVG draws the stack growing from where exec left it.
    let stack_start = k.layout().stack_start;
    let status = k.run();
    k.observe_faults(None);

    let code = finish(&k, &path, status, a.guest.stats);
    let Some(sink) = tracer.finish() else {
        report!("growsdown: writing the trace failed: the trace renderer stopped");
        return code.max(1);
    };
    let picture = match sink.close() {
        Ok(p) => p,
        Err(e) => {
            report!("growsdown: writing the trace failed: {e}");
            return code.max(1);
        }
    };
    if let (Some(p), Some(mut picture)) = (&a.svg, picture) {
        // The memory curves end at the counters --stats reports.
        picture.end_mem(k.stats().icount, k.mem_counts());
        let layout = Layout { stack_start, ..k.layout() };
        if let Err(e) = std::fs::write(p, picture.render(&layout, k.stats().icount)) {
            report!("growsdown: cannot write {}: {e}", p.display());
            return code.max(1);
        }
    }
    // The trace and the SVG end with the first process; the others run on untraced.
    outlive(k);
    code
}
