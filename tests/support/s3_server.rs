//! A real S3-compatible server (moto, installed by `.ci/setup`) on a free
//! 127.0.0.1 port, started for a test run and stopped when dropped.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use object_store::ObjectStore;

use crate::s3_client::{loopback_client, Credentials};

/// Credentials the tests use (moto accepts any).
pub const ACCESS_KEY: &str = "tributary-test-access";
pub const SECRET_KEY: &str = "tributary-test-secret";
pub const REGION: &str = "us-east-1";

/// A running moto server.
pub struct S3Server {
    child: Child,
    pub endpoint: String,
    /// Where its request log goes, if anywhere.
    log: Option<PathBuf>,
}

/// The virtualenv `.ci/setup` made for the test servers and clients (moto,
/// PyMySQL).
pub fn venv() -> PathBuf {
    std::env::var_os("TRIBUTARY_S3_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
                .join(".cache/tributary/venv-s3")
        })
}

/// Starts moto on `port`, its request log appended to `log` (if any),
/// and waits until it accepts connections.
fn spawn(port: u16, log: Option<&Path>) -> Child {
    let binary = venv().join("bin/moto_server");
    assert!(
        binary.exists(),
        "the S3 test server is not installed at {}: run `bash .ci/setup`",
        binary.display()
    );
    let child = Command::new(binary)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(log.map_or_else(Stdio::null, |path| {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .expect("the server log can be written");
            Stdio::from(file)
        }))
        .spawn()
        .expect("moto_server starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not start within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

impl S3Server {
    /// Starts the server; panics with the fix when it is not installed.
    #[allow(dead_code)] // the tests use it, the benchmark does not
    pub fn start() -> Self {
        Self::start_logging_to(None)
    }

    /// Starts the server with its request log (one line per request)
    /// written to `log`.
    pub fn start_logging_to(log: Option<PathBuf>) -> Self {
        let port = crate::ports::free_port();
        Self {
            child: spawn(port, log.as_deref()),
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// The number of LIST requests (ListObjectsV2) in the request log.
    #[allow(dead_code)] // the sqllogictest harness does not count requests
    pub fn list_requests(&self) -> usize {
        self.log
            .as_ref()
            .and_then(|path| std::fs::read_to_string(path).ok())
            .unwrap_or_default()
            .lines()
            .filter(|line| line.contains("list-type=2"))
            .count()
    }

    /// How many objects of `bucket` the log shows read (GET requests that
    /// are not listings).
    #[allow(dead_code)]
    pub fn object_reads(&self, bucket: &str) -> usize {
        self.log
            .as_ref()
            .and_then(|path| std::fs::read_to_string(path).ok())
            .unwrap_or_default()
            .lines()
            .filter(|line| line.contains(&format!("\"GET /{bucket}/")))
            .filter(|line| !line.contains("list-type=2"))
            .count()
    }

    /// Stops the server, as an outage would; its buckets are lost.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again on the same port (empty).
    #[allow(dead_code)]
    pub fn restart(&mut self) {
        self.stop();
        self.child = spawn(self.port(), self.log.as_deref());
    }

    fn port(&self) -> u16 {
        self.endpoint.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// Sends a bodiless HTTP request and returns the status code.
    fn request(&self, method: &str, path: &str) -> u16 {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port())).expect("connect");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    /// Creates a bucket (object_store cannot).
    pub fn create_bucket(&self, bucket: &str) {
        let status = self.request("PUT", &format!("/{bucket}"));
        assert_eq!(status, 200, "create bucket {bucket}");
    }

    /// A client for `bucket` with the test credentials.
    pub fn store(&self, bucket: &str) -> Arc<dyn ObjectStore> {
        let credentials = Credentials {
            access_key: ACCESS_KEY,
            secret_key: SECRET_KEY,
            region: REGION,
        };
        loopback_client(&self.endpoint, bucket, &credentials)
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}
