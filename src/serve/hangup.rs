//! Noticing that a client has gone while its statement runs, so that the
//! statement is cancelled instead of running on for nobody.
//!
//! The protocol crate reads the socket only between statements, so a
//! second handle on the same socket watches it while one runs: the peer's
//! end of stream, a reset, or a `COM_QUIT` waiting to be read all mean the
//! client will not read the answer. Any other bytes are a command the
//! client sent ahead; the client is there, and they are left for the
//! protocol to read.

use std::os::fd::AsFd;
use std::sync::Arc;

use tokio::net::TcpStream;

/// A `COM_QUIT` packet: payload length 1, any sequence number, command 1.
const COM_QUIT: [u8; 3] = [1, 0, 0];
const QUIT_COMMAND: u8 = 0x01;

/// A watch on a client's socket.
#[derive(Clone, Debug)]
pub struct Hangup(Option<Arc<TcpStream>>);

impl Hangup {
    /// A watch on `stream`'s socket (none if the socket cannot be shared,
    /// which only means a statement is not cancelled early).
    pub fn watch(stream: &TcpStream) -> Self {
        let shared = stream
            .as_fd()
            .try_clone_to_owned()
            .map(std::net::TcpStream::from)
            .and_then(TcpStream::from_std);
        match shared {
            Ok(shared) => Self(Some(Arc::new(shared))),
            Err(error) => {
                tracing::debug!(%error, "cannot watch the client's socket");
                Self(None)
            }
        }
    }

    /// Completes when the client has gone; never while it is there.
    pub async fn gone(&self) {
        let Some(stream) = &self.0 else {
            return std::future::pending().await;
        };
        let mut next = [0u8; 5];
        match stream.peek(&mut next).await {
            Ok(0) | Err(_) => {}
            Ok(n) if n == next.len() && is_quit(&next) => {}
            Ok(_) => std::future::pending().await,
        }
    }
}

fn is_quit(packet: &[u8; 5]) -> bool {
    packet[..3] == COM_QUIT && packet[4] == QUIT_COMMAND
}
