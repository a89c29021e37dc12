//! Random bytes as code: whatever they do, the guest ends in a signal or an exit (or
//! is still running when the step budget ends) — the emulator never panics or hangs.
//!
//! Each program is a static ELF whose text segment is random bytes, with a writable
//! data segment next to it so random stores sometimes succeed. System calls the
//! random code makes are answered with -ENOSYS instead of being run: this fuzzes the
//! CPU, the paging unit and the fault and signal paths, not the host's file system.
//! exit/exit_group still run.

use growsdown_kernel::{Config, Kernel, Stepped};

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

#[test]
fn random_code_ends_in_a_signal_or_exit_never_a_panic() {
    let dir = std::env::temp_dir().join(format!("growsdown-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("random.elf");
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let (mut signalled, mut exited, mut running) = (0, 0, 0);
    let (mut insns, runs) = (0u64, 4000);
    for seed in 0..runs {
        std::fs::write(&path, random_elf(&mut rng, 0x2000)).unwrap();
        let mut k = Kernel::new(Config { mem_bytes: 64 << 20, ..Config::default() }).unwrap();
        growsdown_kernel::exec::load_elf_binary(&mut k, path.to_str().unwrap(), &[b"random".to_vec()], &[])
            .unwrap_or_else(|e| panic!("seed {seed}: exec failed: {e}"));
        let mut ended = false;
        for _ in 0..20_000 {
            match k.step() {
                Stepped::Retired | Stepped::Signal => {}
                Stepped::Syscall { nr: 1 | 252, .. } => k.complete_syscall(),
                Stepped::Syscall { .. } => k.cpu.regs[growsdown_cpu::EAX] = (-libc::ENOSYS) as u32,
                Stepped::Exited(st) => {
                    match st {
                        growsdown_kernel::ExitStatus::Exited(_) => exited += 1,
                        growsdown_kernel::ExitStatus::Signaled { .. } => signalled += 1,
                    }
                    ended = true;
                    break;
                }
                Stepped::Stuck => panic!("seed {seed}: an instruction faulted 64 times without completing"),
            }
        }
        insns += k.cpu.icount;
        if !ended {
            running += 1;
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
