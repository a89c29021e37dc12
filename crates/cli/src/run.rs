//! `growsdown run`.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use clap::Args;
use growsdown_kernel::signal::{signal_name, SIGBUS, SIGFPE, SIGILL, SIGSEGV, SIGTRAP};
use growsdown_kernel::trace::FaultObserver;
use growsdown_kernel::{Config, ExitStatus, Machine};

use crate::size::{parse_limit, parse_size};
use crate::stderr::report;

/// Options shared by every command that runs a guest.
#[derive(Args)]
pub struct GuestArgs {
    /// Print counters to stderr when the first process ends (processes that outlive it
    /// run on afterwards, uncounted): instructions (all processes), then the first
    /// process's minor/major/COW faults, stack expansions and peak resident pages
    /// (summed over its threads, then each thread's own if it had several), the OOM
    /// killer's kills if there were any, its reaped children's faults; the TLB's
    /// hits, misses and flushes, decoded
    /// blocks built, reused and dropped by code writes; and MIPS.
    #[arg(long)]
    pub stats: bool,

    /// RLIMIT_STACK for the guest (default 8M, as Linux 2.4). Accepts K/M/G suffixes
    /// or `unlimited`. The stack grows page by page through expand_stack up to this.
    #[arg(long, value_name = "SIZE", value_parser = parse_limit)]
    pub stack_limit: Option<u64>,

    /// Guest physical memory (default 512M). Page tables, the page cache and every
    /// page the guest touches come out of it; running out is an OOM kill. growsdown's
    /// own peak RSS stays within it plus 64 MiB + 0.25 % (docs/architecture.md).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "512M")]
    pub mem: u64,

    /// The guest kernel's `vm.overcommit_memory` (2.4's `vm_enough_memory`): 0, the
    /// default, refuses a private writable mapping, brk or mremap growth larger than
    /// the free, page-cache and free swap pages; any other value grants every request (2.4 has
    /// no strict mode 2). The guest reads it in /proc/sys/vm/overcommit_memory, which it cannot write (EACCES even as root).
    #[arg(long, value_name = "MODE", default_value_t = 0)]
    pub overcommit_memory: u32,

    /// A swap area of SIZE (K/M/G suffixes) in a host temporary file, deleted at exit.
    /// When guest memory (--mem) runs low, reclaim writes pages there (2.4's kswapd,
    /// woken at the zone's low watermark and run by the scheduler, and
    /// try_to_free_pages and swap_out when nothing is free) instead of killing the
    /// process. --stats then adds the watermarks and what kswapd did. Without it (or
    /// with 0) there is no swap area: running out of memory is an OOM kill.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub swap: Option<u64>,

    /// The swap area is the host file PATH (created if missing; sized by --swap if
    /// given, else its current size). It is kept after the run.
    #[arg(long, value_name = "PATH")]
    pub swap_file: Option<PathBuf>,

    /// Look up the ELF interpreter (PT_INTERP, e.g. /lib/ld-linux.so.2), `#!`
    /// interpreters and every absolute path the guest names in DIR first, then on the
    /// host as they are (qemu-user's -L). Default /: the host's own files.
    #[arg(long, value_name = "DIR")]
    pub sysroot: Option<PathBuf>,

    /// The program: an ELF32 i386 executable (static, or dynamically linked through
    /// its PT_INTERP), or a `#!` script. Searched in PATH if it has no '/'.
    #[arg(value_name = "PROG")]
    pub prog: OsString,

    /// Arguments for the guest, passed as they are (even ones that look like options).
    #[arg(value_name = "ARGS", trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<OsString>,
}

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub guest: GuestArgs,
}

/// Finds PROG the way execvp does: as given if it contains '/', else in PATH.
fn resolve(prog: &Path) -> Option<PathBuf> {
    if prog.as_os_str().as_bytes().contains(&b'/') {
        return Some(prog.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(prog)).find(|p| p.is_file())
}

/// Boots a machine and execs the guest, or returns the exit code for the error
/// already reported.
/// `observer`, if given, is installed before exec, so the faults exec itself takes
/// (padzero's kernel-mode write, linux24.md §4.3) are seen too.
pub fn start(a: &GuestArgs, observer: Option<Box<dyn FaultObserver>>) -> Result<(Machine, PathBuf), u8> {
    let prog = Path::new(&a.prog);
    let Some(path) = resolve(prog) else {
        report!("growsdown: {}: command not found in PATH", prog.display());
        return Err(127);
    };
    let mem = match usize::try_from(a.mem) {
        Ok(m) if m <= (3usize << 30) => m,
        _ => {
            report!("growsdown: --mem {}: at most 3G of guest physical memory", a.mem);
            return Err(2);
        }
    };
    let sysroot = match &a.sysroot {
        Some(d) if !d.is_dir() => {
            report!("growsdown: --sysroot {}: not a directory", d.display());
            return Err(2);
        }
        // "/" is the host itself: no second lookup.
        Some(d) if d.canonicalize().is_ok_and(|c| c == Path::new("/")) => None,
        Some(d) => d.canonicalize().ok().map(|c| c.to_string_lossy().into_owned()),
        None => None,
    };
    // Signals sent to growsdown go to the guest, as if sent to the program natively.
    // Processes that outlive the first one run on after it ([`outlive`]).
    let config = Config {
        mem_bytes: mem,
        stack_limit: a.stack_limit,
        host_signals: true,
        keep_others: true,
        sysroot,
        swap_bytes: a.swap.unwrap_or(0),
        swap_file: a.swap_file.as_ref().map(|p| p.to_string_lossy().into_owned()),
        ..Config::default()
    };
    let mut k = Machine::new(config).map_err(|e| {
        report!("growsdown: {e}");
        2u8
    })?;
    k.observe_faults(observer);
    k.set_overcommit_memory(a.overcommit_memory);
    let mut argv: Vec<Vec<u8>> = vec![a.prog.as_bytes().to_vec()];
    argv.extend(a.args.iter().map(|s| s.as_bytes().to_vec()));
    let envp: Vec<Vec<u8>> = std::env::vars_os()
        .map(|(k, v)| {
            let mut e = k.as_bytes().to_vec();
            e.push(b'=');
            e.extend_from_slice(v.as_bytes());
            e
        })
        .collect();
    // Exit like a shell: 127 when the file is missing, 126 when it cannot be
    // executed (bash's execute_cmd.c), with a one-line message.
    match k.execve(&path.to_string_lossy(), &argv, &envp) {
        Ok(()) => {}
        Err(e) if e.not_found() => {
            report!("growsdown: {}: No such file or directory", prog.display());
            return Err(127);
        }
        Err(e) => {
            report!("growsdown: {e}");
            return Err(126);
        }
    }
    Ok((k, path))
}

/// Reports how the guest ended (and the stats if asked); returns the shell status.
pub fn finish(k: &Machine, path: &Path, status: ExitStatus, stats: bool) -> u8 {
    if let ExitStatus::Signaled { signo, info, eip, .. } = status {
        // A fault's siginfo holds the faulting address; a signal a process sent
        // (si_code <= 0: SI_USER, SI_TKILL, SI_QUEUE...) the sender's pid there;
        // the kernel's own (SI_KERNEL, a timer's) neither.
        const FAULTS: [i32; 5] = [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP];
        let origin = if info.code > 0 && FAULTS.contains(&signo) {
            format!(" fault address={:#010x}", info.addr)
        } else if info.code <= 0 {
            format!(" sent by pid {}", info.addr)
        } else {
            String::new()
        };
        // The OOM killer's victim: its signal is the kernel's (SI_KERNEL).
        let oom = if k.first_process_oom_killed() { " (OOM killer: out of memory)" } else { "" };
        report!(
            "growsdown: {} killed by {} (signal {signo}){oom}: si_code={}{origin} eip={eip:#010x}",
            path.display(),
            signal_name(signo),
            info.code,
        );
    }
    if stats {
        print_stats(k);
    }
    status.shell_code() as u8
}

pub fn run(a: RunArgs) -> u8 {
    let (mut k, path) = match start(&a.guest, None) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let status = k.run();
    let code = finish(&k, &path, status, a.guest.stats);
    outlive(k);
    code
}

/// After `finish` has reported the first guest process's end: guest processes that
/// outlive it (`sh -c 'worker &'`, a daemon) run on in a host child, while this
/// process returns so that growsdown exits with the first one's status at once, as
/// the program's caller sees it natively. The child stays in growsdown's process
/// group and session (natively the orphans keep theirs, so the terminal's job control
/// still reaches them) and holds the same descriptors, so a reader of the output
/// sees it all, to the end of the last process. It writes nothing of its own: the
/// kill line, `--stats` and the trace cover the run up to the first process's end.
/// Returns at once when no other process remains.
pub fn outlive(mut k: Machine) {
    use std::io::Write as _;
    if !k.others_remain() {
        return;
    }
    let _ = std::io::stdout().flush();
    // SAFETY: fork has no pointer arguments. growsdown is one thread here (the trace
    // renderer, if there was one, has been joined), so the child may go on with
    // anything the parent could do.
    match unsafe { libc::fork() } {
        0 => {
            k.run_rest();
            std::process::exit(0);
        }
        -1 => {
            report!(
                "growsdown: cannot fork ({}): the guest's other processes run before growsdown exits",
                std::io::Error::last_os_error()
            );
            k.run_rest();
        }
        _ => {}
    }
}

fn print_stats(k: &Machine) {
    let t = k.stats();
    report!("growsdown: instructions retired  {}", t.icount);
    report!("growsdown: minor faults          {}", t.min_flt);
    report!("growsdown: major faults          {}", t.maj_flt);
    report!(
        "growsdown: COW faults            {} ({} copies, {} reuses)",
        t.cow_copies + t.cow_reuses,
        t.cow_copies,
        t.cow_reuses
    );
    report!("growsdown: stack expansions      {}", t.stack_expansions);
    report!("growsdown: peak resident pages   {}", t.peak_rss);
    if t.oom_kills > 0 {
        report!("growsdown: OOM kills             {}", t.oom_kills);
    }
    let threads = k.thread_stats();
    if threads.len() > 1 {
        // The lines above are the process's, summed over its threads as today's
        // /proc/PID/stat sums them; 2.4 charges each fault to the thread that took it.
        report!("growsdown: threads that faulted  {}", threads.len());
        for th in &threads {
            let c = &th.counts;
            report!(
                "growsdown:   tid {:<10}      {} minor, {} major, {} COW ({} copies, {} reuses), {} stack expansions",
                th.tid,
                c.min_flt,
                c.maj_flt,
                c.cow_copies + c.cow_reuses,
                c.cow_copies,
                c.cow_reuses,
                c.stack_expansions
            );
        }
    }
    if t.forks > 0 {
        // The counters above are the first process's own (docs/linux24.md §3.8);
        // its reaped children's are its cmin_flt / cmaj_flt.
        report!("growsdown: processes forked      {}", t.forks);
        report!("growsdown: children's faults     {} minor, {} major (reaped)", t.cmin_flt, t.cmaj_flt);
    }
    let (sw, area) = k.swap_stats();
    if let Some((total, used)) = area {
        report!("growsdown: swap slots            {total} ({used} in use at the end)");
        report!("growsdown: pages swapped in/out  {} / {}", sw.pswpin, sw.pswpout);
        report!(
            "growsdown: reclaim               {} calls, {} pages scanned, {} freed, {} page-cache pages dropped, {} swap-cache hits",
            sw.reclaims,
            sw.pgscan,
            sw.pgsteal,
            sw.dropped,
            sw.cache_hits
        );
        let w = k.zone_watermarks();
        report!("growsdown: zone watermarks       min {}, low {}, high {} pages", w.min, w.low, w.high);
        report!(
            "growsdown: kswapd                {} wakeups, {} pages freed by kswapd, {} direct reclaims",
            sw.kswapd_wakeups,
            sw.kswapd_freed,
            sw.direct_reclaims
        );
    } else if sw.reclaims > 0 {
        report!(
            "growsdown: reclaim               {} calls, {} pages scanned, {} freed, {} page-cache pages dropped",
            sw.reclaims,
            sw.pgscan,
            sw.pgsteal,
            sw.dropped
        );
    }
    report!(
        "growsdown: TLB                   {} hits, {} misses ({} page walks), {} flushes",
        t.tlb_hits,
        t.tlb_misses,
        t.page_walks,
        t.tlb_flushes
    );
    report!(
        "growsdown: decoded blocks        {} built, {} found in the cache, {} reached by a link, {} dropped by code writes",
        t.blocks_built, t.blocks_hit, t.blocks_linked, t.blocks_invalidated
    );
    report!("growsdown: MIPS                  {:.1}", t.mips);
}
