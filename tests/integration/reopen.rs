//! A warehouse outlives the engine and the process that wrote it.

use std::process::Command;

use tributary::Engine;

use crate::support::{assert_ok, lines, stdout, tributary_command};

#[tokio::test]
async fn reopened_engine_finds_databases_tables_and_rows() {
    let dir = tempfile::tempdir().unwrap();
    let warehouse = dir.path().to_str().unwrap();
    {
        let engine = Engine::open(warehouse).await.unwrap();
        let mut s = engine.session();
        s.sql(
            "CREATE DATABASE a; CREATE DATABASE b;
             CREATE TABLE a.t1 (id INT COMMENT 'the id', d DATE) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 3;
             CREATE TABLE b.t2 (v DOUBLE);
             INSERT INTO a.t1 VALUES (1, '2024-01-02'), (2, '2024-03-04');
             INSERT INTO a.t1 VALUES (3, NULL)",
        )
        .await
        .unwrap();
    }
    let engine = Engine::open(warehouse).await.unwrap();
    let mut s = engine.session();
    assert_eq!(
        lines(&s.sql("SHOW DATABASES").await.unwrap())[3..6],
        [
            "| information_schema |",
            "| a                  |",
            "| b                  |"
        ]
    );
    let rows = s.sql("SELECT id, d FROM a.t1 ORDER BY id").await.unwrap();
    assert_eq!(
        lines(&rows)[3..6],
        [
            "| 1  | 2024-01-02 |",
            "| 2  | 2024-03-04 |",
            "| 3  |            |"
        ]
    );
    let desc = s.execute("DESC a.t1").await.unwrap().pop().unwrap();
    assert!(lines(&desc.batches)[3].contains("the id"));
    assert!(desc.warnings[0].contains("DUPLICATE KEY(id)"));
    // Dropping a table removes its dataset from the warehouse.
    let location = engine.catalog().table("b", "t2").unwrap().location;
    assert!(dir.path().join(&location).exists(), "{location}");
    s.sql("DROP TABLE b.t2").await.unwrap();
    drop(engine);
    let engine = Engine::open(warehouse).await.unwrap();
    let tables = engine.catalog().table_names("b").unwrap();
    assert!(tables.is_empty());
    assert!(!dir.path().join(&location).exists(), "{location}");
}

/// Runs the `tributary` binary with `-e`.
fn tributary(warehouse: &str, sql: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args(["--warehouse", warehouse, "-e", sql])
        .output()
        .expect("tributary binary runs")
}

#[test]
fn a_second_process_reads_what_the_first_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let warehouse = dir.path().to_str().unwrap();
    let first = tributary(
        warehouse,
        "CREATE DATABASE db1; CREATE TABLE db1.tbl1 (k INT, v VARCHAR(10)); \
         INSERT INTO `db1`.`tbl1` VALUES (1, 'one'), (2, 'two');",
    );
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let second = tributary(warehouse, "SELECT k, v FROM db1.tbl1 ORDER BY k;");
    let out = String::from_utf8_lossy(&second.stdout);
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(
        out.contains("| 1 | one |") && out.contains("| 2 | two |"),
        "{out}"
    );
    assert!(out.contains("2 rows in set"), "{out}");
    // Batch mode stops at the first error and exits non-zero.
    let failing = tributary(warehouse, "SELECT * FROM db1.nope; SELECT 1;");
    assert_eq!(failing.status.code(), Some(1));
    let err = String::from_utf8_lossy(&failing.stderr);
    assert!(err.contains("unknown table 'db1.nope'"), "{err}");
    assert!(!String::from_utf8_lossy(&failing.stdout).contains("1 row in set"));
}

/// Times are kept in UTC, so processes in other time zones agree on them;
/// each shows them in its own local time, as Doris prints them.
#[test]
fn processes_in_other_time_zones_agree_on_a_tables_creation_time() {
    let dir = tempfile::tempdir().unwrap();
    let run = |tz: &str, sql: &str| {
        let output = tributary_command(dir.path(), sql)
            .env("TZ", tz)
            .output()
            .unwrap();
        assert_ok(&output);
        stdout(&output)
    };
    run(
        "Asia/Kolkata",
        "CREATE DATABASE d; CREATE TABLE d.t (id INT)",
    );
    let catalog = std::fs::read_to_string(dir.path().join("wh/_tributary/catalog.json")).unwrap();
    let stored: serde_json::Value = serde_json::from_str(&catalog).unwrap();
    let created = stored.to_string();
    assert!(
        created.contains("Z\""),
        "times are stored in UTC: {created}"
    );
    let shown = |tz: &str| {
        let out = run(
            tz,
            "SELECT CREATE_TIME FROM information_schema.tables WHERE TABLE_NAME = 't'",
        );
        let time = out
            .lines()
            .find_map(|l| l.trim().strip_prefix("| 20"))
            .map(|t| format!("20{}", t.trim_end_matches('|').trim()))
            .unwrap_or_else(|| panic!("no time in {out}"));
        chrono::NaiveDateTime::parse_from_str(&time, "%Y-%m-%d %H:%M:%S").unwrap()
    };
    let offset = shown("Asia/Kolkata") - shown("UTC");
    assert_eq!(offset, chrono::Duration::minutes(330));
}
