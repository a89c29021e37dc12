//! Soft 80-bit extended precision as the x87 computes it (SDM Vol. 1 §4.2, §4.8, §8).
//!
//! Values are kept in the register format itself ([`F80`]: explicit integer bit,
//! 15-bit exponent). Every operation is exact: operands are unpacked into 64-bit
//! significands, the exact result (or enough of it plus a sticky bit) is formed in
//! 128-bit integers, and [`round_pack`] rounds it once, under the rounding and
//! precision control of the caller's [`Env`], producing the flags the x87 produces
//! (PE, UE, OE and C1 = "rounded up"). Nothing here touches the CPU; `ops::x87` wires
//! it to the register stack.

/// Exception flags, as in the status word.
pub const IE: u16 = 1 << 0;
pub const DE: u16 = 1 << 1;
pub const ZE: u16 = 1 << 2;
pub const OE: u16 = 1 << 3;
pub const UE: u16 = 1 << 4;
pub const PE: u16 = 1 << 5;

pub const BIAS: i32 = 16383;
/// Exponent adjustment applied to results of unmasked overflow/underflow that go to a
/// register (SDM Vol. 1 §8.5.3, §8.5.4).
const WRAP: i32 = 24576;

/// Rounding control values (control word bits 10–11).
pub const RC_NEAREST: u8 = 0;
pub const RC_DOWN: u8 = 1;
pub const RC_UP: u8 = 2;
pub const RC_ZERO: u8 = 3;

/// An 80-bit register value: sign and 15-bit biased exponent in `se`, 64-bit
/// significand with explicit integer bit in `sig`. Memory layout is `sig` then `se`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct F80 {
    pub sig: u64,
    pub se: u16,
}

/// Operand classes (SDM Vol. 1 Table 8-3, plus the unsupported encodings of §8.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Zero,
    /// Exponent 0 and a nonzero significand: denormals and pseudo-denormals (J set).
    Denormal,
    Normal,
    Inf,
    QNaN,
    SNaN,
    /// Pseudo-NaN, pseudo-infinity and unnormals: invalid operands.
    Unsupported,
}

impl F80 {
    pub const ZERO: F80 = F80 { sig: 0, se: 0 };
    pub const ONE: F80 = F80 { sig: 1 << 63, se: 0x3fff };
    pub const INF: F80 = F80 { sig: 1 << 63, se: 0x7fff };
    /// The default (masked invalid-operation) result: the negative QNaN "real
    /// indefinite".
    pub const INDEFINITE: F80 = F80 { sig: 0xc000_0000_0000_0000, se: 0xffff };

    #[inline]
    pub const fn new(sign: bool, exp: u16, sig: u64) -> Self {
        F80 { sig, se: ((sign as u16) << 15) | (exp & 0x7fff) }
    }

    #[inline]
    pub fn zero(sign: bool) -> Self {
        Self::new(sign, 0, 0)
    }

    #[inline]
    pub fn inf(sign: bool) -> Self {
        Self::new(sign, 0x7fff, 1 << 63)
    }

    pub fn from_le_bytes(b: [u8; 10]) -> Self {
        let mut s = [0u8; 8];
        s.copy_from_slice(&b[..8]);
        F80 { sig: u64::from_le_bytes(s), se: u16::from_le_bytes([b[8], b[9]]) }
    }

    pub fn to_le_bytes(self) -> [u8; 10] {
        let mut b = [0u8; 10];
        b[..8].copy_from_slice(&self.sig.to_le_bytes());
        b[8..].copy_from_slice(&self.se.to_le_bytes());
        b
    }

    #[inline]
    pub fn sign(self) -> bool {
        self.se & 0x8000 != 0
    }

    #[inline]
    pub fn exp(self) -> u16 {
        self.se & 0x7fff
    }

    #[inline]
    pub fn negate(self) -> Self {
        F80 { sig: self.sig, se: self.se ^ 0x8000 }
    }

    #[inline]
    pub fn abs(self) -> Self {
        F80 { sig: self.sig, se: self.se & 0x7fff }
    }

    #[inline]
    pub fn with_sign(self, sign: bool) -> Self {
        F80 { sig: self.sig, se: (self.se & 0x7fff) | ((sign as u16) << 15) }
    }

    pub fn class(self) -> Class {
        let e = self.exp();
        let j = self.sig >> 63 != 0;
        if e == 0 {
            if self.sig == 0 {
                Class::Zero
            } else {
                Class::Denormal
            }
        } else if e == 0x7fff {
            if !j {
                Class::Unsupported
            } else if self.sig << 1 == 0 {
                Class::Inf
            } else if self.sig & (1 << 62) != 0 {
                Class::QNaN
            } else {
                Class::SNaN
            }
        } else if j {
            Class::Normal
        } else {
            Class::Unsupported
        }
    }

    #[inline]
    pub fn is_nan(self) -> bool {
        self.exp() == 0x7fff && self.sig >> 63 != 0 && self.sig << 1 != 0
    }

    #[inline]
    pub fn is_snan(self) -> bool {
        self.is_nan() && self.sig & (1 << 62) == 0
    }

    #[inline]
    pub fn quiet(self) -> Self {
        F80 { sig: self.sig | (1 << 62), se: self.se }
    }

    /// Tag-word class: 0 valid, 1 zero, 2 special (NaN, ∞, denormal, unsupported).
    pub fn tag(self) -> u16 {
        match self.class() {
            Class::Normal => 0,
            Class::Zero => 1,
            _ => 2,
        }
    }

    /// The value as a host double (rounded to nearest); for diagnostics and the
    /// fallback paths of the transcendental functions.
    pub fn to_f64_lossy(self) -> f64 {
        let mut env = Env::new(0x037f);
        f64::from_bits(to_f64(&mut env, self))
    }
}

/// Rounding environment of one operation, and the flags it raised.
#[derive(Clone, Copy, Debug)]
pub struct Env {
    pub rc: u8,
    /// Significand bits results of the PC-controlled instructions are rounded to.
    pub prec: u32,
    /// Exception masks (control word bits 0–5).
    pub mask: u16,
    /// Exception flags raised so far.
    pub flags: u16,
    /// The C1 outcome: the last rounding increased the magnitude.
    pub c1: bool,
    /// A single/double memory operand was denormal (its converted value is normal in
    /// the register format). DE is raised when the operation reaches the point where
    /// it checks for denormals, after NaN and unsupported operands.
    pub src_denormal: bool,
}

impl Env {
    #[inline]
    pub fn new(control: u16) -> Self {
        // PC 0 → 24 bits, 2 → 53, 1 (reserved) and 3 → 64: a table, since every x87
        // instruction builds an Env and a `match` here compiled to a jump.
        const PREC: [u32; 4] = [24, 64, 53, 64];
        let prec = PREC[usize::from((control >> 8) & 3)];
        Env {
            rc: ((control >> 10) & 3) as u8,
            prec,
            mask: control & 0x3f,
            flags: 0,
            c1: false,
            src_denormal: false,
        }
    }

    #[inline]
    pub fn raise(&mut self, f: u16) {
        self.flags |= f;
    }

    #[inline]
    fn masked(&self, f: u16) -> bool {
        self.mask & f != 0
    }

    /// Invalid operation: the masked response is the real indefinite.
    #[inline]
    pub fn invalid(&mut self) -> F80 {
        self.flags |= IE;
        F80::INDEFINITE
    }

    /// Raises DE for a denormal operand; true if it is unmasked and the operation must
    /// stop there (no other flags, destination unchanged).
    #[inline]
    pub fn denormal(&mut self) -> bool {
        self.flags |= DE;
        !self.masked(DE)
    }

    /// Whether an unmasked IE, DE or ZE was raised: the destination must not change.
    #[inline]
    pub fn aborts(&self) -> bool {
        self.flags & !self.mask & (IE | DE | ZE) != 0
    }
}

/// A finite nonzero value: `sig / 2^63 × 2^(exp − BIAS)`, `sig` normalized (bit 63 set);
/// `exp` may lie outside the format's range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unp {
    pub sign: bool,
    pub exp: i32,
    pub sig: u64,
}

impl Unp {
    /// Unpacks a normal, denormal or pseudo-denormal value.
    #[inline]
    pub fn of(x: F80) -> Self {
        let e = x.exp();
        if e == 0 {
            let lz = x.sig.leading_zeros();
            Unp { sign: x.sign(), exp: 1 - lz as i32, sig: x.sig << lz }
        } else {
            Unp { sign: x.sign(), exp: i32::from(e), sig: x.sig }
        }
    }

    /// Packs a value known to be representable exactly (no rounding needed).
    pub fn pack_exact(self) -> F80 {
        debug_assert!(self.exp >= 1 && self.exp <= 0x7ffe);
        F80::new(self.sign, self.exp as u16, self.sig)
    }
}

/// Shifts right by `n`, ORing every bit shifted out into bit 0.
#[inline]
pub fn shr_sticky(x: u128, n: u32) -> u128 {
    if n == 0 {
        x
    } else if n >= 128 {
        u128::from(x != 0)
    } else {
        (x >> n) | u128::from(x << (128 - n) != 0)
    }
}

/// Drops the low `shift` bits (0 < shift < 128) of `s` under rounding control:
/// returns the rounded quotient, whether bits were lost, and whether it was rounded up.
#[inline]
fn round_bits(s: u128, shift: u32, rc: u8, sign: bool) -> (u128, bool, bool) {
    let q = s >> shift;
    let rem = s & ((1u128 << shift) - 1);
    let half = 1u128 << (shift - 1);
    let inexact = rem != 0;
    let up = match rc {
        RC_NEAREST => rem > half || (rem == half && q & 1 == 1),
        RC_DOWN => inexact && sign,
        RC_UP => inexact && !sign,
        _ => false,
    };
    (q + u128::from(up), inexact, up)
}

/// Tininess (for UE) is detected after rounding with an unbounded exponent: a result
/// just below the smallest normal that rounds up to it does not underflow (measured
/// on hardware by `tests/x87_vs_host.rs`, e.g. 0 + largest denormal with PC = 24).
const TININESS_AFTER_ROUNDING: bool = true;

/// Destination format for [`round_pack`]: significand bits and the normal exponent
/// range, in the 80-bit biased scale.
#[derive(Clone, Copy, Debug)]
pub struct Fmt {
    pub prec: u32,
    pub emin: i32,
    pub emax: i32,
    /// A register destination: unmasked overflow/underflow deliver the result with
    /// the exponent wrapped by 24576. A memory destination delivers nothing then.
    pub wrap: bool,
}

impl Fmt {
    pub const fn reg(prec: u32) -> Self {
        Fmt { prec, emin: 1, emax: 0x7ffe, wrap: true }
    }
    pub const F32: Fmt = Fmt { prec: 24, emin: BIAS - 126, emax: BIAS + 127, wrap: false };
    pub const F64: Fmt = Fmt { prec: 53, emin: BIAS - 1022, emax: BIAS + 1023, wrap: false };
}

/// The common case of [`round_pack`]: `hi:lo` is the 128-bit significand, and the
/// result is a normal number of the format (no tininess, no overflow), so only PE and
/// C1 can come out of it. `None` — with `env` untouched — sends the caller to
/// [`round_pack`]'s full treatment.
///
/// Works on the top 64 bits with the bits below the rounding point folded into one
/// left-aligned remainder word, which avoids 128-bit shifts by a variable amount.
#[inline(always)]
fn round_fast(env: &mut Env, sign: bool, exp: i32, hi: u64, lo: u64, fmt: Fmt) -> Option<(i32, u64)> {
    if exp < fmt.emin {
        return None;
    }
    let k = 64 - fmt.prec;
    // `rem` is what is dropped, scaled so that half an ulp is 2^63; below its top `k`
    // bits nothing but a sticky bit is needed (k ≤ 40 leaves room for it in bit 0).
    let (trunc, rem, lsb) = if k == 0 {
        (hi, lo, 1)
    } else {
        (hi & (u64::MAX << k), (hi << (64 - k)) | u64::from(lo != 0), 1u64 << k)
    };
    const HALF: u64 = 1 << 63;
    let inexact = rem != 0;
    let up = rem > threshold(env.rc, sign, hi & lsb != 0);
    let (sum, carry) = trunc.overflowing_add(if up { lsb } else { 0 });
    // A carry out of an all-ones significand: 2^64 is 2^63 one exponent higher.
    let s = if carry { HALF } else { sum };
    let e = exp + i32::from(carry);
    if e > fmt.emax {
        return None;
    }
    env.c1 = up;
    env.flags |= u16::from(inexact) * PE;
    Some((e, s))
}

/// When a remainder rounds up: for `rem` the dropped bits left-aligned in a u64
/// (half an ulp = 2^63), the result is rounded up iff `rem > threshold(..)`. To
/// nearest: above half, or at half when the kept part is `odd`. Away from zero (RC
/// down on a negative, up on a positive value): anything inexact. Otherwise never.
///
/// One predictable branch for round-to-nearest, a table for the rest. (A `match`
/// on the rounding control compiled to a jump table, an indirect branch per
/// rounding; an out-of-line helper for the directed modes cost its callers their
/// callee-saved registers.)
#[inline(always)]
fn threshold(rc: u8, sign: bool, odd: bool) -> u64 {
    const THR: [u64; 8] = [
        0, // (nearest: not used)
        0,
        u64::MAX, // down, +
        0,        // down, −
        0,        // up, +
        u64::MAX, // up, −
        u64::MAX, // toward zero, +
        u64::MAX, // toward zero, −
    ];
    if rc == RC_NEAREST {
        (1 << 63) - u64::from(odd)
    } else {
        THR[usize::from(rc & 3) << 1 | usize::from(sign)]
    }
}

/// Rounds `sign × sig / 2^127 × 2^(exp − BIAS)` (`sig` with bit 127 set) to `fmt`.
///
/// Returns `(exp, sig64)` in the 80-bit biased scale: `sig64 == 0` is a zero,
/// `sig64` without bit 63 is a denormal of the format (then `exp == fmt.emin`), and
/// `exp > fmt.emax` is an infinity. Raises PE, UE, OE and sets `env.c1`.
#[inline]
pub fn round_pack(env: &mut Env, sign: bool, exp: i32, sig: u128, fmt: Fmt) -> (i32, u64) {
    match round_fast(env, sign, exp, (sig >> 64) as u64, sig as u64, fmt) {
        Some(r) => r,
        None => round_pack_full(env, sign, exp, sig, fmt),
    }
}

/// [`round_pack`] for every case, including tiny and overflowing results.
#[inline(never)]
fn round_pack_full(env: &mut Env, sign: bool, exp: i32, sig: u128, fmt: Fmt) -> (i32, u64) {
    debug_assert!(sig >> 127 == 1);
    let shift = 128 - fmt.prec;
    let ue_trap = !env.masked(UE);
    let mut tiny = exp < fmt.emin;
    if tiny && TININESS_AFTER_ROUNDING && exp == fmt.emin - 1 {
        let (q, _, _) = round_bits(sig, shift, env.rc, sign);
        if q >> fmt.prec != 0 {
            tiny = false;
        }
    }
    // An unmasked underflow to a register delivers the exponent wrapped by 24576 —
    // unless even that is out of range, when the masked response is delivered.
    let wrap_ue = ue_trap && fmt.wrap && exp + WRAP >= fmt.emin;
    let (s, mut e) = if exp < fmt.emin && !wrap_ue {
        (shr_sticky(sig, (fmt.emin - exp) as u32), fmt.emin)
    } else {
        (sig, exp)
    };
    let (mut q, inexact, up) = round_bits(s, shift, env.rc, sign);
    if q >> fmt.prec != 0 {
        q >>= 1;
        e += 1;
    }
    let mut sig64 = (q as u64) << (64 - fmt.prec);
    env.c1 = up;
    if inexact {
        env.flags |= PE;
    }
    if tiny && (inexact || ue_trap) {
        env.flags |= UE;
        if wrap_ue {
            e += WRAP;
        }
    }
    if tiny && ue_trap && !fmt.wrap {
        // Unmasked underflow to memory: nothing is stored; only UE is reported.
        env.flags = (env.flags & !PE) | UE;
        env.c1 = false;
    }
    if e > fmt.emax {
        env.flags |= OE;
        if !env.masked(OE) && (!fmt.wrap || e - WRAP <= fmt.emax) {
            if fmt.wrap {
                e -= WRAP;
            } else {
                env.flags &= !PE;
                env.c1 = false;
            }
        } else {
            env.flags |= PE;
            let to_inf = match env.rc {
                RC_NEAREST => true,
                RC_DOWN => sign,
                RC_UP => !sign,
                _ => false,
            };
            if to_inf {
                e = fmt.emax + 1;
                sig64 = 1 << 63;
                env.c1 = true;
            } else {
                e = fmt.emax;
                sig64 = u64::MAX << (64 - fmt.prec);
                env.c1 = false;
            }
        }
    }
    (e, sig64)
}

/// [`round_pack`] to a register, packed.
#[inline(always)]
pub fn round_reg(env: &mut Env, sign: bool, exp: i32, sig: u128, prec: u32) -> F80 {
    match round_fast(env, sign, exp, (sig >> 64) as u64, sig as u64, Fmt::reg(prec)) {
        Some((e, s)) => F80::new(sign, e as u16, s),
        None => round_reg_full(env, sign, exp, sig, prec),
    }
}

/// [`round_reg`]'s slow path. A function of its own, taking scalars only, so that the
/// inlined fast path does not build a [`Fmt`] on the stack for it every time.
#[inline(never)]
fn round_reg_full(env: &mut Env, sign: bool, exp: i32, sig: u128, prec: u32) -> F80 {
    let (e, s) = round_pack_full(env, sign, exp, sig, Fmt::reg(prec));
    pack80(sign, e, s)
}

#[inline]
fn pack80(sign: bool, e: i32, s: u64) -> F80 {
    if s == 0 {
        F80::zero(sign)
    } else if e > 0x7ffe {
        F80::inf(sign)
    } else if s >> 63 == 0 {
        F80::new(sign, 0, s)
    } else {
        F80::new(sign, e as u16, s)
    }
}

/// Rounds a finite value to `prec` bits in the register format (FADD x, 0 and the
/// like still round to the precision control).
#[inline]
pub fn round_unp(env: &mut Env, u: Unp, prec: u32) -> F80 {
    round_reg(env, u.sign, u.exp, u128::from(u.sig) << 64, prec)
}

/// x87 NaN propagation (SDM Vol. 1 Table 4-7): a QNaN beats an SNaN, otherwise the
/// larger significand wins (on a tie, the positive one); the result is quiet. IE if
/// either is signaling.
pub fn propagate_nan(env: &mut Env, a: F80, b: F80) -> F80 {
    let (sa, sb) = (a.is_snan(), b.is_snan());
    if sa || sb {
        env.flags |= IE;
    }
    let r = match (a.is_nan(), b.is_nan()) {
        (true, true) => {
            if sa != sb {
                if sa {
                    b
                } else {
                    a
                }
            } else {
                let (qa, qb) = (a.sig | (1 << 62), b.sig | (1 << 62));
                if qa > qb || (qa == qb && a.se <= b.se) {
                    a
                } else {
                    b
                }
            }
        }
        (true, false) => a,
        _ => b,
    };
    r.quiet()
}

/// Common prologue of two-operand arithmetic: unsupported and NaN operands, and DE.
/// `Err` carries the final result.
#[inline]
fn prologue2(env: &mut Env, a: F80, b: F80) -> Result<(Class, Class), F80> {
    let (ca, cb) = (a.class(), b.class());
    if ca == Class::Normal && cb == Class::Normal && !env.src_denormal {
        return Ok((ca, cb));
    }
    if ca == Class::Unsupported || cb == Class::Unsupported {
        return Err(env.invalid());
    }
    if matches!(ca, Class::QNaN | Class::SNaN) || matches!(cb, Class::QNaN | Class::SNaN) {
        return Err(propagate_nan(env, a, b));
    }
    if (ca == Class::Denormal || cb == Class::Denormal || env.src_denormal) && env.denormal() {
        return Err(F80::INDEFINITE);
    }
    Ok((ca, cb))
}

/// Both operands are normal and no memory operand was denormal: the prologue and
/// the class dispatch of the two-operand operations have nothing to do.
#[inline(always)]
fn both_normal(env: &Env, a: F80, b: F80) -> bool {
    normal_pair(a, b) & !env.src_denormal
}

/// Both operands are normal. One branch for the lot: exponents in 1..=0x7ffe and
/// both J bits set.
#[inline(always)]
fn normal_pair(a: F80, b: F80) -> bool {
    let exp_ok = |x: F80| x.exp().wrapping_sub(1) < 0x7ffe;
    exp_ok(a) & exp_ok(b) & ((a.sig & b.sig) >> 63 != 0)
}

/// `a + b`, or `a − b` with `sub`.
#[inline(always)]
pub fn add(env: &mut Env, a: F80, b: F80, sub: bool) -> F80 {
    if both_normal(env, a, b) {
        let mut x = Unp { sign: a.sign(), exp: i32::from(a.exp()), sig: a.sig };
        let mut y = Unp { sign: b.sign() ^ sub, exp: i32::from(b.exp()), sig: b.sig };
        return add_unp(env, &mut x, &mut y, env.prec);
    }
    add_full(env, a, b, sub)
}

#[inline(never)]
fn add_full(env: &mut Env, a: F80, b: F80, sub: bool) -> F80 {
    let (ca, cb) = match prologue2(env, a, b) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let bsign = b.sign() ^ sub;
    match (ca, cb) {
        (Class::Inf, Class::Inf) => {
            if a.sign() == bsign {
                a
            } else {
                env.invalid()
            }
        }
        (Class::Inf, _) => a,
        (_, Class::Inf) => F80::inf(bsign),
        (Class::Zero, Class::Zero) => {
            if a.sign() == bsign {
                a
            } else {
                F80::zero(env.rc == RC_DOWN)
            }
        }
        (Class::Zero, _) => {
            let mut u = Unp::of(b);
            u.sign = bsign;
            round_unp(env, u, env.prec)
        }
        (_, Class::Zero) => round_unp(env, Unp::of(a), env.prec),
        _ => {
            let mut x = Unp::of(a);
            let mut y = Unp::of(b);
            y.sign = bsign;
            add_unp(env, &mut x, &mut y, env.prec)
        }
    }
}

/// Exact sum of two finite nonzero values, rounded once.
#[inline(always)]
pub fn add_unp(env: &mut Env, x: &mut Unp, y: &mut Unp, prec: u32) -> F80 {
    let s = aligned_sum(x, y);
    if s == 0 {
        return F80::zero(env.rc == RC_DOWN);
    }
    let lz = s.leading_zeros();
    round_reg(env, x.sign, x.exp + 1 - lz as i32, s << lz, prec)
}

/// The exact sum of two finite nonzero values as a 128-bit significand (with sticky
/// bit) scaled by `x.exp + 1`, after ordering them so that `x` is the larger (whose
/// sign the sum has); 0 for an exact cancellation.
#[inline(always)]
fn aligned_sum(x: &mut Unp, y: &mut Unp) -> u128 {
    // Which operand is larger, and whether the signs agree, are coin flips in real
    // code: selects rather than branches keep them off the branch predictor.
    let swap = (x.exp, x.sig) < (y.exp, y.sig);
    let (a, b) = (*x, *y);
    *x = if swap { b } else { a };
    *y = if swap { a } else { b };
    let d = (x.exp - y.exp) as u32;
    let xs = u128::from(x.sig) << 63;
    // Most sums align within 64 places, where nothing is shifted out.
    let ys = if d < 64 { u128::from(y.sig) << (63 - d) } else { shr_sticky(u128::from(y.sig) << 63, d) };
    let (sum, diff) = (xs + ys, xs - ys);
    if x.sign == y.sign {
        sum
    } else {
        diff
    }
}

#[inline(always)]
pub fn mul(env: &mut Env, a: F80, b: F80) -> F80 {
    if both_normal(env, a, b) {
        let x = Unp { sign: false, exp: i32::from(a.exp()), sig: a.sig };
        let y = Unp { sign: false, exp: i32::from(b.exp()), sig: b.sig };
        return mul_unp(env, a.sign() ^ b.sign(), x, y, env.prec);
    }
    mul_full(env, a, b)
}

#[inline(never)]
fn mul_full(env: &mut Env, a: F80, b: F80) -> F80 {
    let (ca, cb) = match prologue2(env, a, b) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let sign = a.sign() ^ b.sign();
    match (ca, cb) {
        (Class::Inf, Class::Zero) | (Class::Zero, Class::Inf) => env.invalid(),
        (Class::Inf, _) | (_, Class::Inf) => F80::inf(sign),
        (Class::Zero, _) | (_, Class::Zero) => F80::zero(sign),
        _ => {
            let (x, y) = (Unp::of(a), Unp::of(b));
            mul_unp(env, sign, x, y, env.prec)
        }
    }
}

#[inline]
pub fn mul_unp(env: &mut Env, sign: bool, x: Unp, y: Unp, prec: u32) -> F80 {
    let p = u128::from(x.sig) * u128::from(y.sig);
    // The product of two significands in [1, 2) lies in [1, 4): normalize without
    // a branch, since either case is as likely as the other.
    let top = (p >> 127) as u32;
    round_reg(env, sign, x.exp + y.exp - BIAS + top as i32, p << (1 - top), prec)
}

#[inline(always)]
pub fn div(env: &mut Env, a: F80, b: F80) -> F80 {
    if both_normal(env, a, b) {
        let (e, s) = div_sig(a.sig, b.sig);
        let exp = i32::from(a.exp()) - i32::from(b.exp()) + BIAS + e;
        return round_reg(env, a.sign() ^ b.sign(), exp, s, env.prec);
    }
    div_full(env, a, b)
}

#[inline(never)]
fn div_full(env: &mut Env, a: F80, b: F80) -> F80 {
    if b.class() == Class::Zero && matches!(a.class(), Class::Normal | Class::Denormal) {
        // Division by zero takes precedence over a denormal dividend (no DE).
        env.flags |= ZE;
        return F80::inf(a.sign() ^ b.sign());
    }
    let (ca, cb) = match prologue2(env, a, b) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let sign = a.sign() ^ b.sign();
    match (ca, cb) {
        (Class::Inf, Class::Inf) | (Class::Zero, Class::Zero) => env.invalid(),
        (Class::Inf, _) => F80::inf(sign),
        (_, Class::Inf) | (Class::Zero, _) => F80::zero(sign),
        _ => {
            let (x, y) = (Unp::of(a), Unp::of(b));
            let (e, s) = div_sig(x.sig, y.sig);
            round_reg(env, sign, x.exp - y.exp + BIAS + e, s, env.prec)
        }
    }
}

/// The quotient of two normalized significands as a normalized 128-bit significand
/// with sticky bit, and the exponent adjustment (0 if `a >= b`, −1 otherwise).
#[inline]
fn div_sig(a: u64, b: u64) -> (i32, u128) {
    let b128 = u128::from(b);
    let n = u128::from(a) << 64;
    let q1 = n / b128;
    let r1 = n - q1 * b128;
    let n2 = r1 << 64;
    let q2 = n2 / b128;
    let r2 = n2 - q2 * b128;
    if q1 >> 64 != 0 {
        (0, (q1 << 63) | (q2 >> 1) | u128::from(q2 & 1 != 0 || r2 != 0))
    } else {
        (-1, (q1 << 64) | q2 | u128::from(r2 != 0))
    }
}

/// floor(sqrt(m)) for m < 2^128.
pub fn isqrt128(m: u128) -> u64 {
    if m == 0 {
        return 0;
    }
    // The estimate from the top 64 bits: a u64 converts to f64 inline, a u128 in a
    // library call; the Newton step and the corrections below make it exact.
    let top =
        if m >> 64 == 0 { m as u64 as f64 } else { (m >> 64) as u64 as f64 * 18_446_744_073_709_551_616.0 };
    let mut r = top.sqrt() as u128;
    if r == 0 {
        r = 1;
    }
    r = (r + m / r) >> 1;
    r = r.min(u128::from(u64::MAX));
    while r * r > m {
        r -= 1;
    }
    while r < u128::from(u64::MAX) && (r + 1) * (r + 1) <= m {
        r += 1;
    }
    r as u64
}

pub fn sqrt(env: &mut Env, a: F80) -> F80 {
    match a.class() {
        Class::Unsupported => return env.invalid(),
        Class::QNaN | Class::SNaN => return propagate_nan(env, a, a),
        Class::Zero => return a,
        Class::Inf => {
            return if a.sign() { env.invalid() } else { a };
        }
        Class::Denormal | Class::Normal => {}
    }
    // A negative operand is invalid before it is a denormal.
    if a.sign() {
        return env.invalid();
    }
    if a.exp() == 0 && env.denormal() {
        return F80::INDEFINITE;
    }
    let u = Unp::of(a);
    let (e, s) = sqrt_sig(u.exp, u.sig);
    round_reg(env, false, e, s, env.prec)
}

/// Square root of `sig / 2^63 × 2^(exp − BIAS)`: (exponent, normalized 128-bit
/// significand whose low bits carry a guard and a sticky bit).
pub fn sqrt_sig(exp: i32, sig: u64) -> (i32, u128) {
    // x = sig × 2^(E − 63), E = exp − BIAS. Take m = sig << k, k ∈ {63, 64} so that
    // E − 63 − k is even; sqrt(x) = sqrt(m) × 2^((E − 63 − k) / 2), sqrt(m) ∈ [2^63, 2^64).
    let big_e = exp - BIAS;
    let k = if (big_e - 63 - 63).rem_euclid(2) == 0 { 63 } else { 64 };
    let m = u128::from(sig) << k;
    let r = isqrt128(m);
    let rem = m - u128::from(r) * u128::from(r);
    // sqrt(m) ≥ r + 1/2  ⇔  rem > r (a midpoint is impossible).
    let guard = rem > u128::from(r);
    let s = (u128::from(r) << 64) | (u128::from(guard) << 63) | u128::from(rem != 0);
    let e = BIAS + 63 + (big_e - 63 - k) / 2;
    (e, s)
}

/// Result of a comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Less,
    Equal,
    Greater,
    Unordered,
}

/// Compares `a` with `b`. FCOM (`quiet == false`) raises IE on any NaN, FUCOM only on
/// an SNaN; unsupported operands always raise IE.
pub fn compare(env: &mut Env, a: F80, b: F80, quiet: bool) -> Cmp {
    let (ca, cb) = (a.class(), b.class());
    if ca == Class::Unsupported || cb == Class::Unsupported {
        env.flags |= IE;
        return Cmp::Unordered;
    }
    let (na, nb) = (a.is_nan(), b.is_nan());
    if na || nb {
        if !quiet || a.is_snan() || b.is_snan() {
            env.flags |= IE;
        }
        return Cmp::Unordered;
    }
    if ca == Class::Denormal || cb == Class::Denormal || env.src_denormal {
        // Even unmasked, DE does not stop a comparison from setting the codes.
        env.flags |= DE;
    }
    compare_values(a, b)
}

/// Orders two non-NaN supported values.
pub fn compare_values(a: F80, b: F80) -> Cmp {
    let key = |x: F80| -> (u16, u64) { (x.exp().max(u16::from(x.sig != 0)), x.sig) };
    let (za, zb) = (a.sig == 0, b.sig == 0);
    if za && zb {
        return Cmp::Equal;
    }
    if a.sign() != b.sign() {
        return if a.sign() { Cmp::Less } else { Cmp::Greater };
    }
    let ord = key(a).cmp(&key(b));
    let ord = if a.sign() { ord.reverse() } else { ord };
    match ord {
        std::cmp::Ordering::Less => Cmp::Less,
        std::cmp::Ordering::Equal => Cmp::Equal,
        std::cmp::Ordering::Greater => Cmp::Greater,
    }
}

// ---- conversions ----

/// Loads a single; a denormal is normalized and noted in `env.src_denormal`. An SNaN stays signaling
/// so the caller decides (FLD quiets it and raises IE; arithmetic propagates it).
pub fn from_f32(env: &mut Env, bits: u32) -> F80 {
    let sign = bits >> 31 != 0;
    let e = (bits >> 23) & 0xff;
    let f = u64::from(bits & 0x7f_ffff);
    if e == 0xff {
        return F80::new(sign, 0x7fff, (1 << 63) | (f << 40));
    }
    if e == 0 {
        if f == 0 {
            return F80::zero(sign);
        }
        env.src_denormal = true;
        let lz = f.leading_zeros();
        // f × 2^-149 = (f << lz) / 2^63 × 2^(63 − lz − 149)
        return F80::new(sign, (BIAS + 63 - lz as i32 - 149) as u16, f << lz);
    }
    F80::new(sign, (e as i32 - 127 + BIAS) as u16, (1 << 63) | (f << 40))
}

pub fn from_f64(env: &mut Env, bits: u64) -> F80 {
    let sign = bits >> 63 != 0;
    let e = ((bits >> 52) & 0x7ff) as i32;
    let f = bits & ((1 << 52) - 1);
    if e == 0x7ff {
        return F80::new(sign, 0x7fff, (1 << 63) | (f << 11));
    }
    if e == 0 {
        if f == 0 {
            return F80::zero(sign);
        }
        env.src_denormal = true;
        let lz = f.leading_zeros();
        return F80::new(sign, (BIAS + 63 - lz as i32 - 1074) as u16, f << lz);
    }
    F80::new(sign, (e - 1023 + BIAS) as u16, (1 << 63) | (f << 11))
}

/// Converts for FST m32/m64: `fmt` is [`Fmt::F32`] or [`Fmt::F64`]. Returns the
/// destination's bits; with an unmasked exception the caller stores nothing.
#[inline(always)]
fn to_small(env: &mut Env, x: F80, fmt: Fmt, ebits: u32) -> u64 {
    match to_small_fast(env, x, fmt, ebits) {
        Some(bits) => bits,
        None => to_small_full(env, x, fmt, ebits),
    }
}

/// [`to_small`] for a normal value whose rounded result is a normal of the format:
/// no class dispatch, and only PE and C1 to report. `None`, with `env` untouched,
/// for everything else.
#[inline(always)]
fn to_small_fast(env: &mut Env, x: F80, fmt: Fmt, ebits: u32) -> Option<u64> {
    if x.sig >> 63 == 0 {
        return None;
    }
    let e = i32::from(x.exp());
    if e > fmt.emax {
        return None;
    }
    let (e, s) = round_fast(env, x.sign(), e, x.sig, 0, fmt)?;
    let fbits = fmt.prec - 1;
    let sign_bit = u64::from(x.sign()) << (ebits + fbits);
    let field = (e - fmt.emin + 1) as u64;
    Some(sign_bit | (field << fbits) | ((s << 1) >> (64 - fbits)))
}

#[inline(never)]
fn to_small_full(env: &mut Env, x: F80, fmt: Fmt, ebits: u32) -> u64 {
    let fbits = fmt.prec - 1;
    let width = 1 + ebits + fbits;
    let sign_bit = u64::from(x.sign()) << (width - 1);
    let emax_field = (1u64 << ebits) - 1;
    let inf = sign_bit | (emax_field << fbits);
    let quiet_bit = 1u64 << (fbits - 1);
    match x.class() {
        Class::Unsupported => {
            env.flags |= IE;
            (1u64 << (width - 1)) | inf | quiet_bit
        }
        Class::QNaN | Class::SNaN => {
            if x.is_snan() {
                env.flags |= IE;
            }
            inf | ((x.sig << 1) >> (64 - fbits)) | quiet_bit
        }
        Class::Inf => inf,
        Class::Zero => sign_bit,
        _ => {
            // A denormal source raises no DE here (it underflows anyway).
            let u = Unp::of(x);
            let (e, s) = round_pack(env, u.sign, u.exp, u128::from(u.sig) << 64, fmt);
            if s == 0 {
                sign_bit
            } else if e > fmt.emax {
                inf
            } else if s >> 63 == 0 {
                sign_bit | (s >> (63 - fbits))
            } else {
                let field = (e - fmt.emin + 1) as u64;
                sign_bit | (field << fbits) | ((s << 1) >> (64 - fbits))
            }
        }
    }
}

pub fn to_f32(env: &mut Env, x: F80) -> u32 {
    to_small(env, x, Fmt::F32, 8) as u32
}

pub fn to_f64(env: &mut Env, x: F80) -> u64 {
    to_small(env, x, Fmt::F64, 11)
}

/// Exact conversion of an integer (FILD, FIADD…).
#[inline]
pub fn from_i64(v: i64) -> F80 {
    if v == 0 {
        return F80::ZERO;
    }
    let m = v.unsigned_abs();
    let lz = m.leading_zeros();
    F80::new(v < 0, (BIAS + 63 - lz as i32) as u16, m << lz)
}

/// Rounds a finite value to an integer under `env.rc`: (magnitude, inexact, rounded up).
/// Magnitudes of 2^64 or more come back as `None`.
fn round_to_int(env: &Env, u: Unp) -> Option<(u128, bool, bool)> {
    if u.exp >= BIAS + 64 {
        return None;
    }
    let sh = (BIAS + 63 - u.exp) as u32; // exp ≤ BIAS + 63 ⇒ sh ≥ 0
    let s = shr_sticky(u128::from(u.sig) << 64, sh);
    Some(round_bits(s, 64, env.rc, u.sign))
}

/// FIST/FISTP to a `bits`-wide integer; invalid → the integer indefinite.
#[inline]
pub fn to_int(env: &mut Env, x: F80, bits: u32) -> i64 {
    match to_int_fast(env, x, bits) {
        Some(v) => v,
        None => to_int_full(env, x, bits),
    }
}

/// [`to_int`] for a normal value below 2^63 in magnitude whose rounded value fits:
/// the integer and the dropped fraction (left-aligned, half = 2^63) in one u64 each.
/// `None`, with `env` untouched, for everything else.
#[inline(always)]
fn to_int_fast(env: &mut Env, x: F80, bits: u32) -> Option<i64> {
    let e = i32::from(x.exp());
    if x.sig >> 63 == 0 || !(1..BIAS + 63).contains(&e) {
        return None;
    }
    let sh = (BIAS + 63 - e) as u32;
    let (q, rem) = match sh {
        1..=63 => (x.sig >> sh, x.sig << (64 - sh)),
        64 => (0, x.sig),
        // Below 1/2: only "inexact, less than half" matters.
        _ => (0, 1),
    };
    let up = rem > threshold(env.rc, x.sign(), q & 1 != 0);
    let q = q + u64::from(up);
    let limit = 1u64 << (bits - 1);
    if q < limit || (x.sign() && q == limit) {
        env.flags |= u16::from(rem != 0) * PE;
        env.c1 = up;
        return Some(if x.sign() { (q as i64).wrapping_neg() } else { q as i64 });
    }
    None
}

#[inline(never)]
fn to_int_full(env: &mut Env, x: F80, bits: u32) -> i64 {
    let indefinite = i64::MIN >> (64 - bits);
    env.c1 = false;
    match x.class() {
        Class::Zero => 0,
        Class::Normal | Class::Denormal => {
            let u = Unp::of(x);
            let limit = 1u128 << (bits - 1);
            match round_to_int(env, u) {
                Some((q, inexact, up)) if q < limit || (u.sign && q == limit) => {
                    if inexact {
                        env.flags |= PE;
                    }
                    env.c1 = up;
                    if u.sign {
                        (q as i128).wrapping_neg() as i64
                    } else {
                        q as i64
                    }
                }
                _ => {
                    env.flags |= IE;
                    indefinite
                }
            }
        }
        _ => {
            env.flags |= IE;
            indefinite
        }
    }
}

/// FRNDINT.
pub fn round_int(env: &mut Env, x: F80) -> F80 {
    match x.class() {
        Class::Unsupported => return env.invalid(),
        Class::QNaN | Class::SNaN => return propagate_nan(env, x, x),
        Class::Zero | Class::Inf => return x,
        Class::Denormal => {
            if env.denormal() {
                return x;
            }
        }
        Class::Normal => {}
    }
    let u = Unp::of(x);
    if u.exp >= BIAS + 63 {
        return x;
    }
    let (q, inexact, up) = round_to_int(env, u).expect("exponent checked");
    if inexact {
        env.flags |= PE;
    }
    env.c1 = up;
    if q == 0 {
        return F80::zero(u.sign);
    }
    let q = q as u64; // ≤ 2^63 here
    let lz = q.leading_zeros();
    F80::new(u.sign, (BIAS + 63 - lz as i32) as u16, q << lz)
}

/// FSCALE: `a × 2^trunc(b)`, rounded to 64 bits (precision control does not apply).
pub fn scale(env: &mut Env, a: F80, b: F80) -> F80 {
    let (ca, cb) = match prologue2(env, a, b) {
        Ok(c) => c,
        Err(r) => return r,
    };
    match (ca, cb) {
        (Class::Zero, Class::Inf) => {
            if b.sign() {
                a
            } else {
                env.invalid()
            }
        }
        (Class::Inf, Class::Inf) => {
            if b.sign() {
                env.invalid()
            } else {
                a
            }
        }
        (Class::Zero | Class::Inf, _) => a,
        (_, Class::Inf) => {
            if b.sign() {
                F80::zero(a.sign())
            } else {
                F80::inf(a.sign())
            }
        }
        (_, Class::Zero) => round_unp(env, Unp::of(a), 64),
        _ => {
            let n = trunc_to_i32(b);
            let u = Unp::of(a);
            round_reg(env, u.sign, u.exp.saturating_add(n), u128::from(u.sig) << 64, 64)
        }
    }
}

/// Truncates a finite value to an integer clamped to ±2^20 (beyond that every finite
/// extended value over- or underflows the same way).
fn trunc_to_i32(b: F80) -> i32 {
    if b.sig == 0 {
        return 0;
    }
    let u = Unp::of(b);
    let m: i32 = if u.exp >= BIAS + 20 {
        1 << 20
    } else if u.exp < BIAS {
        0
    } else {
        (u.sig >> (63 - (u.exp - BIAS))) as i32
    };
    if u.sign {
        -m
    } else {
        m
    }
}

/// FXTRACT: (exponent as a value, significand with exponent 0).
pub fn xtract(env: &mut Env, a: F80) -> (F80, F80) {
    match a.class() {
        Class::Unsupported => {
            let n = env.invalid();
            (n, n)
        }
        Class::QNaN | Class::SNaN => {
            let n = propagate_nan(env, a, a);
            (n, n)
        }
        Class::Zero => {
            env.flags |= ZE;
            (F80::inf(true), a)
        }
        Class::Inf => (F80::inf(false), a),
        c => {
            if c == Class::Denormal && env.denormal() {
                return (F80::INDEFINITE, F80::INDEFINITE);
            }
            let u = Unp::of(a);
            (from_i64(i64::from(u.exp - BIAS)), F80::new(u.sign, BIAS as u16, u.sig))
        }
    }
}

/// Outcome of FPREM/FPREM1.
pub struct Rem {
    pub value: F80,
    /// Low three quotient bits (complete reductions only).
    pub q: u64,
    /// C2: the reduction is incomplete.
    pub partial: bool,
}

/// FPREM (`nearest == false`, truncating quotient) or FPREM1 (IEEE remainder).
pub fn rem(env: &mut Env, a: F80, b: F80, nearest: bool) -> Rem {
    let done = |value| Rem { value, q: 0, partial: false };
    let (ca, cb) = (a.class(), b.class());
    if matches!(ca, Class::Inf) && !b.is_nan() && cb != Class::Unsupported
        || matches!(cb, Class::Zero) && !a.is_nan() && ca != Class::Unsupported
    {
        // Invalid before any denormal is noticed.
        return done(env.invalid());
    }
    let (ca, cb) = match prologue2(env, a, b) {
        Ok(c) => c,
        Err(r) => return done(r),
    };
    match (ca, cb) {
        (Class::Zero, _) => return done(a),
        (_, Class::Inf) => return done(round_unp(env, Unp::of(a), 64)),
        _ => {}
    }
    let (x, y) = (Unp::of(a), Unp::of(b));
    let d = x.exp - y.exp;
    if d < 0 {
        // |a| < |b|: quotient 0, except FPREM1 rounding |a| > |b|/2 up to 1.
        if nearest && d == -1 && x.sig > y.sig {
            let mut xx = x;
            let mut yy = Unp { sign: !x.sign, ..y };
            let v = add_unp(env, &mut xx, &mut yy, 64);
            return Rem { value: v, q: 1, partial: false };
        }
        return done(round_unp(env, x, 64));
    }
    let (shift, partial) = if d < 64 { (d as u32, false) } else { (((d & 31) | 32) as u32, true) };
    // The remainder is (x.sig << shift) mod y.sig in units of y's last place scaled by
    // 2^(d − shift).
    let num = u128::from(x.sig) << shift;
    let den = u128::from(y.sig);
    let mut q = num / den;
    let mut r = num - q * den;
    let mut sign = x.sign;
    if nearest && !partial && (2 * r > den || (2 * r == den && q & 1 == 1)) {
        r = den - r;
        q += 1;
        sign = !sign;
    }
    let value = if r == 0 {
        F80::zero(x.sign)
    } else {
        // value = r × 2^(y.exp − BIAS − 63 + d − shift)
        let lz = r.leading_zeros();
        let e = y.exp + d - shift as i32 - 63 + (127 - lz as i32);
        round_reg(env, sign, e, r << lz, 64)
    };
    env.c1 = false;
    Rem { value, q: q as u64 & 7, partial }
}

/// Loads an 18-digit packed BCD (FBLD). Invalid digits give an undefined result on
/// hardware; they are converted digit by digit here.
pub fn from_bcd(b: [u8; 10]) -> F80 {
    let mut v: i64 = 0;
    for i in (0..9).rev() {
        v = v * 100 + i64::from(b[i] >> 4) * 10 + i64::from(b[i] & 0xf);
    }
    let x = from_i64(v);
    if b[9] & 0x80 != 0 {
        x.negate()
    } else {
        x
    }
}

/// FBSTP: rounds under RC and stores 18 BCD digits; out of range → the BCD indefinite.
pub fn to_bcd(env: &mut Env, x: F80) -> [u8; 10] {
    const INDEF: [u8; 10] = [0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff];
    env.c1 = false;
    let (mag, sign) = match x.class() {
        Class::Zero => (0u128, x.sign()),
        Class::Normal | Class::Denormal => {
            let u = Unp::of(x);
            match round_to_int(env, u) {
                Some((q, inexact, up)) if q < 1_000_000_000_000_000_000 => {
                    if inexact {
                        env.flags |= PE;
                    }
                    env.c1 = up;
                    (q, u.sign)
                }
                _ => {
                    env.flags |= IE;
                    return INDEF;
                }
            }
        }
        _ => {
            env.flags |= IE;
            return INDEF;
        }
    };
    let mut out = [0u8; 10];
    let mut m = mag as u64;
    for byte in out.iter_mut().take(9) {
        let lo = (m % 10) as u8;
        m /= 10;
        let hi = (m % 10) as u8;
        m /= 10;
        *byte = (hi << 4) | lo;
    }
    out[9] = if sign { 0x80 } else { 0 };
    out
}

// ---- the fast lane ----
//
// An operation on normal operands whose rounded result is a normal number can raise
// nothing but PE, and set C1 (SDM Vol. 1 §8.5: no invalid-operand, denormal,
// zero-divide, overflow or underflow case arises), and PE never keeps a result from
// being delivered (§8.5.6). So `ops::x87` can run such an operation with no `Env` in
// memory, no class dispatch and no abort check. Each function below takes the
// control word and returns the result with the status-word bits it sets (PE in bit
// 5, C1 in bit 9), or `None` for every other case; the caller then runs the
// instruction from the start through the general functions above. Both agree bit
// for bit wherever the fast lane answers: it is their own first branch
// (`round_fast`, `to_small_fast`, `to_int_fast`), and
// `tests::fast_lane_agrees_with_general_path` checks it.

/// The status-word bits an operation sets: its flags, and C1 in bit 9.
#[inline(always)]
fn quick_sw(env: &Env) -> u16 {
    env.flags | (u16::from(env.c1) << 9)
}

/// Rounds to a register under `control`, if the result is a normal number.
#[inline(always)]
fn quick_reg(control: u16, sign: bool, exp: i32, sig: u128) -> Option<(F80, u16)> {
    quick_reg2(control, sign, exp, (sig >> 64) as u64, sig as u64)
}

/// [`quick_reg`] with the significand as two words, `hi` with bit 63 set.
#[inline(always)]
fn quick_reg2(control: u16, sign: bool, exp: i32, hi: u64, lo: u64) -> Option<(F80, u16)> {
    if control & 0x0f00 == 0x0300 {
        // PC = 64 bits and RC = to nearest, FNINIT's and every Linux process's
        // default: `round_fast` with k = 0 and the nearest threshold, inline.
        if exp < 1 {
            return None;
        }
        let up = lo > (1 << 63) - (hi & 1);
        let (sum, carry) = hi.overflowing_add(u64::from(up));
        let e = exp + i32::from(carry);
        if e > 0x7ffe {
            return None;
        }
        let s = if carry { 1 << 63 } else { sum };
        return Some((F80::new(sign, e as u16, s), (u16::from(lo != 0) * PE) | (u16::from(up) << 9)));
    }
    quick_reg_other(control, sign, exp, hi, lo)
}

/// [`quick_reg`] under any other precision or rounding control. Out of line: the
/// default's inline path then needs no callee-saved registers.
#[inline(never)]
fn quick_reg_other(control: u16, sign: bool, exp: i32, hi: u64, lo: u64) -> Option<(F80, u16)> {
    let mut env = Env::new(control);
    let fmt = Fmt::reg(env.prec);
    let (e, s) = round_fast(&mut env, sign, exp, hi, lo, fmt)?;
    Some((F80::new(sign, e as u16, s), quick_sw(&env)))
}

/// [`add`] (`a − b` with `sub`) on the fast lane.
///
/// Works on two 64-bit words: the larger operand's significand is the high word
/// and the smaller one, shifted right by the exponent difference `d < 64`, spans
/// both, so the sum or difference is exact without a sticky bit (the low `64 − d`
/// bits of the shifted operand are zeros) and a carry out of the high word drops
/// only a zero bit. Cheaper than [`aligned_sum`]'s 128-bit shifts by a variable
/// amount and both of its results; only a difference of 64 places or more is
/// aligned its way.
#[inline(always)]
pub fn add_quick(control: u16, a: F80, b: F80, sub: bool) -> Option<(F80, u16)> {
    if !normal_pair(a, b) {
        return None;
    }
    let bsign = b.sign() ^ sub;
    let (ea, eb) = (i32::from(a.exp()), i32::from(b.exp()));
    // The larger magnitude first; its sign is the result's.
    let swap = (eb, b.sig) > (ea, a.sig);
    let (xe, xm, xsign, ye, ym) =
        if swap { (eb, b.sig, bsign, ea, a.sig) } else { (ea, a.sig, a.sign(), eb, b.sig) };
    let d = (xe - ye) as u32;
    if d >= 64 {
        // The smaller operand lies wholly below the larger one's last place:
        // aligned as `aligned_sum` aligns it (63 guard bits, then a sticky bit).
        let xs = u128::from(xm) << 63;
        let ys = shr_sticky(u128::from(ym) << 63, d);
        let s = if a.sign() == bsign { xs + ys } else { xs - ys };
        let lz = s.leading_zeros();
        return quick_reg(control, xsign, xe + 1 - lz as i32, s << lz);
    }
    // ym × 2^(64 − d) as hi:lo; `<< (63 − d) << 1` is 0 for d = 0.
    let (hi, lo) = (ym >> d, (ym << (63 - d)) << 1);
    if a.sign() == bsign {
        let (sum, carry) = xm.overflowing_add(hi);
        if carry {
            return quick_reg2(control, xsign, xe + 1, (sum >> 1) | (1 << 63), (lo >> 1) | (sum << 63));
        }
        return quick_reg2(control, xsign, xe, sum, lo);
    }
    // xm:0 − hi:lo, not negative since x is the larger.
    let l = lo.wrapping_neg();
    let h = xm - hi - u64::from(lo != 0);
    if h >> 63 != 0 {
        return quick_reg2(control, xsign, xe, h, l);
    }
    if h == 0 && l == 0 {
        // An exact cancellation: −0 when rounding down, else +0; no flag, C1 clear.
        return Some((F80::zero((control >> 10) & 3 == u16::from(RC_DOWN)), 0));
    }
    let s = (u128::from(h) << 64) | u128::from(l);
    let lz = s.leading_zeros();
    quick_reg(control, xsign, xe - lz as i32, s << lz)
}

/// The fast lane's answer for operands of which one at least is a zero and the
/// other a zero or a normal number (the operations' zero cases raise nothing but the
/// rounding of a normal operand to the precision control), for `op` 0 add, 1
/// multiply, 2 divide; `None` otherwise, and for a division by zero (ZE).
#[inline]
pub fn zero_quick(control: u16, op: u8, a: F80, b: F80) -> Option<(F80, u16)> {
    let zero = |x: F80| x.exp() == 0 && x.sig == 0;
    if !(ordinary(a) && ordinary(b)) || !(zero(a) || zero(b)) {
        return None;
    }
    match op {
        0 => match (zero(a), zero(b)) {
            // `add_full`: equal signs keep the zero, unequal give +0 (−0 rounding down).
            (true, true) => {
                let down = (control >> 10) & 3 == u16::from(RC_DOWN);
                Some((if a.sign() == b.sign() { a } else { F80::zero(down) }, 0))
            }
            (true, false) => quick_reg(control, b.sign(), i32::from(b.exp()), u128::from(b.sig) << 64),
            _ => quick_reg(control, a.sign(), i32::from(a.exp()), u128::from(a.sig) << 64),
        },
        1 => Some((F80::zero(a.sign() ^ b.sign()), 0)),
        _ => (!zero(b)).then(|| (F80::zero(a.sign() ^ b.sign()), 0)),
    }
}

/// A zero or a normal number: an operand no operation raises anything for.
#[inline(always)]
pub fn ordinary(x: F80) -> bool {
    (x.exp() == 0 && x.sig == 0) || normal_pair(x, x)
}

/// [`sqrt`] on the fast lane: a positive normal operand, whose root is a normal
/// number and raises nothing but PE.
#[inline(always)]
pub fn sqrt_quick(control: u16, a: F80) -> Option<(F80, u16)> {
    if a.sign() || !normal_pair(a, a) {
        return None;
    }
    let (e, s) = sqrt_sig(i32::from(a.exp()), a.sig);
    quick_reg(control, false, e, s)
}

/// [`mul`] on the fast lane.
#[inline(always)]
pub fn mul_quick(control: u16, a: F80, b: F80) -> Option<(F80, u16)> {
    if !normal_pair(a, b) {
        return None;
    }
    let p = u128::from(a.sig) * u128::from(b.sig);
    let top = (p >> 127) as u32;
    let exp = i32::from(a.exp()) + i32::from(b.exp()) - BIAS + top as i32;
    quick_reg(control, a.sign() ^ b.sign(), exp, p << (1 - top))
}

/// [`div`] on the fast lane.
#[inline(always)]
pub fn div_quick(control: u16, a: F80, b: F80) -> Option<(F80, u16)> {
    if !normal_pair(a, b) {
        return None;
    }
    let (e, s) = div_sig(a.sig, b.sig);
    let exp = i32::from(a.exp()) - i32::from(b.exp()) + BIAS + e;
    quick_reg(control, a.sign() ^ b.sign(), exp, s)
}

/// [`to_f32`] on the fast lane.
#[inline(always)]
pub fn to_f32_quick(control: u16, x: F80) -> Option<(u32, u16)> {
    let mut env = Env::new(control);
    let bits = to_small_fast(&mut env, x, Fmt::F32, 8)?;
    Some((bits as u32, quick_sw(&env)))
}

/// [`to_f64`] on the fast lane.
#[inline(always)]
pub fn to_f64_quick(control: u16, x: F80) -> Option<(u64, u16)> {
    if control & 0x0c00 == 0 {
        // RC = to nearest, the default: `to_small_fast` for F64 with the nearest
        // threshold, inline.
        let fmt = Fmt::F64;
        let e = i32::from(x.exp());
        if x.sig >> 63 == 0 || e < fmt.emin || e > fmt.emax {
            return None;
        }
        let rem = x.sig << 53;
        let up = rem > (1 << 63) - ((x.sig >> 11) & 1);
        let (sum, carry) = (x.sig & !0x7ff).overflowing_add(u64::from(up) << 11);
        let e = e + i32::from(carry);
        if e > fmt.emax {
            return None;
        }
        let s = if carry { 1 << 63 } else { sum };
        let bits = (u64::from(x.sign()) << 63) | (((e - fmt.emin + 1) as u64) << 52) | ((s << 1) >> 12);
        return Some((bits, (u16::from(rem != 0) * PE) | (u16::from(up) << 9)));
    }
    let mut env = Env::new(control);
    let bits = to_small_fast(&mut env, x, Fmt::F64, 11)?;
    Some((bits, quick_sw(&env)))
}

/// [`to_int`] on the fast lane.
#[inline(always)]
pub fn to_int_quick(control: u16, x: F80, bits: u32) -> Option<(i64, u16)> {
    let mut env = Env::new(control);
    let v = to_int_fast(&mut env, x, bits)?;
    Some((v, quick_sw(&env)))
}

/// [`from_f32`] for a value that raises nothing when loaded or used (normal or zero);
/// `None` for a denormal, an infinity or a NaN.
#[inline(always)]
pub fn from_f32_quick(bits: u32) -> Option<F80> {
    let sign = bits >> 31 != 0;
    let e = (bits >> 23) & 0xff;
    if e == 0 {
        return if bits << 1 == 0 { Some(F80::zero(sign)) } else { None };
    }
    if e == 0xff {
        return None;
    }
    let f = u64::from(bits & 0x7f_ffff);
    Some(F80::new(sign, (e as i32 - 127 + BIAS) as u16, (1 << 63) | (f << 40)))
}

/// [`from_f64`] for a value that raises nothing when loaded or used (normal or zero);
/// `None` for a denormal, an infinity or a NaN.
#[inline(always)]
pub fn from_f64_quick(bits: u64) -> Option<F80> {
    let sign = bits >> 63 != 0;
    let e = ((bits >> 52) & 0x7ff) as i32;
    if e == 0 {
        return if bits << 1 == 0 { Some(F80::zero(sign)) } else { None };
    }
    if e == 0x7ff {
        return None;
    }
    let f = bits & ((1 << 52) - 1);
    Some(F80::new(sign, (e - 1023 + BIAS) as u16, (1 << 63) | (f << 11)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: f64) -> F80 {
        from_f64(&mut Env::new(0x37f), x.to_bits())
    }

    #[test]
    fn basic_arithmetic_is_exact() {
        let mut env = Env::new(0x37f);
        assert_eq!(add(&mut env, f(1.5), f(2.25), false), f(3.75));
        assert_eq!(mul(&mut env, f(3.0), f(-0.5)), f(-1.5));
        assert_eq!(div(&mut env, f(1.0), f(4.0)), f(0.25));
        assert_eq!(sqrt(&mut env, f(16.0)), f(4.0));
        assert_eq!(sqrt(&mut env, f(2.0)), F80::new(false, 0x3fff, 0xb504_f333_f9de_6484));
        assert_eq!(env.flags, PE);
        let third = div(&mut env, f(1.0), f(3.0));
        assert_eq!(third, F80::new(false, 0x3ffd, 0xaaaa_aaaa_aaaa_aaab));
    }

    #[test]
    fn int_conversions() {
        let mut env = Env::new(0x37f);
        assert_eq!(to_int(&mut env, f(2.5), 32), 2);
        assert_eq!(to_int(&mut env, f(3.5), 32), 4);
        assert_eq!(to_int(&mut env, f(-2.5), 16), -2);
        assert_eq!(to_int(&mut env, f(65536.0), 16), -32768);
        assert_eq!(to_int(&mut env, f(-9.223_372_036_854_776e18), 64), i64::MIN);
        assert_eq!(from_i64(i64::MIN), f(-9.223_372_036_854_776e18));
        assert_eq!(to_f64(&mut env, from_i64(-7)), (-7.0f64).to_bits());
    }

    /// The fast rounding path against the full one, with the remainder at every
    /// interesting distance from a rounding point, exponents at both ends of each
    /// format's range, all rounding modes and mask combinations.
    #[test]
    fn round_fast_agrees_with_round_pack_full() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let fmts = [Fmt::reg(24), Fmt::reg(53), Fmt::reg(64), Fmt::F32, Fmt::F64];
        for _ in 0..400_000 {
            let fmt = fmts[(next() % 5) as usize];
            let sign = next() & 1 != 0;
            let exp = match next() % 4 {
                0 => fmt.emin - 2 + (next() % 5) as i32,
                1 => fmt.emax - 2 + (next() % 5) as i32,
                _ => fmt.emin + (next() % (fmt.emax - fmt.emin + 1) as u64) as i32,
            };
            // The kept bits: random, or all ones (rounding up carries out).
            let shift = 128 - fmt.prec;
            let kept =
                if next() % 4 == 0 { u128::MAX } else { (u128::from(next()) << 64) | u128::from(next()) };
            let half = 1u128 << (shift - 1);
            let rem_mask = (1u128 << shift) - 1;
            let rand_rem = ((u128::from(next()) << 64) | u128::from(next())) & rem_mask;
            let rem = match next() % 8 {
                0 => 0,
                1 => half,
                2 => half - 1,
                3 => half + 1,
                4 => rem_mask,
                5 => 1,
                6 => half | (1u128 << (next() % u64::from(shift - 1))),
                _ => rand_rem,
            };
            let sig = (kept & !rem_mask) | rem | (1u128 << 127);
            let env = Env {
                rc: (next() % 4) as u8,
                prec: fmt.prec,
                mask: (next() & 0x3f) as u16,
                flags: (next() & 0x3f) as u16,
                c1: next() & 1 != 0,
                src_denormal: false,
            };
            let (mut fast, mut full) = (env, env);
            let r_fast = round_pack(&mut fast, sign, exp, sig, fmt);
            let r_full = round_pack_full(&mut full, sign, exp, sig, fmt);
            let what = format!("sign={sign} exp={exp:#x} sig={sig:#x} fmt={fmt:?} env={env:?}");
            assert_eq!(r_fast, r_full, "{what}");
            assert_eq!((fast.flags, fast.c1), (full.flags, full.c1), "{what}");
            if fmt.wrap {
                let (mut reg, mut full) = (env, env);
                let packed = round_reg(&mut reg, sign, exp, sig, fmt.prec);
                let (e, s) = round_pack_full(&mut full, sign, exp, sig, fmt);
                assert_eq!(packed, pack80(sign, e, s), "{what}");
                assert_eq!((reg.flags, reg.c1), (full.flags, full.c1), "{what}");
            }
        }
    }

    /// FIST's fast path against the full conversion: every exponent from below 1/2
    /// to beyond the widest integer, fractions at and beside one half, all modes.
    #[test]
    fn to_int_fast_agrees_with_full() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..300_000 {
            let e = BIAS - 3 + (next() % 70) as i32;
            let int_bits = (e - BIAS + 1).clamp(0, 64) as u32;
            let sig = next() | (1 << 63);
            let sig = if int_bits < 64 && next() % 2 == 0 {
                // The fraction exactly one half, or one unit either side of it.
                let frac_mask = u64::MAX >> int_bits;
                let half = (frac_mask >> 1) + 1;
                let frac = [half, half - 1, half.wrapping_add(1) & frac_mask, 0][(next() % 4) as usize];
                (sig & !frac_mask) | frac | (1 << 63)
            } else {
                sig
            };
            let x = F80::new(next() & 1 != 0, e as u16, sig);
            let bits = [16, 32, 64][(next() % 3) as usize];
            let env = Env {
                rc: (next() % 4) as u8,
                prec: 64,
                mask: 0x3f,
                flags: (next() & 0x3f) as u16,
                c1: next() & 1 != 0,
                src_denormal: false,
            };
            let (mut fast, mut full) = (env, env);
            let what = format!("x={x:x?} bits={bits} env={env:?}");
            assert_eq!(to_int(&mut fast, x, bits), to_int_full(&mut full, x, bits), "{what}");
            assert_eq!((fast.flags, fast.c1), (full.flags, full.c1), "{what}");
        }
    }

    /// Wherever the fast lane answers, it answers what the general functions do:
    /// operands at random and at both ends of the exponent range (so results
    /// overflow, underflow and cancel), every control word's PC, RC and masks.
    #[test]
    fn fast_lane_agrees_with_general_path() {
        let mut seed = 0x6a09_e667_f3bc_c909u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        fn value(next: &mut dyn FnMut() -> u64) -> F80 {
            let exp = match next() % 6 {
                0 => 1 + (next() % 70) as u16,
                1 => 0x7ffe - (next() % 70) as u16,
                2 => (next() % 0x8000) as u16,
                _ => 0x3fff - 40 + (next() % 80) as u16,
            };
            let sig = match next() % 5 {
                0 => 1 << 63,
                1 => u64::MAX,
                2 => next(),
                _ => next() | (1 << 63),
            };
            F80::new(next() & 1 != 0, exp, sig)
        }
        let sw = |env: &Env| env.flags | (u16::from(env.c1) << 9);
        let mut answered = 0;
        for _ in 0..400_000 {
            let control = (next() as u16 & 0x0f3f) | 0x40;
            let (a, mut b) = (value(&mut next), value(&mut next));
            match next() % 8 {
                0 => b = a.negate(),
                // Near cancellations and carries: the same or a neighbouring
                // exponent, the low bits changed, either sign.
                1 => {
                    let exp = a.exp().wrapping_sub((next() % 3) as u16) & 0x7fff;
                    b = F80::new(next() & 1 != 0, exp, a.sig ^ (next() >> (next() % 64)));
                }
                _ => {}
            }
            let general = Env::new(control);
            let what = format!("a={a:x?} b={b:x?} control={control:#x}");
            for op in 0..4 {
                let quick = match op {
                    0 => add_quick(control, a, b, false),
                    1 => add_quick(control, a, b, true),
                    2 => mul_quick(control, a, b),
                    _ => div_quick(control, a, b),
                };
                let Some((r, bits)) = quick else { continue };
                answered += 1;
                let mut env = general;
                let r2 = match op {
                    0 => add(&mut env, a, b, false),
                    1 => add(&mut env, a, b, true),
                    2 => mul(&mut env, a, b),
                    _ => div(&mut env, a, b),
                };
                assert_eq!((r, bits), (r2, sw(&env)), "op {op} {what}");
                assert!(!env.aborts(), "op {op} {what}");
            }
            for op in 0..3u8 {
                let Some((r, bits)) = zero_quick(control, op, a, b) else { continue };
                let mut env = general;
                let r2 = match op {
                    0 => add(&mut env, a, b, false),
                    1 => mul(&mut env, a, b),
                    _ => div(&mut env, a, b),
                };
                assert_eq!((r, bits), (r2, sw(&env)), "zero op {op} {what}");
            }
            if let Some((r, bits)) = sqrt_quick(control, a) {
                let mut env = general;
                assert_eq!((r, bits), (sqrt(&mut env, a), sw(&env)), "sqrt {what}");
            }
            if let Some((v, bits)) = to_f32_quick(control, a) {
                let mut env = general;
                assert_eq!((v, bits), (to_f32(&mut env, a), sw(&env)), "f32 {what}");
            }
            if let Some((v, bits)) = to_f64_quick(control, a) {
                let mut env = general;
                assert_eq!((v, bits), (to_f64(&mut env, a), sw(&env)), "f64 {what}");
            }
            for width in [16, 32, 64] {
                if let Some((v, bits)) = to_int_quick(control, a, width) {
                    let mut env = general;
                    assert_eq!((v, bits), (to_int(&mut env, a, width), sw(&env)), "int{width} {what}");
                }
            }
            let (m32, m64) = (next() as u32, next());
            if let Some(v) = from_f32_quick(m32) {
                let mut env = general;
                assert_eq!(v, from_f32(&mut env, m32), "m32 {m32:#x}");
                assert!(!env.src_denormal && !v.is_nan() && env.flags == 0, "m32 {m32:#x}");
            }
            if let Some(v) = from_f64_quick(m64) {
                let mut env = general;
                assert_eq!(v, from_f64(&mut env, m64), "m64 {m64:#x}");
                assert!(!env.src_denormal && !v.is_nan() && env.flags == 0, "m64 {m64:#x}");
            }
        }
        assert!(answered > 500_000, "{answered}");
    }

    #[test]
    fn isqrt_edges() {
        assert_eq!(isqrt128(u128::MAX), u64::MAX);
        assert_eq!(isqrt128(1u128 << 126), 1 << 63);
        assert_eq!(isqrt128((1u128 << 126) - 1), (1 << 63) - 1);
    }
}
