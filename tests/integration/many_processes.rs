//! Several processes on one warehouse: their changes to the catalog and
//! the job store are read-modify-write against each other (a file lock in
//! a local directory, a conditional PUT on S3), so none is lost. Real
//! processes start at the same moment, on a local warehouse and on the
//! real S3 server.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{
    assert_ok, assert_records_agree, cells_printed, cells_tabbed, s3_warehouse, stdout,
    warehouse_command, Server, RECORDS,
};

/// The `tributary` binary on `warehouse` (its secret key in `root`), with
/// job leases of 2 s.
fn command(root: &Path, warehouse: &str, options: &[String]) -> Command {
    let mut command = warehouse_command(root, warehouse, options);
    command.env("TRIBUTARY_LEASE_TTL_SECS", "2");
    command
}

/// [`command`] with `-e sql`, not yet waited for.
fn spawn(root: &Path, warehouse: &str, options: &[String], sql: &str) -> std::process::Child {
    command(root, warehouse, options)
        .args(["-e", sql])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("tributary runs")
}

/// Writes files `f<i>.csv` of one row (`i,x`) for each `i` of `ids`.
fn put_files(dir: &Path, ids: std::ops::Range<usize>) {
    std::fs::create_dir_all(dir).unwrap();
    for i in ids {
        std::fs::write(dir.join(format!("f{i:04}.csv")), format!("{i},x\n")).unwrap();
    }
}

fn run(root: &Path, warehouse: &str, options: &[String], sql: &str) -> Output {
    spawn(root, warehouse, options, sql)
        .wait_with_output()
        .unwrap()
}

/// Three processes at once each create 8 tables and a job; every table
/// and every job is there afterwards.
fn no_change_is_lost(root: &Path, warehouse: &str, options: &[String]) {
    assert_ok(&run(root, warehouse, options, "CREATE DATABASE d"));
    let children: Vec<_> = (0..3)
        .map(|p| {
            let tables: Vec<String> = (0..8)
                .map(|t| format!("CREATE TABLE d.p{p}_t{t} (id INT)"))
                .collect();
            let sql = format!(
                "{}; CREATE JOB j{p} ON STREAMING DO INSERT INTO d.p{p}_t0 SELECT * FROM S3('uri' = 'file://{}/nonexistent-{p}/*.csv', 'format' = 'csv'); PAUSE JOB WHERE jobName = 'j{p}'; ALTER JOB j{p} PROPERTIES ('max_interval' = '{}s')",
                tables.join("; "),
                root.display(),
                p + 2
            );
            spawn(root, warehouse, options, &sql)
        })
        .collect();
    for child in children {
        assert_ok(&child.wait_with_output().unwrap());
    }
    let shown = run(
        root,
        warehouse,
        options,
        "SHOW TABLES FROM d; SELECT count(*) AS jobs FROM job(type=insert);
         SELECT count(*) AS altered FROM job(type=insert) WHERE Properties LIKE '%max_interval%';",
    );
    assert_ok(&shown);
    let out = stdout(&shown);
    let tables = out.lines().filter(|l| l.starts_with("| p")).count();
    assert_eq!(tables, 24, "every table of every process:\n{out}");
    assert!(
        out.contains("| 3    |"),
        "every job of every process:\n{out}"
    );
    assert!(
        out.contains("| 3       |"),
        "every ALTER of every process:\n{out}"
    );
}

#[test]
fn processes_on_a_local_warehouse_lose_no_change() {
    let root = tempfile::tempdir().unwrap();
    let warehouse = root.path().join("wh");
    no_change_is_lost(root.path(), warehouse.to_str().unwrap(), &[]);
}

#[test]
fn processes_on_an_s3_warehouse_lose_no_change() {
    let root = tempfile::tempdir().unwrap();
    let (_server, warehouse, options) = s3_warehouse("shared-warehouse");
    no_change_is_lost(root.path(), &warehouse, &options);
}

/// Two processes run the same streaming job at once (nothing stops them
/// yet): Lance would rebase one's append onto the other's, but a task's
/// commit is refused once another commit of the job came after the offset
/// it read, so every row is loaded exactly once.
#[test]
fn two_processes_running_one_job_load_every_row_once() {
    let root = tempfile::tempdir().unwrap();
    let warehouse = root.path().join("wh");
    let warehouse = warehouse.to_str().unwrap();
    let source = root.path().join("src");
    std::fs::create_dir_all(&source).unwrap();
    assert_ok(&run(
        root.path(),
        warehouse,
        &[],
        &format!(
            "CREATE DATABASE d; CREATE TABLE d.t (id INT NOT NULL, v STRING);
             CREATE JOB feed ON STREAMING PROPERTIES ('s3.max_batch_files' = '2', 'max_interval' = '1s')
             DO INSERT INTO d.t SELECT * FROM S3('uri' = 'file://{}/*.csv', 'format' = 'csv', 'column_separator' = ',')",
            source.display()
        ),
    ));
    const FILES: usize = 120;
    put_files(&source, 0..FILES);
    let both: Vec<_> = (0..2)
        .map(|_| {
            spawn(
                root.path(),
                warehouse,
                &[],
                "WAIT JOB WHERE jobName = 'feed' TIMEOUT 120",
            )
        })
        .collect();
    for child in both {
        assert_ok(&child.wait_with_output().unwrap());
    }
    let counted = run(
        root.path(),
        warehouse,
        &[],
        "SELECT count(*) AS n, count(DISTINCT id) AS d FROM d.t",
    );
    assert_ok(&counted);
    let out = stdout(&counted);
    assert!(
        out.contains(&format!("| {FILES} | {FILES} |")),
        "every row once:\n{out}"
    );
}

/// The process that runs a job is killed (kill -9) mid-load: its lease
/// expires and another process takes the job over with the next epoch;
/// no row is lost or loaded twice.
#[test]
fn a_killed_holder_is_taken_over_within_the_lease() {
    let root = tempfile::tempdir().unwrap();
    let warehouse = root.path().join("wh");
    let warehouse = warehouse.to_str().unwrap();
    let source = root.path().join("src");
    std::fs::create_dir_all(&source).unwrap();
    let put = |ids: std::ops::Range<usize>| put_files(&source, ids);
    put(0..60);
    paused_feed(
        root.path(),
        &source,
        "'s3.max_batch_files' = '1', 'max_interval' = '1s'",
    );
    let mut holder = Server::start_with(root.path(), &[("TRIBUTARY_LEASE_TTL_SECS", "2")]);
    // Resumed through the server (a process that opens the warehouse may
    // run the job too), which then runs it.
    holder.root("RESUME JOB WHERE jobName = 'feed'");
    holder.wait_for("SELECT ThisProcess FROM job_leases()", "true");
    std::thread::sleep(std::time::Duration::from_millis(300));
    holder.child.kill().unwrap();
    holder.child.wait().unwrap();
    put(60..80);
    let took_over = command(root.path(), warehouse, &[])
        .arg("-e")
        .arg(
            "WAIT JOB WHERE jobName = 'feed' TIMEOUT 60;
             SELECT count(*) AS n, count(DISTINCT id) AS d FROM d.t;
             SELECT ThisProcess, Epoch > 1 AS next_epoch FROM job_leases();",
        )
        .output()
        .unwrap();
    assert_ok(&took_over);
    let out = stdout(&took_over);
    assert!(out.contains("| 80 | 80 |"), "every row once:\n{out}");
    assert!(out.contains("| true        | true       |"), "{out}");
    let records = run(root.path(), warehouse, &[], RECORDS);
    assert_ok(&records);
    assert_records_agree(&cells_printed(&stdout(&records)), 80);
}

/// Three processes on one warehouse run two jobs over the same files into
/// two tables, all at once: each table holds every row once. Local and on
/// S3 (the warehouse on the real S3 server).
fn three_processes_two_jobs(root: &Path, warehouse: &str, options: &[String]) {
    let source = root.join("src");
    std::fs::create_dir_all(&source).unwrap();
    const FILES: usize = 60;
    put_files(&source, 0..FILES);
    let job = |name: &str, table: &str| {
        format!(
            "CREATE TABLE d.{table} (id INT NOT NULL, v STRING);
             CREATE JOB {name} ON STREAMING PROPERTIES ('s3.max_batch_files' = '3', 'max_interval' = '1s')
             DO INSERT INTO d.{table} SELECT * FROM S3('uri' = 'file://{}/*.csv', 'format' = 'csv', 'column_separator' = ',');
             PAUSE JOB WHERE jobName = '{name}';",
            source.display()
        )
    };
    assert_ok(&run(
        root,
        warehouse,
        options,
        &format!("CREATE DATABASE d; {} {}", job("a", "ta"), job("b", "tb")),
    ));
    assert_ok(&run(
        root,
        warehouse,
        options,
        "RESUME JOB WHERE jobName = 'a'; RESUME JOB WHERE jobName = 'b'",
    ));
    let all: Vec<_> = (0..3)
        .map(|_| {
            spawn(
                root,
                warehouse,
                options,
                "WAIT JOB WHERE jobName = 'a' TIMEOUT 120; WAIT JOB WHERE jobName = 'b' TIMEOUT 120",
            )
        })
        .collect();
    for child in all {
        assert_ok(&child.wait_with_output().unwrap());
    }
    let counted = run(
        root,
        warehouse,
        options,
        "SELECT count(*) AS n, count(DISTINCT id) AS d FROM d.ta;
         SELECT count(*) AS n, count(DISTINCT id) AS d FROM d.tb;",
    );
    assert_ok(&counted);
    let out = stdout(&counted);
    assert_eq!(
        out.matches(&format!("| {FILES} | {FILES} |")).count(),
        2,
        "every row once in each table:\n{out}"
    );
}

#[test]
fn three_processes_run_two_jobs_on_a_local_warehouse() {
    let root = tempfile::tempdir().unwrap();
    let warehouse = root.path().join("wh");
    three_processes_two_jobs(root.path(), warehouse.to_str().unwrap(), &[]);
}

#[test]
fn three_processes_run_two_jobs_on_an_s3_warehouse() {
    let root = tempfile::tempdir().unwrap();
    let (_server, warehouse, options) = s3_warehouse("jobs-warehouse");
    three_processes_two_jobs(root.path(), &warehouse, &options);
}

/// A holder stopped (SIGSTOP) past its lease while another process takes
/// the job over, then continued (SIGCONT): whatever it was loading is not
/// committed over the other's work; every row once. On an S3 warehouse,
/// where no process holds a lock (in a local directory a process stopped
/// in the milliseconds it holds the store's file lock holds the others up
/// until it continues).
#[test]
fn a_stopped_holder_that_wakes_up_commits_nothing_twice() {
    let root = tempfile::tempdir().unwrap();
    let (_server, warehouse, options) = s3_warehouse("stopped-warehouse");
    let warehouse = warehouse.as_str();
    let source = root.path().join("src");
    std::fs::create_dir_all(&source).unwrap();
    put_files(&source, 0..80);
    assert_ok(&run(
        root.path(),
        warehouse,
        &options,
        &format!(
            "CREATE DATABASE d; CREATE TABLE d.t (id INT NOT NULL, v STRING);
             CREATE JOB feed ON STREAMING PROPERTIES ('s3.max_batch_files' = '1', 'max_interval' = '1s')
             DO INSERT INTO d.t SELECT * FROM S3('uri' = 'file://{}/*.csv', 'format' = 'csv', 'column_separator' = ',');
             PAUSE JOB WHERE jobName = 'feed'",
            source.display()
        ),
    ));
    // The first holder: resumes the job and loads until stopped.
    let mut first = command(root.path(), warehouse, &options)
        .arg("-e")
        .arg("RESUME JOB WHERE jobName = 'feed'; WAIT JOB WHERE jobName = 'feed' TIMEOUT 120")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let pid = first.id().to_string();
    Command::new("kill").args(["-STOP", &pid]).status().unwrap();
    // Past the lease: the second process takes the job over and loads.
    let second = command(root.path(), warehouse, &options)
        .arg("-e")
        .arg("WAIT JOB WHERE jobName = 'feed' TIMEOUT 120")
        .output()
        .unwrap();
    assert_ok(&second);
    Command::new("kill").args(["-CONT", &pid]).status().unwrap();
    let _ = first.wait();
    // The woken process recorded nothing about the files the other loaded
    // meanwhile (no SKIPPED_LATE, no task or row counted twice).
    let records = run(root.path(), warehouse, &options, RECORDS);
    assert_ok(&records);
    assert_records_agree(&cells_printed(&stdout(&records)), 80);
    let retried = run(
        root.path(),
        warehouse,
        &options,
        &format!(
            "ALTER JOB feed RETRY FILE '{}'",
            source.join("f0040.csv").display()
        ),
    );
    assert!(
        !retried.status.success(),
        "a loaded file is not loaded again"
    );
    let refused = String::from_utf8_lossy(&retried.stderr);
    assert!(
        refused.contains("loading it again would load its rows twice"),
        "{refused}"
    );
}

/// Starts a job `feed` from `d.t`'s `source` directory, created paused
/// with `properties`, on the local warehouse `root/wh`.
fn paused_feed(root: &Path, source: &Path, properties: &str) {
    assert_ok(&run(
        root,
        root.join("wh").to_str().unwrap(),
        &[],
        &format!(
            "CREATE DATABASE d; CREATE TABLE d.t (id INT NOT NULL, v STRING);
             CREATE JOB feed ON STREAMING PROPERTIES ({properties})
             DO INSERT INTO d.t SELECT * FROM S3('uri' = 'file://{}/*.csv', 'format' = 'csv', 'column_separator' = ',');
             PAUSE JOB WHERE jobName = 'feed'",
            source.display()
        ),
    ));
}

/// The holder is killed right after a task's commit, before it recorded
/// the task, while a second server waits for the job: the second takes it
/// over and records the crashed task's commit (ledger, counters, task
/// row) before it goes on, so the records agree with the table and no
/// task id is used twice.
#[test]
fn a_holder_killed_after_its_commit_is_taken_over_with_its_records() {
    let root = tempfile::tempdir().unwrap();
    let source = root.path().join("src");
    put_files(&source, 0..1);
    paused_feed(
        root.path(),
        &source,
        "'s3.max_batch_files' = '10', 'max_interval' = '1s'",
    );
    // Past the first file: the job has nothing to load until the servers
    // run.
    let first = source.join("f0000.csv");
    assert_ok(&run(
        root.path(),
        root.path().join("wh").to_str().unwrap(),
        &[],
        &format!(
            "ALTER JOB feed PROPERTIES ('offset' = '{{\"fileName\":\"{}\"}}')",
            first.display()
        ),
    ));
    let ttl = ("TRIBUTARY_LEASE_TTL_SECS", "2");
    let waiting = Server::start_with(root.path(), &[ttl]);
    let crash = (tributary::ingest::failpoint::CRASH_AT, "after-commit");
    let mut holder = Server::start_with(root.path(), &[ttl, crash]);
    holder.root("RESUME JOB WHERE jobName = 'feed'");
    holder.wait_for("SELECT ThisProcess FROM job_leases()", "true");
    // The waiting server's loop waits for the lease (its scheduler reads
    // the store every 2 s) before the holder has anything to commit.
    std::thread::sleep(std::time::Duration::from_secs(3));
    put_files(&source, 1..101);
    let died = holder.child.wait().unwrap();
    assert!(!died.success(), "the holder crashed after its first commit");
    waiting.wait_for("SELECT count(*) AS n FROM d.t", "n\n100\n");
    waiting.root("WAIT JOB WHERE jobName = 'feed' TIMEOUT 60");
    let holders = waiting.root("SELECT ThisProcess FROM job_leases()");
    assert!(
        holders.contains("true"),
        "the waiting server took over: {holders}"
    );
    assert_records_agree(&cells_tabbed(&waiting.root(RECORDS)), 100);
}

/// Two healthy servers on one warehouse, one job over 200 files: one runs
/// it, the other waits; the counters and tasks() count each task once.
#[test]
fn two_servers_keep_exact_records() {
    let root = tempfile::tempdir().unwrap();
    let source = root.path().join("src");
    put_files(&source, 0..200);
    paused_feed(
        root.path(),
        &source,
        "'s3.max_batch_files' = '4', 'max_interval' = '1s'",
    );
    let ttl = ("TRIBUTARY_LEASE_TTL_SECS", "2");
    let first = Server::start_with(root.path(), &[ttl]);
    let second = Server::start_with(root.path(), &[ttl]);
    first.root("RESUME JOB WHERE jobName = 'feed'");
    second.wait_for("SELECT count(*) AS n FROM d.t", "n\n200\n");
    first.root("WAIT JOB WHERE jobName = 'feed' TIMEOUT 60");
    // Both read the same records, the one that does not run the job too.
    assert_records_agree(&cells_tabbed(&first.root(RECORDS)), 200);
    assert_records_agree(&cells_tabbed(&second.root(RECORDS)), 200);
}

/// While a server runs a job, another process creates a table and a job
/// into it (`tributary -e`, which exits at once): the server sees the new
/// table and runs the new job.
#[test]
fn a_server_running_a_job_picks_up_another_process_s_table_and_job() {
    let root = tempfile::tempdir().unwrap();
    let source = root.path().join("src");
    put_files(&source, 0..5);
    paused_feed(root.path(), &source, "'max_interval' = '1s'");
    let server = Server::start_with(root.path(), &[("TRIBUTARY_LEASE_TTL_SECS", "2")]);
    server.root("RESUME JOB WHERE jobName = 'feed'");
    server.wait_for("SELECT count(*) AS n FROM d.t", "n\n5\n");
    let more = root.path().join("more");
    put_files(&more, 100..103);
    assert_ok(&run(
        root.path(),
        root.path().join("wh").to_str().unwrap(),
        &[],
        &format!(
            "CREATE TABLE d.t2 (id INT NOT NULL, v STRING);
             CREATE JOB second ON STREAMING PROPERTIES ('max_interval' = '1s')
             DO INSERT INTO d.t2 SELECT * FROM S3('uri' = 'file://{}/*.csv', 'format' = 'csv', 'column_separator' = ',')",
            more.display()
        ),
    ));
    put_files(&more, 103..106);
    server.wait_for("SELECT count(*) AS n FROM d.t2", "n\n6\n");
    let state = server.root("SELECT Status, ErrorMsg FROM job(type=insert) WHERE Name = 'second'");
    assert_eq!(state, "Status\tErrorMsg\nRUNNING\tNULL\n");
}
