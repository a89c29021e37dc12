//! `growsdown difftest`: run a program under growsdown and under a reference (QEMU
//! or the host CPU) at the same time, compare the architectural state after every
//! instruction, and stop at the first divergence. See docs/difftest.md.
//!
//! * [`flags`] — the SDM's undefined EFLAGS per instruction;
//! * [`state`] — snapshots, the comparison, the divergence report;
//! * [`qemu`] / [`rsp`] — qemu-i386 through its gdbstub;
//! * [`native`] — the host CPU under ptrace;
//! * [`sync`] — what happens at a system call;
//! * [`image`] — the program's code bytes and the reference's initial stack.

pub mod flags;
pub mod image;
pub mod native;
pub mod qemu;
pub mod qemulog;
pub mod rsp;
pub mod sigframe;
pub mod sse;
pub mod state;
pub mod sync;
pub mod x87;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use growsdown_cpu::{EAX, EBP, EBX, ECX, EDI, EDX, ESI};
use growsdown_decoder::{decode_one, Instruction, Mnemonic};
use growsdown_kernel::machine::Interrupted;
use growsdown_kernel::syscall::nr;
use growsdown_kernel::{Config, ExitStatus, Machine, Personality, Stepped};

use image::{CodeMap, InitialStack};
use state::{Differ, Divergence, Fixup, Snapshot};

/// What one step of a reference did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// One instruction retired (REP iterations merged); the state after it.
    Stepped(Snapshot),
    /// The instruction did not complete: the process stopped with this signal
    /// (the state is the one the signal is taken in).
    Signal(i32, Snapshot),
    /// exit/exit_group with this status.
    Exited(i32),
    /// Killed by this signal.
    Killed(i32),
}

/// A reference implementation difftest can single-step.
pub trait Reference {
    fn name(&self) -> &'static str;
    /// The state before the next instruction.
    fn state(&self) -> Snapshot;
    /// Executes one instruction. CPUID is answered with growsdown's values.
    fn step(&mut self) -> Result<Event, String>;
    fn read_mem(&mut self, addr: u32, len: usize) -> Result<Vec<u8>, String>;
    /// Sets registers: 0–7 the general registers in EAX ECX EDX EBX ESP EBP ESI EDI
    /// order, 8 EIP, 9 EFLAGS (gdb's i386 numbering).
    fn set_regs(&mut self, regs: &[(usize, u32)]) -> Result<(), String>;
    /// The [`Personality`] preset under which growsdown's kernel decides what the
    /// reference's kernel decides (stack placement, the break, TLS numbering, the
    /// ESP test), given the stack the reference built.
    fn personality(&self, st: &InitialStack) -> Personality;
    /// After [`Event::Signal`] `sig`: let the reference's kernel deliver it, where
    /// growsdown's found no handler and the default action kills. The process must
    /// end killed by `sig` ([`Event::Killed`]).
    fn deliver_fatal(&mut self, sig: i32) -> Result<Event, String>;
    /// After [`Event::Signal`] `sig`, where growsdown's kernel ran a handler (at
    /// `handler`): let the reference's kernel deliver it and stop at the handler's
    /// first instruction, before it runs ([`Event::Stepped`] with the state there).
    fn deliver_to_handler(&mut self, sig: i32, handler: u32) -> Result<Event, String>;
    /// Whether the comparison takes QEMU 7.2's known errata from this reference
    /// ([`flags::qemu_errata`]) instead of stopping there.
    fn known_errata(&self) -> bool {
        false
    }
    /// Whether this reference is the host CPU itself (results the SDM only bounds,
    /// like RCPPS's, are then compared: [`sse::approximated_dest`]).
    fn is_host_cpu(&self) -> bool {
        false
    }
    /// Whether one [`Reference::step`] of MOV SS or POP SS also runs the next
    /// instruction. The load of SS holds off the single-step trap until after the
    /// next instruction (SDM Vol. 3A §6.8.3, "Masking Exceptions and Interrupts When
    /// Switching Stacks"), so a reference single-stepped with the trap flag (ptrace
    /// on the host CPU) stops only after both; QEMU's gdbstub and log step one
    /// instruction.
    fn steps_over_ss_shadow(&self) -> bool {
        false
    }
    /// Whether this reference's kernel leaves XMM0–7 and MXCSR alone across signal
    /// delivery: a handler starts with the interrupted values (not the init state
    /// of today's Linux and growsdown), and sigreturn does not restore them (its
    /// frames hold no FXSR image). difftest then takes them from the reference at
    /// both points.
    fn signals_keep_sse(&self) -> bool {
        false
    }
    /// `--strict`: compare the bits of the known errata too.
    fn set_strict(&mut self, _strict: bool) {}
    /// The stack as exec built it (call before the first step).
    fn initial_stack(&mut self) -> Result<InitialStack, String> {
        let esp = self.state().regs[4];
        InitialStack::read(esp, |a, n| self.read_mem(a, n))
    }
}

/// Which reference growsdown is compared against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Against {
    /// Debian's qemu-i386, driven through its gdbstub.
    Qemu,
    /// The host CPU, single-stepped under ptrace.
    Native,
}

/// What a difftest run is asked to do (the `growsdown difftest` options).
#[derive(Clone, Debug)]
pub struct Options {
    /// The reference to compare against.
    pub against: Against,
    /// Stop (successfully) after this many instructions.
    pub max_insns: Option<u64>,
    /// Against qemu: also compare the bits of qemu-i386 7.2's known errata.
    pub strict: bool,
    /// How many of the last instructions a divergence report lists.
    pub context: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self { against: Against::Qemu, max_insns: None, strict: false, context: 20 }
    }
}

/// In a reference's process between fork and exec: every signal back to its
/// default action and none blocked, as growsdown's kernel starts a program.
/// Ignored dispositions and the mask survive exec, and difftest's own are not the
/// program's: the Rust runtime ignores SIGPIPE, a background shell job has SIGINT
/// ignored (QEMU's user mode hands the ones it inherits to the guest).
pub(crate) fn default_signals() {
    // SAFETY: async-signal-safe calls on this process's own signal state.
    unsafe {
        for sig in 1..32 {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::signal(sig, libc::SIG_DFL);
            }
        }
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
    }
}

/// Finds PROG the way execvp does.
fn resolve(prog: &Path) -> Option<PathBuf> {
    if prog.as_os_str().as_bytes().contains(&b'/') {
        return Some(prog.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(prog)).find(|p| p.is_file())
}

/// Starts the chosen reference on `prog args` with `env`.
pub fn start_reference(
    against: Against,
    prog: &Path,
    args: &[OsString],
    env: &[(OsString, OsString)],
) -> Result<Box<dyn Reference>, String> {
    Ok(match against {
        Against::Qemu => Box::new(qemu::Qemu::start(prog, args, env, &qemu::QemuOptions::default())?),
        Against::Native => Box::new(native::Native::start(prog, args, env)?),
    })
}

/// How a lockstep run ended.
#[derive(Debug)]
pub enum Outcome {
    /// Both sides exited with these statuses (equal; −N: both killed by signal N),
    /// or the budget ran out (None).
    Agreed {
        compared: u64,
        status: Option<i32>,
    },
    Diverged(Box<Divergence>),
    /// Lockstep could not go on (a limitation or a setup problem), after `compared`
    /// equal instructions.
    Stopped {
        compared: u64,
        why: String,
    },
}

/// A difftest run that got as far as comparing.
#[derive(Debug)]
pub struct Finished {
    pub outcome: Outcome,
    /// The reference's name, for the report.
    pub reference: String,
    /// Wall-clock seconds from starting the reference to the end of lockstep.
    pub secs: f64,
    /// Against qemu, after a divergence: the host CPU agrees with growsdown (the
    /// verdict's notes are already in the divergence's notes).
    pub qemu_wrong: bool,
}

/// Why a difftest run could not start.
#[derive(Debug)]
pub enum StartError {
    /// PROG has no '/' and is not in PATH.
    NotFound(PathBuf),
    /// The reference or growsdown could not be started like it.
    Setup(String),
}

/// Runs `prog args` (with this process's environment) under growsdown and the
/// chosen reference in lockstep, and against qemu asks the host CPU who is right
/// after a divergence.
pub fn difftest(prog: &OsStr, args: &[OsString], opts: &Options) -> Result<Finished, StartError> {
    let prog_path = Path::new(prog);
    let path = resolve(prog_path).ok_or_else(|| StartError::NotFound(prog_path.to_path_buf()))?;
    let env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let t0 = Instant::now();
    let mut reference = start_reference(opts.against, &path, args, &env).map_err(StartError::Setup)?;
    reference.set_strict(opts.strict);
    let mut k = boot_like(&path, prog, args, reference.as_mut()).map_err(StartError::Setup)?;
    let code = CodeMap::from_elf(&path).unwrap_or_default();
    let mut outcome = lockstep(&mut k, reference.as_mut(), &code, opts.max_insns, opts.context);
    let secs = t0.elapsed().as_secs_f64();
    let mut qemu_wrong = false;
    if let (Outcome::Diverged(d), Against::Qemu) = (&mut outcome, opts.against) {
        let verdict = adjudicate(&path, prog, args, &env, &code, d);
        d.notes.extend(verdict.notes);
        d.notes.push(verdict.line.clone());
        qemu_wrong = verdict.qemu_wrong;
    }
    Ok(Finished { outcome, reference: reference.name().to_string(), secs, qemu_wrong })
}

/// Who is right about a divergence against QEMU, by asking the host CPU.
#[derive(Debug)]
pub struct Verdict {
    /// The host CPU agrees with growsdown at the divergent instruction.
    pub qemu_wrong: bool,
    /// The verdict, one line.
    pub line: String,
    /// The host's values of the differing fields, and how it was found.
    pub notes: Vec<String>,
}

/// The fields `m` marks as different, with the values of `s` (for the host's side of
/// an adjudication): "st0 (R7) = bfbf:8000000000000000 (-5.42...e-20)".
fn describe_fields(m: &state::Mismatch, s: &Snapshot) -> Vec<String> {
    let mut v = Vec::new();
    if m.eip {
        v.push(format!("eip = {:#010x}", s.eip));
    }
    for (i, name) in growsdown_cpu::REG_NAMES.iter().enumerate() {
        if m.regs & (1 << i) != 0 {
            v.push(format!("{name} = {:#010x}", s.regs[i]));
        }
    }
    if m.flags != 0 {
        let bits: Vec<String> = (0..32)
            .filter(|b| m.flags & (1 << b) != 0)
            .map(|b| format!("{}={}", flags::flag_names(1 << b), (s.eflags >> b) & 1))
            .collect();
        v.push(format!("eflags = {:#010x} ({})", s.eflags, bits.join(" ")));
    }
    if let Some(x) = &s.x87 {
        if m.fcw {
            v.push(format!("fcw = {:#06x}", x.fcw));
        }
        if m.fsw != 0 {
            v.push(format!("fsw = {:#06x} {}", x.fsw, x87::fsw_names(x.fsw)));
        }
        if m.ftw != 0 {
            v.push(format!("ftw = {:#04x}", x.valid));
        }
        for p in 0..8 {
            if m.fpr & (1 << p) != 0 {
                v.push(format!(
                    "st{} (R{p}) = {} ({})",
                    (p + 8 - usize::from(m.top)) & 7,
                    x87::hex80(x.r[p]),
                    x87::decimal80(x.r[p])
                ));
            }
        }
    }
    if let Some(x) = &s.sse {
        for i in 0..8 {
            if m.xmm & (1 << i) != 0 {
                v.push(format!("xmm{i} = {}", sse::hex128(x.xmm[i])));
            }
        }
        if m.mxcsr != 0 {
            v.push(format!("mxcsr = {:#010x} {}", x.mxcsr, sse::mxcsr_names(x.mxcsr)));
        }
    }
    v
}

/// Whether `a` and `b` agree in every field `m` marks.
fn same_fields(m: &state::Mismatch, a: &Snapshot, b: &Snapshot) -> bool {
    let regs = (0..8).all(|i| m.regs & (1 << i) == 0 || a.regs[i] == b.regs[i]);
    let x87 = match (&a.x87, &b.x87) {
        (Some(x), Some(y)) => {
            (!m.fcw || x.fcw == y.fcw)
                && (x.fsw ^ y.fsw) & m.fsw == 0
                && (x.valid ^ y.valid) & m.ftw == 0
                && (0..8).all(|p| m.fpr & (1 << p) == 0 || x.r[p] == y.r[p])
        }
        _ => !m.fcw && m.fsw == 0 && m.ftw == 0 && m.fpr == 0,
    };
    let sse = match (&a.sse, &b.sse) {
        (Some(x), Some(y)) => {
            (x.mxcsr ^ y.mxcsr) & m.mxcsr == 0
                && (0..8).all(|i| m.xmm & (1 << i) == 0 || x.xmm[i] == y.xmm[i])
        }
        _ => m.xmm == 0 && m.mxcsr == 0,
    };
    (!m.eip || a.eip == b.eip)
        && regs
        && (a.eflags ^ b.eflags) & m.flags == 0
        && (m.sel | m.base) == 0
        && x87
        && sse
}

/// After a divergence against QEMU at instruction `d.n`: runs the program again in
/// lockstep against the host CPU (the same machinery as `--against native`) up to
/// the same instruction, then that instruction alone, and compares. "The same
/// instruction" is the `d.hit`-th execution of the instruction at `d.eip`, not the
/// n-th instruction: glibc's start-up walks the auxv and the stack, which differ
/// between the references, so instruction counts differ by a few dozen.
pub fn adjudicate(
    path: &Path,
    prog: &OsStr,
    args: &[OsString],
    env: &[(OsString, OsString)],
    code: &CodeMap,
    d: &Divergence,
) -> Verdict {
    let none = |line: String| Verdict { qemu_wrong: false, line, notes: vec![] };
    if let Err(e) = native::host_check() {
        return none(format!("no verdict from the host CPU: {e}"));
    }
    let mut r: Box<dyn Reference> = match native::Native::start(path, args, env) {
        Ok(n) => Box::new(n),
        Err(e) => return none(format!("no verdict from the host CPU: {e}")),
    };
    let mut k = match boot_like(path, prog, args, r.as_mut()) {
        Ok(k) => k,
        Err(e) => return none(format!("no verdict from the host CPU: {e}")),
    };
    let mut notes = vec![];
    match lockstep_until(&mut k, r.as_mut(), code, None, 0, Some((d.eip, d.hit))) {
        Outcome::Agreed { compared, status: None } => notes.push(format!(
            "asked the host CPU: the program again, growsdown against native, to execution {} of {:#010x} (native instruction {})",
            d.hit,
            d.eip,
            compared + 1
        )),
        Outcome::Agreed { compared, status: Some(st) } => {
            return none(format!(
                "no verdict from the host CPU: against native the program ended (status {st}) after {compared} instructions"
            ))
        }
        Outcome::Diverged(e) => {
            return none(format!(
                "no verdict from the host CPU: against native growsdown diverged earlier, after instruction {} ({})",
                e.n,
                e.mismatch.summary()
            ))
        }
        Outcome::Stopped { compared, why } => {
            return none(format!(
                "no verdict from the host CPU: lockstep against native stopped after {compared} instructions: {why}"
            ))
        }
    }
    let ours_before = Snapshot::of_cpu(k.cpu());
    if ours_before.x87 != d.before.x87 {
        notes.push("note: the x87 state before the instruction differs from the first run".into());
    }
    let outcome = lockstep(&mut k, r.as_mut(), code, Some(1), 0);
    let host = r.state();
    let host_fields = describe_fields(&d.mismatch, &host);
    if !host_fields.is_empty() {
        notes.push(format!("native (host CPU): {}", host_fields.join(", ")));
    }
    match outcome {
        Outcome::Agreed { .. } => Verdict {
            qemu_wrong: true,
            line: format!(
                "QEMU is wrong here: the host CPU agrees with growsdown (instruction {}, {})",
                d.n,
                d.mismatch.summary()
            ),
            notes,
        },
        Outcome::Diverged(e) if same_fields(&d.mismatch, &host, &d.theirs) => Verdict {
            qemu_wrong: false,
            line: format!("growsdown is wrong: the host CPU agrees with QEMU ({})", e.mismatch.summary()),
            notes,
        },
        Outcome::Diverged(e) => Verdict {
            qemu_wrong: false,
            line: format!(
                "neither: the host CPU differs from growsdown ({}) and from QEMU",
                e.mismatch.summary()
            ),
            notes,
        },
        Outcome::Stopped { why, .. } => {
            Verdict { qemu_wrong: false, line: format!("no verdict from the host CPU: {why}"), notes }
        }
    }
}

/// growsdown's kernel configured like the reference's: the reference chooses the
/// [`Personality`] preset that imitates it, with the stack where it has its stack.
pub fn config_like(st: &InitialStack, r: &dyn Reference) -> Config {
    // The reference's vDSO is hidden (its AT_SYSINFO* become AT_IGNORE), so static
    // glibc makes its system calls inline there: growsdown maps none either.
    Config { personality: r.personality(st), vdso: false, ..Config::default() }
}

/// Boots growsdown with the program and makes its initial state the reference's:
/// the same stack bytes at the same addresses, the same registers. The kernel builds
/// the layout ([`config_like`]); the reference's own stack bytes (its auxv differs
/// from growsdown's) are then copied over exec's, and its registers taken.
pub fn boot_like(
    path: &Path,
    prog: &OsStr,
    args: &[OsString],
    r: &mut dyn Reference,
) -> Result<Machine, String> {
    let st = r.initial_stack()?;
    let mut k = Machine::new(config_like(&st, r))?;
    let mut argv: Vec<Vec<u8>> = vec![prog.as_bytes().to_vec()];
    argv.extend(args.iter().map(|s| s.as_bytes().to_vec()));
    k.exec(&path.to_string_lossy(), &argv, &st.envp)?;
    adopt_initial_state(&mut k, r, &st)?;
    Ok(k)
}

fn adopt_initial_state(k: &mut Machine, r: &mut dyn Reference, st: &InitialStack) -> Result<(), String> {
    k.write_mem(st.esp, &st.bytes)
        .map_err(|_| format!("cannot copy the reference's stack to {:#010x}", st.esp))?;
    let s = r.state();
    k.cpu_mut().regs = s.regs;
    k.cpu_mut().eip = s.eip;
    k.cpu_mut().flags.set(s.eflags);
    // Selectors the reference starts with that growsdown does not (QEMU loads GS
    // with __USER_DS): take the descriptor of the data segment with that selector.
    for i in 0..6 {
        if k.cpu().segs[i].selector != s.sel[i] {
            if let Some(src) = k.cpu().segs.iter().find(|g| g.selector == s.sel[i]).copied() {
                k.cpu_mut().segs[i] = src;
            } else if s.sel[i] == 0 {
                k.cpu_mut().segs[i] = Default::default();
            }
        }
    }
    Ok(())
}

/// The instruction at growsdown's EIP, from the program file or guest memory.
fn fetch_insn(k: &mut Machine, code: &CodeMap, eip: u32) -> Option<Instruction> {
    if let Some(b) = code.bytes_at(eip, 15) {
        if let Ok(i) = decode_one(b, eip) {
            return Some(i);
        }
    }
    let mut buf = [0u8; 15];
    let n = (0x1000 - (eip & 0xfff) as usize).min(15);
    for len in [15, n] {
        if k.read_mem(eip, &mut buf[..len]).is_ok() {
            if let Ok(i) = decode_one(&buf[..len], eip) {
                return Some(i);
            }
        }
    }
    None
}

/// "SIGSEGV (11)".
pub fn signal_name(sig: i32) -> String {
    format!("{} ({sig})", growsdown_kernel::signal::signal_name(sig))
}

/// The lockstep loop: both sides one instruction at a time until a divergence,
/// both exit, or `max` instructions.
pub fn lockstep(
    k: &mut Machine,
    r: &mut dyn Reference,
    code: &CodeMap,
    max: Option<u64>,
    context: usize,
) -> Outcome {
    lockstep_until(k, r, code, max, context, None)
}

/// [`lockstep`], also stopping (with [`Outcome::Agreed`], status `None`) before the
/// `stop.1`-th execution of the instruction at `stop.0`.
pub fn lockstep_until(
    k: &mut Machine,
    r: &mut dyn Reference,
    code: &CodeMap,
    max: Option<u64>,
    context: usize,
    stop: Option<(u32, u64)>,
) -> Outcome {
    let mut differ = Differ::new(r.name(), context);
    differ.qemu_errata = r.known_errata();
    differ.host_cpu = r.is_host_cpu();
    let mut warned = std::collections::HashSet::new();
    // Executions per EIP so far: a divergence records which execution of its
    // instruction it is, so another run can stop at the same one.
    let mut hits: std::collections::HashMap<u32, u64> = std::collections::HashMap::new();
    macro_rules! stopped {
        ($why:expr) => {
            Outcome::Stopped { compared: differ.compared, why: $why }
        };
    }
    loop {
        if max.is_some_and(|m| differ.compared >= m) {
            return Outcome::Agreed { compared: differ.compared, status: None };
        }
        let before = Snapshot::of_cpu(k.cpu());
        let hit = {
            let h = hits.entry(before.eip).or_insert(0);
            *h += 1;
            *h
        };
        if stop == Some((before.eip, hit)) {
            return Outcome::Agreed { compared: differ.compared, status: None };
        }
        let Some(insn) = fetch_insn(k, code, before.eip) else {
            return Outcome::Stopped {
                compared: differ.compared,
                why: format!("cannot read the instruction at {:#010x} in growsdown", before.eip),
            };
        };
        // The reference runs first: a signal it reports before the instruction is
        // taken by both sides before growsdown runs it.
        if matches!(insn.mnemonic(), Mnemonic::Int) && insn.immediate8() == 0x80 {
            let g = &k.cpu().regs;
            let (nr, args) = (g[EAX], [g[EBX], g[ECX], g[EDX], g[ESI], g[EDI], g[EBP]]);
            if let Some(why) = sync::unfollowable(nr, &args) {
                return stopped!(why);
            }
            if sync::denied(nr) {
                if let Err(e) = r.set_regs(&[(0, u32::MAX)]) {
                    return stopped!(e);
                }
            }
        }
        let theirs = match r.step() {
            Ok(e) => e,
            Err(e) => return stopped!(format!("{}: {e}", r.name())),
        };
        // An asynchronous signal (SIGCHLD from a child the reference's process
        // forked, a signal it sent itself) reached the reference; growsdown's kernel
        // learns of it only from there and takes it at the same instruction boundary.
        // Reported with the state unchanged (ptrace stops before the instruction; QEMU
        // logs a block, sees the signal and abandons the block, or restarts the
        // interrupted call with EIP back on `int 0x80`): before the instruction, which
        // growsdown then does not run in this round.
        if let Event::Signal(sig, t) = theirs {
            if is_async(sig) && t.eip == before.eip && t.regs == before.regs {
                let pending = k.pending_signals();
                match deliver_at_boundary(k, r, code, &differ, sig, None, pending) {
                    Ok(None) => {
                        // The instruction has not run: its execution is counted
                        // when it does.
                        if let Some(h) = hits.get_mut(&before.eip) {
                            *h -= 1;
                        }
                        continue;
                    }
                    Ok(Some(killed)) => {
                        return Outcome::Agreed { compared: differ.compared, status: Some(-killed) }
                    }
                    Err(halt) => return halt.outcome(differ.compared),
                }
            }
        }
        let pending = k.pending_signals();
        let mut ours = k.step();
        // MOV SS / POP SS on a reference that ran the next instruction in the same
        // step: growsdown runs it too, and the states are compared after both.
        let (before, insn) = if r.steps_over_ss_shadow()
            && loads_ss(&insn)
            && matches!(ours, Stepped::Retired)
            && matches!(theirs, Event::Stepped(_) | Event::Signal(..))
        {
            let their_eip = match theirs {
                Event::Stepped(t) | Event::Signal(_, t) => t.eip,
                _ => 0,
            };
            let (mut b, mut i) = (before, insn);
            loop {
                differ.executed(&i, &b);
                let second = Snapshot::of_cpu(k.cpu());
                let Some(next) = fetch_insn(k, code, second.eip) else {
                    return stopped!(format!(
                        "cannot read the instruction at {:#010x} in growsdown",
                        second.eip
                    ));
                };
                if matches!(next.mnemonic(), Mnemonic::Int | Mnemonic::Cpuid | Mnemonic::Rdtsc) {
                    return stopped!(format!(
                        "{} at {:#010x} in the shadow of a load of SS: not followed",
                        growsdown_decoder::format_intel(&next),
                        second.eip
                    ));
                }
                // Counted like any execution, so that a verdict run stops at the
                // same one.
                *hits.entry(second.eip).or_insert(0) += 1;
                ours = k.step();
                // A load of SS in the shadow of another: the SDM guarantees the
                // shadow of the first only; this host's CPU (AMD Zen) holds the trap
                // off again, so the reference's step may end one further.
                if loads_ss(&next) && matches!(ours, Stepped::Retired) && k.cpu().eip != their_eip {
                    (b, i) = (second, next);
                    continue;
                }
                break (second, next);
            }
        } else {
            (before, insn)
        };
        // A trap the program asked for: the trap flag was set when the instruction
        // began (SDM Vol. 3A §17.3.1.4), or INT1. Both sides deliver SIGTRAP after
        // the instruction, not before it as for a fault.
        let traps = before.eflags & growsdown_cpu::flags::TF != 0 || insn.mnemonic() == Mnemonic::Int1;
        // After the instruction (a signal at a system call's exit, or QEMU's between
        // two blocks): compared first, then taken by both.
        let mut arrived = None;
        let theirs = match theirs {
            Event::Signal(sig, t)
                if is_async(sig) && !matches!(ours, Stepped::Signal | Stepped::Exited(_)) =>
            {
                let syscall = match ours {
                    Stepped::Syscall { nr, args } => Some((nr, args)),
                    _ => None,
                };
                arrived = Some((sig, syscall, pending));
                Event::Stepped(t)
            }
            e => e,
        };
        match (ours, theirs) {
            (Stepped::Retired, Event::Stepped(t)) => {
                if matches!(insn.mnemonic(), Mnemonic::Rdtsc) {
                    // The time stamp is taken from the reference.
                    k.cpu_mut().regs[EAX] = t.regs[EAX];
                    k.cpu_mut().regs[EDX] = t.regs[EDX];
                }
            }
            (Stepped::Syscall { nr, args }, Event::Stepped(t)) => {
                if let Err(why) = sync_syscall(k, r, nr, &args, &t, &mut warned) {
                    return stopped!(why);
                }
                if matches!(nr, nr::NR_SIGRETURN | nr::NR_RT_SIGRETURN) && r.signals_keep_sse() {
                    // growsdown restored the SSE state from a copy of the
                    // reference's frame, which has none: the reference kept its own.
                    if let Some(sse) = t.sse {
                        k.cpu_mut().fpu.xmm = sse.xmm;
                        k.cpu_mut().fpu.mxcsr = sse.mxcsr;
                    }
                }
            }
            (Stepped::Syscall { nr: nr::NR_EXIT | nr::NR_EXIT_GROUP, .. }, Event::Exited(code)) => {
                k.complete_syscall();
                let mine = k.exit_status();
                return match mine {
                    Some(ExitStatus::Exited(c)) if c & 0xff == code => {
                        differ.compared += 1;
                        Outcome::Agreed { compared: differ.compared, status: Some(code) }
                    }
                    other => {
                        stopped!(format!("{} exited with status {code}, growsdown with {other:?}", r.name()))
                    }
                };
            }
            (Stepped::Signal, Event::Signal(SIGTRAP, t)) if traps => {
                // growsdown's kernel has already entered the handler: the state after
                // the instruction is the one its signal frame saved.
                let mine = match trapped_state(k) {
                    Ok(s) => s,
                    Err(why) => return stopped!(why),
                };
                // The FPU and SSE state are not in the sigcontext (a handler starts
                // with a fresh one): compared again after sigreturn.
                let theirs = Snapshot { x87: None, sse: None, ..t };
                if let Err(mut d) = differ.check(&insn, &before, &mine, &theirs) {
                    d.hit = hit;
                    d.notes.push(format!(
                        "both took SIGTRAP after the instruction; growsdown's state is the one its signal frame saved, {}'s the one it stopped in",
                        r.name()
                    ));
                    return Outcome::Diverged(d);
                }
                if let Err(halt) = enter_handler(k, r, code, &differ, SIGTRAP, &t) {
                    return halt.outcome(differ.compared);
                }
                continue;
            }
            (Stepped::Exited(ExitStatus::Signaled { signo, .. }), Event::Signal(sig, t))
                if signo == sig && (t.eip == before.eip || (traps && sig == SIGTRAP)) =>
            {
                // A fault with no handler (segv-exit): growsdown's kernel killed the
                // process; the reference stopped on the same signal at the same
                // instruction and must die of it once its kernel delivers it.
                return match r.deliver_fatal(sig) {
                    Ok(Event::Killed(s)) if s == sig => {
                        differ.compared += 1;
                        Outcome::Agreed { compared: differ.compared, status: Some(-sig) }
                    }
                    Ok(e) => stopped!(format!(
                        "growsdown was killed by {}; {}: {}",
                        signal_name(sig),
                        r.name(),
                        describe_theirs(&e)
                    )),
                    Err(e) => stopped!(format!("{}: delivering {}: {e}", r.name(), signal_name(sig))),
                };
            }
            (Stepped::Signal, Event::Signal(sig, t)) if t.eip == before.eip => {
                if let Err(halt) = enter_handler(k, r, code, &differ, sig, &before) {
                    return halt.outcome(differ.compared);
                }
                differ.compared += 1;
                continue;
            }
            (o, t) => {
                let after = Snapshot::of_cpu(k.cpu());
                let theirs_snap = match t {
                    Event::Stepped(s) | Event::Signal(_, s) => s,
                    _ => r.state(),
                };
                let mut d = Divergence {
                    reference: r.name().to_string(),
                    n: differ.compared + 1,
                    hit,
                    eip: before.eip,
                    insn,
                    before,
                    ours: after,
                    theirs: theirs_snap,
                    mismatch: state::compare(&after, &theirs_snap, &state::Masks::default()),
                    undefined_flags: 0,
                    undefined_cc: 0,
                    masks: state::Masks::default(),
                    history: differ.history(),
                    notes: vec![],
                };
                d.history.push(state::Executed { n: d.n, eip: before.eip, insn });
                d.notes.push(format!("growsdown: {}", describe_ours(&o)));
                d.notes.push(format!("{}: {}", r.name(), describe_theirs(&t)));
                return Outcome::Diverged(Box::new(d));
            }
        }
        let t = r.state();
        let after = Snapshot::of_cpu(k.cpu());
        match differ.check(&insn, &before, &after, &t) {
            Ok(Fixup { eflags, reg, fsw, fpr_se, xmm, mxcsr }) => {
                if let Some(f) = eflags {
                    k.cpu_mut().flags.set(f);
                }
                if let Some((i, v)) = reg {
                    k.cpu_mut().regs[i] = v;
                }
                if let Some(sw) = fsw {
                    k.cpu_mut().fpu.set_status_word(sw);
                }
                if let Some((which, se)) = fpr_se {
                    for (p, v) in se.iter().enumerate().filter(|(p, _)| which & (1 << p) != 0) {
                        k.cpu_mut().fpu.regs[p].se = *v;
                    }
                }
                if let Some((i, v)) = xmm {
                    k.cpu_mut().fpu.xmm[i] = v;
                }
                if let Some(v) = mxcsr {
                    k.cpu_mut().fpu.mxcsr = v;
                }
            }
            Err(mut d) => {
                d.hit = hit;
                return Outcome::Diverged(d);
            }
        }
        if let Some((sig, syscall, pending)) = arrived {
            match deliver_at_boundary(k, r, code, &differ, sig, syscall, pending) {
                Ok(None) => {}
                Ok(Some(killed)) => {
                    return Outcome::Agreed { compared: differ.compared, status: Some(-killed) }
                }
                Err(halt) => return halt.outcome(differ.compared),
            }
        }
    }
}

/// SIGTRAP, the signal of a single-step trap and INT1 (Linux's number, the same in
/// growsdown's kernel).
const SIGTRAP: i32 = growsdown_kernel::signal::SIGTRAP;

/// MOV SS, POP SS: the instructions whose next instruction runs in their shadow.
pub(crate) fn loads_ss(insn: &Instruction) -> bool {
    use growsdown_decoder::Register;
    matches!(insn.mnemonic(), Mnemonic::Mov | Mnemonic::Pop) && insn.op0_register() == Register::SS
}

/// growsdown's state after an instruction that trapped, read from the signal frame
/// its kernel built for the handler it entered (2.4 `setup_frame` /
/// `setup_rt_frame`, [`sigframe`]). Segment bases are the CPU's: delivery changes
/// none that a user program sets.
fn trapped_state(k: &mut Machine) -> Result<Snapshot, String> {
    use sigframe::{word, SC_EFLAGS, SC_EIP, SC_REGS, SC_SEGS, SC_WORDS};
    let esp = k.cpu().regs[4];
    let mut head = [0u8; 16];
    k.read_mem(esp, &mut head).map_err(|e| format!("growsdown's signal frame: {e}"))?;
    let mut sc = [0u8; SC_WORDS * 4];
    k.read_mem(sigframe::sigcontext_at(esp, &head), &mut sc)
        .map_err(|e| format!("growsdown's sigcontext: {e}"))?;
    let mut s = Snapshot::of_cpu(k.cpu());
    s.x87 = None;
    s.sse = None;
    s.eip = word(&sc, SC_EIP);
    s.eflags = word(&sc, SC_EFLAGS);
    s.regs = SC_REGS.map(|i| word(&sc, i));
    s.sel = SC_SEGS.map(|i| word(&sc, i) as u16);
    Ok(s)
}

/// Whether `sig` can come from outside the instruction stream. The five signals
/// an instruction raises (a fault, a trap) are taken as synchronous: a difference
/// there is a divergence. (The same five sent with kill() are not followed.)
fn is_async(sig: i32) -> bool {
    use growsdown_kernel::signal::{SIGBUS, SIGFPE, SIGILL, SIGSEGV, SIGTRAP};
    ![SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP].contains(&sig)
}

/// Asynchronous signal `sig` is to be taken by both sides at this instruction
/// boundary (after system call `syscall`, if the last instruction was one;
/// `pending` = growsdown's pending set before it). growsdown's kernel gets it as a
/// signal sent by a process and handles it by its own rules (`do_signal`: ignore,
/// keep pending while blocked, kill, or build a handler frame; an interrupted
/// call's -ERESTART* code becomes EINTR or a restart); the reference's kernel does
/// the same at its next resume. A kill must be a kill on both sides; a handler
/// frame is entered on both (see [`enter_handler`]). Returns the signal both sides
/// were killed by.
fn deliver_at_boundary(
    k: &mut Machine,
    r: &mut dyn Reference,
    code: &CodeMap,
    differ: &Differ,
    sig: i32,
    syscall: Option<(u32, [u32; 6])>,
    pending: u64,
) -> Result<Option<i32>, Halt> {
    use growsdown_kernel::signal;
    let mask = signal::sigmask(sig);
    let handler = k.signal_handler(sig);
    let at = Snapshot::of_cpu(k.cpu());
    let interrupted = r.state();
    let taken_in_call = pending & mask != 0 && k.pending_signals() & mask == 0;
    if syscall.is_some() && k.cpu().regs[EAX] as i32 == -growsdown_kernel::ERESTART_RESTARTBLOCK {
        // The reference's result, taken over: its kernel interrupted a sleep that
        // resumes through `restart_syscall` (under ptrace even a signal the process
        // ignores interrupts it, as it must reach the tracer). growsdown's 2.4 kernel
        // has no restart blocks; ERESTARTNOHAND does the same from user mode: EINTR
        // if a handler runs, else the call runs on (growsdown runs it again with its
        // own arguments; the reference's `restart_syscall` finishes the same call).
        k.cpu_mut().regs[EAX] = (-growsdown_kernel::ERESTARTNOHAND) as u32;
    }
    if !taken_in_call {
        // Not already delivered by growsdown inside the call (an unblocking
        // sigprocmask delivers what was pending on the way out).
        let interrupted = syscall.map(|(nr, a)| Interrupted {
            nr,
            // sigsuspend ran on the reference only: its mask is what the signal
            // was let through by, and the old one goes back after the handler.
            mask: match nr {
                nr::NR_RT_SIGSUSPEND => {
                    let mut m = [0u8; 8];
                    k.read_mem(a[0], &mut m).ok().map(|_| u64::from_le_bytes(m))
                }
                nr::NR_SIGSUSPEND => Some(u64::from(a[2])),
                _ => None,
            },
        });
        k.deliver_signal(sig, interrupted);
    }
    if let Some(ExitStatus::Signaled { signo, .. }) = k.exit_status() {
        return match r.deliver_fatal(signo)? {
            Event::Killed(s) if s == signo => Ok(Some(s)),
            e => Err(Halt::Stop(format!(
                "growsdown was killed by {}; {}: {}",
                signal_name(signo),
                r.name(),
                describe_theirs(&e)
            ))),
        };
    }
    if k.cpu().eip == handler && (taken_in_call || at.eip != handler) {
        enter_handler(k, r, code, differ, sig, &interrupted)?;
    }
    Ok(None)
}

/// Why lockstep ends at a signal delivery: it cannot go on (`Stop`, status 2), or
/// the two kernels entered the handler differently (`Diverged`, status 1).
enum Halt {
    Stop(String),
    Diverged(Box<Divergence>),
}

impl From<String> for Halt {
    fn from(why: String) -> Self {
        Halt::Stop(why)
    }
}

impl Halt {
    fn outcome(self, compared: u64) -> Outcome {
        match self {
            Halt::Stop(why) => Outcome::Stopped { compared, why },
            Halt::Diverged(d) => Outcome::Diverged(d),
        }
    }
}

/// The registers a handler receives its arguments in (today's i386
/// `setup_rt_frame` / `ia32_setup_frame`: EAX the signal number; EDX and ECX
/// `&frame->info` and `&frame->uc` for an rt frame, 0 for a plain one), as a
/// kernel-independent view: the frames of two kernels lie at different addresses,
/// so a pointer into the frame is taken relative to ESP (which points to the
/// frame's `pretcode`). Returns the registers (growsdown's numbering) whose views
/// differ, as a bit set.
pub(crate) fn handler_args_differ(ours: &[u32; 8], theirs: &[u32; 8]) -> u8 {
    const ESP: usize = 4;
    let view = |r: &[u32; 8], i: usize| if r[i] == 0 { None } else { Some(r[i].wrapping_sub(r[ESP])) };
    let mut differ = 0u8;
    if ours[EAX] != theirs[EAX] {
        differ |= 1 << EAX;
    }
    for i in [EDX, ECX] {
        if view(ours, i) != view(theirs, i) {
            differ |= 1 << i;
        }
    }
    differ
}

/// Both sides took signal `sig` at the same instruction and growsdown's kernel has
/// delivered it (frame written, EIP at the handler). The reference's kernel delivers
/// it too; the handler addresses must agree, and so must the arguments in EAX, EDX
/// and ECX ([`handler_args_differ`]): a `regparm(3)` handler reads them there, and a
/// kernel that left them alone (2.4 did) breaks such programs silently. The frames
/// do not: an x86-64 host writes an ia32 frame with its own xsave area, so ESP and
/// the frame's addresses differ. The reference's frame bytes (from its ESP up to the
/// interrupted ESP) are copied to growsdown and its registers taken, so the handler
/// and the sigreturn that reads the frame back run on the same bytes on both sides.
fn enter_handler(
    k: &mut Machine,
    r: &mut dyn Reference,
    code: &CodeMap,
    differ: &Differ,
    sig: i32,
    before: &Snapshot,
) -> Result<(), Halt> {
    let h = match r.deliver_to_handler(sig, k.cpu().eip)? {
        Event::Stepped(h) => h,
        e => {
            return Err(Halt::Stop(format!(
                "{} after delivering {}: {}",
                r.name(),
                signal_name(sig),
                describe_theirs(&e)
            )))
        }
    };
    if h.eip != k.cpu().eip {
        return Err(Halt::Stop(format!(
            "{} delivered: growsdown entered the handler at {:#010x}, {} at {:#010x}",
            signal_name(sig),
            k.cpu().eip,
            r.name(),
            h.eip
        )));
    }
    let ours = Snapshot::of_cpu(k.cpu());
    let mut args = handler_args_differ(&ours.regs, &h.regs);
    // QEMU 7.2's `setup_frame` (a plain frame: growsdown passed EDX = ECX = 0)
    // leaves EAX, EDX and ECX as interrupted (docs/difftest.md, "Cases where QEMU
    // itself is wrong", 15): taken from QEMU like its other errata, unless --strict.
    let plain = ours.regs[EDX] == 0 && ours.regs[ECX] == 0;
    if differ.qemu_errata && plain && [EAX, ECX, EDX].iter().all(|&i| h.regs[i] == before.regs[i]) {
        args = 0;
    }
    if args != 0 {
        let Some(insn) = fetch_insn(k, code, ours.eip) else {
            return Err(Halt::Stop(format!(
                "cannot read the handler's first instruction at {:#010x}",
                ours.eip
            )));
        };
        let (eo, et) = (ours.regs[4], h.regs[4]);
        let show = |v: u32, esp: u32| {
            if v == 0 {
                "0".to_string()
            } else {
                format!("{v:#010x} = ESP{:+#x}", v.wrapping_sub(esp) as i32)
            }
        };
        let mut d = Divergence {
            reference: r.name().to_string(),
            n: differ.compared,
            hit: 1,
            eip: ours.eip,
            insn,
            before: *before,
            ours,
            theirs: h,
            mismatch: state::Mismatch { regs: args, ..state::Mismatch::default() },
            undefined_flags: 0,
            undefined_cc: 0,
            masks: state::Masks::default(),
            history: differ.history(),
            notes: vec![],
        };
        d.notes.push(format!(
            "at the entry of the {} handler, before its first instruction: the registers a handler takes its arguments in (EAX the signal number; EDX, ECX &info, &uc of an rt frame, else 0) differ",
            signal_name(sig)
        ));
        for (name, i) in [("eax", EAX), ("edx", EDX), ("ecx", ECX)] {
            if args & (1 << i) != 0 {
                let (a, b) = if i == EAX {
                    (ours.regs[i].to_string(), h.regs[i].to_string())
                } else {
                    (show(ours.regs[i], eo), show(h.regs[i], et))
                };
                d.notes.push(format!("{name}: growsdown {a}, {} {b}", r.name()));
            }
        }
        return Err(Halt::Diverged(Box::new(d)));
    }
    // The frame lies between the handler's ESP and the interrupted ESP, or the top
    // of the alternate stack when growsdown's kernel switched to it (sigaltstack,
    // SA_ONSTACK) and the program was not already running on it.
    let alt = k.signal_stack();
    let on_alt = k.on_signal_stack(k.cpu().regs[4]) && !k.on_signal_stack(before.regs[4]);
    let (lo, hi) = (h.regs[4], if on_alt { alt.sp.wrapping_add(alt.size) } else { before.regs[4] });
    if lo >= hi || hi - lo > 64 << 10 {
        return Err(format!(
            "{}'s signal frame at {lo:#010x} is not just below {} {hi:#010x}",
            r.name(),
            if on_alt { "the top of the alternate signal stack" } else { "the interrupted stack" }
        )
        .into());
    }
    let frame = r.read_mem(lo, (hi - lo) as usize)?;
    k.write_mem(lo, &frame)
        .map_err(|_| Halt::Stop(format!("cannot copy the signal frame to {lo:#010x} in growsdown")))?;
    k.cpu_mut().regs = h.regs;
    k.cpu_mut().flags.set(h.eflags);
    if let (true, Some(sse)) = (r.signals_keep_sse(), h.sse) {
        k.cpu_mut().fpu.xmm = sse.xmm;
        k.cpu_mut().fpu.mxcsr = sse.mxcsr;
    }
    Ok(())
}

fn describe_ours(s: &Stepped) -> String {
    match s {
        Stepped::Retired => "retired the instruction".into(),
        Stepped::Syscall { nr, .. } => format!("system call {nr}"),
        Stepped::Signal => "took a signal".into(),
        Stepped::Exited(st) => format!("ended: {st:?}"),
        Stepped::Stuck => "stuck: the instruction keeps faulting".into(),
    }
}

fn describe_theirs(e: &Event) -> String {
    match e {
        Event::Stepped(_) => "retired the instruction".into(),
        Event::Signal(s, _) => format!("stopped by signal {}", signal_name(*s)),
        Event::Exited(c) => format!("exited with status {c}"),
        Event::Killed(s) => format!("killed by signal {}", signal_name(*s)),
    }
}

/// After the reference ran system call `nr`: make growsdown's side agree (see
/// [`sync::Policy`]). growsdown's EIP is already past `int 0x80`.
fn sync_syscall(
    k: &mut Machine,
    r: &mut dyn Reference,
    nr: u32,
    args: &[u32; 6],
    t: &Snapshot,
    warned: &mut std::collections::HashSet<u32>,
) -> Result<(), String> {
    use sync::Policy;
    let ret = t.regs[EAX];
    if sync::denied(nr) {
        k.cpu_mut().regs[EAX] = ret;
        return Ok(());
    }
    match sync::policy(nr, args, ret) {
        Policy::Impose(bufs) => {
            if !sync::known(nr) && warned.insert(nr) {
                log::warn!(target: "difftest", "system call {nr}: no rule for its output buffers; only EAX is carried over");
            }
            for (addr, len) in bufs {
                let bytes = r.read_mem(addr, len as usize)?;
                k.write_mem(addr, &bytes).map_err(|_| {
                    format!("system call {nr}: cannot copy {len} bytes to {addr:#010x} in growsdown")
                })?;
            }
            k.cpu_mut().regs[EAX] = ret;
        }
        Policy::ImposeIov { iov, count } => {
            let mut left = if ret > (-4096i32) as u32 { 0 } else { ret };
            let arr = r.read_mem(iov, count as usize * 8)?;
            for v in arr.chunks_exact(8) {
                if left == 0 {
                    break;
                }
                let base = u32::from_le_bytes([v[0], v[1], v[2], v[3]]);
                let len = u32::from_le_bytes([v[4], v[5], v[6], v[7]]).min(left);
                let bytes = r.read_mem(base, len as usize)?;
                k.write_mem(base, &bytes)
                    .map_err(|_| format!("readv: cannot copy to {base:#010x} in growsdown"))?;
                left -= len;
            }
            k.cpu_mut().regs[EAX] = ret;
        }
        // set_thread_area: growsdown hands out the reference's entry numbers
        // (`Personality::tls_entry_min`); brk: both start at the page-aligned end of bss
        // (`Personality::brk_page_aligned`). A different answer shows as a divergence.
        Policy::RunBoth | Policy::Brk => k.complete_syscall(),
        Policy::Open { flags_arg } => {
            // growsdown opens the file too (so an mmap2 of it maps the same bytes),
            // without O_EXCL: the reference has just created it.
            const O_EXCL: u32 = 0o200;
            let reg = [EBX, ECX, EDX][flags_arg];
            let flags = k.cpu().regs[reg];
            k.cpu_mut().regs[reg] = flags & !O_EXCL;
            k.complete_syscall();
            let g = k.cpu().regs[EAX];
            if g > (-4096i32) as u32 {
                return Err(format!(
                    "open: the reference opened fd {ret}, growsdown's open failed with {}",
                    -(g as i32)
                ));
            }
            k.cpu_mut().regs[reg] = flags;
            if g != ret {
                // Renumber to the reference's fd (its table also holds the pipes and
                // duplicates only the reference made).
                k.renumber_fd(g, ret);
            }
            k.cpu_mut().regs[EAX] = ret;
        }
        Policy::Close => {
            if k.has_fd(args[0]) {
                k.complete_syscall();
            }
            k.cpu_mut().regs[EAX] = ret;
        }
        Policy::RunThenImpose(bufs) => {
            k.complete_syscall();
            for (addr, len) in bufs {
                let bytes = r.read_mem(addr, len as usize)?;
                k.write_mem(addr, &bytes).map_err(|_| {
                    format!("system call {nr}: cannot copy {len} bytes to {addr:#010x} in growsdown")
                })?;
            }
        }
        Policy::MapAtReference => {
            // growsdown's kernel places the mapping where the reference's did
            // (`Machine::place_next_mmap`, tried before its own search); if that range is
            // not free in growsdown, EAX differs and the differ reports it.
            k.place_next_mmap(Some(ret));
            k.complete_syscall();
            k.place_next_mmap(None);
        }
        Policy::Exit => return Err(format!("{} did not end at exit (system call {nr})", r.name())),
    }
    Ok(())
}

#[cfg(test)]
mod tests;
