//! `load_elf_binary` for static ELF32 executables (spec §4.2–§4.4).
