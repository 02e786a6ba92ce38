//! Bringing a job's store up to date with the batches it committed before
//! a crash, when its loop starts (the rule is in [`crate::job::offset`]).

use crate::engine::Engine;
use crate::error::Result;
use crate::job::offset::{apply, commits_after};
use crate::job::Job;

/// Applies the job's commits the store missed; returns the job as it is now.
pub async fn recover(engine: &Engine, job: Job) -> Result<Job> {
    let catalog = engine.catalog();
    let Ok(def) = catalog.table(&job.database, &job.table) else {
        // The task that finds the table gone says so.
        return Ok(job);
    };
    let dataset = catalog.open_dataset(&def).await?;
    let commits = commits_after(&job, &dataset).await?;
    if commits.is_empty() {
        return Ok(job);
    }
    tracing::info!(job = %job.name, batches = commits.len(), "recovering batches committed before a crash");
    // The ledger first: once the store knows a commit, it is not recovered
    // again.
    for batch in commits.iter().filter_map(|c| c.batch()) {
        engine.jobs().record_batch(job.id, batch).await?;
    }
    engine
        .jobs()
        .modify(&job.name, |j| {
            for commit in commits.iter().cloned() {
                apply(j, commit);
            }
            Ok(())
        })
        .await
}
