//! A guard on the read side of opensrv-mysql 0.7: its packet reader hands
//! out a query that points into its read buffer, and frees that buffer
//! when one read brought more than the current packet (a client that sends
//! its next command without waiting, or a long query), so the query it
//! passes on can be garbage (opensrv issue #66, fixed upstream after 0.7).
//! [`PacketBounded`] never returns bytes past the end of the packet being
//! read: each read stops at the packet's 4-byte header, then at the end of
//! its payload, so the buffer never holds a second packet.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};

/// Bytes of a MySQL packet header: 3 bytes of payload length, 1 sequence.
const HEADER: usize = 4;

/// A reader that returns at most one MySQL packet part (header, then
/// payload) per read.
pub struct PacketBounded<R> {
    inner: R,
    header: [u8; HEADER],
    header_read: usize,
    payload_left: usize,
}

impl<R> PacketBounded<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            header: [0; HEADER],
            header_read: 0,
            payload_left: 0,
        }
    }

    /// How many bytes the next read may return.
    fn allowed(&self) -> usize {
        if self.payload_left > 0 {
            self.payload_left
        } else {
            HEADER - self.header_read
        }
    }

    /// Accounts for `bytes` just read.
    fn consumed(&mut self, bytes: &[u8]) {
        if self.payload_left > 0 {
            self.payload_left -= bytes.len();
            return;
        }
        self.header[self.header_read..self.header_read + bytes.len()].copy_from_slice(bytes);
        self.header_read += bytes.len();
        if self.header_read == HEADER {
            self.header_read = 0;
            self.payload_left = usize::from(self.header[0])
                | usize::from(self.header[1]) << 8
                | usize::from(self.header[2]) << 16;
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for PacketBounded<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let limit = this.allowed().min(buf.remaining());
        let mut bounded = ReadBuf::new(&mut buf.initialize_unfilled()[..limit]);
        match Pin::new(&mut this.inner).poll_read(cx, &mut bounded) {
            Poll::Ready(Ok(())) => {
                let n = bounded.filled().len();
                let read = bounded.filled().to_vec();
                this.consumed(&read);
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
            other => other,
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
        let mut reader = PacketBounded::new(bytes);
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
}
