//! The `procs` guest image (glibc, guest-images/src/procs.c) under the kernel: each
//! case must print its golden output (recorded natively: the same processes behave
//! the same), and the kernel's own view must agree — reaped children's faults in
//! `cmin_flt`, fault events that name the faulting process and count its own
//! instructions, a run that does not depend on host timing for its decisions.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use growsdown_kernel::exit::INIT_PID;
use growsdown_kernel::files::OpenFile;
use growsdown_kernel::trace::{FaultEvent, FaultObserver};
use growsdown_kernel::{exec, Config, ExitStatus, Kernel, Personality};

fn images() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guest-images")
}

fn tempfile() -> std::fs::File {
    let dir = std::env::temp_dir();
    for i in 0..1000u32 {
        let p = dir.join(format!("growsdown-procs-{}-{i}", std::process::id()));
        if let Ok(f) = std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(&p) {
            let _ = std::fs::remove_file(&p);
            return f;
        }
    }
    panic!("no temp file");
}

#[derive(Clone, Default)]
struct Events(Rc<RefCell<Vec<FaultEvent>>>);

impl FaultObserver for Events {
    fn fault(&mut self, ev: &FaultEvent, _cpu: &growsdown_cpu::Cpu) {
        self.0.borrow_mut().push(ev.clone());
    }
}

/// Runs `procs CASE` with an empty environment in /tmp; returns the kernel, the
/// stdout and the exit status, and the fault events.
fn run(case: &str) -> (Kernel, Vec<u8>, ExitStatus, Vec<FaultEvent>) {
    run_with(case, Config::default())
}

fn run_with(case: &str, config: Config) -> (Kernel, Vec<u8>, ExitStatus, Vec<FaultEvent>) {
    let bin = images().join("bin/procs");
    let path = bin.to_str().unwrap().to_string();
    let mut k = Kernel::new(config).expect("kernel");
    let ev = Events::default();
    k.observer = Some(Box::new(ev.clone()));
    exec::load_elf_binary(&mut k, &path, &[b"procs".to_vec(), case.as_bytes().to_vec()], &[]).expect("exec");
    let mut out = tempfile();
    // SAFETY: dup of a live fd.
    let dup = unsafe { libc::dup(out.as_raw_fd()) };
    assert!(dup >= 0);
    k.task.files.install(1, OpenFile::new(dup));
    let st = k.run();
    k.observer = None;
    let mut s = Vec::new();
    out.seek(SeekFrom::Start(0)).unwrap();
    out.read_to_end(&mut s).unwrap();
    let events = ev.0.borrow().clone();
    (k, s, st, events)
}

fn golden(case: &str) -> String {
    std::fs::read_to_string(images().join(format!("expected/procs-{case}.out"))).unwrap()
}

fn check(case: &str) -> (Kernel, Vec<FaultEvent>) {
    // The image runs in /tmp (it makes a scratch file there) as the manifest does.
    let (k, out, st, ev) = run(case);
    assert_eq!(String::from_utf8_lossy(&out), golden(case), "procs {case}");
    assert_eq!(st, ExitStatus::Exited(0), "procs {case}");
    (k, ev)
}

#[test]
fn wait_status_pipe_exec_sigchld_kill_vfork_sleep_chain() {
    for case in ["wait-status", "pipe", "exec", "sigchld", "kill", "vfork", "sleep", "chain"] {
        let (k, _) = check(case);
        assert!(k.tasks.is_empty(), "{case}: init's exit ends every process");
        assert!(k.task.stats.forks > 0, "{case}");
    }
}

/// With the TLS descriptors at GDT 12..14 (`Personality::tls_entry_min`, as difftest
/// sets it to match an x86-64 host), multi-process programs still run: glibc finds
/// its TLS through %gs in every process. (That forked processes share identical
/// descriptors, so this alone cannot tell which slots a switch saves; the unit test
/// in sched.rs does.)
#[test]
fn procs_run_with_tls_at_gdt_12() {
    for case in ["chain", "pipe", "exec"] {
        let (k, out, st, _) = run_with(
            case,
            Config {
                personality: Personality { tls_entry_min: 12, ..Personality::LINUX_24 },
                ..Config::default()
            },
        );
        assert_eq!(String::from_utf8_lossy(&out), golden(case), "procs {case} with TLS at GDT 12");
        assert_eq!(st, ExitStatus::Exited(0), "procs {case} with TLS at GDT 12");
        assert_eq!(k.cpu.gdt[6..9], [0, 0, 0], "nothing was put in the default slots");
    }
}

#[test]
fn reaped_childrens_faults_reach_cmin_flt() {
    let (k, ev) = check("zombie");
    // The first child touched 64 pages, a grandchild 32 (reaped by its parent,
    // which adds them to its own cmin_flt before it is reaped).
    assert!(k.task.cmin_flt >= 96, "cmin_flt {}", k.task.cmin_flt);
    let children: u64 = ev
        .iter()
        .filter(|e| e.pid != INIT_PID)
        .filter(|e| matches!(e.result, growsdown_kernel::trace::FaultResult::Minor))
        .count() as u64;
    assert!(children >= k.task.cmin_flt, "every reaped minor fault was seen as an event of a child");
}

#[test]
fn fault_events_name_the_process_and_count_its_own_instructions() {
    let (k, ev) = check("wait-status");
    let mut last: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
    for e in &ev {
        let (icount, min) = last.entry(e.pid).or_insert((0, 0));
        assert!(e.icount >= *icount, "pid {}: icount goes backwards ({} after {})", e.pid, e.icount, icount);
        assert!(e.min_flt >= *min, "pid {}: its own min_flt", e.pid);
        (*icount, *min) = (e.icount, e.min_flt);
    }
    assert!(last.len() >= 6, "init and its five children fault: {:?}", last.keys());
    // A child's count starts at its birth: far below the machine's.
    let child_max = last.iter().filter(|(p, _)| **p != INIT_PID).map(|(_, v)| v.0).max().unwrap();
    assert!(child_max < k.cpu.icount / 2, "child icount {child_max} vs machine {}", k.cpu.icount);
    // Each child's first faults are its COW faults on the parent's pages (code 7).
    for pid in last.keys().filter(|p| **p != INIT_PID) {
        let first = ev.iter().find(|e| e.pid == *pid).unwrap();
        assert!(first.error_code & 1 != 0 || first.kernel_mode, "pid {pid}: {:?}", first.path.first());
    }
}

#[test]
fn runs_are_reproducible() {
    // The same decisions every time: the same fault sequence, process by process.
    let key =
        |ev: &[FaultEvent]| ev.iter().map(|e| (e.pid, e.icount, e.cr2, e.error_code)).collect::<Vec<_>>();
    let (_, a) = check("pipe");
    let (_, b) = check("pipe");
    assert_eq!(key(&a), key(&b));
}
