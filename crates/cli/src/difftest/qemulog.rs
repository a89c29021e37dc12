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

use super::state::Snapshot;

/// Incremental parser over the log byte stream.
#[derive(Default)]
pub struct LogParser {
    buf: Vec<u8>,
    pos: usize,
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
