//! The x87 against the host's own x87, bit for bit.
//!
//! Each case is a short byte sequence of x87 instructions whose memory operands are
//! all `[ebx+disp8]` — an encoding that means the same in 32-bit mode (our CPU) and in
//! 64-bit mode (`[rbx+disp8]`, the host). The bytes run natively from an executable
//! page (wrapped in a prologue/epilogue that points RBX at a data block), and through
//! the emulator on the test machine with EBX at a copy of the same data block. Every
//! case ends with FNSAVE, so the control, status and tag words and every non-empty
//! register are compared, together with a scratch area for stores.
#![cfg(target_arch = "x86_64")]

mod common;

use common::Machine;
use growsdown_cpu::fpu::float80::F80;
use growsdown_cpu::mmu::{PTE_P, PTE_RW, PTE_US};
use growsdown_cpu::{Exception, Exit, EBX};

// ---- data block layout (offsets from EBX) ----

/// Input slots for 80-bit values: slot k at -0x80 + 10k (k < 11).
fn slot(k: usize) -> i8 {
    (-0x80 + 10 * k as i32) as i8
}
/// Control word to load.
const CW: i8 = -0x10;
/// A 64-bit scratch input (integers, singles, doubles).
const IN64: i8 = -0x0c;
/// FNSAVE area (108 bytes).
const SAVE: i8 = 0;
/// Scratch outputs compared byte for byte.
const OUT: i8 = 0x6c;
const OUT_LEN: usize = 16;
/// Host EFLAGS after the body (written by the host epilogue only), as an index into
/// the 256-byte data block.
const EFLAGS: usize = 0xfc;

const CODE_LIN: u32 = 0x0804_8000;
const DATA_LIN: u32 = 0x0805_0000;

// ---- encodings ----

/// An instruction with a `[ebx+disp8]` operand: opcode, ModRM reg field, disp.
fn mem(op: u8, reg: u8, disp: i8) -> [u8; 3] {
    [op, 0x43 | (reg << 3), disp as u8]
}

const FNINIT: [u8; 2] = [0xdb, 0xe3];

fn prelude() -> Vec<u8> {
    let mut v = FNINIT.to_vec();
    v.extend(mem(0xd9, 5, CW)); // fldcw
    v
}

fn fld80(k: usize) -> [u8; 3] {
    mem(0xdb, 5, slot(k))
}

fn fnsave() -> [u8; 3] {
    mem(0xdd, 6, SAVE)
}

// ---- the host side ----

struct Host {
    page: *mut u8,
}

const PAGE: usize = 4096;

impl Host {
    fn new() -> Self {
        // mmap(NULL, PAGE, PROT_READ|WRITE|EXEC, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
        let ret: isize;
        // SAFETY: a raw mmap system call; the kernel writes only RAX (the result) and clobbers RCX/R11, all declared.
        unsafe {
            core::arch::asm!(
                "syscall",
                inlateout("rax") 9isize => ret,
                in("rdi") 0usize,
                in("rsi") PAGE,
                in("rdx") 7usize,
                in("r10") 0x22usize,
                in("r8") -1isize,
                in("r9") 0usize,
                lateout("rcx") _,
                lateout("r11") _,
            );
        }
        assert!(ret > 0 && ret & 0xfff == 0, "mmap failed: {ret}");
        Host { page: ret as *mut u8 }
    }

    /// Runs `body` with RBX at `data[0x80]`; returns nothing (results are in `data`).
    fn run(&mut self, body: &[u8], data: &mut [u8; 256]) {
        let mut code = vec![0x53, 0x48, 0x89, 0xfb]; // push rbx; mov rbx, rdi
        code.extend_from_slice(body);
        // pushfq; pop rax; mov [rbx+0x7c], eax; fninit; pop rbx; ret
        code.extend_from_slice(&[0x9c, 0x58, 0x89, 0x43, 0x7c, 0xdb, 0xe3, 0x5b, 0xc3]);
        assert!(code.len() <= PAGE);
        // SAFETY: `self.page` is our own RWX page of PAGE bytes and `code` fits in it (asserted); the code is a complete sysv64 function that saves and restores RBX and writes only through its argument.
        unsafe {
            std::ptr::copy_nonoverlapping(code.as_ptr(), self.page, code.len());
            let f: extern "sysv64" fn(*mut u8) = std::mem::transmute(self.page);
            f(data.as_mut_ptr().add(0x80));
        }
    }
}

// ---- the emulator side ----

struct Emu {
    m: Machine,
    code_phys: u32,
    data_phys: u32,
}

impl Emu {
    fn new() -> Self {
        let mut m = Machine::new();
        let code_phys = m.map(CODE_LIN, PTE_P | PTE_US);
        let data_phys = m.map(DATA_LIN, PTE_P | PTE_US | PTE_RW);
        Emu { m, code_phys, data_phys }
    }

    /// Runs `body` (then UD2) with EBX at `DATA_LIN + 0x80`. `Err` if it stopped
    /// anywhere but at the UD2.
    fn run(&mut self, body: &[u8], data: &mut [u8; 256]) -> Result<(), Exit> {
        let cpu = &mut self.m.cpu;
        cpu.mmu.phys_mut().write_bytes(self.data_phys, data);
        let mut code = body.to_vec();
        code.extend_from_slice(&[0x0f, 0x0b]);
        cpu.mmu.phys_mut().write_bytes(self.code_phys, &code);
        cpu.flush_decoded();
        cpu.eip = CODE_LIN;
        cpu.regs[EBX] = DATA_LIN + 0x80;
        let exit = cpu.run(10_000);
        cpu.mmu.phys().read_bytes(self.data_phys, data);
        if exit == Exit::Exception(Exception::InvalidOpcode) && cpu.eip == CODE_LIN + body.len() as u32 {
            Ok(())
        } else {
            Err(exit)
        }
    }
}

// ---- comparison ----

#[derive(Clone, Copy, PartialEq, Eq)]
enum Check {
    /// Everything bit for bit.
    Exact,
    /// Also the arithmetic EFLAGS (FCOMI).
    Eflags,
    /// Register values within `n` ulps; PE and C1 not compared (transcendentals).
    Ulps(u64),
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}

fn f80_at(b: &[u8], i: usize) -> F80 {
    let mut r = [0u8; 10];
    r.copy_from_slice(&b[i..i + 10]);
    F80::from_le_bytes(r)
}

/// Distance in ulps between two finite values of the same sign (u64::MAX otherwise).
fn ulps(a: F80, b: F80) -> u64 {
    if a == b {
        return 0;
    }
    if a.sign() != b.sign() || a.exp() == 0x7fff || b.exp() == 0x7fff {
        return u64::MAX;
    }
    // Map to a monotonic integer: exponent × 2^63 + (significand without J).
    let key = |x: F80| -> i128 { i128::from(x.exp()) * (1i128 << 63) + i128::from(x.sig & !(1 << 63)) };
    (key(a) - key(b)).unsigned_abs().min(u128::from(u64::MAX)) as u64
}

fn describe(b: &[u8; 256]) -> String {
    let s = &b[0x80..];
    let sw = u16_at(s, 4);
    let tw = u16_at(s, 8);
    let top = (sw >> 11) & 7;
    let mut out = format!("cw={:04x} sw={:04x} tw={:04x}", u16_at(s, 0), sw, tw);
    for i in 0..8 {
        let p = (top as usize + i) & 7;
        if (tw >> (2 * p)) & 3 != 3 {
            let v = f80_at(s, 28 + 10 * i);
            out += &format!(" st{i}={:04x}:{:016x}", v.se, v.sig);
        }
    }
    out += &format!(" out={:02x?}", &b[0x80 + OUT as usize..0x80 + OUT as usize + OUT_LEN]);
    out
}

/// Compares host and emulator results; `None` if they agree.
fn differs(host: &[u8; 256], emu: &[u8; 256], check: Check, emu_eflags: u32) -> Option<String> {
    let (h, e) = (&host[0x80..], &emu[0x80..]);
    let mut sw_mask = 0xffffu16;
    if let Check::Ulps(_) = check {
        sw_mask &= !(0x20 | 0x200);
    }
    let same_words = u16_at(h, 0) == u16_at(e, 0)
        && u16_at(h, 4) & sw_mask == u16_at(e, 4) & sw_mask
        && u16_at(h, 8) == u16_at(e, 8);
    let mut same = same_words;
    if same {
        let top = (u16_at(h, 4) >> 11) & 7;
        let tw = u16_at(h, 8);
        for i in 0..8 {
            let p = (top as usize + i) & 7;
            if (tw >> (2 * p)) & 3 == 3 {
                continue;
            }
            let (a, b) = (f80_at(h, 28 + 10 * i), f80_at(e, 28 + 10 * i));
            let ok = match check {
                Check::Ulps(n) => ulps(a, b) <= n,
                _ => a == b,
            };
            same &= ok;
        }
    }
    let o = OUT as usize;
    same &= h[o..o + OUT_LEN] == e[o..o + OUT_LEN];
    if check == Check::Eflags {
        let hf = u32::from_le_bytes([host[EFLAGS], host[EFLAGS + 1], host[EFLAGS + 2], host[EFLAGS + 3]]);
        same &= hf & 0x8d5 == emu_eflags & 0x8d5;
        if !same {
            return Some(format!(
                "host {} eflags={:03x}\n      emu  {} eflags={:03x}",
                describe(host),
                hf & 0x8d5,
                describe(emu),
                emu_eflags & 0x8d5
            ));
        }
    }
    if same {
        None
    } else {
        Some(format!("host {}\n      emu  {}", describe(host), describe(emu)))
    }
}

/// Runs cases on both sides and collects mismatches.
struct Bench {
    host: Host,
    emu: Emu,
    cases: u64,
    failures: Vec<String>,
    failed: u64,
}

impl Bench {
    fn new() -> Self {
        Bench { host: Host::new(), emu: Emu::new(), cases: 0, failures: Vec::new(), failed: 0 }
    }

    fn case(&mut self, what: &str, body: &[u8], data: &[u8; 256], check: Check) {
        self.cases += 1;
        let mut hd = *data;
        self.host.run(body, &mut hd);
        let mut ed = *data;
        let r = self.emu.run(body, &mut ed);
        let msg = match r {
            Err(exit) => Some(format!("emulator stopped: {exit:?} at {:#x}", self.emu.m.cpu.eip)),
            Ok(()) => differs(&hd, &ed, check, self.emu.m.cpu.flags.get()),
        };
        if let Some(msg) = msg {
            self.failed += 1;
            let max = std::env::var("X87_MAX_FAILS").ok().and_then(|v| v.parse().ok()).unwrap_or(25);
            if self.failures.len() < max {
                self.failures.push(format!("{what}: code {body:02x?}\n      {msg}"));
            }
        }
    }

    fn finish(self, name: &str) {
        eprintln!("{name}: {} cases, {} mismatches", self.cases, self.failed);
        if self.failed > 0 {
            panic!(
                "{name}: {} of {} cases differ from the host:\n{}",
                self.failed,
                self.cases,
                self.failures.join("\n")
            );
        }
    }
}

// ---- values ----

fn f80(sign: bool, exp: u16, sig: u64) -> F80 {
    F80::new(sign, exp, sig)
}

/// Interesting 80-bit operands (both signs where it matters).
fn edge_values() -> Vec<F80> {
    let one = 1u64 << 63;
    let mut v = vec![
        f80(false, 0, 0),
        f80(false, 0, 1),                          // smallest denormal
        f80(false, 0, 0x7fff_ffff_ffff_ffff),      // largest denormal
        f80(false, 0, 0x8000_0000_0000_0001),      // pseudo-denormal
        f80(false, 1, one),                        // smallest normal
        f80(false, 0x7ffe, u64::MAX),              // largest normal
        f80(false, 0x3fff, one),                   // 1
        f80(false, 0x3fff, 0xc000_0000_0000_0000), // 1.5
        f80(false, 0x4000, one),                   // 2
        f80(false, 0x4000, 0xa000_0000_0000_0000), // 2.5
        f80(false, 0x4000, 0xc000_0000_0000_0000), // 3
        f80(false, 0x3ffd, 0xaaaa_aaaa_aaaa_aaab), // 1/3
        f80(false, 0x3ffe, one),                   // 0.5
        f80(false, 0x3fff, one | 1),               // 1 + ulp
        f80(false, 0x3ffe, u64::MAX),              // 1 − ulp/2
        f80(false, 0x3fff, one | (1 << 39)),       // 1 + 2^-24 (single tie)
        f80(false, 0x3fff, one | (1 << 39) | 1),
        f80(false, 0x3fff, one | (1 << 10)), // 1 + 2^-53 (double tie)
        f80(false, 0x3fff, one | (3 << 9)),
        f80(false, 0x400d, 0xffff_0000_0000_0000), // 32767.5
        f80(false, 0x400e, 0x8000_8000_0000_0000), // 32768.5
        f80(false, 0x401d, 0xffff_ffff_0000_0000), // 2147483647.5
        f80(false, 0x401e, 0x8000_0000_8000_0000), // 2147483648.5
        f80(false, 0x403d, u64::MAX),              // 2^63 − 1
        f80(false, 0x403e, one),                   // 2^63
        f80(false, 0x403f, one),                   // 2^64
        f80(false, 0x407e, u64::MAX),              // just below single max exponent
        f80(false, 0x407e, 0xffff_ff80_0000_0000), // single max + half ulp
        f80(false, 0x3f81, one),                   // single min normal
        f80(false, 0x3f6a, 0xc000_0000_0000_0000), // single denormal range
        f80(false, 0x43fe, 0xffff_ffff_ffff_fc00), // double max + half ulp
        f80(false, 0x3c01, one),                   // double min normal
        f80(false, 0x3bcc, 0xa5a5_a5a5_a5a5_a5a5), // double denormal range
        f80(false, 0x7fff, one),                   // infinity
        f80(false, 0x7fff, 0xc000_0000_0000_0000), // QNaN
        f80(false, 0x7fff, 0xc000_0000_0000_1234),
        f80(false, 0x7fff, 0x8000_0000_0000_0001), // SNaN
        f80(false, 0x7fff, 0xa000_0000_0000_0000),
        f80(false, 0x3fff, 0x4000_0000_0000_0000), // unnormal
        f80(false, 0x7fff, 0),                     // pseudo-infinity
        f80(false, 0x7fff, 0x4000_0000_0000_0001), // pseudo-NaN
        f80(false, 0x4005, 0xc90f_daa2_2168_c235), // ~100.53
        f80(false, 0x3fbf, 0xf000_0000_0000_000f), // tiny-ish
    ];
    let negs: Vec<F80> = v.iter().map(|x| x.negate()).collect();
    v.extend(negs);
    v
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A random significand with J set: full random, or with many trailing zeros
    /// (exact results, ties).
    fn sig(&mut self) -> u64 {
        let s = self.next() | (1 << 63);
        match self.below(4) {
            0 => s & !((1u64 << self.below(64)) - 1) | (1 << 63),
            1 => s & 0xffff_ff80_0000_0000 | (self.below(2) << 39),
            _ => s,
        }
    }

    /// A random finite operand around `center` (biased exponent) ± `spread`, with a
    /// few specials.
    fn value(&mut self, center: i32, spread: i32) -> F80 {
        let sign = self.below(2) == 1;
        match self.below(64) {
            0 => {
                let e = edge_values();
                return e[self.below(e.len() as u64) as usize];
            }
            1 => return f80(sign, 0, self.next() >> self.below(64)),
            2 => return f80(sign, 1 + self.below(3) as u16, self.sig()),
            3 => return f80(sign, 0x7ffe - self.below(3) as u16, self.sig()),
            _ => {}
        }
        let e = center + (self.below(2 * spread as u64 + 1) as i32 - spread);
        f80(sign, e.clamp(1, 0x7ffe) as u16, self.sig())
    }

    fn mode(&mut self) -> u16 {
        control(self.below(4) as u16, [0, 2, 3][self.below(3) as usize])
    }
}

/// A control word with all exceptions masked.
fn control(rc: u16, pc: u16) -> u16 {
    0x007f | (pc << 8) | (rc << 10)
}

fn all_modes() -> Vec<u16> {
    let mut v = Vec::new();
    for rc in 0..4 {
        for pc in [0, 2, 3] {
            v.push(control(rc, pc));
        }
    }
    v
}

fn data_with(cw: u16, vals: &[F80]) -> [u8; 256] {
    let mut d = [0u8; 256];
    d[(0x80 + CW as isize) as usize..][..2].copy_from_slice(&cw.to_le_bytes());
    for (k, v) in vals.iter().enumerate() {
        d[(0x80 + slot(k) as isize) as usize..][..10].copy_from_slice(&v.to_le_bytes());
    }
    d
}

fn set_in64(d: &mut [u8; 256], v: u64) {
    d[(0x80 + IN64 as isize) as usize..][..8].copy_from_slice(&v.to_le_bytes());
}

/// Body: load b then a (a ends in ST(0), b in ST(1)), then `op`, then FNSAVE.
fn two_operand_body(op: &[u8]) -> Vec<u8> {
    let mut b = prelude();
    b.extend(fld80(1));
    b.extend(fld80(0));
    b.extend_from_slice(op);
    b.extend(fnsave());
    b
}

fn one_operand_body(op: &[u8]) -> Vec<u8> {
    let mut b = prelude();
    b.extend(fld80(0));
    b.extend_from_slice(op);
    b.extend(fnsave());
    b
}

/// Register-form arithmetic: ST(0) op ST(1), ST(1) op ST(0), and the popping forms.
const ARITH_REG_OPS: [(&str, [u8; 2]); 18] = [
    ("fadd st,st1", [0xd8, 0xc1]),
    ("fmul st,st1", [0xd8, 0xc9]),
    ("fsub st,st1", [0xd8, 0xe1]),
    ("fsubr st,st1", [0xd8, 0xe9]),
    ("fdiv st,st1", [0xd8, 0xf1]),
    ("fdivr st,st1", [0xd8, 0xf9]),
    ("fadd st1,st", [0xdc, 0xc1]),
    ("fmul st1,st", [0xdc, 0xc9]),
    ("fsubr st1,st", [0xdc, 0xe1]),
    ("fsub st1,st", [0xdc, 0xe9]),
    ("fdivr st1,st", [0xdc, 0xf1]),
    ("fdiv st1,st", [0xdc, 0xf9]),
    ("faddp", [0xde, 0xc1]),
    ("fmulp", [0xde, 0xc9]),
    ("fsubrp", [0xde, 0xe1]),
    ("fsubp", [0xde, 0xe9]),
    ("fdivrp", [0xde, 0xf1]),
    ("fdivp", [0xde, 0xf9]),
];

#[test]
fn arithmetic_edge_values_all_modes() {
    let mut b = Bench::new();
    let vals = edge_values();
    for (name, op) in ARITH_REG_OPS.iter().take(6) {
        let body = two_operand_body(op);
        for cw in all_modes() {
            for &x in &vals {
                for &y in &vals {
                    b.case(
                        &format!("{name} a={x:x?} b={y:x?} cw={cw:04x}"),
                        &body,
                        &data_with(cw, &[x, y]),
                        Check::Exact,
                    );
                }
            }
        }
    }
    b.finish("arithmetic_edge_values_all_modes");
}

#[test]
fn arithmetic_random_sweep() {
    let mut b = Bench::new();
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let bodies: Vec<(&str, Vec<u8>)> =
        ARITH_REG_OPS.iter().map(|(n, op)| (*n, two_operand_body(op))).collect();
    for _ in 0..60_000 {
        let (name, body) = &bodies[rng.below(bodies.len() as u64) as usize];
        let center = match rng.below(8) {
            0 => 1,
            1 => 0x7ffe,
            2 => 0x3fff - 0x2000,
            3 => 0x3fff + 0x2000,
            _ => 0x3fff,
        };
        let spread = [2, 8, 70, 200][rng.below(4) as usize];
        let x = rng.value(center, spread);
        let y = if rng.below(4) == 0 {
            // Close operands: cancellation.
            let mut y = x;
            y.sig ^= rng.next() >> (1 + rng.below(63));
            y.sig |= 1 << 63;
            if rng.below(2) == 0 {
                y = y.negate();
            }
            y
        } else {
            rng.value(center, spread)
        };
        let cw = rng.mode();
        b.case(&format!("{name} a={x:x?} b={y:x?} cw={cw:04x}"), body, &data_with(cw, &[x, y]), Check::Exact);
    }
    b.finish("arithmetic_random_sweep");
}

#[test]
fn memory_operand_arithmetic() {
    let mut b = Bench::new();
    let mut rng = Rng(0xfeed_face_cafe_beef);
    // (name, opcode, is-64-bit-source)
    let forms: [(&str, u8, u8); 4] =
        [("m32fp", 0xd8, 4), ("m64fp", 0xdc, 8), ("m32int", 0xda, 4), ("m16int", 0xde, 2)];
    for _ in 0..30_000 {
        let (fname, opc, size) = forms[rng.below(4) as usize];
        let reg = [0u8, 1, 4, 5, 6, 7, 2, 3][rng.below(8) as usize];
        let mut body = prelude();
        body.extend(fld80(0));
        body.extend(mem(opc, reg, IN64));
        body.extend(fnsave());
        let x = rng.value(0x3fff, 40);
        let src: u64 = match (opc, rng.below(6)) {
            (0xd8, 0) => u64::from(rng.next() as u32 & 0x807f_ffff), // denormal single
            (0xd8, 1) => u64::from(0x7f80_0000 | (rng.next() as u32 & 0x807f_ffff)), // NaN/∞
            (0xdc, 0) => rng.next() & 0x800f_ffff_ffff_ffff,
            (0xdc, 1) => 0x7ff0_0000_0000_0000 | (rng.next() & 0x800f_ffff_ffff_ffff),
            (0xd8, _) => {
                let e = (127 + rng.below(40) as u32).wrapping_sub(20);
                u64::from((rng.next() as u32 & 0x807f_ffff) | (e << 23))
            }
            (0xdc, _) => {
                let e = 1023 + rng.below(80) - 40;
                (rng.next() & 0x800f_ffff_ffff_ffff) | (e << 52)
            }
            _ => rng.next() >> rng.below(64),
        };
        let _ = size;
        let cw = rng.mode();
        let mut d = data_with(cw, &[x]);
        set_in64(&mut d, src);
        b.case(&format!("{fname}/{reg} a={x:x?} src={src:#x} cw={cw:04x}"), &body, &d, Check::Exact);
    }
    b.finish("memory_operand_arithmetic");
}

/// A significand with `n` significant bits (1 ≤ n ≤ 64): J set, the lowest of the
/// `n` bits set too when `odd`, random in between, zero below.
fn sig_bits(rng: &mut Rng, n: u32, odd: bool) -> u64 {
    let v = (rng.next() | (1 << 63)) & (u64::MAX << (64 - n));
    if odd {
        v | (1 << (64 - n))
    } else {
        v
    }
}

/// Normal operands whose exact result lies on a rounding boundary of the precision
/// in force — a tie, a hair either side of one, a carry out of an all-ones
/// significand — with result exponents in the middle of the range and at both of
/// its ends (where rounding without the tiny/overflow cases has to hand over to the
/// full treatment). All rounding and precision controls.
#[test]
fn rounding_boundaries_of_normal_operands() {
    let mut b = Bench::new();
    let mut rng = Rng(0x0bad_5eed_f00d_cafe);
    let ops = [[0xd8u8, 0xc1], [0xd8, 0xe1], [0xd8, 0xc9], [0xd8, 0xf1]];
    let names = ["fadd", "fsub", "fmul", "fdiv"];
    let bodies: Vec<Vec<u8>> = ops.iter().map(|op| two_operand_body(op)).collect();
    for _ in 0..40_000 {
        let k = rng.below(3) as usize;
        let (prec, pc) = ([24u32, 53, 64][k], [0u16, 2, 3][k]);
        let cw = control(rng.below(4) as u16, pc);
        // Exponent of the result: near the bottom, near the top, or ordinary.
        let er = match rng.below(4) {
            0 => rng.below(6) as i32 - 2,
            1 => 0x7ffe - rng.below(4) as i32,
            _ => 0x3fff + rng.below(200) as i32 - 100,
        };
        let sign = |rng: &mut Rng| rng.below(2) == 1;
        let op = rng.below(4) as usize;
        let (x, y) = match op {
            0 | 1 => {
                // a has `prec` bits (all ones now and then); b is half an ulp of a,
                // or a neighbour of that, at, above or below the tie position.
                let ea = er.clamp(1, 0x7ffe);
                let sa =
                    if rng.below(4) == 0 { u64::MAX << (64 - prec) } else { sig_bits(&mut rng, prec, false) };
                let d = prec as i32 - 1 + rng.below(3) as i32;
                let sb = match rng.below(5) {
                    0 => 1 << 63,
                    1 => (1 << 63) | 1,
                    2 => u64::MAX,
                    3 => 0xc000_0000_0000_0000,
                    _ => rng.sig(),
                };
                let eb = (ea - d).max(1);
                (f80(sign(&mut rng), ea as u16, sa), f80(sign(&mut rng), eb as u16, sb))
            }
            2 => {
                // Odd significands of na and nb bits: the product has na + nb − 1 or
                // na + nb bits and is odd, so at prec + 1 bits it is an exact tie.
                let na = 1 + rng.below(u64::from(prec)) as u32;
                let nb = (prec + 1 + rng.below(2) as u32).saturating_sub(na).clamp(1, 64);
                let ea = 0x3fff + rng.below(40) as i32 - 20;
                let eb = (er - ea + 0x3fff).clamp(1, 0x7ffe);
                (
                    f80(sign(&mut rng), ea.clamp(1, 0x7ffe) as u16, sig_bits(&mut rng, na, true)),
                    f80(sign(&mut rng), eb as u16, sig_bits(&mut rng, nb, true)),
                )
            }
            _ => {
                // a = q × b with q odd of prec + 1 bits: an exact tie (24 and 53 bits;
                // a 64-bit quotient of 64-bit significands cannot be one).
                let nq = prec.min(53) + 1;
                let q = (rng.next() | 1 | (1 << 63)) >> (64 - nq);
                let bi = (rng.next() | 1 | (1 << 63)) >> (nq + rng.below(4) as u32);
                let a = q * bi;
                let (la, lb) = (a.leading_zeros(), bi.leading_zeros());
                let eb = 0x3fff + rng.below(40) as i32 - 20;
                let ea = (er + eb - 0x3fff).clamp(1, 0x7ffe);
                (f80(sign(&mut rng), ea as u16, a << la), f80(sign(&mut rng), eb as u16, bi << lb))
            }
        };
        b.case(
            &format!("{} a={x:x?} b={y:x?} cw={cw:04x}", names[op]),
            &bodies[op],
            &data_with(cw, &[x, y]),
            Check::Exact,
        );
    }
    b.finish("rounding_boundaries_of_normal_operands");
}

/// FST m32/m64 and FISTP m32/m64 of values on and beside their rounding
/// boundaries, with exponents at the ends of the destination's normal range.
#[test]
fn store_rounding_boundaries() {
    let mut b = Bench::new();
    let mut rng = Rng(0x5eed_0f57_0eb0_0d17);
    // (name, instruction, significand bits kept, exponent range of interest)
    let stores: [(&str, [u8; 3], u32, [i32; 3]); 4] = [
        ("fst m32", mem(0xd9, 2, OUT), 24, [0x3fff - 126, 0x3fff + 127, 0x3fff]),
        ("fst m64", mem(0xdd, 2, OUT), 53, [0x3fff - 1022, 0x3fff + 1023, 0x3fff]),
        ("fistp m32", mem(0xdb, 3, OUT), 0, [0x3fff - 2, 0x3fff + 30, 0x3fff + 10]),
        ("fistp m64", mem(0xdf, 7, OUT), 0, [0x3fff - 2, 0x3fff + 62, 0x3fff + 40]),
    ];
    for _ in 0..20_000 {
        let (name, op, keep, exps) = stores[rng.below(4) as usize];
        let e = exps[rng.below(3) as usize] + rng.below(5) as i32 - 2;
        // For the integer stores the kept bits are those above the binary point.
        let keep = if keep == 0 { (e - 0x3fff + 1).clamp(1, 63) as u32 } else { keep };
        let top = sig_bits(&mut rng, keep, false);
        let half = 1u64 << (63 - keep);
        let low = match rng.below(6) {
            0 => half,
            1 => half - 1,
            2 => half + 1,
            3 => 0,
            4 => (half << 1) - 1,
            _ => rng.next() & ((half << 1) - 1),
        };
        let x = f80(rng.below(2) == 1, e.clamp(1, 0x7ffe) as u16, top | low);
        let cw = control(rng.below(4) as u16, [0, 2, 3][rng.below(3) as usize]);
        b.case(
            &format!("{name} a={x:x?} cw={cw:04x}"),
            &one_operand_body(&op),
            &data_with(cw, &[x]),
            Check::Exact,
        );
    }
    b.finish("store_rounding_boundaries");
}

/// One-operand instructions (D9 xx) over edge values and a sweep.
#[test]
fn unary_operations() {
    let mut b = Bench::new();
    let ops: [(&str, [u8; 2]); 11] = [
        ("fsqrt", [0xd9, 0xfa]),
        ("frndint", [0xd9, 0xfc]),
        ("fchs", [0xd9, 0xe0]),
        ("fabs", [0xd9, 0xe1]),
        ("ftst", [0xd9, 0xe4]),
        ("fxam", [0xd9, 0xe5]),
        ("fxtract", [0xd9, 0xf4]),
        ("fst st1", [0xdd, 0xd1]),
        ("fstp st1", [0xdd, 0xd9]),
        ("fld st0", [0xd9, 0xc0]),
        ("fxch st1", [0xd9, 0xc9]),
    ];
    let mut rng = Rng(0x5555_aaaa_1234_4321);
    for (name, op) in ops {
        let body = one_operand_body(&op);
        for cw in all_modes() {
            for &x in &edge_values() {
                b.case(&format!("{name} a={x:x?} cw={cw:04x}"), &body, &data_with(cw, &[x]), Check::Exact);
            }
            for _ in 0..300 {
                let spread = if rng.below(2) == 0 { 70 } else { 16000 };
                let x = rng.value(0x3fff, spread);
                b.case(&format!("{name} a={x:x?} cw={cw:04x}"), &body, &data_with(cw, &[x]), Check::Exact);
            }
        }
    }
    b.finish("unary_operations");
}

#[test]
fn fprem_fscale() {
    let mut b = Bench::new();
    let ops: [(&str, [u8; 2]); 3] =
        [("fprem", [0xd9, 0xf8]), ("fprem1", [0xd9, 0xf5]), ("fscale", [0xd9, 0xfd])];
    let mut rng = Rng(0x0bad_cafe_dead_beef);
    let vals = edge_values();
    for (name, op) in ops {
        let body = two_operand_body(&op);
        for cw in [control(0, 3), control(1, 0), control(3, 2)] {
            for &x in &vals {
                for &y in &vals {
                    b.case(
                        &format!("{name} a={x:x?} b={y:x?} cw={cw:04x}"),
                        &body,
                        &data_with(cw, &[x, y]),
                        Check::Exact,
                    );
                }
            }
        }
        for _ in 0..8000 {
            let x = rng.value(0x3fff, 120);
            let y = if name == "fscale" {
                let e = 0x3fff + rng.below(18) as u16;
                f80(rng.below(2) == 1, e, rng.sig())
            } else {
                rng.value(0x3fff, 120)
            };
            let cw = rng.mode();
            b.case(
                &format!("{name} a={x:x?} b={y:x?} cw={cw:04x}"),
                &body,
                &data_with(cw, &[x, y]),
                Check::Exact,
            );
        }
    }
    b.finish("fprem_fscale");
}

/// FST/FSTP m32/m64, FIST/FISTP m16/m32/m64, FBSTP.
#[test]
fn stores_and_conversions() {
    let mut b = Bench::new();
    let stores: [(&str, [u8; 3]); 9] = [
        ("fst m32", mem(0xd9, 2, OUT)),
        ("fstp m32", mem(0xd9, 3, OUT)),
        ("fst m64", mem(0xdd, 2, OUT)),
        ("fstp m64", mem(0xdd, 3, OUT)),
        ("fist m16", mem(0xdf, 2, OUT)),
        ("fistp m32", mem(0xdb, 3, OUT)),
        ("fist m32", mem(0xdb, 2, OUT)),
        ("fistp m64", mem(0xdf, 7, OUT)),
        ("fbstp", mem(0xdf, 6, OUT)),
    ];
    let mut rng = Rng(0x1357_9bdf_2468_ace0);
    for (name, op) in stores {
        let body = one_operand_body(&op);
        for rc in 0..4 {
            let cw = control(rc, 3);
            for &x in &edge_values() {
                b.case(&format!("{name} a={x:x?} cw={cw:04x}"), &body, &data_with(cw, &[x]), Check::Exact);
            }
        }
        for _ in 0..6000 {
            let center = match (name.contains("m32"), name.contains("m64"), name.starts_with("fst")) {
                (true, _, true) => [0x3fff, 0x3fff - 126, 0x3fff + 127, 0x3fff - 140][rng.below(4) as usize],
                (_, true, true) => {
                    [0x3fff, 0x3fff - 1022, 0x3fff + 1023, 0x3fff - 1060][rng.below(4) as usize]
                }
                _ => 0x3fff + [0, 15, 31, 63, 59][rng.below(5) as usize],
            };
            let x = rng.value(center, 4);
            let cw = rng.mode();
            b.case(&format!("{name} a={x:x?} cw={cw:04x}"), &body, &data_with(cw, &[x]), Check::Exact);
        }
    }
    b.finish("stores_and_conversions");
}

/// FLD m32/m64/m80, FILD m16/m32/m64, FBLD, FSTP m80.
#[test]
fn loads() {
    let mut b = Bench::new();
    let loads: [(&str, [u8; 3]); 7] = [
        ("fld m32", mem(0xd9, 0, IN64)),
        ("fld m64", mem(0xdd, 0, IN64)),
        ("fild m16", mem(0xdf, 0, IN64)),
        ("fild m32", mem(0xdb, 0, IN64)),
        ("fild m64", mem(0xdf, 5, IN64)),
        ("fld m80", mem(0xdb, 5, slot(0))),
        ("fbld", mem(0xdf, 4, slot(0))),
    ];
    let mut rng = Rng(0x2222_4444_8888_1111);
    for (name, op) in loads {
        let mut body = prelude();
        body.extend(op);
        body.extend(mem(0xdb, 7, OUT)); // fstp m80 to the scratch area
        body.extend(op);
        body.extend(fnsave());
        for _ in 0..4000 {
            let v = match rng.below(4) {
                0 => rng.next() & 0x8000_0000_007f_ffff,
                1 => rng.next() | 0x7ff0_0000_7f80_0000,
                _ => rng.next() >> rng.below(64),
            };
            let mut d = data_with(control(rng.below(4) as u16, 3), &[]);
            set_in64(&mut d, v);
            let bcd = if name == "fbld" {
                let mut x = [0u8; 10];
                for byte in x.iter_mut().take(9) {
                    *byte = ((rng.below(10) as u8) << 4) | rng.below(10) as u8;
                }
                x[9] = if rng.below(2) == 0 { 0x80 } else { 0 };
                F80::from_le_bytes(x)
            } else {
                rng.value(0x3fff, 16000)
            };
            d[(0x80 + slot(0) as isize) as usize..][..10].copy_from_slice(&bcd.to_le_bytes());
            b.case(&format!("{name} v={v:#x} m80={bcd:x?}"), &body, &d, Check::Exact);
        }
    }
    b.finish("loads");
}

#[test]
fn comparisons() {
    let mut b = Bench::new();
    let ops: [(&str, &[u8], Check); 12] = [
        ("fcom st1", &[0xd8, 0xd1], Check::Exact),
        ("fcomp st1", &[0xd8, 0xd9], Check::Exact),
        ("fcompp", &[0xde, 0xd9], Check::Exact),
        ("fucom st1", &[0xdd, 0xe1], Check::Exact),
        ("fucomp st1", &[0xdd, 0xe9], Check::Exact),
        ("fucompp", &[0xda, 0xe9], Check::Exact),
        ("fcomi st1", &[0xdb, 0xf1], Check::Eflags),
        ("fcomip st1", &[0xdf, 0xf1], Check::Eflags),
        ("fucomi st1", &[0xdb, 0xe9], Check::Eflags),
        ("fucomip st1", &[0xdf, 0xe9], Check::Eflags),
        ("fcom m64", &[0xdc, 0x53, 0xf4], Check::Exact),
        ("ficom m32", &[0xda, 0x53, 0xf4], Check::Exact),
    ];
    let vals = edge_values();
    let mut rng = Rng(77);
    for (name, op, check) in ops {
        let body = two_operand_body(op);
        for &x in &vals {
            for &y in &vals {
                let mut d = data_with(control(0, 3), &[x, y]);
                set_in64(&mut d, rng.next() >> rng.below(64));
                b.case(&format!("{name} a={x:x?} b={y:x?}"), &body, &d, check);
            }
        }
    }
    b.finish("comparisons");
}

/// FCOMI/FCOMIP/FUCOMI/FUCOMIP clear OF, SF and AF whatever they were (SDM; the host
/// agrees). `comparisons` runs them with the three already clear, so here they are
/// set first (`mov al, 0x7f; add al, 1`). qemu-i386 7.2 keeps them (it only
/// replaces ZF PF CF): `difftest --against qemu lua-demo` stops at a FUCOMI with AF
/// set only on the QEMU side (docs/difftest.md).
#[test]
fn fcomi_clears_of_sf_af() {
    const SET_OF_SF_AF: [u8; 4] = [0xb0, 0x7f, 0x04, 0x01]; // mov al, 0x7f; add al, 1
    let one = f80(false, 0x3fff, 1 << 63);
    let two = f80(false, 0x4000, 1 << 63);
    let qnan = f80(false, 0x7fff, 0xc000_0000_0000_0000);
    let mut b = Bench::new();
    let ops: [(&str, [u8; 2]); 5] = [
        ("fnop (flags stay set)", [0xd9, 0xd0]),
        ("fcomi st1", [0xdb, 0xf1]),
        ("fcomip st1", [0xdf, 0xf1]),
        ("fucomi st1", [0xdb, 0xe9]),
        ("fucomip st1", [0xdf, 0xe9]),
    ];
    for (name, op) in ops {
        for (x, y) in [(one, two), (two, one), (one, one), (qnan, one)] {
            let mut body = prelude();
            body.extend(fld80(1));
            body.extend(fld80(0));
            body.extend(SET_OF_SF_AF);
            body.extend(op);
            body.extend(fnsave());
            b.case(&format!("{name} a={x:x?} b={y:x?}"), &body, &data_with(0x037f, &[x, y]), Check::Eflags);
            let of_sf_af = b.emu.m.cpu.flags.get() & 0x890;
            let want = if op == [0xd9, 0xd0] { 0x890 } else { 0 };
            assert_eq!(of_sf_af, want, "{name}: OF/SF/AF after it");
        }
    }
    b.finish("fcomi_clears_of_sf_af");
}

#[test]
fn constants_in_all_rounding_modes() {
    let mut b = Bench::new();
    for k in 0xe8..=0xeeu8 {
        for rc in 0..4 {
            for pc in [0, 3] {
                let mut body = prelude();
                body.extend([0xd9, k]);
                body.extend(fnsave());
                let cw = control(rc, pc);
                b.case(&format!("d9 {k:02x} cw={cw:04x}"), &body, &data_with(cw, &[]), Check::Exact);
            }
        }
    }
    b.finish("constants_in_all_rounding_modes");
}

/// Stack overflow/underflow, FXCH/FFREE/FINCSTP/FDECSTP/FST ST(i)/FCMOV.
#[test]
fn stack_faults_and_register_ops() {
    let mut b = Bench::new();
    let one_x = f80(false, 0x3fff, 1 << 63);
    let two = f80(false, 0x4000, 1 << 63);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("fadd empty", vec![0xd8, 0xc1]),
        ("fsqrt empty", vec![0xdd, 0xd8, 0xdd, 0xd8, 0xd9, 0xfa]), // fstp st0 twice, fsqrt
        ("fxch empty", vec![0xd9, 0xca]),
        ("fxch ok", vec![0xd9, 0xc9]),
        ("fld st3 empty", vec![0xd9, 0xc3]),
        ("fld st1", vec![0xd9, 0xc1]),
        ("fst st3", vec![0xdd, 0xd3]),
        ("fstp st2", vec![0xdd, 0xda]),
        ("ffree st1", vec![0xdd, 0xc1]),
        ("fincstp", vec![0xd9, 0xf7]),
        ("fdecstp", vec![0xd9, 0xf6]),
        ("fcom empty", vec![0xd8, 0xd3]),
        ("fcomi empty", vec![0xdb, 0xf3]),
        ("fist empty", vec![0xdd, 0xd8, 0xdd, 0xd8, 0xdb, 0x53, 0x6c]),
        ("fst m64 empty", vec![0xdd, 0xd8, 0xdd, 0xd8, 0xdd, 0x53, 0x6c]),
        ("fstp m80 empty", vec![0xdd, 0xd8, 0xdd, 0xd8, 0xdb, 0x7b, 0x6c]),
        ("fcmovb taken", vec![0xdb, 0xf1, 0xda, 0xc1]),
        ("fcmovnb not taken", vec![0xdb, 0xf1, 0xdb, 0xc1]),
        ("fcmove empty", vec![0xdb, 0xf1, 0xda, 0xcb]),
        ("fxam empty", vec![0xdd, 0xd8, 0xdd, 0xd8, 0xd9, 0xe5]),
        ("fptan", vec![0xd9, 0xf2]),
        ("fprem", vec![0xd9, 0xf8]),
        ("fxtract", vec![0xd9, 0xf4]),
        ("fnclex after fault", vec![0xd9, 0xc3, 0xdb, 0xe2]),
    ];
    for (name, op) in &cases {
        for cw in [control(0, 3), control(2, 3), 0x037e] {
            let body = two_operand_body(op);
            let check = if name.starts_with("fcomi") { Check::Eflags } else { Check::Exact };
            b.case(name, &body, &data_with(cw, &[two, one_x]), check);
            if cw & 1 == 0 {
                // Unmasked IE: the next waiting instruction would trap on the host, so
                // only the single-fault bodies above.
                continue;
            }
            // Same after filling the whole stack (overflow on any push).
            let mut full = prelude();
            for _ in 0..4 {
                full.extend(fld80(1));
                full.extend(fld80(0));
            }
            full.extend(op);
            full.extend(fnsave());
            b.case(&format!("{name} (full)"), &full, &data_with(cw, &[two, one_x]), Check::Exact);
            // Overflow: a ninth push.
            let mut over = full.clone();
            over.truncate(over.len() - 3 - op.len());
            over.extend(fld80(0));
            over.extend(op);
            over.extend(fnsave());
            b.case(&format!("{name} (overflowed)"), &over, &data_with(cw, &[two, one_x]), Check::Exact);
        }
    }
    b.finish("stack_faults_and_register_ops");
}

/// Unmasked exceptions: the result is withheld (IE/DE/ZE) or wrapped (OE/UE), ES and
/// B are set, and the emulator raises #MF at the next waiting instruction.
#[test]
fn unmasked_exceptions() {
    let mut b = Bench::new();
    let vals = edge_values();
    let ops: [&[u8]; 21] = [
        &[0xd8, 0xc1],       // fadd st, st1
        &[0xd8, 0xc9],       // fmul st, st1
        &[0xd8, 0xf1],       // fdiv st, st1
        &[0xde, 0xe9],       // fsubp
        &[0xd9, 0xfa],       // fsqrt
        &[0xd9, 0xfc],       // frndint
        &[0xd9, 0xfd],       // fscale
        &[0xd9, 0xf8],       // fprem
        &[0xd9, 0xf4],       // fxtract
        &[0xdd, 0x53, 0x6c], // fst qword [ebx+0x6c]
        &[0xd9, 0x5b, 0x6c], // fstp dword [ebx+0x6c]
        &[0xdb, 0x53, 0x6c], // fist dword [ebx+0x6c]
        &[0xdf, 0x5b, 0x6c], // fistp word [ebx+0x6c]
        &[0xdf, 0x73, 0x6c], // fbstp [ebx+0x6c]
        &[0xd8, 0xd1],       // fcom st1
        &[0xdd, 0xe1],       // fucom st1
        &[0xde, 0xd9],       // fcompp
        &[0xdb, 0xf1],       // fcomi st, st1
        &[0xd9, 0x43, 0xf4], // fld dword [ebx-0xc]
        &[0xdc, 0x43, 0xf4], // fadd qword [ebx-0xc]
        &[0xd9, 0xe4],       // ftst
    ];
    for mask in [0x7e, 0x7b, 0x77, 0x6f, 0x5f, 0x3f, 0x7d, 0x40] {
        for op in ops {
            let body = two_operand_body(op);
            for &x in vals.iter().step_by(3) {
                for &y in vals.iter().step_by(5) {
                    let cw = 0x0300 | mask;
                    let mut d = data_with(cw, &[x, y]);
                    // A denormal single (and a denormal double) at [ebx-0xc].
                    set_in64(
                        &mut d,
                        [0x0000_0000_0000_0001, 0x0000_0000_7f80_0001, 0x3ff8_0000_0000_0000]
                            [(x.sig % 3) as usize],
                    );
                    let check = if op == [0xdb, 0xf1] { Check::Eflags } else { Check::Exact };
                    b.case(&format!("unmasked cw={cw:04x} a={x:x?} b={y:x?}"), &body, &d, check);
                }
            }
        }
    }
    b.finish("unmasked_exceptions");

    // #MF at the next waiting instruction, with EIP there.
    let mut emu = Emu::new();
    let mut body = prelude();
    body.extend(fld80(1));
    body.extend(fld80(0));
    body.extend([0xd8, 0xf1]); // fdiv st, st1 (by zero)
    let at = body.len() as u32;
    body.extend([0xd9, 0xe8]); // fld1: waits → #MF
    let mut d = data_with(0x037b, &[f80(false, 0x3fff, 1 << 63), F80::ZERO]);
    assert_eq!(emu.run(&body, &mut d), Err(Exit::Exception(Exception::FloatingPoint)));
    assert_eq!(emu.m.cpu.eip, CODE_LIN + at);
    assert_eq!(emu.m.cpu.fpu.status_word() & 0x8084, 0x8084);
}

/// FLDCW/FNSTCW, FNSTSW AX, FNSTENV/FLDENV, FNSAVE/FRSTOR round trips.
#[test]
fn control_and_environment() {
    let mut b = Bench::new();
    for cw in [0x0000u16, 0xffff, 0x1f7f, 0x0c00, 0x0100, 0x027f, 0x1040] {
        let mut body = prelude();
        body.extend(mem(0xd9, 7, OUT)); // fnstcw
        body.extend(fnsave());
        b.case(&format!("fldcw {cw:04x}"), &body, &data_with(cw, &[]), Check::Exact);
    }
    let x = f80(false, 0x3fff, 0xc000_0000_0000_0000);
    let mut body = two_operand_body(&[0xd8, 0xd1]);
    body.truncate(body.len() - 3);
    body.extend([0xdf, 0xe0, 0x66, 0x89, 0x43, OUT as u8]); // fnstsw ax; mov [ebx+OUT], ax
    body.extend(fnsave());
    b.case("fnstsw ax", &body, &data_with(0x037f, &[x, F80::ZERO]), Check::Exact);
    // fnstenv to OUT region (first 12 bytes: cw, sw, tw words as dwords) — then fldenv
    // back a modified environment and save.
    let mut body = two_operand_body(&[0xd8, 0xf1]);
    body.truncate(body.len() - 3);
    body.extend(mem(0xd9, 6, -0x40)); // fnstenv [ebx-0x40]
    body.extend(mem(0xd9, 4, -0x40)); // fldenv  [ebx-0x40]
    body.extend(mem(0xdd, 6, -0x70)); // fnsave [ebx-0x70]
    body.extend(mem(0xdd, 4, -0x70)); // frstor [ebx-0x70]
    body.extend(fnsave());
    for v in edge_values() {
        b.case(&format!("env round trip {v:x?}"), &body, &data_with(0x037f, &[v, x]), Check::Exact);
    }
    b.finish("control_and_environment");
}

/// Transcendentals: values within 1 ulp of the host (the hardware is not correctly
/// rounded; see ops/x87/transcend.rs), flags other than PE/C1 exact.
#[test]
fn transcendentals_close_to_host() {
    let mut b = Bench::new();
    let ops: [(&str, [u8; 2], i32, i32); 8] = [
        ("fsin", [0xd9, 0xfe], 0x3fff, 70),
        ("fcos", [0xd9, 0xff], 0x3fff, 70),
        ("fsincos", [0xd9, 0xfb], 0x3fff, 10),
        ("fptan", [0xd9, 0xf2], 0x3fff, 10),
        ("fpatan", [0xd9, 0xf3], 0x3fff, 30),
        ("f2xm1", [0xd9, 0xf0], 0x3ffe, 20),
        ("fyl2x", [0xd9, 0xf1], 0x3fff, 300),
        ("fyl2xp1", [0xd9, 0xf9], 0x3ffc, 30),
    ];
    let mut rng = Rng(0x7777_1111_3333_9999);
    for (name, op, center, spread) in ops {
        let body = two_operand_body(&op);
        let vals = edge_values();
        for &x in vals.iter().step_by(2) {
            for &y in vals.iter().step_by(7) {
                b.case(
                    &format!("{name} a={x:x?} b={y:x?}"),
                    &body,
                    &data_with(0x037f, &[x, y]),
                    Check::Ulps(1),
                );
            }
        }
        for _ in 0..3000 {
            let mut x = rng.value(center, spread);
            if name == "fyl2x" || name == "f2xm1" && x.exp() > 0x3fff {
                x = x.abs();
            }
            if name == "fyl2xp1" && x.exp() >= 0x3ffd {
                x = f80(x.sign(), 0x3ffc, x.sig);
            }
            let y = rng.value(0x3fff, 10);
            let cw = control(rng.below(4) as u16, 3);
            b.case(
                &format!("{name} a={x:x?} b={y:x?} cw={cw:04x}"),
                &body,
                &data_with(cw, &[x, y]),
                Check::Ulps(1),
            );
        }
    }
    b.finish("transcendentals_close_to_host");
}

/// The FNSTENV image itself: control/status/tag dwords (with their reserved upper
/// halves) and FOP. (FIP/FDP/selectors differ between 64-bit host and 32-bit guest.)
#[test]
fn fnstenv_image_and_fop() {
    let mut host = Host::new();
    let mut emu = Emu::new();
    let mut cases = 0;
    let ops: [&[u8]; 6] = [
        &[0xd8, 0xf1],             // fdiv st, st1
        &[0xdc, 0x4b, 0xf4],       // fmul qword [ebx-0xc]
        &[0xd9, 0xfa],             // fsqrt
        &[0xde, 0xc9],             // fmulp
        &[0xdb, 0x53, 0x6c],       // fist dword [ebx+0x6c]
        &[0x66, 0xda, 0x43, 0xf4], // fiadd dword [ebx-0xc] with an operand-size prefix
    ];
    for op in ops {
        for v in edge_values().iter().step_by(4) {
            let mut body = two_operand_body(op);
            body.truncate(body.len() - 3);
            body.extend(mem(0xd9, 6, SAVE)); // fnstenv [ebx]
            let mut d = data_with(0x037f, &[*v, f80(false, 0x4000, 1 << 63)]);
            set_in64(&mut d, 0x4000_0000_0000_0000);
            let (mut hd, mut ed) = (d, d);
            host.run(&body, &mut hd);
            emu.run(&body, &mut ed).expect("emulator ran to the end");
            let (h, e) = (&hd[0x80..0x80 + 28], &ed[0x80..0x80 + 28]);
            assert_eq!(h[..12], e[..12], "env words for {op:02x?} {v:x?}");
            assert_eq!(h[18..20], e[18..20], "FOP for {op:02x?} {v:x?}");
            cases += 1;
        }
    }
    eprintln!("fnstenv_image_and_fop: {cases} cases");
}

/// All eight FCMOVcc after FCOMI/FUCOMI of every ordering (incl. unordered).
#[test]
fn fcmov_all_conditions() {
    let mut b = Bench::new();
    let pairs = [(1.0f64, 2.0f64), (2.0, 1.0), (1.0, 1.0), (f64::NAN, 1.0)];
    let mut env = growsdown_cpu::fpu::float80::Env::new(0x037f);
    for (x, y) in pairs {
        let fx = growsdown_cpu::fpu::float80::from_f64(&mut env, x.to_bits());
        let fy = growsdown_cpu::fpu::float80::from_f64(&mut env, y.to_bits());
        for cmp in [[0xdb, 0xf1], [0xdb, 0xe9]] {
            for opc in [0xda, 0xdb] {
                for cc in 0..4u8 {
                    let mut op = cmp.to_vec();
                    op.extend([opc, 0xc2 + cc * 8]); // fcmovcc st, st2
                    let mut body = prelude();
                    body.extend(fld80(2));
                    body.extend(fld80(1));
                    body.extend(fld80(0));
                    body.extend(op);
                    body.extend(fnsave());
                    let third = f80(false, 0x4005, 0xc000_0000_0000_0000);
                    b.case(
                        &format!("fcmov {opc:02x}/{cc} after {cmp:02x?} {x} {y}"),
                        &body,
                        &data_with(0x037f, &[fx, fy, third]),
                        Check::Eflags,
                    );
                }
            }
        }
    }
    b.finish("fcmov_all_conditions");
}

/// Emulator only: a pending unmasked exception is reported (#MF, EIP at the waiting
/// instruction) by FWAIT and any waiting x87 instruction, never by the FN* control
/// instructions; FNCLEX/FNINIT discard it.
#[test]
fn pending_exception_waits_for_a_waiting_instruction() {
    let mut emu = Emu::new();
    let setup = |cw: u16| {
        let mut body = prelude();
        body.extend(fld80(1));
        body.extend(fld80(0));
        body.extend([0xd8, 0xf1]); // fdiv st, st1: 1/0 with ZE unmasked
        (body, data_with(cw, &[f80(false, 0x3fff, 1 << 63), F80::ZERO]))
    };
    // Non-waiting instructions run; FWAIT faults.
    let (mut body, mut d) = setup(0x037b);
    body.extend(mem(0xdd, 7, OUT)); // fnstsw [ebx+OUT]
    body.extend(mem(0xd9, 7, OUT + 2)); // fnstcw
    body.extend(mem(0xd9, 6, -0x40)); // fnstenv
    let at = body.len() as u32;
    body.push(0x9b); // fwait
    assert_eq!(emu.run(&body, &mut d), Err(Exit::Exception(Exception::FloatingPoint)));
    assert_eq!(emu.m.cpu.eip, CODE_LIN + at);
    let o = (0x80 + OUT as isize) as usize;
    assert_eq!(u16::from_le_bytes([d[o], d[o + 1]]) & 0x80ff, 0x8084, "FNSTSW saw ES/B/ZE");
    // The ST(0) of the faulting FDIV is unchanged (unmasked ZE withholds the result).
    assert_eq!(emu.m.cpu.fpu.st(0), f80(false, 0x3fff, 1 << 63));
    // FNCLEX discards the pending exception; FNINIT too.
    for clear in [[0xdb, 0xe2], [0xdb, 0xe3]] {
        let (mut body, mut d) = setup(0x037b);
        body.extend(clear);
        body.push(0x9b);
        body.extend([0xd9, 0xe8]); // fld1
        assert_eq!(emu.run(&body, &mut d), Ok(()));
    }
    // Unmasking a flag that is already set makes it pending (FLDCW recomputes ES).
    let (mut body, mut d) = setup(0x037f); // masked: ZE set, nothing pending
    d[(0x80 + IN64 as isize) as usize..][..2].copy_from_slice(&0x037bu16.to_le_bytes());
    body.extend(mem(0xd9, 5, IN64)); // fldcw: unmask ZE
    let at = body.len() as u32;
    body.extend([0xd9, 0xe8]); // fld1
    assert_eq!(emu.run(&body, &mut d), Err(Exit::Exception(Exception::FloatingPoint)));
    assert_eq!(emu.m.cpu.eip, CODE_LIN + at);
}

/// Emulator only: a store that page-faults changes nothing (no pop, no flags).
#[test]
fn faulting_store_leaves_the_fpu_unchanged() {
    let mut emu = Emu::new();
    emu.m.map(0x0806_0000, PTE_P | PTE_US); // read-only
    let mut body = prelude();
    body.extend(fld80(0));
    let at = body.len() as u32;
    body.extend([0xdd, 0x1d, 0x00, 0x00, 0x06, 0x08]); // fstp qword [0x08060000]
    let mut d = data_with(0x037f, &[f80(false, 0x3fff, 0xc000_0000_0000_0001)]);
    let r = emu.run(&body, &mut d);
    assert!(matches!(r, Err(Exit::Exception(Exception::PageFault { .. }))), "{r:?}");
    let cpu = &emu.m.cpu;
    assert_eq!(cpu.eip, CODE_LIN + at);
    assert_eq!(cpu.fpu.status_word(), 0x3800);
    assert!(!cpu.fpu.is_empty(0));
}

/// Emulator only: the 16-bit FNSTENV/FLDENV and FNSAVE/FRSTOR layouts round-trip.
#[test]
fn sixteen_bit_environment_round_trip() {
    let mut emu = Emu::new();
    let mut body = prelude();
    body.extend(fld80(1));
    body.extend(fld80(0));
    body.extend([0xd8, 0xf1]); // fdiv st, st1 (ZE, masked)
    body.extend([0x66, 0xdd, 0x73, 0x80]); // fnsave (94 bytes) [ebx-0x80]
    body.extend([0x66, 0xdd, 0x63, 0x80]); // frstor [ebx-0x80]
    body.extend([0x66, 0xd9, 0x73, 0x60]); // fnstenv (14 bytes) [ebx+0x60]
    body.extend([0x66, 0xd9, 0x63, 0x60]); // fldenv [ebx+0x60]
    let mut d = data_with(0x0b7f, &[f80(false, 0x3fff, 1 << 63), F80::ZERO]);
    assert_eq!(emu.run(&body, &mut d), Ok(()));
    let fpu = &emu.m.cpu.fpu;
    assert_eq!(fpu.control, 0x0b7f | 0x3f);
    assert_eq!(fpu.status_word(), 0x3004);
    assert_eq!(fpu.st(0), F80::inf(false));
    assert_eq!(fpu.st(1), F80::ZERO);
    assert!(fpu.is_empty(2));
}
