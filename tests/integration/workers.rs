//! Queries across `tributary worker` processes on loopback: the same
//! answers as in one process, with every worker running stages; a worker
//! of another warehouse or with another secret key refused; a worker that
//! is down or killed left out.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::ports::{free_port, wait_listening};
use object_store::{ObjectStoreExt, PutPayload};

use crate::s3_server::S3Server;
use crate::support::{
    assert_ok, assert_records_agree, cells_printed, cells_tabbed, s3_source, s3_warehouse, stdout,
    tributary_command, warehouse_command, Server, INTERNAL, RECORDS,
};

/// A `tributary worker` process on a free loopback port, killed when
/// dropped; it logs to `<root>/worker-<port>.log`.
struct Worker {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Worker {
    /// A worker of the warehouse `root/<warehouse>` holding the secret key
    /// file `key`.
    fn start(root: &Path, warehouse: &str, key: &Path) -> Worker {
        Self::start_on(root, root.join(warehouse).to_str().unwrap(), &[], key)
    }

    /// A worker of the warehouse at `uri` with storage `options`, holding
    /// the secret key file `key`; it logs to `root`.
    fn start_on(root: &Path, uri: &str, options: &[String], key: &Path) -> Worker {
        Self::start_with(root, uri, options, key, &[])
    }

    /// [`Worker::start_on`] with more environment variables.
    fn start_with(
        root: &Path,
        uri: &str,
        options: &[String],
        key: &Path,
        env: &[(&str, &str)],
    ) -> Worker {
        let port = free_port();
        let log = root.join(format!("worker-{port}.log"));
        let child = warehouse_command(root, uri, options)
            .args(["worker", "--listen", &format!("127.0.0.1:{port}")])
            .env("TRIBUTARY_SECRET_KEY_FILE", key)
            .env("RUST_LOG", "warn,tributary=info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("tributary worker starts");
        wait_listening(port, "the worker");
        Worker { child, port, log }
    }

    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// How many plan stages the worker ran.
    fn stages(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .matches("running a plan stage")
            .count()
    }

    /// How many shares of a job's batches the worker began to load.
    fn shares(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .matches("loading a share of a batch")
            .count()
    }

    /// Waits (at most a minute) until the worker runs a stage.
    fn wait_for_a_stage(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.stages() == 0 {
            assert!(
                Instant::now() < deadline,
                "the query sent worker {} no stage",
                self.address()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The rows the client printed, without its timing line.
fn rows(output: &Output) -> String {
    (stdout(output).lines())
        .filter(|line| !line.contains(" in set ("))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `sql` on the warehouse `root/wh` across `workers`, whatever it reads.
fn across(root: &Path, workers: &[&Worker], sql: &str) -> Output {
    let addresses: Vec<String> = workers.iter().map(|w| w.address()).collect();
    across_addresses(root, &addresses, sql)
        .output()
        .expect("tributary runs")
}

/// A server on the warehouse `root/wh` running every query across
/// `workers`, whatever it reads.
fn server_across(root: &Path, workers: &[Worker]) -> Server {
    let addresses: Vec<String> = workers.iter().map(Worker::address).collect();
    let flags = [
        "--workers",
        &addresses.join(","),
        "--distribute-min-bytes",
        "0",
    ];
    Server::start_with_args(root, &[], &flags)
}

/// The command running `sql` across the workers at `addresses`, whatever
/// it reads.
fn across_addresses(root: &Path, addresses: &[String], sql: &str) -> Command {
    spread(tributary_command(root, sql), addresses)
}

/// `command` running its query across the workers at `addresses`,
/// whatever it reads.
fn spread(mut command: Command, addresses: &[String]) -> Command {
    command
        .args(["--workers", &addresses.join(",")])
        .args(["--distribute-min-bytes", "0"]);
    command
}

/// A table of 6,000 rows in six fragments (six INSERTs), in `root/wh`.
fn orders(root: &Path) {
    assert_ok(&tributary_command(root, &orders_sql()).output().unwrap());
}

/// The statements making [`orders`].
fn orders_sql() -> String {
    let mut sql = String::from(
        "CREATE DATABASE d; CREATE TABLE d.orders (id BIGINT NOT NULL, status VARCHAR(16), amount DECIMAL(12,2), day DATE);",
    );
    for part in 0..6 {
        sql.push_str(&format!(
            " INSERT INTO d.orders SELECT value, CASE value % 4 WHEN 0 THEN 'NEW' WHEN 1 THEN 'PAID' WHEN 2 THEN 'SHIPPED' ELSE NULL END, CAST(value % 997 AS DECIMAL(12,2)) / 4, DATE '2026-01-01' + CAST(value % 300 AS INT) FROM generate_series({}, {}) AS s(value);",
            part * 1000 + 1,
            part * 1000 + 1000
        ));
    }
    sql
}

const QUERIES: [&str; 9] = [
    "SELECT count(*) FROM d.orders",
    "SELECT status, count(*), sum(amount) FROM d.orders GROUP BY status ORDER BY status",
    "SELECT count(*), sum(amount) FROM d.orders WHERE day BETWEEN DATE '2026-03-01' AND DATE '2026-03-07'",
    "SELECT id, amount FROM d.orders ORDER BY amount DESC, id LIMIT 5",
    "SELECT count(DISTINCT amount) FROM d.orders",
    "SELECT * FROM d.orders WHERE id = 4321",
    "SELECT a.status, count(*) FROM d.orders a JOIN d.orders b ON a.id = b.id + 1 WHERE b.status = 'NEW' GROUP BY a.status ORDER BY a.status",
    "SELECT count(*) FROM d.orders WHERE amount > (SELECT avg(amount) FROM d.orders)",
    "WITH ranked AS (SELECT id, row_number() OVER (ORDER BY id DESC) AS r FROM d.orders) SELECT r.id, r.r FROM ranked r JOIN d.orders o ON o.id = r.id WHERE o.status = 'PAID' ORDER BY r.r LIMIT 3",
];

#[test]
fn queries_across_workers_give_the_answers_of_one_process() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    orders(root);
    let key = root.join("secret.key");
    let workers = [
        Worker::start(root, "wh", &key),
        Worker::start(root, "wh", &key),
    ];
    assert_same_answers(|sql| tributary_command(root, sql), &workers);
}

#[test]
fn queries_across_three_workers_on_an_s3_warehouse_give_the_answers_of_one_process() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (_server, uri, options) = s3_warehouse("workers-warehouse");
    let run = |sql: &str| {
        let mut command = warehouse_command(root, &uri, &options);
        command.args(["-e", sql]);
        command
    };
    assert_ok(&run(&orders_sql()).output().unwrap());
    let key = root.join("secret.key");
    let workers: Vec<Worker> = (0..3)
        .map(|_| Worker::start_on(root, &uri, &options, &key))
        .collect();
    assert_same_answers(run, &workers);
}

#[test]
fn a_server_with_three_workers_answers_its_clients_as_one_process_does() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    orders(root);
    let key = root.join("secret.key");
    let workers: Vec<Worker> = (0..3).map(|_| Worker::start(root, "wh", &key)).collect();
    let alone = Server::start(root);
    let spread = server_across(root, &workers);
    for sql in QUERIES {
        assert_eq!(spread.root(sql), alone.root(sql), "{sql}");
    }
    // A worker slow to answer the server's first look (five processes
    // starting on the machine) is left out for a few seconds, which the
    // other tests cover: here the queries must have gone across workers.
    let stages: usize = workers.iter().map(Worker::stages).sum();
    assert!(stages > 0, "no worker ran a stage");
}

/// Each of [`QUERIES`] gives the same rows in one process (`run`) as
/// across `workers`, none of which is left out, and every worker runs
/// stages.
fn assert_same_answers(run: impl Fn(&str) -> Command, workers: &[Worker]) {
    let addresses: Vec<String> = workers.iter().map(Worker::address).collect();
    for sql in QUERIES {
        let alone = run(sql).output().unwrap();
        assert_ok(&alone);
        let spread = spread(run(sql), &addresses).output().unwrap();
        assert_ok(&spread);
        assert_eq!(rows(&spread), rows(&alone), "{sql}");
        let stderr = String::from_utf8_lossy(&spread.stderr);
        assert!(!stderr.contains("left out"), "{stderr}");
    }
    for worker in workers {
        assert!(
            worker.stages() > 0,
            "worker {} ran no stage",
            worker.address()
        );
    }
}

#[test]
fn a_query_below_the_size_runs_in_this_process() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    orders(root);
    let worker = Worker::start(root, "wh", &root.join("secret.key"));
    let output = tributary_command(root, "SELECT count(*) FROM d.orders")
        .args(["--workers", &worker.address()])
        .output()
        .unwrap();
    assert_ok(&output);
    assert!(stdout(&output).contains("6000"), "{}", stdout(&output));
    assert_eq!(worker.stages(), 0, "a small query went to the worker");
}

#[test]
fn workers_of_another_warehouse_or_key_or_down_are_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    orders(root);
    let other_warehouse = Worker::start(root, "other", &root.join("secret.key"));
    let other_key = Worker::start(root, "wh", &root.join("another.key"));
    let down_address = format!("127.0.0.1:{}", free_port());
    let sql = "SELECT status, count(*) FROM d.orders GROUP BY status ORDER BY status";
    let alone = tributary_command(root, sql).output().unwrap();
    let addresses = [
        other_warehouse.address(),
        other_key.address(),
        down_address.clone(),
    ];
    let output = across_addresses(root, &addresses, sql).output().unwrap();
    assert_ok(&output);
    assert_eq!(rows(&output), rows(&alone));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for address in &addresses {
        assert!(
            stderr.contains("worker left out") && stderr.contains(address.as_str()),
            "{address} not said to be left out: {stderr}"
        );
    }
    assert_eq!(
        stderr.matches("it refused this process").count(),
        2,
        "{stderr}"
    );
    assert!(stderr.contains("nothing answers there"), "{stderr}");
    assert_eq!(other_warehouse.stages() + other_key.stages(), 0);
}

#[test]
fn a_worker_address_that_is_not_host_port_is_refused_with_the_form() {
    let dir = tempfile::tempdir().unwrap();
    let output = tributary_command(dir.path(), "SELECT 1")
        .args(["--workers", "http://127.0.0.1:9/x"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("is not a worker address: give --workers as HOST:PORT"),
        "{stderr}"
    );
}

/// A table `d.big` of a million rows in four fragments, in `root/wh`.
fn big(root: &Path) {
    let mut sql = String::from(
        "CREATE DATABASE d; CREATE TABLE d.big (id BIGINT NOT NULL, k BIGINT, v DOUBLE);",
    );
    for part in 0..4 {
        sql.push_str(&format!(
            " INSERT INTO d.big SELECT value, value % 5003, value * 1.5 FROM generate_series({}, {}) AS s(value);",
            part * 250_000 + 1,
            part * 250_000 + 250_000
        ));
    }
    assert_ok(&tributary_command(root, &sql).output().unwrap());
}

#[test]
fn kill_query_stops_a_query_running_across_workers_and_they_serve_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    big(root);
    let key = root.join("secret.key");
    let workers = [
        Worker::start(root, "wh", &key),
        Worker::start(root, "wh", &key),
    ];
    let server = server_across(root, &workers);
    // Some hundred million pairs: it runs until killed.
    let query = "SELECT count(*), sum(a.v) FROM d.big a JOIN d.big b ON a.k = b.k AND a.id < b.id";
    let mut running = Command::new("mysql")
        .args([
            "-h",
            "127.0.0.1",
            "-P",
            &server.port.to_string(),
            "-u",
            "root",
        ])
        .args(["--batch", "--skip-ssl", "-e", query])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for worker in &workers {
        worker.wait_for_a_stage();
    }
    let processes = server.root("SHOW PROCESSLIST");
    let id = (processes.lines())
        .find(|line| line.contains("JOIN d.big"))
        .and_then(|line| line.split('\t').next())
        .unwrap_or_else(|| panic!("the query is not in {processes}"));
    server.root(&format!("KILL QUERY {id}"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while running.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = running.kill();
            panic!("KILL QUERY did not stop the query across workers");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = running.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("statement cancelled"), "{stderr}");
    let stages = workers.iter().map(Worker::stages).sum::<usize>();
    assert!(server
        .root("SELECT count(*) AS n FROM d.big")
        .contains("1000000"));
    assert!(workers.iter().map(Worker::stages).sum::<usize>() > stages);
}

#[test]
fn a_worker_killed_mid_query_fails_the_query_clearly_or_it_completes_with_the_right_answer() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    big(root);
    let query = "SELECT count(*), sum(a.v) FROM d.big a JOIN d.big b ON a.k = b.k AND a.id < b.id WHERE a.id % 97 = 0";
    let alone = tributary_command(root, query).output().unwrap();
    assert_ok(&alone);
    let key = root.join("secret.key");
    let mut victim = Worker::start(root, "wh", &key);
    let survivor = Worker::start(root, "wh", &key);
    let running = across_addresses(root, &[victim.address(), survivor.address()], query)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    victim.wait_for_a_stage();
    victim.child.kill().unwrap();
    victim.child.wait().unwrap();
    let output = running.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() {
        assert_eq!(rows(&output), rows(&alone));
    } else {
        assert!(
            stderr.contains("a worker stopped answering while the query ran"),
            "{stderr}"
        );
        // Nor a gRPC status as Rust prints it.
        for marker in INTERNAL.iter().chain(&["Status {"]) {
            assert!(!stderr.contains(marker), "{marker:?} in {stderr}");
        }
    }
    // The survivor goes on serving.
    let again = across(root, &[&survivor], "SELECT count(*) FROM d.big");
    assert_ok(&again);
    assert!(stdout(&again).contains("1000000"), "{}", stdout(&again));
}

/// `files` one-row CSV files `feed/f<i>.csv` in bucket `src` of `s3`.
fn put_feed_files(s3: &S3Server, files: usize) {
    s3.create_bucket("src");
    let store = s3.store("src");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        for i in 0..files {
            let key = object_store::path::Path::from(format!("feed/f{i:04}.csv"));
            store
                .put(&key, PutPayload::from(format!("{i}\tx\n")))
                .await
                .unwrap();
        }
    });
}

/// The statements making table `d.t` and job `feed` over the files of
/// [`put_feed_files`], in batches of 50 files, each loaded across the
/// workers of the process that runs it.
fn feed_job(s3: &S3Server) -> String {
    format!(
        "CREATE DATABASE d; CREATE TABLE d.t (id INT NOT NULL, v STRING);
         CREATE JOB feed ON STREAMING PROPERTIES ('s3.max_batch_files' = '50', 'max_interval' = '1s', 'distribute_min_bytes' = '1')
         DO INSERT INTO d.t SELECT * FROM {}",
        s3_source(s3, "src", "feed/*.csv")
    )
}

/// Job `feed` made by `server` over `files` files in a bucket of a new S3
/// server (returned: it stops when dropped).
fn job_over_s3_files(server: &Server, files: usize) -> S3Server {
    let s3 = S3Server::start();
    put_feed_files(&s3, files);
    server.root(&feed_job(&s3));
    s3
}

#[test]
fn a_job_on_an_s3_warehouse_loads_across_three_workers_each_row_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (s3, uri, options) = s3_warehouse("loads-warehouse");
    put_feed_files(&s3, 200);
    let key = root.join("secret.key");
    let workers: Vec<Worker> = (0..3)
        .map(|_| Worker::start_on(root, &uri, &options, &key))
        .collect();
    let addresses: Vec<String> = workers.iter().map(Worker::address).collect();
    let mut command = warehouse_command(root, &uri, &options);
    let sql = format!(
        "{}; WAIT JOB WHERE jobName = 'feed' TIMEOUT 120",
        feed_job(&s3)
    );
    command.args(["-e", &sql]);
    assert_ok(&spread(command, &addresses).output().unwrap());
    let mut records = warehouse_command(root, &uri, &options);
    let output = records.args(["-e", RECORDS]).output().unwrap();
    assert_ok(&output);
    assert_records_agree(&cells_printed(&stdout(&output)), 200);
    for worker in &workers {
        assert!(
            worker.shares() > 0,
            "worker {} loaded no share of a batch",
            worker.address()
        );
    }
}

#[test]
fn a_job_loads_its_batches_across_three_workers_each_row_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let key = root.join("secret.key");
    let workers: Vec<Worker> = (0..3).map(|_| Worker::start(root, "wh", &key)).collect();
    let server = server_across(root, &workers);
    let s3 = job_over_s3_files(&server, 200);
    server.root("WAIT JOB WHERE jobName = 'feed' TIMEOUT 120");
    assert_records_agree(&cells_tabbed(&server.root(RECORDS)), 200);
    for worker in &workers {
        assert!(
            worker.shares() > 0,
            "worker {} loaded no share of a batch",
            worker.address()
        );
    }
    // An INSERT reading the same files takes the same path.
    let shares: usize = workers.iter().map(Worker::shares).sum();
    server.root(&format!(
        "CREATE TABLE d.copy (id INT NOT NULL, v STRING); INSERT INTO d.copy SELECT * FROM {}",
        s3_source(&s3, "src", "feed/*.csv")
    ));
    assert_eq!(
        server.root("SELECT count(*) AS n, count(DISTINCT id) AS ids FROM d.copy"),
        "n\tids\n200\t200\n"
    );
    let after: usize = workers.iter().map(Worker::shares).sum();
    assert!(after > shares, "the INSERT was loaded by the workers");
    let log = std::fs::read_to_string(root.join(format!("server-{}.log", server.port))).unwrap();
    assert!(
        !log.contains("loading it in this process"),
        "every batch was loaded by the workers: {log}"
    );
}

#[test]
fn a_worker_dying_mid_task_loses_no_row_and_doubles_none() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let key = root.join("secret.key");
    let wh = root.join("wh");
    let crash = (tributary::ingest::failpoint::CRASH_AT, "during-share");
    let mut workers = vec![Worker::start_with(
        root,
        wh.to_str().unwrap(),
        &[],
        &key,
        &[crash],
    )];
    workers.extend((0..2).map(|_| Worker::start(root, "wh", &key)));
    let server = server_across(root, &workers);
    let _s3 = job_over_s3_files(&server, 200);
    server.root("WAIT JOB WHERE jobName = 'feed' TIMEOUT 120");
    let died = workers[0].child.wait().unwrap();
    assert!(!died.success(), "the worker died in its first share");
    assert_records_agree(&cells_tabbed(&server.root(RECORDS)), 200);
    let log = std::fs::read_to_string(root.join(format!("server-{}.log", server.port))).unwrap();
    assert!(
        log.contains("the workers could not load the batch; loading it in this process"),
        "the batch the worker died in was loaded by the server: {log}"
    );
}
