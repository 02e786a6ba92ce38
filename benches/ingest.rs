//! The ingest benchmark: tributary against its peers on the same files in
//! the same run. Run with `bash bench/run.sh` (see README, "Benchmark").
//!
//! It writes orders-like CSV files (and the same rows as Parquet) to a
//! local directory and to a real S3-compatible server (moto) on 127.0.0.1,
//! then measures, each in a fresh process so that peak memory is its own:
//! a streaming job from zero to caught up (file:// and s3://, CSV and
//! Parquet), a one-shot `INSERT ... SELECT FROM S3()`, DuckDB's
//! `CREATE TABLE AS SELECT * FROM read_csv/read_parquet`, and two floors:
//! DataFusion's own CSV reader and tributary's `S3()` reader, both into a
//! no-op sink. Then the latency from a file landing to its rows being
//! visible, and the LIST requests of an idle poll over many loaded files.

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
    /// Loaded files under the prefix for the idle-poll measurement.
    #[arg(long, default_value_t = 100_000)]
    listing_files: usize,
    /// Where to write the results as JSON.
    #[arg(long, default_value = "bench/results.json")]
    out: PathBuf,
    /// The Python with duckdb installed (bench/run.sh sets it).
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
}

/// What a child reports.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Measured {
    seconds: f64,
    rows: u64,
    peak_rss_mib: f64,
}

fn main() {
    // As the tributary binary does.
    tributary::tune_encoder_threads();
    if let Ok(spec) = std::env::var(CHILD) {
        let spec: Spec = serde_json::from_str(&spec).expect("child spec");
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (seconds, rows) = runtime.block_on(child(&spec));
        let measured = Measured {
            seconds,
            rows,
            peak_rss_mib: peak_rss_mib(),
        };
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
        let x = id.wrapping_mul(2654435761) % 1_000_003;
        use std::io::Write;
        writeln!(
            out,
            "{id},{},{}.{:02},{},{},2026-{:02}-{:02},order {id} for customer {} via channel {}",
            x % 50_000,
            x % 10_000,
            x % 100,
            1 + x % 9,
            STATUSES[(x % 5) as usize],
            1 + x % 12,
            1 + x % 28,
            x % 50_000,
            x % 7
        )
        .unwrap();
        id += 1;
        rows += 1;
    }
    (out, rows)
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

#[path = "../tests/support/s3_server.rs"]
mod s3_server;

use s3_server::{S3Server, ACCESS_KEY, REGION, SECRET_KEY};

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

/// A session on a new warehouse `name` under `work`, with the table.
async fn open(work: &Path, name: &str) -> tributary::Session {
    std::env::set_var("TRIBUTARY_SECRET_KEY_FILE", work.join("secret.key"));
    let engine = Engine::open(work.join(name).to_str().unwrap())
        .await
        .unwrap();
    let mut session = engine.session();
    session
        .sql(&format!("CREATE DATABASE bench; {TABLE}"))
        .await
        .unwrap();
    session
}

/// A session for a child's measurement.
async fn open_for(spec: &Spec) -> tributary::Session {
    open(&spec.work, &format!("wh-{}", std::process::id())).await
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

/// Times `sql` loading the files into a new table; returns (seconds, rows).
async fn load(spec: &Spec, sql: &str) -> (f64, u64) {
    let mut session = open_for(spec).await;
    let start = Instant::now();
    session.sql(sql).await.unwrap();
    let seconds = start.elapsed().as_secs_f64();
    (seconds, count(&mut session).await)
}

/// Runs one measurement; returns (seconds, rows).
async fn child(spec: &Spec) -> (f64, u64) {
    match spec.kind.as_str() {
        "job" => {
            load(
                spec,
                &format!(
                    "CREATE JOB load ON STREAMING PROPERTIES (\"max_interval\" = \"1s\") DO INSERT INTO bench.orders SELECT * FROM {};
                     WAIT JOB WHERE jobName = 'load' TIMEOUT 3600",
                    s3_call(&spec.uri, &spec.format, &spec.endpoint)
                ),
            )
            .await
        }
        "insert" => {
            load(
                spec,
                &format!("INSERT INTO bench.orders SELECT * FROM {}", s3_call(&spec.uri, &spec.format, &spec.endpoint)),
            )
            .await
        }
        "tributary-read" => {
            let mut session = open_for(spec).await;
            let start = Instant::now();
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
            (start.elapsed().as_secs_f64(), rows)
        }
        "datafusion-read" => {
            let ctx = SessionContext::new();
            let dir = spec.uri.trim_start_matches("file://");
            let dir = dir.rsplit_once('/').unwrap().0;
            let start = Instant::now();
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
            (start.elapsed().as_secs_f64(), rows)
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

fn run_duckdb(python: &str, work: &Path, source: &str) -> Measured {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/duckdb_load.py");
    let extension = source.rsplit('.').next().unwrap_or("data");
    let db = work.join(format!("duckdb-{extension}.db"));
    let _ = std::fs::remove_file(&db);
    let output = Command::new(python)
        .arg(script)
        .arg(&db)
        .arg(source)
        .stderr(Stdio::inherit())
        .output()
        .expect("python runs: run bash bench/run.sh");
    assert!(output.status.success(), "duckdb load failed");
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("duckdb result")
}

// ---------------------------------------------------------------- parent

/// How one measurement runs.
enum Case {
    /// A child process of this benchmark.
    Child(Spec),
    /// DuckDB loading the files matching this glob.
    DuckDb(String),
}

struct Row {
    name: String,
    measured: Measured,
    bytes: u64,
}

async fn parent(args: Args) {
    let work = tempfile::tempdir().unwrap();
    let root = work.path();
    let csv_dir = root.join("csv");
    let parquet_dir = root.join("parquet");
    std::fs::create_dir_all(&csv_dir).unwrap();
    std::fs::create_dir_all(&parquet_dir).unwrap();

    eprintln!(
        "bench: writing {} CSV files of {} MiB",
        args.files, args.file_mib
    );
    let mut files = Vec::new();
    let mut next_id = 1;
    let mut total_rows = 0;
    for i in 0..args.files {
        let (body, rows) = orders_csv(next_id, args.file_mib << 20);
        next_id += rows;
        total_rows += rows;
        let name = format!("orders-{i:05}.csv");
        std::fs::write(csv_dir.join(&name), &body).unwrap();
        files.push((format!("csv/{name}"), body));
    }
    let csv_bytes: u64 = files.iter().map(|(_, b)| b.len() as u64).sum();
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

    let moto = S3Server::start_logging_to(Some(root.join("s3-requests.log")));
    moto.create_bucket(BUCKET);
    eprintln!("bench: uploading to the S3 server at {}", moto.endpoint);
    let store = moto.store(BUCKET);
    upload(store.as_ref(), files).await;
    upload(store.as_ref(), parquet_files).await;

    let spec = |kind: &str, uri: String, format: &str| Spec {
        kind: kind.into(),
        uri,
        format: format.into(),
        endpoint: moto.endpoint.clone(),
        work: root.to_path_buf(),
    };
    let local_csv = format!("file://{}/*.csv", csv_dir.display());
    let local_parquet = format!("file://{}/*.parquet", parquet_dir.display());
    let s3_csv = format!("s3://{BUCKET}/csv/*.csv");
    let s3_parquet = format!("s3://{BUCKET}/parquet/*.parquet");

    let csv_glob = format!("{}/*.csv", csv_dir.display());
    let parquet_glob = format!("{}/*.parquet", parquet_dir.display());
    let cases = [
        (
            "DataFusion CSV read, no-op sink (floor)",
            Case::Child(spec("datafusion-read", local_csv.clone(), "csv")),
        ),
        (
            "tributary S3() CSV read, no-op sink",
            Case::Child(spec("tributary-read", local_csv.clone(), "csv")),
        ),
        ("DuckDB read_csv -> DuckDB table", Case::DuckDb(csv_glob)),
        (
            "tributary job file:// CSV -> Lance",
            Case::Child(spec("job", local_csv.clone(), "csv")),
        ),
        (
            "tributary INSERT file:// CSV -> Lance",
            Case::Child(spec("insert", local_csv, "csv")),
        ),
        (
            "tributary job s3:// CSV -> Lance",
            Case::Child(spec("job", s3_csv, "csv")),
        ),
        (
            "DuckDB read_parquet -> DuckDB table",
            Case::DuckDb(parquet_glob),
        ),
        (
            "tributary job file:// Parquet -> Lance",
            Case::Child(spec("job", local_parquet, "parquet")),
        ),
        (
            "tributary job s3:// Parquet -> Lance",
            Case::Child(spec("job", s3_parquet, "parquet")),
        ),
    ];
    let mut rows = Vec::new();
    for (name, case) in cases {
        let measured = match case {
            Case::Child(spec) => run_child(&spec),
            Case::DuckDb(source) => run_duckdb(&args.python, root, &source),
        };
        eprintln!(
            "bench: {name}: {:.2} s, {} rows, peak RSS {:.0} MiB",
            measured.seconds, measured.rows, measured.peak_rss_mib
        );
        assert_eq!(measured.rows, total_rows, "{name} loaded every row");
        rows.push(Row {
            name: name.into(),
            measured,
            bytes: csv_bytes,
        });
    }

    let latency = latency(&moto, root, args.latency_files).await;
    let listing = idle_poll(&moto, root, args.listing_files).await;
    report(&args, &rows, &latency, &listing);
}

/// Seconds from a file's PUT to its rows being visible, per file.
async fn latency(moto: &S3Server, root: &Path, files: usize) -> Vec<f64> {
    eprintln!("bench: latency over {files} files (max_interval = 1s)");
    let mut session = open(root, "wh-latency").await;
    session
        .sql(&format!(
            "CREATE JOB latency ON STREAMING PROPERTIES (\"max_interval\" = \"1s\")
             DO INSERT INTO bench.orders SELECT * FROM {}",
            s3_call(
                &format!("s3://{BUCKET}/latency/*.csv"),
                "csv",
                &moto.endpoint
            )
        ))
        .await
        .unwrap();
    let store = moto.store(BUCKET);
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
async fn idle_poll(moto: &S3Server, root: &Path, files: usize) -> (usize, f64) {
    eprintln!("bench: idle poll over {files} loaded files");
    let store = moto.store(BUCKET);
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
    let mut session = open(root, "wh-listing").await;
    // The files count as loaded: the job starts after the last one.
    session
        .sql(&format!(
            "CREATE JOB many ON STREAMING PROPERTIES (\"max_interval\" = \"3600s\")
             DO INSERT INTO bench.orders SELECT * FROM {};
             PAUSE JOB WHERE jobName = 'many';
             ALTER JOB many PROPERTIES ('offset' = '{{\"fileName\":\"{last}\"}}');
             RESUME JOB WHERE jobName = 'many';
             WAIT JOB WHERE jobName = 'many' TIMEOUT 600",
            s3_call(&format!("s3://{BUCKET}/many/*.csv"), "csv", &moto.endpoint)
        ))
        .await
        .unwrap();
    // Let a poll the statements above may have queued finish first, so
    // that exactly one poll is counted.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = moto.list_requests();
    let start = Instant::now();
    session
        .sql("WAIT JOB WHERE jobName = 'many' TIMEOUT 600")
        .await
        .unwrap();
    let seconds = start.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(300)).await;
    (moto.list_requests() - before, seconds)
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(0.0)
}

fn report(args: &Args, rows: &[Row], latency: &[f64], listing: &(usize, f64)) {
    let mib = |bytes: u64| bytes as f64 / (1u64 << 20) as f64;
    println!(
        "\n{:<42} {:>9} {:>10} {:>12} {:>10}",
        "measurement", "seconds", "MiB/s", "rows/s", "peak MiB"
    );
    let mut results = BTreeMap::new();
    for row in rows {
        let m = &row.measured;
        let mib_s = mib(row.bytes) / m.seconds;
        let rows_s = m.rows as f64 / m.seconds;
        println!(
            "{:<42} {:>9.2} {:>10.1} {:>12.0} {:>10.0}",
            row.name, m.seconds, mib_s, rows_s, m.peak_rss_mib
        );
        results.insert(
            row.name.clone(),
            json!({"seconds": m.seconds, "rows": m.rows, "mib_per_s": mib_s,
                   "rows_per_s": rows_s, "peak_rss_mib": m.peak_rss_mib}),
        );
    }
    let secs = |name: &str| {
        rows.iter()
            .find(|r| r.name == name)
            .map(|r| r.measured.seconds)
            .unwrap_or(f64::NAN)
    };
    let job = secs("tributary job file:// CSV -> Lance");
    let vs_duckdb = secs("DuckDB read_csv -> DuckDB table") / job;
    let vs_floor = secs("DataFusion CSV read, no-op sink (floor)") / job;
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
    println!(
        "ratios: CSV job throughput {vs_duckdb:.2}x DuckDB, {vs_floor:.2}x the DataFusion read floor"
    );
    let value = json!({
        "files": args.files, "file_mib": args.file_mib,
        "csv_bytes": rows.first().map(|r| r.bytes),
        "measurements": results,
        "latency_seconds": {"median": median(latency), "max": latency.iter().copied().fold(0.0, f64::max), "all": latency},
        "idle_poll": {"loaded_files": args.listing_files, "list_requests": lists, "seconds": poll_seconds},
        "ratios": {"csv_job_vs_duckdb": vs_duckdb, "csv_job_vs_datafusion_floor": vs_floor},
    });
    std::fs::write(&args.out, serde_json::to_string_pretty(&value).unwrap()).unwrap();
}
