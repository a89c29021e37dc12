//! Several processes: fork's address-space copy through the real fork (linux24.md §4.1,
//! §8 scenario 12), the task copy, wait4 and zombies, SIGCHLD, kill between
//! processes, execve from a guest, sleeping and the scheduler, on hand-made guests.
//! The `procs` guest image (glibc) is run in `sys_fork_procs.rs`.

mod mm_util;
mod sys_common;

use growsdown_cpu::{EAX, ESP};
use growsdown_kernel::exit::INIT_PID;
use growsdown_kernel::mm::pgtable;
use growsdown_kernel::sched::{self, TaskState};
use growsdown_kernel::signal::{CLD_KILLED, SIGCHLD, SIGKILL, SIGTERM, SIGUSR1};
use growsdown_kernel::syscall::*;
use growsdown_kernel::trace::Step;
use growsdown_kernel::{ExitStatus, Kernel};
use sys_common::{peek32, poke, poke32, process, sys, CODE, DATA, STACK_TOP};

/// A few i386 instructions, enough for the guests below.
#[derive(Default)]
struct Asm {
    code: Vec<u8>,
}

impl Asm {
    fn here(&self) -> u32 {
        CODE + self.code.len() as u32
    }
    fn b(&mut self, bytes: &[u8]) -> &mut Self {
        self.code.extend_from_slice(bytes);
        self
    }
    /// mov r32, imm (r: 0 eax, 1 ecx, 2 edx, 3 ebx, 6 esi, 7 edi)
    fn mov(&mut self, r: u8, imm: u32) -> &mut Self {
        self.b(&[0xb8 + r]).b(&imm.to_le_bytes())
    }
    fn sys(&mut self, nr: u32) -> &mut Self {
        self.mov(0, nr).b(&[0xcd, 0x80])
    }
    /// exit(ebx)
    fn exit_ebx(&mut self) -> &mut Self {
        self.sys(NR_EXIT)
    }
    /// test eax, eax; jnz rel8 — returns the offset of the rel8 byte to patch.
    fn jnz_fwd(&mut self) -> usize {
        self.b(&[0x85, 0xc0, 0x75, 0x00]);
        self.code.len() - 1
    }
    fn patch_here(&mut self, at: usize) {
        self.code[at] = (self.code.len() - at - 1) as u8;
    }
    /// mov ebx, eax
    fn ebx_eax(&mut self) -> &mut Self {
        self.b(&[0x89, 0xc3])
    }
    /// mov ebx, [addr]
    fn ebx_mem(&mut self, addr: u32) -> &mut Self {
        self.b(&[0x8b, 0x1d]).b(&addr.to_le_bytes())
    }
    /// wait4(ebx, DATA, 0, 0)
    fn wait4_ebx(&mut self) -> &mut Self {
        self.mov(1, DATA).mov(2, 0).mov(6, 0).sys(NR_WAIT4)
    }
    fn loop_forever(&mut self) -> &mut Self {
        self.b(&[0xeb, 0xfe])
    }
}

fn run_code(a: &Asm) -> (Kernel, ExitStatus) {
    let mut k = process(&a.code);
    let st = k.run();
    (k, st)
}

// ---------------------------------------------------------------------------------
// Spec §8 scenario 12 through fork itself

/// X written (0x067), Y read (ZERO_PAGE), Z untouched, in a 3-page private mapping.
fn scenario_12_setup(m: &mut mm_util::Machine) -> (u32, u32, u32) {
    use growsdown_kernel::mm::mmap::*;
    let p = m
        .syscall(sys_mmap2, &[0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, u32::MAX, 0])
        .unwrap();
    let (x, y, z) = (p, p + 4096, p + 8192);
    assert_eq!(m.store(x, 0x11), mm_util::Stop::Done);
    assert_eq!(m.load(y), mm_util::Stop::Done);
    assert_eq!(m.pte(x) & 0xfff, 0x067);
    (x, y, z)
}

#[test]
fn scenario_12_cow_after_a_real_fork() {
    let mut m = mm_util::machine();
    let (x, y, z) = scenario_12_setup(&mut m);
    let xf = m.pte(x) >> 12;
    let (parent_rss, parent_total) = (m.k.task.mm.rss, m.k.task.mm.total_vm);
    let (pmin, pmaj) = (m.k.task.min_flt, m.k.task.maj_flt);
    let flushes = m.k.cpu.mmu.tlb().flushes;

    let child = growsdown_kernel::fork::sys_fork(&mut m.k).unwrap();
    assert_eq!(child, INIT_PID + 1);
    // The parent: X write-protected (0x065), Y and Z as they were, TLB flushed, its
    // rss, total_vm and counters unchanged.
    assert_eq!(m.pte(x), (xf << 12) | 0x065);
    assert_eq!(m.pte(y) >> 12, m.k.frames.zero_page);
    assert_eq!(m.pte(y) & 0xfff, 0x025);
    assert_eq!(m.pte(z), 0);
    assert!(m.k.cpu.mmu.tlb().flushes > flushes, "flush_tlb_mm(parent)");
    assert_eq!(m.k.frames.count(xf), 2);
    assert_eq!((m.k.task.mm.rss, m.k.task.mm.total_vm), (parent_rss, parent_total));
    assert_eq!((m.k.task.min_flt, m.k.task.maj_flt), (pmin, pmaj));
    // The child, not yet run: X 0x045 (RW, A cleared), Y the zero page verbatim, Z
    // nothing; every present non-reserved page counted in its rss; counters 0.
    let c = &m.k.tasks[&child];
    let cmm = m.k.mm_of(c).expect("the child's address space, parked until it runs");
    let cpte = |a| pgtable::get_pte(m.k.cpu.mmu.phys(), cmm.pgd, a);
    assert_eq!(cpte(x), (xf << 12) | 0x045);
    assert_eq!(cpte(y), m.pte(y));
    assert_eq!(cpte(z), 0);
    assert_eq!(cmm.rss, parent_rss);
    assert_eq!(cmm.total_vm, parent_total);
    assert_eq!((c.min_flt, c.maj_flt, c.cmin_flt, c.cmaj_flt), (0, 0, 0, 0));
    assert_eq!(c.ppid, INIT_PID);
    assert_eq!(c.ctx.regs[EAX], 0, "fork returns 0 in the child");

    // Parent writes X: code 7, count 2 → copy, new frame 0x067; minor +1, rss same.
    let (min, maj, rss) = m.counters();
    assert_eq!(m.store(x, 0x22), mm_util::Stop::Done);
    let ev = m.ev.last();
    assert_eq!((ev.pid, ev.error_code), (INIT_PID, 7));
    assert!(matches!(ev.path.last(), Some(Step::DoWpPage { copied: true, from_zero_page: false, .. })));
    assert_eq!(m.counters(), (min + 1, maj, rss));
    assert_ne!(m.pte(x) >> 12, xf);
    assert_eq!(m.pte(x) & 0xfff, 0x067);
    assert_eq!(m.k.frames.count(xf), 1);

    // The child runs: a context switch loads its page directory.
    let flushes = m.k.cpu.mmu.tlb().flushes;
    sched::switch_to(&mut m.k, child);
    assert_eq!(m.k.task.pid, child);
    assert_eq!(m.k.cpu.mmu.cr3(), m.k.task.mm.pgd);
    assert!(m.k.cpu.mmu.tlb().flushes > flushes, "switch_mm flushes the TLB");
    let child_rss = m.k.task.mm.rss;
    // Writes X: count 1 → reuse in place (RW|D|A), no copy.
    assert_eq!(m.store(x, 0x33), mm_util::Stop::Done);
    let ev = m.ev.last();
    assert_eq!((ev.pid, ev.error_code), (child, 7));
    assert!(matches!(ev.path.last(), Some(Step::DoWpPage { copied: false, .. })));
    assert_eq!(m.pte(x), (xf << 12) | 0x067);
    assert_eq!(m.counters(), (1, 0, child_rss));
    // Writes Y: code 7, copy from the zero page, rss + 1.
    assert_eq!(m.store(y, 0x44), mm_util::Stop::Done);
    assert_eq!(m.ev.last().error_code, 7);
    assert!(matches!(
        m.ev.last().path.last(),
        Some(Step::DoWpPage { copied: true, from_zero_page: true, .. })
    ));
    assert_eq!(m.counters(), (2, 0, child_rss + 1));
    // Reads Z: code 4, ZERO_PAGE.
    assert_eq!(m.load(z), mm_util::Stop::Done);
    assert_eq!(m.ev.last().error_code, 4);
    assert_eq!(m.eax(), 0);
    assert_eq!(m.counters(), (3, 0, child_rss + 1));
    // The child's events count the child's own instructions.
    assert!(m.ev.last().icount < 100, "icount {} is the child's", m.ev.last().icount);

    sched::switch_to(&mut m.k, INIT_PID);
    assert_eq!(m.peek(x), 0x22, "the parent kept its own copy");
    assert_eq!(m.peek(y), 0);
    assert_eq!(m.counters(), (min + 1, maj, rss));
}

#[test]
fn scenario_12_child_exits_first_then_the_parent_reuses() {
    let mut m = mm_util::machine();
    let (x, _, _) = scenario_12_setup(&mut m);
    let xf = m.pte(x) >> 12;
    let child = growsdown_kernel::fork::sys_fork(&mut m.k).unwrap();
    let before = m.k.frames.in_use();
    // The child exits without running: do_exit frees its address space.
    sched::switch_to(&mut m.k, child);
    m.k.exit_status = Some(ExitStatus::Exited(0));
    assert_eq!(sched::settle(&mut m.k), None);
    assert_eq!(m.k.task.pid, INIT_PID);
    assert!(matches!(m.k.tasks[&child].state, TaskState::Zombie(ExitStatus::Exited(0))));
    assert!(m.k.frames.in_use() < before);
    assert_eq!(m.k.frames.count(xf), 1);
    // Parent writes X: count 1 → reuse, minor +1, no copy.
    let (min, maj, rss) = m.counters();
    assert_eq!(m.store(x, 2), mm_util::Stop::Done);
    assert!(matches!(m.ev.last().path.last(), Some(Step::DoWpPage { copied: false, .. })));
    assert_eq!(m.pte(x), (xf << 12) | 0x067);
    assert_eq!(m.counters(), (min + 1, maj, rss));
    // The exit sent SIGCHLD (default: ignored, nothing pending).
    assert!(m.k.task.sig.pending.is_empty());
}

// ---------------------------------------------------------------------------------
// The task copy

#[test]
fn the_child_is_a_copy_of_the_task_with_fresh_counters() {
    let mut k = process(&[0xf4]);
    k.task.min_flt = 7;
    k.task.cmin_flt = 3;
    poke32(&mut k, DATA, 0x1234);
    // A pending signal stays with the parent; handlers and mask are copied.
    assert_eq!(sys(&mut k, NR_SIGNAL, &[SIGUSR1 as u32, 1]), 0);
    k.task.sig.blocked = 1 << 4;
    k.task.sig.pending.push(growsdown_kernel::signal::SigInfo::kernel(SIGTERM));
    let pid = sys(&mut k, NR_FORK, &[]) as u32;
    assert_eq!(pid, INIT_PID + 1);
    let c = &k.tasks[&pid];
    assert_eq!((c.min_flt, c.maj_flt, c.cmin_flt, c.cmaj_flt), (0, 0, 0, 0));
    assert!(c.sig.pending.is_empty());
    assert_eq!(c.sig.blocked, 1 << 4);
    assert_eq!(k.action_of(c, SIGUSR1).handler, 1);
    assert_eq!(k.files_of(c).map(|f| f.count()), Some(k.task.files.count()));
    assert_ne!(c.ids.mm, k.task.ids.mm, "an address space of its own");
    assert_eq!(c.rlim, k.task.rlim);
    assert_eq!(c.exit_signal, SIGCHLD);
    assert_eq!(k.task.stats.forks, 1);
    // getpid/getppid in the child.
    sched::switch_to(&mut k, pid);
    assert_eq!(sys(&mut k, NR_GETPID, &[]), pid as i32);
    assert_eq!(pid, INIT_PID + 1, "get_pid hands out the pid after init's");
    assert_eq!(sys(&mut k, NR_GETPPID, &[]), INIT_PID as i32, "the parent's getpid(), not 1");
    assert_eq!(peek32(&mut k, DATA), 0x1234);
    assert_eq!(k.cpu.regs[EAX], 0);
}

#[test]
fn clone_flags_tids_stack_and_refusals() {
    let mut k = process(&[0xf4]);
    poke32(&mut k, DATA, 0);
    poke32(&mut k, DATA + 4, 0);
    let flags = SIGCHLD as u32 | 0x0010_0000 | 0x0100_0000; // PARENT_SETTID | CHILD_SETTID
    let newsp = STACK_TOP - 0x800;
    let pid = sys(&mut k, NR_CLONE, &[flags, newsp, DATA, 0, DATA + 4]) as u32;
    assert_eq!(pid, INIT_PID + 1);
    assert_eq!(peek32(&mut k, DATA), pid, "CLONE_PARENT_SETTID: in the parent");
    assert_eq!(peek32(&mut k, DATA + 4), 0, "CLONE_CHILD_SETTID: not in the parent");
    sched::switch_to(&mut k, pid);
    assert_eq!(k.cpu.regs[ESP], newsp);
    assert_eq!(peek32(&mut k, DATA + 4), pid, "CLONE_CHILD_SETTID: stored by the child");
    assert_eq!(k.task.min_flt, 1, "its COW fault is the child's");
    sched::switch_to(&mut k, INIT_PID);
    // copy_process's refusals: CLONE_THREAD without CLONE_SIGHAND, CLONE_SIGHAND
    // without CLONE_VM, CLONE_NEWNS with CLONE_FS; an exit signal past 64; and the
    // namespaces growsdown does not have (CLONE_NEWPID).
    for bad in [0x10100 | 17, 0x800 | 17, 0x20200 | 17, 65, 0x2000_0000 | 17] {
        assert_eq!(sys(&mut k, NR_CLONE, &[bad, 0, 0, 0, 0]), -libc::EINVAL, "flags {bad:#x}");
    }
    // A thread: same process, same address space and tables, exit signal -1.
    let tid = sys(&mut k, NR_CLONE, &[THREAD_FLAGS, newsp, 0, 0, 0]) as u32;
    let t = &k.tasks[&tid];
    assert_eq!((t.tgid, t.ppid), (INIT_PID, k.task.ppid));
    assert_eq!(
        (t.ids.mm, t.ids.files, t.ids.sighand, t.ids.group),
        (k.task.ids.mm, k.task.ids.files, k.task.ids.sighand, INIT_PID)
    );
    assert_eq!(t.exit_signal, -1);
    // RLIMIT_NPROC counts every process.
    k.task.rlim[growsdown_kernel::task::RLIMIT_NPROC].cur = 2;
    assert_eq!(sys(&mut k, NR_FORK, &[]), -libc::EAGAIN);
}

// ---------------------------------------------------------------------------------
// wait4, zombies, SIGCHLD

#[test]
fn wait4_without_children_with_wnohang_and_bad_options() {
    let mut k = process(&[0xf4]);
    assert_eq!(sys(&mut k, NR_WAIT4, &[u32::MAX, 0, 0, 0]), -libc::ECHILD);
    let pid = sys(&mut k, NR_FORK, &[]) as u32;
    assert_eq!(sys(&mut k, NR_WAIT4, &[u32::MAX, 0, 1, 0]), 0, "WNOHANG, child running");
    assert_eq!(sys(&mut k, NR_WAIT4, &[pid + 1, 0, 1, 0]), -libc::ECHILD, "not a child");
    assert_eq!(sys(&mut k, NR_WAIT4, &[u32::MAX, 0, 0x100, 0]), -libc::EINVAL);
    assert_eq!(
        sys(&mut k, NR_WAIT4, &[pid, 0, 0x8000_0001, 0]),
        -libc::ECHILD,
        "__WCLONE: not a clone child"
    );
}

#[test]
fn a_zombie_is_reaped_once_with_its_status_rusage_and_sigchld() {
    let mut k = process(&[0xf4]);
    let pid = sys(&mut k, NR_FORK, &[]) as u32;
    sched::switch_to(&mut k, pid);
    k.task.min_flt = 40;
    k.task.maj_flt = 2;
    k.task.cmin_flt = 5;
    k.exit_status = Some(ExitStatus::Exited(0x103));
    assert_eq!(sched::settle(&mut k), None);
    assert_eq!(k.task.pid, INIT_PID);
    // SIGCHLD with CLD_EXITED, si_pid, si_status.
    let info = k.task.sig.pending.iter().find(|p| p.signo == SIGCHLD).copied();
    assert_eq!(info.map(|i| (i.code, i.addr, i.status)), None, "SIGCHLD's default action: discarded");
    let mut b = [0u8; 72];
    assert_eq!(sys(&mut k, NR_GETRUSAGE, &[u32::MAX, DATA + 0x100]), 0);
    assert_eq!(sys_common::peek(&mut k, DATA + 0x100, 72), b.to_vec(), "nothing reaped yet");
    assert_eq!(sys(&mut k, NR_KILL, &[pid, 0]), 0, "a zombie exists");
    assert_eq!(sys(&mut k, NR_WAIT4, &[u32::MAX, DATA, 0, DATA + 0x200]), pid as i32);
    assert_eq!(peek32(&mut k, DATA), 0x300, "exit(0x103): status 3 << 8");
    assert_eq!(peek32(&mut k, DATA + 0x200 + 32), 45, "child rusage: its minflt + its children's");
    assert_eq!(peek32(&mut k, DATA + 0x200 + 36), 2);
    assert_eq!((k.task.cmin_flt, k.task.cmaj_flt), (45, 2), "linux24.md §3.8: added on reap");
    assert_eq!(sys(&mut k, NR_GETRUSAGE, &[u32::MAX, DATA + 0x100]), 0);
    b[32..36].copy_from_slice(&45u32.to_le_bytes());
    b[36..40].copy_from_slice(&2u32.to_le_bytes());
    assert_eq!(sys_common::peek(&mut k, DATA + 0x100, 72), b.to_vec(), "RUSAGE_CHILDREN");
    assert_eq!(sys(&mut k, NR_WAIT4, &[u32::MAX, DATA, 0, 0]), -libc::ECHILD);
    assert_eq!(sys(&mut k, NR_KILL, &[pid, 0]), -libc::ESRCH, "a reaped guest pid is gone");
    assert!(k.tasks.is_empty());
}

#[test]
fn sigchld_with_a_handler_carries_the_exit_status() {
    let mut k = process(&[0xf4]);
    // rt_sigaction(SIGCHLD, {handler CODE+0x100, SA_SIGINFO})
    for (i, v) in [CODE + 0x100, 4, 0, 0, 0].into_iter().enumerate() {
        poke32(&mut k, DATA + 0x40 + 4 * i as u32, v);
    }
    assert_eq!(sys(&mut k, NR_RT_SIGACTION, &[SIGCHLD as u32, DATA + 0x40, 0, 8]), 0);
    let pid = sys(&mut k, NR_FORK, &[]) as u32;
    sched::switch_to(&mut k, pid);
    k.exit_status = Some(ExitStatus::Signaled {
        signo: SIGTERM,
        info: growsdown_kernel::signal::SigInfo::kernel(SIGTERM),
        eip: 0,
        core: false,
    });
    // The parent, switched back in, gets the signal on its way to user mode: the
    // handler runs with the rt frame's siginfo.
    assert_eq!(sched::settle(&mut k), None);
    assert_eq!(k.cpu.eip, CODE + 0x100, "in the SIGCHLD handler");
    let frame = k.cpu.regs[ESP];
    assert_eq!(peek32(&mut k, frame + 4), SIGCHLD as u32);
    let si = frame + 16;
    assert_eq!(peek32(&mut k, si), SIGCHLD as u32);
    assert_eq!(peek32(&mut k, si + 8), CLD_KILLED as u32, "si_code");
    assert_eq!(peek32(&mut k, si + 12), pid, "si_pid");
    assert_eq!(peek32(&mut k, si + 20), SIGTERM as u32, "si_status");
    assert_eq!(sys(&mut k, NR_WAIT4, &[pid, DATA, 0, 0]), pid as i32);
    assert_eq!(peek32(&mut k, DATA), SIGTERM as u32);
}

// ---------------------------------------------------------------------------------
// Whole guests under the run loop

#[test]
fn fork_and_wait4_report_the_childs_exit_status() {
    let mut a = Asm::default();
    a.sys(NR_FORK);
    let j = a.jnz_fwd();
    a.mov(3, 7).exit_ebx();
    a.patch_here(j);
    a.ebx_eax().wait4_ebx();
    // exit((status >> 8) + 16 * wait4's return)
    a.ebx_mem(DATA).b(&[0xc1, 0xeb, 0x08]).b(&[0xc1, 0xe0, 0x04]).b(&[0x01, 0xc3]).exit_ebx();
    let (k, st) = run_code(&a);
    // The child is pid INIT_PID + 1; exit keeps the low 8 bits.
    assert_eq!(st, ExitStatus::Exited((7 + 16 * (INIT_PID as i32 + 1)) & 0xff));
    assert!(k.tasks.is_empty(), "reaped");
    assert_eq!(k.task.stats.forks, 1);
}

#[test]
fn kill_sigterm_ends_a_looping_child() {
    let mut a = Asm::default();
    a.sys(NR_FORK);
    let j = a.jnz_fwd();
    a.loop_forever();
    a.patch_here(j);
    // push eax; sched_yield (the child loops for a whole slice); kill(pid, SIGTERM)
    a.b(&[0x50]).sys(NR_SCHED_YIELD);
    a.b(&[0x5b]).b(&[0x53]).mov(1, SIGTERM as u32).sys(NR_KILL);
    a.b(&[0x5b]).wait4_ebx().ebx_mem(DATA).exit_ebx();
    let (k, st) = run_code(&a);
    assert_eq!(st, ExitStatus::Exited(SIGTERM), "wait status: killed by SIGTERM");
    assert!(k.cpu.icount > 1 << 20, "the child ran its slice first");
}

#[test]
fn a_pipe_reader_that_runs_first_sleeps_until_the_writer_writes() {
    // pipe(DATA+0x20); fork; parent: read(p[0], DATA+0x40, 4) first, exit(the byte);
    // child: write(p[1], "\x2a", 1); exit(0).
    let mut a = Asm::default();
    a.mov(3, DATA + 0x20).sys(NR_PIPE);
    a.sys(NR_FORK);
    let j = a.jnz_fwd();
    a.b(&[0x8b, 0x1d]).b(&(DATA + 0x24).to_le_bytes()); // mov ebx, [p1]
    a.mov(1, DATA + 0x60).mov(2, 1).sys(NR_WRITE);
    a.mov(3, 0).exit_ebx();
    a.patch_here(j);
    a.b(&[0x8b, 0x1d]).b(&(DATA + 0x20).to_le_bytes()); // mov ebx, [p0]
    a.mov(1, DATA + 0x40).mov(2, 4).sys(NR_READ);
    // exit(byte read + 100 * count)
    a.b(&[0x6b, 0xc0, 0x64]); // imul eax, eax, 100
    a.b(&[0x0f, 0xb6, 0x1d]).b(&(DATA + 0x40).to_le_bytes()); // movzx ebx, byte [DATA+0x40]
    a.b(&[0x01, 0xc3]).exit_ebx();
    let mut k = process(&a.code);
    poke(&mut k, DATA + 0x60, &[0x2a]);
    assert_eq!(k.run(), ExitStatus::Exited(0x2a + 100));
}

#[test]
fn execve_of_a_guest_image_from_a_guest_and_its_errors() {
    let image = concat!(env!("CARGO_MANIFEST_DIR"), "/../../guest-images/bin/segv-exit");
    let mut path = image.as_bytes().to_vec();
    path.push(0);
    let setup = |k: &mut Kernel, p: &[u8]| {
        // The exec'd program's message goes nowhere.
        let null = std::fs::File::open("/dev/null").unwrap();
        k.task
            .files
            .install(1, growsdown_kernel::files::OpenFile::new(std::os::fd::IntoRawFd::into_raw_fd(null)));
        poke(k, DATA + 0x100, p);
        poke32(k, DATA + 0x80, DATA + 0x100);
        poke32(k, DATA + 0x84, 0);
        poke32(k, DATA + 0x90, 0);
    };
    // execve(path, [path], []); on failure exit(-eax).
    let mut a = Asm::default();
    a.mov(3, DATA + 0x100).mov(1, DATA + 0x80).mov(2, DATA + 0x90).sys(NR_EXECVE);
    a.b(&[0xf7, 0xd8]).ebx_eax().exit_ebx();
    let mut k = process(&a.code);
    setup(&mut k, &path);
    let st = k.run();
    assert!(matches!(st, ExitStatus::Signaled { signo: 11, .. }), "{st:?}: the new program ran");
    assert_eq!(k.task.comm, "segv-exit");
    assert_eq!(k.task.pid, INIT_PID);

    let mut k = process(&a.code);
    setup(&mut k, b"/nonexistent/program\0");
    assert_eq!(k.run(), ExitStatus::Exited(libc::ENOENT), "refused: the caller goes on");
    let mut k = process(&a.code);
    setup(&mut k, b"/dev/null\0");
    assert_eq!(k.run(), ExitStatus::Exited(libc::EACCES));

    // From a child: the parent waits for the exec'd program's death.
    let mut a = Asm::default();
    a.sys(NR_FORK);
    let j = a.jnz_fwd();
    a.mov(3, DATA + 0x100).mov(1, DATA + 0x80).mov(2, DATA + 0x90).sys(NR_EXECVE);
    a.mov(3, 99).exit_ebx();
    a.patch_here(j);
    a.ebx_eax().wait4_ebx().ebx_mem(DATA).exit_ebx();
    let mut k = process(&a.code);
    setup(&mut k, &path);
    assert_eq!(k.run(), ExitStatus::Exited(11), "wait status: killed by SIGSEGV");
}

#[test]
fn a_deadlock_ends_the_machine_instead_of_hanging() {
    // Both processes pause() with nobody to signal them.
    let mut a = Asm::default();
    a.sys(NR_FORK);
    let top = a.here();
    a.sys(NR_PAUSE);
    let back = top.wrapping_sub(a.here() + 2) as u8;
    a.b(&[0xeb, back]);
    let (_, st) = run_code(&a);
    assert!(matches!(st, ExitStatus::Signaled { signo: SIGKILL, .. }), "{st:?}");
    // Alone, too.
    let mut a = Asm::default();
    a.sys(NR_PAUSE).mov(3, 0).exit_ebx();
    let (_, st) = run_code(&a);
    assert!(matches!(st, ExitStatus::Signaled { signo: SIGKILL, .. }), "{st:?}");
}

#[test]
fn init_exiting_kills_the_other_processes_and_frees_their_memory() {
    let mut a = Asm::default();
    a.sys(NR_FORK);
    let j = a.jnz_fwd();
    a.loop_forever();
    a.patch_here(j);
    a.mov(3, 5).exit_ebx();
    let mut k = process(&a.code);
    let before = k.frames.in_use();
    assert_eq!(k.run(), ExitStatus::Exited(5));
    assert!(k.tasks.is_empty());
    assert_eq!(k.task.pid, INIT_PID);
    assert!(k.frames.in_use() <= before, "the child's page tables and pages are gone");
}

#[test]
fn a_signal_to_a_sleeping_child_interrupts_its_read() {
    // The child blocks reading an empty pipe; the parent kills it with SIGUSR1
    // (default action: terminate) and reports the wait status.
    let mut a = Asm::default();
    a.mov(3, DATA + 0x20).sys(NR_PIPE);
    a.sys(NR_FORK);
    let j = a.jnz_fwd();
    a.b(&[0x8b, 0x1d]).b(&(DATA + 0x20).to_le_bytes());
    a.mov(1, DATA + 0x40).mov(2, 1).sys(NR_READ);
    a.mov(3, 1).exit_ebx();
    a.patch_here(j);
    a.b(&[0x50]).sys(NR_SCHED_YIELD); // the child runs and sleeps in read
    a.b(&[0x5b, 0x53]).mov(1, SIGUSR1 as u32).sys(NR_KILL);
    a.b(&[0x5b]).wait4_ebx().ebx_mem(DATA).exit_ebx();
    let mut k = process(&a.code);
    let st = k.run();
    assert_eq!(st, ExitStatus::Exited(SIGUSR1));
}

// ---------------------------------------------------------------------------------
// Threads: clone with CLONE_VM | CLONE_THREAD, futexes, exit vs exit_group

/// The flags of glibc's pthread_create, without the TLS and tid pointers.
const THREAD_FLAGS: u32 = 0x0001_0f00; // CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD

impl Asm {
    /// clone(THREAD_FLAGS, stack): the new thread starts on `stack` with EAX = 0.
    fn clone_thread(&mut self, stack: u32) -> &mut Self {
        self.mov(3, THREAD_FLAGS).mov(1, stack).mov(2, 0).mov(6, 0).mov(7, 0).sys(NR_CLONE)
    }
    /// futex(addr, FUTEX_WAIT, val, timeout)
    fn futex_wait(&mut self, addr: u32, val: u32, timeout: u32) -> &mut Self {
        self.mov(3, addr).mov(1, 0).mov(2, val).mov(6, timeout).sys(NR_FUTEX)
    }
}

#[test]
fn threads_share_memory_and_the_process_lives_until_its_last_thread() {
    // The thread stores 0x55 at DATA+8 and exits with 4; the main thread exits with
    // 3 first. The process's status is its leader's (3), reported once the last
    // thread is gone; the store was made in the one shared address space.
    let mut a = Asm::default();
    a.clone_thread(DATA + 0x800);
    let j = a.jnz_fwd();
    a.b(&[0xc7, 0x05]).b(&(DATA + 8).to_le_bytes()).b(&0x55u32.to_le_bytes());
    a.mov(3, 4).exit_ebx();
    a.patch_here(j);
    a.mov(3, 3).exit_ebx();
    let (mut k, st) = run_code(&a);
    assert_eq!(st, ExitStatus::Exited(3));
    assert_eq!(peek32(&mut k, DATA + 8), 0x55);
}

#[test]
fn exit_group_from_a_thread_ends_every_thread() {
    // The main thread loops forever; the thread calls exit_group(6).
    let mut a = Asm::default();
    a.clone_thread(DATA + 0x800);
    let j = a.jnz_fwd();
    a.mov(3, 6).sys(NR_EXIT_GROUP);
    a.patch_here(j);
    a.loop_forever();
    let (k, st) = run_code(&a);
    assert_eq!(st, ExitStatus::Exited(6));
    assert!(k.tasks.is_empty(), "the other thread is gone with the machine");
}

#[test]
fn threads_that_all_block_forever_end_in_a_deadlock() {
    // Both threads wait on the futex word at DATA (0) with no timeout and nobody to
    // wake them: the machine ends with init killed, as for processes.
    let mut a = Asm::default();
    a.clone_thread(DATA + 0x800);
    a.futex_wait(DATA, 0, 0);
    a.mov(3, 1).exit_ebx();
    let (_, st) = run_code(&a);
    assert!(matches!(st, ExitStatus::Signaled { signo: SIGKILL, .. }), "{st:?}");
}

#[test]
fn a_timed_futex_wait_ends_at_its_deadline_while_another_thread_waits_forever() {
    // The thread waits forever; the main thread waits 20 ms and exits with what the
    // wait returned (-ETIMEDOUT), negated: 110.
    let mut a = Asm::default();
    a.clone_thread(DATA + 0x800);
    let j = a.jnz_fwd();
    a.futex_wait(DATA, 0, 0);
    a.loop_forever();
    a.patch_here(j);
    // timespec {0, 20 ms} at DATA+0x10.
    a.b(&[0xc7, 0x05]).b(&(DATA + 0x10).to_le_bytes()).b(&0u32.to_le_bytes());
    a.b(&[0xc7, 0x05]).b(&(DATA + 0x14).to_le_bytes()).b(&20_000_000u32.to_le_bytes());
    a.futex_wait(DATA, 0, DATA + 0x10);
    a.b(&[0xf7, 0xd8]).ebx_eax().sys(NR_EXIT_GROUP); // neg eax; mov ebx, eax
    let (_, st) = run_code(&a);
    assert_eq!(st, ExitStatus::Exited(libc::ETIMEDOUT));
}

#[test]
fn a_futex_wake_completes_the_waiters_call_with_zero() {
    // The thread waits on DATA (0); the main thread wakes it (yielding until a wake
    // finds it asleep), and the woken thread exits the process with 40 + what its
    // wait returned.
    let mut a = Asm::default();
    a.clone_thread(DATA + 0x800);
    let j = a.jnz_fwd();
    a.futex_wait(DATA, 0, 0);
    a.b(&[0x83, 0xc0, 40]).ebx_eax().sys(NR_EXIT_GROUP); // add eax, 40
    a.patch_here(j);
    // Let the thread run into its wait first: yield until FUTEX_WAKE wakes one.
    let top = a.here();
    a.sys(NR_SCHED_YIELD);
    a.mov(3, DATA).mov(1, 1).mov(2, 1).sys(NR_FUTEX); // futex(DATA, WAKE, 1)
    a.b(&[0x85, 0xc0, 0x74]); // test eax, eax; jz top
    let back = top.wrapping_sub(a.here() + 1) as u8;
    a.b(&[back]);
    a.loop_forever();
    let (_, st) = run_code(&a);
    assert_eq!(st, ExitStatus::Exited(40));
}
