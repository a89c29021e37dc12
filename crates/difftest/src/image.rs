//! What difftest knows about the program before running it (its executable bytes)
//! and what it reads from a reference right after exec (the initial stack).

use growsdown_decoder::{decode_one, Mnemonic};
use growsdown_loader::auxv;

/// `int 0x80`.
pub const INT80: [u8; 2] = [0xcd, 0x80];
/// `cpuid`.
pub const CPUID: [u8; 2] = [0x0f, 0xa2];

/// The file bytes of the executable PT_LOAD segments of a static ELF, by address.
/// Static programs do not rewrite their code, so instruction bytes can be looked up
/// here instead of asking a reference for them.
#[derive(Clone, Debug, Default)]
pub struct CodeMap {
    segs: Vec<(u32, Vec<u8>)>,
}

impl CodeMap {
    pub fn from_elf(path: &std::path::Path) -> Result<Self, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let plan =
            growsdown_loader::plan_static_elf(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut segs = Vec::new();
        for s in plan.segments.iter().filter(|s| s.exec) {
            let (off, len) = (s.offset as usize, s.filesz as usize);
            let data =
                bytes.get(off..off + len).ok_or_else(|| format!("{}: truncated segment", path.display()))?;
            segs.push((s.vaddr, data.to_vec()));
        }
        Ok(Self { segs })
    }

    #[cfg(test)]
    /// A map over the given (address, bytes) regions, for tests.
    pub fn from_regions(segs: Vec<(u32, Vec<u8>)>) -> Self {
        Self { segs }
    }

    /// Up to `n` bytes at `addr`, if `addr` is in an executable segment.
    pub fn bytes_at(&self, addr: u32, n: usize) -> Option<&[u8]> {
        self.segs.iter().find_map(|(base, data)| {
            let off = addr.checked_sub(*base)? as usize;
            (off < data.len()).then(|| &data[off..(off + n).min(data.len())])
        })
    }

    /// Every address holding the byte pair `pat` (possibly inside another
    /// instruction: callers must tolerate such false sites).
    pub fn sites(&self, pat: [u8; 2]) -> Vec<u32> {
        let mut v = Vec::new();
        for (base, data) in &self.segs {
            for (i, w) in data.windows(2).enumerate() {
                if w == pat {
                    v.push(base + i as u32);
                }
            }
        }
        v
    }

    /// Whether the instruction at `addr` is a REP/REPNE-prefixed string instruction
    /// (single-stepping reports each iteration separately on both references).
    pub fn is_rep_string(&self, addr: u32) -> bool {
        self.bytes_at(addr, 15).and_then(|b| decode_one(b, addr).ok()).is_some_and(|i| {
            (i.has_rep_prefix() || i.has_repe_prefix() || i.has_repne_prefix()) && is_string_op(i.mnemonic())
        })
    }
}

pub fn is_string_op(m: Mnemonic) -> bool {
    use Mnemonic::*;
    matches!(
        m,
        Movsb
            | Movsw
            | Movsd
            | Stosb
            | Stosw
            | Stosd
            | Lodsb
            | Lodsw
            | Lodsd
            | Cmpsb
            | Cmpsw
            | Cmpsd
            | Scasb
            | Scasw
            | Scasd
            | Insb
            | Insw
            | Insd
            | Outsb
            | Outsw
            | Outsd
    )
}

/// A process's stack right after exec, as a reference built it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InitialStack {
    pub esp: u32,
    /// The bytes from `esp` up to `top` (argc, argv, envp, auxv, strings, padding).
    pub bytes: Vec<u8>,
    /// One past the highest byte the exec'd image uses, page aligned.
    pub top: u32,
    pub argv: Vec<Vec<u8>>,
    pub envp: Vec<Vec<u8>>,
    pub auxv: Vec<(u32, u32)>,
    /// Address of each auxv entry's type word, same order as `auxv`.
    pub auxv_addr: Vec<u32>,
}

impl InitialStack {
    /// Reads and parses the stack at `esp` through `read(addr, len)`.
    pub fn read(
        esp: u32,
        mut read: impl FnMut(u32, usize) -> Result<Vec<u8>, String>,
    ) -> Result<Self, String> {
        let word =
            |a: u32, read: &mut dyn FnMut(u32, usize) -> Result<Vec<u8>, String>| -> Result<u32, String> {
                let b = read(a, 4)?;
                Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            };
        let argc = word(esp, &mut read)?;
        if argc > 1 << 20 {
            return Err(format!("implausible argc {argc} at {esp:#010x}"));
        }
        let mut p = esp + 4;
        let mut argv_p = Vec::new();
        for _ in 0..argc {
            argv_p.push(word(p, &mut read)?);
            p += 4;
        }
        p += 4; // NULL
        let mut envp_p = Vec::new();
        loop {
            let e = word(p, &mut read)?;
            p += 4;
            if e == 0 {
                break;
            }
            envp_p.push(e);
        }
        let mut auxv = Vec::new();
        let mut auxv_addr = Vec::new();
        loop {
            let (t, v) = (word(p, &mut read)?, word(p + 4, &mut read)?);
            auxv.push((t, v));
            auxv_addr.push(p);
            p += 8;
            if t == auxv::AT_NULL {
                break;
            }
        }
        let mut cstr = |a: u32| -> Result<Vec<u8>, String> {
            let mut s = Vec::new();
            let mut a = a;
            loop {
                let chunk = read(a, 64.min(0x1000 - (a as usize & 0xfff)))?;
                if let Some(n) = chunk.iter().position(|&b| b == 0) {
                    s.extend_from_slice(&chunk[..n]);
                    return Ok(s);
                }
                s.extend_from_slice(&chunk);
                a += chunk.len() as u32;
                if s.len() > 1 << 20 {
                    return Err("unterminated string on the initial stack".into());
                }
            }
        };
        let mut end = p;
        let mut note = |a: u32, len: usize| end = end.max(a + len as u32);
        let argv: Vec<Vec<u8>> = argv_p.iter().map(|&a| cstr(a)).collect::<Result<_, _>>()?;
        for (a, s) in argv_p.iter().zip(&argv) {
            note(*a, s.len() + 1);
        }
        let envp: Vec<Vec<u8>> = envp_p.iter().map(|&a| cstr(a)).collect::<Result<_, _>>()?;
        for (a, s) in envp_p.iter().zip(&envp) {
            note(*a, s.len() + 1);
        }
        for &(t, v) in &auxv {
            match t {
                auxv::AT_EXECFN | auxv::AT_PLATFORM | auxv::AT_BASE_PLATFORM if v != 0 => {
                    let s = cstr(v)?;
                    note(v, s.len() + 1);
                }
                auxv::AT_RANDOM if v != 0 => note(v, 16),
                _ => {}
            }
        }
        // Linux leaves a NULL pointer's worth of zeros above the last string.
        let top = end.checked_add(4 + 0xfff).map_or(0xffff_f000, |t| t & !0xfff);
        let bytes = read(esp, (top - esp) as usize)?;
        Ok(Self { esp, bytes, top, argv, envp, auxv, auxv_addr })
    }

    #[cfg(test)]
    pub fn aux(&self, t: u32) -> Option<u32> {
        self.auxv.iter().find(|(k, _)| *k == t).map(|(_, v)| *v)
    }

    #[cfg(test)]
    /// One-line summary of the auxv for logs and docs: "AT_3=0x8048034 ...".
    pub fn auxv_summary(&self) -> String {
        self.auxv.iter().map(|(t, v)| format!("{t}={v:#x}")).collect::<Vec<_>>().join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_sites_and_bytes() {
        let m = CodeMap::from_regions(vec![(0x1000, vec![0x90, 0xcd, 0x80, 0x0f, 0xa2, 0xf3, 0xa4, 0xa4])]);
        assert_eq!(m.sites(INT80), vec![0x1001]);
        assert_eq!(m.sites(CPUID), vec![0x1003]);
        assert_eq!(m.bytes_at(0x1006, 4), Some(&[0xa4, 0xa4][..]));
        assert_eq!(m.bytes_at(0x2000, 1), None);
        assert!(m.is_rep_string(0x1005)); // rep movsb
        assert!(!m.is_rep_string(0x1007)); // movsb
        assert!(!m.is_rep_string(0x1000));
    }

    #[test]
    fn parses_a_stack_image() {
        // argc 1, argv0 "ab", env "X=1", auxv {AT_RANDOM, AT_EXECFN, AT_NULL},
        // then 16 random bytes and the strings, built at 0x1000 below top 0x2000.
        let esp = 0x1f00u32;
        let mut mem = vec![0u8; 0x2000];
        let put =
            |m: &mut Vec<u8>, a: u32, v: u32| m[a as usize..a as usize + 4].copy_from_slice(&v.to_le_bytes());
        let words = [1, 0x1fc0, 0, 0x1fc3, 0, 25, 0x1fa0, 31, 0x1fc7, 0, 0];
        for (i, w) in words.iter().enumerate() {
            put(&mut mem, esp + 4 * i as u32, *w);
        }
        mem[0x1fc0..0x1fc3].copy_from_slice(b"ab\0");
        mem[0x1fc3..0x1fc7].copy_from_slice(b"X=1\0");
        mem[0x1fc7..0x1fca].copy_from_slice(b"ab\0");
        let s = InitialStack::read(esp, |a, n| {
            mem.get(a as usize..a as usize + n).map(<[u8]>::to_vec).ok_or_else(|| format!("fault at {a:#x}"))
        })
        .unwrap();
        assert_eq!(s.argv, vec![b"ab".to_vec()]);
        assert_eq!(s.envp, vec![b"X=1".to_vec()]);
        assert_eq!(s.auxv, vec![(25, 0x1fa0), (31, 0x1fc7), (0, 0)]);
        assert_eq!(s.auxv_addr[1], esp + 28);
        assert_eq!(s.top, 0x2000);
        assert_eq!(s.bytes.len(), 0x100);
        assert_eq!(s.aux(auxv::AT_EXECFN), Some(0x1fc7));
    }
}
