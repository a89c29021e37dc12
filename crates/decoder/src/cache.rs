//! Decoded-block cache keyed by physical address.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

use iced_x86::Instruction;

/// One decoded instruction and the handler the CPU picked for its `Code`.
#[derive(Clone, Copy)]
pub struct Decoded<H: Copy> {
    pub insn: Instruction,
    pub handler: H,
}

/// Straight-line run of instructions inside one physical page. It ends after a
/// control-flow instruction, a REP-prefixed one, or before an instruction that would
/// cross into the next page (such instructions are decoded each time; they are rare,
/// and caching them would tie a block to two frames).
pub struct Block<H: Copy> {
    /// Physical address of the first byte.
    pub phys: u32,
    /// Linear address it was decoded at. Instruction pointers and branch targets in
    /// `insns` are linear, so a block found by physical address through a different
    /// linear alias must be decoded again.
    pub lin: u32,
    pub insns: Vec<Decoded<H>>,
}

/// Multiplicative hash for page-aligned-ish u32 keys; std's SipHash costs more than
/// the whole lookup is worth here.
#[derive(Default)]
struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.0 = u64::from(v).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 16;
    }
}

type AddrMap<V> = HashMap<u32, V, BuildHasherDefault<AddrHasher>>;

/// Entries in the direct-mapped front of the cache.
const FAST_SETS: usize = 4096;

/// Blocks by physical start address, plus the set of blocks starting in each frame so
/// a write to that frame can drop them all. A small direct-mapped array in front of
/// the map answers most lookups with one index and one compare (a loop runs the same
/// few blocks over and over); the map is the backing store.
pub struct BlockCache<H: Copy> {
    fast: Vec<Option<Rc<Block<H>>>>,
    blocks: AddrMap<Rc<Block<H>>>,
    by_frame: AddrMap<Vec<u32>>,
}

impl<H: Copy> Default for BlockCache<H> {
    fn default() -> Self {
        Self { fast: vec![None; FAST_SETS], blocks: AddrMap::default(), by_frame: AddrMap::default() }
    }
}

#[inline(always)]
fn fast_set(phys: u32) -> usize {
    (phys ^ (phys >> 12)) as usize & (FAST_SETS - 1)
}

impl<H: Copy> BlockCache<H> {
    pub fn new() -> Self {
        Self::default()
    }

    #[inline]
    pub fn get(&mut self, phys: u32) -> Option<Rc<Block<H>>> {
        let set = fast_set(phys);
        if let Some(b) = &self.fast[set] {
            if b.phys == phys {
                return Some(b.clone());
            }
        }
        let b = self.blocks.get(&phys)?.clone();
        self.fast[set] = Some(b.clone());
        Some(b)
    }

    /// Stores a block; returns it shared, ready to run.
    pub fn insert(&mut self, block: Block<H>) -> Rc<Block<H>> {
        let phys = block.phys;
        let rc = Rc::new(block);
        self.by_frame.entry(phys >> 12).or_default().push(phys);
        self.blocks.insert(phys, rc.clone());
        self.fast[fast_set(phys)] = Some(rc.clone());
        rc
    }

    /// Drops every block that starts in physical frame `frame` (self-modifying code,
    /// a freed or reused frame). Returns how many were dropped.
    pub fn invalidate_frame(&mut self, frame: u32) -> usize {
        match self.by_frame.remove(&frame) {
            Some(starts) => {
                for s in &starts {
                    self.blocks.remove(s);
                    let slot = &mut self.fast[fast_set(*s)];
                    if slot.as_ref().is_some_and(|b| b.phys == *s) {
                        *slot = None;
                    }
                }
                starts.len()
            }
            None => 0,
        }
    }

    pub fn clear(&mut self) {
        self.fast.fill(None);
        self.blocks.clear();
        self.by_frame.clear();
    }

    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalidation_drops_only_that_frame() {
        let mut c: BlockCache<u8> = BlockCache::new();
        c.insert(Block { phys: 0x1000, lin: 0, insns: vec![] });
        c.insert(Block { phys: 0x1800, lin: 0, insns: vec![] });
        c.insert(Block { phys: 0x2000, lin: 0, insns: vec![] });
        assert_eq!(c.invalidate_frame(1), 2);
        assert!(c.get(0x1000).is_none());
        assert!(c.get(0x2000).is_some());
        assert_eq!(c.invalidate_frame(1), 0);
    }
}
