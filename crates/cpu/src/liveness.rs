//! Flag liveness: which instructions of a block may skip computing the arithmetic
//! flags, because no one can see them before a later instruction overwrites them.
//!
//! Most flag writers record their operands lazily ([`crate::flags`]) and cost a few
//! stores whether or not the flags are read. Two- and three-operand IMUL costs more:
//! it writes CF and OF and keeps the other four, so it first folds whatever the lazy
//! state held. It and SHL/SHR/SAR (four stores for their lazy record) are the ones
//! skipped here: compilers emit them in address and hash arithmetic whose flags are
//! overwritten by the next ADD, SUB, CMP or logic instruction a few instructions on.
//!
//! When the block is built, one backward pass over its instructions tracks which of
//! the six flags may still be read. Flags are *visible* wherever the block may stop:
//! at its end, and at every instruction that may fault, trap or leave it (a memory
//! access, a branch, a system call, anything not known here). So a flag is dead only
//! between a writer and a later overwriter with nothing but register-to-register
//! instructions between them, which cannot fault (SDM Vol. 3A §6.15 lists the
//! exceptions; none applies to a general-register ALU, shift, MOV or LEA form), and
//! the state at every exit stays exact. The one other place a block stops is where
//! the instruction budget ends inside it (`Cpu::run_partial`, which single-stepping
//! and difftest use): there every micro-op runs its exact handler, kept in
//! [`Uop::alt`] (see [`DEAD_FLAGS`]).

use iced_x86::{Instruction, Mnemonic, OpKind};

use crate::flags::{ARITH, CF, OF};
use crate::ops::{muldiv, shift};
use crate::table::Handler;
use crate::uop::{Uop, DEAD_FLAGS, FUSED};

/// What one instruction does with the six arithmetic flags.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FlagUse {
    /// Flags it may read.
    reads: u32,
    /// Flags it always overwrites, whatever its operands' values.
    kills: u32,
    /// Flags it may write (a shift by CL writes none when CL is 0 mod 32).
    writes: u32,
    /// The block may stop at it (fault, trap, branch, anything unclassified): every
    /// flag is visible there.
    exit: bool,
    /// It has a variant that does not compute its flags ([`skipping`]).
    can_skip: bool,
}

impl FlagUse {
    const EXIT: FlagUse = FlagUse { reads: ARITH, kills: 0, writes: ARITH, exit: true, can_skip: false };
    pub(crate) const NEUTRAL: FlagUse =
        FlagUse { reads: 0, kills: 0, writes: 0, exit: false, can_skip: false };

    const fn writer(reads: u32, kills: u32) -> FlagUse {
        FlagUse { reads, kills, writes: kills, exit: false, can_skip: false }
    }
}

/// How `insn` uses the flags, conservatively: anything not listed here is an exit.
pub(crate) fn flag_use(insn: &Instruction) -> FlagUse {
    use Mnemonic as M;
    // Only general registers and immediates: no memory access, no segment or control
    // register (whose loads may fault). LEA computes an address without accessing it.
    let lea = insn.mnemonic() == M::Lea;
    let plain = (0..insn.op_count()).all(|i| match insn.op_kind(i) {
        OpKind::Register => insn.op_register(i).is_gpr(),
        OpKind::Memory => lea && i == 1,
        OpKind::Immediate8
        | OpKind::Immediate16
        | OpKind::Immediate32
        | OpKind::Immediate8to16
        | OpKind::Immediate8to32 => true,
        _ => false,
    });
    // LOCK on a register destination is #UD (SDM Vol. 2 "LOCK").
    if !plain || insn.op_count() == 0 || insn.has_lock_prefix() {
        return FlagUse::EXIT;
    }
    match insn.mnemonic() {
        M::Mov | M::Movzx | M::Movsx | M::Lea | M::Not | M::Bswap | M::Xchg => FlagUse::NEUTRAL,
        M::Add | M::Sub | M::Cmp | M::And | M::Or | M::Xor | M::Test | M::Neg => FlagUse::writer(0, ARITH),
        M::Adc | M::Sbb => FlagUse::writer(CF, ARITH),
        // CF passes through unchanged.
        M::Inc | M::Dec => FlagUse::writer(0, ARITH & !CF),
        M::Shl | M::Sal | M::Shr | M::Sar => {
            // A masked count of 0 changes no flag (SDM "SAL/SAR/SHL/SHR").
            let always = insn.op1_kind() == OpKind::Immediate8 && insn.immediate8() & 0x1f != 0;
            FlagUse {
                reads: 0,
                kills: if always { ARITH } else { 0 },
                writes: ARITH,
                exit: false,
                can_skip: true,
            }
        }
        // SF, ZF, AF and PF are left as they were (see `ops::muldiv`).
        M::Imul if insn.op_count() >= 2 => {
            FlagUse { reads: 0, kills: CF | OF, writes: CF | OF, exit: false, can_skip: true }
        }
        _ => FlagUse::EXIT,
    }
}

/// The variant of `u`'s handler that computes no flags, if it has one.
fn skipping(u: &Uop) -> Option<Handler> {
    match u.mnemonic() {
        Mnemonic::Shl | Mnemonic::Sal | Mnemonic::Shr | Mnemonic::Sar => shift::without_flags(u),
        Mnemonic::Imul => muldiv::imul_without_flags(u),
        _ => None,
    }
}

/// The backward pass: gives every micro-op whose flags no one can see its
/// flag-skipping handler, keeping the exact one in `alt`. `uses[i]` describes
/// `uops[i]` (for a CMP/TEST fused with its Jcc, the CMP: it overwrites every flag,
/// so whoever runs after the pair, in this block or past a side exit, sees the
/// CMP's own).
pub(crate) fn skip_dead_flags(uops: &mut [Uop], uses: &[FlagUse]) {
    debug_assert_eq!(uops.len(), uses.len());
    // After the block, whatever runs next may read any of them.
    let mut live = ARITH;
    for (u, f) in uops.iter_mut().zip(uses).rev() {
        if f.can_skip && f.writes & live == 0 && u.flags & FUSED == 0 {
            if let Some(h) = skipping(u) {
                u.alt = u.exec;
                u.exec = h;
                u.flags |= DEAD_FLAGS;
            }
        }
        live = if f.exit { ARITH } else { (live & !f.kills) | f.reads };
    }
}
