//! exec and brk: linux24.md §8 scenarios 11 and 19, teardown by exit_mmap / a second exec.

mod mm_util;

use growsdown_kernel::exec::load_elf_binary;
use growsdown_kernel::mm::mmap::*;
use growsdown_kernel::mm::{exit_mmap, Backing};
use growsdown_kernel::task::RLIMIT_DATA;
use growsdown_kernel::{Config, Kernel};
use mm_util::*;

fn boot() -> Kernel {
    Kernel::new(Config { mem_bytes: 64 << 20, ..Config::default() }).expect("boot")
}

fn brk(k: &mut Kernel, v: u32) -> u32 {
    sys_brk(k, [v, 0, 0, 0, 0, 0]).expect("brk never fails")
}

fn vmas(k: &Kernel) -> Vec<(u32, u32, u32)> {
    k.task.mm.mmap.iter().map(|v| (v.start, v.end, v.flags)).collect()
}

#[test]
fn scenario_11_exec_layout_padzero_and_brk_table() {
    let mut k = boot();
    let elf = TempFile::new(&build_elf());
    load_elf_binary(&mut k, elf.path(), &[b"t".to_vec()], &[b"A=1".to_vec()]).unwrap();

    assert_eq!(
        vmas(&k),
        vec![
            (0x0804_8000, 0x0804_A000, 0x1875),
            (0x080A_0000, 0x080A_1000, 0x1873),
            (0x080A_1000, 0x080A_2000, 0x77),
            // The vDSO (today's kernel; 2.4 had none): r-x, right below
            // TASK_UNMAPPED_BASE, its page present from the start.
            (0x3FFF_F000, 0x4000_0000, 0x55),
            (0xBFFF_F000, 0xC000_0000, 0x177),
        ]
    );
    assert_eq!(k.task.mm.vdso, 0x3FFF_F000);
    assert!(k.task.mm.maps().contains("3ffff000-40000000 r-xp 00000000 00:00 0"));
    assert!(k.task.mm.maps().contains("[vdso]"));
    assert!(matches!(k.task.mm.mmap[2].backing, Backing::Anon));
    // padzero: one kernel-mode write fault, early COW of the data page → major + 1
    // before _start; nothing else faulted.
    assert_eq!((k.task.min_flt, k.task.maj_flt), (0, 1));
    assert_eq!(k.task.mm.rss, 3, "the argument page, the data page and the vDSO page");
    let mut data = vec![0u8; 4096];
    k.copy_from_user(0x080A_0000, &mut data).unwrap();
    assert!(data[..0x100].iter().all(|&b| b == 0x11));
    assert!(data[0x100..].iter().all(|&b| b == 0), "file garbage after p_filesz is cleared");
    let mm = &k.task.mm;
    assert_eq!((mm.start_brk, mm.brk), (0x080A_1234, 0x080A_1234));
    assert_eq!(
        (mm.start_code, mm.end_code, mm.start_data, mm.end_data),
        (0x0804_8000, 0x0804_9100, 0x080A_0000, 0x080A_0100)
    );
    assert_eq!(mm.total_vm, 2 + 1 + 1 + 1 + 1);

    // The brk table of scenario 11.
    assert_eq!(brk(&mut k, 0), 0x080A_1234);
    assert_eq!(brk(&mut k, 0x080A_1F00), 0x080A_1F00);
    assert_eq!(k.task.mm.mmap[2].end, 0x080A_2000, "same page: no VMA change");
    let total_vm = k.task.mm.total_vm;
    let rss = k.task.mm.rss;
    assert_eq!(brk(&mut k, 0x080A_3001), 0x080A_3001);
    assert_eq!(
        (k.task.mm.mmap[2].start, k.task.mm.mmap[2].end),
        (0x080A_1000, 0x080A_4000),
        "merged into bss"
    );
    assert_eq!(k.task.mm.map_count(), 5, "text, data, bss, vDSO, stack");
    assert_eq!(k.task.mm.total_vm, total_vm + 2);
    assert_eq!(k.task.mm.rss, rss, "no pages yet");
    assert_eq!(brk(&mut k, 0x080A_1500), 0x080A_1500);
    assert_eq!((k.task.mm.mmap[2].start, k.task.mm.mmap[2].end), (0x080A_1000, 0x080A_2000));
    assert_eq!(k.task.mm.total_vm, total_vm);
    assert_eq!(brk(&mut k, 0x0800_0000), 0x080A_1500, "below end_code: unchanged");
    assert_eq!(vmas(&k)[2], (0x080A_1000, 0x080A_2000, 0x77));
}

#[test]
fn scenario_11_brk_keeps_a_guard_page_and_obeys_rlimit_data() {
    let mut k = boot();
    let elf = TempFile::new(&build_elf());
    load_elf_binary(&mut k, elf.path(), &[b"t".to_vec()], &[]).unwrap();
    // A mapping at 0x08100000: the new break plus one page must not reach it.
    let anon = [0x0810_0000, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, u32::MAX, 0];
    assert_eq!(sys_mmap2(&mut k, anon), Ok(0x0810_0000));
    assert_eq!(brk(&mut k, 0x080F_F001), 0x080A_1234);
    assert_eq!(brk(&mut k, 0x080F_F000), 0x080F_F000);
    assert_eq!(k.task.mm.find_vma(0x080F_E000).map(|v| (v.start, v.end)), Some((0x080A_1000, 0x080F_F000)));

    // RLIMIT_DATA counts from start_data (0x080A0000), not start_brk.
    let mut k = boot();
    k.task.rlim[RLIMIT_DATA].cur = 64 << 10;
    load_elf_binary(&mut k, elf.path(), &[b"t".to_vec()], &[]).unwrap();
    assert_eq!(brk(&mut k, 0x080A_0000 + 0x1_0001), 0x080A_1234);
    assert_eq!(brk(&mut k, 0x080A_0000 + 0x1_0000), 0x080B_0000);

    // Shrinking below start_brk unmaps bss and data pages too (a 2.4 quirk).
    assert_eq!(brk(&mut k, 0x080A_0800), 0x080A_0800);
    assert_eq!(k.task.mm.find_vma(0x080A_0000).map(|v| (v.start, v.end)), Some((0x080A_0000, 0x080A_1000)));
    assert!(k.task.mm.find_vma(0x080A_1000).is_none_or(|v| v.start > 0x080A_1000));
}

#[test]
fn scenario_19_initial_process_image() {
    let mut k = boot();
    let elf = TempFile::new(&build_elf());
    k.cpu.regs = [7; 8];
    load_elf_binary(&mut k, elf.path(), &[b"t".to_vec()], &[b"A=1".to_vec()]).unwrap();
    let esp = k.cpu.regs[growsdown_cpu::ESP];
    assert_eq!(esp % 16, 0);
    assert!(esp >= 0xBFFF_F000, "small arguments fit the one stack page");
    assert_eq!(k.cpu.eip, TEXT + CODE_OFF);
    for (i, r) in k.cpu.regs.iter().enumerate() {
        if i != growsdown_cpu::ESP {
            assert_eq!(*r, 0, "register {}", growsdown_cpu::REG_NAMES[i]);
        }
    }
    use growsdown_cpu::SegReg;
    let sel = |s: SegReg| k.cpu.segs[s as usize].selector;
    assert_eq!(
        (sel(SegReg::Cs), sel(SegReg::Ds), sel(SegReg::Es), sel(SegReg::Ss)),
        (0x23, 0x2b, 0x2b, 0x2b)
    );
    assert_eq!((sel(SegReg::Fs), sel(SegReg::Gs)), (0, 0));

    let word = |k: &mut Kernel, a: u32| k.get_user::<u32>(a).unwrap();
    assert_eq!(word(&mut k, esp), 1);
    let argv0 = word(&mut k, esp + 4);
    assert_eq!(k.strncpy_from_user(argv0, 100).unwrap(), b"t");
    assert_eq!(word(&mut k, esp + 8), 0);
    let env0 = word(&mut k, esp + 12);
    assert_eq!(k.strncpy_from_user(env0, 100).unwrap(), b"A=1");
    assert_eq!(word(&mut k, esp + 16), 0);
    let mut auxv = std::collections::HashMap::new();
    let mut a = esp + 20;
    loop {
        let (t, v) = (word(&mut k, a), word(&mut k, a + 4));
        if t == 0 {
            break;
        }
        auxv.insert(t, v);
        a += 8;
    }
    assert_eq!(auxv[&16], growsdown_cpu::cpuid::FEATURES_EDX);
    assert_eq!(auxv[&6], 4096);
    assert_eq!(auxv[&17], 100);
    assert_eq!(auxv[&3], 0x0804_8034);
    assert_eq!((auxv[&4], auxv[&5], auxv[&9]), (32, 2, TEXT + CODE_OFF));
    assert_eq!(k.strncpy_from_user(auxv[&15], 16).unwrap(), b"i686");
    // SAFETY: getuid cannot fail.
    assert_eq!(auxv[&11], unsafe { libc::getuid() });

    // The stack VMA is exactly one page.
    // Today's maps line: padded to column 73 and named `[stack]` (it holds
    // start_stack).
    let last = k.task.mm.maps().lines().last().unwrap_or_default().to_string();
    assert!(
        last.starts_with("bffff000-c0000000 rwxp 00000000 00:00 0 ") && last.ends_with(" [stack]"),
        "{last}"
    );
    assert_eq!(last.find('['), Some(73), "{last}");
    assert_eq!(k.task.mm.mmap.last().map(|v| v.pages()), Some(1));
    assert!(k.task.mm.arg_start < k.task.mm.arg_end && k.task.mm.env_end > k.task.mm.env_start);
    assert_eq!(k.task.mm.start_stack, esp);
    assert!(k.task.comm.starts_with("growsdown-mm-te"));
}

#[test]
fn large_argument_lists_grow_the_stack_with_kernel_faults() {
    let mut k = boot();
    let elf = TempFile::new(&build_elf());
    let argv: Vec<Vec<u8>> = (0..3000).map(|_| b"x".to_vec()).collect();
    load_elf_binary(&mut k, elf.path(), &argv, &[]).unwrap();
    let esp = k.cpu.regs[growsdown_cpu::ESP];
    let stack = k.task.mm.mmap.last().unwrap().clone();
    // The strings take two pages; the 3001 argv pointers lie below them and were
    // stored with kernel-mode faults that expanded the stack.
    assert!(stack.start <= esp & !0xfff);
    assert!(k.task.min_flt >= 3, "kernel-mode stack growth charged as minor faults");
    assert!(k.task.sig.pending.is_empty());
    assert_eq!(k.get_user::<u32>(esp).unwrap(), 3000);
    assert_eq!(
        stack.pgoff,
        0u32.wrapping_sub((k.task.mm.arg_start & !0xfff).wrapping_sub(stack.start) >> 12)
    );
}

#[test]
fn exit_mmap_and_re_exec_free_everything() {
    let mut k = boot();
    let booted = k.frames.in_use();
    let elf = TempFile::new(&build_elf());
    load_elf_binary(&mut k, elf.path(), &[b"t".to_vec()], &[b"A=1".to_vec()]).unwrap();
    let after_exec = k.frames.in_use();
    assert!(after_exec > booted);
    // Re-exec tears the old image down in place: same frame count afterwards.
    let pgd = k.task.mm.pgd;
    load_elf_binary(&mut k, elf.path(), &[b"t".to_vec()], &[b"A=1".to_vec()]).unwrap();
    assert_eq!(k.frames.in_use(), after_exec);
    assert_eq!(k.task.mm.pgd, pgd);
    assert_eq!((k.task.min_flt, k.task.maj_flt), (0, 2), "exec does not reset the counters");

    exit_mmap(&mut k);
    assert_eq!(k.frames.in_use(), booted, "every page and page table freed");
    assert!(k.page_cache.is_empty());
    assert_eq!((k.task.mm.rss, k.task.mm.total_vm, k.task.mm.map_count()), (0, 0, 0));
}

#[test]
fn exec_errors_are_sentences_and_leave_the_process_alone() {
    let mut k = boot();
    let elf = TempFile::new(&build_elf());
    load_elf_binary(&mut k, elf.path(), &[b"t".to_vec()], &[]).unwrap();
    let before = vmas(&k);

    let e = load_elf_binary(&mut k, "/nonexistent/prog", &[], &[]).unwrap_err();
    assert!(e.contains("/nonexistent/prog") && e.contains("No such file"), "{e}");
    let junk = TempFile::new(b"#!/bin/sh\necho hi\n");
    let e = load_elf_binary(&mut k, junk.path(), &[], &[]).unwrap_err();
    assert!(e.contains("not an ELF file"), "{e}");
    let mut bad = build_elf();
    bad[18] = 62; // EM_X86_64
    let bad = TempFile::new(&bad);
    let e = load_elf_binary(&mut k, bad.path(), &[], &[]).unwrap_err();
    assert!(e.contains("i386"), "{e}");
    assert_eq!(vmas(&k), before);
}
