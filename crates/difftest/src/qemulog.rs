//! Parsing QEMU's `-d cpu` log: the state dump QEMU writes before executing each
//! translation block, one instruction per block under `-singlestep -d nochain`.
//!
//! A dump starts (QEMU 7.2, target/i386 `x86_cpu_dump_state`):
//!
//! ```text
//! EAX=00000000 EBX=00000000 ECX=00000000 EDX=00000000
//! ESI=00000000 EDI=00000000 EBP=00000000 ESP=408009a0
//! EIP=080495b0 EFL=00000202 [-------] CPL=3 II=0 A20=1 SMM=0 HLT=0
//! ES =002b 00000000 ffffffff 00cff300 DPL=3 DS   [-WA]
//! CS =0023 00000000 ffffffff 00cffb00 DPL=3 CS32 [-RA]
//! SS =... DS =... FS =... GS =...
//! ```
//!
//! followed by LDT, TR, GDT, IDT, control and debug registers, CCS/CCD/CCO and EFER
//! lines, which are skipped. EFL is computed from QEMU's lazy condition codes, so it
//! is exact. QEMU flushes the log after each dump.
//!
//! With `-d cpu,fpu` (a parser made by [`LogParser::with_fpu`]) each dump goes on
//! with the x87 state and MXCSR, then the XMM registers:
//!
//! ```text
//! FCW=037f FSW=3800 [ST=7] FTW=80 MXCSR=00001f80
//! FPR0=0000000000000000 0000 FPR1=0000000000000000 0000
//! FPR2=... FPR3=...
//! FPR4=... FPR5=...
//! FPR6=0000000000000000 0000 FPR7=8000000000000000 3fff
//! XMM00=0123456789abcdef fedcba9876543210 XMM01=... ...
//! XMM02=... (4 lines, two registers each)
//! ```
//!
//! FSW carries TOP (QEMU 7.2 `x86_cpu_dump_state`: `fpus & ~0x3800 | fpstt << 11`);
//! FTW is the abridged tag with 1 = non-empty, bit i for physical register i
//! (`!fptags[i]`); FPRi is physical register i (`fpregs[i]`), significand then
//! sign+exponent. Checked against QEMU: after `fld1` from an empty stack the dump
//! shows `[ST=7] FTW=80` and `FPR7=8000000000000000 3fff`.
//!
//! XMMnn is the high quadword, a space, then the low one (QEMU 7.2
//! `x86_cpu_dump_state`: `"XMM%02d=%016" PRIx64 " %016" PRIx64`, `ZMM_Q(1)` then
//! `ZMM_Q(0)`; eight registers when CS is not 64-bit and XCR0 has no AVX state,
//! as for `qemu-i386` with difftest's `-cpu` model). MXCSR is on the FCW line.

use super::sse::Sse;
use super::state::Snapshot;
use super::x87::X87;
use growsdown_cpu::fpu::float80::F80;

/// Incremental parser over the log byte stream.
#[derive(Default)]
pub struct LogParser {
    buf: Vec<u8>,
    pos: usize,
    /// Each dump has the x87 lines (`-d cpu,fpu`).
    fpu: bool,
}

fn hex_n(b: &[u8], n: usize) -> Option<u64> {
    let mut v = 0u64;
    for &c in b.get(..n)? {
        v = (v << 4) | u64::from((c as char).to_digit(16)?);
    }
    Some(v)
}

/// Parses "FCW=037f FSW=3800 [ST=7] FTW=80 ..." and the four FPR lines.
fn parse_fpu(head: &[u8], fpr: &[&[u8]; 4]) -> Option<X87> {
    if !head.starts_with(b"FCW=") || head.get(9..13)? != b"FSW=" {
        return None;
    }
    let fcw = hex_n(&head[4..], 4)? as u16;
    let fsw = hex_n(&head[13..], 4)? as u16;
    let at = head.windows(4).position(|w| w == b"FTW=")? + 4;
    let valid = hex_n(&head[at..], 2)? as u8;
    let mut r = [F80::default(); 8];
    for (k, line) in fpr.iter().enumerate() {
        // "FPR0=<16 hex> <4 hex> FPR1=<16 hex> <4 hex>"
        for half in 0..2 {
            let o = half * 27;
            let name = [b'F', b'P', b'R', b'0' + (2 * k + half) as u8, b'='];
            if line.get(o..o + 5)? != name {
                return None;
            }
            let sig = hex_n(&line[o + 5..], 16)?;
            let se = hex_n(line.get(o + 22..)?, 4)? as u16;
            r[2 * k + half] = F80 { sig, se };
        }
    }
    Some(X87 { fcw, fsw, valid, tags_known: true, r })
}

/// Parses "MXCSR=00001f80" on the FCW line and the four XMM lines.
fn parse_sse(head: &[u8], xmm: &[&[u8]; 4]) -> Option<Sse> {
    let at = head.windows(6).position(|w| w == b"MXCSR=")? + 6;
    let mut s = Sse { mxcsr: hex8(&head[at..])?, ..Sse::default() };
    for (k, line) in xmm.iter().enumerate() {
        // "XMM00=<16 hex> <16 hex> XMM01=<16 hex> <16 hex>"
        for half in 0..2 {
            let o = half * 40;
            let i = 2 * k + half;
            let name = [b'X', b'M', b'M', b'0', b'0' + i as u8, b'='];
            if line.get(o..o + 6)? != name || line.get(o + 22)? != &b' ' {
                return None;
            }
            let hi = hex_n(&line[o + 6..], 16)?;
            let lo = hex_n(line.get(o + 23..)?, 16)?;
            s.xmm[i] = (u128::from(hi) << 64) | u128::from(lo);
        }
    }
    Some(s)
}

fn hex8(b: &[u8]) -> Option<u32> {
    if b.len() < 8 {
        return None;
    }
    let mut v = 0u32;
    for &c in &b[..8] {
        v = (v << 4) | (c as char).to_digit(16)?;
    }
    Some(v)
}

fn hex4(b: &[u8]) -> Option<u16> {
    let mut v = 0u16;
    for &c in b.get(..4)? {
        v = (v << 4) | (c as char).to_digit(16)? as u16;
    }
    Some(v)
}

impl LogParser {
    /// A parser for `-d cpu,fpu` dumps.
    pub fn with_fpu() -> Self {
        Self { fpu: true, ..Self::default() }
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        if self.pos > 0 && self.pos * 2 > self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes fed and not yet parsed.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The next complete dump, `None` if more bytes are needed; `Err` on a dump
    /// that does not parse.
    pub fn next_state(&mut self) -> Result<Option<Snapshot>, String> {
        // Find a line starting with "EAX=".
        loop {
            let rest = &self.buf[self.pos..];
            if rest.starts_with(b"EAX=") {
                break;
            }
            match rest.iter().position(|&b| b == b'\n') {
                Some(n) => self.pos += n + 1,
                None => return Ok(None),
            }
        }
        // Lines 0..9: three register lines and ES CS SS DS FS GS.
        let mut lines: [&[u8]; 9] = [&[]; 9];
        let mut p = self.pos;
        for line in lines.iter_mut() {
            let rest = &self.buf[p..];
            let Some(n) = rest.iter().position(|&b| b == b'\n') else { return Ok(None) };
            *line = &rest[..n];
            p += n + 1;
        }
        let bad = || format!("unparsable qemu log dump: {:?}", String::from_utf8_lossy(lines[0]));
        let field = |l: &[u8], at: usize, name: &[u8]| -> Option<u32> {
            if l.get(at - 4..at)? != name {
                return None;
            }
            hex8(&l[at..])
        };
        let mut s = Snapshot::default();
        for (i, (line, at, name)) in [
            (0, 4, b"EAX="),
            (0, 17, b"EBX="),
            (0, 30, b"ECX="),
            (0, 43, b"EDX="),
            (1, 4, b"ESI="),
            (1, 17, b"EDI="),
            (1, 30, b"EBP="),
            (1, 43, b"ESP="),
        ]
        .into_iter()
        .enumerate()
        {
            // Log order EAX EBX ECX EDX ESI EDI EBP ESP → ours EAX ECX EDX EBX ESP EBP ESI EDI.
            let slot = [0, 3, 1, 2, 6, 7, 5, 4][i];
            s.regs[slot] = field(lines[line], at, name).ok_or_else(bad)?;
        }
        s.eip = field(lines[2], 4, b"EIP=").ok_or_else(bad)?;
        s.eflags = field(lines[2], 17, b"EFL=").ok_or_else(bad)?;
        for (i, name) in [b"ES =", b"CS =", b"SS =", b"DS =", b"FS =", b"GS ="].iter().enumerate() {
            let l = lines[3 + i];
            if !l.starts_with(*name) {
                return Err(bad());
            }
            s.sel[i] = hex4(&l[4..]).ok_or_else(bad)?;
            s.base[i] = hex8(l.get(9..).ok_or_else(bad)?).ok_or_else(bad)?;
        }
        if self.fpu {
            // The FCW line follows the control/debug/CCS/EFER lines.
            let mut head: Option<&[u8]> = None;
            while head.is_none() {
                let rest = &self.buf[p..];
                let Some(n) = rest.iter().position(|&b| b == b'\n') else { return Ok(None) };
                let line = &rest[..n];
                p += n + 1;
                if line.starts_with(b"FCW=") {
                    head = Some(line);
                } else if line.starts_with(b"EAX=") {
                    return Err(format!("qemu log dump without x87 lines (at {:#010x})", s.eip));
                }
            }
            let mut fpr: [&[u8]; 4] = [&[]; 4];
            let mut xmm: [&[u8]; 4] = [&[]; 4];
            for line in fpr.iter_mut().chain(xmm.iter_mut()) {
                let rest = &self.buf[p..];
                let Some(n) = rest.iter().position(|&b| b == b'\n') else { return Ok(None) };
                *line = &rest[..n];
                p += n + 1;
            }
            let head = head.expect("loop ends with a head");
            s.x87 =
                Some(parse_fpu(head, &fpr).ok_or_else(|| {
                    format!("unparsable qemu x87 dump: {:?}", String::from_utf8_lossy(head))
                })?);
            s.sse = Some(parse_sse(head, &xmm).ok_or_else(|| {
                format!(
                    "unparsable qemu SSE dump: {:?} {:?}",
                    String::from_utf8_lossy(head),
                    String::from_utf8_lossy(xmm[0])
                )
            })?);
        }
        self.pos = p;
        Ok(Some(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = "EAX=00000001 EBX=00000004 ECX=00000002 EDX=00000003
ESI=00000007 EDI=00000008 EBP=00000006 ESP=408009a0
EIP=080495b0 EFL=00000246 [---Z-P-] CPL=3 II=0 A20=1 SMM=0 HLT=0
ES =002b 00000000 ffffffff 00cff300 DPL=3 DS   [-WA]
CS =0023 00000000 ffffffff 00cffb00 DPL=3 CS32 [-RA]
SS =002b 00000000 ffffffff 00cff300 DPL=3 DS   [-WA]
DS =002b 00000000 ffffffff 00cff300 DPL=3 DS   [-WA]
FS =0000 00000000 ffffffff 00cff300 DPL=3 DS   [-WA]
GS =0033 080f2840 000fffff 00d0f300 DPL=3 DS   [-WA]
LDT=0000 00000000 00000000 00008200 DPL=0 LDT
TR =0000 00000000 0000ffff 00008b00 DPL=0 TSS32-busy
GDT=     3fffd000 00000047
IDT=     3fffe000 000000ff
CR0=80010001 CR2=00000000 CR3=00000000 CR4=00000000
DR0=00000000 DR1=00000000 DR2=00000000 DR3=00000000 
DR6=ffff0ff0 DR7=00000400
CCS=00000000 CCD=00000000 CCO=EFLAGS
EFER=0000000000000000
";

    const FPU: &str = "FCW=037f FSW=3a20 [ST=7] FTW=c0 MXCSR=00009fa1
FPR0=0000000000000000 0000 FPR1=0000000000000000 0000
FPR2=0000000000000000 0000 FPR3=0000000000000000 0000
FPR4=0000000000000000 0000 FPR5=0000000000000000 0000
FPR6=c000000000000000 4000 FPR7=aaaaaaaaaaaaaaab 3ffd
XMM00=0000000000000000 0000000000000000 XMM01=0000000000000000 0000000000000000
XMM02=0000000000000000 0000000000000000 XMM03=76543210fedcba98 89abcdef01234567
XMM04=0000000000000000 0000000000000000 XMM05=0000000000000000 0000000000000000
XMM06=0000000000000000 0000000000000000 XMM07=0000000000000000 0000000000000000
";

    #[test]
    fn parses_the_x87_lines() {
        let mut p = LogParser::with_fpu();
        let text = format!("{DUMP}{FPU}{DUMP}{FPU}");
        let mut got = Vec::new();
        for chunk in text.as_bytes().chunks(41) {
            p.feed(chunk);
            while let Some(s) = p.next_state().unwrap() {
                got.push(s);
            }
        }
        assert_eq!(got.len(), 2);
        let x = got[1].x87.unwrap();
        assert_eq!((x.fcw, x.fsw, x.valid, x.top()), (0x37f, 0x3a20, 0xc0, 7));
        assert_eq!(x.r[7], F80 { sig: 0xaaaa_aaaa_aaaa_aaab, se: 0x3ffd });
        assert_eq!(x.r[6], F80 { sig: 0xc000_0000_0000_0000, se: 0x4000 });
        let sse = got[1].sse.unwrap();
        assert_eq!(sse.mxcsr, 0x9fa1);
        assert_eq!(sse.xmm[3], 0x7654_3210_fedc_ba98_89ab_cdef_0123_4567);
        assert!(sse.xmm.iter().enumerate().all(|(i, &v)| i == 3 || v == 0));
        // A dump without them is an error for an fpu parser.
        let mut p = LogParser::with_fpu();
        p.feed(format!("{DUMP}{DUMP}").as_bytes());
        assert!(p.next_state().is_err());
    }

    #[test]
    fn parses_a_dump_fed_in_pieces() {
        let mut p = LogParser::default();
        let text = format!("{DUMP}{}", DUMP.replace("EIP=080495b0", "EIP=080495b2"));
        let bytes = text.as_bytes();
        let mut got = Vec::new();
        for chunk in bytes.chunks(37) {
            p.feed(chunk);
            while let Some(s) = p.next_state().unwrap() {
                got.push(s);
            }
        }
        assert_eq!(got.len(), 2);
        let s = got[0];
        assert_eq!(s.regs, [1, 2, 3, 4, 0x408009a0, 6, 7, 8]);
        assert_eq!((s.eip, s.eflags), (0x080495b0, 0x246));
        assert_eq!(s.sel, [0x2b, 0x23, 0x2b, 0x2b, 0, 0x33]);
        assert_eq!(s.base[5], 0x080f2840);
        assert_eq!(got[1].eip, 0x080495b2);
    }

    #[test]
    fn rejects_garbage_in_a_dump() {
        let mut p = LogParser::default();
        p.feed(DUMP.replace("EBX=00000004", "EBX=0000zz04").as_bytes());
        assert!(p.next_state().is_err());
    }
}
