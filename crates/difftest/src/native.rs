//! The native reference: the program runs on the host CPU (an x86-64 running i386
//! code in compatibility mode) under `ptrace`, one `PTRACE_SINGLESTEP` per
//! instruction.
//!
//! * The child asks to be traced, turns address-space randomisation off and sets
//!   `ADDR_LIMIT_3GB`, so that an i386 task on an x86-64 kernel gets i386 Linux's 3 GiB
//!   user space: its stack top is 0xC0000000 like growsdown's.
//! * The kernel's vDSO is hidden: AT_SYSINFO and AT_SYSINFO_EHDR are rewritten to
//!   AT_IGNORE before the first instruction, so glibc enters the kernel with
//!   `int 0x80` (as under growsdown and QEMU, which have no vDSO) and every system
//!   call is a visible synchronisation point.
//! * CPUID is answered by the tracer with growsdown's values: before each step the
//!   bytes at EIP are checked for `0F A2`, and the instruction is skipped with the
//!   registers set. CPUID faulting (`arch_prctl(ARCH_SET_CPUID, 0)`, made by the
//!   tracee itself through an injected system call, since exec resets it) is turned
//!   on where the host supports it, as a safety net; where it does not, the check
//!   before each step is all there is — which suffices, since every instruction is
//!   single-stepped.
//! * Registers come from `PTRACE_GETREGS` (x86-64 `user_regs_struct`; an i386
//!   tracee's values are the low halves). FS/GS bases come from
//!   `PTRACE_GET_THREAD_AREA` for the TLS selectors. An x86-64 kernel puts the i386
//!   TLS entries at GDT 12–14 where i386 Linux (and growsdown, and QEMU) use 6–8:
//!   the program sees that number (set_thread_area writes it back), so growsdown is
//!   made to use the host's entry (see `adopt_tls_entry` in mod.rs).
//! * The x87 state comes from `PTRACE_GETFPREGS` (x86-64 `user_fpregs_struct`, the
//!   FXSAVE image): FCW, FSW, the abridged tag (bit i = physical register i is
//!   non-empty) and `st_space`, eight 16-byte slots in ST order. FIP/FDP/FOP are not
//!   used (an AMD CPU saves them only when an exception is pending). XMM0–7 and
//!   MXCSR come from the same image (`xmm_space`, `mxcsr`).
//! * Single-stepping sets TF in the real EFLAGS; the kernel hides it from
//!   `PTRACE_GETREGS`, but PUSHF pushes it. After a PUSHF or PUSHFD the tracer
//!   clears TF in the pushed image when the program itself had not set TF. A load
//!   of SS holds the step's trap off until after the next instruction: one step
//!   runs both ([`Reference::steps_over_ss_shadow`]). With TF set by the program
//!   (POPF), the trap after each instruction is the program's: reported as
//!   SIGTRAP ([`Event::Signal`]) and delivered like any signal; likewise INT1.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use growsdown_decoder::{decode_one, Mnemonic};
use growsdown_loader::auxv;

use growsdown_kernel::Personality;

use super::image::{CodeMap, InitialStack, CPUID, INT80};
use super::sigframe;
use super::sse::Sse;
use super::state::Snapshot;
use super::x87::X87;
use super::{Event, Reference};
use growsdown_cpu::flags::TF;
use growsdown_cpu::fpu::float80::F80;

const PTRACE_GET_THREAD_AREA: libc::c_uint = 25;
const ARCH_SET_CPUID: libc::c_ulong = 0x1012;
/// `arch_prctl` in the i386 system call table.
const NR_ARCH_PRCTL_I386: u32 = 384;
/// GDT index of the first TLS entry on x86-64 kernels (`GDT_ENTRY_TLS_MIN`).
const HOST_TLS_MIN: u16 = growsdown_kernel::personality::X86_64_GDT_ENTRY_TLS_MIN as u16;

/// Whether the host can run i386 code at all (an x86 kernel; an x86-64 one built
/// with IA32 emulation is checked by the exec itself).
pub fn host_check() -> Result<(), String> {
    // SAFETY: utsname is plain old data; all zeroes is a valid value.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid utsname to fill.
    if unsafe { libc::uname(&mut u) } != 0 {
        return Err("uname failed".into());
    }
    // SAFETY: uname NUL-terminates the field.
    let m = unsafe { std::ffi::CStr::from_ptr(u.machine.as_ptr()) }.to_string_lossy().into_owned();
    if !matches!(m.as_str(), "x86_64" | "i386" | "i486" | "i586" | "i686") {
        return Err(format!("--against native needs an x86 host that runs i386 code; this host is {m}"));
    }
    Ok(())
}

pub struct Native {
    pid: libc::pid_t,
    code: CodeMap,
    cur: Snapshot,
    regs: libc::user_regs_struct,
    /// Signal to deliver with the next step (the tracee stopped on it).
    pending_sig: i32,
    /// The siginfo of `pending_sig` when it was held back through a REP string
    /// instruction (see `step`): written back before the signal is injected, so the
    /// program sees the sender's siginfo, not the SI_USER one the kernel makes up for
    /// a signal a tracer injects at another stop (kernel/signal.c `ptrace_signal`).
    held_info: Option<libc::siginfo_t>,
    /// EFLAGS.TF as the program set it. The kernel cannot always tell ptrace's TF
    /// from the program's: it hides TF from PTRACE_GETREGS only while
    /// `TIF_FORCED_TF` is set, and clears that flag for every stepped POPF or IRET
    /// (arch/x86/kernel/step.c `enable_single_step`: "if TF is changed by the
    /// instruction we will trace, don't mark it as being us"), even one that
    /// leaves TF clear; from then on GETREGS shows ptrace's TF, and a signal frame
    /// saves it (`handle_signal` only drops a forced TF). So the tracer follows
    /// the program's TF itself: set by POPF/POPFD/IRET and sigreturn from the
    /// image they load, cleared on entry to a handler.
    prog_tf: bool,
    /// The program's SIGTRAP disposition while its SIGTRAP handler runs. Each step
    /// there traps with SIGTRAP blocked, and the kernel resets a forced signal's
    /// handler to SIG_DFL when the signal is blocked (kernel/signal.c
    /// `force_sig_info_to_task`): what the program installed is read before the
    /// handler is entered and put back when it returns (sigreturn).
    sigtrap_saved: Option<Vec<u8>>,
    done: bool,
    /// Whether CPUID faulting is on in the tracee.
    pub cpuid_faulting: bool,
    /// (selector, base) cache for FS and GS; invalidated at system calls.
    base_cache: [(u16, u32); 2],
    /// The initial stack as exec left it (after the vDSO entries were hidden).
    pub initial: InitialStack,
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn cstring(b: &[u8]) -> Result<CString, String> {
    CString::new(b).map_err(|_| format!("{:?} contains a NUL byte", String::from_utf8_lossy(b)))
}

impl Native {
    /// Starts `prog args` with `env` as its whole environment, stopped before its
    /// first instruction.
    pub fn start(prog: &Path, args: &[OsString], env: &[(OsString, OsString)]) -> Result<Self, String> {
        host_check()?;
        let code = CodeMap::from_elf(prog)?;
        let path = cstring(prog.as_os_str().as_bytes())?;
        let mut argv = vec![path.clone()];
        for a in args {
            argv.push(cstring(a.as_bytes())?);
        }
        let envs: Vec<CString> = env
            .iter()
            .map(|(k, v)| {
                let mut e = k.as_bytes().to_vec();
                e.push(b'=');
                e.extend_from_slice(v.as_bytes());
                cstring(&e)
            })
            .collect::<Result<_, _>>()?;
        let mut argv_p: Vec<*const libc::c_char> = argv.iter().map(|c| c.as_ptr()).collect();
        argv_p.push(std::ptr::null());
        let mut env_p: Vec<*const libc::c_char> = envs.iter().map(|c| c.as_ptr()).collect();
        env_p.push(std::ptr::null());

        // A close-on-exec pipe carries the child's errno if exec fails.
        let mut fds = [0; 2];
        // SAFETY: fds is a two-int array.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(format!("pipe: {}", std::io::Error::last_os_error()));
        }
        // SAFETY: the child only calls async-signal-safe functions before exec/_exit;
        // everything it uses was allocated before the fork.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(format!("fork: {}", std::io::Error::last_os_error()));
        }
        if pid == 0 {
            // SAFETY: in the forked child: only async-signal-safe calls (close, signal, sigprocmask, ptrace, personality, execve, write, _exit) on data allocated before the fork.
            unsafe {
                libc::close(fds[0]);
                super::default_signals();
                let persona = (libc::ADDR_NO_RANDOMIZE | libc::ADDR_LIMIT_3GB) as libc::c_ulong;
                let err =
                    if libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) != 0 || libc::personality(persona) == -1 {
                        errno()
                    } else {
                        libc::execve(path.as_ptr(), argv_p.as_ptr(), env_p.as_ptr());
                        errno()
                    };
                let b = err.to_le_bytes();
                libc::write(fds[1], b.as_ptr().cast(), 4);
                libc::_exit(127);
            }
        }
        // SAFETY: closing our copy of the write end.
        unsafe { libc::close(fds[1]) };
        let mut b = [0u8; 4];
        // SAFETY: reading at most 4 bytes into b.
        let n = unsafe { libc::read(fds[0], b.as_mut_ptr().cast(), 4) };
        // SAFETY: closing our copy of the read end, which nothing else uses.
        unsafe { libc::close(fds[0]) };
        if n == 4 {
            let e = i32::from_le_bytes(b);
            let mut st = 0;
            // SAFETY: reaping our own child, which failed to exec; `st` is a valid int.
            unsafe { libc::waitpid(pid, &mut st, 0) };
            return Err(if e == libc::ENOEXEC {
                format!(
                    "{}: the host kernel cannot execute i386 programs (no IA32 emulation?): --against native is not available here",
                    prog.display()
                )
            } else {
                format!(
                    "{}: cannot start under ptrace: {}",
                    prog.display(),
                    std::io::Error::from_raw_os_error(e)
                )
            });
        }
        let mut n = Self {
            pid,
            code,
            cur: Snapshot::default(),
            // SAFETY: plain-old-data struct.
            regs: unsafe { std::mem::zeroed() },
            pending_sig: 0,
            held_info: None,
            prog_tf: false,
            sigtrap_saved: None,
            done: false,
            cpuid_faulting: false,
            base_cache: [(u16::MAX, 0); 2],
            initial: InitialStack::default(),
        };
        match n.wait()? {
            WaitResult::Stopped(libc::SIGTRAP) => {}
            other => return Err(format!("{}: unexpected state after exec: {other:?}", prog.display())),
        }
        // Kill the tracee if we die.
        // SAFETY: PTRACE_SETOPTIONS on our own stopped tracee; no memory is passed.
        unsafe { libc::ptrace(libc::PTRACE_SETOPTIONS, pid, 0, libc::PTRACE_O_EXITKILL as libc::c_ulong) };
        n.refresh()?;
        if n.regs.cs != 0x23 {
            return Err(format!(
                "{}: not an i386 program (CS={:#x} after exec); --against native runs 32-bit static programs",
                prog.display(),
                n.regs.cs
            ));
        }
        n.hide_vdso()?;
        n.cpuid_faulting = n.enable_cpuid_faulting()?;
        n.refresh()?;
        Ok(n)
    }

    fn wait(&mut self) -> Result<WaitResult, String> {
        let mut st = 0;
        loop {
            // SAFETY: waiting for our own child.
            let r = unsafe { libc::waitpid(self.pid, &mut st, libc::__WALL) };
            if r == self.pid {
                break;
            }
            if r < 0 && errno() != libc::EINTR {
                return Err(format!("waitpid: {}", std::io::Error::last_os_error()));
            }
        }
        Ok(if libc::WIFEXITED(st) {
            self.done = true;
            WaitResult::Exited(libc::WEXITSTATUS(st))
        } else if libc::WIFSIGNALED(st) {
            self.done = true;
            WaitResult::Killed(libc::WTERMSIG(st))
        } else {
            WaitResult::Stopped(libc::WSTOPSIG(st))
        })
    }

    fn getregs(&mut self) -> Result<(), String> {
        // SAFETY: PTRACE_GETREGS fills a user_regs_struct.
        let r = unsafe { libc::ptrace(libc::PTRACE_GETREGS, self.pid, 0, &mut self.regs as *mut _) };
        if r != 0 {
            return Err(format!("PTRACE_GETREGS: {}", std::io::Error::last_os_error()));
        }
        Ok(())
    }

    /// The siginfo of the signal the tracee is stopped on.
    fn siginfo(&mut self) -> Result<libc::siginfo_t, String> {
        // SAFETY: plain-old-data struct, filled by PTRACE_GETSIGINFO.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: the tracee is in a signal-delivery-stop; `info` is writable.
        let r =
            unsafe { libc::ptrace(libc::PTRACE_GETSIGINFO, self.pid, 0, &mut info as *mut libc::siginfo_t) };
        if r != 0 {
            return Err(format!("PTRACE_GETSIGINFO: {}", std::io::Error::last_os_error()));
        }
        Ok(info)
    }

    fn setregs(&mut self) -> Result<(), String> {
        // SAFETY: PTRACE_SETREGS reads a user_regs_struct.
        let r = unsafe { libc::ptrace(libc::PTRACE_SETREGS, self.pid, 0, &self.regs as *const _) };
        if r != 0 {
            return Err(format!("PTRACE_SETREGS: {}", std::io::Error::last_os_error()));
        }
        Ok(())
    }

    fn seg_base(&mut self, slot: usize, sel: u16) -> Result<u32, String> {
        if self.base_cache[slot].0 == sel {
            return Ok(self.base_cache[slot].1);
        }
        let index = sel >> 3;
        let base = if sel & 4 == 0 && (HOST_TLS_MIN..HOST_TLS_MIN + 3).contains(&index) {
            let mut desc = [0u32; 4];
            // SAFETY: PTRACE_GET_THREAD_AREA writes a 16-byte user_desc.
            let r = unsafe {
                libc::ptrace(PTRACE_GET_THREAD_AREA, self.pid, libc::c_ulong::from(index), desc.as_mut_ptr())
            };
            if r != 0 {
                return Err(format!("PTRACE_GET_THREAD_AREA {index}: {}", std::io::Error::last_os_error()));
            }
            desc[1]
        } else {
            0 // the flat user segments, or a null selector
        };
        self.base_cache[slot] = (sel, base);
        Ok(base)
    }

    /// Re-reads the registers into `cur`.
    fn refresh(&mut self) -> Result<Snapshot, String> {
        self.getregs()?;
        let r = &self.regs;
        let mut s = Snapshot {
            eip: r.rip as u32,
            regs: [r.rax, r.rcx, r.rdx, r.rbx, r.rsp, r.rbp, r.rsi, r.rdi].map(|v| v as u32),
            eflags: r.eflags as u32,
            ..Snapshot::default()
        };
        s.eflags = (s.eflags & !TF) | if self.prog_tf { TF } else { 0 };
        let sel = [r.es, r.cs, r.ss, r.ds, r.fs, r.gs].map(|v| v as u16);
        s.base[4] = self.seg_base(0, sel[4])?;
        s.base[5] = self.seg_base(1, sel[5])?;
        s.sel = sel;
        let (x87, sse) = self.fpregs()?;
        s.x87 = Some(x87);
        s.sse = Some(sse);
        self.cur = s;
        Ok(s)
    }

    /// The x87 and SSE state from the FXSAVE image (`xmm_space`: sixteen 16-byte
    /// registers, of which an i386 process has the first eight).
    fn fpregs(&mut self) -> Result<(X87, Sse), String> {
        // SAFETY: plain-old-data struct, filled by the kernel.
        let mut f: libc::user_fpregs_struct = unsafe { std::mem::zeroed() };
        // SAFETY: PTRACE_GETFPREGS fills a user_fpregs_struct.
        let r = unsafe { libc::ptrace(libc::PTRACE_GETFPREGS, self.pid, 0, &mut f as *mut _) };
        if r != 0 {
            return Err(format!("PTRACE_GETFPREGS: {}", std::io::Error::last_os_error()));
        }
        let mut st = [F80::default(); 8];
        for (i, v) in st.iter_mut().enumerate() {
            let w = &f.st_space[4 * i..4 * i + 3];
            *v = F80 { sig: u64::from(w[0]) | (u64::from(w[1]) << 32), se: w[2] as u16 };
        }
        let mut sse = Sse { mxcsr: f.mxcsr, ..Sse::default() };
        for (i, x) in sse.xmm.iter_mut().enumerate() {
            let w = &f.xmm_space[4 * i..4 * i + 4];
            *x = w.iter().rev().fold(0u128, |acc, &d| (acc << 32) | u128::from(d));
        }
        Ok((X87::from_st_order(f.cwd, f.swd, f.ftw as u8, true, st), sse))
    }

    fn write_mem(&mut self, addr: u32, data: &[u8]) -> Result<(), String> {
        let local = libc::iovec { iov_base: data.as_ptr() as *mut _, iov_len: data.len() };
        let remote = libc::iovec { iov_base: addr as usize as *mut _, iov_len: data.len() };
        // SAFETY: one local buffer we own, one remote range in the tracee.
        let n = unsafe { libc::process_vm_writev(self.pid, &local, 1, &remote, 1, 0) };
        if n != data.len() as isize {
            return Err(format!("cannot write {} bytes at {addr:#010x} in the tracee", data.len()));
        }
        Ok(())
    }

    /// Rewrites AT_SYSINFO / AT_SYSINFO_EHDR to AT_IGNORE and records the stack.
    fn hide_vdso(&mut self) -> Result<(), String> {
        let esp = self.cur.regs[4];
        let mut st = InitialStack::read(esp, |a, n| self.read_mem(a, n))?;
        for i in 0..st.auxv.len() {
            if matches!(st.auxv[i].0, auxv::AT_SYSINFO | auxv::AT_SYSINFO_EHDR) {
                self.write_mem(st.auxv_addr[i], &auxv::AT_IGNORE.to_le_bytes())?;
                st.auxv[i].0 = auxv::AT_IGNORE;
            }
        }
        st.bytes = self.read_mem(esp, (st.top - esp) as usize)?;
        self.initial = st;
        Ok(())
    }

    /// Runs `arch_prctl(ARCH_SET_CPUID, 0)` inside the tracee through an `int 0x80`
    /// of its own code, then restores every register. Returns whether it worked
    /// (ENODEV: the CPU or hypervisor has no CPUID faulting).
    fn enable_cpuid_faulting(&mut self) -> Result<bool, String> {
        Ok(self.inject_syscall([u64::from(NR_ARCH_PRCTL_I386), ARCH_SET_CPUID, 0, 0, 0])? == Some(0))
    }

    /// Runs system call `a[0]` with EBX ECX EDX ESI = `a[1..]` inside the tracee
    /// through an `int 0x80` of its own code, and restores every register. Its
    /// EAX, or `None` when the program has no usable `int 0x80`.
    fn inject_syscall(&mut self, a: [u64; 5]) -> Result<Option<u32>, String> {
        let Some(&site) = self.code.sites(INT80).iter().find(|&&s| self.is_real_int80(s)) else {
            return Ok(None);
        };
        self.getregs()?;
        let saved = self.regs;
        (self.regs.rax, self.regs.rbx, self.regs.rcx, self.regs.rdx, self.regs.rsi) =
            (a[0], a[1], a[2], a[3], a[4]);
        self.regs.rip = u64::from(site);
        self.setregs()?;
        self.raw_step(0)?;
        self.getregs()?;
        let eax = self.regs.rax as u32;
        self.regs = saved;
        self.setregs()?;
        Ok(Some(eax))
    }

    /// `rt_sigaction(SIGTRAP, new, old)` run in the tracee on a scratch area 4 KiB
    /// below its stack pointer, whose bytes are put back afterwards: the
    /// disposition (handler, flags, restorer, mask: 20 bytes) it had, after
    /// installing `new` if given.
    fn sigtrap_action(&mut self, new: Option<&[u8]>) -> Result<Vec<u8>, String> {
        const NR_RT_SIGACTION: u64 = 174;
        let scratch = self.cur.regs[4].wrapping_sub(4096) & !15;
        let kept = self.read_mem(scratch, 40)?;
        if let Some(n) = new {
            self.write_mem(scratch, n)?;
        }
        let (act, old) = (u64::from(scratch), u64::from(scratch + 20));
        let r = self.inject_syscall([
            NR_RT_SIGACTION,
            libc::SIGTRAP as u64,
            if new.is_some() { act } else { 0 },
            old,
            8,
        ])?;
        let got = self.read_mem(scratch + 20, 20)?;
        self.write_mem(scratch, &kept)?;
        match r {
            Some(0) => Ok(got),
            other => Err(format!("rt_sigaction(SIGTRAP) in the native process: {other:?}")),
        }
    }

    /// `site` is `int 0x80` as an instruction of its own (decodes from there).
    fn is_real_int80(&self, site: u32) -> bool {
        self.code.bytes_at(site.wrapping_sub(1), 1).is_some_and(|b| matches!(b[0], 0x90 | 0xc3 | 0x00))
    }

    fn raw_step(&mut self, sig: i32) -> Result<WaitResult, String> {
        if let Some(mut info) = self.held_info.take().filter(|i| i.si_signo == sig) {
            // SAFETY: the tracee is stopped; `info` is a valid siginfo_t we own.
            let r = unsafe {
                libc::ptrace(libc::PTRACE_SETSIGINFO, self.pid, 0, &mut info as *mut libc::siginfo_t)
            };
            if r != 0 {
                return Err(format!("PTRACE_SETSIGINFO: {}", std::io::Error::last_os_error()));
            }
        }
        // SAFETY: resuming our stopped tracee for one instruction.
        let r = unsafe { libc::ptrace(libc::PTRACE_SINGLESTEP, self.pid, 0, sig as libc::c_ulong) };
        if r != 0 {
            return Err(format!("PTRACE_SINGLESTEP: {}", std::io::Error::last_os_error()));
        }
        self.wait()
    }

    fn emulate_cpuid(&mut self) -> Result<Event, String> {
        self.getregs()?;
        let out = growsdown_cpu::cpuid::cpuid(self.regs.rax as u32, self.regs.rcx as u32);
        self.regs.rax = u64::from(out[0]);
        self.regs.rbx = u64::from(out[1]);
        self.regs.rcx = u64::from(out[2]);
        self.regs.rdx = u64::from(out[3]);
        self.regs.rip += 2;
        self.setregs()?;
        Ok(Event::Stepped(self.refresh()?))
    }

    /// TZCNT / LZCNT just ran on a host CPU with BMI1 / LZCNT; the i686 growsdown
    /// claims (and the program was told about through CPUID) runs F3 0F BC / BD as
    /// BSF / BSR. Like CPUID, the host's answer is replaced by that CPU's: the host
    /// sets CF exactly when the source was 0, which BSF/BSR report in ZF; a zero
    /// source leaves the destination as it was (undefined in the SDM, unchanged on
    /// Intel and AMD parts), and LZCNT's count becomes BSR's index (31 − count, or
    /// 15 − count for 16 bits). The other flags are undefined for BSF/BSR (masked).
    fn as_bit_scan(
        &mut self,
        i: &growsdown_decoder::Instruction,
        before: Snapshot,
    ) -> Result<Snapshot, String> {
        use growsdown_cpu::flags::{CF, ZF};
        let Some(idx) = i.op0_register().full_register32().number().checked_sub(iced_eax()) else {
            return Ok(self.cur);
        };
        let wide = i.op0_register().size() == 4;
        let mask: u32 = if wide { u32::MAX } else { 0xffff };
        let mut s = self.cur;
        let zero_src = s.eflags & CF != 0;
        let value = if zero_src {
            before.regs[idx] & mask
        } else if i.mnemonic() == Mnemonic::Lzcnt {
            (if wide { 31 } else { 15 }) - (s.regs[idx] & mask)
        } else {
            s.regs[idx] & mask
        };
        s.regs[idx] = (s.regs[idx] & !mask) | value;
        s.eflags = if zero_src { s.eflags | ZF } else { s.eflags & !ZF };
        let r = &mut self.regs;
        let slot =
            [&mut r.rax, &mut r.rcx, &mut r.rdx, &mut r.rbx, &mut r.rsp, &mut r.rbp, &mut r.rsi, &mut r.rdi];
        *slot.into_iter().nth(idx).expect("eight registers") = u64::from(s.regs[idx]);
        r.eflags = u64::from(s.eflags);
        self.setregs()?;
        self.cur = s;
        Ok(s)
    }

    /// The program's TF after the instruction about to run, when it loads EFLAGS:
    /// bit 8 of the image POPF/POPFD (at ESP) or IRETD (at ESP + 8) pops, or of the
    /// sigcontext's EFLAGS that sigreturn / rt_sigreturn restores.
    fn tf_loaded_by(&mut self, m: Option<Mnemonic>, syscall: bool) -> Result<Option<bool>, String> {
        let esp = self.cur.regs[4];
        let at = match m {
            Some(Mnemonic::Popf | Mnemonic::Popfd) => esp,
            Some(Mnemonic::Iretd) => esp.wrapping_add(8),
            _ if syscall => match sigframe::sigreturn_context(self.cur.regs[0], esp) {
                Some(sc) => sc.wrapping_add(4 * sigframe::SC_EFLAGS as u32),
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        Ok(Some(self.read_mem(at, 2)?[1] & 1 != 0))
    }

    /// At a handler's first instruction: writes `tf` as TF into the EFLAGS its
    /// signal frame saved.
    fn fix_frame_tf(&mut self, tf: bool) -> Result<(), String> {
        self.getregs()?;
        let esp = self.regs.rsp as u32;
        let mut head = [0u8; 16];
        head.copy_from_slice(&self.read_mem(esp, 16)?);
        let at = sigframe::sigcontext_at(esp, &head).wrapping_add(4 * sigframe::SC_EFLAGS as u32);
        let mut b = self.read_mem(at, 2)?;
        if (b[1] & 1 != 0) != tf {
            b[1] ^= 1;
            self.write_mem(at, &b)?;
        }
        Ok(())
    }

    fn at(&mut self, eip: u32, pat: [u8; 2]) -> bool {
        match self.code.bytes_at(eip, 2) {
            Some(b) => b == pat,
            None => self.read_mem(eip, 2).is_ok_and(|b| b == pat),
        }
    }
}

/// iced's number of EAX (registers of one size are numbered consecutively).
fn iced_eax() -> usize {
    growsdown_decoder::Register::EAX.number()
}

#[derive(Debug)]
enum WaitResult {
    Stopped(i32),
    Exited(i32),
    Killed(i32),
}

/// `-ERESTARTSYS`, `-ERESTARTNOINTR`, `-ERESTARTNOHAND`, `-ERESTART_RESTARTBLOCK`:
/// what an interrupted system call leaves in EAX until signal delivery decides
/// between EINTR and a restart.
fn is_restart(eax: u32) -> bool {
    use growsdown_kernel::ERESTART_RESTARTBLOCK;
    let e = (eax as i32).wrapping_neg();
    growsdown_kernel::is_restart(e) || e == ERESTART_RESTARTBLOCK
}

/// The signals an instruction itself raises (a fault, a trap): never held back.
fn is_synchronous(sig: i32) -> bool {
    [libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL, libc::SIGTRAP].contains(&sig)
}

impl Reference for Native {
    fn name(&self) -> &'static str {
        "native"
    }

    fn is_host_cpu(&self) -> bool {
        true
    }

    /// PTRACE_SINGLESTEP sets TF: the trap after MOV SS / POP SS waits for the next
    /// instruction.
    fn steps_over_ss_shadow(&self) -> bool {
        true
    }

    /// This host's kernel (an x86-64 Linux: TLS slots from GDT 12; the ESP test
    /// before 6.5) with the stack top the native process got (0xC0000000, see
    /// `ADDR_LIMIT_3GB` in the module doc).
    fn personality(&self, st: &InitialStack) -> Personality {
        Personality::this_host(st.top)
    }

    /// The signal is pending (the tracee stopped on it): the next step delivers it.
    fn deliver_fatal(&mut self, sig: i32) -> Result<Event, String> {
        if self.pending_sig != sig {
            return Err(format!("no pending signal {sig}"));
        }
        self.step()
    }

    /// Single-stepping with the signal: the host kernel builds the frame and, as the
    /// task was single-stepping, reports SIGTRAP at the handler's first instruction
    /// before running it (x86 `handle_signal` → `signal_setup_done(.., stepping)`).
    fn deliver_to_handler(&mut self, sig: i32, _handler: u32) -> Result<Event, String> {
        if self.pending_sig != sig {
            return Err(format!("no pending signal {sig}"));
        }
        if sig == libc::SIGTRAP && self.sigtrap_saved.is_none() {
            self.sigtrap_saved = Some(self.sigtrap_action(None)?);
        }
        let sig = std::mem::take(&mut self.pending_sig);
        let interrupted_tf = self.prog_tf;
        match self.raw_step(sig)? {
            WaitResult::Stopped(libc::SIGTRAP) => {
                // The handler runs with TF clear; the frame must save the
                // program's TF, not ptrace's.
                self.prog_tf = false;
                self.fix_frame_tf(interrupted_tf)?;
                Ok(Event::Stepped(self.refresh()?))
            }
            WaitResult::Stopped(s) => {
                self.pending_sig = s;
                Ok(Event::Signal(s, self.refresh()?))
            }
            WaitResult::Exited(c) => Ok(Event::Exited(c)),
            WaitResult::Killed(s) => Ok(Event::Killed(s)),
        }
    }

    /// The tracee's registers at its last stop.
    fn state(&self) -> Snapshot {
        self.cur
    }

    fn step(&mut self) -> Result<Event, String> {
        if self.done {
            return Err("the native process has ended".into());
        }
        let eip = self.cur.eip;
        if self.pending_sig == 0 && self.at(eip, CPUID) {
            return self.emulate_cpuid();
        }
        // Restarting with a pending signal at the exit of an interrupted system call
        // (EAX an -ERESTART* code): if no handler runs, the kernel moves EIP back
        // over `int 0x80` and the step runs the call again.
        let restarting = self.pending_sig != 0 && is_restart(self.cur.regs[0]);
        let syscall = self.at(eip, INT80) || restarting;
        let rep = self.code.is_rep_string(eip);
        let decoded = self.code.bytes_at(eip, 15).and_then(|b| decode_one(b, eip).ok());
        let bitscan = decoded.filter(|i| matches!(i.mnemonic(), Mnemonic::Tzcnt | Mnemonic::Lzcnt));
        // MOV SS / POP SS: the step also runs the next instruction (its shadow), and
        // on this CPU the one after a second load of SS (see `lockstep`).
        let mut last = decoded;
        while let Some(i) = last.filter(super::loads_ss) {
            last = self.code.bytes_at(i.next_ip32(), 15).and_then(|b| decode_one(b, i.next_ip32()).ok());
        }
        let pushf = matches!(last.map(|i| i.mnemonic()), Some(Mnemonic::Pushfd | Mnemonic::Pushf));
        // TF as the program set it: the kernel shows TF in PTRACE_GETREGS only when
        // it was not ptrace's (`TIF_FORCED_TF`, cleared when the stepped
        // instruction is a POPF or IRET: arch/x86/kernel/step.c
        // `enable_single_step`). With TF set by the program, the trap after the
        // instruction is its own: a SIGTRAP for it, not the end of our step.
        let user_tf = self.prog_tf;
        let int1 = decoded.is_some_and(|i| i.mnemonic() == Mnemonic::Int1);
        let tf_after = self.tf_loaded_by(decoded.map(|i| i.mnemonic()), syscall)?;
        let before = self.cur;
        // An asynchronous signal that stopped the tracee between two iterations of a
        // REP string instruction (the SDM lets one be interrupted there, Vol. 2B
        // "REP"): growsdown runs an instruction whole, so the signal is held back
        // (suppressed at this stop, its siginfo kept) until the instruction is done,
        // then reported after it, as one that arrived at that boundary.
        let mut held = 0;
        loop {
            let sig = std::mem::take(&mut self.pending_sig);
            match self.raw_step(sig)? {
                WaitResult::Exited(c) => return Ok(Event::Exited(c)),
                WaitResult::Killed(s) => return Ok(Event::Killed(s)),
                WaitResult::Stopped(libc::SIGTRAP) => {
                    if syscall {
                        self.base_cache = [(u16::MAX, 0); 2];
                    }
                    if let Some(tf) = tf_after {
                        self.prog_tf = tf;
                    }
                    let s = self.refresh()?;
                    if syscall && sigframe::sigreturn_context(before.regs[0], 0).is_some() {
                        if let Some(act) = self.sigtrap_saved.take() {
                            self.sigtrap_action(Some(&act))?;
                        }
                    }
                    if rep && s.eip == eip {
                        continue;
                    }
                    if syscall && is_restart(s.regs[0]) {
                        // The call was interrupted by a signal: this SIGTRAP comes
                        // first (synchronous signals are dequeued first), the signal
                        // that interrupted it is next, still at the call's exit.
                        continue;
                    }
                    if pushf {
                        // PUSHF/PUSHFD (alone or in the shadow of a load of SS) ran
                        // with the TF ptrace set for single-stepping: the image it
                        // pushed shows TF, which the program may not have set. TF is
                        // bit 8 in both sizes, bit 0 of the image's second byte.
                        let esp = s.regs[4];
                        let mut b = self.read_mem(esp, 2)?;
                        if (b[1] & 1 != 0) != user_tf {
                            b[1] ^= 1;
                            self.write_mem(esp, &b)?;
                        }
                    }
                    if held != 0 {
                        self.pending_sig = held;
                        return Ok(Event::Signal(held, s));
                    }
                    if let Some(i) = bitscan {
                        return self.as_bit_scan(&i, before).map(Event::Stepped);
                    }
                    if user_tf || int1 {
                        // The program's own trap (TF, or ICEBP's #DB): delivered with
                        // the next resume.
                        self.pending_sig = libc::SIGTRAP;
                        return Ok(Event::Signal(libc::SIGTRAP, s));
                    }
                    return Ok(Event::Stepped(s));
                }
                WaitResult::Stopped(libc::SIGSEGV) if self.cpuid_faulting && self.at(eip, CPUID) => {
                    return self.emulate_cpuid();
                }
                WaitResult::Stopped(sig) => {
                    let s = self.refresh()?;
                    if rep && held == 0 && s.eip == eip && s.regs != before.regs && !is_synchronous(sig) {
                        held = sig;
                        self.held_info = Some(self.siginfo()?);
                        continue;
                    }
                    self.pending_sig = sig;
                    return Ok(Event::Signal(sig, s));
                }
            }
        }
    }

    fn read_mem(&mut self, addr: u32, len: usize) -> Result<Vec<u8>, String> {
        let mut buf = vec![0u8; len];
        let local = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: len };
        let remote = libc::iovec { iov_base: addr as usize as *mut _, iov_len: len };
        // SAFETY: one local buffer we own, one remote range in the tracee.
        let n = unsafe { libc::process_vm_readv(self.pid, &local, 1, &remote, 1, 0) };
        if n != len as isize {
            return Err(format!("cannot read {len} bytes at {addr:#010x} in the native process"));
        }
        Ok(buf)
    }

    fn set_regs(&mut self, regs: &[(usize, u32)]) -> Result<(), String> {
        self.getregs()?;
        for &(n, v) in regs {
            let v = u64::from(v);
            match n {
                0 => self.regs.rax = v,
                1 => self.regs.rcx = v,
                2 => self.regs.rdx = v,
                3 => self.regs.rbx = v,
                4 => self.regs.rsp = v,
                5 => self.regs.rbp = v,
                6 => self.regs.rsi = v,
                7 => self.regs.rdi = v,
                8 => self.regs.rip = v,
                9 => self.regs.eflags = v,
                _ => return Err(format!("no register {n}")),
            }
        }
        self.setregs()?;
        self.refresh()?;
        Ok(())
    }
}

impl Drop for Native {
    fn drop(&mut self) {
        if !self.done {
            // SAFETY: killing and reaping our own child.
            unsafe {
                libc::kill(self.pid, libc::SIGKILL);
                let mut st = 0;
                libc::waitpid(self.pid, &mut st, libc::__WALL);
            }
        }
    }
}
