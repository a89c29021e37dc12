//! Where a signal frame keeps the interrupted registers: i386 Linux's `sigframe`
//! and `rt_sigframe` (2.4 arch/i386/kernel/signal.c; today's ia32 frames have the
//! same head), read at a handler's first instruction, ESP pointing to `pretcode`.
//!
//! * `rt_sigframe`: pretcode, sig, pinfo (= ESP + 16), puc (= ESP + 144), the
//!   128-byte siginfo, then the ucontext: uc_flags, uc_link, uc_stack (12 bytes),
//!   the sigcontext — at ESP + 164;
//! * `sigframe`: pretcode, sig, the sigcontext — at ESP + 8.
//!
//! The sigcontext: gs fs es ds edi esi ebp esp ebx edx ecx eax trapno err eip cs
//! eflags esp_at_signal ss (32 bits each), then fpstate.

/// Word index in the sigcontext of EIP.
pub const SC_EIP: usize = 14;
/// Word index of EFLAGS.
pub const SC_EFLAGS: usize = 16;
/// Word indices of EAX ECX EDX EBX ESP EBP ESI EDI (growsdown's order).
pub const SC_REGS: [usize; 8] = [11, 10, 9, 8, 7, 6, 5, 4];
/// Word indices of the ES CS SS DS FS GS selectors.
pub const SC_SEGS: [usize; 6] = [2, 15, 18, 3, 1, 0];
/// Words in the sigcontext up to SS.
pub const SC_WORDS: usize = 19;

/// The sigcontext's address, given ESP and the frame's first 16 bytes: an rt frame
/// is recognised by its `pinfo` and `puc` pointers (a plain frame has selectors
/// there).
pub fn sigcontext_at(esp: u32, head: &[u8; 16]) -> u32 {
    let w = |i: usize| u32::from_le_bytes([head[4 * i], head[4 * i + 1], head[4 * i + 2], head[4 * i + 3]]);
    let rt = w(2) == esp.wrapping_add(16) && w(3) == esp.wrapping_add(144);
    esp.wrapping_add(if rt { 164 } else { 8 })
}

/// The sigcontext an interrupted `sigreturn` (119) or `rt_sigreturn` (173) reads,
/// given ESP at its `int 0x80` in the restorer (`pretcode` and, for sigreturn,
/// `sig` already popped: ESP at the sigcontext, or at `sig` of an rt frame).
pub fn sigreturn_context(nr: u32, esp: u32) -> Option<u32> {
    match nr {
        119 => Some(esp),
        173 => Some(esp.wrapping_add(160)),
        _ => None,
    }
}

/// Word `i` of a little-endian byte image.
pub fn word(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rt_and_plain_frames() {
        let esp = 0xbfff_f000u32;
        let mut head = [0u8; 16];
        head[8..12].copy_from_slice(&(esp + 16).to_le_bytes());
        head[12..16].copy_from_slice(&(esp + 144).to_le_bytes());
        assert_eq!(sigcontext_at(esp, &head), esp + 164);
        head[8..16].copy_from_slice(&[0x2b, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(sigcontext_at(esp, &head), esp + 8);
        // rt_sigreturn's ESP is at `sig`: 160 bytes below the sigcontext, which is
        // 164 above `pretcode`.
        assert_eq!(sigreturn_context(173, esp + 4), Some(esp + 164));
        assert_eq!(sigreturn_context(119, esp), Some(esp));
        assert_eq!(sigreturn_context(4, esp), None);
    }
}
