//! Runs every `sqllogictest/*.slt` file, each against a fresh temporary
//! warehouse. `cargo test --test sqllogictests -- NAME` runs the files whose
//! name contains NAME.
//!
//! Files that read sources use `control substitution on` and these
//! variables: `${FIXTURES}` (a local directory of fixture files),
//! `${S3_ENDPOINT}`, `${S3_BUCKET}`, `${S3_ACCESS_KEY}`, `${S3_SECRET_KEY}`,
//! `${S3_REGION}` (a real S3-compatible server on 127.0.0.1 holding the
//! same fixtures) and `${DEAD_ENDPOINT}` (a loopback port nobody listens on).

#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/s3_server.rs"]
mod s3_server;

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType, Runner};
use tributary::{Engine, ResultKind, Session, StatementResult};

/// One sqllogictest connection: a tributary session.
struct TributaryDb {
    session: Session,
}

#[async_trait]
impl AsyncDB for TributaryDb {
    type Error = tributary::Error;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, Self::Error> {
        let results = self.session.execute(sql).await?;
        Ok(match results.last() {
            None => DBOutput::StatementComplete(0),
            Some(result) => to_output(result),
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

fn to_output(result: &StatementResult) -> DBOutput<DefaultColumnType> {
    match result.kind {
        ResultKind::Affected(n) => DBOutput::StatementComplete(n),
        ResultKind::Rows => {
            let options = FormatOptions::default().with_null("NULL");
            let mut rows = Vec::new();
            for batch in &result.batches {
                let formatters: Vec<_> = batch
                    .columns()
                    .iter()
                    .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).expect("formattable"))
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
                types: vec![DefaultColumnType::Any; result.schema.fields().len()],
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

/// Shared state of a run: the fixtures and the S3 server.
struct Environment {
    fixtures: tempfile::TempDir,
    s3: s3_server::S3Server,
    dead_endpoint: String,
}

const BUCKET: &str = "tributary-test";

async fn environment() -> Environment {
    let fixtures = tempfile::tempdir().expect("temp dir");
    fixtures::write_local(fixtures.path()).await;
    let s3 = s3_server::S3Server::start();
    s3.create_bucket(BUCKET);
    fixtures::upload(s3.store(BUCKET).as_ref()).await;
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    Environment {
        fixtures,
        s3,
        dead_endpoint: format!("http://127.0.0.1:{dead_port}"),
    }
}

async fn run_file(path: &Path, env: &Environment) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let engine = Engine::open(dir.path().to_str().expect("utf-8 temp path"))
        .await
        .map_err(|e| e.to_string())?;
    let mut runner = Runner::new(move || {
        let session = engine.session();
        async move { Ok(TributaryDb { session }) }
    });
    let vars = [
        ("WAREHOUSE", dir.path().to_string_lossy().to_string()),
        (
            "FIXTURES",
            env.fixtures.path().to_string_lossy().to_string(),
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
    runner.with_column_validator(sqllogictest::default_column_validator);
    runner.with_validator(multi_line_validator);
    runner
        .run_file_async(path)
        .await
        .map_err(|e| e.display(true).to_string())
}

#[tokio::main]
async fn main() {
    // Arguments cargo passes to test binaries (e.g. --nocapture) are not filters.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let files = slt_files(filter.as_deref());
    let env = environment().await;
    let (mut passed, mut failed) = (0, 0);
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy();
        match run_file(file, &env).await {
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
