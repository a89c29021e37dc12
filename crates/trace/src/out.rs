//! Appending to a byte buffer what `write!` would, for the few shapes the per-fault
//! records use. `core::fmt` goes through a `dyn Write` call and padding logic per
//! argument; a fault-heavy guest writes hundreds of thousands of records, and the
//! formatting machinery was most of what tracing cost.

use growsdown_kernel::machine::{VM_EXEC, VM_MAYSHARE, VM_READ, VM_WRITE};

/// A byte buffer written at a cursor: the records are appended here, then written
/// out. The bytes past the cursor are already initialized scratch space, so that
/// appending a constant is one bounds check and one fixed-size copy (`Vec` checks
/// capacity, updates its length and calls memcpy for every piece), and a number of up
/// to eight digits is one eight-byte store of which only its digits are kept. Grows
/// when a piece does not fit.
pub struct Out {
    buf: Vec<u8>,
    /// Bytes written: the end of the output.
    len: usize,
}

impl Default for Out {
    fn default() -> Self {
        Out::with_capacity(256)
    }
}

impl Out {
    pub fn with_capacity(n: usize) -> Self {
        Out { buf: vec![0; n.max(16)], len: 0 }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// What was written, as text: every writer of this crate writes UTF-8.
    pub fn into_string(mut self) -> String {
        self.buf.truncate(self.len);
        String::from_utf8(self.buf).expect("the trace formats are UTF-8")
    }

    /// Appends `b`.
    #[inline(always)]
    pub fn put<const N: usize>(&mut self, b: &[u8; N]) {
        self.put_first(b, N);
    }

    /// Appends the first `n` bytes of `b`, storing all `N`: a copy of a size known
    /// when compiling, not a call to memcpy. `n` is at most `N`.
    #[inline(always)]
    pub fn put_first<const N: usize>(&mut self, b: &[u8; N], n: usize) {
        let at = self.len;
        match self.buf.get_mut(at..at + N) {
            Some(room) => room.copy_from_slice(b),
            None => self.grow_put(b),
        }
        self.len = at + n.min(N);
    }

    /// Appends a slice of any length.
    #[inline]
    pub fn put_slice(&mut self, b: &[u8]) {
        let at = self.len;
        match self.buf.get_mut(at..at + b.len()) {
            Some(room) => room.copy_from_slice(b),
            None => self.grow_put(b),
        }
        self.len = at + b.len();
    }

    /// Cuts the output back to its first `len` bytes.
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Overwrites the `n` (at most 8) bytes written at `at` with the first `n` of
    /// `b`: one eight-byte load and store that keep the bytes after them (those
    /// written, or the scratch past the cursor).
    #[inline(always)]
    pub fn patch(&mut self, at: usize, b: &[u8; 8], n: usize) {
        let n = n.min(8);
        match self.buf.get_mut(at..).and_then(|w| w.first_chunk_mut::<8>()) {
            Some(w) => {
                let old = u64::from_le_bytes(*w);
                let keep = (!0u64).checked_shl(8 * n as u32).unwrap_or(0);
                *w = ((old & keep) | (u64::from_le_bytes(*b) & !keep)).to_le_bytes();
            }
            None => {
                if let Some(w) = self.buf.get_mut(at..at + n) {
                    w.copy_from_slice(&b[..n]);
                }
            }
        }
    }

    #[inline(always)]
    pub fn byte(&mut self, b: u8) {
        self.put(&[b]);
    }

    /// Copies `b` to the cursor after making room (the cursor stays).
    #[cold]
    #[inline(never)]
    fn grow_put(&mut self, b: &[u8]) {
        let want = (self.len + b.len()).max(self.buf.len() * 2);
        self.buf.resize(want, 0);
        self.buf[self.len..self.len + b.len()].copy_from_slice(b);
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `{:#010x}` of a u32: always `0x` and eight digits.
pub(crate) fn hex0x8(out: &mut Out, v: u32) {
    out.put(&hex0x8_digits(v));
}

/// `{:#x}`: no leading zeros.
#[inline]
pub(crate) fn hex0x(out: &mut Out, v: u32) {
    let (d, digits) = hex_digits(v);
    out.put_first(&[b'0', b'x', d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]], 2 + digits);
}

/// The digits of `{:x}` (no leading zeros), the first in the first byte, and how
/// many.
#[inline]
pub(crate) fn hex_digits(v: u32) -> ([u8; 8], usize) {
    let digits = (8 - v.leading_zeros() / 4).max(1) as usize;
    ((u64::from_be_bytes(hex8_digits(v)) << (8 * (8 - digits))).to_be_bytes(), digits)
}

/// What [`hex0x8`] appends.
pub(crate) fn hex0x8_digits(v: u32) -> [u8; 10] {
    let d = hex8_digits(v);
    [b'0', b'x', d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]
}

/// `{:08x}`. The nibbles are spread one to a byte and all eight turned
/// into digits at once, with neither a loop nor a table: a trace record has half a
/// dozen addresses.
pub(crate) fn hex8_digits(v: u32) -> [u8; 8] {
    let x = u64::from(v);
    let x = ((x & 0xffff_0000) << 16) | (x & 0xffff);
    let x = ((x & 0x0000_ff00_0000_ff00) << 8) | (x & 0x0000_00ff_0000_00ff);
    let x = ((x & 0x00f0_00f0_00f0_00f0) << 4) | (x & 0x000f_000f_000f_000f);
    // 1 in each byte whose nibble is 10 or more: adding 6 carries into bit 4.
    let letters = ((x + 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101;
    (x + 0x3030_3030_3030_3030 + letters * u64::from(b'a' - b'0' - 10)).to_be_bytes()
}

/// `{start:08x}-{end:08x} {perms}`, a VMA as the text format writes it.
pub(crate) fn vma_range(start: u32, end: u32, flags: u32) -> [u8; 22] {
    let mut r = [0u8; 22];
    r[..8].copy_from_slice(&hex8_digits(start));
    r[8] = b'-';
    r[9..17].copy_from_slice(&hex8_digits(end));
    r[17] = b' ';
    r[18..].copy_from_slice(&perms(flags));
    r
}

/// `{}` of an unsigned integer.
#[inline(always)]
pub(crate) fn dec(out: &mut Out, v: u64) {
    if v < 10 {
        // Pids and error codes.
        out.byte(b'0' + v as u8);
    } else if v < E8 {
        dec8(out, v as u32);
    } else {
        dec_long(out, v);
    }
}

const E8: u64 = 100_000_000;

/// [`dec`] of 10 to 10^8 - 1: eight digits stored, the leading zeros cut off.
#[inline(always)]
fn dec8(out: &mut Out, v: u32) {
    let (d, n) = trimmed8(v);
    out.put_first(&d, n);
}

/// The digits of 1 <= `v` < 10^8 without leading zeros, the first in the first
/// byte, and how many.
#[inline(always)]
fn trimmed8(v: u32) -> ([u8; 8], usize) {
    let d = digits8(v);
    // The leading zeros are the bytes that are b'0' before the first digit.
    let n = 8 - ((d - ZEROS8).leading_zeros() / 8) as usize;
    ((d << (8 * (8 - n))).to_be_bytes(), n)
}

/// [`dec`] of 10^8 and more: out of line, so that `dec` itself (not recursive) is
/// inlined where the records write their numbers.
#[inline(never)]
fn dec_long(out: &mut Out, v: u64) {
    if v < E8 * E8 {
        dec(out, v / E8);
        out.put(&digits8((v % E8) as u32).to_be_bytes());
    } else {
        dec(out, v / (E8 * E8));
        dec_pad16(out, v % (E8 * E8));
    }
}

/// [`dec`] for one field of consecutive records (a fault's sequence number, its
/// instruction count, the fault counters): all but the last two digits are kept
/// from the number before, which they mostly equal, so a number costs a division by
/// 100 and two stores instead of the whole conversion.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DecMemo {
    /// `v / 100` of the number last written, 0 before any (then not used: numbers
    /// below 100 are written whole).
    hi: u64,
    /// The digits of `hi`, at the top, and how many.
    digits: [u8; 8],
    n: usize,
}

impl DecMemo {
    #[inline(always)]
    pub(crate) fn dec(&mut self, out: &mut Out, v: u64) {
        match self.digits(v) {
            Some((d, n)) => out.put_first(&d, n),
            None => dec(out, v),
        }
    }

    /// The digits of `v` (below 10^8) and how many there are, the first in the first
    /// byte; None from 10^8 up.
    #[inline(always)]
    pub(crate) fn digits(&mut self, v: u64) -> Option<([u8; 8], usize)> {
        if v < 100 {
            let [a, b] = PAIRS16[v as usize].to_be_bytes();
            return Some(if v < 10 { ([b, 0, 0, 0, 0, 0, 0, 0], 1) } else { ([a, b, 0, 0, 0, 0, 0, 0], 2) });
        }
        if v >= E8 {
            return None;
        }
        let hi = v / 100;
        if hi != self.hi {
            (self.digits, self.n) = trimmed8(hi as u32);
            self.hi = hi;
        }
        // `hi` < 10^6: at most six digits, and room for two more, put after them
        // with a shift (kept in a register, not stored byte by byte).
        let pair = u64::from(PAIRS16[(v % 100) as usize].swap_bytes());
        let n = self.n.min(6);
        Some(((u64::from_le_bytes(self.digits) | (pair << (8 * n))).to_le_bytes(), n + 2))
    }
}

/// Eight ASCII zeros, as [`digits8`] packs digits.
const ZEROS8: u64 = 0x3030_3030_3030_3030;

/// The sixteen digits of `v` < 10^16, leading zeros included.
fn dec_pad16(out: &mut Out, v: u64) {
    out.put(&digits8((v / E8) as u32).to_be_bytes());
    out.put(&digits8((v % E8) as u32).to_be_bytes());
}

/// The eight decimal digits of `v` < 10^8 as ASCII, leading zeros included, the
/// first in the top byte: four table lookups instead of a loop, so that a number
/// costs a few dozen host instructions, not a hundred.
fn digits8(v: u32) -> u64 {
    let (hi, lo) = (v / 10_000, v % 10_000);
    let pair = |p: u32| u64::from(PAIRS16[p as usize]);
    (pair(hi / 100) << 48) | (pair(hi % 100) << 32) | (pair(lo / 100) << 16) | pair(lo % 100)
}

/// A constant of up to `N` bytes, kept in an array of `N`: appending it is one copy
/// of a size known when compiling, not a call to memcpy (see [`Out::put_first`]).
pub(crate) struct Padded<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Padded<N> {
    /// Fails to compile if `s` is longer than `N`.
    pub(crate) const fn new(s: &[u8]) -> Self {
        Self::joined(&[s])
    }

    /// `parts` one after another; fails to compile if they are longer than `N`.
    pub(crate) const fn joined(parts: &[&[u8]]) -> Self {
        let mut bytes = [0u8; N];
        let mut len = 0;
        let mut p = 0;
        while p < parts.len() {
            let mut i = 0;
            while i < parts[p].len() {
                bytes[len] = parts[p][i];
                len += 1;
                i += 1;
            }
            p += 1;
        }
        Padded { bytes, len }
    }

    #[inline]
    pub(crate) fn put(&self, out: &mut Out) {
        out.put_first(&self.bytes, self.len);
    }

    #[cfg(test)]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The two ASCII digits of 0 to 99, the first in the high byte.
const PAIRS16: [u16; 100] = {
    let mut t = [0u16; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = ((b'0' + (i / 10) as u8) as u16) << 8 | (b'0' + (i % 10) as u8) as u16;
        i += 1;
    }
    t
};

/// `{}` of a signed integer.
pub(crate) fn dec_i32(out: &mut Out, v: i32) {
    if v < 0 {
        out.byte(b'-');
    }
    dec(out, u64::from(v.unsigned_abs()));
}

/// `vma_perms(flags)` without the String.
pub(crate) fn perms(flags: u32) -> [u8; 4] {
    [
        if flags & VM_READ != 0 { b'r' } else { b'-' },
        if flags & VM_WRITE != 0 { b'w' } else { b'-' },
        if flags & VM_EXEC != 0 { b'x' } else { b'-' },
        if flags & VM_MAYSHARE != 0 { b's' } else { b'p' },
    ]
}

/// `s` as a JSON string, quotes included, escaped as the JSONL format always has
/// been (serde_json's compact form, but `\u0008` and `\u000c` for backspace and form
/// feed).
pub(crate) fn json_str(out: &mut Out, s: &str) {
    out.byte(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.put_slice(&bytes[start..i]);
        if short.is_empty() {
            out.put(&[b'\\', b'u', b'0', b'0', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]);
        } else {
            out.put_slice(short);
        }
        start = i + 1;
    }
    out.put_slice(&bytes[start..]);
    out.byte(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut Out)) -> String {
        // Small, so that the tests grow it too.
        let mut v = Out::with_capacity(4);
        v.byte(b'<');
        f(&mut v);
        v.into_string()
    }

    #[test]
    fn numbers_are_written_as_format_writes_them() {
        for v in [0u32, 1, 9, 10, 0xf, 0x10, 0x1f_3000, 0xbfff_effc, 99_999, 1 << 31, u32::MAX] {
            assert_eq!(s(|o| o.put(&hex8_digits(v))), format!("<{v:08x}"));
            assert_eq!(s(|o| hex0x8(o, v)), format!("<{v:#010x}"));
            assert_eq!(s(|o| hex0x(o, v)), format!("<{v:#x}"));
            assert_eq!(s(|o| dec(o, u64::from(v))), format!("<{v}"));
            assert_eq!(s(|o| dec_i32(o, v as i32)), format!("<{}", v as i32));
        }
        for v in [u64::MAX, 10_000_000_000_000_000_000, 1 << 40, 99, 100, 101, 999, 1000, 12_345] {
            assert_eq!(s(|o| dec(o, v)), format!("<{v}"));
        }
        for e in 0..20 {
            let p = 10u64.pow(e);
            for v in [p - 1, p, p + 1, p + 9, p.saturating_mul(2) - 1, p.saturating_mul(9).saturating_add(99)]
            {
                assert_eq!(s(|o| dec(o, v)), format!("<{v}"));
            }
        }
        for v in (0..=u32::MAX).step_by(65_521) {
            assert_eq!(s(|o| o.put(&hex8_digits(v))), format!("<{v:08x}"));
            assert_eq!(s(|o| hex0x(o, v)), format!("<{v:#x}"));
            assert_eq!(s(|o| dec(o, u64::from(v))), format!("<{v}"));
        }
        for v in 0..0x1_0000u32 {
            assert_eq!(s(|o| o.put(&hex8_digits(v))), format!("<{v:08x}"));
            assert_eq!(s(|o| o.put(&hex8_digits(v << 16))), format!("<{:08x}", v << 16));
            assert_eq!(s(|o| dec(o, u64::from(v))), format!("<{v}"));
        }
        let (a, b, f) = (0xbfff_e000, 0xc000_0000, 0x0100_0177);
        assert_eq!(
            vma_range(a, b, f).as_slice(),
            format!("{a:08x}-{b:08x} {}", crate::vma_perms(f)).as_bytes()
        );
        assert_eq!(s(|o| dec_i32(o, i32::MIN)), format!("<{}", i32::MIN));
    }

    #[test]
    fn a_memo_writes_each_number_as_format_does() {
        // Up and down, across the widths (the kept digits change at each hundred),
        // below 100 (written whole) and from 10^8 (not its to write).
        let mut memo = DecMemo::default();
        let mut v = 0u64;
        for step in [1u64, 7, 99, 100, 101, 999, 12_345, 3, 1] {
            for _ in 0..300 {
                v = if v >= 120_000_000 { v % 1000 } else { v + step };
                let want = format!("<{v}");
                assert_eq!(s(|o| memo.dec(o, v)), want);
                match memo.digits(v) {
                    Some((d, n)) => assert_eq!(&d[..n], &want.as_bytes()[1..], "{v}"),
                    None => assert!(v >= E8, "{v}"),
                }
            }
        }
        for v in [123_456, 99, 123_456, 123_499, 5, 123_400] {
            assert_eq!(s(|o| memo.dec(o, v)), format!("<{v}"));
        }
    }

    #[test]
    fn perms_are_vma_perms() {
        for flags in 0..0x400 {
            assert_eq!(perms(flags).as_slice(), crate::vma_perms(flags).as_bytes(), "{flags:#x}");
        }
    }

    #[test]
    fn strings_are_escaped_as_serde_json_with_the_format_s_escapes() {
        let all: String = (0u8..0x80).map(char::from).chain("/é\u{2028}".chars()).collect();
        let want = {
            let mut v = Vec::new();
            serde::Serialize::serialize(
                &all,
                &mut serde_json::Serializer::with_formatter(&mut v, crate::jsonl::Compact),
            )
            .unwrap();
            String::from_utf8(v).unwrap()
        };
        assert_eq!(s(|o| json_str(o, &all)), format!("<{want}"));
    }
}
