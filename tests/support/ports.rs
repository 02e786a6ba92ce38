//! Loopback ports for the processes a test starts: a free one to give a
//! process, and waiting until the process listens on it.

use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// A loopback port no one listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Waits (at most a minute) until something listens on `port`; `what`
/// names it if nothing does.
pub fn wait_listening(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
}
