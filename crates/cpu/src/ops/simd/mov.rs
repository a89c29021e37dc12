//! MMX, SSE, SSE2, SSE3 and SSSE3 data movement: the moves between XMM, MMX, general
//! registers and memory (MOVD/MOVQ, the aligned, unaligned, scalar, half and
//! non-temporal moves, the byte-masked stores, the SSE3 duplicating loads), MOVMSK and
//! PMOVMSKB, PEXTRW/PINSRW, the shuffles (PSHUF*, SHUFPS/SHUFPD, PSHUFB, PALIGNR), the
//! unpacks and the saturating packs.
//!
//! The instructions that exist for MMX and XMM registers alike are one handler generic
//! over the register file ([`Vreg`]); the lane arithmetic works on a `u128` holding
//! the register's value (an MMX value in its low 64 bits).
//!
//! Precise faults: the memory source is read before any register changes, and a
//! memory destination is the last thing written (one store of the instruction's
//! memory size, which checks every byte before it writes any).

use iced_x86::OpKind;

use crate::exception::Exception;
use crate::handlers;
use crate::simd::xmm_number;
use crate::state::{Cpu, EDI};
use crate::table::Table;
use crate::uop::Uop;

type R = Result<(), Exception>;

/// A register file the data-movement instructions come in: the 64-bit MMX registers
/// or the 128-bit XMM registers.
trait Vreg {
    /// Register width in bytes.
    const BYTES: usize;
    /// The entry checks, and for MMX the switch of the x87 state to MMX use, kept
    /// whatever follows.
    fn enter(cpu: &mut Cpu) -> R;
    /// Runs `body` after the register file's entry checks; for MMX the x87 state is
    /// switched to MMX use, unless `body` faults.
    fn run(cpu: &mut Cpu, body: impl FnOnce(&mut Cpu) -> R) -> R;
    fn get(cpu: &Cpu, i: u8) -> u128;
    fn set(cpu: &mut Cpu, i: u8, v: u128);
}

struct Mm;
struct Xmm;

impl Vreg for Mm {
    const BYTES: usize = 8;
    #[inline(always)]
    fn enter(cpu: &mut Cpu) -> R {
        cpu.mmx_enter()
    }
    #[inline(always)]
    fn run(cpu: &mut Cpu, body: impl FnOnce(&mut Cpu) -> R) -> R {
        mmx(cpu, body)
    }
    #[inline(always)]
    fn get(cpu: &Cpu, i: u8) -> u128 {
        u128::from(cpu.mm(i))
    }
    #[inline(always)]
    fn set(cpu: &mut Cpu, i: u8, v: u128) {
        cpu.set_mm(i, v as u64);
    }
}

impl Vreg for Xmm {
    const BYTES: usize = 16;
    #[inline(always)]
    fn enter(cpu: &mut Cpu) -> R {
        cpu.sse_enter()
    }
    #[inline(always)]
    fn run(cpu: &mut Cpu, body: impl FnOnce(&mut Cpu) -> R) -> R {
        cpu.sse_enter()?;
        body(cpu)
    }
    #[inline(always)]
    fn get(cpu: &Cpu, i: u8) -> u128 {
        cpu.xmm(i)
    }
    #[inline(always)]
    fn set(cpu: &mut Cpu, i: u8, v: u128) {
        cpu.set_xmm(i, v);
    }
}

/// An MMX instruction: [`Cpu::mmx_check`], `body`, then [`Cpu::mmx_transition`]
/// only if `body` did not fault (a memory operand): the host's processor leaves TOP
/// and the tags as they were when an MMX instruction faults (a SIGSEGV frame's
/// FNSAVE image shows the x87 stack unchanged), and a faulting instruction changes
/// no register. `body` writes no MMX register before its last fallible step.
#[inline(always)]
fn mmx(cpu: &mut Cpu, body: impl FnOnce(&mut Cpu) -> R) -> R {
    cpu.mmx_check()?;
    body(cpu)?;
    cpu.mmx_transition();
    Ok(())
}

/// Operand `n` of register file `V`: its register, or memory read at the
/// instruction's memory size, zero-extended (alignment checked for ALIGN16 operands).
#[inline]
fn operand<V: Vreg>(cpu: &mut Cpu, u: &Uop, n: u32) -> Result<u128, Exception> {
    match u.op_kind(n) {
        OpKind::Memory => cpu.read_vec_operand(u),
        _ => Ok(V::get(cpu, xmm_number(u, n))),
    }
}

/// The low `bytes` bytes set.
#[inline(always)]
const fn ones(bytes: usize) -> u128 {
    if bytes >= 16 {
        u128::MAX
    } else {
        (1u128 << (8 * bytes)) - 1
    }
}

/// Lane `k` of `L` bytes of `v`.
#[inline(always)]
fn lane<const L: usize>(v: u128, k: usize) -> u128 {
    (v >> (8 * L * k)) & ones(L)
}

/// `v` with lane `k` of `L` bytes replaced by the low `L` bytes of `x`.
#[inline(always)]
fn with_lane<const L: usize>(v: u128, k: usize, x: u128) -> u128 {
    let sh = 8 * L * k;
    (v & !(ones(L) << sh)) | ((x & ones(L)) << sh)
}

// ---- plain moves ----

/// `op0 = op1` for a whole XMM register or 128-bit memory operand: MOVAPS, MOVUPS,
/// MOVAPD, MOVUPD, MOVDQA, MOVDQU, LDDQU and the non-temporal MOVNTPS/MOVNTPD/MOVNTDQ
/// (the hint has no architectural effect; the alignment rule is the lowering's
/// ALIGN16).
fn mov_xmm(cpu: &mut Cpu, u: &Uop) -> R {
    cpu.sse_enter()?;
    let v = cpu.xmm_operand(u, 1)?;
    cpu.set_xmm_operand(u, 0, v)
}

/// MOVQ with an XMM destination or source (F3 0F 7E, 66 0F D6): 64 bits move; an XMM
/// destination has bits 127:64 cleared, from a register as from memory (SDM Vol. 2
/// MOVQ).
fn movq_xmm(cpu: &mut Cpu, u: &Uop) -> R {
    cpu.sse_enter()?;
    let v = u128::from(cpu.xmm_operand(u, 1)? as u64);
    cpu.set_xmm_operand(u, 0, v)
}

/// MOVQ mm, mm/m64; MOVQ mm/m64, mm; MOVNTQ m64, mm.
fn movq_mm(cpu: &mut Cpu, u: &Uop) -> R {
    mmx(cpu, |cpu| {
        let v = cpu.mm_operand(u, 1)?;
        cpu.set_mm_operand(u, 0, v)
    })
}

/// MOVD mm/xmm, r/m32: the doubleword zero-extended to the whole register.
fn movd_load<V: Vreg>(cpu: &mut Cpu, u: &Uop) -> R {
    V::run(cpu, |cpu| {
        let v = cpu.read_op::<u32>(u, 1)?;
        V::set(cpu, u.r0, u128::from(v));
        Ok(())
    })
}

/// MOVD r/m32, mm/xmm: the register's low doubleword.
fn movd_store<V: Vreg>(cpu: &mut Cpu, u: &Uop) -> R {
    V::run(cpu, |cpu| {
        let v = V::get(cpu, u.r1) as u32;
        cpu.write_op::<u32>(u, 0, v)
    })
}

/// MOVNTI m32, r32. It touches no MMX or XMM register, so none of their entry checks
/// apply (SDM Vol. 2 MOVNTI, "Protected Mode Exceptions": only the memory faults).
fn movnti(cpu: &mut Cpu, u: &Uop) -> R {
    let v = cpu.regs[usize::from(u.r1 & 7)];
    cpu.write_op::<u32>(u, 0, v)
}

/// MOVQ2DQ xmm, mm: both register files' checks, and the MMX transition (SDM Vol. 2
/// MOVQ2DQ: "causes a transition from x87 FPU to MMX technology operation").
fn movq2dq(cpu: &mut Cpu, u: &Uop) -> R {
    cpu.sse_enter()?;
    mmx(cpu, |cpu| {
        let v = cpu.mm(u.r1);
        cpu.set_xmm(u.r0, u128::from(v));
        Ok(())
    })
}

/// MOVDQ2Q mm, xmm: the low quadword.
fn movdq2q(cpu: &mut Cpu, u: &Uop) -> R {
    cpu.sse_enter()?;
    mmx(cpu, |cpu| {
        let v = cpu.xmm(u.r1) as u64;
        cpu.set_mm(u.r0, v);
        Ok(())
    })
}

/// MOVSS / MOVSD (F3/F2 0F 10, 0F 11) with `L`-byte scalars: from memory the scalar
/// is zero-extended to the whole register; to memory `L` bytes are stored; between
/// registers only the low lane changes (SDM Vol. 2 MOVSS, MOVSD).
fn movs<const L: usize>(cpu: &mut Cpu, u: &Uop) -> R {
    cpu.sse_enter()?;
    match (u.op_kind(0), u.op_kind(1)) {
        (_, OpKind::Memory) => {
            let v = cpu.read_vec_operand(u)?;
            cpu.set_xmm(u.r0, v);
            Ok(())
        }
        (OpKind::Memory, _) => cpu.write_vec_operand(u, cpu.xmm(u.r1)),
        _ => {
            let d = cpu.xmm(u.r0);
            cpu.set_xmm(u.r0, with_lane::<L>(d, 0, cpu.xmm(u.r1)));
            Ok(())
        }
    }
}

/// The 64-bit half moves: the source is memory (m64) or half `SRC_HI` of an XMM
/// register; the destination is memory or half `DST_HI` of an XMM register, whose
/// other half is kept. MOVLPS/MOVLPD, MOVHPS/MOVHPD (both directions), MOVHLPS
/// (low := source high) and MOVLHPS (high := source low).
fn mov_half<const DST_HI: bool, const SRC_HI: bool>(cpu: &mut Cpu, u: &Uop) -> R {
    cpu.sse_enter()?;
    let src = match u.op_kind(1) {
        OpKind::Memory => cpu.read_vec_operand(u)?,
        _ => lane::<8>(cpu.xmm(u.r1), usize::from(SRC_HI)),
    };
    match u.op_kind(0) {
        OpKind::Memory => cpu.write_vec_operand(u, src),
        _ => {
            let d = cpu.xmm(u.r0);
            cpu.set_xmm(u.r0, with_lane::<8>(d, usize::from(DST_HI), src));
            Ok(())
        }
    }
}

/// MOVDDUP xmm, xmm/m64: the low quadword (or m64) in both halves.
fn movddup(cpu: &mut Cpu, u: &Uop) -> R {
    cpu.sse_enter()?;
    let q = cpu.xmm_operand(u, 1)? & ones(8);
    cpu.set_xmm(u.r0, q | (q << 64));
    Ok(())
}

/// MOVSLDUP (`ODD` false: doublewords 0, 0, 2, 2) and MOVSHDUP (1, 1, 3, 3).
fn movs_dup<const ODD: bool>(cpu: &mut Cpu, u: &Uop) -> R {
    cpu.sse_enter()?;
    let s = cpu.xmm_operand(u, 1)?;
    let mut r = 0;
    for k in 0..4 {
        r = with_lane::<4>(r, k, lane::<4>(s, (k & !1) | usize::from(ODD)));
    }
    cpu.set_xmm(u.r0, r);
    Ok(())
}

/// MASKMOVQ / MASKMOVDQU: the bytes of the first register whose byte in the mask
/// register has bit 7 set are stored at DS:EDI (segment overridable, DI under a 0x67
/// prefix). The store is checked as a whole register-width store before any byte is
/// written, whatever the mask: the SDM leaves faults with unselected bytes
/// implementation-specific (Vol. 2 MASKMOVDQU), and this host's processor faults on an
/// unwritable byte of the operand even with an all-zero mask, writing nothing. Unlike
/// the other MMX instructions, a faulting MASKMOVQ has switched the x87 state to MMX
/// use on the host (TOP 0, all tags valid in the SIGSEGV frame), so it is not undone.
fn maskmov<V: Vreg>(cpu: &mut Cpu, u: &Uop) -> R {
    V::enter(cpu)?;
    let data = V::get(cpu, u.r1).to_le_bytes();
    let mask = V::get(cpu, xmm_number(u, 2)).to_le_bytes();
    let edi = cpu.regs[EDI];
    let off = if u.addr16() { edi & 0xffff } else { edi };
    let lin = cpu.linear(u.segment(), off)?;
    cpu.probe_write(lin, V::BYTES as u32)?;
    for i in 0..V::BYTES {
        if mask[i] & 0x80 != 0 {
            cpu.write_bytes(lin.wrapping_add(i as u32), &data[i..=i])?;
        }
    }
    Ok(())
}

// ---- masks, inserts, extracts ----

/// MOVMSKPS (`L` = 4), MOVMSKPD (8), PMOVMSKB (1): the top bit of each `L`-byte lane,
/// lane k in bit k of the general register, the rest cleared.
fn movmsk<V: Vreg, const L: usize>(cpu: &mut Cpu, u: &Uop) -> R {
    V::run(cpu, |cpu| {
        let v = V::get(cpu, u.r1);
        let mut m = 0u32;
        for k in 0..V::BYTES / L {
            m |= ((lane::<L>(v, k) >> (8 * L - 1)) as u32 & 1) << k;
        }
        cpu.regs[usize::from(u.r0 & 7)] = m;
        Ok(())
    })
}

/// PEXTRW r32, mm/xmm, imm8: the selected word zero-extended; the index is taken
/// modulo the number of words.
fn pextrw<V: Vreg>(cpu: &mut Cpu, u: &Uop) -> R {
    V::run(cpu, |cpu| {
        let k = usize::from(u.immediate8()) & (V::BYTES / 2 - 1);
        let w = lane::<2>(V::get(cpu, u.r1), k) as u32;
        cpu.regs[usize::from(u.r0 & 7)] = w;
        Ok(())
    })
}

/// PINSRW mm/xmm, r32/m16, imm8: the low word of the source into the selected word.
fn pinsrw<V: Vreg>(cpu: &mut Cpu, u: &Uop) -> R {
    V::run(cpu, |cpu| {
        let w = match u.op_kind(1) {
            OpKind::Memory => cpu.read_vec_operand(u)?,
            _ => u128::from(cpu.regs[usize::from(u.r1 & 7)]),
        };
        let k = usize::from(u.immediate8()) & (V::BYTES / 2 - 1);
        let d = V::get(cpu, u.r0);
        V::set(cpu, u.r0, with_lane::<2>(d, k, w));
        Ok(())
    })
}

// ---- shuffles, unpacks, packs: dst := f(dst, src, imm8) ----

/// The common shape of the two-operand lane operations: read the source (register or
/// memory), then replace the destination register.
#[inline(always)]
fn combine<V: Vreg>(cpu: &mut Cpu, u: &Uop, f: impl Fn(u128, u128, u8) -> u128) -> R {
    V::run(cpu, |cpu| {
        let s = operand::<V>(cpu, u, 1)?;
        let d = V::get(cpu, u.r0);
        V::set(cpu, u.r0, f(d, s, u.immediate8()) & ones(V::BYTES));
        Ok(())
    })
}

/// PSHUFW (MMX, words), PSHUFD (doublewords), PSHUFLW (`FIRST` = 0) and PSHUFHW
/// (`FIRST` = 4): four `L`-byte lanes of the source starting at lane `FIRST` are
/// picked by the imm8's two-bit fields; the other lanes are copied from the source.
fn pshuf<V: Vreg, const L: usize, const FIRST: usize>(cpu: &mut Cpu, u: &Uop) -> R {
    combine::<V>(cpu, u, |_, s, imm| {
        let mut r = s;
        for k in 0..4 {
            let pick = usize::from(imm >> (2 * k)) & 3;
            r = with_lane::<L>(r, FIRST + k, lane::<L>(s, FIRST + pick));
        }
        r
    })
}

/// SHUFPS: the low two doublewords picked from the destination, the high two from the
/// source, by the imm8's two-bit fields.
fn shufps(cpu: &mut Cpu, u: &Uop) -> R {
    combine::<Xmm>(cpu, u, |d, s, imm| {
        let mut r = 0;
        for k in 0..4 {
            let from = if k < 2 { d } else { s };
            r = with_lane::<4>(r, k, lane::<4>(from, usize::from(imm >> (2 * k)) & 3));
        }
        r
    })
}

/// SHUFPD: the low quadword from the destination (imm8 bit 0), the high one from the
/// source (bit 1).
fn shufpd(cpu: &mut Cpu, u: &Uop) -> R {
    combine::<Xmm>(cpu, u, |d, s, imm| {
        lane::<8>(d, usize::from(imm & 1)) | lane::<8>(s, usize::from(imm >> 1 & 1)) << 64
    })
}

/// PSHUFB: each destination byte becomes the destination byte the source byte's low
/// bits select (3 bits for MMX, 4 for XMM), or 0 if the source byte's bit 7 is set.
fn pshufb<V: Vreg>(cpu: &mut Cpu, u: &Uop) -> R {
    combine::<V>(cpu, u, |d, s, _| {
        let (d, s) = (d.to_le_bytes(), s.to_le_bytes());
        let mut r = [0u8; 16];
        for i in 0..V::BYTES {
            if s[i] & 0x80 == 0 {
                r[i] = d[usize::from(s[i]) & (V::BYTES - 1)];
            }
        }
        u128::from_le_bytes(r)
    })
}

/// PALIGNR: the destination:source concatenation (source in the low half) shifted
/// right by imm8 bytes, the low register width kept; zeros shift in.
fn palignr<V: Vreg>(cpu: &mut Cpu, u: &Uop) -> R {
    combine::<V>(cpu, u, |d, s, imm| {
        let mut cat = [0u8; 32];
        cat[..V::BYTES].copy_from_slice(&s.to_le_bytes()[..V::BYTES]);
        cat[V::BYTES..2 * V::BYTES].copy_from_slice(&d.to_le_bytes()[..V::BYTES]);
        let mut r = [0u8; 16];
        for (i, b) in r.iter_mut().enumerate().take(V::BYTES) {
            *b = cat.get(i + usize::from(imm)).copied().unwrap_or(0);
        }
        u128::from_le_bytes(r)
    })
}

/// PUNPCKL*/PUNPCKH*, UNPCKLPS/PD, UNPCKHPS/PD: the `L`-byte lanes of the low
/// (`HIGH` false) or high half of destination and source interleaved, destination
/// first. The MMX low forms read only 32 bits of memory (m32), which is all they use.
fn unpack<V: Vreg, const L: usize, const HIGH: bool>(cpu: &mut Cpu, u: &Uop) -> R {
    combine::<V>(cpu, u, |d, s, _| {
        let half = V::BYTES / L / 2;
        let first = if HIGH { half } else { 0 };
        let mut r = 0;
        for k in 0..half {
            r = with_lane::<L>(r, 2 * k, lane::<L>(d, first + k));
            r = with_lane::<L>(r, 2 * k + 1, lane::<L>(s, first + k));
        }
        r
    })
}

/// PACKSSWB, PACKSSDW (`UNSIGNED` false) and PACKUSWB: each signed `L`-byte lane of
/// the destination, then of the source, saturated to a signed or unsigned lane of half
/// the width.
fn pack<V: Vreg, const L: usize, const UNSIGNED: bool>(cpu: &mut Cpu, u: &Uop) -> R {
    combine::<V>(cpu, u, |d, s, _| {
        let bits = 8 * L as u32;
        let (lo, hi) = if UNSIGNED {
            (0, (1i64 << (bits / 2)) - 1)
        } else {
            (-(1i64 << (bits / 2 - 1)), (1i64 << (bits / 2 - 1)) - 1)
        };
        let n = V::BYTES / L;
        let mut r = 0u128;
        for k in 0..2 * n {
            let (from, j) = if k < n { (d, k) } else { (s, k - n) };
            let x = ((lane::<L>(from, j) as i64) << (64 - bits)) >> (64 - bits);
            r |= ((x.clamp(lo, hi) as u128) & ones(L / 2)) << (4 * L * k);
        }
        r
    })
}

pub(crate) fn register(t: &mut Table) {
    handlers!(t, mov_xmm =>
        Movaps_xmm_xmmm128, Movaps_xmmm128_xmm, Movups_xmm_xmmm128, Movups_xmmm128_xmm,
        Movapd_xmm_xmmm128, Movapd_xmmm128_xmm, Movupd_xmm_xmmm128, Movupd_xmmm128_xmm,
        Movdqa_xmm_xmmm128, Movdqa_xmmm128_xmm, Movdqu_xmm_xmmm128, Movdqu_xmmm128_xmm,
        Lddqu_xmm_m128, Movntps_m128_xmm, Movntpd_m128_xmm, Movntdq_m128_xmm);
    handlers!(t, movq_xmm => Movq_xmm_xmmm64, Movq_xmmm64_xmm);
    handlers!(t, movq_mm => Movq_mm_mmm64, Movq_mmm64_mm, Movntq_m64_mm);
    handlers!(t, movd_load::<Mm> => Movd_mm_rm32);
    handlers!(t, movd_load::<Xmm> => Movd_xmm_rm32);
    handlers!(t, movd_store::<Mm> => Movd_rm32_mm);
    handlers!(t, movd_store::<Xmm> => Movd_rm32_xmm);
    handlers!(t, movnti => Movnti_m32_r32);
    handlers!(t, movq2dq => Movq2dq_xmm_mm);
    handlers!(t, movdq2q => Movdq2q_mm_xmm);
    handlers!(t, movs::<4> => Movss_xmm_xmmm32, Movss_xmmm32_xmm);
    handlers!(t, movs::<8> => Movsd_xmm_xmmm64, Movsd_xmmm64_xmm);
    handlers!(t, mov_half::<false, false> => Movlps_xmm_m64, Movlpd_xmm_m64, Movlps_m64_xmm, Movlpd_m64_xmm);
    handlers!(t, mov_half::<true, false> => Movhps_xmm_m64, Movhpd_xmm_m64, Movlhps_xmm_xmm);
    handlers!(t, mov_half::<false, true> => Movhps_m64_xmm, Movhpd_m64_xmm, Movhlps_xmm_xmm);
    handlers!(t, movddup => Movddup_xmm_xmmm64);
    handlers!(t, movs_dup::<false> => Movsldup_xmm_xmmm128);
    handlers!(t, movs_dup::<true> => Movshdup_xmm_xmmm128);
    handlers!(t, maskmov::<Mm> => Maskmovq_rDI_mm_mm);
    handlers!(t, maskmov::<Xmm> => Maskmovdqu_rDI_xmm_xmm);

    handlers!(t, movmsk::<Xmm, 4> => Movmskps_r32_xmm);
    handlers!(t, movmsk::<Xmm, 8> => Movmskpd_r32_xmm);
    handlers!(t, movmsk::<Mm, 1> => Pmovmskb_r32_mm);
    handlers!(t, movmsk::<Xmm, 1> => Pmovmskb_r32_xmm);
    handlers!(t, pextrw::<Mm> => Pextrw_r32_mm_imm8);
    handlers!(t, pextrw::<Xmm> => Pextrw_r32_xmm_imm8);
    handlers!(t, pinsrw::<Mm> => Pinsrw_mm_r32m16_imm8);
    handlers!(t, pinsrw::<Xmm> => Pinsrw_xmm_r32m16_imm8);

    handlers!(t, pshuf::<Mm, 2, 0> => Pshufw_mm_mmm64_imm8);
    handlers!(t, pshuf::<Xmm, 4, 0> => Pshufd_xmm_xmmm128_imm8);
    handlers!(t, pshuf::<Xmm, 2, 0> => Pshuflw_xmm_xmmm128_imm8);
    handlers!(t, pshuf::<Xmm, 2, 4> => Pshufhw_xmm_xmmm128_imm8);
    handlers!(t, shufps => Shufps_xmm_xmmm128_imm8);
    handlers!(t, shufpd => Shufpd_xmm_xmmm128_imm8);
    handlers!(t, pshufb::<Mm> => Pshufb_mm_mmm64);
    handlers!(t, pshufb::<Xmm> => Pshufb_xmm_xmmm128);
    handlers!(t, palignr::<Mm> => Palignr_mm_mmm64_imm8);
    handlers!(t, palignr::<Xmm> => Palignr_xmm_xmmm128_imm8);

    handlers!(t, unpack::<Mm, 1, false> => Punpcklbw_mm_mmm32);
    handlers!(t, unpack::<Mm, 2, false> => Punpcklwd_mm_mmm32);
    handlers!(t, unpack::<Mm, 4, false> => Punpckldq_mm_mmm32);
    handlers!(t, unpack::<Mm, 1, true> => Punpckhbw_mm_mmm64);
    handlers!(t, unpack::<Mm, 2, true> => Punpckhwd_mm_mmm64);
    handlers!(t, unpack::<Mm, 4, true> => Punpckhdq_mm_mmm64);
    handlers!(t, unpack::<Xmm, 1, false> => Punpcklbw_xmm_xmmm128);
    handlers!(t, unpack::<Xmm, 2, false> => Punpcklwd_xmm_xmmm128);
    handlers!(t, unpack::<Xmm, 4, false> => Punpckldq_xmm_xmmm128, Unpcklps_xmm_xmmm128);
    handlers!(t, unpack::<Xmm, 8, false> => Punpcklqdq_xmm_xmmm128, Unpcklpd_xmm_xmmm128);
    handlers!(t, unpack::<Xmm, 1, true> => Punpckhbw_xmm_xmmm128);
    handlers!(t, unpack::<Xmm, 2, true> => Punpckhwd_xmm_xmmm128);
    handlers!(t, unpack::<Xmm, 4, true> => Punpckhdq_xmm_xmmm128, Unpckhps_xmm_xmmm128);
    handlers!(t, unpack::<Xmm, 8, true> => Punpckhqdq_xmm_xmmm128, Unpckhpd_xmm_xmmm128);

    handlers!(t, pack::<Mm, 2, false> => Packsswb_mm_mmm64);
    handlers!(t, pack::<Mm, 4, false> => Packssdw_mm_mmm64);
    handlers!(t, pack::<Mm, 2, true> => Packuswb_mm_mmm64);
    handlers!(t, pack::<Xmm, 2, false> => Packsswb_xmm_xmmm128);
    handlers!(t, pack::<Xmm, 4, false> => Packssdw_xmm_xmmm128);
    handlers!(t, pack::<Xmm, 2, true> => Packuswb_xmm_xmmm128);
}
