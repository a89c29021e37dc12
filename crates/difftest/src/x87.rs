//! The x87 part of a snapshot: what each side gives, what is compared, and how an
//! 80-bit value is shown in a report.
//!
//! Compared after every instruction (see docs/difftest.md, "x87 state"):
//!
//! * FCW, all 16 bits;
//! * FSW, all bits (exception flags, SF, ES, B, TOP, C0–C3) except the condition
//!   codes the SDM leaves undefined after the instruction
//!   ([`growsdown_cpu::spec::x87::undefined_cc`]);
//! * the abridged tag (which physical registers are non-empty), where the reference
//!   gives it (QEMU's gdbstub answers `ftag` = 0 whatever the registers hold);
//! * the contents of the **non-empty** physical registers. An empty register's bits
//!   are not compared: no instruction reads them as a value (only FSAVE/FXSAVE copy
//!   them to memory, and memory is not compared).
//!
//! Not compared: FIP/FCS/FOP and FDP/FDS (QEMU's log does not show them, its
//! gdbstub answers zeros for some, and an AMD host's FXSAVE leaves FIP/FDP/FOP out
//! unless an exception is pending), and MXCSR (no SSE on the CPU growsdown claims).

use growsdown_cpu::fpu::float80::F80;
use growsdown_cpu::fpu::{Fpu, SW_B, SW_C0, SW_C1, SW_C2, SW_C3, SW_ES, SW_SF};

/// The x87 state one side reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct X87 {
    pub fcw: u16,
    /// Status word with TOP in bits 11–13.
    pub fsw: u16,
    /// Bit p set: physical register R`p` is not empty (FXSAVE's abridged tag).
    pub valid: u8,
    /// Whether `valid` is known.
    pub tags_known: bool,
    /// Physical registers R0–R7; ST(i) is R((TOP + i) & 7).
    pub r: [F80; 8],
}

impl X87 {
    pub fn of_fpu(f: &Fpu) -> Self {
        Self { fcw: f.control, fsw: f.status_word(), valid: !f.empty, tags_known: true, r: f.regs }
    }

    pub fn top(&self) -> usize {
        usize::from((self.fsw >> 11) & 7)
    }

    /// Physical register of ST(i).
    pub fn phys(&self, i: usize) -> usize {
        (self.top() + i) & 7
    }

    /// Builds the state from registers given in ST order (FXSAVE, FNSAVE).
    pub fn from_st_order(fcw: u16, fsw: u16, valid: u8, tags_known: bool, st: [F80; 8]) -> Self {
        let mut x = Self { fcw, fsw, valid, tags_known, r: [F80::default(); 8] };
        for (i, v) in st.into_iter().enumerate() {
            let p = x.phys(i);
            x.r[p] = v;
        }
        x
    }
}

/// `bfbf:8000000000000000` — sign+exponent, then the 64-bit significand.
pub fn hex80(v: F80) -> String {
    format!("{:04x}:{:016x}", v.se, v.sig)
}

/// "[TOP=7 C1 PE]": TOP, the set condition codes and flags of a status word.
pub fn fsw_names(sw: u16) -> String {
    let mut v = vec![format!("TOP={}", (sw >> 11) & 7)];
    for (bit, name) in [
        (SW_C3, "C3"),
        (SW_C2, "C2"),
        (SW_C1, "C1"),
        (SW_C0, "C0"),
        (SW_B, "B"),
        (SW_ES, "ES"),
        (SW_SF, "SF"),
        (1 << 5, "PE"),
        (1 << 4, "UE"),
        (1 << 3, "OE"),
        (1 << 2, "ZE"),
        (1 << 1, "DE"),
        (1 << 0, "IE"),
    ] {
        if sw & bit != 0 {
            v.push(name.into());
        }
    }
    format!("[{}]", v.join(" "))
}

/// Names of status word bits (for "fsw differs in: C1").
pub fn fsw_bit_names(mask: u16) -> String {
    let names = fsw_names(mask & !(7 << 11));
    let inner = names.trim_start_matches("[TOP=0").trim_end_matches(']').trim();
    let mut s = inner.to_string();
    if mask & (7 << 11) != 0 {
        s = format!("TOP {s}");
    }
    s.trim().to_string()
}

/// The exact value of an 80-bit register in decimal, to 21 significant digits
/// (enough to tell apart two values one ulp apart): "-5.42101086242752217004e-20".
pub fn decimal80(v: F80) -> String {
    let neg = v.se & 0x8000 != 0;
    let exp = i32::from(v.se & 0x7fff);
    let sign = if neg { "-" } else { "" };
    if exp == 0x7fff {
        return if v.sig << 1 == 0 {
            format!("{sign}inf")
        } else if v.sig & (1 << 63) == 0 {
            format!("{sign}nan (pseudo)")
        } else if v.sig & (1 << 62) != 0 {
            format!("{sign}qnan")
        } else {
            format!("{sign}snan")
        };
    }
    if v.sig == 0 {
        return format!("{sign}0");
    }
    // value = sig × 2^e
    let e = if exp == 0 { 1 - 16383 - 63 } else { exp - 16383 - 63 };
    // Big integer in base 10^9, least significant limb first.
    const BASE: u64 = 1_000_000_000;
    let mut limbs: Vec<u64> = Vec::new();
    let mut s = v.sig;
    while s > 0 {
        limbs.push(s % BASE);
        s /= BASE;
    }
    let mul = |limbs: &mut Vec<u64>, m: u64| {
        let mut carry = 0u64;
        for l in limbs.iter_mut() {
            let t = *l * m + carry;
            *l = t % BASE;
            carry = t / BASE;
        }
        while carry > 0 {
            limbs.push(carry % BASE);
            carry /= BASE;
        }
    };
    // sig × 2^e = sig × 5^-e × 10^e for negative e.
    let (factor, chunk, mut n) = if e >= 0 { (2u64, 1u64 << 29, e) } else { (5u64, 5u64.pow(12), -e) };
    let step = if e >= 0 { 29 } else { 12 };
    while n >= step {
        mul(&mut limbs, chunk);
        n -= step;
    }
    mul(&mut limbs, factor.pow(n as u32));
    let mut digits = limbs.last().map(|l| l.to_string()).unwrap_or_default();
    for l in limbs.iter().rev().skip(1) {
        digits.push_str(&format!("{l:09}"));
    }
    // value = digits × 10^(min(e, 0)).
    let mut dexp = digits.len() as i32 - 1 + e.min(0);
    let mut d: Vec<u8> = digits.bytes().map(|b| b - b'0').collect();
    const SIG: usize = 21;
    if d.len() > SIG {
        let round_up = d[SIG] >= 5;
        d.truncate(SIG);
        if round_up {
            let mut i = SIG;
            loop {
                if i == 0 {
                    d.insert(0, 1);
                    d.truncate(SIG);
                    dexp += 1;
                    break;
                }
                i -= 1;
                if d[i] == 9 {
                    d[i] = 0;
                } else {
                    d[i] += 1;
                    break;
                }
            }
        }
    }
    while d.len() > 1 && d.last() == Some(&0) {
        d.pop();
    }
    let mut out = format!("{sign}{}", d[0]);
    if d.len() > 1 {
        out.push('.');
        out.extend(d[1..].iter().map(|x| char::from(b'0' + x)));
    }
    if dexp != 0 {
        out.push_str(&format!("e{dexp}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(se: u16, sig: u64) -> F80 {
        F80 { sig, se }
    }

    #[test]
    fn decimal_values() {
        assert_eq!(decimal80(f(0x3fff, 1 << 63)), "1");
        assert_eq!(decimal80(f(0x4000, 0xc000_0000_0000_0000)), "3");
        assert_eq!(decimal80(f(0xbfbf, 1 << 63)), "-5.42101086242752217004e-20"); // -2^-64
        assert_eq!(decimal80(f(0x4000, 0xc90f_daa2_2168_c235)), "3.14159265358979323851");
        assert_eq!(decimal80(f(0x3ffd, 0xaaaa_aaaa_aaaa_aaab)), "3.33333333333333333342e-1");
        assert_eq!(decimal80(f(0x3fca, 0x8d31_3198_a2e0_3800)), "1.22464679914735320717e-16");
        assert_eq!(decimal80(f(0x403e, u64::MAX)), "1.8446744073709551615e19");
        assert_eq!(decimal80(f(0x8000, 0)), "-0");
        assert_eq!(decimal80(f(0x7fff, 1 << 63)), "inf");
        assert_eq!(decimal80(f(0xffff, 0xc000_0000_0000_0000)), "-qnan");
        // The smallest denormal, 2^-16445.
        assert!(decimal80(f(0, 1)).starts_with("3.6451995318824746025"), "{}", decimal80(f(0, 1)));
    }

    #[test]
    fn st_order_and_names() {
        let mut st = [F80::default(); 8];
        st[0] = f(0x3fff, 1 << 63);
        let x = X87::from_st_order(0x37f, 0x3a20, 0x80, true, st);
        assert_eq!(x.top(), 7);
        assert_eq!(x.r[7], st[0]);
        assert_eq!(fsw_names(0x3a20), "[TOP=7 C1 PE]");
        assert_eq!(fsw_bit_names(SW_C1), "C1");
        assert_eq!(fsw_bit_names(SW_C1 | 0x20 | 0x0800), "TOP C1 PE");
    }
}
