//! The initial process stack: argument strings, platform string, AT_RANDOM bytes,
//! auxiliary vector, envp/argv arrays and argc, as a modern Linux `create_elf_tables`
//! lays them out on top of 2.4's `do_execve` string area. See `docs/process-image.md`
//! for the picture and a worked example.

use crate::error::LoadError;
use crate::{StackImage, StackParams, PAGE_SIZE};

/// Pages of the argument area (`MAX_ARG_PAGES` in 2.4's `fs/exec.c`).
pub const MAX_ARG_PAGES: u32 = 32;
/// Bytes of the argument area: 128 KiB. The 4 zero bytes at the top, every string
/// with its NUL, and the argv/envp pointer arrays with their NULL terminators must
/// fit in it together, else `execve` fails with E2BIG.
pub const ARG_MAX: u32 = MAX_ARG_PAGES * PAGE_SIZE;

/// Auxiliary vector types (`include/uapi/linux/auxvec.h`, `arch/x86/include/uapi/asm/auxvec.h`,
/// `elf.h`): the one table of them in growsdown. [`build_stack`] writes most of these;
/// AT_IGNORE and AT_BASE_PLATFORM it never writes, but a real kernel's auxv has them
/// (difftest reads and rewrites them).
pub mod auxv {
    pub const AT_NULL: u32 = 0;
    pub const AT_IGNORE: u32 = 1;
    pub const AT_PHDR: u32 = 3;
    pub const AT_PHENT: u32 = 4;
    pub const AT_PHNUM: u32 = 5;
    pub const AT_PAGESZ: u32 = 6;
    pub const AT_BASE: u32 = 7;
    pub const AT_FLAGS: u32 = 8;
    pub const AT_ENTRY: u32 = 9;
    pub const AT_UID: u32 = 11;
    pub const AT_EUID: u32 = 12;
    pub const AT_GID: u32 = 13;
    pub const AT_EGID: u32 = 14;
    pub const AT_PLATFORM: u32 = 15;
    pub const AT_HWCAP: u32 = 16;
    pub const AT_CLKTCK: u32 = 17;
    pub const AT_SECURE: u32 = 23;
    pub const AT_BASE_PLATFORM: u32 = 24;
    pub const AT_RANDOM: u32 = 25;
    pub const AT_EXECFN: u32 = 31;
    pub const AT_SYSINFO: u32 = 32;
    pub const AT_SYSINFO_EHDR: u32 = 33;
}

/// Clock ticks per second reported in AT_CLKTCK (i386 `HZ` / `CLOCKS_PER_SEC`).
pub const CLKTCK: u32 = 100;

fn check_c_string(s: &[u8], what: impl FnOnce() -> String) -> Result<(), LoadError> {
    if s.contains(&0) {
        return Err(LoadError::NulInString { what: what() });
    }
    Ok(())
}

/// Builds the initial stack image for `p`. The layout, from `stack_top` down:
///
/// 1. 4 zero bytes;
/// 2. the strings as 2.4's `do_execve` copies them downward — filename, then envp
///    last→first, then argv last→first — so that ascending memory reads
///    `argv[0] .. argv[n-1] envp[0] .. envp[m-1] filename`, each NUL-terminated;
/// 3. the platform string with its NUL (left out, with AT_PLATFORM, if empty);
/// 4. the 16 AT_RANDOM bytes;
/// 5. `sp` rounded down to 16, then lowered so that the final ESP is 16-aligned;
///    the 0–12 byte pad ends up between AT_NULL and the random bytes;
/// 6. the auxv (ascending: SYSINFO and SYSINFO_EHDR when there is a vDSO — i386's
///    `ARCH_DLINFO` comes first —, HWCAP, PAGESZ, CLKTCK, PHDR, PHENT, PHNUM, BASE, FLAGS,
///    ENTRY, UID, EUID, GID, EGID, SECURE, RANDOM, EXECFN, PLATFORM, NULL), then
///    envp[] + NULL, argv[] + NULL, and argc at ESP.
pub fn build_stack(p: &StackParams) -> Result<StackImage, LoadError> {
    use auxv::*;

    let top = p.stack_top;
    if top & (PAGE_SIZE - 1) != 0 || top < 2 * ARG_MAX {
        return Err(LoadError::BadStackTop(top));
    }
    check_c_string(p.filename, || "the file name".to_string())?;
    for (i, a) in p.argv.iter().enumerate() {
        check_c_string(a, || format!("argv[{i}]"))?;
    }
    for (i, e) in p.envp.iter().enumerate() {
        check_c_string(e, || format!("envp[{i}]"))?;
    }
    let platform = p.platform.as_bytes();
    check_c_string(platform, || "the platform string".to_string())?;

    // Size limit: everything that 2.4 puts in (or, for the pointers, right below)
    // the 32-page argument window. Computed in u64 so that no input can overflow.
    let argc = p.argv.len() as u64;
    let envc = p.envp.len() as u64;
    let string_bytes: u64 = p.filename.len() as u64
        + 1
        + p.argv.iter().map(|s| s.len() as u64 + 1).sum::<u64>()
        + p.envp.iter().map(|s| s.len() as u64 + 1).sum::<u64>();
    let pointer_bytes = 4 * (argc + 1 + envc + 1);
    if 4 + string_bytes + pointer_bytes > ARG_MAX as u64 {
        return Err(LoadError::ArgumentListTooLong);
    }
    // From here on every address is above top - 2*ARG_MAX >= 0: the strings and
    // pointers take < 128 KiB, platform + random + auxv + padding far less than
    // another 128 KiB (the platform string is checked below).
    if platform.len() > 1024 {
        return Err(LoadError::BadStackTop(top));
    }

    // --- strings, copied downward (do_execve order) ---
    let mut cur = top - 4;
    cur -= p.filename.len() as u32 + 1;
    let execfn = cur;
    let mut env_ptrs = vec![0u32; p.envp.len()];
    for (i, e) in p.envp.iter().enumerate().rev() {
        cur -= e.len() as u32 + 1;
        env_ptrs[i] = cur;
    }
    let mut arg_ptrs = vec![0u32; p.argv.len()];
    for (i, a) in p.argv.iter().enumerate().rev() {
        cur -= a.len() as u32 + 1;
        arg_ptrs[i] = cur;
    }
    let arg_start = cur;
    let arg_end = arg_start + p.argv.iter().map(|s| s.len() as u32 + 1).sum::<u32>();
    let env_start = arg_end;
    let env_end = env_start + p.envp.iter().map(|s| s.len() as u32 + 1).sum::<u32>();
    debug_assert_eq!(env_end, execfn);

    // --- platform string and AT_RANDOM bytes ---
    let u_platform = if platform.is_empty() {
        None
    } else {
        cur -= platform.len() as u32 + 1;
        Some(cur)
    };
    cur -= 16;
    let u_random = cur;

    // --- auxv, in ascending order ---
    let mut aux: Vec<(u32, u32)> = Vec::new();
    if let Some((sysinfo, ehdr)) = p.vdso {
        aux.extend([(AT_SYSINFO, sysinfo), (AT_SYSINFO_EHDR, ehdr)]);
    }
    aux.extend([
        (AT_HWCAP, p.hwcap),
        (AT_PAGESZ, PAGE_SIZE),
        (AT_CLKTCK, CLKTCK),
        (AT_PHDR, p.plan.phdr_addr),
        (AT_PHENT, p.plan.phent),
        (AT_PHNUM, p.plan.phnum),
        (AT_BASE, p.interp_base),
        (AT_FLAGS, 0),
        (AT_ENTRY, p.plan.entry),
        (AT_UID, p.uid),
        (AT_EUID, p.euid),
        (AT_GID, p.gid),
        (AT_EGID, p.egid),
        (AT_SECURE, p.secure as u32),
        (AT_RANDOM, u_random),
        (AT_EXECFN, execfn),
    ]);
    if let Some(addr) = u_platform {
        aux.push((AT_PLATFORM, addr));
    }
    aux.push((AT_NULL, 0));

    // --- alignment: round sp down to 16, then lower it so that ESP is 16-aligned ---
    let sp = cur & !15;
    let words = 2 * aux.len() as u32 + (envc as u32 + 1) + (argc as u32 + 1) + 1;
    let esp = (sp - 4 * words) & !15;
    let base = esp & !(PAGE_SIZE - 1);

    let mut img = StackImage {
        base,
        bytes: vec![0u8; (top - base) as usize],
        esp,
        arg_start,
        arg_end,
        env_start,
        env_end,
    };

    // Strings.
    img.put_bytes(execfn, p.filename);
    for (s, &at) in p.envp.iter().zip(&env_ptrs) {
        img.put_bytes(at, s);
    }
    for (s, &at) in p.argv.iter().zip(&arg_ptrs) {
        img.put_bytes(at, s);
    }
    if let Some(at) = u_platform {
        img.put_bytes(at, platform);
    }
    img.put_bytes(u_random, &p.random);

    // Words, upward from ESP.
    let mut w = esp;
    let mut push = |img: &mut StackImage, v: u32| {
        img.put_u32(w, v);
        w += 4;
    };
    push(&mut img, argc as u32);
    for &a in &arg_ptrs {
        push(&mut img, a);
    }
    push(&mut img, 0);
    for &e in &env_ptrs {
        push(&mut img, e);
    }
    push(&mut img, 0);
    for &(t, v) in &aux {
        push(&mut img, t);
        push(&mut img, v);
    }
    debug_assert!(w <= u_random);

    log::debug!(
        "initial stack: esp {esp:#010x}, base {base:#010x}, argc {argc}, envc {envc}, {} bytes",
        img.bytes.len()
    );
    Ok(img)
}

impl StackImage {
    /// Stores `s` at `addr` (which lies inside the image). The terminating NUL of a
    /// C string comes from the zero-initialised image: no two items overlap.
    fn put_bytes(&mut self, addr: u32, s: &[u8]) {
        let off = (addr - self.base) as usize;
        self.bytes[off..off + s.len()].copy_from_slice(s);
    }

    fn put_u32(&mut self, addr: u32, v: u32) {
        let off = (addr - self.base) as usize;
        self.bytes[off..off + 4].copy_from_slice(&v.to_le_bytes());
    }

    /// The little-endian word at `addr`, if all four bytes lie inside the image.
    pub fn word(&self, addr: u32) -> Option<u32> {
        let off = addr.checked_sub(self.base)? as usize;
        let b = self.bytes.get(off..off.checked_add(4)?)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The NUL-terminated string starting at `addr`, without its NUL.
    pub fn c_str(&self, addr: u32) -> Option<&[u8]> {
        let off = addr.checked_sub(self.base)? as usize;
        let rest = self.bytes.get(off..)?;
        let len = rest.iter().position(|&b| b == 0)?;
        Some(&rest[..len])
    }

    /// The address one past the last byte: `stack_top`.
    pub fn top(&self) -> u32 {
        self.base + self.bytes.len() as u32
    }
}
