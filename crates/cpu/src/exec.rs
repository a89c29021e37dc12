//! The executor: fetch a decoded block for EIP, run its handlers, stop on an exception
//! or when the budget runs out.

use std::rc::Rc;

use growsdown_decoder::{decode_one, ends_block, Block, DecodeError, Decoded, MAX_INSN_LEN};

use crate::exception::{Exception, Exit};
use crate::mmu::{AccessKind, PAGE_SIZE};
use crate::seg::SegReg;
use crate::state::Cpu;
use crate::table::{handler_for, Handler};

/// Longest block we build; keeps the budget check and SMC latency bounded.
const MAX_BLOCK: usize = 64;

impl Cpu {
    /// Runs until an exception or interrupt, or until `budget` more instructions have
    /// retired.
    pub fn run(&mut self, budget: u64) -> Exit {
        let end = self.icount.saturating_add(budget);
        while self.icount < end {
            if self.mmu.phys.has_dirty_code() {
                self.drop_dirty_code();
            }
            let block = match self.fetch_block() {
                Ok(b) => b,
                Err(e) => return Exit::Exception(e),
            };
            for d in block.insns.iter() {
                let fallthrough = d.insn.next_ip32();
                self.next_eip = fallthrough;
                if let Err(e) = (d.handler)(self, &d.insn) {
                    if e.is_trap() {
                        self.eip = self.next_eip;
                        self.icount += 1;
                    }
                    return Exit::Exception(e);
                }
                self.eip = self.next_eip;
                self.icount += 1;
                if self.icount >= end || self.eip != fallthrough || self.mmu.phys.has_dirty_code() {
                    break;
                }
            }
        }
        Exit::Budget
    }

    /// Executes exactly one instruction (difftest, single-stepping).
    pub fn step(&mut self) -> Exit {
        self.run(1)
    }

    fn drop_dirty_code(&mut self) {
        for frame in self.mmu.phys.take_dirty_code() {
            let n = self.icache.invalidate_frame(frame);
            self.blocks_invalidated += n as u64;
            log::trace!(target: "cpu::icache", "write to code frame {frame:#x}: dropped {n} blocks");
        }
    }

    fn fetch_block(&mut self) -> Result<Rc<Block<Handler>>, Exception> {
        let lin = self.linear(SegReg::Cs, self.eip)?;
        let phys = self.mmu.translate(lin, AccessKind::UserRead)?;
        if let Some(b) = self.cached_block(phys, lin) {
            self.blocks_hit += 1;
            return Ok(b);
        }
        self.build_block(lin, phys)
    }

    /// Decodes from `phys` up to the end of its page. An instruction that crosses
    /// into the next page is decoded on its own, after translating the next page (which
    /// may fault with CR2 at that page, SDM Vol. 3A §6.15), and is not cached.
    fn build_block(&mut self, lin: u32, phys: u32) -> Result<Rc<Block<Handler>>, Exception> {
        self.blocks_built += 1;
        let in_page = (PAGE_SIZE - (phys & 0xfff)) as usize;
        let bytes = self.mmu.phys.slice(phys, in_page).to_vec();
        let mut insns = Vec::new();
        let mut off = 0usize;
        let mut ip = self.eip;
        while insns.len() < MAX_BLOCK && off < bytes.len() {
            match decode_one(&bytes[off..], ip) {
                Ok(insn) => {
                    let stop = ends_block(&insn);
                    off += insn.len();
                    ip = insn.next_ip32();
                    insns.push(Decoded { handler: handler_for(insn.code()), insn });
                    if stop {
                        break;
                    }
                }
                Err(DecodeError::NeedMoreBytes) if insns.is_empty() => {
                    return self.decode_page_crossing(lin, &bytes);
                }
                Err(DecodeError::Invalid) if insns.is_empty() => return Err(Exception::InvalidOpcode),
                Err(_) => break,
            }
        }
        self.mmu.mark_code_frame(phys >> 12);
        Ok(self.icache.insert(Block { phys, lin, insns }))
    }

    fn decode_page_crossing(&mut self, lin: u32, first: &[u8]) -> Result<Rc<Block<Handler>>, Exception> {
        let next_lin = (lin & !0xfff).wrapping_add(PAGE_SIZE);
        let next_phys = self.mmu.translate(next_lin, AccessKind::UserRead)?;
        let mut buf = first.to_vec();
        let need = MAX_INSN_LEN.saturating_sub(buf.len());
        buf.extend_from_slice(self.mmu.phys.slice(next_phys, need));
        match decode_one(&buf, self.eip) {
            Ok(insn) => Ok(Rc::new(Block {
                phys: u32::MAX,
                lin,
                insns: vec![Decoded { handler: handler_for(insn.code()), insn }],
            })),
            Err(_) => Err(Exception::InvalidOpcode),
        }
    }
}
