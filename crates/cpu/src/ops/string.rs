//! String instructions: MOVS, STOS, LODS, CMPS, SCAS in 8/16/32-bit widths, both
//! directions, with REP / REPE / REPNE and the 16-bit address size (SI, DI, CX).
//!
//! The source is `seg:eSI` (DS unless overridden), the destination always `ES:eDI`.
//!
//! Precise faults. An element is all-or-nothing: its source is read (translated) before
//! its destination is translated for writing, and an element that straddles a page is
//! written only once both pages are known writable, so a MOVSD crossing into an
//! unmapped page faults with CR2 at the first byte of that page and writes nothing. The
//! host does the same for a single MOVSD; inside REP MOVSD its fast-string microcode
//! has been seen to store the mapped part of the straddling element before faulting —
//! we keep the stricter behaviour.
//!
//! REP. ECX/ESI/EDI (CX/SI/DI) are committed after every element, so a fault in the
//! middle leaves them "as far as they got" and EIP at the REP instruction, which then
//! restarts where it stopped (SDM Vol. 2 REP: the instruction is restartable). The loop
//! always runs to completion otherwise; it is never interrupted. To be fast for large
//! counts it works a run of elements at a time: a run stays within one page of the
//! source and one of the destination (and within the 64 KiB index space under 0x67),
//! so it translates those pages once, then moves bytes in physical memory. Faults can
//! only happen when a run starts, where the registers are already exact. Overlapping
//! MOVS runs (in physical addresses) are copied element by element, so the classic
//! `rep movsb` with EDI = ESI + 1 replicates a byte exactly as the hardware does.
//! An element that straddles a page or the 64 KiB wrap goes through the ordinary
//! one-element path.
//!
//! MOVS/STOS/LODS treat F2 (REPNE) like F3 (REP), as the hardware does.

use crate::uop::Uop;

use crate::exception::Exception;
use crate::handlers;
use crate::mmu::{AccessKind, PAGE_SIZE};
use crate::operand::Int;
use crate::ops::mov::accumulator;
use crate::seg::SegReg;
use crate::state::{ECX, EDI, ESI};
use crate::table::Table;
use crate::Cpu;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    Movs,
    Stos,
    Lods,
    Cmps,
    Scas,
}

impl Op {
    fn reads_src(self) -> bool {
        matches!(self, Op::Movs | Op::Lods | Op::Cmps)
    }
    fn uses_dst(self) -> bool {
        !matches!(self, Op::Lods)
    }
    fn compares(self) -> bool {
        matches!(self, Op::Cmps | Op::Scas)
    }
}

/// Per-instruction parameters.
#[derive(Clone, Copy)]
struct Params {
    /// 0x67: SI/DI/CX, wrapping at 64 KiB.
    a16: bool,
    size: u32,
    /// +size or -size (DF), as a wrapping u32.
    step: u32,
    src_seg: SegReg,
}

impl Params {
    fn new<T: Int>(cpu: &Cpu, insn: &Uop) -> Self {
        let a16 = insn.addr16();
        let size = T::BITS / 8;
        let step = if cpu.flags.df() { size.wrapping_neg() } else { size };
        let src_seg = insn.segment();
        Self { a16, size, step, src_seg }
    }

    #[inline(always)]
    fn get(&self, cpu: &Cpu, r: usize) -> u32 {
        if self.a16 {
            cpu.regs[r] & 0xffff
        } else {
            cpu.regs[r]
        }
    }

    #[inline(always)]
    fn set(&self, cpu: &mut Cpu, r: usize, v: u32) {
        if self.a16 {
            cpu.regs[r] = (cpu.regs[r] & 0xffff_0000) | (v & 0xffff);
        } else {
            cpu.regs[r] = v;
        }
    }

    /// Moves index register `r` by `n` elements.
    #[inline(always)]
    fn advance(&self, cpu: &mut Cpu, r: usize, n: u32) {
        let v = self.get(cpu, r).wrapping_add(self.step.wrapping_mul(n));
        self.set(cpu, r, v);
    }

    fn backward(&self) -> bool {
        self.step != self.size
    }

    /// How many elements starting at index value `idx` (linear address `lin`) lie in
    /// one page and, under 0x67, before the index wraps; 0 if the first one straddles.
    fn run_len(&self, idx: u32, lin: u32) -> u32 {
        let off = lin & (PAGE_SIZE - 1);
        if off + self.size > PAGE_SIZE {
            return 0;
        }
        let mut n = if self.backward() { off / self.size + 1 } else { (PAGE_SIZE - off) / self.size };
        if self.a16 {
            if idx + self.size > 0x1_0000 {
                return 0;
            }
            n = n.min(if self.backward() { idx / self.size + 1 } else { (0x1_0000 - idx) / self.size });
        }
        n
    }

    /// Lowest physical address of a run of `n` elements whose first is at `p`.
    fn run_low(&self, p: u32, n: u32) -> u32 {
        if self.backward() {
            p.wrapping_sub((n - 1) * self.size)
        } else {
            p
        }
    }
}

fn translate(cpu: &mut Cpu, lin: u32, kind: AccessKind) -> Result<u32, Exception> {
    cpu.mmu.translate(lin, kind).map_err(Exception::from)
}

/// One element through the ordinary accessors (any alignment, page-crossing, fault
/// order source-then-destination). Commits the index registers; returns the pair
/// compared (for CMPS/SCAS).
fn one<T: Int>(cpu: &mut Cpu, p: &Params, op: Op) -> Result<(T, T), Exception> {
    let src = if op.reads_src() {
        let lin = cpu.seg_access(p.src_seg, p.get(cpu, ESI), T::BITS / 8, false)?;
        cpu.read_mem::<T>(lin)?
    } else {
        T::default()
    };
    let writes = matches!(op, Op::Movs | Op::Stos);
    let dst_lin =
        if op.uses_dst() { cpu.seg_access(SegReg::Es, p.get(cpu, EDI), T::BITS / 8, writes)? } else { 0 };
    let acc = accumulator::<T>();
    let pair = match op {
        Op::Movs => {
            cpu.write_mem::<T>(dst_lin, src)?;
            (src, src)
        }
        Op::Stos => {
            let v = T::get_reg(cpu, acc);
            cpu.write_mem::<T>(dst_lin, v)?;
            (v, v)
        }
        Op::Lods => {
            T::set_reg(cpu, acc, src);
            (src, src)
        }
        Op::Cmps => (src, cpu.read_mem::<T>(dst_lin)?),
        Op::Scas => (T::get_reg(cpu, acc), cpu.read_mem::<T>(dst_lin)?),
    };
    if op.reads_src() {
        p.advance(cpu, ESI, 1);
    }
    if op.uses_dst() {
        p.advance(cpu, EDI, 1);
    }
    Ok(pair)
}

#[inline(always)]
fn record_compare<T: Int>(cpu: &mut Cpu, (a, b): (T, T)) {
    cpu.flags.sub(a, b, T::from_u32(a.u32().wrapping_sub(b.u32())));
}

/// Whether a REPE/REPNE loop stops after comparing `a` with `b`.
#[inline(always)]
fn stops<T: Int>(repne: bool, (a, b): (T, T)) -> bool {
    (a == b) == repne
}

/// Calls `f` with `bytes` (at most a page) of zeroed stack space. Most REP MOVS/STOS
/// move a few dozen bytes: zeroing a page-sized buffer for each would cost more than
/// the copy.
#[inline(always)]
fn with_staging(bytes: usize, f: impl FnOnce(&mut [u8])) {
    if bytes <= 256 {
        f(&mut [0u8; 256][..bytes]);
    } else {
        f(&mut [0u8; PAGE_SIZE as usize][..bytes]);
    }
}

/// A run of `n` (>= 1) elements entirely inside one source page and one destination
/// page. Translates them (the only point that can fault), then works on physical
/// memory. Returns how many elements it completed and, for CMPS/SCAS, the last pair.
fn run<T: Int>(
    cpu: &mut Cpu,
    p: &Params,
    op: Op,
    n: u32,
    src_lin: u32,
    dst_lin: u32,
    repne: bool,
) -> Result<(u32, Option<(T, T)>), Exception> {
    let ps = if op.reads_src() { translate(cpu, src_lin, AccessKind::UserRead)? } else { 0 };
    let pd = if op.uses_dst() {
        let kind =
            if op == Op::Movs || op == Op::Stos { AccessKind::UserWrite } else { AccessKind::UserRead };
        translate(cpu, dst_lin, kind)?
    } else {
        0
    };
    let bytes = (n * p.size) as usize;
    let at = |base: u32, i: u32| base.wrapping_add(p.step.wrapping_mul(i));
    match op {
        Op::Movs => {
            let (s_lo, d_lo) = (p.run_low(ps, n), p.run_low(pd, n));
            let disjoint = s_lo.wrapping_add(bytes as u32) <= d_lo || d_lo.wrapping_add(bytes as u32) <= s_lo;
            if disjoint {
                with_staging(bytes, |buf| {
                    cpu.mmu.phys().read_bytes(s_lo, buf);
                    cpu.mmu.phys_mut().write_bytes(d_lo, buf);
                });
            } else {
                for i in 0..n {
                    let v = T::load(cpu.mmu.phys(), at(ps, i));
                    v.store(cpu.mmu.phys_mut(), at(pd, i));
                }
            }
            Ok((n, None))
        }
        Op::Stos => {
            let v = T::get_reg(cpu, accumulator::<T>());
            with_staging(bytes, |buf| {
                for chunk in buf.chunks_exact_mut(p.size as usize) {
                    v.to_le(chunk);
                }
                cpu.mmu.phys_mut().write_bytes(p.run_low(pd, n), buf);
            });
            Ok((n, None))
        }
        Op::Lods => {
            let v = T::load(cpu.mmu.phys(), at(ps, n - 1));
            T::set_reg(cpu, accumulator::<T>(), v);
            Ok((n, None))
        }
        Op::Cmps | Op::Scas => {
            let acc = T::get_reg(cpu, accumulator::<T>());
            let mut pair = (acc, acc);
            for i in 0..n {
                let a = if op == Op::Cmps { T::load(cpu.mmu.phys(), at(ps, i)) } else { acc };
                pair = (a, T::load(cpu.mmu.phys(), at(pd, i)));
                if stops(repne, pair) {
                    return Ok((i + 1, Some(pair)));
                }
            }
            Ok((n, Some(pair)))
        }
    }
}

/// The REP loop: until the count is 0 (or a REPE/REPNE condition ends it), runs of
/// elements, committing the registers after each.
fn rep<T: Int>(cpu: &mut Cpu, p: &Params, op: Op, repne: bool) -> Result<(), Exception> {
    loop {
        let count = p.get(cpu, ECX);
        if count == 0 {
            return Ok(());
        }
        let si = p.get(cpu, ESI);
        let di = p.get(cpu, EDI);
        let src_lin = if op.reads_src() { cpu.linear(p.src_seg, si)? } else { 0 };
        let dst_lin = if op.uses_dst() { cpu.linear(SegReg::Es, di)? } else { 0 };
        let mut n = count;
        if op.reads_src() {
            n = n.min(p.run_len(si, src_lin));
        }
        if op.uses_dst() {
            n = n.min(p.run_len(di, dst_lin));
        }
        // A segment with limit or type checks to make: element by element.
        if (op.reads_src() && !cpu.segs[p.src_seg as usize].open)
            || (op.uses_dst() && !cpu.segs[SegReg::Es as usize].open)
        {
            n = 0;
        }
        let (done, last) = if n == 0 {
            let pair = one::<T>(cpu, p, op)?;
            (1, op.compares().then_some(pair))
        } else {
            let (done, last) = run::<T>(cpu, p, op, n, src_lin, dst_lin, repne)?;
            if op.reads_src() {
                p.advance(cpu, ESI, done);
            }
            if op.uses_dst() {
                p.advance(cpu, EDI, done);
            }
            (done, last)
        };
        p.set(cpu, ECX, count.wrapping_sub(done));
        if let Some(pair) = last {
            record_compare(cpu, pair);
            if stops(repne, pair) {
                return Ok(());
            }
        }
    }
}

fn string<T: Int>(cpu: &mut Cpu, insn: &Uop, op: Op) -> Result<(), Exception> {
    let p = Params::new::<T>(cpu, insn);
    let (rep_f3, rep_f2) = (insn.has_rep_prefix(), insn.has_repne_prefix());
    if !rep_f3 && !rep_f2 {
        let pair = one::<T>(cpu, &p, op)?;
        if op.compares() {
            record_compare(cpu, pair);
        }
        return Ok(());
    }
    // REPNE means "stop on equal" only for the comparing instructions.
    rep::<T>(cpu, &p, op, rep_f2 && op.compares())
}

/// MOVS: ES:[eDI] := seg:[eSI].
pub fn movs<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    string::<T>(cpu, insn, Op::Movs)
}

/// STOS: ES:[eDI] := AL/AX/EAX.
pub fn stos<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    string::<T>(cpu, insn, Op::Stos)
}

/// LODS: AL/AX/EAX := seg:[eSI].
pub fn lods<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    string::<T>(cpu, insn, Op::Lods)
}

/// CMPS: flags of seg:[eSI] - ES:[eDI].
pub fn cmps<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    string::<T>(cpu, insn, Op::Cmps)
}

/// SCAS: flags of AL/AX/EAX - ES:[eDI].
pub fn scas<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    string::<T>(cpu, insn, Op::Scas)
}

pub(crate) fn register(t: &mut Table) {
    handlers!(t, movs::<u8> => Movsb_m8_m8);
    handlers!(t, movs::<u16> => Movsw_m16_m16);
    handlers!(t, movs::<u32> => Movsd_m32_m32);
    handlers!(t, stos::<u8> => Stosb_m8_AL);
    handlers!(t, stos::<u16> => Stosw_m16_AX);
    handlers!(t, stos::<u32> => Stosd_m32_EAX);
    handlers!(t, lods::<u8> => Lodsb_AL_m8);
    handlers!(t, lods::<u16> => Lodsw_AX_m16);
    handlers!(t, lods::<u32> => Lodsd_EAX_m32);
    handlers!(t, cmps::<u8> => Cmpsb_m8_m8);
    handlers!(t, cmps::<u16> => Cmpsw_m16_m16);
    handlers!(t, cmps::<u32> => Cmpsd_m32_m32);
    handlers!(t, scas::<u8> => Scasb_AL_m8);
    handlers!(t, scas::<u16> => Scasw_AX_m16);
    handlers!(t, scas::<u32> => Scasd_EAX_m32);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(a16: bool, size: u32, backward: bool) -> Params {
        let step = if backward { size.wrapping_neg() } else { size };
        Params { a16, size, step, src_seg: SegReg::Ds }
    }

    #[test]
    fn runs_stop_at_page_ends_in_both_directions() {
        let fwd = params(false, 4, false);
        assert_eq!(fwd.run_len(0x1000, 0x1000), 1024);
        assert_eq!(fwd.run_len(0x1ffc, 0x1ffc), 1);
        assert_eq!(fwd.run_len(0x1ffd, 0x1ffd), 0, "straddles");
        assert_eq!(fwd.run_len(0x1065, 0x1065), (0x1000 - 0x65) / 4);
        let back = params(false, 4, true);
        assert_eq!(back.run_len(0x1ffc, 0x1ffc), 1024);
        assert_eq!(back.run_len(0x1002, 0x1002), 1);
        assert_eq!(back.run_len(0x1ffe, 0x1ffe), 0, "straddles");
        assert_eq!(back.run_low(0x5ffc, 1024), 0x5000);
        assert_eq!(fwd.run_low(0x5000, 1024), 0x5000);
    }

    #[test]
    fn sixteen_bit_runs_stop_before_the_index_wraps() {
        // Linear addresses far from a page end, index close to 64 KiB.
        let fwd = params(true, 2, false);
        assert_eq!(fwd.run_len(0xfff0, 0x3000_0100), 8);
        assert_eq!(fwd.run_len(0xffff, 0x3000_0100), 0, "element would wrap");
        let back = params(true, 2, true);
        assert_eq!(back.run_len(0x0004, 0x3000_0100), 3);
        assert_eq!(back.run_len(0x0001, 0x3000_0100), 1);
    }
}
