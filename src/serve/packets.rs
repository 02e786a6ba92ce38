//! A guard on the read side of opensrv-mysql 0.7.
//!
//! Its packet reader hands out a query that points into its read buffer,
//! and frees that buffer when one read brought more than the current
//! packet (a client that sends its next command without waiting, or a
//! long query), so the query it passes on can be garbage (opensrv issue
//! #66, fixed upstream after 0.7). [`PacketBounded`] never returns bytes
//! past the end of the packet being read: each read stops at the packet's
//! 4-byte header, then at the end of its payload, so the buffer never
//! holds a second packet.
//!
//! It also reads each packet whole before handing it on, so that a query
//! that is not valid UTF-8 (which opensrv answers by dropping the
//! connection) is passed on with its bad bytes replaced, and flagged
//! ([`InvalidQueries`]) for the connection to answer with an error.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};

/// Bytes of a MySQL packet header: 3 bytes of payload length, 1 sequence.
const HEADER: usize = 4;

/// `COM_QUERY`, the first byte of a query's payload.
const COM_QUERY: u8 = 0x03;

/// The largest payload of one packet (a longer one continues in the next).
const MAX_PAYLOAD: usize = 0xFF_FFFF;

/// Set when the last query read was not valid UTF-8; the connection
/// answers it with an error and clears it.
#[derive(Debug, Clone, Default)]
pub struct InvalidQueries(Arc<AtomicBool>);

impl InvalidQueries {
    /// Whether the query being answered was not valid UTF-8 (and clears
    /// that).
    pub fn take(&self) -> bool {
        self.0.swap(false, Ordering::SeqCst)
    }

    fn flag(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A reader that returns at most one MySQL packet part (header, then
/// payload) per read.
pub struct PacketBounded<R> {
    inner: R,
    /// The packet being read from the client.
    incoming: Vec<u8>,
    /// The packet being handed on, and how much of it was.
    outgoing: Vec<u8>,
    given: usize,
    invalid: InvalidQueries,
}

impl<R> PacketBounded<R> {
    pub fn new(inner: R, invalid: InvalidQueries) -> Self {
        Self {
            inner,
            incoming: Vec::new(),
            outgoing: Vec::new(),
            given: 0,
            invalid,
        }
    }

    /// How many bytes the packet being read has in all, as far as known.
    fn wanted(&self) -> usize {
        if self.incoming.len() < HEADER {
            return HEADER;
        }
        let length = usize::from(self.incoming[0])
            | usize::from(self.incoming[1]) << 8
            | usize::from(self.incoming[2]) << 16;
        HEADER + length
    }

    /// Hands the next part of the outgoing packet to `buf`: up to the end
    /// of its header, or of its payload.
    fn give(&mut self, buf: &mut ReadBuf<'_>) {
        let end = if self.given < HEADER {
            HEADER
        } else {
            self.outgoing.len()
        };
        let n = (end - self.given).min(buf.remaining());
        buf.put_slice(&self.outgoing[self.given..self.given + n]);
        self.given += n;
    }
}

/// `packet` as handed on: a command's query that is not valid UTF-8 gets
/// its bad bytes replaced (and is flagged); anything else is unchanged.
fn repaired(packet: Vec<u8>, invalid: &InvalidQueries) -> Vec<u8> {
    let payload = &packet[HEADER..];
    // A command starts a new exchange (sequence 0); the login does not.
    let query = packet[3] == 0 && payload.first() == Some(&COM_QUERY);
    if !query || payload.len() >= MAX_PAYLOAD || std::str::from_utf8(&payload[1..]).is_ok() {
        return packet;
    }
    let text = String::from_utf8_lossy(&payload[1..]);
    let length = 1 + text.len();
    if length >= MAX_PAYLOAD {
        return packet;
    }
    invalid.flag();
    let mut out = Vec::with_capacity(HEADER + length);
    out.extend_from_slice(&(length as u32).to_le_bytes()[..3]);
    out.push(0);
    out.push(COM_QUERY);
    out.extend_from_slice(text.as_bytes());
    out
}

impl<R: AsyncRead + Unpin> AsyncRead for PacketBounded<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.given < this.outgoing.len() {
                this.give(buf);
                return Poll::Ready(Ok(()));
            }
            let wanted = this.wanted();
            if this.incoming.len() >= HEADER && this.incoming.len() == wanted {
                let packet = std::mem::take(&mut this.incoming);
                this.outgoing = repaired(packet, &this.invalid);
                this.given = 0;
                continue;
            }
            let mut chunk = vec![0u8; wanted - this.incoming.len()];
            let mut read = ReadBuf::new(&mut chunk);
            match Pin::new(&mut this.inner).poll_read(cx, &mut read) {
                Poll::Ready(Ok(())) => {
                    let n = read.filled().len();
                    if n == 0 {
                        // The client closed the connection.
                        return Poll::Ready(Ok(()));
                    }
                    this.incoming.extend_from_slice(&chunk[..n]);
                }
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;

    #[tokio::test]
    async fn a_read_never_crosses_into_the_next_packet() {
        // Two packets in one buffer: payloads of 3 and 0 bytes, then 2.
        let bytes: &[u8] = &[
            3, 0, 0, 0, b'a', b'b', b'c', 0, 0, 0, 1, 2, 0, 0, 2, b'x', b'y',
        ];
        let mut reader = PacketBounded::new(bytes, InvalidQueries::default());
        let mut reads = Vec::new();
        let mut buf = [0u8; 64];
        loop {
            let n = reader.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            reads.push(buf[..n].to_vec());
        }
        let expected: Vec<Vec<u8>> = vec![
            vec![3, 0, 0, 0],
            b"abc".to_vec(),
            vec![0, 0, 0, 1],
            vec![2, 0, 0, 2],
            b"xy".to_vec(),
        ];
        assert_eq!(reads, expected);
    }

    #[tokio::test]
    async fn a_query_that_is_not_utf8_is_repaired_and_flagged() {
        // A login packet (sequence 1) is never touched; a query (sequence 0)
        // with a bad byte is.
        let bytes: &[u8] = &[
            2, 0, 0, 1, COM_QUERY, 0xc3, 4, 0, 0, 0, COM_QUERY, b'S', b'H', 0xc3,
        ];
        let invalid = InvalidQueries::default();
        let mut reader = PacketBounded::new(bytes, invalid.clone());
        let mut all = Vec::new();
        reader.read_to_end(&mut all).await.unwrap();
        let mut expected = vec![
            2, 0, 0, 1, COM_QUERY, 0xc3, 6, 0, 0, 0, COM_QUERY, b'S', b'H',
        ];
        expected.extend_from_slice("\u{FFFD}".as_bytes());
        assert_eq!(all, expected);
        assert!(invalid.take());
        assert!(!invalid.take());
    }

    #[tokio::test]
    async fn random_bytes_never_make_the_reader_fail_or_loop() {
        // xorshift64*: the same bytes every run.
        let mut state = 0x5EED_u64;
        let mut next = move || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_F491_4F6C_DD1D)
        };
        for _ in 0..2_000 {
            let length = (next() % 64) as usize;
            let mut bytes: Vec<u8> = (0..length).map(|_| next() as u8).collect();
            // Some packets that claim a command of sequence 0.
            if length > 4 && next() % 2 == 0 {
                bytes[3] = 0;
                bytes[4] = COM_QUERY;
            }
            let mut reader = PacketBounded::new(bytes.as_slice(), InvalidQueries::default());
            let mut all = Vec::new();
            reader.read_to_end(&mut all).await.unwrap();
            assert!(all.len() <= bytes.len() * 3, "{bytes:?}");
        }
    }
}
