//! A TCP proxy on 127.0.0.1 in front of a real server that can cut every
//! HTTP response short after a number of body bytes, the way a network
//! that drops connections mid-transfer does. Tests switch it between
//! passing everything and cutting.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

/// `u64::MAX`: pass responses whole.
const PASS: u64 = u64::MAX;

pub struct CuttingProxy {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    /// Body bytes a response may carry before its connection is cut.
    cut_after: Arc<AtomicU64>,
    stopped: Arc<AtomicBool>,
}

impl CuttingProxy {
    /// Starts a proxy to `upstream` (`http://host:port`), passing everything.
    pub fn start(upstream: &str) -> Self {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let cut_after = Arc::new(AtomicU64::new(PASS));
        let stopped = Arc::new(AtomicBool::new(false));
        let (cut, stop) = (cut_after.clone(), stopped.clone());
        thread::spawn(move || {
            for client in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                relay(client, server, cut.clone());
            }
        });
        Self {
            endpoint,
            cut_after,
            stopped,
        }
    }

    /// Cuts every response after `bytes` bytes of its body, from the next
    /// connection on (and on open ones, from their next response).
    pub fn cut_bodies_after(&self, bytes: u64) {
        self.cut_after.store(bytes, Ordering::SeqCst);
    }

    /// Passes responses whole again.
    pub fn pass(&self) {
        self.cut_after.store(PASS, Ordering::SeqCst);
    }
}

impl Drop for CuttingProxy {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.endpoint.trim_start_matches("http://"));
    }
}

/// Copies requests to the server as they are, and responses back until a
/// response has carried more body bytes than allowed; then closes both.
fn relay(mut client: TcpStream, mut server: TcpStream, cut_after: Arc<AtomicU64>) {
    let (mut client_reader, mut server_writer) =
        (client.try_clone().unwrap(), server.try_clone().unwrap());
    thread::spawn(move || {
        let mut buffer = [0u8; 16 * 1024];
        while let Ok(n) = client_reader.read(&mut buffer) {
            if n == 0 || server_writer.write_all(&buffer[..n]).is_err() {
                break;
            }
        }
        let _ = server_writer.shutdown(Shutdown::Write);
    });
    thread::spawn(move || {
        let mut buffer = [0u8; 16 * 1024];
        // Body bytes of the current response; `None` while in its headers.
        let mut body: Option<u64> = None;
        let mut head = Vec::new();
        loop {
            let n = match server.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let mut chunk = &buffer[..n];
            if body.is_none() {
                head.extend_from_slice(chunk);
                match head.windows(4).position(|w| w == b"\r\n\r\n") {
                    Some(end) => {
                        let body_in_chunk = head.len() - (end + 4);
                        let headers = chunk.len() - body_in_chunk.min(chunk.len());
                        if client.write_all(&chunk[..headers]).is_err() {
                            break;
                        }
                        chunk = &chunk[headers..];
                        head.clear();
                        body = Some(0);
                    }
                    None => {
                        if client.write_all(chunk).is_err() {
                            break;
                        }
                        continue;
                    }
                }
            }
            let sent = body.unwrap_or(0);
            let allowed = cut_after.load(Ordering::SeqCst).saturating_sub(sent);
            if (chunk.len() as u64) > allowed {
                let _ = client.write_all(&chunk[..allowed as usize]);
                let _ = client.shutdown(Shutdown::Both);
                let _ = server.shutdown(Shutdown::Both);
                return;
            }
            if client.write_all(chunk).is_err() {
                break;
            }
            body = Some(sent + chunk.len() as u64);
        }
        let _ = client.shutdown(Shutdown::Both);
    });
}
