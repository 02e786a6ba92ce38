//! `--log-format json`: one JSON object a line on stderr, and one
//! `task finished` event per task with what a log shipper counts.

use std::process::Command;

/// The JSON events a `tributary -e` run wrote, failing on any stderr line
/// that is not one.
fn json_events(stderr: &str) -> Vec<serde_json::Value> {
    stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

#[test]
fn json_logs_have_one_event_per_task() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("in");
    std::fs::create_dir(&files).unwrap();
    for (name, rows) in [
        ("a.csv", "1,x\n2,y\n"),
        ("b.csv", "3,z\n"),
        ("c.csv", "4,w\n"),
    ] {
        std::fs::write(files.join(name), rows).unwrap();
    }
    let sql = format!(
        "CREATE DATABASE d; CREATE TABLE d.t (id INT NOT NULL, name STRING); \
         CREATE JOB feed PROPERTIES (\"s3.max_batch_files\" = \"2\", \"max_interval\" = \"1s\") ON STREAMING \
         DO INSERT INTO d.t SELECT * FROM S3(\"uri\" = \"file://{}/*.csv\", \"format\" = \"csv\", \"column_separator\" = \",\"); \
         WAIT JOB WHERE jobName = 'feed' TIMEOUT 60",
        files.display()
    );
    let output = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args(["--warehouse", dir.path().join("wh").to_str().unwrap()])
        .args(["--log-format", "json", "-e", &sql])
        .env("TRIBUTARY_SECRET_KEY_FILE", dir.path().join("secret.key"))
        .env("TRIBUTARY_LOCAL_FILES", dir.path())
        .env("RUST_LOG", "warn,tributary::task=info")
        .output()
        .expect("tributary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let tasks: Vec<serde_json::Value> = json_events(&stderr)
        .into_iter()
        .filter(|e| e["message"] == "task finished")
        .collect();
    let summary: Vec<(u64, u64, u64, &str, &str)> = tasks
        .iter()
        .map(|e| {
            assert!(e["duration_ms"].as_u64().is_some(), "{e}");
            assert!(e["bytes"].as_u64().unwrap() > 0, "{e}");
            (
                e["task"].as_u64().unwrap(),
                e["files"].as_u64().unwrap(),
                e["rows"].as_u64().unwrap(),
                e["outcome"].as_str().unwrap(),
                e["table"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [(1, 2, 3, "SUCCESS", "d.t"), (2, 1, 1, "SUCCESS", "d.t")],
        "{stderr}"
    );
    assert!(tasks
        .iter()
        .all(|e| e["job"] == "feed" && e["level"] == "INFO"));
}
