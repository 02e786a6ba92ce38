//! A streaming job over a real S3-compatible server that goes away, or a
//! network that cuts its responses short: the job
//! keeps running and its offset, says why in JobRuntimeMsg, and goes on
//! when the server is back, loading nothing twice.

use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use tributary::job::{Job, JobStatus};
use tributary::Engine;

use crate::cutting_proxy::CuttingProxy;
use crate::s3_server::{S3Server, ACCESS_KEY, REGION, SECRET_KEY};
use crate::support::{lines, wait_for_job};

const BUCKET: &str = "feed";

async fn put(store: &dyn ObjectStore, name: &str, ids: &[i32]) {
    let body: String = ids.iter().map(|id| format!("{id},x\n")).collect();
    store
        .put(
            &Path::from(format!("orders/{name}")),
            PutPayload::from(body),
        )
        .await
        .unwrap();
}

/// Waits until `done` holds for the job.
async fn wait_until(engine: &Engine, what: &str, done: impl Fn(&Job) -> bool) -> Job {
    wait_for_job(engine, "feed", what, done).await
}

async fn count(engine: &Engine) -> String {
    let rows = engine
        .session()
        .sql("SELECT count(*) AS n, count(DISTINCT id) AS d FROM db1.t")
        .await
        .unwrap();
    lines(&rows)[3].clone()
}

/// An engine on a new warehouse with job `feed` loading `orders/*.csv` of
/// the bucket at `endpoint` into `db1.t` every second.
async fn engine_with_feed(endpoint: &str) -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path().to_str().unwrap()).await.unwrap();
    engine
        .session()
        .sql(&format!(
            "CREATE DATABASE db1; CREATE TABLE db1.t (id INT, v STRING);
             CREATE JOB feed ON STREAMING PROPERTIES ('max_interval' = '1s')
             DO INSERT INTO db1.t SELECT * FROM S3(
               'uri' = 's3://{BUCKET}/orders/*.csv', 'format' = 'csv', 'column_separator' = ',',
               's3.endpoint' = '{endpoint}', 's3.region' = '{REGION}',
               's3.access_key' = '{ACCESS_KEY}', 's3.secret_key' = '{SECRET_KEY}')"
        ))
        .await
        .unwrap();
    (dir, engine)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_source_is_retried_and_the_job_goes_on() {
    let mut server = S3Server::start();
    server.create_bucket(BUCKET);
    let store = server.store(BUCKET);
    put(store.as_ref(), "0001.csv", &[1, 2]).await;
    put(store.as_ref(), "0002.csv", &[3]).await;

    let (_dir, engine) = engine_with_feed(&server.endpoint).await;
    let loaded = |job: &Job| {
        job.current_offset
            .as_deref()
            .is_some_and(|o| o.ends_with("0002.csv"))
    };
    wait_until(&engine, "the first two files", loaded).await;
    assert_eq!(count(&engine).await, "| 3 | 3 |");

    // The server goes away: tasks fail, the job keeps running and its
    // offset, and says why.
    server.stop();
    let job = wait_until(&engine, "a retry message", |j| j.runtime_msg.is_some()).await;
    assert_eq!(job.status, JobStatus::Running);
    assert!(loaded(&job), "the offset is kept: {job:?}");
    let message = job.runtime_msg.clone().unwrap();
    assert!(message.contains("source unavailable"), "{message}");
    assert!(!message.contains(SECRET_KEY) && !message.contains(ACCESS_KEY));
    let shown = engine
        .session()
        .sql("SELECT Status, JobRuntimeMsg LIKE '%source unavailable%' AS retrying FROM job(type=insert)")
        .await
        .unwrap();
    assert!(
        lines(&shown)[3].contains("RUNNING") && lines(&shown)[3].contains("true"),
        "{shown:?}"
    );

    // Back (empty, as moto keeps nothing): the old files and a new one.
    // The server comes back right after the job's fourth failed attempt,
    // 8 s before its next, so that the job does not look between the
    // restart and the bucket's creation (a bucket that does not exist
    // pauses a job: that is the answer of a server that is up).
    wait_until(&engine, "the fourth failed attempt", |j| {
        j.runtime_msg
            .as_deref()
            .is_some_and(|m| m.contains("(4 failed attempt(s) in a row"))
    })
    .await;
    server.restart();
    server.create_bucket(BUCKET);
    let store = server.store(BUCKET);
    put(store.as_ref(), "0001.csv", &[1, 2]).await;
    put(store.as_ref(), "0002.csv", &[3]).await;
    put(store.as_ref(), "0003.csv", &[4, 5]).await;
    let job = wait_until(&engine, "the new file after the outage", |j| {
        j.current_offset
            .as_deref()
            .is_some_and(|o| o.ends_with("0003.csv"))
    })
    .await;
    assert_eq!(count(&engine).await, "| 5 | 5 |", "nothing loaded twice");
    assert_eq!(job.status, JobStatus::Running);
    assert!(job.runtime_msg.is_none(), "cleared once loading: {job:?}");
}

/// A connection cut while a task reads a file, or while it lists, is a
/// transient fault: the job stays RUNNING, retries with backoff, says why
/// in one sentence (no wrappers, no toolchain paths), and once the network
/// is back loads every row exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_cut_while_reading_or_listing_is_retried() {
    let server = S3Server::start();
    server.create_bucket(BUCKET);
    let store = server.store(BUCKET);
    put(store.as_ref(), "0001.csv", &[1, 2]).await;
    let big: Vec<i32> = (3..50_003).collect();
    put(store.as_ref(), "0002.csv", &big).await;
    let proxy = CuttingProxy::start(&server.endpoint);
    // Listings (a few KiB) pass; the 400 KiB file is cut at every try.
    proxy.cut_bodies_after(64 * 1024);

    let (_dir, engine) = engine_with_feed(&proxy.endpoint).await;

    let job = wait_until(&engine, "a retry after a cut read", |j| {
        j.runtime_msg
            .as_deref()
            .is_some_and(|m| m.contains("0002.csv"))
    })
    .await;
    assert_eq!(job.status, JobStatus::Running, "{job:?}");
    assert_eq!(job.current_offset, None, "nothing committed: {job:?}");
    let message = job.runtime_msg.clone().unwrap();
    assert_clear(&message);
    assert!(
        message.contains("cannot read 's3://feed/orders/0002.csv': the connection was lost")
            || message
                .contains("cannot read 's3://feed/orders/0002.csv': the request did not complete"),
        "{message}"
    );
    assert_eq!(count(&engine).await, "| 0 | 0 |");

    // Now every response is cut, the listing's too.
    proxy.cut_bodies_after(16);
    let job = wait_until(&engine, "a retry after a cut listing", |j| {
        j.runtime_msg
            .as_deref()
            .is_some_and(|m| m.contains("cannot read 's3://feed/orders/*.csv'"))
    })
    .await;
    assert_eq!(job.status, JobStatus::Running, "{job:?}");
    assert_clear(job.runtime_msg.as_deref().unwrap());

    // The network is back: everything loads, once.
    proxy.pass();
    let job = wait_until(&engine, "the files after the cuts", |j| {
        j.current_offset
            .as_deref()
            .is_some_and(|o| o.ends_with("0002.csv"))
    })
    .await;
    assert_eq!(count(&engine).await, "| 50002 | 50002 |");
    assert_eq!(job.status, JobStatus::Running);
    assert!(job.runtime_msg.is_none(), "cleared once loading: {job:?}");
}

/// One sentence: no DataFusion or Lance wrappers, no source paths, no
/// credentials.
fn assert_clear(message: &str) {
    for noise in [
        "External error",
        "Execution error",
        "/rustc/",
        ".rs:",
        SECRET_KEY,
        ACCESS_KEY,
    ] {
        assert!(!message.contains(noise), "'{noise}' in: {message}");
    }
}
