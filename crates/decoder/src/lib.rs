//! Instruction decoding for growsdown.
//!
//! One job: decoding i386 instructions (32-bit code segments, and 16-bit ones in
//! protected mode) through iced-x86 —
//! [`decode_one`] for one instruction, [`Stream`] for a block's worth from one
//! buffer, [`ends_block`] to say whether a decoded block ends after one, and
//! [`format_intel`] / [`IntelText`] for disassembly in traces and reports.
//! The CPU crate lowers what this decodes into its own micro-ops (`growsdown_cpu::uop`)
//! and keeps the decoded blocks (`crates/cpu/src/blocks.rs`).

pub use iced_x86::{Code, ConditionCode, Instruction, MemorySize, Mnemonic, OpKind, Register, RepPrefixKind};

/// Longest legal x86 instruction (SDM Vol. 2, §2.3.11).
pub const MAX_INSN_LEN: usize = 15;

/// Why [`decode_one`] produced no instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The bytes given end inside the instruction; fetch more (the next page) and retry.
    NeedMoreBytes,
    /// The bytes are not a valid instruction (the CPU raises #UD).
    Invalid,
}

/// Decodes the instruction at `ip` whose bytes start at `bytes[0]`.
pub fn decode_one(bytes: &[u8], ip: u32) -> Result<Instruction, DecodeError> {
    decode_one_in(32, bytes, ip)
}

/// [`decode_one`] in a code segment of `bits` (32, or 16 for a code segment whose
/// D bit is clear: default operand and address size 16).
pub fn decode_one_in(bits: u32, bytes: &[u8], ip: u32) -> Result<Instruction, DecodeError> {
    let mut decoder = iced_x86::Decoder::with_ip(bits, bytes, u64::from(ip), iced_x86::DecoderOptions::NONE);
    let mut insn = Instruction::default();
    decoder.decode_out(&mut insn);
    match decoder.last_error() {
        iced_x86::DecoderError::None => Ok(insn),
        iced_x86::DecoderError::NoMoreBytes => Err(DecodeError::NeedMoreBytes),
        _ => Err(DecodeError::Invalid),
    }
}

/// Decodes consecutive instructions from one buffer with one iced decoder (a block
/// build), which saves setting a decoder up per instruction.
pub struct Stream<'a> {
    decoder: iced_x86::Decoder<'a>,
    len: usize,
}

impl<'a> Stream<'a> {
    /// Instructions from `bytes`, the first at `ip`.
    pub fn new(bytes: &'a [u8], ip: u32) -> Self {
        Self::new_in(32, bytes, ip)
    }

    /// [`Stream::new`] in a code segment of `bits` (32 or 16).
    pub fn new_in(bits: u32, bytes: &'a [u8], ip: u32) -> Self {
        Self {
            decoder: iced_x86::Decoder::with_ip(bits, bytes, u64::from(ip), iced_x86::DecoderOptions::NONE),
            len: bytes.len(),
        }
    }

    /// Offset of the next instruction in the buffer.
    pub fn position(&self) -> usize {
        self.decoder.position()
    }

    /// Whether bytes are left.
    pub fn has_more(&self) -> bool {
        self.decoder.position() < self.len
    }

    /// The next instruction, with the same errors as [`decode_one`].
    pub fn next_insn(&mut self) -> Result<Instruction, DecodeError> {
        let mut insn = Instruction::default();
        self.decoder.decode_out(&mut insn);
        match self.decoder.last_error() {
            iced_x86::DecoderError::None => Ok(insn),
            iced_x86::DecoderError::NoMoreBytes => Err(DecodeError::NeedMoreBytes),
            _ => Err(DecodeError::Invalid),
        }
    }
}

/// Intel-syntax disassembly of one instruction, for traces and reports.
pub fn format_intel(insn: &Instruction) -> String {
    let mut out = String::new();
    IntelText::new().format_into(insn, &mut out);
    out
}

/// The formatter behind [`format_intel`], set up once: building an iced formatter
/// costs about as much as formatting an instruction, so a caller that formats many
/// (the fault tracer) keeps one.
pub struct IntelText(iced_x86::IntelFormatter);

impl IntelText {
    pub fn new() -> Self {
        use iced_x86::Formatter;
        let mut formatter = iced_x86::IntelFormatter::new();
        formatter.options_mut().set_hex_prefix("0x");
        formatter.options_mut().set_hex_suffix("");
        formatter.options_mut().set_uppercase_hex(false);
        formatter.options_mut().set_space_after_operand_separator(true);
        IntelText(formatter)
    }

    /// Builds iced's formatter tables, which every formatter of the process shares
    /// and the first one to be made builds (~5 million host instructions, about a
    /// millisecond): called ahead of the first instruction to format, on a thread
    /// of its own, it takes that out of the way of whoever formats it. A formatter
    /// made meanwhile waits for the tables instead of building them again.
    pub fn warm_up() {
        drop(Self::new());
    }

    /// Appends the text [`format_intel`] gives to `out`.
    pub fn format_into(&mut self, insn: &Instruction, out: &mut String) {
        use iced_x86::Formatter;
        self.0.format(insn, out);
    }
}

impl Default for IntelText {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether executing `insn` may transfer control somewhere other than the next
/// instruction; a block ends after such an instruction.
pub fn ends_block(insn: &Instruction) -> bool {
    use iced_x86::FlowControl::*;
    !matches!(insn.flow_control(), Next) || insn.has_rep_prefix() || insn.has_repne_prefix()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_push_and_reports_length() {
        let insn = decode_one(&[0x50, 0x90], 0x1000).unwrap();
        assert_eq!(insn.code(), Code::Push_r32);
        assert_eq!(insn.len(), 1);
        assert_eq!(format_intel(&insn), "push eax");
    }

    #[test]
    fn a_stream_decodes_like_single_instructions() {
        // push eax; mov eax, 1; jmp short -2; then a truncated mov
        let bytes = [0x50, 0xb8, 1, 0, 0, 0, 0xeb, 0xfe, 0xb8, 0x01];
        let mut s = Stream::new(&bytes, 0x1000);
        let mut ips = Vec::new();
        while s.has_more() {
            match s.next_insn() {
                Ok(i) => {
                    assert_eq!(Ok(i), decode_one(&bytes[(i.ip32() - 0x1000) as usize..], i.ip32()));
                    ips.push(i.ip32());
                }
                Err(e) => {
                    assert_eq!(e, DecodeError::NeedMoreBytes);
                    break;
                }
            }
        }
        assert_eq!(ips, [0x1000, 0x1001, 0x1006]);
    }

    #[test]
    fn a_kept_formatter_appends_what_format_intel_gives() {
        let mut f = IntelText::new();
        let mut out = String::from(">");
        for (bytes, want) in [(&[0x50][..], "push eax"), (&[0x89, 0x50, 0x04][..], "mov [eax+4], edx")] {
            let insn = decode_one(bytes, 0x1000).unwrap();
            assert_eq!(format_intel(&insn), want);
            out.truncate(1);
            f.format_into(&insn, &mut out);
            assert_eq!(out, format!(">{want}"));
        }
    }

    #[test]
    fn truncated_instruction_asks_for_more() {
        // mov eax, imm32 cut after two bytes
        assert_eq!(decode_one(&[0xb8, 0x01], 0), Err(DecodeError::NeedMoreBytes));
    }

    #[test]
    fn invalid_opcode_is_reported() {
        // 0F 0B is UD2, which iced decodes as a valid instruction; 0F FF (UD0 without
        // ModRM) and a lone LOCK on a register form are invalid encodings.
        assert_eq!(decode_one(&[0xf0, 0x01, 0xc0], 0), Err(DecodeError::Invalid));
    }
}
