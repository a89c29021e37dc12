//! The loader against the real static i386 binaries in guest-images/bin, cross-checked
//! with goblin's full parser, and fuzzed with thousands of truncated and corrupted
//! variants of them: plan_elf must return Ok or Err, never panic, and every Ok plan
//! must satisfy the guarantees the kernel relies on.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use growsdown_loader::*;

fn guest(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../guest-images/bin").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e} (run guest-images/build.sh)", p.display()))
}

const ALL: &[&str] = &[
    "hello-glibc",
    "hello-musl",
    "stackgrow",
    "segv-exit",
    "scenarios",
    "esp32",
    "esp33",
    "esp40",
    "pusha32",
    "push1",
    "read-below",
    "brk-layout",
    "zlib-demo",
    "sqlite-demo",
    "lua-demo",
    "cxx-demo",
];

/// What the kernel may assume about an Ok plan for a file of `len` bytes.
fn check_invariants(p: &LoadPlan, len: usize) {
    assert!(p.entry < TASK_SIZE);
    assert!(!p.segments.is_empty());
    assert_eq!(p.phent, 32);
    assert!((1..=128).contains(&p.phnum));
    for s in &p.segments {
        assert!(s.vaddr < TASK_SIZE);
        assert!(s.filesz <= s.memsz);
        assert!(s.vaddr as u64 + s.memsz as u64 <= TASK_SIZE as u64);
        assert_eq!(s.vaddr % PAGE_SIZE, s.offset % PAGE_SIZE);
        assert!(s.filesz == 0 || s.offset as u64 + s.filesz as u64 <= len as u64);
        assert!(p.start_code <= s.vaddr && s.vaddr <= p.start_data);
        assert!(s.vaddr + s.filesz <= p.elf_bss && s.vaddr + s.memsz <= p.elf_brk);
    }
    assert!(p.elf_bss <= p.end_data || p.segments.iter().all(|s| s.filesz == 0));
    assert!(p.end_code <= p.elf_bss);
    // And a stack can always be built for it.
    let img = build_stack(&StackParams {
        argv: &[b"x".to_vec()],
        envp: &[],
        filename: b"/x",
        platform: "i686",
        random: [7; 16],
        hwcap: 0,
        uid: 0,
        euid: 0,
        gid: 0,
        egid: 0,
        secure: false,
        plan: p,
        interp_base: 0,
        stack_top: STACK_TOP,
        vdso: Some((0x3fff_f220, 0x3fff_f000)),
    })
    .unwrap();
    assert_eq!(img.esp % 16, 0);
}

#[test]
fn every_guest_image_plans_and_matches_goblin() {
    for name in ALL {
        let bytes = guest(name);
        let plan = plan_static_elf(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        check_invariants(&plan, bytes.len());
        assert!(!plan.has_interp, "{name}");
        assert!(
            plan.segments.iter().any(|s| s.exec && plan.entry >= s.vaddr && plan.entry < s.vaddr + s.memsz),
            "{name}: entry outside the executable segments"
        );
        // Cross-check with goblin's full parser.
        let elf = goblin::elf::Elf::parse(&bytes).unwrap();
        assert_eq!(elf.header.e_entry as u32, plan.entry, "{name}");
        assert_eq!(elf.header.e_phnum as u32, plan.phnum, "{name}");
        let loads: Vec<_> = elf
            .program_headers
            .iter()
            .filter(|ph| ph.p_type == goblin::elf::program_header::PT_LOAD)
            .map(|ph| {
                (
                    ph.p_vaddr as u32,
                    ph.p_memsz as u32,
                    ph.p_filesz as u32,
                    ph.p_offset as u32,
                    ph.is_read(),
                    ph.is_write(),
                    ph.is_executable(),
                )
            })
            .collect();
        let ours: Vec<_> = plan
            .segments
            .iter()
            .map(|s| (s.vaddr, s.memsz, s.filesz, s.offset, s.read, s.write, s.exec))
            .collect();
        assert_eq!(loads, ours, "{name}");
        // Every image here is linked at 0x08048000 with the ELF header mapped there.
        assert_eq!(plan.start_code, 0x0804_8000, "{name}");
        assert_eq!(plan.phdr_addr, 0x0804_8034, "{name}");
    }
}

#[test]
fn brk_layout_is_the_spec_layout() {
    // docs/linux24.md §8 scenario 11.
    let plan = plan_elf(&guest("brk-layout")).unwrap();
    let data = plan.segments.last().unwrap();
    assert_eq!((data.vaddr, data.filesz, data.memsz), (0x080A_0000, 0x100, 0x1234));
    assert!(data.read && data.write && !data.exec);
    assert_eq!(plan.elf_bss, 0x080A_0100);
    assert_eq!(plan.elf_brk, 0x080A_1234);
    assert_eq!(plan.start_data, 0x080A_0000);
    assert_eq!(plan.end_data, 0x080A_0100);
}

#[test]
fn glibc_tls_is_reported() {
    let plan = plan_elf(&guest("hello-glibc")).unwrap();
    let (vaddr, memsz) = plan.tls.expect("static glibc has PT_TLS");
    assert!(memsz > 0 && vaddr >= plan.start_code);
}

#[test]
fn sixty_four_bit_file_is_refused_clearly() {
    // The test binary itself is an x86-64 ELF.
    let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    let e = plan_elf(&me).unwrap_err();
    assert_eq!(e.to_string(), "ELF class 64: growsdown runs 32-bit i386 programs only");
}

/// A small deterministic generator (xorshift32), so that failures are reproducible.
struct Rng(u32);
impl Rng {
    fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() as usize) % n.max(1)
    }
}

/// Runs plan_elf on `bytes`, turning a panic into a test failure naming the variant.
fn try_variant(bytes: &[u8], what: &dyn Fn() -> String) -> bool {
    match catch_unwind(AssertUnwindSafe(|| plan_elf(bytes))) {
        Ok(Ok(plan)) => {
            if catch_unwind(AssertUnwindSafe(|| check_invariants(&plan, bytes.len()))).is_err() {
                panic!("invariants broken for {}: {plan:?}", what());
            }
            true
        }
        Ok(Err(e)) => {
            assert!(!e.to_string().is_empty());
            false
        }
        Err(_) => panic!("plan_elf panicked on {}", what()),
    }
}

fn fuzz_image(name: &str, seed: u32) -> (usize, usize) {
    let orig = guest(name);
    let mut bytes = orig.clone();
    let (mut total, mut ok) = (0usize, 0usize);
    let phoff = u32::from_le_bytes(orig[28..32].try_into().unwrap()) as usize;
    let phnum = u16::from_le_bytes(orig[44..46].try_into().unwrap()) as usize;
    let hdr_end = (phoff + 32 * phnum).min(orig.len());

    // 1. Truncations: every length through the headers, then a spread to the end.
    let mut lengths: Vec<usize> = (0..=hdr_end + 64).collect();
    lengths.extend((hdr_end..orig.len()).step_by(orig.len() / 300 + 1));
    for len in lengths.into_iter().filter(|&l| l <= orig.len()) {
        total += 1;
        ok += try_variant(&orig[..len], &|| format!("{name} truncated to {len}")) as usize;
    }

    // 2. Every single-bit flip in the ELF header and the program headers.
    for byte in 0..hdr_end {
        for bit in 0..8 {
            bytes[byte] ^= 1 << bit;
            total += 1;
            ok += try_variant(&bytes, &|| format!("{name} bit {bit} of byte {byte} flipped")) as usize;
            bytes[byte] ^= 1 << bit;
        }
    }

    // 3. Random header/phdr words set to boundary values, several at once, sometimes
    //    with a truncation on top.
    const SPECIAL: [u32; 12] = [
        0,
        1,
        0xFFF,
        0x1000,
        0x7FFF_FFFF,
        0x8000_0000,
        0xBFFF_F000,
        0xBFFF_FFFF,
        0xC000_0000,
        0xFFFF_F000,
        0xFFFF_FFFF,
        0x20,
    ];
    let mut rng = Rng(seed);
    for round in 0..10_000 {
        let n = 1 + rng.below(4);
        let mut changed = vec![];
        for _ in 0..n {
            let at = rng.below(hdr_end.saturating_sub(4)) & !3;
            let v = match rng.below(3) {
                0 => SPECIAL[rng.below(SPECIAL.len())],
                1 => rng.next(),
                _ => u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
                    .wrapping_add(rng.next() % 64)
                    .wrapping_sub(32),
            };
            changed.push(at);
            bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
        }
        let len = if rng.below(4) == 0 { rng.below(orig.len() + 1) } else { orig.len() };
        total += 1;
        ok += try_variant(&bytes[..len], &|| {
            format!("{name} round {round} (seed {seed}), len {len}, words at {changed:?}")
        }) as usize;
        for at in changed {
            bytes[at..at + 4].copy_from_slice(&orig[at..at + 4]);
        }
    }

    // 4. Random garbage of random lengths with a valid-looking prefix.
    for round in 0..500 {
        let len = rng.below(600);
        let mut junk: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let keep = rng.below(60).min(len);
        junk[..keep].copy_from_slice(&orig[..keep]);
        total += 1;
        ok += try_variant(&junk, &|| format!("{name} junk round {round} (seed {seed})")) as usize;
    }
    (total, ok)
}

#[test]
fn fuzz_never_panics() {
    let mut total = 0;
    for (i, name) in ["esp32", "brk-layout", "hello-musl", "hello-glibc"].iter().enumerate() {
        let (t, ok) = fuzz_image(name, 0x9E37_79B9 ^ i as u32);
        eprintln!("{name}: {t} variants, {ok} accepted");
        assert!(ok > 0 && ok < t, "{name}: the fuzzer should produce both outcomes");
        total += t;
    }
    assert!(total > 10_000, "only {total} variants");
}
