//! File, pipe and directory syscalls through `do_syscall` on a booted kernel.

mod sys_common;

use growsdown_kernel::syscall::*;
use sys_common::*;

const EFAULT: i32 = -14;
const EBADF: i32 = -9;
const EINVAL: i32 = -22;
const ENOTTY: i32 = -25;
const O_RDWR: u32 = 2;
const O_CREAT: u32 = 0o100;
const O_DIRECTORY: u32 = 0o200000;
const O_CLOEXEC: u32 = 0o2000000;
const AT_FDCWD: u32 = -100i32 as u32;

fn data_process() -> growsdown_kernel::Kernel {
    process(&[0xf4])
}

/// pipe() into DATA: returns (read end, write end).
fn pipe(k: &mut growsdown_kernel::Kernel) -> (u32, u32) {
    assert_eq!(sys(k, NR_PIPE, &[DATA]), 0);
    (peek32(k, DATA), peek32(k, DATA + 4))
}

fn put_str(k: &mut growsdown_kernel::Kernel, addr: u32, s: &str) {
    let mut b = s.as_bytes().to_vec();
    b.push(0);
    poke(k, addr, &b);
}

#[test]
fn write_and_writev_to_a_pipe_then_read_and_readv() {
    let mut k = data_process();
    let (r, w) = pipe(&mut k);
    assert!(r >= 3 && w == r + 1, "fds {r} {w}");
    poke(&mut k, DATA + 0x100, b"hello ");
    assert_eq!(sys(&mut k, NR_WRITE, &[w, DATA + 0x100, 6]), 6);
    poke(&mut k, DATA + 0x110, b"world");
    poke(&mut k, DATA + 0x120, b"!");
    // struct iovec[2] = {{DATA+0x110, 5}, {DATA+0x120, 1}}
    for (i, v) in [DATA + 0x110, 5, DATA + 0x120, 1].into_iter().enumerate() {
        poke32(&mut k, DATA + 0x200 + 4 * i as u32, v);
    }
    assert_eq!(sys(&mut k, NR_WRITEV, &[w, DATA + 0x200, 2]), 6);
    assert_eq!(sys(&mut k, NR_READ, &[r, DATA + 0x400, 64]), 12);
    assert_eq!(peek(&mut k, DATA + 0x400, 12), b"hello world!");

    // readv scatters one read over two buffers.
    assert_eq!(sys(&mut k, NR_WRITE, &[w, DATA + 0x100, 6]), 6);
    for (i, v) in [DATA + 0x500, 2, DATA + 0x510, 10].into_iter().enumerate() {
        poke32(&mut k, DATA + 0x200 + 4 * i as u32, v);
    }
    assert_eq!(sys(&mut k, NR_READV, &[r, DATA + 0x200, 2]), 6);
    assert_eq!(peek(&mut k, DATA + 0x500, 2), b"he");
    assert_eq!(peek(&mut k, DATA + 0x510, 4), b"llo ");
    // Bad iovec counts and arrays.
    assert_eq!(sys(&mut k, NR_WRITEV, &[w, DATA + 0x200, 1025]), EINVAL);
    assert_eq!(sys(&mut k, NR_WRITEV, &[w, 0x1000, 1]), EFAULT);
    assert_eq!(sys(&mut k, NR_CLOSE, &[r]), 0);
    assert_eq!(sys(&mut k, NR_CLOSE, &[r]), EBADF);
    assert_eq!(sys(&mut k, NR_WRITE, &[r, DATA, 1]), EBADF);
}

/// Spec §8 scenario 14: a bad pointer is -EFAULT, no signal, no fault counted, cr2
/// untouched, and the data stays in the pipe.
#[test]
fn bad_pointer_is_efault_and_no_signal() {
    let mut k = data_process();
    let (r, w) = pipe(&mut k);
    poke(&mut k, DATA + 0x100, b"0123456789");
    assert_eq!(sys(&mut k, NR_WRITE, &[w, DATA + 0x100, 10]), 10);
    let (min, maj, cr2) = (k.task.min_flt, k.task.maj_flt, k.task.thread.cr2);
    assert_eq!(sys(&mut k, NR_READ, &[r, 0x1000, 10]), EFAULT);
    assert_eq!(sys(&mut k, NR_WRITE, &[w, 0xc000_0000, 10]), EFAULT);
    assert_eq!(sys(&mut k, NR_WRITE, &[w, 0x1000, 10]), EFAULT);
    assert_eq!(sys(&mut k, NR_READ, &[r, 0xbfff_fffc, 10]), EFAULT, "crosses TASK_SIZE");
    assert!(k.task.sig.pending.is_empty(), "no signal for a bad syscall pointer");
    assert_eq!((k.task.min_flt, k.task.maj_flt, k.task.thread.cr2), (min, maj, cr2));
    assert!(k.exit_status.is_none());
    // FIONREAD still sees the 10 bytes, and read gets them.
    assert_eq!(sys(&mut k, NR_IOCTL, &[r, 0x541b, DATA + 0x300]), 0);
    assert_eq!(peek32(&mut k, DATA + 0x300), 10);
    assert_eq!(sys(&mut k, NR_READ, &[r, DATA + 0x200, 10]), 10);
    assert_eq!(peek(&mut k, DATA + 0x200, 10), b"0123456789");
}

#[test]
fn partial_fault_gives_a_short_count() {
    let mut k = data_process();
    let (r, w) = pipe(&mut k);
    // The last 4 bytes of DATA's mapping, then unmapped memory.
    let end = DATA + 0x10000;
    poke(&mut k, end - 4, b"abcd");
    assert_eq!(sys(&mut k, NR_WRITE, &[w, end - 4, 8]), 4);
    assert_eq!(sys(&mut k, NR_READ, &[r, end - 2, 4]), 2);
    assert_eq!(peek(&mut k, end - 2, 2), b"ab");
    assert_eq!(sys(&mut k, NR_READ, &[r, DATA, 4]), 2);
    assert_eq!(peek(&mut k, DATA, 2), b"cd");
}

#[test]
fn dup_family_and_fcntl() {
    let mut k = data_process();
    let (r, w) = pipe(&mut k);
    let d = sys(&mut k, NR_DUP, &[w]) as u32;
    assert_eq!(d, w + 1);
    assert_eq!(sys(&mut k, NR_DUP2, &[w, 10]), 10);
    assert_eq!(sys(&mut k, NR_DUP2, &[w, w]), w as i32);
    assert_eq!(sys(&mut k, NR_DUP2, &[99, 10]), EBADF);
    assert_eq!(sys(&mut k, NR_DUP3, &[w, w, 0]), EINVAL);
    assert_eq!(sys(&mut k, NR_DUP3, &[w, 11, 1]), EINVAL);
    assert_eq!(sys(&mut k, NR_DUP3, &[w, 11, O_CLOEXEC]), 11);
    assert_eq!(sys(&mut k, NR_FCNTL64, &[11, 1, 0]), 1, "F_GETFD after dup3(O_CLOEXEC)");
    assert_eq!(sys(&mut k, NR_FCNTL64, &[10, 1, 0]), 0);
    assert_eq!(sys(&mut k, NR_FCNTL64, &[10, 2, 1]), 0);
    assert_eq!(sys(&mut k, NR_FCNTL64, &[10, 1, 0]), 1);
    assert_eq!(sys(&mut k, NR_FCNTL64, &[w, 1030, 20]), 20, "F_DUPFD_CLOEXEC at >= 20");
    assert_eq!(sys(&mut k, NR_FCNTL64, &[20, 1, 0]), 1);
    assert_eq!(sys(&mut k, NR_FCNTL64, &[w, 0, 0]) as u32, d + 1, "F_DUPFD takes the lowest free");
    // F_GETFL of a pipe's write end: O_WRONLY, no O_LARGEFILE.
    assert_eq!(sys(&mut k, NR_FCNTL64, &[w, 3, 0]), 1);
    assert_eq!(sys(&mut k, NR_FCNTL64, &[w, 4, 0o4000]), 0, "F_SETFL O_NONBLOCK");
    assert_eq!(sys(&mut k, NR_FCNTL64, &[w, 3, 0]), 1 | 0o4000);
    assert_eq!(sys(&mut k, NR_FCNTL64, &[w, 9999, 0]), EINVAL);
    // Writing through a dup reaches the same pipe.
    poke(&mut k, DATA + 0x100, b"xy");
    assert_eq!(sys(&mut k, NR_WRITE, &[10, DATA + 0x100, 2]), 2);
    assert_eq!(sys(&mut k, NR_READ, &[r, DATA + 0x200, 2]), 2);
    assert_eq!(peek(&mut k, DATA + 0x200, 2), b"xy");
    // pipe2 flags.
    assert_eq!(sys(&mut k, NR_PIPE2, &[DATA, O_CLOEXEC]), 0);
    let r2 = peek32(&mut k, DATA);
    assert_eq!(sys(&mut k, NR_FCNTL64, &[r2, 1, 0]), 1);
    assert_eq!(sys(&mut k, NR_PIPE2, &[DATA, 1]), EINVAL);
    assert_eq!(sys(&mut k, NR_PIPE, &[0x1000]), EFAULT);
    // ioctl on a pipe: not a terminal.
    assert_eq!(sys(&mut k, NR_IOCTL, &[r, 0x5401, DATA + 0x300]), ENOTTY);
    assert_eq!(sys(&mut k, NR_IOCTL, &[r, 0x5413, DATA + 0x300]), ENOTTY);
    assert_eq!(sys(&mut k, NR_IOCTL, &[77, 0x5401, DATA + 0x300]), EBADF);
}

fn scratch_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "growsdown-sysfiles-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn files_seek_stat_and_positional_io() {
    let mut k = data_process();
    let dir = scratch_dir();
    let path = dir.join("f.txt");
    put_str(&mut k, DATA + 0x1000, path.to_str().unwrap());
    let fd = sys(&mut k, NR_OPENAT, &[AT_FDCWD, DATA + 0x1000, O_RDWR | O_CREAT, 0o644]);
    assert!(fd >= 3, "openat: {fd}");
    let fd = fd as u32;
    poke(&mut k, DATA + 0x100, b"0123456789abcdef");
    assert_eq!(sys(&mut k, NR_WRITE, &[fd, DATA + 0x100, 16]), 16);
    // _llseek(fd, 0, 4, &result, SEEK_SET)
    assert_eq!(sys(&mut k, NR_LLSEEK, &[fd, 0, 4, DATA + 0x200, 0]), 0);
    assert_eq!(peek(&mut k, DATA + 0x200, 8), 4u64.to_le_bytes());
    assert_eq!(sys(&mut k, NR_READ, &[fd, DATA + 0x300, 4]), 4);
    assert_eq!(peek(&mut k, DATA + 0x300, 4), b"4567");
    assert_eq!(sys(&mut k, NR_LSEEK, &[fd, -2i32 as u32, 1]), 6);
    // pread64 / pwrite64 leave the position alone.
    assert_eq!(sys(&mut k, NR_PREAD64, &[fd, DATA + 0x300, 3, 10, 0]), 3);
    assert_eq!(peek(&mut k, DATA + 0x300, 3), b"abc");
    assert_eq!(sys(&mut k, NR_PWRITE64, &[fd, DATA + 0x100, 2, 16, 0]), 2);
    assert_eq!(sys(&mut k, NR_LSEEK, &[fd, 0, 1]), 6);
    assert_eq!(sys(&mut k, NR_PREAD64, &[fd, DATA + 0x300, 3, 0, 0x8000_0000]), EINVAL);
    // A read whose buffer faults after the host read leaves the position where the
    // guest's data ended.
    assert_eq!(sys(&mut k, NR_READ, &[fd, DATA + 0x10000 - 2, 8]), 2);
    assert_eq!(sys(&mut k, NR_LSEEK, &[fd, 0, 1]), 8);

    // fstat64: st_mode at 16, st_size at 44 (i386 struct stat64, 96 bytes).
    assert_eq!(sys(&mut k, NR_FSTAT64, &[fd, DATA + 0x400]), 0);
    let st = peek(&mut k, DATA + 0x400, 96);
    let mode = u32::from_le_bytes(st[16..20].try_into().unwrap());
    assert_eq!(mode & 0o170000, 0o100000);
    assert_eq!(mode & 0o777, 0o644 & !current_umask());
    assert_eq!(i64::from_le_bytes(st[44..52].try_into().unwrap()), 18);
    let ino = u64::from_le_bytes(st[88..96].try_into().unwrap());
    assert_eq!(u32::from_le_bytes(st[12..16].try_into().unwrap()), ino as u32);
    let host = std::fs::metadata(&path).unwrap();
    assert_eq!(ino, std::os::unix::fs::MetadataExt::ino(&host));
    assert_eq!(sys(&mut k, NR_STAT64, &[DATA + 0x1000, DATA + 0x500]), 0);
    assert_eq!(peek(&mut k, DATA + 0x500, 96), st);
    assert_eq!(sys(&mut k, NR_FSTATAT64, &[AT_FDCWD, DATA + 0x1000, DATA + 0x500, 0]), 0);
    assert_eq!(peek(&mut k, DATA + 0x500, 96), st);
    // statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS): stx_size at 40, stx_mode at 28.
    put_str(&mut k, DATA + 0x1800, "");
    assert_eq!(sys(&mut k, NR_STATX, &[fd, DATA + 0x1800, 0x1000, 0x7ff, DATA + 0x600]), 0);
    let sx = peek(&mut k, DATA + 0x600, 256);
    assert_eq!(u64::from_le_bytes(sx[40..48].try_into().unwrap()), 18);
    assert_eq!(u16::from_le_bytes(sx[28..30].try_into().unwrap()) as u32, mode);
    assert_eq!(u64::from_le_bytes(sx[32..40].try_into().unwrap()), ino);

    // Names: rename, unlink, mkdir, access, getdents64.
    let p2 = dir.join("g.txt");
    put_str(&mut k, DATA + 0x1400, p2.to_str().unwrap());
    assert_eq!(sys(&mut k, NR_RENAME, &[DATA + 0x1000, DATA + 0x1400]), 0);
    assert!(p2.exists() && !path.exists());
    assert_eq!(sys(&mut k, NR_ACCESS, &[DATA + 0x1400, 4]), 0);
    assert_eq!(sys(&mut k, NR_ACCESS, &[DATA + 0x1000, 0]), -2);
    let sub = dir.join("sub");
    put_str(&mut k, DATA + 0x1800, sub.to_str().unwrap());
    assert_eq!(sys(&mut k, NR_MKDIR, &[DATA + 0x1800, 0o755]), 0);
    assert!(sub.is_dir());
    put_str(&mut k, DATA + 0x1c00, dir.to_str().unwrap());
    let dfd = sys(&mut k, NR_OPEN, &[DATA + 0x1c00, O_DIRECTORY, 0]);
    assert!(dfd >= 3);
    let n = sys(&mut k, NR_GETDENTS64, &[dfd as u32, DATA + 0x2000, 4096]);
    assert!(n > 0);
    let buf = peek(&mut k, DATA + 0x2000, n as usize);
    let mut names = Vec::new();
    let mut off = 0usize;
    while off < buf.len() {
        let reclen = u16::from_le_bytes([buf[off + 16], buf[off + 17]]) as usize;
        assert_eq!(reclen % 8, 0);
        let d_off = i64::from_le_bytes(buf[off + 8..off + 16].try_into().unwrap());
        assert!((0..=i64::from(i32::MAX)).contains(&d_off), "32-bit-safe d_off {d_off:#x}");
        let name: Vec<u8> = buf[off + 19..off + reclen].iter().take_while(|&&c| c != 0).copied().collect();
        names.push(String::from_utf8(name).unwrap());
        off += reclen;
    }
    names.sort();
    assert_eq!(names, [".", "..", "g.txt", "sub"]);
    assert_eq!(sys(&mut k, NR_GETDENTS64, &[dfd as u32, DATA + 0x2000, 4096]), 0);
    assert_eq!(sys(&mut k, NR_UNLINK, &[DATA + 0x1400]), 0);
    assert!(!p2.exists());
    assert_eq!(sys(&mut k, NR_RMDIR, &[DATA + 0x1800]), 0);
    assert_eq!(sys(&mut k, NR_OPEN, &[0x1000, 0, 0]), EFAULT);
    let _ = std::fs::remove_dir_all(&dir);
}

fn current_umask() -> u32 {
    // SAFETY: reading and restoring the process umask.
    unsafe {
        let m = libc::umask(0o022);
        libc::umask(m);
        m
    }
}

#[test]
fn proc_self_exe_cwd_and_uname() {
    let mut k = data_process();
    let exe = std::env::current_exe().unwrap();
    k.task.exe = exe.to_str().unwrap().to_string();
    put_str(&mut k, DATA + 0x100, "/proc/self/exe");
    let n = sys(&mut k, NR_READLINK, &[DATA + 0x100, DATA + 0x1000, 4096]);
    let want = std::fs::canonicalize(&exe).unwrap();
    assert_eq!(n as usize, want.as_os_str().len());
    assert_eq!(peek(&mut k, DATA + 0x1000, n as usize), want.as_os_str().as_encoded_bytes());
    // Truncation to bufsiz, no NUL; bufsiz 0 is EINVAL.
    assert_eq!(sys(&mut k, NR_READLINKAT, &[AT_FDCWD, DATA + 0x100, DATA + 0x1000, 3]), 3);
    assert_eq!(sys(&mut k, NR_READLINK, &[DATA + 0x100, DATA + 0x1000, 0]), EINVAL);

    let cwd = std::env::current_dir().unwrap();
    let n = sys(&mut k, NR_GETCWD, &[DATA + 0x2000, 4096]);
    assert_eq!(n as usize, cwd.as_os_str().len() + 1);
    assert_eq!(peek(&mut k, DATA + 0x2000, n as usize - 1), cwd.as_os_str().as_encoded_bytes());
    assert_eq!(sys(&mut k, NR_GETCWD, &[DATA + 0x2000, 1]), -34, "ERANGE");

    assert_eq!(sys(&mut k, NR_UNAME, &[DATA + 0x3000]), 0);
    let u = peek(&mut k, DATA + 0x3000, 390);
    let field =
        |i: usize| u[i * 65..(i + 1) * 65].iter().take_while(|&&c| c != 0).copied().collect::<Vec<u8>>();
    assert_eq!(field(0), b"Linux");
    assert_eq!(field(4), b"i686");
    assert!(!field(2).is_empty());
    assert_eq!(sys(&mut k, NR_UNAME, &[0xc000_0000]), EFAULT);
}

#[test]
fn proc_self_maps_lists_the_vmas() {
    let mut k = data_process();
    put_str(&mut k, DATA + 0x100, "/proc/self/maps");
    let fd = sys(&mut k, NR_OPEN, &[DATA + 0x100, 0, 0]);
    assert!(fd >= 3);
    let n = sys(&mut k, NR_READ, &[fd as u32, DATA + 0x1000, 4096]);
    let text = String::from_utf8(peek(&mut k, DATA + 0x1000, n as usize)).unwrap();
    // Today's format: an anonymous line ends in "0 " (show_vma_header_prefix).
    assert!(text.starts_with("08048000-08049000 rwxp 00000000 00:00 0 \n"), "{text}");
    assert!(text.contains("08050000-08060000 rw-p"), "{text}");
    assert_eq!(sys(&mut k, NR_OPEN, &[DATA + 0x100, O_RDWR, 0]), -13, "EACCES");
}

#[test]
fn poll_and_select_see_a_readable_pipe() {
    let mut k = data_process();
    let (r, w) = pipe(&mut k);
    // poll({r, POLLIN}, {w, POLLOUT}, {99, POLLIN}), timeout 0
    let pfd = |fd: u32, ev: u16| {
        let mut b = fd.to_le_bytes().to_vec();
        b.extend_from_slice(&ev.to_le_bytes());
        b.extend_from_slice(&[0, 0]);
        b
    };
    let mut arr = pfd(r, 1);
    arr.extend(pfd(w, 4));
    arr.extend(pfd(99, 1));
    poke(&mut k, DATA + 0x100, &arr);
    assert_eq!(sys(&mut k, NR_POLL, &[DATA + 0x100, 3, 0]), 2);
    let rev = |k: &mut growsdown_kernel::Kernel, i: u32| {
        u16::from_le_bytes(peek(k, DATA + 0x100 + 8 * i + 6, 2).try_into().unwrap())
    };
    assert_eq!(rev(&mut k, 0), 0, "empty pipe");
    assert_eq!(rev(&mut k, 1), 4, "POLLOUT");
    assert_eq!(rev(&mut k, 2), 0x20, "POLLNVAL");
    poke(&mut k, DATA, b"x");
    assert_eq!(sys(&mut k, NR_WRITE, &[w, DATA, 1]), 1);
    assert_eq!(sys(&mut k, NR_POLL, &[DATA + 0x100, 2, 0]), 2);
    assert_eq!(rev(&mut k, 0), 1, "POLLIN");
    // _newselect(nfds, {r}, {w}, NULL, {0, 0})
    poke32(&mut k, DATA + 0x200, 1 << r);
    poke32(&mut k, DATA + 0x204, 1 << w);
    poke(&mut k, DATA + 0x210, &[0; 8]);
    assert_eq!(sys(&mut k, NR_NEWSELECT, &[w + 1, DATA + 0x200, DATA + 0x204, 0, DATA + 0x210]), 2);
    assert_eq!(peek32(&mut k, DATA + 0x200), 1 << r);
    assert_eq!(peek32(&mut k, DATA + 0x204), 1 << w);
    // After draining, only the write end is ready.
    assert_eq!(sys(&mut k, NR_READ, &[r, DATA + 0x300, 1]), 1);
    poke32(&mut k, DATA + 0x200, 1 << r);
    poke(&mut k, DATA + 0x220, &[0; 16]);
    assert_eq!(sys(&mut k, NR_PSELECT6_TIME64, &[r + 1, DATA + 0x200, 0, 0, DATA + 0x220, 0]), 0);
    assert_eq!(peek32(&mut k, DATA + 0x200), 0);
    poke32(&mut k, DATA + 0x200, 1 << 30);
    assert_eq!(sys(&mut k, NR_NEWSELECT, &[31, DATA + 0x200, 0, 0, DATA + 0x210]), EBADF);
}

/// Writing to a pipe with no reader: EPIPE and SIGPIPE, whose default action kills.
#[test]
fn write_to_a_closed_pipe_raises_sigpipe() {
    let mut k = data_process();
    let (r, w) = pipe(&mut k);
    assert_eq!(sys(&mut k, NR_CLOSE, &[r]), 0);
    assert_eq!(sys(&mut k, NR_WRITE, &[w, DATA, 1]), -32);
    assert_eq!(k.task.sig.pending.first().map(|p| (p.signo, p.code)), Some((13, 0)));
    growsdown_kernel::signal::do_signal(&mut k);
    assert!(matches!(k.exit_status, Some(growsdown_kernel::ExitStatus::Signaled { signo: 13, .. })));
}
