//! The client's progress line: on a terminal (a pseudo-terminal made by
//! util-linux `script`), a long `INSERT ... SELECT FROM S3()` shows its
//! time, rows and rate on standard error as it runs; in batch mode
//! (standard error a pipe) nothing but the result is printed.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::stdout;

/// A CSV of `rows` rows, and a script that loads it into a new table.
fn long_load(root: &Path, rows: usize) -> std::path::PathBuf {
    let csv: String = (0..rows).map(|i| format!("{i},name {i}\n")).collect();
    std::fs::write(root.join("big.csv"), csv).unwrap();
    let script = root.join("load.sql");
    std::fs::write(
        &script,
        format!(
            "CREATE DATABASE d; CREATE TABLE d.t (id BIGINT, name STRING);
             INSERT INTO d.t SELECT * FROM S3('uri' = 'file://{}/big.csv', 'format' = 'csv', 'column_separator' = ',');
             SELECT count(*) AS n FROM d.t;",
            root.display()
        ),
    )
    .unwrap();
    script
}

/// Whether `text` holds a progress line: `<seconds> s, <rows> rows`.
fn has_progress_line(text: &str) -> bool {
    let line = regex::Regex::new(r"\d+\.\d s, [\d,]+ rows").unwrap();
    line.is_match(text)
}

#[test]
fn a_long_statement_shows_its_progress_on_a_terminal_only() {
    let root = tempfile::tempdir().unwrap();
    let script = long_load(root.path(), 1_500_000);

    let batch = client(root.path(), &script).output().unwrap();
    let stderr = String::from_utf8_lossy(&batch.stderr);
    assert!(batch.status.success(), "{stderr}");
    assert!(stdout(&batch).contains("1500000"), "{}", stdout(&batch));
    assert!(!has_progress_line(&stderr), "batch mode is quiet: {stderr}");

    // The same client on a terminal: `script` runs it on a pseudo-terminal
    // and copies what it printed there to its own standard output.
    std::fs::remove_dir_all(root.path().join("wh")).unwrap();
    let client = client(root.path(), &script);
    let line: Vec<String> = std::iter::once(client.get_program())
        .chain(client.get_args())
        .map(|arg| format!("'{}'", arg.to_str().unwrap()))
        .collect();
    let mut on_terminal = Command::new("script");
    on_terminal
        .args(["-q", "-e", "-c", &line.join(" "), "/dev/null"])
        .stdin(Stdio::null())
        .env("TERM", "xterm");
    for (key, value) in client.get_envs() {
        match value {
            Some(value) => on_terminal.env(key, value),
            None => on_terminal.env_remove(key),
        };
    }
    let shown = on_terminal.output().expect("util-linux script runs");
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.status.success(), "{text}");
    assert!(text.contains("1500000"), "{text}");
    assert!(has_progress_line(&text), "a progress line: {text:?}");
}

/// The client on the warehouse `root/wh`, running `script` in batch mode.
fn client(root: &Path, script: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tributary"));
    command
        .args(["--warehouse", root.join("wh").to_str().unwrap()])
        .args(["-f", script.to_str().unwrap()])
        .env("TRIBUTARY_SECRET_KEY_FILE", root.join("secret.key"))
        .env("TRIBUTARY_LOCAL_FILES", root)
        .env_remove(tributary::ingest::failpoint::CRASH_AT);
    command
}
