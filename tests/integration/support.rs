//! Helpers shared by the integration tests.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use tributary::job::Job;
use tributary::Engine;

use crate::ports::{free_port, wait_listening};

/// Formats batches as the table the REPL prints, for assertions.
pub fn table(batches: &[RecordBatch]) -> String {
    pretty_format_batches(batches).unwrap().to_string()
}

/// The lines of a formatted table, trimmed, for exact comparisons.
pub fn lines(batches: &[RecordBatch]) -> Vec<String> {
    table(batches)
        .lines()
        .map(|l| l.trim().to_string())
        .collect()
}

/// Waits until `done` holds for job `name`, or fails after 60 s saying
/// `what` it waited for.
pub async fn wait_for_job(
    engine: &Engine,
    name: &str,
    what: &str,
    done: impl Fn(&Job) -> bool,
) -> Job {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let job = engine.jobs().job(name).unwrap();
        if done(&job) {
            return job;
        }
        assert!(Instant::now() < deadline, "waited for {what}: {job:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An engine on `dir/wh` with table `db1.t (id INT, v STRING)` and job
/// `feed` loading `files` one-row files (`f0001.csv` holds `1,v1`) one
/// file a commit: the load other writers race in tests.
pub async fn one_file_a_commit_job(dir: &Path, files: usize) -> tributary::Engine {
    let source = dir.join("src");
    std::fs::create_dir(&source).unwrap();
    for i in 1..=files {
        std::fs::write(source.join(format!("f{i:04}.csv")), format!("{i},v{i}\n")).unwrap();
    }
    let engine = tributary::Engine::open(dir.join("wh").to_str().unwrap())
        .await
        .unwrap();
    engine
        .session()
        .sql(&format!(
            "CREATE DATABASE db1; CREATE TABLE db1.t (id INT, v STRING);
             CREATE JOB feed ON STREAMING PROPERTIES ('s3.max_batch_files' = '1', 'max_interval' = '1s')
             DO INSERT INTO db1.t SELECT * FROM S3('uri' = 'file://{}/f*.csv', 'format' = 'csv', 'column_separator' = ',')",
            source.display()
        ))
        .await
        .unwrap();
    engine
}

/// `sql` run in a new session of `engine`, its result as a table.
pub async fn query(engine: &tributary::Engine, sql: &str) -> String {
    table(&engine.session().sql(sql).await.unwrap())
}

/// The `tributary` binary on the warehouse `root/wh` with `-e sql` (its
/// secret key in `root`, local files under `root` readable), to run.
pub fn tributary_command(root: &Path, sql: &str) -> Command {
    let mut command = warehouse_command(root, root.join("wh").to_str().unwrap(), &[]);
    command.args(["-e", sql]);
    command
}

/// The `tributary` binary on `warehouse` (a directory or a URI, with its
/// storage `options`), its secret key and readable files in `root`.
pub fn warehouse_command(root: &Path, warehouse: &str, options: &[String]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tributary"));
    command
        .args(["--warehouse", warehouse])
        .args(
            options
                .iter()
                .flat_map(|o| ["--storage-option", o.as_str()]),
        )
        .env("TRIBUTARY_SECRET_KEY_FILE", root.join("secret.key"))
        .env("TRIBUTARY_LOCAL_FILES", root)
        .env_remove(tributary::ingest::failpoint::CRASH_AT);
    command
}

/// What job `feed` records about its load into `d.t`, and the table, in
/// one row: every figure must agree with the table.
pub const RECORDS: &str = "SELECT
    (SELECT count(*) FROM d.t) AS table_rows,
    (SELECT count(DISTINCT rows.id) FROM d.t AS rows) AS distinct_ids,
    (SELECT coalesce(sum(LoadedRows), 0) FROM job_files(job = 'feed') WHERE Status LIKE 'LOADED%') AS ledger_rows,
    (SELECT count(*) FROM job_files(job = 'feed') WHERE Status LIKE 'LOADED%') AS loaded_files,
    (SELECT count(*) FROM job_files(job = 'feed') WHERE Status NOT LIKE 'LOADED%') AS other_files,
    (SELECT count(*) - count(DISTINCT TaskId) FROM tasks(type='insert') WHERE JobName = 'feed') AS repeated_task_ids,
    (SELECT count(*) FROM tasks(type='insert') WHERE JobName = 'feed' AND Status = 'SUCCESS') AS success_rows,
    (SELECT SucceedTaskCount FROM job(type=insert) WHERE Name = 'feed') AS succeeded,
    (SELECT LoadStatistic FROM job(type=insert) WHERE Name = 'feed') AS statistic";

/// Asserts the invariant of a job's records, from the cells of a row of
/// [`RECORDS`]: `files` files of one row each are in the table once; the
/// ledger has each of them loaded with its row, and nothing else; task
/// ids are unique; the counters count each task and row once.
pub fn assert_records_agree(cells: &[String], files: usize) {
    let shown = format!("{cells:?}");
    let number = |i: usize| -> u64 { cells[i].parse().unwrap_or_else(|_| panic!("{shown}")) };
    let files = files as u64;
    assert_eq!(
        (number(0), number(1)),
        (files, files),
        "every row once: {shown}"
    );
    assert_eq!(
        number(2),
        files,
        "the ledger's rows are the table's: {shown}"
    );
    assert_eq!(
        number(3),
        files,
        "every file loaded once in the ledger: {shown}"
    );
    assert_eq!(number(4), 0, "no file recorded otherwise: {shown}");
    assert_eq!(number(5), 0, "task ids are unique: {shown}");
    assert_eq!(
        number(6),
        number(7),
        "SucceedTaskCount counts each task once: {shown}"
    );
    let statistic: serde_json::Value = serde_json::from_str(&cells[8]).expect("LoadStatistic");
    let scanned = statistic["scannedRows"].as_u64().unwrap_or(0);
    let filtered = statistic["filteredRows"].as_u64().unwrap_or(0);
    assert_eq!(
        scanned - filtered,
        files,
        "job() counts each row once: {shown}"
    );
}

/// The cells of the one row a `tributary -e` query printed.
pub fn cells_printed(out: &str) -> Vec<String> {
    let row = out
        .lines()
        .filter(|l| l.starts_with('|'))
        .nth(1)
        .unwrap_or_else(|| panic!("no row in {out}"));
    row.trim_matches('|')
        .split('|')
        .map(|c| c.trim().to_string())
        .collect()
}

/// The cells of the one row the `mysql` client printed (`--batch`).
pub fn cells_tabbed(out: &str) -> Vec<String> {
    let row = out
        .lines()
        .nth(1)
        .unwrap_or_else(|| panic!("no row in {out}"));
    row.split('\t').map(str::to_string).collect()
}

/// A warehouse in a new bucket of a new S3 server: the server (stopped
/// when dropped), the warehouse URI and its storage options.
pub fn s3_warehouse(bucket: &str) -> (crate::s3_server::S3Server, String, Vec<String>) {
    use crate::s3_server::{S3Server, ACCESS_KEY, REGION, SECRET_KEY};
    let server = S3Server::start();
    server.create_bucket(bucket);
    let options = vec![
        format!("s3.endpoint={}", server.endpoint),
        format!("s3.region={REGION}"),
        format!("s3.access_key={ACCESS_KEY}"),
        format!("s3.secret_key={SECRET_KEY}"),
    ];
    (server, format!("s3://{bucket}/wh"), options)
}

/// What no error message may carry: internal wrappers, toolchain paths.
pub const INTERNAL: [&str; 16] = [
    "External error",
    "caused by",
    "Arrow error:",
    "This feature is not implemented",
    "Internal error",
    "This issue was likely caused by a bug",
    "Optimizer rule",
    "Error during planning",
    "Query Execution error",
    "Execution error:",
    "Schema error:",
    "Invalid or Unsupported Configuration",
    "ParserError(",
    "sql parser error",
    "/rustc/",
    ".cargo/registry",
];

/// Runs [`tributary_command`], crashing at `crash_at` when given.
pub fn tributary(root: &Path, sql: &str, crash_at: Option<&str>) -> Output {
    let mut command = tributary_command(root, sql);
    if let Some(point) = crash_at {
        command.env(tributary::ingest::failpoint::CRASH_AT, point);
    }
    command.output().expect("tributary binary runs")
}

/// The arguments of an `S3()` call reading CSV files `s3://<bucket>/<pattern>`
/// of `server` (object storage: what a user without ADMIN_PRIV reads).
pub fn s3_source(server: &crate::s3_server::S3Server, bucket: &str, pattern: &str) -> String {
    use crate::s3_server::{ACCESS_KEY, REGION, SECRET_KEY};
    format!(
        "S3('uri' = 's3://{bucket}/{pattern}', 's3.endpoint' = '{}', 's3.region' = '{REGION}', 's3.access_key' = '{ACCESS_KEY}', 's3.secret_key' = '{SECRET_KEY}', 'format' = 'csv')",
        server.endpoint
    )
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

pub fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "stdout: {}\nstderr: {}",
        stdout(output),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A `tributary serve` process over the warehouse `root/wh` (its secret
/// key in `root`) on a free loopback port, logging to
/// `root/server-<port>.log`; killed when dropped.
pub struct Server {
    pub child: std::process::Child,
    pub port: u16,
    root: std::path::PathBuf,
}

impl Server {
    pub fn start(root: &Path) -> Server {
        Self::start_with(root, &[])
    }

    /// [`Server::start`] with environment variables `env` (a lease TTL, a
    /// crash point).
    pub fn start_with(root: &Path, env: &[(&str, &str)]) -> Server {
        Self::start_with_args(root, env, &[])
    }

    /// [`Server::start_with`] with more `serve` flags (`--tls-cert ...`).
    pub fn start_with_args(root: &Path, env: &[(&str, &str)], args: &[&str]) -> Server {
        let port = free_port();
        let log = std::fs::File::create(root.join(format!("server-{port}.log"))).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_tributary"))
            .args(["--warehouse", root.join("wh").to_str().unwrap(), "serve"])
            .args(["--mysql", &format!("127.0.0.1:{port}")])
            .args(args)
            .env("TRIBUTARY_SECRET_KEY_FILE", root.join("secret.key"))
            .env("TRIBUTARY_LOCAL_FILES", root)
            .env("RUST_LOG", "warn,tributary=info")
            .env_remove(tributary::ingest::failpoint::CRASH_AT)
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .expect("tributary serve starts");
        wait_listening(port, "the server");
        Server {
            child,
            port,
            root: root.to_path_buf(),
        }
    }

    /// Runs `sql` with the `mysql` client as `user` (with `password`).
    pub fn mysql(&self, user: &str, password: Option<&str>, sql: &str) -> Output {
        let mut command = Command::new("mysql");
        command
            .args(["-h", "127.0.0.1", "-P", &self.port.to_string(), "-u", user])
            .args(["--batch", "--skip-ssl", "-e", sql]);
        if let Some(password) = password {
            command.arg(format!("-p{password}"));
        }
        command.output().expect("the mysql client runs")
    }

    /// [`Server::mysql`] as root, which must succeed; its output.
    pub fn root(&self, sql: &str) -> String {
        let output = self.mysql("root", None, sql);
        assert!(
            output.status.success(),
            "{sql}\n{}{}",
            stdout(&output),
            String::from_utf8_lossy(&output.stderr)
        );
        stdout(&output)
    }

    /// Waits until `sql` (as root) succeeds and prints `expected`, for
    /// 60 s at most.
    pub fn wait_for(&self, sql: &str, expected: &str) {
        self.wait_until(sql, &format!("{expected:?}"), |out| out.contains(expected));
    }

    /// Runs `sql` as root until its output is `done` (what that is, for
    /// the failure message: `what`), for up to a minute.
    pub fn wait_until(&self, sql: &str, what: &str, done: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let output = self.mysql("root", None, sql);
            let out = stdout(&output);
            if output.status.success() && done(&out) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{sql}: waited for {what}, got {out}{}\nserver log:\n{}",
                String::from_utf8_lossy(&output.stderr),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Sends SIGTERM and waits for the exit; its success.
    pub fn stop(mut self) -> bool {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = self.child.wait().unwrap();
        status.success()
    }

    /// What the server logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.root.join(format!("server-{}.log", self.port)))
            .unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
