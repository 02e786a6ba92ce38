//! Several processes on one warehouse: their changes to the catalog and
//! the job store are read-modify-write against each other (a file lock in
//! a local directory, a conditional PUT on S3), so none is lost. Real
//! processes start at the same moment, on a local warehouse and on the
//! real S3 server.

use std::path::Path;
use std::process::{Command, Output};

use crate::s3_server::{S3Server, ACCESS_KEY, REGION, SECRET_KEY};
use crate::support::{assert_ok, stdout};

/// The `tributary` binary on `warehouse` with `-e sql`, not yet waited for.
fn spawn(root: &Path, warehouse: &str, options: &[String], sql: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args(["--warehouse", warehouse])
        .args(
            options
                .iter()
                .flat_map(|o| ["--storage-option", o.as_str()]),
        )
        .args(["-e", sql])
        .env("TRIBUTARY_SECRET_KEY_FILE", root.join("secret.key"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("tributary runs")
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
                "{}; CREATE JOB j{p} ON STREAMING DO INSERT INTO d.p{p}_t0 SELECT * FROM S3('uri' = 'file:///nonexistent-{p}/*.csv', 'format' = 'csv'); PAUSE JOB WHERE jobName = 'j{p}'",
                tables.join("; ")
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
        "SHOW TABLES FROM d; SELECT count(*) AS jobs FROM job(type=insert);",
    );
    assert_ok(&shown);
    let out = stdout(&shown);
    let tables = out.lines().filter(|l| l.starts_with("| p")).count();
    assert_eq!(tables, 24, "every table of every process:\n{out}");
    assert!(
        out.contains("| 3    |"),
        "every job of every process:\n{out}"
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
    let server = S3Server::start();
    server.create_bucket("shared-warehouse");
    let options = vec![
        format!("s3.endpoint={}", server.endpoint),
        format!("s3.region={REGION}"),
        format!("s3.access_key={ACCESS_KEY}"),
        format!("s3.secret_key={SECRET_KEY}"),
    ];
    no_change_is_lost(root.path(), "s3://shared-warehouse/wh", &options);
}
