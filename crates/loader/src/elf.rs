//! ELF32 i386 executable → [`LoadPlan`], following `load_elf_binary` of Linux 2.4.35
//! (linux24.md §4.3) for an ET_EXEC, and today's placement of an ET_DYN (a PIE, a
//! static-pie, an interpreter).
//!
//! # Why the header and program headers are parsed by hand
//!
//! `goblin::elf::Elf::parse` does far more than the kernel: it walks section headers,
//! string tables, the dynamic section and symbol tables, and rejects (or, for some
//! corrupt inputs, has panicked or allocated huge buffers on) files that Linux
//! executes without complaint — the kernel never looks at sections at all. The part
//! the kernel does read is tiny: the 52-byte ELF header and `e_phnum` 32-byte program
//! headers, all little-endian `u16`/`u32` fields at fixed offsets. Reading those with
//! explicit bounds checks is shorter than defending against goblin's full parser,
//! cannot panic (every slice access goes through [`Reader`], which checks lengths with
//! 64-bit arithmetic), and makes the order of the checks exactly the kernel's. We
//! still use goblin's constants and its plain `elf32` structs
//! ([`goblin::elf32::header::Header`], [`goblin::elf32::program_header::ProgramHeader`])
//! as the typed representation of what we read.

use goblin::elf::header::{
    EI_CLASS, EI_DATA, ELFCLASS32, ELFDATA2LSB, ELFMAG, EM_386, ET_DYN, ET_EXEC, SELFMAG,
};
use goblin::elf::program_header::{PF_R, PF_W, PF_X, PT_INTERP, PT_LOAD, PT_PHDR, PT_TLS};
use goblin::elf32::header::{Header, SIZEOF_EHDR};
use goblin::elf32::program_header::{ProgramHeader, SIZEOF_PHDR};

use crate::error::LoadError;
use crate::{LoadPlan, SegmentPlan, PAGE_SIZE, TASK_SIZE};

/// EM_486, accepted by 2.4's `elf_check_arch` next to EM_386.
pub const EM_486: u16 = 6;
/// Today's `load_elf_phdrs` refuses a program header table larger than a page
/// (`ELF_MIN_ALIGN`, 4096 bytes): at most 4096 / 32 entries. (2.4 allowed 64 KiB.)
/// The loader never reads more than this page, the 52-byte header and the
/// interpreter's path ([`PATH_MAX`]) from the file.
pub const MAX_PHNUM: u16 = (PAGE_SIZE as usize / SIZEOF_PHDR) as u16;
/// Where an ET_DYN program's first page goes: today's i386 `ELF_ET_DYN_BASE` without
/// randomisation, as `setarch -R` shows a PIE natively (0x56555000).
pub const ELF_ET_DYN_BASE: u32 = 0x5655_5000;
/// `PATH_MAX`: today's `load_elf_binary` refuses a PT_INTERP whose `p_filesz` is
/// larger, or smaller than 2.
pub const PATH_MAX: u32 = 4096;

/// A file the loader reads: the whole image in memory (`[u8]`), or a host file read
/// with `pread` ([`HostFile`]), so that only the header, the program headers and the
/// interpreter path are ever read, whatever the file's size.
pub trait ElfSource {
    /// The file's size in bytes.
    fn size(&self) -> u64;
    /// Reads up to `buf.len()` bytes at `offset`; fewer only at the end of the file
    /// (or on a read error, which the loader treats like the end of the file).
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> usize;
}

impl ElfSource for [u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> usize {
        let Ok(off) = usize::try_from(offset) else { return 0 };
        let Some(src) = self.get(off..) else { return 0 };
        let n = src.len().min(buf.len());
        buf[..n].copy_from_slice(&src[..n]);
        n
    }
}

/// An open host file and its size (from `fstat`), read with `pread`.
pub struct HostFile<'a> {
    pub file: &'a std::fs::File,
    pub size: u64,
}

impl ElfSource for HostFile<'_> {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> usize {
        use std::os::unix::fs::FileExt;
        let mut done = 0;
        while done < buf.len() {
            match self.file.read_at(&mut buf[done..], offset + done as u64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log::debug!("pread at {:#x}: {e}", offset + done as u64);
                    break;
                }
            }
        }
        done
    }
}

/// Reads `len` bytes at `offset` (at most a page, bounded by the caller), or fewer at
/// the end of the file.
fn read_vec<S: ElfSource + ?Sized>(src: &S, offset: u64, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    let n = src.read_at(offset, &mut v);
    v.truncate(n);
    v
}

/// Bounds-checked little-endian reads from the file image.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn u16(&self, off: u64) -> Option<u16> {
        let off = usize::try_from(off).ok()?;
        let b = self.0.get(off..off.checked_add(2)?)?;
        Some(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&self, off: u64) -> Option<u32> {
        let off = usize::try_from(off).ok()?;
        let b = self.0.get(off..off.checked_add(4)?)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Reads the ELF32 header. The caller has checked that `bytes.len() >= 52`.
fn read_header(bytes: &[u8]) -> Option<Header> {
    let r = Reader(bytes);
    let mut e_ident = [0u8; 16];
    e_ident.copy_from_slice(bytes.get(..16)?);
    Some(Header {
        e_ident,
        e_type: r.u16(16)?,
        e_machine: r.u16(18)?,
        e_version: r.u32(20)?,
        e_entry: r.u32(24)?,
        e_phoff: r.u32(28)?,
        e_shoff: r.u32(32)?,
        e_flags: r.u32(36)?,
        e_ehsize: r.u16(40)?,
        e_phentsize: r.u16(42)?,
        e_phnum: r.u16(44)?,
        e_shentsize: r.u16(46)?,
        e_shnum: r.u16(48)?,
        e_shstrndx: r.u16(50)?,
    })
}

fn read_phdr(bytes: &[u8], off: u64) -> Option<ProgramHeader> {
    let r = Reader(bytes);
    Some(ProgramHeader {
        p_type: r.u32(off)?,
        p_offset: r.u32(off + 4)?,
        p_vaddr: r.u32(off + 8)?,
        p_paddr: r.u32(off + 12)?,
        p_filesz: r.u32(off + 16)?,
        p_memsz: r.u32(off + 20)?,
        p_flags: r.u32(off + 24)?,
        p_align: r.u32(off + 28)?,
    })
}

/// The PT_INTERP path's bytes (NUL and anything after it dropped), at most
/// [`PATH_MAX`] of them read; `None` if none can be read.
fn read_interp<S: ElfSource + ?Sized>(src: &S, ph: &ProgramHeader) -> Option<Vec<u8>> {
    let raw = read_vec(src, ph.p_offset as u64, ph.p_filesz.min(PATH_MAX) as usize);
    let raw = raw.split(|&b| b == 0).next().unwrap_or(&[]).to_vec();
    (!raw.is_empty()).then_some(raw)
}

/// The PT_INTERP path as text for a message, kept short even for a corrupt header.
fn interp_text(raw: Option<&[u8]>) -> String {
    match raw {
        Some(raw) => String::from_utf8_lossy(&raw[..raw.len().min(256)]).into_owned(),
        None => "<unreadable>".to_string(),
    }
}

/// Validates an ELF32 i386 executable the way Linux 2.4.35's `load_elf_binary` does
/// (linux24.md §4.3), plus the file-size checks the brief asks for, and computes what the
/// kernel needs to build the address space. Never panics, whatever the input.
///
/// A PT_INTERP is *not* an error here: the plan comes back with `has_interp = true`
/// and the path in `interp` (use [`crate::plan_static_elf`] to get the error
/// directly). An ET_DYN file (a PIE, a static-pie) is placed with its first page at
/// [`ELF_ET_DYN_BASE`]: every address of the plan includes `load_bias`.
pub fn plan_elf(bytes: &[u8]) -> Result<LoadPlan, LoadError> {
    plan_elf_from(bytes)
}

/// [`plan_elf`] reading from `src`: only the 52-byte header, the program header
/// table (at most a page) and the PT_INTERP path are read.
pub fn plan_elf_from<S: ElfSource + ?Sized>(src: &S) -> Result<LoadPlan, LoadError> {
    plan_at(src, ELF_ET_DYN_BASE)
}

/// The plan of an ELF interpreter (`load_elf_interp`): an ET_DYN one (ld.so) is
/// placed with its first page at `base`, which the kernel chose with
/// `get_unmapped_area` for the whole span (see [`LoadPlan::span`]); an ET_EXEC one
/// stays where it is linked. Its own PT_INTERP, if any, is ignored.
pub fn plan_interp_from<S: ElfSource + ?Sized>(src: &S, base: u32) -> Result<LoadPlan, LoadError> {
    plan_at(src, base)
}

fn plan_at<S: ElfSource + ?Sized>(src: &S, dyn_base: u32) -> Result<LoadPlan, LoadError> {
    let size = src.size();
    let head = read_vec(src, 0, SIZEOF_EHDR);
    if head.len() < SELFMAG || &head[..SELFMAG] != ELFMAG {
        return Err(LoadError::NotElf);
    }
    // Look at class and byte order before the length so that a truncated 64-bit or
    // big-endian file gets the more useful message.
    if let Some(&class) = head.get(EI_CLASS) {
        if class != ELFCLASS32 {
            return Err(LoadError::WrongClass(class));
        }
    }
    if let Some(&data) = head.get(EI_DATA) {
        if data != ELFDATA2LSB {
            return Err(LoadError::WrongEndian(data));
        }
    }
    if size < SIZEOF_EHDR as u64 || head.len() < SIZEOF_EHDR {
        return Err(LoadError::TruncatedHeader { size });
    }
    let eh = read_header(&head).ok_or(LoadError::TruncatedHeader { size })?;

    if eh.e_type != ET_EXEC && eh.e_type != ET_DYN {
        return Err(LoadError::WrongType(eh.e_type));
    }
    if eh.e_machine != EM_386 && eh.e_machine != EM_486 {
        return Err(LoadError::WrongMachine(eh.e_machine));
    }
    if eh.e_phentsize as usize != SIZEOF_PHDR {
        return Err(LoadError::BadPhentsize(eh.e_phentsize));
    }
    if eh.e_phnum == 0 || eh.e_phnum > MAX_PHNUM {
        return Err(LoadError::BadPhnum(eh.e_phnum));
    }

    // All program headers must be inside the file (today's load_elf_phdrs: elf_read
    // must not come back short). Report the first one that is not.
    let table = read_vec(src, eh.e_phoff as u64, eh.e_phnum as usize * SIZEOF_PHDR);
    let mut phdrs: Vec<ProgramHeader> = Vec::with_capacity(eh.e_phnum as usize);
    for i in 0..eh.e_phnum as u32 {
        match read_phdr(&table, i as u64 * SIZEOF_PHDR as u64) {
            Some(ph) => phdrs.push(ph),
            None => {
                let offset = eh.e_phoff as u64 + i as u64 * SIZEOF_PHDR as u64;
                return Err(LoadError::TruncatedPhdr { index: i, offset, size });
            }
        }
    }

    let interp_ph = phdrs.iter().find(|ph| ph.p_type == PT_INTERP).copied();
    let interp = interp_ph.and_then(|ph| read_interp(src, &ph));
    if let Some(ph) = interp_ph {
        // Today's load_elf_binary: a PT_INTERP of more than PATH_MAX or fewer than 2
        // bytes is ENOEXEC.
        if ph.p_filesz > PATH_MAX || ph.p_filesz < 2 || interp.is_none() {
            return Err(LoadError::BadInterp { filesz: ph.p_filesz });
        }
    }

    // ET_DYN: today's load_elf_binary puts the first PT_LOAD's page at the base
    // (`load_bias = ELF_PAGESTART(base - vaddr)`); every address moves with it.
    let is_dyn = eh.e_type == ET_DYN;
    let first_page = match phdrs.iter().find(|ph| ph.p_type == PT_LOAD) {
        Some(first) if is_dyn => first.p_vaddr & !(PAGE_SIZE - 1),
        _ => 0,
    };
    let load_bias = if is_dyn { dyn_base.wrapping_sub(first_page) } else { 0 };
    // A biased address, or u32::MAX (refused by the checks below) if it leaves the
    // 32-bit space.
    let rebase = |v: u32| -> u32 {
        if !is_dyn {
            return v;
        }
        u32::try_from(v as i64 - first_page as i64 + dyn_base as i64).unwrap_or(u32::MAX)
    };
    for ph in phdrs.iter_mut() {
        ph.p_vaddr = rebase(ph.p_vaddr);
    }
    let entry = rebase(eh.e_entry);

    if entry >= TASK_SIZE {
        return Err(LoadError::EntryInKernelSpace(entry));
    }

    let mut segments = Vec::new();
    let mut first_load_bias: Option<u32> = None;
    let mut pt_phdr: Option<u32> = None;
    let mut tls = None;
    // Initial values as in load_elf_binary: start_code = ~0, everything else 0.
    let mut start_code = u32::MAX;
    let mut start_data = 0u32;
    let mut end_code = 0u32;
    let mut end_data = 0u32;
    let mut elf_bss = 0u32;
    let mut elf_brk = 0u32;

    for (i, ph) in phdrs.iter().enumerate() {
        let index = i as u32;
        match ph.p_type {
            PT_PHDR if pt_phdr.is_none() => pt_phdr = Some(ph.p_vaddr),
            PT_TLS if tls.is_none() => tls = Some((ph.p_vaddr, ph.p_memsz)),
            PT_LOAD => {}
            _ => continue,
        }
        if ph.p_type != PT_LOAD {
            continue;
        }
        let bad = |reason: String| Err(LoadError::BadSegment { index, reason });
        // The four checks that make 2.4.35 SIGKILL the process (§4.3 step 5.5).
        if ph.p_vaddr >= TASK_SIZE {
            return bad(format!(
                "address {:#010x} lies in kernel space (at or above 0xc0000000)",
                ph.p_vaddr
            ));
        }
        if ph.p_filesz > ph.p_memsz {
            return bad(format!("file size {:#x} is larger than memory size {:#x}", ph.p_filesz, ph.p_memsz));
        }
        if ph.p_memsz > TASK_SIZE || TASK_SIZE - ph.p_memsz < ph.p_vaddr {
            return bad(format!(
                "{:#010x} + memory size {:#x} reaches past the user address space (0xc0000000)",
                ph.p_vaddr, ph.p_memsz
            ));
        }
        // do_mmap refuses a file offset that is not page-aligned after elf_map has
        // subtracted the address's page offset.
        if ph.p_offset % PAGE_SIZE != ph.p_vaddr % PAGE_SIZE {
            return Err(LoadError::MisalignedSegment { index, vaddr: ph.p_vaddr, offset: ph.p_offset });
        }
        if ph.p_filesz > 0 && ph.p_offset as u64 + ph.p_filesz as u64 > size {
            return Err(LoadError::TruncatedSegment {
                index,
                offset: ph.p_offset,
                filesz: ph.p_filesz,
                size,
            });
        }

        if first_load_bias.is_none() {
            first_load_bias = Some(ph.p_vaddr.wrapping_sub(ph.p_offset));
        }
        // Bookkeeping of §4.3 step 5.6. The checks above guarantee no overflow.
        let file_end = ph.p_vaddr + ph.p_filesz;
        let mem_end = ph.p_vaddr + ph.p_memsz;
        start_code = start_code.min(ph.p_vaddr);
        start_data = start_data.max(ph.p_vaddr);
        elf_bss = elf_bss.max(file_end);
        if ph.p_flags & PF_X != 0 {
            end_code = end_code.max(file_end);
        }
        end_data = end_data.max(file_end);
        elf_brk = elf_brk.max(mem_end);

        segments.push(SegmentPlan {
            vaddr: ph.p_vaddr,
            memsz: ph.p_memsz,
            filesz: ph.p_filesz,
            offset: ph.p_offset,
            read: ph.p_flags & PF_R != 0,
            write: ph.p_flags & PF_W != 0,
            exec: ph.p_flags & PF_X != 0,
        });
    }

    let Some(bias) = first_load_bias else {
        return Err(LoadError::NoLoadSegment);
    };
    let phdr_addr = pt_phdr.unwrap_or_else(|| bias.wrapping_add(eh.e_phoff));

    let plan = LoadPlan {
        entry,
        load_bias,
        is_dyn,
        segments,
        phdr_addr,
        phent: SIZEOF_PHDR as u32,
        phnum: eh.e_phnum as u32,
        start_code,
        end_code,
        start_data,
        end_data,
        elf_bss,
        elf_brk,
        has_interp: interp_ph.is_some(),
        interp,
        tls,
    };
    log::debug!(
        "ELF plan: entry {:#010x}, {} PT_LOAD, bss {:#010x}, brk {:#010x}, interp {}",
        plan.entry,
        plan.segments.len(),
        plan.elf_bss,
        plan.elf_brk,
        plan.has_interp
    );
    Ok(plan)
}

/// Like [`plan_elf`], but a PT_INTERP is an error ([`LoadError::DynamicallyLinked`]
/// naming the interpreter), for callers that handle static executables only
/// (difftest).
pub fn plan_static_elf(bytes: &[u8]) -> Result<LoadPlan, LoadError> {
    let plan = plan_elf(bytes)?;
    if plan.has_interp {
        return Err(LoadError::DynamicallyLinked { interp: interp_text(plan.interp.as_deref()) });
    }
    Ok(plan)
}
