//! `load_elf_binary` for ELF32 executables — static, ET_DYN, and through a
//! PT_INTERP (2.4's `fs/exec.c` + `fs/binfmt_elf.c`, linux24.md §4.2–§4.4;
//! docs/process-image.md for the bases).
//!
//! The loader crate plans the image (which segments, where bss starts and ends) and
//! builds the initial stack bytes; this module does what the kernel does with them,
//! in 2.4's order:
//!
//! 1. read and check the file, plan it, build the stack image — all before the point
//!    of no return, so a bad file leaves the old process intact;
//! 2. `flush_old_exec`: tear the old address space down in place (`exit_mmap`);
//! 3. `setup_arg_pages`: a stack VMA covering only the argument pages, installed
//!    directly with `put_dirty_page` (PTE 0x067, rss + 1 each, no faults);
//! 4. each PT_LOAD → a private file mapping (`elf_map`, MAP_FIXED | MAP_DENYWRITE |
//!    MAP_EXECUTABLE: text 0x1875, data 0x1873), bss between segments handled as
//!    2.4 does;
//! 5. `set_brk` (anonymous 0x77 VMA for the whole-page part of bss) and `padzero`,
//!    a kernel-mode write fault through `clear_user` that charges one major fault
//!    before `_start` (scenario 11);
//! 6. `create_elf_tables`: the part of the stack image below the argument pages is
//!    written with kernel-mode stores, which grow the stack with no ESP test;
//! 7. mm layout fields, `start_brk = brk = elf_brk` (unaligned);
//! 8. `start_thread`: GPRs 0, ESP, EIP, CS/DS/ES/SS, FS = GS = 0.
//!
//! [`do_execve`] is the system call's way in: `open_exec`'s checks (a regular file
//! the caller may execute), `#!` scripts (2.4's `binfmt_script`, one level), then
//! the ELF loader, with errors as errno values. `flush_old_exec` also does what exec
//! does to the process besides its memory: close-on-exec descriptors are closed,
//! caught signals go back to SIG_DFL (ignored ones stay ignored, the mask and pending
//! signals stay), the alternate signal stack is dropped, and a parent waiting in
//! vfork is released.

use std::rc::Rc;

use growsdown_loader::{build_stack, plan_elf_from, plan_interp_from, HostFile, LoadPlan, StackImage, StackParams};

use crate::errno::{Errno, EACCES, EIO, ENOENT, ENOEXEC};
use crate::share::Kind;
use crate::mm::filemap::{host_fstat, FileBacking};
use crate::mm::mmap::{do_brk, do_mmap_pgoff, get_unmapped_area, MAP_DENYWRITE, MAP_EXECUTABLE, MAP_FIXED, MAP_PRIVATE};
use crate::mm::mmap::{PROT_EXEC, PROT_READ, PROT_WRITE};
use crate::mm::pgtable::PAGE_MASK;
use crate::mm::vma::{VM_GROWSDOWN, VM_STACK_FLAGS};
use crate::mm::{exit_mmap, memory, Backing, Vma};
use crate::signal::{force_sig_info, AltStack, SigInfo, SIGKILL, SIG_DFL, SIG_IGN};
use crate::{page_align, Kernel, PAGE_SIZE};

/// How an exec failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExecError {
    /// Before the point of no return: the old program goes on, and execve returns
    /// `errno`.
    Refused { errno: Errno, msg: String },
    /// After it: the old image is gone and SIGKILL is pending.
    Killed(String),
}

impl ExecError {
    /// The path (or a directory on it) does not exist: ENOENT, which shells report
    /// with status 127 rather than 126.
    pub fn not_found(&self) -> bool {
        matches!(self, Self::Refused { errno: ENOENT, .. })
    }
}

impl std::fmt::Display for ExecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Refused { msg, .. } | Self::Killed(msg) => f.write_str(msg),
        }
    }
}

fn refused(errno: Errno, msg: String) -> ExecError {
    ExecError::Refused { errno, msg }
}

/// `BINPRM_BUF_SIZE`: how much of the file exec looks at to pick a format.
const BINPRM_BUF_SIZE: usize = 128;

fn os_error(path: &str, e: &std::io::Error) -> ExecError {
    let errno = e.raw_os_error().unwrap_or(EIO);
    refused(errno, format!("{path}: {}", strerror(errno)))
}

/// The C library's text for `errno` ("No such file or directory"), without std's
/// " (os error N)" suffix, as a shell prints it.
pub fn strerror(errno: Errno) -> String {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    match text.rfind(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// What kind of non-regular file `mode` is, for the message.
fn file_kind(mode: u32) -> &'static str {
    match mode & libc::S_IFMT {
        libc::S_IFDIR => "a directory",
        libc::S_IFIFO => "a FIFO",
        libc::S_IFCHR => "a character device",
        libc::S_IFBLK => "a block device",
        libc::S_IFSOCK => "a socket",
        _ => "not a regular file",
    }
}

/// Opens `path` for reading without ever blocking (O_NONBLOCK: a FIFO with no writer
/// would block a plain open) and without following a final symlink twice.
fn open_nonblock(path: &str) -> Result<std::fs::File, ExecError> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| os_error(path, &e))
}

/// `do_open_execat`'s checks, in today's order: the path resolves (ENOENT, ENOTDIR,
/// ELOOP, EACCES of a directory on the way), `may_open` refuses anything but a
/// regular file with EACCES (a directory, FIFO, device or socket), then
/// `inode_permission(MAY_EXEC)` wants an execute bit for the caller — root too
/// (`generic_permission` gives root exec only if some x bit is set). The checks are
/// made with `stat` before anything is opened, and the open is O_NONBLOCK and
/// checked again with `fstat`, so neither a FIFO nor a device is ever read.
/// Returns the open file and its size.
fn open_exec(path: &str) -> Result<(std::fs::File, u64), ExecError> {
    let md = std::fs::metadata(path).map_err(|e| os_error(path, &e))?;
    let not_regular = |mode: u32| {
        refused(EACCES, format!("{path}: Permission denied ({} cannot be executed)", file_kind(mode)))
    };
    if !md.is_file() {
        return Err(not_regular(std::os::unix::fs::MetadataExt::mode(&md)));
    }
    let c = std::ffi::CString::new(path).map_err(|_| refused(ENOENT, format!("{path}: NUL in the path")))?;
    // SAFETY: `c` is a NUL-terminated path; faccessat reads nothing else.
    if unsafe { libc::faccessat(libc::AT_FDCWD, c.as_ptr(), libc::X_OK, libc::AT_EACCESS) } < 0 {
        return Err(refused(EACCES, format!("{path}: Permission denied (no execute permission)")));
    }
    let file = open_nonblock(path)?;
    let st = host_fstat(std::os::fd::AsRawFd::as_raw_fd(&file))
        .map_err(|e| refused(e, format!("{path}: {}", strerror(e))))?;
    if st.mode & libc::S_IFMT != libc::S_IFREG {
        // Replaced between the stat and the open.
        return Err(not_regular(st.mode));
    }
    Ok((file, st.size))
}

/// The first [`BINPRM_BUF_SIZE`] bytes of `file` (`prepare_binprm`'s `kernel_read`).
fn read_head(path: &str, file: &std::fs::File) -> Result<Vec<u8>, ExecError> {
    let mut head = vec![0u8; BINPRM_BUF_SIZE];
    let mut n = 0;
    while n < head.len() {
        match std::os::unix::fs::FileExt::read_at(file, &mut head[n..], n as u64) {
            Ok(0) => break,
            Ok(m) => n += m,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(os_error(path, &e)),
        }
    }
    head.truncate(n);
    Ok(head)
}

/// `do_execve`: runs the program at host path `path` with `argv` and `envp`, as the
/// execve system call does (see the module doc).
pub fn do_execve(k: &mut Kernel, path: &str, argv: &[Vec<u8>], envp: &[Vec<u8>]) -> Result<(), ExecError> {
    execve_as(k, path, argv, envp, true)
}

/// [`do_execve`] for the first program of the machine (`growsdown run PROG`): a
/// program that is not i386 is refused (ENOEXEC) rather than run on the host, since
/// nothing of it would be emulated.
pub fn do_execve_first(k: &mut Kernel, path: &str, argv: &[Vec<u8>], envp: &[Vec<u8>]) -> Result<(), ExecError> {
    execve_as(k, path, argv, envp, false)
}

fn execve_as(k: &mut Kernel, path: &str, argv: &[Vec<u8>], envp: &[Vec<u8>], host: bool) -> Result<(), ExecError> {
    let (file, size) = open_exec(path)?;
    let head = read_head(path, &file)?;
    if let Some(line) = head.strip_prefix(b"#!") {
        let line = line.to_vec();
        drop(file);
        return load_script(k, path, &line, argv, envp, host);
    }
    if let Some(machine) = host_elf(&head) {
        drop(file);
        if !host {
            return Err(refused(
                ENOEXEC,
                format!("{path}: not an i386 program (ELF e_machine {machine}): growsdown runs it on the host only when a guest execs it"),
            ));
        }
        return exec_host(k, path, argv, envp);
    }
    load_elf_file(k, path, file, size, argv, envp)
}

/// An ELF file that is not for i386 (`elf_check_arch`: ELFCLASS32, little-endian,
/// EM_386 or EM_486): its `e_machine`. Such a program is run by the host
/// ([`exec_host`]); the host's execve decides whether it can.
fn host_elf(head: &[u8]) -> Option<u16> {
    if head.len() < 20 || !head.starts_with(b"\x7fELF") {
        return None;
    }
    let le = head[5] != 2;
    let machine = if le { u16::from_le_bytes([head[18], head[19]]) } else { u16::from_be_bytes([head[18], head[19]]) };
    let i386 = head[4] == 1 && le && matches!(machine, 3 | 6);
    (!i386).then_some(machine)
}

/// execve of a program the host runs (see [`crate::hostproc`]): the host process is
/// started first — a refusal by the host's execve is this execve's error, before the
/// point of no return — then the guest task gives up its image and waits for it.
fn exec_host(k: &mut Kernel, path: &str, argv: &[Vec<u8>], envp: &[Vec<u8>]) -> Result<(), ExecError> {
    let spec = crate::hostproc::SpawnSpec::from_task(k, path, argv, envp)
        .map_err(|e| refused(e, format!("{path}: {}", strerror(e))))?;
    let (pid, pidfd) =
        crate::hostproc::spawn(&spec).map_err(|e| refused(e, format!("{path}: {} (host exec)", strerror(e))))?;
    // ---- point of no return ----
    log::debug!(target: "kernel::sched", "pid {}: exec {path} as host pid {pid}", k.task.pid);
    become_host(k, path, pid, pidfd);
    Ok(())
}

/// What exec does to a process whose new program is a host process: `de_thread`,
/// `mm_release` (a vfork parent goes on), the credentials and POSIX timers as for
/// any exec; then the task leaves its address space, files, working directory and
/// handlers as an exiting task does (the host program holds its own copies of the
/// descriptors, so a pipe's reader sees EOF when the program ends) and sleeps on
/// its host process. Signals pending for it are sent on to the host process, where
/// natively they would stay pending across exec.
fn become_host(k: &mut Kernel, path: &str, pid: i32, pidfd: std::os::fd::OwnedFd) {
    de_thread(k);
    crate::futex::mm_release(k);
    k.task.vfork_done = true;
    k.task.did_exec = true;
    k.task.clear_child_tid = 0;
    k.task.set_child_tid = 0;
    k.task.robust_list = (0, 0);
    k.task.cred.exec();
    crate::timer::exec_timers(k);
    let mut pending: Vec<i32> =
        k.task.sig.pending.drain(..).chain(k.task.group.shared_pending.drain(..)).map(|i| i.signo).collect();
    pending.sort_unstable();
    pending.dedup();
    k.task.sig.altstack = AltStack::default();
    k.task.orig_eax = None;
    k.task.timeout = None;
    let base = path.rsplit('/').next().unwrap_or(path);
    k.task.comm = base.chars().take(15).collect();
    k.task.exe = std::fs::canonicalize(path).map(|p| p.to_string_lossy().into_owned()).unwrap_or(path.into());
    crate::share::exit_shares(k);
    k.cpu.flush_decoded();
    k.task.state = crate::sched::TaskState::Interruptible(crate::sched::WaitOn::Host {
        pidfd: std::os::fd::AsRawFd::as_raw_fd(&pidfd),
    });
    k.task.host =
        Some(Box::new(crate::hostproc::HostProc { pid, pidfd: Some(pidfd), exit: None, utime_us: 0, stime_us: 0 }));
    for sig in pending {
        crate::hostproc::forward_signal(k, k.task.pid, sig);
    }
}

/// `load_script` (`fs/binfmt_script.c`): `#!interpreter [one argument]` on the first
/// line (within the first 128 bytes) runs the interpreter with argv
/// `[interpreter, argument?, path, argv[1..]]`. The interpreter must be an ELF
/// executable: a script interpreted by a script is ENOEXEC, as in 2.4.
fn load_script(
    k: &mut Kernel,
    path: &str,
    line: &[u8],
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    host: bool,
) -> Result<(), ExecError> {
    let line = line.split(|&c| c == b'\n').next().unwrap_or_default();
    let blank = |c: &u8| *c == b' ' || *c == b'\t';
    let start = line.iter().position(|c| !blank(c)).unwrap_or(line.len());
    let line = &line[start..];
    let end = line.iter().rposition(|c| !blank(c)).map_or(0, |i| i + 1);
    let line = &line[..end];
    let split = line.iter().position(blank).unwrap_or(line.len());
    let (interp, rest) = line.split_at(split);
    if interp.is_empty() {
        return Err(refused(ENOEXEC, format!("{path}: empty #! line")));
    }
    let arg = &rest[rest.iter().position(|c| !blank(c)).unwrap_or(rest.len())..];
    let mut new_argv = vec![interp.to_vec()];
    if !arg.is_empty() {
        new_argv.push(arg.to_vec());
    }
    new_argv.push(path.as_bytes().to_vec());
    new_argv.extend(argv.iter().skip(1).cloned());
    let interp = sysroot_str(k, &String::from_utf8_lossy(interp));
    let (file, size) = open_exec(&interp)?;
    let head = read_head(&interp, &file)?;
    if head.starts_with(b"#!") {
        return Err(refused(ENOEXEC, format!("{path}: interpreter {interp} is a script")));
    }
    // A host interpreter (/bin/sh of the host) runs the script on the host.
    if let Some(machine) = host_elf(&head) {
        if !host {
            return Err(refused(ENOEXEC, format!("{path}: interpreter {interp} is not an i386 program (ELF e_machine {machine})")));
        }
        return exec_host(k, &interp, &new_argv, envp);
    }
    load_elf_file(k, &interp, file, size, &new_argv, envp)
}

/// `ELF_PLATFORM` for a family-6 CPU (`system_utsname.machine`).
pub const ELF_PLATFORM: &str = "i686";

/// Replaces the current program with the static executable at `path` (a host path),
/// with `argv` and `envp` (strings without their NULs).
///
/// Errors before the point of no return leave the old address space alone; they are
/// sentences such as "./a.out: dynamically linked (PT_INTERP …): only static
/// executables are supported". An error after it (out of memory while mapping, a
/// stack that does not fit RLIMIT_STACK) also forces SIGKILL, as 2.4.35 does: the old
/// image is already gone.
pub fn load_elf_binary(k: &mut Kernel, path: &str, argv: &[Vec<u8>], envp: &[Vec<u8>]) -> Result<(), String> {
    do_load_elf_binary(k, path, argv, envp).map_err(|e| e.to_string())
}

/// [`load_elf_binary`] with the errno of a refusal (ENOEXEC for a file that is not a
/// static ELF32 i386 executable, E2BIG for arguments that do not fit, the host's
/// error for a file that cannot be read).
pub fn do_load_elf_binary(
    k: &mut Kernel,
    path: &str,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
) -> Result<(), ExecError> {
    let file = open_nonblock(path)?;
    let st = host_fstat(std::os::fd::AsRawFd::as_raw_fd(&file))
        .map_err(|e| refused(e, format!("{path}: {}", strerror(e))))?;
    load_elf_file(k, path, file, st.size, argv, envp)
}

/// The ELF loader proper on an open `file` of `size` bytes: only the header, the
/// program headers and the interpreter path are read here; the segments become
/// private file mappings whose pages `do_no_page` reads when first touched.
fn load_elf_file(
    k: &mut Kernel,
    path: &str,
    file: std::fs::File,
    size: u64,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
) -> Result<(), ExecError> {
    let plan =
        plan_elf_from(&HostFile { file: &file, size }).map_err(|e| refused(e.errno(), format!("{path}: {e}")))?;
    // PT_INTERP: today's load_elf_binary opens the interpreter with open_exec (the
    // same checks as the program) and reads its headers before the point of no
    // return; ld.so itself may not ask for another interpreter.
    let interp = match &plan.interp {
        None => None,
        Some(name) => {
            let name = String::from_utf8_lossy(name).into_owned();
            let host = sysroot_str(k, &name);
            let (ifile, isize) = open_exec(&host).map_err(|e| match e {
                ExecError::Refused { errno, msg } => {
                    refused(errno, format!("{path}: interpreter {msg}"))
                }
                other => other,
            })?;
            let iplan = plan_interp_from(&HostFile { file: &ifile, size: isize }, 0)
                .map_err(|e| refused(e.errno(), format!("{path}: interpreter {host}: {e}")))?;
            // A second descriptor of the same open file, to read the headers again
            // once the base is known (never the path: it could have changed).
            let reader = ifile.try_clone().map_err(|e| os_error(&host, &e))?;
            let ibacking = FileBacking::from_exec_file(ifile, &host).map_err(|e| refused(EACCES, e))?;
            Some(Interp { host, plan: iplan, isize, reader, file: ibacking })
        }
    };
    let file = FileBacking::from_exec_file(file, path).map_err(|e| refused(EACCES, e))?;

    // SAFETY: these libc calls take no arguments and cannot fail.
    let (uid, euid, gid, egid) =
        unsafe { (libc::getuid(), libc::geteuid(), libc::getgid(), libc::getegid()) };
    let mut params = StackParams {
        argv,
        envp,
        filename: path.as_bytes(),
        platform: ELF_PLATFORM,
        random: host_random(),
        hwcap: growsdown_cpu::cpuid::FEATURES_EDX,
        uid,
        euid,
        gid,
        egid,
        secure: uid != euid || gid != egid,
        plan: &plan,
        interp_base: 0,
        stack_top: k.config.personality.stack_top,
        // Placeholders of the final size: the vDSO's address is known only once it
        // is mapped, after the point of no return (see below).
        vdso: k.config.vdso.then_some((1, 1)),
    };
    let image = build_stack(&params).map_err(|e| refused(e.errno(), format!("{path}: {e}")))?;

    // ---- point of no return ----
    flush_old_exec(k, path);
    let mapped = map_image(k, &plan, &file, &image).and_then(|()| {
        let entry = match &interp {
            None => plan.entry,
            Some(i) => {
                let (base, entry) = load_elf_interp(k, i)?;
                params.interp_base = base;
                entry
            }
        };
        // Today's load_elf_binary maps the vDSO (ARCH_SETUP_ADDITIONAL_PAGES) after
        // the interpreter, just before create_elf_tables.
        if k.config.vdso {
            params.vdso = Some(map_vdso(k)?);
        }
        // AT_BASE and the vDSO's addresses are known only now: the auxv is stored
        // again with them (the same size, so every other address stays).
        if interp.is_some() || params.vdso.is_some() {
            let image2 = build_stack(&params).map_err(|e| e.to_string())?;
            if image2.esp != image.esp {
                return Err("the initial stack moved".to_string());
            }
            k.copy_to_user(image2.base, &image2.bytes)
                .map_err(|_| "cannot write the initial stack".to_string())?;
        }
        Ok(entry)
    });
    let entry = match mapped {
        Ok(entry) => entry,
        Err(msg) => {
            log::warn!(target: "kernel::mm", "exec {path}: {msg}; killing the process");
            force_sig_info(k, SigInfo::kernel(SIGKILL));
            return Err(ExecError::Killed(format!("{path}: {msg}")));
        }
    };
    start_thread(k, entry, image.esp);
    log::debug!(
        target: "kernel::mm",
        "exec {path}: entry {:#010x} esp {:#010x} brk {:#010x}, {} VMAs",
        entry,
        image.esp,
        k.task.mm.brk,
        k.task.mm.map_count()
    );
    Ok(())
}

/// An interpreter checked and planned before the point of no return.
struct Interp {
    host: String,
    /// Planned at base 0; placed for real by [`load_elf_interp`].
    plan: LoadPlan,
    isize: u64,
    reader: std::fs::File,
    file: Rc<FileBacking>,
}

/// Where an absolute guest path is looked up on the host: inside `Config::sysroot`
/// if it is set and the path exists there, walked as in a chroot, else as it is
/// ([`crate::sysroot::resolve`]). Relative paths, and every path without a sysroot,
/// are unchanged. Used for PT_INTERP and `#!` interpreters (which exec follows);
/// the guest's own paths go through `syscall::fs`'s lookup, which does the same.
pub fn sysroot_path(k: &Kernel, name: Vec<u8>) -> Vec<u8> {
    let Some(root) = &k.config.sysroot else { return name };
    crate::sysroot::resolve(root, &name, true).unwrap_or(name)
}

fn sysroot_str(k: &Kernel, name: &str) -> String {
    String::from_utf8_lossy(&sysroot_path(k, name.as_bytes().to_vec())).into_owned()
}

/// `load_elf_interp`: an ET_DYN interpreter (ld.so) goes where `get_unmapped_area`
/// finds room for all of its segments at once (today's `total_mapping_size`; with
/// 2.4's bottom-up allocator that is the first hole from TASK_UNMAPPED_BASE,
/// 0x40000000 for a fresh process), each PT_LOAD a private MAP_FIXED file mapping,
/// then `padzero` and an anonymous mapping (`do_brk`) for its bss. Returns the load
/// address (AT_BASE) and the interpreter's entry point, where the process starts.
fn load_elf_interp(k: &mut Kernel, i: &Interp) -> Result<(u32, u32), String> {
    let plan = if i.plan.is_dyn {
        let (lo, hi) = i.plan.span();
        let base = get_unmapped_area(k, 0, hi - lo, 0).map_err(|e| {
            format!("no room for the interpreter {}: {}", i.host, std::io::Error::from_raw_os_error(e))
        })?;
        plan_interp_from(&HostFile { file: &i.reader, size: i.isize }, base)
            .map_err(|e| format!("{}: {e}", i.host))?
    } else {
        i.plan.clone()
    };
    let mut elf_bss = 0u32;
    let mut last_bss = 0u32;
    for seg in &plan.segments {
        map_segment(k, &i.file, seg, MAP_PRIVATE | MAP_DENYWRITE | MAP_FIXED)?;
        elf_bss = elf_bss.max(seg.vaddr + seg.filesz);
        last_bss = last_bss.max(seg.vaddr + seg.memsz);
    }
    padzero(k, elf_bss);
    let elf_bss = page_align(elf_bss);
    if last_bss > elf_bss {
        do_brk(k, elf_bss, page_align(last_bss) - elf_bss).map_err(|e| {
            format!("cannot map the interpreter's bss: {}", std::io::Error::from_raw_os_error(e))
        })?;
    }
    log::debug!(target: "kernel::mm", "exec: interpreter {} at {:#010x}", i.host, plan.load_bias);
    Ok((plan.load_bias, plan.entry))
}

/// `map_vdso` (today's `arch/x86/entry/vdso/vma.c`, without randomisation): one
/// page, asked of `get_unmapped_area` right below `mmap_base` (0x3FFFF000 with
/// 2.4's TASK_UNMAPPED_BASE; elsewhere if that is taken). Today's kernel takes the
/// first hole of its own layout; growsdown keeps 2.4's mmap layout, where the first
/// mapping (ld.so's, or the program's first mmap) is at `mmap_base`, and the page
/// below it is a hole only a huge break would reach. A VMA that is
/// VM_READ|VM_EXEC|VM_MAYREAD|VM_MAYEXEC (`r-xp`, `[vdso]` in maps), its page a
/// kernel-filled frame installed present at once, so that the first call through
/// it takes no fault. Fork copies it like any private page; the next exec drops it.
/// Returns `(AT_SYSINFO, AT_SYSINFO_EHDR)`.
fn map_vdso(k: &mut Kernel) -> Result<(u32, u32), String> {
    use crate::mm::vma::{VM_EXEC, VM_MAYEXEC, VM_MAYREAD, VM_READ};
    let hint = k.config.personality.mmap_base.saturating_sub(PAGE_SIZE);
    let base = get_unmapped_area(k, hint, PAGE_SIZE, 0)
        .map_err(|e| format!("no room for the vDSO: {}", std::io::Error::from_raw_os_error(e)))?;
    let vma = Vma::new(base, base + PAGE_SIZE, VM_READ | VM_EXEC | VM_MAYREAD | VM_MAYEXEC, 0, Backing::Anon);
    let prot = vma.page_prot;
    k.task.mm.insert_vm_struct(vma).map_err(|_| "cannot create the vDSO VMA".to_string())?;
    k.task.mm.total_vm += 1;
    let frame = memory::alloc_page(k).ok_or("out of memory for the vDSO")?;
    crate::vdso::copy_into(k.cpu.mmu.phys_mut().frame_mut(frame));
    memory::install_page(k, base, frame, prot).ok_or("out of memory for the vDSO's page table")?;
    k.task.mm.vdso = base;
    let (vsyscall, _, _) = crate::vdso::entry_offsets();
    log::debug!(target: "kernel::mm", "exec: vDSO at {base:#010x}");
    Ok((base + vsyscall, base))
}

/// `elf_map`: only `p_filesz` is file-mapped, from the page holding `p_vaddr`.
fn map_segment(
    k: &mut Kernel,
    file: &Rc<FileBacking>,
    seg: &growsdown_loader::SegmentPlan,
    flags: u32,
) -> Result<(), String> {
    let mut prot = 0;
    for (on, p) in [(seg.read, PROT_READ), (seg.write, PROT_WRITE), (seg.exec, PROT_EXEC)] {
        if on {
            prot |= p;
        }
    }
    let off = seg.vaddr & !PAGE_MASK;
    do_mmap_pgoff(k, Some(file.clone()), seg.vaddr - off, seg.filesz + off, prot, flags, (seg.offset - off) >> 12)
        .map_err(|e| {
            format!("cannot map the segment at {:#010x}: {}", seg.vaddr, std::io::Error::from_raw_os_error(e))
        })?;
    Ok(())
}

/// 16 random bytes from the host for AT_RANDOM (`getrandom`, else /dev/urandom).
fn host_random() -> [u8; 16] {
    let mut r = [0u8; 16];
    // SAFETY: the buffer is 16 writable bytes.
    let n = unsafe { libc::getrandom(r.as_mut_ptr().cast(), r.len(), 0) };
    if n == r.len() as isize {
        return r;
    }
    match std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut r)) {
        Ok(()) => r,
        Err(e) => {
            log::warn!(target: "kernel::mm", "no host randomness for AT_RANDOM ({e}); using the clock");
            let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            r[..16].copy_from_slice(&t.as_nanos().to_le_bytes());
            r
        }
    }
}

/// `flush_old_exec`: `de_thread` ends the process's other threads (the caller takes
/// the process's pid), `mm_release` handles the robust futexes and the
/// clear-child-tid word and releases a vfork parent, `exec_mmap` tears the old
/// address space down in place — or, if another task still uses it (the parent of a
/// vfork), leaves it to that task and starts a new one — then `flush_thread` state:
/// FPU, TLS descriptors, LDT, and the decoded-code cache, whose frames are all gone.
/// The name becomes the file's. File and handler tables shared with another process
/// are copied first (`unshare_files`, and the private copy of `de_thread`), then
/// `flush_signal_handlers` and `flush_old_files` do the rest (see the module doc).
fn flush_old_exec(k: &mut Kernel, path: &str) {
    de_thread(k);
    crate::futex::mm_release(k);
    exec_mmap(k);
    unshare_tables(k);
    k.task.vfork_done = true;
    k.task.did_exec = true;
    // SET_PERSONALITY of an i386 ELF: PER_LINUX, the flags kept.
    k.task.personality &= !crate::syscall::process::PER_MASK;
    k.task.clear_child_tid = 0;
    k.task.set_child_tid = 0;
    k.task.robust_list = (0, 0);
    k.task.cred.exec();
    crate::timer::exec_timers(k);
    for a in k.task.sig.actions.iter_mut() {
        if a.handler != SIG_IGN {
            a.handler = SIG_DFL;
        }
        a.flags = 0;
        a.mask = 0;
        a.restorer = 0;
    }
    k.task.sig.altstack = AltStack::default();
    crate::locks::before_close(k, |_, f| f.cloexec);
    k.task.files.close_on_exec();
    crate::locks::reap(k);
    k.cpu.fpu = Default::default();
    let tls = k.config.personality.tls_entry_min;
    for e in tls..tls + crate::GDT_ENTRY_TLS_ENTRIES {
        if let Some(d) = k.cpu.gdt.get_mut(e) {
            *d = 0;
        }
    }
    k.cpu.ldt.clear();
    k.cpu.flush_decoded();
    let base = path.rsplit('/').next().unwrap_or(path);
    k.task.comm = base.chars().take(15).collect();
    k.task.exe = std::fs::canonicalize(path).map(|p| p.to_string_lossy().into_owned()).unwrap_or(path.into());
}

/// `de_thread`: the other threads of the process are killed, and a caller that is not
/// the leader takes the leader's place: its pid (the process's), parent and exit
/// signal. The old leader goes away unseen.
fn de_thread(k: &mut Kernel) {
    let (me, tgid) = (k.task.pid, k.task.tgid);
    if k.all_tasks().all(|t| t.tgid != tgid || t.pid == me) {
        return;
    }
    let leader = k.find_task(tgid).map(|l| (l.ppid, l.exit_signal));
    crate::exit::zap_other_threads(k, None);
    if me != tgid {
        log::debug!(target: "kernel::sched", "exec: thread {me} takes the place of its process's leader {tgid}");
        k.task.pid = tgid;
        if let Some((ppid, sig)) = leader {
            k.task.ppid = ppid;
            k.task.exit_signal = sig;
        }
    }
}

/// `exec_mmap`: the address space is torn down in place when the caller is its only
/// user; otherwise (a vfork child execs while its parent waits) the caller leaves it
/// to the others and gets a new, empty one.
fn exec_mmap(k: &mut Kernel) {
    if k.users(Kind::Mm, k.task.ids.mm) <= 1 {
        exit_mmap(k);
        return;
    }
    let Some(pgd) = crate::mm::pgtable::pgd_alloc(k) else {
        // No page for a directory: fall back to sharing nothing but the old tables'
        // teardown would hurt the other user, so keep the old space (logged).
        log::error!(target: "kernel::mm", "exec: no memory for a new page directory; the old address space stays shared");
        return;
    };
    let old = std::mem::replace(&mut k.task.mm, crate::mm::MmStruct { pgd, ..Default::default() });
    k.parked.mm.insert(k.task.ids.mm, old);
    k.task.ids.mm = k.parked.new_id();
    k.cpu.mmu.set_cr3(pgd);
}

/// The file table and the signal handlers become the caller's own if another
/// process shares them (CLONE_FILES or CLONE_SIGHAND without CLONE_THREAD), so that
/// closing close-on-exec files and resetting handlers does not reach it.
fn unshare_tables(k: &mut Kernel) {
    if k.users(Kind::Files, k.task.ids.files) > 1 {
        let copy = k.task.files.clone();
        let shared = std::mem::replace(&mut k.task.files, copy);
        k.parked.files.insert(k.task.ids.files, shared);
        k.task.ids.files = k.parked.new_id();
    }
    if k.users(Kind::Sighand, k.task.ids.sighand) > 1 {
        let copy = k.task.sig.actions.clone();
        k.parked.sighand.insert(k.task.ids.sighand, copy);
        k.task.ids.sighand = k.parked.new_id();
    }
}

/// Everything between the point of no return and `start_thread`.
fn map_image(
    k: &mut Kernel,
    plan: &LoadPlan,
    file: &Rc<FileBacking>,
    image: &StackImage,
) -> Result<(), String> {
    let stack_vma_start = setup_arg_pages(k, image)?;

    // Each PT_LOAD in header order; bss left by an earlier segment is mapped and
    // cleared before the next one (2.4 does it inside the loop).
    let mut elf_bss = 0u32;
    let mut elf_brk = 0u32;
    for seg in &plan.segments {
        if elf_brk > elf_bss {
            set_brk(k, elf_bss, elf_brk)?;
            let off = elf_bss & !PAGE_MASK;
            if off != 0 {
                let n = (PAGE_SIZE - off).min(elf_brk - elf_bss);
                clear_user(k, elf_bss, n);
            }
        }
        map_segment(k, file, seg, MAP_PRIVATE | MAP_DENYWRITE | MAP_EXECUTABLE | MAP_FIXED)?;
        elf_bss = elf_bss.max(seg.vaddr + seg.filesz);
        elf_brk = elf_brk.max(seg.vaddr + seg.memsz);
    }

    // The whole-page part of the last bss, then padzero: the file bytes after
    // p_filesz in elf_bss's page must read as zeros. The clear is a kernel-mode
    // write fault on a private file page: do_no_page with early COW, one major
    // fault charged before _start.
    set_brk(k, elf_bss, elf_brk)?;
    padzero(k, elf_bss);

    create_elf_tables(k, image, stack_vma_start)?;

    let mm = &mut k.task.mm;
    mm.start_code = plan.start_code;
    mm.end_code = plan.end_code;
    mm.start_data = plan.start_data;
    mm.end_data = plan.end_data;
    // 2.4 leaves the break at the unaligned end of bss; `brk_page_aligned` gives
    // today's Linux (and qemu-user's) page-aligned start instead.
    let brk = if k.config.personality.brk_page_aligned { page_align(plan.elf_brk) } else { plan.elf_brk };
    mm.start_brk = brk;
    mm.brk = brk;
    mm.start_stack = image.esp;
    mm.arg_start = image.arg_start;
    mm.arg_end = image.arg_end;
    mm.env_start = image.env_start;
    mm.env_end = image.env_end;
    Ok(())
}

/// `setup_arg_pages`: the initial stack VMA is `[arg_start & PAGE_MASK,
/// 0xC0000000)` — only the pages holding the strings, one page for small arguments —
/// with VM_STACK_FLAGS (0x177) and PAGE_COPY; each of its pages is installed with
/// `put_dirty_page` (0x067, rss + 1, no fault). No RLIMIT_STACK check here.
/// Returns the VMA's start.
///
/// The top is `Personality::stack_top` (TASK_SIZE by default); with `Personality::fixed_stack`
/// the VMA is instead a non-growing one of that size ending at the top (qemu-user's
/// stack, for difftest), still with only the argument pages installed here.
fn setup_arg_pages(k: &mut Kernel, image: &StackImage) -> Result<u32, String> {
    let top = k.config.personality.stack_top;
    let start = image.arg_start & PAGE_MASK;
    let vma = match k.config.personality.fixed_stack {
        None => Vma::new(start, top, VM_STACK_FLAGS, 0, Backing::Anon),
        Some(size) => {
            let lo = top.checked_sub(size).filter(|lo| lo & PAGE_MASK == *lo && *lo <= start);
            let lo = lo.ok_or("the fixed stack does not hold the arguments")?;
            Vma::new(lo, top, VM_STACK_FLAGS & !VM_GROWSDOWN, 0, Backing::Anon)
        }
    };
    let (prot, lo) = (vma.page_prot, vma.start);
    k.task.mm.insert_vm_struct(vma).map_err(|_| "cannot create the stack VMA".to_string())?;
    k.task.mm.total_vm = (top - lo) >> 12;
    let mut page = start;
    while page < top {
        let frame = memory::alloc_page(k).ok_or("out of memory for the argument pages")?;
        let from = page.checked_sub(image.base).ok_or("inconsistent stack image")? as usize;
        if let Some(bytes) = image.bytes.get(from..from + PAGE_SIZE as usize) {
            k.cpu.mmu.phys_mut().frame_mut(frame).copy_from_slice(bytes);
        }
        memory::put_dirty_page(k, page, frame, prot).ok_or("out of memory for the stack page tables")?;
        page += PAGE_SIZE;
    }
    Ok(start)
}

/// `set_brk(start, end)`: an anonymous rwx VMA for the whole pages of bss, and
/// `start_brk = brk` = its aligned end for now.
fn set_brk(k: &mut Kernel, start: u32, end: u32) -> Result<(), String> {
    let (start, end) = (page_align(start), page_align(end));
    if end > start {
        do_brk(k, start, end - start).map_err(|e| {
            format!("cannot map bss at {start:#010x}-{end:#010x}: {}", std::io::Error::from_raw_os_error(e))
        })?;
    }
    k.task.mm.start_brk = end;
    k.task.mm.brk = end;
    Ok(())
}

/// `clear_user`: zero `len` bytes of user memory with kernel-mode stores.
fn clear_user(k: &mut Kernel, addr: u32, len: u32) {
    let zeros = vec![0u8; len as usize];
    if let Err(done) = k.copy_to_user(addr, &zeros) {
        // 2.4 ignores a failing clear here too.
        log::warn!(target: "kernel::mm", "clear_user {addr:#010x}+{len}: only {done} bytes cleared");
    }
}

/// `padzero(elf_bss)`: clear from `elf_bss` to the end of its page.
fn padzero(k: &mut Kernel, elf_bss: u32) {
    let off = elf_bss & !PAGE_MASK;
    if off != 0 {
        clear_user(k, elf_bss, PAGE_SIZE - off);
    }
}

/// `create_elf_tables`: store the part of the stack image below the argument pages
/// (platform string, AT_RANDOM bytes, auxv, envp, argv, argc) with `__put_user`-like
/// kernel stores. If it reaches below the stack VMA (very large argument lists) the
/// stores take kernel-mode faults that expand the stack — no ESP test, charged as
/// minor faults.
fn create_elf_tables(k: &mut Kernel, image: &StackImage, stack_vma_start: u32) -> Result<(), String> {
    if image.base >= stack_vma_start {
        return Ok(());
    }
    let below = (stack_vma_start - image.base) as usize;
    let bytes = image.bytes.get(..below).ok_or("inconsistent stack image")?;
    k.copy_to_user(image.base, bytes).map_err(|_| {
        format!("cannot write the initial stack at {:#010x} (RLIMIT_STACK too small?)", image.base)
    })
}

/// `start_thread` (+ `ELF_PLAT_INIT`): every general register 0 (EDX = 0 means "no
/// atexit function"), ESP at argc, EIP at the entry point, the user segments loaded.
/// EFLAGS keeps the caller's value, as in 2.4.
pub fn start_thread(k: &mut Kernel, eip: u32, esp: u32) {
    k.cpu.regs = [0; 8];
    k.cpu.regs[growsdown_cpu::ESP] = esp;
    k.cpu.eip = eip;
    crate::mm::load_user_segments(k);
}

#[cfg(test)]
mod tests {
    use super::host_elf;

    fn header(class: u8, data: u8, machine: u16) -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = class;
        h[5] = data;
        let m = if data == 2 { machine.to_be_bytes() } else { machine.to_le_bytes() };
        h[18..20].copy_from_slice(&m);
        h
    }

    /// Only ELFCLASS32 little-endian EM_386/EM_486 is emulated; every other ELF goes
    /// to the host (x86-64, aarch64, a big-endian or 64-bit i386 oddity); a short or
    /// non-ELF head is the loader's business.
    #[test]
    fn which_elf_files_the_host_runs() {
        assert_eq!(host_elf(&header(1, 1, 3)), None);
        assert_eq!(host_elf(&header(1, 1, 6)), None);
        assert_eq!(host_elf(&header(2, 1, 62)), Some(62));
        assert_eq!(host_elf(&header(2, 1, 183)), Some(183));
        assert_eq!(host_elf(&header(2, 1, 3)), Some(3));
        assert_eq!(host_elf(&header(1, 2, 3)), Some(3));
        assert_eq!(host_elf(&header(1, 1, 40)), Some(40));
        assert_eq!(host_elf(&header(2, 1, 62)[..19]), None);
        assert_eq!(host_elf(b"#!/bin/sh\n"), None);
    }
}
