//! Shared helpers of the `mm_*` tests: a hand-built static ELF, a machine that has
//! exec'd it, hand-assembled code snippets, and a driver that runs a snippet through
//! the real paging unit and the real `do_page_fault`.
#![allow(dead_code)]

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};

use growsdown_cpu::{Exception, Exit, EAX, EBX, ESP};
use growsdown_kernel::mm::fault::do_page_fault;
use growsdown_kernel::signal::SigInfo;
use growsdown_kernel::trace::{FaultEvent, FaultObserver, FaultResult};
use growsdown_kernel::{Config, Kernel};

pub const TEXT: u32 = 0x0804_8000;
/// Code starts this far into the text segment (so 0x08048100 is text, scenario 7).
pub const CODE_OFF: u32 = 0x200;
/// Text covers two pages: the second one is never executed (scenario 7, code 6).
pub const TEXT_FILESZ: u32 = 0x1100;
/// The data segment of scenario 11.
pub const DATA_VADDR: u32 = 0x080A_0000;
pub const DATA_OFFSET: u32 = 0x2000;
pub const DATA_FILESZ: u32 = 0x100;
pub const DATA_MEMSZ: u32 = 0x1234;
pub const FILE_LEN: usize = 0x3000;

/// Code snippets, each ending in `ud2` (always #UD), which stops the driver.
pub const SNIPPETS: &[(&str, &[u8])] = &[
    ("stop", &[0x0f, 0x0b]),
    ("push_eax", &[0x50, 0x0f, 0x0b]),
    ("pusha", &[0x60, 0x0f, 0x0b]),
    // mov [esp-40], eax
    ("store_esp_m40", &[0x89, 0x44, 0x24, 0xd8, 0x0f, 0x0b]),
    // mov [esp-33], al / mov [esp-32], al
    ("store8_esp_m33", &[0x88, 0x44, 0x24, 0xdf, 0x0f, 0x0b]),
    ("store8_esp_m32", &[0x88, 0x44, 0x24, 0xe0, 0x0f, 0x0b]),
    // mov eax, [esp-8] / mov [esp-8], eax
    ("load_esp_m8", &[0x8b, 0x44, 0x24, 0xf8, 0x0f, 0x0b]),
    ("store_esp_m8", &[0x89, 0x44, 0x24, 0xf8, 0x0f, 0x0b]),
    // mov eax, [ebx] / mov [ebx], eax
    ("load_ebx", &[0x8b, 0x03, 0x0f, 0x0b]),
    ("store_ebx", &[0x89, 0x03, 0x0f, 0x0b]),
    // rep movsd (ECX dwords from [ESI] to [EDI])
    ("rep_movsd", &[0xf3, 0xa5, 0x0f, 0x0b]),
];

/// Address of a snippet in the exec'd text.
pub fn snippet(name: &str) -> u32 {
    let mut at = TEXT + CODE_OFF;
    for (n, code) in SNIPPETS {
        if *n == name {
            return at;
        }
        at += code.len() as u32;
    }
    panic!("no snippet {name}");
}

/// A static ELF32 i386 executable: text R-X at 0x08048000 (two pages, code at
/// +0x200), data RW- at 0x080A0000 with filesz 0x100 and memsz 0x1234 (scenario 11).
/// The file bytes after the data's filesz are 0xBB garbage, which `padzero` must hide.
pub fn build_elf() -> Vec<u8> {
    let mut f = vec![0u8; FILE_LEN];
    let put16 = |f: &mut Vec<u8>, at: usize, v: u16| f[at..at + 2].copy_from_slice(&v.to_le_bytes());
    let put32 = |f: &mut Vec<u8>, at: usize, v: u32| f[at..at + 4].copy_from_slice(&v.to_le_bytes());
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 1; // ELFCLASS32
    f[5] = 1; // little-endian
    f[6] = 1; // EV_CURRENT
    put16(&mut f, 16, 2); // ET_EXEC
    put16(&mut f, 18, 3); // EM_386
    put32(&mut f, 20, 1);
    put32(&mut f, 24, TEXT + CODE_OFF); // e_entry
    put32(&mut f, 28, 52); // e_phoff
    put16(&mut f, 40, 52); // e_ehsize
    put16(&mut f, 42, 32); // e_phentsize
    put16(&mut f, 44, 2); // e_phnum
    let phdr = |f: &mut Vec<u8>, i: usize, off: u32, vaddr: u32, filesz: u32, memsz: u32, flags: u32| {
        let b = 52 + 32 * i;
        for (j, v) in [1, off, vaddr, vaddr, filesz, memsz, flags, 0x1000].into_iter().enumerate() {
            f[b + 4 * j..b + 4 * j + 4].copy_from_slice(&v.to_le_bytes());
        }
    };
    phdr(&mut f, 0, 0, TEXT, TEXT_FILESZ, TEXT_FILESZ, 4 | 1);
    phdr(&mut f, 1, DATA_OFFSET, DATA_VADDR, DATA_FILESZ, DATA_MEMSZ, 4 | 2);
    let mut at = CODE_OFF as usize;
    for (_, code) in SNIPPETS {
        f[at..at + code.len()].copy_from_slice(code);
        at += code.len();
    }
    let d = DATA_OFFSET as usize;
    f[d..d + DATA_FILESZ as usize].fill(0x11);
    f[d + DATA_FILESZ as usize..].fill(0xbb);
    f
}

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A unique temporary file with `bytes`, removed on drop.
pub struct TempFile(pub PathBuf);

impl TempFile {
    pub fn new(bytes: &[u8]) -> Self {
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("growsdown-mm-test-{}-{n}", std::process::id()));
        std::fs::write(&p, bytes).expect("write temp file");
        Self(p)
    }
    pub fn path(&self) -> &str {
        self.0.to_str().expect("utf-8 temp path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Collects every fault event.
#[derive(Clone, Default)]
pub struct Events(pub Rc<RefCell<Vec<FaultEvent>>>);

struct Collect(Events);

impl FaultObserver for Collect {
    fn fault(&mut self, ev: &FaultEvent, _cpu: &growsdown_cpu::Cpu) {
        self.0 .0.borrow_mut().push(ev.clone());
    }
}

impl Events {
    pub fn last(&self) -> FaultEvent {
        self.0.borrow().last().cloned().expect("a fault event")
    }
    pub fn len(&self) -> usize {
        self.0.borrow().len()
    }
    pub fn since(&self, n: usize) -> Vec<FaultEvent> {
        self.0.borrow()[n..].to_vec()
    }
}

pub struct Machine {
    pub k: Kernel,
    pub ev: Events,
    _elf: TempFile,
}

/// A kernel with the test ELF exec'd (argv ["t"], envp ["A=1"]), an observer
/// installed, and the first text page faulted in.
pub fn machine() -> Machine {
    machine_with(|_| {})
}

pub fn machine_with(tune: impl FnOnce(&mut Kernel)) -> Machine {
    let mut k = Kernel::new(Config { mem_bytes: 64 << 20, ..Config::default() }).expect("boot");
    tune(&mut k);
    let elf = TempFile::new(&build_elf());
    growsdown_kernel::exec::load_elf_binary(&mut k, elf.path(), &[b"t".to_vec()], &[b"A=1".to_vec()])
        .expect("exec the test ELF");
    let ev = Events::default();
    k.observer = Some(Box::new(Collect(ev.clone())));
    let mut m = Machine { k, ev, _elf: elf };
    // Fault the code page in (a major fault) so tests count only their own faults.
    let esp = m.k.cpu.regs[ESP];
    assert_eq!(m.run("stop", esp), Stop::Done);
    m
}

/// Why the driver stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Reached the snippet's final `ud2`.
    Done,
    /// A fault that did not resolve (signal, OOM).
    Fault(FaultResult),
    Other(Exception),
}

impl Machine {
    /// Runs snippet `name` with ESP = `esp`, resolving page faults with
    /// `do_page_fault` (user mode), until its final `ud2` or an unresolved fault.
    pub fn run(&mut self, name: &str, esp: u32) -> Stop {
        self.k.cpu.regs[ESP] = esp;
        self.k.cpu.eip = snippet(name);
        for _ in 0..64 {
            match self.k.cpu.run(1000) {
                Exit::Budget => panic!("snippet {name} did not stop"),
                Exit::Exception(Exception::InvalidOpcode) => return Stop::Done,
                Exit::Exception(Exception::PageFault { addr, code }) => {
                    let esp = self.k.cpu.regs[ESP];
                    match do_page_fault(&mut self.k, addr, u32::from(code), esp, true) {
                        FaultResult::Minor | FaultResult::Major => {}
                        r => return Stop::Fault(r),
                    }
                }
                Exit::Exception(e) => return Stop::Other(e),
            }
        }
        panic!("snippet {name} keeps faulting");
    }

    /// `mov eax, [addr]` from user mode.
    pub fn load(&mut self, addr: u32) -> Stop {
        self.k.cpu.regs[EBX] = addr;
        let esp = self.k.cpu.regs[ESP];
        self.run("load_ebx", esp)
    }

    /// `mov [addr], eax` from user mode.
    pub fn store(&mut self, addr: u32, v: u32) -> Stop {
        self.k.cpu.regs[EBX] = addr;
        self.k.cpu.regs[EAX] = v;
        let esp = self.k.cpu.regs[ESP];
        self.run("store_ebx", esp)
    }

    pub fn eax(&self) -> u32 {
        self.k.cpu.regs[EAX]
    }

    /// (min_flt, maj_flt, rss).
    pub fn counters(&self) -> (u64, u64, u32) {
        (self.k.task.min_flt, self.k.task.maj_flt, self.k.task.mm.rss)
    }

    /// The PTE mapping `addr` (0 if none).
    pub fn pte(&self, addr: u32) -> u32 {
        self.k.cpu.mmu.mapping(addr).pte.unwrap_or(0)
    }

    /// The pending signal queued by the last fault, removed from the queue.
    pub fn take_signal(&mut self) -> Option<SigInfo> {
        self.k.task.sig.pending.pop()
    }

    /// The VMA containing `addr` as (start, end, flags, pgoff).
    pub fn vma(&self, addr: u32) -> Option<(u32, u32, u32, u32)> {
        self.k.task.mm.find_vma(addr).filter(|v| v.start <= addr).map(|v| (v.start, v.end, v.flags, v.pgoff))
    }

    /// Reads a word of user memory through the kernel (no fault expected).
    pub fn peek(&mut self, addr: u32) -> u32 {
        self.k.get_user::<u32>(addr).expect("readable")
    }

    pub fn syscall(
        &mut self,
        f: fn(&mut Kernel, [u32; 6]) -> Result<u32, i32>,
        args: &[u32],
    ) -> Result<u32, i32> {
        let mut a = [0u32; 6];
        a[..args.len()].copy_from_slice(args);
        f(&mut self.k, a)
    }
}
