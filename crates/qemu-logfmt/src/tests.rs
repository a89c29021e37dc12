//! The formatter and the `va_list` walker against glibc: each case builds a real
//! System V `va_list` (register save area with garbage in the unused upper halves
//! of 32-bit slots, then stack slots) and hands one copy to glibc's `vsnprintf` and
//! one to ours.

use super::*;
use format::{format, Unsupported, CAP};
use std::ffi::CString;

extern "C" {
    // glibc's; a `va_list` parameter is a pointer to its first (only) element.
    fn vsnprintf(s: *mut c_char, n: usize, fmt: *const c_char, ap: *mut VaListTag) -> c_int;
}

/// A `va_list` over `words`: the first ones in the register save area from
/// `gp_offset` on, the rest in the overflow area.
struct Frame {
    regs: [u64; 22],
    stack: Vec<u64>,
    gp_offset: u32,
}

impl Frame {
    fn new(gp_offset: u32, words: &[u64]) -> Self {
        let mut regs = [0x5555_5555_5555_5555u64; 22];
        let first = (gp_offset as usize / 8).min(6);
        let in_regs = (6 - first).min(words.len());
        regs[first..first + in_regs].copy_from_slice(&words[..in_regs]);
        let mut stack = words[in_regs..].to_vec();
        stack.push(0xaaaa_aaaa_aaaa_aaaa); // beyond the last argument
        Self { regs, stack, gp_offset }
    }

    /// A fresh `va_list` positioned at the first argument.
    fn tag(&mut self) -> VaListTag {
        VaListTag {
            gp_offset: self.gp_offset,
            fp_offset: 48,
            overflow_arg_area: self.stack.as_mut_ptr().cast(),
            reg_save_area: self.regs.as_mut_ptr().cast(),
        }
    }
}

fn glibc(fmt: &CStr, frame: &mut Frame) -> Vec<u8> {
    let mut buf = vec![0u8; 8192];
    let mut tag = frame.tag();
    // SAFETY: a buffer of the given size, a C string, a va_list whose arguments are
    // the ones the format asks for (each test builds them so).
    let n = unsafe { vsnprintf(buf.as_mut_ptr().cast(), buf.len(), fmt.as_ptr(), &mut tag) };
    assert!(n >= 0 && (n as usize) < buf.len(), "{fmt:?}: vsnprintf returned {n}");
    buf.truncate(n as usize);
    buf
}

fn ours(fmt: &CStr, frame: &mut Frame) -> Result<Vec<u8>, Unsupported> {
    let tag = frame.tag();
    // SAFETY: as for glibc() above.
    let mut args = unsafe { VaArgs::new(&tag) };
    let mut buf = format::buffer();
    let mut out = format::Out::new(&mut buf);
    format(fmt.to_bytes(), &mut args, &mut out).map(|()| out.as_bytes().to_vec())
}

/// Both formatters on the same arguments, from several positions in the save area.
fn check(fmt: &str, words: &[u64]) {
    let c = CString::new(fmt).unwrap();
    for gp in [0, 16, 40, 48] {
        let mut f = Frame::new(gp, words);
        let want = glibc(&c, &mut f);
        let got = ours(&c, &mut f);
        assert_eq!(
            got.as_deref().map(String::from_utf8_lossy),
            Ok(String::from_utf8_lossy(&want)),
            "format {fmt:?}, args {words:x?}, gp_offset {gp}"
        );
    }
}

fn unsupported(fmt: &str, words: &[u64]) {
    let c = CString::new(fmt).unwrap();
    assert_eq!(ours(&c, &mut Frame::new(16, words)), Err(Unsupported), "{fmt:?}");
}

const INTS: [u64; 22] = [
    0,
    1,
    7,
    9,
    10,
    0x7f,
    0x80,
    0xff,
    0x100,
    0x7fff,
    0x8000,
    0xffff,
    0x1_0000,
    0x1234_5678,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    0x0123_4567_89ab_cdef,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    u64::MAX,
];

#[test]
fn integers_match_glibc() {
    let mut n = 0;
    for flags in ["", "-", "0", "-0", "0-", "00"] {
        for width in ["", "1", "2", "3", "4", "8", "16", "17", "20", "25"] {
            for prec in ["", ".", ".0", ".1", ".2", ".5", ".10", ".20", ".22"] {
                for len in ["hh", "h", "", "l", "ll", "j", "z", "t"] {
                    for conv in ['d', 'i', 'u', 'x', 'X'] {
                        let fmt = format!("<%{flags}{width}{prec}{len}{conv}>");
                        let c = CString::new(fmt.as_str()).unwrap();
                        for v in INTS {
                            // Negative values too; and garbage above 32-bit arguments.
                            for w in [v, v.wrapping_neg(), v | 0xdead_beef_0000_0000] {
                                let mut f = Frame::new(16, &[w]);
                                let want = glibc(&c, &mut f);
                                assert_eq!(
                                    ours(&c, &mut f).map(|o| String::from_utf8(o).unwrap()),
                                    Ok(String::from_utf8(want).unwrap()),
                                    "format {fmt:?}, arg {w:#x}"
                                );
                                n += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(n > 100_000);
}

#[test]
fn chars_and_strings_match_glibc() {
    let long = CString::new("x".repeat(300)).unwrap();
    let strs: Vec<CString> = ["", "a", "ab", "abc", "CS32", "DS  ", "hello, world", "(null)"]
        .iter()
        .map(|s| CString::new(*s).unwrap())
        .collect();
    let mut ptrs: Vec<u64> = strs.iter().map(|s| s.as_ptr() as u64).collect();
    ptrs.push(long.as_ptr() as u64);
    ptrs.push(0); // NULL
    for flags in ["", "-"] {
        for width in ["", "1", "2", "3", "5", "6", "7", "12", "40"] {
            for conv in ['c', 's'] {
                for prec in ["", ".", ".0", ".1", ".3", ".5", ".6", ".7", ".100"] {
                    if conv == 'c' && !prec.is_empty() {
                        continue;
                    }
                    let fmt = format!("[%{flags}{width}{prec}{conv}]");
                    if conv == 'c' {
                        for ch in [b'A', b'-', 0, 0xff, b'z'] {
                            check(&fmt, &[u64::from(ch) | 0x1234_5600]);
                        }
                    } else {
                        for &p in &ptrs {
                            check(&fmt, &[p]);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn literals_and_percent() {
    check("", &[]);
    check("plain text\n", &[]);
    check("%%", &[]);
    check("100%% %d%%\n", &[42]);
    check("\n", &[]);
}

/// QEMU's own lines (target/i386/cpu-dump.c in 7.2, i386 target), with more
/// arguments than registers so the walk crosses into the overflow area.
#[test]
fn qemu_lines_match_glibc() {
    let regs: Vec<u64> = (0..8u64).map(|i| 0xdead_0000_0000_0000 | (0x1111_1111 * i)).collect();
    let mut words = regs.clone();
    words.extend([0x0804_9000, 0x246]);
    words.extend([b'-', b'-', b'-', b'Z', b'-', b'P', b'-'].map(u64::from));
    words.extend([3, 0, 1, 0, 0]);
    check(
        "EAX=%08x EBX=%08x ECX=%08x EDX=%08x\nESI=%08x EDI=%08x EBP=%08x ESP=%08x\n\
         EIP=%08x EFL=%08x [%c%c%c%c%c%c%c] CPL=%d II=%d A20=%d SMM=%d HLT=%d\n",
        &words,
    );
    let es = CString::new("ES").unwrap();
    check("%-3s=%04x %08x %08x %08x", &[es.as_ptr() as u64, 0x2b, 0, 0xffff_ffff, 0x00cf_f300]);
    check(" DPL=%d ", &[3]);
    check(" [%c%c", &[u64::from(b'-'), u64::from(b'W')]);
    check("%c]", &[u64::from(b'A')]);
    let tss = CString::new("TSS32-busy").unwrap();
    check("%s", &[tss.as_ptr() as u64]);
    check("GDT=     %08x %08x\n", &[0x3fff_d000, 0x47]);
    check("DR%d=%08x ", &[2, 0]);
    check("\nDR6=%08x DR7=%08x\n", &[0xffff_0ff0, 0x400]);
    let cco = CString::new("EFLAGS").unwrap();
    check("CCS=%08x CCD=%08x CCO=%s\n", &[1, 2, cco.as_ptr() as u64]);
    check("EFER=%016lx\n", &[0]);
    check("FCW=%04x FSW=%04x [ST=%d] FTW=%02x MXCSR=%08x\n", &[0x37f, 0x3800, 7, 0x80, 0x1f80]);
    check("FPR%d=%016lx %04x", &[5, 0x8000_0000_0000_0000, 0x3fff]);
    check("YMM%02d=%016lx %016lx %016lx %016lx\n", &[7, 1, 2, u64::MAX, 0x0123_4567_89ab_cdef]);
    check("XMM%02d=%016lx %016lx%s", &[3, 1, 2, c"\n".as_ptr() as u64]);
    // Twenty arguments: fourteen of them on the stack.
    let many: Vec<u64> = (0..20u64).map(|i| i * 0x0101_0101 + (i << 40)).collect();
    check(&"%x.".repeat(10).repeat(2), &many);
    check(&"%lx.%d.".repeat(10), &many);
}

#[test]
fn outside_the_subset_is_refused() {
    for fmt in [
        "%f", "%e", "%g", "%a", "%p", "%o", "%n", "%+d", "% d", "%#x", "%'d", "%*d", "%.*d", "%1$d", "%lc",
        "%ls", "%Lf", "%qd", "%05s", "%05c", "%.3c", "%hhc", "%5%", "%-%", "%l%", "%", "abc%", "%l", "%y",
        "%C", "%S", "%m",
    ] {
        unsupported(fmt, &[1, 2, 3]);
    }
    // The whole call is refused, not just the tail.
    unsupported("EAX=%08x %f", &[1, 2]);
    // Output beyond the buffer.
    unsupported(&format!("%{}d", CAP + 1), &[1]);
    unsupported(&"%1000d".repeat(2), &[1, 2]);
    unsupported(&"x".repeat(CAP + 1), &[]);
    check(&"x".repeat(CAP), &[]);
    check(&format!("%{CAP}d"), &[1]);
}

/// The exported entry points on a real FILE: formatted calls and passed-on ones
/// (which must find the `va_list` untouched).
#[test]
fn exported_functions_write_to_the_file() {
    let mut buf: *mut c_char = std::ptr::null_mut();
    let mut size = 0usize;
    // SAFETY: open_memstream with valid out-pointers, which outlive the stream.
    let fp = unsafe { libc::open_memstream(&mut buf, &mut size) };
    assert!(!fp.is_null());
    let s = CString::new("CS32").unwrap();
    let cases: [(&CStr, Vec<u64>, bool); 4] = [
        (c"%-3s=%04x|", vec![c"CS".as_ptr() as u64, 0x23], true),
        (c"%s %08x|", vec![s.as_ptr() as u64, 0xffff_ffff_0000_0001], true),
        (c"%p %d|", vec![0x1234, 0xffff_ffff_ffff_fff6], false),
        (c"%#x %-5d|", vec![255, 7], false),
    ];
    let mut want = Vec::new();
    for (fmt, words, _) in &cases {
        want.extend(glibc(fmt, &mut Frame::new(16, words)));
    }
    for (i, (fmt, words, _)) in cases.iter().enumerate() {
        let mut f = Frame::new(16, words);
        let mut tag = f.tag();
        let n = if i % 2 == 0 {
            // SAFETY: a valid stream, format and va_list.
            unsafe { logfmt_vfprintf_chk(fp, 1, fmt.as_ptr(), &mut tag) }
        } else {
            // SAFETY: as above.
            unsafe { logfmt_vfprintf(fp, fmt.as_ptr(), &mut tag) }
        };
        assert_eq!(n as usize, glibc(fmt, &mut Frame::new(16, words)).len(), "{fmt:?}");
    }
    // SAFETY: our stream; after fclose `buf`/`size` hold the text (malloc'd).
    let text = unsafe {
        assert_eq!(libc::fclose(fp), 0);
        let t = std::slice::from_raw_parts(buf.cast::<u8>(), size).to_vec();
        libc::free(buf.cast());
        t
    };
    assert_eq!(String::from_utf8_lossy(&text), String::from_utf8_lossy(&want));
    assert!(cases.iter().any(|c| c.2) && cases.iter().any(|c| !c.2));
    for (fmt, words, fast) in &cases {
        assert_eq!(ours(fmt, &mut Frame::new(16, words)).is_ok(), *fast, "{fmt:?}");
    }
}
