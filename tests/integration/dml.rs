//! DML racing a job's appends, in this process and from others: every
//! appended row stays unless a DELETE matched it (or a TRUNCATE or an
//! OVERWRITE replaced it), no deleted row comes back, updated rows have
//! their new values, and the job keeps its offset and its records agree
//! with its files.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support::{assert_ok, one_file_a_commit_job, query, tributary, wait_for_job};

const FILES: usize = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_racing_a_job_lose_no_row_and_bring_none_back() {
    let dir = tempfile::tempdir().unwrap();
    let engine = one_file_a_commit_job(dir.path(), FILES).await;
    // Delete the even ids loaded so far, over and over, while the job
    // commits one file at a time.
    let deleter = {
        let engine = engine.clone();
        tokio::spawn(async move {
            let mut rounds = 0;
            while (engine.jobs().job("feed").unwrap().succeed_task_count as usize) < FILES {
                engine
                    .session()
                    .sql("DELETE FROM db1.t WHERE id % 2 = 0")
                    .await
                    .unwrap();
                rounds += 1;
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
            rounds
        })
    };
    wait_for_job(&engine, "feed", "every file loaded", |j| {
        j.succeed_task_count as usize >= FILES
    })
    .await;
    let rounds = deleter.await.unwrap();
    assert!(rounds >= 2, "deletes ran between the commits: {rounds}");
    query(&engine, "DELETE FROM db1.t WHERE id % 2 = 0").await;
    let odd: usize = (1..=FILES).filter(|i| i % 2 == 1).sum();
    let rows = query(
        &engine,
        "SELECT count(*) AS n, count(DISTINCT id) AS d, sum(id) AS s, max(id % 2) AS m, min(id % 2) AS e FROM db1.t",
    )
    .await;
    let half = FILES / 2;
    assert!(
        rows.contains(&format!("| {half} | {half} | {odd} | 1 | 1 |")),
        "every odd row once, no even one:\n{rows}"
    );
    assert_job_loaded_every_file(&engine, FILES).await;
}

/// Runs `statements` in turn, each in a `tributary` process of its own on
/// the warehouse of `dir`, until the in-process job `feed` of `engine`
/// has committed `files` tasks; how many ran.
async fn run_in_processes_while_the_job_loads(
    engine: &tributary::Engine,
    dir: &std::path::Path,
    files: usize,
    statements: &'static [&'static str],
) -> usize {
    let done = Arc::new(AtomicBool::new(false));
    let runner = {
        let done = done.clone();
        let dir = dir.to_path_buf();
        std::thread::spawn(move || {
            let mut ran = 0;
            for statement in statements.iter().cycle() {
                if done.load(Ordering::SeqCst) {
                    break;
                }
                assert_ok(&tributary(&dir, statement, None));
                ran += 1;
            }
            ran
        })
    };
    wait_for_job(engine, "feed", "every file loaded", |j| {
        j.succeed_task_count as usize >= files
    })
    .await;
    done.store(true, Ordering::SeqCst);
    runner.join().unwrap()
}

/// UPDATEs from other processes racing the job's one-file commits: every
/// row the job appends is there once, every row matched has the new value
/// and no other row has it, and the job's records agree with its files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_from_other_processes_racing_a_job_lose_no_row() {
    let dir = tempfile::tempdir().unwrap();
    let engine = one_file_a_commit_job(dir.path(), FILES).await;
    let ran = run_in_processes_while_the_job_loads(
        &engine,
        dir.path(),
        FILES,
        &["UPDATE db1.t SET v = 'even' WHERE id % 2 = 0"],
    )
    .await;
    assert!(ran >= 2, "updates ran between the commits: {ran}");
    query(&engine, "UPDATE db1.t SET v = 'even' WHERE id % 2 = 0").await;
    let rows = query(
        &engine,
        "SELECT count(*) AS n, count(DISTINCT id) AS d, sum(CASE WHEN v = 'even' THEN 1 ELSE 0 END) AS e, sum(CASE WHEN v = concat('v', CAST(id AS STRING)) THEN 1 ELSE 0 END) AS o FROM db1.t",
    )
    .await;
    let half = FILES / 2;
    assert!(
        rows.contains(&format!("| {FILES} | {FILES} | {half} | {half} |")),
        "every row once, the even ones updated, the odd ones as loaded:\n{rows}"
    );
    assert_job_loaded_every_file(&engine, FILES).await;
}

/// TRUNCATE and INSERT OVERWRITE from other processes committing between
/// the job's tasks: the job goes on from its offset (no task fails, no
/// file is loaded twice), and after a restart it loads only the files that
/// came after, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_keeps_its_offset_across_truncates_and_overwrites_from_other_processes() {
    let dir = tempfile::tempdir().unwrap();
    let engine = one_file_a_commit_job(dir.path(), FILES).await;
    let ran = run_in_processes_while_the_job_loads(
        &engine,
        dir.path(),
        FILES,
        &[
            "TRUNCATE TABLE db1.t",
            "INSERT OVERWRITE TABLE db1.t SELECT * FROM db1.t WHERE id % 3 = 0",
        ],
    )
    .await;
    assert!(
        ran >= 2,
        "truncates and overwrites ran between the commits: {ran}"
    );
    assert_job_loaded_every_file(&engine, FILES).await;
    query(&engine, "TRUNCATE TABLE db1.t").await;
    engine.shutdown(Duration::from_secs(30)).await;
    drop(engine);
    // New files, for a new process: its recovery reads the offset past
    // the commits that are not the job's.
    let source = dir.path().join("src");
    for i in FILES + 1..=FILES + 5 {
        std::fs::write(source.join(format!("f{i:04}.csv")), format!("{i},v{i}\n")).unwrap();
    }
    let engine = tributary::Engine::open(dir.path().join("wh").to_str().unwrap())
        .await
        .unwrap();
    wait_for_job(&engine, "feed", "the new files loaded", |j| {
        j.succeed_task_count as usize >= FILES + 5
    })
    .await;
    let rows = query(
        &engine,
        "SELECT count(*) AS n, min(id) AS lo, max(id) AS hi FROM db1.t",
    )
    .await;
    assert!(
        rows.contains(&format!("| 5 | {} | {} |", FILES + 1, FILES + 5)),
        "only the new files, once:\n{rows}"
    );
    assert_job_loaded_every_file(&engine, FILES + 5).await;
}

/// The job's counters and ledger: `files` tasks succeeded, none failed,
/// each file loaded once.
async fn assert_job_loaded_every_file(engine: &tributary::Engine, files: usize) {
    let job = query(
        engine,
        "SELECT SucceedTaskCount AS ok, FailedTaskCount AS failed FROM job(type=insert)",
    )
    .await;
    assert!(job.contains(&format!("| {files} | 0      |")), "{job}");
    let ledger = query(
        engine,
        "SELECT count(*) AS files, count(DISTINCT FileName) AS distinct_files FROM job_files(job = 'feed') WHERE Status = 'LOADED'",
    )
    .await;
    assert!(
        ledger.contains(&format!("| {files}    | {files}             |")),
        "{ledger}"
    );
}
