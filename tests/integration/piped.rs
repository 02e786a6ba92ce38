//! The client fed by a pipe (`program | tributary`): each statement runs as
//! soon as its terminator arrives, and the first error ends the process,
//! whether or not the writer has finished.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use crate::support::warehouse_command;

const PATIENCE: Duration = Duration::from_secs(60);

/// The client on the warehouse `root/wh` reading standard input from a
/// pipe, and the lines it prints as they come.
fn piped_client(root: &Path) -> (Child, ChildStdin, Receiver<String>) {
    let warehouse = root.join("wh");
    let mut child = warehouse_command(root, warehouse.to_str().unwrap(), &[])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tributary binary runs");
    let input = child.stdin.take().unwrap();
    let output = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(output).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    (child, input, lines)
}

/// Reads printed lines into `seen` until one holds `text`.
fn wait_for(lines: &Receiver<String>, text: &str, seen: &mut String) {
    let deadline = Instant::now() + PATIENCE;
    while !seen.contains(text) {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                seen.push_str(&line);
                seen.push('\n');
            }
            Err(_) => panic!("{text:?} not printed while the pipe stays open; printed: {seen}"),
        }
    }
}

#[test]
fn piped_statements_run_as_they_arrive() {
    let root = tempfile::tempdir().unwrap();
    let (mut child, mut input, lines) = piped_client(root.path());
    let mut seen = String::new();
    writeln!(input, "SELECT 'first' AS a;").unwrap();
    wait_for(&lines, "first", &mut seen);
    // What follows a terminator waits, as written, for the rest.
    writeln!(input, "SELECT 'second' AS b; SELECT").unwrap();
    wait_for(&lines, "second", &mut seen);
    write!(input, "'third'\nAS c;\nSELECT 'fourth' AS d").unwrap();
    drop(input);
    let status = child.wait().unwrap();
    seen.extend(lines.iter().map(|line| line + "\n"));
    let mut errors = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut errors).unwrap();
    assert!(status.success(), "stdout: {seen}\nstderr: {errors}");
    assert!(seen.contains("third") && seen.contains("fourth"), "{seen}");
    assert!(errors.is_empty(), "{errors}");
}

#[test]
fn a_piped_script_ends_at_its_first_error_while_the_pipe_stays_open() {
    let root = tempfile::tempdir().unwrap();
    let (mut child, mut input, lines) = piped_client(root.path());
    writeln!(input, "SELECT 'ran' AS a;\nSELEC 2;\nSELECT 'never' AS b;").unwrap();
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the client still runs after a failed statement"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(input);
    let seen: String = lines.iter().map(|line| line + "\n").collect();
    let mut errors = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut errors).unwrap();
    assert_eq!(status.code(), Some(1), "stdout: {seen}\nstderr: {errors}");
    assert!(seen.contains("ran") && !seen.contains("never"), "{seen}");
    assert!(errors.starts_with("ERROR: "), "{errors}");
}
