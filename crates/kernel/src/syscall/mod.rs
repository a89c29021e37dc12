//! `int 0x80`: the Linux i386 system-call ABI. Number in EAX; arguments in EBX, ECX,
//! EDX, ESI, EDI, EBP; result (or -errno) back in EAX.

use growsdown_cpu::{EAX, EBP, EBX, ECX, EDI, EDX, ESI};

use crate::errno::{to_eax, SysResult, EBADF, EFAULT, ENOSYS};
use crate::{ExitStatus, Kernel};

pub const NR_EXIT: u32 = 1;
pub const NR_WRITE: u32 = 4;
pub const NR_EXIT_GROUP: u32 = 252;

pub type Args = [u32; 6];

pub fn dispatch(k: &mut Kernel) {
    let r = &k.cpu.regs;
    let nr = r[EAX];
    let args: Args = [r[EBX], r[ECX], r[EDX], r[ESI], r[EDI], r[EBP]];
    let res = match nr {
        NR_EXIT | NR_EXIT_GROUP => {
            k.exit_status = Some(ExitStatus::Exited(args[0] as i32 & 0xff));
            return;
        }
        NR_WRITE => sys_write(k, args),
        _ => {
            log::warn!(target: "kernel::syscall", "unimplemented syscall {nr}");
            Err(ENOSYS)
        }
    };
    k.cpu.regs[EAX] = to_eax(res);
}

fn sys_write(k: &mut Kernel, a: Args) -> SysResult {
    let host = k.task.files.get(a[0]).ok_or(EBADF)?.host_fd;
    let buf = k.read_user(a[1], a[2] as usize).map_err(|_| EFAULT)?;
    // SAFETY: `buf` is a live Vec of `buf.len()` bytes.
    let n = unsafe { libc::write(host, buf.as_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(crate::errno::host_errno())
    } else {
        Ok(n as u32)
    }
}
