//! Packed integer arithmetic, compares, logic and shifts of MMX, SSE, SSE2 and SSSE3,
//! on MMX registers (64 bits) and XMM registers (128 bits) alike, plus the bitwise
//! ANDPS/ANDNPS/ORPS/XORPS family, which is pure bit logic on XMM registers (no MXCSR
//! effect, SDM Vol. 2 "ANDPS").
//!
//! Every operation is written once, over a register value held as a `u128` (an MMX
//! value zero-extended) and a [`Width`] that says how many bytes of it are the
//! register; the per-lane arithmetic is a closure over the lane type (`zip`,
//! `horizontal`). A handler is `binary::<Width, Op>` or a shift handler; each MMX
//! and XMM form of an instruction is the same `Op` at two widths.
//!
//! Order (house style, precise faults): the entry checks, then the source operand
//! (the only one that may be memory: every destination here is a register), then the
//! destination register is written. A faulting MMX source also leaves the x87 TOP and
//! tags as they were ([`Mmx::enter_src`]).

use crate::exception::Exception;
use crate::handlers;
use crate::state::Cpu;
use crate::table::Table;
use crate::uop::Uop;

type R = Result<(), Exception>;

/// A register file these instructions work on: its width and its accessors.
pub trait Width {
    /// Register width in bytes (8 for MMX, 16 for XMM).
    const BYTES: u32;
    /// The entry checks of the instruction class (`mmx_enter` or `sse_enter`).
    fn enter(cpu: &mut Cpu) -> R;
    /// The entry checks, then operand 1, a register or memory (may fault; a fault
    /// leaves the machine as it was before the instruction).
    fn enter_src(cpu: &mut Cpu, u: &Uop) -> Result<u128, Exception>;
    /// Operand 0, a register.
    fn dst(cpu: &Cpu, u: &Uop) -> u128;
    /// Writes register operand 0; bits above the register width are dropped.
    fn set(cpu: &mut Cpu, u: &Uop, v: u128);
}

/// MM0–MM7: 64 bits, aliasing the x87 significands.
pub struct Mmx;
impl Width for Mmx {
    const BYTES: u32 = 8;
    #[inline(always)]
    fn enter(cpu: &mut Cpu) -> R {
        cpu.mmx_enter()
    }
    #[inline(always)]
    fn dst(cpu: &Cpu, u: &Uop) -> u128 {
        u128::from(cpu.mm(u.r0))
    }
    /// The entry exceptions (#UD, #NM, #MF) come before the memory fault, and the
    /// transition to MMX state after the read: a memory source that faults leaves
    /// TOP and the tags as they were, as the CPU does (checked natively: a #PF on
    /// `paddb m64, mm0` leaves TOP and the tag word of the signal frame's FNSAVE
    /// image unchanged).
    #[inline(always)]
    fn enter_src(cpu: &mut Cpu, u: &Uop) -> Result<u128, Exception> {
        cpu.mmx_check()?;
        let v = cpu.mm_operand(u, 1)?;
        cpu.mmx_transition();
        Ok(u128::from(v))
    }
    #[inline(always)]
    fn set(cpu: &mut Cpu, u: &Uop, v: u128) {
        cpu.set_mm(u.r0, v as u64);
    }
}

/// XMM0–XMM7: 128 bits.
pub struct Xmm;
impl Width for Xmm {
    const BYTES: u32 = 16;
    #[inline(always)]
    fn enter(cpu: &mut Cpu) -> R {
        cpu.sse_enter()
    }
    #[inline(always)]
    fn dst(cpu: &Cpu, u: &Uop) -> u128 {
        cpu.xmm(u.r0)
    }
    #[inline(always)]
    fn enter_src(cpu: &mut Cpu, u: &Uop) -> Result<u128, Exception> {
        cpu.sse_enter()?;
        cpu.xmm_operand(u, 1)
    }
    #[inline(always)]
    fn set(cpu: &mut Cpu, u: &Uop, v: u128) {
        cpu.set_xmm(u.r0, v);
    }
}

/// A lane type: an 8-, 16-, 32- or 64-bit integer, signed or not, cut out of a
/// register value and put back.
pub trait Lane: Copy {
    const BITS: u32;
    /// The low `BITS` bits of `v`.
    fn cut(v: u128) -> Self;
    /// The lane's bits, zero-extended.
    fn bits(self) -> u128;
}

macro_rules! lanes {
    ($($t:ty => $u:ty),+) => {$(
        impl Lane for $t {
            const BITS: u32 = <$t>::BITS;
            #[inline(always)]
            fn cut(v: u128) -> Self {
                v as $t
            }
            #[inline(always)]
            fn bits(self) -> u128 {
                u128::from(self as $u)
            }
        }
    )+};
}
lanes!(u8 => u8, u16 => u16, u32 => u32, u64 => u64, i8 => u8, i16 => u16, i32 => u32, i64 => u64);

/// Lane `i` of `v`.
#[inline(always)]
fn lane<L: Lane>(v: u128, i: u32) -> L {
    L::cut(v >> (i * L::BITS))
}

/// Lane-wise `f(a[i], b[i])` over the `W` register.
#[inline(always)]
fn zip<W: Width, L: Lane>(a: u128, b: u128, f: impl Fn(L, L) -> L) -> u128 {
    let mut r = 0;
    for i in 0..W::BYTES * 8 / L::BITS {
        r |= f(lane(a, i), lane(b, i)).bits() << (i * L::BITS);
    }
    r
}

/// The SSSE3 horizontal operations (SDM Vol. 2 "PHADDW/PHADDD", "PHSUBW/PHSUBD"):
/// the low half of the result is `f` of adjacent lane pairs of `a`, the high half of
/// adjacent pairs of `b`, each pair `f(even, odd)`.
#[inline(always)]
fn horizontal<W: Width, L: Lane>(a: u128, b: u128, f: impl Fn(L, L) -> L) -> u128 {
    let n = W::BYTES * 8 / L::BITS;
    let mut r = 0;
    for i in 0..n {
        let (v, j) = if i < n / 2 { (a, 2 * i) } else { (b, 2 * i - n) };
        r |= f(lane(v, j), lane(v, j + 1)).bits() << (i * L::BITS);
    }
    r
}

/// A two-operand packed operation: `dst := apply(dst, src)` over a `W` register.
pub trait Op {
    fn apply<W: Width>(a: u128, b: u128) -> u128;
}

/// Defines a zero-sized [`Op`] whose result is the expression, with `W`, `a` and `b`
/// in scope: `op!(Name, doc, |W, a, b| expr)`.
macro_rules! op {
    ($(#[$m:meta])* $name:ident, |$w:ident, $a:ident, $b:ident| $e:expr) => {
        $(#[$m])*
        pub struct $name;
        impl Op for $name {
            #[inline(always)]
            #[allow(unused_variables)]
            fn apply<$w: Width>($a: u128, $b: u128) -> u128 {
                $e
            }
        }
    };
}

/// Any two-operand packed instruction: `dst := O(dst, src)`.
fn binary<W: Width, O: Op>(cpu: &mut Cpu, u: &Uop) -> R {
    let b = W::enter_src(cpu, u)?;
    let a = W::dst(cpu, u);
    W::set(cpu, u, O::apply::<W>(a, b));
    Ok(())
}

// Add and subtract: wrapping, signed-saturating, unsigned-saturating
// (SDM Vol. 2 "PADDB/PADDW/PADDD/PADDQ", "PADDSB/PADDSW", "PADDUSB/PADDUSW", and the
// PSUB pages).
op!(Paddb, |W, a, b| zip::<W, u8>(a, b, u8::wrapping_add));
op!(Paddw, |W, a, b| zip::<W, u16>(a, b, u16::wrapping_add));
op!(Paddd, |W, a, b| zip::<W, u32>(a, b, u32::wrapping_add));
op!(Paddq, |W, a, b| zip::<W, u64>(a, b, u64::wrapping_add));
op!(Paddsb, |W, a, b| zip::<W, i8>(a, b, i8::saturating_add));
op!(Paddsw, |W, a, b| zip::<W, i16>(a, b, i16::saturating_add));
op!(Paddusb, |W, a, b| zip::<W, u8>(a, b, u8::saturating_add));
op!(Paddusw, |W, a, b| zip::<W, u16>(a, b, u16::saturating_add));
op!(Psubb, |W, a, b| zip::<W, u8>(a, b, u8::wrapping_sub));
op!(Psubw, |W, a, b| zip::<W, u16>(a, b, u16::wrapping_sub));
op!(Psubd, |W, a, b| zip::<W, u32>(a, b, u32::wrapping_sub));
op!(Psubq, |W, a, b| zip::<W, u64>(a, b, u64::wrapping_sub));
op!(Psubsb, |W, a, b| zip::<W, i8>(a, b, i8::saturating_sub));
op!(Psubsw, |W, a, b| zip::<W, i16>(a, b, i16::saturating_sub));
op!(Psubusb, |W, a, b| zip::<W, u8>(a, b, u8::saturating_sub));
op!(Psubusw, |W, a, b| zip::<W, u16>(a, b, u16::saturating_sub));

/// All ones for a true compare, zero for false (SDM Vol. 2 "PCMPEQB/PCMPEQW/PCMPEQD").
#[inline(always)]
fn mask<L: Lane>(t: bool) -> L {
    L::cut(if t { u128::MAX } else { 0 })
}

op!(Pcmpeqb, |W, a, b| zip::<W, u8>(a, b, |x, y| mask(x == y)));
op!(Pcmpeqw, |W, a, b| zip::<W, u16>(a, b, |x, y| mask(x == y)));
op!(Pcmpeqd, |W, a, b| zip::<W, u32>(a, b, |x, y| mask(x == y)));
op!(Pcmpgtb, |W, a, b| zip::<W, i8>(a, b, |x, y| mask(x > y)));
op!(Pcmpgtw, |W, a, b| zip::<W, i16>(a, b, |x, y| mask(x > y)));
op!(Pcmpgtd, |W, a, b| zip::<W, i32>(a, b, |x, y| mask(x > y)));

// Bit logic. For MMX the bits above 64 that `!a` sets are dropped by `Width::set`.
// PANDN and ANDNPS/ANDNPD complement the destination, not the source.
op!(And, |W, a, b| a & b);
op!(AndNot, |W, a, b| !a & b);
op!(Or, |W, a, b| a | b);
op!(Xor, |W, a, b| a ^ b);

// Multiplies (SDM Vol. 2 "PMULLW", "PMULHW", "PMULHUW", "PMULUDQ", "PMADDWD").
op!(Pmullw, |W, a, b| zip::<W, u16>(a, b, u16::wrapping_mul));
op!(Pmulhw, |W, a, b| zip::<W, i16>(a, b, |x, y| ((i32::from(x) * i32::from(y)) >> 16) as i16));
op!(Pmulhuw, |W, a, b| zip::<W, u16>(a, b, |x, y| ((u32::from(x) * u32::from(y)) >> 16) as u16));
// The even (low) doubleword of each quadword, multiplied into the whole quadword.
op!(Pmuludq, |W, a, b| zip::<W, u64>(a, b, |x, y| (x & 0xffff_ffff) * (y & 0xffff_ffff)));
// Each doubleword: the sum of its two signed word products; only 0x8000 * 0x8000
// twice overflows, and wraps to 0x8000_0000.
op!(Pmaddwd, |W, a, b| zip::<W, u32>(a, b, |x, y| {
    let p = |s: u32| i32::from((x >> s) as i16) * i32::from((y >> s) as i16);
    p(0).wrapping_add(p(16)) as u32
}));
// SSSE3 "PMADDUBSW": unsigned bytes of the destination times signed bytes of the
// source, pairs summed with signed saturation into words.
op!(Pmaddubsw, |W, a, b| zip::<W, u16>(a, b, |x, y| {
    let p = |s: u16| i32::from((x >> s) as u8) * i32::from((y >> s) as i8);
    (p(0) + p(8)).clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16 as u16
}));
// SSSE3 "PMULHRSW": bits 16..1 of the product shifted right by 14, plus one.
op!(Pmulhrsw, |W, a, b| zip::<W, i16>(a, b, |x, y| {
    ((((i32::from(x) * i32::from(y)) >> 14) + 1) >> 1) as i16
}));
// "PSADBW": per quadword, the sum of the absolute byte differences in the low word,
// the rest zero.
op!(Psadbw, |W, a, b| zip::<W, u64>(a, b, |x, y| {
    (0..8).map(|i| u64::from(((x >> (8 * i)) as u8).abs_diff((y >> (8 * i)) as u8))).sum()
}));

// Average rounding up, minimum and maximum (SDM Vol. 2 "PAVGB/PAVGW",
// "PMINUB/PMINUW", "PMAXUB/PMAXUW", "PMINSB/PMINSW", "PMAXSB/PMAXSW").
op!(Pavgb, |W, a, b| zip::<W, u8>(a, b, |x, y| ((u16::from(x) + u16::from(y) + 1) >> 1) as u8));
op!(Pavgw, |W, a, b| zip::<W, u16>(a, b, |x, y| ((u32::from(x) + u32::from(y) + 1) >> 1) as u16));
op!(Pminub, |W, a, b| zip::<W, u8>(a, b, u8::min));
op!(Pmaxub, |W, a, b| zip::<W, u8>(a, b, u8::max));
op!(Pminsw, |W, a, b| zip::<W, i16>(a, b, i16::min));
op!(Pmaxsw, |W, a, b| zip::<W, i16>(a, b, i16::max));

// SSSE3 "PABSB/PABSW/PABSD": of the source only; the most negative value stays
// itself (as an unsigned result it is its magnitude).
op!(Pabsb, |W, a, b| zip::<W, i8>(a, b, |_, y| y.wrapping_abs()));
op!(Pabsw, |W, a, b| zip::<W, i16>(a, b, |_, y| y.wrapping_abs()));
op!(Pabsd, |W, a, b| zip::<W, i32>(a, b, |_, y| y.wrapping_abs()));

/// SSSE3 "PSIGNB/PSIGNW/PSIGND": each destination lane negated (wrapping), zeroed or
/// kept as the source lane is negative, zero or positive.
pub trait SignedBy {
    fn signed_by(self, s: Self) -> Self;
}
macro_rules! signed_by {
    ($($t:ty),+) => {$(
        impl SignedBy for $t {
            #[inline(always)]
            fn signed_by(self, s: Self) -> Self {
                match s.signum() {
                    -1 => self.wrapping_neg(),
                    0 => 0,
                    _ => self,
                }
            }
        }
    )+};
}
signed_by!(i8, i16, i32);

op!(Psignb, |W, a, b| zip::<W, i8>(a, b, i8::signed_by));
op!(Psignw, |W, a, b| zip::<W, i16>(a, b, i16::signed_by));
op!(Psignd, |W, a, b| zip::<W, i32>(a, b, i32::signed_by));

// SSSE3 horizontal add and subtract (SDM Vol. 2 "PHADDW/PHADDD", "PHADDSW",
// "PHSUBW/PHSUBD", "PHSUBSW").
op!(Phaddw, |W, a, b| horizontal::<W, u16>(a, b, u16::wrapping_add));
op!(Phaddd, |W, a, b| horizontal::<W, u32>(a, b, u32::wrapping_add));
op!(Phaddsw, |W, a, b| horizontal::<W, i16>(a, b, i16::saturating_add));
op!(Phsubw, |W, a, b| horizontal::<W, u16>(a, b, u16::wrapping_sub));
op!(Phsubd, |W, a, b| horizontal::<W, u32>(a, b, u32::wrapping_sub));
op!(Phsubsw, |W, a, b| horizontal::<W, i16>(a, b, i16::saturating_sub));

/// A packed shift by a count: `apply(value, count)` over a `W` register.
pub trait Shift {
    fn apply<W: Width>(a: u128, count: u64) -> u128;
}

/// Lane-wise shift of every `L` lane by `count`; a count of the lane width or more
/// gives `wide` of the lane (SDM Vol. 2 "PSLLW/PSLLD/PSLLQ", "PSRLW/PSRLD/PSRLQ",
/// "PSRAW/PSRAD": the whole 64-bit count, or imm8, is compared, not masked).
#[inline(always)]
fn shift_lanes<W: Width, L: Lane>(
    a: u128,
    count: u64,
    f: impl Fn(L, u32) -> L,
    wide: impl Fn(L) -> L,
) -> u128 {
    let bits = u64::from(L::BITS);
    zip::<W, L>(a, 0, |x, _| if count < bits { f(x, count as u32) } else { wide(x) })
}

macro_rules! shift {
    ($(#[$m:meta])* $name:ident, |$w:ident, $a:ident, $c:ident| $e:expr) => {
        $(#[$m])*
        pub struct $name;
        impl Shift for $name {
            #[inline(always)]
            fn apply<$w: Width>($a: u128, $c: u64) -> u128 {
                $e
            }
        }
    };
}

shift!(Psllw, |W, a, c| shift_lanes::<W, u16>(a, c, |x, n| x << n, |_| 0));
shift!(Pslld, |W, a, c| shift_lanes::<W, u32>(a, c, |x, n| x << n, |_| 0));
shift!(Psllq, |W, a, c| shift_lanes::<W, u64>(a, c, |x, n| x << n, |_| 0));
shift!(Psrlw, |W, a, c| shift_lanes::<W, u16>(a, c, |x, n| x >> n, |_| 0));
shift!(Psrld, |W, a, c| shift_lanes::<W, u32>(a, c, |x, n| x >> n, |_| 0));
shift!(Psrlq, |W, a, c| shift_lanes::<W, u64>(a, c, |x, n| x >> n, |_| 0));
// Arithmetic: a count past the width fills the lane with its sign.
shift!(Psraw, |W, a, c| shift_lanes::<W, i16>(a, c, |x, n| x >> n, |x| x >> 15));
shift!(Psrad, |W, a, c| shift_lanes::<W, i32>(a, c, |x, n| x >> n, |x| x >> 31));
// SSE2 "PSLLDQ"/"PSRLDQ": the whole register by bytes; a count above 15 clears it.
shift!(Pslldq, |W, a, c| if c < 16 { a << (8 * c) } else { 0 });
shift!(Psrldq, |W, a, c| if c < 16 { a >> (8 * c) } else { 0 });

/// Shift by the source operand: its low 64 bits are the count (for the XMM form the
/// whole 128-bit operand is read, with the alignment check of any m128).
fn shift_by_operand<W: Width, S: Shift>(cpu: &mut Cpu, u: &Uop) -> R {
    let count = W::enter_src(cpu, u)? as u64;
    let a = W::dst(cpu, u);
    W::set(cpu, u, S::apply::<W>(a, count));
    Ok(())
}

/// Shift by imm8.
fn shift_by_imm<W: Width, S: Shift>(cpu: &mut Cpu, u: &Uop) -> R {
    W::enter(cpu)?;
    let a = W::dst(cpu, u);
    W::set(cpu, u, S::apply::<W>(a, u64::from(u.imm & 0xff)));
    Ok(())
}

/// Registers an [`Op`] for its MMX code and its XMM code.
macro_rules! both {
    ($t:expr, $op:ty => $mm:ident, $xmm:ident) => {
        handlers!($t, binary::<Mmx, $op> => $mm);
        handlers!($t, binary::<Xmm, $op> => $xmm);
    };
}

/// Registers a [`Shift`] for its MMX and XMM by-operand and by-imm8 codes.
macro_rules! shifts {
    ($t:expr, $s:ty => $mm:ident, $xmm:ident, $mm_imm:ident, $xmm_imm:ident) => {
        handlers!($t, shift_by_operand::<Mmx, $s> => $mm);
        handlers!($t, shift_by_operand::<Xmm, $s> => $xmm);
        handlers!($t, shift_by_imm::<Mmx, $s> => $mm_imm);
        handlers!($t, shift_by_imm::<Xmm, $s> => $xmm_imm);
    };
}

pub(crate) fn register(t: &mut Table) {
    both!(t, Paddb => Paddb_mm_mmm64, Paddb_xmm_xmmm128);
    both!(t, Paddw => Paddw_mm_mmm64, Paddw_xmm_xmmm128);
    both!(t, Paddd => Paddd_mm_mmm64, Paddd_xmm_xmmm128);
    both!(t, Paddq => Paddq_mm_mmm64, Paddq_xmm_xmmm128);
    both!(t, Paddsb => Paddsb_mm_mmm64, Paddsb_xmm_xmmm128);
    both!(t, Paddsw => Paddsw_mm_mmm64, Paddsw_xmm_xmmm128);
    both!(t, Paddusb => Paddusb_mm_mmm64, Paddusb_xmm_xmmm128);
    both!(t, Paddusw => Paddusw_mm_mmm64, Paddusw_xmm_xmmm128);
    both!(t, Psubb => Psubb_mm_mmm64, Psubb_xmm_xmmm128);
    both!(t, Psubw => Psubw_mm_mmm64, Psubw_xmm_xmmm128);
    both!(t, Psubd => Psubd_mm_mmm64, Psubd_xmm_xmmm128);
    both!(t, Psubq => Psubq_mm_mmm64, Psubq_xmm_xmmm128);
    both!(t, Psubsb => Psubsb_mm_mmm64, Psubsb_xmm_xmmm128);
    both!(t, Psubsw => Psubsw_mm_mmm64, Psubsw_xmm_xmmm128);
    both!(t, Psubusb => Psubusb_mm_mmm64, Psubusb_xmm_xmmm128);
    both!(t, Psubusw => Psubusw_mm_mmm64, Psubusw_xmm_xmmm128);

    both!(t, Pcmpeqb => Pcmpeqb_mm_mmm64, Pcmpeqb_xmm_xmmm128);
    both!(t, Pcmpeqw => Pcmpeqw_mm_mmm64, Pcmpeqw_xmm_xmmm128);
    both!(t, Pcmpeqd => Pcmpeqd_mm_mmm64, Pcmpeqd_xmm_xmmm128);
    both!(t, Pcmpgtb => Pcmpgtb_mm_mmm64, Pcmpgtb_xmm_xmmm128);
    both!(t, Pcmpgtw => Pcmpgtw_mm_mmm64, Pcmpgtw_xmm_xmmm128);
    both!(t, Pcmpgtd => Pcmpgtd_mm_mmm64, Pcmpgtd_xmm_xmmm128);

    both!(t, And => Pand_mm_mmm64, Pand_xmm_xmmm128);
    both!(t, AndNot => Pandn_mm_mmm64, Pandn_xmm_xmmm128);
    both!(t, Or => Por_mm_mmm64, Por_xmm_xmmm128);
    both!(t, Xor => Pxor_mm_mmm64, Pxor_xmm_xmmm128);
    handlers!(t, binary::<Xmm, And> => Andps_xmm_xmmm128, Andpd_xmm_xmmm128);
    handlers!(t, binary::<Xmm, AndNot> => Andnps_xmm_xmmm128, Andnpd_xmm_xmmm128);
    handlers!(t, binary::<Xmm, Or> => Orps_xmm_xmmm128, Orpd_xmm_xmmm128);
    handlers!(t, binary::<Xmm, Xor> => Xorps_xmm_xmmm128, Xorpd_xmm_xmmm128);

    both!(t, Pmullw => Pmullw_mm_mmm64, Pmullw_xmm_xmmm128);
    both!(t, Pmulhw => Pmulhw_mm_mmm64, Pmulhw_xmm_xmmm128);
    both!(t, Pmulhuw => Pmulhuw_mm_mmm64, Pmulhuw_xmm_xmmm128);
    both!(t, Pmuludq => Pmuludq_mm_mmm64, Pmuludq_xmm_xmmm128);
    both!(t, Pmaddwd => Pmaddwd_mm_mmm64, Pmaddwd_xmm_xmmm128);
    both!(t, Pmaddubsw => Pmaddubsw_mm_mmm64, Pmaddubsw_xmm_xmmm128);
    both!(t, Pmulhrsw => Pmulhrsw_mm_mmm64, Pmulhrsw_xmm_xmmm128);
    both!(t, Psadbw => Psadbw_mm_mmm64, Psadbw_xmm_xmmm128);
    both!(t, Pavgb => Pavgb_mm_mmm64, Pavgb_xmm_xmmm128);
    both!(t, Pavgw => Pavgw_mm_mmm64, Pavgw_xmm_xmmm128);
    both!(t, Pminub => Pminub_mm_mmm64, Pminub_xmm_xmmm128);
    both!(t, Pmaxub => Pmaxub_mm_mmm64, Pmaxub_xmm_xmmm128);
    both!(t, Pminsw => Pminsw_mm_mmm64, Pminsw_xmm_xmmm128);
    both!(t, Pmaxsw => Pmaxsw_mm_mmm64, Pmaxsw_xmm_xmmm128);

    both!(t, Pabsb => Pabsb_mm_mmm64, Pabsb_xmm_xmmm128);
    both!(t, Pabsw => Pabsw_mm_mmm64, Pabsw_xmm_xmmm128);
    both!(t, Pabsd => Pabsd_mm_mmm64, Pabsd_xmm_xmmm128);
    both!(t, Psignb => Psignb_mm_mmm64, Psignb_xmm_xmmm128);
    both!(t, Psignw => Psignw_mm_mmm64, Psignw_xmm_xmmm128);
    both!(t, Psignd => Psignd_mm_mmm64, Psignd_xmm_xmmm128);
    both!(t, Phaddw => Phaddw_mm_mmm64, Phaddw_xmm_xmmm128);
    both!(t, Phaddd => Phaddd_mm_mmm64, Phaddd_xmm_xmmm128);
    both!(t, Phaddsw => Phaddsw_mm_mmm64, Phaddsw_xmm_xmmm128);
    both!(t, Phsubw => Phsubw_mm_mmm64, Phsubw_xmm_xmmm128);
    both!(t, Phsubd => Phsubd_mm_mmm64, Phsubd_xmm_xmmm128);
    both!(t, Phsubsw => Phsubsw_mm_mmm64, Phsubsw_xmm_xmmm128);

    shifts!(t, Psllw => Psllw_mm_mmm64, Psllw_xmm_xmmm128, Psllw_mm_imm8, Psllw_xmm_imm8);
    shifts!(t, Pslld => Pslld_mm_mmm64, Pslld_xmm_xmmm128, Pslld_mm_imm8, Pslld_xmm_imm8);
    shifts!(t, Psllq => Psllq_mm_mmm64, Psllq_xmm_xmmm128, Psllq_mm_imm8, Psllq_xmm_imm8);
    shifts!(t, Psrlw => Psrlw_mm_mmm64, Psrlw_xmm_xmmm128, Psrlw_mm_imm8, Psrlw_xmm_imm8);
    shifts!(t, Psrld => Psrld_mm_mmm64, Psrld_xmm_xmmm128, Psrld_mm_imm8, Psrld_xmm_imm8);
    shifts!(t, Psrlq => Psrlq_mm_mmm64, Psrlq_xmm_xmmm128, Psrlq_mm_imm8, Psrlq_xmm_imm8);
    shifts!(t, Psraw => Psraw_mm_mmm64, Psraw_xmm_xmmm128, Psraw_mm_imm8, Psraw_xmm_imm8);
    shifts!(t, Psrad => Psrad_mm_mmm64, Psrad_xmm_xmmm128, Psrad_mm_imm8, Psrad_xmm_imm8);
    handlers!(t, shift_by_imm::<Xmm, Pslldq> => Pslldq_xmm_imm8);
    handlers!(t, shift_by_imm::<Xmm, Psrldq> => Psrldq_xmm_imm8);
}
