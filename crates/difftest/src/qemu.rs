//! The QEMU reference: Debian's `qemu-i386` (7.2) driven through its gdbstub on a
//! unix socket (`-g PATH`), one instruction per `s`.
//!
//! QEMU 7.2's user-mode gdbstub reads up to 256 bytes from the socket and handles
//! *every* packet in them before it resumes the guest, so two `s` requests in one
//! write execute one instruction, and a `g` after an `s` answers with the state
//! before the step. Deeper pipelining is therefore impossible; what does work is one
//! write per step carrying `g` (answered at once, the guest being stopped) followed
//! by the next `s` — one round trip per instruction.
//!
//! That next `s` is speculative: it goes out before the tracer sees where the
//! step lands, so it must not run an instruction the tracer has to handle itself
//! (`int 0x80`: the reference's memory must be read right after it; `cpuid`:
//! answered with growsdown's values). Breakpoints cannot fence it — QEMU 7.2 lets
//! single-stepping override breakpoints — so the fence is static: the program's code
//! is known (static binaries do not rewrite it), and the speculative `s` is only sent
//! when every possible successor of the instruction just executed (fall-through,
//! direct branch target) is known code and not an `int 0x80` or `cpuid` byte pair.
//! After indirect branches, returns and unknown code the step costs two round trips.
//! A byte pair inside another instruction only costs a lost speculation.

//! That is the `--qemu-mode gdb` path, exact but slow (QEMU flushes its whole
//! translation cache at every gdbstub stop: a few thousand steps per second). The
//! default, `log` mode, lets QEMU run: `-singlestep -d cpu,nochain -D FIFO` makes it
//! dump the state before every instruction into a FIFO the tracer parses
//! ([`super::qemulog`]), and gdbstub breakpoints — which do work when QEMU is not
//! single-stepping — stop it before each `int 0x80` and `cpuid` site, where the
//! tracer takes over as above (the state after the last instruction before the stop
//! is read with `g`).
//!
//! Segment bases are not in QEMU's i386 register set (`g` has selectors only), so
//! the TLS descriptors are shadowed from the `set_thread_area` calls the tracer sees.

use std::collections::HashSet;
use std::ffi::OsString;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use growsdown_kernel::Personality;

use super::image::{CodeMap, InitialStack, CPUID, INT80};
use super::qemulog::LogParser;
use super::rsp::{from_hex, to_hex, Client};
use super::sse::Sse;
use super::state::Snapshot;
use super::x87::X87;
use super::{Event, Reference};
use growsdown_cpu::fpu::float80::F80;

/// CPUID.1:EDX bit → QEMU feature name, for building a `-cpu` model with exactly
/// growsdown's features.
const FEATURE_NAMES: [(u32, &str); 22] = [
    (0, "fpu"),
    (1, "vme"),
    (2, "de"),
    (3, "pse"),
    (4, "tsc"),
    (5, "msr"),
    (6, "pae"),
    (7, "mce"),
    (8, "cx8"),
    (9, "apic"),
    (11, "sep"),
    (12, "mtrr"),
    (13, "pge"),
    (14, "mca"),
    (15, "cmov"),
    (16, "pat"),
    (17, "pse36"),
    (19, "clflush"),
    (23, "mmx"),
    (24, "fxsr"),
    (25, "sse"),
    (26, "sse2"),
];

/// CPUID.1:ECX bit → QEMU feature name.
const FEATURE_NAMES_ECX: [(u32, &str); 2] = [(0, "pni"), (9, "ssse3")];

/// A QEMU `-cpu` model reporting growsdown's CPUID (vendor, family/model/stepping,
/// leaf-1 EDX and ECX features, maximum leaves), starting from QEMU's featureless
/// `base`.
///
/// Measured with qemu-i386 7.2: leaf 0 and leaf 1 EAX/ECX/EDX then equal ours; QEMU
/// still puts the CLFLUSH line size (8) in leaf-1 EBX bits 15:8 and the vendor
/// string in leaf 0x80000000 EBX/ECX/EDX, which is why difftest answers CPUID itself.
pub fn cpu_model() -> String {
    use growsdown_cpu::cpuid::{FEATURES_ECX, FEATURES_EDX, SIGNATURE, VENDOR};
    let mut m = String::from("base");
    for (bit, name) in FEATURE_NAMES {
        if FEATURES_EDX & (1 << bit) != 0 {
            m.push_str(&format!(",{name}=on"));
        }
    }
    for (bit, name) in FEATURE_NAMES_ECX {
        if FEATURES_ECX & (1 << bit) != 0 {
            m.push_str(&format!(",{name}=on"));
        }
    }
    let vendor = String::from_utf8_lossy(VENDOR);
    let (family, model, stepping) = ((SIGNATURE >> 8) & 0xf, (SIGNATURE >> 4) & 0xf, SIGNATURE & 0xf);
    let level = growsdown_cpu::cpuid::cpuid(0, 0)[0];
    let xlevel = growsdown_cpu::cpuid::cpuid(0x8000_0000, 0)[0];
    m.push_str(&format!(
        ",vendor={vendor},family={family},model={model},stepping={stepping},level={level},xlevel={xlevel:#x}"
    ));
    m
}

#[derive(Clone, Debug)]
pub struct QemuOptions {
    pub binary: PathBuf,
    pub cpu: String,
    /// Stream states from QEMU's `-d cpu` log (fast) instead of `s`+`g` per step.
    pub log: bool,
}

impl Default for QemuOptions {
    fn default() -> Self {
        Self { binary: PathBuf::from("qemu-i386"), cpu: cpu_model(), log: true }
    }
}

/// The log side of `log` mode.
struct LogStream {
    fifo: std::fs::File,
    parser: LogParser,
    /// QEMU was sent `c` and has not been seen to stop.
    running: bool,
    /// The first dump after `c` is the state already known (before the first
    /// instruction it runs).
    expect_first: bool,
    /// A stop reply received while running; acted on once the log is drained.
    stop: Option<Stop>,
    chunk: Vec<u8>,
}

/// A stop reply.
enum Stop {
    /// Stopped with SIGTRAP (a step).
    Trap,
    Signal(i32),
    Exited(i32),
    Killed(i32),
}

pub struct Qemu {
    child: Child,
    rsp: Client<UnixStream>,
    dir: PathBuf,
    code: CodeMap,
    /// Addresses of `int 0x80` and `cpuid` byte pairs in the executable segments.
    int80: HashSet<u32>,
    cpuid: HashSet<u32>,
    /// Current state (before the next instruction).
    cur: Snapshot,
    /// A speculative `s` was sent and its stop reply not read yet.
    outstanding: bool,
    /// Shadow of the three TLS GDT entries (6, 7, 8): base addresses.
    tls: [Option<u32>; 3],
    done: bool,
    /// A signal QEMU stopped on (Linux numbering) that the next resume passes on
    /// (`C sig`): its kernel then delivers, ignores or kills as the guest's
    /// disposition says.
    pending_sig: i32,
    /// A SIGTRAP handler has been entered. Every stop of the stub inside it (the
    /// breakpoint on its first instruction, those on `int 0x80`) is a synchronous
    /// SIGTRAP while SIGTRAP is blocked, and QEMU 7.2's `process_pending_signals`
    /// then resets the handler to SIG_DFL ("Synchronous signals are forced"): the
    /// program's next SIGTRAP would kill it.
    sigtrap_handled: bool,
    /// `--strict`: QEMU's known errata are compared, not taken from it.
    strict: bool,
    /// QEMU's executable as /proc shows it, to recognise its forked copies.
    qemu_exe: Option<PathBuf>,
    /// Step requests sent, for statistics.
    pub steps_sent: u64,
    log: Option<LogStream>,
}

fn io_err(e: std::io::Error) -> String {
    format!("qemu gdbstub: {e}")
}

/// Byte offset of `st0` in QEMU 7.2's i386 `g` reply. Its target.xml
/// (i386-32bit.xml) lists twelve 32-bit registers between `gs` and `st0` (ss_base
/// ds_base es_base fs_base gs_base k_gs_base cr0 cr2 cr3 cr4 cr8 efer), but the reply
/// holds nine (measured: fs_base gs_base k_gs_base cr0 cr2 cr3 cr4 cr8 efer; CR0 =
/// 0x80010001 at byte 76, and the value an `fld` pushed at byte 100 + 10·p).
const G_ST0: usize = 100;
/// Byte offset of `xmm0` in the `g` reply: after st0–st7 (80 bytes) and the eight
/// 32-bit x87 control registers (fctrl fstat ftag fiseg fioff foseg fooff fop), as
/// QEMU 7.2 `x86_cpu_gdb_read_register` numbers them for i386 (IDX_XMM_REGS =
/// IDX_FP_REGS + 16); eight 16-byte registers, little-endian, then `mxcsr`.
const G_XMM0: usize = G_ST0 + 80 + 32;
const G_MXCSR: usize = G_XMM0 + 128;

/// Parses an i386 `g` reply: the first 16 registers (eax ecx edx ebx esp ebp esi
/// edi eip eflags cs ss ds es fs gs, 32-bit little-endian each) and, when present,
/// the x87 registers: `st0`..`st7` (10 bytes each), then fctrl fstat ftag (32 bits
/// each). QEMU 7.2 sends the *physical* registers R0–R7 there (`fpregs[i]`, not
/// relative to TOP), fstat with TOP, and ftag = 0 whatever the registers hold, so
/// the tags are not known from a `g` reply. Then XMM0–7 and MXCSR ([`G_XMM0`]).
pub fn parse_g(reply: &[u8]) -> Result<Snapshot, String> {
    let bytes = from_hex(
        reply.get(..128).ok_or_else(|| format!("short g reply: {}", String::from_utf8_lossy(reply)))?,
    )
    .ok_or("g reply is not hex")?;
    let w =
        |i: usize| u32::from_le_bytes([bytes[4 * i], bytes[4 * i + 1], bytes[4 * i + 2], bytes[4 * i + 3]]);
    let mut s = Snapshot { eip: w(8), eflags: w(9), ..Snapshot::default() };
    for i in 0..8 {
        s.regs[i] = w(i);
    }
    // gdb order cs ss ds es fs gs → ours es cs ss ds fs gs.
    s.sel = [w(13) as u16, w(10) as u16, w(11) as u16, w(12) as u16, w(14) as u16, w(15) as u16];
    let fp = G_ST0 + 80;
    if reply.len() >= 2 * (fp + 8) {
        let b = from_hex(&reply[2 * G_ST0..2 * (fp + 8)]).ok_or("g reply is not hex")?;
        let mut x = X87 { tags_known: false, ..X87::default() };
        for (p, r) in x.r.iter_mut().enumerate() {
            let mut v = [0u8; 10];
            v.copy_from_slice(&b[10 * p..10 * p + 10]);
            *r = F80::from_le_bytes(v);
        }
        x.fcw = u16::from_le_bytes([b[80], b[81]]);
        x.fsw = u16::from_le_bytes([b[84], b[85]]);
        s.x87 = Some(x);
    }
    if reply.len() >= 2 * (G_MXCSR + 4) {
        let b = from_hex(&reply[2 * G_XMM0..2 * (G_MXCSR + 4)]).ok_or("g reply is not hex")?;
        let mxcsr = u32::from_le_bytes([b[128], b[129], b[130], b[131]]);
        s.sse = Sse::from_le_bytes(&b[..128], mxcsr);
    }
    Ok(s)
}

/// The `LD_PRELOAD` formatter for QEMU's `-d cpu` dumps (crates/qemu-logfmt: the
/// same bytes, 2–3× less QEMU time): `libgrowsdown_qemu_logfmt.so` beside the
/// running executable, where a workspace `cargo build --release` puts it (or one
/// folder up, for test executables in `deps/`). `None`, with a note, when it is
/// missing, disabled (`GROWSDOWN_QEMU_LOGFMT=0`), or when the guest's environment
/// has an `LD_PRELOAD` of its own (QEMU's `-U LD_PRELOAD` would remove it).
fn logfmt_shim(env: &[(OsString, OsString)]) -> Option<PathBuf> {
    const NAME: &str = "libgrowsdown_qemu_logfmt.so";
    if std::env::var_os("GROWSDOWN_QEMU_LOGFMT").is_some_and(|v| v == "0") {
        log::info!(target: "difftest", "GROWSDOWN_QEMU_LOGFMT=0: QEMU formats its log with glibc");
        return None;
    }
    if env.iter().any(|(k, _)| k == "LD_PRELOAD") {
        log::info!(target: "difftest", "the guest's environment has LD_PRELOAD: {NAME} not used");
        return None;
    }
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    let found = [dir.join(NAME), dir.parent().map_or_else(PathBuf::new, |d| d.join(NAME))]
        .into_iter()
        .find(|p| p.is_file());
    if found.is_none() {
        log::info!(
            target: "difftest",
            "{NAME} not found beside {}: QEMU formats its log with glibc (slower; \
             `cargo build --release` builds it)",
            exe.display()
        );
    }
    found
}

/// A new directory of our own for QEMU's socket and log (mkdtemp(3): a unique name,
/// mode 0700), so that one left behind by a killed run, even of a process with the
/// same PID, cannot get in the way.
fn private_dir() -> Result<PathBuf, String> {
    use std::os::unix::ffi::OsStringExt;
    let mut template = std::env::temp_dir().join("growsdown-difftest-XXXXXX").into_os_string().into_vec();
    template.push(0);
    // SAFETY: a writable, NUL-terminated template ending in six X's, as mkdtemp
    // requires; it writes the name in place.
    if unsafe { libc::mkdtemp(template.as_mut_ptr().cast()) }.is_null() {
        return Err(format!("cannot make a temporary directory: {}", std::io::Error::last_os_error()));
    }
    template.pop();
    Ok(PathBuf::from(OsString::from_vec(template)))
}

impl Qemu {
    /// Starts `prog args` under qemu-i386 with `env` as the guest's whole
    /// environment, stopped before its first instruction.
    pub fn start(
        prog: &Path,
        args: &[OsString],
        env: &[(OsString, OsString)],
        opts: &QemuOptions,
    ) -> Result<Self, String> {
        let code = CodeMap::from_elf(prog)?;
        let dir = private_dir()?;
        let sock = dir.join("gdb.sock");
        let fifo_path = dir.join("cpu.log");
        let mut cmd = Command::new(&opts.binary);
        cmd.arg("-g").arg(&sock).arg("-cpu").arg(&opts.cpu);
        if opts.log {
            let c = std::ffi::CString::new(fifo_path.as_os_str().as_encoded_bytes())
                .map_err(|e| e.to_string())?;
            // SAFETY: a valid NUL-terminated path.
            if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
                return Err(format!("mkfifo {}: {}", fifo_path.display(), std::io::Error::last_os_error()));
            }
            cmd.arg("-singlestep").arg("-d").arg("cpu,fpu,nochain").arg("-D").arg(&fifo_path);
        }
        let shim = if opts.log { logfmt_shim(env) } else { None };
        if shim.is_some() {
            // QEMU's LD_PRELOAD is not the guest's.
            cmd.arg("-U").arg("LD_PRELOAD");
        }
        cmd.arg(prog).args(args);
        cmd.env_clear().envs(env.iter().map(|(k, v)| (k, v))).stdin(Stdio::inherit());
        // SAFETY: the closure runs between fork and exec and only makes
        // async-signal-safe calls (sigaction, sigprocmask, prctl).
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
                super::default_signals();
                // QEMU must not outlive difftest (it would wait for its gdb forever).
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            })
        };
        if let Some(so) = shim {
            cmd.env("LD_PRELOAD", so);
        }
        let mut child = cmd.spawn().map_err(|e| {
            let _ = std::fs::remove_dir_all(&dir);
            format!("cannot run {}: {e} (Debian: apt-get install qemu-user)", opts.binary.display())
        })?;
        let log = if opts.log {
            use std::os::unix::fs::OpenOptionsExt;
            let fifo = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&fifo_path)
                .map_err(|e| format!("{}: {e}", fifo_path.display()))?;
            // A bigger pipe lets QEMU run further ahead (best effort).
            // SAFETY: fcntl on our own descriptor.
            unsafe { libc::fcntl(std::os::fd::AsRawFd::as_raw_fd(&fifo), libc::F_SETPIPE_SZ, 1 << 20) };
            Some(LogStream {
                fifo,
                parser: LogParser::with_fpu(),
                running: false,
                expect_first: false,
                stop: None,
                chunk: vec![0; 1 << 18],
            })
        } else {
            None
        };
        let t0 = Instant::now();
        let stream = loop {
            match UnixStream::connect(&sock) {
                Ok(s) => break s,
                Err(e) => {
                    if let Ok(Some(st)) = child.try_wait() {
                        let _ = std::fs::remove_dir_all(&dir);
                        return Err(format!(
                            "{} exited before its gdbstub came up ({st})",
                            opts.binary.display()
                        ));
                    }
                    // Generous: on a loaded two-core machine qemu has taken more
                    // than ten seconds to open its socket.
                    if t0.elapsed() > Duration::from_secs(60) {
                        let _ = child.kill();
                        let _ = child.wait();
                        let _ = std::fs::remove_dir_all(&dir);
                        return Err(format!("no gdbstub at {}: {e}", sock.display()));
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        };
        let mut q = Self {
            child,
            rsp: Client::new(stream),
            dir,
            int80: code.sites(INT80).into_iter().collect(),
            cpuid: code.sites(CPUID).into_iter().collect(),
            code,
            cur: Snapshot::default(),
            outstanding: false,
            tls: [None; 3],
            done: false,
            pending_sig: 0,
            sigtrap_handled: false,
            strict: false,
            qemu_exe: None,
            steps_sent: 0,
            log,
        };
        // Connected: QEMU has exec'd.
        q.qemu_exe = std::fs::read_link(format!("/proc/{}/exe", q.child.id())).ok();
        let stop = q.rsp.request(b"?").map_err(io_err)?;
        if !stop.starts_with(b"T05") && !stop.starts_with(b"S05") {
            return Err(format!("unexpected initial stop {:?}", String::from_utf8_lossy(&stop)));
        }
        // QEMU answers `P` (write one register) only to a client that has read the
        // target description.
        let xml = q.rsp.request(b"qXfer:features:read:target.xml:0,ffb").map_err(io_err)?;
        if !xml.starts_with(b"l") && !xml.starts_with(b"m") {
            return Err(format!("gdbstub gave no target description: {}", String::from_utf8_lossy(&xml)));
        }
        if q.log.is_some() {
            let sites: Vec<u32> = q.int80.iter().chain(q.cpuid.iter()).copied().collect();
            for a in sites {
                q.breakpoint(a, true)?;
            }
        }
        q.cur = q.read_regs()?;
        Ok(q)
    }

    fn breakpoint(&mut self, addr: u32, on: bool) -> Result<(), String> {
        let req = format!("{}0,{addr:x},1", if on { 'Z' } else { 'z' });
        let r = self.rsp.request(req.as_bytes()).map_err(io_err)?;
        if r != b"OK" {
            return Err(format!("gdbstub refused {req}: {}", String::from_utf8_lossy(&r)));
        }
        Ok(())
    }

    fn with_bases(&self, mut s: Snapshot) -> Snapshot {
        for i in 0..6 {
            let sel = s.sel[i];
            let index = usize::from(sel >> 3);
            s.base[i] =
                if sel & 4 == 0 && (6..9).contains(&index) { self.tls[index - 6].unwrap_or(0) } else { 0 };
        }
        s
    }

    fn read_regs(&mut self) -> Result<Snapshot, String> {
        let g = self.rsp.request(b"g").map_err(io_err)?;
        Ok(self.with_bases(parse_g(&g)?))
    }

    fn set_reg(&mut self, n: usize, v: u32) -> Result<(), String> {
        let req = format!("P{n:x}={}", to_hex(&v.to_le_bytes()));
        let r = self.rsp.request(req.as_bytes()).map_err(io_err)?;
        if r != b"OK" {
            return Err(format!("gdbstub refused {req}: {}", String::from_utf8_lossy(&r)));
        }
        Ok(())
    }

    fn read_stop(&mut self) -> Result<Stop, String> {
        let stop = self.rsp.recv().map_err(io_err)?;
        parse_stop(&stop)
    }
}

/// Linux i386 signal numbers 1–31 → gdb's remote-protocol numbers
/// (gdb/signals.def), which QEMU's stub speaks in stop replies and `C`.
const GDB_SIGNAL: [i32; 32] = [
    0, 1, 2, 3, 4, 5, 6, 10, 8, 9, 30, 11, 31, 13, 14, 15, 0, 20, 19, 17, 18, 21, 22, 16, 24, 25, 26, 27, 28,
    23, 32, 12,
];

/// gdb's signal number for a Linux one (0 if it has none).
pub fn gdb_signal(linux: i32) -> i32 {
    usize::try_from(linux).ok().and_then(|i| GDB_SIGNAL.get(i)).copied().unwrap_or(0)
}

/// The Linux signal number for a gdb one (0 if none).
pub fn linux_signal(gdb: i32) -> i32 {
    if gdb == 0 {
        return 0;
    }
    GDB_SIGNAL.iter().position(|&g| g == gdb).map_or(0, |i| i as i32)
}

/// Live processes with `fifo` open, running `qemu` (its executable) if given:
/// forked QEMUs that may still write dumps into the log.
fn log_writers(fifo: &Path, qemu: Option<&Path>) -> Vec<u32> {
    let Ok(procs) = std::fs::read_dir("/proc") else { return vec![] };
    procs
        .flatten()
        .filter_map(|p| {
            let pid = p.file_name().to_str().and_then(|n| n.parse::<u32>().ok())?;
            if qemu.is_some() && std::fs::read_link(p.path().join("exe")).ok().as_deref() != qemu {
                return None;
            }
            let state = std::fs::read_to_string(p.path().join("stat"))
                .ok()
                .and_then(|s| s.rsplit_once(") ").and_then(|(_, r)| r.chars().next()));
            if state.is_none_or(|c| c == 'Z' || c == 'X') {
                return None;
            }
            let fds = std::fs::read_dir(p.path().join("fd")).ok()?;
            fds.flatten().any(|fd| std::fs::read_link(fd.path()).ok().as_deref() == Some(fifo)).then_some(pid)
        })
        .collect()
}

/// Whether a process other than `me` runs `qemu` with `fifo` open.
fn other_log_writers(fifo: &Path, qemu: Option<&Path>, me: u32) -> bool {
    log_writers(fifo, qemu).into_iter().any(|p| p != me)
}

fn parse_stop(stop: &[u8]) -> Result<Stop, String> {
    let byte = |p: &[u8]| p.get(1..3).and_then(from_hex).map_or(0, |b| i32::from(b[0]));
    let sig = |p: &[u8]| linux_signal(byte(p));
    match stop.first() {
        Some(b'T' | b'S') if sig(stop) == 5 => Ok(Stop::Trap),
        Some(b'T' | b'S') => Ok(Stop::Signal(sig(stop))),
        Some(b'W') => Ok(Stop::Exited(byte(stop))),
        Some(b'X') => Ok(Stop::Killed(sig(stop))),
        _ => Err(format!("unexpected stop reply {:?}", String::from_utf8_lossy(stop))),
    }
}

impl Qemu {
    /// Whether every possible successor of the instruction at `eip` is known code
    /// that is not a site the tracer handles itself (see the module comment).
    fn safe_to_speculate(&self, eip: u32) -> bool {
        use iced_x86::FlowControl;
        let Some(insn) = self.code.bytes_at(eip, 15).and_then(|b| growsdown_decoder::decode_one(b, eip).ok())
        else {
            return false;
        };
        let ok = |a: u32| {
            !self.int80.contains(&a) && !self.cpuid.contains(&a) && self.code.bytes_at(a, 1).is_some()
        };
        let next = insn.next_ip32();
        match insn.flow_control() {
            FlowControl::Next => ok(next),
            FlowControl::UnconditionalBranch | FlowControl::Call => {
                insn.op0_kind() == growsdown_decoder::OpKind::NearBranch32 && ok(insn.near_branch32())
            }
            FlowControl::ConditionalBranch => {
                insn.op0_kind() == growsdown_decoder::OpKind::NearBranch32
                    && ok(insn.near_branch32())
                    && ok(next)
            }
            _ => false,
        }
    }

    /// A speculative step must never be in flight where the tracer acts alone.
    fn settle(&mut self) -> Result<(), String> {
        if self.outstanding || self.log.as_ref().is_some_and(|l| l.running) {
            return Err(format!("internal: a speculative step was sent into {:#010x}", self.cur.eip));
        }
        Ok(())
    }

    /// A stop that is not a step: the process ended, or QEMU is about to deliver a
    /// signal (kept pending for the next resume, see [`Qemu::resume`]).
    fn finish(&mut self, stop: Stop) -> Result<Event, String> {
        Ok(match stop {
            Stop::Exited(c) => {
                self.done = true;
                Event::Exited(c)
            }
            Stop::Killed(s) => {
                self.done = true;
                Event::Killed(s)
            }
            Stop::Signal(s) => {
                self.pending_sig = s;
                self.cur = self.read_regs()?;
                Event::Signal(s, self.cur)
            }
            Stop::Trap => Event::Stepped(self.cur),
        })
    }

    /// Queues the packet that lets QEMU run on: `c`, or `C sig` with a pending
    /// signal.
    fn resume(&mut self) {
        match std::mem::take(&mut self.pending_sig) {
            0 => self.rsp.queue(b"c"),
            sig => self.rsp.queue(format!("C{:02x}", gdb_signal(sig)).as_bytes()),
        }
    }

    /// After fork/vfork/clone in log mode. The child inherits QEMU's log and keeps
    /// writing dumps of its own instructions into the same FIFO, where they cannot
    /// be told from the parent's. The parent is stopped (at the breakpoint after the
    /// call), so every dump that arrives now is another process's: they are read
    /// and dropped until no other process runs under QEMU with the FIFO open (the
    /// child and its own children have exited, or exec'd programs the host runs
    /// itself). A child that waits for its parent cannot be followed this way.
    fn drain_child_log(&mut self, child: u32) -> Result<(), String> {
        let t0 = Instant::now();
        let fifo = self.dir.join("cpu.log");
        let qemu = self.qemu_exe.clone();
        let me = self.child.id();
        let drain = |q: &mut Self| -> Result<(), String> {
            while q.fill_log()? {}
            if let Some(l) = q.log.as_mut() {
                while l.parser.next_state()?.is_some() {}
            }
            Ok(())
        };
        loop {
            drain(self)?;
            if !other_log_writers(&fifo, qemu.as_deref(), me) {
                return drain(self);
            }
            if t0.elapsed() > Duration::from_secs(20) {
                return Err(format!(
                    "the child {child} of fork (or a descendant) still runs under qemu after 20 s (waiting \
                     for its parent?); qemu's log cannot separate two processes' instructions: try --against native"
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// `cpuid` answered with growsdown's values and skipped.
    fn emulate_cpuid(&mut self) -> Result<Event, String> {
        self.settle()?;
        let out = growsdown_cpu::cpuid::cpuid(self.cur.regs[0], self.cur.regs[1]);
        // EAX EBX ECX EDX → gdb registers 0, 3, 1, 2.
        for (v, n) in out.iter().zip([0usize, 3, 1, 2]) {
            self.set_reg(n, *v)?;
            self.cur.regs[n] = *v;
        }
        self.cur.eip += 2;
        self.set_reg(8, self.cur.eip)?;
        Ok(Event::Stepped(self.cur))
    }

    /// `int 0x80`, with nothing speculative in flight. QEMU 7.2's user mode, asked
    /// to single-step a system call, also runs the instruction after it (the step
    /// trap is only taken at the end of the next translation block), so the call is
    /// run with `c` up to a temporary breakpoint on the next instruction — with
    /// single-stepping off, breakpoints stop before the instruction.
    fn step_syscall(&mut self) -> Result<Event, String> {
        self.settle()?;
        let (nr, ebx) = (self.cur.regs[0], self.cur.regs[3]);
        let eip = self.cur.eip;
        // sigreturn / rt_sigreturn go back to where the signal interrupted the
        // program: the EIP saved in the frame's sigcontext (its 15th field), at
        // ESP + 4 (after `pop eax`, at the sigcontext) or ESP + 140 + 20 (the
        // rt_sigframe's sig, pinfo, puc, siginfo; ucontext's flags, link, stack).
        let esp = self.cur.regs[4];
        let next = match nr {
            119 | 173 => {
                let sc = super::sigframe::sigreturn_context(nr, esp).unwrap_or(esp);
                let b = self.read_mem(sc.wrapping_add(4 * super::sigframe::SC_EIP as u32), 4)?;
                u32::from_le_bytes([b[0], b[1], b[2], b[3]])
            }
            _ => eip.wrapping_add(2),
        };
        let logging = self.log.is_some();
        if logging {
            self.breakpoint(eip, false)?;
        }
        let next_is_site = self.int80.contains(&next) || self.cpuid.contains(&next);
        if !(logging && next_is_site) {
            self.breakpoint(next, true)?;
        }
        self.steps_sent += 1;
        self.resume();
        let stop = self.wait_stop()?;
        if matches!(stop, Stop::Exited(_) | Stop::Killed(_)) {
            return self.finish(stop);
        }
        let forked = matches!(nr, 2 | 120 | 190);
        if logging && forked && matches!(stop, Stop::Trap) {
            // The dump taken before `int 0x80` came first; the child's follow.
            let child = self.read_regs()?.regs[0];
            if (1..0x4000_0000).contains(&child) {
                self.drain_child_log(child)?;
            }
        } else {
            // The log holds the dump taken before `int 0x80`: the state already known.
            self.drain_log_expecting(1)?;
        }
        if !(logging && next_is_site) {
            self.breakpoint(next, false)?;
        }
        if logging {
            self.breakpoint(eip, true)?;
        }
        if !matches!(stop, Stop::Trap) {
            // A signal at the call's exit (QEMU then has EAX = the result), or one
            // that interrupted it and made QEMU restart it (EIP back on `int 0x80`).
            return self.finish(stop);
        }
        self.cur = self.read_regs()?;
        // set_thread_area (243): shadow the descriptor base QEMU installed.
        if nr == 243 && self.cur.regs[0] == 0 {
            let d = self.read_mem(ebx, 8)?;
            let entry = u32::from_le_bytes([d[0], d[1], d[2], d[3]]) as usize;
            let base = u32::from_le_bytes([d[4], d[5], d[6], d[7]]);
            if (6..9).contains(&entry) {
                self.tls[entry - 6] = Some(base);
            }
            self.cur = self.with_bases(self.cur);
        }
        Ok(Event::Stepped(self.cur))
    }

    /// Reads what the FIFO holds now into the parser; false when it is empty.
    fn fill_log(&mut self) -> Result<bool, String> {
        let Some(l) = self.log.as_mut() else { return Ok(false) };
        match std::io::Read::read(&mut l.fifo, &mut l.chunk) {
            Ok(0) => Ok(false), // no writer (QEMU gone) or nothing yet
            Ok(n) => {
                let LogStream { parser, chunk, .. } = l;
                parser.feed(&chunk[..n]);
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(false),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Ok(true),
            Err(e) => Err(format!("qemu log: {e}")),
        }
    }

    /// After a stop: everything QEMU logged before it is in the FIFO. Reads it all
    /// and checks that it holds at most `n` dumps, each equal to the known state.
    fn drain_log_expecting(&mut self, n: usize) -> Result<(), String> {
        if self.log.is_none() {
            return Ok(());
        }
        while self.fill_log()? {}
        let mut seen = 0;
        while let Some(s) = self.log.as_mut().map(|l| l.parser.next_state()).transpose()?.flatten() {
            seen += 1;
            if seen > n || s.eip != self.cur.eip || s.regs != self.cur.regs {
                return Err(format!("qemu ran past {:#010x} (log shows {:#010x})", self.cur.eip, s.eip));
            }
        }
        Ok(())
    }

    /// Waits for the stop reply after a `c` that should stop before any instruction
    /// runs unlogged, reading the log meanwhile so QEMU never blocks on a full FIFO
    /// (a fork's child logs there too, and a signal handler run by mistake would).
    fn wait_stop(&mut self) -> Result<Stop, String> {
        if self.log.is_none() {
            return self.read_stop();
        }
        self.rsp.flush().map_err(io_err)?;
        loop {
            if let Some(st) = self.log.as_mut().and_then(|l| l.stop.take()) {
                return Ok(st);
            }
            if !self.fill_log()? {
                self.wait_log_or_stop()?;
            }
            if self.log.as_ref().is_some_and(|l| l.parser.buffered() > 1 << 20) {
                let me = self.child.id();
                if !other_log_writers(&self.dir.join("cpu.log"), self.qemu_exe.as_deref(), me) {
                    return Err(format!("qemu ran on past {:#010x} without stopping", self.cur.eip));
                }
                // Else a forked child's dumps, dropped once the parent has stopped.
            }
        }
    }

    /// Takes a stop reply if one has arrived.
    fn poll_stop(&mut self) -> Result<bool, String> {
        match self.rsp.try_recv().map_err(io_err)? {
            Some(p) => {
                let stop = parse_stop(&p)?;
                if let Some(l) = self.log.as_mut() {
                    l.stop = Some(stop);
                }
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Waits until the FIFO or the gdbstub socket has something.
    fn wait_log_or_stop(&mut self) -> Result<(), String> {
        use std::os::fd::AsRawFd;
        if self.poll_stop()? {
            return Ok(());
        }
        let Some(l) = self.log.as_ref() else { return Ok(()) };
        let mut fds = [
            libc::pollfd { fd: l.fifo.as_raw_fd(), events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: self.rsp.stream_fd(), events: libc::POLLIN, revents: 0 },
        ];
        // SAFETY: two valid pollfds.
        let r = unsafe { libc::poll(fds.as_mut_ptr(), 2, 1000) };
        if r < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("poll: {}", std::io::Error::last_os_error()));
        }
        if fds[1].revents != 0 {
            self.poll_stop()?;
        }
        if r == 0 {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Err(format!("qemu-i386 ended unexpectedly ({st})"));
            }
        }
        Ok(())
    }

    /// One instruction in `log` mode.
    fn step_logged(&mut self, eip: u32, rep: bool) -> Result<Event, String> {
        let l = self.log.as_mut().expect("log mode");
        if !l.running {
            l.running = true;
            l.expect_first = true;
            self.resume();
            self.rsp.flush().map_err(io_err)?;
        }
        loop {
            let l = self.log.as_mut().expect("log mode");
            if let Some(s) = l.parser.next_state()? {
                if std::mem::take(&mut l.expect_first) {
                    if s.eip != self.cur.eip || s.regs != self.cur.regs {
                        return Err(format!(
                            "qemu log starts at {:#010x}, expected {:#010x}",
                            s.eip, self.cur.eip
                        ));
                    }
                    continue;
                }
                self.cur = s;
                self.steps_sent += 1;
                if rep && s.eip == eip {
                    continue;
                }
                return Ok(Event::Stepped(s));
            }
            if l.stop.is_some() {
                // Stopped: whatever it logged before stopping is in the FIFO.
                if self.fill_log()? {
                    continue;
                }
                let l = self.log.as_mut().expect("log mode");
                let stop = l.stop.take().expect("checked");
                l.running = false;
                // The last dump is the state before the instruction just run. With
                // TF set there, QEMU raised the single-step #DB after it (its
                // `helper_single_step`) and its user mode queued SIGTRAP for the
                // guest, which the stub reports as T05 like a breakpoint: the trap
                // comes first, so this stop is the guest's signal.
                let guest_trap = self.cur.eflags & growsdown_cpu::flags::TF != 0;
                return match stop {
                    Stop::Trap if guest_trap => self.finish(Stop::Signal(libc::SIGTRAP)),
                    Stop::Trap => {
                        self.cur = self.read_regs()?;
                        Ok(Event::Stepped(self.cur))
                    }
                    other => self.finish(other),
                };
            }
            if !self.fill_log()? {
                self.wait_log_or_stop()?;
            }
        }
    }
}

impl Reference for Qemu {
    fn name(&self) -> &'static str {
        "qemu"
    }

    /// qemu-user 7.2 mmaps the guest stack once and never grows it: 8 MiB, or
    /// RLIMIT_STACK (inherited from us) when that is finite and larger; a guard page
    /// below. Measured with `qemu-i386 -d page`: 0x40001000-0x40801000 under
    /// `ulimit -s 8192`, 0x40001000-0x41001000 under `ulimit -s 16384`.
    fn personality(&self, st: &InitialStack) -> Personality {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit fills the struct it is given.
        let ok = unsafe { libc::getrlimit(libc::RLIMIT_STACK, &mut lim) } == 0;
        let cur = if ok && lim.rlim_cur != libc::RLIM_INFINITY { lim.rlim_cur } else { 0 };
        Personality::qemu_user(st.top, u32::try_from(cur).unwrap_or(0).max(8 << 20) & !0xfff)
    }

    /// `C sig`: continue with the signal. QEMU's user mode delivers it to the guest;
    /// with the default action it reports `X sig` (gdb_signalled) and dies.
    fn deliver_fatal(&mut self, sig: i32) -> Result<Event, String> {
        self.settle()?;
        self.pending_sig = 0;
        self.rsp.queue(format!("C{:02x}", gdb_signal(sig)).as_bytes());
        let stop = self.read_stop()?;
        self.done = true;
        Ok(match stop {
            Stop::Killed(s) => Event::Killed(s),
            Stop::Exited(c) => Event::Exited(c),
            Stop::Signal(s) => Event::Signal(s, self.cur),
            Stop::Trap => Event::Stepped(self.cur),
        })
    }

    /// `C sig` with a temporary breakpoint on the handler: QEMU's user mode builds
    /// the frame and stops before the handler's first instruction (log mode; the
    /// stub of QEMU 7.2 drops a signal passed with a single step).
    fn deliver_to_handler(&mut self, sig: i32, handler: u32) -> Result<Event, String> {
        self.settle()?;
        if self.log.is_none() {
            return Err(format!("lockstep into a handler of signal {sig} needs qemu's log mode"));
        }
        if sig == libc::SIGTRAP && std::mem::replace(&mut self.sigtrap_handled, true) {
            return Err(
                "a second SIGTRAP into the program's handler: QEMU 7.2 reset that handler to SIG_DFL \
                        when its gdbstub stopped inside it (try --against native)"
                    .into(),
            );
        }
        let site = self.int80.contains(&handler) || self.cpuid.contains(&handler);
        if !site {
            self.breakpoint(handler, true)?;
        }
        self.pending_sig = 0;
        self.rsp.queue(format!("C{:02x}", gdb_signal(sig)).as_bytes());
        let stop = self.read_stop()?;
        self.drain_log_expecting(0)?;
        if !site && !matches!(stop, Stop::Exited(_) | Stop::Killed(_)) {
            self.breakpoint(handler, false)?;
        }
        match stop {
            Stop::Trap => {
                self.cur = self.read_regs()?;
                Ok(Event::Stepped(self.cur))
            }
            other => self.finish(other),
        }
    }

    fn known_errata(&self) -> bool {
        !self.strict
    }

    /// QEMU 7.2's i386 signal delivery keeps the interrupted XMM0–7 and MXCSR for
    /// the handler, and its sigreturn does not restore them (measured:
    /// `scenarios write-text` enters its handler with glibc's XMM values, `trapflag`
    /// returns from one with the handler's MXCSR; docs/difftest.md cases 11, 14).
    fn signals_keep_sse(&self) -> bool {
        true
    }

    fn set_strict(&mut self, strict: bool) {
        self.strict = strict;
    }

    fn state(&self) -> Snapshot {
        self.cur
    }

    fn step(&mut self) -> Result<Event, String> {
        if self.done {
            return Err("the qemu process has ended".into());
        }
        if self.pending_sig != 0 && self.log.is_none() {
            return Err(
                "following a signal needs qemu's log mode (its stub drops a signal on a single step)".into(),
            );
        }
        let eip = self.cur.eip;
        if self.log.is_none() && self.cur.eflags & growsdown_cpu::flags::TF != 0 {
            // The stub's own single-stepping takes the #DB: the guest's trap would
            // be lost.
            return Err("following a program that sets the trap flag needs qemu's log mode".into());
        }
        if self.int80.contains(&eip) {
            return self.step_syscall();
        }
        if self.cpuid.contains(&eip) {
            return self.emulate_cpuid();
        }
        let rep = self.code.is_rep_string(eip);
        if self.log.is_some() {
            return self.step_logged(eip, rep);
        }
        loop {
            if !std::mem::take(&mut self.outstanding) {
                self.steps_sent += 1;
                self.rsp.queue(b"s");
            }
            match self.read_stop()? {
                Stop::Trap => {}
                other => return self.finish(other),
            }
            // One write: `g` (answered now) and, where safe, the next `s`.
            self.rsp.queue(b"g");
            if self.safe_to_speculate(eip) {
                self.rsp.queue(b"s");
                self.outstanding = true;
                self.steps_sent += 1;
            }
            let g = self.rsp.recv().map_err(io_err)?;
            self.cur = self.with_bases(parse_g(&g)?);
            // Each iteration of a REP string instruction is its own step.
            if rep && self.cur.eip == eip {
                continue;
            }
            return Ok(Event::Stepped(self.cur));
        }
    }

    fn read_mem(&mut self, addr: u32, len: usize) -> Result<Vec<u8>, String> {
        if self.outstanding || self.log.as_ref().is_some_and(|l| l.running) {
            return Err("qemu: memory read while the guest runs".into());
        }
        let mut out = Vec::with_capacity(len);
        let mut a = addr;
        while out.len() < len {
            let n = (len - out.len()).min(1024);
            let r = self.rsp.request(format!("m{a:x},{n:x}").as_bytes()).map_err(io_err)?;
            if r.first() == Some(&b'E') || r.len() != 2 * n {
                return Err(format!(
                    "qemu cannot read {n} bytes at {a:#010x} ({})",
                    String::from_utf8_lossy(&r)
                ));
            }
            out.extend(from_hex(&r).ok_or("m reply is not hex")?);
            a = a.wrapping_add(n as u32);
        }
        Ok(out)
    }

    fn set_regs(&mut self, regs: &[(usize, u32)]) -> Result<(), String> {
        self.settle()?;
        for &(n, v) in regs {
            self.set_reg(n, v)?;
            match n {
                0..=7 => self.cur.regs[n] = v,
                8 => self.cur.eip = v,
                9 => self.cur.eflags = v,
                _ => return Err(format!("no register {n}")),
            }
        }
        Ok(())
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.rsp.send_only(b"k");
        }
        if matches!(self.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(20));
            if matches!(self.child.try_wait(), Ok(None)) {
                let _ = self.child.kill();
            }
        }
        let _ = self.child.wait();
        // Children the program forked that still run under QEMU (a child waiting
        // for a signal its killed parent never sent) would live on: every process
        // running QEMU with the log FIFO open is one of them. (Not any process with
        // the FIFO open: one this process forks holds it until its exec.)
        let fifo = self.dir.join("cpu.log");
        if let Some(qemu) = self.qemu_exe.as_deref() {
            for pid in log_writers(&fifo, Some(qemu)) {
                // SAFETY: sending SIGKILL to a process that runs QEMU on our log.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gdb_signal_numbers() {
        // SIGBUS, SIGUSR1, SIGCHLD differ between Linux and gdb's numbering.
        assert_eq!((gdb_signal(7), gdb_signal(10), gdb_signal(17)), (10, 30, 20));
        for sig in 1..32 {
            if gdb_signal(sig) != 0 {
                assert_eq!(linux_signal(gdb_signal(sig)), sig);
            }
        }
        assert!(matches!(parse_stop(b"T14thread:01;"), Ok(Stop::Signal(17))));
        assert!(matches!(parse_stop(b"W07"), Ok(Stop::Exited(7))));
        assert!(matches!(parse_stop(b"X0b"), Ok(Stop::Killed(11))));
    }

    #[test]
    fn model_matches_growsdown_cpuid() {
        let m = cpu_model();
        assert!(
            m.starts_with(
                "base,fpu=on,pse=on,tsc=on,cx8=on,pge=on,cmov=on,clflush=on,mmx=on,fxsr=on,sse=on,sse2=on,\
                 pni=on,ssse3=on,"
            ),
            "{m}"
        );
        assert!(
            m.contains("vendor=GenuineIntel,family=6,model=15,stepping=11,level=1,xlevel=0x80000000"),
            "{m}"
        );
    }

    /// A reply captured from qemu-i386 7.2 after `fld1; fild dword [3]; fdivrp`
    /// (TOP = 7): 1/3 in physical R7, 3.0 left in R6 (empty), fstat 0x3820, ftag 0.
    #[test]
    fn parses_x87_from_a_real_reply() {
        const REPLY: &str = "00000000000000000000000000000000e00780400000000000000000000000000a90040802020000230000002b0000002b0000002b000000000000002b00000000000000000000000000000001000180000000000000000000020500000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000c00040abaaaaaaaaaaaaaafd3f7f030000203800000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000801f0000";
        let s = parse_g(REPLY.as_bytes()).unwrap();
        let x = s.x87.unwrap();
        assert_eq!((x.fcw, x.fsw, x.top(), x.tags_known), (0x37f, 0x3820, 7, false));
        assert_eq!(x.r[7], F80 { sig: 0xaaaa_aaaa_aaaa_aaab, se: 0x3ffd });
        assert_eq!(x.r[6], F80 { sig: 0xc000_0000_0000_0000, se: 0x4000 });
        assert_eq!(s.eip, 0x0804_900a);
    }

    #[test]
    fn no_shim_when_the_guest_has_its_own_ld_preload() {
        let env = [(OsString::from("LD_PRELOAD"), OsString::from("/x.so"))];
        assert_eq!(logfmt_shim(&env), None);
    }

    #[test]
    fn parses_register_reply() {
        // eax=1 ecx=2 ... edi=8, eip=0x08049000, eflags=0x202, cs=0x23 ss=ds=es=0x2b
        // fs=0 gs=0x33; too short for the x87 registers.
        let mut words = vec![1u32, 2, 3, 4, 5, 6, 7, 8, 0x0804_9000, 0x202, 0x23, 0x2b, 0x2b, 0x2b, 0, 0x33];
        words.extend([0u32; 20]);
        let hex: String = words.iter().map(|w| to_hex(&w.to_le_bytes())).collect();
        let s = parse_g(hex.as_bytes()).unwrap();
        assert_eq!(s.regs, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!((s.eip, s.eflags), (0x0804_9000, 0x202));
        assert_eq!(s.sel, [0x2b, 0x23, 0x2b, 0x2b, 0, 0x33]);
        assert!(parse_g(b"0011").is_err());
    }

    #[test]
    fn each_run_gets_a_fresh_private_directory() {
        use std::os::unix::fs::PermissionsExt;
        let (a, b) = (private_dir().unwrap(), private_dir().unwrap());
        assert_ne!(a, b);
        for d in [&a, &b] {
            let meta = std::fs::metadata(d).unwrap();
            assert!(meta.is_dir());
            assert_eq!(meta.permissions().mode() & 0o777, 0o700, "{}", d.display());
            assert!(std::fs::read_dir(d).unwrap().next().is_none(), "empty");
            std::fs::remove_dir(d).unwrap();
        }
    }
}
