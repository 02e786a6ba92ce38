//! The ingest benchmark: tributary against its peers on the same files in
//! the same run. Run with `bash bench/run.sh` (see bench/README.md).
//!
//! It writes orders-like CSV files (and the same rows as Parquet) to a
//! local directory and to a real S3-compatible server (SeaweedFS) on 127.0.0.1,
//! then measures, each in a fresh process so that peak memory and CPU time
//! are its own: a streaming job from zero to caught up (file:// and s3://,
//! CSV and Parquet), a one-shot `INSERT ... SELECT FROM S3()`, DuckDB's
//! `CREATE TABLE AS SELECT * FROM read_csv/read_parquet`, pylance (pyarrow's
//! CSV reader into `lance.write_dataset`), and two floors: DataFusion's own
//! CSV reader and tributary's `S3()` reader, both into a no-op sink. Then
//! many small files (local against DuckDB; on the S3 server, counting the
//! LIST requests of the backlog), the latency from a file landing to its
//! rows being visible, and the LIST requests of an idle poll over many
//! loaded files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::{CsvReadOptions, SessionContext};
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde_json::json;
use tributary::Engine;

#[path = "ingest/indexes.rs"]
mod indexes;
#[path = "ingest/maintenance.rs"]
mod maintenance;
#[path = "ingest/queries.rs"]
mod queries;
#[path = "../tests/support/s3_client.rs"]
mod s3_client;
#[path = "ingest/seaweed.rs"]
mod seaweed;
#[path = "ingest/workers.rs"]
mod workers;

use indexes::{index_cost, IndexCost, INDEXES};
use maintenance::{maintenance_cost, MaintenanceCost, MAINTENANCE};
use queries::{query_cost, QueryCost, QUERIES};
use workers::{workers_cost, WorkersCost, WORKERS};

const CHILD: &str = "TRIBUTARY_BENCH_CHILD";
const BUCKET: &str = "bench";

/// The ingest benchmark (tributary vs DuckDB and DataFusion).
#[derive(Debug, Parser, Clone)]
struct Args {
    /// Number of CSV files.
    #[arg(long, default_value_t = 64)]
    files: usize,
    /// Size of each CSV file in MiB.
    #[arg(long, default_value_t = 16)]
    file_mib: usize,
    /// Files put one by one for the latency measurement.
    #[arg(long, default_value_t = 20)]
    latency_files: usize,
    /// Loaded files under the prefix for the idle-poll measurement, and
    /// entries in the file ledger for the ledger's cost.
    #[arg(long, default_value_t = 100_000)]
    listing_files: usize,
    /// Number of small CSV files (local, and the S3 backlog).
    #[arg(long, default_value_t = 20_000)]
    small_files: usize,
    /// Rows in each small file.
    #[arg(long, default_value_t = 10)]
    small_rows: usize,
    /// Run only the measurements whose name contains this (no latency,
    /// idle poll or results file then): for working on one figure.
    #[arg(long)]
    only: Option<String>,
    /// Where to write the results as JSON.
    #[arg(long, default_value = "bench/results.json")]
    out: PathBuf,
    /// The Python with duckdb and pylance installed (bench/run.sh sets it).
    #[arg(long, env = "BENCH_PYTHON", default_value = "python3")]
    python: String,
    /// Passed by `cargo bench`.
    #[arg(long, hide = true)]
    bench: bool,
}

/// One measurement, run in a child process.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Spec {
    kind: String,
    /// file:// or s3:// pattern of the source files.
    uri: String,
    format: String,
    endpoint: String,
    work: PathBuf,
    /// The table's "compression" property, when not the default.
    #[serde(default)]
    compression: Option<String>,
    /// The warehouse's directory under `work`, when it is kept after the
    /// measurement (a new one per process otherwise).
    #[serde(default)]
    warehouse: Option<String>,
    /// `tributary worker` addresses the measured process runs across.
    #[serde(default)]
    workers: Vec<String>,
}

/// What a child reports.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Measured {
    seconds: f64,
    rows: u64,
    peak_rss_mib: f64,
    /// User and system CPU time of the measured part.
    #[serde(default)]
    cpu_seconds: f64,
    /// A job's tasks (SucceedTaskCount).
    #[serde(default)]
    tasks: Option<u64>,
    /// The loaded table's data files, bytes (a job's).
    #[serde(default)]
    table_bytes: Option<u64>,
}

fn main() {
    // As the tributary binary does.
    tributary::tune_encoder_threads();
    if let Ok(spec) = std::env::var(CHILD) {
        let spec: Spec = serde_json::from_str(&spec).expect("child spec");
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let measured = runtime.block_on(child(&spec));
        println!("{}", serde_json::to_string(&measured).unwrap());
        return;
    }
    let args = Args::parse();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(parent(args));
}

// ---------------------------------------------------------------- data

const STATUSES: [&str; 5] = ["NEW", "PAID", "SHIPPED", "DELIVERED", "RETURNED"];

/// One orders-like CSV file of about `bytes` bytes, ids from `first_id`.
fn orders_csv(first_id: u64, bytes: usize) -> (Vec<u8>, u64) {
    let mut out = Vec::with_capacity(bytes + 256);
    let mut id = first_id;
    let mut rows = 0;
    while out.len() < bytes {
        let x = mixed(id);
        use std::io::Write;
        writeln!(
            out,
            "{id},{},{}.{:02},{},{},2026-{:02}-{:02},{}",
            x % 50_000,
            x % 10_000,
            x % 100,
            1 + x % 9,
            STATUSES[(x % 5) as usize],
            1 + x % 12,
            1 + x % 28,
            comment_of(id)
        )
        .unwrap();
        id += 1;
        rows += 1;
    }
    (out, rows)
}

/// The number order `id`'s values are drawn from.
fn mixed(id: u64) -> u64 {
    id.wrapping_mul(2654435761) % 1_000_003
}

/// The comment of order `id`.
fn comment_of(id: u64) -> String {
    let x = mixed(id);
    format!(
        "order {id} for customer {} via channel {}",
        x % 50_000,
        x % 7
    )
}

const TABLE: &str = "CREATE TABLE bench.orders (order_id BIGINT NOT NULL, customer_id INT, amount DECIMAL(12,2), quantity INT, status VARCHAR(16), order_date DATE, comment STRING)";

fn arrow_schema() -> Schema {
    Schema::new(vec![
        Field::new("order_id", DataType::Int64, false),
        Field::new("customer_id", DataType::Int32, true),
        Field::new("amount", DataType::Decimal128(12, 2), true),
        Field::new("quantity", DataType::Int32, true),
        Field::new("status", DataType::Utf8, true),
        Field::new("order_date", DataType::Date32, true),
        Field::new("comment", DataType::Utf8, true),
    ])
}

// ---------------------------------------------------------------- S3

use seaweed::{weed_binary, SeaweedFs, ACCESS_KEY, REGION, SECRET_KEY};

async fn upload(store: &dyn ObjectStore, files: Vec<(String, Vec<u8>)>) {
    futures::stream::iter(files)
        .map(|(key, body)| async move {
            store
                .put(&StorePath::from(key), PutPayload::from(body))
                .await
                .map(|_| ())
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await
        .expect("upload");
}

// ---------------------------------------------------------------- children

fn s3_options(endpoint: &str) -> String {
    format!(
        "\"s3.endpoint\" = \"{endpoint}\", \"s3.region\" = \"{REGION}\", \"s3.access_key\" = \"{ACCESS_KEY}\", \"s3.secret_key\" = \"{SECRET_KEY}\""
    )
}

/// The `S3(...)` call reading `uri` (file:// or s3://) in `format`.
fn s3_call(uri: &str, format: &str, endpoint: &str) -> String {
    let format = match format {
        "csv" => "\"format\" = \"csv\", \"column_separator\" = \",\"",
        _ => "\"format\" = \"parquet\"",
    };
    let connection = if uri.starts_with("s3://") {
        format!(", {}", s3_options(endpoint))
    } else {
        String::new()
    };
    format!("S3(\"uri\" = \"{uri}\", {format}{connection})")
}

/// A session on a new warehouse `name` under `work`, with the table
/// (its "compression" property `compression`, when given).
async fn open(work: &Path, name: &str, compression: Option<&str>) -> tributary::Session {
    std::env::set_var("TRIBUTARY_SECRET_KEY_FILE", work.join("secret.key"));
    let engine = Engine::open(work.join(name).to_str().unwrap())
        .await
        .unwrap();
    let mut session = engine.session();
    session
        .sql(&format!(
            "CREATE DATABASE bench; {TABLE}{}",
            compression.map_or(String::new(), |c| format!(
                " PROPERTIES (\"compression\" = \"{c}\")"
            ))
        ))
        .await
        .unwrap();
    session
}

/// A session for a child's measurement, across the spec's workers.
async fn open_for(spec: &Spec) -> tributary::Session {
    let warehouse = spec
        .warehouse
        .clone()
        .unwrap_or_else(|| format!("wh-{}", std::process::id()));
    let session = open(&spec.work, &warehouse, spec.compression.as_deref()).await;
    if !spec.workers.is_empty() {
        let engine = session.engine();
        let options = tributary::distributed::WorkerOptions {
            addresses: spec.workers.clone(),
            min_bytes: 0,
        };
        let warehouse = engine.catalog().warehouse().clone();
        let workers = tributary::distributed::Workers::connect(options, warehouse)
            .await
            .unwrap();
        assert_eq!(
            workers.live().len(),
            spec.workers.len(),
            "every worker answers"
        );
        engine.set_workers(workers);
    }
    session
}

async fn count(session: &mut tributary::Session) -> u64 {
    let batches = session
        .sql("SELECT count(*) FROM bench.orders")
        .await
        .unwrap();
    let column = batches[0].column(0);
    datafusion::arrow::array::cast::as_primitive_array::<datafusion::arrow::datatypes::Int64Type>(
        column,
    )
    .value(0) as u64
}

/// The time a measurement started, wall and CPU.
struct Started(Instant, f64);

impl Started {
    fn now() -> Self {
        Self(Instant::now(), cpu_seconds())
    }

    fn measured(self, rows: u64) -> Measured {
        Measured {
            seconds: self.0.elapsed().as_secs_f64(),
            rows,
            peak_rss_mib: peak_rss_mib(),
            cpu_seconds: cpu_seconds() - self.1,
            tasks: None,
            table_bytes: None,
        }
    }
}

/// Times `sql` loading the files into a new table.
async fn load(spec: &Spec, sql: &str) -> (Measured, tributary::Session) {
    let mut session = open_for(spec).await;
    let start = Started::now();
    session.sql(sql).await.unwrap();
    let measured = start.measured(0);
    let measured = Measured {
        rows: count(&mut session).await,
        ..measured
    };
    (measured, session)
}

/// The job's SucceedTaskCount.
async fn tasks(session: &mut tributary::Session, job: &str) -> u64 {
    let batches = session
        .sql(&format!(
            "SELECT SucceedTaskCount FROM job(type=insert) WHERE Name = '{job}'"
        ))
        .await
        .unwrap();
    let value = datafusion::arrow::util::display::array_value_to_string(batches[0].column(0), 0);
    value.unwrap().parse().unwrap()
}

/// The bytes of bench.orders' data files (SHOW TABLE STATUS's
/// Data_length).
async fn table_bytes(session: &mut tributary::Session) -> u64 {
    let batches = session
        .sql("SHOW TABLE STATUS FROM bench LIKE 'orders'")
        .await
        .unwrap();
    let column = batches[0].schema().index_of("Data_length").unwrap();
    let value =
        datafusion::arrow::util::display::array_value_to_string(batches[0].column(column), 0);
    value.unwrap().parse().unwrap()
}

/// Runs one measurement.
async fn child(spec: &Spec) -> Measured {
    match spec.kind.as_str() {
        "job" => {
            let (measured, mut session) = load(
                spec,
                &format!(
                    "CREATE JOB load ON STREAMING PROPERTIES (\"max_interval\" = \"1s\") DO INSERT INTO bench.orders SELECT * FROM {};
                     WAIT JOB WHERE jobName = 'load' TIMEOUT 3600",
                    s3_call(&spec.uri, &spec.format, &spec.endpoint)
                ),
            )
            .await;
            Measured {
                tasks: Some(tasks(&mut session, "load").await),
                table_bytes: Some(table_bytes(&mut session).await),
                ..measured
            }
        }
        "insert" => {
            load(
                spec,
                &format!(
                    "INSERT INTO bench.orders SELECT * FROM {}",
                    s3_call(&spec.uri, &spec.format, &spec.endpoint)
                ),
            )
            .await
            .0
        }
        "tributary-read" => {
            let mut session = open_for(spec).await;
            let start = Started::now();
            let mut stream = session
                .query(&format!(
                    "SELECT * FROM {}",
                    s3_call(&spec.uri, &spec.format, &spec.endpoint)
                ))
                .await
                .unwrap();
            let mut rows = 0u64;
            while let Some(batch) = stream.next().await {
                rows += batch.unwrap().num_rows() as u64;
            }
            start.measured(rows)
        }
        "datafusion-read" => {
            let ctx = SessionContext::new();
            let dir = spec.uri.trim_start_matches("file://");
            let dir = dir.rsplit_once('/').unwrap().0;
            let start = Started::now();
            let schema = arrow_schema();
            let options = CsvReadOptions::new()
                .has_header(false)
                .schema(&schema)
                .file_extension(".csv");
            let df = ctx.read_csv(dir, options).await.unwrap();
            let mut stream = df.execute_stream().await.unwrap();
            let mut rows = 0u64;
            while let Some(batch) = stream.next().await {
                rows += batch.unwrap().num_rows() as u64;
            }
            start.measured(rows)
        }
        other => panic!("unknown measurement {other}"),
    }
}

/// The process's peak resident memory (VmHWM), MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// The process's user and system CPU time so far, seconds.
fn cpu_seconds() -> f64 {
    cpu_seconds_of("/proc/self/stat")
}

/// The user and system CPU time so far of the process whose
/// `/proc/<pid>/stat` is `stat`, seconds.
fn cpu_seconds_of(stat: &str) -> f64 {
    let stat = std::fs::read_to_string(stat).unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime and
    // stime are the 12th and 13th, in clock ticks of 1/100 s.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn run_child(spec: &Spec) -> Measured {
    let output = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, serde_json::to_string(spec).unwrap())
        .env("RUST_LOG", "warn")
        .stderr(Stdio::inherit())
        .output()
        .expect("child runs");
    assert!(output.status.success(), "{} failed", spec.kind);
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("child result")
}

/// Runs a peer's Python script `bench/<script>` with a new target under
/// `work` and the source glob.
fn run_python(python: &str, script: &str, work: &Path, source: &str) -> Measured {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("bench")
        .join(script);
    let target = work.join(format!("peer-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&target);
    let _ = std::fs::remove_file(&target);
    let output = Command::new(python)
        .arg(path)
        .arg(&target)
        .arg(source)
        .stderr(Stdio::inherit())
        .output()
        .expect("python runs: run bash bench/run.sh");
    assert!(output.status.success(), "{script} failed");
    let _ = std::fs::remove_dir_all(&target);
    let _ = std::fs::remove_file(&target);
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("peer result")
}

// ---------------------------------------------------------------- parent

/// How one measurement runs.
enum Case {
    /// A child process of this benchmark.
    Child(Spec),
    /// DuckDB loading the files matching this glob.
    DuckDb(String),
    /// pylance loading the CSV files matching this glob.
    Pylance(String),
}

/// The files a measurement loads.
#[derive(Debug, Clone, Copy)]
struct Files {
    count: usize,
    bytes: u64,
    rows: u64,
}

struct Row {
    name: String,
    measured: Measured,
    files: Files,
    /// LIST requests the S3 server served during the measurement.
    lists: usize,
    /// The S3 server's CPU seconds during the measurement.
    server_cpu_seconds: f64,
}

/// Writes `count` CSV files of about `bytes` bytes each to `dir`; returns
/// them as (key under `prefix`, body) and what they hold.
fn write_csv_files(
    dir: &Path,
    prefix: &str,
    count: usize,
    size: impl Fn(u64) -> (Vec<u8>, u64),
) -> (Vec<(String, Vec<u8>)>, Files) {
    std::fs::create_dir_all(dir).unwrap();
    let mut files = Vec::new();
    let mut next_id = 1;
    let mut total = Files {
        count,
        bytes: 0,
        rows: 0,
    };
    for i in 0..count {
        let (body, rows) = size(next_id);
        next_id += rows;
        total.rows += rows;
        total.bytes += body.len() as u64;
        let name = format!("orders-{i:05}.csv");
        std::fs::write(dir.join(&name), &body).unwrap();
        files.push((format!("{prefix}/{name}"), body));
    }
    (files, total)
}

/// One orders-like CSV file of exactly `rows` rows, ids from `first_id`.
fn orders_rows(first_id: u64, rows: usize) -> (Vec<u8>, u64) {
    let (whole, _) = orders_csv(first_id, rows * 160);
    let end = end_of_line(&whole, rows);
    (whole[..end].to_vec(), rows as u64)
}

/// The end (after the newline) of the `n`th line of `bytes`.
fn end_of_line(bytes: &[u8], n: usize) -> usize {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(n - 1)
        .map_or(bytes.len(), |(i, _)| i + 1)
}

async fn parent(args: Args) {
    let work = tempfile::tempdir().unwrap();
    let root = work.path();
    let csv_dir = root.join("csv");
    let parquet_dir = root.join("parquet");
    let small_dir = root.join("small");
    std::fs::create_dir_all(&parquet_dir).unwrap();

    eprintln!(
        "bench: writing {} CSV files of {} MiB and {} of {} rows",
        args.files, args.file_mib, args.small_files, args.small_rows
    );
    let (files, big) = write_csv_files(&csv_dir, "csv", args.files, |id| {
        orders_csv(id, args.file_mib << 20)
    });
    let (small_files, small) = write_csv_files(&small_dir, "small", args.small_files, |id| {
        orders_rows(id, args.small_rows)
    });
    eprintln!("bench: converting to Parquet with DuckDB");
    let status = Command::new(&args.python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/duckdb_load.py"))
        .arg("--to-parquet")
        .arg(&csv_dir)
        .arg(&parquet_dir)
        .status()
        .expect("python runs");
    assert!(status.success());
    let parquet_files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&parquet_dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                format!("parquet/{}", e.file_name().to_string_lossy()),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();

    let s3 = SeaweedFs::start(&weed_binary(&args.python), &root.join("seaweedfs"));
    s3.create_bucket(BUCKET);
    eprintln!("bench: uploading to SeaweedFS at {}", s3.endpoint);
    let store = s3.store(BUCKET);
    let small_keys: Vec<String> = small_files.iter().map(|(key, _)| key.clone()).collect();
    upload(store.as_ref(), files).await;
    upload(store.as_ref(), parquet_files).await;
    upload(store.as_ref(), small_files).await;
    for (key, value) in s3.python_env() {
        std::env::set_var(key, value);
    }

    let spec = |kind: &str, uri: String, format: &str| Spec {
        kind: kind.into(),
        uri,
        format: format.into(),
        endpoint: s3.endpoint.clone(),
        work: root.to_path_buf(),
        compression: None,
        warehouse: None,
        workers: Vec::new(),
    };
    let compressed = |compression: &str, uri: String| Spec {
        compression: Some(compression.into()),
        ..spec("job", uri, "csv")
    };
    let local = |dir: &Path, extension: &str| format!("file://{}/*.{extension}", dir.display());
    let glob = |dir: &Path, extension: &str| format!("{}/*.{extension}", dir.display());
    let local_csv = local(&csv_dir, "csv");
    let cases = [
        (
            "DataFusion CSV read, no-op sink (floor)",
            Case::Child(spec("datafusion-read", local_csv.clone(), "csv")),
            big,
        ),
        (
            "tributary S3() CSV read, no-op sink",
            Case::Child(spec("tributary-read", local_csv.clone(), "csv")),
            big,
        ),
        (DUCKDB_CSV, Case::DuckDb(glob(&csv_dir, "csv")), big),
        (PYLANCE_CSV, Case::Pylance(glob(&csv_dir, "csv")), big),
        (
            JOB_CSV,
            Case::Child(spec("job", local_csv.clone(), "csv")),
            big,
        ),
        (
            JOB_CSV_LZ4,
            Case::Child(compressed("lz4", local_csv.clone())),
            big,
        ),
        (
            JOB_CSV_NONE,
            Case::Child(compressed("none", local_csv.clone())),
            big,
        ),
        (
            "tributary INSERT file:// CSV -> Lance",
            Case::Child(spec("insert", local_csv, "csv")),
            big,
        ),
        (
            "tributary job s3:// CSV -> Lance",
            Case::Child(spec("job", format!("s3://{BUCKET}/csv/*.csv"), "csv")),
            big,
        ),
        (
            "DuckDB read_parquet -> DuckDB table",
            Case::DuckDb(glob(&parquet_dir, "parquet")),
            big,
        ),
        (
            "tributary job file:// Parquet -> Lance",
            Case::Child(spec("job", local(&parquet_dir, "parquet"), "parquet")),
            big,
        ),
        (
            "tributary job s3:// Parquet -> Lance",
            Case::Child(spec(
                "job",
                format!("s3://{BUCKET}/parquet/*.parquet"),
                "parquet",
            )),
            big,
        ),
        (DUCKDB_SMALL, Case::DuckDb(glob(&small_dir, "csv")), small),
        (
            JOB_SMALL,
            Case::Child(spec("job", local(&small_dir, "csv"), "csv")),
            small,
        ),
        (
            JOB_SMALL_S3,
            Case::Child(spec("job", format!("s3://{BUCKET}/small/*.csv"), "csv")),
            small,
        ),
        (
            PYARROW_SMALL_S3,
            Case::Pylance(format!("s3://{BUCKET}/small/")),
            small,
        ),
    ];
    let mut rows = Vec::new();
    let chosen = |name: &str| args.only.as_deref().is_none_or(|only| name.contains(only));
    for (name, case, files) in cases.into_iter().filter(|(name, ..)| chosen(name)) {
        let lists_before = s3.list_requests();
        let server_cpu_before = s3.cpu_seconds();
        let measured = match case {
            Case::Child(spec) => run_child(&spec),
            Case::DuckDb(source) => run_python(&args.python, "duckdb_load.py", root, &source),
            Case::Pylance(source) => run_python(&args.python, "pylance_load.py", root, &source),
        };
        let lists = s3.list_requests() - lists_before;
        let server_cpu_seconds = s3.cpu_seconds() - server_cpu_before;
        eprintln!(
            "bench: {name}: {:.2} s, {:.1} CPU s, {} rows, peak RSS {:.0} MiB, {lists} LISTs",
            measured.seconds, measured.cpu_seconds, measured.rows, measured.peak_rss_mib
        );
        assert_eq!(measured.rows, files.rows, "{name} loaded every row");
        rows.push(Row {
            name: name.into(),
            measured,
            files,
            lists,
            server_cpu_seconds,
        });
    }

    let ledger = if chosen(LEDGER) {
        Some(ledger_cost(root, args.listing_files).await)
    } else {
        None
    };
    let maintained = if chosen(MAINTENANCE) {
        Some(maintenance_cost(root, &small_dir, args.small_files).await)
    } else {
        None
    };
    let indexed = if chosen(INDEXES) {
        Some(index_cost(root, &csv_dir).await)
    } else {
        None
    };
    // The server's own rate, at the job's reads at once for small files.
    let server_cpu_before = s3.cpu_seconds();
    let get_rate = match chosen(JOB_SMALL_S3) {
        true => s3.get_rate(BUCKET, &small_keys, SMALL_FILES_AT_ONCE).await,
        false => f64::NAN,
    };
    let get_loop_server_cpu = s3.cpu_seconds() - server_cpu_before;
    let queried = chosen(QUERIES).then(|| query_cost(root, &csv_dir, &args.python, big.rows));
    let across = chosen(WORKERS).then(|| workers_cost(root, &s3.endpoint, big.rows));
    let studies = Studies {
        ledger: ledger.as_ref(),
        maintained: maintained.as_ref(),
        indexed: indexed.as_ref(),
        queried: queried.as_ref(),
        across: across.as_ref(),
        get_rate,
        get_loop_server_cpu,
    };
    if args.only.is_some() {
        return report(&args, &rows, &[], &(0, 0.0), &studies);
    }
    let latency = latency(&s3, root, args.latency_files).await;
    let listing = idle_poll(&s3, root, args.listing_files).await;
    report(&args, &rows, &latency, &listing, &studies);
}

/// Where the CPU of the S3 small-files job went: the job's and the S3
/// server's, which share this machine's cores.
#[derive(Debug, serde::Serialize)]
struct SmallFilesCpu {
    seconds: f64,
    job_cpu_seconds: f64,
    server_cpu_seconds: f64,
    server_ms_per_file: f64,
    get_loop_server_ms_per_file: f64,
    cores: usize,
    /// The files a second the cores allow the job and the server together
    /// at the CPU each spent a file.
    cores_bound_files_per_s: f64,
}

fn s3_small_files_cpu(job: Option<&Row>, studies: &Studies) -> Option<SmallFilesCpu> {
    let job = job?;
    let files = job.files.count as f64;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_file = (job.measured.cpu_seconds + job.server_cpu_seconds) / files;
    Some(SmallFilesCpu {
        seconds: job.measured.seconds,
        job_cpu_seconds: job.measured.cpu_seconds,
        server_cpu_seconds: job.server_cpu_seconds,
        server_ms_per_file: 1000.0 * job.server_cpu_seconds / files,
        get_loop_server_ms_per_file: 1000.0 * studies.get_loop_server_cpu / files,
        cores,
        cores_bound_files_per_s: cores as f64 / per_file,
    })
}

/// The measurements of one subject each, when run.
struct Studies<'a> {
    ledger: Option<&'a LedgerCost>,
    maintained: Option<&'a MaintenanceCost>,
    indexed: Option<&'a IndexCost>,
    queried: Option<&'a QueryCost>,
    across: Option<&'a WorkersCost>,
    /// Small files a second SeaweedFS serves to a plain GET loop.
    get_rate: f64,
    /// The server's CPU seconds during that loop.
    get_loop_server_cpu: f64,
}

const LEDGER: &str = "file ledger";

/// Seconds `sql` takes in `session`.
async fn timed(session: &mut tributary::Session, sql: &str) -> f64 {
    let start = Instant::now();
    session.sql(sql).await.unwrap();
    start.elapsed().as_secs_f64()
}

/// What a job's file ledger costs, measured on two jobs over the same
/// directory: one that loaded every file (its ledger has an entry for
/// each) and one created after the last file (its ledger is empty).
#[derive(Debug, serde::Serialize)]
struct LedgerCost {
    entries: usize,
    /// Seconds the loading job took to load every file.
    load_seconds: f64,
    /// Median seconds of an idle poll: with the ledger, without.
    idle_poll_seconds: (f64, f64),
    /// Seconds from RESUME to the first poll's end (a new loop reads the
    /// ledger): with, without.
    loop_start_seconds: (f64, f64),
    /// Seconds to load one batch of 256 new files: with, without.
    batch_seconds: (f64, f64),
}

async fn ledger_cost(root: &Path, files: usize) -> LedgerCost {
    eprintln!("bench: file ledger of {files} entries");
    let dir = root.join("ledger-src");
    let line = |i: usize| format!("{i},1,1.00,1,NEW,2026-01-01,x\n");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..files {
        std::fs::write(dir.join(format!("f{i:07}.csv")), line(i)).unwrap();
    }
    let call = s3_call(&format!("file://{}/*.csv", dir.display()), "csv", "");
    let last = dir.join(format!("f{:07}.csv", files - 1));
    let mut loaded = open(root, "wh-ledger", None).await;
    let start = Instant::now();
    loaded
        .sql(&format!(
            "CREATE JOB j ON STREAMING PROPERTIES ('max_interval' = '3600s') DO INSERT INTO bench.orders SELECT * FROM {call};
             WAIT JOB WHERE jobName = 'j' TIMEOUT 1200"
        ))
        .await
        .unwrap();
    let load_seconds = start.elapsed().as_secs_f64();
    let mut empty = open(root, "wh-no-ledger", None).await;
    empty
        .sql(&format!(
            "CREATE JOB j ON STREAMING PROPERTIES ('max_interval' = '3600s', 'offset' = '{{\"fileName\":\"{}\"}}')
             DO INSERT INTO bench.orders SELECT * FROM {call};
             WAIT JOB WHERE jobName = 'j' TIMEOUT 600",
            last.display()
        ))
        .await
        .unwrap();
    let wait = "WAIT JOB WHERE jobName = 'j' TIMEOUT 600";
    let mut polls = (Vec::new(), Vec::new());
    for _ in 0..5 {
        polls.0.push(timed(&mut loaded, wait).await);
        polls.1.push(timed(&mut empty, wait).await);
    }
    let restart = "PAUSE JOB WHERE jobName = 'j'; RESUME JOB WHERE jobName = 'j'; WAIT JOB WHERE jobName = 'j' TIMEOUT 600";
    let loop_start = (
        timed(&mut loaded, restart).await,
        timed(&mut empty, restart).await,
    );
    for i in files..files + 256 {
        std::fs::write(dir.join(format!("f{i:07}.csv")), line(i)).unwrap();
    }
    let batch = (
        timed(&mut loaded, wait).await,
        timed(&mut empty, wait).await,
    );
    let cost = LedgerCost {
        entries: files,
        load_seconds,
        idle_poll_seconds: (median(&polls.0), median(&polls.1)),
        loop_start_seconds: loop_start,
        batch_seconds: batch,
    };
    eprintln!("bench: {LEDGER}: {cost:?}");
    cost
}

const DUCKDB_CSV: &str = "DuckDB read_csv -> DuckDB table";
const PYLANCE_CSV: &str = "pylance: pyarrow CSV -> lance.write_dataset";
const JOB_CSV: &str = "tributary job file:// CSV -> Lance";
const JOB_CSV_LZ4: &str = "tributary job file:// CSV -> Lance, compression lz4";
const JOB_CSV_NONE: &str = "tributary job file:// CSV -> Lance, compression none";
const DUCKDB_SMALL: &str = "DuckDB read_csv small files -> DuckDB table";
const JOB_SMALL: &str = "tributary job file:// small CSV files -> Lance";
const JOB_SMALL_S3: &str = "tributary job s3:// small CSV files -> Lance";
const PYARROW_SMALL_S3: &str =
    "pylance: pyarrow.dataset over S3 small CSV files -> lance.write_dataset";

/// Small files a job reads at once (tributary's `MAX_FILES_AT_ONCE`).
const SMALL_FILES_AT_ONCE: usize = 64;

/// Seconds from a file's PUT to its rows being visible, per file.
async fn latency(s3: &SeaweedFs, root: &Path, files: usize) -> Vec<f64> {
    eprintln!("bench: latency over {files} files (max_interval = 1s)");
    let mut session = open(root, "wh-latency", None).await;
    session
        .sql(&format!(
            "CREATE JOB latency ON STREAMING PROPERTIES (\"max_interval\" = \"1s\")
             DO INSERT INTO bench.orders SELECT * FROM {}",
            s3_call(&format!("s3://{BUCKET}/latency/*.csv"), "csv", &s3.endpoint)
        ))
        .await
        .unwrap();
    let store = s3.store(BUCKET);
    let mut seconds = Vec::new();
    let mut expected = 0;
    for i in 0..files {
        let (body, rows) = orders_csv(1 + expected, 64 << 10);
        expected += rows;
        // Land at a random point of the job's poll cycle.
        tokio::time::sleep(Duration::from_millis(137 * (i as u64 % 8))).await;
        let start = Instant::now();
        store
            .put(
                &StorePath::from(format!("latency/{i:05}.csv")),
                PutPayload::from(body),
            )
            .await
            .unwrap();
        while count(&mut session).await < expected {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        seconds.push(start.elapsed().as_secs_f64());
    }
    session
        .sql("DROP JOB WHERE jobName = 'latency'")
        .await
        .unwrap();
    seconds
}

/// An idle poll after `files` loaded files: LIST requests and seconds.
async fn idle_poll(s3: &SeaweedFs, root: &Path, files: usize) -> (usize, f64) {
    eprintln!("bench: idle poll over {files} loaded files");
    let store = s3.store(BUCKET);
    let keys: Vec<(String, Vec<u8>)> = (0..files)
        .map(|i| {
            (
                format!("many/{i:07}.csv"),
                b"1,1,1.00,1,NEW,2026-01-01,x\n".to_vec(),
            )
        })
        .collect();
    let last = keys.last().map(|(k, _)| k.clone()).unwrap_or_default();
    upload(store.as_ref(), keys).await;
    let mut session = open(root, "wh-listing", None).await;
    // The files count as loaded: the job starts after the last one.
    session
        .sql(&format!(
            "CREATE JOB many ON STREAMING PROPERTIES (\"max_interval\" = \"3600s\")
             DO INSERT INTO bench.orders SELECT * FROM {};
             PAUSE JOB WHERE jobName = 'many';
             ALTER JOB many PROPERTIES ('offset' = '{{\"fileName\":\"{last}\"}}');
             RESUME JOB WHERE jobName = 'many';
             WAIT JOB WHERE jobName = 'many' TIMEOUT 600",
            s3_call(&format!("s3://{BUCKET}/many/*.csv"), "csv", &s3.endpoint)
        ))
        .await
        .unwrap();
    // Let a poll the statements above may have queued finish first, so
    // that exactly one poll is counted.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = s3.list_requests();
    let start = Instant::now();
    session
        .sql("WAIT JOB WHERE jobName = 'many' TIMEOUT 600")
        .await
        .unwrap();
    let seconds = start.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(300)).await;
    (s3.list_requests() - before, seconds)
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(0.0)
}

fn report(args: &Args, rows: &[Row], latency: &[f64], listing: &(usize, f64), studies: &Studies) {
    let mib = |bytes: u64| bytes as f64 / (1u64 << 20) as f64;
    println!(
        "\n{:<46} {:>8} {:>8} {:>8} {:>10} {:>9} {:>8} {:>6}",
        "measurement", "seconds", "CPU s", "MiB/s", "rows/s", "files/s", "peak MiB", "LISTs"
    );
    let mut results = BTreeMap::new();
    for row in rows {
        let m = &row.measured;
        let mib_s = mib(row.files.bytes) / m.seconds;
        let rows_s = m.rows as f64 / m.seconds;
        let files_s = row.files.count as f64 / m.seconds;
        println!(
            "{:<46} {:>8.2} {:>8.1} {:>8.1} {:>10.0} {:>9.0} {:>8.0} {:>6}",
            row.name, m.seconds, m.cpu_seconds, mib_s, rows_s, files_s, m.peak_rss_mib, row.lists
        );
        results.insert(
            row.name.clone(),
            json!({"seconds": m.seconds, "cpu_seconds": m.cpu_seconds, "rows": m.rows,
                   "files": row.files.count, "mib_per_s": mib_s, "rows_per_s": rows_s,
                   "files_per_s": files_s, "peak_rss_mib": m.peak_rss_mib,
                   "list_requests": row.lists, "tasks": m.tasks, "table_bytes": m.table_bytes}),
        );
    }
    let row = |name: &str| rows.iter().find(|r| r.name == name);
    let secs = |name: &str| row(name).map_or(f64::NAN, |r| r.measured.seconds);
    let job = secs(JOB_CSV);
    let vs_duckdb = secs(DUCKDB_CSV) / job;
    let vs_pylance = secs(PYLANCE_CSV) / job;
    let vs_floor = secs("DataFusion CSV read, no-op sink (floor)") / job;
    let small_vs_duckdb = secs(DUCKDB_SMALL) / secs(JOB_SMALL);
    let gib = |r: &Row| r.files.bytes as f64 / (1u64 << 30) as f64;
    let cpu_per_gib = |name: &str| row(name).map_or(f64::NAN, |r| r.measured.cpu_seconds / gib(r));
    let (backlog_lists, backlog_tasks) = row(JOB_SMALL_S3).map_or((0, 0), |r| {
        (r.lists, r.measured.tasks.unwrap_or(0) as usize)
    });
    let backlog_bound = args.small_files / 1000 + backlog_tasks + 2;
    let (lists, poll_seconds) = *listing;
    println!(
        "latency file -> visible (max_interval 1s): median {:.2} s, max {:.2} s over {} files",
        median(latency),
        latency.iter().copied().fold(0.0, f64::max),
        latency.len()
    );
    println!(
        "idle poll over {} loaded files: {lists} LIST request(s), {:.3} s",
        args.listing_files, poll_seconds
    );
    if let Some(l) = studies.ledger {
        println!(
            "file ledger of {} entries (with / without): idle poll {:.3} / {:.3} s, loop start {:.3} / {:.3} s, batch of 256 files {:.3} / {:.3} s",
            l.entries,
            l.idle_poll_seconds.0,
            l.idle_poll_seconds.1,
            l.loop_start_seconds.0,
            l.loop_start_seconds.1,
            l.batch_seconds.0,
            l.batch_seconds.1
        );
    }
    if let Some(m) = studies.maintained {
        println!("{MAINTENANCE}: {}", m.summary());
    }
    if let Some(i) = studies.indexed {
        println!("{INDEXES}: {}", i.summary());
    }
    if let Some(q) = studies.queried {
        println!("{QUERIES}: {}", q.summary());
    }
    if let Some(w) = studies.across {
        println!("{WORKERS}: {}", w.summary());
    }
    println!(
        "S3 backlog of {} files: {backlog_lists} LIST requests in {backlog_tasks} tasks (bound N/1000 + tasks + 2 = {backlog_bound})",
        args.small_files
    );
    let files_per_s =
        |name: &str| row(name).map_or(f64::NAN, |r| r.files.count as f64 / r.measured.seconds);
    let (s3_job, s3_peer) = (files_per_s(JOB_SMALL_S3), files_per_s(PYARROW_SMALL_S3));
    println!(
        "S3 small files on SeaweedFS: job {s3_job:.0} files/s, pyarrow peer {s3_peer:.0} files/s ({:.2}x), the server's GET rate {:.0} files/s at {SMALL_FILES_AT_ONCE} at once (the job at {:.0}%)",
        s3_job / s3_peer,
        studies.get_rate,
        100.0 * s3_job / studies.get_rate
    );
    let s3_cpu = s3_small_files_cpu(row(JOB_SMALL_S3), studies);
    if let Some(cpu) = &s3_cpu {
        println!(
            "S3 small files, CPU: the job {:.1} s and the server {:.1} s ({:.2} ms a file) over {:.1} s on {} cores; the server's GET loop {:.2} ms a file; both on these cores, the job cannot pass {:.0} files/s ({:.0}% of the GET rate)",
            cpu.job_cpu_seconds,
            cpu.server_cpu_seconds,
            cpu.server_ms_per_file,
            cpu.seconds,
            cpu.cores,
            cpu.get_loop_server_ms_per_file,
            cpu.cores_bound_files_per_s,
            100.0 * cpu.cores_bound_files_per_s / studies.get_rate
        );
    }
    println!(
        "ratios: CSV job throughput {vs_duckdb:.2}x DuckDB, {vs_pylance:.2}x pylance, {vs_floor:.2}x the DataFusion read floor; small files {small_vs_duckdb:.2}x DuckDB"
    );
    println!(
        "CPU per GiB of CSV: job {:.1} s, DuckDB {:.1} s, pylance {:.1} s",
        cpu_per_gib(JOB_CSV),
        cpu_per_gib(DUCKDB_CSV),
        cpu_per_gib(PYLANCE_CSV)
    );
    let table_mib = |name: &str| {
        row(name)
            .and_then(|r| r.measured.table_bytes)
            .map_or(f64::NAN, mib)
    };
    println!(
        "compression: default {:.1} CPU s/GiB, {:.0} MiB; lz4 {:.1}, {:.0} MiB; none {:.1}, {:.0} MiB",
        cpu_per_gib(JOB_CSV),
        table_mib(JOB_CSV),
        cpu_per_gib(JOB_CSV_LZ4),
        table_mib(JOB_CSV_LZ4),
        cpu_per_gib(JOB_CSV_NONE),
        table_mib(JOB_CSV_NONE)
    );
    let value = json!({
        "files": args.files, "file_mib": args.file_mib,
        "small_files": args.small_files, "small_rows": args.small_rows,
        "csv_bytes": row(JOB_CSV).map(|r| r.files.bytes),
        "measurements": results,
        "latency_seconds": {"median": median(latency), "max": latency.iter().copied().fold(0.0, f64::max), "all": latency},
        "idle_poll": {"loaded_files": args.listing_files, "list_requests": lists, "seconds": poll_seconds},
        "file_ledger": studies.ledger,
        "table_maintenance": studies.maintained,
        "indexes": studies.indexed,
        "queries": studies.queried,
        "workers": studies.across,
        "s3_backlog": {"files": args.small_files, "list_requests": backlog_lists, "tasks": backlog_tasks, "bound": backlog_bound},
        "s3_small_files": {"job_files_per_s": s3_job, "pyarrow_files_per_s": s3_peer, "server_get_files_per_s": studies.get_rate, "get_concurrency": SMALL_FILES_AT_ONCE, "cpu": s3_cpu},
        "cpu_seconds_per_gib": {"job": cpu_per_gib(JOB_CSV), "job_lz4": cpu_per_gib(JOB_CSV_LZ4), "job_none": cpu_per_gib(JOB_CSV_NONE), "duckdb": cpu_per_gib(DUCKDB_CSV), "pylance": cpu_per_gib(PYLANCE_CSV)},
        "table_mib": {"job": table_mib(JOB_CSV), "job_lz4": table_mib(JOB_CSV_LZ4), "job_none": table_mib(JOB_CSV_NONE)},
        "ratios": {"csv_job_vs_duckdb": vs_duckdb, "csv_job_vs_pylance": vs_pylance,
                   "csv_job_vs_datafusion_floor": vs_floor, "small_files_job_vs_duckdb": small_vs_duckdb},
    });
    if args.only.is_none() {
        std::fs::write(&args.out, serde_json::to_string_pretty(&value).unwrap()).unwrap();
    }
}
