//! Why an executable could not be planned or an initial stack could not be built.
//!
//! Every variant prints a sentence a user can act on. The kernel maps them to errno
//! values with [`LoadError::errno`]: `E2BIG` for an oversized argument list,
//! `ENOEXEC` for everything about the file itself.

use std::fmt;

/// `E2BIG`, "Argument list too long".
pub const E2BIG: i32 = 7;
/// `ENOEXEC`, "Exec format error".
pub const ENOEXEC: i32 = 8;
/// `EINVAL`, "Invalid argument".
pub const EINVAL: i32 = 22;

/// Everything that can go wrong in [`crate::plan_elf`] and [`crate::build_stack`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// The file does not start with `\x7fELF` (or is shorter than 4 bytes).
    NotElf,
    /// The file is shorter than the 52-byte ELF32 header.
    TruncatedHeader { size: u64 },
    /// `e_ident[EI_CLASS]` is not ELFCLASS32 (1). 2 is a 64-bit file.
    WrongClass(u8),
    /// `e_ident[EI_DATA]` is not ELFDATA2LSB (1).
    WrongEndian(u8),
    /// `e_type` is neither ET_EXEC nor ET_DYN (relocatable object, core dump, ...).
    WrongType(u16),
    /// `e_machine` is not EM_386 (3) or EM_486 (6).
    WrongMachine(u16),
    /// `e_phentsize` is not 32.
    BadPhentsize(u16),
    /// `e_phnum` is 0 or more than 128 (a page of program headers, today's limit).
    BadPhnum(u16),
    /// `e_entry` is at or above TASK_SIZE (0xC0000000).
    EntryInKernelSpace(u32),
    /// Program header `index` (32 bytes at `offset`) is not inside the file.
    TruncatedPhdr { index: u32, offset: u64, size: u64 },
    /// The file bytes of PT_LOAD `index` are not inside the file.
    TruncatedSegment { index: u32, offset: u32, filesz: u32, size: u64 },
    /// A PT_LOAD segment fails one of the checks that make 2.4 SIGKILL the process.
    BadSegment { index: u32, reason: String },
    /// `p_offset` and `p_vaddr` of a PT_LOAD differ modulo the page size, so the
    /// segment cannot be mapped from the file.
    MisalignedSegment { index: u32, vaddr: u32, offset: u32 },
    /// No PT_LOAD segment at all: nothing to run.
    NoLoadSegment,
    /// PT_INTERP's size is more than PATH_MAX or less than 2, or its path is empty.
    BadInterp { filesz: u32 },
    /// PT_INTERP is present; `interp` is the requested interpreter path.
    DynamicallyLinked { interp: String },
    /// The argument and environment strings (plus their pointers) exceed the
    /// 32-page argument area, or there are too many of them.
    ArgumentListTooLong,
    /// An argv/envp/filename string contains a NUL byte, so it cannot be a C string.
    NulInString { what: String },
    /// `stack_top` is not page-aligned or leaves no room for the image.
    BadStackTop(u32),
}

impl LoadError {
    /// The errno a failing `execve` returns for this error.
    pub fn errno(&self) -> i32 {
        match self {
            LoadError::ArgumentListTooLong => E2BIG,
            LoadError::NulInString { .. } | LoadError::BadStackTop(_) => EINVAL,
            _ => ENOEXEC,
        }
    }
}

fn machine_name(m: u16) -> &'static str {
    match m {
        0 => "none",
        2 => "SPARC",
        8 => "MIPS",
        20 => "PowerPC",
        21 => "PowerPC64",
        22 => "S/390",
        40 => "ARM",
        42 => "SuperH",
        50 => "IA-64",
        62 => "x86-64",
        183 => "AArch64",
        243 => "RISC-V",
        258 => "LoongArch",
        _ => "unknown",
    }
}

fn type_name(t: u16) -> &'static str {
    match t {
        0 => "ET_NONE, no file type",
        1 => "ET_REL, a relocatable object file: link it first",
        4 => "ET_CORE, a core dump",
        _ => "unknown type",
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NotElf => write!(f, "not an ELF file"),
            LoadError::TruncatedHeader { size } => {
                write!(f, "truncated: the file is {size} bytes, shorter than the 52-byte ELF32 header")
            }
            LoadError::WrongClass(2) => {
                write!(f, "ELF class 64: growsdown runs 32-bit i386 programs only")
            }
            LoadError::WrongClass(c) => {
                write!(f, "ELF class {c} is invalid: growsdown runs 32-bit (ELFCLASS32) i386 programs only")
            }
            LoadError::WrongEndian(2) => {
                write!(f, "big-endian ELF file: growsdown runs little-endian i386 programs only")
            }
            LoadError::WrongEndian(d) => {
                write!(f, "ELF data encoding {d} is invalid: growsdown runs little-endian i386 programs only")
            }
            LoadError::WrongType(t) => {
                write!(f, "ELF type {t} ({}): only executables (ET_EXEC) can be run", type_name(*t))
            }
            LoadError::WrongMachine(m) => {
                write!(f, "machine {m} ({}): growsdown runs i386 programs only", machine_name(*m))
            }
            LoadError::BadPhentsize(s) => {
                write!(f, "program header entry size is {s} bytes, the ELF32 size is 32")
            }
            LoadError::BadPhnum(n) => {
                write!(f, "{n} program headers: the kernel accepts between 1 and 128 (a 4096-byte table)")
            }
            LoadError::EntryInKernelSpace(e) => {
                write!(f, "entry point {e:#010x} lies in kernel space (at or above 0xc0000000)")
            }
            LoadError::TruncatedPhdr { index, offset, size } => write!(
                f,
                "truncated: program header {index} (at file offset {offset:#x}) lies beyond \
                 the end of the file (size {size})"
            ),
            LoadError::TruncatedSegment { index, offset, filesz, size } => write!(
                f,
                "truncated: segment {index} needs file bytes {offset:#x}..{:#x}, beyond the \
                 end of the file (size {size})",
                *offset as u64 + *filesz as u64
            ),
            LoadError::BadSegment { index, reason } => {
                write!(f, "bad loadable segment {index}: {reason}")
            }
            LoadError::MisalignedSegment { index, vaddr, offset } => write!(
                f,
                "segment {index}: address {vaddr:#010x} and file offset {offset:#x} differ \
                 modulo the 4096-byte page size, so it cannot be mapped"
            ),
            LoadError::NoLoadSegment => {
                write!(f, "no loadable (PT_LOAD) segment: nothing to run")
            }
            LoadError::BadInterp { filesz } => {
                write!(f, "bad PT_INTERP: a {filesz}-byte path (the kernel wants 2 to 4096 bytes, not empty)")
            }
            LoadError::DynamicallyLinked { interp } => {
                write!(f, "dynamically linked (PT_INTERP {interp}): only static executables are supported")
            }
            LoadError::ArgumentListTooLong => write!(f, "argument list too long"),
            LoadError::NulInString { what } => {
                write!(f, "{what} contains a NUL byte, so it is not a C string")
            }
            LoadError::BadStackTop(t) => {
                write!(f, "stack top {t:#010x} is not page-aligned or leaves no room for the initial stack")
            }
        }
    }
}

impl std::error::Error for LoadError {}
