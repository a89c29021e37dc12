//! A minimal client for the GDB remote serial protocol, enough to drive QEMU's
//! gdbstub: packet framing (`$payload#checksum`, `}` escapes, `*` run-length
//! decoding), acknowledgements, and pipelining of several requests in one write.
//!
//! Written from the protocol description in GDB's manual ("Remote Protocol",
//! sections "Overview" and "Packets").

use std::io::{self, Read, Write};

/// Frames `payload` as a packet: `$`, the payload with `$ # } *` escaped as `}`
/// followed by the byte XOR 0x20, `#`, and the two-hex-digit modulo-256 sum of the
/// escaped payload.
pub fn encode(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 4);
    out.push(b'$');
    let mut sum: u8 = 0;
    for &b in payload {
        if matches!(b, b'$' | b'#' | b'}' | b'*') {
            out.push(b'}');
            out.push(b ^ 0x20);
            sum = sum.wrapping_add(b'}').wrapping_add(b ^ 0x20);
        } else {
            out.push(b);
            sum = sum.wrapping_add(b);
        }
    }
    out.push(b'#');
    out.extend_from_slice(format!("{sum:02x}").as_bytes());
    out
}

/// What the receive side found in the byte stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A well-formed packet's decoded payload.
    Packet(Vec<u8>),
    /// `+`: the peer acknowledged our packet.
    Ack,
    /// `-`: the peer asks for a retransmission.
    Nak,
    /// A packet whose checksum did not match (payload as received).
    BadChecksum(Vec<u8>),
}

/// Incremental parser: feed it bytes as they arrive, take frames out.
#[derive(Default, Debug)]
pub struct Framer {
    buf: Vec<u8>,
    pos: usize,
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

impl Framer {
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame, or `None` if more bytes are needed. Bytes outside
    /// packets other than `+`/`-` (noise) are skipped.
    pub fn next_frame(&mut self) -> Option<Frame> {
        while self.pos < self.buf.len() {
            match self.buf[self.pos] {
                b'+' => {
                    self.pos += 1;
                    return Some(Frame::Ack);
                }
                b'-' => {
                    self.pos += 1;
                    return Some(Frame::Nak);
                }
                b'$' => break,
                _ => self.pos += 1,
            }
        }
        if self.pos >= self.buf.len() {
            return None;
        }
        let start = self.pos + 1;
        let hash = start + self.buf[start..].iter().position(|&b| b == b'#')?;
        if self.buf.len() < hash + 3 {
            return None;
        }
        let raw = &self.buf[start..hash];
        let sum = raw.iter().fold(0u8, |a, &b| a.wrapping_add(b));
        let want = match (hex_val(self.buf[hash + 1]), hex_val(self.buf[hash + 2])) {
            (Some(h), Some(l)) => Some((h << 4) | l),
            _ => None,
        };
        let payload = unescape(raw);
        self.pos = hash + 3;
        if want == Some(sum) {
            Some(Frame::Packet(payload))
        } else {
            Some(Frame::BadChecksum(payload))
        }
    }
}

/// Undoes `}` escapes and expands `X*n` run-length encoding (n is a printable
/// character; X repeats n - 29 more times).
fn unescape(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'}' if i + 1 < raw.len() => {
                out.push(raw[i + 1] ^ 0x20);
                i += 2;
            }
            b'*' if i + 1 < raw.len() && !out.is_empty() => {
                let last = *out.last().unwrap_or(&0);
                let n = raw[i + 1].saturating_sub(29);
                out.extend(std::iter::repeat_n(last, n as usize));
                i += 2;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Lower-case hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Bytes of a hex string (an odd trailing digit is ignored).
pub fn from_hex(s: &[u8]) -> Option<Vec<u8>> {
    s.chunks_exact(2).map(|c| Some((hex_val(c[0])? << 4) | hex_val(c[1])?)).collect()
}

/// A connection speaking the protocol with acknowledgements on (QEMU 7.2 does not
/// offer `QStartNoAckMode`).
pub struct Client<S: Read + Write> {
    stream: S,
    framer: Framer,
    /// Requests queued and not written yet.
    out: Vec<u8>,
}

impl Client<std::os::unix::net::UnixStream> {
    pub fn stream_fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&self.stream)
    }

    /// A packet if one has arrived, without blocking (acknowledgements the peer
    /// sent for our requests are consumed on the way).
    pub fn try_recv(&mut self) -> io::Result<Option<Vec<u8>>> {
        self.flush()?;
        loop {
            while let Some(f) = self.framer.next_frame() {
                match f {
                    Frame::Packet(p) => {
                        self.stream.write_all(b"+")?;
                        return Ok(Some(p));
                    }
                    Frame::Ack => {}
                    Frame::Nak => return Err(io::Error::other("gdbstub asked for a retransmission")),
                    Frame::BadChecksum(_) => {
                        return Err(io::Error::other("gdbstub reply with a bad checksum"))
                    }
                }
            }
            let mut chunk = [0u8; 4096];
            self.stream.set_nonblocking(true)?;
            let r = self.stream.read(&mut chunk);
            self.stream.set_nonblocking(false)?;
            match r {
                Ok(0) => {
                    return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "gdbstub closed the connection"))
                }
                Ok(n) => self.framer.feed(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }
}

impl<S: Read + Write> Client<S> {
    pub fn new(stream: S) -> Self {
        Self { stream, framer: Framer::default(), out: Vec::new() }
    }

    /// Queues a request; nothing is written until [`Client::flush`] or a receive.
    pub fn queue(&mut self, payload: &[u8]) {
        self.out.extend_from_slice(&encode(payload));
    }

    pub fn flush(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            self.stream.write_all(&self.out)?;
            self.out.clear();
        }
        Ok(())
    }

    /// The next packet from the peer, acknowledged with `+` at once: QEMU's user-mode
    /// gdbstub blocks after each packet it sends until the acknowledgement arrives,
    /// so an acknowledgement held back for the next request would stall it. Flushes
    /// queued requests first.
    pub fn recv(&mut self) -> io::Result<Vec<u8>> {
        self.flush()?;
        let mut chunk = [0u8; 16384];
        loop {
            while let Some(f) = self.framer.next_frame() {
                match f {
                    Frame::Packet(p) => {
                        self.stream.write_all(b"+")?;
                        return Ok(p);
                    }
                    Frame::Ack => {}
                    Frame::Nak => {
                        return Err(io::Error::other(
                            "gdbstub asked for a retransmission (corrupted request)",
                        ));
                    }
                    Frame::BadChecksum(p) => {
                        return Err(io::Error::other(format!(
                            "gdbstub reply with a bad checksum: {}",
                            String::from_utf8_lossy(&p)
                        )));
                    }
                }
            }
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "gdbstub closed the connection"));
            }
            self.framer.feed(&chunk[..n]);
        }
    }

    /// One request, one reply.
    pub fn request(&mut self, payload: &[u8]) -> io::Result<Vec<u8>> {
        self.queue(payload);
        self.recv()
    }

    /// Sends `payload` without expecting a reply (e.g. `k`).
    pub fn send_only(&mut self, payload: &[u8]) -> io::Result<()> {
        self.queue(payload);
        self.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_with_checksum() {
        // Checksums computed by hand: 'g' = 0x67; '?' = 0x3f; "m8049000,4" sums to
        // 0x6d+0x38+0x30+0x34+0x39+0x30+0x30+0x30+0x2c+0x34 = 0x232 → 0x32.
        assert_eq!(encode(b"g"), b"$g#67");
        assert_eq!(encode(b"?"), b"$?#3f");
        assert_eq!(encode(b"m8049000,4"), b"$m8049000,4#32");
        assert_eq!(encode(b""), b"$#00");
    }

    #[test]
    fn escapes_special_bytes() {
        // '#' (0x23) → "}\x03": checksum 0x7d + 0x03 = 0x80.
        assert_eq!(encode(b"#"), b"$}\x03#80");
        let mut f = Framer::default();
        f.feed(&encode(b"a$b#c}d*e"));
        assert_eq!(f.next_frame(), Some(Frame::Packet(b"a$b#c}d*e".to_vec())));
    }

    #[test]
    fn parses_acks_packets_and_split_input() {
        let mut f = Framer::default();
        f.feed(b"+$T05thread:01;#");
        assert_eq!(f.next_frame(), Some(Frame::Ack));
        assert_eq!(f.next_frame(), None); // checksum not there yet
        f.feed(b"0");
        assert_eq!(f.next_frame(), None);
        // "T05thread:01;" sums to 0x3?: computed by the encoder under test above.
        let want = encode(b"T05thread:01;");
        f.feed(&want[want.len() - 1..]);
        assert_eq!(f.next_frame(), Some(Frame::Packet(b"T05thread:01;".to_vec())));
        assert_eq!(f.next_frame(), None);
        f.feed(b"-$OK#9a$OK#00");
        assert_eq!(f.next_frame(), Some(Frame::Nak));
        assert_eq!(f.next_frame(), Some(Frame::Packet(b"OK".to_vec())));
        assert_eq!(f.next_frame(), Some(Frame::BadChecksum(b"OK".to_vec())));
    }

    #[test]
    fn expands_run_length_encoding() {
        // "0* " is '0' followed by 32 - 29 = 3 more: "0000".
        let mut f = Framer::default();
        f.feed(b"$0* #");
        let sum = b"0* ".iter().fold(0u8, |a, &b| a.wrapping_add(b));
        f.feed(format!("{sum:02x}").as_bytes());
        assert_eq!(f.next_frame(), Some(Frame::Packet(b"0000".to_vec())));
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(to_hex(&[0, 0xab, 0x10]), "00ab10");
        assert_eq!(from_hex(b"00ab10").unwrap(), vec![0, 0xab, 0x10]);
        assert_eq!(from_hex(b"zz"), None);
    }

    /// A fake peer: what it will "send", and what it received.
    struct Pipe {
        rx: std::io::Cursor<Vec<u8>>,
        tx: Vec<u8>,
    }
    impl Read for Pipe {
        fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
            self.rx.read(b)
        }
    }
    impl Write for Pipe {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.tx.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn client_pipelines_and_acknowledges() {
        let mut replies = Vec::new();
        for p in [&b"T05thread:01;"[..], b"00112233"] {
            replies.push(b'+');
            replies.extend(encode(p));
        }
        let mut c = Client::new(Pipe { rx: std::io::Cursor::new(replies), tx: Vec::new() });
        c.queue(b"s");
        c.queue(b"g");
        assert_eq!(c.recv().unwrap(), b"T05thread:01;");
        assert_eq!(c.recv().unwrap(), b"00112233");
        c.flush().unwrap();
        // Both requests went out in one write, then one ack per reply.
        assert_eq!(c.stream.tx, b"$s#73$g#67++");
    }
}
