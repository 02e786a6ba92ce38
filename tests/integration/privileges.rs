//! Privileges of a non-root session user (the user comes from the API).

use tributary::{Engine, Error};

use crate::support::lines;

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
    let job = "CREATE JOB j ON STREAMING DO INSERT INTO db1.t SELECT * FROM S3('uri' = 'file:///tmp/none/*.csv', 'format' = 'csv')";

    let mut alice = engine.session_as("alice");
    denied(
        alice.sql("SELECT * FROM db1.t").await.unwrap_err(),
        "SELECT_PRIV",
        "db1.*",
    );
    denied(
        alice.sql("INSERT INTO db1.t VALUES (2)").await.unwrap_err(),
        "LOAD_PRIV",
        "db1.*",
    );
    denied(alice.sql(job).await.unwrap_err(), "LOAD_PRIV", "db1.*");
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
        "db1.*",
    );
    denied(
        alice.sql("INSERT INTO db2.t VALUES (1)").await.unwrap_err(),
        "LOAD_PRIV",
        "db2.*",
    );

    // Another user cannot control alice's job without LOAD_PRIV on db1.
    root.sql("CREATE USER eve").await.unwrap();
    let err = engine
        .session_as("eve")
        .sql("DROP JOB WHERE jobName = 'j'")
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("needs LOAD_PRIV on db1.*"),
        "{err}"
    );
    assert!(engine.jobs().job("j").is_ok());

    root.sql("GRANT SELECT_PRIV ON db1.* TO alice")
        .await
        .unwrap();
    let rows = alice.sql("SELECT count(*) FROM db1.t").await.unwrap();
    assert_eq!(lines(&rows)[3], "| 2        |");
}
