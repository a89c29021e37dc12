//! Kernel access to user memory: `copy_to_user`, `copy_from_user`, `get_user`,
//! `put_user`, `strncpy_from_user` (2.4's `include/asm-i386/uaccess.h`, linux24.md §1.7).
//!
//! Accesses go through the paging unit with supervisor rights, exactly like the
//! kernel's own instructions would: CR0.WP makes a write to a read-only COW page fault
//! with error code 3, a not-present page faults with code 2 or 0, and every such fault
//! runs the real `do_page_fault` in kernel mode (no ESP test, charged to the task).
//! A fault `do_page_fault` cannot resolve is the exception-table fixup: the copy stops
//! and the syscall sees a short count or EFAULT. No signal is sent (except SIGBUS,
//! linux24.md §1.6).

use growsdown_cpu::mmu::Scalar;
use growsdown_cpu::AccessKind;

use crate::errno::{Errno, EFAULT, ENAMETOOLONG};
use crate::mm::fault::do_page_fault;
use crate::trace::FaultResult;
use crate::{Kernel, TASK_SIZE};

/// `access_ok`: the range lies below TASK_SIZE. VMAs are not consulted.
pub fn access_ok(addr: u32, len: u32) -> bool {
    u64::from(addr) + u64::from(len) <= u64::from(TASK_SIZE)
}

impl Kernel {
    /// Resolves a kernel-mode fault on user memory; true if the access may be retried.
    fn uaccess_fault(&mut self, addr: u32, code: u32) -> bool {
        let esp = self.cpu.esp();
        matches!(do_page_fault(self, addr, code, esp, false), FaultResult::Minor | FaultResult::Major)
    }

    /// Copies `data` to user address `addr`. On failure returns how many bytes were
    /// copied before the fault (2.4 returns the number *not* copied; same information).
    pub fn copy_to_user(&mut self, addr: u32, data: &[u8]) -> Result<(), usize> {
        if !access_ok(addr, data.len() as u32) {
            return Err(0);
        }
        let mut done = 0usize;
        let mut last_fault = None;
        while done < data.len() {
            match self.cpu.mmu.copy_out(addr.wrapping_add(done as u32), &data[done..], AccessKind::SupWrite) {
                Ok(()) => return Ok(()),
                Err((n, pf)) => {
                    done += n;
                    // A fault that "resolves" yet repeats at the same place would loop
                    // forever; treat the second one as unresolvable.
                    if last_fault == Some((pf.addr, pf.code)) || !self.uaccess_fault(pf.addr, pf.code) {
                        return Err(done);
                    }
                    last_fault = Some((pf.addr, pf.code));
                }
            }
        }
        Ok(())
    }

    /// Copies from user address `addr` into `buf`. On failure the rest of `buf` is
    /// zero-filled (`__copy_user_zeroing`) and the count copied is returned.
    pub fn copy_from_user(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), usize> {
        if !access_ok(addr, buf.len() as u32) {
            buf.fill(0);
            return Err(0);
        }
        let mut done = 0usize;
        let mut last_fault = None;
        while done < buf.len() {
            match self.cpu.mmu.copy_in(addr.wrapping_add(done as u32), &mut buf[done..], AccessKind::SupRead)
            {
                Ok(()) => return Ok(()),
                Err((n, pf)) => {
                    done += n;
                    if last_fault == Some((pf.addr, pf.code)) || !self.uaccess_fault(pf.addr, pf.code) {
                        buf[done..].fill(0);
                        return Err(done);
                    }
                    last_fault = Some((pf.addr, pf.code));
                }
            }
        }
        Ok(())
    }

    /// Reads a whole user buffer or fails with EFAULT.
    pub fn read_user(&mut self, addr: u32, len: usize) -> Result<Vec<u8>, Errno> {
        let mut v = vec![0u8; len];
        self.copy_from_user(addr, &mut v).map_err(|_| EFAULT)?;
        Ok(v)
    }

    pub fn get_user<T: Scalar>(&mut self, addr: u32) -> Result<T, Errno> {
        let mut b = [0u8; 8];
        let n = T::SIZE as usize;
        self.copy_from_user(addr, &mut b[..n]).map_err(|_| EFAULT)?;
        Ok(T::from_le(&b))
    }

    pub fn put_user<T: Scalar>(&mut self, addr: u32, v: T) -> Result<(), Errno> {
        let mut b = [0u8; 8];
        let n = T::SIZE as usize;
        v.to_le(&mut b);
        self.copy_to_user(addr, &b[..n]).map_err(|_| EFAULT)
    }

    /// A NUL-terminated string of at most `max` bytes (without the NUL).
    /// EFAULT on a bad pointer, ENAMETOOLONG if no NUL within `max`.
    pub fn strncpy_from_user(&mut self, addr: u32, max: usize) -> Result<Vec<u8>, Errno> {
        let mut out = Vec::new();
        let mut a = addr;
        loop {
            // Read up to the end of the current page, so a string ending just before
            // an unmapped page is fine.
            let chunk = (crate::PAGE_SIZE - (a & 0xfff)) as usize;
            let mut buf = vec![0u8; chunk.min(max + 1 - out.len())];
            self.copy_from_user(a, &mut buf).map_err(|_| EFAULT)?;
            if let Some(nul) = buf.iter().position(|&b| b == 0) {
                out.extend_from_slice(&buf[..nul]);
                return Ok(out);
            }
            out.extend_from_slice(&buf);
            if out.len() > max {
                return Err(ENAMETOOLONG);
            }
            a = a.wrapping_add(buf.len() as u32);
        }
    }
}
