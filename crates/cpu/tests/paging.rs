//! The paging unit against the Intel SDM, Vol. 3A chapter 4 (32-bit paging).
//!
//! Every expectation here is computed by code written in this file straight from the
//! SDM's rules, never by asking the MMU: §4.3 (the two-level walk, 4 MiB pages),
//! §4.6 (access rights), §4.7 (the page-fault error code), §4.8 (Accessed and Dirty)
//! and §4.10 (TLBs and their invalidation). Where the SDM leaves the processor a
//! choice, the test says which behaviour the emulator picked and why.
//!
//! Sections:
//! 1. exhaustive rights × present × access × CR0.WP, through every API and `cpu.run`;
//! 2. Accessed/Dirty;
//! 3. 4 MiB pages (CR4.PSE);
//! 4. the TLB: stale entries, INVLPG, CR3 loads, global pages, re-walk before fault;
//! 5. accesses and instructions that straddle a page boundary;
//! 6. self-modifying code;
//! 7. paging disabled.

mod common;

use common::{Machine, PD};
use growsdown_cpu::mmu::{
    CR0_PG, CR0_WP, CR4_PGE, CR4_PSE, PDE_PS, PF_PRESENT, PF_RSVD, PF_USER, PF_WRITE, PTE_A, PTE_D, PTE_G,
    PTE_P, PTE_RW, PTE_US,
};
use growsdown_cpu::{AccessKind, Cpu, Exception, Exit, PageFault, EAX};

// ---------------------------------------------------------------------------------------
// The SDM model (independent of the emulator's code)
// ---------------------------------------------------------------------------------------

/// Error-code bits, spelled out from SDM Vol. 3A §4.7 rather than taken
/// from the crate, so a wrong constant there would be caught too.
const EC_P: u32 = 1 << 0; // 0: non-present page; 1: protection violation
const EC_W: u32 = 1 << 1; // 0: read; 1: write
const EC_U: u32 = 1 << 2; // 0: supervisor-mode access; 1: user-mode access
const EC_RSVD: u32 = 1 << 3; // 1: a reserved bit was set in a present entry

/// Entry bits of Figure 4-4 (likewise spelled out independently).
const B_P: u32 = 1 << 0;
const B_RW: u32 = 1 << 1;
const B_US: u32 = 1 << 2;
const B_A: u32 = 1 << 5;
const B_D: u32 = 1 << 6;
const B_PS: u32 = 1 << 7;
const B_G: u32 = 1 << 8;

#[test]
fn crate_constants_match_the_sdm() {
    assert_eq!((PF_PRESENT, PF_WRITE, PF_USER, PF_RSVD), (EC_P, EC_W, EC_U, EC_RSVD));
    assert_eq!((PTE_P, PTE_RW, PTE_US, PTE_A, PTE_D, PDE_PS, PTE_G), (B_P, B_RW, B_US, B_A, B_D, B_PS, B_G));
    assert_eq!((CR0_WP, CR0_PG, CR4_PSE, CR4_PGE), (1 << 16, 1 << 31, 1 << 4, 1 << 7));
}

/// What the SDM says an access does, given the paging-structure entries used to
/// translate it (`[PDE, PTE]` for a 4 KiB page, `[PDE]` for a 4 MiB page).
///
/// * §4.7: P=0 in the error code when "there is no translation for the linear address
///   because the P flag was 0 in one of the paging-structure entries used"; the walk
///   stops at the first non-present entry, so this wins over any rights problem.
/// * §4.6.1, for 32-bit paging (no SMEP/SMAP/PKE on this CPU):
///   - a user-mode address needs U/S=1 in every entry, otherwise it is a
///     supervisor-mode address;
///   - supervisor reads: any address with a translation;
///   - supervisor writes: with CR0.WP=0 any address; with CR0.WP=1 only where R/W=1
///     in every entry;
///   - user reads: user-mode addresses only;
///   - user writes: user-mode addresses with R/W=1 in every entry (CR0.WP is
///     irrelevant).
///
/// Returns `Err(error_code)` for a #PF.
fn sdm_access(entries: &[u32], user: bool, write: bool, wp: bool) -> Result<(), u32> {
    let w = if write { EC_W } else { 0 };
    let u = if user { EC_U } else { 0 };
    for &e in entries {
        if e & B_P == 0 {
            return Err(w | u);
        }
    }
    let user_mode_address = entries.iter().all(|&e| e & B_US != 0);
    let writable_everywhere = entries.iter().all(|&e| e & B_RW != 0);
    let allowed = match (user, write) {
        (false, false) => true,
        (false, true) => !wp || writable_everywhere,
        (true, false) => user_mode_address,
        (true, true) => user_mode_address && writable_everywhere,
    };
    if allowed {
        Ok(())
    } else {
        Err(EC_P | w | u)
    }
}

#[test]
fn the_model_itself_agrees_with_hand_checked_rows() {
    // A few rows worked out by hand from the SDM text, so a mistake in the model
    // cannot silently make the exhaustive tests vacuous.
    let rw_user = B_P | B_RW | B_US;
    assert_eq!(sdm_access(&[rw_user, rw_user], true, true, true), Ok(()));
    assert_eq!(sdm_access(&[0, rw_user], true, true, true), Err(6));
    assert_eq!(sdm_access(&[rw_user, 0], false, false, true), Err(0));
    // A PDE with U/S=0 and a non-present PTE: not-present wins.
    assert_eq!(sdm_access(&[B_P, 0], true, false, true), Err(4));
    assert_eq!(sdm_access(&[B_P | B_RW, rw_user], true, false, true), Err(5));
    assert_eq!(sdm_access(&[rw_user, B_P | B_US], true, true, false), Err(7));
    assert_eq!(sdm_access(&[rw_user, B_P | B_US], false, true, true), Err(3));
    assert_eq!(sdm_access(&[rw_user, B_P | B_US], false, true, false), Ok(()));
    assert_eq!(sdm_access(&[B_P, B_P], false, false, true), Ok(()));
    assert_eq!(sdm_access(&[B_P | B_US], true, false, true), Ok(()));
}

/// Readable name of an entry's low three bits: the values 0..8 are every combination
/// of P, R/W and U/S.
fn flag_name(f: u32) -> String {
    format!(
        "{}{}{}",
        if f & B_P != 0 { "P" } else { "-" },
        if f & B_RW != 0 { "W" } else { "r" },
        if f & B_US != 0 { "U" } else { "s" }
    )
}

// ---------------------------------------------------------------------------------------
// Helpers over the test machine (common.rs: PD at 0x1000, flat CPL-3 segments)
// ---------------------------------------------------------------------------------------

/// A value CR2 never gets from these tests, to see that a successful access leaves it.
const CR2_SENTINEL: u32 = 0xdead_0000;

fn pde_addr(lin: u32) -> u32 {
    PD + (lin >> 22) * 4
}

fn pde(m: &Machine, lin: u32) -> u32 {
    m.cpu.mmu.phys().read_u32(pde_addr(lin))
}

fn set_pde(m: &mut Machine, lin: u32, v: u32) {
    m.cpu.mmu.phys_mut().write_u32(pde_addr(lin), v);
}

/// Physical address of the PTE for `lin`, found by reading the PDE ourselves.
fn pte_addr(m: &Machine, lin: u32) -> u32 {
    (pde(m, lin) & 0xffff_f000) + ((lin >> 12) & 0x3ff) * 4
}

fn pte(m: &Machine, lin: u32) -> u32 {
    m.cpu.mmu.phys().read_u32(pte_addr(m, lin))
}

fn set_pte(m: &mut Machine, lin: u32, v: u32) {
    let a = pte_addr(m, lin);
    m.cpu.mmu.phys_mut().write_u32(a, v);
}

fn set_wp(m: &mut Machine, wp: bool) {
    let cr0 = m.cpu.mmu.cr0();
    m.cpu.mmu.set_cr0(if wp { cr0 | CR0_WP } else { cr0 & !CR0_WP });
}

fn pf(addr: u32, code: u32) -> PageFault {
    PageFault { addr, code }
}

fn pf_exit(addr: u32, code: u32) -> Exit {
    Exit::Exception(Exception::from(pf(addr, code)))
}

/// Test programs end with UD2 (0F 0B): architecturally #UD forever, so it stops `run`
/// no matter which other instructions get implemented; EIP stays at the UD2.
const UD2: [u8; 2] = [0x0f, 0x0b];
const STOPPED: Exit = Exit::Exception(Exception::InvalidOpcode);

fn le(v: u32) -> [u8; 4] {
    v.to_le_bytes()
}

/// `mov eax, [moffs32]; ud2` (the UD2 at +5)
fn code_load(addr: u32) -> Vec<u8> {
    let mut c = vec![0xa1];
    c.extend_from_slice(&le(addr));
    c.extend_from_slice(&UD2);
    c
}

/// `mov [moffs32], eax; ud2` (the UD2 at +5)
fn code_store(addr: u32) -> Vec<u8> {
    let mut c = vec![0xa3];
    c.extend_from_slice(&le(addr));
    c.extend_from_slice(&UD2);
    c
}

// ---------------------------------------------------------------------------------------
// 1. Exhaustive access rights
// ---------------------------------------------------------------------------------------

/// The page under test lives alone in its own 4 MiB region, so its PDE's flags are
/// free; the code page (when there is one) lives in another region. Its page table
/// and frame are fixed frames the test machine never hands out.
const T_LIN: u32 = 0x4000_5ab4;
const T_PT: u32 = 0x0020_0000;
const T_FRAME: u32 = 0x0030_0000;
const CODE: u32 = 0x0804_8000;

/// Points T_LIN's PDE and PTE at T_PT and T_FRAME with the given low flags, sets
/// CR0.WP, and reloads CR3 so no translation of a previous case survives (there are
/// no global entries: CR4.PGE=0).
fn set_rights(m: &mut Machine, pde_f: u32, pte_f: u32, wp: bool) {
    set_pde(m, T_LIN, T_PT | pde_f);
    m.cpu.mmu.phys_mut().write_u32(T_PT + ((T_LIN >> 12) & 0x3ff) * 4, T_FRAME | pte_f);
    let cr3 = m.cpu.mmu.cr3();
    m.cpu.mmu.set_cr3(cr3);
    set_wp(m, wp);
    m.cpu.mmu.cr2 = CR2_SENTINEL;
    assert_eq!(pte(m, T_LIN), T_FRAME | pte_f);
}

fn rights_machine(pde_f: u32, pte_f: u32, wp: bool) -> Machine {
    let mut m = Machine::new();
    set_rights(&mut m, pde_f, pte_f, wp);
    m
}

/// All 8 × 8 × 2 × 2 × 2 = 512 cases: (PDE flags, PTE flags, user, write, WP).
fn all_cases() -> impl Iterator<Item = (u32, u32, bool, bool, bool)> {
    (0..8u32).flat_map(|d| {
        (0..8u32).flat_map(move |t| {
            [false, true].into_iter().flat_map(move |user| {
                [false, true]
                    .into_iter()
                    .flat_map(move |write| [false, true].into_iter().map(move |wp| (d, t, user, write, wp)))
            })
        })
    })
}

fn case_name(d: u32, t: u32, user: bool, write: bool, wp: bool) -> String {
    format!(
        "PDE {} PTE {} {} {} WP={}",
        flag_name(d),
        flag_name(t),
        if user { "user" } else { "supervisor" },
        if write { "write" } else { "read" },
        u8::from(wp)
    )
}

/// After an access to T_LIN: the entries, CR2, and the data show exactly what the SDM
/// says. `expect` comes from [`sdm_access`].
fn check_after(m: &Machine, what: &str, d: u32, t: u32, write: bool, expect: Result<(), u32>, lin: u32) {
    let pde0 = T_PT | d;
    let pte0 = T_FRAME | t;
    match expect {
        Ok(()) => {
            // §4.8: A is set in every entry used; D in the entry that maps the page, on a
            // write. A PDE that references a page table has no D (bit 6 is ignored).
            assert_eq!(pde(m, T_LIN), pde0 | B_A, "{what}: PDE after success");
            let d_bit = if write { B_D } else { 0 };
            assert_eq!(pte(m, T_LIN), pte0 | B_A | d_bit, "{what}: PTE after success");
            assert_eq!(m.cpu.mmu.cr2, CR2_SENTINEL, "{what}: CR2 must not change on success");
        }
        Err(_) => {
            // A faulting access updates nothing: the emulator never sets A/D for an
            // access that faults, not even A in a PDE whose PTE turns out not present
            // (a real processor may set that one: §4.8 "whenever the processor uses a
            // paging-structure entry"; the stricter choice is the documented one). CR2
            // holds the faulting linear address (§6.15, interrupt 14).
            assert_eq!(pde(m, T_LIN), pde0, "{what}: PDE after fault");
            assert_eq!(pte(m, T_LIN), pte0, "{what}: PTE after fault");
            assert_eq!(m.cpu.mmu.cr2, lin, "{what}: CR2");
        }
    }
}

#[test]
fn exhaustive_translate() {
    let mut m = Machine::new();
    let mut faults = 0;
    for (d, t, user, write, wp) in all_cases() {
        let what = format!("translate: {}", case_name(d, t, user, write, wp));
        set_rights(&mut m, d, t, wp);
        let expect = sdm_access(&[d, t], user, write, wp);
        let got = m.cpu.mmu.translate(T_LIN, AccessKind::new(user, write));
        match expect {
            Ok(()) => assert_eq!(got, Ok(T_FRAME | (T_LIN & 0xfff)), "{what}"),
            Err(code) => {
                faults += 1;
                assert_eq!(got, Err(pf(T_LIN, code)), "{what}");
            }
        }
        check_after(&m, &what, d, t, write, expect, T_LIN);
        // The same access again (now possibly through the TLB) gives the same answer.
        m.cpu.mmu.cr2 = CR2_SENTINEL;
        let again = m.cpu.mmu.translate(T_LIN, AccessKind::new(user, write));
        assert_eq!(again, got, "{what}: repeated");
    }
    // Sanity: the matrix has both outcomes in quantity.
    assert!(faults > 300 && faults < 512, "{faults}");
}

/// The same matrix with the TLB already holding whatever the other kinds of access
/// left there (in two different orders, and with the PTE clean or already A|D): a
/// cached translation must never grant more than the tables do, nor refuse what they
/// allow, and a write must still set D.
#[test]
fn exhaustive_through_a_warm_tlb() {
    use AccessKind::*;
    let mut m = Machine::new();
    let orders = [[SupRead, UserRead, SupWrite, UserWrite], [UserWrite, SupWrite, UserRead, SupRead]];
    for (d, t, user, write, wp) in all_cases() {
        for order in orders {
            for ad in [0, B_A | B_D] {
                let what = format!("warm {order:?} A|D={ad:#x}: {}", case_name(d, t, user, write, wp));
                set_rights(&mut m, d, t | ad, wp);
                let (mut used, mut wrote) = (false, false);
                for k in order {
                    let ok = m.cpu.mmu.translate(T_LIN, k).is_ok();
                    assert_eq!(
                        ok,
                        sdm_access(&[d, t], k.is_user(), k.is_write(), wp).is_ok(),
                        "{what}: {k:?}"
                    );
                    used |= ok;
                    wrote |= ok && k.is_write();
                }
                let a = if used { B_A } else { 0 };
                let dirty = if wrote { B_D } else { 0 };
                assert_eq!(pde(&m, T_LIN), T_PT | d | a, "{what}: PDE after warming");
                assert_eq!(pte(&m, T_LIN), T_FRAME | t | ad | a | dirty, "{what}: PTE after warming");

                m.cpu.mmu.cr2 = CR2_SENTINEL;
                let (pde0, pte0) = (pde(&m, T_LIN), pte(&m, T_LIN));
                let expect = sdm_access(&[pde0, pte0], user, write, wp);
                let got = m.cpu.mmu.translate(T_LIN, AccessKind::new(user, write));
                match expect {
                    Ok(()) => {
                        assert_eq!(got, Ok(T_FRAME | (T_LIN & 0xfff)), "{what}");
                        let d_bit = if write { B_D } else { 0 };
                        assert_eq!(pte(&m, T_LIN), pte0 | B_A | d_bit, "{what}: PTE");
                        assert_eq!(m.cpu.mmu.cr2, CR2_SENTINEL, "{what}");
                    }
                    Err(code) => {
                        assert_eq!(got, Err(pf(T_LIN, code)), "{what}");
                        assert_eq!((pde(&m, T_LIN), pte(&m, T_LIN)), (pde0, pte0), "{what}: entries");
                        assert_eq!(m.cpu.mmu.cr2, T_LIN, "{what}");
                    }
                }
            }
        }
    }
}

#[test]
fn exhaustive_read_write() {
    let mut m = Machine::new();
    for (d, t, user, write, wp) in all_cases() {
        let what = format!("read/write: {}", case_name(d, t, user, write, wp));
        set_rights(&mut m, d, t, wp);
        let phys = T_FRAME | (T_LIN & 0xfff);
        m.cpu.mmu.phys_mut().write_u32(phys, 0x1122_3344);
        let expect = sdm_access(&[d, t], user, write, wp);
        let got = if write {
            m.cpu.mmu.write::<u32>(T_LIN, 0xcafe_f00d, user).map(|()| 0)
        } else {
            m.cpu.mmu.read::<u32>(T_LIN, user)
        };
        match expect {
            Ok(()) => {
                assert_eq!(got, Ok(if write { 0 } else { 0x1122_3344 }), "{what}");
                let want = if write { 0xcafe_f00d } else { 0x1122_3344 };
                assert_eq!(m.cpu.mmu.phys().read_u32(phys), want, "{what}: memory");
            }
            Err(code) => {
                assert_eq!(got, Err(pf(T_LIN, code)), "{what}");
                assert_eq!(m.cpu.mmu.phys().read_u32(phys), 0x1122_3344, "{what}: memory must be untouched");
            }
        }
        check_after(&m, &what, d, t, write, expect, T_LIN);
    }
}

#[test]
fn exhaustive_probe_and_byte_buffers() {
    let mut m = Machine::new();
    for (d, t, user, write, wp) in all_cases() {
        let what = format!("probe/buffers: {}", case_name(d, t, user, write, wp));
        let expect = sdm_access(&[d, t], user, write, wp);
        let kind = AccessKind::new(user, write);
        let want = expect.map_err(|code| pf(T_LIN, code));

        set_rights(&mut m, d, t, wp);
        assert_eq!(m.cpu.mmu.probe(T_LIN, 16, kind), want, "{what}: probe");
        check_after(&m, &what, d, t, write, expect, T_LIN);

        set_rights(&mut m, d, t, wp);
        let phys = T_FRAME | (T_LIN & 0xfff);
        m.cpu.mmu.phys_mut().write_bytes(phys, &[1, 2, 3, 4, 5]);
        if write {
            assert_eq!(m.cpu.mmu.write_from(T_LIN, &[9; 5], kind), want, "{what}: write_from");
            let mut now = [0u8; 5];
            m.cpu.mmu.phys().read_bytes(phys, &mut now);
            assert_eq!(now, if expect.is_ok() { [9; 5] } else { [1, 2, 3, 4, 5] }, "{what}: memory");
        } else {
            let mut buf = [0u8; 5];
            assert_eq!(m.cpu.mmu.read_into(T_LIN, &mut buf, kind), want, "{what}: read_into");
            if expect.is_ok() {
                assert_eq!(buf, [1, 2, 3, 4, 5], "{what}");
            }
        }
        check_after(&m, &what, d, t, write, expect, T_LIN);
    }
}

/// User-mode data accesses made by instructions (`mov eax, [m]` / `mov [m], eax`):
/// the CPU runs at CPL 3, so these are the user rows of the matrix.
#[test]
fn exhaustive_user_accesses_by_instructions() {
    for (d, t, user, write, wp) in all_cases() {
        if !user {
            continue;
        }
        let what = format!("instruction: {}", case_name(d, t, user, write, wp));
        let mut m = rights_machine(d, t, wp);
        m.map(CODE, PTE_P | PTE_US);
        m.load_code(CODE, &if write { code_store(T_LIN) } else { code_load(T_LIN) });
        let phys = T_FRAME | (T_LIN & 0xfff);
        m.cpu.mmu.phys_mut().write_u32(phys, 0x5566_7788);
        m.cpu.regs[EAX] = if write { 0x0bad_cafe } else { 0 };
        let expect = sdm_access(&[d, t], true, write, wp);
        let exit = m.cpu.run(10);
        match expect {
            Ok(()) => {
                assert_eq!(exit, STOPPED, "{what}");
                assert_eq!(m.cpu.eip, CODE + 5, "{what}");
                if write {
                    assert_eq!(m.cpu.mmu.phys().read_u32(phys), 0x0bad_cafe, "{what}");
                } else {
                    assert_eq!(m.cpu.regs[EAX], 0x5566_7788, "{what}");
                }
            }
            Err(code) => {
                assert_eq!(exit, pf_exit(T_LIN, code), "{what}");
                // A fault: EIP at the faulting instruction, nothing retired or stored.
                assert_eq!(m.cpu.eip, CODE, "{what}");
                assert_eq!(m.cpu.icount, 0, "{what}");
                assert_eq!(m.cpu.mmu.phys().read_u32(phys), 0x5566_7788, "{what}");
                assert_eq!(m.cpu.regs[EAX], if write { 0x0bad_cafe } else { 0 }, "{what}");
            }
        }
        check_after(&m, &what, d, t, write, expect, T_LIN);
    }
}

/// Instruction fetch is a user-mode read (no NX/SMEP with 32-bit paging, so the error
/// code has no I/D bit: §4.7).
#[test]
fn exhaustive_instruction_fetch() {
    for (d, t, user, write, wp) in all_cases() {
        if !user || write {
            continue;
        }
        let what = format!("fetch: {}", case_name(d, t, user, write, wp));
        let mut m = rights_machine(d, t, wp);
        let phys = T_FRAME | (T_LIN & 0xfff);
        m.cpu.mmu.phys_mut().write_bytes(phys, &[0x90, 0x0f, 0x0b]); // nop; ud2
        m.cpu.eip = T_LIN;
        let expect = sdm_access(&[d, t], true, false, wp);
        let exit = m.cpu.run(10);
        match expect {
            Ok(()) => {
                assert_eq!(exit, STOPPED, "{what}");
                assert_eq!(m.cpu.eip, T_LIN + 1, "{what}");
                assert_eq!(m.cpu.icount, 1, "{what}");
            }
            Err(code) => {
                assert_eq!(exit, pf_exit(T_LIN, code), "{what}");
                assert_eq!(code & EC_U, EC_U);
                assert_eq!(m.cpu.eip, T_LIN, "{what}");
                assert_eq!(m.cpu.icount, 0, "{what}");
            }
        }
        check_after(&m, &what, d, t, false, expect, T_LIN);
    }
}

// ---------------------------------------------------------------------------------------
// 2. Accessed and Dirty (SDM §4.8)
// ---------------------------------------------------------------------------------------

const RW_USER: u32 = PTE_P | PTE_RW | PTE_US;

#[test]
fn read_sets_accessed_in_pde_and_pte_but_not_dirty() {
    let mut m = Machine::new();
    let lin = 0x0805_0010;
    m.map(lin, RW_USER);
    assert_eq!(pde(&m, lin) & (B_A | B_D), 0);
    assert_eq!(pte(&m, lin) & (B_A | B_D), 0);
    m.cpu.mmu.read::<u32>(lin, true).unwrap();
    assert_eq!(pde(&m, lin) & (B_A | B_D), B_A);
    assert_eq!(pte(&m, lin) & (B_A | B_D), B_A);
}

#[test]
fn write_sets_dirty_in_pte_only() {
    for user in [true, false] {
        let mut m = Machine::new();
        let lin = 0x0805_0010;
        m.map(lin, RW_USER);
        m.cpu.mmu.write::<u8>(lin, 1, user).unwrap();
        // The PDE references a page table: bit 6 is ignored there and never set.
        assert_eq!(pde(&m, lin) & (B_A | B_D), B_A);
        assert_eq!(pte(&m, lin) & (B_A | B_D), B_A | B_D);
    }
}

#[test]
fn first_write_after_a_read_rewalks_and_sets_dirty() {
    for (read_user, write_user) in [(true, true), (false, false), (true, false), (false, true)] {
        let what = format!("read user={read_user}, write user={write_user}");
        let mut m = Machine::new();
        let lin = 0x0805_0010;
        m.map(lin, RW_USER);
        m.cpu.mmu.read::<u32>(lin, read_user).unwrap();
        let (walks, hits, misses) = (m.cpu.mmu.walks, m.cpu.mmu.tlb().hits, m.cpu.mmu.tlb().misses);
        // A read through the TLB: no walk, one hit.
        m.cpu.mmu.read::<u32>(lin + 4, read_user).unwrap();
        assert_eq!(m.cpu.mmu.walks, walks, "{what}");
        assert_eq!((m.cpu.mmu.tlb().hits, m.cpu.mmu.tlb().misses), (hits + 1, misses), "{what}");
        assert_eq!(pte(&m, lin) & B_D, 0, "{what}");
        // The translation is cached, but D is clear in it: the write must walk, set D.
        m.cpu.mmu.write::<u32>(lin, 5, write_user).unwrap();
        assert_eq!(m.cpu.mmu.walks, walks + 1, "{what}: the first write after a read walks");
        assert_eq!((m.cpu.mmu.tlb().hits, m.cpu.mmu.tlb().misses), (hits + 1, misses + 1), "{what}");
        assert_eq!(pte(&m, lin) & (B_A | B_D), B_A | B_D, "{what}");
        // Later writes may use the (now dirty) cached translation.
        m.cpu.mmu.write::<u32>(lin + 8, 6, write_user).unwrap();
        assert_eq!(m.cpu.mmu.walks, walks + 1, "{what}");
    }
}

#[test]
fn dirty_is_set_when_accessed_was_already_set() {
    let mut m = Machine::new();
    let lin = 0x0805_0010;
    m.map(lin, RW_USER | PTE_A);
    let pde_now = pde(&m, lin) | B_A;
    set_pde(&mut m, lin, pde_now);
    m.cpu.mmu.write::<u16>(lin, 0x1234, true).unwrap();
    assert_eq!(pte(&m, lin) & (B_A | B_D), B_A | B_D);
    assert_eq!(pde(&m, lin) & B_D, 0);
}

#[test]
fn supervisor_write_to_read_only_page_with_wp_clear_sets_dirty() {
    let mut m = Machine::new();
    let lin = 0x0805_0010;
    m.map(lin, PTE_P | PTE_US);
    set_wp(&mut m, false);
    m.cpu.mmu.write::<u8>(lin, 7, false).unwrap();
    assert_eq!(pte(&m, lin) & (B_A | B_D), B_A | B_D);
    assert_eq!(pte(&m, lin) & B_RW, 0, "rights are never changed by the walk");
}

#[test]
fn software_clearing_dirty_then_invlpg_makes_the_next_write_set_it_again() {
    let mut m = Machine::new();
    let lin = 0x0805_0010;
    m.map(lin, RW_USER);
    m.cpu.mmu.write::<u8>(lin, 1, true).unwrap();
    let cleared = pte(&m, lin) & !(B_A | B_D);
    set_pte(&mut m, lin, cleared);
    m.cpu.mmu.invlpg(lin);
    m.cpu.mmu.write::<u8>(lin, 2, true).unwrap();
    assert_eq!(pte(&m, lin) & (B_A | B_D), B_A | B_D);
}

#[test]
fn mapping_inspection_never_sets_accessed_or_dirty() {
    let mut m = Machine::new();
    let lin = 0x0805_0010;
    let frame = m.map(lin, RW_USER);
    let before = (pde(&m, lin), pte(&m, lin));
    let got = m.cpu.mmu.mapping(lin);
    assert_eq!(got.pde, before.0);
    assert_eq!(got.pte, Some(before.1));
    assert_eq!(got.phys, Some(frame | 0x010));
    assert_eq!((pde(&m, lin), pte(&m, lin)), before);
}

// ---------------------------------------------------------------------------------------
// 3. 4 MiB pages (SDM §4.3, Table 4-4)
// ---------------------------------------------------------------------------------------

const BIG_LIN: u32 = 0x0c12_3456;
const BIG_FRAME: u32 = 0x0080_0000;

fn big_machine(pde_flags: u32, wp: bool) -> Machine {
    let mut m = Machine::new();
    let cr4 = m.cpu.mmu.cr4();
    m.cpu.mmu.set_cr4(cr4 | CR4_PSE);
    set_pde(&mut m, BIG_LIN, BIG_FRAME | B_PS | pde_flags);
    set_wp(&mut m, wp);
    m.cpu.mmu.cr2 = CR2_SENTINEL;
    m
}

#[test]
fn big_page_translates_with_22_bit_offset() {
    let mut m = big_machine(B_P | B_RW | B_US, true);
    let want = BIG_FRAME | (BIG_LIN & 0x003f_ffff);
    assert_eq!(m.cpu.mmu.translate(BIG_LIN, AccessKind::UserRead), Ok(want));
    // Another 4 KiB granule of the same big page.
    assert_eq!(m.cpu.mmu.translate(BIG_LIN + 0x0012_3000, AccessKind::SupRead), Ok(want + 0x0012_3000));
    m.cpu.mmu.phys_mut().write_u32(want, 0x0bad_f00d);
    assert_eq!(m.cpu.mmu.read::<u32>(BIG_LIN, true), Ok(0x0bad_f00d));
    let map = m.cpu.mmu.mapping(BIG_LIN);
    assert_eq!((map.pte, map.phys), (None, Some(want)));
}

#[test]
fn big_page_rights_come_from_the_pde_exhaustively() {
    for d in 0..8u32 {
        for user in [false, true] {
            for write in [false, true] {
                for wp in [false, true] {
                    let what = format!("4 MiB PDE {} {}", flag_name(d), case_name(d, 7, user, write, wp));
                    let mut m = big_machine(d, wp);
                    let before = pde(&m, BIG_LIN);
                    let expect = sdm_access(&[d], user, write, wp);
                    let got = m.cpu.mmu.translate(BIG_LIN, AccessKind::new(user, write));
                    match expect {
                        Ok(()) => {
                            assert_eq!(got, Ok(BIG_FRAME | (BIG_LIN & 0x003f_ffff)), "{what}");
                            // §4.8: the PDE maps the page, so it gets A, and D on a write.
                            let d_bit = if write { B_D } else { 0 };
                            assert_eq!(pde(&m, BIG_LIN), before | B_A | d_bit, "{what}");
                            assert_eq!(m.cpu.mmu.cr2, CR2_SENTINEL, "{what}");
                        }
                        Err(code) => {
                            assert_eq!(got, Err(pf(BIG_LIN, code)), "{what}");
                            assert_eq!(pde(&m, BIG_LIN), before, "{what}: PDE untouched");
                            assert_eq!(m.cpu.mmu.cr2, BIG_LIN, "{what}");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn big_page_read_then_write_sets_dirty_in_the_pde() {
    let mut m = big_machine(B_P | B_RW | B_US, true);
    m.cpu.mmu.read::<u8>(BIG_LIN, true).unwrap();
    assert_eq!(pde(&m, BIG_LIN) & (B_A | B_D), B_A);
    m.cpu.mmu.write::<u8>(BIG_LIN + 1, 1, true).unwrap();
    assert_eq!(pde(&m, BIG_LIN) & (B_A | B_D), B_A | B_D);
    assert_eq!(pde(&m, BIG_LIN) & B_PS, B_PS);
}

#[test]
fn ps_bit_is_ignored_without_cr4_pse() {
    let mut m = Machine::new();
    let lin = 0x0c00_5010;
    let frame = m.map(lin, RW_USER);
    // Set PS in the PDE: with CR4.PSE=0 bit 7 is ignored and the PDE still points at
    // a page table (SDM §4.3, Table 4-5).
    let d = pde(&m, lin) | B_PS;
    set_pde(&mut m, lin, d);
    assert_eq!(m.cpu.mmu.cr4() & CR4_PSE, 0);
    assert_eq!(m.cpu.mmu.translate(lin, AccessKind::UserWrite), Ok(frame | 0x010));
    assert_eq!(m.cpu.mmu.mapping(lin).pte, Some(pte(&m, lin)));
    assert_eq!(pde(&m, lin), d | B_A, "PDE: A only, no D, PS kept");
    assert_eq!(pte(&m, lin) & (B_A | B_D), B_A | B_D);
    // Turning PSE on makes the same PDE a 4 MiB page. Its bits 21:12 (the page
    // table's address) are now reserved bits, so the access is a reserved-bit
    // violation (see `big_page_reserved_bits_fault`).
    assert_ne!(d & 0x003f_f000, 0);
    let cr4 = m.cpu.mmu.cr4();
    m.cpu.mmu.set_cr4(cr4 | CR4_PSE);
    let now = pde(&m, lin);
    assert_eq!(m.cpu.mmu.translate(lin, AccessKind::UserRead), Err(pf(lin, EC_P | EC_RSVD | EC_U)));
    assert_eq!(pde(&m, lin), now);
    // With a clean 4 MiB PDE the base is PDE[31:22].
    set_pde(&mut m, lin, 0x00c0_0000 | B_PS | B_P | B_US);
    assert_eq!(m.cpu.mmu.translate(lin, AccessKind::UserRead), Ok(0x00c0_0000 | (lin & 0x003f_ffff)));
}

/// This CPU reports neither PSE-36 nor PAT in CPUID, so in a PDE that maps a 4 MiB
/// page bits 21:12 are reserved (SDM §4.3, Table 4-4). A set one makes any access a
/// reserved-bit violation: #PF with P=1 and RSVD=1 (§4.7), even if the access
/// rights would also have refused it, and nothing is updated.
#[test]
fn big_page_reserved_bits_fault() {
    for bit in 12..22 {
        for (user, write) in [(false, false), (false, true), (true, false), (true, true)] {
            let mut m = big_machine(B_P | B_US | (1 << bit), true); // read-only
            let before = pde(&m, BIG_LIN);
            let code = EC_P | EC_RSVD | if write { EC_W } else { 0 } | if user { EC_U } else { 0 };
            let got = m.cpu.mmu.translate(BIG_LIN, AccessKind::new(user, write));
            assert_eq!(got, Err(pf(BIG_LIN, code)), "bit {bit} user {user} write {write}");
            assert_eq!(pde(&m, BIG_LIN), before);
            assert_eq!(m.cpu.mmu.cr2, BIG_LIN);
        }
    }
    // Not present: P=0 wins, the other bits are not looked at.
    let mut m = big_machine(B_US | (1 << 13), true);
    assert_eq!(m.cpu.mmu.translate(BIG_LIN, AccessKind::UserRead), Err(pf(BIG_LIN, EC_U)));
    // Bit 22 is an address bit, not reserved.
    let mut m = big_machine(B_P | B_US, true);
    set_pde(&mut m, BIG_LIN, 0x00c0_0000 | B_PS | B_P | B_US);
    assert_eq!(m.cpu.mmu.translate(BIG_LIN, AccessKind::UserRead), Ok(0x00c0_0000 | (BIG_LIN & 0x003f_ffff)));
    // Through an instruction fetch.
    let mut m = big_machine(B_P | B_US | (1 << 20), true);
    m.cpu.eip = BIG_LIN;
    assert_eq!(m.cpu.run(1), pf_exit(BIG_LIN, EC_P | EC_RSVD | EC_U));
}

#[test]
fn big_page_user_access_through_instructions_and_fetch() {
    let mut m = big_machine(B_P | B_US, true); // read-only user 4 MiB page
    let code_lin = BIG_LIN & !0xfff;
    let code_phys = BIG_FRAME | (code_lin & 0x003f_ffff);
    // mov eax, [x]; mov [x], eax; ud2
    let mut code = vec![0xa1];
    code.extend_from_slice(&le(BIG_LIN + 0x100));
    code.extend_from_slice(&code_store(BIG_LIN + 0x100));
    m.cpu.mmu.phys_mut().write_bytes(code_phys, &code);
    m.cpu.mmu.phys_mut().write_u32(BIG_FRAME | ((BIG_LIN + 0x100) & 0x003f_ffff), 77);
    m.cpu.eip = code_lin;
    assert_eq!(m.cpu.run(10), pf_exit(BIG_LIN + 0x100, EC_P | EC_W | EC_U));
    assert_eq!(m.cpu.regs[EAX], 77);
    assert_eq!((m.cpu.eip, m.cpu.icount), (code_lin + 5, 1));
    assert_eq!(pde(&m, BIG_LIN) & (B_A | B_D), B_A);
}

// ---------------------------------------------------------------------------------------
// 4. The TLB (SDM §4.10)
// ---------------------------------------------------------------------------------------

const TLB_LIN: u32 = 0x0806_0123;

/// A machine with TLB_LIN mapped to a frame holding 0x1111_1111 and another frame
/// holding 0x2222_2222; returns (machine, first frame, second frame).
fn two_frames(pte_flags: u32) -> (Machine, u32, u32) {
    let mut m = Machine::new();
    let f1 = m.map(TLB_LIN, pte_flags);
    let f2 = m.map(0x0900_0000, RW_USER);
    m.cpu.mmu.phys_mut().write_u32(f1 | (TLB_LIN & 0xfff), 0x1111_1111);
    m.cpu.mmu.phys_mut().write_u32(f2 | (TLB_LIN & 0xfff), 0x2222_2222);
    (m, f1, f2)
}

#[test]
fn stale_translation_survives_until_invlpg() {
    let (mut m, _f1, f2) = two_frames(RW_USER);
    assert_eq!(m.cpu.mmu.read::<u32>(TLB_LIN, true), Ok(0x1111_1111));
    // Remap to another frame without invalidating: the TLB may keep the old
    // translation until it is invalidated (§4.10.2, §4.10.4.2), and this one does.
    let old = pte(&m, TLB_LIN);
    set_pte(&mut m, TLB_LIN, f2 | (old & 0xfff));
    assert_eq!(m.cpu.mmu.read::<u32>(TLB_LIN, true), Ok(0x1111_1111));
    // INVLPG of any address in the page.
    m.cpu.mmu.invlpg(TLB_LIN | 0xfff);
    assert_eq!(m.cpu.mmu.read::<u32>(TLB_LIN, true), Ok(0x2222_2222));
}

#[test]
fn stale_translation_survives_the_pte_becoming_not_present() {
    let (mut m, _f1, _f2) = two_frames(RW_USER);
    assert_eq!(m.cpu.mmu.read::<u32>(TLB_LIN, true), Ok(0x1111_1111));
    let old = pte(&m, TLB_LIN);
    set_pte(&mut m, TLB_LIN, old & !B_P);
    m.cpu.mmu.cr2 = CR2_SENTINEL;
    assert_eq!(m.cpu.mmu.read::<u32>(TLB_LIN, true), Ok(0x1111_1111));
    assert_eq!(m.cpu.mmu.cr2, CR2_SENTINEL);
    m.cpu.mmu.invlpg(TLB_LIN);
    assert_eq!(m.cpu.mmu.read::<u32>(TLB_LIN, true), Err(pf(TLB_LIN, EC_U)));
    assert_eq!(m.cpu.mmu.cr2, TLB_LIN);
    assert_eq!(pte(&m, TLB_LIN), old & !B_P);
}

#[test]
fn cr3_load_drops_non_global_entries() {
    let (mut m, _f1, f2) = two_frames(RW_USER | PTE_G); // G without CR4.PGE: not global
    assert_eq!(m.cpu.mmu.read::<u32>(TLB_LIN, true), Ok(0x1111_1111));
    let old = pte(&m, TLB_LIN);
    set_pte(&mut m, TLB_LIN, f2 | (old & 0xfff));
    assert_eq!(m.cpu.mmu.read::<u32>(TLB_LIN, true), Ok(0x1111_1111));
    let cr3 = m.cpu.mmu.cr3();
    m.cpu.mmu.set_cr3(cr3);
    assert_eq!(m.cpu.mmu.read::<u32>(TLB_LIN, true), Ok(0x2222_2222));
}

#[test]
fn global_entries_survive_cr3_loads_but_not_a_pge_toggle() {
    let (mut m, _f1, f2) = two_frames(RW_USER | PTE_G);
    // A non-global neighbour as a control.
    let other = 0x0806_1000;
    let o1 = m.map(other, RW_USER);
    let o2 = m.map(0x0900_1000, RW_USER);
    m.cpu.mmu.phys_mut().write_u32(o1, 0x3333_3333);
    m.cpu.mmu.phys_mut().write_u32(o2, 0x4444_4444);
    let cr4 = m.cpu.mmu.cr4();
    m.cpu.mmu.set_cr4(cr4 | CR4_PGE);
    assert_eq!(m.cpu.mmu.read::<u32>(TLB_LIN, true), Ok(0x1111_1111));
    assert_eq!(m.cpu.mmu.read::<u32>(other, true), Ok(0x3333_3333));
    let g = pte(&m, TLB_LIN);
    set_pte(&mut m, TLB_LIN, f2 | (g & 0xfff));
    let n = pte(&m, other);
    set_pte(&mut m, other, o2 | (n & 0xfff));
    let cr3 = m.cpu.mmu.cr3();
    m.cpu.mmu.set_cr3(cr3);
    // §4.10.4.1: MOV to CR3 invalidates all non-global entries; with CR4.PGE=1 global
    // ones stay.
    assert_eq!(m.cpu.mmu.read::<u32>(TLB_LIN, true), Ok(0x1111_1111), "global entry kept");
    assert_eq!(m.cpu.mmu.read::<u32>(other, true), Ok(0x4444_4444), "non-global dropped");
    // §4.10.4.1: a MOV to CR4 that changes PGE invalidates all entries, global too.
    m.cpu.mmu.set_cr4(cr4);
    assert_eq!(m.cpu.mmu.read::<u32>(TLB_LIN, true), Ok(0x2222_2222));
}

#[test]
fn pge_set_after_the_fill_and_toggled_back_on_also_flushes() {
    let (mut m, _f1, f2) = two_frames(RW_USER | PTE_G);
    let cr4 = m.cpu.mmu.cr4();
    m.cpu.mmu.set_cr4(cr4 | CR4_PGE);
    assert_eq!(m.cpu.mmu.read::<u32>(TLB_LIN, true), Ok(0x1111_1111));
    let g = pte(&m, TLB_LIN);
    set_pte(&mut m, TLB_LIN, f2 | (g & 0xfff));
    m.cpu.mmu.set_cr4(cr4);
    m.cpu.mmu.set_cr4(cr4 | CR4_PGE);
    assert_eq!(m.cpu.mmu.read::<u32>(TLB_LIN, true), Ok(0x2222_2222));
}

#[test]
fn invlpg_drops_a_global_entry() {
    let (mut m, _f1, f2) = two_frames(RW_USER | PTE_G);
    let cr4 = m.cpu.mmu.cr4();
    m.cpu.mmu.set_cr4(cr4 | CR4_PGE);
    assert_eq!(m.cpu.mmu.read::<u32>(TLB_LIN, true), Ok(0x1111_1111));
    let g = pte(&m, TLB_LIN);
    set_pte(&mut m, TLB_LIN, f2 | (g & 0xfff));
    m.cpu.mmu.invlpg(TLB_LIN);
    assert_eq!(m.cpu.mmu.read::<u32>(TLB_LIN, true), Ok(0x2222_2222));
}

#[test]
fn global_big_page_survives_cr3_load() {
    let mut m = big_machine(B_P | B_RW | B_US | B_G, true);
    let cr4 = m.cpu.mmu.cr4();
    m.cpu.mmu.set_cr4(cr4 | CR4_PGE);
    let want = BIG_FRAME | (BIG_LIN & 0x003f_ffff);
    assert_eq!(m.cpu.mmu.translate(BIG_LIN, AccessKind::UserRead), Ok(want));
    set_pde(&mut m, BIG_LIN, 0x00c0_0000 | B_PS | B_P | B_RW | B_US | B_G);
    let cr3 = m.cpu.mmu.cr3();
    m.cpu.mmu.set_cr3(cr3);
    assert_eq!(m.cpu.mmu.translate(BIG_LIN, AccessKind::UserRead), Ok(want));
    m.cpu.mmu.invlpg(BIG_LIN);
    assert_eq!(m.cpu.mmu.translate(BIG_LIN, AccessKind::UserRead), Ok(0x00c0_0000 | (BIG_LIN & 0x003f_ffff)));
}

/// SDM §4.10.2.3: a processor may cache a 4 MiB page as several 4 KiB TLB entries, but
/// "INVLPG and page faults provide the same assurances that they provide when a single
/// TLB entry is used: they invalidate all TLB entries corresponding to the translation
/// specified by the paging structures." So INVLPG of one address in a big page must
/// drop the cached translations of its other 4 KiB pieces too.
#[test]
fn invlpg_anywhere_in_a_big_page_drops_all_of_it() {
    let mut m = big_machine(B_P | B_RW | B_US, true);
    let a = BIG_LIN;
    let b = BIG_LIN + 0x0010_0000; // same 4 MiB page, another 4 KiB piece
    assert_eq!(m.cpu.mmu.translate(a, AccessKind::UserRead), Ok(BIG_FRAME | (a & 0x003f_ffff)));
    assert_eq!(m.cpu.mmu.translate(b, AccessKind::UserRead), Ok(BIG_FRAME | (b & 0x003f_ffff)));
    set_pde(&mut m, a, 0x00c0_0000 | B_PS | B_P | B_RW | B_US);
    m.cpu.mmu.invlpg(a);
    assert_eq!(m.cpu.mmu.translate(b, AccessKind::UserRead), Ok(0x00c0_0000 | (b & 0x003f_ffff)));
    assert_eq!(m.cpu.mmu.translate(a, AccessKind::UserRead), Ok(0x00c0_0000 | (a & 0x003f_ffff)));
    // And INVLPG of an address whose own piece was never cached.
    let c = BIG_LIN + 0x0020_0000;
    set_pde(&mut m, a, BIG_FRAME | B_PS | B_P | B_RW | B_US);
    m.cpu.mmu.invlpg(c);
    assert_eq!(m.cpu.mmu.translate(a, AccessKind::UserRead), Ok(BIG_FRAME | (a & 0x003f_ffff)));
    assert_eq!(m.cpu.mmu.translate(b, AccessKind::UserRead), Ok(BIG_FRAME | (b & 0x003f_ffff)));
}

/// Permission upgrade without INVLPG. The SDM (§4.10.4.3) lets the processor either
/// fault using the stale (read-only) entry or re-walk; real processors re-walk the
/// tables before reporting a fault, and so does the emulator: the write succeeds and
/// sets D. (This is what makes lazy COW fix-ups without INVLPG work.)
#[test]
fn permission_upgrade_without_invlpg_rewalks_and_succeeds() {
    let (mut m, f1, _f2) = two_frames(PTE_P | PTE_US);
    assert_eq!(m.cpu.mmu.read::<u32>(TLB_LIN, true), Ok(0x1111_1111));
    let ro = pte(&m, TLB_LIN);
    set_pte(&mut m, TLB_LIN, ro | B_RW);
    let walks = m.cpu.mmu.walks;
    m.cpu.mmu.cr2 = CR2_SENTINEL;
    assert_eq!(m.cpu.mmu.write::<u32>(TLB_LIN, 0x5555_5555, true), Ok(()));
    assert_eq!(m.cpu.mmu.walks, walks + 1);
    assert_eq!(m.cpu.mmu.cr2, CR2_SENTINEL);
    assert_eq!(m.cpu.mmu.phys().read_u32(f1 | (TLB_LIN & 0xfff)), 0x5555_5555);
    assert_eq!(pte(&m, TLB_LIN) & (B_A | B_D | B_RW), B_A | B_D | B_RW);
    // Same for a supervisor → user upgrade (U/S 0→1) of a cached supervisor entry.
    let (mut m, _f1, _f2) = two_frames(PTE_P | PTE_RW);
    assert_eq!(m.cpu.mmu.read::<u32>(TLB_LIN, false), Ok(0x1111_1111));
    let s = pte(&m, TLB_LIN);
    set_pte(&mut m, TLB_LIN, s | B_US);
    assert_eq!(m.cpu.mmu.read::<u32>(TLB_LIN, true), Ok(0x1111_1111));
}

/// A permission *downgrade* without INVLPG may go unnoticed until the entry is
/// invalidated (§4.10.4.2: software must invalidate after making an entry more
/// restrictive). The emulator keeps using a dirty writable entry; after INVLPG the
/// write faults.
#[test]
fn permission_downgrade_needs_invlpg() {
    let (mut m, _f1, _f2) = two_frames(RW_USER);
    m.cpu.mmu.write::<u32>(TLB_LIN, 1, true).unwrap();
    let w = pte(&m, TLB_LIN);
    set_pte(&mut m, TLB_LIN, w & !B_RW);
    assert_eq!(m.cpu.mmu.write::<u32>(TLB_LIN, 2, true), Ok(()), "stale writable entry used");
    m.cpu.mmu.invlpg(TLB_LIN);
    assert_eq!(m.cpu.mmu.write::<u32>(TLB_LIN, 3, true), Err(pf(TLB_LIN, EC_P | EC_W | EC_U)));
}

/// SDM §4.10.4.1: "a page-fault exception resulting from an attempt to use a linear
/// address will invalidate any TLB entries that are for a page number corresponding to
/// that linear address". After a fault, the stale entry that let reads through is gone.
#[test]
fn a_page_fault_invalidates_the_stale_entry() {
    // Not-present: the cached read-only-so-far (clean) entry cannot serve the write,
    // which walks, finds P=0 and faults; the read that follows must walk too.
    let (mut m, _f1, _f2) = two_frames(RW_USER);
    assert_eq!(m.cpu.mmu.read::<u32>(TLB_LIN, true), Ok(0x1111_1111));
    let old = pte(&m, TLB_LIN);
    set_pte(&mut m, TLB_LIN, old & !B_P);
    assert_eq!(m.cpu.mmu.read::<u32>(TLB_LIN, true), Ok(0x1111_1111), "stale, before any fault");
    assert_eq!(m.cpu.mmu.write::<u32>(TLB_LIN, 9, true), Err(pf(TLB_LIN, EC_W | EC_U)));
    assert_eq!(m.cpu.mmu.read::<u32>(TLB_LIN, true), Err(pf(TLB_LIN, EC_U)));
    // Protection: a cached user entry whose PTE became supervisor-only.
    let (mut m, _f1, _f2) = two_frames(PTE_P | PTE_US);
    assert_eq!(m.cpu.mmu.read::<u32>(TLB_LIN, true), Ok(0x1111_1111));
    let old = pte(&m, TLB_LIN);
    set_pte(&mut m, TLB_LIN, old & !B_US);
    assert_eq!(m.cpu.mmu.read::<u32>(TLB_LIN, true), Ok(0x1111_1111), "stale, before any fault");
    assert_eq!(m.cpu.mmu.write::<u32>(TLB_LIN, 9, true), Err(pf(TLB_LIN, EC_P | EC_W | EC_U)));
    assert_eq!(m.cpu.mmu.read::<u32>(TLB_LIN, true), Err(pf(TLB_LIN, EC_P | EC_U)));
}

#[test]
fn a_page_fault_in_a_big_page_invalidates_all_of_its_pieces() {
    let mut m = big_machine(B_P | B_US, true);
    let a = BIG_LIN;
    let b = BIG_LIN + 0x0010_0000;
    assert_eq!(m.cpu.mmu.translate(b, AccessKind::UserRead), Ok(BIG_FRAME | (b & 0x003f_ffff)));
    set_pde(&mut m, a, 0x00c0_0000 | B_PS | B_P | B_US);
    assert_eq!(m.cpu.mmu.translate(a, AccessKind::UserWrite), Err(pf(a, EC_P | EC_W | EC_U)));
    assert_eq!(m.cpu.mmu.translate(b, AccessKind::UserRead), Ok(0x00c0_0000 | (b & 0x003f_ffff)));
}

#[test]
fn wp_change_takes_effect_at_once() {
    let mut m = Machine::new();
    let lin = 0x0805_0010;
    m.map(lin, PTE_P | PTE_US | PTE_D | PTE_A);
    set_wp(&mut m, false);
    assert_eq!(m.cpu.mmu.write::<u8>(lin, 1, false), Ok(()));
    set_wp(&mut m, true);
    assert_eq!(m.cpu.mmu.write::<u8>(lin, 2, false), Err(pf(lin, EC_P | EC_W)));
    set_wp(&mut m, false);
    assert_eq!(m.cpu.mmu.write::<u8>(lin, 3, false), Ok(()));
}

#[test]
fn pages_sharing_a_tlb_set_do_not_alias() {
    // TLB index bits are part of the VPN; pages 16 MiB apart share a set here.
    let mut m = Machine::new();
    let a = 0x0805_0000;
    let b = a + (16 << 20);
    let fa = m.map(a, RW_USER);
    let fb = m.map(b, RW_USER);
    m.cpu.mmu.phys_mut().write_u32(fa, 0xaaaa_aaaa);
    m.cpu.mmu.phys_mut().write_u32(fb, 0xbbbb_bbbb);
    for _ in 0..3 {
        assert_eq!(m.cpu.mmu.read::<u32>(a, true), Ok(0xaaaa_aaaa));
        assert_eq!(m.cpu.mmu.read::<u32>(b, true), Ok(0xbbbb_bbbb));
    }
}

/// Two linear pages mapped to one frame: a write through either is seen through the
/// other at once, with both translations (and their write tags) cached, for every
/// access width and at the very end of the page. The second alias is placed 16 MiB
/// on so the two also fight over one TLB set.
#[test]
fn aliased_mappings_see_each_others_writes() {
    for gap in [0x0010_0000u32, 16 << 20] {
        let mut m = Machine::new();
        let a = 0x0805_0000;
        let b = a + gap;
        let frame = m.map(a, RW_USER);
        m.map_to(b, frame, RW_USER, RW_USER);
        for (i, off) in [0u32, 0x7f3, 0xffc].into_iter().enumerate() {
            let v = 0x1000_0001 * (i as u32 + 1);
            // Warm both write tags first, then write through one and read the other.
            m.cpu.mmu.write::<u32>(a + off, 0, true).unwrap();
            m.cpu.mmu.write::<u32>(b + off, 0, true).unwrap();
            m.cpu.mmu.write::<u32>(a + off, v, true).unwrap();
            assert_eq!(m.cpu.mmu.read::<u32>(b + off, true), Ok(v), "gap {gap:#x} off {off:#x}");
            m.cpu.mmu.write::<u16>(b + off + 2, 0xbeef, true).unwrap();
            assert_eq!(m.cpu.mmu.read::<u16>(a + off + 2, true), Ok(0xbeef));
            m.cpu.mmu.write::<u8>(a + off + 3, 0x5a, true).unwrap();
            assert_eq!(m.cpu.mmu.read::<u8>(b + off + 3, true), Ok(0x5a));
            assert_eq!(m.cpu.mmu.read::<u32>(b + off, true), Ok(0x5aef_0000 | (v & 0xffff)));
            assert_eq!(m.cpu.mmu.phys().read_u32(frame + off), 0x5aef_0000 | (v & 0xffff));
        }
        // Supervisor accesses take the same path.
        m.cpu.mmu.write::<u32>(b + 0x10, 0x0bad_cafe, false).unwrap();
        assert_eq!(m.cpu.mmu.read::<u32>(a + 0x10, false), Ok(0x0bad_cafe));
    }
}

/// A PTE may name a frame past the end of RAM. The emulator models an unpopulated bus
/// there: reads give all-ones and writes vanish, whatever the access width; such a
/// translation is never cached (a TLB hit reaches RAM with no bounds compare, so the
/// TLB holds only frames in RAM) and every access walks. The last frame of RAM is
/// still ordinary memory.
#[test]
fn a_frame_beyond_ram_reads_all_ones_and_ignores_writes() {
    let mut m = Machine::new(); // 16 MiB of RAM
    let ram_end = 16u32 << 20;
    let last = 0x0a00_0000;
    let outside = last + 0x1000;
    m.map_to(outside, ram_end, RW_USER | PTE_A | PTE_D, RW_USER);
    m.map_to(last, ram_end - 0x1000, RW_USER | PTE_A | PTE_D, RW_USER);
    for round in 0..3 {
        // Every round walks: the frame is not cached.
        let walks = m.cpu.mmu.walks;
        assert_eq!(m.cpu.mmu.read::<u32>(outside + 0x40, true), Ok(0xffff_ffff), "round {round}");
        assert_eq!(m.cpu.mmu.walks, walks + 1, "round {round}: a frame beyond RAM is walked to");
        assert_eq!(m.cpu.mmu.read::<u16>(outside + 0xffe, true), Ok(0xffff));
        assert_eq!(m.cpu.mmu.read::<u8>(outside, false), Ok(0xff));
        assert_eq!(m.cpu.mmu.write::<u32>(outside + 0x40, 0x1234_5678, true), Ok(()));
        assert_eq!(m.cpu.mmu.write::<u8>(outside + 0xfff, 0, false), Ok(()));
        assert_eq!(m.cpu.mmu.read::<u32>(outside + 0x40, true), Ok(0xffff_ffff));
        assert_eq!(m.cpu.mmu.read::<u8>(outside + 0xfff, true), Ok(0xff));
        let v = 0x0101_0101 * (round + 1);
        assert_eq!(m.cpu.mmu.write::<u32>(last + 0xffc, v, true), Ok(()));
        assert_eq!(m.cpu.mmu.read::<u32>(last + 0xffc, true), Ok(v));
        assert_eq!(m.cpu.mmu.phys().read_u32(ram_end - 4), v);
    }
    // A straddling access whose second half lies outside RAM: the inside half is
    // memory, the outside half is all-ones.
    m.cpu.mmu.write::<u32>(last + 0xffe, 0, true).unwrap();
    assert_eq!(m.cpu.mmu.phys().read_u16(ram_end - 2), 0);
    assert_eq!(m.cpu.mmu.read::<u32>(last + 0xffe, true), Ok(0xffff_0000));
    // The same through instructions: `mov eax, [outside]` then `mov [outside], eax`.
    m.map(CODE, PTE_P | PTE_US);
    m.load_code(CODE, &code_load(outside + 0x80));
    m.cpu.regs[EAX] = 0;
    assert_eq!(m.cpu.run(10), STOPPED);
    assert_eq!(m.cpu.regs[EAX], 0xffff_ffff);
    let store_at = CODE + 0x100;
    let store_phys = m.cpu.mmu.mapping(store_at).phys.unwrap();
    m.cpu.mmu.phys_mut().write_bytes(store_phys, &code_store(outside + 0x80));
    m.cpu.eip = store_at;
    m.cpu.regs[EAX] = 7;
    assert_eq!(m.cpu.run(10), STOPPED);
    assert_eq!(m.cpu.mmu.read::<u32>(outside + 0x80, true), Ok(0xffff_ffff));
}

// ---------------------------------------------------------------------------------------
// 5. Accesses that straddle a page boundary
// ---------------------------------------------------------------------------------------

const S1: u32 = 0x0807_0000;
const S2: u32 = S1 + 0x1000;
const S3: u32 = S2 + 0x1000;

/// S1 writable; S2 mapped with `second` (0 = unmapped). Frames are allocated S2 first
/// so the two pages are *not* physically contiguous in the S1→S2 direction.
fn straddle_machine(second: u32) -> (Machine, u32) {
    let mut m = Machine::new();
    if second != 0 {
        m.map(S2, second);
    } else {
        m.map(S3, RW_USER); // make sure the page table exists; S2's PTE stays 0
    }
    let f1 = m.map(S1, RW_USER);
    m.cpu.mmu.cr2 = CR2_SENTINEL;
    (m, f1)
}

#[test]
fn straddling_u32_write_faults_on_the_second_page_and_writes_nothing() {
    for (second, user, code) in [
        (PTE_P | PTE_US, true, EC_P | EC_W | EC_U), // read-only
        (0, true, EC_W | EC_U),                     // unmapped
        (PTE_P | PTE_US, false, EC_P | EC_W),       // supervisor, CR0.WP=1
        (0, false, EC_W),
        (PTE_P | PTE_RW, true, EC_P | EC_W | EC_U), // supervisor-only
    ] {
        let (mut m, f1) = straddle_machine(second);
        let lin = S1 + 0xffe;
        let got = m.cpu.mmu.write::<u32>(lin, 0xa1b2_c3d4, user);
        assert_eq!(got, Err(pf(S2, code)), "second {second:#x} user {user}");
        assert_eq!(m.cpu.mmu.cr2, S2);
        assert_eq!(m.cpu.mmu.phys().read_u16(f1 + 0xffe), 0, "first page untouched");
        if second != 0 {
            assert_eq!(pte(&m, S2) & (B_A | B_D), 0, "second PTE untouched");
        }
    }
}

#[test]
fn straddling_write_fault_on_the_first_page_reports_the_access_address() {
    let mut m = Machine::new();
    m.map(S1, PTE_P | PTE_US);
    let f2 = m.map(S2, RW_USER);
    assert_eq!(m.cpu.mmu.write::<u32>(S1 + 0xffe, 1, true), Err(pf(S1 + 0xffe, EC_P | EC_W | EC_U)));
    assert_eq!(m.cpu.mmu.cr2, S1 + 0xffe);
    assert_eq!(m.cpu.mmu.phys().read_u16(f2), 0);
}

#[test]
fn straddling_write_from_faults_before_writing_anything() {
    // Three pages, the third unmapped.
    let mut m = Machine::new();
    m.map(S3 + 0x1000, RW_USER);
    let f2 = m.map(S2, RW_USER);
    let f1 = m.map(S1, RW_USER);
    let data = [0x5au8; 0x1100];
    let got = m.cpu.mmu.write_from(S1 + 0xf80, &data, AccessKind::UserWrite);
    assert_eq!(got, Err(pf(S3, EC_W | EC_U)));
    assert_eq!(m.cpu.mmu.cr2, S3);
    assert!(m.cpu.mmu.phys().slice(f1, 0x1000).iter().all(|&b| b == 0));
    assert!(m.cpu.mmu.phys().slice(f2, 0x1000).iter().all(|&b| b == 0));
    // Second page read-only.
    let (mut m, f1) = straddle_machine(PTE_P | PTE_US);
    let got = m.cpu.mmu.write_from(S1 + 0xff0, &[0xee; 0x20], AccessKind::UserWrite);
    assert_eq!(got, Err(pf(S2, EC_P | EC_W | EC_U)));
    assert!(m.cpu.mmu.phys().slice(f1, 0x1000).iter().all(|&b| b == 0));
    // And the same through an instruction: `rep stosb` is not needed, a straddling
    // `mov [m], eax` is enough.
    let (mut m, f1) = straddle_machine(PTE_P | PTE_US);
    m.map(CODE, PTE_P | PTE_US);
    m.load_code(CODE, &code_store(S1 + 0xffd));
    m.cpu.regs[EAX] = 0xffff_ffff;
    assert_eq!(m.cpu.run(10), pf_exit(S2, EC_P | EC_W | EC_U));
    assert_eq!(m.cpu.eip, CODE);
    assert!(m.cpu.mmu.phys().slice(f1, 0x1000).iter().all(|&b| b == 0));
}

/// A read-modify-write instruction (`add [m], eax`) checks write rights before it
/// reads: the error code has W=1 for a read-only page and for a missing one, and
/// nothing changes. A plain compare (`cmp [m], eax`) only reads.
#[test]
fn read_modify_write_instruction_faults_as_a_write() {
    for (flags, code) in [(PTE_P | PTE_US, EC_P | EC_W | EC_U), (PTE_US, EC_W | EC_U)] {
        let mut m = Machine::new();
        let data = 0x0805_0100;
        let frame = m.map(data, flags);
        m.cpu.mmu.phys_mut().write_u32(frame | 0x100, 40);
        m.map(CODE, PTE_P | PTE_US);
        // add [data], eax ; ud2
        let mut code_bytes = vec![0x01, 0x05];
        code_bytes.extend_from_slice(&le(data));
        code_bytes.extend_from_slice(&UD2);
        m.load_code(CODE, &code_bytes);
        m.cpu.regs[EAX] = 2;
        let before = pte(&m, data);
        assert_eq!(m.cpu.run(10), pf_exit(data, code), "flags {flags:#x}");
        assert_eq!(m.cpu.mmu.phys().read_u32(frame | 0x100), 40);
        assert_eq!(pte(&m, data), before, "no A/D on a faulting RMW");
        assert_eq!((m.cpu.eip, m.cpu.icount), (CODE, 0));
    }
    let mut m = Machine::new();
    let data = 0x0805_0100;
    let frame = m.map(data, PTE_P | PTE_US);
    m.cpu.mmu.phys_mut().write_u32(frame | 0x100, 40);
    m.map(CODE, PTE_P | PTE_US);
    // cmp [data], eax ; ud2
    let mut code_bytes = vec![0x39, 0x05];
    code_bytes.extend_from_slice(&le(data));
    code_bytes.extend_from_slice(&UD2);
    m.load_code(CODE, &code_bytes);
    assert_eq!(m.cpu.run(10), STOPPED);
    assert_eq!(pte(&m, data) & (B_A | B_D), B_A);
}

#[test]
fn straddling_reads_work_across_non_contiguous_frames() {
    let (mut m, f1) = straddle_machine(PTE_P | PTE_US);
    let f2 = m.cpu.mmu.mapping(S2).phys.unwrap();
    assert_ne!(f1 + 0x1000, f2, "the test needs non-contiguous frames");
    m.cpu.mmu.phys_mut().write_u8(f1 + 0xffd, 0x11);
    m.cpu.mmu.phys_mut().write_u8(f1 + 0xffe, 0x22);
    m.cpu.mmu.phys_mut().write_u8(f1 + 0xfff, 0x33);
    m.cpu.mmu.phys_mut().write_u8(f2, 0x44);
    m.cpu.mmu.phys_mut().write_u8(f2 + 1, 0x55);
    m.cpu.mmu.phys_mut().write_u8(f2 + 2, 0x66);
    assert_eq!(m.cpu.mmu.read::<u16>(S1 + 0xfff, true), Ok(0x4433));
    assert_eq!(m.cpu.mmu.read::<u32>(S1 + 0xffd, true), Ok(0x4433_2211));
    assert_eq!(m.cpu.mmu.read::<u32>(S1 + 0xfff, false), Ok(0x6655_4433));
    assert_eq!(pte(&m, S2) & (B_A | B_D), B_A);
    assert_eq!(m.cpu.mmu.cr2, CR2_SENTINEL);
    // Through an instruction.
    m.map(CODE, PTE_P | PTE_US);
    m.load_code(CODE, &code_load(S1 + 0xffe));
    assert_eq!(m.cpu.run(10), STOPPED);
    assert_eq!(m.cpu.regs[EAX], 0x5544_3322);
}

#[test]
fn straddling_write_into_two_writable_pages_lands_in_both_frames() {
    let (mut m, f1) = straddle_machine(RW_USER);
    let f2 = m.cpu.mmu.mapping(S2).phys.unwrap();
    assert_eq!(m.cpu.mmu.write::<u32>(S1 + 0xffe, 0xa1b2_c3d4, true), Ok(()));
    assert_eq!(m.cpu.mmu.phys().read_u16(f1 + 0xffe), 0xc3d4);
    assert_eq!(m.cpu.mmu.phys().read_u16(f2), 0xa1b2);
    assert_eq!(pte(&m, S1) & (B_A | B_D), B_A | B_D);
    assert_eq!(pte(&m, S2) & (B_A | B_D), B_A | B_D);
}

#[test]
fn straddling_read_faults_on_the_missing_second_page() {
    let (mut m, _f1) = straddle_machine(0);
    assert_eq!(m.cpu.mmu.read::<u16>(S1 + 0xfff, true), Err(pf(S2, EC_U)));
    assert_eq!(m.cpu.mmu.cr2, S2);
    let (mut m, _f1) = straddle_machine(PTE_P | PTE_RW);
    assert_eq!(m.cpu.mmu.read::<u32>(S1 + 0xffd, true), Err(pf(S2, EC_P | EC_U)));
    assert_eq!(m.cpu.mmu.read::<u32>(S1 + 0xffd, false).map(|_| ()), Ok(()));
}

/// Code in page S1 (user read-only); S2 as given.
fn fetch_machine(second: u32) -> (Machine, u32) {
    let mut m = Machine::new();
    if second != 0 {
        m.map(S2, second);
    } else {
        m.map(S3, RW_USER);
    }
    let f1 = m.map(S1, PTE_P | PTE_US);
    m.cpu.mmu.cr2 = CR2_SENTINEL;
    (m, f1)
}

#[test]
fn fetch_of_an_instruction_crossing_into_an_unmapped_page_faults() {
    for (second, code) in [(0, EC_U), (PTE_P | PTE_RW, EC_P | EC_U)] {
        let (mut m, f1) = fetch_machine(second);
        // nop at 0xffc, then `mov eax, imm32` (b8 ..) at 0xffd: three bytes in S1, two
        // in S2.
        m.cpu.mmu.phys_mut().write_bytes(f1 + 0xffc, &[0x90, 0xb8, 0x11, 0x22]);
        m.cpu.eip = S1 + 0xffc;
        assert_eq!(m.cpu.run(10), pf_exit(S2, code), "second {second:#x}");
        assert_eq!(m.cpu.icount, 1, "the nop retired");
        assert_eq!(m.cpu.eip, S1 + 0xffd, "EIP at the crossing instruction");
        assert_eq!(m.cpu.mmu.cr2, S2);
        assert_eq!(m.cpu.regs[EAX], 0);
        // Starting right at the crossing instruction gives the same fault.
        assert_eq!(m.cpu.run(10), pf_exit(S2, code));
        assert_eq!(m.cpu.icount, 1);
    }
}

#[test]
fn instruction_crossing_into_a_present_page_executes() {
    let (mut m, f1) = fetch_machine(PTE_P | PTE_US);
    let f2 = m.cpu.mmu.mapping(S2).phys.unwrap();
    // mov eax, 0x44332211: b8 11 22 in S1, 33 44 in S2; then ud2.
    m.cpu.mmu.phys_mut().write_bytes(f1 + 0xffd, &[0xb8, 0x11, 0x22]);
    m.cpu.mmu.phys_mut().write_bytes(f2, &[0x33, 0x44, 0x0f, 0x0b]);
    m.cpu.eip = S1 + 0xffd;
    assert_eq!(m.cpu.run(10), STOPPED);
    assert_eq!(m.cpu.regs[EAX], 0x4433_2211);
    assert_eq!(m.cpu.eip, S2 + 2);
    assert_eq!(m.cpu.icount, 1);
    assert_eq!(pte(&m, S2) & (B_A | B_D), B_A);
}

#[test]
fn instruction_ending_at_the_page_end_does_not_touch_the_next_page() {
    for second in [0, PTE_P | PTE_US] {
        // nop; ud2 filling the last three bytes: decoding and running them never
        // looks at the next page.
        let (mut m, f1) = fetch_machine(second);
        m.cpu.mmu.phys_mut().write_bytes(f1 + 0xffd, &[0x90, 0x0f, 0x0b]);
        m.cpu.eip = S1 + 0xffd;
        assert_eq!(m.cpu.run(10), STOPPED, "second {second:#x}");
        assert_eq!(m.cpu.eip, S1 + 0xffe);
        assert_eq!(m.cpu.mmu.cr2, CR2_SENTINEL);
        if second != 0 {
            assert_eq!(pte(&m, S2) & B_A, 0, "next page not accessed");
        }
        // A five-byte mov filling the page exactly, run for one instruction.
        let (mut m, f1) = fetch_machine(second);
        m.cpu.mmu.phys_mut().write_bytes(f1 + 0xffb, &[0xb8, 0x78, 0x56, 0x34, 0x12]);
        m.cpu.eip = S1 + 0xffb;
        assert_eq!(m.cpu.run(1), Exit::Budget);
        assert_eq!(m.cpu.regs[EAX], 0x1234_5678);
        assert_eq!(m.cpu.eip, S2);
        assert_eq!(m.cpu.mmu.cr2, CR2_SENTINEL);
        if second != 0 {
            assert_eq!(pte(&m, S2) & B_A, 0, "next page not accessed");
        } else {
            // Running on does fetch from S2, which faults there.
            assert_eq!(m.cpu.run(1), pf_exit(S2, EC_U));
        }
    }
}

// ---------------------------------------------------------------------------------------
// 6. Self-modifying code
// ---------------------------------------------------------------------------------------

/// `mov eax, imm32; ud2`
fn code_mov_eax(imm: u32) -> Vec<u8> {
    let mut c = vec![0xb8];
    c.extend_from_slice(&le(imm));
    c.extend_from_slice(&UD2);
    c
}

#[test]
fn overwriting_executed_code_through_a_user_write_runs_the_new_code() {
    let mut m = Machine::new();
    m.map(CODE, RW_USER);
    m.load_code(CODE, &code_mov_eax(1));
    assert_eq!(m.cpu.run(10), STOPPED);
    assert_eq!(m.cpu.regs[EAX], 1);
    // Run it again unchanged: the decoded block is reused (so the cache is live and the
    // next part of the test means something).
    m.cpu.eip = CODE;
    let (built, hit) = (m.cpu.blocks_built, m.cpu.blocks_hit);
    assert_eq!(m.cpu.run(10), STOPPED);
    assert_eq!((m.cpu.blocks_built, m.cpu.blocks_hit), (built, hit + 1));
    assert_eq!(m.cpu.blocks_invalidated, 0);
    // Patch the immediate with a user write and run again: the block is dropped
    // (counted) and built anew.
    m.cpu.mmu.write::<u32>(CODE + 1, 2, true).unwrap();
    m.cpu.eip = CODE;
    assert_eq!(m.cpu.run(10), STOPPED);
    assert_eq!(m.cpu.regs[EAX], 2);
    assert_eq!((m.cpu.blocks_invalidated, m.cpu.blocks_built), (1, built + 1));
    // Again, with the TLB now holding a dirty writable entry for the code page.
    m.cpu.mmu.write::<u32>(CODE + 1, 3, true).unwrap();
    m.cpu.eip = CODE;
    assert_eq!(m.cpu.run(10), STOPPED);
    assert_eq!(m.cpu.regs[EAX], 3);
    // A byte-buffer write and a supervisor write work the same way.
    m.cpu.mmu.write_from(CODE + 1, &[4, 0, 0, 0], AccessKind::UserWrite).unwrap();
    m.cpu.eip = CODE;
    assert_eq!(m.cpu.run(10), STOPPED);
    assert_eq!(m.cpu.regs[EAX], 4);
    m.cpu.mmu.write::<u8>(CODE + 1, 5, false).unwrap();
    m.cpu.eip = CODE;
    assert_eq!(m.cpu.run(10), STOPPED);
    assert_eq!(m.cpu.regs[EAX], 5);
}

/// A write tag cached while the frame held only data must not outlive the frame
/// becoming code: `Mmu::write` stores through a write tag without the code-frame
/// check, so building a block has to revoke the tag, and the next write has to go the
/// slow way (a fresh walk) and drop the block.
#[test]
fn a_write_tag_cached_before_the_frame_became_code_is_revoked() {
    let mut m = Machine::new();
    m.map(CODE, RW_USER);
    m.load_code(CODE, &code_mov_eax(1));
    // A data write into the same frame, away from the code, caches a dirty writable
    // translation; a second write is then a TLB hit with no walk.
    m.cpu.mmu.write::<u32>(CODE + 0x800, 1, true).unwrap();
    let (walks, hits) = (m.cpu.mmu.walks, m.cpu.mmu.tlb().hits);
    m.cpu.mmu.write::<u32>(CODE + 0x800, 2, true).unwrap();
    assert_eq!((m.cpu.mmu.walks, m.cpu.mmu.tlb().hits), (walks, hits + 1), "served by the write tag");
    // Running the code decodes a block in the frame.
    assert_eq!(m.cpu.run(10), STOPPED);
    assert_eq!(m.cpu.regs[EAX], 1);
    assert_eq!(m.cpu.blocks_built, 1);
    // The write tag is gone: this write walks again, and the block is dropped.
    let walks = m.cpu.mmu.walks;
    m.cpu.mmu.write::<u32>(CODE + 1, 2, true).unwrap();
    assert_eq!(m.cpu.mmu.walks, walks + 1, "the write took the slow path");
    m.cpu.eip = CODE;
    assert_eq!(m.cpu.run(10), STOPPED);
    assert_eq!(m.cpu.regs[EAX], 2);
    assert_eq!((m.cpu.blocks_invalidated, m.cpu.blocks_built), (1, 2));
    // The same with a write far from the code, through an alias whose write tag was
    // cached before the rebuild above: only the frame matters.
    let alias = 0x0a00_0000;
    let frame = m.cpu.mmu.mapping(CODE).phys.unwrap();
    m.map_to(alias, frame, RW_USER, RW_USER);
    m.cpu.mmu.write::<u32>(alias + 0x800, 3, true).unwrap();
    m.cpu.eip = CODE;
    assert_eq!(m.cpu.run(10), STOPPED);
    assert_eq!(m.cpu.blocks_built, 3, "the data write dropped the block");
    let invalidated = m.cpu.blocks_invalidated;
    m.cpu.mmu.write::<u8>(alias + 0xfff, 4, true).unwrap();
    m.cpu.mmu.write::<u32>(alias + 1, 5, true).unwrap();
    m.cpu.eip = CODE;
    assert_eq!(m.cpu.run(10), STOPPED);
    assert_eq!(m.cpu.regs[EAX], 5);
    assert_eq!(m.cpu.blocks_invalidated, invalidated + 1);
}

#[test]
fn code_that_patches_a_later_instruction_of_its_own_block() {
    let mut m = Machine::new();
    m.map(CODE, RW_USER);
    // mov byte [CODE+8], 7 ; mov eax, 1 (imm at CODE+8) ; ud2
    let mut code = vec![0xc6, 0x05];
    code.extend_from_slice(&le(CODE + 8));
    code.push(7);
    code.extend_from_slice(&code_mov_eax(1));
    m.load_code(CODE, &code);
    assert_eq!(m.cpu.run(10), STOPPED);
    assert_eq!(m.cpu.regs[EAX], 7);
    assert_eq!(m.cpu.icount, 2);
}

#[test]
fn write_through_a_second_linear_alias_of_the_code_frame() {
    let mut m = Machine::new();
    let alias = 0x0a00_0000;
    let frame = m.map(CODE, PTE_P | PTE_US); // code: read-only view
    m.map_to(alias, frame, RW_USER, RW_USER); // data: writable view of the same frame
                                              // The code writes its own later instruction through the alias.
    let mut code = vec![0xc6, 0x05];
    code.extend_from_slice(&le(alias + 8));
    code.push(7);
    code.extend_from_slice(&code_mov_eax(1));
    m.load_code(CODE, &code);
    assert_eq!(m.cpu.run(10), STOPPED);
    assert_eq!(m.cpu.regs[EAX], 7);
    // An outside write through the alias, then run the same (cached) code again.
    m.cpu.eip = CODE + 7;
    assert_eq!(m.cpu.run(10), STOPPED);
    assert_eq!(m.cpu.regs[EAX], 7);
    m.cpu.mmu.write::<u32>(alias + 8, 9, true).unwrap();
    m.cpu.eip = CODE + 7;
    assert_eq!(m.cpu.run(10), STOPPED);
    assert_eq!(m.cpu.regs[EAX], 9);
    // Writes through the read-only code view are refused, of course.
    assert_eq!(m.cpu.mmu.write::<u8>(CODE + 8, 1, true), Err(pf(CODE + 8, EC_P | EC_W | EC_U)));
}

#[test]
fn straddling_write_that_ends_in_a_code_page_invalidates_it() {
    let mut m = Machine::new();
    let data = CODE - 0x1000;
    m.map(data, RW_USER);
    m.map(CODE, RW_USER);
    m.load_code(CODE, &[0xb0, 0x01, 0x0f, 0x0b]); // mov al, 1; ud2
    assert_eq!(m.cpu.run(10), STOPPED);
    assert_eq!(m.cpu.regs[EAX], 1);
    // Bytes 00 00 at data+0xffe, then b0 02 at CODE: mov al, 2.
    m.cpu.mmu.write::<u32>(CODE - 2, 0x02b0_0000, true).unwrap();
    m.cpu.eip = CODE;
    assert_eq!(m.cpu.run(10), STOPPED);
    assert_eq!(m.cpu.regs[EAX], 2);
}

/// The kernel writes guest memory physically (loading pages, `copy_to_user` by frame);
/// a physical write that spans two frames must invalidate code in either of them.
#[test]
fn physical_write_spanning_into_a_code_frame_invalidates_it() {
    let mut m = Machine::new();
    let data_frame = m.map(CODE - 0x1000, RW_USER);
    let code_frame = m.map(CODE, PTE_P | PTE_US);
    assert_eq!(code_frame, data_frame + 0x1000, "the test needs adjacent frames");
    m.load_code(CODE, &[0xb0, 0x01, 0x0f, 0x0b]); // mov al, 1; ud2
    assert_eq!(m.cpu.run(10), STOPPED);
    assert_eq!(m.cpu.regs[EAX], 1);
    m.cpu.mmu.phys_mut().write_bytes(code_frame - 2, &[0, 0, 0xb0, 0x02]);
    m.cpu.eip = CODE;
    assert_eq!(m.cpu.run(10), STOPPED);
    assert_eq!(m.cpu.regs[EAX], 2);
}

#[test]
fn same_frame_executed_through_two_linear_addresses() {
    // The decoded block depends on the linear address (each instruction's next EIP is
    // linear); running the frame through an alias must not reuse the block decoded
    // for the other address.
    let mut m = Machine::new();
    let alias = 0x0a00_0000;
    let frame = m.map(CODE, PTE_P | PTE_US);
    m.map_to(alias, frame, PTE_P | PTE_US, RW_USER);
    m.load_code(CODE, &[0x90, 0x90, 0x0f, 0x0b]); // nop; nop; ud2
    for at in [CODE, alias, CODE, alias] {
        m.cpu.eip = at;
        assert_eq!(m.cpu.run(10), STOPPED);
        assert_eq!(m.cpu.eip, at + 2, "ran at {at:#x}");
    }
}

// ---------------------------------------------------------------------------------------
// 7. Paging disabled
// ---------------------------------------------------------------------------------------

#[test]
fn without_paging_linear_is_physical() {
    let mut cpu = Cpu::new(16 << 20);
    assert_eq!(cpu.mmu.cr0() & CR0_PG, 0);
    cpu.mmu.cr2 = CR2_SENTINEL;
    for kind in [AccessKind::UserRead, AccessKind::UserWrite, AccessKind::SupRead, AccessKind::SupWrite] {
        for lin in [0, 0x0000_1000, 0x0012_3456, 0x00ff_fffc] {
            assert_eq!(cpu.mmu.translate(lin, kind), Ok(lin));
        }
    }
    assert_eq!(cpu.mmu.write::<u32>(0x0012_3454, 0xdead_beef, true), Ok(()));
    assert_eq!(cpu.mmu.phys().read_u32(0x0012_3454), 0xdead_beef);
    assert_eq!(cpu.mmu.read::<u32>(0x0012_3454, true), Ok(0xdead_beef));
    // Straddling "pages" are just consecutive bytes.
    assert_eq!(cpu.mmu.write::<u32>(0x0000_2ffe, 0x0403_0201, true), Ok(()));
    assert_eq!(cpu.mmu.phys().read_u32(0x0000_2ffe), 0x0403_0201);
    assert_eq!(cpu.mmu.read::<u16>(0x0000_2fff, false), Ok(0x0302));
    assert_eq!(cpu.mmu.cr2, CR2_SENTINEL);
    assert_eq!(cpu.mmu.walks, 0);
}

#[test]
fn turning_paging_off_and_on_switches_between_identity_and_the_tables() {
    let mut m = Machine::new();
    let lin = 0x0805_0010;
    let frame = m.map(lin, PTE_P | PTE_US); // read-only for users
    assert_eq!(m.cpu.mmu.translate(lin, AccessKind::UserRead), Ok(frame | 0x010));
    let cr0 = m.cpu.mmu.cr0();
    m.cpu.mmu.set_cr0(cr0 & !CR0_PG);
    assert_eq!(m.cpu.mmu.translate(lin, AccessKind::UserRead), Ok(lin));
    // No rights without paging.
    assert_eq!(m.cpu.mmu.translate(frame, AccessKind::UserWrite), Ok(frame));
    let before = pte(&m, lin);
    // Remap while paging is off; turning it on must not find the old translation.
    let other = 0x0040_0000;
    set_pte(&mut m, lin, other | (before & 0xfff));
    m.cpu.mmu.set_cr0(cr0);
    assert_eq!(m.cpu.mmu.translate(lin, AccessKind::UserRead), Ok(other | 0x010));
}

#[test]
fn code_runs_at_physical_addresses_without_paging() {
    let mut m = Machine::new();
    let cr0 = m.cpu.mmu.cr0();
    m.cpu.mmu.set_cr0(cr0 & !CR0_PG);
    let at = 0x0005_0000;
    m.cpu.mmu.phys_mut().write_bytes(at, &code_load(at + 0x100));
    m.cpu.mmu.phys_mut().write_u32(at + 0x100, 0x0102_0304);
    m.cpu.eip = at;
    assert_eq!(m.cpu.run(10), STOPPED);
    assert_eq!(m.cpu.regs[EAX], 0x0102_0304);
    assert_eq!(m.cpu.mmu.walks, 0);
}
