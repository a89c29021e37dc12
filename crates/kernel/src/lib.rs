//! The growsdown mini-kernel: a Linux-2.4-style kernel hosted in the emulator process.
//!
//! It owns the [`Cpu`](growsdown_cpu::Cpu) (one uniprocessor machine, one guest
//! physical memory), builds the page tables the CPU walks, and handles what the CPU
//! reports: page faults go to [`mm::fault::do_page_fault`] and follow Linux 2.4's
//! `do_page_fault → find_vma → expand_stack → handle_mm_fault → handle_pte_fault →
//! do_no_page / do_anonymous_page / do_wp_page` (docs/linux24.md is the account it follows),
//! `int 0x80` goes to [`syscall`] with today's Linux i386 ABI, and other exceptions
//! become the signals Linux sends.
//!
//! Several guest processes can exist (fork, vfork, clone, execve, exit, wait4,
//! signals between them): [`sched`] switches between them on the one CPU, [`fork`]
//! and [`exit`] create and end them.
//!
//! Names follow Linux 2.4 so a reader of the 2.4 sources finds the same steps here.

/// The kernel's insides: `pub` with the `internals` feature, which only the kernel's
/// own integration tests turn on (they check 2.4's functions one by one), crate-private
/// otherwise. Tools drive the kernel through [`Machine`].
macro_rules! internal {
    ($($name:ident),* $(,)?) => {
        $(
            #[cfg(feature = "internals")]
            pub mod $name;
            #[cfg(not(feature = "internals"))]
            mod $name;
        )*
    };
}

internal!(
    abi, errno, exec, exit, files, fork, futex, hostproc, hostsig, ipc, locks, mm, procfs, run, sched, share,
    task, uaccess
);
internal!(cred);
internal!(sysroot);
internal!(vdso);

pub mod machine;
pub mod personality;
pub mod signal;
pub mod syscall;
pub mod timer;
pub mod trace;

pub use errno::{is_restart, ERESTARTNOHAND, ERESTART_RESTARTBLOCK};
pub use exec::ExecError;
pub use machine::Machine;
pub use personality::Personality;
#[cfg(feature = "internals")]
pub use run::Kernel;
#[cfg(not(feature = "internals"))]
use run::Kernel;
pub use run::{Config, ExitStatus, Stepped};

/// Top of user space (`TASK_SIZE`, `PAGE_OFFSET`, `STACK_TOP` in 2.4 i386): the
/// loader's, which checks ELF segments against it.
pub use growsdown_loader::TASK_SIZE;
pub const PAGE_SIZE: u32 = 4096;

/// `__USER_CS` and `__USER_DS` of Linux 2.4 i386 (GDT entries 4 and 5, RPL 3).
pub const USER_CS: u16 = 0x23;
pub const USER_DS: u16 = 0x2b;
/// First GDT entry set_thread_area hands out (`GDT_ENTRY_TLS_MIN` in today's i386).
pub const GDT_ENTRY_TLS_MIN: usize = 6;
pub const GDT_ENTRY_TLS_ENTRIES: usize = 3;

#[inline]
pub const fn page_align(x: u32) -> u32 {
    x.wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1)
}
