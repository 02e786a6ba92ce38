//! What running across `tributary worker` processes costs on this
//! machine: the 1 GiB CSV job from SeaweedFS loaded by one process, then
//! by a process with two workers on loopback (each writing its share of
//! the batch); then aggregate queries over each loaded table, whole
//! process each, in one process and across the two workers. On two cores
//! the workers share the planning process's cores, so this measures the
//! overhead of going across them, not a speed-up.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::queries::{aggregates, timed, Tributary};
use super::{median, run_child, Spec, BUCKET};

pub const WORKERS: &str = "workers";

/// Timed runs of each query on each side (after one untimed run).
const RUNS: usize = 3;

#[derive(Debug, serde::Serialize)]
pub struct WorkersCost {
    rows: u64,
    /// The job in one process: wall and CPU seconds.
    job_alone: (f64, f64),
    /// The job with two workers: wall seconds, the planning process's CPU
    /// seconds and the workers' CPU seconds.
    job_across: (f64, f64, f64),
    /// Shares of batches the workers loaded (0 would mean it ran alone).
    shares: usize,
    queries: Vec<QueryAcross>,
}

#[derive(Debug, serde::Serialize)]
struct QueryAcross {
    name: &'static str,
    /// Median seconds of the whole process: alone, across two workers.
    alone_seconds: f64,
    across_seconds: f64,
}

/// A `tributary worker` process; killed when dropped.
struct Worker {
    child: Child,
    address: String,
    log: PathBuf,
}

impl Worker {
    fn start(warehouse: &Path, secret_key: &Path) -> Worker {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let address = format!("127.0.0.1:{port}");
        let log = warehouse.with_file_name(format!("worker-{port}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_tributary"))
            .arg("--warehouse")
            .arg(warehouse)
            .args(["worker", "--listen", &address])
            .env("TRIBUTARY_SECRET_KEY_FILE", secret_key)
            .env("RUST_LOG", "warn,tributary=info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("tributary worker starts");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::net::TcpStream::connect(&address).is_err() {
            assert!(std::time::Instant::now() < deadline, "the worker listens");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Worker {
            child,
            address,
            log,
        }
    }

    /// The worker's user and system CPU seconds so far.
    fn cpu_seconds(&self) -> f64 {
        super::cpu_seconds_of(&format!("/proc/{}/stat", self.child.id()))
    }

    /// How many times the worker logged `event`.
    fn logged(&self, event: &str) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .matches(event)
            .count()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn workers_cost(root: &Path, endpoint: &str, rows: u64) -> WorkersCost {
    let job = |warehouse: &str, workers: Vec<String>| {
        run_child(&Spec {
            kind: "job".into(),
            uri: format!("s3://{BUCKET}/csv/*.csv"),
            format: "csv".into(),
            endpoint: endpoint.to_string(),
            work: root.to_path_buf(),
            compression: None,
            warehouse: Some(warehouse.into()),
            workers,
        })
    };
    eprintln!("bench: {WORKERS}: the S3 CSV job in one process");
    let alone = job("wh-alone", Vec::new());
    assert_eq!(alone.rows, rows, "the job alone loaded every row");
    eprintln!("bench: {WORKERS}: the S3 CSV job across two workers");
    let secret_key = root.join("secret.key");
    let across_warehouse = root.join("wh-across");
    let workers = [
        Worker::start(&across_warehouse, &secret_key),
        Worker::start(&across_warehouse, &secret_key),
    ];
    let addresses: Vec<String> = workers.iter().map(|w| w.address.clone()).collect();
    let cpu_before: f64 = workers.iter().map(Worker::cpu_seconds).sum();
    let across = job("wh-across", addresses.clone());
    let cpu_workers = workers.iter().map(Worker::cpu_seconds).sum::<f64>() - cpu_before;
    assert_eq!(across.rows, rows, "the job across workers loaded every row");
    let logged = |event: &str| workers.iter().map(|w| w.logged(event)).sum::<usize>();
    let shares = logged("loading a share of a batch");
    assert!(shares > 0, "the workers loaded the batch");

    let client = |warehouse: &str, workers: Vec<String>| Tributary {
        warehouse: root.join(warehouse),
        secret_key: secret_key.clone(),
        workers,
    };
    let (alone_client, across_client) = (
        client("wh-alone", Vec::new()),
        client("wh-across", addresses),
    );
    for tributary in [&alone_client, &across_client] {
        // Caught up; a client process must not poll it meanwhile.
        tributary.run("DROP JOB WHERE jobName = 'load'");
        tributary.run("ADMIN COMPACT TABLE bench.orders");
    }
    let mut queries = Vec::new();
    let stages = logged("running a plan stage");
    for (name, sql) in aggregates(rows / 2) {
        let sql = sql.replace(" FROM orders", " FROM bench.orders");
        assert_eq!(
            across_client.run(&sql),
            alone_client.run(&sql),
            "{name}: the same rows across workers"
        );
        let mut seconds = (Vec::new(), Vec::new());
        for _ in 0..RUNS {
            seconds.0.push(timed(|| alone_client.run(&sql)));
            seconds.1.push(timed(|| across_client.run(&sql)));
        }
        let query = QueryAcross {
            name,
            alone_seconds: median(&seconds.0),
            across_seconds: median(&seconds.1),
        };
        eprintln!("bench: {WORKERS}: {query:?}");
        queries.push(query);
    }
    assert!(
        logged("running a plan stage") > stages,
        "the queries ran across the workers"
    );
    WorkersCost {
        rows,
        job_alone: (alone.seconds, alone.cpu_seconds),
        job_across: (across.seconds, across.cpu_seconds, cpu_workers),
        shares,
        queries,
    }
}

impl WorkersCost {
    /// One line: the job and each query, across two workers against one
    /// process.
    pub fn summary(&self) -> String {
        let (alone, alone_cpu) = self.job_alone;
        let (across, planner_cpu, workers_cpu) = self.job_across;
        let each: Vec<String> = (self.queries.iter())
            .map(|q| {
                format!(
                    "{} {:.2} s vs {:.2} s alone ({:.2}x)",
                    q.name,
                    q.across_seconds,
                    q.alone_seconds,
                    q.alone_seconds / q.across_seconds
                )
            })
            .collect();
        format!(
            "{} rows; S3 CSV job across 2 workers {across:.2} s ({planner_cpu:.1} CPU s here + {workers_cpu:.1} in the workers, {} shares) vs {alone:.2} s alone ({alone_cpu:.1} CPU s): {:.2}x; queries, whole process: {}",
            self.rows,
            self.shares,
            alone / across,
            each.join("; ")
        )
    }
}
