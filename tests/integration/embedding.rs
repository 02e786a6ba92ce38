//! The library API as an embedding program uses it.

use tributary::{Engine, Error, ResultKind};

use crate::support::lines;

#[tokio::test]
async fn runs_statements_and_returns_batches() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path().to_str().unwrap()).await.unwrap();
    let mut session = engine.session();
    let results = session
        .execute(
            "CREATE DATABASE shop; USE shop;
             CREATE TABLE orders (id BIGINT NOT NULL, item STRING, price DECIMAL(10,2));
             INSERT INTO orders VALUES (1, 'tea', 3.50), (2, 'cake', 4.25);
             SELECT item, price FROM orders ORDER BY id",
        )
        .await
        .unwrap();
    assert_eq!(results.len(), 5);
    assert_eq!(results[3].kind, ResultKind::Affected(2));
    assert_eq!(results[4].kind, ResultKind::Rows);
    assert_eq!(
        lines(&results[4].batches),
        vec![
            "+------+-------+",
            "| item | price |",
            "+------+-------+",
            "| tea  | 3.50  |",
            "| cake | 4.25  |",
            "+------+-------+",
        ]
    );
    assert_eq!(session.database(), Some("shop"));
    assert_eq!(session.user(), "root");
}

#[tokio::test]
async fn sessions_are_independent_and_share_the_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path().to_str().unwrap()).await.unwrap();
    let mut a = engine.session();
    let mut b = engine.session_as("alice");
    a.sql("CREATE DATABASE d1; USE d1; CREATE TABLE t (x INT); CREATE USER alice; GRANT LOAD_PRIV ON d1.* TO alice")
        .await
        .unwrap();
    assert_eq!(b.database(), None);
    assert_eq!(b.user(), "alice");
    // b sees a's table once qualified, but has no current database.
    b.sql("INSERT INTO d1.t VALUES (7)").await.unwrap();
    let err = b.sql("SELECT * FROM t").await.unwrap_err();
    assert!(matches!(err, Error::NoDatabaseSelected), "{err}");
    let rows = a.sql("SELECT x FROM t").await.unwrap();
    assert_eq!(lines(&rows)[3], "| 7 |");
}

#[tokio::test]
async fn a_failed_statement_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path().to_str().unwrap()).await.unwrap();
    let mut session = engine.session();
    session
        .sql("CREATE DATABASE d; USE d; CREATE TABLE t (id INT NOT NULL, s STRING); INSERT INTO t VALUES (1, 'a')")
        .await
        .unwrap();
    // The second row violates NOT NULL: the whole statement fails, no row lands.
    let err = session
        .sql("INSERT INTO t VALUES (2, 'b'), (NULL, 'c')")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("id"), "{err}");
    let rows = session.sql("SELECT count(*) AS n FROM t").await.unwrap();
    assert_eq!(lines(&rows)[3], "| 1 |");
}

#[tokio::test]
async fn query_streams_rows_batch_by_batch() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let rows: String = (0..20_000).map(|i| format!("{i},item {i}\n")).collect();
    std::fs::write(data.join("a.csv"), &rows).unwrap();
    std::fs::write(data.join("b.csv"), &rows).unwrap();
    let engine = Engine::open(dir.path().join("wh").to_str().unwrap())
        .await
        .unwrap();
    let mut session = engine.session();
    let mut stream = session
        .query(&format!(
            "SELECT c1, c2 FROM S3('uri' = '{}/*.csv', 'format' = 'csv', 'column_separator' = ',')",
            data.display()
        ))
        .await
        .unwrap();
    let (mut batches, mut total) = (0, 0);
    while let Some(batch) = futures::StreamExt::next(&mut stream).await {
        let batch = batch.unwrap();
        assert_eq!(batch.num_columns(), 2);
        total += batch.num_rows();
        batches += 1;
    }
    assert_eq!(total, 40_000);
    assert!(batches > 2, "{batches} batches: the rows were not streamed");

    let refused = session
        .query("CREATE DATABASE shop")
        .await
        .err()
        .expect("only queries stream")
        .to_string();
    assert!(refused.contains("Session::sql"), "{refused}");
    let databases = lines(&session.sql("SHOW DATABASES").await.unwrap()).join("\n");
    assert!(!databases.contains("shop"), "{databases}");
}
