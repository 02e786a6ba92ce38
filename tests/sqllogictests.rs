//! Runs every `sqllogictest/*.slt` file, each against a fresh temporary
//! warehouse. `cargo test --test sqllogictests -- NAME` runs the files whose
//! name contains NAME.
//!
//! Files that read sources use `control substitution on` and these
//! variables: `${FIXTURES}` (a local directory of fixture files),
//! `${S3_ENDPOINT}`, `${S3_BUCKET}`, `${S3_ACCESS_KEY}`, `${S3_SECRET_KEY}`,
//! `${S3_REGION}` (a real S3-compatible server on 127.0.0.1 holding the
//! same fixtures) and `${DEAD_ENDPOINT}` (a loopback port nobody listens on).
//!
//! In results, the fixtures directory is shown as `${FIXTURES}`, so
//! expected rows can name fixture files whole.
//!
//! Each file runs twice: in one process, then with every query that reads
//! only tables planned across two `tributary worker` processes. The second
//! run has the label `workers`: `skipif workers` keeps a record to the
//! first (an `EXPLAIN`, which shows stages across workers), `onlyif
//! workers` to the second.
//!
//! Result column types are checked (`I`, `R`, `B`, `T`: see [`ColumnType`]).
//! With `SLT_LOG_TYPES=1` they are printed instead (`SLT-FILE name`, then
//! `SLT-TYPES expected actual` per query, in order) for fixing a file.

#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/ports.rs"]
mod ports;
#[path = "support/s3_client.rs"]
mod s3_client;
#[path = "support/s3_server.rs"]
mod s3_server;

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::datatypes::DataType;
use sqllogictest::{AsyncDB, DBOutput, Runner};
use tributary::{Engine, ResultKind, Session, StatementResult};

/// One sqllogictest connection: a tributary session.
struct TributaryDb {
    session: Session,
    /// The fixtures directory, shown as `${FIXTURES}` in results.
    fixtures: String,
}

/// Wording of the libraries under tributary that no error a user sees may
/// carry: every error of every statement in every file is checked.
const INTERNAL: [&str; 15] = [
    "Optimizer rule",
    "caused by",
    "Arrow error:",
    "ParserError(",
    "This feature is not implemented",
    "Internal error",
    "This issue was likely caused by a bug",
    "External error",
    "Error during planning",
    "Execution error:",
    "Schema error:",
    "Query Execution error",
    "sql parser error",
    ".cargo/registry",
    "/rustc/",
];

#[async_trait]
impl AsyncDB for TributaryDb {
    type Error = tributary::Error;
    type ColumnType = ColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<ColumnType>, Self::Error> {
        let results = self.session.execute(sql).await.inspect_err(|error| {
            let message = error.to_string();
            if let Some(marker) = INTERNAL.iter().find(|m| message.contains(*m)) {
                panic!("{sql:?} failed with the internal wording {marker:?}: {message}");
            }
        })?;
        Ok(match results.last() {
            None => DBOutput::StatementComplete(0),
            Some(result) => match to_output(result) {
                DBOutput::Rows { types, rows } => DBOutput::Rows {
                    types,
                    rows: rows
                        .into_iter()
                        .map(|row| {
                            row.into_iter()
                                .map(|v| v.replace(&self.fixtures, "${FIXTURES}"))
                                .collect()
                        })
                        .collect(),
                },
                other => other,
            },
        })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "tributary"
    }

    async fn sleep(dur: Duration) {
        tokio::time::sleep(dur).await;
    }
}

/// The result column types a `query` record names: `I` integers, `R`
/// floating point and decimals, `B` booleans, `T` anything else (text,
/// dates, times). They are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ColumnType {
    Text,
    Integer,
    Real,
    Boolean,
    /// A letter the harness does not know: never matches.
    Other(char),
}

impl sqllogictest::ColumnType for ColumnType {
    fn from_char(value: char) -> Option<Self> {
        Some(match value {
            'T' => Self::Text,
            'I' => Self::Integer,
            'R' => Self::Real,
            'B' => Self::Boolean,
            other => Self::Other(other),
        })
    }

    fn to_char(&self) -> char {
        match self {
            Self::Text => 'T',
            Self::Integer => 'I',
            Self::Real => 'R',
            Self::Boolean => 'B',
            Self::Other(c) => *c,
        }
    }
}

fn column_type(data_type: &DataType) -> ColumnType {
    match data_type {
        t if t.is_integer() => ColumnType::Integer,
        t if t.is_floating() || t.is_decimal() => ColumnType::Real,
        DataType::Boolean => ColumnType::Boolean,
        _ => ColumnType::Text,
    }
}

fn to_output(result: &StatementResult) -> DBOutput<ColumnType> {
    match result.kind {
        ResultKind::Affected(n) => DBOutput::StatementComplete(n),
        ResultKind::Rows => {
            let options = tributary::display::format_options("NULL");
            let mut rows = Vec::new();
            for batch in &result.batches {
                let formatters: Vec<_> = batch
                    .columns()
                    .iter()
                    .map(|c| {
                        tributary::display::formatter(c.as_ref(), &options).expect("formattable")
                    })
                    .collect();
                for row in 0..batch.num_rows() {
                    rows.push(
                        formatters
                            .iter()
                            .map(|f| match f.value(row).to_string() {
                                s if s.is_empty() => "(empty)".to_string(),
                                s => s,
                            })
                            .collect(),
                    );
                }
            }
            DBOutput::Rows {
                types: result
                    .schema
                    .fields()
                    .iter()
                    .map(|f| column_type(f.data_type()))
                    .collect(),
                rows,
            }
        }
    }
}

/// Like the default validator, but a value with line breaks (SHOW CREATE
/// TABLE) is compared as several expected lines.
fn multi_line_validator(
    normalizer: sqllogictest::Normalizer,
    actual: &[Vec<String>],
    expected: &[String],
) -> bool {
    let lines: Vec<Vec<String>> = actual
        .iter()
        .flat_map(|row| {
            row.join(" ")
                .lines()
                .map(|l| vec![l.to_string()])
                .collect::<Vec<_>>()
        })
        .collect();
    sqllogictest::default_validator(normalizer, &lines, expected)
}

fn slt_files(filter: Option<&str>) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sqllogictest");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("sqllogictest/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .filter(|p| filter.is_none_or(|f| p.to_string_lossy().contains(f)))
        .collect();
    files.sort();
    files
}

/// The workers each file runs across the second time.
const WORKERS: usize = 2;

/// Shared state of a run: the S3 server with the fixtures.
struct Environment {
    s3: s3_server::S3Server,
    dead_endpoint: String,
}

const BUCKET: &str = "tributary-test";

async fn environment() -> Environment {
    let s3 = s3_server::S3Server::start();
    s3.create_bucket(BUCKET);
    fixtures::upload(s3.store(BUCKET).as_ref()).await;
    let dead_port = ports::free_port();
    Environment {
        s3,
        dead_endpoint: format!("http://127.0.0.1:{dead_port}"),
    }
}

/// `tributary worker` processes over one file's warehouse, killed when
/// dropped.
struct Workers(Vec<std::process::Child>);

impl Workers {
    /// `count` workers of the warehouse `dir`, and their addresses once
    /// each listens.
    fn start(dir: &Path, count: usize) -> (Self, Vec<String>) {
        let mut children = Vec::new();
        let mut addresses = Vec::new();
        for _ in 0..count {
            let port = ports::free_port();
            let child = std::process::Command::new(env!("CARGO_BIN_EXE_tributary"))
                .args(["--warehouse", dir.to_str().expect("utf-8 temp path")])
                .args(["worker", "--listen", &format!("127.0.0.1:{port}")])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("tributary worker starts");
            children.push(child);
            ports::wait_listening(port, "a worker");
            addresses.push(format!("127.0.0.1:{port}"));
        }
        (Self(children), addresses)
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs one file on a new warehouse; with `workers`, every query that
/// reads only tables runs across that many `tributary worker` processes.
async fn run_file(path: &Path, env: &Environment, workers: usize) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let engine = Engine::open(dir.path().to_str().expect("utf-8 temp path"))
        .await
        .map_err(|e| e.to_string())?;
    let _workers = match workers {
        0 => None,
        count => {
            let (children, addresses) = Workers::start(dir.path(), count);
            let options = tributary::distributed::WorkerOptions {
                addresses,
                min_bytes: 0,
            };
            let warehouse = engine.catalog().warehouse().clone();
            let workers = tributary::distributed::Workers::connect(options, warehouse)
                .await
                .map_err(|e| e.to_string())?;
            if workers.live().len() != count {
                return Err("not every worker answers".into());
            }
            engine.set_workers(workers);
            Some(children)
        }
    };
    // Files write into their fixtures (new files for jobs to find): each
    // run has its own, so that no run sees another's.
    let fixtures_dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    fixtures::write_local(fixtures_dir.path()).await;
    let fixtures = fixtures_dir.path().to_string_lossy().to_string();
    let mut runner = Runner::new(move || {
        let session = engine.session();
        let fixtures = fixtures.clone();
        async move { Ok(TributaryDb { session, fixtures }) }
    });
    let vars = [
        ("WAREHOUSE", dir.path().to_string_lossy().to_string()),
        (
            "FIXTURES",
            fixtures_dir.path().to_string_lossy().to_string(),
        ),
        ("S3_ENDPOINT", env.s3.endpoint.clone()),
        ("S3_BUCKET", BUCKET.to_string()),
        ("S3_ACCESS_KEY", s3_server::ACCESS_KEY.to_string()),
        ("S3_SECRET_KEY", s3_server::SECRET_KEY.to_string()),
        ("S3_REGION", s3_server::REGION.to_string()),
        ("DEAD_ENDPOINT", env.dead_endpoint.clone()),
    ];
    for (key, value) in vars {
        runner.set_var(key.to_string(), value);
    }
    if workers > 0 {
        runner.add_label("workers");
    }
    if std::env::var_os("SLT_LOG_TYPES").is_some() {
        runner.with_column_validator(log_types);
    } else {
        runner.with_column_validator(sqllogictest::strict_column_validator);
    }
    runner.with_validator(multi_line_validator);
    runner
        .run_file_async(path)
        .await
        .map_err(|e| e.display(true).to_string())
}

fn log_types(actual: &Vec<ColumnType>, expected: &Vec<ColumnType>) -> bool {
    use sqllogictest::ColumnType as _;
    let chars = |v: &Vec<ColumnType>| v.iter().map(|t| t.to_char()).collect::<String>();
    eprintln!("SLT-TYPES {} {}", chars(expected), chars(actual));
    true
}

#[tokio::main]
async fn main() {
    // Arguments cargo passes to test binaries (e.g. --nocapture) are not filters.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let files = slt_files(filter.as_deref());
    let env = environment().await;
    let (mut passed, mut failed) = (0, 0);
    // Each file in one process, then with its queries across two workers.
    for (file, workers) in files.iter().flat_map(|f| [(f, 0), (f, WORKERS)]) {
        let name = file.file_name().unwrap().to_string_lossy();
        let name = match workers {
            0 => name.to_string(),
            n => format!("{name} across {n} workers"),
        };
        if std::env::var_os("SLT_LOG_TYPES").is_some() {
            eprintln!("SLT-FILE {name}");
        }
        match run_file(file, &env, workers).await {
            Ok(()) => {
                passed += 1;
                println!("ok   {name}");
            }
            Err(e) => {
                failed += 1;
                println!("FAIL {name}\n{e}");
            }
        }
    }
    drop(env);
    println!("sqllogictest: {passed} passed, {failed} failed");
    if failed > 0 || files.is_empty() {
        std::process::exit(1);
    }
}
