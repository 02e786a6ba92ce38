//! Listing after a job's offset on a real S3-compatible server: only keys
//! that sort after the offset and match the pattern, in order, and no
//! more pages than a batch needs.

use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};
use tributary::ingest::cut_batch;
use tributary::read::listing::list_files;
use tributary::read::{Location, S3Options};
use tributary::Engine;

use crate::s3_server::{S3Server, ACCESS_KEY, REGION, SECRET_KEY};

#[tokio::test]
async fn lists_after_the_offset_and_cuts_batches() {
    let server = S3Server::start();
    server.create_bucket("feed");
    let store = server.store("feed");
    for key in [
        "orders/0001.csv",
        "orders/0002.csv",
        "orders/0003.csv",
        "orders/0003.txt",
        "orders/0004.csv",
        "orders/0005.csv",
        "orders/sub/0006.csv",
        "other/0007.csv",
    ] {
        store
            .put(&Path::from(key), PutPayload::from(vec![b'x'; 10]))
            .await
            .unwrap();
    }
    let pairs: Vec<(String, String)> = [
        ("uri", "s3://feed/orders/*.csv"),
        ("format", "csv"),
        ("s3.endpoint", server.endpoint.as_str()),
        ("s3.region", REGION),
        ("s3.access_key", ACCESS_KEY),
        ("s3.secret_key", SECRET_KEY),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let options = S3Options::parse(&pairs).unwrap();
    let location = Location::parse(
        &options.uri,
        &options.connection,
        &tributary::read::SourceAccess::anywhere(),
    )
    .unwrap();
    let keys = |files: &[object_store::ObjectMeta]| {
        files
            .iter()
            .map(|f| f.location.to_string())
            .collect::<Vec<_>>()
    };

    let all = list_files(&location, None).await.unwrap();
    assert_eq!(
        keys(&all),
        [
            "orders/0001.csv",
            "orders/0002.csv",
            "orders/0003.csv",
            "orders/0004.csv",
            "orders/0005.csv"
        ]
    );
    let after = list_files(&location, Some(&Path::from("orders/0002.csv")))
        .await
        .unwrap();
    assert_eq!(
        keys(&after),
        ["orders/0003.csv", "orders/0004.csv", "orders/0005.csv"]
    );
    // The offset names the last file of the batch, which matched the pattern.
    let batch = cut_batch(after, 2, u64::MAX).unwrap();
    assert_eq!(
        (batch.end_offset(), batch.full, batch.bytes),
        ("orders/0004.csv", true, 20)
    );
    let rest = list_files(&location, Some(&Path::from(batch.end_offset())))
        .await
        .unwrap();
    assert_eq!(keys(&rest), ["orders/0005.csv"]);
    let none = list_files(&location, Some(&Path::from("orders/0005.csv")))
        .await
        .unwrap();
    assert!(none.is_empty());
}

/// A backlog of 2,000 files in batches of 50: each task lists about one
/// page (S3 pages hold 1,000 keys) instead of everything after the offset,
/// and CREATE JOB lists no further than its first page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_is_listed_a_page_per_task() {
    const FILES: usize = 2_000;
    const BATCH: usize = 50;
    let dir = tempfile::tempdir().unwrap();
    let server = S3Server::start_logging_to(Some(dir.path().join("requests.log")));
    server.create_bucket("feed");
    let store = server.store("feed");
    futures::stream::iter(0..FILES)
        .map(|i| {
            let store = store.clone();
            async move {
                store
                    .put(
                        &Path::from(format!("orders/{i:05}.csv")),
                        PutPayload::from(format!("{i},x\n")),
                    )
                    .await
            }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    std::env::set_var("TRIBUTARY_SECRET_KEY_FILE", dir.path().join("secret.key"));
    let engine = Engine::open(dir.path().join("wh").to_str().unwrap())
        .await
        .unwrap();
    let before = server.list_requests();
    let reads_before = server.object_reads("feed");
    engine
        .session()
        .sql(&format!(
            "CREATE DATABASE db1; CREATE TABLE db1.t (id INT, v STRING);
             CREATE JOB backlog ON STREAMING PROPERTIES ('s3.max_batch_files' = '{BATCH}', 'max_interval' = '3600s')
             DO INSERT INTO db1.t SELECT * FROM S3('uri' = 's3://feed/orders/*.csv', 'format' = 'csv', 'column_separator' = ',',
               's3.endpoint' = '{}', 's3.region' = '{REGION}', 's3.access_key' = '{ACCESS_KEY}', 's3.secret_key' = '{SECRET_KEY}');
             WAIT JOB WHERE jobName = 'backlog' TIMEOUT 120",
            server.endpoint
        ))
        .await
        .unwrap();
    let lists = server.list_requests() - before;
    let reads = server.object_reads("feed") - reads_before;
    let job = engine.jobs().job("backlog").unwrap();
    let tasks = job.succeed_task_count as usize;
    assert_eq!(tasks, FILES / BATCH);
    assert_eq!(job.load_statistic.file_number as usize, FILES);
    // CREATE JOB's page, one page per task, the pages a task crossing a
    // page boundary needs, and the poll that finds nothing new. Listing
    // everything after the offset every time took 63 here.
    assert!(
        lists <= FILES / 1000 + tasks + 2,
        "{lists} LIST requests for {FILES} files in {tasks} tasks"
    );
    // Each file read once, whether by its task or read ahead while the
    // task before committed (and a task's first file again, for its
    // columns); never read ahead and then again.
    assert!(
        reads <= FILES + tasks + 1,
        "{reads} GET requests for {FILES} files in {tasks} tasks"
    );
    let rows = engine
        .session()
        .sql("SELECT count(*), count(DISTINCT c) FROM (SELECT id AS c FROM db1.t)")
        .await
        .unwrap();
    assert_eq!(
        crate::support::lines(&rows)[3]
            .split_whitespace()
            .collect::<String>(),
        format!("|{FILES}|{FILES}|")
    );

    // A late file (below the offset, among the job's last 500 names) is
    // noticed by the next poll, which still lists one page; one below the
    // look-back window is not looked for.
    for key in ["orders/01750a.csv", "orders/00010a.csv"] {
        store
            .put(&Path::from(key), PutPayload::from("1,late\n"))
            .await
            .unwrap();
    }
    // The server logs a request when it is done: let the last ones land.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let before = server.list_requests();
    let ledger = engine
        .session()
        .sql(
            "WAIT JOB WHERE jobName = 'backlog' TIMEOUT 60;
             SELECT FileName, Status FROM job_files(job = 'backlog') WHERE Status <> 'LOADED'",
        )
        .await
        .unwrap();
    assert_eq!(
        server.list_requests() - before,
        1,
        "one LIST for the idle poll with its look-back"
    );
    assert_eq!(
        crate::support::lines(&ledger)[3]
            .split_whitespace()
            .collect::<String>(),
        "|orders/01750a.csv|SKIPPED_LATE|"
    );
    assert_eq!(crate::support::lines(&ledger).len(), 5, "{ledger:?}");
}
