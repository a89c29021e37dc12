//! x87 constants and transcendental instructions.
//!
//! Results are computed in [`Ext`], a 128-bit-significand working precision (series
//! evaluation, error a few units in the 125th bit), then rounded once under RC to 64
//! bits. That gives the correctly rounded result except when the true value lies
//! within ~2^-120 relative of a rounding boundary. The hardware is *not* correctly
//! rounded (Intel documents < 1 ulp for these since the Pentium), so results may
//! differ from a real x87 in the last bit (and C1 with them): in `tests/x87_vs_host.rs`
//! about 1.6% of random operands differ by one ulp, never more (e.g. FPTAN(1): the
//! true value is …2dc5.399 ulp, the hardware returns …2dc6, we return …2dc5).
//! Exceptions, special operands, C2 and stack behaviour match, including the
//! hardware's out-of-domain responses (F2XM1 with |x| > 1 and FYL2XP1 with x < −1
//! return x, inexact). FSIN/FCOS/FSINCOS/FPTAN reduce the
//! argument exactly modulo the x87's own 66-bit π/2 (SDM Vol. 1 §8.3.10), so results
//! near multiples of π agree with the hardware rather than with true π.

use std::sync::OnceLock;

use crate::fpu::float80::{self as fp, Class, Env, BIAS, F80};
use crate::fpu::{SW_C1, SW_C2};
use crate::Cpu;

use super::{commit, finish, stack_overflow, stack_underflow};

pub const K_ONE: u8 = 0;
pub const K_ZERO: u8 = 1;
pub const K_PI: u8 = 2;
pub const K_L2T: u8 = 3;
pub const K_L2E: u8 = 4;
pub const K_LG2: u8 = 5;
pub const K_LN2: u8 = 6;

pub const T_SIN: u8 = 0;
pub const T_COS: u8 = 1;
pub const T_SINCOS: u8 = 2;
pub const T_PTAN: u8 = 3;
pub const T_PATAN: u8 = 4;
pub const T_F2XM1: u8 = 5;
pub const T_FYL2X: u8 = 6;
pub const T_FYL2XP1: u8 = 7;

/// A working-precision value `m / 2^127 × 2^exp`, `m` normalized (bit 127 set) or 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ext {
    pub sign: bool,
    pub exp: i32,
    pub m: u128,
}

/// High 128 bits of a 128×128 product.
fn mul_hi(a: u128, b: u128) -> u128 {
    let (a1, a0) = (a >> 64, a & u128::from(u64::MAX));
    let (b1, b0) = (b >> 64, b & u128::from(u64::MAX));
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    let mid = (p00 >> 64) + (p01 & u128::from(u64::MAX)) + (p10 & u128::from(u64::MAX));
    p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64)
}

impl Ext {
    pub const ZERO: Ext = Ext { sign: false, exp: 0, m: 0 };
    pub const ONE: Ext = Ext { sign: false, exp: 0, m: 1 << 127 };

    pub fn norm(sign: bool, exp: i32, m: u128) -> Ext {
        if m == 0 {
            return Ext::ZERO;
        }
        let lz = m.leading_zeros();
        Ext { sign, exp: exp - lz as i32, m: m << lz }
    }

    pub fn from_u64(v: u64) -> Ext {
        Ext::norm(false, 127, u128::from(v))
    }

    pub fn from_i64(v: i64) -> Ext {
        Ext { sign: v < 0, ..Ext::from_u64(v.unsigned_abs()) }
    }

    /// A finite F80 (denormals included).
    pub fn from_f80(x: F80) -> Ext {
        if x.sig == 0 {
            return Ext { sign: x.sign(), ..Ext::ZERO };
        }
        let u = fp::Unp::of(x);
        Ext { sign: u.sign, exp: u.exp - BIAS, m: u128::from(u.sig) << 64 }
    }

    pub fn negate(self) -> Ext {
        Ext { sign: !self.sign, ..self }
    }

    pub fn abs(self) -> Ext {
        Ext { sign: false, ..self }
    }

    pub fn scale(self, n: i32) -> Ext {
        if self.m == 0 {
            self
        } else {
            Ext { exp: self.exp + n, ..self }
        }
    }

    pub fn add(self, o: Ext) -> Ext {
        if self.m == 0 {
            return o;
        }
        if o.m == 0 {
            return self;
        }
        let (a, b) = if (self.exp, self.m) >= (o.exp, o.m) { (self, o) } else { (o, self) };
        // One bit of headroom; bits of `b` shifted out become a sticky bit, so a sum
        // that lands on a representable value still rounds in the right direction.
        let d = (a.exp - b.exp) as u32;
        let am = a.m >> 1;
        let bm = fp::shr_sticky(b.m, (d + 1).min(128));
        if a.sign == b.sign {
            Ext::norm(a.sign, a.exp + 1, am + bm)
        } else {
            Ext::norm(a.sign, a.exp + 1, am - bm)
        }
    }

    pub fn sub(self, o: Ext) -> Ext {
        self.add(o.negate())
    }

    pub fn mul(self, o: Ext) -> Ext {
        if self.m == 0 || o.m == 0 {
            return Ext::ZERO;
        }
        let p = mul_hi(self.m, o.m);
        Ext::norm(self.sign ^ o.sign, self.exp + o.exp + 1, p)
    }

    /// Division by a small positive integer.
    pub fn div_u(self, n: u64) -> Ext {
        if self.m == 0 {
            return self;
        }
        let n = u128::from(n);
        let q = self.m / n;
        let r = self.m % n;
        let lo = (r << 64) / n;
        // quotient = q × 2^64 + lo, scaled by 2^-64.
        let lz = q.leading_zeros();
        let m = if lz == 0 { q } else { (q << lz) | (lo >> (64 - lz.min(64))) };
        Ext { sign: self.sign, exp: self.exp - lz as i32, m }
    }

    /// 1/self by Newton–Raphson from a double's estimate (≈125 correct bits).
    pub fn recip(self) -> Ext {
        let b = Ext { sign: false, exp: 0, m: self.m };
        let est = 1.0 / ((self.m >> 64) as f64 / 2f64.powi(63));
        let mut y = Ext::from_f64(est);
        let two = Ext::from_u64(2);
        for _ in 0..2 {
            y = y.mul(two.sub(b.mul(y)));
        }
        Ext { sign: self.sign, exp: y.exp - self.exp, m: y.m }
    }

    pub fn div(self, o: Ext) -> Ext {
        self.mul(o.recip())
    }

    /// Square root of a nonnegative value.
    pub fn sqrt(self) -> Ext {
        if self.m == 0 {
            return self;
        }
        // self = a × 2^e2 with e2 even and a ∈ [1, 4).
        let odd = self.exp.rem_euclid(2);
        let a = Ext { sign: false, exp: odd, m: self.m };
        let est = ((self.m >> 64) as f64 / 2f64.powi(63) * f64::from(1 + odd)).sqrt();
        let mut y = Ext::from_f64(est);
        for _ in 0..2 {
            y = y.add(a.div(y)).scale(-1);
        }
        y.scale((self.exp - odd) / 2)
    }

    pub fn from_f64(v: f64) -> Ext {
        let mut env = Env::new(0x037f);
        Ext::from_f80(fp::from_f64(&mut env, v.to_bits()))
    }

    /// Rounds to the register format under `env` (64-bit precision).
    pub fn to_f80(self, env: &mut Env) -> F80 {
        if self.m == 0 {
            return F80::zero(self.sign);
        }
        fp::round_reg(env, self.sign, self.exp + BIAS, self.m, 64)
    }

    /// Relative magnitude test: |self| < 2^e.
    fn below(self, e: i32) -> bool {
        self.m == 0 || self.exp < e
    }
}

// ---- constants ----

struct Consts {
    pi: Ext,
    ln2: Ext,
    ln10: Ext,
}

fn consts() -> &'static Consts {
    static C: OnceLock<Consts> = OnceLock::new();
    C.get_or_init(|| {
        // π = 16 atan(1/5) − 4 atan(1/239); ln 2 = 2 atanh(1/3); ln 10 = 3 ln 2 + 2 atanh(1/9).
        let a5 = atan_series(Ext::ONE.div_u(5));
        let a239 = atan_series(Ext::ONE.div_u(239));
        let pi = a5.scale(4).sub(a239.scale(2));
        let ln2 = atanh_series(Ext::ONE.div_u(3)).scale(1);
        let ln10 = ln2.mul(Ext::from_u64(3)).add(atanh_series(Ext::ONE.div_u(9)).scale(1));
        Consts { pi, ln2, ln10 }
    })
}

/// The value loaded by FLD1/FLDZ/FLDPI/…, rounded under `rc` like the hardware's
/// internal 66-bit constants (no exceptions).
pub fn constant(k: u8, rc: u8) -> F80 {
    let c = consts();
    let v = match k {
        K_ONE => return F80::ONE,
        K_ZERO => return F80::ZERO,
        K_PI => c.pi,
        K_L2T => c.ln10.div(c.ln2),
        K_L2E => c.ln2.recip(),
        K_LG2 => c.ln2.div(c.ln10),
        _ => c.ln2,
    };
    let mut env = Env::new(0x037f | (u16::from(rc) << 10));
    v.to_f80(&mut env)
}

// ---- series ----

/// Sums terms until they no longer affect the 128-bit result.
fn converged(sum: Ext, term: Ext) -> bool {
    term.m == 0 || (sum.m != 0 && term.exp < sum.exp - 130)
}

/// z ± z³/3 + z⁵/5 ± …: with `alternate` the signs alternate (atan), without they
/// do not (atanh). For |z| ≤ ~0.2.
fn odd_power_series(z: Ext, alternate: bool) -> Ext {
    let z2 = z.mul(z);
    let mut pow = z;
    let mut sum = z;
    let mut k = 1u64;
    loop {
        pow = pow.mul(z2);
        if alternate {
            pow = pow.negate();
        }
        let term = pow.div_u(2 * k + 1);
        if converged(sum, term) {
            return sum.add(term);
        }
        sum = sum.add(term);
        k += 1;
    }
}

/// atan(z) = z − z³/3 + z⁵/5 − … for |z| ≤ ~0.2.
fn atan_series(z: Ext) -> Ext {
    odd_power_series(z, true)
}

/// atanh(z) = z + z³/3 + z⁵/5 + … for |z| ≤ ~0.2.
fn atanh_series(z: Ext) -> Ext {
    odd_power_series(z, false)
}

/// e^t − 1 for |t| ≤ ~0.75.
fn expm1_series(t: Ext) -> Ext {
    let mut term = t;
    let mut sum = t;
    let mut n = 2u64;
    loop {
        term = term.mul(t).div_u(n);
        if converged(sum, term) {
            return sum.add(term);
        }
        sum = sum.add(term);
        n += 1;
    }
}

/// (sin r, cos r) for |r| ≤ ~0.8.
fn sin_cos_series(r: Ext) -> (Ext, Ext) {
    let r2 = r.mul(r);
    let mut term = r;
    let mut s = r;
    let mut n = 2u64;
    loop {
        term = term.mul(r2).div_u(n * (n + 1)).negate();
        if converged(s, term) {
            s = s.add(term);
            break;
        }
        s = s.add(term);
        n += 2;
    }
    let mut term = Ext::ONE;
    let mut c = Ext::ONE;
    let mut n = 1u64;
    loop {
        term = term.mul(r2).div_u(n * (n + 1)).negate();
        if converged(c, term) {
            c = c.add(term);
            break;
        }
        c = c.add(term);
        n += 2;
    }
    (s, c)
}

/// ln(x) for x > 0.
fn ln(x: Ext) -> Ext {
    // x = m × 2^k, m ∈ [√½, √2): ln x = k ln 2 + 2 atanh((m − 1)/(m + 1)).
    let mut k = x.exp;
    let mut m = Ext { sign: false, exp: 0, m: x.m };
    // √2 ≈ 1.6a09e667f3bcc908 × 2^0 in hex.
    if m.m > 0xb504_f333_f9de_6484_597d_89b3_754a_be9f {
        m = m.scale(-1);
        k += 1;
    }
    let z = m.sub(Ext::ONE).div(m.add(Ext::ONE));
    let l = atanh_series(z).scale(1);
    if k == 0 {
        l
    } else {
        consts().ln2.mul(Ext::from_i64(i64::from(k))).add(l)
    }
}

/// log2(x) for x > 0.
fn log2(x: Ext) -> Ext {
    let mut k = x.exp;
    let mut m = Ext { sign: false, exp: 0, m: x.m };
    if m.m > 0xb504_f333_f9de_6484_597d_89b3_754a_be9f {
        m = m.scale(-1);
        k += 1;
    }
    let z = m.sub(Ext::ONE).div(m.add(Ext::ONE));
    let frac = atanh_series(z).scale(1).div(consts().ln2);
    Ext::from_i64(i64::from(k)).add(frac)
}

/// atan(t) for t ≥ 0.
fn atan(t: Ext) -> Ext {
    let c = consts();
    if t.m == 0 {
        return t;
    }
    // Reflect to [0, 1], then halve the angle twice: atan t = 2 atan(t / (1 + √(1 + t²))).
    let (t, reflect) = if t.exp >= 0 { (t.recip(), true) } else { (t, false) };
    let mut u = t;
    let mut halvings = 0;
    while !u.below(-3) {
        u = u.div(Ext::ONE.add(Ext::ONE.add(u.mul(u)).sqrt()));
        halvings += 1;
    }
    let a = atan_series(u).scale(halvings);
    if reflect {
        c.pi.scale(-1).sub(a)
    } else {
        a
    }
}

/// 2^x − 1.
fn exp2m1(x: Ext) -> Ext {
    let ln2 = consts().ln2;
    if x.below(0) {
        // |x| < 1: |x ln 2| < 0.7.
        return expm1_series(x.mul(ln2));
    }
    // Larger |x| (outside the documented domain): 2^n × 2^f − 1 with n = round(x).
    let n = x.to_f80(&mut Env::new(0x037f)).to_f64_lossy().round();
    let f = x.sub(Ext::from_f64(n));
    let e = expm1_series(f.mul(ln2)).add(Ext::ONE).scale(n as i32);
    e.sub(Ext::ONE)
}

/// The x87's internal π/2: 0xC90FDAA22168C234C × 2^-67 (66 significant bits).
const PIO2_X87: u128 = 0xc_90fd_aa22_168c_234c;

/// Reduces `x` (|x| < 2^63) exactly modulo the x87's π/2: (quadrant mod 4, r) with
/// |r| ≤ π/4 (+ tiny).
fn reduce(x: Ext) -> (u32, Ext) {
    if x.exp < -1 {
        return (0, x);
    }
    // x = X × 2^(exp − 63) with X the 64-bit significand, x / (π/2) = X × 2^s / P with
    // s = exp − 63 + 67 ∈ [3, 66]. Long division bit by bit (the dividend has up to
    // 130 bits); the remainder is exact.
    let big_x = (x.m >> 64) as u64;
    let s = (x.exp - 63 + 67) as u32;
    let mut rem: u128 = 0;
    let mut q: u128 = 0;
    for i in (0..64 + s).rev() {
        let bit = if i >= s { (big_x >> (i - s)) & 1 } else { 0 };
        rem = (rem << 1) | u128::from(bit);
        q <<= 1;
        if rem >= PIO2_X87 {
            rem -= PIO2_X87;
            q |= 1;
        }
    }
    // Nearest quadrant.
    let (q, r) = if rem > PIO2_X87 / 2 {
        (q + 1, Ext::norm(true, 127 - 67, PIO2_X87 - rem))
    } else {
        (q, Ext::norm(false, 127 - 67, rem))
    };
    let r = if x.sign { r.negate() } else { r };
    let q = if x.sign { (4 - (q & 3) as u32) & 3 } else { (q & 3) as u32 };
    (q, r)
}

/// (sin x, cos x) with the x87's reduction.
fn sin_cos(x: Ext) -> (Ext, Ext) {
    let (q, r) = reduce(x);
    let (s, c) = sin_cos_series(r);
    match q {
        0 => (s, c),
        1 => (c, s.negate()),
        2 => (s.negate(), c.negate()),
        _ => (c.negate(), s),
    }
}

/// tan x from (sin x, cos x); tiny arguments use the series so that the result keeps
/// the direction of its error (x + x³/3 + 2x⁵/15 is above |x|).
fn tan(x: Ext, s: Ext, c: Ext) -> Ext {
    if x.exp < -32 {
        let x2 = x.mul(x);
        let x3 = x2.mul(x);
        return x.add(x3.div_u(3)).add(x3.mul(x2).mul(Ext::from_u64(2)).div_u(15));
    }
    s.div(c)
}

// ---- instructions ----

/// Rounds a working-precision result; exact zero stays exact.
fn round(env: &mut Env, v: Ext) -> F80 {
    let r = v.to_f80(env);
    env.flags |= fp::PE;
    r
}

/// A trig argument: `Ok(Some(x))` finite in range, `Ok(None)` out of range (C2 = 1),
/// `Err(result)` special.
fn trig_arg(env: &mut Env, x: F80) -> Result<Option<Ext>, F80> {
    match x.class() {
        Class::Unsupported | Class::Inf => Err(env.invalid()),
        Class::QNaN | Class::SNaN => Err(fp::propagate_nan(env, x, x)),
        Class::Zero => Err(x),
        c => {
            if c == Class::Denormal && env.denormal() {
                return Err(F80::INDEFINITE);
            }
            if x.exp() >= (BIAS + 63) as u16 {
                Ok(None)
            } else {
                Ok(Some(Ext::from_f80(x)))
            }
        }
    }
}

pub(super) fn execute(cpu: &mut Cpu, k: u8) {
    let mut env = Env::new(cpu.fpu.control);
    let fpu = &mut cpu.fpu;
    let two_operands = matches!(k, T_PATAN | T_FYL2X | T_FYL2XP1);
    if fpu.is_empty(0) || (two_operands && fpu.is_empty(1)) {
        if stack_underflow(fpu) {
            if two_operands {
                fpu.set_st(1, F80::INDEFINITE);
                fpu.pop();
            } else {
                fpu.set_st(0, F80::INDEFINITE);
                if matches!(k, T_SINCOS | T_PTAN) && fpu.is_empty(7) {
                    fpu.push(F80::INDEFINITE);
                }
            }
        }
        return;
    }
    let x = fpu.st(0);
    match k {
        T_SIN | T_COS => {
            fpu.status &= !SW_C2;
            let r = match trig_arg(&mut env, x) {
                Err(special) => {
                    if k == T_COS && x.class() == Class::Zero {
                        F80::ONE
                    } else {
                        special
                    }
                }
                Ok(None) => {
                    fpu.status = (fpu.status & !SW_C1) | SW_C2;
                    return;
                }
                Ok(Some(v)) => {
                    let (s, c) = sin_cos(v);
                    round(&mut env, if k == T_SIN { s } else { c })
                }
            };
            commit(fpu, &env, 0, r, false);
        }
        T_SINCOS | T_PTAN => {
            fpu.status &= !SW_C2;
            if !fpu.is_empty(7) {
                if stack_overflow(fpu) {
                    fpu.set_st(0, F80::INDEFINITE);
                    fpu.push(F80::INDEFINITE);
                }
                return;
            }
            let (a, b) = match trig_arg(&mut env, x) {
                Err(special) => {
                    if x.class() == Class::Zero {
                        // sin 0 = tan 0 = ±0; cos 0 = 1 (FPTAN pushes 1 anyway).
                        (x, F80::ONE)
                    } else {
                        (special, special)
                    }
                }
                Ok(None) => {
                    fpu.status = (fpu.status & !SW_C1) | SW_C2;
                    return;
                }
                Ok(Some(v)) => {
                    let (s, c) = sin_cos(v);
                    if k == T_SINCOS {
                        // ST(1) ← sin, ST(0) ← cos. C1 reflects the last rounding.
                        let sr = round(&mut env, s);
                        let cr = round(&mut env, c);
                        (sr, cr)
                    } else {
                        (round(&mut env, tan(v, s, c)), F80::ONE)
                    }
                }
            };
            if !env.aborts() {
                fpu.set_st(0, a);
                fpu.push(b);
            }
            finish(fpu, &env);
        }
        T_F2XM1 => {
            let r = match x.class() {
                Class::Unsupported => env.invalid(),
                Class::QNaN | Class::SNaN => fp::propagate_nan(&mut env, x, x),
                Class::Zero => x,
                Class::Inf => {
                    if x.sign() {
                        F80::ONE.negate()
                    } else {
                        x
                    }
                }
                c => {
                    if c == Class::Denormal && env.denormal() {
                        return commit(fpu, &env, 0, x, false);
                    }
                    let v = Ext::from_f80(x);
                    if !v.below(0) && v.abs() != Ext::ONE {
                        // Outside [−1, 1] the hardware returns the operand, inexact.
                        env.flags |= fp::PE;
                        return commit(fpu, &env, 0, x, false);
                    }
                    if v.abs() == Ext::ONE {
                        // 2^1 − 1 = 1 and 2^−1 − 1 = −½ exactly.
                        if v.sign {
                            F80::new(true, (BIAS - 1) as u16, 1 << 63)
                        } else {
                            F80::ONE
                        }
                    } else {
                        round(&mut env, exp2m1(v))
                    }
                }
            };
            commit(fpu, &env, 0, r, false);
        }
        _ => {
            let y = fpu.st(1);
            let r = match k {
                T_PATAN => patan(&mut env, y, x),
                T_FYL2X => fyl2x(&mut env, y, x),
                _ => fyl2xp1(&mut env, y, x),
            };
            commit(fpu, &env, 1, r, true);
        }
    }
}

/// Common NaN/unsupported/denormal handling of the two-operand functions.
fn two_prologue(env: &mut Env, y: F80, x: F80) -> Result<(Class, Class), F80> {
    let (cy, cx) = (y.class(), x.class());
    if cy == Class::Unsupported || cx == Class::Unsupported {
        return Err(env.invalid());
    }
    if y.is_nan() || x.is_nan() {
        return Err(fp::propagate_nan(env, y, x));
    }
    if (cy == Class::Denormal || cx == Class::Denormal) && env.denormal() {
        return Err(F80::INDEFINITE);
    }
    Ok((cy, cx))
}

/// FPATAN: atan2(y, x).
fn patan(env: &mut Env, y: F80, x: F80) -> F80 {
    let (cy, cx) = match two_prologue(env, y, x) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let pi = consts().pi;
    let signed = |v: Ext| if y.sign() { v.negate() } else { v };
    let v = match (cy, cx) {
        (Class::Zero, _) => {
            if x.sign() {
                signed(pi)
            } else {
                return F80::zero(y.sign());
            }
        }
        (Class::Inf, Class::Inf) => {
            if x.sign() {
                signed(pi.mul(Ext::from_u64(3)).scale(-2))
            } else {
                signed(pi.scale(-2))
            }
        }
        (Class::Inf, _) | (_, Class::Zero) => signed(pi.scale(-1)),
        (_, Class::Inf) => {
            if x.sign() {
                signed(pi)
            } else {
                return F80::zero(y.sign());
            }
        }
        _ => {
            let (ey, ex) = (Ext::from_f80(y), Ext::from_f80(x));
            let a = atan(ey.abs().div(ex.abs()));
            let a = if x.sign() { pi.sub(a) } else { a };
            signed(a)
        }
    };
    round(env, v)
}

/// FYL2X: y × log2(x).
fn fyl2x(env: &mut Env, y: F80, x: F80) -> F80 {
    if x.sign()
        && matches!(x.class(), Class::Normal | Class::Denormal | Class::Inf)
        && !y.is_nan()
        && y.class() != Class::Unsupported
    {
        // log of a negative number: invalid before any denormal is noticed.
        return env.invalid();
    }
    let (cy, cx) = match two_prologue(env, y, x) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if x.sign() && cx != Class::Zero {
        return env.invalid();
    }
    match (cy, cx) {
        (_, Class::Zero) => {
            return match cy {
                Class::Zero => env.invalid(),
                Class::Inf => F80::inf(!y.sign()),
                _ => {
                    env.flags |= fp::ZE;
                    F80::inf(!y.sign())
                }
            };
        }
        (_, Class::Inf) => {
            return if cy == Class::Zero { env.invalid() } else { F80::inf(y.sign()) };
        }
        _ => {}
    }
    let ex = Ext::from_f80(x);
    let is_one = ex == Ext::ONE;
    match cy {
        Class::Inf => {
            if is_one {
                env.invalid()
            } else if ex.exp >= 0 {
                y
            } else {
                y.negate()
            }
        }
        Class::Zero => F80::zero(y.sign() ^ (ex.exp < 0)),
        _ => {
            // A power of two has an exact logarithm.
            if ex.m == 1 << 127 {
                let k = fp::from_i64(i64::from(ex.exp));
                let p = env.prec;
                env.prec = 64;
                let r = if ex.exp == 0 { F80::zero(y.sign()) } else { fp::mul(env, y, k) };
                env.prec = p;
                return r;
            }
            round(env, Ext::from_f80(y).mul(log2(ex)))
        }
    }
}

/// FYL2XP1: y × log2(x + 1).
fn fyl2xp1(env: &mut Env, y: F80, x: F80) -> F80 {
    let (cy, cx) = match two_prologue(env, y, x) {
        Ok(c) => c,
        Err(r) => return r,
    };
    match (cy, cx) {
        (Class::Inf, Class::Zero) | (Class::Zero, Class::Inf) => env.invalid(),
        (_, Class::Zero) | (Class::Zero, _) => F80::zero(y.sign() ^ x.sign()),
        (Class::Inf, _) => {
            if x.sign() {
                y.negate()
            } else {
                y
            }
        }
        (_, Class::Inf) => {
            if x.sign() {
                env.invalid()
            } else {
                F80::inf(y.sign())
            }
        }
        _ => {
            let ex = Ext::from_f80(x);
            if ex.sign && !ex.below(0) {
                if ex.abs() == Ext::ONE {
                    return env.invalid();
                }
                // x < −1: the hardware returns the operand, inexact.
                env.flags |= fp::PE;
                return x;
            }
            // ln(1 + x) = 2 atanh(x / (2 + x)).
            let two = Ext::from_u64(2);
            let l =
                if ex.below(-1) { atanh_series(ex.div(two.add(ex))).scale(1) } else { ln(Ext::ONE.add(ex)) };
            round(env, Ext::from_f80(y).mul(l.div(consts().ln2)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_known_hex() {
        let c = consts();
        // π = 3.243F6A8885A308D313198A2E0370734…, ln 2 = 0.B17217F7D1CF79ABC9E3B39803F2F6AF…
        assert_eq!(c.pi.exp, 1);
        assert_eq!(c.pi.m >> 8, 0x00c9_0fda_a221_68c2_34c4_c662_8b80_dc1c);
        assert_eq!(c.ln2.exp, -1);
        assert_eq!(c.ln2.m >> 8, 0x00b1_7217_f7d1_cf79_abc9_e3b3_9803_f2f6);
        assert_eq!(constant(K_PI, 0), F80::new(false, 0x4000, 0xc90f_daa2_2168_c235));
        assert_eq!(constant(K_PI, fp::RC_ZERO), F80::new(false, 0x4000, 0xc90f_daa2_2168_c234));
        assert_eq!(constant(K_L2T, 0), F80::new(false, 0x4000, 0xd49a_784b_cd1b_8afe));
        assert_eq!(constant(K_L2E, 0), F80::new(false, 0x3fff, 0xb8aa_3b29_5c17_f0bc));
        assert_eq!(constant(K_LG2, 0), F80::new(false, 0x3ffd, 0x9a20_9a84_fbcf_f799));
        assert_eq!(constant(K_LN2, 0), F80::new(false, 0x3ffe, 0xb172_17f7_d1cf_79ac));
    }

    #[test]
    fn sin_of_small_values() {
        let mut env = Env::new(0x037f);
        let x = Ext::from_f64(0.5);
        let (s, c) = sin_cos(x);
        assert_eq!(round(&mut env, s).to_f64_lossy(), 0.5f64.sin());
        assert_eq!(round(&mut env, c).to_f64_lossy(), 0.5f64.cos());
    }
}
