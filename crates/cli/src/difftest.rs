//! `growsdown difftest`: the options and the report. The lockstep machinery (the
//! references, snapshots, the comparison, adjudication) is `growsdown_difftest`.

use std::ffi::OsString;

use crate::stderr::report;
use clap::{Args, ValueEnum};
use growsdown_difftest::{signal_name, Against, Finished, Options, Outcome, StartError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AgainstArg {
    /// Debian's qemu-i386, driven through its gdbstub.
    Qemu,
    /// The host CPU, single-stepped under ptrace.
    Native,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The reference to compare against.
    #[arg(long, value_enum, default_value = "qemu")]
    against: AgainstArg,

    /// Stop (successfully) after this many instructions.
    #[arg(long, value_name = "N")]
    max_insns: Option<u64>,

    /// Against qemu: also compare the bits where qemu-i386 7.2 is known to be wrong
    /// (C1 after a rounded-up x87 result, OF/SF/AF after FCOMI/FUCOMI), which are
    /// otherwise taken from QEMU. A difference there then stops the run and the
    /// host CPU is asked who is right (exit status 3: QEMU).
    #[arg(long)]
    strict: bool,

    /// How many of the last instructions a divergence report lists.
    #[arg(long, value_name = "K", default_value_t = 20)]
    context: usize,

    /// The program: a static ELF32 i386 executable. Searched in PATH if it has no '/'.
    #[arg(value_name = "PROG")]
    prog: OsString,

    /// Arguments for the guest, passed as they are.
    #[arg(value_name = "ARGS", trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<OsString>,
}

/// Runs the subcommand; returns its exit status (documented in `--help`).
pub fn run(a: DiffArgs) -> u8 {
    let opts = Options {
        against: match a.against {
            AgainstArg::Qemu => Against::Qemu,
            AgainstArg::Native => Against::Native,
        },
        max_insns: a.max_insns,
        strict: a.strict,
        context: a.context,
    };
    let Finished { outcome, reference, secs, qemu_wrong } =
        match growsdown_difftest::difftest(&a.prog, &a.args, &opts) {
            Ok(f) => f,
            Err(StartError::NotFound(p)) => {
                report!("growsdown difftest: {}: command not found in PATH", p.display());
                return 127;
            }
            Err(StartError::Setup(e)) => {
                report!("growsdown difftest: {e}");
                return 2;
            }
        };
    match outcome {
        Outcome::Agreed { compared, status } => {
            match status {
                Some(s) if s < 0 => report!("difftest: both sides were killed by {}", signal_name(-s)),
                Some(s) => report!("difftest: both sides exited with status {s}"),
                None => {}
            }
            report!("difftest: {:.0} instructions/s against {reference}", compared as f64 / secs.max(1e-9));
            println!("difftest: {compared} instructions compared, 0 divergences");
            0
        }
        Outcome::Diverged(d) => {
            println!("{d}");
            if qemu_wrong {
                3
            } else {
                1
            }
        }
        Outcome::Stopped { compared, why } => {
            report!("difftest: cannot go on in lockstep: {why}");
            println!("difftest: {compared} instructions compared, 0 divergences before stopping");
            2
        }
    }
}
