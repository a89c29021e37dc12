//! Decoded blocks: straight-line runs of micro-ops, held in an index-based arena and
//! linked to their successors.
//!
//! A block is found by the **physical** address of its first byte and the linear
//! address it was decoded at (docs/prior-art.md §7.5: physical keying survives CR3
//! switches; the linear address must match too because branch targets and EIPs in
//! the micro-ops are linear). Lookup is a direct-mapped set of chains, no hashing
//! beyond folding the address; the executor rarely needs it, because each block
//! remembers the two blocks that last followed it (both edges of a conditional
//! branch, or the last target of an indirect one) and jumps there directly.
//!
//! A block's links are valid for one link epoch (`Cpu::code_epoch`), recorded once
//! per block (so following a link is one epoch compare and one EIP compare, with no
//! slot to work out first); the epoch moves on at every
//! `Cpu::run` (the kernel may have remapped code between runs: munmap, mprotect,
//! exec, a CR3 load, INVLPG), whenever a code frame is written (its blocks are
//! dropped), and when CS is loaded (the EIP → linear mapping changed). Within one
//! run at CPL 3 nothing else can change what an EIP fetches.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::uop::{Uop, FUSED};

/// Block id 0 is reserved and never holds a block, so it can stand for "none" in
/// links (`link` ignores it).
pub(crate) const RESERVED: u32 = 0;
const NONE: u32 = u32::MAX;
/// Sets in the direct-mapped lookup table.
const SETS: usize = 1 << 14;
/// Entries in the jump cache ([`Blocks::jump_find`]).
const JUMPS: usize = 1 << 12;

#[derive(Clone, Copy)]
pub(crate) struct Link {
    pub eip: u32,
    pub id: u32,
    /// 64 bits, so an epoch never comes round again; `NO_LINK`'s is never reached.
    pub epoch: u64,
}

/// Names the scratch slot, as [`NO_NEXT`] does.
const NO_LINK: Link = Link { eip: 0, id: RESERVED, epoch: u64::MAX };
/// Names the scratch slot, which always exists, so that even a link read in an
/// epoch it was never made in indexes the arena (see [`Blocks::blocks`]).
const NO_NEXT: Next = Next { eip: 0, id: RESERVED };

/// A successor of a block: valid in the block's [`Block::link_epoch`].
#[derive(Clone, Copy)]
pub(crate) struct Next {
    pub eip: u32,
    pub id: u32,
}

pub(crate) struct Block {
    pub phys: u32,
    /// For a one-instruction block whose instruction crosses into the next page, the
    /// physical address of that page; NONE otherwise. Such a block is dropped when
    /// either frame is written, and found only while the next page still maps there.
    pub phys2: u32,
    pub lin: u32,
    /// EIP after the last micro-op: where a block that does not branch continues.
    pub end_eip: u32,
    /// The micro-ops, and after them a terminator (`Uop::terminator`) that returns
    /// `Err` so that the executor's loop need not count them.
    pub uops: Box<[Uop]>,
    /// Instructions the block retires when it runs to the end: one per micro-op, two
    /// for a fused compare-and-branch (at the end, or a side exit in the middle).
    pub insns: u32,
    /// `[fall-through, taken]` successors, valid in link epoch `link_epoch` only. An
    /// entry not set in that epoch repeats the other one (`Blocks::link`), so both
    /// always name a real block once the epoch matches. Private: only
    /// [`Blocks::link`] writes them, with ids it has checked (see [`Blocks::blocks`]).
    links: [Next; 2],
    /// 64 bits, so an epoch never comes round again; a new block's is never reached.
    pub link_epoch: u64,
    /// Next block in the same lookup set, or NONE.
    chain: u32,
    /// This block's own id (its index in the arena), so that the executor need not
    /// keep the id beside the block across the micro-op loop.
    pub id: u32,
    live: bool,
}

impl Block {
    /// The micro-ops without the terminator.
    pub fn body(&self) -> &[Uop] {
        &self.uops[..self.uops.len().saturating_sub(1)]
    }

    /// The successor recorded for `eip`, if still valid in link epoch `epoch`.
    #[inline(always)]
    pub fn follow(&self, eip: u32, epoch: u64) -> Option<u32> {
        if self.link_epoch != epoch {
            return None;
        }
        let [a, b] = self.links;
        if a.eip == eip {
            Some(a.id)
        } else if b.eip == eip {
            Some(b.id)
        } else {
            None
        }
    }

    fn empty() -> Self {
        Self {
            phys: u32::MAX,
            phys2: NONE,
            lin: 0,
            end_eip: 0,
            // A terminator even here, so that every slot of the arena, live or not,
            // ends in one (what `Cpu::run_uops` relies on; a dropped or scratch slot
            // is never reached through a live link).
            uops: Box::new([Uop::terminator(0, 0)]),
            insns: 0,
            links: [NO_NEXT; 2],
            link_epoch: u64::MAX,
            chain: NONE,
            id: RESERVED,
            live: false,
        }
    }
}

pub(crate) struct Blocks {
    /// The arena. It never shrinks (a dropped block's slot is reused, and `clear`
    /// replaces the whole store, links and jump cache with it), and every id a link
    /// or the jump cache holds was checked against its length when it was recorded
    /// (or is the scratch slot 0), so each names a slot of it: the executor follows
    /// them with no bounds check ([`Blocks::arena`]). Private, so that nothing else
    /// can shrink it.
    blocks: Vec<Block>,
    free: Vec<u32>,
    sets: Box<[u32]>,
    /// The block last fetched at each EIP (direct-mapped by EIP), valid for one link
    /// epoch like a link: where a block's link names another successor (a return, a
    /// switch's indirect jump, a call through a pointer), the executor finds the new
    /// one here before translating EIP and searching by physical address. Sound for
    /// the same reason links are: within an epoch nothing changes what an EIP fetches.
    jumps: Box<[Link]>,
    /// Ids of the live blocks starting in each physical frame, for invalidation.
    by_frame: HashMap<u32, Vec<u32>, BuildHasherDefault<FrameHasher>>,
    /// Host bytes the live blocks' micro-ops hold ([`uop_bytes`]); [`Blocks::bytes`]
    /// adds the arena.
    bytes: usize,
    /// The micro-ops of the block being built (`Cpu::build_block`), kept between
    /// builds so that a build grows no vector: [`Blocks::insert`] copies them into
    /// an allocation of the block's own size.
    pub scratch: Vec<Uop>,
}

/// Hashes a frame number for [`Blocks::by_frame`] with one multiply (Fibonacci
/// hashing), where the default SipHash took ~100 host instructions a block build.
/// The keys are frame numbers: nothing to defend against.
#[derive(Default, Clone, Copy)]
pub(crate) struct FrameHasher(u64);

impl Hasher for FrameHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u32(u32::from(b));
        }
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0 ^ u64::from(n)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// What the micro-ops of a block of `uops` cost on the host: their allocation with
/// the allocator's header, and the block's id in `by_frame`.
fn uop_bytes(uops: usize) -> usize {
    uops * std::mem::size_of::<Uop>() + 16 + std::mem::size_of::<u32>()
}

impl Default for Blocks {
    fn default() -> Self {
        let mut scratch = Block::empty();
        scratch.live = true;
        Self {
            blocks: vec![scratch],
            free: Vec::new(),
            sets: vec![NONE; SETS].into_boxed_slice(),
            jumps: vec![NO_LINK; JUMPS].into_boxed_slice(),
            by_frame: HashMap::default(),
            bytes: 0,
            scratch: Vec::new(),
        }
    }
}

#[inline(always)]
fn set_of(phys: u32) -> usize {
    (phys ^ (phys >> 14)) as usize & (SETS - 1)
}

#[inline(always)]
fn jump_of(eip: u32) -> usize {
    (eip ^ (eip >> 12)) as usize & (JUMPS - 1)
}

impl Blocks {
    /// The arena, for the executor's chain of linked blocks: every id a link
    /// ([`Block::follow`]) or a fetch returns indexes it (see [`Blocks::blocks`]).
    #[inline(always)]
    pub fn arena(&self) -> &[Block] {
        &self.blocks
    }

    /// Block `id` (checked).
    #[inline]
    pub fn block(&self, id: u32) -> &Block {
        &self.blocks[id as usize]
    }

    /// The block last fetched at `eip` in link epoch `epoch`, if any ([`Blocks::jumps`]).
    #[inline(always)]
    pub fn jump_find(&self, eip: u32, epoch: u64) -> Option<u32> {
        let l = &self.jumps[jump_of(eip)];
        (l.epoch == epoch && l.eip == eip).then_some(l.id)
    }

    /// Records that `eip` fetched block `id` in link epoch `epoch`.
    #[inline(always)]
    pub fn jump_note(&mut self, eip: u32, id: u32, epoch: u64) {
        // `id` must index the arena: what a fetch returns is followed unchecked.
        if (id as usize) < self.blocks.len() {
            self.jumps[jump_of(eip)] = Link { eip, id, epoch };
        }
    }

    /// The block decoded at linear `lin` from physical `phys`, if cached.
    #[inline]
    pub fn find(&self, phys: u32, lin: u32) -> Option<u32> {
        let mut id = self.sets[set_of(phys)];
        while id != NONE {
            let b = &self.blocks[id as usize];
            if b.phys == phys && b.lin == lin {
                return Some(id);
            }
            id = b.chain;
        }
        None
    }

    /// Records `to` as what follows block `from` at `eip` in link epoch `epoch`, in
    /// `slot` (0 for the fall-through, 1 for a branch taken). The first link of an
    /// epoch fills both slots, so that a stale one is never followed.
    #[inline]
    pub fn link(&mut self, from: u32, slot: usize, eip: u32, to: u32, epoch: u64) {
        // `to` must index the arena: links are followed unchecked.
        if from != RESERVED && to != RESERVED && (to as usize) < self.blocks.len() {
            let b = &mut self.blocks[from as usize];
            let next = Next { eip, id: to };
            if b.link_epoch != epoch {
                b.link_epoch = epoch;
                b.links = [next; 2];
            } else {
                b.links[slot] = next;
            }
        }
    }

    /// Stores a new block; returns its id.
    pub fn insert(&mut self, phys: u32, lin: u32, end_eip: u32, body: &[Uop]) -> u32 {
        let set = set_of(phys);
        // One allocation of the block's size: its micro-ops and the terminator.
        let mut uops = Vec::with_capacity(body.len() + 1);
        uops.extend_from_slice(body);
        let mut insns = 0u32;
        for u in uops.iter_mut() {
            insns += 1 + u32::from(u.flags & FUSED != 0);
            // At most two instructions a micro-op, and `exec::MAX_BLOCK` micro-ops.
            u.upto = insns as u8;
        }
        uops.push(Uop::terminator(end_eip, insns as u8));
        self.bytes += uop_bytes(uops.len());
        let block = Block {
            phys,
            phys2: NONE,
            lin,
            end_eip,
            insns,
            uops: uops.into_boxed_slice(),
            links: [NO_NEXT; 2],
            link_epoch: u64::MAX,
            chain: self.sets[set],
            id: RESERVED,
            live: true,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.blocks[id as usize] = block;
                id
            }
            None => {
                self.blocks.push(block);
                (self.blocks.len() - 1) as u32
            }
        };
        self.blocks[id as usize].id = id;
        self.sets[set] = id;
        self.by_frame.entry(phys >> 12).or_default().push(id);
        id
    }

    /// Stores a block of one instruction that starts at `phys` and continues on the
    /// page at `phys2`: it is dropped when either frame is written.
    pub fn insert_crossing(&mut self, phys: u32, phys2: u32, lin: u32, end_eip: u32, uop: Uop) -> u32 {
        let id = self.insert(phys, lin, end_eip, &[uop]);
        self.blocks[id as usize].phys2 = phys2;
        self.by_frame.entry(phys2 >> 12).or_default().push(id);
        id
    }

    /// Drops block `id` (a page-crossing block whose second page now maps elsewhere).
    pub fn remove(&mut self, id: u32) {
        self.unchain(id);
        self.bytes -= uop_bytes(self.blocks[id as usize].uops.len());
        self.blocks[id as usize] = Block::empty();
        self.free.push(id);
    }

    fn unchain(&mut self, id: u32) {
        let set = set_of(self.blocks[id as usize].phys);
        let mut at = self.sets[set];
        if at == id {
            self.sets[set] = self.blocks[id as usize].chain;
            return;
        }
        while at != NONE {
            let next = self.blocks[at as usize].chain;
            if next == id {
                self.blocks[at as usize].chain = self.blocks[id as usize].chain;
                return;
            }
            at = next;
        }
    }

    /// Drops every block starting in physical frame `frame` (self-modifying code, a
    /// freed or reused frame). Links into them die with the epoch the caller moves on.
    pub fn invalidate_frame(&mut self, frame: u32) -> usize {
        let Some(ids) = self.by_frame.remove(&frame) else { return 0 };
        let mut dropped = 0;
        for id in ids {
            // A page-crossing block is listed under both its frames, and its id may
            // have been dropped through the other one (and even reused) since.
            let b = &self.blocks[id as usize];
            let here = b.phys >> 12 == frame || (b.phys2 != NONE && b.phys2 >> 12 == frame);
            if b.live && here {
                self.remove(id);
                dropped += 1;
            }
        }
        dropped
    }

    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Host bytes held by the decoded blocks: the arena as allocated (it keeps the
    /// slots of dropped blocks for reuse) and the live blocks' micro-ops.
    pub fn bytes(&self) -> usize {
        self.blocks.capacity() * std::mem::size_of::<Block>() + self.bytes
    }

    /// Live cached blocks (the scratch slot excluded).
    pub fn len(&self) -> usize {
        self.blocks.iter().skip(1).filter(|b| b.live).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalidation_drops_only_that_frame_and_reuses_slots() {
        let mut c = Blocks::default();
        let a = c.insert(0x1000, 0x8000, 0, &[]);
        let b = c.insert(0x1800, 0x8800, 0, &[]);
        // Same frame, aliased linear address: a separate block.
        let a2 = c.insert(0x1000, 0x9000, 0, &[]);
        let d = c.insert(0x2000, 0xa000, 0, &[]);
        assert_eq!(c.find(0x1000, 0x9000), Some(a2));
        assert_eq!(c.find(0x1000, 0x8000), Some(a));
        assert_eq!(c.invalidate_frame(1), 3);
        assert_eq!((c.find(0x1000, 0x8000), c.find(0x1800, 0x8800)), (None, None));
        assert_eq!(c.find(0x2000, 0xa000), Some(d));
        assert_eq!(c.invalidate_frame(1), 0);
        assert_eq!(c.len(), 1);
        let e = c.insert(0x3000, 0xb000, 0, &[]);
        assert!([a, b, a2].contains(&e));
        assert_eq!(c.find(0x3000, 0xb000), Some(e));
    }

    #[test]
    fn jump_cache_entries_die_with_their_epoch_and_the_store() {
        let mut c = Blocks::default();
        let a = c.insert(0x1000, 0x1000, 0x1010, &[]);
        c.jump_note(0x1000, a, 7);
        assert_eq!(c.jump_find(0x1000, 7), Some(a));
        assert_eq!(c.jump_find(0x1000, 8), None);
        // Another EIP of the same entry replaces it.
        let other = 0x1000 ^ (JUMPS as u32) << 12;
        c.jump_note(other, RESERVED, 7);
        assert_eq!((c.jump_find(0x1000, 7), c.jump_find(other, 7)), (None, Some(RESERVED)));
        c.jump_note(0x1000, a, 7);
        c.clear();
        assert_eq!(c.jump_find(0x1000, 7), None);
    }

    #[test]
    fn links_die_with_their_epoch() {
        let mut c = Blocks::default();
        let a = c.insert(0x1000, 0x1000, 0x1010, &[]);
        let b = c.insert(0x1010, 0x1010, 0x1020, &[]);
        assert_eq!(c.blocks[a as usize].follow(0, 0), None);
        c.link(a, 0, 0x1010, b, 7);
        assert_eq!(c.blocks[a as usize].follow(0x1010, 7), Some(b));
        assert_eq!(c.blocks[a as usize].follow(0x1010, 8), None);
        assert_eq!(c.blocks[a as usize].follow(0x1014, 7), None);
        // The taken edge beside the fall-through, both followed.
        c.link(a, 1, 0x2000, a, 7);
        assert_eq!(c.blocks[a as usize].follow(0x2000, 7), Some(a));
        assert_eq!(c.blocks[a as usize].follow(0x1010, 7), Some(b));
        // A new epoch's first link drops both old ones.
        c.link(a, 1, 0x3000, b, 8);
        assert_eq!(c.blocks[a as usize].follow(0x3000, 8), Some(b));
        assert_eq!(c.blocks[a as usize].follow(0x1010, 8), None);
        assert_eq!(c.blocks[a as usize].follow(0x2000, 8), None);
        assert_eq!(c.blocks[a as usize].follow(0x3000, 7), None);
        c.link(a, 1, 0x2000, RESERVED, 8);
        assert_eq!(c.blocks[a as usize].follow(0x2000, 8), None);
        c.link(RESERVED, 0, 0x1000, a, 8);
        assert_eq!(c.blocks[RESERVED as usize].follow(0x1000, 8), None);
    }
}
