//! Control transfer: JMP, Jcc, CALL, RET, far JMP/CALL/RET and IRET to the same
//! privilege level, LOOP/LOOPE/LOOPNE, JCXZ/JECXZ, INT n/INT3/INTO, BOUND, UD0/UD1/UD2.
//!
//! A transfer writes `cpu.next_eip`; the executor moves EIP there only if the handler
//! returns `Ok`. A CALL whose push faults therefore leaves EIP (and, through
//! [`Cpu::push`], ESP) unchanged.
//!
//! Decisions where the SDM leaves a choice or where this CPU is narrower than the SDM:
//! * `INT3` (0xCC) reports [`Exception::Breakpoint`]; `INT 3` (CD 03) reports
//!   `SoftwareInterrupt(3)` like every other `INT n`, so the kernel can apply the gate's
//!   DPL check (which `INT3` also gets in hardware; Linux opens vector 3 to user mode,
//!   so both end as SIGTRAP). Both are traps: EIP moves past the instruction.
//! * `INT1`/ICEBP (0xF1) is not registered: the CPU has no #DB exception to report, so it
//!   raises #UD rather than pretend to be `INT 1` (which would take the DPL-checked path).
//! * `INTO` with OF=1 traps with [`Exception::Overflow`]; with OF=0 it is a NOP.
//!   `BOUND` out of range is a fault ([`Exception::BoundRange`], EIP unchanged).
//! * Far JMP/CALL/RET and IRET work between code segments at CPL 3 (what the host does
//!   with `ljmp $0x23`, `lcall`, `lret`, `iret`): the target must be a present code
//!   segment descriptor with DPL 3 (nonconforming) or DPL <= 3 (conforming), 32-bit
//!   (D=1; the decoder only decodes 32-bit code), and the offset within its limit.
//!   Otherwise #GP(selector) (#NP in hardware for a not-present segment), #GP(0) for a
//!   null selector or an offset beyond the limit. Call gates, task gates and returns
//!   to another privilege level are not supported (#GP(selector)). IRET with NT=1
//!   (a task return) raises #GP(0). IRET loads EFLAGS with the POPF rules of CPL 3;
//!   RF is not loaded (nothing models it).
//! * Near branches are not checked against the CS limit (the flat model).

use crate::uop::{Form, Uop};
use iced_x86::{Code, ConditionCode, OpKind, Register};

use crate::exception::Exception;
use crate::flags::{NT, RF};
use crate::operand::{BinOp, Int};
use crate::ops::stack::{peek_all, push_all, user_flags_mask};
use crate::seg::SegReg;
use crate::state::ESP;
use crate::table::Handler;
use crate::table::Table;
use crate::Cpu;
use crate::{forms, handlers};

#[inline(always)]
fn branch(cpu: &mut Cpu, insn: &Uop) {
    // Lowering took iced's target, already truncated to 16 bits for a 16-bit operand size.
    cpu.next_eip = insn.near_branch_target();
}

/// JMP rel8/rel16/rel32.
pub fn jmp_rel(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    branch(cpu, insn);
    Ok(())
}

/// Jcc rel8/rel16/rel32.
pub fn jcc(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    if cpu.flags.cond(insn.condition_code()) {
        branch(cpu, insn);
    }
    Ok(())
}

/// Condition codes in iced's order, so a const generic can name one.
const CCS: [ConditionCode; 17] = {
    use ConditionCode as C;
    [
        C::None,
        C::o,
        C::no,
        C::b,
        C::ae,
        C::e,
        C::ne,
        C::be,
        C::a,
        C::s,
        C::ns,
        C::p,
        C::np,
        C::l,
        C::ge,
        C::le,
        C::g,
    ]
};

/// Jcc specialised for one condition (`CCS[CC]`), so the test is compiled in. `EXIT`:
/// the Jcc is in the middle of its block (a side exit, see [`side_exit`]).
fn jcc_on<const CC: u8, const EXIT: bool>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    if cpu.flags.cond(CCS[CC as usize]) {
        branch(cpu, insn);
        if EXIT {
            return Err(Exception::side_exit());
        }
    }
    Ok(())
}

/// Jcc right after a CMP/SUB/NEG (`KIND` SUB) or AND/OR/XOR/TEST (`KIND` LOGIC) of
/// width T in the same block: the condition comes from the recorded operands.
fn jcc_known<const CC: u8, T: Int, const KIND: u8, const EXIT: bool>(
    cpu: &mut Cpu,
    insn: &Uop,
) -> Result<(), Exception> {
    if cpu.flags.cond_known::<T, KIND>(CCS[CC as usize]) {
        branch(cpu, insn);
        if EXIT {
            return Err(Exception::side_exit());
        }
    }
    Ok(())
}

/// The 17 `jcc_known` instances for one width, kind and `EXIT`, indexed by condition.
macro_rules! jcc_known_table {
    ($t:ty, $k:expr, $exit:expr) => {
        [
            jcc_known::<0, $t, { $k }, $exit>,
            jcc_known::<1, $t, { $k }, $exit>,
            jcc_known::<2, $t, { $k }, $exit>,
            jcc_known::<3, $t, { $k }, $exit>,
            jcc_known::<4, $t, { $k }, $exit>,
            jcc_known::<5, $t, { $k }, $exit>,
            jcc_known::<6, $t, { $k }, $exit>,
            jcc_known::<7, $t, { $k }, $exit>,
            jcc_known::<8, $t, { $k }, $exit>,
            jcc_known::<9, $t, { $k }, $exit>,
            jcc_known::<10, $t, { $k }, $exit>,
            jcc_known::<11, $t, { $k }, $exit>,
            jcc_known::<12, $t, { $k }, $exit>,
            jcc_known::<13, $t, { $k }, $exit>,
            jcc_known::<14, $t, { $k }, $exit>,
            jcc_known::<15, $t, { $k }, $exit>,
            jcc_known::<16, $t, { $k }, $exit>,
        ]
    };
}

/// The Jcc handler for the lowered instruction's condition.
fn jcc_form(u: &Uop) -> Option<Handler> {
    jcc_handler(u, false)
}

/// Whether `u` is a Jcc (not LOOPcc, JCXZ or a JMP).
fn is_jcc(u: &Uop) -> bool {
    use iced_x86::Mnemonic as M;
    matches!(
        u.mnemonic(),
        M::Jo
            | M::Jno
            | M::Jb
            | M::Jae
            | M::Je
            | M::Jne
            | M::Jbe
            | M::Ja
            | M::Js
            | M::Jns
            | M::Jp
            | M::Jnp
            | M::Jl
            | M::Jge
            | M::Jle
            | M::Jg
    )
}

/// The handler for a Jcc rel32 (or rel8) that a block continues past into its
/// fall-through, as a side exit: taken, it sets `next_eip` to its target and ends
/// the block there with [`Exception::side_exit`], having retired; not taken, the
/// block goes on. `None` for anything else.
pub(crate) fn side_exit(u: &Uop) -> Option<Handler> {
    // Not LOOPcc (which iced gives a condition code too) nor JCXZ: they also
    // count or test ECX.
    if !is_jcc(u) || !matches!(u.kinds[0], OpKind::NearBranch32) {
        return None;
    }
    jcc_handler(u, true)
}

/// The 17 `jcc_on` instances for one `EXIT`, indexed by condition.
macro_rules! jcc_on_table {
    ($exit:expr) => {
        [
            jcc_on::<0, $exit>,
            jcc_on::<1, $exit>,
            jcc_on::<2, $exit>,
            jcc_on::<3, $exit>,
            jcc_on::<4, $exit>,
            jcc_on::<5, $exit>,
            jcc_on::<6, $exit>,
            jcc_on::<7, $exit>,
            jcc_on::<8, $exit>,
            jcc_on::<9, $exit>,
            jcc_on::<10, $exit>,
            jcc_on::<11, $exit>,
            jcc_on::<12, $exit>,
            jcc_on::<13, $exit>,
            jcc_on::<14, $exit>,
            jcc_on::<15, $exit>,
            jcc_on::<16, $exit>,
        ]
    };
}
/// Both variants of each table (in the block's last place, and as a side exit),
/// built when compiling and indexed by `exit`: a lowering only looks one up.
fn jcc_handler(u: &Uop, exit: bool) -> Option<Handler> {
    use crate::flags::lazy::{LOGIC, SUB, WIDTH_SHIFT};
    const SUB8: [[Handler; 17]; 2] = [jcc_known_table!(u8, SUB, false), jcc_known_table!(u8, SUB, true)];
    const SUB32: [[Handler; 17]; 2] = [jcc_known_table!(u32, SUB, false), jcc_known_table!(u32, SUB, true)];
    const LOGIC8: [[Handler; 17]; 2] =
        [jcc_known_table!(u8, LOGIC, false), jcc_known_table!(u8, LOGIC, true)];
    const LOGIC32: [[Handler; 17]; 2] =
        [jcc_known_table!(u32, LOGIC, false), jcc_known_table!(u32, LOGIC, true)];
    let e = usize::from(exit);
    let known = match u.known {
        k if k == SUB => Some(&SUB8[e]),
        k if k == SUB | (3 << WIDTH_SHIFT) => Some(&SUB32[e]),
        k if k == LOGIC => Some(&LOGIC8[e]),
        k if k == LOGIC | (3 << WIDTH_SHIFT) => Some(&LOGIC32[e]),
        _ => None,
    };
    if let Some(table) = known {
        return table.get(u.cc as usize).copied();
    }
    const ON: [[Handler; 17]; 2] = [jcc_on_table!(false), jcc_on_table!(true)];
    debug_assert_eq!(CCS[u.cc as usize], u.cc);
    ON[e].get(u.cc as usize).copied()
}

/// A CMP or TEST of a register with a register (`IMM` false) or an immediate, fused
/// with the Jcc after it: one micro-op, two instructions. The flags are recorded as
/// the compare alone records them (they stay visible after the branch); the
/// condition is then read from the operands just compared.
///
/// `EXIT`: the pair is in the middle of its block (a side exit, see [`side_exit`]).
fn cmp_jcc<T: Int, O: BinOp, const KIND: u8, const IMM: bool, const CC: u8, const EXIT: bool>(
    cpu: &mut Cpu,
    insn: &Uop,
) -> Result<(), Exception> {
    let a = T::gpr(cpu, insn.r0);
    let b = if IMM { T::from_u32(insn.imm) } else { T::gpr(cpu, insn.r1) };
    O::apply(&mut cpu.flags, a, b);
    if cpu.flags.cond_known::<T, KIND>(CCS[CC as usize]) {
        branch(cpu, insn);
        if EXIT {
            return Err(Exception::side_exit());
        }
    }
    Ok(())
}

/// The 17 `cmp_jcc` instances for one width, operation and source form.
macro_rules! cmp_jcc_table {
    ($t:ty, $o:ty, $k:expr, $imm:expr, $exit:expr) => {
        [
            cmp_jcc::<$t, $o, { $k }, $imm, 0, $exit>,
            cmp_jcc::<$t, $o, { $k }, $imm, 1, $exit>,
            cmp_jcc::<$t, $o, { $k }, $imm, 2, $exit>,
            cmp_jcc::<$t, $o, { $k }, $imm, 3, $exit>,
            cmp_jcc::<$t, $o, { $k }, $imm, 4, $exit>,
            cmp_jcc::<$t, $o, { $k }, $imm, 5, $exit>,
            cmp_jcc::<$t, $o, { $k }, $imm, 6, $exit>,
            cmp_jcc::<$t, $o, { $k }, $imm, 7, $exit>,
            cmp_jcc::<$t, $o, { $k }, $imm, 8, $exit>,
            cmp_jcc::<$t, $o, { $k }, $imm, 9, $exit>,
            cmp_jcc::<$t, $o, { $k }, $imm, 10, $exit>,
            cmp_jcc::<$t, $o, { $k }, $imm, 11, $exit>,
            cmp_jcc::<$t, $o, { $k }, $imm, 12, $exit>,
            cmp_jcc::<$t, $o, { $k }, $imm, 13, $exit>,
            cmp_jcc::<$t, $o, { $k }, $imm, 14, $exit>,
            cmp_jcc::<$t, $o, { $k }, $imm, 15, $exit>,
            cmp_jcc::<$t, $o, { $k }, $imm, 16, $exit>,
        ]
    };
}

/// A direct JMP or CALL that a block continues through (its target is in the same
/// page as the block's start, `exec.rs`): the handler to run it in the middle of a
/// block, and the target. Such a handler must not touch `next_eip`, which belongs to
/// the block's last instruction; the micro-ops after it carry the target's EIPs, so
/// a fault further on is still reported at its own instruction.
pub(crate) fn continue_through(u: &Uop) -> Option<(Handler, u32)> {
    match u.code {
        Code::Jmp_rel8_32 | Code::Jmp_rel32_32 => Some((jmp_within, u.near_branch_target())),
        Code::Call_rel32_32 => Some((
            if u.flat_stack() { call_within::<true> } else { call_within::<false> },
            u.near_branch_target(),
        )),
        _ => None,
    }
}

/// JMP rel in the middle of a block: the next micro-op is already at the target.
fn jmp_within(_: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    Ok(())
}

/// CALL rel32 in the middle of a block: pushes the return address, and the next
/// micro-op is already at the target. A push that faults leaves everything as it
/// was, as [`call_rel`] does.
fn call_within<const FLAT: bool>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    let ret = u.next_ip32();
    if cpu.push_hit::<u32, FLAT>(ret)? {
        return Ok(());
    }
    call_within_miss(cpu, ret)
}

#[inline(never)]
fn call_within_miss(cpu: &mut Cpu, ret: u32) -> Result<(), Exception> {
    cpu.push::<u32>(ret)
}

/// The fused handler for `prev` (a CMP or TEST of 8- or 32-bit registers, or of one
/// with an immediate) followed by the Jcc `jcc` in the same block, if they fuse.
/// Fused instructions cannot fault, so the pair retires whole or not at all.
pub(crate) fn fuse(prev: &Uop, jcc: &Uop) -> Option<Handler> {
    fuse_as(prev, jcc, false)
}

/// [`fuse`] for a Jcc in the middle of its block: the pair is a side exit (see
/// [`side_exit`]).
pub(crate) fn fuse_side_exit(prev: &Uop, jcc: &Uop) -> Option<Handler> {
    if !matches!(jcc.kinds[0], OpKind::NearBranch32) {
        return None;
    }
    fuse_as(prev, jcc, true)
}

/// `exit`: the pair is a side exit. Both variants of each table are built when
/// compiling, as in [`jcc_handler`].
fn fuse_as(prev: &Uop, jcc: &Uop, exit: bool) -> Option<Handler> {
    use crate::flags::lazy::{LOGIC, SUB};
    use crate::ops::arith::Cmp;
    use crate::ops::logic::Test;
    use crate::uop::Form;
    use iced_x86::Mnemonic as M;
    macro_rules! both {
        ($t:ty, $o:ty, $k:expr, $imm:expr) => {
            [cmp_jcc_table!($t, $o, $k, $imm, false), cmp_jcc_table!($t, $o, $k, $imm, true)]
        };
    }
    const CMP8: [[Handler; 17]; 2] = both!(u8, Cmp, SUB, false);
    const CMP8I: [[Handler; 17]; 2] = both!(u8, Cmp, SUB, true);
    const CMP32: [[Handler; 17]; 2] = both!(u32, Cmp, SUB, false);
    const CMP32I: [[Handler; 17]; 2] = both!(u32, Cmp, SUB, true);
    const TEST8: [[Handler; 17]; 2] = both!(u8, Test, LOGIC, false);
    const TEST8I: [[Handler; 17]; 2] = both!(u8, Test, LOGIC, true);
    const TEST32: [[Handler; 17]; 2] = both!(u32, Test, LOGIC, false);
    const TEST32I: [[Handler; 17]; 2] = both!(u32, Test, LOGIC, true);
    if !is_jcc(jcc) || prev.flags & crate::uop::FUSED != 0 {
        return None;
    }
    let imm = match prev.form()? {
        Form::RR => false,
        Form::RI => true,
        _ => return None,
    };
    let tables = match (prev.mnemonic(), prev.op0_register().size(), imm) {
        (M::Cmp, 1, false) => &CMP8,
        (M::Cmp, 1, true) => &CMP8I,
        (M::Cmp, 4, false) => &CMP32,
        (M::Cmp, 4, true) => &CMP32I,
        (M::Test, 1, false) => &TEST8,
        (M::Test, 1, true) => &TEST8I,
        (M::Test, 4, false) => &TEST32,
        (M::Test, 4, true) => &TEST32I,
        _ => return None,
    };
    tables[usize::from(exit)].get(jcc.cc as usize).copied()
}

/// JMP r/m16 / r/m32: EIP := the operand, zero-extended.
pub fn jmp_rm<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    cpu.next_eip = cpu.read_op::<T>(insn, 0)?.u32();
    Ok(())
}

/// CALL rel16/rel32: push the return address, then branch. If the push faults, ESP and
/// EIP are unchanged.
/// The TLB hit inline; a miss or a page split goes to [`call_rel_miss`] out of line,
/// which starts afresh (nothing has changed yet).
pub fn call_rel<T: Int, const FLAT: bool>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    if cpu.push_hit::<T, FLAT>(T::from_u32(cpu.next_eip))? {
        branch(cpu, insn);
        return Ok(());
    }
    call_rel_miss::<T>(cpu, insn)
}

#[inline(never)]
fn call_rel_miss<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    cpu.push::<T>(T::from_u32(cpu.next_eip))?;
    branch(cpu, insn);
    Ok(())
}

/// CALL r/m16 / r/m32: the target is read (and may fault) before the push.
pub fn call_rm<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let target = cpu.read_op::<T>(insn, 0)?.u32();
    cpu.push::<T>(T::from_u32(cpu.next_eip))?;
    cpu.next_eip = target;
    Ok(())
}

// CALL r/m32 and JMP r/m32 by operand form: the register forms need no operand
// decoding, the memory forms take the TLB hits inline; anything else runs the whole
// instruction afresh through the general handler (nothing has changed by then; a
// memory form's read counts a second TLB hit there, a statistic only).

fn call_r<const FLAT: bool>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    let target = u32::gpr(cpu, u.r0);
    if cpu.push_hit::<u32, FLAT>(cpu.next_eip)? {
        cpu.next_eip = target;
        return Ok(());
    }
    call_rm_miss(cpu, u)
}

fn call_m<const FLAT: bool, const EA: u8>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    if let Ok(lin) = cpu.mem_lin::<EA>(u) {
        if let Some(target) = cpu.mmu.read_hit::<u32>(lin) {
            if cpu.push_hit::<u32, FLAT>(cpu.next_eip)? {
                cpu.next_eip = target;
                return Ok(());
            }
        }
    }
    call_rm_miss(cpu, u)
}

#[inline(never)]
fn call_rm_miss(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    call_rm::<u32>(cpu, u)
}

fn call_rm_form(u: &Uop) -> Option<Handler> {
    let flat = u.flat_stack();
    match u.form()? {
        Form::R if flat => Some(call_r::<true>),
        Form::R => Some(call_r::<false>),
        Form::M if flat => crate::by_ea!(u, call_m::<true>),
        Form::M => crate::by_ea!(u, call_m::<false>),
        _ => None,
    }
}

fn jmp_r(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    cpu.next_eip = u32::gpr(cpu, u.r0);
    Ok(())
}

fn jmp_m<const EA: u8>(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    if let Ok(lin) = cpu.mem_lin::<EA>(u) {
        if let Some(target) = cpu.mmu.read_hit::<u32>(lin) {
            cpu.next_eip = target;
            return Ok(());
        }
    }
    jmp_rm_miss(cpu, u)
}

#[inline(never)]
fn jmp_rm_miss(cpu: &mut Cpu, u: &Uop) -> Result<(), Exception> {
    jmp_rm::<u32>(cpu, u)
}

fn jmp_rm_form(u: &Uop) -> Option<Handler> {
    match u.form()? {
        Form::R => Some(jmp_r),
        Form::M => crate::by_ea!(u, jmp_m),
        _ => None,
    }
}

/// RET / RET imm16 (near): pop eIP, then release imm16 more bytes.
pub fn ret<T: Int, const FLAT: bool>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let Some(target) = cpu.peek_hit::<T, FLAT>(0)? else { return ret_miss::<T>(cpu, insn) };
    let extra = if insn.op_count() > 0 { u32::from(insn.immediate16()) } else { 0 };
    cpu.regs[ESP] = cpu.regs[ESP].wrapping_add(T::BITS / 8).wrapping_add(extra);
    cpu.next_eip = target.u32();
    Ok(())
}

/// CALL rel or RET without the SS check when SS was flat at lowering.
fn call_rel_form<T: Int>(u: &Uop) -> Option<Handler> {
    Some(if u.flat_stack() { call_rel::<T, true> } else { call_rel::<T, false> })
}

fn ret_form<T: Int>(u: &Uop) -> Option<Handler> {
    Some(if u.flat_stack() { ret::<T, true> } else { ret::<T, false> })
}

/// [`ret`] past a TLB miss or a page split (out of line, a tail call).
#[inline(never)]
fn ret_miss<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let target = cpu.peek::<T>(0)?.u32();
    let extra = if insn.op_count() > 0 { u32::from(insn.immediate16()) } else { 0 };
    cpu.regs[ESP] = cpu.regs[ESP].wrapping_add(T::BITS / 8).wrapping_add(extra);
    cpu.next_eip = target;
    Ok(())
}

/// Checks a far transfer to `sel:off` at CPL 3 (SDM JMP/CALL/RET "far", protected
/// mode, same privilege). Returns the selector to load into CS.
fn check_far_target(cpu: &Cpu, sel: u16, off: u32, is_return: bool) -> Result<u16, Exception> {
    if sel & 0xfffc == 0 {
        return Err(Exception::GeneralProtection(0));
    }
    let err = Exception::GeneralProtection(sel & !3);
    let d = cpu.descriptor(sel)?;
    if !d.is_code_or_data() || !d.is_code() {
        return Err(err);
    }
    let (rpl, dpl, cpl) = (sel & 3, d.dpl(), 3);
    let conforming = d.attrs & 0x04 != 0;
    if is_return {
        // RPL < CPL is #GP; RPL > CPL would be a return to an outer level, and CPL 3 is
        // the outermost.
        if rpl != cpl || (conforming && dpl > rpl) || (!conforming && dpl != rpl) {
            return Err(err);
        }
    } else if (conforming && dpl > cpl) || (!conforming && (rpl > cpl || dpl != cpl)) {
        return Err(err);
    }
    if !d.present() {
        return Err(Exception::SegmentNotPresent(sel & !3));
    }
    if off > d.limit {
        return Err(Exception::GeneralProtection(0));
    }
    Ok((sel & !3) | cpl)
}

/// The selector:offset operand of a far JMP/CALL: immediate ptr16:16/ptr16:32 or
/// m16:16/m16:32 (offset first, selector after it).
fn far_operand<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(u16, u32), Exception> {
    match insn.op0_kind() {
        OpKind::FarBranch16 | OpKind::FarBranch32 => {
            Ok((insn.far_branch_selector(), insn.far_branch_offset()))
        }
        OpKind::Memory => {
            let lin = cpu.mem_linear(insn)?;
            let off = cpu.read_mem::<T>(lin)?.u32();
            let sel = cpu.read_mem::<u16>(lin.wrapping_add(T::BITS / 8))?;
            Ok((sel, off))
        }
        _ => Err(Exception::InvalidOpcode),
    }
}

/// JMP ptr16:T / m16:T to a code segment at CPL 3.
pub fn jmp_far<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let (sel, off) = far_operand::<T>(cpu, insn)?;
    let sel = check_far_target(cpu, sel, off, false)?;
    cpu.force_cs(sel);
    cpu.next_eip = off;
    Ok(())
}

/// CALL ptr16:T / m16:T: pushes CS (zero-extended to T, like PUSH CS) and eIP, both
/// slots probed before either is written.
pub fn call_far<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let (sel, off) = far_operand::<T>(cpu, insn)?;
    let sel = check_far_target(cpu, sel, off, false)?;
    let frame = [u32::from(cpu.segs[SegReg::Cs as usize].selector), cpu.next_eip];
    push_all::<T>(cpu, &frame)?;
    cpu.force_cs(sel);
    cpu.next_eip = off;
    Ok(())
}

/// RETF / RETF imm16 to the same privilege level.
pub fn retf<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    let [eip, cs] = peek_all::<T, 2>(cpu)?;
    let sel = check_far_target(cpu, cs as u16, eip, true)?;
    let extra = if insn.op_count() > 0 { u32::from(insn.immediate16()) } else { 0 };
    cpu.regs[ESP] = cpu.regs[ESP].wrapping_add(2 * (T::BITS / 8)).wrapping_add(extra);
    cpu.force_cs(sel);
    cpu.next_eip = eip;
    Ok(())
}

/// IRET/IRETD at CPL 3 to CPL 3: pops eIP, CS, eFLAGS; flags change as for POPF.
pub fn iret<T: Int>(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    let cur = cpu.flags.get();
    if cur & NT != 0 {
        return Err(Exception::GeneralProtection(0));
    }
    let [eip, cs, fl] = peek_all::<T, 3>(cpu)?;
    let sel = check_far_target(cpu, cs as u16, eip, true)?;
    let m = user_flags_mask::<T>(cur);
    cpu.flags.set(((cur & !m) | (fl & m)) & !RF);
    cpu.regs[ESP] = cpu.regs[ESP].wrapping_add(3 * (T::BITS / 8));
    cpu.force_cs(sel);
    cpu.next_eip = eip;
    crate::ops::stack::trap_flag_set(cur, cpu.flags.get())
}

/// CX or ECX: the count register for an address size of C.
#[inline(always)]
fn count_reg<C: Int>() -> Register {
    if C::BITS == 16 {
        Register::CX
    } else {
        Register::ECX
    }
}

/// Decrements the count register of width C (flags unaffected); returns the new value.
#[inline(always)]
fn dec_count<C: Int>(cpu: &mut Cpu) -> u32 {
    let r = count_reg::<C>();
    let c = C::from_u32(C::get_reg(cpu, r).u32().wrapping_sub(1));
    C::set_reg(cpu, r, c);
    c.u32()
}

/// LOOP: count := count - 1; branch if count != 0. C is the address size (CX/ECX).
pub fn loop_<C: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    if dec_count::<C>(cpu) != 0 {
        branch(cpu, insn);
    }
    Ok(())
}

/// LOOPE/LOOPZ: branch if count != 0 and ZF=1.
pub fn loope<C: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    if dec_count::<C>(cpu) != 0 && cpu.flags.zf() {
        branch(cpu, insn);
    }
    Ok(())
}

/// LOOPNE/LOOPNZ: branch if count != 0 and ZF=0.
pub fn loopne<C: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    if dec_count::<C>(cpu) != 0 && !cpu.flags.zf() {
        branch(cpu, insn);
    }
    Ok(())
}

/// JCXZ (C = u16, under 0x67) / JECXZ (C = u32).
pub fn jcxz<C: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    if C::get_reg(cpu, count_reg::<C>()).u32() == 0 {
        branch(cpu, insn);
    }
    Ok(())
}

/// INT imm8: a trap reported as [`Exception::SoftwareInterrupt`] (including `CD 03`).
pub fn int_n(_: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    Err(Exception::SoftwareInterrupt(insn.immediate8()))
}

/// INT3 (0xCC): #BP, a trap.
/// INT1/ICEBP (F1): a #DB trap, without the single-step cause.
pub fn int1(_: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    Err(Exception::Icebp)
}

pub fn int3(_: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    Err(Exception::Breakpoint)
}

/// INTO: #OF (trap) if OF=1.
pub fn into(cpu: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    if cpu.flags.of() {
        Err(Exception::Overflow)
    } else {
        Ok(())
    }
}

/// BOUND r, m: #BR (fault) unless lower <= index <= upper, all signed of width T.
pub fn bound<T: Int>(cpu: &mut Cpu, insn: &Uop) -> Result<(), Exception> {
    if insn.op1_kind() != OpKind::Memory {
        return Err(Exception::InvalidOpcode);
    }
    let idx = T::get_reg(cpu, insn.op0_register()).sx() as i32;
    let lin = cpu.mem_linear(insn)?;
    let lo = cpu.read_mem::<T>(lin)?.sx() as i32;
    let hi = cpu.read_mem::<T>(lin.wrapping_add(T::BITS / 8))?.sx() as i32;
    if idx < lo || idx > hi {
        return Err(Exception::BoundRange);
    }
    Ok(())
}

/// UD0/UD1/UD2: #UD, without touching the ModRM memory operand.
pub fn ud(_: &mut Cpu, _: &Uop) -> Result<(), Exception> {
    Err(Exception::InvalidOpcode)
}

pub(crate) fn register(t: &mut Table) {
    handlers!(t, jmp_rel => Jmp_rel8_16, Jmp_rel8_32, Jmp_rel16, Jmp_rel32_32);
    forms!(t, jcc, jcc_form =>
        Jo_rel8_16, Jo_rel8_32, Jo_rel16, Jo_rel32_32,
        Jno_rel8_16, Jno_rel8_32, Jno_rel16, Jno_rel32_32,
        Jb_rel8_16, Jb_rel8_32, Jb_rel16, Jb_rel32_32,
        Jae_rel8_16, Jae_rel8_32, Jae_rel16, Jae_rel32_32,
        Je_rel8_16, Je_rel8_32, Je_rel16, Je_rel32_32,
        Jne_rel8_16, Jne_rel8_32, Jne_rel16, Jne_rel32_32,
        Jbe_rel8_16, Jbe_rel8_32, Jbe_rel16, Jbe_rel32_32,
        Ja_rel8_16, Ja_rel8_32, Ja_rel16, Ja_rel32_32,
        Js_rel8_16, Js_rel8_32, Js_rel16, Js_rel32_32,
        Jns_rel8_16, Jns_rel8_32, Jns_rel16, Jns_rel32_32,
        Jp_rel8_16, Jp_rel8_32, Jp_rel16, Jp_rel32_32,
        Jnp_rel8_16, Jnp_rel8_32, Jnp_rel16, Jnp_rel32_32,
        Jl_rel8_16, Jl_rel8_32, Jl_rel16, Jl_rel32_32,
        Jge_rel8_16, Jge_rel8_32, Jge_rel16, Jge_rel32_32,
        Jle_rel8_16, Jle_rel8_32, Jle_rel16, Jle_rel32_32,
        Jg_rel8_16, Jg_rel8_32, Jg_rel16, Jg_rel32_32);
    handlers!(t, jmp_rm::<u16> => Jmp_rm16);
    forms!(t, jmp_rm::<u32>, jmp_rm_form => Jmp_rm32);
    forms!(t, call_rel::<u16, false>, call_rel_form::<u16> => Call_rel16);
    forms!(t, call_rel::<u32, false>, call_rel_form::<u32> => Call_rel32_32);
    handlers!(t, call_rm::<u16> => Call_rm16);
    forms!(t, call_rm::<u32>, call_rm_form => Call_rm32);
    forms!(t, ret::<u16, false>, ret_form::<u16> => Retnw, Retnw_imm16);
    forms!(t, ret::<u32, false>, ret_form::<u32> => Retnd, Retnd_imm16);

    handlers!(t, jmp_far::<u16> => Jmp_ptr1616, Jmp_m1616);
    handlers!(t, jmp_far::<u32> => Jmp_ptr1632, Jmp_m1632);
    handlers!(t, call_far::<u16> => Call_ptr1616, Call_m1616);
    handlers!(t, call_far::<u32> => Call_ptr1632, Call_m1632);
    handlers!(t, retf::<u16> => Retfw, Retfw_imm16);
    handlers!(t, retf::<u32> => Retfd, Retfd_imm16);
    handlers!(t, iret::<u16> => Iretw);
    handlers!(t, iret::<u32> => Iretd);

    handlers!(t, loop_::<u16> => Loop_rel8_16_CX, Loop_rel8_32_CX);
    handlers!(t, loop_::<u32> => Loop_rel8_16_ECX, Loop_rel8_32_ECX);
    handlers!(t, loope::<u16> => Loope_rel8_16_CX, Loope_rel8_32_CX);
    handlers!(t, loope::<u32> => Loope_rel8_16_ECX, Loope_rel8_32_ECX);
    handlers!(t, loopne::<u16> => Loopne_rel8_16_CX, Loopne_rel8_32_CX);
    handlers!(t, loopne::<u32> => Loopne_rel8_16_ECX, Loopne_rel8_32_ECX);
    handlers!(t, jcxz::<u16> => Jcxz_rel8_16, Jcxz_rel8_32);
    handlers!(t, jcxz::<u32> => Jecxz_rel8_16, Jecxz_rel8_32);

    handlers!(t, int_n => Int_imm8);
    handlers!(t, int3 => Int3);
    handlers!(t, int1 => Int1);
    handlers!(t, into => Into);
    handlers!(t, bound::<u16> => Bound_r16_m1616);
    handlers!(t, bound::<u32> => Bound_r32_m3232);
    handlers!(t, ud => Ud0, Ud0_r16_rm16, Ud0_r32_rm32, Ud1_r16_rm16, Ud1_r32_rm32, Ud2);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seg::Descriptor;

    fn cpu_with(desc: &[(usize, u16)]) -> Cpu {
        let mut cpu = Cpu::new(1 << 16);
        for &(i, attrs) in desc {
            cpu.gdt[i] = Descriptor::encode(0, 0xfffff, attrs);
        }
        cpu
    }

    #[test]
    fn far_targets_at_cpl3() {
        // 4: DPL3 code 32-bit; 5: DPL3 data; 6: DPL0 code; 7: DPL0 conforming code;
        // 8: DPL3 16-bit code; 9: not present DPL3 code.
        let cpu = cpu_with(&[(4, 0xc0fb), (5, 0xc0f3), (6, 0xc09b), (7, 0xc09f), (8, 0x80fb), (9, 0xc07b)]);
        let gp = Exception::GeneralProtection;
        assert_eq!(check_far_target(&cpu, 0x23, 0x1000, false), Ok(0x23));
        assert_eq!(check_far_target(&cpu, 0x20, 0x1000, false), Ok(0x23), "RPL 0 is raised to CPL");
        assert_eq!(check_far_target(&cpu, 0x20, 0x1000, true), Err(gp(0x20)), "return to RPL 0");
        assert_eq!(check_far_target(&cpu, 0x2b, 0, false), Err(gp(0x28)));
        assert_eq!(check_far_target(&cpu, 0x33, 0, false), Err(gp(0x30)));
        assert_eq!(check_far_target(&cpu, 0x3b, 0, false), Ok(0x3b), "conforming DPL 0 from CPL 3");
        assert_eq!(check_far_target(&cpu, 0x3b, 0, true), Ok(0x3b));
        assert_eq!(check_far_target(&cpu, 0x43, 0, false), Ok(0x43), "16-bit code");
        assert_eq!(
            check_far_target(&cpu, 0x4b, 0, false),
            Err(Exception::SegmentNotPresent(0x48)),
            "not present"
        );
        assert_eq!(check_far_target(&cpu, 0x03, 0, false), Err(gp(0)), "null");
        assert_eq!(check_far_target(&cpu, 0xfff3, 0, false), Err(gp(0xfff0)), "beyond the GDT");
    }

    #[test]
    fn far_target_offset_beyond_the_limit() {
        let mut cpu = Cpu::new(1 << 16);
        cpu.gdt[4] = Descriptor::encode(0, 0xff, 0x40fb); // byte granular, limit 0xff
        assert_eq!(check_far_target(&cpu, 0x23, 0xff, false), Ok(0x23));
        assert_eq!(check_far_target(&cpu, 0x23, 0x100, false), Err(Exception::GeneralProtection(0)));
    }
}
