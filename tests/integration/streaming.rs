//! A streaming job over local files: batches, offsets, pause/resume,
//! restart, and the lexicographic rule.

use std::path::Path;
use std::time::{Duration, Instant};

use tributary::job::Job;
use tributary::Engine;

use crate::support::{lines, wait_for_job};

fn put(dir: &Path, name: &str, rows: &[(i32, &str)]) {
    let body: String = rows.iter().map(|(id, v)| format!("{id},{v}\n")).collect();
    std::fs::write(dir.join(name), body).unwrap();
}

/// Waits until the job's offset names `file`.
async fn wait_for_offset(engine: &Engine, job: &str, file: &str) -> Job {
    wait_for_job(engine, job, &format!("offset {file}"), |j| {
        j.current_offset
            .as_deref()
            .is_some_and(|o| o.ends_with(file))
    })
    .await
}

async fn count(engine: &Engine) -> String {
    let rows = engine
        .session()
        .sql("SELECT count(*) AS n FROM db1.t")
        .await
        .unwrap();
    lines(&rows)[3].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loads_batches_pauses_resumes_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("src");
    std::fs::create_dir(&source).unwrap();
    for i in 1..=5 {
        put(
            &source,
            &format!("f{i:04}.csv"),
            &[(i * 10, "a"), (i * 10 + 1, "b")],
        );
    }
    put(&source, "f0009.txt", &[(999, "not matching")]);
    let warehouse = dir.path().join("wh");
    let warehouse = warehouse.to_str().unwrap();
    let engine = Engine::open(warehouse).await.unwrap();
    engine
        .session()
        .sql(&format!(
            "CREATE DATABASE db1; CREATE TABLE db1.t (id INT, v STRING);
             CREATE JOB feed ON STREAMING PROPERTIES ('s3.max_batch_files' = '2', 'max_interval' = '1s')
             DO INSERT INTO db1.t SELECT * FROM S3('uri' = 'file://{}/f*.csv', 'format' = 'csv', 'column_separator' = ',')",
            source.display()
        ))
        .await
        .unwrap();

    // Five files in batches of two: three tasks.
    let job = wait_for_offset(&engine, "feed", "f0005.csv").await;
    assert_eq!(count(&engine).await, "| 10 |");
    assert_eq!(job.succeed_task_count, 3);
    assert_eq!(job.load_statistic.file_number, 5);
    assert_eq!(job.load_statistic.scanned_rows, 10);
    let tasks = engine
        .session()
        .sql("SELECT Label, Status, RunningOffset LIKE '%\"startFileName\":\"%f0003.csv\",\"endFileName\":\"%f0004.csv\"}' AS second FROM tasks(type='insert') WHERE JobId = '1' ORDER BY TaskId")
        .await
        .unwrap();
    let tasks = lines(&tasks);
    assert!(
        tasks[3].contains("1_1") && tasks[3].contains("SUCCESS"),
        "{tasks:?}"
    );
    assert!(
        tasks[4].contains("1_2") && tasks[4].contains("true"),
        "{tasks:?}"
    );

    // Paused: nothing new is loaded.
    engine
        .session()
        .sql("PAUSE JOB WHERE jobName = 'feed'")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    put(&source, "f0006.csv", &[(60, "c")]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(count(&engine).await, "| 10 |");

    // Resumed: it catches up; a file named below the offset is never loaded.
    put(&source, "f0000.csv", &[(0, "late")]);
    engine
        .session()
        .sql("RESUME JOB WHERE jobName = 'feed'")
        .await
        .unwrap();
    wait_for_offset(&engine, "feed", "f0006.csv").await;
    assert_eq!(count(&engine).await, "| 11 |");

    // A new engine on the same warehouse picks the running job up by itself.
    drop(engine);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    put(&source, "f0007.csv", &[(70, "d"), (71, "e")]);
    let engine = Engine::open(warehouse).await.unwrap();
    wait_for_offset(&engine, "feed", "f0007.csv").await;
    assert_eq!(count(&engine).await, "| 13 |");
    let rows = engine
        .session()
        .sql("SELECT Status, CurrentOffset LIKE '%f0007.csv%' FROM job(type=insert)")
        .await
        .unwrap();
    assert!(lines(&rows)[3].contains("RUNNING"), "{:?}", lines(&rows));
    let ids = engine
        .session()
        .sql("SELECT count(DISTINCT id) AS n FROM db1.t")
        .await
        .unwrap();
    assert_eq!(lines(&ids)[3], "| 13 |", "no file loaded twice");

    // ALTER JOB moves the offset back, past what the table's commits say:
    // f0006 and f0007 load again, as the user asked.
    let mut s = engine.session();
    s.sql("PAUSE JOB WHERE jobName = 'feed'").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let offset = job.current_offset.unwrap();
    s.sql(&format!(
        "ALTER JOB feed PROPERTIES ('offset' = '{{\"fileName\":\"{offset}\"}}')"
    ))
    .await
    .unwrap();
    assert!(engine
        .jobs()
        .job("feed")
        .unwrap()
        .current_offset
        .unwrap()
        .ends_with("f0005.csv"));
    s.sql("RESUME JOB WHERE jobName = 'feed'").await.unwrap();
    wait_for_offset(&engine, "feed", "f0007.csv").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(count(&engine).await, "| 16 |");
}

/// Waits until the job's task shows RUNNING in `tasks()`, or fails.
async fn wait_for_running_task(engine: &Engine) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = engine
            .session()
            .sql("SELECT count(*) AS n FROM tasks(type='insert') WHERE Status = 'RUNNING'")
            .await
            .unwrap();
        if lines(&rows)[3] == "| 1 |" {
            return;
        }
        assert!(Instant::now() < deadline, "no task started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_and_drop_cancel_a_running_task_before_its_commit() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("src");
    std::fs::create_dir(&source).unwrap();
    // A file large enough that its task is still reading when PAUSE comes.
    let big: String = (0..1_500_000).map(|i| format!("{i},row-{i}\n")).collect();
    std::fs::write(source.join("big.csv"), big).unwrap();
    let engine = Engine::open(dir.path().join("wh").to_str().unwrap())
        .await
        .unwrap();
    let mut s = engine.session();
    s.sql(&format!(
        "CREATE DATABASE db1; CREATE TABLE db1.t (id INT, v STRING);
         CREATE JOB feed ON STREAMING PROPERTIES ('max_interval' = '1s')
         DO INSERT INTO db1.t SELECT * FROM S3('uri' = 'file://{}/*.csv', 'format' = 'csv', 'column_separator' = ',')",
        source.display()
    ))
    .await
    .unwrap();

    wait_for_running_task(&engine).await;
    s.sql("PAUSE JOB WHERE jobName = 'feed'").await.unwrap();
    let job = wait_for_job(&engine, "feed", "a cancelled task", |j| {
        j.canceled_task_count == 1
    })
    .await;
    assert_eq!(count(&engine).await, "| 0 |", "nothing of it is visible");
    assert_eq!(job.current_offset, None, "{job:?}");
    let tasks = engine
        .session()
        .sql("SELECT Label, Status FROM tasks(type='insert') ORDER BY TaskId")
        .await
        .unwrap();
    assert_eq!(lines(&tasks)[3], "| 1_1   | CANCELED |");

    // Resumed, the file loads whole; DROP during the next task cancels it too.
    s.sql("RESUME JOB WHERE jobName = 'feed'").await.unwrap();
    wait_for_offset(&engine, "feed", "big.csv").await;
    assert_eq!(count(&engine).await, "| 1500000 |");
    std::fs::write(source.join("big2.csv"), "1,x\n".repeat(1_500_000)).unwrap();
    wait_for_running_task(&engine).await;
    s.sql("DROP JOB WHERE jobName = 'feed'").await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        count(&engine).await,
        "| 1500000 |",
        "the dropped job's task left nothing"
    );
}
