//! What difftest compares after every instruction, how, and the report it prints
//! when the two sides disagree.

use std::collections::VecDeque;
use std::fmt::{self, Write as _};

use growsdown_cpu::flags::{AC, ARITH, DF, ID, IF, NT, TF, ZF};
use growsdown_cpu::spec::{eflags, x87};
use growsdown_cpu::{Cpu, REG_NAMES};
use growsdown_decoder::{format_intel, Instruction};

use super::flags::{flag_names, qemu_errata, undefined_dest};
use super::sse::{self, hex128, mxcsr_bit_names, mxcsr_names, Sse};
use super::x87::{decimal80, fsw_bit_names, fsw_names, hex80, X87};

/// Segment registers in `Cpu::segs` order.
pub const SEG_NAMES: [&str; 6] = ["es", "cs", "ss", "ds", "fs", "gs"];

/// EFLAGS bits a user program can observe and change: the six arithmetic flags, TF,
/// IF, DF, NT, AC, ID. IOPL, RF, VM, VIF, VIP are not compared (CPL 3 cannot set
/// them, and a ptrace tracee may show RF after a resumed fault).
pub const COMPARED_FLAGS: u32 = ARITH | TF | IF | DF | NT | AC | ID;

/// The architectural state compared after each instruction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub eip: u32,
    /// EAX ECX EDX EBX ESP EBP ESI EDI.
    pub regs: [u32; 8],
    pub eflags: u32,
    /// Selectors, ES CS SS DS FS GS.
    pub sel: [u16; 6],
    /// Segment bases, same order.
    pub base: [u32; 6],
    /// The x87 state; `None` where a side does not report it (then not compared).
    pub x87: Option<X87>,
    /// XMM0–7 and MXCSR; `None` where a side does not report them (then not
    /// compared).
    pub sse: Option<Sse>,
}

impl Snapshot {
    /// growsdown's side.
    pub fn of_cpu(cpu: &Cpu) -> Self {
        let mut s = Self { eip: cpu.eip, regs: cpu.regs, eflags: cpu.flags.get(), ..Self::default() };
        for (i, seg) in cpu.segs.iter().enumerate() {
            s.sel[i] = seg.selector;
            s.base[i] = seg.base;
        }
        s.x87 = Some(X87::of_fpu(&cpu.fpu));
        s.sse = Some(Sse::of_fpu(&cpu.fpu));
        s
    }
}

/// Which parts of two snapshots differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mismatch {
    pub eip: bool,
    /// Bit i: register i differs.
    pub regs: u8,
    /// Differing compared EFLAGS bits (undefined ones excluded).
    pub flags: u32,
    /// Bit i: selector of segment i differs.
    pub sel: u8,
    /// Bit i: base of segment i differs.
    pub base: u8,
    pub fcw: bool,
    /// Differing compared FSW bits (undefined condition codes excluded).
    pub fsw: u16,
    /// Bit p: physical register p is empty on one side only.
    pub ftw: u8,
    /// Bit p: physical register p is non-empty on both sides and differs.
    pub fpr: u8,
    /// growsdown's TOP, to name the registers of `fpr` by stack position (not a
    /// difference itself).
    pub top: u8,
    /// Bit i: XMMi differs (in its compared bits).
    pub xmm: u8,
    /// Differing compared MXCSR bits.
    pub mxcsr: u32,
}

impl Mismatch {
    pub fn is_empty(&self) -> bool {
        Self { top: 0, ..*self } == Self::default()
    }

    /// Short list of what differs: "eax, eflags (ZF)".
    pub fn summary(&self) -> String {
        let mut v: Vec<String> = Vec::new();
        if self.eip {
            v.push("eip".into());
        }
        for (i, name) in REG_NAMES.iter().enumerate() {
            if self.regs & (1 << i) != 0 {
                v.push((*name).into());
            }
        }
        if self.flags != 0 {
            v.push(format!("eflags ({})", flag_names(self.flags)));
        }
        for (i, name) in SEG_NAMES.iter().enumerate() {
            if self.sel & (1 << i) != 0 {
                v.push(format!("{name} selector"));
            }
            if self.base & (1 << i) != 0 {
                v.push(format!("{name} base"));
            }
        }
        if self.fcw {
            v.push("fcw".into());
        }
        if self.fsw != 0 {
            v.push(format!("fsw ({})", fsw_bit_names(self.fsw)));
        }
        if self.ftw != 0 {
            v.push(format!("ftw ({})", phys_names(self.ftw)));
        }
        for p in 0..8 {
            if self.fpr & (1 << p) != 0 {
                v.push(format!("st{} (R{p})", (p + 8 - usize::from(self.top)) & 7));
            }
        }
        for i in 0..8 {
            if self.xmm & (1 << i) != 0 {
                v.push(format!("xmm{i}"));
            }
        }
        if self.mxcsr != 0 {
            v.push(format!("mxcsr ({})", mxcsr_bit_names(self.mxcsr)));
        }
        v.join(", ")
    }
}

/// "R3 R7".
fn phys_names(mask: u8) -> String {
    (0..8).filter(|p| mask & (1 << p) != 0).map(|p| format!("R{p}")).collect::<Vec<_>>().join(" ")
}

/// Compares the x87 states: `undefined_cc` (condition-code bits of the FSW) are
/// not compared, nor the sign+exponent words of the physical registers in
/// `se_taken`; register contents only where both sides hold a value (the
/// reference's tags, where it does not report them, are taken to be growsdown's).
fn compare_x87(m: &mut Mismatch, ours: &X87, theirs: &X87, undefined_cc: u16, se_taken: u8) {
    m.top = ours.top() as u8;
    m.fcw = ours.fcw != theirs.fcw;
    m.fsw = (ours.fsw ^ theirs.fsw) & !undefined_cc;
    let their_valid = if theirs.tags_known { theirs.valid } else { ours.valid };
    m.ftw = ours.valid ^ their_valid;
    for p in 0..8 {
        let (a, b) = (ours.r[p], theirs.r[p]);
        let se_differs = a.se != b.se && se_taken & (1 << p) == 0;
        if ours.valid & their_valid & (1 << p) != 0 && (a.sig != b.sig || se_differs) {
            m.fpr |= 1 << p;
        }
    }
}

/// Compares XMM0–7 (without the bits of `undefined_xmm`: register, bits) and MXCSR
/// (without `mxcsr_taken`).
fn compare_sse(
    m: &mut Mismatch,
    ours: &Sse,
    theirs: &Sse,
    undefined_xmm: Option<(usize, u128)>,
    mxcsr_taken: u32,
) {
    for i in 0..8 {
        let care = match undefined_xmm {
            Some((r, bits)) if r == i => !bits,
            _ => u128::MAX,
        };
        if (ours.xmm[i] ^ theirs.xmm[i]) & care != 0 {
            m.xmm |= 1 << i;
        }
    }
    m.mxcsr = (ours.mxcsr ^ theirs.mxcsr) & !mxcsr_taken;
}

/// What one comparison leaves out: bits the SDM leaves undefined after the
/// instruction, results it only bounds, and bits of QEMU's known errata. Each is
/// carried over from the reference into growsdown after an equal comparison
/// ([`Fixup`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Masks {
    /// EFLAGS bits.
    pub flags: u32,
    /// Bits of one general register (index, bits).
    pub reg: Option<(usize, u32)>,
    /// x87 condition codes (FSW bits).
    pub cc: u16,
    /// Bits of one XMM register (index, bits).
    pub xmm: Option<(usize, u128)>,
    /// MXCSR bits.
    pub mxcsr: u32,
    /// Bit p: the sign+exponent word of physical x87 register p.
    pub fpr_se: u8,
}

/// Compares two snapshots, leaving out what `masks` names.
pub fn compare(ours: &Snapshot, theirs: &Snapshot, masks: &Masks) -> Mismatch {
    let mut m = Mismatch { eip: ours.eip != theirs.eip, ..Mismatch::default() };
    for i in 0..8 {
        let care = match masks.reg {
            Some((r, bits)) if r == i => !bits,
            _ => u32::MAX,
        };
        if (ours.regs[i] ^ theirs.regs[i]) & care != 0 {
            m.regs |= 1 << i;
        }
    }
    m.flags = (ours.eflags ^ theirs.eflags) & COMPARED_FLAGS & !masks.flags;
    for i in 0..6 {
        if ours.sel[i] != theirs.sel[i] {
            m.sel |= 1 << i;
        }
        if ours.base[i] != theirs.base[i] {
            m.base |= 1 << i;
        }
    }
    if let (Some(a), Some(b)) = (&ours.x87, &theirs.x87) {
        compare_x87(&mut m, a, b, masks.cc, masks.fpr_se);
    }
    if let (Some(a), Some(b)) = (&ours.sse, &theirs.sse) {
        compare_sse(&mut m, a, b, masks.xmm, masks.mxcsr);
    }
    m
}

/// One executed instruction, for the "last K instructions" part of a report.
#[derive(Clone, Copy, Debug)]
pub struct Executed {
    /// 1-based instruction count.
    pub n: u64,
    pub eip: u32,
    pub insn: Instruction,
}

impl Executed {
    fn line(&self) -> String {
        format!("{:>12}  {:#010x}  {}", self.n, self.eip, format_intel(&self.insn))
    }
}

/// A ring of the last K executed instructions. Instructions are kept decoded and
/// formatted only when a report is printed.
#[derive(Clone, Debug)]
pub struct History {
    buf: VecDeque<Executed>,
    cap: usize,
}

impl History {
    pub fn new(cap: usize) -> Self {
        Self { buf: VecDeque::with_capacity(cap.min(4096)), cap }
    }

    pub fn push(&mut self, e: Executed) {
        if self.cap == 0 {
            return;
        }
        if self.buf.len() == self.cap {
            self.buf.pop_front();
        }
        self.buf.push_back(e);
    }

    /// Oldest first.
    pub fn entries(&self) -> Vec<Executed> {
        self.buf.iter().copied().collect()
    }
}

/// What the caller must write into growsdown after an instruction that compared
/// equal, so that bits the SDM leaves undefined take the reference's values and
/// both sides go on identically.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fixup {
    /// Replace EFLAGS with this value.
    pub eflags: Option<u32>,
    /// Replace register `.0` with `.1`.
    pub reg: Option<(usize, u32)>,
    /// Replace the x87 status word (undefined condition codes) with this value.
    pub fsw: Option<u16>,
    /// Replace the sign+exponent words of these physical x87 registers (bit p) with
    /// the reference's.
    pub fpr_se: Option<(u8, [u16; 8])>,
    /// Replace XMM register `.0` with `.1`.
    pub xmm: Option<(usize, u128)>,
    /// Replace MXCSR with this value.
    pub mxcsr: Option<u32>,
}

/// Everything a divergence report shows.
#[derive(Clone, Debug)]
pub struct Divergence {
    /// The reference's name ("qemu", "native").
    pub reference: String,
    /// 1-based count of the instruction after which the states differ.
    pub n: u64,
    /// Which execution of the instruction at `eip` it was (1 = the first).
    pub hit: u64,
    /// Its address and decoded form.
    pub eip: u32,
    pub insn: Instruction,
    /// State before the instruction (growsdown's; equal to the reference's, or the
    /// previous step would have diverged).
    pub before: Snapshot,
    pub ours: Snapshot,
    pub theirs: Snapshot,
    pub mismatch: Mismatch,
    /// Flags excluded from the comparison for this instruction.
    pub undefined_flags: u32,
    /// x87 condition codes (FSW bits) excluded likewise.
    pub undefined_cc: u16,
    /// The rest of what was left out (approximations, QEMU's errata in the SSE
    /// state), for the report.
    pub masks: Masks,
    /// The last K instructions, oldest first, ending with this one.
    pub history: Vec<Executed>,
    /// Extra lines (e.g. what a second reference said).
    pub notes: Vec<String>,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "difftest: DIVERGENCE after instruction {} at {:#010x}: {}",
            self.n,
            self.eip,
            format_intel(&self.insn)
        );
        let _ = writeln!(s, "difftest: differs: {}", self.mismatch.summary());
        let w = self.reference.len().max(9);
        let _ = writeln!(s, "  {:<8} {:<12} {:<w$}   {:<10}", "", "growsdown", self.reference, "before");
        let row = |s: &mut String, mark: bool, name: &str, a: String, b: String, before: String| {
            let _ =
                writeln!(s, "{} {:<8} {:<12} {:<w$}   {}", if mark { '*' } else { ' ' }, name, a, b, before);
        };
        let hex = |v: u32| format!("{v:#010x}");
        row(&mut s, self.mismatch.eip, "eip", hex(self.ours.eip), hex(self.theirs.eip), hex(self.before.eip));
        for (i, name) in REG_NAMES.iter().enumerate() {
            row(
                &mut s,
                self.mismatch.regs & (1 << i) != 0,
                name,
                hex(self.ours.regs[i]),
                hex(self.theirs.regs[i]),
                hex(self.before.regs[i]),
            );
        }
        row(
            &mut s,
            self.mismatch.flags != 0,
            "eflags",
            hex(self.ours.eflags),
            hex(self.theirs.eflags),
            hex(self.before.eflags),
        );
        let fl = |v: u32| format!("[{}]", flag_names(v & COMPARED_FLAGS));
        row(&mut s, false, "", fl(self.ours.eflags), fl(self.theirs.eflags), fl(self.before.eflags));
        if self.mismatch.flags != 0 {
            let _ = writeln!(s, "  eflags differ in: {}", flag_names(self.mismatch.flags));
        }
        if self.undefined_flags != 0 {
            let _ = writeln!(
                s,
                "  undefined after this instruction (SDM), not compared: {}",
                flag_names(self.undefined_flags)
            );
        }
        for (i, name) in SEG_NAMES.iter().enumerate() {
            let seg = |x: &Snapshot| format!("{:#06x}@{:08x}", x.sel[i], x.base[i]);
            let mark = (self.mismatch.sel | self.mismatch.base) & (1 << i) != 0;
            row(&mut s, mark, name, seg(&self.ours), seg(&self.theirs), seg(&self.before));
        }
        if let (Some(o), Some(t)) = (&self.ours.x87, &self.theirs.x87) {
            self.x87_rows(&mut s, o, t);
        }
        if let (Some(o), Some(t)) = (&self.ours.sse, &self.theirs.sse) {
            self.sse_rows(&mut s, o, t);
        }
        for note in &self.notes {
            let _ = writeln!(s, "difftest: {note}");
        }
        let _ = writeln!(s, "difftest: last {} instructions (oldest first):", self.history.len());
        for e in &self.history {
            let mark = if e.n == self.n { '>' } else { ' ' };
            let _ = writeln!(s, "{mark}{}", e.line());
        }
        f.write_str(s.trim_end())
    }
}

impl Divergence {
    /// The SSE part of the report: MXCSR, and each XMM register that differs (all
    /// 128 bits in hex, most significant quadword first).
    fn sse_rows(&self, s: &mut String, o: &Sse, t: &Sse) {
        let m = &self.mismatch;
        let b = self.before.sse.unwrap_or_default();
        let w = 33;
        let _ = writeln!(s, "  {:<8} {:<w$} {:<w$} before", "sse", "growsdown", self.reference);
        let row = |s: &mut String, mark: bool, name: &str, a: String, c: String, d: String| {
            let _ = writeln!(s, "{} {:<8} {:<w$} {:<w$} {}", if mark { '*' } else { ' ' }, name, a, c, d);
        };
        let h32 = |v: u32| format!("{v:#010x}");
        row(s, m.mxcsr != 0, "mxcsr", h32(o.mxcsr), h32(t.mxcsr), h32(b.mxcsr));
        row(s, false, "", mxcsr_names(o.mxcsr), mxcsr_names(t.mxcsr), mxcsr_names(b.mxcsr));
        if m.mxcsr != 0 {
            let _ = writeln!(s, "  mxcsr differs in: {}", mxcsr_bit_names(m.mxcsr));
        }
        if self.masks.mxcsr != 0 {
            let _ = writeln!(
                s,
                "  taken from {}, not compared: mxcsr {}",
                self.reference,
                mxcsr_bit_names(self.masks.mxcsr)
            );
        }
        for i in 0..8 {
            if m.xmm & (1 << i) != 0 {
                row(s, true, &format!("xmm{i}"), hex128(o.xmm[i]), hex128(t.xmm[i]), hex128(b.xmm[i]));
            }
        }
        if let Some((r, bits)) = self.masks.xmm {
            let _ = writeln!(
                s,
                "  approximation (SDM bounds it), compared only against the host CPU: xmm{r} bits {}",
                hex128(bits)
            );
        }
        if m.xmm == 0 {
            let _ = writeln!(s, "  xmm0-7   equal");
        }
    }

    /// The x87 part of the report: FCW, FSW, tags, and every register that holds a
    /// value on either side (hex sign+exponent:significand, then the exact decimal).
    fn x87_rows(&self, s: &mut String, o: &X87, t: &X87) {
        let m = &self.mismatch;
        let b = self.before.x87.unwrap_or_default();
        let w = 29;
        let _ = writeln!(s, "  {:<8} {:<w$} {:<w$} before", "x87", "growsdown", self.reference);
        let row = |s: &mut String, mark: bool, name: &str, a: String, c: String, d: String| {
            let _ = writeln!(s, "{} {:<8} {:<w$} {:<w$} {}", if mark { '*' } else { ' ' }, name, a, c, d);
        };
        let h16 = |v: u16| format!("{v:#06x}");
        row(s, m.fcw, "fcw", h16(o.fcw), h16(t.fcw), h16(b.fcw));
        let sw = |v: u16| format!("{v:#06x} {}", fsw_names(v));
        row(s, m.fsw != 0, "fsw", sw(o.fsw), sw(t.fsw), sw(b.fsw));
        if m.fsw != 0 {
            let _ = writeln!(s, "  fsw differs in: {}", fsw_bit_names(m.fsw));
        }
        if self.undefined_cc != 0 {
            let _ = writeln!(
                s,
                "  undefined after this instruction (SDM), not compared: {}",
                fsw_bit_names(self.undefined_cc)
            );
        }
        let tags = |x: &X87| if x.tags_known { format!("{:#04x}", x.valid) } else { "(not given)".into() };
        row(s, m.ftw != 0, "ftw", tags(o), tags(t), tags(&b));
        let their_valid = if t.tags_known { t.valid } else { o.valid };
        for i in 0..8 {
            let p = o.phys(i);
            let held = (o.valid | their_valid | b.valid) & (1 << p) != 0;
            if !held && m.fpr & (1 << p) == 0 {
                continue;
            }
            let val = |x: &X87, valid: u8| {
                if valid & (1 << p) != 0 {
                    (hex80(x.r[p]), decimal80(x.r[p]))
                } else {
                    ("empty".to_string(), String::new())
                }
            };
            let (oh, od) = val(o, o.valid);
            let (th, td) = val(t, their_valid);
            let (bh, bd) = val(&b, b.valid);
            row(s, m.fpr & (1 << p) != 0, &format!("st{i}=R{p}"), oh, th, bh);
            if !(od.is_empty() && td.is_empty() && bd.is_empty()) {
                row(s, false, "", od, td, bd);
            }
        }
    }
}

/// The comparison engine, independent of how the two states were produced: feed it
/// every executed instruction with the states of both sides after it.
pub struct Differ {
    pub reference: String,
    history: History,
    /// Instructions compared so far.
    pub compared: u64,
    /// Take the bits of QEMU's known errata ([`qemu_errata`], and in the SSE state
    /// [`sse::qemu_mxcsr_errata`], [`sse::mmx_dest`]) from the reference instead of
    /// comparing them.
    pub qemu_errata: bool,
    /// The reference is this host's CPU: compare the results the SDM only bounds
    /// ([`sse::approximated_dest`]), which another implementation computes
    /// differently.
    pub host_cpu: bool,
}

impl Differ {
    pub fn new(reference: &str, context: usize) -> Self {
        Self {
            reference: reference.to_string(),
            history: History::new(context),
            compared: 0,
            qemu_errata: false,
            host_cpu: false,
        }
    }

    /// Compares the states after one instruction. `before` is growsdown's state
    /// before it (its ECX gives a shift's CL count; the report shows it). On success
    /// returns what to copy from the reference into growsdown for the bits the SDM
    /// leaves undefined.
    pub fn check(
        &mut self,
        insn: &Instruction,
        before: &Snapshot,
        ours: &Snapshot,
        theirs: &Snapshot,
    ) -> Result<Fixup, Box<Divergence>> {
        self.compared += 1;
        let n = self.compared;
        self.history.push(Executed { n, eip: before.eip, insn: *insn });
        let count = eflags::count_operand(insn, before.regs[1]);
        // BSF/BSR set ZF exactly when their source was zero.
        let undefined = eflags::undefined(insn, count, theirs.eflags & ZF != 0);
        let mut undefined_flags = undefined.flags;
        let undefined_reg = undefined_dest(insn, undefined);
        let c2_after = theirs.x87.is_some_and(|x| x.fsw & growsdown_cpu::fpu::SW_C2 != 0);
        let mut undefined_cc = x87::undefined_cc(insn, c2_after);
        let mut masks = Masks::default();
        if !self.host_cpu {
            masks.xmm = sse::approximated_dest(insn);
        }
        if self.qemu_errata {
            let (flags, cc) = qemu_errata(insn);
            undefined_flags |= flags;
            undefined_cc |= cc;
            masks.mxcsr = sse::qemu_mxcsr_errata(insn);
            masks.fpr_se = sse::mmx_dest(insn).map_or(0, |p| 1 << p);
        }
        masks.flags = undefined_flags;
        masks.reg = undefined_reg;
        masks.cc = undefined_cc;
        let mismatch = compare(ours, theirs, &masks);
        if !mismatch.is_empty() {
            return Err(Box::new(Divergence {
                reference: self.reference.clone(),
                n,
                hit: 0,
                eip: before.eip,
                insn: *insn,
                before: *before,
                ours: *ours,
                theirs: *theirs,
                mismatch,
                undefined_flags,
                undefined_cc,
                masks,
                history: self.history.entries(),
                notes: Vec::new(),
            }));
        }
        let mut fix = Fixup::default();
        let undef = undefined_flags & COMPARED_FLAGS;
        if (ours.eflags ^ theirs.eflags) & undef != 0 {
            fix.eflags = Some((ours.eflags & !undef) | (theirs.eflags & undef));
        }
        if let Some((r, bits)) = undefined_reg {
            if (ours.regs[r] ^ theirs.regs[r]) & bits != 0 {
                fix.reg = Some((r, (ours.regs[r] & !bits) | (theirs.regs[r] & bits)));
            }
        }
        if let (Some(a), Some(b)) = (&ours.x87, &theirs.x87) {
            if (a.fsw ^ b.fsw) & undefined_cc != 0 {
                fix.fsw = Some((a.fsw & !undefined_cc) | (b.fsw & undefined_cc));
            }
            let se = (0..8).filter(|&p| masks.fpr_se & (1 << p) != 0 && a.r[p].se != b.r[p].se);
            let se: u8 = se.fold(0, |m, p| m | 1 << p);
            if se != 0 {
                fix.fpr_se = Some((se, b.r.map(|r| r.se)));
            }
        }
        if let (Some(a), Some(b)) = (&ours.sse, &theirs.sse) {
            if let Some((r, bits)) = masks.xmm {
                if (a.xmm[r] ^ b.xmm[r]) & bits != 0 {
                    fix.xmm = Some((r, (a.xmm[r] & !bits) | (b.xmm[r] & bits)));
                }
            }
            if (a.mxcsr ^ b.mxcsr) & masks.mxcsr != 0 {
                fix.mxcsr = Some((a.mxcsr & !masks.mxcsr) | (b.mxcsr & masks.mxcsr));
            }
        }
        Ok(fix)
    }

    /// Counts an instruction whose own after-state neither side showed (the load
    /// of SS whose shadowed successor ran in the same reference step).
    pub fn executed(&mut self, insn: &Instruction, before: &Snapshot) {
        self.compared += 1;
        self.history.push(Executed { n: self.compared, eip: before.eip, insn: *insn });
    }

    /// The last K instructions, oldest first.
    pub fn history(&self) -> Vec<Executed> {
        self.history.entries()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use growsdown_cpu::flags::{AF, CF, FIXED, PF};
    use growsdown_decoder::decode_one;

    /// A little program as (bytes) executed straight through; the "emulator" below
    /// computes the states both sides would report.
    fn program() -> Vec<Vec<u8>> {
        let mut p = Vec::new();
        for i in 0..40u8 {
            p.push(match i % 4 {
                0 => vec![0x05, i, 0, 0, 0], // add eax, imm32
                1 => vec![0x21, 0xd8],       // and eax, ebx
                2 => vec![0x43],             // inc ebx
                _ => vec![0x89, 0xc1],       // mov ecx, eax
            });
        }
        p
    }

    /// Builds two identical streams of (insn, before, after) and lets `tamper`
    /// change the reference's after-state of one step.
    fn streams(tamper: impl Fn(u64, &mut Snapshot)) -> Vec<(Instruction, Snapshot, Snapshot, Snapshot)> {
        let mut s = Snapshot { eip: 0x0804_9000, eflags: FIXED | IF, ..Snapshot::default() };
        s.sel = [0x2b, 0x23, 0x2b, 0x2b, 0, 0];
        s.regs[3] = 0xff;
        let mut out = Vec::new();
        for (k, bytes) in program().iter().enumerate() {
            let insn = decode_one(bytes, s.eip).unwrap();
            let before = s;
            let r = &mut s.regs;
            match bytes[0] {
                0x05 => r[0] = r[0].wrapping_add(u32::from(bytes[1])),
                0x21 => r[0] &= r[3],
                0x43 => r[3] = r[3].wrapping_add(1),
                _ => r[1] = r[0],
            }
            s.eip = insn.next_ip32();
            let mut theirs = s;
            tamper(k as u64 + 1, &mut theirs);
            out.push((insn, before, s, theirs));
        }
        out
    }

    fn run(stream: &[(Instruction, Snapshot, Snapshot, Snapshot)]) -> Result<u64, Box<Divergence>> {
        let mut d = Differ::new("qemu", 5);
        for (insn, before, ours, theirs) in stream {
            d.check(insn, before, ours, theirs)?;
        }
        Ok(d.compared)
    }

    #[test]
    fn equal_streams_compare_clean() {
        assert_eq!(run(&streams(|_, _| {})).unwrap(), 40);
    }

    /// The differ is not blind: a register changed on one side at step 17 is
    /// reported at step 17, naming the register and the instruction.
    #[test]
    fn altered_register_is_caught_at_the_right_step() {
        let d = run(&streams(|n, s| {
            if n == 17 {
                s.regs[3] ^= 0x10; // ebx
            }
        }))
        .unwrap_err();
        assert_eq!(d.n, 17);
        assert_eq!(d.mismatch.regs, 1 << 3);
        // Step 17 is program()[16]: `add eax, 16`.
        assert_eq!(format_intel(&d.insn), "add eax, 0x10");
        let report = d.to_string();
        assert!(report.contains("DIVERGENCE after instruction 17 at 0x"), "{report}");
        assert!(report.contains("add eax, 0x10"), "{report}");
        assert!(report.contains("differs: ebx"), "{report}");
        let ebx_line = report.lines().find(|l| l.contains(" ebx ")).unwrap();
        assert!(ebx_line.starts_with('*'), "{report}");
        let eax_line = report.lines().find(|l| l.contains(" eax ")).unwrap();
        assert!(eax_line.starts_with(' '), "{report}");
        // Context: the last 5 instructions, ending with the divergent one, marked.
        let last: Vec<&str> = report.lines().rev().take(5).collect();
        assert!(last[0].starts_with('>') && last[0].contains("add eax, 0x10"), "{report}");
        assert!(last[4].contains("          13  "), "{report}");
    }

    #[test]
    fn undefined_flags_are_masked_and_fixed_up() {
        // Step 2 is `and eax, ebx`: AF is undefined there, so a different AF is no
        // divergence, and the fixup hands growsdown the reference's AF.
        let stream = streams(|n, s| {
            if n == 2 {
                s.eflags |= AF;
            }
        });
        let mut d = Differ::new("native", 3);
        let (insn, before, ours, theirs) = &stream[1];
        let fix = d.check(insn, before, ours, theirs).unwrap();
        assert_eq!(fix.eflags, Some(ours.eflags | AF));
        // The same change after `add` is a divergence in AF.
        let err = run(&streams(|n, s| {
            if n == 1 {
                s.eflags |= AF;
            }
        }))
        .unwrap_err();
        assert_eq!(err.n, 1);
        assert_eq!(err.mismatch.flags, AF);
        assert!(err.to_string().contains("eflags differ in: AF"));
    }

    #[test]
    fn eip_and_segment_differences_are_reported() {
        let e = run(&streams(|n, s| {
            if n == 5 {
                s.eip += 1;
                s.base[5] = 0x1000;
                s.eflags |= CF | PF;
            }
        }))
        .unwrap_err();
        assert_eq!(e.n, 5);
        assert!(e.mismatch.eip);
        assert_eq!(e.mismatch.base, 1 << 5);
        assert_eq!(e.mismatch.flags, CF | PF);
        assert_eq!(e.mismatch.summary(), "eip, eflags (CF PF), gs base");
        let r = e.to_string();
        assert!(r.lines().any(|l| l.starts_with("* gs ") && l.contains("0x0000@00001000")), "{r}");
        assert!(r.lines().any(|l| l.starts_with("* eip ")), "{r}");
    }

    /// x87 differences are not blind: with an x87 state on both sides (ST(0) = 1.0
    /// in R7), a changed ST(0) at step 23 is reported at step 23, naming the
    /// register with both values in hex and decimal; a different undefined
    /// condition code is not.
    #[test]
    fn altered_st_register_is_caught_at_the_right_step() {
        use growsdown_cpu::fpu::float80::F80;
        let one = F80 { sig: 1 << 63, se: 0x3fff };
        let mut x = X87 { fcw: 0x37f, fsw: 0x3800, valid: 0x80, tags_known: true, ..X87::default() };
        x.r[7] = one;
        let with_x87 = |mut v: Vec<(Instruction, Snapshot, Snapshot, Snapshot)>| {
            for (_, b, o, t) in v.iter_mut() {
                b.x87 = Some(x);
                o.x87 = Some(x);
                t.x87.get_or_insert(x);
            }
            v
        };
        assert_eq!(run(&with_x87(streams(|_, _| {}))).unwrap(), 40);
        let d = run(&with_x87(streams(|n, s| {
            if n == 23 {
                let mut y = x;
                y.r[7].sig |= 1; // one ulp above 1.0
                s.x87 = Some(y);
            }
        })))
        .unwrap_err();
        assert_eq!(d.n, 23);
        assert_eq!(d.mismatch.fpr, 1 << 7);
        assert_eq!(d.mismatch.summary(), "st0 (R7)");
        let r = d.to_string();
        let line = r.lines().find(|l| l.starts_with("* st0=R7")).expect(&r);
        assert!(line.contains("3fff:8000000000000000") && line.contains("3fff:8000000000000001"), "{r}");
        assert!(r.contains("1.00000000000000000011"), "{r}");
        // An empty register's contents, and tags QEMU's gdbstub does not give, are
        // not compared; a TOP or tag difference is.
        let e = run(&with_x87(streams(|n, s| {
            if n == 9 {
                let mut y = x;
                y.r[3].sig = 5; // R3 is empty
                y.tags_known = false;
                y.valid = 0;
                s.x87 = Some(y);
            }
            if n == 30 {
                s.x87 = Some(X87 { fsw: 0x3000, ..x });
            }
        })))
        .unwrap_err();
        assert_eq!((e.n, e.mismatch.fsw), (30, 0x0800));
    }

    /// The undefined condition codes of an x87 instruction are masked and carried
    /// over: C0 C2 C3 after FLD1, not C1.
    #[test]
    fn undefined_condition_codes_are_masked_and_fixed_up() {
        use growsdown_cpu::fpu::{SW_C1, SW_C3};
        use growsdown_decoder::decode_one;
        let insn = decode_one(&[0xd9, 0xe8], 0x1000).unwrap(); // fld1
        let x = X87 { fcw: 0x37f, fsw: 0x3800, valid: 0x80, tags_known: true, ..X87::default() };
        let ours = Snapshot { eip: 0x1002, x87: Some(x), ..Snapshot::default() };
        let before = Snapshot { eip: 0x1000, x87: Some(X87 { fsw: 0, valid: 0, ..x }), ..ours };
        let theirs = Snapshot { x87: Some(X87 { fsw: 0x3800 | SW_C3, ..x }), ..ours };
        let fix = Differ::new("qemu", 2).check(&insn, &before, &ours, &theirs).unwrap();
        assert_eq!(fix.fsw, Some(0x3800 | SW_C3));
        let theirs = Snapshot { x87: Some(X87 { fsw: 0x3800 | SW_C1, ..x }), ..ours };
        let d = Differ::new("qemu", 2).check(&insn, &before, &ours, &theirs).unwrap_err();
        assert_eq!(d.mismatch.fsw, SW_C1);
        assert!(d.to_string().contains("fsw differs in: C1"), "{d}");
    }

    /// The SSE state is not blind: XMM5 changed in one bit at step 12 is reported at
    /// step 12 as `xmm5` with both values in hex; an MXCSR flag at step 31 as
    /// `mxcsr (PE)`; each alone, with everything else equal.
    #[test]
    fn altered_xmm_and_mxcsr_are_caught_at_the_right_step() {
        let sse = Sse {
            xmm: core::array::from_fn(|i| {
                0x0123_4567_89ab_cdef_0011_2233_4455_6677u128.rotate_left(8 * i as u32)
            }),
            mxcsr: 0x1f80,
        };
        let with_sse = |mut v: Vec<(Instruction, Snapshot, Snapshot, Snapshot)>| {
            for (_, b, o, t) in v.iter_mut() {
                b.sse = Some(sse);
                o.sse = Some(sse);
                t.sse.get_or_insert(sse);
            }
            v
        };
        assert_eq!(run(&with_sse(streams(|_, _| {}))).unwrap(), 40);
        let d = run(&with_sse(streams(|n, s| {
            if n == 12 {
                let mut y = sse;
                y.xmm[5] ^= 1 << 100;
                s.sse = Some(y);
            }
        })))
        .unwrap_err();
        assert_eq!((d.n, d.mismatch.xmm, d.mismatch.mxcsr), (12, 1 << 5, 0));
        assert_eq!(d.mismatch.summary(), "xmm5");
        let r = d.to_string();
        let line = r.lines().find(|l| l.starts_with("* xmm5")).expect(&r);
        assert!(line.contains(&hex128(sse.xmm[5])) && line.contains(&hex128(sse.xmm[5] ^ 1 << 100)), "{r}");
        assert!(!r.lines().any(|l| l.starts_with("* ") && !l.starts_with("* xmm5")), "{r}");
        let d = run(&with_sse(streams(|n, s| {
            if n == 31 {
                s.sse = Some(Sse { mxcsr: 0x1fa0, ..sse });
            }
        })))
        .unwrap_err();
        assert_eq!((d.n, d.mismatch.xmm, d.mismatch.mxcsr), (31, 0, 0x20));
        assert_eq!(d.mismatch.summary(), "mxcsr (PE)");
        let r = d.to_string();
        let line = r.lines().find(|l| l.starts_with("* mxcsr")).expect(&r);
        assert!(line.contains("0x00001f80") && line.contains("0x00001fa0"), "{r}");
        assert!(r.contains("mxcsr differs in: PE"), "{r}");
    }

    /// Against QEMU (errata taken), MXCSR's exception flags are taken from it after
    /// an instruction other than LDMXCSR/FXRSTOR, its control bits never; the
    /// reciprocal approximations are compared against the host CPU only; the
    /// sign+exponent of a register an MMX instruction wrote is QEMU's.
    #[test]
    fn sse_masks_and_fixups() {
        use growsdown_cpu::fpu::float80::F80;
        let sse = Sse { xmm: [7; 8], mxcsr: 0x1f80 };
        let check = |bytes: &[u8], errata: bool, host: bool, theirs: Snapshot| {
            let insn = decode_one(bytes, 0x1000).unwrap();
            let ours = Snapshot { eip: 0x1000 + bytes.len() as u32, sse: Some(sse), ..Snapshot::default() };
            let before = Snapshot { eip: 0x1000, ..ours };
            let mut d = Differ::new(if host { "native" } else { "qemu" }, 2);
            d.qemu_errata = errata;
            d.host_cpu = host;
            let theirs = Snapshot { eip: ours.eip, ..theirs };
            d.check(&insn, &before, &ours, &theirs)
        };
        let addps = [0x0f, 0x58, 0xc1];
        let ldmxcsr = [0x0f, 0xae, 0x10];
        let pe = Snapshot { sse: Some(Sse { mxcsr: 0x1fa0, ..sse }), ..Snapshot::default() };
        let fix = check(&addps, true, false, pe).unwrap();
        assert_eq!(fix.mxcsr, Some(0x1fa0));
        assert_eq!(check(&addps, false, false, pe).unwrap_err().mismatch.mxcsr, 0x20);
        assert_eq!(check(&ldmxcsr, true, false, pe).unwrap_err().mismatch.mxcsr, 0x20);
        let rc = Snapshot { sse: Some(Sse { mxcsr: 0x3f80, ..sse }), ..Snapshot::default() };
        assert_eq!(check(&addps, true, false, rc).unwrap_err().mismatch.mxcsr, 0x2000);
        // rcpps xmm3, xmm1: xmm3 differs.
        let rcpps = [0x0f, 0x53, 0xd9];
        let mut x = sse;
        x.xmm[3] = 0x3f80_0000;
        let other = Snapshot { sse: Some(x), ..Snapshot::default() };
        assert_eq!(check(&rcpps, true, false, other).unwrap().xmm, Some((3, 0x3f80_0000)));
        assert_eq!(check(&rcpps, false, true, other).unwrap_err().mismatch.xmm, 1 << 3);
        // ... but no other register.
        x.xmm[4] = 1;
        let other = Snapshot { sse: Some(x), ..Snapshot::default() };
        assert_eq!(check(&rcpps, true, false, other).unwrap_err().mismatch.xmm, 1 << 4);
        // paddb mm1, mm2 with the exponent of R1 all ones here, QEMU's unchanged.
        let x87 = |se: u16| {
            let mut v = X87 { fcw: 0x37f, valid: 0xff, tags_known: true, ..X87::default() };
            v.r[1] = F80 { sig: 5, se };
            Some(v)
        };
        let paddb = [0x0f, 0xfc, 0xca];
        let insn = decode_one(&paddb, 0x1000).unwrap();
        let ours = Snapshot { eip: 0x1003, x87: x87(0xffff), ..Snapshot::default() };
        let theirs = Snapshot { x87: x87(0x4001), ..ours };
        let mut d = Differ::new("qemu", 2);
        d.qemu_errata = true;
        let fix = d.check(&insn, &ours, &ours, &theirs).unwrap();
        assert_eq!(fix.fpr_se.map(|(m, se)| (m, se[1])), Some((1 << 1, 0x4001)));
        d.qemu_errata = false;
        assert_eq!(d.check(&insn, &ours, &ours, &theirs).unwrap_err().mismatch.fpr, 1 << 1);
    }

    #[test]
    fn history_keeps_the_last_k() {
        let mut h = History::new(3);
        let insn = decode_one(&[0x90], 0).unwrap();
        for n in 1..=10 {
            h.push(Executed { n, eip: n as u32, insn });
        }
        let e = h.entries();
        assert_eq!(e.iter().map(|e| e.n).collect::<Vec<_>>(), vec![8, 9, 10]);
        assert!(e[0].line().ends_with("0x00000008  nop"));
    }
}
