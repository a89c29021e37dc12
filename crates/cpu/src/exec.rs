//! The executor: find the decoded block for EIP (through the previous block's link
//! when it has one), run its micro-ops, stop on an exception or when the budget runs
//! out.
//!
//! EIP and the instruction count are committed once per block, and exactly at every
//! exit: a fault leaves EIP at the faulting instruction and counts the ones before
//! it; a trap moves EIP past its instruction and counts it; a budget that ends inside
//! a block runs only that block's first micro-ops (so `step` retires exactly one).
//! Handlers therefore never read `cpu.eip` or `cpu.icount` (RDTSC, which reads the
//! count, starts a block of its own; see `reads_icount`).

use growsdown_decoder::{
    decode_one_in, ends_block, DecodeError, Instruction, Mnemonic, Stream, MAX_INSN_LEN,
};
use iced_x86::Register;

use crate::blocks::Blocks;
use crate::exception::{Exception, Exit};
use crate::flags::TF;
use crate::liveness;
use crate::mmu::{AccessKind, PAGE_SIZE};
use crate::ops::control::{continue_through, fuse, fuse_side_exit, side_exit};
use crate::seg::SegReg;
use crate::state::Cpu;
use crate::table::lower;
use crate::uop::{Uop, FUSED};

/// Longest block we build; keeps SMC latency and the build cost bounded.
const MAX_BLOCK: usize = 64;

/// Conditional branches a block continues past (side exits, `build_block`). Each
/// one decodes the code after it, which runs only when the branch is not taken:
/// callgrind, side exits allowed at 1 / 2 / 3 / 4 / any: `cpubench 3` 203.7 /
/// 205.0 / 201.0 / 201.4 / 203.7 M host instructions, `sqlite-demo 300` (mostly
/// decoding) 366.4 / 368.3 / 371.0 / 374.0 / 385.7 M, `zlib-demo 65536` 2.59 G at 1,
/// 2.46 G at 3.
const MAX_SIDE_EXITS: u32 = 3;

/// Instructions whose result depends on the instruction count. They start a block
/// (so the count is committed when they run) and end it.
fn reads_icount(insn: &Instruction) -> bool {
    matches!(insn.mnemonic(), Mnemonic::Rdtsc | Mnemonic::Rdtscp | Mnemonic::Rdpmc)
}

/// Instructions that load DS, ES or SS end their block: the micro-ops after them may
/// have been lowered for flat segments (`uop::FLAT`), which the load may have ended.
fn loads_data_segment(insn: &Instruction) -> bool {
    match insn.mnemonic() {
        Mnemonic::Lds | Mnemonic::Les | Mnemonic::Lss => true,
        Mnemonic::Mov | Mnemonic::Pop => {
            matches!(insn.op0_register(), Register::DS | Register::ES | Register::SS)
        }
        _ => false,
    }
}

/// Makes `p` (a CMP or TEST) the fused micro-op `h` of it and the Jcc `jcc` after it.
fn fuse_into(p: &mut Uop, h: crate::uop::Handler, jcc: &Uop) {
    p.alt = p.exec;
    p.exec = h;
    p.imm2 = jcc.imm2;
    p.cc = jcc.cc;
    p.flags |= FUSED;
}

/// Instructions of its block retired before micro-op `u` runs.
#[inline]
fn before(u: &Uop) -> u64 {
    u64::from(u.upto) - 1 - u64::from(u.flags & FUSED != 0)
}

impl Cpu {
    /// Runs until an exception or interrupt, or until `budget` more instructions have
    /// retired.
    pub fn run(&mut self, budget: u64) -> Exit {
        // Links and the jump cache map an EIP to a block without translating it.
        // Between two runs the kernel may have changed what an EIP fetches: a
        // mapping (munmap, mprotect, exec, COW, swap-out, another process), which it
        // always follows with an INVLPG or a CR3 load as 2.4 does (`flush_tlb_page`,
        // `flush_tlb_mm`, `switch_mm`), or CS; a write to a code frame is queued by
        // `PhysMem` and moves the epoch before the next block runs. So the epoch moves
        // here only if the TLB was flushed or CS changed: most kernel entries (page
        // faults that map a page, most system calls) keep the links.
        let cs = &self.segs[SegReg::Cs as usize];
        let under = (self.mmu.tlb().remaps, cs.base, cs.limit, cs.attrs, cs.usable);
        if under != self.links_made_under {
            self.links_made_under = under;
            self.new_code_epoch();
        }
        // The kernel may have loaded other segments.
        self.check_flat_segments();
        // Taken out so handlers can borrow the CPU mutably while a block is borrowed
        // (this runs at every kernel entry: one pointer moved). Never missing here:
        // only `run` takes it, and puts it back before returning.
        let mut code = self.code.take().unwrap_or_default();
        self.mmu.trap_code_stores = true;
        let end = self.icount.saturating_add(budget);
        let exit = loop {
            let left = end - self.icount;
            let exit = if self.flags.get() & TF != 0 {
                self.run_single_steps(&mut code, left)
            } else {
                self.run_blocks(&mut code, left)
            };
            match exit {
                // POPF or IRET set TF: single-step from the next instruction on.
                Exit::Exception(Exception::TrapFlagSet) if self.icount < end => continue,
                Exit::Exception(Exception::TrapFlagSet) => break Exit::Budget,
                exit => break exit,
            }
        };
        self.mmu.trap_code_stores = false;
        self.code = Some(code);
        exit
    }

    /// Executes exactly one instruction (difftest, single-stepping).
    pub fn step(&mut self) -> Exit {
        self.run(1)
    }

    /// EFLAGS.TF is set: runs one instruction and reports the single-step trap after
    /// it (SDM Vol. 3A §18.3.1.4), unless it faulted or trapped itself (a fault has
    /// priority and the instruction did not complete; INT n, INT3 and INTO report
    /// their own trap). After MOV SS or POP SS the next instruction runs too before
    /// the trap (§6.8.3). Blocks are not the unit here, so TF costs nothing when clear.
    #[cold]
    #[inline(never)]
    fn run_single_steps(&mut self, code: &mut Blocks, budget: u64) -> Exit {
        for _ in 0..budget {
            self.ss_shadow = false;
            match self.run_blocks(code, 1) {
                Exit::Budget | Exit::Exception(Exception::TrapFlagSet) => {}
                other => {
                    self.shadow_pending = false;
                    return other;
                }
            }
            // The trap after a MOV SS waits for the next instruction, even if the
            // budget ends between the two (`step` runs one instruction at a time); a
            // MOV SS in the shadow extends it again, as on the host (AMD Zen).
            if self.ss_shadow {
                self.shadow_pending = true;
                continue;
            }
            self.shadow_pending = false;
            return Exit::Exception(Exception::SingleStep);
        }
        Exit::Budget
    }

    fn run_blocks(&mut self, code: &mut Blocks, budget: u64) -> Exit {
        let end = self.icount.saturating_add(budget);
        'fetch: while self.icount < end {
            if self.mmu.phys().has_dirty_code() {
                self.drop_dirty_code(code);
            }
            if self.flush_blocks {
                self.flush_blocks = false;
                code.clear();
            }
            let mut id = match self.fetch_block(code) {
                Ok(id) => id,
                Err(e) => return Exit::Exception(e),
            };
            if self.store_into_code {
                match self.run_store_into_code(code, id) {
                    Ok(()) => continue 'fetch,
                    Err(exit) => return exit,
                }
            }
            // From here on, block to block through links; back to 'fetch only after
            // a block cut short (budget, a store into code) or a link miss. What is
            // left of the budget is counted down here, and `icount` set from it
            // where the chain stops.
            let mut left = end - self.icount;
            loop {
                // The chain of linked blocks only reads the arena: its slice stays in
                // registers, and a link is followed straight from the block in hand.
                let blocks = code.arena();
                let (from, slot, eip) = loop {
                    // SAFETY: `id` came from a fetch (an index of the arena) or from
                    // a link of a block of this arena, and every id a link holds
                    // indexes it (`Blocks::blocks`: checked when linked, and the
                    // arena never shrinks).
                    let block = unsafe { blocks.get_unchecked(id as usize) };
                    if u64::from(block.insns) <= left {
                        self.next_eip = block.end_eip;
                        // The block ends where a micro-op stops the loop: its
                        // terminator, a conditional branch taken in the middle (a side
                        // exit), or an exception. Through either of the first two, the
                        // micro-op and those before it retired, and `next_eip` is
                        // where to go on.
                        let (u, e) = self.run_uops(&block.uops);
                        if !e.is_side_exit() {
                            self.icount = end - left;
                            match self.stopped(u, e) {
                                Some(exit) => return exit,
                                None => continue 'fetch,
                            }
                        }
                        left -= u64::from(u.upto);
                    } else {
                        self.icount = end - left;
                        match self.run_partial(code, id, left) {
                            // Left through a side exit before the budget ran out: on
                            // through the links.
                            Ok(true) => left = end - self.icount,
                            Ok(false) => continue 'fetch,
                            Err(exit) => return exit,
                        }
                    }
                    // EIP and the count are committed only where the chain stops: no
                    // handler reads them (see the module note), and every exit below
                    // sets them (the count as what is left of the budget).
                    let eip = self.next_eip;
                    if left == 0 {
                        self.icount = end;
                        self.eip = eip;
                        return Exit::Budget;
                    }
                    if let Some(next) = block.follow(eip, self.code_epoch) {
                        self.blocks_linked += 1;
                        id = next;
                        continue;
                    }
                    self.icount = end - left;
                    self.eip = eip;
                    // The id from the block itself: one value fewer kept across the
                    // micro-op loop.
                    break (block.id, usize::from(eip != block.end_eip), eip);
                };
                // DS, ES or SS changed: no block lowered before may run.
                if self.flush_blocks {
                    continue 'fetch;
                }
                id = match self.fetch_block(code) {
                    Ok(next) => {
                        code.link(from, slot, eip, next, self.code_epoch);
                        next
                    }
                    Err(e) => return Exit::Exception(e),
                };
            }
        }
        Exit::Budget
    }

    /// Runs a block's micro-ops in order until one returns `Err`: the terminator that
    /// ends every block, a side exit taken, or an exception. Returns that micro-op
    /// and what it returned.
    ///
    /// Nothing here looks for self-modifying code: while blocks run, a store that
    /// would change a frame holding decoded code is refused before it writes anything
    /// (`Mmu::trap_code_stores`), like a page fault, and [`Cpu::stopped`] has the
    /// instruction rerun alone, with the store let through, before any other
    /// decoded instruction runs.
    #[inline(always)]
    fn run_uops<'a>(&mut self, uops: &'a [Uop]) -> (&'a Uop, Exception) {
        // A cursor alone, with no count or end to compare: the terminator stops the
        // loop (one host instruction fewer a micro-op, and no test for an empty
        // block).
        let mut u = uops.as_ptr();
        macro_rules! step {
            () => {{
                // SAFETY: `u` points into `uops`: it starts at the first micro-op,
                // and moves on only past one that returned `Ok`, which is never the
                // last: every block's micro-ops end with a terminator
                // (`Blocks::insert`, the only way a block with micro-ops is made; the
                // arena's empty slots hold a terminator alone, `Block::empty`), whose
                // handler returns `Err` whatever the state. So there is a first
                // micro-op, and a next one.
                let uop = unsafe { &*u };
                if let Err(e) = (uop.exec)(self, uop) {
                    return (uop, e);
                }
                // SAFETY: as above: `uop` was not the last, so `u + 1` is in `uops`.
                u = unsafe { u.add(1) };
            }};
        }
        // Four call sites, one for each position modulo 4 in the block, for the
        // host's branch predictor to tell apart (this VM exposes no counters to show
        // mispredictions; wall time, medians of 7 interleaved runs on a quiet
        // machine: lua-demo 0.42 -> 0.40 s, busybox's pipeline 0.47 -> 0.45 s,
        // cpubench 100 0.57 -> 0.56 s; eight sites did no better).
        loop {
            step!();
            step!();
            step!();
            step!();
        }
    }

    /// Commits a block that [`Cpu::run_uops`] stopped at micro-op `u`: the exception's
    /// exit (`Some`), or, for a store refused because it would change decoded code,
    /// everything before `u` (`None`: fetch again, and run `u`'s instruction alone).
    #[cold]
    #[inline(never)]
    fn stopped(&mut self, u: &Uop, e: Exception) -> Option<Exit> {
        let exit = self.exit_at(u, e);
        if e.is_store_into_code() {
            self.store_into_code = true;
            return None;
        }
        Some(exit)
    }

    /// Self-modifying code: the instruction at EIP (the first of block `id`) had a
    /// store refused because it would change a frame holding decoded code. Runs it
    /// alone with such stores let through; they queue the frame, so the next fetch
    /// drops its blocks (the running one included) and the next instruction is
    /// decoded afresh: a store takes effect at the very next instruction, as on the
    /// processor (SDM Vol. 3A §8.1.3).
    #[cold]
    #[inline(never)]
    fn run_store_into_code(&mut self, code: &Blocks, id: u32) -> Result<(), Exit> {
        self.store_into_code = false;
        let block = code.block(id);
        let u = &block.uops[0];
        // Where the instruction continues unless it branches: the next micro-op's EIP
        // (after a JMP or CALL the block continued through, its target).
        self.next_eip = block.uops.get(1).map_or(block.end_eip, |n| n.eip);
        self.mmu.trap_code_stores = false;
        let r = (u.exact())(self, u);
        self.mmu.trap_code_stores = true;
        match r {
            Err(e) if e.is_side_exit() => {}
            Err(e) => return Err(self.exit_at(u, e)),
            Ok(()) => {}
        }
        self.icount += 1 + u64::from(u.flags & FUSED != 0);
        self.eip = self.next_eip;
        Ok(())
    }

    /// Runs the part of block `id` that `left` (fewer than the block's instructions)
    /// allows: its micro-ops while their instructions fit, and, when the budget ends
    /// inside a fused compare-and-branch, the compare alone (`Uop::alt`). A side exit
    /// taken before that ends it too (`Ok(true)`: EIP and `next_eip` are its
    /// target). `Err` carries an exception exit.
    #[cold]
    #[inline(never)]
    fn run_partial(&mut self, code: &Blocks, id: u32, left: u64) -> Result<bool, Exit> {
        let block = code.block(id);
        self.next_eip = block.end_eip;
        for u in block.body() {
            if u64::from(u.upto) <= left {
                match (u.exact())(self, u) {
                    Ok(()) => continue,
                    Err(e) if e.is_side_exit() => {
                        self.icount += u64::from(u.upto);
                        self.eip = self.next_eip;
                        return Ok(true);
                    }
                    Err(e) => return self.partial_exit(u, e).map(|()| false),
                }
            }
            let before = before(u);
            if before < left {
                // Inside a fused pair: the compare alone.
                if let Err(e) = (u.alt)(self, u) {
                    return self.partial_exit(u, e).map(|()| false);
                }
                self.icount += before + 1;
                self.eip = u.next_ip32();
            } else {
                self.icount += before;
                self.eip = u.eip;
            }
            return Ok(false);
        }
        // Not reached (the block retires more than `left`), but complete all the same.
        self.icount += u64::from(block.insns);
        self.eip = self.next_eip;
        Ok(false)
    }

    /// [`Cpu::exit_at`] for [`Cpu::run_partial`], where a store refused because it
    /// would change decoded code is not an exit either (see [`Cpu::stopped`]).
    fn partial_exit(&mut self, u: &Uop, e: Exception) -> Result<(), Exit> {
        let exit = self.exit_at(u, e);
        if e.is_store_into_code() {
            self.store_into_code = true;
            return Ok(());
        }
        Err(exit)
    }

    /// Commits EIP and the count for an exception raised by micro-op `u` of the
    /// running block: a fault restarts the instruction, a trap has retired it.
    #[cold]
    fn exit_at(&mut self, u: &Uop, e: Exception) -> Exit {
        if e.is_trap() {
            self.eip = u.next_ip32();
            self.icount += before(u) + 1;
        } else {
            self.eip = u.eip;
            self.icount += before(u);
        }
        Exit::Exception(e)
    }

    /// Moves the link epoch on: every link made before dies.
    #[inline]
    pub(crate) fn new_code_epoch(&mut self) {
        self.code_epoch = self.code_epoch.wrapping_add(1);
    }

    fn drop_dirty_code(&mut self, code: &mut Blocks) {
        for frame in self.mmu.phys_mut().take_dirty_code() {
            let n = code.invalidate_frame(frame);
            self.blocks_invalidated += n as u64;
            log::trace!(target: "cpu::icache", "write to code frame {frame:#x}: dropped {n} blocks");
        }
        self.new_code_epoch();
    }

    /// Linear address of an instruction fetch at `eip`: CS is a code segment (loads
    /// check it), executable whether readable or not; only its limit is checked
    /// (SDM Vol. 3A §5.3: #GP(0) for an EIP beyond it).
    fn fetch_lin(&self, eip: u32) -> Result<u32, Exception> {
        let cs = &self.segs[SegReg::Cs as usize];
        if !cs.usable || eip > cs.limit {
            return Err(Exception::GeneralProtection(0));
        }
        Ok(cs.base.wrapping_add(eip))
    }

    /// The code segment's default size: 16 when its D bit is clear (SDM Vol. 3A
    /// §3.4.5, "D/B flag").
    pub(crate) fn code_bits(&self) -> u32 {
        if self.segs[SegReg::Cs as usize].attrs & 0x4000 == 0 {
            16
        } else {
            32
        }
    }

    fn fetch_block(&mut self, code: &mut Blocks) -> Result<u32, Exception> {
        // A return or an indirect jump whose link named another target: no
        // translation and no search when this EIP was fetched before in this epoch.
        if let Some(id) = code.jump_find(self.eip, self.code_epoch) {
            self.blocks_hit += 1;
            return Ok(id);
        }
        let id = self.fetch_block_by_address(code)?;
        code.jump_note(self.eip, id, self.code_epoch);
        Ok(id)
    }

    /// [`Cpu::fetch_block`] past the jump cache: the block found by the physical
    /// address of EIP, or built.
    #[inline(never)]
    fn fetch_block_by_address(&mut self, code: &mut Blocks) -> Result<u32, Exception> {
        let lin = self.fetch_lin(self.eip)?;
        let phys = self.mmu.translate(lin, AccessKind::UserRead)?;
        if let Some(id) = code.find(phys, lin) {
            let phys2 = code.block(id).phys2;
            if phys2 == u32::MAX {
                self.blocks_hit += 1;
                return Ok(id);
            }
            // An instruction crossing into the next page: still the same only while
            // that page maps to the same frame (fetching it may fault, as on the
            // hardware, SDM Vol. 3A §6.15).
            let next = self.mmu.translate((lin & !0xfff).wrapping_add(PAGE_SIZE), AccessKind::UserRead)?;
            if next == phys2 {
                self.blocks_hit += 1;
                return Ok(id);
            }
            code.remove(id);
            // Links into the dropped block must not be followed.
            self.new_code_epoch();
        }
        let id = self.build_block(code, lin, phys)?;
        if code.bytes() > self.decoded_limit {
            self.flush_blocks = true;
        }
        Ok(id)
    }

    /// Decodes and lowers from `phys` up to the end of its page, continuing through a
    /// direct JMP or CALL whose target is in the same page (so the block still lives
    /// in one frame: one code-frame write drops it, and the one translation that found
    /// it covers all of it). An instruction that crosses into the next page is decoded
    /// on its own, after translating the next page (which may fault with CR2 at that
    /// page, SDM Vol. 3A §6.15), and is not cached.
    fn build_block(&mut self, code: &mut Blocks, lin: u32, phys: u32) -> Result<u32, Exception> {
        let bytes = self.in_page(phys);
        let bits = self.code_bits();
        let mut stream = Stream::new_in(bits, bytes, self.eip);
        let mut uops = std::mem::take(&mut code.scratch);
        uops.clear();
        // What each micro-op does with the flags, for `liveness` (by position).
        let mut uses = [liveness::FlagUse::NEUTRAL; MAX_BLOCK];
        let mut ip = self.eip;
        let mut known = 0;
        let mut exits = 0;
        while uops.len() < MAX_BLOCK && stream.has_more() {
            match stream.next_insn() {
                Ok(insn) => {
                    let counts = reads_icount(&insn);
                    if counts && !uops.is_empty() {
                        break;
                    }
                    let stop = ends_block(&insn) || counts || loads_data_segment(&insn);
                    ip = insn.next_ip32();
                    let (mut u, left) = lower(&insn, known, self.flat_data);
                    // A conditional branch whose fall-through is in the same page: the
                    // block goes on past it, and it ends the block only when taken
                    // (a side exit, which commits the count from `Uop::upto`). Fused
                    // with a CMP/TEST before it as at the end of a block. The lazy
                    // flags stay as the Jcc found them (`known` is kept).
                    if uops.len() + 2 < MAX_BLOCK && stream.has_more() && exits < MAX_SIDE_EXITS {
                        if let Some(h) = side_exit(&u) {
                            exits += 1;
                            match uops.last_mut().and_then(|p| fuse_side_exit(p, &u).map(|f| (p, f))) {
                                Some((p, f)) => fuse_into(p, f, &u),
                                None => {
                                    u.exec = h;
                                    u.alt = h;
                                    uses[uops.len()] = liveness::flag_use(&insn);
                                    uops.push(u);
                                }
                            }
                            continue;
                        }
                    }
                    known = left;
                    let flag_use = liveness::flag_use(&insn);
                    if let Some((within, target)) = continue_through(&u) {
                        // The target's linear address, as CS maps EIPs (the block's
                        // start gives the segment base).
                        let target_lin = lin.wrapping_add(target.wrapping_sub(self.eip));
                        if target_lin >> 12 == lin >> 12 {
                            u.exec = within;
                            u.alt = within;
                            uses[uops.len()] = flag_use;
                            uops.push(u);
                            ip = target;
                            stream = Stream::new_in(
                                bits,
                                self.in_page((phys & !0xfff) | (target_lin & 0xfff)),
                                target,
                            );
                            continue;
                        }
                    }
                    // A CMP/TEST of registers and the Jcc after it become one micro-op.
                    match uops.last_mut().filter(|_| stop).and_then(|p| fuse(p, &u).map(|h| (p, h))) {
                        Some((p, h)) => fuse_into(p, h, &u),
                        None => {
                            uses[uops.len()] = flag_use;
                            uops.push(u);
                        }
                    }
                    if stop {
                        break;
                    }
                }
                Err(DecodeError::NeedMoreBytes) if uops.is_empty() => {
                    let first = bytes.to_vec();
                    return self.decode_page_crossing(code, lin, &first);
                }
                Err(DecodeError::Invalid) if uops.is_empty() => return Err(Exception::InvalidOpcode),
                Err(_) => break,
            }
        }
        let n = uops.len();
        liveness::skip_dead_flags(&mut uops, &uses[..n]);
        if uops.is_empty() {
            // Only when the frame lies beyond RAM: the bus reads all-ones there,
            // which do not decode (0xFF 0xFF).
            return Err(Exception::InvalidOpcode);
        }
        self.blocks_built += 1;
        self.mmu.mark_code_frame(phys >> 12);
        let id = code.insert(phys, lin, ip, &uops);
        code.scratch = uops;
        Ok(id)
    }

    /// The bytes from `phys` to the end of its page, at most what a block can use.
    fn in_page(&self, phys: u32) -> &[u8] {
        let len = ((PAGE_SIZE - (phys & 0xfff)) as usize).min(MAX_BLOCK * MAX_INSN_LEN);
        self.mmu.phys().slice(phys, len)
    }

    fn decode_page_crossing(&mut self, code: &mut Blocks, lin: u32, first: &[u8]) -> Result<u32, Exception> {
        let next_lin = (lin & !0xfff).wrapping_add(PAGE_SIZE);
        let next_phys = self.mmu.translate(next_lin, AccessKind::UserRead)?;
        let mut buf = first.to_vec();
        let need = MAX_INSN_LEN.saturating_sub(buf.len());
        buf.extend_from_slice(self.mmu.phys().slice(next_phys, need));
        match decode_one_in(self.code_bits(), &buf, self.eip) {
            Ok(insn) => {
                let (u, _) = lower(&insn, 0, self.flat_data);
                let phys = self.mmu.translate(lin, AccessKind::UserRead)?;
                self.blocks_built += 1;
                self.mmu.mark_code_frame(phys >> 12);
                self.mmu.mark_code_frame(next_phys >> 12);
                Ok(code.insert_crossing(phys, next_phys, lin, insn.next_ip32(), u))
            }
            Err(_) => Err(Exception::InvalidOpcode),
        }
    }
}
