//! Helpers shared by the integration tests.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use tributary::job::Job;
use tributary::Engine;

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

/// Runs the `tributary` binary on the warehouse `root/wh` with `-e sql`
/// (its secret key in `root`), crashing at `crash_at` when given.
pub fn tributary(root: &Path, sql: &str, crash_at: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tributary"));
    command
        .args(["--warehouse", root.join("wh").to_str().unwrap(), "-e", sql])
        .env("TRIBUTARY_SECRET_KEY_FILE", root.join("secret.key"))
        .env_remove(tributary::ingest::failpoint::CRASH_AT);
    if let Some(point) = crash_at {
        command.env(tributary::ingest::failpoint::CRASH_AT, point);
    }
    command.output().expect("tributary binary runs")
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
