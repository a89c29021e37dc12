//! The machine: one CPU, one physical memory, the current task and the other
//! processes; and the loop that runs the CPU and turns what it reports into kernel
//! work (the role of 2.4's `entry.S` and `traps.c`).

use std::collections::BTreeMap;
use std::time::Instant;

use growsdown_cpu::exception::vector;
use growsdown_cpu::{Cpu, Exception, Exit};

use crate::mm::fault::do_page_fault;
use crate::personality::Personality;
use crate::signal::{self, SigInfo};
use crate::task::Task;
use crate::trace::FaultObserver;

/// Host bytes the decoded blocks may hold (`Cpu::decoded_limit`): with it,
/// growsdown's host memory is `--mem` plus a fixed overhead for any guest
/// (docs/architecture.md, "Host memory"). python3.11 importing 25 modules builds
/// about 20 MiB.
pub const DECODED_LIMIT: usize = 32 << 20;

/// How the machine is set up.
#[derive(Clone, Debug)]
pub struct Config {
    /// Guest physical memory in bytes.
    pub mem_bytes: usize,
    /// RLIMIT_STACK soft limit in bytes, if not the default 8 MiB.
    pub stack_limit: Option<u64>,
    /// Instructions per `Cpu::run` call between checks for host events, and the
    /// scheduler's time slice when there are several processes.
    pub slice: u64,
    /// Which kernel growsdown imitates where kernels differ (stack placement, the
    /// break, TLS numbering, the ESP test): [`Personality::LINUX_24`] by default.
    pub personality: Personality,
    /// Forward SIGTERM, SIGINT and the other signals sent to the growsdown process to
    /// the guest ([`crate::hostsig`]), and start the first process with the signals
    /// growsdown was started with ignored or blocked (execve keeps them). Off by
    /// default (the kernel's tests, difftest); the CLI turns it on. Off, a guest that
    /// only a signal could wake is a deadlock.
    pub host_signals: bool,
    /// When the first process ends while other guest processes live on, [`Kernel::run`]
    /// returns its status and leaves them to [`Kernel::run_rest`] (the CLI runs them
    /// in a host child, so that the caller gets the status at once, as natively).
    /// Off by default: they are killed and the machine ends ([`crate::exit`]).
    pub keep_others: bool,
    /// `--sysroot DIR`: PT_INTERP and the guest's absolute paths are looked up in DIR
    /// first, then as they are (qemu-user's `-L`). `None`: the host's own files.
    pub sysroot: Option<String>,
    /// Map a vDSO ([`crate::vdso`]) into every process exec starts, with AT_SYSINFO
    /// and AT_SYSINFO_EHDR in its auxv, as today's i386 Linux does. On by default;
    /// difftest turns it off, because it hides the reference's vDSO.
    pub vdso: bool,
    /// `--swap SIZE`: a swap area of this many bytes (0: none unless `swap_file`).
    pub swap_bytes: u64,
    /// `--swap-file PATH`: the swap area is this host file (created if missing;
    /// sized by `swap_bytes` if that is set, else as it is).
    pub swap_file: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            mem_bytes: 512 << 20,
            stack_limit: None,
            slice: 1 << 20,
            personality: Personality::LINUX_24,
            host_signals: false,
            keep_others: false,
            sysroot: None,
            vdso: true,
            swap_bytes: 0,
            swap_file: None,
        }
    }
}

/// How the guest ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// exit/exit_group with this status (low 8 bits are what a parent sees).
    Exited(i32),
    /// Killed by a signal's default action.
    Signaled { signo: i32, info: SigInfo, eip: u32, core: bool },
}

impl ExitStatus {
    /// The status a shell reports: the exit code, or 128 + signal number.
    pub fn shell_code(&self) -> i32 {
        match *self {
            Self::Exited(c) => c & 0xff,
            Self::Signaled { signo, .. } => 128 + signo,
        }
    }
}

/// What [`Kernel::step`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stepped {
    /// One instruction retired (after any page faults it took were resolved).
    Retired,
    /// The instruction was `int 0x80`; the call has not run yet.
    Syscall { nr: u32, args: [u32; 6] },
    /// A signal was delivered (or a trap taken) instead of retiring an instruction.
    Signal,
    /// The guest ended.
    Exited(ExitStatus),
    /// The same instruction faulted 64 times in a row without completing.
    Stuck,
}

pub struct Kernel {
    pub cpu: Cpu,
    pub frames: crate::mm::frames::FrameAllocator,
    /// The running process (2.4's `current`).
    pub task: Task,
    /// Every other task, keyed by pid (runnable, sleeping, zombies).
    pub tasks: BTreeMap<u32, Task>,
    /// The shared objects (address spaces, file tables, ...) that the current task
    /// does not use (see [`crate::share`]).
    pub parked: crate::share::Parked,
    /// Futex waiters are woken in the order they went to sleep: the next number.
    pub futex_seq: u64,
    /// The `fs` whose working directory the emulator process is in (see
    /// [`crate::share`], [`Kernel::sync_cwd`]).
    pub host_cwd: std::cell::Cell<u32>,
    /// The last pid handed out (`last_pid` of 2.4's `get_pid`).
    pub last_pid: u32,
    /// Instructions left in the current task's time slice (used only while there are
    /// several processes).
    pub slice_left: u64,
    /// `cpu.icount` minus the instructions the current task has retired: the CPU's
    /// count is machine-wide, fault events report the task's own.
    pub icount_base: u64,
    pub page_cache: crate::mm::filemap::PageCache,
    pub config: Config,
    /// Receives every page fault when tracing; `None` costs nothing.
    pub observer: Option<Box<dyn FaultObserver>>,
    /// The faults not yet handed to an observer that takes them in runs
    /// ([`FaultObserver::wants_log`]); `None` for any other.
    pub fault_log: Option<crate::trace::FaultLog>,
    pub fault_seq: u64,
    /// Every thread's fault counts, which outlive the thread (`--stats`).
    pub thread_faults: crate::trace::ThreadFaults,
    pub exit_status: Option<ExitStatus>,
    pub started: Instant,
    /// A placement hook for the next mapping without MAP_FIXED: when set and the
    /// range is free, `get_unmapped_area` returns this address instead of searching
    /// (and the hook is left for the caller to clear). difftest sets it to the
    /// address the reference's kernel chose for the same mmap.
    pub mmap_next: Option<u32>,
    /// The first process has exited and the machine runs on for the others
    /// ([`Kernel::run_rest`]): orphans now go to [`crate::exit::HOST_REAPER_PID`].
    pub first_gone: bool,
    /// The guest machine's SysV IPC objects ([`crate::ipc`]).
    pub ipc: crate::ipc::IpcNamespace,
    /// The guest machine's file locks ([`crate::locks`]).
    pub locks: crate::locks::LockTable,
    /// Every process's timers ([`crate::timer`]).
    pub timers: crate::timer::Timers,
    /// The OOM killer's counts and `sysctl_overcommit_memory` (`mm/oom_kill.rs`).
    pub oom: crate::mm::oom_kill::OomState,
    /// The swap area, the swap cache and reclaim's state ([`crate::mm::swap`]).
    pub swap: crate::mm::swap::SwapState,
}

impl Kernel {
    /// Boots the machine: physical memory, the kernel half of the address space, the
    /// GDT, paging on with WP (linux24.md §1.2: 2.4 sets CR0.WP at boot), an empty task.
    pub fn new(config: Config) -> Result<Self, String> {
        if config.mem_bytes < (16 << 20) {
            return Err(format!("--mem {} is too small: at least 16 MiB", config.mem_bytes));
        }
        let mut cpu = Cpu::new(config.mem_bytes);
        cpu.decoded_limit = DECODED_LIMIT;
        let frames = crate::mm::frames::FrameAllocator::new(cpu.mmu.phys_mut());
        let mut parked = crate::share::Parked::default();
        let id = parked.new_id();
        let ids = crate::share::ShareIds { mm: id, files: id, fs: id, sighand: id, group: crate::exit::INIT_PID };
        let mut task = Task::new(crate::exit::INIT_PID, "init", "", ids);
        if let Some(s) = config.stack_limit {
            task.rlim[crate::task::RLIMIT_STACK].cur = s;
        }
        let slice = config.slice.max(1);
        let mut k = Self {
            cpu,
            frames,
            task,
            tasks: BTreeMap::new(),
            parked,
            futex_seq: 0,
            host_cwd: std::cell::Cell::new(id),
            last_pid: crate::exit::INIT_PID,
            slice_left: slice,
            icount_base: 0,
            page_cache: Default::default(),
            config,
            observer: None,
            fault_log: None,
            fault_seq: 0,
            thread_faults: Default::default(),
            exit_status: None,
            started: Instant::now(),
            mmap_next: None,
            first_gone: false,
            ipc: Default::default(),
            locks: Default::default(),
            timers: Default::default(),
            oom: Default::default(),
            swap: Default::default(),
        };
        if k.config.swap_bytes != 0 || k.config.swap_file.is_some() {
            let size = (k.config.swap_bytes != 0).then_some(k.config.swap_bytes);
            k.swap.info = Some(crate::mm::swap::SwapInfo::open(k.config.swap_file.as_deref(), size)?);
            k.frames.enable_lru();
        }
        crate::mm::boot(&mut k)?;
        Ok(k)
    }

    /// Runs the guest until init (the process the machine started with) exits
    /// or is killed; returns its status. Other processes still alive then are killed
    /// (see [`crate::exit`]), unless `config.keep_others`: then they are left as they
    /// are, for [`Kernel::run_rest`]. After `run_rest` has begun: runs until the last
    /// guest process ends, and returns that one's status.
    pub fn run(&mut self) -> ExitStatus {
        self.started = Instant::now();
        if self.config.host_signals && self.cpu.icount == 0 && self.tasks.is_empty() {
            crate::hostsig::inherit_from_host(self);
        }
        if self.config.host_signals {
            if let Err(e) = crate::hostsig::install() {
                log::warn!(target: "kernel::signal", "host signals are not forwarded: {e}");
            }
        }
        loop {
            // One process, running: the loop as it was before there were processes.
            // Scheduling costs nothing here but these tests per kernel entry. A woken
            // kswapd (mm/vmscan.rs) leaves it too: run_slice counts the time slice,
            // and schedule() at its end runs kswapd.
            while self.tasks.is_empty()
                && self.task.state.is_running()
                && self.exit_status.is_none()
                && !self.swap.need_balance
            {
                match self.cpu.run(self.timers.budget(self.cpu.icount, self.config.slice)) {
                    Exit::Budget => {}
                    Exit::Exception(e) => self.handle_exception(e),
                }
                // Timers: one comparison while none is armed.
                if self.cpu.icount >= self.timers.check_at {
                    crate::timer::check(self);
                }
                if crate::hostsig::pending() {
                    crate::hostsig::forward(self);
                }
                if self.exit_status.is_none() {
                    signal::do_signal(self);
                }
            }
            if let Some(st) = self.run_slice() {
                return st;
            }
        }
    }

    /// Whether guest processes other than the first one live on (after `run` returned
    /// its status with `config.keep_others`). Zombies do not count: the first
    /// process's are reaped by [`crate::exit::HOST_REAPER_PID`] as it exits.
    pub fn others_remain(&self) -> bool {
        self.all_tasks().any(|t| t.tgid != crate::exit::INIT_PID && !t.state.is_zombie())
    }

    /// After `run` returned the first process's status with others remaining
    /// (`config.keep_others`): the first process exits as any other does (its
    /// children go to [`crate::exit::HOST_REAPER_PID`], nobody is told) and the others
    /// run until the last one ends. Nothing the first process left is looked at
    /// again (`--stats` was taken before).
    pub fn run_rest(&mut self) {
        if self.first_gone || !self.others_remain() {
            return;
        }
        self.first_gone = true;
        log::debug!(target: "kernel::sched", "the first process has exited; the others run on");
        if self.exit_status.is_none() {
            self.exit_status = Some(ExitStatus::Exited(0));
        }
        self.run();
    }

    /// Several processes, or one that sleeps: settle exits and sleeps, then run the
    /// current task for what is left of its time slice (or until the next kernel
    /// entry), and preempt it when the slice is used up.
    fn run_slice(&mut self) -> Option<ExitStatus> {
        if let Some(st) = crate::sched::settle(self) {
            return Some(st);
        }
        let before = self.cpu.icount;
        let exit = self.cpu.run(self.timers.budget(before, self.slice_left));
        self.slice_left = self.slice_left.saturating_sub(self.cpu.icount - before);
        if let Exit::Exception(e) = exit {
            self.handle_exception(e);
        }
        if self.cpu.icount >= self.timers.check_at {
            crate::timer::check(self);
        }
        if crate::hostsig::pending() {
            crate::hostsig::forward(self);
        }
        if self.exit_status.is_none() {
            signal::do_signal(self);
        }
        if self.exit_status.is_none() && self.task.state.is_running() && self.slice_left == 0 {
            crate::sched::schedule(self);
        }
        None
    }

    /// Executes one guest instruction, resolving the page faults it takes and
    /// delivering signals, for lockstep comparison. A system call is *not* executed:
    /// it is returned as [`Stepped::Syscall`] with EIP already past `int 0x80`, so the
    /// caller can either run it with [`Kernel::complete_syscall`] or impose another
    /// kernel's result.
    pub fn step(&mut self) -> Stepped {
        // A fault that keeps "resolving" without the instruction getting anywhere is
        // a kernel bug or a hostile loop; give up rather than hang. A REP string
        // instruction faults once per new page and moves ECX/ESI/EDI between faults:
        // only faults with no such progress count.
        let mut stalled = 0;
        let mut last = self.cpu.regs;
        while stalled < 64 {
            if self.tasks.is_empty() && self.task.state.is_running() {
                if let Some(st) = self.exit_status {
                    return Stepped::Exited(st);
                }
            } else if let Some(st) = crate::sched::settle(self) {
                // Several processes: an exit or a sleep switches to another one (there
                // is no time-slice preemption while stepping).
                return Stepped::Exited(st);
            }
            let before = self.cpu.icount;
            match self.cpu.run(1) {
                Exit::Budget => {
                    signal::do_signal(self);
                    return Stepped::Retired;
                }
                Exit::Exception(Exception::SoftwareInterrupt(0x80)) => {
                    let r = &self.cpu.regs;
                    use growsdown_cpu::{EAX, EBP, EBX, ECX, EDI, EDX, ESI};
                    return Stepped::Syscall {
                        nr: r[EAX],
                        args: [r[EBX], r[ECX], r[EDX], r[ESI], r[EDI], r[EBP]],
                    };
                }
                Exit::Exception(e) => {
                    let eip = self.cpu.eip;
                    self.handle_exception(e);
                    let pending = !self.task.sig.pending.is_empty();
                    signal::do_signal(self);
                    if self.cpu.icount != before || pending || self.cpu.eip != eip {
                        return match self.exit_status {
                            Some(st) => Stepped::Exited(st),
                            None => Stepped::Signal,
                        };
                    }
                    // A resolved page fault: the instruction restarts.
                    if self.cpu.regs == last {
                        stalled += 1;
                    } else {
                        stalled = 0;
                        last = self.cpu.regs;
                    }
                }
            }
        }
        Stepped::Stuck
    }

    /// Runs the system call [`Kernel::step`] stopped at, then delivers signals.
    pub fn complete_syscall(&mut self) {
        crate::syscall::dispatch(self);
        if self.exit_status.is_none() {
            signal::do_signal(self);
        }
    }

    /// What 2.4's trap handlers do for each vector taken from user mode.
    fn handle_exception(&mut self, e: Exception) {
        use crate::signal::*;
        let eip = self.cpu.eip;
        // The vector 2.4's handlers record as trap_no (SDM Vol. 3A Table 6-1).
        let v = e.vector();
        match e {
            Exception::SoftwareInterrupt(0x80) => crate::syscall::dispatch(self),
            Exception::PageFault { addr, code } => {
                let esp = self.cpu.esp();
                do_page_fault(self, addr, u32::from(code), esp, true);
            }
            Exception::DivideError => self.trap_signal(v, 0, SigInfo::fault(SIGFPE, FPE_INTDIV, eip)),
            Exception::InvalidOpcode => self.trap_signal(v, 0, SigInfo::fault(SIGILL, ILL_ILLOPN, eip)),
            // INT3, and INT 3 / INT 4 through their user-accessible gates (set_system_gate
            // in 2.4's traps.c).
            // #DB in user mode (today's exc_debug_user → send_sigtrap): single-step is
            // TRAP_TRACE, ICEBP (no DR6 cause) TRAP_BRKPT, si_addr the EIP after the
            // instruction. (2.4's do_debug sent the same signal.)
            Exception::SingleStep => self.trap_signal(v, 0, SigInfo::fault(SIGTRAP, TRAP_TRACE, eip)),
            Exception::Icebp => self.trap_signal(v, 0, SigInfo::fault(SIGTRAP, TRAP_BRKPT, eip)),
            Exception::TrapFlagSet => {
                log::error!(target: "kernel::trap", "the CPU leaked its internal TrapFlagSet exit");
            }
            Exception::Breakpoint | Exception::SoftwareInterrupt(3) => {
                self.trap_signal(v, 0, SigInfo::kernel(SIGTRAP))
            }
            Exception::SoftwareInterrupt(4) => self.trap_signal(v, 0, SigInfo::kernel(SIGSEGV)),
            // INTO and BOUND: do_overflow / do_bounds send SIGSEGV (traps.c).
            Exception::Overflow => self.trap_signal(v, 0, SigInfo::kernel(SIGSEGV)),
            Exception::BoundRange => self.trap_signal(v, 0, SigInfo::kernel(SIGSEGV)),
            Exception::DeviceNotAvailable => self.trap_signal(v, 0, SigInfo::kernel(SIGSEGV)),
            Exception::FloatingPoint => {
                let code = crate::signal::fpe_code(self.cpu.fpu.status, self.cpu.fpu.control);
                self.trap_signal(v, 0, SigInfo::fault(SIGFPE, code, eip))
            }
            Exception::AlignmentCheck => self.trap_signal(v, 0, SigInfo::fault(SIGBUS, BUS_ADRALN, eip)),
            // do_simd_coprocessor_error → math_error: the si_code from MXCSR's unmasked
            // flags, read the way the x87's are.
            Exception::SimdFloatingPoint => {
                let mxcsr = self.cpu.fpu.mxcsr;
                let code = crate::signal::fpe_code(mxcsr as u16 & 0x3f, (mxcsr >> 7) as u16 & 0x3f);
                self.trap_signal(v, 0, SigInfo::fault(SIGFPE, code, eip))
            }
            // A gate that is not open to user mode (any INT n but 0x80, 3, 4) is a #GP
            // with error code (vector << 3) | 2 (IDT entry, SDM Vol. 3A §6.13).
            Exception::SoftwareInterrupt(n) => {
                self.cpu.eip = eip.wrapping_sub(2);
                self.trap_signal(vector::GP, (u32::from(n) << 3) | 2, SigInfo::kernel(SIGSEGV))
            }
            Exception::GeneralProtection(code) => {
                self.trap_signal(v, u32::from(code), SigInfo::kernel(SIGSEGV))
            }
            Exception::StackFault(code) => self.trap_signal(v, u32::from(code), SigInfo::kernel(SIGBUS)),
            // do_segment_not_present: SIGBUS, as for #SS.
            Exception::SegmentNotPresent(code) => self.trap_signal(v, u32::from(code), SigInfo::kernel(SIGBUS)),
        }
    }

    /// `do_trap`: record the trap in `current->thread` and force the signal.
    fn trap_signal(&mut self, trap_no: u8, error_code: u32, info: SigInfo) {
        self.task.thread.trap_no = trap_no.into();
        self.task.thread.error_code = error_code;
        signal::force_sig_info(self, info);
    }

    /// Million instructions per second since `run` started.
    pub fn mips(&self) -> f64 {
        let secs = self.started.elapsed().as_secs_f64();
        if secs > 0.0 {
            self.cpu.icount as f64 / secs / 1e6
        } else {
            0.0
        }
    }
}
