//! The machine API: everything a tool that drives a guest may do with it.
//!
//! The CLI (`run`), `trace`, `difftest` and a debugger to come see the emulated
//! machine only through [`Machine`]: boot it with a [`Config`] (and so a
//! [`Personality`](crate::Personality)), exec a program, run it to the end or one
//! instruction at a time, read and write registers and guest memory, observe page
//! faults and system calls, list the address space, send signals. What the kernel
//! keeps inside (tasks, page tables, the frame allocator, the scheduler) stays
//! behind it, so the kernel can change without its users changing.
//!
//! Guest memory is read and written the way the kernel itself touches user memory
//! (`copy_from_user`/`copy_to_user`, `docs/linux24.md` §1.7): through the paging
//! unit, so a page not yet present is faulted in by the 2.4 fault path and counted,
//! and an address no VMA covers is an error rather than a host access.

use growsdown_cpu::Cpu;

use crate::mm::vma::Backing;
// What a region's `flags` mean, for tools that read `regions()` and fault events.
use crate::exec::ExecError;
pub use crate::mm::vma::{vm_perms, VM_EXEC, VM_GROWSDOWN, VM_MAYSHARE, VM_READ, VM_SHARED, VM_WRITE};
use crate::run::{Config, ExitStatus, Kernel, Stepped};
use crate::signal::{self, AltStack, SigInfo};
pub use crate::trace::ThreadCounts;
use crate::trace::{FaultCounts, FaultObserver};

/// A running emulated machine: one CPU, guest memory, growsdown's kernel.
pub struct Machine {
    k: Kernel,
}

/// Guest memory that could not be read or written at `addr` (no VMA, no access,
/// or beyond TASK_SIZE): what a system call would answer with EFAULT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadAddress {
    pub addr: u32,
    /// Bytes transferred before the failure.
    pub done: usize,
}

impl std::fmt::Display for BadAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad guest address {:#010x} (after {} bytes)", self.addr, self.done)
    }
}

/// One region of the running process's address space (`/proc/PID/maps`' view).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    pub start: u32,
    pub end: u32,
    /// The VMA's `VM_*` flags (re-exported here).
    pub flags: u32,
    /// "rwxp" as /proc/PID/maps prints them.
    pub perms: String,
    /// Offset into the backing file, in pages.
    pub pgoff: u32,
    /// The backing file's path, if it maps a file.
    pub file: Option<String>,
}

/// Where the running process's segments are (its `mm_struct` fields).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    pub start_code: u32,
    pub end_code: u32,
    pub start_brk: u32,
    pub brk: u32,
    /// The bottom of the VM_GROWSDOWN stack VMA, if there is one.
    pub stack_start: Option<u32>,
}

/// What the kernel counted for the running process (`docs/linux24.md` §3.8).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stats {
    /// Instructions the machine retired, all processes together.
    pub icount: u64,
    /// The fault counters are the process's: the sums over its threads, those that
    /// have exited too ([`Machine::thread_stats`] has each thread's).
    pub min_flt: u64,
    pub maj_flt: u64,
    pub cow_copies: u64,
    pub cow_reuses: u64,
    pub stack_expansions: u64,
    pub peak_rss: u64,
    /// Children this process forked.
    pub forks: u64,
    /// The fault counts of its reaped children (`cmin_flt`, `cmaj_flt`).
    pub cmin_flt: u64,
    pub cmaj_flt: u64,
    /// Millions of instructions per second since `run` started.
    pub mips: f64,
    /// The paging unit: translations served by the TLB, misses, page walks (misses
    /// that reached the tables: with paging on, every miss), and flushes of the whole
    /// TLB (CR3 loads, CR0.PG/WP and CR4 changes).
    pub tlb_hits: u64,
    pub tlb_misses: u64,
    pub page_walks: u64,
    pub tlb_flushes: u64,
    /// Decoded blocks built; found again in the cache by address; reached directly
    /// through the previous block's link (no lookup at all); and dropped because
    /// their code frame was written (self-modifying code, a reused frame).
    pub blocks_built: u64,
    pub blocks_hit: u64,
    pub blocks_linked: u64,
    pub blocks_invalidated: u64,
    /// Processes the OOM killer killed (machine-wide, `mm/oom_kill.rs`).
    pub oom_kills: u64,
}

impl Machine {
    /// Boots a machine with nothing loaded (see [`Kernel::new`]).
    pub fn new(config: Config) -> Result<Self, String> {
        Ok(Self { k: Kernel::new(config)? })
    }

    /// execve of a static ELF32 i386 executable at host path `path` into the first
    /// process (`load_elf_binary`): the image, the stack, the registers.
    pub fn exec(&mut self, path: &str, argv: &[Vec<u8>], envp: &[Vec<u8>]) -> Result<(), String> {
        crate::exec::load_elf_binary(&mut self.k, path, argv, envp)
    }

    /// execve as a shell starts a program: exec's checks first (a regular file with an
    /// execute bit for us: EACCES; a missing path: ENOENT), `#!` scripts, then the ELF
    /// loader. The error carries the errno (see [`crate::exec::do_execve`]).
    pub fn execve(&mut self, path: &str, argv: &[Vec<u8>], envp: &[Vec<u8>]) -> Result<(), ExecError> {
        crate::exec::do_execve_first(&mut self.k, path, argv, envp)
    }

    /// Sends every page fault from now on, with the 2.4 path that resolved it, to
    /// `observer` (`None`: stop; costs nothing when off). An observer that takes the
    /// faults in runs ([`FaultObserver::wants_log`]) gets the last run when it is
    /// replaced here: call this with `None` before taking its output.
    pub fn observe_faults(&mut self, observer: Option<Box<dyn FaultObserver>>) {
        crate::trace::flush_fault_log(&mut self.k);
        self.k.fault_log = observer.as_ref().filter(|o| o.wants_log()).map(|_| crate::trace::FaultLog::new());
        self.k.observer = observer;
    }

    /// Runs until the first process exits or is killed. The other guest processes
    /// are then killed, unless [`Config::keep_others`]: then they are left for
    /// [`Machine::run_rest`].
    pub fn run(&mut self) -> ExitStatus {
        self.k.run()
    }

    /// After `run` with [`Config::keep_others`]: whether guest processes other than
    /// the first one live on (natively they would outlive it).
    pub fn others_remain(&self) -> bool {
        self.k.others_remain()
    }

    /// After `run` with [`Config::keep_others`]: the first process exits as any
    /// process does, and the others run until the last one ends (orphans go to the
    /// host's init, pid 1). The machine's counters and address space are no longer
    /// the first process's afterwards.
    pub fn run_rest(&mut self) {
        self.k.run_rest()
    }

    /// One instruction of the running process, its faults resolved; stops before a
    /// system call, which [`Machine::complete_syscall`] then runs. The way to
    /// observe system calls.
    pub fn step(&mut self) -> Stepped {
        self.k.step()
    }

    /// Runs the system call [`Machine::step`] stopped at (and delivers the signals
    /// due on the way back to user mode).
    pub fn complete_syscall(&mut self) {
        self.k.complete_syscall()
    }

    /// How the guest ended, once it has.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        self.k.exit_status
    }

    /// The CPU's architectural state (registers, EIP, EFLAGS, segments, x87).
    pub fn cpu(&self) -> &Cpu {
        &self.k.cpu
    }

    /// The CPU's architectural state, to change registers between instructions.
    pub fn cpu_mut(&mut self) -> &mut Cpu {
        &mut self.k.cpu
    }

    /// Reads guest memory of the running process at `addr`.
    pub fn read_mem(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), BadAddress> {
        self.k
            .copy_from_user(addr, buf)
            .map_err(|done| BadAddress { addr: addr.wrapping_add(done as u32), done })
    }

    /// Writes guest memory of the running process at `addr` (copy-on-write and
    /// demand paging happen as for the kernel's own writes).
    pub fn write_mem(&mut self, addr: u32, data: &[u8]) -> Result<(), BadAddress> {
        self.k
            .copy_to_user(addr, data)
            .map_err(|done| BadAddress { addr: addr.wrapping_add(done as u32), done })
    }

    /// The running process's address space, lowest first.
    pub fn regions(&self) -> Vec<Region> {
        self.k
            .task
            .mm
            .mmap
            .iter()
            .map(|v| Region {
                start: v.start,
                end: v.end,
                flags: v.flags,
                perms: vm_perms(v.flags),
                pgoff: v.pgoff,
                file: match &v.backing {
                    Backing::File { file } | Backing::SharedFile { file, .. } => Some(file.path.clone()),
                    _ => None,
                },
            })
            .collect()
    }

    /// Where the running process's code, break and stack are.
    pub fn layout(&self) -> Layout {
        let mm = &self.k.task.mm;
        Layout {
            start_code: mm.start_code,
            end_code: mm.end_code,
            start_brk: mm.start_brk,
            brk: mm.brk,
            stack_start: mm
                .mmap
                .iter()
                .find(|v| v.flags & crate::mm::vma::VM_GROWSDOWN != 0)
                .map(|v| v.start),
        }
    }

    /// The running process's counters.
    pub fn stats(&self) -> Stats {
        let t = &self.k.task;
        let mut sum = FaultCounts::default();
        let mut peak_rss = t.stats.peak_rss;
        for th in self.thread_stats() {
            sum.add(&th.counts);
            peak_rss = peak_rss.max(th.peak_rss);
        }
        Stats {
            icount: self.k.cpu.icount,
            min_flt: sum.min_flt,
            maj_flt: sum.maj_flt,
            cow_copies: sum.cow_copies,
            cow_reuses: sum.cow_reuses,
            stack_expansions: sum.stack_expansions,
            peak_rss,
            forks: t.stats.forks,
            cmin_flt: t.cmin_flt,
            cmaj_flt: t.cmaj_flt,
            mips: self.k.mips(),
            tlb_hits: self.k.cpu.mmu.tlb().hits,
            tlb_misses: self.k.cpu.mmu.tlb().misses,
            page_walks: self.k.cpu.mmu.walks,
            tlb_flushes: self.k.cpu.mmu.tlb().flushes,
            blocks_built: self.k.cpu.blocks_built,
            blocks_hit: self.k.cpu.blocks_hit,
            blocks_linked: self.k.cpu.blocks_linked,
            blocks_invalidated: self.k.cpu.blocks_invalidated,
            oom_kills: self.k.oom.kills,
        }
    }

    /// The processes (tgids) the OOM killer chose, in order.
    pub fn oom_victims(&self) -> &[u32] {
        &self.k.oom.victims
    }

    /// Whether the OOM killer chose the first process (the one `run` reports).
    pub fn first_process_oom_killed(&self) -> bool {
        self.k.oom.victims.contains(&crate::exit::INIT_PID)
    }

    /// `sysctl_overcommit_memory` (2.4: 0 heuristic, anything else always grant;
    /// `/proc/sys/vm/overcommit_memory`).
    pub fn set_overcommit_memory(&mut self, mode: u32) {
        self.k.oom.overcommit_memory = mode;
    }

    /// Swap and reclaim counters (machine-wide), and the swap area's slots: total,
    /// in use (`None` without a swap area).
    pub fn swap_stats(&self) -> (crate::mm::swap::SwapStats, Option<(u32, u32)>) {
        let area = self.k.swap.info.as_ref().map(|si| (si.pages, si.inuse_pages));
        (self.k.swap.stats, area)
    }

    /// The zone's watermarks (`pages_min`, `pages_low`, `pages_high`), in pages.
    pub fn zone_watermarks(&self) -> crate::mm::frames::Watermarks {
        self.k.frames.watermarks
    }

    /// The memory counters every trace event carries ([`crate::trace::MemCounts`]),
    /// now: where the trace's memory curves end.
    pub fn mem_counts(&self) -> crate::trace::MemCounts {
        crate::trace::MemCounts::of(&self.k)
    }

    /// The fault counts of each thread of the running process that took a fault
    /// (exited ones too), in order of their first; their sums are [`Stats`]'.
    pub fn thread_stats(&self) -> Vec<ThreadCounts> {
        self.k.thread_faults.threads_of(self.k.task.tgid).copied().collect()
    }

    /// The signals pending for the running process, bit `sig - 1` each.
    pub fn pending_signals(&self) -> u64 {
        self.k.pending_mask()
    }

    /// The handler address installed for `sig` (0: SIG_DFL, 1: SIG_IGN).
    pub fn signal_handler(&self, sig: i32) -> u32 {
        self.k.task.sig.action(sig).handler
    }

    /// The running process's sigaltstack.
    pub fn signal_stack(&self) -> AltStack {
        self.k.task.sig.altstack
    }

    /// Whether `esp` lies on the running process's sigaltstack.
    pub fn on_signal_stack(&self, esp: u32) -> bool {
        self.k.task.sig.on_sig_stack(esp)
    }

    /// Delivers `sig` at this instruction boundary as the return to user mode would
    /// (2.4's `do_signal`: ignore, keep pending while blocked, kill, or build a
    /// handler frame), after sending it from outside (SI_USER, pid 0) unless it is
    /// already pending. `interrupted`: the system call the process was in, whose
    /// `-ERESTART*` code becomes EINTR or a restart; for a sigsuspend that ran
    /// elsewhere, `mask` is the mask it waited with (the old one returns after the
    /// handler, as after a real sigsuspend).
    pub fn deliver_signal(&mut self, sig: i32, interrupted: Option<Interrupted>) {
        let k = &mut self.k;
        if k.pending_mask() & signal::sigmask(sig) == 0 {
            signal::send_sig_info(k, SigInfo::user(sig, 0, 0, signal::host_uid()));
        }
        if let Some(i) = interrupted {
            k.task.orig_eax = Some(i.nr);
            if let Some(m) = i.mask {
                let unblockable = signal::sigmask(signal::SIGKILL) | signal::sigmask(signal::SIGSTOP);
                let st = &mut k.task.sig;
                st.saved_mask = Some(st.blocked);
                st.blocked = m & !unblockable;
            }
        }
        signal::do_signal(k);
    }

    /// Places the next mapping made without MAP_FIXED at `addr` when that range is
    /// free, instead of `get_unmapped_area`'s search (`None`: search again). Not
    /// 2.4: a tool that follows another kernel's choices (difftest) needs it.
    pub fn place_next_mmap(&mut self, addr: Option<u32>) {
        self.k.mmap_next = addr;
    }

    /// Whether the running process has file descriptor `fd` open.
    pub fn has_fd(&self, fd: u32) -> bool {
        self.k.task.files.get(fd).is_some()
    }

    /// Moves open file descriptor `from` to number `to` (closing what `to` was),
    /// as `dup2(from, to); close(from)` would.
    pub fn renumber_fd(&mut self, from: u32, to: u32) {
        let files = &mut self.k.task.files;
        if let Some(f) = files.remove(from) {
            if let Some(old) = files.install(to, f) {
                old.close_host();
            }
        }
    }
}

/// The system call a signal interrupts (see [`Machine::deliver_signal`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interrupted {
    /// Its number (`orig_eax`).
    pub nr: u32,
    /// For sigsuspend: the mask it waited with.
    pub mask: Option<u64>,
}
