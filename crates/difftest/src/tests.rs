//! Drives both references on a tiny static i386 program built here with
//! `gcc -m32 -static -nostdlib` and checks that their instruction-by-instruction
//! register streams agree — which proves the two drivers before growsdown's side
//! of the lockstep is complete.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use super::image::CodeMap;
use super::native::Native;
use super::qemu::{Qemu, QemuOptions};
use super::state::{Differ, Snapshot};
use super::{Event, Reference};
use growsdown_decoder::{decode_one, Mnemonic};

/// Exercises arithmetic with undefined flags, calls, a loop, REP MOVSB, CPUID,
/// `write`, RDTSC and `exit(7)`. The first three instructions make the two
/// references' differing entry states equal (GS, ESP).
const PROGRAM: &str = r#"
    .globl _start
    .text
_start:
    xor %eax, %eax
    mov %eax, %gs
    mov $stack_top, %esp
    mov $0x12345678, %eax
    mov $0x9abcdef0, %ebx
    add %ebx, %eax
    adc $5, %eax
    sub %eax, %ebx
    and $0xff00ff, %eax
    mov $3, %ecx
    shl %cl, %eax
    rol $5, %ebx
    mul %ebx
    bsf %eax, %edx
    bt $3, %edx
    sahf
    lahf
    pushf
    pop %esi
    mov $50, %ecx
1:  push %ecx
    call f
    pop %ecx
    loop 1b
    lea src, %esi
    lea dst, %edi
    mov $16, %ecx
    cld
    rep movsb
    mov $1, %eax
    cpuid
    mov $4, %eax
    mov $1, %ebx
    lea msg, %ecx
    mov $len, %edx
    int $0x80
    rdtsc
    mov $1, %eax
    mov $7, %ebx
    int $0x80
f:
    imul $7, %ecx, %eax
    xor %edx, %edx
    mov $3, %ebx
    div %ebx
    sar $2, %eax
    shld $3, %eax, %edx
    ret
    .data
msg: .ascii "difftest: hello from the test program\n"
len = . - msg
src: .ascii "0123456789abcdef"
    .bss
dst: .space 16
    .space 4096
stack_top:
"#;

/// The loop used for the speed measurement: ~N*4 instructions, then exit(0).
const LOOP: &str = r#"
    .globl _start
    .text
_start:
    mov $LOOPS, %ecx
    xor %eax, %eax
1:  add %ecx, %eax
    xor $0x55, %eax
    dec %ecx
    jnz 1b
    mov $1, %eax
    xor %ebx, %ebx
    int $0x80
"#;

// `need(prog, package)`: skip a test without a tool, but fail it under `CI=true`.
// The workspace's one copy of that rule.
#[path = "../../../tests/support/tool.rs"]
#[allow(dead_code)]
mod tool;

/// Whether `tool` can be used (see `tool::need`).
fn have(tool: &str) -> bool {
    tool::need(tool, if tool == "gcc" { "gcc-multilib" } else { "qemu-user" })
}

/// Assembles and links `src` into a static i386 executable in a fresh directory.
fn build(name: &str, src: &str) -> Option<PathBuf> {
    if !have("gcc") {
        return None;
    }
    let dir = std::env::temp_dir().join(format!("growsdown-difftest-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let s = dir.join(format!("{name}.S"));
    let exe = dir.join(name);
    std::fs::write(&s, src).unwrap();
    let out = Command::new("gcc")
        .args(["-m32", "-static", "-nostdlib", "-no-pie", "-o"])
        .arg(&exe)
        .arg(&s)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "gcc -m32 failed (gcc-multilib missing?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(exe)
}

fn qemu_with(exe: &Path, log: bool) -> Option<Qemu> {
    if !have("qemu-i386") {
        return None;
    }
    Some(
        Qemu::start(exe, &[], &[], &QemuOptions { log, ..QemuOptions::default() })
            .expect("qemu-i386 under its gdbstub"),
    )
}

fn qemu(exe: &Path) -> Option<Qemu> {
    qemu_with(exe, true)
}

/// Steps `a` and `b` together from their entry, comparing after every instruction
/// once `skip` instructions have run. Returns the number of instructions and both
/// exit statuses.
fn lockstep_two(
    a: &mut dyn Reference,
    b: &mut dyn Reference,
    code: &CodeMap,
    skip: u64,
) -> (u64, Event, Event) {
    let mut differ = Differ::new(b.name(), 20);
    let mut n = 0;
    loop {
        let before = a.state();
        let insn = decode_one(code.bytes_at(before.eip, 15).expect("code"), before.eip).unwrap();
        let (ea, eb) = (a.step().unwrap(), b.step().unwrap());
        n += 1;
        match (ea, eb) {
            (Event::Stepped(sa), Event::Stepped(mut sb)) => {
                if insn.mnemonic() == Mnemonic::Rdtsc {
                    sb.regs[0] = sa.regs[0];
                    sb.regs[2] = sa.regs[2];
                }
                if n > skip {
                    match differ.check(&insn, &before, &sa, &sb) {
                        // Undefined bits: `a` takes `b`'s, as growsdown would.
                        Ok(fix) => {
                            if let Some(f) = fix.eflags {
                                a.set_regs(&[(9, f)]).unwrap();
                            }
                            if let Some((r, v)) = fix.reg {
                                a.set_regs(&[(r, v)]).unwrap();
                            }
                        }
                        Err(d) => panic!("{} and {} disagree:\n{d}", a.name(), b.name()),
                    }
                }
                if insn.mnemonic() == Mnemonic::Cpuid {
                    // Both answered with growsdown's CPUID, not the host's or QEMU's.
                    let want = growsdown_cpu::cpuid::cpuid(before.regs[0], before.regs[1]);
                    assert_eq!([sa.regs[0], sa.regs[3], sa.regs[1], sa.regs[2]], want);
                }
            }
            (x, y) => return (n, x, y),
        }
    }
}

#[test]
fn native_and_qemu_agree_on_every_instruction() {
    agree(true);
}

#[test]
fn native_and_qemu_gdbstub_mode_agree_on_every_instruction() {
    agree(false);
}

fn agree(log: bool) {
    let Some(exe) = build(if log { "prog" } else { "prog-gdb" }, PROGRAM) else { return };
    let Some(mut q) = qemu_with(&exe, log) else { return };
    let mut nat = Native::start(&exe, &[], &[]).expect("native reference");
    let code = CodeMap::from_elf(&exe).unwrap();
    // Entry states: same EIP, EFLAGS 0x202, registers 0 but ESP.
    let (sn, sq) = (nat.state(), q.state());
    assert_eq!(sn.eip, sq.eip);
    assert_eq!(sn.regs[..4], [0, 0, 0, 0]);
    assert_eq!(sq.regs[..4], [0, 0, 0, 0]);
    assert_eq!(sn.regs[4], nat.initial.esp);
    // ADDR_LIMIT_3GB: the native stack ends where growsdown's does.
    assert_eq!(nat.initial.top, 0xC000_0000);
    let (n, en, eq) = lockstep_two(&mut nat, &mut q, &code, 3);
    assert_eq!(en, Event::Exited(7), "native");
    assert_eq!(eq, Event::Exited(7), "qemu");
    // 20 before the loop, 50 iterations × 11 (push, call, f's 7, pop, loop), 16
    // after it, the exit call included; each REP MOVSB counts once.
    assert_eq!(n, 586);
    eprintln!(
        "native and qemu agreed on {n} instructions (cpuid faulting on the native side: {})",
        nat.cpuid_faulting
    );
}

#[test]
fn both_references_see_the_same_auxv_shape() {
    let Some(exe) = build("aux", PROGRAM) else { return };
    let Some(mut q) = qemu(&exe) else { return };
    let nat = Native::start(&exe, &[], &[]).expect("native reference");
    let qs = q.initial_stack().unwrap();
    let ns = &nat.initial;
    assert_eq!(qs.argv, ns.argv);
    assert!(ns.envp.is_empty() && qs.envp.is_empty());
    // The vDSO is hidden from the native process.
    assert!(ns.aux(growsdown_loader::auxv::AT_SYSINFO).is_none());
    assert!(ns.aux(growsdown_loader::auxv::AT_SYSINFO_EHDR).is_none());
    // Both report growsdown's CPUID features as AT_HWCAP.
    assert_eq!(
        qs.aux(growsdown_loader::auxv::AT_HWCAP),
        Some(growsdown_cpu::cpuid::FEATURES_EDX),
        "qemu auxv {}",
        qs.auxv_summary()
    );
    eprintln!("qemu   esp {:#010x} top {:#010x} auxv {}", qs.esp, qs.top, qs.auxv_summary());
    eprintln!("native esp {:#010x} top {:#010x} auxv {}", ns.esp, ns.top, ns.auxv_summary());
}

/// Prints steps/second for each reference (run with `--ignored --nocapture`).
#[test]
#[ignore]
fn measure_steps_per_second() {
    let loops = std::env::var("DIFFTEST_LOOPS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000u32);
    let Some(exe) = build("loop", &LOOP.replace("LOOPS", &loops.to_string())) else { return };
    let measure = |r: &mut dyn Reference| {
        let t = Instant::now();
        let mut n = 0u64;
        while let Ok(Event::Stepped(_)) = r.step() {
            n += 1;
        }
        let s = t.elapsed().as_secs_f64();
        eprintln!("{}: {n} steps in {s:.2} s = {:.0} steps/s", r.name(), n as f64 / s);
    };
    if !have("qemu-i386") {
        return;
    }
    for log in [true, false] {
        let mut q = Qemu::start(&exe, &[], &[], &QemuOptions { log, ..Default::default() }).unwrap();
        eprint!("{} mode: ", if log { "log" } else { "gdbstub" });
        measure(&mut q);
    }
    let mut nat = Native::start(&exe, &[], &[]).unwrap();
    measure(&mut nat);
}

#[test]
fn snapshot_streams_from_a_reference_feed_the_differ() {
    // A reference stream compared with itself, then with one register changed at
    // step 17: the report names step 17, the register and the instruction.
    let Some(exe) = build("blind", PROGRAM) else { return };
    let mut nat = Native::start(&exe, &[], &[]).expect("native reference");
    let code = CodeMap::from_elf(&exe).unwrap();
    let mut stream = Vec::new();
    for _ in 0..40 {
        let before = nat.state();
        let insn = decode_one(code.bytes_at(before.eip, 15).unwrap(), before.eip).unwrap();
        let Event::Stepped(after) = nat.step().unwrap() else { panic!("ended early") };
        stream.push((insn, before, after));
    }
    let run = |tamper: &dyn Fn(u64, &mut Snapshot)| {
        let mut d = Differ::new("native", 8);
        for (i, (insn, before, after)) in stream.iter().enumerate() {
            let mut theirs = *after;
            tamper(i as u64 + 1, &mut theirs);
            d.check(insn, before, after, &theirs)?;
        }
        Ok::<u64, Box<super::state::Divergence>>(d.compared)
    };
    assert_eq!(run(&|_, _| {}).unwrap(), 40);
    let d = run(&|n, s| {
        if n == 17 {
            s.regs[6] = s.regs[6].wrapping_add(1); // esi
        }
    })
    .unwrap_err();
    assert_eq!(d.n, 17);
    let report = d.to_string();
    let (insn, before, _) = &stream[16];
    assert!(
        report.contains(&format!(
            "instruction 17 at {:#010x}: {}",
            before.eip,
            growsdown_decoder::format_intel(insn)
        )),
        "{report}"
    );
    assert!(report.lines().any(|l| l.starts_with("* esi ")), "{report}");
    assert!(report.contains("differs: esi"), "{report}");
}

/// The reference started on `exe` (no arguments), and growsdown booted with its
/// layout and initial state.
fn boot_both(
    against: super::Against,
    exe: &Path,
    env: &[(std::ffi::OsString, std::ffi::OsString)],
) -> (Box<dyn Reference>, growsdown_kernel::Machine) {
    let mut r = super::start_reference(against, exe, &[], env).unwrap();
    let prog = exe.as_os_str().to_os_string();
    let k =
        super::boot_like(exe, &prog, &[], r.as_mut()).expect("growsdown boots with the reference's layout");
    (r, k)
}

/// growsdown against each reference on the test program, as far as growsdown's CPU
/// goes today: the run must end in agreement or in a divergence report (never a
/// setup failure), and the report must name an instruction of the program.
#[test]
fn growsdown_lockstep_runs_against_both_references() {
    let Some(exe) = build("e2e", PROGRAM) else { return };
    if !have("qemu-i386") {
        return;
    }
    let code = CodeMap::from_elf(&exe).unwrap();
    for against in [super::Against::Native, super::Against::Qemu] {
        let (mut r, mut k) = boot_both(against, &exe, &[]);
        assert_eq!(Snapshot::of_cpu(k.cpu()).regs, r.state().regs);
        assert_eq!(k.cpu().eip, r.state().eip);
        match super::lockstep(&mut k, r.as_mut(), &code, Some(10_000), 8) {
            super::Outcome::Agreed { compared, status } => {
                eprintln!("{}: agreed on {compared} instructions, status {status:?}", r.name());
                assert_eq!(status, Some(7));
            }
            super::Outcome::Diverged(d) => {
                eprintln!("{}: {d}", r.name());
                assert!(code.bytes_at(d.eip, 1).is_some());
            }
            super::Outcome::Stopped { compared, why } => {
                panic!("{}: stopped after {compared}: {why}", r.name())
            }
        }
    }
}

/// growsdown against a reference on the guest images (run with `--ignored
/// --nocapture`; DIFFTEST_IMAGES="hello-musl hello-glibc", DIFFTEST_AGAINST=qemu).
#[test]
#[ignore]
fn guest_images_in_lockstep() {
    let images = std::env::var("DIFFTEST_IMAGES").unwrap_or_else(|_| "hello-musl hello-glibc".into());
    let against = match std::env::var("DIFFTEST_AGAINST").as_deref() {
        Ok("native") => super::Against::Native,
        _ => super::Against::Qemu,
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guest-images/bin");
    for name in images.split_whitespace() {
        let exe = root.join(name);
        let code = CodeMap::from_elf(&exe).unwrap();
        let env = vec![("PATH".into(), "/usr/bin:/bin".into())];
        let (mut r, mut k) = boot_both(against, &exe, &env);
        let t = Instant::now();
        let out = super::lockstep(&mut k, r.as_mut(), &code, None, 20);
        let s = t.elapsed().as_secs_f64();
        match out {
            super::Outcome::Agreed { compared, status } => {
                eprintln!(
                    "{name}: {compared} instructions compared, 0 divergences, status {status:?}, {:.0}/s",
                    compared as f64 / s
                )
            }
            super::Outcome::Diverged(d) => eprintln!("{name}: after {:.2} s\n{d}", s),
            super::Outcome::Stopped { compared, why } => eprintln!("{name}: stopped after {compared}: {why}"),
        }
    }
}

#[test]
fn adopted_stack_reads_back() {
    let exe = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guest-images/bin/hello-glibc");
    let mut r = super::start_reference(super::Against::Native, &exe, &[], &[]).unwrap();
    let st = r.initial_stack().unwrap();
    let prog = exe.clone().into_os_string();
    let mut k = super::boot_like(&exe, &prog, &[], r.as_mut()).unwrap();
    let mut back = vec![0u8; st.bytes.len()];
    k.read_mem(st.esp, &mut back).unwrap();
    let first = back.iter().zip(&st.bytes).position(|(a, b)| a != b);
    assert_eq!(first, None, "esp {:#x} top {:#x} len {}", st.esp, st.top, st.bytes.len());
}

/// The library's entry point: agreement to the end on the test program, against
/// each reference, and `max_insns` stops early, still in agreement.
#[test]
fn difftest_agrees_to_the_end() {
    let Some(exe) = build("cli", PROGRAM) else { return };
    if !have("qemu-i386") {
        return;
    }
    let agreed = |opts: super::Options| match super::difftest(exe.as_os_str(), &[], &opts) {
        Ok(super::Finished { outcome: super::Outcome::Agreed { compared, status }, .. }) => {
            (compared, status)
        }
        Ok(f) => panic!("{:?}: {:?}", opts.against, f.outcome),
        Err(e) => panic!("{:?}: {e:?}", opts.against),
    };
    for against in [super::Against::Qemu, super::Against::Native] {
        let (compared, status) = agreed(super::Options { against, context: 5, ..Default::default() });
        assert!(compared > 100, "{against:?}: {compared}");
        assert_eq!(status, Some(7), "{against:?}");
    }
    let (compared, status) = agreed(super::Options { max_insns: Some(100), ..Default::default() });
    assert_eq!((compared, status), (100, None));
}

/// `rep bsf` / `rep bsr` (F3 0F BC / BD, decoded as TZCNT / LZCNT) are BSF / BSR on
/// the i686 growsdown claims and on QEMU with that model, but TZCNT / LZCNT on a
/// BMI1 host. The cases where the two differ: an odd source (TZCNT ZF = 1, BSF
/// ZF = 0), a zero source (TZCNT writes 32, BSF leaves the destination), LZCNT's
/// count against BSR's index. The native reference must give BSF/BSR's answers, and
/// the program's branches on ZF must go the same way on all sides.
#[test]
fn rep_bsf_and_rep_bsr_are_bit_scans_on_every_side() {
    const BITSCAN: &str = r#"
    .globl _start
    .text
_start:
    xor %ebx, %ebx
    mov $0x9, %eax
    rep bsf %eax, %ecx
    jnz 1f
    inc %ebx
1:  mov $7, %ecx
    xor %eax, %eax
    rep bsf %eax, %ecx
    jz 2f
    add $2, %ebx
2:  add %ecx, %ebx
    mov $0x00f00000, %eax
    rep bsr %eax, %edx
    add %edx, %ebx
    mov $0x30, %ax
    rep bsf %ax, %si
    add %esi, %ebx
    mov $1, %eax
    sub $34, %ebx
    int $0x80
"#;
    let Some(exe) = build("bitscan", BITSCAN) else { return };
    if !have("qemu-i386") {
        return;
    }
    let code = CodeMap::from_elf(&exe).unwrap();
    for against in [super::Against::Native, super::Against::Qemu] {
        let (mut r, mut k) = boot_both(against, &exe, &[]);
        match super::lockstep(&mut k, r.as_mut(), &code, None, 8) {
            // ebx = 7 (zero source: ECX kept) + 23 (BSR index) + 4 (BSF of 0x30)
            // = 34 only when both branches went BSF's way; exit(ebx - 34).
            super::Outcome::Agreed { status, .. } => assert_eq!(status, Some(0), "{}", r.name()),
            super::Outcome::Diverged(d) => panic!("{}: {d}", r.name()),
            super::Outcome::Stopped { compared, why } => {
                panic!("{}: stopped after {compared}: {why}", r.name())
            }
        }
    }
}

/// A SIGSEGV handler in lockstep (native): the fault, the delivery (same handler,
/// the reference's frame adopted), the handler editing the saved EIP and EDI in its
/// ucontext, rt_sigreturn, and the program going on from the edited state. Against
/// QEMU, delivery into a handler is not followed yet: lockstep stops (status 2).
#[test]
fn sigsegv_handler_in_lockstep() {
    const HANDLER: &str = r#"
    .globl _start
    .text
_start:
    xor %eax, %eax
    mov %eax, %gs
    mov $stack_top, %esp
    mov $174, %eax
    mov $11, %ebx
    lea act, %ecx
    xor %edx, %edx
    mov $8, %esi
    int $0x80
    mov $0x1234, %edi
    movl $1, 0
    mov $1, %eax
    lea -0x1235(%edi), %ebx
    int $0x80
handler:
    mov 12(%esp), %eax
    addl $10, 20+56(%eax)
    incl 20+16(%eax)
    ret
restorer:
    mov $173, %eax
    int $0x80
    .data
act: .long handler, 0x04000004, restorer, 0, 0
    .bss
    .space 8192
stack_top:
"#;
    let Some(exe) = build("handler", HANDLER) else { return };
    let code = CodeMap::from_elf(&exe).unwrap();
    // QEMU (log mode) is sent `C sig` with a breakpoint on the handler.
    for against in [super::Against::Native, super::Against::Qemu] {
        if against == super::Against::Qemu && !have("qemu-i386") {
            return;
        }
        let (mut r, mut k) = boot_both(against, &exe, &[]);
        match super::lockstep(&mut k, r.as_mut(), &code, None, 8) {
            super::Outcome::Agreed { status, compared } => {
                assert_eq!(status, Some(0));
                assert!(compared > 15, "{against:?}: {compared}");
            }
            super::Outcome::Diverged(d) => panic!("{against:?}: {d}"),
            super::Outcome::Stopped { compared, why } => {
                panic!("{against:?}: stopped after {compared}: {why}")
            }
        }
    }
}

/// XMM0–7 loaded by FXRSTOR, packed-integer arithmetic on them, LDMXCSR/STMXCSR
/// with flags, rounding and FZ set: what both references report as the SSE state.
const SSE_PROGRAM: &str = r#"
    .globl _start
    .text
_start:
    xor %eax, %eax
    mov %eax, %gs
    mov $stack_top, %esp
    fxsave area
    lea pat, %esi
    lea area+160, %edi
    mov $32, %ecx
    rep movsl
    fxrstor area
    paddb %xmm1, %xmm0
    psubusw %xmm2, %xmm1
    pmaddwd %xmm3, %xmm2
    pxor %xmm5, %xmm4
    psrad $3, %xmm5
    pslldq $7, %xmm6
    pabsb %xmm0, %xmm7
    ldmxcsr csr
    paddq %xmm7, %xmm6
    stmxcsr out
    mov out, %ebx
    mov $1, %eax
    int $0x80
    .data
    .balign 16
pat:
    .long 0x01234567, 0x89abcdef, 0xfedcba98, 0x76543210, 0x7fff8000, 0x80007fff, 0xffff0001, 0x00010000
    .long 0x7f807f80, 0x01ff00fe, 0x80808080, 0x7f7f7f7f, 0xffffffff, 0x00000000, 0x80000000, 0x7fffffff
    .long 0x12345678, 0x9abcdef0, 0x0fedcba9, 0x87654321, 0x00ff00ff, 0xff00ff00, 0x55aa55aa, 0xaa55aa55
    .long 0xc0000001, 0x3fffffff, 0x00000002, 0xfffffffe, 0x0000007f, 0x00008000, 0x80000000, 0x00000081
csr: .long 0xdfa1
    .bss
    .balign 16
area: .space 512
out: .space 4
    .space 4096
stack_top:
"#;

/// Both QEMU paths (the `g` reply in gdbstub mode, the `-d cpu,fpu` dump in log
/// mode) read XMM0–7 and MXCSR as the host CPU's FXSAVE image has them: the
/// streams agree after every instruction with the SSE state compared, and the
/// state compared is the real one (the patterns are in the registers, MXCSR is the
/// value loaded).
#[test]
fn native_and_qemu_agree_on_the_sse_state() {
    for log in [true, false] {
        let Some(exe) = build(if log { "sse" } else { "sse-gdb" }, SSE_PROGRAM) else { return };
        if !have("qemu-i386") {
            return;
        }
        let mut q = Qemu::start(&exe, &[], &[], &QemuOptions { log, ..QemuOptions::default() })
            .expect("qemu-i386 under its gdbstub");
        let mut nat = Native::start(&exe, &[], &[]).expect("native reference");
        let code = CodeMap::from_elf(&exe).unwrap();
        // Step to just after FXRSTOR (9 instructions, REP MOVSD counted once).
        for _ in 0..9 {
            assert!(matches!(nat.step().unwrap(), Event::Stepped(_)));
            assert!(matches!(q.step().unwrap(), Event::Stepped(_)));
        }
        let (sn, sq) = (nat.state().sse.unwrap(), q.state().sse.expect("qemu reports the SSE state"));
        assert_eq!(sn.xmm[0], 0x7654_3210_fedc_ba98_89ab_cdef_0123_4567, "native xmm0");
        assert_eq!(sn.xmm[7], 0x0000_0081_8000_0000_0000_8000_0000_007f, "native xmm7");
        assert_eq!((sq.xmm, sq.mxcsr), (sn.xmm, 0x1f80), "qemu, log mode {log}");
        let (n, en, eq) = lockstep_two(&mut nat, &mut q, &code, 0);
        assert_eq!(en, Event::Exited(0xa1), "native");
        assert_eq!(eq, Event::Exited(0xa1), "qemu");
        assert_eq!(n, 13);
    }
}

/// The handler-entry check sees the arguments a handler takes in registers and
/// nothing else: equal frames at different addresses agree, a kernel that leaves
/// EAX/EDX/ECX as they were (2.4, QEMU's plain frames) is caught register by
/// register.
#[test]
fn handler_entry_arguments_are_compared_relative_to_the_frame() {
    use growsdown_cpu::{EAX, ECX, EDX};
    // EAX ECX EDX EBX ESP EBP ESI EDI.
    let rt = |esp: u32| [10, esp + 144, esp + 16, 7, esp, 1, 2, 3];
    assert_eq!(super::handler_args_differ(&rt(0xbfff_e000), &rt(0xffff_c000)), 0);
    let plain = |esp: u32| [12, 0, 0, 7, esp, 1, 2, 3];
    assert_eq!(super::handler_args_differ(&plain(0xbfff_e000), &plain(0x4080_0000)), 0);
    // Left alone: the interrupted EAX (a system call's result) and ECX/EDX.
    let left = [0, 0x1ff5, 12, 7, 0x4080_01b0, 1, 2, 3];
    assert_eq!(super::handler_args_differ(&plain(0xbfff_e000), &left), (1 << EAX) | (1 << ECX) | (1 << EDX));
    // One pointer off by a word.
    let mut off = rt(0xffff_c000);
    off[EDX] += 4;
    assert_eq!(super::handler_args_differ(&rt(0xbfff_e000), &off), 1 << EDX);
    // Only the other registers differ: not this check's business.
    let mut other = rt(0xffff_c000);
    other[6] = 99;
    assert_eq!(super::handler_args_differ(&rt(0xbfff_e000), &other), 0);
}
