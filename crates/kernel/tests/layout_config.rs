//! The layout options of `Config` that `growsdown difftest` uses to give the guest a
//! reference's layout (docs/difftest.md): stack top and a fixed stack, a page-aligned
//! brk start, the mmap base and placement hook, the TLS GDT entry numbering. Their
//! defaults are 2.4's behaviour, checked by the other tests (mm_exec.rs, ...).

mod mm_util;

use growsdown_kernel::exec::load_elf_binary;
use growsdown_kernel::mm::mmap::*;
use growsdown_kernel::syscall::process::{sys_get_thread_area, sys_set_thread_area};
use growsdown_kernel::{Config, Kernel, Personality};
use mm_util::*;

fn with(personality: Personality) -> Config {
    Config { personality, ..Config::default() }
}

fn exec_with(config: Config) -> Kernel {
    let mut k = Kernel::new(Config { mem_bytes: 64 << 20, ..config }).expect("boot");
    let elf = TempFile::new(&build_elf());
    load_elf_binary(&mut k, elf.path(), &[b"t".to_vec()], &[b"A=1".to_vec()]).unwrap();
    k
}

#[test]
fn defaults_are_2_4s() {
    let c = Config::default().personality;
    assert_eq!(c, Personality::LINUX_24);
    assert_eq!(c.stack_top, growsdown_kernel::TASK_SIZE);
    assert_eq!(c.fixed_stack, None);
    assert_eq!(c.mmap_base, TASK_UNMAPPED_BASE);
    assert_eq!(c.tls_entry_min, growsdown_kernel::GDT_ENTRY_TLS_MIN);
    assert!(!c.brk_page_aligned);
    assert!(c.esp_check);
}

#[test]
fn brk_can_start_page_aligned() {
    let k = exec_with(with(Personality { brk_page_aligned: true, ..Personality::LINUX_24 }));
    // build_elf's bss ends at 0x080A1234 (mm_exec.rs scenario 11).
    assert_eq!((k.task.mm.start_brk, k.task.mm.brk), (0x080A_2000, 0x080A_2000));
}

#[test]
fn stack_at_a_given_top_fixed_size_not_growing() {
    let (top, size) = (0x4080_1000, 8 << 20);
    let mut k =
        exec_with(with(Personality { stack_top: top, fixed_stack: Some(size), ..Personality::LINUX_24 }));
    let stack = k.task.mm.mmap.last().unwrap().clone();
    assert_eq!((stack.start, stack.end), (top - size, top));
    assert_eq!(stack.flags, 0x77, "VM_STACK_FLAGS without VM_GROWSDOWN");
    let esp = k.cpu.regs[growsdown_cpu::ESP];
    assert!(esp < top && esp > top - 0x1000, "esp {esp:#x}");
    let mut argc = [0u8; 4];
    k.copy_from_user(esp, &mut argc).unwrap();
    assert_eq!(u32::from_le_bytes(argc), 1);
    // The bottom of the mapping is there (demand-zero), not reached by expand_stack.
    let mut b = [0xffu8; 4];
    k.copy_from_user(top - size, &mut b).unwrap();
    assert_eq!(b, [0; 4]);
}

#[test]
fn growing_stack_at_a_given_top() {
    let top = 0xB000_0000;
    let k = exec_with(with(Personality { stack_top: top, ..Personality::LINUX_24 }));
    let stack = k.task.mm.mmap.last().unwrap();
    assert_eq!((stack.start, stack.end, stack.flags), (top - 0x1000, top, 0x177));
}

#[test]
fn mmap_base_and_the_placement_hook() {
    let mut k = exec_with(with(Personality { mmap_base: 0x5000_0000, ..Personality::LINUX_24 }));
    let anon = MAP_PRIVATE | MAP_ANONYMOUS;
    let a = do_mmap_pgoff(&mut k, None, 0, 0x2000, PROT_READ, anon, 0).unwrap();
    assert_eq!(a, 0x5000_0000);
    k.mmap_next = Some(0x6000_0000);
    let b = do_mmap_pgoff(&mut k, None, 0, 0x1000, PROT_READ, anon, 0).unwrap();
    assert_eq!(b, 0x6000_0000);
    // A hook address that is taken is ignored: the usual search.
    k.mmap_next = Some(0x5000_1000);
    let c = do_mmap_pgoff(&mut k, None, 0, 0x1000, PROT_READ, anon, 0).unwrap();
    assert_eq!(c, 0x5000_2000);
}

#[test]
fn tls_entries_numbered_from_tls_entry_min() {
    let mut k = exec_with(with(Personality { tls_entry_min: 12, ..Personality::LINUX_24 }));
    let desc = k.cpu.regs[growsdown_cpu::ESP] - 64;
    // entry -1, base 0x1000, limit 0xfffff, seg_32bit | limit_in_pages | useable.
    let mut ud = Vec::new();
    for w in [u32::MAX, 0x1000, 0xfffff, 0x51] {
        ud.extend_from_slice(&w.to_le_bytes());
    }
    k.copy_to_user(desc, &ud).unwrap();
    assert_eq!(sys_set_thread_area(&mut k, [desc, 0, 0, 0, 0, 0]), Ok(0));
    let mut e = [0u8; 4];
    k.copy_from_user(desc, &mut e).unwrap();
    assert_eq!(u32::from_le_bytes(e), 12, "the first free slot is 12");
    assert_ne!(k.cpu.gdt[12], 0);
    assert_eq!(k.cpu.gdt[6], 0);
    k.copy_to_user(desc, &6u32.to_le_bytes()).unwrap();
    assert!(sys_get_thread_area(&mut k, [desc, 0, 0, 0, 0, 0]).is_err(), "6 is not a TLS slot now");
    k.copy_to_user(desc, &12u32.to_le_bytes()).unwrap();
    assert_eq!(sys_get_thread_area(&mut k, [desc, 0, 0, 0, 0, 0]), Ok(0));
}
