//! Table maintenance under a continuous load: compactions and version
//! cleanups that race a job's appends leave every row once, and the job's
//! records agree with the table.

use std::time::Duration;

use tributary::Engine;

use crate::support::{lines, one_file_a_commit_job, query, wait_for_job, Server};

const FILES: usize = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compactions_racing_a_job_leave_every_row_once() {
    let dir = tempfile::tempdir().unwrap();
    let engine = one_file_a_commit_job(dir.path(), FILES).await;
    // Compact and remove every old version the job does not need, over
    // and over, while the job commits one file at a time.
    let compactor = {
        let engine = engine.clone();
        tokio::spawn(async move {
            let mut rounds = 0;
            let mut compacted = 0;
            loop {
                let job = engine.jobs().job("feed").unwrap();
                if job.succeed_task_count as usize >= FILES {
                    return (rounds, compacted);
                }
                let done = engine
                    .session()
                    .sql("ADMIN COMPACT TABLE db1.t")
                    .await
                    .unwrap();
                let removed: usize = lines(&done)[3]
                    .split('|')
                    .nth(1)
                    .unwrap()
                    .trim()
                    .parse()
                    .unwrap();
                compacted += usize::from(removed > 0);
                rounds += 1;
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        })
    };
    wait_for_job(&engine, "feed", "every file loaded", |j| {
        j.succeed_task_count as usize >= FILES
    })
    .await;
    let (rounds, compacted) = compactor.await.unwrap();
    assert!(
        compacted >= 2,
        "compactions ran between the commits: {compacted} of {rounds}"
    );
    let sum: usize = (1..=FILES).sum();
    let rows = query(
        &engine,
        "SELECT count(*) AS n, count(DISTINCT id) AS d, sum(id) AS s FROM db1.t",
    )
    .await;
    assert!(
        rows.contains(&format!("| {FILES} | {FILES} | {sum} |")),
        "every row once:\n{rows}"
    );
    let job = query(
        &engine,
        "SELECT SucceedTaskCount AS ok, FailedTaskCount AS failed FROM job(type=insert)",
    )
    .await;
    assert!(job.contains(&format!("| {FILES} | 0      |")), "{job}");
    let ledger = query(&engine, "SELECT count(*) AS files, sum(LoadedRows) AS loaded FROM job_files(job = 'feed') WHERE Status = 'LOADED'").await;
    assert!(
        ledger.contains(&format!("| {FILES}    | {FILES}     |")),
        "{ledger}"
    );
    // A last compaction leaves the table as one load would have.
    query(&engine, "ADMIN COMPACT TABLE db1.t").await;
    let status = engine
        .session()
        .sql("SHOW TABLE STATUS FROM db1")
        .await
        .unwrap();
    let status = lines(&status);
    let columns: Vec<&str> = status[1].split('|').map(str::trim).collect();
    let values: Vec<&str> = status[3].split('|').map(str::trim).collect();
    let value = |name: &str| values[columns.iter().position(|c| *c == name).unwrap()];
    assert_eq!(
        (value("Rows"), value("Fragments"), value("Versions")),
        (FILES.to_string().as_str(), "1", "1"),
        "{status:?}"
    );
    for noted in ["Last_compaction_time", "Last_cleanup_time"] {
        assert!(
            chrono::NaiveDateTime::parse_from_str(value(noted), "%Y-%m-%d %H:%M:%S").is_ok(),
            "{noted}: {status:?}"
        );
    }
}

/// Data files no version references (a killed writer's) are removed once
/// Lance takes them for abandoned, a week old; newer ones may be a
/// running writer's and stay. The table's rows are untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_files_go_after_a_week_and_newer_ones_stay() {
    let dir = tempfile::tempdir().unwrap();
    let warehouse = dir.path().join("wh");
    let engine = Engine::open(warehouse.to_str().unwrap()).await.unwrap();
    query(
        &engine,
        "CREATE DATABASE db1; CREATE TABLE db1.t (id INT); INSERT INTO db1.t VALUES (1), (2)",
    )
    .await;
    let data = warehouse
        .join(engine.catalog().table("db1", "t").unwrap().location)
        .join("data");
    let old = data.join("0b5e5e5e-dead-4bee-8f00-000000000001.lance");
    let new = data.join("0b5e5e5e-dead-4bee-8f00-000000000002.lance");
    for file in [&old, &new] {
        std::fs::write(file, b"a file its writer never committed").unwrap();
    }
    let eight_days = Duration::from_secs(8 * 24 * 3600);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - eight_days)
        .unwrap();
    query(&engine, "ADMIN COMPACT TABLE db1.t").await;
    assert!(!old.exists(), "a week-old abandoned file is removed");
    assert!(new.exists(), "a new one may be a writer's: it stays");
    assert!(query(&engine, "SELECT sum(id) AS s FROM db1.t")
        .await
        .contains("| 3 |"));
}

/// A server maintains its tables by itself, as their properties say: the
/// table with automatic compaction ends with one fragment and one
/// version, the one with compaction off keeps its fragments (its old
/// versions go all the same), and an index comes to cover the fragments
/// committed after it was built.
#[test]
fn a_server_maintains_its_tables_by_itself() {
    let root = tempfile::tempdir().unwrap();
    let server = Server::start_with(root.path(), &[("TRIBUTARY_MAINTENANCE_SECS", "1")]);
    let inserts: String = (1..=6)
        .flat_map(|i| {
            [
                format!("INSERT INTO d.auto VALUES ({i});"),
                format!("INSERT INTO d.off VALUES ({i});"),
                format!("INSERT INTO d.indexed VALUES ({i});"),
            ]
        })
        .collect();
    server.root(&format!(
        r#"CREATE DATABASE d;
           CREATE TABLE d.auto (id INT) PROPERTIES ("compaction.min_small_fragments" = "2", "version_retention" = "0");
           CREATE TABLE d.off (id INT) PROPERTIES ("compaction" = "off", "version_retention" = "0");
           CREATE TABLE d.indexed (id INT);
           INSERT INTO d.indexed VALUES (0);
           CREATE INDEX idx_id ON d.indexed (id) USING BTREE;
           {inserts}"#
    ));
    // MySQL's columns, ending with an empty Comment, then Versions,
    // Fragments, Small_fragments, Deleted_rows.
    server.wait_for("SHOW TABLE STATUS FROM d LIKE 'auto'", "\t\t1\t1\t1\t0\t");
    server.wait_for("SHOW TABLE STATUS FROM d LIKE 'off'", "\t\t1\t6\t6\t0\t");
    // Last_compaction_time, Last_cleanup_time: the table with compaction
    // off was only cleaned.
    let noted = |compacted: bool| {
        move |out: &str| {
            let row: Vec<&str> = out.lines().nth(1).unwrap_or("").split('\t').collect();
            let time = |field: Option<&&str>| field.is_some_and(|t| t.starts_with("20"));
            row.len() == 25 && time(row.get(23)) == compacted && time(row.get(24))
        }
    };
    let what = "a cleanup time, and a compaction time for the table compacted";
    server.wait_until("SHOW TABLE STATUS FROM d LIKE 'off'", what, noted(false));
    server.wait_until("SHOW TABLE STATUS FROM d LIKE 'auto'", what, noted(true));
    // Key_name, ..., Index_type, Comment, Properties, Unindexed_fragments.
    server.wait_for("SHOW INDEX FROM d.indexed", "idx_id\t1\tid\t");
    server.wait_for("SHOW INDEX FROM d.indexed", "BTREE\t\t\t0\n");
    let plan = server.root("EXPLAIN SELECT * FROM d.indexed WHERE id = 5");
    assert!(
        plan.contains("ScalarIndexQuery: query=[id = 5]@idx_id(BTree)"),
        "{plan}"
    );
    assert_eq!(
        server.root("SELECT count(*) AS n, sum(id) AS s FROM d.auto"),
        "n\ts\n6\t21\n"
    );
    assert!(
        server.log().contains("table maintained"),
        "{}",
        server.log()
    );
    assert!(server.stop());
}
