//! Appending to a byte buffer what `write!` would, for the few shapes the per-fault
//! records use. `core::fmt` goes through a `dyn Write` call and padding logic per
//! argument; a fault-heavy guest writes hundreds of thousands of records, and the
//! formatting machinery was most of what tracing cost.

use growsdown_kernel::machine::{VM_EXEC, VM_MAYSHARE, VM_READ, VM_WRITE};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `{:08x}`.
pub(crate) fn hex8(out: &mut Vec<u8>, v: u32) {
    let mut d = [0u8; 8];
    hex8_into(&mut d, v);
    out.extend_from_slice(&d);
}

/// `{:#010x}` of a u32: always `0x` and eight digits.
pub(crate) fn hex0x8(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(b"0x");
    hex8(out, v);
}

/// `{:#x}`: no leading zeros.
pub(crate) fn hex0x(out: &mut Vec<u8>, v: u32) {
    let digits = (8 - v.leading_zeros() / 4).max(1) as usize;
    let mut d = [0u8; 8];
    hex8_into(&mut d, v);
    out.extend_from_slice(b"0x");
    out.extend_from_slice(&d[8 - digits..]);
}

fn hex8_into(d: &mut [u8; 8], v: u32) {
    for (i, c) in d.iter_mut().enumerate() {
        *c = HEX[(v >> (28 - 4 * i) & 0xf) as usize];
    }
}

/// The decimal digits of 0 to 99, two by two: half the divisions of one at a time.
const PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// `{}` of an unsigned integer.
pub(crate) fn dec(out: &mut Vec<u8>, mut v: u64) {
    let mut d = [0u8; 20];
    let mut i = d.len();
    while v >= 100 {
        let r = (v % 100) as usize;
        v /= 100;
        i -= 2;
        d[i..i + 2].copy_from_slice(&PAIRS[2 * r..2 * r + 2]);
    }
    if v >= 10 {
        i -= 2;
        d[i..i + 2].copy_from_slice(&PAIRS[2 * v as usize..2 * v as usize + 2]);
    } else {
        i -= 1;
        d[i] = b'0' + v as u8;
    }
    out.extend_from_slice(&d[i..]);
}

/// `{}` of a signed integer.
pub(crate) fn dec_i32(out: &mut Vec<u8>, v: i32) {
    if v < 0 {
        out.push(b'-');
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
pub(crate) fn json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
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
        out.extend_from_slice(&bytes[start..i]);
        if short.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(short);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut v = b"<".to_vec();
        f(&mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn numbers_are_written_as_format_writes_them() {
        for v in [0u32, 1, 9, 10, 0xf, 0x10, 0x1f_3000, 0xbfff_effc, 99_999, 1 << 31, u32::MAX] {
            assert_eq!(s(|o| hex8(o, v)), format!("<{v:08x}"));
            assert_eq!(s(|o| hex0x8(o, v)), format!("<{v:#010x}"));
            assert_eq!(s(|o| hex0x(o, v)), format!("<{v:#x}"));
            assert_eq!(s(|o| dec(o, u64::from(v))), format!("<{v}"));
            assert_eq!(s(|o| dec_i32(o, v as i32)), format!("<{}", v as i32));
        }
        for v in [u64::MAX, 10_000_000_000_000_000_000, 1 << 40, 99, 100, 101, 999, 1000, 12_345] {
            assert_eq!(s(|o| dec(o, v)), format!("<{v}"));
        }
        assert_eq!(s(|o| dec_i32(o, i32::MIN)), format!("<{}", i32::MIN));
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
