//! `growsdown`: run static i386 Linux programs on an emulated CPU with a real paging
//! unit and a Linux-2.4-style kernel.

mod difftest;
mod run;
mod size;
mod stderr;
mod trace;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Run unmodified static 32-bit Linux programs on an emulated i386 with a real paging
/// unit, and watch a Linux-2.4-style kernel resolve their page faults.
#[derive(Parser)]
#[command(name = "growsdown", version, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "\
Examples:
  growsdown run --stats guest-images/bin/stackgrow
  growsdown run busybox sort -r notes.txt      (everything after PROG goes to the guest)
  RUST_LOG=kernel::fault=debug growsdown run ./a.out   (log every fault decision)

Logging: RUST_LOG takes targets cpu::mmu, cpu::decode, kernel::fault, kernel::mm,
kernel::syscall (e.g. RUST_LOG=kernel::syscall=debug prints an strace-like log).";

#[derive(Subcommand)]
enum Command {
    /// Run a program to completion; its output, input and exit status pass through.
    #[command(after_help = RUN_HELP)]
    Run(run::RunArgs),
    /// Run a program like `run` and record every page fault: the instruction, CR2,
    /// the error code, the VMA, and the 2.4 kernel path that resolved it.
    #[command(after_help = TRACE_HELP)]
    Trace(trace::TraceArgs),
    /// Run a program under growsdown and a reference (QEMU or this host's CPU) in
    /// lockstep, comparing registers and flags after every instruction; stop at the
    /// first difference.
    #[command(after_help = DIFFTEST_HELP)]
    Difftest(difftest::DiffArgs),
}

const DIFFTEST_HELP: &str = "\
Examples:
  growsdown difftest guest-images/bin/hello-musl
  growsdown difftest --against native --context 40 guest-images/bin/hello-glibc a b

Exit status: 0 and 'difftest: N instructions compared, 0 divergences' when the two
agree to the end; 1 with a report (instruction count, EIP, disassembly, both sides'
registers with the differing ones marked, the last K instructions) at the first
divergence; 2 when lockstep cannot go on (execve, a thread, a forked child that
waits for its parent under qemu); 3 when QEMU is wrong: against qemu, a divergence is checked by running
the program again against this host's CPU to that instruction, and the host agrees
with growsdown (the report ends 'QEMU is wrong here: the host CPU agrees with
growsdown'; 'growsdown is wrong: the host CPU agrees with QEMU' keeps status 1).
The x87 state (FCW, FSW, tags, non-empty registers) is compared too. EFLAGS bits and
x87 condition codes the Intel SDM leaves undefined for an instruction are not
compared, nor (without --strict) the bits of qemu-i386 7.2's known errata. Signals
(into handlers, asynchronous ones such as SIGCHLD) and fork (the child runs
unfollowed on the reference) are followed. growsdown's kernel runs with the
reference's personality (qemu-user: a fixed stack; the host: its TLS numbering and
ESP test) instead of Linux 2.4's; the presets are in docs/architecture.md. Limits and
the start-up differences between the sides: docs/difftest.md.";

const TRACE_HELP: &str = "\
Examples:
  growsdown trace guest-images/bin/esp32                 (text blocks on stderr)
  growsdown trace --format jsonl -o t.jsonl --svg t.svg guest-images/bin/stackgrow
  jq -c 'select(.result==\"minor\") | [.seq, .cr2, [.path[].fn]]' t.jsonl

The JSONL fields are documented in docs/trace-format.md. The program's own output
and exit status are exactly those of `growsdown run`.";

const RUN_HELP: &str = "\
The exit status is the guest's. A guest killed by signal N prints one line to stderr
(signal, si_code, the fault address or the sending pid, EIP) and growsdown exits
with 128+N, like a shell.
growsdown exits when the first process does; guest processes that outlive it (a
`worker &`, a daemon) run on in a growsdown child process until the last one ends.
Signals sent to growsdown go to the guest: TERM, HUP, USR1, USR2 and CONT to its first
process, INT, QUIT and WINCH to every guest process in that process's group (as a
terminal sends them); the guest's handlers run, and its SIG_IGN ignores them.
Files, the current directory and the environment are the host's (as with qemu-user).";

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        .format_timestamp(None)
        .init();
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Trace(args) => trace::run(args),
        Command::Difftest(args) => difftest::run(args),
    };
    ExitCode::from(code)
}
