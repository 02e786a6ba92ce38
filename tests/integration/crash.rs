//! Crash recovery: a real `tributary` process running a streaming job is
//! killed (aborted, like `kill -9`: no destructor, no flush) at an exact
//! step of a task, then a new process on the same warehouse finishes the
//! job. Every file must be loaded exactly once whatever the step.

use std::path::Path;

use crate::support::{assert_ok, stdout, tributary};

/// Six files of two rows; the job loads two files per task.
const FILES: usize = 6;

fn put_files(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for i in 1..=FILES {
        let id = i * 10;
        std::fs::write(
            dir.join(format!("part-{i:03}.csv")),
            format!("{id},a\n{},b\n", id + 1),
        )
        .unwrap();
    }
}

/// Creates the table and a paused job, crashes the first task at `point`,
/// restarts, and checks that every row is there exactly once.
/// Creates the table and the paused job `feed` (two files per task, and
/// `properties`) over `source`, then resumes it in a process that dies at
/// crash point `point`.
fn crash_the_first_task(root: &Path, source: &Path, properties: &str, point: &str) {
    assert_ok(&tributary(
        root,
        &format!(
            "CREATE DATABASE db1; CREATE TABLE db1.t (id INT NOT NULL, v STRING);
             CREATE JOB feed ON STREAMING PROPERTIES ('s3.max_batch_files' = '2', 'max_interval' = '1s'{properties})
             DO INSERT INTO db1.t SELECT * FROM S3('uri' = 'file://{}/part-*.csv', 'format' = 'csv', 'column_separator' = ',');
             PAUSE JOB WHERE jobName = 'feed';",
            source.display()
        ),
        None,
    ));
    let crashed = tributary(
        root,
        "RESUME JOB WHERE jobName = 'feed'; WAIT JOB WHERE jobName = 'feed' TIMEOUT 60;",
        Some(point),
    );
    assert!(
        !crashed.status.success(),
        "the process should have died at '{point}': {}",
        stdout(&crashed)
    );
    assert!(
        String::from_utf8_lossy(&crashed.stderr).contains(&format!("crash point '{point}'")),
        "{}",
        String::from_utf8_lossy(&crashed.stderr)
    );
}

fn crash_and_recover(point: &str) {
    let root = tempfile::tempdir().unwrap();
    let source = root.path().join("src");
    put_files(&source);
    crash_the_first_task(root.path(), &source, "", point);

    // The new process resumes the job (it was RUNNING) and catches up.
    let recovered = tributary(
        root.path(),
        "WAIT JOB WHERE jobName = 'feed' TIMEOUT 60;
         SELECT count(*) AS n, count(DISTINCT id) AS d, sum(id) AS s FROM db1.t;
         SELECT CurrentOffset LIKE '%part-006.csv%' AS at_end, Status FROM job(type=insert);
         SELECT SucceedTaskCount AS ok, LoadStatistic AS stats FROM job(type=insert);
         SELECT count(*) AS tasks FROM tasks(type='insert') WHERE Status = 'SUCCESS';
         SELECT count(*) AS ledger_files, sum(LoadedRows) AS ledger_rows, count(DISTINCT TaskId) AS ledger_tasks FROM job_files(job = 'feed') WHERE Status = 'LOADED';",
        None,
    );
    assert_ok(&recovered);
    let out = stdout(&recovered);
    let sum: usize = (1..=FILES).map(|i| 2 * i * 10 + 1).sum();
    assert!(
        out.contains(&format!("| 12 | 12 | {sum} |")),
        "after a crash at '{point}' every row must be loaded exactly once:\n{out}"
    );
    assert!(out.contains("| true   | RUNNING |"), "{out}");
    // The counters count every batch once, the one committed just before
    // the crash included.
    assert!(
        out.contains(r#"| 3  | {"scannedRows":12,"loadBytes":60,"fileNumber":6,"fileSize":60} |"#),
        "after a crash at '{point}' the job's counters must match its rows:\n{out}"
    );
    assert!(out.contains("| 3     |"), "three SUCCESS tasks:\n{out}");
    // The file ledger agrees with the rows: six files LOADED by three
    // tasks, twelve rows.
    assert!(
        out.contains("| 6            | 12          | 3            |"),
        "after a crash at '{point}' the file ledger must match the rows:\n{out}"
    );
}

#[test]
fn crash_while_reading_a_batch() {
    crash_and_recover("during-read");
}

#[test]
fn crash_after_writing_before_the_commit() {
    crash_and_recover("before-commit");
}

#[test]
fn crash_between_the_data_commit_and_the_job_store() {
    crash_and_recover("after-commit");
}

/// The holder died between a commit and its record in the job store;
/// before another process takes the job over, a commit of another writer
/// and a compaction that removes every old version it may: the version
/// that holds the unrecorded commit stays, and the new holder records it
/// instead of loading its files again.
#[test]
fn a_commit_the_store_missed_outlives_a_compaction() {
    let root = tempfile::tempdir().unwrap();
    let source = root.path().join("src");
    put_files(&source);
    crash_the_first_task(root.path(), &source, "", "after-commit");
    let compacted = tributary(
        root.path(),
        "INSERT INTO db1.t VALUES (1000, 'x'); ADMIN COMPACT TABLE db1.t;",
        None,
    );
    assert_ok(&compacted);
    assert!(
        stdout(&compacted).contains("| 2                | 1              |"),
        "the two fragments were compacted into one:\n{}",
        stdout(&compacted)
    );
    let recovered = tributary(
        root.path(),
        "WAIT JOB WHERE jobName = 'feed' TIMEOUT 60;
         SELECT count(*) AS n, count(DISTINCT id) AS d, sum(id) AS s FROM db1.t;",
        None,
    );
    assert_ok(&recovered);
    let sum: usize = (1..=FILES).map(|i| 2 * i * 10 + 1).sum::<usize>() + 1000;
    let out = stdout(&recovered);
    assert!(
        out.contains(&format!("| 13 | 13 | {sum} |")),
        "every row once after the compaction:\n{out}"
    );
}

/// With `s3.on_file_error` = `skip`, a crash after a bad file was put in
/// the ledger as QUARANTINED but before the offset moved past it: the new
/// process sets the same file aside again and loads every good row once.
#[test]
fn crash_while_quarantining_a_bad_file() {
    let root = tempfile::tempdir().unwrap();
    let source = root.path().join("src");
    put_files(&source);
    std::fs::write(source.join("part-002.csv"), "x,bad\n21,b\n").unwrap();
    crash_the_first_task(
        root.path(),
        &source,
        ", 's3.on_file_error' = 'skip'",
        "after-quarantine",
    );
    let recovered = tributary(
        root.path(),
        "WAIT JOB WHERE jobName = 'feed' TIMEOUT 60;
         SELECT count(*) AS n, count(DISTINCT id) AS d, sum(id) AS s FROM db1.t;
         SELECT Status, CurrentOffset LIKE '%part-006.csv%' AS at_end FROM job(type=insert);
         SELECT Status AS file_status, count(*) AS files, sum(LoadedRows) AS rows FROM job_files(job = 'feed') GROUP BY Status ORDER BY Status;",
        None,
    );
    assert_ok(&recovered);
    let out = stdout(&recovered);
    // Every row but those of part-002 (20's file), once.
    let sum: usize = (1..=FILES)
        .filter(|&i| i != 2)
        .map(|i| 2 * i * 10 + 1)
        .sum();
    assert!(
        out.contains(&format!("| 10 | 10 | {sum} |")),
        "every good row once:\n{out}"
    );
    assert!(out.contains("| RUNNING | true   |"), "{out}");
    assert!(out.contains("| LOADED      | 5     | 10   |"), "{out}");
    assert!(out.contains("| QUARANTINED | 1     | NULL |"), "{out}");
}

/// With `s3.late_files` = `load`, a crash between the commit that loaded a
/// late file and the job store: the new process knows from the commit
/// that the file is loaded and does not load it again.
#[test]
fn crash_after_loading_a_late_file() {
    let root = tempfile::tempdir().unwrap();
    let source = root.path().join("src");
    put_files(&source);
    assert_ok(&tributary(
        root.path(),
        &format!(
            "CREATE DATABASE db1; CREATE TABLE db1.t (id INT NOT NULL, v STRING);
             CREATE JOB feed ON STREAMING PROPERTIES ('max_interval' = '1s', 's3.late_files' = 'load')
             DO INSERT INTO db1.t SELECT * FROM S3('uri' = 'file://{}/part-*.csv', 'format' = 'csv', 'column_separator' = ',');
             WAIT JOB WHERE jobName = 'feed' TIMEOUT 60;",
            source.display()
        ),
        None,
    ));
    // Sorts between part-002.csv and part-003.csv: below the offset.
    std::fs::write(source.join("part-0025.csv"), "25,late\n").unwrap();
    let crashed = tributary(
        root.path(),
        "WAIT JOB WHERE jobName = 'feed' TIMEOUT 60;",
        Some("after-commit"),
    );
    assert!(!crashed.status.success(), "{}", stdout(&crashed));
    let recovered = tributary(
        root.path(),
        "WAIT JOB WHERE jobName = 'feed' TIMEOUT 60;
         SELECT count(*) AS n, count(DISTINCT id) AS d, sum(id) AS s FROM db1.t;
         SELECT CurrentOffset LIKE '%part-006.csv%' AS at_end, SucceedTaskCount AS ok FROM job(type=insert);
         SELECT Status AS file_status, count(*) AS files, sum(LoadedRows) AS rows FROM job_files(job = 'feed') GROUP BY Status;",
        None,
    );
    assert_ok(&recovered);
    let out = stdout(&recovered);
    let sum: usize = (1..=FILES).map(|i| 2 * i * 10 + 1).sum::<usize>() + 25;
    assert!(
        out.contains(&format!("| 13 | 13 | {sum} |")),
        "the late file's row once:\n{out}"
    );
    assert!(out.contains("| true   | 2  |"), "{out}");
    assert!(out.contains("| LOADED      | 7     | 13   |"), "{out}");
}
