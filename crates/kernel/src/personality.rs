//! Where the kernel may behave like another kernel than 2.4: one value, with named
//! presets.
//!
//! growsdown's kernel is Linux 2.4's memory manager with today's i386 system-call
//! ABI, and [`Personality::LINUX_24`] is that machine: the default, and the one
//! `docs/linux24.md` is the oracle for. A few decisions differ between 2.4, today's
//! Linux and a user-mode emulator, and a tool that compares growsdown with one of
//! those (difftest) needs growsdown to decide them the same way, or every run
//! diverges at the first `brk(0)`. Each such decision is one field here; a preset
//! says which kernel the whole set imitates, and docs/architecture.md
//! ("Personalities") lists what each preset changes and why.

use crate::mm::mmap::TASK_UNMAPPED_BASE;
use crate::{GDT_ENTRY_TLS_MIN, TASK_SIZE};

/// The first TLS GDT entry an x86-64 kernel hands an i386 program
/// (`GDT_ENTRY_TLS_MIN` of arch/x86/include/asm/segment.h, 64-bit: 12).
pub const X86_64_GDT_ENTRY_TLS_MIN: usize = 12;

/// The decisions that depend on which kernel growsdown imitates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Personality {
    /// Which kernel this imitates, for logs and reports.
    pub name: &'static str,
    /// Where exec puts the top of the initial stack: the end of the stack VMA and
    /// of the argument strings. 2.4: `TASK_SIZE` (0xC0000000, i386's `STACK_TOP`).
    pub stack_top: u32,
    /// `None`: exec's stack is a VM_GROWSDOWN VMA covering only the argument pages,
    /// grown by `expand_stack` (2.4, `docs/linux24.md` §4.4). `Some(bytes)`: a
    /// fixed-size, non-growing anonymous stack of that many bytes ending at
    /// `stack_top`, pages below the argument pages demand-zero (qemu-user mmaps its
    /// guest's stack once).
    pub fixed_stack: Option<u32>,
    /// Where `get_unmapped_area` starts its bottom-up search for a mapping without
    /// MAP_FIXED or a usable hint. 2.4: `TASK_UNMAPPED_BASE` (0x40000000).
    pub mmap_base: u32,
    /// First GDT entry of the three TLS slots set_thread_area hands out, and that
    /// fork and the context switch save and restore. i386 Linux: 6; an x86-64
    /// kernel running i386 code numbers them 12–14.
    pub tls_entry_min: usize,
    /// `false`: exec sets `start_brk = brk` to the unaligned end of bss, as 2.4's
    /// `load_elf_binary` does. `true`: to the page-aligned end, as today's Linux
    /// (`mm->brk = mm->start_brk = ELF_PAGEALIGN(elf_brk)`) and qemu-user do.
    pub brk_page_aligned: bool,
    /// `true`: a user fault in the hole below a VM_GROWSDOWN VMA more than 32 bytes
    /// below ESP is a SIGSEGV (2.4's `address + 32 < esp` test in `do_page_fault`,
    /// `docs/linux24.md` §1.3). `false`: the stack just grows, as on Linux since 6.5,
    /// which dropped the test.
    pub esp_check: bool,
}

impl Personality {
    /// Linux 2.4 (2.4.35) on i386: the default and the oracle.
    pub const LINUX_24: Self = Self {
        name: "linux-2.4",
        stack_top: TASK_SIZE,
        fixed_stack: None,
        mmap_base: TASK_UNMAPPED_BASE,
        tls_entry_min: GDT_ENTRY_TLS_MIN,
        brk_page_aligned: false,
        esp_check: true,
    };

    /// Like qemu-user (QEMU's linux-user mode, as `growsdown difftest --against qemu`
    /// meets it): the stack is one fixed mapping of `stack_bytes` ending at
    /// `stack_top` (QEMU chooses both; 8 MiB or RLIMIT_STACK), never grown; the
    /// break starts page aligned. The rest is 2.4's: QEMU's own i386 GDT numbers
    /// the TLS slots from 6, and its stack never takes a fault below ESP.
    pub const fn qemu_user(stack_top: u32, stack_bytes: u32) -> Self {
        Self {
            name: "qemu-user",
            stack_top,
            fixed_stack: Some(stack_bytes),
            brk_page_aligned: true,
            ..Self::LINUX_24
        }
    }

    /// Like a Linux host kernel of release `major.minor` running an i386 program,
    /// as `growsdown difftest --against native` meets it: a growing stack whose top
    /// is `stack_top`; the break starts page aligned (today's `load_elf_binary`); on
    /// an x86-64 kernel the TLS slots are GDT 12–14; the 32-bytes-below-ESP test
    /// only before 6.5.
    pub const fn linux_host(stack_top: u32, release: (u32, u32), x86_64: bool) -> Self {
        let (major, minor) = release;
        Self {
            name: "linux-host",
            stack_top,
            tls_entry_min: if x86_64 { X86_64_GDT_ENTRY_TLS_MIN } else { GDT_ENTRY_TLS_MIN },
            brk_page_aligned: true,
            esp_check: major < 6 || (major == 6 && minor < 5),
            ..Self::LINUX_24
        }
    }

    /// [`Personality::linux_host`] for the kernel this process runs on (its
    /// release from `uname`; when that fails, one with the ESP test).
    pub fn this_host(stack_top: u32) -> Self {
        Self::linux_host(stack_top, host_release().unwrap_or((0, 0)), cfg!(target_arch = "x86_64"))
    }
}

impl Default for Personality {
    fn default() -> Self {
        Self::LINUX_24
    }
}

/// The host kernel's release as (major, minor), from `uname`.
fn host_release() -> Option<(u32, u32)> {
    // SAFETY: utsname is plain old data; all zeroes is a valid value.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: uname writes only into the struct it is given.
    if unsafe { libc::uname(&mut u) } != 0 {
        return None;
    }
    // SAFETY: uname NUL-terminates `release` inside the array.
    let rel = unsafe { std::ffi::CStr::from_ptr(u.release.as_ptr()) }.to_string_lossy().into_owned();
    let mut v = rel.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse::<u32>().ok());
    Some((v.next()?, v.next().unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_esp_test_went_away_in_6_5() {
        let host = |r| Personality::linux_host(TASK_SIZE, r, true);
        assert!(host((2, 4)).esp_check);
        assert!(host((6, 4)).esp_check);
        assert!(!host((6, 5)).esp_check);
        assert!(!host((7, 0)).esp_check);
        assert_eq!(host((6, 1)).tls_entry_min, 12);
        assert_eq!(Personality::linux_host(TASK_SIZE, (6, 1), false).tls_entry_min, 6);
    }

    #[test]
    fn qemu_user_changes_only_the_stack_and_the_break() {
        let q = Personality::qemu_user(0x4080_1000, 8 << 20);
        let same = Personality {
            name: q.name,
            stack_top: q.stack_top,
            fixed_stack: q.fixed_stack,
            brk_page_aligned: q.brk_page_aligned,
            ..Personality::LINUX_24
        };
        assert_eq!(q, same);
        assert_eq!((q.stack_top, q.fixed_stack, q.brk_page_aligned), (0x4080_1000, Some(8 << 20), true));
    }
}
