//! growsdown-loader: turns an ELF32 i386 executable into a [`LoadPlan`]
//! (what `load_elf_binary` of Linux 2.4.35 would map, linux24.md §4.3) and builds the
//! initial process stack image ([`build_stack`], modern `create_elf_tables` layout
//! on 2.4's argument area, see `docs/process-image.md`).
//!
//! This crate touches no memory of the emulated machine: the kernel maps the
//! segments and copies [`StackImage::bytes`] into the stack VMA itself.
//!
//! Neither entry point panics on any input; malformed files come back as a
//! [`LoadError`] whose `Display` text is meant for the user.

mod elf;
mod error;
mod stack;

pub use elf::{
    plan_elf, plan_elf_from, plan_interp_from, plan_static_elf, ElfSource, HostFile, ELF_ET_DYN_BASE, EM_486,
    MAX_PHNUM, PATH_MAX,
};
pub use error::{LoadError, E2BIG, EINVAL, ENOEXEC};
pub use stack::{auxv, build_stack, ARG_MAX, CLKTCK, MAX_ARG_PAGES};

/// End of the user address space (`TASK_SIZE` = `PAGE_OFFSET` = 3 GiB).
pub const TASK_SIZE: u32 = 0xC000_0000;
/// Initial stack top (`STACK_TOP` = `TASK_SIZE` on i386).
pub const STACK_TOP: u32 = TASK_SIZE;
/// i386 page size.
pub const PAGE_SIZE: u32 = 4096;

/// What the kernel must do to load an executable (linux24.md §4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadPlan {
    /// `e_entry` (+ `load_bias`): the program's entry point.
    pub entry: u32,
    /// What was added to every address of an ET_DYN file (0 for ET_EXEC).
    pub load_bias: u32,
    /// `e_type` is ET_DYN (a PIE, a static-pie, or ld.so itself).
    pub is_dyn: bool,
    /// The PT_LOAD segments, in program-header order.
    pub segments: Vec<SegmentPlan>,
    /// AT_PHDR: PT_PHDR's `p_vaddr` if there is one, else the first PT_LOAD's
    /// `p_vaddr - p_offset + e_phoff`.
    pub phdr_addr: u32,
    /// AT_PHENT: always 32.
    pub phent: u32,
    /// AT_PHNUM: `e_phnum`.
    pub phnum: u32,
    /// min `p_vaddr` over PT_LOAD.
    pub start_code: u32,
    /// max `p_vaddr + p_filesz` over executable PT_LOAD (0 if none).
    pub end_code: u32,
    /// max `p_vaddr` over PT_LOAD.
    pub start_data: u32,
    /// max `p_vaddr + p_filesz` over PT_LOAD.
    pub end_data: u32,
    /// max `p_vaddr + p_filesz` over PT_LOAD: where the file bytes end and bss
    /// starts. The kernel zeroes from here to the end of its page (`padzero`).
    pub elf_bss: u32,
    /// max `p_vaddr + p_memsz` over PT_LOAD: the initial, unaligned, `start_brk` and
    /// `brk`. `set_brk` maps `[PAGE_ALIGN(elf_bss), PAGE_ALIGN(elf_brk))` anonymous.
    pub elf_brk: u32,
    /// A PT_INTERP is present: the kernel loads the interpreter too;
    /// [`plan_static_elf`] turns it into [`LoadError::DynamicallyLinked`].
    pub has_interp: bool,
    /// The PT_INTERP path (up to its first NUL, at most `PATH_MAX` bytes read), if
    /// there is one and it could be read.
    pub interp: Option<Vec<u8>>,
    /// PT_TLS `(p_vaddr, p_memsz)`, informational.
    pub tls: Option<(u32, u32)>,
}

impl LoadPlan {
    /// `[first page, end of the last page)` the PT_LOADs cover (today's
    /// `total_mapping_size`), for reserving an interpreter's place in one piece.
    pub fn span(&self) -> (u32, u32) {
        let lo = self.segments.iter().map(|s| s.vaddr & !(PAGE_SIZE - 1)).min().unwrap_or(0);
        let hi = self
            .segments
            .iter()
            .map(|s| (s.vaddr as u64 + s.memsz as u64 + PAGE_SIZE as u64 - 1) & !(PAGE_SIZE as u64 - 1))
            .max()
            .unwrap_or(0);
        (lo, u32::try_from(hi).unwrap_or(TASK_SIZE))
    }
}

/// One PT_LOAD segment. The kernel file-maps `[page_start(vaddr), vaddr + filesz)`
/// from `offset - page_offset(vaddr)` and provides `memsz - filesz` zero bytes above.
/// `offset ≡ vaddr (mod 4096)` is guaranteed, and `offset + filesz` is within the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentPlan {
    pub vaddr: u32,
    pub memsz: u32,
    pub filesz: u32,
    pub offset: u32,
    pub read: bool,
    pub write: bool,
    pub exec: bool,
}

/// Inputs of [`build_stack`].
#[derive(Debug, Clone)]
pub struct StackParams<'a> {
    /// Argument strings, without NULs.
    pub argv: &'a [Vec<u8>],
    /// Environment strings, without NULs.
    pub envp: &'a [Vec<u8>],
    /// The path passed to execve (copied to the top; AT_EXECFN points at it).
    pub filename: &'a [u8],
    /// AT_PLATFORM string, e.g. "i686". Empty: no platform string, no AT_PLATFORM.
    pub platform: &'a str,
    /// The 16 bytes AT_RANDOM points at (glibc's stack protector and pointer guard).
    pub random: [u8; 16],
    /// AT_HWCAP: CPUID(1).EDX.
    pub hwcap: u32,
    pub uid: u32,
    pub euid: u32,
    pub gid: u32,
    pub egid: u32,
    /// AT_SECURE.
    pub secure: bool,
    /// For AT_PHDR, AT_PHENT, AT_PHNUM and AT_ENTRY.
    pub plan: &'a LoadPlan,
    /// AT_BASE: where the interpreter was loaded (0: none).
    pub interp_base: u32,
    /// Top of the stack, page aligned: 0xC0000000.
    pub stack_top: u32,
    /// The vDSO's `(AT_SYSINFO, AT_SYSINFO_EHDR)`: its `__kernel_vsyscall` and its
    /// ELF header. `None`: no vDSO, neither entry (2.4).
    pub vdso: Option<(u32, u32)>,
}

/// The initial stack, ready to be copied into the stack VMA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackImage {
    /// Address of `bytes[0]`: the page containing ESP (the lowest byte written).
    pub base: u32,
    /// Everything from `base` up to `stack_top`.
    pub bytes: Vec<u8>,
    /// Initial ESP, pointing at argc; 16-byte aligned.
    pub esp: u32,
    /// `mm->arg_start`: address of the `argv[0]` string.
    pub arg_start: u32,
    /// `mm->arg_end`: one past the NUL of the last argv string.
    pub arg_end: u32,
    /// `mm->env_start` (= `arg_end`).
    pub env_start: u32,
    /// `mm->env_end`: one past the NUL of the last env string (= the filename's address).
    pub env_end: u32,
}

#[cfg(test)]
mod tests;
