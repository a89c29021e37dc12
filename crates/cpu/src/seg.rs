//! Segment registers and descriptor loads (SDM Vol. 3A §3.4–3.5).
//!
//! Linux user code runs with flat 4 GiB CS/DS/ES/SS; FS and GS carry thread-local
//! storage through descriptors the kernel installs with `set_thread_area`. Loads read
//! the descriptor from the GDT or LDT and check what a CPL-3 load checks.

use crate::exception::Exception;
use crate::Cpu;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum SegReg {
    Es = 0,
    Cs = 1,
    Ss = 2,
    Ds = 3,
    Fs = 4,
    Gs = 5,
}

impl SegReg {
    pub const ALL: [SegReg; 6] = [Self::Es, Self::Cs, Self::Ss, Self::Ds, Self::Fs, Self::Gs];

    pub fn from_iced(r: iced_x86::Register) -> Option<Self> {
        use iced_x86::Register as R;
        Some(match r {
            R::ES => Self::Es,
            R::CS => Self::Cs,
            R::SS => Self::Ss,
            R::DS => Self::Ds,
            R::FS => Self::Fs,
            R::GS => Self::Gs,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        ["es", "cs", "ss", "ds", "fs", "gs"][self as usize]
    }
}

/// The visible selector and the hidden descriptor cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Segment {
    pub selector: u16,
    pub base: u32,
    pub limit: u32,
    /// Descriptor bits 40..55 (type, S, DPL, P, AVL, D/B, G).
    pub attrs: u16,
    /// False for a null selector: any memory access through it raises #GP(0).
    pub usable: bool,
    /// Usable, writable expand-up data with a 4 GiB limit: no access through it can
    /// fail the limit or type checks, so they are skipped (the Linux segments all are).
    pub open: bool,
}

impl Segment {
    /// A segment register loaded from a descriptor.
    pub fn loaded(selector: u16, d: &Descriptor) -> Self {
        // Type bits: S (0x10) set, code (0x08) clear, expand-down (0x04) clear,
        // writable (0x02) set.
        let open = d.attrs & 0x1e == 0x12 && d.limit == u32::MAX;
        Segment { selector, base: d.base, limit: d.limit, attrs: d.attrs, usable: true, open }
    }

    /// The limit and type checks of a data access of `len` bytes at `offset` (SDM
    /// Vol. 3A §5.3 "Limit Checking", §5.4 "Type Checking"): no writes to code or
    /// read-only data, no reads of execute-only code; an expand-up segment allows
    /// offsets 0..=limit, an expand-down one limit+1..=0xFFFF or 0xFFFFFFFF (its B
    /// bit). A violation is #SS(0) through SS, #GP(0) otherwise.
    #[cold]
    #[inline(never)]
    pub fn check(&self, stack: bool, offset: u32, len: u32, write: bool) -> Result<(), Exception> {
        let fault = if stack { Exception::StackFault(0) } else { Exception::GeneralProtection(0) };
        if !self.usable {
            return Err(Exception::GeneralProtection(0));
        }
        let ty = self.attrs & 0xf;
        let code = ty & 0x8 != 0;
        // Bit 1 is "readable" for code, "writable" for data; code is never writable.
        let refused = if code { write || ty & 0x2 == 0 } else { write && ty & 0x2 == 0 };
        if refused {
            return Err(Exception::GeneralProtection(0));
        }
        let last = offset.checked_add(len.max(1) - 1);
        let ok = if !code && ty & 0x4 != 0 {
            let upper = if self.attrs & 0x4000 != 0 { u32::MAX } else { 0xffff };
            offset > self.limit && last.is_some_and(|l| l <= upper)
        } else {
            self.limit == u32::MAX || last.is_some_and(|l| l <= self.limit)
        };
        if ok {
            Ok(())
        } else {
            Err(fault)
        }
    }
}

/// Fields of an 8-byte segment descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Descriptor {
    pub base: u32,
    /// Limit in bytes (granularity applied).
    pub limit: u32,
    pub attrs: u16,
}

impl Descriptor {
    pub fn decode(raw: u64) -> Self {
        let lo = raw as u32;
        let hi = (raw >> 32) as u32;
        let base = (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff00_0000);
        let mut limit = (lo & 0xffff) | (hi & 0x000f_0000);
        if hi & (1 << 23) != 0 {
            limit = (limit << 12) | 0xfff;
        }
        Self { base, limit, attrs: ((hi >> 8) & 0xf0ff) as u16 }
    }

    /// Builds the raw descriptor (used by the kernel for set_thread_area).
    pub fn encode(base: u32, limit_raw: u32, attrs: u16) -> u64 {
        let lo = (limit_raw & 0xffff) | (base << 16);
        let hi = ((base >> 16) & 0xff)
            | (u32::from(attrs) & 0xf0ff) << 8
            | (limit_raw & 0x000f_0000)
            | (base & 0xff00_0000);
        u64::from(lo) | (u64::from(hi) << 32)
    }

    pub fn present(&self) -> bool {
        self.attrs & 0x80 != 0
    }
    pub fn dpl(&self) -> u16 {
        (self.attrs >> 5) & 3
    }
    /// S=1: code or data (not a system descriptor).
    pub fn is_code_or_data(&self) -> bool {
        self.attrs & 0x10 != 0
    }
    pub fn is_code(&self) -> bool {
        self.attrs & 0x08 != 0
    }
    /// Data: writable; code: readable.
    pub fn rw(&self) -> bool {
        self.attrs & 0x02 != 0
    }
}

impl Cpu {
    /// Reads the descriptor a selector names, or #GP(selector) if it is outside its
    /// table.
    pub fn descriptor(&self, selector: u16) -> Result<Descriptor, Exception> {
        let idx = usize::from(selector >> 3);
        let table = if selector & 4 != 0 { &self.ldt } else { &self.gdt };
        table.get(idx).map(|&raw| Descriptor::decode(raw)).ok_or(Exception::GeneralProtection(selector & !3))
    }

    /// MOV/POP to a data segment register at CPL 3 (SDM Vol. 2, MOV "Protected Mode
    /// Exceptions"). CS cannot be loaded this way.
    pub fn load_segment(&mut self, sreg: SegReg, selector: u16) -> Result<(), Exception> {
        let err = Exception::GeneralProtection(selector & !3);
        if selector & !3 == 0 && selector & 4 == 0 {
            // Null selector: allowed for DS/ES/FS/GS, not for SS.
            if sreg == SegReg::Ss {
                return Err(Exception::GeneralProtection(0));
            }
            self.segs[sreg as usize] = Segment { selector, ..Segment::default() };
            self.check_flat_segments();
            return Ok(());
        }
        let d = self.descriptor(selector)?;
        let rpl = selector & 3;
        let cpl = 3;
        if !d.is_code_or_data() {
            return Err(err);
        }
        if sreg == SegReg::Ss {
            if rpl != cpl || d.dpl() != cpl || d.is_code() || !d.rw() {
                return Err(err);
            }
            if !d.present() {
                return Err(Exception::StackFault(selector & !3));
            }
        } else {
            // Data, or readable code; for non-conforming ones DPL >= max(CPL, RPL).
            if d.is_code() && !d.rw() {
                return Err(err);
            }
            let conforming = d.is_code() && d.attrs & 0x04 != 0;
            if !conforming && d.dpl() < cpl.max(rpl) {
                return Err(err);
            }
            if !d.present() {
                return Err(Exception::GeneralProtection(selector & !3)); // #NP in hardware
            }
        }
        self.segs[sreg as usize] = Segment::loaded(selector, &d);
        if sreg == SegReg::Cs {
            // EIPs now map to other linear addresses: block links are stale.
            self.new_code_epoch();
        }
        self.check_flat_segments();
        Ok(())
    }

    /// Whether DS, ES and SS are open (no limit or type check can fail) with base 0,
    /// as in the Linux flat model.
    fn data_segments_flat(&self) -> bool {
        [SegReg::Ds, SegReg::Es, SegReg::Ss].iter().all(|&s| {
            let g = &self.segs[s as usize];
            g.open && g.base == 0
        })
    }

    /// After DS, ES or SS may have changed (a segment load, or the kernel between two
    /// runs): decoded blocks lowered for the other case are dropped before another
    /// block runs, and links die at once (`uop::FLAT`).
    pub(crate) fn check_flat_segments(&mut self) {
        let flat = self.data_segments_flat();
        if flat != self.flat_data {
            self.flat_data = flat;
            self.flush_blocks = true;
            self.new_code_epoch();
        }
    }

    /// Loads CS without checks: used by the kernel at exec and signal return.
    pub fn force_cs(&mut self, selector: u16) {
        let d = self.descriptor(selector).unwrap_or(Descriptor { base: 0, limit: u32::MAX, attrs: 0xcfb });
        self.segs[SegReg::Cs as usize] = Segment::loaded(selector, &d);
        self.new_code_epoch();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_round_trip() {
        let raw = Descriptor::encode(0x1234_5678, 0xfffff, 0xc0f3);
        let d = Descriptor::decode(raw);
        assert_eq!(d.base, 0x1234_5678);
        assert_eq!(d.limit, 0xffff_ffff);
        assert_eq!(d.attrs, 0xc0f3);
        // The classic flat user data descriptor.
        assert_eq!(Descriptor::encode(0, 0xfffff, 0xc0f2 | 0x0001), 0x00cf_f300_0000_ffff);
    }
}
