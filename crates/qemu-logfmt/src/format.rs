//! The printf subset: a format is [`compile`]d once into a [`Program`], which
//! [`run`] executes per call into a fixed buffer.
//!
//! The result is either exactly the bytes glibc's printf family would produce for
//! the same format and arguments, or [`Unsupported`] with nothing anyone sees
//! produced (the caller then hands the untouched arguments to glibc). Supported:
//!
//! * literal text and `%%` (bare: no flags, width, precision or length);
//! * `d i u x X` with the flags `-` and `0`, a decimal width, a precision
//!   (`.N`, `.` alone meaning 0) and the lengths `hh h l ll j z t`;
//! * `c` and `s` with `-`, a width, and (for `s`) a precision; a null `%s` prints
//!   `(null)` like glibc does (nothing when the precision is below 6).
//!
//! Everything else is [`Unsupported`]: the flags `+`, space, `#`, `'`, `I`; `*`
//! widths and precisions; positional arguments (`%1$d`); the `0` flag on `c`/`s`;
//! `L`/`q` lengths; wide `%lc`/`%ls`; every other conversion (floating point, `%p`,
//! `%o`, `%n`, ...). So are formats with more than [`MAX_STEPS`] conversions or
//! [`POOL`] bytes of literal text, and output longer than [`CAP`] bytes.

use std::mem::MaybeUninit;

/// Output longer than this is left to glibc. QEMU's longest call (the first three
/// dump lines) writes under 200 bytes.
pub const CAP: usize = 512;
/// Spare bytes after `CAP` (and after the literal pool) so short pieces can be
/// copied with one fixed 16-byte move.
pub const SLACK: usize = 16;

/// The format (or its output) is outside the subset; nothing was consumed that
/// matters, the caller falls back to the real printf.
#[derive(Debug, PartialEq, Eq)]
pub struct Unsupported;

/// Where the arguments come from, one 8-byte INTEGER-class slot at a time (System V
/// x86-64: every argument this subset takes — int, long, char promoted to int,
/// pointers — occupies one such slot; for 32-bit and narrower types only the low
/// bits are defined).
pub trait Args {
    fn next_word(&mut self) -> u64;
}

/// Room for one call's output: [`CAP`] bytes plus [`SLACK`] (uninitialised: no
/// memset per call, this runs ~55 times per guest instruction).
pub type Buffer = [MaybeUninit<u8>; CAP + SLACK];

pub fn buffer() -> Buffer {
    [const { MaybeUninit::uninit() }; CAP + SLACK]
}

/// Output being written at `buf`, which has `CAP + SLACK` writable bytes: a
/// [`Buffer`] or the free part of a stdio buffer.
pub struct Out<'a> {
    buf: *mut u8,
    len: usize,
    _buf: std::marker::PhantomData<&'a mut [u8]>,
}

impl<'a> Out<'a> {
    pub fn new(buf: &'a mut Buffer) -> Self {
        Self { buf: buf.as_mut_ptr().cast(), len: 0, _buf: std::marker::PhantomData }
    }

    /// # Safety
    /// `buf` is writable for `CAP + SLACK` bytes while the `Out` lives.
    pub unsafe fn from_raw(buf: *mut u8) -> Self {
        Self { buf, len: 0, _buf: std::marker::PhantomData }
    }

    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: the first `len` bytes were written before `len` was raised past
        // them (every writer below writes, then advances), so they are initialised.
        unsafe { std::slice::from_raw_parts(self.buf, self.len) }
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }

    fn room(&self, n: usize) -> Result<(), Unsupported> {
        if n <= CAP - self.len {
            Ok(())
        } else {
            Err(Unsupported)
        }
    }

    /// Where the next byte goes; `room` must have been checked for what is written.
    fn tail(&mut self) -> *mut u8 {
        // SAFETY: len <= CAP, within the buffer.
        unsafe { self.buf.add(self.len) }
    }

    /// Appends `s` if it fits.
    pub fn push_bytes(&mut self, s: &[u8]) -> Result<(), Unsupported> {
        self.room(s.len())?;
        // SAFETY: `room` checked that `len + s.len() <= CAP`; `s` is never a view of
        // `buf` (`as_bytes` borrows `self` immutably), so they do not overlap.
        unsafe { std::ptr::copy_nonoverlapping(s.as_ptr(), self.tail(), s.len()) };
        self.len += s.len();
        Ok(())
    }

    /// Appends `n` bytes from `src`, which must have `SLACK` readable bytes past
    /// position `n` whenever `n <= SLACK` (the literal pool guarantees that).
    ///
    /// # Safety
    /// `src` is readable for `max(n, SLACK)` bytes.
    unsafe fn push_padded(&mut self, src: *const u8, n: usize) -> Result<(), Unsupported> {
        self.room(n)?;
        // SAFETY: len + n <= CAP and the buffer has SLACK spare bytes past CAP, so a
        // SLACK-byte write fits; `src` is readable for max(n, SLACK) bytes.
        unsafe {
            if n <= SLACK {
                std::ptr::copy_nonoverlapping(src, self.tail(), SLACK);
            } else {
                std::ptr::copy_nonoverlapping(src, self.tail(), n);
            }
        }
        self.len += n;
        Ok(())
    }

    fn push_byte(&mut self, b: u8) -> Result<(), Unsupported> {
        self.room(1)?;
        // SAFETY: `room` checked that `len + 1 <= CAP`.
        unsafe { self.tail().write(b) };
        self.len += 1;
        Ok(())
    }

    fn fill(&mut self, b: u8, n: usize) -> Result<(), Unsupported> {
        self.room(n)?;
        // SAFETY: `room` checked that `len + n <= CAP`, and SLACK bytes past CAP
        // are writable, so a SLACK-byte store fits when n <= SLACK.
        unsafe {
            if n <= SLACK {
                self.tail().cast::<[u8; SLACK]>().write_unaligned([b; SLACK]);
            } else {
                std::ptr::write_bytes(self.tail(), b, n);
            }
        }
        self.len += n;
        Ok(())
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Len {
    Hh,
    H,
    Int,
    Long,
}

/// The conversion that ends a [`Step`].
#[derive(Clone, Copy, Debug)]
enum Conv {
    /// The step is literal text only (the format's tail).
    None,
    /// The common case of `Int`, done faster: `%x`/`%X`/`%0Nx`/`%0NX` (also with
    /// `l`...), no precision, not left-justified: at least `width` hex digits.
    Hex {
        width: u16,
        upper: bool,
        long: bool,
    },
    /// `d u x X` (`i` is `d`); `prec` < 0: none.
    Int {
        conv: u8,
        len: Len,
        width: u16,
        prec: i16,
        left: bool,
        zero: bool,
    },
    Char {
        width: u16,
        left: bool,
    },
    /// `prec` < 0: none.
    Str {
        width: u16,
        prec: i16,
        left: bool,
    },
}

/// Literal text (`pool[lit..lit + lit_len]`), then a conversion.
#[derive(Clone, Copy, Debug)]
struct Step {
    lit: u16,
    lit_len: u16,
    conv: Conv,
}

/// At most this many conversions (QEMU's longest format, the first dump line, has 20).
pub const MAX_STEPS: usize = 32;
/// At most this many bytes of literal text (more could not be output anyway).
pub const POOL: usize = CAP;

/// A format string parsed once ([`compile`]) and run per call ([`run`]).
#[derive(Clone, Debug)]
pub struct Program {
    steps: [Step; MAX_STEPS],
    n: usize,
    pool: [u8; POOL + SLACK],
}

/// Parses a decimal number at `fmt[*i..]` (digits only). Widths and precisions
/// beyond the buffer are unsupported anyway, so the value saturates.
fn number(fmt: &[u8], i: &mut usize) -> usize {
    let mut n = 0usize;
    while let Some(&d @ b'0'..=b'9') = fmt.get(*i) {
        n = n.saturating_mul(10).saturating_add(usize::from(d - b'0'));
        *i += 1;
    }
    n
}

/// Parses `fmt` (a C format without its NUL), or says it is outside the subset.
pub fn compile(fmt: &[u8]) -> Result<Program, Unsupported> {
    let none = Step { lit: 0, lit_len: 0, conv: Conv::None };
    let mut p = Program { steps: [none; MAX_STEPS], n: 0, pool: [0; POOL + SLACK] };
    let mut pool_len = 0usize;
    let mut lit_start = 0usize;
    let add_lit = |p: &mut Program, pool_len: &mut usize, s: &[u8]| -> Result<(), Unsupported> {
        let end = *pool_len + s.len();
        if end > POOL {
            return Err(Unsupported);
        }
        p.pool[*pool_len..end].copy_from_slice(s);
        *pool_len = end;
        Ok(())
    };
    let mut i = 0;
    loop {
        // Literal text up to the next '%' (or the end).
        let start = i;
        while i < fmt.len() && fmt[i] != b'%' {
            i += 1;
        }
        add_lit(&mut p, &mut pool_len, &fmt[start..i])?;
        let conv = if i == fmt.len() {
            Conv::None
        } else {
            i += 1; // '%'
            match spec(fmt, &mut i)? {
                Some(c) => c,
                None => {
                    add_lit(&mut p, &mut pool_len, b"%")?;
                    continue;
                }
            }
        };
        let lit_len = pool_len - lit_start;
        *p.steps.get_mut(p.n).ok_or(Unsupported)? =
            Step { lit: lit_start as u16, lit_len: lit_len as u16, conv };
        p.n += 1;
        lit_start = pool_len;
        if matches!(conv, Conv::None) {
            return Ok(p);
        }
    }
}

/// Parses one conversion after its '%'; `None` for `%%`.
fn spec(fmt: &[u8], i: &mut usize) -> Result<Option<Conv>, Unsupported> {
    let (mut left, mut zero) = (false, false);
    loop {
        match fmt.get(*i) {
            Some(b'-') => left = true,
            Some(b'0') => zero = true,
            Some(b'+' | b' ' | b'#' | b'\'' | b'I') => return Err(Unsupported),
            _ => break,
        }
        *i += 1;
    }
    let width = number(fmt, i);
    let prec = if fmt.get(*i) == Some(&b'.') {
        *i += 1;
        Some(number(fmt, i))
    } else {
        None
    };
    if width > CAP || prec.is_some_and(|p| p > CAP) {
        return Err(Unsupported);
    }
    let (width, prec_i) = (width as u16, prec.map_or(-1, |p| p as i16));
    let len = match (fmt.get(*i), fmt.get(*i + 1)) {
        (Some(b'h'), Some(b'h')) => {
            *i += 2;
            Len::Hh
        }
        (Some(b'h'), _) => {
            *i += 1;
            Len::H
        }
        (Some(b'l'), Some(b'l')) => {
            *i += 2;
            Len::Long
        }
        (Some(b'l' | b'j' | b'z' | b't'), _) => {
            *i += 1;
            Len::Long
        }
        _ => Len::Int,
    };
    let Some(&conv) = fmt.get(*i) else { return Err(Unsupported) };
    *i += 1;
    let bare = !left && !zero && width == 0 && prec.is_none() && len == Len::Int;
    Ok(Some(match conv {
        b'%' if bare => return Ok(None),
        b'x' | b'X'
            if (zero || width == 0) && !left && prec.is_none() && matches!(len, Len::Int | Len::Long) =>
        {
            Conv::Hex { width, upper: conv == b'X', long: len == Len::Long }
        }
        b'd' | b'i' | b'u' | b'x' | b'X' => {
            let conv = if conv == b'i' { b'd' } else { conv };
            Conv::Int { conv, len, width, prec: prec_i, left, zero }
        }
        b'c' if !zero && prec.is_none() && len == Len::Int => Conv::Char { width, left },
        b's' if !zero && len == Len::Int => Conv::Str { width, prec: prec_i, left },
        _ => return Err(Unsupported),
    }))
}

/// Appends `field` padded to `width` with spaces (left-justified when `left`).
fn pad(out: &mut Out, field: &[u8], width: usize, left: bool) -> Result<(), Unsupported> {
    let gap = width.saturating_sub(field.len());
    if !left {
        out.fill(b' ', gap)?;
    }
    out.push_bytes(field)?;
    if left {
        out.fill(b' ', gap)?;
    }
    Ok(())
}

/// Runs `prog` with `args` into `out`; fails only when the output does not fit.
pub fn run(prog: &Program, args: &mut impl Args, out: &mut Out) -> Result<(), Unsupported> {
    for step in &prog.steps[..prog.n] {
        let lit = &prog.pool[usize::from(step.lit)..];
        // SAFETY: the literal lies in the pool, which has SLACK bytes after POOL.
        unsafe { out.push_padded(lit.as_ptr(), usize::from(step.lit_len))? };
        match step.conv {
            Conv::None => {}
            Conv::Hex { width, upper, long } => {
                let w = args.next_word();
                hex(out, if long { w } else { u64::from(w as u32) }, usize::from(width), upper)?;
            }
            Conv::Int { conv, len, width, prec, left, zero } => {
                let w = args.next_word();
                // Plain %d / %u of 0..=9 (QEMU's CPL=, DPL=, DR%d, ...): one digit.
                if (w as u32) < 10
                    && len == Len::Int
                    && width <= 1
                    && prec < 0
                    && conv != b'x'
                    && conv != b'X'
                {
                    out.push_byte(b'0' + w as u8)?;
                    continue;
                }
                let (neg, mag) = match (conv, len) {
                    (b'd', Len::Hh) => split(i64::from(w as u8 as i8)),
                    (b'd', Len::H) => split(i64::from(w as u16 as i16)),
                    (b'd', Len::Int) => split(i64::from(w as u32 as i32)),
                    (b'd', Len::Long) => split(w as i64),
                    (_, Len::Hh) => (false, u64::from(w as u8)),
                    (_, Len::H) => (false, u64::from(w as u16)),
                    (_, Len::Int) => (false, u64::from(w as u32)),
                    (_, Len::Long) => (false, w),
                };
                let prec = usize::try_from(prec).ok();
                integer(out, neg, mag, conv, usize::from(width), prec, left, zero)?;
            }
            Conv::Char { width, .. } if width <= 1 => out.push_byte(args.next_word() as u8)?,
            Conv::Char { width, left } => pad(out, &[args.next_word() as u8], usize::from(width), left)?,
            Conv::Str { width, prec, left } => {
                let prec = usize::try_from(prec).ok();
                let p = args.next_word() as usize as *const libc::c_char;
                let s: &[u8] = if p.is_null() {
                    // glibc prints "(null)" when it fits the precision, else nothing.
                    if prec.is_none_or(|p| p >= 6) {
                        b"(null)"
                    } else {
                        b""
                    }
                } else {
                    // SAFETY: printf's contract: a non-null `%s` argument points to
                    // a string, NUL-terminated or (with a precision) at least `prec`
                    // readable bytes; strnlen reads no further than either.
                    let n = unsafe { libc::strnlen(p, prec.unwrap_or(usize::MAX)) };
                    // SAFETY: the `n` bytes just measured are readable, and live for
                    // this call (the caller's string outlives its printf call).
                    unsafe { std::slice::from_raw_parts(p.cast::<u8>(), n) }
                };
                pad(out, s, usize::from(width), left)?;
            }
        }
    }
    Ok(())
}

/// Formats the C format string `fmt` (without its NUL) into `out`: [`compile`] then
/// [`run`].
pub fn format(fmt: &[u8], args: &mut impl Args, out: &mut Out) -> Result<(), Unsupported> {
    run(&compile(fmt)?, args, out)
}

/// The eight nibbles of `v` as ASCII hex digits in one word whose big-endian bytes
/// are the digits in print order (SWAR: each nibble moved to its own byte, then
/// '0'..'9' / 'a'..'f' added).
fn hex8(v: u32, upper: bool) -> u64 {
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_ffff_0000_ffff;
    x = (x | (x << 8)) & 0x00ff_00ff_00ff_00ff;
    x = (x | (x << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    // Byte i now holds nibble i (least significant first). 0x01 where it is > 9:
    let letter = ((x + 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101;
    x + 0x3030_3030_3030_3030 + letter * if upper { 7 } else { 0x27 }
}

/// `v` in hex, zero-padded to `width` digits.
fn hex(out: &mut Out, v: u64, width: usize, upper: bool) -> Result<(), Unsupported> {
    let digits = ((67 - v.leading_zeros()) / 4).max(1) as usize;
    let n = digits.max(width);
    out.room(n)?;
    let zeros = n.saturating_sub(16);
    if zeros > 0 {
        out.fill(b'0', zeros)?;
    }
    let n16 = n - zeros; // 1..=16 digits: the end of the 16-digit rendering
    let lo = hex8(v as u32, upper);
    // SAFETY: room(n) passed, so len + n16 <= CAP, and with SLACK spare bytes two
    // 8-byte stores starting at most n16 bytes apart fit.
    unsafe {
        let dst = out.tail();
        if n16 <= 8 {
            // The wanted last n16 digits of `lo` moved to its front (big-endian).
            dst.cast::<[u8; 8]>().write_unaligned((lo << (8 * (8 - n16))).to_be_bytes());
        } else {
            let hi = hex8((v >> 32) as u32, upper);
            dst.cast::<[u8; 8]>().write_unaligned((hi << (8 * (16 - n16))).to_be_bytes());
            dst.add(n16 - 8).cast::<[u8; 8]>().write_unaligned(lo.to_be_bytes());
        }
    }
    out.len += n16;
    Ok(())
}

fn split(v: i64) -> (bool, u64) {
    (v < 0, v.unsigned_abs())
}

/// One integer conversion, glibc style: the precision is the minimum number of
/// digits (`.0` with 0 prints no digits), `0` pads between the sign and the digits
/// unless `-` or a precision is given, otherwise spaces pad to the width.
#[allow(clippy::too_many_arguments)]
fn integer(
    out: &mut Out,
    neg: bool,
    mag: u64,
    conv: u8,
    width: usize,
    prec: Option<usize>,
    left: bool,
    zero: bool,
) -> Result<(), Unsupported> {
    let mut digits = [0u8; 20];
    let mut n = 0;
    if !(mag == 0 && prec == Some(0)) {
        // Constant divisors: shifts for hex, a multiplication for /10 (a `div` by a
        // variable base costs tens of cycles per digit).
        let mut m = mag;
        let table: &[u8; 16] = if conv == b'X' { b"0123456789ABCDEF" } else { b"0123456789abcdef" };
        loop {
            n += 1;
            if conv == b'x' || conv == b'X' {
                digits[20 - n] = table[(m & 15) as usize];
                m >>= 4;
            } else {
                digits[20 - n] = b'0' + (m % 10) as u8;
                m /= 10;
            }
            if m == 0 {
                break;
            }
        }
    }
    let digits = &digits[20 - n..];
    let zeros = prec.unwrap_or(0).saturating_sub(n);
    let body = usize::from(neg) + zeros + n;
    let gap = width.saturating_sub(body);
    out.room(body + gap)?;
    let zero_pad = !left && zero && prec.is_none();
    if !left && !zero_pad {
        out.fill(b' ', gap)?;
    }
    if neg {
        out.push_bytes(b"-")?;
    }
    if zero_pad {
        out.fill(b'0', gap)?;
    }
    out.fill(b'0', zeros)?;
    out.push_bytes(digits)?;
    if left {
        out.fill(b' ', gap)?;
    }
    Ok(())
}
