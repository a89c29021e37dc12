//! EFLAGS with lazy evaluation of the six arithmetic flags.
//!
//! ADD/ADC/SUB/SBB/CMP/INC/DEC/NEG, the logic instructions and the shifts are by far
//! the most common flag writers and their flags are rarely read; they record operands
//! and result and the flags are computed when something reads them (the v86/Bochs
//! scheme, see docs/prior-art.md). Every other writer sets flags eagerly through
//! [`Flags::set_arith`]. Reads go through the accessors, which are exact for every
//! architecturally defined bit (SDM Vol. 1 §3.4.3, Appendix A).

use crate::operand::Int;
use iced_x86::ConditionCode;

pub const CF: u32 = 1 << 0;
pub const PF: u32 = 1 << 2;
pub const AF: u32 = 1 << 4;
pub const ZF: u32 = 1 << 6;
pub const SF: u32 = 1 << 7;
pub const TF: u32 = 1 << 8;
pub const IF: u32 = 1 << 9;
pub const DF: u32 = 1 << 10;
pub const OF: u32 = 1 << 11;
pub const IOPL: u32 = 3 << 12;
pub const NT: u32 = 1 << 14;
pub const RF: u32 = 1 << 16;
pub const VM: u32 = 1 << 17;
pub const AC: u32 = 1 << 18;
pub const VIF: u32 = 1 << 19;
pub const VIP: u32 = 1 << 20;
pub const ID: u32 = 1 << 21;
/// Bit 1 always reads as 1.
pub const FIXED: u32 = 1 << 1;
pub const ARITH: u32 = CF | PF | AF | ZF | SF | OF;
/// Bits POPF may change at CPL 3 with IOPL 0 (IF, IOPL, VM, RF, VIF, VIP excluded).
pub const USER_POPF: u32 = ARITH | TF | DF | NT | AC | ID;

/// What the recorded operands of the last lazy flag writer mean: the low four bits
/// of [`Flags::lazy`]. Bits 4–5 hold the operand width as the byte shift of its sign
/// bit from bit 7 (0: 8, 1: 16, 3: 32 bits) and
/// bit 6 the carry in of ADC/SBB, the CF that INC/DEC preserve or a shift's CF, so
/// recording a writer's flags is four stores (three for the logic instructions and
/// the shifts), and the width costs nothing until a flag is read.
pub(crate) mod lazy {
    pub const NONE: u8 = 0;
    pub const ADD: u8 = 1;
    pub const ADC: u8 = 2;
    pub const SUB: u8 = 3;
    pub const SBB: u8 = 4;
    pub const LOGIC: u8 = 5;
    pub const INC: u8 = 6;
    pub const DEC: u8 = 7;
    /// SHL/SAL/SHR/SAR/SHLD/SHRD by a non-zero count: CF in [`CARRY`], OF (0 or 1)
    /// in `a`, AF set (as the host does, see `ops/shift.rs`), SF/ZF/PF from `res`.
    pub const SHIFT: u8 = 8;
    pub const KIND: u8 = 15;
    pub const WIDTH_SHIFT: u8 = 4;
    pub const CARRY: u8 = 1 << 6;
}

#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct Flags {
    /// Materialised EFLAGS; the ARITH bits are stale while the lazy kind is not NONE.
    bits: u32,
    a: u32,
    b: u32,
    res: u32,
    lazy: u8,
}

impl Default for Flags {
    fn default() -> Self {
        Self { bits: FIXED | IF, a: 0, b: 0, res: 0, lazy: lazy::NONE }
    }
}

/// PF: an even number of ones in the low byte. Folded to a nibble and looked up in a
/// 16-bit table (bit i set when i has an even number of ones): four host
/// instructions, where `count_ones` without the POPCNT the x86-64 baseline lacks
/// takes a dozen.
#[inline(always)]
fn parity(v: u32) -> bool {
    const EVEN: u32 = 0x9669;
    (EVEN >> ((v ^ (v >> 4)) & 0xf)) & 1 != 0
}

/// Width code of T for [`Flags::lazy`].
#[inline(always)]
pub(crate) fn width<T: Int>() -> u8 {
    match T::BITS {
        8 => 0,
        16 => 1,
        _ => 3,
    }
}

impl Flags {
    #[inline(always)]
    fn record<T: Int>(&mut self, kind: u8, a: T, b: T, res: T, carry: bool) {
        self.lazy = kind | (width::<T>() << lazy::WIDTH_SHIFT) | if carry { lazy::CARRY } else { 0 };
        self.a = a.u32();
        self.b = b.u32();
        self.res = res.u32();
    }

    #[inline(always)]
    fn kind(&self) -> u8 {
        self.lazy & lazy::KIND
    }

    #[inline(always)]
    fn carry(&self) -> bool {
        self.lazy & lazy::CARRY != 0
    }

    /// Sign bit and all-ones mask of the recorded width.
    #[inline(always)]
    fn sign(&self) -> u32 {
        0x80 << (8 * u32::from((self.lazy >> lazy::WIDTH_SHIFT) & 3))
    }

    #[inline(always)]
    fn mask(&self) -> u32 {
        (self.sign() << 1).wrapping_sub(1)
    }

    /// Flags of `res = a + b`.
    #[inline(always)]
    pub fn add<T: Int>(&mut self, a: T, b: T, res: T) {
        self.record(lazy::ADD, a, b, res, false);
    }
    /// Flags of `res = a + b + carry_in`.
    #[inline(always)]
    pub fn adc<T: Int>(&mut self, a: T, b: T, res: T, carry_in: bool) {
        self.record(lazy::ADC, a, b, res, carry_in);
    }
    /// Flags of `res = a - b` (SUB, CMP, NEG as 0 - b).
    #[inline(always)]
    pub fn sub<T: Int>(&mut self, a: T, b: T, res: T) {
        self.record(lazy::SUB, a, b, res, false);
    }
    /// Flags of `res = a - b - borrow_in`.
    #[inline(always)]
    pub fn sbb<T: Int>(&mut self, a: T, b: T, res: T, borrow_in: bool) {
        self.record(lazy::SBB, a, b, res, borrow_in);
    }
    /// AND/OR/XOR/TEST: CF=OF=0, SF/ZF/PF from the result, AF cleared (undefined in
    /// the SDM; current Intel and AMD parts clear it). The operands are not needed.
    #[inline(always)]
    pub fn logic<T: Int>(&mut self, res: T) {
        self.lazy = lazy::LOGIC | (width::<T>() << lazy::WIDTH_SHIFT);
        self.res = res.u32();
    }
    /// A shift's flags (see [`lazy::SHIFT`]): CF and OF as the shift defines them,
    /// AF set, SF/ZF/PF from the result, formed only when read.
    #[inline(always)]
    pub fn shift<T: Int>(&mut self, res: T, cf: bool, of: bool) {
        self.lazy = lazy::SHIFT | (width::<T>() << lazy::WIDTH_SHIFT) | if cf { lazy::CARRY } else { 0 };
        self.a = u32::from(of);
        self.res = res.u32();
    }
    /// INC: like ADD 1 but CF is preserved.
    #[inline(always)]
    pub fn inc<T: Int>(&mut self, a: T, res: T) {
        let cf = self.cf();
        self.record(lazy::INC, a, T::from_u32(1), res, cf);
    }
    /// DEC: like SUB 1 but CF is preserved.
    #[inline(always)]
    pub fn dec<T: Int>(&mut self, a: T, res: T) {
        let cf = self.cf();
        self.record(lazy::DEC, a, T::from_u32(1), res, cf);
    }

    /// Sets all six arithmetic flags at once.
    #[inline]
    pub fn set_arith(&mut self, cf: bool, pf: bool, af: bool, zf: bool, sf: bool, of: bool) {
        // All six are replaced: the lazy state need not be evaluated first.
        self.lazy = lazy::NONE;
        self.bits = (self.bits & !ARITH)
            | (u32::from(cf) * CF)
            | (u32::from(pf) * PF)
            | (u32::from(af) * AF)
            | (u32::from(zf) * ZF)
            | (u32::from(sf) * SF)
            | (u32::from(of) * OF);
    }

    /// SF, ZF and PF from a result of width T, the way most instructions define them.
    #[inline]
    pub fn szp<T: Int>(res: T) -> (bool, bool, bool) {
        let r = res.u32();
        (r & T::SIGN != 0, r == 0, parity(r))
    }

    pub fn cf(&self) -> bool {
        let (a, b, r) = (self.a, self.b, self.res);
        match self.kind() {
            lazy::NONE => self.bits & CF != 0,
            lazy::ADD => r < a,
            lazy::ADC => r < a || (self.carry() && r == a),
            lazy::SUB => a < b,
            lazy::SBB => a < b || (self.carry() && a == b),
            lazy::LOGIC => false,
            _ => self.carry(),
        }
    }

    pub fn of(&self) -> bool {
        let (a, b, r, s) = (self.a, self.b, self.res, self.sign());
        match self.kind() {
            lazy::NONE => self.bits & OF != 0,
            lazy::ADD | lazy::ADC | lazy::INC => (a ^ r) & (b ^ r) & s != 0,
            lazy::SUB | lazy::SBB | lazy::DEC => (a ^ b) & (a ^ r) & s != 0,
            lazy::SHIFT => a != 0,
            _ => false,
        }
    }

    pub fn af(&self) -> bool {
        match self.kind() {
            lazy::NONE => self.bits & AF != 0,
            lazy::LOGIC => false,
            lazy::SHIFT => true,
            _ => (self.a ^ self.b ^ self.res) & 0x10 != 0,
        }
    }

    #[inline]
    pub fn zf(&self) -> bool {
        match self.kind() {
            lazy::NONE => self.bits & ZF != 0,
            _ => self.res & self.mask() == 0,
        }
    }

    #[inline]
    pub fn sf(&self) -> bool {
        match self.kind() {
            lazy::NONE => self.bits & SF != 0,
            _ => self.res & self.sign() != 0,
        }
    }

    pub fn pf(&self) -> bool {
        match self.kind() {
            lazy::NONE => self.bits & PF != 0,
            _ => parity(self.res),
        }
    }

    #[inline]
    pub fn df(&self) -> bool {
        self.bits & DF != 0
    }

    /// Folds the lazy state into `bits`: the six flags in one pass over the kind (the
    /// accessors above each match on it again), SF, ZF and PF from the result alike
    /// for every kind.
    pub fn materialize(&mut self) {
        let kind = self.kind();
        if kind == lazy::NONE {
            return;
        }
        let (a, b, r, s) = (self.a, self.b, self.res, self.sign());
        let szp = (u32::from(r & s != 0) * SF)
            | (u32::from(r & ((s << 1).wrapping_sub(1)) == 0) * ZF)
            | (u32::from(parity(r)) * PF);
        // CF, AF and OF as the accessors define them, each worked out in its arm only.
        let af = || (a ^ b ^ r) & AF;
        let add_of = || u32::from((a ^ r) & (b ^ r) & s != 0) * OF;
        let sub_of = || u32::from((a ^ b) & (a ^ r) & s != 0) * OF;
        let carry = self.carry();
        let v = match kind {
            lazy::ADD => u32::from(r < a) | af() | add_of(),
            lazy::ADC => u32::from(r < a || (carry && r == a)) | af() | add_of(),
            lazy::SUB => u32::from(a < b) | af() | sub_of(),
            lazy::SBB => u32::from(a < b || (carry && a == b)) | af() | sub_of(),
            lazy::INC => u32::from(carry) | af() | add_of(),
            lazy::DEC => u32::from(carry) | af() | sub_of(),
            lazy::SHIFT => u32::from(carry) | AF | (u32::from(a != 0) * OF),
            lazy::LOGIC => 0,
            // A kind added without an arm here: the accessors, slower but exact.
            _ => (u32::from(self.cf()) * CF) | (u32::from(self.af()) * AF) | (u32::from(self.of()) * OF),
        };
        self.bits = (self.bits & !ARITH) | szp | v;
        self.lazy = lazy::NONE;
    }

    /// Sets CF and OF and leaves the other four arithmetic flags as they are (MUL,
    /// IMUL, rotates): one fold of the lazy state for both.
    #[inline]
    pub fn set_cf_of(&mut self, cf: bool, of: bool) {
        self.materialize();
        self.bits = (self.bits & !(CF | OF)) | (u32::from(cf) * CF) | (u32::from(of) * OF);
    }

    /// The full EFLAGS value.
    pub fn get(&self) -> u32 {
        let mut f = *self;
        f.materialize();
        f.bits | FIXED
    }

    /// Replaces EFLAGS wholesale (the caller applies any privilege mask).
    pub fn set(&mut self, v: u32) {
        self.lazy = lazy::NONE;
        self.bits = (v & 0x003f_7fd5) | FIXED;
    }

    /// Sets or clears individual bits given by `mask`.
    pub fn set_bits(&mut self, mask: u32, on: bool) {
        self.materialize();
        if on {
            self.bits |= mask;
        } else {
            self.bits &= !mask;
        }
    }

    #[inline]
    pub fn set_cf(&mut self, on: bool) {
        self.set_bits(CF, on);
    }

    /// Evaluates a condition when the lazy state is known, from the instruction
    /// before in the same block, to be `KIND` (SUB: CMP/SUB/NEG; LOGIC:
    /// AND/OR/XOR/TEST) at width T: the flags are never formed, the comparison is made
    /// on the recorded operands (SDM Vol. 1 Appendix B, "EFLAGS Condition Codes").
    #[inline(always)]
    pub(crate) fn cond_known<T: Int, const KIND: u8>(&self, cc: ConditionCode) -> bool {
        use ConditionCode as C;
        // The kind may have become NONE since (CLD/STD materialise the flags); the
        // operands stay recorded, and agree with what was materialised.
        let (a, b, r) = (self.a, self.b, self.res);
        let signed = |v: u32| (v ^ T::SIGN).wrapping_sub(T::SIGN) as i32;
        let zf = r & T::MASK == 0;
        let sf = r & T::SIGN != 0;
        if KIND == lazy::SUB {
            match cc {
                C::e => zf,
                C::ne => !zf,
                C::b => a < b,
                C::ae => a >= b,
                C::be => a <= b,
                C::a => a > b,
                C::s => sf,
                C::ns => !sf,
                C::l => signed(a) < signed(b),
                C::ge => signed(a) >= signed(b),
                C::le => signed(a) <= signed(b),
                C::g => signed(a) > signed(b),
                _ => self.cond(cc),
            }
        } else {
            // LOGIC: CF = OF = 0.
            match cc {
                C::e | C::be => zf,
                C::ne | C::a => !zf,
                C::b | C::o => false,
                C::ae | C::no => true,
                C::s | C::l => sf,
                C::ns | C::ge => !sf,
                C::le => zf || sf,
                C::g => !zf && !sf,
                _ => self.cond(cc),
            }
        }
    }

    /// Evaluates a Jcc/SETcc/CMOVcc condition.
    #[inline]
    pub fn cond(&self, cc: ConditionCode) -> bool {
        use ConditionCode as C;
        match cc {
            C::None => true,
            C::o => self.of(),
            C::no => !self.of(),
            C::b => self.cf(),
            C::ae => !self.cf(),
            C::e => self.zf(),
            C::ne => !self.zf(),
            C::be => self.cf() || self.zf(),
            C::a => !self.cf() && !self.zf(),
            C::s => self.sf(),
            C::ns => !self.sf(),
            C::p => self.pf(),
            C::np => !self.pf(),
            C::l => self.sf() != self.of(),
            C::ge => self.sf() == self.of(),
            C::le => self.zf() || self.sf() != self.of(),
            C::g => !self.zf() && self.sf() == self.of(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_overflow_and_carry() {
        let mut f = Flags::default();
        f.add::<u8>(0x7f, 1, 0x80);
        assert!(f.of() && !f.cf() && f.sf() && !f.zf() && f.af());
        f.add::<u8>(0xff, 1, 0);
        assert!(!f.of() && f.cf() && f.zf() && f.pf());
    }

    #[test]
    fn sbb_with_borrow_equal_operands() {
        let mut f = Flags::default();
        f.sbb::<u32>(5, 5, u32::MAX, true);
        assert!(f.cf() && f.sf() && !f.of());
    }

    /// Every lazy kind folds into the same six bits its accessors give one by one.
    #[test]
    fn materialize_agrees_with_the_accessors_for_every_kind() {
        let values = [
            0u32,
            1,
            0x0f,
            0x10,
            0x7f,
            0x80,
            0xff,
            0x7fff,
            0x8000,
            0xffff,
            0x7fff_ffff,
            0x8000_0000,
            u32::MAX,
        ];
        let mut states = Vec::new();
        for &a in &values {
            for &b in &values {
                for carry in [false, true] {
                    let mut f = Flags::default();
                    f.add::<u32>(a, b, a.wrapping_add(b));
                    states.push(f);
                    f.adc::<u16>(
                        a as u16,
                        b as u16,
                        (a as u16).wrapping_add(b as u16).wrapping_add(u16::from(carry)),
                        carry,
                    );
                    states.push(f);
                    f.sub::<u8>(a as u8, b as u8, (a as u8).wrapping_sub(b as u8));
                    states.push(f);
                    f.sbb::<u32>(a, b, a.wrapping_sub(b).wrapping_sub(u32::from(carry)), carry);
                    states.push(f);
                    f.logic::<u16>(a as u16 & b as u16);
                    states.push(f);
                    f.set_cf(carry);
                    f.inc::<u32>(a, a.wrapping_add(1));
                    states.push(f);
                    f.set_cf(carry);
                    f.dec::<u8>(a as u8, (a as u8).wrapping_sub(1));
                    states.push(f);
                    f.shift::<u32>(a ^ b, carry, b & 1 != 0);
                    states.push(f);
                }
            }
        }
        for f in states {
            let each = (u32::from(f.cf()) * CF)
                | (u32::from(f.pf()) * PF)
                | (u32::from(f.af()) * AF)
                | (u32::from(f.zf()) * ZF)
                | (u32::from(f.sf()) * SF)
                | (u32::from(f.of()) * OF);
            assert_eq!(f.get() & ARITH, each, "{f:?}");
        }
    }

    #[test]
    fn inc_preserves_carry() {
        let mut f = Flags::default();
        f.set_cf(true);
        f.inc::<u16>(0x7fff, 0x8000);
        assert!(f.cf() && f.of());
        assert_eq!(f.get() & (CF | OF | SF | FIXED), CF | OF | SF | FIXED);
    }
}
