//! Privileges of a non-root session user (the user comes from the API).

use tributary::{Engine, Error};

use crate::s3_server::S3Server;
use crate::support::{lines, s3_source};

fn denied(err: Error, privilege: &str, scope: &str) {
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "access denied for user 'alice': needs {privilege} on {scope}"
        )),
        "{message}"
    );
}

#[tokio::test]
async fn privileges_gate_loading_querying_jobs_and_ddl() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path().to_str().unwrap()).await.unwrap();
    let mut root = engine.session();
    root.sql(
        "CREATE DATABASE db1; CREATE DATABASE db2;
         CREATE TABLE db1.t (id INT); CREATE TABLE db2.t (id INT);
         INSERT INTO db1.t VALUES (1); CREATE USER alice",
    )
    .await
    .unwrap();
    // Object storage: local files take ADMIN_PRIV.
    let server = S3Server::start();
    server.create_bucket("src");
    let job = format!(
        "CREATE JOB j ON STREAMING DO INSERT INTO db1.t SELECT * FROM {}",
        s3_source(&server, "src", "none/*.csv")
    );
    let job = job.as_str();

    let mut alice = engine.session_as("alice");
    denied(
        alice.sql("SELECT * FROM db1.t").await.unwrap_err(),
        "SELECT_PRIV",
        "db1.t",
    );
    denied(
        alice.sql("INSERT INTO db1.t VALUES (2)").await.unwrap_err(),
        "LOAD_PRIV",
        "db1.t",
    );
    denied(alice.sql(job).await.unwrap_err(), "LOAD_PRIV", "db1.t");
    denied(
        alice.sql("CREATE TABLE db1.u (a INT)").await.unwrap_err(),
        "ADMIN_PRIV",
        "db1.*",
    );
    denied(
        alice.sql("CREATE DATABASE db3").await.unwrap_err(),
        "ADMIN_PRIV",
        "*.*",
    );
    denied(
        alice.sql("CREATE USER bob").await.unwrap_err(),
        "ADMIN_PRIV",
        "*.*",
    );
    // Nothing changed.
    assert_eq!(
        lines(&root.sql("SELECT count(*) FROM db1.t").await.unwrap())[3],
        "| 1        |"
    );
    assert!(engine.jobs().jobs().is_empty());

    root.sql("GRANT LOAD_PRIV ON db1.* TO alice").await.unwrap();
    alice.sql("INSERT INTO db1.t VALUES (2)").await.unwrap();
    alice.sql(job).await.unwrap();
    alice.sql("PAUSE JOB WHERE jobName = 'j'").await.unwrap();
    assert_eq!(engine.jobs().job("j").unwrap().definer, "alice");
    // Loading from another table reads it: SELECT_PRIV is needed there too.
    denied(
        alice
            .sql("INSERT INTO db1.t SELECT id FROM db1.t")
            .await
            .unwrap_err(),
        "SELECT_PRIV",
        "db1.t",
    );
    denied(
        alice.sql("INSERT INTO db2.t VALUES (1)").await.unwrap_err(),
        "LOAD_PRIV",
        "db2.t",
    );

    // Another user cannot control alice's job without LOAD_PRIV on db1.
    root.sql("CREATE USER eve").await.unwrap();
    let err = engine
        .session_as("eve")
        .sql("DROP JOB WHERE jobName = 'j'")
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("needs LOAD_PRIV on db1.t"),
        "{err}"
    );
    assert!(engine.jobs().job("j").is_ok());

    root.sql("GRANT SELECT_PRIV ON db1.* TO alice")
        .await
        .unwrap();
    let rows = alice.sql("SELECT count(*) FROM db1.t").await.unwrap();
    assert_eq!(lines(&rows)[3], "| 2        |");
}

/// Doris's table-level grants: `GRANT LOAD_PRIV ON db1.tbl1` allows loading
/// that table (and creating and controlling jobs into it) and nothing else
/// in db1; `job()` and `tasks()` show a user only the jobs whose target
/// table they may load.
#[tokio::test]
async fn table_grants_scope_loads_reads_and_the_jobs_a_user_sees() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path().to_str().unwrap()).await.unwrap();
    let mut root = engine.session();
    // Object storage: local files take ADMIN_PRIV.
    let server = S3Server::start();
    server.create_bucket("src");
    let source = s3_source(&server, "src", "none/*.csv");
    let job = |name: &str, table: &str| {
        format!("CREATE JOB {name} ON STREAMING DO INSERT INTO db1.{table} SELECT * FROM {source}")
    };
    root.sql(&format!(
        "CREATE DATABASE db1; CREATE TABLE db1.tbl1 (id INT); CREATE TABLE db1.tbl2 (id INT);
         CREATE USER alice; GRANT LOAD_PRIV ON db1.tbl1 TO alice; {}",
        job("theirs", "tbl2")
    ))
    .await
    .unwrap();

    let mut alice = engine.session_as("alice");
    alice.sql("INSERT INTO db1.tbl1 VALUES (1)").await.unwrap();
    alice.sql(&job("mine", "tbl1")).await.unwrap();
    denied(
        alice.sql(&job("other", "tbl2")).await.unwrap_err(),
        "LOAD_PRIV",
        "db1.tbl2",
    );
    denied(
        alice
            .sql("PAUSE JOB WHERE jobName = 'theirs'")
            .await
            .unwrap_err(),
        "LOAD_PRIV",
        "db1.tbl2",
    );
    // The ledger, the rows left out and the replay controls of a job are
    // as private as the job: they need LOAD_PRIV on its target table.
    for statement in [
        "SELECT * FROM job_files(job = 'theirs')",
        "SELECT * FROM rejected_rows(job = 'theirs')",
        "VALIDATE JOB WHERE jobName = 'theirs'",
        "ALTER JOB theirs RETRY FILE '/tmp/none/a.csv'",
    ] {
        denied(
            alice.sql(statement).await.unwrap_err(),
            "LOAD_PRIV",
            "db1.tbl2",
        );
    }
    // A user sets their own password; another's takes ADMIN_PRIV.
    alice.sql("SET PASSWORD = PASSWORD('mine')").await.unwrap();
    denied(
        alice
            .sql("ALTER USER root IDENTIFIED BY 'x'")
            .await
            .unwrap_err(),
        "ADMIN_PRIV",
        "*.*",
    );
    let ledger = alice
        .sql("SELECT count(*) AS n FROM job_files(job = 'mine')")
        .await
        .unwrap();
    assert_eq!(lines(&ledger)[3], "| 0 |");
    // Loading is not reading.
    denied(
        alice.sql("SELECT * FROM db1.tbl1").await.unwrap_err(),
        "SELECT_PRIV",
        "db1.tbl1",
    );
    let seen = alice
        .sql("SELECT Name FROM job(type=insert) ORDER BY Name")
        .await
        .unwrap();
    assert_eq!(lines(&seen)[3..5], ["| mine |", "+------+"], "{seen:?}");
    let all = root
        .sql("SELECT Name FROM job(type=insert) ORDER BY Name")
        .await
        .unwrap();
    assert_eq!(lines(&all)[3..5], ["| mine   |", "| theirs |"]);

    root.sql("GRANT SELECT_PRIV ON db1.tbl1 TO alice")
        .await
        .unwrap();
    let rows = alice.sql("SELECT count(*) FROM db1.tbl1").await.unwrap();
    assert_eq!(lines(&rows)[3], "| 1        |");
    let grants = root.sql("SHOW GRANTS FOR alice").await.unwrap();
    assert!(
        lines(&grants).contains(&"| 'alice'@'%'  | db1.tbl1 | SELECT_PRIV,LOAD_PRIV |".to_string()),
        "{grants:?}"
    );

    root.sql("REVOKE LOAD_PRIV ON db1.tbl1 FROM alice")
        .await
        .unwrap();
    denied(
        alice
            .sql("INSERT INTO db1.tbl1 VALUES (2)")
            .await
            .unwrap_err(),
        "LOAD_PRIV",
        "db1.tbl1",
    );
    let seen = alice
        .sql("SELECT count(*) AS n FROM job(type=insert)")
        .await
        .unwrap();
    assert_eq!(lines(&seen)[3], "| 0 |");
    let error = root
        .sql("GRANT LOAD_PRIV ON db1.nope TO alice")
        .await
        .unwrap_err();
    assert!(
        error.to_string().starts_with("unknown table 'db1.nope'"),
        "{error}"
    );
}

/// Changing a table's maintenance and indexes takes ADMIN_PRIV on it (as
/// Doris's ALTER_PRIV would): loading and reading are not enough, a
/// refused statement changes nothing, and a grant on the table suffices.
#[tokio::test]
async fn table_maintenance_and_indexes_need_admin_on_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path().to_str().unwrap()).await.unwrap();
    let mut root = engine.session();
    root.sql(
        "CREATE DATABASE db1; CREATE TABLE db1.t (id INT);
         INSERT INTO db1.t VALUES (1); INSERT INTO db1.t VALUES (2);
         CREATE INDEX idx_id ON db1.t (id) USING BTREE;
         CREATE USER alice; GRANT SELECT_PRIV, LOAD_PRIV ON db1.* TO alice",
    )
    .await
    .unwrap();
    let mut alice = engine.session_as("alice");
    for sql in [
        "ADMIN COMPACT TABLE db1.t",
        "ALTER TABLE db1.t SET ('compaction' = 'off')",
        "CREATE INDEX idx_other ON db1.t (id) USING BITMAP",
        "DROP INDEX idx_id ON db1.t",
    ] {
        denied(alice.sql(sql).await.unwrap_err(), "ADMIN_PRIV", "db1.t");
    }
    // Nothing changed: two fragments, one index, no property.
    let indexes = lines(&root.sql("SHOW INDEX FROM db1.t").await.unwrap());
    assert_eq!(indexes.len(), 5, "one index: {indexes:?}");
    assert!(indexes[3].contains("idx_id"), "{indexes:?}");
    let status = lines(&root.sql("SHOW TABLE STATUS FROM db1").await.unwrap());
    let cells = |line: &str| {
        line.split('|')
            .map(str::trim)
            .collect::<Vec<_>>()
            .join("\t")
    };
    let (columns, values) = (cells(&status[1]), cells(&status[3]));
    let fragments = columns.split('\t').position(|c| c == "Fragments").unwrap();
    assert_eq!(values.split('\t').nth(fragments), Some("2"), "{status:?}");
    assert!(engine
        .catalog()
        .table("db1", "t")
        .unwrap()
        .properties
        .is_empty());

    root.sql("GRANT ADMIN_PRIV ON db1.t TO alice")
        .await
        .unwrap();
    alice
        .sql("ALTER TABLE db1.t SET ('compaction' = 'off'); ADMIN COMPACT TABLE db1.t")
        .await
        .unwrap();
    assert_eq!(
        engine.catalog().table("db1", "t").unwrap().properties["compaction"],
        "off"
    );
}

/// DELETE and TRUNCATE change a table's rows: LOAD_PRIV on it, as Doris
/// asks; a refused one deletes nothing.
#[tokio::test]
async fn deleting_rows_needs_load_on_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path().to_str().unwrap()).await.unwrap();
    let mut root = engine.session();
    root.sql(
        "CREATE DATABASE db1; CREATE TABLE db1.t (id INT); INSERT INTO db1.t VALUES (1), (2);
         CREATE USER alice; GRANT SELECT_PRIV ON db1.t TO alice",
    )
    .await
    .unwrap();
    let mut alice = engine.session_as("alice");
    for statement in ["DELETE FROM db1.t WHERE id = 1", "TRUNCATE TABLE db1.t"] {
        denied(
            alice.sql(statement).await.unwrap_err(),
            "LOAD_PRIV",
            "db1.t",
        );
    }
    let count =
        |batches: Vec<datafusion::arrow::record_batch::RecordBatch>| lines(&batches)[3].clone();
    let rows = alice.sql("SELECT count(*) AS n FROM db1.t").await.unwrap();
    assert_eq!(count(rows), "| 2 |");
    root.sql("GRANT LOAD_PRIV ON db1.t TO alice").await.unwrap();
    alice.sql("DELETE FROM db1.t WHERE id = 1").await.unwrap();
    let rows = alice.sql("SELECT count(*) AS n FROM db1.t").await.unwrap();
    assert_eq!(count(rows), "| 1 |");
}

/// A view is read as its query: a user needs SELECT_PRIV on the tables it
/// reads, and a grant on the view alone shows nothing.
#[tokio::test]
async fn reading_a_view_needs_select_on_its_tables() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path().to_str().unwrap()).await.unwrap();
    let mut root = engine.session();
    root.sql(
        "CREATE DATABASE db1; CREATE TABLE db1.t (id INT); INSERT INTO db1.t VALUES (1), (2);
         CREATE VIEW db1.v AS SELECT id FROM db1.t WHERE id > 1;
         CREATE USER alice; GRANT SELECT_PRIV ON db1.v TO alice",
    )
    .await
    .unwrap();
    let mut alice = engine.session_as("alice");
    denied(
        alice.sql("SELECT * FROM db1.v").await.unwrap_err(),
        "SELECT_PRIV",
        "db1.t",
    );
    root.sql("GRANT SELECT_PRIV ON db1.t TO alice")
        .await
        .unwrap();
    let rows = alice.sql("SELECT count(*) AS n FROM db1.v").await.unwrap();
    assert_eq!(lines(&rows)[3], "| 1 |");
}
