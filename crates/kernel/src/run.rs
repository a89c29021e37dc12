//! The machine: one CPU, one physical memory, the current task; and the loop that
//! runs the CPU and turns what it reports into kernel work (the role of 2.4's
//! `entry.S` and `traps.c`).

use std::time::Instant;

use growsdown_cpu::{Cpu, Exception, Exit};

use crate::mm::fault::do_page_fault;
use crate::signal::{self, SigInfo};
use crate::task::Task;
use crate::trace::FaultObserver;

/// How the machine is set up.
#[derive(Clone, Debug)]
pub struct Config {
    /// Guest physical memory in bytes.
    pub mem_bytes: usize,
    /// RLIMIT_STACK soft limit in bytes, if not the default 8 MiB.
    pub stack_limit: Option<u64>,
    /// Instructions per `Cpu::run` call between checks for host events.
    pub slice: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self { mem_bytes: 512 << 20, stack_limit: None, slice: 1 << 20 }
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
    pub task: Task,
    pub page_cache: crate::mm::filemap::PageCache,
    pub config: Config,
    /// Receives every page fault when tracing; `None` costs nothing.
    pub observer: Option<Box<dyn FaultObserver>>,
    pub fault_seq: u64,
    pub exit_status: Option<ExitStatus>,
    pub started: Instant,
}

impl Kernel {
    /// Boots the machine: physical memory, the kernel half of the address space, the
    /// GDT, paging on with WP (spec §1.2: 2.4 sets CR0.WP at boot), an empty task.
    pub fn new(config: Config) -> Result<Self, String> {
        if config.mem_bytes < (16 << 20) {
            return Err(format!("--mem {} is too small: at least 16 MiB", config.mem_bytes));
        }
        let mut cpu = Cpu::new(config.mem_bytes);
        let frames = crate::mm::frames::FrameAllocator::new(&mut cpu.mmu.phys);
        let mut task = Task::new(1, "init", "");
        if let Some(s) = config.stack_limit {
            task.rlim[crate::task::RLIMIT_STACK].cur = s;
        }
        let mut k = Self {
            cpu,
            frames,
            task,
            page_cache: Default::default(),
            config,
            observer: None,
            fault_seq: 0,
            exit_status: None,
            started: Instant::now(),
        };
        crate::mm::boot(&mut k)?;
        Ok(k)
    }

    /// Runs the current task until it exits or is killed.
    pub fn run(&mut self) -> ExitStatus {
        self.started = Instant::now();
        loop {
            if let Some(st) = self.exit_status {
                return st;
            }
            match self.cpu.run(self.config.slice) {
                Exit::Budget => {}
                Exit::Exception(e) => self.handle_exception(e),
            }
            if self.exit_status.is_none() {
                signal::do_signal(self);
            }
        }
    }

    /// Executes one guest instruction, resolving the page faults it takes and
    /// delivering signals, for lockstep comparison. A system call is *not* executed:
    /// it is returned as [`Stepped::Syscall`] with EIP already past `int 0x80`, so the
    /// caller can either run it with [`Kernel::complete_syscall`] or impose another
    /// kernel's result.
    pub fn step(&mut self) -> Stepped {
        // A fault that keeps "resolving" without the instruction completing is a
        // kernel bug or a hostile loop; give up rather than hang.
        for _ in 0..64 {
            if let Some(st) = self.exit_status {
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
                    return Stepped::Syscall { nr: r[EAX], args: [r[EBX], r[ECX], r[EDX], r[ESI], r[EDI], r[EBP]] };
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
        match e {
            Exception::SoftwareInterrupt(0x80) => crate::syscall::dispatch(self),
            Exception::PageFault(pf) => {
                let esp = self.cpu.esp();
                do_page_fault(self, pf.addr, pf.code, esp, true);
            }
            Exception::DivideError => self.trap_signal(0, 0, SigInfo::fault(SIGFPE, FPE_INTDIV, eip)),
            Exception::InvalidOpcode => self.trap_signal(6, 0, SigInfo::fault(SIGILL, ILL_ILLOPN, eip)),
            // INT3, and INT 3 / INT 4 through their user-accessible gates (set_system_gate
            // in 2.4's traps.c).
            Exception::Breakpoint | Exception::SoftwareInterrupt(3) => {
                self.trap_signal(3, 0, SigInfo::kernel(SIGTRAP))
            }
            Exception::SoftwareInterrupt(4) => self.trap_signal(4, 0, SigInfo::kernel(SIGSEGV)),
            // INTO and BOUND: do_overflow / do_bounds send SIGSEGV (traps.c).
            Exception::Overflow => self.trap_signal(4, 0, SigInfo::kernel(SIGSEGV)),
            Exception::BoundRange => self.trap_signal(5, 0, SigInfo::kernel(SIGSEGV)),
            Exception::DeviceNotAvailable => self.trap_signal(7, 0, SigInfo::kernel(SIGSEGV)),
            Exception::FloatingPoint => {
                let code = crate::signal::fpe_code(self.cpu.fpu.status, self.cpu.fpu.control);
                self.trap_signal(16, 0, SigInfo::fault(SIGFPE, code, eip))
            }
            Exception::AlignmentCheck => self.trap_signal(17, 0, SigInfo::fault(SIGBUS, BUS_ADRALN, eip)),
            // A gate that is not open to user mode (any INT n but 0x80, 3, 4) is a #GP
            // with error code (vector << 3) | 2 (IDT entry, SDM Vol. 3A §6.13).
            Exception::SoftwareInterrupt(n) => {
                self.cpu.eip = eip.wrapping_sub(2);
                self.trap_signal(13, (u32::from(n) << 3) | 2, SigInfo::kernel(SIGSEGV))
            }
            Exception::GeneralProtection(code) => self.trap_signal(13, u32::from(code), SigInfo::kernel(SIGSEGV)),
            Exception::StackFault(code) => self.trap_signal(12, u32::from(code), SigInfo::kernel(SIGBUS)),
        }
    }

    /// `do_trap`: record the trap in `current->thread` and force the signal.
    fn trap_signal(&mut self, trap_no: u32, error_code: u32, info: SigInfo) {
        self.task.thread.trap_no = trap_no;
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
