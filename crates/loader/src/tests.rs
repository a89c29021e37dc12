//! Unit tests: hand-built ELF files for every check of `plan_elf`, and the initial
//! stack image word by word.

use crate::*;

// ---------------------------------------------------------------------------
// A tiny ELF writer for tests.
// ---------------------------------------------------------------------------

#[derive(Clone, Copy)]
struct Ph {
    p_type: u32,
    offset: u32,
    vaddr: u32,
    filesz: u32,
    memsz: u32,
    flags: u32,
}

const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PT_PHDR: u32 = 6;
const PT_TLS: u32 = 7;
const R: u32 = 4;
const W: u32 = 2;
const X: u32 = 1;

fn load(offset: u32, vaddr: u32, filesz: u32, memsz: u32, flags: u32) -> Ph {
    Ph { p_type: PT_LOAD, offset, vaddr, filesz, memsz, flags }
}

struct Elf {
    class: u8,
    data: u8,
    e_type: u16,
    machine: u16,
    entry: u32,
    phoff: u32,
    phentsize: u16,
    phnum: Option<u16>,
    phs: Vec<Ph>,
    size: usize,
    extra: Vec<(usize, Vec<u8>)>,
}

impl Elf {
    /// A typical static executable: text r-x at 0x08048000 (file 0..0x1000), data
    /// rw- at 0x08049000 (file 0x1000..0x1100, memsz 0x2000).
    fn typical() -> Elf {
        Elf {
            class: 1,
            data: 1,
            e_type: 2,
            machine: 3,
            entry: 0x0804_8080,
            phoff: 52,
            phentsize: 32,
            phnum: None,
            phs: vec![
                load(0, 0x0804_8000, 0x1000, 0x1000, R | X),
                load(0x1000, 0x0804_9000, 0x100, 0x2000, R | W),
            ],
            size: 0x1100,
            extra: vec![],
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let phnum = self.phnum.unwrap_or(self.phs.len() as u16);
        let need = (self.phoff as usize + 32 * self.phs.len()).max(52);
        let mut b = vec![0u8; self.size.max(need)];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = self.class;
        b[5] = self.data;
        b[6] = 1;
        b[16..18].copy_from_slice(&self.e_type.to_le_bytes());
        b[18..20].copy_from_slice(&self.machine.to_le_bytes());
        b[20..24].copy_from_slice(&1u32.to_le_bytes());
        b[24..28].copy_from_slice(&self.entry.to_le_bytes());
        b[28..32].copy_from_slice(&self.phoff.to_le_bytes());
        b[40..42].copy_from_slice(&52u16.to_le_bytes());
        b[42..44].copy_from_slice(&self.phentsize.to_le_bytes());
        b[44..46].copy_from_slice(&phnum.to_le_bytes());
        for (i, ph) in self.phs.iter().enumerate() {
            let o = self.phoff as usize + 32 * i;
            let words = [ph.p_type, ph.offset, ph.vaddr, ph.vaddr, ph.filesz, ph.memsz, ph.flags, 0x1000];
            for (k, w) in words.iter().enumerate() {
                b[o + 4 * k..o + 4 * k + 4].copy_from_slice(&w.to_le_bytes());
            }
        }
        for (at, data) in &self.extra {
            b[*at..*at + data.len()].copy_from_slice(data);
        }
        b
    }
}

fn err(e: &Elf) -> LoadError {
    plan_elf(&e.bytes()).expect_err("expected an error")
}

// ---------------------------------------------------------------------------
// plan_elf
// ---------------------------------------------------------------------------

#[test]
fn typical_static_executable() {
    let p = plan_elf(&Elf::typical().bytes()).unwrap();
    assert_eq!(p.entry, 0x0804_8080);
    assert_eq!(p.phdr_addr, 0x0804_8034);
    assert_eq!((p.phent, p.phnum), (32, 2));
    assert_eq!(
        p.segments,
        vec![
            SegmentPlan {
                vaddr: 0x0804_8000,
                memsz: 0x1000,
                filesz: 0x1000,
                offset: 0,
                read: true,
                write: false,
                exec: true
            },
            SegmentPlan {
                vaddr: 0x0804_9000,
                memsz: 0x2000,
                filesz: 0x100,
                offset: 0x1000,
                read: true,
                write: true,
                exec: false
            },
        ]
    );
    assert_eq!(p.start_code, 0x0804_8000);
    assert_eq!(p.end_code, 0x0804_9000);
    assert_eq!(p.start_data, 0x0804_9000);
    assert_eq!(p.end_data, 0x0804_9100);
    assert_eq!(p.elf_bss, 0x0804_9100);
    assert_eq!(p.elf_brk, 0x0804_b000);
    assert!(!p.has_interp);
    assert_eq!(p.tls, None);
}

/// Spec §8 scenario 11: data PT_LOAD at 0x080A0000, filesz 0x100, memsz 0x1234.
#[test]
fn scenario_11_brk_layout() {
    let mut e = Elf::typical();
    e.phs[1] = load(0x1000, 0x080A_0000, 0x100, 0x1234, R | W);
    let p = plan_elf(&e.bytes()).unwrap();
    assert_eq!(p.elf_bss, 0x080A_0100);
    assert_eq!(p.elf_brk, 0x080A_1234);
    assert_eq!(p.start_data, 0x080A_0000);
    assert_eq!(p.end_data, 0x080A_0100);
    assert_eq!(p.end_code, 0x0804_9000);
}

#[test]
fn pt_phdr_and_tls_and_em486() {
    let mut e = Elf::typical();
    e.machine = 6;
    e.phs
        .insert(0, Ph { p_type: PT_PHDR, offset: 52, vaddr: 0x0804_8034, filesz: 128, memsz: 128, flags: R });
    e.phs.push(Ph { p_type: PT_TLS, offset: 0x1000, vaddr: 0x0804_9000, filesz: 8, memsz: 0x20, flags: R });
    e.phs[0].vaddr = 0x0804_8777; // distinguish it from the computed value
    let p = plan_elf(&e.bytes()).unwrap();
    assert_eq!(p.phdr_addr, 0x0804_8777);
    assert_eq!(p.phnum, 4);
    assert_eq!(p.tls, Some((0x0804_9000, 0x20)));
    assert_eq!(p.segments.len(), 2);
}

#[test]
fn interp_is_reported() {
    let mut e = Elf::typical();
    e.phs.push(Ph { p_type: PT_INTERP, offset: 0x200, vaddr: 0x0804_8200, filesz: 19, memsz: 19, flags: R });
    e.extra.push((0x200, b"/lib/ld-linux.so.2\0".to_vec()));
    let bytes = e.bytes();
    assert!(plan_elf(&bytes).unwrap().has_interp);
    let err = plan_static_elf(&bytes).unwrap_err();
    assert_eq!(
        err.to_string(),
        "dynamically linked (PT_INTERP /lib/ld-linux.so.2): only static executables are supported"
    );
    assert_eq!(err.errno(), ENOEXEC);
    assert!(plan_static_elf(&Elf::typical().bytes()).is_ok());
}

#[test]
fn header_errors() {
    assert_eq!(plan_elf(b""), Err(LoadError::NotElf));
    assert_eq!(plan_elf(b"\x7fEL"), Err(LoadError::NotElf));
    assert_eq!(plan_elf(b"#!/bin/sh\necho hi\n"), Err(LoadError::NotElf));
    assert_eq!(plan_elf(&[0u8; 100]).unwrap_err().to_string(), "not an ELF file");

    let mut e = Elf::typical();
    e.class = 2;
    assert_eq!(err(&e).to_string(), "ELF class 64: growsdown runs 32-bit i386 programs only");
    // A truncated 64-bit file still says "class 64".
    assert_eq!(plan_elf(b"\x7fELF\x02\x01\x01"), Err(LoadError::WrongClass(2)));
    let mut e = Elf::typical();
    e.data = 2;
    assert_eq!(err(&e), LoadError::WrongEndian(2));
    assert_eq!(plan_elf(b"\x7fELF\x01\x01\x01\x00"), Err(LoadError::TruncatedHeader { size: 8 }));

    let mut e = Elf::typical();
    e.e_type = 1;
    assert_eq!(err(&e), LoadError::WrongType(1));
    assert!(err(&e).to_string().contains("relocatable"));
    e.e_type = 4;
    assert_eq!(err(&e), LoadError::WrongType(4));

    let mut e = Elf::typical();
    e.phs.push(Ph { p_type: PT_INTERP, offset: 0x200, vaddr: 0x200, filesz: 19, memsz: 19, flags: R });
    e.extra.push((0x200, b"/lib/ld-linux.so.2\0".to_vec()));
    assert_eq!(
        plan_static_elf(&e.bytes()),
        Err(LoadError::DynamicallyLinked { interp: "/lib/ld-linux.so.2".into() })
    );
    assert_eq!(plan_elf(&e.bytes()).unwrap().interp.as_deref(), Some(&b"/lib/ld-linux.so.2"[..]));
    e.phs[2].filesz = 1;
    assert_eq!(err(&e), LoadError::BadInterp { filesz: 1 });

    let mut e = Elf::typical();
    e.machine = 62;
    assert_eq!(err(&e).to_string(), "machine 62 (x86-64): growsdown runs i386 programs only");

    let mut e = Elf::typical();
    e.phentsize = 56;
    assert_eq!(err(&e), LoadError::BadPhentsize(56));
    let mut e = Elf::typical();
    e.phnum = Some(0);
    assert_eq!(err(&e), LoadError::BadPhnum(0));
    e.phnum = Some(129);
    assert_eq!(err(&e), LoadError::BadPhnum(129));

    let mut e = Elf::typical();
    e.entry = 0xC000_0000;
    assert_eq!(err(&e), LoadError::EntryInKernelSpace(0xC000_0000));
    e.entry = 0xBFFF_FFFF;
    assert!(plan_elf(&e.bytes()).is_ok());
}

#[test]
fn truncated_program_headers() {
    // Five program headers claimed, the file ends inside the fourth (index 3).
    let mut e = Elf::typical();
    e.phnum = Some(5);
    let mut b = e.bytes();
    b.truncate(52 + 32 * 3 + 10);
    let er = plan_elf(&b).unwrap_err();
    assert_eq!(er, LoadError::TruncatedPhdr { index: 3, offset: 52 + 96, size: 158 });
    assert_eq!(
        er.to_string(),
        "truncated: program header 3 (at file offset 0x94) lies beyond the end of the file (size 158)"
    );
    // e_phoff far outside the file, and near u32::MAX (no overflow).
    let mut b = Elf::typical().bytes();
    b[28..32].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    assert!(matches!(plan_elf(&b), Err(LoadError::TruncatedPhdr { index: 0, .. })));
}

#[test]
fn segment_checks() {
    let with = |ph: Ph| {
        let mut e = Elf::typical();
        e.phs[1] = ph;
        e.size = 0x3000;
        plan_elf(&e.bytes())
    };
    assert!(matches!(
        with(load(0x1000, 0xC000_0000, 0, 0x1000, R)),
        Err(LoadError::BadSegment { index: 1, .. })
    ));
    let e = with(load(0x1000, 0x0804_9000, 0x200, 0x100, R)).unwrap_err();
    assert_eq!(e.to_string(), "bad loadable segment 1: file size 0x200 is larger than memory size 0x100");
    assert!(matches!(with(load(0x1000, 0x1000, 0, 0xC000_1000, R)), Err(LoadError::BadSegment { .. })));
    // Ends exactly at TASK_SIZE: allowed. One byte more: refused.
    assert!(with(load(0x1000, 0xBFFF_F000, 0x100, 0x1000, R)).is_ok());
    assert!(matches!(with(load(0x1000, 0xBFFF_F000, 0x100, 0x1001, R)), Err(LoadError::BadSegment { .. })));
    assert_eq!(
        with(load(0x1010, 0x0804_9000, 0x100, 0x100, R)),
        Err(LoadError::MisalignedSegment { index: 1, vaddr: 0x0804_9000, offset: 0x1010 })
    );
    assert_eq!(
        with(load(0x2000, 0x0804_A000, 0x1001, 0x2000, R)),
        Err(LoadError::TruncatedSegment { index: 1, offset: 0x2000, filesz: 0x1001, size: 0x3000 })
    );
    // File bytes ending exactly at EOF are fine; a bss-only segment may point past EOF.
    assert!(with(load(0x2000, 0x0804_A000, 0x1000, 0x2000, R)).is_ok());
    assert!(with(load(0x9000, 0x0804_A000, 0, 0x2000, R | W)).is_ok());
}

#[test]
fn no_load_segment() {
    let mut e = Elf::typical();
    e.phs = vec![Ph { p_type: 4, offset: 0x100, vaddr: 0, filesz: 4, memsz: 4, flags: R }];
    assert_eq!(err(&e), LoadError::NoLoadSegment);
}

#[test]
fn et_dyn_is_placed_at_elf_et_dyn_base() {
    // A PIE linked at 0: text at 0, data at 0x1000, entry 0x80.
    let mut e = Elf::typical();
    e.e_type = 3;
    e.entry = 0x80;
    e.phs = vec![load(0, 0, 0x1000, 0x1000, R | X), load(0x1000, 0x1000, 0x100, 0x2000, R | W)];
    let p = plan_elf(&e.bytes()).unwrap();
    assert!(p.is_dyn);
    assert_eq!((p.load_bias, p.entry, p.phdr_addr), (0x5655_5000, 0x5655_5080, 0x5655_5034));
    assert_eq!((p.segments[0].vaddr, p.segments[1].vaddr), (0x5655_5000, 0x5655_6000));
    assert_eq!((p.start_code, p.elf_bss, p.elf_brk), (0x5655_5000, 0x5655_6100, 0x5655_8000));
    assert_eq!(p.span(), (0x5655_5000, 0x5655_8000));
    // An interpreter at a base the kernel chose.
    let p = plan_interp_from(&e.bytes()[..], 0x4000_0000).unwrap();
    assert_eq!((p.load_bias, p.entry), (0x4000_0000, 0x4000_0080));
    // An ET_EXEC does not move.
    assert_eq!(plan_interp_from(&Elf::typical().bytes()[..], 0x4000_0000).unwrap().entry, 0x0804_8080);
    // Pushed past the user address space by the base: refused, not wrapped.
    let p = plan_interp_from(&e.bytes()[..], 0xBFFF_F000);
    assert!(matches!(p, Err(LoadError::BadSegment { index: 1, .. })), "{p:?}");
}

#[test]
fn errors_are_std_errors() {
    let e: Box<dyn std::error::Error> = Box::new(LoadError::ArgumentListTooLong);
    assert_eq!(e.to_string(), "argument list too long");
    assert_eq!(LoadError::ArgumentListTooLong.errno(), E2BIG);
}

// ---------------------------------------------------------------------------
// build_stack
// ---------------------------------------------------------------------------

fn example_plan() -> LoadPlan {
    LoadPlan {
        entry: 0x0804_8100,
        load_bias: 0,
        is_dyn: false,
        segments: vec![],
        phdr_addr: 0x0804_8034,
        phent: 32,
        phnum: 5,
        start_code: 0x0804_8000,
        end_code: 0x0804_9000,
        start_data: 0x0804_a000,
        end_data: 0x0804_a100,
        elf_bss: 0x0804_a100,
        elf_brk: 0x0804_b234,
        has_interp: false,
        interp: None,
        tls: None,
    }
}

fn params<'a>(
    argv: &'a [Vec<u8>],
    envp: &'a [Vec<u8>],
    filename: &'a [u8],
    plan: &'a LoadPlan,
) -> StackParams<'a> {
    StackParams {
        argv,
        envp,
        filename,
        platform: "i686",
        random: [
            0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
        ],
        hwcap: 0x0781_fbff,
        uid: 1000,
        euid: 1001,
        gid: 100,
        egid: 101,
        secure: false,
        plan,
        interp_base: 0,
        stack_top: 0xC000_0000,
        vdso: None,
    }
}

/// The worked example of docs/process-image.md: filename "/bin/t", argv ["t"],
/// envp ["A=1"], platform "i686". Every byte of the page is checked.
///
/// Strings, copied downward from 0xC0000000:
///   0xBFFFFFFC..0xBFFFFFFF  four zero bytes
///   0xBFFFFFF5  "/bin/t\0"   (7 bytes)  = AT_EXECFN = env_end
///   0xBFFFFFF1  "A=1\0"      (4 bytes)  = envp[0]   = arg_end = env_start
///   0xBFFFFFEF  "t\0"        (2 bytes)  = argv[0]   = arg_start
///   0xBFFFFFEA  "i686\0"     (5 bytes)  = AT_PLATFORM
///   0xBFFFFFDA  16 random bytes (0x10..0x1f) = AT_RANDOM
/// sp = 0xBFFFFFDA & ~15 = 0xBFFFFFD0.
/// Words below: 18 auxv pairs (17 + AT_NULL) = 36, envp 1+1, argv 1+1, argc 1 = 41
/// words = 164 = 0xA4 bytes; 0xBFFFFFD0 - 0xA4 = 0xBFFFFF2C, & ~15 = 0xBFFFFF20 = ESP.
///   0xBFFFFF20 argc = 1
///   0xBFFFFF24 argv[0] = 0xBFFFFFEF, 0xBFFFFF28 NULL
///   0xBFFFFF2C envp[0] = 0xBFFFFFF1, 0xBFFFFF30 NULL
///   0xBFFFFF34 .. 0xBFFFFFC3 auxv, 18 pairs
///   0xBFFFFFC4 .. 0xBFFFFFD9 22 zero bytes of padding
/// base = 0xBFFFF000, bytes = one page; everything below ESP is zero.
#[test]
fn worked_example_every_word() {
    let plan = example_plan();
    let argv = vec![b"t".to_vec()];
    let envp = vec![b"A=1".to_vec()];
    let img = build_stack(&params(&argv, &envp, b"/bin/t", &plan)).unwrap();

    assert_eq!(img.base, 0xBFFF_F000);
    assert_eq!(img.bytes.len(), 4096);
    assert_eq!(img.esp, 0xBFFF_FF20);
    assert_eq!(img.esp % 16, 0);
    assert_eq!(img.arg_start, 0xBFFF_FFEF);
    assert_eq!(img.arg_end, 0xBFFF_FFF1);
    assert_eq!(img.env_start, 0xBFFF_FFF1);
    assert_eq!(img.env_end, 0xBFFF_FFF5);
    assert_eq!(img.top(), 0xC000_0000);

    let mut want = vec![0u8; 4096];
    let mut put = |addr: u32, data: &[u8]| {
        let o = (addr - 0xBFFF_F000) as usize;
        want[o..o + data.len()].copy_from_slice(data);
    };
    let words: [(u32, u32); 41] = [
        (0xBFFF_FF20, 1),           // argc
        (0xBFFF_FF24, 0xBFFF_FFEF), // argv[0] -> "t"
        (0xBFFF_FF28, 0),           // argv NULL
        (0xBFFF_FF2C, 0xBFFF_FFF1), // envp[0] -> "A=1"
        (0xBFFF_FF30, 0),           // envp NULL
        (0xBFFF_FF34, 16),
        (0xBFFF_FF38, 0x0781_fbff), // AT_HWCAP
        (0xBFFF_FF3C, 6),
        (0xBFFF_FF40, 4096), // AT_PAGESZ
        (0xBFFF_FF44, 17),
        (0xBFFF_FF48, 100), // AT_CLKTCK
        (0xBFFF_FF4C, 3),
        (0xBFFF_FF50, 0x0804_8034), // AT_PHDR
        (0xBFFF_FF54, 4),
        (0xBFFF_FF58, 32), // AT_PHENT
        (0xBFFF_FF5C, 5),
        (0xBFFF_FF60, 5), // AT_PHNUM
        (0xBFFF_FF64, 7),
        (0xBFFF_FF68, 0), // AT_BASE
        (0xBFFF_FF6C, 8),
        (0xBFFF_FF70, 0), // AT_FLAGS
        (0xBFFF_FF74, 9),
        (0xBFFF_FF78, 0x0804_8100), // AT_ENTRY
        (0xBFFF_FF7C, 11),
        (0xBFFF_FF80, 1000), // AT_UID
        (0xBFFF_FF84, 12),
        (0xBFFF_FF88, 1001), // AT_EUID
        (0xBFFF_FF8C, 13),
        (0xBFFF_FF90, 100), // AT_GID
        (0xBFFF_FF94, 14),
        (0xBFFF_FF98, 101), // AT_EGID
        (0xBFFF_FF9C, 23),
        (0xBFFF_FFA0, 0), // AT_SECURE
        (0xBFFF_FFA4, 25),
        (0xBFFF_FFA8, 0xBFFF_FFDA), // AT_RANDOM
        (0xBFFF_FFAC, 31),
        (0xBFFF_FFB0, 0xBFFF_FFF5), // AT_EXECFN
        (0xBFFF_FFB4, 15),
        (0xBFFF_FFB8, 0xBFFF_FFEA), // AT_PLATFORM
        (0xBFFF_FFBC, 0),
        (0xBFFF_FFC0, 0), // AT_NULL
    ];
    for (addr, v) in words {
        put(addr, &v.to_le_bytes());
    }
    put(0xBFFF_FFDA, &(0x10..=0x1f).collect::<Vec<u8>>());
    put(0xBFFF_FFEA, b"i686\0");
    put(0xBFFF_FFEF, b"t\0");
    put(0xBFFF_FFF1, b"A=1\0");
    put(0xBFFF_FFF5, b"/bin/t\0");
    // 0xBFFFFFFC..0xBFFFFFFF stay zero.

    for a in (0xBFFF_F000u32..0xC000_0000).step_by(4) {
        let o = (a - 0xBFFF_F000) as usize;
        let w = u32::from_le_bytes(want[o..o + 4].try_into().unwrap());
        assert_eq!(img.word(a), Some(w), "word at {a:#010x}");
    }
    assert_eq!(img.bytes, want);
    assert_eq!(img.c_str(0xBFFF_FFEF), Some(&b"t"[..]));
    assert_eq!(img.word(0xBFFF_EFFC), None);
}

/// Walks an image the way a C runtime does and returns (argv, envp, auxv).
#[allow(clippy::type_complexity)]
fn walk(img: &StackImage) -> (Vec<Vec<u8>>, Vec<Vec<u8>>, Vec<(u32, u32)>) {
    let mut a = img.esp;
    let argc = img.word(a).unwrap();
    a += 4;
    let mut argv = vec![];
    for _ in 0..argc {
        argv.push(img.c_str(img.word(a).unwrap()).unwrap().to_vec());
        a += 4;
    }
    assert_eq!(img.word(a), Some(0));
    a += 4;
    let mut envp = vec![];
    loop {
        let p = img.word(a).unwrap();
        a += 4;
        if p == 0 {
            break;
        }
        envp.push(img.c_str(p).unwrap().to_vec());
    }
    let mut aux = vec![];
    loop {
        let t = img.word(a).unwrap();
        let v = img.word(a + 4).unwrap();
        a += 8;
        aux.push((t, v));
        if t == 0 {
            break;
        }
    }
    (argv, envp, aux)
}

#[test]
fn esp_aligned_and_walkable_for_many_shapes() {
    let plan = example_plan();
    for argc in 0..7usize {
        for envc in 0..5usize {
            for len in 0..20usize {
                for plat in ["i686", "", "i386"] {
                    let argv: Vec<Vec<u8>> = (0..argc).map(|i| vec![b'a' + i as u8; len + i]).collect();
                    let envp: Vec<Vec<u8>> =
                        (0..envc).map(|i| format!("V{i}={}", "x".repeat(len)).into_bytes()).collect();
                    let fname = vec![b'f'; len];
                    let mut p = params(&argv, &envp, &fname, &plan);
                    p.platform = plat;
                    let img = build_stack(&p).unwrap();
                    assert_eq!(img.esp % 16, 0);
                    assert_eq!(img.base % 4096, 0);
                    assert!(img.base <= img.esp && img.esp - img.base < 4096);
                    let (a, e, aux) = walk(&img);
                    assert_eq!(a, argv);
                    assert_eq!(e, envp);
                    let types: Vec<u32> = aux.iter().map(|x| x.0).collect();
                    let mut want = vec![16, 6, 17, 3, 4, 5, 7, 8, 9, 11, 12, 13, 14, 23, 25, 31];
                    if !plat.is_empty() {
                        want.push(15);
                        let at = aux.iter().find(|x| x.0 == 15).unwrap().1;
                        assert_eq!(img.c_str(at), Some(plat.as_bytes()));
                    }
                    want.push(0);
                    assert_eq!(types, want);
                    let execfn = aux.iter().find(|x| x.0 == 31).unwrap().1;
                    assert_eq!(img.c_str(execfn), Some(&fname[..]));
                    assert_eq!(execfn, img.env_end);
                    let rnd = aux.iter().find(|x| x.0 == 25).unwrap().1;
                    let o = (rnd - img.base) as usize;
                    assert_eq!(img.bytes[o..o + 16], p.random);
                    // The pad between AT_NULL and the random bytes is below 16 + 12 bytes.
                    let after_null =
                        img.esp + 4 * (1 + argc as u32 + 1 + envc as u32 + 1) + 8 * aux.len() as u32;
                    assert!(rnd - after_null < 16 + 16, "pad {}", rnd - after_null);
                    // Strings are contiguous: argv.. envp.. filename.
                    assert_eq!(
                        img.arg_start + argv.iter().map(|s| s.len() as u32 + 1).sum::<u32>(),
                        img.arg_end
                    );
                    assert_eq!(img.env_start, img.arg_end);
                    assert_eq!(img.env_end + fname.len() as u32 + 1 + 4, 0xC000_0000);
                }
            }
        }
    }
}

#[test]
fn argument_list_limit() {
    let plan = example_plan();
    // 4 zero bytes + "/x\0" (3) + argv pointers (1 + NULL = 8) + envp NULL (4)
    // leaves 131072 - 19 = 131053 bytes for the one argument string with its NUL.
    let fits = vec![vec![b'a'; 131_052]];
    let img = build_stack(&params(&fits, &[], b"/x", &plan)).unwrap();
    assert_eq!(img.esp % 16, 0);
    assert_eq!(img.arg_start, 0xC000_0000 - 4 - 3 - 131_053);
    assert!(img.base < 0xBFFE_0000 + 4096);
    let (a, _, _) = walk(&img);
    assert_eq!(a, fits);

    let too_long = vec![vec![b'a'; 131_053]];
    assert_eq!(build_stack(&params(&too_long, &[], b"/x", &plan)), Err(LoadError::ArgumentListTooLong));
    // Many tiny strings: the pointers count too.
    let many: Vec<Vec<u8>> = (0..30_000).map(|_| vec![]).collect();
    assert_eq!(build_stack(&params(&many, &[], b"/x", &plan)), Err(LoadError::ArgumentListTooLong));
    let some: Vec<Vec<u8>> = (0..20_000).map(|_| vec![]).collect();
    let img = build_stack(&params(&some, &some, b"/x", &plan));
    assert_eq!(img, Err(LoadError::ArgumentListTooLong));
    let img = build_stack(&params(&some, &[], b"/x", &plan)).unwrap();
    assert_eq!(img.word(img.esp), Some(20_000));
}

#[test]
fn stack_input_errors() {
    let plan = example_plan();
    let bad = vec![b"a\0b".to_vec()];
    let e = build_stack(&params(&bad, &[], b"/x", &plan)).unwrap_err();
    assert_eq!(e.to_string(), "argv[0] contains a NUL byte, so it is not a C string");
    let e = build_stack(&params(&[], &bad, b"/x", &plan)).unwrap_err();
    assert_eq!(e, LoadError::NulInString { what: "envp[0]".into() });
    let mut p = params(&[], &[], b"/x", &plan);
    p.stack_top = 0xC000_0010;
    assert_eq!(build_stack(&p), Err(LoadError::BadStackTop(0xC000_0010)));
    p.stack_top = 0x1000;
    assert_eq!(build_stack(&p), Err(LoadError::BadStackTop(0x1000)));
    p.stack_top = 0xFFFF_F000;
    let img = build_stack(&p).unwrap();
    assert_eq!(img.top(), 0xFFFF_F000);
}

#[test]
fn secure_flag_and_ids() {
    let plan = example_plan();
    let mut p = params(&[], &[], b"/x", &plan);
    p.secure = true;
    let img = build_stack(&p).unwrap();
    let (a, e, aux) = walk(&img);
    assert!(a.is_empty() && e.is_empty());
    assert!(aux.contains(&(23, 1)));
    assert!(aux.contains(&(12, 1001)));
    assert!(aux.contains(&(9, 0x0804_8100)));
    // argc == 0: arg_start = arg_end = env_start = env_end = the filename.
    assert_eq!(img.arg_start, img.env_end);
}

/// With a vDSO, AT_SYSINFO and AT_SYSINFO_EHDR come first (i386's `ARCH_DLINFO`
/// precedes AT_HWCAP in `create_elf_tables`), and the rest of the auxv follows.
#[test]
fn vdso_entries_lead_the_auxv() {
    let plan = example_plan();
    let argv = vec![b"t".to_vec()];
    let envp = vec![b"A=1".to_vec()];
    let mut p = params(&argv, &envp, b"/bin/t", &plan);
    p.vdso = Some((0x3FFF_F220, 0x3FFF_F000));
    let img = build_stack(&p).unwrap();
    let auxv = img.esp + 4 * (1 + 2 + 2);
    let w = |i: u32| img.word(auxv + 4 * i).unwrap();
    assert_eq!((w(0), w(1)), (auxv::AT_SYSINFO, 0x3FFF_F220));
    assert_eq!((w(2), w(3)), (auxv::AT_SYSINFO_EHDR, 0x3FFF_F000));
    assert_eq!((w(4), w(5)), (auxv::AT_HWCAP, 0x0781_fbff));
    // The same size whatever the addresses: exec builds it before it knows them.
    p.vdso = Some((1, 1));
    assert_eq!(build_stack(&p).unwrap().esp, img.esp);
}
