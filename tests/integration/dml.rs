//! DELETE racing a job's appends: every appended row stays unless a
//! DELETE matched it, no deleted row comes back, and the job's records
//! agree with its files.

use std::time::Duration;

use crate::support::{one_file_a_commit_job, query, wait_for_job};

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
    let job = query(
        &engine,
        "SELECT SucceedTaskCount AS ok, FailedTaskCount AS failed FROM job(type=insert)",
    )
    .await;
    assert!(job.contains(&format!("| {FILES} | 0      |")), "{job}");
    let ledger = query(
        &engine,
        "SELECT count(*) AS files FROM job_files(job = 'feed') WHERE Status = 'LOADED'",
    )
    .await;
    assert!(ledger.contains(&format!("| {FILES}    |")), "{ledger}");
}
