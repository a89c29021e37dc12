//! A minimal process for syscall and signal tests, built only with the public API:
//! a booted `Kernel`, anonymous fixed mappings made through the mmap2 syscall, code
//! and data poked in with `copy_to_user`, and the 2.4 user segments.
#![allow(dead_code)]

use growsdown_kernel::syscall::{do_syscall, Args, NR_MMAP2};
use growsdown_kernel::{Config, ExitStatus, Kernel};

pub const CODE: u32 = 0x0804_8000;
pub const DATA: u32 = 0x0805_0000;
pub const STACK_BASE: u32 = 0xbffe_0000;
pub const STACK_TOP: u32 = 0xc000_0000;

pub const PROT_READ: u32 = 1;
pub const PROT_WRITE: u32 = 2;
pub const PROT_EXEC: u32 = 4;
pub const MAP_PRIVATE: u32 = 2;
pub const MAP_FIXED: u32 = 0x10;
pub const MAP_ANONYMOUS: u32 = 0x20;

pub fn kernel() -> Kernel {
    Kernel::new(Config { mem_bytes: 64 << 20, ..Config::default() }).expect("kernel boots")
}

/// Runs a syscall as `int 0x80` would and returns EAX as a signed value.
pub fn sys(k: &mut Kernel, nr: u32, args: &[u32]) -> i32 {
    let mut a: Args = [0; 6];
    a[..args.len()].copy_from_slice(args);
    do_syscall(k, nr, a).expect("syscall returns") as i32
}

/// An anonymous private mapping at exactly `addr`.
pub fn map(k: &mut Kernel, addr: u32, len: u32, prot: u32) {
    let r = sys(k, NR_MMAP2, &[addr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, u32::MAX, 0]);
    assert_eq!(r as u32, addr, "mmap2 fixed at {addr:#x}");
}

pub fn poke(k: &mut Kernel, addr: u32, bytes: &[u8]) {
    k.copy_to_user(addr, bytes).expect("poke");
}

pub fn poke32(k: &mut Kernel, addr: u32, v: u32) {
    poke(k, addr, &v.to_le_bytes());
}

pub fn peek(k: &mut Kernel, addr: u32, len: usize) -> Vec<u8> {
    k.read_user(addr, len).expect("peek")
}

pub fn peek32(k: &mut Kernel, addr: u32) -> u32 {
    k.get_user::<u32>(addr).expect("peek32")
}

/// A process: code (rwx) at CODE, 64 KiB of data at DATA, 128 KiB of stack below
/// 0xC0000000, flat user segments, ESP at the top of the stack, EIP at CODE.
pub fn process(code: &[u8]) -> Kernel {
    let mut k = kernel();
    map(&mut k, CODE, 0x1000, PROT_READ | PROT_WRITE | PROT_EXEC);
    map(&mut k, DATA, 0x10000, PROT_READ | PROT_WRITE);
    map(&mut k, STACK_BASE, STACK_TOP - STACK_BASE, PROT_READ | PROT_WRITE);
    poke(&mut k, CODE, code);
    growsdown_kernel::mm::load_user_segments(&mut k);
    k.cpu.regs[growsdown_cpu::ESP] = STACK_TOP - 0x100;
    k.cpu.eip = CODE;
    k
}

/// Runs the guest until it exits or is killed.
pub fn run(k: &mut Kernel) -> ExitStatus {
    k.run()
}
