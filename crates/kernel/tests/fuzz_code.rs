//! Random bytes as code: whatever they do, the guest ends in a signal or an exit (or
//! is still running when the step budget ends) — the emulator never panics or hangs.
//!
//! Each program is a static ELF whose text segment is random bytes, with a writable
//! data segment next to it so random stores sometimes succeed. System calls the
//! random code makes are answered with -ENOSYS instead of being run: this fuzzes the
//! CPU, the paging unit and the fault and signal paths, not the host's file system.
//! exit/exit_group still run.
//!
//! The same programs also run through the normal loop, [`Kernel::run`], which
//! executes decoded blocks of up to `Config::slice` instructions per `Cpu::run`:
//! wherever single-stepping ends, block-running must end the same way, with the same
//! registers after the same number of instructions.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use growsdown_kernel::{Config, ExitStatus, Kernel, Stepped};

/// The random programs' generator seed (the same programs in both tests).
const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// Single steps per program before it counts as still running.
const STEPS: u32 = 20_000;

struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// ELF32 with two PT_LOADs: r-x text at 0x08048000 (file offset 0x1000, 8 KiB of
/// random bytes) and rw- data at 0x0804b000 (4 KiB file + 8 KiB bss).
fn random_elf(rng: &mut XorShift, code_len: usize) -> Vec<u8> {
    let mut f = vec![0u8; 0x1000 + 0x2000 + 0x1000];
    let w16 = |f: &mut Vec<u8>, o: usize, v: u16| f[o..o + 2].copy_from_slice(&v.to_le_bytes());
    let w32 = |f: &mut Vec<u8>, o: usize, v: u32| f[o..o + 4].copy_from_slice(&v.to_le_bytes());
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 1; // ELFCLASS32
    f[5] = 1; // little-endian
    f[6] = 1;
    w16(&mut f, 16, 2); // ET_EXEC
    w16(&mut f, 18, 3); // EM_386
    w32(&mut f, 20, 1);
    let entry = 0x0804_9000 + (rng.next() % 0x1f00) as u32;
    w32(&mut f, 24, entry);
    w32(&mut f, 28, 52); // phoff
    w16(&mut f, 40, 52);
    w16(&mut f, 42, 32);
    w16(&mut f, 44, 2);
    let ph = |f: &mut Vec<u8>, i: usize, off: u32, va: u32, filesz: u32, memsz: u32, flags: u32| {
        let b = 52 + i * 32;
        for (k, v) in [1, off, va, va, filesz, memsz, flags, 0x1000].into_iter().enumerate() {
            f[b + k * 4..b + k * 4 + 4].copy_from_slice(&v.to_le_bytes());
        }
    };
    ph(&mut f, 0, 0, 0x0804_8000, 0x3000, 0x3000, 5);
    ph(&mut f, 1, 0x3000, 0x0804_b000, 0x1000, 0x3000, 6);
    for b in &mut f[0x1000..0x1000 + code_len] {
        *b = rng.next() as u8;
    }
    f
}

/// A fresh scratch folder for one test (the tests run in parallel). The program's
/// path is copied onto the stack by exec and moves the initial ESP: the pid is
/// zero-padded and the tags have one length, so that ESP is the same in both tests
/// and from one test process to the next.
fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("growsdown-fuzz-{:010}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// How a run ended (`None`: still running after [`STEPS`] single steps) and the CPU
/// then.
#[derive(Clone, Debug, PartialEq, Eq)]
struct End {
    status: Option<ExitStatus>,
    icount: u64,
    eip: u32,
    eflags: u32,
    regs: [u32; 8],
}

impl End {
    fn of(k: &Kernel, status: Option<ExitStatus>) -> Self {
        Self { status, icount: k.cpu.icount, eip: k.cpu.eip, eflags: k.cpu.flags.get(), regs: k.cpu.regs }
    }
}

/// A machine with the program at `path` exec'ed, ready to run: every register but
/// ESP 0 as exec leaves them, or, with `data_regs`, pointing into the writable data
/// segment (so that more of the random loads and stores succeed and the program
/// runs longer).
fn boot(path: &Path, seed: u32, slice: u64, data_regs: bool) -> Kernel {
    let mut k = Kernel::new(Config { mem_bytes: 64 << 20, slice, ..Config::default() }).unwrap();
    growsdown_kernel::exec::load_elf_binary(&mut k, path.to_str().unwrap(), &[b"random".to_vec()], &[])
        .unwrap_or_else(|e| panic!("seed {seed}: exec failed: {e}"));
    fix_at_random(&mut k, seed);
    if data_regs {
        let mut rng = XorShift(0xda7a_0000_0000_0000 | u64::from(seed) << 1 | 1);
        for r in (0..8).filter(|&r| r != growsdown_cpu::ESP) {
            k.cpu.regs[r] = 0x0804_b000 + (rng.next() % 0x3000) as u32;
        }
    }
    k
}

/// exec stores 16 bytes of the host's randomness at AT_RANDOM, on the stack, where
/// random code may read them: two runs of one program would then differ. Replace
/// them with bytes that depend only on `seed`.
fn fix_at_random(k: &mut Kernel, seed: u32) {
    const AT_RANDOM: u32 = 25;
    let word = |k: &mut Kernel, a: u32| -> u32 {
        k.get_user(a).unwrap_or_else(|_| panic!("seed {seed}: initial stack unreadable at {a:#x}"))
    };
    // argc, argv[], NULL, envp[], NULL, then the auxv pairs.
    let esp = k.cpu.regs[growsdown_cpu::ESP];
    let mut p = esp + 4 * (word(k, esp) + 2);
    while word(k, p) != 0 {
        p += 4;
    }
    p += 4;
    loop {
        match word(k, p) {
            0 => panic!("seed {seed}: no AT_RANDOM in the auxiliary vector"),
            AT_RANDOM => {
                let at = word(k, p + 4);
                let mut rng = XorShift(0x5eed_0000_0000_0000 | u64::from(seed) << 1 | 1);
                let bytes: Vec<u8> = (0..16).map(|_| rng.next() as u8).collect();
                k.copy_to_user(at, &bytes).unwrap_or_else(|_| panic!("seed {seed}: AT_RANDOM unwritable"));
                return;
            }
            _ => p += 8,
        }
    }
}

/// Runs the program at `path` with [`Kernel::step`] for at most [`STEPS`] steps,
/// answering system calls other than exit/exit_group with -ENOSYS. Returns how it
/// ended and how many such calls it made.
fn single_step(path: &Path, seed: u32, data_regs: bool) -> (End, u32) {
    let mut k = boot(path, seed, Config::default().slice, data_regs);
    let mut refused = 0;
    for _ in 0..STEPS {
        match k.step() {
            Stepped::Retired | Stepped::Signal => {}
            Stepped::Syscall { nr: 1 | 252, .. } => k.complete_syscall(),
            Stepped::Syscall { .. } => {
                k.cpu.regs[growsdown_cpu::EAX] = (-libc::ENOSYS) as u32;
                refused += 1;
            }
            Stepped::Exited(st) => return (End::of(&k, Some(st)), refused),
            Stepped::Stuck => panic!("seed {seed}: an instruction faulted 64 times without completing"),
        }
    }
    (End::of(&k, None), refused)
}

#[test]
fn random_code_ends_in_a_signal_or_exit_never_a_panic() {
    let dir = scratch("steps");
    let path = dir.join("random.elf");
    let mut rng = XorShift(SEED);
    let (mut signalled, mut exited, mut running) = (0, 0, 0);
    let (mut insns, runs) = (0u64, 4000);
    for seed in 0..runs {
        std::fs::write(&path, random_elf(&mut rng, 0x2000)).unwrap();
        let (end, _) = single_step(&path, seed, false);
        insns += end.icount;
        match end.status {
            Some(ExitStatus::Exited(_)) => exited += 1,
            Some(ExitStatus::Signaled { .. }) => signalled += 1,
            None => running += 1,
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "{runs} random programs, {insns} instructions: {signalled} killed by a signal, {exited} exited, {running} still running"
    );
    // Random bytes almost always hit an invalid opcode, a bad access or a privileged
    // instruction quickly; a loop that runs out the budget is rare.
    assert_eq!(signalled + exited + running, runs);
    assert!(signalled > runs * 3 / 4, "only {signalled} of {runs} random programs ended in a signal");
}

/// `Config::slice` for the block runs, in turn: the default (one `Cpu::run` per
/// program, up to a kernel entry) and small ones that end `Cpu::run` in the middle
/// of blocks.
const SLICES: [u64; 5] = [1 << 20, 1, 3, 64, 1000];

/// Runs the program at `path` with [`Kernel::run`] on a thread of its own, and waits
/// for it at most `limit`.
///
/// `Kernel::run` has no instruction limit (and the kernel no CPU-time limit or
/// timer), so only programs known to end are run: those that ended within [`STEPS`]
/// single steps. If block-running goes another way and loops, the wait times out and
/// the test fails naming the seed, instead of hanging. (The thread is left spinning;
/// the test process ends with the failed run.)
fn run_blocks(path: &Path, seed: u32, slice: u64, data_regs: bool, limit: Duration) -> End {
    let (tx, rx) = mpsc::channel();
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let mut k = boot(&path, seed, slice, data_regs);
        // Only programs that made no system call but exit get here. Should a diverging
        // run reach `int 0x80` anyway, keep it off the test's stdin/stdout/stderr.
        for fd in 0..3 {
            k.task.files.remove(fd);
        }
        let st = k.run();
        let _ = tx.send(End::of(&k, Some(st)));
    });
    match rx.recv_timeout(limit) {
        Ok(end) => end,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("seed {seed}, slice {slice}, data_regs {data_regs}: Kernel::run still running after {limit:?}, single-stepping ended")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            panic!("seed {seed}, slice {slice}, data_regs {data_regs}: booting or Kernel::run panicked (see its message above)")
        }
    }
}

#[test]
fn random_code_runs_the_same_in_blocks_as_single_stepped() {
    let dir = scratch("block");
    let path = dir.join("random.elf");
    let mut rng = XorShift(SEED);
    let (mut compared, mut with_syscalls, mut running) = (0, 0, 0);
    let (mut insns, runs) = (0u64, 2000);
    for seed in 0..runs {
        std::fs::write(&path, random_elf(&mut rng, 0x2000)).unwrap();
        // Each program twice: as exec leaves the registers, and with them pointing
        // into the data segment.
        for data_regs in [false, true] {
            let (stepped, refused) = single_step(&path, seed, data_regs);
            // The block run executes system calls for real (no -ENOSYS answers): only
            // programs whose single-stepped run made none but exit can run it safely
            // and give the same result.
            if refused > 0 {
                with_syscalls += 1;
                continue;
            }
            if stepped.status.is_none() {
                running += 1;
                continue;
            }
            let slice = SLICES[seed as usize % SLICES.len()];
            let blocks = run_blocks(&path, seed, slice, data_regs, Duration::from_secs(60));
            assert_eq!(
                blocks, stepped,
                "seed {seed}, slice {slice}, data_regs {data_regs}: Kernel::run (left) and Kernel::step (right) differ"
            );
            insns += blocks.icount;
            compared += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let cases = 2 * runs;
    eprintln!(
        "{runs} random programs, {cases} runs: {compared} ({insns} instructions) ended the same block-run as \
         single-stepped; not block-run: {with_syscalls} made system calls, {running} still running after {STEPS} steps"
    );
    assert_eq!(compared + with_syscalls + running, cases);
    assert!(compared > cases * 3 / 4, "only {compared} of {cases} runs were compared");
}
