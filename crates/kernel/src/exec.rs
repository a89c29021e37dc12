//! `load_elf_binary` for static ELF32 executables (spec §4.2–§4.4).

// Placeholder so the CLI builds until exec lands; replaced by the real loader.
pub fn load_elf_binary(
    _k: &mut crate::Kernel,
    path: &str,
    _argv: &[Vec<u8>],
    _envp: &[Vec<u8>],
) -> Result<(), String> {
    Err(format!("{path}: exec is not implemented yet"))
}
